// Synthetic weight and activation generators.
#include "models/synthetic.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mixpe::models {

std::uint64_t Rng::next_u64() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::vector<float> synthetic_weights(int n, int k, std::uint64_t seed) {
  Rng rng(seed * 2 + 1);
  const double sigma = 1.0 / std::sqrt(static_cast<double>(k));
  std::vector<float> w(static_cast<std::size_t>(n) * k);
  for (float& v : w) v = static_cast<float>(sigma * rng.normal());
  const std::size_t outliers = std::max<std::size_t>(1, w.size() / 1000);
  for (std::size_t i = 0; i < outliers; ++i) {
    const std::size_t at = rng.next_u64() % w.size();
    const double magnitude = sigma * (6.0 + 4.0 * rng.uniform());
    w[at] = static_cast<float>(rng.uniform() < 0.5 ? -magnitude : magnitude);
  }
  return w;
}

std::vector<float> synthetic_activations(int m, int k, std::uint64_t seed) {
  Rng rng(seed * 2 + 2);
  std::vector<float> x(static_cast<std::size_t>(m) * k);
  for (float& v : x) v = static_cast<float>(rng.normal());
  // Distinct outlier channels: the first entries of a partial Fisher-Yates shuffle.
  std::vector<int> channels(k);
  for (int c = 0; c < k; ++c) channels[c] = c;
  const int outlier_channels = std::max(1, k / 100);
  for (int c = 0; c < outlier_channels; ++c) {
    std::swap(channels[c], channels[c + rng.next_u64() % static_cast<std::uint64_t>(k - c)]);
    for (int row = 0; row < m; ++row) x[static_cast<std::size_t>(row) * k + channels[c]] *= 20.0f;
  }
  return x;
}

}  // namespace mixpe::models
