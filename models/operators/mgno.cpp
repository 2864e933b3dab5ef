// MgNO: config parsing, weights, the direct-convolution reference forward, the im2col/sub-pixel
// GEMM forward and its workload.
#include "models/operators/mgno.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "models/io/safetensors.h"
#include "models/operators/config_reader.h"

namespace mixpe::models {
namespace conv {

std::vector<float> im2col3x3(const std::vector<float>& x, int batch, int h, int w, int c_in, int stride) {
  assert(x.size() == static_cast<std::size_t>(batch) * h * w * c_in);
  const int ho = strided_size(h, stride), wo = strided_size(w, stride);
  const std::size_t k = 9 * static_cast<std::size_t>(c_in);
  std::vector<float> cols(static_cast<std::size_t>(batch) * ho * wo * k, 0.0f);
  for (int b = 0; b < batch; ++b)
    for (int oy = 0; oy < ho; ++oy)
      for (int ox = 0; ox < wo; ++ox) {
        float* row = &cols[((static_cast<std::size_t>(b) * ho + oy) * wo + ox) * k];
        for (int ky = 0; ky < 3; ++ky) {
          const int iy = oy * stride - 1 + ky;
          if (iy < 0 || iy >= h) continue;
          for (int kx = 0; kx < 3; ++kx) {
            const int ix = ox * stride - 1 + kx;
            if (ix < 0 || ix >= w) continue;
            const float* src = &x[((static_cast<std::size_t>(b) * h + iy) * w + ix) * c_in];
            std::copy(src, src + c_in, row + (ky * 3 + kx) * c_in);
          }
        }
      }
  return cols;
}

std::vector<float> conv3x3_gemm(const std::vector<float>& x, int batch, int h, int w, int c_in, int stride,
                                const Linear& layer, const LinearBackend& backend) {
  assert(layer.k == 9 * c_in);
  const int m = batch * strided_size(h, stride) * strided_size(w, stride);
  return backend(layer, im2col3x3(x, batch, h, w, c_in, stride), m);
}

Linear conv3x3_matrix(const std::string& name, const std::vector<float>& torch_weight, int c_out, int c_in) {
  assert(torch_weight.size() == static_cast<std::size_t>(c_out) * c_in * 9);
  Linear l;
  l.name = name;
  l.n = c_out;
  l.k = 9 * c_in;
  l.w.resize(static_cast<std::size_t>(l.n) * l.k);
  for (int o = 0; o < c_out; ++o)
    for (int i = 0; i < c_in; ++i)
      for (int t = 0; t < 9; ++t) l.w[static_cast<std::size_t>(o) * l.k + t * c_in + i] = torch_weight[(static_cast<std::size_t>(o) * c_in + i) * 9 + t];
  return l;
}

std::vector<float> conv3x3_direct(const std::vector<float>& x, int batch, int h, int w, int c_in, int stride,
                                  const std::vector<float>& torch_weight, int c_out) {
  const int ho = strided_size(h, stride), wo = strided_size(w, stride);
  std::vector<float> y(static_cast<std::size_t>(batch) * ho * wo * c_out);
  for (int b = 0; b < batch; ++b)
    for (int oy = 0; oy < ho; ++oy)
      for (int ox = 0; ox < wo; ++ox)
        for (int o = 0; o < c_out; ++o) {
          double acc = 0.0;
          for (int ky = 0; ky < 3; ++ky) {
            const int iy = oy * stride - 1 + ky;
            if (iy < 0 || iy >= h) continue;
            for (int kx = 0; kx < 3; ++kx) {
              const int ix = ox * stride - 1 + kx;
              if (ix < 0 || ix >= w) continue;
              for (int i = 0; i < c_in; ++i)
                acc += static_cast<double>(x[((static_cast<std::size_t>(b) * h + iy) * w + ix) * c_in + i]) *
                       torch_weight[((static_cast<std::size_t>(o) * c_in + i) * 3 + ky) * 3 + kx];
            }
          }
          y[((static_cast<std::size_t>(b) * ho + oy) * wo + ox) * c_out + o] = static_cast<float>(acc);
        }
  return y;
}

namespace {

// Output row o = 2 j + parity reads input row j + di through kernel row k: o + 1 = 2 i + k.
struct Tap {
  int di, k;
};
const std::vector<Tap>& taps(int parity) {
  static const std::vector<Tap> even{{0, 1}};
  static const std::vector<Tap> odd{{0, 2}, {1, 0}};
  return parity == 0 ? even : odd;
}
constexpr const char* kParityNames[4] = {"ee", "eo", "oe", "oo"};

}  // namespace

std::array<Linear, 4> conv_transpose3x3_matrices(const std::string& name, const std::vector<float>& torch_weight,
                                                 int c_in, int c_out) {
  assert(torch_weight.size() == static_cast<std::size_t>(c_in) * c_out * 9);
  std::array<Linear, 4> out;
  for (int p = 0; p < 4; ++p) {
    const auto& ty = taps(p / 2);
    const auto& tx = taps(p % 2);
    Linear& l = out[p];
    l.name = fmt::format("{}.{}", name, kParityNames[p]);
    l.n = c_out;
    l.k = static_cast<int>(ty.size() * tx.size()) * c_in;
    l.w.resize(static_cast<std::size_t>(l.n) * l.k);
    for (int o = 0; o < c_out; ++o)
      for (std::size_t a = 0; a < ty.size(); ++a)
        for (std::size_t b = 0; b < tx.size(); ++b)
          for (int i = 0; i < c_in; ++i)
            l.w[static_cast<std::size_t>(o) * l.k + (a * tx.size() + b) * c_in + i] =
                torch_weight[((static_cast<std::size_t>(i) * c_out + o) * 3 + ty[a].k) * 3 + tx[b].k];
  }
  return out;
}

std::vector<float> conv_transpose3x3_gemm(const std::vector<float>& x, int batch, int hc, int wc, int c_in,
                                          const std::array<const Linear*, 4>& layers, int h_out, int w_out,
                                          const LinearBackend& backend) {
  assert(h_out == 2 * hc || h_out == 2 * hc - 1);
  assert(w_out == 2 * wc || w_out == 2 * wc - 1);
  const int c_out = layers[0]->n;
  std::vector<float> y(static_cast<std::size_t>(batch) * h_out * w_out * c_out, 0.0f);
  for (int p = 0; p < 4; ++p) {
    const int py = p / 2, px = p % 2;
    const auto& ty = taps(py);
    const auto& tx = taps(px);
    const int rows = (h_out - py + 1) / 2, cols = (w_out - px + 1) / 2;
    const Linear& l = *layers[p];
    assert(l.k == static_cast<int>(ty.size() * tx.size()) * c_in && l.n == c_out);
    std::vector<float> xg(static_cast<std::size_t>(batch) * rows * cols * l.k, 0.0f);
    for (int b = 0; b < batch; ++b)
      for (int j = 0; j < rows; ++j)
        for (int i = 0; i < cols; ++i) {
          float* row = &xg[((static_cast<std::size_t>(b) * rows + j) * cols + i) * l.k];
          for (std::size_t a = 0; a < ty.size(); ++a) {
            const int iy = j + ty[a].di;
            if (iy >= hc) continue;
            for (std::size_t c = 0; c < tx.size(); ++c) {
              const int ix = i + tx[c].di;
              if (ix >= wc) continue;
              const float* src = &x[((static_cast<std::size_t>(b) * hc + iy) * wc + ix) * c_in];
              std::copy(src, src + c_in, row + (a * tx.size() + c) * c_in);
            }
          }
        }
    const std::vector<float> r = backend(l, xg, batch * rows * cols);
    for (int b = 0; b < batch; ++b)
      for (int j = 0; j < rows; ++j)
        for (int i = 0; i < cols; ++i) {
          const float* src = &r[((static_cast<std::size_t>(b) * rows + j) * cols + i) * c_out];
          std::copy(src, src + c_out, &y[((static_cast<std::size_t>(b) * h_out + 2 * j + py) * w_out + 2 * i + px) * c_out]);
        }
  }
  return y;
}

std::vector<float> conv_transpose3x3_scatter(const std::vector<float>& x, int batch, int hc, int wc, int c_in,
                                             const std::vector<float>& torch_weight, int c_out, int h_out, int w_out) {
  std::vector<double> acc(static_cast<std::size_t>(batch) * h_out * w_out * c_out, 0.0);
  for (int b = 0; b < batch; ++b)
    for (int iy = 0; iy < hc; ++iy)
      for (int ix = 0; ix < wc; ++ix)
        for (int ky = 0; ky < 3; ++ky) {
          const int oy = 2 * iy - 1 + ky;
          if (oy < 0 || oy >= h_out) continue;
          for (int kx = 0; kx < 3; ++kx) {
            const int ox = 2 * ix - 1 + kx;
            if (ox < 0 || ox >= w_out) continue;
            for (int i = 0; i < c_in; ++i) {
              const double v = x[((static_cast<std::size_t>(b) * hc + iy) * wc + ix) * c_in + i];
              for (int o = 0; o < c_out; ++o)
                acc[((static_cast<std::size_t>(b) * h_out + oy) * w_out + ox) * c_out + o] +=
                    v * torch_weight[((static_cast<std::size_t>(i) * c_out + o) * 3 + ky) * 3 + kx];
            }
          }
        }
  return {acc.begin(), acc.end()};
}

}  // namespace conv

namespace {

using nlohmann::json;


struct MgnoConfig {
  std::string name;
  int h = 0, w = 0, in_channels = 1, out_channels = 1, width = 0, levels = 0, layers = 0;
  int smoothing_steps = 1, projection_hidden = 0;
  bool post_smoothing = false;
  std::string activation;
  std::vector<int> level_h, level_w;

