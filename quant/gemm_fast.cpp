// Fast kernels: weight packing, run-time ISA dispatch, thread partitioning, and the portable
// fallback (int32 chunked dot products, lane-parallel FP32 sums) for CPUs and shapes without SIMD.
#include "quant/gemm_fast.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "quant/gemm_kernels.h"
#include "quant/pe_arith.h"
#include "quant/thread_pool.h"

#if defined(MIXPE_X86_KERNELS)
#include <cpuid.h>
#endif

namespace mixpe::quant {
namespace {

#if defined(MIXPE_X86_KERNELS)
// F16C (CPUID leaf 1, ECX bit 29) and AVX-VNNI, the VEX-encoded form (leaf 7, sub-leaf 1, EAX bit 4),
// read from CPUID directly: clang 14's __builtin_cpu_supports knows neither "f16c" nor "avxvnni"
// (the sanitizer and fuzz builds use clang). The OS's AVX state support is covered by "avx2".
bool cpu_has_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) != 0 && ((c >> 29) & 1u) != 0;
}
bool cpu_has_avx_vnni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) != 0 && ((a >> 4) & 1u) != 0;
}
#endif

using kernels::kBlockCols;
using kernels::kUnitBytes;

const kernels::KernelSet kPortable{"portable", nullptr, nullptr, nullptr};

struct Variant {
  const kernels::KernelSet* set;
  const char* needs;
  bool (*cpu_has)();
};

const Variant kVariants[] = {
    {&kPortable, "nothing", [] { return true; }},
#if defined(MIXPE_X86_KERNELS)
    {&kernels::kAvx2Kernels, "AVX2, F16C and AVX-VNNI",
     [] {
       return __builtin_cpu_supports("avx2") && cpu_has_f16c() && cpu_has_avx_vnni();
     }},
    {&kernels::kAvx512Kernels, "AVX-512 F, BW, VL, DQ and VNNI",
     [] {
       return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
              __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni") && cpu_has_f16c();
     }},
#endif
};

std::atomic<const kernels::KernelSet*> g_active{nullptr};
std::mutex g_select_mu;

// Applies `name`; `origin` says where it came from for the error message.
void select_variant(std::string_view name, const char* origin) {
  std::vector<std::string> known, supported;
  for (const Variant& v : kVariants) {
    known.emplace_back(v.set->name);
    if (v.cpu_has()) supported.emplace_back(v.set->name);
    if (name != v.set->name) continue;
    if (!v.cpu_has()) {
      throw std::invalid_argument(fmt::format("{}{}: kernel variant '{}' needs {}, which this CPU lacks (supported: {})", origin,
                                              name, name, v.needs, fmt::join(supported, ", ")));
    }
    g_active.store(v.set, std::memory_order_release);
    return;
  }
  throw std::invalid_argument(fmt::format("{}{}: unknown kernel variant '{}' (this build knows {}; this CPU supports {})", origin,
                                          name, name, fmt::join(known, ", "), fmt::join(supported, ", ")));
}

void select_from_environment() {
  const char* env = std::getenv("MIXPE_KERNELS");
  if (env != nullptr && *env != '\0') {
    select_variant(env, "MIXPE_KERNELS=");
    return;
  }
  const kernels::KernelSet* best = &kPortable;
  for (const Variant& v : kVariants)
    if (v.cpu_has()) best = v.set;  // ordered from least to most capable
  g_active.store(best, std::memory_order_release);
}

const kernels::KernelSet& active_kernels() {
  const kernels::KernelSet* set = g_active.load(std::memory_order_acquire);
  if (set != nullptr) return *set;
  std::lock_guard<std::mutex> lock(g_select_mu);
  if (g_active.load(std::memory_order_acquire) == nullptr) select_from_environment();
  return *g_active.load(std::memory_order_acquire);
}

