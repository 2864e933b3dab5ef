// GPTQ (Frantar et al., 2022): weight quantization that compensates each column's rounding error
// on the not-yet-quantized columns using the layer's input Hessian.
#pragma once

#include <span>
#include <string>

#include <Eigen/Dense>

#include "quant/weights.h"

namespace mixpe::quant {

struct GptqOptions {
  double damp_percent = 0.01;  // dampening: add damp_percent * mean(diag H) to the diagonal
  int block_size = 128;        // columns per lazy batch update
  bool act_order = false;      // quantize columns in decreasing diag(H) order (static groups)
};

// The layer Hessian 2/N X^T X of N input rows x (row-major, N x K), in double.
Eigen::MatrixXd gptq_hessian(std::span<const float> x, int rows, int k);

// Quantizes the N x K row-major matrix w minimizing ||X W^T - X Q^T|| for the inputs whose
// Hessian is `hessian` (K x K, 2/N X^T X). Produces the same format as quantize_weights_rtn:
// contiguous groups along K in the original column order, FP16 scales, codes within range.
//
// Group parameters come from choose_group_params (cfg.clip_search applies). Without act_order
// each group's parameters are computed when its first column is reached, from the group's current
// (error-compensated) weights. With act_order the columns are visited out of order, so every
// group's parameters are fixed up front from the original weights ("static groups").
// Inputs with H_ii == 0 (dead) get H_ii = 1 and their weights are zeroed before quantizing.
// If the Cholesky factorization fails, damping is retried at 10x, 100x, 1000x; then
// std::runtime_error names the tensor. NaN/Inf in H or w and shape mismatches throw
// std::invalid_argument naming the tensor.
QuantizedWeights quantize_weights_gptq(std::span<const float> w, int n, int k, const Eigen::MatrixXd& hessian,
                                       const WeightQuantConfig& cfg, const GptqOptions& opts,
                                       const std::string& name = "weight");

}  // namespace mixpe::quant
