// Con-Trex MJ .CTM exports: small synthetic files written in the device's layout and signs (as
// the real files in ../shared/realdata/contrex-mj-ctm show them: device angle −86 flexed → −6
// extended, velocity = d(device angle)/dt, torque positive during move 1 = extension), then the
// real files themselves, with every expected value computed here from the file's own rows.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "isokin/acquisition/import.h"
#include "isokin/acquisition/session_file.h"
#include "support/realdata.h"

namespace {

namespace fs = std::filesystem;
using isokin::acquisition::DevicePhase;
using isokin::acquisition::import_recording;
using isokin::acquisition::ImportContext;
using isokin::acquisition::ImportedRecording;
using isokin::acquisition::ImportFormat;
using isokin::drivers::ContractionMode;
using isokin::drivers::Side;

constexpr double kRate = 256.0;

// One device row: torque, velocity, angle in the device's signs.
struct Row {
  double torque, velocity, angle;
};

// A synthetic recording: a slow positioning move (−60 → −86), then `reps` extension/flexion
// cycles between −86 and −6 at 60 °/s (torque +100 in extension, −50 in flexion), then a slow
// move back to −70. Markers at each movement's first sample.
struct Synthetic {
  std::vector<Row> rows;
  std::vector<std::size_t> move1, move2;
};

Synthetic synthetic(int reps) {
  Synthetic s;
  const auto move = [&](double from, double to, double speed, double torque) {
    const double step = (to > from ? speed : -speed) / kRate;
    const auto n = static_cast<std::size_t>(std::abs(to - from) / speed * kRate);
    for (std::size_t i = 0; i < n; ++i) {
      s.rows.push_back({torque, to > from ? speed : -speed, from + step * static_cast<double>(i)});
    }
  };
  move(-60.0, -86.0, 15.0, 5.0);
  for (int r = 0; r < reps; ++r) {
    s.move1.push_back(s.rows.size());
    move(-86.0, -6.0, 60.0, 100.0);
    s.move2.push_back(s.rows.size());
    move(-6.0, -86.0, 60.0, -50.0);
  }
  s.move1.push_back(s.rows.size());  // the end of the last flexion: the end of the test
  move(-86.0, -70.0, 15.0, 3.0);
  return s;
}

struct Header {
  std::string side = "1\tleft";
  std::string program = "63\tisokin. ballistinen kons/kons";
  std::string speed = "60\t60";
  std::string pattern = "210\tpolven oj/kouk 500 Nm";
  std::string weight = "72,5";
  std::string involved = "0 - ei kumpikaan";
  long samples = -1;  // -1: the row count
  bool data = true;
  bool terminator = true;
};

std::string join(const std::vector<std::size_t>& v) {
  std::string text;
  for (const auto x : v) text += std::to_string(x) + "\t";
  return text;
}

// The layout of the real files, Latin-1 and CRLF.
std::string ctm_text(const Synthetic& s, const Header& h, std::size_t rows_written = SIZE_MAX) {
  std::ostringstream o;
  const long samples = h.samples >= 0 ? h.samples : static_cast<long>(s.rows.size());
  o << "[Measurement]\r\nname\ttest\r\nsystem name\tCon-Trex MJ\r\nsoftware\thuman kinetics "
       "1.7.5\r\nparameter names\tv\xe4\xe4nt\xf6\tnopeus\tkulma\r\nsamplingrate\t256\tHz\r\n"
    << "samples\t" << samples << "\r\n\r\n[session]\r\nsubject weight\t" << h.weight
    << "\r\ninvolved side\t" << h.involved << "\r\n\r\n[Configuration]\r\npattern\t" << h.pattern
    << "\r\nside\t" << h.side << "\r\nprogram\t" << h.program << "\r\nspeed\t" << h.speed
    << "\r\ntorque\t500,0\t500,0\r\ngravity\t0\toff\r\n\r\n[SetUp]\r\nanatomical zero\t 100\r\n"
    << "mov1\t-6,0\r\nmov2\t-86,0\r\n\r\n[filter]\r\nfilter\t1\t11\tsingle pole IIR low "
       "pass\r\n\r\n";
  if (!h.data) return o.str() + "\r\n";
  o << "[markers by index]\r\nmove 1\t" << join(s.move1) << "\r\nmove 2\t" << join(s.move2)
    << "\r\n\r\n[data]\r\n\r\n";
  char line[96];
  for (std::size_t i = 0; i < s.rows.size() && i < rows_written; ++i) {
    std::snprintf(line, sizeof line, "%.3f\t%.3f\t%.3f\r\n", s.rows[i].torque, s.rows[i].velocity,
                  s.rows[i].angle);
    o << line;
  }
  if (h.terminator && rows_written == SIZE_MAX) o << "0.000\t0.000\t0.000\r\n";
  return o.str();
}

class ConTrexImport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("isokin-contrex-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  [[nodiscard]] fs::path write(const std::string& name, const std::string& text) const {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  static std::string error_of(const fs::path& file) {
    try {
      (void)import_recording(file, {});
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no error";
  }
  fs::path dir_;
};

TEST_F(ConTrexImport, SignsTerminatorAndHeaderAreMappedOnce) {
  const auto s = synthetic(2);
  const auto file = write("S.CTM", ctm_text(s, {}));
  EXPECT_EQ(isokin::acquisition::detect_import_format(file), ImportFormat::kConTrex);
  const auto rec = import_recording(file, {});
  EXPECT_EQ(rec.format, ImportFormat::kConTrex);
  ASSERT_EQ(rec.signals.size(), s.rows.size());  // the 0 0 0 row is not a sample
  EXPECT_EQ(rec.sample_rate_hz, 256.0);
  for (std::size_t i = 0; i < s.rows.size(); ++i) {
    ASSERT_NEAR(rec.signals.time[i], static_cast<double>(i) / kRate, 1e-12);
    ASSERT_NEAR(rec.signals.angle[i], -s.rows[i].angle, 6e-4) << i;  // flexion = −device
    ASSERT_NEAR(rec.signals.velocity[i], -s.rows[i].velocity, 6e-4) << i;
    ASSERT_NEAR(rec.signals.torque[i], s.rows[i].torque, 6e-4) << i;  // extensor positive
  }
  // The header's context, decimal comma and Latin-1 included.
  EXPECT_EQ(rec.header.side, Side::kLeft);
  EXPECT_EQ(rec.header.mode, ContractionMode::kConcentricConcentric);
  EXPECT_EQ(rec.header.extension_velocity, 60.0);
  EXPECT_EQ(rec.header.flexion_velocity, 60.0);
  EXPECT_EQ(rec.header.body_mass_kg, 72.5);
  EXPECT_EQ(rec.header.injured_side, Side::kNone);
  EXPECT_EQ(rec.header.angle_min, 6.0);
  EXPECT_EQ(rec.header.angle_max, 86.0);
  EXPECT_NE(rec.header_text.find("v\u00e4\u00e4nt\u00f6"), std::string::npos);
  EXPECT_NE(rec.mapping_json.find("dropped (line"), std::string::npos) << rec.mapping_json;
  EXPECT_NE(rec.mapping_json.find("\"warnings\":[]"), std::string::npos) << rec.mapping_json;
}

TEST_F(ConTrexImport, MarkersGiveTheDevicesRepetitionsAndNothingOutside) {
  const auto s = synthetic(3);
  const auto rec = import_recording(write("M.CTM", ctm_text(s, {})), {});
  const auto& marks = rec.marks;
  ASSERT_EQ(marks.phase.size(), s.rows.size());
  for (std::size_t i = 0; i < s.move1.front(); ++i) ASSERT_EQ(marks.phase[i], 0) << i;
  for (std::size_t i = s.move1.back(); i < s.rows.size(); ++i) ASSERT_EQ(marks.phase[i], 0) << i;
  for (std::size_t r = 0; r < 3; ++r) {
    for (std::size_t i = s.move1[r]; i < s.move2[r]; ++i) {
      ASSERT_EQ(marks.phase[i], 1) << i;
      ASSERT_EQ(marks.repetition[i], static_cast<int>(r + 1)) << i;
    }
    for (std::size_t i = s.move2[r]; i < s.move1[r + 1]; ++i) {
      ASSERT_EQ(marks.phase[i], 2) << i;
      ASSERT_EQ(marks.repetition[i], static_cast<int>(r + 1)) << i;
    }
  }
  // They reach the session file as its device segmentation (format version 3), with the
  // header's context unless the user says otherwise.
  const fs::path h5 = dir_ / "M.h5";
  ImportContext user;
  user.set_velocity = 90.0;
  isokin::acquisition::write_imported_session(rec, user, h5);
  const auto session = isokin::acquisition::read_session(h5);
  const auto& set = session.sets.at(0);
  ASSERT_TRUE(set.info.device_segmented);
  ASSERT_EQ(set.signals.device_segments.size(), s.rows.size());
  for (std::size_t i = 0; i < s.rows.size(); ++i) {
    const auto& seg = set.signals.device_segments[i];
    const auto expected = marks.phase[i] == 1   ? DevicePhase::kExtension
                          : marks.phase[i] == 2 ? DevicePhase::kFlexion
                                                : DevicePhase::kNone;
    ASSERT_EQ(seg.phase, expected) << i;
    ASSERT_EQ(seg.repetition, marks.repetition[i]) << i;
  }
  EXPECT_EQ(set.info.setpoint.side, Side::kLeft);
  EXPECT_EQ(set.info.setpoint.extension_velocity, 90.0);  // the user's, not the header's
  EXPECT_EQ(set.info.setpoint.angle_min, 6.0);
  EXPECT_EQ(set.info.setpoint.angle_max, 86.0);
  EXPECT_EQ(session.info.subject.body_mass_kg, 72.5);
  EXPECT_EQ(session.info.subject.injured_side, Side::kNone);
}

TEST_F(ConTrexImport, TheFilesOfOneVisitMustAgreeOnTheSubjectUnlessTheUserSaysIt) {
  const auto s = synthetic(1);
  Header heavier;
  heavier.weight = "80";
  heavier.side = "0\tright";
  const std::vector<ImportedRecording> both = {
      import_recording(write("L.CTM", ctm_text(s, {})), {}),
      import_recording(write("R.CTM", ctm_text(s, heavier)), {})};
  const std::vector<ImportContext> unsaid(2);
  try {
    (void)isokin::acquisition::to_session(both, unsaid);
    ADD_FAILURE() << "two body masses in one session";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("L.CTM and "), std::string::npos) << m;
    EXPECT_NE(m.find("R.CTM differ in the subject's body mass"), std::string::npos) << m;
  }
  std::vector<ImportContext> said(2);
  for (auto& c : said) c.body_mass_kg = 75.0;
  said[0].side = Side::kRight;  // the user's side wins over the header's left
  const auto session = isokin::acquisition::to_session(both, said);
  EXPECT_EQ(session.info.subject.body_mass_kg, 75.0);
  EXPECT_EQ(session.sets[0].info.setpoint.side, Side::kRight);
  EXPECT_EQ(session.sets[1].info.setpoint.side, Side::kRight);  // its header's
}

