#pragma once
// How well any local fit can know a phase's peak torque from noisy samples (docs/analysis.md
// §15), computed from the noise-free curve alone, independently of the analysis: used by the
// ground-truth test and by bench/accuracy_sweep.

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

namespace isokin::testing {

// `curve`: the noise-free directed torque of one phase at the sample times `time` (the rate under
// test). Takes the widest window of samples centred on the curve's highest one (m each side,
// inside the phase) on which a least-squares parabola in time still reproduces the true peak
// within `model_bias` (relative), and returns the standard error of that parabola's vertex value
// under white noise of standard deviation `noise`: σ·√(xᵀ(XᵀX)⁻¹x), x = (1, t_v, t_v²). With
// Gaussian noise this is the Cramér–Rao bound for the peak of a parabola (least squares is
// efficient in a linear Gaussian model; at the vertex the slope is 0, so the vertex's position
// adds nothing to first order). No estimator that only assumes the top of the curve is smooth
// does better from one repetition.
inline double peak_standard_error(const Eigen::Ref<const Eigen::ArrayXd>& curve,
                                  const Eigen::Ref<const Eigen::ArrayXd>& time, double noise,
                                  double model_bias = 0.001) {
  Eigen::Index top = 0;
  const double peak = curve.maxCoeff(&top);
  const Eigen::Index reach = std::min(top, curve.size() - 1 - top);
  double best = std::numeric_limits<double>::infinity();
  for (Eigen::Index m = 1; m <= reach; ++m) {
    const Eigen::Index n = 2 * m + 1;
    const double scale = std::max(time[top + m] - time[top], time[top] - time[top - m]);
    Eigen::MatrixXd design(n, 3);
    for (Eigen::Index k = 0; k < n; ++k) {
      const double x = (time[top - m + k] - time[top]) / scale;
      design.row(k) << 1.0, x, x * x;
    }
    const Eigen::Matrix3d information = design.transpose() * design;
    const Eigen::Vector3d c =
        information.ldlt().solve(design.transpose() * curve.segment(top - m, n).matrix());
    if (!(c[2] < 0.0)) break;
    const double at = -c[1] / (2.0 * c[2]);
    const double vertex = c[0] + c[1] * at + c[2] * at * at;
    if (std::abs(vertex - peak) > model_bias * peak) break;
    const Eigen::Vector3d x(1.0, at, at * at);
    best = noise * std::sqrt(x.dot(information.ldlt().solve(x)));
  }
  return best;
}

}  // namespace isokin::testing
