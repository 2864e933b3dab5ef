// Reference oracles: the MixPE reordering identity, shift-and-add, and each PE type's GEMM
// against float64 within the error bounds derived in docs/numerics.md (section "Error bounds").
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "models/synthetic.h"
#include "quant/gemm_ref.h"
#include "quant/pe_arith.h"

namespace mixpe::quant {
namespace {

__extension__ typedef __int128 Int128;  // exact sums for the reordering identity

constexpr double kU = 0x1p-24;  // unit roundoff of FP32
// gamma_n = n u / (1 - n u) (Higham, Accuracy and Stability of Numerical Algorithms, eq. 3.8).
double gamma(int n) { return n * kU / (1 - n * kU); }
// Slack for the float64 reference itself: K-term double sums, relative 2^-53 per operation.
double ref_slack(int terms, double magnitude) { return (terms + 2) * 0x1p-53 * magnitude; }

// Per output: each group's d = fl(fl(G) s) carries <= 2 roundings, nG - 1 FP32 additions and
// the final * s_x one more: |y - y*| <= gamma_{nG+2} * s_x * sum_G |s_G G_G|.
std::vector<double> mixpe_int8_bounds(const Int8Activations& x, const QuantizedWeights& w) {
  const std::vector<std::int32_t> xi(x.codes.begin(), x.codes.end());
  const GroupSums sums = mixpe_group_sums_ref(xi, x.m, w);
  std::vector<double> bound(static_cast<std::size_t>(x.m) * w.n);
  for (int row = 0; row < x.m; ++row) {
    for (int col = 0; col < w.n; ++col) {
      double mag = 0.0;
      for (int g = 0; g < w.groups(); ++g)
        mag += std::fabs(w.scale(col, g).to_double() *
                         static_cast<double>(sums.P(row, col, g) - w.zero(col, g) * sums.A(row, g)));
      mag *= x.scales[row];
      bound[static_cast<std::size_t>(row) * w.n + col] = gamma(w.groups() + 2) * mag + ref_slack(w.k, mag);
    }
  }
  return bound;
}

struct Shape {
  int m, n, k, bits, group;
  bool symmetric;
};

std::string describe(const Shape& s) {
  return "M" + std::to_string(s.m) + "N" + std::to_string(s.n) + "K" + std::to_string(s.k) + "_W" +
         std::to_string(s.bits) + "_g" + (s.group == -1 ? std::string("pc") : std::to_string(s.group)) +
         (s.symmetric ? "_sym" : "_asym");
}
std::string shape_name(const testing::TestParamInfo<Shape>& info) { return describe(info.param); }
// Stable, readable parameters in test listings (not the struct's bytes).
void PrintTo(const Shape& s, std::ostream* os) { *os << describe(s); }

std::vector<Shape> shapes() {
  std::vector<Shape> v;
  int seed = 0;
  for (int bits : {2, 3, 4, 8})
    for (int group : {32, 128, -1})
      for (bool sym : {false, true}) {
        ++seed;
        const int m = 1 + seed % 5, n = 3 + (seed * 7) % 13, k = seed % 2 ? 256 : 512;
        v.push_back({m, n, k, bits, group, sym});
      }
  return v;
}

class OracleTest : public testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    const Shape s = GetParam();
    seed_ = static_cast<std::uint64_t>(s.m * 1000 + s.n * 10 + s.bits);
    xf_ = models::synthetic_activations(s.m, s.k, seed_);
    w_ = quantize_weights_rtn(models::synthetic_weights(s.n, s.k, seed_), s.n, s.k, {s.bits, s.group, s.symmetric});
    wd_ = dequantize_weights_f64(w_);
  }
  std::uint64_t seed_ = 0;
  std::vector<float> xf_;
  QuantizedWeights w_;
  std::vector<double> wd_;
};

TEST(ShiftAdd, EqualsTheProductForEveryCodeAndWideActivations) {
  for (int bits : {2, 3, 4, 8}) {
    for (bool sgn : {false, true}) {
      const int lo = sgn ? -(1 << (bits - 1)) : 0, hi = sgn ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
      for (int code = lo; code <= hi; ++code)
        for (int x = -(1 << 15); x <= (1 << 15); x += 37) ASSERT_EQ(shift_add_product(code, bits, sgn, x), code * x);
      for (int code = lo; code <= hi; ++code)
        for (int x = -128; x <= 127; ++x) ASSERT_EQ(shift_add_product(code, bits, sgn, x), code * x);
    }
  }
}

