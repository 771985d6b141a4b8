// The C3D reader against the real Vicon/Biodex file in ../shared/realdata and against files built
// here byte by byte from the C3D format description (Intel, DEC and MIPS processor types; integer
// and float data; scale, offset, gen_scale), plus malformed and hostile variants.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "isokin/acquisition/c3d.h"
#include "isokin/acquisition/import.h"
#include "support/realdata.h"

namespace {

namespace fs = std::filesystem;
using isokin::acquisition::C3dAnalog;
using isokin::acquisition::ImportError;
using isokin::acquisition::read_c3d_analog;

const fs::path kRealC3d =
    fs::path(ISOKIN_SHARED_DIR) / "realdata" / "biodex-analog-c3d" / "5-20a.c3d";

// ---- A C3D writer, from the format description ---------------------------------------------

enum class Cpu { kIntel = 84, kDec = 85, kMips = 86 };

struct Spec {
  Cpu cpu = Cpu::kIntel;
  bool float_data = false;
  int channels = 3;
  int samples_per_frame = 2;
  int frames = 4;
  int points = 0;
  double frame_rate = 100.0;
  std::vector<double> raw;  // frames × samples_per_frame × channels, stored values
  std::vector<double> scale = {1.0, 1.0, 1.0};
  std::vector<int> offset = {0, 0, 0};
  double gen_scale = 1.0;
  bool unsigned_format = false;
  // Overrides for hostile files.
  int last_frame = -1;                // header word 5; -1: frames
  std::vector<int> actual_end_field;  // TRIAL:ACTUAL_END_FIELD words, if any
};

class Bytes {
 public:
  explicit Bytes(Cpu cpu) : cpu_(cpu) {}
  void u8(int v) { data.push_back(static_cast<std::uint8_t>(v)); }
  void i16(int v) {
    const auto w = static_cast<std::uint16_t>(v);
    if (cpu_ == Cpu::kMips) {
      u8(w >> 8);
      u8(w & 0xFF);
    } else {
      u8(w & 0xFF);
      u8(w >> 8);
    }
  }
  void f32(double v) {
    const auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(v));
    if (cpu_ == Cpu::kMips) {
      for (int s = 24; s >= 0; s -= 8) u8(static_cast<int>((bits >> s) & 0xFF));
    } else if (cpu_ == Cpu::kIntel) {
      for (int s = 0; s <= 24; s += 8) u8(static_cast<int>((bits >> s) & 0xFF));
    } else {
      for (const auto b : vax(v)) u8(b);
    }
  }
  // VAX F_floating: value = 0.1f × 2^(e−128), words stored high word first, each little-endian.
  // The same bit pattern as IEEE for 4 × value, with the two 16-bit halves swapped.
  static std::array<std::uint8_t, 4> vax(double v) {
    if (v == 0.0) return {0, 0, 0, 0};
    const auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(v * 4.0));
    return {static_cast<std::uint8_t>((bits >> 16) & 0xFF),
            static_cast<std::uint8_t>((bits >> 24) & 0xFF), static_cast<std::uint8_t>(bits & 0xFF),
            static_cast<std::uint8_t>((bits >> 8) & 0xFF)};
  }
  void pad_to_block() {
    while (data.size() % 512 != 0) data.push_back(0);
  }
  std::vector<std::uint8_t> data;

 private:
  Cpu cpu_;
};

// One group/parameter item; `body` is everything after the link word.
void item(Bytes& b, int group_id, const std::string& name, const Bytes& body, bool last) {
  b.u8(static_cast<int>(name.size()));
  b.u8(group_id);
  for (const char c : name) b.u8(c);
  b.i16(last ? 0 : static_cast<int>(body.data.size()) + 2);
  b.data.insert(b.data.end(), body.data.begin(), body.data.end());
}

