#include "isokin/drivers/serial_device.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <variant>

#include "serial/asio.h"

namespace isokin::drivers {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Decoder = std::variant<serial::AsciiFrameDecoder, serial::BinaryFrameDecoder>;

Decoder make_decoder(const SerialProfile& p) {
  if (p.framing == SerialFramingKind::kAscii) return serial::AsciiFrameDecoder(p.ascii);
  return serial::BinaryFrameDecoder(p.binary);
}

// Opens and configures the port; on failure leaves it closed and sets error.
void open_port(asio::serial_port& port, const SerialProfile& p, const std::string& path,
               boost::system::error_code& error) {
  using Base = asio::serial_port_base;
  port.open(path, error);
  if (error) return;
  const auto parity = p.parity == SerialParity::kOdd    ? Base::parity::odd
                      : p.parity == SerialParity::kEven ? Base::parity::even
                                                        : Base::parity::none;
  const auto flow = p.flow_control == SerialFlowControl::kSoftware   ? Base::flow_control::software
                    : p.flow_control == SerialFlowControl::kHardware ? Base::flow_control::hardware
                                                                     : Base::flow_control::none;
  const auto stop = p.stop_bits == 2 ? Base::stop_bits::two : Base::stop_bits::one;
  port.set_option(Base::baud_rate(p.baud_rate), error);
  if (!error) port.set_option(Base::character_size(p.data_bits), error);
  if (!error) port.set_option(Base::parity(parity), error);
  if (!error) port.set_option(Base::stop_bits(stop), error);
  if (!error) port.set_option(Base::flow_control(flow), error);
  if (!error) return;
  boost::system::error_code ignored;
  port.close(ignored);
}

std::size_t field_of(const SerialProfile& p, std::string_view quantity) {
  const auto it = std::find(p.fields.begin(), p.fields.end(), quantity);
  if (it == p.fields.end()) {
    throw DeviceError(fmt::format("serial profile {}: no \"{}\" field", p.name, quantity));
  }
  return static_cast<std::size_t>(it - p.fields.begin());
}

}  // namespace

SerialFields serial_fields(const SerialProfile& profile) {
  return {field_of(profile, "torque"), field_of(profile, "velocity"), field_of(profile, "angle")};
}

Sample frame_sample(const SerialProfile& profile, const SerialFields& fields,
                    const serial::Frame& frame) {
  const std::int32_t torque = frame.counts[fields.torque];
  const std::int32_t velocity = frame.counts[fields.velocity];
  const std::int32_t angle = frame.counts[fields.angle];
  Sample s;
  s.torque = profile.torque.apply(torque);
  s.velocity = profile.velocity.apply(velocity);
  s.angle = profile.angle.apply(angle);
  bool counts_outside = false;
  if (profile.count_max > profile.count_min) {
    const auto at_or_beyond = [&](std::int32_t count) {
      return count <= profile.count_min || count >= profile.count_max;
    };
    if (at_or_beyond(torque)) s.status |= kStatusTorqueClipped;
    if (at_or_beyond(angle)) s.status |= kStatusAngleClipped;
    for (const std::int32_t count : {torque, velocity, angle}) {
      counts_outside = counts_outside || count < profile.count_min || count > profile.count_max;
    }
  }
  // What the board cannot have measured (counts beyond its converter, values beyond any joint
  // or dynamometer) is kept, as recorded data is never dropped, but never silently used.
  if (counts_outside || !within_physical_range(s.torque, s.angle, s.velocity)) {
    s.status |= kStatusCorrupt;
  }
  return s;
}

// Everything the I/O thread and read() share, and the I/O thread's own state.
struct SerialDevice::Io {
  Io(const SerialProfile& p, std::string path)
      : profile(p),
        port_path(std::move(path)),
        decoder(make_decoder(p)),
        fields(serial_fields(p)),
        queue(p.queue_capacity) {}

  void start_reading() {
    port.async_read_some(asio::buffer(rx), [this](const boost::system::error_code& error,
                                                  std::size_t n) { on_read(error, n); });
  }

