// `mixpe simulate`, `compare` and `hw`: report schema against golden files, and named errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/runtime/cli_runner.h"

namespace mixpe::runtime {
namespace {

using testing_util::CommandResult;
using testing_util::run_cli;

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Compares `actual` with the golden file; MIXPE_UPDATE_GOLDEN=1 rewrites the golden file instead.
void expect_golden(const std::string& actual, const std::string& name) {
  const fs::path golden = fs::path(MIXPE_GOLDEN_DIR) / name;
  if (std::getenv("MIXPE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden) << actual;
    GTEST_SKIP() << "rewrote " << golden;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing: run with MIXPE_UPDATE_GOLDEN=1 to create it";
  EXPECT_EQ(actual, read(golden)) << "report format or numbers changed; if intended, rerun with MIXPE_UPDATE_GOLDEN=1";
}

fs::path temp(const std::string& name) { return fs::temp_directory_path() / (name + std::to_string(::getpid())); }

TEST(SimulateCli, JsonAndCsvMatchGoldenFiles) {
  const fs::path json = temp("sim.json"), csv = temp("sim.csv");
  const CommandResult r = run_cli("simulate -q --hw test_mixpe_8x8 --model tiny --phase decode --batch 2 --seq 40 --executor analytic --json " +
                                  json.string() + " --csv " + csv.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(read(json));
  EXPECT_EQ(j["schema"], "mixpe.simulate/1");
  for (const char* key : {"total_cycles", "seconds", "joules", "tokens_per_second", "joules_per_token", "utilization"})
    EXPECT_TRUE(j[key].is_number()) << key;
  for (const char* key : {"pe", "sram", "dram", "static", "total"}) EXPECT_TRUE(j["energy_pj"][key].is_number()) << key;
  ASSERT_GT(j["ops"].size(), 10u);
  const std::string csv_text = read(csv);
  EXPECT_EQ(static_cast<std::size_t>(std::count(csv_text.begin(), csv_text.end(), '\n')), j["ops"].size() + 1)
      << "one CSV row per op, plus the header";
  std::int64_t sum = 0;
  for (const auto& op : j["ops"]) sum += op["cycles"].get<std::int64_t>();
  EXPECT_EQ(sum, j["total_cycles"].get<std::int64_t>()) << "per-op cycles must add up to the total (analytic)";
  expect_golden(read(json), "simulate_tiny_decode_test_mixpe_8x8.json");
  expect_golden(read(csv), "simulate_tiny_decode_test_mixpe_8x8.csv");
  fs::remove(json);
  fs::remove(csv);
}

TEST(SimulateCli, CycleExecutorPrintsASummary) {
#if !MIXPE_WITH_SYSTEMC
  GTEST_SKIP() << "built without the SystemC model";
#endif
  const CommandResult r = run_cli("simulate --hw test_mixpe_8x8 --model tiny --phase prefill --seq 16 --executor cycle");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* s : {"latency", "tokens/s", "mJ/token", "energy split", "time split", "slowest ops"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST(SimulateCli, CompareNormalizesToFp16) {
  const CommandResult r = run_cli("compare --model tiny --phase prefill --seq 64 --executor analytic");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("normalized to fp16_32x28"), std::string::npos) << r.out;
  for (const char* d : {"fp16_32x28", "int8_32x32", "mixpe_w4a16_32x32", "mixpe_w4a8_64x64"}) EXPECT_NE(r.out.find(d), std::string::npos) << d;
}

TEST(SimulateCli, BadInputFailsWithNamedErrors) {
  struct Bad {
    std::string args, expect;
  };
  const fs::path broken = temp("broken_config.json");
  std::ofstream(broken) << "{\"model_type\": \"llama\", \"hidden_size\": ";
  for (const Bad& b : {Bad{"simulate --model llama-9b", "llama-9b"}, Bad{"simulate --hw no_such_design", "no_such_design"},
                       Bad{"simulate --model " + broken.string(), "malformed JSON"},
                       Bad{"simulate --model tiny --phase sideways", "--phase = sideways"},
                       Bad{"simulate --model vit-b16 --phase decode", "no decode phase"},
                       Bad{"simulate --model tiny --executor magic", "--executor = magic"},
                       Bad{"simulate --model tiny --hw test_int8_4x4 -p buffers.wbuf.size_kib=1 -p buffers.ibuf.size_kib=1 --phase prefill --seq 256 --executor analytic",
                           "no tiling"},
                       Bad{"hw show nowhere", "nowhere"}}) {
    const CommandResult r = run_cli(b.args);
    EXPECT_NE(r.exit_code, 0) << b.args;
    EXPECT_NE(r.out.find(b.expect), std::string::npos) << b.args << "\n" << r.out;
  }
  fs::remove(broken);
}

TEST(HwCli, ListAndShow) {
  CommandResult r = run_cli("hw list");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("mixpe_w4a8_64x64"), std::string::npos);
  r = run_cli("hw show mixpe_w4a8_64x64 -p array.rows=32");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("32x64"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mixpe::runtime
