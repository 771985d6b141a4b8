// `isokin import` of the real recordings in ../shared/realdata as a user runs it, with no options
// a file's header already says: the Con-Trex MJ .CTM exports (one file, a folder, a manifest
// without a side column) and the Biodex System 2 maximal isometric trials (`--mode isometric`).
// Expected values come from the files' own rows and markers, read here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "isokin/acquisition/session_file.h"
#include "support/cli_runner.h"
#include "support/realdata.h"

namespace {

namespace fs = std::filesystem;
using isokin::test::CommandResult;

class RealImport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("isokin-real-import-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  CommandResult run(const std::string& args) const {
    return isokin::test::run_cli(args, dir_ / "stderr.txt");
  }
  static std::string q(const fs::path& p) { return "'" + p.string() + "'"; }
  fs::path dir_;
};

// A .CTM file's rows (torque, velocity, angle as written) and its markers.
struct Ctm {
  std::vector<double> torque;
  std::vector<std::size_t> move1, move2;
};

Ctm read_ctm(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  Ctm ctm;
  bool data = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "[data]") data = true;
    std::istringstream fields(line);
    if (data) {
      double t = 0;
      double v = 0;
      double a = 0;
      if (fields >> t >> v >> a) ctm.torque.push_back(t);
      continue;
    }
    std::string key;
    std::getline(fields, key, '\t');
    auto* list = key == "move 1" ? &ctm.move1 : key == "move 2" ? &ctm.move2 : nullptr;
    for (std::size_t index = 0; list != nullptr && fields >> index;) list->push_back(index);
  }
  ctm.torque.pop_back();  // the 0 0 0 terminator
  return ctm;
}

TEST_F(RealImport, AConTrexFileNeedsNoOptionAndOnlyTheDevicesRepetitionsAreAnalysed) {
  ISOKIN_SKIP_WITHOUT_REALDATA("contrex-mj-ctm");
  const fs::path file = isokin::test::realdata("contrex-mj-ctm/CTM380.CTM");
  const auto imp = run("import " + q(file) + " --out " + q(dir_));
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_NE(imp.out.find("(contrex): 5130 samples at 256 Hz"), std::string::npos) << imp.out;
  const fs::path h5 = dir_ / "CTM380.h5";
  const auto session = isokin::acquisition::read_session(h5);
  const auto& set = session.sets.at(0);
  // The header's context: right side, 60/60 °/s, concentric, 67 kg, neither side involved.
  EXPECT_EQ(set.info.setpoint.side, isokin::drivers::Side::kRight);
  EXPECT_EQ(set.info.setpoint.extension_velocity, 60.0);
  EXPECT_EQ(set.info.setpoint.flexion_velocity, 60.0);
  EXPECT_EQ(set.info.setpoint.mode, isokin::drivers::ContractionMode::kConcentricConcentric);
  EXPECT_EQ(session.info.subject.body_mass_kg, 67.0);
  EXPECT_EQ(session.info.subject.injured_side, isokin::drivers::Side::kNone);
  ASSERT_TRUE(set.info.device_segmented);
  // The header and the mapping, under the keys every importer uses.
  const auto provenance = nlohmann::json::parse(session.info.protocol_json);
  EXPECT_EQ(provenance["format"], "contrex");
  EXPECT_EQ(provenance["source"], file.string());
  EXPECT_NE(provenance["header_text"].get<std::string>().find("[markers by index]"),
            std::string::npos);
  EXPECT_EQ(provenance["torque_sign"], 1);
  EXPECT_EQ(provenance["velocity_sign"], -1);
  EXPECT_TRUE(provenance["warnings"].empty()) << provenance["warnings"];

  // The device's 3 repetitions are analysed, not the positioning moves around them; each peak
  // is at most the highest raw sample of its marked movement and within 2 % of it (raw 256 Hz
  // samples against the 20 Hz low-passed signal). Gravity off: the raw samples are uncorrected.
  const Ctm raw = read_ctm(file);
  ASSERT_EQ(raw.move1.size(), 4U);
  ASSERT_EQ(raw.move2.size(), 3U);
  const auto r = run("analyze --json --no-gravity " + q(h5));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out)["sets"][0];
  EXPECT_EQ(j["phases_from"], "device");
  // Every movement is listed (analysis.md §16); the device's three of each are the counted ones.
  EXPECT_EQ(j["extension"]["counted_repetitions"], 3);
  EXPECT_EQ(j["flexion"]["counted_repetitions"], 3);
  const auto marked = [&](const char* movement) {
    std::vector<nlohmann::json> reps;
    for (const auto& r : j[movement]["repetitions"]) {
      if (r["device_marked"].get<bool>()) reps.push_back(r);
    }
    return reps;
  };
  const auto extensions = marked("extension");
  const auto flexions = marked("flexion");
  ASSERT_EQ(extensions.size(), 3U);
  ASSERT_EQ(flexions.size(), 3U);
  for (std::size_t k = 0; k < 3; ++k) {
    SCOPED_TRACE(k);
    const auto begin = raw.torque.begin();
    const double extension_max = *std::max_element(begin + static_cast<long>(raw.move1[k]),
                                                   begin + static_cast<long>(raw.move2[k]));
    const double flexion_max = -*std::min_element(begin + static_cast<long>(raw.move2[k]),
                                                  begin + static_cast<long>(raw.move1[k + 1]));
    const double e = extensions[k]["peak_torque_nm"];
    const double f = flexions[k]["peak_torque_nm"];
    EXPECT_LE(e, extension_max + 1e-9);
    EXPECT_GE(e, 0.98 * extension_max);
    EXPECT_LE(f, flexion_max + 1e-9);
    EXPECT_GE(f, 0.98 * flexion_max);
  }
}

