// The live pipeline: device thread → SpscRing → recorder (HDF5, SWMR) → fan-out → LiveAnalyser,
// against the recorder alone writing the same samples on one thread (the reference, same
// process). Counters: drops (must be 0), sample-to-result latency, resident memory over a
// 1-hour simulated session. Numbers are in docs/performance.md.
#include <benchmark/benchmark.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "isokin/acquisition/fan_out.h"
#include "isokin/acquisition/set_acquisition.h"
#include "isokin/analysis/live_analyser.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin;
using drivers::Sample;
using Clock = std::chrono::steady_clock;

std::vector<Sample> simulated_samples(int repetitions, double velocity) {
  drivers::MotionSetpoint sp;
  sp.repetitions = repetitions;
  sp.extension_velocity = sp.flexion_velocity = velocity;
  return drivers::simulate_set({}, sp);
}

// Replays samples, optionally paced to `rate` samples per wall-clock second, and notes when
// each block was handed over (for latency).
class ReplayDevice final : public drivers::Device {
 public:
  ReplayDevice(const std::vector<Sample>& samples, double rate, double pace_rate)
      : samples_(samples), rate_(rate), pace_rate_(pace_rate) {}
  [[nodiscard]] drivers::DeviceDescription describe() const override {
    drivers::DeviceDescription d;
    d.driver = "replay";
    d.sample_rate_hz = rate_;
    return d;
  }
  void open() override {}
  bool apply(const drivers::MotionSetpoint&) override { return true; }
  void start() override {
    cursor_ = 0;
    start_ = Clock::now();
    const std::lock_guard lock(mutex_);
    delivered_.clear();
  }
  drivers::ReadResult read(std::span<Sample> out) override {
    if (cursor_ >= samples_.size()) return {0, drivers::ReadStatus::kEndOfStream, {}};
    std::size_t due = samples_.size();
    if (pace_rate_ > 0.0) {
      for (;;) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
        due = std::min(samples_.size(), static_cast<std::size_t>(elapsed * pace_rate_) + 1);
        if (due > cursor_) break;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    }
    const std::size_t n = std::min(out.size(), due - cursor_);
    std::copy_n(samples_.begin() + static_cast<std::ptrdiff_t>(cursor_), n, out.begin());
    cursor_ += n;
    {
      const std::lock_guard lock(mutex_);
      delivered_.push_back({cursor_, Clock::now()});
    }
    return {n, drivers::ReadStatus::kOk, {}};
  }
  void stop() override {}
  void close() override {}

  // When the sample with this index had been handed over.
  Clock::time_point delivered_at(std::size_t index) {
    const std::lock_guard lock(mutex_);
    const auto it = std::lower_bound(delivered_.begin(), delivered_.end(), index + 1,
                                     [](const auto& d, std::size_t i) { return d.first < i; });
    return it == delivered_.end() ? Clock::time_point::max() : it->second;
  }

 private:
  const std::vector<Sample>& samples_;
  double rate_;
  double pace_rate_;
  std::size_t cursor_ = 0;
  Clock::time_point start_;
  std::mutex mutex_;
  std::vector<std::pair<std::size_t, Clock::time_point>> delivered_;
};

class AnalyserConsumer final : public acquisition::SampleConsumer {
 public:
  AnalyserConsumer(double rate, ReplayDevice* device) : rate_(rate), device_(device) {}
  void begin_set(const acquisition::SetInfo& set) override {
    analyser_ = std::make_unique<analysis::LiveAnalyser>(
        set, rate_, analysis::AnalysisSettings{}, [this](const analysis::PhaseResult& r) {
          ++phases;
          if (device_ == nullptr) return;
          // The sample that made the phase final: its end plus the analyser's margin.
          const double ready = r.end_time + analyser_->margin_seconds();
          const auto index = static_cast<std::size_t>(std::ceil(ready * rate_));
          const auto from = device_->delivered_at(index);
          if (from != Clock::time_point::max()) {
            latencies.push_back(std::chrono::duration<double>(Clock::now() - from).count());
          }
        });
  }
  void consume(std::span<const Sample> s) override { analyser_->push(s); }
  void end_set(const acquisition::SetStats&) override { analyser_->finish(); }

