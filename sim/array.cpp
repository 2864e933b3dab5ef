// Tile builders, closed-form array timing (docs/array.md) and the array-model registry.
#include "sim/array.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::sim {

std::string_view to_string(ArrayMode m) {
  switch (m) {
    case ArrayMode::kMixpeInt8: return "mixpe_int8";
    case ArrayMode::kMixpeAligned: return "mixpe_aligned";
    case ArrayMode::kInt8: return "int8";
    case ArrayMode::kFp16: return "fp16";
    case ArrayMode::kBitFusion: return "bitfusion";
    case ArrayMode::kAnt: return "ant";
  }
  return "?";
}

bool per_channel_mode(ArrayMode m) { return m != ArrayMode::kMixpeInt8 && m != ArrayMode::kMixpeAligned; }
bool int8_act_mode(ArrayMode m) { return m != ArrayMode::kMixpeAligned && m != ArrayMode::kFp16; }
bool has_edge_unit(ArrayMode m) { return m == ArrayMode::kMixpeInt8 || m == ArrayMode::kMixpeAligned || m == ArrayMode::kInt8; }

int products_per_cycle(ArrayMode m, int weight_bits) {
  if (m != ArrayMode::kBitFusion) return 1;
  if (weight_bits != 2 && weight_bits != 4 && weight_bits != 8)
    throw std::invalid_argument(fmt::format("bitfusion: {}-bit weights (the fusion unit takes 2, 4 or 8)", weight_bits));
  return 8 / weight_bits;
}

int cycles_per_product(ArrayMode m, int weight_bits) { return m == ArrayMode::kAnt && weight_bits > 4 ? 2 : 1; }

double macs_per_pe_cycle(ArrayMode m, int weight_bits) {
  return static_cast<double>(products_per_cycle(m, weight_bits)) / cycles_per_product(m, weight_bits);
}

int k_slots(ArrayMode m, int k, int weight_bits) {
  const int p = products_per_cycle(m, weight_bits);
  return (k + p - 1) / p * cycles_per_product(m, weight_bits);
}

std::string_view to_string(Dataflow d) { return d == Dataflow::kOs ? "os" : "ws"; }

// The weight-stationary array exists for the MixPE and INT8 arrays (docs/array.md); the BitFusion
// and ANT arrays are modelled output-stationary, as their papers evaluate them.
bool ws_supported(ArrayMode m) { return m == ArrayMode::kMixpeInt8 || m == ArrayMode::kMixpeAligned || m == ArrayMode::kInt8; }

namespace {

ArrayTile weights_part(ArrayMode mode, const quant::QuantizedWeights& w, int n0, int rows, int cols, int group) {
  if (w.has_mins()) {
    // The array's dequantization unit implements the zero-point form (docs/array.md), not float minimums.
    throw std::invalid_argument("array tile: weights with float group minimums (GGUF Q4_1 form) are not supported by the array");
  }
  ArrayTile t;
  t.mode = mode;
  t.rows = rows;
  t.cols = cols;
  t.k = w.k;
  t.group_size = group;
  t.weight_group = w.group_size;
  t.weight_bits = w.bits;
  t.symmetric = w.symmetric;
  const int wg = w.groups();
  t.q.assign(static_cast<std::size_t>(cols) * w.k, 0);
  t.w_scale.assign(static_cast<std::size_t>(cols) * wg, quant::Half::from_bits(0));
  t.w_zero.assign(static_cast<std::size_t>(cols) * wg, 0);
  for (int c = 0; c < cols && n0 + c < w.n; ++c) {
    for (int j = 0; j < w.k; ++j) t.q[t.qi(c, j)] = static_cast<std::int16_t>(w.code(n0 + c, j));
    for (int g = 0; g < wg; ++g) {
      t.w_scale[t.cg(c, g)] = w.scale(n0 + c, g);
      t.w_zero[t.cg(c, g)] = static_cast<std::uint8_t>(w.zero(n0 + c, g));
    }
  }
  return t;
}

void fill_int8(ArrayTile& t, const quant::Int8Activations& x, int m0) {
  if (x.k != t.k) throw std::invalid_argument(fmt::format("tile: activation K = {} differs from weight K = {}", x.k, t.k));
  t.x.assign(static_cast<std::size_t>(t.rows) * t.k, 0);
  t.x_scale.assign(t.rows, 0.0f);
  for (int r = 0; r < t.rows && m0 + r < x.m; ++r) {
    for (int j = 0; j < t.k; ++j) t.x[t.xi(r, j)] = x.code(m0 + r, j);
    t.x_scale[r] = x.scales[m0 + r];
  }
}

}  // namespace

