// Throughput of the scalar oracles vs the fast kernels per PE type, at LLM GEMV/GEMM sizes, next to
// a STREAM-like copy that calibrates memory bandwidth in the same run (Google Benchmark).
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "models/synthetic.h"
#include "quant/gemm_fast.h"
#include "quant/gemm_ref.h"
#include "quant/thread_pool.h"

namespace {

using namespace mixpe;

// Oracles vs fast kernels on the `mixpe gemm` default problem.

struct Problem {
  int m, n, k;
  std::vector<float> x;
  quant::QuantizedWeights w;
  quant::Int8Activations x8;
  quant::AlignedActivations x16;
  std::vector<quant::Half> xh;
  Problem(int m_, int n_, int k_) : m(m_), n(n_), k(k_) {
    x = models::synthetic_activations(m, k, 1);
    w = quant::quantize_weights_rtn(models::synthetic_weights(n, k, 1), n, k, {4, 128, false});
    x8 = quant::quantize_activations_int8(x, m, k);
    xh = quant::to_half(x);
    x16 = quant::align_activations_fp16(xh, m, k, 128);
  }
};

const Problem& problem() {
  static const Problem p(64, 256, 1024);  // the `mixpe gemm` default
  return p;
}

void report(benchmark::State& state) {
  const Problem& p = problem();
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(p.m) * p.n * p.k * state.iterations(), benchmark::Counter::kIsRate);
}

void BM_MixpeInt8Ref(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_mixpe_int8_ref(problem().x8, problem().w));
  report(state);
}
void BM_MixpeInt8Fast(benchmark::State& state) {
  const quant::PreparedWeights pw = quant::PreparedWeights::for_mixpe(problem().w);
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_mixpe_int8(problem().x8, pw, static_cast<unsigned>(state.range(0))));
  report(state);
}
void BM_MixpeFp16Ref(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_mixpe_aligned_ref(problem().x16, problem().w));
  report(state);
}
void BM_MixpeFp16Fast(benchmark::State& state) {
  const quant::PreparedWeights pw = quant::PreparedWeights::for_mixpe(problem().w);
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_mixpe_aligned(problem().x16, pw, static_cast<unsigned>(state.range(0))));
  report(state);
}
void BM_Fp16Ref(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_fp16_ref(problem().xh, problem().m, problem().w));
  report(state);
}
void BM_Fp16Fast(benchmark::State& state) {
  const quant::PreparedWeights pw = quant::PreparedWeights::for_fp16(problem().w);
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_fp16(problem().xh, problem().m, pw, static_cast<unsigned>(state.range(0))));
  report(state);
}

BENCHMARK(BM_MixpeInt8Ref)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MixpeInt8Fast)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MixpeFp16Ref)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MixpeFp16Fast)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Fp16Ref)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Fp16Fast)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// LLM-sized GEMV / GEMM per PE numerics.

enum class Path { kMixpeInt8, kMixpeFp16, kInt8, kFp16 };

// One weight matrix (N x K, quantized once) with its activations and prepared forms.
struct Sized {
  int m, n, k;
  quant::QuantizedWeights w;
  quant::Int8Activations x8;
  quant::AlignedActivations x16;
  std::vector<quant::Half> xh;
  quant::PreparedWeights prepared;
};

// The INT8 baseline needs symmetric per-channel weights; the others use asymmetric g = 128.
const Sized& sized(Path path, int m, int n, int k, int bits) {
  static std::map<std::tuple<int, int, int, int, int>, std::unique_ptr<Sized>> cache;
  auto& slot = cache[{static_cast<int>(path), m, n, k, bits}];
  if (!slot) {
    slot = std::make_unique<Sized>();
    Sized& s = *slot;
    s.m = m;
    s.n = n;
    s.k = k;
    const quant::WeightQuantConfig cfg = path == Path::kInt8 ? quant::WeightQuantConfig{bits, -1, true} : quant::WeightQuantConfig{bits, 128, false};
    s.w = quant::quantize_weights_rtn(models::synthetic_weights(n, k, 7), n, k, cfg);
    const std::vector<float> x = models::synthetic_activations(m, k, 8);
    s.x8 = quant::quantize_activations_int8(x, m, k);
    s.xh = quant::to_half(x);
    s.x16 = quant::align_activations_fp16(s.xh, m, k, s.w.group_size);
    s.prepared = path == Path::kFp16 ? quant::PreparedWeights::for_fp16(s.w) : quant::PreparedWeights::for_mixpe(s.w);
  }
  return *slot;
}

