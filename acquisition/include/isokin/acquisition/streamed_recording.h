#pragma once
// A session recorded to a file while it is served on the live stream (docs/stream-protocol.md),
// the way `isokin run --stream` and the desktop application record: the stream listens before
// the file is created, so a port in use leaves no file behind; the file is then created as a
// RecordingFile (new_file.h: an existing file is refused, and the file stays locked while it
// records, so a second recording on it refuses); from then on the stream's events
// (clients connecting, falling behind) are recorded in the file; the stream always stops before
// the file is closed. Owned and used by one thread (the one running the protocol).

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "isokin/acquisition/live_stream.h"
#include "isokin/acquisition/new_file.h"
#include "isokin/acquisition/session_file.h"

namespace isokin::acquisition {

class StreamedRecording {
 public:
  // `stream`: how to serve it (its on_event is set here); nullopt records without serving.
  // Throws what LiveStream, RecordingFile and SessionWriter throw.
  StreamedRecording(const std::filesystem::path& out, const SessionInfo& info,
                    std::optional<LiveStreamOptions> stream);
  ~StreamedRecording();  // stops the stream, then closes the file (complete only if finished)
  StreamedRecording(const StreamedRecording&) = delete;
  StreamedRecording& operator=(const StreamedRecording&) = delete;

  [[nodiscard]] SessionWriter& writer() { return *writer_; }
  // nullptr when not streaming.
  [[nodiscard]] LiveStream* stream() { return stream_ ? &*stream_ : nullptr; }
  // Stops the stream and records its statistics in the file as a "stream-stats" event; returns
  // them in one line ("" without a stream).
  std::string end_stream();

 private:
  std::atomic<SessionWriter*> event_writer_{nullptr};
  std::optional<LiveStream> stream_;
  std::optional<RecordingFile> file_;  // unlocked only after the writer has closed the file
  std::unique_ptr<SessionWriter> writer_;
};

}  // namespace isokin::acquisition
