// The PE array (docs/array.md): output-stationary and weight-stationary dataflows, operands,
// closed-form timing, and the model interface the per-PE model, the tile model and the RTL implement.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quant/activations.h"
#include "quant/float16.h"
#include "quant/weights.h"

namespace mixpe::sim {

enum class ArrayMode {
  kMixpeInt8,     // MixPE PE, INT8 activations, per-token scale sx applied at stage 5
  kMixpeAligned,  // MixPE PE, FP16/BF16 activations pre-aligned to block floating point
  kInt8,          // W8A8 multiplier PE, one group (g = K), z = 0
  kFp16,          // dequantize-then-FP16 MAC PE, one group (g = K)
  kBitFusion,     // BitFusion fusion units (BitBricks), symmetric per-channel 2/4/8-bit weights x INT8,
                  // 8 / weight_bits products per PE per cycle, one group (g = K), no edge unit
  kAnt,           // ANT PE: 4-bit int/flint/PoT decoder in front of an integer MAC, per-channel, one
                  // group (g = K), no edge unit; tiles carry the decoded weights (mant << shift)
};
std::string_view to_string(ArrayMode m);
// Modes whose array reduces over one group (g = K, per-channel weights): every baseline.
bool per_channel_mode(ArrayMode m);
// Modes fed INT8 activation codes with a per-token scale sx.
bool int8_act_mode(ArrayMode m);
// Modes whose array has the left-edge A = sum x units (the MixPE array and the INT8 array built on it).
bool has_edge_unit(ArrayMode m);
// Weight x activation products one PE completes per cycle: BitFusion fuses its 16 BitBricks into
// 8 / weight_bits INT8 products (W2 4, W4 2, W8 1); every other PE 1.
int products_per_cycle(ArrayMode m, int weight_bits);
// PE cycles one product takes: 2 for 8-bit integer weights on ANT's 4-bit PE (our model: two 4-bit
// halves, high signed and low unsigned, one per cycle; the PE has no 8-bit port); every other case 1.
int cycles_per_product(ArrayMode m, int weight_bits);
// MACs one PE completes per cycle: products_per_cycle / cycles_per_product.
double macs_per_pe_cycle(ArrayMode m, int weight_bits);
// PE cycles (feeder slots) a K-element reduction takes: ceil(k / products_per_cycle) x cycles_per_product.
int k_slots(ArrayMode m, int k, int weight_bits);

// How the array maps a GEMM (docs/array.md): output-stationary (tokens on rows, channels on
// columns, K streamed; the prefill mapping) or weight-stationary (K on rows, channels on columns,
// weights held in the PEs while up to R tokens stream past; the decode mapping for M << R).
enum class Dataflow { kOs, kWs };
// Weight-load bits per column per cycle of the weight-stationary array (array.ws_load_bits).
inline constexpr int kWsLoadBits = 16;
std::string_view to_string(Dataflow d);
// True when the mode has a weight-stationary array (the integer-chain PEs; not fp16, whose FP32
// accumulation order is fixed along K and cannot be split into per-tile partial sums).
bool ws_supported(ArrayMode m);

// One R x C output tile over K = groups * group_size. Rows beyond the real M or columns beyond
// the real N are zero padded by the tile builders below.
// Weight-stationary: `rows` is the number of tokens M (1..array_rows) streamed past each weight
// tile, and the reduction runs in K / array_rows weight tiles of array_rows K-rows each.
struct ArrayTile {
  ArrayMode mode = ArrayMode::kMixpeInt8;
  Dataflow dataflow = Dataflow::kOs;
  int array_rows = 0;  // weight-stationary only: the array's R
  int ws_load_bits = kWsLoadBits;  // weight-stationary only: load bits per column per cycle
  int rows = 0, cols = 0, k = 0;
  int group_size = 0;    // the array's reduction group g (K for the int8 and fp16 baselines)
  int weight_group = 0;  // quantization group of w_scale/w_zero (equals group_size except fp16)
  int weight_bits = 4;
  bool symmetric = false;
  std::vector<std::int32_t> x;        // [rows][k] INT8 codes or aligned mantissas (not fp16 mode)
  std::vector<quant::Half> x16;       // [rows][k] fp16 mode only
  std::vector<float> x_scale;         // [rows] sx; int8 modes only
  std::vector<std::int16_t> x_shift;  // [rows][groups] aligned mode only
  std::vector<std::int16_t> q;        // [cols][k] weight codes
  std::vector<quant::Half> w_scale;   // [cols][wgroups]
  std::vector<std::uint8_t> w_zero;   // [cols][wgroups]

