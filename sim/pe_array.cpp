// Per-PE cycle model of the PE array, register by register as docs/array.md describes. Output-
// stationary: skewed feeders, operand registers moving right/down, group accumulators with shadow
// registers, a gated downward drain chain per column and the edge units' item chain.
// Weight-stationary: per-PE weight registers written by the load lanes, activations moving right,
// partial sums moving down into per-column group accumulators, the left-edge A chain. Both end in
// the same 5-stage dequantization unit per column.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "quant/pe_arith.h"
#include "sim/array.h"

namespace mixpe::sim {
namespace {

// The model's schedule invariants stay checked in release builds: the tests run optimised, and a
// broken invariant here means the model no longer describes docs/array.md.
void invariant(bool ok, const char* what) {
  if (!ok) throw std::logic_error(std::string("per-PE array model invariant violated: ") + what);
}

struct ActReg {  // activation plus the control markers that travel right with it
  bool valid = false, first = false, last = false;
  std::int32_t x = 0;
  float xf = 0.0f;
  int tile = 0, group = 0;
};

struct WgtReg {  // weight code (or its fp16 dequantization at the top edge) travelling down
  bool valid = false;  // a model-side check only: in hardware the markers travel with the activations
  std::int32_t q = 0;
  float wf = 0.0f;
};

struct Shadow {
  bool valid = false;
  std::int64_t p = 0;
  float pf = 0.0f;
  int tile = 0, group = 0, row = 0;
};

// An edge unit's per-(row, group) item: it drains down its own chain beside column 0 and then
// moves right below the array, meeting each column's P at that column's dequantizer.
struct EdgeItem {
  bool valid = false;
  int tile = 0, group = 0, row = 0;
  bool first = false, last = false;  // first / last group of the tile
  std::int64_t a = 0;                // A = sum x over the group
  int sh = 0;                        // block-floating-point shift (aligned mode)
  float sx = 1.0f;                   // per-token scale (INT8 modes)
};

struct Stage {  // one dequantization pipeline register
  bool valid = false;
  int tile = 0, group = 0, row = 0;
  std::int64_t gs = 0;  // stage 1/2: integer group sum
  float v = 0.0f;       // stage 3: d; stage 4: acc; stage 5: y
  bool first = false, last = false;
  int sh = 0;
  float sx = 1.0f;
  quant::Half s = quant::Half::from_bits(0);  // the column's scale for this group, captured at stage 1
};

struct ZeroScale {  // a column's z and s, held from the group's first drained value
  int group = -1, tile = -1;
  std::int64_t z = 0;
  quant::Half s = quant::Half::from_bits(0);
};

// Weight-stationary registers. `tile` is the stream's weight tile (job * K/R + k-tile).
struct WsAct {  // a token's activation moving right (and down the left-edge A chain as its sum)
  bool valid = false;
  std::int64_t x = 0;  // the activation; in the A chain, the running sum over rows 0..r
  std::int64_t tile = 0;
  int m = 0;
};

struct WsPsum {  // a partial sum moving down
  bool valid = false;
  std::int64_t p = 0;
  std::int64_t tile = 0;
  int m = 0;
};

struct WsWeight {  // a PE's stationary weight register
  std::int32_t q = 0;
  std::int64_t tile = -1;  // model-side checks only: the weight tile held and how many tokens used it
  int uses = 0;
};

struct WsScale {  // a column's z and s for one weight tile, moving down beside the column
  bool valid = false;
  int job = 0, group = 0;
  std::int64_t z = 0;
  quant::Half s = quant::Half::from_bits(0);
};

// Stage 1 of a column's dequantization unit: Gs = P - z * A, with the edge item's markers.
// `drained` carries P (fp16: the FP32 accumulator, which bypasses stages 1-3).
Stage stage_one(const Stage& drained, const EdgeItem& e, const ZeroScale& zs, bool fp16) {
  Stage s = drained;
  s.first = e.first;
  s.last = e.last;
  s.sh = e.sh;
  s.sx = e.sx;
  s.s = zs.s;
  if (!fp16) s.gs = drained.gs - zs.z * e.a;
  return s;
}

// Advances stages 2-5 of one column's dequantization unit by a cycle, oldest stage first so each
// reads last cycle's register; `entering` is stage 1's register for the next cycle. acc_of(row)
// is the stage-4 accumulator of an array row (OS) or a token (WS). The caller has consumed st[4].
template <typename AccOf>
void dequant_advance(Stage* st, const Stage& entering, bool int8_pass, bool fp16, AccOf&& acc_of) {
  Stage next[5];
  if (st[3].valid && st[3].last) {  // stage 5: y = acc * sx on the tile's last group
    next[4] = st[3];
    next[4].v = st[3].v * st[3].sx;
  }
  if (st[2].valid) {  // stage 4: acc = (first group ? +0 : acc) + d; int8 passes d through
    float& acc = acc_of(st[2].row);
    acc = int8_pass ? st[2].v : (st[2].first ? 0.0f : acc) + st[2].v;
    next[3] = st[2];
    next[3].v = acc;
  }
  if (st[1].valid) {  // stage 3: d = fp32(Gs) * fp32(s) * 2^sh, one rounding (fp16: bypass)
    next[2] = st[1];
    if (!fp16) next[2].v = quant::dequantize_group(st[1].gs, st[1].s, st[1].sh);
  }
  // Stage 2 (int -> fp32) is folded into dequantize_group at stage 3, the one definition of it.
  if (st[0].valid) next[1] = st[0];
  next[0] = entering;
  for (int s = 0; s < 5; ++s) st[s] = next[s];
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
  // The value leaving the bottom this cycle (invalid if none); shifts at the end of the cycle.
  Item step_cycle() {
    const int R = static_cast<int>(reg.size());
    if (!active && reg[R - 1].valid) {  // starts once row R-1 has finished
      active = true;
      step = 0;
    }
    if (!active) return Item{};
    const int i = step;
    const Item out = reg[R - 1];
    invariant(out.valid && out.row == R - 1 - i, "drain order: bottom row first, one row per cycle");
    // Registers below the drain front move down, the front register empties; registers above it
    // may already hold the next group and must stay.
    for (int r = R - 1; r > i; --r) reg[r] = reg[r - 1];
    reg[i] = Item{};
    if (++step == R) active = false;
    return out;
  }
  void load(int r, const Item& item) {
    invariant(!reg[r].valid, "shadow register overwritten before it drained (S(G+1) - S(G) < R)");
    reg[r] = item;
  }
};

class PeArrayModel final : public ArrayModel {
 public:
  std::string_view name() const override { return "pe"; }

