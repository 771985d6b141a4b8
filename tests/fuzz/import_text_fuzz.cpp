// libFuzzer target: the text importers (Biodex TXT and 6-line, IsoMed, Vicon CSV, delimited, and
// format detection) on arbitrary bytes. The first byte chooses the importer, the rest is the
// file. Any outcome other than a recording or an ImportError is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "isokin/acquisition/import.h"

using isokin::acquisition::ImportFormat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view content(reinterpret_cast<const char*>(data) + 1, size - 1);
  isokin::acquisition::ImportOptions options;
  switch (data[0] % 7) {
    case 0:
      options.format = ImportFormat::kBiodex;
      break;
    case 1:
      options.format = ImportFormat::kBiodex6Line;
      break;
    case 2:
      options.format = ImportFormat::kIsoMed;
      break;
    case 3:
      options.format = ImportFormat::kViconCsv;
      break;
    case 4:  // the generic importer as the README's ADC files need it
      options.format = ImportFormat::kDelimited;
      options.columns = "torque=1,velocity=2,angle=3";
      options.rate_hz = 42.0;
      options.scales = {"torque=1.04,-552"};
      options.limits = {"torque=0,1023"};
      break;
    case 5:  // semicolons, decimal comma, a header with names
      options.format = ImportFormat::kDelimited;
      options.columns = "time=t,torque=M,angle=phi";
      options.delimiter = ";";
      options.decimal = ",";
      break;
    default: {  // detection; binary formats have their own target
      const auto detected = isokin::acquisition::detect_import_format_in(content);
      if (!detected || *detected == ImportFormat::kC3d || *detected == ImportFormat::kMat) {
        return 0;
      }
      break;
    }
  }
  try {
    const auto recording = isokin::acquisition::import_recording(content, "fuzz.txt", options);
    const auto& s = recording.signals;
    if (s.torque.size() != s.size() || s.angle.size() != s.size() ||
        s.velocity.size() != s.size() || s.status.size() != s.size()) {
      __builtin_trap();
    }
  } catch (const isokin::acquisition::ImportError&) {
    // The documented outcome for a malformed file.
  }
  return 0;
}
