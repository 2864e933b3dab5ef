// Per-PE cycle model of the PE array, register by register as docs/array.md describes. Output-
// stationary: skewed feeders, operand registers moving right/down, group accumulators with shadow
// registers, a gated downward drain chain per column and the edge units' item chain.
// Weight-stationary: per-PE weight registers written by the load lanes, activations moving right,
// partial sums moving down into per-column group accumulators, the left-edge A chain. Both end in
// the same 5-stage dequantization unit per column.
//
// Kept fast without dropping a register: PE registers are arrays of one field each, the whole grid
// moved by one shift per cycle; the markers that travel with the operands (valid, first/last,
// tile, token) are equal on every anti-diagonal, so they are held once per anti-diagonal; pure delay
// lines (the feeder skews, the edge items along the bottom, the WS z/s chain beside a column) are
// histories read at their delay; only the band of anti-diagonals that holds valid operands is
// evaluated, and an idle drain chain or empty dequantization unit is not stepped (its registers
// stay invalid either way).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "quant/pe_arith.h"
#include "sim/array.h"

namespace mixpe::sim {
namespace {

// The model's schedule invariants stay checked in release builds: the tests run optimised, and a
// broken invariant here means the model no longer describes docs/array.md.
[[noreturn, gnu::cold, gnu::noinline]] void invariant_failed(const char* what) {
  throw std::logic_error(std::string("per-PE array model invariant violated: ") + what);
}
inline void invariant(bool ok, const char* what) {
  if (!ok) [[unlikely]] invariant_failed(what);
}

// The b-bit weight code as the PE's port carries it, as a number (two's complement when signed).
// The shift-and-add sums x * 2^i over the code's set bits, the top bit negative when signed, which
// is exactly code_value * x; the PEs therefore multiply (checked for every code below).
constexpr std::int32_t code_value(int code, int bits, bool signed_code) {
  const auto field = static_cast<std::int32_t>(static_cast<unsigned>(code) & ((1u << bits) - 1u));
  return signed_code && ((field >> (bits - 1)) & 1) ? field - (1 << bits) : field;
}
// Every code value as an int in [-2^bits, 2^bits) (the port masks to its bits); one width per
// static_assert keeps each evaluation within clang's constexpr step limit.
constexpr bool shift_add_equals_code_value_product(int bits) {
  for (int s = 0; s < 2; ++s)
    for (int code = -(1 << bits); code < (1 << bits); ++code)
      for (std::int64_t x : {-32768, -129, -1, 0, 1, 77, 32767})
        if (quant::shift_add_product(code, bits, s == 1, x) != code_value(code, bits, s == 1) * x) return false;
  return true;
}
static_assert(shift_add_equals_code_value_product(1));
static_assert(shift_add_equals_code_value_product(2));
static_assert(shift_add_equals_code_value_product(3));
static_assert(shift_add_equals_code_value_product(4));
static_assert(shift_add_equals_code_value_product(5));
static_assert(shift_add_equals_code_value_product(6));
static_assert(shift_add_equals_code_value_product(7));
static_assert(shift_add_equals_code_value_product(8));

// The PEs' activation port is 16 bits (INT8 codes, or aligned mantissas with |x| <= 2^14): wider
// values are not an array input, and the PEs' 32-bit products rely on it.
void check_activation(std::int64_t x, int row, int k) {
  if (x < -32768 || x > 32767) [[unlikely]]
    throw std::invalid_argument("array tile: activation x[" + std::to_string(row) + "][" + std::to_string(k) + "] = " +
                                std::to_string(x) + " does not fit the PEs' 16-bit activation port");
}

// The last n values of a per-cycle signal, newest first: after push(v) on cycle t, [d] is the
// value pushed on cycle t - d (a default T before cycle 0). Held twice over so that data() is a
// contiguous window [0, n); push costs two stores, nothing moves.
template <typename T>
class DelayLine {
 public:
  explicit DelayLine(int n) : n_(n), buf_(2 * static_cast<std::size_t>(n)) {}
  void push(const T& v) {
    pos_ = pos_ == 0 ? n_ - 1 : pos_ - 1;
    buf_[pos_] = v;
    buf_[pos_ + n_] = v;
  }
  const T& operator[](int d) const { return buf_[pos_ + d]; }
  const T* data() const { return &buf_[pos_]; }

