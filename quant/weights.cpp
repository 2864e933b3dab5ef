// Round-to-nearest group quantizer and dequantization for weight matrices.
#include "quant/weights.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::quant {
namespace {

// Smallest FP16 value >= s (s > 0 and finite); +inf if s exceeds the FP16 range.
Half half_round_up(double s) {
  Half h = Half::from_double(s);
  if (h.is_finite() && h.to_double() < s) h = Half::from_bits(static_cast<std::uint16_t>(h.bits() + 1));
  return h;
}

}  // namespace

void WeightQuantConfig::validate(int k, const std::string& tensor_name) const {
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
    throw std::invalid_argument(
        fmt::format("{}: weight bits = {} is not supported (choose 2, 3, 4 or 8)", tensor_name, bits));
  }
  if (k <= 0) throw std::invalid_argument(fmt::format("{}: K = {} must be positive", tensor_name, k));
  if (group_size != -1 && group_size <= 0) {
    throw std::invalid_argument(
        fmt::format("{}: group size = {} must be positive or -1 (per-channel)", tensor_name, group_size));
  }
  if (group_size != -1 && k % group_size != 0) {
    throw std::invalid_argument(fmt::format("{}: group size = {} does not divide K = {} (K % g = {})", tensor_name,
                                            group_size, k, k % group_size));
  }
}

QuantizedWeights quantize_weights_rtn(std::span<const float> w, int n, int k, const WeightQuantConfig& cfg,
                                      const std::string& tensor_name) {
  cfg.validate(k, tensor_name);
  if (n <= 0) throw std::invalid_argument(fmt::format("{}: N = {} must be positive", tensor_name, n));
  if (w.size() != static_cast<std::size_t>(n) * k) {
    throw std::invalid_argument(fmt::format("{}: has {} values but shape [{}, {}] needs {}", tensor_name, w.size(),
                                            n, k, static_cast<std::size_t>(n) * k));
  }
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i])) {
      throw std::invalid_argument(fmt::format("{}: shape [{}, {}] element [{}, {}] is {} (weights must be finite)",
                                              tensor_name, n, k, i / k, i % k, w[i]));
    }
  }

  QuantizedWeights q;
  q.n = n;
  q.k = k;
  q.bits = cfg.bits;
  q.group_size = cfg.effective_group(k);
  q.symmetric = cfg.symmetric;
  const int groups = q.groups();
  q.codes.resize(static_cast<std::size_t>(n) * k);
  q.scales.resize(static_cast<std::size_t>(n) * groups);
  q.zeros.assign(static_cast<std::size_t>(n) * groups, 0);
  const int qmin = cfg.code_min();
  const int qmax = cfg.code_max();

  for (int row = 0; row < n; ++row) {
    for (int g = 0; g < groups; ++g) {
      const float* x = w.data() + static_cast<std::size_t>(row) * k + static_cast<std::size_t>(g) * q.group_size;
      double lo = 0.0, hi = 0.0;
      for (int j = 0; j < q.group_size; ++j) {
        lo = std::min(lo, static_cast<double>(x[j]));
        hi = std::max(hi, static_cast<double>(x[j]));
      }
      const double step = cfg.symmetric ? std::max(-lo, hi) / ((1 << (cfg.bits - 1)) - 1) : (hi - lo) / qmax;
      const std::size_t gi = static_cast<std::size_t>(row) * groups + g;
      std::int16_t* codes = q.codes.data() + static_cast<std::size_t>(row) * k + static_cast<std::size_t>(g) * q.group_size;
      if (step == 0.0) {  // all-zero group: exact zeros whatever the code
        q.scales[gi] = Half::from_bits(0);
        std::fill(codes, codes + q.group_size, std::int16_t{0});
        continue;
      }
      const Half s16 = half_round_up(step);
      if (!s16.is_finite()) {
        throw std::invalid_argument(fmt::format(
            "{}: shape [{}, {}] row {} group {} needs scale {:g}, beyond the FP16 range (max 65504)", tensor_name,
            n, k, row, g, step));
      }
      const double s = s16.to_double();
      const int z = cfg.symmetric ? 0 : std::clamp(static_cast<int>(std::nearbyint(-lo / s)), 0, qmax);
      q.scales[gi] = s16;
      q.zeros[gi] = static_cast<std::uint8_t>(z);
      for (int j = 0; j < q.group_size; ++j) {
        const int code = static_cast<int>(std::nearbyint(static_cast<double>(x[j]) / s)) + z;
        codes[j] = static_cast<std::int16_t>(std::clamp(code, qmin, qmax));
      }
    }
  }
  return q;
}

std::vector<double> dequantize_weights_f64(const QuantizedWeights& q) {
  std::vector<double> out(static_cast<std::size_t>(q.n) * q.k);
  for (int row = 0; row < q.n; ++row)
    for (int col = 0; col < q.k; ++col) out[static_cast<std::size_t>(row) * q.k + col] = q.dequantized(row, col);
  return out;
}

std::vector<float> dequantize_weights_f32(const QuantizedWeights& q) {
  std::vector<float> out(static_cast<std::size_t>(q.n) * q.k);
  for (int row = 0; row < q.n; ++row)
    for (int col = 0; col < q.k; ++col)
      out[static_cast<std::size_t>(row) * q.k + col] = static_cast<float>(q.dequantized(row, col));
  return out;
}

void validate_quantized_weights(const QuantizedWeights& q, const std::string& tensor_name) {
  WeightQuantConfig cfg{q.bits, q.group_size, q.symmetric};
  cfg.validate(q.k, tensor_name);
  const std::size_t groups = static_cast<std::size_t>(q.n) * q.groups();
  if (q.n <= 0 || q.codes.size() != static_cast<std::size_t>(q.n) * q.k || q.scales.size() != groups ||
      q.zeros.size() != groups) {
    throw std::invalid_argument(fmt::format("{}: inconsistent sizes for shape [{}, {}] g = {}: {} codes, {} scales, {} zeros",
                                            tensor_name, q.n, q.k, q.group_size, q.codes.size(), q.scales.size(),
                                            q.zeros.size()));
  }
  for (std::size_t i = 0; i < q.codes.size(); ++i) {
    if (q.codes[i] < cfg.code_min() || q.codes[i] > cfg.code_max()) {
      throw std::invalid_argument(fmt::format("{}: code {} at [{}, {}] outside [{}, {}]", tensor_name, q.codes[i],
                                              i / q.k, i % q.k, cfg.code_min(), cfg.code_max()));
    }
  }
  if (q.has_mins()) {
    if (q.mins.size() != groups || q.symmetric) {
      throw std::invalid_argument(fmt::format("{}: {} group minimums for {} groups ({} codes); minimums need unsigned codes",
                                              tensor_name, q.mins.size(), groups, q.symmetric ? "signed" : "unsigned"));
    }
    for (std::size_t i = 0; i < groups; ++i) {
      if (q.zeros[i] != 0) {
        throw std::invalid_argument(fmt::format("{}: group {} has zero point {} and a float minimum; use one or the other",
                                                tensor_name, i, q.zeros[i]));
      }
    }
  }
  for (std::size_t i = 0; i < groups; ++i) {
    const int z = q.zeros[i];
    if ((q.symmetric && z != 0) || z > cfg.code_max()) {
      throw std::invalid_argument(fmt::format("{}: zero point {} of group {} invalid for {}-bit {} codes", tensor_name,
                                              z, i, q.bits, q.symmetric ? "symmetric" : "asymmetric"));
    }
  }
}

}  // namespace mixpe::quant
