#include "result_csv.h"

#include "isokin/analysis/gravity_correction.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace isokin::cli {
namespace {

// Empty cell for "not available" so spreadsheets do not read NaN as text.
std::string num(double v) {
  return std::isfinite(v) ? fmt::format("{:.10g}", v) : std::string();
}

std::ofstream open_csv(const std::filesystem::path& path) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error(path.string() + ": cannot open for writing");
  return out;
}

}  // namespace

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::vector<CsvRecord> read_csv_records(const std::filesystem::path& path, CsvSeparator separator) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Spreadsheet programs start UTF-8 CSV with a byte-order mark.
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
  char comma = ',';
  if (separator == CsvSeparator::kCommaOrSemicolon) {
    // Where the decimal mark is a comma, spreadsheets separate fields with ';'.
    const std::string first_line = text.substr(0, text.find('\n'));
    if (first_line.find(',') == std::string::npos && first_line.find(';') != std::string::npos) {
      comma = ';';
    }
  }
  std::vector<CsvRecord> records;
  CsvRecord record{1, {}};
  std::string field;
  std::size_t line = 1;
  bool quoted = false;
  bool any = false;  // the record has begun
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == comma) {
      record.fields.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n') {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      if (any || !field.empty()) {
        record.fields.push_back(std::move(field));
        records.push_back(std::move(record));
      }
      field.clear();
      record = CsvRecord{++line, {}};
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) {
    throw std::runtime_error(
        fmt::format("{}:{}: a quoted field is not closed", path.string(), record.line));
  }
  // A last record without a line end is kept: tables written by other tools may end so.
  if (any || !field.empty()) {
    record.fields.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  return records;
}

std::string exact_number(double value) {
  return std::isfinite(value) ? fmt::format("{}", value) : std::string();
}

void write_results_csv(const acquisition::Session& /*session*/,
                       const analysis::SessionAnalysis& analysis,
                       const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  auto reps = open_csv(dir / "repetitions.csv");
  reps << "set,side,velocity_deg_s,movement,repetition,muscle_group,contraction,start_time_s,"
          "end_time_s,peak_torque_nm,angle_at_peak_deg,time_to_peak_s,work_j,"
          "range_of_motion_deg,mean_power_w,isokinetic_peak_torque_nm,isokinetic_work_j,"
          "acceleration_time_s,deceleration_time_s,overshoot_time_s,gravity_moment_nm,flags,"
          "plateau_torque_nm,role,role_reason\n";
  auto sets = open_csv(dir / "sets.csv");
  sets << "set,side,velocity_deg_s,movement,muscle_group,contraction,repetitions,"
          "best_repetition,peak_torque_nm,peak_torque_per_body_mass_nm_kg,angle_at_peak_deg,"
          "total_work_j,mean_power_w,coefficient_of_variation_percent,work_fatigue_percent,"
          "endurance_ratio,thorstensson_index_percent,peak_torque_slope_nm_per_repetition,"
          "hq_conventional,gravity_mode,limb_moment_nm,hold_angle_deg,counted_repetitions,"
          "peak_basis,full_range_peak_torque_nm\n";
  for (const auto& s : analysis.sets) {
    for (const auto* m : {&s.extension, &s.flexion}) {
      for (const auto& r : m->repetitions) {
        fmt::print(
            reps, "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            s.set_index, drivers::to_string(s.side), num(s.velocity),
            drivers::to_string(r.movement), r.repetition + 1,
            analysis::muscle_group_name(s.joint, r.muscle), drivers::to_string(r.contraction),
            num(r.start_time), num(r.end_time), num(r.peak_torque), num(r.angle_at_peak),
            num(r.time_to_peak), num(r.work), num(r.range_of_motion), num(r.mean_power),
            num(r.isokinetic.peak_torque), num(r.isokinetic.work),
            num(r.isokinetic.acceleration_time), num(r.isokinetic.deceleration_time),
            num(r.isokinetic.overshoot_time), num(r.gravity_moment), r.flags, num(r.plateau_torque),
            analysis::to_string(r.role), csv_field(r.role_reason));
      }
      const bool any = m->best_repetition >= 0;
      fmt::print(
          sets, "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
          s.set_index, drivers::to_string(s.side), num(s.velocity), drivers::to_string(m->movement),
          m->muscle_group, drivers::to_string(m->contraction), m->repetitions.size(),
          any ? std::to_string(m->best_repetition + 1) : std::string(),
          any ? num(m->peak_torque) : std::string(),
          m->peak_torque_per_body_mass > 0.0 ? num(m->peak_torque_per_body_mass) : "",
          any ? num(m->angle_at_peak) : std::string(), num(m->total_work), num(m->mean_power),
          num(m->coefficient_of_variation), num(m->fatigue.work_fatigue),
          num(m->fatigue.endurance_ratio), num(m->fatigue.thorstensson_index),
          num(m->fatigue.peak_torque_slope),
          std::isfinite(s.hq_ratio) ? num(s.hq_ratio) : std::string(),
          analysis::to_string(s.gravity.mode), num(s.gravity.limb_moment), num(s.hold_angle),
          m->counted_repetitions, any ? (m->peak_at_set_speed ? "isokinetic" : "full-range") : "",
          any ? num(m->full_range_peak_torque) : std::string());
    }
  }
  auto ratios = open_csv(dir / "ratios.csv");
  ratios << "kind,side,velocity_deg_s,numerator,denominator,value,hold_angle_deg\n";
  for (const auto& r : analysis.ratios) {
    fmt::print(ratios, "{},{},{},{},{},{},{}\n", r.kind, drivers::to_string(r.side),
               num(r.velocity), r.numerator, r.denominator, num(r.value), num(r.hold_angle));
  }
  for (auto* f : {&reps, &sets, &ratios}) {
    f->flush();
    if (!*f) throw std::runtime_error(dir.string() + ": writing the CSV files failed");
  }
}

}  // namespace isokin::cli
