// `isokin repair` and `isokin anonymize`: new files made from an existing session, which is
// never modified.
#include "file_commands.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>

#include "export_command.h"
#include "isokin/acquisition/new_file.h"
#include "isokin/acquisition/session_file.h"

namespace isokin::cli {
namespace {

namespace fs = std::filesystem;

// The output must be a new file: refusing to overwrite is what keeps the original safe.
void check_new_output(const fs::path& in, const fs::path& out, std::string_view command) {
  std::error_code error;
  if (fs::exists(out, error)) {
    throw std::runtime_error(
        fmt::format("{}: {} exists; give a new file name (the original {} "
                    "is never modified)",
                    command, out.string(), in.string()));
  }
}

// Writes under a unique temporary name and moves it into place, so an interrupted command
// leaves no half-written OUT and no other file (the input included) is ever touched.
void write_new_session(const fs::path& out, const acquisition::Session& session) {
  acquisition::PendingFile pending(out);
  acquisition::write_session(pending.path(), session);
  pending.commit();
}

int run_repair(const RepairOptions& o, std::ostream& out) {
  check_new_output(o.file, o.out, "repair");
  const acquisition::SalvagedSession salvaged = acquisition::salvage_untrusted_session(o.file);
  acquisition::Session session = salvaged.session;
  std::vector<std::string> notes = salvaged.lost;
  std::size_t interrupted = 0;
  for (auto& set : session.sets) {
    if (set.stats.sample_count == set.signals.size() &&
        set.stats.end_reason.starts_with("not ended")) {
      ++interrupted;
    }
  }
  // Events are re-written in time order; the repaired file is complete as a file (it says
  // what it holds), but keeps the session's own "complete" flag.
  write_new_session(o.out, session);
  std::size_t samples = 0;
  for (const auto& set : session.sets) samples += set.signals.size();
  fmt::print(out, "{}: recovered {} set(s), {} samples, {} event(s) into {}\n", o.file.string(),
             session.sets.size(), samples, session.events.size(), o.out.string());
  if (interrupted > 0) {
    fmt::print(out,
               "  {} set(s) were interrupted mid-set; their samples up to the last flush are "
               "kept and the set is marked not ended\n",
               interrupted);
  }
  if (!session.complete) fmt::print(out, "  the session itself was not finished (incomplete)\n");
  if (notes.empty()) {
    fmt::print(out, "  nothing was unreadable\n");
  } else {
    fmt::print(out, "  lost (unreadable, not copied):\n");
    for (const auto& n : notes) fmt::print(out, "    {}\n", n);
  }
  return notes.empty() ? 0 : 3;
}

int run_anonymize(const AnonymizeOptions& o, std::ostream& out) {
  check_new_output(o.file, o.out, "anonymize");
  acquisition::Session session = acquisition::read_untrusted_session(o.file);
  const std::vector<std::string> removed = anonymize(session, o.subject, o.drop_subject_details);
  write_new_session(o.out, session);
  fmt::print(out, "{}: anonymized copy written to {}\n", o.file.string(), o.out.string());
  for (const auto& r : removed) fmt::print(out, "  removed: {}\n", r);
  return 0;
}

// An import's /protocol/json keeps the vendor header verbatim (patient name, ID, birth date,
// clinician) and the source file's name (often made from the patient's name), once or per set
// in "sources"; the set labels of a multi-file import are those names too. The column mapping,
// scales and signs stay: they say what the signals are. Returns what was removed.
std::vector<std::string> anonymize_provenance(acquisition::Session& session) {
  std::vector<std::string> removed;
  auto& text = session.info.protocol_json;
  if (text.empty()) return removed;
  auto doc = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    // Unreadable: nothing in it can be told harmless, so none of it is copied.
    text.clear();
    removed.emplace_back("protocol JSON (not a readable JSON object)");
    return removed;
  }
  std::size_t headers = 0;
  std::size_t names = 0;
  const auto strip = [&](nlohmann::ordered_json& provenance) {
    if (!provenance.is_object()) return;
    headers += provenance.erase("header_text");
    names += provenance.erase("source");
  };
  strip(doc);
  if (const auto sources = doc.find("sources"); sources != doc.end() && sources->is_array()) {
    for (auto& one : *sources) strip(one);
  }
  if (headers + names == 0) return removed;
  if (headers > 0) removed.push_back(fmt::format("{} imported file header(s)", headers));
  if (names > 0) {
    removed.push_back(fmt::format("{} imported file name(s)", names));
    // A multi-file import labels each set with its file's name.
    if (session.info.device.driver == "import" && session.sets.size() > 1) {
      for (auto& set : session.sets) set.info.label = fmt::format("file {}", set.info.index + 1);
    }
  }
  text = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return removed;
}

// Files written before the stream logged only fixed words kept a client's own text in its
// "stream-error" events ("sent a bad message (unknown message type \"…\")").
std::size_t anonymize_stream_errors(acquisition::Session& session) {
  constexpr std::string_view kBadMessage = " sent a bad message (";
  std::size_t cleaned = 0;
  for (auto& e : session.events) {
    if (e.kind != "stream-error") continue;
    const auto at = e.detail.find(kBadMessage);
    if (at == std::string::npos) continue;
    e.detail = e.detail.substr(0, at) + " sent a bad message: disconnected";
    ++cleaned;
  }
  return cleaned;
}

}  // namespace

