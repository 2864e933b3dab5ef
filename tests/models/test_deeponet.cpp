// DeepONet: GEMM forward against the plain-loop reference (standard and MultiONet), backend calls
// against workload(), the trunk-as-weight inner product, the trained zoo model against PyTorch,
// and config / weight-file errors.
#include "models/operators/deeponet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/io/safetensors.h"
#include "test_util.h"

namespace mixpe::models {
namespace {

using nlohmann::json;
using testing::TempDir;

double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / den);
}

json small_config(bool multionet, const char* act = "gelu") {
  return {{"model_type", "deeponet"}, {"resolution", 24}, {"latent", 16}, {"branch_width", 16}, {"branch_layers", 3},
          {"trunk_width", 16}, {"trunk_layers", 3}, {"activation", act}, {"multionet", multionet}};
}

std::string write_random_weights(const TempDir& dir, const json& config, std::uint32_t seed, const std::string& skip = "") {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> data;
  std::vector<SafetensorsTensor> tensors;
  const auto shapes = deeponet_weight_shapes(config, "config");
  data.reserve(shapes.size());
  for (const auto& [name, shape] : shapes) {
    if (name == skip) continue;
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    std::vector<float> v(n);
    const float scale = shape.size() == 2 ? 1.0f / std::sqrt(static_cast<float>(shape[1])) : 0.3f;
    for (float& x : v) x = scale * normal(rng);
    if (name == "input_norm" || name == "output_norm") v = {0.2f, 1.7f};  // mean, std
    data.push_back(std::move(v));
    SafetensorsTensor t;
    t.name = name;
    t.shape = shape;
    t.data = {reinterpret_cast<const std::uint8_t*>(data.back().data()), n * sizeof(float)};
    tensors.push_back(t);
  }
  const std::string path = dir.file("model.safetensors");
  write_safetensors(path, tensors);
  return path;
}

std::vector<float> random_input(int batch, int r, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(batch) * r);
  for (float& v : x) v = normal(rng);
  return x;
}

class DeeponetForward : public ::testing::TestWithParam<std::tuple<bool, const char*, const char*>> {};

