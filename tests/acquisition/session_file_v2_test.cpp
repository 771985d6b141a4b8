// Format version 2 (events, consumer drop counts, per-set protocol information) and reading
// version-1 files.
#include <gtest/gtest.h>

#include <hdf5.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "isokin/acquisition/session_file.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
namespace drivers = isokin::drivers;

class SessionFileV2 : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-v2-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

Session make_v2_session() {
  Session s;
  s.complete = true;
  s.info.created_utc = "2026-11-25T12:00:00Z";
  s.info.software = "isokin test";
  s.info.protocol_name = "knee-isometric-30-60-90";
  s.info.subject.id = "S-7";
  s.info.device.driver = "sim";
  s.info.device.sample_rate_hz = 1000.0;
  for (int i = 0; i < 2; ++i) {
    RecordedSet set;
    set.info.index = i;
    set.info.setpoint.joint = i == 0 ? drivers::Joint::kKnee : drivers::Joint::kTrunk;
    set.info.setpoint.mode = i == 0 ? drivers::ContractionMode::kIsometric
                                    : drivers::ContractionMode::kEccentricEccentric;
    set.info.setpoint.hold_angle = 30.0 + i;
    set.info.setpoint.contraction_time = 4.5;
    set.info.setpoint.passive = i == 1;
    set.info.kind = i == 0 ? kSetKindTest : kSetKindGravity;
    set.info.label = i == 0 ? "isometric 30°" : "gravity correction";
    set.info.protocol_set = i == 0 ? 0 : -1;
    set.info.attempt = 2 - i;
    for (int k = 0; k < 100; ++k) {
      set.signals.append({k * 0.001, 10.0 + k, 30.0, 0.0, drivers::kStatusOk});
    }
    set.stats.sample_count = 100;
    set.stats.complete = true;
    set.stats.end_reason = "end of stream";
    set.stats.consumers = {{"recorder", 100, 0}, {"viewer", 60, 40}};
    s.sets.push_back(set);
  }
  s.events = {{0.0, -1, "session-start", "2 sets planned"},
              {0.25, 0, "set-start", "isometric 30° (attempt 2)"},
              {1.5, 0, "drops", "viewer: 40 samples lost"},
              {1.75, 1, "mark", "ünïcödé note"},
              {2.0, -1, "session-end", ""}};
  return s;
}

TEST_F(SessionFileV2, EventsConsumersAndSetInformationRoundTrip) {
  const Session written = make_v2_session();
  const fs::path path = dir_ / "v2.h5";
  write_session(path, written);
  const Session read = read_session(path);
  EXPECT_EQ(read.format_version, kFormatVersion);
  ASSERT_EQ(read.sets.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const SetInfo& e = written.sets[i].info;
    const SetInfo& a = read.sets[i].info;
    EXPECT_EQ(a.setpoint.joint, e.setpoint.joint);
    EXPECT_EQ(a.setpoint.mode, e.setpoint.mode);
    EXPECT_EQ(a.setpoint.hold_angle, e.setpoint.hold_angle);
    EXPECT_EQ(a.setpoint.contraction_time, e.setpoint.contraction_time);
    EXPECT_EQ(a.setpoint.passive, e.setpoint.passive);
    EXPECT_EQ(a.kind, e.kind);
    EXPECT_EQ(a.label, e.label);
    EXPECT_EQ(a.protocol_set, e.protocol_set);
    EXPECT_EQ(a.attempt, e.attempt);
    ASSERT_EQ(read.sets[i].stats.consumers.size(), 2u);
    EXPECT_EQ(read.sets[i].stats.consumers[1].name, "viewer");
    EXPECT_EQ(read.sets[i].stats.consumers[1].delivered, 60u);
    EXPECT_EQ(read.sets[i].stats.consumers[1].dropped, 40u);
  }
  ASSERT_EQ(read.events.size(), written.events.size());
  for (std::size_t i = 0; i < read.events.size(); ++i) {
    EXPECT_EQ(read.events[i].time, written.events[i].time);
    EXPECT_EQ(read.events[i].set_index, written.events[i].set_index);
    EXPECT_EQ(read.events[i].kind, written.events[i].kind);
    EXPECT_EQ(read.events[i].detail, written.events[i].detail);
  }
}

