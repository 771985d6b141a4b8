// Issue 19 ("Nothing lost, nothing leaked"), items 1, 6, 9 and the tiny disk of 13, on the real
// `isokin` in child processes: a recording never overwrites a file and locks its own; no
// command's temporary file can destroy one; a closed progress pipe never stops a recording; a
// disk too small says how much space the writer needs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "isokin/acquisition/session_file.h"
#include "support/child_process.h"
#include "support/cli_runner.h"

namespace {

namespace fs = std::filesystem;
using isokin::test::ChildProcess;
using isokin::test::CommandResult;
using isokin::test::slurp;

class RecordingSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-safety-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }
  [[nodiscard]] std::string quoted(const std::string& name) const { return "'" + path(name) + "'"; }
  CommandResult run(const std::string& args) const {
    return isokin::test::run_cli(args, dir_ / "stderr.txt");
  }
  // One right-knee concentric set of `repetitions` at 60 °/s, no positioning time.
  [[nodiscard]] std::string write_protocol(int repetitions) const {
    const std::string file = path("one-set.json");
    std::ofstream(file) << R"({"schema": "isokin-protocol", "schema_version": 1,
      "name": "one-set", "joint": "knee", "sides": ["right"],
      "range_of_motion_deg": {"min": 5, "max": 95}, "positioning_s": 0,
      "sets": [{"mode": "concentric/concentric", "velocity_deg_s": 60, "repetitions": )"
                        << repetitions << "}]}";
    return file;
  }
  // Names in the test's folder that a command left behind as temporaries.
  [[nodiscard]] std::vector<std::string> leftover_temporaries() const {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const std::string name = entry.path().filename().string();
      if (name.find(".partial-") != std::string::npos) found.push_back(name);
    }
    return found;
  }

  fs::path dir_;
};

// Issue 19.1: `demo` and `run` refuse any existing --out, in one line, and leave it as it was.
TEST_F(RecordingSafety, RunAndDemoRefuseAnExistingOut) {
  const std::string notes = "the physiotherapist's notes, not a session file\n";
  std::ofstream(path("notes.h5")) << notes;
  const CommandResult demo = run("demo --seed 1 --out " + quoted("notes.h5"));
  EXPECT_EQ(demo.exit_code, 1);
  EXPECT_EQ(demo.err, "isokin: " + path("notes.h5") +
                          " exists: a recording never overwrites a file; give a new name\n");
  const CommandResult recording =
      run("run knee-60-180-bilateral --device sim --fast --subject S1 "
          "--body-mass 70 --out " +
          quoted("notes.h5") + " </dev/null");
  EXPECT_EQ(recording.exit_code, 1);
  EXPECT_EQ(recording.err, demo.err);
  EXPECT_EQ(slurp(path("notes.h5")), notes);

  // A previous session is kept byte for byte.
  ASSERT_EQ(run("demo --seed 2 --out " + quoted("first.h5")).exit_code, 0);
  const std::string first = slurp(path("first.h5"));
  EXPECT_EQ(run("demo --seed 3 --out " + quoted("first.h5")).exit_code, 1);
  EXPECT_TRUE(slurp(path("first.h5")) == first) << "first.h5 changed";  // not printed: binary
}

// Issue 19.1: a second recording on the file of one still recording refuses (it is locked) and
// the first records on, untouched.
TEST_F(RecordingSafety, ASecondRecordingOnAFileBeingRecordedRefusesAndTheFirstGoesOn) {
  const std::string protocol = write_protocol(20);  // about 70 s in real time: aborted below
  ChildProcess first({"run", protocol, "--device", "sim", "--subject", "FIRST", "--body-mass", "70",
                      "--out", path("shared.h5")},
                     dir_ / "first-stderr.txt");
  ASSERT_TRUE(first.started());
  ASSERT_TRUE(first.wait_for("rep 1/20", 60.0)) << first.output();  // recording its set

  const CommandResult second =
      run("run " + protocol + " --device sim --fast --subject SECOND --body-mass 70 --out " +
          quoted("shared.h5") + " </dev/null");
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_EQ(second.err, "isokin: " + path("shared.h5") +
                            " is being recorded right now by another program; give a new name\n");

  ASSERT_TRUE(first.wait_for("rep 2/20", 60.0)) << first.output();  // still recording
  ASSERT_TRUE(first.type("q"));
  EXPECT_EQ(first.wait(), 130) << slurp(dir_ / "first-stderr.txt");
  const auto session = isokin::acquisition::read_session(path("shared.h5"));
  EXPECT_EQ(session.info.subject.id, "FIRST");
  ASSERT_EQ(session.sets.size(), 1U);
  EXPECT_GT(session.sets[0].signals.size(), 2000U);  // over a second at 2000 Hz
  EXPECT_EQ(session.sets[0].stats.sample_count, session.sets[0].signals.size());
  EXPECT_FALSE(session.complete);
}

