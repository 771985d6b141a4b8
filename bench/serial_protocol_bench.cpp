// Serial frame decoding speed (frames/s, bytes/s), fed in 4 KiB reads as the driver does.
// References in the same process: finding the line ends alone (memchr, a lower bound) and a
// naive decoder (sscanf per line). Then the whole driver: frames through a real pty into
// SerialDevice::read().
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "isokin/drivers/serial_device.h"
#include "isokin/drivers/serial_protocol.h"

namespace {

using namespace isokin::drivers;
constexpr std::size_t kFrames = 100'000;
constexpr std::size_t kRead = 4096;  // the driver's read buffer

// Counts that move like a dynamometer's, in the biodex2-adc board's ASCII format.
std::string ascii_stream() {
  std::string s;
  for (std::size_t i = 0; i < kFrames; ++i) {
    s += fmt::format("{:04d};{:04d};{:04d};\r\n", 500 + i % 400, 519 - i % 300, 100 + i % 700);
  }
  return s;
}

std::vector<std::uint8_t> binary_stream() {
  std::vector<std::uint8_t> s;
  for (std::size_t i = 0; i < kFrames; ++i) {
    const std::int32_t counts[] = {static_cast<std::int32_t>(500 + i % 400),
                                   static_cast<std::int32_t>(519 - i % 300),
                                   static_cast<std::int32_t>(100 + i % 700)};
    const auto frame =
        serial::encode_binary_frame(serial::BinaryFraming{}, static_cast<std::uint16_t>(i), counts);
    s.insert(s.end(), frame.begin(), frame.end());
  }
  return s;
}

template <typename Decoder>
void decode_all(Decoder& decoder, std::span<const std::uint8_t> bytes,
                std::vector<serial::Frame>& frames) {
  for (std::size_t at = 0; at < bytes.size(); at += kRead) {
    frames.clear();
    decoder.decode(bytes.subspan(at, std::min(kRead, bytes.size() - at)), frames);
    benchmark::DoNotOptimize(frames.data());
  }
}

void report(benchmark::State& state, std::size_t bytes) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kFrames));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

void BM_AsciiFrameDecoder(benchmark::State& state) {
  const std::string text = ascii_stream();
  const std::span bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  std::vector<serial::Frame> frames;
  frames.reserve(kRead);
  for (auto _ : state) {
    serial::AsciiFrameDecoder decoder{serial::AsciiFraming{}};
    decode_all(decoder, bytes, frames);
    if (decoder.counters().frames != kFrames) state.SkipWithError("frames lost");
  }
  report(state, text.size());
}
BENCHMARK(BM_AsciiFrameDecoder)->Unit(benchmark::kMillisecond);

// Reference: only finding the line ends.
void BM_AsciiLineEndsOnly(benchmark::State& state) {
  const std::string text = ascii_stream();
  for (auto _ : state) {
    std::size_t lines = 0;
    for (std::size_t at = 0; at < text.size(); at += kRead) {
      const char* p = text.data() + at;
      const char* const end = p + std::min(kRead, text.size() - at);
      while ((p = static_cast<const char*>(std::memchr(p, '\n', end - p))) != nullptr) {
        ++lines;
        ++p;
      }
    }
    benchmark::DoNotOptimize(lines);
  }
  report(state, text.size());
}
BENCHMARK(BM_AsciiLineEndsOnly)->Unit(benchmark::kMillisecond);

// Reference: the obvious decoder, sscanf on each line (copied out and terminated, as sscanf
// needs; whole stream in memory, no resynchronisation).
void BM_AsciiSscanfPerLine(benchmark::State& state) {
  const std::string text = ascii_stream();
  for (auto _ : state) {
    std::size_t frames = 0;
    const char* const end = text.data() + text.size();
    for (const char* p = text.data(); p < end;) {
      const auto* eol = static_cast<const char*>(std::memchr(p, '\n', end - p));
      char line[64] = {};
      std::memcpy(line, p, std::min<std::size_t>(eol - p, sizeof line - 1));
      int a = 0;
      int b = 0;
      int c = 0;
      if (std::sscanf(line, "%d;%d;%d;", &a, &b, &c) == 3) ++frames;  // NOLINT(cert-err34-c)
      p = eol + 1;
    }
    benchmark::DoNotOptimize(frames);
  }
  report(state, text.size());
}
BENCHMARK(BM_AsciiSscanfPerLine)->Unit(benchmark::kMillisecond);

void BM_BinaryFrameDecoder(benchmark::State& state) {
  const auto bytes = binary_stream();
  std::vector<serial::Frame> frames;
  frames.reserve(kRead);
  for (auto _ : state) {
    serial::BinaryFrameDecoder decoder{serial::BinaryFraming{}};
    decode_all(decoder, bytes, frames);
    if (decoder.counters().frames != kFrames) state.SkipWithError("frames lost");
  }
  report(state, bytes.size());
}
BENCHMARK(BM_BinaryFrameDecoder)->Unit(benchmark::kMillisecond);

// The whole driver: a writer thread pushes the ASCII stream into a pty as fast as the kernel
// takes it; SerialDevice decodes on its I/O thread; this thread reads through Device::read().
void BM_SerialDeviceThroughPty(benchmark::State& state) {
  const std::string text = ascii_stream();
  SerialProfile profile;
  profile.name = "bench";
  profile.fields = {"torque", "velocity", "angle"};
  profile.sample_rate_hz = 1000.0;
  std::uint64_t overflowed = 0;
  for (auto _ : state) {
    termios raw{};
    ::cfmakeraw(&raw);
    int master = -1;
    int slave = -1;
    char name[256] = {};
    if (::openpty(&master, &slave, name, &raw, nullptr) != 0) {
      state.SkipWithError("openpty failed");
      return;
    }
    SerialDevice device(profile, name);
    device.open();
    device.start();
    std::thread writer([&] {
      for (std::size_t at = 0; at < text.size();) {
        const ssize_t n = ::write(master, text.data() + at, text.size() - at);
        if (n <= 0) break;
        at += static_cast<std::size_t>(n);
      }
    });
    std::vector<Sample> out(256);
    std::size_t received = 0;
    int timeouts = 0;
    while (received < kFrames && timeouts < 10) {
      const ReadResult r = device.read(out);
      received += r.count;
      timeouts = r.status == ReadStatus::kTimeout ? timeouts + 1 : 0;
    }
    writer.join();
    const auto counters = device.counters();
    overflowed += counters.samples_overflowed;
    device.close();
    ::close(master);
    ::close(slave);
    if (received + counters.samples_overflowed < kFrames) {
      state.SkipWithError("frames lost");
    }
  }
  state.counters["overflowed"] = static_cast<double>(overflowed);
  report(state, text.size());
}
BENCHMARK(BM_SerialDeviceThroughPty)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
