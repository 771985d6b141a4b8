#include "isokin/analysis/low_pass_filter.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <stdexcept>
#include <string>

namespace isokin::analysis {

ButterworthLowPass::ButterworthLowPass(int order, double cutoff_hz, double sample_rate_hz)
    : order_(order), cutoff_hz_(cutoff_hz), sample_rate_hz_(sample_rate_hz) {
  if (order < 2 || order > 8 || order % 2 != 0) {
    throw std::invalid_argument("Butterworth order must be even and 2–8, got " +
                                std::to_string(order));
  }
  if (!(sample_rate_hz > 0.0) || !(cutoff_hz > 0.0) || cutoff_hz >= 0.5 * sample_rate_hz) {
    throw std::invalid_argument("Butterworth cut-off " + std::to_string(cutoff_hz) +
                                " Hz must lie between 0 and half the sample rate (" +
                                std::to_string(sample_rate_hz) + " Hz)");
  }
  // Analog prototype poles come in conjugate pairs; pair k has quality factor
  // Q = 1 / (2 cos θk), θk = π(2k − 1) / (2N). Pre-warp so the digital −3 dB point is exact.
  const double k = std::tan(std::numbers::pi * cutoff_hz / sample_rate_hz);
  for (int i = 1; i <= order / 2; ++i) {
    const double theta = std::numbers::pi * (2.0 * i - 1.0) / (2.0 * order);
    const double q = 1.0 / (2.0 * std::cos(theta));
    const double norm = 1.0 / (1.0 + k / q + k * k);
    Section s{};
    s.b0 = k * k * norm;
    s.b1 = 2.0 * s.b0;
    s.b2 = s.b0;
    s.a1 = 2.0 * (k * k - 1.0) * norm;
    s.a2 = (1.0 - k / q + k * k) * norm;
    sections_.push_back(s);
  }
}

double ButterworthLowPass::magnitude_response(double frequency_hz) const {
  const std::complex<double> z =
      std::polar(1.0, 2.0 * std::numbers::pi * frequency_hz / sample_rate_hz_);
  const std::complex<double> zi = 1.0 / z;
  std::complex<double> h = 1.0;
  for (const auto& s : sections_) {
    h *= (s.b0 + s.b1 * zi + s.b2 * zi * zi) / (1.0 + s.a1 * zi + s.a2 * zi * zi);
  }
  return std::abs(h);
}

template <int lanes>
void ButterworthLowPass::run(const std::array<double*, lanes>& x, Eigen::Index n,
                             bool backward) const {
  if (n == 0) return;
  for (const auto& s : sections_) {
    // Transposed direct form II, started in the steady state of a constant input x0
    // (DC gain is 1, so each section's output is x0 as well).
    std::array<double, lanes> z1{};
    std::array<double, lanes> z2{};
    for (int lane = 0; lane < lanes; ++lane) {
      const double x0 = x[lane][backward ? n - 1 : 0];
      z2[lane] = (s.b2 - s.a2) * x0;
      z1[lane] = (s.b1 - s.a1) * x0 + z2[lane];
    }
    for (Eigen::Index k = 0; k < n; ++k) {
      const Eigen::Index i = backward ? n - 1 - k : k;
      for (int lane = 0; lane < lanes; ++lane) {
        const double in = x[lane][i];
        const double out = s.b0 * in + z1[lane];
        z1[lane] = s.b1 * in - s.a1 * out + z2[lane];
        z2[lane] = s.b2 * in - s.a2 * out;
        x[lane][i] = out;
      }
    }
  }
}

void ButterworthLowPass::run(Eigen::ArrayXd& x) const {
  run<1>({x.data()}, x.size(), false);
}

Eigen::ArrayXd ButterworthLowPass::filter(const Eigen::Ref<const Eigen::ArrayXd>& x) const {
  Eigen::ArrayXd y = x;
  run(y);
  return y;
}

namespace {

// scipy.signal.sosfiltfilt's default padding: 3 · (2 · sections + 1) samples, odd reflection.
Eigen::Index padding(Eigen::Index n, std::size_t sections) {
  return std::min<Eigen::Index>(n - 1, 3 * (2 * static_cast<Eigen::Index>(sections) + 1));
}

Eigen::ArrayXd padded(const Eigen::Ref<const Eigen::ArrayXd>& x, Eigen::Index pad) {
  const Eigen::Index n = x.size();
  Eigen::ArrayXd ext(n + 2 * pad);
  for (Eigen::Index i = 0; i < pad; ++i) {
    ext[i] = 2.0 * x[0] - x[pad - i];
    ext[n + pad + i] = 2.0 * x[n - 1] - x[n - 2 - i];
  }
  ext.segment(pad, n) = x;
  return ext;
}

}  // namespace

Eigen::ArrayXd ButterworthLowPass::filtfilt(const Eigen::Ref<const Eigen::ArrayXd>& x) const {
  const Eigen::Index n = x.size();
  if (n == 0) return {};
  const Eigen::Index pad = padding(n, sections_.size());
  Eigen::ArrayXd ext = padded(x, pad);
  // Forward, then backward over the same array (what reversing, filtering and reversing back
  // computes, without the two copies).
  run<1>({ext.data()}, ext.size(), false);
  run<1>({ext.data()}, ext.size(), true);
  return ext.segment(pad, n);
}

void ButterworthLowPass::filtfilt(const Eigen::Ref<const Eigen::ArrayXd>& x,
                                  const Eigen::Ref<const Eigen::ArrayXd>& y,
                                  Eigen::ArrayXd& filtered_x, Eigen::ArrayXd& filtered_y) const {
  if (x.size() != y.size()) {
    throw std::invalid_argument("filtfilt of two signals needs the same length, got " +
                                std::to_string(x.size()) + " and " + std::to_string(y.size()));
  }
  const Eigen::Index n = x.size();
  if (n == 0) {
    filtered_x.resize(0);
    filtered_y.resize(0);
    return;
  }
  const Eigen::Index pad = padding(n, sections_.size());
  Eigen::ArrayXd ext_x = padded(x, pad);
  Eigen::ArrayXd ext_y = padded(y, pad);
  run<2>({ext_x.data(), ext_y.data()}, ext_x.size(), false);
  run<2>({ext_x.data(), ext_y.data()}, ext_x.size(), true);
  filtered_x = ext_x.segment(pad, n);
  filtered_y = ext_y.segment(pad, n);
}

}  // namespace isokin::analysis
