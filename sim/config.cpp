// Parameter table, YAML parsing, presets, overrides and validation of AcceleratorConfig.
#include "sim/config.h"

#include <dlfcn.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#ifndef MIXPE_CONFIG_DIR
#define MIXPE_CONFIG_DIR "configs"
#endif

namespace mixpe::sim {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& value, const std::string& why) {
  throw std::invalid_argument(fmt::format("{}: key '{}' = '{}': {}", source, key, value, why));
}

struct ParamSpec {
  const char* key;
  const char* type;
  const char* description;
  // Parses `value` into cfg; throws via fail() with the reason.
  std::function<void(AcceleratorConfig&, const std::string& value, const std::string& source)> set;
  std::function<std::string(const AcceleratorConfig&)> get;
};

long long parse_int(const std::string& source, const std::string& key, const std::string& v, long long lo, long long hi) {
  long long out = 0;
  const char* b = v.data();
  const char* e = v.data() + v.size();
  auto [p, ec] = std::from_chars(b, e, out);
  if (ec != std::errc() || p != e) fail(source, key, v, "not an integer");
  if (out < lo || out > hi) fail(source, key, v, fmt::format("out of range [{}, {}]", lo, hi));
  return out;
}

double parse_float(const std::string& source, const std::string& key, const std::string& v, double lo, double hi) {
  char* end = nullptr;
  const double out = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(out)) fail(source, key, v, "not a finite number");
  if (out < lo || out > hi) fail(source, key, v, fmt::format("out of range [{}, {}]", lo, hi));
  return out;
}

ParamSpec int_p(const char* key, const char* desc, long long lo, long long hi, std::function<int&(AcceleratorConfig&)> ref) {
  return ParamSpec{key, "int", desc,
                   [=](AcceleratorConfig& c, const std::string& v, const std::string& src) {
                     ref(c) = static_cast<int>(parse_int(src, key, v, lo, hi));
                   },
                   [=](const AcceleratorConfig& c) { return std::to_string(ref(const_cast<AcceleratorConfig&>(c))); }};
}

ParamSpec float_p(const char* key, const char* desc, double lo, double hi, std::function<double&(AcceleratorConfig&)> ref) {
  return ParamSpec{key, "float", desc,
                   [=](AcceleratorConfig& c, const std::string& v, const std::string& src) {
                     ref(c) = parse_float(src, key, v, lo, hi);
                   },
                   [=](const AcceleratorConfig& c) { return fmt::format("{}", ref(const_cast<AcceleratorConfig&>(c))); }};
}

ParamSpec string_p(const char* key, const char* desc, std::function<std::string&(AcceleratorConfig&)> ref) {
  return ParamSpec{key, "string", desc,
                   [=](AcceleratorConfig& c, const std::string& v, const std::string& src) {
                     if (v.empty()) fail(src, key, v, "must not be empty");
                     ref(c) = v;
                   },
                   [=](const AcceleratorConfig& c) { return ref(const_cast<AcceleratorConfig&>(c)); }};
}

template <typename E>
ParamSpec enum_p(const char* key, const char* desc, std::vector<std::pair<const char*, E>> names, std::function<E&(AcceleratorConfig&)> ref) {
  return ParamSpec{key, "enum", desc,
                   [=](AcceleratorConfig& c, const std::string& v, const std::string& src) {
                     std::string allowed;
                     for (const auto& [n, e] : names) {
                       if (v == n) { ref(c) = e; return; }
                       allowed += allowed.empty() ? n : std::string(", ") + n;
                     }
                     fail(src, key, v, "expected one of: " + allowed);
                   },
                   [=](const AcceleratorConfig& c) {
                     for (const auto& [n, e] : names)
                       if (e == ref(const_cast<AcceleratorConfig&>(c))) return std::string(n);
                     return std::string("?");
                   }};
}

ParamSpec buffer_p(const char* key, const char* desc, long long lo, long long hi, BufferConfig AcceleratorConfig::*buf, int BufferConfig::*field) {
  return int_p(key, desc, lo, hi, [=](AcceleratorConfig& c) -> int& { return (c.*buf).*field; });
}

