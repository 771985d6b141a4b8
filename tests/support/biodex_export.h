#pragma once
// A simulated set written as a Biodex System 3/4 exported TXT report (docs/import-formats.md:
// Away = extension; TORQUE and VELOCITY positive Away; POSITION from the end of the range), the
// way the device marks it: the phase word changes when the lever starts moving the other way,
// the repetition number with each new extension.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "isokin/drivers/sample.h"

namespace isokin::test {

inline std::string biodex_export(const std::vector<drivers::Sample>& samples) {
  std::ostringstream txt;
  txt << "BIODEX MEDICAL SYSTEMS\nJoint: Knee\n\nSet Rep mSec TORQUE POSITION POS_ANAT VELOCITY\n";
  std::string word = "Toward";
  int rep = 0;
  for (const auto& s : samples) {
    if (s.velocity < -5.0 && word != "Away") {
      word = "Away";
      ++rep;
    } else if (s.velocity > 5.0) {
      word = "Toward";
    }
    txt << "1 " << std::max(rep, 1) << ' ' << std::lround((s.time - samples[0].time) * 1000.0)
        << ' ' << s.torque << ' ' << 95.0 - s.angle << ' ' << s.angle << ' ' << -s.velocity << ' '
        << word << '\n';
  }
  return txt.str();
}

}  // namespace isokin::test
