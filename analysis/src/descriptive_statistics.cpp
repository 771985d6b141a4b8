#include "isokin/analysis/descriptive_statistics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace isokin::analysis {

double percentile_type7(std::span<const double> sorted, double p) {
  if (sorted.empty()) return SampleDescription::kNaN;
  if (!(p >= 0.0 && p <= 100.0)) throw std::invalid_argument("percentile outside 0 to 100");
  const double h = static_cast<double>(sorted.size() - 1) * p / 100.0;
  const auto below = static_cast<std::size_t>(std::floor(h));
  if (below + 1 >= sorted.size()) return sorted.back();
  return sorted[below] + (h - static_cast<double>(below)) * (sorted[below + 1] - sorted[below]);
}

SampleDescription describe_sample(std::vector<double> values) {
  if (std::any_of(values.begin(), values.end(), [](double v) { return !std::isfinite(v); })) {
    throw std::invalid_argument("describe_sample: values must be finite");
  }
  SampleDescription d;
  d.n = values.size();
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  double sum = 0.0;
  for (const double v : values) sum += v;
  d.mean = sum / static_cast<double>(d.n);
  if (d.n >= 2) {
    // Two passes: deviations from the mean, not sums of squares, so no cancellation.
    double squares = 0.0;
    for (const double v : values) squares += (v - d.mean) * (v - d.mean);
    d.sd = std::sqrt(squares / static_cast<double>(d.n - 1));
  }
  d.min = values.front();
  d.max = values.back();
  for (const double p : kCohortPercentiles) d.percentiles.push_back(percentile_type7(values, p));
  return d;
}

}  // namespace isokin::analysis
