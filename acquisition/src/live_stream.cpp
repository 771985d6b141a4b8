#include "isokin/acquisition/live_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "isokin/drivers/domain.h"
#include "stream_asio.h"

namespace isokin::acquisition {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using nlohmann::json;

// The wire format is little-endian; encoding copies host doubles and integers as they are.
static_assert(std::endian::native == std::endian::little,
              "the stream encoder assumes a little-endian host (docs/stream-protocol.md §3)");

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_header(std::string& out, std::size_t payload_bytes, StreamFrame type) {
  put(out, static_cast<std::uint32_t>(payload_bytes));
  put(out, static_cast<std::uint8_t>(type));
}

json set_json(const SetInfo& set) {
  const auto& sp = set.setpoint;
  return {{"index", set.index},
          {"kind", set.kind},
          {"label", set.label},
          {"protocol_set", set.protocol_set},
          {"attempt", set.attempt},
          {"joint", drivers::to_string(sp.joint)},
          {"side", drivers::to_string(sp.side)},
          {"mode", drivers::to_string(sp.mode)},
          {"extension_velocity", sp.extension_velocity},
          {"flexion_velocity", sp.flexion_velocity},
          {"angle_min", sp.angle_min},
          {"angle_max", sp.angle_max},
          {"repetitions", sp.repetitions},
          {"hold_angle", sp.hold_angle}};
}

json hello_json(const SessionInfo& session) {
  json channels = json::array();
  channels.push_back({{"name", "time"},
                      {"type", "f64"},
                      {"unit", "s"},
                      {"meaning", "time since the start of the set"}});
  channels.push_back({{"name", "torque"},
                      {"type", "f64"},
                      {"unit", "N·m"},
                      {"sign", "positive = extensor moment"}});
  channels.push_back({{"name", "angle"},
                      {"type", "f64"},
                      {"unit", "°"},
                      {"sign", "joint flexion, 0 = full extension"}});
  channels.push_back({{"name", "velocity"},
                      {"type", "f64"},
                      {"unit", "°/s"},
                      {"sign", "d(angle)/dt, positive toward flexion"}});
  channels.push_back({{"name", "status"},
                      {"type", "u32"},
                      {"bits",
                       {{"torque_clipped", drivers::kStatusTorqueClipped},
                        {"angle_clipped", drivers::kStatusAngleClipped},
                        {"gap_before", drivers::kStatusGapBefore},
                        {"corrupt", drivers::kStatusCorrupt}}}});
  return {{"type", "hello"},
          {"protocol", kStreamProtocolName},
          {"version", kStreamProtocolVersion},
          {"byte_order", "little-endian"},
          {"channels", channels},
          {"sample_rate_hz", session.device.sample_rate_hz},
          {"subject", {{"id", session.subject.id}}},
          {"session",
           {{"protocol", session.protocol_name},
            {"created_utc", session.created_utc},
            {"software", session.software},
            {"device", {{"driver", session.device.driver}, {"model", session.device.model}}}}},
          {"set", nullptr}};
}

constexpr std::string_view kOverlongMessage = "message longer than 1024 bytes";
static_assert(kStreamMaxClientLineBytes == 1024, "kOverlongMessage names the limit");

std::string dump(const json& j) {
  // Replace invalid UTF-8 rather than throw: a label typed by the operator must not stop a set.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string encode_json_frame(std::string_view text) {
  std::string frame;
  frame.reserve(kStreamFrameHeaderBytes + text.size());
  put_header(frame, text.size(), StreamFrame::kJson);
  frame.append(text);
  return frame;
}

std::string encode_sample_frame(int set_index, std::uint64_t first_sequence,
                                std::span<const drivers::Sample> samples) {
  const std::size_t payload = kStreamBlockHeaderBytes + samples.size() * kStreamSampleBytes;
  std::string frame;
  frame.reserve(kStreamFrameHeaderBytes + payload);
  put_header(frame, payload, StreamFrame::kSamples);
  put(frame, static_cast<std::int32_t>(set_index));
  put(frame, static_cast<std::uint32_t>(samples.size()));
  put(frame, first_sequence);
  for (const drivers::Sample& s : samples) {
    put(frame, s.time);
    put(frame, s.torque);
    put(frame, s.angle);
    put(frame, s.velocity);
    put(frame, s.status);
  }
  return frame;
}

ClientMessage parse_client_message(std::string_view line) noexcept {
  try {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // telnet and friends
    if (line.size() > kStreamMaxClientLineBytes) {
      return {ClientMessageKind::kInvalid,
              fmt::format("message longer than {} bytes", kStreamMaxClientLineBytes),
              kOverlongMessage};
    }
    const json message = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded()) return {ClientMessageKind::kInvalid, "not JSON", "not JSON"};
    if (!message.is_object()) {
      return {ClientMessageKind::kInvalid, "not a JSON object", "not a JSON object"};
    }
    const auto type = message.find("type");
    if (type == message.end() || !type->is_string()) {
      return {ClientMessageKind::kInvalid, "no \"type\" string", "no \"type\" string"};
    }
    if (type->get_ref<const std::string&>() == "ping") return {ClientMessageKind::kPing, {}, {}};
    // The client hears back what it sent; the file only that the type was unknown: a client's
    // text (a name, a birth date) must not reach the session file (docs/security.md).
    return {ClientMessageKind::kInvalid,
            fmt::format("unknown message type \"{}\"",
                        type->get_ref<const std::string&>().substr(0, 64)),
            "unknown message type"};
  } catch (const std::exception& e) {  // allocation failure: still an answer, never a crash
    return {ClientMessageKind::kInvalid, e.what(), "not readable"};
  }
}

