// `isokin import DIR|FILES…` and `isokin import --manifest M.csv`: a folder of vendor exports to
// session files in one command. With a manifest each row names a file and what the file does not
// say (subject, side, velocity, subject details, import options); the rows of one subject and
// visit become one session with a set per file, so H:Q ratios and bilateral deficits across the
// files are computed. Each session is imported on its own: a bad file is reported (manifest line,
// file, line, column) and its session skipped, never written in part (docs/import-formats.md).
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "analysis_cli.h"
#include "result_csv.h"

namespace isokin::cli {
namespace {

namespace fs = std::filesystem;

// One file to import, with its options and where they were given ("manifest.csv:7").
struct PlannedFile {
  fs::path file;
  ImportOptions options;
  std::string where;
  // Said when neither the options nor the file's header give the side (a Con-Trex file does).
  std::string no_side;
};

// One session file to write from one or more files; `problems` stop it being written.
struct PlannedSession {
  fs::path out;
  std::vector<PlannedFile> files;
  std::vector<std::string> problems;
};

double number_cell(const std::string& cell) {
  // A decimal comma (manifests saved by spreadsheets in such locales): "72,5" is 72.5.
  std::string text = cell;
  if (std::count(text.begin(), text.end(), ',') == 1 && text.find('.') == std::string::npos) {
    text[text.find(',')] = '.';
  }
  double value = 0.0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    throw std::runtime_error("'" + cell + "' is not a number");
  }
  return value;
}

int integer_cell(const std::string& cell) {
  int value = 0;
  const char* end = cell.data() + cell.size();
  const auto [ptr, ec] = std::from_chars(cell.data(), end, value);
  if (ec != std::errc() || ptr != end) {
    throw std::runtime_error("'" + cell + "' is not a whole number");
  }
  return value;
}

std::string one_of(const std::string& cell, std::initializer_list<std::string_view> allowed) {
  if (std::find(allowed.begin(), allowed.end(), cell) == allowed.end()) {
    std::string names;
    for (const auto name : allowed) names += (names.empty() ? "" : ", ") + std::string(name);
    throw std::runtime_error("'" + cell + "' is not one of " + names);
  }
  return cell;
}

// A cell holding several values (scale, negate, limits): separated by spaces.
std::vector<std::string> words(const std::string& cell) {
  std::vector<std::string> list;
  std::istringstream stream(cell);
  for (std::string word; stream >> word;) list.push_back(word);
  return list;
}

// Pseudonymous codes and visit labels become file names: letters, digits, '.', '_', '-'.
bool safe_name(const std::string& name) {
  const auto allowed = [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
  };
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), allowed) &&
         name != "." && name != "..";
}

struct ManifestColumn {
  std::string_view name;
  // Applies a non-empty cell to the row's options; `base` resolves relative paths.
  std::function<void(ImportOptions&, const std::string&, const fs::path& base)> apply;
};

fs::path relative_to(const fs::path& base, const std::string& cell) {
  const fs::path p(cell);
  return p.is_absolute() ? p : base / p;
}

