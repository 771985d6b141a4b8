#pragma once
// The one interface every data source implements: the simulator, USB and serial drivers and
// file replay. Lifecycle: open() -> [apply()] -> start() -> read()... -> stop() -> close().
// read() is called from a single acquisition thread; the other calls from the controlling thread
// while no read() is running.

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "isokin/drivers/domain.h"
#include "isokin/drivers/sample.h"

namespace isokin::drivers {

struct ChannelDescription {
  std::string name;  // "torque", "angle", "velocity"
  std::string unit;  // "N·m", "deg", "deg/s"
  double range_min = 0.0;
  double range_max = 0.0;
};

// Linear map from the device's raw values to isokin's units and signs, per channel.
struct ChannelCalibration {
  std::string channel;
  double gain = 1.0;
  double offset = 0.0;
};

struct DeviceDescription {
  std::string driver;  // registry name, e.g. "sim"
  std::string model;
  std::string serial;
  double sample_rate_hz = 0.0;
  std::vector<ChannelDescription> channels;
  std::vector<ChannelCalibration> calibration;
};

// What a motorised dynamometer is told to do for one set. Devices that only measure ignore it.
struct MotionSetpoint {
  Joint joint = Joint::kKnee;
  Side side = Side::kRight;
  ContractionMode mode = ContractionMode::kConcentricConcentric;
  double extension_velocity = 60.0;  // °/s, magnitude
  double flexion_velocity = 60.0;    // °/s, magnitude
  double angle_min = 5.0;            // ° flexion, end of extension
  double angle_max = 95.0;           // ° flexion, end of flexion
  int repetitions = 5;               // extension + flexion cycles
  // Isometric mode: the lever is held at hold_angle; each effort lasts contraction_time
  // (rise, hold, relax).
  double hold_angle = 60.0;       // ° flexion
  double contraction_time = 5.0;  // s
  // Gravity-correction trial: the lever moves slowly through the range with the limb relaxed.
  bool passive = false;
};

enum class ReadStatus {
  kOk,            // zero or more samples delivered; keep reading
  kTimeout,       // nothing arrived within the device's timeout
  kEndOfStream,   // the set (or the recording being replayed) is over
  kDisconnected,  // the device went away; samples already delivered are valid
  kError,         // see ReadResult::message
};

std::string_view to_string(ReadStatus status);

struct ReadResult {
  std::size_t count = 0;
  ReadStatus status = ReadStatus::kOk;
  std::string message;  // empty unless status is kError or kDisconnected
};

// Something that happened to the device itself, for the session's event log (e.g. a serial port
// that vanished and came back).
struct DeviceEvent {
  std::string kind;    // "disconnected", "reconnected", ...
  std::string detail;  // what and where, for a person
  double time = 0.0;   // s, set time of the last sample queued before it (0 if none)
};

class Device {
 public:
  virtual ~Device() = default;
  Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  [[nodiscard]] virtual DeviceDescription describe() const = 0;
  // Throws DeviceError with the device and the reason when it cannot be opened.
  virtual void open() = 0;
  // Returns false when the device cannot be commanded (it only measures).
  virtual bool apply(const MotionSetpoint& setpoint) = 0;
  virtual void start() = 0;
  // Real-time path: never throws; fills at most out.size() samples.
  virtual ReadResult read(std::span<Sample> out) = 0;
  virtual void stop() = 0;
  virtual void close() = 0;
  // Events since the last call, oldest first. Called from the acquisition thread between reads
  // (it allocates, so not on every read); devices without events keep this default.
  virtual std::vector<DeviceEvent> take_events() { return {}; }
};

class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace isokin::drivers
