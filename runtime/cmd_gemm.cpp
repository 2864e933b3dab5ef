// `mixpe gemm`: options and dispatch for the oracle GEMM job.
#include <memory>

#include <fmt/format.h>

#include "runtime/commands.h"
#include "runtime/gemm_job.h"

namespace mixpe::runtime {

CommandAction add_gemm_command(CLI::App& app) {
  struct State {
    GemmJobConfig cfg;
    bool json = false;
  };
  auto st = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand("gemm", "Run one random mpGEMM through every PE type's reference oracle");
  cmd->add_option("--m", st->cfg.m, "Rows of X (tokens)")->capture_default_str();
  cmd->add_option("--n", st->cfg.n, "Output channels")->capture_default_str();
  cmd->add_option("--k", st->cfg.k, "Input channels (reduction dimension)")->capture_default_str();
  cmd->add_option("--wbits", st->cfg.wbits, "Weight bits: 2, 3, 4 or 8")->capture_default_str();
  cmd->add_option("--group", st->cfg.group, "Weight group size along K (-1: per-channel)")->capture_default_str();
  cmd->add_flag("--sym", st->cfg.symmetric, "Symmetric weights (signed codes, zero point 0)");
  cmd->add_option("--seed", st->cfg.seed, "Random seed for the synthetic weights and activations")->capture_default_str();
  cmd->add_flag("--json", st->json, "Print the results as JSON instead of a table");
  return [st]() {
    const GemmJobResult result = run_gemm_job(st->cfg);
    if (st->json) {
      fmt::print("{}\n", gemm_result_json(result).dump(2));
    } else {
      print_gemm_table(result, stdout);
    }
    return 0;
  };
}

}  // namespace mixpe::runtime
