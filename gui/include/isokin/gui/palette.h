#pragma once
// Colours of the application's charts: the Okabe–Ito palette, which people with the common
// colour-vision deficiencies can tell apart (Okabe & Ito 2008, "Color Universal Design").
// Sides are also told apart by line style and legend text, never by colour alone.

#include <QColor>

#include "isokin/drivers/domain.h"

namespace isokin::gui::palette {

inline const QColor kBlue{0x00, 0x72, 0xb2};
inline const QColor kOrange{0xe6, 0x9f, 0x00};
inline const QColor kVermillion{0xd5, 0x5e, 0x00};
inline const QColor kBluishGreen{0x00, 0x9e, 0x73};
inline const QColor kSkyBlue{0x56, 0xb4, 0xe9};
inline const QColor kReddishPurple{0xcc, 0x79, 0xa7};
inline const QColor kGrey{0x66, 0x66, 0x66};

// Left vermillion, right blue (trunk, no side, bluish green); the antagonists (flexors) in the
// lighter colour of the same family: left orange, right sky blue, trunk reddish purple.
[[nodiscard]] inline QColor side_colour(drivers::Side side, bool flexors = false) {
  switch (side) {
    case drivers::Side::kLeft:
      return flexors ? kOrange : kVermillion;
    case drivers::Side::kRight:
      return flexors ? kSkyBlue : kBlue;
    case drivers::Side::kNone:
      break;
  }
  return flexors ? kReddishPurple : kBluishGreen;
}

}  // namespace isokin::gui::palette