TEST_F(ConTrexImport, ProgramsMapToModesPerDirection) {
  const auto s = synthetic(1);
  const auto mode_of = [&](const std::string& program, const std::string& speed) {
    Header h;
    h.program = program;
    h.speed = speed;
    return import_recording(write("P.CTM", ctm_text(s, h)), {});
  };
  EXPECT_EQ(mode_of("66\tisokin. ballistinen eks/eks", "30\t30").header.mode,
            ContractionMode::kEccentricEccentric);
  const auto cpm = mode_of("208\tisokin. ballistinen CPM/eks", "30\t300");
  EXPECT_EQ(cpm.header.mode, ContractionMode::kConcentricEccentric);
  EXPECT_EQ(cpm.header.extension_velocity, 30.0);
  EXPECT_EQ(cpm.header.flexion_velocity, 300.0);
  EXPECT_NE(cpm.mapping_json.find("\"extension\":\"passive (CPM"), std::string::npos);
  EXPECT_NE(cpm.mapping_json.find("\"flexion\":\"eccentric\""), std::string::npos);
  const auto odd = mode_of("70\tsomething iso/iso", "0\t0");
  EXPECT_FALSE(odd.header.mode.has_value());
  EXPECT_NE(odd.mapping_json.find("is not one isokin maps"), std::string::npos);
}

