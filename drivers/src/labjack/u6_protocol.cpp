#include "labjack/u6_protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace isokin::drivers::u6 {
namespace {

constexpr std::uint8_t kExtendedCommand = 0xF8;
constexpr std::uint8_t kStreamDataCommand = 0xF9;
constexpr std::uint8_t kStreamDataNumber = 0xC0;
constexpr std::uint8_t kConfigU6 = 0x08;
constexpr std::uint8_t kReadCalibration = 0x2D;
constexpr std::uint8_t kStreamConfig = 0x11;
constexpr std::uint8_t kStreamStart = 0xA8;
constexpr std::uint8_t kStreamStartReply = 0xA9;
constexpr std::uint8_t kStreamStop = 0xB0;
constexpr std::uint8_t kStreamStopReply = 0xB1;
constexpr double kClock4MHz = 4e6;
constexpr double kClock48MHz = 48e6;
constexpr std::uint8_t kScanConfig48MHz = 1u << 3;
constexpr std::uint8_t kScanConfigDivide256 = 1u << 1;
// U6 datasheet 3.2, table 3.2.1: 50 ksamples/s at resolution index 1, any gain, one channel.
constexpr double kMaxSampleRate = 50'000.0;

std::uint16_t le16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8));
}
void put_le16(std::span<std::uint8_t> b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v & 0xFF);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}
std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | (static_cast<std::uint32_t>(b[at + 1]) << 8) |
         (static_cast<std::uint32_t>(b[at + 2]) << 16) |
         (static_cast<std::uint32_t>(b[at + 3]) << 24);
}
void put_le32(std::span<std::uint8_t> b, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// Checks length, checksums and bytes 1-3 of an extended response.
bool check_extended(std::span<const std::uint8_t> r, std::size_t length, std::uint8_t words,
                    std::uint8_t command, std::string_view what, ResponseError& error) {
  if (r.size() == kBadChecksumReply.size() && r[0] == 0xB8 && r[1] == 0xB8) {
    error.message = fmt::format("{}: the device rejected the command's checksum", what);
    return false;
  }
  if (r.size() != length) {
    error.message = fmt::format("{}: response of {} bytes, expected {}", what, r.size(), length);
    return false;
  }
  if (!extended_checksums_ok(r)) {
    error.message = fmt::format("{}: response checksum wrong", what);
    return false;
  }
  if (r[1] != kExtendedCommand || r[2] != words || r[3] != command) {
    error.message =
        fmt::format("{}: unexpected response header {:02X} {:02X} {:02X}", what, r[1], r[2], r[3]);
    return false;
  }
  if (r[6] != kNoError) {
    error.message = fmt::format("{}: device error {}", what, error_name(r[6]));
    return false;
  }
  return true;
}

}  // namespace

std::string_view error_name(std::uint8_t code) {
  switch (code) {
    case kNoError:
      return "NOERROR (0)";
    case kStreamIsActive:
      return "STREAM_IS_ACTIVE (48)";
    case kStreamTableInvalid:
      return "STREAM_TABLE_INVALID (49)";
    case kStreamConfigInvalid:
      return "STREAM_CONFIG_INVALID (50)";
    case kStreamNotRunning:
      return "STREAM_NOT_RUNNING (52)";
    case kStreamScanOverlap:
      return "STREAM_SCAN_OVERLAP (55)";
    case kStreamSampleNumInvalid:
      return "STREAM_SAMPLE_NUM_INVALID (56)";
    case kStreamBipolarGainInvalid:
      return "STREAM_BIPOLAR_GAIN_INVALID (57)";
    case kStreamScanRateInvalid:
      return "STREAM_SCAN_RATE_INVALID (58)";
    case kStreamAutorecoverActive:
      return "STREAM_AUTORECOVER_ACTIVE (59)";
    case kStreamAutorecoverReport:
      return "STREAM_AUTORECOVER_REPORT (60)";
    case kStreamAutorecoverOverflow:
      return "STREAM_AUTORECOVER_OVERFLOW (63)";
    default:
      return "unknown error code";
  }
}

