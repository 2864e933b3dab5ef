// Synthetic tensors with LLM-like statistics, for runs without real checkpoints.
#pragma once

#include <cstdint>
#include <vector>

namespace mixpe::models {

// Linear-layer weights, N x K row-major: i.i.d. normal with sigma = 1/sqrt(K) (fan-in scale);
// 0.1% of entries (at least one) are outliers of magnitude uniform in [6, 10] sigma, random sign.
std::vector<float> synthetic_weights(int n, int k, std::uint64_t seed);

// Activations, M x K row-major: standard normal, except 1% of input channels (at least one),
// the same for every token, scaled by 20 -- the outlier feature dimensions LLM.int8()
// (Dettmers et al., 2022) reports in transformer activations.
std::vector<float> synthetic_activations(int m, int k, std::uint64_t seed);

// A reproducible generator (SplitMix64) whose normal draws do not depend on the C++ library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next_u64();
  double uniform();  // [0, 1)
  double normal();   // standard normal, Box-Muller
 private:
  std::uint64_t state_;
};

}  // namespace mixpe::models
