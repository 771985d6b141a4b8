#pragma once
// `isokin analyze` and `isokin import`: their options and how they are registered with CLI11, so
// main.cpp only wires them in.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "isokin/acquisition/import.h"
#include "subject_options.h"

namespace isokin::cli {

struct AnalyzeOptions {
  std::filesystem::path file;
  bool json = false;
  std::filesystem::path csv_dir;         // empty: no CSV
  std::optional<double> gravity_moment;  // N·m: use this limb moment (GravityMode::kGiven)
  bool no_gravity = false;               // GravityMode::kOff
  bool estimate_gravity = false;  // from the rest even where the export states the device's setting
  std::optional<double> cutoff_hz;
  std::optional<double> isokinetic_tolerance_percent;
  std::vector<double> torque_angles;  // empty: defaults (30°, 60°)
  std::string segmentation = "auto";  // auto | velocity | device
  std::string peak = "isokinetic";    // isokinetic | full-range: the headline peak torque
  std::optional<double> passive_effort_percent;  // % of the set's strongest movement
  bool ignore_plan = false;                      // movements past the planned repetitions count too
};
int run_analyze(const AnalyzeOptions& options, std::ostream& out);

struct ImportOptions {
  std::filesystem::path file;
  // Several files, folders (their files, sorted) or a manifest: one session per file, or per
  // manifest subject and visit (run_import_many, docs/import-formats.md "Importing a folder").
  std::vector<std::filesystem::path> inputs;
  std::filesystem::path manifest;
  bool side_given = false;  // --side was on the command line (a folder needs it said)
  std::filesystem::path out_dir;
  std::string format;             // empty: detected from the content (csv when --columns given)
  std::string columns;            // time=COL,torque=COL,angle=COL,velocity=COL
  std::optional<double> rate_hz;  // needed when there is no time column
  std::string delimiter = ",";    // one character, or "tab" / "space" / "whitespace"
  std::string decimal = ".";
  int skip_rows = 0;                // lines before the data (or before the header)
  std::vector<std::string> scales;  // CHANNEL=GAIN,OFFSET: value = GAIN·raw + OFFSET
  std::vector<std::string> negate;  // channels whose sign the device has reversed
  std::vector<std::string> limits;  // CHANNEL=MIN,MAX raw range: samples at a limit are clipped
  std::filesystem::path profile;    // c3d: channel map JSON
  std::string variable;             // mat: variable name
  double rom_start_angle = 0.0;     // isomed: flexion at position 0
  // Not given (side_given false, empty, nullopt): what the file's header says (Con-Trex), else
  // right, knee, concentric/concentric, unknown velocity (estimated per phase), no body mass.
  std::string side = "right";
  std::string joint;               // knee or trunk
  std::string mode;                // a ContractionMode name, e.g. isometric
  std::optional<double> velocity;  // °/s set velocity, both directions
  std::string subject = "anonymous";
  std::optional<double> body_mass_kg;
  SubjectDetailOptions subject_details;  // sex, age, sport, dominant and injured side
};
// Imports options.file (acquisition/import.h) and writes the session file.
struct ImportResult {
  std::filesystem::path session_file;
  std::string format;                 // the importer used, e.g. "biodex"
  std::vector<std::string> warnings;  // ImportedRecording::warnings
};
ImportResult import_file(const ImportOptions& options);
// The importer's options and the set's context from the command line's values (or a manifest
// row's); std::runtime_error naming the option that is wrong.
acquisition::ImportOptions importer_options(const ImportOptions& options);
acquisition::ImportContext import_context(const ImportOptions& options);
// Throws when `session_file` exists and is not an earlier import (a recorded session, or not a
// session file at all): importing never overwrites recorded data.
void check_replaceable(const std::filesystem::path& session_file);
int run_import(const ImportOptions& options, std::ostream& out);
// Folder, several files or --manifest: each session imported on its own, a failing one reported
// on `err` (naming manifest line, file, line and column) and skipped; 1 when any failed.
int run_import_many(const ImportOptions& options, std::ostream& out, std::ostream& err);

// Registers `analyze` and `import`; run() dispatches the one that was given.
class AnalysisCommands {
 public:
  explicit AnalysisCommands(CLI::App& app);
  // The exit code when one of these subcommands was given; nullopt otherwise.
  std::optional<int> run(std::ostream& out) const;

 private:
  std::shared_ptr<AnalyzeOptions> analyze_ = std::make_shared<AnalyzeOptions>();
  std::shared_ptr<ImportOptions> import_ = std::make_shared<ImportOptions>();
  CLI::App* analyze_cmd_ = nullptr;
  CLI::App* import_cmd_ = nullptr;
};

}  // namespace isokin::cli
