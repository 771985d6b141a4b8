// libFuzzer target: protocol JSON on arbitrary bytes. Any outcome other than a Protocol and its
// plan, or a ProtocolError, is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "isokin/acquisition/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto protocol = isokin::acquisition::parse_protocol(text, "fuzz.json");
    const auto plan = isokin::acquisition::plan_protocol(protocol);
    (void)plan;
  } catch (const isokin::acquisition::ProtocolError&) {
    // The documented outcome for a bad protocol file.
  }
  return 0;
}
