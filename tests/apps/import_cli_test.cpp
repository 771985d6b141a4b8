// `isokin import` and `isokin analyze --csv/--gravity-moment` end to end, as a user runs them,
// including the real Biodex System 2 ADC recording in ../shared/realdata (see its README).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "isokin/acquisition/session_file.h"
#include "isokin/drivers/simulated_dynamometer.h"
#include "support/biodex_export.h"
#include "support/cli_runner.h"
#include "support/realdata.h"

namespace {

namespace fs = std::filesystem;

using isokin::test::CommandResult;
using isokin::test::slurp;

class Import : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("isokin-import-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  CommandResult run(const std::string& args) const {
    return isokin::test::run_cli(args, dir_ / "stderr.txt");
  }

  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  fs::path dir_;
};

const fs::path kBiodex = fs::path(ISOKIN_SHARED_DIR) / "realdata" / "biodex-system2-analog-adc";
// The README's calibration of the ADC counts.
const std::string kCalibration =
    " --scale torque=1.04,-552 --scale velocity=0.883,-459 --scale angle=0.363,-99.3";

TEST_F(Import, BiodexCountsCalibrateToTheLabsOwnExport) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  // Raw counts with our calibration vs the lab software's calibrated export (';', decimal ',').
  const auto a = run("import '" + (kBiodex / "Armin_Messung").string() +
                     "' --columns torque=1,velocity=2,angle=3 --rate 42" + kCalibration +
                     " --out '" + (dir_ / "raw").string() + "'");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto b = run("import '" + (kBiodex / "test.txt").string() +
                     "' --columns torque=1,velocity=2,angle=3 --rate 42 --delimiter ';' "
                     "--decimal , --out '" +
                     (dir_ / "lab").string() + "'");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto ours = isokin::acquisition::read_session(dir_ / "raw" / "Armin_Messung.h5");
  const auto lab = isokin::acquisition::read_session(dir_ / "lab" / "test.h5");
  const auto& x = ours.sets.at(0).signals;
  const auto& y = lab.sets.at(0).signals;
  ASSERT_EQ(x.size(), 1427U);
  ASSERT_EQ(y.size(), 1427U);
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    worst = std::max({worst, std::abs(x.torque[i] - y.torque[i]),
                      std::abs(x.velocity[i] - y.velocity[i]), std::abs(x.angle[i] - y.angle[i])});
  }
  EXPECT_LT(worst, 1e-9);
  // First line of test.txt: -2,88;-0,723000000000013;97,446.
  EXPECT_NEAR(x.torque[0], -2.88, 1e-9);
  EXPECT_NEAR(x.velocity[0], -0.723, 1e-9);
  EXPECT_NEAR(x.angle[0], 97.446, 1e-9);
  // The calibration is recorded with the session.
  const auto& cal = ours.info.device.calibration;
  ASSERT_EQ(cal.size(), 3U);
  EXPECT_EQ(ours.info.device.sample_rate_hz, 42.0);
}