  void on_read(const boost::system::error_code& error, std::size_t n) {
    if (closing || error == asio::error::operation_aborted) return;
    if (error) {
      lose_port(error.message());
      return;
    }
    frames.clear();
    std::visit([&](auto& d) { d.decode(std::span(rx.data(), n), frames); }, decoder);
    deliver(n);
    start_reading();
  }

  // Turns decoded frames into samples and queues them (between start() and stop()).
  void deliver(std::size_t bytes) {
    const auto now = Clock::now();
    const std::scoped_lock lock(mutex);
    counters.bytes_received += bytes;
    counters.decoder = std::visit([](const auto& d) { return d.counters(); }, decoder);
    for (const serial::Frame& frame : frames) {
      bool gap = frame.gap_before;
      const double quiet = std::chrono::duration<double>(now - last_frame_at).count();
      if (running && have_frame && seen_generation == generation && !reconnected &&
          quiet >= profile.silence_timeout_s) {
        // The line was silent: the host's clock says how long (the frames carry no time).
        events.push_back(
            {"silence-end",
             fmt::format("serial {}: frames again after {:.2f} s without any; the first sample "
                         "after it is marked as a gap",
                         port_path, quiet),
             last_time});
        index_offset += static_cast<std::uint64_t>(std::llround(quiet * profile.sample_rate_hz));
        gap = true;
        silent = false;
      }
      if (reconnected) {
        // The outage on the host's clock stands in for the frames the board sent meanwhile.
        const double outage = std::chrono::duration<double>(now - last_frame_at).count();
        const auto missed = std::max<std::uint64_t>(
            1, static_cast<std::uint64_t>(std::llround(outage * profile.sample_rate_hz)));
        index_offset = have_frame ? last_index + missed - frame.index : 0;
        reconnected = false;
        gap = have_frame;
      }
      const std::uint64_t index = index_offset + frame.index;
      last_index = index;
      have_frame = true;
      last_frame_at = now;
      if (!running) continue;
      if (seen_generation != generation) {
        // The first frame after start() is the set's time 0.
        seen_generation = generation;
        base_index = index;
        gap = false;
        silent = false;  // the set's time starts here: a silence before it cut nothing
      }
      Sample s = frame_sample(profile, fields, frame);
      s.time = static_cast<double>(index - base_index) / profile.sample_rate_hz;
      if ((s.status & kStatusCorrupt) != 0) report_out_of_range(s, frame);
      if (gap || overflow_gap) s.status |= kStatusGapBefore;
      if (queued == queue.size()) {
        ++counters.samples_overflowed;
        overflow_gap = true;
        continue;
      }
      queue[(head + queued) % queue.size()] = s;
      ++queued;
      ++counters.samples_queued;
      overflow_gap = false;
      last_time = s.time;
    }
    if (!frames.empty()) ready.notify_one();
  }

  // The first corrupt sample of a set in detail; stop() says how many there were.
  void report_out_of_range(const Sample& s, const serial::Frame& frame) {
    ++counters.samples_out_of_range;
    if (out_of_range_in_set++ > 0) return;
    events.push_back(
        {"out-of-range",
         fmt::format("serial {}: a frame out of range at {:.3f} s (counts {}, {}, {} for torque, "
                     "velocity, angle; {:.6g} N·m, {:.6g} °/s, {:.6g}°; count range {} to {}, "
                     "limits ±{:g} N·m, ±{:g} °/s, ±{:g}°): kept, marked corrupt",
                     port_path, s.time, frame.counts[fields.torque], frame.counts[fields.velocity],
                     frame.counts[fields.angle], s.torque, s.velocity, s.angle, profile.count_min,
                     profile.count_max, kPhysicalTorqueLimit, kPhysicalVelocityLimit,
                     kPhysicalAngleLimit),
         s.time});
  }

  void lose_port(const std::string& reason) {
    boost::system::error_code ignored;
    port.close(ignored);
    std::visit([](auto& d) { d.reset(); }, decoder);
    reconnected = false;
    lost_at = Clock::now();
    {
      const std::scoped_lock lock(mutex);
      connected = false;
      ++counters.disconnects;
      const std::string detail = fmt::format("serial {}: port lost ({}); reopening every {:g} s",
                                             port_path, reason, profile.reconnect_interval_s);
      events.push_back({"disconnected", detail, last_time});
      if (running) {
        disconnect_pending = true;
        disconnect_message = detail;
      }
    }
    ready.notify_one();
    schedule_reopen();
  }