std::uint8_t checksum8(std::span<const std::uint8_t> bytes) {
  unsigned sum = 0;
  for (const auto b : bytes) sum += b;
  // Fold twice: the carry of the first fold can itself carry once more.
  sum = (sum & 0xFFu) + (sum >> 8);
  sum = (sum & 0xFFu) + (sum >> 8);
  return static_cast<std::uint8_t>(sum & 0xFFu);
}

std::uint16_t checksum16(std::span<const std::uint8_t> bytes) {
  unsigned sum = 0;
  for (const auto b : bytes) sum += b;
  return static_cast<std::uint16_t>(sum & 0xFFFFu);
}

void seal_extended(std::span<std::uint8_t> frame) {
  put_le16(frame, 4, checksum16(frame.subspan(6)));
  frame[0] = checksum8(frame.subspan(1, 5));
}

void seal_normal(std::span<std::uint8_t> frame) {
  frame[0] = checksum8(frame.subspan(1));
}

bool extended_checksums_ok(std::span<const std::uint8_t> frame) {
  return frame.size() >= 6 && le16(frame, 4) == checksum16(frame.subspan(6)) &&
         frame[0] == checksum8(frame.subspan(1, 5));
}

bool normal_checksum_ok(std::span<const std::uint8_t> frame) {
  return frame.size() >= 2 && frame[0] == checksum8(frame.subspan(1));
}

std::vector<std::uint8_t> extended_frame(std::uint8_t command, std::size_t length) {
  std::vector<std::uint8_t> f(length, 0);
  f[1] = kExtendedCommand;
  f[2] = static_cast<std::uint8_t>((length - 6) / 2);
  f[3] = command;
  return f;
}

// --- ConfigU6 ----------------------------------------------------------------------------

std::string DeviceInfo::firmware() const {
  return fmt::format("{}.{:02d}", firmware_major, firmware_minor);
}

std::vector<std::uint8_t> config_u6_command() {
  auto f = extended_frame(kConfigU6, kConfigU6CommandLength);
  seal_extended(f);
  return f;
}

std::vector<std::uint8_t> config_u6_response(const DeviceInfo& info) {
  auto f = extended_frame(kConfigU6, kConfigU6ResponseLength);
  f[9] = info.firmware_minor;
  f[10] = info.firmware_major;
  f[13] = info.hardware_minor;
  f[14] = info.hardware_major;
  put_le32(f, 15, info.serial);
  put_le16(f, 19, info.product_id);
  f[21] = info.local_id;
  f[37] = info.version_info;
  seal_extended(f);
  return f;
}

bool parse_config_u6(std::span<const std::uint8_t> r, DeviceInfo& info, ResponseError& error) {
  if (!check_extended(r, kConfigU6ResponseLength, 0x10, kConfigU6, "ConfigU6", error)) return false;
  info.firmware_minor = r[9];
  info.firmware_major = r[10];
  info.hardware_minor = r[13];
  info.hardware_major = r[14];
  info.serial = le32(r, 15);
  info.product_id = le16(r, 19);
  info.local_id = r[21];
  info.version_info = r[37];
  if (info.product_id != kProductId) {
    error.message =
        fmt::format("ConfigU6: product id {} is not a U6 ({})", info.product_id, kProductId);
    return false;
  }
  return true;
}

// --- Calibration -------------------------------------------------------------------------

double fixed_point_to_double(std::span<const std::uint8_t, 8> bytes) {
  const std::uint32_t fraction = le32(bytes, 0);
  const auto whole = static_cast<std::int32_t>(le32(bytes, 4));
  return static_cast<double>(whole) + static_cast<double>(fraction) / 4294967296.0;
}

std::array<std::uint8_t, 8> double_to_fixed_point(double value) {
  std::array<std::uint8_t, 8> out{};
  const double whole = std::floor(value);
  const double fraction = std::round((value - whole) * 4294967296.0);
  // A fraction that rounds up to 1.0 carries into the whole part.
  const bool carry = fraction >= 4294967296.0;
  put_le32(out, 0, carry ? 0u : static_cast<std::uint32_t>(fraction));
  put_le32(out, 4, static_cast<std::uint32_t>(static_cast<std::int32_t>(whole + (carry ? 1 : 0))));
  return out;
}

