// libFuzzer target: the C3D analog reader on arbitrary bytes. Any outcome other than a C3dAnalog
// or an ImportError (naming a byte offset) is a bug, and so is an allocation the bytes do not back.
#include <cstddef>
#include <cstdint>
#include <span>

#include "isokin/acquisition/c3d.h"
#include "isokin/acquisition/import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto analog = isokin::acquisition::read_c3d_analog(
        std::as_bytes(std::span<const std::uint8_t>(data, size)), "fuzz.c3d");
    // Everything the reader reports must be inside what it returned.
    if (analog.values.size() != analog.channel_count * analog.sample_count) __builtin_trap();
  } catch (const isokin::acquisition::ImportError&) {
    // The documented outcome for a malformed file.
  }
  return 0;
}