std::vector<std::string> anonymize(acquisition::Session& session, const std::string& subject_id,
                                   bool drop_subject_details) {
  std::vector<std::string> removed;
  auto& subject = session.info.subject;
  if (subject.id != subject_id)
    removed.emplace_back("subject id (replaced by '" + subject_id + "')");
  subject.id = subject_id;
  if (!subject.name.empty()) removed.emplace_back("subject name");
  if (!subject.birth_date.empty()) removed.emplace_back("birth date");
  subject.name.clear();
  subject.birth_date.clear();
  // Quasi-identifiers that cohort summaries group by: kept unless asked (docs/security.md).
  if (drop_subject_details) {
    const acquisition::SubjectInfo none;
    if (subject.sex != none.sex || subject.age_years != none.age_years ||
        subject.sport != none.sport || subject.dominant_side != none.dominant_side ||
        subject.injured_side != none.injured_side) {
      removed.emplace_back("sex, age, sport, dominant and injured side");
    }
    subject.sex = none.sex;
    subject.age_years = none.age_years;
    subject.sport = none.sport;
    subject.dominant_side = none.dominant_side;
    subject.injured_side = none.injured_side;
  }
  if (!session.info.device.serial.empty()) removed.emplace_back("device serial number");
  session.info.device.serial.clear();
  // The date stays (ages and follow-up intervals need it); the time of day is dropped.
  if (session.info.created_utc.size() > 10) {
    session.info.created_utc.resize(10);
    removed.emplace_back("time of day of the session");
  }
  std::size_t notes = 0;
  for (auto& e : session.events) {
    // Operator marks are free text typed during the test: they may name anyone.
    if (e.kind == "mark" && !e.detail.empty()) {
      e.detail.clear();
      ++notes;
    }
  }
  if (notes > 0) removed.push_back(fmt::format("{} operator note(s)", notes));
  for (auto& r : anonymize_provenance(session)) removed.push_back(std::move(r));
  if (const std::size_t n = anonymize_stream_errors(session); n > 0) {
    removed.push_back(fmt::format("what {} stream client(s) sent", n));
  }
  return removed;
}