TEST_P(OracleTest, GroupSumsObeyTheReorderingIdentityExactly) {
  // sum_G s_G (P_G - z_G A_G) == sum_k s_k (q_k - z_k) x_k, exactly: scales are FP16, so
  // s * 2^24 is an integer and both sides are exact in Int128.
  const Shape s = GetParam();
  const Int8Activations x = quantize_activations_int8(xf_, s.m, s.k);
  const std::vector<std::int32_t> xi(x.codes.begin(), x.codes.end());
  const GroupSums sums = mixpe_group_sums_ref(xi, s.m, w_);
  auto scaled = [](Half h) { return static_cast<Int128>(std::ldexp(h.to_double(), 24)); };
  for (int row = 0; row < s.m; ++row) {
    for (int col = 0; col < s.n; ++col) {
      Int128 grouped = 0, elementwise = 0;
      for (int g = 0; g < w_.groups(); ++g) {
        grouped += scaled(w_.scale(col, g)) * (sums.P(row, col, g) - static_cast<Int128>(w_.zero(col, g)) * sums.A(row, g));
        for (int j = g * w_.group_size; j < (g + 1) * w_.group_size; ++j)
          elementwise += scaled(w_.scale(col, g)) * (w_.code(col, j) - w_.zero(col, g)) * static_cast<Int128>(x.code(row, j));
      }
      ASSERT_TRUE(grouped == elementwise) << "row " << row << " col " << col;
    }
  }
}

TEST_P(OracleTest, MixpeInt8WithinDerivedBound) {
  const Shape s = GetParam();
  const Int8Activations x = quantize_activations_int8(xf_, s.m, s.k);
  const std::vector<float> y = gemm_mixpe_int8_ref(x, w_);
  const std::vector<double> y_exact = gemm_f64_ref(int8_values(x), s.m, wd_, s.n, s.k);
  const std::vector<double> bound = mixpe_int8_bounds(x, w_);
  for (std::size_t i = 0; i < y.size(); ++i) ASSERT_LE(std::fabs(y[i] - y_exact[i]), bound[i]) << i;
}

TEST_P(OracleTest, MixpeFp16AndBf16WithinDerivedBound) {
  // Arithmetic: gamma_{nG+1} * sum_G |s_G G_G 2^shift|. Alignment: each activation moves by at
  // most half a quantum 2^(shift-1), times |s (q - z)| for its weight.
  const Shape s = GetParam();
  for (bool bf16 : {false, true}) {
    std::vector<double> x_in(xf_.size());
    AlignedActivations a;
    if (bf16) {
      const auto xb = to_bfloat16(xf_);
      for (std::size_t i = 0; i < xb.size(); ++i) x_in[i] = xb[i].to_double();
      a = align_activations_bf16(xb, s.m, s.k, w_.group_size);
    } else {
      const auto xh = to_half(xf_);
      for (std::size_t i = 0; i < xh.size(); ++i) x_in[i] = xh[i].to_double();
      a = align_activations_fp16(xh, s.m, s.k, w_.group_size);
    }
    const std::vector<float> y = gemm_mixpe_aligned_ref(a, w_);
    const std::vector<double> y_in = gemm_f64_ref(x_in, s.m, wd_, s.n, s.k);
    const std::vector<std::int32_t> xi(a.mants.begin(), a.mants.end());
    const GroupSums sums = mixpe_group_sums_ref(xi, s.m, w_);
    for (int row = 0; row < s.m; ++row) {
      for (int col = 0; col < s.n; ++col) {
        double arith = 0.0, align = 0.0;
        for (int g = 0; g < w_.groups(); ++g) {
          const double sg = w_.scale(col, g).to_double();
          arith += std::fabs(std::ldexp(sg * static_cast<double>(sums.P(row, col, g) - w_.zero(col, g) * sums.A(row, g)),
                                        a.shift(row, g)));
          for (int j = g * w_.group_size; j < (g + 1) * w_.group_size; ++j)
            align += std::fabs(sg * (w_.code(col, j) - w_.zero(col, g))) * std::ldexp(0.5, a.shift(row, g));
        }
        const std::size_t i = static_cast<std::size_t>(row) * s.n + col;
        const double bound = gamma(w_.groups() + 1) * arith + align + ref_slack(s.k, arith + align);
        ASSERT_LE(std::fabs(y[i] - y_in[i]), bound) << (bf16 ? "bf16 " : "fp16 ") << row << "," << col;
      }
    }
  }
}

