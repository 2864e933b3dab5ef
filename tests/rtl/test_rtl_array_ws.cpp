// Verilated weight-stationary arrays against the quant/ oracles and the docs/array.md WS timing contract, cycle for
// cycle, driven by the contract's feeder slots (sim::ws_*_slot), and against the SystemC per-PE model.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "Vws_int8_4x3.h"
#include "Vws_mixpe8_4x4.h"
#include "Vws_mixpefp_3x2.h"
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

enum class WsKind { kMixpeInt8, kMixpeFp16, kMixpeBf16, kInt8 };

// One job of a stream: M tokens x C channels over K as a weight-stationary sim tile, the values the
// RTL ports take for it, and the oracle's outputs.
struct WsJob {
  sim::ArrayTile tile;           // dataflow kWs: rows = M tokens, array_rows = R
  std::vector<std::uint16_t> x;  // [m][k] INT8 code or FP16/BF16 bits, as x_i takes them
  std::vector<int> e;            // [m][group] shared exponent E = shift + 13 (FP activations)
  std::vector<float> y;          // [m][c] oracle
};

WsJob make_job(WsKind kind, int array_rows, int tokens, int cols, int k, int group, int wbits, bool wsigned, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  WsJob job;
  const bool int8 = kind == WsKind::kInt8;
  const int g = int8 ? k : group;
  const quant::WeightQuantConfig wcfg{wbits, int8 ? -1 : group, wsigned};
  const quant::QuantizedWeights w =
      quant::quantize_weights_rtn(random_floats(rng, static_cast<std::size_t>(cols) * k, false), cols, k, wcfg);
  const bool fp = kind == WsKind::kMixpeFp16 || kind == WsKind::kMixpeBf16;
  const std::vector<float> xf = random_floats(rng, static_cast<std::size_t>(tokens) * k, fp);
  job.x.resize(static_cast<std::size_t>(tokens) * k);
  job.e.assign(static_cast<std::size_t>(tokens) * (k / g), 0);
  sim::ArrayTile tile;
  if (!fp) {
    const quant::Int8Activations xa = quant::quantize_activations_int8(xf, tokens, k);
    for (std::size_t i = 0; i < job.x.size(); ++i) job.x[i] = static_cast<std::uint8_t>(xa.codes[i]);
    tile = int8 ? sim::make_tile_int8(xa, w, 0, 0, tokens, cols) : sim::make_tile_mixpe_int8(xa, w, 0, 0, tokens, cols);
    job.y = int8 ? quant::gemm_int8_ref(xa, w) : quant::gemm_mixpe_int8_ref(xa, w);
  } else {
    quant::AlignedActivations al;
    if (kind == WsKind::kMixpeFp16) {
      const std::vector<Half> xh = quant::to_half(xf);
      for (std::size_t i = 0; i < job.x.size(); ++i) job.x[i] = xh[i].bits();
      al = quant::align_activations_fp16(xh, tokens, k, group);
      job.y = quant::gemm_mixpe_fp16_ref(xh, tokens, w);
    } else {
      const std::vector<BFloat16> xb = quant::to_bfloat16(xf);
      for (std::size_t i = 0; i < job.x.size(); ++i) job.x[i] = xb[i].bits();
      al = quant::align_activations_bf16(xb, tokens, k, group);
      job.y = quant::gemm_mixpe_bf16_ref(xb, tokens, w);
    }
    for (std::size_t i = 0; i < job.e.size(); ++i) job.e[i] = al.shifts[i] + quant::kAlignFracBits;
    tile = sim::make_tile_mixpe_aligned(al, w, 0, 0, tokens, cols);
  }
  job.tile = sim::to_weight_stationary(std::move(tile), array_rows);
  sim::check_tile(job.tile);
  return job;
}

struct WsResult {
  std::vector<std::uint32_t> y;       // [job][m][c]
  std::vector<std::int64_t> y_cycle;  // [job][m][c]: cycle the output was valid (cycle 0 = the feeder's first)
  std::int64_t cycles = 0;            // the last valid cycle + 1
  int extra_outputs = 0;
  bool rtl_error = false;
};

