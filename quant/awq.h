// AWQ (Lin et al., 2023): activation-aware per-input-channel weight scaling before quantization.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "quant/weights.h"

namespace mixpe::quant {

struct AwqOptions {
  int grid = 20;  // alpha in {0, 1/grid, ..., 1}
};

// What AWQ needs to know about a layer's inputs X (rows x K): the Gram matrix X^T X (so the
// output error of any weight change D is trace(D X^T X D^T)) and the mean |x_j| per channel.
struct AwqInputStats {
  Eigen::MatrixXd gram;      // K x K, sum over rows of x x^T
  Eigen::VectorXd abs_sum;   // K, sum over rows of |x_j|
  long long rows = 0;

  explicit AwqInputStats(int k = 0) : gram(Eigen::MatrixXd::Zero(k, k)), abs_sum(Eigen::VectorXd::Zero(k)) {}
  // Adds rows x K row-major activations.
  void add(std::span<const float> x, int rows);
};

// One of the layers that share an input (q/k/v, or gate/up): N x K row-major float weights.
struct AwqLayer {
  std::span<const float> w;
  int n = 0;
  std::string name;
};

struct AwqSearchResult {
  std::vector<float> scales;  // s_j, K values; the layers' columns are multiplied by s, the input divided by s
  double alpha = 0.0;
  double error = 0.0;         // sum over layers of ||X W^T - X diag(1/s) Q(W diag(s))^T||_F^2 at the best alpha
  double error_plain = 0.0;   // the same at alpha = 0 (s = 1: plain quantization with cfg)
};

// Grid search over alpha of s = mean|x|^alpha / sqrt(max * min) (means floored at 1e-6 of the
// largest), minimizing the summed output error of every layer (which share the scales). The
// quantizer is quantize_weights_rtn with cfg (cfg.clip_search applies). Alpha = 0 is always a
// candidate, so the result is never worse than plain quantization on these activations.
AwqSearchResult awq_search_scales(std::span<const AwqLayer> layers, int k, const AwqInputStats& stats,
                                  const WeightQuantConfig& cfg, const AwqOptions& opts);

// W diag(s), N x K row-major, in float (the weights AWQ quantizes).
std::vector<float> awq_scale_columns(std::span<const float> w, int n, int k, std::span<const float> scales);

struct AwqResult {
  std::vector<float> scales;
  QuantizedWeights weights;  // quantized W diag(s): fold 1/s into the op producing this layer's input
  double alpha = 0.0;
  double error = 0.0;
  double error_plain = 0.0;
};

// Single layer with its calibration activations x (rows x K row-major).
AwqResult quantize_weights_awq(std::span<const float> w, int n, int k, std::span<const float> x, int rows,
                               const WeightQuantConfig& cfg, const AwqOptions& opts, const std::string& name = "weight");

}  // namespace mixpe::quant
