#pragma once
// LabJack U6 USB data-acquisition box read directly through libusb-1.0, wired to a
// dynamometer's analog torque, position and velocity outputs (docs/hardware.md).
// Stream mode with several asynchronous bulk transfers in flight on the driver's own event
// thread; raw counts -> volts with the device's calibration constants -> N·m, °, °/s with a
// calibration profile. Faults (unplug, stall, timeout, FIFO overflow, corrupt packets) are
// reported through ReadResult and stream_health(); samples already delivered stay valid.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "isokin/drivers/device.h"

namespace isokin::drivers {

// One analog input wired to one dynamometer output: value = sign × units_per_volt × (V −
// zero_volts).
struct AnalogChannelMap {
  int ain = 0;                // AIN number (0-13 on the U6 screw terminals / DB37)
  double range_volts = 10.0;  // ±10, ±1, ±0.1 or ±0.01: the U6 gain
  bool differential = false;  // AIN(n) − AIN(n+1), n even
  double units_per_volt = 1.0;
  double zero_volts = 0.0;  // the voltage at 0 N·m / 0° / 0 °/s
  int sign = 1;             // −1 when the dynamometer's sign is the opposite of isokin's
  [[nodiscard]] double to_units(double volts) const {
    return sign * units_per_volt * (volts - zero_volts);
  }
  [[nodiscard]] double to_volts(double units) const {
    return units / (sign * units_per_volt) + zero_volts;
  }
};

// How a lab's dynamometer is wired to the U6 and how its outputs scale (JSON, docs/hardware.md).
struct CalibrationProfile {
  std::string name;
  std::string dynamometer;  // the model whose analog outputs this describes
  double scan_rate_hz = 1000.0;
  AnalogChannelMap torque;    // N·m, positive = extensor moment
  AnalogChannelMap angle;     // ° joint flexion, 0 = full extension
  AnalogChannelMap velocity;  // °/s, positive toward flexion
};
// Throws DeviceError naming the file (or `source`) and the field that is wrong.
CalibrationProfile load_calibration_profile(const std::filesystem::path& file);
CalibrationProfile parse_calibration_profile(std::string_view json, std::string_view source);
// A path (with a directory or ending in .json) as given, else NAME.json in the first of
// `directories` that has it. Throws DeviceError saying where it looked.
std::filesystem::path find_labjack_profile(std::string_view name_or_path,
                                           const std::vector<std::filesystem::path>& directories);

struct LabJackU6Options {
  std::string serial;  // empty: the first U6 found
  CalibrationProfile profile;
  int samples_per_packet = 25;
  int transfers_in_flight = 8;
  int packets_per_transfer = 0;          // 0: about 10 ms of data per transfer (SPP 25 only)
  unsigned transfer_timeout_ms = 1000;   // libusb timeout of each stream transfer
  std::size_t queue_capacity = 1 << 20;  // decoded samples held for read(); beyond: dropped
};

// What the stream went through, for the session's events and for tests.
struct StreamHealth {
  std::uint64_t packets = 0;          // valid packets decoded
  std::uint64_t corrupt_packets = 0;  // bad checksum or header
  std::uint64_t short_packets = 0;    // transfers ending in a partial packet
  std::uint64_t lost_packets = 0;     // from packet-counter gaps (includes corrupt/short ones)
  std::uint64_t overflows = 0;        // auto-recovery reports (FIFO overflow, error 60)
  std::uint64_t discarded_scans = 0;  // scans the device discarded during auto-recovery
  std::uint64_t timeouts = 0;         // stream transfers that timed out
  std::uint64_t dropped_samples = 0;  // decoded but not read in time (queue full)
  std::uint64_t scans = 0;            // scans delivered as samples
  int max_backlog = 0;                // highest device FIFO backlog byte seen
};

// A U6 on the bus, as `isokin devices` lists it.
struct AttachedDevice {
  std::string driver;    // "labjack-u6"
  std::string model;     // "LabJack U6" / "LabJack U6-Pro"
  std::string serial;    // empty when it could not be opened
  std::string location;  // "bus 1 device 2"
  std::string problem;   // empty when usable, else why not (permission, busy, ...)
  bool permission_denied = false;
};
std::vector<AttachedDevice> find_labjack_u6_devices();
// The udev rule that lets non-root users open a U6 (shipped in packaging/udev/).
std::string_view labjack_udev_rule();

class LabJackU6 final : public Device {
 public:
  explicit LabJackU6(LabJackU6Options options);
  ~LabJackU6() override;

  [[nodiscard]] DeviceDescription describe() const override;
  void open() override;
  bool apply(const MotionSetpoint& setpoint) override;  // measures only: false
  void start() override;
  ReadResult read(std::span<Sample> out) override;
  void stop() override;
  void close() override;
  // Stream faults (timeout, corrupt/short/lost packets, overflow, stall, unplug) with the set
  // time of the last sample before each, for the session's event log.
  std::vector<DeviceEvent> take_events() override;

  [[nodiscard]] StreamHealth stream_health() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace isokin::drivers
