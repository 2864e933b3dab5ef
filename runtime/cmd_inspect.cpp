// `mixpe inspect`: list a model file's metadata and tensors; dump one tensor's values as raw float32.
#include <cmath>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/io/file_io.h"
#include "models/io/model_file.h"
#include "runtime/commands.h"

namespace mixpe::runtime {

CommandAction add_inspect_command(CLI::App& app) {
  struct State {
    std::string path;
    std::string tensor;
    std::string dump;
  };
  auto st = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand("inspect", "List a model file's metadata and tensors (safetensors, GGUF, mixpe)");
  cmd->add_option("file", st->path, "Model: .safetensors file, sharded index .json, checkpoint directory, .gguf or .mixpe")->required();
  cmd->add_option("--tensor", st->tensor, "Show only this tensor, with value statistics");
  cmd->add_option("--dump", st->dump, "With --tensor: write its dequantized values as raw little-endian float32, row-major");
  return [st]() {
    if (!st->dump.empty() && st->tensor.empty()) throw std::invalid_argument("--dump needs --tensor NAME");
    const models::Model model = models::Model::open(st->path);
    if (st->tensor.empty()) {
      const std::string version = model.format_version() > 0 ? fmt::format(" v{}", model.format_version()) : "";
      fmt::print("{}: {}{} file, {} tensors, {} metadata entries\n", st->path, models::model_format_name(model.format()),
                 version, model.tensors().size(), model.metadata().size());
      if (!model.metadata().empty()) fmt::print("metadata:\n");
      for (const auto& [k, v] : model.metadata()) fmt::print("  {} = {}\n", models::printable(k, 120), v);
      std::size_t name_w = 6;
      std::uint64_t total = 0;
      for (const models::ModelTensor& t : model.tensors()) {
        name_w = std::max(name_w, std::min<std::size_t>(t.name.size(), 64));
        total += t.stored_bytes;
      }
      fmt::print("tensors (shapes in PyTorch order, outermost first):\n");
      fmt::print("  {:<{}}  {:<14} {:<20} {:>12}\n", "name", name_w, "type", "shape", "bytes");
      for (const models::ModelTensor& t : model.tensors()) {
        fmt::print("  {:<{}}  {:<14} {:<20} {:>12}\n", t.name, name_w, t.type, fmt::format("[{}]", fmt::join(t.shape, ", ")), t.stored_bytes);
      }
      fmt::print("total tensor bytes: {}\n", total);
      return 0;
    }
    const models::ModelTensor* t = model.find(st->tensor);
    if (t == nullptr) models::throw_format_error(st->path, "tensor", fmt::format("no tensor named '{}'", st->tensor));
    const std::vector<float> v = model.values(*t);
    double sum = 0.0, sum2 = 0.0, lo = INFINITY, hi = -INFINITY;
    for (float x : v) {
      sum += x;
      sum2 += static_cast<double>(x) * x;
      lo = std::min(lo, static_cast<double>(x));
      hi = std::max(hi, static_cast<double>(x));
    }
    const double n = v.empty() ? 1.0 : static_cast<double>(v.size());
    fmt::print("{}: {} [{}], {} elements, {} bytes stored\n", t->name, t->type, fmt::join(t->shape, ", "), v.size(), t->stored_bytes);
    if (!v.empty()) fmt::print("min {:.6g}  max {:.6g}  mean {:.6g}  rms {:.6g}\n", lo, hi, sum / n, std::sqrt(sum2 / n));
    if (!st->dump.empty()) {
      models::AtomicFileWriter out(st->dump);
      out.write(v.data(), v.size() * sizeof(float));
      out.commit();
      fmt::print("wrote {} float32 values to {}\n", v.size(), st->dump);
    }
    return 0;
  };
}

}  // namespace mixpe::runtime
