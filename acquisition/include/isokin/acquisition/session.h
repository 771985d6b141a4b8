#pragma once
// In-memory form of a session file (format version 1, docs/file-format.md). Plain data: no HDF5.

#include <cstdint>
#include <string>
#include <vector>

#include "isokin/drivers/device.h"

namespace isokin::acquisition {

inline constexpr int kFormatVersion = 1;

struct SubjectInfo {
  std::string id = "anonymous";  // pseudonymous: never a name
  double body_mass_kg = 0.0;     // 0 = unknown
};

struct SessionInfo {
  std::string created_utc;  // ISO 8601, e.g. 2026-11-25T12:00:00Z
  std::string software;     // "isokin 0.1.0"
  std::string protocol_name;
  std::string protocol_json;  // the protocol as run, verbatim
  SubjectInfo subject;
  drivers::DeviceDescription device;
};

struct SetInfo {
  int index = 0;  // 0-based, order of recording
  drivers::MotionSetpoint setpoint;
};

// Written when the set ends.
struct SetStats {
  std::uint64_t sample_count = 0;
  std::uint64_t dropped_samples = 0;  // lost between device and file (ring overruns)
  bool complete = false;              // false: the set was interrupted
  std::string end_reason;             // "end of stream", "disconnected: ...", "aborted"
};

// One set's signals as columns, all the same length.
struct SetSignals {
  std::vector<double> time;      // s
  std::vector<double> torque;    // N·m
  std::vector<double> angle;     // °
  std::vector<double> velocity;  // °/s
  std::vector<std::uint32_t> status;

  [[nodiscard]] std::size_t size() const { return time.size(); }
  void append(const drivers::Sample& s) {
    time.push_back(s.time);
    torque.push_back(s.torque);
    angle.push_back(s.angle);
    velocity.push_back(s.velocity);
    status.push_back(s.status);
  }
};

struct RecordedSet {
  SetInfo info;
  SetStats stats;
  SetSignals signals;
};

struct Session {
  int format_version = kFormatVersion;
  bool complete = false;  // false: recording was interrupted (file still readable)
  SessionInfo info;
  std::vector<RecordedSet> sets;
};

}  // namespace isokin::acquisition