TEST_F(Import, BiodexRepetitionsAreTheOnesSeenInTheAngleCurve) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  // Extension torque is negative in that set-up: mapped once, here.
  const auto imp = run("import '" + (kBiodex / "Armin_Messung").string() +
                       "' --columns torque=1,velocity=2,angle=3 --rate 42 --negate torque" +
                       kCalibration + " --out '" + dir_.string() + "'");
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  const fs::path file = dir_ / "Armin_Messung.h5";
  const auto r = run("analyze --json '" + file.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& set = j["sets"][0];
  // The angle curve shows five descents 99→2° (~30 °/s, with effort) and five passive returns
  // 2→84° (~91 °/s). Descents leave 80° at samples 360, 544, 727, 918, 1102 and reach 4° at
  // 469, 654, 838, 1027, 1212 (read off the calibrated angle column, 42 Hz).
  const int leaves_80[] = {360, 544, 727, 918, 1102};
  const int reaches_4[] = {469, 654, 838, 1027, 1212};
  ASSERT_EQ(set["extension"]["repetitions"].size(), 5U);
  ASSERT_EQ(set["flexion"]["repetitions"].size(), 5U);
  for (int k = 0; k < 5; ++k) {
    SCOPED_TRACE(k);
    const auto& e = set["extension"]["repetitions"][k];
    EXPECT_LT(e["start_time_s"].get<double>(), leaves_80[k] / 42.0);
    EXPECT_GT(e["end_time_s"].get<double>(), reaches_4[k] / 42.0);
    EXPECT_GT(e["range_of_motion_deg"].get<double>(), 78.0);
    EXPECT_EQ(e["muscle_group"], "quadriceps");
    EXPECT_EQ(e["contraction"], "concentric");
    EXPECT_GT(e["work_j"].get<double>(), 30.0);
    EXPECT_NEAR(e["isokinetic"]["target_velocity_deg_s"].get<double>(), 30.7, 1.0);
    // Repetition 4 peaks at 2°, as the lever hits its end stop (seen in the curves): outside the
    // isokinetic window, and flagged; the others peak at the set speed.
    const bool end_stop = k == 3;
    EXPECT_EQ(e["angle_at_peak_deg"].get<double>() < 5.0, end_stop) << e["angle_at_peak_deg"];
    EXPECT_EQ(std::count(e["flags"].begin(), e["flags"].end(), "peak_outside_isokinetic"),
              end_stop ? 1 : 0)
        << e["flags"].dump();
    const auto& f = set["flexion"]["repetitions"][k];
    EXPECT_GT(f["start_time_s"].get<double>(), e["end_time_s"].get<double>() - 0.05);
    EXPECT_LT(std::abs(f["work_j"].get<double>()), 10.0);  // passive return: little work
  }
  // The rest before the set is at 97–99° (near vertical): no gravity estimate, and it says so.
  EXPECT_EQ(set["gravity"]["mode"], "off");
  EXPECT_NE(set["gravity"]["reason"].get<std::string>().find("vertical"), std::string::npos);
}

TEST_F(Import, MalformedLinesNameFileLineAndColumn) {
  const auto bad = write("bad.csv", "time,torque,angle\n0,1,2\n0.01,1,2\n0.02,x1,2\n");
  const auto r =
      run("import '" + bad.string() + "' --columns time=time,torque=torque,angle=angle --out '" +
          (dir_ / "o").string() + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(bad.string() + ":4: column 2 (torque): 'x1' is not a number"),
            std::string::npos)
      << r.err;
  const auto short_line = write("short.csv", "0;1;2\n0.01;1\n");
  const auto s = run("import '" + short_line.string() +
                     "' --columns time=1,torque=2,angle=3 --delimiter ';' --out '" +
                     (dir_ / "o").string() + "'");
  EXPECT_NE(s.err.find(short_line.string() + ":2: column 3 (angle) is missing"), std::string::npos)
      << s.err;
  const auto backwards = write("back.csv", "0,1,2\n0.01,1,2\n0.005,1,2\n");
  const auto t = run("import '" + backwards.string() +
                     "' --columns time=1,torque=2,angle=3 --out '" + (dir_ / "o").string() + "'");
  EXPECT_NE(t.err.find(backwards.string() + ":3: column 1 (time)"), std::string::npos) << t.err;
  const auto no_rate = run("import '" + backwards.string() +
                           "' --columns torque=2,angle=3 --out '" + (dir_ / "o").string() + "'");
  EXPECT_NE(no_rate.exit_code, 0);
  EXPECT_NE(no_rate.err.find("--rate"), std::string::npos) << no_rate.err;
  for (const auto* res : {&r, &s, &t, &no_rate}) {
    EXPECT_EQ(std::count(res->err.begin(), res->err.end(), '\n'), 1) << res->err;
  }
  EXPECT_FALSE(fs::exists(dir_ / "o" / "bad.h5"));
}

