// The `mixpe` Python module: hardware configs, simulation reports, design comparisons, weight
// quantization and mpGEMM through the same library calls as the mixpe CLI (docs/python.md).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "quant/activations.h"
#include "quant/ant.h"
#include "quant/bitfusion.h"
#include "quant/gemm_fast.h"
#include "quant/gemm_ref.h"
#include "quant/weights.h"
#include "models/io/quantize_model.h"
#include "runtime/gemm_job.h"
#include "runtime/executor.h"
#include "runtime/report.h"
#include "runtime/study.h"
#include "sim/config.h"

namespace py = pybind11;

namespace mixpe::python {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// JSON text through Python's json module: the dict equals json.load of the CLI's --json file.
py::object to_python(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

// The mixpe CLI the cycle executor runs in a child process: $MIXPE_CLI, else the installed one
// beside this module's prefix, else the one built with this module.
std::string cli_path() {
  const char* env = std::getenv("MIXPE_CLI");
  std::string path = env != nullptr && *env != '\0' ? env : MIXPE_CLI_PATH;
  if ((env == nullptr || *env == '\0') && !sim::installed_data_dir().empty())
    path = (std::filesystem::path(sim::installed_data_dir()).parent_path().parent_path() / "bin" / "mixpe").string();
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(fmt::format("mixpe CLI '{}' not found (build the mixpe target, or set MIXPE_CLI); the cycle executor runs in it", path));
  }
  return path;
}

runtime::WorkloadOptions workload_options(const std::string& model, const std::string& phase, int batch, int seq,
                                          const std::string& executor, int dft_bits) {
  runtime::WorkloadOptions w;
  w.model = model;
  w.phase = phase;
  w.batch = batch;
  w.seq = seq;
  w.executor = executor;
  w.dft_bits = dft_bits;
  return w;
}

py::dict hw_show(const std::string& name, const std::vector<std::string>& overrides) {
  const sim::AcceleratorConfig cfg = sim::load_config(name, overrides);
  const std::vector<sim::ParamInfo> info = sim::describe_parameters();
  const auto values = sim::parameter_values(cfg);
  py::dict d;
  d["source"] = cfg.source;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto& [key, text] = values[i];
    // The same table in the same order: the type says how to read the text.
    const std::string& type = info[i].type;
    if (type == "int") {
      d[key.c_str()] = std::stoll(text);
    } else if (type == "float") {
      d[key.c_str()] = std::stod(text);
    } else if (text == "true" || text == "false") {
      d[key.c_str()] = text == "true";
    } else {
      d[key.c_str()] = text;
    }
  }
  d["verilator_parameters"] = sim::verilator_parameters(cfg);
  return d;
}

py::object simulate(const std::string& model, const std::string& hw, const std::string& phase, int batch, int seq,
                    const std::string& executor, const std::vector<std::string>& overrides, int dft_bits) {
  const runtime::WorkloadOptions w = workload_options(model, phase, batch, seq, executor, dft_bits);
  nlohmann::json report;
  {
    py::gil_scoped_release release;
    // Checked in process first so that a bad name raises ValueError here, not a failed child.
    const runtime::ExecutorKind kind = runtime::parse_executor(executor);
    const sim::AcceleratorConfig cfg = sim::load_config(hw, overrides);
    const runtime::Workload workload = runtime::make_workload(w);
    report = kind == runtime::ExecutorKind::kAnalytic ? runtime::report_json(runtime::simulate(workload, cfg, kind))
                                                      : runtime::simulate_in_child(cli_path(), hw, overrides, w);
  }
  return to_python(report);
}

