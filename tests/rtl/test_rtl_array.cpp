// Verilated arrays (MixPE INT8 and FP16/BF16 activations, INT8 and FP16 baselines) against the quant/ oracles
// and the docs/array.md timing contract, cycle for cycle, and against the SystemC per-PE array model.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "Vfp16_2x3.h"
#include "Vfp16_4x4.h"
#include "Vint8_2x3.h"
#include "Vint8_4x4.h"
#include "Vmixpe8_2x3.h"
#include "Vmixpe8_4x4.h"
#include "Vmixpefp_2x3.h"
#include "Vmixpefp_4x4.h"
#include "harness.h"
#include "quant/activations.h"
#include "quant/gemm_ref.h"
#include "quant/weights.h"
#include "random_operands.h"
#include "sim/array.h"

namespace mixpe::rtl_test {
namespace {

using quant::BFloat16;
using quant::Half;

enum class Kind { kMixpeInt8, kMixpeFp16, kMixpeBf16, kInt8, kFp16 };

// One R x C output tile over K, as the array's input ports see it, with the oracle's outputs.
struct Tile {
  int rows = 0, cols = 0, k = 0;
  int group = 0, groups = 0;  // the array's schedule: g = K and one group for the baselines
  std::vector<std::uint16_t> x;     // [r][k] INT8 code or FP16/BF16 bits
  std::vector<int> e;               // [r][k] shared exponent of the element's group (FP activations)
  std::vector<std::uint32_t> sx;    // [r] FP32 token scale bits
  std::vector<int> q, z;            // [c][k]
  std::vector<std::uint16_t> s;     // [c][k] FP16 scale bits of the element's weight group
  std::vector<float> y;             // [r][c]
};

Tile make_tile(Kind kind, int rows, int cols, int k, int group, int wbits, bool wsigned, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Tile t;
  t.rows = rows;
  t.cols = cols;
  t.k = k;
  const bool baseline = kind == Kind::kInt8 || kind == Kind::kFp16;
  t.group = baseline ? k : group;
  t.groups = k / t.group;
  quant::WeightQuantConfig wcfg{wbits, kind == Kind::kInt8 ? -1 : group, wsigned};
  const quant::QuantizedWeights w =
      quant::quantize_weights_rtn(random_floats(rng, static_cast<std::size_t>(cols) * k, false), cols, k, wcfg);
  const std::vector<float> xf = random_floats(rng, static_cast<std::size_t>(rows) * k, kind != Kind::kMixpeInt8 && kind != Kind::kInt8);
  t.x.resize(static_cast<std::size_t>(rows) * k);
  t.e.assign(t.x.size(), 0);
  t.sx.assign(rows, std::bit_cast<std::uint32_t>(1.0f));
  switch (kind) {
    case Kind::kMixpeInt8:
    case Kind::kInt8: {
      const quant::Int8Activations xa = quant::quantize_activations_int8(xf, rows, k);
      for (std::size_t i = 0; i < t.x.size(); ++i) t.x[i] = static_cast<std::uint8_t>(xa.codes[i]);
      for (int r = 0; r < rows; ++r) t.sx[r] = std::bit_cast<std::uint32_t>(xa.scales[r]);
      t.y = kind == Kind::kInt8 ? quant::gemm_int8_ref(xa, w) : quant::gemm_mixpe_int8_ref(xa, w);
      break;
    }
    case Kind::kMixpeFp16:
    case Kind::kFp16: {
      const std::vector<Half> xh = quant::to_half(xf);
      for (std::size_t i = 0; i < t.x.size(); ++i) t.x[i] = xh[i].bits();
      if (kind == Kind::kFp16) {
        t.y = quant::gemm_fp16_ref(xh, rows, w);
      } else {
        const quant::AlignedActivations al = quant::align_activations_fp16(xh, rows, k, group);
        for (int r = 0; r < rows; ++r)
          for (int j = 0; j < k; ++j) t.e[r * k + j] = al.shift(r, j / group) + quant::kAlignFracBits;
        t.y = quant::gemm_mixpe_fp16_ref(xh, rows, w);
      }
      break;
    }
    case Kind::kMixpeBf16: {
      const std::vector<BFloat16> xb = quant::to_bfloat16(xf);
      for (std::size_t i = 0; i < t.x.size(); ++i) t.x[i] = xb[i].bits();
      const quant::AlignedActivations al = quant::align_activations_bf16(xb, rows, k, group);
      for (int r = 0; r < rows; ++r)
        for (int j = 0; j < k; ++j) t.e[r * k + j] = al.shift(r, j / group) + quant::kAlignFracBits;
      t.y = quant::gemm_mixpe_bf16_ref(xb, rows, w);
      break;
    }
  }
  t.q.resize(static_cast<std::size_t>(cols) * k);
  t.z.resize(t.q.size());
  t.s.resize(t.q.size());
  for (int c = 0; c < cols; ++c) {
    for (int j = 0; j < k; ++j) {
      t.q[c * k + j] = w.code(c, j);
      t.z[c * k + j] = w.zero(c, j / w.group_size);
      t.s[c * k + j] = w.scale(c, j / w.group_size).bits();
    }
  }
  return t;
}

struct Result {
  std::vector<std::uint32_t> y;        // [tile][r][c]
  std::vector<std::int64_t> y_cycle;   // cycle each output was valid, counted from the first input
  std::int64_t stall_cycles = 0;       // cycles with in_ready low while input was waiting
  bool rtl_error = false;
};

// Streams the tiles back to back at full rate (in_valid high whenever input remains) and
// collects every output with the cycle it appeared on. Cycle 0 is the first accepted element.
template <typename Model>
Result run(const std::vector<Tile>& tiles, int xw, int wbits, bool bf16) {
  Harness<Model, true> h;
  Model& m = h.top();
  const Tile& t0 = tiles.front();
  const int rows = t0.rows, cols = t0.cols, k = t0.k;
  const int row_bits = rows > 1 ? std::bit_width(static_cast<unsigned>(rows - 1)) : 1;
  m.cfg_group_size_i = static_cast<std::remove_reference_t<decltype(m.cfg_group_size_i)>>(t0.group);
  m.cfg_num_groups_i = static_cast<std::uint16_t>(t0.groups);
  m.cfg_bf16_i = bf16;
  const std::size_t total = tiles.size() * static_cast<std::size_t>(k);
  Result res;
  res.y.assign(tiles.size() * rows * cols, 0);
  res.y_cycle.assign(res.y.size(), -1);
  std::vector<int> seen(static_cast<std::size_t>(rows) * cols, 0);
  std::size_t fed = 0, outputs = 0;
  std::int64_t first = -1;
  const std::int64_t limit = static_cast<std::int64_t>(total) * (rows + 2) + 1000;
  for (std::int64_t cyc = 0; outputs < res.y.size() && cyc < limit; ++cyc) {
    m.in_valid_i = fed < total;
    if (fed < total) {
      const Tile& t = tiles[fed / k];
      const int j = static_cast<int>(fed % k);
      for (int r = 0; r < rows; ++r) {
        put_bits(m.x_i, r * xw, xw, t.x[r * k + j]);
        put_bits(m.e_i, r * 9, 9, static_cast<std::uint64_t>(t.e[r * k + j]));
        put_bits(m.sx_i, r * 32, 32, t.sx[r]);
      }
      for (int c = 0; c < cols; ++c) {
        put_bits(m.q_i, c * wbits, wbits, static_cast<std::uint64_t>(t.q[c * k + j]));
        put_bits(m.z_i, c * wbits, wbits, static_cast<std::uint64_t>(t.z[c * k + j]));
        put_bits(m.s_i, c * 16, 16, t.s[c * k + j]);
      }
    }
    h.eval();
    const bool fire = m.in_valid_i && m.in_ready_o;
    if (fire && first < 0) first = static_cast<std::int64_t>(h.cycle());
    if (m.in_valid_i && !m.in_ready_o) ++res.stall_cycles;
    for (int c = 0; c < cols; ++c) {
      if (!((m.y_valid_o >> c) & 1u)) continue;
      const int r = static_cast<int>(get_bits(m.y_row_o, c * row_bits, row_bits));
      const std::size_t tile = static_cast<std::size_t>(seen[r * cols + c]++);
      if (tile >= tiles.size()) {
        ADD_FAILURE() << "extra output for row " << r << " column " << c;
        continue;
      }
      const std::size_t idx = (tile * rows + r) * cols + c;
      res.y[idx] = static_cast<std::uint32_t>(get_bits(m.y_o, c * 32, 32));
      res.y_cycle[idx] = static_cast<std::int64_t>(h.cycle()) - first;
      ++outputs;
    }
    if (fire) ++fed;
    h.step();
  }
  EXPECT_EQ(outputs, res.y.size()) << "array produced too few outputs before the timeout";
  res.rtl_error = h.rtl_error();
  return res;
}

// docs/array.md: with p = max(g, R) and S(G) = G p, the last group's value for row r leaves the
// bottom of column c's drain on e = S(nG-1) + g + R - 1 + c + (R-1-r) (bottom row first) and is
// valid at the dequantization unit's output five cycles later. The fp16 baseline's weight
// dequantization register delays everything by one cycle. Tile n of a stream starts at n nG p.
std::int64_t expected_cycle(const Tile& t, int tile, int r, int c, int extra) {
  const std::int64_t p = std::max(t.group, t.rows);
  const std::int64_t s_last = static_cast<std::int64_t>(tile) * t.groups * p + (t.groups - 1) * p;
  const std::int64_t e = s_last + t.group + t.rows - 1 + c + (t.rows - 1 - r);
  return e + 5 + extra;
}

// T_tile = (nG-1) p + g + 2R + C + 3 (+1 for fp16): row 0 of the last column, counted from cycle 0.
std::int64_t t_tile(const Tile& t, int extra) {
  const std::int64_t p = std::max(t.group, t.rows);
  return (t.groups - 1) * p + t.group + 2 * t.rows + t.cols + 3 + extra;
}

template <typename Model>
void check(Kind kind, int rows, int cols, int k, int group, int wbits, bool wsigned, int tiles_n, std::uint64_t seed) {
  SCOPED_TRACE("R=" + std::to_string(rows) + " C=" + std::to_string(cols) + " K=" + std::to_string(k) +
               " g=" + std::to_string(group) + " seed=" + std::to_string(seed));
  std::vector<Tile> tiles;
  for (int i = 0; i < tiles_n; ++i) tiles.push_back(make_tile(kind, rows, cols, k, group, wbits, wsigned, seed + i));
  const bool fp_act = kind == Kind::kMixpeFp16 || kind == Kind::kMixpeBf16 || kind == Kind::kFp16;
  const int extra = kind == Kind::kFp16 ? 1 : 0;
  const Result res = run<Model>(tiles, fp_act ? 16 : 8, wbits, kind == Kind::kMixpeBf16);
  EXPECT_FALSE(res.rtl_error);
  std::int64_t last = -1;
  for (int n = 0; n < tiles_n; ++n) {
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) {
        const std::size_t idx = (static_cast<std::size_t>(n) * rows + r) * cols + c;
        const float want = tiles[n].y[r * cols + c];
        EXPECT_EQ(res.y[idx], std::bit_cast<std::uint32_t>(want))
            << "tile " << n << " y[" << r << "][" << c << "] = " << std::bit_cast<float>(res.y[idx]) << ", oracle " << want;
        EXPECT_EQ(res.y_cycle[idx], expected_cycle(tiles[n], n, r, c, extra)) << "tile " << n << " row " << r << " col " << c;
        last = std::max(last, res.y_cycle[idx]);
      }
    }
  }
  // Guard against degenerate stimulus: all-zero outputs would match any broken datapath.
  std::size_t nonzero = 0;
  for (const Tile& tile : tiles)
    nonzero += static_cast<std::size_t>(std::count_if(tile.y.begin(), tile.y.end(), [](float v) { return v != 0.0f; }));
  EXPECT_GT(nonzero, static_cast<std::size_t>(tiles_n * rows * cols) / 2);
  const Tile& t = tiles.front();
  const std::int64_t p = std::max(t.group, t.rows);
  // One tile: T_tile cycles; a stream adds nG p per further tile.
  EXPECT_EQ(last + 1, t_tile(t, extra) + static_cast<std::int64_t>(tiles_n - 1) * t.groups * p);
  // The feeder holds R - g idle cycles after every group when R > g (none otherwise).
  const std::int64_t groups_total = static_cast<std::int64_t>(tiles_n) * t.groups;
  EXPECT_EQ(res.stall_cycles, std::max(0, t.rows - t.group) * (groups_total - 1));
}