  StreamResult run_stream(std::span<const ArrayTile> tiles) override {
    if (tiles.empty()) return StreamResult{};
    check_stream(tiles);
    return tiles[0].dataflow == Dataflow::kWs ? run_ws(tiles) : run_os(tiles);
  }

 private:
  static StreamResult run_os(std::span<const ArrayTile> tiles) {
    StreamResult res;
    const ArrayTile& t0 = tiles[0];
    const ArrayShape shape = shape_of(t0);
    const int R = t0.rows, C = t0.cols, g = t0.group_size, ng = t0.groups();
    const int n = static_cast<int>(tiles.size());
    const bool fp16 = t0.mode == ArrayMode::kFp16;
    const bool aligned = t0.mode == ArrayMode::kMixpeAligned;
    const bool scaled = t0.mode == ArrayMode::kMixpeInt8 || t0.mode == ArrayMode::kInt8;
    const bool int8_pass = t0.mode == ArrayMode::kInt8;  // stage 4 passes d through (acc = d)

    const std::size_t rc = static_cast<std::size_t>(R) * C;
    std::vector<ActReg> a_reg(rc);
    std::vector<WgtReg> w_reg(rc);
    std::vector<std::int64_t> acc_p(rc, 0);
    std::vector<float> acc_f(rc, 0.0f);
    std::vector<DrainChain<Shadow>> chains(C, DrainChain<Shadow>{std::vector<Shadow>(R)});
    DrainChain<EdgeItem> edge_chain{std::vector<EdgeItem>(R)};
    std::vector<EdgeItem> below(C);  // edge items moving right below the array, one column per cycle
    std::vector<ZeroScale> held(C);
    std::vector<Stage> stages(static_cast<std::size_t>(C) * 5);
    std::vector<float> deq_acc(rc, 0.0f);  // stage-4 accumulators [c][r]
    std::vector<std::int64_t> edge_run(R, 0);
    std::vector<EdgeItem> edge_loads;  // edge items completing this cycle (loaded at its end)
    std::vector<ActReg> left(R);
    std::vector<WgtReg> top(C);

    res.y.assign(n, std::vector<float>(rc, 0.0f));
    res.last_valid_cycle.assign(n, -1);
    res.valid_cycle.assign(n, std::vector<std::int64_t>(rc, -1));
    std::int64_t remaining = static_cast<std::int64_t>(n) * R * C;
    const std::int64_t bound = stream_latency(shape, n) * 4 + 64;
    auto at = [C](int r, int c) { return static_cast<std::size_t>(r) * C + c; };

    std::int64_t t = 0;
    for (; remaining > 0; ++t) {
      invariant(t < bound, "the stream did not finish within 4x its closed-form latency");
      // Feeders: what enters row r's left edge and column c's top edge this cycle.
      edge_loads.clear();
      for (int r = 0; r < R; ++r) {
        ActReg& in = left[r];
        in = ActReg{};
        const FeedSlot f = feed_slot(shape, n, t, r);
        if (!f.valid) {
          // An idle slot inserted so the drain keeps up; those after the stream's last group delay nothing.
          if (f.in_stream && r == 0 && !(f.tile == n - 1 && f.group == ng - 1)) ++res.drain_stall_cycles;
          continue;
        }
        const ArrayTile& tl = tiles[f.tile];
        const int k = f.k, G = f.group, j = f.j, tile = f.tile;
        in.valid = true;
        in.first = j == 0;
        in.last = j == g - 1;
        in.tile = tile;
        in.group = G;
        if (fp16) {
          in.xf = tl.x16[tl.xi(r, k)].to_float();
        } else {
          in.x = tl.x[tl.xi(r, k)];
          // Edge unit: A[r][G] = sum x over the group.
          edge_run[r] = (in.first ? 0 : edge_run[r]) + in.x;
          ++res.edge_ops;
        }
        if (in.last) {  // the item is loaded on the same cycle as PE(r, 0)'s shadow register
          EdgeItem e;
          e.valid = true;
          e.tile = tile;
          e.group = G;
          e.row = r;
          e.first = G == 0;
          e.last = G == ng - 1;
          e.a = fp16 ? 0 : edge_run[r];
          e.sh = aligned ? tl.x_shift[tl.rg(r, G)] : 0;
          e.sx = scaled ? tl.x_scale[r] : 1.0f;
          edge_loads.push_back(e);
        }
      }
      for (int c = 0; c < C; ++c) {
        WgtReg& in = top[c];
        in = WgtReg{};
        const FeedSlot f = feed_slot(shape, n, t, c);
        if (!f.valid) continue;
        const ArrayTile& tl = tiles[f.tile];
        const int k = f.k;
        in.valid = true;
        in.q = tl.q[tl.qi(c, k)];
        if (fp16) {
          const int wg = k / tl.weight_group;
          in.wf = quant::dequantize_weight_fp16(in.q, tl.w_zero[tl.cg(c, wg)], tl.w_scale[tl.cg(c, wg)]).to_float();
        }
      }

      // Edge chain beside column 0, then one column to the right per cycle below the array.
      const EdgeItem edge_out = edge_chain.step_cycle();
      for (const auto& e : edge_loads) edge_chain.load(e.row, e);
      for (int c = C - 1; c > 0; --c) below[c] = below[c - 1];
      below[0] = edge_out;

      for (int c = 0; c < C; ++c) {
        Stage* st = &stages[static_cast<std::size_t>(c) * 5];
        // Stage 5's register is visible this cycle: the output is valid now.
        if (st[4].valid) {
          record_output(res, st[4], at(st[4].row, c), t);
          --remaining;
        }
        // Drain: starts when row R-1's shadow is visible; the bottom register leaves each cycle.
        Stage drained{};
        const Shadow out = chains[c].step_cycle();
        if (out.valid) {
          drained = Stage{};
          drained.valid = true;
          drained.tile = out.tile;
          drained.group = out.group;
          drained.row = out.row;
          drained.gs = out.p;
          drained.v = out.pf;
          ++res.dequant_ops;
        }
        Stage entering{};
        if (drained.valid) {  // stage 1's input, with the edge item arriving on this cycle
          const EdgeItem& e = below[c];
          invariant(e.valid && e.tile == drained.tile && e.group == drained.group && e.row == drained.row,
                    "edge item and P must reach the dequantizer on the same cycle");
          ZeroScale& zs = held[c];
          if (zs.group != drained.group || zs.tile != drained.tile) {  // the group's first value: load z, s
            const ArrayTile& tl = tiles[drained.tile];
            zs = ZeroScale{drained.group, drained.tile, tl.w_zero[tl.cg(c, drained.group)], tl.w_scale[tl.cg(c, drained.group)]};
          }
          entering = stage_one(drained, e, zs, fp16);
        }
        dequant_advance(st, entering, int8_pass, fp16, [&](int row) -> float& { return deq_acc[at(row, c)]; });
      }

      // PEs, bottom-right first so every PE reads its neighbours' registers from last cycle.
      for (int r = R - 1; r >= 0; --r) {
        for (int c = C - 1; c >= 0; --c) {
          const std::size_t i = at(r, c);
          const ActReg a = c == 0 ? left[r] : a_reg[i - 1];
          const WgtReg w = r == 0 ? top[c] : w_reg[i - C];
          invariant(a.valid == w.valid, "activation and weight skews must line up");
          if (a.valid) {
            ++res.pe_macs;
            if (fp16) {
              // 11-bit x 11-bit significands: exact in FP32; the FP32 add rounds.
              acc_f[i] = (a.first ? 0.0f : acc_f[i]) + a.xf * w.wf;
            } else {
              const std::int64_t prod = quant::shift_add_product(w.q, tiles[a.tile].weight_bits, tiles[a.tile].symmetric, a.x);
              acc_p[i] = (a.first ? 0 : acc_p[i]) + prod;
            }
            if (a.last) chains[c].load(r, Shadow{true, acc_p[i], acc_f[i], a.tile, a.group, r});
          }
          a_reg[i] = a;
          w_reg[i] = w;
        }
      }
    }
    res.cycles = t;
    return res;
  }

