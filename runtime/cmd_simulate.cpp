// `mixpe simulate` and `mixpe compare`: whole models on hardware designs, with reports.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "runtime/commands.h"
#include "runtime/executor.h"
#include "runtime/report.h"
#include "runtime/study.h"
#include "sim/config.h"

namespace mixpe::runtime {
namespace {

void add_workload_options(CLI::App* cmd, WorkloadOptions& w) {
  cmd->add_option("--model", w.model,
                  "LLM preset (opt-6.7b, llama-2-7b, llama-2-13b, mistral-7b, vit-b16, vit-h14, tiny), neural operator "
                  "(fno-darcy, mgno-darcy, fno1d-burgers, ifno1d-burgers, deeponet-burgers, fno3d-les, ifno3d-les, fno2d-ns), "
                  "model directory or config.json path")
      ->capture_default_str();
  cmd->add_option("--phase", w.phase, "prefill or decode")->capture_default_str();
  cmd->add_option("--batch", w.batch, "Sequences (or images) per step")->capture_default_str();
  cmd->add_option("--seq", w.seq, "Prefill: tokens per sequence; decode: context length incl. the new token")->capture_default_str();
  cmd->add_option("--executor", w.executor, "analytic (closed form) or cycle (SystemC)")->capture_default_str();
  cmd->add_option("--dft-bits", w.dft_bits, "Neural operators: code width of the constant DFT matrices (0: the design's)")
      ->capture_default_str();
}

// One status line on stderr, redrawn in place on a terminal; only stage ends otherwise.
void progress_line(const char* stage, std::int64_t done, std::int64_t total) {
  const bool end = done == total;
  if (::isatty(STDERR_FILENO) == 0 && !end) return;
  const char* what = std::string_view(stage) == "map" ? "mapping ops" : "simulating instructions";
  fmt::print(stderr, "\r  {} {}/{} ({:.0f}%)", what, done, total, total > 0 ? 100.0 * done / total : 100.0);
  if (end) fmt::print(stderr, "\n");
}

}  // namespace

CommandAction add_simulate_command(CLI::App& app) {
  struct State {
    std::string hw = "default";
    std::vector<std::string> overrides;
    WorkloadOptions w;
    std::string json_path, csv_path;
    bool quiet = false;
  };
  auto st = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand("simulate", "Simulate a model's prefill or decode step on a hardware design");
  cmd->add_option("--hw", st->hw, "Hardware preset (mixpe hw list) or .yaml file")->capture_default_str();
  cmd->add_option("-p,--param", st->overrides, "Override a hardware key, e.g. -p array.rows=32 (repeatable)");
  add_workload_options(cmd, st->w);
  cmd->add_option("--json", st->json_path, "Write the report as JSON (docs/reports.md) to this file; - for stdout");
  cmd->add_option("--csv", st->csv_path, "Write one CSV row per op to this file");
  cmd->add_flag("-q,--quiet", st->quiet, "No terminal summary");
  return [st]() {
    const sim::AcceleratorConfig cfg = sim::load_config(st->hw, st->overrides);
    const Workload workload = make_workload(st->w);
    const ExecutorKind executor = parse_executor(st->w.executor);
    const auto t0 = std::chrono::steady_clock::now();
    if (!st->quiet) fmt::print(stderr, "mixpe: {} {} on {} with the {} executor\n", workload.model, workload.description, cfg.name, st->w.executor);
    const SimulationReport rep = simulate(workload, cfg, executor, st->quiet ? Progress{} : Progress{progress_line});
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!st->quiet && st->json_path != "-") {
      print_summary(rep, stdout);
      fmt::print("  simulated {} instructions in {:.2f} s wall time\n", rep.instructions, wall);
    }
    if (!st->json_path.empty()) {
      const std::string text = report_json(rep).dump(2) + "\n";
      if (st->json_path == "-") {
        fmt::print("{}", text);
      } else {
        write_file_atomic(st->json_path, text);
      }
    }
    if (!st->csv_path.empty()) write_file_atomic(st->csv_path, report_csv(rep));
    return 0;
  };
}

