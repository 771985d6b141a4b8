#pragma once
// A dynamometer read through a serial line (USB-CDC or USB-serial adapter, /dev/ttyACM0,
// /dev/ttyUSB0): a microcontroller board samples the dynamometer's analog outputs and sends one
// frame per sample. Port settings, framing, calibration and sign mapping come from a device
// profile (JSON, docs/serial-protocol.md; shipped in profiles/).
//
// Threads: the port is read asynchronously (Boost.Asio) on the device's own I/O thread from
// open() to close(); frames are decoded there and, between start() and stop(), queued for
// read(), which runs on the acquisition thread. When the queue is full new samples are dropped,
// counted, and the next queued sample carries kStatusGapBefore.
//
// Time: the frames carry none. A sample's time is its frame number since start() divided by
// the profile's nominal rate (binary frames: sequence gaps advance it; after a reconnection it
// advances by the outage measured on the host's monotonic clock).
//
// Port loss: a failing read (the port vanished) makes the next read() return kDisconnected with
// the reason once; the driver then tries to reopen the same path every reconnect_interval. While
// it is gone read() returns kTimeout; after it returns samples flow again, the first one marked
// kStatusGapBefore. Both are reported as DeviceEvents ("disconnected", "reconnected").
//
// Silence: no frame for silence_timeout_s while started is reported at once ("silence", taken
// by the acquisition on its next timeout) and when frames return ("silence-end").
// Out of range: a frame whose counts lie outside the board's count range, or whose values lie
// beyond the physical limits of sample.h, is queued marked kStatusCorrupt ("out-of-range":
// the first of a set in detail, and at stop() how many there were).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "isokin/drivers/device.h"
#include "isokin/drivers/serial_protocol.h"

namespace isokin::drivers {

enum class SerialFramingKind { kAscii, kBinary };
enum class SerialParity { kNone, kOdd, kEven };
enum class SerialFlowControl { kNone, kSoftware, kHardware };

// How one frame field becomes a value in isokin's units and signs:
// value = sign · (gain · count + offset). gain and offset are the lab's own calibration (in the
// lab's sign convention); sign (+1 or −1) maps the lab's direction to isokin's.
struct SerialChannelMap {
  double gain = 1.0;
  double offset = 0.0;
  double sign = 1.0;
  [[nodiscard]] double apply(std::int32_t count) const {
    return sign * (gain * static_cast<double>(count) + offset);
  }
};

struct SerialProfile {
  std::string name;  // file stem
  std::string description;
  std::string model;
  std::filesystem::path source;  // the profile file, for messages
  // Port.
  std::string port;  // default device path; DeviceOptions::port overrides it
  unsigned baud_rate = 115200;
  unsigned data_bits = 8;
  SerialParity parity = SerialParity::kNone;
  unsigned stop_bits = 1;
  SerialFlowControl flow_control = SerialFlowControl::kNone;
  // Framing: fields[i] names what the frame's i-th value is: "torque", "velocity", "angle", or
  // "" for a field that is ignored.
  SerialFramingKind framing = SerialFramingKind::kAscii;
  serial::AsciiFraming ascii;
  serial::BinaryFraming binary;
  std::vector<std::string> fields;
  // The board's count range: a count at either end is a clipped signal (0 = 0 unknown).
  std::int32_t count_min = 0;
  std::int32_t count_max = 0;
  // Calibration and sign map.
  SerialChannelMap torque;
  SerialChannelMap velocity;
  SerialChannelMap angle;
  // Timing and buffering.
  double sample_rate_hz = 1000.0;     // nominal frame rate: the time base
  double timeout_s = 0.5;             // read() waits this long for a sample
  double reconnect_interval_s = 0.2;  // how often a vanished port is tried again
  // No frame for this long while a set records: a "silence" event at once (the operator is
  // told), and when frames return the first sample is marked kStatusGapBefore and the time
  // advances by the silence, as after a reconnection (docs/serial-protocol.md).
  double silence_timeout_s = 1.0;
  std::size_t queue_capacity = 1 << 16;  // samples between the I/O thread and read()
};

// Reads and checks a profile. Throws DeviceError naming the file, and the line and column for
// malformed JSON, or the key and the problem.
SerialProfile load_serial_profile(const std::filesystem::path& file);

// NAME (a file NAME.json in one of directories, first match wins) or a path to a JSON file.
// Throws DeviceError listing where it looked.
std::filesystem::path find_serial_profile(std::string_view name_or_path,
                                          const std::vector<std::filesystem::path>& directories);

// Where torque, velocity and angle are in a profile's frames. Throws DeviceError naming the
// profile when one is missing.
struct SerialFields {
  std::size_t torque = 0;
  std::size_t velocity = 0;
  std::size_t angle = 0;
};
SerialFields serial_fields(const SerialProfile& profile);

// The sample a frame makes, as the driver queues it but at time 0: calibrated, signs mapped,
// kStatusTorqueClipped / kStatusAngleClipped for a count at an end of the count range, and
// kStatusCorrupt for counts beyond it or values beyond the physical limits (sample.h).
Sample frame_sample(const SerialProfile& profile, const SerialFields& fields,
                    const serial::Frame& frame);

// What the device counted since open().
struct SerialCounters {
  serial::DecoderCounters decoder;  // summed over reconnections
  std::uint64_t samples_queued = 0;
  std::uint64_t samples_overflowed = 0;  // dropped because read() fell behind
  // Counts beyond the board's count range or values beyond the physical limits (sample.h):
  // queued, marked kStatusCorrupt, and reported as an "out-of-range" event.
  std::uint64_t samples_out_of_range = 0;
  std::uint64_t silences = 0;  // times the line was silent for silence_timeout_s in a set
  std::uint64_t bytes_received = 0;
  std::uint64_t disconnects = 0;
  std::uint64_t reconnects = 0;
};

class SerialDevice final : public Device {
 public:
  // port: the device path, or empty for the profile's.
  explicit SerialDevice(SerialProfile profile, std::string port = {});
  ~SerialDevice() override;

  [[nodiscard]] DeviceDescription describe() const override;
  void open() override;
  bool apply(const MotionSetpoint& setpoint) override;  // false: the board only measures
  void start() override;
  ReadResult read(std::span<Sample> out) override;
  void stop() override;
  void close() override;
  std::vector<DeviceEvent> take_events() override;

  [[nodiscard]] SerialCounters counters() const;
  [[nodiscard]] const SerialProfile& profile() const { return profile_; }
  [[nodiscard]] const std::string& port() const { return port_path_; }

 private:
  struct Io;  // Boost.Asio state, kept out of this header
  SerialProfile profile_;
  std::string port_path_;
  std::unique_ptr<Io> io_;
};

}  // namespace isokin::drivers
