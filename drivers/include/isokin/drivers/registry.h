#pragma once
// Name → driver factory. The list of drivers lives in one table in registry.cpp.

#include <cstdint>
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
  std::string serial;           // hardware: this device (empty = the first found)
  std::string profile;          // labjack-u6: calibration profile JSON (docs/hardware.md)
};

struct DriverInfo {
  std::string name;
  std::string description;
};

std::vector<DriverInfo> available_drivers();
// Throws DeviceError naming the unknown driver and the available ones.
std::unique_ptr<Device> make_device(std::string_view name, const DeviceOptions& options = {});

}  // namespace isokin::drivers
