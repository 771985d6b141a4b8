// The frame decoders as pure functions: bytes in, frames and counters out. Expected frames are
// written by hand from docs/serial-protocol.md; the binary examples' CRCs were computed with
// Python's binascii.crc_hqx(data, 0xFFFF), an independent CRC-16/CCITT-FALSE.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "isokin/drivers/serial_protocol.h"

namespace isokin::drivers::serial {
namespace {

std::vector<std::uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

std::vector<Frame> decode_ascii(AsciiFrameDecoder& d, std::string_view text) {
  std::vector<Frame> out;
  d.decode(bytes_of(text), out);
  return out;
}

void expect_counts(const Frame& f, std::int32_t a, std::int32_t b, std::int32_t c) {
  EXPECT_EQ(f.counts[0], a);
  EXPECT_EQ(f.counts[1], b);
  EXPECT_EQ(f.counts[2], c);
}

TEST(Crc16Ccitt, CatalogueCheckValue) {
  EXPECT_EQ(crc16_ccitt(bytes_of("123456789")), 0x29B1);
  EXPECT_EQ(crc16_ccitt({}), 0xFFFF);  // the initial value, nothing shifted in
}

TEST(AsciiFrameDecoder, DecodesTheBoardsFrames) {
  AsciiFrameDecoder d{AsciiFraming{}};
  const auto frames = decode_ascii(d, "0528;0519;0542;\r\n0527;0519;0542;\r\n");
  ASSERT_EQ(frames.size(), 2U);
  expect_counts(frames[0], 528, 519, 542);
  expect_counts(frames[1], 527, 519, 542);
  EXPECT_EQ(frames[0].index, 0U);
  EXPECT_EQ(frames[1].index, 1U);
  EXPECT_FALSE(frames[1].gap_before);
  EXPECT_EQ(d.counters().frames, 2U);
  EXPECT_EQ(d.counters().discarded_bytes, 0U);
}

TEST(AsciiFrameDecoder, TrailingSeparatorIsOptionalAndNegativeCountsAreRead) {
  AsciiFrameDecoder d{AsciiFraming{}};
  const auto frames = decode_ascii(d, "-12;0;2147483647\r\n-2147483648;1;2;\r\n");
  ASSERT_EQ(frames.size(), 2U);
  expect_counts(frames[0], -12, 0, 2147483647);
  expect_counts(frames[1], INT32_MIN, 1, 2);
}

TEST(AsciiFrameDecoder, ConfigurableSeparatorLineEndAndFieldCount) {
  AsciiFraming framing;
  framing.separator = ',';
  framing.line_end = "\n";
  framing.field_count = 4;
  AsciiFrameDecoder d(framing);
  const auto frames = decode_ascii(d, "1,2,3,4\n5,6,7,8,\n1;2;3;4\n");
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[1].counts[3], 8);
  EXPECT_EQ(d.counters().malformed, 1U);  // ';' is not this board's separator
}

TEST(AsciiFrameDecoder, RejectsFramingsItCannotDecode) {
  AsciiFraming no_end;
  no_end.line_end.clear();
  EXPECT_THROW(AsciiFrameDecoder{no_end}, std::invalid_argument);
  AsciiFraming digit;
  digit.separator = '5';
  EXPECT_THROW(AsciiFrameDecoder{digit}, std::invalid_argument);
  AsciiFraming in_end;
  in_end.separator = '\n';
  EXPECT_THROW(AsciiFrameDecoder{in_end}, std::invalid_argument);
  AsciiFraming many;
  many.field_count = kMaxFields + 1;
  EXPECT_THROW(AsciiFrameDecoder{many}, std::invalid_argument);
}

TEST(AsciiFrameDecoder, SameFramesWhateverBytePositionTheStreamIsSplitAt) {
  const std::string stream = "0528;0519;0542;\r\n0001;1023;0000;\r\n0530;0520;0541;\r\n";
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    AsciiFrameDecoder d{AsciiFraming{}};
    auto frames = decode_ascii(d, std::string_view(stream).substr(0, cut));
    const auto rest = decode_ascii(d, std::string_view(stream).substr(cut));
    frames.insert(frames.end(), rest.begin(), rest.end());
    ASSERT_EQ(frames.size(), 3U) << "cut at " << cut;
    expect_counts(frames[1], 1, 1023, 0);
    expect_counts(frames[2], 530, 520, 541);
    EXPECT_EQ(d.counters().discarded_bytes, 0U);
  }
  // And one byte at a time.
  AsciiFrameDecoder d{AsciiFraming{}};
  std::vector<Frame> frames;
  for (const char c : stream) {
    const auto byte = static_cast<std::uint8_t>(c);
    d.decode(std::span(&byte, 1), frames);
  }
  ASSERT_EQ(frames.size(), 3U);
  expect_counts(frames[0], 528, 519, 542);
}