// Turns a version-2 file into the version-1 layout (docs/file-format.md, version 1): no
// /events, no version-2 set attributes, no consumers groups.
void downgrade_to_version_1(const fs::path& path) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const int one = 1;
  const hid_t version = H5Aopen(file, "format_version", H5P_DEFAULT);
  ASSERT_GE(H5Awrite(version, H5T_NATIVE_INT, &one), 0);
  H5Aclose(version);
  ASSERT_GE(H5Ldelete(file, "/events", H5P_DEFAULT), 0);
  for (const char* set : {"/sets/set_000", "/sets/set_001"}) {
    const hid_t group = H5Gopen2(file, set, H5P_DEFAULT);
    ASSERT_GE(group, 0);
    for (const char* name :
         {"hold_angle", "hold_angle_unit", "contraction_time", "contraction_time_unit", "passive",
          "kind", "label", "protocol_set", "attempt"}) {
      ASSERT_GE(H5Adelete(group, name), 0) << name;
    }
    ASSERT_GE(H5Ldelete(group, "consumers", H5P_DEFAULT), 0);
    H5Gclose(group);
  }
  ASSERT_GE(H5Fclose(file), 0);
}

TEST_F(SessionFileV2, VersionOneFilesStillRead) {
  const Session written = make_v2_session();
  const fs::path path = dir_ / "v1.h5";
  write_session(path, written);
  downgrade_to_version_1(path);
  const Session read = read_session(path);
  EXPECT_EQ(read.format_version, 1);
  EXPECT_TRUE(read.events.empty());
  ASSERT_EQ(read.sets.size(), 2u);
  for (const auto& set : read.sets) {
    EXPECT_EQ(set.info.kind, kSetKindTest);  // version 1 knew only test sets
    EXPECT_EQ(set.info.attempt, 1);
    EXPECT_TRUE(set.stats.consumers.empty());
    EXPECT_EQ(set.signals.size(), 100u);
    EXPECT_EQ(set.signals.torque[99], 109.0);
  }
}

TEST_F(SessionFileV2, VersionTwoWithoutEventsIsDamaged) {
  const fs::path path = dir_ / "no-events.h5";
  write_session(path, make_v2_session());
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  ASSERT_GE(H5Ldelete(file, "/events", H5P_DEFAULT), 0);
  ASSERT_GE(H5Fclose(file), 0);
  try {
    read_session(path);
    ADD_FAILURE() << "read a version-2 file without /events";
  } catch (const SessionFileError& e) {
    EXPECT_EQ(e.kind(), SessionFileError::Kind::kDamaged);
    EXPECT_NE(std::string(e.what()).find("/events"), std::string::npos) << e.what();
  }
}

TEST_F(SessionFileV2, H5pyReadsTheEvents) {
  const fs::path path = dir_ / "events-for-python.h5";
  write_session(path, make_v2_session());
  const std::string command =
      "PYTHONIOENCODING=utf-8 /usr/bin/python3 -c \""
      "import sys, h5py\n"
      "f = h5py.File(sys.argv[1], 'r', swmr=True)\n"
      "e = f['events']\n"
      "print(len(e['time']), e['time'].attrs['unit'], e['kind'][3].decode(), "
      "e['detail'][3].decode(), int(e['set_index'][2]))\n"
      "c = f['sets/set_000/consumers/consumer_001']\n"
      "print(c.attrs['name'], int(c.attrs['dropped']), f['sets/set_001'].attrs['kind'])\n"
      "\" '" +
      path.string() + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), n);
  ASSERT_EQ(::pclose(pipe), 0) << output;
  EXPECT_EQ(output, "5 s mark ünïcödé note 0\nviewer 40 gravity\n");
}

}  // namespace
