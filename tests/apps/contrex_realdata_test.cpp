// The Con-Trex MJ recordings of ../shared/realdata/contrex-mj-ctm, imported as a new user would
// (`isokin import FILE --out DIR`, no other option) and analysed (`isokin analyze --json`): the
// set values must be those of the device's own repetitions. The reference is computed here from
// the file itself, with a parser of its own: the `[markers by index]` give the device's
// movements (each from one marker to the next, move 1 = extension), and the raw samples their
// numbers. Nothing in the reference comes from isokin.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli_runner.h"
#include "support/realdata.h"

namespace {

namespace fs = std::filesystem;
using isokin::test::run_cli;

constexpr const char* kFolder = "contrex-mj-ctm";

// One of the device's movements, from the raw samples.
struct DeviceMovement {
  bool extension = true;
  double peak = 0.0;  // N·m, directed: highest 50 ms mean of the raw torque at the set speed
  double highest_sample = 0.0;    // N·m, directed, anywhere in the movement
  double mean_top = 0.0;          // N·m, directed: highest 50 ms mean anywhere in the movement
  double highest_at_speed = 0.0;  // N·m, directed: highest raw sample at the set speed
  double work = 0.0;              // J, |trapezoid of torque over angle in radians|
  bool effort = true;             // false: no effort (CPM), see below
};

struct Recording {
  double rate = 0.0;
  std::vector<double> speeds;  // move 1, move 2 (°/s)
  std::string program;
  std::vector<DeviceMovement> movements;
};

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, '\t')) {
    if (f.find_first_not_of(" \r") != std::string::npos) out.push_back(f);
  }
  return out;
}

double number(std::string text) {
  std::replace(text.begin(), text.end(), ',', '.');
  return std::stod(text);
}

// The reference reading of a .CTM file (layout: ../shared/realdata/README.md).
Recording read_reference(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  Recording r;
  std::vector<long> markers;  // every marker, sorted; move-1 markers remembered
  std::vector<long> move1;
  bool data = false;
  std::vector<double> torque, velocity, angle;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto f = fields(line);
    if (line.rfind("[data]", 0) == 0) {
      data = true;
      continue;
    }
    if (f.empty()) continue;
    if (data) {
      torque.push_back(number(f[0]));
      velocity.push_back(number(f[1]));
      angle.push_back(number(f[2]));
      continue;
    }
    if (f[0] == "samplingrate") r.rate = number(f[1]);
    if (f[0] == "speed") r.speeds = {number(f[1]), number(f[2])};
    if (f[0] == "program") r.program = f[2];
    if (f[0] == "move 1" || f[0] == "move 2") {
      for (std::size_t i = 1; i < f.size(); ++i) {
        markers.push_back(std::stol(f[i]));
        if (f[0] == "move 1") move1.push_back(markers.back());
      }
    }
  }
  // The last row (0 0 0) is the export's terminator, not a sample.
  torque.pop_back();
  velocity.pop_back();
  angle.pop_back();
  std::sort(markers.begin(), markers.end());
  const auto window = static_cast<long>(std::lround(0.05 * r.rate));
  for (std::size_t k = 0; k + 1 < markers.size(); ++k) {
    DeviceMovement m;
    m.extension = std::find(move1.begin(), move1.end(), markers[k]) != move1.end();
    const long a = markers[k];
    const long b = markers[k + 1];
    double mean_torque = 0.0;
    for (long i = a; i < b; ++i) mean_torque += torque[i] / static_cast<double>(b - a);
    const double directed = mean_torque >= 0.0 ? 1.0 : -1.0;
    const double set_speed = r.speeds[m.extension ? 0 : 1];
    m.highest_sample = -INFINITY;
    m.peak = -INFINITY;
    m.mean_top = -INFINITY;
    m.highest_at_speed = -INFINITY;
    for (long i = a; i < b; ++i) {
      m.highest_sample = std::max(m.highest_sample, directed * torque[i]);
      if (i + 1 < b) {
        m.work += 0.5 * (torque[i] + torque[i + 1]) * (angle[i + 1] - angle[i]) * std::numbers::pi /
                  180.0;
      }
      if (std::abs(std::abs(velocity[i]) - set_speed) <= 0.1 * set_speed) {
        m.highest_at_speed = std::max(m.highest_at_speed, directed * torque[i]);
      }
      if (i + window > b) continue;
      bool at_speed = true;
      double sum = 0.0;
      for (long j = i; j < i + window; ++j) {
        at_speed = at_speed && std::abs(std::abs(velocity[j]) - set_speed) <= 0.1 * set_speed;
        sum += directed * torque[j];
      }
      m.mean_top = std::max(m.mean_top, sum / static_cast<double>(window));
      if (at_speed) m.peak = std::max(m.peak, sum / static_cast<double>(window));
    }
    m.work = std::abs(m.work);
    // The CPM direction of a CPM/eks program carries a relaxed leg: not an effort.
    m.effort = !(r.program.find("CPM") != std::string::npos && m.extension);
    r.movements.push_back(m);
  }
  return r;
}

