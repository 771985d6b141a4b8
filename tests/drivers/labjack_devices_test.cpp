// `isokin devices` (apps/isokin/devices_command.cpp, compiled into this test) against the
// emulated U6, and its advice when the device cannot be opened.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "emulators/u6_emulator.h"
#include "isokin/drivers/labjack_u6.h"

namespace {

TEST(DevicesCommand, ListsTheAttachedU6ThenSaysNoneIsAttached) {
  isokin::testing::U6Emulator emulator;
  std::ostringstream out;
  EXPECT_EQ(isokin::cli::run_devices(out), 0);
  EXPECT_NE(out.str().find("labjack-u6  LabJack U6 (firmware 1.43), serial 360012345 (bus 1 "
                           "device 2)"),
            std::string::npos)
      << out.str();

  emulator.remove_from_bus();
  std::ostringstream none;
  EXPECT_EQ(isokin::cli::run_devices(none), 1);
  EXPECT_NE(none.str().find("No supported device is attached"), std::string::npos) << none.str();
  EXPECT_NE(none.str().find("--device sim"), std::string::npos) << none.str();
}

TEST(DevicesCommand, PermissionDeniedPrintsTheShippedUdevRule) {
  isokin::drivers::AttachedDevice denied;
  denied.driver = "labjack-u6";
  denied.model = "LabJack U6";
  denied.location = "bus 3 device 7";
  denied.permission_denied = true;
  denied.problem = "permission denied on /dev/bus/usb/003/007";
  std::ostringstream out;
  EXPECT_EQ(isokin::cli::print_devices({denied}, out), 1);
  const std::string text = out.str();
  EXPECT_NE(text.find("NOT USABLE: permission denied on /dev/bus/usb/003/007"), std::string::npos);
  EXPECT_NE(text.find("sudo cp "), std::string::npos) << text;
  EXPECT_NE(text.find(isokin::drivers::labjack_udev_rule()), std::string::npos) << text;
  // The rule printed is the rule shipped.
  std::ifstream file(ISOKIN_UDEV_RULE);
  ASSERT_TRUE(file) << ISOKIN_UDEV_RULE;
  std::stringstream shipped;
  shipped << file.rdbuf();
  EXPECT_EQ(shipped.str(), isokin::drivers::labjack_udev_rule());
  EXPECT_NE(text.find(ISOKIN_UDEV_RULE), std::string::npos);
}

}  // namespace
