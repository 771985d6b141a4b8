#include <fmt/format.h>
#include <libusb.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "isokin/drivers/labjack_u6.h"
#include "labjack/u6_protocol.h"

namespace isokin::drivers {
namespace {

constexpr unsigned kCommandTimeoutMs = 1000;  // exodriver's LJ_LIBUSB_TIMEOUT_DEFAULT
constexpr int kInterface = 0;

constexpr std::string_view kUdevRule =
    "# LabJack U6 (isokin): let logged-in users and the plugdev group open it.\n"
    "SUBSYSTEM==\"usb\", ATTRS{idVendor}==\"0cd5\", ATTRS{idProduct}==\"0006\", "
    "MODE=\"0660\", GROUP=\"plugdev\", TAG+=\"uaccess\"\n";

std::string usb_error(int code) {
  return fmt::format("{} ({})", libusb_strerror(code), libusb_error_name(code));
}

u6::Gain gain_for_range(double range_volts) {
  if (range_volts == 10.0) return u6::Gain::kX1;
  if (range_volts == 1.0) return u6::Gain::kX10;
  if (range_volts == 0.1) return u6::Gain::kX100;
  return u6::Gain::kX1000;
}

// --- Calibration profile -----------------------------------------------------------------

AnalogChannelMap parse_channel(const nlohmann::json& j, std::string_view source,
                               std::string_view name) {
  const auto where = [&](std::string_view field) {
    return fmt::format("{}: channels.{}.{}", source, name, field);
  };
  if (!j.is_object())
    throw DeviceError(fmt::format("{}: channels.{} must be an object", source, name));
  AnalogChannelMap c;
  const auto number = [&](std::string_view field, double fallback, bool required) {
    const auto it = j.find(std::string(field));
    if (it == j.end()) {
      if (required) throw DeviceError(where(field) + " is missing");
      return fallback;
    }
    if (!it->is_number()) throw DeviceError(where(field) + " must be a number");
    const double v = it->get<double>();
    if (!std::isfinite(v)) throw DeviceError(where(field) + " must be finite");
    return v;
  };
  const double ain = number("ain", 0, true);
  if (ain < 0 || ain > 143 || ain != std::floor(ain)) {
    throw DeviceError(fmt::format("{} must be an AIN number 0-143 (got {})", where("ain"), ain));
  }
  c.ain = static_cast<int>(ain);
  c.range_volts = number("range_volts", 10.0, false);
  if (c.range_volts != 10.0 && c.range_volts != 1.0 && c.range_volts != 0.1 &&
      c.range_volts != 0.01) {
    throw DeviceError(
        fmt::format("{} must be 10, 1, 0.1 or 0.01 (got {})", where("range_volts"), c.range_volts));
  }
  if (const auto it = j.find("differential"); it != j.end()) {
    if (!it->is_boolean()) throw DeviceError(where("differential") + " must be true or false");
    c.differential = it->get<bool>();
    if (c.differential && c.ain % 2 != 0) {
      throw DeviceError(where("differential") + ": differential pairs start at an even AIN");
    }
  }
  c.units_per_volt = number("units_per_volt", 1.0, true);
  if (c.units_per_volt == 0.0) throw DeviceError(where("units_per_volt") + " must not be 0");
  c.zero_volts = number("zero_volts", 0.0, false);
  const double sign = number("sign", 1.0, false);
  if (sign != 1.0 && sign != -1.0) throw DeviceError(where("sign") + " must be 1 or -1");
  c.sign = static_cast<int>(sign);
  return c;
}

// --- libusb helpers ----------------------------------------------------------------------

struct DeviceList {
  libusb_device** list = nullptr;
  ssize_t count = 0;
  explicit DeviceList(libusb_context* ctx) : count(libusb_get_device_list(ctx, &list)) {}
  ~DeviceList() {
    if (list != nullptr) libusb_free_device_list(list, 1);
  }
  DeviceList(const DeviceList&) = delete;
  DeviceList& operator=(const DeviceList&) = delete;
};

bool is_u6(libusb_device* dev) {
  libusb_device_descriptor d{};
  return libusb_get_device_descriptor(dev, &d) == 0 && d.idVendor == u6::kVendorId &&
         d.idProduct == u6::kProductId;
}

std::string location(libusb_device* dev) {
  return fmt::format("bus {} device {}", libusb_get_bus_number(dev),
                     libusb_get_device_address(dev));
}

// One command and its response on EP1/EP2 (one outstanding command at a time).
std::vector<std::uint8_t> exchange(libusb_device_handle* h, std::vector<std::uint8_t> command,
                                   std::size_t response_length, std::string_view what) {
  int sent = 0;
  int rc = libusb_bulk_transfer(h, u6::kCommandEndpoint, command.data(),
                                static_cast<int>(command.size()), &sent, kCommandTimeoutMs);
  if (rc != 0 || sent != static_cast<int>(command.size())) {
    throw DeviceError(
        fmt::format("{}: sending the command failed: {}", what,
                    rc != 0 ? usb_error(rc) : fmt::format("{} of {} bytes", sent, command.size())));
  }
  std::vector<std::uint8_t> response(std::max(response_length, u6::kMaxPacketSize));
  int got = 0;
  rc = libusb_bulk_transfer(h, u6::kResponseEndpoint, response.data(),
                            static_cast<int>(response_length), &got, kCommandTimeoutMs);
  if (rc != 0) throw DeviceError(fmt::format("{}: no response: {}", what, usb_error(rc)));
  response.resize(static_cast<std::size_t>(got));
  return response;
}

u6::DeviceInfo read_device_info(libusb_device_handle* h) {
  const auto r = exchange(h, u6::config_u6_command(), u6::kConfigU6ResponseLength, "ConfigU6");
  u6::DeviceInfo info;
  u6::ResponseError error;
  if (!u6::parse_config_u6(r, info, error)) throw DeviceError(error.message);
  return info;
}

}  // namespace

CalibrationProfile parse_calibration_profile(std::string_view text, std::string_view source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw DeviceError(fmt::format("{}: not valid JSON (byte {}): {}", source, e.byte, e.what()));
  } catch (const nlohmann::json::exception& e) {
    // A number too large for a double is out_of_range, not parse_error (found by fuzz_profile).
    throw DeviceError(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  if (!j.is_object()) throw DeviceError(fmt::format("{}: a profile is a JSON object", source));
  // Compared as JSON values: json::value() would throw its own exception for a key of another
  // type (found by fuzz_profile's target).
  const auto format = j.find("format");
  const auto version = j.find("version");
  if (format == j.end() || *format != "isokin-labjack-profile" || version == j.end() ||
      *version != 1) {
    throw DeviceError(
        fmt::format("{}: not an isokin LabJack profile (\"format\": \"isokin-labjack-profile\", "
                    "\"version\": 1)",
                    source));
  }
  const auto string_member = [&](const char* key) {
    const auto it = j.find(key);
    if (it == j.end()) return std::string();
    if (!it->is_string()) throw DeviceError(fmt::format("{}: {} must be a string", source, key));
    return it->get<std::string>();
  };
  CalibrationProfile p;
  p.name = string_member("name");
  p.dynamometer = string_member("dynamometer");
  const auto rate = j.find("scan_rate_hz");
  if (rate == j.end() || !rate->is_number() || !(rate->get<double>() > 0.0) ||
      rate->get<double>() > 50'000.0) {
    throw DeviceError(fmt::format("{}: scan_rate_hz must be a number in (0, 50000]", source));
  }
  p.scan_rate_hz = rate->get<double>();
  const auto channels = j.find("channels");
  if (channels == j.end() || !channels->is_object()) {
    throw DeviceError(
        fmt::format("{}: \"channels\" with torque, angle and velocity is missing", source));
  }
  for (const char* name : {"torque", "angle", "velocity"}) {
    if (!channels->contains(name)) {
      throw DeviceError(fmt::format("{}: channels.{} is missing", source, name));
    }
  }
  p.torque = parse_channel(channels->at("torque"), source, "torque");
  p.angle = parse_channel(channels->at("angle"), source, "angle");
  p.velocity = parse_channel(channels->at("velocity"), source, "velocity");
  return p;
}

CalibrationProfile load_calibration_profile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DeviceError(fmt::format("{}: cannot open the calibration profile", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_calibration_profile(text.str(), file.string());
}

std::filesystem::path find_labjack_profile(std::string_view name_or_path,
                                           const std::vector<std::filesystem::path>& directories) {
  namespace fs = std::filesystem;
  fs::path given(name_or_path);
  std::error_code error;
  if (given.has_parent_path() || given.extension() == ".json") return given;
  std::string looked;
  for (const auto& dir : directories) {
    fs::path candidate = dir / (std::string(name_or_path) + ".json");
    if (fs::is_regular_file(candidate, error)) return candidate;
    looked += fmt::format("{}{}", looked.empty() ? "" : ", ", dir.string());
  }
  throw DeviceError(fmt::format("labjack-u6: calibration profile '{}' not found (looked in: {})",
                                name_or_path, looked.empty() ? "nowhere" : looked));
}

std::string_view labjack_udev_rule() {
  return kUdevRule;
}

std::vector<AttachedDevice> find_labjack_u6_devices() {
  libusb_context* ctx = nullptr;
  if (const int rc = libusb_init(&ctx); rc != 0) {
    throw DeviceError(fmt::format("libusb: cannot initialise: {}", usb_error(rc)));
  }
  std::vector<AttachedDevice> found;
  {
    const DeviceList devices(ctx);
    for (ssize_t i = 0; i < devices.count; ++i) {
      libusb_device* dev = devices.list[i];
      if (!is_u6(dev)) continue;
      AttachedDevice a;
      a.driver = "labjack-u6";
      a.model = "LabJack U6";
      a.location = location(dev);
      libusb_device_handle* h = nullptr;
      if (const int rc = libusb_open(dev, &h); rc != 0) {
        a.permission_denied = rc == LIBUSB_ERROR_ACCESS;
        a.problem = a.permission_denied
                        ? fmt::format("permission denied on /dev/bus/usb/{:03d}/{:03d}",
                                      libusb_get_bus_number(dev), libusb_get_device_address(dev))
                        : fmt::format("cannot open: {}", usb_error(rc));
        found.push_back(a);
        continue;
      }
      if (const int rc = libusb_claim_interface(h, kInterface); rc != 0) {
        a.problem = rc == LIBUSB_ERROR_BUSY ? "in use by another program"
                                            : fmt::format("cannot claim: {}", usb_error(rc));
      } else {
        try {
          const auto info = read_device_info(h);
          a.serial = std::to_string(info.serial);
          if (info.pro()) a.model = "LabJack U6-Pro";
          a.model += fmt::format(" (firmware {})", info.firmware());
        } catch (const DeviceError& e) {
          a.problem = e.what();
        }
        libusb_release_interface(h, kInterface);
      }
      libusb_close(h);
      found.push_back(a);
    }
  }
  libusb_exit(ctx);
  return found;
}

// --- The device --------------------------------------------------------------------------

struct LabJackU6::Impl {
  LabJackU6Options options;
  libusb_context* ctx = nullptr;
  libusb_device_handle* handle = nullptr;
  u6::DeviceInfo info;
  u6::Calibration calibration;
  std::array<AnalogChannelMap, 3> maps;  // torque, angle, velocity: the stream's channel order
  std::array<u6::Gain, 3> gains{};
  double scan_rate_hz = 0.0;  // as the clock achieves it

  // Stream state. The event thread writes, read() and stream_health() read, under `mutex`.
  std::vector<libusb_transfer*> transfers;
  std::vector<std::vector<std::uint8_t>> buffers;
  std::unique_ptr<u6::StreamDecoder> decoder;  // event thread only
  std::vector<u6::DecodedScan> scans;          // event thread only
  std::thread event_thread;
  std::atomic<bool> events_running{false};
  std::atomic<bool> stopping{false};
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::deque<Sample> queue;
  int in_flight = 0;
  bool timeout_pending = false;
  bool drop_pending = false;
  std::vector<DeviceEvent> events;  // for take_events(); capped
  std::uint64_t events_dropped = 0;
  double last_time = 0.0;              // set time of the last sample queued
  ReadStatus fault = ReadStatus::kOk;  // kDisconnected or kError once the stream has failed
  std::string fault_message;
  StreamHealth health;

  [[nodiscard]] std::string name() const {
    return info.serial != 0 ? fmt::format("labjack-u6 serial {}", info.serial) : "labjack-u6";
  }

  static void LIBUSB_CALL on_transfer(libusb_transfer* t) {
    static_cast<Impl*>(t->user_data)->completed(t);
  }

  [[nodiscard]] std::string unplugged_message() const {
    return fmt::format(
        "{} was unplugged or lost power during the stream; the samples received before are "
        "kept",
        name());
  }

  // Called with `mutex` held. Faults go to the session's event log through take_events().
  void note(std::string kind, std::string detail) {
    constexpr std::size_t kMaxEvents = 1000;  // a stream gone bad must not fill the memory
    if (events.size() >= kMaxEvents) {
      ++events_dropped;
      return;
    }
    events.push_back({std::move(kind), std::move(detail), last_time});
  }

  void fail(ReadStatus status, std::string message) {
    // Called with `mutex` held. The first fault is the one that explains the others.
    if (fault != ReadStatus::kOk) return;
    fault = status;
    fault_message = std::move(message);
    note(status == ReadStatus::kDisconnected ? "disconnected" : "error", fault_message);
  }

  void completed(libusb_transfer* t) {
    const std::scoped_lock lock(mutex);
    bool resubmit = !stopping.load();
    switch (t->status) {
      case LIBUSB_TRANSFER_COMPLETED:
        decode(t);
        break;
      case LIBUSB_TRANSFER_TIMED_OUT:
        decode(t);  // whatever arrived before the timeout
        ++health.timeouts;
        if (!timeout_pending) {
          note("timeout",
               fmt::format("{}: no stream data for {} ms", name(), options.transfer_timeout_ms));
        }
        timeout_pending = true;
        break;
      case LIBUSB_TRANSFER_CANCELLED:
        resubmit = false;
        break;
      case LIBUSB_TRANSFER_STALL:
        fail(ReadStatus::kError,
             fmt::format("{}: the stream endpoint 0x83 stalled; the stream stopped after {} scans "
                         "(recorded samples are kept). Unplug and replug the U6 if it persists.",
                         name(), health.scans));
        resubmit = false;
        break;
      case LIBUSB_TRANSFER_NO_DEVICE:
        fail(ReadStatus::kDisconnected, unplugged_message());
        resubmit = false;
        break;
      case LIBUSB_TRANSFER_ERROR:
      case LIBUSB_TRANSFER_OVERFLOW:
        fail(ReadStatus::kError,
             fmt::format(
                 "{}: stream transfer failed ({})", name(),
                 t->status == LIBUSB_TRANSFER_OVERFLOW ? "more data than requested" : "USB error"));
        resubmit = false;
        break;
    }
    if (fault != ReadStatus::kOk) resubmit = false;
    if (resubmit) {
      if (const int rc = libusb_submit_transfer(t); rc == LIBUSB_ERROR_NO_DEVICE) {
        fail(ReadStatus::kDisconnected, unplugged_message());
        resubmit = false;
      } else if (rc != 0) {
        fail(ReadStatus::kError,
             fmt::format("{}: cannot resubmit a stream transfer: {}", name(), usb_error(rc)));
        resubmit = false;
      }
    }
    if (!resubmit) --in_flight;
    changed.notify_all();
  }

  // Called with `mutex` held, on the event thread.
  void decode(const libusb_transfer* t) {
    if (t->actual_length <= 0) return;
    scans.clear();
    const std::uint8_t code =
        decoder->feed({t->buffer, static_cast<std::size_t>(t->actual_length)}, scans);
    const auto& c = decoder->counters();
    const StreamHealth before = health;
    health.packets = c.packets;
    health.corrupt_packets = c.corrupt_packets;
    health.short_packets = c.short_packets;
    health.lost_packets = c.lost_packets;
    health.overflows = c.overflows;
    health.discarded_scans = c.discarded_scans;
    health.max_backlog = c.max_backlog;
    for (const auto& scan : scans) {
      if (queue.size() >= options.queue_capacity) {
        ++health.dropped_samples;  // nobody reads: the newest go, the next one is marked
        drop_pending = true;
        continue;
      }
      queue.push_back(to_sample(scan, drop_pending));
      last_time = queue.back().time;
      drop_pending = false;
      ++health.scans;
    }
    if (health.corrupt_packets > before.corrupt_packets) {
      note("corrupt-packet",
           fmt::format("{} stream packet(s) with a bad checksum or header dropped",
                       health.corrupt_packets - before.corrupt_packets));
    }
    if (health.short_packets > before.short_packets) {
      note("short-packet", fmt::format("{} short stream packet(s) dropped",
                                       health.short_packets - before.short_packets));
    }
    if (health.lost_packets > before.lost_packets) {
      const auto lost = health.lost_packets - before.lost_packets;
      note("lost-packets",
           fmt::format("{} packet(s) ({} samples) missing from the stream; the "
                       "next sample is flagged as after a gap",
                       lost, lost * static_cast<std::uint64_t>(options.samples_per_packet)));
    }
    if (health.overflows > before.overflows) {
      note("overflow",
           fmt::format("the U6's buffer overflowed (backlog {}): {} scans discarded by "
                       "its auto-recovery",
                       health.max_backlog, health.discarded_scans - before.discarded_scans));
    }
    if (code != u6::kNoError) {
      fail(ReadStatus::kError, fmt::format("{}: the device reported {} in the stream; stopped "
                                           "after {} scans (recorded samples are kept)",
                                           name(), u6::error_name(code), health.scans));
    }
  }

  [[nodiscard]] Sample to_sample(const u6::DecodedScan& scan, bool dropped_before) const {
    Sample s;
    s.time = static_cast<double>(scan.index) / scan_rate_hz;
    std::array<double, 3> value{};
    for (std::size_t c = 0; c < 3; ++c) {
      const double volts = calibration.volts(scan.counts[c], gains[c]);
      value[c] = maps[c].to_units(volts);
      // At the end of the range the ADC saturates: the value is a bound, not a measurement.
      if (std::abs(volts) >= maps[c].range_volts) {
        s.status |= c == 0 ? kStatusTorqueClipped : (c == 1 ? kStatusAngleClipped : 0u);
      }
    }
    s.torque = value[0];
    s.angle = value[1];
    s.velocity = value[2];
    if (scan.gap_before || dropped_before) s.status |= kStatusGapBefore;
    if (scan.flagged) s.status |= kStatusCorrupt;
    return s;
  }

  void free_transfers() {
    for (auto* t : transfers) libusb_free_transfer(t);
    transfers.clear();
    buffers.clear();
  }

  void stop_stream() {
    if (!events_running.load()) return;
    stopping.store(true);
    {
      std::unique_lock lock(mutex);
      for (auto* t : transfers) libusb_cancel_transfer(t);  // fails harmlessly when not in flight
      // The event thread completes the cancellations; a device that is gone completes them too.
      changed.wait_for(lock, std::chrono::seconds(5), [&] { return in_flight == 0; });
    }
    events_running.store(false);
    if (event_thread.joinable()) event_thread.join();
    bool device_gone = false;
    {
      const std::scoped_lock lock(mutex);
      device_gone = fault == ReadStatus::kDisconnected;
      if (in_flight == 0) free_transfers();  // else leak rather than free a live transfer
    }
    if (!device_gone && handle != nullptr) {
      try {
        std::uint8_t code = 0;
        u6::ResponseError error;
        const auto r =
            exchange(handle, u6::stream_stop_command(), u6::kStartStopResponseLength, "StreamStop");
        (void)u6::parse_start_stop_response(r, false, code, error);
      } catch (const DeviceError&) {
        // Stopping a stream that already failed: the fault is already reported by read().
      }
    }
  }
};

LabJackU6::LabJackU6(LabJackU6Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  const auto& p = impl_->options.profile;
  impl_->maps = {p.torque, p.angle, p.velocity};
  for (std::size_t c = 0; c < 3; ++c) impl_->gains[c] = gain_for_range(impl_->maps[c].range_volts);
  u6::ScanClock clock;
  impl_->scan_rate_hz =
      u6::choose_scan_clock(p.scan_rate_hz, clock) ? clock.scan_rate_hz() : p.scan_rate_hz;
}

LabJackU6::~LabJackU6() {
  close();
}

DeviceDescription LabJackU6::describe() const {
  DeviceDescription d;
  d.driver = "labjack-u6";
  d.model = impl_->info.pro() ? "LabJack U6-Pro" : "LabJack U6";
  if (!impl_->options.profile.dynamometer.empty()) {
    d.model += " on " + impl_->options.profile.dynamometer;
  }
  d.serial = impl_->info.serial != 0 ? std::to_string(impl_->info.serial) : impl_->options.serial;
  d.sample_rate_hz = impl_->scan_rate_hz;
  const std::array<std::pair<const char*, const char*>, 3> names{
      {{"torque", "N·m"}, {"angle", "deg"}, {"velocity", "deg/s"}}};
  for (std::size_t c = 0; c < 3; ++c) {
    const auto& m = impl_->maps[c];
    const double a = m.to_units(-m.range_volts);
    const double b = m.to_units(m.range_volts);
    d.channels.push_back({names[c].first, names[c].second, std::min(a, b), std::max(a, b)});
    d.calibration.push_back(
        {names[c].first, m.sign * m.units_per_volt, -m.sign * m.units_per_volt * m.zero_volts});
  }
  return d;
}

void LabJackU6::open() {
  auto& s = *impl_;
  if (s.handle != nullptr) return;
  if (const int rc = libusb_init(&s.ctx); rc != 0) {
    throw DeviceError(fmt::format("labjack-u6: libusb cannot initialise: {}", usb_error(rc)));
  }
  std::vector<std::string> problems;
  {
    const DeviceList devices(s.ctx);
    for (ssize_t i = 0; i < devices.count && s.handle == nullptr; ++i) {
      libusb_device* dev = devices.list[i];
      if (!is_u6(dev)) continue;
      libusb_device_handle* h = nullptr;
      if (const int rc = libusb_open(dev, &h); rc != 0) {
        problems.push_back(
            rc == LIBUSB_ERROR_ACCESS
                ? fmt::format("{}: permission denied (install the udev rule: isokin devices)",
                              location(dev))
                : fmt::format("{}: cannot open: {}", location(dev), usb_error(rc)));
        continue;
      }
      if (const int rc = libusb_claim_interface(h, kInterface); rc != 0) {
        problems.push_back(
            fmt::format("{}: {}", location(dev),
                        rc == LIBUSB_ERROR_BUSY ? "in use by another program" : usb_error(rc)));
        libusb_close(h);
        continue;
      }
      try {
        const auto info = read_device_info(h);
        if (!s.options.serial.empty() && std::to_string(info.serial) != s.options.serial) {
          problems.push_back(fmt::format("{}: serial {}", location(dev), info.serial));
          libusb_release_interface(h, kInterface);
          libusb_close(h);
          continue;
        }
        s.info = info;
        s.handle = h;
      } catch (const DeviceError& e) {
        problems.push_back(fmt::format("{}: {}", location(dev), e.what()));
        libusb_release_interface(h, kInterface);
        libusb_close(h);
      }
    }
  }
  if (s.handle == nullptr) {
    libusb_exit(s.ctx);
    s.ctx = nullptr;
    const std::string wanted =
        s.options.serial.empty() ? "a LabJack U6" : "the LabJack U6 serial " + s.options.serial;
    std::string why = problems.empty() ? "no U6 (USB 0cd5:0006) is attached" : "";
    for (const auto& p : problems) why += (why.empty() ? "" : "; ") + p;
    throw DeviceError(fmt::format("labjack-u6: cannot open {}: {}", wanted, why));
  }
  // The analog input calibration, blocks 0-3 (no ReadMem while streaming: before start()).
  try {
    for (int b = 0; b < u6::kCalibrationBlocks; ++b) {
      const auto block = static_cast<std::uint8_t>(b);
      const auto r = exchange(s.handle, u6::read_calibration_command(block),
                              u6::kReadMemResponseLength, fmt::format("ReadMem block {}", b));
      std::array<double, 4> constants{};
      u6::ResponseError error;
      if (!u6::parse_read_calibration(r, block, constants, error)) throw DeviceError(error.message);
      s.calibration.set_block(b, constants);
    }
  } catch (const DeviceError& e) {
    const std::string what = e.what();
    close();
    throw DeviceError(fmt::format("{}: reading the calibration constants: {}", s.name(), what));
  }
}

bool LabJackU6::apply(const MotionSetpoint& /*setpoint*/) {
  return false;  // measures only: the dynamometer is set on its own console
}

void LabJackU6::start() {
  auto& s = *impl_;
  if (s.handle == nullptr) throw DeviceError("labjack-u6: start() before open()");
  stop();
  u6::StreamSettings settings;
  for (std::size_t c = 0; c < 3; ++c) {
    settings.channels.push_back(
        {static_cast<std::uint8_t>(s.maps[c].ain), s.gains[c], s.maps[c].differential});
  }
  settings.scan_rate_hz = s.options.profile.scan_rate_hz;
  settings.samples_per_packet = static_cast<std::uint8_t>(s.options.samples_per_packet);
  std::vector<std::uint8_t> config;
  try {
    config = u6::stream_config_command(settings);
  } catch (const std::invalid_argument& e) {
    throw DeviceError(fmt::format("{}: {}", s.name(), e.what()));
  }
  // A stream left running by a crashed program would refuse the configuration: stop it first
  // (STREAM_NOT_RUNNING is the normal answer).
  exchange(s.handle, u6::stream_stop_command(), u6::kStartStopResponseLength, "StreamStop");
  // Firmware before 0.94 leaves packets of the stopped stream on EP 0x83 (Exodriver comment);
  // read them away, or their packet counters would look like a gap at the start.
  for (int i = 0; i < 64; ++i) {
    std::array<std::uint8_t, std::size_t{64} * 16> stale{};
    int got = 0;
    const int rc = libusb_bulk_transfer(s.handle, u6::kStreamEndpoint, stale.data(),
                                        static_cast<int>(stale.size()), &got, 20);
    if (rc != 0 || got == 0) break;
  }
  u6::ResponseError error;
  const auto config_reply =
      exchange(s.handle, config, u6::kStreamConfigResponseLength, "StreamConfig");
  if (!u6::parse_stream_config_response(config_reply, error)) {
    throw DeviceError(fmt::format("{}: {}", s.name(), error.message));
  }
  std::uint8_t code = 0;
  const auto start_reply =
      exchange(s.handle, u6::stream_start_command(), u6::kStartStopResponseLength, "StreamStart");
  if (!u6::parse_start_stop_response(start_reply, true, code, error) || code != u6::kNoError) {
    throw DeviceError(fmt::format("{}: {}", s.name(),
                                  error.message.empty()
                                      ? fmt::format("StreamStart: {}", u6::error_name(code))
                                      : error.message));
  }

  const int spp = s.options.samples_per_packet;
  s.decoder = std::make_unique<u6::StreamDecoder>(3, spp);
  const std::size_t packet = u6::stream_packet_length(spp);
  int packets = 1;  // a packet shorter than 64 bytes ends the transfer
  if (spp == u6::kMaxSamplesPerPacket) {
    packets = s.options.packets_per_transfer > 0
                  ? s.options.packets_per_transfer
                  : std::clamp(static_cast<int>(s.scan_rate_hz * 3.0 / spp / 100.0), 1, 128);
  }
  {
    const std::scoped_lock lock(s.mutex);
    s.queue.clear();
    s.health = {};
    s.fault = ReadStatus::kOk;
    s.fault_message.clear();
    s.timeout_pending = false;
    s.drop_pending = false;
    s.last_time = 0.0;
    s.in_flight = 0;
  }
  s.stopping.store(false);
  s.buffers.assign(static_cast<std::size_t>(s.options.transfers_in_flight),
                   std::vector<std::uint8_t>(packet * static_cast<std::size_t>(packets)));
  for (auto& buffer : s.buffers) {
    libusb_transfer* t = libusb_alloc_transfer(0);
    if (t == nullptr) throw DeviceError(fmt::format("{}: out of memory for transfers", s.name()));
    libusb_fill_bulk_transfer(t, s.handle, u6::kStreamEndpoint, buffer.data(),
                              static_cast<int>(buffer.size()), &Impl::on_transfer, &s,
                              s.options.transfer_timeout_ms);
    s.transfers.push_back(t);
  }
  s.events_running.store(true);
  s.event_thread = std::thread([&s] {
    while (s.events_running.load()) {
      timeval tv{0, 100'000};
      libusb_handle_events_timeout_completed(s.ctx, &tv, nullptr);
    }
  });
  const std::scoped_lock lock(s.mutex);
  for (auto* t : s.transfers) {
    if (const int rc = libusb_submit_transfer(t); rc != 0) {
      s.fail(rc == LIBUSB_ERROR_NO_DEVICE ? ReadStatus::kDisconnected : ReadStatus::kError,
             fmt::format("{}: cannot submit a stream transfer: {}", s.name(), usb_error(rc)));
      break;
    }
    ++s.in_flight;
  }
}

ReadResult LabJackU6::read(std::span<Sample> out) {
  auto& s = *impl_;
  std::unique_lock lock(s.mutex);
  // A fault is final once no transfer is in flight any more: the transfers completed before
  // it may still hold data, and that is delivered first.
  const auto failed = [&] { return s.fault != ReadStatus::kOk && s.in_flight == 0; };
  if (s.queue.empty() && !failed() && !s.timeout_pending) {
    s.changed.wait_for(lock, std::chrono::milliseconds(50),
                       [&] { return !s.queue.empty() || failed() || s.timeout_pending; });
  }
  const std::size_t n = std::min(out.size(), s.queue.size());
  if (n > 0) {
    std::copy_n(s.queue.begin(), n, out.begin());
    s.queue.erase(s.queue.begin(), s.queue.begin() + static_cast<std::ptrdiff_t>(n));
    return {n, ReadStatus::kOk, {}};
  }
  if (failed()) return {0, s.fault, s.fault_message};
  if (s.timeout_pending) {
    s.timeout_pending = false;
    return {0, ReadStatus::kTimeout,
            fmt::format("{}: no stream data for {} ms", s.name(), s.options.transfer_timeout_ms)};
  }
  return {0, ReadStatus::kOk, {}};
}

void LabJackU6::stop() {
  impl_->stop_stream();
}

void LabJackU6::close() {
  auto& s = *impl_;
  stop();
  if (s.handle != nullptr) {
    libusb_release_interface(s.handle, kInterface);
    libusb_close(s.handle);
    s.handle = nullptr;
  }
  if (s.ctx != nullptr) {
    libusb_exit(s.ctx);
    s.ctx = nullptr;
  }
}

std::vector<DeviceEvent> LabJackU6::take_events() {
  const std::scoped_lock lock(impl_->mutex);
  std::vector<DeviceEvent> out = std::move(impl_->events);
  impl_->events.clear();
  if (impl_->events_dropped > 0) {
    out.push_back({"events-dropped",
                   fmt::format("{} more stream events not listed", impl_->events_dropped),
                   impl_->last_time});
    impl_->events_dropped = 0;
  }
  return out;
}

StreamHealth LabJackU6::stream_health() const {
  const std::scoped_lock lock(impl_->mutex);
  return impl_->health;
}

}  // namespace isokin::drivers