struct Expected {
  std::vector<double> peaks, works;
  double best = 0.0;                 // the highest 50 ms mean at the set speed
  double best_highest_sample = 0.0;  // that repetition's highest raw sample at the set speed
};
Expected expected_of(const Recording& r, bool extension) {
  Expected e;
  for (const auto& m : r.movements) {
    if (m.extension != extension || !m.effort) continue;
    e.peaks.push_back(m.peak);
    e.works.push_back(m.work);
    if (m.peak > e.best) {
      e.best = m.peak;
      e.best_highest_sample = m.highest_at_speed;
    }
  }
  return e;
}

double cv(const std::vector<double>& v) {
  double mean = 0.0;
  for (const double x : v) mean += x / static_cast<double>(v.size());
  double ss = 0.0;
  for (const double x : v) ss += (x - mean) * (x - mean);
  return 100.0 * std::sqrt(ss / static_cast<double>(v.size() - 1)) / mean;
}
double sum(const std::vector<double>& v, std::size_t from, std::size_t count) {
  double s = 0.0;
  for (std::size_t i = from; i < from + count; ++i) s += v[i];
  return s;
}

class ConTrexRealData : public ::testing::Test {
 protected:
  void SetUp() override {
    ISOKIN_SKIP_WITHOUT_REALDATA(kFolder);
    dir_ = fs::temp_directory_path() / ("isokin-contrex-real-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Imports one file with no option and analyses it.
  nlohmann::json analyse(const fs::path& file) {
    const auto out = dir_ / file.stem();
    const auto imported =
        run_cli("import '" + file.string() + "' --out '" + out.string() + "'", dir_ / "import.err");
    EXPECT_EQ(imported.exit_code, 0) << imported.err;
    const auto session = out / (file.stem().string() + ".h5");
    const auto analysed = run_cli("analyze --json '" + session.string() + "'", dir_ / "a.err");
    EXPECT_EQ(analysed.exit_code, 0) << analysed.err;
    return nlohmann::json::parse(analysed.out);
  }

  fs::path dir_;
};

std::vector<fs::path> ctm_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(isokin::test::realdata(kFolder))) {
    const auto name = e.path().filename().string();
    if (e.path().extension() == ".CTM" && name.find("-bad") == std::string::npos) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The set values of the device's repetitions only: the counted repetitions are the device's,
// CV within 1 point, work fatigue and Thorstensson index within 2 points and total work within
// 1 % of the reference; the best peak and the H:Q within the bounds of docs/analysis.md §6 (the
// measured distance to the 50 ms mean top is printed: within 0.5 % on most files, up to 4.7 %
// above it on the spiky tops of fast and eccentric movements).
TEST_F(ConTrexRealData, SetValuesAreThoseOfTheDevicesOwnRepetitions) {
  const auto files = ctm_files();
  ASSERT_GE(files.size(), 11u);
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const Recording ref = read_reference(file);
    const auto j = analyse(file);
    ASSERT_EQ(j["sets"].size(), 1u);
    const auto& set = j["sets"][0];
    for (const bool extension : {true, false}) {
      SCOPED_TRACE(extension ? "extension" : "flexion");
      const auto& m = set[extension ? "extension" : "flexion"];
      const Expected e = expected_of(ref, extension);
      ASSERT_EQ(m["counted_repetitions"].get<std::size_t>(), e.peaks.size());
      if (e.peaks.empty()) {
        EXPECT_FALSE(m.contains("best_repetition"));
        continue;
      }
      // The best peak at the set speed, as §6 bounds it: from 1 % below the 50 ms mean top to
      // the highest raw sample of the device's best repetition (those two differ by 0.3-7 %
      // on these files: the criterion's 0.5 % holds where they are close, see the note).
      const double peak = m["peak_torque_nm"];
      EXPECT_GE(peak, 0.99 * e.best) << peak << " vs " << e.best;
      EXPECT_LE(peak, e.best_highest_sample * 1.0001) << peak << " vs " << e.best_highest_sample;
      std::printf(
          "%s %s: best peak %.1f N·m; 50 ms mean top %.1f (%+.2f %%), highest sample %.1f\n",
          file.filename().c_str(), extension ? "extension" : "flexion", peak, e.best,
          100.0 * (peak / e.best - 1.0), e.best_highest_sample);
      const double total = m["total_work_j"];
      EXPECT_LT(std::abs(total - sum(e.works, 0, e.works.size())) / total, 0.01);
      const std::size_t n = e.peaks.size();
      if (n >= 2) {
        EXPECT_NEAR(m["coefficient_of_variation_percent"].get<double>(), cv(e.peaks), 1.0);
      }
      if (n >= 3) {
        const std::size_t third = n / 3;
        EXPECT_NEAR(m["fatigue"]["work_fatigue_percent"].get<double>(),
                    100.0 * (1.0 - sum(e.works, n - third, third) / sum(e.works, 0, third)), 2.0);
      }
      if (n >= 6) {
        EXPECT_NEAR(m["fatigue"]["thorstensson_index_percent"].get<double>(),
                    100.0 * (1.0 - sum(e.peaks, n - 3, 3) / sum(e.peaks, 0, 3)), 2.0);
      }
    }
    if (ref.program.find("kons/kons") != std::string::npos) {
      // Hamstrings over quadriceps of the device's best repetitions, both at their 50 ms mean
      // tops; isokin's ratio of bounded peaks lies in the band those bounds allow.
      const Expected e = expected_of(ref, true);
      const Expected f = expected_of(ref, false);
      ASSERT_TRUE(set.contains("hq_conventional"));
      const double hq = set["hq_conventional"].get<double>();
      EXPECT_GE(hq, 0.99 * f.best / e.best_highest_sample);
      EXPECT_LE(hq, f.best_highest_sample / (0.99 * e.best));
      std::printf("%s: H:Q %.3f; of the 50 ms mean tops %.3f (%+.2f %%)\n", file.filename().c_str(),
                  hq, f.best / e.best, 100.0 * (hq / (f.best / e.best) - 1.0));
    } else {
      EXPECT_FALSE(set.contains("hq_conventional"));  // no like-with-like pair in the set
    }
  }
}

// Every repetition's peak (full-range and at the set speed) is at most 1 % below the highest
// 50 ms mean of the raw torque and never above the highest raw sample (docs/analysis.md §6),
// the device's movements and every other one alike. Gravity off: the raw samples as exported.
TEST_F(ConTrexRealData, PeaksLieBetweenTheRawMeanTopAndTheHighestSample) {
  for (const auto& file : ctm_files()) {
    SCOPED_TRACE(file.filename().string());
    const Recording ref = read_reference(file);
    analyse(file);
    const auto session = dir_ / file.stem() / (file.stem().string() + ".h5");
    const auto r = run_cli("analyze --json --no-gravity '" + session.string() + "'", dir_ / "e");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto k = nlohmann::json::parse(r.out);
    std::map<bool, std::size_t> next;  // the device's movements in order, per direction
    for (const bool extension : {true, false}) {
      for (const auto& rep : k["sets"][0][extension ? "extension" : "flexion"]["repetitions"]) {
        if (!rep["device_marked"].get<bool>()) continue;
        std::size_t index = next[extension]++;
        const DeviceMovement* m = nullptr;
        for (const auto& candidate : ref.movements) {
          if (candidate.extension != extension) continue;
          if (index-- == 0) {
            m = &candidate;
            break;
          }
        }
        ASSERT_NE(m, nullptr);
        const double peak = rep["peak_torque_nm"];
        EXPECT_LE(peak, m->highest_sample + 1e-9);
        EXPECT_GE(peak, 0.99 * m->mean_top) << "repetition " << rep["repetition"];
        if (rep["isokinetic"]["reached"].get<bool>()) {
          EXPECT_LE(rep["isokinetic"]["peak_torque_nm"].get<double>(), m->highest_sample + 1e-9);
        }
      }
    }
  }
}

// The same bounds on the other labs' recordings (Biodex System 2 through a 10-bit ADC at about
// 42 Hz, with the README's calibration; the Biodex System 3/4 C3D trial at 1 kHz): every phase's
// peak lies between 1 % below the highest 50 ms mean of the recorded torque inside the phase and
// its highest sample. The samples are the session's own, exported as CSV.
class OtherRealData : public ConTrexRealData {
 protected:
  void SetUp() override {
    ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
    ISOKIN_SKIP_WITHOUT_REALDATA("biodex-analog-c3d");
    ConTrexRealData::SetUp();
  }
};

struct SignalRow {
  int set = 0;
  double time = 0.0;
  double torque = 0.0;
};

std::vector<SignalRow> exported_signals(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // set_index,time_s,torque_nm,...
  std::vector<SignalRow> rows;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string set, time, torque;
    std::getline(ss, set, ',');
    std::getline(ss, time, ',');
    std::getline(ss, torque, ',');
    rows.push_back({std::stoi(set), std::stod(time), std::stod(torque)});
  }
  return rows;
}

