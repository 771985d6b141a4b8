#pragma once
// Reading and writing session files (HDF5, format version 4, reads 1 to 3; contract in
// docs/file-format.md). HDF5 is an implementation detail: nothing here includes it.
//
// The writer keeps the file closed and consistent between sets and writes each set in SWMR
// mode, flushing at least every flush_interval, so a killed process loses at most that much.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "isokin/acquisition/session.h"

namespace isokin::acquisition {

class SessionFileError : public std::runtime_error {
 public:
  enum class Kind {
    kNotFound,      // no such file
    kNotHdf5,       // empty, garbage or truncated beyond recognition
    kNotIsokin,     // an HDF5 file without format = "isokin"
    kNewerVersion,  // format_version greater than this build reads
    kDamaged,       // isokin file with missing or inconsistent content
    kWriteFailed,   // could not create or extend the file (disk full, permissions)
  };
  SessionFileError(Kind kind, const std::filesystem::path& path, const std::string& problem);
  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  Kind kind_;
  std::filesystem::path path_;
};

class SessionWriter {
 public:
  struct Options {
    std::chrono::milliseconds flush_interval{500};
    std::size_t chunk_rows = 8192;  // HDF5 chunk length of each per-set dataset
  };

  // Creates (truncates) the file and writes the session metadata. Throws SessionFileError.
  SessionWriter(std::filesystem::path path, const SessionInfo& info, Options options);
  SessionWriter(std::filesystem::path path, const SessionInfo& info);
  ~SessionWriter();  // closes without marking complete if finish() was not called
  SessionWriter(const SessionWriter&) = delete;
  SessionWriter& operator=(const SessionWriter&) = delete;

  void begin_set(const SetInfo& info);
  // Buffers and writes; flushes to disk when flush_interval has passed. Throws on write failure,
  // after which the samples already flushed stay readable.
  void append(std::span<const drivers::Sample> samples);
  // For a set begun with SetInfo::device_segmented: one segment per sample.
  void append(std::span<const drivers::Sample> samples, std::span<const DeviceSegment> segments);
  void end_set(const SetStats& stats);
  // Queues an event; during a set it is written with the next flush (so a killed writer loses
  // at most the last flush_interval of events too), between sets at the next step.
  void add_event(Event event);
  // Writes the queued events now (between sets; during a set the next flush writes them).
  void write_events();
  // Seconds since the writer was created (host monotonic clock): the time base of events.
  [[nodiscard]] double session_time() const;
  // Marks the session complete and closes the file.
  void finish();

  [[nodiscard]] const std::filesystem::path& path() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads a whole session (complete or interrupted). Throws SessionFileError naming the file and
// the problem.
Session read_session(const std::filesystem::path& path);

// What could be read of a damaged or interrupted file, and what could not.
struct SalvagedSession {
  Session session;
  std::vector<std::string>
      lost;  // one line per part that could not be read, e.g. "/sets/set_002: …"
};
// Reads every part of a session that is readable (metadata, each set, the events) and lists
// the parts that are not, instead of failing at the first. Throws SessionFileError only when
// nothing is readable (not found, not HDF5, not isokin, newer version, no format_version).
// The file is never modified.
SalvagedSession salvage_session(const std::filesystem::path& path);

// The subject's descriptive fields (format version 4) a file can hold: sex "female", "male",
// "other" or empty; age 0 (unknown) to kMaxAgeYears; sport at most kMaxSportBytes of UTF-8
// without NUL; dominant side left or right; injured side left, right or none. Throws
// std::invalid_argument naming the field. SessionWriter checks this before creating the file.
inline constexpr int kMaxAgeYears = 150;
inline constexpr std::size_t kMaxSportBytes = 256;
void check_subject_info(const SubjectInfo& subject);

// Reading files that may come from anywhere (what the command line opens). libhdf5 1.10 can
// loop or crash inside its own code on some crafted files (docs/security.md), before isokin can
// check anything. These first run read_session / salvage_session on the file in a child process
// that is killed after time_limit; if that child crashes or is killed they throw
// SessionFileError (kDamaged) saying so, and only otherwise read the file in this process.
// They fork: other threads may call them at the same time, but must not use HDF5 otherwise
// meanwhile (a child forked while a thread is inside libhdf5 could not take its lock). A zero
// time_limit means the default, untrusted_read_time_limit(path).
Session read_untrusted_session(const std::filesystem::path& path,
                               std::chrono::seconds time_limit = {});
SalvagedSession salvage_untrusted_session(const std::filesystem::path& path,
                                          std::chrono::seconds time_limit = {});
// The default time limit of those trials: 20 s, plus 1 s per 8 MiB the file stores on disk
// (not its apparent size: a sparse file's holes hold nothing to read), at most 300 s.
std::chrono::seconds untrusted_read_time_limit(const std::filesystem::path& path);

// fork() in a program that runs other threads copies their locks (the allocator's, a sanitizer's)
// into a child that can then wait on them forever. Programs with threads (batch, the desktop
// application) therefore register a probe program: the trial then runs
// argv_prefix + {"read"|"salvage", FILE} as a fresh process (posix_spawn), killed after the
// time limit; its exit status 0 means it finished. That program calls run_session_probe() first
// thing in main(). Without a registered probe the trial forks.
void use_session_probe_program(std::vector<std::string> argv_prefix);
// If argv[1] == flag, runs the trial argv[2] ("read"|"salvage") on argv[3] and returns the exit
// status to end the program with (0: finished, whatever the file held); otherwise nullopt.
std::optional<int> run_session_probe(int argc, char** argv, std::string_view flag);

// Writes a whole session in one go (used by importers and tests).
void write_session(const std::filesystem::path& path, const Session& session);

}  // namespace isokin::acquisition
