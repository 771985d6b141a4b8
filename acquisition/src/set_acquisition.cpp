#include "isokin/acquisition/set_acquisition.h"

#include <chrono>
#include <exception>
#include <thread>
#include <vector>

#include "isokin/acquisition/spsc_ring.h"

namespace isokin::acquisition {
namespace {

using drivers::ReadResult;
using drivers::ReadStatus;
using drivers::Sample;

// Shared between the driver thread (writer) and the consumer thread (reader of the outcome).
struct DriverOutcome {
  std::atomic<bool> finished{false};
  ReadStatus status = ReadStatus::kOk;  // valid once finished
  std::string message;                  // valid once finished
};

void run_driver(drivers::Device& device, SpscRing<Sample>& ring, std::size_t block,
                const std::atomic<bool>* stop_requested, const std::atomic<bool>& consumer_failed,
                DriverOutcome& outcome) {
  std::vector<Sample> buffer(block);
  bool gap_pending = false;
  ReadResult r;
  for (;;) {
    if ((stop_requested != nullptr && stop_requested->load(std::memory_order_relaxed)) ||
        consumer_failed.load(std::memory_order_relaxed)) {
      r = {0, ReadStatus::kEndOfStream, "stopped"};
      break;
    }
    r = device.read(buffer);
    if (r.count > 0) {
      if (gap_pending) buffer[0].status |= drivers::kStatusGapBefore;
      const std::size_t pushed = ring.push_bulk(std::span<const Sample>(buffer.data(), r.count));
      // Samples that did not fit are gone; mark the next one that gets through.
      gap_pending = pushed < r.count;
    }
    if (r.status != ReadStatus::kOk && r.status != ReadStatus::kTimeout) break;
  }
  outcome.status = r.status;
  outcome.message = r.message;
  outcome.finished.store(true, std::memory_order_release);
}

}  // namespace

SetStats acquire_set(drivers::Device& device, SessionWriter& writer, const SetInfo& set,
                     const std::vector<SampleSink>& sinks, const std::atomic<bool>* stop_requested,
                     const AcquisitionOptions& options) {
  writer.begin_set(set);
  SpscRing<Sample> ring(options.ring_capacity);
  DriverOutcome outcome;
  std::atomic<bool> consumer_failed{false};

  device.apply(set.setpoint);
  device.start();
  std::thread driver(run_driver, std::ref(device), std::ref(ring), options.read_block,
                     stop_requested, std::cref(consumer_failed), std::ref(outcome));

  SetStats stats;
  std::vector<Sample> block(options.read_block * 4);
  std::exception_ptr failure;
  try {
    for (;;) {
      // Read finished before draining so that no sample pushed before the end is left behind.
      const bool driver_done = outcome.finished.load(std::memory_order_acquire);
      const std::size_t n = ring.pop_bulk(block);
      if (n > 0) {
        const std::span<const Sample> got(block.data(), n);
        writer.append(got);
        for (const auto& sink : sinks) sink(got);
        stats.sample_count += n;
        continue;
      }
      if (driver_done) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  } catch (...) {
    failure = std::current_exception();
    consumer_failed.store(true);
  }
  driver.join();
  device.stop();

  stats.dropped_samples = ring.dropped();
  const bool stopped_by_request =
      stop_requested != nullptr && stop_requested->load(std::memory_order_relaxed);
  stats.complete = !failure && outcome.status == ReadStatus::kEndOfStream && !stopped_by_request;
  if (failure) {
    stats.end_reason = "recording failed";
  } else if (stopped_by_request) {
    stats.end_reason = "aborted";
  } else {
    stats.end_reason = std::string(drivers::to_string(outcome.status));
    if (!outcome.message.empty()) stats.end_reason += ": " + outcome.message;
  }
  if (failure) {
    // Keep what was flushed; the writer's error says what and where.
    try {
      writer.end_set(stats);
    } catch (const SessionFileError&) {
      // The original failure below is the one to report; the file keeps its flushed samples.
    }
    std::rethrow_exception(failure);
  }
  writer.end_set(stats);
  return stats;
}

}  // namespace isokin::acquisition
