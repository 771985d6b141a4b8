#include <fmt/format.h>
#include <fmt/ostream.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <ostream>

#include "commands.h"
#include "isokin/acquisition/new_file.h"
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

namespace {

// SplitMix64 (Steele, Lea & Flood 2014): well-mixed bits from consecutive seeds.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31U);
}

}  // namespace

acquisition::SubjectInfo demo_subject(std::uint64_t seed) {
  // Each field takes its own bits of one mixed word, so the fields vary independently.
  std::uint64_t bits = mix(seed);
  const auto take = [&bits](std::uint64_t n) {
    const std::uint64_t value = bits % n;
    bits /= n;
    return value;
  };
  static constexpr std::array<const char*, 4> kSports = {"football", "basketball", "running",
                                                         "skiing"};
  acquisition::SubjectInfo subject;
  subject.id = fmt::format("DEMO-{:03d}", seed);
  const bool female = take(2) == 0;
  subject.sex = female ? "female" : "male";
  subject.sport = kSports.at(take(kSports.size()));
  subject.age_years = 18 + static_cast<int>(take(23));  // 18 to 40
  // About 1 in 8 left-dominant, 1 in 4 with an injured side.
  subject.dominant_side = take(8) == 0 ? drivers::Side::kLeft : drivers::Side::kRight;
  const std::uint64_t injury = take(8);
  subject.injured_side = injury == 0   ? drivers::Side::kLeft
                         : injury == 1 ? drivers::Side::kRight
                                       : drivers::Side::kNone;
  // 55 to 74.5 kg (female) or 65 to 94.5 kg (male), in 0.5 kg steps.
  subject.body_mass_kg = (female ? 55.0 : 65.0) + 0.5 * static_cast<double>(take(female ? 40 : 60));
  return subject;
}

// The demo is the shipped bilateral 60/180 °/s protocol on the simulator, as fast as it goes:
// each side's passive gravity trial, then its test sets, so the results are gravity-corrected
// from the trial (docs/analysis.md).
int run_demo(const DemoOptions& options, std::ostream& out) {
  acquisition::RecordingFile::check_new(options.out);  // a demo never overwrites a file either
  keep_recording_when_output_closes();
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
  session.info.subject = demo_subject(options.seed);
  apply_subject_details(options.subject, session.info.subject);
  session.info.device = device->describe();
  const std::size_t count = session.plan.size();
  session.on_set_end = [&](const acquisition::SetInfo& set, const acquisition::SetStats& stats) {
    const std::string what = set.kind == acquisition::kSetKindGravity
                                 ? std::string("gravity trial (limb relaxed)")
                                 : fmt::format("{} repetitions", set.setpoint.repetitions);
    fmt::print(out, "  set {}/{}: {:<5} {:>3.0f} °/s, {}: {} samples, {} dropped, {}\n",
               set.index + 1, count, drivers::to_string(set.setpoint.side),
               set.setpoint.extension_velocity, what, stats.sample_count, stats.dropped_samples,
               stats.complete ? "complete" : stats.end_reason);
  };

  fmt::print(out, "Simulating a bilateral knee test with gravity trials (seed {}) into {}\n",
             options.seed, options.out.string());
  record_live_session(*device, session, out);
  device->close();
  report_lost_output(out, options.out);

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
