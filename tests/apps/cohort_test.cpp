// Subject details on the command line (demo, run, import, info, anonymize) and `isokin cohort`
// on a results table written by hand, with every expected number worked out on paper.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli_runner.h"
#include "support/realdata.h"

namespace {

namespace fs = std::filesystem;
using isokin::test::CommandResult;
using isokin::test::slurp;

class Cohort : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-cohort-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  [[nodiscard]] CommandResult run(const std::string& args) const {
    return isokin::test::run_cli(args, dir_ / "stderr.txt");
  }
  [[nodiscard]] std::string path(const std::string& name) const {
    return "'" + (dir_ / name).string() + "'";
  }
  // The "subject" lines of `isokin info`: id and body mass, then the details in words.
  [[nodiscard]] std::string subject_lines(const std::string& file) const {
    const auto r = run("info " + path(file));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto at = r.out.find("subject ");
    const auto end = r.out.find("device ");
    return at == std::string::npos || end == std::string::npos ? r.out : r.out.substr(at, end - at);
  }
  fs::path dir_;
};

constexpr const char* kHeader =
    "file,subject_id,sex,age_years,sport,dominant_side,injured_side,body_mass_kg,set_index,side,"
    "kind,velocity_deg_s,hold_angle_deg,movement,muscle_group,contraction,parameter,value,unit\n";

// One quadriceps peak-torque row at 60 °/s.
std::string peak_row(const std::string& file, const std::string& sex, const std::string& sport,
                     const std::string& side, double value) {
  std::ostringstream row;
  row << file << ",ID-" << file << "," << sex << ",25," << sport << ",right,none,70,0," << side
      << ",test,60,,extension,quadriceps,concentric,peak_torque," << value << ",N·m\n";
  return row.str();
}

// "group…,measure…,statistic" → value, from a summary table.
std::map<std::string, double> read_summary(const fs::path& file, std::size_t key_fields) {
  std::map<std::string, double> values;
  std::istringstream in(slurp(file));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto comma = line.rfind(',');
    values[line.substr(0, comma)] = std::stod(line.substr(comma + 1));
    (void)key_fields;
  }
  return values;
}

