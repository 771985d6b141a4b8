#include "isokin/analysis/stream_messages.h"

#include <nlohmann/json.hpp>

namespace isokin::analysis {

std::string repetition_message(const acquisition::SetInfo& set, const PhaseResult& r) {
  const nlohmann::json j = {{"type", "repetition"},
                            {"set_index", set.index},
                            {"repetition", r.repetition + 1},
                            {"movement", drivers::to_string(r.movement)},
                            {"muscle", muscle_group_name(set.setpoint.joint, r.muscle)},
                            {"contraction", drivers::to_string(r.contraction)},
                            {"start_time", r.start_time},
                            {"end_time", r.end_time},
                            {"peak_torque", r.peak_torque},
                            {"angle_at_peak", r.angle_at_peak},
                            {"time_to_peak", r.time_to_peak},
                            {"work", r.work},
                            {"mean_power", r.mean_power},
                            {"range_of_motion", r.range_of_motion},
                            {"gravity_moment", r.gravity_moment},
                            {"counted", (r.flags & kPhaseTruncated) == 0},
                            {"flags", r.flags}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace isokin::analysis
