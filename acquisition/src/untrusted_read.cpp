// Reading session files from elsewhere in a child process first, so that a file on which
// libhdf5 loops or crashes costs an error message, not the process (docs/security.md).
#include "isokin/acquisition/session_file.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <system_error>

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

// Generous: a healthy file reads at tens of MiB per second, even from a network share.
std::chrono::seconds default_time_limit(const fs::path& path) {
  std::error_code error;
  const std::uintmax_t bytes = fs::file_size(path, error);
  const std::uintmax_t mib = error ? 0 : bytes >> 20;
  return std::chrono::seconds(20 + static_cast<std::int64_t>(mib / 8));
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
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  constexpr std::string_view kVerdict =
      "the file is damaged or was made to attack the reader; not read";
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
    throw SessionFileError(
        Kind::kDamaged, path,
        fmt::format("reading it did not finish within {} s (libhdf5 loops on it): {}",
                    time_limit.count(), kVerdict));
  }
  if (WIFSIGNALED(status)) {
    throw SessionFileError(Kind::kDamaged, path,
                           fmt::format("libhdf5 crashed reading it (signal {}, {}): {}",
                                       WTERMSIG(status), ::strsignal(WTERMSIG(status)), kVerdict));
  }
  throw SessionFileError(Kind::kDamaged, path,
                         fmt::format("the process reading it failed (exit status {}): {}",
                                     WEXITSTATUS(status), kVerdict));
}

}  // namespace

Session read_untrusted_session(const fs::path& path, std::chrono::seconds time_limit) {
  try_in_child(path, time_limit, [](const fs::path& p) { (void)read_session(p); });
  const std::lock_guard gate(hdf5_fork_gate());
  return read_session(path);
}

SalvagedSession salvage_untrusted_session(const fs::path& path, std::chrono::seconds time_limit) {
  try_in_child(path, time_limit, [](const fs::path& p) { (void)salvage_session(p); });
  const std::lock_guard gate(hdf5_fork_gate());
  return salvage_session(path);
}

}  // namespace isokin::acquisition
