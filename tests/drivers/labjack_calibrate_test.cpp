// `isokin calibrate` run as a user would. The points lie on known lines plus residuals chosen
// orthogonal to [volts, 1] (they sum to zero and so does volts × residual), so least squares
// must return exactly those lines and exactly those residuals.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "isokin/drivers/labjack_u6.h"
#include "support/cli_runner.h"

namespace {

namespace fs = std::filesystem;

class CalibrateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("isokin-calibrate-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  [[nodiscard]] isokin::test::CommandResult calibrate(const std::string& points) const {
    std::ofstream(dir_ / "points.csv") << points;
    const fs::path base = fs::path(ISOKIN_SOURCE_DIR) / "profiles/labjack-u6-biodex-example.json";
    return isokin::test::run_cli("calibrate '" + (dir_ / "points.csv").string() + "' --profile '" +
                                     base.string() + "' --out '" + (dir_ / "fit.json").string() +
                                     "'",
                                 dir_ / "err.txt");
  }
  fs::path dir_;
};

TEST_F(CalibrateCli, RecoversTheLinesAndReportsTheResiduals) {
  // torque = −50 × (V − 0.1) + e, e = 0.01, −0.02, 0.02, −0.02, 0.01 at V = −2 … 2;
  // angle = 30 × (V + 3), exactly.
  std::string csv = "# loads hung at 0.5 m\nquantity,volts,value\n";
  const double e[] = {0.01, -0.02, 0.02, -0.02, 0.01};
  for (int i = 0; i < 5; ++i) {
    const double v = i - 2.0;
    csv += "torque," + std::to_string(v) + "," + std::to_string(-50.0 * (v - 0.1) + e[i]) + "\n";
  }
  for (const double v : {-3.0, -2.0, -1.0, 0.0}) {
    csv += "angle," + std::to_string(v) + "," + std::to_string(30.0 * (v + 3.0)) + "\n";
  }
  const auto r = calibrate(csv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // RMS of e = sqrt(14e-4 / 5) = 0.01673; max |e| = 0.02.
  EXPECT_NE(r.out.find("torque: 5 points, 50 N·m/V, zero at 0.1 V, sign -1; residuals RMS "
                       "0.0167 N·m, max 0.02 N·m"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("residual -0.0200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("angle: 4 points, 30 deg/V, zero at -3 V, sign +1"), std::string::npos)
      << r.out;

  const auto fitted = isokin::drivers::load_calibration_profile(dir_ / "fit.json");
  EXPECT_NEAR(fitted.torque.units_per_volt, 50.0, 1e-9);
  EXPECT_NEAR(fitted.torque.zero_volts, 0.1, 1e-9);
  EXPECT_EQ(fitted.torque.sign, -1);
  EXPECT_NEAR(fitted.angle.units_per_volt, 30.0, 1e-9);
  EXPECT_NEAR(fitted.angle.zero_volts, -3.0, 1e-9);
  // Velocity had no points: kept from the base profile, as is the wiring.
  EXPECT_EQ(fitted.velocity.units_per_volt, 100.0);
  EXPECT_EQ(fitted.torque.ain, 0);
  EXPECT_EQ(fitted.scan_rate_hz, 1000.0);
}

TEST_F(CalibrateCli, BadPointsNameFileLineAndColumn) {
  auto r = calibrate("quantity,volts,value\ntorque,1,2\ntorque,abc,1\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("points.csv:3:8: 'abc' is not a number"), std::string::npos) << r.err;
  r = calibrate("quantity,volts,value\nforce,1,2\n");
  EXPECT_NE(r.err.find("points.csv:2:1: quantity 'force' must be torque, angle or velocity"),
            std::string::npos)
      << r.err;
  r = calibrate("quantity,volts,value\ntorque,1,2\ntorque,1,3\n");
  EXPECT_NE(r.err.find("torque needs points at two different voltages"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "fit.json"));
}

}  // namespace
