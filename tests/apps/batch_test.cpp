// `isokin batch` and `isokin merge` on a small simulated cohort, run as a user would.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
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
    // The issue's cohort: 200 simulated subjects, `isokin demo --seed N` each, in two folders.
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
    // The subject columns are the file's, as `isokin export` reads them.
    const fs::path json = dir_ / "subject-2.json";
    ASSERT_EQ(
        run("export '" + one.string() + "' --format json --out '" + json.string() + "'").exit_code,
        0);
    const auto s = nlohmann::json::parse(slurp(json))["session"];
    const std::string subject =
        fmt::format("{},{},{},{},{},{},{}", s["subject_id"].get<std::string>(),
                    s["sex"].get<std::string>(), s["age_years"].get<int>(),
                    s["sport"].get<std::string>(), s["dominant_side"].get<std::string>(),
                    s["injured_side"].get<std::string>(), s["body_mass_kg"].get<double>());
    EXPECT_EQ(s["subject_id"], "DEMO-002");
    // `analyze --json` carries the same subject details.
    for (const char* key :
         {"subject_id", "sex", "age_years", "sport", "dominant_side", "injured_side"}) {
      EXPECT_EQ(j["session"][key], s[key]) << key;
    }
    // Set 1: the first test set (set 0 is the right side's gravity trial).
    EXPECT_EQ(j["sets"][0]["set_index"], 1);
    const std::string expected = one.string() + "," + subject +
                                 ",1,right,test,60,,extension,quadriceps,concentric,peak_torque," +
                                 fmt::format("{}", peak) + ",N·m\n";
    EXPECT_NE(table.find(expected), std::string::npos) << expected;
  }

  // `isokin cohort` over the cohort, checked against NumPy computing the same groups on its own
  // from the results table (numpy.percentile's default is type 7, like ours).
  void CohortSummaryAgreesWithNumPy() {
    if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "/usr/bin/python3 with numpy is not installed";
    }
    const fs::path results = dir_ / "results.csv";
    batch("--jobs 2", results);
    const fs::path summary = dir_ / "summary.csv";
    const auto r = run("cohort '" + results.string() + "' --by sex,sport,side --out '" +
                       summary.string() + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const fs::path script = dir_ / "check.py";
    std::ofstream(script) << R"(import csv, sys, collections
import numpy as np
keys = ['sex', 'sport', 'side']
measure = ['kind', 'velocity_deg_s', 'hold_angle_deg', 'movement', 'muscle_group',
           'contraction', 'parameter', 'unit']
groups = collections.defaultdict(list)
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    for row in csv.DictReader(f):
        if row['parameter'] == 'rows_of_this_file' or row['value'] == '':
            continue
        # A bilateral deficit belongs to no side (docs/batch.md).
        if row['parameter'] == 'bilateral_deficit_weaker_side':
            row['side'] = ''
        groups[tuple(row[c] for c in keys + measure)].append(float(row['value']))
got = {}
with open(sys.argv[2], newline='', encoding='utf-8') as f:
    for row in csv.DictReader(f):
        got[(tuple(row[c] for c in keys + measure), row['statistic'])] = float(row['value'])
checked = bad = 0
for key, values in groups.items():
    a = np.array(values)
    expected = {'n': len(a), 'mean': a.mean(), 'min': a.min(), 'max': a.max()}
    for p in (10, 25, 50, 75, 90):
        expected['p%d' % p] = np.percentile(a, p)
    if len(a) > 1:
        expected['sd'] = a.std(ddof=1)
    for statistic, e in expected.items():
        g = got.get((key, statistic))
        checked += 1
        if g is None or abs(g - e) > 1e-9 * max(1.0, abs(e)):
            bad += 1
            print('mismatch', key, statistic, g, e)
subjects = sum(1 for k in got if k[1] == 'subjects')
print('checked', checked, 'bad', bad, 'extra', len(got) - checked - subjects,
      'sexes', len({k[0] for k in groups}), 'sports', len({k[1] for k in groups}))
)";
    const std::string command = "/usr/bin/python3 '" + script.string() + "' '" + results.string() +
                                "' '" + summary.string() + "' > '" + (dir_ / "check.txt").string() +
                                "' 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << slurp(dir_ / "check.txt");
    const std::string check = slurp(dir_ / "check.txt");
    EXPECT_NE(check.find(" bad 0 extra 0 sexes 2 sports 4\n"), std::string::npos) << check;
    EXPECT_EQ(check.find("checked 0 "), std::string::npos) << check;
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
    SCOPED_TRACE("CohortSummaryAgreesWithNumPy");
    CohortSummaryAgreesWithNumPy();
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
