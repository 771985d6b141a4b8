#pragma once
// LabJack U6 low-level USB protocol: command framing, checksums, the commands a stream needs,
// calibration constants and stream packet decoding. Pure functions on byte buffers, no I/O:
// shared by the driver (u6_device.cpp) and the test emulator (tests/emulators/).
// Sources for every field: docs/hardware.md ("LabJack U6 protocol").

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace isokin::drivers::u6 {

inline constexpr std::uint16_t kVendorId = 0x0CD5;
inline constexpr std::uint16_t kProductId = 0x0006;
inline constexpr unsigned char kCommandEndpoint = 0x01;   // bulk OUT
inline constexpr unsigned char kResponseEndpoint = 0x82;  // bulk IN
inline constexpr unsigned char kStreamEndpoint = 0x83;    // bulk IN
inline constexpr std::size_t kMaxPacketSize = 64;
inline constexpr int kMaxSamplesPerPacket = 25;
inline constexpr int kMaxStreamChannels = 25;
inline constexpr std::uint16_t kDummySample = 0xFFFF;  // the auto-recovery dummy scan

// Stream and command error codes used here (LabJackPython ERROR_TO_STRING_DICT).
enum ErrorCode : std::uint8_t {
  kNoError = 0,
  kStreamIsActive = 48,
  kStreamTableInvalid = 49,
  kStreamConfigInvalid = 50,
  kStreamNotRunning = 52,
  kStreamScanOverlap = 55,
  kStreamSampleNumInvalid = 56,
  kStreamBipolarGainInvalid = 57,
  kStreamScanRateInvalid = 58,
  kStreamAutorecoverActive = 59,
  kStreamAutorecoverReport = 60,
  kStreamAutorecoverOverflow = 63,
};
std::string_view error_name(std::uint8_t code);  // "STREAM_SCAN_OVERLAP (55)"

// --- Checksums and framing ---------------------------------------------------------------
// Sum of the bytes folded twice into 8 bits (U6 datasheet 5.1).
std::uint8_t checksum8(std::span<const std::uint8_t> bytes);
// Sum of the bytes kept to 16 bits.
std::uint16_t checksum16(std::span<const std::uint8_t> bytes);
// Extended frame (byte 1 = 0xF8 or 0xF9): Checksum16 of bytes 6.. at 4/5, then Checksum8 of 1..5.
void seal_extended(std::span<std::uint8_t> frame);
// Normal frame: Checksum8 of bytes 1.. at byte 0.
void seal_normal(std::span<std::uint8_t> frame);
[[nodiscard]] bool extended_checksums_ok(std::span<const std::uint8_t> frame);
[[nodiscard]] bool normal_checksum_ok(std::span<const std::uint8_t> frame);
// An extended command frame of the given total length (even, >= 6) with its header filled in.
std::vector<std::uint8_t> extended_frame(std::uint8_t command, std::size_t length);

// A malformed or failed command response: what was expected and what arrived.
struct ResponseError {
  std::string message;
};

// --- ConfigU6 ----------------------------------------------------------------------------
inline constexpr std::size_t kConfigU6CommandLength = 26;
inline constexpr std::size_t kConfigU6ResponseLength = 38;
struct DeviceInfo {
  std::uint32_t serial = 0;
  std::uint16_t product_id = 0;
  std::uint8_t local_id = 0;
  std::uint8_t firmware_major = 0;
  std::uint8_t firmware_minor = 0;
  std::uint8_t hardware_major = 0;
  std::uint8_t hardware_minor = 0;
  std::uint8_t version_info = 0;  // 4 = U6, 12 = U6-Pro
  [[nodiscard]] bool pro() const { return (version_info & 0x08) != 0; }
  [[nodiscard]] std::string firmware() const;  // "1.43"
};
std::vector<std::uint8_t> config_u6_command();                         // read-only: writes nothing
std::vector<std::uint8_t> config_u6_response(const DeviceInfo& info);  // emulator side
// Command responses: false (and `error` filled in) when the frame is malformed or reports an
// error code; the caller adds where it happened.
bool parse_config_u6(std::span<const std::uint8_t> response, DeviceInfo& info,
                     ResponseError& error);

// --- Calibration memory ------------------------------------------------------------------
inline constexpr std::size_t kReadMemCommandLength = 8;
inline constexpr std::size_t kReadMemResponseLength = 40;
inline constexpr int kCalibrationBlocks = 4;  // blocks 0-3: the analog input constants stream uses

// 64-bit fixed point: uint32 fraction (LE) then signed int32 whole part (LE).
double fixed_point_to_double(std::span<const std::uint8_t, 8> bytes);
std::array<std::uint8_t, 8> double_to_fixed_point(double value);

std::vector<std::uint8_t> read_calibration_command(std::uint8_t block);
std::vector<std::uint8_t> read_calibration_response(std::uint8_t block,
                                                    const std::array<double, 4>& constants);
bool parse_read_calibration(std::span<const std::uint8_t> response, std::uint8_t block,
                            std::array<double, 4>& constants, ResponseError& error);

enum class Gain : std::uint8_t { kX1 = 0, kX10 = 1, kX100 = 2, kX1000 = 3 };  // ±10, 1, 0.1, 0.01 V
double gain_range_volts(Gain gain);

// Analog input calibration of the ±10/±1/±0.1/±0.01 V ranges (blocks 0-3).
struct Calibration {
  std::array<double, 4> slope{};      // V per count above the centre
  std::array<double, 4> neg_slope{};  // V per count below the centre (negative)
  std::array<double, 4> center{};     // counts at 0 V
  std::array<double, 4> offset{};     // stored but unused by LabJack's own libraries
  static Calibration nominal();       // the datasheet's nominal values
  // Blocks 0-3 in device order (see docs/hardware.md).
  [[nodiscard]] std::array<double, 4> block(int index) const;
  void set_block(int index, const std::array<double, 4>& constants);
  [[nodiscard]] double volts(std::uint16_t counts, Gain gain) const;
  // The count whose conversion is nearest to `volts` (clamped to 0..0xFFFE; 0xFFFF is the
  // dummy marker): the emulator's inverse of volts().
  [[nodiscard]] std::uint16_t counts(double volts, Gain gain) const;
};

// --- Stream configuration ----------------------------------------------------------------
struct StreamChannel {
  std::uint8_t channel = 0;  // AIN number 0-143
  Gain gain = Gain::kX1;
  bool differential = false;
};
struct StreamSettings {
  std::vector<StreamChannel> channels;
  double scan_rate_hz = 1000.0;
  std::uint8_t resolution_index = 1;  // 0-8 (0 ≡ 1)
  std::uint8_t samples_per_packet = kMaxSamplesPerPacket;
  std::uint8_t settling_factor = 0;  // 0 = auto
};
// The stream clock: ScanRate = clock / interval, clock 4 MHz, 48 MHz or 4 MHz / 256.
struct ScanClock {
  std::uint8_t scan_config = 0;  // byte 11: bit 3 = 48 MHz, bit 1 = divide by 256
  std::uint16_t interval = 1;
  [[nodiscard]] double clock_hz() const;
  [[nodiscard]] double scan_rate_hz() const { return clock_hz() / interval; }
};
// The clock and interval nearest to the requested rate (LabJackPython's clock choice).
// Returns false when the rate is outside what the clock can produce.
bool choose_scan_clock(double scan_rate_hz, ScanClock& clock);

// The highest scan rate the U6 sustains for these channels at resolution index 1 (datasheet
// table 3.2.1); the finest gain among them decides, since it needs the longest settling.
double max_scan_rate_hz(const std::vector<StreamChannel>& channels);

// Validates the settings (channel count, SPP, resolution, rate) and returns the command.
// Throws std::invalid_argument naming the bad setting.
std::vector<std::uint8_t> stream_config_command(const StreamSettings& settings);
inline constexpr std::size_t kStreamConfigResponseLength = 8;
// Emulator side: parse a StreamConfig command back into settings and the clock.
bool parse_stream_config_command(std::span<const std::uint8_t> command, StreamSettings& settings,
                                 ScanClock& clock, ResponseError& error);
std::vector<std::uint8_t> stream_config_response(std::uint8_t error_code);
bool parse_stream_config_response(std::span<const std::uint8_t> response, ResponseError& error);

// StreamStart (A8) / StreamStop (B0), normal frames; response 4 bytes.
inline constexpr std::size_t kStartStopResponseLength = 4;
std::vector<std::uint8_t> stream_start_command();
std::vector<std::uint8_t> stream_stop_command();
std::vector<std::uint8_t> start_stop_response(bool start, std::uint8_t error_code);
// error_code receives the device's code (0 = success); false when the frame itself is wrong.
bool parse_start_stop_response(std::span<const std::uint8_t> response, bool start,
                               std::uint8_t& error_code, ResponseError& error);

// The 2-byte reply to any command with a bad checksum.
inline constexpr std::array<std::uint8_t, 2> kBadChecksumReply{0xB8, 0xB8};

// --- Stream data -------------------------------------------------------------------------
constexpr std::size_t stream_packet_length(int samples_per_packet) {
  return 14 + 2 * static_cast<std::size_t>(samples_per_packet);
}

enum class PacketStatus {
  kOk,
  kShort,        // fewer bytes than a packet of this SPP
  kBadChecksum,  // Checksum8 or Checksum16 wrong
  kBadHeader,    // bytes 1-3 are not F9, 4+SPP, C0
};
std::string_view to_string(PacketStatus status);

struct StreamPacket {
  PacketStatus status = PacketStatus::kOk;
  std::uint8_t counter = 0;
  std::uint8_t error_code = 0;
  std::uint8_t backlog = 0;
  std::uint16_t discarded_scans = 0;  // error 60: scans discarded, the dummy scan included
  std::array<std::uint16_t, kMaxSamplesPerPacket> samples{};
  int sample_count = 0;
};
// Decodes one packet of a stream configured with `samples_per_packet`. Never throws.
StreamPacket decode_stream_packet(std::span<const std::uint8_t> bytes, int samples_per_packet);

// Emulator side: one sealed packet.
struct StreamPacketContent {
  std::uint8_t counter = 0;
  std::uint8_t error_code = 0;
  std::uint8_t backlog = 0;
  std::uint16_t discarded_scans = 0;
  std::span<const std::uint16_t> samples;
};
std::vector<std::uint8_t> encode_stream_packet(const StreamPacketContent& content);

// --- Stream decoding across packets ------------------------------------------------------
// One scan (one sample per channel) and where it sits in time.
struct DecodedScan {
  std::uint64_t index = 0;  // scan number since StreamStart, lost and discarded scans counted
  bool gap_before = false;  // scans are missing between the previous delivered scan and this
  bool flagged = false;     // its packet carried a device error (STREAM_SCAN_OVERLAP)
  std::array<std::uint16_t, kMaxStreamChannels> counts{};
};

struct DecoderCounters {
  std::uint64_t packets = 0;
  std::uint64_t corrupt_packets = 0;  // bad checksum or header
  std::uint64_t short_packets = 0;
  std::uint64_t lost_packets = 0;     // counter gaps: corrupt, short and never-seen packets
  std::uint64_t overflows = 0;        // auto-recovery reports
  std::uint64_t discarded_scans = 0;  // as reported by them
  std::uint64_t flagged_packets = 0;  // packets with STREAM_SCAN_OVERLAP
  int max_backlog = 0;
};

// Turns the packets of one stream into scans: checks each packet, follows the packet counter
// (a jump means packets were lost: the partial scan is dropped and the next scan is marked),
// drops the auto-recovery dummy scan and skips the discarded scans in time.
// Stops at a device error it cannot recover from (returned by feed()).
class StreamDecoder {
 public:
  StreamDecoder(int channels, int samples_per_packet);
  // Decodes the whole packets in `bytes` (a trailing partial packet counts as short) and
  // appends completed scans to `out`. Returns 0, or the device error code that ends the stream.
  std::uint8_t feed(std::span<const std::uint8_t> bytes, std::vector<DecodedScan>& out);
  [[nodiscard]] const DecoderCounters& counters() const { return counters_; }
  [[nodiscard]] std::size_t packet_length() const { return stream_packet_length(spp_); }

 private:
  std::uint8_t feed_packet(const StreamPacket& packet, std::vector<DecodedScan>& out);

  int channels_;
  int spp_;
  std::uint8_t expected_counter_ = 0;
  std::uint64_t sample_position_ = 0;  // samples since StreamStart, lost ones included
  std::uint64_t extra_scans_ = 0;      // discarded scans beyond the dummy scan's own slot
  DecodedScan current_;
  bool scan_valid_ = false;  // current_ holds every sample of this scan so far
  bool gap_pending_ = false;
  bool expect_dummy_ = false;
  std::uint16_t dummy_stands_for_ = 0;
  DecoderCounters counters_;
};

}  // namespace isokin::drivers::u6
