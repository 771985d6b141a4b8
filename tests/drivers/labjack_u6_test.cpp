// The LabJack U6 driver through real libusb against a U6 emulated by umockdev
// (tests/emulators/). The emulator streams a simulated set turned into volts with the inverse
// of the calibration profile; every decoded sample is checked against that source.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <set>
#include <vector>

#include "emulators/u6_emulator.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/acquisition/set_acquisition.h"
#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/labjack_u6.h"
#include "isokin/drivers/registry.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

namespace fs = std::filesystem;
namespace u6 = isokin::drivers::u6;
using isokin::drivers::CalibrationProfile;
using isokin::drivers::DeviceError;
using isokin::drivers::LabJackU6;
using isokin::drivers::LabJackU6Options;
using isokin::drivers::MotionSetpoint;
using isokin::drivers::ReadStatus;
using isokin::drivers::Sample;
using isokin::testing::U6Emulator;
using isokin::testing::U6Fault;
using isokin::testing::U6FaultPlan;

constexpr int kChannels = 3;
constexpr int kSpp = 25;

CalibrationProfile example_profile() {
  return isokin::drivers::load_calibration_profile(fs::path(ISOKIN_SOURCE_DIR) / "profiles" /
                                                   "labjack-u6-biodex-example.json");
}

// The source: a short simulated knee set at the profile's scan rate.
std::vector<Sample> source_set(const CalibrationProfile& profile) {
  isokin::drivers::SimulationSettings settings;
  settings.sample_rate_hz = profile.scan_rate_hz;
  settings.seed = 11;
  MotionSetpoint sp;
  sp.repetitions = 2;
  sp.extension_velocity = sp.flexion_velocity = 180.0;
  return isokin::drivers::simulate_set(settings, sp);
}

std::vector<std::vector<double>> to_volts(const std::vector<Sample>& samples,
                                          const CalibrationProfile& p) {
  std::vector<std::vector<double>> volts;
  volts.reserve(samples.size());
  for (const auto& s : samples) {
    volts.push_back(
        {p.torque.to_volts(s.torque), p.angle.to_volts(s.angle), p.velocity.to_volts(s.velocity)});
  }
  return volts;
}

// Scans the emulator can send in whole packets of 25 samples.
std::size_t scans_in_whole_packets(std::size_t scans) {
  return scans * kChannels / kSpp * kSpp / kChannels;
}

// The most a decoded value can differ from its source, in the channel's units: half a count of
// the ±10 V range (the larger nominal slope) from quantisation, plus the slope's rounding to the
// 2^-32 fixed point the U6 stores it in, times up to 65535 counts.
double half_count(const isokin::drivers::AnalogChannelMap& m) {
  return (0.5 * 3.158058e-4 + 65535.0 * std::ldexp(1.0, -33)) * m.units_per_volt;
}

struct Stream {
  std::vector<Sample> samples;
  std::vector<isokin::drivers::ReadResult> events;  // every non-kOk result, in order
  ReadStatus final_status = ReadStatus::kOk;
};

// Reads until `expected` samples arrived or the stream ended with a fault.
Stream read_stream(LabJackU6& device, std::size_t expected) {
  Stream s;
  std::vector<Sample> buffer(333);  // not a multiple of anything on purpose
  int idle = 0;
  while (s.samples.size() < expected && idle < 100) {
    const auto r = device.read(buffer);
    s.samples.insert(s.samples.end(), buffer.begin(),
                     buffer.begin() + static_cast<std::ptrdiff_t>(r.count));
    idle = r.count > 0 ? 0 : idle + 1;  // 100 empty reads of 50 ms: the stream is stuck
    if (r.status != ReadStatus::kOk) s.events.push_back(r);
    if (r.status == ReadStatus::kDisconnected || r.status == ReadStatus::kError) {
      s.final_status = r.status;
      break;
    }
  }
  return s;
}

