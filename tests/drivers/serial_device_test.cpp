// The serial driver end to end: frames written into a real pseudo-terminal, read by the real
// driver (Boost.Asio on its own thread) through Device::read(). Expected values come from the
// lab's own calibrated file, or from the profile's formulas applied here by hand.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <cstdlib>  // mkdtemp

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "isokin/drivers/registry.h"
#include "isokin/drivers/serial_device.h"
#include "support/pty_pair.h"
#include "support/realdata.h"

namespace isokin::drivers {
namespace {

namespace fs = std::filesystem;
using test::PtyPair;

const fs::path kProfiles = fs::path(ISOKIN_SOURCE_DIR) / "profiles";
const fs::path kLabData = fs::path(ISOKIN_SHARED_DIR) / "realdata/biodex-system2-analog-adc";

SerialProfile biodex_profile() {
  return load_serial_profile(kProfiles / "biodex2-adc.json");
}

// Polls a condition the driver's thread makes true; false after 10 s (a hang, not a speed test).
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Reads until n samples arrived or the device reports anything but data and timeouts, or 20
// timeouts in a row.
std::vector<Sample> read_samples(Device& device, std::size_t n, ReadResult* last = nullptr) {
  std::vector<Sample> all;
  std::vector<Sample> buffer(64);
  int timeouts = 0;
  while (all.size() < n && timeouts < 20) {
    const ReadResult r = device.read(buffer);
    all.insert(all.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(r.count));
    if (last != nullptr) *last = r;
    if (r.status == ReadStatus::kTimeout) {
      ++timeouts;
    } else if (r.status != ReadStatus::kOk) {
      break;
    } else {
      timeouts = 0;
    }
  }
  return all;
}

std::string ascii_frame(int torque, int velocity, int angle) {
  return fmt::format("{:04d};{:04d};{:04d};\r\n", torque, velocity, angle);
}

// The lab's formulas (README of the recording), with isokin's sign for torque.
double torque_of(int c) {
  return -(1.04 * c - 552.0);
}
double velocity_of(int c) {
  return 0.883 * c - 459.0;
}
double angle_of(int c) {
  return 0.363 * c - 99.3;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "isokin-serial-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<std::array<int, 3>> read_raw_counts(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::array<int, 3>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::array<int, 3> row{};
    char comma1 = 0;
    char comma2 = 0;
    std::istringstream fields(line);
    fields >> row[0] >> comma1 >> row[1] >> comma2 >> row[2];
    if (!fields || comma1 != ',' || comma2 != ',') throw std::runtime_error("bad row: " + line);
    rows.push_back(row);
  }
  return rows;
}

// test.txt: "torque;velocity;angle" with decimal commas.
std::vector<std::array<double, 3>> read_lab_values(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::array<double, 3>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    for (char& c : line) {
      if (c == ',') c = '.';
      if (c == ';') c = ' ';
    }
    std::array<double, 3> row{};
    std::istringstream fields(line);
    fields >> row[0] >> row[1] >> row[2];
    if (!fields) throw std::runtime_error("bad row: " + line);
    rows.push_back(row);
  }
  return rows;
}

// The lab's recording, turned back into the board's frames, through a pty into the real driver.
// Compared: for every row i, the driver's sample i against the lab's calibrated row i after the
// profile's sign map (torque × −1; velocity and angle × +1), each to 1e-9; time = i / 1000 s.
TEST(SerialDeviceLabReplay, ReproducesTheLabsCalibratedFileThroughAPty) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  const auto raw = read_raw_counts(kLabData / "Armin_Messung");
  const auto lab = read_lab_values(kLabData / "test.txt");
  ASSERT_EQ(raw.size(), 1427U);
  ASSERT_EQ(lab.size(), raw.size());

  PtyPair pty;
  SerialDevice device(biodex_profile(), pty.slave_path());
  device.open();
  device.start();
  std::string stream;
  for (const auto& row : raw) stream += ascii_frame(row[0], row[1], row[2]);
  std::thread writer([&] { pty.write(stream); });
  const auto samples = read_samples(device, raw.size());
  writer.join();

  ASSERT_EQ(samples.size(), raw.size());
  double largest = 0.0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    largest = std::max({largest, std::abs(s.torque + lab[i][0]), std::abs(s.velocity - lab[i][1]),
                        std::abs(s.angle - lab[i][2])});
    EXPECT_NEAR(s.torque, -lab[i][0], 1e-9) << "row " << i + 1;
    EXPECT_NEAR(s.velocity, lab[i][1], 1e-9) << "row " << i + 1;
    EXPECT_NEAR(s.angle, lab[i][2], 1e-9) << "row " << i + 1;
    EXPECT_NEAR(s.time, static_cast<double>(i) * 1e-3, 1e-12) << "row " << i + 1;
    EXPECT_EQ(s.status, kStatusOk) << "row " << i + 1;
  }
  RecordProperty("largest_difference_from_lab", fmt::format("{:.3g}", largest));
  const auto counters = device.counters();
  EXPECT_EQ(counters.decoder.frames, raw.size());
  EXPECT_EQ(counters.decoder.discarded_bytes, 0U);
  EXPECT_EQ(counters.samples_overflowed, 0U);
  EXPECT_EQ(counters.bytes_received, stream.size());
  device.stop();
  device.close();
}