// kEarlyLoads breaks the contract on purpose: every weight row of tiles 1.. is presented one cycle early.
enum class Feed { kContract, kEarlyLoads };

template <typename Port>
void put_junk(Port& port, int width, std::mt19937_64& rng) {
  for (int b = 0; b < width; b += 32) put_bits(port, b, std::min(32, width - b), rng());
}

// Drives the stream exactly as the contract's unskewed feeder presents it (ws_token_slot,
// ws_load_slot, ws_scale_slot); slots without an operand carry random junk the array must ignore.
template <typename Model>
WsResult run_ws(const std::vector<WsJob>& jobs, int wbits, bool bf16, Feed feed = Feed::kContract) {
  Harness<Model, true> h;
  if (feed != Feed::kContract) h.keep_running_on_error();
  Model& mdl = h.top();
  const sim::ArrayTile& t0 = jobs.front().tile;
  const sim::ArrayShape shape = sim::shape_of(t0);
  const int rows = shape.rows, cols = shape.cols, tokens = shape.tokens, k = shape.k, g = shape.group_size;
  const int n_jobs = static_cast<int>(jobs.size());
  const int xw = t0.mode == sim::ArrayMode::kMixpeAligned ? 16 : 8;
  const int lanes = sim::ws_lanes(wbits);
  const int row_bits = rows > 1 ? std::bit_width(static_cast<unsigned>(rows - 1)) : 1;
  const std::uint64_t wmask = (std::uint64_t{1} << wbits) - 1;
  mdl.cfg_tokens_i = static_cast<std::remove_reference_t<decltype(mdl.cfg_tokens_i)>>(tokens);
  mdl.cfg_group_tiles_i = static_cast<std::remove_reference_t<decltype(mdl.cfg_group_tiles_i)>>(g / rows);
  mdl.cfg_num_groups_i = static_cast<std::uint16_t>(k / g);
  mdl.cfg_bf16_i = bf16;

  WsResult res;
  res.y.assign(static_cast<std::size_t>(n_jobs) * tokens * cols, 0);
  res.y_cycle.assign(res.y.size(), -1);
  std::vector<int> seen(static_cast<std::size_t>(tokens) * cols, 0);
  std::mt19937_64 junk(0x5eed);
  const std::int64_t horizon = sim::stream_latency(shape, n_jobs) + 2 * (rows + cols) + 20;
  for (std::int64_t cyc = 0; cyc < horizon; ++cyc) {
    mdl.tok_valid_i = 0;
    mdl.ld_valid_i = 0;
    mdl.zs_valid_i = 0;
    put_junk(mdl.x_i, rows * xw, junk);
    put_junk(mdl.e_i, 9, junk);
    put_junk(mdl.sx_i, 32, junk);
    put_junk(mdl.ld_q_i, lanes * cols * wbits, junk);
    put_junk(mdl.z_i, cols * wbits, junk);
    put_junk(mdl.s_i, cols * 16, junk);

    const sim::WsTokenSlot tok = sim::ws_token_slot(shape, n_jobs, cyc);
    if (tok.valid) {
      const WsJob& jb = jobs[tok.job];
      mdl.tok_valid_i = 1;
      for (int r = 0; r < rows; ++r) put_bits(mdl.x_i, r * xw, xw, jb.x[static_cast<std::size_t>(tok.m) * k + tok.ktile * rows + r]);
      put_bits(mdl.e_i, 0, 9, static_cast<std::uint64_t>(jb.e[static_cast<std::size_t>(tok.m) * (k / g) + tok.ktile * rows / g]));
      if (!jb.tile.x_scale.empty()) put_bits(mdl.sx_i, 0, 32, std::bit_cast<std::uint32_t>(jb.tile.x_scale[tok.m]));
    }
    for (int lane = 0; lane < lanes; ++lane) {
      sim::WsLoadSlot ld = sim::ws_load_slot(shape, n_jobs, cyc, lane);
      if (feed == Feed::kEarlyLoads) {
        const sim::WsLoadSlot next = sim::ws_load_slot(shape, n_jobs, cyc + 1, lane);
        if (ld.valid && ld.tile > 0) ld.valid = false;
        if (next.valid && next.tile > 0) {
          if (ld.valid) ADD_FAILURE() << "early-load stimulus collides with tile 0 on lane " << lane;
          ld = next;
        }
      }
      if (!ld.valid) continue;
      const sim::ArrayTile& t = jobs[ld.job].tile;
      mdl.ld_valid_i |= static_cast<std::remove_reference_t<decltype(mdl.ld_valid_i)>>(1u << lane);
      for (int c = 0; c < cols; ++c)
        put_bits(mdl.ld_q_i, (lane * cols + c) * wbits, wbits,
                 static_cast<std::uint64_t>(t.q[t.qi(c, ld.ktile * rows + ld.row)]) & wmask);
    }
    const sim::WsScaleSlot zs = sim::ws_scale_slot(shape, n_jobs, cyc);
    if (zs.valid) {
      const sim::ArrayTile& t = jobs[zs.job].tile;
      mdl.zs_valid_i = 1;
      for (int c = 0; c < cols; ++c) {
        const std::size_t wg = t.cg(c, zs.ktile * rows / t.weight_group);
        put_bits(mdl.z_i, c * wbits, wbits, t.w_zero[wg]);
        put_bits(mdl.s_i, c * 16, 16, t.w_scale[wg].bits());
      }
    }
    h.eval();
    for (int c = 0; c < cols; ++c) {
      if (!((mdl.y_valid_o >> c) & 1u)) continue;
      const int m = static_cast<int>(get_bits(mdl.y_row_o, c * row_bits, row_bits));
      if (m >= tokens) {
        ++res.extra_outputs;
        continue;
      }
      const int job = seen[static_cast<std::size_t>(m) * cols + c]++;
      if (job >= n_jobs) {
        ++res.extra_outputs;
        continue;
      }
      const std::size_t idx = (static_cast<std::size_t>(job) * tokens + m) * cols + c;
      res.y[idx] = static_cast<std::uint32_t>(get_bits(mdl.y_o, c * 32, 32));
      res.y_cycle[idx] = cyc;
      res.cycles = std::max(res.cycles, cyc + 1);
    }
    h.step();
  }
  res.rtl_error = h.rtl_error();
  return res;
}

