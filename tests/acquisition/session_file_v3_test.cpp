// Format version 3: events appended while a set is recorded (fixed-length strings, so a killed
// writer keeps them), the device's own repetition/phase columns, side "none" for the trunk, and
// reading files written by the version-2 writer.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "isokin/acquisition/session_file.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
namespace drivers = isokin::drivers;

class SessionFileV3 : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-v3-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

SessionInfo make_info() {
  SessionInfo info;
  info.created_utc = "2026-11-25T16:00:00Z";
  info.software = "isokin test";
  info.protocol_name = "test";
  info.subject.id = "S-3";
  info.device.driver = "sim";
  info.device.sample_rate_hz = 100.0;
  return info;
}

std::vector<drivers::Sample> ramp(std::size_t n) {
  std::vector<drivers::Sample> samples(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double k = static_cast<double>(i);
    samples[i] = {k / 100.0, 10.0 + k, 90.0 - k * 0.1, -10.0, 0};
  }
  return samples;
}

int run_in_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

std::string run_python(const std::string& script, const fs::path& path) {
  const std::string command =
      "PYTHONIOENCODING=utf-8 /usr/bin/python3 -c \"" + script + "\" '" + path.string() + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "cannot run python";
  std::string output;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return status == 0 ? output : "python failed: " + output;
}

// The events of a set that was being recorded when the process died are in the file: those
// queued before the last flush, none after it.
TEST_F(SessionFileV3, EventsOfASetKilledMidwayAreKeptUpToTheLastFlush) {
  const fs::path path = dir_ / "killed.h5";
  const std::vector<drivers::Sample> samples = ramp(3000);
  const int ended = run_in_child([&] {
    // flush_interval 0: every append flushes. Never destroyed: the process dies first.
    auto* writer = new SessionWriter(path, make_info(), {std::chrono::milliseconds(0), 256});
    SetInfo set;
    set.index = 0;
    writer->add_event({0.5, 0, "set-start", "60 °/s"});
    writer->begin_set(set);
    writer->append(std::span(samples).subspan(0, 1000));
    writer->add_event({1.0, 0, "mark", "heel lifted"});
    writer->add_event({1.1, 0, "drops", "viewer: 12 samples lost"});
    writer->append(std::span(samples).subspan(1000, 1000));  // flushes the two events
    writer->add_event({1.2, 0, "pause", "never flushed"});
    ::kill(::getpid(), SIGKILL);
    return 96;
  });
  ASSERT_EQ(ended, 128 + SIGKILL);

  const Session read = read_session(path);
  EXPECT_FALSE(read.complete);
  ASSERT_EQ(read.sets.size(), 1u);
  EXPECT_EQ(read.sets[0].signals.size(), 2000u);
  ASSERT_EQ(read.events.size(), 3u);
  EXPECT_EQ(read.events[0].kind, "set-start");
  EXPECT_EQ(read.events[0].detail, "60 °/s");
  EXPECT_EQ(read.events[1].kind, "mark");
  EXPECT_EQ(read.events[1].detail, "heel lifted");
  EXPECT_EQ(read.events[1].time, 1.0);
  EXPECT_EQ(read.events[1].set_index, 0);
  EXPECT_EQ(read.events[2].kind, "drops");

  // h5py in SWMR mode sees the same three events, as fixed-length strings.
  const std::string python =
      "import sys, h5py\n"
      "f = h5py.File(sys.argv[1], 'r', swmr=True)\n"
      "e = f['events']\n"
      "print(len(e['kind']), e['kind'][1].decode(), e['detail'][2].decode(), e['kind'].dtype)\n";
  EXPECT_EQ(run_python(python, path), "3 mark viewer: 12 samples lost |S32\n");
}