// Runs body(begin, end) over [0, n) on up to `threads` threads of the pool, in contiguous chunks
// (8 per thread: small enough that a thread the OS delays does not hold up the call, large
// enough that each chunk streams a long run of weights). Every output column is computed by one
// thread in the same order whatever the split, so results do not depend on the thread count.
constexpr unsigned kChunksPerThread = 8;
template <typename Body>
void parallel_for(int n, unsigned threads, Body body) {
  threads = resolve_threads(threads);
  if (threads <= 1 || n <= 1) {
    body(0, n);
    return;
  }
  const unsigned chunks = std::min<unsigned>(kChunksPerThread * threads, static_cast<unsigned>(n));
  ThreadPool::instance().run(chunks, threads, [&](unsigned c) {
    const int begin = static_cast<int>(static_cast<long long>(n) * c / chunks);
    const int end = static_cast<int>(static_cast<long long>(n) * (c + 1) / chunks);
    if (begin < end) body(begin, end);
  });
}

int blocks_of(int n) { return (n + kBlockCols - 1) / kBlockCols; }

// Portable kernels (the pre-SIMD code).

// 256 products of |x| <= 2^15 and |q| <= 255 stay below 2^31, so chunks of 256 accumulate in int32.
constexpr int kChunk = 256;

std::int64_t dot(const std::int16_t* q, const std::int32_t* x, int len) {
  std::int64_t total = 0;
  for (int c = 0; c < len; c += kChunk) {
    const int end = std::min(len, c + kChunk);
    std::int32_t s = 0;
    for (int j = c; j < end; ++j) s += static_cast<std::int32_t>(q[j]) * x[j];
    total += s;
  }
  return total;
}

std::int64_t sum(const std::int32_t* x, int len) {
  std::int64_t s = 0;
  for (int j = 0; j < len; ++j) s += x[j];
  return s;
}

// The MixPE path shared by INT8 and aligned activations; `shift(row, g)` and `post(row)` differ.
template <typename ShiftFn, typename PostFn>
std::vector<float> mixpe_portable(const std::vector<std::int32_t>& xi, int m, const QuantizedWeights& w, unsigned threads,
                                  ShiftFn shift, PostFn post) {
  const int groups = w.groups(), g = w.group_size, k = w.k;
  std::vector<std::int64_t> a(static_cast<std::size_t>(m) * groups);
  for (int row = 0; row < m; ++row)
    for (int G = 0; G < groups; ++G)
      a[static_cast<std::size_t>(row) * groups + G] = sum(xi.data() + static_cast<std::size_t>(row) * k + G * g, g);
  std::vector<float> y(static_cast<std::size_t>(m) * w.n);
  parallel_for(w.n, threads, [&](int col_begin, int col_end) {
    for (int col = col_begin; col < col_end; ++col) {
      const std::int16_t* q = w.codes.data() + static_cast<std::size_t>(col) * k;
      for (int row = 0; row < m; ++row) {
        const std::int32_t* x = xi.data() + static_cast<std::size_t>(row) * k;
        float acc = 0.0f;
        for (int G = 0; G < groups; ++G) {
          const std::int64_t p = dot(q + G * g, x + G * g, g);
          const Half* min = w.has_mins() ? &w.mins[static_cast<std::size_t>(col) * groups + G] : nullptr;
          acc = accumulate_group(acc, p, a[static_cast<std::size_t>(row) * groups + G], w.zero(col, G), w.scale(col, G), min,
                                 shift(row, G));
        }
        y[static_cast<std::size_t>(row) * w.n + col] = post(row, acc);
      }
    }
  });
  return y;
}

// Packed SIMD path.

int storage_bits(int bits) { return bits == 2 ? 2 : bits == 8 ? 8 : 4; }

