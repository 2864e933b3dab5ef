// Gaussian random fields: modal synthesis with the covariance operator's square-root eigenvalues.
#include "models/pde/grf.h"

#include <cassert>
#include <cmath>
#include <numbers>

#include <Eigen/Dense>

namespace mixpe::models {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

FieldRng::FieldRng(std::uint64_t seed) {
  std::uint64_t x = seed;
  for (std::uint64_t& s : s_) s = splitmix64(x);
}

FieldRng FieldRng::for_sample(std::uint64_t seed, std::uint64_t split, std::uint64_t index) {
  // Hash the triple so neighbouring indices give unrelated streams.
  std::uint64_t x = seed;
  std::uint64_t h = splitmix64(x);
  x = h ^ (split * 0xD1B54A32D192ED03ull);
  h = splitmix64(x);
  x = h ^ index;
  return FieldRng(splitmix64(x));
}

std::uint64_t FieldRng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double FieldRng::uniform() { return (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53; }

double FieldRng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  const double r = std::sqrt(-2.0 * std::log(uniform()));
  const double theta = 2.0 * std::numbers::pi * uniform();
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

std::vector<double> grf_neumann_2d(int resolution, const GrfParams& p, FieldRng& rng) {
  assert(resolution >= 2 && p.modes >= 1);
  const int r = resolution, m = p.modes;
  const double pi = std::numbers::pi;
  // Basis matrix B(i, k) = phi_k(x_i); field = B * Xi * B^T with Xi(k1, k2) = xi * sqrt(eig).
  Eigen::MatrixXd basis(r, m);
  for (int i = 0; i < r; ++i) {
    const double x = static_cast<double>(i) / (r - 1);
    for (int k = 0; k < m; ++k) basis(i, k) = k == 0 ? 1.0 : std::sqrt(2.0) * std::cos(pi * k * x);
  }
  Eigen::MatrixXd coef(m, m);
  for (int k1 = 0; k1 < m; ++k1) {
    for (int k2 = 0; k2 < m; ++k2) {
      const double xi = rng.normal();
      const double lambda = pi * pi * (k1 * k1 + k2 * k2) + p.tau * p.tau;
      coef(k1, k2) = (k1 == 0 && k2 == 0) ? 0.0 : p.sigma * xi * std::pow(lambda, -p.alpha / 2.0);
    }
  }
  const Eigen::MatrixXd field = basis * coef * basis.transpose();
  std::vector<double> out(static_cast<std::size_t>(r) * r);
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < r; ++j) out[static_cast<std::size_t>(i) * r + j] = field(i, j);
  return out;
}

std::vector<double> grf_periodic_1d(int n, const GrfParams& p, FieldRng& rng) {
  assert(n > 2 * p.modes && p.modes >= 1);
  const double two_pi = 2.0 * std::numbers::pi;
  std::vector<double> a(p.modes + 1), b(p.modes + 1);
  for (int k = 1; k <= p.modes; ++k) {
    const double s = p.sigma * std::pow(two_pi * two_pi * k * k + p.tau * p.tau, -p.alpha / 2.0) * std::sqrt(2.0);
    a[k] = s * rng.normal();
    b[k] = s * rng.normal();
  }
  // Direct synthesis with exact angle reduction (k*j mod n): accurate for any mode count and
  // n*modes operations, small next to a PDE solve.
  std::vector<double> cos_table(n), sin_table(n);
  for (int j = 0; j < n; ++j) {
    cos_table[j] = std::cos(two_pi * j / n);
    sin_table[j] = std::sin(two_pi * j / n);
  }
  std::vector<double> out(n, 0.0);
  for (int j = 0; j < n; ++j) {
    double acc = 0.0;
    for (int k = 1; k <= p.modes; ++k) {
      const int idx = static_cast<int>((static_cast<std::int64_t>(k) * j) % n);
      acc += a[k] * cos_table[idx] + b[k] * sin_table[idx];
    }
    out[j] = acc;
  }
  return out;
}

}  // namespace mixpe::models
