// `mixpe hw list | show | keys`: the hardware presets and their resolved parameters.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/commands.h"
#include "runtime/report.h"
#include "sim/area.h"
#include "sim/config.h"
#include "sim/isa.h"

namespace mixpe::runtime {
namespace {

std::string summary(const sim::AcceleratorConfig& c) {
  const double peak_tmacs = static_cast<double>(c.rows) * c.cols * sim::macs_per_pe_cycle(sim::array_mode_of(c), c.weight_bits) *
                            c.clock_mhz * 1e6 / 1e12;
  const std::string group = c.group_size == -1 ? "per-channel" : fmt::format("g{}", c.group_size);
  return fmt::format("{}x{} {} PE, {} activations, W{} {}, {:.0f} MHz, {:.2f} TMAC/s peak, DRAM {}", c.rows, c.cols,
                     sim::to_string(c.pe_type), sim::to_string(c.act_type), c.weight_bits, group, c.clock_mhz, peak_tmacs,
                     c.dram.preset);
}

// The DRAM energy values with where each comes from: the preset's source, or the key that set it.
void print_dram_energy(const sim::DramConfig& d) {
  const sim::DramConfig preset = sim::dram_preset(d.preset);
  const sim::DramEnergySources src = sim::dram_energy_sources(d.preset);
  auto line = [](const char* what, double value, const char* unit, double preset_value, const std::string& source, const char* key) {
    const std::string from = value == preset_value ? source : fmt::format("set by {} (preset value {})", key, preset_value);
    fmt::print("    {:<10} {:>10g} {:<7} {}\n", what, value, unit, from);
  };
  fmt::print("  DRAM energy ({}):\n", d.preset);
  line("read", d.read_pj_per_bit, "pJ/bit", preset.read_pj_per_bit, src.read, "dram.read_pj_per_bit");
  line("write", d.write_pj_per_bit, "pJ/bit", preset.write_pj_per_bit, src.write, "dram.write_pj_per_bit");
  line("activate", d.activate_pj, "pJ", preset.activate_pj, src.activate, "dram.activate_pj");
  line("background", d.background_mw, "mW", preset.background_mw, src.background, "dram.background_mw");
}

void print_area(const sim::AcceleratorConfig& c) {
  sim::AreaBreakdown a;
  try {
    a = sim::estimate_area(c);
  } catch (const std::exception& e) {
    fmt::print("  area: not modelled ({})\n", e.what());
    return;
  }
  fmt::print("  area ({}, docs/sim.md \"Area\"): {:.3f} mm2 = logic {:.3f} + SRAM {:.3f}\n", c.tech, a.total_mm2(),
             a.logic_um2 * 1e-6, a.sram_um2 * 1e-6);
  for (const sim::AreaPart& p : a.parts)
    fmt::print("    {:<22} {:>8.4f} mm2 {:>5.1f}%  {}\n", p.name, p.um2 * 1e-6, 100.0 * p.um2 / a.total_um2, p.basis);
}

// `mixpe hw show --json` (schema mixpe.hw/1): the resolved keys and the area breakdown.
nlohmann::json show_json(const sim::AcceleratorConfig& c) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [key, value] : sim::parameter_values(c)) params[key] = value;
  nlohmann::json area = nullptr;  // null when the area model does not cover the design
  try {
    const sim::AreaBreakdown a = sim::estimate_area(c);
    nlohmann::json parts = nlohmann::json::array();
    for (const sim::AreaPart& p : a.parts) parts.push_back({{"name", p.name}, {"mm2", p.um2 * 1e-6}, {"basis", p.basis}});
    area = {{"total_mm2", a.total_mm2()}, {"logic_mm2", a.logic_um2 * 1e-6}, {"sram_mm2", a.sram_um2 * 1e-6},
            {"logic_transistors", a.logic_transistors}, {"parts", parts}};
  } catch (const std::exception& e) {
    area = {{"error", e.what()}};
  }
  return {{"schema", "mixpe.hw/1"}, {"name", c.name}, {"source", c.source}, {"parameters", params}, {"area", area}};
}

}  // namespace

CommandAction add_hw_command(CLI::App& app) {
  struct State {
    std::string preset;
    std::vector<std::string> overrides;
    std::string json_path;
  };
  auto st = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand("hw", "List, show and explain hardware configurations");
  cmd->require_subcommand(1);
  CLI::App* list = cmd->add_subcommand("list", "List the hardware presets in configs/hw");
  CLI::App* show = cmd->add_subcommand("show", "Show a preset or YAML file, resolved, with overrides applied");
  show->add_option("preset", st->preset, "Preset name or path to a .yaml file")->required();
  show->add_option("-p,--param", st->overrides, "Override a key, e.g. -p array.rows=32 (repeatable)");
  show->add_option("--json", st->json_path, "Write every key's value and the area breakdown as JSON to this file ('-': stdout alone)");
  CLI::App* keys = cmd->add_subcommand("keys", "Every configuration key with its type, default and meaning");
  return [st, list, show, keys]() {
    if (list->parsed()) {
      for (const std::string& name : sim::list_presets()) {
        const sim::AcceleratorConfig c = sim::load_config(name);
        std::string area;
        try {
          area = fmt::format(", {:.2f} mm2", sim::estimate_area(c).total_mm2());
        } catch (const std::exception&) {
          area = ", area not modelled";
        }
        fmt::print("{:<22} {}{}\n", name, summary(c), area);
      }
    } else if (show->parsed()) {
      const sim::AcceleratorConfig c = sim::load_config(st->preset, st->overrides);
      if (!st->json_path.empty()) {
        const std::string text = show_json(c).dump(2) + "\n";
        if (st->json_path == "-") {
          fmt::print("{}", text);
          return 0;
        }
        write_file_atomic(st->json_path, text);
      }
      fmt::print("{} ({})\n  {}\n", c.name, c.source, summary(c));
      fmt::print("  buffers: WBUF {} KiB, IBUF {} KiB, OBUF {} KiB\n", c.wbuf.size_kib, c.ibuf.size_kib, c.obuf.size_kib);
      fmt::print("  DRAM: {} bits x {} transfers/clock at {} MHz, {} banks\n", c.dram.bus_bits, c.dram.data_rate,
                 c.dram.clock_mhz, c.dram.banks);
      print_dram_energy(c.dram);
      print_area(c);
      std::string flags;
      for (const std::string& f : sim::verilator_parameters(c)) flags += " " + f;
      fmt::print("  RTL parameters:{}\n", flags.empty() ? fmt::format(" none (rtl/mixpe_{}_pe.sv is a single PE, no array)",
                                                                        sim::to_string(c.pe_type))
                                                        : flags);
    } else if (keys->parsed()) {
      for (const sim::ParamInfo& p : sim::describe_parameters())
        fmt::print("{:<32} {:<7} {:>14}  {}\n", p.key, p.type, p.default_value, p.description);
    }
    return 0;
  };
}

}  // namespace mixpe::runtime