py::object compare(const std::string& model, const std::vector<std::string>& designs, const std::string& phase, int batch,
                   int seq, const std::string& executor, const std::vector<std::string>& overrides, int dft_bits,
                   const std::string& iso_area) {
  const runtime::WorkloadOptions w = workload_options(model, phase, batch, seq, executor, dft_bits);
  nlohmann::json result;
  {
    py::gil_scoped_release release;
    const runtime::Workload workload = runtime::make_workload(w);
    const std::string cli = runtime::parse_executor(executor) == runtime::ExecutorKind::kCycle ? cli_path() : std::string();
    const double iso = iso_area.empty() ? 0.0 : runtime::parse_iso_area(iso_area, overrides);
    result = runtime::compare_designs(workload, w, designs, overrides, cli, nullptr, iso);
  }
  return to_python(result);
}

// `mixpe gemm --json`: one random mpGEMM through every PE type's oracle.
py::object gemm(int m, int n, int k, int wbits, int group, bool sym, std::uint64_t seed) {
  runtime::GemmJobConfig cfg;
  cfg.m = m;
  cfg.n = n;
  cfg.k = k;
  cfg.wbits = wbits;
  cfg.group = group;
  cfg.symmetric = sym;
  cfg.seed = seed;
  cfg.validate();
  nlohmann::json j;
  {
    py::gil_scoped_release release;
    j = runtime::gemm_result_json(runtime::run_gemm_job(cfg));
  }
  return to_python(j);
}

// `mixpe quantize` (RTN): a model file into a mixpe or GGUF file; returns the per-tensor report.
py::dict quantize(const std::string& input, const std::string& output, int wbits, int group, bool sym, bool clip_search,
                  const std::string& format) {
  models::QuantizeOptions o;
  o.input = input;
  o.output = output;
  o.weights.bits = wbits;
  o.weights.group_size = group;
  o.weights.symmetric = sym;
  o.weights.clip_search = clip_search;
  if (format != "mixpe" && format != "gguf") throw std::invalid_argument(fmt::format("format = {}: expected mixpe or gguf", format));
  o.format = format == "gguf" ? models::OutputFormat::kGguf : models::OutputFormat::kMixpe;
  models::QuantizeReport r;
  {
    py::gil_scoped_release release;
    r = models::quantize_model(o);
  }
  py::list tensors;
  for (const models::TensorReport& t : r.tensors) {
    py::dict d;
    d["name"] = t.name;
    d["shape"] = t.shape;
    d["in_type"] = t.in_type;
    d["out_type"] = t.out_type;
    d["quantized"] = t.quantized;
    d["bits"] = t.bits;
    d["group_size"] = t.group_size;
    d["sqnr_db"] = t.sqnr_db;
    d["max_abs_error"] = t.max_abs_error;
    tensors.append(d);
  }
  py::dict d;
  d["output"] = output;
  d["tensors"] = tensors;
  d["quantized_count"] = r.quantized_count;
  d["bytes_in"] = r.bytes_in;
  d["bytes_out"] = r.bytes_out;
  d["file_bytes"] = r.file_bytes;
  d["mean_sqnr_db"] = r.mean_sqnr_db;
  d["notes"] = r.notes;
  return d;
}

// A 2-D C-contiguous float32 view of `a` (converted only if it is not one already); returns rows, cols.
std::pair<int, int> matrix_shape(const FloatArray& a, const char* what) {
  if (a.ndim() != 2) throw std::invalid_argument(fmt::format("{} must be a 2-D array, got {} dimensions", what, a.ndim()));
  if (a.shape(0) <= 0 || a.shape(1) <= 0 || a.shape(0) > INT32_MAX || a.shape(1) > INT32_MAX) {
    throw std::invalid_argument(fmt::format("{} has shape ({}, {}); both dimensions must be in [1, 2^31)", what, a.shape(0), a.shape(1)));
  }
  return {static_cast<int>(a.shape(0)), static_cast<int>(a.shape(1))};
}

// Hands a vector's buffer to numpy without a copy.
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, owned->data(), free_when_done);
}

