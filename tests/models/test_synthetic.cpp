// Synthetic tensors: reproducible, with the statistics the header promises.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/synthetic.h"

namespace mixpe::models {
namespace {

TEST(Synthetic, ReproducibleAndSeedDependent) {
  EXPECT_EQ(synthetic_weights(8, 64, 1), synthetic_weights(8, 64, 1));
  EXPECT_NE(synthetic_weights(8, 64, 1), synthetic_weights(8, 64, 2));
  EXPECT_EQ(synthetic_activations(4, 64, 3), synthetic_activations(4, 64, 3));
}

TEST(Synthetic, WeightsHaveFanInScaleAndOutliers) {
  const int n = 256, k = 1024;
  const std::vector<float> w = synthetic_weights(n, k, 5);
  const double sigma = 1.0 / std::sqrt(static_cast<double>(k));
  double sum2 = 0.0;
  int beyond_6_sigma = 0;
  for (float v : w) {
    sum2 += static_cast<double>(v) * v;
    beyond_6_sigma += std::fabs(v) >= 6 * sigma;
  }
  // Outliers of magnitude U[6, 10] sigma have mean square (10^3 - 6^3) / 12 = 65.3 sigma^2; a
  // fraction f = 262 / 262144 of them gives rms^2 = ((1 - f) + 65.3 f) sigma^2. The sample
  // second moment of 262144 normal draws is within +-1% (about 4 standard errors).
  const double f = 262.0 / w.size();
  const double expected = std::sqrt((1 - f) + f * (1000.0 - 216.0) / 12.0);
  const double rms = std::sqrt(sum2 / w.size());
  EXPECT_NEAR(rms / sigma, expected, 0.01);
  // Gaussian draws beyond 6 sigma are ~2e-9 likely; every outlier is (a few may collide).
  EXPECT_GE(beyond_6_sigma, 250);
  EXPECT_LE(beyond_6_sigma, 262);
}

TEST(Synthetic, ActivationsHaveOutlierChannels) {
  const int m = 64, k = 1000;
  const std::vector<float> x = synthetic_activations(m, k, 9);
  int loud = 0;
  for (int c = 0; c < k; ++c) {
    double sum2 = 0.0;
    for (int row = 0; row < m; ++row) sum2 += static_cast<double>(x[static_cast<std::size_t>(row) * k + c]) * x[static_cast<std::size_t>(row) * k + c];
    loud += std::sqrt(sum2 / m) > 5.0;  // normal channels have rms ~1, outliers ~20
  }
  EXPECT_EQ(loud, 10);
}

}  // namespace
}  // namespace mixpe::models
