#include "emulators/u6_emulator.h"

// clang-format off
#include <linux/ioctl.h>  // before usbdevice_fs.h, which uses its macros
#include <linux/usbdevice_fs.h>
// clang-format on
#include <umockdev.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>

namespace isokin::testing {

namespace u6 = drivers::u6;

namespace {

constexpr const char* kDeviceNode = "/dev/bus/usb/001/002";
constexpr const char* kSysPath = "/sys/devices/usb1/1-1";

// Device, configuration, interface (vendor class) and the three bulk endpoints of 64 bytes.
constexpr const char* kDescriptors =
    "1201000200000040d50c0600000101020301"  // device: USB 2.0, EP0 64 B, 0CD5:0006
    "0902270001010080 32"                   // configuration 1, 39 bytes, 100 mA
    "090400000 3ff000000"                   // interface 0, 3 endpoints, class FF
    "07050102400000"                        // EP1 OUT bulk 64
    "07058202400000"                        // EP2 IN bulk 64
    "07058302400000";                       // EP3 IN bulk 64

std::string without_spaces(const char* s) {
  std::string out;
  for (const char* p = s; *p != '\0'; ++p) {
    if (*p != ' ') out += *p;
  }
  return out;
}

struct Urb {
  UMockdevIoctlData* data = nullptr;  // owns one reference
  [[nodiscard]] usbdevfs_urb* urb() const { return reinterpret_cast<usbdevfs_urb*>(data->data); }
};

}  // namespace

struct U6Emulator::Impl {
  U6EmulatorOptions options;
  UMockdevTestbed* testbed = nullptr;
  UMockdevIoctlBase* handler = nullptr;

  mutable std::mutex mutex;
  U6EmulatorState state;
  std::vector<std::vector<double>> source;
  std::vector<U6FaultPlan> faults;
  std::vector<bool> fired;  // per fault: unplug, stall and silence trigger once
  std::deque<std::vector<std::uint8_t>> responses;  // for EP 0x82
  std::deque<Urb> response_urbs;                    // waiting IN URBs on 0x82
  std::deque<Urb> stream_urbs;                      // waiting IN URBs on 0x83
  std::deque<Urb> reapable;                         // completed, status set
  bool unplugged = false;
  bool stalled = false;
  int stale_left = 0;
  std::chrono::steady_clock::time_point silent_until{};
  // Stream generator.
  std::deque<std::uint16_t> pending;  // samples of whole scans not yet in a packet
  std::size_t next_scan = 0;
  std::uint8_t counter = 0;
  int recovery_left = 0;               // packets still to send with error 59
  std::uint16_t report_discarded = 0;  // after them, a 60 packet with this count

  static gboolean on_ioctl(UMockdevIoctlBase* base, UMockdevIoctlClient* client, gpointer self) {
    (void)base;
    return static_cast<Impl*>(self)->handle(client) ? TRUE : FALSE;
  }

