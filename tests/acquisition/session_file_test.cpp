// Session files on real disk: round trips, damaged and hostile files, interrupted writers, and
// a check that researchers can read the files with h5py alone (docs/file-format.md).

#include "isokin/acquisition/session_file.h"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "isokin/acquisition/session.h"
#include "isokin/drivers/sample.h"

namespace isokin::acquisition {
namespace {

namespace fs = std::filesystem;
using drivers::Sample;
using Kind = SessionFileError::Kind;

// ---------------------------------------------------------------------------------------------
// Test data

SessionInfo make_info() {
  SessionInfo info;
  info.created_utc = "2026-11-25T12:00:00Z";
  info.software = "isokin 0.1.0 (session_file_test)";
  info.protocol_name = "knee 60/180/300 \u00b0/s";
  info.protocol_json =
      R"({"name":"knee","sets":[{"velocity":60},{"velocity":180},{"velocity":300}],)"
      "\n"
      R"( "note":"\u00fcn\u00efc\u00f8d\u00e9 and \"quotes\""})";
  info.subject.id = "S-042";
  info.subject.body_mass_kg = 72.35;
  info.device.driver = "sim";
  info.device.model = "Simulated dynamometer";
  info.device.serial = "SIM-0001";
  info.device.sample_rate_hz = 2000.0;
  info.device.channels = {{"torque", "N\u00b7m", -400.0, 400.0},
                          {"angle", "deg", -10.0, 120.0},
                          {"velocity", "deg/s", -500.0, 500.0}};
  info.device.calibration = {{"torque", 0.0123, -1.5}, {"angle", 0.088, 2.25}};
  return info;
}

// Doubles that would expose any conversion or rounding: signed zeros, subnormals, the extremes,
// infinities, NaNs (arbitrary bit patterns include NaN payloads), and ordinary values.
std::vector<double> awkward_doubles(std::mt19937_64& random, std::size_t count) {
  constexpr std::array kSpecial = {0.0,
                                   -0.0,
                                   std::numeric_limits<double>::denorm_min(),
                                   -1e-310,
                                   std::numeric_limits<double>::min(),
                                   std::numeric_limits<double>::max(),
                                   std::numeric_limits<double>::lowest(),
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity(),
                                   std::numeric_limits<double>::quiet_NaN(),
                                   1e-300,
                                   -1e300};
  std::uniform_real_distribution<double> ordinary(-500.0, 500.0);
  std::uniform_int_distribution<int> exponent(-300, 300);
  std::vector<double> values(count);
  for (double& value : values) {
    switch (random() % 4) {
      case 0:
        value = kSpecial[random() % kSpecial.size()];
        break;
      case 1:
        value = std::bit_cast<double>(random());
        break;
      case 2:
        value = ordinary(random);
        break;
      default:
        value = ordinary(random) * std::pow(10.0, exponent(random));
        break;
    }
  }
  return values;
}

SetSignals make_signals(std::uint64_t seed, std::size_t count) {
  std::mt19937_64 random(seed);
  SetSignals signals;
  signals.time.resize(count);
  for (std::size_t i = 0; i < count; ++i) signals.time[i] = static_cast<double>(i) / 2000.0;
  signals.torque = awkward_doubles(random, count);
  signals.angle = awkward_doubles(random, count);
  signals.velocity = awkward_doubles(random, count);
  signals.status.resize(count);
  for (std::uint32_t& status : signals.status) {
    // Mostly real flag combinations, sometimes every bit.
    status = random() % 8 == 0 ? static_cast<std::uint32_t>(random())
                               : static_cast<std::uint32_t>(random() & 0xFu);
  }
  return signals;
}

std::vector<Sample> to_samples(const SetSignals& signals) {
  std::vector<Sample> samples;
  samples.reserve(signals.size());
  for (std::size_t i = 0; i < signals.size(); ++i) {
    samples.push_back({signals.time[i], signals.torque[i], signals.angle[i], signals.velocity[i],
                       signals.status[i]});
  }
  return samples;
}

SetSignals first_rows(const SetSignals& signals, std::size_t count) {
  SetSignals prefix;
  for (std::size_t i = 0; i < count; ++i) {
    prefix.append({signals.time[i], signals.torque[i], signals.angle[i], signals.velocity[i],
                   signals.status[i]});
  }
  return prefix;
}

RecordedSet make_set(int index, drivers::Side side, double velocity, std::size_t count,
                     bool complete, std::string end_reason) {
  RecordedSet set;
  set.info.index = index;
  set.info.setpoint.side = side;
  set.info.setpoint.extension_velocity = velocity;
  set.info.setpoint.flexion_velocity = velocity + 30.0;
  set.info.setpoint.angle_min = 4.5 + index;
  set.info.setpoint.angle_max = 92.25 + index;
  set.info.setpoint.repetitions = 5 + 5 * index;
  set.signals = make_signals(1000 + static_cast<std::uint64_t>(index), count);
  set.stats.sample_count = count;
  set.stats.dropped_samples = static_cast<std::uint64_t>(3 * index);
  set.stats.complete = complete;
  set.stats.end_reason = std::move(end_reason);
  return set;
}