TEST_F(Import, VelocityDerivedFromAngleAndRateFromTime) {
  // 200 Hz, time in ms (scaled), no velocity column: 3 cycles 90→0→90° of 2 s each (45 °/s mean),
  // extension torque 150·sin(πθ/90), flexion −80·sin(πθ/90); 0.5 s rest at each end.
  std::ostringstream csv;
  csv << "ms\tNm\tdeg\n";
  const double kPi = 3.14159265358979323846;
  int i = 0;
  auto line = [&](double angle, double torque) {
    csv << i * 5 << '\t' << torque << '\t' << angle << '\n';
    ++i;
  };
  for (int k = 0; k < 100; ++k) line(90.0, 0.0);
  for (int c = 0; c < 3; ++c) {
    for (int k = 0; k < 400; ++k) {
      const double phase = kPi * k / 400.0;  // 0…π per movement: cosine velocity profile
      const double angle = 45.0 + 45.0 * std::cos(phase);
      line(angle, 150.0 * std::sin(kPi * angle / 90.0));
    }
    for (int k = 0; k < 400; ++k) {
      const double angle = 45.0 - 45.0 * std::cos(kPi * k / 400.0);
      line(angle, -80.0 * std::sin(kPi * angle / 90.0));
    }
  }
  for (int k = 0; k < 100; ++k) line(90.0, 0.0);
  const auto file = write("lab export.tsv", csv.str());
  const auto r = run("import '" + file.string() +
                     "' --columns time=ms,torque=Nm,angle=deg --delimiter tab "
                     "--scale time=0.001 --out '" +
                     dir_.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("200 Hz"), std::string::npos) << r.out;
  const auto session = isokin::acquisition::read_session(dir_ / "lab export.h5");
  EXPECT_DOUBLE_EQ(session.info.device.sample_rate_hz, 200.0);
  // Mid-extension the derived velocity is −45π/2 °/s (peak of the cosine profile).
  const auto& v = session.sets[0].signals.velocity;
  EXPECT_NEAR(v[100 + 200], -45.0 * kPi / 2.0, 0.1);
  // A cosine speed profile has no isokinetic part: its paper values are full-range ones.
  const auto a = run("analyze --json --peak full-range '" + (dir_ / "lab export.h5").string() +
                     "' --csv '" + (dir_ / "csv").string() + "'");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto j = nlohmann::json::parse(a.out);
  const auto& set = j["sets"][0];
  ASSERT_EQ(set["extension"]["repetitions"].size(), 3U);
  EXPECT_NEAR(set["extension"]["peak_torque_nm"].get<double>(), 150.0, 0.15);
  EXPECT_NEAR(set["flexion"]["peak_torque_nm"].get<double>(), 80.0, 0.08);
  EXPECT_NEAR(set["hq_conventional"].get<double>(), 80.0 / 150.0, 1e-3);
  // Work −∫τ dθ = P joules for the sine shape over 90°.
  EXPECT_NEAR(set["extension"]["repetitions"][0]["work_j"].get<double>(), 150.0, 0.15);
  // CSV: a header and one row per phase; sets.csv one row per movement.
  const std::string reps = slurp(dir_ / "csv" / "repetitions.csv");
  EXPECT_EQ(std::count(reps.begin(), reps.end(), '\n'), 1 + 6);
  EXPECT_EQ(reps.rfind("set,side,velocity_deg_s,movement,repetition,", 0), 0U);
  const std::string sets = slurp(dir_ / "csv" / "sets.csv");
  EXPECT_EQ(std::count(sets.begin(), sets.end(), '\n'), 1 + 2);
  EXPECT_TRUE(fs::exists(dir_ / "csv" / "ratios.csv"));
}

