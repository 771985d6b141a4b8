#include <nlohmann/json.hpp>
#include <ostream>

#include "commands.h"
#include "isokin/acquisition/session_file.h"

namespace isokin::cli {

int run_analyze(const std::filesystem::path& file, bool json, std::ostream& out) {
  const auto session = acquisition::read_session(file);
  const auto analysis = analysis::analyze_session(session);
  if (json) {
    auto doc = results_to_json(session, analysis);
    doc["file"] = file.string();
    out << doc.dump(2) << '\n';
  } else {
    if (!session.complete) out << file.string() << ": note: the recording was interrupted\n";
    print_result_table(session, analysis, out);
  }
  return 0;
}

}  // namespace isokin::cli
