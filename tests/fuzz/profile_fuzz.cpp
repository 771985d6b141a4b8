// libFuzzer target: the calibration profiles a lab writes by hand. Byte 0 picks the kind (even:
// LabJack U6 profile, odd: serial-board profile), the rest is the JSON. Any outcome other than a
// profile or a DeviceError is a bug, and so is a profile whose numbers the loader should have
// refused.
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "isokin/drivers/device.h"
#include "isokin/drivers/labjack_u6.h"
#include "isokin/drivers/serial_device.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void check_channel(const isokin::drivers::AnalogChannelMap& c) {
  check(std::isfinite(c.units_per_volt) && c.units_per_volt != 0.0 && std::isfinite(c.zero_volts));
  check(c.sign == 1 || c.sign == -1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      const auto p = isokin::drivers::parse_calibration_profile(json, "fuzz.json");
      check(p.scan_rate_hz > 0.0 && p.scan_rate_hz <= 50'000.0);
      for (const auto* c : {&p.torque, &p.angle, &p.velocity}) check_channel(*c);
    } else {
      // The serial loader reads files: one scratch file per fuzzing process, in RAM if possible.
      static const std::filesystem::path path =
          (std::filesystem::exists("/dev/shm") ? std::filesystem::path("/dev/shm")
                                               : std::filesystem::temp_directory_path()) /
          ("isokin-fuzz-profile-" + std::to_string(::getpid()) + ".json");
      std::FILE* out = std::fopen(path.c_str(), "wb");
      if (out == nullptr) return 0;
      std::fwrite(json.data(), 1, json.size(), out);
      std::fclose(out);
      const auto p = isokin::drivers::load_serial_profile(path);
      check(p.sample_rate_hz >= 1.0 && p.fields.size() >= 3);
      for (const auto* c : {&p.torque, &p.angle, &p.velocity}) {
        check(std::isfinite(c->gain) && std::isfinite(c->offset) && std::abs(c->sign) == 1.0);
      }
    }
  } catch (const isokin::drivers::DeviceError&) {
    // The documented outcome for a bad profile.
  }
  return 0;
}