const std::vector<ManifestColumn>& manifest_columns() {
  using O = ImportOptions;
  using S = const std::string&;
  using B = const fs::path&;
  static const std::vector<ManifestColumn> columns = {
      {"file", [](O& o, S c, B base) { o.file = relative_to(base, c); }},
      {"subject", [](O& o, S c, B) { o.subject = c; }},
      {"session", [](O&, S, B) {}},  // grouping only: read by plan_manifest
      {"side",
       [](O& o, S c, B) {
         o.side = one_of(c, {"left", "right"});
         o.side_given = true;
       }},
      {"joint",
       [](O& o, S c, B) {
         o.joint = one_of(c, {"knee", "trunk"});
       }},
      {"mode",
       [](O& o, S c, B) {
         o.mode = one_of(c, {"isometric", "concentric/concentric", "concentric/eccentric",
                             "eccentric/eccentric"});
       }},
      {"velocity", [](O& o, S c, B) { o.velocity = number_cell(c); }},
      {"body_mass", [](O& o, S c, B) { o.body_mass_kg = number_cell(c); }},
      {"sex",
       [](O& o, S c, B) {
         o.subject_details.sex = one_of(c, {"female", "male", "other"});
       }},
      {"age", [](O& o, S c, B) { o.subject_details.age_years = integer_cell(c); }},
      {"sport", [](O& o, S c, B) { o.subject_details.sport = c; }},
      {"dominant_side",
       [](O& o, S c, B) {
         o.subject_details.dominant_side = one_of(c, {"left", "right"});
       }},
      {"injured_side",
       [](O& o, S c, B) {
         o.subject_details.injured_side = one_of(c, {"left", "right", "none"});
       }},
      {"format", [](O& o, S c, B) { o.format = c; }},
      {"columns", [](O& o, S c, B) { o.columns = c; }},
      {"rate", [](O& o, S c, B) { o.rate_hz = number_cell(c); }},
      {"delimiter", [](O& o, S c, B) { o.delimiter = c; }},
      {"decimal", [](O& o, S c, B) { o.decimal = c; }},
      {"skip_rows", [](O& o, S c, B) { o.skip_rows = integer_cell(c); }},
      {"scale", [](O& o, S c, B) { o.scales = words(c); }},
      {"negate", [](O& o, S c, B) { o.negate = words(c); }},
      {"limits", [](O& o, S c, B) { o.limits = words(c); }},
      {"profile", [](O& o, S c, B base) { o.profile = relative_to(base, c); }},
      {"variable", [](O& o, S c, B) { o.variable = c; }},
      {"rom_start_angle", [](O& o, S c, B) { o.rom_start_angle = number_cell(c); }},
  };
  return columns;
}

std::string column_names() {
  std::string names;
  for (const auto& column : manifest_columns()) {
    names += (names.empty() ? "" : ", ") + std::string(column.name);
  }
  return names;
}

// The subject's own fields must not differ between the rows of one session.
std::string subject_conflict(const PlannedFile& a, const PlannedFile& b) {
  const auto& x = a.options;
  const auto& y = b.options;
  const auto differ = [&](std::string_view what, const std::string& u, const std::string& v) {
    return fmt::format("{} '{}' differs from {}'s '{}' in the same session", what, v, a.where, u);
  };
  if (x.body_mass_kg != y.body_mass_kg) {
    const auto mass = [](const std::optional<double>& kg) {
      return kg ? fmt::format("{:g}", *kg) : std::string("(not given)");
    };
    return differ("body_mass", mass(x.body_mass_kg), mass(y.body_mass_kg));
  }
  const auto& p = x.subject_details;
  const auto& q = y.subject_details;
  if (p.sex != q.sex) return differ("sex", p.sex, q.sex);
  if (p.age_years != q.age_years) {
    return differ("age", std::to_string(p.age_years), std::to_string(q.age_years));
  }
  if (p.sport != q.sport) return differ("sport", p.sport, q.sport);
  if (p.dominant_side != q.dominant_side) {
    return differ("dominant_side", p.dominant_side, q.dominant_side);
  }
  if (p.injured_side != q.injured_side) {
    return differ("injured_side", p.injured_side, q.injured_side);
  }
  return {};
}