std::vector<WsJob> make_jobs(WsKind kind, int rows, int cols, int tokens, int k, int group, int wbits, bool wsigned, int n,
                             std::uint64_t seed) {
  std::vector<WsJob> jobs;
  for (int i = 0; i < n; ++i) jobs.push_back(make_job(kind, rows, tokens, cols, k, group, wbits, wsigned, seed + 31 * i));
  return jobs;
}

template <typename Model>
void check_ws(WsKind kind, int rows, int cols, int tokens, int k, int group, int wbits, bool wsigned, int n_jobs, std::uint64_t seed) {
  SCOPED_TRACE("R=" + std::to_string(rows) + " C=" + std::to_string(cols) + " M=" + std::to_string(tokens) + " K=" +
               std::to_string(k) + " g=" + std::to_string(group) + " jobs=" + std::to_string(n_jobs) + " seed=" + std::to_string(seed));
  const std::vector<WsJob> jobs = make_jobs(kind, rows, cols, tokens, k, group, wbits, wsigned, n_jobs, seed);
  const WsResult res = run_ws<Model>(jobs, wbits, kind == WsKind::kMixpeBf16);
  EXPECT_FALSE(res.rtl_error);
  EXPECT_EQ(res.extra_outputs, 0);
  const sim::ArrayShape shape = sim::shape_of(jobs.front().tile);
  const std::int64_t period = sim::ws_period(shape), ktiles = k / rows;
  std::size_t nonzero = 0;
  for (int j = 0; j < n_jobs; ++j) {
    for (int m = 0; m < tokens; ++m) {
      for (int c = 0; c < cols; ++c) {
        const std::size_t idx = (static_cast<std::size_t>(j) * tokens + m) * cols + c;
        const float want = jobs[j].y[static_cast<std::size_t>(m) * cols + c];
        nonzero += want != 0.0f;
        EXPECT_EQ(res.y[idx], std::bit_cast<std::uint32_t>(want))
            << "job " << j << " y[" << m << "][" << c << "] = " << std::bit_cast<float>(res.y[idx]) << ", oracle " << want;
        EXPECT_EQ(res.y_cycle[idx], sim::output_valid_cycle(shape, j, m, c)) << "job " << j << " token " << m << " col " << c;
        // docs/array.md, spelled out: e + 5 of the job's last weight tile.
        EXPECT_EQ(res.y_cycle[idx], 1 + ((j + 1) * ktiles - 1) * period + m + rows + c + 5);
      }
    }
  }
  EXPECT_EQ(res.cycles, sim::stream_latency(shape, n_jobs));
  EXPECT_EQ(res.cycles, (n_jobs * ktiles - 1) * period + tokens + rows + cols + 5);
  // Guard against degenerate stimulus: all-zero outputs would match any broken datapath.
  EXPECT_GT(nonzero, static_cast<std::size_t>(n_jobs * tokens * cols) / 2);
}

