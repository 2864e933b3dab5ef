// FNO / IFNO: config parsing, weight loading, the FFTW reference forward and the GEMM-form
// forward whose op sequence is also the workload.
//
// GEMM form of one Fourier layer on v [batch][grid...][width] (channels last):
//   spectral path  transpose so lines along the last axis are rows -> r2c truncated DFT GEMM
//                  (N = 2m: cos and -sin rows) -> for every other axis: transpose, c2c DFT GEMM
//                  in real 2x2 block form (K = 2R, N = 2 * kept modes) -> transpose to
//                  [mode][batch][channel][re/im] -> one GEMM per retained mode (M = batch,
//                  K = 2 width_in, N = 2 width_out) -> inverse c2c GEMMs -> c2r GEMM (K = 2m,
//                  N = R) -> transpose back to channels last
//   pointwise path W v + b as one GEMM over all grid points
//   add, GELU (FNO: not after the last layer; IFNO: v += act(...) / L on every iteration)
// Complex numbers are adjacent (re, im) reals throughout. The per-mode channel mixing uses a
// single real GEMM with 2x2 blocks [[Re w, -Im w], [Im w, Re w]] per (out, in) channel pair
// (rows 2o, 2o+1 of W; columns 2i, 2i+1) rather than four real GEMMs (Re*Re, Im*Im, Re*Im,
// Im*Re): one GEMM keeps one weight matrix per mode that a group quantizer sees whole, and the
// activation row (one sample's complex channel vector) is read and quantized once with one
// per-token scale; four GEMMs would read each activation twice and need extra adds/subtracts
// in FP32 between them.
#include "models/operators/fno.h"

#include <algorithm>
#include <cmath>
#include <cassert>
#include <complex>
#include <cstring>
#include <mutex>
#include <numeric>
#include <stdexcept>

#include <fftw3.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/io/safetensors.h"
#include "models/operators/dft.h"

namespace mixpe::models {
namespace {

constexpr const char* kAxisNames[] = {"x", "y", "z"};

// Axis labels of an activation tensor while it moves through the spectral path.
constexpr int kBatch = -1, kChan = -2, kCplx = -3;  // spatial / mode axes are 0..dims-1

float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }

int json_int(const nlohmann::json& j, const std::string& key, const std::string& source, int min, int max) {
  if (!j.contains(key)) throw_format_error(source, key, "missing");
  const auto& v = j.at(key);
  if (!v.is_number_integer() || v.get<long long>() < min || v.get<long long>() > max) {
    throw_format_error(source, key, fmt::format("value {} must be an integer in {}..{}", v.dump(), min, max));
  }
  return v.get<int>();
}

std::vector<int> json_int_array(const nlohmann::json& j, const std::string& key, const std::string& source, int size,
                                int min, int max) {
  if (!j.contains(key)) throw_format_error(source, key, "missing");
  const auto& v = j.at(key);
  if (!v.is_array() || static_cast<int>(v.size()) != size) {
    throw_format_error(source, key, fmt::format("value {} must be an array of {} integers (one per dim)", v.dump(), size));
  }
  std::vector<int> out;
  for (const auto& e : v) {
    if (!e.is_number_integer() || e.get<long long>() < min || e.get<long long>() > max) {
      throw_format_error(source, key, fmt::format("value {} must hold integers in {}..{}", v.dump(), min, max));
    }
    out.push_back(e.get<int>());
  }
  return out;
}

// Every GEMM goes through `gemm`, every vector op through `vec`; in dry mode (workload) nothing
// is computed and the ops are recorded, so forward() and workload() cannot drift apart.
class Runner {
 public:
  explicit Runner(const LinearBackend* backend) : backend_(backend) {}
  explicit Runner(std::vector<Op>* ops) : ops_(ops) {}
  bool dry() const { return ops_ != nullptr; }

  std::vector<float> gemm(const std::string& op_name, int layer, const OperatorLinear& l, const float* x,
                          std::int64_t m, const char* note) {
    const Linear& lin = l.linear;
    if (dry()) {
      if (!ops_->empty()) {
        Op& last = ops_->back();
        if (last.kind == OpKind::kLinear && last.name == op_name && last.m == m && last.n == lin.n && last.k == lin.k) {
          ++last.count;
          return {};
        }
      }
      Op op;
      op.name = op_name;
      op.layer = layer;
      op.kind = OpKind::kLinear;
      op.m = m;
      op.n = lin.n;
      op.k = lin.k;
      op.note = note;
      ops_->push_back(std::move(op));
      return {};
    }
    std::vector<float> in(x, x + m * lin.k);
    std::vector<float> y = (*backend_)(lin, in, static_cast<int>(m));
    if (y.size() != static_cast<std::size_t>(m) * lin.n) {
      throw std::runtime_error(fmt::format("backend returned {} values for {} ([{}, {}] expected)", y.size(), lin.name, m, lin.n));
    }
    return y;
  }

