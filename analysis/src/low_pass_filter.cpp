#include "isokin/analysis/low_pass_filter.h"

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

void ButterworthLowPass::run(Eigen::ArrayXd& x) const {
  if (x.size() == 0) return;
  const double x0 = x[0];
  for (const auto& s : sections_) {
    // Transposed direct form II, started in the steady state of a constant input x0
    // (DC gain is 1, so each section's output is x0 as well).
    double z2 = (s.b2 - s.a2) * x0;
    double z1 = (s.b1 - s.a1) * x0 + z2;
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      const double in = x[i];
      const double out = s.b0 * in + z1;
      z1 = s.b1 * in - s.a1 * out + z2;
      z2 = s.b2 * in - s.a2 * out;
      x[i] = out;
    }
  }
}

Eigen::ArrayXd ButterworthLowPass::filter(const Eigen::Ref<const Eigen::ArrayXd>& x) const {
  Eigen::ArrayXd y = x;
  run(y);
  return y;
}

Eigen::ArrayXd ButterworthLowPass::filtfilt(const Eigen::Ref<const Eigen::ArrayXd>& x) const {
  const Eigen::Index n = x.size();
  if (n == 0) return {};
  // scipy.signal.sosfiltfilt's default padding: 3 · (2 · sections + 1) samples, odd reflection.
  const Eigen::Index pad =
      std::min<Eigen::Index>(n - 1, 3 * (2 * static_cast<Eigen::Index>(sections_.size()) + 1));
  Eigen::ArrayXd ext(n + 2 * pad);
  for (Eigen::Index i = 0; i < pad; ++i) {
    ext[i] = 2.0 * x[0] - x[pad - i];
    ext[n + pad + i] = 2.0 * x[n - 1] - x[n - 2 - i];
  }
  ext.segment(pad, n) = x;
  run(ext);
  ext.reverseInPlace();
  run(ext);
  ext.reverseInPlace();
  return ext.segment(pad, n);
}

}  // namespace isokin::analysis
