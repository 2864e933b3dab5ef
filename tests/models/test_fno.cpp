// FNO / IFNO: DFT matrices against a naive DFT, the GEMM-form forward against the FFTW reference,
// backend calls against workload(), trained zoo models against PyTorch, config/weight errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numbers>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "models/io/safetensors.h"
#include "models/operators/dft.h"
#include "models/operators/fno.h"
#include "models/operators/operator.h"

namespace mixpe::models {
namespace {

namespace fs = std::filesystem;
using cd = std::complex<double>;

double rel_l2(const std::vector<float>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return std::sqrt(num / den);
}

double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  return rel_l2(a, std::vector<double>(b.begin(), b.end()));
}

std::vector<float> random_vector(std::size_t n, std::mt19937& rng, float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& e : v) e = u(rng);
  return v;
}

// y = W x for a row-major [n][k] float matrix, in double.
std::vector<double> matvec(const std::vector<float>& w, int n, int k, const std::vector<double>& x) {
  std::vector<double> y(n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < k; ++j) y[i] += w[static_cast<std::size_t>(i) * k + j] * x[j];
  return y;
}

TEST(Dft, TruncatedMatricesMatchNaiveDft) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int r : {7, 8, 12}) {
    // r2c: kept modes up to and including the Nyquist row when r is even.
    const int m = r / 2 + 1;
    std::vector<double> x(r);
    for (double& e : x) e = u(rng);
    const auto y = matvec(dft_r2c_matrix(r, m), 2 * m, r, x);
    for (int k = 0; k < m; ++k) {
      cd s = 0;
      for (int n = 0; n < r; ++n) s += x[n] * std::polar(1.0, -2 * std::numbers::pi * k * n / r);
      EXPECT_NEAR(y[2 * k], s.real(), 1e-6) << "r=" << r << " k=" << k;
      EXPECT_NEAR(y[2 * k + 1], s.imag(), 1e-6) << "r=" << r << " k=" << k;
    }
    // c2c forward and inverse on two-sided kept frequencies.
    const int mc = r / 2 - 1;
    const auto f = retained_frequencies(r, mc, true);
    ASSERT_EQ(f.size(), 2u * mc);
    EXPECT_EQ(f[mc], r - mc);
    std::vector<double> z(2 * r);
    for (double& e : z) e = u(rng);
    const auto zf = matvec(dft_c2c_matrix(r, f, false), 2 * static_cast<int>(f.size()), 2 * r, z);
    for (std::size_t j = 0; j < f.size(); ++j) {
      cd s = 0;
      for (int n = 0; n < r; ++n) s += cd(z[2 * n], z[2 * n + 1]) * std::polar(1.0, -2 * std::numbers::pi * f[j] * n / r);
      EXPECT_NEAR(zf[2 * j], s.real(), 1e-5);
      EXPECT_NEAR(zf[2 * j + 1], s.imag(), 1e-5);
    }
    std::vector<double> c(2 * f.size());
    for (double& e : c) e = u(rng);
    const auto zi = matvec(dft_c2c_matrix(r, f, true), 2 * r, 2 * static_cast<int>(f.size()), c);
    for (int n = 0; n < r; ++n) {
      cd s = 0;
      for (std::size_t j = 0; j < f.size(); ++j) s += cd(c[2 * j], c[2 * j + 1]) * std::polar(1.0, 2 * std::numbers::pi * f[j] * n / r);
      EXPECT_NEAR(zi[2 * n], s.real() / r, 1e-6);
      EXPECT_NEAR(zi[2 * n + 1], s.imag() / r, 1e-6);
    }
    // c2r: the full Hermitian spectrum of the kept half (imaginary parts at 0 and r/2 dropped,
    // as irfft does), then a naive complex inverse whose result is real.
    std::vector<double> h(2 * m);
    for (double& e : h) e = u(rng);
    const auto xr = matvec(idft_c2r_matrix(r, m), r, 2 * m, h);
    std::vector<cd> full(r, 0.0);
    for (int k = 0; k < m; ++k) {
      cd v(h[2 * k], h[2 * k + 1]);
      if (k == 0 || 2 * k == r) v = v.real();
      full[k] = v;
      if (k != 0) full[r - k] = std::conj(v);
    }
    for (int n = 0; n < r; ++n) {
      cd s = 0;
      for (int k = 0; k < r; ++k) s += full[k] * std::polar(1.0, 2 * std::numbers::pi * k * n / r);
      EXPECT_NEAR(s.imag(), 0.0, 1e-9);
      EXPECT_NEAR(xr[n], s.real() / r, 1e-6) << "r=" << r << " n=" << n;
    }
  }
  EXPECT_THROW(retained_frequencies(8, 5, true), std::invalid_argument);
  EXPECT_THROW(retained_frequencies(8, 6, false), std::invalid_argument);
}