  bool has_a(int level) const { return level + 1 < levels || smoothing_steps > 1 || post_smoothing; }
};

MgnoConfig parse_config(const json& j, const std::string& source) {
  ConfigReader r(j, source);
  MgnoConfig c;
  if (r.choice("model_type", {"mgno"}, std::nullopt) != "mgno") r.fail("model_type", "must be mgno");
  c.name = r.choice("name", {}, std::string("mgno"));
  r.choice("description", {}, std::string());
  const std::vector<int> grid = r.int_list("grid", 2, 2, 4096);
  c.h = grid[0];
  c.w = grid[1];
  c.in_channels = r.integer("in_channels", 1, 64, 1);
  c.out_channels = r.integer("out_channels", 1, 64, 1);
  c.width = r.integer("width", 1, 1024);
  c.levels = r.integer("levels", 1, 12);
  c.layers = r.integer("layers", 1, 64);
  c.smoothing_steps = r.integer("smoothing_steps", 1, 8, 1);
  c.post_smoothing = r.boolean("post_smoothing", false);
  c.projection_hidden = r.integer("projection_hidden", 1, 4096, 4 * c.width);
  c.activation = r.choice("activation", {"gelu", "relu"}, std::string("gelu"));
  r.reject_unknown();
  c.level_h = {c.h};
  c.level_w = {c.w};
  for (int l = 1; l < c.levels; ++l) {
    c.level_h.push_back(conv::strided_size(c.level_h.back(), 2));
    c.level_w.push_back(conv::strided_size(c.level_w.back(), 2));
  }
  if (c.levels > 1 && (c.level_h.back() < 2 || c.level_w.back() < 2))
    r.fail("levels", fmt::format("coarsest level of the {}x{} grid would be {}x{} (must be at least 2x2)", c.h, c.w,
                                 c.level_h.back(), c.level_w.back()));
  return c;
}

std::string level_prefix(int layer, int level) { return fmt::format("layers.{}.level{}.", layer, level); }

std::vector<std::pair<std::string, std::vector<std::int64_t>>> weight_shapes(const MgnoConfig& c) {
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> s;
  const std::int64_t w = c.width;
  s.push_back({"lift.weight", {w, c.in_channels}});
  s.push_back({"lift.bias", {w}});
  for (int l = 0; l < c.layers; ++l) {
    s.push_back({fmt::format("layers.{}.w.weight", l), {w, w}});
    s.push_back({fmt::format("layers.{}.w.bias", l), {w}});
    for (int j = 0; j < c.levels; ++j) {
      const std::string p = level_prefix(l, j);
      if (c.has_a(j)) s.push_back({p + "A.weight", {w, w, 3, 3}});
      s.push_back({p + "S.weight", {w, w, 3, 3}});
      if (j + 1 < c.levels) {
        s.push_back({p + "restrict.weight", {w, w, 3, 3}});
        s.push_back({p + "prolong.weight", {w, w, 3, 3}});
      }
    }
  }
  s.push_back({"proj1.weight", {c.projection_hidden, w}});
  s.push_back({"proj1.bias", {c.projection_hidden}});
  s.push_back({"proj2.weight", {c.out_channels, c.projection_hidden}});
  s.push_back({"proj2.bias", {c.out_channels}});
  return s;
}


float activate(float v, bool gelu) {
  return gelu ? static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)))) : std::max(v, 0.0f);
}

