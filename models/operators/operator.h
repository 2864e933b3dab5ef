// The interface every neural-operator family (FNO, IFNO, MgNO, DeepONet) implements: a float
// forward pass whose every weight GEMM goes through a LinearBackend, and the same forward as the
// op graph the accelerator runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "models/llm/llm.h"       // Linear, LinearBackend
#include "models/llm/workload.h"  // Op

namespace mixpe::models {

// What a weight GEMM operand is, so a quantization policy can treat each kind on its own.
enum class GemmRole {
  kLift,       // lifting / input layer (pointwise)
  kProject,    // projection / output layer (pointwise)
  kPointwise,  // the 1x1 linear path W v of a Fourier layer, MLP layers
  kSpectral,   // per-mode complex channel mixing (real 2x2 block form)
  kDft,        // constant truncated DFT / inverse DFT matrix
  kConv,       // convolution weights as an im2col GEMM (MgNO)
  kBranch,     // DeepONet branch MLP
  kTrunk,      // DeepONet trunk MLP
};
const char* to_string(GemmRole r);

// A weight GEMM operand with its role. `linear.name` is unique within the model.
struct OperatorLinear {
  Linear linear;
  GemmRole role = GemmRole::kPointwise;
};

class NeuralOperator {
 public:
  virtual ~NeuralOperator() = default;

  // The config this model was built from (config.json of its directory, or a preset).
  virtual const nlohmann::json& config() const = 0;
  virtual const std::string& name() const = 0;
  // Shape of one input sample and one output sample, channels last (e.g. {64, 64, 1}).
  virtual std::vector<std::int64_t> input_shape() const = 0;
  virtual std::vector<std::int64_t> output_shape() const = 0;

  // Every weight GEMM operand the GEMM-form forward uses, constant DFT matrices included.
  virtual std::vector<const OperatorLinear*> linears() const = 0;

  // Float reference forward on `batch` samples (FFTs through FFTW, convolutions direct):
  // the accuracy yardstick and the check on the GEMM form.
  virtual std::vector<float> forward_reference(const std::vector<float>& input, int batch) const = 0;
  // The forward as the accelerator runs it: every weight GEMM through `backend` (called with
  // one of linears()'s Linear objects), everything else in FP32.
  virtual std::vector<float> forward(const std::vector<float>& input, int batch, const LinearBackend& backend) const = 0;

  // The same forward as shapes: GEMM ops (in the order forward() calls the backend; an op with
  // count c stands for c consecutive backend calls of the same shape) and vector ops.
  virtual std::vector<Op> workload(int batch) const = 0;
};

// Builds an operator from a model directory (config.json + model.safetensors), a config.json
// file alone (shapes only, for cost estimates: see the builders below), or a preset name in
// configs/operators/. Throws std::runtime_error / FormatError naming the file, key or tensor.
std::unique_ptr<NeuralOperator> load_operator(const std::string& dir_or_config);

// The families' builders, listed in load_operator's one table. `weights` null: shapes only.
// Shapes-only FNO/IFNO models leave the learned Linear::w (and bias) empty, n and k set, and throw
// on forward: zero-filled spectral blocks of a 64^3 FNO-3D would take ~1.7 GB. Their constant DFT
// matrices are filled.
class SafetensorsFile;
std::unique_ptr<NeuralOperator> make_fno(const nlohmann::json& config, const std::string& source,
                                         const SafetensorsFile* weights);  // "fno" and "ifno"
std::unique_ptr<NeuralOperator> make_mgno(const nlohmann::json& config, const std::string& source,
                                          const SafetensorsFile* weights);
std::unique_ptr<NeuralOperator> make_deeponet(const nlohmann::json& config, const std::string& source,
                                              const SafetensorsFile* weights);

// True when `config.json` holds a neural operator ("model_type" fno, ifno, mgno, deeponet).
bool is_operator_config(const nlohmann::json& config);

}  // namespace mixpe::models