py::dict weights_to_dict(quant::QuantizedWeights&& q) {
  const py::ssize_t n = q.n, k = q.k, groups = q.groups();
  std::vector<float> scales(q.scales.size());
  for (std::size_t i = 0; i < scales.size(); ++i) scales[i] = q.scales[i].to_float();  // FP16 -> FP32 is exact
  py::dict d;
  d["n"] = q.n;
  d["k"] = q.k;
  d["bits"] = q.bits;
  d["group_size"] = q.group_size;
  d["symmetric"] = q.symmetric;
  d["codes"] = to_numpy(std::move(q.codes), {n, k});
  d["scales"] = to_numpy(std::move(scales), {n, groups});
  d["zeros"] = to_numpy(std::move(q.zeros), {n, groups});
  return d;
}

py::dict quantize_tensor(const FloatArray& w, int wbits, int group, bool sym, bool clip_search) {
  const auto [n, k] = matrix_shape(w, "w");
  quant::QuantizedWeights q;
  {
    py::gil_scoped_release release;
    q = quant::quantize_weights_rtn(std::span<const float>(w.data(), w.size()), n, k, {wbits, group, sym, clip_search}, "w");
  }
  return weights_to_dict(std::move(q));
}

// The inverse of weights_to_dict; every structural invariant is checked.
quant::QuantizedWeights weights_from_dict(const py::dict& d) {
  for (const char* key : {"n", "k", "bits", "group_size", "symmetric", "codes", "scales", "zeros"}) {
    if (!d.contains(key)) throw std::invalid_argument(fmt::format("quantized weights: missing key '{}' (pass a quantize_tensor result)", key));
  }
  quant::QuantizedWeights q;
  q.n = d["n"].cast<int>();
  q.k = d["k"].cast<int>();
  q.bits = d["bits"].cast<int>();
  q.group_size = d["group_size"].cast<int>();
  q.symmetric = d["symmetric"].cast<bool>();
  if (q.n <= 0 || q.k <= 0 || q.group_size <= 0 || q.k % q.group_size != 0) {
    throw std::invalid_argument(fmt::format("quantized weights: n = {}, k = {}, group_size = {} are inconsistent", q.n, q.k, q.group_size));
  }
  const auto codes = d["codes"].cast<py::array_t<std::int16_t, py::array::c_style | py::array::forcecast>>();
  const auto scales = d["scales"].cast<FloatArray>();
  const auto zeros = d["zeros"].cast<py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>>();
  const std::size_t cells = static_cast<std::size_t>(q.n) * q.k, group_cells = static_cast<std::size_t>(q.n) * q.groups();
  auto check = [](const char* key, std::size_t got, std::size_t want) {
    if (got != want) throw std::invalid_argument(fmt::format("quantized weights: '{}' has {} elements, expected {}", key, got, want));
  };
  check("codes", codes.size(), cells);
  check("scales", scales.size(), group_cells);
  check("zeros", zeros.size(), group_cells);
  q.codes.assign(codes.data(), codes.data() + cells);
  q.zeros.assign(zeros.data(), zeros.data() + group_cells);
  q.scales.resize(group_cells);
  for (std::size_t i = 0; i < group_cells; ++i) {
    q.scales[i] = quant::Half::from_float(scales.data()[i]);
    if (q.scales[i].to_float() != scales.data()[i]) {
      throw std::invalid_argument(fmt::format("quantized weights: scales[{}] = {} is not an FP16 value", i, scales.data()[i]));
    }
  }
  quant::validate_quantized_weights(q, "quantized weights");
  return q;
}