struct Shape { int k, group, tiles; };
constexpr int kSeeds = 4;  // independent random tiles per shape

TEST(RtlArray, MixpeInt8W4_4x4) {
  // g > R, g = R, g < R (drain stalls), a single group, and streams of tiles.
  for (Shape s : {Shape{32, 8, 1}, Shape{64, 16, 2}, Shape{16, 4, 1}, Shape{16, 2, 1}, Shape{7, 1, 1},
                  Shape{128, 128, 1}, Shape{256, 32, 1}, Shape{24, 3, 3}})
    for (int seed = 0; seed < kSeeds; ++seed)
      check<Vmixpe8_4x4>(Kind::kMixpeInt8, 4, 4, s.k, s.group, 4, false, s.tiles, 100 * 1000 + seed * 7 + s.k + s.group);
}

TEST(RtlArray, MixpeInt8SignedW3_2x3) {
  for (Shape s : {Shape{32, 8, 1}, Shape{12, 2, 2}, Shape{9, 1, 1}, Shape{128, 64, 1}, Shape{60, 4, 2}})
    for (int seed = 0; seed < kSeeds; ++seed)
      check<Vmixpe8_2x3>(Kind::kMixpeInt8, 2, 3, s.k, s.group, 3, true, s.tiles, 200 * 1000 + seed * 7 + s.k + s.group);
}

