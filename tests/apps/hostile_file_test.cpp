// Files made to attack the reader, given to every command that opens a session, run as a user
// would. Each must end with a one-line error naming the file and write nothing; none may hang
// (ctest's TIMEOUT on this program fails the test instead of waiting forever) or crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>

#include "support/cli_runner.h"

namespace {

namespace fs = std::filesystem;
using isokin::test::CommandResult;

// Found by fuzz_session_file on 2026-11-25. In both, a variable-length string attribute's
// global-heap entry is corrupted, and libhdf5 1.10.8 fails in H5HG_read inside H5Aread, before
// isokin can check anything (docs/security.md): in the first it loops (the root attribute
// `format`), in the second it copies about 4 GB from a heap block of a few kilobytes (ASan:
// memcpy-param-overlap; without ASan a segmentation fault).
const char* const kFiles[] = {"hostile-h5hg-read-hang.h5", "hostile-h5hg-read-overflow.h5"};

class HostileFile : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    dir_ =
        fs::temp_directory_path() / ("isokin-hostile-" + std::to_string(::getpid()) + "-" + name);
    fs::create_directories(dir_);
    file_ = dir_ / "from-elsewhere.h5";
    fs::copy_file(fs::path(ISOKIN_SOURCE_DIR) / "tests/data" / GetParam(), file_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  [[nodiscard]] CommandResult run(const std::string& args) const {
    return isokin::test::run_cli(args, dir_ / "stderr.txt");
  }
  // The error every command must give: exit code 1, one line on stderr naming the file.
  void expect_clear_error(const CommandResult& r) const {
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(r.err.rfind("isokin: " + file_.string() + ": ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  }
  fs::path dir_;
  fs::path file_;
};

TEST_P(HostileFile, InfoFailsWithAMessage) {
  expect_clear_error(run("info '" + file_.string() + "'"));
}

TEST_P(HostileFile, AnalyzeFailsWithAMessage) {
  expect_clear_error(run("analyze '" + file_.string() + "'"));
}

TEST_P(HostileFile, ExportFailsWithAMessageAndWritesNothing) {
  const fs::path out = dir_ / "export";
  expect_clear_error(
      run("export '" + file_.string() + "' --format csv --out '" + out.string() + "'"));
  EXPECT_FALSE(fs::exists(out));
}

TEST_P(HostileFile, RepairFailsWithAMessageAndWritesNothing) {
  const fs::path out = dir_ / "repaired.h5";
  expect_clear_error(run("repair '" + file_.string() + "' --out '" + out.string() + "'"));
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".partial"));
}

TEST_P(HostileFile, AnonymizeFailsWithAMessageAndWritesNothing) {
  const fs::path out = dir_ / "copy.h5";
  expect_clear_error(run("anonymize '" + file_.string() + "' --out '" + out.string() + "'"));
  EXPECT_FALSE(fs::exists(out));
}

TEST_P(HostileFile, BatchSkipsItAndAnalysesTheOthers) {
  const fs::path good = dir_ / "good.h5";
  const CommandResult demo = run("demo --out '" + good.string() + "' --seed 1");
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  const fs::path table = dir_ / "cohort.csv";
  const CommandResult r =
      run("batch '" + dir_.string() + "' --out '" + table.string() + "' --jobs 2");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;  // 3: something was skipped
  EXPECT_NE(r.err.find("skipped " + file_.string() + ": "), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("2 session(s): 1 analysed"), std::string::npos) << r.out;
  EXPECT_NE(isokin::test::slurp(table).find(good.string()), std::string::npos);
}

// The file libhdf5 loops on, made to look 10 GB large by a hole at its end (a sparse file: it
// still stores a few kilobytes). The reading child's time limit follows what the file stores,
// so the command gives up after the base 20 s, not 20 s + 1 s per 8 MiB = 22 minutes.
TEST(HostileSparseFile, IsGivenTheTimeOfWhatItStoresNotItsApparentSize) {
  const fs::path dir = fs::temp_directory_path() / ("isokin-sparse-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "sparse.h5";
  fs::copy_file(fs::path(ISOKIN_SOURCE_DIR) / "tests/data" / kFiles[0], file);
  fs::resize_file(file, std::uintmax_t{10} << 30);
  const auto start = std::chrono::steady_clock::now();
  const CommandResult r = isokin::test::run_cli("info '" + file.string() + "'", dir / "stderr.txt");
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fs::remove_all(dir);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("did not finish within 20 s"), std::string::npos) << r.err;
  EXPECT_LT(seconds, 60.0);
}

INSTANTIATE_TEST_SUITE_P(FuzzFindings, HostileFile, ::testing::ValuesIn(kFiles));

}  // namespace
