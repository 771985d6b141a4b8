#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <set>

#include "commands.h"
#include "isokin/acquisition/protocol.h"

namespace isokin::cli {

std::filesystem::path shipped_protocols_dir() {
  return acquisition::shipped_directory("protocols", ISOKIN_PROTOCOLS_DIR);
}

std::filesystem::path shipped_profiles_dir() {
  return acquisition::shipped_directory("profiles", ISOKIN_PROFILES_DIR);
}

int run_protocols(std::ostream& out) {
  namespace fs = std::filesystem;
  const auto directories = acquisition::protocol_directories(shipped_protocols_dir());
  std::set<std::string> seen;  // an earlier directory's protocol hides a later one of that name
  for (const auto& dir : directories) {
    std::error_code error;
    if (!fs::is_directory(dir, error)) {
      // Say where user protocols go, even before there are any.
      fmt::print(out, "{} (user): no such directory\n", dir.string());
      continue;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    const bool shipped = fs::equivalent(dir, shipped_protocols_dir(), error);
    fmt::print(out, "{} ({})\n", dir.string(), shipped ? "shipped" : "user");
    for (const auto& file : files) {
      const std::string name = file.stem().string();
      try {
        const auto p = acquisition::load_protocol(file);
        std::string sides;
        for (const auto s : p.sides)
          sides += fmt::format("{}{}", sides.empty() ? "" : "+", drivers::to_string(s));
        // Sets as run: every side, warm-ups and gravity trials included.
        const std::size_t planned = acquisition::plan_protocol(p).size();
        fmt::print(out, "  {:<36} {:<5} {:<10} {:>2} set{}  {}{}\n", name,
                   drivers::to_string(p.joint), p.joint == drivers::Joint::kTrunk ? "-" : sides,
                   planned, planned == 1 ? " " : "s", p.description,
                   seen.insert(name).second ? "" : " (hidden by an earlier directory)");
      } catch (const acquisition::ProtocolError& e) {
        fmt::print(out, "  {:<36} INVALID: {}\n", name, e.what());
      }
    }
  }
  return 0;
}

}  // namespace isokin::cli
