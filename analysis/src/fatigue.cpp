#include "isokin/analysis/fatigue.h"

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

FatigueIndices fatigue_indices(std::span<const PhaseResult> reps) {
  FatigueIndices f;
  const std::size_t n = reps.size();
  auto sum = [&](std::size_t from, std::size_t count, auto field) {
    double s = 0.0;
    for (std::size_t i = from; i < from + count; ++i) s += field(reps[i]);
    return s;
  };
  const auto work = [](const PhaseResult& r) { return r.work; };
  const auto peak = [](const PhaseResult& r) { return r.peak_torque; };
  if (n >= 3) {
    const std::size_t third = n / 3;
    f.work_fatigue = 100.0 * (1.0 - sum(n - third, third, work) / sum(0, third, work));
    std::vector<double> peaks(n);
    for (std::size_t i = 0; i < n; ++i) peaks[i] = reps[i].peak_torque;
    const LineFit fit = fit_line(peaks);
    f.peak_torque_slope = fit.slope;
    f.peak_torque_slope_percent = 100.0 * fit.slope / fit.intercept;
  }
  if (n >= 6) f.thorstensson_index = 100.0 * (1.0 - sum(n - 3, 3, peak) / sum(0, 3, peak));
  if (n >= 10) f.endurance_ratio = sum(n - 5, 5, work) / sum(0, 5, work);
  return f;
}

}  // namespace isokin::analysis
