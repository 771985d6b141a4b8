#pragma once
// One producer (the recorder's thread) feeding any number of live consumers (analyser, viewer,
// stream), each on its own thread behind its own bounded SpscRing. deliver() never waits: a
// consumer too slow to keep up loses samples, which are counted per consumer and per set, so
// the slowest consumer can never stall acquisition or recording.
//
// Thread contract: add(), begin_set(), deliver(), end_set() and take_set_stats() from one
// thread (the producer). Each consumer's callbacks run on that consumer's own thread, in order:
// begin_set, consume…, end_set.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "isokin/acquisition/session.h"
#include "isokin/drivers/sample.h"

namespace isokin::acquisition {

class SampleConsumer {
 public:
  virtual ~SampleConsumer() = default;
  SampleConsumer() = default;
  SampleConsumer(const SampleConsumer&) = delete;
  SampleConsumer& operator=(const SampleConsumer&) = delete;

  virtual void begin_set(const SetInfo& /*set*/) {}
  // Samples in order; after a loss the next delivered sample has kStatusGapBefore.
  virtual void consume(std::span<const drivers::Sample> samples) = 0;
  virtual void end_set(const SetStats& /*stats*/) {}
};

class FanOut {
 public:
  FanOut();
  ~FanOut();  // lets every consumer finish what it was given, then joins the threads
  FanOut(const FanOut&) = delete;
  FanOut& operator=(const FanOut&) = delete;

  // capacity: samples the consumer may fall behind before it loses some (rounded up to a
  // power of two). The consumer must outlive the FanOut.
  void add(std::string name, SampleConsumer& consumer, std::size_t capacity = std::size_t{1} << 15);

  // For sources that are not real time (simulator without pacing, replay): deliver() waits
  // for room instead of dropping. Never with a real device.
  void set_wait_when_full(bool wait) { wait_when_full_ = wait; }

  void begin_set(const SetInfo& set);
  // Never blocks (unless set_wait_when_full): what a consumer's ring cannot take is dropped and
  // counted for that consumer.
  void deliver(std::span<const drivers::Sample> samples) noexcept;
  void end_set(const SetStats& stats);
  // Delivered/dropped per consumer since the last call (i.e. for the set just ended).
  std::vector<ConsumerStats> take_set_stats();
  // Waits (bounded) until every consumer has processed everything given so far.
  void wait_until_idle(double timeout_s = 5.0);

  [[nodiscard]] std::size_t size() const { return lanes_.size(); }

 private:
  struct Lane;
  std::vector<std::unique_ptr<Lane>> lanes_;
  bool wait_when_full_ = false;
};

}  // namespace isokin::acquisition
