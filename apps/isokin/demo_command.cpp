#include <fmt/format.h>
#include <fmt/ostream.h>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "commands.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/acquisition/set_acquisition.h"
#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/registry.h"

namespace isokin::cli {
namespace {

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The demo's test: concentric/concentric knee extension–flexion, 5 repetitions at 60 and at
// 180 °/s, right side then left side.
std::vector<drivers::MotionSetpoint> demo_sets() {
  std::vector<drivers::MotionSetpoint> sets;
  for (const auto side : {drivers::Side::kRight, drivers::Side::kLeft}) {
    for (const double velocity : {60.0, 180.0}) {
      drivers::MotionSetpoint sp;
      sp.side = side;
      sp.extension_velocity = velocity;
      sp.flexion_velocity = velocity;
      sp.angle_min = 5.0;
      sp.angle_max = 95.0;
      sp.repetitions = 5;
      sets.push_back(sp);
    }
  }
  return sets;
}

std::string protocol_json(const std::vector<drivers::MotionSetpoint>& sets) {
  nlohmann::json p;
  p["name"] = "knee-60-180-concentric-bilateral";
  p["joint"] = "knee";
  for (const auto& s : sets) {
    p["sets"].push_back({{"side", drivers::to_string(s.side)},
                         {"mode", drivers::to_string(s.mode)},
                         {"extension_velocity_deg_s", s.extension_velocity},
                         {"flexion_velocity_deg_s", s.flexion_velocity},
                         {"angle_min_deg", s.angle_min},
                         {"angle_max_deg", s.angle_max},
                         {"repetitions", s.repetitions}});
  }
  return p.dump(2);
}

}  // namespace

int run_demo(const DemoOptions& options, std::ostream& out) {
  const auto sets = demo_sets();
  drivers::DeviceOptions device_options;
  device_options.seed = options.seed;
  const auto device = drivers::make_device("sim", device_options);
  device->open();

  acquisition::SessionInfo info;
  info.created_utc = utc_now();
  info.software = "isokin 0.1.0";
  info.protocol_name = "knee-60-180-concentric-bilateral";
  info.protocol_json = protocol_json(sets);
  info.subject.id = "DEMO-001";
  info.subject.body_mass_kg = 75.0;
  info.device = device->describe();

  fmt::print(out, "Simulating a bilateral knee test (seed {}) into {}\n", options.seed,
             options.out.string());
  acquisition::SessionWriter writer(options.out, info);
  for (std::size_t i = 0; i < sets.size(); ++i) {
    acquisition::SetInfo set;
    set.index = static_cast<int>(i);
    set.setpoint = sets[i];
    const auto stats = acquisition::acquire_set(*device, writer, set);
    fmt::print(out, "  set {}/{}: {:<5} {:>3.0f} °/s, {} repetitions: {} samples, {} dropped, {}\n",
               i + 1, sets.size(), drivers::to_string(set.setpoint.side),
               set.setpoint.extension_velocity, set.setpoint.repetitions, stats.sample_count,
               stats.dropped_samples, stats.complete ? "complete" : stats.end_reason);
  }
  writer.finish();
  device->close();

  // Analyse what is on disk, exactly as `isokin analyze` would.
  const auto session = acquisition::read_session(options.out);
  const auto analysis = analysis::analyze_session(session);
  out << '\n';
  print_result_table(session, analysis, out);
  fmt::print(out, "\nSession written to {}. Next: `isokin info {}`, `isokin analyze {} --json`.\n",
             options.out.string(), options.out.string(), options.out.string());
  return 0;
}

}  // namespace isokin::cli
