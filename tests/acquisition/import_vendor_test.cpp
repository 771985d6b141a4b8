// Vendor text exports. No public Biodex, IsoMed or Vicon files exist, so each test writes the
// simulator's set (drivers::simulate_set) in the vendor's layout, units and signs as
// docs/import-formats.md describes them, and checks that the import gives back the simulator's
// samples (to the decimals written). Then malformed variants of each.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "isokin/acquisition/import.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

namespace fs = std::filesystem;
using isokin::acquisition::import_recording;
using isokin::acquisition::ImportedRecording;
using isokin::acquisition::ImportFormat;
using isokin::acquisition::ImportOptions;
using isokin::drivers::Sample;

constexpr double kFootPound = 1.3558179483314004;  // N·m per ft·lbf (0.3048 m × 4.4482216152605 N)

std::vector<Sample> simulated(double rate_hz) {
  isokin::drivers::SimulationSettings settings;
  settings.sample_rate_hz = rate_hz;
  settings.seed = 7;
  isokin::drivers::MotionSetpoint setpoint;
  setpoint.extension_velocity = 60.0;
  setpoint.flexion_velocity = 60.0;
  setpoint.angle_min = 5.0;
  setpoint.angle_max = 95.0;
  setpoint.repetitions = 3;
  return isokin::drivers::simulate_set(settings, setpoint);
}

class VendorImport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("isokin-vendor-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  [[nodiscard]] fs::path write(const std::string& name, const std::string& text) const {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  static std::string error_of(const fs::path& file, const ImportOptions& o = {}) {
    try {
      (void)import_recording(file, o);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no error";
  }
  static void expect_reproduces(const ImportedRecording& rec, const std::vector<Sample>& sim,
                                double time_tol, double torque_tol, double angle_tol,
                                double velocity_tol) {
    ASSERT_EQ(rec.signals.size(), sim.size());
    for (std::size_t i = 0; i < sim.size(); ++i) {
      ASSERT_NEAR(rec.signals.time[i], sim[i].time - sim[0].time, time_tol) << i;
      ASSERT_NEAR(rec.signals.torque[i], sim[i].torque, torque_tol) << i;
      ASSERT_NEAR(rec.signals.angle[i], sim[i].angle, angle_tol) << i;
      ASSERT_NEAR(rec.signals.velocity[i], sim[i].velocity, velocity_tol) << i;
    }
  }
  fs::path dir_;
};

// ---- Biodex System 3/4 TXT ------------------------------------------------------------------
// Knee set started in flexion: "Away" from the start = extension. Biodex's TORQUE and VELOCITY
// are positive in the Away direction, POS_ANAT is the anatomical (flexion) angle, POSITION the
// shaft position from the start of the range, mSec the time in milliseconds.

std::string biodex_txt(const std::vector<Sample>& sim, bool foot_pounds,
                       bool away_is_extension = true) {
  std::ostringstream f;
  f << "BIODEX MEDICAL SYSTEMS, INC.  System 4 Pro  Raw Data Report\n";
  f << "Patient Name: ANON, SUBJECT\nPatient ID: S-007\nDate of Birth: 01/01/1990\n";
  f << "Test Date: 11/25/2026\nJoint: Knee\nSide: Right\nPattern: Extension/Flexion\n";
  f << "Mode: Isokinetic\nContraction: Con/Con\nSpeed: 60/60 deg/sec\nROM: 5 - 95 deg\n";
  f << "Sample Rate: 100 Hz\n";
  for (int k = 14; k <= 50; ++k) f << fmt::format("Setting {:02d}: value {}\n", k, k * 3);
  f << "\n";
  f << "Set  Rep  mSec  TORQUE  POSITION  POS_ANAT  VELOCITY\n";  // line 52
  if (foot_pounds) f << "-    -    ms    FT-LBS  DEG       DEG       DEG/SEC\n";
  int rep = 0;
  bool extending = false;
  // Started extended instead, "Away" is flexion: TORQUE and VELOCITY positive toward flexion.
  const double away = away_is_extension ? -1.0 : 1.0;  // isokin velocity sign of "Away"
  for (std::size_t i = 0; i < sim.size(); ++i) {
    const Sample& s = sim[i];
    // An extension starts (hysteresis ±20 °/s against the sensor noise).
    if (!extending && s.velocity < -20.0) {
      extending = true;
      ++rep;
    }
    if (extending && s.velocity > 20.0) extending = false;
    const double torque = foot_pounds ? s.torque / kFootPound : s.torque;
    f << fmt::format("{}  {}  {}  {:.3f}  {:.2f}  {:.2f}  {:.2f}  {}\n", 1, std::max(rep, 1),
                     std::lround((s.time - sim[0].time) * 1000.0), -away * torque, 95.0 - s.angle,
                     s.angle, away * s.velocity, away * s.velocity > 0.0 ? "Away" : "Toward");
  }
  return f.str();
}