  void vec(const std::string& name, int layer, OpKind kind, std::int64_t elements, std::int64_t width, const char* note = "") {
    if (!dry()) return;
    Op op;
    op.name = name;
    op.layer = layer;
    op.kind = kind;
    op.elements = elements;
    op.width = width;
    op.note = note;
    ops_->push_back(std::move(op));
  }

 private:
  const LinearBackend* backend_ = nullptr;
  std::vector<Op>* ops_ = nullptr;
};

// A dense row-major tensor with labelled axes (data empty in dry mode).
struct Tensor {
  std::vector<int> labels;
  std::vector<std::int64_t> shape;
  std::vector<float> data;

  std::int64_t size() const {
    return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
  }
};

// Reorders axes to `order` (labels); returns false when already in that order.
bool permute(Tensor& t, const std::vector<int>& order, bool dry) {
  if (order == t.labels) return false;
  const std::size_t rank = order.size();
  std::vector<std::size_t> src_axis(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    src_axis[i] = std::find(t.labels.begin(), t.labels.end(), order[i]) - t.labels.begin();
    assert(src_axis[i] < rank);
  }
  std::vector<std::int64_t> src_stride(rank, 1);
  for (std::size_t i = rank - 1; i > 0; --i) src_stride[i - 1] = src_stride[i] * t.shape[i];
  std::vector<std::int64_t> shape(rank), stride(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    shape[i] = t.shape[src_axis[i]];
    stride[i] = src_stride[src_axis[i]];
  }
  if (!dry) {
    std::vector<float> out(t.data.size());
    std::vector<std::int64_t> idx(rank, 0);
    std::int64_t src = 0;
    const std::int64_t inner = shape[rank - 1], inner_stride = stride[rank - 1];
    for (std::size_t o = 0; o < out.size(); o += inner) {
      for (std::int64_t j = 0; j < inner; ++j) out[o + j] = t.data[src + j * inner_stride];
      // Advance the outer multi-index (odometer).
      for (std::size_t a = rank - 1; a-- > 0;) {
        src += stride[a];
        if (++idx[a] < shape[a]) break;
        src -= stride[a] * shape[a];
        idx[a] = 0;
      }
    }
    t.data = std::move(out);
  }
  t.labels = order;
  t.shape = shape;
  return true;
}

class Fno final : public NeuralOperator {
 public:
  Fno(nlohmann::json config, FnoConfig c, std::string name, const SafetensorsFile* weights);

  const nlohmann::json& config() const override { return json_; }
  const std::string& name() const override { return name_; }
  std::vector<std::int64_t> input_shape() const override {
    std::vector<std::int64_t> s(c_.grid.begin(), c_.grid.end());
    s.push_back(c_.in_channels);
    return s;
  }
  std::vector<std::int64_t> output_shape() const override {
    std::vector<std::int64_t> s(c_.grid.begin(), c_.grid.end());
    s.push_back(c_.out_channels);
    return s;
  }
  std::vector<const OperatorLinear*> linears() const override;
  std::vector<float> forward_reference(const std::vector<float>& input, int batch) const override;
  std::vector<float> forward(const std::vector<float>& input, int batch, const LinearBackend& backend) const override {
    check_runnable(input, batch);
    Runner r(&backend);
    return run(input, batch, r);
  }
  std::vector<Op> workload(int batch) const override {
    if (batch <= 0) throw std::invalid_argument(fmt::format("{}: batch {} must be positive", name_, batch));
    std::vector<Op> ops;
    Runner r(&ops);
    run({}, batch, r);
    return ops;
  }

 private:
  struct Layer {
    OperatorLinear pointwise;
    std::vector<OperatorLinear> spectral;  // one per retained mode, row-major over the mode grid
    std::vector<float> spec_re, spec_im;   // [in][out][modes...] as stored (reference forward)
  };

  void check_runnable(const std::vector<float>& input, int batch) const;
  std::vector<float> run(const std::vector<float>& input, int batch, Runner& r) const;
  void spectral_gemm(Tensor& t, int layer, const Layer& w, Runner& r) const;
  std::vector<float> lift_input(const std::vector<float>& input, int batch) const;
  void spectral_reference(const std::vector<float>& v, int batch, const Layer& w, std::vector<float>& out) const;

