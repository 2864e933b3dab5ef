// AWQ: scale search on activations with outlier channels, against plain RTN.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/synthetic.h"
#include "quant/awq.h"
#include "quant/weights.h"

namespace mixpe::quant {
namespace {

constexpr int kN = 96, kK = 256;

// Normal activations whose channels 5, 40, 130 and 222 are 25x larger (the same channels for
// every seed, as in a real model), rows x K.
std::vector<float> outlier_activations(int rows, std::uint64_t seed) {
  models::Rng rng(seed);
  std::vector<float> x(static_cast<std::size_t>(rows) * kK);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < kK; ++j) {
      const bool big = j == 5 || j == 40 || j == 130 || j == 222;
      x[static_cast<std::size_t>(r) * kK + j] = static_cast<float>(rng.normal() * (big ? 25.0 : 1.0));
    }
  return x;
}

// ||X W^T - X diag(1/s) Q^T||_F^2 with Q the quantized W diag(s).
double output_error(const std::vector<float>& x, int rows, const std::vector<float>& w, const QuantizedWeights& q,
                    const std::vector<float>& s) {
  double err = 0.0;
  for (int r = 0; r < rows; ++r)
    for (int n = 0; n < kN; ++n) {
      double d = 0.0;
      for (int j = 0; j < kK; ++j) {
        const double xv = x[static_cast<std::size_t>(r) * kK + j];
        d += xv * (w[static_cast<std::size_t>(n) * kK + j] - q.dequantized(n, j) / s[j]);
      }
      err += d * d;
    }
  return err;
}

TEST(Awq, ReducesHeldOutOutputErrorVersusRtnWithOutlierChannels) {
  const std::vector<float> w = models::synthetic_weights(kN, kK, 3);
  const std::vector<float> calib = outlier_activations(512, 1), eval = outlier_activations(256, 2);
  const std::vector<float> ones(kK, 1.0f);
  for (const WeightQuantConfig cfg : {WeightQuantConfig{4, 128, false}, WeightQuantConfig{3, 64, true},
                                       WeightQuantConfig{4, -1, true}}) {
    const AwqResult r = quantize_weights_awq(w, kN, kK, calib, 512, cfg, {}, "layer");
    ASSERT_NO_THROW(validate_quantized_weights(r.weights, "layer"));
    ASSERT_EQ(r.scales.size(), static_cast<std::size_t>(kK));
    EXPECT_GT(r.alpha, 0.0);
    // The outlier channels get the largest scales.
    EXPECT_GT(r.scales[40], 3.0f * r.scales[41]);
    const double e_rtn = output_error(eval, 256, w, quantize_weights_rtn(w, kN, kK, cfg), ones);
    const double e_awq = output_error(eval, 256, w, r.weights, r.scales);
    // Measured squared-error ratios 0.23-0.32; demand at most 0.45.
    EXPECT_LT(e_awq, 0.45 * e_rtn) << "W" << cfg.bits << " g" << cfg.group_size << ": " << e_awq << " vs " << e_rtn;
    // error_plain is the alpha = 0 (RTN) error on the calibration rows.
    const double e_plain_calib = output_error(calib, 512, w, quantize_weights_rtn(w, kN, kK, cfg), ones);
    EXPECT_NEAR(r.error_plain, e_plain_calib, 1e-6 * e_plain_calib);
    EXPECT_LE(r.error, r.error_plain);
  }
}

TEST(Awq, WithoutOutlierChannelsScalesStayNearOne) {
  const std::vector<float> w = models::synthetic_weights(kN, kK, 4);
  std::vector<float> x(static_cast<std::size_t>(512) * kK);
  models::Rng rng(7);
  for (float& v : x) v = static_cast<float>(rng.normal());
  const AwqResult r = quantize_weights_awq(w, kN, kK, x, 512, {4, 128, false}, {}, "layer");
  for (float s : r.scales) {
    EXPECT_GT(s, 0.8f);
    EXPECT_LT(s, 1.25f);
  }
}

TEST(Awq, RejectsBadInputs) {
  const std::vector<float> w = models::synthetic_weights(4, 64, 1);
  const std::vector<float> x(10 * 64, 1.0f);
  EXPECT_THROW(quantize_weights_awq(w, 4, 64, std::span<const float>(x).first(100), 10, {4, 32, false}, {}, "l"),
               std::invalid_argument);
  EXPECT_THROW(quantize_weights_awq(w, 4, 64, x, 10, {4, 48, false}, {}, "l"), std::invalid_argument);
  EXPECT_THROW(quantize_weights_awq(w, 4, 64, x, 10, {4, 32, false}, {0}, "l"), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::quant
