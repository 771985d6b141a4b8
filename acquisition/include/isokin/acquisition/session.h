#pragma once
// In-memory form of a session file (format version 4, docs/file-format.md). Plain data: no HDF5.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "isokin/drivers/device.h"

namespace isokin::acquisition {

inline constexpr int kFormatVersion = 4;

struct SubjectInfo {
  std::string id = "anonymous";  // pseudonymous: never a name
  double body_mass_kg = 0.0;     // 0 = unknown
  // Personal data (version 3): empty unless the lab chose to store it (docs/security.md);
  // written only when not empty, removed by `isokin anonymize`.
  std::string name;
  std::string birth_date;  // ISO 8601 date, e.g. 1990-04-01
  // Descriptive fields (version 4): what cohort summaries group by and the report shows.
  // Empty / nullopt / 0 = not recorded.
  std::string sex;                             // "female", "male", "other" or empty
  int age_years = 0;                           // age at the session
  std::string sport;                           // free text, e.g. "football"
  std::optional<drivers::Side> dominant_side;  // kLeft or kRight
  std::optional<drivers::Side> injured_side;   // kLeft, kRight, or kNone = no injured side
};

struct SessionInfo {
  std::string created_utc;  // ISO 8601, e.g. 2026-11-25T12:00:00Z
  std::string software;     // "isokin 0.1.0"
  std::string protocol_name;
  std::string protocol_json;  // the protocol as run, verbatim
  SubjectInfo subject;
  drivers::DeviceDescription device;
};

// Why a set was recorded (format version 2; version-1 files read as kind "test").
inline constexpr const char* kSetKindTest = "test";
inline constexpr const char* kSetKindWarmUp = "warm-up";
inline constexpr const char* kSetKindGravity = "gravity";

struct SetInfo {
  int index = 0;  // 0-based, order of recording
  drivers::MotionSetpoint setpoint;
  std::string kind = kSetKindTest;  // "test", "warm-up" or "gravity" (gravity-correction trial)
  std::string label;                // the protocol's name for the set, e.g. "60 °/s"
  int protocol_set = -1;            // index of the set in the protocol; -1 = none
  int attempt = 1;                  // 2, 3, … when the operator redid the set
  // The set carries the device's own repetition/phase columns (version 3): the writer then
  // takes one DeviceSegment per sample. Read back from the presence of those datasets.
  bool device_segmented = false;
};

// One live consumer's delivery count for a set (format version 2).
struct ConsumerStats {
  std::string name;  // "recorder", "analyser", "viewer", …
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;  // samples the consumer was too slow to take
};

// Something that happened during the session (format version 2).
struct Event {
  double time = 0.0;   // s since the session started, host monotonic clock
  int set_index = -1;  // the set it belongs to; -1 = none
  std::string kind;    // "set-start", "set-end", "rest", "pause", "resume", "abort", "mark", …
  std::string detail;  // free text; may be empty
};

// Longest event texts a file stores (format version 3: fixed-length strings, so events can be
// appended while a set is recorded in SWMR mode). Longer details are cut at a UTF-8 boundary and
// end in "…"; a longer kind is refused.
inline constexpr std::size_t kEventKindBytes = 32;
inline constexpr std::size_t kEventDetailBytes = 1024;

// The device's own segmentation of a recording, when it has one (format version 3; importers of
// vendor exports with repetition and phase columns). Values are part of the file format.
enum class DevicePhase : std::int8_t {
  kNone = 0,       // between movements, holding, or not given for this sample
  kExtension = 1,  // moving toward 0° (e.g. Biodex "Away" in a knee extension/flexion pattern)
  kFlexion = 2,    // moving toward flexion
};
struct DeviceSegment {
  std::int32_t repetition = 0;  // the device's repetition number; 0 = none
  DevicePhase phase = DevicePhase::kNone;
};

// Written when the set ends.
struct SetStats {
  std::uint64_t sample_count = 0;
  std::uint64_t dropped_samples = 0;     // lost between device and file (ring overruns)
  bool complete = false;                 // false: the set was interrupted
  std::string end_reason;                // "end of stream", "disconnected: ...", "aborted"
  std::vector<ConsumerStats> consumers;  // live consumers fed during the set (version 2)
};

// One set's signals as columns, all the same length.
struct SetSignals {
  std::vector<double> time;      // s
  std::vector<double> torque;    // N·m
  std::vector<double> angle;     // °
  std::vector<double> velocity;  // °/s
  std::vector<std::uint32_t> status;
  // Empty, or one per sample when the device segmented the recording itself (version 3).
  std::vector<DeviceSegment> device_segments;

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
  std::vector<Event> events;  // in time order; empty in version-1 files
};

}  // namespace isokin::acquisition