  nlohmann::json json_;
  FnoConfig c_;
  std::string name_;
  bool has_weights_ = false;
  std::vector<std::vector<int>> freqs_;
  std::vector<float> in_mean_, in_std_, out_mean_, out_std_;
  OperatorLinear lift_, proj1_, proj2_;
  std::vector<Layer> layers_;        // FNO: one per layer; IFNO: the one shared layer
  std::vector<OperatorLinear> dft_;  // per axis: r2c (last axis) or forward c2c
  std::vector<OperatorLinear> idft_; // per axis: c2r (last axis) or inverse c2c
};

class WeightReader {
 public:
  WeightReader(const SafetensorsFile* f) : f_(f) {}
  std::vector<float> get(const std::string& name, const std::vector<std::int64_t>& shape) {
    if (!f_) return {};
    used_.push_back(name);
    const SafetensorsTensor* t = f_->find(name);
    if (!t) throw_format_error(f_->source(), name, fmt::format("missing tensor (expected F32 {})", shape));
    if (t->dtype != Dtype::kF32) throw_format_error(f_->source(), name, "dtype must be F32");
    if (t->shape != shape) throw_format_error(f_->source(), name, fmt::format("shape {} must be {}", t->shape, shape));
    std::vector<float> v(t->data.size() / sizeof(float));
    std::memcpy(v.data(), t->data.data(), t->data.size());
    return v;
  }
  void check_all_used() const {
    if (!f_) return;
    for (const auto& t : f_->tensors()) {
      if (std::find(used_.begin(), used_.end(), t.name) == used_.end()) {
        throw_format_error(f_->source(), t.name, "unexpected tensor (does the config match the weights?)");
      }
    }
  }

