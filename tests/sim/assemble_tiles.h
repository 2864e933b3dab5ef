// Gathers a stream's output tiles (row tiles outer, column tiles inner) back into an M x N matrix;
// shared by the array-model tests.
#pragma once

#include <cstddef>
#include <vector>

#include "sim/array.h"

namespace mixpe::sim {

inline std::vector<float> assemble(const StreamResult& r, int m, int n, int rows, int cols) {
  std::vector<float> y(static_cast<std::size_t>(m) * n);
  const int ct = (n + cols - 1) / cols;
  for (std::size_t t = 0; t < r.y.size(); ++t) {
    const int m0 = static_cast<int>(t) / ct * rows, n0 = static_cast<int>(t) % ct * cols;
    for (int i = 0; i < rows && m0 + i < m; ++i)
      for (int j = 0; j < cols && n0 + j < n; ++j) y[static_cast<std::size_t>(m0 + i) * n + n0 + j] = r.y[t][static_cast<std::size_t>(i) * cols + j];
  }
  return y;
}

}  // namespace mixpe::sim
