#pragma once
// Name → driver factory. The list of drivers lives in one table in registry.cpp.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "isokin/drivers/device.h"

namespace isokin::drivers {

struct DeviceOptions {
  std::uint64_t seed = 1;       // sim: noise and model seed
  bool realtime = false;        // sim: pace samples to the wall clock
  double sample_rate_hz = 0.0;  // 0 = the device's default
  std::string port;             // serial: device path (empty = the profile's)
  std::string profile;          // serial, labjack-u6: profile NAME or path of a JSON file
  std::vector<std::filesystem::path> profile_dirs;  // where NAME.json is looked for
  std::string serial;  // labjack-u6: serial number (empty = the first found)
};

struct DriverInfo {
  std::string name;
  std::string description;
};

std::vector<DriverInfo> available_drivers();
// Throws DeviceError naming the unknown driver and the available ones.
std::unique_ptr<Device> make_device(std::string_view name, const DeviceOptions& options = {});

}  // namespace isokin::drivers