TEST_F(RealImport, AFolderAndAManifestOfConTrexFilesNeedNoSide) {
  ISOKIN_SKIP_WITHOUT_REALDATA("contrex-mj-ctm");
  const fs::path folder = isokin::test::realdata("contrex-mj-ctm");
  const auto all = run("import " + q(folder) + " --out " + q(dir_ / "all"));
  EXPECT_EQ(all.exit_code, 1);  // the .CTA settings files and the cut file
  EXPECT_NE(all.out.find("12 session files written from 12 files"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("5 failed"), std::string::npos) << all.out;
  EXPECT_NE(all.err.find("CTM378.CTA: holds no samples"), std::string::npos) << all.err;
  EXPECT_NE(all.err.find("CTM448-bad.CTM: the header announces 4923 samples (line 12) but the "
                         "data holds 160"),
            std::string::npos)
      << all.err;
  EXPECT_FALSE(fs::exists(dir_ / "all" / "CTM448-bad.h5"));
  EXPECT_EQ(
      isokin::acquisition::read_session(dir_ / "all" / "CTM389.h5").sets.at(0).info.setpoint.side,
      isokin::drivers::Side::kLeft);
  // Both knees at 60 °/s of one visit, listed without a side: one session, bilateral.
  std::ofstream(dir_ / "m.csv") << "file,subject\n"
                                << (folder / "CTM380.CTM").string() << ",V1\n"
                                << (folder / "CTM391.CTM").string() << ",V1\n";
  const auto m = run("import --manifest " + q(dir_ / "m.csv") + " --out " + q(dir_ / "m"));
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const auto session = isokin::acquisition::read_session(dir_ / "m" / "V1.h5");
  ASSERT_EQ(session.sets.size(), 2U);
  EXPECT_EQ(session.sets[0].info.setpoint.side, isokin::drivers::Side::kRight);
  EXPECT_EQ(session.sets[1].info.setpoint.side, isokin::drivers::Side::kLeft);
  EXPECT_EQ(session.info.subject.body_mass_kg, 67.0);
  const auto r = run("analyze --json " + q(dir_ / "m" / "V1.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(nlohmann::json::parse(r.out)["bilateral"].empty()) << r.out.substr(0, 2000);
}

// The Biodex System 2 MVC trials: one maximal isometric knee extension each (the calibrated
// torque rises from its rest level at about 3.5 s (Armin) / 5 s (Erich) and falls back by 13 s /
// 14.5 s, read off 0.5 s means of the counts). Without --mode nothing is found.
TEST_F(RealImport, TheBiodexMvcTrialsImportAsIsometricEfforts) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-system2-analog-adc");
  const fs::path adc = isokin::test::realdata("biodex-system2-analog-adc");
  const std::string columns = " --columns torque=1,velocity=2,angle=3 --rate 42 ";
  for (const std::string name : {"MVC_Armin", "MVC_Erich"}) {
    SCOPED_TRACE(name);
    const fs::path mat = adc / (name + ".mat");
    // The counts, to compute the expected peak by hand with the README's calibration.
    ASSERT_EQ(run("import " + q(mat) + columns + "--out " + q(dir_ / "counts")).exit_code, 0);
    const auto counts = isokin::acquisition::read_session(dir_ / "counts" / (name + ".h5"));
    const auto& c = counts.sets.at(0).signals.torque;
    std::vector<double> torque;  // −(1.04·count − 552): extension torque negative in the set-up
    for (const double count : c) torque.push_back(-(1.04 * count - 552.0));
    double rest = 0.0;  // the first 2 s, before the effort
    for (std::size_t i = 0; i < 84; ++i) rest += torque[i] / 84.0;
    const double raw_peak = *std::max_element(torque.begin(), torque.end());

    const auto imp = run("import " + q(mat) + columns +
                         "--negate torque --scale torque=1.04,-552 --scale velocity=0.883,-459 "
                         "--scale angle=0.363,-99.3 --mode isometric --out " +
                         q(dir_));
    ASSERT_EQ(imp.exit_code, 0) << imp.err;
    const auto session = isokin::acquisition::read_session(dir_ / (name + ".h5"));
    const auto& sp = session.sets.at(0).info.setpoint;
    EXPECT_EQ(sp.mode, isokin::drivers::ContractionMode::kIsometric);
    // Hold angle = the median angle: the lever stood at 20.9° (Armin), 11.1° (Erich).
    EXPECT_NEAR(sp.hold_angle, name == "MVC_Armin" ? 20.853 : 11.052, 1e-6);
    const auto r = run("analyze --json " + q(dir_ / (name + ".h5")));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out)["sets"][0];
    EXPECT_EQ(j["phases_from"], "isometric");
    const auto& efforts = j["extension"]["repetitions"];
    ASSERT_EQ(efforts.size(), 1U) << j.dump().substr(0, 2000);
    EXPECT_EQ(efforts[0]["contraction"], "isometric");
    const double start = efforts[0]["start_time_s"];
    const double end = efforts[0]["end_time_s"];
    EXPECT_NEAR(start, name == "MVC_Armin" ? 3.5 : 5.0, 0.5);
    EXPECT_NEAR(end, name == "MVC_Armin" ? 12.8 : 14.2, 0.7);
    // Peak above the rest level (which gravity correction from rest removes): within 3 % of the
    // highest calibrated sample minus the rest mean (one 42 Hz sample against a 10.5 Hz low-pass).
    const double peak = efforts[0]["peak_torque_nm"];
    EXPECT_NEAR(peak, raw_peak - rest, 0.03 * (raw_peak - rest)) << raw_peak << " " << rest;
  }
}

}  // namespace