Session make_session() {
  Session session;
  session.complete = true;
  session.info = make_info();
  session.sets.push_back(make_set(0, drivers::Side::kLeft, 60.0, 3001, true, "end of stream"));
  session.sets.push_back(make_set(1, drivers::Side::kRight, 180.0, 4096, true, "end of stream"));
  session.sets.push_back(
      make_set(2, drivers::Side::kLeft, 300.0, 2500, false, "disconnected: cable pulled"));
  return session;
}

// ---------------------------------------------------------------------------------------------
// Comparisons

template <typename Value>
void expect_same_bits(const std::vector<Value>& expected, const std::vector<Value>& actual,
                      const std::string& what) {
  ASSERT_EQ(expected.size(), actual.size()) << what;
  if (expected.empty()) return;
  if (std::memcmp(expected.data(), actual.data(), expected.size() * sizeof(Value)) == 0) return;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (std::memcmp(&expected[i], &actual[i], sizeof(Value)) != 0) {
      ADD_FAILURE() << what << " differs first at row " << i << ": expected " << expected[i]
                    << ", read " << actual[i];
      return;
    }
  }
}

void expect_same_signals(const SetSignals& expected, const SetSignals& actual,
                         const std::string& set) {
  expect_same_bits(expected.time, actual.time, set + " time");
  expect_same_bits(expected.torque, actual.torque, set + " torque");
  expect_same_bits(expected.angle, actual.angle, set + " angle");
  expect_same_bits(expected.velocity, actual.velocity, set + " velocity");
  expect_same_bits(expected.status, actual.status, set + " status");
}

void expect_same_set_info(const SetInfo& expected, const SetInfo& actual) {
  EXPECT_EQ(expected.index, actual.index);
  const drivers::MotionSetpoint& e = expected.setpoint;
  const drivers::MotionSetpoint& a = actual.setpoint;
  EXPECT_EQ(e.joint, a.joint);
  EXPECT_EQ(e.side, a.side);
  EXPECT_EQ(e.mode, a.mode);
  EXPECT_EQ(e.extension_velocity, a.extension_velocity);
  EXPECT_EQ(e.flexion_velocity, a.flexion_velocity);
  EXPECT_EQ(e.angle_min, a.angle_min);
  EXPECT_EQ(e.angle_max, a.angle_max);
  EXPECT_EQ(e.repetitions, a.repetitions);
  EXPECT_EQ(e.hold_angle, a.hold_angle);
  EXPECT_EQ(e.contraction_time, a.contraction_time);
  EXPECT_EQ(e.passive, a.passive);
  EXPECT_EQ(expected.kind, actual.kind);
  EXPECT_EQ(expected.label, actual.label);
  EXPECT_EQ(expected.protocol_set, actual.protocol_set);
  EXPECT_EQ(expected.attempt, actual.attempt);
}

void expect_same_info(const SessionInfo& expected, const SessionInfo& actual) {
  EXPECT_EQ(expected.created_utc, actual.created_utc);
  EXPECT_EQ(expected.software, actual.software);
  EXPECT_EQ(expected.protocol_name, actual.protocol_name);
  EXPECT_EQ(expected.protocol_json, actual.protocol_json);
  EXPECT_EQ(expected.subject.id, actual.subject.id);
  EXPECT_EQ(expected.subject.body_mass_kg, actual.subject.body_mass_kg);
  const drivers::DeviceDescription& e = expected.device;
  const drivers::DeviceDescription& a = actual.device;
  EXPECT_EQ(e.driver, a.driver);
  EXPECT_EQ(e.model, a.model);
  EXPECT_EQ(e.serial, a.serial);
  EXPECT_EQ(e.sample_rate_hz, a.sample_rate_hz);
  ASSERT_EQ(e.channels.size(), a.channels.size());
  for (std::size_t i = 0; i < e.channels.size(); ++i) {
    EXPECT_EQ(e.channels[i].name, a.channels[i].name);
    EXPECT_EQ(e.channels[i].unit, a.channels[i].unit);
    EXPECT_EQ(e.channels[i].range_min, a.channels[i].range_min);
    EXPECT_EQ(e.channels[i].range_max, a.channels[i].range_max);
  }
  ASSERT_EQ(e.calibration.size(), a.calibration.size());
  for (std::size_t i = 0; i < e.calibration.size(); ++i) {
    EXPECT_EQ(e.calibration[i].channel, a.calibration[i].channel);
    EXPECT_EQ(e.calibration[i].gain, a.calibration[i].gain);
    EXPECT_EQ(e.calibration[i].offset, a.calibration[i].offset);
  }
}

void expect_same_session(const Session& expected, const Session& actual) {
  EXPECT_EQ(kFormatVersion, actual.format_version);
  EXPECT_EQ(expected.complete, actual.complete);
  expect_same_info(expected.info, actual.info);
  ASSERT_EQ(expected.sets.size(), actual.sets.size());
  for (std::size_t i = 0; i < expected.sets.size(); ++i) {
    const RecordedSet& e = expected.sets[i];
    const RecordedSet& a = actual.sets[i];
    const std::string name = "set " + std::to_string(e.info.index);
    expect_same_set_info(e.info, a.info);
    EXPECT_EQ(e.stats.sample_count, a.stats.sample_count) << name;
    EXPECT_EQ(e.stats.dropped_samples, a.stats.dropped_samples) << name;
    EXPECT_EQ(e.stats.complete, a.stats.complete) << name;
    EXPECT_EQ(e.stats.end_reason, a.stats.end_reason) << name;
    expect_same_signals(e.signals, a.signals, name);
  }
}

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kNotFound:
      return "kNotFound";
    case Kind::kNotHdf5:
      return "kNotHdf5";
    case Kind::kNotIsokin:
      return "kNotIsokin";
    case Kind::kNewerVersion:
      return "kNewerVersion";
    case Kind::kDamaged:
      return "kDamaged";
    case Kind::kWriteFailed:
      return "kWriteFailed";
  }
  return "?";
}

