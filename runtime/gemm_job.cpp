// Runs every PE type's oracle (MixPE INT8/FP16/BF16, FP16, INT8, BitFusion, ANT) on one synthetic GEMM and reports their accuracy.
#include "runtime/gemm_job.h"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "models/synthetic.h"
#include "quant/activations.h"
#include "quant/ant.h"
#include "quant/bitfusion.h"
#include "quant/gemm_ref.h"
#include "quant/weights.h"

namespace mixpe::runtime {
namespace {

std::string weight_label(int bits, int group, int k, bool symmetric) {
  const std::string g = group == -1 || group == k ? "per-channel" : fmt::format("g{}", group);
  return fmt::format("W{} {} {}", bits, g, symmetric ? "sym" : "asym");
}

// JSON has no infinity; an exact match is reported as null.
nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json metrics_json(const quant::ErrorMetrics& e) {
  return {{"sqnr_db", finite_or_null(e.sqnr_db)}, {"rel_frobenius", e.rel_frobenius}, {"max_abs", e.max_abs}};
}

}  // namespace

void GemmJobConfig::validate() const {
  auto positive = [](const char* name, long long v) {
    if (v <= 0) throw std::invalid_argument(fmt::format("{} = {} must be positive", name, v));
  };
  positive("--m", m);
  positive("--n", n);
  positive("--k", k);
  if (wbits != 2 && wbits != 3 && wbits != 4 && wbits != 8) {
    throw std::invalid_argument(fmt::format("--wbits = {} is not supported (choose 2, 3, 4 or 8)", wbits));
  }
  if (group != -1 && (group <= 0 || k % group != 0)) {
    throw std::invalid_argument(fmt::format("--group = {} does not divide --k = {} (use a divisor of K, or -1 for per-channel)", group, k));
  }
  // The scalar oracles do m*n*k work per path; keep a run within minutes.
  const double macs = static_cast<double>(m) * n * k;
  if (macs > 1e10) {
    throw std::invalid_argument(fmt::format("--m * --n * --k = {:.3g} MACs is too large for the scalar oracles (limit 1e10)", macs));
  }
  // int32 accumulation in the INT8 baseline: K * 127 * 128 < 2^31 (8-bit weight codes reach -128).
  if (k > 132104) throw std::invalid_argument(fmt::format("--k = {} overflows the INT8 baseline's int32 accumulator (max 132104)", k));
}

GemmJobResult run_gemm_job(const GemmJobConfig& cfg) {
  cfg.validate();
  GemmJobResult result;
  result.config = cfg;
  const std::vector<float> w = models::synthetic_weights(cfg.n, cfg.k, cfg.seed);
  const std::vector<float> x = models::synthetic_activations(cfg.m, cfg.k, cfg.seed);
  const std::vector<double> w64(w.begin(), w.end());
  const std::vector<double> x64(x.begin(), x.end());
  const std::vector<double> y_float = quant::gemm_f64_ref(x64, cfg.m, w64, cfg.n, cfg.k);

  const quant::WeightQuantConfig wq{cfg.wbits, cfg.group, cfg.symmetric};
  const quant::QuantizedWeights qw = quant::quantize_weights_rtn(w, cfg.n, cfg.k, wq, "gemm weight");
  const std::vector<double> w_deq = quant::dequantize_weights_f64(qw);
  result.weight_sqnr_db = quant::compare(w64, w_deq).sqnr_db;
  const std::string wlabel = weight_label(cfg.wbits, cfg.group, cfg.k, cfg.symmetric);

  auto add = [&](std::string path, std::string wl, std::string al, const std::vector<float>& y,
                 const std::vector<double>& x_used, const std::vector<double>& w_used) {
    const std::vector<double> y_exact = quant::gemm_f64_ref(x_used, cfg.m, w_used, cfg.n, cfg.k);
    result.paths.push_back({std::move(path), std::move(wl), std::move(al), quant::compare(y_float, y),
                            quant::compare(y_exact, y)});
  };

  const quant::Int8Activations x8 = quant::quantize_activations_int8(x, cfg.m, cfg.k);
  const std::vector<double> x8_values = quant::int8_values(x8);
  add("mixpe-int8", wlabel, "INT8 per-token", quant::gemm_mixpe_int8_ref(x8, qw), x8_values, w_deq);

  const std::vector<quant::Half> x16 = quant::to_half(x);
  const quant::AlignedActivations a16 = quant::align_activations_fp16(x16, cfg.m, cfg.k, qw.group_size);
  add("mixpe-fp16", wlabel, fmt::format("FP16 -> BFP{} g{}", quant::kAlignedActBits, qw.group_size),
      quant::gemm_mixpe_aligned_ref(a16, qw), quant::aligned_values(a16), w_deq);

  const std::vector<quant::BFloat16> xb16 = quant::to_bfloat16(x);
  const quant::AlignedActivations ab16 = quant::align_activations_bf16(xb16, cfg.m, cfg.k, qw.group_size);
  add("mixpe-bf16", wlabel, fmt::format("BF16 -> BFP{} g{}", quant::kAlignedActBits, qw.group_size),
      quant::gemm_mixpe_aligned_ref(ab16, qw), quant::aligned_values(ab16), w_deq);

  std::vector<double> x16_values(x16.size());
  for (std::size_t i = 0; i < x16.size(); ++i) x16_values[i] = x16[i].to_double();
  add("fp16", wlabel + " -> FP16", "FP16", quant::gemm_fp16_ref(x16, cfg.m, qw), x16_values, w_deq);

  // The W8A8 baseline quantizes the same float weights its own way: 8-bit symmetric per channel.
  const quant::QuantizedWeights w8 = quant::quantize_weights_rtn(w, cfg.n, cfg.k, {8, -1, true}, "gemm weight (W8)");
  add("int8", weight_label(8, -1, cfg.k, true), "INT8 per-token", quant::gemm_int8_ref(x8, w8), x8_values,
      quant::dequantize_weights_f64(w8));

  // BitFusion: the run's width, if its fusion unit has it, symmetric per channel.
  if (cfg.wbits == 2 || cfg.wbits == 4 || cfg.wbits == 8) {
    const quant::QuantizedWeights wbf = quant::quantize_weights_rtn(w, cfg.n, cfg.k, {cfg.wbits, -1, true}, "gemm weight (BitFusion)");
    add("bitfusion", weight_label(cfg.wbits, -1, cfg.k, true), "INT8 per-token", quant::gemm_bitfusion_ref(x8, wbf), x8_values,
        quant::dequantize_weights_f64(wbf));
  }
  // ANT: its 4-bit type for the tensor (int, flint or PoT, by MSE) with per-channel scales.
  const quant::AntWeights ant = quant::quantize_ant(w, cfg.n, cfg.k, {}, "gemm weight (ANT)");
  add("ant", fmt::format("ANT4 {} per-channel", quant::ant_type_name(ant.type)), "INT8 per-token", quant::gemm_ant_ref(x8, ant),
      x8_values, quant::dequantize_ant_f64(ant));
  return result;
}

void print_gemm_table(const GemmJobResult& r, std::FILE* out) {
  const GemmJobConfig& c = r.config;
  fmt::print(out, "mpGEMM  M={} N={} K={}  weights {} (weight SQNR {:.2f} dB)  seed {}\n", c.m, c.n, c.k,
             weight_label(c.wbits, c.group, c.k, c.symmetric), r.weight_sqnr_db, c.seed);
  fmt::print(out, "synthetic data: weights N(0, 1/K) + 0.1% outliers at 6-10 sigma; activations N(0, 1), 1% channels x20\n\n");
  fmt::print(out, "{:<11} {:<24} {:<20} {:>10} {:>10} {:>11} {:>14}\n", "path", "weights", "activations", "SQNR dB",
             "rel. err", "max |err|", "arith SQNR dB");
  for (const GemmPathResult& p : r.paths) {
    const std::string arith = std::isfinite(p.vs_exact.sqnr_db) ? fmt::format("{:.1f}", p.vs_exact.sqnr_db) : "exact";
    fmt::print(out, "{:<11} {:<24} {:<20} {:>10.2f} {:>10.3e} {:>11.3e} {:>14}\n", p.path, p.weights, p.activations,
               p.vs_float.sqnr_db, p.vs_float.rel_frobenius, p.vs_float.max_abs, arith);
  }
  fmt::print(out, "\nSQNR, rel. err and max |err| compare with the float64 GEMM of the unquantized inputs;\n"
                  "arith SQNR compares with the float64 GEMM of the quantized values the path consumed.\n");
}

nlohmann::json gemm_result_json(const GemmJobResult& r) {
  const GemmJobConfig& c = r.config;
  nlohmann::json j;
  j["config"] = {{"m", c.m}, {"n", c.n}, {"k", c.k}, {"wbits", c.wbits}, {"group", c.group},
                 {"symmetric", c.symmetric}, {"seed", c.seed}};
  j["weight_sqnr_db"] = finite_or_null(r.weight_sqnr_db);
  j["paths"] = nlohmann::json::array();
  for (const GemmPathResult& p : r.paths) {
    j["paths"].push_back({{"path", p.path},
                          {"weights", p.weights},
                          {"activations", p.activations},
                          {"vs_float", metrics_json(p.vs_float)},
                          {"vs_exact", metrics_json(p.vs_exact)}});
  }
  return j;
}

}  // namespace mixpe::runtime