TEST_F(SessionFileV3, EventsAddedDuringASetAreWrittenInOrderWithThoseBetweenSets) {
  const fs::path path = dir_ / "order.h5";
  {
    SessionWriter writer(path, make_info(), {std::chrono::milliseconds(0), 64});
    writer.add_event({0.0, -1, "session-start", ""});
    SetInfo set;
    set.index = 0;
    writer.begin_set(set);
    writer.append(ramp(100));
    writer.add_event({0.4, 0, "mark", "a"});
    writer.append(ramp(10));
    writer.add_event({0.6, 0, "mark", "b"});  // written by end_set's flush
    writer.end_set({110, 0, true, "end of stream", {}});
    writer.add_event({0.9, -1, "rest", "60 s"});
    writer.finish();
  }
  const Session read = read_session(path);
  std::vector<std::string> kinds;
  for (const Event& e : read.events) kinds.push_back(e.kind + ":" + e.detail);
  EXPECT_EQ(kinds, (std::vector<std::string>{"session-start:", "mark:a", "mark:b", "rest:60 s"}));
}

TEST_F(SessionFileV3, ALongDetailIsCutAtACharacterBoundaryAndMarked) {
  const fs::path path = dir_ / "long.h5";
  // 'é' is two bytes: 1020 one-byte characters, then 'é's straddle the cut at 1021 bytes.
  std::string detail(1020, 'x');
  for (int i = 0; i < 20; ++i) detail += "é";
  Session s;
  s.complete = true;
  s.info = make_info();
  s.events = {{1.0, -1, "device-error", detail}};
  write_session(path, s);
  const Session read = read_session(path);
  ASSERT_EQ(read.events.size(), 1u);
  const std::string& got = read.events[0].detail;
  EXPECT_LE(got.size(), kEventDetailBytes);
  // 1021 bytes fit before the 3-byte "…"; the 'é' starting at byte 1020 does not fit whole.
  EXPECT_EQ(got, std::string(1020, 'x') + "\u2026");
  const std::string exact(kEventDetailBytes, 'y');  // exactly fits: kept whole
  s.events = {{1.0, -1, "device-error", exact}};
  write_session(path, s);
  EXPECT_EQ(read_session(path).events.at(0).detail, exact);
}

TEST_F(SessionFileV3, AKindLongerThanTheColumnIsRefused) {
  Session s;
  s.info = make_info();
  s.events = {{1.0, -1, std::string(kEventKindBytes + 1, 'k'), ""}};
  EXPECT_THROW(write_session(dir_ / "kind.h5", s), std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir_ / "kind.h5"));  // checked before the file is created
}

Session segmented_session() {
  Session s;
  s.complete = true;
  s.info = make_info();
  RecordedSet set;
  set.info.index = 0;
  set.info.device_segmented = true;
  const std::vector<drivers::Sample> samples = ramp(20000);  // spans several write blocks
  for (std::size_t i = 0; i < samples.size(); ++i) {
    set.signals.append(samples[i]);
    const auto rep = static_cast<std::int32_t>(i / 4000 + 1);
    const auto phase = (i % 4000) < 2000 ? DevicePhase::kExtension : DevicePhase::kFlexion;
    set.signals.device_segments.push_back({rep, (i % 4000) < 100 ? DevicePhase::kNone : phase});
  }
  set.stats = {samples.size(), 0, true, "end of stream", {}};
  s.sets.push_back(set);
  RecordedSet plain;
  plain.info.index = 1;
  for (const auto& sample : ramp(50)) plain.signals.append(sample);
  plain.stats = {50, 0, true, "end of stream", {}};
  s.sets.push_back(plain);
  return s;
}

TEST_F(SessionFileV3, DeviceRepetitionAndPhaseColumnsRoundTrip) {
  const Session written = segmented_session();
  const fs::path path = dir_ / "segments.h5";
  write_session(path, written);
  const Session read = read_session(path);
  ASSERT_EQ(read.sets.size(), 2u);
  EXPECT_TRUE(read.sets[0].info.device_segmented);
  const auto& expected = written.sets[0].signals.device_segments;
  const auto& got = read.sets[0].signals.device_segments;
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].repetition, expected[i].repetition) << i;
    ASSERT_EQ(got[i].phase, expected[i].phase) << i;
  }
  EXPECT_FALSE(read.sets[1].info.device_segmented);
  EXPECT_TRUE(read.sets[1].signals.device_segments.empty());

  // Plain HDF5 readers see integer columns with units.
  const std::string python =
      "import sys, h5py\n"
      "s = h5py.File(sys.argv[1], 'r')['sets/set_000']\n"
      "print(int(s['repetition'][4000]), int(s['phase'][4150]), int(s['phase'][6100]), "
      "s['phase'].attrs['unit'], 'repetition' in h5py.File(sys.argv[1], 'r')['sets/set_001'])\n";
  EXPECT_EQ(run_python(python, path), "2 1 2 1 False\n");
}

