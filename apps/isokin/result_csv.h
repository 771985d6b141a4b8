#pragma once
// `isokin analyze --csv DIR`: repetitions.csv (one row per phase), sets.csv (one row per set and
// movement) and ratios.csv, with units in the column names (docs/results.md).

#include <filesystem>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/session_analysis.h"

namespace isokin::cli {

void write_results_csv(const acquisition::Session& session,
                       const analysis::SessionAnalysis& analysis, const std::filesystem::path& dir);

}  // namespace isokin::cli
