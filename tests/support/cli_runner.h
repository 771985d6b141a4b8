#pragma once
// Runs the built `isokin` command line as a child process, as a user would, and captures its
// exit code, standard output and standard error (via a file next to the test's data).
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace isokin::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// args is appended to the executable's path on a shell command line: quote paths in it.
inline CommandResult run_cli(const std::string& args, const std::filesystem::path& stderr_file) {
  const std::string cmd =
      std::string("'") + ISOKIN_CLI_PATH + "' " + args + " 2>'" + stderr_file.string() + "'";
  CommandResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = slurp(stderr_file);
  return r;
}

}  // namespace isokin::test