// ---------------------------------------------------------------------------------------------

using Frame = std::shared_ptr<const std::string>;

struct LiveStream::Impl {
  struct Client;

  Impl(LiveStream& owner, const SessionInfo& session)
      : stream(owner), hello(hello_json(session)), work(asio::make_work_guard(io)), acceptor(io) {}

  LiveStream& stream;
  asio::io_context io;
  json hello;  // network thread only: "set" follows the set boundaries
  asio::executor_work_guard<asio::io_context::executor_type> work;
  tcp::acceptor acceptor;
  std::set<std::shared_ptr<Client>> clients;  // network thread only
  bool stopping = false;                      // network thread only
  int set_index_seen = -1;                    // network thread only: the set under way
  std::optional<asio::steady_timer> stop_timer;
  std::thread thread;
  std::atomic<bool> stopped{false};

  // Lane thread only.
  int set_index = -1;
  std::uint64_t sequence = 0;

  std::atomic<std::uint64_t> clients_served{0};
  std::atomic<std::uint64_t> clients_dropped{0};
  std::atomic<std::uint64_t> clients_refused{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> samples_published{0};
  std::atomic<std::uint64_t> messages_published{0};
  std::atomic<std::uint64_t> client_events_unlogged{0};

  // Network thread only: client events logged since the last "stream-stats", and in all.
  bool accepting = false;
  std::uint64_t logged_since_stats = 0;
  std::uint64_t logged_in_all = 0;
  std::uint64_t unlogged_since_stats = 0;

  void event(const std::string& kind, const std::string& detail, int set = -1) const {
    if (stream.options_.on_event) stream.options_.on_event(kind, detail, set);
  }

  // An event a client causes: logged while within the limits, else only counted (a flood of
  // connections would otherwise fill the file's events past what a reader accepts).
  void client_event(const std::string& kind, const std::string& detail, int set = -1) {
    if (logged_since_stats < kStreamLoggedClientEvents && logged_in_all < kStreamMaxClientEvents) {
      ++logged_since_stats;
      ++logged_in_all;
      event(kind, detail, set);
      return;
    }
    ++unlogged_since_stats;
    client_events_unlogged.fetch_add(1);
  }

  // "; N more client events counted, not logged" for the stats event, and a fresh period.
  std::string take_unlogged_note() {
    std::string note;
    if (unlogged_since_stats > 0) {
      note = fmt::format(
          "; {} more client events counted, not logged one by one (at most {} "
          "per set, {} per session)",
          unlogged_since_stats, kStreamLoggedClientEvents, kStreamMaxClientEvents);
    }
    unlogged_since_stats = 0;
    logged_since_stats = 0;
    return note;
  }

  void accept();
  void broadcast(const Frame& frame);
  void remove(const std::shared_ptr<Client>& client);
};

struct LiveStream::Impl::Client : std::enable_shared_from_this<Client> {
  Client(Impl& server, tcp::socket s) : impl(server), socket(std::move(s)) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    peer =
        ec ? std::string("?") : fmt::format("{}:{}", remote.address().to_string(), remote.port());
  }

