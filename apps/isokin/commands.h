#pragma once
// The isokin command-line tool's subcommands. Each returns the process exit code and throws
// only for errors main() reports as one line.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/session_analysis.h"

namespace isokin::cli {

struct DemoOptions {
  std::filesystem::path out = "demo.h5";
  std::uint64_t seed = 1;
};

int run_demo(const DemoOptions& options, std::ostream& out);
int run_info(const std::filesystem::path& file, std::ostream& out);
int run_analyze(const std::filesystem::path& file, bool json, std::ostream& out);

// Human-readable tables: peak torque per muscle group, side and speed; H:Q; bilateral deficit.
void print_result_table(const acquisition::Session& session,
                        const analysis::SessionAnalysis& analysis, std::ostream& out);
// The full result in the versioned schema of docs/results.md.
nlohmann::ordered_json results_to_json(const acquisition::Session& session,
                                       const analysis::SessionAnalysis& analysis);

}  // namespace isokin::cli