// Args: M, N, K, weight bits, threads. Counters: GFLOPS-eq (2 M N K per second) and the packed
// weight bytes streamed per second.
template <Path kPath>
void BM_Gemm(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0)), n = static_cast<int>(state.range(1)), k = static_cast<int>(state.range(2));
  const int bits = static_cast<int>(state.range(3));
  const unsigned threads = static_cast<unsigned>(state.range(4));
  const Sized& s = sized(kPath, m, n, k, bits);
  for (auto _ : state) {
    switch (kPath) {
      case Path::kMixpeInt8: benchmark::DoNotOptimize(quant::gemm_mixpe_int8(s.x8, s.prepared, threads)); break;
      case Path::kMixpeFp16: benchmark::DoNotOptimize(quant::gemm_mixpe_aligned(s.x16, s.prepared, threads)); break;
      case Path::kInt8: benchmark::DoNotOptimize(quant::gemm_int8(s.x8, s.prepared, threads)); break;
      case Path::kFp16: benchmark::DoNotOptimize(quant::gemm_fp16(s.xh, m, s.prepared, threads)); break;
    }
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GFLOPS-eq"] = benchmark::Counter(2.0 * m * n * k * iters / 1e9, benchmark::Counter::kIsRate);
  state.counters["weight_GB/s"] = benchmark::Counter(static_cast<double>(s.prepared.streamed_bytes()) * iters / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(quant::active_kernel_variant());
}

void sized_args(benchmark::internal::Benchmark* b, bool w4) {
  for (const auto& [m, n, k] : {std::tuple{1, 4096, 4096}, std::tuple{1, 11008, 4096}, std::tuple{64, 4096, 4096}})
    for (int bits : {4, 8})
      if (w4 || bits == 8)
        for (int threads : {1, 2}) b->Args({m, n, k, bits, threads});
  b->ArgNames({"M", "N", "K", "bits", "thr"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}

BENCHMARK(BM_Gemm<Path::kMixpeInt8>)->Name("BM_MixpeInt8")->Apply([](auto* b) { sized_args(b, true); });
BENCHMARK(BM_Gemm<Path::kMixpeFp16>)->Name("BM_MixpeFp16")->Apply([](auto* b) { sized_args(b, true); });
BENCHMARK(BM_Gemm<Path::kInt8>)->Name("BM_Int8")->Apply([](auto* b) { sized_args(b, false); });
BENCHMARK(BM_Gemm<Path::kFp16>)->Name("BM_Fp16")->Apply([](auto* b) { sized_args(b, true); });

// Memory bandwidth reference.

// STREAM-like copy of a 256 MiB array (memcpy per thread slice); counts bytes read + written,
// as STREAM does. BM_StreamRead sums the array: the access pattern of a GEMV's weights.
constexpr std::size_t kStreamBytes = std::size_t{256} << 20;

struct StreamArrays {
  std::vector<double> src, dst;
  StreamArrays() : src(kStreamBytes / sizeof(double), 1.0), dst(kStreamBytes / sizeof(double), 0.0) {}
};
StreamArrays& stream_arrays() {
  static StreamArrays a;
  return a;
}

void BM_StreamCopy(benchmark::State& state) {
  StreamArrays& a = stream_arrays();
  const unsigned tasks = static_cast<unsigned>(state.range(0));
  const std::size_t n = a.src.size();
  for (auto _ : state) {
    quant::ThreadPool::instance().run(tasks, tasks, [&](unsigned t) {
      const std::size_t b = n * t / tasks, e = n * (t + 1) / tasks;
      std::memcpy(a.dst.data() + b, a.src.data() + b, (e - b) * sizeof(double));
    });
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] = benchmark::Counter(2.0 * kStreamBytes * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
void BM_StreamRead(benchmark::State& state) {
  StreamArrays& a = stream_arrays();
  const unsigned tasks = static_cast<unsigned>(state.range(0));
  const std::size_t n = a.src.size();
  for (auto _ : state) {
    std::vector<double> sums(tasks);
    quant::ThreadPool::instance().run(tasks, tasks, [&](unsigned t) {
      const std::size_t b = n * t / tasks, e = n * (t + 1) / tasks;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // four chains: bandwidth-bound, not add-latency-bound
      for (std::size_t i = b; i + 4 <= e; i += 4) {
        s0 += a.src[i];
        s1 += a.src[i + 1];
        s2 += a.src[i + 2];
        s3 += a.src[i + 3];
      }
      sums[t] = s0 + s1 + s2 + s3;
    });
    benchmark::DoNotOptimize(sums.data());
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(kStreamBytes) * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StreamCopy)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StreamRead)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
