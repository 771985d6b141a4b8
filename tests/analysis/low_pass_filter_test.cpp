#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <vector>

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

namespace {

// filtfilt written out the textbook way, independently of the class: transposed direct form II
// per section from the steady state of the first sample, run on the odd-reflected signal,
// reversed, run again, reversed back (scipy.signal.sosfiltfilt's recipe).
Eigen::ArrayXd textbook_filtfilt(const Eigen::ArrayXd& x, double cutoff, double rate) {
  const double k = std::tan(kPi * cutoff / rate);
  const double q = 1.0 / (2.0 * std::cos(kPi / 4.0));  // order 2: one section
  const double norm = 1.0 / (1.0 + k / q + k * k);
  const double b0 = k * k * norm;
  const double b1 = 2.0 * b0;
  const double b2 = b0;
  const double a1 = 2.0 * (k * k - 1.0) * norm;
  const double a2 = (1.0 - k / q + k * k) * norm;
  const auto pass = [&](std::vector<double>& v) {
    double z2 = (b2 - a2) * v[0];
    double z1 = (b1 - a1) * v[0] + z2;
    for (double& sample : v) {
      const double in = sample;
      const double out = b0 * in + z1;
      z1 = b1 * in - a1 * out + z2;
      z2 = b2 * in - a2 * out;
      sample = out;
    }
  };
  const auto n = static_cast<std::size_t>(x.size());
  const std::size_t pad = std::min<std::size_t>(n - 1, 9);
  std::vector<double> v;
  for (std::size_t i = pad; i > 0; --i) v.push_back(2.0 * x[0] - x[static_cast<Eigen::Index>(i)]);
  for (std::size_t i = 0; i < n; ++i) v.push_back(x[static_cast<Eigen::Index>(i)]);
  for (std::size_t i = 1; i <= pad; ++i) {
    v.push_back(2.0 * x[static_cast<Eigen::Index>(n - 1)] -
                x[static_cast<Eigen::Index>(n - 1 - i)]);
  }
  pass(v);
  std::reverse(v.begin(), v.end());
  pass(v);
  std::reverse(v.begin(), v.end());
  Eigen::ArrayXd y(x.size());
  for (std::size_t i = 0; i < n; ++i) y[static_cast<Eigen::Index>(i)] = v[pad + i];
  return y;
}

}  // namespace

// The single and the two-signal filtfilt (the faster one the analyser uses) give, bit for bit,
// what the textbook recipe gives; the same for short signals (padding cut to n − 1).
TEST(ButterworthLowPass, FiltfiltOfOneAndOfTwoSignalsMatchTheTextbookRecipeExactly) {
  const ButterworthLowPass filter(2, 20.0, 2000.0);
  for (const Eigen::Index n : {2, 5, 10, 1000, 4099}) {
    SCOPED_TRACE(::testing::Message() << n << " samples");
    const Eigen::ArrayXd torque = 100.0 * sine(3.0, 2000.0, n) + 7.0 * sine(150.0, 2000.0, n);
    const Eigen::ArrayXd velocity = 60.0 * sine(1.0, 2000.0, n) + 30.0;
    const Eigen::ArrayXd expected_torque = textbook_filtfilt(torque, 20.0, 2000.0);
    const Eigen::ArrayXd expected_velocity = textbook_filtfilt(velocity, 20.0, 2000.0);
    Eigen::ArrayXd filtered_torque;
    Eigen::ArrayXd filtered_velocity;
    filter.filtfilt(torque, velocity, filtered_torque, filtered_velocity);
    const Eigen::ArrayXd single = filter.filtfilt(torque);
    ASSERT_EQ(filtered_torque.size(), n);
    ASSERT_EQ(filtered_velocity.size(), n);
    for (Eigen::Index i = 0; i < n; ++i) {
      EXPECT_EQ(filtered_torque[i], expected_torque[i]) << i;
      EXPECT_EQ(filtered_velocity[i], expected_velocity[i]) << i;
      EXPECT_EQ(single[i], expected_torque[i]) << i;
    }
  }
  Eigen::ArrayXd a;
  Eigen::ArrayXd b;
  EXPECT_THROW(filter.filtfilt(Eigen::ArrayXd::Zero(3), Eigen::ArrayXd::Zero(4), a, b),
               std::invalid_argument);
}