// A model directory with random weights in the layout documented in zoo/*/README.md.
struct TempModel {
  fs::path dir;
  explicit TempModel(const nlohmann::json& config, unsigned seed, const std::vector<std::string>& skip = {}) {
    dir = fs::temp_directory_path() / ("mixpe_test_fno_" + std::to_string(::getpid()) + "_" + std::to_string(seed));
    fs::create_directories(dir);
    std::ofstream(dir / "config.json") << config.dump(2);
    const FnoConfig c = parse_fno_config(config, "test");
    std::mt19937 rng(seed);
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> shapes;
    std::vector<std::int64_t> in_shape(c.grid.begin(), c.grid.end()), out_shape = in_shape;
    in_shape.push_back(c.in_channels);
    out_shape.push_back(c.out_channels);
    shapes = {{"input_mean", in_shape}, {"input_std", in_shape}, {"output_mean", out_shape}, {"output_std", out_shape},
              {"lift.weight", {c.width, c.in_channels + c.dims}}, {"lift.bias", {c.width}}};
    std::vector<std::int64_t> spec{c.width, c.width};
    for (const auto& f : c.frequencies()) spec.push_back(static_cast<std::int64_t>(f.size()));
    for (int l = 0; l < (c.implicit ? 1 : c.layers); ++l) {
      const std::string p = "layers." + std::to_string(l) + ".";
      shapes.push_back({p + "spectral.weight_re", spec});
      shapes.push_back({p + "spectral.weight_im", spec});
      shapes.push_back({p + "pointwise.weight", {c.width, c.width}});
      shapes.push_back({p + "pointwise.bias", {c.width}});
    }
    shapes.push_back({"proj1.weight", {c.projection_width, c.width}});
    shapes.push_back({"proj1.bias", {c.projection_width}});
    shapes.push_back({"proj2.weight", {c.out_channels, c.projection_width}});
    shapes.push_back({"proj2.bias", {c.out_channels}});
    std::vector<std::vector<float>> values;
    std::vector<SafetensorsTensor> tensors;
    for (const auto& [name, shape] : shapes) {
      std::int64_t n = 1;
      for (auto s : shape) n *= s;
      float scale = 1.0f;
      if (name.find("weight") != std::string::npos) scale = 1.0f / std::sqrt(static_cast<float>(shape[1]));
      if (name.find("spectral") != std::string::npos) scale = 1.0f / static_cast<float>(c.width);
      values.push_back(name.find("_std") != std::string::npos ? random_vector(n, rng, 0.5f, 2.0f)
                                                               : random_vector(n, rng, -scale, scale));
    }
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      if (std::find(skip.begin(), skip.end(), shapes[i].first) != skip.end()) continue;
      SafetensorsTensor t;
      t.name = shapes[i].first;
      t.dtype = Dtype::kF32;
      t.shape = shapes[i].second;
      t.data = {reinterpret_cast<const std::uint8_t*>(values[i].data()), values[i].size() * sizeof(float)};
      tensors.push_back(t);
    }
    write_safetensors((dir / "model.safetensors").string(), tensors);
  }
  ~TempModel() { fs::remove_all(dir); }
};

nlohmann::json fno_config(const std::string& type, std::vector<int> grid, std::vector<int> modes, int in, int out, int width,
                          int layers) {
  return {{"model_type", type}, {"dims", grid.size()}, {"grid", grid},   {"in_channels", in}, {"out_channels", out},
          {"width", width},     {"layers", layers},     {"modes", modes}, {"projection_width", 16}};
}

