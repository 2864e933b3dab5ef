// Dataset generation on worker threads (per-sample random streams) and the safetensors layout.
#include "models/pde/dataset.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/io/safetensors.h"

namespace mixpe::models {
namespace {

void validate(const DatasetSpec& s) {
  auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
  if (s.problem != "darcy" && s.problem != "burgers") bad(fmt::format("problem '{}' is not darcy or burgers", s.problem));
  if (s.n_train < 1) bad(fmt::format("n_train {} must be >= 1", s.n_train));
  if (s.n_test < 0) bad(fmt::format("n_test {} must be >= 0", s.n_test));
  if (s.threads < 1) bad(fmt::format("threads {} must be >= 1", s.threads));
  if (s.problem == "darcy") {
    const DarcyParams& p = s.darcy;
    if (p.resolution < 3 || p.resolution > 4096) bad(fmt::format("Darcy resolution {} must be in [3, 4096]", p.resolution));
    if (!(p.a_pos > 0.0) || !(p.a_neg > 0.0)) bad(fmt::format("Darcy coefficients {} and {} must be > 0", p.a_pos, p.a_neg));
    if (p.grf.modes < 1) bad(fmt::format("Darcy GRF modes {} must be >= 1", p.grf.modes));
  } else {
    const BurgersParams& p = s.burgers;
    if (p.resolution < 2) bad(fmt::format("Burgers resolution {} must be >= 2", p.resolution));
    if (p.solver_resolution < 8 || p.solver_resolution % 2 != 0) {
      bad(fmt::format("Burgers solver resolution {} must be even and >= 8", p.solver_resolution));
    }
    if (p.solver_resolution % p.resolution != 0) {
      bad(fmt::format("Burgers resolution {} does not divide the solver resolution {}", p.resolution, p.solver_resolution));
    }
    if (p.grf.modes < 1 || 3 * p.grf.modes >= p.solver_resolution) {
      bad(fmt::format("Burgers GRF modes {} must be in [1, solver resolution / 3)", p.grf.modes));
    }
    if (!(p.nu > 0.0)) bad(fmt::format("Burgers nu {} must be > 0", p.nu));
    if (!(p.t_end > 0.0)) bad(fmt::format("Burgers t_end {} must be > 0", p.t_end));
    if (!(p.max_dt > 0.0)) bad(fmt::format("Burgers max_dt {} must be > 0", p.max_dt));
  }
}

std::map<std::string, std::string> spec_metadata(const DatasetSpec& s) {
  std::map<std::string, std::string> m;
  m["problem"] = s.problem;
  m["seed"] = std::to_string(s.seed);
  m["generator"] = "mixpe data";
  if (s.problem == "darcy") {
    const DarcyParams& p = s.darcy;
    m["resolution"] = std::to_string(p.resolution);
    m["solver_resolution"] = std::to_string(p.resolution);
    m["equation"] = "-div(a grad u) = f on (0,1)^2, u = 0 on the boundary";
    m["grid"] = "R x R nodes x_i = i/(R-1) including the boundary";
    m["discretization"] = "5-point finite differences, harmonic-mean face coefficients, sparse LDL^T";
    m["coefficient"] = "a = a_pos where GRF >= 0, a_neg elsewhere; GRF covariance sigma^2 (-Laplacian + tau^2)^(-alpha), Neumann cosine modes, mean mode 0";
    m["alpha"] = fmt::format("{}", p.grf.alpha);
    m["tau"] = fmt::format("{}", p.grf.tau);
    m["grf_modes"] = std::to_string(p.grf.modes);
    m["a_pos"] = fmt::format("{}", p.a_pos);
    m["a_neg"] = fmt::format("{}", p.a_neg);
    m["f"] = fmt::format("{}", p.forcing);
    m["x"] = "a";
    m["y"] = "u";
  } else {
    const BurgersParams& p = s.burgers;
    m["resolution"] = std::to_string(p.resolution);
    m["solver_resolution"] = std::to_string(p.solver_resolution);
    m["equation"] = "u_t + (u^2/2)_x = nu u_xx, periodic on [0,1)";
    m["grid"] = "R nodes x_j = j/R";
    m["discretization"] = "Fourier pseudo-spectral, 2/3 dealiasing, ETDRK4";
    m["initial_condition"] = "GRF covariance sigma^2 (-Laplacian + tau^2)^(-alpha), Fourier modes 1..grf_modes";
    m["nu"] = fmt::format("{}", p.nu);
    m["t_end"] = fmt::format("{}", p.t_end);
    m["max_dt"] = fmt::format("{}", p.max_dt);
    m["alpha"] = fmt::format("{}", p.grf.alpha);
    m["tau"] = fmt::format("{}", p.grf.tau);
    m["sigma"] = fmt::format("{}", p.grf.sigma);
    m["grf_modes"] = std::to_string(p.grf.modes);
    m["x"] = "u(t=0)";
    m["y"] = fmt::format("u(t={})", p.t_end);
  }
  return m;
}

std::int64_t numel(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

}  // namespace

void darcy_sample(const DarcyParams& p, FieldRng& rng, DarcySolver& solver, float* x, float* y) {
  const std::vector<double> a = darcy_coefficient(p, rng);
  const std::vector<double> f(a.size(), p.forcing);
  const std::vector<double> u = solver.solve(a, f);
  for (std::size_t i = 0; i < a.size(); ++i) {
    x[i] = static_cast<float>(a[i]);
    y[i] = static_cast<float>(u[i]);
  }
}

void burgers_sample(const BurgersParams& p, FieldRng& rng, BurgersSolver& solver, float* x, float* y) {
  const int n = solver.size(), stride = n / p.resolution;
  const std::vector<double> u0 = grf_periodic_1d(n, p.grf, rng);
  const int steps = BurgersSolver::default_steps(u0, p.t_end, p.max_dt);
  const std::vector<double> u1 = solver.solve(u0, p.nu, p.t_end, steps);
  for (int j = 0; j < p.resolution; ++j) {
    x[j] = static_cast<float>(u0[static_cast<std::size_t>(j) * stride]);
    y[j] = static_cast<float>(u1[static_cast<std::size_t>(j) * stride]);
  }
}

OperatorDataset generate_dataset(const DatasetSpec& spec, const std::function<void(int, int)>& progress) {
  validate(spec);
  OperatorDataset ds;
  ds.problem = spec.problem;
  if (spec.problem == "darcy") {
    const std::int64_t r = spec.darcy.resolution;
    ds.sample_shape_x = ds.sample_shape_y = {r, r, 1};
  } else {
    ds.sample_shape_x = ds.sample_shape_y = {spec.burgers.resolution, 1};
  }
  ds.n_train = spec.n_train;
  ds.n_test = spec.n_test;
  const std::size_t sx = numel(ds.sample_shape_x), sy = numel(ds.sample_shape_y);
  ds.train_x.resize(sx * spec.n_train);
  ds.train_y.resize(sy * spec.n_train);
  ds.test_x.resize(sx * spec.n_test);
  ds.test_y.resize(sy * spec.n_test);
  ds.metadata = spec_metadata(spec);

  const int total = spec.n_train + spec.n_test;
  const int threads = std::min(spec.threads, total);
  std::atomic<int> done{0};
  std::mutex mutex;
  std::condition_variable finished;
  int running = threads;
  std::vector<std::exception_ptr> errors(threads);
  auto work = [&](int t) {
    try {
      std::unique_ptr<DarcySolver> darcy;
      std::unique_ptr<BurgersSolver> burgers;
      if (spec.problem == "darcy") darcy = std::make_unique<DarcySolver>(spec.darcy.resolution);
      else burgers = std::make_unique<BurgersSolver>(spec.burgers.solver_resolution);
      // Interleaved assignment balances the work; the result does not depend on it.
      for (int g = t; g < total; g += threads) {
        const bool train = g < spec.n_train;
        const int index = train ? g : g - spec.n_train;
        float* x = (train ? ds.train_x.data() : ds.test_x.data()) + sx * index;
        float* y = (train ? ds.train_y.data() : ds.test_y.data()) + sy * index;
        FieldRng rng = FieldRng::for_sample(spec.seed, train ? 0 : 1, static_cast<std::uint64_t>(index));
        if (darcy) darcy_sample(spec.darcy, rng, *darcy, x, y);
        else burgers_sample(spec.burgers, rng, *burgers, x, y);
        done.fetch_add(1);
      }
    } catch (...) {
      errors[t] = std::current_exception();
    }
    std::lock_guard lock(mutex);
    --running;
    finished.notify_all();
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
  {
    std::unique_lock lock(mutex);
    while (running > 0) {
      finished.wait_for(lock, std::chrono::milliseconds(500), [&] { return running == 0; });
      if (progress && running > 0) {
        lock.unlock();
        progress(done.load(), total);
        lock.lock();
      }
    }
  }
  for (std::thread& th : pool) th.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  if (progress) progress(total, total);
  return ds;
}

void write_dataset(const std::string& path, const OperatorDataset& ds) {
  const std::int64_t sx = numel(ds.sample_shape_x), sy = numel(ds.sample_shape_y);
  auto shape = [](std::int64_t n, const std::vector<std::int64_t>& sample) {
    std::vector<std::int64_t> s{n};
    s.insert(s.end(), sample.begin(), sample.end());
    return s;
  };
  auto bytes = [](const std::vector<float>& v) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * sizeof(float));
  };
  struct Part {
    const char* name;
    std::int64_t n;
    const std::vector<std::int64_t>* sample;
    std::int64_t sample_size;
    const std::vector<float>* data;
  };
  const Part parts[] = {{"train.x", ds.n_train, &ds.sample_shape_x, sx, &ds.train_x},
                        {"train.y", ds.n_train, &ds.sample_shape_y, sy, &ds.train_y},
                        {"test.x", ds.n_test, &ds.sample_shape_x, sx, &ds.test_x},
                        {"test.y", ds.n_test, &ds.sample_shape_y, sy, &ds.test_y}};
  std::vector<SafetensorsTensor> tensors;
  for (const Part& p : parts) {
    if (static_cast<std::int64_t>(p.data->size()) != p.n * p.sample_size) {
      throw std::invalid_argument(fmt::format("{}: tensor '{}' has {} values, {} samples of shape [{}] need {}", path, p.name,
                                              p.data->size(), p.n, fmt::join(*p.sample, ", "), p.n * p.sample_size));
    }
    tensors.push_back({p.name, Dtype::kF32, shape(p.n, *p.sample), bytes(*p.data)});
  }
  std::map<std::string, std::string> meta = ds.metadata;
  meta["problem"] = ds.problem;
  meta["n_train"] = std::to_string(ds.n_train);
  meta["n_test"] = std::to_string(ds.n_test);
  meta["layout"] = "channels last: x [N, spatial..., 1], y [N, spatial..., 1], float32";
  write_safetensors(path, tensors, meta);
}

OperatorDataset read_dataset(const std::string& path) {
  const SafetensorsFile file = SafetensorsFile::open(path);
  OperatorDataset ds;
  ds.metadata = file.metadata();
  const auto problem = ds.metadata.find("problem");
  if (problem == ds.metadata.end()) throw_format_error(path, "__metadata__.problem", "missing");
  ds.problem = problem->second;

  auto get = [&](const char* name) -> const SafetensorsTensor& {
    const SafetensorsTensor* t = file.find(name);
    if (t == nullptr) throw_format_error(path, name, "tensor missing");
    if (t->dtype != Dtype::kF32) throw_format_error(path, name, fmt::format("dtype {}, expected F32", dtype_name(t->dtype)));
    if (t->shape.size() < 2) throw_format_error(path, name, fmt::format("shape [{}] has no sample dimensions", fmt::join(t->shape, ", ")));
    return *t;
  };
  const SafetensorsTensor& trx = get("train.x");
  const SafetensorsTensor& try_ = get("train.y");
  const SafetensorsTensor& tex = get("test.x");
  const SafetensorsTensor& tey = get("test.y");
  auto sample = [](const SafetensorsTensor& t) { return std::vector<std::int64_t>(t.shape.begin() + 1, t.shape.end()); };
  auto mismatch = [&](const SafetensorsTensor& t, const SafetensorsTensor& ref, const char* what) {
    throw_format_error(path, t.name,
                       fmt::format("shape [{}] disagrees with {} [{}] in {}", fmt::join(t.shape, ", "), ref.name, fmt::join(ref.shape, ", "), what));
  };
  if (try_.shape[0] != trx.shape[0]) mismatch(try_, trx, "sample count");
  if (tey.shape[0] != tex.shape[0]) mismatch(tey, tex, "sample count");
  if (sample(tex) != sample(trx)) mismatch(tex, trx, "sample shape");
  if (sample(tey) != sample(try_)) mismatch(tey, try_, "sample shape");
  ds.sample_shape_x = sample(trx);
  ds.sample_shape_y = sample(try_);
  ds.n_train = static_cast<int>(trx.shape[0]);
  ds.n_test = static_cast<int>(tex.shape[0]);
  auto check_count = [&](const char* key, int n, const SafetensorsTensor& t) {
    const auto it = ds.metadata.find(key);
    if (it != ds.metadata.end() && it->second != std::to_string(n)) {
      throw_format_error(path, t.name, fmt::format("{} samples but metadata {} = '{}'", n, key, it->second));
    }
  };
  check_count("n_train", ds.n_train, trx);
  check_count("n_test", ds.n_test, tex);
  auto copy = [](const SafetensorsTensor& t) {
    std::vector<float> v(t.data.size() / sizeof(float));
    if (!v.empty()) std::memcpy(v.data(), t.data.data(), t.data.size());
    return v;
  };
  ds.train_x = copy(trx);
  ds.train_y = copy(try_);
  ds.test_x = copy(tex);
  ds.test_y = copy(tey);
  return ds;
}

}  // namespace mixpe::models
