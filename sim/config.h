// Typed accelerator configuration: one YAML file drives the SystemC model, the RTL parameters and the runtime.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mixpe::sim {

enum class PeType { kMixpe, kFp16, kInt8, kBitfusion, kAnt };
enum class ActType { kInt8, kFp16, kBf16 };
// Dataflows the array offers (docs/array.md); with kBoth the mapper picks one per GEMM.
enum class ArrayDataflow { kOs, kWs, kBoth };

std::string_view to_string(PeType t);
std::string_view to_string(ActType t);
std::string_view to_string(ArrayDataflow d);

struct BufferConfig {
  int size_kib = 128;
  int banks = 8;
  int bank_width_bits = 128;  // bits one bank delivers per cycle
  std::int64_t size_bytes() const { return static_cast<std::int64_t>(size_kib) * 1024; }
  std::int64_t bits_per_cycle() const { return static_cast<std::int64_t>(banks) * bank_width_bits; }
};

// DRAM timing and energy parameters; `preset` fills them, explicit dram.* keys override single values.
struct DramConfig {
  std::string preset = "ideal_1024b";
  double clock_mhz = 500.0;   // interface clock (tCK = 1 / clock)
  int bus_bits = 1024;        // data bus width
  int data_rate = 1;          // transfers per clock (2 for DDR)
  int burst_length = 1;       // transfers per burst
  int banks = 1;
  int row_bytes = 1 << 30;    // row (page) size across the bus
  double tcl_ns = 0.0;        // CAS latency
  double trcd_ns = 0.0;       // activate to CAS
  double trp_ns = 0.0;        // precharge
  double trfc_ns = 0.0;       // refresh cycle time (all banks blocked)
  double trefi_ns = 0.0;      // refresh interval; 0 disables refresh
  // Energy of the modelled devices (docs/sim.md "DRAM energy per technology"; dram_energy_sources()).
  double read_pj_per_bit = 0.629;   // per bit read: core + I/O
  double write_pj_per_bit = 0.766;  // per bit written: core + I/O
  double activate_pj = 0.0;         // one activate + precharge pair (one row of row_bytes opened)
  double background_mw = 0.0;       // standby power of all modelled devices, paid for the whole run
};

// Where a preset's energy values come from (citation or derivation), one string per value.
struct DramEnergySources {
  std::string read, write, activate, background;
};

struct AcceleratorConfig {
  std::string name = "default";
  std::string source;  // file the config came from (for messages)
  double clock_mhz = 500.0;
  // Array
  int rows = 64;
  int cols = 64;
  PeType pe_type = PeType::kMixpe;
  ActType act_type = ActType::kInt8;
  int weight_bits = 4;
  int group_size = 128;  // -1: per-channel (g = K)
  bool weight_signed = false;  // signed (symmetric) weight codes instead of unsigned codes + zero point
  int group_max = 0;           // largest group the RTL supports; 0: group_size (4096 if per-channel)
  std::string array_model = "tile";  // name in the array-model registry (pe | tile)
  ArrayDataflow dataflow = ArrayDataflow::kOs;
  int ws_load_bits = 16;  // weight-stationary weight-load bits per column per cycle
  // Buffers (paper reference setup: WBUF 128 KiB, IBUF 256 KiB, OBUF 128 KiB)
  BufferConfig wbuf{128, 8, 128};
  BufferConfig ibuf{256, 8, 128};
  BufferConfig obuf{128, 8, 256};
  DramConfig dram;
  int vector_lanes = 32;
  int vector_latency_cycles = 8;
  int queue_depth = 8;  // controller -> unit instruction queues
  std::string tech = "28nm_500mhz";

  double clock_period_ns() const { return 1000.0 / clock_mhz; }
  int act_bits() const;  // bits per activation element fed to the array
  int effective_group_max() const { return group_max > 0 ? group_max : group_size > 0 ? group_size : 4096; }
};

// One parameter of the table: dotted key, unit-bearing name, default and description.
struct ParamInfo {
  std::string key;
  std::string type;  // int | float | string | enum
  std::string default_value;
  std::string description;
};
std::vector<ParamInfo> describe_parameters();
// Every key of the same table with its value in `cfg`, in the text form `-p key=value` takes.
std::vector<std::pair<std::string, std::string>> parameter_values(const AcceleratorConfig& cfg);

// <prefix>/share/mixpe when this code runs from an installed mixpe (the CLI in <prefix>/bin or the
// Python module under <prefix>/lib), found upward from the binary that holds it; "" otherwise.
std::string installed_data_dir();
// Directory holding hw/ and tech/: env MIXPE_CONFIG_DIR, else the installed share/mixpe/configs,
// else the source tree's configs/.
std::string config_dir();
std::vector<std::string> list_presets();

// `preset_or_path`: a preset name under configs/hw/ or a path to a .yaml file.
// `overrides`: "key=value" strings with dotted keys (e.g. "array.rows=8").
// Throws std::invalid_argument naming the file, key and value on any error.
AcceleratorConfig load_config(const std::string& preset_or_path, const std::vector<std::string>& overrides = {});
AcceleratorConfig parse_config_text(const std::string& yaml_text, const std::string& source,
                                    const std::vector<std::string>& overrides = {});
// Cross-field validation; throws std::invalid_argument naming the key and value.
void validate(const AcceleratorConfig& cfg);

// Fills DRAM timing from a named preset; throws on an unknown name.
DramConfig dram_preset(const std::string& name);
std::vector<std::string> dram_preset_names();
// Sources of a preset's energy values; throws on an unknown name.
DramEnergySources dram_energy_sources(const std::string& preset);

// The RTL's parameters (rtl/mixpe_array.sv: Rows, Cols, PeKind, ActFp, WBits, WSigned, GroupMax)
// derived from the same config, e.g. {"-GRows=64", "-GCols=64", ...}; empty for the bitfusion and
// ant PEs, which exist in RTL as single PEs (rtl/mixpe_bitfusion_pe.sv, rtl/mixpe_ant_pe.sv), not arrays.
std::vector<std::string> verilator_parameters(const AcceleratorConfig& cfg);

}  // namespace mixpe::sim
