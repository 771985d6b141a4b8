#pragma once
// Reduction of long signals to what a plot can show. For each pixel column only the smallest and
// the largest sample are kept: a line through them draws the same envelope as the full signal
// (every spike survives) at a cost that depends on the plot width, not on the recording length.

#include <cstddef>
#include <span>

#include <QList>
#include <QPointF>

namespace isokin::gui {

// Min/max decimation of the curve (x[i], y[i]) for a plot `columns` pixels wide.
//
// x must be non-decreasing (time) and y finite; only the first min(x.size(), y.size()) samples
// are used. [x.front(), x.back()] is split into columns - 1 equal bins; each bin contributes its
// minimum and maximum in time order, and the first and last samples are always kept so the curve
// spans the whole range. The result has at most 2 * columns points; a curve that already fits is
// returned unchanged. columns == 0 gives an empty result.
[[nodiscard]] QList<QPointF> decimate_min_max(std::span<const double> x, std::span<const double> y,
                                              std::size_t columns);

}  // namespace isokin::gui
