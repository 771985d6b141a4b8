#pragma once
// `isokin batch` (a cohort into one tidy results table) and `isokin merge` (shards into one).

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace isokin::cli {

struct BatchOptions {
  std::vector<std::string> inputs;  // session files and folders (searched for *.h5)
  std::filesystem::path out;
  int jobs = 0;         // 0: every core
  std::string shard;    // "i/n": every n-th file of the sorted list, from the i-th; "" = all
  bool resume = false;  // keep the files already in `out`, do the rest
  // Also summarise the table per group (`isokin cohort`) into this file; empty: no summary.
  std::filesystem::path summary;
  std::string by;  // the summary's grouping keys, as `isokin cohort --by`
};
int run_batch(const BatchOptions& options, std::ostream& out);

struct MergeOptions {
  std::vector<std::string> parts;
  std::filesystem::path out;
};
int run_merge(const MergeOptions& options, std::ostream& out);

}  // namespace isokin::cli
