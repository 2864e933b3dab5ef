// The BitFusion and ANT arrays: both array models equal quant's BitFusion and ANT oracles bit for
// bit and each other in cycles, BitFusion's fused widths shorten the K stream by its products per
// cycle (docs/array.md), ANT's 8-bit integers take two cycles per product (tile model only), and
// bad tiles and configs are named.
#include <bit>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "quant/ant.h"
#include "quant/bitfusion.h"
#include "quant/gemm_ref.h"
#include "quant/weights.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/isa.h"
#include "tests/quant/bits_equal.h"
#include "tests/sim/assemble_tiles.h"

namespace mixpe::sim {
namespace {

std::vector<float> random_floats(std::mt19937& rng, std::size_t n) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Per-token INT8 activations (rows x k) and symmetric per-channel `bits`-bit weights (cols x k).
struct Operands {
  quant::Int8Activations x;
  quant::QuantizedWeights w;
};
Operands int8_operands(std::mt19937& rng, int rows, int cols, int k, int bits) {
  return {quant::quantize_activations_int8(random_floats(rng, static_cast<std::size_t>(rows) * k), rows, k),
          quant::quantize_weights_rtn(random_floats(rng, static_cast<std::size_t>(cols) * k), cols, k, {bits, -1, true})};
}

// All tiles of an M x N x K GEMM, row tiles outer, assembled back into M x N after the run.
template <typename MakeTile>
std::vector<float> run_gemm(ArrayModel& model, int m, int n, int rows, int cols, MakeTile make, StreamResult* out = nullptr) {
  std::vector<ArrayTile> tiles;
  for (int m0 = 0; m0 < m; m0 += rows)
    for (int n0 = 0; n0 < n; n0 += cols) tiles.push_back(make(m0, n0));
  const StreamResult r = model.run_stream(tiles);
  if (out != nullptr) *out = r;
  return assemble(r, m, n, rows, cols);
}

TEST(BitFusionArray, ProductsPerCycleAndKSlots) {
  EXPECT_EQ(products_per_cycle(ArrayMode::kBitFusion, 2), 4);
  EXPECT_EQ(products_per_cycle(ArrayMode::kBitFusion, 4), 2);
  EXPECT_EQ(products_per_cycle(ArrayMode::kBitFusion, 8), 1);
  EXPECT_THROW(products_per_cycle(ArrayMode::kBitFusion, 3), std::invalid_argument);
  for (ArrayMode m : {ArrayMode::kMixpeInt8, ArrayMode::kInt8, ArrayMode::kFp16, ArrayMode::kAnt}) EXPECT_EQ(products_per_cycle(m, 4), 1);
  EXPECT_EQ(k_slots(ArrayMode::kBitFusion, 512, 4), 256);
  EXPECT_EQ(k_slots(ArrayMode::kBitFusion, 7, 2), 2);  // a partial last slot still takes a cycle
  EXPECT_EQ(k_slots(ArrayMode::kAnt, 512, 4), 512);
  EXPECT_EQ(k_slots(ArrayMode::kAnt, 512, 8), 1024);  // 8-bit integers: two 4-bit halves, two cycles each
  EXPECT_EQ(macs_per_pe_cycle(ArrayMode::kBitFusion, 2), 4.0);
  EXPECT_EQ(macs_per_pe_cycle(ArrayMode::kAnt, 8), 0.5);
  EXPECT_EQ(macs_per_pe_cycle(ArrayMode::kMixpeInt8, 8), 1.0);
}

// Random shapes, every fusion width: both array models equal quant's BitFusion oracle in bits and
// each other in cycles, per-output valid cycles and counts; the stream takes the closed-form cycles
// of an array whose K stream has ceil(K / (8 / wbits)) slots. The per-PE model feeds each slot's
// 8 / wbits elements to the PE side by side, which sums their products.
TEST(BitFusionArray, BothModelsMatchOracleAndFusedStreamTiming) {
  std::mt19937 rng(41);
  const auto tile_model = make_array_model("tile");
  const auto pe_model = make_array_model("pe");
  for (int iter = 0; iter < 24; ++iter) {
    const int widths[] = {2, 4, 8};
    const int bits = widths[iter % 3];
    const int R = 1 + static_cast<int>(rng() % 6), C = 1 + static_cast<int>(rng() % 6);
    const int K = 1 + static_cast<int>(rng() % 70), M = 1 + static_cast<int>(rng() % (2 * R)), N = 1 + static_cast<int>(rng() % (2 * C));
    const std::string what = "W" + std::to_string(bits) + " R" + std::to_string(R) + " C" + std::to_string(C) + " K" + std::to_string(K) +
                             " M" + std::to_string(M) + " N" + std::to_string(N);
    const auto w = quant::quantize_weights_rtn(random_floats(rng, static_cast<std::size_t>(N) * K), N, K, {bits, -1, true});
    const auto x = quant::quantize_activations_int8(random_floats(rng, static_cast<std::size_t>(M) * K), M, K);
    StreamResult r, rp;
    auto make = [&](int m0, int n0) { return make_tile_int8(x, w, m0, n0, R, C, ArrayMode::kBitFusion); };
    const auto y = run_gemm(*tile_model, M, N, R, C, make, &r);
    quant::expect_bits_equal(y, quant::gemm_bitfusion_ref(x, w), what);
    quant::expect_bits_equal(run_gemm(*pe_model, M, N, R, C, make, &rp), y, what + " per-PE");
    EXPECT_EQ(rp.cycles, r.cycles) << what;
    EXPECT_EQ(rp.valid_cycle, r.valid_cycle) << what;
    EXPECT_EQ(rp.pe_macs, r.pe_macs) << what;
    EXPECT_EQ(rp.dequant_ops, r.dequant_ops) << what;
    EXPECT_EQ(rp.edge_ops, 0) << what;
    const int slots = (K + 8 / bits - 1) / (8 / bits);
    const ArrayShape fused{ArrayMode::kBitFusion, R, C, slots, slots};
    const std::int64_t tiles = static_cast<std::int64_t>((M + R - 1) / R) * ((N + C - 1) / C);
    EXPECT_EQ(r.cycles, stream_latency(fused, tiles)) << what;
    EXPECT_EQ(r.pe_macs, tiles * R * C * slots) << what << ": one PE operation per PE-cycle";
    EXPECT_EQ(r.edge_ops, 0) << what << ": symmetric weights, no activation sums";
  }
}

// W4A8 halves the K stream against the INT8 array of the same shape: T = g + 2R + C + 3 with g the slots.
TEST(BitFusionArray, W4A8StreamIsTheInt8StreamWithHalfTheK) {
  const int R = 4, C = 4, K = 64;
  const ArrayTile bf = make_zero_tile(ArrayMode::kBitFusion, R, C, K, K, 4);
  const ArrayTile i8 = make_zero_tile(ArrayMode::kInt8, R, C, K, K, 8);
  const auto model = make_array_model("tile");
  EXPECT_EQ(model->run_stream(std::vector<ArrayTile>{bf}).cycles, K / 2 + 2 * R + C + 3);
  EXPECT_EQ(model->run_stream(std::vector<ArrayTile>{i8}).cycles, K + 2 * R + C + 3);
}

// ANT tiles carry the decoded weights; every type the quantizer can pick, random shapes: the tile and
// per-PE models equal the ANT oracle and each other (cycles, per-output valid cycles, counts).
TEST(AntArray, BothModelsMatchOracleForEveryType) {
  std::mt19937 rng(7);
  const auto tile_model = make_array_model("tile");
  const auto pe_model = make_array_model("pe");
  for (int iter = 0; iter < 18; ++iter) {
    const quant::AntType type = quant::kAntTypes[iter % quant::kAntTypeCount];
    const int R = 1 + static_cast<int>(rng() % 5), C = 1 + static_cast<int>(rng() % 5);
    const int K = 1 + static_cast<int>(rng() % 40), M = 1 + static_cast<int>(rng() % (2 * R)), N = 1 + static_cast<int>(rng() % (2 * C));
    const std::string what = std::string(quant::ant_type_name(type)) + " R" + std::to_string(R) + " C" + std::to_string(C) + " K" +
                             std::to_string(K) + " M" + std::to_string(M) + " N" + std::to_string(N);
    quant::AntQuantConfig qc;
    qc.types = {type};
    qc.threads = 1;
    const auto aw = quant::quantize_ant(random_floats(rng, static_cast<std::size_t>(N) * K), N, K, qc);
    const quant::PreparedAntWeights prepared(aw);
    const auto x = quant::quantize_activations_int8(random_floats(rng, static_cast<std::size_t>(M) * K), M, K);
    auto make = [&](int m0, int n0) { return make_tile_int8(x, prepared.decoded(), m0, n0, R, C, ArrayMode::kAnt, 4); };
    StreamResult rt, rp;
    const auto yt = run_gemm(*tile_model, M, N, R, C, make, &rt);
    const auto yp = run_gemm(*pe_model, M, N, R, C, make, &rp);
    const auto ref = quant::gemm_ant_ref(x, aw);
    quant::expect_bits_equal(yt, ref, what + " tile");
    quant::expect_bits_equal(yp, ref, what + " pe");
    EXPECT_EQ(rt.cycles, rp.cycles) << what;
    EXPECT_EQ(rt.valid_cycle, rp.valid_cycle) << what;
    EXPECT_EQ(rt.pe_macs, rp.pe_macs) << what;
    EXPECT_EQ(rt.dequant_ops, rp.dequant_ops) << what;
    EXPECT_EQ(rt.edge_ops, 0) << what;
    EXPECT_EQ(rp.edge_ops, 0) << what;
  }
}

// 8-bit integer weights (the neural operators' DFT matrices) on ANT's 4-bit PE: two cycles per
// product, the weight's high and low 4 bits; exact int8 numerics; both models agree.
TEST(AntArray, EightBitIntegersTakeTwoCyclesPerProduct) {
  std::mt19937 rng(11);
  const int R = 3, C = 2, K = 16;
  const auto [x, w8] = int8_operands(rng, R, C, K, 8);
  const std::vector<ArrayTile> t = {make_tile_int8(x, w8, 0, 0, R, C, ArrayMode::kAnt)};
  const StreamResult r = make_array_model("tile")->run_stream(t);
  quant::expect_bits_equal(r.y[0], quant::gemm_int8_ref(x, w8), "ant int8");
  EXPECT_EQ(r.cycles, 2 * K + 2 * R + C + 3);
  const StreamResult rp = make_array_model("pe")->run_stream(t);
  quant::expect_bits_equal(rp.y[0], r.y[0], "ant int8 per-PE");
  EXPECT_EQ(rp.cycles, r.cycles);
  EXPECT_EQ(rp.valid_cycle, r.valid_cycle);
  EXPECT_EQ(rp.pe_macs, r.pe_macs);
  // All 256 codes (2 x 128 weights, a stride coprime to 256): w = 16 hi + lo with hi = floor(w / 16)
  // and lo in 0..15, negative codes included.
  auto [x2, all] = int8_operands(rng, R, 2, 128, 8);
  for (int i = 0; i < 256; ++i) all.codes[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(-128 + i * 7 % 256);
  const std::vector<ArrayTile> ta = {make_tile_int8(x2, all, 0, 0, R, 2, ArrayMode::kAnt)};
  quant::expect_bits_equal(make_array_model("pe")->run_stream(ta).y[0], quant::gemm_int8_ref(x2, all), "ant int8 every code");
}

TEST(BitFusionAntArray, RejectsBadTilesAndConfigs) {
  std::mt19937 rng(5);
  const auto x = quant::quantize_activations_int8(random_floats(rng, 2 * 8), 2, 8);
  const auto asym = quant::quantize_weights_rtn(random_floats(rng, 2 * 8), 2, 8, {4, -1, false});
  EXPECT_THROW(make_tile_int8(x, asym, 0, 0, 2, 2, ArrayMode::kBitFusion), std::invalid_argument);
  const auto w3 = quant::quantize_weights_rtn(random_floats(rng, 2 * 8), 2, 8, {3, -1, true});
  EXPECT_THROW(make_tile_int8(x, w3, 0, 0, 2, 2, ArrayMode::kBitFusion), std::invalid_argument);
  EXPECT_THROW(make_tile_int8(x, w3, 0, 0, 2, 2, ArrayMode::kMixpeInt8), std::invalid_argument);
  const ArrayTile good = make_tile_int8(x, quant::quantize_weights_rtn(random_floats(rng, 2 * 8), 2, 8, {4, -1, true}), 0, 0, 2, 2,
                                        ArrayMode::kBitFusion);
  EXPECT_NO_THROW(check_tile(good));
  ArrayTile bad = good;
  bad.q[0] = 8;  // outside signed 4-bit
  EXPECT_THROW(check_tile(bad), std::invalid_argument);
  const ArrayTile ws = to_weight_stationary(good, 2);
  EXPECT_THROW(check_tile(ws), std::invalid_argument);  // output-stationary only

  auto config_error = [](const std::string& preset, const std::string& override_kv) {
    try {
      load_config(preset, {override_kv});
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(config_error("bitfusion_32x40", "array.group_size=128").find("per-channel"), std::string::npos);
  EXPECT_NE(config_error("bitfusion_32x40", "array.weight_bits=3").find("2, 4 or 8"), std::string::npos);
  EXPECT_NE(config_error("bitfusion_32x40", "array.dataflow=ws").find("output-stationary"), std::string::npos);
  EXPECT_EQ(config_error("bitfusion_32x40", "array.weight_bits=8"), "no error");
  EXPECT_NE(config_error("ant_32x32", "array.weight_bits=8").find("4-bit"), std::string::npos);
  EXPECT_NE(config_error("ant_32x32", "array.weight_signed=false").find("symmetric"), std::string::npos);
  EXPECT_NE(config_error("ant_32x32", "array.act_type=fp16").find("int8 activations"), std::string::npos);
}

TEST(BitFusionAntArray, PresetsMapToTheirArraysAndHaveNoRtlArray) {
  const AcceleratorConfig bf = load_config("bitfusion_32x40"), ant = load_config("ant_32x32");
  EXPECT_EQ(array_mode_of(bf), ArrayMode::kBitFusion);
  EXPECT_EQ(array_mode_of(ant), ArrayMode::kAnt);
  EXPECT_EQ(bf.rows * bf.cols, 32 * 40);
  EXPECT_TRUE(verilator_parameters(bf).empty());
  EXPECT_TRUE(verilator_parameters(ant).empty());
  // A GEMM instruction's events: BitFusion W4A8 takes half the PE-cycles of ANT on the same K.
  Instruction in = gemm(ArrayMode::kBitFusion, 32, 40, 4096, -1, 0, 0, 0);
  const GemmEvents e_bf = gemm_events(in, bf);
  in.mode = ArrayMode::kAnt;
  in.n = 32;
  const GemmEvents e_ant = gemm_events(in, ant);
  EXPECT_EQ(e_bf.pe_macs, 32LL * 40 * 2048);
  EXPECT_EQ(e_ant.pe_macs, 32LL * 32 * 4096);
  EXPECT_EQ(e_bf.edge_ops + e_ant.edge_ops, 0);
}

}  // namespace
}  // namespace mixpe::sim
