#include "isokin/acquisition/fan_out.h"

#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <variant>

#include "isokin/acquisition/spsc_ring.h"

namespace isokin::acquisition {
namespace {

using drivers::Sample;

// A ring slot: a sample, or a marker telling the consumer to take the next set boundary from
// the lane's marker queue.
struct Item {
  Sample sample;
  bool marker = false;
};

using Marker = std::variant<SetInfo, SetStats>;

}  // namespace

struct FanOut::Lane {
  std::string name;
  SampleConsumer* consumer = nullptr;
  SpscRing<Item> ring;
  std::mutex markers_mutex;
  std::deque<Marker> markers;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> processed{0};  // items the consumer has finished with
  std::uint64_t given = 0;                  // items pushed (producer thread only)
  std::uint64_t delivered = 0;              // samples, this set (producer thread only)
  std::uint64_t dropped = 0;                // samples, this set (producer thread only)
  bool gap_pending = false;
  std::vector<Item> staging;
  std::thread thread;

  Lane(std::string lane_name, SampleConsumer& c, std::size_t capacity)
      : name(std::move(lane_name)), consumer(&c), ring(capacity) {}

  void run() {
    std::vector<Item> items(1024);
    std::vector<Sample> samples;
    samples.reserve(items.size());
    for (;;) {
      const bool stop = stopping.load(std::memory_order_acquire);
      const std::size_t n = ring.pop_bulk(items);
      if (n == 0) {
        if (stop) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      auto flush_samples = [&] {
        if (!samples.empty()) consumer->consume(samples);
        samples.clear();
      };
      for (std::size_t i = 0; i < n; ++i) {
        if (!items[i].marker) {
          samples.push_back(items[i].sample);
          continue;
        }
        flush_samples();
        Marker marker;
        {
          const std::lock_guard lock(markers_mutex);
          marker = std::move(markers.front());
          markers.pop_front();
        }
        if (const auto* set = std::get_if<SetInfo>(&marker)) {
          consumer->begin_set(*set);
        } else {
          consumer->end_set(std::get<SetStats>(marker));
        }
      }
      flush_samples();
      processed.fetch_add(n, std::memory_order_release);
    }
  }

  // Markers are pushed between sets, when no driver is running: waiting for room is safe, but
  // bounded, so a hung consumer cannot hang the session.
  void push_marker(Marker marker) {
    {
      const std::lock_guard lock(markers_mutex);
      markers.push_back(std::move(marker));
    }
    Item item;
    item.marker = true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (ring.push_bulk(std::span<const Item>(&item, 1)) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        const std::lock_guard lock(markers_mutex);
        markers.pop_back();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ++given;
  }
};

FanOut::FanOut() = default;

FanOut::~FanOut() {
  for (auto& lane : lanes_) lane->stopping.store(true, std::memory_order_release);
  for (auto& lane : lanes_) {
    if (lane->thread.joinable()) lane->thread.join();
  }
}

void FanOut::add(std::string name, SampleConsumer& consumer, std::size_t capacity) {
  auto lane = std::make_unique<Lane>(std::move(name), consumer, capacity);
  lane->staging.reserve(1024);
  Lane* raw = lane.get();
  lane->thread = std::thread([raw] { raw->run(); });
  lanes_.push_back(std::move(lane));
}

void FanOut::begin_set(const SetInfo& set) {
  for (auto& lane : lanes_) {
    lane->gap_pending = false;
    lane->push_marker(set);
  }
}

void FanOut::deliver(std::span<const Sample> samples) noexcept {
  for (auto& lane : lanes_) {
    std::size_t offset = 0;
    while (offset < samples.size()) {
      const std::size_t n = std::min(samples.size() - offset, lane->staging.capacity());
      lane->staging.clear();
      for (std::size_t i = 0; i < n; ++i) lane->staging.push_back({samples[offset + i], false});
      if (lane->gap_pending) lane->staging.front().sample.status |= drivers::kStatusGapBefore;
      std::size_t pushed = lane->ring.push_bulk(lane->staging);
      while (wait_when_full_ && pushed < n) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        pushed += lane->ring.push_bulk(std::span<const Item>(lane->staging).subspan(pushed));
      }
      lane->given += pushed;
      lane->delivered += pushed;
      lane->dropped += n - pushed;
      // The next sample that gets through follows a loss.
      lane->gap_pending = pushed < n;
      offset += n;
    }
  }
}

void FanOut::end_set(const SetStats& stats) {
  for (auto& lane : lanes_) lane->push_marker(stats);
}

std::vector<ConsumerStats> FanOut::take_set_stats() {
  std::vector<ConsumerStats> stats;
  for (auto& lane : lanes_) {
    stats.push_back({lane->name, lane->delivered, lane->dropped});
    lane->delivered = 0;
    lane->dropped = 0;
  }
  return stats;
}

void FanOut::wait_until_idle(double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (auto& lane : lanes_) {
    while (lane->processed.load(std::memory_order_acquire) < lane->given &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

}  // namespace isokin::acquisition
