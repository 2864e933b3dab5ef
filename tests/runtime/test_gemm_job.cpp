// The gemm job and the mixpe CLI: rows, JSON, plausible accuracy ordering, argument errors.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/gemm_job.h"
#include "tests/runtime/cli_runner.h"

namespace mixpe::runtime {
namespace {

using testing_util::CommandResult;
using testing_util::run_cli;

TEST(GemmJob, RunsEveryPathWithPlausibleAccuracy) {
  GemmJobConfig cfg;
  cfg.m = 8;
  cfg.n = 32;
  cfg.k = 512;
  const GemmJobResult r = run_gemm_job(cfg);
  ASSERT_EQ(r.paths.size(), 7u);
  const char* names[] = {"mixpe-int8", "mixpe-fp16", "mixpe-bf16", "fp16", "int8", "bitfusion", "ant"};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(r.paths[i].path, names[i]);
  // W4 g128 RTN weights: ~4.x bits of SQNR each (about 6 dB per bit, less for outliers).
  EXPECT_GT(r.weight_sqnr_db, 15.0);
  EXPECT_LT(r.weight_sqnr_db, 30.0);
  // FP activations lose almost nothing beyond the weight error; INT8 activations lose more (the
  // x20 outlier channels stretch each token's scale); W8A8 beats W4A8.
  const double w4_fp16 = r.paths[3].vs_float.sqnr_db;
  EXPECT_NEAR(r.paths[1].vs_float.sqnr_db, w4_fp16, 0.5);
  EXPECT_LT(r.paths[0].vs_float.sqnr_db, r.paths[1].vs_float.sqnr_db);
  EXPECT_GT(r.paths[4].vs_float.sqnr_db, r.paths[0].vs_float.sqnr_db + 3.0);
  // Per-channel 4-bit (BitFusion, plain RTN) loses to MixPE's groups of 128 at the same INT8
  // activations; ANT's type and clip search (whose candidates include RTN's int grid) beats it.
  EXPECT_LT(r.paths[5].vs_float.sqnr_db, r.paths[0].vs_float.sqnr_db);
  EXPECT_GT(r.paths[6].vs_float.sqnr_db, r.paths[5].vs_float.sqnr_db);
  // The arithmetic alone is far more accurate than quantization: FP32 accumulation (~140 dB),
  // except the FP16 baseline, whose FP16 weight rounding (2^-11 relative, ~66+ dB) counts here.
  for (const GemmPathResult& p : r.paths) EXPECT_GT(p.vs_exact.sqnr_db, p.path == "fp16" ? 60.0 : 120.0) << p.path;
}

TEST(GemmJob, MoreBitsMeansHigherSqnr) {
  double last = -1e9;
  for (int bits : {2, 3, 4, 8}) {
    GemmJobConfig cfg;
    cfg.m = 4;
    cfg.n = 32;
    cfg.k = 256;
    cfg.wbits = bits;
    const GemmJobResult r = run_gemm_job(cfg);
    EXPECT_GT(r.paths[0].vs_float.sqnr_db, last) << bits;
    last = r.paths[0].vs_float.sqnr_db;
  }
}

TEST(GemmJob, ValidationNamesTheOption) {
  GemmJobConfig cfg;
  cfg.group = 100;
  try {
    cfg.validate();
    FAIL() << "group 100 with K 1024 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--group = 100"), std::string::npos) << e.what();
  }
  cfg.group = 128;
  cfg.wbits = 5;
  EXPECT_THROW(cfg.validate(), std::invalid_argument);
  cfg.wbits = 4;
  cfg.m = 0;
  EXPECT_THROW(cfg.validate(), std::invalid_argument);
}

TEST(Cli, GemmPrintsARowPerPath) {
  const CommandResult r = run_cli("gemm --m 4 --n 16 --k 256 --wbits 4 --group 64");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* row : {"mixpe-int8 ", "mixpe-fp16 ", "mixpe-bf16 ", "\nfp16 ", "\nint8 ", "\nbitfusion ", "\nant "})
    EXPECT_NE(r.out.find(row), std::string::npos) << row << "\n" << r.out;
  EXPECT_NE(r.out.find("W4 g64 asym"), std::string::npos) << r.out;
}

TEST(Cli, GemmJsonParses) {
  const CommandResult r = run_cli("gemm --m 2 --n 8 --k 128 --wbits 3 --group 32 --sym --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["config"]["k"], 128);
  EXPECT_EQ(j["config"]["symmetric"], true);
  ASSERT_EQ(j["paths"].size(), 6u);  // no BitFusion row: its fusion unit has no 3-bit mode
  EXPECT_EQ(j["paths"][0]["path"], "mixpe-int8");
  EXPECT_TRUE(j["paths"][0]["vs_float"]["sqnr_db"].is_number());
}

TEST(Cli, BadArgumentsFailWithAMessage) {
  CommandResult r = run_cli("gemm --k 1024 --group 100");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("--group = 100"), std::string::npos) << r.out;
  r = run_cli("gemm --wbits 5");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("--wbits = 5"), std::string::npos) << r.out;
  r = run_cli("gemm --m banana");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("--m"), std::string::npos) << r.out;
  r = run_cli("frobnicate");
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace mixpe::runtime