  bool handle(UMockdevIoctlClient* client) {
    const std::scoped_lock lock(mutex);
    const auto request = static_cast<unsigned long>(umockdev_ioctl_client_get_request(client));
    UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
    switch (request) {
      case USBDEVFS_GET_CAPABILITIES: {
        UMockdevIoctlData* d = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), nullptr);
        const guint32 caps = USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
                             USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
        std::memcpy(d->data, &caps, sizeof caps);
        g_object_unref(d);
        umockdev_ioctl_client_complete(client, 0, 0);
        return true;
      }
      case USBDEVFS_CLAIMINTERFACE:
        state.interface_claimed = true;
        umockdev_ioctl_client_complete(client, unplugged ? -1 : 0, unplugged ? ENODEV : 0);
        return true;
      case USBDEVFS_RELEASEINTERFACE:
        state.interface_claimed = false;
        umockdev_ioctl_client_complete(client, 0, 0);
        return true;
      case USBDEVFS_CLEAR_HALT:
        stalled = false;
        umockdev_ioctl_client_complete(client, 0, 0);
        return true;
      case USBDEVFS_RESET:
      case USBDEVFS_RESETEP:
      case USBDEVFS_SETINTERFACE:
        umockdev_ioctl_client_complete(client, 0, 0);
        return true;
      case USBDEVFS_SUBMITURB:
        submit(client, arg);
        return true;
      case USBDEVFS_REAPURB:
      case USBDEVFS_REAPURBNDELAY:
        reap(client, arg);
        return true;
      case USBDEVFS_DISCARDURB:
        discard(client, arg);
        return true;
      default:
        return false;  // umockdev answers ENOTTY
    }
  }

  void submit(UMockdevIoctlClient* client, UMockdevIoctlData* arg) {
    if (unplugged) {
      umockdev_ioctl_client_complete(client, -1, ENODEV);
      return;
    }
    UMockdevIoctlData* urb_data =
        umockdev_ioctl_data_resolve(arg, 0, sizeof(usbdevfs_urb), nullptr);
    auto* urb = reinterpret_cast<usbdevfs_urb*>(urb_data->data);
    UMockdevIoctlData* buffer = umockdev_ioctl_data_resolve(
        urb_data, offsetof(usbdevfs_urb, buffer), static_cast<gsize>(urb->buffer_length), nullptr);
    const Urb held{urb_data};
    if (urb->type != USBDEVFS_URB_TYPE_BULK) {
      g_object_unref(buffer);
      g_object_unref(urb_data);
      umockdev_ioctl_client_complete(client, -1, EINVAL);
      return;
    }
    if (urb->endpoint == u6::kCommandEndpoint) {
      command({buffer->data, static_cast<std::size_t>(urb->buffer_length)});
      urb->actual_length = urb->buffer_length;
      urb->status = 0;
      reapable.push_back(held);
    } else if (urb->endpoint == u6::kResponseEndpoint) {
      response_urbs.push_back(held);
    } else if (urb->endpoint == u6::kStreamEndpoint) {
      stream_urbs.push_back(held);
    } else {
      g_object_unref(buffer);
      g_object_unref(urb_data);
      umockdev_ioctl_client_complete(client, -1, EINVAL);
      return;
    }
    g_object_unref(buffer);
    umockdev_ioctl_client_complete(client, 0, 0);
  }

  void reap(UMockdevIoctlClient* client, UMockdevIoctlData* arg) {
    pump();
    if (reapable.empty()) {
      umockdev_ioctl_client_complete(client, -1, unplugged ? ENODEV : EAGAIN);
      return;
    }
    const Urb done = reapable.front();
    reapable.pop_front();
    UMockdevIoctlData* ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), nullptr);
    umockdev_ioctl_data_set_ptr(ptr, 0, done.data);
    g_object_unref(ptr);
    g_object_unref(done.data);
    umockdev_ioctl_client_complete(client, 0, 0);
  }

  void discard(UMockdevIoctlClient* client, UMockdevIoctlData* arg) {
    const auto address = reinterpret_cast<gulong>(*reinterpret_cast<void**>(arg->data));
    for (auto* queue : {&response_urbs, &stream_urbs}) {
      const auto it = std::find_if(queue->begin(), queue->end(),
                                   [&](const Urb& u) { return u.data->client_addr == address; });
      if (it != queue->end()) {
        it->urb()->status = -ENOENT;
        it->urb()->actual_length = 0;
        reapable.push_back(*it);
        queue->erase(it);
        umockdev_ioctl_client_complete(client, 0, 0);
        return;
      }
    }
    umockdev_ioctl_client_complete(client, -1, EINVAL);
  }

  // Completes waiting IN URBs for which the device has something to say.
  void pump() {
    if (unplugged) {
      for (auto* queue : {&response_urbs, &stream_urbs}) {
        for (const Urb& u : *queue) {
          u.urb()->status = -ENODEV;
          u.urb()->actual_length = 0;
          reapable.push_back(u);
        }
        queue->clear();
      }
      return;
    }
    while (!response_urbs.empty() && !responses.empty()) {
      const Urb u = response_urbs.front();
      response_urbs.pop_front();
      const auto& r = responses.front();
      const auto n = std::min(r.size(), static_cast<std::size_t>(u.urb()->buffer_length));
      std::memcpy(u.urb()->buffer, r.data(), n);
      u.urb()->actual_length = static_cast<int>(n);
      u.urb()->status = 0;
      responses.pop_front();
      reapable.push_back(u);
    }
    while (!stream_urbs.empty() && stale_left > 0) {  // first, whatever the state
      const Urb u = stream_urbs.front();
      stream_urbs.pop_front();
      const std::vector<std::uint16_t> samples(u6::kMaxSamplesPerPacket, 0x1234);
      const auto packet = u6::encode_stream_packet(
          {static_cast<std::uint8_t>(100 + stale_left), u6::kNoError, 0, 0, samples});
      const auto n = std::min(packet.size(), static_cast<std::size_t>(u.urb()->buffer_length));
      std::memcpy(u.urb()->buffer, packet.data(), n);
      u.urb()->actual_length = static_cast<int>(n);
      u.urb()->status = 0;
      reapable.push_back(u);
      --stale_left;
    }
    while (!stream_urbs.empty() && state.streaming) {
      if (std::chrono::steady_clock::now() < silent_until) return;
      const Urb u = stream_urbs.front();
      if (stalled) {
        u.urb()->status = -EPIPE;
        u.urb()->actual_length = 0;
      } else if (!fill_stream_urb(*u.urb())) {
        return;  // no data (yet): the URB waits, and times out on the host side
      }
      stream_urbs.pop_front();
      reapable.push_back(u);
      if (unplugged) {
        pump();
        return;
      }
    }
  }

  // Fills one stream URB with whole packets; false when there is nothing to send.
  bool fill_stream_urb(usbdevfs_urb& urb) {
    const int spp = state.settings.samples_per_packet;
    const std::size_t length = u6::stream_packet_length(spp);
    // SPP 25 fills 64-byte packets, so a URB takes as many as fit; smaller packets end the
    // transfer one at a time (short packet).
    const std::size_t capacity = static_cast<std::size_t>(urb.buffer_length) / length;
    const std::size_t per_urb =
        spp == u6::kMaxSamplesPerPacket ? std::max<std::size_t>(capacity, 1) : 1;
    auto* out = static_cast<std::uint8_t*>(urb.buffer);
    std::size_t written = 0;
    for (std::size_t i = 0; i < per_urb; ++i) {
      // Faults that change what the transfer is, not what a packet holds.
      for (std::size_t k = 0; k < faults.size(); ++k) {
        const auto& f = faults[k];
        if (f.at_packet != state.packets_sent || fired[k]) continue;
        fired[k] = true;
        if (f.fault == U6Fault::kUnplug) unplugged = true;
        if (f.fault == U6Fault::kStall) stalled = true;
        if (f.fault == U6Fault::kSilence)
          silent_until = std::chrono::steady_clock::now() + f.silence;
      }
      if (unplugged || stalled || std::chrono::steady_clock::now() < silent_until) {
        if (written > 0) break;  // deliver what is already in this transfer
        if (unplugged) {
          urb.status = -ENODEV;
          urb.actual_length = 0;
          return true;
        }
        if (stalled) {
          urb.status = -EPIPE;
          urb.actual_length = 0;
          return true;
        }
        return false;
      }
      auto packet = next_packet(spp);
      if (packet.empty()) break;
      if (written + packet.size() > static_cast<std::size_t>(urb.buffer_length)) break;
      std::memcpy(out + written, packet.data(), packet.size());
      written += packet.size();
      if (packet.size() < length) break;  // a short packet ends the transfer
    }
    if (written == 0) return false;
    urb.actual_length = static_cast<int>(written);
    urb.status = 0;
    return true;
  }

  // The next packet of the stream with this packet's faults applied; empty when the source
  // cannot fill another packet.
  std::vector<std::uint8_t> next_packet(int spp) {
    const auto& channels = state.settings.channels;
    const std::size_t nch = channels.size();
    std::uint8_t error = u6::kNoError;
    std::uint16_t discarded = 0;
    std::uint8_t backlog = 0;
    const U6FaultPlan* plan = nullptr;
    for (const auto& f : faults) {
      if (f.at_packet == state.packets_sent) plan = &f;
    }
    if (plan != nullptr && plan->fault == U6Fault::kOverflow) {
      recovery_left = plan->recovery_packets;
      report_discarded = plan->discarded_scans;
    }
    if (recovery_left > 0) {
      error = u6::kStreamAutorecoverActive;
      backlog = 255;
      --recovery_left;
    } else if (report_discarded > 0) {
      // The report packet: the dummy scan starts at the first scan boundary in it, and the
      // discarded scans (the dummy's slot included) never reach the FIFO.
      error = u6::kStreamAutorecoverReport;
      discarded = report_discarded;
      for (std::size_t c = 0; c < nch; ++c) pending.push_back(u6::kDummySample);
      next_scan += report_discarded;
      report_discarded = 0;
    }
    while (pending.size() < static_cast<std::size_t>(spp) && next_scan < source.size()) {
      const auto& scan = source[next_scan++];
      for (std::size_t c = 0; c < nch; ++c) {
        pending.push_back(
            options.calibration.counts(c < scan.size() ? scan[c] : 0.0, channels[c].gain));
      }
      ++state.scans_sent;
    }
    if (pending.size() < static_cast<std::size_t>(spp)) return {};
    std::vector<std::uint16_t> samples(pending.begin(), pending.begin() + spp);
    pending.erase(pending.begin(), pending.begin() + spp);
    if (plan != nullptr && plan->fault == U6Fault::kScanOverlap) error = u6::kStreamScanOverlap;
    auto packet = u6::encode_stream_packet({counter, error, backlog, discarded, samples});
    ++counter;
    ++state.packets_sent;
    if (plan != nullptr && plan->fault == U6Fault::kCorruptChecksum) packet[13] ^= 0x5A;
    if (plan != nullptr && plan->fault == U6Fault::kShortPacket) packet.resize(packet.size() / 2);
    return packet;
  }

  void command(std::span<const std::uint8_t> cmd) {
    const std::vector<std::uint8_t> bytes(cmd.begin(), cmd.end());
    const bool extended = bytes.size() >= 6 && bytes[1] == 0xF8;
    const bool valid = extended ? u6::extended_checksums_ok(bytes) : u6::normal_checksum_ok(bytes);
    if (!valid) {
      ++state.bad_commands;
      responses.emplace_back(u6::kBadChecksumReply.begin(), u6::kBadChecksumReply.end());
      return;
    }
    state.commands.push_back(extended ? bytes[3] : bytes[1]);
    if (!extended) {
      const bool start = bytes[1] == 0xA8;
      std::uint8_t code = u6::kNoError;
      if (start) {
        if (state.streaming)
          code = u6::kStreamIsActive;
        else if (!state.configured)
          code = u6::kStreamConfigInvalid;
        else {
          state.streaming = true;
          counter = 0;
          pending.clear();
        }
      } else {
        if (!state.streaming) code = u6::kStreamNotRunning;
        state.streaming = false;
      }
      responses.push_back(u6::start_stop_response(start, code));
      return;
    }
    switch (bytes[3]) {
      case 0x08: {  // ConfigU6
        u6::DeviceInfo info;
        info.serial = options.serial;
        info.product_id = u6::kProductId;
        info.firmware_major = 1;
        info.firmware_minor = 43;
        info.hardware_major = 2;
        info.hardware_minor = 0;
        info.version_info = options.pro ? 12 : 4;
        responses.push_back(u6::config_u6_response(info));
        return;
      }
      case 0x2D: {  // ReadMem, calibration block
        const int block = bytes[7];
        responses.push_back(u6::read_calibration_response(
            bytes[7], block < u6::kCalibrationBlocks ? options.calibration.block(block)
                                                     : std::array<double, 4>{}));
        return;
      }
      case 0x11: {  // StreamConfig
        u6::StreamSettings settings;
        u6::ScanClock clock;
        u6::ResponseError error;
        std::uint8_t code = u6::kNoError;
        if (state.streaming)
          code = u6::kStreamIsActive;
        else if (!u6::parse_stream_config_command(bytes, settings, clock, error)) {
          code = u6::kStreamConfigInvalid;
        } else if (settings.samples_per_packet < 1 || settings.samples_per_packet > 25) {
          code = u6::kStreamSampleNumInvalid;
        } else {
          state.settings = settings;
          state.configured = true;
        }
        responses.push_back(u6::stream_config_response(code));
        return;
      }
      default: {
        // Unknown extended command: answer with an error code in byte 6, like any extended reply.
        auto r = u6::extended_frame(bytes[3], 8);
        r[6] = 1;
        u6::seal_extended(r);
        responses.push_back(r);
      }
    }
  }
};