std::vector<std::uint8_t> build(const Spec& s) {
  Bytes params(s.cpu);
  auto body = [&] { return Bytes(s.cpu); };
  auto group = [&](int id, const std::string& name, bool last = false) {
    Bytes g = body();
    g.u8(0);  // description length
    item(params, -id, name, g, last);
  };
  auto int_param = [&](int gid, const std::string& name, const std::vector<int>& v, bool array) {
    Bytes p = body();
    p.u8(2);
    if (array) {
      p.u8(1);
      p.u8(static_cast<int>(v.size()));
    } else {
      p.u8(0);
    }
    for (const int x : v) p.i16(x);
    p.u8(0);
    item(params, gid, name, p, false);
  };
  auto float_param = [&](int gid, const std::string& name, const std::vector<double>& v, bool array,
                         bool last = false) {
    Bytes p = body();
    p.u8(4);
    if (array) {
      p.u8(1);
      p.u8(static_cast<int>(v.size()));
    } else {
      p.u8(0);
    }
    for (const double x : v) p.f32(x);
    p.u8(0);
    item(params, gid, name, p, last);
  };
  auto char_param = [&](int gid, const std::string& name, const std::vector<std::string>& v) {
    Bytes p = body();
    p.u8(-1 & 0xFF);
    p.u8(2);
    p.u8(8);
    p.u8(static_cast<int>(v.size()));
    for (auto text : v) {
      text.resize(8, ' ');
      for (const char c : text) p.u8(c);
    }
    p.u8(0);
    item(params, gid, name, p, false);
  };
  group(1, "POINT");
  group(2, "ANALOG");
  group(3, "TRIAL");
  int_param(2, "USED", {s.channels}, false);
  std::vector<std::string> labels;
  labels.reserve(static_cast<std::size_t>(s.channels));
  for (int c = 0; c < s.channels; ++c) labels.push_back("CH" + std::to_string(c + 1));
  char_param(2, "LABELS", labels);
  char_param(2, "UNITS", std::vector<std::string>(static_cast<std::size_t>(s.channels), "V"));
  if (s.unsigned_format) char_param(2, "FORMAT", {"UNSIGNED"});
  int_param(2, "OFFSET", s.offset, true);
  float_param(2, "GEN_SCALE", {s.gen_scale}, false);
  float_param(2, "RATE", {s.frame_rate * s.samples_per_frame}, false);
  if (!s.actual_end_field.empty()) {
    int_param(3, "ACTUAL_START_FIELD", {1, 0}, true);
    int_param(3, "ACTUAL_END_FIELD", s.actual_end_field, true);
  }
  float_param(2, "SCALE", s.scale, true, true);
  const int param_blocks = static_cast<int>((params.data.size() + 4 + 511) / 512);

  Bytes file(s.cpu);
  file.u8(2);
  file.u8(0x50);
  file.i16(s.points);
  file.i16(s.channels * s.samples_per_frame);
  file.i16(1);
  file.i16(s.last_frame >= 0 ? s.last_frame : s.frames);
  file.i16(0);
  file.f32(s.float_data ? -0.1 : 0.1);
  file.i16(2 + param_blocks);
  file.i16(s.samples_per_frame);
  file.f32(s.frame_rate);
  file.pad_to_block();
  file.u8(1);
  file.u8(0x50);
  file.u8(param_blocks);
  file.u8(static_cast<int>(s.cpu));
  file.data.insert(file.data.end(), params.data.begin(), params.data.end());
  file.pad_to_block();
  std::size_t k = 0;
  for (int f = 0; f < s.frames; ++f) {
    for (int p = 0; p < s.points * 4; ++p) s.float_data ? file.f32(999.0) : file.i16(999);
    for (int i = 0; i < s.samples_per_frame * s.channels; ++i) {
      const double v = s.raw.at(k++);
      if (s.float_data) {
        file.f32(v);
      } else {
        file.i16(static_cast<int>(v));
      }
    }
  }
  file.pad_to_block();
  return file.data;
}

