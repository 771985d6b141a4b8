// `isokin batch` and `isokin merge`: a cohort's sessions analysed with the same settings on all
// cores into one tidy results table, in a deterministic order so that shards merged equal a
// single run row for row (docs/batch.md).
#include "batch_command.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "cohort_command.h"
#include "isokin/acquisition/new_file.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/analysis/session_analysis.h"
#include "result_csv.h"

namespace isokin::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kHeader =
    "file,subject_id,sex,age_years,sport,dominant_side,injured_side,body_mass_kg,set_index,side,"
    "kind,velocity_deg_s,hold_angle_deg,movement,muscle_group,contraction,parameter,value,unit";
// The last row of each file: says its rows are all there (what --resume trusts).
constexpr std::string_view kDoneParameter = "rows_of_this_file";

// Every session file named or found under a named folder, in one order whatever the machine.
std::vector<std::string> cohort_files(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const auto& input : inputs) {
    std::error_code error;
    if (fs::is_directory(input, error)) {
      for (const auto& entry : fs::recursive_directory_iterator(input)) {
        if (entry.is_regular_file() && entry.path().extension() == ".h5") {
          files.push_back(entry.path().string());
        }
      }
    } else {
      files.push_back(input);
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

// subject_id to body_mass_kg; empty cells for what was not recorded.
std::string subject_fields(const acquisition::SubjectInfo& s) {
  const auto side = [](const std::optional<drivers::Side>& value) {
    return value ? std::string(drivers::to_string(*value)) : std::string();
  };
  return fmt::format("{},{},{},{},{},{},{}", csv_field(s.id), s.sex,
                     s.age_years > 0 ? std::to_string(s.age_years) : std::string(),
                     csv_field(s.sport), side(s.dominant_side), side(s.injured_side),
                     s.body_mass_kg > 0.0 ? exact_number(s.body_mass_kg) : std::string());
}

// The rows of one session: each set's movement summaries, then the session's ratios and
// bilateral comparisons, then the done marker.
std::string rows_of(const std::string& file) {
  const auto session = acquisition::read_untrusted_session(file);
  const auto a = analysis::analyze_session(session);
  std::string rows;
  std::size_t count = 0;
  const std::string subject = subject_fields(session.info.subject);
  const std::string name = csv_field(file);
  const auto row = [&](std::string_view set_part, std::string_view movement_part,
                       std::string_view parameter, double value, std::string_view unit) {
    if (!std::isfinite(value)) return;
    rows += fmt::format("{},{},{},{},{},{},{}\n", name, subject, set_part, movement_part, parameter,
                        exact_number(value), unit);
    ++count;
  };
  for (const auto& s : a.sets) {
    const std::string set_part =
        fmt::format("{},{},{},{},{}", s.set_index, drivers::to_string(s.side), csv_field(s.kind),
                    exact_number(s.velocity), exact_number(s.hold_angle));
    for (const auto* m : {&s.extension, &s.flexion}) {
      if (m->best_repetition < 0) continue;
      const std::string movement_part =
          fmt::format("{},{},{}", drivers::to_string(m->movement), csv_field(m->muscle_group),
                      drivers::to_string(m->contraction));
      row(set_part, movement_part, "peak_torque", m->peak_torque, "N·m");
      if (m->peak_torque_per_body_mass > 0.0) {
        row(set_part, movement_part, "peak_torque_per_body_mass", m->peak_torque_per_body_mass,
            "N·m/kg");
      }
      row(set_part, movement_part, "angle_at_peak", m->angle_at_peak, "deg");
      row(set_part, movement_part, "total_work", m->total_work, "J");
      row(set_part, movement_part, "mean_power", m->mean_power, "W");
      row(set_part, movement_part, "coefficient_of_variation", m->coefficient_of_variation, "%");
      row(set_part, movement_part, "work_fatigue", m->fatigue.work_fatigue, "%");
      row(set_part, movement_part, "repetitions", static_cast<double>(m->repetitions.size()), "1");
    }
  }
  for (const auto& r : a.ratios) {
    const std::string set_part = fmt::format(",{},,{},{}", drivers::to_string(r.side),
                                             exact_number(r.velocity), exact_number(r.hold_angle));
    row(set_part, ",,", r.kind, r.value, "1");
  }
  for (const auto& b : a.bilateral) {
    const std::string set_part = fmt::format(",{},,{},{}", drivers::to_string(b.weaker_side),
                                             exact_number(b.velocity), exact_number(b.hold_angle));
    const std::string movement_part =
        fmt::format(",{},{}", csv_field(b.muscle_group), drivers::to_string(b.contraction));
    row(set_part, movement_part, "bilateral_deficit_weaker_side", b.deficit_percent, "%");
  }
  rows += fmt::format("{},{},,,,,,,,,{},{},1\n", name, subject, kDoneParameter, count);
  return rows;
}

// The first field of a CSV line (the file column), unquoted.
std::string first_field(const std::string& line) {
  if (line.empty() || line[0] != '"') return line.substr(0, line.find(','));
  std::string field;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '"') {
      if (i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else {
        break;
      }
    } else {
      field += line[i];
    }
  }
  return field;
}

// A results table as (file → its rows) for the files whose done marker is there; rows of a file
// cut off by an interrupted run are left out, so that file is done again.
std::map<std::string, std::string> read_results(const fs::path& path, bool* header_ok) {
  std::ifstream in(path);
  std::string line;
  std::map<std::string, std::string> done;
  std::map<std::string, std::string> pending;
  *header_ok = static_cast<bool>(std::getline(in, line)) && line == kHeader;
  if (!*header_ok) return done;
  const std::string marker = fmt::format(",{},", kDoneParameter);
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: a line cut off mid-write
    const std::string file = first_field(line);
    pending[file] += line + "\n";
    if (line.find(marker) != std::string::npos) {
      done[file] = std::move(pending[file]);
      pending.erase(file);
    }
  }
  return done;
}