  std::size_t phases = 0;
  std::vector<double> latencies;  // s

 private:
  double rate_;
  ReplayDevice* device_;
  std::unique_ptr<analysis::LiveAnalyser> analyser_;
};

fs::path bench_file(const char* name) {
  return fs::temp_directory_path() /
         (std::string("isokin-bench-") + std::to_string(::getpid()) + name);
}

acquisition::SessionInfo session_info(double rate) {
  acquisition::SessionInfo info;
  info.created_utc = "2026-11-25T12:00:00Z";
  info.software = "isokin bench";
  info.device.driver = "replay";
  info.device.sample_rate_hz = rate;
  return info;
}

// CPU seconds used by every thread of the process so far.
double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double resident_mib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0;
  long resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1 << 20);
}

// The reference: the recorder alone, one thread, same samples, same file settings.
void BM_RecorderOnly(benchmark::State& state) {
  const auto samples = simulated_samples(20, 180.0);
  const fs::path path = bench_file("-recorder.h5");
  for (auto _ : state) {
    acquisition::SessionWriter writer(path, session_info(2000.0));
    acquisition::SetInfo set;
    writer.begin_set(set);
    for (std::size_t i = 0; i < samples.size(); i += 256) {
      writer.append(std::span(samples).subspan(i, std::min<std::size_t>(256, samples.size() - i)));
    }
    acquisition::SetStats stats;
    stats.sample_count = samples.size();
    writer.end_set(stats);
    writer.finish();
  }
  fs::remove(path);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples.size()));
}
BENCHMARK(BM_RecorderOnly)->Unit(benchmark::kMillisecond)->UseRealTime();

// Whole pipeline as fast as it goes (device waits for room): the sustainable throughput.
void BM_PipelineUnpaced(benchmark::State& state) {
  const auto samples = simulated_samples(20, 180.0);
  const fs::path path = bench_file("-unpaced.h5");
  std::uint64_t dropped = 0;
  for (auto _ : state) {
    ReplayDevice device(samples, 2000.0, 0.0);
    AnalyserConsumer analyser(2000.0, nullptr);
    acquisition::SessionWriter writer(path, session_info(2000.0));
    acquisition::FanOut fan_out;
    fan_out.add("analyser", analyser, std::size_t{1} << 16);
    acquisition::AcquisitionOptions options;
    options.wait_when_full = true;
    const auto stats = acquisition::acquire_set(device, writer, {}, fan_out, nullptr, options);
    fan_out.wait_until_idle(60.0);
    for (const auto& c : stats.consumers) dropped += c.dropped;
    writer.finish();
  }
  fs::remove(path);
  state.counters["dropped"] = static_cast<double>(dropped);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples.size()));
}
BENCHMARK(BM_PipelineUnpaced)->Unit(benchmark::kMillisecond)->UseRealTime();