ArrayTile make_tile_mixpe_int8(const quant::Int8Activations& x, const quant::QuantizedWeights& w, int m0, int n0, int rows, int cols) {
  ArrayTile t = weights_part(ArrayMode::kMixpeInt8, w, n0, rows, cols, w.group_size);
  fill_int8(t, x, m0);
  return t;
}

ArrayTile make_tile_int8(const quant::Int8Activations& x, const quant::QuantizedWeights& w, int m0, int n0, int rows, int cols,
                         ArrayMode mode, int stored_bits) {
  if (!int8_act_mode(mode) || !per_channel_mode(mode))
    throw std::invalid_argument(fmt::format("int8 tile: mode {} is not an INT8 per-channel mode", to_string(mode)));
  if (!w.symmetric || w.group_size != w.k || w.bits > 8)
    throw std::invalid_argument(fmt::format("{} tile: weights must be symmetric per-channel with at most 8 bits", to_string(mode)));
  if (mode == ArrayMode::kBitFusion) products_per_cycle(mode, w.bits);  // throws on a width the fusion unit lacks
  ArrayTile t = weights_part(mode, w, n0, rows, cols, w.k);
  if (stored_bits > 0) t.weight_bits = stored_bits;
  fill_int8(t, x, m0);
  return t;
}

ArrayTile make_tile_mixpe_aligned(const quant::AlignedActivations& x, const quant::QuantizedWeights& w, int m0, int n0, int rows, int cols) {
  if (x.k != w.k || x.group_size != w.group_size)
    throw std::invalid_argument(fmt::format("aligned tile: activations K = {} g = {} vs weights K = {} g = {}", x.k, x.group_size, w.k, w.group_size));
  ArrayTile t = weights_part(ArrayMode::kMixpeAligned, w, n0, rows, cols, w.group_size);
  t.x.assign(static_cast<std::size_t>(rows) * t.k, 0);
  t.x_shift.assign(static_cast<std::size_t>(rows) * t.groups(), 0);
  for (int r = 0; r < rows && m0 + r < x.m; ++r) {
    for (int j = 0; j < t.k; ++j) t.x[t.xi(r, j)] = x.mant(m0 + r, j);
    for (int g = 0; g < t.groups(); ++g) t.x_shift[t.rg(r, g)] = static_cast<std::int16_t>(x.shift(m0 + r, g));
  }
  return t;
}

ArrayTile make_tile_fp16(std::span<const quant::Half> x, int m, const quant::QuantizedWeights& w, int m0, int n0, int rows, int cols) {
  if (x.size() != static_cast<std::size_t>(m) * w.k)
    throw std::invalid_argument(fmt::format("fp16 tile: {} activations for shape [{}, {}]", x.size(), m, w.k));
  ArrayTile t = weights_part(ArrayMode::kFp16, w, n0, rows, cols, w.k);
  t.x16.assign(static_cast<std::size_t>(rows) * t.k, quant::Half::from_bits(0));
  for (int r = 0; r < rows && m0 + r < m; ++r)
    for (int j = 0; j < t.k; ++j) t.x16[t.xi(r, j)] = x[static_cast<std::size_t>(m0 + r) * w.k + j];
  return t;
}

ArrayTile make_zero_tile(ArrayMode mode, int rows, int cols, int k, int group_size, int weight_bits) {
  ArrayTile t;
  t.mode = mode;
  t.rows = rows;
  t.cols = cols;
  t.k = k;
  t.group_size = per_channel_mode(mode) ? k : group_size;
  t.weight_group = group_size;
  t.weight_bits = weight_bits;
  t.symmetric = per_channel_mode(mode) && mode != ArrayMode::kFp16;
  if (mode == ArrayMode::kFp16) t.x16.assign(static_cast<std::size_t>(rows) * k, quant::Half::from_bits(0));
  else t.x.assign(static_cast<std::size_t>(rows) * k, 0);
  if (int8_act_mode(mode)) t.x_scale.assign(rows, 0.0f);
  if (mode == ArrayMode::kMixpeAligned) t.x_shift.assign(static_cast<std::size_t>(rows) * t.groups(), 0);
  t.q.assign(static_cast<std::size_t>(cols) * k, 0);
  t.w_scale.assign(static_cast<std::size_t>(cols) * t.wgroups(), quant::Half::from_bits(0));
  t.w_zero.assign(static_cast<std::size_t>(cols) * t.wgroups(), 0);
  return t;
}

