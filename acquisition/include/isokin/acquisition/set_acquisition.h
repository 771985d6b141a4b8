#pragma once
// Runs one set: the device is read on its own driver thread into an SpscRing; the calling thread
// drains the ring into the session writer and any live consumers. The driver thread never
// waits for consumers: when the ring is full, samples are dropped, counted, and the next
// sample that gets through carries kStatusGapBefore.

#include <atomic>
#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "isokin/acquisition/fan_out.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/drivers/device.h"

namespace isokin::acquisition {

// A live consumer (analysis, display). Called on the acquisition thread: it must return quickly.
using SampleSink = std::function<void(std::span<const drivers::Sample>)>;

struct AcquisitionOptions {
  std::size_t ring_capacity = 1 << 16;  // samples; 32 s at 2 kHz
  std::size_t read_block = 256;         // samples per Device::read call
  // For sources that are not real time (the simulator without pacing, file replay): the driver
  // thread waits for room in the ring instead of dropping. Never for a real device.
  bool wait_when_full = false;
  // When the set is stopped by request: the end_reason written ("aborted" if null or unset).
  const std::atomic<const char*>* stop_reason = nullptr;
  // True at the stop request: the request ends the set as planned (a measuring-only device whose
  // planned repetitions are recorded, or the operator ending it), so the set is complete.
  const std::atomic<bool>* stop_completes = nullptr;
  // Each device event (a silent serial line, a lost port, …) as it is written to the file:
  // those the device reports while the set records (taken by the driver thread whenever a read
  // times out), and those taken before and after the set. Called on the acquisition thread.
  std::function<void(const drivers::DeviceEvent&)> on_device_event;
};

// Returns the set's statistics (also written to the file by end_set). Stops at end of stream,
// disconnect, device error, or when *stop_requested becomes true. Throws SessionFileError when
// the file cannot be written; samples flushed before that remain in the file.
SetStats acquire_set(drivers::Device& device, SessionWriter& writer, const SetInfo& set,
                     const std::vector<SampleSink>& sinks = {},
                     const std::atomic<bool>* stop_requested = nullptr,
                     const AcquisitionOptions& options = {});

// The same, feeding the live consumers through fan_out (begin_set/end_set included). The
// returned stats list the recorder (its drops: ring overruns) and then each fan-out consumer;
// losses and time gaps are also written to the file as events.
SetStats acquire_set(drivers::Device& device, SessionWriter& writer, const SetInfo& set,
                     FanOut& fan_out, const std::atomic<bool>* stop_requested = nullptr,
                     const AcquisitionOptions& options = {});

}  // namespace isokin::acquisition
