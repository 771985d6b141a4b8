// Throughput of the SPSC ring with a real producer and consumer thread, against a
// mutex-protected std::deque doing the same hand-over in the same process (the reference).
#include <benchmark/benchmark.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "isokin/acquisition/spsc_ring.h"
#include "isokin/drivers/sample.h"

namespace {

using isokin::drivers::Sample;
constexpr std::size_t kSamples = 1 << 21;
constexpr std::size_t kBlock = 256;

void BM_SpscRingHandOver(benchmark::State& state) {
  for (auto _ : state) {
    isokin::acquisition::SpscRing<Sample> ring(1 << 16);
    std::thread producer([&] {
      std::vector<Sample> block(kBlock);
      std::size_t sent = 0;
      while (sent < kSamples) {
        // Retry what did not fit: this benchmark measures hand-over, not dropping.
        sent += ring.push_bulk(block);
      }
    });
    std::vector<Sample> out(kBlock);
    std::size_t received = 0;
    while (received < kSamples) received += ring.pop_bulk(out);
    producer.join();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kSamples));
}
BENCHMARK(BM_SpscRingHandOver)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_MutexDequeHandOver(benchmark::State& state) {
  for (auto _ : state) {
    std::deque<Sample> queue;
    std::mutex mutex;
    std::thread producer([&] {
      std::vector<Sample> block(kBlock);
      for (std::size_t sent = 0; sent < kSamples; sent += kBlock) {
        const std::lock_guard lock(mutex);
        queue.insert(queue.end(), block.begin(), block.end());
      }
    });
    std::vector<Sample> out(kBlock);
    std::size_t received = 0;
    while (received < kSamples) {
      const std::lock_guard lock(mutex);
      const std::size_t n = std::min(kBlock, queue.size());
      std::copy_n(queue.begin(), n, out.begin());
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
      received += n;
    }
    producer.join();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kSamples));
}
BENCHMARK(BM_MutexDequeHandOver)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
