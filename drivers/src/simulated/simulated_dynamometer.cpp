#include "isokin/drivers/simulated_dynamometer.h"

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <thread>

#include "simulated/knee_model.h"

namespace isokin::drivers {
namespace {

constexpr double kDegToRad = std::numbers::pi / 180.0;
constexpr double kTorqueRange = 500.0;  // N·m, a Biodex System 4 load cell's range
// The analysis' default isokinetic band (docs/analysis.md §7), for the truth's isokinetic peak.
constexpr double kIsokineticToleranceFraction = 0.10;
constexpr double kIsokineticToleranceMin = 5.0;  // °/s

// One stretch of a simulated set: the lever at rest, moving in one direction, or held still
// during an isometric effort.
struct Segment {
  double start = 0.0;  // s
  double duration = 0.0;
  bool moving = false;
  bool effort = false;  // a muscle works (moving, or isometric); false = at rest
  Movement movement = Movement::kExtension;
  PhaseEffort work;  // who works and how, when effort
  int repetition = 0;
  double rest_angle = 0.0;                      // when not moving
  double set_speed = 0.0;                       // °/s, when moving
  sim::PhaseKinematics kinematics{0, 1, 1, 1};  // when moving
};

struct ModelState {
  double angle;
  double velocity;
  double torque;         // measured, noise-free, N·m
  double muscle_torque;  // working muscle's own, ≥ 0, N·m
};

double fatigue_factor(const SimulatedSubject& subject, int repetition) {
  // Exponential decline toward a plateau, starting at fatigue_per_repetition per repetition:
  // in endurance sets peak torque levels off rather than reaching zero.
  const double plateau = subject.fatigue_plateau;
  const double rate = subject.fatigue_per_repetition / (1.0 - plateau);
  return plateau + (1.0 - plateau) * std::exp(-rate * repetition);
}

ModelState evaluate(const sim::JointMuscleModel& model, const SimulatedSubject& subject, Side side,
                    const Segment& seg, double t) {
  const double local = t - seg.start;
  double angle = seg.rest_angle;
  double velocity = 0.0;
  if (seg.moving) {
    const auto k = seg.kinematics.at(local);
    angle = k.angle;
    velocity = k.velocity;
  }
  double muscle = 0.0;
  if (seg.effort) {
    const double drive = seg.work.contraction == Contraction::kIsometric
                             ? sim::isometric_activation(local, seg.duration)
                             : sim::activation(local, seg.duration);
    muscle = model.torque(seg.work.extensors, side, angle, velocity, seg.work.contraction) * drive *
             fatigue_factor(subject, seg.repetition);
  }
  const double sign = seg.work.extensors ? 1.0 : -1.0;
  return {angle, velocity, sign * muscle + model.gravity_moment(angle), muscle};
}

std::vector<Segment> plan_set(const MotionSetpoint& sp, const SimulationSettings& settings) {
  std::vector<Segment> segments;
  double t = 0.0;
  auto rest = [&](double angle, double duration) {
    Segment s;
    s.start = t;
    s.duration = duration;
    s.rest_angle = angle;
    segments.push_back(s);
    t += duration;
  };
  auto move = [&](Movement movement, int rep, double from, double to, double speed) {
    Segment s;
    s.start = t;
    s.moving = true;
    s.effort = !sp.passive;
    s.movement = movement;
    s.work = phase_effort(sp.mode, movement);
    s.repetition = rep;
    s.set_speed = speed;
    s.kinematics = sim::PhaseKinematics(from, to, speed, settings.acceleration);
    s.duration = s.kinematics.duration();
    segments.push_back(s);
    t += s.duration;
  };
  auto hold = [&](Movement movement, int rep) {
    Segment s;
    s.start = t;
    s.duration = sp.contraction_time;
    s.effort = true;
    s.movement = movement;
    s.work = phase_effort(sp.mode, movement);
    s.repetition = rep;
    s.rest_angle = sp.hold_angle;
    segments.push_back(s);
    t += s.duration;
  };
  if (sp.mode == ContractionMode::kIsometric) {
    // Each repetition: an extension effort, a rest, a flexion effort, with the lever locked.
    rest(sp.hold_angle, settings.rest_before);
    for (int rep = 0; rep < sp.repetitions; ++rep) {
      hold(Movement::kExtension, rep);
      rest(sp.hold_angle, settings.isometric_rest);
      hold(Movement::kFlexion, rep);
      if (rep + 1 < sp.repetitions) rest(sp.hold_angle, settings.isometric_rest);
    }
    rest(sp.hold_angle, settings.rest_before);
    return segments;
  }
  // Tests start flexed: each repetition is an extension followed by a flexion.
  rest(sp.angle_max, settings.rest_before);
  for (int rep = 0; rep < sp.repetitions; ++rep) {
    move(Movement::kExtension, rep, sp.angle_max, sp.angle_min, sp.extension_velocity);
    rest(sp.angle_min, settings.reversal_pause);
    move(Movement::kFlexion, rep, sp.angle_min, sp.angle_max, sp.flexion_velocity);
    if (rep + 1 < sp.repetitions) rest(sp.angle_max, settings.reversal_pause);
  }
  rest(sp.angle_max, settings.rest_before);
  return segments;
}

PhaseTruth phase_truth(const sim::JointMuscleModel& model, const SimulatedSubject& subject,
                       Side side, const Segment& seg, double sample_rate) {
  // A grid 20× finer than the samples (and at least 20 kHz) so the truth does not depend on
  // the sample rate under test.
  const double dt = std::min(1.0 / (20.0 * sample_rate), 5e-5);
  const auto steps = static_cast<std::size_t>(std::ceil(seg.duration / dt));
  const double sign = seg.work.extensors ? 1.0 : -1.0;
  PhaseTruth truth;
  truth.repetition = seg.repetition;
  truth.movement = seg.movement;
  truth.extensors = seg.work.extensors;
  truth.contraction = seg.work.contraction;
  truth.start_time = seg.start;
  truth.end_time = seg.start + seg.duration;
  double previous_power = 0.0;
  const double band =
      std::max(kIsokineticToleranceFraction * seg.set_speed, kIsokineticToleranceMin);
  for (std::size_t i = 0; i <= steps; ++i) {
    const double t = seg.start + std::min(seg.duration, static_cast<double>(i) * dt);
    const ModelState s = evaluate(model, subject, side, seg, t);
    const double directed = sign * s.torque;
    if (directed > truth.peak_torque) {
      truth.peak_torque = directed;
      truth.angle_at_peak = s.angle;
    }
    if (seg.moving && std::abs(std::abs(s.velocity) - seg.set_speed) <= band) {
      if (std::isnan(truth.isokinetic_start_angle)) truth.isokinetic_start_angle = s.angle;
      truth.isokinetic_end_angle = s.angle;
      if (!(directed <= truth.isokinetic_peak_torque)) {
        truth.isokinetic_peak_torque = directed;
        truth.isokinetic_angle_at_peak = s.angle;
      }
    }
    truth.muscle_peak_torque = std::max(truth.muscle_peak_torque, s.muscle_torque);
    // Work = ∫ torque·ω dt with ω in rad/s in the direction the working muscle pulls
    // (extensors pull toward 0°): positive when it shortens, negative when it lengthens.
    const double power = directed * (-sign * s.velocity) * kDegToRad;
    if (i > 0) {
      const double h = std::min(seg.duration, static_cast<double>(i) * dt) -
                       std::min(seg.duration, static_cast<double>(i - 1) * dt);
      truth.work += 0.5 * (power + previous_power) * h;
    }
    previous_power = power;
  }
  return truth;
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

SimulatedDynamometer::SimulatedDynamometer(SimulationSettings settings) : settings_(settings) {
  if (!(settings_.sample_rate_hz >= 1.0 && settings_.sample_rate_hz <= 100'000.0)) {
    throw DeviceError(
        fmt::format("sim: sample rate {} Hz is outside 1–100000 Hz", settings_.sample_rate_hz));
  }
}

DeviceDescription SimulatedDynamometer::describe() const {
  DeviceDescription d;
  d.driver = "sim";
  d.model = "isokin simulated dynamometer (knee, trunk)";
  d.serial = fmt::format("seed-{}", settings_.seed);
  d.sample_rate_hz = settings_.sample_rate_hz;
  d.channels = {{"torque", "N·m", -kTorqueRange, kTorqueRange},
                {"angle", "deg", -10.0, 150.0},
                {"velocity", "deg/s", -500.0, 500.0}};
  // The simulator produces engineering units directly.
  d.calibration = {{"torque", 1.0, 0.0}, {"angle", 1.0, 0.0}, {"velocity", 1.0, 0.0}};
  return d;
}

void SimulatedDynamometer::open() {
  open_ = true;
}

bool SimulatedDynamometer::apply(const MotionSetpoint& setpoint) {
  if (setpoint.repetitions < 1 || setpoint.extension_velocity <= 0.0 ||
      setpoint.flexion_velocity <= 0.0 || setpoint.angle_max <= setpoint.angle_min) {
    throw DeviceError(
        fmt::format("sim: invalid setpoint (repetitions {}, velocities {}/{} °/s, range {}–{}°)",
                    setpoint.repetitions, setpoint.extension_velocity, setpoint.flexion_velocity,
                    setpoint.angle_min, setpoint.angle_max));
  }
  if (setpoint.mode == ContractionMode::kIsometric &&
      !(setpoint.contraction_time > 0.0 && setpoint.contraction_time <= 60.0)) {
    throw DeviceError(fmt::format("sim: isometric contraction time {} s is outside 0–60 s",
                                  setpoint.contraction_time));
  }
  setpoint_ = setpoint;
  return true;
}

void SimulatedDynamometer::start() {
  if (!open_) throw DeviceError("sim: start() before open()");
  const auto segments = plan_set(setpoint_, settings_);
  const sim::JointMuscleModel model(setpoint_.joint, settings_.subject);
  const Side side = setpoint_.side;

  SetTruth truth;
  truth.setpoint = setpoint_;
  truth.limb_gravity_moment = model.largest_gravity_moment();
  for (const auto& seg : segments) {
    if (seg.effort || seg.moving) {
      truth.phases.push_back(
          phase_truth(model, settings_.subject, side, seg, settings_.sample_rate_hz));
    }
  }

  // Each set gets its own reproducible noise stream.
  std::mt19937_64 rng(settings_.seed * 1'000'003ULL + static_cast<std::uint64_t>(sets_started_));
  std::normal_distribution<double> noise(0.0, 1.0);
  const double end = segments.back().start + segments.back().duration;
  const auto n = static_cast<std::size_t>(std::floor(end * settings_.sample_rate_hz)) + 1;
  samples_.clear();
  samples_.reserve(n);
  std::size_t seg_index = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / settings_.sample_rate_hz;
    while (seg_index + 1 < segments.size() && t >= segments[seg_index + 1].start) ++seg_index;
    const ModelState s = evaluate(model, settings_.subject, side, segments[seg_index], t);
    Sample sample;
    sample.time = t;
    sample.torque = s.torque + settings_.torque_noise * noise(rng);
    sample.angle = s.angle + settings_.angle_noise * noise(rng);
    sample.velocity = s.velocity + settings_.velocity_noise * noise(rng);
    if (std::abs(sample.torque) > kTorqueRange) {
      sample.torque = std::copysign(kTorqueRange, sample.torque);
      sample.status |= kStatusTorqueClipped;
    }
    samples_.push_back(sample);
  }
  truth.sample_count = n;
  truth_.push_back(std::move(truth));
  ++sets_started_;
  cursor_ = 0;
  wall_start_ = steady_seconds();
  running_ = true;
}

ReadResult SimulatedDynamometer::read(std::span<Sample> out) {
  if (!running_) return {0, ReadStatus::kError, "sim: read() while not started"};
  if (cursor_ >= samples_.size()) return {0, ReadStatus::kEndOfStream, {}};
  std::size_t available = samples_.size() - cursor_;
  if (settings_.realtime) {
    // Deliver what a real device would have produced by now; wait for at least one sample.
    const auto due = [&] {
      const double elapsed = steady_seconds() - wall_start_;
      const auto produced = static_cast<std::size_t>(elapsed * settings_.sample_rate_hz) + 1;
      return std::min(samples_.size(), produced) - std::min(cursor_, produced);
    };
    while ((available = due()) == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }
  const std::size_t n = std::min(available, out.size());
  std::copy_n(samples_.begin() + static_cast<std::ptrdiff_t>(cursor_), n, out.begin());
  cursor_ += n;
  return {n, ReadStatus::kOk, {}};
}

void SimulatedDynamometer::stop() {
  running_ = false;
}

void SimulatedDynamometer::close() {
  running_ = false;
  open_ = false;
  samples_.clear();
}

std::vector<Sample> simulate_set(SimulationSettings settings, const MotionSetpoint& setpoint) {
  settings.realtime = false;
  SimulatedDynamometer sim(settings);
  sim.open();
  sim.apply(setpoint);
  sim.start();
  std::vector<Sample> all(sim.ground_truth().back().sample_count);
  const ReadResult r = sim.read(all);
  all.resize(r.count);
  sim.close();
  return all;
}

}  // namespace isokin::drivers
