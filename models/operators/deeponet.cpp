// DeepONet: config parsing, weights, the plain-loop reference forward, the GEMM forward (branch,
// trunk once per call, inner product through the backend) and its workload.
#include "models/operators/deeponet.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <map>
#include <numbers>
#include <optional>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "models/io/safetensors.h"
#include "models/operators/config_reader.h"

namespace mixpe::models {
namespace {

using nlohmann::json;


struct DeeponetConfig {
  std::string name;
  int resolution = 0, latent = 0, branch_width = 0, branch_layers = 0, trunk_width = 0, trunk_layers = 0;
  std::string activation, trunk_features, query_grid;
  bool multionet = false;

  int features() const { return trunk_features == "periodic" ? 2 : 1; }
  int branch_out(int i) const { return i + 1 == branch_layers ? latent : branch_width; }
  int branch_in(int i) const { return i == 0 ? resolution : branch_width; }
  int trunk_out(int i) const { return i + 1 == trunk_layers ? latent : trunk_width; }
  int trunk_in(int i) const { return i == 0 ? features() : trunk_width; }
};

DeeponetConfig parse_config(const json& j, const std::string& source) {
  ConfigReader r(j, source);
  DeeponetConfig c;
  if (r.choice("model_type", {"deeponet"}, std::nullopt) != "deeponet") r.fail("model_type", "must be deeponet");
  c.name = r.choice("name", {}, std::string("deeponet"));
  r.choice("description", {}, std::string());
  c.resolution = r.integer("resolution", 2, 1 << 20);
  c.latent = r.integer("latent", 1, 4096);
  c.branch_width = r.integer("branch_width", 1, 4096);
  c.branch_layers = r.integer("branch_layers", 1, 32);
  c.trunk_width = r.integer("trunk_width", 1, 4096);
  c.trunk_layers = r.integer("trunk_layers", 1, 32);
  c.activation = r.choice("activation", {"gelu", "tanh"}, std::string("gelu"));
  c.trunk_features = r.choice("trunk_features", {"periodic", "x"}, std::string("periodic"));
  c.query_grid = r.choice("query_grid", {"periodic", "closed"}, std::string("periodic"));
  c.multionet = r.boolean("multionet", false);
  r.reject_unknown();
  if (c.multionet && (c.branch_layers != c.trunk_layers || c.branch_width != c.latent || c.trunk_width != c.latent))
    r.fail("multionet", fmt::format("needs branch_layers == trunk_layers and branch_width == trunk_width == latent "
                                    "(have {} and {} layers, widths {}, {}, latent {})",
                                    c.branch_layers, c.trunk_layers, c.branch_width, c.trunk_width, c.latent));
  return c;
}

std::vector<std::pair<std::string, std::vector<std::int64_t>>> weight_shapes(const DeeponetConfig& c) {
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> s;
  s.push_back({"input_norm", {2}});
  for (int i = 0; i < c.branch_layers; ++i) {
    s.push_back({fmt::format("branch.{}.weight", i), {c.branch_out(i), c.branch_in(i)}});
    s.push_back({fmt::format("branch.{}.bias", i), {c.branch_out(i)}});
  }
  for (int i = 0; i < c.trunk_layers; ++i) {
    s.push_back({fmt::format("trunk.{}.weight", i), {c.trunk_out(i), c.trunk_in(i)}});
    s.push_back({fmt::format("trunk.{}.bias", i), {c.trunk_out(i)}});
  }
  s.push_back({"b0", {1}});
  s.push_back({"output_norm", {2}});
  return s;
}


float activate(float v, bool gelu) {
  return gelu ? static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)))) : std::tanh(v);
}

OperatorLinear dense(const std::string& name, std::vector<float> w, std::vector<float> b, int n, int k, GemmRole role) {
  OperatorLinear o;
  o.role = role;
  o.linear.name = name;
  o.linear.n = n;
  o.linear.k = k;
  o.linear.w = std::move(w);
  o.linear.bias = std::move(b);
  return o;
}

std::vector<float> dense_direct(const Linear& l, const std::vector<float>& x, int m) {
  std::vector<float> y(static_cast<std::size_t>(m) * l.n);
  for (int r = 0; r < m; ++r)
    for (int o = 0; o < l.n; ++o) {
      double acc = l.bias.empty() ? 0.0 : l.bias[o];
      for (int i = 0; i < l.k; ++i) acc += static_cast<double>(x[static_cast<std::size_t>(r) * l.k + i]) * l.w[static_cast<std::size_t>(o) * l.k + i];
      y[static_cast<std::size_t>(r) * l.n + o] = static_cast<float>(acc);
    }
  return y;
}

