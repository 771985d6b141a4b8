// One set through the real path: driver thread -> SPSC ring -> HDF5 writer, then read back.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "isokin/acquisition/session_file.h"
#include "isokin/acquisition/set_acquisition.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
using namespace isokin::drivers;

class SetAcquisition : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-acq-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

SessionInfo session_info(const Device& device) {
  SessionInfo info;
  info.created_utc = "2026-11-25T12:00:00Z";
  info.software = "isokin test";
  info.subject.id = "S-01";
  info.subject.body_mass_kg = 70.0;
  info.device = device.describe();
  return info;
}

TEST_F(SetAcquisition, RecordsEverySampleBitForBit) {
  SimulationSettings settings;
  settings.seed = 3;
  MotionSetpoint sp;
  sp.repetitions = 3;
  SimulatedDynamometer sim(settings);
  sim.open();
  const fs::path file = dir_ / "s.h5";
  std::size_t seen_by_sink = 0;
  {
    SessionWriter writer(file, session_info(sim));
    SetInfo set;
    set.setpoint = sp;
    const SetStats stats = acquire_set(
        sim, writer, set, {[&](std::span<const Sample> s) { seen_by_sink += s.size(); }});
    EXPECT_TRUE(stats.complete);
    EXPECT_EQ(stats.dropped_samples, 0U);
    EXPECT_EQ(stats.end_reason, "end of stream");
    writer.finish();
  }
  const auto expected = simulate_set(settings, sp);
  const Session session = read_session(file);
  ASSERT_EQ(session.sets.size(), 1U);
  const auto& sig = session.sets[0].signals;
  ASSERT_EQ(sig.size(), expected.size());
  EXPECT_EQ(seen_by_sink, expected.size());
  EXPECT_EQ(session.sets[0].stats.sample_count, expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(sig.time[i], expected[i].time);
    ASSERT_EQ(sig.torque[i], expected[i].torque);
    ASSERT_EQ(sig.angle[i], expected[i].angle);
    ASSERT_EQ(sig.velocity[i], expected[i].velocity);
    ASSERT_EQ(sig.status[i], expected[i].status);
  }
}

// A device that keeps delivering small blocks, like a USB box streaming at its own pace.
class PacedDevice final : public Device {
 public:
  static constexpr std::size_t kBlock = 64;
  static constexpr std::size_t kReads = 1000;
  DeviceDescription describe() const override { return {"paced", "test", "0", 1000.0, {}, {}}; }
  void open() override {}
  bool apply(const MotionSetpoint&) override { return false; }
  void start() override {}
  ReadResult read(std::span<Sample> out) override {
    if (reads_ == kReads) return {0, ReadStatus::kEndOfStream, {}};
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    const std::size_t n = std::min(out.size(), kBlock);
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = Sample{static_cast<double>(produced_ + i) / 1000.0, 0.0, 0.0, 0.0, 0};
    }
    produced_ += n;
    ++reads_;
    return {n, ReadStatus::kOk, {}};
  }
  void stop() override {}
  void close() override {}
  std::size_t produced() const { return produced_; }

 private:
  std::size_t reads_ = 0;
  std::size_t produced_ = 0;
};

TEST_F(SetAcquisition, StalledConsumerDropsAreCountedMarkedAndRecorded) {
  PacedDevice device;
  const fs::path file = dir_ / "drops.h5";
  AcquisitionOptions options;
  options.ring_capacity = 1024;
  SetStats stats;
  {
    SessionWriter writer(file, session_info(device));
    bool stalled = false;
    // The first delivery stalls long enough for the driver to overrun a 1024-sample ring;
    // afterwards the consumer keeps up again.
    const SampleSink slow = [&](std::span<const Sample>) {
      if (!stalled) {
        stalled = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    };
    stats = acquire_set(device, writer, SetInfo{}, {slow}, nullptr, options);
    writer.finish();
  }
  EXPECT_TRUE(stats.complete);
  EXPECT_GT(stats.dropped_samples, 0U);
  EXPECT_EQ(stats.sample_count + stats.dropped_samples, device.produced());
  const Session session = read_session(file);
  const auto& set = session.sets.at(0);
  EXPECT_EQ(set.stats.dropped_samples, stats.dropped_samples);
  EXPECT_EQ(set.signals.size(), stats.sample_count);
  // Every lost stretch is marked on the sample right after it, and only there.
  std::uint64_t lost = 0;
  std::size_t gaps = 0;
  for (std::size_t i = 1; i < set.signals.size(); ++i) {
    const auto missing = static_cast<std::uint64_t>(std::llround(
                             (set.signals.time[i] - set.signals.time[i - 1]) * 1000.0)) -
                         1;
    const bool marked = (set.signals.status[i] & kStatusGapBefore) != 0;
    EXPECT_EQ(marked, missing > 0) << "sample " << i;
    lost += missing;
    gaps += marked ? 1 : 0;
  }
  EXPECT_GE(gaps, 1U);
  // Samples lost after the last recorded one (if any) are counted but cannot be marked.
  const auto tail = static_cast<std::uint64_t>(device.produced()) - 1 -
                    static_cast<std::uint64_t>(std::llround(set.signals.time.back() * 1000.0));
  EXPECT_EQ(lost + tail, stats.dropped_samples);
}

// A device that delivers some samples and then disappears.
class VanishingDevice final : public Device {
 public:
  DeviceDescription describe() const override { return {"vanishing", "test", "0", 1000.0, {}, {}}; }
  void open() override {}
  bool apply(const MotionSetpoint&) override { return false; }
  void start() override {}
  ReadResult read(std::span<Sample> out) override {
    if (delivered_ >= 2500) return {0, ReadStatus::kDisconnected, "USB device removed"};
    const std::size_t n = std::min<std::size_t>(out.size(), 2500 - delivered_);
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = Sample{static_cast<double>(delivered_ + i) / 1000.0, 1.0, 2.0, 3.0, 0};
    }
    delivered_ += n;
    return {n, ReadStatus::kOk, {}};
  }
  void stop() override {}
  void close() override {}

 private:
  std::size_t delivered_ = 0;
};

