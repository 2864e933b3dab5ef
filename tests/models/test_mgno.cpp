// MgNO: im2col and sub-pixel convolutions against their definitions, GEMM forward against the
// direct reference, backend calls against workload(), the trained zoo model against PyTorch, and
// config / weight-file errors.
#include "models/operators/mgno.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "models/io/safetensors.h"
#include "test_util.h"

namespace mixpe::models {
namespace {

using nlohmann::json;
using testing::TempDir;

std::vector<float> random_vector(std::size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / den);
}

// Writes random weights for `config` (dropping `skip`) and returns the file path.
std::string write_random_weights(const TempDir& dir, const json& config, std::uint32_t seed, const std::string& skip = "") {
  std::mt19937 rng(seed);
  std::vector<std::vector<float>> data;
  std::vector<SafetensorsTensor> tensors;
  const auto shapes = mgno_weight_shapes(config, "config");
  data.reserve(shapes.size());
  for (const auto& [name, shape] : shapes) {
    if (name == skip) continue;
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    // fan-in scaling keeps activations O(1) through the layers
    const std::size_t fan_in = shape.size() > 1 ? n / static_cast<std::size_t>(shape[0]) : 10;
    data.push_back(random_vector(n, rng, 1.0f / std::sqrt(static_cast<float>(fan_in))));
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

json small_config(int h, int w, int levels) {
  return {{"model_type", "mgno"}, {"grid", {h, w}}, {"width", 4}, {"levels", levels}, {"layers", 2}, {"projection_hidden", 8}};
}

TEST(MgnoConv, Im2colGemmMatchesDirectConvolution) {
  std::mt19937 rng(1);
  for (int stride : {1, 2})
    for (auto [h, w] : {std::pair{7, 10}, std::pair{8, 8}, std::pair{5, 3}}) {
      const int batch = 2, c_in = 3, c_out = 5;
      const auto x = random_vector(static_cast<std::size_t>(batch) * h * w * c_in, rng);
      const auto wt = random_vector(static_cast<std::size_t>(c_out) * c_in * 9, rng);
      const Linear l = conv::conv3x3_matrix("c", wt, c_out, c_in);
      const auto y = conv::conv3x3_gemm(x, batch, h, w, c_in, stride, l, linear_float);
      const auto ref = conv::conv3x3_direct(x, batch, h, w, c_in, stride, wt, c_out);
      ASSERT_EQ(y.size(), static_cast<std::size_t>(batch) * conv::strided_size(h, stride) * conv::strided_size(w, stride) * c_out);
      EXPECT_LT(rel_l2(y, ref), 1e-6) << "stride " << stride << " grid " << h << "x" << w;
    }
}

TEST(MgnoConv, DirectConvolutionHandComputedPixel) {
  // 3x3 single channel, all-ones kernel: corner output = sum of the 2x2 corner block (zero padding).
  const std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> ones(9, 1.0f);
  const auto y = conv::conv3x3_direct(x, 1, 3, 3, 1, 1, ones, 1);
  EXPECT_FLOAT_EQ(y[0], 1 + 2 + 4 + 5);
  EXPECT_FLOAT_EQ(y[4], 45);
  const auto y2 = conv::conv3x3_direct(x, 1, 3, 3, 1, 2, ones, 1);  // 2x2 output
  ASSERT_EQ(y2.size(), 4u);
  EXPECT_FLOAT_EQ(y2[3], 5 + 6 + 8 + 9);
}

TEST(MgnoConv, SubPixelTransposedConvMatchesScatterDefinition) {
  std::mt19937 rng(2);
  const int batch = 2, c_in = 3, c_out = 4, hc = 4, wc = 5;
  const auto x = random_vector(static_cast<std::size_t>(batch) * hc * wc * c_in, rng);
  const auto wt = random_vector(static_cast<std::size_t>(c_in) * c_out * 9, rng);
  const auto mats = conv::conv_transpose3x3_matrices("p", wt, c_in, c_out);
  EXPECT_EQ(mats[0].k, c_in);
  EXPECT_EQ(mats[1].k, 2 * c_in);
  EXPECT_EQ(mats[2].k, 2 * c_in);
  EXPECT_EQ(mats[3].k, 4 * c_in);
  EXPECT_EQ(mats[3].name, "p.oo");
  for (int h_out : {2 * hc - 1, 2 * hc})
    for (int w_out : {2 * wc - 1, 2 * wc}) {
      const auto y = conv::conv_transpose3x3_gemm(x, batch, hc, wc, c_in, {&mats[0], &mats[1], &mats[2], &mats[3]}, h_out,
                                                  w_out, linear_float);
      const auto ref = conv::conv_transpose3x3_scatter(x, batch, hc, wc, c_in, wt, c_out, h_out, w_out);
      EXPECT_LT(rel_l2(y, ref), 1e-6) << h_out << "x" << w_out;
    }
}

TEST(MgnoConv, TransposedConvIsAdjointOfStridedConv) {
  // <conv_s2(z; W as [c_in][c_out]), x> == <z, convT(x; W)>: ties the scatter to the strided conv.
  std::mt19937 rng(3);
  const int c_in = 3, c_out = 2, hc = 3, wc = 4;
  const auto wt = random_vector(static_cast<std::size_t>(c_in) * c_out * 9, rng);
  for (int h_out : {2 * hc - 1, 2 * hc}) {
    const int w_out = 2 * wc - 1;
    const auto x = random_vector(static_cast<std::size_t>(hc) * wc * c_in, rng);
    const auto z = random_vector(static_cast<std::size_t>(h_out) * w_out * c_out, rng);
    const auto cz = conv::conv3x3_direct(z, 1, h_out, w_out, c_out, 2, wt, c_in);  // [hc][wc][c_in]
    const auto tx = conv::conv_transpose3x3_scatter(x, 1, hc, wc, c_in, wt, c_out, h_out, w_out);
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < x.size(); ++i) lhs += static_cast<double>(cz[i]) * x[i];
    for (std::size_t i = 0; i < z.size(); ++i) rhs += static_cast<double>(tx[i]) * z[i];
    EXPECT_NEAR(lhs, rhs, 1e-4 * std::abs(rhs) + 1e-5);
  }
}

class MgnoForward : public ::testing::TestWithParam<std::tuple<int, int, int, int, bool, const char*>> {};

TEST_P(MgnoForward, GemmForwardMatchesDirectReference) {
  const auto [h, w, levels, steps, post, act] = GetParam();
  json config = small_config(h, w, levels);
  config["smoothing_steps"] = steps;
  config["post_smoothing"] = post;
  config["activation"] = act;
  TempDir dir;
  const SafetensorsFile weights = SafetensorsFile::open(write_random_weights(dir, config, 7));
  const auto model = make_mgno(config, "config.json", &weights);
  std::mt19937 rng(4);
  const int batch = 2;
  const auto x = random_vector(static_cast<std::size_t>(batch) * h * w, rng);
  const auto y = model->forward(x, batch, linear_float);
  const auto ref = model->forward_reference(x, batch);
  ASSERT_EQ(y.size(), static_cast<std::size_t>(batch) * h * w);
  EXPECT_LT(rel_l2(y, ref), 1e-5);
  double norm = 0;
  for (float v : ref) norm += static_cast<double>(v) * v;
  EXPECT_GT(norm, 1e-6);  // not a trivially zero output
}

INSTANTIATE_TEST_SUITE_P(Configs, MgnoForward,
                         ::testing::Values(std::tuple{16, 16, 3, 1, false, "gelu"},  // power of two
                                           std::tuple{20, 12, 3, 2, true, "relu"},   // non-power-of-two
                                           std::tuple{9, 13, 2, 1, true, "gelu"},    // odd sizes
                                           std::tuple{6, 7, 1, 1, false, "gelu"}));  // no coarse level

TEST(Mgno, BackendCallsMatchWorkload) {
  for (bool post : {false, true}) {
    json config = small_config(11, 16, 3);
    config["post_smoothing"] = post;
    config["smoothing_steps"] = 2;
    TempDir dir;
    const SafetensorsFile weights = SafetensorsFile::open(write_random_weights(dir, config, 8));
    const auto model = make_mgno(config, "config.json", &weights);
    const int batch = 3;
    std::vector<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>> calls;
    const LinearBackend recorder = [&](const Linear& l, const std::vector<float>& x, int m) {
      calls.emplace_back(l.name, m, l.n, l.k);
      return linear_float(l, x, m);
    };
    std::vector<float> x(static_cast<std::size_t>(batch) * 11 * 16, 0.5f);
    model->forward(x, batch, recorder);
    std::vector<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>> expected;
    int vector_ops = 0;
    for (const Op& op : model->workload(batch)) {
      if (op.kind == OpKind::kLinear) {
        for (std::int64_t c = 0; c < op.count; ++c) expected.emplace_back(op.name, op.m, op.n, op.k);
      } else {
        ++vector_ops;
        EXPECT_GT(op.elements, 0) << op.name;
      }
    }
    EXPECT_EQ(calls, expected);
    EXPECT_GT(vector_ops, 0);
    // every call uses one of linears(), with unique names
    std::set<std::string> names;
    for (const OperatorLinear* l : model->linears()) EXPECT_TRUE(names.insert(l->linear.name).second) << l->linear.name;
    for (const auto& c : calls) EXPECT_TRUE(names.count(std::get<0>(c))) << std::get<0>(c);
  }
}

TEST(Mgno, ShapesOnlyModelAndWorkloadCounts) {
  const json config = {{"model_type", "mgno"}, {"grid", {64, 64}}, {"width", 16}, {"levels", 4}, {"layers", 4}};
  const auto model = make_mgno(config, "preset", nullptr);
  EXPECT_EQ(model->input_shape(), (std::vector<std::int64_t>{64, 64, 1}));
  const auto ops = model->workload(2);
  ASSERT_FALSE(ops.empty());
  EXPECT_EQ(ops.front().name, "lift");
  EXPECT_EQ(ops.front().m, 2 * 64 * 64);
  // the first smoothing on level 2 (16 x 16) of layer 0: K = 9 * width
  const auto it = std::find_if(ops.begin(), ops.end(), [](const Op& o) { return o.name == "layers.0.level2.S"; });
  ASSERT_NE(it, ops.end());
  EXPECT_EQ(it->m, 2 * 16 * 16);
  EXPECT_EQ(it->k, 9 * 16);
  EXPECT_EQ(it->n, 16);
  // sub-pixel prolongation 16x16 -> 32x32, odd-odd class: 16*16 pixels with 4 taps
  const auto oo = std::find_if(ops.begin(), ops.end(), [](const Op& o) { return o.name == "layers.0.level1.prolong.oo"; });
  ASSERT_NE(oo, ops.end());
  EXPECT_EQ(oo->m, 2 * 16 * 16);
  EXPECT_EQ(oo->k, 4 * 16);
  for (const OperatorLinear* l : model->linears())
    if (l->linear.name.find(".level") != std::string::npos) EXPECT_EQ(l->role, GemmRole::kConv) << l->linear.name;
}

TEST(Mgno, BadConfigValuesNameFileKeyAndValue) {
  auto expect_error = [](json config, const std::string& key, const std::string& value) {
    try {
      make_mgno(config, "dir/config.json", nullptr);
      ADD_FAILURE() << "no error for " << key;
    } catch (const FormatError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("dir/config.json"), std::string::npos) << msg;
      EXPECT_NE(msg.find(key), std::string::npos) << msg;
      EXPECT_NE(msg.find(value), std::string::npos) << msg;
    }
  };
  json c = small_config(16, 16, 3);
  c["width"] = 0;
  expect_error(c, "width", "0");
  c = small_config(16, 16, 3);
  c["activation"] = "swish";
  expect_error(c, "activation", "swish");
  c = small_config(16, 16, 3);
  c["widht"] = 8;
  expect_error(c, "widht", "8");
  c = small_config(16, 16, 3);
  c["grid"] = {16};
  expect_error(c, "grid", "[16]");
  expect_error(small_config(4, 4, 3), "levels", "3");  // coarsest level 1x1
  c = small_config(16, 16, 3);
  c["post_smoothing"] = "yes";
  expect_error(c, "post_smoothing", "yes");
}

TEST(Mgno, MissingOrMisshapenTensorNamesFileAndTensor) {
  const json config = small_config(16, 16, 3);
  {
    TempDir dir;
    const std::string path = write_random_weights(dir, config, 9, "layers.1.level2.S.weight");
    const SafetensorsFile weights = SafetensorsFile::open(path);
    try {
      make_mgno(config, "config.json", &weights);
      ADD_FAILURE() << "no error";
    } catch (const FormatError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find("layers.1.level2.S.weight"), std::string::npos) << msg;
    }
  }
  {
    TempDir dir;
    json wider = config;
    wider["projection_hidden"] = 9;
    const SafetensorsFile weights = SafetensorsFile::open(write_random_weights(dir, wider, 9));
    try {
      make_mgno(config, "config.json", &weights);
      ADD_FAILURE() << "no error";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("proj1.weight"), std::string::npos) << e.what();
    }
  }
}

TEST(Mgno, ZooModelReproducesPyTorchReference) {
  const std::filesystem::path dir = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "zoo" / "mgno-darcy";
  ASSERT_TRUE(std::filesystem::exists(dir / "model.safetensors")) << dir;
  const auto model = load_operator(dir.string());
  const SafetensorsFile ref = SafetensorsFile::open((dir / "reference.safetensors").string());
  const SafetensorsTensor* x = ref.find("x");
  const SafetensorsTensor* y64 = ref.find("y_f64");
  ASSERT_TRUE(x && y64);
  const int batch = static_cast<int>(x->shape[0]);
  EXPECT_EQ(batch, 4);
  const auto input = to_float32(x->dtype, x->data);
  const auto expected = to_float32(y64->dtype, y64->data);  // rounded to float: ~6e-8 relative
  const auto y = model->forward(input, batch, linear_float);
  EXPECT_LT(rel_l2(y, expected), 1e-5);
  EXPECT_LT(rel_l2(model->forward_reference(input, batch), expected), 1e-5);
}

}  // namespace
}  // namespace mixpe::models
