// The mixpe command-line tool: register subcommands, parse, run the chosen one.
#include <cstdlib>
#include <cstdio>
#include <exception>
#include <map>
#include <new>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "runtime/commands.h"

#if MIXPE_WITH_SYSTEMC
// The SystemC library owns main() and calls sc_main (the cycle executor runs inside it); SystemC
// declares it extern "C".
extern "C" int sc_main(int argc, char* argv[]);
#define MIXPE_ENTRY sc_main
#else
#define MIXPE_ENTRY main
#endif

namespace {
// libsystemc's main() prints a copyright banner before it calls sc_main unless this variable is
// set; a static initializer runs before main(). An explicit setting by the user wins.
const bool kQuietSystemC = ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0) == 0;
}  // namespace

int MIXPE_ENTRY(int argc, char* argv[]) {
  CLI::App app{"mixpe: simulate the MixPE mixed-precision accelerator, quantize models, measure speed and energy"};
  app.require_subcommand(1);

  // The one table of subcommands.
  std::map<std::string, mixpe::runtime::CommandAction> actions;
  actions["simulate"] = mixpe::runtime::add_simulate_command(app);
  actions["sweep"] = mixpe::runtime::add_sweep_command(app);
  actions["compare"] = mixpe::runtime::add_compare_command(app);
  actions["report"] = mixpe::runtime::add_report_command(app);
  actions["hw"] = mixpe::runtime::add_hw_command(app);
  actions["gemm"] = mixpe::runtime::add_gemm_command(app);
  actions["inspect"] = mixpe::runtime::add_inspect_command(app);
  actions["quantize"] = mixpe::runtime::add_quantize_command(app);
  actions["data"] = mixpe::runtime::add_data_command(app);
  actions["eval"] = mixpe::runtime::add_eval_command(app);
  actions["run"] = mixpe::runtime::add_run_command(app);

  // CLI11 would only say that a subcommand is required; name the word it did not know.
  if (argc > 1 && argv[1][0] != '-' && actions.count(argv[1]) == 0) {
    std::string known;
    for (const auto& [n, _] : actions) known += (known.empty() ? "" : ", ") + n;
    fmt::print(stderr, "mixpe: unknown subcommand '{}' (expected one of: {}; see mixpe --help)\n", argv[1], known);
    return 2;
  }
  CLI11_PARSE(app, argc, argv);

  const std::string name = app.get_subcommands().front()->get_name();
  try {
    return actions.at(name)();
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "mixpe {}: error: out of memory (the workload's program or tensors do not fit in this machine's memory; "
                       "try a smaller --seq or --batch)\n", name);
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "mixpe {}: error: {}\n", name, e.what());
    return 2;
  }
}
