#pragma once
// The real recordings other labs published (../shared/realdata beside the source tree, see its
// README) are not part of the repository: a clean clone has none. Tests that read them call
// ISOKIN_SKIP_WITHOUT_REALDATA("folder") first, which skips the test with one line when that
// folder is absent. ISOKIN_REQUIRE_REALDATA=1 in the environment (CI, where the data is present)
// turns the skip into a failure, so a moved folder cannot silently skip the real-data tests.
// ISOKIN_SHARED_DIR is set by tests/CMakeLists.txt.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace isokin::test {

inline std::filesystem::path realdata_dir() {
  return std::filesystem::path(ISOKIN_SHARED_DIR) / "realdata";
}

// A file or folder under realdata/.
inline std::filesystem::path realdata(std::string_view relative) {
  return realdata_dir() / relative;
}

// Empty when realdata/<relative> exists; else the one line saying what is missing.
inline std::string missing_realdata(std::string_view relative) {
  std::error_code error;
  const auto path = realdata(relative);
  if (std::filesystem::exists(path, error)) return {};
  return "needs " + path.string() + " (real recordings beside the source tree, not in a clone)";
}

inline bool realdata_required() {
  const char* value = std::getenv("ISOKIN_REQUIRE_REALDATA");
  return value != nullptr && std::string_view(value) == "1";
}

}  // namespace isokin::test

// Skips (or, with ISOKIN_REQUIRE_REALDATA=1, fails) the current test when realdata/<relative>
// is absent. Use at the top of a TEST body or of a fixture's SetUp.
#define ISOKIN_SKIP_WITHOUT_REALDATA(relative)                                         \
  do {                                                                                 \
    if (const std::string isokin_missing = ::isokin::test::missing_realdata(relative); \
        !isokin_missing.empty()) {                                                     \
      if (::isokin::test::realdata_required()) FAIL() << isokin_missing;               \
      GTEST_SKIP() << isokin_missing;                                                  \
    }                                                                                  \
  } while (false)
