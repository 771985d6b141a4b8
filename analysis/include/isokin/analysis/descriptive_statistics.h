#pragma once
// Descriptive statistics of one sample of values: what a cohort summary reports per group and
// parameter (`isokin cohort`, docs/batch.md). Pure functions, no I/O.

#include <cstddef>
#include <limits>
#include <span>
#include <vector>

namespace isokin::analysis {

// Normative percentiles reported for each group.
inline constexpr double kCohortPercentiles[] = {10.0, 25.0, 50.0, 75.0, 90.0};

struct SampleDescription {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::size_t n = 0;
  double mean = kNaN;
  double sd = kNaN;  // sample standard deviation (divisor n − 1); NaN when n < 2
  double min = kNaN;
  double max = kNaN;
  // Type-7 percentiles at kCohortPercentiles, in that order.
  std::vector<double> percentiles;
};

// The p-th percentile (0 ≤ p ≤ 100) of sorted values, Hyndman & Fan (1996) definition 7, the
// default of R's quantile() and NumPy's percentile(): with h = (n − 1)·p/100,
// x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋]) (0-based). NaN for an empty sample.
double percentile_type7(std::span<const double> sorted, double p);

// n, mean, SD, min, max and percentiles of finite values (NaN and infinities are the caller's to
// leave out; std::invalid_argument if any is given).
SampleDescription describe_sample(std::vector<double> values);

}  // namespace isokin::analysis