  int groups() const { return k / group_size; }
  int wgroups() const { return k / weight_group; }
  std::size_t xi(int r, int j) const { return static_cast<std::size_t>(r) * k + j; }
  std::size_t qi(int c, int j) const { return static_cast<std::size_t>(c) * k + j; }
  std::size_t rg(int r, int g) const { return static_cast<std::size_t>(r) * groups() + g; }
  std::size_t cg(int c, int g) const { return static_cast<std::size_t>(c) * wgroups() + g; }
};

struct ArrayShape;

// Tile builders from quant's formats: rows [m0, m0+rows) and columns [n0, n0+cols), zero padded.
ArrayTile make_tile_mixpe_int8(const quant::Int8Activations& x, const quant::QuantizedWeights& w, int m0, int n0, int rows, int cols);
ArrayTile make_tile_mixpe_aligned(const quant::AlignedActivations& x, const quant::QuantizedWeights& w, int m0, int n0, int rows, int cols);
// The INT8-activation, per-channel modes (int8, bitfusion, ant): symmetric per-channel weights of
// at most 8 bits. For ant, `w` holds either ANT's decoded 4-bit types
// (quant::PreparedAntWeights::decoded(), `stored_bits` 4: the width in memory and on the PE's port)
// or 8-bit integers (`stored_bits` 0 or 8, two PE-cycles per product).
ArrayTile make_tile_int8(const quant::Int8Activations& x, const quant::QuantizedWeights& w, int m0, int n0, int rows, int cols,
                         ArrayMode mode = ArrayMode::kInt8, int stored_bits = 0);
ArrayTile make_tile_fp16(std::span<const quant::Half> x, int m, const quant::QuantizedWeights& w, int m0, int n0, int rows, int cols);
// An all-zero tile of the given shape (timing-only runs; cycles do not depend on data).
ArrayTile make_zero_tile(ArrayMode mode, int rows, int cols, int k, int group_size, int weight_bits);
// A one-group tile (per-channel weights) with K zero-extended to `k`: zero activations and codes
// add nothing to its integer sum (the weight-stationary array's K padding to whole R-row tiles).
ArrayTile zero_pad_k(const ArrayTile& tile, int k);
// The same operands run weight-stationary on an array of `array_rows` rows (tile.rows = tokens).
ArrayTile to_weight_stationary(ArrayTile tile, int array_rows, int load_bits = kWsLoadBits);
// Throws std::invalid_argument if sizes or the mode's constraints do not hold.
void check_tile(const ArrayTile& t);
ArrayShape shape_of(const ArrayTile& t);
// check_tile on every tile, and all tiles of one mode and shape; throws std::invalid_argument.
void check_stream(std::span<const ArrayTile> tiles);

// Closed-form timing of docs/array.md. `rows` is always the array's R; `tokens` (M) and
// `weight_bits` matter only to the weight-stationary dataflow. `k` and `group_size` count PE cycles
// (feeder slots): the elements, except for BitFusion, whose PEs take several per cycle (k_slots).
struct ArrayShape {
  ArrayMode mode = ArrayMode::kMixpeInt8;
  int rows = 0, cols = 0, k = 0, group_size = 0;
  Dataflow dataflow = Dataflow::kOs;
  int tokens = 0, weight_bits = 4, load_bits = kWsLoadBits;
  int groups() const { return k / group_size; }
};
// The functions below dispatch on s.dataflow; the formulas are in docs/array.md.
// p = max(g, R): cycles per group including the feeder's drain-stall bubbles (output-stationary).
std::int64_t cycles_per_group(const ArrayShape& s);
// T_tile = (nG - 1) p + g + 2R + C + 3 (+1 for fp16's top-edge dequantizer stage).
std::int64_t tile_latency(const ArrayShape& s);
// n tiles streamed back to back: n nG p + (g + 2R + C + 3 - p) (+1 for fp16).
std::int64_t stream_latency(const ArrayShape& s, std::int64_t tiles);
// Cycles until the array can take the next stream of the same shape, which then continues this
// one back to back while it drains: n nG p (output-stationary) or T P (weight-stationary).
std::int64_t stream_issue_cycles(const ArrayShape& s, std::int64_t tiles);
// True when a stream of shape b can continue a stream of shape a without draining it first.
bool same_stream_shape(const ArrayShape& a, const ArrayShape& b);
// Cycles until the stream's last operand has been read from the buffers: the issue cycles, or for
// weight-stationary the last lane's last row of the last weight tile, (T - 1) P + R.
std::int64_t stream_release_cycles(const ArrayShape& s, std::int64_t tiles);
// Idle feeder cycles inserted so the drain keeps up, one run of p - g per group boundary:
// (n nG - 1)(p - g). The slots after the stream's last group delay nothing and are not counted.
std::int64_t drain_stall_cycles(const ArrayShape& s, std::int64_t tiles);
// Cycle y[r][c] of tile `tile` in a stream becomes valid: e(nG-1, c, R-1-r) + 5 with
// e(G, c, i) = S(G) + g + R - 1 + c + i and S(G) = (tile nG + G) p (+1 for fp16).
// Weight-stationary: S_t + r + R + c + 5 for t the tile's last weight tile (r = the token).
std::int64_t output_valid_cycle(const ArrayShape& s, std::int64_t tile, int r, int c);

// The feeder schedule (docs/array.md "Dataflow"): which element enters row `lane`'s left edge (or
// column `lane`'s top edge) on cycle t of a stream. Element (tile, k = G g + j) enters lane l on
// cycle (tile nG + G) p + j + l (+1 for fp16); slots with j >= g are the drain-stall bubbles.
// Shared by the per-PE model and (later) the RTL harness so both see identical stimulus.
struct FeedSlot {
  bool in_stream = false;  // inside the stream's slots at all
  bool valid = false;      // an element enters (false: before/after the stream or a bubble)
  int tile = 0, group = 0, j = 0, k = 0;
};
FeedSlot feed_slot(const ArrayShape& s, std::int64_t tiles, std::int64_t t, int lane);

// Weight-stationary timing (docs/array.md "Weight-stationary dataflow"). A stream of `jobs` tiles
// is T = jobs K / R weight tiles; weight tile t starts on cycle S_t = 1 + t P.
// b = load bits / weight bits: with 16 load bits W2 8, W3 5, W4 4, W8 2.
int ws_lanes(int weight_bits, int load_bits = kWsLoadBits);
int ws_lane_rows(const ArrayShape& s);             // L = ceil(R / b)
std::int64_t ws_period(const ArrayShape& s);       // P = max(M, L)
std::int64_t ws_weight_tiles(const ArrayShape& s, std::int64_t jobs);  // T = jobs K / R
// Idle token slots between weight tiles when loading bounds the period: (T - 1)(P - M).
std::int64_t load_stall_cycles(const ArrayShape& s, std::int64_t jobs);
// Throws std::invalid_argument unless the shape can run weight-stationary (mode, R | g, M <= R).
void check_ws_shape(const ArrayShape& s);

// The weight-stationary feeder, before the array's internal skews (column c sees everything c
// cycles later, row r sees a token r cycles later). On cycle t:
struct WsTokenSlot {  // token m of weight tile `tile` enters row 0 (t = S_tile + m)
  bool valid = false;
  int job = 0, ktile = 0, m = 0;
  std::int64_t tile = 0;
};
struct WsLoadSlot {   // load lane `lane` writes row `row` of weight tile `tile` (t = S_tile + row - 1)
  bool valid = false;
  int job = 0, ktile = 0, row = 0;
  std::int64_t tile = 0;
};
struct WsScaleSlot {  // the zero points and scales of tile's group are presented (t = S_tile - 1)
  bool valid = false;
  int job = 0, ktile = 0;
  std::int64_t tile = 0;
};
WsTokenSlot ws_token_slot(const ArrayShape& s, std::int64_t jobs, std::int64_t t);
WsLoadSlot ws_load_slot(const ArrayShape& s, std::int64_t jobs, std::int64_t t, int lane);
WsScaleSlot ws_scale_slot(const ArrayShape& s, std::int64_t jobs, std::int64_t t);

// What one stream of tiles produced.
struct StreamResult {
  std::vector<std::vector<float>> y;  // per tile, [rows][cols]
  std::int64_t cycles = 0;            // cycle 0 .. the last output's valid cycle, inclusive
  std::vector<std::int64_t> last_valid_cycle;  // per tile: cycle its last output became valid
  std::vector<std::vector<std::int64_t>> valid_cycle;  // per tile, [rows][cols]: cycle y became valid
  std::int64_t drain_stall_cycles = 0;
  std::int64_t load_stall_cycles = 0;  // weight-stationary: token slots idle while weights load
  std::int64_t pe_macs = 0;       // PE operations (one per PE per valid element)
  std::int64_t dequant_ops = 0;   // values through the dequantization units
  std::int64_t edge_ops = 0;      // edge-unit additions (A sums)
};

// The array seam: per-PE model ("pe"), tile model ("tile"), and later the Verilated RTL ("rtl").
class ArrayModel {
 public:
  virtual ~ArrayModel() = default;
  virtual std::string_view name() const = 0;
  // Runs the tiles back to back as one stream. All tiles share mode and shape.
  virtual StreamResult run_stream(std::span<const ArrayTile> tiles) = 0;
};

struct ArrayModelEntry {
  const char* name;
  const char* description;
  std::unique_ptr<ArrayModel> (*make)();
};
// The one registry table of array models.
std::span<const ArrayModelEntry> array_models();
// Throws std::invalid_argument naming the unknown model.
std::unique_ptr<ArrayModel> make_array_model(std::string_view name);

std::unique_ptr<ArrayModel> make_pe_array_model();
std::unique_ptr<ArrayModel> make_tile_array_model();

}  // namespace mixpe::sim
