#include "isokin/drivers/registry.h"

#include <fmt/format.h>

#include "isokin/drivers/labjack_u6.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace isokin::drivers {
namespace {

// The one table of drivers: name, description, factory.
struct DriverEntry {
  std::string_view name;
  std::string_view description;
  std::unique_ptr<Device> (*make)(const DeviceOptions&);
};

constexpr DriverEntry kDrivers[] = {
    {"sim", "simulated knee and trunk dynamometer (no hardware needed)",
     [](const DeviceOptions& o) -> std::unique_ptr<Device> {
       SimulationSettings s;
       s.seed = o.seed;
       s.realtime = o.realtime;
       if (o.sample_rate_hz > 0.0) s.sample_rate_hz = o.sample_rate_hz;
       return std::make_unique<SimulatedDynamometer>(s);
     }},
    {"labjack-u6", "LabJack U6 over USB, wired to a dynamometer's analog outputs (--profile)",
     [](const DeviceOptions& o) -> std::unique_ptr<Device> {
       if (o.profile.empty()) {
         throw DeviceError(
             "labjack-u6 needs a calibration profile (--profile FILE); see docs/hardware.md and "
             "profiles/labjack-u6-biodex-example.json");
       }
       LabJackU6Options u;
       u.serial = o.serial;
       u.profile = load_calibration_profile(o.profile);
       if (o.sample_rate_hz > 0.0) u.profile.scan_rate_hz = o.sample_rate_hz;
       return std::make_unique<LabJackU6>(u);
     }},
};

}  // namespace

std::vector<DriverInfo> available_drivers() {
  std::vector<DriverInfo> list;
  for (const auto& d : kDrivers) list.push_back({std::string(d.name), std::string(d.description)});
  return list;
}

std::unique_ptr<Device> make_device(std::string_view name, const DeviceOptions& options) {
  for (const auto& d : kDrivers) {
    if (d.name == name) return d.make(options);
  }
  std::string known;
  for (const auto& d : kDrivers) known += fmt::format("{}{}", known.empty() ? "" : ", ", d.name);
  throw DeviceError(fmt::format("unknown device '{}' (available: {})", name, known));
}

}  // namespace isokin::drivers
