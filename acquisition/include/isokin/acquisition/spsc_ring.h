#pragma once
// Lock-free ring between exactly one producer thread (the driver) and exactly one consumer
// thread (the recorder fan-out).
//
// Thread contract:
//  - try_push() / push_bulk() only from the producer thread;
//  - try_pop() / pop_bulk() only from the consumer thread;
//  - capacity(), size_approx(), dropped() from any thread.
// Overflow policy: when full, the producer drops the *newest* samples and counts them in
// dropped(); it never blocks and never overwrites data the consumer has not read.

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>

namespace isokin::acquisition {

template <typename T>
class SpscRing {
 public:
  // Capacity is rounded up to a power of two.
  explicit SpscRing(std::size_t min_capacity)
      : capacity_(std::bit_ceil(std::max<std::size_t>(min_capacity, 2))),
        mask_(capacity_ - 1),
        slots_(std::make_unique<T[]>(capacity_)) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Producer: returns false (and counts one drop) when full.
  bool try_push(const T& value) noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head - cached_tail_ == capacity_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (head - cached_tail_ == capacity_) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
    }
    slots_[head & mask_] = value;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Producer: pushes as many as fit, counts the rest as dropped, returns how many were pushed.
  std::size_t push_bulk(std::span<const T> values) noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    std::size_t free_slots = capacity_ - (head - cached_tail_);
    if (free_slots < values.size()) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      free_slots = capacity_ - (head - cached_tail_);
    }
    const std::size_t n = std::min(free_slots, values.size());
    for (std::size_t i = 0; i < n; ++i) slots_[(head + i) & mask_] = values[i];
    if (n < values.size()) dropped_.fetch_add(values.size() - n, std::memory_order_relaxed);
    head_.store(head + n, std::memory_order_release);
    return n;
  }

  // Consumer: returns false when empty.
  bool try_pop(T& out) noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == cached_head_) {
      cached_head_ = head_.load(std::memory_order_acquire);
      if (tail == cached_head_) return false;
    }
    out = slots_[tail & mask_];
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer: moves up to out.size() items, returns how many.
  std::size_t pop_bulk(std::span<T> out) noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    std::size_t available = cached_head_ - tail;
    if (available < out.size()) {
      cached_head_ = head_.load(std::memory_order_acquire);
      available = cached_head_ - tail;
    }
    const std::size_t n = std::min(available, out.size());
    for (std::size_t i = 0; i < n; ++i) out[i] = slots_[(tail + i) & mask_];
    tail_.store(tail + n, std::memory_order_release);
    return n;
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t size_approx() const noexcept {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
  }
  [[nodiscard]] std::uint64_t dropped() const noexcept {
    return dropped_.load(std::memory_order_relaxed);
  }

 private:
  // 64 bytes: the x86-64 cache line; keeps producer and consumer indices from false sharing.
  static constexpr std::size_t kCacheLine = 64;

  const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<T[]> slots_;

  alignas(kCacheLine) std::atomic<std::size_t> head_{0};  // written by producer
  std::size_t cached_tail_ = 0;                           // producer's view of tail_
  std::atomic<std::uint64_t> dropped_{0};                 // written by producer
  alignas(kCacheLine) std::atomic<std::size_t> tail_{0};  // written by consumer
  std::size_t cached_head_ = 0;                           // consumer's view of head_
  char pad_[kCacheLine - sizeof(std::size_t) * 2]{};
};

}  // namespace isokin::acquisition
