// ANT types, decoder, the per-tensor type search with per-channel clip search, and the GEMM oracle and fast kernel.
#include "quant/ant.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "quant/thread_pool.h"

namespace mixpe::quant {
namespace {

// A type's ascending distinct values, for each the code that quantize_ant writes, and the
// midpoints between neighbours (half-integers, exact in double).
struct Grid {
  std::vector<int> values;
  std::vector<std::uint8_t> codes;
  std::vector<double> mids;
};

Grid make_grid(AntType type) {
  Grid g;
  for (int c = 0; c < 16; ++c) {
    const int v = ant_value(type, c);
    const auto it = std::lower_bound(g.values.begin(), g.values.end(), v);
    if (it != g.values.end() && *it == v) continue;  // keep the first code (+0 before -0)
    g.codes.insert(g.codes.begin() + (it - g.values.begin()), static_cast<std::uint8_t>(c));
    g.values.insert(it, v);
  }
  for (std::size_t i = 0; i + 1 < g.values.size(); ++i) g.mids.push_back((g.values[i] + g.values[i + 1]) / 2.0);
  return g;
}

const Grid& grid_of(AntType type) {
  static const std::array<Grid, kAntTypeCount> grids = {make_grid(AntType::kInt), make_grid(AntType::kFlint),
                                                         make_grid(AntType::kPot)};
  return grids[static_cast<int>(type)];
}

// Nearest grid index: the number of midpoints at or below t, so a tie goes to the larger value
// (branch-free; the quantizer's inner loop).
std::size_t nearest_index(const Grid& g, double t) {
  std::size_t idx = 0;
  for (double m : g.mids) idx += t >= m;
  return idx;
}

int type_index(AntType type) { return static_cast<int>(type); }

struct ChannelBest {
  double sse = 0.0;
  Half scale = Half::from_bits(0);
};

// The least squared error clip candidate of one channel for one type (see AntQuantConfig).
ChannelBest search_channel(std::span<const float> row, AntType type, const AntQuantConfig& cfg) {
  const Grid& g = grid_of(type);
  double max_abs = 0.0, sum_sq = 0.0;
  for (float v : row) {
    max_abs = std::max(max_abs, std::fabs(static_cast<double>(v)));
    sum_sq += static_cast<double>(v) * v;
  }
  // Scale 0 (every code 0) is the fallback: the answer for an all-zero channel and for one whose
  // scales all underflow FP16.
  ChannelBest best{sum_sq, Half::from_bits(0)};
  std::uint16_t prev_bits = 0;
  for (int p = cfg.clip_min_percent; p < cfg.clip_max_percent; p += cfg.clip_step_percent) {
    const Half s = Half::from_double(max_abs * p / 100.0 / ant_max_value(type));
    if (!s.is_finite()) break;  // larger p only grows the scale
    if (s.bits() == 0 || s.bits() == prev_bits) continue;
    prev_bits = s.bits();
    const double sd = s.to_double();
    double sse = 0.0;
    for (float v : row) {
      const double e = static_cast<double>(v) - sd * g.values[nearest_index(g, v / sd)];
      sse += e * e;
    }
    if (sse < best.sse) best = {sse, s};
  }
  return best;
}

}  // namespace

std::string_view ant_type_name(AntType type) {
  switch (type) {
    case AntType::kInt: return "int";
    case AntType::kFlint: return "flint";
    case AntType::kPot: return "pot";
  }
  return "?";
}

AntType ant_type_from_name(std::string_view name) {
  for (AntType t : kAntTypes)
    if (ant_type_name(t) == name) return t;
  throw std::invalid_argument(fmt::format("unknown ANT type '{}' (expected int, flint or pot)", name));
}

AntDecoded ant_decode(AntType type, int code) {
  const int c = code & 0xF;
  const int sign = (c & 8) ? -1 : 1;
  const int m = c & 7;
  switch (type) {
    case AntType::kInt: return {c >= 8 ? c - 16 : c, 0};
    case AntType::kFlint:
      if (m < 4) return {sign * m, 0};       // 0xx: the integer itself
      if (m < 6) return {sign * (m - 2), 1};  // 10x: (2 + x) << 1
      return {sign * 2, m - 4};               // 110: 2 << 2, 111: 2 << 3
    case AntType::kPot:
      if (m == 0) return {0, 0};
      return {sign, m - 1};
  }
  return {};
}

std::array<int, 16> ant_value_table(AntType type) {
  std::array<int, 16> t{};
  for (int c = 0; c < 16; ++c) t[c] = ant_value(type, c);
  return t;
}

std::vector<int> ant_grid(AntType type) { return grid_of(type).values; }

int ant_max_value(AntType type) { return grid_of(type).values.back(); }

int ant_nearest_code(AntType type, double t) {
  const Grid& g = grid_of(type);
  return g.codes[nearest_index(g, t)];
}

void AntQuantConfig::validate() const {
  if (types.empty()) throw std::invalid_argument("ANT quantizer: types is empty");
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (type_index(types[i]) < 0 || type_index(types[i]) >= kAntTypeCount)
      throw std::invalid_argument(fmt::format("ANT quantizer: types[{}] = {} is not a type", i, type_index(types[i])));
    for (std::size_t j = 0; j < i; ++j)
      if (types[j] == types[i])
        throw std::invalid_argument(fmt::format("ANT quantizer: type {} listed twice", ant_type_name(types[i])));
  }
  if (clip_min_percent <= 0 || clip_max_percent <= clip_min_percent || clip_step_percent <= 0) {
    throw std::invalid_argument(fmt::format(
        "ANT quantizer: clip search needs 0 < clip_min_percent < clip_max_percent and clip_step_percent > 0 "
        "(got {}, {}, {})", clip_min_percent, clip_max_percent, clip_step_percent));
  }
}

