// The serial driver under the real acquisition path: frames into a pty, acquire_set records
// them into a session file; the board is unplugged mid-set. What was recorded stays, and the
// device's own report of the loss is in the file's event log.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <thread>

#include "isokin/acquisition/session_file.h"
#include "isokin/acquisition/set_acquisition.h"
#include "isokin/drivers/serial_device.h"
#include "support/pty_pair.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
using namespace isokin::drivers;

TEST(SerialAcquisition, UnpluggedBoardEndsTheSetKeepsItsSamplesAndLogsTheEvent) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("isokin-serial-acq-{}", ::getpid());
  fs::create_directories(dir);
  const fs::path file = dir / "serial.h5";
  isokin::test::PtyPair pty;
  SerialDevice device(
      load_serial_profile(fs::path(ISOKIN_SOURCE_DIR) / "profiles/biodex2-adc.json"),
      pty.slave_path());
  device.open();
  std::atomic<std::size_t> seen{0};
  std::atomic<bool> done{false};
  // The board: frames until the recorder has 200 samples, then the cable is pulled.
  std::thread board([&] {
    for (int i = 0; seen.load() < 200 && !done.load(); ++i) {
      pty.write(fmt::format("{:04d};0519;{:04d};\r\n", 500 + i % 100, 300 + i % 100));
    }
    pty.close();
  });
  SetStats stats;
  {
    SessionInfo info;
    info.created_utc = "2026-11-25T12:00:00Z";
    info.software = "isokin test";
    info.subject.id = "S-01";
    info.device = device.describe();
    SessionWriter writer(file, info);
    SetInfo set;
    set.index = 0;
    stats = acquire_set(device, writer, set,
                        {[&](std::span<const Sample> s) { seen.fetch_add(s.size()); }});
    done.store(true);
    writer.finish();
  }
  board.join();
  device.close();

  EXPECT_FALSE(stats.complete);
  EXPECT_NE(stats.end_reason.find("disconnected"), std::string::npos) << stats.end_reason;
  const Session session = read_session(file);
  ASSERT_EQ(session.sets.size(), 1U);
  const auto& signals = session.sets[0].signals;
  EXPECT_GE(signals.size(), 200U);
  EXPECT_EQ(signals.size(), stats.sample_count);
  for (std::size_t i = 0; i < signals.size(); ++i) {
    // Each frame carried counts 500 + k and 300 + k: torque and angle must belong together.
    const long k = std::lround((signals.angle[i] + 99.3) / 0.363) - 300;
    EXPECT_NEAR(signals.torque[i], -(1.04 * static_cast<double>(500 + k) - 552.0), 1e-9) << i;
  }
  const auto device_event =
      std::find_if(session.events.begin(), session.events.end(),
                   [](const Event& e) { return e.kind == "device-disconnected"; });
  ASSERT_NE(device_event, session.events.end());
  EXPECT_EQ(device_event->set_index, 0);
  EXPECT_NE(device_event->detail.find(pty.slave_path()), std::string::npos) << device_event->detail;
  fs::remove_all(dir);
}

}  // namespace
