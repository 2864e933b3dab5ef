// `mixpe report`: reads simulate/compare JSON and sweep CSV/Pareto files and renders one
// self-contained HTML page of SVG charts (docs/reports.md "mixpe report").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace mixpe::runtime {

struct ReportOp {
  std::string name, kind, bound;
  std::int64_t layer = -1;
  double cycles = 0;
  double energy_pj = 0;
  std::vector<double> energy_parts_pj;  // kEnergyComponents order
  double intensity = 0;                 // ops per compulsory DRAM byte
  double attained_ops_per_s = 0;
};

// Energy components of a mixpe.simulate/1 `energy_pj` object, in chart order.
inline const std::vector<std::string> kEnergyComponents = {"pe", "edge", "dequant", "vector", "sram", "dram", "static"};

// The parts of a mixpe.simulate/1 report the charts use.
struct SimulateInput {
  std::string source;
  std::string hw, model, executor, phase, description, unit;
  std::int64_t batch = 0, seq = 0, tokens = 0;
  double clock_mhz = 0, total_cycles = 0, latency_ms = 0, joules = 0, joules_per_token = 0, tokens_per_second = 0;
  double utilization = 0;
  std::vector<double> energy_pj;  // kEnergyComponents order
  double energy_total_pj = 0;
  double peak_ops_per_s = 0, peak_dram_bytes_per_s = 0, roofline_fraction = 0;
  std::optional<double> area_mm2;  // when the report has one
  std::vector<ReportOp> ops;
  std::vector<std::string> notes;
};

struct CompareRow {
  std::string hw;
  double seconds = 0, joules = 0, utilization = 0;
  double norm_time[3] = {0, 0, 0};    // all, gemm, linear
  double norm_energy[3] = {0, 0, 0};
};

struct CompareInput {
  std::string source, baseline;
  std::vector<std::string> overrides;
  std::vector<CompareRow> rows;
  std::vector<SimulateInput> reports;
};

struct SweepRow {
  std::string id, model, phase, hw;
  std::int64_t batch = 0, seq = 0;
  std::vector<std::string> params;  // one per SweepInput::param_keys
  double latency_ms = 0, energy_mj = 0, tokens_per_s = 0, mj_per_token = 0, utilization = 0;
  std::optional<double> area_mm2;
};

// A sweep results CSV (every ok row) or a .pareto.json (the front rows only).
struct SweepInput {
  std::string source;
  bool front_only = false;          // from a .pareto.json: `rows` are the fronts
  std::vector<std::string> param_keys;
  bool has_area = false;            // an `area_mm2` column (CSV) or areas on every front point (JSON)
  bool front_with_area = false;     // front_only: the fronts are of latency, energy and area
  std::vector<SweepRow> rows;       // status ok, first occurrence of each id
  std::size_t error_rows = 0;
  std::size_t over_area_rows = 0;   // skipped by the sweep's area constraint
  // front_only: ok points per workload "model|phase|batch|seq" in the sweep.
  std::vector<std::pair<std::string, std::size_t>> points_ok;
};

using ReportInput = std::variant<SimulateInput, CompareInput, SweepInput>;

// Detects the kind from the JSON `schema` key (mixpe.simulate/1, mixpe.compare/1,
// mixpe.sweep_pareto/2) or the CSV header (a sweep results header). Throws models::FormatError
// "<source>: <field>: <problem>" for an unknown kind or a missing or mistyped field.
ReportInput parse_report_input(const std::string& text, const std::string& source);
ReportInput load_report_input(const std::string& path);

struct ReportChart {
  std::string id;       // unique in the page; also the standalone file's stem
  std::string title, caption;
  std::string svg;      // the <svg> element (with xmlns)
  std::size_t section = 0;
};

struct ReportPage {
  std::string html;
  std::vector<ReportChart> charts;
};

// The page: one section per input (a sweep .pareto.json whose results CSV is also an input is
// folded into that CSV's section), plus a side-by-side section for every workload that two or more
// simulate inputs share.
ReportPage build_report(const std::vector<ReportInput>& inputs, const std::string& title);

// A chart as a standalone .svg file (XML declaration, xmlns).
std::string standalone_svg(const ReportChart& chart);

// Writes each chart as <svg_dir>/<id>.svg (when svg_dir is not empty; the directory is created),
// then the page, every file atomically. Returns the paths written.
std::vector<std::string> write_report(const ReportPage& page, const std::string& html_path, const std::string& svg_dir);

}  // namespace mixpe::runtime
