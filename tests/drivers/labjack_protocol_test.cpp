// The U6 protocol layer against values worked out by hand from the U6 datasheet (section 5.1
// framing and checksums, 5.2.12 StreamConfig, StreamData layout, calibration fixed point).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "labjack/u6_protocol.h"

namespace {

using namespace isokin::drivers::u6;

TEST(U6Protocol, ChecksumsOfAReadOnlyConfigU6MatchTheDatasheet) {
  // All data bytes zero: Checksum16 = 0; Checksum8 = F8 + 0A + 08 = 0x10A, folded 0x0A + 0x01.
  const auto cmd = config_u6_command();
  ASSERT_EQ(cmd.size(), 26u);
  EXPECT_EQ(cmd[1], 0xF8);
  EXPECT_EQ(cmd[2], 0x0A);
  EXPECT_EQ(cmd[3], 0x08);
  EXPECT_EQ(cmd[4], 0x00);
  EXPECT_EQ(cmd[5], 0x00);
  EXPECT_EQ(cmd[0], 0x0B);
}

TEST(U6Protocol, Checksum8FoldsTheCarryTwice) {
  // 0xFF × 5 = 0x4FB → 0xFB + 0x04 = 0xFF; 0xFF × 2 + 0x02 = 0x200 → 0x00 + 0x02.
  const std::array<std::uint8_t, 5> a{0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(checksum8(a), 0xFF);
  const std::array<std::uint8_t, 3> b{0xFF, 0xFF, 0x02};
  EXPECT_EQ(checksum8(b), 0x02);
  // 0x1FF → 0xFF + 0x01 = 0x100 → second fold 0x00 + 0x01.
  EXPECT_EQ(checksum8(std::array<std::uint8_t, 3>{0xFF, 0xFF, 0x01}), 0x01);
}

TEST(U6Protocol, StreamStartAndStopAreTheirOwnChecksum) {
  EXPECT_EQ(stream_start_command(), (std::vector<std::uint8_t>{0xA8, 0xA8}));
  EXPECT_EQ(stream_stop_command(), (std::vector<std::uint8_t>{0xB0, 0xB0}));
  // Response A9 with error 48: checksum of A9 30 00 = 0xD9.
  const std::vector<std::uint8_t> reply{0xD9, 0xA9, 48, 0x00};
  std::uint8_t code = 0;
  ResponseError error;
  ASSERT_TRUE(parse_start_stop_response(reply, true, code, error)) << error.message;
  EXPECT_EQ(code, kStreamIsActive);
  EXPECT_FALSE(parse_start_stop_response(reply, false, code, error));
  EXPECT_FALSE(parse_start_stop_response(kBadChecksumReply, true, code, error));
  EXPECT_NE(error.message.find("checksum"), std::string::npos);
}

TEST(U6Protocol, DecodesAHandBuiltStreamPacket) {
  // SPP 1, counter 7, sample 0x1234, backlog 3. Checksum16 over bytes 6..15 =
  // 7 + 0x34 + 0x12 + 3 = 0x50; Checksum8 = F9 + 05 + C0 + 50 + 00 = 0x20E → 0x0E + 0x02 = 0x10.
  const std::vector<std::uint8_t> bytes{0x10, 0xF9, 0x05, 0xC0, 0x50, 0x00, 0, 0,
                                        0,    0,    7,    0,    0x34, 0x12, 3, 0};
  const auto p = decode_stream_packet(bytes, 1);
  ASSERT_EQ(p.status, PacketStatus::kOk);
  EXPECT_EQ(p.counter, 7);
  EXPECT_EQ(p.error_code, 0);
  EXPECT_EQ(p.backlog, 3);
  ASSERT_EQ(p.sample_count, 1);
  EXPECT_EQ(p.samples[0], 0x1234);

  auto corrupt = bytes;
  corrupt[12] ^= 0x01;
  EXPECT_EQ(decode_stream_packet(corrupt, 1).status, PacketStatus::kBadChecksum);
  EXPECT_EQ(decode_stream_packet(std::span(bytes).first(15), 1).status, PacketStatus::kShort);
  // A packet of another SPP is rejected by its header even with valid checksums.
  auto other = bytes;
  other[2] = 0x06;
  seal_extended(other);
  EXPECT_EQ(decode_stream_packet(other, 1).status, PacketStatus::kBadHeader);
}

TEST(U6Protocol, AutoRecoveryReportCarriesTheDiscardedScanCount) {
  const std::array<std::uint16_t, 25> samples{};
  const auto bytes = encode_stream_packet({200, kStreamAutorecoverReport, 0, 0x0102, samples});
  ASSERT_EQ(bytes.size(), 64u);
  EXPECT_EQ(bytes[6], 0x02);  // bytes 6-7 little-endian
  EXPECT_EQ(bytes[7], 0x01);
  const auto p = decode_stream_packet(bytes, 25);
  ASSERT_EQ(p.status, PacketStatus::kOk);
  EXPECT_EQ(p.counter, 200);
  EXPECT_EQ(p.discarded_scans, 0x0102);
}

TEST(U6Protocol, FixedPointCalibrationConstants) {
  // 1.5 = whole 1, fraction 0x80000000; −0.25 = whole −1, fraction 0xC0000000.
  const std::array<std::uint8_t, 8> one_and_half{0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(fixed_point_to_double(one_and_half), 1.5);
  const std::array<std::uint8_t, 8> minus_quarter{0x00, 0x00, 0x00, 0xC0, 0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(fixed_point_to_double(minus_quarter), -0.25);
  EXPECT_EQ(double_to_fixed_point(1.5), one_and_half);
  EXPECT_EQ(double_to_fixed_point(-0.25), minus_quarter);
  // Resolution 2^-32: the nominal slope survives to within that.
  const auto slope = double_to_fixed_point(3.1580578e-4);
  EXPECT_NEAR(fixed_point_to_double(slope), 3.1580578e-4, 0.5 / 4294967296.0);
}

TEST(U6Protocol, CalibrationBlocksRoundTripThroughReadMem) {
  const Calibration nominal = Calibration::nominal();
  Calibration read;
  for (int b = 0; b < kCalibrationBlocks; ++b) {
    const auto cmd = read_calibration_command(static_cast<std::uint8_t>(b));
    ASSERT_EQ(cmd.size(), 8u);
    EXPECT_EQ(cmd[3], 0x2D);
    EXPECT_EQ(cmd[7], b);
    EXPECT_TRUE(extended_checksums_ok(cmd));
    const auto response = read_calibration_response(static_cast<std::uint8_t>(b), nominal.block(b));
    std::array<double, 4> constants{};
    ResponseError error;
    ASSERT_TRUE(parse_read_calibration(response, static_cast<std::uint8_t>(b), constants, error))
        << error.message;
    read.set_block(b, constants);
  }
  for (std::size_t g = 0; g < 4; ++g) {
    EXPECT_NEAR(read.slope[g], nominal.slope[g], 1e-9);
    EXPECT_NEAR(read.neg_slope[g], nominal.neg_slope[g], 1e-9);
    EXPECT_EQ(read.center[g], 33523.0);
  }
}

TEST(U6Protocol, CountsToVoltsUsesTheCentrePointAndBothSlopes) {
  const Calibration c = Calibration::nominal();
  // 10000 counts above the centre on ±10 V: 10000 × 3.1580578e-4 V.
  EXPECT_DOUBLE_EQ(c.volts(43523, Gain::kX1), 3.1580578);
  // 10000 below: 10000 × −3.158058e-4.
  EXPECT_DOUBLE_EQ(c.volts(23523, Gain::kX1), -3.158058);
  EXPECT_DOUBLE_EQ(c.volts(33523, Gain::kX100), 0.0);
  // ±1 V range: ten times finer.
  EXPECT_DOUBLE_EQ(c.volts(43523, Gain::kX10), 0.31580578);
  // The inverse lands within half a count.
  for (const double v : {-9.5, -1.0, -1e-5, 0.0, 2.5, 9.99}) {
    EXPECT_NEAR(c.volts(c.counts(v, Gain::kX1), Gain::kX1), v, 0.5 * 3.1580578e-4 + 1e-12);
  }
  EXPECT_EQ(c.counts(1e6, Gain::kX1), 65534);  // never the dummy marker 0xFFFF
}

TEST(U6Protocol, ScanClockFollowsTheDatasheetFormula) {
  ScanClock clock;
  ASSERT_TRUE(choose_scan_clock(1000.0, clock));
  EXPECT_EQ(clock.scan_config, 0x08);  // 48 MHz
  EXPECT_EQ(clock.interval, 48000);
  ASSERT_TRUE(choose_scan_clock(100.0, clock));
  EXPECT_EQ(clock.scan_config, 0x00);  // 4 MHz
  EXPECT_EQ(clock.interval, 40000);
  ASSERT_TRUE(choose_scan_clock(1.0, clock));
  EXPECT_EQ(clock.scan_config, 0x02);  // 4 MHz / 256 = 15625 Hz
  EXPECT_EQ(clock.interval, 15625);
  EXPECT_DOUBLE_EQ(clock.scan_rate_hz(), 1.0);
  EXPECT_FALSE(choose_scan_clock(0.1, clock));  // below 4 MHz / 256 / 65535
}

TEST(U6Protocol, StreamConfigLaysOutTheChannelTable) {
  StreamSettings s;
  s.channels = {{0, Gain::kX1, false}, {2, Gain::kX10, true}, {5, Gain::kX1000, false}};
  s.scan_rate_hz = 80.0;  // within the 88 scans/s of ±0.01 V with 3 channels
  s.samples_per_packet = 25;
  const auto cmd = stream_config_command(s);
  ASSERT_EQ(cmd.size(), 20u);  // 14 + 2 × 3
  EXPECT_EQ(cmd[1], 0xF8);
  EXPECT_EQ(cmd[2], 7);  // NumChannels + 4
  EXPECT_EQ(cmd[3], 0x11);
  EXPECT_EQ(cmd[6], 3);
  EXPECT_EQ(cmd[7], 1);
  EXPECT_EQ(cmd[8], 25);
  EXPECT_EQ(cmd[11], 0x00);
  EXPECT_EQ(cmd[12] | (cmd[13] << 8), 50000);  // 4 MHz / 80 Hz
  EXPECT_EQ(cmd[14], 0);
  EXPECT_EQ(cmd[15], 0x00);
  EXPECT_EQ(cmd[16], 2);
  EXPECT_EQ(cmd[17], 0x90);  // differential, gain index 1
  EXPECT_EQ(cmd[18], 5);
  EXPECT_EQ(cmd[19], 0x30);  // gain index 3
  EXPECT_TRUE(extended_checksums_ok(cmd));

  StreamSettings parsed;
  ScanClock clock;
  ResponseError error;
  ASSERT_TRUE(parse_stream_config_command(cmd, parsed, clock, error)) << error.message;
  EXPECT_EQ(parsed.channels.size(), 3u);
  EXPECT_EQ(parsed.channels[1].gain, Gain::kX10);
  EXPECT_TRUE(parsed.channels[1].differential);
  EXPECT_DOUBLE_EQ(parsed.scan_rate_hz, 80.0);
}

TEST(U6Protocol, StreamConfigRejectsWhatTheU6CannotDo) {
  StreamSettings s;
  s.channels.assign(3, StreamChannel{});
  s.scan_rate_hz = 20'000.0;  // 60 ksamples/s > 50 ksamples/s
  EXPECT_THROW(stream_config_command(s), std::invalid_argument);
  s.scan_rate_hz = 1000.0;
  s.samples_per_packet = 26;
  EXPECT_THROW(stream_config_command(s), std::invalid_argument);
  s.samples_per_packet = 25;
  s.channels.clear();
  EXPECT_THROW(stream_config_command(s), std::invalid_argument);
}

TEST(U6Protocol, MaximumScanRateFollowsDatasheetTable321) {
  // Table 3.2.1 (resolution index 1), scans/s for 1/2/4/8 channels: ±10 V 50k/25k/12.5k/6.3k,
  // ±1 V 50k/2.2k/1.1k/540, ±0.01 V 50k/178/88/44.
  const StreamChannel ten{0, Gain::kX1, false};
  const StreamChannel one{1, Gain::kX10, false};
  const StreamChannel hundredth{2, Gain::kX1000, false};
  EXPECT_EQ(max_scan_rate_hz({hundredth}), 50'000.0);  // one channel: any gain
  EXPECT_EQ(max_scan_rate_hz({ten, ten}), 25'000.0);
  EXPECT_DOUBLE_EQ(max_scan_rate_hz({ten, ten, ten, ten}), 12'500.0);
  EXPECT_LE(max_scan_rate_hz(std::vector<StreamChannel>(8, ten)), 6'300.0);
  EXPECT_LE(max_scan_rate_hz({one, one}), 2'200.0);
  EXPECT_LE(max_scan_rate_hz({ten, one, ten, ten}), 1'100.0);  // the finest gain decides
  EXPECT_LE(max_scan_rate_hz(std::vector<StreamChannel>(8, one)), 540.0);
  EXPECT_LE(max_scan_rate_hz({hundredth, ten}), 178.0);
  EXPECT_LE(max_scan_rate_hz(std::vector<StreamChannel>(8, hundredth)), 44.0);
  // Never far below the table either (within 2 %).
  EXPECT_GE(max_scan_rate_hz({one, one}), 0.98 * 2'200.0);
  EXPECT_GE(max_scan_rate_hz(std::vector<StreamChannel>(8, hundredth)), 0.98 * 44.0);
  StreamSettings s;
  s.channels = {ten, one, ten};  // 4,320 / 3 = 1,440 scans/s
  s.scan_rate_hz = 1'400.0;
  EXPECT_NO_THROW(stream_config_command(s));
  s.scan_rate_hz = 1'500.0;
  EXPECT_THROW(stream_config_command(s), std::invalid_argument);
}

TEST(U6Protocol, ResponsesWithDeviceErrorsOrBadFramesAreRefused) {
  ResponseError error;
  EXPECT_TRUE(parse_stream_config_response(stream_config_response(0), error));
  EXPECT_FALSE(parse_stream_config_response(stream_config_response(kStreamScanRateInvalid), error));
  EXPECT_NE(error.message.find("STREAM_SCAN_RATE_INVALID"), std::string::npos);
  auto damaged = stream_config_response(0);
  damaged[7] ^= 0x40;
  EXPECT_FALSE(parse_stream_config_response(damaged, error));
  EXPECT_NE(error.message.find("checksum"), std::string::npos);

  DeviceInfo info;
  info.serial = 360012345;
  info.product_id = kProductId;
  info.firmware_major = 1;
  info.firmware_minor = 43;
  info.version_info = 12;
  DeviceInfo parsed;
  ASSERT_TRUE(parse_config_u6(config_u6_response(info), parsed, error)) << error.message;
  EXPECT_EQ(parsed.serial, 360012345u);
  EXPECT_EQ(parsed.firmware(), "1.43");
  EXPECT_TRUE(parsed.pro());
}

}  // namespace