// The sign map checked on the data itself: after it, velocity has the sign of d(angle)/dt
// (isokin: velocity = d(angle)/dt), and the torque while the knee extends (angle falling) is
// an extensor moment, positive.
TEST(SerialDeviceLabReplay, SignMapGivesIsokinsConventionOnTheLabsData) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  const auto raw = read_raw_counts(kLabData / "Armin_Messung");
  PtyPair pty;
  SerialDevice device(biodex_profile(), pty.slave_path());
  device.open();
  device.start();
  std::string stream;
  for (const auto& row : raw) stream += ascii_frame(row[0], row[1], row[2]);
  std::thread writer([&] { pty.write(stream); });
  const auto s = read_samples(device, raw.size());
  writer.join();
  ASSERT_EQ(s.size(), raw.size());

  int moving = 0;
  int agreeing = 0;
  double extending_torque = 0.0;
  int extending = 0;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    if (std::abs(s[i].velocity) < 30.0) continue;  // clearly moving only
    const double slope = s[i + 1].angle - s[i - 1].angle;
    ++moving;
    if ((slope > 0) == (s[i].velocity > 0)) ++agreeing;
    if (s[i].velocity < 0) {
      extending_torque += s[i].torque;
      ++extending;
    }
  }
  ASSERT_GT(moving, 500);
  EXPECT_GT(agreeing, moving * 99 / 100);
  ASSERT_GT(extending, 100);
  EXPECT_GT(extending_torque / extending, 20.0);  // N·m, extensors working
}

TEST(SerialDevice, FramesSplitAtEveryBytePositionArriveWhole) {
  PtyPair pty;
  SerialDevice device(biodex_profile(), pty.slave_path());
  device.open();
  device.start();
  const std::size_t frame_size = ascii_frame(0, 0, 0).size();
  std::size_t sent = 0;
  for (std::size_t cut = 0; cut <= frame_size; ++cut) {
    const int k = static_cast<int>(cut);
    const std::string frame = ascii_frame(500 + k, 510 + k, 100 + k);
    pty.write(frame.substr(0, cut));
    sent += cut;
    // The first part has reached the driver before the rest is written.
    ASSERT_TRUE(eventually([&] { return device.counters().bytes_received == sent; }));
    pty.write(frame.substr(cut));
    sent += frame.size() - cut;
  }
  const auto samples = read_samples(device, frame_size + 1);
  ASSERT_EQ(samples.size(), frame_size + 1);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const int k = static_cast<int>(i);
    EXPECT_DOUBLE_EQ(samples[i].torque, torque_of(500 + k));
    EXPECT_DOUBLE_EQ(samples[i].velocity, velocity_of(510 + k));
    EXPECT_DOUBLE_EQ(samples[i].angle, angle_of(100 + k));
    EXPECT_EQ(samples[i].status, kStatusOk);
  }
  EXPECT_EQ(device.counters().decoder.discarded_bytes, 0U);
}

TEST(SerialDevice, GarbageAndTruncatedFramesAreSkippedAndMarked) {
  PtyPair pty;
  SerialDevice device(biodex_profile(), pty.slave_path());
  device.open();
  device.start();
  pty.write(ascii_frame(531, 519, 300));
  pty.write("\x13\x37garbage\xff\r\n");  // line noise with a line end
  pty.write(ascii_frame(532, 519, 301));
  pty.write("0531;05");                   // truncated: the board reset mid-frame
  pty.write(ascii_frame(533, 519, 302));  // ... so this frame is lost with it
  pty.write(ascii_frame(534, 519, 303));
  pty.write(std::string(300, '\0') + "\r\n");  // a long run of garbage
  pty.write(ascii_frame(1023, 519, 0));        // clipped torque and angle
  const auto samples = read_samples(device, 4);
  ASSERT_EQ(samples.size(), 4U);
  EXPECT_DOUBLE_EQ(samples[0].angle, angle_of(300));
  EXPECT_DOUBLE_EQ(samples[1].angle, angle_of(301));
  EXPECT_DOUBLE_EQ(samples[2].angle, angle_of(303));
  EXPECT_DOUBLE_EQ(samples[3].torque, torque_of(1023));
  EXPECT_EQ(samples[0].status, kStatusOk);
  EXPECT_EQ(samples[1].status, kStatusGapBefore);
  EXPECT_EQ(samples[2].status, kStatusGapBefore);
  EXPECT_EQ(samples[3].status, kStatusGapBefore | kStatusTorqueClipped | kStatusAngleClipped);
  // ASCII frames carry no sequence number: time counts the frames decoded.
  EXPECT_DOUBLE_EQ(samples[3].time, 3e-3);
  const auto counters = device.counters();
  EXPECT_EQ(counters.decoder.malformed, 3U);
  EXPECT_EQ(counters.decoder.discarded_bytes, 12U + 7U + 17U + 302U);
}