// One multigrid level's weights of one layer.
struct Level {
  std::vector<float> a_torch, s_torch, restrict_torch, prolong_torch;
  OperatorLinear a, s, restrict_op;
  std::array<OperatorLinear, 4> prolong;
};

struct Layer {
  OperatorLinear w;
  std::vector<Level> levels;
};

OperatorLinear pointwise(const std::string& name, std::vector<float> w, std::vector<float> b, int n, int k, GemmRole role) {
  OperatorLinear o;
  o.role = role;
  o.linear.name = name;
  o.linear.n = n;
  o.linear.k = k;
  o.linear.w = std::move(w);
  o.linear.bias = std::move(b);
  return o;
}

OperatorLinear conv_op(const std::string& name, const std::vector<float>& torch_weight, int c) {
  return {conv::conv3x3_matrix(name, torch_weight, c, c), GemmRole::kConv};
}

class Mgno final : public NeuralOperator {
 public:
  Mgno(const json& config, const std::string& source, const SafetensorsFile* weights)
      : json_(config), c_(parse_config(config, source)) {
    std::map<std::string, std::vector<float>> t;
    for (const auto& [name, shape] : weight_shapes(c_)) t[name] = read_tensor(weights, name, shape);
    const int w = c_.width;
    lift_ = pointwise("lift", t["lift.weight"], t["lift.bias"], w, c_.in_channels, GemmRole::kLift);
    for (int l = 0; l < c_.layers; ++l) {
      Layer layer;
      const std::string wn = fmt::format("layers.{}.w", l);
      layer.w = pointwise(wn, t[wn + ".weight"], t[wn + ".bias"], w, w, GemmRole::kPointwise);
      for (int j = 0; j < c_.levels; ++j) {
        const std::string p = level_prefix(l, j);
        Level lv;
        if (c_.has_a(j)) {
          lv.a_torch = t[p + "A.weight"];
          lv.a = conv_op(p + "A", lv.a_torch, w);
        }
        lv.s_torch = t[p + "S.weight"];
        lv.s = conv_op(p + "S", lv.s_torch, w);
        if (j + 1 < c_.levels) {
          lv.restrict_torch = t[p + "restrict.weight"];
          lv.restrict_op = conv_op(p + "restrict", lv.restrict_torch, w);
          lv.prolong_torch = t[p + "prolong.weight"];
          auto mats = conv::conv_transpose3x3_matrices(p + "prolong", lv.prolong_torch, w, w);
          for (int q = 0; q < 4; ++q) lv.prolong[q] = {std::move(mats[q]), GemmRole::kConv};
        }
        layer.levels.push_back(std::move(lv));
      }
      layers_.push_back(std::move(layer));
    }
    proj1_ = pointwise("proj1", t["proj1.weight"], t["proj1.bias"], c_.projection_hidden, w, GemmRole::kProject);
    proj2_ = pointwise("proj2", t["proj2.weight"], t["proj2.bias"], c_.out_channels, c_.projection_hidden, GemmRole::kProject);
  }

