// PDE data generators: Darcy convergence and conservation, Burgers vs Cole-Hopf, GRF statistics,
// determinism and the dataset file's validation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <span>
#include <numbers>

#include "models/io/safetensors.h"
#include "models/pde/burgers.h"
#include "models/pde/darcy.h"
#include "models/pde/dataset.h"
#include "models/pde/grf.h"
#include "tests/models/test_util.h"

namespace mixpe::models {
namespace {

constexpr double kPi = std::numbers::pi;

// Max-norm error of the Darcy solve against u = sin(pi x) sin(pi y) with a = 1, f = 2 pi^2 u.
double darcy_manufactured_error(int r) {
  const std::size_t nodes = static_cast<std::size_t>(r) * r;
  std::vector<double> a(nodes, 1.0), f(nodes), exact(nodes);
  for (int i = 0; i < r; ++i) {
    for (int j = 0; j < r; ++j) {
      const double x = static_cast<double>(i) / (r - 1), y = static_cast<double>(j) / (r - 1);
      exact[i * r + j] = std::sin(kPi * x) * std::sin(kPi * y);
      f[i * r + j] = 2.0 * kPi * kPi * exact[i * r + j];
    }
  }
  const std::vector<double> u = darcy_solve(a, f, r);
  double err = 0.0;
  for (std::size_t k = 0; k < nodes; ++k) err = std::max(err, std::abs(u[k] - exact[k]));
  return err;
}

TEST(Darcy, ManufacturedSolutionConvergesSecondOrder) {
  const double e16 = darcy_manufactured_error(17), e32 = darcy_manufactured_error(33), e64 = darcy_manufactured_error(65);
  // The 5-point stencil's leading error is h^2 pi^2/12 |u|-scaled: 3.2e-3 at h = 1/16.
  EXPECT_LT(e16, 5e-3);
  EXPECT_NEAR(std::log2(e16 / e32), 2.0, 0.05);
  EXPECT_NEAR(std::log2(e32 / e64), 2.0, 0.05);
}

// Piecewise coefficient symmetric under x <-> y: a checkerboard-like pattern plus an inclusion.
std::vector<double> symmetric_piecewise(int r) {
  std::vector<double> a(static_cast<std::size_t>(r) * r);
  for (int i = 0; i < r; ++i) {
    for (int j = 0; j < r; ++j) {
      const double x = static_cast<double>(i) / (r - 1), y = static_cast<double>(j) / (r - 1);
      const bool inclusion = (x - 0.3) * (x - 0.3) + (y - 0.3) * (y - 0.3) < 0.04;
      a[i * r + j] = inclusion || (x > 0.6 && y > 0.6) ? 12.0 : 3.0;
    }
  }
  return a;
}

TEST(Darcy, PiecewiseCoefficientConservesFluxAndSymmetry) {
  const int r = 41;
  const std::vector<double> a = symmetric_piecewise(r);
  const std::vector<double> f(a.size(), 1.0);
  const std::vector<double> u = darcy_solve(a, f, r);
  const double h = 1.0 / (r - 1);
  // Summing every interior equation telescopes to: boundary flux = sum f h^2 over (r-2)^2 nodes.
  const double source = (r - 2) * (r - 2) * h * h;
  EXPECT_NEAR(darcy_boundary_flux(a, u, r), source, 1e-11 * source);
  double asym = 0.0, umin = 1.0;
  for (int i = 0; i < r; ++i) {
    for (int j = 0; j < r; ++j) {
      asym = std::max(asym, std::abs(u[i * r + j] - u[j * r + i]));
      if (i > 0 && j > 0 && i < r - 1 && j < r - 1) umin = std::min(umin, u[i * r + j]);
    }
  }
  EXPECT_LT(asym, 1e-14);
  EXPECT_GT(umin, 0.0);  // discrete maximum principle for f > 0
  // Boundary values are exactly zero.
  for (int k = 0; k < r; ++k) {
    EXPECT_EQ(u[k], 0.0);
    EXPECT_EQ(u[k * r + r - 1], 0.0);
  }
}

TEST(Darcy, HigherCoefficientLowersSolution) {
  // -div(a grad u) = 1 scales as 1/a for constant a: an exact check of the coefficient's scaling.
  const int r = 21;
  const std::vector<double> f(r * r, 1.0);
  const std::vector<double> u3 = darcy_solve(std::vector<double>(r * r, 3.0), f, r);
  const std::vector<double> u12 = darcy_solve(std::vector<double>(r * r, 12.0), f, r);
  for (int k = 0; k < r * r; ++k) EXPECT_NEAR(u12[k] * 4.0, u3[k], 1e-14);
  // Center value of the unit-square torsion problem is 0.0736713... / a (series solution).
  EXPECT_NEAR(u3[(r / 2) * r + r / 2] * 3.0, 0.0736713, 5e-4);
}

std::vector<double> cole_hopf_grid(int n, double t, double nu, double amplitude) {
  std::vector<double> u(n);
  for (int j = 0; j < n; ++j) u[j] = burgers_cole_hopf(static_cast<double>(j) / n, t, nu, amplitude);
  return u;
}

TEST(Burgers, MatchesColeHopf) {
  const int n = 256;
  const double nu = 0.1, amplitude = 0.5;
  BurgersSolver solver(n);
  const std::vector<double> u0 = cole_hopf_grid(n, 0.0, nu, amplitude);
  for (double t : {0.5, 1.0}) {
    const std::vector<double> u = solver.solve(u0, nu, t, static_cast<int>(std::lround(t * 200)));
    const std::vector<double> exact = cole_hopf_grid(n, t, nu, amplitude);
    double err = 0.0;
    for (int j = 0; j < n; ++j) err = std::max(err, std::abs(u[j] - exact[j]));
    EXPECT_LT(err, 1e-9) << "t = " << t;
  }
}

TEST(Burgers, ConservesMeanAndDissipatesEnergy) {
  const int n = 512;
  GrfParams grf{2.0, 5.0, 25.0, 64};
  FieldRng rng(7);
  std::vector<double> u0 = grf_periodic_1d(n, grf, rng);
  for (double& v : u0) v += 0.3;  // nonzero mean
  auto mean = [](const std::vector<double>& u) {
    double s = 0.0;
    for (double v : u) s += v;
    return s / u.size();
  };
  auto energy = [](const std::vector<double>& u) {
    double s = 0.0;
    for (double v : u) s += v * v;
    return s / u.size();
  };
  const double m0 = mean(u0);
  double last_energy = energy(u0), max_mean_drift = 0.0;
  int increases = 0, steps_seen = 0;
  BurgersSolver solver(n);
  solver.solve(u0, 0.1, 1.0, 500, [&](double, const std::vector<double>& u) {
    max_mean_drift = std::max(max_mean_drift, std::abs(mean(u) - m0));
    const double e = energy(u);
    if (e > last_energy) ++increases;
    last_energy = e;
    ++steps_seen;
  });
  EXPECT_EQ(steps_seen, 500);
  EXPECT_LT(max_mean_drift, 1e-12);
  EXPECT_EQ(increases, 0);
  EXPECT_LT(last_energy, 0.5 * energy(u0));
}

TEST(Burgers, TimeStepConverges) {
  // Self-convergence on a GRF sample: halving dt changes u(1) by far less than the data's float32
  // rounding, so the default step is not a source of error.
  const int n = 1024;
  BurgersParams p;
  FieldRng rng(3);
  const std::vector<double> u0 = grf_periodic_1d(n, p.grf, rng);
  BurgersSolver solver(n);
  const int steps = BurgersSolver::default_steps(u0, 1.0, p.max_dt);
  const std::vector<double> a = solver.solve(u0, p.nu, 1.0, steps), b = solver.solve(u0, p.nu, 1.0, 2 * steps);
  double diff = 0.0, scale = 0.0;
  for (int j = 0; j < n; ++j) {
    diff = std::max(diff, std::abs(a[j] - b[j]));
    scale = std::max(scale, std::abs(b[j]));
  }
  EXPECT_GT(scale, 1e-3);  // u(1) is ~50x smaller than u0 at nu = 0.1
  EXPECT_LT(diff, 1e-8 * scale) << "diff " << diff << " scale " << scale;
}

TEST(Grf, DeterministicAndZeroMean) {
  GrfParams p{2.0, 3.0, 1.0, 16};
  FieldRng r1 = FieldRng::for_sample(5, 0, 3), r2 = FieldRng::for_sample(5, 0, 3), r3 = FieldRng::for_sample(5, 0, 4);
  const std::vector<double> a = grf_neumann_2d(17, p, r1), b = grf_neumann_2d(17, p, r2), c = grf_neumann_2d(17, p, r3);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Pointwise mean over samples ~ 0 and variance near the covariance's diagonal.
  const int samples = 400;
  const int center = 8 * 17 + 8;
  double sum = 0.0, sum_sq = 0.0;
  for (int s = 0; s < samples; ++s) {
    FieldRng rng = FieldRng::for_sample(11, 0, s);
    const double v = grf_neumann_2d(17, p, rng)[center];
    sum += v;
    sum_sq += v * v;
  }
  // Variance at (1/2, 1/2): sum over k != 0 of phi_k^2 / lambda_k^2 (only even k contribute).
  double var = 0.0;
  for (int k1 = 0; k1 < 16; ++k1) {
    for (int k2 = 0; k2 < 16; ++k2) {
      if (k1 == 0 && k2 == 0) continue;
      const double phi1 = k1 == 0 ? 1.0 : std::sqrt(2.0) * std::cos(kPi * k1 * 0.5);
      const double phi2 = k2 == 0 ? 1.0 : std::sqrt(2.0) * std::cos(kPi * k2 * 0.5);
      const double lambda = kPi * kPi * (k1 * k1 + k2 * k2) + 9.0;
      var += phi1 * phi1 * phi2 * phi2 / (lambda * lambda);
    }
  }
  const double mean = sum / samples, sample_var = sum_sq / samples - mean * mean;
  EXPECT_LT(std::abs(mean), 4.0 * std::sqrt(var / samples));  // 4 standard errors
  EXPECT_NEAR(sample_var / var, 1.0, 0.25);
}

TEST(Grf, PeriodicFieldMatchesCovariance) {
  GrfParams p{2.0, 5.0, 25.0, 64};
  double sum_sq = 0.0, sum = 0.0;
  const int samples = 400;
  for (int s = 0; s < samples; ++s) {
    FieldRng rng = FieldRng::for_sample(2, 1, s);
    const std::vector<double> u = grf_periodic_1d(256, p, rng);
    double m = 0.0;
    for (double v : u) m += v;
    EXPECT_NEAR(m / u.size(), 0.0, 1e-13);  // no mean mode
    sum += u[0];
    sum_sq += u[0] * u[0];
  }
  double var = 0.0;
  for (int k = 1; k <= 64; ++k) var += 2.0 * 625.0 / std::pow(4.0 * kPi * kPi * k * k + 25.0, 2.0);
  EXPECT_NEAR(sum_sq / samples / var, 1.0, 0.25);
  EXPECT_LT(std::abs(sum / samples), 4.0 * std::sqrt(var / samples));
}

DatasetSpec small_spec(const std::string& problem) {
  DatasetSpec s;
  s.problem = problem;
  s.n_train = 5;
  s.n_test = 3;
  s.seed = 9;
  s.darcy.resolution = 17;
  s.burgers.resolution = 32;
  s.burgers.solver_resolution = 256;
  s.burgers.max_dt = 1e-2;
  return s;
}

TEST(Dataset, IndependentOfThreadsAndTrainCount) {
  for (const char* problem : {"darcy", "burgers"}) {
    DatasetSpec s = small_spec(problem);
    s.threads = 1;
    const OperatorDataset one = generate_dataset(s);
    s.threads = 3;
    const OperatorDataset three = generate_dataset(s);
    EXPECT_EQ(one.train_x, three.train_x) << problem;
    EXPECT_EQ(one.train_y, three.train_y) << problem;
    EXPECT_EQ(one.test_x, three.test_x) << problem;
    EXPECT_EQ(one.test_y, three.test_y) << problem;
    s.n_train = 2;
    const OperatorDataset fewer = generate_dataset(s);
    EXPECT_EQ(fewer.test_y, one.test_y) << problem;
    EXPECT_TRUE(std::equal(fewer.train_y.begin(), fewer.train_y.end(), one.train_y.begin())) << problem;
    s.seed = 10;
    EXPECT_NE(generate_dataset(s).test_y, one.test_y) << problem;
  }
}

TEST(Dataset, DarcySamplesArePhysical) {
  const OperatorDataset ds = generate_dataset(small_spec("darcy"));
  ASSERT_EQ(ds.sample_shape_x, (std::vector<std::int64_t>{17, 17, 1}));
  int high = 0;
  for (float a : ds.train_x) {
    ASSERT_TRUE(a == 12.0f || a == 3.0f);
    high += a == 12.0f;
  }
  EXPECT_GT(high, 0);
  EXPECT_LT(high, static_cast<int>(ds.train_x.size()));
  for (int s = 0; s < ds.n_train; ++s) {
    const float* u = ds.train_y.data() + s * 17 * 17;
    EXPECT_EQ(u[0], 0.0f);
    EXPECT_GT(u[8 * 17 + 8], 0.001f);  // between the all-12 and all-3 center values
    EXPECT_LT(u[8 * 17 + 8], 0.03f);
  }
}

TEST(Dataset, WriteReadRoundTripIsByteExact) {
  testing::TempDir dir;
  const OperatorDataset ds = generate_dataset(small_spec("burgers"));
  const std::string a = dir.file("a.safetensors"), b = dir.file("b.safetensors");
  write_dataset(a, ds);
  write_dataset(b, generate_dataset(small_spec("burgers")));
  EXPECT_EQ(testing::read_bytes(a), testing::read_bytes(b));
  const OperatorDataset back = read_dataset(a);
  EXPECT_EQ(back.problem, "burgers");
  EXPECT_EQ(back.n_train, 5);
  EXPECT_EQ(back.n_test, 3);
  EXPECT_EQ(back.sample_shape_x, (std::vector<std::int64_t>{32, 1}));
  EXPECT_EQ(back.train_x, ds.train_x);
  EXPECT_EQ(back.test_y, ds.test_y);
  EXPECT_EQ(back.metadata.at("nu"), "0.1");
  EXPECT_EQ(back.metadata.at("solver_resolution"), "256");
  EXPECT_EQ(back.metadata.at("seed"), "9");
  EXPECT_EQ(dir.entry_count(), 2u);  // no temporaries left behind
}

// Writes a small valid dataset with the tensor list changed by `edit`; returns read_dataset's error.
std::string expect_read_error(const std::string& path, const std::function<void(std::vector<SafetensorsTensor>&)>& edit) {
  std::vector<float> buffer(64, 1.0f);
  std::vector<SafetensorsTensor> tensors;
  for (const char* name : {"train.x", "train.y", "test.x", "test.y"}) {
    const std::int64_t n = name[1] == 'r' ? 2 : 1;
    tensors.push_back({name, Dtype::kF32, {n, 4, 1}, {}});
  }
  edit(tensors);
  for (SafetensorsTensor& t : tensors) {
    std::int64_t numel = 1;
    for (std::int64_t d : t.shape) numel *= d;
    t.data = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(buffer.data()), numel * dtype_size(t.dtype));
  }
  write_safetensors(path, tensors, {{"problem", "burgers"}});
  try {
    read_dataset(path);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Dataset, ReadRejectsBadFiles) {
  testing::TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  EXPECT_EQ(expect_read_error(path, [](auto&) {}), "no error");
  std::string msg = expect_read_error(path, [](auto& t) { t.erase(t.begin() + 2); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("test.x"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  msg = expect_read_error(path, [](auto& t) { t[1].dtype = Dtype::kF16; });
  EXPECT_NE(msg.find("train.y"), std::string::npos) << msg;
  EXPECT_NE(msg.find("F16"), std::string::npos) << msg;
  msg = expect_read_error(path, [](auto& t) { t[1].shape[0] = 1; });
  EXPECT_NE(msg.find("train.y"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sample count"), std::string::npos) << msg;
  msg = expect_read_error(path, [](auto& t) { t[2].shape = {1, 8, 1}; });
  EXPECT_NE(msg.find("test.x"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sample shape"), std::string::npos) << msg;
}

TEST(Dataset, RejectsBadSpecs) {
  DatasetSpec s = small_spec("burgers");
  s.burgers.resolution = 48;  // does not divide 256
  EXPECT_THROW(generate_dataset(s), std::invalid_argument);
  s = small_spec("heat");
  EXPECT_THROW(generate_dataset(s), std::invalid_argument);
  s = small_spec("darcy");
  s.n_train = 0;
  EXPECT_THROW(generate_dataset(s), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::models
