// One value no joint can have, through the commands a user runs (issue 19 item 2): a CSV with
// an angle of 1e308 imported, then analysed (exit 134 before); a session file with one damaged
// byte in an angle, analysed, exported and batched (each aborted before, and the whole batch
// with them). Every command finishes and says what it met.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "isokin/acquisition/session_file.h"
#include "isokin/drivers/simulated_dynamometer.h"
#include "support/cli_runner.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
namespace drivers = isokin::drivers;
using isokin::test::CommandResult;

class HostileValues : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("isokin-hostile-values-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  CommandResult run(const std::string& args) const {
    return isokin::test::run_cli(args, dir_ / "stderr.txt");
  }
  std::string q(const fs::path& p) const { return "'" + p.string() + "'"; }

  fs::path dir_;
};

std::vector<drivers::Sample> simulated_set() {
  drivers::SimulationSettings settings;
  settings.sample_rate_hz = 500.0;
  drivers::MotionSetpoint sp;
  sp.repetitions = 3;
  return drivers::simulate_set(settings, sp);
}

// The middle of the second extension: 0.5 s of rest, then 2 × 1.6 s per repetition at 60 °/s.
constexpr double kDamagedAt = 0.5 + 3.2 + 0.8;

TEST_F(HostileValues, ACsvAngleOf1e308ImportsWithAWarningAndAnalyses) {
  const auto samples = simulated_set();
  std::ostringstream csv;
  csv.precision(17);
  csv << "time,torque,angle,velocity\n";
  for (const auto& s : samples) {
    const double angle = std::abs(s.time - kDamagedAt) < 1e-9 ? 1e308 : s.angle;
    csv << s.time << ',' << s.torque << ',' << angle << ',' << s.velocity << '\n';
  }
  const fs::path file = dir_ / "huge.csv";
  std::ofstream(file) << csv.str();
  const auto imported =
      run("import " + q(file) +
          " --columns time=time,torque=torque,angle=angle,velocity=velocity --velocity 60 "
          "--out " +
          q(dir_ / "sessions"));
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
  EXPECT_NE(imported.out.find("warning: "), std::string::npos) << imported.out;
  EXPECT_NE(imported.out.find("1 sample(s) beyond the physical limits"), std::string::npos)
      << imported.out;
  const fs::path session_file = dir_ / "sessions" / "huge.h5";
  const Session session = read_session(session_file);
  std::size_t corrupt = 0;
  for (const auto status : session.sets.at(0).signals.status) {
    corrupt += (status & drivers::kStatusCorrupt) != 0 ? 1 : 0;
  }
  EXPECT_EQ(corrupt, 1u);

  const auto analysed = run("analyze " + q(session_file));
  ASSERT_EQ(analysed.exit_code, 0) << analysed.out << analysed.err;
  EXPECT_NE(analysed.out.find("spans more than 360"), std::string::npos) << analysed.out;
}

TEST_F(HostileValues, OneDamagedByteInAnAngleIsAWarningInAnalyzeExportAndBatch) {
  const auto samples = simulated_set();
  Session session;
  session.complete = true;
  session.info.created_utc = "2026-12-04T10:00:00Z";
  session.info.software = "isokin test";
  session.info.protocol_name = "knee-60";
  session.info.subject.id = "S-1";
  session.info.device.driver = "sim";
  session.info.device.sample_rate_hz = 500.0;
  auto& set = session.sets.emplace_back();
  set.info.setpoint.repetitions = 3;
  std::size_t damaged = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    set.signals.append(samples[i]);
    if (std::abs(samples[i].time - kDamagedAt) < 1e-9) damaged = i;
  }
  set.stats.sample_count = samples.size();
  set.stats.complete = true;
  const fs::path cohort = dir_ / "cohort";
  fs::create_directories(cohort);
  const fs::path file = cohort / "damaged.h5";
  write_session(file, session);

  // The angle's 8 bytes as stored (little-endian, uncompressed chunks); its top byte (sign and
  // exponent) damaged: 0x40 (2 ≤ |θ| < 512) becomes 0x7f, an angle near 1e306.
  std::string bytes = isokin::test::slurp(file);
  char pattern[8];
  std::memcpy(pattern, &set.signals.angle[damaged], 8);
  const auto at = bytes.find(std::string(pattern, 8));
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes.find(std::string(pattern, 8), at + 1), std::string::npos);  // one place only
  ASSERT_EQ(static_cast<unsigned char>(bytes[at + 7]), 0x40u);
  bytes[at + 7] = static_cast<char>(0x7f);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  ASSERT_GT(std::abs(read_session(file).sets.at(0).signals.angle[damaged]), 1e300);

  const auto analysed = run("analyze " + q(file));
  ASSERT_EQ(analysed.exit_code, 0) << analysed.out << analysed.err;
  EXPECT_NE(analysed.out.find("spans more than 360"), std::string::npos) << analysed.out;
  const auto exported = run("export " + q(file) + " --format csv --out " + q(dir_ / "export"));
  EXPECT_EQ(exported.exit_code, 0) << exported.out << exported.err;
  const auto batched = run("batch " + q(cohort) + " --out " + q(dir_ / "results.csv"));
  ASSERT_EQ(batched.exit_code, 0) << batched.out << batched.err;
  const std::string results = isokin::test::slurp(dir_ / "results.csv");
  EXPECT_NE(results.find("damaged.h5"), std::string::npos) << results;
  EXPECT_NE(results.find("rows_of_this_file"), std::string::npos) << results;
}

}  // namespace
