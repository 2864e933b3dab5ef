// Subcommands of the mixpe CLI: each adds itself to the app and returns the action to run.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace mixpe::runtime {

// Runs a parsed subcommand; returns the process exit code. May throw std::exception with a
// message naming the bad file, key or value.
using CommandAction = std::function<int()>;

// Each registers options bound to state it owns (captured in the returned action).
CommandAction add_compare_command(CLI::App& app);
CommandAction add_data_command(CLI::App& app);
CommandAction add_eval_command(CLI::App& app);
CommandAction add_gemm_command(CLI::App& app);
CommandAction add_hw_command(CLI::App& app);
CommandAction add_inspect_command(CLI::App& app);
CommandAction add_quantize_command(CLI::App& app);
CommandAction add_report_command(CLI::App& app);
CommandAction add_run_command(CLI::App& app);
CommandAction add_simulate_command(CLI::App& app);
CommandAction add_sweep_command(CLI::App& app);

}  // namespace mixpe::runtime
