// isokin: record, inspect and analyse isokinetic dynamometer sessions.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "commands.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/drivers/device.h"

int main(int argc, char** argv) {
  CLI::App app{"isokin: isokinetic dynamometer acquisition and analysis"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "isokin 0.1.0");

  isokin::cli::DemoOptions demo;
  auto* demo_cmd = app.add_subcommand(
      "demo", "Simulate a bilateral knee test (60 and 180 °/s), record it and print the results");
  demo_cmd->add_option("--out", demo.out, "Session file to write")->capture_default_str();
  demo_cmd->add_option("--seed", demo.seed, "Simulator seed (same seed, same session)")
      ->capture_default_str();

  std::filesystem::path info_file;
  auto* info_cmd = app.add_subcommand("info", "Describe what is in a session file");
  info_cmd->add_option("FILE", info_file, "Session file")->required();

  std::filesystem::path analyze_file;
  bool json = false;
  auto* analyze_cmd = app.add_subcommand("analyze", "Analyse a session file");
  analyze_cmd->add_option("FILE", analyze_file, "Session file")->required();
  analyze_cmd->add_flag("--json", json, "Write the full result as JSON (docs/results.md)");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*demo_cmd) return isokin::cli::run_demo(demo, std::cout);
    if (*info_cmd) return isokin::cli::run_info(info_file, std::cout);
    if (*analyze_cmd) return isokin::cli::run_analyze(analyze_file, json, std::cout);
  } catch (const std::exception& e) {
    // Session-file and device errors already name the file or device and the problem.
    std::cerr << "isokin: " << e.what() << '\n';
    return 1;
  }
  return 2;
}