 private:
  const SafetensorsFile* f_;
  std::vector<std::string> used_;
};

OperatorLinear make_linear(std::string name, GemmRole role, int n, int k, std::vector<float> w, std::vector<float> bias) {
  OperatorLinear l;
  l.linear.name = std::move(name);
  l.linear.n = n;
  l.linear.k = k;
  l.linear.w = std::move(w);
  l.linear.bias = std::move(bias);
  l.role = role;
  return l;
}

Fno::Fno(nlohmann::json config, FnoConfig c, std::string name, const SafetensorsFile* weights)
    : json_(std::move(config)), c_(std::move(c)), name_(std::move(name)), has_weights_(weights != nullptr) {
  const int d_count = c_.dims;
  freqs_ = c_.frequencies();
  WeightReader rd(weights);
  const auto in_shape = input_shape(), out_shape = output_shape();
  in_mean_ = rd.get("input_mean", in_shape);
  in_std_ = rd.get("input_std", in_shape);
  out_mean_ = rd.get("output_mean", out_shape);
  out_std_ = rd.get("output_std", out_shape);
  const int lift_k = c_.in_channels + d_count, w = c_.width, pw = c_.projection_width;
  lift_ = make_linear("lift", GemmRole::kLift, w, lift_k, rd.get("lift.weight", {w, lift_k}), rd.get("lift.bias", {w}));
  const int weight_layers = c_.implicit ? 1 : c_.layers;
  std::vector<std::int64_t> spec_shape{w, w};
  for (const auto& f : freqs_) spec_shape.push_back(static_cast<std::int64_t>(f.size()));
  const std::int64_t modes = c_.retained_modes();
  for (int l = 0; l < weight_layers; ++l) {
    Layer layer;
    const std::string p = fmt::format("layers.{}.", l);
    layer.pointwise = make_linear(p + "pointwise", GemmRole::kPointwise, w, w, rd.get(p + "pointwise.weight", {w, w}),
                                  rd.get(p + "pointwise.bias", {w}));
    layer.spec_re = rd.get(p + "spectral.weight_re", spec_shape);
    layer.spec_im = rd.get(p + "spectral.weight_im", spec_shape);
    layer.spectral.reserve(modes);
    for (std::int64_t mode = 0; mode < modes; ++mode) {
      std::vector<float> blk;
      if (has_weights_) {
        blk.resize(4 * static_cast<std::size_t>(w) * w);
        const std::size_t row = 2 * static_cast<std::size_t>(w);
        for (int o = 0; o < w; ++o) {
          for (int i = 0; i < w; ++i) {
            const std::size_t src = (static_cast<std::size_t>(i) * w + o) * modes + mode;
            const float re = layer.spec_re[src], im = layer.spec_im[src];
            blk[(2 * o) * row + 2 * i] = re;
            blk[(2 * o) * row + 2 * i + 1] = -im;
            blk[(2 * o + 1) * row + 2 * i] = im;
            blk[(2 * o + 1) * row + 2 * i + 1] = re;
          }
        }
      }
      layer.spectral.push_back(make_linear(fmt::format("{}spectral.{}", p, mode), GemmRole::kSpectral, 2 * w, 2 * w, std::move(blk), {}));
    }
    layers_.push_back(std::move(layer));
  }
  proj1_ = make_linear("proj1", GemmRole::kProject, pw, w, rd.get("proj1.weight", {pw, w}), rd.get("proj1.bias", {pw}));
  proj2_ = make_linear("proj2", GemmRole::kProject, c_.out_channels, pw, rd.get("proj2.weight", {c_.out_channels, pw}),
                       rd.get("proj2.bias", {c_.out_channels}));
  rd.check_all_used();
  // The DFT matrices are constants, built even for shapes-only models (they are small).
  for (int d = 0; d < d_count; ++d) {
    const int r = c_.grid[d];
    const int kept = static_cast<int>(freqs_[d].size());
    const std::string axis = kAxisNames[d];
    if (d == d_count - 1) {
      dft_.push_back(make_linear("dft_" + axis, GemmRole::kDft, 2 * kept, r, dft_r2c_matrix(r, kept), {}));
      idft_.push_back(make_linear("idft_" + axis, GemmRole::kDft, r, 2 * kept, idft_c2r_matrix(r, kept), {}));
    } else {
      dft_.push_back(make_linear("dft_" + axis, GemmRole::kDft, 2 * kept, 2 * r, dft_c2c_matrix(r, freqs_[d], false), {}));
      idft_.push_back(make_linear("idft_" + axis, GemmRole::kDft, 2 * r, 2 * kept, dft_c2c_matrix(r, freqs_[d], true), {}));
    }
  }
}

std::vector<const OperatorLinear*> Fno::linears() const {
  std::vector<const OperatorLinear*> out{&lift_};
  for (const Layer& l : layers_) {
    for (const auto& s : l.spectral) out.push_back(&s);
    out.push_back(&l.pointwise);
  }
  out.push_back(&proj1_);
  out.push_back(&proj2_);
  for (const auto& d : dft_) out.push_back(&d);
  for (const auto& d : idft_) out.push_back(&d);
  return out;
}

void Fno::check_runnable(const std::vector<float>& input, int batch) const {
  if (!has_weights_) {
    throw std::logic_error(fmt::format("{}: shapes-only model (no model.safetensors) cannot run a forward pass", name_));
  }
  if (batch <= 0) throw std::invalid_argument(fmt::format("{}: batch {} must be positive", name_, batch));
  const std::size_t expect = static_cast<std::size_t>(batch) * c_.points() * c_.in_channels;
  if (input.size() != expect) {
    throw std::invalid_argument(fmt::format("{}: input has {} values, expected batch {} x {} x {} channels = {}", name_,
                                            input.size(), batch, fmt::join(c_.grid, "x"), c_.in_channels, expect));
  }
}

// Normalized input with grid coordinates appended: [batch * points][in + dims].
std::vector<float> Fno::lift_input(const std::vector<float>& input, int batch) const {
  const std::int64_t pts = c_.points();
  const int cin = c_.in_channels, kk = cin + c_.dims;
  std::vector<float> x(static_cast<std::size_t>(batch) * pts * kk);
  for (int b = 0; b < batch; ++b) {
    for (std::int64_t p = 0; p < pts; ++p) {
      float* row = &x[(b * pts + p) * kk];
      for (int ch = 0; ch < cin; ++ch) {
        const std::size_t s = p * cin + ch;
        row[ch] = (input[b * pts * cin + s] - in_mean_[s]) / in_std_[s];
      }
      // Coordinates as np.linspace(0, 1, R) per axis, x first (the reference get_grid).
      std::int64_t rem = p;
      for (int d = c_.dims - 1; d >= 0; --d) {
        const int r = c_.grid[d];
        row[cin + d] = static_cast<float>(static_cast<double>(rem % r) / (r - 1));
        rem /= r;
      }
    }
  }
  return x;
}

void Fno::spectral_gemm(Tensor& t, int layer, const Layer& w, Runner& r) const {
  const int dn = c_.dims;
  const std::string p = fmt::format("layers.{}.", layer);
  const bool dry = r.dry();
  auto transpose = [&](const std::vector<int>& order, const std::string& what) {
    if (permute(t, order, dry)) r.vec(p + what, layer, OpKind::kElementwise, t.size(), t.shape.back(), "transpose (data re-layout)");
  };
  const int last = dn - 1;
  // Axis order [batch, other axes..., channel, axis, re/im]: lines along `axis` are GEMM rows.
  auto line_order = [&](int axis, bool complex) {
    std::vector<int> o{kBatch};
    for (int d = 0; d < dn; ++d)
      if (d != axis) o.push_back(d);
    o.push_back(kChan);
    o.push_back(axis);
    if (complex) o.push_back(kCplx);
    return o;
  };
  auto gemm_tail = [&](const std::string& op, const OperatorLinear& lin, int axis, bool in_complex, bool out_complex,
                       std::int64_t out_len, const char* note) {
    const std::int64_t k = lin.linear.k;
    const std::int64_t m = t.size() / k;
    std::vector<float> y = r.gemm(p + op, layer, lin, t.data.data(), m, note);
    if (in_complex) {
      t.labels.pop_back();
      t.shape.pop_back();
    }
    t.shape.back() = out_len;
    assert(t.labels.back() == axis);
    if (out_complex) {
      t.labels.push_back(kCplx);
      t.shape.push_back(2);
    }
    t.data = std::move(y);
  };
  const std::string ax_last = kAxisNames[last];
  transpose(line_order(last, false), "transpose_in");
  gemm_tail("dft_" + ax_last, dft_[last], last, false, true, static_cast<std::int64_t>(freqs_[last].size()),
            "r2c truncated DFT; row = one line of one channel along the last axis");
  for (int d = last - 1; d >= 0; --d) {
    transpose(line_order(d, true), std::string("transpose_dft_") + kAxisNames[d]);
    gemm_tail(std::string("dft_") + kAxisNames[d], dft_[d], d, true, true, static_cast<std::int64_t>(freqs_[d].size()),
              "c2c truncated DFT (2x2 real blocks); row = one complex line of one channel along this axis");
  }
  // Spectral channel mixing: [mode axes..., batch, channel, re/im], one GEMM per mode.
  std::vector<int> spec_order;
  for (int d = 0; d < dn; ++d) spec_order.push_back(d);
  spec_order.insert(spec_order.end(), {kBatch, kChan, kCplx});
  transpose(spec_order, "transpose_spectral");
  const int batch = static_cast<int>(t.shape[dn]);
  const std::int64_t modes = c_.retained_modes();
  const std::int64_t in_row = 2 * static_cast<std::int64_t>(c_.width) * batch;
  std::vector<float> mixed;
  if (!dry) mixed.resize(t.data.size());
  for (std::int64_t mode = 0; mode < modes; ++mode) {
    // A shapes-only (dry) run holds no data: no pointer into it (offsetting a null pointer is UB).
    const float* x = dry ? nullptr : t.data.data() + mode * in_row;
    std::vector<float> y = r.gemm(p + "spectral", layer, w.spectral[mode], x, batch,
                                  "per-mode complex channel mixing ([[Re,-Im],[Im,Re]] blocks); row = one sample's "
                                  "complex channel vector at one mode; count = retained modes");
    if (!dry) std::copy(y.begin(), y.end(), mixed.begin() + mode * in_row);
  }
  t.data = std::move(mixed);
  for (int d = 0; d < last; ++d) {
    transpose(line_order(d, true), std::string("transpose_idft_") + kAxisNames[d]);
    gemm_tail(std::string("idft_") + kAxisNames[d], idft_[d], d, true, true, c_.grid[d],
              "c2c inverse DFT (2x2 real blocks); row = one complex line of one channel along this axis");
  }
  transpose(line_order(last, true), "transpose_idft_" + ax_last);
  gemm_tail("idft_" + ax_last, idft_[last], last, true, false, c_.grid[last],
            "c2r inverse DFT; row = one half-spectrum line of one channel along the last axis");
  std::vector<int> out_order{kBatch};
  for (int d = 0; d < dn; ++d) out_order.push_back(d);
  out_order.push_back(kChan);
  transpose(out_order, "transpose_out");
}

std::vector<float> Fno::run(const std::vector<float>& input, int batch, Runner& r) const {
  const bool dry = r.dry();
  const std::int64_t pts = c_.points(), rows = batch * pts;
  const int w = c_.width;
  r.vec("normalize_input", -1, OpKind::kElementwise, rows * c_.in_channels, c_.in_channels, "(x - mean) / std per point");
  r.vec("grid_concat", -1, OpKind::kElementwise, rows * (c_.in_channels + c_.dims), c_.in_channels + c_.dims,
        "append grid coordinates");
  std::vector<float> x;
  if (!dry) x = lift_input(input, batch);
  std::vector<float> v = r.gemm("lift", -1, lift_, x.data(), rows, "row = one grid point's input channels and coordinates");
  for (int t = 0; t < c_.layers; ++t) {
    const Layer& lw = layers_[c_.implicit ? 0 : t];
    const std::string p = fmt::format("layers.{}.", t);
    Tensor s;
    s.labels.push_back(kBatch);
    s.shape.push_back(batch);
    for (int d = 0; d < c_.dims; ++d) {
      s.labels.push_back(d);
      s.shape.push_back(c_.grid[d]);
    }
    s.labels.push_back(kChan);
    s.shape.push_back(w);
    if (!dry) s.data = v;
    spectral_gemm(s, t, lw, r);
    std::vector<float> pw = r.gemm(p + "pointwise", t, lw.pointwise, v.data(), rows, "row = one grid point's channel vector");
    r.vec(p + "add", t, OpKind::kElementwise, rows * w, w, "spectral + pointwise");
    const bool act = c_.implicit || t + 1 < c_.layers;
    if (act) r.vec(p + "gelu", t, OpKind::kActivation, rows * w, w, "GELU (erf)");
    if (c_.implicit) r.vec(p + "residual", t, OpKind::kElementwise, rows * w, w, "v += act(...) / L");
    if (!dry) {
      const float step = 1.0f / c_.layers;
      for (std::size_t i = 0; i < v.size(); ++i) {
        float u = s.data[i] + pw[i];
        if (act) u = gelu(u);
        v[i] = c_.implicit ? v[i] + step * u : u;
      }
    }
  }
  std::vector<float> h = r.gemm("proj1", -1, proj1_, v.data(), rows, "row = one grid point's channel vector");
  r.vec("proj1.gelu", -1, OpKind::kActivation, rows * c_.projection_width, c_.projection_width, "GELU (erf)");
  if (!dry)
    for (float& e : h) e = gelu(e);
  std::vector<float> y = r.gemm("proj2", -1, proj2_, h.data(), rows, "row = one grid point's hidden vector");
  r.vec("denormalize_output", -1, OpKind::kElementwise, rows * c_.out_channels, c_.out_channels, "y * std + mean per point");
  if (!dry) {
    const std::size_t per = static_cast<std::size_t>(pts) * c_.out_channels;
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = y[i] * out_std_[i % per] + out_mean_[i % per];
  }
  return y;
}

// FFTW planning is not thread-safe (execution of distinct plans is).
std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

struct PlanDeleter {
  void operator()(fftwf_plan_s* p) const {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fftwf_destroy_plan(p);
  }
};
using Plan = std::unique_ptr<fftwf_plan_s, PlanDeleter>;

// Spectral convolution K v of one layer, FFTW float: v and out are [batch][points][width].
void Fno::spectral_reference(const std::vector<float>& v, int batch, const Layer& w, std::vector<float>& out) const {
  const int dn = c_.dims, ch = c_.width;
  const std::int64_t pts = c_.points();
  const int r_last = c_.grid[dn - 1], half = r_last / 2 + 1;
  const std::int64_t outer = pts / r_last;  // points over all axes but the last
  const std::int64_t cpts = outer * half;   // complex coefficients per channel
  const int howmany = batch * ch;
  std::vector<float> real(static_cast<std::size_t>(howmany) * pts);
  for (int b = 0; b < batch; ++b)
    for (std::int64_t p = 0; p < pts; ++p)
      for (int c = 0; c < ch; ++c) real[(static_cast<std::size_t>(b) * ch + c) * pts + p] = v[(b * pts + p) * ch + c];
  std::vector<std::complex<float>> spec(static_cast<std::size_t>(howmany) * cpts);
  auto* spec_ptr = reinterpret_cast<fftwf_complex*>(spec.data());
  Plan fwd;
  {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fwd.reset(fftwf_plan_many_dft_r2c(dn, c_.grid.data(), howmany, real.data(), nullptr, 1, static_cast<int>(pts), spec_ptr,
                                      nullptr, 1, static_cast<int>(cpts), FFTW_ESTIMATE));
  }
  if (!fwd) throw std::runtime_error("FFTW r2c plan failed");
  fftwf_execute(fwd.get());

  // Channel mixing on the retained modes into a zeroed spectrum.
  std::vector<std::complex<float>> mixed(spec.size());
  const std::int64_t modes = c_.retained_modes();
  std::vector<std::int64_t> cstride(dn, 1);  // strides of the complex grid [grid..., half]
  for (int d = dn - 1; d > 0; --d) cstride[d - 1] = cstride[d] * (d == dn - 1 ? half : c_.grid[d]);
  for (std::int64_t mode = 0; mode < modes; ++mode) {
    std::int64_t rem = mode, pos = 0;
    for (int d = dn - 1; d >= 0; --d) {
      const std::int64_t kd = static_cast<std::int64_t>(freqs_[d].size());
      pos += freqs_[d][rem % kd] * cstride[d];
      rem /= kd;
    }
    for (int b = 0; b < batch; ++b) {
      for (int o = 0; o < ch; ++o) {
        std::complex<float> acc = 0;
        for (int i = 0; i < ch; ++i) {
          const std::size_t wi = (static_cast<std::size_t>(i) * ch + o) * modes + mode;
          acc += spec[(static_cast<std::size_t>(b) * ch + i) * cpts + pos] * std::complex<float>(w.spec_re[wi], w.spec_im[wi]);
        }
        mixed[(static_cast<std::size_t>(b) * ch + o) * cpts + pos] = acc;
      }
    }
  }
  // Inverse as irfftn does it: complex inverse along every axis but the last, then c2r along
  // the last (which drops the imaginary parts at frequency 0 and r/2).
  auto* mixed_ptr = reinterpret_cast<fftwf_complex*>(mixed.data());
  for (int d = 0; d < dn - 1; ++d) {
    fftw_iodim dim{c_.grid[d], static_cast<int>(cstride[d]), static_cast<int>(cstride[d])};
    const std::int64_t prefix = static_cast<std::int64_t>(howmany) * cpts / (cstride[d] * c_.grid[d]);
    fftw_iodim loops[2] = {{static_cast<int>(prefix), static_cast<int>(cstride[d] * c_.grid[d]), static_cast<int>(cstride[d] * c_.grid[d])},
                           {static_cast<int>(cstride[d]), 1, 1}};
    Plan p;
    {
      std::lock_guard<std::mutex> lock(fftw_planner_mutex());
      p.reset(fftwf_plan_guru_dft(1, &dim, 2, loops, mixed_ptr, mixed_ptr, FFTW_BACKWARD, FFTW_ESTIMATE));
    }
    if (!p) throw std::runtime_error("FFTW c2c plan failed");
    fftwf_execute(p.get());
  }
  Plan inv;
  {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    inv.reset(fftwf_plan_many_dft_c2r(1, &r_last, static_cast<int>(howmany * outer), mixed_ptr, nullptr, 1, half,
                                      real.data(), nullptr, 1, r_last, FFTW_ESTIMATE));
  }
  if (!inv) throw std::runtime_error("FFTW c2r plan failed");
  fftwf_execute(inv.get());
  out.resize(v.size());
  const float scale = 1.0f / static_cast<float>(pts);
  for (int b = 0; b < batch; ++b)
    for (std::int64_t p = 0; p < pts; ++p)
      for (int c = 0; c < ch; ++c) out[(b * pts + p) * ch + c] = real[(static_cast<std::size_t>(b) * ch + c) * pts + p] * scale;
}

// y[rows][n] = x[rows][k] W^T + b, plain loops (independent of the backend's Eigen GEMM).
std::vector<float> dense(const Linear& l, const std::vector<float>& x, std::int64_t rows) {
  std::vector<float> y(static_cast<std::size_t>(rows) * l.n);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (int n = 0; n < l.n; ++n) {
      float acc = l.bias.empty() ? 0.0f : l.bias[n];
      for (int k = 0; k < l.k; ++k) acc += x[r * l.k + k] * l.w[static_cast<std::size_t>(n) * l.k + k];
      y[r * l.n + n] = acc;
    }
  }
  return y;
}

