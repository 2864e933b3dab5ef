// `mixpe gemm`: one random mpGEMM through every PE type's oracle, with accuracy against float64.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quant/metrics.h"

namespace mixpe::runtime {

struct GemmJobConfig {
  int m = 64;
  int n = 256;
  int k = 1024;
  int wbits = 4;
  int group = 128;  // -1: per-channel
  bool symmetric = false;
  std::uint64_t seed = 1;

  // Throws std::invalid_argument naming the command-line option and its value.
  void validate() const;
};

struct GemmPathResult {
  std::string path;         // mixpe-int8, mixpe-fp16, mixpe-bf16, fp16, int8, bitfusion (2/4/8-bit runs), ant
  std::string weights;      // e.g. "W4 g128 asym"
  std::string activations;  // e.g. "INT8 per-token"
  // Against the float64 GEMM of the unquantized float inputs: the error a user sees.
  quant::ErrorMetrics vs_float;
  // Against the float64 GEMM of the exact values this path consumed (its quantized weights and
  // activations): the error of the path's arithmetic alone.
  quant::ErrorMetrics vs_exact;
};

struct GemmJobResult {
  GemmJobConfig config;
  double weight_sqnr_db = 0.0;  // quantized weights vs float weights
  std::vector<GemmPathResult> paths;
};

GemmJobResult run_gemm_job(const GemmJobConfig& cfg);
void print_gemm_table(const GemmJobResult& result, std::FILE* out);
nlohmann::json gemm_result_json(const GemmJobResult& result);

}  // namespace mixpe::runtime
