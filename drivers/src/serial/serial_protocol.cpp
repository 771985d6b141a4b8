#include "isokin/drivers/serial_protocol.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace isokin::drivers::serial {
namespace {

constexpr std::size_t kSequenceBytes = 2;
constexpr std::size_t kCrcBytes = 2;
// "-2147483648" and its separator.
constexpr std::size_t kMaxFieldChars = 12;

constexpr std::array<std::uint16_t, 256> make_crc_table() {
  std::array<std::uint16_t, 256> table{};
  for (std::size_t byte = 0; byte < 256; ++byte) {
    auto crc = static_cast<std::uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}
constexpr auto kCrcTable = make_crc_table();

std::size_t count_bytes(CountWidth width) {
  return width == CountWidth::kInt16 ? 2 : 4;
}

bool is_number_char(char c) {
  return (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

std::uint16_t crc16_ccitt(std::span<const std::uint8_t> bytes) {
  std::uint16_t crc = 0xFFFF;
  for (const std::uint8_t b : bytes) {
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrcTable[((crc >> 8) ^ b) & 0xFF]);
  }
  return crc;
}

// --- ASCII ------------------------------------------------------------------------------------

AsciiFrameDecoder::AsciiFrameDecoder(AsciiFraming framing)
    : framing_(std::move(framing)), max_line_(framing_.field_count * kMaxFieldChars) {
  if (framing_.line_end.empty()) throw std::invalid_argument("ASCII framing: empty line end");
  if (framing_.field_count == 0 || framing_.field_count > kMaxFields) {
    throw std::invalid_argument("ASCII framing: field count must be 1 to 8");
  }
  if (is_number_char(framing_.separator) ||
      framing_.line_end.find(framing_.separator) != std::string::npos) {
    throw std::invalid_argument("ASCII framing: the separator is part of a number or line end");
  }
  if (std::any_of(framing_.line_end.begin(), framing_.line_end.end(), is_number_char)) {
    throw std::invalid_argument("ASCII framing: the line end contains digits or '-'");
  }
  line_.reserve(max_line_ + framing_.line_end.size());
}

void AsciiFrameDecoder::reset() {
  line_.clear();
  overlong_ = false;
  gap_pending_ = false;
  next_index_ = 0;
}

void AsciiFrameDecoder::decode(std::span<const std::uint8_t> bytes, std::vector<Frame>& out) {
  const std::string& line_end = framing_.line_end;
  const auto* p = reinterpret_cast<const char*>(bytes.data());
  const char* const end = p + bytes.size();
  while (p < end) {
    // Only the line end's last character can complete a frame: jump from one to the next.
    const auto* hit = static_cast<const char*>(
        std::memchr(p, line_end.back(), static_cast<std::size_t>(end - p)));
    const char* const stop = hit != nullptr ? hit + 1 : end;
    line_.append(p, stop);
    p = stop;
    if (overlong_ || line_.size() > max_line_ + line_end.size()) {
      // No frame is this long: drop it up to its line end, keeping what could be the start of
      // the line end.
      counters_.discarded_bytes += line_.size() - line_end.size();
      line_.erase(0, line_.size() - line_end.size());
      overlong_ = true;
    }
    if (hit != nullptr && std::string_view(line_).ends_with(line_end)) finish_line(out);
  }
}

void AsciiFrameDecoder::finish_line(std::vector<Frame>& out) {
  std::string_view text(line_);
  text.remove_suffix(framing_.line_end.size());
  Frame frame;
  std::size_t fields = 0;
  bool valid = !overlong_ && !text.empty();
  if (valid && text.back() == framing_.separator) text.remove_suffix(1);
  while (valid) {
    const std::size_t cut = text.find(framing_.separator);
    const std::string_view field = text.substr(0, cut);
    std::int32_t value = 0;
    const auto [rest, error] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (field.empty() || error != std::errc() || rest != field.data() + field.size() ||
        fields == framing_.field_count) {
      valid = false;
      break;
    }
    frame.counts[fields++] = value;
    if (cut == std::string_view::npos) break;
    text.remove_prefix(cut + 1);
  }
  if (valid && fields == framing_.field_count) {
    frame.index = next_index_++;
    frame.gap_before = gap_pending_ && frame.index > 0;
    gap_pending_ = false;
    ++counters_.frames;
    out.push_back(frame);
  } else {
    ++counters_.malformed;
    counters_.discarded_bytes += line_.size();
    gap_pending_ = true;
  }
  line_.clear();
  overlong_ = false;
}

// --- binary -----------------------------------------------------------------------------------

std::size_t BinaryFraming::frame_size() const {
  return sync.size() + kSequenceBytes + field_count * count_bytes(width) + kCrcBytes;
}

BinaryFrameDecoder::BinaryFrameDecoder(BinaryFraming framing)
    : framing_(std::move(framing)), frame_size_(framing_.frame_size()) {
  if (framing_.sync.empty()) throw std::invalid_argument("binary framing: no sync bytes");
  if (framing_.field_count == 0 || framing_.field_count > kMaxFields) {
    throw std::invalid_argument("binary framing: field count must be 1 to 8");
  }
  pending_.reserve(4 * frame_size_);
}

void BinaryFrameDecoder::reset() {
  pending_.clear();
  have_sequence_ = false;
  gap_pending_ = false;
  index_ = 0;
}

void BinaryFrameDecoder::decode(std::span<const std::uint8_t> bytes, std::vector<Frame>& out) {
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  const auto& sync = framing_.sync;
  std::size_t pos = 0;
  const std::size_t size = pending_.size();
  while (pos < size) {
    const auto found = std::search(pending_.begin() + static_cast<std::ptrdiff_t>(pos),
                                   pending_.end(), sync.begin(), sync.end());
    const auto at = static_cast<std::size_t>(found - pending_.begin());
    if (at == size) {
      // No sync: keep a tail that could be the start of one.
      const std::size_t keep = std::min(sync.size() - 1, size - pos);
      if (size - keep > pos) gap_pending_ = true;
      counters_.discarded_bytes += size - keep - pos;
      pos = size - keep;
      break;
    }
    if (at > pos) {
      counters_.discarded_bytes += at - pos;
      gap_pending_ = true;
      pos = at;
    }
    if (size - pos < frame_size_) break;
    const std::uint8_t* frame = pending_.data() + pos;
    const std::span<const std::uint8_t> covered(frame + sync.size(),
                                                frame_size_ - sync.size() - kCrcBytes);
    const auto sent =
        static_cast<std::uint16_t>(frame[frame_size_ - 2] | (frame[frame_size_ - 1] << 8));
    if (crc16_ccitt(covered) == sent) {
      accept(frame, out);
      pos += frame_size_;
    } else {
      // Perhaps a sync pattern inside garbage or a damaged frame: look again one byte on.
      ++counters_.crc_errors;
      ++counters_.discarded_bytes;
      gap_pending_ = true;
      ++pos;
    }
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pos));
}

void BinaryFrameDecoder::accept(const std::uint8_t* frame, std::vector<Frame>& out) {
  const std::uint8_t* p = frame + framing_.sync.size();
  const auto sequence = static_cast<std::uint16_t>(p[0] | (p[1] << 8));
  p += kSequenceBytes;
  if (have_sequence_) {
    const auto step = static_cast<std::uint16_t>(sequence - last_sequence_);
    if (step == 0) {
      ++counters_.repeated_frames;
      return;
    }
    index_ += step;
    if (step > 1) {
      counters_.dropped_frames += step - 1U;
      gap_pending_ = true;
    }
  } else {
    have_sequence_ = true;
    index_ = 0;
  }
  last_sequence_ = sequence;
  Frame f;
  f.index = index_;
  f.gap_before = gap_pending_ && index_ > 0;
  gap_pending_ = false;
  for (std::size_t i = 0; i < framing_.field_count; ++i) {
    if (framing_.width == CountWidth::kInt16) {
      f.counts[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>(p[0] | (p[1] << 8)));
      p += 2;
    } else {
      f.counts[i] = static_cast<std::int32_t>(
          static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
          (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24));
      p += 4;
    }
  }
  ++counters_.frames;
  out.push_back(f);
}

std::vector<std::uint8_t> encode_binary_frame(const BinaryFraming& framing, std::uint16_t sequence,
                                              std::span<const std::int32_t> counts) {
  std::vector<std::uint8_t> bytes(framing.sync.begin(), framing.sync.end());
  bytes.reserve(framing.frame_size());
  auto put = [&bytes](std::uint32_t value, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      bytes.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  };
  put(sequence, 2);
  for (std::size_t i = 0; i < framing.field_count; ++i) {
    std::int32_t value = i < counts.size() ? counts[i] : 0;
    if (framing.width == CountWidth::kInt16) {
      value = std::clamp<std::int32_t>(value, std::numeric_limits<std::int16_t>::min(),
                                       std::numeric_limits<std::int16_t>::max());
      put(static_cast<std::uint16_t>(value), 2);
    } else {
      put(static_cast<std::uint32_t>(value), 4);
    }
  }
  const std::uint16_t crc = crc16_ccitt(std::span(bytes).subspan(framing.sync.size()));
  put(crc, 2);
  return bytes;
}

}  // namespace isokin::drivers::serial