// The integer sums wrap modulo 2^32 in the vector kernels; they are exact when every group sum
// |Gs| = |sum (q - z) x| <= g * max|q - z| * max|x| stays below 2^31 (with group minimums,
// Gs = P = sum q x). Longer groups (e.g. per-channel with aligned activations) take the kernels'
// wide path: int32 sums over 256 k, added in int64.
bool fits_int32(const QuantizedWeights& w, std::int64_t max_abs_x) {
  const std::int64_t max_diff = w.symmetric && !w.has_mins() ? (std::int64_t{1} << (w.bits - 1)) : (std::int64_t{1} << w.bits) - 1;
  return static_cast<std::int64_t>(w.group_size) * max_diff * max_abs_x <= std::numeric_limits<std::int32_t>::max();
}

bool simd_ready(const kernels::KernelSet& ks, const PreparedWeights& w) { return ks.mixpe != nullptr && w.code_bits != 0; }

// Per (row, group): A = sum of the group's activations, exact (int64), truncated to int32 for the
// narrow kernels (exact there: |A| <= g * max|x| < 2^31), and fp32(A) for minimums; and max|x|,
// which decides between the narrow and the wide kernels.
struct ActSums {
  std::vector<std::int32_t> a;
  std::vector<std::int64_t> a64;
  std::vector<float> a_f;
  std::int64_t max_abs_x = 0;
};
template <typename T>
ActSums group_sums(const T* x, int m, int k, int g) {
  constexpr int kPart = 1 << 15;  // int32 partial sums: 2^15 values of |x| <= 2^15 stay below 2^31
  const int groups = k / g;
  ActSums r;
  r.a.resize(static_cast<std::size_t>(m) * groups);
  r.a64.resize(r.a.size());
  r.a_f.resize(r.a.size());
  int hi = 0, lo = 0;
  for (int row = 0; row < m; ++row) {
    for (int G = 0; G < groups; ++G) {
      const T* p = x + static_cast<std::size_t>(row) * k + static_cast<std::size_t>(G) * g;
      std::int64_t s = 0;
      for (int c = 0; c < g; c += kPart) {
        const int end = std::min(g, c + kPart);
        std::int32_t part = 0;
        for (int j = c; j < end; ++j) {
          part += p[j];
          hi = std::max<int>(hi, p[j]);
          lo = std::min<int>(lo, p[j]);
        }
        s += part;
      }
      const std::size_t i = static_cast<std::size_t>(row) * groups + G;
      r.a[i] = static_cast<std::int32_t>(s);
      r.a64[i] = s;
      r.a_f[i] = static_cast<float>(s);  // round to nearest even, as dequantize_group
    }
  }
  r.max_abs_x = std::max(hi, -lo);
  return r;
}

kernels::MixpeJob packed_job(const PreparedWeights& pw, int m, const ActSums& sums, float* y) {
  const QuantizedWeights& w = *pw.source;
  kernels::MixpeJob j;
  j.m = m;
  j.n = w.n;
  j.k = w.k;
  j.groups = w.groups();
  j.group_size = w.group_size;
  j.code_bits = pw.code_bits;
  j.codes = pw.packed_codes.data();
  j.scales = pw.packed_scales.data();
  j.zeros = pw.packed_zeros.data();
  j.mins = pw.packed_mins.empty() ? nullptr : pw.packed_mins.data();
  j.a = sums.a.data();
  j.a64 = sums.a64.data();
  j.a_f = sums.a_f.data();
  j.wide = !fits_int32(w, sums.max_abs_x);
  j.y = y;
  return j;
}

void run_packed(const kernels::KernelSet& ks, const kernels::MixpeJob& j, unsigned threads) {
  parallel_for(blocks_of(j.n), threads, [&](int b0, int b1) { ks.mixpe(j, b0, b1); });
}

std::vector<float> mixpe_int8_packed(const kernels::KernelSet& ks, const Int8Activations& x, const PreparedWeights& pw,
                                     unsigned threads, float acc_init) {
  std::vector<float> y(static_cast<std::size_t>(x.m) * pw.source->n);
  const ActSums sums = group_sums(x.codes.data(), x.m, x.k, pw.source->group_size);
  kernels::MixpeJob j = packed_job(pw, x.m, sums, y.data());
  j.x8 = x.codes.data();
  j.row_scales = x.scales.data();
  j.acc_init = acc_init;
  run_packed(ks, j, threads);
  return y;
}

