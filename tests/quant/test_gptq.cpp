// GPTQ: lower layer output error than RTN with the right Hessian, none with a wrong one; errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "models/synthetic.h"
#include "quant/gptq.h"
#include "quant/weights.h"

namespace mixpe::quant {
namespace {

constexpr int kN = 64, kK = 256;

// Correlated activations (each channel mixes its neighbours: x_j = z_j + 0.9 z_{j-1} + 0.5 z_{j-2})
// with four channels 12x larger, rows x K.
std::vector<float> correlated_activations(int rows, std::uint64_t seed, const std::vector<int>& big = {3, 77, 150, 201}) {
  models::Rng rng(seed);
  std::vector<float> x(static_cast<std::size_t>(rows) * kK);
  std::vector<double> z(kK + 2);
  for (int r = 0; r < rows; ++r) {
    for (double& v : z) v = rng.normal();
    for (int j = 0; j < kK; ++j) {
      double v = z[j + 2] + 0.9 * z[j + 1] + 0.5 * z[j];
      for (int b : big)
        if (j == b) v *= 12.0;
      x[static_cast<std::size_t>(r) * kK + j] = static_cast<float>(v);
    }
  }
  return x;
}

// ||X W^T - X Q^T||_F^2 / ||X W^T||_F^2
double output_error(const std::vector<float>& x, int rows, const std::vector<float>& w, const QuantizedWeights& q) {
  const std::vector<double> dq = dequantize_weights_f64(q);
  double err = 0.0, ref = 0.0;
  for (int r = 0; r < rows; ++r) {
    for (int n = 0; n < kN; ++n) {
      double y = 0.0, yq = 0.0;
      for (int j = 0; j < kK; ++j) {
        const double xv = x[static_cast<std::size_t>(r) * kK + j];
        y += xv * w[static_cast<std::size_t>(n) * kK + j];
        yq += xv * dq[static_cast<std::size_t>(n) * kK + j];
      }
      err += (y - yq) * (y - yq);
      ref += y * y;
    }
  }
  return err / ref;
}

class GptqTest : public testing::Test {
 protected:
  const std::vector<float> w_ = models::synthetic_weights(kN, kK, 31);
  const std::vector<float> calib_ = correlated_activations(1024, 1);
  const std::vector<float> eval_ = correlated_activations(512, 2);  // held out, same distribution
  const Eigen::MatrixXd h_ = gptq_hessian(calib_, 1024, kK);
};

TEST_F(GptqTest, ReducesHeldOutOutputErrorVersusRtn) {
  for (const WeightQuantConfig cfg : {WeightQuantConfig{4, 128, false}, WeightQuantConfig{3, 64, false},
                                       WeightQuantConfig{4, 32, true}, WeightQuantConfig{4, -1, true}}) {
    const QuantizedWeights rtn = quantize_weights_rtn(w_, kN, kK, cfg);
    for (bool act_order : {false, true}) {
      const QuantizedWeights q = quantize_weights_gptq(w_, kN, kK, h_, cfg, {0.01, 128, act_order}, "layer");
      ASSERT_NO_THROW(validate_quantized_weights(q, "layer"));
      const double e_rtn = output_error(eval_, 512, w_, rtn), e_gptq = output_error(eval_, 512, w_, q);
      // Measured squared-error ratios 0.42-0.63 (act-order 0.42-0.47); demand at most 0.7.
      EXPECT_LT(e_gptq, 0.7 * e_rtn) << "W" << cfg.bits << " g" << cfg.group_size << " act_order " << act_order
                                     << ": " << e_gptq << " vs RTN " << e_rtn;
    }
  }
}

TEST_F(GptqTest, WrongHessianLosesTheMargin) {
  const WeightQuantConfig cfg{4, 128, false};
  const QuantizedWeights rtn = quantize_weights_rtn(w_, kN, kK, cfg);
  const double e_rtn = output_error(eval_, 512, w_, rtn);
  const double e_right = output_error(eval_, 512, w_, quantize_weights_gptq(w_, kN, kK, h_, cfg, {}, "layer"));
  // Identity Hessian: nothing to compensate, so GPTQ is exactly RTN.
  const QuantizedWeights ident = quantize_weights_gptq(w_, kN, kK, Eigen::MatrixXd::Identity(kK, kK), cfg, {}, "layer");
  EXPECT_EQ(ident.codes, rtn.codes);
  // Unrelated activations: uncorrelated, other large channels.
  std::vector<float> other(static_cast<std::size_t>(1024) * kK);
  models::Rng rng(9);
  for (std::size_t i = 0; i < other.size(); ++i) other[i] = static_cast<float>(rng.normal() * ((i % kK) % 50 == 7 ? 12.0 : 1.0));
  const double e_wrong =
      output_error(eval_, 512, w_, quantize_weights_gptq(w_, kN, kK, gptq_hessian(other, 1024, kK), cfg, {}, "layer"));
  std::printf("W4 g128 held-out squared output error / RTN: right Hessian %.3f, unrelated Hessian %.3f\n",
              e_right / e_rtn, e_wrong / e_rtn);
  EXPECT_LT(e_right, 0.7 * e_rtn);
  EXPECT_GT(e_wrong, 0.9 * e_rtn);
  EXPECT_GT(e_wrong, 1.5 * e_right);
}

TEST_F(GptqTest, DeadInputsAndBlockSizesAndClipSearch) {
  Eigen::MatrixXd h = h_;
  h.row(10).setZero();
  h.col(10).setZero();
  const WeightQuantConfig cfg{4, 64, false, true};
  const QuantizedWeights a = quantize_weights_gptq(w_, kN, kK, h, cfg, {0.01, 128, false}, "layer");
  const QuantizedWeights b = quantize_weights_gptq(w_, kN, kK, h, cfg, {0.01, 48, false}, "layer");
  ASSERT_NO_THROW(validate_quantized_weights(a, "a"));
  for (int row = 0; row < kN; ++row) EXPECT_EQ(a.dequantized(row, 10), 0.0) << "dead input must get zero weight";
  // Block size only changes when updates are applied, not their result (up to rounding).
  const std::vector<double> da = dequantize_weights_f64(a), db = dequantize_weights_f64(b);
  int differ = 0;
  for (std::size_t i = 0; i < da.size(); ++i) differ += da[i] != db[i];
  EXPECT_LT(differ, static_cast<int>(da.size() / 100));
}

TEST_F(GptqTest, RejectsBadInputsNamingTheTensor) {
  const WeightQuantConfig cfg{4, 128, false};
  auto message = [&](const Eigen::MatrixXd& h, std::span<const float> w) {
    try {
      quantize_weights_gptq(w, kN, kK, h, cfg, {}, "layers.3.mlp.up_proj");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Eigen::MatrixXd nan_h = h_;
  nan_h(4, 5) = NAN;
  EXPECT_NE(message(nan_h, w_).find("layers.3.mlp.up_proj: Hessian has NaN"), std::string::npos);
  EXPECT_NE(message(Eigen::MatrixXd::Identity(kK - 1, kK - 1), w_).find("Hessian is 255 x 255"), std::string::npos);
  EXPECT_NE(message(h_, std::span<const float>(w_).first(100)).find("has 100 values"), std::string::npos);
  const std::string m = message(-Eigen::MatrixXd::Identity(kK, kK), w_);
  EXPECT_NE(m.find("layers.3.mlp.up_proj: GPTQ Cholesky"), std::string::npos) << m;
  // Rank-deficient Hessians (fewer rows than inputs) are fine thanks to the dampening.
  const std::vector<float> few = correlated_activations(16, 5);
  EXPECT_NO_THROW(quantize_weights_gptq(w_, kN, kK, gptq_hessian(few, 16, kK), cfg, {}, "x"));
}

}  // namespace
}  // namespace mixpe::quant