struct Call {
  std::string name;
  std::int64_t m, n, k;
};

// Strips "layers.<i>." so a per-iteration op name can be matched to the (possibly shared) weight.
std::string strip_layer(const std::string& s) {
  if (s.rfind("layers.", 0) != 0) return s;
  return s.substr(s.find('.', 7) + 1);
}

class FnoForward : public ::testing::TestWithParam<std::tuple<std::string, nlohmann::json>> {};

TEST_P(FnoForward, GemmFormMatchesFftwReferenceAndWorkload) {
  const auto& [label, config] = GetParam();
  TempModel tm(config, 7);
  const auto op = load_operator(tm.dir.string());
  const int batch = 2;
  std::int64_t in_size = batch;
  for (auto s : op->input_shape()) in_size *= s;
  std::mt19937 rng(3);
  const auto x = random_vector(in_size, rng);
  std::vector<Call> calls;
  const LinearBackend backend = [&](const Linear& l, const std::vector<float>& in, int m) {
    calls.push_back({l.name, m, l.n, l.k});
    return linear_float(l, in, m);
  };
  const auto y = op->forward(x, batch, backend);
  const auto ref = op->forward_reference(x, batch);
  std::int64_t out_size = batch;
  for (auto s : op->output_shape()) out_size *= s;
  ASSERT_EQ(y.size(), static_cast<std::size_t>(out_size));
  ASSERT_EQ(ref.size(), y.size());
  const double err = rel_l2(y, ref);
  EXPECT_LT(err, 1e-5) << label;
  std::printf("%s: relative L2 GEMM form vs FFTW reference %.3g\n", label.c_str(), err);
  EXPECT_GT(std::sqrt(std::inner_product(y.begin(), y.end(), y.begin(), 0.0)), 0.0);

  // Backend calls in order == the workload's GEMM ops expanded by count.
  const auto ops = op->workload(batch);
  std::size_t next = 0;
  int spectral_ops = 0;
  for (const Op& o : ops) {
    if (o.kind != OpKind::kLinear) {
      EXPECT_GT(o.elements, 0) << o.name;
      EXPECT_GT(o.width, 0) << o.name;
      continue;
    }
    if (strip_layer(o.name) == "spectral") {
      ++spectral_ops;
      EXPECT_EQ(o.m, batch);
    }
    for (std::int64_t c = 0; c < o.count; ++c, ++next) {
      ASSERT_LT(next, calls.size()) << o.name;
      const Call& call = calls[next];
      const std::string want = strip_layer(o.name), got = strip_layer(call.name);
      EXPECT_TRUE(got == want || got.rfind(want + ".", 0) == 0) << o.name << " vs backend call " << call.name;
      EXPECT_EQ(call.m, o.m) << o.name;
      EXPECT_EQ(call.n, o.n) << o.name;
      EXPECT_EQ(call.k, o.k) << o.name;
    }
  }
  EXPECT_EQ(next, calls.size());
  EXPECT_EQ(spectral_ops, config["layers"].get<int>());
}

INSTANTIATE_TEST_SUITE_P(
    Configs, FnoForward,
    ::testing::Values(std::make_tuple("fno1d", fno_config("fno", {16}, {5}, 1, 1, 6, 3)),
                      std::make_tuple("fno1d_nyquist", fno_config("fno", {8}, {5}, 2, 1, 4, 2)),
                      std::make_tuple("ifno1d", fno_config("ifno", {20}, {6}, 1, 2, 5, 4)),
                      std::make_tuple("fno2d_nonsquare", fno_config("fno", {12, 10}, {3, 4}, 2, 1, 5, 2)),
                      std::make_tuple("ifno2d", fno_config("ifno", {8, 9}, {2, 5}, 1, 1, 4, 3)),
                      std::make_tuple("fno3d_tiny", fno_config("fno", {8, 8, 8}, {2, 3, 3}, 3, 3, 4, 2)),
                      std::make_tuple("fno3d_nonsquare", fno_config("fno", {6, 4, 7}, {2, 2, 3}, 1, 2, 3, 1))),
    [](const auto& info) { return std::get<0>(info.param); });

