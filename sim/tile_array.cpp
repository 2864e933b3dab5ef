// Tile-level array model: closed-form cycles from docs/array.md (both dataflows) and direct numerics
// that follow the same dequantization contract as the per-PE model (both are checked against quant's oracles).
#include <vector>

#include "quant/pe_arith.h"
#include "sim/array.h"

namespace mixpe::sim {
namespace {

void compute_mixpe(const ArrayTile& t, std::vector<float>& y) {
  const int ng = t.groups();
  const int g = t.group_size;
  std::vector<std::int64_t> a(static_cast<std::size_t>(t.rows) * ng);
  for (int r = 0; r < t.rows; ++r)
    for (int G = 0; G < ng; ++G) {
      std::int64_t s = 0;
      for (int j = G * g; j < (G + 1) * g; ++j) s += t.x[t.xi(r, j)];
      a[t.rg(r, G)] = s;
    }
  const bool aligned = t.mode == ArrayMode::kMixpeAligned;
  for (int r = 0; r < t.rows; ++r) {
    const std::int32_t* xr = &t.x[t.xi(r, 0)];
    for (int c = 0; c < t.cols; ++c) {
      const std::int16_t* qc = &t.q[t.qi(c, 0)];
      float acc = 0.0f;
      for (int G = 0; G < ng; ++G) {
        // shift_add_product equals code * x for every in-range code; the multiply is the fast form.
        std::int64_t p = 0;
        for (int j = G * g; j < (G + 1) * g; ++j) p += static_cast<std::int64_t>(qc[j]) * xr[j];
        const std::int64_t gs = p - static_cast<std::int64_t>(t.w_zero[t.cg(c, G)]) * a[t.rg(r, G)];
        acc = acc + quant::dequantize_group(gs, t.w_scale[t.cg(c, G)], aligned ? t.x_shift[t.rg(r, G)] : 0);
      }
      y[static_cast<std::size_t>(r) * t.cols + c] = aligned ? acc * 1.0f : acc * t.x_scale[r];
    }
  }
}

void compute_int8(const ArrayTile& t, std::vector<float>& y) {
  for (int r = 0; r < t.rows; ++r)
    for (int c = 0; c < t.cols; ++c) {
      std::int64_t p = 0;
      for (int j = 0; j < t.k; ++j) p += static_cast<std::int64_t>(t.q[t.qi(c, j)]) * t.x[t.xi(r, j)];
      // docs/array.md: stage 4 passes d through for int8 (acc = d), as the oracle scales the sum directly.
      const float acc = quant::dequantize_group(p, t.w_scale[t.cg(c, 0)], 0);
      y[static_cast<std::size_t>(r) * t.cols + c] = acc * t.x_scale[r];
    }
}

void compute_fp16(const ArrayTile& t, std::vector<float>& y) {
  std::vector<float> w16(static_cast<std::size_t>(t.cols) * t.k);
  for (int c = 0; c < t.cols; ++c)
    for (int j = 0; j < t.k; ++j) {
      const int wg = j / t.weight_group;
      w16[t.qi(c, j)] = quant::dequantize_weight_fp16(t.q[t.qi(c, j)], t.w_zero[t.cg(c, wg)], t.w_scale[t.cg(c, wg)]).to_float();
    }
  std::vector<float> xf(t.x16.size());
  for (std::size_t i = 0; i < xf.size(); ++i) xf[i] = t.x16[i].to_float();
  for (int r = 0; r < t.rows; ++r)
    for (int c = 0; c < t.cols; ++c) {
      float acc = 0.0f;
      for (int j = 0; j < t.k; ++j) acc = acc + xf[t.xi(r, j)] * w16[t.qi(c, j)];
      y[static_cast<std::size_t>(r) * t.cols + c] = (0.0f + acc) * 1.0f;
    }
}

// Weight-stationary: the same numerics (the tile holds the M tokens as rows), closed-form timing
// and event counts of docs/array.md; `s.rows` is the array's R, `s.tokens` the tile's M.
void ws_timing(const ArrayShape& s, std::int64_t jobs, StreamResult& res) {
  const std::int64_t m = s.tokens;
  for (std::int64_t i = 0; i < jobs; ++i) {
    res.last_valid_cycle.push_back(output_valid_cycle(s, i, s.tokens - 1, s.cols - 1));
    std::vector<std::int64_t> v(static_cast<std::size_t>(m) * s.cols);
    for (int r = 0; r < s.tokens; ++r)
      for (int c = 0; c < s.cols; ++c) v[static_cast<std::size_t>(r) * s.cols + c] = output_valid_cycle(s, i, r, c);
    res.valid_cycle.push_back(std::move(v));
  }
  const std::int64_t weight_tiles = ws_weight_tiles(s, jobs);
  res.cycles = stream_latency(s, jobs);
  res.load_stall_cycles = load_stall_cycles(s, jobs);
  res.pe_macs = weight_tiles * m * s.rows * s.cols;
  res.dequant_ops = jobs * m * s.cols * s.groups();
  res.edge_ops = weight_tiles * m * s.rows;
}

class TileArrayModel final : public ArrayModel {
 public:
  std::string_view name() const override { return "tile"; }

  StreamResult run_stream(std::span<const ArrayTile> tiles) override {
    StreamResult res;
    if (tiles.empty()) return res;
    const ArrayShape s = shape_of(tiles[0]);
    const std::int64_t n = static_cast<std::int64_t>(tiles.size());
    check_stream(tiles);
    for (const auto& t : tiles) {
      std::vector<float> y(static_cast<std::size_t>(t.rows) * t.cols);
      switch (t.mode) {
        case ArrayMode::kMixpeInt8:
        case ArrayMode::kMixpeAligned: compute_mixpe(t, y); break;
        case ArrayMode::kInt8:
        case ArrayMode::kBitFusion:  // the fused BitBrick sum equals the products' (quant/bitfusion.h)
        case ArrayMode::kAnt: compute_int8(t, y); break;  // the tile holds the decoded weights
        case ArrayMode::kFp16: compute_fp16(t, y); break;
      }
      res.y.push_back(std::move(y));
    }
    if (s.dataflow == Dataflow::kWs) {
      ws_timing(s, n, res);
      return res;
    }
    const std::int64_t p = cycles_per_group(s);
    const std::int64_t fill = stream_latency(s, 1) - p * s.groups();  // cycles after the last group starts
    for (std::int64_t i = 0; i < n; ++i) {
      res.last_valid_cycle.push_back((i + 1) * s.groups() * p + fill - 1);
      std::vector<std::int64_t> v(static_cast<std::size_t>(s.rows) * s.cols);
      for (int r = 0; r < s.rows; ++r)
        for (int c = 0; c < s.cols; ++c) v[static_cast<std::size_t>(r) * s.cols + c] = output_valid_cycle(s, i, r, c);
      res.valid_cycle.push_back(std::move(v));
    }
    res.cycles = stream_latency(s, n);
    res.drain_stall_cycles = drain_stall_cycles(s, n);
    res.pe_macs = n * s.rows * s.cols * static_cast<std::int64_t>(s.k);
    res.dequant_ops = n * s.rows * s.cols * static_cast<std::int64_t>(s.groups());
    res.edge_ops = has_edge_unit(s.mode) ? n * s.rows * static_cast<std::int64_t>(s.k) : 0;
    return res;
  }
};

}  // namespace

std::unique_ptr<ArrayModel> make_tile_array_model() { return std::make_unique<TileArrayModel>(); }

}  // namespace mixpe::sim