TEST_F(VendorImport, BiodexTxtReproducesTheSimulatedSet) {
  const auto sim = simulated(100.0);
  const auto file = write("S-007 knee 60.txt", biodex_txt(sim, false));
  const auto rec = import_recording(file, {});
  EXPECT_EQ(rec.format, ImportFormat::kBiodex);
  EXPECT_DOUBLE_EQ(rec.sample_rate_hz, 100.0);
  expect_reproduces(rec, sim, 1e-9, 0.0005 + 1e-9, 0.005 + 1e-9, 0.005 + 1e-9);
  // The header text, verbatim, and the device's own Set/Rep/Away-Toward columns.
  EXPECT_EQ(rec.header_text.rfind("BIODEX MEDICAL SYSTEMS", 0), 0U);
  EXPECT_NE(rec.header_text.find("Speed: 60/60 deg/sec\n"), std::string::npos);
  ASSERT_EQ(rec.marks.repetition.size(), sim.size());
  EXPECT_EQ(*std::max_element(rec.marks.repetition.begin(), rec.marks.repetition.end()), 3);
  for (std::size_t i = 0; i < sim.size(); ++i) {
    ASSERT_EQ(rec.marks.phase[i], sim[i].velocity < 0.0 ? 1 : 2) << i;
  }
}

TEST_F(VendorImport, BiodexAwayAsFlexionMapsTheOtherWay) {
  const auto sim = simulated(100.0);
  const auto rec = import_recording(write("away-flexion.txt", biodex_txt(sim, false, false)), {});
  expect_reproduces(rec, sim, 1e-9, 0.0005 + 1e-9, 0.005 + 1e-9, 0.005 + 1e-9);
  // Away (1) is now where the knee flexes.
  for (std::size_t i = 0; i < sim.size(); ++i) {
    ASSERT_EQ(rec.marks.phase[i], sim[i].velocity > 0.0 ? 1 : 2) << i;
  }
}

TEST_F(VendorImport, BiodexTorqueInFootPoundsIsConverted) {
  const auto sim = simulated(100.0);
  const auto rec = import_recording(write("ftlb.txt", biodex_txt(sim, true)), {});
  expect_reproduces(rec, sim, 1e-9, 0.0005 * kFootPound + 1e-9, 0.005 + 1e-9, 0.005 + 1e-9);
}

TEST_F(VendorImport, BiodexMalformedVariantsNameLineAndColumn) {
  const auto sim = simulated(100.0);
  std::string text = biodex_txt(sim, false);
  // Truncated in the middle of the last line: "1  3  12340  4" has 4 of 7 columns.
  const auto cut = write("cut.txt", text.substr(0, text.rfind('\n', text.size() - 2) + 12));
  const std::size_t last_line = 52 + sim.size();
  const std::string e = error_of(cut);
  EXPECT_NE(e.find(cut.string() + ":" + std::to_string(last_line) + ": column"), std::string::npos)
      << e;
  // A value that is not a number, line 60 (8th data line), TORQUE is column 4.
  std::string garbage = text;
  std::size_t at = 0;
  for (int k = 0; k < 59; ++k) at = garbage.find('\n', at) + 1;
  const std::size_t torque_at =
      garbage.find("  ", garbage.find("  ", garbage.find("  ", at) + 2) + 2) + 2;
  garbage.replace(torque_at, 1, "x");
  const auto g = write("garbage.txt", garbage);
  EXPECT_NE(error_of(g).find(g.string() + ":60: column 4 (TORQUE): 'x"), std::string::npos)
      << error_of(g);
  // A direction word that is neither Away nor Toward.
  std::string word = text;
  const auto away = word.find("Away");
  word.replace(away, 4, "Up");
  EXPECT_NE(error_of(write("word.txt", word)).find("'Up' is neither Away nor Toward"),
            std::string::npos);
  // Without the column line it cannot be a Biodex export.
  ImportOptions biodex;
  biodex.format = ImportFormat::kBiodex;
  std::string no_columns = text;
  no_columns.replace(no_columns.find("Set  Rep"), 3, "Sat");
  EXPECT_NE(error_of(write("nocol.txt", no_columns), biodex).find("no column line"),
            std::string::npos);
  // Time going backwards.
  std::string back = text;
  const auto line70 = [&] {
    std::size_t p = 0;
    for (int k = 0; k < 69; ++k) p = back.find('\n', p) + 1;
    return p;
  }();
  const std::size_t ms_at = back.find("  ", back.find("  ", line70) + 2) + 2;
  back.replace(ms_at, back.find("  ", ms_at) - ms_at, "1");
  const auto b = write("back.txt", back);
  EXPECT_NE(error_of(b).find(b.string() + ":70: column 3 (time)"), std::string::npos)
      << error_of(b);
}