TEST(RtlArray, MixpeFp16ActivationsW4_4x4) {
  for (Shape s : {Shape{32, 8, 1}, Shape{64, 32, 2}, Shape{12, 2, 1}, Shape{128, 128, 1}})
    for (int seed = 0; seed < kSeeds; ++seed)
      check<Vmixpefp_4x4>(Kind::kMixpeFp16, 4, 4, s.k, s.group, 4, false, s.tiles, 300 * 1000 + seed * 7 + s.k + s.group);
}

TEST(RtlArray, MixpeBf16ActivationsW4_4x4) {
  for (Shape s : {Shape{32, 8, 1}, Shape{64, 16, 2}, Shape{8, 2, 1}})
    for (int seed = 0; seed < kSeeds; ++seed)
      check<Vmixpefp_4x4>(Kind::kMixpeBf16, 4, 4, s.k, s.group, 4, false, s.tiles, 400 * 1000 + seed * 7 + s.k + s.group);
}

TEST(RtlArray, MixpeFp16ActivationsW8_2x3) {
  for (Shape s : {Shape{32, 8, 1}, Shape{16, 1, 2}, Shape{128, 128, 1}})
    for (int seed = 0; seed < kSeeds; ++seed)
      check<Vmixpefp_2x3>(Kind::kMixpeFp16, 2, 3, s.k, s.group, 8, false, s.tiles, 700 * 1000 + seed * 7 + s.k + s.group);
  for (Shape s : {Shape{24, 4, 1}})
    for (int seed = 0; seed < kSeeds; ++seed)
      check<Vmixpefp_2x3>(Kind::kMixpeBf16, 2, 3, s.k, s.group, 8, false, s.tiles, 710 * 1000 + seed * 7 + s.k + s.group);
}

