#include "isokin/analysis/gravity_correction.h"

#include <cmath>
#include <numbers>

namespace isokin::analysis {

std::string_view to_string(GravityMode mode) {
  switch (mode) {
    case GravityMode::kOff:
      return "off";
    case GravityMode::kGiven:
      return "given";
    case GravityMode::kFromRest:
      return "from-rest";
    case GravityMode::kFromTrial:
      return "from-trial";
  }
  return "off";
}

double gravity_lever(double angle_deg, drivers::Joint joint) {
  const double radians = angle_deg * std::numbers::pi / 180.0;
  return joint == drivers::Joint::kTrunk ? std::sin(radians) : std::cos(radians);
}

Eigen::ArrayXd gravity_lever(const Eigen::Ref<const Eigen::ArrayXd>& angle_deg,
                             drivers::Joint joint) {
  const Eigen::ArrayXd radians = angle_deg * (std::numbers::pi / 180.0);
  return joint == drivers::Joint::kTrunk ? Eigen::ArrayXd(radians.sin())
                                         : Eigen::ArrayXd(radians.cos());
}

GravityEstimate estimate_limb_moment(const Eigen::Ref<const Eigen::ArrayXd>& torque,
                                     const Eigen::Ref<const Eigen::ArrayXd>& angle_deg,
                                     const Eigen::Ref<const Eigen::ArrayXd>& velocity,
                                     const GravitySettings& settings, double sample_rate_hz,
                                     drivers::Joint joint) {
  GravityEstimate g;
  const Eigen::ArrayXd lever = gravity_lever(angle_deg, joint);
  double sum_tc = 0.0;
  double sum_cc = 0.0;
  int n = 0;
  for (Eigen::Index i = 0; i < torque.size(); ++i) {
    if (!(std::abs(velocity[i]) < settings.rest_velocity)) continue;
    if (!std::isfinite(torque[i]) || !std::isfinite(angle_deg[i])) continue;
    const double c = lever[i];
    sum_tc += torque[i] * c;
    sum_cc += c * c;
    ++n;
  }
  if (n == 0 || n < settings.minimum_rest_time * sample_rate_hz) {
    g.reason = "too little rest before the first movement to estimate the limb weight";
    return g;
  }
  if (sum_cc / n < settings.minimum_mean_cos_squared) {
    g.reason = "rest position too close to vertical to estimate the limb weight";
    return g;
  }
  g.mode = GravityMode::kFromRest;
  g.limb_moment = -sum_tc / sum_cc;
  g.rest_samples = n;
  return g;
}

GravityEstimate estimate_limb_moment_from_trial(const Eigen::Ref<const Eigen::ArrayXd>& torque,
                                                const Eigen::Ref<const Eigen::ArrayXd>& angle_deg,
                                                drivers::Joint joint) {
  const Eigen::ArrayXd lever = gravity_lever(angle_deg, joint);
  constexpr int kMinSamples = 10;
  constexpr double kMinCosVariance = 0.01;  // e.g. a range of ≈ 20° around 45°
  GravityEstimate g;
  double n = 0.0, sc = 0.0, scc = 0.0, st = 0.0, stc = 0.0;
  for (Eigen::Index i = 0; i < torque.size(); ++i) {
    if (!std::isfinite(torque[i]) || !std::isfinite(angle_deg[i])) continue;
    const double c = lever[i];
    n += 1.0;
    sc += c;
    scc += c * c;
    st += torque[i];
    stc += torque[i] * c;
  }
  if (n < kMinSamples) {
    g.reason = "gravity trial has too few samples";
    return g;
  }
  const double var_c = scc / n - (sc / n) * (sc / n);
  if (var_c < kMinCosVariance) {
    g.reason = "gravity trial covers too small a range to separate limb weight from offset";
    return g;
  }
  const double cov_tc = stc / n - (st / n) * (sc / n);
  g.mode = GravityMode::kFromTrial;
  g.limb_moment = -cov_tc / var_c;  // slope of τ against cos θ is −T_g
  g.rest_samples = static_cast<int>(n);
  return g;
}

void correct_for_gravity(Eigen::Ref<Eigen::ArrayXd> torque,
                         const Eigen::Ref<const Eigen::ArrayXd>& angle_deg, double limb_moment,
                         drivers::Joint joint) {
  if (limb_moment == 0.0) return;
  torque += limb_moment * gravity_lever(angle_deg, joint);
}

}  // namespace isokin::analysis
