// SIGKILL at each moment the writer has the file open outside SWMR mode (creating it, beginning
// and ending a set, finishing the session) and between sets, reached deterministically with the
// writer's test hook (ISOKIN_TEST_KILL_AT, acquisition/src/kill_point.h): the file and all its
// complete sets must read afterwards, without the original being modified (issue 19, item 3).
#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "isokin/acquisition/session_file.h"

// libhdf5's own metadata checksum (Jenkins lookup3), exported by the library though not in its
// public headers: used below to rewrite a superblock as a writer killed mid-flush leaves it.
extern "C" std::uint32_t H5_checksum_metadata(const void* data, std::size_t len,
                                              std::uint32_t initval);

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
namespace drivers = isokin::drivers;

constexpr int kSets = 4;
constexpr std::size_t kSamplesPerSet = 300;

SessionInfo crash_info() {
  SessionInfo info;
  info.created_utc = "2026-12-04T18:00:00Z";
  info.software = "isokin test";
  info.protocol_name = "crash";
  info.subject.id = "S-19";
  info.subject.body_mass_kg = 70.0;
  info.device.driver = "sim";
  info.device.sample_rate_hz = 100.0;
  return info;
}

SetInfo set_info(int k) {
  SetInfo info;
  info.index = k;
  info.label = "set " + std::to_string(k);
  info.protocol_set = k;
  return info;
}

// Distinct values per set, so a set read back can only be the one written.
std::vector<drivers::Sample> set_samples(int k) {
  std::vector<drivers::Sample> samples(kSamplesPerSet);
  for (std::size_t i = 0; i < kSamplesPerSet; ++i) {
    const double t = static_cast<double>(i) / 100.0;
    samples[i] = {t, 100.0 * k + static_cast<double>(i), 10.0 + t, 60.0, 0};
  }
  return samples;
}