void check(const PreparedWeights& w, int x_k, const char* what) {
  if (w.source == nullptr || w.kind != PreparedWeights::Kind::kMixpe) {
    throw std::invalid_argument(fmt::format("{}: weights were not prepared with PreparedWeights::for_mixpe", what));
  }
  if (x_k != w.source->k) {
    throw std::invalid_argument(fmt::format("{}: activation K = {} does not match weight K = {}", what, x_k, w.source->k));
  }
}

// Packs codes and per-group metadata (docs/numerics.md, "Kernel weight layout"); leaves the
// packed buffers empty when g is not a multiple of the codes one 64-byte unit holds per column.
void pack_mixpe(PreparedWeights& p) {
  const QuantizedWeights& w = *p.source;
  const int sb = storage_bits(w.bits), per_unit = 8 / sb, g = w.group_size, groups = w.groups();
  if (g % (4 * per_unit) != 0) return;
  const std::size_t group_bytes = static_cast<std::size_t>(g / (4 * per_unit)) * kUnitBytes;
  const std::size_t block_groups = static_cast<std::size_t>(blocks_of(w.n)) * groups;
  p.code_bits = sb;
  p.packed_codes.assign(block_groups * group_bytes, 0);
  p.packed_scales.assign(block_groups * kBlockCols, 0);
  p.packed_zeros.assign(block_groups * kBlockCols, 0);
  if (w.has_mins()) p.packed_mins.assign(block_groups * kBlockCols, 0);
  // Symmetric codes are stored unsigned; the kernel subtracts the offset times A with the zero point.
  const int offset = w.symmetric ? 1 << (w.bits - 1) : 0;
  for (int col = 0; col < w.n; ++col) {
    const int block = col / kBlockCols, lane = col % kBlockCols;
    for (int G = 0; G < groups; ++G) {
      const std::size_t bg = static_cast<std::size_t>(block) * groups + G;
      std::uint8_t* dst = p.packed_codes.data() + bg * group_bytes;
      const std::int16_t* src = w.codes.data() + static_cast<std::size_t>(col) * w.k + static_cast<std::size_t>(G) * g;
      for (int t = 0; t < g; ++t) {
        const int quad = t / 4, unit = quad / per_unit, slot = quad % per_unit;
        dst[unit * kUnitBytes + lane * 4 + t % 4] |= static_cast<std::uint8_t>((src[t] + offset) << (slot * sb));
      }
      const std::size_t meta = bg * kBlockCols + lane;
      p.packed_scales[meta] = w.scale(col, G).bits();
      p.packed_zeros[meta] = static_cast<std::uint8_t>(w.zero(col, G) + offset);
      if (w.has_mins()) p.packed_mins[meta] = w.min(col, G).bits();
    }
  }
}

}  // namespace

std::string active_kernel_variant() { return active_kernels().name; }

std::vector<std::string> supported_kernel_variants() {
  std::vector<std::string> names;
  for (const Variant& v : kVariants)
    if (v.cpu_has()) names.emplace_back(v.set->name);
  return names;
}

void set_kernel_variant(std::string_view name) {
  std::lock_guard<std::mutex> lock(g_select_mu);
  select_variant(name, "");
}

void select_kernel_variant_from_environment() {
  std::lock_guard<std::mutex> lock(g_select_mu);
  select_from_environment();
}

PreparedWeights PreparedWeights::for_mixpe(const QuantizedWeights& w) {
  PreparedWeights p;
  p.source = &w;
  p.kind = Kind::kMixpe;
  pack_mixpe(p);
  return p;
}