TEST_F(Import, RawValuesAtTheSensorLimitMarkTheirRepetitionClipped) {
  // 10-bit counts, 500 Hz: rest, then extension/flexion twice; the second extension saturates
  // the ADC (1023) at its top. Calibration torque = counts − 512.
  std::ostringstream csv;
  const double kPi = 3.14159265358979323846;
  auto line = [&](double angle, double counts) {
    csv << std::lround(std::min(counts, 1023.0)) << ' ' << angle << '\n';
  };
  for (int k = 0; k < 250; ++k) line(90.0, 512.0);
  for (int rep = 0; rep < 2; ++rep) {
    const double peak = rep == 0 ? 300.0 : 700.0;  // 512 + 700 > 1023: clipped
    for (int k = 0; k <= 750; ++k) {
      const double angle = 45.0 + 45.0 * std::cos(kPi * k / 750.0);
      line(angle, 512.0 + peak * std::sin(kPi * angle / 90.0));
    }
    for (int k = 0; k <= 750; ++k) {
      const double angle = 45.0 - 45.0 * std::cos(kPi * k / 750.0);
      line(angle, 512.0 - 150.0 * std::sin(kPi * angle / 90.0));
    }
  }
  for (int k = 0; k < 250; ++k) line(90.0, 512.0);
  const auto file = write("adc.txt", csv.str());
  const auto r = run("import '" + file.string() +
                     "' --columns torque=1,angle=2 --delimiter whitespace --rate 500 "
                     "--scale torque=1,-512 --limits torque=0,1023 --out '" +
                     dir_.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j =
      nlohmann::json::parse(run("analyze --json '" + (dir_ / "adc.h5").string() + "'").out);
  const auto& reps = j["sets"][0]["extension"]["repetitions"];
  ASSERT_EQ(reps.size(), 2U);
  // Not clipped. The lever moves as a cosine, never at a constant speed: the top at 45° comes at
  // the highest speed, above the band around the estimated set speed, and says so.
  EXPECT_EQ(reps[0]["flags"], nlohmann::json::array({"peak_outside_isokinetic"}));
  EXPECT_EQ(reps[1]["flags"], nlohmann::json::array({"torque_clipped"}));
  EXPECT_NEAR(reps[0]["peak_torque_nm"].get<double>(), 300.0, 1.0);
  const auto table = run("analyze '" + (dir_ / "adc.h5").string() + "'");
  EXPECT_NE(table.out.find("extension 2: torque clipped"), std::string::npos) << table.out;
  // The CSV carries the same flags as bits (docs/results.md): 64 peak_outside_isokinetic,
  // 2 torque_clipped.
  ASSERT_EQ(
      run("analyze --csv '" + (dir_ / "csv").string() + "' '" + (dir_ / "adc.h5").string() + "'")
          .exit_code,
      0);
  const auto split = [](const std::string& text) {
    std::vector<std::string> cells(1);
    for (const char c : text) {
      if (c == ',') {
        cells.emplace_back();
      } else {
        cells.back() += c;
      }
    }
    return cells;
  };
  std::istringstream rows(slurp(dir_ / "csv" / "repetitions.csv"));
  std::string row;
  std::getline(rows, row);
  const auto header = split(row);
  const auto column = std::find(header.begin(), header.end(), "flags") - header.begin();
  ASSERT_LT(static_cast<std::size_t>(column), header.size());
  std::vector<std::string> extension_flags;
  while (std::getline(rows, row)) {
    const auto cells = split(row);
    ASSERT_EQ(cells.size(), header.size()) << row;
    if (cells[3] == "extension") extension_flags.push_back(cells[column]);
  }
  EXPECT_EQ(extension_flags, (std::vector<std::string>{"64", "2"}));
}

TEST_F(Import, GravityMomentOptionIsUsedAndReported) {
  std::ostringstream csv;
  const double kPi = 3.14159265358979323846;
  // Leg horizontal at rest (θ = 0) then one flexion/extension; limb moment 10 N·m.
  auto gravity = [&](double a) { return -10.0 * std::cos(a * kPi / 180.0); };
  int i = 0;
  auto line = [&](double angle, double torque) {
    csv << i++ * 0.001 << ',' << torque << ',' << angle << '\n';
  };
  for (int k = 0; k < 500; ++k) line(0.0, gravity(0.0));
  for (int k = 0; k <= 1500; ++k) {
    const double angle = 45.0 - 45.0 * std::cos(kPi * k / 1500.0);
    line(angle, -100.0 * std::sin(kPi * angle / 90.0) + gravity(angle));
  }
  for (int k = 0; k <= 1500; ++k) {
    const double angle = 45.0 + 45.0 * std::cos(kPi * k / 1500.0);
    line(angle, 200.0 * std::sin(kPi * angle / 90.0) + gravity(angle));
  }
  for (int k = 0; k < 500; ++k) line(0.0, gravity(0.0));
  const auto file = write("g.csv", csv.str());
  ASSERT_EQ(run("import '" + file.string() + "' --columns time=1,torque=2,angle=3 --out '" +
                dir_.string() + "'")
                .exit_code,
            0);
  const auto h5 = (dir_ / "g.h5").string();
  const auto given = nlohmann::json::parse(
      run("analyze --json --peak full-range --gravity-moment 10 '" + h5 + "'").out);
  EXPECT_EQ(given["settings"]["gravity_correction"], "given");
  EXPECT_EQ(given["sets"][0]["gravity"]["limb_moment_nm"].get<double>(), 10.0);
  EXPECT_NEAR(given["sets"][0]["extension"]["peak_torque_nm"].get<double>(), 200.0, 0.2);
  const auto rest = nlohmann::json::parse(run("analyze --json '" + h5 + "'").out);
  EXPECT_EQ(rest["sets"][0]["gravity"]["mode"], "from-rest");
  EXPECT_NEAR(rest["sets"][0]["gravity"]["limb_moment_nm"].get<double>(), 10.0, 1e-6);
  const auto off = nlohmann::json::parse(run("analyze --json --no-gravity '" + h5 + "'").out);
  EXPECT_EQ(off["sets"][0]["gravity"]["mode"], "off");
  EXPECT_LT(off["sets"][0]["extension"]["peak_torque_nm"].get<double>(), 195.0);
  const auto table = run("analyze --no-gravity '" + h5 + "'");
  EXPECT_NE(table.out.find("gravity correction off in all sets: off by setting"), std::string::npos)
      << table.out;
}

TEST_F(Import, FormatsAreDetectedFromTheContent) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-analog-c3d");
  // The real C3D trial with its authors' channel map (ANALOG:LABELS Angle.1, Angular
  // Velocity.1, Torque.1 are their 1-based channels 17, 18, 20).
  const auto profile = write("biodex-c3d.json", R"({"channel_base": 1,
      "angle": {"channel": 17, "scale": 35.6838},
      "velocity": {"label": "Angular Velocity.1", "scale": 35.6838},
      "torque": {"channel": 20, "scale": -144049}})");
  const fs::path c3d = fs::path(ISOKIN_SHARED_DIR) / "realdata" / "biodex-analog-c3d" / "5-20a.c3d";
  const auto r = run("import '" + c3d.string() + "' --profile '" + profile.string() + "' --out '" +
                     (dir_ / "c3d").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("17390 samples at 1000 Hz"), std::string::npos) << r.out;
  const auto session = isokin::acquisition::read_session(dir_ / "c3d" / "5-20a.h5");
  const auto provenance = nlohmann::json::parse(session.info.protocol_json);
  EXPECT_EQ(provenance["format"], "c3d");
  EXPECT_NE(provenance["header_text"].get<std::string>().find("Vicon"), std::string::npos);
  // The .mat counts, detected as MATLAB, with the README's calibration.
  const auto m = run("import '" + (kBiodex / "Messung_Armin.mat").string() +
                     "' --columns torque=1,velocity=2,angle=3 --rate 42 --negate torque" +
                     kCalibration + " --out '" + (dir_ / "mat").string() + "'");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NE(m.out.find("1427 samples at 42 Hz"), std::string::npos) << m.out;
}