 private:
  int n_, pos_ = 0;
  std::vector<T> buf_;
};

// A grid's registers [r][c] moved one column right, column 0 taking in[r]. One move of the whole
// grid shifts every row (a row's last register lands on the next row's first, which then takes in).
template <typename T>
void shift_right(std::vector<T>& reg, const std::vector<T>& in, int cols) {
  std::memmove(reg.data() + 1, reg.data(), sizeof(T) * (reg.size() - 1));
  for (std::size_t r = 0; r < in.size(); ++r) reg[r * cols] = in[r];
}
// The registers moved one row down, row 0 taking in[c].
template <typename T>
void shift_down(std::vector<T>& reg, const std::vector<T>& in) {
  std::memmove(reg.data() + in.size(), reg.data(), sizeof(T) * (reg.size() - in.size()));
  std::memcpy(reg.data(), in.data(), sizeof(T) * in.size());
}

// One row of weight-stationary PEs, columns [c0, c1]: the partial sum out is in + q x where the
// diagonal's token is valid (mask all ones), else 0. Returns nonzero if a valid token met a weight
// register holding another weight tile. The rows are distinct, so nothing aliases (and it vectorizes).
std::int64_t ws_pe_row(std::int64_t* __restrict__ out, const std::int64_t* __restrict__ in, const std::int32_t* __restrict__ q,
                       const std::int32_t* __restrict__ x, const std::int64_t* __restrict__ mask, const std::int64_t* __restrict__ w_tile,
                       const std::int64_t* __restrict__ token_tile, int c0, int c1) {
  std::int64_t wrong = 0;
  for (int c = c0; c <= c1; ++c) {
    out[c] = (in[c] + static_cast<std::int64_t>(q[c] * x[c])) & mask[c];
    wrong |= (w_tile[c] ^ token_tile[c]) & mask[c];
  }
  return wrong;
}

// PEs on each anti-diagonal d = r + c of an R x C grid.
std::vector<std::int64_t> diagonal_lengths(int R, int C) {
  std::vector<std::int64_t> len(R + C - 1);
  for (int d = 0; d < R + C - 1; ++d) len[d] = std::min({d, R - 1, C - 1, R + C - 2 - d}) + 1;
  return len;
}

struct Shadow {
  bool valid = false;
  int row = 0, tile = 0, group = 0;
  std::int64_t p = 0;
  float pf = 0.0f;
};

// An edge unit's per-(row, group) item: it drains down its own chain beside column 0 and then
// moves right below the array, meeting each column's P at that column's dequantizer.
struct EdgeItem {
  bool valid = false;
  bool first = false, last = false;  // first / last group of the tile
  int tile = 0, group = 0, row = 0;
  int sh = 0;                        // block-floating-point shift (aligned mode)
  std::int64_t a = 0;                // A = sum x over the group
  float sx = 1.0f;                   // per-token scale (INT8 modes)
};

struct Stage {  // one dequantization pipeline register
  bool valid = false;
  bool first = false, last = false;
  int tile = 0, group = 0, row = 0;
  int sh = 0;
  std::int64_t gs = 0;  // stage 1/2: integer group sum
  float v = 0.0f;       // stage 3: d; stage 4: acc; stage 5: y
  float sx = 1.0f;
  quant::Half s = quant::Half::from_bits(0);  // the column's scale for this group, captured at stage 1
};

struct ZeroScale {  // a column's z and s, held from the group's first drained value
  int group = -1, tile = -1;
  std::int64_t z = 0;
  quant::Half s = quant::Half::from_bits(0);
};

// Weight-stationary left-edge register: a token's activation (and, down the A chain, its running sum).
// `tile` is the stream's weight tile (job * K/R + k-tile).
struct WsAct {
  bool valid = false;
  int m = 0;
  std::int64_t x = 0;  // the activation; in the A chain, the running sum over rows 0..r
  std::int64_t tile = 0;
};

// A weight-stationary feeder token slot with its weight tile's place in the quantization group,
// worked out once when the feeder sends it (the columns' bottoms would otherwise divide per cycle).
struct WsToken {
  WsTokenSlot slot;
  int group = 0;
  bool group_first = false, group_last = false;
};

// Stage 1 of a column's dequantization unit takes the drained P of (tile, group, row): Gs = P - z * A,
// with the edge item's markers (fp16: the FP32 accumulator pf, which bypasses stages 1-3). Written
// in place: building the register elsewhere and copying it in cost more than the rest of the unit.
void stage_one(Stage& s, int tile, int group, int row, std::int64_t p, float pf, const EdgeItem& e, const ZeroScale& zs, bool fp16) {
  s.valid = true;
  s.tile = tile;
  s.group = group;
  s.row = row;
  s.first = e.first;
  s.last = e.last;
  s.sh = e.sh;
  s.sx = e.sx;
  s.s = zs.s;
  s.gs = fp16 ? p : p - zs.z * e.a;
  s.v = pf;
}

bool dequant_busy(const Stage* st) { return st[0].valid || st[1].valid || st[2].valid || st[3].valid || st[4].valid; }

// Advances stages 2-5 of one column's dequantization unit by a cycle, oldest stage first so each
// reads last cycle's register, and empties stage 1's register for stage_one. acc_of(row) is the
// stage-4 accumulator of an array row (OS) or a token (WS). The caller has consumed st[4].
template <typename AccOf>
void dequant_advance(Stage* st, bool int8_pass, bool fp16, AccOf&& acc_of) {
  if (st[3].valid && st[3].last) {  // stage 5: y = acc * sx on the tile's last group
    st[4] = st[3];
    st[4].v = st[3].v * st[3].sx;
  } else {
    st[4].valid = false;
  }
  if (st[2].valid) {  // stage 4: acc = (first group ? +0 : acc) + d; int8 passes d through
    float& acc = acc_of(st[2].row);
    acc = int8_pass ? st[2].v : (st[2].first ? 0.0f : acc) + st[2].v;
    st[3] = st[2];
    st[3].v = acc;
  } else {
    st[3].valid = false;
  }
  if (st[1].valid) {  // stage 3: d = fp32(Gs) * fp32(s) * 2^sh, one rounding (fp16: bypass)
    st[2] = st[1];
    if (!fp16) st[2].v = quant::dequantize_group(st[1].gs, st[1].s, st[1].sh);
  } else {
    st[2].valid = false;
  }
  // Stage 2 (int -> fp32) is folded into dequantize_group at stage 3, the one definition of it.
  st[1] = st[0];
  st[0].valid = false;
}

// Stage 5's register is visible this cycle: output `i` of tile (job) st.tile is valid on cycle t.
void record_output(StreamResult& res, const Stage& st, std::size_t i, std::int64_t t) {
  res.y[st.tile][i] = st.v;
  res.last_valid_cycle[st.tile] = t;
  res.valid_cycle[st.tile][i] = t;
}

// One drain chain (a column's shadow registers, or the edge items): a gated downward shift.
template <typename Item>
struct DrainChain {
  std::vector<Item> reg;  // [row]
  bool active = false;
  int step = 0;
  int count = 0;  // valid registers: none, and the chain has nothing to do
  // Sets `out` to the value leaving the bottom this cycle and returns true, or returns false if
  // none leaves; shifts at the end of the cycle.
  bool step_cycle(Item& out) {
    const int R = static_cast<int>(reg.size());
    if (!active) {
      if (!reg[R - 1].valid) return false;
      active = true;  // starts once row R-1 has finished
      step = 0;
    }
    const int i = step;
    out = reg[R - 1];
    invariant(out.valid && out.row == R - 1 - i, "drain order: bottom row first, one row per cycle");
    // Registers below the drain front move down, the front register empties; registers above it
    // may already hold the next group and must stay.
    for (int r = R - 1; r > i; --r) reg[r] = reg[r - 1];
    reg[i].valid = false;
    --count;
    if (++step == R) active = false;
    return true;
  }
  void load(int r, const Item& item) {
    invariant(!reg[r].valid, "shadow register overwritten before it drained (S(G+1) - S(G) < R)");
    reg[r] = item;
    ++count;
  }
};

// The anti-diagonals [lo, hi] of a grid whose operand markers enter PE(0,0) from the feeder:
// diagonal d holds the slot sent d cycles ago, so the valid ones lie between the newest and the
// oldest valid slot still inside the grid (bubbles in between are masked, not skipped).
struct Band {
  std::int64_t first_valid = -1, last_valid = -1;  // feeder cycles of the first and newest valid slot
  void note(std::int64_t t, bool valid) {
    if (!valid) return;
    if (first_valid < 0) first_valid = t;
    last_valid = t;
  }
  // False when no valid slot is inside diagonals [0, diagonals).
  bool range(std::int64_t t, int diagonals, int& lo, int& hi) const {
    if (last_valid < 0 || t - last_valid >= diagonals) return false;
    lo = static_cast<int>(t - last_valid);
    hi = static_cast<int>(std::min<std::int64_t>(diagonals - 1, t - first_valid));
    return true;
  }
};

class PeArrayModel final : public ArrayModel {
 public:
  std::string_view name() const override { return "pe"; }

