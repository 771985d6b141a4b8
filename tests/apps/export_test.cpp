// `isokin export` as a researcher would use it: the real binary, then the files read back with
// an independent reader (plain text parsing, nlohmann-json, scipy's loadmat).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "isokin/acquisition/session_file.h"
#include "support/cli_runner.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
using isokin::test::CommandResult;

class Export : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-export-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    session_ = dir_ / "demo.h5";
    const auto demo = run("demo --out '" + session_.string() + "' --seed 3");
    ASSERT_EQ(demo.exit_code, 0) << demo.err;
    recorded_ = read_session(session_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  CommandResult run(const std::string& args) const {
    return isokin::test::run_cli(args, dir_ / "stderr.txt");
  }
  fs::path dir_;
  fs::path session_;
  Session recorded_;
};

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, ',')) fields.push_back(f);
  return fields;
}

TEST_F(Export, CsvIsATidyTableOfEverySampleWithUnitsInTheHeader) {
  const fs::path out = dir_ / "csv";
  const auto r =
      run("export '" + session_.string() + "' --format csv --out '" + out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(out / "signals.csv");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "set_index,time_s,torque_nm,angle_deg,velocity_deg_s,status");
  std::size_t rows = 0;
  std::size_t set = 0;
  std::size_t i = 0;
  while (std::getline(in, line)) {
    const auto f = split_csv_line(line);
    ASSERT_EQ(f.size(), 6u) << line;
    while (set < recorded_.sets.size() && i == recorded_.sets[set].signals.size()) {
      ++set;
      i = 0;
    }
    ASSERT_LT(set, recorded_.sets.size());
    ASSERT_EQ(std::stoi(f[0]), recorded_.sets[set].info.index);
    // Shortest round-trip text: the same doubles, bit for bit.
    ASSERT_EQ(std::stod(f[2]), recorded_.sets[set].signals.torque[i]) << line;
    ASSERT_EQ(std::stod(f[3]), recorded_.sets[set].signals.angle[i]) << line;
    ++i;
    ++rows;
  }
  std::size_t total = 0;
  for (const auto& s : recorded_.sets) total += s.signals.size();
  EXPECT_EQ(rows, total);
  for (const char* name : {"recording_sets.csv", "events.csv", "session.json", "repetitions.csv",
                           "sets.csv", "ratios.csv"}) {
    EXPECT_TRUE(fs::exists(out / name)) << name;
  }
  // Never over an existing export.
  const auto again =
      run("export '" + session_.string() + "' --format csv --out '" + out.string() + "'");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
}

TEST_F(Export, JsonHoldsSignalsEventsAndTheResults) {
  const fs::path out = dir_ / "demo.json";
  const auto r = run("export '" + session_.string() + "' --format json --out '" + out.string() +
                     "' --anonymize --subject P-9");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(out);
  const auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["schema"], "isokin-export");
  EXPECT_EQ(doc["session"]["subject_id"], "P-9");
  ASSERT_EQ(doc["sets"].size(), recorded_.sets.size());
  const auto torque = doc["sets"][1]["signals"]["torque_nm"].get<std::vector<double>>();
  EXPECT_EQ(torque, recorded_.sets[1].signals.torque);
  EXPECT_EQ(doc["events"].size(), recorded_.events.size());
  EXPECT_EQ(doc["results"]["schema"], "isokin-results");
  EXPECT_FALSE(doc["results"]["sets"].empty());
}

TEST_F(Export, MatlabFileReadsInScipyWithTheSameNumbers) {
  const fs::path out = dir_ / "demo.mat";
  const auto r =
      run("export '" + session_.string() + "' --format mat --out '" + out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string command =
      "PYTHONIOENCODING=utf-8 /usr/bin/python3 -c \"import sys, scipy.io\n"
      "m = scipy.io.loadmat(sys.argv[1], simplify_cells=True)\n"
      "s = m['set_001']\n"
      "print(m['subject_id'], len(s['torque_nm']), repr(float(s['torque_nm'][100])), "
      "s['side'], s['label'])\n\" '" +
      out.string() + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  ASSERT_EQ(::pclose(pipe), 0) << output;
  std::istringstream fields(output);
  std::string subject;
  std::size_t n = 0;
  double torque = 0.0;
  std::string side;
  fields >> subject >> n >> torque >> side;
  const auto& set = recorded_.sets[1];
  EXPECT_EQ(subject, recorded_.info.subject.id);
  EXPECT_EQ(n, set.signals.size());
  EXPECT_EQ(torque, set.signals.torque[100]);
  EXPECT_EQ(side, std::string(isokin::drivers::to_string(set.info.setpoint.side)));
  EXPECT_NE(output.find(set.info.label), std::string::npos) << output;
}

TEST_F(Export, AnUnknownFormatIsOneClearLine) {
  const auto r =
      run("export '" + session_.string() + "' --format xlsx --out '" + (dir_ / "x").string() + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("csv, json or mat"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "x"));
}

}  // namespace
