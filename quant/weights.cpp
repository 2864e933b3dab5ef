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


// The plain round-to-nearest parameters; returns false (and the step) if the scale overflows FP16.
bool plain_params(std::span<const double> x, const WeightQuantConfig& cfg, GroupQuantParams& p, double& step) {
  const int qmax = cfg.code_max();
  p = GroupQuantParams{};
  if (cfg.symmetric) {
    double extreme = 0.0;
    for (double v : x)
      if (std::fabs(v) > std::fabs(extreme)) extreme = v;
    step = std::fabs(extreme) / (1 << (cfg.bits - 1));
    if (step == 0.0) return true;
    // Nearest FP16 (rounding up would cost ~0.002 dB on average); the extreme then lands within
    // 2^-11 relative of code -2^(b-1), and clamping there costs at most |e| 2^-11 < |s| / 2.
    Half s16 = Half::from_double(step);
    if (s16.to_double() == 0.0) s16 = half_round_up(step);
    if (!s16.is_finite()) return false;
    // The extreme lands on the most negative code: a positive extreme needs a negative scale.
    if (extreme > 0.0) s16 = Half::from_bits(static_cast<std::uint16_t>(s16.bits() | 0x8000u));
    p.scale = s16;
    return true;
  }
  double lo = 0.0, hi = 0.0;
  for (double v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  step = (hi - lo) / qmax;
  if (step == 0.0) return true;
  const Half s16 = half_round_up(step);
  if (!s16.is_finite()) return false;
  p.scale = s16;
  p.zero = std::clamp(static_cast<int>(std::nearbyint(-lo / s16.to_double())), 0, qmax);
  return true;
}

// Least squared error candidate among shrunken ranges (see choose_group_params); `best` holds the
// plain parameters on entry and is replaced only by a strictly better candidate.
void search_params(std::span<const double> x, const WeightQuantConfig& cfg, GroupQuantParams& best) {
  if (best.scale.to_double() == 0.0) return;  // all zero: already exact
  double best_err = group_squared_error(x, best, cfg);
  const int qmax = cfg.code_max();
  auto consider = [&](double scale, int zero) {
    const Half s16 = Half::from_double(scale);
    if (!s16.is_finite() || s16.to_double() == 0.0) return;
    const GroupQuantParams p{s16, zero};
    const double err = group_squared_error(x, p, cfg);
    if (err < best_err) {
      best_err = err;
      best = p;
    }
  };
  if (cfg.symmetric) {
    double amax = 0.0;
    for (double v : x) amax = std::max(amax, std::fabs(v));
    const double base = amax / (1 << (cfg.bits - 1));
    for (int r = 115; r >= 40; --r) {
      consider(base * r / 100.0, 0);
      consider(-base * r / 100.0, 0);
    }
    return;
  }
  double lo = 0.0, hi = 0.0;
  for (double v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  for (int a = 20; a >= 10; --a) {
    for (int b = 20; b >= 10; --b) {
      const double l = lo * a / 20.0, h = hi * b / 20.0;
      const double step = (h - l) / qmax;
      const Half s16 = Half::from_double(step);
      if (!s16.is_finite() || s16.to_double() == 0.0) continue;
      consider(step, std::clamp(static_cast<int>(std::nearbyint(-l / s16.to_double())), 0, qmax));
    }
  }
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

int quantize_value(double w, const GroupQuantParams& p, const WeightQuantConfig& cfg) {
  const double s = p.scale.to_double();
  if (s == 0.0) return p.zero;
  const double c = std::nearbyint(w / s) + p.zero;
  return static_cast<int>(std::clamp(c, static_cast<double>(cfg.code_min()), static_cast<double>(cfg.code_max())));
}

double group_squared_error(std::span<const double> group, const GroupQuantParams& p, const WeightQuantConfig& cfg) {
  const double s = p.scale.to_double();
  double sum = 0.0;
  for (double v : group) {
    const double e = s * (quantize_value(v, p, cfg) - p.zero) - v;
    sum += e * e;
  }
  return sum;
}

GroupQuantParams choose_group_params(std::span<const double> group, const WeightQuantConfig& cfg,
                                     const std::string& where) {
  GroupQuantParams p;
  double step = 0.0;
  if (!plain_params(group, cfg, p, step)) {
    throw std::invalid_argument(
        fmt::format("{}: needs scale {:g}, beyond the FP16 range (max 65504)", where, step));
  }
  if (cfg.clip_search) search_params(group, cfg, p);
  return p;
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
  std::vector<double> x(q.group_size);

  for (int row = 0; row < n; ++row) {
    for (int g = 0; g < groups; ++g) {
      const std::size_t first = static_cast<std::size_t>(row) * k + static_cast<std::size_t>(g) * q.group_size;
      for (int j = 0; j < q.group_size; ++j) x[j] = w[first + j];
      GroupQuantParams p;
      double step = 0.0;
      if (!plain_params(x, cfg, p, step)) {
        throw std::invalid_argument(fmt::format(
            "{}: shape [{}, {}] row {} group {} needs scale {:g}, beyond the FP16 range (max 65504)", tensor_name,
            n, k, row, g, step));
      }
      if (cfg.clip_search) search_params(x, cfg, p);
      const std::size_t gi = static_cast<std::size_t>(row) * groups + g;
      q.scales[gi] = p.scale;
      q.zeros[gi] = static_cast<std::uint8_t>(p.zero);
      for (int j = 0; j < q.group_size; ++j) q.codes[first + j] = static_cast<std::int16_t>(quantize_value(x[j], p, cfg));
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
  WeightQuantConfig cfg{q.bits, q.group_size, q.symmetric, false};
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
