#include <fmt/format.h>
#include <fmt/ostream.h>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "commands.h"

namespace isokin::cli {
namespace {

using analysis::MovementSummary;
using analysis::SetAnalysis;
using drivers::Side;

constexpr int kLabelWidth = 16;
constexpr int kCellWidth = 10;

// Column order: by speed, right before left; a redone set replaces the earlier one.
std::vector<const SetAnalysis*> columns(const analysis::SessionAnalysis& a) {
  std::vector<const SetAnalysis*> cols;
  for (const auto& s : a.sets) {
    auto same = std::find_if(cols.begin(), cols.end(), [&](const SetAnalysis* c) {
      return c->velocity == s.velocity && c->side == s.side;
    });
    if (same != cols.end()) {
      *same = &s;
    } else {
      cols.push_back(&s);
    }
  }
  std::stable_sort(cols.begin(), cols.end(), [](const SetAnalysis* x, const SetAnalysis* y) {
    if (x->velocity != y->velocity) return x->velocity < y->velocity;
    return x->side == Side::kRight && y->side == Side::kLeft;
  });
  return cols;
}

std::string cell(double value, const char* format, bool present) {
  return present ? fmt::format(fmt::runtime(format), value) : std::string("-");
}

nlohmann::ordered_json phase_json(const analysis::PhaseResult& r) {
  return {{"repetition", r.repetition + 1},
          {"start_time_s", r.start_time},
          {"end_time_s", r.end_time},
          {"peak_torque_nm", r.peak_torque},
          {"angle_at_peak_deg", r.angle_at_peak},
          {"time_to_peak_s", r.time_to_peak},
          {"work_j", r.work},
          {"range_of_motion_deg", r.range_of_motion},
          {"mean_power_w", r.mean_power}};
}

nlohmann::ordered_json movement_json(const MovementSummary& m) {
  nlohmann::ordered_json reps = nlohmann::ordered_json::array();
  for (const auto& r : m.repetitions) reps.push_back(phase_json(r));
  nlohmann::ordered_json j = {{"movement", drivers::to_string(m.movement)},
                              {"muscle_group", m.muscle_group},
                              {"repetitions", reps},
                              {"total_work_j", m.total_work}};
  if (m.best_repetition >= 0) {
    j["best_repetition"] = m.best_repetition + 1;
    j["peak_torque_nm"] = m.peak_torque;
    j["angle_at_peak_deg"] = m.angle_at_peak;
    if (m.peak_torque_per_body_mass > 0.0) {
      j["peak_torque_per_body_mass_nm_kg"] = m.peak_torque_per_body_mass;
    }
  }
  return j;
}

}  // namespace

void print_result_table(const acquisition::Session& session,
                        const analysis::SessionAnalysis& analysis, std::ostream& out) {
  const auto cols = columns(analysis);
  fmt::print(out, "Subject {}{}; {} sets; concentric peak torque, best repetition\n",
             session.info.subject.id,
             session.info.subject.body_mass_kg > 0.0
                 ? fmt::format(" ({:.1f} kg)", session.info.subject.body_mass_kg)
                 : std::string(),
             session.sets.size());

  std::string header = fmt::format("{:<{}}", "", kLabelWidth);
  std::string subheader = fmt::format("{:<{}}", "", kLabelWidth);
  for (const auto* c : cols) {
    header += fmt::format("{:>{}}", fmt::format("{:g} °/s", c->velocity), kCellWidth);
    subheader += fmt::format("{:>{}}", drivers::to_string(c->side), kCellWidth);
  }
  fmt::print(out, "{}\n{}\n", header, subheader);
  auto row = [&](const std::string& label, auto value_of, const char* format, auto has_value) {
    std::string line = fmt::format("{:<{}}", label, kLabelWidth);
    for (const auto* c : cols) {
      line += fmt::format("{:>{}}", cell(value_of(*c), format, has_value(*c)), kCellWidth);
    }
    fmt::print(out, "{}\n", line);
  };
  const auto has_ext = [](const SetAnalysis& s) { return s.extension.best_repetition >= 0; };
  const auto has_flex = [](const SetAnalysis& s) { return s.flexion.best_repetition >= 0; };
  const auto has_both = [&](const SetAnalysis& s) { return has_ext(s) && has_flex(s); };
  row(
      "Quadriceps N·m", [](const SetAnalysis& s) { return s.extension.peak_torque; }, "{:.1f}",
      has_ext);
  row(
      "Hamstrings N·m", [](const SetAnalysis& s) { return s.flexion.peak_torque; }, "{:.1f}",
      has_flex);
  row(
      "Quad. angle °", [](const SetAnalysis& s) { return s.extension.angle_at_peak; }, "{:.0f}",
      has_ext);
  row(
      "Ham. angle °", [](const SetAnalysis& s) { return s.flexion.angle_at_peak; }, "{:.0f}",
      has_flex);
  row(
      "H:Q (conv.)", [](const SetAnalysis& s) { return s.hq_ratio; }, "{:.2f}", has_both);

  if (!analysis.bilateral.empty()) {
    fmt::print(out, "\nBilateral deficit (weaker side relative to the stronger)\n");
    for (const auto& b : analysis.bilateral) {
      fmt::print(out, "  {:<11} {:>4g} °/s  {:>5.1f} % {:<5}  (right {:.1f}, left {:.1f} N·m)\n",
                 b.muscle_group, b.velocity, b.deficit_percent, drivers::to_string(b.weaker_side),
                 b.right_peak_torque, b.left_peak_torque);
    }
  }
  for (const auto& s : analysis.sets) {
    for (const auto& w : s.warnings) {
      fmt::print(out, "warning: set {} ({} {:g} °/s): {}\n", s.set_index,
                 drivers::to_string(s.side), s.velocity, w);
    }
  }
}

nlohmann::ordered_json results_to_json(const acquisition::Session& session,
                                       const analysis::SessionAnalysis& analysis) {
  nlohmann::ordered_json j;
  j["schema"] = "isokin-results";
  j["schema_version"] = 1;
  j["session"] = {{"subject_id", session.info.subject.id},
                  {"body_mass_kg", session.info.subject.body_mass_kg},
                  {"created_utc", session.info.created_utc},
                  {"complete", session.complete}};
  j["settings"] = {
      {"gravity_correction", "off"},
      {"filter",
       {{"type", "butterworth-zero-phase"},
        {"order", analysis.settings.filter_order},
        {"cutoff_hz", analysis.settings.filter_cutoff_hz}}},
      {"segmentation",
       {{"velocity_threshold_deg_s", analysis.settings.segmentation.velocity_threshold},
        {"minimum_range_deg", analysis.settings.segmentation.minimum_range}}}};
  j["sets"] = nlohmann::ordered_json::array();
  for (const auto& s : analysis.sets) {
    nlohmann::ordered_json set = {{"set_index", s.set_index},
                                  {"side", drivers::to_string(s.side)},
                                  {"velocity_deg_s", s.velocity},
                                  {"extension", movement_json(s.extension)},
                                  {"flexion", movement_json(s.flexion)},
                                  {"warnings", s.warnings}};
    if (s.hq_ratio > 0.0) set["hq_conventional"] = s.hq_ratio;
    j["sets"].push_back(set);
  }
  j["bilateral"] = nlohmann::ordered_json::array();
  for (const auto& b : analysis.bilateral) {
    j["bilateral"].push_back({{"velocity_deg_s", b.velocity},
                              {"muscle_group", b.muscle_group},
                              {"left_peak_torque_nm", b.left_peak_torque},
                              {"right_peak_torque_nm", b.right_peak_torque},
                              {"deficit_percent", b.deficit_percent},
                              {"weaker_side", drivers::to_string(b.weaker_side)}});
  }
  return j;
}

}  // namespace isokin::cli
