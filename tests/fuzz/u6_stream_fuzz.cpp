// libFuzzer target: what a LabJack U6 (or something posing as one) sends over USB. Byte 0 picks
// the parser. Stream mode (bit 7 clear): bits 0-4 give the channel count (1-25), byte 1 the
// samples per packet (1-25), byte 2 after how many packets the stream is split into two
// transfers, the rest is the stream. Checked: no crash; the same scans, counters and result
// whichever split (packets never straddle transfers); scan numbers strictly increasing; every
// packet counted once; a decoded packet re-encodes to the same fields. Response mode (bit 7
// set): the command-response parsers, which must answer true or false with a reason.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "labjack/u6_protocol.h"

namespace {

namespace u6 = isokin::drivers::u6;

void check(bool condition) {
  if (!condition) std::abort();
}

bool same_counters(const u6::DecoderCounters& a, const u6::DecoderCounters& b) {
  return a.packets == b.packets && a.corrupt_packets == b.corrupt_packets &&
         a.short_packets == b.short_packets && a.lost_packets == b.lost_packets &&
         a.overflows == b.overflows && a.discarded_scans == b.discarded_scans &&
         a.flagged_packets == b.flagged_packets && a.max_backlog == b.max_backlog;
}

void check_packet_round_trip(std::span<const std::uint8_t> bytes, int spp) {
  const u6::StreamPacket p = u6::decode_stream_packet(bytes, spp);
  if (p.status != u6::PacketStatus::kOk) return;
  check(p.sample_count == spp);
  const std::span<const std::uint16_t> samples(p.samples.data(), static_cast<std::size_t>(spp));
  const auto again = u6::decode_stream_packet(
      u6::encode_stream_packet({p.counter, p.error_code, p.backlog, p.discarded_scans, samples}),
      spp);
  check(again.status == u6::PacketStatus::kOk && again.counter == p.counter &&
        again.error_code == p.error_code && again.backlog == p.backlog &&
        again.discarded_scans == p.discarded_scans && again.samples == p.samples);
}

void stream(int channels, int spp, std::size_t cut_packets, std::span<const std::uint8_t> bytes) {
  const std::size_t length = u6::stream_packet_length(spp);
  for (std::size_t at = 0; at < bytes.size(); at += length) {
    check_packet_round_trip(bytes.subspan(at), spp);
  }
  u6::StreamDecoder whole(channels, spp);
  std::vector<u6::DecodedScan> a;
  const std::uint8_t whole_result = whole.feed(bytes, a);

  u6::StreamDecoder split(channels, spp);
  std::vector<u6::DecodedScan> b;
  const std::size_t cut = std::min(bytes.size(), cut_packets * length);
  std::uint8_t split_result = split.feed(bytes.first(cut), b);
  if (split_result == u6::kNoError) split_result = split.feed(bytes.subspan(cut), b);

  check(whole_result == split_result);
  check(same_counters(whole.counters(), split.counters()));
  check(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    check(a[i].index == b[i].index && a[i].gap_before == b[i].gap_before &&
          a[i].flagged == b[i].flagged && a[i].counts == b[i].counts);
    if (i > 0) check(a[i].index > a[i - 1].index);
  }
  const u6::DecoderCounters& c = whole.counters();
  const std::size_t packets = (bytes.size() + length - 1) / length;
  check(c.packets + c.corrupt_packets + c.short_packets <= packets);
  if (whole_result == u6::kNoError) {
    check(c.packets + c.corrupt_packets + c.short_packets == packets);
  }
  // A scan needs `channels` samples of valid packets.
  check(a.size() * static_cast<std::size_t>(channels) <= c.packets * static_cast<std::size_t>(spp));
}

void responses(std::uint8_t selector, std::span<const std::uint8_t> bytes) {
  u6::ResponseError error;
  bool ok = false;
  switch (selector % 5) {
    case 0: {
      u6::DeviceInfo info;
      ok = u6::parse_config_u6(bytes, info, error);
      break;
    }
    case 1: {
      std::array<double, 4> constants{};
      ok = u6::parse_read_calibration(bytes, static_cast<std::uint8_t>(selector % 4), constants,
                                      error);
      break;
    }
    case 2:
      ok = u6::parse_stream_config_response(bytes, error);
      break;
    case 3: {
      std::uint8_t code = 0;
      ok = u6::parse_start_stop_response(bytes, (selector & 8) != 0, code, error);
      break;
    }
    default: {
      u6::StreamSettings settings;
      u6::ScanClock clock;
      ok = u6::parse_stream_config_command(bytes, settings, clock, error);
      break;
    }
  }
  check(ok == error.message.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::span<const std::uint8_t> rest(data + 3, size - 3);
  if ((data[0] & 0x80) != 0) {
    responses(data[1], std::span<const std::uint8_t>(data + 2, size - 2));
    return 0;
  }
  const int channels = 1 + (data[0] & 0x1F) % u6::kMaxStreamChannels;
  const int spp = 1 + data[1] % u6::kMaxSamplesPerPacket;
  stream(channels, spp, data[2], rest);
  return 0;
}
