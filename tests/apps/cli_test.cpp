// The isokin command line end to end, as a user runs it: demo, then info, then analyze --json.
#include <gtest/gtest.h>

#include <hdf5.h>
#include <sys/wait.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/cli_runner.h"

namespace {

namespace fs = std::filesystem;

using isokin::test::CommandResult;
using isokin::test::slurp;

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("isokin-cli-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    demo_ = dir_ / "demo.h5";
    demo_result_ = run("demo --out '" + demo_.string() + "' --seed 5");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static CommandResult run(const std::string& args) {
    return isokin::test::run_cli(args, dir_ / "stderr.txt");
  }

  // One line on stderr naming the file; exit code not 0; nothing on stdout.
  static void expect_clean_error(const CommandResult& r, const fs::path& file,
                                 const std::string& word) {
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(file.string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(word), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find("HDF5-DIAG"), std::string::npos) << r.err;
  }

  static inline fs::path dir_;
  static inline fs::path demo_;
  static inline CommandResult demo_result_;
};

TEST_F(Cli, DemoRecordsAFileAndPrintsTheResultTable) {
  ASSERT_EQ(demo_result_.exit_code, 0) << demo_result_.err;
  EXPECT_TRUE(fs::exists(demo_));
  const std::string& out = demo_result_.out;
  for (const char* expected : {"Quadriceps N·m", "Hamstrings N·m", "H:Q (conv.)", "60 °/s",
                               "180 °/s", "Bilateral deficit", "left", "right"}) {
    EXPECT_NE(out.find(expected), std::string::npos) << "missing '" << expected << "' in\n" << out;
  }
  EXPECT_EQ(out.find("warning"), std::string::npos) << out;
}

// The demo measures gravity: each side's passive trial gives the limb moment, and every test
// set is corrected with it. The simulator's limb: 6.1 % of its 75 kg body mass, centre of mass
// 0.25 m from the knee (SimulationSettings::limb_gravity_moment), 11.22 N·m.
TEST_F(Cli, TheDemoIsGravityCorrectedFromItsTrials) {
  ASSERT_EQ(demo_result_.exit_code, 0) << demo_result_.err;
  const std::string& out = demo_result_.out;
  EXPECT_EQ(out.find("gravity correction off"), std::string::npos) << out;
  EXPECT_NE(out.find("set 1/6: right  30 °/s, gravity trial (limb relaxed)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("gravity trial (set 0, right): limb moment"), std::string::npos) << out;
  EXPECT_NE(out.find("gravity trial (set 3, left): limb moment"), std::string::npos) << out;
  const double truth = 75.0 * 0.061 * 9.81 * 0.25;
  const auto r = run("analyze --json '" + demo_.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["gravity_trials"].size(), 2U);
  for (const auto& trial : j["gravity_trials"]) {
    EXPECT_EQ(trial["mode"], "from-trial");
    EXPECT_NEAR(trial["limb_moment_nm"].get<double>(), truth, 0.01 * truth) << trial.dump();
  }
  ASSERT_EQ(j["sets"].size(), 4U);
  for (const auto& set : j["sets"]) {
    EXPECT_EQ(set["gravity"]["mode"], "from-trial") << set["gravity"].dump();
    EXPECT_NEAR(set["gravity"]["limb_moment_nm"].get<double>(), truth, 0.01 * truth);
  }
}

TEST_F(Cli, InfoDescribesTheDemoSession) {
  ASSERT_EQ(demo_result_.exit_code, 0);
  const auto r = run("info '" + demo_.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("format version 4, complete"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DEMO-005"), std::string::npos) << r.out;        // the id follows the seed
  EXPECT_NE(r.out.find("sets         6"), std::string::npos) << r.out;  // 2 gravity trials
  EXPECT_NE(r.out.find("2000 Hz"), std::string::npos) << r.out;
}

TEST_F(Cli, AnalyzeJsonHasEveryRepetitionAndTheSimulatedSubjectsDeficit) {
  ASSERT_EQ(demo_result_.exit_code, 0);
  const auto r = run("analyze --json '" + demo_.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema"], "isokin-results");
  EXPECT_EQ(j["schema_version"], 2);
  ASSERT_EQ(j["sets"].size(), 4U);
  for (const auto& set : j["sets"]) {
    EXPECT_EQ(set["extension"]["repetitions"].size(), 5U);
    EXPECT_EQ(set["flexion"]["repetitions"].size(), 5U);
    const double hq = set["hq_conventional"];
    EXPECT_GT(hq, 0.5);
    EXPECT_LT(hq, 0.8);
    // Extensors peak at 60–70° flexion, flexors at 20–40° (simulated physiology).
    EXPECT_NEAR(set["extension"]["angle_at_peak_deg"].get<double>(), 65.0, 6.0);
    EXPECT_NEAR(set["flexion"]["angle_at_peak_deg"].get<double>(), 30.0, 10.0);
  }
  ASSERT_EQ(j["bilateral"].size(), 4U);
  for (const auto& b : j["bilateral"]) {
    EXPECT_EQ(b["weaker_side"], "left");
    // The simulated left quadriceps is 10 % weaker, the hamstrings 5 %; the limb's weight
    // shifts the measured ratio by well under a percentage point.
    const double expected = b["muscle_group"] == "quadriceps" ? 10.0 : 5.0;
    EXPECT_NEAR(b["deficit_percent"].get<double>(), expected, 1.0) << b.dump();
  }
}

TEST_F(Cli, AnalyzeTableMatchesJson) {
  ASSERT_EQ(demo_result_.exit_code, 0);
  const auto table = run("analyze '" + demo_.string() + "'");
  ASSERT_EQ(table.exit_code, 0);
  const auto j = nlohmann::json::parse(run("analyze --json '" + demo_.string() + "'").out);
  char first_peak[32];
  std::snprintf(first_peak, sizeof first_peak, "%.1f",
                j["sets"][0]["extension"]["peak_torque_nm"].get<double>());
  EXPECT_NE(table.out.find(first_peak), std::string::npos) << table.out;
}

TEST_F(Cli, MissingEmptyGarbageTruncatedAndNewerFilesGiveOneClearLine) {
  ASSERT_EQ(demo_result_.exit_code, 0);
  const fs::path missing = dir_ / "no-such-file.h5";
  expect_clean_error(run("info '" + missing.string() + "'"), missing, "no such file");

  const fs::path empty = dir_ / "empty.h5";
  std::ofstream(empty).close();
  expect_clean_error(run("analyze '" + empty.string() + "'"), empty, "HDF5");

  const fs::path garbage = dir_ / "garbage.h5";
  {
    std::ofstream out(garbage, std::ios::binary);
    for (int i = 0; i < 100'000; ++i) out.put(static_cast<char>((i * 7919) % 251));
  }
  expect_clean_error(run("info '" + garbage.string() + "'"), garbage, "HDF5");

  const fs::path truncated = dir_ / "truncated.h5";
  fs::copy_file(demo_, truncated);
  fs::resize_file(truncated, fs::file_size(demo_) / 2);
  const auto t = run("analyze '" + truncated.string() + "'");
  EXPECT_NE(t.exit_code, 0);
  EXPECT_NE(t.err.find(truncated.string()), std::string::npos) << t.err;
  EXPECT_EQ(std::count(t.err.begin(), t.err.end(), '\n'), 1) << t.err;

  const fs::path newer = dir_ / "newer.h5";
  fs::copy_file(demo_, newer);
  {
    const hid_t file = H5Fopen(newer.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const hid_t attr = H5Aopen(file, "format_version", H5P_DEFAULT);
    ASSERT_GE(attr, 0);
    const int version = 5;  // one past the current format version (4)
    ASSERT_GE(H5Awrite(attr, H5T_NATIVE_INT, &version), 0);
    H5Aclose(attr);
    H5Fclose(file);
  }
  expect_clean_error(run("info '" + newer.string() + "'"), newer, "version 5");
}

TEST_F(Cli, UnknownSubcommandFailsWithUsage) {
  const auto r = run("frobnicate");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.err.empty());
}

}  // namespace