// ---- Older Biodex text export: 6 header lines, then time torque position anat velocity ----

TEST_F(VendorImport, Biodex6LineReproducesTheSimulatedSet) {
  const auto sim = simulated(100.0);
  std::ostringstream f;
  f << "Biodex Data File\nName: ANON\nJoint: KNEE RIGHT\nSpeed: 60 deg/sec\nRate: 100 Hz\n";
  f << "Time(sec) Torque(N-M) Position(deg) AnatPos(deg) Velocity(deg/sec)\n";
  for (const Sample& s : sim) {
    f << fmt::format("{:.3f} {:.2f} {:.2f} {:.2f} {:.2f}\n", s.time - sim[0].time, s.torque,
                     95.0 - s.angle, s.angle, -s.velocity);
  }
  const auto file = write("old.txt", f.str());
  const auto rec = import_recording(file, {});
  EXPECT_EQ(rec.format, ImportFormat::kBiodex6Line);
  expect_reproduces(rec, sim, 0.0005 + 1e-9, 0.005 + 1e-9, 0.005 + 1e-9, 0.005 + 1e-9);
  EXPECT_EQ(rec.header_text.rfind("Biodex Data File\n", 0), 0U);
  // Wrong column count on data line 3 (file line 9).
  std::string text = f.str();
  std::size_t at = 0;
  for (int k = 0; k < 8; ++k) at = text.find('\n', at) + 1;
  text.insert(text.find('\n', at), " 7.5");
  ImportOptions o;
  o.format = ImportFormat::kBiodex6Line;
  const auto bad = write("old-bad.txt", text);
  EXPECT_NE(error_of(bad, o).find(bad.string() + ":9: column 6: 6 columns, expected 5"),
            std::string::npos)
      << error_of(bad, o);
}

// ---- IsoMed 2000 raw export ------------------------------------------------------------------
// 10 columns, no header, 200 Hz: time ms, position 0.1° from the start of the range (toward
// flexion), torque 0.1 N·m and velocity 0.1 °/s in one rotation sense (positive toward flexion),
// column 6 the phase code (even = active movement).

std::string isomed(const std::vector<Sample>& sim) {
  std::ostringstream f;
  for (const Sample& s : sim) {
    const int phase = s.velocity < -1.0 ? 2 : s.velocity > 1.0 ? 4 : 1;
    f << fmt::format("{}\t{}\t{}\t{}\t0\t{}\t0\t0\t0\t0\n",
                     std::lround((s.time - sim[0].time) * 1e3), std::lround((s.angle - 5.0) * 10.0),
                     std::lround(-s.torque * 10.0), std::lround(s.velocity * 10.0), phase);
  }
  return f.str();
}

TEST_F(VendorImport, IsoMedReproducesTheSimulatedSet) {
  const auto sim = simulated(200.0);
  const auto file = write("isomed.txt", isomed(sim));
  ImportOptions o;
  o.rom_start_angle = 5.0;
  const auto rec = import_recording(file, o);
  EXPECT_EQ(rec.format, ImportFormat::kIsoMed);
  EXPECT_DOUBLE_EQ(rec.sample_rate_hz, 200.0);
  expect_reproduces(rec, sim, 1e-9, 0.05 + 1e-9, 0.05 + 1e-9, 0.05 + 1e-9);
  ASSERT_EQ(rec.marks.phase.size(), sim.size());
  EXPECT_EQ(rec.marks.phase[0], 1);
  // 9 columns on line 5.
  std::string text = isomed(sim);
  std::size_t at = 0;
  for (int k = 0; k < 4; ++k) at = text.find('\n', at) + 1;
  text.erase(text.rfind('\t', text.find('\n', at)), 2);
  const auto bad = write("isomed-bad.txt", text);
  o.format = ImportFormat::kIsoMed;
  EXPECT_NE(error_of(bad, o).find(bad.string() + ":5: column 10: 9 columns"), std::string::npos)
      << error_of(bad, o);
}

