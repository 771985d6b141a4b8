#pragma once
// A LabJack U6 emulated at the USB level for tests and benchmarks: umockdev puts a fake U6 in
// a fake sysfs/usbfs, and this class answers libusb's usbdevfs ioctls the way the U6 answers
// its bulk endpoints (docs/hardware.md). The real libusb code path runs: enumeration, open,
// claim, synchronous commands and asynchronous stream transfers.
//
// The program must be linked with libumockdev-preload first (see tests/CMakeLists.txt).
// One emulator per process at a time. The ioctl handler runs on umockdev's thread; every
// member is safe to call from the test thread while it runs.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "labjack/u6_protocol.h"

namespace isokin::testing {

enum class U6Fault {
  kUnplug,           // the device disappears: every URB fails with ENODEV from this packet on
  kStall,            // the stream endpoint stalls (EPIPE) from this packet on
  kCorruptChecksum,  // this packet arrives with a damaged sample byte and the old checksums
  kShortPacket,      // this packet arrives truncated to half its length
  kOverflow,         // the FIFO overflows: auto-recovery packets (59), then a report (60)
  kSilence,          // no stream data for `silence` from this packet on (host timeouts)
  kScanOverlap,      // this packet carries error 55 (STREAM_SCAN_OVERLAP)
};

struct U6FaultPlan {
  U6Fault fault = U6Fault::kCorruptChecksum;
  std::size_t at_packet = 0;  // 0-based index of the stream packet the fault hits
  // kOverflow: scans discarded (the dummy scan included) and packets sent with error 59
  // before the report.
  std::uint16_t discarded_scans = 40;
  int recovery_packets = 3;
  std::chrono::milliseconds silence{500};  // kSilence
};

struct U6EmulatorOptions {
  std::uint32_t serial = 360012345;
  bool pro = false;
  drivers::u6::Calibration calibration = drivers::u6::Calibration::nominal();
  // Packets of an earlier stream still waiting on EP 0x83 (firmware < 0.94 after StreamStop).
  int stale_packets = 0;
};

// What the emulator saw and did (for assertions).
struct U6EmulatorState {
  bool interface_claimed = false;
  bool streaming = false;
  bool configured = false;
  drivers::u6::StreamSettings settings;  // the last StreamConfig received
  std::size_t packets_sent = 0;
  std::size_t scans_sent = 0;          // source scans sent (discarded ones not counted)
  std::size_t bad_commands = 0;        // commands with a bad checksum (answered B8 B8)
  std::vector<std::uint8_t> commands;  // command byte 3 (or 1 for normal frames), in order
};

class U6Emulator {
 public:
  explicit U6Emulator(U6EmulatorOptions options = {});
  ~U6Emulator();
  U6Emulator(const U6Emulator&) = delete;
  U6Emulator& operator=(const U6Emulator&) = delete;

  // The signal at the analog inputs, in volts: one row per scan, one value per configured
  // channel in channel-table order. Streaming stops (no more packets) when fewer than one
  // packet's worth of samples is left.
  void set_source(std::vector<std::vector<double>> volts_per_scan);
  void add_fault(const U6FaultPlan& plan);
  // Takes the device off the bus (as after a hot-unplug): enumeration no longer finds it.
  void remove_from_bus();

  [[nodiscard]] U6EmulatorState state() const;
  [[nodiscard]] const U6EmulatorOptions& options() const { return options_; }

  struct Impl;

 private:
  U6EmulatorOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace isokin::testing