// The manifest's rows grouped into sessions (by subject and `session`), in the order each
// session's first row appears; rows that cannot be read fail their session.
std::vector<PlannedSession> plan_manifest(const ImportOptions& defaults) {
  const fs::path& manifest = defaults.manifest;
  const auto records = read_csv_records(manifest, CsvSeparator::kCommaOrSemicolon);
  if (records.empty()) throw std::runtime_error(manifest.string() + ": empty manifest");
  const auto& header = records.front();
  std::vector<const ManifestColumn*> by_position;
  for (std::size_t c = 0; c < header.fields.size(); ++c) {
    const auto& name = header.fields[c];
    const auto& known = manifest_columns();
    const auto it = std::find_if(known.begin(), known.end(),
                                 [&](const ManifestColumn& k) { return k.name == name; });
    if (it == known.end()) {
      throw std::runtime_error(fmt::format("{}:{}: column {}: '{}' is not a manifest column ({})",
                                           manifest.string(), header.line, c + 1, name,
                                           column_names()));
    }
    if (std::count(header.fields.begin(), header.fields.end(), name) > 1) {
      throw std::runtime_error(
          fmt::format("{}:{}: column '{}' appears twice", manifest.string(), header.line, name));
    }
    by_position.push_back(&*it);
  }
  for (const std::string_view required : {"file", "subject"}) {
    if (std::find(header.fields.begin(), header.fields.end(), required) == header.fields.end()) {
      throw std::runtime_error(fmt::format("{}:{}: the manifest needs a '{}' column",
                                           manifest.string(), header.line, required));
    }
  }
  const fs::path base = manifest.has_parent_path() ? manifest.parent_path() : fs::path(".");
  const auto subject_column = static_cast<std::size_t>(
      std::find(header.fields.begin(), header.fields.end(), "subject") - header.fields.begin());
  const auto session_column = static_cast<std::size_t>(
      std::find(header.fields.begin(), header.fields.end(), "session") - header.fields.begin());

  std::vector<PlannedSession> sessions;
  std::map<std::string, std::size_t> session_of_key;  // output name → index in sessions
  std::map<fs::path, std::string> row_of_file;        // each file listed once
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& record = records[r];
    PlannedFile planned{{},
                        defaults,
                        fmt::format("{}:{}", manifest.string(), record.line),
                        "no side: give a 'side' column (left or right) or --side"};
    planned.options.manifest.clear();
    std::vector<std::string> problems;
    if (record.fields.size() != header.fields.size()) {
      problems.push_back(fmt::format("{}: {} fields, the header has {}", planned.where,
                                     record.fields.size(), header.fields.size()));
    }
    for (std::size_t c = 0; c < record.fields.size() && c < by_position.size(); ++c) {
      if (record.fields[c].empty()) continue;
      try {
        by_position[c]->apply(planned.options, record.fields[c], base);
      } catch (const std::exception& e) {
        problems.push_back(fmt::format("{}: column {} ({}): {}", planned.where, c + 1,
                                       by_position[c]->name, e.what()));
      }
    }
    planned.file = planned.options.file;
    const std::string visit =
        session_column < record.fields.size() ? record.fields[session_column] : std::string();
    // Every row names its subject: a default would merge different people into one session.
    const std::string subject =
        subject_column < record.fields.size() ? record.fields[subject_column] : std::string();
    if (planned.file.empty()) problems.push_back(planned.where + ": no file");
    if (!planned.file.empty()) {
      const auto [it, first] =
          row_of_file.emplace(fs::absolute(planned.file).lexically_normal(), planned.where);
      if (!first) {
        problems.push_back(fmt::format("{}: {} is already listed at {}", planned.where,
                                       planned.file.string(), it->second));
      }
    }
    if (subject.empty() || !safe_name(subject) || (!visit.empty() && !safe_name(visit))) {
      problems.push_back(fmt::format(
          "{}: subject '{}' and session '{}' must be pseudonymous codes of letters, digits, '.', "
          "'_' or '-' (they name the session file)",
          planned.where, subject, visit));
      sessions.push_back({{}, {}, std::move(problems)});  // a failure of its own
      continue;
    }
    const std::string name = fmt::format("{}{}{}.h5", subject, visit.empty() ? "" : "_", visit);
    auto [at, added] = session_of_key.emplace(name, sessions.size());
    if (added) sessions.push_back({defaults.out_dir / name, {}, {}});
    auto& session = sessions[at->second];
    if (!session.files.empty()) {
      const auto conflict = subject_conflict(session.files.front(), planned);
      if (!conflict.empty()) problems.push_back(planned.where + ": " + conflict);
    }
    for (auto& p : problems) session.problems.push_back(std::move(p));
    session.files.push_back(std::move(planned));
  }
  return sessions;
}

