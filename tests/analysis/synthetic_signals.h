#pragma once
// Synthetic sets with answers derivable on paper (test helper): rests and movements with a
// trapezoidal velocity profile (constant acceleration, then constant speed, then constant
// deceleration) and torque given as a function of angle.

#include <cmath>
#include <functional>

#include "isokin/acquisition/session.h"

namespace isokin::testing {

class SyntheticSet {
 public:
  explicit SyntheticSet(double rate) : rate_(rate) {}

  // Torque as a function of angle during the rest / movement.
  using TorqueOfAngle = std::function<double(double)>;

  SyntheticSet& rest(double seconds, double angle, const TorqueOfAngle& torque) {
    const auto n = static_cast<long>(std::lround(seconds * rate_));
    for (long i = 0; i < n; ++i) push(angle, 0.0, torque(angle));
    return *this;
  }

  // From `from` to `to` degrees at `speed` °/s, reached with constant `acceleration` °/s²
  // (infinite: a step). The lever is at `from` with zero speed at the first sample.
  SyntheticSet& move(double from, double to, double speed, double acceleration,
                     const TorqueOfAngle& torque) {
    const double distance = std::abs(to - from);
    const double dir = to > from ? 1.0 : -1.0;
    const bool step = std::isinf(acceleration);
    const double ramp_t = step ? 0.0 : speed / acceleration;
    const double ramp_d = step ? 0.0 : 0.5 * speed * ramp_t;
    const double cruise_t = (distance - 2.0 * ramp_d) / speed;
    const double total = 2.0 * ramp_t + cruise_t;
    const auto n = static_cast<long>(std::floor(total * rate_));
    for (long i = step ? 0 : 1; i <= n; ++i) {
      const double t = static_cast<double>(i) / rate_;
      double d = 0.0;
      double v = 0.0;
      if (t < ramp_t) {
        v = acceleration * t;
        d = 0.5 * acceleration * t * t;
      } else if (t <= ramp_t + cruise_t) {
        v = speed;
        d = ramp_d + speed * (t - ramp_t);
      } else {
        const double u = total - t;
        v = acceleration * u;
        d = distance - 0.5 * acceleration * u * u;
      }
      if (step && i == n) v = speed;
      const double angle = from + dir * d;
      push(angle, dir * v, torque(angle));
    }
    return *this;
  }

  acquisition::RecordedSet set(double extension_velocity, double flexion_velocity) const {
    acquisition::RecordedSet s;
    s.signals = signals_;
    s.info.setpoint.extension_velocity = extension_velocity;
    s.info.setpoint.flexion_velocity = flexion_velocity;
    s.info.setpoint.repetitions = 0;  // no protocol planned these movements
    return s;
  }
  acquisition::SetSignals& signals() { return signals_; }

 private:
  void push(double angle, double velocity, double torque) {
    signals_.append({t_, torque, angle, velocity, 0});
    t_ += 1.0 / rate_;
  }
  double rate_;
  double t_ = 0.0;
  acquisition::SetSignals signals_;
};

}  // namespace isokin::testing
