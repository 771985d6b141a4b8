#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "isokin/acquisition/spsc_ring.h"

namespace {

using isokin::acquisition::SpscRing;

TEST(SpscRing, CapacityIsAPowerOfTwoAndFullRingDropsNewest) {
  SpscRing<int> ring(5);
  EXPECT_EQ(ring.capacity(), 8U);
  for (int i = 0; i < 10; ++i) ring.try_push(i);
  EXPECT_EQ(ring.dropped(), 2U);
  int value = -1;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(ring.try_pop(value));
    EXPECT_EQ(value, i);  // oldest kept, newest dropped
  }
  EXPECT_FALSE(ring.try_pop(value));
}

TEST(SpscRing, BulkPushCountsWhatDidNotFit) {
  SpscRing<int> ring(4);
  const std::vector<int> values{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(ring.push_bulk(values), 4U);
  EXPECT_EQ(ring.dropped(), 2U);
  std::vector<int> out(10);
  EXPECT_EQ(ring.pop_bulk(out), 4U);
  EXPECT_EQ(out[3], 4);
}

// Two real threads, millions of items: order is kept and, when the consumer stalls, every lost
// item is counted exactly.
TEST(SpscRing, TwoThreadsMillionsOfSamplesNoReorderDropsCountedExactly) {
  constexpr std::uint64_t kTotal = 4'000'000;
  SpscRing<std::uint64_t> ring(1 << 12);
  std::atomic<bool> done{false};
  std::thread producer([&] {
    std::vector<std::uint64_t> block(64);
    std::uint64_t next = 0;
    while (next < kTotal) {
      const std::uint64_t n = std::min<std::uint64_t>(block.size(), kTotal - next);
      for (std::uint64_t i = 0; i < n; ++i) block[i] = next + i;
      ring.push_bulk(std::span<const std::uint64_t>(block.data(), n));
      next += n;
    }
    done.store(true, std::memory_order_release);
  });

  std::uint64_t received = 0;
  std::uint64_t last = 0;
  bool first = true;
  std::uint64_t missing = 0;
  std::vector<std::uint64_t> out(100);
  int stalls = 0;
  for (;;) {
    const bool finished = done.load(std::memory_order_acquire);
    const std::size_t n = ring.pop_bulk(out);
    for (std::size_t i = 0; i < n; ++i) {
      if (!first) {
        ASSERT_GT(out[i], last) << "reordered or duplicated";
        missing += out[i] - last - 1;
      } else {
        missing += out[i];
        first = false;
      }
      last = out[i];
    }
    received += n;
    // Stall now and then, long enough for the producer to overrun the ring.
    if (received > static_cast<std::uint64_t>(stalls) * 100'000 && stalls < 4) {
      ++stalls;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (n == 0 && finished) break;
  }
  producer.join();
  missing += kTotal - 1 - last;  // dropped after the last item received
  EXPECT_EQ(received + ring.dropped(), kTotal);
  EXPECT_EQ(missing, ring.dropped());
  EXPECT_GT(stalls, 0);
  EXPECT_GT(ring.dropped(), 0U);
  EXPECT_GT(received, 0U);
}

TEST(SpscRing, NoDropsWhenConsumerKeepsUp) {
  constexpr int kTotal = 1'000'000;
  SpscRing<int> ring(1 << 16);
  std::thread producer([&] {
    for (int i = 0; i < kTotal;) {
      if (ring.size_approx() < ring.capacity() - 1) {
        ring.try_push(i);
        ++i;
      }
    }
  });
  int expected = 0;
  int value = 0;
  while (expected < kTotal) {
    if (ring.try_pop(value)) {
      ASSERT_EQ(value, expected);
      ++expected;
    }
  }
  producer.join();
  EXPECT_EQ(ring.dropped(), 0U);
}

}  // namespace
