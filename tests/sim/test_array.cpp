// Array models: cycle counts vs docs/array.md, per-PE model == tile model on randomized tiles, and
// both == quant's oracles bit for bit, for the output- and weight-stationary dataflows.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "quant/activations.h"
#include "quant/gemm_ref.h"
#include "quant/weights.h"
#include "sim/array.h"
#include "tests/sim/assemble_tiles.h"

namespace mixpe::sim {
namespace {

std::vector<float> random_floats(std::mt19937& rng, std::size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

quant::QuantizedWeights random_weights(std::mt19937& rng, int n, int k, int bits, int group, bool symmetric) {
  const auto w = random_floats(rng, static_cast<std::size_t>(n) * k);
  return quant::quantize_weights_rtn(w, n, k, quant::WeightQuantConfig{bits, group, symmetric});
}

void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(std::bit_cast<std::uint32_t>(a[i]), std::bit_cast<std::uint32_t>(b[i])) << what << " element " << i << ": " << a[i] << " vs " << b[i];
}

void expect_models_agree(const std::vector<ArrayTile>& tiles, const std::string& what) {
  const StreamResult pe = make_array_model("pe")->run_stream(tiles);
  const StreamResult tile = make_array_model("tile")->run_stream(tiles);
  const ArrayShape s = shape_of(tiles[0]);
  const auto n = static_cast<std::int64_t>(tiles.size());
  EXPECT_EQ(pe.cycles, tile.cycles) << what;
  EXPECT_EQ(pe.cycles, stream_latency(s, n)) << what;
  EXPECT_EQ(pe.last_valid_cycle, tile.last_valid_cycle) << what;
  EXPECT_EQ(pe.valid_cycle, tile.valid_cycle) << what << " (per-output valid cycles: drain order and dequantizer depth)";
  EXPECT_EQ(pe.drain_stall_cycles, tile.drain_stall_cycles) << what;
  EXPECT_EQ(pe.pe_macs, tile.pe_macs) << what;
  EXPECT_EQ(pe.dequant_ops, tile.dequant_ops) << what;
  EXPECT_EQ(pe.edge_ops, tile.edge_ops) << what;
  ASSERT_EQ(pe.y.size(), tile.y.size());
  for (std::size_t t = 0; t < pe.y.size(); ++t) expect_same_bits(pe.y[t], tile.y[t], what + " tile " + std::to_string(t));
}

// Hand-derived from T_tile = (nG - 1) p + g + 2R + C + 3, p = max(g, R).
TEST(ArrayTiming, FormulaHandCases) {
  // 4x4, g = 8, K = 16: p = 8; T = 1*8 + 8 + 8 + 4 + 3 = 31.
  EXPECT_EQ(tile_latency({ArrayMode::kMixpeInt8, 4, 4, 16, 8}), 31);
  // 8x8, g = 4 < R, K = 8: p = 8; T = 1*8 + 4 + 16 + 8 + 3 = 39; stalls at 1 group boundary * (8 - 4) = 4.
  EXPECT_EQ(tile_latency({ArrayMode::kMixpeInt8, 8, 8, 8, 4}), 39);
  EXPECT_EQ(drain_stall_cycles({ArrayMode::kMixpeInt8, 8, 8, 8, 4}, 1), 4);
  // Two such tiles streamed: 3 group boundaries * 4 = 12.
  EXPECT_EQ(drain_stall_cycles({ArrayMode::kMixpeInt8, 8, 8, 8, 4}, 2), 12);
  // Stream of 3 tiles of the 4x4 case: 3*2*8 + (8 + 8 + 4 + 3 - 8) = 48 + 15 = 63.
  EXPECT_EQ(stream_latency({ArrayMode::kMixpeInt8, 4, 4, 16, 8}, 3), 63);
  // fp16 baseline 4x4, K = 16 (one group): K + 2R + C + 4 = 16 + 8 + 4 + 4 = 32.
  EXPECT_EQ(tile_latency({ArrayMode::kFp16, 4, 4, 16, 16}), 32);
  // Paper scale: 64x64, g = 128, K = 4096: 31*128 + 128 + 128 + 64 + 3 = 4291.
  EXPECT_EQ(tile_latency({ArrayMode::kMixpeInt8, 64, 64, 4096, 128}), 4291);
}

// Feeder schedule, 8x8, g = 4, K = 8 (p = 8): lane l gets (G, j) on cycle 8G + j + l; j = 4..7 are bubbles.
TEST(ArrayTiming, FeedSlotSchedule) {
  const ArrayShape s{ArrayMode::kMixpeInt8, 8, 8, 8, 4};
  EXPECT_FALSE(feed_slot(s, 1, 2, 3).in_stream);  // lane 3 starts on cycle 3
  const FeedSlot a = feed_slot(s, 1, 3 + 2, 3);    // lane 3, cycle 5: group 0, j = 2
  EXPECT_TRUE(a.valid);
  EXPECT_EQ(a.k, 2);
  const FeedSlot b = feed_slot(s, 1, 3 + 5, 3);    // j = 5 >= g: a drain-stall bubble
  EXPECT_TRUE(b.in_stream);
  EXPECT_FALSE(b.valid);
  const FeedSlot c = feed_slot(s, 2, 3 + 17, 3);   // tile 1 (starts at 16), group 0, j = 1
  EXPECT_TRUE(c.valid);
  EXPECT_EQ(c.tile, 1);
  EXPECT_EQ(c.k, 1);
  EXPECT_FALSE(feed_slot(s, 2, 3 + 32, 3).in_stream);  // after 2 tiles * 2 groups * 8 slots
  // fp16 starts one cycle later.
  EXPECT_FALSE(feed_slot({ArrayMode::kFp16, 2, 2, 4, 4}, 1, 0, 0).in_stream);
  EXPECT_TRUE(feed_slot({ArrayMode::kFp16, 2, 2, 4, 4}, 1, 1, 0).valid);
}

TEST(ArrayModels, RegistryHasBothModelsAndRejectsUnknown) {
  ASSERT_EQ(array_models().size(), 2u);
  EXPECT_EQ(make_array_model("pe")->name(), "pe");
  EXPECT_EQ(make_array_model("tile")->name(), "tile");
  try {
    make_array_model("rtl-not-yet");
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("rtl-not-yet"), std::string::npos);
  }
}

// A single full tile of every mode against quant's oracle.
TEST(ArrayModels, SingleTileMatchesOraclesEveryMode) {
  std::mt19937 rng(7);
  const int R = 4, C = 4, K = 32;
  {
    const auto w = random_weights(rng, C, K, 4, 8, false);
    const auto x = quant::quantize_activations_int8(random_floats(rng, R * K), R, K);
    const std::vector<ArrayTile> t = {make_tile_mixpe_int8(x, w, 0, 0, R, C)};
    for (const char* m : {"pe", "tile"}) expect_same_bits(make_array_model(m)->run_stream(t).y[0], quant::gemm_mixpe_int8_ref(x, w), std::string("mixpe int8 ") + m);
  }
  {
    const auto w = random_weights(rng, C, K, 3, 16, false);
    const auto x16 = quant::to_half(random_floats(rng, R * K, -8.0f, 8.0f));
    const auto xa = quant::align_activations_fp16(x16, R, K, 16);
    const std::vector<ArrayTile> t = {make_tile_mixpe_aligned(xa, w, 0, 0, R, C)};
    for (const char* m : {"pe", "tile"}) expect_same_bits(make_array_model(m)->run_stream(t).y[0], quant::gemm_mixpe_fp16_ref(x16, R, w), std::string("mixpe fp16 ") + m);
  }
  {
    const auto w = random_weights(rng, C, K, 8, -1, true);
    const auto x = quant::quantize_activations_int8(random_floats(rng, R * K), R, K);
    const std::vector<ArrayTile> t = {make_tile_int8(x, w, 0, 0, R, C)};
    for (const char* m : {"pe", "tile"}) expect_same_bits(make_array_model(m)->run_stream(t).y[0], quant::gemm_int8_ref(x, w), std::string("int8 ") + m);
  }
  {
    const auto w = random_weights(rng, C, K, 4, 8, false);
    const auto x16 = quant::to_half(random_floats(rng, R * K));
    const std::vector<ArrayTile> t = {make_tile_fp16(x16, R, w, 0, 0, R, C)};
    for (const char* m : {"pe", "tile"}) expect_same_bits(make_array_model(m)->run_stream(t).y[0], quant::gemm_fp16_ref(x16, R, w), std::string("fp16 ") + m);
  }
}

// Randomized shapes, bit widths, group sizes (incl. g < R: drain stalls) and streams of tiles with
// partial edge tiles: per-PE model == tile model (cycles, per-output valid cycles, counts, bits),
// and the assembled matrix == the oracle.
TEST(ArrayModels, RandomizedStreamsAgreeWithEachOtherAndOracles) {
  std::mt19937 rng(2024);
  const int bits_choices[] = {2, 3, 4, 8};
  int cases = 0, stalled = 0;
  for (int iter = 0; iter < 200; ++iter) {
    std::uniform_int_distribution<int> dim(1, 8);
    const int R = dim(rng), C = dim(rng);
    const int g = 1 << std::uniform_int_distribution<int>(0, 4)(rng);  // 1..16
    const int ng = std::uniform_int_distribution<int>(1, 3)(rng);
    const int K = g * ng;
    const int M = std::uniform_int_distribution<int>(1, 2 * R)(rng), N = std::uniform_int_distribution<int>(1, 2 * C)(rng);
    const int bits = bits_choices[std::uniform_int_distribution<int>(0, 3)(rng)];
    const bool sym = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
    const int mode = iter % 4;
    const std::string what = "iter " + std::to_string(iter) + " mode " + std::to_string(mode) + " R" + std::to_string(R) + " C" +
                             std::to_string(C) + " g" + std::to_string(g) + " K" + std::to_string(K) + " M" + std::to_string(M) + " N" +
                             std::to_string(N) + " b" + std::to_string(bits);
    std::vector<ArrayTile> tiles;
    std::vector<float> ref;
    if (mode == 0) {
      const auto w = random_weights(rng, N, K, bits, g, sym);
      const auto x = quant::quantize_activations_int8(random_floats(rng, static_cast<std::size_t>(M) * K), M, K);
      for (int m0 = 0; m0 < M; m0 += R)
        for (int n0 = 0; n0 < N; n0 += C) tiles.push_back(make_tile_mixpe_int8(x, w, m0, n0, R, C));
      ref = quant::gemm_mixpe_int8_ref(x, w);
    } else if (mode == 1) {
      const auto w = random_weights(rng, N, K, bits, g, sym);
      const auto xb = quant::to_bfloat16(random_floats(rng, static_cast<std::size_t>(M) * K, -100.0f, 100.0f));
      const auto xa = quant::align_activations_bf16(xb, M, K, g);
      for (int m0 = 0; m0 < M; m0 += R)
        for (int n0 = 0; n0 < N; n0 += C) tiles.push_back(make_tile_mixpe_aligned(xa, w, m0, n0, R, C));
      ref = quant::gemm_mixpe_bf16_ref(xb, M, w);
    } else if (mode == 2) {
      const auto w = random_weights(rng, N, K, std::min(bits, 8), -1, true);
      const auto x = quant::quantize_activations_int8(random_floats(rng, static_cast<std::size_t>(M) * K), M, K);
      for (int m0 = 0; m0 < M; m0 += R)
        for (int n0 = 0; n0 < N; n0 += C) tiles.push_back(make_tile_int8(x, w, m0, n0, R, C));
      ref = quant::gemm_int8_ref(x, w);
    } else {
      const auto w = random_weights(rng, N, K, bits, g, sym);
      const auto x16 = quant::to_half(random_floats(rng, static_cast<std::size_t>(M) * K));
      for (int m0 = 0; m0 < M; m0 += R)
        for (int n0 = 0; n0 < N; n0 += C) tiles.push_back(make_tile_fp16(x16, M, w, m0, n0, R, C));
      ref = quant::gemm_fp16_ref(x16, M, w);
    }
    expect_models_agree(tiles, what);
    const StreamResult pe = make_array_model("pe")->run_stream(tiles);
    expect_same_bits(assemble(pe, M, N, R, C), ref, what + " vs oracle");
    ++cases;
    if (pe.drain_stall_cycles > 0) ++stalled;
  }
  EXPECT_EQ(cases, 200);
  EXPECT_GT(stalled, 20) << "the sweep must exercise g < R drain stalls";
}

// docs/array.md: the int8 baseline's stage 4 passes d through (acc = d). The only visible difference
// from +0 + d is d = -0: a zero dot product times a negative scale must stay -0, as in the oracle,
// in both dataflows.
TEST(ArrayModels, Int8StageFourPassesNegativeZero) {
  quant::QuantizedWeights w;
  w.n = 2;
  w.k = 4;
  w.bits = 8;
  w.group_size = 4;
  w.symmetric = true;
  w.codes = {1, -1, 1, -1, 0, 0, 0, 0};  // channel 0: dot product 0 with equal activations
  w.scales = {quant::Half::from_double(-0.5), quant::Half::from_double(-2.0)};
  w.zeros = {0, 0};
  quant::Int8Activations x;
  x.m = 1;
  x.k = 4;
  x.codes = {3, 3, 3, 3};
  x.scales = {0.25f};
  const auto ref = quant::gemm_int8_ref(x, w);
  ASSERT_TRUE(std::signbit(ref[0]) && ref[0] == 0.0f) << "the oracle yields -0 here";
  const ArrayTile os = make_tile_int8(x, w, 0, 0, 1, 2);
  for (const ArrayTile& tile : {os, to_weight_stationary(os, 2)}) {
    const std::vector<ArrayTile> t = {tile};
    for (const char* m : {"pe", "tile"})
      expect_same_bits(make_array_model(m)->run_stream(t).y[0], ref, std::string("int8 -0 ") + m + " " + std::string(to_string(tile.dataflow)));
  }
}

// g < R: the feeder inserts R - g idle cycles per group; without them the drain would overwrite
// shadow registers. 8x8, g = 2, K = 6: p = 8, T = 2*8 + 2 + 16 + 8 + 3 = 45, stalls at the 2 group
// boundaries: 2 * (8 - 2) = 12.
TEST(ArrayModels, DrainStallWhenGroupSmallerThanRows) {
  const ArrayTile t = make_zero_tile(ArrayMode::kMixpeInt8, 8, 8, 6, 2, 4);
  const StreamResult r = make_array_model("pe")->run_stream(std::vector<ArrayTile>{t});
  EXPECT_EQ(r.cycles, 45);
  EXPECT_EQ(r.drain_stall_cycles, 12);
  // The same K with g = 8 >= R (one group of 6 is not allowed; use K = 8, g = 8): no stalls.
  const ArrayTile u = make_zero_tile(ArrayMode::kMixpeInt8, 8, 8, 8, 8, 4);
  EXPECT_EQ(make_array_model("pe")->run_stream(std::vector<ArrayTile>{u}).drain_stall_cycles, 0);
}

// Output (r, c) leaves the drain bottom row first: row R-1 is valid before row 0 of the same column.
TEST(ArrayModels, PerOutputValidCyclesFollowDrainOrder) {
  const ArrayTile t = make_zero_tile(ArrayMode::kMixpeInt8, 4, 3, 8, 8, 4);
  const StreamResult r = make_array_model("pe")->run_stream(std::vector<ArrayTile>{t});
  // e(0, c, i) = g + R - 1 + c + i = 8 + 3 + c + i; y valid 5 cycles later; row r = R-1-i.
  for (int row = 0; row < 4; ++row)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(r.valid_cycle[0][static_cast<std::size_t>(row) * 3 + c], 8 + 3 + c + (3 - row) + 5);
}

TEST(ArrayModels, RejectsMalformedTiles) {
  ArrayTile t = make_zero_tile(ArrayMode::kMixpeInt8, 2, 2, 8, 4, 4);
  t.q.pop_back();
  EXPECT_THROW(make_array_model("tile")->run_stream(std::vector<ArrayTile>{t}), std::invalid_argument);
  ArrayTile u = make_zero_tile(ArrayMode::kMixpeInt8, 2, 2, 8, 4, 4);
  u.group_size = 3;
  EXPECT_THROW(make_array_model("pe")->run_stream(std::vector<ArrayTile>{u}), std::invalid_argument);
  const ArrayTile a = make_zero_tile(ArrayMode::kMixpeInt8, 2, 2, 8, 4, 4), b = make_zero_tile(ArrayMode::kMixpeInt8, 2, 2, 16, 4, 4);
  for (const char* m : {"pe", "tile"}) EXPECT_THROW(make_array_model(m)->run_stream(std::vector<ArrayTile>{a, b}), std::invalid_argument);
}

// The per-PE model's PEs take 16-bit activations (INT8 codes or aligned mantissas) and form 32-bit
// products: a wider value is not an array input and is rejected in both dataflows; the port's
// extreme values run and agree with the tile model.
TEST(ArrayModels, PerPeModelRejectsActivationsWiderThanThePort) {
  ArrayTile t = make_zero_tile(ArrayMode::kMixpeAligned, 2, 2, 8, 4, 4);
  std::fill(t.w_scale.begin(), t.w_scale.end(), quant::Half::from_double(1.0));
  std::fill(t.q.begin(), t.q.end(), std::int16_t{15});
  t.x[t.xi(1, 5)] = 1 << 15;
  for (const ArrayTile& tile : {t, to_weight_stationary(t, 2)})
    EXPECT_THROW(make_array_model("pe")->run_stream(std::vector<ArrayTile>{tile}), std::invalid_argument) << to_string(tile.dataflow);
  t.x[t.xi(1, 5)] = -(1 << 15);
  t.x[t.xi(0, 2)] = (1 << 15) - 1;
  for (const ArrayTile& tile : {t, to_weight_stationary(t, 2)}) {
    const std::vector<ArrayTile> s = {tile};
    const StreamResult pe = make_array_model("pe")->run_stream(s);
    EXPECT_EQ(pe.y[0][0], 15.0f * 32767.0f) << to_string(tile.dataflow);
    EXPECT_EQ(pe.y[0][2], -15.0f * 32768.0f) << to_string(tile.dataflow);
    expect_same_bits(pe.y[0], make_array_model("tile")->run_stream(s).y[0], std::string("extreme activations ") + std::string(to_string(tile.dataflow)));
  }
}


// ---- Weight-stationary dataflow (docs/array.md "Weight-stationary dataflow (small M)") ----

// Hand-derived from P = max(M, ceil(R / (16 / bits))), S_t = 1 + t P, T_stream = (T - 1) P + M + R + C + 5.
TEST(ArrayTimingWs, FormulaHandCases) {
  // 8x8, W8 (2 lanes, L = 4), M = 1, K = 16, g = 8: T = 2, P = 4; T_stream = 4 + 1 + 8 + 8 + 5 = 26.
  const ArrayShape s{ArrayMode::kMixpeInt8, 8, 8, 16, 8, Dataflow::kWs, 1, 8};
  EXPECT_EQ(ws_lanes(8), 2);
  EXPECT_EQ(ws_lane_rows(s), 4);
  EXPECT_EQ(ws_period(s), 4);
  EXPECT_EQ(ws_weight_tiles(s, 1), 2);
  EXPECT_EQ(stream_latency(s, 1), 26);
  EXPECT_EQ(tile_latency(s), 26);
  EXPECT_EQ(load_stall_cycles(s, 1), 3);
  EXPECT_EQ(drain_stall_cycles(s, 1), 0);
  // y[0][c] valid on 1 + (T-1) P + 0 + R + c + 5 = 18 + c.
  EXPECT_EQ(output_valid_cycle(s, 0, 0, 0), 18);
  EXPECT_EQ(output_valid_cycle(s, 0, 0, 7), 25);
  // Same shape, M = 6 > L: P = 6, no load stalls; two jobs (T = 4): 3*6 + 6 + 8 + 8 + 5 = 45.
  const ArrayShape u{ArrayMode::kMixpeInt8, 8, 8, 16, 8, Dataflow::kWs, 6, 8};
  EXPECT_EQ(ws_period(u), 6);
  EXPECT_EQ(stream_latency(u, 2), 45);
  EXPECT_EQ(load_stall_cycles(u, 2), 0);
  // Job 0's last output (m = 5, c = 7): 1 + 1*6 + 5 + 8 + 7 + 5 = 32.
  EXPECT_EQ(output_valid_cycle(u, 0, 5, 7), 32);
  // Lanes: W2 8, W3 5, W4 4, W8 2.
  EXPECT_EQ(ws_lanes(2), 8);
  EXPECT_EQ(ws_lanes(3), 5);
  EXPECT_EQ(ws_lanes(4), 4);
  // Decode on the reference 64x64 W4: L = 16, P = 16 at M = 1; K = 4096: 63*16 + 1 + 64 + 64 + 5 = 1142.
  const ArrayShape d{ArrayMode::kMixpeInt8, 64, 64, 4096, 128, Dataflow::kWs, 1, 4};
  EXPECT_EQ(ws_period(d), 16);
  EXPECT_EQ(stream_latency(d, 1), 1142);
  EXPECT_EQ(load_stall_cycles(d, 1), 63 * 15);
}

// The unskewed feeder for the 8x8 W8 M = 1 case above: P = 4, lane 0 rows 0-3, lane 1 rows 4-7.
TEST(ArrayTimingWs, FeederSlots) {
  const ArrayShape s{ArrayMode::kMixpeInt8, 8, 8, 16, 8, Dataflow::kWs, 1, 8};
  EXPECT_FALSE(ws_token_slot(s, 1, 0).valid);
  const WsTokenSlot a = ws_token_slot(s, 1, 1);  // S_0 = 1
  EXPECT_TRUE(a.valid);
  EXPECT_EQ(a.tile, 0);
  EXPECT_FALSE(ws_token_slot(s, 1, 2).valid);  // a load stall
  const WsTokenSlot b = ws_token_slot(s, 1, 5);  // S_1 = 5
  EXPECT_TRUE(b.valid);
  EXPECT_EQ(b.tile, 1);
  EXPECT_EQ(b.ktile, 1);
  EXPECT_FALSE(ws_token_slot(s, 1, 9).valid);  // after the stream
  // Row r of tile t loads on S_t + r - 1.
  const WsLoadSlot l0 = ws_load_slot(s, 1, 3, 0);
  EXPECT_TRUE(l0.valid);
  EXPECT_EQ(l0.row, 3);
  EXPECT_EQ(l0.tile, 0);
  const WsLoadSlot l0b = ws_load_slot(s, 1, 4, 0);
  EXPECT_TRUE(l0b.valid);
  EXPECT_EQ(l0b.row, 0);
  EXPECT_EQ(l0b.tile, 1);
  EXPECT_FALSE(ws_load_slot(s, 1, 3, 1).valid);  // lane 1 starts with row 4 on cycle 4
  const WsLoadSlot l1 = ws_load_slot(s, 1, 7, 1);
  EXPECT_TRUE(l1.valid);
  EXPECT_EQ(l1.row, 7);
  EXPECT_EQ(l1.tile, 0);
  EXPECT_FALSE(ws_load_slot(s, 1, 12, 1).valid);
  // Scales on S_t - 1.
  EXPECT_TRUE(ws_scale_slot(s, 1, 0).valid);
  EXPECT_EQ(ws_scale_slot(s, 1, 4).tile, 1);
  EXPECT_FALSE(ws_scale_slot(s, 1, 3).valid);
  EXPECT_FALSE(ws_scale_slot(s, 1, 8).valid);
}

// One random weight-stationary case: the WS stream, the same operands on the R x C OS array, and
// the oracle over the assembled [tokens][N] matrix.
struct WsCase {
  std::vector<ArrayTile> ws, os;
  std::vector<std::pair<int, int>> origin;  // per job: (m0, n0)
  std::vector<float> ref;
  int tokens = 0, n = 0;
};

// mode: 0 MixPE INT8, 1 MixPE FP16-aligned, 2 MixPE BF16-aligned, 3 INT8 baseline.
WsCase make_ws_case(std::mt19937& rng, int mode, int R, int C, int M, int jobs, int bits, int g, int ng, bool sym) {
  WsCase wc;
  const bool over_tokens = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
  // Jobs split the tokens (M per job) or the channels (C per job); the last block may be partial.
  wc.tokens = over_tokens ? (jobs - 1) * M + std::uniform_int_distribution<int>(1, M)(rng) : M;
  wc.n = over_tokens ? C : (jobs - 1) * C + std::uniform_int_distribution<int>(1, C)(rng);
  for (int j = 0; j < jobs; ++j) wc.origin.emplace_back(over_tokens ? j * M : 0, over_tokens ? 0 : j * C);
  const int K = g * ng, T = wc.tokens, N = wc.n;
  auto add = [&](auto make) {
    for (const auto& [m0, n0] : wc.origin) {
      wc.ws.push_back(to_weight_stationary(make(m0, n0, M), R));
      wc.os.push_back(make(m0, n0, R));
    }
  };
  if (mode == 0) {
    const auto w = random_weights(rng, N, K, bits, g, sym);
    const auto x = quant::quantize_activations_int8(random_floats(rng, static_cast<std::size_t>(T) * K), T, K);
    add([&](int m0, int n0, int rows) { return make_tile_mixpe_int8(x, w, m0, n0, rows, C); });
    wc.ref = quant::gemm_mixpe_int8_ref(x, w);
  } else if (mode == 1) {
    const auto w = random_weights(rng, N, K, bits, g, sym);
    const auto x16 = quant::to_half(random_floats(rng, static_cast<std::size_t>(T) * K, -8.0f, 8.0f));
    const auto xa = quant::align_activations_fp16(x16, T, K, g);
    add([&](int m0, int n0, int rows) { return make_tile_mixpe_aligned(xa, w, m0, n0, rows, C); });
    wc.ref = quant::gemm_mixpe_fp16_ref(x16, T, w);
  } else if (mode == 2) {
    const auto w = random_weights(rng, N, K, bits, g, sym);
    const auto xb = quant::to_bfloat16(random_floats(rng, static_cast<std::size_t>(T) * K, -100.0f, 100.0f));
    const auto xa = quant::align_activations_bf16(xb, T, K, g);
    add([&](int m0, int n0, int rows) { return make_tile_mixpe_aligned(xa, w, m0, n0, rows, C); });
    wc.ref = quant::gemm_mixpe_bf16_ref(xb, T, w);
  } else {
    const auto w = random_weights(rng, N, K, bits, -1, true);
    const auto x = quant::quantize_activations_int8(random_floats(rng, static_cast<std::size_t>(T) * K), T, K);
    add([&](int m0, int n0, int rows) { return make_tile_int8(x, w, m0, n0, rows, C); });
    wc.ref = quant::gemm_int8_ref(x, w);
  }
  return wc;
}

// Per-PE WS model vs tile WS model vs the closed form vs the OS array vs the oracle.
void expect_ws_case(const WsCase& wc, const std::string& what) {
  const StreamResult pe = make_array_model("pe")->run_stream(wc.ws);
  const StreamResult tile = make_array_model("tile")->run_stream(wc.ws);
  const StreamResult os = make_array_model("pe")->run_stream(wc.os);
  const ArrayShape s = shape_of(wc.ws[0]);
  const auto jobs = static_cast<std::int64_t>(wc.ws.size());
  const int M = s.tokens, C = s.cols;
  EXPECT_EQ(pe.cycles, stream_latency(s, jobs)) << what;
  EXPECT_EQ(tile.cycles, pe.cycles) << what;
  ASSERT_EQ(pe.valid_cycle.size(), static_cast<std::size_t>(jobs)) << what;
  for (std::int64_t j = 0; j < jobs; ++j) {
    std::int64_t last = -1;
    for (int m = 0; m < M; ++m)
      for (int c = 0; c < C; ++c) {
        const std::int64_t v = output_valid_cycle(s, j, m, c);
        ASSERT_EQ(pe.valid_cycle[j][static_cast<std::size_t>(m) * C + c], v) << what << " job " << j << " m " << m << " c " << c;
        last = std::max(last, v);
      }
    EXPECT_EQ(pe.last_valid_cycle[j], last) << what << " job " << j;
  }
  EXPECT_EQ(tile.valid_cycle, pe.valid_cycle) << what;
  EXPECT_EQ(tile.last_valid_cycle, pe.last_valid_cycle) << what;
  EXPECT_EQ(pe.load_stall_cycles, load_stall_cycles(s, jobs)) << what;
  EXPECT_EQ(tile.load_stall_cycles, pe.load_stall_cycles) << what;
  EXPECT_EQ(pe.drain_stall_cycles, 0) << what;
  // docs/array.md events per job: (K/R) R C M PE operations, M C K/g dequantizations, (K/R) R M edge additions.
  EXPECT_EQ(pe.pe_macs, jobs * s.k * C * M) << what;
  EXPECT_EQ(pe.dequant_ops, jobs * M * C * s.groups()) << what;
  EXPECT_EQ(pe.edge_ops, jobs * s.k * M) << what;
  EXPECT_EQ(tile.pe_macs, pe.pe_macs) << what;
  EXPECT_EQ(tile.dequant_ops, pe.dequant_ops) << what;
  EXPECT_EQ(tile.edge_ops, pe.edge_ops) << what;
  ASSERT_EQ(pe.y.size(), tile.y.size());
  ASSERT_EQ(os.y.size(), pe.y.size());
  std::vector<float> full(static_cast<std::size_t>(wc.tokens) * wc.n);
  for (std::size_t j = 0; j < pe.y.size(); ++j) {
    expect_same_bits(pe.y[j], tile.y[j], what + " pe vs tile job " + std::to_string(j));
    // The OS array (R rows) computes the same tokens in its first M rows.
    const std::vector<float> os_rows(os.y[j].begin(), os.y[j].begin() + static_cast<std::ptrdiff_t>(M) * C);
    expect_same_bits(pe.y[j], os_rows, what + " ws vs os job " + std::to_string(j));
    const auto [m0, n0] = wc.origin[j];
    for (int m = 0; m < M && m0 + m < wc.tokens; ++m)
      for (int c = 0; c < C && n0 + c < wc.n; ++c)
        full[static_cast<std::size_t>(m0 + m) * wc.n + n0 + c] = pe.y[j][static_cast<std::size_t>(m) * C + c];
  }
  expect_same_bits(full, wc.ref, what + " vs oracle");
}

TEST(ArrayModelsWs, RandomizedStreamsMatchOraclesOsAndClosedForm) {
  std::mt19937 rng(4242);
  // 16 rows as well: there every weight width has more rows per lane (L = 2..8) than small M.
  const int shapes[][2] = {{4, 4}, {2, 3}, {8, 8}, {3, 5}, {16, 2}};
  const int bits_choices[] = {2, 3, 4, 8};
  int cases = 0, stalled = 0, multi_tile_groups = 0, single_token = 0, full_rows = 0;
  for (const auto& [R, C] : shapes) {
    for (int mode = 0; mode < 4; ++mode) {
      for (int iter = 0; iter < 12; ++iter) {
        // Half the draws take a small M (decode-like), where the load lanes bound the period.
        const int m_max = iter % 2 == 0 ? R : std::max(1, R / 4);
        const int M = iter < 2 ? (iter == 0 ? 1 : R) : std::uniform_int_distribution<int>(1, m_max)(rng);
        const int jobs = std::uniform_int_distribution<int>(1, 3)(rng);
        const int bits = bits_choices[(iter + mode) % 4];
        const int g = R << std::uniform_int_distribution<int>(0, 2)(rng);  // R, 2R, 4R
        const int ng = std::uniform_int_distribution<int>(1, 3)(rng);
        const bool sym = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
        const std::string what = fmt::format("R{} C{} mode {} iter {} M{} jobs {} W{} g{} nG{}", R, C, mode, iter, M, jobs, bits, g, ng);
        const WsCase wc = make_ws_case(rng, mode, R, C, M, jobs, bits, g, ng, sym);
        expect_ws_case(wc, what);
        const ArrayShape s = shape_of(wc.ws[0]);
        ++cases;
        if (load_stall_cycles(s, jobs) > 0) ++stalled;
        if (s.group_size > R) ++multi_tile_groups;
        single_token += M == 1;
        full_rows += M == R;
      }
    }
  }
  EXPECT_EQ(cases, 5 * 4 * 12);
  EXPECT_GT(stalled, 40) << "the sweep must exercise load stalls (P = L > M)";
  EXPECT_GT(multi_tile_groups, 60) << "the sweep must exercise groups spanning several weight tiles";
  EXPECT_GE(single_token, 20);
  EXPECT_GE(full_rows, 20);
}

// Per-output valid cycles of one job: 4x3 array, W8 (L = 2), M = 3, K = 8, g = 4: T = 2, P = 3;
// y[m][c] valid on 1 + 1*3 + m + 4 + c + 5 = 13 + m + c, the stream ends on 13 + 2 + 2 = 17 (18 cycles).
TEST(ArrayModelsWs, PerOutputValidCyclesByHand) {
  const ArrayTile t = to_weight_stationary(make_zero_tile(ArrayMode::kMixpeInt8, 3, 3, 8, 4, 8), 4);
  const StreamResult r = make_array_model("pe")->run_stream(std::vector<ArrayTile>{t});
  for (int m = 0; m < 3; ++m)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(r.valid_cycle[0][static_cast<std::size_t>(m) * 3 + c], 13 + m + c);
  EXPECT_EQ(r.cycles, 18);
  EXPECT_EQ(r.load_stall_cycles, 0);
  // M = 1 on the same array: P = L = 2, one idle token slot between the two weight tiles.
  const ArrayTile u = to_weight_stationary(make_zero_tile(ArrayMode::kMixpeInt8, 1, 3, 8, 4, 8), 4);
  const StreamResult q = make_array_model("pe")->run_stream(std::vector<ArrayTile>{u});
  EXPECT_EQ(q.load_stall_cycles, 1);
  EXPECT_EQ(q.cycles, 2 + 1 + 4 + 3 + 5);
}

void expect_ws_rejected(const ArrayTile& t, const std::string& needle) {
  for (const char* m : {"pe", "tile"}) {
    try {
      make_array_model(m)->run_stream(std::vector<ArrayTile>{t});
      ADD_FAILURE() << m << ": expected std::invalid_argument mentioning '" << needle << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << m << ": " << e.what();
    }
  }
  EXPECT_THROW(check_tile(t), std::invalid_argument);
}

TEST(ArrayModelsWs, RejectsShapesWithoutAWeightStationaryMapping) {
  std::mt19937 rng(5);
  const auto w = random_weights(rng, 4, 16, 4, 8, false);
  const auto x16 = quant::to_half(random_floats(rng, 2 * 16));
  expect_ws_rejected(to_weight_stationary(make_tile_fp16(x16, 2, w, 0, 0, 2, 4), 4), "no weight-stationary dataflow");
  const auto x = quant::quantize_activations_int8(random_floats(rng, 8 * 16), 8, 16);
  expect_ws_rejected(to_weight_stationary(make_tile_mixpe_int8(x, w, 0, 0, 5, 4), 4), "tokens M");  // M = 5 > R = 4
  expect_ws_rejected(to_weight_stationary(make_tile_mixpe_int8(x, w, 0, 0, 2, 4), 16), "divide the group size");  // g = 8, R = 16
  const auto w6 = random_weights(rng, 4, 12, 4, 6, false);
  const auto x6 = quant::quantize_activations_int8(random_floats(rng, 2 * 12), 2, 12);
  expect_ws_rejected(to_weight_stationary(make_tile_mixpe_int8(x6, w6, 0, 0, 2, 4), 4), "divide the group size");  // g = 6, R = 4
  // A stream mixing dataflows is rejected too.
  const ArrayTile os = make_tile_mixpe_int8(x, w, 0, 0, 2, 4);
  EXPECT_THROW(make_array_model("pe")->run_stream(std::vector<ArrayTile>{to_weight_stationary(os, 4), os}), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::sim
