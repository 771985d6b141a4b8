// Live stream throughput on loopback: one producer publishing sample blocks to N clients, each a
// POSIX socket read on its own thread. Reported: samples/s each client receives, and MB/s
// written in total. The producer is paced only so that no client falls behind by more than
// 64 k samples (as a device is paced by its sample rate); nothing is dropped.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "isokin/acquisition/live_stream.h"

namespace {

using namespace isokin::acquisition;
using isokin::drivers::Sample;

// Reads frames until the server closes; counts the samples of the sample blocks.
void read_stream(int fd, std::atomic<std::uint64_t>& samples) {
  std::vector<char> buffer(1 << 20);
  std::vector<char> pending;
  for (;;) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) return;
    pending.insert(pending.end(), buffer.data(), buffer.data() + n);
    std::size_t at = 0;
    while (pending.size() - at >= kStreamFrameHeaderBytes) {
      std::uint32_t length = 0;
      std::memcpy(&length, pending.data() + at, 4);
      if (pending.size() - at < kStreamFrameHeaderBytes + length) break;
      if (pending[at + 4] == static_cast<char>(StreamFrame::kSamples)) {
        std::uint32_t count = 0;
        std::memcpy(&count, pending.data() + at + kStreamFrameHeaderBytes + 4, 4);
        samples.fetch_add(count, std::memory_order_relaxed);
      }
      at += kStreamFrameHeaderBytes + length;
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(at));
  }
}

void BM_StreamToClients(benchmark::State& state) {
  const auto clients = static_cast<std::size_t>(state.range(0));
  const auto block_size = static_cast<std::size_t>(state.range(1));
  constexpr std::size_t kSamples = 1'000'000;
  std::vector<Sample> block(block_size);
  for (std::size_t i = 0; i < block.size(); ++i)
    block[i] = {static_cast<double>(i) * 5e-4, 100.0, 45.0, 60.0, 0};
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    LiveStreamOptions options;
    options.client_backlog_bytes = std::size_t{64} << 20;
    options.max_clients = static_cast<int>(clients);
    LiveStream stream(SessionInfo{}, options);
    std::vector<std::atomic<std::uint64_t>> received(clients);
    std::vector<std::thread> readers;
    std::vector<int> fds;
    for (std::size_t c = 0; c < clients; ++c) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(stream.port());
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        state.SkipWithError("connect failed");
        return;
      }
      fds.push_back(fd);
      readers.emplace_back([fd, &counter = received[c]] { read_stream(fd, counter); });
    }
    while (stream.client_count() < static_cast<int>(clients)) std::this_thread::yield();
    stream.begin_set({});
    for (std::size_t sent = 0; sent < kSamples; sent += block.size()) {
      stream.consume(block);
      for (auto& r : received) {
        while (sent > r.load(std::memory_order_relaxed) + 65'536) std::this_thread::yield();
      }
    }
    stream.end_set({});
    stream.stop(30.0);
    for (auto& t : readers) t.join();
    for (const int fd : fds) ::close(fd);
    const auto stats = stream.stats();
    if (stats.clients_dropped != 0) state.SkipWithError("a client was dropped");
    bytes += stats.bytes_sent;
  }
  const auto published = static_cast<double>(state.iterations()) * kSamples;
  state.counters["samples/s per client"] =
      benchmark::Counter(published, benchmark::Counter::kIsRate);
  state.counters["MB/s total"] =
      benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
}
// Block sizes: 2 samples (a 2 kHz device read every millisecond) and 256 (a batch).
BENCHMARK(BM_StreamToClients)
    ->ArgsProduct({{1, 4, 16}, {2, 256}})
    ->ArgNames({"clients", "block"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
