// Workloads and design comparisons as `mixpe simulate` and `mixpe compare` build them, shared by
// the CLI and the Python module so both give the same reports.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/executor.h"
#include "runtime/operator_exec.h"
#include "sim/config.h"

namespace mixpe::runtime {

// The workload options of `mixpe simulate` and `mixpe compare` (see their --help).
struct WorkloadOptions {
  std::string model = "llama-2-7b";
  std::string phase = "prefill";
  int batch = 1;
  int seq = 64;
  std::string executor = "cycle";
  int dft_bits = OperatorExecutor::kDftBits;
};

// The step to simulate: a transformer's prefill/decode step or a neural operator's forward.
// Throws std::invalid_argument naming a bad phase or model.
Workload make_workload(const WorkloadOptions& w);

// Runs `exe simulate --executor cycle ... --json TMP` in a child process (SystemC elaborates once
// per process) and returns the report it wrote. Throws std::runtime_error naming `hw` if the child
// fails; its messages go to this process's stderr.
nlohmann::json simulate_in_child(const std::string& exe, const std::string& hw, const std::vector<std::string>& overrides,
                                 const WorkloadOptions& w);

// The designs `mixpe compare` runs when --hw is not given: the paper's six.
inline const std::vector<std::string> kDefaultCompareDesigns = {"fp16_32x28",        "int8_32x32",       "ant_32x32",
                                                                 "bitfusion_32x40",   "mixpe_w4a16_32x32", "mixpe_w4a8_64x64"};

// `cfg`'s array widened or narrowed to the most columns whose whole design (sim/area.h) fits in
// `target_mm2`, as {rows, cols}. The rows stay: they are the token dimension the mapper tiles M
// over, so every design keeps its published M tiling. Throws std::invalid_argument when one column
// does not fit.
std::pair<int, int> iso_area_shape(const sim::AcceleratorConfig& cfg, double target_mm2);
// `--iso-area` as a number of mm2 or a design (preset or .yaml, with `overrides`) whose area it takes.
double parse_iso_area(const std::string& value, const std::vector<std::string>& overrides);

// `mixpe compare --json` (schema mixpe.compare/1): each design's report of `workload` and, per
// design, time and energy of all ops, of the GEMMs and of the linear layers normalized to the first
// design with FP16 PEs (or the first design), with each design's area and its performance per watt
// and per mm2 normalized the same way. With `iso_area_mm2` > 0 every design's array is first
// resized by iso_area_shape. The analytic executor runs in process; the cycle executor runs each
// design through simulate_in_child(cli_exe, ...). `on_design(i, n, hw)` is called before each design.
using DesignProgress = std::function<void(std::size_t i, std::size_t n, const std::string& hw)>;
nlohmann::json compare_designs(const Workload& workload, const WorkloadOptions& w, const std::vector<std::string>& designs,
                               const std::vector<std::string>& overrides, const std::string& cli_exe,
                               const DesignProgress& on_design = nullptr, double iso_area_mm2 = 0.0);

}  // namespace mixpe::runtime