// A device delivering range(0) samples per second for real: every consumer must keep up
// without a single drop (dropped must be 0).
void BM_PipelinePaced(benchmark::State& state) {
  const double pace = static_cast<double>(state.range(0));
  const auto one_set = simulated_samples(20, 180.0);
  // ~2 s of wall clock at the paced rate.
  std::vector<Sample> samples;
  while (static_cast<double>(samples.size()) < 2.0 * pace) {
    const double offset = samples.empty() ? 0.0 : samples.back().time + 1.0 / 2000.0;
    for (Sample s : one_set) {
      s.time += offset;
      samples.push_back(s);
    }
  }
  const fs::path path = bench_file("-paced.h5");
  std::uint64_t dropped = 0;
  std::uint64_t delivered = 0;
  const double cpu_before = process_cpu_seconds();
  const auto wall_before = Clock::now();
  for (auto _ : state) {
    ReplayDevice device(samples, 2000.0, pace);
    AnalyserConsumer analyser(2000.0, nullptr);
    acquisition::SessionWriter writer(path, session_info(2000.0));
    acquisition::FanOut fan_out;
    fan_out.add("analyser", analyser, std::size_t{1} << 16);
    const auto stats = acquisition::acquire_set(device, writer, {}, fan_out);
    fan_out.wait_until_idle(60.0);
    for (const auto& c : stats.consumers) {
      dropped += c.dropped;
      delivered += c.delivered;
    }
    writer.finish();
  }
  fs::remove(path);
  state.counters["dropped"] = static_cast<double>(dropped);
  state.counters["delivered"] = static_cast<double>(delivered);
  // Cores busy on average, all threads (driver, recorder, analyser) together.
  state.counters["cores_used"] = (process_cpu_seconds() - cpu_before) /
                                 std::chrono::duration<double>(Clock::now() - wall_before).count();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples.size()));
}
BENCHMARK(BM_PipelinePaced)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// End of repetition → its results: from the moment the device handed over the sample that
// makes a phase final to the LiveAnalyser's callback, through ring, recorder and fan-out.
// Paced at 10× real time (20 kHz) so that one run holds many repetitions.
void BM_SampleToResultLatency(benchmark::State& state) {
  const auto samples = simulated_samples(15, 180.0);
  const fs::path path = bench_file("-latency.h5");
  std::vector<double> latencies;
  for (auto _ : state) {
    ReplayDevice device(samples, 2000.0, 20'000.0);
    AnalyserConsumer analyser(2000.0, &device);
    {
      acquisition::SessionWriter writer(path, session_info(2000.0));
      acquisition::FanOut fan_out;
      fan_out.add("analyser", analyser, std::size_t{1} << 16);
      acquisition::acquire_set(device, writer, {}, fan_out);
      fan_out.wait_until_idle(60.0);
      writer.finish();
    }
    latencies.insert(latencies.end(), analyser.latencies.begin(), analyser.latencies.end());
  }
  fs::remove(path);
  std::sort(latencies.begin(), latencies.end());
  const auto pct = [&](double p) {
    return latencies.empty() ? -1.0
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<std::size_t>(p * latencies.size()))];
  };
  state.counters["phases"] = static_cast<double>(latencies.size());
  state.counters["p50_ms"] = pct(0.50) * 1e3;
  state.counters["p99_ms"] = pct(0.99) * 1e3;
  state.counters["max_ms"] = latencies.empty() ? -1.0 : latencies.back() * 1e3;
}
BENCHMARK(BM_SampleToResultLatency)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// One hour at 2 kHz (7.2 million samples, 120 sets of 30 s) through the whole pipeline into one
// file: resident memory at the start, after the first set and at the end.
void BM_OneHourSessionMemory(benchmark::State& state) {
  const auto one_set = simulated_samples(9, 60.0);  // ≈ 30 s
  const fs::path path = bench_file("-hour.h5");
  double first = 0;
  double after_first_set = 0;
  double peak = 0;
  double last = 0;
  std::uint64_t dropped = 0;
  std::size_t total = 0;
  for (auto _ : state) {
    first = resident_mib();
    ReplayDevice device(one_set, 2000.0, 0.0);
    AnalyserConsumer analyser(2000.0, nullptr);
    acquisition::SessionWriter writer(path, session_info(2000.0));
    acquisition::FanOut fan_out;
    fan_out.add("analyser", analyser, std::size_t{1} << 16);
    acquisition::AcquisitionOptions options;
    options.wait_when_full = true;
    const double one_set_seconds = one_set.back().time;
    const int sets = static_cast<int>(std::ceil(3600.0 / one_set_seconds));
    for (int i = 0; i < sets; ++i) {
      acquisition::SetInfo set;
      set.index = i;
      const auto stats = acquisition::acquire_set(device, writer, set, fan_out, nullptr, options);
      for (const auto& c : stats.consumers) dropped += c.dropped;
      total += stats.sample_count;
      fan_out.wait_until_idle(60.0);
      const double now = resident_mib();
      if (i == 0) after_first_set = now;
      peak = std::max(peak, now);
      last = now;
    }
    writer.finish();
  }
  fs::remove(path);
  state.counters["rss_start_MiB"] = first;
  state.counters["rss_after_set1_MiB"] = after_first_set;
  state.counters["rss_peak_MiB"] = peak;
  state.counters["rss_end_MiB"] = last;
  state.counters["dropped"] = static_cast<double>(dropped);
  state.SetItemsProcessed(static_cast<std::int64_t>(total));
}
BENCHMARK(BM_OneHourSessionMemory)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace
