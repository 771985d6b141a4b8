#include "isokin/acquisition/streamed_recording.h"

#include <fmt/format.h>

namespace isokin::acquisition {

StreamedRecording::StreamedRecording(const std::filesystem::path& out, const SessionInfo& info,
                                     std::optional<LiveStreamOptions> stream) {
  if (stream) {
    // No client is accepted before the file exists (accept_clients below): a client that
    // connects at once waits in the kernel's backlog, and its "stream-client" event is
    // recorded. (Accepting at once lost that event whenever a client won the race against the
    // file's creation: one run in eight of the Python example client test.)
    stream->accept_at_once = false;
    stream->on_event = [this](const std::string& kind, const std::string& detail, int set_index) {
      if (auto* writer = event_writer_.load()) {
        writer->add_event({writer->session_time(), set_index, kind, detail});
      }
    };
    stream_.emplace(info, std::move(*stream));
  }
  file_.emplace(out);
  try {
    writer_ = std::make_unique<SessionWriter>(out, info);
  } catch (...) {
    // Created just above and holding no sample yet: a failed start leaves no file behind.
    std::error_code ignored;
    std::filesystem::remove(out, ignored);
    throw;
  }
  event_writer_.store(writer_.get());
  if (stream_) stream_->accept_clients();
}

StreamedRecording::~StreamedRecording() {
  if (stream_) stream_->stop();  // its thread may be adding an event to the writer
  event_writer_.store(nullptr);
}

std::string StreamedRecording::end_stream() {
  if (!stream_) return {};
  stream_->stop();
  const auto s = stream_->stats();
  std::string summary = fmt::format(
      "{} clients served, {} dropped as too slow, {} protocol errors, {} refused; {} samples "
      "and {} messages published, {} bytes sent; {} client events counted, not logged one by "
      "one",
      s.clients_served, s.clients_dropped, s.protocol_errors, s.clients_refused,
      s.samples_published, s.messages_published, s.bytes_sent, s.client_events_unlogged);
  writer_->add_event({writer_->session_time(), -1, "stream-stats", "session: " + summary});
  writer_->write_events();
  return summary;
}

}  // namespace isokin::acquisition
