// Per-PE cycle model of the output-stationary array, register by register as docs/array.md
// describes: skewed feeders, operand registers moving right/down, group accumulators with shadow
// registers, a gated downward drain chain per column, the edge units' item chain, and a 5-stage
// dequantization unit per column.
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
    StreamResult res;
    if (tiles.empty()) return res;
    check_stream(tiles);
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
          res.y[st[4].tile][at(st[4].row, c)] = st[4].v;
          res.last_valid_cycle[st[4].tile] = t;
          res.valid_cycle[st[4].tile][at(st[4].row, c)] = t;
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
        // Dequantization pipeline, oldest stage first so each reads last cycle's register.
        Stage next[5];
        if (st[3].valid && st[3].last) {  // stage 5: y = acc * sx on the tile's last group
          next[4] = st[3];
          next[4].v = st[3].v * st[3].sx;
        }
        if (st[2].valid) {  // stage 4: acc = (first group ? +0 : acc) + d; int8 passes d through
          float& acc = deq_acc[at(st[2].row, c)];
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
        if (drained.valid) {  // stage 1: Gs = P - z * A, with the edge item arriving on this cycle
          const EdgeItem& e = below[c];
          invariant(e.valid && e.tile == drained.tile && e.group == drained.group && e.row == drained.row,
                    "edge item and P must reach the dequantizer on the same cycle");
          ZeroScale& zs = held[c];
          if (zs.group != drained.group || zs.tile != drained.tile) {  // the group's first value: load z, s
            const ArrayTile& tl = tiles[drained.tile];
            zs = ZeroScale{drained.group, drained.tile, tl.w_zero[tl.cg(c, drained.group)], tl.w_scale[tl.cg(c, drained.group)]};
          }
          next[0] = drained;
          next[0].first = e.first;
          next[0].last = e.last;
          next[0].sh = e.sh;
          next[0].sx = e.sx;
          next[0].s = zs.s;
          if (!fp16) next[0].gs = drained.gs - zs.z * e.a;
        }
        for (int s = 0; s < 5; ++s) st[s] = next[s];
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
};

}  // namespace

std::unique_ptr<ArrayModel> make_pe_array_model() { return std::make_unique<PeArrayModel>(); }

}  // namespace mixpe::sim
