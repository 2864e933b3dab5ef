// Neural operators on a design's numerics, and their error over a dataset.
#include "runtime/operator_exec.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mixpe::runtime {
namespace {

double rel_l2(const float* y, const float* ref, std::size_t n) {
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(y[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return den > 0.0 ? std::sqrt(num / den) : std::sqrt(num);
}

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string out;
  for (std::int64_t d : s) out += (out.empty() ? "" : "x") + std::to_string(d);
  return out;
}

}  // namespace

OperatorExecutor::OperatorExecutor(const models::NeuralOperator& op, GemmEngine engine, OperandFilter quantized, int dft_bits)
    : op_(op), engine_(std::move(engine)), filter_(std::move(quantized)) {
  for (const models::OperatorLinear* ol : op_.linears()) {
    roles_[ol->linear.name] = ol->role;
    if (engine_.path() == PePath::kFloat || (filter_ && !filter_(ol->linear.name, ol->role))) continue;
    const int bits = ol->role == models::GemmRole::kDft && engine_.path() != PePath::kInt8 ? dft_bits : 0;
    operands_[ol->linear.name] = engine_.quantize(ol->linear.w, ol->linear.n, ol->linear.k, ol->linear.name, bits);
  }
}

models::LinearBackend OperatorExecutor::backend() const {
  return [this](const models::Linear& layer, const std::vector<float>& x, int m) {
    std::vector<float> y;
    if (const auto it = operands_.find(layer.name); it != operands_.end()) {
      y = engine_.run(*it->second, x, m);
    } else if (engine_.path() != PePath::kFloat && !roles_.contains(layer.name) &&
               (!filter_ || filter_(layer.name, models::GemmRole::kTrunk))) {
      // An operand made during the forward (e.g. DeepONet's trunk output): quantized like any weight.
      y = engine_.run(*engine_.quantize(layer.w, layer.n, layer.k, layer.name), x, m);
    } else {
      return models::linear_float(layer, x, m);
    }
    if (!layer.bias.empty()) {
      for (int r = 0; r < m; ++r)
        for (int c = 0; c < layer.n; ++c) y[static_cast<std::size_t>(r) * layer.n + c] += layer.bias[c];
    }
    return y;
  };
}

std::vector<float> OperatorExecutor::forward(const std::vector<float>& x, int batch) const {
  return op_.forward(x, batch, backend());
}

double OperatorEvalResult::mean(const std::vector<double>& v) const {
  double s = 0.0;
  for (double e : v) s += e;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

double OperatorEvalResult::worst(const std::vector<double>& v) const { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }

OperatorEvalResult evaluate_operator(const models::NeuralOperator& op, const OperatorExecutor& quantized,
                                     const OperatorExecutor& reference, const models::OperatorDataset& data,
                                     const std::string& data_source, int batch, int max_samples, const EvalProgress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  if (data.sample_shape_x != op.input_shape() || data.sample_shape_y != op.output_shape()) {
    throw std::invalid_argument(fmt::format("{}: samples are {} -> {} but model {} takes {} -> {}", data_source,
                                            shape_text(data.sample_shape_x), shape_text(data.sample_shape_y), op.name(),
                                            shape_text(op.input_shape()), shape_text(op.output_shape())));
  }
  if (batch <= 0) throw std::invalid_argument(fmt::format("--batch = {} must be positive", batch));
  std::size_t in_size = 1, out_size = 1;
  for (std::int64_t d : data.sample_shape_x) in_size *= static_cast<std::size_t>(d);
  for (std::int64_t d : data.sample_shape_y) out_size *= static_cast<std::size_t>(d);
  const int n = max_samples > 0 ? std::min(max_samples, data.n_test) : data.n_test;
  if (n <= 0) throw std::invalid_argument(fmt::format("{}: the test split is empty", data_source));
  OperatorEvalResult r;
  r.samples = n;
  for (int s = 0; s < n; s += batch) {
    const int b = std::min(batch, n - s);
    const std::vector<float> x(data.test_x.begin() + static_cast<std::ptrdiff_t>(s * in_size),
                               data.test_x.begin() + static_cast<std::ptrdiff_t>((s + b) * in_size));
    const std::vector<float> yq = quantized.forward(x, b), yf = reference.forward(x, b);
    for (int i = 0; i < b; ++i) {
      const float* truth = data.test_y.data() + static_cast<std::size_t>(s + i) * out_size;
      const float* q = yq.data() + static_cast<std::size_t>(i) * out_size;
      const float* f = yf.data() + static_cast<std::size_t>(i) * out_size;
      r.vs_truth.push_back(rel_l2(q, truth, out_size));
      r.vs_float.push_back(rel_l2(q, f, out_size));
      r.float_vs_truth.push_back(rel_l2(f, truth, out_size));
    }
    if (progress) progress(s + b, n);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

nlohmann::json operator_eval_json(const OperatorEvalResult& r) {
  auto stat = [&](const std::vector<double>& v) { return nlohmann::json{{"mean", r.mean(v)}, {"worst", r.worst(v)}, {"per_sample", v}}; };
  return {{"samples", r.samples}, {"rel_l2_vs_truth", stat(r.vs_truth)}, {"rel_l2_vs_float", stat(r.vs_float)},
          {"float_rel_l2_vs_truth", stat(r.float_vs_truth)}, {"seconds", r.seconds}};
}

Workload operator_workload(const models::NeuralOperator& op, int batch, int dft_bits) {
  if (batch <= 0) throw std::invalid_argument(fmt::format("--batch = {} must be positive", batch));
  Workload w;
  w.model = op.name();
  w.unit = "sample";
  w.units = batch;
  w.spec.batch = batch;
  w.spec.seq = 1;
  w.ops = op.workload(batch);
  // DFT ops are named "<prefix>.<dft linear>" after the constant operand they multiply by.
  std::set<std::string> dft;
  for (const models::OperatorLinear* ol : op.linears())
    if (ol->role == models::GemmRole::kDft) dft.insert(ol->linear.name);
  for (models::Op& o : w.ops) {
    const std::string last = o.name.substr(o.name.rfind('.') + 1);
    if (o.is_gemm() && (dft.contains(o.name) || dft.contains(last))) o.weight_bits = dft_bits;
  }
  w.description = fmt::format("forward, batch {}, samples {} -> {}", batch, shape_text(op.input_shape()), shape_text(op.output_shape()));
  w.activation = models::ActivationKind::kGelu;  // every operator family here uses GELU
  return w;
}

}  // namespace mixpe::runtime
