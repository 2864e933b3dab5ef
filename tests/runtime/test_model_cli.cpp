// `mixpe quantize` and `mixpe inspect` end to end: tables, valid outputs, dumps, clean failures.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "models/io/gguf.h"
#include "models/io/mixpe_format.h"
#include "tests/models/test_util.h"
#include "tests/models/tiny_checkpoint.h"
#include "tests/runtime/cli_runner.h"

namespace mixpe::runtime {
namespace {

using models::testing::TempDir;

using testing_util::CommandResult;
using testing_util::run_cli;

// The output line that starts with `prefix` (after leading spaces), or "" if none.
std::string line_starting(const std::string& out, const std::string& prefix) {
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t end = out.find('\n', pos);
    if (end == std::string::npos) end = out.size();
    const std::string line = out.substr(pos, end - pos);
    const std::size_t first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, prefix.size(), prefix) == 0) return line;
    pos = end + 1;
  }
  return "";
}

class ModelCli : public ::testing::Test {
 protected:
  void SetUp() override {
    models::testing::write_tiny_llama(dir_.file("model.safetensors"), models::testing::tiny_llama_tensors());
  }
  std::string f(const std::string& name) const { return dir_.file(name); }
  TempDir dir_;
};

TEST_F(ModelCli, QuantizePrintsTableAndWritesAValidFile) {
  const CommandResult r = run_cli("quantize " + f("model.safetensors") + " -o " + f("q.mixpe") + " --wbits 4 --group 32");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("SQNR dB"), std::string::npos) << r.out;
  const std::string up = line_starting(r.out, "model.layers.1.mlp.up_proj.weight ");
  EXPECT_NE(up.find("[128, 64]"), std::string::npos) << r.out;
  EXPECT_NE(up.find("W4 g32 asym"), std::string::npos) << r.out;
  EXPECT_NE(line_starting(r.out, "lm_head.weight ").find("BF16 kept"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("quantized 14 of 21 tensors"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mean SQNR"), std::string::npos) << r.out;
  const models::MixpeFile m = models::MixpeFile::open(f("q.mixpe"));
  EXPECT_EQ(m.tensors().size(), 21u);
  EXPECT_EQ(m.find("model.layers.0.self_attn.q_proj.weight")->bits, 4);
}

TEST_F(ModelCli, QuantizeToGgufAndInspectIt) {
  CommandResult r = run_cli("quantize " + f("model.safetensors") + " -o " + f("q.gguf") + " --format gguf --wbits 8 --group 32 --sym");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Q8_0"), std::string::npos) << r.out;
  r = run_cli("inspect " + f("q.gguf"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("gguf v3 file, 21 tensors, 3 metadata entries"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("general.file_type = 7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mixpe.quantization = \"rtn w8 g32 sym\""), std::string::npos) << r.out;
  const std::string down = line_starting(r.out, "model.layers.0.mlp.down_proj.weight ");
  EXPECT_NE(down.find("Q8_0"), std::string::npos) << r.out;
  EXPECT_NE(down.find("[64, 128]"), std::string::npos) << r.out;  // PyTorch order, not ggml's [128, 64]
  EXPECT_NE(down.find(std::to_string(64 * 128 / 32 * 34)), std::string::npos) << r.out;  // bytes
}

TEST_F(ModelCli, InspectDumpWritesLogicalFloat32Values) {
  ASSERT_EQ(run_cli("quantize " + f("model.safetensors") + " -o " + f("q.mixpe") + " --wbits 3 --group 64 --sym").exit_code, 0);
  const std::string name = "model.layers.0.mlp.gate_proj.weight";
  for (const std::string& file : {f("q.mixpe"), f("model.safetensors")}) {
    const CommandResult r = run_cli("inspect " + file + " --tensor " + name + " --dump " + f("w.f32"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("8192 elements"), std::string::npos) << r.out;
    const std::vector<std::uint8_t> raw = models::testing::read_bytes(f("w.f32"));
    ASSERT_EQ(raw.size(), 128u * 64 * 4);
    std::vector<float> got(128 * 64);
    std::memcpy(got.data(), raw.data(), raw.size());
    std::vector<float> expected;
    if (file == f("q.mixpe")) {
      const models::MixpeFile m = models::MixpeFile::open(file);
      expected = models::dequantize_mixpe_tensor(*m.find(name), file);
    } else {
      expected = models::to_float32(models::Dtype::kBF16, models::testing::tiny_llama_tensors()[5].bytes);
    }
    EXPECT_EQ(got, expected) << file;
  }
}

TEST_F(ModelCli, ErrorsAreClearAndLeaveNoPartialFile) {
  CommandResult r = run_cli("quantize " + f("model.safetensors") + " -o " + f("q.gguf") + " --format gguf --wbits 4 --group 128");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("--format gguf"), std::string::npos) << r.out;
  r = run_cli("quantize " + f("model.safetensors") + " -o " + f("q.mixpe") + " --group 128");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("K = 64 is not a multiple of --group 128"), std::string::npos) << r.out;
  // A truncated input: the error names the file and the field.
  const std::vector<std::uint8_t> bytes = models::testing::read_bytes(f("model.safetensors"));
  models::testing::write_bytes(f("cut.safetensors"), {bytes.begin(), bytes.begin() + 300});
  r = run_cli("quantize " + f("cut.safetensors") + " -o " + f("q.mixpe"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("cut.safetensors: header length"), std::string::npos) << r.out;
  r = run_cli("inspect " + f("cut.safetensors"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = run_cli("inspect " + f("model.safetensors") + " --tensor nope");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("no tensor named 'nope'"), std::string::npos) << r.out;
  r = run_cli("inspect " + f("model.safetensors") + " --dump " + f("x.f32"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = run_cli("quantize " + f("model.safetensors") + " -o " + f("q.mixpe") + " --format onnx");
  EXPECT_NE(r.exit_code, 0) << r.out;
  // Only the inputs remain: no outputs, no temporaries.
  EXPECT_EQ(dir_.entry_count(), 2u);
}

}  // namespace
}  // namespace mixpe::runtime
