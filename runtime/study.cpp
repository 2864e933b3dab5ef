// Workload construction and design comparison shared by `mixpe simulate`/`compare` and the Python module.
#include "runtime/study.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "models/llm/model_config.h"
#include "runtime/model_source.h"
#include "runtime/report.h"
#include "sim/area.h"
#include "sim/config.h"

namespace mixpe::runtime {
namespace {

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

}  // namespace

Workload make_workload(const WorkloadOptions& w) {
  if (is_operator_model(w.model)) {
    if (w.phase != "prefill") throw std::invalid_argument(fmt::format("--phase = {}: a neural operator has one forward (no phases)", w.phase));
    const std::unique_ptr<models::NeuralOperator> op = models::load_operator(resolve_model_path(w.model));
    return operator_workload(*op, w.batch, w.dft_bits);
  }
  return llm_workload(models::load_model_config(w.model), spec_of(w));
}

nlohmann::json simulate_in_child(const std::string& exe, const std::string& hw, const std::vector<std::string>& overrides,
                                 const WorkloadOptions& w) {
  static std::atomic<int> calls = 0;  // the Python module may call from several threads
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / fmt::format("mixpe_child_{}_{}.json", ::getpid(), calls++);
  std::vector<std::string> args = {exe, "simulate", "-q", "--hw", hw, "--model", w.model, "--phase", w.phase,
                                   "--batch", std::to_string(w.batch), "--seq", std::to_string(w.seq),
                                   "--executor", "cycle", "--dft-bits", std::to_string(w.dft_bits), "--json", tmp.string()};
  for (const std::string& o : overrides) args.insert(args.end(), {"-p", o});
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
    std::filesystem::remove(tmp);
    throw std::runtime_error(fmt::format("simulating {} in a child {} failed (see the messages above)", hw, exe));
  }
  std::ifstream in(tmp);
  nlohmann::json report = nlohmann::json::parse(in);
  std::filesystem::remove(tmp);
  return report;
}

std::pair<int, int> iso_area_shape(const sim::AcceleratorConfig& cfg, double target_mm2) {
  const sim::TechTable tech = sim::load_tech_table(cfg.tech);
  const sim::UnitAreas& units = sim::load_unit_areas();
  auto area = [&](int cols) {
    sim::AcceleratorConfig c = cfg;
    c.cols = cols;
    return sim::estimate_area(c, tech, units).total_mm2();
  };
  if (area(1) > target_mm2)
    throw std::invalid_argument(fmt::format("--iso-area = {} mm2: {} does not fit even with one column ({:.3f} mm2)", target_mm2,
                                            cfg.name, area(1)));
  // Area grows with columns: double, then bisect for the last width that fits.
  constexpr int kMaxCols = 1024;  // array.cols' limit
  if (area(kMaxCols) <= target_mm2) {
    if (area(kMaxCols + 1) > target_mm2) return {cfg.rows, kMaxCols};
    throw std::invalid_argument(fmt::format("--iso-area = {} mm2: {} would need more than {} columns (array.cols' limit)", target_mm2,
                                            cfg.name, kMaxCols));
  }
  int lo = 1, hi = kMaxCols;
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    (area(mid) <= target_mm2 ? lo : hi) = mid;
  }
  return {cfg.rows, lo};
}

double parse_iso_area(const std::string& value, const std::vector<std::string>& overrides) {
  char* end = nullptr;
  const double mm2 = std::strtod(value.c_str(), &end);
  if (!value.empty() && end == value.c_str() + value.size()) {
    if (!(mm2 > 0.0) || !std::isfinite(mm2)) throw std::invalid_argument(fmt::format("--iso-area = {}: expected a positive area in mm2", value));
    return mm2;
  }
  return sim::estimate_area(sim::load_config(value, overrides)).total_mm2();
}

nlohmann::json compare_designs(const Workload& workload, const WorkloadOptions& w, const std::vector<std::string>& designs,
                               const std::vector<std::string>& overrides, const std::string& cli_exe,
                               const DesignProgress& on_design, double iso_area_mm2) {
  if (designs.empty()) throw std::invalid_argument("--hw names no design to compare");
  const ExecutorKind executor = parse_executor(w.executor);
  std::vector<nlohmann::json> reports;
  std::vector<std::pair<int, int>> shapes;
  std::size_t base = 0;
  bool have_base = false;
  for (std::size_t i = 0; i < designs.size(); ++i) {
    const std::string& hw = designs[i];
    if (on_design) on_design(i, designs.size(), hw);
    std::vector<std::string> design_overrides = overrides;
    sim::AcceleratorConfig cfg = sim::load_config(hw, overrides);
    if (iso_area_mm2 > 0.0) {
      const auto [rows, cols] = iso_area_shape(cfg, iso_area_mm2);
      design_overrides.push_back(fmt::format("array.rows={}", rows));
      design_overrides.push_back(fmt::format("array.cols={}", cols));
      cfg = sim::load_config(hw, design_overrides);
    }
    shapes.emplace_back(cfg.rows, cfg.cols);
    if (!have_base && cfg.pe_type == sim::PeType::kFp16) {
      base = i;
      have_base = true;
    }
    if (executor == ExecutorKind::kAnalytic) {
      reports.push_back(report_json(simulate(workload, cfg, executor)));
    } else {
      reports.push_back(simulate_in_child(cli_exe, hw, design_overrides, w));
    }
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
  nlohmann::json table = nlohmann::json::array();
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const nlohmann::json& r = reports[i];
    nlohmann::json row = {{"hw", designs[i]},         {"rows", shapes[i].first}, {"cols", shapes[i].second},
                          {"seconds", r["seconds"]}, {"joules", r["joules"]},   {"utilization", r["utilization"]},
                          {"area_mm2", r["area_mm2"]}};
    for (const char* which : {"all", "gemm", "linear"}) {
      const auto [t, e] = subset(r, which);
      const auto [t0, e0] = subset(reports[base], which);
      row[std::string("norm_time_") + which] = t / t0;
      row[std::string("norm_energy_") + which] = e / e0;
    }
    // One workload: performance per watt is work per joule, performance per mm2 is 1 / (time x area).
    const double e = r["joules"].get<double>(), e0 = reports[base]["joules"].get<double>();
    row["norm_perf_per_watt"] = e0 / e;
    const bool areas = !r["area_mm2"].is_null() && !reports[base]["area_mm2"].is_null();
    row["norm_perf_per_mm2"] =
        areas ? nlohmann::json(reports[base]["seconds"].get<double>() * reports[base]["area_mm2"].get<double>() /
                               (r["seconds"].get<double>() * r["area_mm2"].get<double>()))
              : nlohmann::json(nullptr);
    table.push_back(std::move(row));
  }
  return nlohmann::json{{"schema", "mixpe.compare/1"}, {"baseline", designs[base]}, {"overrides", overrides},
                        {"iso_area_mm2", iso_area_mm2 > 0.0 ? nlohmann::json(iso_area_mm2) : nlohmann::json(nullptr)},
                        {"table", table}, {"reports", reports}};
}

}  // namespace mixpe::runtime