TEST_P(DeeponetForward, GemmForwardMatchesReference) {
  const auto [multionet, act, features] = GetParam();
  json config = small_config(multionet, act);
  config["trunk_features"] = features;
  TempDir dir;
  const SafetensorsFile weights = SafetensorsFile::open(write_random_weights(dir, config, 5));
  const auto model = make_deeponet(config, "config.json", &weights);
  const auto x = random_input(3, 24, 6);
  const auto y = model->forward(x, 3, linear_float);
  const auto ref = model->forward_reference(x, 3);
  ASSERT_EQ(y.size(), 3u * 24);
  EXPECT_LT(rel_l2(y, ref), 1e-5);
  // samples differ (the branch sees the input)
  EXPECT_GT(std::abs(y[0] - y[24]) + std::abs(y[5] - y[29]), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Configs, DeeponetForward,
                         ::testing::Values(std::tuple{false, "gelu", "periodic"}, std::tuple{true, "tanh", "periodic"},
                                           std::tuple{false, "tanh", "x"}));

// Independent of the model code: the formula written out for one sample and one query point.
TEST(Deeponet, ForwardMatchesHandWrittenFormula) {
  const json config = {{"model_type", "deeponet"}, {"resolution", 8}, {"latent", 3}, {"branch_width", 4},
                       {"branch_layers", 2}, {"trunk_width", 5}, {"trunk_layers", 2}, {"activation", "tanh"}};
  TempDir dir;
  const std::string path = write_random_weights(dir, config, 11);
  const SafetensorsFile weights = SafetensorsFile::open(path);
  const auto model = make_deeponet(config, "config.json", &weights);
  auto get = [&](const std::string& n) { return to_float32(Dtype::kF32, weights.find(n)->data); };
  const auto x = random_input(1, 8, 12);
  const auto y = model->forward(x, 1, linear_float);
  auto mlp = [&](const std::string& p, std::vector<double> v, bool act_last) {
    for (int l = 0; l < 2; ++l) {
      const auto w = get(fmt::format("{}.{}.weight", p, l));
      const auto b = get(fmt::format("{}.{}.bias", p, l));
      std::vector<double> o(b.size());
      for (std::size_t i = 0; i < o.size(); ++i) {
        o[i] = b[i];
        for (std::size_t j = 0; j < v.size(); ++j) o[i] += w[i * v.size() + j] * v[j];
        if (l == 0 || act_last) o[i] = std::tanh(o[i]);
      }
      v = o;
    }
    return v;
  };
  std::vector<double> u;
  for (float v : x) u.push_back((v - 0.2) / 1.7);
  const auto b = mlp("branch", u, false);
  for (int q : {0, 3, 7}) {
    const double xq = q / 8.0;
    const auto t = mlp("trunk", {std::sin(2 * std::numbers::pi * xq), std::cos(2 * std::numbers::pi * xq)}, true);
    double s = get("b0")[0];
    for (int k = 0; k < 3; ++k) s += b[k] * t[k];
    EXPECT_NEAR(y[q], s * 1.7 + 0.2, 1e-5 * (1 + std::abs(s))) << q;
  }
}

TEST(Deeponet, BackendCallsMatchWorkloadAndInnerIsTrunkWeight) {
  for (bool multionet : {false, true}) {
    const json config = small_config(multionet);
    TempDir dir;
    const SafetensorsFile weights = SafetensorsFile::open(write_random_weights(dir, config, 7));
    const auto model = make_deeponet(config, "config.json", &weights);
    const int batch = 5;
    std::vector<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>> calls;
    const LinearBackend recorder = [&](const Linear& l, const std::vector<float>& x, int m) {
      calls.emplace_back(l.name, m, l.n, l.k);
      return linear_float(l, x, m);
    };
    model->forward(random_input(batch, 24, 3), batch, recorder);
    std::vector<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>> expected;
    for (const Op& op : model->workload(batch))
      if (op.kind == OpKind::kLinear)
        for (std::int64_t c = 0; c < op.count; ++c) expected.emplace_back(op.name, op.m, op.n, op.k);
    EXPECT_EQ(calls, expected);
    // trunk layers run with M = R once, branch layers with M = batch, the inner product as N = R, K = latent
    EXPECT_EQ(std::get<0>(calls.front()), "trunk.0");
    EXPECT_EQ(std::get<1>(calls.front()), 24);
    EXPECT_EQ(calls.back(), (std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>{
                                multionet ? "inner.2" : "inner", batch, 24, 16}));
    std::set<std::string> names;
    for (const OperatorLinear* l : model->linears()) {
      EXPECT_TRUE(names.insert(l->linear.name).second) << l->linear.name;
      if (l->linear.name.rfind("inner", 0) == 0) EXPECT_EQ(l->role, GemmRole::kTrunk);
      if (l->linear.name.rfind("branch", 0) == 0) EXPECT_EQ(l->role, GemmRole::kBranch);
    }
    for (const auto& c : calls) EXPECT_TRUE(names.count(std::get<0>(c))) << std::get<0>(c);
  }
}

TEST(Deeponet, BadConfigValuesNameFileKeyAndValue) {
  auto expect_error = [](json config, const std::string& key, const std::string& value) {
    try {
      make_deeponet(config, "zoo/x/config.json", nullptr);
      ADD_FAILURE() << "no error for " << key;
    } catch (const FormatError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("zoo/x/config.json"), std::string::npos) << msg;
      EXPECT_NE(msg.find(key), std::string::npos) << msg;
      EXPECT_NE(msg.find(value), std::string::npos) << msg;
    }
  };
  json c = small_config(false);
  c["latent"] = -3;
  expect_error(c, "latent", "-3");
  c = small_config(false);
  c["trunk_features"] = "fourier";
  expect_error(c, "trunk_features", "fourier");
  c = small_config(true);
  c["trunk_layers"] = 2;
  expect_error(c, "multionet", "true");
  c = small_config(false);
  c["resolution"] = 12.5;
  expect_error(c, "resolution", "12.5");
  c = small_config(false);
  c["model_type"] = "mgno";
  expect_error(c, "model_type", "mgno");
}

TEST(Deeponet, MissingOrMisshapenTensorNamesFileAndTensor) {
  const json config = small_config(false);
  {
    TempDir dir;
    const std::string path = write_random_weights(dir, config, 9, "trunk.1.bias");
    const SafetensorsFile weights = SafetensorsFile::open(path);
    try {
      make_deeponet(config, "config.json", &weights);
      ADD_FAILURE() << "no error";
    } catch (const FormatError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find("trunk.1.bias"), std::string::npos) << msg;
    }
  }
  {
    TempDir dir;
    json other = config;
    other["resolution"] = 20;
    const SafetensorsFile weights = SafetensorsFile::open(write_random_weights(dir, other, 9));
    try {
      make_deeponet(config, "config.json", &weights);
      ADD_FAILURE() << "no error";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("branch.0.weight"), std::string::npos) << e.what();
    }
  }
}

TEST(Deeponet, ZooModelReproducesPyTorchReference) {
  const std::filesystem::path dir =
      std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "zoo" / "deeponet-burgers";
  ASSERT_TRUE(std::filesystem::exists(dir / "model.safetensors")) << dir;
  const auto model = load_operator(dir.string());
  EXPECT_EQ(model->input_shape(), (std::vector<std::int64_t>{128, 1}));
  const SafetensorsFile ref = SafetensorsFile::open((dir / "reference.safetensors").string());
  const SafetensorsTensor* x = ref.find("x");
  const SafetensorsTensor* y64 = ref.find("y_f64");
  ASSERT_TRUE(x && y64);
  const int batch = static_cast<int>(x->shape[0]);
  EXPECT_EQ(batch, 4);
  const auto input = to_float32(x->dtype, x->data);
  const auto expected = to_float32(y64->dtype, y64->data);
  EXPECT_LT(rel_l2(model->forward(input, batch, linear_float), expected), 1e-5);
  EXPECT_LT(rel_l2(model->forward_reference(input, batch), expected), 1e-5);
}

}  // namespace
}  // namespace mixpe::models
