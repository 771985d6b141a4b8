#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "commands.h"
#include "isokin/analysis/gravity_correction.h"
#include "subject_options.h"

namespace isokin::cli {
namespace {

// Imported recordings may not know the set velocity (stored as 0).
std::string speed_label(double velocity) {
  return velocity > 0.0 ? fmt::format("{:g} °/s", velocity) : std::string("speed ?");
}
// A speed, or the hold angle of isometric efforts.
std::string condition_label(double velocity, double hold_angle) {
  return std::isfinite(hold_angle) ? fmt::format("iso {:g}°", hold_angle) : speed_label(velocity);
}
bool same_condition(const analysis::SetAnalysis& a, const analysis::SetAnalysis& b) {
  const bool a_iso = std::isfinite(a.hold_angle);
  return a.velocity == b.velocity && a_iso == std::isfinite(b.hold_angle) &&
         (!a_iso || a.hold_angle == b.hold_angle);
}

using analysis::MovementSummary;
using analysis::SetAnalysis;
using drivers::Side;

constexpr int kLabelWidth = 32;
constexpr int kCellWidth = 10;

// Column order: by speed, right before left; a redone set replaces the earlier one.
std::vector<const SetAnalysis*> columns(const analysis::SessionAnalysis& a) {
  std::vector<const SetAnalysis*> cols;
  for (const auto& s : a.sets) {
    auto same = std::find_if(cols.begin(), cols.end(), [&](const SetAnalysis* c) {
      return same_condition(*c, s) && c->side == s.side && c->mode == s.mode;
    });
    if (same != cols.end()) {
      *same = &s;
    } else {
      cols.push_back(&s);
    }
  }
  std::stable_sort(cols.begin(), cols.end(), [](const SetAnalysis* x, const SetAnalysis* y) {
    // Moving sets by speed, then isometric ones by angle.
    const bool x_iso = std::isfinite(x->hold_angle);
    if (x_iso != std::isfinite(y->hold_angle)) return !x_iso;
    if (x_iso && x->hold_angle != y->hold_angle) return x->hold_angle < y->hold_angle;
    if (x->velocity != y->velocity) return x->velocity < y->velocity;
    return x->side == Side::kRight && y->side == Side::kLeft;
  });
  return cols;
}

std::string cell(double value, const char* format, bool present) {
  if (!present) return "-";
  std::string text = fmt::format(fmt::runtime(format), value);
  // "-0.0" shows a sign the rounded value does not have.
  if (text.front() == '-' && text.find_first_not_of("0.", 1) == std::string::npos) text.erase(0, 1);
  return text;
}

std::vector<std::string> flag_names(std::uint32_t flags) {
  std::vector<std::string> names;
  const std::pair<std::uint32_t, const char*> known[] = {
      {analysis::kPhaseNonFinite, "non_finite"},
      {analysis::kPhaseTorqueClipped, "torque_clipped"},
      {analysis::kPhaseGap, "gap"},
      {analysis::kPhaseNoIsokinetic, "no_isokinetic"},
      {analysis::kPhaseFlatTorque, "flat_torque"},
      {analysis::kPhaseTruncated, "truncated"},
      {analysis::kPhasePeakOutsideIsokinetic, "peak_outside_isokinetic"},
      {analysis::kPhaseAngleOutOfRange, "angle_out_of_range"}};
  for (const auto& [bit, name] : known) {
    if ((flags & bit) != 0) names.emplace_back(name);
  }
  return names;
}

nlohmann::ordered_json isokinetic_json(const analysis::IsokineticResult& k) {
  return {{"reached", k.reached},
          {"target_velocity_deg_s", k.target_velocity},
          {"start_time_s", k.start_time},
          {"end_time_s", k.end_time},
          {"acceleration_time_s", k.acceleration_time},
          {"deceleration_time_s", k.deceleration_time},
          {"overshoot_time_s", k.overshoot_time},
          {"max_velocity_deg_s", k.max_velocity},
          {"peak_torque_nm", k.peak_torque},
          {"angle_at_peak_deg", k.angle_at_peak},
          {"time_to_peak_s", k.time_to_peak},
          {"work_j", k.work},
          {"mean_power_w", k.mean_power},
          {"range_of_motion_deg", k.range_of_motion}};
}

nlohmann::ordered_json phase_json(const analysis::PhaseResult& r,
                                  const analysis::AnalysisSettings& settings,
                                  drivers::Joint joint) {
  nlohmann::ordered_json at_angles = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < r.torque_at_angles.size() && i < settings.torque_angles.size(); ++i) {
    at_angles.push_back(
        {{"angle_deg", settings.torque_angles[i]}, {"torque_nm", r.torque_at_angles[i]}});
  }
  nlohmann::ordered_json out = {{"repetition", r.repetition + 1},
                                {"role", analysis::to_string(r.role)},
                                {"role_reason", r.role_reason},
                                {"device_marked", r.device_marked},
                                {"start_time_s", r.start_time},
                                {"end_time_s", r.end_time},
                                {"peak_torque_nm", r.peak_torque},
                                {"angle_at_peak_deg", r.angle_at_peak},
                                {"time_to_peak_s", r.time_to_peak},
                                {"work_j", r.work},
                                {"range_of_motion_deg", r.range_of_motion},
                                {"mean_power_w", r.mean_power},
                                {"muscle_group", analysis::muscle_group_name(joint, r.muscle)},
                                {"contraction", drivers::to_string(r.contraction)},
                                {"torque_at_angles", at_angles},
                                {"isokinetic", isokinetic_json(r.isokinetic)},
                                {"gravity_moment_nm", r.gravity_moment},
                                {"torque_curve",
                                 {{"start_angle_deg", r.curve_start_angle},
                                  {"step_deg", settings.angle_curve_step},
                                  {"torque_nm", r.torque_curve}}},
                                {"flags", flag_names(r.flags)}};
  if (r.contraction == drivers::Contraction::kIsometric)
    out["plateau_torque_nm"] = r.plateau_torque;
  return out;
}

nlohmann::ordered_json movement_json(const MovementSummary& m,
                                     const analysis::AnalysisSettings& settings,
                                     drivers::Joint joint) {
  nlohmann::ordered_json reps = nlohmann::ordered_json::array();
  for (const auto& r : m.repetitions) reps.push_back(phase_json(r, settings, joint));
  nlohmann::ordered_json j = {
      {"movement", drivers::to_string(m.movement)},       {"muscle_group", m.muscle_group},
      {"contraction", drivers::to_string(m.contraction)}, {"repetitions", reps},
      {"counted_repetitions", m.counted_repetitions},     {"total_work_j", m.total_work}};
  if (m.best_repetition >= 0) {
    j["best_repetition"] = m.best_repetition + 1;
    j["peak_basis"] = m.peak_at_set_speed ? "isokinetic" : "full-range";
    j["peak_torque_nm"] = m.peak_torque;
    j["angle_at_peak_deg"] = m.angle_at_peak;
    j["full_range_peak_torque_nm"] = m.full_range_peak_torque;
    j["full_range_angle_at_peak_deg"] = m.full_range_angle_at_peak;
    if (m.peak_torque_per_body_mass > 0.0) {
      j["peak_torque_per_body_mass_nm_kg"] = m.peak_torque_per_body_mass;
    }
  }
  j["mean_peak_torque_nm"] = m.mean_peak_torque;
  j["coefficient_of_variation_percent"] = m.coefficient_of_variation;
  j["mean_power_w"] = m.mean_power;
  j["isokinetic_peak_torque_nm"] = m.isokinetic_peak_torque;
  j["fatigue"] = {
      {"work_fatigue_percent", m.fatigue.work_fatigue},
      {"endurance_ratio", m.fatigue.endurance_ratio},
      {"thorstensson_index_percent", m.fatigue.thorstensson_index},
      {"peak_torque_slope_nm_per_repetition", m.fatigue.peak_torque_slope},
      {"peak_torque_slope_percent_per_repetition", m.fatigue.peak_torque_slope_percent}};
  return j;
}

// "quads ecc", "hams con", "ext iso": a muscle group and contraction in a table cell.
std::string effort_label(const MovementSummary& m) {
  std::string group = m.muscle_group;
  if (group == "quadriceps") group = "quads";
  if (group == "hamstrings") group = "hams";
  if (group.starts_with("trunk ")) group = group.substr(6, 4);
  return group + " " + std::string(drivers::to_string(m.contraction)).substr(0, 3);
}

std::string_view gravity_mode_name(analysis::GravityMode mode) {
  return analysis::to_string(mode);
}

}  // namespace

