#pragma once
// Butterworth low-pass filter as cascaded second-order sections (bilinear transform with
// pre-warping). filtfilt() runs it forward and backward (zero phase, squared magnitude response),
// with odd-reflection padding and steady-state initial conditions as scipy.signal.sosfiltfilt.

#include <Eigen/Core>
#include <array>
#include <vector>

namespace isokin::analysis {

class ButterworthLowPass {
 public:
  // order: even, 2–8. cutoff_hz: the −3 dB frequency of one pass, below sample_rate_hz / 2.
  // Throws std::invalid_argument naming the bad value.
  ButterworthLowPass(int order, double cutoff_hz, double sample_rate_hz);

  // Zero-phase (offline). Signals shorter than the padding are filtered without padding.
  [[nodiscard]] Eigen::ArrayXd filtfilt(const Eigen::Ref<const Eigen::ArrayXd>& x) const;
  // Two signals of the same length at once: the same numbers as filtfilt() of each, about
  // twice as fast, because the two recursions (each bound by its own dependency chain) run
  // interleaved in one loop (docs/performance.md, "Profile").
  void filtfilt(const Eigen::Ref<const Eigen::ArrayXd>& x,
                const Eigen::Ref<const Eigen::ArrayXd>& y, Eigen::ArrayXd& filtered_x,
                Eigen::ArrayXd& filtered_y) const;
  // Causal, one pass, starting from rest at x[0] (live display).
  [[nodiscard]] Eigen::ArrayXd filter(const Eigen::Ref<const Eigen::ArrayXd>& x) const;
  // |H(f)| of one pass.
  [[nodiscard]] double magnitude_response(double frequency_hz) const;

  [[nodiscard]] int order() const { return order_; }
  [[nodiscard]] double cutoff_hz() const { return cutoff_hz_; }

 private:
  struct Section {
    double b0, b1, b2, a1, a2;  // a0 = 1
  };
  void run(Eigen::ArrayXd& x) const;  // in place, steady-state start at x[0]
  // In place over lanes signals of n samples, forward or backward (then the steady state
  // starts at the last sample).
  template <int lanes>
  void run(const std::array<double*, lanes>& x, Eigen::Index n, bool backward) const;

  int order_;
  double cutoff_hz_;
  double sample_rate_hz_;
  std::vector<Section> sections_;
};

}  // namespace isokin::analysis