TEST(RtlArray, Int8Baseline_2x3) {
  for (Shape s : {Shape{32, 32, 1}, Shape{1, 1, 2}, Shape{200, 200, 1}})
    for (int seed = 0; seed < kSeeds; ++seed)
      check<Vint8_2x3>(Kind::kInt8, 2, 3, s.k, s.group, 8, true, s.tiles, 800 * 1000 + seed * 7 + s.k);
}

TEST(RtlArray, Fp16BaselineSignedW3_2x3) {
  for (Shape s : {Shape{32, 8, 1}, Shape{1, 1, 2}, Shape{256, 256, 1}})
    for (int seed = 0; seed < kSeeds; ++seed)
      check<Vfp16_2x3>(Kind::kFp16, 2, 3, s.k, s.group, 3, true, s.tiles, 900 * 1000 + seed * 7 + s.k);
}

TEST(RtlArray, Int8Baseline_4x4) {
  for (Shape s : {Shape{64, 64, 1}, Shape{256, 256, 2}, Shape{3, 3, 1}, Shape{100, 100, 1}})
    for (int seed = 0; seed < kSeeds; ++seed)
      check<Vint8_4x4>(Kind::kInt8, 4, 4, s.k, s.group, 8, true, s.tiles, 500 * 1000 + seed * 7 + s.k);
}