void print_result_table(const acquisition::Session& session,
                        const analysis::SessionAnalysis& analysis, std::ostream& out) {
  const auto cols = columns(analysis);
  fmt::print(
      out, "Subject {}{}; {} sets; peak torque of the best repetition{}\n", session.info.subject.id,
      session.info.subject.body_mass_kg > 0.0
          ? fmt::format(" ({:.1f} kg)", session.info.subject.body_mass_kg)
          : std::string(),
      session.sets.size(),
      analysis.settings.peak_basis == analysis::PeakBasis::kIsokinetic ? " (at the set speed)"
                                                                       : " (full range)");

  std::string header = fmt::format("{:<{}}", "", kLabelWidth);
  std::string subheader = fmt::format("{:<{}}", "", kLabelWidth);
  for (const auto* c : cols) {
    header += fmt::format("{:>{}}", condition_label(c->velocity, c->hold_angle), kCellWidth);
    subheader += fmt::format("{:>{}}", drivers::to_string(c->side), kCellWidth);
  }
  // Midline joints (trunk) have no side to show.
  const bool sided = std::any_of(cols.begin(), cols.end(),
                                 [](const SetAnalysis* c) { return c->side != Side::kNone; });
  fmt::print(out, "{}\n", header);
  if (sided) fmt::print(out, "{}\n", subheader);
  // A third header line when sets of different contraction modes share a speed and side.
  const bool mixed_modes = std::any_of(cols.begin(), cols.end(), [&](const SetAnalysis* c) {
    return c->mode != cols.front()->mode;
  });
  if (mixed_modes) {
    std::string modes = fmt::format("{:<{}}", "", kLabelWidth);
    for (const auto* c : cols) {
      std::string m(drivers::to_string(c->mode));
      for (const auto& [word, abbreviation] :
           {std::pair{"concentric", "con"}, std::pair{"eccentric", "ecc"}}) {
        for (auto at = m.find(word); at != std::string::npos; at = m.find(word)) {
          m.replace(at, std::string_view(word).size(), abbreviation);
        }
      }
      modes += fmt::format("{:>{}}", m, kCellWidth);
    }
    fmt::print(out, "{}\n", modes);
  }
  auto row = [&](const std::string& label, auto value_of, const char* format, auto has_value) {
    std::string line = fmt::format("{:<{}}", label, kLabelWidth);
    for (const auto* c : cols) {
      line += fmt::format("{:>{}}", cell(value_of(*c), format, has_value(*c)), kCellWidth);
    }
    fmt::print(out, "{}\n", line);
  };
  // Rows are named after the muscle group when every column agrees it worked concentrically
  // or isometrically (e.g. "Quadriceps"); otherwise after the movement, and the JSON says who
  // worked how.
  const auto label = [&](bool extension, const char* unit) {
    std::string name;
    for (const auto* c : cols) {
      const auto& m = extension ? c->extension : c->flexion;
      if (m.best_repetition < 0) continue;
      const std::string group = m.contraction != drivers::Contraction::kEccentric
                                    ? m.muscle_group
                                    : std::string(drivers::to_string(m.movement));
      if (name.empty()) name = group;
      if (name != group) name = std::string(drivers::to_string(m.movement));
    }
    if (name.empty()) name = extension ? "extension" : "flexion";
    name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    return name + " " + unit;
  };
  // Where a row is named after the movement, a header line names who worked how in each column.
  for (const bool extension : {true, false}) {
    const std::string name = label(extension, "");
    if (name != (extension ? "Extension " : "Flexion ")) continue;
    std::string line = fmt::format("{:<{}}", name + "(who, how)", kLabelWidth);
    for (const auto* c : cols) {
      const auto& m = extension ? c->extension : c->flexion;
      line += fmt::format("{:>{}}", m.best_repetition < 0 ? std::string("-") : effort_label(m),
                          kCellWidth);
    }
    fmt::print(out, "{}\n", line);
  }
  const auto has_ext = [](const SetAnalysis& s) { return s.extension.best_repetition >= 0; };
  const auto has_flex = [](const SetAnalysis& s) { return s.flexion.best_repetition >= 0; };
  const auto has_both = [&](const SetAnalysis& s) {
    return has_ext(s) && has_flex(s) && std::isfinite(s.hq_ratio);
  };
  row(
      label(true, "N·m"), [](const SetAnalysis& s) { return s.extension.peak_torque; }, "{:.1f}",
      has_ext);
  row(
      label(false, "N·m"), [](const SetAnalysis& s) { return s.flexion.peak_torque; }, "{:.1f}",
      has_flex);
  row(
      label(true, "angle °"), [](const SetAnalysis& s) { return s.extension.angle_at_peak; },
      "{:.0f}", has_ext);
  row(
      label(false, "angle °"), [](const SetAnalysis& s) { return s.flexion.angle_at_peak; },
      "{:.0f}", has_flex);
  const bool knee = std::any_of(cols.begin(), cols.end(), [](const SetAnalysis* c) {
    return c->joint == drivers::Joint::kKnee;
  });
  const auto isometric = [](const SetAnalysis* c) { return std::isfinite(c->hold_angle); };
  const bool all_isometric = std::all_of(cols.begin(), cols.end(), isometric);
  const bool any_isometric = std::any_of(cols.begin(), cols.end(), isometric);
  const char* ratio_kind = all_isometric   ? "(isometric)"
                           : any_isometric ? "(conv./isom.)"
                                           : "(conv.)";
  row(
      fmt::format("{} {}", knee ? "H:Q" : "Flexor/extensor", ratio_kind),
      [](const SetAnalysis& s) { return s.hq_ratio; }, "{:.2f}", has_both);
  row(
      label(true, "work J"), [](const SetAnalysis& s) { return s.extension.total_work; }, "{:.0f}",
      has_ext);
  row(
      label(false, "work J"), [](const SetAnalysis& s) { return s.flexion.total_work; }, "{:.0f}",
      has_flex);
  const auto finite = [](double v) { return std::isfinite(v); };
  row(
      label(true, "CV %"),
      [](const SetAnalysis& s) { return s.extension.coefficient_of_variation; }, "{:.1f}",
      [&](const SetAnalysis& s) { return finite(s.extension.coefficient_of_variation); });
  // The peak on the other basis (docs/analysis.md §7): fast flexions often peak in the
  // acceleration, where the two differ most.
  const bool at_set_speed = analysis.settings.peak_basis == analysis::PeakBasis::kIsokinetic;
  for (const bool extension : {true, false}) {
    const auto other = [extension, at_set_speed](const SetAnalysis& s) {
      const auto& m = extension ? s.extension : s.flexion;
      return at_set_speed ? m.full_range_peak_torque : m.isokinetic_peak_torque;
    };
    const auto has = [extension, other](const SetAnalysis& s) {
      return (extension ? s.extension : s.flexion).best_repetition >= 0 && std::isfinite(other(s));
    };
    row(label(extension, at_set_speed ? "full-range N·m" : "isokinetic N·m"), other, "{:.1f}", has);
  }
  row(
      label(true, "work fatigue %"),
      [](const SetAnalysis& s) { return s.extension.fatigue.work_fatigue; }, "{:.1f}",
      [&](const SetAnalysis& s) { return finite(s.extension.fatigue.work_fatigue); });
  std::string gravity = fmt::format("{:<{}}", "Gravity N·m", kLabelWidth);
  for (const auto* c : cols) {
    gravity += fmt::format("{:>{}}",
                           c->gravity.mode == analysis::GravityMode::kOff
                               ? std::string("off")
                               : fmt::format("{:.1f}", c->gravity.limb_moment),
                           kCellWidth);
  }
  fmt::print(out, "{}\n", gravity);

  if (!analysis.ratios.empty()) {
    fmt::print(out, "\nRatios (best repetitions; angle-specific curves in --json)\n");
    for (const auto& r : analysis.ratios) {
      fmt::print(out, "  {:<16} {:<5} {:>8}  {:.2f}  ({} / {})\n", r.kind,
                 drivers::to_string(r.side), condition_label(r.velocity, r.hold_angle), r.value,
                 r.numerator, r.denominator);
    }
  }

  if (!analysis.bilateral.empty()) {
    fmt::print(out, "\nBilateral deficit (weaker side relative to the stronger)\n");
    for (const auto& b : analysis.bilateral) {
      const std::string group =
          b.contraction == drivers::Contraction::kConcentric
              ? b.muscle_group
              : b.muscle_group + " " + std::string(drivers::to_string(b.contraction));
      fmt::print(out, "  {:<11} {:>8}  {:>5.1f} % {:<5}  (right {:.1f}, left {:.1f} N·m)\n", group,
                 condition_label(b.velocity, b.hold_angle), b.deficit_percent,
                 drivers::to_string(b.weaker_side), b.right_peak_torque, b.left_peak_torque);
    }
  }
  if (!analysis.flags.empty()) {
    fmt::print(out, "\nFlags (thresholds in docs/analysis.md; they never change a number)\n");
    for (const auto& f : analysis.flags) fmt::print(out, "  {}  [{}]\n", f.message, f.source);
  }
  for (const auto& t : analysis.gravity_trials) {
    fmt::print(
        out, "gravity trial (set {}, {}): {}\n", t.set_index, drivers::to_string(t.side),
        t.estimate.mode == analysis::GravityMode::kOff
            ? "unusable: " + t.estimate.reason
            : fmt::format("limb moment {:.1f} N·m, used for that side", t.estimate.limb_moment));
  }
  // One line per distinct reason, not one per set: a whole session usually shares it.
  std::vector<std::pair<std::string, std::vector<int>>> gravity_off;
  for (const auto& s : analysis.sets) {
    if (s.gravity.mode != analysis::GravityMode::kOff) continue;
    auto same = std::find_if(gravity_off.begin(), gravity_off.end(),
                             [&](const auto& g) { return g.first == s.gravity.reason; });
    if (same == gravity_off.end())
      same = gravity_off.insert(gravity_off.end(), {s.gravity.reason, {}});
    same->second.push_back(s.set_index);
  }
  for (const auto& [reason, sets] : gravity_off) {
    fmt::print(out, "note: gravity correction off in {}: {}\n",
               sets.size() == analysis.sets.size()
                   ? std::string("all sets")
                   : fmt::format("set(s) {}", fmt::join(sets, ", ")),
               reason);
  }
  for (const auto& s : analysis.sets) {
    for (const auto& w : s.warnings) {
      fmt::print(out, "warning: set {} ({} {}): {}\n", s.set_index, drivers::to_string(s.side),
                 condition_label(s.velocity, s.hold_angle), w);
    }
  }
}

