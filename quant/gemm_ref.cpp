// Scalar reference implementations of every PE type's GEMM; deliberately simple loops.
#include "quant/gemm_ref.h"

#include <cassert>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "quant/pe_arith.h"

namespace mixpe::quant {
namespace {

void check_k(int x_k, const QuantizedWeights& w, const char* what) {
  if (x_k != w.k) {
    throw std::invalid_argument(fmt::format("{}: activation K = {} does not match weight K = {}", what, x_k, w.k));
  }
}

}  // namespace

GroupSums mixpe_group_sums_ref(std::span<const std::int32_t> x, int m, const QuantizedWeights& w) {
  assert(x.size() == static_cast<std::size_t>(m) * w.k && "activation matrix must be M x K");
  GroupSums s;
  s.m = m;
  s.n = w.n;
  s.groups = w.groups();
  s.p.assign(static_cast<std::size_t>(m) * w.n * s.groups, 0);
  s.a.assign(static_cast<std::size_t>(m) * s.groups, 0);
  for (int row = 0; row < m; ++row) {
    const std::int32_t* xr = x.data() + static_cast<std::size_t>(row) * w.k;
    for (int g = 0; g < s.groups; ++g) {
      std::int64_t a = 0;
      for (int j = g * w.group_size; j < (g + 1) * w.group_size; ++j) a += xr[j];
      s.a[static_cast<std::size_t>(row) * s.groups + g] = a;
    }
    for (int col = 0; col < w.n; ++col) {
      for (int g = 0; g < s.groups; ++g) {
        std::int64_t p = 0;
        for (int j = g * w.group_size; j < (g + 1) * w.group_size; ++j) {
          p += shift_add_product(w.code(col, j), w.bits, w.symmetric, xr[j]);
        }
        s.p[(static_cast<std::size_t>(row) * w.n + col) * s.groups + g] = p;
      }
    }
  }
  return s;
}

std::vector<float> gemm_mixpe_int8_ref(const Int8Activations& x, const QuantizedWeights& w) {
  check_k(x.k, w, "mixpe int8 GEMM");
  const std::vector<std::int32_t> xi(x.codes.begin(), x.codes.end());
  const GroupSums s = mixpe_group_sums_ref(xi, x.m, w);
  std::vector<float> y(static_cast<std::size_t>(x.m) * w.n);
  for (int row = 0; row < x.m; ++row) {
    for (int col = 0; col < w.n; ++col) {
      float acc = 0.0f;
      for (int g = 0; g < s.groups; ++g) {
        const Half* min = w.has_mins() ? &w.mins[static_cast<std::size_t>(col) * s.groups + g] : nullptr;
        acc = accumulate_group(acc, s.P(row, col, g), s.A(row, g), w.zero(col, g), w.scale(col, g), min, 0);
      }
      y[static_cast<std::size_t>(row) * w.n + col] = acc * x.scales[row];
    }
  }
  return y;
}

std::vector<float> gemm_mixpe_aligned_ref(const AlignedActivations& x, const QuantizedWeights& w) {
  check_k(x.k, w, "mixpe aligned GEMM");
  if (x.group_size != w.group_size) {
    throw std::invalid_argument(fmt::format("mixpe aligned GEMM: activation alignment group {} differs from weight group {}",
                                            x.group_size, w.group_size));
  }
  const std::vector<std::int32_t> xi(x.mants.begin(), x.mants.end());
  const GroupSums s = mixpe_group_sums_ref(xi, x.m, w);
  std::vector<float> y(static_cast<std::size_t>(x.m) * w.n);
  for (int row = 0; row < x.m; ++row) {
    for (int col = 0; col < w.n; ++col) {
      float acc = 0.0f;
      for (int g = 0; g < s.groups; ++g) {
        const Half* min = w.has_mins() ? &w.mins[static_cast<std::size_t>(col) * s.groups + g] : nullptr;
        acc = accumulate_group(acc, s.P(row, col, g), s.A(row, g), w.zero(col, g), w.scale(col, g), min, x.shift(row, g));
      }
      y[static_cast<std::size_t>(row) * w.n + col] = acc;
    }
  }
  return y;
}

std::vector<float> gemm_mixpe_fp16_ref(std::span<const Half> x, int m, const QuantizedWeights& w) {
  return gemm_mixpe_aligned_ref(align_activations_fp16(x, m, w.k, w.group_size), w);
}

std::vector<float> gemm_mixpe_bf16_ref(std::span<const BFloat16> x, int m, const QuantizedWeights& w) {
  return gemm_mixpe_aligned_ref(align_activations_bf16(x, m, w.k, w.group_size), w);
}

std::vector<float> gemm_fp16_ref(std::span<const Half> x, int m, const QuantizedWeights& w) {
  if (x.size() != static_cast<std::size_t>(m) * w.k) {
    throw std::invalid_argument(fmt::format("fp16 GEMM: {} activations for shape [{}, {}]", x.size(), m, w.k));
  }
  std::vector<float> w16(static_cast<std::size_t>(w.n) * w.k);
  for (int col = 0; col < w.n; ++col)
    for (int j = 0; j < w.k; ++j)
      w16[static_cast<std::size_t>(col) * w.k + j] =
          (w.has_mins() ? dequantize_weight_fp16_min(w.code(col, j), w.scale(col, j / w.group_size), w.min(col, j / w.group_size))
                        : dequantize_weight_fp16(w.code(col, j), w.zero(col, j / w.group_size), w.scale(col, j / w.group_size)))
              .to_float();
  std::vector<float> y(static_cast<std::size_t>(m) * w.n);
  for (int row = 0; row < m; ++row) {
    for (int col = 0; col < w.n; ++col) {
      float acc = 0.0f;
      for (int j = 0; j < w.k; ++j) {
        // 11-bit x 11-bit significands: the product is exact in FP32.
        const float product = x[static_cast<std::size_t>(row) * w.k + j].to_float() * w16[static_cast<std::size_t>(col) * w.k + j];
        acc += product;
      }
      y[static_cast<std::size_t>(row) * w.n + col] = acc;
    }
  }
  return y;
}

std::vector<float> gemm_int8_ref(const Int8Activations& x, const QuantizedWeights& w) {
  check_k(x.k, w, "int8 GEMM");
  if (!w.symmetric || w.group_size != w.k || w.bits > 8 || w.has_mins()) {
    throw std::invalid_argument(fmt::format(
        "int8 GEMM: weights must be symmetric per-channel with at most 8 bits (got {}-bit, {}, group {} of K = {})",
        w.bits, w.symmetric ? "symmetric" : "asymmetric", w.group_size, w.k));
  }
  std::vector<float> y(static_cast<std::size_t>(x.m) * w.n);
  for (int row = 0; row < x.m; ++row) {
    for (int col = 0; col < w.n; ++col) {
      std::int64_t acc = 0;
      for (int j = 0; j < w.k; ++j) acc += static_cast<std::int64_t>(w.code(col, j)) * x.code(row, j);
      assert(acc >= std::numeric_limits<std::int32_t>::min() && acc <= std::numeric_limits<std::int32_t>::max() &&
             "int32 accumulator overflow: K exceeds the bound in docs/numerics.md");
      const float wide = static_cast<float>(static_cast<std::int32_t>(acc)) * w.scale(col, 0).to_float();
      y[static_cast<std::size_t>(row) * w.n + col] = wide * x.scales[row];
    }
  }
  return y;
}

std::vector<double> gemm_f64_ref(std::span<const double> x, int m, std::span<const double> w, int n, int k) {
  assert(x.size() == static_cast<std::size_t>(m) * k && w.size() == static_cast<std::size_t>(n) * k);
  std::vector<double> y(static_cast<std::size_t>(m) * n);
  for (int row = 0; row < m; ++row) {
    for (int col = 0; col < n; ++col) {
      double acc = 0.0;
      for (int j = 0; j < k; ++j) acc += x[static_cast<std::size_t>(row) * k + j] * w[static_cast<std::size_t>(col) * k + j];
      y[static_cast<std::size_t>(row) * n + col] = acc;
    }
  }
  return y;
}

std::vector<double> int8_values(const Int8Activations& x) {
  std::vector<double> v(x.codes.size());
  for (int row = 0; row < x.m; ++row)
    for (int j = 0; j < x.k; ++j)
      v[static_cast<std::size_t>(row) * x.k + j] = static_cast<double>(x.code(row, j)) * x.scales[row];
  return v;
}

std::vector<double> aligned_values(const AlignedActivations& x) {
  std::vector<double> v(x.mants.size());
  for (int row = 0; row < x.m; ++row)
    for (int j = 0; j < x.k; ++j) v[static_cast<std::size_t>(row) * x.k + j] = x.value(row, j);
  return v;
}

}  // namespace mixpe::quant
