// The mixpe command-line tool: register subcommands, parse, run the chosen one.
#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "runtime/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"mixpe: simulate the MixPE mixed-precision accelerator, quantize models, measure speed and energy"};
  app.require_subcommand(1);

  // The one table of subcommands.
  std::map<std::string, mixpe::runtime::CommandAction> actions;
  actions["gemm"] = mixpe::runtime::add_gemm_command(app);

  CLI11_PARSE(app, argc, argv);

  const std::string name = app.get_subcommands().front()->get_name();
  try {
    return actions.at(name)();
  } catch (const std::exception& e) {
    fmt::print(stderr, "mixpe {}: error: {}\n", name, e.what());
    return 2;
  }
}