TEST_F(SetAcquisition, DeviceVanishingMidSetKeepsWhatWasRecorded) {
  VanishingDevice device;
  const fs::path file = dir_ / "vanish.h5";
  SetStats stats;
  {
    SessionWriter writer(file, session_info(device));
    stats = acquire_set(device, writer, SetInfo{});
  }  // no finish(): the session stays incomplete
  EXPECT_FALSE(stats.complete);
  EXPECT_NE(stats.end_reason.find("USB device removed"), std::string::npos);
  const Session session = read_session(file);
  EXPECT_FALSE(session.complete);
  ASSERT_EQ(session.sets.size(), 1U);
  EXPECT_EQ(session.sets[0].signals.size(), 2500U);
  EXPECT_FALSE(session.sets[0].stats.complete);
  EXPECT_NE(session.sets[0].stats.end_reason.find("disconnected"), std::string::npos);
}

// A device clock that jumps (forward 5 s, then back 2 s: a reset or a resync) is recorded as it
// came, every sample kept, and the jumps are written as one "gap" event that counts both.
class JumpingClockDevice final : public Device {
 public:
  DeviceDescription describe() const override { return {"jumping", "test", "0", 1000.0, {}, {}}; }
  void open() override {}
  bool apply(const MotionSetpoint&) override { return false; }
  void start() override {}
  ReadResult read(std::span<Sample> out) override {
    if (delivered_ >= 3000) return {0, ReadStatus::kEndOfStream, {}};
    const std::size_t n = std::min<std::size_t>(out.size(), 3000 - delivered_);
    for (std::size_t i = 0; i < n; ++i) out[i] = Sample{time_of(delivered_ + i), 1.0, 2.0, 3.0, 0};
    delivered_ += n;
    return {n, ReadStatus::kOk, {}};
  }
  void stop() override {}
  void close() override {}
  static double time_of(std::size_t i) {
    const double t = static_cast<double>(i) / 1000.0;
    return i < 1000 ? t : i < 2000 ? t + 5.0 : t + 3.0;
  }

 private:
  std::size_t delivered_ = 0;
};

TEST_F(SetAcquisition, DeviceClockJumpsAreKeptAndRecordedAsEvents) {
  JumpingClockDevice device;
  const fs::path file = dir_ / "jumps.h5";
  {
    SessionWriter writer(file, session_info(device));
    const SetStats stats = acquire_set(device, writer, SetInfo{});
    EXPECT_TRUE(stats.complete);
    writer.finish();
  }
  const Session session = read_session(file);
  ASSERT_EQ(session.sets.size(), 1U);
  const auto& time = session.sets[0].signals.time;
  ASSERT_EQ(time.size(), 3000U);
  for (std::size_t i = 0; i < time.size(); ++i) ASSERT_EQ(time[i], JumpingClockDevice::time_of(i));
  const auto gap = std::find_if(session.events.begin(), session.events.end(),
                                [](const Event& e) { return e.kind == "gap"; });
  ASSERT_NE(gap, session.events.end());
  // Forward at sample 1000 (to 6.000 s), backward at sample 2000 (to 5.000 s).
  EXPECT_NE(gap->detail.find("2 gaps in the device clock, first at 6.0000 s"), std::string::npos)
      << gap->detail;
}

TEST_F(SetAcquisition, StopRequestEndsTheSetAsAborted) {
  SimulationSettings settings;
  settings.realtime = true;  // so the stop arrives mid-set
  SimulatedDynamometer sim(settings);
  sim.open();
  std::atomic<bool> stop{false};
  const fs::path file = dir_ / "abort.h5";
  SessionWriter writer(file, session_info(sim));
  SetInfo set;
  std::size_t seen = 0;
  const SetStats stats = acquire_set(sim, writer, set, {[&](std::span<const Sample> s) {
                                       seen += s.size();
                                       if (seen > 200) stop = true;
                                     }},
                                     &stop);
  writer.finish();
  EXPECT_FALSE(stats.complete);
  EXPECT_EQ(stats.end_reason, "aborted");
  EXPECT_LT(stats.sample_count, sim.ground_truth().back().sample_count);
  EXPECT_EQ(read_session(file).sets.at(0).signals.size(), stats.sample_count);
}

}  // namespace
