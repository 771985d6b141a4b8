// `isokin repair` and `isokin anonymize`, run as a user would: real files, the real binary.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

// Runs a shell command line (not isokin), capturing what run_cli captures.
CommandResult run_shell(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = r.out;
  return r;
}

// A session whose sets are long enough that the end of the file holds samples of the last set.
Session four_long_sets() {
  Session s = three_set_session();
  s.sets.push_back(s.sets.back());
  for (int k = 0; k < 4; ++k) {
    RecordedSet& set = s.sets[static_cast<std::size_t>(k)];
    set.info.index = k;
    set.signals = {};
    for (int i = 0; i < 20000; ++i)
      set.signals.append({i / 100.0, 1000.0 * (k + 1) + i, 45.0, 0.0, 0});
    set.stats = {20000, 0, true, "end of stream", {}};
  }
  return s;
}

// What repair recovered must be what was recorded: whole sets, or a prefix of one, never zeros
// read past the end of the file.
void expect_recovered_as_written(const Session& repaired, const Session& written) {
  for (const RecordedSet& set : repaired.sets) {
    const RecordedSet& original = written.sets.at(static_cast<std::size_t>(set.info.index));
    ASSERT_LE(set.signals.size(), original.signals.size());
    for (std::size_t i = 0; i < set.signals.size(); ++i) {
      ASSERT_EQ(set.signals.torque[i], original.signals.torque[i])
          << "set " << set.info.index << " row " << i;
      ASSERT_EQ(set.signals.time[i], original.signals.time[i]);
    }
  }
}

TEST_F(FileCommands, RepairOfAFileCutShortKeepsEverySetBeforeTheCut) {
  const Session written = four_long_sets();
  const fs::path whole = dir_ / "whole.h5";
  write_session(whole, written);
  const auto size = fs::file_size(whole);
  const fs::path cut = dir_ / "cut.h5";
  fs::copy_file(whole, cut);
  fs::resize_file(cut, size * 88 / 100);  // inside the last set's samples
  const auto before = checksum_of(cut);

  const fs::path repaired = dir_ / "repaired.h5";
  const CommandResult r = run("repair '" + cut.string() + "' --out '" + repaired.string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("recovered 3 set(s), 60000 samples"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cut short"), std::string::npos) << r.out;
  EXPECT_EQ(checksum_of(cut), before) << "the original was modified";
  const Session s = read_session(repaired);
  ASSERT_EQ(s.sets.size(), 3u) << r.out;
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(s.sets[k].info.index, static_cast<int>(k));
    EXPECT_EQ(s.sets[k].signals.torque, written.sets[k].signals.torque) << k;
  }
}

// Wherever the file is cut, what salvage keeps is what was recorded: whole sets, or the first
// rows of one (those whose chunks all lie before the cut), never the zeros read past the end.
TEST_F(FileCommands, SalvageOfAFileCutAnywhereKeepsOnlyRecordedRows) {
  const Session written = four_long_sets();
  const fs::path whole = dir_ / "whole.h5";
  write_session(whole, written);
  const auto size = fs::file_size(whole);
  std::size_t partial_sets = 0;
  for (int percent = 76; percent <= 99; ++percent) {
    const fs::path cut = dir_ / ("cut-" + std::to_string(percent) + ".h5");
    fs::copy_file(whole, cut);
    fs::resize_file(cut, size * static_cast<std::uintmax_t>(percent) / 100);
    const SalvagedSession salvaged = salvage_session(cut);
    SCOPED_TRACE(percent);
    ASSERT_GE(salvaged.session.sets.size(), 3u);
    expect_recovered_as_written(salvaged.session, written);
    for (const RecordedSet& set : salvaged.session.sets) {
      if (set.signals.size() < 20000) {
        ++partial_sets;
        EXPECT_FALSE(set.stats.complete);
        EXPECT_EQ(set.stats.sample_count, set.signals.size());
      }
    }
  }
  EXPECT_GT(partial_sets, 0u) << "no cut fell between the chunks of a set";
}

TEST_F(FileCommands, RepairKeepsASetWhoseLabelCannotBeRead) {
  const fs::path damaged = dir_ / "damaged.h5";
  write_session(damaged, three_set_session());
  {
    // The label attribute of set 1 becomes a number: no string can be read from it.
    const hid_t file = H5Fopen(damaged.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const hid_t set = H5Gopen2(file, "/sets/set_001", H5P_DEFAULT);
    ASSERT_GE(H5Adelete(set, "label"), 0);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t label = H5Acreate2(set, "label", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
    const int number = 7;
    ASSERT_GE(H5Awrite(label, H5T_NATIVE_INT, &number), 0);
    H5Aclose(label);
    H5Sclose(space);
    H5Gclose(set);
    ASSERT_GE(H5Fclose(file), 0);
  }
  const fs::path repaired = dir_ / "repaired.h5";
  const CommandResult r =
      run("repair '" + damaged.string() + "' --out '" + repaired.string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;  // the label was lost
  EXPECT_NE(r.out.find("recovered 3 set(s), 600 samples"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("attribute 'label' of /sets/set_001"), std::string::npos) << r.out;
  const Session s = read_session(repaired);
  ASSERT_EQ(s.sets.size(), 3u);
  EXPECT_EQ(s.sets[1].info.label, "");
  EXPECT_EQ(s.sets[1].signals.torque[10], 20.0);
}

// A recording killed while its file was open outside SWMR mode (here: while the second set's
// end-of-set attributes were being written) reads with every command, and its repair with h5py.
TEST_F(FileCommands, EveryCommandReadsARecordingKilledOutsideSwmrMode) {
  const fs::path killed = dir_ / "killed.h5";
  ::setenv("ISOKIN_TEST_KILL_AT", "end-set:2", 1);
  const CommandResult demo = run("demo --out '" + killed.string() + "' --seed 1");
  ::unsetenv("ISOKIN_TEST_KILL_AT");
  ASSERT_NE(demo.exit_code, 0) << "the demo should have been killed: " << demo.out;
  ASSERT_TRUE(fs::exists(killed));
  const auto before = checksum_of(killed);

  const CommandResult info = run("info '" + killed.string() + "'");
  EXPECT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("sets         2"), std::string::npos) << info.out;
  const CommandResult analyze = run("analyze '" + killed.string() + "' --json");
  EXPECT_EQ(analyze.exit_code, 0) << analyze.err;
  const fs::path repaired = dir_ / "repaired.h5";
  const CommandResult repair =
      run("repair '" + killed.string() + "' --out '" + repaired.string() + "'");
  EXPECT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  EXPECT_NE(repair.out.find("recovered 2 set(s)"), std::string::npos) << repair.out;
  EXPECT_EQ(checksum_of(killed), before) << "reading modified the original";

  const Session s = read_session(repaired);
  ASSERT_EQ(s.sets.size(), 2u);
  EXPECT_TRUE(s.sets[0].stats.complete);
  EXPECT_GT(s.sets[1].signals.size(), 1000u);  // all its samples were flushed before end_set
  if (std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") == 0) {
    const std::string script =
        "import sys, h5py\n"
        "f = h5py.File(sys.argv[1], 'r')\n"
        "print(len(f['sets/set_000/torque']), len(f['sets/set_001/torque']))\n";
    const CommandResult py =
        run_shell("/usr/bin/python3 -c \"" + script + "\" '" + repaired.string() + "'");
    EXPECT_EQ(py.exit_code, 0) << py.err;
    EXPECT_EQ(py.out, std::to_string(s.sets[0].signals.size()) + " " +
                          std::to_string(s.sets[1].signals.size()) + "\n");
  }
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