nlohmann::ordered_json results_to_json(const acquisition::Session& session,
                                       const analysis::SessionAnalysis& analysis) {
  const auto& st = analysis.settings;
  nlohmann::ordered_json j;
  j["schema"] = "isokin-results";
  j["schema_version"] = 2;  // 2: headline peak at the set speed, phase roles (results.md)
  // The subject with its descriptive fields (format v4), null when not recorded.
  j["session"] = subject_json(session.info.subject);
  j["session"]["created_utc"] = session.info.created_utc;
  j["session"]["complete"] = session.complete;
  j["settings"] = {
      {"gravity_correction", gravity_mode_name(st.gravity.mode)},
      {"gravity",
       {{"mode", gravity_mode_name(st.gravity.mode)},
        {"limb_moment_nm", st.gravity.limb_moment},
        {"rest_velocity_deg_s", st.gravity.rest_velocity},
        {"minimum_rest_time_s", st.gravity.minimum_rest_time},
        {"follow_device_setting", st.gravity.follow_device_setting}}},
      {"filter",
       {{"type", "butterworth-zero-phase"},
        {"order", st.filter_order},
        {"cutoff_hz", st.filter_cutoff_hz},
        {"margin_periods", st.filter_margin_periods}}},
      {"segmentation",
       {{"source", st.segmentation.source == analysis::SegmentationSource::kDevice     ? "device"
                   : st.segmentation.source == analysis::SegmentationSource::kVelocity ? "velocity"
                                                                                       : "auto"},
        {"velocity_threshold_deg_s", st.segmentation.velocity_threshold},
        {"minimum_range_deg", st.segmentation.minimum_range}}},
      {"isometric",
       {{"baseline_time_s", st.isometric.baseline_time},
        {"onset_torque_nm", st.isometric.onset_torque},
        {"release_torque_nm", st.isometric.release_torque},
        {"minimum_duration_s", st.isometric.minimum_duration},
        {"plateau_time_s", st.isometric.plateau_time}}},
      {"torque_range_nm", std::isfinite(st.torque_range_min)
                              ? nlohmann::ordered_json{st.torque_range_min, st.torque_range_max}
                              : nlohmann::ordered_json()},
      {"isokinetic",
       {{"tolerance_fraction", st.isokinetic.tolerance_fraction},
        {"tolerance_min_deg_s", st.isokinetic.tolerance_min}}},
      {"peak_basis",
       st.peak_basis == analysis::PeakBasis::kIsokinetic ? "isokinetic" : "full-range"},
      {"roles",
       {{"passive_effort_fraction", st.roles.passive_effort_fraction},
        {"limit_to_planned_repetitions", st.roles.limit_to_planned_repetitions}}},
      {"torque_angles_deg", st.torque_angles},
      {"angle_curve_step_deg", st.angle_curve_step},
      {"flag_thresholds",
       {{"conventional_hq_min", st.flags.conventional_hq_min},
        {"functional_hq_min", st.flags.functional_hq_min},
        {"bilateral_deficit_max_percent", st.flags.bilateral_deficit_max},
        {"limb_symmetry_min_percent", st.flags.limb_symmetry_min},
        {"coefficient_of_variation_max_percent", st.flags.coefficient_of_variation_max}}}};
  j["gravity_trials"] = nlohmann::ordered_json::array();
  for (const auto& t : analysis.gravity_trials) {
    j["gravity_trials"].push_back({{"set_index", t.set_index},
                                   {"side", drivers::to_string(t.side)},
                                   {"mode", gravity_mode_name(t.estimate.mode)},
                                   {"limb_moment_nm", t.estimate.limb_moment},
                                   {"samples", t.estimate.rest_samples},
                                   {"reason", t.estimate.reason}});
  }
  j["sets"] = nlohmann::ordered_json::array();
  for (const auto& s : analysis.sets) {
    nlohmann::ordered_json set = {{"set_index", s.set_index},
                                  {"kind", s.kind},
                                  {"side", drivers::to_string(s.side)},
                                  {"joint", drivers::to_string(s.joint)},
                                  {"velocity_deg_s", s.velocity},
                                  {"flexion_velocity_deg_s", s.flexion_velocity},
                                  {"phases_from", s.phases_from},
                                  {"planned_repetitions", s.planned_repetitions},
                                  {"gravity",
                                   {{"mode", gravity_mode_name(s.gravity.mode)},
                                    {"limb_moment_nm", s.gravity.limb_moment},
                                    {"rest_samples", s.gravity.rest_samples},
                                    {"reason", s.gravity.reason}}},
                                  {"extension", movement_json(s.extension, st, s.joint)},
                                  {"flexion", movement_json(s.flexion, st, s.joint)},
                                  {"warnings", s.warnings}};
    if (std::isfinite(s.hold_angle)) set["hold_angle_deg"] = s.hold_angle;
    if (std::isfinite(s.hq_ratio)) {
      set[std::isfinite(s.hold_angle) ? "hq_isometric" : "hq_conventional"] = s.hq_ratio;
    }
    set["hq_by_repetition"] = s.hq_by_repetition;
    set["hq_drift_per_repetition"] = s.hq_drift_slope;
    j["sets"].push_back(set);
  }
  j["bilateral"] = nlohmann::ordered_json::array();
  for (const auto& b : analysis.bilateral) {
    auto& entry = j["bilateral"].emplace_back(
        nlohmann::ordered_json{{"velocity_deg_s", b.velocity},
                               {"muscle_group", b.muscle_group},
                               {"contraction", drivers::to_string(b.contraction)},
                               {"left_peak_torque_nm", b.left_peak_torque},
                               {"right_peak_torque_nm", b.right_peak_torque},
                               {"deficit_percent", b.deficit_percent},
                               {"limb_symmetry_index_percent", b.limb_symmetry_index},
                               {"weaker_side", drivers::to_string(b.weaker_side)}});
    if (std::isfinite(b.hold_angle)) entry["hold_angle_deg"] = b.hold_angle;
  }
  j["ratios"] = nlohmann::ordered_json::array();
  for (const auto& r : analysis.ratios) {
    auto& entry =
        j["ratios"].emplace_back(nlohmann::ordered_json{{"kind", r.kind},
                                                        {"side", drivers::to_string(r.side)},
                                                        {"velocity_deg_s", r.velocity},
                                                        {"numerator", r.numerator},
                                                        {"denominator", r.denominator},
                                                        {"value", r.value},
                                                        {"angle_specific",
                                                         {{"start_angle_deg", r.curve_start_angle},
                                                          {"step_deg", r.curve_step},
                                                          {"ratio", r.curve}}}});
    if (std::isfinite(r.hold_angle)) entry["hold_angle_deg"] = r.hold_angle;
  }
  j["flags"] = nlohmann::ordered_json::array();
  for (const auto& f : analysis.flags) {
    j["flags"].push_back({{"code", f.code},
                          {"message", f.message},
                          {"value", f.value},
                          {"threshold", f.threshold},
                          {"source", f.source}});
  }
  return j;
}

}  // namespace isokin::cli