class LabJackU6Test : public ::testing::Test {
 protected:
  void SetUp() override {
    profile_ = example_profile();
    source_ = source_set(profile_);
    emulator_.set_source(to_volts(source_, profile_));
  }

  [[nodiscard]] LabJackU6Options options() const {
    LabJackU6Options o;
    o.profile = profile_;
    return o;
  }

  // Every delivered sample equals its source sample (same scan index) to within quantisation,
  // and carries a gap flag exactly when the scan before it was not delivered.
  void expect_matches_source(const std::vector<Sample>& got,
                             const std::set<std::size_t>& missing_scans) {
    const double period = 1.0 / profile_.scan_rate_hz;
    std::size_t previous = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const auto scan = static_cast<std::size_t>(std::llround(got[i].time / period));
      ASSERT_LT(scan, source_.size());
      ASSERT_EQ(missing_scans.count(scan), 0u) << "scan " << scan << " should be missing";
      const Sample& want = source_[scan];
      EXPECT_NEAR(got[i].time, want.time, 1e-9);
      EXPECT_NEAR(got[i].torque, want.torque, half_count(profile_.torque)) << "scan " << scan;
      EXPECT_NEAR(got[i].angle, want.angle, half_count(profile_.angle)) << "scan " << scan;
      EXPECT_NEAR(got[i].velocity, want.velocity, half_count(profile_.velocity)) << "scan " << scan;
      const bool gap = i > 0 ? scan != previous + 1 : scan != 0;
      EXPECT_EQ((got[i].status & isokin::drivers::kStatusGapBefore) != 0, gap) << "scan " << scan;
      if (i > 0) {
        ASSERT_GT(scan, previous);
      }
      previous = scan;
    }
  }

  CalibrationProfile profile_;
  std::vector<Sample> source_;
  U6Emulator emulator_;
};

// Scans with a sample in stream packet `packet` (samples 25·packet … 25·packet + 24).
std::set<std::size_t> scans_touching_packet(std::size_t packet) {
  std::set<std::size_t> s;
  for (std::size_t sample = packet * kSpp; sample < (packet + 1) * kSpp; ++sample) {
    s.insert(sample / kChannels);
  }
  return s;
}

TEST_F(LabJackU6Test, EnumerationFindsTheU6AndItsSerial) {
  const auto devices = isokin::drivers::find_labjack_u6_devices();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].driver, "labjack-u6");
  EXPECT_EQ(devices[0].serial, "360012345");
  EXPECT_NE(devices[0].model.find("U6"), std::string::npos);
  EXPECT_NE(devices[0].model.find("firmware 1.43"), std::string::npos);
  EXPECT_TRUE(devices[0].problem.empty()) << devices[0].problem;
  EXPECT_FALSE(emulator_.state().interface_claimed);  // released after the look

  emulator_.remove_from_bus();
  EXPECT_TRUE(isokin::drivers::find_labjack_u6_devices().empty());
}

TEST_F(LabJackU6Test, OpensBySerialAndSaysWhyAnotherSerialIsNotThere) {
  auto o = options();
  o.serial = "123";
  LabJackU6 wrong(o);
  try {
    wrong.open();
    FAIL() << "opened a U6 with another serial";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("serial 123"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("serial 360012345"), std::string::npos) << e.what();
  }
  o.serial = "360012345";
  LabJackU6 right(o);
  right.open();
  EXPECT_EQ(right.describe().serial, "360012345");
  EXPECT_TRUE(emulator_.state().interface_claimed);
  right.close();
  EXPECT_FALSE(emulator_.state().interface_claimed);
}

TEST_F(LabJackU6Test, NoDeviceIsAClearError) {
  emulator_.remove_from_bus();
  LabJackU6 device(options());
  try {
    device.open();
    FAIL() << "opened a U6 that is not there";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("no U6 (USB 0cd5:0006) is attached"), std::string::npos)
        << e.what();
  }
}