  void schedule_reopen() {
    retry.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(profile.reconnect_interval_s)));
    retry.async_wait([this](const boost::system::error_code& error) {
      if (closing || error) return;
      boost::system::error_code open_error;
      open_port(port, profile, port_path, open_error);
      if (open_error) {
        schedule_reopen();
        return;
      }
      reconnected = true;
      {
        const std::scoped_lock lock(mutex);
        connected = true;
        reconnected_at = Clock::now();  // a silence is counted from here, not across the outage
        ++counters.reconnects;
        events.push_back(
            {"reconnected",
             fmt::format("serial {}: port back after {:.2f} s; samples resume with a gap",
                         port_path, std::chrono::duration<double>(Clock::now() - lost_at).count()),
             last_time});
      }
      start_reading();
    });
  }

  const SerialProfile& profile;
  const std::string port_path;

  asio::io_context context;
  asio::serial_port port{context};
  asio::steady_timer retry{context};
  std::thread thread;

  // I/O thread only.
  std::array<std::uint8_t, 4096> rx{};
  Decoder decoder;
  std::vector<serial::Frame> frames;
  const SerialFields fields;
  std::uint64_t index_offset = 0;  // frame index after reconnections = offset + decoder's index
  std::uint64_t last_index = 0;
  bool have_frame = false;
  bool reconnected = false;
  bool closing = false;  // set by close(): no more reads or reopen attempts
  Clock::time_point lost_at;

  // Shared, under mutex.
  std::mutex mutex;
  std::condition_variable ready;
  bool running = false;
  bool connected = true;
  std::uint64_t generation = 0;  // incremented by start()
  std::uint64_t seen_generation = 0;
  std::uint64_t base_index = 0;
  std::vector<Sample> queue;  // ring: queued samples from head
  std::size_t head = 0;
  std::size_t queued = 0;
  bool overflow_gap = false;
  bool disconnect_pending = false;
  std::string disconnect_message;
  Clock::time_point last_frame_at;   // set by the I/O thread
  Clock::time_point started_at;      // by start(): silence is measured from it or the last frame
  Clock::time_point reconnected_at;  // … or the last reconnection
  bool silent = false;               // a "silence" event was queued and frames have not returned
  std::uint64_t out_of_range_in_set = 0;
  double last_time = 0.0;
  std::vector<DeviceEvent> events;
  SerialCounters counters;
};

SerialDevice::SerialDevice(SerialProfile profile, std::string port)
    : profile_(std::move(profile)), port_path_(port.empty() ? profile_.port : std::move(port)) {
  if (port_path_.empty()) {
    throw DeviceError(fmt::format("serial: no port given and profile {} names none (--port PATH)",
                                  profile_.name));
  }
}

SerialDevice::~SerialDevice() {
  close();
}

DeviceDescription SerialDevice::describe() const {
  DeviceDescription d;
  d.driver = "serial";
  d.model = profile_.model;
  d.serial = fmt::format("{} (profile {})", port_path_, profile_.name);
  d.sample_rate_hz = profile_.sample_rate_hz;
  auto range = [&](const SerialChannelMap& map, std::string name, std::string unit) {
    ChannelDescription c{std::move(name), std::move(unit), 0.0, 0.0};
    if (profile_.count_max > profile_.count_min) {
      const double a = map.apply(profile_.count_min);
      const double b = map.apply(profile_.count_max);
      c.range_min = std::min(a, b);
      c.range_max = std::max(a, b);
    }
    return c;
  };
  d.channels = {range(profile_.torque, "torque", "N·m"), range(profile_.angle, "angle", "deg"),
                range(profile_.velocity, "velocity", "deg/s")};
  // The whole map from counts to isokin's units, the sign folded in.
  auto calibration = [](const SerialChannelMap& map, std::string name) {
    return ChannelCalibration{std::move(name), map.sign * map.gain, map.sign * map.offset};
  };
  d.calibration = {calibration(profile_.torque, "torque"), calibration(profile_.angle, "angle"),
                   calibration(profile_.velocity, "velocity")};
  return d;
}