std::vector<float> Fno::forward_reference(const std::vector<float>& input, int batch) const {
  check_runnable(input, batch);
  const std::int64_t rows = batch * c_.points();
  std::vector<float> v = dense(lift_.linear, lift_input(input, batch), rows);
  std::vector<float> k;
  for (int t = 0; t < c_.layers; ++t) {
    const Layer& lw = layers_[c_.implicit ? 0 : t];
    spectral_reference(v, batch, lw, k);
    const std::vector<float> pw = dense(lw.pointwise.linear, v, rows);
    const bool act = c_.implicit || t + 1 < c_.layers;
    for (std::size_t i = 0; i < v.size(); ++i) {
      float u = k[i] + pw[i];
      if (act) u = gelu(u);
      v[i] = c_.implicit ? v[i] + u / c_.layers : u;
    }
  }
  std::vector<float> h = dense(proj1_.linear, v, rows);
  for (float& e : h) e = gelu(e);
  std::vector<float> y = dense(proj2_.linear, h, rows);
  const std::size_t per = static_cast<std::size_t>(c_.points()) * c_.out_channels;
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = y[i] * out_std_[i % per] + out_mean_[i % per];
  return y;
}

}  // namespace

std::int64_t FnoConfig::points() const {
  std::int64_t p = 1;
  for (int r : grid) p *= r;
  return p;
}

