#pragma once
// Frame decoders for serial-line dynamometer boards (docs/serial-protocol.md). Pure byte-in,
// frame-out code without I/O, apart from the driver (serial_device.h), so it can be unit-tested,
// fuzzed and benchmarked on its own. Both decoders are stateful only in the bytes of an
// incomplete frame they keep between calls; they resynchronise after garbage on their own.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace isokin::drivers::serial {

inline constexpr std::size_t kMaxFields = 8;  // values per frame

// One decoded frame: the raw counts in the order they were sent.
struct Frame {
  // Frame number since the decoder was reset: consecutive unless frames were lost (binary
  // frames: from the sequence numbers; ASCII frames: counts decoded frames only).
  std::uint64_t index = 0;
  bool gap_before = false;  // bytes or frames were discarded between the previous frame and this
  std::array<std::int32_t, kMaxFields> counts{};
};

struct DecoderCounters {
  std::uint64_t frames = 0;           // decoded
  std::uint64_t discarded_bytes = 0;  // garbage, malformed lines, frames with a bad CRC
  std::uint64_t malformed = 0;        // ASCII: lines that are not frames
  std::uint64_t crc_errors = 0;       // binary: frames whose CRC did not match
  std::uint64_t dropped_frames = 0;   // binary: frames missing from the sequence numbers
  std::uint64_t repeated_frames = 0;  // binary: a sequence number sent twice in a row
};

// "dddd;dddd;dddd;\r\n": decimal integer counts, a separator, an optional trailing separator,
// and a line end.
struct AsciiFraming {
  char separator = ';';
  std::string line_end = "\r\n";
  std::size_t field_count = 3;
};

enum class CountWidth { kInt16, kInt32 };

// sync bytes, uint16 sequence number, field_count signed counts, CRC-16/CCITT-FALSE; all
// little-endian (docs/serial-protocol.md has the byte layout and an example).
struct BinaryFraming {
  std::vector<std::uint8_t> sync = {0xA5, 0x5A};
  std::size_t field_count = 3;
  CountWidth width = CountWidth::kInt16;
  [[nodiscard]] std::size_t frame_size() const;
};

class AsciiFrameDecoder {
 public:
  // Throws std::invalid_argument for a framing it cannot decode (no line end, too many fields,
  // a separator that is part of a number or of the line end).
  explicit AsciiFrameDecoder(AsciiFraming framing);
  // Appends every frame completed by bytes to out; keeps an incomplete line for the next call.
  void decode(std::span<const std::uint8_t> bytes, std::vector<Frame>& out);
  // Forgets the incomplete line and restarts frame numbering at 0 (counters are kept).
  void reset();
  [[nodiscard]] const DecoderCounters& counters() const { return counters_; }
  [[nodiscard]] const AsciiFraming& framing() const { return framing_; }

 private:
  void finish_line(std::vector<Frame>& out);

  AsciiFraming framing_;
  std::size_t max_line_;  // longer lines are garbage: resynchronise at the next line end
  std::string line_;      // the line so far, line end excluded once complete
  bool overlong_ = false;
  bool gap_pending_ = false;
  std::uint64_t next_index_ = 0;
  DecoderCounters counters_;
};

class BinaryFrameDecoder {
 public:
  // Throws std::invalid_argument for no sync bytes or 0 or more than kMaxFields fields.
  explicit BinaryFrameDecoder(BinaryFraming framing);
  void decode(std::span<const std::uint8_t> bytes, std::vector<Frame>& out);
  void reset();
  [[nodiscard]] const DecoderCounters& counters() const { return counters_; }
  [[nodiscard]] const BinaryFraming& framing() const { return framing_; }

 private:
  void accept(const std::uint8_t* frame, std::vector<Frame>& out);

  BinaryFraming framing_;
  std::size_t frame_size_;
  std::vector<std::uint8_t> pending_;
  bool have_sequence_ = false;
  std::uint16_t last_sequence_ = 0;
  bool gap_pending_ = false;
  std::uint64_t index_ = 0;
  DecoderCounters counters_;
};

// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected, no final xor; check value of
// "123456789" is 0x29B1).
std::uint16_t crc16_ccitt(std::span<const std::uint8_t> bytes);

// One binary frame as a board would send it (tests, benchmarks, emulators). Counts that do not
// fit the frame's width are clamped.
std::vector<std::uint8_t> encode_binary_frame(const BinaryFraming& framing, std::uint16_t sequence,
                                              std::span<const std::int32_t> counts);

}  // namespace isokin::drivers::serial