std::vector<std::uint8_t> read_calibration_command(std::uint8_t block) {
  auto f = extended_frame(kReadCalibration, kReadMemCommandLength);
  f[7] = block;
  seal_extended(f);
  return f;
}

std::vector<std::uint8_t> read_calibration_response(std::uint8_t block,
                                                    const std::array<double, 4>& constants) {
  (void)block;
  auto f = extended_frame(kReadCalibration, kReadMemResponseLength);
  for (std::size_t i = 0; i < 4; ++i) {
    const auto fp = double_to_fixed_point(constants[i]);
    std::copy(fp.begin(), fp.end(), f.begin() + static_cast<std::ptrdiff_t>(8 + 8 * i));
  }
  seal_extended(f);
  return f;
}

bool parse_read_calibration(std::span<const std::uint8_t> r, std::uint8_t block,
                            std::array<double, 4>& constants, ResponseError& error) {
  const auto what = fmt::format("ReadMem calibration block {}", block);
  if (!check_extended(r, kReadMemResponseLength, 0x11, kReadCalibration, what, error)) return false;
  for (std::size_t i = 0; i < 4; ++i) {
    constants[i] = fixed_point_to_double(r.subspan(8 + 8 * i).first<8>());
  }
  return true;
}

double gain_range_volts(Gain gain) {
  return 10.0 / std::pow(10.0, static_cast<int>(gain));
}

Calibration Calibration::nominal() {
  // U6 datasheet nominal constants; each gain step is ten times finer around the same centre.
  Calibration c;
  for (int g = 0; g < 4; ++g) {
    const double scale = std::pow(10.0, g);
    const auto i = static_cast<std::size_t>(g);
    c.slope[i] = 3.1580578e-4 / scale;
    c.neg_slope[i] = -3.158058e-4 / scale;
    c.center[i] = 33523.0;
    c.offset[i] = -10.5869 / scale;
  }
  return c;
}

std::array<double, 4> Calibration::block(int index) const {
  // Blocks 0/1: slope and offset of ±10/±1 V, then ±0.1/±0.01 V; blocks 2/3: negative slope
  // and centre in the same order.
  const auto g = static_cast<std::size_t>(2 * (index % 2));
  if (index < 2) return {slope[g], offset[g], slope[g + 1], offset[g + 1]};
  return {neg_slope[g], center[g], neg_slope[g + 1], center[g + 1]};
}

void Calibration::set_block(int index, const std::array<double, 4>& k) {
  const auto g = static_cast<std::size_t>(2 * (index % 2));
  if (index < 2) {
    slope[g] = k[0];
    offset[g] = k[1];
    slope[g + 1] = k[2];
    offset[g + 1] = k[3];
  } else {
    neg_slope[g] = k[0];
    center[g] = k[1];
    neg_slope[g + 1] = k[2];
    center[g + 1] = k[3];
  }
}

double Calibration::volts(std::uint16_t counts, Gain gain) const {
  const auto g = static_cast<std::size_t>(gain);
  const double b = counts;
  if (b < center[g]) return (center[g] - b) * neg_slope[g];
  return (b - center[g]) * slope[g];
}

std::uint16_t Calibration::counts(double volts, Gain gain) const {
  const auto g = static_cast<std::size_t>(gain);
  const double b = volts < 0.0 ? center[g] - volts / neg_slope[g] : center[g] + volts / slope[g];
  return static_cast<std::uint16_t>(std::clamp(std::round(b), 0.0, 65534.0));
}

// --- Stream configuration ----------------------------------------------------------------

double ScanClock::clock_hz() const {
  const double base = (scan_config & kScanConfig48MHz) != 0 ? kClock48MHz : kClock4MHz;
  return (scan_config & kScanConfigDivide256) != 0 ? base / 256.0 : base;
}

bool choose_scan_clock(double scan_rate_hz, ScanClock& clock) {
  if (!(scan_rate_hz > 0.0) || !std::isfinite(scan_rate_hz)) return false;
  // The fastest clock whose 16-bit interval still reaches the rate (LabJackPython's thresholds:
  // 48 MHz / 65535 = 732.4 Hz, 4 MHz / 65535 = 61.04 Hz).
  for (const std::uint8_t config : {kScanConfig48MHz, std::uint8_t{0}, kScanConfigDivide256}) {
    ScanClock c{config, 1};
    const double interval = std::round(c.clock_hz() / scan_rate_hz);
    if (interval >= 1.0 && interval <= 65535.0) {
      c.interval = static_cast<std::uint16_t>(interval);
      clock = c;
      return true;
    }
  }
  return false;
}