// The one table of configuration keys. dram.* timing and energy keys apply after dram.preset.
const std::vector<ParamSpec>& param_table() {
  static const std::vector<ParamSpec> table = {
      string_p("name", "configuration name, echoed in reports", [](AcceleratorConfig& c) -> std::string& { return c.name; }),
      float_p("clock_mhz", "accelerator clock frequency in MHz", 1.0, 10000.0, [](AcceleratorConfig& c) -> double& { return c.clock_mhz; }),
      int_p("array.rows", "array rows R (tokens per tile)", 1, 1024, [](AcceleratorConfig& c) -> int& { return c.rows; }),
      int_p("array.cols", "array columns C (output channels per tile)", 1, 1024, [](AcceleratorConfig& c) -> int& { return c.cols; }),
      enum_p<PeType>("array.pe_type",
                     "PE type: mixpe (shift-and-add), fp16 (dequantize then FP16 MAC), int8 (W8A8 MAC), bitfusion (BitBrick "
                     "fusion unit, 8/weight_bits products per cycle), ant (4-bit int/flint/PoT decoder + integer MAC)",
                     {{"mixpe", PeType::kMixpe}, {"fp16", PeType::kFp16}, {"int8", PeType::kInt8}, {"bitfusion", PeType::kBitfusion},
                      {"ant", PeType::kAnt}},
                     [](AcceleratorConfig& c) -> PeType& { return c.pe_type; }),
      enum_p<ActType>("array.act_type", "activation type fed to the array: int8, fp16 or bf16",
                      {{"int8", ActType::kInt8}, {"fp16", ActType::kFp16}, {"bf16", ActType::kBf16}},
                      [](AcceleratorConfig& c) -> ActType& { return c.act_type; }),
      int_p("array.weight_bits", "weight code width in bits (2, 3, 4 or 8)", 2, 8, [](AcceleratorConfig& c) -> int& { return c.weight_bits; }),
      int_p("array.group_size", "quantization group size g along K in elements; -1 = per-channel", -1, 1 << 20,
            [](AcceleratorConfig& c) -> int& { return c.group_size; }),
      enum_p<bool>("array.weight_signed", "signed (symmetric) weight codes: true, or unsigned codes with a zero point: false",
                   {{"false", false}, {"true", true}}, [](AcceleratorConfig& c) -> bool& { return c.weight_signed; }),
      int_p("array.group_max", "largest group size in elements the RTL supports; 0 = group_size (4096 if per-channel)", 0, 1 << 20,
            [](AcceleratorConfig& c) -> int& { return c.group_max; }),
      enum_p<ArrayDataflow>("array.dataflow",
                            "dataflows the array offers: os (output-stationary), ws (weight-stationary) or both (the mapper picks per GEMM)",
                            {{"os", ArrayDataflow::kOs}, {"ws", ArrayDataflow::kWs}, {"both", ArrayDataflow::kBoth}},
                            [](AcceleratorConfig& c) -> ArrayDataflow& { return c.dataflow; }),
      int_p("array.ws_load_bits", "weight-stationary weight-load bits per column per cycle (1024 bits per cycle on 64 columns at 16)", 2,
            1024, [](AcceleratorConfig& c) -> int& { return c.ws_load_bits; }),
      string_p("array.model", "array model from the registry: pe (per-PE cycle model) or tile (closed form)",
               [](AcceleratorConfig& c) -> std::string& { return c.array_model; }),
      buffer_p("buffers.wbuf.size_kib", "weight buffer capacity in KiB", 1, 1 << 20, &AcceleratorConfig::wbuf, &BufferConfig::size_kib),
      buffer_p("buffers.wbuf.banks", "weight buffer banks", 1, 1024, &AcceleratorConfig::wbuf, &BufferConfig::banks),
      buffer_p("buffers.wbuf.bank_width_bits", "weight buffer bank width in bits per cycle", 8, 1 << 16, &AcceleratorConfig::wbuf, &BufferConfig::bank_width_bits),
      buffer_p("buffers.ibuf.size_kib", "input (activation) buffer capacity in KiB", 1, 1 << 20, &AcceleratorConfig::ibuf, &BufferConfig::size_kib),
      buffer_p("buffers.ibuf.banks", "input buffer banks", 1, 1024, &AcceleratorConfig::ibuf, &BufferConfig::banks),
      buffer_p("buffers.ibuf.bank_width_bits", "input buffer bank width in bits per cycle", 8, 1 << 16, &AcceleratorConfig::ibuf, &BufferConfig::bank_width_bits),
      buffer_p("buffers.obuf.size_kib", "output buffer capacity in KiB", 1, 1 << 20, &AcceleratorConfig::obuf, &BufferConfig::size_kib),
      buffer_p("buffers.obuf.banks", "output buffer banks", 1, 1024, &AcceleratorConfig::obuf, &BufferConfig::banks),
      buffer_p("buffers.obuf.bank_width_bits", "output buffer bank width in bits per cycle", 8, 1 << 16, &AcceleratorConfig::obuf, &BufferConfig::bank_width_bits),
      string_p("dram.preset", "DRAM preset: ddr4_3200, lpddr5_6400, hbm2, ideal_1024b", [](AcceleratorConfig& c) -> std::string& { return c.dram.preset; }),
      float_p("dram.clock_mhz", "DRAM interface clock in MHz", 1.0, 20000.0, [](AcceleratorConfig& c) -> double& { return c.dram.clock_mhz; }),
      int_p("dram.bus_bits", "DRAM data bus width in bits", 8, 1 << 16, [](AcceleratorConfig& c) -> int& { return c.dram.bus_bits; }),
      int_p("dram.data_rate", "DRAM transfers per clock (1 SDR, 2 DDR)", 1, 8, [](AcceleratorConfig& c) -> int& { return c.dram.data_rate; }),
      int_p("dram.burst_length", "DRAM transfers per burst", 1, 64, [](AcceleratorConfig& c) -> int& { return c.dram.burst_length; }),
      int_p("dram.banks", "DRAM banks (row buffers)", 1, 1024, [](AcceleratorConfig& c) -> int& { return c.dram.banks; }),
      int_p("dram.row_bytes", "DRAM row (page) size across the bus in bytes", 1, 1 << 30, [](AcceleratorConfig& c) -> int& { return c.dram.row_bytes; }),
      float_p("dram.tcl_ns", "CAS latency in ns", 0.0, 1e6, [](AcceleratorConfig& c) -> double& { return c.dram.tcl_ns; }),
      float_p("dram.trcd_ns", "activate-to-CAS delay in ns", 0.0, 1e6, [](AcceleratorConfig& c) -> double& { return c.dram.trcd_ns; }),
      float_p("dram.trp_ns", "precharge time in ns", 0.0, 1e6, [](AcceleratorConfig& c) -> double& { return c.dram.trp_ns; }),
      float_p("dram.trfc_ns", "refresh cycle time in ns (all banks blocked)", 0.0, 1e6, [](AcceleratorConfig& c) -> double& { return c.dram.trfc_ns; }),
      float_p("dram.trefi_ns", "refresh interval in ns; 0 disables refresh", 0.0, 1e9, [](AcceleratorConfig& c) -> double& { return c.dram.trefi_ns; }),
      float_p("dram.read_pj_per_bit", "DRAM read energy in pJ per bit (core + I/O)", 0.0, 1e4,
              [](AcceleratorConfig& c) -> double& { return c.dram.read_pj_per_bit; }),
      float_p("dram.write_pj_per_bit", "DRAM write energy in pJ per bit (core + I/O)", 0.0, 1e4,
              [](AcceleratorConfig& c) -> double& { return c.dram.write_pj_per_bit; }),
      float_p("dram.activate_pj", "DRAM energy of one activate + precharge pair in pJ", 0.0, 1e9,
              [](AcceleratorConfig& c) -> double& { return c.dram.activate_pj; }),
      float_p("dram.background_mw", "DRAM standby (background) power in mW, paid for the whole run", 0.0, 1e7,
              [](AcceleratorConfig& c) -> double& { return c.dram.background_mw; }),
      int_p("vector.lanes", "vector unit lanes (element operations per cycle)", 1, 4096, [](AcceleratorConfig& c) -> int& { return c.vector_lanes; }),
      int_p("vector.latency_cycles", "vector unit pipeline latency in cycles", 0, 1000, [](AcceleratorConfig& c) -> int& { return c.vector_latency_cycles; }),
      int_p("controller.queue_depth", "instruction queue depth per unit", 1, 1024, [](AcceleratorConfig& c) -> int& { return c.queue_depth; }),
      string_p("tech", "technology/energy table name under configs/tech/", [](AcceleratorConfig& c) -> std::string& { return c.tech; }),
  };
  return table;
}