C3dAnalog read(const std::vector<std::uint8_t>& bytes) {
  return read_c3d_analog(std::as_bytes(std::span(bytes)), "made.c3d");
}

std::string error_of(const std::vector<std::uint8_t>& bytes) {
  try {
    (void)read(bytes);
  } catch (const ImportError& e) {
    return e.what();
  }
  return "no error";
}

Spec ramp_spec(Cpu cpu, bool float_data) {
  Spec s;
  s.cpu = cpu;
  s.float_data = float_data;
  for (int i = 0; i < s.frames * s.samples_per_frame * s.channels; ++i) {
    s.raw.push_back(float_data ? 0.25 * i - 3.0 : 10 * i - 100);
  }
  s.scale = {0.5, -2.0, 0.125};
  s.offset = {0, 5, -7};
  s.gen_scale = 2.0;
  return s;
}

// ---- Tests -----------------------------------------------------------------------------------

TEST(C3dWriter, VaxFloatsMatchTheFormatDescription) {
  // 1.0 = 0.5 × 2^1: exponent 129 → word 0x4080; −2.5 = −0.625 × 2^2: word 0xC120.
  EXPECT_EQ(Bytes::vax(1.0), (std::array<std::uint8_t, 4>{0x80, 0x40, 0x00, 0x00}));
  EXPECT_EQ(Bytes::vax(-2.5), (std::array<std::uint8_t, 4>{0x20, 0xC1, 0x00, 0x00}));
}

TEST(C3dReader, EveryProcessorTypeAndStorageGivesTheScaledValues) {
  for (const Cpu cpu : {Cpu::kIntel, Cpu::kDec, Cpu::kMips}) {
    for (const bool float_data : {false, true}) {
      SCOPED_TRACE(static_cast<int>(cpu) * 10 + float_data);
      const Spec s = ramp_spec(cpu, float_data);
      const C3dAnalog a = read(build(s));
      EXPECT_EQ(static_cast<int>(a.processor), static_cast<int>(cpu));
      EXPECT_EQ(a.float_data, float_data);
      ASSERT_EQ(a.channel_count, 3U);
      ASSERT_EQ(a.sample_count, 8U);
      EXPECT_DOUBLE_EQ(a.analog_rate_hz, 200.0);
      EXPECT_EQ(a.labels, (std::vector<std::string>{"CH1", "CH2", "CH3"}));
      // Stored value k is channel k % 3 at sample k / 3: (raw − offset) · scale · gen_scale.
      for (std::size_t k = 0; k < s.raw.size(); ++k) {
        const std::size_t c = k % 3;
        const double expected = (s.raw[k] - s.offset[c]) * s.scale[c] * s.gen_scale;
        EXPECT_DOUBLE_EQ(a.channel(c)[k / 3], expected) << k;
      }
    }
  }
}

TEST(C3dReader, PointsAreSkippedAndUnsignedIntegersRead) {
  Spec s = ramp_spec(Cpu::kIntel, false);
  s.points = 2;
  s.unsigned_format = true;
  s.offset = {2048, 2048, 0};
  s.raw.clear();
  for (int i = 0; i < s.frames * s.samples_per_frame * s.channels; ++i) s.raw.push_back(40000 + i);
  const C3dAnalog a = read(build(s));
  // 40000 does not fit an int16: read as unsigned it stays 40000.
  EXPECT_DOUBLE_EQ(a.channel(0)[0], (40000 - 2048) * 0.5 * 2.0);
  EXPECT_DOUBLE_EQ(a.channel(2)[7], (40000 + 23) * 0.125 * 2.0);
}