ArrayTile zero_pad_k(const ArrayTile& t, int k) {
  if (t.groups() != 1 || t.wgroups() != 1 || k < t.k)
    throw std::invalid_argument(fmt::format("zero_pad_k: only one-group tiles grow (K = {} g = {} to {})", t.k, t.group_size, k));
  ArrayTile p = t;
  p.k = k;
  p.group_size = k;
  p.weight_group = k;
  auto widen = [&](const auto& src, auto& dst, int lines) {
    dst.assign(static_cast<std::size_t>(lines) * k, {});
    for (int r = 0; r < lines; ++r)
      for (int j = 0; j < t.k; ++j) dst[static_cast<std::size_t>(r) * k + j] = src[static_cast<std::size_t>(r) * t.k + j];
  };
  if (t.mode == ArrayMode::kFp16) widen(t.x16, p.x16, t.rows);
  else widen(t.x, p.x, t.rows);
  widen(t.q, p.q, t.cols);
  return p;
}

ArrayTile to_weight_stationary(ArrayTile tile, int array_rows, int load_bits) {
  tile.dataflow = Dataflow::kWs;
  tile.array_rows = array_rows;
  tile.ws_load_bits = load_bits;
  return tile;
}

void check_tile(const ArrayTile& t) {
  auto bad = [&](const std::string& why) {
    throw std::invalid_argument(fmt::format("array tile ({} {}x{} K={} g={}): {}", to_string(t.mode), t.rows, t.cols, t.k, t.group_size, why));
  };
  if (t.rows <= 0 || t.cols <= 0 || t.k <= 0 || t.group_size <= 0 || t.weight_group <= 0) bad("non-positive dimension");
  if (t.k % t.group_size != 0 || t.k % t.weight_group != 0) bad("group size does not divide K");
  const bool baseline = per_channel_mode(t.mode);
  if (baseline && t.group_size != t.k) bad("baselines reduce over one group (g = K)");
  if (!baseline && t.weight_group != t.group_size) bad("MixPE weight group must equal the array group");
  const std::size_t rk = static_cast<std::size_t>(t.rows) * t.k;
  if (t.mode == ArrayMode::kFp16 ? t.x16.size() != rk : t.x.size() != rk) bad("activation size");
  if (int8_act_mode(t.mode) && t.x_scale.size() != static_cast<std::size_t>(t.rows)) bad("x_scale size");
  if (t.mode == ArrayMode::kMixpeAligned && t.x_shift.size() != static_cast<std::size_t>(t.rows) * t.groups()) bad("x_shift size");
  if (t.q.size() != static_cast<std::size_t>(t.cols) * t.k) bad("weight code size");
  const std::size_t cw = static_cast<std::size_t>(t.cols) * t.wgroups();
  if (t.w_scale.size() != cw || t.w_zero.size() != cw) bad("scale/zero size");
  if (t.mode == ArrayMode::kBitFusion || t.mode == ArrayMode::kAnt) {
    // Signed codes the PE's multiplier takes; ANT: its 4-bit types decoded (|v| <= 64), or 8-bit integers.
    if (!t.symmetric) bad("weights must be signed (symmetric)");
    if (t.mode == ArrayMode::kAnt ? t.weight_bits != 4 && t.weight_bits != 8 : t.weight_bits < 2 || t.weight_bits > 8)
      bad(fmt::format("{}-bit weights", t.weight_bits));
    products_per_cycle(t.mode, t.weight_bits);
    const int lo = t.mode == ArrayMode::kAnt && t.weight_bits == 4 ? -64 : -(1 << (t.weight_bits - 1));
    const int hi = t.mode == ArrayMode::kAnt && t.weight_bits == 4 ? 64 : (1 << (t.weight_bits - 1)) - 1;
    for (const auto q : t.q)
      if (q < lo || q > hi) bad(fmt::format("weight code {} outside [{}, {}] for {}-bit weights", q, lo, hi, t.weight_bits));
  }
  if (t.dataflow == Dataflow::kWs) check_ws_shape(shape_of(t));
}

void check_stream(std::span<const ArrayTile> tiles) {
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const ArrayTile& t = tiles[i];
    check_tile(t);
    const ArrayTile& f = tiles[0];
    if (t.mode != f.mode || t.rows != f.rows || t.cols != f.cols || t.k != f.k || t.group_size != f.group_size ||
        t.weight_bits != f.weight_bits || t.symmetric != f.symmetric || t.dataflow != f.dataflow || t.array_rows != f.array_rows ||
        t.ws_load_bits != f.ws_load_bits)
      throw std::invalid_argument(fmt::format("array stream: tile {} differs in mode or shape from tile 0", i));
  }
}

