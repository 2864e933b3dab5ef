// The mixpe command-line tool: parse, dispatch to a subcommand, report.
#include <cstdio>
#include <exception>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "runtime/gemm_job.h"

int main(int argc, char** argv) {
  CLI::App app{"mixpe: simulate the MixPE mixed-precision accelerator, quantize models, measure speed and energy"};
  app.require_subcommand(1);

  mixpe::runtime::GemmJobConfig gemm;
  bool gemm_json = false;
  CLI::App* gemm_cmd = app.add_subcommand("gemm", "Run one random mpGEMM through every PE type's reference oracle");
  gemm_cmd->add_option("--m", gemm.m, "Rows of X (tokens)")->capture_default_str();
  gemm_cmd->add_option("--n", gemm.n, "Output channels")->capture_default_str();
  gemm_cmd->add_option("--k", gemm.k, "Input channels (reduction dimension)")->capture_default_str();
  gemm_cmd->add_option("--wbits", gemm.wbits, "Weight bits: 2, 3, 4 or 8")->capture_default_str();
  gemm_cmd->add_option("--group", gemm.group, "Weight group size along K (-1: per-channel)")->capture_default_str();
  gemm_cmd->add_flag("--sym", gemm.symmetric, "Symmetric weights (signed codes, zero point 0)");
  gemm_cmd->add_option("--seed", gemm.seed, "Random seed for the synthetic weights and activations")->capture_default_str();
  gemm_cmd->add_flag("--json", gemm_json, "Print the results as JSON instead of a table");

  CLI11_PARSE(app, argc, argv);

  try {
    if (gemm_cmd->parsed()) {
      const auto result = mixpe::runtime::run_gemm_job(gemm);
      if (gemm_json) {
        fmt::print("{}\n", mixpe::runtime::gemm_result_json(result).dump(2));
      } else {
        mixpe::runtime::print_gemm_table(result, stdout);
      }
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "mixpe {}: error: {}\n", app.get_subcommands().front()->get_name(), e.what());
    return 2;
  }
  return 0;
}
