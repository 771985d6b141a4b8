// libFuzzer target: read_session on arbitrary bytes, and the analysis of what it reads (as
// `isokin analyze` does: a damaged byte in an angle once made it allocate without bound). Any
// outcome other than a Session or a SessionFileError (a crash, a sanitizer report, another
// exception type) is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "isokin/acquisition/session_file.h"
#include "isokin/analysis/session_analysis.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // HDF5 reads files, not memory: one scratch file per fuzzing process, in RAM when possible.
  static const std::filesystem::path path =
      (std::filesystem::exists("/dev/shm") ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path()) /
      ("isokin-fuzz-session-" + std::to_string(::getpid()) + ".h5");
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) return 0;
  std::fwrite(data, 1, size, out);
  std::fclose(out);
  try {
    const auto session = isokin::acquisition::read_session(path);
    const auto analysis = isokin::analysis::analyze_session(session);
    (void)analysis;
  } catch (const isokin::acquisition::SessionFileError&) {
    // The documented outcome for a bad file.
  }
  return 0;
}
