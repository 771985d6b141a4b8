#include "kill_point.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

namespace isokin::acquisition {

void kill_here_if_asked(std::string_view point) {
  // Read each time, not cached: a test sets it in a child it forked from a process that may
  // have reached these points before.
  const char* request = std::getenv("ISOKIN_TEST_KILL_AT");
  if (request == nullptr) return;
  const std::string_view text(request);
  const std::string_view name = text.substr(0, text.find(':'));
  if (name != point) return;
  long at = 1;
  if (name.size() < text.size()) at = std::strtol(request + name.size() + 1, nullptr, 10);
  static std::atomic<long> reached{0};
  if (++reached == at) std::raise(SIGKILL);
}

}  // namespace isokin::acquisition
