// `isokin cohort`: a batch results table summarised per group (sex, sport, side, …): n, mean,
// SD, min, max and type-7 percentiles of each parameter at each test condition, as a tidy long
// table (docs/batch.md).
#include "cohort_command.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "isokin/acquisition/new_file.h"
#include "isokin/analysis/descriptive_statistics.h"
#include "result_csv.h"

namespace isokin::cli {
namespace {

namespace fs = std::filesystem;

// What a value was measured as: rows with the same measure (and group) are summarised together.
constexpr std::array<std::string_view, 8> kMeasureColumns = {
    "kind",         "velocity_deg_s", "hold_angle_deg", "movement",
    "muscle_group", "contraction",    "parameter",      "unit"};
// Keys --by accepts: columns of the table, and two derived from them.
constexpr std::array<std::string_view, 9> kGroupKeys = {"sex",           "age_years",    "age_band",
                                                        "sport",         "side",         "limb",
                                                        "dominant_side", "injured_side", "kind"};
constexpr std::string_view kDoneParameter = "rows_of_this_file";
constexpr std::string_view kBilateralParameter = "bilateral_deficit_weaker_side";

}  // namespace

std::vector<std::string> cohort_group_keys(const std::string& by) {
  std::vector<std::string> keys;
  std::stringstream stream(by);
  std::string key;
  while (std::getline(stream, key, ',')) {
    if (key.empty()) continue;
    if (std::find(kGroupKeys.begin(), kGroupKeys.end(), key) == kGroupKeys.end()) {
      throw std::runtime_error(
          fmt::format("cohort: --by {}: not one of {}", key, fmt::join(kGroupKeys, ", ")));
    }
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
      throw std::runtime_error(fmt::format("cohort: --by names {} twice", key));
    }
    keys.push_back(key);
  }
  return keys;
}

namespace {

// Decades: "20-29"; empty when the age is not recorded.
std::string age_band(const std::string& age) {
  int years = 0;
  const auto [end, error] = std::from_chars(age.data(), age.data() + age.size(), years);
  if (age.empty() || error != std::errc() || end != age.data() + age.size() || years <= 0) {
    return {};
  }
  const int low = years / 10 * 10;
  return fmt::format("{}-{}", low, low + 9);
}

struct Values {
  std::vector<double> values;
  std::set<std::string> files;  // the subjects' sessions the values come from
};

class Table {
 public:
  Table(fs::path path, std::vector<std::string> header) : path_(std::move(path)) {
    for (std::size_t i = 0; i < header.size(); ++i) columns_.emplace(header[i], i);
  }
  [[nodiscard]] std::size_t column(std::string_view name) const {
    const auto it = columns_.find(std::string(name));
    if (it == columns_.end()) {
      throw std::runtime_error(fmt::format(
          "{}: no column '{}' (is it an `isokin batch` results table?)", path_.string(), name));
    }
    return it->second;
  }

 private:
  fs::path path_;
  std::map<std::string, std::size_t> columns_;
};

}  // namespace

