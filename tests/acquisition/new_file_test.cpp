// New files that never destroy one (acquisition/new_file.h), on the real file system: the
// recording's exclusive, locked file as StreamedRecording (CLI and desktop application) makes
// it, and the unique temporary every command writes its output under.
#include "isokin/acquisition/new_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>

#include "isokin/acquisition/session_file.h"
#include "isokin/acquisition/streamed_recording.h"

namespace {

namespace fs = std::filesystem;
using isokin::acquisition::PendingFile;
using isokin::acquisition::RecordingFile;
using isokin::acquisition::SessionInfo;
using isokin::acquisition::StreamedRecording;

class NewFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-new-file-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static std::string error_of(const std::function<void()>& action) {
    try {
      action();
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "no error";
  }
  [[nodiscard]] std::size_t files_in_dir() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }
  static SessionInfo info() {
    SessionInfo i;
    i.created_utc = "2026-12-04T12:00:00Z";
    i.device.driver = "sim";
    i.device.sample_rate_hz = 100.0;
    return i;
  }

  fs::path dir_;
};

// The path the CLI and the desktop application record through: an existing file is refused
// and kept; while one recording holds a file a second one is refused with the reason.
TEST_F(NewFile, StreamedRecordingNeverOverwritesAndLocksItsFile) {
  const fs::path taken = dir_ / "taken.h5";
  std::ofstream(taken) << "an earlier session";
  EXPECT_EQ(error_of([&] { StreamedRecording r(taken, info(), std::nullopt); }),
            taken.string() + " exists: a recording never overwrites a file; give a new name");
  EXPECT_EQ(slurp(taken), "an earlier session");

  const fs::path path = dir_ / "live.h5";
  std::optional<StreamedRecording> first;
  first.emplace(path, info(), std::nullopt);
  EXPECT_EQ(error_of([&] { StreamedRecording r(path, info(), std::nullopt); }),
            path.string() + " is being recorded right now by another program; give a new name");
  EXPECT_EQ(error_of([&] { RecordingFile::check_new(path); }),
            path.string() + " is being recorded right now by another program; give a new name");
  first->writer().finish();
  first.reset();
  EXPECT_TRUE(isokin::acquisition::read_session(path).complete);  // the first, whole
  EXPECT_EQ(error_of([&] { RecordingFile::check_new(path); }),
            path.string() + " exists: a recording never overwrites a file; give a new name");
}

// A recording that cannot start (a bad subject value) leaves no file behind.
TEST_F(NewFile, ARecordingThatCannotStartLeavesNoFile) {
  SessionInfo bad = info();
  bad.subject.age_years = -3;
  EXPECT_THROW(StreamedRecording(dir_ / "never.h5", bad, std::nullopt), std::invalid_argument);
  EXPECT_EQ(files_in_dir(), 0U);
}

TEST_F(NewFile, PendingFilesAreUniqueNeverReplaceAndLeaveNothingWhenAbandoned) {
  const fs::path target = dir_ / "out.csv";
  std::ofstream(dir_ / "out.csv.partial") << "someone's file";
  {
    PendingFile a(target);
    PendingFile b(target);
    EXPECT_NE(a.path(), b.path());
    EXPECT_EQ(a.path().parent_path(), dir_);
    EXPECT_TRUE(a.path().filename().string().starts_with(".out.csv.partial-"));
    EXPECT_EQ(slurp(a.path()), "");
  }  // neither committed: both removed
  EXPECT_EQ(files_in_dir(), 1U);

  {
    PendingFile pending(target);
    std::ofstream(pending.path()) << "first result";
    pending.commit();
  }
  EXPECT_EQ(slurp(target), "first result");

  PendingFile late(target);  // the target appeared while this was being written
  std::ofstream(late.path()) << "second result";
  EXPECT_EQ(error_of([&] { late.commit(); }),
            target.string() +
                " appeared while it was being written; it is left as it is and nothing was "
                "written there");
  EXPECT_EQ(slurp(target), "first result");

  PendingFile replacing(target);
  std::ofstream(replacing.path()) << "renewed";
  replacing.commit(PendingFile::Existing::kReplace);
  EXPECT_EQ(slurp(target), "renewed");
  EXPECT_EQ(slurp(dir_ / "out.csv.partial"), "someone's file");
}

TEST_F(NewFile, APendingFileInAMissingFolderSaysWhere) {
  const fs::path target = dir_ / "missing" / "out.h5";
  EXPECT_EQ(error_of([&] { PendingFile p(target); }),
            "cannot create a temporary file in " + (dir_ / "missing").string() + " for " +
                target.string() + ": No such file or directory");
}

}  // namespace