double max_scan_rate_hz(const std::vector<StreamChannel>& channels) {
  if (channels.empty()) return 0.0;
  // One channel streams at 50 k scans/s at any gain. With more, each row of the table holds a
  // nearly constant total sample rate (settling time per channel): ±10 V 50,000 (25 k × 2,
  // 12.5 k × 4, 6.3 k × 8), ±1 V 4,320 (540 × 8), ±0.1 V 880 (110 × 8), ±0.01 V 352 (88 × 4,
  // 44 × 8); the smallest product of each row is used.
  constexpr std::array<double, 4> kSamplesPerSecond{50'000.0, 4'320.0, 880.0, 352.0};
  if (channels.size() == 1) return 50'000.0;
  std::size_t row = 0;
  for (const auto& c : channels) row = std::max(row, static_cast<std::size_t>(c.gain));
  return kSamplesPerSecond[row] / static_cast<double>(channels.size());
}

std::vector<std::uint8_t> stream_config_command(const StreamSettings& s) {
  const auto n = s.channels.size();
  if (n < 1 || n > kMaxStreamChannels) {
    throw std::invalid_argument(
        fmt::format("U6 stream: {} channels, must be 1-{}", n, kMaxStreamChannels));
  }
  if (s.samples_per_packet < 1 || s.samples_per_packet > kMaxSamplesPerPacket) {
    throw std::invalid_argument(fmt::format("U6 stream: {} samples per packet, must be 1-{}",
                                            s.samples_per_packet, kMaxSamplesPerPacket));
  }
  if (s.resolution_index > 8) {
    throw std::invalid_argument(
        fmt::format("U6 stream: resolution index {} (stream allows 0-8)", s.resolution_index));
  }
  if (s.scan_rate_hz * static_cast<double>(n) > kMaxSampleRate) {
    throw std::invalid_argument(
        fmt::format("U6 stream: {} Hz × {} channels exceeds the U6's {} samples/s", s.scan_rate_hz,
                    n, kMaxSampleRate));
  }
  if (const double limit = max_scan_rate_hz(s.channels); s.scan_rate_hz > limit) {
    throw std::invalid_argument(fmt::format(
        "U6 stream: {} Hz is above the {} scans/s the U6 sustains for {} channels at this gain "
        "(datasheet table 3.2.1); lower scan_rate_hz or use a larger range",
        s.scan_rate_hz, limit, n));
  }
  ScanClock clock;
  if (!choose_scan_clock(s.scan_rate_hz, clock)) {
    throw std::invalid_argument(
        fmt::format("U6 stream: scan rate {} Hz cannot be clocked", s.scan_rate_hz));
  }
  auto f = extended_frame(kStreamConfig, 14 + 2 * n);
  f[6] = static_cast<std::uint8_t>(n);
  f[7] = s.resolution_index;
  f[8] = s.samples_per_packet;
  f[10] = s.settling_factor;
  f[11] = clock.scan_config;
  put_le16(f, 12, clock.interval);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& c = s.channels[i];
    f[14 + 2 * i] = c.channel;
    f[15 + 2 * i] = static_cast<std::uint8_t>((c.differential ? 0x80 : 0x00) |
                                              (static_cast<unsigned>(c.gain) << 4));
  }
  seal_extended(f);
  return f;
}

bool parse_stream_config_command(std::span<const std::uint8_t> c, StreamSettings& s,
                                 ScanClock& clock, ResponseError& error) {
  if (c.size() < 16 || !extended_checksums_ok(c) || c[1] != kExtendedCommand ||
      c[3] != kStreamConfig) {
    error.message = "StreamConfig: malformed command";
    return false;
  }
  const std::size_t n = c[6];
  if (n < 1 || n > kMaxStreamChannels || c.size() != 14 + 2 * n || c[2] != n + 4) {
    error.message = fmt::format("StreamConfig: {} channels in a {}-byte command", n, c.size());
    return false;
  }
  s.resolution_index = c[7];
  s.samples_per_packet = c[8];
  s.settling_factor = c[10];
  clock.scan_config = c[11];
  clock.interval = le16(c, 12);
  if (clock.interval == 0) {
    error.message = "StreamConfig: scan interval 0";
    return false;
  }
  s.scan_rate_hz = clock.scan_rate_hz();
  s.channels.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t options = c[15 + 2 * i];
    s.channels.push_back(
        {c[14 + 2 * i], static_cast<Gain>((options >> 4) & 0x03), (options & 0x80) != 0});
  }
  return true;
}

