#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "analysis_cli.h"
#include "commands.h"
#include "isokin/acquisition/session_file.h"
#include "result_csv.h"

namespace isokin::cli {
namespace {

namespace fs = std::filesystem;

analysis::AnalysisSettings settings_from(const AnalyzeOptions& o) {
  analysis::AnalysisSettings s;
  if (o.no_gravity && o.gravity_moment) {
    throw std::runtime_error("analyze: --no-gravity and --gravity-moment exclude each other");
  }
  if (o.no_gravity) s.gravity.mode = analysis::GravityMode::kOff;
  if (o.estimate_gravity) s.gravity.follow_device_setting = false;
  if (o.gravity_moment) {
    if (!(*o.gravity_moment >= 0.0)) {
      throw std::runtime_error("analyze: --gravity-moment must be ≥ 0 N·m");
    }
    s.gravity.mode = analysis::GravityMode::kGiven;
    s.gravity.limb_moment = *o.gravity_moment;
  }
  if (o.cutoff_hz) s.filter_cutoff_hz = *o.cutoff_hz;
  if (o.isokinetic_tolerance_percent) {
    s.isokinetic.tolerance_fraction = *o.isokinetic_tolerance_percent / 100.0;
  }
  if (!o.torque_angles.empty()) s.torque_angles = o.torque_angles;
  if (o.segmentation == "velocity") {
    s.segmentation.source = analysis::SegmentationSource::kVelocity;
  } else if (o.segmentation == "device") {
    s.segmentation.source = analysis::SegmentationSource::kDevice;
  } else if (o.segmentation != "auto") {
    throw std::runtime_error("analyze: --segmentation must be auto, velocity or device, got '" +
                             o.segmentation + "'");
  }
  if (o.peak == "full-range") {
    s.peak_basis = analysis::PeakBasis::kFullRange;
  } else if (o.peak != "isokinetic") {
    throw std::runtime_error("analyze: --peak must be isokinetic or full-range, got '" + o.peak +
                             "'");
  }
  if (o.passive_effort_percent) {
    if (!(*o.passive_effort_percent >= 0.0 && *o.passive_effort_percent < 100.0)) {
      throw std::runtime_error("analyze: --passive-effort must be a % from 0 to below 100");
    }
    s.roles.passive_effort_fraction = *o.passive_effort_percent / 100.0;
  }
  if (o.ignore_plan) s.roles.limit_to_planned_repetitions = false;
  return s;
}

}  // namespace

int run_analyze(const AnalyzeOptions& options, std::ostream& out) {
  const auto settings = settings_from(options);
  const auto session = acquisition::read_untrusted_session(options.file);
  const auto analysis = analysis::analyze_session(session, settings);
  if (!options.csv_dir.empty()) write_results_csv(session, analysis, options.csv_dir);
  if (options.json) {
    auto doc = results_to_json(session, analysis);
    doc["file"] = options.file.string();
    out << doc.dump(2) << '\n';
  } else {
    if (!session.complete)
      out << options.file.string() << ": note: the recording was interrupted\n";
    print_result_table(session, analysis, out);
    if (!options.csv_dir.empty()) out << "CSV written to " << options.csv_dir.string() << '\n';
  }
  return 0;
}

int run_analyze(const std::filesystem::path& file, bool json, std::ostream& out) {
  AnalyzeOptions options;
  options.file = file;
  options.json = json;
  return run_analyze(options, out);
}

AnalysisCommands::AnalysisCommands(CLI::App& app) {
  auto& a = *analyze_;
  analyze_cmd_ = app.add_subcommand("analyze", "Analyse a session file");
  analyze_cmd_->add_option("FILE", a.file, "Session file")->required();
  analyze_cmd_->add_flag("--json", a.json, "Write the full result as JSON (docs/results.md)");
  analyze_cmd_->add_option("--csv", a.csv_dir,
                           "Also write repetitions.csv, sets.csv and ratios.csv into DIR");
  analyze_cmd_->add_option("--gravity-moment", a.gravity_moment,
                           "Limb weight moment at full extension, N·m (default: estimated from "
                           "the rest before each set, off when impossible)");
  analyze_cmd_->add_flag("--no-gravity", a.no_gravity, "No gravity correction");
  analyze_cmd_->add_flag("--estimate-gravity", a.estimate_gravity,
                         "Estimate the limb's weight from the rest even where an export states "
                         "its device's own gravity setting (default: follow the device)");
  analyze_cmd_->add_option("--cutoff", a.cutoff_hz, "Low-pass cut-off, Hz (default 20)");
  analyze_cmd_
      ->add_option("--segmentation", a.segmentation,
                   "Phases from: auto (the device's repetition/phase columns when the file has "
                   "them, else velocity), velocity, device")
      ->capture_default_str();
  analyze_cmd_->add_option("--isokinetic-tolerance", a.isokinetic_tolerance_percent,
                           "Isokinetic window: % of the set velocity (default 10)");
  analyze_cmd_->add_option("--angles", a.torque_angles, "Angles for torque-at-angle, ° (30,60)")
      ->delimiter(',');
  analyze_cmd_
      ->add_option("--peak", a.peak,
                   "Headline peak torque (best repetition, ratios, deficits): isokinetic (at the "
                   "set speed) or full-range; the other is reported beside it")
      ->capture_default_str();
  analyze_cmd_->add_option("--passive-effort", a.passive_effort_percent,
                           "A movement whose mean torque is below this % of the set's strongest "
                           "is passive, not counted (default 20; 0 = off)");
  analyze_cmd_->add_flag("--ignore-plan", a.ignore_plan,
                         "Count movements past the protocol's planned repetitions too");

  auto& i = *import_;
  import_cmd_ = app.add_subcommand(
      "import",
      "Turn another program's recordings (vendor export, C3D, .mat, CSV) into session files: "
      "one file, a folder, or the files a --manifest lists");
  import_cmd_->add_option(
      "PATHS", i.inputs,
      "Recording: Biodex, Con-Trex or IsoMed export, Vicon devices CSV, C3D, .mat, or "
      "any delimited text; or several, or folders (one session per file; "
      "--side unless each file says its side)");
  import_cmd_->add_option(
      "--manifest", i.manifest,
      "CSV listing the files with their subject, session, side, velocity, subject details and "
      "import options (columns: docs/import-formats.md); a subject's files of one session become "
      "one session file, one set per file");
  import_cmd_->add_option(
      "--format", i.format,
      "biodex, contrex, biodex-6line, isomed, vicon-csv, c3d, mat or csv (default: "
      "detected from the content; csv when --columns is given)");
  import_cmd_->add_option("--columns", i.columns,
                          "time=COL,torque=COL,angle=COL,velocity=COL; COL is a 1-based number "
                          "or a header name; time and velocity may be omitted (csv, mat; "
                          "vicon-csv: column names)");
  import_cmd_->add_option("--profile", i.profile,
                          "c3d: JSON file naming the analog channels and scale factors");
  import_cmd_->add_option("--variable", i.variable, "mat: the matrix variable to read");
  import_cmd_->add_option("--rom-start-angle", i.rom_start_angle,
                          "isomed: joint flexion (°) at position 0, the start of the range");
  import_cmd_->add_option("--out", i.out_dir, "Directory for the session file")->required();
  import_cmd_->add_option("--rate", i.rate_hz, "Sample rate, Hz (required without a time column)");
  import_cmd_
      ->add_option("--delimiter", i.delimiter,
                   "Field separator: a character, tab or "
                   "whitespace")
      ->capture_default_str();
  import_cmd_->add_option("--decimal", i.decimal, "Decimal mark, e.g. ,")->capture_default_str();
  import_cmd_->add_option("--skip-rows", i.skip_rows, "Lines to skip before the data/header");
  import_cmd_->add_option("--scale", i.scales,
                          "CHANNEL=GAIN[,OFFSET]: calibrate raw values, value = GAIN·raw + OFFSET "
                          "(repeatable)");
  import_cmd_->add_option("--negate", i.negate,
                          "CHANNEL: the device's sign is opposite to isokin's (repeatable), "
                          "e.g. torque when extension torque is negative");
  import_cmd_->add_option("--limits", i.limits,
                          "CHANNEL=MIN,MAX: raw range of torque or angle (e.g. torque=0,1023 for "
                          "a 10-bit ADC); samples at a limit are marked clipped (repeatable)");
  import_cmd_->add_option("--side", i.side,
                          "left or right (default: what the file says (Con-Trex), else right)");
  import_cmd_->add_option("--joint", i.joint,
                          "knee or trunk (default: what the file says (Con-Trex), else knee)");
  import_cmd_->add_option("--mode", i.mode,
                          "isometric, concentric/concentric, concentric/eccentric or "
                          "eccentric/eccentric (default: what the file says, else "
                          "concentric/concentric); isometric: efforts against a held lever");
  import_cmd_->add_option("--velocity", i.velocity,
                          "Set velocity, °/s (default: what the file says (Con-Trex), else "
                          "estimated from each movement)");
  import_cmd_->add_option("--subject", i.subject, "Pseudonymous subject id");
  import_cmd_->add_option("--body-mass", i.body_mass_kg,
                          "Subject body mass, kg (default: what the file says (Con-Trex))");
  add_subject_detail_options(*import_cmd_, i.subject_details);
}

std::optional<int> AnalysisCommands::run(std::ostream& out) const {
  if (*analyze_cmd_) return run_analyze(*analyze_, out);
  if (*import_cmd_) {
    auto& i = *import_;
    i.side_given = import_cmd_->get_option("--side")->count() > 0;
    std::error_code error;
    if (i.manifest.empty() && i.inputs.size() == 1 && fs::is_regular_file(i.inputs[0], error)) {
      i.file = i.inputs[0];
      return run_import(i, out);
    }
    if (i.manifest.empty() && i.inputs.empty()) {
      throw std::runtime_error("import: give a recording, folders of them, or --manifest");
    }
    return run_import_many(i, out, std::cerr);
  }
  return std::nullopt;
}

}  // namespace isokin::cli
