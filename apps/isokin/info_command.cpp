#include <fmt/format.h>
#include <fmt/ostream.h>
#include <ostream>

#include "commands.h"
#include "isokin/acquisition/session_file.h"
#include "subject_options.h"

namespace isokin::cli {

int run_info(const std::filesystem::path& file, std::ostream& out) {
  const auto session = acquisition::read_untrusted_session(file);
  const auto& info = session.info;
  fmt::print(out, "{}: isokin session, format version {}, {}\n", file.string(),
             session.format_version,
             session.complete ? "complete" : "INCOMPLETE (recording was interrupted)");
  fmt::print(out, "created      {} by {}\n", info.created_utc, info.software);
  fmt::print(out, "subject      {}, body mass {}\n", info.subject.id,
             info.subject.body_mass_kg > 0.0 ? fmt::format("{:.1f} kg", info.subject.body_mass_kg)
                                             : std::string("unknown"));
  fmt::print(out, "             {}\n", describe_subject_details(info.subject));
  fmt::print(out, "device       {} ({}, serial {}), {:g} Hz\n", info.device.driver,
             info.device.model, info.device.serial, info.device.sample_rate_hz);
  fmt::print(out, "protocol     {}\n", info.protocol_name.empty() ? "-" : info.protocol_name);
  fmt::print(out, "sets         {}\n", session.sets.size());
  fmt::print(out, "  {:>3}  {:<5}  {:<5}  {:<22}  {:>13}  {:>4}  {:>8}  {:>8}  {:>7}  {}\n", "#",
             "joint", "side", "mode", "velocity °/s", "reps", "samples", "duration", "dropped",
             "status");
  for (const auto& set : session.sets) {
    const auto& sp = set.info.setpoint;
    const auto& sig = set.signals;
    const double duration = sig.size() > 1 ? sig.time.back() - sig.time.front() : 0.0;
    fmt::print(
        out, "  {:>3}  {:<5}  {:<5}  {:<22}  {:>13}  {:>4}  {:>8}  {:>7.2f}s  {:>7}  {}\n",
        set.info.index, drivers::to_string(sp.joint), drivers::to_string(sp.side),
        drivers::to_string(sp.mode),
        fmt::format("{:g}/{:g}", sp.extension_velocity, sp.flexion_velocity), sp.repetitions,
        sig.size(), duration, set.stats.dropped_samples,
        set.stats.complete ? std::string("complete") : "incomplete: " + set.stats.end_reason);
  }
  return 0;
}

}  // namespace isokin::cli
