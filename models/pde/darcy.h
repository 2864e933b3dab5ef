// 2D Darcy flow -div(a grad u) = f on (0,1)^2, u = 0 on the boundary: the FNO benchmark problem,
// discretized with 5-point finite differences on an R x R node grid that includes the boundary.
#pragma once

#include <cstdint>
#include <vector>

#include "models/pde/grf.h"

namespace mixpe::models {

struct DarcyParams {
  int resolution = 64;      // R: nodes per side including the boundary, x_i = i/(R-1)
  GrfParams grf{2.0, 3.0, 1.0, 64};  // (-Laplacian + 9)^(-2), the FNO paper's field
  double a_pos = 12.0;      // coefficient where the field >= 0
  double a_neg = 3.0;       // coefficient elsewhere
  double forcing = 1.0;     // constant f
};

// Solves on the R x R grid (row-major, value at (x_i, y_j) at i*R + j) for a nodal coefficient
// `a` (> 0) and nodal right-hand side `f`; boundary values of the result are 0 and boundary
// entries of `f` are ignored. Face coefficients are harmonic means of the two nodes, the system
// (symmetric positive definite) is solved with a sparse LDL^T factorization.
std::vector<double> darcy_solve(const std::vector<double>& a, const std::vector<double>& f, int resolution);

// Reuses the symbolic factorization across solves on one grid size; one per thread.
class DarcySolver {
 public:
  explicit DarcySolver(int resolution);
  ~DarcySolver();
  DarcySolver(const DarcySolver&) = delete;
  DarcySolver& operator=(const DarcySolver&) = delete;
  std::vector<double> solve(const std::vector<double>& a, const std::vector<double>& f);
  int resolution() const { return resolution_; }

 private:
  struct Impl;
  int resolution_;
  Impl* impl_;
};

// The thresholded coefficient of one sample drawn from `rng`.
std::vector<double> darcy_coefficient(const DarcyParams& p, FieldRng& rng);

// Net discrete flux a_f (u_P - u_nb)/h * h leaving the domain through the boundary faces; equals
// sum of f_P h^2 over interior nodes for an exact solve (discrete conservation).
double darcy_boundary_flux(const std::vector<double>& a, const std::vector<double>& u, int resolution);

}  // namespace mixpe::models
