// mixpe_hwcfg: resolve a hardware preset (+ key=value overrides) and print the RTL's Verilator -G
// flags, the resolved configuration, or the key table.
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/config.h"

int main(int argc, char** argv) {
  using namespace mixpe::sim;
  if (argc < 2) {
    std::fprintf(stderr, "usage: mixpe_hwcfg <preset|file.yaml|--keys> [key=value ...] [--verilator]\n");
    return 2;
  }
  const std::string first = argv[1];
  if (first == "--keys") {
    for (const auto& p : describe_parameters()) fmt::print("{:32} {:7} {:>14}  {}\n", p.key, p.type, p.default_value, p.description);
    return 0;
  }
  std::vector<std::string> overrides;
  bool verilator = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--verilator") verilator = true;
    else overrides.push_back(a);
  }
  try {
    const AcceleratorConfig cfg = load_config(first, overrides);
    if (verilator) {
      std::string line;
      for (const auto& f : verilator_parameters(cfg)) line += (line.empty() ? "" : " ") + f;
      fmt::print("{}\n", line);
    } else {
      fmt::print("name {}\nsource {}\narray {}x{} pe={} act={} w{} g{} model={}\ndram {} {} bits x {} MT/clk @ {} MHz\n", cfg.name,
                 cfg.source, cfg.rows, cfg.cols, to_string(cfg.pe_type), to_string(cfg.act_type), cfg.weight_bits, cfg.group_size,
                 cfg.array_model, cfg.dram.preset, cfg.dram.bus_bits, cfg.dram.data_rate, cfg.dram.clock_mhz);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mixpe_hwcfg: %s\n", e.what());
    return 1;
  }
  return 0;
}