TEST_F(Import, FailuresSayWhereAndLeaveNothingBehind) {
  const auto out = dir_ / "out";
  // A Biodex export whose third data line is cut short.
  const auto biodex = write("cut.txt",
                            "Biodex\nSet Rep mSec TORQUE POSITION POS_ANAT VELOCITY\n"
                            "1 1 0 10 90 5 -60 Away\n1 1 10 12 89 6 -60 Away\n1 1 20 11\n");
  const auto b = run("import '" + biodex.string() + "' --out '" + out.string() + "'");
  EXPECT_NE(b.exit_code, 0);
  EXPECT_NE(b.err.find(biodex.string() + ":5: column 5:"), std::string::npos) << b.err;
  // Content no importer recognises: the formats are listed.
  const auto notes = write("notes.txt", "a shopping list\n");
  const auto n = run("import '" + notes.string() + "' --out '" + out.string() + "'");
  EXPECT_NE(n.exit_code, 0);
  EXPECT_NE(
      n.err.find(
          "give --format one of biodex, contrex, biodex-6line, isomed, vicon-csv, c3d, mat, csv"),
      std::string::npos)
      << n.err;
  const auto f = run("import '" + notes.string() + "' --format excel --out '" + out.string() + "'");
  EXPECT_NE(f.err.find("--format 'excel' is not one of"), std::string::npos) << f.err;
  for (const auto* res : {&b, &n, &f}) {
    EXPECT_EQ(std::count(res->err.begin(), res->err.end(), '\n'), 1) << res->err;
  }
  // Nothing written: no session file, no temporary.
  EXPECT_TRUE(!fs::exists(out) || fs::is_empty(out));
  // The rest cuts the real C3D trial short.
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-analog-c3d");
  // A C3D whose header declares far more frames than the file holds.
  std::string c3d =
      slurp(fs::path(ISOKIN_SHARED_DIR) / "realdata" / "biodex-analog-c3d" / "5-20a.c3d");
  c3d.resize(20000);
  const auto truncated = write("short.c3d", c3d);
  const auto profile = write("p.json", R"({"angle": {"channel": 17}, "torque": {"channel": 20}})");
  const auto t = run("import '" + truncated.string() + "' --profile '" + profile.string() +
                     "' --out '" + out.string() + "'");
  EXPECT_NE(t.exit_code, 0);
  EXPECT_NE(t.err.find(truncated.string() + ": byte 5120: 1739 frames of 840 bytes"),
            std::string::npos)
      << t.err;
  EXPECT_EQ(std::count(t.err.begin(), t.err.end(), '\n'), 1) << t.err;
  EXPECT_TRUE(!fs::exists(out) || fs::is_empty(out));
}

