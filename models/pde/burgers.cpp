// Burgers pseudo-spectral ETDRK4 solver on FFTW real transforms, and the Cole-Hopf exact solution.
#include "models/pde/burgers.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <complex>
#include <mutex>
#include <numbers>
#include <stdexcept>

#include <fftw3.h>
#include <fmt/format.h>

namespace mixpe::models {
namespace {

using Complex = std::complex<double>;

// FFTW's planner is not thread-safe; plan execution is.
std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

struct BurgersSolver::Impl {
  int n = 0, nk = 0;
  double* real = nullptr;
  fftw_complex* spec = nullptr;
  fftw_plan forward = nullptr;   // real -> spectrum
  fftw_plan backward = nullptr;  // spectrum -> real (unnormalized)
  std::vector<double> wave;      // 2 pi k
  std::vector<double> mask;      // 1 for kept modes, 0 above the 2/3 cutoff
  // ETDRK4 coefficients for the last (nu, h).
  double coef_nu = -1.0, coef_h = -1.0;
  std::vector<double> e, e2, q, f1, f2, f3;

  void coefficients(double nu, double h) {
    if (nu == coef_nu && h == coef_h) return;
    coef_nu = nu;
    coef_h = h;
    constexpr int kContour = 32;
    e.assign(nk, 0.0), e2.assign(nk, 0.0), q.assign(nk, 0.0), f1.assign(nk, 0.0), f2.assign(nk, 0.0), f3.assign(nk, 0.0);
    for (int k = 0; k < nk; ++k) {
      const double lh = -nu * wave[k] * wave[k] * h;
      e[k] = std::exp(lh);
      e2[k] = std::exp(lh / 2.0);
      // Means over a circle around lh avoid the cancellation of the closed forms near lh = 0.
      Complex sq = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
      for (int j = 0; j < kContour; ++j) {
        const Complex z = lh + std::polar(1.0, 2.0 * std::numbers::pi * (j + 0.5) / kContour);
        const Complex ez = std::exp(z), z3 = z * z * z;
        sq += (std::exp(z / 2.0) - 1.0) / z;
        s1 += (-4.0 - z + ez * (4.0 - 3.0 * z + z * z)) / z3;
        s2 += (2.0 + z + ez * (z - 2.0)) / z3;
        s3 += (-4.0 - 3.0 * z - z * z + ez * (4.0 - z)) / z3;
      }
      q[k] = h * sq.real() / kContour;
      f1[k] = h * s1.real() / kContour;
      f2[k] = h * s2.real() / kContour;
      f3[k] = h * s3.real() / kContour;
    }
  }

  // Spectral coefficients (normalized by n) of u -> into out.
  void to_spectrum(const std::vector<double>& u, std::vector<Complex>& out) {
    std::copy(u.begin(), u.end(), real);
    fftw_execute(forward);
    out.resize(nk);
    for (int k = 0; k < nk; ++k) out[k] = Complex(spec[k][0], spec[k][1]) / static_cast<double>(n) * mask[k];
  }

  void to_grid(const std::vector<Complex>& v, std::vector<double>& u) {
    for (int k = 0; k < nk; ++k) {
      spec[k][0] = v[k].real();
      spec[k][1] = v[k].imag();
    }
    fftw_execute(backward);
    u.assign(real, real + n);
  }

