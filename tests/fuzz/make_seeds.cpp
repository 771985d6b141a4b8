// Writes small valid session files as the fuzzers' seed corpus: usage make_seeds DIR.
#include <cmath>
#include <filesystem>
#include <iostream>

#include "isokin/acquisition/session_file.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  for (int sets = 0; sets <= 2; ++sets) {
    isokin::acquisition::Session session;
    session.complete = sets != 1;
    session.info.created_utc = "2026-11-25T00:00:00Z";
    session.info.software = "isokin make_seeds";
    session.info.subject.id = "SEED";
    session.info.subject.body_mass_kg = 70.0;
    if (sets == 2) {  // format version 4's subject details, so the fuzzer mutates them too
      session.info.subject.sex = "female";
      session.info.subject.age_years = 30;
      session.info.subject.sport = "football";
      session.info.subject.dominant_side = isokin::drivers::Side::kRight;
      session.info.subject.injured_side = isokin::drivers::Side::kNone;
    }
    session.info.device.driver = "sim";
    session.info.device.sample_rate_hz = 100.0;
    session.info.device.channels = {{"torque", "N·m", -500.0, 500.0}};
    session.info.device.calibration = {{"torque", 1.0, 0.0}};
    for (int s = 0; s < sets; ++s) {
      isokin::acquisition::RecordedSet set;
      set.info.index = s;
      for (int i = 0; i < 50; ++i) {
        set.signals.append({i / 100.0, 100.0 * std::sin(i / 8.0), 90.0 - i, -60.0, 0});
      }
      set.stats = {50, 0, true, "end of stream"};
      session.sets.push_back(set);
    }
    // Small chunks keep the seeds a few kilobytes, so the fuzzer mutates structure, not padding.
    isokin::acquisition::SessionWriter::Options options;
    options.chunk_rows = 16;
    isokin::acquisition::SessionWriter writer(dir / ("seed-" + std::to_string(sets) + ".h5"),
                                              session.info, options);
    for (const auto& set : session.sets) {
      writer.begin_set(set.info);
      for (std::size_t i = 0; i < set.signals.size(); ++i) {
        const isokin::drivers::Sample s{set.signals.time[i], set.signals.torque[i],
                                        set.signals.angle[i], set.signals.velocity[i],
                                        set.signals.status[i]};
        writer.append({&s, 1});
      }
      writer.end_set(set.stats);
    }
    if (session.complete) writer.finish();
  }
  return 0;
}