AntWeights quantize_ant(std::span<const float> w, int n, int k, const AntQuantConfig& cfg, const std::string& tensor_name) {
  cfg.validate();
  if (n <= 0 || k <= 0 || w.size() != static_cast<std::size_t>(n) * k) {
    throw std::invalid_argument(
        fmt::format("ANT quantizer: tensor '{}' has {} values for shape [{}, {}]", tensor_name, w.size(), n, k));
  }
  for (int row = 0; row < n; ++row) {
    double max_abs = 0.0;
    for (int col = 0; col < k; ++col) {
      const float v = w[static_cast<std::size_t>(row) * k + col];
      if (!std::isfinite(v)) {
        throw std::invalid_argument(
            fmt::format("ANT quantizer: tensor '{}' has non-finite value {} at [{}, {}]", tensor_name, v, row, col));
      }
      max_abs = std::max(max_abs, std::fabs(static_cast<double>(v)));
    }
    for (AntType t : cfg.types) {
      if (!Half::from_double(max_abs / ant_max_value(t)).is_finite()) {
        throw std::invalid_argument(fmt::format("ANT quantizer: tensor '{}' row {}: max |w| = {} overflows the FP16 scale of {}",
                                                tensor_name, row, max_abs, ant_type_name(t)));
      }
    }
  }

  // best[type][row], filled in parallel (each task owns whole rows, so the result is deterministic).
  std::array<std::vector<ChannelBest>, kAntTypeCount> best;
  for (AntType t : cfg.types) best[type_index(t)].resize(n);
  constexpr int kRowsPerTask = 4;
  const unsigned tasks = static_cast<unsigned>((n + kRowsPerTask - 1) / kRowsPerTask);
  ThreadPool::instance().run(tasks, resolve_threads(cfg.threads), [&](unsigned task) {
    const int end = std::min(n, static_cast<int>(task + 1) * kRowsPerTask);
    for (int row = static_cast<int>(task) * kRowsPerTask; row < end; ++row) {
      const std::span<const float> r = w.subspan(static_cast<std::size_t>(row) * k, k);
      for (AntType t : cfg.types) best[type_index(t)][row] = search_channel(r, t, cfg);
    }
  });

  AntWeights q;
  q.n = n;
  q.k = k;
  q.type_mse.fill(std::numeric_limits<double>::quiet_NaN());
  double chosen_sse = std::numeric_limits<double>::infinity();
  for (AntType t : cfg.types) {
    double sse = 0.0;
    for (const ChannelBest& b : best[type_index(t)]) sse += b.sse;
    q.type_mse[type_index(t)] = sse / (static_cast<double>(n) * k);
    if (sse < chosen_sse) {
      chosen_sse = sse;
      q.type = t;
    }
  }
  const std::vector<ChannelBest>& chosen = best[type_index(q.type)];
  q.scales.resize(n);
  q.codes.assign(static_cast<std::size_t>(n) * k, 0);
  for (int row = 0; row < n; ++row) {
    q.scales[row] = chosen[row].scale;
    if (chosen[row].scale.bits() == 0) continue;
    const double sd = chosen[row].scale.to_double();
    for (int col = 0; col < k; ++col) {
      const std::size_t i = static_cast<std::size_t>(row) * k + col;
      q.codes[i] = static_cast<std::uint8_t>(ant_nearest_code(q.type, w[i] / sd));
    }
  }
  return q;
}

