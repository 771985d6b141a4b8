#pragma once
// A test hook: makes the session writer die by SIGKILL at a named point, so tests can reach
// each moment the file is open outside SWMR mode deterministically (docs/file-format.md
// "Killed during an ordinary step"). Off unless the environment asks for it.
#include <string_view>

namespace isokin::acquisition {

// With ISOKIN_TEST_KILL_AT=POINT or POINT:N in the environment, the process kills itself with
// SIGKILL the Nth time (default: the first) it reaches POINT. Points: "create", "begin-set",
// "end-set", "events", "finish" (see SessionWriter::Impl).
void kill_here_if_asked(std::string_view point);

}  // namespace isokin::acquisition