TEST_F(Import, ASimulatedBiodexExportAnalysesLikeTheSimulator) {
  // The simulator's 3-repetition set at 60 °/s written as a Biodex System 4 TXT export (Away =
  // extension, TORQUE and VELOCITY positive Away; docs/import-formats.md), then imported and
  // analysed as a user would, with no --format.
  isokin::drivers::SimulationSettings settings;
  settings.sample_rate_hz = 100.0;
  isokin::drivers::MotionSetpoint setpoint;
  setpoint.repetitions = 3;
  const auto sim = isokin::drivers::simulate_set(settings, setpoint);
  double peak_extension = 0.0;
  for (const auto& s : sim) {
    if (s.velocity < -30.0) peak_extension = std::max(peak_extension, s.torque);
  }
  const auto file = write("S-1 knee.txt", isokin::test::biodex_export(sim));
  const auto r = run("import '" + file.string() + "' --velocity 60 --out '" + dir_.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto a = run("analyze --json --no-gravity '" + (dir_ / "S-1 knee.h5").string() + "'");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto j = nlohmann::json::parse(a.out);
  const auto& reps = j["sets"][0]["extension"]["repetitions"];
  ASSERT_EQ(reps.size(), 3U);
  EXPECT_EQ(reps[0]["muscle_group"], "quadriceps");
  // Peak of the filtered curve vs the largest raw sample while extending (0.8 N·m noise).
  EXPECT_NEAR(j["sets"][0]["extension"]["peak_torque_nm"].get<double>(), peak_extension,
              0.02 * peak_extension);
  EXPECT_EQ(j["sets"][0]["flexion"]["repetitions"].size(), 3U);
  // The export's own Away/Toward marks made the phases (format v3 device segmentation).
  EXPECT_EQ(j["settings"]["segmentation"]["source"], "auto");
  EXPECT_EQ(j["sets"][0]["phases_from"], "device");
  // The last "Toward" mark runs on through the rest to the end of the export: the lever had
  // stopped, so the last flexion is whole, not cut off.
  const auto& last_flexion = j["sets"][0]["flexion"]["repetitions"][2];
  EXPECT_TRUE(last_flexion["flags"].empty()) << last_flexion["flags"];
  const auto session = isokin::acquisition::read_session(dir_ / "S-1 knee.h5");
  ASSERT_EQ(session.sets.size(), 1U);
  EXPECT_TRUE(session.sets[0].info.device_segmented);
}

}  // namespace
