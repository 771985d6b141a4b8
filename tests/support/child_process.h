#pragma once
// The built `isokin` as a real child process with its standard output on a pipe the test reads
// (and may close early, as `| head` does) and its standard input on a pipe the test types into.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace isokin::test {

class ChildProcess {
 public:
  // Runs `program` (ISOKIN_CLI_PATH unless given) with `args`; stderr goes to `stderr_file`.
  ChildProcess(const std::vector<std::string>& args, const std::filesystem::path& stderr_file,
               const std::string& program = ISOKIN_CLI_PATH) {
    int output[2];
    int input[2];
    if (::pipe2(output, O_CLOEXEC) != 0) return;
    if (::pipe2(input, O_CLOEXEC) != 0) {
      ::close(output[0]);
      ::close(output[1]);
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(output[1], STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copies
      ::dup2(input[0], STDIN_FILENO);
      const int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(err, STDERR_FILENO);
      ::signal(SIGPIPE, SIG_DFL);  // as a shell starts a command, whatever the test does
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(program.c_str()));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(program.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(output[1]);
    ::close(input[0]);
    out_ = output[0];
    in_ = input[1];
  }
  ~ChildProcess() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    close_output();
    close_input();
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  [[nodiscard]] bool started() const { return pid_ > 0; }

  // Reads until `text` has arrived (true), or the output ends or `seconds` pass (false).
  bool wait_for(const std::string& text, double seconds = 120.0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (out_ >= 0 && !ended_ && std::chrono::steady_clock::now() < deadline) {
      if (output_.find(text) != std::string::npos) return true;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(out_, buffer, sizeof buffer);
      if (n <= 0) {
        ended_ = true;
        break;
      }
      output_.append(buffer, static_cast<std::size_t>(n));
    }
    return output_.find(text) != std::string::npos;
  }

  // Closes the test's end of the child's standard output: its next write fails (EPIPE/SIGPIPE).
  void close_output() {
    if (out_ >= 0) ::close(out_);
    out_ = -1;
  }
  void close_input() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
  }
  // Types a line on the child's standard input; false if it could not be written.
  bool type(const std::string& line) const {
    const std::string text = line + "\n";
    return in_ >= 0 && ::write(in_, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  }

  // Ends the operator's input, reads the output to its end (if still open) and returns the exit
  // code, or 128 + the signal that killed the child.
  int wait() {
    close_input();
    while (out_ >= 0 && !ended_) wait_for("\x01never", 1.0);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  [[nodiscard]] const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int in_ = -1;
  bool waited_ = false;
  bool ended_ = false;  // the output reached its end
  std::string output_;
};

}  // namespace isokin::test