  Impl& impl;
  tcp::socket socket;
  std::string peer;
  std::deque<Frame> queue;         // not yet handed to the socket
  std::vector<Frame> in_flight;    // being written
  std::size_t backlog_bytes = 0;   // queue + in_flight
  bool close_after_flush = false;  // told why (error or bye): close once it is written
  bool closed = false;
  std::array<char, 512> read_buffer{};
  std::string line;

  void start(const Frame& hello) {
    send(hello, /*bounded=*/false);
    read();
  }

  // bounded: subject to the backlog limit (everything but the hello and the last words).
  void send(const Frame& frame, bool bounded) {
    if (closed || close_after_flush) return;
    if (bounded && backlog_bytes + frame->size() > impl.stream.options_.client_backlog_bytes) {
      impl.clients_dropped.fetch_add(1);
      impl.client_event("stream-drop",
                        fmt::format("client {} too slow: backlog of {} bytes full, disconnected",
                                    peer, backlog_bytes),
                        impl.set_index_seen);
      close();
      return;
    }
    queue.push_back(frame);
    backlog_bytes += frame->size();
    if (in_flight.empty()) write();
  }

  // The last message before closing: sent whatever the backlog.
  void send_last(const Frame& frame) {
    if (closed || close_after_flush) return;
    queue.push_back(frame);
    backlog_bytes += frame->size();
    close_after_flush = true;
    if (in_flight.empty()) write();
  }

  void write() {
    if (queue.empty()) {
      if (close_after_flush) close();
      return;
    }
    // Gather what is queued into one write: many small frames per system call.
    std::vector<asio::const_buffer> buffers;
    std::size_t bytes = 0;
    while (!queue.empty() && (buffers.empty() || bytes < (std::size_t{1} << 18))) {
      in_flight.push_back(std::move(queue.front()));
      queue.pop_front();
      buffers.emplace_back(asio::buffer(*in_flight.back()));
      bytes += in_flight.back()->size();
    }
    asio::async_write(socket, buffers,
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                        if (self->closed) return;
                        if (ec) {
                          self->close();  // the client went away
                          return;
                        }
                        self->impl.bytes_sent.fetch_add(n);
                        self->backlog_bytes -= n;
                        self->in_flight.clear();
                        self->write();
                      });
  }

  void read() {
    socket.async_read_some(
        asio::buffer(read_buffer),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
          if (self->closed) return;
          if (ec) {
            // End of file or reset: the client left. Writes still queued are abandoned.
            if (!self->close_after_flush) self->close();
            return;
          }
          self->received(std::string_view(self->read_buffer.data(), n));
          if (!self->closed && !self->close_after_flush) self->read();
        });
  }

  void received(std::string_view bytes) {
    for (const char c : bytes) {
      if (c != '\n') {
        line.push_back(c);
        if (line.size() > kStreamMaxClientLineBytes + 1) {
          protocol_error(std::string(kOverlongMessage), kOverlongMessage);
          return;
        }
        continue;
      }
      const ClientMessage message = parse_client_message(line);
      line.clear();
      if (message.kind == ClientMessageKind::kPing) {
        send(std::make_shared<const std::string>(encode_json_frame(R"({"type":"pong"})")), true);
        if (closed) return;
        continue;
      }
      protocol_error(message.error, message.summary);
      return;
    }
  }

  // why: for the client; summary: fixed words for the file.
  void protocol_error(const std::string& why, std::string_view summary) {
    impl.protocol_errors.fetch_add(1);
    impl.client_event("stream-error", fmt::format("client {} sent a bad message ({}): disconnected",
                                                  peer, summary));
    send_last(std::make_shared<const std::string>(
        encode_json_frame(dump({{"type", "error"}, {"message", why}}))));
  }

  void close() {
    if (closed) return;
    closed = true;
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    queue.clear();
    impl.remove(shared_from_this());
  }
};

