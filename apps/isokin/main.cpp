// isokin: record, inspect and analyse isokinetic dynamometer sessions.
#include <CLI/CLI.hpp>
#include <exception>
#include <filesystem>
#include <iostream>
#include <system_error>

#include "analysis_cli.h"
#include "commands.h"
#include "file_commands.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/drivers/device.h"

int main(int argc, char** argv) {
  // Files given on the command line are first tried by a fresh copy of this program
  // (docs/security.md); batch reads them from several threads, where fork() is not safe.
  if (const auto status = isokin::acquisition::run_session_probe(argc, argv, "--probe-session")) {
    return *status;
  }
  {
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) isokin::acquisition::use_session_probe_program({self.string(), "--probe-session"});
  }
  CLI::App app{"isokin: isokinetic dynamometer acquisition and analysis"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "isokin 0.1.0");

  isokin::cli::DemoOptions demo;
  auto* demo_cmd = app.add_subcommand(
      "demo", "Simulate a bilateral knee test (60 and 180 °/s), record it and print the results");
  demo_cmd->add_option("--out", demo.out, "New session file to write (never overwritten)")
      ->capture_default_str();
  demo_cmd->add_option("--seed", demo.seed, "Simulator seed (same seed, same session)")
      ->capture_default_str();
  isokin::cli::add_subject_detail_options(*demo_cmd, demo.subject);

  std::filesystem::path info_file;
  auto* info_cmd = app.add_subcommand("info", "Describe what is in a session file");
  info_cmd->add_option("FILE", info_file, "Session file")->required();

  const isokin::cli::AnalysisCommands analysis_cmds(app);  // analyze, import
  const isokin::cli::FileCommands file_cmds(app);          // repair, anonymize

  isokin::cli::RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "Run a test protocol in real time and record it");
  run_cmd->add_option("PROTOCOL", run.protocol, "Protocol name (`isokin protocols`) or JSON file")
      ->required();
  run_cmd->add_option("--device", run.device, "Device driver: sim or a hardware driver")
      ->capture_default_str();
  run_cmd->add_option("--out", run.out, "New session file to write (never overwritten)")
      ->capture_default_str();
  run_cmd->add_option("--subject", run.subject, "Pseudonymous subject id");
  run_cmd->add_option("--body-mass", run.body_mass_kg, "Subject body mass, kg");
  run_cmd->add_option("--subject-name", run.subject_name,
                      "Subject's name (personal data: needs --allow-personal-data)");
  run_cmd->add_option(
      "--birth-date", run.birth_date,
      "Subject's birth date YYYY-MM-DD (personal data: needs --allow-personal-data)");
  run_cmd->add_flag("--allow-personal-data", run.allow_personal_data,
                    "The lab stores personal data in session files (docs/security.md)");
  isokin::cli::add_subject_detail_options(*run_cmd, run.subject_details);
  run_cmd->add_option("--side", run.side, "Test only this side (left or right)");
  run_cmd->add_option("--port", run.port,
                      "Serial port of --device serial (default: the profile's)");
  run_cmd->add_option("--profile", run.profile,
                      "Device profile of --device serial or labjack-u6: a shipped name "
                      "(biodex2-adc, labjack-u6-biodex-example) or a JSON file "
                      "(docs/serial-protocol.md, docs/hardware.md)");
  run_cmd
      ->add_option("--stream", run.stream_port,
                   "Serve live samples and results on TCP PORT (docs/stream-protocol.md)")
      ->check(CLI::Range(1, 65535));
  run_cmd
      ->add_option("--stream-bind", run.stream_bind,
                   "Address the stream listens on; anything but 127.0.0.1 exposes live data to "
                   "the network (docs/security.md)")
      ->capture_default_str();
  run_cmd->add_option("--stream-wait", run.stream_wait_clients,
                      "Wait for N stream clients to connect before the first set");
  run_cmd->add_option("--seed", run.seed, "Simulator seed")->capture_default_str();
  run_cmd->add_option("--serial", run.serial,
                      "Serial number of the --device labjack-u6 (default: the first found)");
  run_cmd->add_flag("--fast", run.fast, "")->group("");  // hidden: tests and demos

  auto* protocols_cmd = app.add_subcommand("protocols", "List the shipped and user protocols");
  auto* devices_cmd =
      app.add_subcommand("devices", "List attached data-acquisition devices (LabJack U6)");
  isokin::cli::CalibrateOptions calibrate;
  auto* calibrate_cmd = app.add_subcommand(
      "calibrate", "Fit a LabJack profile's volts -> units from known loads, angles and speeds");
  calibrate_cmd->add_option("POINTS", calibrate.points, "CSV: quantity,volts,value")->required();
  calibrate_cmd->add_option("--profile", calibrate.base_profile, "Profile with the wiring")
      ->required();
  calibrate_cmd->add_option("--out", calibrate.out, "Fitted profile to write")->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*demo_cmd) return isokin::cli::run_demo(demo, std::cout);
    if (*info_cmd) return isokin::cli::run_info(info_file, std::cout);
    if (const auto code = analysis_cmds.run(std::cout)) return *code;
    if (const auto code = file_cmds.run(std::cout)) return *code;
    if (*run_cmd) return isokin::cli::run_protocol(run, std::cout);
    if (*protocols_cmd) return isokin::cli::run_protocols(std::cout);
    if (*devices_cmd) return isokin::cli::run_devices(std::cout);
    if (*calibrate_cmd) return isokin::cli::run_calibrate(calibrate, std::cout);
  } catch (const std::exception& e) {
    // Session-file and device errors already name the file or device and the problem.
    std::cerr << "isokin: " << e.what() << '\n';
    return 1;
  }
  return 2;
}