py::array_t<float> mpgemm(const FloatArray& x, const py::object& weights, const std::string& numerics, int wbits, int group,
                          bool sym, bool reference, unsigned threads) {
  const auto [m, k] = matrix_shape(x, "x");
  const bool int8 = numerics == "int8";
  const bool bitfusion = numerics == "bitfusion";
  const std::span<const float> xs(x.data(), x.size());
  if (numerics == "ant") {
    // ANT quantizes float weights its own way (type and clip search); integer codes are not ANT types.
    if (py::isinstance<py::dict>(weights)) throw std::invalid_argument("numerics = 'ant' takes float weights (ANT quantizes them itself)");
    const FloatArray w = weights.cast<FloatArray>();
    const auto [n, wk] = matrix_shape(w, "w");
    if (wk != k) throw std::invalid_argument(fmt::format("x has K = {} columns but the weights have K = {}", k, wk));
    std::vector<float> y;
    {
      py::gil_scoped_release release;
      const quant::AntWeights aw = quant::quantize_ant(std::span<const float>(w.data(), w.size()), n, wk, {}, "w");
      const quant::Int8Activations x8 = quant::quantize_activations_int8(xs, m, k);
      y = reference ? quant::gemm_ant_ref(x8, aw) : quant::gemm_ant(x8, aw, threads);
    }
    return to_numpy(std::move(y), {m, n});
  }
  quant::QuantizedWeights q;
  if (py::isinstance<py::dict>(weights)) {
    q = weights_from_dict(weights.cast<py::dict>());
  } else {
    // Float weights are quantized as `mixpe gemm` does: RTN with the given bits and group, or
    // W8 symmetric per-channel for the INT8 baseline.
    const FloatArray w = weights.cast<FloatArray>();
    const auto [n, wk] = matrix_shape(w, "w");
    const quant::WeightQuantConfig cfg = int8        ? quant::WeightQuantConfig{8, -1, true}
                                         : bitfusion ? quant::WeightQuantConfig{wbits, -1, true}
                                                     : quant::WeightQuantConfig{wbits, group, sym};
    py::gil_scoped_release release;
    q = quant::quantize_weights_rtn(std::span<const float>(w.data(), w.size()), n, wk, cfg, "w");
  }
  if (q.k != k) throw std::invalid_argument(fmt::format("x has K = {} columns but the weights have K = {}", k, q.k));
  std::vector<float> y;
  {
    py::gil_scoped_release release;
    if (bitfusion) {
      const quant::Int8Activations x8 = quant::quantize_activations_int8(xs, m, k);
      y = reference ? quant::gemm_bitfusion_ref(x8, q) : quant::gemm_bitfusion(x8, quant::PreparedWeights::for_mixpe(q), threads);
    } else if (numerics == "mixpe-int8" || int8) {
      const quant::Int8Activations x8 = quant::quantize_activations_int8(xs, m, k);
      if (reference) {
        y = int8 ? quant::gemm_int8_ref(x8, q) : quant::gemm_mixpe_int8_ref(x8, q);
      } else {
        const quant::PreparedWeights pw = quant::PreparedWeights::for_mixpe(q);
        y = int8 ? quant::gemm_int8(x8, pw, threads) : quant::gemm_mixpe_int8(x8, pw, threads);
      }
    } else if (numerics == "mixpe-fp16" || numerics == "mixpe-bf16") {
      const quant::AlignedActivations a = numerics == "mixpe-fp16"
                                              ? quant::align_activations_fp16(quant::to_half(xs), m, k, q.group_size)
                                              : quant::align_activations_bf16(quant::to_bfloat16(xs), m, k, q.group_size);
      y = reference ? quant::gemm_mixpe_aligned_ref(a, q) : quant::gemm_mixpe_aligned(a, quant::PreparedWeights::for_mixpe(q), threads);
    } else if (numerics == "fp16") {
      const std::vector<quant::Half> x16 = quant::to_half(xs);
      y = reference ? quant::gemm_fp16_ref(x16, m, q) : quant::gemm_fp16(x16, m, quant::PreparedWeights::for_fp16(q), threads);
    } else {
      throw std::invalid_argument(
          fmt::format("numerics = '{}' is not a GEMM path (mixpe-int8, mixpe-fp16, mixpe-bf16, fp16, int8, bitfusion, ant)", numerics));
    }
  }
  return to_numpy(std::move(y), {m, q.n});
}

}  // namespace
}  // namespace mixpe::python