TEST(RtlArray, Fp16Baseline_4x4) {
  // The weight groups (second field) only feed the edge dequantization; the schedule has g = K.
  for (Shape s : {Shape{64, 16, 1}, Shape{256, 32, 2}, Shape{2, 1, 1}, Shape{96, 32, 1}})
    for (int seed = 0; seed < kSeeds; ++seed)
      check<Vfp16_4x4>(Kind::kFp16, 4, 4, s.k, s.group, 4, false, s.tiles, 600 * 1000 + seed * 7 + s.k);
}

// The same tile as the SystemC array models take it (sim/array.h), built from the RTL stimulus.
sim::ArrayTile to_sim_tile(const Tile& t, Kind kind, int weight_group, int wbits, bool wsigned) {
  sim::ArrayTile a;
  a.mode = kind == Kind::kMixpeInt8 ? sim::ArrayMode::kMixpeInt8
           : kind == Kind::kInt8   ? sim::ArrayMode::kInt8
           : kind == Kind::kFp16   ? sim::ArrayMode::kFp16
                                   : sim::ArrayMode::kMixpeAligned;
  a.rows = t.rows;
  a.cols = t.cols;
  a.k = t.k;
  a.group_size = t.group;
  a.weight_group = kind == Kind::kInt8 ? t.k : weight_group;
  a.weight_bits = wbits;
  a.symmetric = wsigned;
  const std::size_t n = static_cast<std::size_t>(t.rows) * t.k;
  if (kind == Kind::kMixpeInt8 || kind == Kind::kInt8) {
    for (std::size_t i = 0; i < n; ++i) a.x.push_back(static_cast<std::int8_t>(t.x[i]));
    for (int r = 0; r < t.rows; ++r) a.x_scale.push_back(std::bit_cast<float>(t.sx[r]));
  } else if (kind == Kind::kFp16) {
    for (std::size_t i = 0; i < n; ++i) a.x16.push_back(Half::from_bits(t.x[i]));
  } else {
    quant::AlignedActivations al;
    if (kind == Kind::kMixpeFp16) {
      std::vector<Half> h;
      for (std::size_t i = 0; i < n; ++i) h.push_back(Half::from_bits(t.x[i]));
      al = quant::align_activations_fp16(h, t.rows, t.k, t.group);
    } else {
      std::vector<BFloat16> b;
      for (std::size_t i = 0; i < n; ++i) b.push_back(BFloat16::from_bits(t.x[i]));
      al = quant::align_activations_bf16(b, t.rows, t.k, t.group);
    }
    a.x.assign(al.mants.begin(), al.mants.end());
    a.x_shift = al.shifts;
  }
  a.q.assign(t.q.begin(), t.q.end());
  for (int c = 0; c < t.cols; ++c) {
    for (int j = 0; j < t.k; j += a.weight_group) {
      a.w_scale.push_back(Half::from_bits(t.s[static_cast<std::size_t>(c) * t.k + j]));
      a.w_zero.push_back(static_cast<std::uint8_t>(t.z[static_cast<std::size_t>(c) * t.k + j]));
    }
  }
  sim::check_tile(a);
  return a;
}