// The error contract: the right kind, one line naming the file, and the words that say why.
void expect_error(const SessionFileError& error, const fs::path& path, Kind kind,
                  std::initializer_list<std::string_view> words) {
  const std::string what = error.what();
  EXPECT_EQ(kind_name(kind), std::string(kind_name(error.kind()))) << what;
  EXPECT_EQ(path, error.path());
  EXPECT_TRUE(what.starts_with(path.string() + ": ")) << what;
  EXPECT_EQ(std::string::npos, what.find('\n')) << what;
  for (const std::string_view word : words) {
    EXPECT_NE(std::string::npos, what.find(word)) << "'" << word << "' missing from: " << what;
  }
}

void expect_read_error(const fs::path& path, Kind kind,
                       std::initializer_list<std::string_view> words) {
  try {
    static_cast<void>(read_session(path));
    ADD_FAILURE() << "read_session(" << path << ") did not throw";
  } catch (const SessionFileError& error) {
    expect_error(error, path, kind, words);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers for files and processes

class SessionFileTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("isokin-session-file-") + std::to_string(::getpid()) + "-" +
            test->test_suite_name() + "-" + test->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code error;
    fs::remove_all(dir_, error);
    EXPECT_FALSE(error) << "cannot remove " << dir_ << ": " << error.message();
  }
  [[nodiscard]] fs::path file(const std::string& name) const { return dir_ / name; }

 private:
  fs::path dir_;
};

// Edits a written file with the HDF5 C API, the way a damaged or foreign file would look.
class Hdf5Edit {
 public:
  explicit Hdf5Edit(const fs::path& path)
      : file_(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) {
    EXPECT_GE(file_, 0) << "cannot open " << path;
  }
  ~Hdf5Edit() {
    if (file_ >= 0) {
      EXPECT_GE(H5Fclose(file_), 0);
    }
  }
  Hdf5Edit(const Hdf5Edit&) = delete;
  Hdf5Edit& operator=(const Hdf5Edit&) = delete;
  [[nodiscard]] hid_t get() const { return file_; }

 private:
  hid_t file_;
};

void overwrite_int_attribute(hid_t object, const char* name, int value) {
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  ASSERT_GE(attribute, 0) << name;
  EXPECT_GE(H5Awrite(attribute, H5T_NATIVE_INT, &value), 0);
  EXPECT_GE(H5Aclose(attribute), 0);
}

void overwrite_string_attribute(hid_t object, const char* name, const char* value) {
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  ASSERT_GE(attribute, 0) << name;
  const hid_t type = H5Aget_type(attribute);
  EXPECT_GE(H5Awrite(attribute, type, &value), 0);
  EXPECT_GE(H5Tclose(type), 0);
  EXPECT_GE(H5Aclose(attribute), 0);
}

void write_bytes(const fs::path& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::vector<char> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs body in a forked child (HDF5 state and all) and returns how the child ended: its exit
// code, or 128 + signal number. The parent must have no HDF5 file open. With
// run_exit_handlers, the child ends with std::exit, running atexit handlers as a program would.
int run_in_child(const std::function<int()>& body, bool run_exit_handlers = false) {
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child == 0) {
    int code = 97;
    try {
      code = body();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "child process: %s\n", error.what());
      code = 98;
    }
    if (run_exit_handlers) std::exit(code);
    std::_Exit(code);
  }
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

// Records set 0 completely, then set 1 up to `flushed` samples (flushing after every append),
// then dies by SIGKILL with the file open in SWMR-write mode: the crash the format is built for.
void record_then_kill(const fs::path& path, const Session& session, std::size_t flushed) {
  const int ended = run_in_child([&] {
    // Never destroyed: the process dies first.
    SessionWriter writer(path, session.info, {std::chrono::milliseconds(0), 1000});
    writer.begin_set(session.sets[0].info);
    writer.append(to_samples(session.sets[0].signals));
    writer.end_set(session.sets[0].stats);
    writer.begin_set(session.sets[1].info);
    const std::vector<Sample> samples = to_samples(session.sets[1].signals);
    for (std::size_t start = 0; start < flushed; start += 500) {
      const std::size_t count = std::min<std::size_t>(500, flushed - start);
      writer.append(std::span(samples).subspan(start, count));
    }
    ::kill(::getpid(), SIGKILL);
    return 96;  // not reached
  });
  ASSERT_EQ(128 + SIGKILL, ended) << "the child should have been killed";
}

