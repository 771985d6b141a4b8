#include "isokin/analysis/repetition_parameters.h"

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <optional>
#include <vector>

#include "isokin/analysis/isokinetic_window.h"
#include "isokin/analysis/set_analysis.h"

namespace isokin::analysis {

double direction_sign(drivers::Movement movement) {
  return movement == drivers::Movement::kExtension ? 1.0 : -1.0;
}

Eigen::Index peak_torque_index(const Eigen::Ref<const Eigen::ArrayXd>& torque,
                               drivers::Movement movement) {
  Eigen::Index index = 0;
  (direction_sign(movement) * torque).maxCoeff(&index);
  return index;
}

double work(const Eigen::Ref<const Eigen::ArrayXd>& torque,
            const Eigen::Ref<const Eigen::ArrayXd>& angle_deg) {
  const Eigen::Index n = torque.size();
  if (n < 2) return 0.0;
  const auto mean_torque = 0.5 * (torque.head(n - 1) + torque.tail(n - 1));
  const auto step = angle_deg.tail(n - 1) - angle_deg.head(n - 1);
  return -(mean_torque * step).sum() * std::numbers::pi / 180.0;
}

namespace {

// Fitted against angle (°) or time (s): vertex and curvature are in that unit.
struct Parabola {
  double vertex = 0.0;     // ° or s
  double value = 0.0;      // N·m at the vertex
  double curvature = 0.0;  // N·m/°² or N·m/s², negative when concave
};

// Least-squares parabola τ(θ) through the samples whose angle lies in [from, to]; nothing when
// fewer than kMinPoints, not concave, or its vertex lies outside the samples' angles.
std::optional<Parabola> fit_parabola(const Eigen::Ref<const Eigen::ArrayXd>& torque,
                                     const Eigen::Ref<const Eigen::ArrayXd>& angle, double from,
                                     double to) {
  constexpr Eigen::Index kMinPoints = 5;
  std::vector<Eigen::Index> rows;
  for (Eigen::Index i = 0; i < angle.size(); ++i) {
    if (angle[i] >= from && angle[i] <= to) rows.push_back(i);
  }
  const auto n = static_cast<Eigen::Index>(rows.size());
  if (n < kMinPoints) return std::nullopt;
  const double center = 0.5 * (from + to);
  Eigen::MatrixXd design(n, 3);
  Eigen::VectorXd y(n);
  for (Eigen::Index k = 0; k < n; ++k) {
    const double x = angle[rows[static_cast<std::size_t>(k)]] - center;
    design(k, 0) = 1.0;
    design(k, 1) = x;
    design(k, 2) = x * x;
    y[k] = torque[rows[static_cast<std::size_t>(k)]];
  }
  const Eigen::Vector3d c = design.colPivHouseholderQr().solve(y);
  if (!(c[2] < 0.0)) return std::nullopt;
  const double offset = -c[1] / (2.0 * c[2]);
  const double vertex = center + offset;
  // Never extrapolate: the vertex must lie among the fitted samples.
  const double lowest = design.col(1).minCoeff() + center;
  const double highest = design.col(1).maxCoeff() + center;
  if (!(vertex >= lowest && vertex <= highest)) return std::nullopt;
  return Parabola{vertex, c[0] + c[1] * offset + c[2] * offset * offset, c[2]};
}

}  // namespace

PeakFit fit_peak(const Eigen::Ref<const Eigen::ArrayXd>& directed_torque,
                 const Eigen::Ref<const Eigen::ArrayXd>& angle, Eigen::Index peak) {
  // Torque–angle curves are flat at the top, so the sample of highest torque wanders with noise
  // by several degrees, and its value is the maximum of the noise too (biased upward). Fit a
  // parabola to the top of the curve and take its vertex: a local average of many samples
  // (docs/analysis.md §6).
  constexpr double kCoarseFraction = 0.10;
  constexpr double kTopFraction = 0.03;
  const PeakFit sample{angle[peak], directed_torque[peak]};
  // First choice: the contiguous samples within kTopFraction of the highest. Enough of them
  // average the noise well; noise dips can cut the window short, though (at low rates, where the
  // filter hardly smooths, often to a handful of samples).
  constexpr Eigen::Index kEnoughSamples = 15;
  const double top = directed_torque[peak] * (1.0 - kTopFraction);
  Eigen::Index a = peak;
  Eigen::Index b = peak;
  while (a > 0 && directed_torque[a - 1] >= top) --a;
  while (b + 1 < directed_torque.size() && directed_torque[b + 1] >= top) ++b;
  const auto narrow = fit_parabola(directed_torque, angle, angle.segment(a, b - a + 1).minCoeff(),
                                   angle.segment(a, b - a + 1).maxCoeff());
  const PeakFit narrow_fit = narrow ? PeakFit{narrow->vertex, narrow->value} : sample;
  if (b - a + 1 >= kEnoughSamples) return narrow_fit;
  // Too few: widen by angle, which noise cannot cut. A rough fit to the contiguous top
  // kCoarseFraction finds the vertex and curvature; the final fit takes every sample where that
  // parabola is within kTopFraction of its vertex.
  const double level = directed_torque[peak] * (1.0 - kCoarseFraction);
  Eigen::Index lo = peak;
  Eigen::Index hi = peak;
  while (lo > 0 && directed_torque[lo - 1] >= level) --lo;
  while (hi + 1 < directed_torque.size() && directed_torque[hi + 1] >= level) ++hi;
  const auto coarse =
      fit_parabola(directed_torque, angle, angle.segment(lo, hi - lo + 1).minCoeff(),
                   angle.segment(lo, hi - lo + 1).maxCoeff());
  if (!coarse) return narrow_fit;
  const double half_width = std::sqrt(kTopFraction * coarse->value / -coarse->curvature);
  const double window_from = coarse->vertex - half_width;
  const double window_to = coarse->vertex + half_width;
  const auto fine = fit_parabola(directed_torque, angle, window_from, window_to);
  // Fast movements peak during the acceleration, at the edge of the movement: the window is
  // then cut on one side and the curve is not a parabola there. Keep the narrow fit when the
  // samples do not cover most of the window on both sides of the vertex, or when the vertex is
  // above every sample (an overshoot: no average of samples can be above them all).
  const double covered_from = std::max(angle.minCoeff(), window_from);
  const double covered_to = std::min(angle.maxCoeff(), window_to);
  const bool two_sided = fine && fine->vertex - covered_from >= 0.6 * half_width &&
                         covered_to - fine->vertex >= 0.6 * half_width;
  if (!two_sided || fine->value > directed_torque[peak]) return narrow_fit;
  return {fine->vertex, fine->value};
}

namespace {

// The power sums Σxʲ (j ≤ 2·Degree) and moments Σxʲ·y (j ≤ Degree) of fit_polynomial, with the
// degree known to the compiler so that the loop over the powers unrolls.
template <std::size_t Degree>
void sum_powers(const Eigen::Ref<const Eigen::ArrayXd>& time,
                const Eigen::Ref<const Eigen::ArrayXd>& y, Eigen::Index first, Eigen::Index n,
                double centre, double inverse_scale, std::array<double, 7>& power_sums,
                std::array<double, 4>& moment_sums) {
  for (Eigen::Index k = first; k < first + n; ++k) {
    const double x = (time[k] - centre) * inverse_scale;
    double power = 1.0;
    for (std::size_t j = 0; j <= 2 * Degree; ++j, power *= x) {
      power_sums[j] += power;
      if (j <= Degree) moment_sums[j] += power * y[k];
    }
  }
}

// Least-squares polynomial of degree 1, 2 or 3 through (x_k, y_k), k in [first, first + n), with
// x = (time − centre) / scale; coefficients of x⁰…x³ (zero above `degree`). From the normal
// equations: one pass of power sums and no design matrix, since these fits run on every phase
// over up to thousands of samples, in the live path too. With |x| ≤ 1 the 4×4 system is well
// conditioned.
Eigen::Vector4d fit_polynomial(const Eigen::Ref<const Eigen::ArrayXd>& time,
                               const Eigen::Ref<const Eigen::ArrayXd>& y, Eigen::Index first,
                               Eigen::Index n, double centre, double scale, int degree) {
  std::array<double, 7> power_sums{};
  std::array<double, 4> moment_sums{};
  const double inverse_scale = 1.0 / scale;
  switch (degree) {
    case 1:
      sum_powers<1>(time, y, first, n, centre, inverse_scale, power_sums, moment_sums);
      break;
    case 2:
      sum_powers<2>(time, y, first, n, centre, inverse_scale, power_sums, moment_sums);
      break;
    default:
      sum_powers<3>(time, y, first, n, centre, inverse_scale, power_sums, moment_sums);
      break;
  }
  const Eigen::Vector4d moments(moment_sums[0], moment_sums[1], moment_sums[2], moment_sums[3]);
  // Unused orders get an identity row and a zero right-hand side, so their coefficients are 0.
  Eigen::Matrix4d normal = Eigen::Matrix4d::Identity();
  const auto order = static_cast<std::size_t>(degree);
  for (std::size_t i = 0; i <= order; ++i) {
    for (std::size_t j = 0; j <= order; ++j) {
      normal(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = power_sums[i + j];
    }
  }
  return normal.ldlt().solve(moments);
}

// Least-squares polynomial τ(t) of degree 2 or 3 through the samples with |t − centre| ≤
// half_width, and its maximum: nothing when fewer than 5 samples, not concave there, or the
// maximum lies outside the samples. Time is centred and scaled to ±1 for conditioning.
// Curvature: half the second derivative at the maximum (N·m/s²).
std::optional<Parabola> fit_top_in_time(const Eigen::Ref<const Eigen::ArrayXd>& torque,
                                        const Eigen::Ref<const Eigen::ArrayXd>& time, double centre,
                                        double half_width, int degree) {
  constexpr Eigen::Index kMinPoints = 5;
  const auto first = static_cast<Eigen::Index>(
      std::lower_bound(time.begin(), time.end(), centre - half_width) - time.begin());
  const auto last = static_cast<Eigen::Index>(
      std::upper_bound(time.begin(), time.end(), centre + half_width) - time.begin());
  const Eigen::Index n = last - first;
  if (n < kMinPoints || !(half_width > 0.0)) return std::nullopt;
  const Eigen::Vector4d c = fit_polynomial(time, torque, first, n, centre, half_width, degree);
  // τ'(x) = c1 + 2 c2 x + 3 c3 x² = 0: the root nearer the parabola's vertex (the cubic term
  // only tilts the top); a maximum where τ''(x) = 2 c2 + 6 c3 x < 0.
  if (!(c[2] < 0.0)) return std::nullopt;
  double offset = -c[1] / (2.0 * c[2]);
  if (c[3] != 0.0) {
    const double discriminant = c[2] * c[2] - 3.0 * c[3] * c[1];
    if (!(discriminant >= 0.0)) return std::nullopt;
    // Numerically stable roots of 3 c3 x² + 2 c2 x + c1.
    const double q = -(c[2] + std::copysign(std::sqrt(discriminant), c[2]));
    const double root_a = q / (3.0 * c[3]);
    const double root_b = c[1] / q;
    offset = std::abs(root_a - offset) < std::abs(root_b - offset) ? root_a : root_b;
  }
  const double half_second = c[2] + 3.0 * c[3] * offset;
  if (!(half_second < 0.0)) return std::nullopt;
  // Never extrapolate: the maximum must lie among the fitted samples.
  if (!(offset >= (time[first] - centre) / half_width &&
        offset <= (time[last - 1] - centre) / half_width)) {
    return std::nullopt;
  }
  const double value = c[0] + offset * (c[1] + offset * (c[2] + offset * c[3]));
  return Parabola{centre + offset * half_width, value, half_second / (half_width * half_width)};
}

// Linear interpolation of y(x) at x = at, x increasing.
double interpolate(const Eigen::Ref<const Eigen::ArrayXd>& x,
                   const Eigen::Ref<const Eigen::ArrayXd>& y, double at) {
  const auto upper = std::upper_bound(x.begin(), x.end(), at) - x.begin();
  const auto k = std::clamp<Eigen::Index>(upper, 1, x.size() - 1);
  const double span = x[k] - x[k - 1];
  const double f = span > 0.0 ? (at - x[k - 1]) / span : 0.0;
  return y[k - 1] + f * (y[k] - y[k - 1]);
}

// True when the lever's speed over samples [first, last] varies by at most 10 %: the curve there
// is the torque–angle relation at one speed, not shaped by an acceleration.
bool steady_speed(const Eigen::Ref<const Eigen::ArrayXd>& velocity, Eigen::Index first,
                  Eigen::Index last) {
  constexpr double kSpeedVariation = 0.10;
  const auto speed = velocity.segment(first, last - first + 1).abs();
  return speed.minCoeff() >= (1.0 - kSpeedVariation) * speed.maxCoeff();
}

}  // namespace

PeakFit fit_peak(const Eigen::Ref<const Eigen::ArrayXd>& directed_torque,
                 const Eigen::Ref<const Eigen::ArrayXd>& time,
                 const Eigen::Ref<const Eigen::ArrayXd>& angle,
                 const Eigen::Ref<const Eigen::ArrayXd>& velocity, Eigen::Index peak) {
  // The window that averages the noise best without bending the curve (docs/analysis.md §6):
  // every sample where the curve lies within kDrop of its peak, found from the curve itself by
  // a parabola in time, re-centred and re-sized on its own vertex and curvature. A parabola's
  // own bias over such a window is ≈ kDrop²/23 of the peak on a Gaussian-shaped top (0.05 %
  // at kDrop = 10 %), while it averages every sample there, however deep the noise dips.
  constexpr double kCoarseFraction = 0.15;
  constexpr double kDrop = 0.10;
  constexpr int kIterations = 3;
  const auto narrow = [&] { return fit_peak(directed_torque, angle, peak); };
  const Eigen::Index n = directed_torque.size();
  if (n < 5 || time.size() != n || velocity.size() != n || !directed_torque.allFinite() ||
      !time.allFinite() || !velocity.allFinite()) {
    return narrow();
  }
  const double level = directed_torque[peak] * (1.0 - kCoarseFraction);
  Eigen::Index lo = peak;
  Eigen::Index hi = peak;
  while (lo > 0 && directed_torque[lo - 1] >= level) --lo;
  while (hi + 1 < n && directed_torque[hi + 1] >= level) ++hi;
  auto fit = fit_top_in_time(directed_torque, time, 0.5 * (time[lo] + time[hi]),
                             0.5 * (time[hi] - time[lo]), 2);
  double half_width = 0.0;
  for (int i = 0; i < kIterations && fit; ++i) {
    if (!(fit->vertex >= time[0] && fit->vertex <= time[n - 1])) return narrow();
    half_width = std::sqrt(kDrop * fit->value / -fit->curvature);
    fit = fit_top_in_time(directed_torque, time, fit->vertex, half_width, 2);
  }
  if (!fit) return narrow();
  // The final fit has a cubic term: torque–angle curves are skewed (they fall faster on one side
  // of the optimum), which a parabola over this window turns into a shift of its vertex of about
  // a degree; the cubic follows the skew and leaves the value's variance at the centre as is.
  fit = fit_top_in_time(directed_torque, time, fit->vertex, half_width, 3);
  if (!fit) return narrow();
  // Trust the wide window only where the curve is the torque–angle relation at a steady speed,
  // seen from both sides. Fast movements peak in the acceleration, where the speed and the
  // muscle's activation shape a narrow bump a parabola over this window does not follow; a
  // vertex above every sample is an overshoot of such a misfit.
  if (!(fit->vertex - time[0] >= 0.6 * half_width &&
        time[n - 1] - fit->vertex >= 0.6 * half_width)) {
    return narrow();
  }
  const auto first = static_cast<Eigen::Index>(
      std::lower_bound(time.begin(), time.end(), fit->vertex - half_width) - time.begin());
  const auto last = static_cast<Eigen::Index>(
      std::upper_bound(time.begin(), time.end(), fit->vertex + half_width) - time.begin());
  if (last - first < 2 || !steady_speed(velocity, first, last - 1)) return narrow();
  if (fit->value > directed_torque[peak]) return narrow();
  return {interpolate(time, angle, fit->vertex), fit->value};
}

PeakFit bound_peak(PeakFit fit, const Eigen::Ref<const Eigen::ArrayXd>& raw,
                   const Eigen::Ref<const Eigen::ArrayXd>& angle, Eigen::Index window) {
  const Eigen::Index n = raw.size();
  if (n == 0 || !raw.allFinite() || !std::isfinite(fit.torque)) return fit;
  window = std::clamp<Eigen::Index>(window, 1, n);
  // Highest mean of `window` consecutive samples, by a running sum.
  double sum = raw.head(window).sum();
  double best_sum = sum;
  Eigen::Index best_first = 0;
  for (Eigen::Index first = 1; first + window <= n; ++first) {
    sum += raw[first + window - 1] - raw[first - 1];
    if (sum > best_sum) {
      best_sum = sum;
      best_first = first;
    }
  }
  const double floor = (1.0 - kPeakBelowMeanTop) * best_sum / static_cast<double>(window);
  const double ceiling = raw.maxCoeff();
  if (fit.torque > ceiling) fit.torque = ceiling;  // the fit's angle still places the top
  if (fit.torque < floor) fit = {angle[best_first + window / 2], floor};
  return fit;
}

double angle_of_peak(const Eigen::Ref<const Eigen::ArrayXd>& directed_torque,
                     const Eigen::Ref<const Eigen::ArrayXd>& angle, Eigen::Index peak) {
  return fit_peak(directed_torque, angle, peak).angle;
}

std::string_view to_string(MuscleGroup group) {
  return group == MuscleGroup::kExtensors ? "extensors" : "flexors";
}

std::string_view muscle_group_name(drivers::Joint joint, MuscleGroup group) {
  return drivers::muscle_group_name(joint, group == MuscleGroup::kExtensors);
}

namespace {

// Time at which the velocity crosses zero between samples a and b (linear interpolation).
double zero_crossing_time(const PhaseSignals& s, Eigen::Index a, Eigen::Index b) {
  const double va = s.velocity[a];
  const double vb = s.velocity[b];
  if (va == vb) return s.time[a];
  const double fraction = std::clamp(va / (va - vb), 0.0, 1.0);
  return s.time[a] + fraction * (s.time[b] - s.time[a]);
}

// floor(x) without a call into libm (the baseline x86-64 has no rounding instruction): exact
// for every double, the conversion only where it is exact.
double floor_of(double x) {
  constexpr double kIntegral = 4503599627370496.0;       // 2^52: from here on every double is whole
  if (!(std::abs(x) < kIntegral)) return std::floor(x);  // whole already, or NaN
  const auto whole = static_cast<double>(static_cast<std::int64_t>(x));  // toward zero
  return whole > x ? whole - 1.0 : whole;
}

// Directed torque at `target` degrees (first crossing, linear interpolation); NaN if not reached.
double torque_at(const Eigen::Ref<const Eigen::ArrayXd>& directed,
                 const Eigen::Ref<const Eigen::ArrayXd>& angle, double target) {
  for (Eigen::Index k = 0; k + 1 < angle.size(); ++k) {
    const double a0 = angle[k];
    const double a1 = angle[k + 1];
    if (!(std::min(a0, a1) <= target && target <= std::max(a0, a1))) continue;
    const double f = a1 == a0 ? 0.0 : (target - a0) / (a1 - a0);
    const double v = directed[k] + f * (directed[k + 1] - directed[k]);
    if (!std::isnan(v)) return v;
  }
  return kNotAvailable;
}

// Directed torque at each of `count` angles first, first + step, … (first crossing, linear
// interpolation); NaN if not reached. One pass over the samples: each interval fills the targets
// it spans that are still empty. A sample's grid position (angle − first) / step is computed
// once and shared by its two intervals; rounding is monotonic, so an interval's bounds on the
// grid are the min and max of its ends' positions, as if computed from its min and max angle.
void torque_curve(const Eigen::Ref<const Eigen::ArrayXd>& directed,
                  const Eigen::Ref<const Eigen::ArrayXd>& angle, double first, double step,
                  std::size_t count, std::vector<double>& out) {
  out.assign(count, kNotAvailable);
  if (count == 0 || angle.size() < 2) return;
  const auto last_index = static_cast<double>(count - 1);
  std::size_t filled = 0;
  double q1 = (angle[0] - first) / step;
  for (Eigen::Index k = 0; k + 1 < angle.size() && filled < count; ++k) {
    const double q0 = q1;
    q1 = (angle[k + 1] - first) / step;
    const double q_lo = std::min(q0, q1);
    const double q_hi = std::max(q0, q1);
    const double floor_lo = floor_of(q_lo);
    const double ceil_lo = floor_lo == q_lo ? floor_lo : floor_lo + 1.0;
    const double j_first = std::max(0.0, ceil_lo);
    const double j_last = std::min(floor_of(q_hi), last_index);
    if (!(j_first <= j_last)) continue;  // no grid angle in this interval (or NaN)
    const double a0 = angle[k];
    const double a1 = angle[k + 1];
    for (auto j = static_cast<std::size_t>(j_first); j <= static_cast<std::size_t>(j_last); ++j) {
      double& v = out[j];
      if (!std::isnan(v)) continue;
      const double target = first + step * static_cast<double>(j);
      const double f = a1 == a0 ? 0.0 : (target - a0) / (a1 - a0);
      v = directed[k] + f * (directed[k + 1] - directed[k]);
      if (!std::isnan(v)) ++filled;
    }
  }
}

// Directed torque at `target` degrees from a parabola in time fitted to the samples within
// kHalfWidth degrees of its first crossing, evaluated at the crossing (docs/analysis.md §6): one
// filtered sample carries the whole noise of the filter's band, the fit averages ≈ 2·kHalfWidth
// / Δθ samples. `interpolated` (the filtered curve at the crossing) when the window is cut by the
// phase's edge, has fewer than 5 samples, or the speed varies by more than 10 % in it.
double local_torque_at(const Eigen::Ref<const Eigen::ArrayXd>& directed,
                       const Eigen::Ref<const Eigen::ArrayXd>& time,
                       const Eigen::Ref<const Eigen::ArrayXd>& angle,
                       const Eigen::Ref<const Eigen::ArrayXd>& velocity, double target,
                       double interpolated) {
  constexpr double kHalfWidth = 10.0;  // °
  constexpr Eigen::Index kMinPoints = 5;
  if (!std::isfinite(interpolated)) return interpolated;
  const Eigen::Index n = directed.size();
  Eigen::Index k = 0;
  while (k + 1 < n &&
         !((angle[k] - target) * (angle[k + 1] - target) <= 0.0 && angle[k] != angle[k + 1])) {
    ++k;
  }
  if (k + 1 >= n) return interpolated;
  Eigen::Index first = k;
  Eigen::Index last = k + 1;
  while (first > 0 && std::abs(angle[first - 1] - target) <= kHalfWidth) --first;
  while (last + 1 < n && std::abs(angle[last + 1] - target) <= kHalfWidth) ++last;
  const bool two_sided = std::abs(angle[first] - target) >= 0.6 * kHalfWidth &&
                         std::abs(angle[last] - target) >= 0.6 * kHalfWidth;
  const Eigen::Index count = last - first + 1;
  if (!two_sided || count < kMinPoints || !steady_speed(velocity, first, last)) {
    return interpolated;
  }
  const double crossing =
      time[k] + (target - angle[k]) / (angle[k + 1] - angle[k]) * (time[k + 1] - time[k]);
  const double scale = std::max(crossing - time[first], time[last] - crossing);
  if (!(scale > 0.0)) return interpolated;
  // When the angle is crossed: from a straight line through the window's angles (the speed is
  // steady there), so the angle sensor's noise is averaged too; on a steep part of the curve
  // (≈ 2 N·m/°) 0.05° of angle noise at one crossing would be 0.1–0.3 % of the torque.
  const Eigen::Vector4d line = fit_polynomial(time, angle, first, count, crossing, scale, 1);
  const double at = (target - line[0]) / line[1];  // in units of scale, from the crossing
  if (!(std::abs(at) <= 1.0)) return interpolated;
  const Eigen::Vector4d c = fit_polynomial(time, directed, first, count, crossing, scale, 2);
  return c[0] + at * (c[1] + at * c[2]);
}

// The isokinetic peak when the curve's top lies outside the window: the narrow fit (§6) over
// the contiguous isokinetic samples around the highest one. isokinetic_window found that sample
// too but keeps no index; scanning the phase again costs a pass only for flagged phases. Not the
// wide fit: the window's first samples are still below the set speed, where the muscle pulls harder
// (force–velocity), so the curve near the window's edge is not the torque–angle relation a wide
// parabola assumes (without torque noise, on 300 °/s curves at 100–1000 Hz, it read 0.5 % low,
// the narrow fit 0.14–0.24 %).
// `directed_torque` holds the phase's samples from index `lo`. NaN when no sample is isokinetic.
PeakFit isokinetic_peak(const PhaseSignals& s, const MovementPhase& phase, Eigen::Index lo,
                        const Eigen::Ref<const Eigen::ArrayXd>& directed_torque,
                        double target_velocity, const IsokineticSettings& settings) {
  const double band = isokinetic_tolerance(target_velocity, settings);
  const auto in_band = [&](Eigen::Index i) {
    return within_isokinetic_band(s.filtered_velocity[i], target_velocity, band);
  };
  Eigen::Index top = -1;
  for (Eigen::Index i = phase.begin; i < phase.end; ++i) {
    if (in_band(i) && (top < 0 || directed_torque[i - lo] > directed_torque[top - lo])) top = i;
  }
  if (top < 0) return {kNotAvailable, kNotAvailable};
  Eigen::Index first = top;
  Eigen::Index last = top;
  while (first > phase.begin && in_band(first - 1)) --first;
  while (last + 1 < phase.end && in_band(last + 1)) ++last;
  const Eigen::Index n = last - first + 1;
  return fit_peak(directed_torque.segment(first - lo, n), s.angle.segment(first, n), top - first);
}

}  // namespace

PhaseResult analyze_phase(const PhaseSignals& s, const MovementPhase& phase,
                          const AnalysisSettings& settings, double target_velocity) {
  // The movement starts and ends between the phase's outer samples and their neighbours, so
  // include those neighbours: integrals and the range then span the reversal points.
  const Eigen::Index lo = std::max<Eigen::Index>(phase.begin - 1, 0);
  const Eigen::Index hi = std::min<Eigen::Index>(phase.end + 1, s.time.size());
  const Eigen::Index n = hi - lo;
  const auto torque = s.torque.segment(lo, n);
  const auto angle = s.angle.segment(lo, n);
  PhaseResult r;
  r.movement = phase.movement;
  r.repetition = phase.repetition;
  r.start_time =
      phase.begin > 0 ? zero_crossing_time(s, phase.begin - 1, phase.begin) : s.time[phase.begin];
  r.end_time = phase.end < s.time.size() ? zero_crossing_time(s, phase.end - 1, phase.end)
                                         : s.time[phase.end - 1];
  // The muscle group is the one whose moment the torque shows (its mean sign over the phase);
  // concentric when that moment points the way the lever moves.
  const double mean_torque = s.torque.segment(phase.begin, phase.end - phase.begin).mean();
  r.muscle = mean_torque >= 0.0 ? MuscleGroup::kExtensors : MuscleGroup::kFlexors;
  const bool toward_extension = phase.movement == drivers::Movement::kExtension;
  r.contraction = (r.muscle == MuscleGroup::kExtensors) == toward_extension
                      ? Contraction::kConcentric
                      : Contraction::kEccentric;
  const double directed = r.muscle == MuscleGroup::kExtensors ? 1.0 : -1.0;
  const double work_sign = r.contraction == Contraction::kConcentric ? 1.0 : -1.0;
  const Eigen::ArrayXd directed_torque = directed * torque;
  Eigen::Index peak = 0;
  directed_torque.maxCoeff(&peak);
  const PeakFit fit = fit_peak(directed_torque, s.time.segment(lo, n), angle,
                               s.filtered_velocity.segment(lo, n), peak);
  r.peak_torque = fit.torque;
  r.angle_at_peak = fit.angle;
  r.time_to_peak = s.time[lo + peak] - r.start_time;
  r.work = work_sign * work(torque, angle);
  r.range_of_motion = angle.maxCoeff() - angle.minCoeff();
  const double duration = r.end_time - r.start_time;
  r.mean_power = duration > 0.0 ? r.work / duration : 0.0;
  if (directed_torque.maxCoeff() - directed_torque.minCoeff() < kFlatTorqueRange) {
    r.flags |= kPhaseFlatTorque;
  }

  r.torque_at_angles.assign(settings.torque_angles.size(), kNotAvailable);
  for (std::size_t i = 0; i < settings.torque_angles.size(); ++i) {
    r.torque_at_angles[i] = local_torque_at(
        directed_torque, s.time.segment(lo, n), angle, s.filtered_velocity.segment(lo, n),
        settings.torque_angles[i], torque_at(directed_torque, angle, settings.torque_angles[i]));
  }
  const double step = settings.angle_curve_step;
  // One damaged angle (2^31 counts, 1e308) must not size the curve: no joint spans more.
  if (std::isfinite(r.range_of_motion) && r.range_of_motion > kMaxJointRange) {
    r.flags |= kPhaseAngleOutOfRange;
  } else if (step > 0.0 && std::isfinite(r.range_of_motion)) {  // NaN/Inf: flagged non_finite
    r.curve_start_angle = std::ceil(angle.minCoeff() / step) * step;
    const double span = std::floor(angle.maxCoeff() / step) * step - r.curve_start_angle;
    const auto count = span >= 0.0 ? static_cast<std::size_t>(std::lround(span / step)) + 1 : 0;
    torque_curve(directed_torque, angle, r.curve_start_angle, step, count, r.torque_curve);
  }

  const double target = target_velocity > 0.0
                            ? target_velocity
                            : estimate_target_velocity(s.filtered_velocity.segment(
                                  phase.begin, phase.end - phase.begin));
  r.isokinetic = isokinetic_window(s, phase.begin, phase.end, r.start_time, r.end_time, directed,
                                   work_sign, target, settings.isokinetic);
  if (!r.isokinetic.reached) r.flags |= kPhaseNoIsokinetic;
  // The usual case: the curve's top lies in the isokinetic window, so its fitted peak applies.
  if (r.isokinetic.reached && s.time[lo + peak] >= r.isokinetic.start_time &&
      s.time[lo + peak] <= r.isokinetic.end_time &&
      r.isokinetic.peak_torque == directed_torque[peak]) {
    r.isokinetic.peak_torque = r.peak_torque;
    r.isokinetic.angle_at_peak = r.angle_at_peak;
  } else if (r.isokinetic.reached) {
    // Fast movements peak in the acceleration (§7): say so, and fit the window's own top, since
    // one highest sample would carry the noise of the filter's whole band.
    r.flags |= kPhasePeakOutsideIsokinetic;
    const PeakFit top = isokinetic_peak(s, phase, lo, directed_torque, target, settings.isokinetic);
    if (std::isfinite(top.torque)) {
      r.isokinetic.peak_torque = top.torque;
      r.isokinetic.angle_at_peak = top.angle;
    }
  }
  return r;
}

PhaseResult analyze_isometric_effort(const PhaseSignals& s, const MovementPhase& effort,
                                     const AnalysisSettings& settings) {
  PhaseResult r;
  r.movement = effort.movement;
  r.repetition = effort.repetition;
  r.muscle = effort.movement == drivers::Movement::kExtension ? MuscleGroup::kExtensors
                                                              : MuscleGroup::kFlexors;
  r.contraction = Contraction::kIsometric;
  const Eigen::Index n = effort.end - effort.begin;
  const double directed = r.muscle == MuscleGroup::kExtensors ? 1.0 : -1.0;
  const Eigen::ArrayXd torque = directed * s.torque.segment(effort.begin, n);
  const auto time = s.time.segment(effort.begin, n);
  const auto angle = s.angle.segment(effort.begin, n);
  r.start_time = time[0];
  r.end_time = effort.end < s.time.size() ? s.time[effort.end] : time[n - 1];
  // The lever does not move, so there is no torque-angle curve to fit: the plateau's largest
  // filtered sample is the peak, and the plateau mean says how steady it was.
  Eigen::Index peak = 0;
  r.peak_torque = torque.maxCoeff(&peak);
  r.angle_at_peak = angle[peak];
  r.time_to_peak = time[peak] - r.start_time;
  r.range_of_motion = angle.maxCoeff() - angle.minCoeff();
  r.work = 0.0;
  r.mean_power = 0.0;
  const double half = settings.isometric.plateau_time / 2.0;
  const auto in_plateau = (time >= time[peak] - half && time <= time[peak] + half).cast<double>();
  r.plateau_torque = (torque * in_plateau).sum() / in_plateau.sum();
  if (torque.maxCoeff() - torque.minCoeff() < kFlatTorqueRange) r.flags |= kPhaseFlatTorque;
  r.torque_at_angles.assign(settings.torque_angles.size(), kNotAvailable);
  r.curve_start_angle = angle[peak];
  r.isokinetic.target_velocity = 0.0;
  return r;
}

}  // namespace isokin::analysis