TEST_F(SessionFileV3, SegmentsMustMatchTheSamples) {
  Session s = segmented_session();
  s.sets[0].signals.device_segments.pop_back();
  EXPECT_THROW(write_session(dir_ / "short.h5", s), std::invalid_argument);
  Session t = segmented_session();
  t.sets[0].info.device_segmented = false;  // segments given but not declared
  EXPECT_THROW(write_session(dir_ / "undeclared.h5", t), std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir_ / "short.h5"));

  SessionWriter writer(dir_ / "writer.h5", make_info());
  SetInfo set;
  set.index = 0;
  writer.begin_set(set);
  const std::vector<drivers::Sample> samples = ramp(3);
  const std::vector<DeviceSegment> segments(3);
  EXPECT_THROW(writer.append(samples, segments), std::invalid_argument);
}

TEST_F(SessionFileV3, TrunkSetsHaveNoSide) {
  Session s;
  s.complete = true;
  s.info = make_info();
  RecordedSet set;
  set.info.index = 0;
  set.info.setpoint.joint = drivers::Joint::kTrunk;
  set.info.setpoint.side = drivers::Side::kNone;
  for (const auto& sample : ramp(10)) set.signals.append(sample);
  set.stats = {10, 0, true, "end of stream", {}};
  s.sets.push_back(set);
  const fs::path path = dir_ / "trunk.h5";
  write_session(path, s);
  EXPECT_EQ(read_session(path).sets.at(0).info.setpoint.side, drivers::Side::kNone);
  EXPECT_EQ(run_python("import sys, h5py\nprint(h5py.File(sys.argv[1], 'r')"
                       "['sets/set_000'].attrs['side'])\n",
                       path),
            "none\n");
}

// tests/data/session-v2.h5 was written by the format-2 writer (isokin 0.1.0 at commit 67cece4;
// tests/data/README.md): what it holds is known from the program that wrote it.
TEST_F(SessionFileV3, FilesWrittenByTheVersionTwoWriterStillRead) {
  const Session read = read_session(fs::path(ISOKIN_SOURCE_DIR) / "tests/data/session-v2.h5");
  EXPECT_EQ(read.format_version, 2);
  EXPECT_TRUE(read.complete);
  EXPECT_EQ(read.info.subject.id, "S-v2");
  EXPECT_EQ(read.info.subject.body_mass_kg, 72.5);
  ASSERT_EQ(read.sets.size(), 2u);
  EXPECT_EQ(read.sets[0].info.setpoint.side, drivers::Side::kLeft);
  EXPECT_EQ(read.sets[1].info.setpoint.side, drivers::Side::kRight);
  for (const RecordedSet& set : read.sets) {
    EXPECT_FALSE(set.info.device_segmented);
    EXPECT_EQ(set.info.label, "60 °/s");
    ASSERT_EQ(set.signals.size(), 150u);
    EXPECT_EQ(set.signals.time[100], 1.0);
    EXPECT_EQ(set.signals.torque[100], 100 * std::sin(1.0));
    ASSERT_EQ(set.stats.consumers.size(), 2u);
    EXPECT_EQ(set.stats.consumers[1].dropped, 2u);
  }
  ASSERT_EQ(read.events.size(), 4u);
  EXPECT_EQ(read.events[0].kind, "set-start");
  EXPECT_EQ(read.events[1].kind, "mark");
  EXPECT_EQ(read.events[1].detail, "operator mark é");
  EXPECT_EQ(read.events[3].time, 3.5);
  EXPECT_EQ(read.events[3].set_index, 1);
}

}  // namespace