std::vector<std::vector<int>> FnoConfig::frequencies() const {
  std::vector<std::vector<int>> f;
  for (int d = 0; d < dims; ++d) f.push_back(retained_frequencies(grid[d], modes[d], d + 1 < dims));
  return f;
}

std::int64_t FnoConfig::retained_modes() const {
  std::int64_t m = 1;
  for (int d = 0; d < dims; ++d) m *= (d + 1 < dims ? 2 : 1) * modes[d];
  return m;
}

FnoConfig parse_fno_config(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw_format_error(source, "(top level)", "must be a JSON object");
  static const std::vector<std::string> kKeys{"model_type", "dims", "grid", "in_channels", "out_channels", "width", "layers",
                                              "modes", "projection_width", "activation", "name", "description", "source"};
  for (const auto& [key, value] : j.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      throw_format_error(source, key, fmt::format("unknown key (value {}); known: {}", value.dump(), fmt::join(kKeys, ", ")));
    }
  }
  FnoConfig c;
  if (!j.contains("model_type")) throw_format_error(source, "model_type", "missing");
  const auto& mt = j.at("model_type");
  if (!mt.is_string() || (mt != "fno" && mt != "ifno")) {
    throw_format_error(source, "model_type", fmt::format("value {} must be \"fno\" or \"ifno\"", mt.dump()));
  }
  c.implicit = mt == "ifno";
  c.dims = json_int(j, "dims", source, 1, 3);
  c.grid = json_int_array(j, "grid", source, c.dims, 2, 1 << 16);
  c.modes = json_int_array(j, "modes", source, c.dims, 1, 1 << 15);
  for (int d = 0; d < c.dims; ++d) {
    const bool two_sided = d + 1 < c.dims;
    if (two_sided ? 2 * c.modes[d] > c.grid[d] : c.modes[d] > c.grid[d] / 2 + 1) {
      throw_format_error(source, "modes",
                         fmt::format("value {} does not fit grid {}: axis {} needs {}", j.at("modes").dump(), j.at("grid").dump(), d,
                                     two_sided ? "2 * modes <= points (low and high modes)" : "modes <= points / 2 + 1"));
    }
  }
  c.in_channels = json_int(j, "in_channels", source, 1, 1 << 16);
  c.out_channels = json_int(j, "out_channels", source, 1, 1 << 16);
  c.width = json_int(j, "width", source, 1, 1 << 16);
  c.layers = json_int(j, "layers", source, 1, 10000);
  c.projection_width = j.contains("projection_width") ? json_int(j, "projection_width", source, 1, 1 << 16) : 128;
  if (j.contains("activation") && j.at("activation") != "gelu") {
    throw_format_error(source, "activation", fmt::format("value {} must be \"gelu\"", j.at("activation").dump()));
  }
  for (const char* key : {"name", "description", "source"}) {
    if (j.contains(key) && !j.at(key).is_string()) throw_format_error(source, key, fmt::format("value {} must be a string", j.at(key).dump()));
  }
  if (j.contains("name")) c.name = j.at("name").get<std::string>();
  return c;
}

std::unique_ptr<NeuralOperator> make_fno(const nlohmann::json& config, const std::string& source, const SafetensorsFile* weights) {
  FnoConfig c = parse_fno_config(config, source);
  std::string name = c.name.empty() ? source : c.name;
  return std::make_unique<Fno>(config, std::move(c), std::move(name), weights);
}

}  // namespace mixpe::models
