#pragma once
// Creating output files without ever destroying a file (docs/security.md, threat model):
//
// - RecordingFile: a recording's session file, created exclusively (an existing file of any
//   kind is refused, never truncated) and write-locked for as long as it records, so a second
//   recording on the same path refuses and the first is untouched. `isokin run`, `isokin demo`
//   and the desktop application all record through acquisition::StreamedRecording, which
//   holds one.
// - PendingFile: a command's output written under a unique temporary name created
//   exclusively in the output's own directory, and moved into place only once whole, never
//   over a file that appeared in the meantime (unless asked to, e.g. `batch --resume`).
//
// Both throw std::runtime_error naming the path and the reason.

#include <filesystem>
#include <string>

namespace isokin::acquisition {

class RecordingFile {
 public:
  // Creates `path` (O_EXCL) and takes a write lock on it (an open-file-description lock,
  // released when this object goes away or the process dies). Throws when the path exists:
  // "<path> exists: a recording never overwrites a file; give a new name", or "<path> is being
  // recorded right now by another program; give a new name" when a recording holds it.
  explicit RecordingFile(const std::filesystem::path& path);
  ~RecordingFile();
  RecordingFile(const RecordingFile&) = delete;
  RecordingFile& operator=(const RecordingFile&) = delete;

  // Throws the constructor's error if `path` exists (a check before a device is opened; the
  // constructor is the check that counts).
  static void check_new(const std::filesystem::path& path);

 private:
  int descriptor_ = -1;
};

class PendingFile {
 public:
  enum class Existing { kRefuse, kReplace };

  // Creates DIR/.NAME.partial-XXXXXXXXXXXX (random, O_EXCL) in `target`'s directory, which
  // must exist. Nothing is written to `target` until commit().
  explicit PendingFile(std::filesystem::path target);
  ~PendingFile();  // removes the temporary file unless it was committed
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  // Where to write: an empty file only this object created.
  [[nodiscard]] const std::filesystem::path& path() const { return temporary_; }
  [[nodiscard]] const std::filesystem::path& target() const { return target_; }

  // Moves the written file to the target atomically. kRefuse: if the target exists by now,
  // throws and the target stays as it is (the temporary is removed).
  void commit(Existing existing = Existing::kRefuse);

 private:
  std::filesystem::path target_;
  std::filesystem::path temporary_;
  bool committed_ = false;
};

}  // namespace isokin::acquisition