  static StreamResult run_ws(std::span<const ArrayTile> tiles);
};

// The weight-stationary array (docs/array.md "Weight-stationary dataflow"). Cycle t's feeder slots
// come from ws_token_slot / ws_load_slot / ws_scale_slot; row r sees a token r cycles later and
// column c sees loads and scales c cycles later (a skew buffer, modelled as a short history).
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

  // Feeder history: the skew buffers' contents, indexed by cycle mod depth.
  const int depth = std::max(R, C) + 1;
  std::vector<WsTokenSlot> token_hist(depth);
  std::vector<WsLoadSlot> load_hist(static_cast<std::size_t>(depth) * lanes);
  std::vector<WsScaleSlot> scale_hist(depth);
  auto slot = [depth](std::int64_t t, int delay) { return static_cast<std::size_t>((t - delay) % depth); };

  std::vector<WsAct> left(R);        // what enters row r's left edge this cycle
  std::vector<WsAct> a_chain(R);     // the left-edge adder chain: A over rows 0..r of a token
  std::vector<WsAct> a_reg(rc);      // activation registers
  std::vector<WsPsum> p_reg(rc);     // partial-sum registers
  std::vector<WsWeight> w_reg(rc);   // stationary weights
  std::vector<std::int64_t> p_acc(static_cast<std::size_t>(C) * R, 0), p_acc_tile(static_cast<std::size_t>(C) * R, -1);
  std::vector<std::int64_t> a_acc(R, 0), a_acc_tile(R, -1);
  std::vector<std::int64_t> bottom_next(C, 0);  // model-side: the next (tile * M + m) each column's bottom expects
  std::vector<EdgeItem> below(C);    // items moving right along the bottom, one column per cycle
  std::vector<WsScale> zs_chain(rc); // z and s moving down beside each column
  std::vector<ZeroScale> held(C);    // the column's z and s at the bottom, for its dequantizer
  std::vector<Stage> stages(static_cast<std::size_t>(C) * 5);
  std::vector<float> deq_acc(rc, 0.0f);  // stage-4 accumulators [m][c]