TEST_F(Cohort, SummaryOfAHandWrittenTableMatchesThePaper) {
  std::string table = kHeader;
  // Female footballers, right side: 100 110 120 130 150 (as in descriptive_statistics_test:
  // mean 122, SD √370, P10 104, P25 110, P50 120, P75 130, P90 142).
  const std::vector<double> women = {120, 100, 150, 110, 130};
  for (std::size_t i = 0; i < women.size(); ++i) {
    table += peak_row("f" + std::to_string(i), "female", "football", "right", women[i]);
  }
  // One male skier, whose sport has a comma (quoted field): n 1, no SD, every percentile 200.
  table += peak_row("m0", "male", "\"ski, alpine\"", "right", 200);
  // f0's bilateral deficit (side = the weaker side) belongs to no side; its end marker is no value.
  table +=
      "f0,ID-f0,female,25,football,right,none,70,,left,,60,,,quadriceps,concentric,"
      "bilateral_deficit_weaker_side,12.5,%\n";
  table += "f0,ID-f0,female,25,football,right,none,70,,,,,,,,,rows_of_this_file,2,1\n";
  std::ofstream(dir_ / "hand.csv", std::ios::binary) << table;

  const auto r =
      run("cohort " + path("hand.csv") + " --by sex,sport,side --out " + path("summary.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("7 values of 6 session(s): 3 group(s), 2 measure(s)"), std::string::npos)
      << r.out;
  const std::string summary = slurp(dir_ / "summary.csv");
  EXPECT_EQ(summary.substr(0, summary.find('\n')),
            "sex,sport,side,kind,velocity_deg_s,hold_angle_deg,movement,muscle_group,contraction,"
            "parameter,unit,statistic,value");
  const auto values = read_summary(dir_ / "summary.csv", 3);
  const std::string women_peak =
      "female,football,right,test,60,,extension,quadriceps,concentric,peak_torque,N·m,";
  const std::map<std::string, double> expected = {
      {"n", 5},     {"subjects", 5}, {"mean", 122}, {"sd", std::sqrt(370.0)},
      {"min", 100}, {"p10", 104},    {"p25", 110},  {"p50", 120},
      {"p75", 130}, {"p90", 142},    {"max", 150}};
  for (const auto& [statistic, value] : expected) {
    ASSERT_TRUE(values.contains(women_peak + statistic)) << statistic << "\n" << summary;
    EXPECT_NEAR(values.at(women_peak + statistic), value, 1e-9) << statistic;
  }
  const std::string man_peak =
      "male,\"ski, alpine\",right,test,60,,extension,quadriceps,concentric,peak_torque,N·m,";
  EXPECT_EQ(values.at(man_peak + "n"), 1);
  EXPECT_EQ(values.at(man_peak + "p10"), 200);
  EXPECT_EQ(values.at(man_peak + "p90"), 200);
  EXPECT_FALSE(values.contains(man_peak + "sd")) << "the SD of one value is left out, never 0";
  EXPECT_EQ(values.at("female,football,,,60,,,quadriceps,concentric,"
                      "bilateral_deficit_weaker_side,%,mean"),
            12.5);
  EXPECT_EQ(summary.find("rows_of_this_file"), std::string::npos);

  // Without --by: the whole cohort in one group (6 peak torques), printed to stdout.
  const auto all = run("cohort " + path("hand.csv"));
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("test,60,,extension,quadriceps,concentric,peak_torque,N·m,n,6\n"),
            std::string::npos)
      << all.out;
  // Mean of 100 110 120 130 150 200 = 810/6 = 135.
  EXPECT_NE(all.out.find("peak_torque,N·m,mean,135\n"), std::string::npos) << all.out;
  // limb: the right side of right-dominant subjects is their dominant limb.
  const auto limb = run("cohort " + path("hand.csv") + " --by limb");
  EXPECT_NE(limb.out.find("dominant,test,60,,extension,quadriceps,concentric,peak_torque,N·m,n,6"),
            std::string::npos)
      << limb.out;
}

TEST_F(Cohort, BadInputIsAClearError) {
  std::ofstream(dir_ / "t.csv", std::ios::binary)
      << kHeader << peak_row("a", "female", "x", "left", 1)
      << "b,ID-b,male,30,x,right,none,70,0,left,test,60,,extension,quadriceps,concentric,"
         "peak_torque,12..5,N·m\n";
  const auto value = run("cohort " + path("t.csv"));
  EXPECT_EQ(value.exit_code, 1);
  EXPECT_NE(value.err.find("t.csv:3: column 18 (value): '12..5' is not a number"),
            std::string::npos)
      << value.err;
  const auto key = run("cohort " + path("t.csv") + " --by sex,shoe_size");
  EXPECT_EQ(key.exit_code, 1);
  EXPECT_NE(key.err.find("--by shoe_size: not one of sex,"), std::string::npos) << key.err;
  std::ofstream(dir_ / "other.csv") << "a,b\n1,2\n";
  const auto other = run("cohort " + path("other.csv"));
  EXPECT_NE(other.err.find("no column 'file'"), std::string::npos) << other.err;
  std::ofstream(dir_ / "exists.csv") << "x";
  const auto exists = run("cohort " + path("t.csv") + " --out " + path("exists.csv"));
  EXPECT_NE(exists.err.find("exists"), std::string::npos) << exists.err;
  EXPECT_EQ(slurp(dir_ / "exists.csv"), "x");
}

TEST_F(Cohort, DemoSubjectsFollowTheSeedAndOptionsOverrideThem) {
  for (const char* name : {"a.h5", "b.h5"}) {
    const auto r = run("demo --seed 7 --out " + path(name));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string seven = subject_lines("a.h5");
  EXPECT_EQ(subject_lines("b.h5"), seven);  // same seed, same subject
  EXPECT_NE(seven.find("DEMO-007"), std::string::npos) << seven;
  // Eight seeds: both sexes and more than one sport (what the cohort test groups by).
  std::string lines;
  for (int seed = 1; seed <= 8; ++seed) {
    const std::string name = "s" + std::to_string(seed) + ".h5";
    ASSERT_EQ(run("demo --seed " + std::to_string(seed) + " --out " + path(name)).exit_code, 0);
    lines += subject_lines(name);
  }
  EXPECT_NE(lines.find("female,"), std::string::npos) << lines;
  EXPECT_NE(lines.find(" male,"), std::string::npos) << lines;
  std::size_t sports = 0;
  for (const char* sport : {"football", "basketball", "running", "skiing"}) {
    sports += lines.find(sport) != std::string::npos ? 1 : 0;
  }
  EXPECT_GE(sports, 2U) << lines;

  const auto given =
      run("demo --seed 7 --sex other --age 64 --sport \"tennis, club\" "
          "--dominant-side left --injured-side right --out " +
          path("given.h5"));
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_NE(subject_lines("given.h5")
                .find("other, 64 years, tennis, club, dominant side left, injured side right"),
            std::string::npos)
      << subject_lines("given.h5");
  const auto bad = run("demo --sex F --out " + path("bad.h5"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--sex"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir_ / "bad.h5"));
}

TEST_F(Cohort, RunAndImportStoreTheSubjectDetails) {
  const auto r =
      run("run knee-60-180-bilateral --fast --subject S-9 --body-mass 80 --sex male "
          "--age 31 --sport rowing --dominant-side right --injured-side none --out " +
          path("run.h5") + " </dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      subject_lines("run.h5").find("male, 31 years, rowing, dominant side right, no injured side"),
      std::string::npos)
      << subject_lines("run.h5");
  const auto no_details =
      run("run knee-60-180-bilateral --fast --subject S-10 --body-mass 70 --out " +
          path("plain.h5") + " </dev/null");
  ASSERT_EQ(no_details.exit_code, 0) << no_details.err;
  EXPECT_NE(subject_lines("plain.h5").find("not recorded"), std::string::npos);
  // What was not recorded is null in the results, never a default.
  const auto plain = run("analyze --json " + path("plain.h5"));
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const auto session = nlohmann::json::parse(plain.out)["session"];
  for (const char* key : {"sex", "age_years", "sport", "dominant_side", "injured_side"}) {
    EXPECT_TRUE(session[key].is_null()) << key << ": " << session[key];
  }
  EXPECT_EQ(session["subject_id"], "S-10");

  // The rest reads the real Biodex System 2 export.
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  const fs::path biodex = fs::path(ISOKIN_SHARED_DIR) / "realdata/biodex-system2-analog-adc";
  fs::create_directories(dir_ / "imported");
  const auto imp = run("import '" + (biodex / "test.txt").string() +
                       "' --columns torque=1,velocity=2,angle=3 --rate 42 --delimiter ';' "
                       "--decimal , --sex female --age 45 --injured-side left --out " +
                       path("imported"));
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_NE(subject_lines("imported/test.h5").find("female, 45 years, injured side left"),
            std::string::npos)
      << subject_lines("imported/test.h5");
}

TEST_F(Cohort, AnonymizeKeepsTheDetailsUnlessAskedToDropThem) {
  ASSERT_EQ(run("demo --seed 3 --sport \"Klub-Fußball\" --out " + path("d.h5")).exit_code, 0);
  const std::string details = subject_lines("d.h5");
  ASSERT_EQ(run("anonymize " + path("d.h5") + " --out " + path("kept.h5")).exit_code, 0);
  const std::string kept = subject_lines("kept.h5");
  // Same words after the id and body mass line.
  EXPECT_EQ(kept.substr(kept.find('\n')), details.substr(details.find('\n')));
  const auto dropped =
      run("anonymize " + path("d.h5") + " --drop-subject-details --out " + path("dropped.h5"));
  ASSERT_EQ(dropped.exit_code, 0) << dropped.err;
  EXPECT_NE(dropped.out.find("removed: sex, age, sport, dominant and injured side"),
            std::string::npos)
      << dropped.out;
  EXPECT_NE(subject_lines("dropped.h5").find("not recorded"), std::string::npos);
  // The sport's text is nowhere in the copy's bytes.
  EXPECT_EQ(slurp(dir_ / "dropped.h5").find("Klub-Fu"), std::string::npos);
  const auto json =
      run("export " + path("d.h5") + " --format json --anonymize --drop-subject-details --out " +
          path("d.json"));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(slurp(dir_ / "d.json").find("\"sex\": null"), std::string::npos);
}

}  // namespace

namespace {

TEST_F(Cohort, BatchSummaryIsTheCohortOfItsTable) {
  fs::create_directories(dir_ / "s");
  for (const int seed : {1, 2, 3}) {
    ASSERT_EQ(run("demo --seed " + std::to_string(seed) + " --out " +
                  path("s/d" + std::to_string(seed) + ".h5"))
                  .exit_code,
              0);
  }
  // Refused before any analysis: a shard's summary, an unknown key, --by without --summary.
  const auto shard = run("batch " + path("s") + " --shard 1/2 --out " + path("p.csv") +
                         " --summary " + path("ps.csv"));
  EXPECT_NE(shard.err.find("--summary of a shard"), std::string::npos) << shard.err;
  const auto key = run("batch " + path("s") + " --out " + path("k.csv") + " --summary " +
                       path("ks.csv") + " --by colour");
  EXPECT_NE(key.err.find("--by colour: not one of"), std::string::npos) << key.err;
  EXPECT_NE(run("batch " + path("s") + " --out " + path("b.csv") + " --by sex")
                .err.find("give --summary FILE too"),
            std::string::npos);
  for (const char* name : {"p.csv", "k.csv", "b.csv"}) EXPECT_FALSE(fs::exists(dir_ / name));

  const auto batch = run("batch " + path("s") + " --out " + path("r.csv") + " --summary " +
                         path("sum.csv") + " --by sex,side");
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  ASSERT_EQ(run("cohort " + path("r.csv") + " --by sex,side --out " + path("c.csv")).exit_code, 0);
  EXPECT_EQ(slurp(dir_ / "sum.csv"), slurp(dir_ / "c.csv"));
  // An existing summary is kept unless the run resumes, which renews it for the whole table.
  const std::string before = slurp(dir_ / "sum.csv");
  const auto again = run("batch " + path("s") + " --out " + path("r2.csv") + " --summary " +
                         path("sum.csv") + " --by sex,side");
  EXPECT_NE(again.err.find("exists; give a new name"), std::string::npos) << again.err;
  EXPECT_EQ(slurp(dir_ / "sum.csv"), before);
  ASSERT_EQ(run("demo --seed 4 --out " + path("s/d4.h5")).exit_code, 0);
  const auto resumed = run("batch " + path("s") + " --resume --out " + path("r.csv") +
                           " --summary " + path("sum.csv") + " --by sex,side");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ASSERT_EQ(run("cohort " + path("r.csv") + " --by sex,side --out " + path("c4.csv")).exit_code, 0);
  EXPECT_EQ(slurp(dir_ / "sum.csv"), slurp(dir_ / "c4.csv"));
  EXPECT_NE(slurp(dir_ / "sum.csv"), before);
}

}  // namespace