int run_cohort(const CohortOptions& o, std::ostream& out) {
  const std::vector<std::string> keys = cohort_group_keys(o.by);
  if (!o.out.empty() && fs::exists(o.out)) {
    throw std::runtime_error(fmt::format("cohort: {} exists; give a new name", o.out.string()));
  }
  std::vector<CsvRecord> records = read_csv_records(o.results);
  if (records.empty()) throw std::runtime_error(o.results.string() + ": empty, no header");
  const Table table(o.results, records.front().fields);
  const std::size_t file_column = table.column("file");
  const std::size_t parameter_column = table.column("parameter");
  const std::size_t value_column = table.column("value");
  const std::size_t side_column = table.column("side");
  std::array<std::size_t, kMeasureColumns.size()> measure_columns{};
  for (std::size_t i = 0; i < kMeasureColumns.size(); ++i) {
    measure_columns[i] = table.column(kMeasureColumns[i]);
  }
  std::map<std::string, std::size_t> key_columns;
  for (const auto& key : keys) {
    if (key == "age_band") {
      key_columns[key] = table.column("age_years");
    } else if (key == "limb") {
      key_columns["dominant_side"] = table.column("dominant_side");
    } else {
      key_columns[key] = table.column(key);
    }
  }
  const std::size_t width = records.front().fields.size();

  // Groups in sorted order; measures in the order the table first lists them.
  std::vector<std::vector<std::string>> measures;
  std::map<std::vector<std::string>, std::size_t> measure_index;
  std::map<std::vector<std::string>, std::map<std::size_t, Values>> groups;
  std::size_t used = 0;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    if (record.fields.size() != width) {
      throw std::runtime_error(fmt::format("{}:{}: {} fields, the header has {}",
                                           o.results.string(), record.line, record.fields.size(),
                                           width));
    }
    const auto& f = record.fields;
    if (f[parameter_column] == kDoneParameter || f[value_column].empty()) continue;
    const std::string& text = f[value_column];
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
      throw std::runtime_error(fmt::format("{}:{}: column {} (value): '{}' is not a number",
                                           o.results.string(), record.line, value_column + 1,
                                           text));
    }
    // A bilateral deficit compares both sides; its side column names the weaker one.
    const bool bilateral = f[parameter_column] == kBilateralParameter;
    std::vector<std::string> group;
    group.reserve(keys.size());
    for (const auto& key : keys) {
      if (key == "age_band") {
        group.push_back(age_band(f[key_columns.at(key)]));
      } else if (key == "limb") {
        const std::string& dominant = f[key_columns.at("dominant_side")];
        const std::string& side = f[side_column];
        group.push_back(bilateral || dominant.empty() || (side != "left" && side != "right")
                            ? std::string()
                        : side == dominant ? "dominant"
                                           : "non-dominant");
      } else if (key == "side" && bilateral) {
        group.emplace_back();
      } else {
        group.push_back(f[key_columns.at(key)]);
      }
    }
    std::vector<std::string> measure;
    measure.reserve(measure_columns.size());
    for (const std::size_t c : measure_columns) measure.push_back(f[c]);
    const auto [it, added] = measure_index.emplace(measure, measures.size());
    if (added) measures.push_back(std::move(measure));
    Values& values = groups[group][it->second];
    values.values.push_back(value);
    values.files.insert(f[file_column]);
    ++used;
  }

  std::optional<acquisition::PendingFile> pending;  // the summary appears only when whole
  std::ofstream file;
  if (!o.out.empty()) {
    pending.emplace(o.out);
    file.open(pending->path(), std::ios::binary | std::ios::trunc);
    if (!file) throw std::runtime_error("cohort: cannot write " + pending->path().string());
  }
  std::ostream& summary = o.out.empty() ? out : file;
  for (const auto& key : keys) summary << key << ',';
  summary << "kind,velocity_deg_s,hold_angle_deg,movement,muscle_group,contraction,parameter,unit,"
             "statistic,value\n";
  std::size_t rows = 0;
  std::vector<std::string> measure_fields(measures.size());
  for (std::size_t m = 0; m < measures.size(); ++m) {
    for (const auto& field : measures[m]) measure_fields[m] += csv_field(field) + ",";
  }
  std::set<std::string> subjects;
  for (const auto& [group, by_measure] : groups) {
    std::string group_fields;
    for (const auto& g : group) group_fields += csv_field(g) + ",";
    for (const auto& [index, values] : by_measure) {
      subjects.insert(values.files.begin(), values.files.end());
      const std::string prefix = group_fields + measure_fields[index];
      const auto d = analysis::describe_sample(values.values);
      const auto row = [&](std::string_view statistic, double value) {
        if (!std::isfinite(value)) return;  // e.g. the SD of one value: left out, never 0
        summary << prefix << statistic << ',' << exact_number(value) << '\n';
        ++rows;
      };
      row("n", static_cast<double>(d.n));
      row("subjects", static_cast<double>(values.files.size()));
      row("mean", d.mean);
      row("sd", d.sd);
      row("min", d.min);
      for (std::size_t p = 0; p < d.percentiles.size(); ++p) {
        row(fmt::format("p{:g}", analysis::kCohortPercentiles[p]), d.percentiles[p]);
      }
      row("max", d.max);
    }
  }
  if (o.out.empty()) return 0;
  file.flush();
  if (!file) throw std::runtime_error("cohort: writing " + o.out.string() + " failed");
  file.close();
  pending->commit();
  fmt::print(out, "{} values of {} session(s): {} group(s), {} measure(s), {} rows -> {}\n", used,
             subjects.size(), groups.size(), measures.size(), rows, o.out.string());
  return 0;
}

}  // namespace isokin::cli