// Issue 19.6: the output's temporary is a new, unique file: neither the input of
// `repair X.partial --out X` nor an existing OUT.partial is ever written or removed.
TEST_F(RecordingSafety, TemporaryFilesNeverDestroyAFile) {
  ASSERT_EQ(run("demo --seed 4 --out " + quoted("rec.h5.partial")).exit_code, 0);
  const std::string original = slurp(path("rec.h5.partial"));

  const CommandResult repair =
      run("repair " + quoted("rec.h5.partial") + " --out " + quoted("rec.h5"));
  EXPECT_EQ(repair.exit_code, 0) << repair.err;
  EXPECT_TRUE(slurp(path("rec.h5.partial")) == original) << "the input changed or is gone";
  EXPECT_EQ(isokin::acquisition::read_session(path("rec.h5")).sets.size(),
            6U);  // 2 gravity trials, 4 test sets

  const std::string precious = "someone's file that happens to end in .partial\n";
  for (const char* name : {"anon.h5.partial", "results.csv.partial", "summary.csv.partial"}) {
    std::ofstream(path(name)) << precious;
  }
  const CommandResult anonymize =
      run("anonymize " + quoted("rec.h5") + " --subject P-1 --out " + quoted("anon.h5"));
  EXPECT_EQ(anonymize.exit_code, 0) << anonymize.err;
  EXPECT_EQ(isokin::acquisition::read_session(path("anon.h5")).info.subject.id, "P-1");

  fs::create_directories(dir_ / "sessions");
  fs::copy_file(path("rec.h5"), dir_ / "sessions" / "rec.h5");
  const CommandResult batch =
      run("batch " + quoted("sessions") + " --out " + quoted("results.csv"));
  EXPECT_EQ(batch.exit_code, 0) << batch.err;
  const CommandResult cohort =
      run("cohort " + quoted("results.csv") + " --by side --out " + quoted("summary.csv"));
  EXPECT_EQ(cohort.exit_code, 0) << cohort.err;
  EXPECT_NE(slurp(path("summary.csv")).find("mean"), std::string::npos);

  for (const char* name : {"anon.h5.partial", "results.csv.partial", "summary.csv.partial"}) {
    EXPECT_EQ(slurp(path(name)), precious) << name;
  }
  EXPECT_EQ(leftover_temporaries(), std::vector<std::string>());
}

// Issue 19.9: the reader of the progress output goes away (`isokin run … | head -1`): the
// recording goes on to its end, the file is complete, and standard error says what was lost.
TEST_F(RecordingSafety, AClosedProgressPipeNeverStopsTheRecording) {
  ChildProcess run({"run", "knee-60-180-bilateral", "--device", "sim", "--fast", "--subject", "S1",
                    "--body-mass", "70", "--out", path("piped.h5")},
                   dir_ / "stderr.txt");
  ASSERT_TRUE(run.started());
  ASSERT_TRUE(run.wait_for("\n", 60.0));  // the first line, as `head -1` reads it
  run.close_output();
  EXPECT_EQ(run.wait(), 0) << slurp(dir_ / "stderr.txt");
  const auto session = isokin::acquisition::read_session(path("piped.h5"));
  EXPECT_TRUE(session.complete);
  ASSERT_EQ(session.sets.size(), 6U);  // 2 gravity trials, 4 test sets
  for (const auto& set : session.sets) {
    EXPECT_TRUE(set.stats.complete) << set.info.index << ": " << set.stats.end_reason;
  }
  EXPECT_NE(slurp(dir_ / "stderr.txt").find("progress output could not be written"),
            std::string::npos);
}

// Issue 19.13: on a 3 MiB file system the writer cannot reserve what it needs before a set;
// the error says how much it needs and how much is free. Needs an unprivileged mount namespace
// (unshare -rm, util-linux) for a real small tmpfs; skipped where there is none.
TEST_F(RecordingSafety, ATinyDiskSaysHowMuchSpaceTheWriterNeeds) {
  if (std::system("unshare -rm true >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "no unprivileged mount namespace (unshare -rm) for a small file system";
  }
  fs::create_directories(dir_ / "tiny");
  const std::string script = "mount -t tmpfs -o size=3m tmpfs " + quoted("tiny") +
                             " && exec '" ISOKIN_CLI_PATH "' run " + write_protocol(3) +
                             " --device sim --fast --subject S1 --body-mass 70 --out " +
                             quoted("tiny/small.h5") + " </dev/null";
  const std::string command = "unshare -rm sh -c \"" + script + "\" 2>" + quoted("stderr.txt");
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string err = slurp(dir_ / "stderr.txt");
  EXPECT_NE(err.find("No space left on device"), std::string::npos) << err;
  EXPECT_NE(err.find("needs 4.0 MiB free"), std::string::npos) << err;
  EXPECT_NE(err.find("MiB free on the file system"), std::string::npos) << err;
}

}  // namespace