class Deeponet final : public NeuralOperator {
 public:
  Deeponet(const json& config, const std::string& source, const SafetensorsFile* weights)
      : json_(config), c_(parse_config(config, source)) {
    std::map<std::string, std::vector<float>> t;
    for (const auto& [name, shape] : weight_shapes(c_)) t[name] = read_tensor(weights, name, shape);
    if (!weights) t["input_norm"] = t["output_norm"] = {0.0f, 1.0f};
    in_mean_ = t["input_norm"][0];
    in_std_ = t["input_norm"][1];
    out_mean_ = t["output_norm"][0];
    out_std_ = t["output_norm"][1];
    b0_ = t["b0"][0];
    if (weights && !(in_std_ > 0.0f && std::isfinite(in_std_)))
      throw_format_error(weights->source(), "input_norm", fmt::format("std {} (must be positive)", in_std_));
    for (int i = 0; i < c_.branch_layers; ++i) {
      const std::string n = fmt::format("branch.{}", i);
      branch_.push_back(dense(n, t[n + ".weight"], t[n + ".bias"], c_.branch_out(i), c_.branch_in(i), GemmRole::kBranch));
    }
    for (int i = 0; i < c_.trunk_layers; ++i) {
      const std::string n = fmt::format("trunk.{}", i);
      trunk_.push_back(dense(n, t[n + ".weight"], t[n + ".bias"], c_.trunk_out(i), c_.trunk_in(i), GemmRole::kTrunk));
    }
    // The inner-product operands as the float trunk computes them (forward() rebuilds them).
    const std::vector<std::vector<float>> outs = trunk_outputs(linear_float);
    for (std::size_t d = 0; d < outs.size(); ++d) inner_.push_back(inner_operand(static_cast<int>(d), outs[d]));
  }

  const json& config() const override { return json_; }
  const std::string& name() const override { return c_.name; }
  std::vector<std::int64_t> input_shape() const override { return {c_.resolution, 1}; }
  std::vector<std::int64_t> output_shape() const override { return {c_.resolution, 1}; }

  std::vector<const OperatorLinear*> linears() const override {
    std::vector<const OperatorLinear*> out;
    for (const auto& l : trunk_) out.push_back(&l);
    for (const auto& l : branch_) out.push_back(&l);
    for (const auto& l : inner_) out.push_back(&l);
    return out;
  }

  std::vector<float> forward_reference(const std::vector<float>& input, int batch) const override {
    check_input(input, batch);
    const LinearBackend direct = [](const Linear& l, const std::vector<float>& x, int m) { return dense_direct(l, x, m); };
    return run(input, batch, direct);
  }

  std::vector<float> forward(const std::vector<float>& input, int batch, const LinearBackend& backend) const override {
    check_input(input, batch);
    return run(input, batch, backend);
  }

  std::vector<Op> workload(int batch) const override {
    if (batch < 1) throw std::invalid_argument(fmt::format("{}: batch {} (must be >= 1)", c_.name, batch));
    std::vector<Op> ops;
    const std::int64_t r = c_.resolution, b = batch;
    auto gemm = [&](const Linear& l, int layer, std::int64_t m, const std::string& note) {
      Op op;
      op.name = l.name;
      op.layer = layer;
      op.m = m;
      op.n = l.n;
      op.k = l.k;
      op.note = note;
      ops.push_back(op);
    };
    auto vec = [&](const std::string& name, int layer, OpKind kind, std::int64_t elements, std::int64_t width, const std::string& note) {
      Op op;
      op.name = name;
      op.layer = layer;
      op.kind = kind;
      op.elements = elements;
      op.width = width;
      op.note = note;
      ops.push_back(op);
    };
    vec("trunk.features", -1, OpKind::kElementwise, r * c_.features(), c_.features(),
        c_.trunk_features == "periodic" ? "sin/cos(2 pi x) of the query grid" : "query coordinates");
    for (int i = 0; i < c_.trunk_layers; ++i) {
      gemm(trunk_[i].linear, i, r, "trunk layer, M = query points, computed once per forward (sample-independent)");
      vec(fmt::format("trunk.{}.act", i), i, OpKind::kActivation, r * c_.trunk_out(i), c_.trunk_out(i), c_.activation);
    }
    vec("branch.normalize", -1, OpKind::kElementwise, b * r, r, "(u0 - mean) / std");
    for (int i = 0; i < c_.branch_layers; ++i) {
      gemm(branch_[i].linear, i, b, "branch layer, M = batch");
      if (i + 1 < c_.branch_layers)
        vec(fmt::format("branch.{}.act", i), i, OpKind::kActivation, b * c_.branch_out(i), c_.branch_out(i), c_.activation);
    }
    for (const auto& in : inner_)
      gemm(in.linear, -1, b, "activation x activation (branch x trunk output), the trunk output as the weight operand");
    vec("output", -1, OpKind::kElementwise, b * r, r,
        c_.multionet ? "average of the inner products, + b0, denormalize" : "+ b0, denormalize");
    return ops;
  }