U6Emulator::U6Emulator(U6EmulatorOptions options)
    : options_(options), impl_(std::make_unique<Impl>()) {
  impl_->options = options_;
  impl_->stale_left = options_.stale_packets;
  impl_->testbed = umockdev_testbed_new();
  if (impl_->testbed == nullptr) throw std::runtime_error("umockdev: cannot create a test bed");
  impl_->handler = umockdev_ioctl_base_new();
  g_signal_connect_after(impl_->handler, "handle-ioctl", G_CALLBACK(&Impl::on_ioctl), impl_.get());
  // The ioctl handler first, so that the device node answers as soon as it appears.
  GError* error = nullptr;
  if (!umockdev_testbed_attach_ioctl(impl_->testbed, kDeviceNode, impl_->handler, &error)) {
    const std::string what = error != nullptr ? error->message : "unknown";
    if (error != nullptr) g_error_free(error);
    throw std::runtime_error("umockdev: cannot attach the ioctl handler: " + what);
  }
  const std::string description =
      "P: /devices/usb1/1-1\n"
      "N: bus/usb/001/002\n"
      "E: SUBSYSTEM=usb\n"
      "E: DRIVER=usb\n"
      "E: BUSNUM=001\n"
      "E: DEVNUM=002\n"
      "E: DEVNAME=/dev/bus/usb/001/002\n"
      "E: DEVTYPE=usb_device\n"
      "A: idVendor=0cd5\\n\n"
      "A: idProduct=0006\\n\n"
      "A: busnum=1\\n\n"
      "A: devnum=2\\n\n"
      "A: bConfigurationValue=1\\n\n"
      "A: speed=12\\n\n"
      "H: descriptors=" +
      without_spaces(kDescriptors) + "\n";
  if (!umockdev_testbed_add_from_string(impl_->testbed, description.c_str(), &error)) {
    const std::string what = error != nullptr ? error->message : "unknown";
    if (error != nullptr) g_error_free(error);
    throw std::runtime_error("umockdev: cannot add the U6: " + what);
  }
}

