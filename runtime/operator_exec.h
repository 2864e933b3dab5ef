// The functional executor for neural operators: every weight GEMM of an operator's GEMM-form
// forward through one design's GemmEngine, and relative L2 error over a dataset.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "models/operators/operator.h"
#include "models/pde/dataset.h"
#include "runtime/engine.h"
#include "runtime/eval.h"
#include "runtime/executor.h"

namespace mixpe::runtime {

// Which GEMM operands run quantized (the rest run in FP32): all of them by default.
using OperandFilter = std::function<bool(const std::string& name, models::GemmRole role)>;

class OperatorExecutor {
 public:
  // `dft_bits` > 0: the constant DFT matrices get this code width (8 by default: at the design's
  // 4 bits they dominate the error, docs/neural-operators.md); 0: the design's.
  OperatorExecutor(const models::NeuralOperator& op, GemmEngine engine, OperandFilter quantized = nullptr, int dft_bits = kDftBits);

  static constexpr int kDftBits = 8;

  // Y = X W^T for one of the operator's operands; operands built during a forward (DeepONet's
  // trunk output as the inner product's "weight") are quantized on the fly.
  models::LinearBackend backend() const;
  std::vector<float> forward(const std::vector<float>& x, int batch) const;
  const GemmEngine& engine() const { return engine_; }
  GemmEngine& engine() { return engine_; }

 private:
  const models::NeuralOperator& op_;
  GemmEngine engine_;
  OperandFilter filter_;
  std::map<std::string, std::shared_ptr<GemmOperand>> operands_;  // quantized ones, by name
  std::map<std::string, models::GemmRole> roles_;
};

struct OperatorEvalResult {
  int samples = 0;
  // Relative L2 error per sample, ||y - ref|| / ||ref||: against the dataset's ground truth, and
  // against the float model's prediction.
  std::vector<double> vs_truth, vs_float, float_vs_truth;
  double mean(const std::vector<double>& v) const;
  double worst(const std::vector<double>& v) const;
  double seconds = 0.0;
};

// Runs the test split in batches (`max_samples` > 0 limits it). Throws std::invalid_argument when
// the dataset's sample shapes are not the model's (naming the file's shapes and the model's).
OperatorEvalResult evaluate_operator(const models::NeuralOperator& op, const OperatorExecutor& quantized,
                                     const OperatorExecutor& reference, const models::OperatorDataset& data,
                                     const std::string& data_source, int batch = 8, int max_samples = 0,
                                     const EvalProgress& progress = nullptr);

nlohmann::json operator_eval_json(const OperatorEvalResult& r);

// The operator's forward on `batch` samples as a workload for the simulator (unit: samples), its
// DFT GEMMs with `dft_bits`-bit weights (0: the design's) as the functional executor runs them.
Workload operator_workload(const models::NeuralOperator& op, int batch, int dft_bits = OperatorExecutor::kDftBits);

}  // namespace mixpe::runtime
