// GEMMs through a design's numerics, weight format and K chunking (runtime/engine.h).
#include "runtime/engine.h"

#include <algorithm>
#include <stdexcept>

#include <Eigen/Core>
#include <fmt/format.h>

#include "quant/ant.h"
#include "runtime/mapper.h"

namespace mixpe::runtime {
namespace {

constexpr PePath kAllPaths[] = {PePath::kFloat, PePath::kMixpeInt8, PePath::kMixpeFp16, PePath::kMixpeBf16,
                                PePath::kFp16,  PePath::kInt8,      PePath::kBitFusion, PePath::kAnt};

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::int64_t round_up(std::int64_t a, std::int64_t b) { return (a + b - 1) / b * b; }

}  // namespace

const char* to_string(PePath p) {
  switch (p) {
    case PePath::kFloat: return "float";
    case PePath::kMixpeInt8: return "mixpe-int8";
    case PePath::kMixpeFp16: return "mixpe-fp16";
    case PePath::kMixpeBf16: return "mixpe-bf16";
    case PePath::kFp16: return "fp16";
    case PePath::kInt8: return "int8";
    case PePath::kBitFusion: return "bitfusion";
    case PePath::kAnt: return "ant";
  }
  return "?";
}

PePath parse_pe_path(const std::string& name) {
  std::string known;
  for (PePath p : kAllPaths) {
    if (name == to_string(p)) return p;
    known += (known.empty() ? "" : ", ") + std::string(to_string(p));
  }
  throw std::invalid_argument(fmt::format("unknown numerics \"{}\" (known: {})", name, known));
}

PePath pe_path_of(const sim::AcceleratorConfig& hw) {
  switch (hw.pe_type) {
    case sim::PeType::kFp16: return PePath::kFp16;
    case sim::PeType::kInt8: return PePath::kInt8;
    case sim::PeType::kBitfusion: return PePath::kBitFusion;
    case sim::PeType::kAnt: return PePath::kAnt;
    case sim::PeType::kMixpe:
      return hw.act_type == sim::ActType::kInt8 ? PePath::kMixpeInt8
             : hw.act_type == sim::ActType::kFp16 ? PePath::kMixpeFp16 : PePath::kMixpeBf16;
  }
  return PePath::kFloat;
}

sim::AcceleratorConfig design_for(PePath path, const quant::WeightQuantConfig& w) {
  std::vector<std::string> ov = {fmt::format("array.weight_bits={}", w.bits), fmt::format("array.group_size={}", w.group_size),
                                 fmt::format("array.weight_signed={}", w.symmetric ? "true" : "false")};
  switch (path) {
    case PePath::kMixpeInt8: return sim::load_config("mixpe_w4a8_64x64", ov);
    case PePath::kMixpeFp16: return sim::load_config("mixpe_w4a16_32x32", ov);
    case PePath::kMixpeBf16:
      ov.push_back("array.act_type=bf16");
      return sim::load_config("mixpe_w4a16_32x32", ov);
    case PePath::kFp16: return sim::load_config("fp16_32x28", ov);
    case PePath::kInt8: return sim::load_config("int8_32x32");  // W8A8: its own symmetric per-channel weights
    case PePath::kBitFusion: return sim::load_config("bitfusion_32x40", {fmt::format("array.weight_bits={}", w.bits)});
    case PePath::kAnt:
      if (w.bits != 4) throw std::invalid_argument(fmt::format("ant: {}-bit weights (ANT's types are 4-bit)", w.bits));
      return sim::load_config("ant_32x32");  // its own 4-bit types, per channel
    case PePath::kFloat: break;
  }
  throw std::invalid_argument("the float path runs on no design");
}

quant::QuantizedWeights slice_weights(const quant::QuantizedWeights& w, int k0, int tk) {
  if (k0 == 0 && tk == w.k) return w;
  const bool per_channel = w.group_size == w.k;
  if (k0 < 0 || tk <= 0 || k0 + tk > w.k || (!per_channel && (k0 % w.group_size != 0 || tk % w.group_size != 0))) {
    throw std::invalid_argument(fmt::format("slice [{}, {}) of K = {} is not whole groups of {}", k0, k0 + tk, w.k, w.group_size));
  }
  quant::QuantizedWeights s = w;
  s.k = tk;
  s.group_size = per_channel ? tk : w.group_size;
  const int g0 = per_channel ? 0 : k0 / w.group_size, ng = s.groups(), src_ng = w.groups();
  s.codes.resize(static_cast<std::size_t>(w.n) * tk);
  s.scales.resize(static_cast<std::size_t>(w.n) * ng);
  s.zeros.resize(static_cast<std::size_t>(w.n) * ng);
  if (w.has_mins()) s.mins.resize(static_cast<std::size_t>(w.n) * ng);
  for (int r = 0; r < w.n; ++r) {
    for (int j = 0; j < tk; ++j) s.codes[static_cast<std::size_t>(r) * tk + j] = w.codes[static_cast<std::size_t>(r) * w.k + k0 + j];
    for (int g = 0; g < ng; ++g) {
      const std::size_t src = static_cast<std::size_t>(r) * src_ng + g0 + g, dst = static_cast<std::size_t>(r) * ng + g;
      s.scales[dst] = w.scales[src];
      s.zeros[dst] = w.zeros[src];
      if (w.has_mins()) s.mins[dst] = w.mins[src];
    }
  }
  return s;
}

quant::Int8Activations slice_activations(const quant::Int8Activations& x, int k0, int tk) {
  if (k0 == 0 && tk == x.k) return x;
  quant::Int8Activations s;
  s.m = x.m;
  s.k = tk;
  s.scales = x.scales;
  s.codes = slice_columns<std::int8_t>(x.codes, x.m, x.k, k0, tk);
  return s;
}

const std::vector<std::unique_ptr<GemmOperand::Chunk>>& GemmOperand::chunks(int tk, PePath path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto& list = chunks_[tk];
  if (list.empty()) {
    for (int k0 = 0; k0 < q.k; k0 += tk) {
      auto c = std::make_unique<Chunk>();
      c->k0 = k0;
      // A weight-stationary per-channel GEMM pads K to whole R-row tiles: its last chunk may run
      // past the weights, over zero activations that add nothing.
      c->q = slice_weights(q, k0, std::min(tk, q.k - k0));
      c->prepared = path == PePath::kFp16 ? quant::PreparedWeights::for_fp16(c->q) : quant::PreparedWeights::for_mixpe(c->q);
      list.push_back(std::move(c));
    }
  }
  return list;
}

GemmEngine::GemmEngine(const sim::AcceleratorConfig& hw, bool clip_search)
    : path_(pe_path_of(hw)), wq_{hw.weight_bits, hw.group_size, hw.weight_signed}, clip_search_(clip_search), hw_(hw) {}

int GemmEngine::instruction_group(int k) const {
  // As the mapper: per-channel PEs and configs, and K below one group, run one group over K.
  if (per_channel() || wq_.group_size == -1 || k < wq_.group_size) return -1;
  return wq_.group_size;
}

std::shared_ptr<GemmOperand> GemmEngine::quantize(std::span<const float> w, int n, int k, const std::string& name, int bits) const {
  if (w.size() != static_cast<std::size_t>(n) * k) {
    throw std::invalid_argument(fmt::format("{}: {} weights for shape [{}, {}]", name, w.size(), n, k));
  }
  auto op = std::make_shared<GemmOperand>();
  op->name = name;
  op->n = n;
  op->k = k;
  if (path_ == PePath::kFloat) {
    op->w.assign(w.begin(), w.end());
    return op;
  }
  const int group = instruction_group(k);
  const int kp = group == -1 ? k : static_cast<int>(round_up(k, group));
  std::vector<float> padded;
  std::span<const float> src = w;
  if (kp != k) {  // zero columns up to whole groups, as the mapper pads K
    padded.assign(static_cast<std::size_t>(n) * kp, 0.0f);
    for (int r = 0; r < n; ++r)
      for (int j = 0; j < k; ++j) padded[static_cast<std::size_t>(r) * kp + j] = w[static_cast<std::size_t>(r) * k + j];
    src = padded;
  }
  quant::WeightQuantConfig cfg = wq_;
  cfg.group_size = group;
  if (bits > 0) cfg.bits = bits;
  cfg.clip_search = clip_search_;
  if (path_ == PePath::kAnt && cfg.bits == 4) {
    // ANT's per-tensor type and per-channel clip search; the array multiplies the decoded values.
    const quant::PreparedAntWeights ant(quant::quantize_ant(src, n, kp, {}, name));
    op->q = ant.decoded();
    op->stored_bits = 4;
    return op;
  }
  op->q = quant::quantize_weights_rtn(src, n, kp, cfg, name);
  return op;
}

bool GemmEngine::per_channel() const { return path_ == PePath::kInt8 || path_ == PePath::kBitFusion || path_ == PePath::kAnt; }

std::string GemmEngine::adopt_refusal(const quant::QuantizedWeights& q) const {
  if (path_ == PePath::kFloat) return "the float path takes float weights";
  if (path_ == PePath::kAnt) return "the ant PE takes ANT's own 4-bit types (quantized by its type search), not integer codes";
  if (per_channel() && (!q.symmetric || q.group_size != q.k || q.bits > 8 || q.has_mins()))
    return fmt::format("the {} PE needs symmetric per-channel weights of at most 8 bits (got W{} g{}{})", to_string(path_), q.bits,
                       q.group_size, q.symmetric ? " sym" : " asym");
  if (path_ == PePath::kBitFusion && q.bits != 2 && q.bits != 4 && q.bits != 8)
    return fmt::format("the bitfusion PE fuses 2, 4 or 8-bit weights (got W{})", q.bits);
  return "";
}

std::shared_ptr<GemmOperand> GemmEngine::adopt(quant::QuantizedWeights q, const std::string& name) const {
  if (const std::string why = adopt_refusal(q); !why.empty()) throw std::invalid_argument(fmt::format("{}: {}", name, why));
  quant::validate_quantized_weights(q, name);
  auto op = std::make_shared<GemmOperand>();
  op->name = name;
  op->n = q.n;
  op->k = q.k;
  op->q = std::move(q);
  return op;
}

int GemmEngine::k_chunk(const GemmOperand& w, int m) const {
  const int group = w.q.group_size == w.q.k ? -1 : w.q.group_size;
  const int bits = w.bits();
  const auto key = std::make_tuple(m, w.n, w.q.k, group, bits);
  std::lock_guard<std::mutex> lock(tk_cache_->mu);
  if (const auto it = tk_cache_->tk.find(key); it != tk_cache_->tk.end()) return it->second;
  sim::AcceleratorConfig cfg = *hw_;
  cfg.group_size = group;
  const GemmMapping mp = map_gemm({m, w.n, w.q.k, 1, bits != hw_->weight_bits ? bits : 0}, cfg, w.name);
  if (mp.k != w.q.k && !(group == -1 && mp.dataflow == sim::Dataflow::kWs)) throw std::logic_error(fmt::format("{}: mapper padded K to {}, weights have {}", w.name, mp.k, w.q.k));
  tk_cache_->tk[key] = static_cast<int>(mp.tk);
  return static_cast<int>(mp.tk);
}

std::vector<float> GemmEngine::run(const GemmOperand& w, std::span<const float> x, int m) const {
  if (m <= 0 || x.size() != static_cast<std::size_t>(m) * w.k) {
    throw std::invalid_argument(fmt::format("{}: input has {} values, expected [{}, {}]", w.name, x.size(), m, w.k));
  }
  const int n = w.n;
  if (path_ == PePath::kFloat) {
    std::vector<float> y(static_cast<std::size_t>(m) * n);
    Eigen::Map<const RowMatrix> X(x.data(), m, w.k), W(w.w.data(), n, w.k);
    Eigen::Map<RowMatrix>(y.data(), m, n).noalias() = X * W.transpose();
    return y;
  }
  const int kp = w.q.k;
  std::vector<float> padded;
  if (kp != w.k) {
    padded.assign(static_cast<std::size_t>(m) * kp, 0.0f);
    for (int r = 0; r < m; ++r)
      for (int j = 0; j < w.k; ++j) padded[static_cast<std::size_t>(r) * kp + j] = x[static_cast<std::size_t>(r) * w.k + j];
    x = padded;
  }
  const int tk = k_chunk(w, m);
  GemmCall call;
  call.name = w.name;
  call.m = m;
  call.group = w.q.group_size == w.q.k ? -1 : w.q.group_size;
  call.tk = tk;
  // Activation quantization is a step of its own, over the whole (padded) row; FP activations are
  // rounded to FP16/BF16 here and aligned per (token, group) at the array edge, inside each chunk.
  switch (path_) {
    case PePath::kMixpeInt8:
    case PePath::kInt8:
    case PePath::kBitFusion:
    case PePath::kAnt: call.x8 = quant::quantize_activations_int8(x, m, kp); break;
    case PePath::kMixpeFp16:
    case PePath::kFp16: call.x16 = quant::to_half(x); break;
    case PePath::kMixpeBf16: call.xbf = quant::to_bfloat16(x); break;
    case PePath::kFloat: break;
  }
  std::vector<float> y;
  for (const auto& c : w.chunks(tk, path_)) {
    std::vector<float> yc;
    const int ag = c->q.group_size;  // the edge aligns per instruction group (the chunk for per-channel)
    const int ck = c->q.k;
    switch (path_) {
      case PePath::kMixpeInt8: yc = quant::gemm_mixpe_int8(slice_activations(*call.x8, c->k0, ck), c->prepared); break;
      // BitFusion's fused BitBrick sum is the product (quant::gemm_bitfusion); ANT multiplies the
      // decoded values (quant::gemm_ant): both are this kernel on their weights.
      case PePath::kInt8:
      case PePath::kBitFusion:
      case PePath::kAnt: yc = quant::gemm_int8(slice_activations(*call.x8, c->k0, ck), c->prepared); break;
      case PePath::kMixpeFp16:
        yc = quant::gemm_mixpe_aligned(
            quant::align_activations_fp16(slice_columns<quant::Half>(call.x16, m, kp, c->k0, ck), m, ck, ag), c->prepared);
        break;
      case PePath::kMixpeBf16:
        yc = quant::gemm_mixpe_aligned(
            quant::align_activations_bf16(slice_columns<quant::BFloat16>(call.xbf, m, kp, c->k0, ck), m, ck, ag), c->prepared);
        break;
      case PePath::kFp16: yc = quant::gemm_fp16(slice_columns<quant::Half>(call.x16, m, kp, c->k0, ck), m, c->prepared); break;
      case PePath::kFloat: break;
    }
    // K chunks accumulate into the FP32 partial sums in OBUF, in chunk order.
    if (y.empty()) {
      y = std::move(yc);
    } else {
      for (std::size_t i = 0; i < y.size(); ++i) y[i] += yc[i];
    }
  }
  if (observer_) {
    call.w = w.q;
    call.stored_bits = w.stored_bits;
    call.y = y;
    observer_(call);
  }
  return y;
}

}  // namespace mixpe::runtime