struct WsShape { int k, group, jobs; };

TEST(RtlArrayWs, MixpeInt8W4_4x4) {
  // g = R (every weight tile its own group), 2R, 4R and 8R; single-tile jobs; streams of jobs.
  for (int tokens = 1; tokens <= 4; ++tokens)
    for (WsShape s : {WsShape{16, 4, 1}, WsShape{32, 8, 2}, WsShape{64, 16, 1}, WsShape{4, 4, 3}, WsShape{96, 32, 1}, WsShape{24, 8, 3}})
      for (int seed = 0; seed < 2; ++seed)
        check_ws<Vws_mixpe8_4x4>(WsKind::kMixpeInt8, 4, 4, tokens, s.k, s.group, 4, false, s.jobs,
                                 2000 * 1000 + 1000 * tokens + 10 * s.k + s.group + 100 * seed);
}

TEST(RtlArrayWs, MixpeFp16AndBf16SignedW8_3x2) {
  // R = 3 with W8 (two lanes of 2 and 1 rows): P = max(M, 2), load stalls at M = 1.
  for (int tokens = 1; tokens <= 3; ++tokens)
    for (WsShape s : {WsShape{12, 3, 1}, WsShape{24, 6, 2}, WsShape{36, 12, 1}, WsShape{3, 3, 3}, WsShape{48, 24, 1}})
      for (WsKind kind : {WsKind::kMixpeFp16, WsKind::kMixpeBf16})
        check_ws<Vws_mixpefp_3x2>(kind, 3, 2, tokens, s.k, s.group, 8, true, s.jobs,
                                  2100 * 1000 + 1000 * tokens + 10 * s.k + s.group + (kind == WsKind::kMixpeBf16 ? 7 : 0));
}

TEST(RtlArrayWs, Int8Baseline_4x3) {
  // One group (g = K); W8 gives two lanes of two rows, so P = max(M, 2).
  for (int tokens = 1; tokens <= 4; ++tokens)
    for (WsShape s : {WsShape{4, 4, 1}, WsShape{8, 8, 3}, WsShape{32, 32, 2}, WsShape{100, 100, 1}, WsShape{256, 256, 1}})
      check_ws<Vws_int8_4x3>(WsKind::kInt8, 4, 3, tokens, s.k, s.group, 8, true, s.jobs, 2200 * 1000 + 1000 * tokens + s.k);
}

TEST(RtlArrayWs, EarlyWeightLoadIsCaught) {
  // P = M = 3 > L = 1: loading a row one cycle early overwrites the weight the previous tile's last
  // token still needs. The array's schedule check must fire and the outputs go wrong.
  const std::vector<WsJob> jobs = make_jobs(WsKind::kMixpeInt8, 4, 4, 3, 32, 8, 4, false, 1, 2300 * 1000);
  const WsResult bad = run_ws<Vws_mixpe8_4x4>(jobs, 4, false, Feed::kEarlyLoads);
  EXPECT_TRUE(bad.rtl_error);
  int wrong = 0;
  for (std::size_t i = 0; i < bad.y.size(); ++i) wrong += bad.y[i] != std::bit_cast<std::uint32_t>(jobs[0].y[i]);
  EXPECT_GT(wrong, 0);
  const WsResult good = run_ws<Vws_mixpe8_4x4>(jobs, 4, false);
  EXPECT_FALSE(good.rtl_error);
}

