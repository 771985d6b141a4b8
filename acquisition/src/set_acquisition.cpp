#include "isokin/acquisition/set_acquisition.h"

#include <fmt/format.h>

#include <chrono>
#include <exception>
#include <mutex>
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
  std::uint64_t dropped = 0;            // valid once finished
  // Device events taken during the set (a timeout may be a silent line: the operator must hear
  // of it at once, not at the set's end).
  std::mutex events_mutex;
  std::vector<drivers::DeviceEvent> events;  // guarded by events_mutex
};

bool stopping(const std::atomic<bool>* stop_requested, const std::atomic<bool>& consumer_failed) {
  return (stop_requested != nullptr && stop_requested->load(std::memory_order_relaxed)) ||
         consumer_failed.load(std::memory_order_relaxed);
}

void run_driver(drivers::Device& device, SpscRing<Sample>& ring, std::size_t block,
                bool wait_when_full, const std::atomic<bool>* stop_requested,
                const std::atomic<bool>& consumer_failed, DriverOutcome& outcome) {
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
      std::size_t pushed = ring.push_bulk(std::span<const Sample>(buffer.data(), r.count));
      while (wait_when_full && pushed < r.count && !stopping(stop_requested, consumer_failed)) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        pushed += ring.push_bulk(std::span<const Sample>(buffer.data() + pushed, r.count - pushed));
      }
      // Samples that did not fit are gone; mark the next one that gets through.
      gap_pending = pushed < r.count;
      outcome.dropped += r.count - pushed;
    }
    if (r.status == ReadStatus::kTimeout) {
      // Between reads, as Device::take_events asks; only on timeouts, as it allocates.
      auto events = device.take_events();
      if (!events.empty()) {
        const std::scoped_lock lock(outcome.events_mutex);
        for (auto& e : events) outcome.events.push_back(std::move(e));
      }
    }
    if (r.status != ReadStatus::kOk && r.status != ReadStatus::kTimeout) break;
  }
  outcome.status = r.status;
  outcome.message = r.message;
  outcome.finished.store(true, std::memory_order_release);
}

// Watches the device clock: a step longer than 1.5 sample periods is a gap, and a step that is
// not forward (a clock reset or a jump back) is counted with them: both break the time axis.
struct GapDetector {
  double period = 0.0;
  double previous = -1.0;
  std::uint64_t gaps = 0;
  double first_gap_time = 0.0;
  void check(std::span<const Sample> samples) {
    for (const Sample& s : samples) {
      const double step = s.time - previous;
      if (period > 0.0 && previous >= 0.0 && !(step > 0.0 && step <= 1.5 * period)) {
        if (gaps++ == 0) first_gap_time = s.time;
      }
      previous = s.time;
    }
  }
};

// The events the driver thread took during the set, into the file (and to the caller).
void record_device_events(DriverOutcome& outcome, SessionWriter& writer, int set_index,
                          double device_zero, const AcquisitionOptions& options) {
  std::vector<drivers::DeviceEvent> events;
  {
    const std::scoped_lock lock(outcome.events_mutex);
    if (outcome.events.empty()) return;
    events.swap(outcome.events);
  }
  for (auto& e : events) {
    if (options.on_device_event) options.on_device_event(e);
    writer.add_event({device_zero + e.time, set_index, "device-" + e.kind, std::move(e.detail)});
  }
}