TEST_F(LabJackU6Test, ConfiguresTheStreamFromTheProfile) {
  LabJackU6 device(options());
  device.open();
  device.start();
  const auto state = emulator_.state();
  device.stop();
  ASSERT_TRUE(state.configured);
  EXPECT_TRUE(state.streaming);
  EXPECT_EQ(state.bad_commands, 0u);
  ASSERT_EQ(state.settings.channels.size(), 3u);
  EXPECT_EQ(state.settings.channels[0].channel, profile_.torque.ain);
  EXPECT_EQ(state.settings.channels[1].channel, profile_.angle.ain);
  EXPECT_EQ(state.settings.channels[2].channel, profile_.velocity.ain);
  for (const auto& c : state.settings.channels) EXPECT_EQ(c.gain, u6::Gain::kX1);  // ±10 V
  EXPECT_EQ(state.settings.samples_per_packet, 25);
  EXPECT_DOUBLE_EQ(state.settings.scan_rate_hz, profile_.scan_rate_hz);
  // ConfigU6, the four calibration blocks, StreamStop (clear a stale stream), StreamConfig,
  // StreamStart.
  const std::vector<std::uint8_t> expected{0x08, 0x2D, 0x2D, 0x2D, 0x2D, 0xB0, 0x11, 0xA8};
  EXPECT_EQ(state.commands, expected);
  EXPECT_FALSE(emulator_.state().streaming);  // stop() sent StreamStop
  EXPECT_EQ(emulator_.state().commands.back(), 0xB0);
}

TEST_F(LabJackU6Test, AFullStreamDecodesSampleExactAgainstTheSource) {
  LabJackU6 device(options());
  device.open();
  EXPECT_DOUBLE_EQ(device.describe().sample_rate_hz, 1000.0);
  device.start();
  const std::size_t expected = scans_in_whole_packets(source_.size());
  const auto stream = read_stream(device, expected);
  device.stop();
  ASSERT_EQ(stream.samples.size(), expected);
  EXPECT_TRUE(stream.events.empty());
  expect_matches_source(stream.samples, {});
  const auto health = device.stream_health();
  EXPECT_EQ(health.packets, source_.size() * kChannels / kSpp);  // whole packets only
  EXPECT_EQ(health.lost_packets, 0u);
  EXPECT_EQ(health.corrupt_packets, 0u);
  EXPECT_EQ(health.scans, expected);
}

TEST(LabJackU6Stale, PacketsLeftFromAnEarlierStreamAreDrainedBeforeStarting) {
  isokin::testing::U6EmulatorOptions emulator_options;
  emulator_options.stale_packets = 5;  // counters 101-105: would look like 101 lost packets
  U6Emulator emulator(emulator_options);
  const auto profile = example_profile();
  const auto source = source_set(profile);
  emulator.set_source(to_volts(source, profile));
  LabJackU6Options o;
  o.profile = profile;
  LabJackU6 device(o);
  device.open();
  device.start();
  const std::size_t expected = scans_in_whole_packets(source.size());
  const auto stream = read_stream(device, expected);
  device.stop();
  ASSERT_EQ(stream.samples.size(), expected);
  EXPECT_EQ(device.stream_health().lost_packets, 0u);
  for (std::size_t i = 0; i < expected; ++i) {
    ASSERT_NEAR(stream.samples[i].time, source[i].time, 1e-9);
    ASSERT_NEAR(stream.samples[i].torque, source[i].torque, half_count(profile.torque));
  }
}

TEST_F(LabJackU6Test, SmallPacketsOnePerTransferDecodeTheSame) {
  // 9 samples per packet (32-byte packets: each one ends its transfer).
  auto o = options();
  o.samples_per_packet = 9;
  LabJackU6 device(o);
  device.open();
  device.start();
  EXPECT_EQ(emulator_.state().settings.samples_per_packet, 9);
  const std::size_t expected = source_.size() * kChannels / 9 * 9 / kChannels;
  const auto stream = read_stream(device, expected);
  device.stop();
  ASSERT_EQ(stream.samples.size(), expected);
  expect_matches_source(stream.samples, {});
  EXPECT_EQ(device.stream_health().packets, source_.size() * kChannels / 9);
  EXPECT_EQ(device.stream_health().lost_packets, 0u);
}

