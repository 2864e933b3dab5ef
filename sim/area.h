// Whole-design area: the PE array, its row and column edge units, the skew registers, the SRAM
// buffers and the vector unit, composed from our RTL's Yosys transistor counts and sourced
// gate and SRAM-cell areas (docs/sim.md "Area").
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/energy.h"

namespace mixpe::sim {

// Transistor estimates of synthesized RTL units (configs/tech/yosys_units.yaml, written by
// rtl/synth/run.sh --data), by key.
struct UnitAreas {
  std::string file;
  std::map<std::string, double> transistors;
  // Throws std::out_of_range naming the file and the key.
  double at(const std::string& key) const;
};
UnitAreas parse_unit_areas(const std::string& yaml_text, const std::string& source);
// Default: configs/tech/yosys_units.yaml; loaded once per path and cached.
const UnitAreas& load_unit_areas(const std::string& path = "");

struct AreaPart {
  std::string name;   // e.g. "PE array"
  std::string basis;  // how the number was obtained, e.g. "64 x 64 x pe.mixpe.a8.w4 (4542 transistors)"
  double um2 = 0.0;
};

struct AreaBreakdown {
  std::vector<AreaPart> parts;  // PE array, row edges, column units, skew registers, vector unit, WBUF, IBUF, OBUF
  double logic_transistors = 0.0;  // every logic part, in Yosys `stat -tech cmos` transistors
  double logic_um2 = 0.0;
  double sram_um2 = 0.0;
  double total_um2 = 0.0;
  double total_mm2() const { return total_um2 * 1e-6; }
  double part_um2(const std::string& name) const;  // 0 when absent
};

// Transistors of the output-stationary array's logic (PEs, row edges, column units, skew and
// bottom-chain registers) as rtl/mixpe_array.sv builds it for `cfg`. Throws std::invalid_argument
// naming the key and value when no synthesized unit covers the configuration.
double array_transistors(const AcceleratorConfig& cfg, const UnitAreas& units);

// The whole design at the node of `tech` (keys logic_ge_um2, logic_utilization,
// sram_bitcell_um2, sram_array_efficiency).
AreaBreakdown estimate_area(const AcceleratorConfig& cfg, const TechTable& tech, const UnitAreas& units);
// Loads cfg.tech and the default unit table.
AreaBreakdown estimate_area(const AcceleratorConfig& cfg);

}  // namespace mixpe::sim
