#pragma once
// A reader for the analog channels of C3D files (the biomechanics data format of c3d.org):
// header, parameter section (groups ANALOG, POINT, TRIAL) and the analog part of the 3D data
// section, for the Intel, DEC (VAX) and MIPS (big-endian) processor types, integer or float data,
// scaled with ANALOG:OFFSET, ANALOG:SCALE and ANALOG:GEN_SCALE. 3D points are skipped.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace isokin::acquisition {

struct C3dAnalog {
  enum class Processor { kIntel = 84, kDec = 85, kMips = 86 };
  Processor processor = Processor::kIntel;
  bool float_data = false;
  double analog_rate_hz = 0.0;
  std::size_t channel_count = 0;
  std::size_t sample_count = 0;     // per channel
  std::vector<std::string> labels;  // ANALOG:LABELS, trimmed (may be shorter than channel_count)
  std::vector<std::string> units;   // ANALOG:UNITS
  std::vector<double> scale;        // per channel: ANALOG:SCALE × ANALOG:GEN_SCALE
  std::vector<double> offset;       // per channel: ANALOG:OFFSET
  std::string summary;              // manufacturer, software, rates: kept as header text
  // Scaled values, channel after channel: channel c at sample i is values[c * sample_count + i].
  std::vector<double> values;

  [[nodiscard]] std::span<const double> channel(std::size_t index) const {
    return {values.data() + index * sample_count, sample_count};
  }
};

// Throws ImportError "<name>: byte <offset>: <problem>" for malformed or hostile content: sizes
// are checked against the bytes present before anything is allocated.
C3dAnalog read_c3d_analog(std::span<const std::byte> bytes, const std::string& name);
C3dAnalog read_c3d_analog(const std::filesystem::path& file);

}  // namespace isokin::acquisition
