#include "isokin/gui/decimation.h"

#include <algorithm>

namespace isokin::gui {

QList<QPointF> decimate_min_max(std::span<const double> x, std::span<const double> y,
                                std::size_t columns) {
  const std::size_t n = std::min(x.size(), y.size());
  QList<QPointF> points;
  if (n == 0 || columns == 0) return points;
  if (n <= 2 * columns) {
    points.reserve(static_cast<qsizetype>(n));
    for (std::size_t i = 0; i < n; ++i) points.emplace_back(x[i], y[i]);
    return points;
  }

  // The first and last samples take one column's budget; the other columns become bins.
  const std::size_t bins = columns - 1;
  const std::size_t last = n - 1;
  const double x0 = x[0];
  const double span = x[last] - x0;
  const double bins_per_x = span > 0.0 ? static_cast<double>(bins) / span : 0.0;
  const auto bin_of = [&](double value) {
    const double position = (value - x0) * bins_per_x;
    return position <= 0.0 ? std::size_t{0}
                           : std::min(bins - 1, static_cast<std::size_t>(position));
  };

  points.reserve(static_cast<qsizetype>(2 * columns));
  points.emplace_back(x[0], y[0]);
  std::size_t i = 1;
  while (bins > 0 && i < last) {
    const std::size_t bin = bin_of(x[i]);
    std::size_t lowest = i;
    std::size_t highest = i;
    // "<=" rather than "==": a sample out of time order joins the current bin instead of opening
    // another one, so the size bound holds even for bad input.
    for (++i; i < last && bin_of(x[i]) <= bin; ++i) {
      if (y[i] < y[lowest]) lowest = i;
      if (y[i] > y[highest]) highest = i;
    }
    const std::size_t first = std::min(lowest, highest);  // in time order
    const std::size_t second = std::max(lowest, highest);
    points.emplace_back(x[first], y[first]);
    if (second != first) points.emplace_back(x[second], y[second]);
  }
  points.emplace_back(x[last], y[last]);
  return points;
}

}  // namespace isokin::gui
