// The functional executor's GEMM engine (K padding and chunking as the mapper does them),
// `mixpe eval` and `mixpe run` end to end, and their errors.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/llm/llm.h"
#include "models/llm/llm_loader.h"
#include "models/synthetic.h"
#include "quant/gemm_ref.h"
#include "runtime/engine.h"
#include "runtime/eval.h"
#include "runtime/mapper.h"
#include "runtime/model_source.h"
#include "tests/models/test_util.h"
#include "tests/runtime/cli_runner.h"

namespace mixpe::runtime {
namespace {

namespace fs = std::filesystem;
using models::testing::TempDir;
using testing_util::run_cli;

std::vector<float> random_matrix(std::size_t n, std::uint64_t seed) {
  models::Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.normal());
  return v;
}

std::uint32_t bits(float f) { return std::bit_cast<std::uint32_t>(f); }

TEST(GemmEngine, KChunksAccumulateInChunkOrderAsTheMapperTilesThem) {
  // A 2 KiB weight buffer forces the mapper to split K = 512 into chunks of whole groups.
  const sim::AcceleratorConfig hw = sim::load_config("test_mixpe_8x8", {"buffers.wbuf.size_kib=2", "array.group_size=32"});
  const GemmEngine engine(hw);
  const int m = 5, n = 24, k = 512;
  const std::vector<float> w = random_matrix(static_cast<std::size_t>(n) * k, 1), x = random_matrix(static_cast<std::size_t>(m) * k, 2);
  const auto op = engine.quantize(w, n, k, "w");
  const GemmMapping mp = map_gemm({m, n, k, 1}, hw, "w");
  ASSERT_LT(mp.tk, k) << "the test needs a chunked mapping";
  const std::vector<float> y = engine.run(*op, x, m);
  // Independently: the oracle on each chunk (same per-token activation codes), summed in order.
  const quant::Int8Activations x8 = quant::quantize_activations_int8(x, m, k);
  std::vector<float> expect;
  for (int k0 = 0; k0 < k; k0 += static_cast<int>(mp.tk)) {
    const std::vector<float> yc = quant::gemm_mixpe_int8_ref(slice_activations(x8, k0, static_cast<int>(mp.tk)),
                                                             slice_weights(op->q, k0, static_cast<int>(mp.tk)));
    if (expect.empty()) {
      expect = yc;
    } else {
      for (std::size_t i = 0; i < expect.size(); ++i) expect[i] += yc[i];
    }
  }
  ASSERT_EQ(y.size(), expect.size());
  for (std::size_t i = 0; i < y.size(); ++i) ASSERT_EQ(bits(y[i]), bits(expect[i])) << i;
}

TEST(GemmEngine, KThatGroupsDoNotDivideIsZeroPaddedLikeTheMapper) {
  const sim::AcceleratorConfig hw = sim::load_config("test_mixpe_8x8", {"array.group_size=32"});
  const GemmEngine engine(hw);
  const int m = 3, n = 10, k = 100;  // padded to 128 = 4 groups of 32
  const std::vector<float> w = random_matrix(static_cast<std::size_t>(n) * k, 3), x = random_matrix(static_cast<std::size_t>(m) * k, 4);
  const auto op = engine.quantize(w, n, k, "w");
  EXPECT_EQ(op->q.k, 128);
  EXPECT_EQ(map_gemm({m, n, k, 1}, hw, "w").k, 128);
  std::vector<float> xp(static_cast<std::size_t>(m) * 128, 0.0f);
  for (int r = 0; r < m; ++r)
    for (int j = 0; j < k; ++j) xp[static_cast<std::size_t>(r) * 128 + j] = x[static_cast<std::size_t>(r) * k + j];
  const std::vector<float> y = engine.run(*op, x, m);
  const std::vector<float> ref = quant::gemm_mixpe_int8_ref(quant::quantize_activations_int8(xp, m, 128), op->q);
  for (std::size_t i = 0; i < y.size(); ++i) ASSERT_EQ(bits(y[i]), bits(ref[i])) << i;
  EXPECT_THROW(engine.run(*op, std::vector<float>(7), 3), std::invalid_argument);
}

TEST(Perplexity, SlidingWindowsScoreEveryTokenOnce) {
  const models::LlmWeights model = models::synthetic_llm_weights(models::load_model_config("tiny"), 9);
  const QuantizedLinears fl(model, PePath::kFloat, {});
  std::vector<int> tokens;
  for (int i = 0; i < 150; ++i) tokens.push_back((i * 131 + 7) % model.config.vocab);
  PerplexityOptions opt;
  opt.ctx = 64;
  opt.stride = 32;
  const PerplexityResult r = evaluate_perplexity(model, fl, tokens, opt);
  ASSERT_EQ(r.nll.size(), tokens.size() - 1);
  for (std::size_t i = 0; i < r.scored.size(); ++i) EXPECT_EQ(r.scored[i], static_cast<int>(i) + 1);
  // Position 100 is scored by the window starting at 64 (after 32 and 64, the first to reach it
  // past the positions already scored), with tokens [64, 100) as context.
  const std::vector<int> ctx(tokens.begin() + 64, tokens.begin() + 101);
  const std::vector<float> logits = models::llm_forward(model, ctx, models::linear_float);
  const double expect = token_nll(logits.data() + static_cast<std::size_t>(35) * model.config.vocab, model.config.vocab, tokens[100]);
  EXPECT_NEAR(r.nll[99], expect, 1e-9 * std::abs(expect));
  opt.ctx = 1000;
  EXPECT_THROW(evaluate_perplexity(model, fl, tokens, opt), std::invalid_argument);
}

class EvalCli : public ::testing::Test {
 protected:
  const std::string zoo = zoo_dir();
  std::string heldout() const { return zoo + "/llama-kjv/heldout.txt"; }
};

TEST_F(EvalCli, PerplexityEqualsOneComputedFromItsOwnTokensAndNlls) {
  TempDir dir;
  const std::string json = dir.file("eval.json");
  const auto r = run_cli("eval --model llama-kjv --text " + heldout() + " --ctx 64 --max-tokens 200 --json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream in(json);
  const nlohmann::json j = nlohmann::json::parse(in);
  // Recompute independently: the model from the library, each scored token's NLL from the logits
  // of its window (non-overlapping windows of 64 starting at 0, 64, 128, ...).
  const LlmSource src = load_llm_source("llama-kjv");
  const std::vector<int> ids = j["token_ids"].get<std::vector<int>>();
  ASSERT_EQ(ids.size(), 200u);
  std::ifstream text(heldout());
  const std::string all((std::istreambuf_iterator<char>(text)), std::istreambuf_iterator<char>());
  const std::vector<int> encoded = src.tokenizer->encode(all);
  EXPECT_EQ(ids, std::vector<int>(encoded.begin(), encoded.begin() + 200)) << "the ids are the text's first 200 tokens";
  double sum = 0.0;
  int scored = 0;
  const int vocab = src.llm.weights.config.vocab;
  for (int s = 0; s < 200; s += 64) {
    const std::vector<int> window(ids.begin() + s, ids.begin() + std::min(200, s + 64));
    const std::vector<float> logits = models::llm_forward(src.llm.weights, window, models::linear_float);
    for (std::size_t p = 1; p < window.size(); ++p, ++scored) {
      const float* row = logits.data() + (p - 1) * vocab;
      double mx = row[0], z = 0.0;
      for (int v = 1; v < vocab; ++v) mx = std::max(mx, static_cast<double>(row[v]));
      for (int v = 0; v < vocab; ++v) z += std::exp(row[v] - mx);
      sum += mx + std::log(z) - row[window[p]];
    }
  }
  ASSERT_EQ(scored, static_cast<int>(j["nll"].size()));
  EXPECT_NEAR(j["perplexity"].get<double>(), std::exp(sum / scored), 1e-9 * std::exp(sum / scored));
}

TEST_F(EvalCli, QuantizedNumericsChangeThePerplexityByLittleAtW8AndMoreAtW2) {
  TempDir dir;
  auto ppl = [&](const std::string& args) {
    const auto r = run_cli("eval --model llama-kjv --text " + heldout() + " --ctx 128 --max-tokens 512 " + args + " --json " + dir.file("e.json"));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::ifstream in(dir.file("e.json"));
    return nlohmann::json::parse(in)["perplexity"].get<double>();
  };
  const double fl = ppl("--numerics float"), w8 = ppl("--numerics mixpe-int8 --wbits 8 --group 32"),
               w2 = ppl("--numerics mixpe-int8 --wbits 2 --group 128");
  EXPECT_NEAR(w8 / fl, 1.0, 0.01);
  EXPECT_GT(w2 / fl, 1.05);
}

TEST_F(EvalCli, GgufConversionGivesTheSamePerplexity) {
  TempDir dir;
  const std::string gguf = dir.file("kjv.gguf");
  // F32 GGUF with llama.cpp's names, Q/K row order and tokenizer metadata.
  auto q = run_cli("quantize " + zoo + "/llama-kjv -o " + gguf + " --format gguf --gguf-names --skip '.*' --wbits 8 --group 32 --sym");
  ASSERT_EQ(q.exit_code, 0) << q.out;
  auto ppl = [&](const std::string& model) {
    const auto r = run_cli("eval --model " + model + " --text " + heldout() + " --ctx 64 --max-tokens 256 --json " + dir.file("e.json"));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::ifstream in(dir.file("e.json"));
    return nlohmann::json::parse(in);
  };
  const nlohmann::json a = ppl(zoo + "/llama-kjv"), b = ppl(gguf);
  EXPECT_EQ(a["token_ids"], b["token_ids"]) << "the GGUF's tokenizer metadata tokenizes alike";
  // Equal up to GGUF storing rms_norm_epsilon as float32 (1e-5 becomes 9.99999975e-06).
  EXPECT_NEAR(a["perplexity"].get<double>(), b["perplexity"].get<double>(), 1e-6 * a["perplexity"].get<double>());
  EXPECT_NE(a["perplexity"].get<double>(), 0.0);
}

TEST_F(EvalCli, BadInputsNameTheFileAndField) {
  TempDir dir;
  // Empty text.
  std::ofstream(dir.file("empty.txt")).flush();
  auto r = run_cli("eval --model llama-kjv --text " + dir.file("empty.txt"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("empty.txt"), std::string::npos) << r.out;
  // Context beyond the model's.
  r = run_cli("eval --model llama-kjv --text " + heldout() + " --ctx 4096");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("--ctx = 4096"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max_position_embeddings"), std::string::npos) << r.out;
  // Tokenizer missing.
  const fs::path model = dir.path() / "model";
  fs::create_directories(model);
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(zoo + "/llama-kjv/" + f, model / f);
  r = run_cli("eval --model " + model.string() + " --text " + heldout());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("tokenizer"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(model.string()), std::string::npos) << r.out;
  // Unknown architecture.
  std::ofstream(model / "config.json", std::ios::trunc) << R"({"model_type": "gpt_neox", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4})";
  r = run_cli("eval --model " + model.string() + " --text " + heldout());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("config.json"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gpt_neox"), std::string::npos) << r.out;
  // A neural operator's data file of another resolution.
  r = run_cli("data burgers --n 2 --n-test 2 --res 64 --seed 1 -o " + dir.file("b64.safetensors"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = run_cli("eval --model fno1d-burgers --data " + dir.file("b64.safetensors"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("b64.safetensors"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("64x1"), std::string::npos) << r.out;
  // Unknown numerics.
  r = run_cli("eval --model llama-kjv --text " + heldout() + " --numerics int4");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("int4"), std::string::npos) << r.out;
}

TEST_F(EvalCli, OperatorErrorAgainstTruthAndFloat) {
  TempDir dir;
  auto r = run_cli("data burgers --n 1 --n-test 8 --res 128 --seed 5 -o " + dir.file("b.safetensors"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto eval = [&](const std::string& args) {
    const auto e = run_cli("eval --model fno1d-burgers --data " + dir.file("b.safetensors") + " " + args + " --json " + dir.file("o.json"));
    EXPECT_EQ(e.exit_code, 0) << e.out;
    std::ifstream in(dir.file("o.json"));
    return nlohmann::json::parse(in);
  };
  const nlohmann::json fl = eval("--numerics float"), w8 = eval("--numerics mixpe-int8 --wbits 8 --group 32");
  EXPECT_EQ(fl["samples"], 8);
  EXPECT_EQ(fl["rel_l2_vs_float"]["mean"].get<double>(), 0.0) << "float against itself";
  EXPECT_LT(fl["rel_l2_vs_truth"]["mean"].get<double>(), 0.05) << "the trained FNO-1D is accurate on Burgers";
  EXPECT_GT(w8["rel_l2_vs_float"]["mean"].get<double>(), 0.0);
  EXPECT_LT(w8["rel_l2_vs_float"]["mean"].get<double>(), 0.02);
}

TEST(RunCli, GeneratesTokensWithTheKvCache) {
  const auto r = run_cli("run --model llama-kjv --prompt 'And God said' --max-tokens 12 --numerics mixpe-int8");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("And God said"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("generated "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tokens/s"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mixpe::runtime