TEST_F(ConTrexImport, AnUnknownPatternIsTheKneeWithAWarning) {
  Header h;
  h.pattern = "999\tlonkka";
  const auto rec = import_recording(write("U.CTM", ctm_text(synthetic(1), h)), {});
  EXPECT_EQ(rec.header.joint, isokin::drivers::Joint::kKnee);
  EXPECT_NE(rec.mapping_json.find("pattern 999 'lonkka' is not the knee"), std::string::npos)
      << rec.mapping_json;
}

TEST_F(ConTrexImport, AShortFileAndASettingsFileAreRefusedClearly) {
  const auto s = synthetic(2);
  const auto cut = write("C.CTM", ctm_text(s, {}, 160));
  const std::string e = error_of(cut);
  EXPECT_EQ(e.rfind(cut.string() + ": ", 0), 0U) << e;
  EXPECT_NE(e.find("announces " + std::to_string(s.rows.size()) + " samples"), std::string::npos)
      << e;
  EXPECT_NE(e.find("the data holds 160"), std::string::npos) << e;
  EXPECT_NE(e.find("cut short"), std::string::npos) << e;
  Header settings;
  settings.data = false;
  const auto cta = write("T.CTA", ctm_text(s, settings));
  EXPECT_EQ(isokin::acquisition::detect_import_format(cta), ImportFormat::kConTrex);
  const std::string c = error_of(cta);
  EXPECT_NE(c.find(cta.string() + ": holds no samples"), std::string::npos) << c;
  // A marker beyond the data names its line and field.
  std::string text = ctm_text(s, {});
  text.replace(text.find("move 2\t") + 7, 0, "99999\t");
  const std::string m = error_of(write("B.CTM", text));
  EXPECT_NE(m.find("move 2: '99999' is not a sample index"), std::string::npos) << m;
}

