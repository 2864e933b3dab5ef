// Random operand values for the RTL array tests: normal values with outliers, exact zeros and,
// for FP activations, exponents spread over a wide range.
#pragma once

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

namespace mixpe::rtl_test {

inline std::vector<float> random_floats(std::mt19937_64& rng, std::size_t n, bool wide_exponents) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) {
    f = normal(rng);
    if (rng() % 16 == 0) f *= 20.0f;  // outliers move the per-token and per-group maxima
    if (rng() % 32 == 0) f = 0.0f;
    if (wide_exponents) f = std::ldexp(f, static_cast<int>(rng() % 24) - 16);
  }
  return v;
}

}  // namespace mixpe::rtl_test
