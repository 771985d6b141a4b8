// The protocol runner driving the real simulator into a real file: state sequence, events,
// abort, redo, pause, marks.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "isokin/acquisition/protocol_runner.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
using namespace isokin::drivers;

class ProtocolRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("isokin-runner-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static SessionInfo info(const Device& device) {
    SessionInfo i;
    i.created_utc = "2026-11-25T12:00:00Z";
    i.software = "isokin test";
    i.device = device.describe();
    return i;
  }

  // Runs plan on a simulator; request (if any) is called on another thread once the runner
  // reaches trigger_state.
  struct Outcome {
    RunnerState result = RunnerState::kIdle;
    std::vector<RunnerState> states;
    Session session;
  };
  Outcome run(const std::vector<PlannedSet>& plan, bool realtime, double time_scale,
              RunnerState trigger_state = RunnerState::kIdle,
              const std::function<void(ProtocolRunner&)>& request = {}) {
    SimulationSettings settings;
    settings.realtime = realtime;
    SimulatedDynamometer sim(settings);
    sim.open();
    const fs::path path = dir_ / "session.h5";
    Outcome outcome;
    std::mutex mutex;
    {
      SessionWriter writer(path, info(sim));
      FanOut fan_out;
      RunnerOptions options;
      options.time_scale = time_scale;
      options.acquisition.wait_when_full = !realtime;
      options.on_progress = [&](const RunnerProgress& p) {
        const std::lock_guard lock(mutex);
        if (outcome.states.empty() || outcome.states.back() != p.state) {
          outcome.states.push_back(p.state);
        }
      };
      ProtocolRunner runner(plan, sim, writer, fan_out, options);
      std::thread requester;
      if (request) {
        requester = std::thread([&] {
          while (runner.state() != trigger_state)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          request(runner);
        });
      }
      outcome.result = runner.run();
      if (requester.joinable()) requester.join();
      if (outcome.result == RunnerState::kDone) writer.finish();
    }
    outcome.session = read_session(path);
    return outcome;
  }

  static PlannedSet planned(int reps, double velocity, const char* kind, double rest,
                            bool starts_side = false) {
    PlannedSet p;
    p.info.setpoint.repetitions = reps;
    p.info.setpoint.extension_velocity = p.info.setpoint.flexion_velocity = velocity;
    p.info.setpoint.passive = std::string(kind) == kSetKindGravity;
    p.info.kind = kind;
    p.info.label = std::string(kind) + " " + std::to_string(static_cast<int>(velocity));
    p.rest_after = rest;
    p.starts_side = starts_side;
    return p;
  }

  static std::vector<std::string> kinds(const Session& s) {
    std::vector<std::string> k;
    for (const auto& e : s.events) k.push_back(e.kind);
    return k;
  }

  fs::path dir_;
};

TEST_F(ProtocolRunnerTest, RunsEverySetInOrderAndRecordsTheEvents) {
  const std::vector<PlannedSet> plan = {planned(1, 30, kSetKindGravity, 0.0, true),
                                        planned(2, 60, kSetKindWarmUp, 0.0),
                                        planned(3, 180, kSetKindTest, 0.0)};
  const Outcome o = run(plan, false, 0.0);
  EXPECT_EQ(o.result, RunnerState::kDone);
  EXPECT_EQ(o.states,
            (std::vector<RunnerState>{RunnerState::kPositioning, RunnerState::kGravityTrial,
                                      RunnerState::kRest, RunnerState::kSet, RunnerState::kRest,
                                      RunnerState::kSet, RunnerState::kRest, RunnerState::kDone}));
  EXPECT_TRUE(o.session.complete);
  ASSERT_EQ(o.session.sets.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& set = o.session.sets[i];
    EXPECT_EQ(set.info.index, static_cast<int>(i));
    EXPECT_EQ(set.info.kind, plan[i].info.kind);
    EXPECT_EQ(set.info.label, plan[i].info.label);
    EXPECT_EQ(set.info.attempt, 1);
    EXPECT_TRUE(set.stats.complete);
  }
  EXPECT_TRUE(o.session.sets[0].info.setpoint.passive);
  EXPECT_EQ(kinds(o.session),
            (std::vector<std::string>{"session-start", "positioning", "set-start", "clock",
                                      "set-end", "rest", "set-start", "clock", "set-end", "rest",
                                      "set-start", "clock", "set-end", "rest", "session-end"}));
  for (std::size_t i = 1; i < o.session.events.size(); ++i) {
    EXPECT_GE(o.session.events[i].time, o.session.events[i - 1].time);
  }
}

