#pragma once
// Limb-weight (gravity) correction. The segment's weight pulls toward flexion with a moment
// T_g·cos φ, φ = the segment's angle from horizontal, so the dynamometer measures
// τ_measured = τ_muscle − T_g·cos φ. The correction adds T_g·cos φ back: it raises extension
// torque and lowers flexion torque. Knee (seated): φ = θ, the knee flexion (0° = leg
// horizontal). Trunk: θ is flexion from upright, so φ = 90° − θ and cos φ = sin θ. T_g is the
// moment with the segment horizontal.

#include <Eigen/Core>
#include <string_view>

#include "isokin/analysis/analysis_settings.h"
#include "isokin/analysis/set_analysis.h"
#include "isokin/drivers/domain.h"

namespace isokin::analysis {

// "off", "given", "from-rest", "from-trial" (results JSON and CSV).
std::string_view to_string(GravityMode mode);

// cos φ of the segment at joint angle θ (°): cos θ for the knee, sin θ for the trunk.
double gravity_lever(double angle_deg, drivers::Joint joint);
Eigen::ArrayXd gravity_lever(const Eigen::Ref<const Eigen::ArrayXd>& angle_deg,
                             drivers::Joint joint);

// Least-squares T_g from relaxed resting samples, where τ = −T_g·cos θ:
// T_g = −Σ τ·cos θ / Σ cos²θ over samples [0, rest_end) with |ω| < rest_velocity.
// Returns mode kOff with a reason when there is too little rest, the rest is near vertical, or
// the values are not finite.
GravityEstimate estimate_limb_moment(const Eigen::Ref<const Eigen::ArrayXd>& torque,
                                     const Eigen::Ref<const Eigen::ArrayXd>& angle_deg,
                                     const Eigen::Ref<const Eigen::ArrayXd>& velocity,
                                     const GravitySettings& settings, double sample_rate_hz,
                                     drivers::Joint joint = drivers::Joint::kKnee);

// T_g from a passive gravity-correction trial (the relaxed limb moved slowly through its range):
// least squares τ = −T_g·cos θ + offset over all finite samples, so a sensor offset does not
// bias T_g. Off with a reason when cos θ hardly varies (range too small) or too few samples.
GravityEstimate estimate_limb_moment_from_trial(const Eigen::Ref<const Eigen::ArrayXd>& torque,
                                                const Eigen::Ref<const Eigen::ArrayXd>& angle_deg,
                                                drivers::Joint joint = drivers::Joint::kKnee);

// τ + T_g·cos φ, in place.
void correct_for_gravity(Eigen::Ref<Eigen::ArrayXd> torque,
                         const Eigen::Ref<const Eigen::ArrayXd>& angle_deg, double limb_moment,
                         drivers::Joint joint = drivers::Joint::kKnee);

}  // namespace isokin::analysis