TEST_F(OtherRealData, PeaksLieBetweenTheRawMeanTopAndTheHighestSample) {
  const auto biodex = isokin::test::realdata("biodex-system2-analog-adc");
  const std::string calibration =
      " --rate 42 --negate torque --scale torque=1.04,-552 --scale velocity=0.883,-459 "
      "--scale angle=0.363,-99.3";
  const auto profile = dir_ / "c3d.json";
  std::ofstream(profile) << R"({"channel_base": 1, "angle": {"channel": 17, "scale": 35.6838},
      "velocity": {"label": "Angular Velocity.1", "scale": 35.6838},
      "torque": {"channel": 20, "scale": -144049}})";
  const std::vector<std::pair<fs::path, std::string>> inputs = {
      {biodex / "Armin_Messung", " --columns torque=1,velocity=2,angle=3" + calibration},
      {biodex / "Messung_Erich.mat", " --columns torque=1,velocity=2,angle=3" + calibration},
      {isokin::test::realdata("biodex-analog-c3d/5-20a.c3d"),
       " --profile '" + profile.string() + "'"}};
  for (const auto& [file, options] : inputs) {
    SCOPED_TRACE(file.filename().string());
    const auto out = dir_ / file.stem();
    ASSERT_EQ(run_cli("import '" + file.string() + "'" + options + " --out '" + out.string() + "'",
                      dir_ / "i.err")
                  .exit_code,
              0);
    const auto session = out / (file.stem().string() + ".h5");
    const auto r = run_cli("analyze --json --no-gravity '" + session.string() + "'", dir_ / "e");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(run_cli("export '" + session.string() + "' --format csv --out '" +
                          (out / "csv").string() + "'",
                      dir_ / "x.err")
                  .exit_code,
              0);
    const auto rows = exported_signals(out / "csv" / "signals.csv");
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_GE(rows.size(), 2u);
    const double rate = static_cast<double>(rows.size() - 1) / (rows.back().time - rows[0].time);
    const auto window = static_cast<std::size_t>(std::max(1L, std::lround(0.05 * rate)));
    int checked = 0;
    for (const auto& set : j["sets"]) {
      for (const char* movement : {"extension", "flexion"}) {
        for (const auto& rep : set[movement]["repetitions"]) {
          // The phase's samples, directed along the working muscle's moment.
          const double directed = rep["muscle_group"] == "quadriceps" ? 1.0 : -1.0;
          std::vector<double> torque;
          for (const auto& row : rows) {
            if (row.set == set["set_index"] && row.time >= rep["start_time_s"].get<double>() &&
                row.time <= rep["end_time_s"].get<double>()) {
              torque.push_back(directed * row.torque);
            }
          }
          if (torque.size() < window) continue;
          double highest = -INFINITY;
          double mean_top = -INFINITY;
          for (std::size_t i = 0; i < torque.size(); ++i) {
            highest = std::max(highest, torque[i]);
            if (i + window > torque.size()) continue;
            double sum = 0.0;
            for (std::size_t k = i; k < i + window; ++k) sum += torque[k];
            mean_top = std::max(mean_top, sum / static_cast<double>(window));
          }
          const double peak = rep["peak_torque_nm"];
          EXPECT_LE(peak, highest + 1e-9) << movement << " " << rep["repetition"];
          EXPECT_GE(peak, 0.99 * mean_top - 1e-9) << movement << " " << rep["repetition"];
          ++checked;
        }
      }
    }
    EXPECT_GE(checked, 4);
  }
}

}  // namespace
