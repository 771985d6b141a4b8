// Benchmarks on real session files (docs/performance.md, driven by scripts/bench): reading a
// file, the full offline analysis, the incremental live analyser, a streaming read of the same
// samples (the memory-bandwidth floor), and writing the same samples through the recorder
// against a plain fwrite of the same bytes, with a chunk-size and compression sweep. Times are
// CPU times (kernel time of the writes included): the machine this runs on is shared, and wall
// time would count the other processes' turns.
//
//   isokin_file_bench --session=a.h5 [--session=b.h5 …] [--write-session=c.h5]
//                     [--scratch=DIR] [--benchmark_* options]
#include <benchmark/benchmark.h>
#include <hdf5.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "isokin/acquisition/session_file.h"
#include "isokin/analysis/live_analyser.h"
#include "isokin/analysis/session_analysis.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin;

std::size_t sample_count(const acquisition::Session& session) {
  std::size_t n = 0;
  for (const auto& set : session.sets) n += set.signals.size();
  return n;
}

// Bytes per sample a session file stores: time, torque, angle, velocity (float64), status (uint32).
constexpr std::size_t kBytesPerSample = 4 * sizeof(double) + sizeof(std::uint32_t);

std::vector<drivers::Sample> samples_of(const acquisition::SetSignals& s) {
  std::vector<drivers::Sample> out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    out[i] = {s.time[i], s.torque[i], s.angle[i], s.velocity[i], s.status[i]};
  }
  return out;
}

void count_samples(benchmark::State& state, std::size_t samples, std::size_t bytes) {
  const auto total =
      static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(samples);
  state.SetItemsProcessed(total);
  if (bytes > 0)
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(bytes));
  state.counters["samples"] = static_cast<double>(samples);
  // Seconds per sample averaged over the run; the printed value is in ns.
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(total) * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// One loaded session shared by the benchmarks of its file.
struct Loaded {
  std::string name;
  fs::path path;
  acquisition::Session session;
  std::vector<std::vector<drivers::Sample>> samples;  // per set, for the live analyser
  std::size_t n = 0;
};

void BM_ReadSession(benchmark::State& state, const Loaded* file) {
  for (auto _ : state) {
    auto session = acquisition::read_session(file->path);
    benchmark::DoNotOptimize(session);
  }
  count_samples(state, file->n, static_cast<std::size_t>(fs::file_size(file->path)));
}

// The whole offline pipeline of `isokin analyze`: filter, segmentation, every parameter,
// fatigue, ratios and bilateral comparisons.
void BM_AnalyzeSession(benchmark::State& state, const Loaded* file) {
  for (auto _ : state) {
    auto result = analysis::analyze_session(file->session);
    benchmark::DoNotOptimize(result);
  }
  count_samples(state, file->n, 0);
}

// The live path: blocks of 64 samples (32 ms at 2 kHz) into one LiveAnalyser per set, each
// phase published through the callback as it becomes final.
void BM_LiveAnalyser(benchmark::State& state, const Loaded* file) {
  constexpr std::size_t kBlock = 64;
  const double rate = file->session.info.device.sample_rate_hz;
  std::size_t phases = 0;
  for (auto _ : state) {
    phases = 0;
    for (std::size_t k = 0; k < file->session.sets.size(); ++k) {
      const auto& samples = file->samples[k];
      analysis::LiveAnalyser live(file->session.sets[k].info, rate, {},
                                  [&](const analysis::PhaseResult&) { ++phases; });
      for (std::size_t i = 0; i < samples.size(); i += kBlock) {
        live.push(std::span(samples).subspan(i, std::min(kBlock, samples.size() - i)));
      }
      live.finish();
    }
    benchmark::DoNotOptimize(phases);
  }
  state.counters["phases"] = static_cast<double>(phases);
  count_samples(state, file->n, 0);
}