std::pair<std::size_t, std::size_t> parse_shard(const std::string& shard) {
  const auto slash = shard.find('/');
  std::size_t index = 0;
  std::size_t count = 0;
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    index = std::stoul(shard.substr(0, slash));
    count = std::stoul(shard.substr(slash + 1));
  } catch (const std::exception&) {
    count = 0;
  }
  if (count == 0 || index == 0 || index > count) {
    throw std::runtime_error("batch: --shard must be i/n with 1 <= i <= n, got '" + shard + "'");
  }
  return {index, count};
}

}  // namespace

int run_batch(const BatchOptions& o, std::ostream& out) {
  std::vector<std::string> files = cohort_files(o.inputs);
  if (!o.shard.empty()) {
    const auto [index, count] = parse_shard(o.shard);
    std::vector<std::string> mine;
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (i % count == index - 1) mine.push_back(files[i]);
    }
    files = std::move(mine);
  }
  if (!o.summary.empty()) {
    // Said before any analysis, not after it.
    if (!o.shard.empty()) {
      throw std::runtime_error(
          "batch: --summary of a shard would describe part of the cohort; merge the shards, then "
          "`isokin cohort`");
    }
    (void)cohort_group_keys(o.by);
    if (fs::exists(o.summary) && !o.resume) {
      throw std::runtime_error(fmt::format(
          "batch: {} exists; give a new name (or --resume, which renews it)", o.summary.string()));
    }
  } else if (!o.by.empty()) {
    throw std::runtime_error("batch: --by groups the --summary; give --summary FILE too");
  }
  std::map<std::string, std::string> done;
  if (o.resume && fs::exists(o.out)) {
    bool header_ok = false;
    done = read_results(o.out, &header_ok);
    if (!header_ok) {
      throw std::runtime_error(
          fmt::format("batch: {} is not an isokin batch table; not resuming it", o.out.string()));
    }
  } else if (fs::exists(o.out)) {
    throw std::runtime_error(fmt::format(
        "batch: {} exists; use --resume to continue it, or another name", o.out.string()));
  }
  const std::size_t jobs = o.jobs > 0
                               ? static_cast<std::size_t>(o.jobs)
                               : std::max<std::size_t>(1, std::thread::hardware_concurrency());

  // Rewrite what was done (dropping any cut-off file), then append in file order.
  acquisition::PendingFile partial(o.out);
  std::ofstream table(partial.path(), std::ios::binary | std::ios::trunc);
  if (!table) throw std::runtime_error("batch: cannot write " + partial.path().string());
  table << kHeader << '\n';
  std::vector<std::string> todo;
  for (const auto& f : files) {
    if (const auto it = done.find(f); it != done.end()) {
      table << it->second;
    } else {
      todo.push_back(f);
    }
  }
  table.flush();
  if (!table) throw std::runtime_error("batch: writing " + partial.path().string() + " failed");
  table.close();
  // The resumed table is whole before new work starts; only --resume replaces the table.
  partial.commit(o.resume ? acquisition::PendingFile::Existing::kReplace
                          : acquisition::PendingFile::Existing::kRefuse);

  std::vector<std::optional<std::string>> rows(todo.size());
  std::vector<std::string> errors(todo.size());
  std::mutex mutex;
  std::condition_variable ready;
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> workers;
  for (std::size_t w = 0; w < std::min(jobs, std::max<std::size_t>(todo.size(), 1)); ++w) {
    workers.emplace_back([&] {
      for (std::size_t i = next++; i < todo.size(); i = next++) {
        std::string result;
        std::string error;
        try {
          result = rows_of(todo[i]);
        } catch (const std::exception& e) {
          error = e.what();  // reported below, in order; the run goes on
        }
        const std::lock_guard lock(mutex);
        rows[i] = std::move(result);
        errors[i] = std::move(error);
        ready.notify_all();
      }
    });
  }
  std::ofstream append(o.out, std::ios::binary | std::ios::app);
  std::size_t failed = 0;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    std::unique_lock lock(mutex);
    ready.wait(lock, [&] { return rows[i].has_value(); });
    const std::string text = std::move(*rows[i]);
    const std::string error = errors[i];
    lock.unlock();
    if (!error.empty()) {
      ++failed;
      fmt::print(std::cerr, "\nisokin batch: skipped {}\n", error);
    } else {
      append << text;
      append.flush();  // a file's rows reach the disk before the next file's
    }
    fmt::print(std::cerr, "\r[{}/{}] {}", done.size() + i + 1, files.size(), todo[i]);
  }
  for (auto& t : workers) t.join();
  if (!todo.empty()) std::cerr << '\n';
  if (!append) throw std::runtime_error("batch: writing " + o.out.string() + " failed");
  fmt::print(out, "{} session(s): {} analysed, {} already done, {} skipped (errors above) -> {}\n",
             files.size(), todo.size() - failed, done.size(), failed, o.out.string());
  if (!o.summary.empty()) {
    // The summary describes the table as it now is: a resumed run renews it.
    if (o.resume) fs::remove(o.summary);
    run_cohort({o.out, o.by, o.summary}, out);
  }
  return failed == 0 ? 0 : 3;
}