void LiveStream::Impl::accept() {
  acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping) return;  // closed by stop()
      client_event("stream-error", fmt::format("accept failed: {}", ec.message()));
      accept();
      return;
    }
    if (stream.options_.socket_send_buffer > 0) {
      boost::system::error_code ignored;
      socket.set_option(asio::socket_base::send_buffer_size(stream.options_.socket_send_buffer),
                        ignored);
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto client = std::make_shared<Client>(*this, std::move(socket));
    if (std::cmp_greater_equal(clients.size(), stream.options_.max_clients)) {
      clients_refused.fetch_add(1);
      client_event("stream-refused", fmt::format("client {} refused: already {} clients",
                                                 client->peer, clients.size()));
      clients.insert(client);
      client->send_last(std::make_shared<const std::string>(
          encode_json_frame(dump({{"type", "error"},
                                  {"message", fmt::format("too many clients (at most {})",
                                                          stream.options_.max_clients)}}))));
    } else {
      clients.insert(client);
      stream.clients_now_.store(static_cast<int>(clients.size()));
      clients_served.fetch_add(1);
      client_event("stream-client",
                   fmt::format("client {} connected ({} now)", client->peer, clients.size()));
      client->start(std::make_shared<const std::string>(encode_json_frame(dump(hello))));
    }
    accept();
  });
}

void LiveStream::Impl::broadcast(const Frame& frame) {
  // Copy: a client dropped while sending leaves the set.
  const std::vector<std::shared_ptr<Client>> now(clients.begin(), clients.end());
  for (const auto& client : now) client->send(frame, true);
}

void LiveStream::Impl::remove(const std::shared_ptr<Client>& client) {
  clients.erase(client);
  stream.clients_now_.store(static_cast<int>(clients.size()));
  if (stopping && clients.empty() && stop_timer) stop_timer->cancel();
}

// ---------------------------------------------------------------------------------------------

LiveStream::LiveStream(const SessionInfo& session, LiveStreamOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(*this, session)) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.bind_address, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("live stream: '{}' is not an IP address: {}",
                                         options_.bind_address, ec.message()));
  }
  const tcp::endpoint endpoint(address, options_.port);
  auto fail = [&](std::string_view what) {
    throw std::runtime_error(fmt::format("live stream: cannot {} {}:{}: {}", what,
                                         options_.bind_address, options_.port, ec.message()));
  };
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (ec) fail("open a socket for");
  // Lets a restarted session take its port again while old connections linger in TIME_WAIT;
  // a port another program listens on is still refused.
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  impl_->acceptor.bind(endpoint, ec);
  if (ec) fail("listen on");
  impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("listen on");
  port_ = impl_->acceptor.local_endpoint().port();
  if (options_.accept_at_once) {
    impl_->accepting = true;
    impl_->accept();
  }
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

LiveStream::~LiveStream() {
  stop();
}

