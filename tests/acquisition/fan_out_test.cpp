// The fan-out: a slow consumer loses (and counts) samples, while the recorder and fast
// consumers get every one, in order, with the set boundaries.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "isokin/acquisition/fan_out.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/acquisition/set_acquisition.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
using namespace isokin::drivers;

// Records what it is given; optionally sleeps in every consume() to play a slow viewer.
class RecordingConsumer final : public SampleConsumer {
 public:
  explicit RecordingConsumer(std::chrono::microseconds delay = {}) : delay_(delay) {}
  void begin_set(const SetInfo& set) override {
    const std::lock_guard lock(mutex_);
    calls_.push_back("begin " + std::to_string(set.index));
  }
  void consume(std::span<const Sample> samples) override {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    const std::lock_guard lock(mutex_);
    samples_.insert(samples_.end(), samples.begin(), samples.end());
    if (calls_.empty() || calls_.back() != "samples") calls_.push_back("samples");
  }
  void end_set(const SetStats& stats) override {
    const std::lock_guard lock(mutex_);
    calls_.push_back("end " + std::to_string(stats.sample_count));
  }
  std::vector<Sample> samples() {
    const std::lock_guard lock(mutex_);
    return samples_;
  }
  std::vector<std::string> calls() {
    const std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::chrono::microseconds delay_;
  std::mutex mutex_;
  std::vector<Sample> samples_;
  std::vector<std::string> calls_;
};

std::vector<Sample> numbered(std::size_t n) {
  std::vector<Sample> s(n);
  for (std::size_t i = 0; i < n; ++i) s[i].time = static_cast<double>(i);
  return s;
}

TEST(FanOut, FastConsumersGetEverySampleBetweenTheSetBoundaries) {
  RecordingConsumer a;
  RecordingConsumer b;
  const auto samples = numbered(100'000);
  {
    FanOut fan_out;
    fan_out.set_wait_when_full(true);  // lossless, as for an unpaced source
    fan_out.add("a", a, 1024);
    fan_out.add("b", b, 4096);
    SetInfo set;
    set.index = 3;
    fan_out.begin_set(set);
    for (std::size_t i = 0; i < samples.size(); i += 700) {
      fan_out.deliver(
          std::span(samples).subspan(i, std::min<std::size_t>(700, samples.size() - i)));
    }
    SetStats stats;
    stats.sample_count = samples.size();
    const auto counts = fan_out.take_set_stats();
    ASSERT_EQ(counts.size(), 2u);
    EXPECT_EQ(counts[0].name, "a");
    EXPECT_EQ(counts[0].delivered, samples.size());
    EXPECT_EQ(counts[0].dropped, 0u);
    fan_out.end_set(stats);
    fan_out.wait_until_idle();
    EXPECT_EQ(fan_out.take_set_stats()[1].delivered, 0u);  // reset per set
  }
  for (RecordingConsumer* c : {&a, &b}) {
    const auto got = c->samples();
    ASSERT_EQ(got.size(), samples.size());
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i].time, samples[i].time);
    EXPECT_EQ(c->calls(), (std::vector<std::string>{"begin 3", "samples", "end 100000"}));
  }
}

TEST(FanOut, ASlowConsumerLosesSamplesWithoutHoldingUpTheProducer) {
  RecordingConsumer slow(std::chrono::milliseconds(20));
  RecordingConsumer fast;
  const auto samples = numbered(200'000);
  std::vector<ConsumerStats> counts;
  {
    FanOut fan_out;
    fan_out.add("viewer", slow, 256);
    fan_out.add("analyser", fast, std::size_t{1} << 18);
    fan_out.begin_set({});
    // 200 000 samples offered in one go: far more than 256 fit while the viewer sleeps.
    for (std::size_t i = 0; i < samples.size(); i += 1000) {
      fan_out.deliver(std::span(samples).subspan(i, 1000));
    }
    counts = fan_out.take_set_stats();
    fan_out.end_set({});
    fan_out.wait_until_idle(10.0);
  }
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_GT(counts[0].dropped, 0u);
  EXPECT_EQ(counts[0].delivered + counts[0].dropped, samples.size());
  EXPECT_EQ(counts[1].dropped, 0u);
  EXPECT_EQ(fast.samples().size(), samples.size());
  // The viewer got what was counted as delivered, in order; the sample after each loss says so.
  const auto got = slow.samples();
  EXPECT_EQ(got.size(), counts[0].delivered);
  for (std::size_t i = 1; i < got.size(); ++i) {
    ASSERT_GT(got[i].time, got[i - 1].time);
    const bool lost_before = got[i].time != got[i - 1].time + 1.0;
    ASSERT_EQ(lost_before, (got[i].status & kStatusGapBefore) != 0) << "at " << got[i].time;
  }
}

TEST(FanOut, AcquireSetRecordsEverySampleWhileAViewerDropsAndWritesTheCounts) {
  const fs::path dir = fs::temp_directory_path() / ("isokin-fanout-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / "fanout.h5";
  SimulationSettings settings;
  settings.seed = 9;
  SimulatedDynamometer sim(settings);
  sim.open();
  MotionSetpoint sp;
  sp.repetitions = 3;
  SessionInfo info;
  info.created_utc = "2026-11-25T12:00:00Z";
  info.software = "isokin test";
  info.device = sim.describe();
  RecordingConsumer viewer(std::chrono::milliseconds(5));
  RecordingConsumer analyser;
  SetStats stats;
  {
    SessionWriter writer(path, info);
    FanOut fan_out;
    fan_out.add("viewer", viewer, 512);
    fan_out.add("analyser", analyser, std::size_t{1} << 17);
    SetInfo set;
    set.setpoint = sp;
    AcquisitionOptions options;
    options.wait_when_full = true;  // the unpaced simulator would otherwise outrun the recorder
    stats = acquire_set(sim, writer, set, fan_out, nullptr, options);
    fan_out.wait_until_idle();
    writer.finish();
  }
  const std::uint64_t total = sim.ground_truth().back().sample_count;
  EXPECT_EQ(stats.sample_count, total);
  ASSERT_EQ(stats.consumers.size(), 3u);
  EXPECT_EQ(stats.consumers[0].name, "recorder");
  EXPECT_EQ(stats.consumers[0].delivered, total);
  EXPECT_EQ(stats.consumers[0].dropped, 0u);
  EXPECT_GT(stats.consumers[1].dropped, 0u);
  EXPECT_EQ(stats.consumers[1].delivered + stats.consumers[1].dropped, total);
  EXPECT_EQ(stats.consumers[2].dropped, 0u);
  EXPECT_EQ(analyser.samples().size(), total);

  const Session read = read_session(path);
  ASSERT_EQ(read.sets.size(), 1u);
  EXPECT_EQ(read.sets[0].signals.size(), total);
  ASSERT_EQ(read.sets[0].stats.consumers.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(read.sets[0].stats.consumers[i].name, stats.consumers[i].name);
    EXPECT_EQ(read.sets[0].stats.consumers[i].delivered, stats.consumers[i].delivered);
    EXPECT_EQ(read.sets[0].stats.consumers[i].dropped, stats.consumers[i].dropped);
  }
  const auto drops = std::find_if(read.events.begin(), read.events.end(),
                                  [](const Event& e) { return e.kind == "drops"; });
  ASSERT_NE(drops, read.events.end());
  EXPECT_EQ(drops->set_index, 0);
  EXPECT_NE(drops->detail.find("viewer"), std::string::npos) << drops->detail;
  fs::remove_all(dir);
}

}  // namespace