// ---- The real files ------------------------------------------------------------------------

struct RawCtm {
  std::map<std::string, std::vector<std::string>> header;  // key → values (tab separated)
  std::vector<Row> rows;                                   // without the terminator
};

RawCtm read_raw(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  RawCtm raw;
  std::string line;
  bool data = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "[data]") {
      data = true;
      continue;
    }
    std::istringstream fields(line);
    if (data) {
      Row r{};
      if (fields >> r.torque >> r.velocity >> r.angle) raw.rows.push_back(r);
      continue;
    }
    std::string key;
    std::getline(fields, key, '\t');
    for (std::string v; std::getline(fields, v, '\t');) raw.header[key].push_back(v);
  }
  if (!raw.rows.empty()) raw.rows.pop_back();  // 0 0 0
  return raw;
}

std::vector<fs::path> real_ctm_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(isokin::test::realdata("contrex-mj-ctm"))) {
    const auto name = e.path().filename().string();
    if (e.path().extension() == ".CTM" && name.find("bad") == std::string::npos) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ConTrexRealFiles, SamplesSignsAndMarksOfEveryFile) {
  ISOKIN_SKIP_WITHOUT_REALDATA("contrex-mj-ctm");
  const auto files = real_ctm_files();
  ASSERT_EQ(files.size(), 12U);
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const RawCtm raw = read_raw(file);
    const auto rec = import_recording(file, {});
    ASSERT_EQ(rec.format, ImportFormat::kConTrex);
    ASSERT_EQ(rec.signals.size(), std::stoul(raw.header.at("samples").at(0)));
    ASSERT_EQ(rec.signals.size(), raw.rows.size());
    const auto& sig = rec.signals;
    // velocity ≈ d(angle)/dt after the mapping: least-squares slope over the moving samples.
    double dot = 0.0;
    double norm = 0.0;
    for (std::size_t i = 1; i + 1 < sig.size(); ++i) {
      if (std::abs(sig.velocity[i]) < 10.0) continue;
      const double derived = (sig.angle[i + 1] - sig.angle[i - 1]) * kRate / 2.0;
      dot += derived * sig.velocity[i];
      norm += sig.velocity[i] * sig.velocity[i];
    }
    ASSERT_GT(norm, 0.0);
    EXPECT_NEAR(dot / norm, 1.0, 0.02);
    // Flexion angles: the test's range lies inside 0–95°.
    const std::size_t first = std::stoul(raw.header.at("move 1").front());
    const std::size_t last = std::stoul(raw.header.at("move 1").back());
    for (std::size_t i = first; i < last; ++i) {
      ASSERT_GT(sig.angle[i], 0.0) << i;
      ASSERT_LT(sig.angle[i], 95.0) << i;
    }
    // Torque: extensor moment positive. Mean torque per direction over the device's test:
    // concentric extension and eccentric flexion (extensors working) positive; concentric
    // flexion and eccentric extension (flexors) negative; CPM extension near zero.
    double sum[3] = {0, 0, 0};
    double count[3] = {0, 0, 0};
    int repetitions[3] = {0, 0, 0};
    for (std::size_t i = 0; i < sig.size(); ++i) {
      const int phase = rec.marks.phase.at(i);
      sum[phase] += sig.torque[i];
      count[phase] += 1.0;
      repetitions[phase] = std::max(repetitions[phase], rec.marks.repetition[i]);
    }
    const std::string program = raw.header.at("program").at(1);
    const double extension = sum[1] / count[1];
    const double flexion = sum[2] / count[2];
    if (program.find("kons/kons") != std::string::npos) {
      EXPECT_GT(extension, 50.0);
      EXPECT_LT(flexion, -30.0);
    } else if (program.find("eks/eks") != std::string::npos &&
               program.find("CPM") == std::string::npos) {
      EXPECT_LT(extension, -50.0);
      EXPECT_GT(flexion, 50.0);
    } else {
      ASSERT_NE(program.find("CPM/eks"), std::string::npos);
      EXPECT_LT(std::abs(extension), 25.0);  // the lever carries the relaxed leg
      EXPECT_GT(flexion, 40.0);
    }
    const int planned = std::stoi(raw.header.at("termination val").at(0));
    EXPECT_EQ(repetitions[1], planned);
    EXPECT_EQ(repetitions[2], planned);
    // The raw numbers, one to one.
    for (std::size_t i = 0; i < sig.size(); ++i) {
      ASSERT_EQ(sig.torque[i], raw.rows[i].torque) << i;
      ASSERT_EQ(sig.angle[i], -raw.rows[i].angle) << i;
      ASSERT_EQ(sig.velocity[i], -raw.rows[i].velocity) << i;
    }
  }
}

TEST(ConTrexRealFiles, TheCutFileAndTheSettingsFilesAreRefused) {
  ISOKIN_SKIP_WITHOUT_REALDATA("contrex-mj-ctm");
  const auto dir = isokin::test::realdata("contrex-mj-ctm");
  try {
    (void)import_recording(dir / "CTM448-bad.CTM", {});
    ADD_FAILURE() << "CTM448-bad.CTM imported";
  } catch (const isokin::acquisition::ImportError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("announces 4923 samples"), std::string::npos) << m;
    EXPECT_NE(m.find("the data holds 160"), std::string::npos) << m;
  }
  for (const auto* name : {"CTM378.CTA", "CTM379.CTA", "CTM381.CTA", "CTM383.CTA"}) {
    try {
      (void)import_recording(dir / name, {});
      ADD_FAILURE() << name << " imported";
    } catch (const isokin::acquisition::ImportError& e) {
      EXPECT_NE(std::string(e.what()).find(": holds no samples"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