  StreamResult run_stream(std::span<const ArrayTile> tiles) override {
    if (tiles.empty()) return StreamResult{};
    check_stream(tiles);
    const ArrayMode mode = tiles[0].mode;
    if (mode == ArrayMode::kBitFusion || mode == ArrayMode::kAnt) return run_int8_mac(tiles);
    return tiles[0].dataflow == Dataflow::kWs ? run_ws(tiles) : run_os(tiles);
  }

 private:
  // `lanes` > 1: each feeder slot carries that many consecutive K elements to a PE, which adds
  // their products in one cycle (BitFusion's fused widths). `halves` = 2: each element takes two
  // slots, its 8-bit weight as the high signed 4 bits x 16 and then the low 4 bits (8-bit integers
  // on ANT's 4-bit PE); the two products sum to the element's.
  static StreamResult run_os(std::span<const ArrayTile> tiles, int lanes = 1, int halves = 1);
  static StreamResult run_ws(std::span<const ArrayTile> tiles);

  // The ANT and BitFusion arrays move operands, partial sums and the per-channel dequantization as
  // the INT8 array does; their PEs differ inside the multiply (ANT's decoder sits before it, and the
  // tile already holds the decoded weights; a BitFusion unit adds its slot's 8 / wbits products,
  // each BitBrick sum equal to the product; ANT takes an 8-bit integer in two 4-bit halves), and
  // they have no edge unit.
  static StreamResult run_int8_mac(std::span<const ArrayTile> tiles) {
    const ArrayTile& t0 = tiles[0];
    const int lanes = products_per_cycle(t0.mode, t0.weight_bits), halves = cycles_per_product(t0.mode, t0.weight_bits);
    std::vector<ArrayTile> as_int8(tiles.begin(), tiles.end());
    for (auto& t : as_int8) {
      t.mode = ArrayMode::kInt8;
      t.weight_bits = 8;  // ANT's decoded values (|v| <= 64) reach the multiplier as 8-bit integers
    }
    StreamResult res = run_os(as_int8, lanes, halves);
    res.edge_ops = 0;
    return res;
  }
};

StreamResult PeArrayModel::run_os(std::span<const ArrayTile> tiles, int lanes, int halves) {
  StreamResult res;
  const ArrayTile& t0 = tiles[0];
  ArrayShape shape = shape_of(t0);
  invariant((lanes == 1 && halves == 1) || (t0.groups() == 1 && (lanes == 1 || halves == 1)),
            "fused lanes and split weights run one-group (per-channel) tiles, not both at once");
  if (lanes > 1) shape.k = shape.group_size = (t0.k + lanes - 1) / lanes;  // feeder slots of `lanes` elements
  if (halves > 1) shape.k = shape.group_size = t0.k * halves;              // `halves` slots per element
  const int R = t0.rows, C = t0.cols, g = shape.group_size, ng = shape.groups();
  const int n = static_cast<int>(tiles.size());
  const bool fp16 = t0.mode == ArrayMode::kFp16;
  const bool aligned = t0.mode == ArrayMode::kMixpeAligned;
  const bool scaled = t0.mode == ArrayMode::kMixpeInt8 || t0.mode == ArrayMode::kInt8;
  const bool int8_pass = t0.mode == ArrayMode::kInt8;  // stage 4 passes d through (acc = d)
  const int bits = t0.weight_bits;
  const bool symmetric = t0.symmetric;
  const int diagonals = R + C - 1;
  const std::vector<std::int64_t> diag_len = diagonal_lengths(R, C);

  // The markers by anti-diagonal: diagonal d holds the slot lane 0 of the feeder took d cycles ago.
  // feed_slot depends on t - lane only, so that is row r's left edge at d = r (the row skew), column
  // c's top edge at d = c, and the operands PE(r, c) takes at d = r + c.
  DelayLine<FeedSlot> slots(diagonals);
  DelayLine<std::uint8_t> valid(diagonals), first(diagonals), last(diagonals);
  // The accumulator update as masks: P = (P & keep) + (q * x & add); keep clears P where a group
  // starts, add is all ones where an element is valid.
  DelayLine<std::int64_t> keep(diagonals), add(diagonals);
  Band band;

  const std::size_t rc = static_cast<std::size_t>(R) * C;
  // PE registers, [r][c]: the operands each PE took this cycle (activation moving right, weight
  // code moving down, fp16: their FP32 values) and the group partial sum P.
  std::vector<std::int32_t> x_reg(rc, 0), q_reg(rc, 0);
  // Fused lanes 1..lanes-1 (lane 0 is x_reg/q_reg): the slot's further elements, moving alike.
  std::vector<std::vector<std::int32_t>> x_lane(lanes - 1, std::vector<std::int32_t>(rc, 0)), q_lane(x_lane);
  std::vector<float> xf_reg(fp16 ? rc : 0, 0.0f), wf_reg(fp16 ? rc : 0, 0.0f);
  // A model-side valid bit travelling down with the weight codes (in hardware the markers travel
  // with the activations): checked against the anti-diagonal markers, so the skews line up.
  std::vector<std::uint8_t> q_valid(rc, 0);
  std::vector<std::int64_t> acc_p(rc, 0);
  std::vector<float> acc_f(fp16 ? rc : 0, 0.0f);
  std::vector<DrainChain<Shadow>> chains(C, DrainChain<Shadow>{std::vector<Shadow>(R)});
  DrainChain<EdgeItem> edge_chain{std::vector<EdgeItem>(R)};
  DelayLine<EdgeItem> below(C);  // edge items moving right below the array: column c sees them c cycles later
  std::vector<ZeroScale> held(C);
  std::vector<Stage> stages(static_cast<std::size_t>(C) * 5);
  std::vector<float> deq_acc(rc, 0.0f);  // stage-4 accumulators [r][c]
  std::vector<std::int64_t> edge_run(R, 0);
  std::vector<EdgeItem> edge_loads;  // edge items completing this cycle (loaded at its end)
  edge_loads.reserve(R);
  std::vector<std::int32_t> left_x(R, 0), top_q(C, 0);
  std::vector<std::vector<std::int32_t>> left_lane(lanes - 1, std::vector<std::int32_t>(R, 0)),
      top_lane(lanes - 1, std::vector<std::int32_t>(C, 0));
  std::vector<float> left_xf(R, 0.0f), top_wf(C, 0.0f);
  std::vector<std::uint8_t> top_valid(C, 0);

  res.y.assign(n, std::vector<float>(rc, 0.0f));
  res.last_valid_cycle.assign(n, -1);
  res.valid_cycle.assign(n, std::vector<std::int64_t>(rc, -1));
  std::int64_t remaining = static_cast<std::int64_t>(n) * R * C;
  const std::int64_t bound = stream_latency(shape, n) * 4 + 64;
  auto at = [C](int r, int c) { return static_cast<std::size_t>(r) * C + c; };

  std::int64_t t = 0;
  for (; remaining > 0; ++t) {
    invariant(t < bound, "the stream did not finish within 4x its closed-form latency");
    const FeedSlot f0 = feed_slot(shape, n, t, 0);
    const bool starts = f0.valid && f0.j == 0, ends = f0.valid && f0.j == g - 1;
    slots.push(f0);
    valid.push(f0.valid);
    first.push(starts);
    last.push(ends);
    keep.push(starts ? 0 : -1);
    add.push(f0.valid ? -1 : 0);
    band.note(t, f0.valid);
    // An idle slot inserted so the drain keeps up; those after the stream's last group delay nothing.
    if (!f0.valid && f0.in_stream && !(f0.tile == n - 1 && f0.group == ng - 1)) ++res.drain_stall_cycles;

    // Feeders: what enters row r's left edge and column c's top edge this cycle.
    edge_loads.clear();
    for (int r = 0; r < R; ++r) {
      const FeedSlot& f = slots[r];
      if (!f.valid) continue;  // the operand register takes whatever is on the wire; invalid, it is never used
      const ArrayTile& tl = tiles[f.tile];
      const int k = halves > 1 ? f.k / halves : f.k * lanes, G = f.group;  // the slot's (first) element
      if (fp16) {
        left_xf[r] = tl.x16[tl.xi(r, k)].to_float();
        continue;
      }
      const std::int32_t x = tl.x[tl.xi(r, k)];
      check_activation(x, r, k);
      left_x[r] = x;
      std::int64_t slot_sum = halves > 1 && f.k % halves != 0 ? 0 : x;  // an element counts once in A
      for (int l = 1; l < lanes; ++l) {  // the slot's further elements (zero past K)
        const std::int32_t xl = k + l < tl.k ? tl.x[tl.xi(r, k + l)] : 0;
        check_activation(xl, r, k + l);
        left_lane[l - 1][r] = xl;
        slot_sum += xl;
      }
      // Edge unit: A[r][G] = sum x over the group.
      edge_run[r] = (f.j == 0 ? 0 : edge_run[r]) + slot_sum;
      ++res.edge_ops;
      if (f.j == g - 1) {  // the item is loaded on the same cycle as PE(r, 0)'s shadow register
        EdgeItem e;
        e.valid = true;
        e.tile = f.tile;
        e.group = G;
        e.row = r;
        e.first = G == 0;
        e.last = G == ng - 1;
        e.a = edge_run[r];
        e.sh = aligned ? tl.x_shift[tl.rg(r, G)] : 0;
        e.sx = scaled ? tl.x_scale[r] : 1.0f;
        edge_loads.push_back(e);
      }
    }
    if (fp16) {  // no edge unit: the item only carries the markers to the dequantizer
      for (int r = 0; r < R; ++r) {
        const FeedSlot& f = slots[r];
        if (!f.valid || f.j != g - 1) continue;
        EdgeItem e;
        e.valid = true;
        e.tile = f.tile;
        e.group = f.group;
        e.row = r;
        e.first = f.group == 0;
        e.last = f.group == ng - 1;
        edge_loads.push_back(e);
      }
    }
    for (int c = 0; c < C; ++c) {
      const FeedSlot& f = slots[c];
      top_valid[c] = f.valid;
      if (!f.valid) continue;
      const ArrayTile& tl = tiles[f.tile];
      const int k = halves > 1 ? f.k / halves : f.k * lanes;
      const int code = tl.q[tl.qi(c, k)];
      top_q[c] = code_value(code, bits, symmetric);
      if (halves > 1) {  // the 8-bit value v = 16 hi + lo: hi signed (floor of v / 16), lo in 0..15
        const int v = top_q[c];
        top_q[c] = f.k % halves == 0 ? (v >> 4) * 16 : (v & 15);
      }
      for (int l = 1; l < lanes; ++l) top_lane[l - 1][c] = k + l < tl.k ? code_value(tl.q[tl.qi(c, k + l)], bits, symmetric) : 0;
      if (fp16) {
        const std::size_t wg = tl.cg(c, f.k / tl.weight_group);
        top_wf[c] = quant::dequantize_weight_fp16(code, tl.w_zero[wg], tl.w_scale[wg]).to_float();
      }
    }

    // Edge chain beside column 0, then one column to the right per cycle below the array.
    EdgeItem edge_out;
    edge_chain.step_cycle(edge_out);
    for (const auto& e : edge_loads) edge_chain.load(e.row, e);
    below.push(edge_out);

    for (int c = 0; c < C; ++c) {
      Stage* st = &stages[static_cast<std::size_t>(c) * 5];
      if (chains[c].count == 0 && !dequant_busy(st)) continue;  // nothing drains, nothing in the pipeline
      // Stage 5's register is visible this cycle: the output is valid now.
      if (st[4].valid) {
        record_output(res, st[4], at(st[4].row, c), t);
        --remaining;
      }
      dequant_advance(st, int8_pass, fp16, [&](int row) -> float& { return deq_acc[at(row, c)]; });
      // Drain: starts when row R-1's shadow is visible; the bottom register leaves each cycle into
      // stage 1, with the edge item arriving on this cycle.
      Shadow out;
      if (chains[c].step_cycle(out)) {
        ++res.dequant_ops;
        const EdgeItem& e = below[c];
        invariant(e.valid && e.tile == out.tile && e.group == out.group && e.row == out.row,
                  "edge item and P must reach the dequantizer on the same cycle");
        ZeroScale& zs = held[c];
        if (zs.group != out.group || zs.tile != out.tile) {  // the group's first value: load z, s
          const ArrayTile& tl = tiles[out.tile];
          zs = ZeroScale{out.group, out.tile, tl.w_zero[tl.cg(c, out.group)], tl.w_scale[tl.cg(c, out.group)]};
        }
        stage_one(st[0], out.tile, out.group, out.row, out.p, out.pf, e, zs, fp16);
      }
    }

    // Operand registers: activations move right one PE, weight codes down one PE (each register now
    // holds what its PE takes this cycle). Shifting the whole grid by one moves every row right; each
    // row's first register then takes its left edge.
    shift_right(x_reg, left_x, C);
    shift_down(q_reg, top_q);
    for (int l = 0; l + 1 < lanes; ++l) {
      shift_right(x_lane[l], left_lane[l], C);
      shift_down(q_lane[l], top_lane[l]);
    }
    shift_down(q_valid, top_valid);
    if (fp16) {
      shift_right(xf_reg, left_xf, C);
      shift_down(wf_reg, top_wf);
    }
    // Every cycle, every row (about 8% of the model's instructions on the 8x8 and 16x16 benches).
    for (int r = 0; r < R; ++r)
      invariant(std::memcmp(&q_valid[at(r, 0)], valid.data() + r, C) == 0, "activation and weight skews must line up");

    // PEs: row r's PE(r, c) sits on anti-diagonal r + c; only the band with valid operands changes.
    int lo = 0, hi = -1;
    if (!band.range(t, diagonals, lo, hi)) continue;
    const std::uint8_t* vd = valid.data();
    for (int d = lo; d <= hi; ++d) res.pe_macs += vd[d] * diag_len[d];
    for (int r = 0; r < R; ++r) {
      const int c0 = std::max(0, lo - r), c1 = std::min(C - 1, hi - r);
      if (c0 > c1) continue;
      const std::size_t row = at(r, 0);
      const std::uint8_t* v = vd + r;
      if (fp16) {
        // 11-bit x 11-bit significands: exact in FP32; the FP32 add rounds.
        const std::uint8_t* fs = first.data() + r;
        float* acc = &acc_f[row];
        const float* xr = &xf_reg[row];
        const float* wr = &wf_reg[row];
        for (int c = c0; c <= c1; ++c)
          if (v[c]) acc[c] = (fs[c] ? 0.0f : acc[c]) + xr[c] * wr[c];
      } else {
        const std::int64_t* km = keep.data() + r;
        const std::int64_t* am = add.data() + r;
        std::int64_t* acc = &acc_p[row];
        const std::int32_t* xr = &x_reg[row];
        const std::int32_t* qr = &q_reg[row];
        // |q| < 2^8 and |x| <= 2^15 (the ports' widths, x checked at the edge): q x fits 32 bits,
        // and 32-bit products vectorize where 64-bit ones do not (SSE2).
        if (lanes == 1) {
          for (int c = c0; c <= c1; ++c) acc[c] = (acc[c] & km[c]) + (static_cast<std::int64_t>(qr[c] * xr[c]) & am[c]);
        } else {  // fused: the slot's products summed in the PE (BitFusion; |q| < 2^7 and |x| < 2^8 there)
          for (int c = c0; c <= c1; ++c) {
            std::int64_t sum = static_cast<std::int64_t>(qr[c]) * xr[c];
            for (int l = 0; l + 1 < lanes; ++l) sum += static_cast<std::int64_t>(q_lane[l][row + c]) * x_lane[l][row + c];
            acc[c] = (acc[c] & km[c]) + (sum & am[c]);
          }
        }
      }
    }
    // A group's last element: its PEs move the completed P into their shadow registers.
    const std::uint8_t* ld = last.data();
    for (int d = lo; d <= hi; ++d) {
      if (!ld[d]) continue;
      const FeedSlot& f = slots[d];
      for (int r = std::max(0, d - (C - 1)); r <= std::min(R - 1, d); ++r) {
        const int c = d - r;
        const std::size_t i = at(r, c);
        chains[c].load(r, Shadow{true, r, f.tile, f.group, fp16 ? 0 : acc_p[i], fp16 ? acc_f[i] : 0.0f});
      }
    }
  }
  res.cycles = t;
  return res;
}

// The weight-stationary array (docs/array.md "Weight-stationary dataflow"). Cycle t's feeder slots
// come from ws_token_slot / ws_load_slot / ws_scale_slot; row r sees a token r cycles later and
// column c sees loads and scales c cycles later (skew buffers, read as histories).
StreamResult PeArrayModel::run_ws(std::span<const ArrayTile> tiles) {
  StreamResult res;
  const ArrayTile& t0 = tiles[0];
  const ArrayShape shape = shape_of(t0);
  const int R = shape.rows, C = shape.cols, M = shape.tokens, g = shape.group_size, ng = shape.groups();
  const int kt_per_job = shape.k / R, tiles_per_group = g / R;
  const int jobs = static_cast<int>(tiles.size());
  const int lanes = ws_lanes(shape.weight_bits, shape.load_bits), lane_rows = ws_lane_rows(shape);
  const std::int64_t period = ws_period(shape), weight_tiles = ws_weight_tiles(shape, jobs);
  const std::int64_t last_token_slot = 1 + (weight_tiles - 1) * period + M - 1;
  const bool aligned = t0.mode == ArrayMode::kMixpeAligned;
  const bool scaled = t0.mode == ArrayMode::kMixpeInt8 || t0.mode == ArrayMode::kInt8;
  const bool int8_pass = t0.mode == ArrayMode::kInt8;
  const int bits = t0.weight_bits;
  const bool symmetric = t0.symmetric;

  const std::size_t rc = static_cast<std::size_t>(R) * C;
  auto at = [C](int r, int c) { return static_cast<std::size_t>(r) * C + c; };
  auto ktile_of = [kt_per_job](std::int64_t tile) { return static_cast<int>(tile % kt_per_job); };
  auto job_of = [kt_per_job](std::int64_t tile) { return static_cast<int>(tile / kt_per_job); };
  // A weight tile's group, and whether it is the group's first / last tile (R divides g).
  auto group_of = [&](std::int64_t tile) { return ktile_of(tile) / tiles_per_group; };
  auto first_of_group = [&](std::int64_t tile) { return ktile_of(tile) % tiles_per_group == 0; };
  auto last_of_group = [&](std::int64_t tile) { return ktile_of(tile) % tiles_per_group == tiles_per_group - 1; };

  // Tokens by anti-diagonal: [d] is the token the feeder sent d cycles ago, which row r's left edge
  // takes at d = r, PE(r, c) at d = r + c, and whose partial sum column c's bottom takes at d = R + c.
  const int depth = R + C;
  DelayLine<WsToken> tokens(depth);
  DelayLine<std::int64_t> tadd(depth);   // all ones where a token is valid
  DelayLine<std::int64_t> ttile(depth);  // its weight tile (-1: none), for the weight register check
  std::vector<DelayLine<WsLoadSlot>> loads(lanes, DelayLine<WsLoadSlot>(C));  // column c writes [c]
  std::vector<DelayLine<std::uint8_t>> load_valid(lanes, DelayLine<std::uint8_t>(C));  // their valid bits, scanned per cycle
  // z and s: column c's top takes the feeder's slot c cycles late and the chain beside the column is
  // a pure delay of R rows, so the bottom register holds the slot from R + c cycles ago.
  DelayLine<WsScaleSlot> scales(depth);
  Band band;

  std::vector<WsAct> left(R);     // what enters row r's left edge this cycle
  std::vector<WsAct> a_chain(R);  // the left-edge adder chain: A over rows 0..r of a token
  // PE registers, [r][c]: the activation each PE took this cycle (moving right), its partial sum
  // out (moving down) and its stationary weight. The weight's tile is a model-side check: every
  // token must meet its own tile's weight, so a load before the previous tile's last token or after
  // the next tile's first shows at once.
  std::vector<std::int32_t> x_reg(rc, 0), w_q(rc, 0);
  std::vector<std::int64_t> p_reg(rc, 0), w_tile(rc, -1);
  std::vector<std::int64_t> p_acc(static_cast<std::size_t>(C) * R, 0), p_acc_tile(static_cast<std::size_t>(C) * R, -1);
  std::vector<std::int64_t> a_acc(R, 0), a_acc_tile(R, -1);
  std::vector<std::int64_t> bottom_next(C, 0);  // model-side: the next (tile * M + m) each column's bottom expects
  DelayLine<EdgeItem> below(C);                 // items moving right along the bottom, one column per cycle
  std::vector<ZeroScale> held(C);               // the column's z and s at the bottom, for its dequantizer
  std::vector<Stage> stages(static_cast<std::size_t>(C) * 5);
  std::vector<float> deq_acc(rc, 0.0f);  // stage-4 accumulators [m][c]
  std::vector<std::int32_t> left_x(R, 0);
  const std::vector<std::int64_t> zero_row(C, 0);  // row 0's partial sum in

  res.y.assign(jobs, std::vector<float>(static_cast<std::size_t>(M) * C, 0.0f));
  res.last_valid_cycle.assign(jobs, -1);
  res.valid_cycle.assign(jobs, std::vector<std::int64_t>(static_cast<std::size_t>(M) * C, -1));
  std::int64_t remaining = static_cast<std::int64_t>(jobs) * M * C;
  const std::int64_t bound = stream_latency(shape, jobs) * 4 + 64;

  std::int64_t t = 0;
  for (; remaining > 0; ++t) {
    invariant(t < bound, "the stream did not finish within 4x its closed-form latency");
    // Feeder, unskewed.
    const WsTokenSlot tok = ws_token_slot(shape, jobs, t);
    tokens.push(tok.valid ? WsToken{tok, tok.ktile / tiles_per_group, tok.ktile % tiles_per_group == 0,
                                     tok.ktile % tiles_per_group == tiles_per_group - 1}
                          : WsToken{tok});
    tadd.push(tok.valid ? -1 : 0);
    ttile.push(tok.valid ? tok.tile : -1);
    band.note(t, tok.valid);
    for (int i = 0; i < lanes; ++i) {
      const WsLoadSlot f = ws_load_slot(shape, jobs, t, i);
      loads[i].push(f);
      load_valid[i].push(f.valid);
    }
    scales.push(ws_scale_slot(shape, jobs, t));
    if (!tok.valid && t >= 1 && t < last_token_slot) ++res.load_stall_cycles;

    // Row skew: row r's left edge sees the token the feeder sent r cycles ago.
    for (int r = 0; r < R; ++r) {
      WsAct& in = left[r];
      const WsTokenSlot& f = tokens[r].slot;
      in.valid = f.valid;
      if (!f.valid) continue;
      const ArrayTile& tl = tiles[f.job];
      in.x = tl.x[tl.xi(f.m, f.ktile * R + r)];
      check_activation(in.x, f.m, f.ktile * R + r);
      in.tile = f.tile;
      in.m = f.m;
      ++res.edge_ops;  // row r's adder of the left-edge A chain
    }

    // Bottom left: the A chain's group accumulator; on the group's last tile its item starts
    // moving right along the bottom, reaching column c c cycles later with that column's P.
    EdgeItem item{};
    if (const WsAct& a = a_chain[R - 1]; a.valid) {
      const bool first = first_of_group(a.tile);
      invariant(first || a_acc_tile[a.m] == a.tile - 1, "the A group accumulator holds the previous tile of the group");
      const std::int64_t sum = (first ? 0 : a_acc[a.m]) + a.x;
      if (last_of_group(a.tile)) {
        const ArrayTile& tl = tiles[job_of(a.tile)];
        const int G = group_of(a.tile);
        item.valid = true;
        item.tile = job_of(a.tile);
        item.group = G;
        item.row = a.m;
        item.first = G == 0;
        item.last = G == ng - 1;
        item.a = sum;
        item.sh = aligned ? tl.x_shift[tl.rg(a.m, G)] : 0;
        item.sx = scaled ? tl.x_scale[a.m] : 1.0f;
      } else {
        a_acc[a.m] = sum;
        a_acc_tile[a.m] = a.tile;
      }
    }
    below.push(item);

    for (int c = 0; c < C; ++c) {
      Stage* st = &stages[static_cast<std::size_t>(c) * 5];
      if (st[4].valid) {  // stage 5's register is visible this cycle
        record_output(res, st[4], at(st[4].row, c), t);
        --remaining;
      }
      if (dequant_busy(st))
        dequant_advance(st, int8_pass, false, [&](int m) -> float& { return deq_acc[at(m, c)]; });
      // Column c's bottom: the group accumulator takes PE(R-1, c)'s partial sum from last cycle.
      if (const WsToken& tk = tokens[R + c]; tk.slot.valid) {
        const WsTokenSlot& in = tk.slot;
        invariant(in.tile * M + in.m == bottom_next[c], "a column's bottom takes one partial sum per cycle, tiles and tokens in order");
        ++bottom_next[c];
        res.pe_macs += R;  // the partial sum of the column's R PEs
        const std::size_t pi = static_cast<std::size_t>(c) * R + in.m;
        const bool first = tk.group_first;
        invariant(first || p_acc_tile[pi] == in.tile - 1, "the P group accumulator holds the previous tile of the group");
        const std::int64_t p = (first ? 0 : p_acc[pi]) + p_reg[at(R - 1, c)];
        if (tk.group_last) {  // the group's integer sum enters the dequantization unit
          const int job = in.job, group = tk.group;
          ++res.dequant_ops;
          const EdgeItem& e = below[c];
          invariant(e.valid && e.tile == job && e.group == group && e.row == in.m, "the A item and P must reach the dequantizer on the same cycle");
          const ZeroScale& zs = held[c];
          invariant(zs.tile == job && zs.group == group, "the column's z and s must be the group's when its P arrives");
          stage_one(st[0], job, group, in.m, p, 0.0f, e, zs, false);
        } else {
          p_acc[pi] = p;
          p_acc_tile[pi] = in.tile;
        }
      }

      // The z/s chain's bottom register is captured into the dequantizer's hold register, which
      // keeps it until the next tile's arrives (after this tile's last token reached the bottom).
      if (const WsScaleSlot& f = scales[R + c]; f.valid) {
        const ArrayTile& tl = tiles[f.job];
        const int G = f.ktile * R / g;
        held[c] = ZeroScale{G, f.job, tl.w_zero[tl.cg(c, G)], tl.w_scale[tl.cg(c, G)]};
      }
    }

    // The left-edge adder chain moves down with the token wave, bottom row first.
    for (int r = R - 1; r >= 0; --r) {
      const WsAct& in = left[r];
      WsAct& out = a_chain[r];
      out.valid = in.valid;
      if (!in.valid) continue;
      std::int64_t above = 0;
      if (r > 0) {
        const WsAct& u = a_chain[r - 1];
        invariant(u.valid && u.tile == in.tile && u.m == in.m, "the A chain moves down with the token wave");
        above = u.x;
      }
      out = in;
      out.x = above + in.x;
    }

    // Activations move right one PE (each register now holds what its PE takes this cycle).
    for (int r = 0; r < R; ++r) left_x[r] = static_cast<std::int32_t>(left[r].x);
    shift_right(x_reg, left_x, C);
    // PEs, bottom row first so every row reads the partial sums above it from last cycle. A PE on
    // anti-diagonal r + c is valid with that diagonal's token; partial sums move with the token
    // wave by construction, so invalid PEs inside the band just output 0.
    int lo = 0, hi = -1;
    if (band.range(t, R + C - 1, lo, hi)) {
      std::int64_t wrong_tile = 0;  // nonzero: a valid token met a weight register holding another tile
      for (int r = R - 1; r >= 0; --r) {
        const int c0 = std::max(0, lo - r), c1 = std::min(C - 1, hi - r);
        if (c0 > c1) continue;
        const std::size_t row = at(r, 0);
        const std::int64_t* above = r == 0 ? zero_row.data() : &p_reg[row - C];
        wrong_tile |= ws_pe_row(&p_reg[row], above, &w_q[row], &x_reg[row], tadd.data() + r, &w_tile[row], ttile.data() + r, c0, c1);
      }
      invariant(wrong_tile == 0, "a token reached a PE whose weight register does not hold its weight tile");
    }

    // Load lanes write the weight registers at the end of the cycle (after this cycle's tokens
    // used the old codes); column c sees the feeder's lane slots c cycles later.
    for (int l = 0; l < lanes; ++l) {
      const std::uint8_t* lv = load_valid[l].data();
      for (int c = 0; c < C; ++c) {
        if (!lv[c]) continue;
        const WsLoadSlot& f = loads[l][c];
        invariant(f.row >= l * lane_rows && f.row < std::min(R, (l + 1) * lane_rows), "a lane writes only its own rows");
        const std::size_t i = at(f.row, c);
        invariant(w_tile[i] == f.tile - 1, "weight tiles load in order");
        const ArrayTile& tl = tiles[f.job];
        w_q[i] = code_value(tl.q[tl.qi(c, f.ktile * R + f.row)], bits, symmetric);
        w_tile[i] = f.tile;
      }
    }
  }
  for (std::size_t i = 0; i < rc; ++i) invariant(w_tile[i] == weight_tiles - 1, "every PE holds the last weight tile");
  res.cycles = t;
  return res;
}

}  // namespace

std::unique_ptr<ArrayModel> make_pe_array_model() { return std::make_unique<PeArrayModel>(); }

}  // namespace mixpe::sim