TEST_F(LabJackU6Test, CorruptChecksumDropsThatPacketsScansAndMarksTheGap) {
  emulator_.add_fault({U6Fault::kCorruptChecksum, 10});
  LabJackU6 device(options());
  device.open();
  device.start();
  const auto missing = scans_touching_packet(10);
  const std::size_t expected = scans_in_whole_packets(source_.size()) - missing.size();
  const auto stream = read_stream(device, expected);
  device.stop();
  ASSERT_EQ(stream.samples.size(), expected);
  expect_matches_source(stream.samples, missing);
  EXPECT_EQ(device.stream_health().corrupt_packets, 1u);
  EXPECT_EQ(device.stream_health().lost_packets, 1u);
}

TEST_F(LabJackU6Test, ShortPacketIsDroppedLikeALostOne) {
  emulator_.add_fault({U6Fault::kShortPacket, 7});
  LabJackU6 device(options());
  device.open();
  device.start();
  const auto missing = scans_touching_packet(7);
  const std::size_t expected = scans_in_whole_packets(source_.size()) - missing.size();
  const auto stream = read_stream(device, expected);
  device.stop();
  ASSERT_EQ(stream.samples.size(), expected);
  expect_matches_source(stream.samples, missing);
  EXPECT_EQ(device.stream_health().short_packets, 1u);
  EXPECT_EQ(device.stream_health().lost_packets, 1u);
}

TEST_F(LabJackU6Test, BacklogOverflowSkipsTheDiscardedScansInTime) {
  // Packets 20-22 drain the FIFO (error 59), packet 23 reports 40 discarded scans (60) and
  // holds the dummy scan at its first scan boundary: sample 23 × 25 = 575 falls in scan 191,
  // so scans 192 … 231 never reach the host.
  U6FaultPlan plan{U6Fault::kOverflow, 20};
  plan.discarded_scans = 40;
  plan.recovery_packets = 3;
  emulator_.add_fault(plan);
  std::set<std::size_t> missing;
  for (std::size_t s = 192; s < 232; ++s) missing.insert(s);
  // The emulator sends whole packets only: the dummy scan (3 samples) replaces 40 source scans.
  const std::size_t sent_samples = (source_.size() - 40 + 1) * kChannels / kSpp * kSpp;
  const std::size_t expected = sent_samples / kChannels - 1;  // less the dummy
  LabJackU6 device(options());
  device.open();
  device.start();
  const auto stream = read_stream(device, expected);
  device.stop();
  ASSERT_EQ(stream.samples.size(), expected);
  expect_matches_source(stream.samples, missing);
  const auto health = device.stream_health();
  EXPECT_EQ(health.overflows, 1u);
  EXPECT_EQ(health.discarded_scans, 40u);
  EXPECT_EQ(health.lost_packets, 0u);
  EXPECT_EQ(health.max_backlog, 255);
}

TEST_F(LabJackU6Test, HotUnplugKeepsEverySampleBeforeAndSaysSo) {
  emulator_.add_fault({U6Fault::kUnplug, 30});
  LabJackU6 device(options());
  device.open();
  device.start();
  const auto stream = read_stream(device, source_.size());
  device.stop();
  device.close();
  EXPECT_EQ(stream.final_status, ReadStatus::kDisconnected);
  ASSERT_FALSE(stream.events.empty());
  EXPECT_NE(stream.events.back().message.find("unplugged"), std::string::npos)
      << stream.events.back().message;
  // Packets 0-29 arrived: 750 samples = 250 whole scans, all of them delivered.
  ASSERT_EQ(stream.samples.size(), 250u);
  expect_matches_source(stream.samples, {});
}

