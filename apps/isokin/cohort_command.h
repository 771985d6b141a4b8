#pragma once
// `isokin cohort RESULTS.csv --by sex,sport,side`: per group n, mean, SD and normative
// percentiles of every parameter of a batch results table (docs/batch.md).

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace isokin::cli {

struct CohortOptions {
  std::filesystem::path results;  // an `isokin batch` (or `merge`) table
  std::string by;                 // grouping keys, comma-separated; empty: the whole cohort
  std::filesystem::path out;      // summary table to create; empty: standard output
};
int run_cohort(const CohortOptions& options, std::ostream& out);
// The grouping keys of `by`; std::runtime_error naming an unknown or repeated key.
std::vector<std::string> cohort_group_keys(const std::string& by);

}  // namespace isokin::cli
