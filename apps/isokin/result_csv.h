#pragma once
// `isokin analyze --csv DIR`: repetitions.csv (one row per phase), sets.csv (one row per set and
// movement) and ratios.csv, with units in the column names (docs/results.md).

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/session_analysis.h"

namespace isokin::cli {

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
std::string csv_field(std::string_view text);
// One record of a CSV file.
struct CsvRecord {
  std::size_t line = 0;  // where the record starts, 1-based
  std::vector<std::string> fields;
};
// A CSV file (RFC 4180: quoted fields may hold commas, quotes and line breaks) as records; blank
// lines are skipped. Throws std::runtime_error naming the file (and line of an unclosed quote).
// kCommaOrSemicolon: ';' when the first line has semicolons and no comma (what spreadsheets write
// where the decimal mark is a comma). A UTF-8 byte-order mark is skipped.
enum class CsvSeparator { kComma, kCommaOrSemicolon };
std::vector<CsvRecord> read_csv_records(const std::filesystem::path& path,
                                        CsvSeparator separator = CsvSeparator::kComma);

// The shortest text that reads back as the same double; empty for NaN/Inf (a missing value).
std::string exact_number(double value);

void write_results_csv(const acquisition::Session& session,
                       const analysis::SessionAnalysis& analysis, const std::filesystem::path& dir);

}  // namespace isokin::cli
