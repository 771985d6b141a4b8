#pragma once
// Subcommands that make new files from existing sessions: repair, anonymize, export, batch,
// merge, and cohort (a summary of a batch table).

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "batch_command.h"
#include "cohort_command.h"
#include "export_command.h"
#include "isokin/acquisition/session.h"

namespace isokin::cli {

struct RepairOptions {
  std::filesystem::path file;
  std::filesystem::path out;
};

struct AnonymizeOptions {
  std::filesystem::path file;
  std::filesystem::path out;
  std::string subject = "anonymous";
  bool drop_subject_details = false;
};

// Removes personal data from a session in memory (subject id replaced, name, birth date,
// device serial, time of day, operator notes); returns what was removed, for the user. Sex,
// age, sport and sides stay (cohort research needs them) unless drop_subject_details.
std::vector<std::string> anonymize(acquisition::Session& session, const std::string& subject_id,
                                   bool drop_subject_details = false);

class FileCommands {
 public:
  explicit FileCommands(CLI::App& app);
  // The exit code when one of these subcommands was chosen.
  [[nodiscard]] std::optional<int> run(std::ostream& out) const;

 private:
  CLI::App* repair_cmd_ = nullptr;
  CLI::App* anonymize_cmd_ = nullptr;
  CLI::App* export_cmd_ = nullptr;
  CLI::App* batch_cmd_ = nullptr;
  CLI::App* merge_cmd_ = nullptr;
  CLI::App* cohort_cmd_ = nullptr;
  RepairOptions repair_;
  AnonymizeOptions anonymize_;
  ExportOptions export_;
  BatchOptions batch_;
  MergeOptions merge_;
  CohortOptions cohort_;
};

}  // namespace isokin::cli