TEST_F(LabJackU6Test, StalledEndpointIsAnErrorAfterTheDeliveredSamples) {
  emulator_.add_fault({U6Fault::kStall, 30});
  LabJackU6 device(options());
  device.open();
  device.start();
  const auto stream = read_stream(device, source_.size());
  device.stop();
  EXPECT_EQ(stream.final_status, ReadStatus::kError);
  ASSERT_FALSE(stream.events.empty());
  EXPECT_NE(stream.events.back().message.find("stalled"), std::string::npos)
      << stream.events.back().message;
  ASSERT_EQ(stream.samples.size(), 250u);
  expect_matches_source(stream.samples, {});
}

TEST_F(LabJackU6Test, SilenceIsReportedAsTimeoutAndTheStreamCarriesOn) {
  U6FaultPlan plan{U6Fault::kSilence, 15};
  plan.silence = std::chrono::milliseconds(700);
  emulator_.add_fault(plan);
  auto o = options();
  o.transfer_timeout_ms = 200;
  LabJackU6 device(o);
  device.open();
  device.start();
  const std::size_t expected = scans_in_whole_packets(source_.size());
  const auto stream = read_stream(device, expected);
  device.stop();
  ASSERT_FALSE(stream.events.empty());
  EXPECT_EQ(stream.events.front().status, ReadStatus::kTimeout);
  EXPECT_NE(stream.events.front().message.find("no stream data for 200 ms"), std::string::npos);
  EXPECT_GE(device.stream_health().timeouts, 1u);
  // Nothing was lost: the device had simply stopped sending.
  ASSERT_EQ(stream.samples.size(), expected);
  expect_matches_source(stream.samples, {});
}

TEST_F(LabJackU6Test, ScanOverlapMarksThatPacketsSamplesCorrupt) {
  emulator_.add_fault({U6Fault::kScanOverlap, 5});
  LabJackU6 device(options());
  device.open();
  device.start();
  const std::size_t expected = scans_in_whole_packets(source_.size());
  const auto stream = read_stream(device, expected);
  device.stop();
  ASSERT_EQ(stream.samples.size(), expected);
  expect_matches_source(stream.samples, {});
  const auto flagged = scans_touching_packet(5);
  for (std::size_t i = 0; i < stream.samples.size(); ++i) {
    EXPECT_EQ((stream.samples[i].status & isokin::drivers::kStatusCorrupt) != 0,
              flagged.count(i) == 1)
        << "scan " << i;
  }
}

