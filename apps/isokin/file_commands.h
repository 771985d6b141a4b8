#pragma once
// Subcommands that make a new session file from an existing one: repair, anonymize.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

namespace isokin::cli {

struct RepairOptions {
  std::filesystem::path file;
  std::filesystem::path out;
};

struct AnonymizeOptions {
  std::filesystem::path file;
  std::filesystem::path out;
  std::string subject = "anonymous";
};

class FileCommands {
 public:
  explicit FileCommands(CLI::App& app);
  // The exit code when one of these subcommands was chosen.
  [[nodiscard]] std::optional<int> run(std::ostream& out) const;

 private:
  CLI::App* repair_cmd_ = nullptr;
  CLI::App* anonymize_cmd_ = nullptr;
  RepairOptions repair_;
  AnonymizeOptions anonymize_;
};

}  // namespace isokin::cli
