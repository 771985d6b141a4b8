// The generic delimited importer as a library: the real ADC counts with the README's calibration
// against the lab's own calibrated export, and malformed variants.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "isokin/acquisition/import.h"
#include "support/realdata.h"

namespace {

namespace fs = std::filesystem;
using isokin::acquisition::import_recording;
using isokin::acquisition::ImportError;
using isokin::acquisition::ImportFormat;
using isokin::acquisition::ImportOptions;

const fs::path kAdc = fs::path(ISOKIN_SHARED_DIR) / "realdata" / "biodex-system2-analog-adc";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

ImportOptions counts_options() {
  ImportOptions o;
  o.columns = "torque=1,velocity=2,angle=3";
  o.rate_hz = 42.0;
  o.scales = {"torque=1.04,-552", "velocity=0.883,-459", "angle=0.363,-99.3"};
  return o;
}

std::string error_of(std::string_view content, const ImportOptions& o) {
  try {
    (void)import_recording(content, "mem.csv", o);
  } catch (const ImportError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DelimitedImport, CountsCalibrateToTheLabsExportLineByLine) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  const auto ours = import_recording(kAdc / "Armin_Messung", counts_options());
  EXPECT_EQ(ours.format, ImportFormat::kDelimited);  // --columns without --format
  // test.txt parsed here independently: ';' fields, decimal comma.
  const std::string lab = slurp(kAdc / "test.txt");
  std::size_t row = 0;
  std::size_t start = 0;
  double worst = 0.0;
  while (start < lab.size()) {
    std::size_t end = lab.find('\n', start);
    if (end == std::string::npos) end = lab.size();
    std::string line = lab.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line == "\r") continue;
    for (auto& c : line) c = c == ',' ? '.' : (c == ';' ? ' ' : c);
    double torque = 0.0;
    double velocity = 0.0;
    double angle = 0.0;
    ASSERT_EQ(std::sscanf(line.c_str(), "%lf %lf %lf", &torque, &velocity, &angle), 3) << line;
    ASSERT_LT(row, ours.signals.size());
    worst = std::max({worst, std::abs(ours.signals.torque[row] - torque),
                      std::abs(ours.signals.velocity[row] - velocity),
                      std::abs(ours.signals.angle[row] - angle)});
    ++row;
  }
  EXPECT_EQ(row, 1427U);
  EXPECT_EQ(ours.signals.size(), 1427U);
  EXPECT_LT(worst, 1e-9);
  // Time from the given rate.
  EXPECT_DOUBLE_EQ(ours.signals.time[42], 1.0);
}

TEST(DelimitedImport, MalformedVariantsNameLineAndColumn) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  const std::string good =
      slurp(kAdc / "Armin_Messung").substr(0, std::size_t{12} * 20);  // 20 lines
  const auto o = counts_options();
  EXPECT_EQ(error_of(good, o), "no error");
  // Wrong column count: line 3 loses its last field.
  std::string short_line = good;
  short_line.erase(short_line.rfind(',', 12 * 2 + 11), 4);
  EXPECT_NE(error_of(short_line, o).find("mem.csv:3: column 3 (angle) is missing: the line has 2"),
            std::string::npos)
      << error_of(short_line, o);
  // Garbage bytes inside a line.
  std::string garbage = good;
  garbage[12 * 5 + 1] = '\x01';
  EXPECT_NE(error_of(garbage, o).find("mem.csv:6: column 1 (torque):"), std::string::npos)
      << error_of(garbage, o);
  // Truncated to a single line.
  EXPECT_NE(error_of(good.substr(0, 12), o).find("fewer than 2 data lines"), std::string::npos);
  // A decimal point where a decimal comma is expected.
  ImportOptions comma = o;
  comma.delimiter = ";";
  comma.decimal = ",";
  comma.scales.clear();
  EXPECT_NE(error_of("1,5;2;3\n1.5;2;3\n", comma).find("mem.csv:2: column 1 (torque): '1.5'"),
            std::string::npos);
}

TEST(DelimitedImport, BadOptionsAreUsageErrorsNotFileErrors) {
  ImportOptions o = counts_options();
  o.columns = "force=1,angle=2";
  EXPECT_THROW((void)import_recording("1,2\n3,4\n", "mem.csv", o), std::invalid_argument);
  o = counts_options();
  o.rate_hz.reset();
  EXPECT_THROW((void)import_recording("1,2,3\n3,4,5\n", "mem.csv", o), std::invalid_argument);
}

// The usage error a mapping gives, or "no error".
std::string usage_error_of(std::string_view content, const std::string& file,
                           const ImportOptions& o) {
  try {
    (void)import_recording(content, file, o);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

// Issue 19.13: one column mapped as two channels would record one signal twice under two
// names; refused, naming the column, whether given by number or by header name.
TEST(DelimitedImport, OneColumnMappedAsTwoChannelsIsRefused) {
  const std::string rows = "1,2,3\n4,5,6\n7,8,9\n";
  ImportOptions o;
  o.rate_hz = 100.0;
  o.columns = "torque=2,velocity=1,angle=2";
  EXPECT_EQ(usage_error_of(rows, "mem.csv", o),
            "import: --columns maps column 2 to both angle and torque: one column can be only "
            "one channel");
  o.columns = "torque=Moment,angle=2";
  EXPECT_EQ(usage_error_of("Angle,Moment\n" + rows, "mem.csv", o),
            "import: --columns maps column 2 to both angle and torque: one column can be only "
            "one channel");
  o.columns = "torque=1,angle=2,torque=3";
  EXPECT_EQ(usage_error_of(rows, "mem.csv", o),
            "import: --columns maps torque twice: give each channel one column");
  o.columns = "torque=1,angle=2";  // distinct columns import
  EXPECT_EQ(usage_error_of(rows, "mem.csv", o), "no error");
}

}  // namespace