TEST_F(LabJackU6Test, RecordingThroughUsbAnalysesLikeTheSource) {
  const fs::path dir = fs::temp_directory_path() / ("isokin-usb-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "usb.h5";

  isokin::drivers::DeviceOptions device_options;
  device_options.profile =
      (fs::path(ISOKIN_SOURCE_DIR) / "profiles" / "labjack-u6-biodex-example.json").string();
  const auto device = isokin::drivers::make_device("labjack-u6", device_options);
  device->open();
  isokin::acquisition::SessionInfo info;
  info.created_utc = "2026-11-25T12:00:00Z";
  info.software = "usb_test";
  info.device = device->describe();
  isokin::acquisition::SetInfo set;
  MotionSetpoint sp;
  sp.repetitions = 2;
  sp.extension_velocity = sp.flexion_velocity = 180.0;
  set.setpoint = sp;
  const std::size_t expected = scans_in_whole_packets(source_.size());
  std::atomic<bool> stop{false};
  std::size_t recorded = 0;
  {
    isokin::acquisition::SessionWriter writer(file, info);
    const auto stats =
        isokin::acquisition::acquire_set(*device, writer, set, {[&](std::span<const Sample> got) {
          recorded += got.size();
          if (recorded >= expected) stop = true;
        }},
                                         &stop);
    EXPECT_EQ(stats.sample_count, expected);
    EXPECT_EQ(stats.dropped_samples, 0u);
    writer.finish();
  }
  device->close();

  const auto session = isokin::acquisition::read_session(file);
  ASSERT_EQ(session.sets.size(), 1u);
  EXPECT_EQ(session.info.device.driver, "labjack-u6");
  EXPECT_EQ(session.info.device.serial, "360012345");
  const auto& usb = session.sets[0];
  ASSERT_EQ(usb.signals.size(), expected);

  isokin::acquisition::RecordedSet truth;
  truth.info = set;
  for (std::size_t i = 0; i < expected; ++i) truth.signals.append(source_[i]);
  const isokin::analysis::AnalysisSettings settings;
  const auto a = isokin::analysis::analyze_set(usb, settings, 0.0, profile_.scan_rate_hz);
  const auto b = isokin::analysis::analyze_set(truth, settings, 0.0, profile_.scan_rate_hz);
  // Each torque sample differs by at most half a count (0.0079 N·m); the zero-phase filter's
  // gain is at most 1 at any frequency, so filtered values move by no more than that plus the
  // filter's overshoot on a step (< 10 %). Peak and work bounds follow.
  const double torque_tol = 1.1 * half_count(profile_.torque);
  ASSERT_EQ(a.extension.repetitions.size(), b.extension.repetitions.size());
  ASSERT_EQ(a.flexion.repetitions.size(), b.flexion.repetitions.size());
  ASSERT_EQ(a.extension.repetitions.size(), 2u);
  EXPECT_NEAR(a.extension.peak_torque, b.extension.peak_torque, torque_tol);
  EXPECT_NEAR(a.flexion.peak_torque, b.flexion.peak_torque, torque_tol);
  EXPECT_NEAR(a.hq_ratio, b.hq_ratio, 1e-4);
  // Work: |Δτ| ≤ tol over a range of at most 95° (1.66 rad), plus the angle quantisation.
  EXPECT_NEAR(a.extension.total_work, b.extension.total_work, 2 * (torque_tol * 1.66 + 0.01));
  EXPECT_NEAR(a.extension.angle_at_peak, b.extension.angle_at_peak, 1.0);
  fs::remove_all(dir);
}

TEST_F(LabJackU6Test, FaultsDuringARecordingEndUpInTheSessionFile) {
  // A corrupt packet (10) then an unplug (30), recorded the way `isokin run` records a set.
  emulator_.add_fault({U6Fault::kCorruptChecksum, 10});
  emulator_.add_fault({U6Fault::kUnplug, 30});
  const fs::path dir =
      fs::temp_directory_path() / ("isokin-usb-faults-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "unplugged.h5";
  LabJackU6 device(options());
  device.open();
  isokin::acquisition::SessionInfo info;
  info.created_utc = "2026-11-25T12:00:00Z";
  info.software = "usb_test";
  info.device = device.describe();
  {
    isokin::acquisition::SessionWriter writer(file, info);
    const auto stats = isokin::acquisition::acquire_set(device, writer, {});
    EXPECT_FALSE(stats.complete);
    EXPECT_NE(stats.end_reason.find("disconnected: labjack-u6 serial 360012345 was unplugged"),
              std::string::npos)
        << stats.end_reason;
    writer.finish();
  }
  device.close();

  const auto session = isokin::acquisition::read_session(file);
  ASSERT_EQ(session.sets.size(), 1u);
  const auto& set = session.sets[0];
  EXPECT_FALSE(set.stats.complete);
  EXPECT_NE(set.stats.end_reason.find("unplugged"), std::string::npos);
  // Packets 0-29 arrived, packet 10 corrupt: 250 scans less the 9 that touch packet 10.
  const auto missing = scans_touching_packet(10);
  ASSERT_EQ(set.signals.size(), 250u - missing.size());
  std::vector<Sample> recorded;
  for (std::size_t i = 0; i < set.signals.size(); ++i) {
    recorded.push_back({set.signals.time[i], set.signals.torque[i], set.signals.angle[i],
                        set.signals.velocity[i], set.signals.status[i]});
  }
  expect_matches_source(recorded, missing);
  bool gap_event = false;
  for (const auto& e : session.events) {
    if (e.kind == "gap" &&
        e.detail.find("1 gaps in the device clock, first at 0.0920 s") != std::string::npos) {
      gap_event = true;  // scan 92, the first after the lost ones (83-91), at 1 kHz
    }
  }
  EXPECT_TRUE(gap_event);
  // The driver's own account of what happened, in order, in the set's event log.
  std::vector<std::string> device_events;
  for (const auto& e : session.events) {
    if (e.kind.rfind("device-", 0) == 0) device_events.push_back(e.kind + ": " + e.detail);
  }
  ASSERT_EQ(device_events.size(), 3u);
  EXPECT_EQ(device_events[0],
            "device-corrupt-packet: 1 stream packet(s) with a bad checksum or header dropped");
  EXPECT_EQ(device_events[1],
            "device-lost-packets: 1 packet(s) (25 samples) missing from the stream; the next "
            "sample is flagged as after a gap");
  EXPECT_NE(device_events[2].find("device-disconnected: labjack-u6 serial 360012345 was unplugged"),
            std::string::npos)
      << device_events[1];
  fs::remove_all(dir);
}

TEST(LabJackProfile, BadProfilesNameTheFileAndTheField) {
  const auto bad = [](const char* json) {
    try {
      isokin::drivers::parse_calibration_profile(json, "lab.json");
    } catch (const DeviceError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(bad("{").find("lab.json: not valid JSON"), std::string::npos);
  // A number beyond a double is nlohmann's out_of_range, not parse_error (found by fuzz_profile).
  EXPECT_NE(bad(R"({"scan_rate_hz": 1111e1000})").find("lab.json: not valid JSON"),
            std::string::npos);
  EXPECT_NE(bad(R"({"format": "other", "version": 1})").find("not an isokin LabJack profile"),
            std::string::npos);
  // Keys of another type (found reading the loader for fuzz_profile): DeviceErrors too.
  EXPECT_NE(bad(R"({"format": 1, "version": "1"})").find("not an isokin LabJack profile"),
            std::string::npos);
  EXPECT_EQ(bad(R"({"format": "isokin-labjack-profile", "version": 1, "name": 5})"),
            "lab.json: name must be a string");
  const std::string head =
      R"({"format": "isokin-labjack-profile", "version": 1, "scan_rate_hz": 1000, )";
  EXPECT_NE(bad((head + R"("channels": {"torque": {"ain": 0, "units_per_volt": 1}}})").c_str())
                .find("channels.angle is missing"),
            std::string::npos);
  const std::string two =
      R"("angle": {"ain": 1, "units_per_volt": 1}, "velocity": {"ain": 2, "units_per_volt": 1}}})";
  EXPECT_NE(
      bad((head + R"("channels": {"torque": {"ain": 0, "units_per_volt": 1, "range_volts": 5}, )" +
           two)
              .c_str())
          .find("lab.json: channels.torque.range_volts must be 10, 1, 0.1 or 0.01 (got 5)"),
      std::string::npos);
  EXPECT_NE(
      bad((head + R"("channels": {"torque": {"ain": 0, "units_per_volt": 1, "sign": 2}, )" + two)
              .c_str())
          .find("channels.torque.sign must be 1 or -1"),
      std::string::npos);
  EXPECT_NE(
      bad((head +
           R"("channels": {"torque": {"ain": 1, "units_per_volt": 1, "differential": true}, )" +
           two)
              .c_str())
          .find("even AIN"),
      std::string::npos);
  EXPECT_EQ(
      bad((head + R"("channels": {"torque": {"ain": 0, "units_per_volt": -50}, )" + two).c_str()),
      "accepted");
}

TEST(LabJackProfile, TheRegistryWantsAProfile) {
  try {
    (void)isokin::drivers::make_device("labjack-u6", {});
    FAIL() << "made a labjack-u6 without a profile";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("--profile"), std::string::npos);
  }
}

}  // namespace
