// `mixpe simulate`, `compare` and `hw`: report schema against golden files, and named errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/area.h"
#include "sim/config.h"
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
  for (const char* d : {"fp16_32x28", "int8_32x32", "ant_32x32", "bitfusion_32x40", "mixpe_w4a16_32x32", "mixpe_w4a8_64x64"})
    EXPECT_NE(r.out.find(d), std::string::npos) << d;
}

// -p applies to every design: DDR4-3200 instead of the presets' ideal 1024-bit interface costs
// more DRAM energy (5.99 vs 0.629 pJ/bit read, plus activates and background) and more time (25.6
// vs 64 GB/s), and the overrides are recorded in the JSON.
TEST(SimulateCli, CompareAppliesParamsToEveryDesign) {
  const std::string base = "compare --model tiny --phase decode --seq 64 --executor analytic --hw fp16_32x28,mixpe_w4a8_64x64 --json ";
  const fs::path plain = temp("compare_plain.json"), ddr4 = temp("compare_ddr4.json");
  CommandResult r = run_cli(base + plain.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = run_cli(base + ddr4.string() + " -p dram.preset=ddr4_3200 --param dram.activate_pj=9000");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("every design with: dram.preset=ddr4_3200 dram.activate_pj=9000"), std::string::npos) << r.out;
  const auto a = nlohmann::json::parse(read(plain)), b = nlohmann::json::parse(read(ddr4));
  EXPECT_EQ(b["overrides"], nlohmann::json({"dram.preset=ddr4_3200", "dram.activate_pj=9000"}));
  ASSERT_EQ(a["reports"].size(), 2u);
  ASSERT_EQ(b["reports"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const double e0 = a["reports"][i]["energy_pj"]["dram"].get<double>(), e1 = b["reports"][i]["energy_pj"]["dram"].get<double>();
    EXPECT_GT(e1, 5.0 * e0) << i;  // > 5.99 / 0.629 on the per-bit part alone, before activates and background
    EXPECT_GT(b["reports"][i]["seconds"].get<double>(), a["reports"][i]["seconds"].get<double>()) << i;
  }
  fs::remove(plain);
  fs::remove(ddr4);
  r = run_cli("compare --model tiny --phase decode --seq 64 --executor analytic -p dram.speed=fast");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("dram.speed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unknown key"), std::string::npos) << r.out;
}

// --iso-area gives every design's array the most columns that fit (rows kept): each fits, one
// column more would not, and the JSON records the shapes, areas and the normalized efficiencies.
TEST(SimulateCli, CompareIsoAreaResizesEveryArray) {
  const fs::path json = temp("compare_iso.json");
  const CommandResult r = run_cli("compare --model tiny --phase prefill --seq 64 --executor analytic --hw fp16_32x28,int8_32x32,"
                                  "mixpe_w4a8_64x64 --iso-area int8_32x32 --json " + json.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("iso-area"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(read(json));
  const double target = j["iso_area_mm2"].get<double>();
  EXPECT_NEAR(target, sim::estimate_area(sim::load_config("int8_32x32")).total_mm2(), 1e-12 * target);
  for (const auto& row : j["table"]) {
    const std::string hw = row["hw"].get<std::string>();
    const int rows = row["rows"].get<int>(), cols = row["cols"].get<int>();
    const sim::AcceleratorConfig base = sim::load_config(hw);
    const double area = row["area_mm2"].get<double>();
    EXPECT_LE(area, target) << hw;
    EXPECT_NEAR(area, sim::estimate_area(sim::load_config(hw, {fmt::format("array.rows={}", rows), fmt::format("array.cols={}", cols)})).total_mm2(),
                1e-9 * area) << hw;
    EXPECT_EQ(rows, base.rows) << hw;
    EXPECT_GT(sim::estimate_area(sim::load_config(hw, {fmt::format("array.cols={}", cols + 1)})).total_mm2(), target) << hw;
    EXPECT_NEAR(row["norm_perf_per_watt"].get<double>(), 1.0 / row["norm_energy_all"].get<double>(), 1e-9) << hw;
  }
  EXPECT_EQ(j["table"][1]["rows"], 32);  // the reference design keeps its own shape
  EXPECT_EQ(j["table"][1]["cols"], 32);
  fs::remove(json);
  const CommandResult bad = run_cli("compare --model tiny --executor analytic --iso-area 0.01");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("does not fit even with one column"), std::string::npos) << bad.out;
}

TEST(HwCli, ShowJsonHasEveryKeyAndTheArea) {
  const CommandResult r = run_cli("hw show mixpe_w4a8_64x64 -p array.cols=32 --json -");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema"], "mixpe.hw/1");
  EXPECT_EQ(j["parameters"]["array.cols"], "32");
  EXPECT_EQ(j["parameters"].size(), sim::describe_parameters().size());
  const sim::AreaBreakdown a = sim::estimate_area(sim::load_config("mixpe_w4a8_64x64", {"array.cols=32"}));
  EXPECT_NEAR(j["area"]["total_mm2"].get<double>(), a.total_mm2(), 1e-12);
  EXPECT_EQ(j["area"]["parts"].size(), a.parts.size());
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
                       Bad{"hw show nowhere", "nowhere"}, Bad{"frobnicate --model tiny", "unknown subcommand 'frobnicate'"}}) {
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
  // DRAM energy values with their sources; an overridden value names its key.
  r = run_cli("hw show mixpe_w4a8_64x64 -p dram.preset=hbm2 -p dram.background_mw=50");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("DRAM energy (hbm2)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3.9 pJ/bit"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("O'Connor et al., MICRO 2017"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("set by dram.background_mw (preset value 0)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mixpe::runtime