  const json& config() const override { return json_; }
  const std::string& name() const override { return c_.name; }
  std::vector<std::int64_t> input_shape() const override { return {c_.h, c_.w, c_.in_channels}; }
  std::vector<std::int64_t> output_shape() const override { return {c_.h, c_.w, c_.out_channels}; }

  std::vector<const OperatorLinear*> linears() const override {
    std::vector<const OperatorLinear*> out{&lift_};
    for (const Layer& layer : layers_) {
      out.push_back(&layer.w);
      for (std::size_t j = 0; j < layer.levels.size(); ++j) {
        const Level& lv = layer.levels[j];
        if (c_.has_a(static_cast<int>(j))) out.push_back(&lv.a);
        out.push_back(&lv.s);
        if (j + 1 < layer.levels.size()) {
          out.push_back(&lv.restrict_op);
          for (const auto& p : lv.prolong) out.push_back(&p);
        }
      }
    }
    out.push_back(&proj1_);
    out.push_back(&proj2_);
    return out;
  }

  std::vector<float> forward_reference(const std::vector<float>& input, int batch) const override {
    check_input(input, batch);
    const Ops ops{
        [&](const OperatorLinear& l, const std::vector<float>& x, int m) { return pointwise_direct(l.linear, x, m); },
        [&](const Level& lv, bool a, const std::vector<float>& x, int j) {
          return conv::conv3x3_direct(x, batch, c_.level_h[j], c_.level_w[j], c_.width, 1, a ? lv.a_torch : lv.s_torch, c_.width);
        },
        [&](const Level& lv, const std::vector<float>& x, int j) {
          return conv::conv3x3_direct(x, batch, c_.level_h[j], c_.level_w[j], c_.width, 2, lv.restrict_torch, c_.width);
        },
        [&](const Level& lv, const std::vector<float>& x, int j) {
          return conv::conv_transpose3x3_scatter(x, batch, c_.level_h[j + 1], c_.level_w[j + 1], c_.width, lv.prolong_torch,
                                                 c_.width, c_.level_h[j], c_.level_w[j]);
        }};
    return run(input, batch, ops);
  }