SetStats acquire(drivers::Device& device, SessionWriter& writer, const SetInfo& set,
                 const std::vector<SampleSink>& sinks, FanOut* fan_out,
                 const std::atomic<bool>* stop_requested, const AcquisitionOptions& options) {
  writer.begin_set(set);
  if (fan_out != nullptr) fan_out->begin_set(set);
  GapDetector gaps;
  const double rate = device.describe().sample_rate_hz;
  if (rate > 0.0) gaps.period = 1.0 / rate;
  SpscRing<Sample> ring(options.ring_capacity);
  DriverOutcome outcome;
  std::atomic<bool> consumer_failed{false};

  // What happened to the device between sets (e.g. a serial port came back).
  for (auto& e : device.take_events()) {
    if (options.on_device_event) options.on_device_event(e);
    writer.add_event({writer.session_time(), -1, "device-" + e.kind, std::move(e.detail)});
  }
  device.apply(set.setpoint);
  device.start();
  // Maps the device clock (sample times, from 0 at start) to the session's host clock.
  const double device_zero = writer.session_time();
  writer.add_event(
      {device_zero, set.index, "clock", "device time 0 s of this set = the event's session time"});
  std::thread driver(run_driver, std::ref(device), std::ref(ring), options.read_block,
                     options.wait_when_full, stop_requested, std::cref(consumer_failed),
                     std::ref(outcome));

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
        gaps.check(got);
        for (const auto& sink : sinks) sink(got);
        if (fan_out != nullptr) fan_out->deliver(got);
        stats.sample_count += n;
        continue;
      }
      if (driver_done) break;
      record_device_events(outcome, writer, set.index, device_zero, options);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  } catch (...) {
    failure = std::current_exception();
    consumer_failed.store(true);
  }
  driver.join();
  device.stop();
  // The device's own events during the set, at their device time on the session clock.
  record_device_events(outcome, writer, set.index, device_zero, options);
  for (auto& e : device.take_events()) {
    if (options.on_device_event) options.on_device_event(e);
    writer.add_event({device_zero + e.time, set.index, "device-" + e.kind, std::move(e.detail)});
  }

  stats.dropped_samples = outcome.dropped;
  const bool stopped_by_request =
      stop_requested != nullptr && stop_requested->load(std::memory_order_relaxed);
  const bool stop_completes =
      stopped_by_request && options.stop_completes != nullptr && options.stop_completes->load();
  stats.complete =
      !failure &&
      ((outcome.status == ReadStatus::kEndOfStream && !stopped_by_request) || stop_completes);
  if (failure) {
    stats.end_reason = "recording failed";
  } else if (stopped_by_request) {
    const char* reason = options.stop_reason != nullptr ? options.stop_reason->load() : nullptr;
    stats.end_reason = reason != nullptr ? reason : "aborted";
  } else {
    stats.end_reason = std::string(drivers::to_string(outcome.status));
    if (!outcome.message.empty()) stats.end_reason += ": " + outcome.message;
  }
  if (fan_out != nullptr) {
    stats.consumers.push_back({"recorder", stats.sample_count, stats.dropped_samples});
    for (auto& c : fan_out->take_set_stats()) stats.consumers.push_back(std::move(c));
    fan_out->end_set(stats);
  }
  const double now = writer.session_time();
  for (const ConsumerStats& c : stats.consumers) {
    if (c.dropped > 0) {
      writer.add_event({now, set.index, c.name == "recorder" ? "overrun" : "drops",
                        fmt::format("{}: {} samples lost", c.name, c.dropped)});
    }
  }
  if (fan_out == nullptr && stats.dropped_samples > 0) {
    writer.add_event({now, set.index, "overrun",
                      fmt::format("recorder: {} samples lost", stats.dropped_samples)});
  }
  if (gaps.gaps > 0) {
    writer.add_event({now, set.index, "gap",
                      fmt::format("{} gaps in the device clock, first at {:.4f} s", gaps.gaps,
                                  gaps.first_gap_time)});
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

}  // namespace

SetStats acquire_set(drivers::Device& device, SessionWriter& writer, const SetInfo& set,
                     const std::vector<SampleSink>& sinks, const std::atomic<bool>* stop_requested,
                     const AcquisitionOptions& options) {
  return acquire(device, writer, set, sinks, nullptr, stop_requested, options);
}

SetStats acquire_set(drivers::Device& device, SessionWriter& writer, const SetInfo& set,
                     FanOut& fan_out, const std::atomic<bool>* stop_requested,
                     const AcquisitionOptions& options) {
  return acquire(device, writer, set, {}, &fan_out, stop_requested, options);
}

}  // namespace isokin::acquisition
