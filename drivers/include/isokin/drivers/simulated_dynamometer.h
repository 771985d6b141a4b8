#pragma once
// The default device: a simulated isokinetic dynamometer with a physiological model of a knee
// or a trunk
// (torque–angle and force–velocity relations of quadriceps and hamstrings, fatigue, limb weight,
// acceleration/deceleration at the ends of the range, sensor noise). It needs no hardware, is
// reproducible from a seed, and keeps a ground-truth record of every phase it generated.

#include <cstdint>
#include <limits>
#include <vector>

#include "isokin/drivers/device.h"

namespace isokin::drivers {

// The simulated athlete. Defaults: a 75 kg adult whose left quadriceps is 10 % weaker
// (a typical post-ACL-reconstruction deficit).
struct SimulatedSubject {
  double body_mass_kg = 75.0;
  double quadriceps_isometric_peak = 280.0;  // N·m, right side, at the optimum angle
  double hamstrings_isometric_peak = 160.0;  // N·m, right side
  double left_quadriceps_factor = 0.90;
  double left_hamstrings_factor = 0.95;
  double fatigue_per_repetition = 0.015;  // fraction of peak lost per repetition, initially
  double fatigue_plateau = 0.4;           // fraction of peak left after very many repetitions
  // Eccentric torque / isometric torque at high lengthening speed (1.2–1.4 in vivo).
  double eccentric_ratio = 1.3;
  // Trunk (Joint::kTrunk): isometric peaks of the back extensors and the abdominal flexors.
  double trunk_extensors_isometric_peak = 300.0;  // N·m
  double trunk_flexors_isometric_peak = 200.0;    // N·m
  // Shank + foot: 6.1 % of body mass with its centre of mass 0.25 m from the knee axis.
  [[nodiscard]] double limb_gravity_moment() const { return body_mass_kg * 0.061 * 9.81 * 0.25; }
  // Head, arms and trunk above L5/S1: 60 % of body mass, centre of mass 0.2 m above the axis.
  [[nodiscard]] double upper_body_gravity_moment() const { return body_mass_kg * 0.6 * 9.81 * 0.2; }
};

struct SimulationSettings {
  double sample_rate_hz = 2000.0;
  std::uint64_t seed = 1;
  double torque_noise = 0.8;     // N·m, standard deviation
  double angle_noise = 0.05;     // °
  double velocity_noise = 0.5;   // °/s
  double acceleration = 2000.0;  // °/s², of the lever at the start and end of each movement
  double reversal_pause = 0.05;  // s at rest between extension and flexion
  double rest_before = 0.5;      // s before the first and after the last repetition
  double isometric_rest = 2.0;   // s between isometric efforts
  bool realtime = false;  // pace read() to the wall clock (live runs); false = as fast as read
  SimulatedSubject subject;
};

// What the model produced for one movement phase (or isometric effort), from its noise-free
// signals on a fine grid.
struct PhaseTruth {
  int repetition = 0;                        // 0-based
  Movement movement = Movement::kExtension;  // isometric: extension effort or flexion effort
  bool extensors = true;  // the working muscle group: extensors (positive torque) or flexors
  Contraction contraction = Contraction::kConcentric;
  double start_time = 0.0;  // s, set time at which the lever starts moving
  double end_time = 0.0;    // s, set time at which it stops
  // Torque as the dynamometer measures it (gravity included), in the direction of the working
  // muscle's moment (for concentric phases: the direction of the movement):
  double peak_torque = 0.0;    // N·m, positive
  double angle_at_peak = 0.0;  // °
  // J, ∫ torque dθ with θ in radians: positive for concentric, negative for eccentric (the
  // muscle absorbs work), 0 for isometric
  double work = 0.0;
  double muscle_peak_torque = 0.0;  // N·m, the muscle's own torque (limb weight removed)
  // The same within the isokinetic window: where the lever's true speed is within 10 % (at least
  // 5 °/s) of the set speed, the analysis' default band. NaN when the speed never gets there.
  double isokinetic_peak_torque = std::numeric_limits<double>::quiet_NaN();    // N·m
  double isokinetic_angle_at_peak = std::numeric_limits<double>::quiet_NaN();  // °
  double isokinetic_start_angle = std::numeric_limits<double>::quiet_NaN();    // °, first in band
  double isokinetic_end_angle = std::numeric_limits<double>::quiet_NaN();      // °, last in band
};

struct SetTruth {
  MotionSetpoint setpoint;
  std::uint64_t sample_count = 0;
  // N·m, magnitude of the limb's (knee) or upper body's (trunk) weight moment where it is largest
  // (knee at full extension, trunk horizontal)
  double limb_gravity_moment = 0.0;
  std::vector<PhaseTruth> phases;
};

class SimulatedDynamometer final : public Device {
 public:
  explicit SimulatedDynamometer(SimulationSettings settings = {});

  [[nodiscard]] DeviceDescription describe() const override;
  void open() override;
  bool apply(const MotionSetpoint& setpoint) override;
  [[nodiscard]] bool ends_sets_itself() const override { return true; }
  void start() override;
  ReadResult read(std::span<Sample> out) override;
  void stop() override;
  void close() override;

  // Ground truth of every set started so far, in order.
  [[nodiscard]] const std::vector<SetTruth>& ground_truth() const { return truth_; }
  [[nodiscard]] const SimulationSettings& settings() const { return settings_; }

 private:
  SimulationSettings settings_;
  MotionSetpoint setpoint_;
  bool open_ = false;
  bool running_ = false;
  int sets_started_ = 0;
  std::vector<Sample> samples_;  // the current set, generated at start()
  std::size_t cursor_ = 0;
  double wall_start_ = 0.0;  // steady-clock seconds at start(), for realtime pacing
  std::vector<SetTruth> truth_;
};

// One whole set exactly as a SimulatedDynamometer with these settings produces it (same seed,
// same samples), read without pacing: what tests and benchmarks compare recordings against.
std::vector<Sample> simulate_set(SimulationSettings settings, const MotionSetpoint& setpoint);

}  // namespace isokin::drivers
