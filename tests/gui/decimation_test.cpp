#include "isokin/gui/decimation.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

namespace isokin::gui {
namespace {

constexpr double kRateHz = 2000.0;

std::vector<double> times(std::size_t n) {
  std::vector<double> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<double>(i) / kRateHz;
  return t;
}

bool contains(const QList<QPointF>& points, double x, double y) {
  return std::any_of(points.begin(), points.end(),
                     [&](const QPointF& p) { return p.x() == x && p.y() == y; });
}

TEST(DecimateMinMax, KeepsAOneSampleSpikeInAMillion) {
  constexpr std::size_t kSamples = 1'000'000;
  constexpr std::size_t kColumns = 800;
  const std::vector<double> t = times(kSamples);
  std::vector<double> torque(kSamples);
  for (std::size_t i = 0; i < kSamples; ++i) torque[i] = 10.0 * std::sin(t[i]);
  torque[654'321] = 400.0;   // one-sample spike up...
  torque[123'457] = -250.0;  // ...and one down

  const QList<QPointF> points = decimate_min_max(t, torque, kColumns);

  EXPECT_LE(points.size(), static_cast<qsizetype>(2 * kColumns));
  EXPECT_GE(points.size(), static_cast<qsizetype>(kColumns));  // every column has samples
  EXPECT_TRUE(contains(points, t[654'321], 400.0));
  EXPECT_TRUE(contains(points, t[123'457], -250.0));
  EXPECT_EQ(points.front(), QPointF(t.front(), torque.front()));
  EXPECT_EQ(points.back(), QPointF(t.back(), torque.back()));
  EXPECT_TRUE(std::is_sorted(points.begin(), points.end(),
                             [](const QPointF& a, const QPointF& b) { return a.x() < b.x(); }));
}

TEST(DecimateMinMax, KeepsTheEnvelopeOfEveryColumn) {
  // A fast oscillation: each column holds many periods, so each must span nearly ±1.
  constexpr std::size_t kSamples = 200'000;
  constexpr std::size_t kColumns = 100;
  const std::vector<double> t = times(kSamples);
  std::vector<double> y(kSamples);
  for (std::size_t i = 0; i < kSamples; ++i) y[i] = std::sin(2.0 * std::numbers::pi * 50.0 * t[i]);

  const QList<QPointF> points = decimate_min_max(t, y, kColumns);

  ASSERT_EQ(points.size(), static_cast<qsizetype>(2 * kColumns));  // 2 endpoints + 2 per bin
  for (qsizetype i = 1; i + 1 < points.size(); i += 2) {
    const double low = std::min(points[i].y(), points[i + 1].y());
    const double high = std::max(points[i].y(), points[i + 1].y());
    EXPECT_LT(low, -0.99) << "bin " << i / 2;
    EXPECT_GT(high, 0.99) << "bin " << i / 2;
  }
}

TEST(DecimateMinMax, ReturnsACurveThatAlreadyFitsUnchanged) {
  const std::vector<double> t = times(10);
  const std::vector<double> y = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
  const QList<QPointF> points = decimate_min_max(t, y, 5);
  ASSERT_EQ(points.size(), 10);
  for (qsizetype i = 0; i < points.size(); ++i) {
    const auto index = static_cast<std::size_t>(i);
    EXPECT_EQ(points[i], QPointF(t[index], y[index]));
  }
}

TEST(DecimateMinMax, HandlesDegenerateInput) {
  const std::vector<double> t = times(1000);
  const std::vector<double> y(1000, 7.0);
  EXPECT_TRUE(decimate_min_max(t, y, 0).isEmpty());
  EXPECT_TRUE(decimate_min_max({}, {}, 100).isEmpty());
  // One column leaves room for the endpoints only.
  EXPECT_EQ(decimate_min_max(t, y, 1), (QList<QPointF>{{t.front(), 7.0}, {t.back(), 7.0}}));
  // All samples at the same time, and samples out of time order: the size bound still holds.
  const std::vector<double> same_time(1000, 1.5);
  EXPECT_LE(decimate_min_max(same_time, y, 10).size(), 20);
  std::vector<double> shuffled = t;
  std::reverse(shuffled.begin() + 100, shuffled.begin() + 900);
  EXPECT_LE(decimate_min_max(shuffled, y, 10).size(), 20);
  // Mismatched lengths use the common prefix.
  EXPECT_EQ(decimate_min_max(t, std::vector<double>(4, 1.0), 10).size(), 4);
}

}  // namespace
}  // namespace isokin::gui
