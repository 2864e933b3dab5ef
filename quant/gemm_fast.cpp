// Fast kernels: int32 chunked dot products for the integer paths, lane-parallel FP32 sums for FP16.
#include "quant/gemm_fast.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "quant/pe_arith.h"

namespace mixpe::quant {
namespace {

// 256 products of |x| <= 2^14 and |q| <= 255 stay below 2^31, so chunks of 256 accumulate in int32.
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

// Runs body(begin, end) over [0, n) split into contiguous ranges, one per thread.
template <typename Body>
void parallel_for(int n, unsigned threads, Body body) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, static_cast<unsigned>(std::max(1, n / 4)));
  if (threads <= 1) {
    body(0, n);
    return;
  }
  std::vector<std::thread> pool;
  const int per = (n + static_cast<int>(threads) - 1) / static_cast<int>(threads);
  for (unsigned t = 0; t < threads; ++t) {
    const int begin = static_cast<int>(t) * per, end = std::min(n, begin + per);
    if (begin < end) pool.emplace_back(body, begin, end);
  }
  for (std::thread& th : pool) th.join();
}

void check(const PreparedWeights& w, int x_k, const char* what) {
  if (w.source == nullptr || w.codes.size() != w.source->codes.size()) {
    throw std::invalid_argument(fmt::format("{}: weights were not prepared with PreparedWeights::for_mixpe", what));
  }
  if (x_k != w.source->k) {
    throw std::invalid_argument(fmt::format("{}: activation K = {} does not match weight K = {}", what, x_k, w.source->k));
  }
}

// The MixPE path shared by INT8 and aligned activations; `shift(row, g)` and `post(row)` differ.
template <typename ShiftFn, typename PostFn>
std::vector<float> mixpe_kernel(const std::vector<std::int32_t>& xi, int m, const PreparedWeights& pw, unsigned threads,
                                ShiftFn shift, PostFn post) {
  const QuantizedWeights& w = *pw.source;
  const int groups = w.groups(), g = w.group_size, k = w.k;
  std::vector<std::int64_t> a(static_cast<std::size_t>(m) * groups);
  for (int row = 0; row < m; ++row)
    for (int G = 0; G < groups; ++G)
      a[static_cast<std::size_t>(row) * groups + G] = sum(xi.data() + static_cast<std::size_t>(row) * k + G * g, g);
  std::vector<float> y(static_cast<std::size_t>(m) * w.n);
  parallel_for(w.n, threads, [&](int col_begin, int col_end) {
    for (int col = col_begin; col < col_end; ++col) {
      const std::int16_t* q = pw.codes.data() + static_cast<std::size_t>(col) * k;
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

}  // namespace

PreparedWeights PreparedWeights::for_mixpe(const QuantizedWeights& w) {
  PreparedWeights p;
  p.source = &w;
  p.codes = w.codes;
  return p;
}

PreparedWeights PreparedWeights::for_fp16(const QuantizedWeights& w) {
  PreparedWeights p;
  p.source = &w;
  p.w16_t.resize(static_cast<std::size_t>(w.n) * w.k);
  for (int col = 0; col < w.n; ++col)
    for (int j = 0; j < w.k; ++j)
      p.w16_t[static_cast<std::size_t>(j) * w.n + col] =
          (w.has_mins() ? dequantize_weight_fp16_min(w.code(col, j), w.scale(col, j / w.group_size), w.min(col, j / w.group_size))
                        : dequantize_weight_fp16(w.code(col, j), w.zero(col, j / w.group_size), w.scale(col, j / w.group_size)))
              .to_float();
  return p;
}

std::vector<float> gemm_mixpe_int8(const Int8Activations& x, const PreparedWeights& w, unsigned threads) {
  check(w, x.k, "mixpe int8 GEMM");
  const std::vector<std::int32_t> xi(x.codes.begin(), x.codes.end());
  return mixpe_kernel(xi, x.m, w, threads, [](int, int) { return 0; },
                      [&](int row, float acc) { return acc * x.scales[row]; });
}

std::vector<float> gemm_mixpe_aligned(const AlignedActivations& x, const PreparedWeights& w, unsigned threads) {
  check(w, x.k, "mixpe aligned GEMM");
  if (x.group_size != w.source->group_size) {
    throw std::invalid_argument(fmt::format("mixpe aligned GEMM: activation alignment group {} differs from weight group {}",
                                            x.group_size, w.source->group_size));
  }
  const std::vector<std::int32_t> xi(x.mants.begin(), x.mants.end());
  return mixpe_kernel(xi, x.m, w, threads, [&](int row, int G) { return x.shift(row, G); },
                      [](int, float acc) { return acc; });
}

std::vector<float> gemm_fp16(std::span<const Half> x, int m, const PreparedWeights& pw, unsigned threads) {
  if (pw.source == nullptr || pw.w16_t.size() != pw.source->codes.size()) {
    throw std::invalid_argument("fp16 GEMM: weights were not prepared with PreparedWeights::for_fp16");
  }
  const QuantizedWeights& w = *pw.source;
  if (x.size() != static_cast<std::size_t>(m) * w.k) {
    throw std::invalid_argument(fmt::format("fp16 GEMM: {} activations for shape [{}, {}]", x.size(), m, w.k));
  }
  std::vector<float> xf(x.size());
  std::transform(x.begin(), x.end(), xf.begin(), [](Half h) { return h.to_float(); });
  std::vector<float> y(static_cast<std::size_t>(m) * w.n);
  // Each output column keeps its own sequential k-order sum; the vector lanes run across columns.
  parallel_for(w.n, threads, [&](int col_begin, int col_end) {
    std::vector<float> acc(static_cast<std::size_t>(col_end - col_begin));
    for (int row = 0; row < m; ++row) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int j = 0; j < w.k; ++j) {
        const float xv = xf[static_cast<std::size_t>(row) * w.k + j];
        const float* wrow = pw.w16_t.data() + static_cast<std::size_t>(j) * w.n + col_begin;
        for (int c = 0; c < col_end - col_begin; ++c) acc[c] += xv * wrow[c];
      }
      std::copy(acc.begin(), acc.end(), y.begin() + static_cast<std::ptrdiff_t>(row) * w.n + col_begin);
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
  const std::vector<std::int32_t> xi(x.codes.begin(), x.codes.end());
  std::vector<float> y(static_cast<std::size_t>(x.m) * w.n);
  parallel_for(w.n, threads, [&](int col_begin, int col_end) {
    for (int col = col_begin; col < col_end; ++col) {
      const float sw = w.scale(col, 0).to_float();
      for (int row = 0; row < x.m; ++row) {
        const std::int64_t acc = dot(pw.codes.data() + static_cast<std::size_t>(col) * w.k, xi.data() + static_cast<std::size_t>(row) * w.k, w.k);
        assert(acc >= std::numeric_limits<std::int32_t>::min() && acc <= std::numeric_limits<std::int32_t>::max() &&
               "int32 accumulator overflow");
        y[static_cast<std::size_t>(row) * w.n + col] = (static_cast<float>(static_cast<std::int32_t>(acc)) * sw) * x.scales[row];
      }
    }
  });
  return y;
}

}  // namespace mixpe::quant