std::vector<std::uint8_t> stream_config_response(std::uint8_t error_code) {
  auto f = extended_frame(kStreamConfig, kStreamConfigResponseLength);
  f[6] = error_code;
  seal_extended(f);
  return f;
}

bool parse_stream_config_response(std::span<const std::uint8_t> r, ResponseError& error) {
  return check_extended(r, kStreamConfigResponseLength, 0x01, kStreamConfig, "StreamConfig", error);
}

std::vector<std::uint8_t> stream_start_command() {
  std::vector<std::uint8_t> f{0, kStreamStart};
  seal_normal(f);
  return f;
}

std::vector<std::uint8_t> stream_stop_command() {
  std::vector<std::uint8_t> f{0, kStreamStop};
  seal_normal(f);
  return f;
}

std::vector<std::uint8_t> start_stop_response(bool start, std::uint8_t error_code) {
  std::vector<std::uint8_t> f{0, start ? kStreamStartReply : kStreamStopReply, error_code, 0};
  seal_normal(f);
  return f;
}

bool parse_start_stop_response(std::span<const std::uint8_t> r, bool start,
                               std::uint8_t& error_code, ResponseError& error) {
  const std::string_view what = start ? "StreamStart" : "StreamStop";
  if (r.size() == kBadChecksumReply.size() && r[0] == 0xB8 && r[1] == 0xB8) {
    error.message = fmt::format("{}: the device rejected the command's checksum", what);
    return false;
  }
  if (r.size() != kStartStopResponseLength || !normal_checksum_ok(r) ||
      r[1] != (start ? kStreamStartReply : kStreamStopReply) || r[3] != 0) {
    error.message = fmt::format("{}: malformed response of {} bytes", what, r.size());
    return false;
  }
  error_code = r[2];
  return true;
}

// --- Stream data -------------------------------------------------------------------------

std::string_view to_string(PacketStatus status) {
  switch (status) {
    case PacketStatus::kOk:
      return "ok";
    case PacketStatus::kShort:
      return "short packet";
    case PacketStatus::kBadChecksum:
      return "bad checksum";
    case PacketStatus::kBadHeader:
      return "bad header";
  }
  return "?";
}

StreamPacket decode_stream_packet(std::span<const std::uint8_t> b, int samples_per_packet) {
  StreamPacket p;
  const std::size_t length = stream_packet_length(samples_per_packet);
  if (b.size() < length) {
    p.status = PacketStatus::kShort;
    return p;
  }
  b = b.first(length);
  if (!extended_checksums_ok(b)) {
    p.status = PacketStatus::kBadChecksum;
    return p;
  }
  if (b[1] != kStreamDataCommand || b[2] != 4 + samples_per_packet || b[3] != kStreamDataNumber) {
    p.status = PacketStatus::kBadHeader;
    return p;
  }
  p.counter = b[10];
  p.error_code = b[11];
  if (p.error_code == kStreamAutorecoverReport) p.discarded_scans = le16(b, 6);
  p.sample_count = samples_per_packet;
  for (std::size_t i = 0; i < static_cast<std::size_t>(samples_per_packet); ++i) {
    p.samples[i] = le16(b, 12 + 2 * i);
  }
  p.backlog = b[12 + 2 * static_cast<std::size_t>(samples_per_packet)];
  return p;
}