const ParamSpec* find_param(const std::string& key) {
  for (const auto& p : param_table())
    if (key == p.key) return &p;
  return nullptr;
}

void flatten(const YAML::Node& node, const std::string& prefix, const std::string& source,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string k = kv.first.Scalar();
      flatten(kv.second, prefix.empty() ? k : prefix + "." + k, source, out);
    }
  } else if (node.IsScalar()) {
    out.emplace_back(prefix, node.Scalar());
  } else if (node.IsNull()) {
    if (!prefix.empty()) fail(source, prefix, "", "missing value");
  } else {
    fail(source, prefix, "<sequence>", "expected a scalar value or a mapping");
  }
}

struct DramPreset {
  const char* name;
  DramConfig cfg;
  const char* source;
  DramEnergySources energy;
};

// Timings are public datasheet/JEDEC figures; see docs/sim.md for the derivation of each. Energies
// (the last four DramConfig fields) carry their own source strings, printed by `mixpe hw show`.
const std::vector<DramPreset>& dram_presets() {
  // The DDR4 energies follow Micron TN-40-07 from one complete published IDD set: Micron 4 GB x64
  // UDIMM MTA4ATF51264AZ (atf4c512x64az.pdf Rev. B 8/16, Table 13: four MT40A512M16 8 Gb x16, die
  // rev. B), DDR4-2666 column, per rank: IDD0 340, IPP0 16, IDD2N 140, IDD3N 200, IPP3N 12, IDD4R
  // 1052, IDD4W 976 mA; VDD 1.2 V, VPP 2.5 V; tRC 46.16 ns, tRP 14.16 ns (tRAS 32 ns).
  static const char* const kDdr4Idd = "Micron MTA4ATF51264AZ datasheet Table 13 (4 x MT40A512M16 8Gb x16, DDR4-2666 column), TN-40-07 method";
  static const std::vector<DramPreset> presets = {
      // JESD79-4 DDR4-3200AA (22-22-22): tCK 0.625 ns, CL = tRCD = tRP = 22 tCK = 13.75 ns; x64 rank of
      // x8 devices: 16 banks, 1 KiB page per device -> 8 KiB row; 8 Gb: tRFC1 350 ns, tREFI 7.8 us.
      {"ddr4_3200",
       DramConfig{"ddr4_3200", 1600.0, 64, 2, 8, 16, 8192, 13.75, 13.75, 13.75, 350.0, 7800.0, 5.99, 5.46, 9236.0, 270.0},
       "JESD79-4 DDR4-3200AA, one x64 rank",
       {fmt::format("{}: (IDD4R - IDD3N) x VDD / (64 bit x 2.667 Gb/s) = 852 mA x 1.2 V / 170.7 Gb/s = 5.99 pJ/bit; "
                    "array and periphery only (IDD4R is measured with IOUT = 0: DQ I/O and termination not included)", kDdr4Idd),
        fmt::format("{}: (IDD4W - IDD3N) x VDD / 170.7 Gb/s = 776 mA x 1.2 V / 170.7 Gb/s = 5.46 pJ/bit; "
                    "I/O and termination not included", kDdr4Idd),
        fmt::format("{}: [IDD0 tRC - (IDD3N tRAS + IDD2N tRP)] VDD + (IPP0 - IPP3N) VPP tRC = "
                    "(15694.4 - 8382.4) mA ns x 1.2 V + 4 mA x 2.5 V x 46.16 ns = 8774.4 + 461.6 = 9236 pJ per rank "
                    "(4 x 2 KiB pages = the preset's 8 KiB row)", kDdr4Idd),
        fmt::format("{}: active standby IDD3N x VDD + IPP3N x VPP = 200 mA x 1.2 V + 12 mA x 2.5 V = 270 mW per rank", kDdr4Idd)}},
      // JESD209-5 LPDDR5-6400, four x16 channels ganged to 64 bits: WCK 3200 MHz DDR, BL16, 16 banks,
      // 2 KiB page per channel -> 8 KiB row; tRCD 18 ns, tRPpb 18 ns, read latency ~20 ns; 16 Gb: tRFCab
      // 280 ns, tREFI 3.904 us.
      {"lpddr5_6400",
       DramConfig{"lpddr5_6400", 3200.0, 64, 2, 16, 16, 8192, 20.0, 18.0, 18.0, 280.0, 3904.0, 4.5, 4.5, 0.0, 0.0},
       "JESD209-5 LPDDR5-6400, 4 x16 channels",
       {"ASSUMPTION: midpoint of the 4-5 pJ/bit LPDDR5 class figure named in the project brief; no primary source checked",
        "ASSUMPTION: as the read energy (4.5 pJ/bit); no primary source checked",
        "not modelled: no verified LPDDR5 IDD set (0 pJ)", "not modelled: no verified LPDDR5 IDD set (0 mW)"}},
      // JESD235A HBM2, one stack as a single 1024-bit interface (8 x 128-bit channels), 2.0 Gb/s/pin
      // (1000 MHz DDR), BL4; tCL = tRCD = tRP = 14 ns, 16 banks, 1 KiB page per channel -> 8 KiB row;
      // 8 Gb: tRFC 260 ns, tREFI 3.9 us.
      {"hbm2", DramConfig{"hbm2", 1000.0, 1024, 2, 4, 16, 8192, 14.0, 14.0, 14.0, 260.0, 3900.0, 3.9, 3.9, 0.0, 0.0},
       "JESD235A HBM2, one stack at 2 Gb/s/pin",
       {"O'Connor et al., MICRO 2017 (Fine-Grained DRAM): HBM2 ~3.9 pJ/bit accessed, an average over activation, on-die data "
        "movement and I/O (figure as cited in the project brief)",
        "O'Connor et al., MICRO 2017: ~3.9 pJ/bit, same figure for writes",
        "0: row activation is inside the 3.9 pJ/bit average (charging it again would count it twice)",
        "not modelled: no verified HBM2 standby figure (0 mW)"}},
      // The MixPE paper's interface: 1024 bits per accelerator cycle, no latency, no banks, no refresh.
      {"ideal_1024b",
       DramConfig{"ideal_1024b", 500.0, 1024, 1, 1, 1, 1 << 30, 0.0, 0.0, 0.0, 0.0, 0.0, 0.629, 0.766, 0.0, 0.0},
       "arXiv 2411.16158 reference setup",
       {"arXiv 2411.16158 reference setup: 0.629 pJ/bit read", "arXiv 2411.16158 reference setup: 0.766 pJ/bit write",
        "0: the paper's interface has no rows", "0: the paper charges no DRAM standby power"}},
  };
  return presets;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string_view to_string(PeType t) {
  switch (t) {
    case PeType::kMixpe: return "mixpe";
    case PeType::kFp16: return "fp16";
    case PeType::kInt8: return "int8";
    case PeType::kBitfusion: return "bitfusion";
    case PeType::kAnt: return "ant";
  }
  return "?";
}

std::string_view to_string(ActType t) {
  switch (t) {
    case ActType::kInt8: return "int8";
    case ActType::kFp16: return "fp16";
    case ActType::kBf16: return "bf16";
  }
  return "?";
}

std::string_view to_string(ArrayDataflow d) {
  switch (d) {
    case ArrayDataflow::kOs: return "os";
    case ArrayDataflow::kWs: return "ws";
    case ArrayDataflow::kBoth: return "both";
  }
  return "?";
}

int AcceleratorConfig::act_bits() const { return act_type == ActType::kInt8 ? 8 : 16; }

std::vector<ParamInfo> describe_parameters() {
  const AcceleratorConfig defaults;
  std::vector<ParamInfo> out;
  for (const auto& p : param_table()) out.push_back({p.key, p.type, p.get(defaults), p.description});
  return out;
}

std::vector<std::pair<std::string, std::string>> parameter_values(const AcceleratorConfig& cfg) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : param_table()) out.emplace_back(p.key, p.get(cfg));
  return out;
}

