// What a failing serial board sends, through the real driver on a real pseudo-terminal (issue
// 19): a frame whose values no board or joint can have, and a line that goes silent.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "isokin/drivers/serial_device.h"
#include "support/pty_pair.h"

namespace isokin::drivers {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using test::PtyPair;

SerialProfile biodex_profile() {
  return load_serial_profile(fs::path(ISOKIN_SOURCE_DIR) / "profiles" / "biodex2-adc.json");
}

std::string ascii_frame(int torque, int velocity, int angle) {
  return fmt::format("{:04d};{:04d};{:04d};\r\n", torque, velocity, angle);
}

// Reads until n samples arrived, or 5 s passed.
std::vector<Sample> read_samples(Device& device, std::size_t n) {
  std::vector<Sample> all;
  std::vector<Sample> buffer(64);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (all.size() < n && Clock::now() < deadline) {
    const ReadResult r = device.read(buffer);
    all.insert(all.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(r.count));
    if (r.status != ReadStatus::kOk && r.status != ReadStatus::kTimeout) break;
  }
  return all;
}

bool has_event(const std::vector<DeviceEvent>& events, const std::string& kind,
               const std::string& text) {
  return std::any_of(events.begin(), events.end(), [&](const DeviceEvent& e) {
    return e.kind == kind && e.detail.find(text) != std::string::npos;
  });
}

// `0500;0500;2147483647;` on the 10-bit board: an angle count of 2^31 − 1 (7.8e8° by the
// calibration) killed `isokin run` in the analysis. The driver keeps the sample (recorded data
// is never dropped) but marks it corrupt and says so, once in detail and once with the count.
TEST(SerialFaults, AFrameOutOfRangeIsKeptMarkedCorruptAndReported) {
  PtyPair pty;
  SerialDevice device(biodex_profile(), pty.slave_path());
  device.open();
  device.start();
  pty.write(ascii_frame(500, 500, 300));
  pty.write("0500;0500;2147483647;\r\n");
  pty.write("0500;-0001;0300;\r\n");  // below the board's count range, a plausible value
  pty.write(ascii_frame(500, 500, 301));
  const auto samples = read_samples(device, 4);
  device.stop();
  ASSERT_EQ(samples.size(), 4U);
  EXPECT_EQ(samples[0].status & kStatusCorrupt, 0U);
  EXPECT_NE(samples[1].status & kStatusCorrupt, 0U);
  EXPECT_DOUBLE_EQ(samples[1].angle, 0.363 * 2147483647.0 - 99.3);  // kept as it came
  EXPECT_NE(samples[2].status & kStatusCorrupt, 0U);
  EXPECT_EQ(samples[3].status & kStatusCorrupt, 0U);
  EXPECT_EQ(device.counters().samples_out_of_range, 2U);
  const auto events = device.take_events();
  EXPECT_TRUE(has_event(events, "out-of-range", "2147483647")) << events.size();
  EXPECT_TRUE(has_event(events, "out-of-range", "2 frames of this set out of range"));
  device.close();
}

// A calibration that makes plausible counts impossible values is caught the same way (the
// board's count range alone would pass them).
TEST(SerialFaults, AValueBeyondThePhysicalLimitsIsMarkedCorrupt) {
  PtyPair pty;
  auto profile = biodex_profile();
  profile.angle.gain = 1000.0;  // 300 counts → 3e5°
  SerialDevice device(profile, pty.slave_path());
  device.open();
  device.start();
  pty.write(ascii_frame(500, 500, 300));
  const auto samples = read_samples(device, 1);
  ASSERT_EQ(samples.size(), 1U);
  EXPECT_NE(samples[0].status & kStatusCorrupt, 0U);
  device.close();
}

// A board that stops sending (power, firmware, a loose wire) while the port stays open: after
// silence_timeout_s the driver reports it at once (taken between reads, so the operator hears
// of it during the silence), and when frames return the first one is a gap and time advances by
// the silence, as after a reconnection.
TEST(SerialFaults, ASilentLineIsReportedAndMarksAGapWhenFramesReturn) {
  PtyPair pty;
  auto profile = biodex_profile();
  profile.timeout_s = 0.05;
  profile.silence_timeout_s = 0.3;
  SerialDevice device(profile, pty.slave_path());
  device.open();
  device.start();
  for (int i = 0; i < 5; ++i) pty.write(ascii_frame(500, 519, 300 + i));
  const auto before = read_samples(device, 5);
  ASSERT_EQ(before.size(), 5U);
  EXPECT_TRUE(device.take_events().empty());

  std::vector<Sample> buffer(8);
  std::vector<DeviceEvent> during;
  const auto quiet_until = Clock::now() + std::chrono::milliseconds(600);
  while (Clock::now() < quiet_until) {
    EXPECT_EQ(device.read(buffer).count, 0U);
    for (auto& e : device.take_events()) during.push_back(std::move(e));
  }
  ASSERT_EQ(during.size(), 1U);  // once per silence, not once per timeout
  EXPECT_EQ(during[0].kind, "silence");
  EXPECT_NE(during[0].detail.find("no frames for"), std::string::npos) << during[0].detail;
  EXPECT_EQ(device.counters().silences, 1U);

  for (int i = 0; i < 3; ++i) pty.write(ascii_frame(500, 519, 310 + i));
  const auto after = read_samples(device, 3);
  ASSERT_EQ(after.size(), 3U);
  EXPECT_NE(after[0].status & kStatusGapBefore, 0U);
  EXPECT_EQ(after[1].status & kStatusGapBefore, 0U);
  // At least the 0.6 s of silence, at the board's 1 kHz.
  EXPECT_GE(after[0].time - before.back().time, 0.6);
  EXPECT_NEAR(after[1].time - after[0].time, 1e-3, 1e-12);
  const auto events = device.take_events();
  EXPECT_TRUE(has_event(events, "silence-end", "frames again after"));
  device.close();
}

TEST(SerialFaults, TheSilenceTimeoutIsAProfileKey) {
  const fs::path dir = fs::temp_directory_path() / ("isokin-silence-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string text =
      R"({"schema": "isokin-serial-profile", "schema_version": 1, "framing": {"type": "ascii",
      "fields": ["torque", "velocity", "angle"]}, "calibration": {"torque": {"gain": 1,
      "offset": 0}, "velocity": {"gain": 1, "offset": 0}, "angle": {"gain": 1, "offset": 0}}, "sample_rate_hz": 100,
      "silence_timeout_s": 2.5})";
  {
    std::FILE* f = std::fopen((dir / "quiet.json").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
  EXPECT_DOUBLE_EQ(load_serial_profile(dir / "quiet.json").silence_timeout_s, 2.5);
  EXPECT_DOUBLE_EQ(biodex_profile().silence_timeout_s, 1.0);  // the documented default
  fs::remove_all(dir);
}

}  // namespace
}  // namespace isokin::drivers
