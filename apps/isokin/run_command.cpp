#include <fmt/format.h>
#include <fmt/ostream.h>
#include <algorithm>

#include <csignal>
#include <cstdio>
#include <ostream>

#include "commands.h"
#include "isokin/acquisition/new_file.h"
#include "isokin/acquisition/protocol.h"
#include "isokin/drivers/registry.h"
#include "live_session.h"

namespace isokin::cli {
namespace {

extern "C" void on_interrupt(int /*signal*/) {
  abort_live_session();
}

void check_subject_data(const acquisition::Protocol& protocol, const RunOptions& options) {
  for (const auto& item : protocol.subject_data) {
    if (item == "id" && options.subject.empty()) {
      throw std::runtime_error(
          fmt::format("protocol '{}' requires the subject's id: give --subject ID", protocol.name));
    }
    if (item == "body_mass" && !(options.body_mass_kg > 0.0)) {
      throw std::runtime_error(fmt::format(
          "protocol '{}' requires the subject's body mass: give --body-mass KG", protocol.name));
    }
  }
}

}  // namespace

int run_protocol(const RunOptions& options, std::ostream& out) {
  const auto directories = acquisition::protocol_directories(shipped_protocols_dir());
  const auto path = acquisition::find_protocol(options.protocol, directories);
  const auto protocol = acquisition::load_protocol(path);
  check_subject_data(protocol, options);
  if ((!options.subject_name.empty() || !options.birth_date.empty()) &&
      !options.allow_personal_data) {
    throw std::runtime_error(
        "--subject-name/--birth-date store personal data in the file: the lab must opt in with "
        "--allow-personal-data (docs/security.md); the pseudonymous --subject is enough otherwise");
  }
  if (!options.birth_date.empty() &&
      (options.birth_date.size() != 10 || options.birth_date[4] != '-' ||
       options.birth_date[7] != '-' ||
       !std::all_of(options.birth_date.begin(), options.birth_date.end(),
                    [](char c) { return c == '-' || (c >= '0' && c <= '9'); }))) {
    throw std::runtime_error("--birth-date " + options.birth_date + ": must be YYYY-MM-DD");
  }
  acquisition::SubjectInfo subject;
  subject.id = options.subject.empty() ? "anonymous" : options.subject;
  subject.body_mass_kg = options.body_mass_kg;
  subject.name = options.subject_name;
  subject.birth_date = options.birth_date;
  apply_subject_details(options.subject_details, subject);  // before the device is opened
  std::vector<drivers::Side> sides;
  if (!options.side.empty()) {
    const auto side = drivers::parse_side(options.side);
    if (!side || *side == drivers::Side::kNone)
      throw std::runtime_error(fmt::format("--side {}: must be left or right", options.side));
    if (protocol.joint == drivers::Joint::kTrunk) {
      throw std::runtime_error(
          fmt::format("--side: protocol '{}' tests the trunk, which has no sides", protocol.name));
    }
    sides.push_back(*side);
  }

  // Before the device is opened; the recording itself creates the file exclusively.
  acquisition::RecordingFile::check_new(options.out);
  keep_recording_when_output_closes();
  drivers::DeviceOptions device_options;
  device_options.seed = options.seed;
  device_options.realtime = !options.fast;
  device_options.port = options.port;
  device_options.profile = options.profile;
  device_options.profile_dirs = {shipped_profiles_dir()};
  device_options.serial = options.serial;
  const auto device = drivers::make_device(options.device, device_options);
  device->open();

  LiveSessionOptions session;
  session.out = options.out;
  session.plan = acquisition::plan_protocol(protocol, sides);
  session.time_scale = options.fast ? 0.0 : 1.0;
  session.lossless = options.fast && options.device == "sim";
  session.stream_port = options.stream_port;
  session.stream_bind = options.stream_bind;
  session.stream_wait_clients = options.stream_wait_clients;
  session.info.created_utc = utc_now();
  session.info.software = "isokin 0.1.0";
  session.info.protocol_name = protocol.name;
  session.info.protocol_json = protocol.json_text;
  session.info.subject = subject;
  session.info.device = device->describe();

  double total = 0.0;
  for (const auto& set : session.plan) {
    total += estimated_set_seconds(set) + (set.rest_after + set.positioning) * session.time_scale;
  }
  fmt::print(out, "Running {} ({}) on {} into {}: {} sets, about {:.0f} min{}\n", protocol.name,
             path.string(), options.device, options.out.string(), session.plan.size(),
             std::ceil(total / 60.0), options.fast ? " of recording (fast mode: no rests)" : "");
  out.flush();

  session.on_set_end = [&](const acquisition::SetInfo& info, const acquisition::SetStats& stats) {
    std::uint64_t lost = 0;
    for (const auto& c : stats.consumers) lost += c.dropped;
    fmt::print(out, "  set {} done: {} samples, {} lost, {}\n", info.index + 1, stats.sample_count,
               lost, stats.complete ? "complete" : stats.end_reason);
  };
  // Said at once, on stderr: the operator must know the line went quiet or the port is gone.
  session.on_device_event = [&](const drivers::DeviceEvent& e) {
    fmt::print(stderr, "isokin run: device {}: {}\n", e.kind, e.detail);
    std::fflush(stderr);
  };
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  struct sigaction previous {};
  ::sigaction(SIGINT, &action, &previous);
  ::sigaction(SIGTERM, &action, nullptr);
  out << OperatorInput::kHelp << '\n';
  const OperatorInput operator_input;
  LiveSessionResult result;
  try {
    result = record_live_session(*device, session, out);
  } catch (...) {
    ::sigaction(SIGINT, &previous, nullptr);
    device->close();
    throw;
  }
  ::sigaction(SIGINT, &previous, nullptr);
  device->close();
  report_lost_output(out, options.out);
  if (!result.device_failure.empty()) {
    fmt::print(stderr,
               "isokin run: {}. {} is closed and marked incomplete; what was recorded is kept "
               "(`isokin info {}`).\n",
               result.device_failure, options.out.string(), options.out.string());
    return 1;
  }
  if (result.state != acquisition::RunnerState::kDone) {
    fmt::print(out,
               "Aborted after {} sets. {} is closed and marked incomplete; what was recorded is "
               "kept (`isokin info {}`).\n",
               result.recorded.size(), options.out.string(), options.out.string());
    return 130;  // 128 + SIGINT, as shells report an interrupted command
  }
  fmt::print(out, "Session complete: {} sets in {}. Next: `isokin analyze {}`.\n",
             result.recorded.size(), options.out.string(), options.out.string());
  return 0;
}

}  // namespace isokin::cli
