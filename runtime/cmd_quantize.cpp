// `mixpe quantize`: quantize a model's linear weights and print the per-tensor error table.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/io/quantize_model.h"
#include "models/llm/calibrate.h"
#include "runtime/commands.h"
#include "runtime/model_source.h"

namespace mixpe::runtime {
namespace {

std::string human_bytes(std::uint64_t b) {
  if (b < 1024) return fmt::format("{} B", b);
  if (b < 1024 * 1024) return fmt::format("{:.1f} KiB", b / 1024.0);
  if (b < 1024ull * 1024 * 1024) return fmt::format("{:.2f} MiB", b / (1024.0 * 1024));
  return fmt::format("{:.2f} GiB", b / (1024.0 * 1024 * 1024));
}

void print_report(const models::QuantizeReport& r, std::FILE* out) {
  std::size_t name_w = 6;
  for (const models::TensorReport& t : r.tensors) name_w = std::max(name_w, std::min<std::size_t>(t.name.size(), 64));
  fmt::print(out, "{:<{}}  {:<16} {:<6} {:<14} {:>4} {:>6} {:>9} {:>10}\n", "tensor", name_w, "shape", "in", "out", "bits",
             "group", "SQNR dB", "max err");
  for (const models::TensorReport& t : r.tensors) {
    const std::string shape = fmt::format("[{}]", fmt::join(t.shape, ", "));
    if (t.quantized) {
      fmt::print(out, "{:<{}}  {:<16} {:<6} {:<14} {:>4} {:>6} {:>9.2f} {:>10.3e}\n", t.name, name_w, shape, t.in_type, t.out_type,
                 t.bits, t.group_size, t.sqnr_db, t.max_abs_error);
    } else {
      fmt::print(out, "{:<{}}  {:<16} {:<6} {:<14} {:>4} {:>6} {:>9} {:>10}\n", t.name, name_w, shape, t.in_type,
                 t.out_type + " kept", "-", "-", "-", "-");
    }
  }
  const double ratio = r.bytes_out > 0 ? static_cast<double>(r.bytes_in) / r.bytes_out : 0.0;
  fmt::print(out, "quantized {} of {} tensors; tensor bytes {} -> {} ({:.2f}x smaller); output file {} bytes; mean SQNR {:.2f} dB\n",
             r.quantized_count, r.tensors.size(), human_bytes(r.bytes_in), human_bytes(r.bytes_out), ratio, r.file_bytes,
             r.mean_sqnr_db);
}

}  // namespace

CommandAction add_quantize_command(CLI::App& app) {
  struct State {
    models::QuantizeOptions opts;
    std::string format = "mixpe";
    bool progress = false;
    // Calibrated methods (model level): GPTQ/AWQ on a Hugging Face LLaMA directory.
    std::string method = "rtn";
    NumericsOptions calib;
  };
  auto st = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand("quantize", "Quantize a model's linear weights (RTN) into a mixpe or GGUF file");
  cmd->add_option("input", st->opts.input, "Model: .safetensors file, sharded index .json, checkpoint directory, .gguf or .mixpe")->required();
  cmd->add_option("-o,--output", st->opts.output, "Output file (written atomically)")->required();
  cmd->add_option("--wbits", st->opts.weights.bits, "Weight bits: 2, 3, 4 or 8")->capture_default_str();
  cmd->add_option("--group", st->opts.weights.group_size, "Group size along K: 32, 64, 128, 256 or -1 (per-channel)")->capture_default_str();
  cmd->add_flag("--sym", st->opts.weights.symmetric, "Symmetric weights (signed codes, zero point 0)");
  cmd->add_flag("--clip-search", st->opts.weights.clip_search,
                "Per group, search clipped ranges/scales for the least squared error (never worse than plain RTN)");
  cmd->add_option("--format", st->format, "Output format: mixpe (any bits/group) or gguf (W4 g32 sym: Q4_0, W4 g32 asym: Q4_1, W8 g32 sym: Q8_0)")
      ->check(CLI::IsMember({"mixpe", "gguf"}))
      ->capture_default_str();
  cmd->add_option("--skip", st->opts.skip_regex, "Keep tensors whose name matches this regular expression unquantized");
  cmd->add_option("--include", st->opts.include_regex, "Also quantize 2-D tensors matching this regular expression (e.g. lm_head)");
  cmd->add_flag("--gguf-names", st->opts.gguf_names, "Rename LLaMA/Mistral/OPT tensors to GGUF names (needs config.json); LLaMA: llama.cpp's Q/K order and metadata");
  cmd->add_flag("--progress", st->progress, "Report progress on stderr (default: when stderr is a terminal)");
  cmd->add_option("--method", st->method,
                  "rtn (tensor by tensor, any file) or gptq / awq (calibrated, a LLaMA model directory; -o names an output directory)")
      ->check(CLI::IsMember({"rtn", "gptq", "awq"}))
      ->capture_default_str();
  cmd->add_option("--calib", st->calib.calib, "gptq/awq: calibration text (default: calib.txt beside the model)");
  cmd->add_option("--nsamples", st->calib.nsamples, "gptq/awq: calibration windows")->capture_default_str();
  cmd->add_option("--seqlen", st->calib.seqlen, "gptq/awq: calibration window length in tokens (default: min(256, context))");
  return [st]() {
    if (st->method != "rtn") {
      if (st->format != "mixpe") throw std::invalid_argument(fmt::format("--method {} writes the mixpe format (--format mixpe)", st->method));
      LlmSource src = load_llm_source(st->opts.input);
      st->calib.method = st->method;
      const std::vector<std::vector<int>> seqs = calibration_sequences(src, st->calib);
      const auto t0 = std::chrono::steady_clock::now();
      const models::QuantizedLlm q = models::quantize_llm(src.llm.weights, models::parse_quant_method(st->method), st->opts.weights, seqs, {},
                                                          [](const std::string& stage, int done, int total) {
                                                            fmt::print(stderr, "\r  {} {}/{}   ", stage, done, total);
                                                          });
      fmt::print(stderr, "\n");
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      write_quantized_llm(src, src.llm.weights, q.layers, st->opts.output, st->method);
      fmt::print("{} -> {}/model.mixpe ({} of {} linear layers quantized with {} W{} {} {}, {} calibration windows, {:.1f} s)\n",
                 src.path, st->opts.output, q.layers.size(), src.llm.weights.linears().size(), st->method, st->opts.weights.bits,
                 st->opts.weights.group_size == -1 ? std::string("per-channel") : fmt::format("g{}", st->opts.weights.group_size),
                 st->opts.weights.symmetric ? "sym" : "asym", seqs.size(), secs);
      if (!q.awq_unscaled.empty()) fmt::print("  AWQ left unscaled (no foldable op before them): {}\n", fmt::join(q.awq_unscaled, ", "));
      return 0;
    }
    st->opts.format = st->format == "gguf" ? models::OutputFormat::kGguf : models::OutputFormat::kMixpe;
    const bool tty = ::isatty(::fileno(stderr)) != 0;
    if (st->progress || tty) {
      st->opts.progress = [tty](std::size_t i, std::size_t n, const std::string& name) {
        if (i == n) {
          if (tty) fmt::print(stderr, "\r\033[K");
          return;
        }
        fmt::print(stderr, "{}[{}/{} {:.0f}%] {}{}", tty ? "\r\033[K" : "", i + 1, n, 100.0 * i / n, name, tty ? "" : "\n");
      };
    }
    const models::QuantizeReport report = models::quantize_model(st->opts);
    fmt::print("{} -> {} ({})\n", st->opts.input, st->opts.output, st->format);
    print_report(report, stdout);
    for (const std::string& note : report.notes) fmt::print(stderr, "note: {}\n", note);
    return 0;
  };
}

}  // namespace mixpe::runtime