// Verification ladder step 4: the SystemC per-PE model and the RTL produce the same bits on the
// same cycle for every output of a tile stream.
template <typename Model>
void cross_check_sim(Kind kind, int rows, int cols, int k, int group, int wbits, bool wsigned, int tiles_n, std::uint64_t seed) {
  SCOPED_TRACE("R=" + std::to_string(rows) + " C=" + std::to_string(cols) + " K=" + std::to_string(k) + " g=" +
               std::to_string(group) + " seed=" + std::to_string(seed));
  std::vector<Tile> tiles;
  std::vector<sim::ArrayTile> sim_tiles;
  for (int i = 0; i < tiles_n; ++i) {
    tiles.push_back(make_tile(kind, rows, cols, k, group, wbits, wsigned, seed + i));
    sim_tiles.push_back(to_sim_tile(tiles.back(), kind, group, wbits, wsigned));
  }
  const bool fp_act = kind == Kind::kMixpeFp16 || kind == Kind::kMixpeBf16 || kind == Kind::kFp16;
  const Result rtl = run<Model>(tiles, fp_act ? 16 : 8, wbits, kind == Kind::kMixpeBf16);
  const sim::StreamResult pe = sim::make_pe_array_model()->run_stream(sim_tiles);
  ASSERT_EQ(pe.y.size(), tiles.size());
  std::int64_t rtl_last = -1;
  for (int n = 0; n < tiles_n; ++n) {
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) {
        const std::size_t idx = (static_cast<std::size_t>(n) * rows + r) * cols + c;
        const std::size_t rc = static_cast<std::size_t>(r) * cols + c;
        EXPECT_EQ(rtl.y[idx], std::bit_cast<std::uint32_t>(pe.y[n][rc])) << "tile " << n << " y[" << r << "][" << c << "]";
        EXPECT_GE(pe.valid_cycle[n][rc], 0) << "the model never produced tile " << n << " y[" << r << "][" << c << "]";
        EXPECT_EQ(rtl.y_cycle[idx], pe.valid_cycle[n][rc]) << "tile " << n << " y[" << r << "][" << c << "] valid cycle";
        rtl_last = std::max(rtl_last, rtl.y_cycle[idx]);
      }
    }
  }
  EXPECT_EQ(rtl_last + 1, pe.cycles) << "total cycles";
  EXPECT_EQ(rtl.stall_cycles, pe.drain_stall_cycles) << "feeder stall cycles";
}

TEST(RtlVsSim, MixpeInt8MatchesPerPeModel) {
  for (Shape s : {Shape{32, 8, 1}, Shape{16, 2, 2}, Shape{128, 128, 1}, Shape{24, 4, 3}})
    cross_check_sim<Vmixpe8_4x4>(Kind::kMixpeInt8, 4, 4, s.k, s.group, 4, false, s.tiles, 1100 * 1000 + s.k + s.group);
  cross_check_sim<Vmixpe8_2x3>(Kind::kMixpeInt8, 2, 3, 12, 2, 3, true, 2, 1150 * 1000);
}

TEST(RtlVsSim, MixpeFp16AndBf16MatchPerPeModel) {
  for (Shape s : {Shape{32, 8, 1}, Shape{64, 16, 2}, Shape{12, 2, 1}}) {
    cross_check_sim<Vmixpefp_4x4>(Kind::kMixpeFp16, 4, 4, s.k, s.group, 4, false, s.tiles, 1200 * 1000 + s.k + s.group);
    cross_check_sim<Vmixpefp_4x4>(Kind::kMixpeBf16, 4, 4, s.k, s.group, 4, false, s.tiles, 1250 * 1000 + s.k + s.group);
  }
}

TEST(RtlVsSim, BaselinesMatchPerPeModel) {
  for (Shape s : {Shape{64, 64, 1}, Shape{3, 3, 2}})
    cross_check_sim<Vint8_4x4>(Kind::kInt8, 4, 4, s.k, s.group, 8, true, s.tiles, 1300 * 1000 + s.k);
  for (Shape s : {Shape{64, 16, 1}, Shape{96, 32, 2}})
    cross_check_sim<Vfp16_4x4>(Kind::kFp16, 4, 4, s.k, s.group, 4, false, s.tiles, 1400 * 1000 + s.k);
}

// Waveforms on request: a traced model writes a VCD with the array's ports and internal state.
TEST(RtlArray, WritesVcdWhenAsked) {
  const std::string path = ::testing::TempDir() + "mixpe_array_test.vcd";
  std::remove(path.c_str());
  {
    Harness<Vmixpe8_2x3, true> h(path.c_str());
    h->cfg_group_size_i = 2;
    h->cfg_num_groups_i = 1;
    h->in_valid_i = 1;
    for (int i = 0; i < 20; ++i) {
      h.eval();
      h.step();
    }
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("$enddefinitions"), std::string::npos);
  EXPECT_NE(text.find(" y_valid_o "), std::string::npos);
  EXPECT_NE(text.find(" acc_q "), std::string::npos);
  EXPECT_NE(text.find("\n#40\n"), std::string::npos) << "expected 2 dumps per cycle for 20 cycles and reset";
  std::remove(path.c_str());
}

}  // namespace
}  // namespace mixpe::rtl_test