// Folders (their files, recursively, sorted; hidden files skipped) and files: one session each.
std::vector<PlannedSession> plan_files(const ImportOptions& defaults) {
  std::vector<fs::path> files;
  for (const auto& input : defaults.inputs) {
    if (fs::is_directory(input)) {
      for (const auto& entry : fs::recursive_directory_iterator(input)) {
        if (entry.is_regular_file() && entry.path().filename().string().front() != '.') {
          files.push_back(entry.path());
        }
      }
    } else if (fs::exists(input)) {
      files.push_back(input);
    } else {
      throw std::runtime_error(input.string() + ": no such file or folder");
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  if (files.empty()) throw std::runtime_error("import: no files found in the folders given");
  std::vector<PlannedSession> sessions;
  std::map<fs::path, fs::path> source_of;  // output → the file that is written there
  for (const auto& file : files) {
    PlannedFile planned{file,
                        defaults,
                        {},
                        file.string() +
                            ": the file does not say its side: several recordings need --side "
                            "(the same for all), or a --manifest with a 'side' column"};
    planned.options.file = file;
    PlannedSession session{defaults.out_dir / (file.stem().string() + ".h5"), {}, {}};
    const auto [it, first] = source_of.emplace(session.out, file);
    if (!first) {
      session.problems.push_back(fmt::format("{}: would be written to {} like {}", file.string(),
                                             session.out.string(), it->second.string()));
    }
    session.files.push_back(std::move(planned));
    sessions.push_back(std::move(session));
  }
  return sessions;
}

}  // namespace

int run_import_many(const ImportOptions& options, std::ostream& out, std::ostream& err) {
  if (!options.manifest.empty() && !options.inputs.empty()) {
    throw std::runtime_error(
        "import: give either files and folders or --manifest (the manifest lists the files)");
  }
  const auto sessions = options.manifest.empty() ? plan_files(options) : plan_manifest(options);
  std::size_t written = 0;
  std::size_t files_read = 0;
  std::size_t failed = 0;
  for (const auto& session : sessions) {
    std::vector<std::string> problems = session.problems;
    if (problems.empty()) {
      std::vector<acquisition::ImportedRecording> recordings;
      std::vector<acquisition::ImportContext> contexts;
      try {
        for (const auto& planned : session.files) {
          const std::string where = planned.where.empty() ? "" : planned.where + ": ";
          try {
            contexts.push_back(import_context(planned.options));
            recordings.push_back(
                acquisition::import_recording(planned.file, importer_options(planned.options)));
            if (!contexts.back().side && !recordings.back().header.side) {
              throw std::runtime_error(planned.no_side);
            }
          } catch (const std::exception& e) {
            throw std::runtime_error(where + e.what());
          }
        }
        check_replaceable(session.out);
        acquisition::write_imported_session(recordings, contexts, session.out);
      } catch (const std::exception& e) {
        problems.emplace_back(e.what());
      }
      if (problems.empty()) {
        ++written;
        files_read += recordings.size();
        std::string from;
        for (const auto& r : recordings) {
          from += (from.empty() ? "" : ", ") + r.source.filename().string() + " (" +
                  std::string(acquisition::import_format_name(r.format)) + ")";
        }
        fmt::print(out, "{}: {} set{} from {}\n", session.out.string(), recordings.size(),
                   recordings.size() == 1 ? "" : "s", from);
        for (const auto& r : recordings) {
          for (const auto& warning : r.warnings) fmt::print(out, "  warning: {}\n", warning);
        }
        continue;
      }
    }
    ++failed;
    for (const auto& problem : problems) fmt::print(err, "isokin: {}\n", problem);
    if (!session.out.empty()) {
      fmt::print(err, "isokin: {} not written\n", session.out.string());
    }
  }
  fmt::print(out, "{} session file{} written from {} file{} into {}", written,
             written == 1 ? "" : "s", files_read, files_read == 1 ? "" : "s",
             options.out_dir.string());
  if (failed > 0) fmt::print(out, "; {} failed (see the messages above)", failed);
  fmt::print(out, "\n");
  return failed == 0 ? 0 : 1;
}

}  // namespace isokin::cli
