// Reading session files from elsewhere in a child process first, so that a file on which
// libhdf5 loops or crashes costs an error message, not the process (docs/security.md).
#include "isokin/acquisition/session_file.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

namespace isokin::acquisition {

namespace fs = std::filesystem;
using Kind = SessionFileError::Kind;

namespace {

// libhdf5 serialises its calls with one process-wide lock. A child forked while another thread
// holds it would wait for it forever; so no thread reads in this process while one forks. (The
// children read in parallel; in this process the lock serialised the reads anyway.)
std::mutex& hdf5_fork_gate() {
  static std::mutex gate;
  return gate;
}

}  // namespace

// Generous: a healthy file reads at tens of MiB per second, even from a network share. Counted
// in the bytes the file stores (st_blocks), not its apparent size: a sparse file of 10 GB that
// stores a few kilobytes has nothing to read in its holes, and at 1 s per 8 MiB of apparent
// size it made every command wait 22 minutes for a child looping on it. Capped, so that no
// file, however large, keeps a command for more than 5 minutes.
std::chrono::seconds untrusted_read_time_limit(const fs::path& path) {
  constexpr std::int64_t kBaseSeconds = 20;
  constexpr std::int64_t kMaxSeconds = 300;
  struct stat status {};
  const std::uintmax_t stored =
      ::stat(path.c_str(), &status) == 0 ? static_cast<std::uintmax_t>(status.st_blocks) * 512 : 0;
  const auto per_8_mib =
      static_cast<std::int64_t>(std::min<std::uintmax_t>(stored >> 23, kMaxSeconds));
  return std::chrono::seconds(std::min(kBaseSeconds + per_8_mib, kMaxSeconds));
}

namespace {

std::chrono::seconds default_time_limit(const fs::path& path) {
  return untrusted_read_time_limit(path);
}

std::mutex& probe_mutex() {
  static std::mutex m;
  return m;
}
std::vector<std::string>& probe_program() {
  static std::vector<std::string> argv;
  return argv;
}

constexpr std::string_view kVerdict =
    "the file is damaged or was made to attack the reader; not read";

// Returns when the trial process finished (exit status 0); otherwise throws SessionFileError
// saying whether it ran out of time, crashed or failed.
void judge_trial(const fs::path& path, int status, bool timed_out,
                 std::chrono::seconds time_limit) {
  if (timed_out) {
    throw SessionFileError(
        Kind::kDamaged, path,
        fmt::format("reading it did not finish within {} s (libhdf5 loops on it): {}",
                    time_limit.count(), kVerdict));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFSIGNALED(status)) {
    throw SessionFileError(Kind::kDamaged, path,
                           fmt::format("libhdf5 crashed reading it (signal {}, {}): {}",
                                       WTERMSIG(status), ::strsignal(WTERMSIG(status)), kVerdict));
  }
  throw SessionFileError(Kind::kDamaged, path,
                         fmt::format("the process reading it failed (exit status {}): {}",
                                     WEXITSTATUS(status), kVerdict));
}

// Runs the registered probe program on the file; throws SessionFileError when it crashed or did
// not finish in time (then it is killed).
void try_in_probe(const std::vector<std::string>& prefix, std::string_view trial,
                  const fs::path& path, std::chrono::seconds time_limit) {
  if (time_limit.count() <= 0) time_limit = default_time_limit(path);
  std::vector<std::string> words = prefix;
  words.emplace_back(trial);
  words.push_back(path.string());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  // What a crashing libhdf5 (or a sanitizer) prints is not for the user.
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t child = 0;
  const int started = ::posix_spawn(&child, argv[0], &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (started != 0) {
    throw std::system_error(started, std::generic_category(),
                            path.string() + ": cannot start the process that tries the file");
  }
  const auto deadline = std::chrono::steady_clock::now() + time_limit;
  int status = 0;
  bool timed_out = false;
  for (;;) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) break;
    if (done < 0 && errno != EINTR) {
      throw std::system_error(errno, std::generic_category(),
                              path.string() + ": cannot wait for the process that tries the file");
    }
    if (!timed_out && std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      timed_out = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  judge_trial(path, status, timed_out, time_limit);
}

std::vector<std::string> registered_probe() {
  const std::lock_guard lock(probe_mutex());
  return probe_program();
}

// Runs read(path) in a child process. Returns if the child finished, whether it read the file
// or threw (this process then gets the same error, with its message, from its own read); throws
// SessionFileError if the child crashed, was killed or ran out of time.
template <typename Read>
void try_in_child(const fs::path& path, std::chrono::seconds time_limit, Read read) {
  if (time_limit.count() <= 0) time_limit = default_time_limit(path);
  std::unique_lock gate(hdf5_fork_gate());
  const pid_t child = ::fork();
  if (child < 0) {
    throw std::system_error(errno, std::generic_category(),
                            path.string() + ": cannot start the process that tries the file");
  }
  if (child == 0) {
    // The default action of SIGALRM ends the child, whatever libhdf5 is doing.
    ::signal(SIGALRM, SIG_DFL);
    sigset_t alarm_only;
    sigemptyset(&alarm_only);
    sigaddset(&alarm_only, SIGALRM);
    ::sigprocmask(SIG_UNBLOCK, &alarm_only, nullptr);
    ::alarm(static_cast<unsigned>(time_limit.count()));
    // What a crashing libhdf5 (or a sanitizer) prints is not for the user: the parent's one
    // line says what happened.
    if (const int null = ::open("/dev/null", O_WRONLY); null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
    }
    try {
      read(path);
    } catch (...) {
      // An orderly error: the parent's own read reports it.
    }
    ::_exit(0);  // not exit(): the parent's buffered output and atexit handlers are not ours
  }
  gate.unlock();
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      throw std::system_error(errno, std::generic_category(),
                              path.string() + ": cannot wait for the process that tries the file");
    }
  }
  judge_trial(path, status, WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM, time_limit);
}

}  // namespace

void use_session_probe_program(std::vector<std::string> argv_prefix) {
  const std::lock_guard lock(probe_mutex());
  probe_program() = std::move(argv_prefix);
}

std::optional<int> run_session_probe(int argc, char** argv, std::string_view flag) {
  if (argc < 2 || flag != argv[1]) return std::nullopt;
  if (argc != 4) return 2;
  const std::string_view trial = argv[2];
  try {
    if (trial == "read") {
      (void)read_session(argv[3]);
    } else if (trial == "salvage") {
      (void)salvage_session(argv[3]);
    } else {
      return 2;
    }
  } catch (const std::exception&) {
    // An orderly error: the caller's own read reports it.
  }
  return 0;
}

Session read_untrusted_session(const fs::path& path, std::chrono::seconds time_limit) {
  if (const auto probe = registered_probe(); !probe.empty()) {
    try_in_probe(probe, "read", path, time_limit);
  } else {
    try_in_child(path, time_limit, [](const fs::path& p) { (void)read_session(p); });
  }
  const std::lock_guard gate(hdf5_fork_gate());
  return read_session(path);
}

SalvagedSession salvage_untrusted_session(const fs::path& path, std::chrono::seconds time_limit) {
  if (const auto probe = registered_probe(); !probe.empty()) {
    try_in_probe(probe, "salvage", path, time_limit);
  } else {
    try_in_child(path, time_limit, [](const fs::path& p) { (void)salvage_session(p); });
  }
  const std::lock_guard gate(hdf5_fork_gate());
  return salvage_session(path);
}

}  // namespace isokin::acquisition
