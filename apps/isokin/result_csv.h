#pragma once
// `isokin analyze --csv DIR`: repetitions.csv (one row per phase), sets.csv (one row per set and
// movement) and ratios.csv, with units in the column names (docs/results.md).

#include <filesystem>
#include <string>
#include <string_view>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/session_analysis.h"

namespace isokin::cli {

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
std::string csv_field(std::string_view text);
// The shortest text that reads back as the same double; empty for NaN/Inf (a missing value).
std::string exact_number(double value);

void write_results_csv(const acquisition::Session& session,
                       const analysis::SessionAnalysis& analysis, const std::filesystem::path& dir);

}  // namespace isokin::cli
