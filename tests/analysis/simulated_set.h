#pragma once
// A set recorded from the simulator, with its ground truth (test helper).

#include <vector>

#include "isokin/acquisition/session.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace isokin::testing {

struct SimulatedSet {
  acquisition::RecordedSet recorded;
  drivers::SetTruth truth;
};

inline SimulatedSet simulate_set(const drivers::SimulationSettings& settings,
                                 const drivers::MotionSetpoint& sp) {
  drivers::SimulatedDynamometer sim(settings);
  sim.open();
  sim.apply(sp);
  sim.start();
  SimulatedSet out;
  out.recorded.info.setpoint = sp;
  std::vector<drivers::Sample> buffer(1000);
  for (;;) {
    const auto r = sim.read(buffer);
    for (std::size_t i = 0; i < r.count; ++i) out.recorded.signals.append(buffer[i]);
    if (r.status != drivers::ReadStatus::kOk) break;
  }
  sim.close();
  out.truth = sim.ground_truth().back();
  return out;
}

}  // namespace isokin::testing