U6Emulator::~U6Emulator() {
  {
    const std::scoped_lock lock(impl_->mutex);
    for (auto* queue : {&impl_->response_urbs, &impl_->stream_urbs, &impl_->reapable}) {
      for (const Urb& u : *queue) g_object_unref(u.data);
      queue->clear();
    }
  }
  g_clear_object(&impl_->handler);
  g_clear_object(&impl_->testbed);
}

void U6Emulator::set_source(std::vector<std::vector<double>> volts_per_scan) {
  const std::scoped_lock lock(impl_->mutex);
  impl_->source = std::move(volts_per_scan);
}

void U6Emulator::add_fault(const U6FaultPlan& plan) {
  const std::scoped_lock lock(impl_->mutex);
  impl_->faults.push_back(plan);
  impl_->fired.push_back(false);
}

void U6Emulator::remove_from_bus() {
  {
    const std::scoped_lock lock(impl_->mutex);
    impl_->unplugged = true;
  }
  umockdev_testbed_remove_device(impl_->testbed, kSysPath);
}

U6EmulatorState U6Emulator::state() const {
  const std::scoped_lock lock(impl_->mutex);
  return impl_->state;
}

}  // namespace isokin::testing

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer sees umockdev's worker thread and glib's locks only in part (they are not
// instrumented) and reports races inside them when a test bed is created and destroyed; none
// involves the driver's or the emulator's own code (docs/development.md). Programs that link
// the emulator get these suppressions built in.
extern "C" const char* __tsan_default_suppressions() {  // NOLINT(bugprone-reserved-identifier)
  return "race:libumockdev.so.0\n"
         "race:libglib-2.0.so.0\n";
}
#endif