  res.y.assign(jobs, std::vector<float>(static_cast<std::size_t>(M) * C, 0.0f));
  res.last_valid_cycle.assign(jobs, -1);
  res.valid_cycle.assign(jobs, std::vector<std::int64_t>(static_cast<std::size_t>(M) * C, -1));
  std::int64_t remaining = static_cast<std::int64_t>(jobs) * M * C;
  const std::int64_t bound = stream_latency(shape, jobs) * 4 + 64;

  std::int64_t t = 0;
  for (; remaining > 0; ++t) {
    invariant(t < bound, "the stream did not finish within 4x its closed-form latency");
    // Feeder, unskewed.
    const std::size_t now = slot(t, 0);
    token_hist[now] = ws_token_slot(shape, jobs, t);
    for (int i = 0; i < lanes; ++i) load_hist[now * lanes + i] = ws_load_slot(shape, jobs, t, i);
    scale_hist[now] = ws_scale_slot(shape, jobs, t);
    if (!token_hist[now].valid && t >= 1 && t < last_token_slot) ++res.load_stall_cycles;

    // Row skew: row r's left edge sees the token the feeder sent r cycles ago.
    for (int r = 0; r < R; ++r) {
      WsAct& in = left[r];
      in = WsAct{};
      if (t < r) continue;
      const WsTokenSlot& f = token_hist[slot(t, r)];
      if (!f.valid) continue;
      const ArrayTile& tl = tiles[f.job];
      in.valid = true;
      in.x = tl.x[tl.xi(f.m, f.ktile * R + r)];
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
    for (int c = C - 1; c > 0; --c) below[c] = below[c - 1];
    below[0] = item;

    for (int c = 0; c < C; ++c) {
      Stage* st = &stages[static_cast<std::size_t>(c) * 5];
      if (st[4].valid) {  // stage 5's register is visible this cycle
        record_output(res, st[4], at(st[4].row, c), t);
        --remaining;
      }
      // Column c's bottom: the group accumulator takes PE(R-1, c)'s partial sum.
      Stage entering{};
      if (const WsPsum& in = p_reg[at(R - 1, c)]; in.valid) {
        invariant(in.tile * M + in.m == bottom_next[c], "a column's bottom takes one partial sum per cycle, tiles and tokens in order");
        ++bottom_next[c];
        const std::size_t pi = static_cast<std::size_t>(c) * R + in.m;
        const bool first = first_of_group(in.tile);
        invariant(first || p_acc_tile[pi] == in.tile - 1, "the P group accumulator holds the previous tile of the group");
        const std::int64_t p = (first ? 0 : p_acc[pi]) + in.p;
        if (last_of_group(in.tile)) {  // the group's integer sum enters the dequantization unit
          Stage drained{};
          drained.valid = true;
          drained.tile = job_of(in.tile);
          drained.group = group_of(in.tile);
          drained.row = in.m;
          drained.gs = p;
          ++res.dequant_ops;
          const EdgeItem& e = below[c];
          invariant(e.valid && e.tile == drained.tile && e.group == drained.group && e.row == drained.row,
                    "the A item and P must reach the dequantizer on the same cycle");
          const ZeroScale& zs = held[c];
          invariant(zs.tile == drained.tile && zs.group == drained.group, "the column's z and s must be the group's when its P arrives");
          entering = stage_one(drained, e, zs, false);
        } else {
          p_acc[pi] = p;
          p_acc_tile[pi] = in.tile;
        }
      }
      dequant_advance(st, entering, int8_pass, false, [&](int m) -> float& { return deq_acc[at(m, c)]; });

      // z and s: presented at column c's top c cycles after the feeder, moving down one row per
      // cycle; the bottom register is captured into the dequantizer's hold register, which keeps
      // them until the next tile's arrive (after this tile's last token reached the bottom).
      if (const WsScale& b = zs_chain[at(R - 1, c)]; b.valid) held[c] = ZeroScale{b.group, b.job, b.z, b.s};
      for (int r = R - 1; r > 0; --r) zs_chain[at(r, c)] = zs_chain[at(r - 1, c)];
      WsScale top{};
      if (t >= c) {
        if (const WsScaleSlot& f = scale_hist[slot(t, c)]; f.valid) {
          const ArrayTile& tl = tiles[f.job];
          const int G = f.ktile * R / g;
          top = WsScale{true, f.job, G, tl.w_zero[tl.cg(c, G)], tl.w_scale[tl.cg(c, G)]};
        }
      }
      zs_chain[at(0, c)] = top;
    }

    // The left-edge adder chain moves down with the token wave, bottom row first.
    for (int r = R - 1; r >= 0; --r) {
      const WsAct& in = left[r];
      WsAct out{};
      if (in.valid) {
        std::int64_t above = 0;
        if (r > 0) {
          const WsAct& u = a_chain[r - 1];
          invariant(u.valid && u.tile == in.tile && u.m == in.m, "the A chain moves down with the token wave");
          above = u.x;
        }
        out = in;
        out.x = above + in.x;
      }
      a_chain[r] = out;
    }

    // PEs, bottom-right first so every PE reads its neighbours' registers from last cycle.
    for (int r = R - 1; r >= 0; --r) {
      for (int c = C - 1; c >= 0; --c) {
        const std::size_t i = at(r, c);
        const WsAct a = c == 0 ? left[r] : a_reg[i - 1];
        WsPsum out{};
        if (a.valid) {
          WsWeight& w = w_reg[i];
          invariant(w.tile == a.tile, "a token reached a PE whose weight register does not hold its weight tile");
          invariant(++w.uses <= M, "a weight register used by more than M tokens");
          std::int64_t above = 0;
          if (r > 0) {
            const WsPsum& u = p_reg[i - C];
            invariant(u.valid && u.tile == a.tile && u.m == a.m, "partial sums must move down with the token wave");
            above = u.p;
          }
          out = WsPsum{true, above + quant::shift_add_product(w.q, bits, symmetric, a.x), a.tile, a.m};
          ++res.pe_macs;
        } else {
          invariant(r == 0 || !p_reg[i - C].valid, "a partial sum arrived at a PE without its token");
        }
        a_reg[i] = a;
        p_reg[i] = out;
      }
    }

    // Load lanes write the weight registers at the end of the cycle (after this cycle's tokens
    // used the old codes); column c sees the feeder's lane slots c cycles later.
    for (int c = 0; c < C && c <= t; ++c) {
      for (int l = 0; l < lanes; ++l) {
        const WsLoadSlot& f = load_hist[slot(t, c) * lanes + l];
        if (!f.valid) continue;
        invariant(f.row >= l * lane_rows && f.row < std::min(R, (l + 1) * lane_rows), "a lane writes only its own rows");
        WsWeight& w = w_reg[at(f.row, c)];
        invariant(w.tile == f.tile - 1, "weight tiles load in order");
        invariant(w.tile < 0 || w.uses == M, "a weight register overwritten before its tile's last token used it");
        const ArrayTile& tl = tiles[f.job];
        w = WsWeight{tl.q[tl.qi(c, f.ktile * R + f.row)], f.tile, 0};
      }
    }
  }
  for (const WsWeight& w : w_reg) invariant(w.tile == weight_tiles - 1 && w.uses == M, "every PE holds the last tile, used by all M tokens");
  res.cycles = t;
  return res;
}

}  // namespace

std::unique_ptr<ArrayModel> make_pe_array_model() { return std::make_unique<PeArrayModel>(); }

}  // namespace mixpe::sim
