// libFuzzer target: the analysis on hostile sets (issue 19). Byte 0 picks the source:
//   even: the rest is what a serial board sends, ASCII frames `torque;velocity;angle;` decoded
//         and calibrated as the biodex2-adc profile does (frame_sample: the driver's own code,
//         out-of-range frames marked corrupt), at the board's 1 kHz;
//   odd:  the rest is little-endian doubles, four per sample (time, torque, angle, velocity),
//         as a damaged or crafted session file can hold them; byte 0 bit 1 keeps the file's
//         times instead of an even 500 Hz clock.
// The set is analysed as `isokin analyze` does (analyze_session: phases, curves, ratios). A
// crash, a sanitizer report, an exception or one allocation over libFuzzer's malloc limit (one
// angle of 2^31 counts made the torque–angle curve gigabytes) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/serial_device.h"
#include "isokin/drivers/serial_protocol.h"

namespace {

using namespace isokin;

drivers::SerialProfile biodex2_adc() {
  // profiles/biodex2-adc.json, the shipped board.
  drivers::SerialProfile p;
  p.name = "biodex2-adc";
  p.fields = {"torque", "velocity", "angle"};
  p.count_min = 0;
  p.count_max = 1023;
  p.torque = {1.04, -552.0, -1.0};
  p.velocity = {0.883, -459.0, 1.0};
  p.angle = {0.363, -99.3, 1.0};
  p.sample_rate_hz = 1000.0;
  return p;
}

void from_serial(std::span<const std::uint8_t> bytes, acquisition::SetSignals& out) {
  static const drivers::SerialProfile profile = biodex2_adc();
  static const drivers::SerialFields fields = drivers::serial_fields(profile);
  drivers::serial::AsciiFrameDecoder decoder(profile.ascii);
  std::vector<drivers::serial::Frame> frames;
  decoder.decode(bytes, frames);
  for (const auto& frame : frames) {
    drivers::Sample s = drivers::frame_sample(profile, fields, frame);
    s.time = static_cast<double>(frame.index) / profile.sample_rate_hz;
    if (frame.gap_before) s.status |= drivers::kStatusGapBefore;
    out.append(s);
  }
}

void from_doubles(std::span<const std::uint8_t> bytes, bool own_times,
                  acquisition::SetSignals& out) {
  constexpr std::size_t kSampleBytes = 4 * sizeof(double);
  for (std::size_t i = 0; i + kSampleBytes <= bytes.size(); i += kSampleBytes) {
    double v[4];
    std::memcpy(v, bytes.data() + i, kSampleBytes);
    const double time = own_times ? v[0] : static_cast<double>(i / kSampleBytes) / 500.0;
    out.append({time, v[1], v[2], v[3], drivers::kStatusOk});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  acquisition::Session session;
  session.info.device.driver = "fuzz";
  auto& set = session.sets.emplace_back();
  set.info.setpoint.repetitions = 2;
  set.info.setpoint.extension_velocity = set.info.setpoint.flexion_velocity = 180.0;
  if ((data[0] & 1) == 0) {
    session.info.device.sample_rate_hz = 1000.0;
    from_serial(rest, set.signals);
  } else {
    session.info.device.sample_rate_hz = 500.0;
    from_doubles(rest, (data[0] & 2) != 0, set.signals);
  }
  set.stats.sample_count = set.signals.size();
  const auto analysis = analysis::analyze_session(session);
  (void)analysis;
  return 0;
}