 private:
  void check_input(const std::vector<float>& input, int batch) const {
    if (batch < 1 || input.size() != static_cast<std::size_t>(batch) * c_.resolution)
      throw std::invalid_argument(fmt::format("{}: input has {} values for batch {}, expected {} x {} x 1", c_.name,
                                              input.size(), batch, batch, c_.resolution));
  }

  void act(std::vector<float>& v) const {
    const bool gelu = c_.activation == "gelu";
    for (float& x : v) x = activate(x, gelu);
  }

  std::vector<float> trunk_features() const {
    std::vector<float> f;
    const int r = c_.resolution;
    for (int i = 0; i < r; ++i) {
      const double x = c_.query_grid == "periodic" ? static_cast<double>(i) / r : static_cast<double>(i) / (r - 1);
      if (c_.trunk_features == "periodic") {
        f.push_back(static_cast<float>(std::sin(2.0 * std::numbers::pi * x)));
        f.push_back(static_cast<float>(std::cos(2.0 * std::numbers::pi * x)));
      } else {
        f.push_back(static_cast<float>(x));
      }
    }
    return f;
  }

  // Trunk outputs [R][latent] that enter inner products: the last layer's, or every layer's (MultiONet).
  std::vector<std::vector<float>> trunk_outputs(const LinearBackend& backend) const {
    std::vector<std::vector<float>> outs;
    std::vector<float> t = trunk_features();
    for (const auto& l : trunk_) {
      t = backend(l.linear, t, c_.resolution);
      act(t);
      if (c_.multionet) outs.push_back(t);
    }
    if (!c_.multionet) outs.push_back(t);
    return outs;
  }

  OperatorLinear inner_operand(int depth, std::vector<float> trunk_out) const {
    const std::string n = c_.multionet ? fmt::format("inner.{}", depth) : std::string("inner");
    return dense(n, std::move(trunk_out), {}, c_.resolution, c_.latent, GemmRole::kTrunk);
  }

  std::vector<float> run(const std::vector<float>& input, int batch, const LinearBackend& backend) const {
    const std::vector<std::vector<float>> touts = trunk_outputs(backend);
    std::vector<float> x(input.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = (input[i] - in_mean_) / in_std_;
    std::vector<std::vector<float>> bouts;
    for (int i = 0; i < c_.branch_layers; ++i) {
      x = backend(branch_[i].linear, x, batch);
      if (i + 1 < c_.branch_layers) act(x);
      if (c_.multionet) bouts.push_back(x);
    }
    if (!c_.multionet) bouts.push_back(x);
    std::vector<float> sum(static_cast<std::size_t>(batch) * c_.resolution, 0.0f);
    for (std::size_t d = 0; d < touts.size(); ++d) {
      const OperatorLinear op = inner_operand(static_cast<int>(d), touts[d]);
      const std::vector<float> y = backend(op.linear, bouts[d], batch);
      for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += y[i];
    }
    const float inv = 1.0f / static_cast<float>(touts.size());
    for (float& v : sum) v = (v * inv + b0_) * out_std_ + out_mean_;
    return sum;
  }

  json json_;
  DeeponetConfig c_;
  float in_mean_ = 0, in_std_ = 1, out_mean_ = 0, out_std_ = 1, b0_ = 0;
  std::vector<OperatorLinear> branch_, trunk_, inner_;
};

}  // namespace

std::vector<std::pair<std::string, std::vector<std::int64_t>>> deeponet_weight_shapes(const nlohmann::json& config,
                                                                                      const std::string& source) {
  return weight_shapes(parse_config(config, source));
}

std::unique_ptr<NeuralOperator> make_deeponet(const nlohmann::json& config, const std::string& source,
                                              const SafetensorsFile* weights) {
  return std::make_unique<Deeponet>(config, source, weights);
}

}  // namespace mixpe::models