FileCommands::FileCommands(CLI::App& app) {
  repair_cmd_ = app.add_subcommand(
      "repair",
      "Recover what can be read of an interrupted or damaged session into a new file, and say "
      "what was lost (the original is never modified)");
  repair_cmd_->add_option("FILE", repair_.file, "Session file")->required();
  repair_cmd_->add_option("--out", repair_.out, "New session file to write")->required();

  anonymize_cmd_ = app.add_subcommand(
      "anonymize",
      "Write a copy without personal data: new subject id, no name, birth date, device serial, "
      "time of day or operator notes (the original is never modified)");
  anonymize_cmd_->add_option("FILE", anonymize_.file, "Session file")->required();
  anonymize_cmd_->add_option("--out", anonymize_.out, "New session file to write")->required();
  anonymize_cmd_->add_option("--subject", anonymize_.subject, "Subject id of the copy")
      ->capture_default_str();
  anonymize_cmd_->add_flag("--drop-subject-details", anonymize_.drop_subject_details,
                           "Also leave out sex, age, sport and sides (kept by default: cohort "
                           "summaries group by them)");

  export_cmd_ = app.add_subcommand(
      "export",
      "Signals, events and results for R, pandas, MATLAB: csv (a folder of tidy tables), json "
      "(one document) or mat (MATLAB v5)");
  export_cmd_->add_option("FILE", export_.file, "Session file")->required();
  export_cmd_->add_option("--format", export_.format, "csv, json or mat")->required();
  export_cmd_->add_option("--out", export_.out, "Folder (csv) or file (json, mat) to create")
      ->required();
  export_cmd_->add_flag("--anonymize", export_.anonymize,
                        "Leave out personal data, as `isokin anonymize` does");
  export_cmd_->add_option("--subject", export_.subject, "Subject id with --anonymize")
      ->capture_default_str();
  export_cmd_
      ->add_flag("--drop-subject-details", export_.drop_subject_details,
                 "With --anonymize: also leave out sex, age, sport and sides")
      ->needs("--anonymize");

  batch_cmd_ = app.add_subcommand(
      "batch", "Analyse a cohort's sessions on all cores into one tidy results table");
  batch_cmd_->add_option("PATHS", batch_.inputs, "Session files or folders (*.h5 found inside)")
      ->required();
  batch_cmd_->add_option("--out", batch_.out, "Results table (CSV) to write")->required();
  batch_cmd_->add_option("--jobs", batch_.jobs, "Parallel analyses (default: every core)");
  batch_cmd_->add_option("--shard", batch_.shard,
                         "i/n: only every n-th session of the sorted list (cluster job arrays)");
  batch_cmd_->add_flag("--resume", batch_.resume,
                       "Keep the sessions already in --out, do the rest");
  batch_cmd_->add_option("--summary", batch_.summary,
                         "Also write the cohort summary of the table (as `isokin cohort`)");
  batch_cmd_->add_option("--by", batch_.by,
                         "The summary's groups, as `isokin cohort --by` (default: the whole "
                         "cohort)");

  merge_cmd_ = app.add_subcommand("merge", "Join batch tables (shards) into one, as a single run");
  merge_cmd_->add_option("PARTS", merge_.parts, "Batch tables")->required();
  merge_cmd_->add_option("--out", merge_.out, "Table to write")->required();

  cohort_cmd_ = app.add_subcommand(
      "cohort",
      "Summarise a batch results table per group: n, mean, SD and percentiles (P10 to P90) of "
      "every parameter and ratio");
  cohort_cmd_->add_option("RESULTS", cohort_.results, "Table from `isokin batch` or `merge`")
      ->required();
  cohort_cmd_->add_option(
      "--by", cohort_.by,
      "Group by these, comma-separated: sex, age_years, age_band, sport, side, limb "
      "(dominant/non-dominant), dominant_side, injured_side, kind (default: the whole cohort)");
  cohort_cmd_->add_option("--out", cohort_.out, "Summary table to create (default: print it)");
}

std::optional<int> FileCommands::run(std::ostream& out) const {
  if (*repair_cmd_) return run_repair(repair_, out);
  if (*anonymize_cmd_) return run_anonymize(anonymize_, out);
  if (*export_cmd_) return run_export(export_, out);
  if (*batch_cmd_) return run_batch(batch_, out);
  if (*merge_cmd_) return run_merge(merge_, out);
  if (*cohort_cmd_) return run_cohort(cohort_, out);
  return std::nullopt;
}

}  // namespace isokin::cli