  std::vector<float> forward(const std::vector<float>& input, int batch, const LinearBackend& backend) const override {
    check_input(input, batch);
    const Ops ops{
        [&](const OperatorLinear& l, const std::vector<float>& x, int m) { return backend(l.linear, x, m); },
        [&](const Level& lv, bool a, const std::vector<float>& x, int j) {
          return conv::conv3x3_gemm(x, batch, c_.level_h[j], c_.level_w[j], c_.width, 1, a ? lv.a.linear : lv.s.linear, backend);
        },
        [&](const Level& lv, const std::vector<float>& x, int j) {
          return conv::conv3x3_gemm(x, batch, c_.level_h[j], c_.level_w[j], c_.width, 2, lv.restrict_op.linear, backend);
        },
        [&](const Level& lv, const std::vector<float>& x, int j) {
          return conv::conv_transpose3x3_gemm(
              x, batch, c_.level_h[j + 1], c_.level_w[j + 1], c_.width,
              {&lv.prolong[0].linear, &lv.prolong[1].linear, &lv.prolong[2].linear, &lv.prolong[3].linear}, c_.level_h[j],
              c_.level_w[j], backend);
        }};
    return run(input, batch, ops);
  }

  std::vector<Op> workload(int batch) const override {
    if (batch < 1) throw std::invalid_argument(fmt::format("{}: batch {} (must be >= 1)", c_.name, batch));
    std::vector<Op> ops;
    const std::int64_t cw = c_.width, b = batch;
    auto gemm = [&](const OperatorLinear& l, int layer, std::int64_t m, const std::string& note = "") {
      Op op;
      op.name = l.linear.name;
      op.layer = layer;
      op.kind = OpKind::kLinear;
      op.m = m;
      op.n = l.linear.n;
      op.k = l.linear.k;
      op.note = note;
      ops.push_back(op);
    };
    auto vec = [&](const std::string& name, int layer, OpKind kind, std::int64_t elements, std::int64_t width, const std::string& note = "") {
      Op op;
      op.name = name;
      op.layer = layer;
      op.kind = kind;
      op.elements = elements;
      op.width = width;
      op.note = note;
      ops.push_back(op);
    };
    const std::int64_t pixels = b * c_.h * c_.w;
    gemm(lift_, -1, pixels, "1x1 lifting convolution");
    for (int l = 0; l < c_.layers; ++l) {
      const Layer& layer = layers_[l];
      gemm(layer.w, l, pixels, "1x1 path W v + b");
      for (int j = 0; j < c_.levels; ++j) {
        const Level& lv = layer.levels[j];
        const std::string p = level_prefix(l, j);
        const std::int64_t px = b * c_.level_h[j] * c_.level_w[j];
        auto smooth_step = [&] {
          gemm(lv.a, l, px, "3x3 conv A u as im2col GEMM");
          vec(p + "residual", l, OpKind::kElementwise, px * cw, cw, "f - A u");
          gemm(lv.s, l, px, "3x3 conv S r as im2col GEMM");
          vec(p + "smooth_update", l, OpKind::kElementwise, px * cw, cw, "u + S r");
        };
        gemm(lv.s, l, px, "first pre-smoothing from u = 0: S f as im2col GEMM");
        for (int s = 1; s < c_.smoothing_steps; ++s) smooth_step();
        if (j + 1 < c_.levels) {
          gemm(lv.a, l, px, "3x3 conv A u as im2col GEMM");
          vec(p + "residual", l, OpKind::kElementwise, px * cw, cw, "f - A u");
          gemm(lv.restrict_op, l, b * c_.level_h[j + 1] * c_.level_w[j + 1], "stride-2 3x3 conv as im2col GEMM");
        }
      }
      for (int j = c_.levels - 2; j >= 0; --j) {
        const Level& lv = layer.levels[j];
        const std::string p = level_prefix(l, j);
        const int h = c_.level_h[j], w = c_.level_w[j];
        for (int q = 0; q < 4; ++q) {
          const std::int64_t rows = (h - q / 2 + 1) / 2, cols = (w - q % 2 + 1) / 2;
          gemm(lv.prolong[q], l, b * rows * cols, "transposed conv, sub-pixel class GEMM on the coarse input");
        }
        const std::int64_t px = b * h * w;
        vec(p + "correct", l, OpKind::kElementwise, px * cw, cw, "u + P u_coarse");
        if (c_.post_smoothing)
          for (int s = 0; s < c_.smoothing_steps; ++s) {
            gemm(lv.a, l, px, "3x3 conv A u as im2col GEMM");
            vec(p + "residual", l, OpKind::kElementwise, px * cw, cw, "f - A u");
            gemm(lv.s, l, px, "3x3 conv S r as im2col GEMM");
            vec(p + "smooth_update", l, OpKind::kElementwise, px * cw, cw, "u + S r");
          }
      }
      vec(fmt::format("layers.{}.combine", l), l, OpKind::kElementwise, pixels * cw, cw, "MG(v) + W v + b");
      vec(fmt::format("layers.{}.act", l), l, OpKind::kActivation, pixels * cw, cw, c_.activation);
    }
    gemm(proj1_, -1, pixels, "1x1 projection convolution");
    vec("proj_act", -1, OpKind::kActivation, pixels * c_.projection_hidden, c_.projection_hidden, c_.activation);
    gemm(proj2_, -1, pixels, "1x1 projection convolution");
    return ops;
  }

