// Cohort statistics against values worked out on paper.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "isokin/analysis/descriptive_statistics.h"

namespace {

using isokin::analysis::describe_sample;
using isokin::analysis::percentile_type7;

TEST(DescriptiveStatistics, FiveValuesByHand) {
  // Sorted: 100 110 120 130 150. Mean 610/5 = 122. Deviations −22 −12 −2 8 28, squares
  // 484 144 4 64 784 = 1480, SD = √(1480/4) = √370. Type 7, h = 4·p: P10 h 0.4 → 100 + 0.4·10
  // = 104; P25 h 1 → 110; P50 h 2 → 120; P75 h 3 → 130; P90 h 3.6 → 130 + 0.6·20 = 142.
  const auto d = describe_sample({150.0, 100.0, 130.0, 110.0, 120.0});
  EXPECT_EQ(d.n, 5U);
  EXPECT_DOUBLE_EQ(d.mean, 122.0);
  EXPECT_DOUBLE_EQ(d.sd, std::sqrt(370.0));
  EXPECT_EQ(d.min, 100.0);
  EXPECT_EQ(d.max, 150.0);
  ASSERT_EQ(d.percentiles.size(), 5U);
  const std::vector<double> expected = {104.0, 110.0, 120.0, 130.0, 142.0};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(d.percentiles[i], expected[i], 1e-12) << i;
  }
}

TEST(DescriptiveStatistics, TwoValuesInterpolate) {
  // 1 and 3: mean 2, SD √((1 + 1)/1) = √2; P10 = 1 + 0.1·2 = 1.2, P25 1.5, P50 2, P75 2.5, P90 2.8.
  const auto d = describe_sample({3.0, 1.0});
  EXPECT_DOUBLE_EQ(d.sd, std::sqrt(2.0));
  const std::vector<double> expected = {1.2, 1.5, 2.0, 2.5, 2.8};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(d.percentiles[i], expected[i], 1e-12) << i;
  }
}

TEST(DescriptiveStatistics, OneValueHasNoSdAndEveryPercentileIsIt) {
  const auto d = describe_sample({7.5});
  EXPECT_EQ(d.n, 1U);
  EXPECT_EQ(d.mean, 7.5);
  EXPECT_TRUE(std::isnan(d.sd));
  for (const double p : d.percentiles) EXPECT_EQ(p, 7.5);
}

TEST(DescriptiveStatistics, EmptyAndNonFiniteSamples) {
  const auto d = describe_sample({});
  EXPECT_EQ(d.n, 0U);
  EXPECT_TRUE(std::isnan(d.mean));
  EXPECT_TRUE(d.percentiles.empty());
  EXPECT_TRUE(std::isnan(percentile_type7({}, 50.0)));
  EXPECT_THROW(describe_sample({1.0, std::nan("")}), std::invalid_argument);
  const std::vector<double> sorted = {1.0, 2.0};
  EXPECT_EQ(percentile_type7(sorted, 0.0), 1.0);
  EXPECT_EQ(percentile_type7(sorted, 100.0), 2.0);
  EXPECT_THROW((void)percentile_type7(sorted, 101.0), std::invalid_argument);
}

}  // namespace
