#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <stdexcept>

#include "isokin/analysis/low_pass_filter.h"

namespace {

using isokin::analysis::ButterworthLowPass;
constexpr double kPi = std::numbers::pi;

// Bilinear-transformed Butterworth: |H(f)|² = 1 / (1 + (tan(πf/fs) / tan(πfc/fs))^(2N)).
double expected_magnitude(double f, double fc, double fs, int order) {
  const double ratio = std::tan(kPi * f / fs) / std::tan(kPi * fc / fs);
  return 1.0 / std::sqrt(1.0 + std::pow(ratio, 2 * order));
}

Eigen::ArrayXd sine(double frequency, double rate, Eigen::Index n) {
  Eigen::ArrayXd x(n);
  for (Eigen::Index i = 0; i < n; ++i) x[i] = std::sin(2 * kPi * frequency * i / rate);
  return x;
}

TEST(ButterworthLowPass, MagnitudeResponseMatchesTheClosedForm) {
  for (const int order : {2, 4, 6}) {
    const ButterworthLowPass filter(order, 20.0, 2000.0);
    for (const double f : {0.0, 1.0, 10.0, 20.0, 40.0, 100.0, 500.0}) {
      EXPECT_NEAR(filter.magnitude_response(f), expected_magnitude(f, 20.0, 2000.0, order), 1e-12)
          << "order " << order << " at " << f << " Hz";
    }
    EXPECT_NEAR(filter.magnitude_response(20.0), 1.0 / std::sqrt(2.0), 1e-12);
  }
}

TEST(ButterworthLowPass, ZeroPhaseFilterSquaresTheGainAndDoesNotShiftPeaks) {
  const double rate = 1000.0;
  const ButterworthLowPass filter(2, 10.0, rate);
  for (const double f : {2.0, 10.0, 20.0}) {
    const Eigen::ArrayXd x = sine(f, rate, 10000);
    const Eigen::ArrayXd y = filter.filtfilt(x);
    const double gain = std::pow(filter.magnitude_response(f), 2);
    // Away from the edges the output is the input scaled by |H|², with no lag.
    const Eigen::Index mid = 5000;
    const Eigen::ArrayXd expected = gain * x.segment(mid - 500, 1000);
    EXPECT_LT((y.segment(mid - 500, 1000) - expected).abs().maxCoeff(), 1e-6) << f << " Hz";
  }
}

TEST(ButterworthLowPass, CausalFilterLagsByTheAnalyticPhase) {
  const double rate = 1000.0;
  const double f = 5.0;
  const ButterworthLowPass filter(2, 20.0, rate);
  const Eigen::ArrayXd y = filter.filter(sine(f, rate, 5000));
  // Steady-state amplitude equals |H(f)|.
  // (2e-4: the largest sample misses the crest by up to 1 − cos(π·f/rate).)
  EXPECT_NEAR(y.segment(2000, 2000).maxCoeff(), filter.magnitude_response(f), 2e-4);
}

TEST(ButterworthLowPass, ConstantsAndEdgesPassUnchanged) {
  const ButterworthLowPass filter(4, 15.0, 500.0);
  const Eigen::ArrayXd c = Eigen::ArrayXd::Constant(300, 42.5);
  EXPECT_LT((filter.filtfilt(c) - 42.5).abs().maxCoeff(), 1e-9);
  EXPECT_LT((filter.filter(c) - 42.5).abs().maxCoeff(), 1e-9);
  // A zero-phase low-pass with unit DC gain passes a ramp unchanged away from the edges.
  const Eigen::ArrayXd ramp = Eigen::ArrayXd::LinSpaced(1000, 0.0, 90.0);
  EXPECT_LT((filter.filtfilt(ramp) - ramp).segment(300, 400).abs().maxCoeff(), 1e-6);
  EXPECT_EQ(filter.filtfilt(Eigen::ArrayXd()).size(), 0);
  EXPECT_NEAR(filter.filtfilt(Eigen::ArrayXd::Constant(1, 3.0))[0], 3.0, 1e-12);
}

TEST(ButterworthLowPass, RejectsImpossibleSettingsNamingThem) {
  EXPECT_THROW(ButterworthLowPass(3, 10.0, 1000.0), std::invalid_argument);
  EXPECT_THROW(ButterworthLowPass(2, 600.0, 1000.0), std::invalid_argument);
  EXPECT_THROW(ButterworthLowPass(2, 0.0, 1000.0), std::invalid_argument);
  try {
    ButterworthLowPass(2, 60.0, 100.0);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("60"), std::string::npos);
  }
}

}  // namespace