// The floor: read every sample of the four channels once (time, torque, angle, velocity), as
// any analysis must. The session is far larger than the caches, so this is memory bandwidth.
void BM_StreamingRead(benchmark::State& state, const Loaded* file) {
  for (auto _ : state) {
    double sum = 0.0;
    for (const auto& set : file->session.sets) {
      const auto& s = set.signals;
      sum += std::accumulate(s.time.begin(), s.time.end(), 0.0) +
             std::accumulate(s.torque.begin(), s.torque.end(), 0.0) +
             std::accumulate(s.angle.begin(), s.angle.end(), 0.0) +
             std::accumulate(s.velocity.begin(), s.velocity.end(), 0.0);
    }
    benchmark::DoNotOptimize(sum);
  }
  count_samples(state, file->n, file->n * 4 * sizeof(double));
}

// The recorder's path: SessionWriter (SWMR, flushed every 0.5 s) fed blocks of 4096 samples,
// set by set as recorded (range(1) = 0), or every sample into one set (range(1) = 1: the
// writer's streaming cost without the per-set work of opening and closing the file).
void BM_WriteSession(benchmark::State& state, const Loaded* file, const fs::path& out) {
  acquisition::SessionWriter::Options options;
  options.chunk_rows = static_cast<std::size_t>(state.range(0));
  const bool one_set = state.range(1) != 0;
  constexpr std::size_t kBlock = 4096;
  const auto end_set = [](acquisition::SessionWriter& writer, std::size_t samples) {
    acquisition::SetStats stats;
    stats.sample_count = samples;
    stats.complete = true;
    writer.end_set(stats);
  };
  for (auto _ : state) {
    acquisition::SessionWriter writer(out, file->session.info, options);
    std::size_t in_set = 0;
    for (std::size_t k = 0; k < file->session.sets.size(); ++k) {
      if (!one_set || k == 0) writer.begin_set(file->session.sets[k].info);
      const auto& samples = file->samples[k];
      for (std::size_t i = 0; i < samples.size(); i += kBlock) {
        writer.append(std::span(samples).subspan(i, std::min(kBlock, samples.size() - i)));
      }
      in_set += samples.size();
      if (!one_set || k + 1 == file->session.sets.size()) {
        end_set(writer, in_set);
        in_set = 0;
      }
    }
    writer.finish();
  }
  state.counters["file_MB"] = static_cast<double>(fs::file_size(out)) / 1e6;
  fs::remove(out);
  count_samples(state, file->n, file->n * kBytesPerSample);
}

// The same bytes with plain stdio: each set's five columns, one fwrite each, then fclose.
void BM_FwriteSameBytes(benchmark::State& state, const Loaded* file, const fs::path& out) {
  for (auto _ : state) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(out.c_str(), "wb"), &std::fclose);
    if (!f) throw std::runtime_error("cannot create " + out.string());
    for (const auto& set : file->session.sets) {
      const auto& s = set.signals;
      for (const auto* column : {&s.time, &s.torque, &s.angle, &s.velocity}) {
        std::fwrite(column->data(), sizeof(double), column->size(), f.get());
      }
      std::fwrite(s.status.data(), sizeof(std::uint32_t), s.status.size(), f.get());
    }
  }
  fs::remove(out);
  count_samples(state, file->n, file->n * kBytesPerSample);
}

