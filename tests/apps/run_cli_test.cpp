// `isokin run` and `isokin protocols` as an operator uses them, in real child processes:
// every shipped protocol, a real-time run, Ctrl-C, and SIGKILL mid-set with the file read back
// by the C++ reader and by h5py.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <termios.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "isokin/acquisition/protocol.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
namespace drivers = isokin::drivers;
using Clock = std::chrono::steady_clock;

const fs::path kShipped = fs::path(ISOKIN_SOURCE_DIR) / "protocols";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A running `isokin` whose stdout is read line by line.
class Child {
 public:
  // file_size_limit: bytes the child may make any file (0 = no limit); writes beyond fail with
  // EFBIG, as they fail with ENOSPC on a full disk.
  Child(const std::vector<std::string>& args, const fs::path& stderr_file,
        const std::vector<std::string>& env = {}, rlim_t file_size_limit = 0) {
    int fds[2];
    int input[2];
    if (::pipe(fds) != 0 || ::pipe(input) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::dup2(input[0], STDIN_FILENO);
      ::close(input[0]);
      ::close(input[1]);
      const int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(err, STDERR_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
      if (file_size_limit > 0) {
        ::signal(SIGXFSZ, SIG_IGN);  // inherited through exec: EFBIG instead of a signal
        const rlimit limit{file_size_limit, file_size_limit};
        ::setrlimit(RLIMIT_FSIZE, &limit);
      }
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(ISOKIN_CLI_PATH));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(ISOKIN_CLI_PATH, argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    ::close(input[0]);
    out_ = fds[0];
    in_ = input[1];
  }
  ~Child() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (out_ >= 0) ::close(out_);
    if (in_ >= 0) ::close(in_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Reads until a line containing text arrives (true) or the child ends or 120 s pass (false).
  bool wait_for(const std::string& text) {
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (Clock::now() < deadline) {
      if (output_.find(text) != std::string::npos) return true;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(out_, buffer, sizeof buffer);
      if (n <= 0) return output_.find(text) != std::string::npos;
      output_.append(buffer, static_cast<std::size_t>(n));
    }
    return false;
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  // Types a line on the child's standard input.
  void type(const std::string& line) const {
    const std::string text = line + "\n";
    EXPECT_EQ(::write(in_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  // Exit code, or 128 + signal.
  int wait() {
    if (in_ >= 0) ::close(in_);  // end of operator input
    in_ = -1;
    wait_for("\x01never");  // drain stdout to EOF
    int status = 0;
    ::waitpid(pid_, &status, 0);
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  [[nodiscard]] const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int in_ = -1;
  bool waited_ = false;
  std::string output_;
};

class RunCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-run-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int run(const std::vector<std::string>& args, std::string* out = nullptr,
          std::string* err = nullptr, const std::vector<std::string>& env = {}) {
    Child child(args, dir_ / "stderr.txt", env);
    const int code = child.wait();
    if (out != nullptr) *out = child.output();
    if (err != nullptr) *err = slurp(dir_ / "stderr.txt");
    return code;
  }

  // One right-knee concentric set, no gravity trial, no positioning time.
  fs::path write_protocol(const std::string& name, int repetitions, double velocity) {
    const fs::path path = dir_ / (name + ".json");
    std::ofstream(path) << R"({"schema": "isokin-protocol", "schema_version": 1, "name": ")" << name
                        << R"(", "joint": "knee", "sides": ["right"],
      "range_of_motion_deg": {"min": 5, "max": 95}, "positioning_s": 0,
      "sets": [{"mode": "concentric/concentric", "velocity_deg_s": )"
                        << velocity << R"(, "repetitions": )" << repetitions << "}]}";
    return path;
  }

  // What the simulator produces for that set with that seed.
  static std::vector<drivers::Sample> simulated(std::uint64_t seed, int repetitions,
                                                double velocity) {
    drivers::SimulationSettings settings;
    settings.seed = seed;
    drivers::MotionSetpoint sp;
    sp.repetitions = repetitions;
    sp.extension_velocity = sp.flexion_velocity = velocity;
    return drivers::simulate_set(settings, sp);
  }

  static void expect_prefix_of(const SetSignals& got, const std::vector<drivers::Sample>& all) {
    ASSERT_LE(got.size(), all.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got.time[i], all[i].time) << i;
      ASSERT_EQ(got.torque[i], all[i].torque) << i;
      ASSERT_EQ(got.angle[i], all[i].angle) << i;
      ASSERT_EQ(got.velocity[i], all[i].velocity) << i;
      ASSERT_EQ(got.status[i], all[i].status) << i;
    }
  }

  fs::path dir_;
};

TEST_F(RunCli, ProtocolsListsTheShippedAndTheUsersProtocols) {
  const fs::path user = dir_ / "mine";
  fs::create_directories(user);
  fs::copy_file(write_protocol("my-quick-test", 1, 180), user / "my-quick-test.json");
  std::ofstream(user / "broken.json") << "{\"schema\": ";
  std::string out;
  ASSERT_EQ(run({"protocols"}, &out, nullptr, {"ISOKIN_PROTOCOL_PATH=" + user.string()}), 0);
  for (const auto& entry : fs::directory_iterator(kShipped)) {
    EXPECT_NE(out.find(entry.path().stem().string()), std::string::npos) << out;
  }
  EXPECT_NE(out.find(user.string() + " (user)"), std::string::npos) << out;
  EXPECT_NE(out.find("my-quick-test"), std::string::npos) << out;
  EXPECT_NE(out.find("broken"), std::string::npos) << out;
  EXPECT_NE(out.find("INVALID"), std::string::npos) << out;
  EXPECT_NE(out.find("(shipped)"), std::string::npos) << out;
}

TEST_F(RunCli, EveryShippedProtocolRunsOnTheSimulator) {
  for (const auto& entry : fs::directory_iterator(kShipped)) {
    const std::string name = entry.path().stem().string();
    const fs::path file = dir_ / (name + ".h5");
    std::string out;
    std::string err;
    ASSERT_EQ(run({"run", name, "--fast", "--out", file.string(), "--subject", "S-1", "--body-mass",
                   "75"},
                  &out, &err),
              0)
        << name << "\n"
        << err << out;
    EXPECT_NE(out.find("Session complete"), std::string::npos) << out;
    const Session session = read_session(file);
    const auto plan = plan_protocol(load_protocol(entry.path()));
    EXPECT_TRUE(session.complete) << name;
    EXPECT_EQ(session.info.protocol_name, name);
    ASSERT_EQ(session.sets.size(), plan.size()) << name;
    for (std::size_t i = 0; i < plan.size(); ++i) {
      const auto& set = session.sets[i];
      EXPECT_TRUE(set.stats.complete) << name << " set " << i;
      EXPECT_EQ(set.info.kind, plan[i].info.kind);
      EXPECT_EQ(set.info.setpoint.mode, plan[i].info.setpoint.mode);
      EXPECT_EQ(set.info.setpoint.joint, plan[i].info.setpoint.joint);
      EXPECT_EQ(set.info.setpoint.side, plan[i].info.setpoint.side);
      ASSERT_EQ(set.stats.consumers.size(), 3u);  // recorder, analyser, progress
      for (const auto& c : set.stats.consumers) EXPECT_EQ(c.dropped, 0u) << c.name;
    }
    // Live per-repetition results, efforts included, and the analysis of every set.
    EXPECT_NE(out.find("rep  1 extension"), std::string::npos) << name << "\n" << out;
    if (name.find("trunk") != std::string::npos) {
      for (const auto& set : session.sets) EXPECT_EQ(set.info.setpoint.side, drivers::Side::kNone);
    }
    std::string analysis;
    ASSERT_EQ(run({"analyze", file.string(), "--json"}, &analysis), 0) << name;
    const auto doc = nlohmann::json::parse(analysis);
    for (const auto& set : doc["sets"]) {
      if (set["kind"] != "test") continue;
      EXPECT_GT(set["extension"]["repetitions"].size(), 0u) << name << " set " << set["set_index"];
      EXPECT_GT(set["flexion"]["repetitions"].size(), 0u) << name << " set " << set["set_index"];
      if (name.find("isometric") != std::string::npos) {
        EXPECT_TRUE(set.contains("hq_isometric")) << name;
        EXPECT_EQ(set["extension"]["repetitions"][0]["contraction"], "isometric");
      }
    }
  }
}

// The live per-repetition lines equal `isokin analyze` of the recorded file, including the
// gravity correction taken from the protocol's passive trial.
TEST_F(RunCli, LiveResultsEqualTheOfflineAnalysisOfTheFile) {
  const fs::path file = dir_ / "live.h5";
  std::string out;
  ASSERT_EQ(run({"run", "knee-60-180-300-concentric", "--side", "right", "--fast", "--out",
                 file.string(), "--subject", "S-1", "--body-mass", "75"},
                &out),
            0);
  EXPECT_NE(out.find("gravity trial: limb moment"), std::string::npos) << out;
  std::multiset<std::string> live;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find("peak ");
    double peak = 0.0;
    double angle = 0.0;
    double work = 0.0;
    if (at == std::string::npos ||
        std::sscanf(line.c_str() + at, "peak %lf N·m at %lf°, work %lf J", &peak, &angle, &work) !=
            3) {
      continue;
    }
    char normalised[96];
    std::snprintf(normalised, sizeof normalised, "%.1f|%.0f|%.1f", peak, angle, work);
    live.insert(normalised);
  }
  std::string json;
  ASSERT_EQ(run({"analyze", "--json", file.string()}, &json), 0);
  const auto j = nlohmann::json::parse(json);
  std::multiset<std::string> offline;
  for (const auto& set : j["sets"]) {
    EXPECT_EQ(set["gravity"]["mode"], "from-trial") << set.dump();
    for (const char* movement : {"extension", "flexion"}) {
      for (const auto& r : set[movement]["repetitions"]) {
        char line[96];
        std::snprintf(line, sizeof line, "%.1f|%.0f|%.1f", r["peak_torque_nm"].get<double>(),
                      r["angle_at_peak_deg"].get<double>(), r["work_j"].get<double>());
        offline.insert(line);
      }
    }
  }
  EXPECT_GT(offline.size(), 20u);
  EXPECT_EQ(live, offline);
}

TEST_F(RunCli, RealTimeRunPacesToTheDeviceAndPrintsResultsAsTheyCome) {
  const fs::path protocol = write_protocol("quick", 1, 180);
  const fs::path file = dir_ / "quick.h5";
  std::string out;
  std::string err;
  ASSERT_EQ(run({"run", protocol.string(), "--out", file.string(), "--subject", "S-2"}, &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("rep  1 extension quadriceps concentric"), std::string::npos) << out;
  EXPECT_NE(out.find("rep  1 flexion   hamstrings concentric"), std::string::npos) << out;
  EXPECT_NE(out.find("Session complete"), std::string::npos) << out;
  const Session session = read_session(file);
  ASSERT_TRUE(session.complete);
  ASSERT_EQ(session.sets.size(), 1u);
  // Paced: the set took at least as long on the host clock as the device's own time says.
  double start = -1;
  double end = -1;
  for (const auto& e : session.events) {
    if (e.kind == "set-start") start = e.time;
    if (e.kind == "set-end") end = e.time;
  }
  ASSERT_GE(start, 0.0);
  ASSERT_GT(end, start);
  EXPECT_GE(end - start, session.sets[0].signals.time.back());
}

TEST_F(RunCli, CtrlCEndsCleanlyWithTheFileClosedAndMarkedIncomplete) {
  const fs::path protocol = write_protocol("long", 10, 60);
  const fs::path file = dir_ / "interrupted.h5";
  Child child({"run", protocol.string(), "--out", file.string(), "--seed", "3"},
              dir_ / "stderr.txt");
  ASSERT_TRUE(child.wait_for("set 1/1")) << child.output();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  child.signal(SIGINT);
  EXPECT_EQ(child.wait(), 130) << child.output() << slurp(dir_ / "stderr.txt");
  EXPECT_NE(child.output().find("marked incomplete"), std::string::npos) << child.output();

  // Closed with the set ended as aborted; the session is marked incomplete.
  const Session session = read_session(file);
  EXPECT_FALSE(session.complete);
  ASSERT_EQ(session.sets.size(), 1u);
  EXPECT_FALSE(session.sets[0].stats.complete);
  EXPECT_EQ(session.sets[0].stats.end_reason, "aborted");
  EXPECT_GT(session.sets[0].signals.size(), 1000u);
  expect_prefix_of(session.sets[0].signals, simulated(3, 10, 60));
  EXPECT_EQ(session.events.back().kind, "abort");

  std::string out;
  ASSERT_EQ(run({"info", file.string()}, &out), 0);
  EXPECT_NE(out.find("INCOMPLETE"), std::string::npos) << out;
  ASSERT_EQ(run({"analyze", file.string()}, &out), 0);
  EXPECT_NE(out.find("interrupted"), std::string::npos) << out;
}

TEST_F(RunCli, OperatorCommandsOnStandardInputMarkPauseAndRedoTheSet) {
  const fs::path protocol = write_protocol("redo", 2, 180);
  const fs::path file = dir_ / "redo.h5";
  Child child({"run", protocol.string(), "--out", file.string(), "--seed", "4"},
              dir_ / "stderr.txt");
  ASSERT_TRUE(child.wait_for("set 1/1")) << child.output();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  child.type("m heel lifted");
  child.type("r");  // redo: the set stops and is recorded again
  ASSERT_TRUE(child.wait_for("attempt 2")) << child.output();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  child.type("p");  // pause mid-set: the set stops, and is redone after "c"
  ASSERT_TRUE(child.wait_for("paused")) << child.output();
  child.type("c");
  ASSERT_TRUE(child.wait_for("Session complete")) << child.output();
  EXPECT_EQ(child.wait(), 0) << slurp(dir_ / "stderr.txt");

  const Session session = read_session(file);
  EXPECT_TRUE(session.complete);
  ASSERT_EQ(session.sets.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(session.sets[i].info.attempt, i + 1);
  EXPECT_EQ(session.sets[0].stats.end_reason, "stopped by the operator to redo the set");
  EXPECT_EQ(session.sets[1].stats.end_reason, "paused by the operator (set redone)");
  EXPECT_TRUE(session.sets[2].stats.complete);
  std::vector<std::string> kinds;
  for (const auto& e : session.events) {
    kinds.push_back(e.kind);
    if (e.kind == "mark") {
      EXPECT_EQ(e.detail, "heel lifted");
      EXPECT_EQ(e.set_index, 0);
    }
  }
  for (const char* kind : {"mark", "redo-set", "pause", "resume"}) {
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), kind), kinds.end()) << kind;
  }
}

// A device that only measures (a Biodex's analog outputs read by the lab's ADC board over a
// serial line) never ends a set itself: the live analysis ends it once the planned repetitions
// are recorded, and the session goes on to the next set and completes.
TEST_F(RunCli, AMeasuringOnlyDeviceSetEndsWhenThePlannedRepetitionsAreRecorded) {
  int master = -1;
  int slave = -1;
  std::array<char, 128> name{};
  ASSERT_EQ(::openpty(&master, &slave, name.data(), nullptr, nullptr), 0);
  termios raw{};
  ::tcgetattr(slave, &raw);
  ::cfmakeraw(&raw);
  ::tcsetattr(slave, TCSANOW, &raw);
  const fs::path protocol = write_protocol("two-reps", 2, 180);
  const fs::path file = dir_ / "serial.h5";
  Child child({"run", protocol.string(), "--device", "serial", "--port", name.data(), "--profile",
               "biodex2-adc", "--out", file.string()},
              dir_ / "stderr.txt");
  ASSERT_TRUE(child.wait_for("set 1/1")) << child.output() << slurp(dir_ / "stderr.txt");
  // The simulator's set at the board's 1 kHz, as the board's counts (the lab's calibration,
  // inverted; extension torque negative on that board), then the lever resting for 5 s more.
  drivers::SimulationSettings settings;
  settings.sample_rate_hz = 1000.0;
  drivers::MotionSetpoint sp;
  sp.repetitions = 2;
  sp.extension_velocity = sp.flexion_velocity = 180.0;
  std::vector<drivers::Sample> samples = drivers::simulate_set(settings, sp);
  for (int i = 0; i < 5000; ++i) samples.push_back({0.0, 0.0, samples.back().angle, 0.0, 0});
  std::string frames;
  for (const auto& s : samples) {
    const auto count = [](double value) { return std::clamp<long>(std::lround(value), 0, 9999); };
    frames += fmt::format("{:04d};{:04d};{:04d};\r\n", count((-s.torque + 552.0) / 1.04),
                          count((s.velocity + 459.0) / 0.883), count((s.angle + 99.3) / 0.363));
  }
  // Non-blocking, so a reader that stopped (the set ended, or the program failed) cannot hang
  // the test on a full terminal buffer.
  ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
  // Ten frames per millisecond, faster than the board: the driver's time comes from the frame
  // count, not the clock. A terminal nobody drains for 2 s means the set is over.
  std::size_t written = 0;
  auto last_progress = Clock::now();
  while (written < frames.size() && Clock::now() - last_progress < std::chrono::seconds(2)) {
    const ssize_t n = ::write(master, frames.data() + written,
                              std::min<std::size_t>(180, frames.size() - written));
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      last_progress = Clock::now();
    }
    if (n < 0 && errno != EAGAIN) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(child.wait_for("Session complete")) << child.output() << slurp(dir_ / "stderr.txt");
  EXPECT_EQ(child.wait(), 0);
  ::close(master);
  ::close(slave);
  const Session session = read_session(file);
  EXPECT_TRUE(session.complete);
  ASSERT_EQ(session.sets.size(), 1u);
  EXPECT_TRUE(session.sets[0].stats.complete);
  EXPECT_EQ(session.sets[0].stats.end_reason, "planned repetitions recorded");
  // Ended within the rest that followed the second flexion, long before the frames ran out.
  EXPECT_LT(session.sets[0].signals.size(), samples.size());
  EXPECT_NE(child.output().find("rep  2 flexion"), std::string::npos) << child.output();
}

TEST_F(RunCli, KilledMidSetLosesAtMostTheLastSecond) {
  const fs::path protocol = write_protocol("long", 10, 60);
  const fs::path file = dir_ / "killed.h5";
  constexpr double kRate = 2000.0;  // the simulator's default
  Child child({"run", protocol.string(), "--out", file.string(), "--seed", "11"},
              dir_ / "stderr.txt");
  ASSERT_TRUE(child.wait_for("set 1/1")) << child.output();
  const auto set_started = Clock::now();  // the device starts just after this line
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  child.type("m knee pain");  // an event of the set being killed: flushed with its samples
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  const double killed_after = std::chrono::duration<double>(Clock::now() - set_started).count();
  child.signal(SIGKILL);
  EXPECT_EQ(child.wait(), 128 + SIGKILL);

  const Session session = read_session(file);
  EXPECT_FALSE(session.complete);
  ASSERT_EQ(session.sets.size(), 1u);
  const SetSignals& got = session.sets[0].signals;
  EXPECT_FALSE(session.sets[0].stats.complete);
  // At most the last second is missing; nothing beyond what the device had produced.
  EXPECT_GE(static_cast<double>(got.size()), (killed_after - 1.0) * kRate) << killed_after;
  EXPECT_LE(static_cast<double>(got.size()), killed_after * kRate + 1);
  expect_prefix_of(got, simulated(11, 10, 60));
  const auto mark = std::find_if(session.events.begin(), session.events.end(),
                                 [](const auto& e) { return e.kind == "mark"; });
  ASSERT_NE(mark, session.events.end()) << "the operator's mark 2 s before the kill was lost";
  EXPECT_EQ(mark->detail, "knee pain");
  EXPECT_EQ(mark->set_index, 0);

  // h5py, SWMR: the same rows, by the documented rule min(lengths, flushed_rows).
  const std::string command =
      "/usr/bin/python3 -c \"import sys, h5py\n"
      "f = h5py.File(sys.argv[1], 'r', swmr=True)\n"
      "s = f['sets/set_000']\n"
      "n = min([len(s[c]) for c in ('time', 'torque', 'angle', 'velocity', 'status')] + "
      "[int(s['flushed_rows'][()])])\n"
      "print(n, repr(float(s['torque'][n - 1])), int(f.attrs['complete']))\n\" '" +
      file.string() + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::array<char, 256> line{};
  const bool read_line = std::fgets(line.data(), line.size(), pipe) != nullptr;
  ASSERT_EQ(::pclose(pipe), 0);
  ASSERT_TRUE(read_line);
  std::istringstream fields(line.data());
  std::size_t rows = 0;
  double last_torque = 0.0;
  int complete = -1;
  fields >> rows >> last_torque >> complete;
  EXPECT_EQ(rows, got.size());
  EXPECT_EQ(last_torque, got.torque.back());
  EXPECT_EQ(complete, 0);

  std::string out;
  ASSERT_EQ(run({"info", file.string()}, &out), 0);
  EXPECT_NE(out.find("INCOMPLETE"), std::string::npos) << out;
}

TEST_F(RunCli, FullDiskStopsWithAClearMessageAndKeepsWhatWasWritten) {
  // A short set, then one far bigger than the space left.
  const fs::path protocol = dir_ / "two-sets.json";
  std::ofstream(protocol) << R"({"schema": "isokin-protocol", "schema_version": 1,
    "name": "two-sets", "joint": "knee", "sides": ["right"], "positioning_s": 0,
    "range_of_motion_deg": {"min": 5, "max": 95},
    "sets": [{"mode": "concentric/concentric", "velocity_deg_s": 300, "repetitions": 1},
             {"mode": "concentric/concentric", "velocity_deg_s": 60, "repetitions": 100}]})";
  const fs::path file = dir_ / "full.h5";
  // Room for the first set and the writer's 4 MiB metadata reserve, not for the second set
  // (≈ 650 000 samples, 23 MB).
  Child child({"run", protocol.string(), "--fast", "--out", file.string(), "--seed", "5"},
              dir_ / "stderr.txt", {}, rlim_t{6} << 20);
  EXPECT_EQ(child.wait(), 1) << child.output();
  const std::string err = slurp(dir_ / "stderr.txt");
  EXPECT_NE(err.find(file.string()), std::string::npos) << err;
  EXPECT_NE(err.find("File too large"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(err.find("HDF5-DIAG"), std::string::npos) << err;

  const Session session = read_session(file);
  EXPECT_FALSE(session.complete);
  ASSERT_EQ(session.sets.size(), 2u);
  EXPECT_TRUE(session.sets[0].stats.complete);
  expect_prefix_of(session.sets[0].signals, simulated(5, 1, 300));
  EXPECT_EQ(session.sets[0].signals.size(), simulated(5, 1, 300).size());
  EXPECT_FALSE(session.sets[1].stats.complete);
}

TEST_F(RunCli, BadRequestsGetOneClearLineAndNoFile) {
  const fs::path file = dir_ / "never.h5";
  std::string err;
  {
    // A port another program listens on.
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 1), 0);
    socklen_t length = sizeof addr;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &length);
    const std::string port = std::to_string(ntohs(addr.sin_port));
    EXPECT_NE(run({"run", "knee-60-180-bilateral", "--out", file.string(), "--subject", "S",
                   "--body-mass", "70", "--stream", port},
                  nullptr, &err),
              0);
    ::close(listener);
    EXPECT_NE(err.find("127.0.0.1:" + port), std::string::npos) << err;
    EXPECT_NE(err.find("in use"), std::string::npos) << err;
  }

  EXPECT_NE(run({"run", "no-such-protocol", "--out", file.string()}, nullptr, &err), 0);
  EXPECT_NE(err.find("no-such-protocol"), std::string::npos) << err;
  EXPECT_NE(err.find(kShipped.string()), std::string::npos) << err;

  const fs::path broken = dir_ / "broken.json";
  std::ofstream(broken) << "{\n  \"schema\": \"isokin-protocol\",\n  \"sets\": [,]\n}";
  EXPECT_NE(run({"run", broken.string(), "--out", file.string()}, nullptr, &err), 0);
  EXPECT_NE(err.find(broken.string() + ":3:"), std::string::npos) << err;

  EXPECT_NE(
      run({"run", "knee-60-180-bilateral", "--fast", "--out", file.string(), "--subject", "S"},
          nullptr, &err),
      0);
  EXPECT_NE(err.find("--body-mass"), std::string::npos) << err;

  EXPECT_NE(run({"run", "trunk-flexion-extension", "--fast", "--out", file.string(), "--subject",
                 "S", "--body-mass", "70", "--side", "left"},
                nullptr, &err),
            0);
  EXPECT_NE(err.find("no sides"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(file));
}

// `isokin run --stream` end to end with the example client: the peak torque it prints for each
// repetition equals `isokin analyze` of the recorded file, and it receives every recorded sample.
TEST_F(RunCli, StreamServesTheLiveSessionToThePythonExampleClient) {
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  socklen_t length = sizeof addr;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(probe);  // a port that was free a moment ago
  const std::string port = std::to_string(ntohs(addr.sin_port));

  const std::string client_command = "/usr/bin/python3 '" + std::string(ISOKIN_SOURCE_DIR) +
                                     "/examples/stream_client.py' --wait 60 --port " + port +
                                     " 2>&1";
  FILE* client = ::popen(client_command.c_str(), "r");
  ASSERT_NE(client, nullptr);
  const fs::path file = dir_ / "streamed.h5";
  std::string out;
  const int code =
      run({"run", "knee-60-180-300-concentric", "--side", "right", "--fast", "--out", file.string(),
           "--subject", "S-9", "--body-mass", "75", "--stream", port, "--stream-wait", "1"},
          &out);
  std::string printed;
  char buffer[4096];
  for (std::size_t n = 0; (n = std::fread(buffer, 1, sizeof buffer, client)) > 0;) {
    printed.append(buffer, n);
  }
  const int client_status = ::pclose(client);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(client_status, 0) << printed;
  EXPECT_NE(out.find("Streaming live data on 127.0.0.1:" + port), std::string::npos) << out;
  EXPECT_NE(printed.find(R"("protocol": "isokin-stream")"), std::string::npos) << printed;
  EXPECT_NE(printed.find(R"("id": "S-9")"), std::string::npos) << printed;

  std::multiset<std::string> live;
  std::istringstream lines(printed);
  std::size_t received = 0;
  for (std::string line; std::getline(lines, line);) {
    std::sscanf(line.c_str(), "stream ended: %zu samples received", &received);
    const auto at = line.find("peak torque ");
    double peak = 0.0;
    double angle = 0.0;
    if (at == std::string::npos ||
        std::sscanf(line.c_str() + at, "peak torque %lf N·m at %lf°", &peak, &angle) != 2) {
      continue;
    }
    char normalised[64];
    std::snprintf(normalised, sizeof normalised, "%.1f|%.0f", peak, angle);
    live.insert(normalised);
  }
  std::string json;
  ASSERT_EQ(run({"analyze", "--json", file.string()}, &json), 0);
  std::multiset<std::string> offline;
  const auto analysis = nlohmann::json::parse(json);
  for (const auto& set : analysis["sets"]) {
    for (const char* movement : {"extension", "flexion"}) {
      for (const auto& r : set[movement]["repetitions"]) {
        char line[64];
        std::snprintf(line, sizeof line, "%.1f|%.0f", r["peak_torque_nm"].get<double>(),
                      r["angle_at_peak_deg"].get<double>());
        offline.insert(line);
      }
    }
  }
  EXPECT_GT(offline.size(), 20u);
  EXPECT_EQ(live, offline);

  const Session session = read_session(file);
  std::size_t recorded = 0;
  for (const auto& set : session.sets) recorded += set.signals.size();
  EXPECT_EQ(received, recorded);
  std::set<std::string> kinds;
  for (const auto& event : session.events) kinds.insert(event.kind);
  EXPECT_TRUE(kinds.contains("stream-client"));
  EXPECT_TRUE(kinds.contains("stream-stats"));
}

}  // namespace
