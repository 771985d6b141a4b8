// Bad input never crashes and never gives a silent number: NaN, gaps in time, too few
// repetitions, no isokinetic phase, flat or clipped torque, a rate below 100 Hz.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "isokin/analysis/session_analysis.h"
#include "synthetic_signals.h"

namespace {

using namespace isokin::analysis;
using isokin::testing::SyntheticSet;

double sine(double angle) {
  return std::sin(std::numbers::pi * angle / 90.0);
}

SyntheticSet three_repetitions(double rate, double peak = 200.0) {
  SyntheticSet s(rate);
  s.rest(0.5, 90.0, [](double) { return 0.0; });
  for (int r = 0; r < 3; ++r) {
    s.move(90.0, 0.0, 60.0, 600.0, [peak](double a) { return peak * sine(a); });
    s.move(0.0, 90.0, 60.0, 600.0, [peak](double a) { return -0.5 * peak * sine(a); });
  }
  s.rest(0.5, 90.0, [](double) { return 0.0; });
  return s;
}

bool has_warning(const SetAnalysis& a, const std::string& text) {
  for (const auto& w : a.warnings) {
    if (w.find(text) != std::string::npos) return true;
  }
  return false;
}

// Index of the sample closest to time t.
std::size_t at(const isokin::acquisition::SetSignals& s, double t) {
  std::size_t i = 0;
  while (i + 1 < s.size() && s.time[i] < t) ++i;
  return i;
}

TEST(BadInput, NaNTorqueMarksItsPhaseAndLeavesTheOthersIntact) {
  auto s = three_repetitions(1000.0);
  // Middle of the second extension: 0.5 s rest + 3.2 s per repetition + 0.8 s.
  s.signals().torque[at(s.signals(), 0.5 + 3.2 + 0.8)] = std::nan("");
  const auto a = analyze_set(s.set(60, 60), {}, 0.0, 1000.0);
  ASSERT_EQ(a.extension.repetitions.size(), 3U);
  const auto& bad = a.extension.repetitions[1];
  EXPECT_NE(bad.flags & kPhaseNonFinite, 0U);
  EXPECT_TRUE(std::isnan(bad.peak_torque));
  EXPECT_TRUE(std::isnan(bad.work));
  EXPECT_TRUE(has_warning(a, "extension 2: NaN"));
  EXPECT_EQ(a.extension.repetitions[0].flags, kPhaseOk);
  EXPECT_NEAR(a.extension.peak_torque, 200.0, 0.2);
  EXPECT_NE(a.extension.best_repetition, 1);
  EXPECT_NEAR(a.extension.total_work, 400.0, 0.4);  // two usable repetitions of 200 J
}

TEST(BadInput, GapInTimeIsFlagged) {
  auto s = three_repetitions(1000.0);
  auto& sig = s.signals();
  const auto i = at(sig, 0.5 + 1.6 + 0.8);                           // middle of the first flexion
  for (std::size_t k = i; k < sig.size(); ++k) sig.time[k] += 0.05;  // 50 samples lost
  const auto a = analyze_set(s.set(60, 60), {}, 0.0, 1000.0);
  ASSERT_EQ(a.flexion.repetitions.size(), 3U);
  EXPECT_NE(a.flexion.repetitions[0].flags & kPhaseGap, 0U);
  EXPECT_EQ(a.flexion.repetitions[1].flags & kPhaseGap, 0U);
  EXPECT_TRUE(has_warning(a, "flexion 1: samples missing"));
}

// Issue 19.13: a clock that jumps back (a device reset, two recordings spliced) is analysed,
// with one set-level warning naming the first such sample, and never passes silently.
TEST(BadInput, TimeRunningBackwardsIsAnalysedWithASetWarning) {
  auto s = three_repetitions(1000.0);
  auto& sig = s.signals();
  const auto i = at(sig, 0.5 + 3.2 + 1.6 + 0.8);  // middle of the second flexion: t = 6.1 s
  ASSERT_EQ(i, 6100U);
  for (std::size_t k = i; k < sig.size(); ++k) sig.time[k] -= 0.25;  // back by 0.25 s
  const auto a = analyze_set(s.set(60, 60), {}, 0.0, 1000.0);
  ASSERT_EQ(a.extension.repetitions.size(), 3U);
  EXPECT_EQ(a.extension.repetitions[0].flags, kPhaseOk);
  EXPECT_NE(a.flexion.repetitions[1].flags & kPhaseGap, 0U);  // the step is a gap inside it
  EXPECT_TRUE(has_warning(a,
                          "time runs backwards or stands still at sample 6100 (t = 5.85 s "
                          "after 6.099 s)"))
      << ::testing::PrintToString(a.warnings);
  EXPECT_TRUE(has_warning(a, "(1 time step(s) <= 0 in this set)"));

  // A regular clock gives no such warning.
  const auto regular = analyze_set(three_repetitions(1000.0).set(60, 60), {}, 0.0, 1000.0);
  EXPECT_FALSE(has_warning(regular, "time runs backwards"));
}

TEST(BadInput, ClippedTorqueStatusIsFlagged) {
  auto s = three_repetitions(1000.0);
  s.signals().status[at(s.signals(), 0.5 + 0.8)] |= isokin::drivers::kStatusTorqueClipped;
  const auto a = analyze_set(s.set(60, 60), {}, 0.0, 1000.0);
  EXPECT_NE(a.extension.repetitions[0].flags & kPhaseTorqueClipped, 0U);
  EXPECT_TRUE(has_warning(a, "extension 1: torque clipped"));
}

TEST(BadInput, FlatTorqueIsFlaggedNotReportedAsAnEffort) {
  const auto s = three_repetitions(1000.0, 0.0);
  const auto a = analyze_set(s.set(60, 60), {}, 0.0, 1000.0);
  ASSERT_EQ(a.extension.repetitions.size(), 3U);
  for (const auto& r : a.extension.repetitions) EXPECT_NE(r.flags & kPhaseFlatTorque, 0U);
  EXPECT_TRUE(has_warning(a, "torque flat"));
}

TEST(BadInput, SetVelocityNeverReachedGivesNoIsokineticValues) {
  const auto s = three_repetitions(1000.0);
  const auto a = analyze_set(s.set(300.0, 300.0), {}, 0.0, 1000.0);  // moved at 60 °/s
  const auto& r = a.extension.repetitions.at(0);
  EXPECT_FALSE(r.isokinetic.reached);
  EXPECT_NE(r.flags & kPhaseNoIsokinetic, 0U);
  EXPECT_TRUE(std::isnan(r.isokinetic.peak_torque));
  EXPECT_TRUE(std::isnan(r.isokinetic.work));
  EXPECT_TRUE(has_warning(a, "never reached"));
  EXPECT_NEAR(r.peak_torque, 200.0, 0.2);  // the full-range values remain
}

TEST(BadInput, TooFewRepetitionsGiveNoFatigueIndices) {
  SyntheticSet s(1000.0);
  s.rest(0.5, 90.0, [](double) { return 0.0; });
  s.move(90.0, 0.0, 60.0, 600.0, [](double a) { return 150.0 * sine(a); });
  s.rest(0.5, 0.0, [](double) { return 0.0; });
  const auto a = analyze_set(s.set(60, 60), {}, 0.0, 1000.0);
  EXPECT_EQ(a.extension.repetitions.size(), 1U);
  EXPECT_TRUE(std::isnan(a.extension.fatigue.work_fatigue));
  EXPECT_TRUE(std::isnan(a.extension.coefficient_of_variation));
  EXPECT_TRUE(has_warning(a, "no complete extension/flexion repetitions found"));
  EXPECT_TRUE(std::isnan(a.hq_ratio));
}

TEST(BadInput, AllNaNAndEmptySetsGiveWarnings) {
  isokin::acquisition::RecordedSet nan_set;
  for (int i = 0; i < 1000; ++i) {
    nan_set.signals.append({i / 1000.0, std::nan(""), std::nan(""), std::nan(""), 0});
  }
  const auto a = analyze_set(nan_set, {});
  EXPECT_EQ(a.extension.best_repetition, -1);
  EXPECT_FALSE(a.warnings.empty());
  isokin::acquisition::RecordedSet two;
  two.signals.append({0.0, 1.0, 2.0, 3.0, 0});
  two.signals.append({0.0, 1.0, 2.0, 3.0, 0});  // zero duration: no rate
  EXPECT_TRUE(has_warning(analyze_set(two, {}), "fewer than 3 samples"));
}

TEST(BadInput, LowRateLowersTheCutOffWithAWarning) {
  // 40 Hz, like the Biodex analog recording: the default 20 Hz cut-off is at Nyquist.
  const auto s = three_repetitions(40.0);
  const auto a = analyze_set(s.set(60, 60), {}, 0.0, 40.0);
  EXPECT_TRUE(has_warning(a, "filter cut-off lowered"));
  ASSERT_EQ(a.extension.repetitions.size(), 3U);
  EXPECT_NEAR(a.extension.peak_torque, 200.0, 200.0 * 0.01);
}

TEST(BadInput, MovementCutOffByTheEndOfTheRecordingIsNotReported) {
  // Recording stopped (abort, unplug) in the middle of the third extension.
  auto s = three_repetitions(1000.0);
  auto& sig = s.signals();
  const std::size_t stop = at(sig, 0.5 + 2 * 3.2 + 0.8);
  for (auto* column : {&sig.time, &sig.torque, &sig.angle, &sig.velocity}) column->resize(stop);
  sig.status.resize(stop);
  const auto a = analyze_set(s.set(60, 60), {}, 0.0, 1000.0);
  ASSERT_EQ(a.extension.repetitions.size(), 3U);
  EXPECT_EQ(a.flexion.repetitions.size(), 2U);
  EXPECT_NE(a.extension.repetitions[2].flags & kPhaseTruncated, 0U);
  EXPECT_EQ(a.extension.repetitions[1].flags, kPhaseOk);
  EXPECT_TRUE(has_warning(a, "cut off"));
  EXPECT_NEAR(a.extension.total_work, 400.0, 0.4);  // the two whole extensions only
  EXPECT_NE(a.extension.best_repetition, 2);

  // A recording that ends just as the lever comes to rest (no rest after it) keeps its last
  // movement: the lever had decelerated below the threshold.
  auto ends_at_rest = three_repetitions(1000.0);
  auto& rest_sig = ends_at_rest.signals();
  const std::size_t end = at(rest_sig, 0.5 + 3 * 3.2);
  for (auto* column : {&rest_sig.time, &rest_sig.torque, &rest_sig.angle, &rest_sig.velocity}) {
    column->resize(end);
  }
  rest_sig.status.resize(end);
  ASSERT_LT(std::abs(rest_sig.velocity.back()), 10.0);
  const auto whole = analyze_set(ends_at_rest.set(60, 60), {}, 0.0, 1000.0);
  ASSERT_EQ(whole.flexion.repetitions.size(), 3U);
  EXPECT_EQ(whole.flexion.repetitions[2].flags & kPhaseTruncated, 0U);
  EXPECT_FALSE(has_warning(whole, "cut off"));
}

// A torque beyond the sensor's range reads as the range limit: the peak is only a lower bound.
TEST(BadInput, TorqueAtTheDeclaredSensorLimitIsFlaggedClipped) {
  SyntheticSet s(1000.0);
  const auto clipped_quadriceps = [](double a) {
    return std::min(300.0, 350.0 * std::sin(std::numbers::pi * a / 90.0));
  };
  s.rest(0.5, 90.0, [](double) { return 0.0; });
  for (int rep = 0; rep < 2; ++rep) {
    s.move(90.0, 0.0, 60.0, 600.0, clipped_quadriceps);
    s.move(0.0, 90.0, 60.0, 600.0,
           [](double a) { return -100.0 * std::sin(std::numbers::pi * a / 90.0); });
  }
  s.rest(0.5, 90.0, [](double) { return 0.0; });
  isokin::acquisition::Session session;
  session.info.device.sample_rate_hz = 1000.0;
  session.sets.push_back(s.set(60, 60));
  AnalysisSettings settings;
  settings.gravity.mode = GravityMode::kOff;

  // Without a declared range nothing says the flat top is a clip.
  const auto unknown = analyze_session(session, settings);
  EXPECT_EQ(unknown.sets[0].extension.repetitions[0].flags & kPhaseTorqueClipped, 0u);

  session.info.device.channels = {{"torque", "N\u00b7m", -300.0, 300.0}};
  const auto known = analyze_session(session, settings);
  EXPECT_EQ(known.settings.torque_range_max, 300.0);
  for (const auto& r : known.sets[0].extension.repetitions) {
    EXPECT_NE(r.flags & kPhaseTorqueClipped, 0u);
  }
  for (const auto& r : known.sets[0].flexion.repetitions) {
    EXPECT_EQ(r.flags & kPhaseTorqueClipped, 0u);  // 100 N·m never reaches −300
  }
  bool warned = false;
  for (const auto& w : known.sets[0].warnings) {
    warned = warned || w.find("peak torque is a lower bound") != std::string::npos;
  }
  EXPECT_TRUE(warned);
}

// Issue 19 item 2: the torque–angle curve was sized (max − min angle) / 1°, so one damaged
// angle made the analysis allocate without bound (1e308: length_error; a serial count of 2^31 −
// 1 on a 0.363 °/count board, 7.8e8°: gigabytes). Such a phase gets no curve and a flag, is
// never best or summed, and the set says so; the other phases are as before.
TEST(BadInput, OneHugeAngleCostsNoCurveAndIsFlagged) {
  const auto clean = analyze_set(three_repetitions(1000.0).set(60, 60), {}, 0.0, 1000.0);
  ASSERT_FALSE(clean.extension.repetitions.at(0).torque_curve.empty());
  for (const double huge : {1e308, 0.363 * 2147483647.0 - 99.3, -1e308}) {
    auto s = three_repetitions(1000.0);
    s.signals().angle[at(s.signals(), 0.5 + 3.2 + 0.8)] = huge;  // middle of extension 2
    const auto a = analyze_set(s.set(60, 60), {}, 0.0, 1000.0);
    ASSERT_EQ(a.extension.repetitions.size(), 3U) << huge;
    const auto& bad = a.extension.repetitions[1];
    EXPECT_NE(bad.flags & kPhaseAngleOutOfRange, 0U) << huge;
    EXPECT_TRUE(bad.torque_curve.empty()) << huge;
    EXPECT_TRUE(has_warning(a, "extension 2: its angle spans more than 360")) << huge;
    EXPECT_NE(a.extension.best_repetition, 1) << huge;
    EXPECT_EQ(a.extension.repetitions[0].flags, kPhaseOk) << huge;
    EXPECT_EQ(a.extension.repetitions[0].torque_curve, clean.extension.repetitions[0].torque_curve)
        << huge;
    EXPECT_NEAR(a.extension.peak_torque, 200.0, 0.2) << huge;
    EXPECT_NEAR(a.extension.total_work, 400.0, 0.4) << huge;  // the two usable repetitions
  }
}

}  // namespace
