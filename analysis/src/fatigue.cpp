#include "isokin/analysis/fatigue.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace isokin::analysis {

LineFit fit_line(std::span<const double> values) {
  LineFit fit;
  const auto n = static_cast<double>(values.size());
  if (values.size() < 2) return fit;
  const double mean_x = (n - 1.0) / 2.0;
  const double mean_y = std::accumulate(values.begin(), values.end(), 0.0) / n;
  double sxy = 0.0;
  double sxx = 0.0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double dx = static_cast<double>(i) - mean_x;
    sxy += dx * (values[i] - mean_y);
    sxx += dx * dx;
  }
  fit.slope = sxy / sxx;
  fit.intercept = mean_y - fit.slope * mean_x;
  return fit;
}

FatigueIndices fatigue_indices(std::span<const double> peaks, std::span<const double> works) {
  FatigueIndices f;
  const std::size_t n = std::min(peaks.size(), works.size());
  auto sum = [](std::span<const double> v, std::size_t from, std::size_t count) {
    return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(from),
                           v.begin() + static_cast<std::ptrdiff_t>(from + count), 0.0);
  };
  if (n >= 3) {
    const std::size_t third = n / 3;
    f.work_fatigue = 100.0 * (1.0 - sum(works, n - third, third) / sum(works, 0, third));
    const LineFit fit = fit_line(peaks.first(n));
    f.peak_torque_slope = fit.slope;
    f.peak_torque_slope_percent = 100.0 * fit.slope / fit.intercept;
  }
  if (n >= 6) f.thorstensson_index = 100.0 * (1.0 - sum(peaks, n - 3, 3) / sum(peaks, 0, 3));
  if (n >= 10) f.endurance_ratio = sum(works, n - 5, 5) / sum(works, 0, 5);
  return f;
}

}  // namespace isokin::analysis