PreparedWeights PreparedWeights::for_fp16(const QuantizedWeights& w) {
  PreparedWeights p;
  p.source = &w;
  p.kind = Kind::kFp16;
  p.w16.assign(static_cast<std::size_t>(blocks_of(w.n)) * w.k * kBlockCols, 0);
  for (int col = 0; col < w.n; ++col) {
    std::uint16_t* dst = p.w16.data() + static_cast<std::size_t>(col / kBlockCols) * w.k * kBlockCols + col % kBlockCols;
    for (int j = 0; j < w.k; ++j) {
      const int G = j / w.group_size;
      const Half h = w.has_mins() ? dequantize_weight_fp16_min(w.code(col, j), w.scale(col, G), w.min(col, G))
                                  : dequantize_weight_fp16(w.code(col, j), w.zero(col, G), w.scale(col, G));
      dst[static_cast<std::size_t>(j) * kBlockCols] = h.bits();
    }
  }
  return p;
}

std::size_t PreparedWeights::streamed_bytes() const {
  return packed_codes.size() + packed_zeros.size() + 2 * (packed_scales.size() + packed_mins.size() + w16.size());
}

std::vector<float> gemm_mixpe_int8(const Int8Activations& x, const PreparedWeights& w, unsigned threads) {
  check(w, x.k, "mixpe int8 GEMM");
  const kernels::KernelSet& ks = active_kernels();
  if (simd_ready(ks, w)) return mixpe_int8_packed(ks, x, w, threads, 0.0f);
  const std::vector<std::int32_t> xi(x.codes.begin(), x.codes.end());
  return mixpe_portable(xi, x.m, *w.source, threads, [](int, int) { return 0; },
                        [&](int row, float acc) { return acc * x.scales[row]; });
}

std::vector<float> gemm_mixpe_aligned(const AlignedActivations& x, const PreparedWeights& w, unsigned threads) {
  check(w, x.k, "mixpe aligned GEMM");
  if (x.group_size != w.source->group_size) {
    throw std::invalid_argument(fmt::format("mixpe aligned GEMM: activation alignment group {} differs from weight group {}",
                                            x.group_size, w.source->group_size));
  }
  const kernels::KernelSet& ks = active_kernels();
  if (simd_ready(ks, w)) {
    // Each quad of k reordered x0 x2 x1 x3: the kernel splits code bytes into (c0, c2) and (c1, c3) words.
    std::vector<std::int16_t> xq(x.mants.size());
    for (std::size_t i = 0; i < xq.size(); i += 4) {
      xq[i] = x.mants[i];
      xq[i + 1] = x.mants[i + 2];
      xq[i + 2] = x.mants[i + 1];
      xq[i + 3] = x.mants[i + 3];
    }
    const ActSums sums = group_sums(x.mants.data(), x.m, x.k, x.group_size);
    std::vector<double> pow2(x.shifts.size());
    for (std::size_t i = 0; i < pow2.size(); ++i) pow2[i] = std::ldexp(1.0, x.shifts[i]);
    std::vector<float> y(static_cast<std::size_t>(x.m) * w.source->n);
    kernels::MixpeJob j = packed_job(w, x.m, sums, y.data());
    j.x16 = xq.data();
    j.pow2 = pow2.data();
    run_packed(ks, j, threads);
    return y;
  }
  const std::vector<std::int32_t> xi(x.mants.begin(), x.mants.end());
  return mixpe_portable(xi, x.m, *w.source, threads, [&](int row, int G) { return x.shift(row, G); },
                        [](int, float acc) { return acc; });
}

