// Files made to attack the reader, given to every command that opens a session, run as a user
// would. Each must end with a one-line error naming the file and write nothing; none may hang
// (ctest's TIMEOUT on this program fails the test instead of waiting forever) or crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
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

INSTANTIATE_TEST_SUITE_P(FuzzFindings, HostileFile, ::testing::ValuesIn(kFiles));

}  // namespace
