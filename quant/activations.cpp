// Activation quantization (INT8 per token) and block-floating-point pre-alignment (FP16/BF16).
#include "quant/activations.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::quant {
namespace {

// The exponent the aligner sees: the unbiased exponent for normal numbers, the minimum normal
// exponent for zeros and subnormals (no leading-zero count needed in hardware).
int effective_exponent(double v, SmallFloatFormat fmt) {
  const double mag = std::fabs(v);
  if (mag < std::ldexp(1.0, fmt.min_normal_exp())) return fmt.min_normal_exp();
  return std::ilogb(mag);
}

template <typename T>
AlignedActivations align(std::span<const T> x, int m, int k, int group_size, SmallFloatFormat fmt,
                         const char* type_name) {
  if (m <= 0 || k <= 0 || group_size <= 0 || k % group_size != 0) {
    throw std::invalid_argument(fmt::format("{} activations: group size {} does not divide K = {} (M = {})",
                                            type_name, group_size, k, m));
  }
  if (x.size() != static_cast<std::size_t>(m) * k) {
    throw std::invalid_argument(fmt::format("{} activations: {} values for shape [{}, {}]", type_name, x.size(), m, k));
  }
  AlignedActivations a;
  a.m = m;
  a.k = k;
  a.group_size = group_size;
  a.mants.resize(x.size());
  a.shifts.resize(static_cast<std::size_t>(m) * a.groups());
  for (int row = 0; row < m; ++row) {
    for (int g = 0; g < a.groups(); ++g) {
      const std::size_t base = static_cast<std::size_t>(row) * k + static_cast<std::size_t>(g) * group_size;
      int e_max = fmt.min_normal_exp();
      for (int j = 0; j < group_size; ++j) {
        const T v = x[base + j];
        if (!v.is_finite()) {
          throw std::invalid_argument(fmt::format("{} activations: element [{}, {}] is not finite (bits 0x{:04x})",
                                                  type_name, row, base % k + j, v.bits()));
        }
        e_max = std::max(e_max, effective_exponent(v.to_double(), fmt));
      }
      const int shift = e_max - kAlignFracBits;
      a.shifts[static_cast<std::size_t>(row) * a.groups() + g] = static_cast<std::int16_t>(shift);
      for (int j = 0; j < group_size; ++j) {
        // Exact scaling by a power of two, then one round-half-even step.
        const double mant = std::nearbyint(std::ldexp(x[base + j].to_double(), -shift));
        a.mants[base + j] = static_cast<std::int16_t>(mant);
      }
    }
  }
  return a;
}

}  // namespace

double AlignedActivations::value(int row, int col) const {
  return std::ldexp(static_cast<double>(mant(row, col)), shift(row, col / group_size));
}

Int8Activations quantize_activations_int8(std::span<const float> x, int m, int k) {
  if (m <= 0 || k <= 0 || x.size() != static_cast<std::size_t>(m) * k) {
    throw std::invalid_argument(fmt::format("int8 activations: {} values for shape [{}, {}]", x.size(), m, k));
  }
  Int8Activations a;
  a.m = m;
  a.k = k;
  a.codes.resize(x.size());
  a.scales.resize(m);
  for (int row = 0; row < m; ++row) {
    const float* r = x.data() + static_cast<std::size_t>(row) * k;
    float absmax = 0.0f;
    for (int j = 0; j < k; ++j) {
      if (!std::isfinite(r[j])) {
        throw std::invalid_argument(fmt::format("int8 activations: element [{}, {}] is {}", row, j, r[j]));
      }
      absmax = std::max(absmax, std::fabs(r[j]));
    }
    const float scale = absmax / 127.0f;
    a.scales[row] = scale;
    for (int j = 0; j < k; ++j) {
      const float c = scale == 0.0f ? 0.0f : std::nearbyint(r[j] / scale);
      a.codes[static_cast<std::size_t>(row) * k + j] = static_cast<std::int8_t>(std::clamp(c, -127.0f, 127.0f));
    }
  }
  return a;
}

AlignedActivations align_activations_fp16(std::span<const Half> x, int m, int k, int group_size) {
  return align(x, m, k, group_size, kHalfFormat, "FP16");
}

AlignedActivations align_activations_bf16(std::span<const BFloat16> x, int m, int k, int group_size) {
  return align(x, m, k, group_size, kBFloat16Format, "BF16");
}

std::vector<Half> to_half(std::span<const float> x) {
  std::vector<Half> out(x.size());
  std::transform(x.begin(), x.end(), out.begin(), Half::from_float);
  return out;
}

std::vector<BFloat16> to_bfloat16(std::span<const float> x) {
  std::vector<BFloat16> out(x.size());
  std::transform(x.begin(), x.end(), out.begin(), BFloat16::from_float);
  return out;
}

}  // namespace mixpe::quant