std::string installed_data_dir() {
  static const std::string dir = [] {
    // The binary holding this code: the Python module (an absolute path), or the CLI, which dladdr
    // may name as it was invoked (argv[0]), hence /proc/self/exe.
    Dl_info info{};
    const bool absolute = ::dladdr(reinterpret_cast<void*>(&installed_data_dir), &info) != 0 && info.dli_fname != nullptr &&
                          info.dli_fname[0] == '/';
    std::error_code ec;
    std::filesystem::path p = std::filesystem::canonical(absolute ? info.dli_fname : "/proc/self/exe", ec);
    if (ec) return std::string();
    // Only the installed layouts: <prefix>/bin/mixpe and <prefix>/lib/python3/dist-packages/mixpe*.so.
    const std::filesystem::path dir = p.parent_path();
    std::filesystem::path prefix;
    if (dir.filename() == "bin") {
      prefix = dir.parent_path();
    } else if (dir.filename() == "dist-packages" || dir.filename() == "site-packages") {
      prefix = dir.parent_path().parent_path().parent_path();
    } else {
      return std::string();
    }
    const std::filesystem::path share = prefix / "share" / "mixpe";
    return std::filesystem::is_directory(share / "configs", ec) ? share.string() : std::string();
  }();
  return dir;
}

std::string config_dir() {
  if (const char* env = std::getenv("MIXPE_CONFIG_DIR"); env != nullptr && *env != '\0') return env;
  if (const std::string share = installed_data_dir(); !share.empty()) return share + "/configs";
  return MIXPE_CONFIG_DIR;
}

