// Whole-design area from synthesized RTL units (docs/sim.md "Area").
#include "sim/area.h"

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace mixpe::sim {

double UnitAreas::at(const std::string& key) const {
  const auto it = transistors.find(key);
  if (it == transistors.end())
    throw std::out_of_range(fmt::format("{}: no synthesized unit '{}' (rtl/synth/run.sh --data writes it)", file, key));
  return it->second;
}

UnitAreas parse_unit_areas(const std::string& yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(fmt::format("{}: YAML syntax error: {}", source, e.what()));
  }
  if (!root.IsMap() || !root["units"] || !root["units"].IsMap())
    throw std::invalid_argument(fmt::format("{}: expected a mapping 'units'", source));
  UnitAreas u;
  u.file = source;
  for (const auto& kv : root["units"]) {
    const std::string key = kv.first.Scalar();
    double v = -1.0;
    try {
      if (kv.second.IsMap() && kv.second["transistors"]) v = kv.second["transistors"].as<double>();
    } catch (const YAML::Exception&) {
    }
    if (!(v > 0.0) || !std::isfinite(v))
      throw std::invalid_argument(fmt::format("{}: key 'units.{}.transistors': expected a positive number", source, key));
    u.transistors[key] = v;
  }
  return u;
}

const UnitAreas& load_unit_areas(const std::string& path_in) {
  static std::mutex mu;
  static std::map<std::string, UnitAreas> cache;
  const std::string path = path_in.empty() ? (std::filesystem::path(config_dir()) / "tech" / "yosys_units.yaml").string() : path_in;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(path);
  if (it != cache.end()) return it->second;
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(fmt::format("{}: cannot open the synthesized-unit table", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return cache.emplace(path, parse_unit_areas(ss.str(), path)).first->second;
}

double AreaBreakdown::part_um2(const std::string& name) const {
  for (const AreaPart& p : parts)
    if (p.name == name) return p.um2;
  return 0.0;
}

namespace {

int clog2(int v) { return v <= 1 ? 0 : std::bit_width(static_cast<unsigned>(v - 1)); }

// What rtl/mixpe_array.sv instantiates for a PE kind, and the register fields that stay live once
// the array is flattened (constant or unread fields fold away: the token scale of aligned FP16
// activations is 1.0, the baselines' activation sum is 0, an INT8 activation has no exponent).
struct ArrayKind {
  std::string pe, edge, column;  // column: the dequantization unit's key prefix ("dequant.*")
  std::string calibration;       // the whole 4x4 array synthesized for this kind
  int cal_weight_bits = 4, cal_group_max = 128;
  int xw = 8;         // activation bits a PE receives
  int qw = 4;         // weight bits a PE receives
  int row_live = 0;   // live bits per row-skew stage: valid/last/first/last-tile + x + e + sx
  int item_fixed = 0; // live bits of a bottom-chain item besides row, flags and A (sh, sx)
  bool has_a = true;  // the item carries the activation sum A
  int zs_extra = 0;   // live bits of a column's z/s delay stage besides the weight zero point
  bool zs_z = true;   // the zero point is live in the z/s delay
};

ArrayKind array_kind(const AcceleratorConfig& cfg) {
  ArrayKind k;
  const int b = cfg.weight_bits;
  switch (cfg.pe_type) {
    case PeType::kMixpe: {
      if (b != 2 && b != 3 && b != 4 && b != 8)
        throw std::invalid_argument(fmt::format("{}: key 'array.weight_bits' = {}: the area model has MixPE PEs of 2, 3, 4 and 8 bits",
                                                cfg.source.empty() ? cfg.name : cfg.source, b));
      const bool fp = cfg.act_type != ActType::kInt8;
      const int a = fp ? 16 : 8;
      k.pe = fmt::format("pe.mixpe.a{}.w{}", a, b);
      k.edge = fmt::format("edge.mixpe.a{}", a);
      k.column = fmt::format("dequant.mixpe.a{}", a);
      k.calibration = fmt::format("array4x4.mixpe.a{}.w4", a);
      k.xw = a;
      k.qw = b;
      k.row_live = fp ? 4 + 16 + 9 : 4 + 8 + 32;  // aligned: exponent live, scale constant
      k.item_fixed = fp ? 9 : 32;                 // aligned: shift live, scale constant
      k.zs_extra = 1 + 16;
      break;
    }
    case PeType::kBitfusion:
    case PeType::kAnt:
    case PeType::kInt8:
      // The signed INT4 MAC PE covers 2-4-bit weights, the INT8 one 5-8 bits.
      k.pe = b > 4 ? "pe.int8.w8" : "pe.int8.w4";
      k.edge = "edge.int8";
      k.column = "dequant.int8";
      k.calibration = "array4x4.int8.w8";
      k.cal_weight_bits = 8;
      k.cal_group_max = 256;
      k.xw = 8;
      k.qw = b;
      k.row_live = 4 + 8 + 32;
      k.item_fixed = 32;
      k.has_a = false;
      k.zs_extra = 1 + 16;
      k.zs_z = false;  // multiplied by A = 0
      // BitFusion and ANT: the INT8 array's rows, drain and per-channel dequantization around their
      // own PE (rtl/mixpe_bitfusion_pe.sv: one fusion unit, whatever the width mode; rtl/mixpe_ant_pe.sv).
      if (cfg.pe_type == PeType::kBitfusion) {
        const int products = 8 / b;  // a row stage carries a cycle's activations, a column stage its weights
        k.pe = "pe.bitfusion.w4a8";
        k.xw = 8 * products;
        k.qw = b * products;
        k.row_live = 4 + k.xw + 32;
      } else if (cfg.pe_type == PeType::kAnt) {
        k.pe = "pe.ant.w4";  // 4-bit codes travel; the PE decodes them
      }
      break;
    case PeType::kFp16:
      k.pe = "pe.fp16";
      k.edge = "edge.fp16";
      k.column = "dequant.fp16";
      k.calibration = "array4x4.fp16.w4";
      k.cal_group_max = 256;
      k.xw = 16;
      k.qw = 16;
      k.row_live = 4 + 16;
      k.item_fixed = 0;
      k.has_a = false;
      k.zs_extra = 0;  // the baseline never loads z and s
      k.zs_z = false;
      break;
  }
  return k;
}

// Live register bits rtl/mixpe_array.sv builds outside the units: row r delays its operands r
// cycles, column c its weights c cycles and its z and s R - 1 + c cycles, and the bottom chain
// moves row-edge items one column per cycle.
double skew_bits(const ArrayKind& k, int rows_i, int cols_i, int weight_bits, int group_max) {
  const double rows = rows_i, cols = cols_i;
  const double aw = k.has_a ? k.xw + clog2(group_max) + 1 : 0;
  const double item = std::max(1, clog2(rows_i)) + 2 + aw + k.item_fixed;
  const double zs = k.zs_extra + (k.zs_z ? weight_bits : 0);
  const double tri_r = rows * (rows - 1) / 2, tri_c = cols * (cols - 1) / 2;
  return k.row_live * tri_r + k.qw * tri_c + zs * (cols * (rows - 1) + tri_c) + (cols - 1) * (item + 1);
}

struct ArrayParts {
  double pe = 0, edges = 0, columns = 0, skew = 0;
  std::string pe_basis, edge_basis, column_basis, skew_basis;
};

ArrayParts array_parts(const AcceleratorConfig& cfg, const UnitAreas& units) {
  const ArrayKind k = array_kind(cfg);
  const double per_bit = units.at("reg.bit64") / 64.0;
  ArrayParts p;
  p.pe = static_cast<double>(cfg.rows) * cfg.cols * units.at(k.pe);
  p.pe_basis = fmt::format("{} x {} x {} ({:.0f} transistors)", cfg.rows, cfg.cols, k.pe, units.at(k.pe));
  p.edges = cfg.rows * units.at(k.edge);
  p.edge_basis = fmt::format("{} x {} ({:.0f})", cfg.rows, k.edge, units.at(k.edge));
  // A column unit as it synthesizes inside the array (flattening folds its constant inputs): what
  // the whole 4x4 array has beyond its PEs, row edges and registers, per column; plus one FP32
  // accumulator per row beyond 4, from the 4- and 8-row standalone syntheses.
  AcceleratorConfig cal = cfg;
  cal.weight_bits = k.cal_weight_bits;
  if (cfg.pe_type == PeType::kBitfusion || cfg.pe_type == PeType::kAnt) cal.pe_type = PeType::kInt8;  // their columns are INT8's
  const ArrayKind kc = array_kind(cal);
  const double column4 = (units.at(k.calibration) - 16.0 * units.at(kc.pe) - 4.0 * units.at(k.edge) -
                          skew_bits(kc, 4, 4, k.cal_weight_bits, k.cal_group_max) * per_bit) / 4.0;
  const double per_row = (units.at(k.column + ".r8") - units.at(k.column + ".r4")) / 4.0;
  p.columns = cfg.cols * (column4 + (cfg.rows - 4.0) * per_row);
  p.column_basis = fmt::format("{} x ({:.0f} from {} + (R - 4) x {:.0f} per row)", cfg.cols, column4, k.calibration, per_row);
  const double bits = skew_bits(k, cfg.rows, cfg.cols, cfg.weight_bits, cfg.effective_group_max());
  p.skew = bits * per_bit;
  p.skew_basis = fmt::format("{:.0f} live register bits x {:.0f} (reg.bit64 / 64)", bits, per_bit);
  return p;
}

}  // namespace

double array_transistors(const AcceleratorConfig& cfg, const UnitAreas& units) {
  const ArrayParts p = array_parts(cfg, units);
  return p.pe + p.edges + p.columns + p.skew;
}

// A technology-table value the area model divides by or multiplies with: finite and positive.
static double positive(const TechTable& tech, const std::string& key) {
  const double v = tech.at(key);
  if (!(v > 0.0) || !std::isfinite(v))
    throw std::invalid_argument(fmt::format("{}: key 'entries.{}.value' = {}: the area model needs a positive number", tech.file, key, v));
  return v;
}

AreaBreakdown estimate_area(const AcceleratorConfig& cfg, const TechTable& tech, const UnitAreas& units) {
  const ArrayParts a = array_parts(cfg, units);
  // Yosys' cmos estimate counts a NAND2 as 4 transistors: one gate equivalent.
  const double um2_per_transistor = positive(tech, "logic_ge_um2") / 4.0 / positive(tech, "logic_utilization");
  const double lane = units.at("fp.add32") + units.at("fp.mul32") + 96.0 * units.at("reg.bit64") / 64.0;
  AreaBreakdown out;
  auto logic = [&](const std::string& name, double transistors, const std::string& basis) {
    out.parts.push_back({name, basis, transistors * um2_per_transistor});
    out.logic_transistors += transistors;
    out.logic_um2 += transistors * um2_per_transistor;
  };
  logic("PE array", a.pe, a.pe_basis);
  logic("row edges", a.edges, a.edge_basis);
  logic("column dequantization", a.columns, a.column_basis);
  logic("skew registers", a.skew, a.skew_basis);
  logic("vector unit", cfg.vector_lanes * lane,
        fmt::format("{} lanes x (fp.add32 + fp.mul32 + 96 register bits)", cfg.vector_lanes));
  const double um2_per_bit = positive(tech, "sram_bitcell_um2") / positive(tech, "sram_array_efficiency");
  auto sram = [&](const std::string& name, const BufferConfig& b) {
    const double um2 = static_cast<double>(b.size_bytes()) * 8.0 * um2_per_bit;
    out.parts.push_back({name, fmt::format("{} KiB x 8 bits x {:.4f} um2 per bit", b.size_kib, um2_per_bit), um2});
    out.sram_um2 += um2;
  };
  sram("WBUF", cfg.wbuf);
  sram("IBUF", cfg.ibuf);
  sram("OBUF", cfg.obuf);
  out.total_um2 = out.logic_um2 + out.sram_um2;
  return out;
}

AreaBreakdown estimate_area(const AcceleratorConfig& cfg) {
  return estimate_area(cfg, load_tech_table(cfg.tech), load_unit_areas());
}

}  // namespace mixpe::sim
