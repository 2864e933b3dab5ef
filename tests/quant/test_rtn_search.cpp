// RTN improvements: full signed range for symmetric codes and the per-group clipping search.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/io/ggml_quants.h"
#include "models/synthetic.h"
#include "quant/weights.h"

namespace mixpe::quant {
namespace {

double squared_error(const QuantizedWeights& q, const std::vector<float>& w, int row, int group) {
  double sum = 0.0;
  for (int j = group * q.group_size; j < (group + 1) * q.group_size; ++j) {
    const double e = q.dequantized(row, j) - w[static_cast<std::size_t>(row) * q.k + j];
    sum += e * e;
  }
  return sum;
}

double sqnr_db(const std::vector<float>& w, const std::vector<double>& deq) {
  double sig = 0.0, err = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    sig += static_cast<double>(w[i]) * w[i];
    err += (deq[i] - w[i]) * (deq[i] - w[i]);
  }
  return 10.0 * std::log10(sig / err);
}

// The symmetric rule before full-range codes: s = max|w| / (2^(b-1) - 1) rounded up to FP16.
std::vector<double> old_symmetric(const std::vector<float>& w, int n, int k, int bits, int g) {
  std::vector<double> out(w.size());
  const int qmax = (1 << (bits - 1)) - 1;
  for (int row = 0; row < n; ++row) {
    for (int c0 = 0; c0 < k; c0 += g) {
      double amax = 0.0;
      for (int j = c0; j < c0 + g; ++j) amax = std::max(amax, std::fabs(static_cast<double>(w[row * k + j])));
      Half s = Half::from_double(amax / qmax);
      if (s.to_double() < amax / qmax) s = Half::from_bits(static_cast<std::uint16_t>(s.bits() + 1));
      for (int j = c0; j < c0 + g; ++j) {
        const double q = std::clamp(std::nearbyint(w[row * k + j] / s.to_double()), -qmax - 1.0, 1.0 * qmax);
        out[row * k + j] = q * s.to_double();
      }
    }
  }
  return out;
}

TEST(RtnSearch, ClipSearchNeverWorseThanPlainInAnyGroupAndBetterOverall) {
  const int n = 64, k = 512;
  const std::vector<float> w = models::synthetic_weights(n, k, 17);
  for (int bits : {2, 3, 4, 8}) {
    for (int group : {32, 128, -1}) {
      for (bool sym : {false, true}) {
        const QuantizedWeights plain = quantize_weights_rtn(w, n, k, {bits, group, sym});
        const QuantizedWeights search = quantize_weights_rtn(w, n, k, {bits, group, sym, true});
        ASSERT_NO_THROW(validate_quantized_weights(search, "search"));
        double total_plain = 0.0, total_search = 0.0;
        for (int row = 0; row < n; ++row) {
          for (int g = 0; g < plain.groups(); ++g) {
            const double ep = squared_error(plain, w, row, g), es = squared_error(search, w, row, g);
            // The plain parameters are a candidate and the errors are computed the same way.
            ASSERT_LE(es, ep) << "W" << bits << " g" << group << (sym ? " sym" : " asym") << " row " << row;
            total_plain += ep;
            total_search += es;
          }
        }
        // Measured gains are 4-38% below 8 bits; demand at least 2% there.
        if (bits < 8) {
          EXPECT_LT(total_search, 0.98 * total_plain) << "W" << bits << " g" << group << (sym ? " sym" : " asym");
        }
      }
    }
  }
}

TEST(RtnSearch, FullRangeSymmetricBeatsTheOldMaxOverQmaxRule) {
  const int n = 64, k = 1024;
  const std::vector<float> w = models::synthetic_weights(n, k, 5);
  // Minimum SQNR gain in dB: log-ratio of the steps minus a margin for the clamped values.
  const std::vector<std::pair<int, double>> expect = {{2, 3.0}, {3, 1.5}, {4, 0.8}, {8, 0.03}};
  for (const auto& [bits, min_gain] : expect) {
    for (int g : {32, 128}) {
      const QuantizedWeights q = quantize_weights_rtn(w, n, k, {bits, g, true});
      ASSERT_NO_THROW(validate_quantized_weights(q, "w"));
      const double gain = sqnr_db(w, dequantize_weights_f64(q)) - sqnr_db(w, old_symmetric(w, n, k, bits, g));
      EXPECT_GT(gain, min_gain) << "W" << bits << " g" << g;
    }
  }
}

TEST(RtnSearch, SymmetricExtremeLandsOnTheMostNegativeCode) {
  const std::vector<float> pos = {0.5f, -0.25f, 2.0f, 0.0f};
  const QuantizedWeights q = quantize_weights_rtn(pos, 1, 4, {4, 4, true});
  EXPECT_EQ(q.scale(0, 0).to_double(), -0.25);  // 2.0 / -8
  EXPECT_EQ(q.code(0, 2), -8);
  EXPECT_EQ(q.dequantized(0, 2), 2.0);
  const std::vector<float> neg = {0.5f, -2.0f, 1.0f, 0.0f};
  const QuantizedWeights r = quantize_weights_rtn(neg, 1, 4, {4, 4, true});
  EXPECT_EQ(r.scale(0, 0).to_double(), 0.25);
  EXPECT_EQ(r.code(0, 1), -8);
  // The opposite side reaches +8 only if it equals the extreme in magnitude; it clamps to 7.
  const std::vector<float> tie = {-2.0f, 2.0f, 0.0f, 0.0f};
  const QuantizedWeights t = quantize_weights_rtn(tie, 1, 4, {4, 4, true});
  EXPECT_EQ(t.code(0, 0), -8);
  EXPECT_EQ(t.code(0, 1), 7);
}

TEST(RtnSearch, AtLeastLlamaCppQ4_0AndQ8_0Quality) {
  const int n = 128, k = 1024;
  const std::vector<float> w = models::synthetic_weights(n, k, 23);
  std::vector<double> q4(w.size()), q8(w.size());
  const std::vector<float> g4 = models::dequantize_q4_0(models::quantize_q4_0(w));
  const std::vector<float> g8 = models::dequantize_q8_0(models::quantize_q8_0(w));
  for (std::size_t i = 0; i < w.size(); ++i) {
    q4[i] = g4[i];
    q8[i] = g8[i];
  }
  const double ggml4 = sqnr_db(w, q4), ggml8 = sqnr_db(w, q8);
  const double ours4 = sqnr_db(w, dequantize_weights_f64(quantize_weights_rtn(w, n, k, {4, 32, true})));
  const double ours8 = sqnr_db(w, dequantize_weights_f64(quantize_weights_rtn(w, n, k, {8, 32, true})));
  const double ours4s = sqnr_db(w, dequantize_weights_f64(quantize_weights_rtn(w, n, k, {4, 32, true, true})));
  const double ours8s = sqnr_db(w, dequantize_weights_f64(quantize_weights_rtn(w, n, k, {8, 32, true, true})));
  EXPECT_GE(ours4, ggml4);  // same rule, but codes computed with the FP16 scale actually stored
  EXPECT_GT(ours8, ggml8 + 0.03);   // -128 is used: step amax/128 instead of amax/127
  EXPECT_GT(ours4s, ggml4 + 0.3);
  EXPECT_GT(ours8s, ggml8 + 0.03);
}

}  // namespace
}  // namespace mixpe::quant
