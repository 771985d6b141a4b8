// The live analyser publishes each phase once its filter margin has arrived, with results
// bit-identical to the offline analysis of the same samples (EXPECT_EQ on doubles, not NEAR).
#include "isokin/analysis/live_analyser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#include "isokin/analysis/session_analysis.h"
#include "simulated_set.h"

namespace {

using namespace isokin::analysis;
using isokin::drivers::MotionSetpoint;
using isokin::drivers::Sample;
using isokin::drivers::Side;
using isokin::drivers::SimulationSettings;

// Equal, or both NaN (NaN marks "not available" and never equals itself).
void expect_same(double live, double offline, const char* what) {
  if (std::isnan(offline)) {
    EXPECT_TRUE(std::isnan(live)) << what;
  } else {
    EXPECT_EQ(live, offline) << what;
  }
}

void expect_identical(const PhaseResult& a, const PhaseResult& b) {
  EXPECT_EQ(a.movement, b.movement);
  EXPECT_EQ(a.repetition, b.repetition);
  EXPECT_EQ(a.muscle, b.muscle);
  EXPECT_EQ(a.contraction, b.contraction);
  EXPECT_EQ(a.flags, b.flags);
  expect_same(a.start_time, b.start_time, "start_time");
  expect_same(a.end_time, b.end_time, "end_time");
  expect_same(a.peak_torque, b.peak_torque, "peak_torque");
  expect_same(a.angle_at_peak, b.angle_at_peak, "angle_at_peak");
  expect_same(a.time_to_peak, b.time_to_peak, "time_to_peak");
  expect_same(a.work, b.work, "work");
  expect_same(a.range_of_motion, b.range_of_motion, "range_of_motion");
  expect_same(a.mean_power, b.mean_power, "mean_power");
  expect_same(a.gravity_moment, b.gravity_moment, "gravity_moment");
  ASSERT_EQ(a.torque_at_angles.size(), b.torque_at_angles.size());
  for (std::size_t i = 0; i < a.torque_at_angles.size(); ++i) {
    expect_same(a.torque_at_angles[i], b.torque_at_angles[i], "torque_at_angles");
  }
  expect_same(a.curve_start_angle, b.curve_start_angle, "curve_start_angle");
  ASSERT_EQ(a.torque_curve.size(), b.torque_curve.size());
  for (std::size_t i = 0; i < a.torque_curve.size(); ++i) {
    expect_same(a.torque_curve[i], b.torque_curve[i], "torque_curve");
  }
  const auto& x = a.isokinetic;
  const auto& y = b.isokinetic;
  EXPECT_EQ(x.reached, y.reached);
  expect_same(x.target_velocity, y.target_velocity, "iso target");
  expect_same(x.start_time, y.start_time, "iso start");
  expect_same(x.end_time, y.end_time, "iso end");
  expect_same(x.acceleration_time, y.acceleration_time, "iso acceleration_time");
  expect_same(x.deceleration_time, y.deceleration_time, "iso deceleration_time");
  expect_same(x.overshoot_time, y.overshoot_time, "iso overshoot");
  expect_same(x.max_velocity, y.max_velocity, "iso max_velocity");
  expect_same(x.peak_torque, y.peak_torque, "iso peak");
  expect_same(x.angle_at_peak, y.angle_at_peak, "iso angle");
  expect_same(x.time_to_peak, y.time_to_peak, "iso time_to_peak");
  expect_same(x.work, y.work, "iso work");
  expect_same(x.mean_power, y.mean_power, "iso power");
  expect_same(x.range_of_motion, y.range_of_motion, "iso rom");
}

// (rate, velocity, block size of the live feed)
class LiveEqualsOffline : public ::testing::TestWithParam<std::tuple<double, double, std::size_t>> {
};

TEST_P(LiveEqualsOffline, EveryPhaseIdenticalAndPublishedWithinItsMargin) {
  const auto [rate, velocity, block] = GetParam();
  SimulationSettings sim;
  sim.sample_rate_hz = rate;
  sim.seed = 11;
  MotionSetpoint sp;
  sp.side = Side::kLeft;
  sp.extension_velocity = sp.flexion_velocity = velocity;
  sp.repetitions = 4;
  const auto s = isokin::testing::simulate_set(sim, sp);
  AnalysisSettings settings;
  settings.filter_cutoff_hz = std::min(20.0, rate / 4.0);
  settings.gravity.minimum_mean_cos_squared = 0.005;  // the simulator rests at 95°, no offset
  const SetAnalysis offline = analyze_set(s.recorded, settings, 75.0, rate);

  // Live: samples in blocks, recording when (in set time) each phase was published.
  std::vector<double> published_at;
  const auto& sig = s.recorded.signals;
  double now = 0.0;
  LiveAnalyser live(
      s.recorded.info, rate, settings, [&](const PhaseResult&) { published_at.push_back(now); },
      75.0);
  std::vector<Sample> buffer;
  for (std::size_t i = 0; i < sig.size(); i += block) {
    buffer.clear();
    for (std::size_t k = i; k < std::min(sig.size(), i + block); ++k) {
      buffer.push_back({sig.time[k], sig.torque[k], sig.angle[k], sig.velocity[k], sig.status[k]});
    }
    now = buffer.back().time;
    live.push(buffer);
  }
  const std::size_t before_finish = live.phases().size();
  live.finish();
  const SetAnalysis result = live.result();

  ASSERT_EQ(live.phases().size(), 8U);
  ASSERT_EQ(offline.extension.repetitions.size(), 4U);
  ASSERT_EQ(offline.flexion.repetitions.size(), 4U);
  // The simulator rests 0.5 s after the last repetition: every phase is out before finish().
  EXPECT_EQ(before_finish, 8U);
  const double block_time = static_cast<double>(block) / rate;
  for (std::size_t i = 0; i < live.phases().size(); ++i) {
    const auto& p = live.phases()[i];
    SCOPED_TRACE(::testing::Message() << "phase " << i);
    EXPECT_LE(published_at[i], p.end_time + live.margin_seconds() + block_time + 2.0 / rate);
    const auto& m =
        p.movement == isokin::drivers::Movement::kExtension ? offline.extension : offline.flexion;
    expect_identical(p, m.repetitions.at(static_cast<std::size_t>(p.repetition)));
  }
  EXPECT_EQ(result.extension.peak_torque, offline.extension.peak_torque);
  EXPECT_EQ(result.flexion.total_work, offline.flexion.total_work);
  EXPECT_EQ(result.hq_ratio, offline.hq_ratio);
  EXPECT_EQ(result.gravity.limb_moment, offline.gravity.limb_moment);
  EXPECT_EQ(result.gravity.mode, GravityMode::kFromRest);
}

INSTANTIATE_TEST_SUITE_P(RatesSpeedsBlocks, LiveEqualsOffline,
                         ::testing::Values(std::make_tuple(2000.0, 60.0, std::size_t{1}),
                                           std::make_tuple(2000.0, 180.0, std::size_t{97}),
                                           std::make_tuple(1000.0, 300.0, std::size_t{4096}),
                                           std::make_tuple(500.0, 60.0, std::size_t{13}),
                                           std::make_tuple(100.0, 120.0, std::size_t{5})));

TEST(LiveAnalyser, LastPhasePublishedAtFinishWhenTheRecordingStopsEarly) {
  SimulationSettings sim;
  sim.sample_rate_hz = 1000.0;
  MotionSetpoint sp;
  sp.repetitions = 2;
  auto s = isokin::testing::simulate_set(sim, sp);
  // Cut the recording 20 ms after the last movement ends: inside the filter margin.
  const double cut = s.truth.phases.back().end_time + 0.02;
  auto& sig = s.recorded.signals;
  std::size_t n = 0;
  while (n < sig.size() && sig.time[n] <= cut) ++n;
  for (auto* v : {&sig.time, &sig.torque, &sig.angle, &sig.velocity}) v->resize(n);
  sig.status.resize(n);
  int calls = 0;
  LiveAnalyser live(s.recorded.info, 1000.0, {}, [&](const PhaseResult&) { ++calls; });
  std::vector<Sample> all;
  for (std::size_t i = 0; i < n; ++i) {
    all.push_back({sig.time[i], sig.torque[i], sig.angle[i], sig.velocity[i], sig.status[i]});
  }
  live.push(all);
  EXPECT_EQ(calls, 3);
  live.finish();
  EXPECT_EQ(calls, 4);
  const auto offline = analyze_set(s.recorded, {}, 0.0, 1000.0);
  expect_identical(live.phases().back(), offline.flexion.repetitions.back());
  live.push(all);  // after finish: ignored
  EXPECT_EQ(calls, 4);
}

TEST(LiveAnalyser, RejectsAnUnusableSampleRate) {
  EXPECT_THROW(LiveAnalyser({}, 0.0), std::invalid_argument);
  EXPECT_THROW(LiveAnalyser({}, std::nan("")), std::invalid_argument);
}

}  // namespace