std::vector<std::uint8_t> encode_stream_packet(const StreamPacketContent& c) {
  const auto spp = static_cast<int>(c.samples.size());
  std::vector<std::uint8_t> f(stream_packet_length(spp), 0);
  f[1] = kStreamDataCommand;
  f[2] = static_cast<std::uint8_t>(4 + spp);
  f[3] = kStreamDataNumber;
  if (c.error_code == kStreamAutorecoverReport) put_le16(f, 6, c.discarded_scans);
  f[10] = c.counter;
  f[11] = c.error_code;
  for (std::size_t i = 0; i < c.samples.size(); ++i) put_le16(f, 12 + 2 * i, c.samples[i]);
  f[12 + 2 * c.samples.size()] = c.backlog;
  seal_extended(f);
  return f;
}

StreamDecoder::StreamDecoder(int channels, int samples_per_packet)
    : channels_(channels), spp_(samples_per_packet) {
  if (channels < 1 || channels > kMaxStreamChannels || samples_per_packet < 1 ||
      samples_per_packet > kMaxSamplesPerPacket) {
    throw std::invalid_argument(fmt::format("U6 stream decoder: {} channels, {} samples/packet",
                                            channels, samples_per_packet));
  }
}

std::uint8_t StreamDecoder::feed(std::span<const std::uint8_t> bytes,
                                 std::vector<DecodedScan>& out) {
  const std::size_t length = packet_length();
  while (!bytes.empty()) {
    const StreamPacket p = decode_stream_packet(bytes, spp_);
    bytes = bytes.subspan(std::min(length, bytes.size()));
    switch (p.status) {
      case PacketStatus::kOk:
        if (const auto code = feed_packet(p, out); code != kNoError) return code;
        break;
      case PacketStatus::kShort:
        ++counters_.short_packets;
        break;
      case PacketStatus::kBadChecksum:
      case PacketStatus::kBadHeader:
        ++counters_.corrupt_packets;
        break;
    }
  }
  return kNoError;
}

std::uint8_t StreamDecoder::feed_packet(const StreamPacket& p, std::vector<DecodedScan>& out) {
  // Packets missing before this one (never sent to us, corrupt or short): their samples are
  // gone, and so is the scan they cut.
  const auto missing = static_cast<std::uint8_t>(p.counter - expected_counter_);
  if (missing > 0) {
    counters_.lost_packets += missing;
    sample_position_ += static_cast<std::uint64_t>(missing) * static_cast<std::uint64_t>(spp_);
    scan_valid_ = false;
    gap_pending_ = true;
  }
  expected_counter_ = static_cast<std::uint8_t>(p.counter + 1);
  ++counters_.packets;
  counters_.max_backlog = std::max<int>(counters_.max_backlog, p.backlog);
  bool flagged = false;
  switch (p.error_code) {
    case kNoError:
    case kStreamAutorecoverActive:  // buffered scans from before the overflow: valid
      break;
    case kStreamAutorecoverReport:
      ++counters_.overflows;
      counters_.discarded_scans += p.discarded_scans;
      expect_dummy_ = true;
      dummy_stands_for_ = std::max<std::uint16_t>(p.discarded_scans, 1);
      break;
    case kStreamScanOverlap:  // a scan started before the previous one finished
      ++counters_.flagged_packets;
      flagged = true;
      break;
    default:
      return p.error_code;
  }
  const auto channels = static_cast<std::uint64_t>(channels_);
  for (int i = 0; i < p.sample_count; ++i) {
    const auto channel = static_cast<std::size_t>(sample_position_ % channels);
    ++sample_position_;
    if (channel == 0) {
      scan_valid_ = true;
      current_.flagged = false;
    }
    if (!scan_valid_) continue;
    current_.counts[channel] = p.samples[static_cast<std::size_t>(i)];
    current_.flagged = current_.flagged || flagged;
    if (channel + 1 < channels) continue;
    scan_valid_ = false;
    if (expect_dummy_ && std::all_of(current_.counts.begin(), current_.counts.begin() + channels_,
                                     [](std::uint16_t c) { return c == kDummySample; })) {
      // The dummy scan stands in for every discarded scan, its own slot included.
      extra_scans_ += dummy_stands_for_ - 1u;
      expect_dummy_ = false;
      gap_pending_ = true;
      continue;
    }
    current_.index = sample_position_ / channels - 1 + extra_scans_;
    current_.gap_before = gap_pending_;
    gap_pending_ = false;
    out.push_back(current_);
  }
  return kNoError;
}

}  // namespace isokin::drivers::u6
