// Gaussian random fields for PDE data: a portable seeded normal generator, a Neumann (cosine)
// field on [0,1]^2 and a periodic field on [0,1), both defined by a fixed number of modes so
// the same (seed, sample) gives the same continuous field at every grid resolution.
#pragma once

#include <cstdint>
#include <vector>

namespace mixpe::models {

// xoshiro256** seeded through splitmix64, with Box-Muller normals: unlike std::normal_distribution
// its output is the same on every standard library, so datasets are reproducible anywhere.
class FieldRng {
 public:
  explicit FieldRng(std::uint64_t seed);
  // An independent stream for sample `index` of split `split` (0 train, 1 test) under `seed`.
  static FieldRng for_sample(std::uint64_t seed, std::uint64_t split, std::uint64_t index);

  std::uint64_t next_u64();
  // Uniform in (0, 1): never exactly 0, so log() in normal() is finite.
  double uniform();
  double normal();

 private:
  std::uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Covariance sigma^2 (-Laplacian + tau^2)^(-alpha), truncated to `modes` modes per dimension.
struct GrfParams {
  double alpha = 2.0;
  double tau = 3.0;
  double sigma = 1.0;
  int modes = 64;
};

// Field on the R x R nodes x_i = i/(R-1) of [0,1]^2 with Neumann eigenfunctions
// phi_k = sqrt(2) cos(pi k x) (phi_0 = 1); the constant mode is zero as in the FNO data.
// Row-major: value (x_i, y_j) at i * R + j. Draws modes*modes normals from `rng`.
std::vector<double> grf_neumann_2d(int resolution, const GrfParams& p, FieldRng& rng);

// Zero-mean periodic field on the n nodes x_j = j/n of [0,1), Fourier modes 1..p.modes with
// eigenfunctions sqrt(2) cos(2 pi k x), sqrt(2) sin(2 pi k x). Needs n > 2 * p.modes. Draws 2*modes
// normals from `rng`.
std::vector<double> grf_periodic_1d(int n, const GrfParams& p, FieldRng& rng);

}  // namespace mixpe::models