TEST_F(ProtocolRunnerTest, AbortMidSetEndsItAsAbortedAndLeavesTheSessionIncomplete) {
  const std::vector<PlannedSet> plan = {planned(3, 60, kSetKindTest, 0.0),
                                        planned(3, 60, kSetKindTest, 0.0)};
  const Outcome o =
      run(plan, true, 1.0, RunnerState::kSet, [](ProtocolRunner& r) { r.request_abort(); });
  EXPECT_EQ(o.result, RunnerState::kAborted);
  EXPECT_FALSE(o.session.complete);
  ASSERT_EQ(o.session.sets.size(), 1u);
  EXPECT_FALSE(o.session.sets[0].stats.complete);
  EXPECT_EQ(o.session.sets[0].stats.end_reason, "aborted");
  // Some samples, far fewer than a whole 3-repetition set at 60 °/s (> 9 s).
  EXPECT_GT(o.session.sets[0].signals.size(), 0u);
  EXPECT_LT(o.session.sets[0].signals.size(), 9u * 2000u);
  EXPECT_EQ(kinds(o.session).back(), "abort");
}

// A set ended on request as planned (what a measuring-only device needs) is complete, goes on
// to its rest and the next set, and is not redone.
TEST_F(ProtocolRunnerTest, EndingASetOnRequestCompletesItAndMovesOn) {
  const std::vector<PlannedSet> plan = {planned(3, 60, kSetKindTest, 0.0),
                                        planned(1, 300, kSetKindTest, 0.0)};
  const Outcome o = run(plan, true, 1.0, RunnerState::kSet, [](ProtocolRunner& r) {
    r.request_end_set("planned repetitions recorded");
  });
  EXPECT_EQ(o.result, RunnerState::kDone);
  EXPECT_TRUE(o.session.complete);
  ASSERT_EQ(o.session.sets.size(), 2u);
  EXPECT_TRUE(o.session.sets[0].stats.complete);
  EXPECT_EQ(o.session.sets[0].stats.end_reason, "planned repetitions recorded");
  EXPECT_EQ(o.session.sets[0].info.attempt, 1);
  EXPECT_LT(o.session.sets[0].signals.size(), 9u * 2000u);  // ended early, 0.3 s in
  EXPECT_TRUE(o.session.sets[1].stats.complete);
  EXPECT_EQ(o.session.sets[1].stats.end_reason, "end of stream");
  const auto k = kinds(o.session);
  EXPECT_EQ(std::find(k.begin(), k.end(), "redo-set"), k.end());
}

TEST_F(ProtocolRunnerTest, RedoDuringASetRecordsItAgainAsTheNextAttempt) {
  const std::vector<PlannedSet> plan = {planned(1, 180, kSetKindTest, 0.0)};
  const Outcome o = run(plan, true, 1.0, RunnerState::kSet, [](ProtocolRunner& r) {
    r.mark("subject slipped");
    r.request_redo();
  });
  EXPECT_EQ(o.result, RunnerState::kDone);
  ASSERT_EQ(o.session.sets.size(), 2u);
  EXPECT_EQ(o.session.sets[0].info.attempt, 1);
  EXPECT_FALSE(o.session.sets[0].stats.complete);
  EXPECT_EQ(o.session.sets[0].stats.end_reason, "stopped by the operator to redo the set");
  EXPECT_EQ(o.session.sets[1].info.attempt, 2);
  EXPECT_TRUE(o.session.sets[1].stats.complete);
  const auto k = kinds(o.session);
  EXPECT_NE(std::find(k.begin(), k.end(), "redo-set"), k.end());
  const auto mark = std::find_if(o.session.events.begin(), o.session.events.end(),
                                 [](const Event& e) { return e.kind == "mark"; });
  ASSERT_NE(mark, o.session.events.end());
  EXPECT_EQ(mark->detail, "subject slipped");
}

TEST_F(ProtocolRunnerTest, PauseFreezesTheRestUntilResumed) {
  const std::vector<PlannedSet> plan = {planned(1, 300, kSetKindTest, 0.5),
                                        planned(1, 300, kSetKindTest, 0.0)};
  const Outcome o = run(plan, false, 1.0, RunnerState::kRest, [](ProtocolRunner& r) {
    r.request_pause();
    while (r.state() != RunnerState::kPaused)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    r.request_resume();
  });
  EXPECT_EQ(o.result, RunnerState::kDone);
  EXPECT_NE(std::find(o.states.begin(), o.states.end(), RunnerState::kPaused), o.states.end());
  ASSERT_EQ(o.session.sets.size(), 2u);
  const auto k = kinds(o.session);
  const auto pause = std::find(k.begin(), k.end(), "pause");
  ASSERT_NE(pause, k.end());
  EXPECT_EQ(*(pause + 1), "resume");
}

TEST_F(ProtocolRunnerTest, StartNowEndsAnHourLongRestAtOnce) {
  // Without the operator's "start now" this rest would last an hour and the test would time out.
  const std::vector<PlannedSet> plan = {planned(1, 300, kSetKindTest, 3600.0),
                                        planned(1, 300, kSetKindTest, 0.0)};
  const Outcome o =
      run(plan, false, 1.0, RunnerState::kRest, [](ProtocolRunner& r) { r.request_start_now(); });
  EXPECT_EQ(o.result, RunnerState::kDone);
  ASSERT_EQ(o.session.sets.size(), 2u);
  const auto k = kinds(o.session);
  EXPECT_NE(std::find(k.begin(), k.end(), "start-now"), k.end());
}

}  // namespace