TEST(SerialDevice, NothingArrivingIsATimeoutAndAnAbsentPortAnError) {
  PtyPair pty;
  auto profile = biodex_profile();
  profile.timeout_s = 0.02;
  SerialDevice device(profile, pty.slave_path());
  device.open();
  device.start();
  std::vector<Sample> buffer(8);
  const ReadResult r = device.read(buffer);
  EXPECT_EQ(r.status, ReadStatus::kTimeout);
  EXPECT_EQ(r.count, 0U);
  device.close();

  SerialDevice absent(profile, "/dev/isokin-no-such-port");
  try {
    absent.open();
    FAIL() << "opened a port that does not exist";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/isokin-no-such-port"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("biodex2-adc"), std::string::npos) << e.what();
  }
}

// A vanished pty cannot come back under its own path, but a USB-serial adapter can (udev gives
// it the same name, or a stable /dev/serial/by-id link). So the driver opens a symbolic link;
// the board "vanishes" when the test closes the pty, and "returns" as a new pty that the link is
// re-pointed to. The driver sees what it would see with hardware: EIO, then open() failing,
// then the path opening again.
TEST(SerialDevice, PortVanishingIsReportedAndTheDriverReconnectsWhenItReturns) {
  TempDir dir;
  const fs::path link = dir.path() / "ttyISOKIN";
  auto first = std::make_unique<PtyPair>();
  fs::create_symlink(first->slave_path(), link);
  auto profile = biodex_profile();
  profile.timeout_s = 0.05;
  profile.reconnect_interval_s = 0.01;
  SerialDevice device(profile, link.string());
  device.open();
  device.start();
  for (int i = 0; i < 10; ++i) first->write(ascii_frame(600 + i, 519, 200 + i));
  const auto before = read_samples(device, 10);
  ASSERT_EQ(before.size(), 10U);

  // Unplugged: the terminal closes and its device node goes away. (Leaving the link would let
  // the pty number be reused by another process's new terminal, which the driver would open.)
  first->close();
  fs::remove(link);
  ReadResult last;
  const auto none = read_samples(device, 1, &last);
  EXPECT_TRUE(none.empty());
  ASSERT_EQ(last.status, ReadStatus::kDisconnected);
  EXPECT_NE(last.message.find(link.string()), std::string::npos) << last.message;
  // While it is gone: timeouts, nothing else.
  std::vector<Sample> buffer(8);
  EXPECT_EQ(device.read(buffer).status, ReadStatus::kTimeout);

  // Plugged in again: a new terminal behind the same path.
  PtyPair second;
  const fs::path staging = dir.path() / "staging";
  fs::create_symlink(second.slave_path(), staging);
  fs::rename(staging, link);
  ASSERT_TRUE(eventually([&] { return device.counters().reconnects == 1; }));
  for (int i = 0; i < 5; ++i) second.write(ascii_frame(700 + i, 519, 400 + i));
  const auto after = read_samples(device, 5);
  ASSERT_EQ(after.size(), 5U);
  EXPECT_DOUBLE_EQ(after[0].angle, angle_of(400));
  EXPECT_EQ(after[0].status, kStatusGapBefore);
  EXPECT_EQ(after[1].status, kStatusOk);
  // Time goes on across the outage (by the outage measured on the host's clock).
  EXPECT_GT(after[0].time, before.back().time);
  EXPECT_NEAR(after[1].time - after[0].time, 1e-3, 1e-12);

  const auto events = device.take_events();
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].kind, "disconnected");
  EXPECT_EQ(events[1].kind, "reconnected");
  EXPECT_NE(events[0].detail.find(link.string()), std::string::npos) << events[0].detail;
  EXPECT_DOUBLE_EQ(events[0].time, before.back().time);
  EXPECT_TRUE(device.take_events().empty());  // taken once
  EXPECT_EQ(device.counters().disconnects, 1U);
}