void LiveStream::stop(double timeout_s) {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->io, [this, timeout_s] {
    Impl& impl = *impl_;
    impl.stopping = true;
    boost::system::error_code ec;
    impl.acceptor.close(ec);
    const auto bye = std::make_shared<const std::string>(encode_json_frame(R"({"type":"bye"})"));
    const std::vector<std::shared_ptr<Impl::Client>> now(impl.clients.begin(), impl.clients.end());
    for (const auto& client : now) client->send_last(bye);
    if (impl.clients.empty()) return;
    impl.stop_timer.emplace(impl.io, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::duration<double>(timeout_s)));
    impl.stop_timer->async_wait([&impl](boost::system::error_code) {
      const std::vector<std::shared_ptr<Impl::Client>> left(impl.clients.begin(),
                                                            impl.clients.end());
      for (const auto& client : left) client->close();
    });
  });
  impl_->work.reset();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void LiveStream::accept_clients() {
  asio::post(impl_->io, [impl = impl_.get()] {
    if (impl->accepting || impl->stopping) return;
    impl->accepting = true;
    impl->accept();
  });
}

void LiveStream::publish(Frame frame) {
  asio::post(impl_->io, [impl = impl_.get(), frame = std::move(frame)] {
    if (!impl->stopping) impl->broadcast(frame);
  });
}

void LiveStream::begin_set(const SetInfo& set) {
  impl_->set_index = set.index;
  impl_->sequence = 0;
  json set_description = set_json(set);
  const std::string text = dump({{"type", "set-start"}, {"set", set_description}});
  impl_->messages_published.fetch_add(1);
  asio::post(impl_->io, [impl = impl_.get(), set_description = std::move(set_description),
                         frame = std::make_shared<const std::string>(encode_json_frame(text))] {
    impl->hello["set"] = set_description;  // clients joining mid-set learn which set runs
    impl->set_index_seen = set_description["index"].get<int>();
    if (!impl->stopping) impl->broadcast(frame);
  });
}

void LiveStream::consume(std::span<const drivers::Sample> samples) {
  constexpr std::size_t kMaxBlock = 4096;
  for (std::size_t offset = 0; offset < samples.size(); offset += kMaxBlock) {
    const auto block = samples.subspan(offset, std::min(kMaxBlock, samples.size() - offset));
    publish(std::make_shared<const std::string>(
        encode_sample_frame(impl_->set_index, impl_->sequence, block)));
    impl_->sequence += block.size();
  }
  impl_->samples_published.fetch_add(samples.size());
}

void LiveStream::end_set(const SetStats& stats) {
  const std::string text = dump({{"type", "set-end"},
                                 {"set_index", impl_->set_index},
                                 {"sample_count", stats.sample_count},
                                 {"samples_streamed", impl_->sequence},
                                 {"complete", stats.complete},
                                 {"end_reason", stats.end_reason}});
  impl_->messages_published.fetch_add(1);
  const int index = impl_->set_index;
  asio::post(impl_->io, [impl = impl_.get(), index,
                         frame = std::make_shared<const std::string>(encode_json_frame(text))] {
    impl->hello["set"] = nullptr;
    impl->set_index_seen = -1;
    if (!impl->stopping) impl->broadcast(frame);
    const LiveStreamStats s = impl->stream.stats();
    impl->event(
        "stream-stats",
        fmt::format("{} clients now, {} served, {} dropped as too slow, {} protocol "
                    "errors, {} refused; {} samples and {} messages published, {} bytes sent{}",
                    impl->clients.size(), s.clients_served, s.clients_dropped, s.protocol_errors,
                    s.clients_refused, s.samples_published, s.messages_published, s.bytes_sent,
                    impl->take_unlogged_note()),
        index);
  });
}

void LiveStream::publish_json(std::string_view text) {
  impl_->messages_published.fetch_add(1);
  publish(std::make_shared<const std::string>(encode_json_frame(text)));
}

LiveStreamStats LiveStream::stats() const noexcept {
  return {impl_->clients_served.load(),     impl_->clients_dropped.load(),
          impl_->clients_refused.load(),    impl_->protocol_errors.load(),
          impl_->bytes_sent.load(),         impl_->samples_published.load(),
          impl_->messages_published.load(), impl_->client_events_unlogged.load()};
}

}  // namespace isokin::acquisition