TEST(AsciiFrameDecoder, ResynchronisesAtTheNextLineEndAfterGarbage) {
  AsciiFrameDecoder d{AsciiFraming{}};
  const std::string overlong(500, 'x');
  const auto frames = decode_ascii(d,
                                   "0100;0200;0300;\r\n"
                                   "noise\r\n"  // a line that is no frame
                                   "0101;0201;0301;\r\n"
                                   "\x01\xff;0102;0202;0302;\r\n"  // garbage glued to a frame
                                   "0103;0203;0303;\r\n"
                                   "0104;02\r\n"               // truncated frame
                                   "0105;0205;0305;0405;\r\n"  // one field too many
                                   "0106;0206;0306;\r\n"
                                   "\r\n" +
                                       overlong + "\r\n" +  // longer than any frame
                                       "0107;0207;0307;\r\n" + "0108;0208;0308;\r\n");
  ASSERT_EQ(frames.size(), 6U);
  expect_counts(frames[0], 100, 200, 300);
  expect_counts(frames[1], 101, 201, 301);
  expect_counts(frames[2], 103, 203, 303);
  expect_counts(frames[3], 106, 206, 306);
  expect_counts(frames[4], 107, 207, 307);
  expect_counts(frames[5], 108, 208, 308);
  // Every frame after discarded bytes says so; consecutive ones do not.
  EXPECT_FALSE(frames[0].gap_before);
  EXPECT_TRUE(frames[1].gap_before);
  EXPECT_TRUE(frames[2].gap_before);
  EXPECT_TRUE(frames[3].gap_before);
  EXPECT_TRUE(frames[4].gap_before);
  EXPECT_FALSE(frames[5].gap_before);
  EXPECT_EQ(d.counters().frames, 6U);
  EXPECT_EQ(d.counters().malformed, 6U);
  // All of it: "noise\r\n" 7, garbage + frame 20, truncated 9, 4 fields 22, "\r\n" 2, 502.
  EXPECT_EQ(d.counters().discarded_bytes, 7U + 20U + 9U + 22U + 2U + 502U);
}

TEST(AsciiFrameDecoder, OverlongLineCountsTheSameWhereverTheReadsSplitIt) {
  const std::string stream =
      std::string(100, '7') + "\r\n0001;0002;0003;\r\n" + std::string(60, ';');
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    AsciiFrameDecoder d{AsciiFraming{}};
    auto frames = decode_ascii(d, std::string_view(stream).substr(0, cut));
    const auto rest = decode_ascii(d, std::string_view(stream).substr(cut));
    frames.insert(frames.end(), rest.begin(), rest.end());
    ASSERT_EQ(frames.size(), 1U) << "cut at " << cut;
    // The 102-byte line, and the pending 60 bytes except the 2 that could start a line end.
    EXPECT_EQ(d.counters().discarded_bytes, 102U + 58U) << "cut at " << cut;
  }
}

TEST(AsciiFrameDecoder, GarbageAtTheStartIsNotAGapAndResetRestartsNumbering) {
  AsciiFrameDecoder d{AsciiFraming{}};
  auto frames = decode_ascii(d, "19;0542;\r\n0528;0519;0542;\r\n0528;05");
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_FALSE(frames[0].gap_before);  // joining a stream mid-frame loses nothing of ours
  d.reset();
  frames = decode_ascii(d, "0001;0002;0003;\r\n");
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].index, 0U);
  expect_counts(frames[0], 1, 2, 3);
}

// --- binary -----------------------------------------------------------------------------------

// docs/serial-protocol.md's example: sequence 1, counts 528, 519, 542.
const std::vector<std::uint8_t> kExampleFrame = {0xA5, 0x5A, 0x01, 0x00, 0x10, 0x02,
                                                 0x07, 0x02, 0x1E, 0x02, 0x99, 0x17};

std::vector<Frame> decode_binary(BinaryFrameDecoder& d, std::span<const std::uint8_t> bytes) {
  std::vector<Frame> out;
  d.decode(bytes, out);
  return out;
}

std::vector<std::uint8_t> frame(std::uint16_t sequence, std::int32_t a, std::int32_t b,
                                std::int32_t c) {
  const std::int32_t counts[] = {a, b, c};
  return encode_binary_frame(BinaryFraming{}, sequence, counts);
}