// Between sets the port goes away: the next set reports it at once instead of timing out
// forever, and a set started after it is back begins at time 0 again.
TEST(SerialDevice, PortGoneBetweenSetsIsReportedWhenTheNextSetStarts) {
  TempDir dir;
  const fs::path link = dir.path() / "ttyISOKIN";
  auto first = std::make_unique<PtyPair>();
  fs::create_symlink(first->slave_path(), link);
  auto profile = biodex_profile();
  profile.timeout_s = 0.05;
  profile.reconnect_interval_s = 0.01;
  SerialDevice device(profile, link.string());
  device.open();
  first->close();
  fs::remove(link);  // the device node goes with it (see above)
  ASSERT_TRUE(eventually([&] { return device.counters().disconnects == 1; }));
  device.start();
  std::vector<Sample> buffer(8);
  const ReadResult gone = device.read(buffer);
  EXPECT_EQ(gone.status, ReadStatus::kDisconnected);
  EXPECT_NE(gone.message.find("gone"), std::string::npos) << gone.message;
  device.stop();

  PtyPair second;
  const fs::path staging = dir.path() / "staging";
  fs::create_symlink(second.slave_path(), staging);
  fs::rename(staging, link);
  ASSERT_TRUE(eventually([&] { return device.counters().reconnects == 1; }));
  device.start();
  second.write(ascii_frame(600, 519, 300) + ascii_frame(601, 519, 301));
  const auto samples = read_samples(device, 2);
  ASSERT_EQ(samples.size(), 2U);
  EXPECT_EQ(samples[0].time, 0.0);
  EXPECT_EQ(samples[0].status, kStatusOk);  // a new set: nothing of it was lost
  EXPECT_DOUBLE_EQ(samples[1].angle, angle_of(301));
  const auto events = device.take_events();
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[1].kind, "reconnected");
}

TEST(SerialDevice, AWriterFasterThanTheReaderLosesNothingUpToTheQueueCapacity) {
  PtyPair pty;
  auto profile = biodex_profile();
  profile.queue_capacity = 100;
  SerialDevice device(profile, pty.slave_path());
  device.open();
  device.start();
  // The reader is away while 100 frames arrive: all are kept.
  std::string burst;
  for (int i = 0; i < 100; ++i) burst += ascii_frame(500, 519, 100 + i);
  pty.write(burst);
  ASSERT_TRUE(eventually([&] { return device.counters().samples_queued == 100; }));
  auto samples = read_samples(device, 100);
  ASSERT_EQ(samples.size(), 100U);
  for (int i = 0; i < 100; ++i) {
    EXPECT_DOUBLE_EQ(samples[static_cast<std::size_t>(i)].angle, angle_of(100 + i));
    EXPECT_EQ(samples[static_cast<std::size_t>(i)].status, kStatusOk);
  }
  // 150 more while away: 50 do not fit, are counted, and the next sample says so.
  burst.clear();
  for (int i = 100; i < 250; ++i) burst += ascii_frame(500, 519, 100 + i);
  pty.write(burst);
  ASSERT_TRUE(eventually([&] {
    const auto c = device.counters();
    return c.samples_queued + c.samples_overflowed == 250;
  }));
  EXPECT_EQ(device.counters().samples_overflowed, 50U);
  samples = read_samples(device, 100);
  ASSERT_EQ(samples.size(), 100U);
  EXPECT_DOUBLE_EQ(samples.back().angle, angle_of(299));
  pty.write(ascii_frame(500, 519, 350));
  samples = read_samples(device, 1);
  ASSERT_EQ(samples.size(), 1U);
  EXPECT_EQ(samples[0].status, kStatusGapBefore);
  EXPECT_DOUBLE_EQ(samples[0].time, 0.25);  // dropped samples keep their place in time
}

// A binary-framed board, its profile read from a file on disk.
fs::path write_binary_profile(const fs::path& dir) {
  fs::path file = dir / "binary-board.json";
  std::ofstream(file) << R"({
    "schema": "isokin-serial-profile", "schema_version": 1,
    "model": "test board",
    "framing": {"type": "binary", "sync": [165, 90], "width": "int16",
                "fields": ["angle", "", "torque", "velocity"]},
    "calibration": {"torque": {"gain": 0.5, "offset": 0, "sign": -1},
                    "velocity": {"gain": 1, "offset": 0},
                    "angle": {"gain": 0.1, "offset": -10}},
    "sample_rate_hz": 2000
  })";
  return file;
}

