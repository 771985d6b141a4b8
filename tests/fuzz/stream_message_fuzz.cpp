// libFuzzer target: what a live-stream client sends, split into lines as the server splits it.
// parse_client_message must answer every line (ping, or invalid with a reason) and never throw;
// what the session file gets (the summary) is one of the fixed phrases, never the client's text.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "isokin/acquisition/live_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using isokin::acquisition::ClientMessageKind;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (;;) {
    const auto end = text.find('\n');
    const auto message = isokin::acquisition::parse_client_message(text.substr(0, end));
    const bool consistent =
        message.kind == ClientMessageKind::kPing ? message.error.empty() : !message.error.empty();
    if (!consistent) std::abort();
    static constexpr std::array<std::string_view, 6> kFixed = {
        "not JSON",           "not a JSON object",
        "no \"type\" string", "unknown message type",
        "not readable",       "message longer than 1024 bytes"};
    const bool fixed =
        message.kind == ClientMessageKind::kPing
            ? message.summary.empty()
            : std::find(kFixed.begin(), kFixed.end(), message.summary) != kFixed.end();
    if (!fixed) std::abort();
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return 0;
}
