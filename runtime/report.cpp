// Terminal, JSON and CSV forms of a SimulationReport.
#include "runtime/report.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "models/io/file_io.h"

namespace mixpe::runtime {
namespace {

const char* op_class(models::OpKind k) {
  switch (k) {
    case models::OpKind::kLinear: return "linear";
    case models::OpKind::kAttnScore:
    case models::OpKind::kAttnValue: return "attention";
    default: return "vector";
  }
}

double sram(const sim::EnergyBreakdown& e) { return e.wbuf + e.ibuf + e.obuf; }

nlohmann::json energy_json(const sim::EnergyBreakdown& e) {
  return {{"pe", e.pe},     {"edge", e.edge}, {"dequant", e.dequant}, {"vector", e.vector}, {"sram", sram(e)},
          {"wbuf", e.wbuf}, {"ibuf", e.ibuf}, {"obuf", e.obuf},       {"dram", e.dram},     {"static", e.leakage},
          {"total", e.total()}};
}

std::string phase_text(const SimulationReport& r) {
  if (!r.description.empty()) return r.description;
  if (r.spec.phase == models::Phase::kDecode) return fmt::format("decode, batch {}, context {}", r.spec.batch, r.spec.seq);
  return fmt::format("prefill, batch {}, {} tokens per sequence", r.spec.batch, r.spec.seq);
}

nlohmann::json roofline_json(const OpResult& o, double clock_mhz) {
  const double seconds = static_cast<double>(o.cycles) / (clock_mhz * 1e6);
  return {{"ops", o.roofline.ops},
          {"compulsory_dram_bytes", o.compulsory_dram_bytes},
          {"intensity_ops_per_byte", o.roofline.intensity},
          {"compute_cycles", o.roofline.compute_cycles},
          {"memory_cycles", o.roofline.memory_cycles},
          {"bound", o.roofline.bound()},
          {"attained_ops_per_s", seconds > 0 ? static_cast<double>(o.roofline.ops) / seconds : 0.0},
          {"attained_dram_bytes_per_s", seconds > 0 ? static_cast<double>(o.dram_bytes) / seconds : 0.0},
          {"fraction_attained", o.cycles > 0 ? static_cast<double>(o.roofline.cycles()) / static_cast<double>(o.cycles) : 0.0}};
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

void print_summary(const SimulationReport& r, std::FILE* out) {
  const double s = r.seconds(), j = r.joules();
  fmt::print(out, "{} {} on {} ({} executor)\n", r.model, phase_text(r), r.hw, r.executor);
  fmt::print(out, "  latency       {:.4f} ms  ({} cycles at {:.0f} MHz)\n", s * 1e3, r.total_cycles, r.clock_mhz);
  fmt::print(out, "  throughput    {:.1f} {}s/s  ({} {}s)\n", r.tokens / s, r.unit, r.tokens, r.unit);
  fmt::print(out, "  energy        {:.4f} mJ total, {:.4f} mJ/{}\n", j * 1e3, j * 1e3 / r.tokens, r.unit);
  fmt::print(out, "  utilization   {:.2f}% of the PE array (useful MACs / PE-cycles)\n", r.utilization * 100);
  if (r.area_mm2 > 0)
    fmt::print(out, "  area          {:.3f} mm2 (mixpe hw show); {:.1f} {}s/s per mm2 at {:.3f} W average\n", r.area_mm2,
               r.tokens / s / r.area_mm2, r.unit, j / s);
  if (r.roofline_cycles > 0) {
    const double rs = static_cast<double>(r.roofline_cycles) / (r.clock_mhz * 1e6);
    fmt::print(out, "  roofline      {:.4f} ms, {:.1f}% of it from memory-bound ops; attained {:.1f}% of the roofline "
                    "(peak {:.2f} TOPS, {:.1f} GB/s)\n",
               rs * 1e3, 100.0 * static_cast<double>(r.memory_bound_roofline_cycles) / static_cast<double>(r.roofline_cycles),
               100.0 * rs / s, r.peak_ops_per_s * 1e-12, r.peak_dram_bytes_per_s * 1e-9);
  }
  const sim::EnergyBreakdown& e = r.energy;
  const double total = e.total() > 0 ? e.total() : 1.0;
  fmt::print(out, "  energy split  PE {:.1f}%  dequant+edge {:.1f}%  vector {:.1f}%  SRAM {:.1f}%  DRAM {:.1f}%  static {:.1f}%\n",
             100 * e.pe / total, 100 * (e.dequant + e.edge) / total, 100 * e.vector / total, 100 * sram(e) / total,
             100 * e.dram / total, 100 * e.leakage / total);
  std::map<std::string, std::int64_t> by_class;
  for (const OpResult& o : r.ops) by_class[op_class(o.op.kind)] += o.cycles;
  const double cyc = r.total_cycles > 0 ? static_cast<double>(r.total_cycles) : 1.0;
  fmt::print(out, "  time split    linear {:.1f}%  attention {:.1f}%  vector {:.1f}%\n", 100 * by_class["linear"] / cyc,
             100 * by_class["attention"] / cyc, 100 * by_class["vector"] / cyc);
  std::vector<const OpResult*> top;
  for (const OpResult& o : r.ops) top.push_back(&o);
  std::partial_sort(top.begin(), top.begin() + std::min<std::size_t>(5, top.size()), top.end(),
                    [](const OpResult* a, const OpResult* b) { return a->cycles > b->cycles; });
  fmt::print(out, "  slowest ops:   {:<26} {:>12} {:>6} {:>8} {:>7}  {}\n", "op", "cycles", "share", "bound", "of roof", "mapping");
  for (std::size_t i = 0; i < std::min<std::size_t>(5, top.size()); ++i) {
    const OpResult& o = *top[i];
    fmt::print(out, "                {:<26} {:>12} {:>5.1f}% {:>8} {:>6.1f}%  {}\n", o.op.name, o.cycles, 100 * o.cycles / cyc,
               o.roofline.bound(), o.cycles > 0 ? 100.0 * static_cast<double>(o.roofline.cycles()) / static_cast<double>(o.cycles) : 0.0,
               o.mapping);
  }
  fmt::print(out, "  modelling notes:\n");
  for (const std::string& n : r.notes) fmt::print(out, "    - {}\n", n);
}

nlohmann::json report_json(const SimulationReport& r) {
  nlohmann::json j;
  j["schema"] = kSimulateSchema;
  j["hw"] = r.hw;
  j["model"] = r.model;
  j["executor"] = r.executor;
  j["phase"] = r.unit == "sample" ? "forward" : models::to_string(r.spec.phase);
  j["description"] = r.description;
  j["unit"] = r.unit;
  j["batch"] = r.spec.batch;
  j["seq"] = r.spec.seq;
  j["tokens"] = r.tokens;
  j["clock_mhz"] = r.clock_mhz;
  j["total_cycles"] = r.total_cycles;
  j["seconds"] = r.seconds();
  j["latency_ms"] = r.seconds() * 1e3;
  j["joules"] = r.joules();
  j["tokens_per_second"] = r.tokens / r.seconds();
  j["joules_per_token"] = r.joules() / r.tokens;
  j["utilization"] = r.utilization;
  j["area_mm2"] = r.area_mm2 > 0 ? nlohmann::json(r.area_mm2) : nlohmann::json(nullptr);
  j["instructions"] = r.instructions;
  j["energy_pj"] = energy_json(r.energy);
  j["roofline"] = {{"peak_ops_per_s", r.peak_ops_per_s},
                   {"peak_dram_bytes_per_s", r.peak_dram_bytes_per_s},
                   {"cycles", r.roofline_cycles},
                   {"seconds", static_cast<double>(r.roofline_cycles) / (r.clock_mhz * 1e6)},
                   {"memory_bound_cycles", r.memory_bound_roofline_cycles},
                   {"compulsory_dram_bytes", r.compulsory_dram_bytes},
                   {"fraction_attained", r.total_cycles > 0 ? static_cast<double>(r.roofline_cycles) / static_cast<double>(r.total_cycles) : 0.0}};
  j["notes"] = r.notes;
  nlohmann::json ops = nlohmann::json::array();
  for (const OpResult& o : r.ops) {
    ops.push_back({{"name", o.op.name},
                   {"kind", models::to_string(o.op.kind)},
                   {"layer", o.op.layer},
                   {"m", o.op.m},
                   {"n", o.op.n},
                   {"k", o.op.k},
                   {"count", o.op.count},
                   {"elements", o.op.elements},
                   {"macs", o.op.macs()},
                   {"cycles", o.cycles},
                   {"dram_bytes", o.dram_bytes},
                   {"energy_pj", energy_json(o.energy)},
                   {"dataflow", o.dataflow},
                   {"mapping", o.mapping},
                   {"roofline", roofline_json(o, r.clock_mhz)},
                   {"note", o.op.note}});
  }
  j["ops"] = std::move(ops);
  return j;
}

std::string report_csv(const SimulationReport& r) {
  std::string out =
      "name,kind,layer,m,n,k,count,elements,macs,cycles,dram_bytes,energy_pj,dataflow,mapping,compulsory_dram_bytes,"
      "intensity_ops_per_byte,roofline_cycles,bound,note\n";
  for (const OpResult& o : r.ops) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{:.6g},{},{},{},{:.6g},{},{},{}\n", csv_field(o.op.name),
                       models::to_string(o.op.kind), o.op.layer, o.op.m, o.op.n, o.op.k, o.op.count, o.op.elements, o.op.macs(),
                       o.cycles, o.dram_bytes, o.energy.total(), o.dataflow, csv_field(o.mapping), o.compulsory_dram_bytes,
                       o.roofline.intensity, o.roofline.cycles(), o.roofline.bound(), csv_field(o.op.note));
  }
  return out;
}

void write_file_atomic(const std::string& path, const std::string& text) {
  models::AtomicFileWriter out(path);
  out.write(text.data(), text.size());
  out.commit();
}

}  // namespace mixpe::runtime