 private:
  // The four kinds of linear maps the forward applies; the GEMM path and the direct reference
  // differ only in these.
  struct Ops {
    std::function<std::vector<float>(const OperatorLinear&, const std::vector<float>&, int)> pointwise;
    std::function<std::vector<float>(const Level&, bool a, const std::vector<float>&, int level)> conv;
    std::function<std::vector<float>(const Level&, const std::vector<float>&, int level)> restrict_op;
    std::function<std::vector<float>(const Level&, const std::vector<float>&, int level)> prolong;
  };

  void check_input(const std::vector<float>& input, int batch) const {
    if (batch < 1 || input.size() != static_cast<std::size_t>(batch) * c_.h * c_.w * c_.in_channels)
      throw std::invalid_argument(fmt::format("{}: input has {} values for batch {}, expected {} x {} x {} x {}", c_.name,
                                              input.size(), batch, batch, c_.h, c_.w, c_.in_channels));
  }

  static std::vector<float> pointwise_direct(const Linear& l, const std::vector<float>& x, int m) {
    std::vector<float> y(static_cast<std::size_t>(m) * l.n);
    for (int r = 0; r < m; ++r)
      for (int o = 0; o < l.n; ++o) {
        double acc = l.bias.empty() ? 0.0 : l.bias[o];
        for (int i = 0; i < l.k; ++i) acc += static_cast<double>(x[static_cast<std::size_t>(r) * l.k + i]) * l.w[static_cast<std::size_t>(o) * l.k + i];
        y[static_cast<std::size_t>(r) * l.n + o] = static_cast<float>(acc);
      }
    return y;
  }

