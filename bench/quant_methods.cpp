// Prints the weight quantizer comparison tables of docs/quantization-methods.md: SQNR of RTN
// variants vs ggml's Q4_0/Q8_0 rule, and layer output error of RTN / GPTQ / AWQ.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "models/io/ggml_quants.h"
#include "models/synthetic.h"
#include "quant/awq.h"
#include "quant/gptq.h"
#include "quant/weights.h"

namespace {

using namespace mixpe;

double sqnr_db(const std::vector<float>& w, const std::vector<double>& deq) {
  double sig = 0.0, err = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    sig += static_cast<double>(w[i]) * w[i];
    err += (deq[i] - w[i]) * (deq[i] - w[i]);
  }
  return 10.0 * std::log10(sig / err);
}

// The symmetric rule before full-range codes: s = max|w| / (2^(b-1) - 1), rounded up to FP16.
std::vector<double> old_symmetric(const std::vector<float>& w, int n, int k, int bits, int g) {
  std::vector<double> out(w.size());
  const int qmax = (1 << (bits - 1)) - 1;
  for (int row = 0; row < n; ++row) {
    for (int c0 = 0; c0 < k; c0 += g) {
      double amax = 0.0;
      for (int j = c0; j < c0 + g; ++j) amax = std::max(amax, std::fabs(static_cast<double>(w[row * k + j])));
      quant::Half s = quant::Half::from_double(amax / qmax);
      if (s.to_double() < amax / qmax) s = quant::Half::from_bits(static_cast<std::uint16_t>(s.bits() + 1));
      for (int j = c0; j < c0 + g; ++j) {
        const double q = std::clamp(std::nearbyint(w[row * k + j] / s.to_double()), -qmax - 1.0, 1.0 * qmax);
        out[row * k + j] = q * s.to_double();
      }
    }
  }
  return out;
}