// The same WS tile streams through the RTL and the SystemC per-PE model: bits, valid cycles, total
// cycles and the feeder's load stalls are equal.
template <typename Model>
void cross_check_ws(WsKind kind, int rows, int cols, int tokens, int k, int group, int wbits, bool wsigned, int n_jobs,
                    std::uint64_t seed) {
  SCOPED_TRACE("R=" + std::to_string(rows) + " C=" + std::to_string(cols) + " M=" + std::to_string(tokens) + " K=" +
               std::to_string(k) + " g=" + std::to_string(group) + " jobs=" + std::to_string(n_jobs));
  const std::vector<WsJob> jobs = make_jobs(kind, rows, cols, tokens, k, group, wbits, wsigned, n_jobs, seed);
  std::vector<sim::ArrayTile> tiles;
  for (const WsJob& j : jobs) tiles.push_back(j.tile);
  const WsResult rtl = run_ws<Model>(jobs, wbits, kind == WsKind::kMixpeBf16);
  EXPECT_FALSE(rtl.rtl_error);
  const sim::StreamResult pe = sim::make_pe_array_model()->run_stream(tiles);
  ASSERT_EQ(pe.y.size(), jobs.size());
  for (int j = 0; j < n_jobs; ++j) {
    ASSERT_EQ(pe.y[j].size(), static_cast<std::size_t>(tokens) * cols);
    ASSERT_EQ(pe.valid_cycle[j].size(), static_cast<std::size_t>(tokens) * cols);
    for (int m = 0; m < tokens; ++m) {
      for (int c = 0; c < cols; ++c) {
        const std::size_t idx = (static_cast<std::size_t>(j) * tokens + m) * cols + c;
        const std::size_t mc = static_cast<std::size_t>(m) * cols + c;
        EXPECT_EQ(rtl.y[idx], std::bit_cast<std::uint32_t>(pe.y[j][mc])) << "job " << j << " y[" << m << "][" << c << "]";
        EXPECT_EQ(rtl.y_cycle[idx], pe.valid_cycle[j][mc]) << "job " << j << " y[" << m << "][" << c << "] valid cycle";
      }
    }
  }
  EXPECT_EQ(rtl.cycles, pe.cycles) << "total cycles";
  EXPECT_EQ(pe.load_stall_cycles, sim::load_stall_cycles(sim::shape_of(tiles.front()), n_jobs)) << "load stalls";
}

TEST(RtlVsSimWs, MixpeInt8MatchesPerPeModel) {
  for (int tokens : {1, 3, 4})
    for (WsShape s : {WsShape{16, 4, 2}, WsShape{64, 16, 1}, WsShape{24, 8, 3}})
      cross_check_ws<Vws_mixpe8_4x4>(WsKind::kMixpeInt8, 4, 4, tokens, s.k, s.group, 4, false, s.jobs, 2400 * 1000 + 100 * tokens + s.k);
}

TEST(RtlVsSimWs, MixpeFp16AndBf16MatchPerPeModel) {
  for (int tokens : {1, 2, 3})
    for (WsShape s : {WsShape{12, 3, 2}, WsShape{36, 12, 1}}) {
      cross_check_ws<Vws_mixpefp_3x2>(WsKind::kMixpeFp16, 3, 2, tokens, s.k, s.group, 8, true, s.jobs, 2500 * 1000 + 100 * tokens + s.k);
      cross_check_ws<Vws_mixpefp_3x2>(WsKind::kMixpeBf16, 3, 2, tokens, s.k, s.group, 8, true, s.jobs, 2550 * 1000 + 100 * tokens + s.k);
    }
}

TEST(RtlVsSimWs, Int8BaselineMatchesPerPeModel) {
  for (int tokens : {1, 2, 4})
    for (WsShape s : {WsShape{8, 8, 3}, WsShape{64, 64, 1}})
      cross_check_ws<Vws_int8_4x3>(WsKind::kInt8, 4, 3, tokens, s.k, s.group, 8, true, s.jobs, 2600 * 1000 + 100 * tokens + s.k);
}

}  // namespace
}  // namespace mixpe::rtl_test
