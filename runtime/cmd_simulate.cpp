// `mixpe simulate` and `mixpe compare`: whole models on hardware designs, with reports.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "models/llm/model_config.h"
#include "runtime/commands.h"
#include "runtime/executor.h"
#include "runtime/model_source.h"
#include "runtime/operator_exec.h"
#include "runtime/report.h"
#include "sim/config.h"

namespace mixpe::runtime {
namespace {

struct WorkloadOptions {
  std::string model = "llama-2-7b";
  std::string phase = "prefill";
  int batch = 1;
  int seq = 64;
  std::string executor = "cycle";
  int dft_bits = OperatorExecutor::kDftBits;
};

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

models::WorkloadSpec spec_of(const WorkloadOptions& w) {
  models::WorkloadSpec s;
  if (w.phase == "prefill") {
    s.phase = models::Phase::kPrefill;
  } else if (w.phase == "decode") {
    s.phase = models::Phase::kDecode;
  } else {
    throw std::invalid_argument(fmt::format("--phase = {} is not a phase (prefill, decode)", w.phase));
  }
  s.batch = w.batch;
  s.seq = w.seq;
  return s;
}

// The step to simulate: a transformer's prefill/decode step or a neural operator's forward.
Workload make_workload(const WorkloadOptions& w) {
  if (is_operator_model(w.model)) {
    if (w.phase != "prefill") throw std::invalid_argument(fmt::format("--phase = {}: a neural operator has one forward (no phases)", w.phase));
    const std::unique_ptr<models::NeuralOperator> op = models::load_operator(resolve_model_path(w.model));
    return operator_workload(*op, w.batch, w.dft_bits);
  }
  return llm_workload(models::load_model_config(w.model), spec_of(w));
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
    std::vector<std::string> designs = {"fp16_32x28", "int8_32x32", "mixpe_w4a16_32x32", "mixpe_w4a8_64x64"};
    std::vector<std::string> overrides;
    WorkloadOptions w;
    std::string json_path;
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
  return [st]() {
    const Workload workload = make_workload(st->w);
    const ExecutorKind executor = parse_executor(st->w.executor);
    std::vector<nlohmann::json> reports;
    std::size_t base = 0;
    bool have_base = false;
    for (std::size_t i = 0; i < st->designs.size(); ++i) {
      const std::string& hw = st->designs[i];
      fmt::print(stderr, "  [{}/{}] {} ...\n", i + 1, st->designs.size(), hw);
      const sim::AcceleratorConfig cfg = sim::load_config(hw, st->overrides);
      if (!have_base && cfg.pe_type == sim::PeType::kFp16) {
        base = i;
        have_base = true;
      }
      if (executor == ExecutorKind::kAnalytic) {
        reports.push_back(report_json(simulate(workload, cfg, executor)));
        continue;
      }
      // SystemC elaborates once per process: each design runs in a child `mixpe simulate`.
      const std::filesystem::path tmp = std::filesystem::temp_directory_path() / fmt::format("mixpe_compare_{}_{}.json", ::getpid(), i);
      const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
      std::vector<std::string> args = {self, "simulate", "-q", "--hw", hw, "--model", st->w.model, "--phase", st->w.phase,
                                       "--batch", std::to_string(st->w.batch), "--seq", std::to_string(st->w.seq),
                                       "--executor", "cycle", "--dft-bits", std::to_string(st->w.dft_bits), "--json", tmp.string()};
      for (const std::string& o : st->overrides) args.insert(args.end(), {"-p", o});
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::execv(argv[0], argv.data());
        std::_Exit(127);
      }
      int status = 0;
      if (pid < 0 || ::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error(fmt::format("simulating {} failed (see the messages above)", hw));
      }
      std::ifstream in(tmp);
      reports.push_back(nlohmann::json::parse(in));
      std::filesystem::remove(tmp);
    }
    // Cycles and energy of a subset of ops: "linear" layers, all "gemm"s (linear + attention), or "all".
    auto subset = [](const nlohmann::json& r, const std::string& which) {
      double cycles = 0, pj = 0;
      for (const auto& op : r["ops"]) {
        const std::string kind = op["kind"].get<std::string>();
        const bool gemm = kind == "linear" || kind == "attn_score" || kind == "attn_value";
        if (which == "all" || (which == "gemm" && gemm) || (which == "linear" && kind == "linear")) {
          cycles += op["cycles"].get<double>();
          pj += op["energy_pj"]["total"].get<double>();
        }
      }
      return std::pair{cycles / (r["clock_mhz"].get<double>() * 1e6), pj * 1e-12};
    };
    fmt::print("{} {} ({} executor); time and energy normalized to {} (lower is better)\n", workload.model, workload.description,
               st->w.executor, st->designs[base]);
    if (!st->overrides.empty()) fmt::print("  every design with: {}\n", fmt::join(st->overrides, " "));
    fmt::print("  columns: t/e = normalized time/energy of all ops, of the GEMMs (linear + attention), of the linear layers\n");
    fmt::print("{:<20} {:>11} {:>10} | {:>6} {:>6} | {:>6} {:>6} | {:>6} {:>6} | {:>6}\n", "design", "latency ms", "energy mJ", "t all",
               "e all", "t gemm", "e gemm", "t lin", "e lin", "util%");
    nlohmann::json table = nlohmann::json::array();
    for (std::size_t i = 0; i < reports.size(); ++i) {
      const nlohmann::json& r = reports[i];
      nlohmann::json row = {{"hw", st->designs[i]}, {"seconds", r["seconds"]}, {"joules", r["joules"]}, {"utilization", r["utilization"]}};
      std::string cells;
      for (const char* which : {"all", "gemm", "linear"}) {
        const auto [t, e] = subset(r, which);
        const auto [t0, e0] = subset(reports[base], which);
        row[std::string("norm_time_") + which] = t / t0;
        row[std::string("norm_energy_") + which] = e / e0;
        cells += fmt::format(" | {:>6.3f} {:>6.3f}", t / t0, e / e0);
      }
      fmt::print("{:<20} {:>11.4f} {:>10.4f}{} | {:>6.2f}\n", st->designs[i], r["seconds"].get<double>() * 1e3,
                 r["joules"].get<double>() * 1e3, cells, 100 * r["utilization"].get<double>());
      table.push_back(std::move(row));
    }
    if (!st->json_path.empty()) {
      write_file_atomic(st->json_path, nlohmann::json{{"schema", "mixpe.compare/1"}, {"baseline", st->designs[base]},
                                                      {"overrides", st->overrides}, {"table", table}, {"reports", reports}}.dump(2) + "\n");
    }
    return 0;
  };
}

}  // namespace mixpe::runtime