#ifdef MIXPE_WITH_SYSTEMC
// libsystemc's main() calls sc_main, so the library needs the symbol to load; the module never
// runs SystemC in process (the cycle executor runs in a child mixpe CLI).
extern "C" __attribute__((visibility("default"))) int sc_main(int, char*[]) { return 1; }
#endif

PYBIND11_MODULE(mixpe, m) {
  using namespace mixpe::python;
  namespace runtime = mixpe::runtime;
  m.doc() = "MixPE simulator and quantized GEMM numerics (docs/python.md)";
  // FormatError and other std::runtime_error arrive as RuntimeError, std::invalid_argument as
  // ValueError (pybind11's standard translation), with the library's message.
  m.def("hw_show", &hw_show, py::arg("name"), py::arg("overrides") = std::vector<std::string>{},
        "Resolved hardware config: every `mixpe hw keys` key (overrides 'key=value' applied), 'source' and "
        "'verilator_parameters'.");
  m.def("simulate", &simulate, py::arg("model") = "llama-2-7b", py::arg("hw") = "default", py::arg("phase") = "prefill",
        py::arg("batch") = 1, py::arg("seq") = 64, py::arg("executor") = "analytic",
        py::arg("overrides") = std::vector<std::string>{}, py::arg("dft_bits") = static_cast<int>(runtime::OperatorExecutor::kDftBits),
        "The report `mixpe simulate --json` writes (docs/reports.md). executor='cycle' runs the built mixpe CLI in a "
        "child process (SystemC elaborates once per process).");
  m.def("compare", &compare, py::arg("model") = "llama-2-7b", py::arg("hw") = runtime::kDefaultCompareDesigns,
        py::arg("phase") = "prefill", py::arg("batch") = 1, py::arg("seq") = 64, py::arg("executor") = "analytic",
        py::arg("overrides") = std::vector<std::string>{}, py::arg("dft_bits") = static_cast<int>(runtime::OperatorExecutor::kDftBits),
        py::arg("iso_area") = "",
        "The JSON `mixpe compare --json` writes (schema mixpe.compare/1); iso_area: mm2 or a design, as --iso-area.");
  m.def("gemm", &gemm, py::arg("m") = 64, py::arg("n") = 256, py::arg("k") = 1024, py::arg("wbits") = 4, py::arg("group") = 128,
        py::arg("sym") = false, py::arg("seed") = 1,
        "The JSON `mixpe gemm --json` prints: one random mpGEMM through every PE type's oracle, errors against float64.");
  m.def("quantize", &quantize, py::arg("input"), py::arg("output"), py::arg("wbits") = 4, py::arg("group") = 128,
        py::arg("sym") = false, py::arg("clip_search") = false, py::arg("format") = "mixpe",
        "RTN-quantize a model file's linear weights (safetensors, GGUF or mixpe) into a mixpe or GGUF file, as `mixpe "
        "quantize`; returns the per-tensor report (SQNR, sizes). The output file exists only on success.");
  m.def("quantize_tensor", &quantize_tensor, py::arg("w"), py::arg("wbits") = 4, py::arg("group") = 128, py::arg("sym") = false,
        py::arg("clip_search") = false,
        "RTN group quantization of a float32 N x K matrix: dict with codes (int16 [N][K]), scales (float32 [N][G], FP16 "
        "values), zeros (uint8 [N][G]), n, k, bits, group_size, symmetric.");
  m.def("mpgemm", &mpgemm, py::arg("x"), py::arg("w"), py::arg("numerics") = "mixpe-int8", py::arg("wbits") = 4,
        py::arg("group") = 128, py::arg("sym") = false, py::arg("reference") = false, py::arg("threads") = 0,
        "Y = X W^T (float32 [M][N]) through one PE type's numerics (mixpe-int8, mixpe-fp16, mixpe-bf16, fp16, int8, bitfusion, ant): the "
        "fast kernels, or the scalar oracles with reference=True (bit-identical). w is a quantize_tensor result or a "
        "float32 N x K matrix (then quantized with wbits/group/sym; W8 symmetric per-channel for int8).");
}