TEST_P(OracleTest, Fp16BaselineWithinDerivedBound) {
  // Exact products, K - 1 FP32 additions: gamma_{K-1} sum |x w16|; the FP16 weight rounding
  // adds sum |x| |w16 - w| with |w16 - w| <= 2^-11 |w| for normal w16 (and 2^-25 below).
  const Shape s = GetParam();
  const std::vector<Half> xh = to_half(xf_);
  const std::vector<float> y = gemm_fp16_ref(xh, s.m, w_);
  std::vector<double> x_in(xh.size());
  for (std::size_t i = 0; i < xh.size(); ++i) x_in[i] = xh[i].to_double();
  const std::vector<double> y_in = gemm_f64_ref(x_in, s.m, wd_, s.n, s.k);
  for (int row = 0; row < s.m; ++row) {
    for (int col = 0; col < s.n; ++col) {
      double sum_abs = 0.0, wround = 0.0;
      for (int j = 0; j < s.k; ++j) {
        const double xv = std::fabs(x_in[static_cast<std::size_t>(row) * s.k + j]);
        const double wv = std::fabs(wd_[static_cast<std::size_t>(col) * s.k + j]);
        sum_abs += xv * wv * (1 + 0x1p-11);
        wround += xv * (wv * 0x1p-11 + 0x1p-25);
      }
      const std::size_t i = static_cast<std::size_t>(row) * s.n + col;
      ASSERT_LE(std::fabs(y[i] - y_in[i]), gamma(s.k - 1) * sum_abs + wround + ref_slack(s.k, sum_abs)) << row << "," << col;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, OracleTest, testing::ValuesIn(shapes()), shape_name);

TEST(Int8Baseline, WithinThreeRoundingsAndEqualToMixpeWithOneSymmetricGroup) {
  for (int bits : {4, 8}) {
    const int m = 4, n = 9, k = 384;
    const std::vector<float> xf = models::synthetic_activations(m, k, 21);
    const QuantizedWeights w = quantize_weights_rtn(models::synthetic_weights(n, k, 21), n, k, {bits, -1, true});
    const Int8Activations x = quantize_activations_int8(xf, m, k);
    const std::vector<float> y = gemm_int8_ref(x, w);
    const std::vector<double> y_exact = gemm_f64_ref(int8_values(x), m, dequantize_weights_f64(w), n, k);
    // With one symmetric group MixPE computes fl(fl(fl(P) s) s_x) too: the same bits.
    const std::vector<float> y_mixpe = gemm_mixpe_int8_ref(x, w);
    for (std::size_t i = 0; i < y.size(); ++i) {
      ASSERT_LE(std::fabs(y[i] - y_exact[i]), gamma(3) * std::fabs(y_exact[i]) + ref_slack(k, std::fabs(y_exact[i])));
      ASSERT_EQ(y[i], y_mixpe[i]) << i;
    }
  }
}

TEST(Int8Baseline, RejectsGroupedOrAsymmetricWeights) {
  const QuantizedWeights w = quantize_weights_rtn(models::synthetic_weights(2, 64, 1), 2, 64, {4, 32, false});
  const Int8Activations x = quantize_activations_int8(models::synthetic_activations(1, 64, 1), 1, 64);
  EXPECT_THROW(gemm_int8_ref(x, w), std::invalid_argument);
}

TEST(OracleBounds, AOneCodeMistakeBreaksTheBound) {
  // The bound check is tight enough to catch a single weight code off by one.
  const int m = 2, n = 3, k = 256;
  const Int8Activations x = quantize_activations_int8(models::synthetic_activations(m, k, 4), m, k);
  const QuantizedWeights w = quantize_weights_rtn(models::synthetic_weights(n, k, 4), n, k, {4, 128, false});
  const std::vector<double> y_exact = gemm_f64_ref(int8_values(x), m, dequantize_weights_f64(w), n, k);
  const std::vector<double> bound = mixpe_int8_bounds(x, w);
  QuantizedWeights broken = w;
  const int j = 17;  // column 0, element 17
  broken.codes[j] = static_cast<std::int16_t>(w.codes[j] == 0 ? 1 : w.codes[j] - 1);
  const std::vector<float> y = gemm_mixpe_int8_ref(x, broken);
  for (int row = 0; row < m; ++row) {
    const std::size_t i = static_cast<std::size_t>(row) * n;
    if (x.code(row, j) != 0) {
      EXPECT_GT(std::fabs(y[i] - y_exact[i]), bound[i]) << "row " << row;
    }
  }
}

TEST(MixpeAligned, RejectsMismatchedGroups) {
  const QuantizedWeights w = quantize_weights_rtn(models::synthetic_weights(2, 64, 1), 2, 64, {4, 32, false});
  const std::vector<Half> x = to_half(models::synthetic_activations(1, 64, 1));
  EXPECT_THROW(gemm_mixpe_aligned_ref(align_activations_fp16(x, 1, 64, 64), w), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::quant