TEST(Fno, WorkloadShapes2d) {
  const nlohmann::json cfg = fno_config("fno", {12, 10}, {3, 4}, 2, 1, 5, 2);
  const auto op = make_fno(cfg, "inline", nullptr);
  const auto ops = op->workload(3);
  auto find = [&](const std::string& name) {
    for (const Op& o : ops)
      if (o.name == name) return o;
    ADD_FAILURE() << "no op " << name;
    return Op{};
  };
  const Op dft_y = find("layers.0.dft_y");  // rows: (batch, x, channel) lines along y
  EXPECT_EQ(dft_y.m, 3 * 12 * 5);
  EXPECT_EQ(dft_y.k, 10);
  EXPECT_EQ(dft_y.n, 2 * 4);
  const Op dft_x = find("layers.1.dft_x");  // rows: (batch, ky, channel) complex lines along x
  EXPECT_EQ(dft_x.m, 3 * 4 * 5);
  EXPECT_EQ(dft_x.k, 2 * 12);
  EXPECT_EQ(dft_x.n, 2 * 6);
  const Op spec = find("layers.1.spectral");
  EXPECT_EQ(spec.count, 6 * 4);
  EXPECT_EQ(spec.m, 3);
  EXPECT_EQ(spec.n, 10);
  EXPECT_EQ(spec.k, 10);
  const Op idft_y = find("layers.0.idft_y");
  EXPECT_EQ(idft_y.m, 3 * 12 * 5);
  EXPECT_EQ(idft_y.k, 2 * 4);
  EXPECT_EQ(idft_y.n, 10);
  EXPECT_EQ(find("layers.1.pointwise").m, 3 * 120);
  EXPECT_EQ(find("lift").k, 2 + 2);
  // No activation after the last Fourier layer of an FNO.
  for (const Op& o : ops) EXPECT_NE(o.name, "layers.1.gelu");
  EXPECT_EQ(find("layers.0.gelu").kind, OpKind::kActivation);
  // Shapes-only models cannot run.
  EXPECT_THROW(op->forward_reference(std::vector<float>(3 * 120 * 2), 3), std::logic_error);
}

TEST(Fno, PresetsLoadShapesOnly) {
  for (const char* name : {"fno3d-les", "ifno3d-les", "fno2d-ns"}) {
    const auto op = load_operator(name);
    const auto ops = op->workload(1);
    std::int64_t spectral = 0, dft = 0;
    for (const Op& o : ops) {
      if (o.name.find("spectral") != std::string::npos) spectral += o.macs();
      if (o.name.find("dft") != std::string::npos) dft += o.macs();
    }
    EXPECT_GT(spectral, 0) << name;
    EXPECT_GT(dft, 0) << name;
  }
  const auto les = load_operator("fno3d-les");
  EXPECT_EQ(les->input_shape(), (std::vector<std::int64_t>{64, 64, 64, 3}));
}

std::vector<double> read_f64(const SafetensorsFile& f, const std::string& name) {
  const SafetensorsTensor* t = f.find(name);
  if (!t) throw std::runtime_error(f.source() + ": no " + name);
  EXPECT_EQ(t->dtype, Dtype::kF64);
  std::vector<double> v(t->data.size() / 8);
  std::memcpy(v.data(), t->data.data(), t->data.size());
  return v;
}

class ZooModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ZooModel, ReproducesPyTorchReference) {
  // MIXPE_ZOO_DIR (as load_operator) lets the test run on freshly trained models elsewhere.
  const char* env = std::getenv("MIXPE_ZOO_DIR");
  const fs::path dir = fs::path(env && *env ? env : MIXPE_TEST_ZOO_DIR) / GetParam();
  ASSERT_TRUE(fs::exists(dir / "reference.safetensors")) << dir;
  const auto op = load_operator(dir.string());
  const SafetensorsFile ref = SafetensorsFile::open((dir / "reference.safetensors").string());
  const SafetensorsTensor* xt = ref.find("x");
  ASSERT_NE(xt, nullptr);
  std::vector<float> x(xt->data.size() / 4);
  std::memcpy(x.data(), xt->data.data(), xt->data.size());
  const int batch = static_cast<int>(xt->shape[0]);
  const auto y64 = read_f64(ref, "y_f64");
  const auto y = op->forward(x, batch, linear_float);
  const double err = rel_l2(y, y64);
  EXPECT_LT(err, 1e-5) << GetParam();
  const double err_ref = rel_l2(op->forward_reference(x, batch), y64);
  EXPECT_LT(err_ref, 1e-5) << GetParam();
  RecordProperty("rel_l2_gemm_form", std::to_string(err));
  std::printf("%s: relative L2 vs PyTorch float64: GEMM form %.3g, FFTW reference %.3g\n", GetParam().c_str(), err, err_ref);
}

INSTANTIATE_TEST_SUITE_P(Trained, ZooModel, ::testing::Values("fno-darcy", "fno1d-burgers", "ifno1d-burgers"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Fno, ConfigErrorsNameFileKeyAndValue) {
  nlohmann::json c = fno_config("fno", {16, 16}, {4, 4}, 1, 1, 4, 2);
  c["widht"] = 8;
  std::string msg = error_of([&] { parse_fno_config(c, "cfg.json"); });
  EXPECT_NE(msg.find("cfg.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("widht"), std::string::npos) << msg;
  c.erase("widht");
  c["modes"] = {9, 4};  // 2 * 9 > 16 along x
  msg = error_of([&] { parse_fno_config(c, "cfg.json"); });
  EXPECT_NE(msg.find("modes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[9,4]"), std::string::npos) << msg;
  c["modes"] = {4, 4};
  c["width"] = -3;
  msg = error_of([&] { parse_fno_config(c, "cfg.json"); });
  EXPECT_NE(msg.find("width"), std::string::npos) << msg;
  EXPECT_NE(msg.find("-3"), std::string::npos) << msg;
  c["width"] = 4;
  c["grid"] = {16};
  msg = error_of([&] { parse_fno_config(c, "cfg.json"); });
  EXPECT_NE(msg.find("grid"), std::string::npos) << msg;
  c["grid"] = {16, 16};
  c["model_type"] = "fnoo";
  msg = error_of([&] { parse_fno_config(c, "cfg.json"); });
  EXPECT_NE(msg.find("fnoo"), std::string::npos) << msg;
  c["model_type"] = "fno";
  EXPECT_EQ(error_of([&] { parse_fno_config(c, "cfg.json"); }), "(no error)");
}

TEST(Fno, WeightErrorsNameFileAndTensor) {
  const nlohmann::json c = fno_config("fno", {16}, {4}, 1, 1, 4, 2);
  {
    TempModel tm(c, 11, {"layers.1.spectral.weight_im"});
    const std::string msg = error_of([&] { load_operator(tm.dir.string()); });
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("layers.1.spectral.weight_im"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  }
  {
    // The weights are for 2 layers; a config asking for 3 finds no layers.2.*.
    TempModel tm(c, 12);
    nlohmann::json c3 = c;
    c3["layers"] = 3;
    std::ofstream(tm.dir / "config.json") << c3.dump();
    const std::string msg = error_of([&] { load_operator(tm.dir.string()); });
    EXPECT_NE(msg.find("layers.2."), std::string::npos) << msg;
  }
  {
    // Wider modes in the config than in the file: the spectral shape is wrong.
    TempModel tm(c, 13);
    nlohmann::json c5 = c;
    c5["modes"] = {5};
    std::ofstream(tm.dir / "config.json") << c5.dump();
    const std::string msg = error_of([&] { load_operator(tm.dir.string()); });
    EXPECT_NE(msg.find("layers.0.spectral.weight_re"), std::string::npos) << msg;
    EXPECT_NE(msg.find("shape"), std::string::npos) << msg;
  }
  EXPECT_NE(error_of([] { load_operator("no-such-operator-preset"); }).find("no-such-operator-preset"), std::string::npos);
}

}  // namespace
}  // namespace mixpe::models
