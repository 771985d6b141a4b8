// Format version 4: the subject's sex, age, sport, dominant and injured side, stored only when
// recorded, as fixed-length strings (and age as a quantity in years); older files still read.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "isokin/acquisition/session_file.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
namespace drivers = isokin::drivers;

class SessionFileV4 : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-v4-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

Session make_session(const SubjectInfo& subject) {
  Session session;
  session.complete = true;
  session.info.created_utc = "2026-11-25T18:00:00Z";
  session.info.software = "isokin test";
  session.info.protocol_name = "test";
  session.info.subject = subject;
  session.info.device.driver = "sim";
  session.info.device.sample_rate_hz = 100.0;
  RecordedSet set;
  for (int i = 0; i < 10; ++i) set.signals.append({i / 100.0, 1.0 * i, 90.0 - i, -100.0, 0});
  set.stats.sample_count = set.signals.size();
  set.stats.complete = true;
  set.stats.end_reason = "end of stream";
  session.sets.push_back(set);
  return session;
}

SubjectInfo described_subject() {
  SubjectInfo subject;
  subject.id = "S-4";
  subject.body_mass_kg = 61.5;
  subject.sex = "female";
  subject.age_years = 27;
  subject.sport = "ski jumping, Nordic";  // a comma, a space: free text
  subject.dominant_side = drivers::Side::kLeft;
  subject.injured_side = drivers::Side::kNone;
  return subject;
}

std::string run_python(const std::string& script, const fs::path& path) {
  const std::string command =
      "PYTHONIOENCODING=utf-8 /usr/bin/python3 -c \"" + script + "\" '" + path.string() + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "cannot run python";
  std::string output;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return status == 0 ? output : "python failed: " + output;
}

bool h5py_available() {
  return std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") == 0;
}

TEST_F(SessionFileV4, SubjectDetailsRoundTrip) {
  const fs::path path = dir_ / "s.h5";
  write_session(path, make_session(described_subject()));
  const Session read = read_session(path);
  EXPECT_EQ(read.format_version, 4);
  const SubjectInfo& s = read.info.subject;
  EXPECT_EQ(s.id, "S-4");
  EXPECT_EQ(s.body_mass_kg, 61.5);
  EXPECT_EQ(s.sex, "female");
  EXPECT_EQ(s.age_years, 27);
  EXPECT_EQ(s.sport, "ski jumping, Nordic");
  EXPECT_EQ(s.dominant_side, drivers::Side::kLeft);
  EXPECT_EQ(s.injured_side, drivers::Side::kNone);  // recorded: no injured side
}

TEST_F(SessionFileV4, H5pySeesFixedLengthStringsAndTheAgeUnit) {
  if (!h5py_available()) GTEST_SKIP() << "/usr/bin/python3 with h5py is not installed";
  const fs::path path = dir_ / "s.h5";
  write_session(path, make_session(described_subject()));
  // For each attribute: its value, and whether its type is a variable-length string.
  const std::string output = run_python(
      "import sys, h5py\n"
      "f = h5py.File(sys.argv[1], 'r')\n"
      "print(int(f.attrs['format_version']))\n"
      "a = f['subject'].attrs\n"
      "for k in ['sex', 'sport', 'dominant_side', 'injured_side', 'age_unit']:\n"
      "    t = a.get_id(k).get_type()\n"
      "    v = a[k]\n"
      "    v = v.decode() if isinstance(v, bytes) else v\n"
      "    print(k, '=', v, '|', 'variable' if t.is_variable_str() else 'fixed', t.get_size())\n"
      "print('age =', repr(float(a['age'])), a.get_id('age').get_type().get_size())\n",
      path);
  EXPECT_EQ(output,
            "4\n"
            "sex = female | fixed 6\n"
            "sport = ski jumping, Nordic | fixed 19\n"
            "dominant_side = left | fixed 4\n"
            "injured_side = none | fixed 4\n"
            "age_unit = year | fixed 4\n"
            "age = 27.0 8\n");
}

TEST_F(SessionFileV4, NothingRecordedMeansNoAttributes) {
  const fs::path path = dir_ / "plain.h5";
  SubjectInfo subject;
  subject.id = "S-5";
  write_session(path, make_session(subject));
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t group = H5Gopen2(file, "/subject", H5P_DEFAULT);
  for (const char* name :
       {"sex", "age", "age_unit", "sport", "dominant_side", "injured_side", "name", "birth_date"}) {
    EXPECT_EQ(H5Aexists(group, name), 0) << name;
  }
  H5Gclose(group);
  H5Fclose(file);
  const SubjectInfo read = read_session(path).info.subject;
  EXPECT_TRUE(read.sex.empty());
  EXPECT_EQ(read.age_years, 0);
  EXPECT_TRUE(read.sport.empty());
  EXPECT_FALSE(read.dominant_side.has_value());
  EXPECT_FALSE(read.injured_side.has_value());
}

