#pragma once
// The live stream (docs/stream-protocol.md): a TCP server on its own Boost.Asio thread that
// serves a session's samples, set boundaries and per-repetition results to any number of
// clients. It is a fan-out consumer: its callbacks only encode a frame and hand it to the
// network thread, so acquisition never waits for the network. Each client has a bounded backlog
// of bytes not yet accepted by its socket; a client that lets it fill is disconnected (and
// counted) instead of slowing the others.
//
// Thread contract: begin_set/consume/end_set on the fan-out lane's thread; publish_json(),
// stats() and client_count() from any thread; the destructor (or stop()) from the owner.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "isokin/acquisition/fan_out.h"
#include "isokin/acquisition/session.h"
#include "isokin/drivers/sample.h"

namespace isokin::acquisition {

inline constexpr const char* kStreamProtocolName = "isokin-stream";
inline constexpr int kStreamProtocolVersion = 1;

// Frame types (docs/stream-protocol.md §2): part of the protocol, never renumber.
enum class StreamFrame : std::uint8_t {
  kJson = 1,     // UTF-8 JSON object
  kSamples = 2,  // binary sample block
};
inline constexpr std::size_t kStreamFrameHeaderBytes = 5;       // u32 payload length + u8 type
inline constexpr std::size_t kStreamBlockHeaderBytes = 16;      // i32 set, u32 count, u64 sequence
inline constexpr std::size_t kStreamSampleBytes = 36;           // 4 × f64 + u32 status
inline constexpr std::size_t kStreamMaxClientLineBytes = 1024;  // longer: protocol error

// What a client may send: one JSON object per line (docs/stream-protocol.md §4).
enum class ClientMessageKind { kPing, kInvalid };
struct ClientMessage {
  ClientMessageKind kind = ClientMessageKind::kInvalid;
  std::string error;  // why it is invalid (kInvalid), for the client: may quote what it sent
  // The same in fixed words with nothing of the client's text: what the session file records.
  std::string_view summary;
};
// One line, without its '\n'. Never throws.
ClientMessage parse_client_message(std::string_view line) noexcept;

struct LiveStreamOptions {
  std::string bind_address = "127.0.0.1";  // anything else only when the operator asks for it
  std::uint16_t port = 0;                  // 0: the system picks one (see LiveStream::port())
  std::size_t client_backlog_bytes = std::size_t{4} << 20;  // per client; then it is dropped
  int max_clients = 16;  // further connections are told and closed
  // Kernel send buffer of each client socket (SO_SNDBUF); 0 = the system's default. Tests make
  // it small so a stuck client fills its backlog quickly.
  int socket_send_buffer = 0;
  // Connections, drops, protocol errors and per-set counts, for the session file (kind,
  // detail, set index or -1). Called from the stream's threads; may be empty. Clients cause
  // at most kStreamLoggedClientEvents of them between two "stream-stats" events and
  // kStreamMaxClientEvents in all; the rest are only counted (docs/stream-protocol.md §6).
  std::function<void(const std::string& kind, const std::string& detail, int set_index)> on_event;
  // false: listen at once but accept no connection before accept_clients(), so that no client
  // event happens before whoever records them is ready (connections wait in the kernel's
  // backlog meanwhile).
  bool accept_at_once = true;
};

// Client events (connections, refusals, drops, protocol errors) logged one by one between two
// "stream-stats" events (each set end), and in the whole session: a flood of connections
// must not fill the session file's events (docs/stream-protocol.md §6).
inline constexpr std::uint64_t kStreamLoggedClientEvents = 16;
inline constexpr std::uint64_t kStreamMaxClientEvents = 512;

struct LiveStreamStats {
  std::uint64_t clients_served = 0;          // connections accepted and sent the hello
  std::uint64_t clients_dropped = 0;         // disconnected because their backlog was full
  std::uint64_t clients_refused = 0;         // over max_clients
  std::uint64_t protocol_errors = 0;         // clients disconnected for what they sent
  std::uint64_t bytes_sent = 0;              // to all clients
  std::uint64_t samples_published = 0;       // samples given to the stream (each client gets them)
  std::uint64_t messages_published = 0;      // JSON messages (set start/end, results)
  std::uint64_t client_events_unlogged = 0;  // counted only: over the limits above
};

class LiveStream final : public SampleConsumer {
 public:
  // Binds and listens at once: throws std::runtime_error naming the address and port when it
  // cannot (port in use, address not local, …).
  LiveStream(const SessionInfo& session, LiveStreamOptions options);
  ~LiveStream() override;  // stop()
  LiveStream(const LiveStream&) = delete;
  LiveStream& operator=(const LiveStream&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] const std::string& address() const noexcept { return options_.bind_address; }

  void begin_set(const SetInfo& set) override;
  void consume(std::span<const drivers::Sample> samples) override;
  void end_set(const SetStats& stats) override;

  // Starts accepting connections (LiveStreamOptions::accept_at_once false). Idempotent.
  void accept_clients();

  // Sends a JSON object (one line of text, e.g. a repetition's results) to every client.
  void publish_json(std::string_view json);

  // Sends {"type":"bye"}, lets clients take what is queued (at most timeout_s), closes every
  // connection and joins the network thread. Idempotent.
  void stop(double timeout_s = 2.0);

  [[nodiscard]] LiveStreamStats stats() const noexcept;
  [[nodiscard]] int client_count() const noexcept { return clients_now_.load(); }

 private:
  struct Impl;
  void publish(std::shared_ptr<const std::string> frame);

  LiveStreamOptions options_;
  std::uint16_t port_ = 0;
  std::atomic<int> clients_now_{0};
  std::unique_ptr<Impl> impl_;
};

// The frame encoders (exposed for the tests, the benchmark and other servers).
std::string encode_json_frame(std::string_view json);
std::string encode_sample_frame(int set_index, std::uint64_t first_sequence,
                                std::span<const drivers::Sample> samples);

}  // namespace isokin::acquisition