std::vector<float> gemm_fp16(std::span<const Half> x, int m, const PreparedWeights& pw, unsigned threads) {
  if (pw.source == nullptr || pw.kind != PreparedWeights::Kind::kFp16) {
    throw std::invalid_argument("fp16 GEMM: weights were not prepared with PreparedWeights::for_fp16");
  }
  const QuantizedWeights& w = *pw.source;
  if (x.size() != static_cast<std::size_t>(m) * w.k) {
    throw std::invalid_argument(fmt::format("fp16 GEMM: {} activations for shape [{}, {}]", x.size(), m, w.k));
  }
  const kernels::KernelSet& ks = active_kernels();
  std::vector<float> xf(x.size());
  if (ks.half_to_float != nullptr) {
    static_assert(sizeof(Half) == sizeof(std::uint16_t));
    std::vector<std::uint16_t> bits(x.size());
    std::transform(x.begin(), x.end(), bits.begin(), [](Half h) { return h.bits(); });
    ks.half_to_float(bits.data(), xf.data(), bits.size());
  } else {
    std::transform(x.begin(), x.end(), xf.begin(), [](Half h) { return h.to_float(); });
  }
  std::vector<float> y(static_cast<std::size_t>(m) * w.n);
  if (ks.fp16 != nullptr) {
    // Chunks of 4 blocks: the kernel runs 4 column blocks side by side (independent add chains).
    const kernels::Fp16Job j{m, w.n, w.k, pw.w16.data(), xf.data(), y.data()};
    const int blocks = blocks_of(w.n);
    parallel_for((blocks + 3) / 4, threads, [&](int c0, int c1) { ks.fp16(j, 4 * c0, std::min(blocks, 4 * c1)); });
    return y;
  }
  // Portable: each output column keeps its own sequential k-order sum; the lanes run across columns.
  parallel_for(blocks_of(w.n), threads, [&](int b0, int b1) {
    for (int block = b0; block < b1; ++block) {
      const std::uint16_t* wb = pw.w16.data() + static_cast<std::size_t>(block) * w.k * kBlockCols;
      const int col0 = block * kBlockCols, cols = std::min(kBlockCols, w.n - col0);
      for (int row = 0; row < m; ++row) {
        float acc[kBlockCols] = {};
        for (int j = 0; j < w.k; ++j) {
          const float xv = xf[static_cast<std::size_t>(row) * w.k + j];
          for (int c = 0; c < kBlockCols; ++c) acc[c] += xv * Half::from_bits(wb[static_cast<std::size_t>(j) * kBlockCols + c]).to_float();
        }
        std::copy(acc, acc + cols, y.begin() + static_cast<std::ptrdiff_t>(row) * w.n + col0);
      }
    }
  });
  return y;
}

std::vector<float> gemm_int8(const Int8Activations& x, const PreparedWeights& pw, unsigned threads) {
  check(pw, x.k, "int8 GEMM");
  const QuantizedWeights& w = *pw.source;
  if (!w.symmetric || w.group_size != w.k || w.bits > 8 || w.has_mins()) {
    throw std::invalid_argument(fmt::format(
        "int8 GEMM: weights must be symmetric per-channel with at most 8 bits (got {}-bit, {}, group {} of K = {})", w.bits,
        w.symmetric ? "symmetric" : "asymmetric", w.group_size, w.k));
  }
  // One symmetric group per channel: y = fp32(fp32(acc) * s_w) * s_x is the MixPE INT8 kernel with
  // the accumulator starting at -0, which makes acc + d = d bit for bit (also for d = -0).
  const kernels::KernelSet& ks = active_kernels();
  if (simd_ready(ks, pw)) return mixpe_int8_packed(ks, x, pw, threads, -0.0f);
  const std::vector<std::int32_t> xi(x.codes.begin(), x.codes.end());
  std::vector<float> y(static_cast<std::size_t>(x.m) * w.n);
  parallel_for(w.n, threads, [&](int col_begin, int col_end) {
    for (int col = col_begin; col < col_end; ++col) {
      const float sw = w.scale(col, 0).to_float();
      for (int row = 0; row < x.m; ++row) {
        const std::int64_t acc = dot(w.codes.data() + static_cast<std::size_t>(col) * w.k, xi.data() + static_cast<std::size_t>(row) * w.k, w.k);
        assert(acc >= std::numeric_limits<std::int32_t>::min() && acc <= std::numeric_limits<std::int32_t>::max() &&
               "int32 accumulator overflow");
        y[static_cast<std::size_t>(row) * w.n + col] = (static_cast<float>(static_cast<std::int32_t>(acc)) * sw) * x.scales[row];
      }
    }
  });
  return y;
}

}  // namespace mixpe::quant