  static void add_into(std::vector<float>& u, const std::vector<float>& d) {
    assert(u.size() == d.size());
    for (std::size_t i = 0; i < u.size(); ++i) u[i] += d[i];
  }
  static std::vector<float> difference(const std::vector<float>& f, const std::vector<float>& au) {
    std::vector<float> r(f.size());
    for (std::size_t i = 0; i < f.size(); ++i) r[i] = f[i] - au[i];
    return r;
  }

  std::vector<float> v_cycle(const Layer& layer, int j, const std::vector<float>& f, const Ops& ops) const {
    const Level& lv = layer.levels[j];
    auto smooth_step = [&](std::vector<float>& u) { add_into(u, ops.conv(lv, false, difference(f, ops.conv(lv, true, u, j)), j)); };
    std::vector<float> u = ops.conv(lv, false, f, j);
    for (int s = 1; s < c_.smoothing_steps; ++s) smooth_step(u);
    if (j + 1 < c_.levels) {
      const std::vector<float> coarse_f = ops.restrict_op(lv, difference(f, ops.conv(lv, true, u, j)), j);
      add_into(u, ops.prolong(lv, v_cycle(layer, j + 1, coarse_f, ops), j));
      if (c_.post_smoothing)
        for (int s = 0; s < c_.smoothing_steps; ++s) smooth_step(u);
    }
    return u;
  }

  std::vector<float> run(const std::vector<float>& input, int batch, const Ops& ops) const {
    const int pixels = batch * c_.h * c_.w;
    const bool gelu = c_.activation == "gelu";
    std::vector<float> v = ops.pointwise(lift_, input, pixels);
    for (const Layer& layer : layers_) {
      std::vector<float> next = ops.pointwise(layer.w, v, pixels);
      add_into(next, v_cycle(layer, 0, v, ops));
      for (float& x : next) x = activate(x, gelu);
      v = std::move(next);
    }
    std::vector<float> hidden = ops.pointwise(proj1_, v, pixels);
    for (float& x : hidden) x = activate(x, gelu);
    return ops.pointwise(proj2_, hidden, pixels);
  }

  json json_;
  MgnoConfig c_;
  OperatorLinear lift_, proj1_, proj2_;
  std::vector<Layer> layers_;
};

}  // namespace

std::vector<std::pair<std::string, std::vector<std::int64_t>>> mgno_weight_shapes(const nlohmann::json& config,
                                                                                  const std::string& source) {
  return weight_shapes(parse_config(config, source));
}

std::unique_ptr<NeuralOperator> make_mgno(const nlohmann::json& config, const std::string& source,
                                          const SafetensorsFile* weights) {
  return std::make_unique<Mgno>(config, source, weights);
}

}  // namespace mixpe::models