// Records a 4-set session the way `isokin run` does (events before, during and between sets),
// in a child process whose writer kills itself at `kill_at` (POINT:N). Returns how the child
// ended: 128 + signal number, or its exit code.
int record_and_kill_at(const fs::path& path, const std::string& kill_at) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("ISOKIN_TEST_KILL_AT", kill_at.c_str(), 1);
    try {
      SessionWriter writer(path, crash_info(), {std::chrono::milliseconds(0), 128});
      writer.add_event({0.0, -1, "session-start", ""});
      writer.write_events();
      for (int k = 0; k < kSets; ++k) {
        writer.begin_set(set_info(k));
        const std::vector<drivers::Sample> samples = set_samples(k);
        writer.append(std::span(samples).subspan(0, kSamplesPerSet / 2));
        writer.add_event({1.0 + k, k, "mark", "half way"});
        writer.append(std::span(samples).subspan(kSamplesPerSet / 2));
        writer.end_set({kSamplesPerSet, 0, true, "repetitions done", {}});
        writer.add_event({2.0 + k, k, "rest", "10 s"});
        writer.write_events();
      }
      writer.finish();
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct KillCase {
  const char* kill_at;
  int complete_sets;   // sets 0 .. complete_sets-1 ended before the kill
  bool last_set_full;  // the set after them holds all its samples but did not end
  bool first_event;    // the first event ("session-start") reached the disk before the kill
  const char* name;
};

class KilledWriter : public ::testing::TestWithParam<KillCase> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-crash-" + std::to_string(::getpid()) + "-" + GetParam().name);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

void expect_set_as_written(const RecordedSet& set, int k, std::size_t rows) {
  const std::vector<drivers::Sample> written = set_samples(k);
  ASSERT_EQ(set.signals.size(), rows) << "set " << k;
  for (std::size_t i = 0; i < rows; ++i) {
    ASSERT_EQ(set.signals.time[i], written[i].time) << "set " << k << " row " << i;
    ASSERT_EQ(set.signals.torque[i], written[i].torque) << "set " << k << " row " << i;
  }
  EXPECT_EQ(set.info.label, "set " + std::to_string(k));
}

TEST_P(KilledWriter, LeavesAFileWhoseCompleteSetsAllRead) {
  const KillCase& c = GetParam();
  const fs::path path = dir_ / "killed.h5";
  ASSERT_EQ(record_and_kill_at(path, c.kill_at), 128 + SIGKILL) << "not killed at " << c.kill_at;
  // The kill hit a window: plain HDF5 refuses the file ("already open for write").
  H5E_BEGIN_TRY {
    const hid_t plain = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    EXPECT_LT(plain, 0) << "the file was closed at " << c.kill_at;
    if (plain >= 0) H5Fclose(plain);
  }
  H5E_END_TRY;
  const std::string before = bytes_of(path);

  const Session session = read_session(path);  // the strict reader, as info and analyze use
  EXPECT_FALSE(session.complete);
  const std::size_t expected_sets =
      static_cast<std::size_t>(c.complete_sets) + (c.last_set_full ? 1 : 0);
  ASSERT_EQ(session.sets.size(), expected_sets);
  for (int k = 0; k < c.complete_sets; ++k) {
    const RecordedSet& set = session.sets[static_cast<std::size_t>(k)];
    expect_set_as_written(set, k, kSamplesPerSet);
    EXPECT_TRUE(set.stats.complete);
    EXPECT_EQ(set.stats.end_reason, "repetitions done");
  }
  if (c.last_set_full) {
    const RecordedSet& set = session.sets.back();
    expect_set_as_written(set, c.complete_sets, kSamplesPerSet);
    EXPECT_FALSE(set.stats.complete);  // killed before its end-of-set attributes reached disk
  }
  if (c.first_event) {
    ASSERT_FALSE(session.events.empty());
    EXPECT_EQ(session.events.front().kind, "session-start");
  }

  const SalvagedSession salvaged = salvage_session(path);
  EXPECT_TRUE(salvaged.lost.empty()) << salvaged.lost.front();
  EXPECT_EQ(salvaged.session.sets.size(), expected_sets);
  EXPECT_EQ(bytes_of(path), before) << "reading modified the original";
}

// events:N is the Nth write of the events queued between sets (the first comes before the first
// set); its own rows were not flushed yet, the earlier ones were.
INSTANTIATE_TEST_SUITE_P(
    EachWindow, KilledWriter,
    ::testing::Values(KillCase{"begin-set:1", 0, false, true, "first_begin_set"},
                      KillCase{"begin-set:3", 2, false, true, "third_begin_set"},
                      KillCase{"end-set:1", 0, true, true, "first_end_set"},
                      KillCase{"end-set:4", 3, true, true, "last_end_set"},
                      KillCase{"events:1", 0, false, false, "events_before_the_sets"},
                      KillCase{"events:3", 2, false, true, "events_between_sets"},
                      KillCase{"finish", 4, false, true, "finish"}),
    [](const ::testing::TestParamInfo<KillCase>& info) { return std::string(info.param.name); });

// Killed while creating the file, before anything was recorded: HDF5 had written only the
// superblock. No set or event is lost; every reader says in one line that the file is no
// session, and nothing is modified.
TEST(KilledWriterCreatingTheFile, LeavesNoSessionAndAClearError) {
  const fs::path dir =
      fs::temp_directory_path() / ("isokin-crash-create-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / "killed.h5";
  ASSERT_EQ(record_and_kill_at(path, "create"), 128 + SIGKILL);
  const std::string before = bytes_of(path);
  try {
    (void)read_session(path);
    ADD_FAILURE() << "a file killed while being created has no session to read";
  } catch (const SessionFileError& error) {
    EXPECT_EQ(error.kind(), SessionFileError::Kind::kNotHdf5) << error.what();
    EXPECT_EQ(std::string(error.what()).rfind(path.string() + ": ", 0), 0u) << error.what();
  }
  EXPECT_THROW((void)salvage_session(path), SessionFileError);
  EXPECT_EQ(bytes_of(path), before);
  fs::remove_all(dir);
}

// A writer killed while libhdf5 flushed an ordinary step can leave metadata written past the end
// of allocation its superblock records (the superblock is written last): random kills of
// `isokin demo` left "addr overflow" and "len not positive after adjustment for EOA" files. The
// same state, made deterministically: a file killed while ending its second set, whose recorded
// end is then lowered to a quarter. h5clear -s --increment makes such a file readable;
// the reader does the same on a private copy, and reads every complete set.
TEST(KilledWriterMidFlush, MetadataPastTheRecordedEndStillReads) {
  const fs::path dir =
      fs::temp_directory_path() / ("isokin-crash-eoa-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / "killed.h5";
  ASSERT_EQ(record_and_kill_at(path, "end-set:2"), 128 + SIGKILL);
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    std::array<char, 48> superblock{};  // version 3: end of allocation at 28, checksum at 44
    ASSERT_TRUE(file.read(superblock.data(), superblock.size()));
    ASSERT_EQ(superblock[8], 3);
    std::uint64_t end = 0;  // little-endian, as is this host
    std::memcpy(&end, superblock.data() + 28, sizeof end);
    const std::uint64_t lowered = end / 4;
    std::memcpy(superblock.data() + 28, &lowered, sizeof lowered);
    const std::uint32_t checksum = H5_checksum_metadata(superblock.data(), 44, 0);
    std::memcpy(superblock.data() + 44, &checksum, sizeof checksum);
    file.seekp(0);
    ASSERT_TRUE(file.write(superblock.data(), superblock.size()));
  }
  const std::string before = bytes_of(path);
  const Session session = read_session(path);
  ASSERT_EQ(session.sets.size(), 2u);
  expect_set_as_written(session.sets[0], 0, kSamplesPerSet);
  EXPECT_TRUE(session.sets[0].stats.complete);
  expect_set_as_written(session.sets[1], 1, kSamplesPerSet);
  EXPECT_EQ(bytes_of(path), before) << "reading modified the original";
  fs::remove_all(dir);
}

// The reading child's default time limit counts what a file stores, not its apparent size.
TEST(UntrustedReadTimeLimit, FollowsTheStoredBytesNotTheApparentSize) {
  const fs::path dir =
      fs::temp_directory_path() / ("isokin-time-limit-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path sparse = dir / "sparse.h5";
  { std::ofstream(sparse) << "HDF"; }
  fs::resize_file(sparse, std::uintmax_t{10} << 30);  // 10 GiB, nearly all of it a hole
  EXPECT_EQ(untrusted_read_time_limit(sparse), std::chrono::seconds(20));
  const fs::path stored = dir / "stored.h5";
  {
    std::ofstream out(stored, std::ios::binary);
    const std::string mib(std::size_t{1} << 20, 'x');
    for (int i = 0; i < 80; ++i) out << mib;  // 80 MiB really written
  }
  EXPECT_EQ(untrusted_read_time_limit(stored), std::chrono::seconds(30));
  fs::remove_all(dir);
}

}  // namespace