bool h5py_available() {
  return std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") == 0;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// Runs a Python script with Debian's python3 (which has h5py) on a file; returns its stdout.
std::string run_python(const std::string& script, const fs::path& path) {
  const std::string command = "PYTHONIOENCODING=utf-8 /usr/bin/python3 -c " + shell_quote(script) +
                              " " + shell_quote(path.string());
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return {};
  }
  std::string output;
  std::array<char, 4096> buffer{};
  std::size_t count = 0;
  while ((count = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    output.append(buffer.data(), count);
  }
  EXPECT_EQ(0, ::pclose(pipe)) << "python failed; output so far:\n" << output;
  return output;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Round trips

class SessionFileRoundTrip : public SessionFileTestBase {};

TEST_F(SessionFileRoundTrip, PreservesEverySampleBitForBitAndAllMetadata) {
  const Session written = make_session();
  const fs::path path = file("session.h5");
  write_session(path, written);
  expect_same_session(written, read_session(path));
}

TEST_F(SessionFileRoundTrip, EmptySessionAndEmptySetRoundTrip) {
  Session written;
  written.complete = true;
  written.info = make_info();
  written.info.device.channels.clear();
  written.info.device.calibration.clear();
  written.info.protocol_json.clear();
  written.sets.push_back(make_set(0, drivers::Side::kRight, 90.0, 0, false, "aborted"));
  const fs::path path = file("empty.h5");
  write_session(path, written);
  expect_same_session(written, read_session(path));
}

TEST_F(SessionFileRoundTrip, OddAppendBlockSizesGiveTheSameContent) {
  Session expected = make_session();
  expected.sets.resize(2);
  expected.sets[1] = make_set(1, drivers::Side::kRight, 180.0, 23456, true, "end of stream");

  struct Pattern {
    std::string name;
    std::vector<std::size_t> blocks;  // cycled through
    SessionWriter::Options options;
  };
  const std::vector<Pattern> patterns = {
      {"blocks of 1", {1}, {}},
      {"blocks of 7", {7}, {}},
      {"blocks of 1000", {1000}, {}},
      {"blocks of 10000", {10000}, {}},
      {"mixed, small chunks, flush every append",
       {1, 7, 1000, 10000},
       {std::chrono::milliseconds(0), 1000}},
      {"mixed, chunk of 7 rows", {10000, 1000, 7, 1}, {std::chrono::milliseconds(0), 7}},
  };
  for (const Pattern& pattern : patterns) {
    SCOPED_TRACE(pattern.name);
    const fs::path path = file("blocks.h5");
    {
      SessionWriter writer(path, expected.info, pattern.options);
      for (const RecordedSet& set : expected.sets) {
        const std::vector<Sample> samples = to_samples(set.signals);
        writer.begin_set(set.info);
        std::size_t start = 0;
        for (std::size_t block = 0; start < samples.size(); ++block) {
          const std::size_t count =
              std::min(pattern.blocks[block % pattern.blocks.size()], samples.size() - start);
          writer.append(std::span(samples).subspan(start, count));
          start += count;
        }
        writer.end_set(set.stats);
      }
      writer.finish();
    }
    expect_same_session(expected, read_session(path));
  }
}

// ---------------------------------------------------------------------------------------------
// Files that are not (valid) sessions

class SessionFileErrors : public SessionFileTestBase {
 protected:
  fs::path valid_session(const std::string& name) {
    const fs::path path = file(name);
    write_session(path, make_session());
    return path;
  }
};

TEST_F(SessionFileErrors, NonexistentPathIsNotFound) {
  expect_read_error(file("no-such-session.h5"), Kind::kNotFound, {"no such file"});
}

TEST_F(SessionFileErrors, EmptyFileIsNotHdf5) {
  const fs::path path = file("empty.h5");
  write_bytes(path, {});
  expect_read_error(path, Kind::kNotHdf5, {"empty"});
}

TEST_F(SessionFileErrors, GarbageFileIsNotHdf5) {
  std::mt19937 random(7);
  std::vector<char> garbage(100000);
  for (char& byte : garbage) byte = static_cast<char>(random());
  const fs::path path = file("garbage.h5");
  write_bytes(path, garbage);
  expect_read_error(path, Kind::kNotHdf5, {"not an HDF5 file"});
}

TEST_F(SessionFileErrors, DirectoryIsNotHdf5) {
  const fs::path path = file("a-directory.h5");
  fs::create_directory(path);
  expect_read_error(path, Kind::kNotHdf5, {"directory"});
}

TEST_F(SessionFileErrors, TruncatedFileIsNotHdf5) {
  const fs::path complete = valid_session("complete.h5");
  std::vector<char> bytes = read_bytes(complete);
  bytes.resize(bytes.size() / 2);
  const fs::path path = file("truncated.h5");
  write_bytes(path, bytes);
  expect_read_error(path, Kind::kNotHdf5, {"truncated"});
}

TEST_F(SessionFileErrors, PlainHdf5FileIsNotIsokin) {
  const fs::path path = file("other.h5");
  {
    const hid_t other = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(other, 0);
    const hid_t group = H5Gcreate2(other, "/measurements", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(group, 0);
    EXPECT_GE(H5Gclose(group), 0);
    EXPECT_GE(H5Fclose(other), 0);
  }
  expect_read_error(path, Kind::kNotIsokin, {"not an isokin session"});
}

TEST_F(SessionFileErrors, OtherFormatNameIsNotIsokin) {
  const fs::path path = valid_session("renamed.h5");
  {
    Hdf5Edit edit(path);
    overwrite_string_attribute(edit.get(), "format", "something-else");
  }
  expect_read_error(path, Kind::kNotIsokin, {"not an isokin session"});
}

TEST_F(SessionFileErrors, NewerFormatVersionIsRejected) {
  const fs::path path = valid_session("future.h5");
  {
    Hdf5Edit edit(path);
    overwrite_int_attribute(edit.get(), "format_version", kFormatVersion + 1);
  }
  const std::string newer = "version " + std::to_string(kFormatVersion + 1);
  const std::string current = "version " + std::to_string(kFormatVersion);
  expect_read_error(path, Kind::kNewerVersion, {newer, current});
}

TEST_F(SessionFileErrors, SetWithoutTorqueIsDamaged) {
  const fs::path path = valid_session("no-torque.h5");
  {
    Hdf5Edit edit(path);
    EXPECT_GE(H5Ldelete(edit.get(), "/sets/set_001/torque", H5P_DEFAULT), 0);
  }
  expect_read_error(path, Kind::kDamaged, {"missing", "/sets/set_001/torque"});
}

TEST_F(SessionFileErrors, SetWithoutItsSideIsDamaged) {
  const fs::path path = valid_session("no-side.h5");
  {
    Hdf5Edit edit(path);
    EXPECT_GE(H5Adelete_by_name(edit.get(), "/sets/set_002", "side", H5P_DEFAULT), 0);
  }
  expect_read_error(path, Kind::kDamaged, {"/sets/set_002", "side"});
}

TEST_F(SessionFileErrors, MissingGroupIsDamaged) {
  const fs::path path = valid_session("no-device.h5");
  {
    Hdf5Edit edit(path);
    EXPECT_GE(H5Ldelete(edit.get(), "/device", H5P_DEFAULT), 0);
  }
  expect_read_error(path, Kind::kDamaged, {"missing", "/device"});
}

TEST_F(SessionFileErrors, DatasetsOfUnequalLengthAreDamaged) {
  const fs::path path = valid_session("unequal.h5");
  {
    Hdf5Edit edit(path);
    const hid_t angle = H5Dopen2(edit.get(), "/sets/set_000/angle", H5P_DEFAULT);
    ASSERT_GE(angle, 0);
    const hsize_t shorter = 1000;
    EXPECT_GE(H5Dset_extent(angle, &shorter), 0);
    EXPECT_GE(H5Dclose(angle), 0);
  }
  expect_read_error(path, Kind::kDamaged, {"/sets/set_000", "different lengths"});
}

TEST_F(SessionFileErrors, WrongUnitIsDamaged) {
  const fs::path path = valid_session("kilo.h5");
  {
    Hdf5Edit edit(path);
    const hid_t torque = H5Dopen2(edit.get(), "/sets/set_001/torque", H5P_DEFAULT);
    ASSERT_GE(torque, 0);
    overwrite_string_attribute(torque, "unit", "kN\u00b7m");
    EXPECT_GE(H5Dclose(torque), 0);
  }
  expect_read_error(path, Kind::kDamaged, {"/sets/set_001/torque", "unit"});
}

// Links could lead outside the file (external links) or make one dataset appear twice.
TEST_F(SessionFileErrors, LinkInsteadOfDatasetIsDamaged) {
  const fs::path path = valid_session("linked.h5");
  {
    Hdf5Edit edit(path);
    EXPECT_GE(H5Ldelete(edit.get(), "/sets/set_000/time", H5P_DEFAULT), 0);
    EXPECT_GE(H5Lcreate_external("/etc/passwd", "/time", edit.get(), "/sets/set_000/time",
                                 H5P_DEFAULT, H5P_DEFAULT),
              0);
  }
  expect_read_error(path, Kind::kDamaged, {"/sets/set_000/time", "link"});
}

// A hostile file declares a trillion rows it does not store: refused before allocating.
TEST_F(SessionFileErrors, AbsurdDeclaredSizeIsDamagedNotAllocated) {
  const fs::path path = valid_session("hostile.h5");
  {
    Hdf5Edit edit(path);
    EXPECT_GE(H5Ldelete(edit.get(), "/sets/set_000/velocity", H5P_DEFAULT), 0);
    const hsize_t rows = hsize_t{1} << 40;
    const hsize_t max_rows = H5S_UNLIMITED;
    const hsize_t chunk = 1024;
    const hid_t space = H5Screate_simple(1, &rows, &max_rows);
    const hid_t creation = H5Pcreate(H5P_DATASET_CREATE);
    EXPECT_GE(H5Pset_chunk(creation, 1, &chunk), 0);
    const hid_t velocity = H5Dcreate2(edit.get(), "/sets/set_000/velocity", H5T_IEEE_F64LE, space,
                                      H5P_DEFAULT, creation, H5P_DEFAULT);
    ASSERT_GE(velocity, 0);
    const hid_t string_type = H5Tcopy(H5T_C_S1);
    EXPECT_GE(H5Tset_size(string_type, H5T_VARIABLE), 0);
    const hid_t scalar = H5Screate(H5S_SCALAR);
    const hid_t unit = H5Acreate2(velocity, "unit", string_type, scalar, H5P_DEFAULT, H5P_DEFAULT);
    const char* deg_per_s = "deg/s";
    EXPECT_GE(H5Awrite(unit, string_type, &deg_per_s), 0);
    EXPECT_GE(H5Aclose(unit), 0);
    EXPECT_GE(H5Sclose(scalar), 0);
    EXPECT_GE(H5Tclose(string_type), 0);
    EXPECT_GE(H5Dclose(velocity), 0);
    EXPECT_GE(H5Pclose(creation), 0);
    EXPECT_GE(H5Sclose(space), 0);
  }
  expect_read_error(path, Kind::kDamaged, {"/sets/set_000/velocity", "declares"});
}

// ---------------------------------------------------------------------------------------------
// Writing: failures and misuse

class SessionFileWriter : public SessionFileTestBase {};

TEST_F(SessionFileWriter, UncreatableFileIsWriteFailed) {
  const fs::path path = file("no-such-directory") / "session.h5";
  try {
    SessionWriter writer(path, make_info());
    ADD_FAILURE() << "creating " << path << " did not throw";
  } catch (const SessionFileError& error) {
    expect_error(error, path, Kind::kWriteFailed, {"cannot create", "No such file or directory"});
  }
}

// From now on this process may not make the file any bigger: writes past its end fail with
// EFBIG, as they fail with ENOSPC on a full disk.
bool forbid_file_growth(const fs::path& path) {
  ::signal(SIGXFSZ, SIG_IGN);
  const auto size = static_cast<rlim_t>(fs::file_size(path));
  const rlimit limit{size, size};
  return ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
}

bool is_documented_write_failure(const SessionFileError& error, const fs::path& path) {
  std::fprintf(stderr, "expected failure: %s\n", error.what());
  const std::string what = error.what();
  return error.kind() == Kind::kWriteFailed && what.starts_with(path.string() + ": ") &&
         what.find('\n') == std::string::npos;
}

// The disk fills up mid-set: append throws kWriteFailed naming the file, everything flushed
// before stays readable, and the program still exits cleanly (HDF5 1.10 crashes at exit after
// a failed close unless the writer avoids one).
TEST_F(SessionFileWriter, DiskFullMidSetKeepsFlushedSamplesReadable) {
  const Session session = make_session();
  const SetSignals& source = session.sets[1].signals;
  const fs::path path = file("full.h5");
  constexpr std::size_t kFlushed = 2000;
  const int outcome = run_in_child(
      [&] {
        SessionWriter writer(path, session.info, {std::chrono::milliseconds(0), 512});
        writer.begin_set(session.sets[1].info);
        const std::vector<Sample> samples = to_samples(source);
        writer.append(std::span(samples).first(kFlushed));
        if (!forbid_file_growth(path)) return 10;
        try {
          writer.append(std::span(samples).subspan(kFlushed));
          return 11;  // the limit did not make anything fail
        } catch (const SessionFileError& error) {
          if (!is_documented_write_failure(error, path)) return 12;
        }
        // Later calls keep failing instead of writing into a file in an unknown state.
        try {
          writer.end_set(session.sets[1].stats);
          return 13;
        } catch (const SessionFileError& again) {
          if (again.kind() != Kind::kWriteFailed) return 14;
        }
        return 0;
      },
      /*run_exit_handlers=*/true);
  ASSERT_EQ(0, outcome) << "see the child's output above";

  const Session read = read_session(path);
  EXPECT_FALSE(read.complete);
  ASSERT_EQ(1u, read.sets.size());
  EXPECT_FALSE(read.sets[0].stats.complete);
  const SetSignals& signals = read.sets[0].signals;
  expect_same_signals(first_rows(source, kFlushed), signals, "set 1");
}

// The disk is full when a set begins or ends, or when the session finishes: the step fails
// before HDF5 touches the file, so the file stays readable with everything written before.
TEST_F(SessionFileWriter, DiskFullBetweenSetsKeepsTheFileReadable) {
  const Session session = make_session();
  enum class Step { kBeginSet, kEndSet, kFinish };
  for (const Step failing : {Step::kBeginSet, Step::kEndSet, Step::kFinish}) {
    const int step_number = static_cast<int>(failing);
    SCOPED_TRACE("failing step " + std::to_string(step_number));
    const fs::path path = file("full-" + std::to_string(step_number) + ".h5");
    const int outcome = run_in_child(
        [&] {
          SessionWriter writer(path, session.info, {std::chrono::milliseconds(0), 512});
          writer.begin_set(session.sets[0].info);
          writer.append(to_samples(session.sets[0].signals));
          writer.end_set(session.sets[0].stats);
          try {
            if (failing == Step::kBeginSet && !forbid_file_growth(path)) return 10;
            writer.begin_set(session.sets[1].info);
            writer.append(to_samples(session.sets[1].signals));
            if (failing == Step::kEndSet && !forbid_file_growth(path)) return 10;
            writer.end_set(session.sets[1].stats);
            if (failing == Step::kFinish && !forbid_file_growth(path)) return 10;
            writer.finish();
            return 11;
          } catch (const SessionFileError& error) {
            return is_documented_write_failure(error, path) ? 0 : 12;
          }
        },
        /*run_exit_handlers=*/true);
    ASSERT_EQ(0, outcome) << "see the child's output above";

    Session expected = session;
    expected.complete = false;
    expected.sets.resize(failing == Step::kBeginSet ? 1 : 2);
    if (failing == Step::kEndSet) {
      // Every sample was flushed; only the end-of-set attributes are missing.
      expected.sets[1].stats.complete = false;
      expected.sets[1].stats.dropped_samples = 0;
      expected.sets[1].stats.end_reason = read_session(path).sets.at(1).stats.end_reason;
      EXPECT_NE(std::string::npos, expected.sets[1].stats.end_reason.find("not ended"));
    }
    expect_same_session(expected, read_session(path));
  }
}

TEST_F(SessionFileWriter, MisuseIsALogicErrorAndLeavesTheWriterUsable) {
  const Session session = make_session();
  const fs::path path = file("misuse.h5");
  SessionWriter writer(path, session.info);
  const std::vector<Sample> samples = to_samples(session.sets[0].signals);
  EXPECT_THROW(writer.append(samples), std::logic_error);
  EXPECT_THROW(writer.end_set(session.sets[0].stats), std::logic_error);

  writer.begin_set(session.sets[0].info);
  EXPECT_THROW(writer.begin_set(session.sets[1].info), std::logic_error);
  EXPECT_THROW(writer.finish(), std::logic_error);
  writer.append(samples);
  SetStats wrong_count = session.sets[0].stats;
  wrong_count.sample_count += 1;
  EXPECT_THROW(writer.end_set(wrong_count), std::invalid_argument);
  writer.end_set(session.sets[0].stats);
  EXPECT_THROW(writer.begin_set(session.sets[0].info), std::invalid_argument);  // index reused
  writer.finish();
  EXPECT_THROW(writer.finish(), std::logic_error);

  Session expected = session;
  expected.sets.resize(1);
  expect_same_session(expected, read_session(path));
}

// ---------------------------------------------------------------------------------------------
// Interrupted recordings

class SessionFileIncomplete : public SessionFileTestBase {};

TEST_F(SessionFileIncomplete, WriterDestroyedWithoutFinishIsIncomplete) {
  Session session = make_session();
  const fs::path path = file("unfinished.h5");
  {
    SessionWriter writer(path, session.info);
    for (const RecordedSet& set : session.sets) {
      writer.begin_set(set.info);
      writer.append(to_samples(set.signals));
      writer.end_set(set.stats);
    }
  }
  session.complete = false;
  expect_same_session(session, read_session(path));
}

TEST_F(SessionFileIncomplete, WriterDestroyedMidSetKeepsAppendedSamples) {
  const Session session = make_session();
  const fs::path path = file("mid-set.h5");
  constexpr std::size_t kAppended = 1234;  // less than a chunk: still buffered at destruction
  {
    SessionWriter writer(path, session.info);
    writer.begin_set(session.sets[0].info);
    writer.append(to_samples(session.sets[0].signals));
    writer.end_set(session.sets[0].stats);
    writer.begin_set(session.sets[1].info);
    writer.append(to_samples(first_rows(session.sets[1].signals, kAppended)));
  }
  const Session read = read_session(path);
  EXPECT_FALSE(read.complete);
  ASSERT_EQ(2u, read.sets.size());
  expect_same_signals(session.sets[0].signals, read.sets[0].signals, "set 0");
  const RecordedSet& interrupted = read.sets[1];
  expect_same_set_info(session.sets[1].info, interrupted.info);
  EXPECT_FALSE(interrupted.stats.complete);
  EXPECT_EQ(kAppended, interrupted.stats.sample_count);
  EXPECT_NE(std::string::npos, interrupted.stats.end_reason.find("not ended"));
  expect_same_signals(first_rows(session.sets[1].signals, kAppended), interrupted.signals, "set 1");
}

TEST_F(SessionFileIncomplete, KilledWriterLeavesFlushedSamplesReadable) {
  const Session session = make_session();
  const fs::path path = file("killed.h5");
  constexpr std::size_t kFlushed = 2500;
  record_then_kill(path, session, kFlushed);

  // A plain HDF5 open refuses the file (its superblock still says "open for writing"), which
  // is why read_session opens with SWMR read first.
  hid_t plain = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_LT(plain, 0);
  if (plain >= 0) H5Fclose(plain);

  const Session read = read_session(path);
  EXPECT_FALSE(read.complete);
  ASSERT_EQ(2u, read.sets.size());
  expect_same_set_info(session.sets[0].info, read.sets[0].info);
  EXPECT_TRUE(read.sets[0].stats.complete);
  expect_same_signals(session.sets[0].signals, read.sets[0].signals, "set 0");
  EXPECT_FALSE(read.sets[1].stats.complete);
  expect_same_signals(first_rows(session.sets[1].signals, kFlushed), read.sets[1].signals, "set 1");
}

// ---------------------------------------------------------------------------------------------
// Layout promises of docs/file-format.md, checked independently of read_session

class SessionFileLayout : public SessionFileTestBase {};

TEST_F(SessionFileLayout, EveryDatasetHasAUnit) {
  const fs::path path = file("units.h5");
  write_session(path, make_session());
  struct Visit {
    int datasets = 0;
    std::vector<std::string> without_unit;
  } visit;
  const hid_t session = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(session, 0);
  const H5O_iterate_t check = [](hid_t root, const char* name, const H5O_info_t* info,
                                 void* data) -> herr_t {
    auto& into = *static_cast<Visit*>(data);
    if (info->type != H5O_TYPE_DATASET) return 0;
    ++into.datasets;
    if (H5Aexists_by_name(root, name, "unit", H5P_DEFAULT) <= 0) into.without_unit.push_back(name);
    return 0;
  };
  EXPECT_GE(H5Ovisit2(session, H5_INDEX_NAME, H5_ITER_INC, check, &visit, H5O_INFO_BASIC), 0);
  EXPECT_GE(H5Fclose(session), 0);
  // Five signals and flushed_rows per set, four event columns (version 2).
  EXPECT_EQ(3 * 6 + 4, visit.datasets);
  EXPECT_TRUE(visit.without_unit.empty()) << "first without unit: " << visit.without_unit.front();
}

TEST_F(SessionFileLayout, RootAttributesAndSetNamesAreAsDocumented) {
  const fs::path path = file("layout.h5");
  write_session(path, make_session());
  const hid_t session = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(session, 0);
  for (const char* name : {"format", "format_version", "created_utc", "software", "complete"}) {
    EXPECT_GT(H5Aexists(session, name), 0) << name;
  }
  int version = 0;
  const hid_t attribute = H5Aopen(session, "format_version", H5P_DEFAULT);
  EXPECT_GE(H5Aread(attribute, H5T_NATIVE_INT, &version), 0);
  EXPECT_GE(H5Aclose(attribute), 0);
  EXPECT_EQ(kFormatVersion, version);
  for (const char* name : {"/sets/set_000", "/sets/set_001", "/sets/set_002"}) {
    EXPECT_GT(H5Lexists(session, name, H5P_DEFAULT), 0) << name;
  }
  EXPECT_GT(H5Aexists_by_name(session, "/subject", "body_mass_unit", H5P_DEFAULT), 0);
  EXPECT_GE(H5Fclose(session), 0);
}

// ---------------------------------------------------------------------------------------------
// Researchers read the files without isokin

class SessionFileH5py : public SessionFileTestBase {
 protected:
  void SetUp() override {
    SessionFileTestBase::SetUp();
    if (!h5py_available()) GTEST_SKIP() << "/usr/bin/python3 with h5py is not installed";
  }
};

TEST_F(SessionFileH5py, ReadsASessionWithoutIsokin) {
  Session session = make_session();
  constexpr double kTorque = -123.456e-7;
  session.sets[1].signals.torque[123] = kTorque;
  session.sets[1].signals.status[123] = drivers::kStatusGapBefore | drivers::kStatusTorqueClipped;
  const fs::path path = file("for-python.h5");
  write_session(path, session);

  const std::string output = run_python(
      "import sys, h5py\n"
      "f = h5py.File(sys.argv[1], 'r')\n"
      "print(f.attrs['format'], int(f.attrs['format_version']), int(f.attrs['complete']))\n"
      "s = f['sets/set_001']\n"
      "print(repr(float(s['torque'][123])))\n"
      "print(int(s['status'][123]))\n"
      "print(s['torque'].attrs['unit'])\n"
      "print(s.attrs['side'], float(s.attrs['extension_velocity']),"
      " s.attrs['extension_velocity_unit'])\n"
      "print(len(s['time']), int(s.attrs['sample_count']))\n"
      "print(f['subject'].attrs['id'], float(f['subject'].attrs['body_mass']))\n",
      path);
  const std::vector<std::string> lines = lines_of(output);
  ASSERT_EQ(7u, lines.size()) << output;
  EXPECT_EQ("isokin " + std::to_string(kFormatVersion) + " 1", lines[0]);
  EXPECT_EQ(kTorque, std::strtod(lines[1].c_str(), nullptr)) << lines[1];
  EXPECT_EQ("5", lines[2]);
  EXPECT_EQ("N\u00b7m", lines[3]);
  EXPECT_EQ("right 180.0 deg/s", lines[4]);
  EXPECT_EQ("4096 4096", lines[5]);
  EXPECT_EQ("S-042 72.35", lines[6]);
}

TEST_F(SessionFileH5py, ReadsAKilledWritersFileInSwmrMode) {
  const Session session = make_session();
  const fs::path path = file("killed-for-python.h5");
  record_then_kill(path, session, 1500);
  const std::string output = run_python(
      "import sys, h5py\n"
      "f = h5py.File(sys.argv[1], 'r', swmr=True)\n"
      "s = f['sets/set_001']\n"
      "print(len(s['torque']), int(f.attrs['complete']), 'sample_count' in s.attrs)\n"
      "print(repr(float(s['time'][1499])))\n",
      path);
  const std::vector<std::string> lines = lines_of(output);
  ASSERT_EQ(2u, lines.size()) << output;
  EXPECT_EQ("1500 0 False", lines[0]);
  EXPECT_EQ(session.sets[1].signals.time[1499], std::strtod(lines[1].c_str(), nullptr));
}

}  // namespace
}  // namespace isokin::acquisition
