// Darcy flow finite-difference solver (harmonic-mean faces, sparse LDL^T) and coefficient sampling.
#include "models/pde/darcy.h"

#include <cassert>
#include <stdexcept>

#include <Eigen/Sparse>
#include <Eigen/SparseCholesky>
#include <fmt/format.h>

namespace mixpe::models {
namespace {

double harmonic(double a, double b) { return 2.0 * a * b / (a + b); }

}  // namespace

struct DarcySolver::Impl {
  Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> ldlt;
  bool analyzed = false;
};

DarcySolver::DarcySolver(int resolution) : resolution_(resolution), impl_(new Impl) {
  if (resolution < 3) throw std::invalid_argument(fmt::format("Darcy resolution {} is below 3", resolution));
}

DarcySolver::~DarcySolver() { delete impl_; }

std::vector<double> DarcySolver::solve(const std::vector<double>& a, const std::vector<double>& f) {
  const int r = resolution_, m = r - 2;
  const std::size_t nodes = static_cast<std::size_t>(r) * r;
  if (a.size() != nodes || f.size() != nodes) {
    throw std::invalid_argument(fmt::format("Darcy solve: a has {} and f {} values, grid {}x{} needs {}", a.size(), f.size(), r, r, nodes));
  }
  const double h = 1.0 / (r - 1), inv_h2 = 1.0 / (h * h);
  auto node = [r](int i, int j) { return static_cast<std::size_t>(i) * r + j; };
  auto unknown = [m](int i, int j) { return (i - 1) * m + (j - 1); };  // interior only
  std::vector<Eigen::Triplet<double>> triplets;
  triplets.reserve(static_cast<std::size_t>(m) * m * 5);
  Eigen::VectorXd rhs(m * m);
  const int di[4] = {-1, 1, 0, 0}, dj[4] = {0, 0, -1, 1};
  for (int i = 1; i <= m; ++i) {
    for (int j = 1; j <= m; ++j) {
      const int row = unknown(i, j);
      double diag = 0.0;
      for (int d = 0; d < 4; ++d) {
        const int ni = i + di[d], nj = j + dj[d];
        const double c = harmonic(a[node(i, j)], a[node(ni, nj)]) * inv_h2;
        diag += c;
        // Boundary neighbours carry u = 0 and drop out of the system.
        if (ni >= 1 && ni <= m && nj >= 1 && nj <= m) triplets.emplace_back(row, unknown(ni, nj), -c);
      }
      triplets.emplace_back(row, row, diag);
      rhs[row] = f[node(i, j)];
    }
  }
  Eigen::SparseMatrix<double> matrix(m * m, m * m);
  matrix.setFromTriplets(triplets.begin(), triplets.end());
  if (!impl_->analyzed) {
    impl_->ldlt.analyzePattern(matrix);
    impl_->analyzed = true;
  }
  impl_->ldlt.factorize(matrix);
  if (impl_->ldlt.info() != Eigen::Success) throw std::runtime_error("Darcy solve: LDL^T factorization failed (a must be > 0)");
  const Eigen::VectorXd x = impl_->ldlt.solve(rhs);
  std::vector<double> u(nodes, 0.0);
  for (int i = 1; i <= m; ++i)
    for (int j = 1; j <= m; ++j) u[node(i, j)] = x[unknown(i, j)];
  return u;
}

std::vector<double> darcy_solve(const std::vector<double>& a, const std::vector<double>& f, int resolution) {
  DarcySolver solver(resolution);
  return solver.solve(a, f);
}

std::vector<double> darcy_coefficient(const DarcyParams& p, FieldRng& rng) {
  std::vector<double> a = grf_neumann_2d(p.resolution, p.grf, rng);
  for (double& v : a) v = v >= 0.0 ? p.a_pos : p.a_neg;
  return a;
}

double darcy_boundary_flux(const std::vector<double>& a, const std::vector<double>& u, int resolution) {
  const int r = resolution;
  assert(a.size() == static_cast<std::size_t>(r) * r && u.size() == a.size());
  auto node = [r](int i, int j) { return static_cast<std::size_t>(i) * r + j; };
  double flux = 0.0;
  // Each boundary face joins an interior node next to the boundary to a boundary node; the flux
  // through a face of length h is a_f (u_in - u_bd) / h * h.
  for (int k = 1; k <= r - 2; ++k) {
    const int in_lo = 1, in_hi = r - 2, bd_hi = r - 1;
    flux += harmonic(a[node(in_lo, k)], a[node(0, k)]) * (u[node(in_lo, k)] - u[node(0, k)]);
    flux += harmonic(a[node(in_hi, k)], a[node(bd_hi, k)]) * (u[node(in_hi, k)] - u[node(bd_hi, k)]);
    flux += harmonic(a[node(k, in_lo)], a[node(k, 0)]) * (u[node(k, in_lo)] - u[node(k, 0)]);
    flux += harmonic(a[node(k, in_hi)], a[node(k, bd_hi)]) * (u[node(k, in_hi)] - u[node(k, bd_hi)]);
  }
  return flux;
}

}  // namespace mixpe::models
