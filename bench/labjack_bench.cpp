// LabJack U6 stream path: packet decoding alone, and end to end through real libusb against the
// umockdev-emulated U6 (tests/emulators/). The U6 streams at most 50,000 samples/s
// (datasheet 3.2: 2,000 packets/s of 25 samples), the yardstick for both.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <numeric>
#include <vector>

#include "emulators/u6_emulator.h"
#include "isokin/drivers/labjack_u6.h"
#include "labjack/u6_protocol.h"

namespace {

namespace u6 = isokin::drivers::u6;

constexpr int kChannels = 3;
constexpr int kSpp = 25;

// 2,000 packets: one second of the U6 at its maximum rate.
std::vector<std::uint8_t> one_second_of_packets() {
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint16_t> samples(kSpp);
  std::uint16_t value = 30000;
  for (int p = 0; p < 2000; ++p) {
    for (auto& s : samples) s = value++;
    const auto packet = u6::encode_stream_packet({static_cast<std::uint8_t>(p), 0, 3, 0, samples});
    bytes.insert(bytes.end(), packet.begin(), packet.end());
  }
  return bytes;
}

// Checks, counter, scan assembly and counts -> volts -> units, as the driver does per scan.
void BM_DecodeStream(benchmark::State& state) {
  const auto bytes = one_second_of_packets();
  const auto cal = u6::Calibration::nominal();
  std::vector<u6::DecodedScan> scans;
  scans.reserve(20000);
  double sum = 0.0;
  for (auto _ : state) {
    u6::StreamDecoder decoder(kChannels, kSpp);
    scans.clear();
    decoder.feed(bytes, scans);
    for (const auto& s : scans) {
      for (int c = 0; c < kChannels; ++c) {
        sum += 50.0 * cal.volts(s.counts[static_cast<std::size_t>(c)], u6::Gain::kX1);
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.counters["packets/s"] = benchmark::Counter(2000.0 * static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
  state.counters["samples/s"] = benchmark::Counter(
      2000.0 * kSpp * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeStream)->Unit(benchmark::kMicrosecond);

// Reference: only summing the same bytes (a lower bound for touching them at all).
void BM_ReferenceByteSum(benchmark::State& state) {
  const auto bytes = one_second_of_packets();
  for (auto _ : state) {
    benchmark::DoNotOptimize(std::accumulate(bytes.begin(), bytes.end(), 0u));
  }
  state.counters["packets/s"] = benchmark::Counter(2000.0 * static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReferenceByteSum)->Unit(benchmark::kMicrosecond);

// End to end: libusb async transfers, the emulator's ioctl handling, decoding, the read queue.
// Argument: packets per transfer (1 = what SPP < 25 forces).
void BM_EndToEndThroughEmulator(benchmark::State& state) {
  isokin::drivers::CalibrationProfile profile;
  profile.scan_rate_hz = 16000.0;  // 48,000 samples/s over 3 channels: near the U6's maximum
  profile.torque = {0, 10.0, false, 50.0, 0.0, 1};
  profile.angle = {1, 10.0, false, 30.0, 0.0, 1};
  profile.velocity = {2, 10.0, false, 100.0, 0.0, 1};
  const std::size_t scans = 48'000;  // 3 s of stream, 5,760 packets
  std::vector<std::vector<double>> source(scans, std::vector<double>{1.0, -2.0, 3.0});
  std::vector<isokin::drivers::Sample> buffer(4096);
  const std::size_t expected = scans * kChannels / kSpp * kSpp / kChannels;
  std::size_t delivered = 0;
  for (auto _ : state) {
    state.PauseTiming();
    isokin::testing::U6Emulator emulator;
    emulator.set_source(source);
    isokin::drivers::LabJackU6Options options;
    options.profile = profile;
    options.packets_per_transfer = static_cast<int>(state.range(0));
    isokin::drivers::LabJackU6 device(options);
    device.open();
    state.ResumeTiming();
    device.start();
    std::size_t got = 0;
    while (got < expected) {
      const auto r = device.read(buffer);
      got += r.count;
      if (r.status != isokin::drivers::ReadStatus::kOk) break;
    }
    device.stop();
    state.PauseTiming();
    delivered += got;
    device.close();
    state.ResumeTiming();
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(delivered * kChannels), benchmark::Counter::kIsRate);
  state.counters["packets/s"] = benchmark::Counter(
      static_cast<double>(delivered * kChannels) / kSpp, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EndToEndThroughEmulator)
    ->Arg(1)
    ->Arg(20)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

}  // namespace
