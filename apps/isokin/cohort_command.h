#pragma once
// `isokin cohort RESULTS.csv --by sex,sport,side`: per group n, mean, SD and normative
// percentiles of every parameter of a batch results table (docs/batch.md).

#include <filesystem>
#include <ostream>
#include <string>

namespace isokin::cli {

struct CohortOptions {
  std::filesystem::path results;  // an `isokin batch` (or `merge`) table
  std::string by;                 // grouping keys, comma-separated; empty: the whole cohort
  std::filesystem::path out;      // summary table to create; empty: standard output
};
int run_cohort(const CohortOptions& options, std::ostream& out);

}  // namespace isokin::cli
