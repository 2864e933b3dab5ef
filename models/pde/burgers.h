// 1D viscous Burgers u_t + (u^2/2)_x = nu u_xx, periodic on [0,1): a Fourier pseudo-spectral
// solver (real FFTs, 2/3 dealiasing) with ETDRK4 time stepping (Cox-Matthews, coefficients by
// the Kassam-Trefethen contour integral).
#pragma once

#include <functional>
#include <vector>

#include "models/pde/grf.h"

namespace mixpe::models {

struct BurgersParams {
  int resolution = 128;          // R: output nodes x_j = j/R; must divide solver_resolution
  int solver_resolution = 1024;  // N: collocation nodes of the spectral solver
  double nu = 0.1;
  double t_end = 1.0;
  GrfParams grf{2.0, 5.0, 25.0, 64};  // 625 (-Laplacian + 25)^(-2), the FNO paper's initial data
  double max_dt = 1e-3;          // upper bound on the time step
};

// One solver per thread: FFTW plans (made under a global lock; execution is thread-safe) and
// buffers for N nodes.
class BurgersSolver {
 public:
  explicit BurgersSolver(int n);
  ~BurgersSolver();
  BurgersSolver(const BurgersSolver&) = delete;
  BurgersSolver& operator=(const BurgersSolver&) = delete;

  // Advances `u0` (N nodal values) from t = 0 to t_end with `steps` equal ETDRK4 steps and returns
  // u(t_end). Modes above N/3 of u0 are dropped first. `observer`, if given, gets (t, u) after
  // every step.
  std::vector<double> solve(const std::vector<double>& u0, double nu, double t_end, int steps,
                            const std::function<void(double, const std::vector<double>&)>& observer = {});

  // Step count used for a data sample: t_end / max_dt rounded up, and at least enough that
  // dt * max|u0| <= dx (a conservative advective limit; max|u| never grows for viscous Burgers).
  static int default_steps(const std::vector<double>& u0, double t_end, double max_dt);

  int size() const { return n_; }

 private:
  struct Impl;
  int n_;
  Impl* impl_;
};

// The exact Cole-Hopf solution 4 pi nu A e^{-4 pi^2 nu t} sin(2 pi x) / (1 + A e^{-4 pi^2 nu t} cos(2 pi x)).
double burgers_cole_hopf(double x, double t, double nu, double amplitude);

}  // namespace mixpe::models