std::vector<std::string> list_presets() {
  std::vector<std::string> names;
  const std::filesystem::path dir = std::filesystem::path(config_dir()) / "hw";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

DramConfig dram_preset(const std::string& name) {
  for (const auto& p : dram_presets())
    if (name == p.name) return p.cfg;
  std::string all;
  for (const auto& p : dram_presets()) all += all.empty() ? p.name : std::string(", ") + p.name;
  throw std::invalid_argument(fmt::format("unknown DRAM preset '{}' (expected one of: {})", name, all));
}

DramEnergySources dram_energy_sources(const std::string& preset) {
  for (const auto& p : dram_presets())
    if (preset == p.name) return p.energy;
  dram_preset(preset);  // throws naming the presets
  return {};
}

std::vector<std::string> dram_preset_names() {
  std::vector<std::string> out;
  for (const auto& p : dram_presets()) out.emplace_back(p.name);
  return out;
}

AcceleratorConfig parse_config_text(const std::string& yaml_text, const std::string& source,
                                    const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(fmt::format("{}: YAML syntax error: {}", source, e.what()));
  }
  if (!root.IsNull() && !root.IsMap()) throw std::invalid_argument(fmt::format("{}: top level must be a mapping", source));

  // (key, value, where) in application order: the file, then the overrides.
  struct Entry { std::string key, value, where; };
  std::vector<Entry> entries;
  std::vector<std::pair<std::string, std::string>> flat;
  flatten(root, "", source, flat);
  for (auto& [k, v] : flat) entries.push_back({k, v, source});
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos) throw std::invalid_argument(fmt::format("override '{}': expected key=value", o));
    entries.push_back({trim(o.substr(0, eq)), trim(o.substr(eq + 1)), "override"});
  }
  for (const auto& e : entries)
    if (find_param(e.key) == nullptr) fail(e.where, e.key, e.value, "unknown key (see docs/sim.md for the key table)");

  AcceleratorConfig cfg;
  cfg.source = source;
  // The preset fills every DRAM timing first so that explicit dram.* keys refine it.
  bool clock_given = false;
  for (const auto& e : entries) {
    if (e.key == "dram.preset") {
      try {
        cfg.dram = dram_preset(e.value);
      } catch (const std::invalid_argument& ex) {
        fail(e.where, e.key, e.value, ex.what());
      }
    }
    if (e.key == "dram.clock_mhz") clock_given = true;
  }
  for (const auto& e : entries)
    if (e.key != "dram.preset") find_param(e.key)->set(cfg, e.value, e.where);
  // "1024 bit per cycle" means per accelerator cycle.
  if (cfg.dram.preset == "ideal_1024b" && !clock_given) cfg.dram.clock_mhz = cfg.clock_mhz;
  try {
    validate(cfg);
  } catch (const std::invalid_argument& ex) {
    throw std::invalid_argument(fmt::format("{}: {}", source, ex.what()));
  }
  return cfg;
}

