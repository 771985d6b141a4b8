// MATLAB .mat import (libmatio) against the real Biodex System 2 ADC recordings in
// ../shared/realdata/biodex-system2-analog-adc (README there) and malformed copies of them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "isokin/acquisition/import.h"
#include "isokin/acquisition/session_file.h"
#include "support/realdata.h"

namespace {

namespace fs = std::filesystem;
using isokin::acquisition::import_recording;
using isokin::acquisition::ImportError;
using isokin::acquisition::ImportFormat;
using isokin::acquisition::ImportOptions;

const fs::path kAdc = fs::path(ISOKIN_SHARED_DIR) / "realdata" / "biodex-system2-analog-adc";

// The README's calibration of the ADC counts; extension torque is negative in that set-up.
ImportOptions adc_options(bool negate_torque) {
  ImportOptions o;
  o.columns = "torque=1,velocity=2,angle=3";
  o.rate_hz = 42.0;
  o.scales = {"torque=1.04,-552", "velocity=0.883,-459", "angle=0.363,-99.3"};
  if (negate_torque) o.negate = {"torque"};
  return o;
}

class MatImport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("isokin-mat-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  [[nodiscard]] std::string error_of(const fs::path& file, const ImportOptions& o) const {
    try {
      (void)import_recording(file, o);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no error";
  }
  fs::path dir_;
};

TEST_F(MatImport, CountsCalibrateToTheLabsOwnExport) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  const auto mat = import_recording(kAdc / "Messung_Armin.mat", adc_options(false));
  EXPECT_EQ(mat.format, ImportFormat::kMat);  // detected from the content
  // test.txt: the lab software's calibration of the same 1427 rows (';', decimal comma).
  ImportOptions lab_options;
  lab_options.columns = "torque=1,velocity=2,angle=3";
  lab_options.rate_hz = 42.0;
  lab_options.delimiter = ";";
  lab_options.decimal = ",";
  const auto lab = import_recording(kAdc / "test.txt", lab_options);
  ASSERT_EQ(mat.signals.size(), 1427U);
  ASSERT_EQ(lab.signals.size(), 1427U);
  double worst = 0.0;
  for (std::size_t i = 0; i < 1427; ++i) {
    worst = std::max({worst, std::abs(mat.signals.torque[i] - lab.signals.torque[i]),
                      std::abs(mat.signals.velocity[i] - lab.signals.velocity[i]),
                      std::abs(mat.signals.angle[i] - lab.signals.angle[i])});
  }
  EXPECT_LT(worst, 1e-9);
  EXPECT_NE(mat.header_text.find("MATLAB 5.0 MAT-file"), std::string::npos);
  // MATLAB class double, stored as uint16 counts (scipy.io.loadmat shows the storage type).
  EXPECT_NE(mat.device_model.find("OrigWerte (double 1427×3)"), std::string::npos)
      << mat.device_model;
}

TEST_F(MatImport, ErichsTrialByHandAndPlausibility) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  const auto rec = import_recording(kAdc / "Messung_Erich.mat", adc_options(true));
  const auto& s = rec.signals;
  ASSERT_EQ(s.size(), 1025U);  // OrigWerte is 1025×3 (scipy.io.loadmat)
  // First row counts 525, 519, 550; last 535, 519, 508 (scipy.io.loadmat). By hand:
  // torque −(1.04·525 − 552) = 6.0, velocity 0.883·519 − 459 = −0.723, angle 0.363·550 − 99.3
  // = 100.35; last: −(1.04·535 − 552) = −4.4, angle 0.363·508 − 99.3 = 85.104.
  EXPECT_NEAR(s.torque.front(), 6.0, 1e-9);
  EXPECT_NEAR(s.velocity.front(), -0.723, 1e-9);
  EXPECT_NEAR(s.angle.front(), 100.35, 1e-9);
  EXPECT_NEAR(s.torque.back(), -4.4, 1e-9);
  EXPECT_NEAR(s.angle.back(), 85.104, 1e-9);
  // Plausibility: a knee range of motion within 0–110°, and the velocity channel runs with
  // d(angle)/dt (so no sign flip is needed for it).
  const auto [lo, hi] = std::minmax_element(s.angle.begin(), s.angle.end());
  EXPECT_GT(*lo, -5.0);
  EXPECT_LT(*hi, 110.0);
  EXPECT_GT(*hi - *lo, 70.0);
  double dot = 0.0;
  double norm = 0.0;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    const double d = (s.angle[i + 1] - s.angle[i - 1]) * 42.0 / 2.0;
    dot += d * s.velocity[i];
    norm += std::abs(d * s.velocity[i]);
  }
  EXPECT_GT(dot / norm, 0.8);
  // Extension (angle falling) is where the subject works: extensor torque positive once mapped.
  double torque_while_extending = 0.0;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    if (s.angle[i + 1] < s.angle[i - 1] - 1.0) torque_while_extending += s.torque[i];
  }
  EXPECT_GT(torque_while_extending, 0.0);
}

TEST_F(MatImport, WriteAndReadBackAsASessionFile) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  const auto rec = import_recording(kAdc / "MVC_Armin.mat", adc_options(true));
  const fs::path out = dir_ / "MVC_Armin.h5";
  isokin::acquisition::write_imported_session(rec, {}, out);
  const auto session = isokin::acquisition::read_session(out);
  ASSERT_EQ(session.sets.size(), 1U);
  EXPECT_EQ(session.sets[0].signals.size(), 555U);
  EXPECT_EQ(session.sets[0].signals.torque, rec.signals.torque);
  EXPECT_NE(session.info.protocol_json.find("\"format\":\"mat\""), std::string::npos);
  // Nothing but the session file is left in the directory.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(MatImport, MalformedFilesAndOptionsGiveClearErrors) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-analog-c3d");
  // Truncated copy.
  std::ifstream in(kAdc / "Messung_Armin.mat", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path truncated = dir_ / "truncated.mat";
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const std::string t = error_of(truncated, adc_options(true));
  EXPECT_EQ(t.rfind(truncated.string() + ":", 0), 0U) << t;
  // A MAT header followed by garbage.
  const fs::path garbage = dir_ / "garbage.mat";
  std::ofstream(garbage, std::ios::binary) << bytes.substr(0, 128) << std::string(1000, '\x7f');
  const std::string g = error_of(garbage, adc_options(true));
  EXPECT_EQ(g.rfind(garbage.string() + ":", 0), 0U) << g;
  // A variable that is not there; a file with several matrices and none named.
  ImportOptions named = adc_options(true);
  named.mat_variable = "Torque";
  EXPECT_NE(error_of(kAdc / "Messung_Armin.mat", named).find("no variable 'Torque'"),
            std::string::npos);
  const fs::path mvc = fs::path(ISOKIN_SHARED_DIR) / "realdata" / "biodex-analog-c3d" / "MVC.mat";
  EXPECT_NE(error_of(mvc, adc_options(true)).find("name one with --variable"), std::string::npos);
  // A column beyond the matrix.
  ImportOptions wide = adc_options(false);
  wide.columns = "torque=1,angle=4";
  wide.scales.clear();
  EXPECT_NE(error_of(kAdc / "Messung_Armin.mat", wide).find("from 1 to 3"), std::string::npos);
}

}  // namespace
