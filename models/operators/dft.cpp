// Truncated DFT matrices in real block form (angles reduced exactly as k*n mod r, computed in
// double, rounded once to float).
#include "models/operators/dft.h"

#include <cmath>
#include <cstdint>
#include <numbers>
#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::models {
namespace {

double angle(std::int64_t k, std::int64_t n, int r) {
  return 2.0 * std::numbers::pi * static_cast<double>((k * n) % r) / r;
}

void check_r(int r) {
  if (r < 1) throw std::invalid_argument(fmt::format("DFT length {} must be positive", r));
}

}  // namespace

std::vector<int> retained_frequencies(int r, int m, bool two_sided) {
  check_r(r);
  if (m < 1 || (two_sided ? 2 * m > r : m > r / 2 + 1)) {
    throw std::invalid_argument(fmt::format("{} modes do not fit {} points ({})", m, r,
                                            two_sided ? "need 2 * modes <= points" : "need modes <= points / 2 + 1"));
  }
  std::vector<int> f;
  for (int k = 0; k < m; ++k) f.push_back(k);
  if (two_sided)
    for (int k = r - m; k < r; ++k) f.push_back(k);
  return f;
}

std::vector<float> dft_r2c_matrix(int r, int m) {
  retained_frequencies(r, m, false);
  std::vector<float> w(static_cast<std::size_t>(2 * m) * r);
  for (int k = 0; k < m; ++k) {
    for (int n = 0; n < r; ++n) {
      const double t = angle(k, n, r);
      w[static_cast<std::size_t>(2 * k) * r + n] = static_cast<float>(std::cos(t));
      w[static_cast<std::size_t>(2 * k + 1) * r + n] = static_cast<float>(-std::sin(t));
    }
  }
  return w;
}

std::vector<float> idft_c2r_matrix(int r, int m) {
  retained_frequencies(r, m, false);
  std::vector<float> w(static_cast<std::size_t>(r) * 2 * m);
  for (int n = 0; n < r; ++n) {
    for (int k = 0; k < m; ++k) {
      const double c = (k == 0 || 2 * k == r) ? 1.0 : 2.0;
      const double t = angle(k, n, r);
      w[static_cast<std::size_t>(n) * 2 * m + 2 * k] = static_cast<float>(c * std::cos(t) / r);
      w[static_cast<std::size_t>(n) * 2 * m + 2 * k + 1] = static_cast<float>(-c * std::sin(t) / r);
    }
  }
  return w;
}

std::vector<float> dft_c2c_matrix(int r, const std::vector<int>& freqs, bool inverse) {
  check_r(r);
  const std::size_t f_count = freqs.size();
  for (int f : freqs)
    if (f < 0 || f >= r) throw std::invalid_argument(fmt::format("frequency {} outside 0..{}", f, r - 1));
  std::vector<float> w(4 * f_count * static_cast<std::size_t>(r));
  if (!inverse) {
    // X_f = sum_n x_n (cos t - i sin t): Re = xr cos + xi sin, Im = -xr sin + xi cos.
    const std::size_t cols = 2 * static_cast<std::size_t>(r);
    for (std::size_t j = 0; j < f_count; ++j) {
      for (int n = 0; n < r; ++n) {
        const double t = angle(freqs[j], n, r);
        const float c = static_cast<float>(std::cos(t)), s = static_cast<float>(std::sin(t));
        w[(2 * j) * cols + 2 * n] = c;
        w[(2 * j) * cols + 2 * n + 1] = s;
        w[(2 * j + 1) * cols + 2 * n] = -s;
        w[(2 * j + 1) * cols + 2 * n + 1] = c;
      }
    }
  } else {
    // x_n = (1/r) sum_f X_f (cos t + i sin t): Re = Xr cos - Xi sin, Im = Xr sin + Xi cos.
    const std::size_t cols = 2 * f_count;
    for (int n = 0; n < r; ++n) {
      for (std::size_t j = 0; j < f_count; ++j) {
        const double t = angle(freqs[j], n, r);
        const float c = static_cast<float>(std::cos(t) / r), s = static_cast<float>(std::sin(t) / r);
        w[(2 * static_cast<std::size_t>(n)) * cols + 2 * j] = c;
        w[(2 * static_cast<std::size_t>(n)) * cols + 2 * j + 1] = -s;
        w[(2 * static_cast<std::size_t>(n) + 1) * cols + 2 * j] = s;
        w[(2 * static_cast<std::size_t>(n) + 1) * cols + 2 * j + 1] = c;
      }
    }
  }
  return w;
}

}  // namespace mixpe::models