std::vector<std::uint8_t> join(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

TEST(BinaryFrameDecoder, DecodesTheDocumentedExample) {
  EXPECT_EQ(BinaryFraming{}.frame_size(), 12U);
  BinaryFrameDecoder d{BinaryFraming{}};
  const auto frames = decode_binary(d, kExampleFrame);
  ASSERT_EQ(frames.size(), 1U);
  expect_counts(frames[0], 528, 519, 542);
  EXPECT_EQ(d.counters().crc_errors, 0U);
  // The encoder writes the same bytes.
  EXPECT_EQ(frame(1, 528, 519, 542), kExampleFrame);
}

TEST(BinaryFrameDecoder, Int32CountsExample) {
  BinaryFraming framing;
  framing.width = CountWidth::kInt32;
  const std::vector<std::uint8_t> bytes = {0xA5, 0x5A, 0xFF, 0xFF, 0x60, 0x79, 0xFE, 0xFF, 0x07,
                                           0x02, 0x00, 0x00, 0x1E, 0x02, 0x00, 0x00, 0xAF, 0x8C};
  EXPECT_EQ(framing.frame_size(), bytes.size());
  BinaryFrameDecoder d(framing);
  const auto frames = decode_binary(d, bytes);
  ASSERT_EQ(frames.size(), 1U);
  expect_counts(frames[0], -100000, 519, 542);
}

TEST(BinaryFrameDecoder, WrongCrcIsDroppedAndTheSequenceGapCounted) {
  auto damaged = frame(1, 10, 20, 30);
  damaged[5] ^= 0x04;  // one bit of the first count
  const auto stream = join({frame(0, 1, 2, 3), damaged, frame(2, 4, 5, 6)});
  BinaryFrameDecoder d{BinaryFraming{}};
  const auto frames = decode_binary(d, stream);
  ASSERT_EQ(frames.size(), 2U);
  expect_counts(frames[1], 4, 5, 6);
  EXPECT_EQ(frames[1].index, 2U);  // time keeps the lost frame's slot
  EXPECT_TRUE(frames[1].gap_before);
  EXPECT_EQ(d.counters().crc_errors, 1U);
  EXPECT_EQ(d.counters().dropped_frames, 1U);
  EXPECT_EQ(d.counters().discarded_bytes, 12U);
}

TEST(BinaryFrameDecoder, SequenceGapsWrapAndRepeats) {
  const auto stream = join({frame(65534, 1, 1, 1), frame(65535, 2, 2, 2), frame(0, 3, 3, 3),
                            frame(4, 4, 4, 4), frame(4, 9, 9, 9), frame(5, 5, 5, 5)});
  BinaryFrameDecoder d{BinaryFraming{}};
  const auto frames = decode_binary(d, stream);
  ASSERT_EQ(frames.size(), 5U);
  EXPECT_EQ(frames[0].index, 0U);
  EXPECT_EQ(frames[2].index, 2U);  // 65535 -> 0 is the next frame, not a gap
  EXPECT_FALSE(frames[2].gap_before);
  EXPECT_EQ(frames[3].index, 6U);  // 1, 2, 3 missing
  EXPECT_TRUE(frames[3].gap_before);
  expect_counts(frames[4], 5, 5, 5);
  EXPECT_EQ(frames[4].index, 7U);
  EXPECT_EQ(d.counters().dropped_frames, 3U);
  EXPECT_EQ(d.counters().repeated_frames, 1U);
}

TEST(BinaryFrameDecoder, ResynchronisesAfterGarbageContainingSyncBytes) {
  // Garbage that holds a sync pattern (and a partial one at its end) must not swallow the frames
  // around it.
  const std::vector<std::uint8_t> garbage = {0x00, 0xA5, 0x5A, 0x13, 0x37, 0xA5, 0xA5};
  const auto stream =
      join({frame(0, 1, 2, 3), garbage, frame(1, 4, 5, 6), {0xA5}, frame(2, 7, 8, 9)});
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    BinaryFrameDecoder d{BinaryFraming{}};
    auto frames = decode_binary(d, std::span(stream).subspan(0, cut));
    const auto rest = decode_binary(d, std::span(stream).subspan(cut));
    frames.insert(frames.end(), rest.begin(), rest.end());
    ASSERT_EQ(frames.size(), 3U) << "cut at " << cut;
    expect_counts(frames[1], 4, 5, 6);
    expect_counts(frames[2], 7, 8, 9);
    EXPECT_TRUE(frames[1].gap_before);
    EXPECT_TRUE(frames[2].gap_before);
    EXPECT_EQ(frames[2].index, 2U);
    EXPECT_EQ(d.counters().discarded_bytes, garbage.size() + 1) << "cut at " << cut;
    EXPECT_EQ(d.counters().dropped_frames, 0U);
  }
}

TEST(BinaryFrameDecoder, TruncatedFrameIsDiscardedWhenTheNextOneArrives) {
  auto truncated = frame(1, 10, 20, 30);
  truncated.resize(7);
  const auto stream = join({frame(0, 1, 2, 3), truncated, frame(2, 4, 5, 6)});
  BinaryFrameDecoder d{BinaryFraming{}};
  const auto frames = decode_binary(d, stream);
  ASSERT_EQ(frames.size(), 2U);
  expect_counts(frames[1], 4, 5, 6);
  EXPECT_EQ(d.counters().dropped_frames, 1U);
  EXPECT_EQ(d.counters().discarded_bytes, 7U);
}

TEST(BinaryFrameDecoder, EncoderClampsCountsToTheWidth) {
  const std::int32_t counts[] = {40000, -40000, 7};
  BinaryFrameDecoder d{BinaryFraming{}};
  const auto frames = decode_binary(d, encode_binary_frame(BinaryFraming{}, 0, counts));
  ASSERT_EQ(frames.size(), 1U);
  expect_counts(frames[0], 32767, -32768, 7);
}

}  // namespace
}  // namespace isokin::drivers::serial