// ---- Vicon Nexus "Devices" CSV ---------------------------------------------------------------

std::string vicon(const std::vector<Sample>& sim, bool radians) {
  constexpr double kDeg = 3.14159265358979323846 / 180.0;
  std::ostringstream f;
  f << "\nDevices\n1500\n,,Con-Trex - Angle,Con-Trex - Angular velocity,Con-Trex - Torque\n";
  f << "Frame,Sub Frame,Angle,Angular velocity,Torque\n";
  f << (radians ? ",,rad,rad/s,N.mm\n" : ",,deg,deg/s,N.m\n");
  for (std::size_t i = 0; i < sim.size(); ++i) {
    const Sample& s = sim[i];
    const double k = radians ? kDeg : 1.0;
    f << fmt::format("{},{},{:.9g},{:.9g},{:.9g}\n", 1 + i / 15, i % 15, s.angle * k,
                     s.velocity * k, -s.torque * (radians ? 1000.0 : 1.0));
  }
  f << "\nTrajectories\n100\n";
  return f.str();
}

TEST_F(VendorImport, ViconDevicesCsvReproducesTheSimulatedSet) {
  const auto sim = simulated(1500.0);
  for (const bool radians : {false, true}) {
    SCOPED_TRACE(radians);
    const auto file = write("trial.csv", vicon(sim, radians));
    const auto rec = import_recording(file, {});
    EXPECT_EQ(rec.format, ImportFormat::kViconCsv);
    EXPECT_DOUBLE_EQ(rec.sample_rate_hz, 1500.0);
    expect_reproduces(rec, sim, 1e-9, 1e-6, 1e-6, 1e-6);
  }
  // An unknown unit names line 6 and the column.
  std::string text = vicon(sim, false);
  text.replace(text.find(",,deg,"), 6, ",,grad,");
  const auto bad = write("bad-unit.csv", text);
  EXPECT_NE(error_of(bad).find(bad.string() + ":6: column 3: unit 'grad'"), std::string::npos)
      << error_of(bad);
  // A torque column that is not there names the column line.
  std::string no_torque = vicon(sim, false);
  no_torque.replace(no_torque.find(",Torque"), 7, ",Force");
  const auto nt = write("no-torque.csv", no_torque);
  EXPECT_NE(error_of(nt).find(nt.string() + ":5: no column 'Torque'"), std::string::npos)
      << error_of(nt);
}

TEST_F(VendorImport, ViconMissingFramesAreGapsAndVelocityCanBeDerived) {
  // 1500 Hz, 15 sub frames per frame; frame 3 is missing, no velocity column.
  std::ostringstream f;
  f << "Devices\n1500\n,,Con-Trex\nFrame,Sub Frame,Angle,Torque\n,,deg,N.m\n";
  for (int frame = 1; frame <= 5; ++frame) {
    if (frame == 3) continue;
    for (int sub = 0; sub < 15; ++sub) {
      const double t = ((frame - 1) * 15 + sub) / 1500.0;
      f << frame << ',' << sub << ',' << 10.0 + 60.0 * t << ",-5\n";  // 60 °/s toward flexion
    }
  }
  const auto rec = import_recording(write("gap.csv", f.str()), {});
  ASSERT_EQ(rec.signals.size(), 60U);
  EXPECT_NEAR(rec.signals.time[30], 45.0 / 1500.0, 1e-12);  // first sample of frame 4
  EXPECT_EQ(rec.signals.status[30], isokin::drivers::kStatusGapBefore);
  EXPECT_EQ(rec.signals.status[29], isokin::drivers::kStatusOk);
  for (const double v : rec.signals.velocity) EXPECT_NEAR(v, 60.0, 1e-6);
  // Velocity positive toward flexion stands for the device's rotation sense: torque negated.
  EXPECT_DOUBLE_EQ(rec.signals.torque[0], 5.0);
}

// ---- Detection -------------------------------------------------------------------------------

TEST_F(VendorImport, UnknownContentListsTheFormats) {
  const auto file = write("notes.txt", "hello\nthis is not a recording\n");
  const std::string e = error_of(file);
  EXPECT_NE(e.find(file.string() + ": cannot tell the format"), std::string::npos) << e;
  EXPECT_NE(e.find("biodex, contrex, biodex-6line, isomed, vicon-csv, c3d, mat, csv"),
            std::string::npos);
  EXPECT_EQ(error_of(write("empty.txt", "")).find("cannot tell the format") != std::string::npos,
            true);
}

}  // namespace
