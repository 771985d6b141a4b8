#include "isokin/drivers/registry.h"

#include <fmt/format.h>

#include "isokin/drivers/labjack_u6.h"
#include "isokin/drivers/serial_device.h"
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
    {"serial", "board sending frames over a serial line (needs --profile; docs/serial-protocol.md)",
     [](const DeviceOptions& o) -> std::unique_ptr<Device> {
       if (o.profile.empty()) {
         throw DeviceError("serial: give a device profile (--profile NAME or FILE.json)");
       }
       auto profile = load_serial_profile(find_serial_profile(o.profile, o.profile_dirs));
       if (o.sample_rate_hz > 0.0) profile.sample_rate_hz = o.sample_rate_hz;
       return std::make_unique<SerialDevice>(std::move(profile), o.port);
     }},
    {"labjack-u6",
     "LabJack U6 over USB, wired to a dynamometer's analog outputs (needs --profile; "
     "docs/hardware.md)",
     [](const DeviceOptions& o) -> std::unique_ptr<Device> {
       if (o.profile.empty()) {
         throw DeviceError(
             "labjack-u6 needs a calibration profile (--profile NAME or FILE.json); see "
             "docs/hardware.md and profiles/labjack-u6-biodex-example.json");
       }
       LabJackU6Options u;
       u.serial = o.serial;
       u.profile = load_calibration_profile(find_labjack_profile(o.profile, o.profile_dirs));
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