std::vector<double> rtn(const std::vector<float>& w, int n, int k, quant::WeightQuantConfig cfg) {
  return quant::dequantize_weights_f64(quant::quantize_weights_rtn(w, n, k, cfg));
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

void sqnr_table(int n, int k) {
  const std::vector<float> w = models::synthetic_weights(n, k, 2024);
  std::printf("## Weight SQNR (dB), synthetic_weights(%d, %d, seed 2024): N(0, 1/K) with 0.1%% outliers\n\n", n, k);
  std::printf("| bits | group | asym RTN | asym clip search | sym old max/(2^(b-1)-1) | sym full range | sym clip search |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int bits : {2, 3, 4, 8}) {
    for (int g : {32, 64, 128, -1}) {
      const int ge = g == -1 ? k : g;
      std::printf("| W%d | %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", bits, g == -1 ? "per-channel" : std::to_string(g).c_str(),
                  sqnr_db(w, rtn(w, n, k, {bits, g, false})), sqnr_db(w, rtn(w, n, k, {bits, g, false, true})),
                  sqnr_db(w, old_symmetric(w, n, k, bits, ge)), sqnr_db(w, rtn(w, n, k, {bits, g, true})),
                  sqnr_db(w, rtn(w, n, k, {bits, g, true, true})));
    }
  }
  std::printf("\n| format | ggml reference rule (models/io/ggml_quants) | ours, W sym g32 full range | ours, + clip search |\n");
  std::printf("|---|---|---|---|\n");
  std::printf("| Q4_0 (W4 g32 sym) | %.3f | %.3f | %.3f |\n",
              sqnr_db(w, to_double(models::dequantize_q4_0(models::quantize_q4_0(w)))),
              sqnr_db(w, rtn(w, n, k, {4, 32, true})), sqnr_db(w, rtn(w, n, k, {4, 32, true, true})));
  std::printf("| Q8_0 (W8 g32 sym) | %.3f | %.3f | %.3f |\n\n",
              sqnr_db(w, to_double(models::dequantize_q8_0(models::quantize_q8_0(w)))),
              sqnr_db(w, rtn(w, n, k, {8, 32, true})), sqnr_db(w, rtn(w, n, k, {8, 32, true, true})));
}

// Relative output error ||X W^T - X Q^T|| / ||X W^T|| on held-out rows.
double output_error(const std::vector<float>& x, int rows, int k, const std::vector<float>& w, int n,
                    const std::vector<double>& wq_eff) {
  double err = 0.0, ref = 0.0;
  for (int r = 0; r < rows; ++r)
    for (int o = 0; o < n; ++o) {
      double y = 0.0, yq = 0.0;
      for (int j = 0; j < k; ++j) {
        const double xv = x[static_cast<std::size_t>(r) * k + j];
        y += xv * w[static_cast<std::size_t>(o) * k + j];
        yq += xv * wq_eff[static_cast<std::size_t>(o) * k + j];
      }
      err += (y - yq) * (y - yq);
      ref += y * y;
    }
  return std::sqrt(err / ref);
}

void layer_table(int n, int k) {
  const int calib_rows = 2048, eval_rows = 512;
  const std::vector<float> w = models::synthetic_weights(n, k, 7);
  // One draw so calibration and evaluation rows share the outlier channels.
  const std::vector<float> x = models::synthetic_activations(calib_rows + eval_rows, k, 8);
  const std::vector<float> calib(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(calib_rows) * k);
  const std::vector<float> eval(x.begin() + static_cast<std::ptrdiff_t>(calib_rows) * k, x.end());
  const Eigen::MatrixXd h = quant::gptq_hessian(calib, calib_rows, k);
  std::printf("## Layer output error ||XW^T - XQ^T|| / ||XW^T||, W = synthetic_weights(%d, %d), X = synthetic_activations "
              "(1%% channels x20), %d calibration rows, %d held-out rows\n\n", n, k, calib_rows, eval_rows);
  std::printf("| config | RTN | RTN + clip | GPTQ | GPTQ act-order | AWQ | AWQ alpha |\n|---|---|---|---|---|---|---|\n");
  for (const quant::WeightQuantConfig cfg : {quant::WeightQuantConfig{4, 128, false}, quant::WeightQuantConfig{3, 128, false},
                                              quant::WeightQuantConfig{4, 32, true}, quant::WeightQuantConfig{2, 64, false}}) {
    quant::WeightQuantConfig clip = cfg;
    clip.clip_search = true;
    const auto gptq = [&](bool act_order) {
      return quant::dequantize_weights_f64(quant::quantize_weights_gptq(w, n, k, h, cfg, {0.01, 128, act_order}, "layer"));
    };
    const quant::AwqResult awq = quant::quantize_weights_awq(w, n, k, calib, calib_rows, cfg, {}, "layer");
    std::vector<double> awq_eff = quant::dequantize_weights_f64(awq.weights);
    for (int o = 0; o < n; ++o)
      for (int j = 0; j < k; ++j) awq_eff[static_cast<std::size_t>(o) * k + j] /= awq.scales[j];
    std::printf("| W%d g%d %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.2f |\n", cfg.bits, cfg.group_size,
                cfg.symmetric ? "sym" : "asym", output_error(eval, eval_rows, k, w, n, rtn(w, n, k, cfg)),
                output_error(eval, eval_rows, k, w, n, rtn(w, n, k, clip)), output_error(eval, eval_rows, k, w, n, gptq(false)),
                output_error(eval, eval_rows, k, w, n, gptq(true)), output_error(eval, eval_rows, k, w, n, awq_eff), awq.alpha);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::printf("usage: quant_methods\nPrints the SQNR table (RTN variants vs ggml Q4_0/Q8_0) and the layer output error\n"
                "table (RTN, GPTQ, AWQ) of docs/quantization-methods.md, deterministically.\n");
    return 0;
  }
  sqnr_table(256, 4096);
  layer_table(256, 1024);
  return 0;
}
