// `isokin batch` and `isokin merge` on a small simulated cohort, run as a user would.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/cli_runner.h"

namespace {

namespace fs = std::filesystem;
using isokin::test::CommandResult;
using isokin::test::slurp;

constexpr int kSubjects = 200;

class Batch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cohort_ = fs::temp_directory_path() / ("isokin-cohort-" + std::to_string(::getpid()));
    fs::create_directories(cohort_ / "site-b");
    // The cohort: 200 simulated subjects, `isokin demo --seed N` each, in two folders.
    for (int seed = 1; seed <= kSubjects; ++seed) {
      const fs::path file = (seed <= kSubjects / 2 ? cohort_ : cohort_ / "site-b") /
                            ("subject-" + std::to_string(seed) + ".h5");
      const auto r = run("demo --out '" + file.string() + "' --seed " + std::to_string(seed));
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    std::ofstream(cohort_ / "broken.h5") << "not a session";
  }
  static void TearDownTestSuite() { fs::remove_all(cohort_); }
  void SetUp() override {
    dir_ = cohort_.string() + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static CommandResult run(const std::string& args) {
    return isokin::test::run_cli(
        args, fs::temp_directory_path() / ("isokin-batch-stderr-" + std::to_string(::getpid())));
  }
  std::string batch(const std::string& extra, const fs::path& out, int expected_exit = 3) const {
    const auto r = run("batch '" + cohort_.string() + "' --out '" + out.string() + "' " + extra);
    EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
    return slurp(out);
  }
  void EverySessionIsATidyBlockAndABadFileIsSkippedNotFatal() {
    const fs::path out = dir_ / "all.csv";
    const auto r = run("batch '" + cohort_.string() + "' --out '" + out.string() + "' --jobs 2");
    EXPECT_EQ(r.exit_code, 3);  // something was skipped
    EXPECT_NE(r.err.find("broken.h5"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find(fmt::format("{} session(s): {} analysed", kSubjects + 1, kSubjects)),
              std::string::npos)
        << r.out;
    const std::string table = slurp(out);
    std::size_t markers = 0;
    for (auto at = table.find(",rows_of_this_file,"); at != std::string::npos;
         at = table.find(",rows_of_this_file,", at + 1)) {
      ++markers;
    }
    EXPECT_EQ(markers, static_cast<std::size_t>(kSubjects));
    // The numbers are `isokin analyze`'s.
    const fs::path one = cohort_ / "subject-2.h5";
    const auto a = run("analyze --json '" + one.string() + "'");
    ASSERT_EQ(a.exit_code, 0);
    const auto j = nlohmann::json::parse(a.out);
    const double peak = j["sets"][0]["extension"]["peak_torque_nm"].get<double>();
    const std::string expected = one.string() + ",DEMO-001,0,right,test,60,,extension,quadriceps," +
                                 "concentric,peak_torque," + fmt::format("{}", peak) + ",N·m\n";
    EXPECT_NE(table.find(expected), std::string::npos) << expected;
  }

  void ShardsMergedEqualASingleRunRowForRow() {
    const std::string single = batch("--jobs 1", dir_ / "single.csv");
    std::string parts;
    for (int i = 1; i <= 3; ++i) {
      const fs::path part = dir_ / ("part" + std::to_string(i) + ".csv");
      const auto r = run("batch '" + cohort_.string() + "' --out '" + part.string() + "' --shard " +
                         std::to_string(i) + "/3");
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 3) << r.err;
      parts += " '" + part.string() + "'";
    }
    const fs::path merged = dir_ / "merged.csv";
    const auto m = run("merge" + parts + " --out '" + merged.string() + "'");
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_EQ(slurp(merged), single);
    // Any number of parallel jobs gives the same table.
    EXPECT_EQ(batch("--jobs 3", dir_ / "three.csv"), single);
  }

  void ResumeAfterAnInterruptedRunFinishesTheSameTable() {
    const std::string single = batch("--jobs 2", dir_ / "single.csv");
    // A run killed while writing: the table cut in the middle of a line of the third session.
    const fs::path resumed = dir_ / "resumed.csv";
    std::ofstream(resumed, std::ios::binary) << single.substr(0, single.size() / 2 + 7);
    const auto r =
        run("batch '" + cohort_.string() + "' --out '" + resumed.string() + "' --resume");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.out.find("already done"), std::string::npos) << r.out;
    EXPECT_EQ(slurp(resumed), single);
    // Without --resume an existing table is never overwritten.
    const auto again = run("batch '" + cohort_.string() + "' --out '" + resumed.string() + "'");
    EXPECT_NE(again.exit_code, 0);
    EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
  }

  void BadShardAndOverlappingPartsAreClearErrors() {
    const auto bad = run("batch '" + cohort_.string() + "' --out '" + (dir_ / "x.csv").string() +
                         "' --shard 4/3");
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.err.find("--shard must be i/n"), std::string::npos) << bad.err;
    const std::string single = batch("", dir_ / "single.csv");
    const auto m =
        run("merge '" + (dir_ / "single.csv").string() + "' '" + (dir_ / "single.csv").string() +
            "' --out '" + (dir_ / "m.csv").string() + "'");
    EXPECT_NE(m.exit_code, 0);
    EXPECT_NE(m.err.find("more than one part"), std::string::npos) << m.err;
  }

  static fs::path cohort_;
  fs::path dir_;
};
fs::path Batch::cohort_;

// One test program run for the whole cohort: generating 200 sessions once, not per case.
TEST_F(Batch, TwoHundredSubjectCohort) {
  {
    SCOPED_TRACE("EverySessionIsATidyBlockAndABadFileIsSkippedNotFatal");
    EverySessionIsATidyBlockAndABadFileIsSkippedNotFatal();
    TearDown();
    SetUp();
  }
  {
    SCOPED_TRACE("ShardsMergedEqualASingleRunRowForRow");
    ShardsMergedEqualASingleRunRowForRow();
    TearDown();
    SetUp();
  }
  {
    SCOPED_TRACE("ResumeAfterAnInterruptedRunFinishesTheSameTable");
    ResumeAfterAnInterruptedRunFinishesTheSameTable();
    TearDown();
    SetUp();
  }
  {
    SCOPED_TRACE("BadShardAndOverlappingPartsAreClearErrors");
    BadShardAndOverlappingPartsAreClearErrors();
    TearDown();
    SetUp();
  }
}

}  // namespace