// What compression would cost: the same columns into plain (non-SWMR) chunked HDF5 datasets of
// 8192 rows, without a filter, with deflate, and with shuffle + deflate (level = range(0), 0 =
// no filter). Reports the file size: noisy float64 signals compress poorly.
void BM_Hdf5Deflate(benchmark::State& state, const Loaded* file, const fs::path& out) {
  const int level = static_cast<int>(state.range(0));
  const bool shuffle = state.range(1) != 0;
  for (auto _ : state) {
    const hid_t h5 = H5Fcreate(out.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (h5 < 0) throw std::runtime_error("cannot create " + out.string());
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    const hsize_t chunk = 8192;
    H5Pset_chunk(dcpl, 1, &chunk);
    if (shuffle) H5Pset_shuffle(dcpl);
    if (level > 0) H5Pset_deflate(dcpl, static_cast<unsigned>(level));
    int k = 0;
    for (const auto& set : file->session.sets) {
      const auto& s = set.signals;
      const auto write = [&](const char* column, hid_t type, const void* data) {
        const hsize_t rows = s.size();
        const hid_t space = H5Screate_simple(1, &rows, nullptr);
        const std::string name = "set_" + std::to_string(k) + "_" + column;
        const hid_t d = H5Dcreate2(h5, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
        H5Dclose(d);
        H5Sclose(space);
      };
      write("time", H5T_NATIVE_DOUBLE, s.time.data());
      write("torque", H5T_NATIVE_DOUBLE, s.torque.data());
      write("angle", H5T_NATIVE_DOUBLE, s.angle.data());
      write("velocity", H5T_NATIVE_DOUBLE, s.velocity.data());
      write("status", H5T_NATIVE_UINT32, s.status.data());
      ++k;
    }
    H5Pclose(dcpl);
    H5Fclose(h5);
  }
  state.counters["file_MB"] = static_cast<double>(fs::file_size(out)) / 1e6;
  state.counters["ratio"] =
      static_cast<double>(file->n * kBytesPerSample) / static_cast<double>(fs::file_size(out));
  fs::remove(out);
  count_samples(state, file->n, file->n * kBytesPerSample);
}

std::unique_ptr<Loaded> load(const fs::path& path) {
  auto file = std::make_unique<Loaded>();
  file->path = path;
  file->name = path.stem().string();
  file->session = acquisition::read_session(path);
  for (const auto& set : file->session.sets) file->samples.push_back(samples_of(set.signals));
  file->n = sample_count(file->session);
  return file;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> sessions;
  fs::path write_session;
  fs::path scratch = fs::temp_directory_path();
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--session=")) {
      sessions.emplace_back(arg.substr(10));
    } else if (arg.starts_with("--write-session=")) {
      write_session = arg.substr(16);
    } else if (arg.starts_with("--scratch=")) {
      scratch = arg.substr(10);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (sessions.empty() && write_session.empty()) {
    std::cerr << "usage: isokin_file_bench --session=FILE.h5 … [--write-session=FILE.h5] "
                 "[--scratch=DIR] [benchmark options]\n";
    return 2;
  }
  std::vector<std::unique_ptr<Loaded>> files;
  for (const auto& path : sessions) {
    files.push_back(load(path));
    const Loaded* f = files.back().get();
    benchmark::RegisterBenchmark(("BM_ReadSession/" + f->name).c_str(), BM_ReadSession, f)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
    benchmark::RegisterBenchmark(("BM_AnalyzeSession/" + f->name).c_str(), BM_AnalyzeSession, f)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
    benchmark::RegisterBenchmark(("BM_LiveAnalyser/" + f->name).c_str(), BM_LiveAnalyser, f)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
    benchmark::RegisterBenchmark(("BM_StreamingRead/" + f->name).c_str(), BM_StreamingRead, f)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
  }
  if (!write_session.empty()) {
    files.push_back(load(write_session));
    const Loaded* f = files.back().get();
    const fs::path out = scratch / ("isokin-write-bench-" + std::to_string(::getpid()) + ".h5");
    const fs::path raw = scratch / ("isokin-write-bench-" + std::to_string(::getpid()) + ".bin");
    benchmark::RegisterBenchmark(("BM_FwriteSameBytes/" + f->name).c_str(), BM_FwriteSameBytes, f,
                                 raw)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
    benchmark::RegisterBenchmark(("BM_WriteSession/" + f->name).c_str(), BM_WriteSession, f, out)
        ->ArgNames({"chunk_rows", "one_set"})
        ->Args({1024, 0})
        ->Args({4096, 0})
        ->Args({8192, 0})
        ->Args({16384, 0})
        ->Args({65536, 0})
        ->Args({8192, 1})
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
    benchmark::RegisterBenchmark(("BM_Hdf5Deflate/" + f->name).c_str(), BM_Hdf5Deflate, f, out)
        ->ArgNames({"level", "shuffle"})
        ->Args({0, 0})
        ->Args({1, 0})
        ->Args({1, 1})
        ->Args({6, 1})
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  }
  int count = static_cast<int>(rest.size());
  benchmark::Initialize(&count, rest.data());
  if (benchmark::ReportUnrecognizedArguments(count, rest.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
