// `isokin devices`: which supported USB devices are attached, and if none is usable, why.
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <filesystem>
#include <ostream>

#include "commands.h"
#include "isokin/drivers/labjack_u6.h"

namespace isokin::cli {
namespace {

// The udev rule file: share/isokin/udev next to an installed binary, else the source tree's.
std::filesystem::path shipped_udev_rule() {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    fs::path installed =
        executable.parent_path().parent_path() / "share/isokin/udev/90-isokin-labjack.rules";
    if (fs::exists(installed, error)) return installed;
  }
  return ISOKIN_UDEV_RULE;
}

}  // namespace

int print_devices(const std::vector<drivers::AttachedDevice>& devices, std::ostream& out) {
  std::size_t usable = 0;
  bool permission = false;
  for (const auto& d : devices) {
    if (d.problem.empty()) {
      ++usable;
      fmt::print(out, "{:<11} {}, serial {} ({})\n", d.driver, d.model, d.serial, d.location);
    } else {
      permission = permission || d.permission_denied;
      fmt::print(out, "{:<11} {} ({}): NOT USABLE: {}\n", d.driver, d.model, d.location, d.problem);
    }
  }
  if (devices.empty()) {
    std::error_code error;
    if (!std::filesystem::exists("/dev/bus/usb", error)) {
      fmt::print(out,
                 "No supported device is attached: this system shows no USB devices at all "
                 "(no /dev/bus/usb: a container or virtual machine without USB passthrough?).\n");
    } else {
      fmt::print(out,
                 "No supported device is attached (looked for: LabJack U6, USB 0cd5:0006). "
                 "Check the cable and that the U6's LED is on.\n");
    }
  }
  if (permission) {
    fmt::print(out,
               "\nThis user may not open the device. Install the udev rule shipped with isokin, "
               "then replug the device:\n"
               "  sudo cp {} /etc/udev/rules.d/\n"
               "  sudo udevadm control --reload-rules && sudo udevadm trigger\n"
               "The rule:\n{}",
               shipped_udev_rule().string(), drivers::labjack_udev_rule());
  }
  if (usable == 0) {
    fmt::print(out, "The simulator needs no hardware: isokin run PROTOCOL --device sim\n");
  }
  return usable > 0 ? 0 : 1;
}

int run_devices(std::ostream& out) {
  return print_devices(drivers::find_labjack_u6_devices(), out);
}

}  // namespace isokin::cli