std::string binary_frame(std::uint16_t sequence, std::int32_t angle, std::int32_t torque,
                         std::int32_t velocity) {
  serial::BinaryFraming framing;
  framing.field_count = 4;
  const std::int32_t counts[] = {angle, 9999, torque, velocity};
  const auto bytes = serial::encode_binary_frame(framing, sequence, counts);
  return {bytes.begin(), bytes.end()};
}

TEST(SerialDeviceBinary, WrongCrcAndSequenceGapsAreCountedAsDroppedFrames) {
  TempDir dir;
  PtyPair pty;
  SerialDevice device(load_serial_profile(write_binary_profile(dir.path())), pty.slave_path());
  device.open();
  device.start();
  std::string damaged = binary_frame(1, 110, 2, 3);
  damaged[4] = static_cast<char>(damaged[4] ^ 0x01);
  pty.write(binary_frame(0, 100, 2, 3) + damaged + binary_frame(2, 120, -40, 7) +
            binary_frame(6, 160, 8, -9) + binary_frame(7, 170, 8, -9));
  const auto samples = read_samples(device, 4);
  ASSERT_EQ(samples.size(), 4U);
  EXPECT_DOUBLE_EQ(samples[0].angle, 0.1 * 100 - 10);
  EXPECT_DOUBLE_EQ(samples[1].torque, -0.5 * -40);
  EXPECT_DOUBLE_EQ(samples[1].velocity, 7.0);
  EXPECT_DOUBLE_EQ(samples[2].velocity, -9.0);
  // Time from the sequence numbers: lost frames keep their slots.
  EXPECT_DOUBLE_EQ(samples[1].time, 2 / 2000.0);
  EXPECT_DOUBLE_EQ(samples[2].time, 6 / 2000.0);
  EXPECT_EQ(samples[1].status, kStatusGapBefore);
  EXPECT_EQ(samples[2].status, kStatusGapBefore);
  EXPECT_EQ(samples[3].status, kStatusOk);
  const auto c = device.counters().decoder;
  EXPECT_EQ(c.crc_errors, 1U);
  EXPECT_EQ(c.dropped_frames, 1U + 3U);
}

TEST(SerialDeviceRegistry, SerialIsMadeByNameFromAShippedProfile) {
  PtyPair pty;
  DeviceOptions options;
  options.profile = "biodex2-adc";
  options.profile_dirs = {kProfiles};
  options.port = pty.slave_path();
  const auto device = make_device("serial", options);
  const auto d = device->describe();
  EXPECT_EQ(d.driver, "serial");
  EXPECT_DOUBLE_EQ(d.sample_rate_hz, 1000.0);
  ASSERT_EQ(d.calibration.size(), 3U);
  EXPECT_EQ(d.calibration[0].channel, "torque");
  EXPECT_DOUBLE_EQ(d.calibration[0].gain, -1.04);
  EXPECT_DOUBLE_EQ(d.calibration[0].offset, 552.0);
  EXPECT_FALSE(device->apply(MotionSetpoint{}));  // it only measures
  device->open();
  device->start();
  pty.write(ascii_frame(531, 520, 300));
  const auto samples = read_samples(*device, 1);
  ASSERT_EQ(samples.size(), 1U);
  EXPECT_DOUBLE_EQ(samples[0].torque, torque_of(531));
  device->close();

  EXPECT_THROW(make_device("serial", {}), DeviceError);  // no profile
  options.profile = "no-such-board";
  try {
    make_device("serial", options);
    FAIL();
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-board"), std::string::npos) << e.what();
  }
}

TEST(SerialProfileFile, ErrorsNameTheFileAndWhere) {
  TempDir dir;
  const fs::path bad_json = dir.path() / "bad.json";
  std::ofstream(bad_json) << "{\n  \"schema\": \"isokin-serial-profile\",\n  oops\n}";
  try {
    load_serial_profile(bad_json);
    FAIL();
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find(bad_json.string() + ":3:"), std::string::npos) << e.what();
  }
  const fs::path bad_field = dir.path() / "field.json";
  std::ofstream(bad_field) << R"({"schema": "isokin-serial-profile", "schema_version": 1,
    "framing": {"type": "ascii", "fields": ["torque", "speed", "angle"]},
    "calibration": {}, "sample_rate_hz": 1000})";
  try {
    load_serial_profile(bad_field);
    FAIL();
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("/framing/fields/1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("speed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_serial_profile(dir.path() / "missing.json"), DeviceError);
}

}  // namespace
}  // namespace isokin::drivers
