// `mixpe eval`: perplexity of an LLM over a text, or relative L2 error of a neural operator over a
// dataset, for any numerics, weight format and quantization method.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/report.h"
#include "models/pde/dataset.h"
#include "runtime/commands.h"
#include "runtime/eval.h"
#include "runtime/model_source.h"
#include "runtime/operator_exec.h"

namespace mixpe::runtime {
namespace {

struct EvalOptions {
  std::string model;
  std::string text, data;
  int ctx = 0, stride = 0;
  long long max_tokens = 0;
  int batch = 8, samples = 0;
  std::string only;  // operators: quantize only operands whose name matches (per-layer sensitivity)
  bool float_attention = false;
  int dft_bits = OperatorExecutor::kDftBits;
  std::string json_path;
  bool with_tokens = true;
  NumericsOptions num;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("--text {}: cannot open", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void progress_line(const char* what, std::int64_t done, std::int64_t total) {
  const bool end = done == total;
  if (::isatty(STDERR_FILENO) == 0 && !end) return;
  fmt::print(stderr, "\r  {} {}/{} ({:.0f}%)", what, done, total, total > 0 ? 100.0 * done / total : 100.0);
  if (end) fmt::print(stderr, "\n");
}

void emit_json(const std::string& path, const nlohmann::json& j) {
  if (path.empty()) return;
  if (path == "-") {
    fmt::print("{}\n", j.dump(2));
  } else {
    write_file_atomic(path, j.dump(2) + "\n");
  }
}

int eval_llm(EvalOptions& o) {
  if (o.text.empty()) throw std::invalid_argument(fmt::format("--model {} is an LLM: give --text FILE", o.model));
  if (!o.data.empty()) throw std::invalid_argument("--data is for neural operators; an LLM takes --text");
  LlmSource src = load_llm_source(o.model);
  if (!src.tokenizer) throw std::runtime_error(fmt::format("{}: no tokenizer (tokenizer.json beside the model, or GGUF tokenizer metadata)", src.path));
  const std::string text = read_text(o.text);
  if (text.empty()) throw std::invalid_argument(fmt::format("--text {}: the file is empty", o.text));
  const std::vector<int> ids = src.tokenizer->encode(text);
  const GemmEngine engine = o.num.engine();
  const bool quiet = o.json_path == "-";
  const std::unique_ptr<QuantizedLinears> linears = quantize_llm_for(src, engine, o.num, !quiet);
  PerplexityOptions popt;
  popt.ctx = o.ctx;
  popt.stride = o.stride;
  popt.max_tokens = o.max_tokens;
  popt.hardware_attention = !o.float_attention;
  const PerplexityResult r = evaluate_perplexity(src.llm.weights, *linears, ids, popt, [&](std::int64_t d, std::int64_t t) {
    if (!quiet) progress_line("windows", d, t);
  });
  if (!quiet) {
    fmt::print("{} on {}: {} of {} tokens scored, ctx {}, stride {}, {} windows\n", src.path, o.text, r.nll.size(), r.tokens.size(), r.ctx,
               r.stride, r.windows);
    fmt::print("  numerics     {}{}\n", o.num.describe(engine), engine.path() != PePath::kFloat && o.float_attention ? " (attention in FP32)" : "");
    fmt::print("  perplexity   {:.4f}  (mean NLL {:.5f} nats/token) in {:.1f} s\n", r.perplexity, r.mean_nll, r.seconds);
  }
  nlohmann::json j = {{"schema", "mixpe.eval.llm/1"}, {"model", src.path}, {"text", o.text}, {"numerics", o.num.describe(engine)},
                      {"path", to_string(engine.path())}, {"method", o.num.method},
                      {"attention", engine.path() == PePath::kFloat || o.float_attention ? "fp32" : "array"}};
  if (engine.path() != PePath::kFloat) {
    const quant::WeightQuantConfig& w = engine.weight_config();
    j["hw"] = engine.design()->name;
    j["weights"] = {{"bits", w.bits}, {"group_size", w.group_size}, {"symmetric", w.symmetric}};
  }
  j.update(perplexity_json(r, o.with_tokens));
  emit_json(o.json_path, j);
  return 0;
}

int eval_operator(EvalOptions& o) {
  if (o.data.empty()) throw std::invalid_argument(fmt::format("--model {} is a neural operator: give --data FILE (mixpe data ...)", o.model));
  if (!o.text.empty()) throw std::invalid_argument("--text is for LLMs; a neural operator takes --data");
  const std::unique_ptr<models::NeuralOperator> op = models::load_operator(resolve_model_path(o.model));
  const models::OperatorDataset data = models::read_dataset(o.data);
  const GemmEngine engine = o.num.engine();
  OperandFilter filter;
  if (!o.only.empty()) {
    const std::regex re(o.only);
    filter = [re](const std::string& name, models::GemmRole) { return std::regex_search(name, re); };
  }
  if (o.dft_bits != 0 && o.dft_bits != 2 && o.dft_bits != 3 && o.dft_bits != 4 && o.dft_bits != 8) {
    throw std::invalid_argument(fmt::format("--dft-bits = {} is not 2, 3, 4, 8 or 0 (the design's)", o.dft_bits));
  }
  const OperatorExecutor quantized(*op, engine, filter, o.dft_bits), reference(*op, GemmEngine());
  const bool quiet = o.json_path == "-";
  const OperatorEvalResult r = evaluate_operator(*op, quantized, reference, data, o.data, o.batch, o.samples, [&](std::int64_t d, std::int64_t t) {
    if (!quiet) progress_line("samples", d, t);
  });
  if (!quiet) {
    fmt::print("{} on {}: {} test samples\n", op->name(), o.data, r.samples);
    fmt::print("  numerics          {}{}\n", o.num.describe(engine), o.only.empty() ? "" : fmt::format(" (only operands matching /{}/)", o.only));
    fmt::print("  rel. L2 vs truth  mean {:.5f}  worst {:.5f}   (float model: mean {:.5f}  worst {:.5f})\n", r.mean(r.vs_truth),
               r.worst(r.vs_truth), r.mean(r.float_vs_truth), r.worst(r.float_vs_truth));
    fmt::print("  rel. L2 vs float  mean {:.5f}  worst {:.5f}   in {:.1f} s\n", r.mean(r.vs_float), r.worst(r.vs_float), r.seconds);
  }
  nlohmann::json j = {{"schema", "mixpe.eval.operator/1"}, {"model", op->name()}, {"data", o.data}, {"numerics", o.num.describe(engine)},
                      {"path", to_string(engine.path())}, {"only", o.only}, {"dft_bits", o.dft_bits}};
  if (engine.path() != PePath::kFloat) {
    const quant::WeightQuantConfig& w = engine.weight_config();
    j["hw"] = engine.design()->name;
    j["weights"] = {{"bits", w.bits}, {"group_size", w.group_size}, {"symmetric", w.symmetric}};
  }
  j.update(operator_eval_json(r));
  emit_json(o.json_path, j);
  return 0;
}

}  // namespace

CommandAction add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand("eval", "Model quality: LLM perplexity over a text, or neural-operator error over a dataset");
  cmd->add_option("--model", o->model, "Model directory, file or name (e.g. llama-kjv, fno-darcy: see zoo/)")->required();
  cmd->add_option("--text", o->text, "LLMs: the text to score (UTF-8)");
  cmd->add_option("--data", o->data, "Neural operators: a dataset file from `mixpe data` (its test split is used)");
  cmd->add_option("--ctx", o->ctx, "LLMs: window length in tokens (default: the model's context)");
  cmd->add_option("--stride", o->stride, "LLMs: window step (default: --ctx, non-overlapping windows)");
  cmd->add_option("--max-tokens", o->max_tokens, "LLMs: score at most the first N tokens of the text");
  cmd->add_flag("--float-attention", o->float_attention,
                "LLMs: attention products in FP32 instead of on the array with the KV cache in the weight format");
  cmd->add_option("--batch", o->batch, "Neural operators: samples per forward")->capture_default_str();
  cmd->add_option("--samples", o->samples, "Neural operators: evaluate only the first N test samples");
  cmd->add_option("--only", o->only, "Neural operators: quantize only operands whose name matches this regex (the rest stay FP32)");
  cmd->add_option("--dft-bits", o->dft_bits, "Neural operators: code width of the constant DFT matrices (0: the design's)")
      ->capture_default_str();
  cmd->add_option("--json", o->json_path, "Write the result as JSON (docs/reports.md) to this file; - for stdout");
  o->num.add_to(cmd);
  return [o]() { return is_operator_model(o->model) ? eval_operator(*o) : eval_llm(*o); };
}

}  // namespace mixpe::runtime