void SerialDevice::open() {
  if (io_) return;
  auto io = std::make_unique<Io>(profile_, port_path_);
  boost::system::error_code error;
  open_port(io->port, profile_, port_path_, error);
  if (error) {
    throw DeviceError(fmt::format("serial {} (profile {}): cannot open: {}", port_path_,
                                  profile_.name, error.message()));
  }
  io->start_reading();
  Io* raw = io.get();
  io->thread = std::thread([raw] {
    // Runs until close(): there is always a read or a reopen timer pending.
    raw->context.run();
  });
  io_ = std::move(io);
}

bool SerialDevice::apply(const MotionSetpoint& /*setpoint*/) {
  return false;
}

void SerialDevice::start() {
  if (!io_) throw DeviceError(fmt::format("serial {}: start() before open()", port_path_));
  const std::scoped_lock lock(io_->mutex);
  io_->running = true;
  ++io_->generation;
  io_->head = 0;
  io_->queued = 0;
  io_->overflow_gap = false;
  io_->last_time = 0.0;
  io_->started_at = Clock::now();
  io_->silent = false;
  io_->out_of_range_in_set = 0;
  io_->disconnect_pending = !io_->connected;
  io_->disconnect_message =
      io_->connected ? std::string()
                     : fmt::format("serial {}: port is gone; waiting for it to return", port_path_);
}

ReadResult SerialDevice::read(std::span<Sample> out) {
  if (!io_) return {0, ReadStatus::kError, "serial: read() before open()"};
  Io& io = *io_;
  std::unique_lock lock(io.mutex);
  io.ready.wait_for(lock, std::chrono::duration<double>(profile_.timeout_s),
                    [&] { return io.queued > 0 || io.disconnect_pending || !io.running; });
  if (!io.running) return {0, ReadStatus::kError, "serial: read() while not started"};
  if (io.queued > 0) {
    const std::size_t n = std::min(out.size(), io.queued);
    for (std::size_t i = 0; i < n; ++i) out[i] = io.queue[(io.head + i) % io.queue.size()];
    io.head = (io.head + n) % io.queue.size();
    io.queued -= n;
    return {n, ReadStatus::kOk, {}};
  }
  if (io.disconnect_pending) {
    io.disconnect_pending = false;
    return {0, ReadStatus::kDisconnected, io.disconnect_message};
  }
  const auto heard = std::max({io.last_frame_at, io.started_at, io.reconnected_at});
  const double quiet = std::chrono::duration<double>(Clock::now() - heard).count();
  if (io.connected && !io.silent && quiet >= profile_.silence_timeout_s) {
    io.silent = true;
    ++io.counters.silences;
    io.events.push_back(
        {"silence",
         fmt::format("serial {}: no frames for {:.1f} s (a board without power, a stopped "
                     "firmware or a loose cable?); still waiting",
                     port_path_, quiet),
         io.last_time});
  }
  return {0, ReadStatus::kTimeout, {}};
}

void SerialDevice::stop() {
  if (!io_) return;
  {
    const std::scoped_lock lock(io_->mutex);
    io_->running = false;
    if (io_->out_of_range_in_set > 1) {
      io_->events.push_back({"out-of-range",
                             fmt::format("serial {}: {} frames of this set out of range, each "
                                         "kept and marked corrupt",
                                         port_path_, io_->out_of_range_in_set),
                             io_->last_time});
    }
  }
  io_->ready.notify_all();
}

void SerialDevice::close() {
  if (!io_) return;
  stop();
  Io* io = io_.get();
  asio::post(io->context, [io] {
    io->closing = true;
    io->retry.cancel();
    boost::system::error_code ignored;
    io->port.close(ignored);
  });
  io->thread.join();  // run() returns once the read and the timer have been cancelled
  io_.reset();
}

std::vector<DeviceEvent> SerialDevice::take_events() {
  if (!io_) return {};
  const std::scoped_lock lock(io_->mutex);
  return std::exchange(io_->events, {});
}

SerialCounters SerialDevice::counters() const {
  if (!io_) return {};
  const std::scoped_lock lock(io_->mutex);
  return io_->counters;
}

}  // namespace isokin::drivers