TEST(C3dReader, TheRealBiodexTrialMatchesAnIndependentReader) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-analog-c3d");
  const C3dAnalog a = read_c3d_analog(kRealC3d);
  EXPECT_EQ(a.processor, C3dAnalog::Processor::kIntel);
  EXPECT_TRUE(a.float_data);
  EXPECT_EQ(a.channel_count, 21U);
  EXPECT_EQ(a.sample_count, 17390U);  // 1739 frames × 10 samples
  EXPECT_DOUBLE_EQ(a.analog_rate_hz, 1000.0);
  // ANALOG:LABELS (numpy reader below): the authors' 1-based channels 17, 18, 20 are these.
  ASSERT_EQ(a.labels.size(), 21U);
  EXPECT_EQ(a.labels.at(16), "Angle.1");
  EXPECT_EQ(a.labels.at(17), "Angular Velocity.1");
  EXPECT_EQ(a.labels.at(19), "Torque.1");
  EXPECT_EQ(a.labels.at(0), "Voltage.1");
  // Expected values: a 60-line numpy reader written for this check (parameter section walked
  // by hand, data read as '<f4' and reshaped frames × (10 · 21)), run once with Debian's
  // python3-numpy; channel numbers here are 0-based (17 → 16).
  struct Row {
    std::size_t i;
    double ch17, ch18, ch20;
  };
  const Row rows[] = {
      {0, 0.06492183357477188, -0.0007325764745473862, -6.083663902245462e-05},
      {1, 0.07163570076227188, 0.009033048525452614, -6.129439861979336e-05},
      {5000, 0.06034419685602188, -0.00012222491204738617, -0.0003893583780154586},
      {17389, 0.05332515388727188, 0.022765958681702614, -6.419356941478327e-05},
  };
  for (const auto& r : rows) {
    EXPECT_DOUBLE_EQ(a.channel(16)[r.i], r.ch17) << r.i;
    EXPECT_DOUBLE_EQ(a.channel(17)[r.i], r.ch18) << r.i;
    EXPECT_DOUBLE_EQ(a.channel(19)[r.i], r.ch20) << r.i;
  }
}

TEST(C3dImport, TheAuthorsChannelMapGivesDegreesAndNewtonMetres) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-analog-c3d");
  const fs::path dir = fs::temp_directory_path() / ("isokin-c3d-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path profile = dir / "biodex-c3d.json";
  // MATLAB's 1-based columns of ezc3d's analog matrix, as the authors' script uses them.
  std::ofstream(profile) << R"({"channel_base": 1,
    "angle": {"channel": 17, "scale": 35.6838},
    "velocity": {"channel": 18, "scale": 35.6838},
    "torque": {"channel": 20, "scale": -144049}})";
  isokin::acquisition::ImportOptions options;
  options.profile = profile;
  const auto rec = isokin::acquisition::import_recording(kRealC3d, options);
  EXPECT_EQ(rec.format, isokin::acquisition::ImportFormat::kC3d);  // detected from content
  ASSERT_EQ(rec.signals.size(), 17390U);
  EXPECT_DOUBLE_EQ(rec.sample_rate_hz, 1000.0);
  // Same numpy reader: angle = 35.6838 · ch17, torque = −144049 · ch20 (sample 5000).
  EXPECT_NEAR(rec.signals.angle[0], 2.3166577249154447, 1e-9);
  EXPECT_NEAR(rec.signals.velocity[1], 0.322333496972546, 1e-9);
  EXPECT_NEAR(rec.signals.torque[5000], 56.08668499474879, 1e-9);
  EXPECT_NEAR(rec.signals.time[5000], 5.0, 1e-12);
  // Plausible for a 5° ankle perturbation trial: angle 0.55–16.8°, torque 7.6–113 N·m (numpy).
  const auto [amin, amax] = std::minmax_element(rec.signals.angle.begin(), rec.signals.angle.end());
  EXPECT_NEAR(*amin, 0.5525050149545073, 1e-9);
  EXPECT_NEAR(*amax, 16.82191307428479, 1e-9);
  // The velocity channel runs with d(angle)/dt (smoothed over 50 ms: sign agreement 0.99).
  double dot = 0.0;
  double norm = 0.0;
  const auto& s = rec.signals;
  for (std::size_t i = 50; i + 50 < s.size(); i += 10) {
    const double d = (s.angle[i + 25] - s.angle[i - 25]) / 0.05;
    dot += d * s.velocity[i];
    norm += std::abs(d * s.velocity[i]);
  }
  EXPECT_GT(dot / norm, 0.8);
  // The header summary is kept.
  EXPECT_NE(rec.header_text.find("Vicon Nexus"), std::string::npos) << rec.header_text;
  fs::remove_all(dir);
}