  // -(u^2/2)_x in spectral space, dealiased.
  void nonlinear(const std::vector<Complex>& v, std::vector<Complex>& out) {
    for (int k = 0; k < nk; ++k) {
      spec[k][0] = v[k].real();
      spec[k][1] = v[k].imag();
    }
    fftw_execute(backward);
    for (int j = 0; j < n; ++j) real[j] *= real[j];
    fftw_execute(forward);
    out.resize(nk);
    const double scale = -0.5 / n;
    for (int k = 0; k < nk; ++k) out[k] = Complex(0.0, scale * wave[k] * mask[k]) * Complex(spec[k][0], spec[k][1]);
  }
};

BurgersSolver::BurgersSolver(int n) : n_(n), impl_(new Impl) {
  if (n < 8 || n % 2 != 0) {
    delete impl_;
    throw std::invalid_argument(fmt::format("Burgers solver resolution {} must be even and >= 8", n));
  }
  Impl& m = *impl_;
  m.n = n;
  m.nk = n / 2 + 1;
  m.real = static_cast<double*>(fftw_malloc(sizeof(double) * n));
  m.spec = static_cast<fftw_complex*>(fftw_malloc(sizeof(fftw_complex) * m.nk));
  {
    // FFTW_ESTIMATE: measured plans could differ between runs and change the result's bits.
    std::lock_guard lock(fftw_planner_mutex());
    m.forward = fftw_plan_dft_r2c_1d(n, m.real, m.spec, FFTW_ESTIMATE);
    m.backward = fftw_plan_dft_c2r_1d(n, m.spec, m.real, FFTW_ESTIMATE);
  }
  m.wave.resize(m.nk);
  m.mask.resize(m.nk);
  for (int k = 0; k < m.nk; ++k) {
    m.wave[k] = 2.0 * std::numbers::pi * k;
    m.mask[k] = (3 * k < n && k < n / 2) ? 1.0 : 0.0;
  }
}

BurgersSolver::~BurgersSolver() {
  {
    std::lock_guard lock(fftw_planner_mutex());
    fftw_destroy_plan(impl_->forward);
    fftw_destroy_plan(impl_->backward);
  }
  fftw_free(impl_->real);
  fftw_free(impl_->spec);
  delete impl_;
}

int BurgersSolver::default_steps(const std::vector<double>& u0, double t_end, double max_dt) {
  double umax = 0.0;
  for (double v : u0) umax = std::max(umax, std::abs(v));
  const double dx = 1.0 / static_cast<double>(u0.size());
  double dt = max_dt;
  if (umax * dt > dx) dt = dx / umax;
  return std::max(1, static_cast<int>(std::ceil(t_end / dt - 1e-9)));
}

std::vector<double> BurgersSolver::solve(const std::vector<double>& u0, double nu, double t_end, int steps,
                                         const std::function<void(double, const std::vector<double>&)>& observer) {
  if (static_cast<int>(u0.size()) != n_) {
    throw std::invalid_argument(fmt::format("Burgers solve: u0 has {} values, solver resolution is {}", u0.size(), n_));
  }
  if (steps < 1) throw std::invalid_argument(fmt::format("Burgers solve: step count {} must be >= 1", steps));
  Impl& m = *impl_;
  const double h = t_end / steps;
  m.coefficients(nu, h);
  std::vector<Complex> v, nv, a, na, b, nb, c, nc;
  m.to_spectrum(u0, v);
  a.resize(m.nk), b.resize(m.nk), c.resize(m.nk);
  std::vector<double> u;
  for (int s = 0; s < steps; ++s) {
    m.nonlinear(v, nv);
    for (int k = 0; k < m.nk; ++k) a[k] = m.e2[k] * v[k] + m.q[k] * nv[k];
    m.nonlinear(a, na);
    for (int k = 0; k < m.nk; ++k) b[k] = m.e2[k] * v[k] + m.q[k] * na[k];
    m.nonlinear(b, nb);
    for (int k = 0; k < m.nk; ++k) c[k] = m.e2[k] * a[k] + m.q[k] * (2.0 * nb[k] - nv[k]);
    m.nonlinear(c, nc);
    for (int k = 0; k < m.nk; ++k) {
      v[k] = m.e[k] * v[k] + m.f1[k] * nv[k] + 2.0 * m.f2[k] * (na[k] + nb[k]) + m.f3[k] * nc[k];
    }
    if (observer) {
      m.to_grid(v, u);
      observer(h * (s + 1), u);
    }
  }
  m.to_grid(v, u);
  return u;
}

double burgers_cole_hopf(double x, double t, double nu, double amplitude) {
  const double pi = std::numbers::pi;
  const double decay = amplitude * std::exp(-4.0 * pi * pi * nu * t);
  return 4.0 * pi * nu * decay * std::sin(2.0 * pi * x) / (1.0 + decay * std::cos(2.0 * pi * x));
}

}  // namespace mixpe::models