AcceleratorConfig load_config(const std::string& preset_or_path, const std::vector<std::string>& overrides) {
  std::filesystem::path path(preset_or_path);
  const bool is_path = preset_or_path.find('/') != std::string::npos || path.extension() == ".yaml";
  if (!is_path) path = std::filesystem::path(config_dir()) / "hw" / (preset_or_path + ".yaml");
  std::ifstream in(path);
  if (!in) {
    if (is_path) throw std::invalid_argument(fmt::format("{}: cannot open configuration file", path.string()));
    std::string all;
    for (const auto& n : list_presets()) all += all.empty() ? n : ", " + n;
    throw std::invalid_argument(fmt::format("unknown hardware preset '{}' (looked for {}; available: {})", preset_or_path,
                                            path.string(), all));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config_text(ss.str(), path.string(), overrides);
}

void validate(const AcceleratorConfig& c) {
  auto bad = [](const std::string& key, const std::string& value, const std::string& why) {
    throw std::invalid_argument(fmt::format("key '{}' = '{}': {}", key, value, why));
  };
  if (c.pe_type == PeType::kMixpe) {
    if (c.weight_bits != 2 && c.weight_bits != 3 && c.weight_bits != 4 && c.weight_bits != 8)
      bad("array.weight_bits", std::to_string(c.weight_bits), "mixpe supports 2, 3, 4 or 8-bit weights");
  }
  if (c.pe_type == PeType::kFp16 && c.act_type != ActType::kFp16)
    bad("array.act_type", std::string(to_string(c.act_type)), "the fp16 PE takes fp16 activations");
  if (c.pe_type == PeType::kInt8 || c.pe_type == PeType::kBitfusion || c.pe_type == PeType::kAnt) {
    const std::string pe(to_string(c.pe_type));
    if (c.act_type != ActType::kInt8) bad("array.act_type", std::string(to_string(c.act_type)), fmt::format("the {} PE takes int8 activations", pe));
    if (c.group_size != -1) bad("array.group_size", std::to_string(c.group_size), fmt::format("the {} PE is per-channel (use -1)", pe));
    if (!c.weight_signed) bad("array.weight_signed", "false", fmt::format("the {} PE takes symmetric (signed) weights", pe));
    if (c.pe_type != PeType::kInt8 && c.dataflow != ArrayDataflow::kOs)
      bad("array.dataflow", std::string(to_string(c.dataflow)), fmt::format("the {} array is output-stationary (use os)", pe));
  }
  if (c.pe_type == PeType::kBitfusion && c.weight_bits != 2 && c.weight_bits != 4 && c.weight_bits != 8)
    bad("array.weight_bits", std::to_string(c.weight_bits), "the bitfusion PE fuses 2, 4 or 8-bit weights");
  if (c.pe_type == PeType::kAnt && c.weight_bits != 4)
    bad("array.weight_bits", std::to_string(c.weight_bits), "the ant PE decodes 4-bit types");
  if (c.pe_type == PeType::kFp16 && c.weight_bits != 2 && c.weight_bits != 3 && c.weight_bits != 4 && c.weight_bits != 8)
    bad("array.weight_bits", std::to_string(c.weight_bits), "supported widths are 2, 3, 4 or 8");
  if (c.group_size == 0 || c.group_size < -1) bad("array.group_size", std::to_string(c.group_size), "must be positive or -1 (per-channel)");
  if (c.group_max > 0 && c.group_size > c.group_max)
    bad("array.group_max", std::to_string(c.group_max), fmt::format("is below array.group_size ({})", c.group_size));
  if (c.array_model != "pe" && c.array_model != "tile") bad("array.model", c.array_model, "expected one of: pe, tile");
  if (c.dataflow != ArrayDataflow::kOs) {
    // docs/array.md: the WS array has integer partial-sum chains and weight tiles of R K-rows inside one group.
    if (c.pe_type == PeType::kFp16)
      bad("array.dataflow", std::string(to_string(c.dataflow)), "the fp16 PE has no weight-stationary array (its FP32 sum runs along all of K)");
    // With `both`, GEMMs whose group R does not divide run output-stationary (the mapper's choice).
    if (c.dataflow == ArrayDataflow::kWs && c.group_size > 0 && c.group_size % c.rows != 0)
      bad("array.dataflow", std::string(to_string(c.dataflow)),
          fmt::format("weight-stationary needs array.rows ({}) to divide array.group_size ({})", c.rows, c.group_size));
    if (c.ws_load_bits < c.weight_bits)
      bad("array.ws_load_bits", std::to_string(c.ws_load_bits), fmt::format("cannot carry one {}-bit weight code", c.weight_bits));
  }
  const std::pair<const char*, const BufferConfig*> bufs[] = {{"wbuf", &c.wbuf}, {"ibuf", &c.ibuf}, {"obuf", &c.obuf}};
  for (const auto& [n, b] : bufs) {
    if (b->bank_width_bits % 8 != 0)
      bad(fmt::format("buffers.{}.bank_width_bits", n), std::to_string(b->bank_width_bits), "must be a multiple of 8");
    if ((b->banks & (b->banks - 1)) != 0)
      bad(fmt::format("buffers.{}.banks", n), std::to_string(b->banks), "must be a power of two");
  }
  const auto& d = c.dram;
  if (d.bus_bits % 8 != 0) bad("dram.bus_bits", std::to_string(d.bus_bits), "must be a multiple of 8");
  const int burst_bytes = d.bus_bits / 8 * d.burst_length;
  if (d.row_bytes % burst_bytes != 0)
    bad("dram.row_bytes", std::to_string(d.row_bytes), fmt::format("must be a multiple of the burst size ({} bytes)", burst_bytes));
  if (d.trefi_ns > 0.0 && d.trfc_ns >= d.trefi_ns)
    bad("dram.trfc_ns", fmt::format("{}", d.trfc_ns), fmt::format("must be below dram.trefi_ns ({})", d.trefi_ns));
  bool known = false;
  for (const auto& n : dram_preset_names()) known = known || n == d.preset;
  if (!known) bad("dram.preset", d.preset, "unknown DRAM preset");
}

std::vector<std::string> verilator_parameters(const AcceleratorConfig& c) {
  // PeKind as rtl/mixpe_array.sv numbers it: 0 MixPE, 1 INT8 baseline, 2 FP16 baseline.
  if (c.pe_type == PeType::kBitfusion || c.pe_type == PeType::kAnt) return {};  // no array in RTL: only the PE (rtl/mixpe_*_pe.sv)
  const int pe_kind = c.pe_type == PeType::kMixpe ? 0 : c.pe_type == PeType::kInt8 ? 1 : 2;
  const bool act_fp = c.pe_type == PeType::kMixpe && c.act_type != ActType::kInt8;
  return {fmt::format("-GRows={}", c.rows),          fmt::format("-GCols={}", c.cols),
          fmt::format("-GPeKind={}", pe_kind),       fmt::format("-GActFp={}", act_fp ? 1 : 0),
          fmt::format("-GWBits={}", c.weight_bits),  fmt::format("-GWSigned={}", c.weight_signed ? 1 : 0),
          fmt::format("-GGroupMax={}", c.effective_group_max())};
}

}  // namespace mixpe::sim
