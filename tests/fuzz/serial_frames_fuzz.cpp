// libFuzzer target: the serial frame decoders on arbitrary bytes. Input: byte 0 picks the
// framing (bit 0: ASCII or binary; bit 1: int32 counts; bit 2: 4 fields instead of 3), byte 1
// where the stream is split in two reads, the rest is the stream. Checked: no crash, the same
// frames and counters whichever split, frame numbers strictly increasing, counters that add up.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "isokin/drivers/serial_protocol.h"

namespace {

using namespace isokin::drivers::serial;

void check(bool condition) {
  if (!condition) std::abort();
}

template <typename Decoder>
void run(const Decoder& prototype, std::span<const std::uint8_t> stream, std::size_t cut) {
  Decoder whole = prototype;
  std::vector<Frame> a;
  whole.decode(stream, a);
  Decoder split = prototype;
  std::vector<Frame> b;
  split.decode(stream.subspan(0, cut), b);
  split.decode(stream.subspan(cut), b);

  check(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    check(a[i].index == b[i].index && a[i].gap_before == b[i].gap_before &&
          a[i].counts == b[i].counts);
    if (i > 0) check(a[i].index > a[i - 1].index);
  }
  const DecoderCounters& c = whole.counters();
  const DecoderCounters& d = split.counters();
  check(c.frames == a.size() && d.frames == b.size());
  check(c.discarded_bytes == d.discarded_bytes && c.malformed == d.malformed &&
        c.crc_errors == d.crc_errors && c.dropped_frames == d.dropped_frames);
  check(c.discarded_bytes <= stream.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  const std::span<const std::uint8_t> stream(data + 2, size - 2);
  const std::size_t cut = stream.empty() ? 0 : data[1] % (stream.size() + 1);
  const std::size_t fields = (mode & 4) != 0 ? 4 : 3;
  if ((mode & 1) == 0) {
    AsciiFraming framing;
    framing.field_count = fields;
    run(AsciiFrameDecoder(framing), stream, cut);
  } else {
    BinaryFraming framing;
    framing.field_count = fields;
    framing.width = (mode & 2) != 0 ? CountWidth::kInt32 : CountWidth::kInt16;
    run(BinaryFrameDecoder(framing), stream, cut);
  }
  return 0;
}