TEST_F(SessionFileV4, ValuesAFileCannotHoldAreRefusedBeforeTheFileExists) {
  const auto refused = [&](const SubjectInfo& subject, const std::string& words) {
    const fs::path path = dir_ / "bad.h5";
    try {
      write_session(path, make_session(subject));
      ADD_FAILURE() << "accepted: " << words;
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find(words), std::string::npos) << error.what();
    }
    EXPECT_FALSE(fs::exists(path)) << words;
  };
  SubjectInfo s = described_subject();
  s.sex = "F";
  refused(s, "sex 'F'");
  s = described_subject();
  s.age_years = 151;
  refused(s, "age 151");
  s = described_subject();
  s.dominant_side = drivers::Side::kNone;
  refused(s, "dominant side");
  s = described_subject();
  s.sport = std::string(kMaxSportBytes + 1, 'x');
  refused(s, "sport");
  s.sport = std::string("a\0b", 3);
  refused(s, "NUL");
}

// Edits a written file's /subject attribute to what another writer could have put there.
void replace_subject_attribute(const fs::path& path, const char* name, const char* value,
                               bool variable_length) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t group = H5Gopen2(file, "/subject", H5P_DEFAULT);
  if (H5Aexists(group, name) > 0) {
    ASSERT_GE(H5Adelete(group, name), 0);
  }
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, variable_length ? H5T_VARIABLE : std::string(value).size());
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attribute = H5Acreate2(group, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(attribute, 0);
  if (variable_length) {
    ASSERT_GE(H5Awrite(attribute, type, &value), 0);
  } else {
    ASSERT_GE(H5Awrite(attribute, type, value), 0);
  }
  H5Aclose(attribute);
  H5Sclose(space);
  H5Tclose(type);
  H5Gclose(group);
  ASSERT_GE(H5Fclose(file), 0);
}

TEST_F(SessionFileV4, TheReaderRefusesVariableLengthAndUnknownValues) {
  const auto damaged = [&](const char* name, const char* value, bool variable,
                           const std::string& words) {
    const fs::path path = dir_ / (std::string(name) + (variable ? "-v" : "-f") + ".h5");
    write_session(path, make_session(described_subject()));
    replace_subject_attribute(path, name, value, variable);
    try {
      (void)read_session(path);
      ADD_FAILURE() << name << " = " << value << " was accepted";
    } catch (const SessionFileError& error) {
      EXPECT_EQ(error.kind(), SessionFileError::Kind::kDamaged);
      EXPECT_NE(std::string(error.what()).find(words), std::string::npos) << error.what();
      EXPECT_EQ(std::string(error.what()).rfind(path.string(), 0), 0U) << error.what();
    }
  };
  damaged("sex", "female", true, "variable-length");
  damaged("sport", "football", true, "variable-length");
  damaged("sex", "f", false, "sex 'f'");
  damaged("dominant_side", "none", false, "dominant_side 'none'");
  damaged("injured_side", "both", false, "injured_side 'both'");
  damaged("age_unit", "month", false, "expected 'year'");
}

TEST_F(SessionFileV4, VersionThreeFilesIgnoreLookAlikeAnnotations) {
  // A version-3 file a user annotated with their own "sex" attribute: not part of version 3, so
  // ignored (docs/file-format.md: unknown attributes are ignored), never misread.
  const fs::path path = dir_ / "v3.h5";
  write_session(path, make_session(described_subject()));
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const int three = 3;
    const hid_t version = H5Aopen(file, "format_version", H5P_DEFAULT);
    ASSERT_GE(H5Awrite(version, H5T_NATIVE_INT, &three), 0);
    H5Aclose(version);
    ASSERT_GE(H5Fclose(file), 0);
  }
  replace_subject_attribute(path, "sex", "F", false);
  const Session read = read_session(path);
  EXPECT_EQ(read.format_version, 3);
  EXPECT_TRUE(read.info.subject.sex.empty());
  EXPECT_EQ(read.info.subject.age_years, 0);
  EXPECT_EQ(read.info.subject.id, "S-4");
}

TEST_F(SessionFileV4, TheKeptVersionTwoFileStillReads) {
  const fs::path v2 = fs::path(ISOKIN_SOURCE_DIR) / "tests/data/session-v2.h5";
  const Session read = read_session(v2);
  EXPECT_EQ(read.format_version, 2);
  EXPECT_FALSE(read.sets.empty());
  EXPECT_TRUE(read.info.subject.sex.empty());
  EXPECT_FALSE(read.info.subject.dominant_side.has_value());
}

}  // namespace