int run_merge(const MergeOptions& o, std::ostream& out) {
  if (fs::exists(o.out)) {
    throw std::runtime_error(fmt::format("merge: {} exists; give a new name", o.out.string()));
  }
  std::map<std::string, std::string> all;  // file → rows; std::map keeps the batch's order
  for (const auto& part : o.parts) {
    bool header_ok = false;
    auto rows = read_results(part, &header_ok);
    if (!header_ok) {
      throw std::runtime_error(fmt::format("merge: {} is not an isokin batch table", part));
    }
    for (auto& [file, text] : rows) {
      if (!all.emplace(file, std::move(text)).second) {
        throw std::runtime_error(
            fmt::format("merge: {} is in more than one part (shards overlap)", file));
      }
    }
  }
  acquisition::PendingFile pending(o.out);  // the merged table appears only when whole
  std::ofstream table(pending.path(), std::ios::binary);
  table << kHeader << '\n';
  for (const auto& [file, text] : all) table << text;
  table.flush();
  if (!table) throw std::runtime_error("merge: writing " + o.out.string() + " failed");
  table.close();
  pending.commit();
  fmt::print(out, "{} session(s) from {} part(s) -> {}\n", all.size(), o.parts.size(),
             o.out.string());
  return 0;
}

}  // namespace isokin::cli
