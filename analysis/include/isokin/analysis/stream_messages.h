#pragma once
// The live stream's result message (docs/stream-protocol.md §5), built in one place for every
// program that serves the stream (`isokin run`, the desktop application).

#include <string>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/repetition_parameters.h"

namespace isokin::analysis {

// One phase (extension or flexion) of a repetition as a JSON object, on one line.
[[nodiscard]] std::string repetition_message(const acquisition::SetInfo& set, const PhaseResult& r);

}  // namespace isokin::analysis
