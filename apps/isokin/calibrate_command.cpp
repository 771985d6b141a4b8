// `isokin calibrate`: fits a LabJack calibration profile's volts -> units lines from known loads,
// angles and speeds by least squares, and reports the residuals (docs/hardware.md §3).
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <Eigen/Dense>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "commands.h"
#include "isokin/drivers/labjack_u6.h"

namespace isokin::cli {
namespace {

struct Point {
  double volts = 0.0;
  double value = 0.0;
  int line = 0;
};

double parse_number(const std::string& text, const std::string& where) {
  std::size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(v)) {
    throw std::runtime_error(fmt::format("{}: '{}' is not a number", where, text));
  }
  return v;
}

// CSV with the header quantity,volts,value; '#' starts a comment line.
std::map<std::string, std::vector<Point>> read_points(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", file.string()));
  std::map<std::string, std::vector<Point>> points;
  std::string line;
  int number = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::vector<std::size_t> columns;
    std::stringstream ss(line);
    std::string field;
    std::size_t column = 1;
    while (std::getline(ss, field, ',')) {
      fields.push_back(field);
      columns.push_back(column);
      column += field.size() + 1;
    }
    if (!header) {
      if (line != "quantity,volts,value") {
        throw std::runtime_error(
            fmt::format("{}:{}:1: the first line must be the header quantity,volts,value",
                        file.string(), number));
      }
      header = true;
      continue;
    }
    if (fields.size() != 3) {
      throw std::runtime_error(fmt::format("{}:{}:1: {} fields, expected 3 (quantity,volts,value)",
                                           file.string(), number, fields.size()));
    }
    if (fields[0] != "torque" && fields[0] != "angle" && fields[0] != "velocity") {
      throw std::runtime_error(
          fmt::format("{}:{}:1: quantity '{}' must be torque, angle or velocity", file.string(),
                      number, fields[0]));
    }
    const auto where = [&](std::size_t i) {
      return fmt::format("{}:{}:{}", file.string(), number, columns[i]);
    };
    points[fields[0]].push_back(
        {parse_number(fields[1], where(1)), parse_number(fields[2], where(2)), number});
  }
  if (!header) throw std::runtime_error(fmt::format("{}: no points", file.string()));
  return points;
}

nlohmann::ordered_json channel_json(const drivers::AnalogChannelMap& c) {
  return {{"ain", c.ain},
          {"range_volts", c.range_volts},
          {"differential", c.differential},
          {"units_per_volt", c.units_per_volt},
          {"zero_volts", c.zero_volts},
          {"sign", c.sign}};
}

}  // namespace

int run_calibrate(const CalibrateOptions& options, std::ostream& out) {
  auto profile = drivers::load_calibration_profile(options.base_profile);
  const auto points = read_points(options.points);
  const std::map<std::string, std::string> units{
      {"torque", "N·m"}, {"angle", "deg"}, {"velocity", "deg/s"}};
  for (const auto& [quantity, list] : points) {
    // value = a·volts + b, least squares; needs two distinct voltages.
    const auto n = static_cast<Eigen::Index>(list.size());
    Eigen::MatrixXd a(n, 2);
    Eigen::VectorXd y(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      a(i, 0) = list[static_cast<std::size_t>(i)].volts;
      a(i, 1) = 1.0;
      y(i) = list[static_cast<std::size_t>(i)].value;
    }
    const auto qr = a.colPivHouseholderQr();
    if (n < 2 || qr.rank() < 2) {
      throw std::runtime_error(fmt::format("{}: {} needs points at two different voltages at least",
                                           options.points.string(), quantity));
    }
    const Eigen::Vector2d fit = qr.solve(y);
    const Eigen::VectorXd residual = y - a * fit;
    const double slope = fit(0);
    const double intercept = fit(1);
    if (slope == 0.0) {
      throw std::runtime_error(fmt::format("{}: {} does not change with the voltage",
                                           options.points.string(), quantity));
    }
    auto& channel = quantity == "torque"  ? profile.torque
                    : quantity == "angle" ? profile.angle
                                          : profile.velocity;
    channel.sign = slope < 0.0 ? -1 : 1;
    channel.units_per_volt = std::abs(slope);
    channel.zero_volts = -intercept / slope;
    const double rms = std::sqrt(residual.squaredNorm() / static_cast<double>(n));
    fmt::print(out,
               "{}: {} points, {:.6g} {}/V, zero at {:.6g} V, sign {:+d}; residuals RMS {:.3g} {}, "
               "max {:.3g} {}\n",
               quantity, n, channel.units_per_volt, units.at(quantity), channel.zero_volts,
               channel.sign, rms, units.at(quantity), residual.cwiseAbs().maxCoeff(),
               units.at(quantity));
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto& p = list[static_cast<std::size_t>(i)];
      fmt::print(out,
                 "  line {:>3}: {:>10.5f} V  known {:>10.4f}  fitted {:>10.4f}  residual {:+.4f}\n",
                 p.line, p.volts, p.value, p.value - residual(i), residual(i));
    }
  }
  nlohmann::ordered_json j;
  j["format"] = "isokin-labjack-profile";
  j["version"] = 1;
  j["name"] = profile.name;
  j["dynamometer"] = profile.dynamometer;
  j["scan_rate_hz"] = profile.scan_rate_hz;
  j["channels"] = {{"torque", channel_json(profile.torque)},
                   {"angle", channel_json(profile.angle)},
                   {"velocity", channel_json(profile.velocity)}};
  std::ofstream file(options.out);
  if (!(file << j.dump(2) << '\n')) {
    throw std::runtime_error(fmt::format("{}: cannot write the profile", options.out.string()));
  }
  fmt::print(out, "Wrote {}\n", options.out.string());
  return 0;
}

}  // namespace isokin::cli