std::vector<double> dequantize_ant_f64(const AntWeights& w) {
  std::vector<double> out(static_cast<std::size_t>(w.n) * w.k);
  for (int row = 0; row < w.n; ++row)
    for (int col = 0; col < w.k; ++col) out[static_cast<std::size_t>(row) * w.k + col] = w.dequantized(row, col);
  return out;
}

void validate_ant_weights(const AntWeights& w, const std::string& tensor_name) {
  if (w.n <= 0 || w.k <= 0) {
    throw std::invalid_argument(fmt::format("ANT weights '{}': bad shape [{}, {}]", tensor_name, w.n, w.k));
  }
  if (type_index(w.type) < 0 || type_index(w.type) >= kAntTypeCount) {
    throw std::invalid_argument(fmt::format("ANT weights '{}': type {} is not a type", tensor_name, type_index(w.type)));
  }
  if (w.codes.size() != static_cast<std::size_t>(w.n) * w.k || w.scales.size() != static_cast<std::size_t>(w.n)) {
    throw std::invalid_argument(fmt::format("ANT weights '{}': {} codes and {} scales for shape [{}, {}]", tensor_name,
                                            w.codes.size(), w.scales.size(), w.n, w.k));
  }
  for (std::size_t i = 0; i < w.codes.size(); ++i) {
    if (w.codes[i] > 15) {
      throw std::invalid_argument(fmt::format("ANT weights '{}': code {} at [{}, {}] is not 4-bit", tensor_name, w.codes[i],
                                              i / static_cast<std::size_t>(w.k), i % static_cast<std::size_t>(w.k)));
    }
  }
  for (int row = 0; row < w.n; ++row) {
    if (!w.scales[row].is_finite()) {
      throw std::invalid_argument(fmt::format("ANT weights '{}': scale of row {} is not finite", tensor_name, row));
    }
  }
}

std::vector<float> gemm_ant_ref(const Int8Activations& x, const AntWeights& w) {
  if (x.k != w.k) {
    throw std::invalid_argument(fmt::format("ANT GEMM: activation K = {} does not match weight K = {}", x.k, w.k));
  }
  std::vector<float> y(static_cast<std::size_t>(x.m) * w.n);
  for (int row = 0; row < x.m; ++row) {
    for (int col = 0; col < w.n; ++col) {
      std::int64_t acc = 0;
      for (int j = 0; j < w.k; ++j) {
        const AntDecoded d = ant_decode(w.type, w.code(col, j));
        acc += (static_cast<std::int64_t>(d.mant) * x.code(row, j)) << d.shift;  // the PE's multiply, then shift
      }
      assert(acc >= std::numeric_limits<std::int32_t>::min() && acc <= std::numeric_limits<std::int32_t>::max() &&
             "int32 accumulator overflow: K exceeds the bound in docs/numerics.md");
      const float wide = static_cast<float>(static_cast<std::int32_t>(acc)) * w.scales[col].to_float();
      y[static_cast<std::size_t>(row) * w.n + col] = wide * x.scales[row];
    }
  }
  return y;
}

PreparedAntWeights::PreparedAntWeights(const AntWeights& w) : decoded_(std::make_unique<QuantizedWeights>()) {
  validate_ant_weights(w, "ANT weights");
  QuantizedWeights& d = *decoded_;
  d.n = w.n;
  d.k = w.k;
  d.bits = 8;
  d.group_size = w.k;
  d.symmetric = true;
  d.codes.resize(w.codes.size());
  const std::array<int, 16> table = ant_value_table(w.type);
  for (std::size_t i = 0; i < w.codes.size(); ++i) d.codes[i] = static_cast<std::int16_t>(table[w.codes[i]]);
  d.scales = w.scales;
  d.zeros.assign(static_cast<std::size_t>(w.n), 0);
  prepared_ = PreparedWeights::for_mixpe(d);
}

std::vector<float> gemm_ant(const Int8Activations& x, const PreparedAntWeights& w, unsigned threads) {
  if (x.k != w.decoded().k) {
    throw std::invalid_argument(fmt::format("ANT GEMM: activation K = {} does not match weight K = {}", x.k, w.decoded().k));
  }
  return gemm_int8(x, w.prepared(), threads);
}

std::vector<float> gemm_ant(const Int8Activations& x, const AntWeights& w, unsigned threads) {
  return gemm_ant(x, PreparedAntWeights(w), threads);
}

}  // namespace mixpe::quant