CommandAction add_compare_command(CLI::App& app) {
  struct State {
    std::vector<std::string> designs = kDefaultCompareDesigns;
    std::vector<std::string> overrides;
    WorkloadOptions w;
    std::string json_path;
    std::string iso_area;
  };
  auto st = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand("compare", "Run several hardware designs on one workload, normalized to FP16");
  cmd->add_option("--hw", st->designs, "Designs to compare (presets or .yaml files); the first fp16 design is the baseline")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-p,--param", st->overrides, "Override a hardware key in every design, e.g. -p dram.preset=hbm2 (repeatable; the key must suit every design: "
                  "array.dataflow=ws fails on the fp16 baseline)");
  add_workload_options(cmd, st->w);
  cmd->add_option("--json", st->json_path, "Write every design's report and the normalized table as JSON to this file");
  cmd->add_option("--iso-area", st->iso_area,
                  "Give every design's array the most columns (rows kept) that fit this area: mm2, or a design whose area to take");
  return [st]() {
    const Workload workload = make_workload(st->w);
    const double iso_area = st->iso_area.empty() ? 0.0 : parse_iso_area(st->iso_area, st->overrides);
    // The cycle executor runs each design in a child `mixpe simulate` (SystemC elaborates once per process).
    const nlohmann::json result =
        compare_designs(workload, st->w, st->designs, st->overrides, std::filesystem::read_symlink("/proc/self/exe").string(),
                        [](std::size_t i, std::size_t n, const std::string& hw) { fmt::print(stderr, "  [{}/{}] {} ...\n", i + 1, n, hw); },
                        iso_area);
    const std::string baseline = result["baseline"].get<std::string>();
    fmt::print("{} {} ({} executor); time and energy normalized to {} (lower is better)\n", workload.model, workload.description,
               st->w.executor, baseline);
    if (!st->overrides.empty()) fmt::print("  every design with: {}\n", fmt::join(st->overrides, " "));
    if (iso_area > 0) fmt::print("  iso-area: every array given the most columns (rows kept) that fit {:.3f} mm2\n", iso_area);
    fmt::print("  columns: t/e = normalized time/energy of all ops, of the GEMMs (linear + attention), of the linear layers;\n"
               "  perf/W and perf/mm2 normalized the same way (higher is better); area of the whole design (mixpe hw show)\n");
    fmt::print("{:<20} {:>7} {:>11} {:>10} | {:>6} {:>6} | {:>6} {:>6} | {:>6} {:>6} | {:>6} | {:>8} {:>6} {:>8}\n", "design", "array",
               "latency ms", "energy mJ", "t all", "e all", "t gemm", "e gemm", "t lin", "e lin", "util%", "area mm2", "perf/W",
               "perf/mm2");
    for (const nlohmann::json& row : result["table"]) {
      std::string cells;
      for (const char* which : {"all", "gemm", "linear"}) {
        cells += fmt::format(" | {:>6.3f} {:>6.3f}", row[std::string("norm_time_") + which].get<double>(),
                             row[std::string("norm_energy_") + which].get<double>());
      }
      const auto opt = [](const nlohmann::json& v, const char* f) { return v.is_null() ? std::string("-") : fmt::format(fmt::runtime(f), v.get<double>()); };
      fmt::print("{:<20} {:>7} {:>11.4f} {:>10.4f}{} | {:>6.2f} | {:>8} {:>6.3f} {:>8}\n", row["hw"].get<std::string>(),
                 fmt::format("{}x{}", row["rows"].get<int>(), row["cols"].get<int>()), row["seconds"].get<double>() * 1e3,
                 row["joules"].get<double>() * 1e3, cells, 100 * row["utilization"].get<double>(), opt(row["area_mm2"], "{:.3f}"),
                 row["norm_perf_per_watt"].get<double>(), opt(row["norm_perf_per_mm2"], "{:.3f}"));
    }
    if (!st->json_path.empty()) write_file_atomic(st->json_path, result.dump(2) + "\n");
    return 0;
  };
}

}  // namespace mixpe::runtime