TEST(C3dImport, AChannelMapKeyOfTheWrongTypeNamesTheProfile) {
  ISOKIN_SKIP_WITHOUT_REALDATA("biodex-analog-c3d");
  const fs::path dir = fs::temp_directory_path() / ("isokin-c3d-map-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path profile = dir / "biodex-c3d.json";
  std::ofstream(profile) << R"({"channel_base": "1", "angle": {"channel": 17},
    "torque": {"channel": 20}})";
  isokin::acquisition::ImportOptions options;
  options.profile = profile;
  try {
    (void)isokin::acquisition::import_recording(kRealC3d, options);
    ADD_FAILURE() << "a string channel_base was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), profile.string() + ": channel_base must be 0 or 1");
  }
  std::ofstream(profile) << R"({"channel_base": 1e400})";
  try {
    (void)isokin::acquisition::import_recording(kRealC3d, options);
    ADD_FAILURE() << "a number beyond a double was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind(profile.string() + ": not valid JSON: ", 0), 0U)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(C3dReader, MalformedFilesNameTheByte) {
  const auto good = build(ramp_spec(Cpu::kIntel, true));
  // Truncated: the data section declares more than the file holds.
  auto truncated = good;
  truncated.resize(good.size() - 512);
  EXPECT_NE(error_of(truncated).find("made.c3d: byte 1024: 4 frames of"), std::string::npos)
      << error_of(truncated);
  // Shorter than the header.
  EXPECT_NE(error_of({good.begin(), good.begin() + 100}).find("byte 100: shorter than"),
            std::string::npos);
  // Garbage.
  std::vector<std::uint8_t> garbage(4096, 0xAB);
  EXPECT_NE(error_of(garbage).find("byte 1: not a C3D file"), std::string::npos);
  // Unknown processor type.
  auto processor = good;
  processor[512 + 3] = 99;
  EXPECT_NE(error_of(processor).find("byte 515: processor type 99"), std::string::npos);
  // A parameter link pointing backwards would loop forever.
  auto loop = good;
  loop[512 + 4 + 8] = 0xFF;  // POINT group's link, high byte: negative
  EXPECT_NE(error_of(loop).find("points backwards"), std::string::npos) << error_of(loop);
  // Analog values per frame not a multiple of the samples per frame.
  auto odd = good;
  odd[4] = 7;
  EXPECT_NE(error_of(odd).find("byte 4:"), std::string::npos) << error_of(odd);
}

TEST(C3dReader, HostileFrameCountsAreRefusedBeforeAllocating) {
  // 65535 in the header and 2^32 − 1 frames in TRIAL:ACTUAL_END_FIELD (the 32-bit range):
  // 4.3e9 frames × 24 bytes would be 100 GB. The reader must refuse, not allocate.
  Spec s = ramp_spec(Cpu::kIntel, true);
  s.last_frame = 65535;
  s.actual_end_field = {0xFFFF, 0xFFFF};
  const std::string e = error_of(build(s));
  EXPECT_NE(e.find("4294967295 frames of 24 bytes"), std::string::npos) << e;
  // The 16-bit header alone: 65535 frames on a 2 KiB file.
  Spec t = ramp_spec(Cpu::kIntel, true);
  t.last_frame = 65535;
  EXPECT_NE(error_of(build(t)).find("65535 frames"), std::string::npos);
}

}  // namespace