ArrayShape shape_of(const ArrayTile& t) {
  if (t.dataflow == Dataflow::kWs)
    return ArrayShape{t.mode, t.array_rows, t.cols, t.k, t.group_size, Dataflow::kWs, t.rows, t.weight_bits, t.ws_load_bits};
  const int slots = k_slots(t.mode, t.k, t.weight_bits);  // one group: g = K for every mode with several products
  return ArrayShape{t.mode, t.rows, t.cols, slots, slots == t.k ? t.group_size : slots, Dataflow::kOs, t.rows, t.weight_bits};
}

int ws_lanes(int weight_bits, int load_bits) { return load_bits / weight_bits; }
int ws_lane_rows(const ArrayShape& s) {
  const int b = ws_lanes(s.weight_bits, s.load_bits);
  return (s.rows + b - 1) / b;
}
std::int64_t ws_period(const ArrayShape& s) { return std::max<std::int64_t>(s.tokens, ws_lane_rows(s)); }
std::int64_t ws_weight_tiles(const ArrayShape& s, std::int64_t jobs) { return jobs * (s.k / s.rows); }

std::int64_t load_stall_cycles(const ArrayShape& s, std::int64_t jobs) {
  if (s.dataflow != Dataflow::kWs || jobs <= 0) return 0;
  return (ws_weight_tiles(s, jobs) - 1) * (ws_period(s) - s.tokens);
}

void check_ws_shape(const ArrayShape& s) {
  auto bad = [&](const std::string& why) {
    throw std::invalid_argument(fmt::format("weight-stationary {} array {}x{} (M={} K={} g={} W{}): {}", to_string(s.mode), s.rows,
                                            s.cols, s.tokens, s.k, s.group_size, s.weight_bits, why));
  };
  if (!ws_supported(s.mode)) bad(fmt::format("the {} array has no weight-stationary dataflow", to_string(s.mode)));
  if (s.rows <= 0 || s.cols <= 0 || s.k <= 0 || s.group_size <= 0) bad("non-positive dimension");
  if (s.tokens < 1 || s.tokens > s.rows) bad("tokens M must be in 1..R (the bottom accumulators hold R tokens)");
  if (s.group_size % s.rows != 0) bad("R must divide the group size (a weight tile's K-rows lie in one group)");
  if (s.weight_bits < 2 || s.weight_bits > 8) bad("weight bits must be 2..8");
  if (s.load_bits < s.weight_bits) bad(fmt::format("{} load bits per column cannot carry one code", s.load_bits));
}

WsTokenSlot ws_token_slot(const ArrayShape& s, std::int64_t jobs, std::int64_t t) {
  WsTokenSlot f;
  const std::int64_t u = t - 1, p = ws_period(s);
  if (u < 0 || u >= ws_weight_tiles(s, jobs) * p || u % p >= s.tokens) return f;
  f.valid = true;
  f.tile = u / p;
  f.job = static_cast<int>(f.tile / (s.k / s.rows));
  f.ktile = static_cast<int>(f.tile % (s.k / s.rows));
  f.m = static_cast<int>(u % p);
  return f;
}

WsLoadSlot ws_load_slot(const ArrayShape& s, std::int64_t jobs, std::int64_t t, int lane) {
  WsLoadSlot f;
  const int l = ws_lane_rows(s);
  const int first = lane * l, len = std::min(l, s.rows - first);
  const std::int64_t u = t - first, p = ws_period(s);  // row first + j of tile i loads on S_i + first + j - 1 = i p + first + j
  if (len <= 0 || u < 0 || u >= ws_weight_tiles(s, jobs) * p || u % p >= len) return f;
  f.valid = true;
  f.tile = u / p;
  f.job = static_cast<int>(f.tile / (s.k / s.rows));
  f.ktile = static_cast<int>(f.tile % (s.k / s.rows));
  f.row = first + static_cast<int>(u % p);
  return f;
}

WsScaleSlot ws_scale_slot(const ArrayShape& s, std::int64_t jobs, std::int64_t t) {
  WsScaleSlot f;
  const std::int64_t p = ws_period(s);
  if (t < 0 || t % p != 0 || t / p >= ws_weight_tiles(s, jobs)) return f;
  f.valid = true;
  f.tile = t / p;
  f.job = static_cast<int>(f.tile / (s.k / s.rows));
  f.ktile = static_cast<int>(f.tile % (s.k / s.rows));
  return f;
}

