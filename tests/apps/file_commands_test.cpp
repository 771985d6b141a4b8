// `isokin repair` and `isokin anonymize`, run as a user would: real files, the real binary.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "isokin/acquisition/session_file.h"
#include "isokin/drivers/simulated_dynamometer.h"
#include "support/biodex_export.h"
#include "support/cli_runner.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
namespace drivers = isokin::drivers;
using isokin::test::CommandResult;

class FileCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-files-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  CommandResult run(const std::string& args) const {
    return isokin::test::run_cli(args, dir_ / "stderr.txt");
  }
  fs::path dir_;
};

Session three_set_session() {
  Session s;
  s.complete = true;
  s.info.created_utc = "2026-11-25T14:03:27Z";
  s.info.software = "isokin test";
  s.info.subject.id = "S-042";
  s.info.subject.body_mass_kg = 71.5;
  s.info.subject.name = "Jane Roe";
  s.info.subject.birth_date = "1990-04-01";
  s.info.device.driver = "sim";
  s.info.device.serial = "U6-360012345";
  s.info.device.sample_rate_hz = 100.0;
  for (int k = 0; k < 3; ++k) {
    RecordedSet set;
    set.info.index = k;
    for (int i = 0; i < 200; ++i) {
      set.signals.append({i / 100.0, 10.0 * k + i, 45.0, 0.0, 0});
    }
    set.stats = {200, 0, true, "end of stream", {}};
    s.sets.push_back(set);
  }
  s.events = {{0.5, 0, "set-start", "60 °/s"}, {1.0, 0, "mark", "Jane said her knee hurts"}};
  return s;
}

std::uintmax_t checksum_of(const fs::path& p) {
  std::uintmax_t sum = 0;
  const std::string bytes = isokin::test::slurp(p);
  for (const char c : bytes) sum = sum * 131 + static_cast<unsigned char>(c);
  return sum + bytes.size();
}