// analyze_session hands one analyser's sample columns to the next (docs/performance.md): a set
// analysed with a longer set's leftover memory gives exactly what a fresh analyser gives.
TEST(LiveAnalyser, ReusedBuffersGiveTheSameResultsAsFreshOnes) {
  SimulationSettings sim;
  sim.seed = 5;
  MotionSetpoint long_set;
  long_set.repetitions = 6;
  long_set.extension_velocity = long_set.flexion_velocity = 60.0;
  MotionSetpoint short_set;
  short_set.repetitions = 3;
  short_set.extension_velocity = short_set.flexion_velocity = 180.0;
  const auto first = isokin::testing::simulate_set(sim, long_set);
  sim.seed = 6;
  const auto second = isokin::testing::simulate_set(sim, short_set);
  const auto samples = [](const isokin::acquisition::SetSignals& sig) {
    std::vector<Sample> all;
    for (std::size_t i = 0; i < sig.size(); ++i) {
      all.push_back({sig.time[i], sig.torque[i], sig.angle[i], sig.velocity[i], sig.status[i]});
    }
    return all;
  };

  LiveAnalyser earlier(first.recorded.info, 2000.0);
  earlier.push(samples(first.recorded.signals));
  earlier.finish();
  ASSERT_EQ(earlier.phases().size(), 12U);
  LiveAnalyser::Buffers leftover = earlier.release_buffers();
  EXPECT_EQ(earlier.sample_count(), 0U);
  ASSERT_EQ(leftover.time.size(), first.recorded.signals.size());
  const std::size_t capacity = leftover.time.capacity();

  LiveAnalyser reused(second.recorded.info, 2000.0, {}, {}, 0.0, std::move(leftover));
  EXPECT_EQ(reused.sample_count(), 0U);  // the old samples are gone, their memory is not
  reused.push(samples(second.recorded.signals));
  reused.finish();
  LiveAnalyser fresh(second.recorded.info, 2000.0);
  fresh.push(samples(second.recorded.signals));
  fresh.finish();

  ASSERT_EQ(fresh.phases().size(), 6U);
  ASSERT_EQ(reused.phases().size(), fresh.phases().size());
  for (std::size_t i = 0; i < fresh.phases().size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "phase " << i);
    expect_identical(reused.phases()[i], fresh.phases()[i]);
  }
  EXPECT_EQ(reused.release_buffers().time.capacity(), capacity);
  // Whole sessions reuse them set after set: the same numbers as each set on its own.
  isokin::acquisition::Session session;
  session.info.device.sample_rate_hz = 2000.0;
  session.sets = {first.recorded, second.recorded, first.recorded};
  session.sets[1].info.index = 1;
  session.sets[2].info.index = 2;
  const SessionAnalysis all = analyze_session(session);
  ASSERT_EQ(all.sets.size(), 3U);
  for (std::size_t k = 0; k < 3; ++k) {
    const SetAnalysis alone = analyze_set(session.sets[k], all.settings, 0.0, 2000.0);
    ASSERT_EQ(all.sets[k].extension.repetitions.size(), alone.extension.repetitions.size());
    for (std::size_t i = 0; i < alone.extension.repetitions.size(); ++i) {
      expect_identical(all.sets[k].extension.repetitions[i], alone.extension.repetitions[i]);
      expect_identical(all.sets[k].flexion.repetitions[i], alone.flexion.repetitions[i]);
    }
  }
}