std::int64_t cycles_per_group(const ArrayShape& s) { return std::max(s.group_size, s.rows); }

namespace {
std::int64_t fill_drain(const ArrayShape& s) {
  return s.group_size + 2LL * s.rows + s.cols + 3 + (s.mode == ArrayMode::kFp16 ? 1 : 0);
}
}  // namespace

std::int64_t tile_latency(const ArrayShape& s) { return stream_latency(s, 1); }

std::int64_t stream_latency(const ArrayShape& s, std::int64_t tiles) {
  if (tiles <= 0) return 0;
  if (s.dataflow == Dataflow::kWs)  // last y valid on S_{T-1} + (M-1) + R + (C-1) + 5, counted from cycle 0
    return (ws_weight_tiles(s, tiles) - 1) * ws_period(s) + s.tokens + s.rows + s.cols + 5;
  const std::int64_t p = cycles_per_group(s);
  return tiles * s.groups() * p + fill_drain(s) - p;
}

std::int64_t stream_issue_cycles(const ArrayShape& s, std::int64_t tiles) {
  if (tiles <= 0) return 0;
  if (s.dataflow == Dataflow::kWs) return ws_weight_tiles(s, tiles) * ws_period(s);
  return tiles * s.groups() * cycles_per_group(s);
}

std::int64_t stream_release_cycles(const ArrayShape& s, std::int64_t tiles) {
  if (tiles <= 0) return 0;
  if (s.dataflow == Dataflow::kWs) return std::max(stream_issue_cycles(s, tiles), (ws_weight_tiles(s, tiles) - 1) * ws_period(s) + s.rows);
  return stream_issue_cycles(s, tiles);
}

bool same_stream_shape(const ArrayShape& a, const ArrayShape& b) {
  return a.mode == b.mode && a.dataflow == b.dataflow && a.rows == b.rows && a.cols == b.cols && a.k == b.k &&
         a.group_size == b.group_size && a.tokens == b.tokens &&
         (a.dataflow == Dataflow::kOs || (a.weight_bits == b.weight_bits && a.load_bits == b.load_bits));
}

std::int64_t output_valid_cycle(const ArrayShape& s, std::int64_t tile, int r, int c) {
  if (s.dataflow == Dataflow::kWs) {
    const std::int64_t last = ws_weight_tiles(s, tile + 1) - 1;
    return 1 + last * ws_period(s) + r + s.rows + c + 5;
  }
  const std::int64_t p = cycles_per_group(s);
  const std::int64_t start = (tile * s.groups() + s.groups() - 1) * p + (s.mode == ArrayMode::kFp16 ? 1 : 0);
  return start + s.group_size + s.rows - 1 + c + (s.rows - 1 - r) + 5;
}

FeedSlot feed_slot(const ArrayShape& s, std::int64_t tiles, std::int64_t t, int lane) {
  FeedSlot f;
  const std::int64_t p = cycles_per_group(s);
  const std::int64_t per_tile = s.groups() * p;
  const std::int64_t u = t - (s.mode == ArrayMode::kFp16 ? 1 : 0) - lane;
  if (u < 0 || u >= tiles * per_tile) return f;
  f.in_stream = true;
  f.tile = static_cast<int>(u / per_tile);
  const std::int64_t rem = u % per_tile;
  f.group = static_cast<int>(rem / p);
  f.j = static_cast<int>(rem % p);
  f.valid = f.j < s.group_size;
  f.k = f.group * s.group_size + f.j;
  return f;
}

std::int64_t drain_stall_cycles(const ArrayShape& s, std::int64_t tiles) {
  if (tiles <= 0 || s.dataflow == Dataflow::kWs) return 0;
  return (tiles * s.groups() - 1) * (cycles_per_group(s) - s.group_size);
}

namespace {
const std::array<ArrayModelEntry, 2> kArrayModels = {{
    {"pe", "per-PE cycle model: registers, skew, shadow registers, drain chain, 5-stage dequantizer", &make_pe_array_model},
    {"tile", "tile model: closed-form cycles and direct numerics", &make_tile_array_model},
}};
}  // namespace

std::span<const ArrayModelEntry> array_models() { return kArrayModels; }

std::unique_ptr<ArrayModel> make_array_model(std::string_view name) {
  std::string all;
  for (const auto& e : kArrayModels) {
    if (name == e.name) return e.make();
    all += all.empty() ? e.name : std::string(", ") + e.name;
  }
  throw std::invalid_argument(fmt::format("unknown array model '{}' (expected one of: {})", name, all));
}

}  // namespace mixpe::sim