TEST_F(FileCommands, RepairKeepsEveryReadableSetAndNamesTheLostOne) {
  const fs::path damaged = dir_ / "damaged.h5";
  write_session(damaged, three_set_session());
  {
    const hid_t file = H5Fopen(damaged.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    ASSERT_GE(H5Ldelete(file, "/sets/set_001/torque", H5P_DEFAULT), 0);
    ASSERT_GE(H5Fclose(file), 0);
  }
  EXPECT_THROW(read_session(damaged), SessionFileError);  // the strict reader refuses it
  const auto before = checksum_of(damaged);

  const fs::path repaired = dir_ / "repaired.h5";
  const CommandResult r =
      run("repair '" + damaged.string() + "' --out '" + repaired.string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;  // something was lost
  EXPECT_NE(r.out.find("recovered 2 set(s), 400 samples"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/sets/set_001/torque"), std::string::npos) << r.out;
  EXPECT_EQ(checksum_of(damaged), before) << "the original was modified";

  const Session s = read_session(repaired);
  ASSERT_EQ(s.sets.size(), 2u);
  EXPECT_EQ(s.sets[0].info.index, 0);
  EXPECT_EQ(s.sets[1].info.index, 2);
  EXPECT_EQ(s.sets[1].signals.torque[10], 30.0);
  EXPECT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.info.subject.id, "S-042");

  // Never over an existing file.
  const CommandResult again =
      run("repair '" + damaged.string() + "' --out '" + repaired.string() + "'");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
}

TEST_F(FileCommands, RepairOfAKilledRecordingGivesAFileAnyToolOpens) {
  const fs::path killed = dir_ / "killed.h5";
  const Session session = three_set_session();
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto* writer = new SessionWriter(killed, session.info, {std::chrono::milliseconds(0), 64});
    writer->begin_set(session.sets[0].info);
    std::vector<drivers::Sample> samples;
    for (std::size_t i = 0; i < 150; ++i) {
      const auto& sig = session.sets[0].signals;
      samples.push_back({sig.time[i], sig.torque[i], sig.angle[i], sig.velocity[i], 0});
    }
    writer->append(samples);
    writer->add_event({0.7, 0, "mark", "note"});
    writer->append(std::span(samples).subspan(0, 0));
    ::kill(::getpid(), SIGKILL);
    ::_exit(96);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  // Without SWMR, HDF5 refuses the killed file ("already open for write").
  const hid_t plain = H5Fopen(killed.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_LT(plain, 0);
  if (plain >= 0) H5Fclose(plain);

  const fs::path repaired = dir_ / "repaired.h5";
  const CommandResult r = run("repair '" + killed.string() + "' --out '" + repaired.string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1 set(s) were interrupted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not finished"), std::string::npos) << r.out;
  const hid_t opened = H5Fopen(repaired.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(opened, 0) << "the repaired file should open without SWMR";
  if (opened >= 0) H5Fclose(opened);
  const Session s = read_session(repaired);
  ASSERT_EQ(s.sets.size(), 1u);
  EXPECT_EQ(s.sets[0].signals.size(), 150u);
  EXPECT_FALSE(s.complete);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].detail, "note");
}

TEST_F(FileCommands, AnonymizeStripsPersonalDataAndKeepsTheMeasurements) {
  const fs::path original = dir_ / "named.h5";
  const Session written = three_set_session();
  write_session(original, written);
  const auto before = checksum_of(original);
  const fs::path copy = dir_ / "anon.h5";
  const CommandResult r =
      run("anonymize '" + original.string() + "' --out '" + copy.string() + "' --subject P-7");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* what :
       {"subject name", "birth date", "device serial", "time of day", "1 operator note"}) {
    EXPECT_NE(r.out.find(what), std::string::npos) << what << "\n" << r.out;
  }
  EXPECT_EQ(checksum_of(original), before);

  const Session s = read_session(copy);
  EXPECT_EQ(s.info.subject.id, "P-7");
  EXPECT_TRUE(s.info.subject.name.empty());
  EXPECT_TRUE(s.info.subject.birth_date.empty());
  EXPECT_TRUE(s.info.device.serial.empty());
  EXPECT_EQ(s.info.created_utc, "2026-11-25");
  EXPECT_EQ(s.events.at(1).detail, "");
  EXPECT_EQ(s.events.at(0).detail, "60 °/s");  // system text stays
  EXPECT_EQ(s.info.subject.body_mass_kg, 71.5);
  ASSERT_EQ(s.sets.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(s.sets[k].signals.torque, written.sets[k].signals.torque);
  }
  // Nothing of the name is left anywhere in the copy's bytes.
  const std::string bytes = isokin::test::slurp(copy);
  EXPECT_EQ(bytes.find("Jane"), std::string::npos);
  EXPECT_EQ(bytes.find("1990-04-01"), std::string::npos);
  EXPECT_EQ(bytes.find("360012345"), std::string::npos);
}

TEST_F(FileCommands, PersonalDataNeedsTheLabsOptIn) {
  const fs::path file = dir_ / "s.h5";
  const std::string base = "run knee-60-180-bilateral --fast --subject S-1 --body-mass 70 --out '" +
                           file.string() + "' --subject-name 'Jane Roe' --birth-date 1990-04-01";
  const CommandResult refused = run(base + " </dev/null");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("--allow-personal-data"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(file));
  const CommandResult allowed = run(base + " --allow-personal-data </dev/null");
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  const Session s = read_session(file);
  EXPECT_EQ(s.info.subject.name, "Jane Roe");
  EXPECT_EQ(s.info.subject.birth_date, "1990-04-01");
}

// Issue 19 item 5: an imported session keeps the export's header verbatim in /protocol/json
// (patient name, ID, birth date, clinician) and the export's file name, which clinics often make
// from the patient's name; anonymize kept both. Checked on the bytes of the copy.
TEST_F(FileCommands, AnonymizeDropsTheVendorHeaderAndTheFileNameOfAnImport) {
  drivers::SimulationSettings settings;
  settings.sample_rate_hz = 100.0;
  drivers::MotionSetpoint sp;
  sp.repetitions = 2;
  std::string txt = isokin::test::biodex_export(drivers::simulate_set(settings, sp));
  txt.insert(txt.find('\n') + 1,
             "Patient: Jane Roe\nPatient ID: P-4711-X\nBirth Date: 1979-03-14\n"
             "Clinician: Dr. Alan Smithee\n");
  const fs::path exported = dir_ / "Roe_Jane_1979.txt";
  std::ofstream(exported) << txt;
  const CommandResult imported =
      run("import '" + exported.string() + "' --out '" + (dir_ / "imported").string() + "'");
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
  const fs::path session = dir_ / "imported" / "Roe_Jane_1979.h5";
  ASSERT_NE(isokin::test::slurp(session).find("Jane Roe"), std::string::npos);  // there before

  const fs::path copy = dir_ / "anon.h5";
  const CommandResult r = run("anonymize '" + session.string() + "' --out '" + copy.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1 imported file header(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 imported file name(s)"), std::string::npos) << r.out;
  const std::string bytes = isokin::test::slurp(copy);
  for (const char* personal :
       {"Jane Roe", "P-4711-X", "1979-03-14", "Smithee", "Roe_Jane", "Patient"}) {
    EXPECT_EQ(bytes.find(personal), std::string::npos) << personal;
  }
  // What says how the signals were mapped stays.
  const auto provenance = nlohmann::json::parse(read_session(copy).info.protocol_json);
  EXPECT_EQ(provenance["format"], "biodex");
  EXPECT_FALSE(provenance.contains("header_text"));
  EXPECT_FALSE(provenance.contains("source"));
}

// A multi-file import ("sources", one per set, and each set labelled with its file's name), and
// a stream client's own text in a file written before the stream stopped logging it.
TEST_F(FileCommands, AnonymizeDropsEverySourceOfAMultiFileImportAndClientText) {
  Session s = three_set_session();
  s.info.device.driver = "import";
  nlohmann::json sources = nlohmann::json::array();
  for (int k = 0; k < 3; ++k) {
    const std::string name = "Roe_Jane_set" + std::to_string(k) + ".txt";
    sources.push_back({{"source", "/clinic/exports/" + name},
                       {"format", "biodex"},
                       {"columns", "torque=4,angle=5"},
                       {"header_text", "BIODEX\nPatient: Jane Roe\nBirth Date: 1979-03-14\n"},
                       {"set_index", k}});
    s.sets[static_cast<std::size_t>(k)].info.label = name;
  }
  s.info.protocol_json = nlohmann::json{{"sources", sources}}.dump();
  s.events.push_back({2.0, -1, "stream-error",
                      "client 127.0.0.1:50312 sent a bad message (unknown message type "
                      "\"Patient Jane Roe born 1979-03-14\"): disconnected"});
  const fs::path original = dir_ / "multi.h5";
  write_session(original, s);
  const fs::path copy = dir_ / "anon.h5";
  const CommandResult r =
      run("anonymize '" + original.string() + "' --out '" + copy.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("3 imported file header(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("what 1 stream client(s) sent"), std::string::npos) << r.out;
  const std::string bytes = isokin::test::slurp(copy);
  for (const char* personal : {"Jane Roe", "1979-03-14", "Roe_Jane", "/clinic/exports"}) {
    EXPECT_EQ(bytes.find(personal), std::string::npos) << personal;
  }
  const Session read = read_session(copy);
  const auto provenance = nlohmann::json::parse(read.info.protocol_json);
  ASSERT_EQ(provenance["sources"].size(), 3u);
  EXPECT_EQ(provenance["sources"][1]["columns"], "torque=4,angle=5");
  EXPECT_EQ(provenance["sources"][1]["set_index"], 1);
  EXPECT_EQ(read.sets[1].info.label, "file 2");
  const auto error = std::find_if(read.events.begin(), read.events.end(),
                                  [](const Event& e) { return e.kind == "stream-error"; });
  ASSERT_NE(error, read.events.end());
  EXPECT_EQ(error->detail, "client 127.0.0.1:50312 sent a bad message: disconnected");
}

}  // namespace
