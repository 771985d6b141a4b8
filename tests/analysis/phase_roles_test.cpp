// Which movements of a set are the test (docs/analysis.md §16): the device's marks, the plan and
// the signal, on synthetic sets whose answers are derived on paper. Torque τ = P·sin(πθ/90°)
// over a 0–90° movement gives peak P at 45° and work ∫τ dθ = P·(π/2 rad)·(2/π) = P joules.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "analysis/synthetic_signals.h"
#include "isokin/analysis/phase_roles.h"
#include "isokin/analysis/session_analysis.h"

namespace {

using namespace isokin;
using analysis::AnalysisSettings;
using analysis::PhaseRole;
using analysis::SetAnalysis;
using isokin::testing::SyntheticSet;

constexpr double kRate = 500.0;
constexpr double kPi = std::numbers::pi;

SyntheticSet::TorqueOfAngle extensors(double peak) {
  return [peak](double a) { return peak * std::sin(kPi * a / 90.0); };
}
SyntheticSet::TorqueOfAngle flexors(double peak) {
  return [peak](double a) { return -peak * std::sin(kPi * a / 90.0); };
}
SyntheticSet::TorqueOfAngle constant(double torque) {
  return [torque](double) { return torque; };
}

// Marks samples [from, to) as the device's `phase` of repetition `repetition`.
void mark(acquisition::RecordedSet& set, std::size_t from, std::size_t to,
          acquisition::DevicePhase phase, int repetition) {
  auto& segments = set.signals.device_segments;
  segments.resize(set.signals.size());
  for (std::size_t i = from; i < to; ++i) segments[i] = {repetition, phase};
  set.info.device_segmented = true;
}

// A Con-Trex-like recording: a slow positioning move, a flexion effort before the device's
// first repetition (stronger than the test's), three marked repetitions, then an extension at
// 48 °/s that never reaches the set speed but pulls harder than any test repetition, and a slow
// return to the end position with the limb relaxed.
struct MarkedRecording {
  acquisition::RecordedSet set;
  std::vector<double> extension_peaks = {150.0, 140.0, 145.0};
  std::vector<double> flexion_peaks = {90.0, 84.0, 87.0};
};

MarkedRecording marked_recording() {
  MarkedRecording r;
  SyntheticSet s(kRate);
  s.rest(0.5, 60.0, constant(0.0));
  s.move(60.0, 0.0, 15.0, 150.0, constant(1.0));  // positioning, no effort
  s.rest(0.3, 0.0, constant(0.0));
  s.move(0.0, 90.0, 60.0, 600.0, flexors(120.0));  // pre-test flexion
  s.rest(0.2, 90.0, constant(0.0));
  std::vector<std::pair<std::size_t, std::size_t>> marked;
  for (std::size_t k = 0; k < 3; ++k) {
    const std::size_t a = s.signals().size();
    s.move(90.0, 0.0, 60.0, 600.0, extensors(r.extension_peaks[k]));
    const std::size_t b = s.signals().size();
    s.move(0.0, 90.0, 60.0, 600.0, flexors(r.flexion_peaks[k]));
    marked.emplace_back(a, b);
    marked.emplace_back(b, s.signals().size());
  }
  s.rest(0.2, 90.0, constant(0.0));
  s.move(90.0, 0.0, 48.0, 480.0, extensors(170.0));  // after the test
  s.rest(0.3, 0.0, constant(0.0));
  s.move(0.0, 70.0, 20.0, 200.0, constant(-3.0));  // relaxed return
  s.rest(0.5, 70.0, constant(0.0));
  r.set = s.set(60.0, 60.0);
  r.set.info.setpoint.repetitions = 3;
  for (std::size_t i = 0; i < marked.size(); ++i) {
    mark(r.set, marked[i].first, marked[i].second,
         i % 2 == 0 ? acquisition::DevicePhase::kExtension : acquisition::DevicePhase::kFlexion,
         static_cast<int>(i / 2) + 1);
  }
  return r;
}

AnalysisSettings no_gravity() {
  AnalysisSettings s;
  s.gravity.mode = analysis::GravityMode::kOff;
  return s;
}

double coefficient_of_variation(const std::vector<double>& v) {
  double mean = 0.0;
  for (const double x : v) mean += x / static_cast<double>(v.size());
  double ss = 0.0;
  for (const double x : v) ss += (x - mean) * (x - mean);
  return 100.0 * std::sqrt(ss / static_cast<double>(v.size() - 1)) / mean;
}

TEST(PhaseRoles, OnlyTheDevicesMarkedRepetitionsCountAndTheOthersStayListed) {
  const auto r = marked_recording();
  const SetAnalysis a = analysis::analyze_set(r.set, no_gravity(), 0.0, kRate);
  ASSERT_EQ(a.phases_from, "device");
  // Every movement is listed: 2 + 3 extensions... the positioning, three marked, the late one.
  ASSERT_EQ(a.extension.repetitions.size(), 5u);
  ASSERT_EQ(a.flexion.repetitions.size(), 5u);
  const auto& ext = a.extension.repetitions;
  const auto& flex = a.flexion.repetitions;
  EXPECT_EQ(ext[0].role, PhaseRole::kOutside);
  EXPECT_NE(ext[0].role_reason.find("before the device's first repetition"), std::string::npos);
  EXPECT_NE(ext[0].role_reason.find("no effort"), std::string::npos);
  EXPECT_EQ(flex[0].role, PhaseRole::kOutside);
  EXPECT_EQ(flex[0].role_reason, "before the device's first repetition");
  for (std::size_t k = 1; k <= 3; ++k) {
    EXPECT_EQ(ext[k].role, PhaseRole::kTest) << k;
    EXPECT_EQ(flex[k].role, PhaseRole::kTest) << k;
    EXPECT_TRUE(ext[k].device_marked);
  }
  EXPECT_EQ(ext[1].role_reason, "the device's extension 1");
  EXPECT_EQ(ext[4].role, PhaseRole::kOutside);
  EXPECT_EQ(ext[4].role_reason, "after the device's last repetition");
  EXPECT_EQ(flex[4].role, PhaseRole::kOutside);
  EXPECT_NE(flex[4].role_reason.find("after the device's last repetition; no effort"),
            std::string::npos);

  // Set values from the three marked repetitions only (paper values above).
  EXPECT_EQ(a.extension.counted_repetitions, 3);
  EXPECT_NEAR(a.extension.peak_torque, 150.0, 0.15);
  EXPECT_EQ(a.extension.best_repetition, 1);
  EXPECT_NEAR(a.flexion.peak_torque, 90.0, 0.09);
  EXPECT_NEAR(a.hq_ratio, 90.0 / 150.0, 1e-3);
  EXPECT_NEAR(a.extension.total_work, 150.0 + 140.0 + 145.0, 0.5);
  EXPECT_NEAR(a.flexion.total_work, 90.0 + 84.0 + 87.0, 0.3);
  EXPECT_NEAR(a.extension.coefficient_of_variation, coefficient_of_variation(r.extension_peaks),
              0.1);
  ASSERT_EQ(a.hq_by_repetition.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_NEAR(a.hq_by_repetition[k], r.flexion_peaks[k] / r.extension_peaks[k], 1e-3);
  }
  // Each movement that does not count is named in the warnings with its role.
  int listed = 0;
  for (const auto& w : a.warnings) listed += w.find("not counted") != std::string::npos ? 1 : 0;
  EXPECT_EQ(listed, 4);
}

TEST(PhaseRoles, WithoutMarksEffortsPastThePlannedRepetitionsAreOutside) {
  SyntheticSet s(kRate);
  s.rest(0.5, 90.0, constant(0.0));
  for (int k = 0; k < 4; ++k) {
    s.move(90.0, 0.0, 60.0, 600.0, extensors(150.0 - 10.0 * k));
    s.move(0.0, 90.0, 60.0, 600.0, flexors(90.0));
  }
  s.rest(0.5, 90.0, constant(0.0));
  auto set = s.set(60.0, 60.0);
  set.info.setpoint.repetitions = 3;
  const SetAnalysis a = analysis::analyze_set(set, no_gravity(), 0.0, kRate);
  ASSERT_EQ(a.extension.repetitions.size(), 4u);
  EXPECT_EQ(a.extension.counted_repetitions, 3);
  EXPECT_EQ(a.extension.repetitions[3].role, PhaseRole::kOutside);
  EXPECT_EQ(a.extension.repetitions[3].role_reason,
            "past the planned 3 repetitions (extension 4 of the set)");
  EXPECT_NEAR(a.extension.total_work, 150.0 + 140.0 + 130.0, 0.5);
  // Counting every movement on request.
  AnalysisSettings all = no_gravity();
  all.roles.limit_to_planned_repetitions = false;
  EXPECT_EQ(analysis::analyze_set(set, all, 0.0, kRate).extension.counted_repetitions, 4);
}

// A unilateral protocol: concentric extensions, the lever carrying the relaxed leg back (its
// torque is the limb's small weight moment). The returns are passive: no flexor effort, no ratio.
TEST(PhaseRoles, PassiveReturnsAreNeverEffortsAndTheSetHasNoRatio) {
  SyntheticSet s(kRate);
  s.rest(0.5, 90.0, constant(0.0));
  for (int k = 0; k < 3; ++k) {
    s.move(90.0, 0.0, 60.0, 600.0, extensors(150.0));
    s.move(0.0, 90.0, 120.0, 1200.0, [](double a) { return 12.0 * std::cos(a * kPi / 180.0); });
  }
  s.rest(0.5, 90.0, constant(0.0));
  auto set = s.set(60.0, 120.0);
  const SetAnalysis a = analysis::analyze_set(set, no_gravity(), 0.0, kRate);
  ASSERT_EQ(a.flexion.repetitions.size(), 3u);
  for (const auto& r : a.flexion.repetitions) {
    EXPECT_EQ(r.role, PhaseRole::kPassive);
    // Mean torque over the range: 12·∫cos dθ / (π/2) = 12·(2/π) = 7.64 N·m; the strongest
    // movement's is 150·(2/π) = 95.5 N·m.
    EXPECT_NEAR(analysis::mean_effort_torque(r), 24.0 / kPi, 0.05);
    EXPECT_NE(r.role_reason.find("no effort"), std::string::npos) << r.role_reason;
  }
  EXPECT_EQ(a.flexion.best_repetition, -1);
  EXPECT_EQ(a.extension.counted_repetitions, 3);
  EXPECT_TRUE(std::isnan(a.hq_ratio));
  bool says_why = false;
  for (const auto& w : a.warnings) {
    says_why = says_why || w.find("no flexion effort counts, so the set has no ratio") == 0;
  }
  EXPECT_TRUE(says_why);
}

// The best repetition is one that reached the set speed: an extension at 48 °/s of a 60 °/s set
// pulls harder (170 N·m) but is never isokinetic.
TEST(PhaseRoles, TheBestRepetitionReachedTheIsokineticWindow) {
  SyntheticSet s(kRate);
  s.rest(0.5, 90.0, constant(0.0));
  s.move(90.0, 0.0, 60.0, 600.0, extensors(150.0));
  s.move(0.0, 90.0, 60.0, 600.0, flexors(90.0));
  s.move(90.0, 0.0, 48.0, 480.0, extensors(170.0));
  s.move(0.0, 90.0, 60.0, 600.0, flexors(90.0));
  s.rest(0.5, 90.0, constant(0.0));
  const SetAnalysis a = analysis::analyze_set(s.set(60.0, 60.0), no_gravity(), 0.0, kRate);
  ASSERT_EQ(a.extension.counted_repetitions, 2);
  EXPECT_EQ(a.extension.best_repetition, 0);
  EXPECT_TRUE(a.extension.peak_at_set_speed);
  EXPECT_NEAR(a.extension.peak_torque, 150.0, 0.15);
  EXPECT_NEAR(a.extension.full_range_peak_torque, 150.0, 0.15);
  // The full-range basis takes the movement's own top, wherever the speed was.
  AnalysisSettings full = no_gravity();
  full.peak_basis = analysis::PeakBasis::kFullRange;
  const SetAnalysis f = analysis::analyze_set(s.set(60.0, 60.0), full, 0.0, kRate);
  EXPECT_EQ(f.extension.best_repetition, 1);
  EXPECT_NEAR(f.extension.peak_torque, 170.0, 0.17);
}

TEST(PhaseRoles, NamesRoundTrip) {
  for (const auto role : {PhaseRole::kTest, PhaseRole::kWarmUp, PhaseRole::kPassive,
                          PhaseRole::kOutside, PhaseRole::kCutOff}) {
    EXPECT_EQ(analysis::parse_phase_role(analysis::to_string(role)), role);
  }
  EXPECT_FALSE(analysis::parse_phase_role("positioning").has_value());
}

}  // namespace
