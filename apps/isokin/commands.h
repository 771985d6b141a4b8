#pragma once
// The isokin command-line tool's subcommands. Each returns the process exit code and throws
// only for errors main() reports as one line.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/labjack_u6.h"
#include "subject_options.h"

namespace isokin::cli {

// The shipped protocols: <prefix>/share/isokin/protocols next to an installed binary, else the
// source tree's protocols/ (a build run from its build directory).
std::filesystem::path shipped_protocols_dir();
// Serial device profiles (profiles/*.json): installed share/isokin/profiles, else the source tree.
std::filesystem::path shipped_profiles_dir();

struct DemoOptions {
  std::filesystem::path out = "demo.h5";
  std::uint64_t seed = 1;
  SubjectDetailOptions subject;  // given ones replace the seed's
};

// The simulated subject of `isokin demo --seed N`: id, sex, age, sport, sides and body mass
// derived from the seed, so a cohort of seeds has groups (same seed, same subject).
acquisition::SubjectInfo demo_subject(std::uint64_t seed);
int run_demo(const DemoOptions& options, std::ostream& out);

struct RunOptions {
  std::string protocol;  // name (see `isokin protocols`) or path of a protocol JSON file
  std::string device = "sim";
  std::filesystem::path out = "session.h5";
  std::string subject;        // pseudonymous id
  double body_mass_kg = 0.0;  // 0 = not given
  // Personal data, stored only when the lab opts in with allow_personal_data (docs/security.md).
  std::string subject_name;
  std::string birth_date;  // YYYY-MM-DD
  bool allow_personal_data = false;
  SubjectDetailOptions subject_details;  // sex, age, sport, dominant and injured side
  std::string side;                      // "", "left" or "right"
  int stream_port = 0;  // live stream on this TCP port (docs/stream-protocol.md); 0 = off
  std::string stream_bind = "127.0.0.1";  // another address only when asked (docs/security.md)
  int stream_wait_clients = 0;            // wait for this many stream clients before the first set
  std::uint64_t seed = 1;                 // sim
  std::string port;                       // serial: device path (empty = the profile's)
  std::string profile;                    // serial, labjack-u6: profile name or JSON file
  std::string serial;                     // labjack-u6: serial number (empty = the first found)
  bool fast = false;                      // hidden: no real-time pacing, no rests (tests, demos)
};
int run_protocol(const RunOptions& options, std::ostream& out);
int run_protocols(std::ostream& out);
// Attached supported USB devices; exit code 0 when at least one is usable.
int run_devices(std::ostream& out);
int print_devices(const std::vector<drivers::AttachedDevice>& devices, std::ostream& out);

struct CalibrateOptions {
  std::filesystem::path points;        // CSV: quantity,volts,value
  std::filesystem::path base_profile;  // wiring and scan rate to keep
  std::filesystem::path out;           // the fitted profile
};
// Least-squares fit of volts -> units per quantity; prints the fit and its residuals.
int run_calibrate(const CalibrateOptions& options, std::ostream& out);
std::string utc_now();  // ISO 8601, seconds
int run_info(const std::filesystem::path& file, std::ostream& out);
int run_analyze(const std::filesystem::path& file, bool json, std::ostream& out);

// Human-readable tables: peak torque per muscle group, side and speed; H:Q; bilateral deficit.
void print_result_table(const acquisition::Session& session,
                        const analysis::SessionAnalysis& analysis, std::ostream& out);
// The full result in the versioned schema of docs/results.md.
nlohmann::ordered_json results_to_json(const acquisition::Session& session,
                                       const analysis::SessionAnalysis& analysis);

}  // namespace isokin::cli
