#include <fmt/format.h>
#include <fmt/ostream.h>

#include <chrono>
#include <ctime>
#include <ostream>

#include "commands.h"
#include "isokin/acquisition/protocol.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/registry.h"
#include "live_session.h"

namespace isokin::cli {

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The demo is the shipped bilateral 60/180 °/s protocol on the simulator, as fast as it goes.
int run_demo(const DemoOptions& options, std::ostream& out) {
  const auto protocol = acquisition::load_protocol(
      acquisition::find_protocol("knee-60-180-bilateral", {shipped_protocols_dir()}));
  drivers::DeviceOptions device_options;
  device_options.seed = options.seed;
  const auto device = drivers::make_device("sim", device_options);
  device->open();

  LiveSessionOptions session;
  session.out = options.out;
  session.plan = acquisition::plan_protocol(protocol);
  session.time_scale = 0.0;
  session.lossless = true;  // the simulator runs unpaced
  session.live_output = false;
  session.info.created_utc = utc_now();
  session.info.software = "isokin 0.1.0";
  session.info.protocol_name = protocol.name;
  session.info.protocol_json = protocol.json_text;
  session.info.subject.id = "DEMO-001";
  session.info.subject.body_mass_kg = 75.0;
  session.info.device = device->describe();
  const std::size_t count = session.plan.size();
  session.on_set_end = [&](const acquisition::SetInfo& set, const acquisition::SetStats& stats) {
    fmt::print(out, "  set {}/{}: {:<5} {:>3.0f} °/s, {} repetitions: {} samples, {} dropped, {}\n",
               set.index + 1, count, drivers::to_string(set.setpoint.side),
               set.setpoint.extension_velocity, set.setpoint.repetitions, stats.sample_count,
               stats.dropped_samples, stats.complete ? "complete" : stats.end_reason);
  };

  fmt::print(out, "Simulating a bilateral knee test (seed {}) into {}\n", options.seed,
             options.out.string());
  record_live_session(*device, session, out);
  device->close();

  // Analyse what is on disk, exactly as `isokin analyze` would.
  const auto recorded = acquisition::read_session(options.out);
  const auto analysis = analysis::analyze_session(recorded);
  out << '\n';
  print_result_table(recorded, analysis, out);
  fmt::print(out, "\nSession written to {}. Next: `isokin info {}`, `isokin analyze {} --json`.\n",
             options.out.string(), options.out.string(), options.out.string());
  return 0;
}

}  // namespace isokin::cli
