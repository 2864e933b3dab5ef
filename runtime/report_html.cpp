// Parses report inputs (simulate/compare JSON, sweep CSV and Pareto JSON) and lays out the HTML page
// and its SVG charts.
#include "runtime/report_html.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "models/io/file_io.h"
#include "runtime/report.h"
#include "runtime/svg.h"
#include "runtime/sweep.h"

namespace mixpe::runtime {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kCompareSchema = "mixpe.compare/1";
constexpr const char* kParetoSchema = "mixpe.sweep_pareto/2";
constexpr std::size_t kTopOps = 20;

[[noreturn]] void fail(const std::string& source, const std::string& field, const std::string& problem) {
  models::throw_format_error(source, field, problem);
}

std::string join_path(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

// Typed access to JSON members; every failure names the file and the member's path.
class Fields {
 public:
  explicit Fields(const std::string& source) : source_(source) {}

  const json& get(const json& obj, const std::string& key, const std::string& path) const {
    if (!obj.is_object()) fail(source_, path.empty() ? "(top level)" : path, fmt::format("expected an object, got {}", obj.type_name()));
    const auto it = obj.find(key);
    if (it == obj.end()) fail(source_, join_path(path, key), "missing");
    return *it;
  }
  double number(const json& obj, const std::string& key, const std::string& path) const {
    const json& v = get(obj, key, path);
    if (!v.is_number()) fail(source_, join_path(path, key), fmt::format("expected a number, got {} {}", v.type_name(), models::printable(v.dump(), 40)));
    return v.get<double>();
  }
  // Derived ratios the writer stores as null when the denominator was 0 (JSON has no inf/nan).
  double number_or_nan(const json& obj, const std::string& key, const std::string& path) const {
    if (get(obj, key, path).is_null()) return std::nan("");
    return number(obj, key, path);
  }
  std::int64_t integer(const json& obj, const std::string& key, const std::string& path) const {
    const json& v = get(obj, key, path);
    if (!v.is_number_integer()) fail(source_, join_path(path, key), fmt::format("expected an integer, got {} {}", v.type_name(), models::printable(v.dump(), 40)));
    return v.get<std::int64_t>();
  }
  std::string string(const json& obj, const std::string& key, const std::string& path) const {
    const json& v = get(obj, key, path);
    if (!v.is_string()) fail(source_, join_path(path, key), fmt::format("expected a string, got {} {}", v.type_name(), models::printable(v.dump(), 40)));
    return v.get<std::string>();
  }
  const json& array(const json& obj, const std::string& key, const std::string& path) const {
    const json& v = get(obj, key, path);
    if (!v.is_array()) fail(source_, join_path(path, key), fmt::format("expected an array, got {}", v.type_name()));
    return v;
  }
  const json& object(const json& obj, const std::string& key, const std::string& path) const {
    const json& v = get(obj, key, path);
    if (!v.is_object()) fail(source_, join_path(path, key), fmt::format("expected an object, got {}", v.type_name()));
    return v;
  }

 private:
  const std::string& source_;
};

std::vector<double> energy_parts(const Fields& f, const json& e, const std::string& path) {
  std::vector<double> parts;
  for (const std::string& c : kEnergyComponents) parts.push_back(f.number(e, c, path));
  return parts;
}

SimulateInput parse_simulate(const json& j, const std::string& source, const std::string& path) {
  const Fields f(source);
  SimulateInput s;
  s.source = source;
  s.hw = f.string(j, "hw", path);
  s.model = f.string(j, "model", path);
  s.executor = f.string(j, "executor", path);
  s.phase = f.string(j, "phase", path);
  s.description = f.string(j, "description", path);
  s.unit = f.string(j, "unit", path);
  s.batch = f.integer(j, "batch", path);
  s.seq = f.integer(j, "seq", path);
  s.tokens = f.integer(j, "tokens", path);
  s.clock_mhz = f.number(j, "clock_mhz", path);
  if (!(s.clock_mhz > 0)) fail(source, join_path(path, "clock_mhz"), fmt::format("{} is not positive", s.clock_mhz));
  s.total_cycles = f.number(j, "total_cycles", path);
  s.latency_ms = f.number(j, "latency_ms", path);
  s.joules = f.number(j, "joules", path);
  s.joules_per_token = f.number_or_nan(j, "joules_per_token", path);
  s.tokens_per_second = f.number_or_nan(j, "tokens_per_second", path);
  s.utilization = f.number(j, "utilization", path);
  const json& e = f.object(j, "energy_pj", path);
  s.energy_pj = energy_parts(f, e, join_path(path, "energy_pj"));
  s.energy_total_pj = f.number(e, "total", join_path(path, "energy_pj"));
  const json& roof = f.object(j, "roofline", path);
  const std::string roof_path = join_path(path, "roofline");
  s.peak_ops_per_s = f.number(roof, "peak_ops_per_s", roof_path);
  s.peak_dram_bytes_per_s = f.number(roof, "peak_dram_bytes_per_s", roof_path);
  s.roofline_fraction = f.number(roof, "fraction_attained", roof_path);
  if (const auto it = j.find("area_mm2"); it != j.end() && !it->is_null()) s.area_mm2 = f.number(j, "area_mm2", path);
  if (const auto it = j.find("notes"); it != j.end() && it->is_array()) {
    for (const json& n : *it)
      if (n.is_string()) s.notes.push_back(n.get<std::string>());
  }
  const json& ops = f.array(j, "ops", path);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const std::string p = join_path(path, fmt::format("ops[{}]", i));
    const json& o = ops[i];
    ReportOp op;
    op.name = f.string(o, "name", p);
    op.kind = f.string(o, "kind", p);
    op.layer = f.integer(o, "layer", p);
    op.cycles = f.number(o, "cycles", p);
    const json& oe = f.object(o, "energy_pj", p);
    op.energy_parts_pj = energy_parts(f, oe, join_path(p, "energy_pj"));
    op.energy_pj = f.number(oe, "total", join_path(p, "energy_pj"));
    const json& r = f.object(o, "roofline", p);
    op.intensity = f.number(r, "intensity_ops_per_byte", join_path(p, "roofline"));
    op.attained_ops_per_s = f.number(r, "attained_ops_per_s", join_path(p, "roofline"));
    op.bound = f.string(r, "bound", join_path(p, "roofline"));
    s.ops.push_back(std::move(op));
  }
  return s;
}

CompareInput parse_compare(const json& j, const std::string& source) {
  const Fields f(source);
  CompareInput c;
  c.source = source;
  c.baseline = f.string(j, "baseline", "");
  for (const json& o : f.array(j, "overrides", ""))
    if (o.is_string()) c.overrides.push_back(o.get<std::string>());
  const json& table = f.array(j, "table", "");
  if (table.empty()) fail(source, "table", "empty (no designs)");
  static constexpr const char* kWhich[] = {"all", "gemm", "linear"};
  for (std::size_t i = 0; i < table.size(); ++i) {
    const std::string p = fmt::format("table[{}]", i);
    CompareRow row;
    row.hw = f.string(table[i], "hw", p);
    row.seconds = f.number(table[i], "seconds", p);
    row.joules = f.number(table[i], "joules", p);
    row.utilization = f.number(table[i], "utilization", p);
    for (int w = 0; w < 3; ++w) {
      row.norm_time[w] = f.number_or_nan(table[i], std::string("norm_time_") + kWhich[w], p);
      row.norm_energy[w] = f.number_or_nan(table[i], std::string("norm_energy_") + kWhich[w], p);
    }
    c.rows.push_back(std::move(row));
  }
  const json& reports = f.array(j, "reports", "");
  if (reports.size() != table.size())
    fail(source, "reports", fmt::format("{} reports for {} table rows", reports.size(), table.size()));
  for (std::size_t i = 0; i < reports.size(); ++i) c.reports.push_back(parse_simulate(reports[i], source, fmt::format("reports[{}]", i)));
  return c;
}

SweepInput parse_pareto(const json& j, const std::string& source) {
  const Fields f(source);
  SweepInput s;
  s.source = source;
  s.front_only = true;
  const json& workloads = f.array(j, "workloads", "");
  for (std::size_t w = 0; w < workloads.size(); ++w) {
    const std::string p = fmt::format("workloads[{}]", w);
    const json& wl = workloads[w];
    const std::string model = f.string(wl, "model", p), phase = f.string(wl, "phase", p);
    const std::int64_t batch = f.integer(wl, "batch", p), seq = f.integer(wl, "seq", p);
    s.points_ok.emplace_back(fmt::format("{}|{}|{}|{}", model, phase, batch, seq), static_cast<std::size_t>(f.integer(wl, "points_ok", p)));
    if (const auto o = wl.find("objectives"); o != wl.end() && o->is_array() && o->size() == 3) s.front_with_area = true;
    const json& front = f.array(wl, "front", p);
    for (std::size_t i = 0; i < front.size(); ++i) {
      const std::string q = fmt::format("{}.front[{}]", p, i);
      SweepRow r;
      r.model = model;
      r.phase = phase;
      r.batch = batch;
      r.seq = seq;
      r.id = f.string(front[i], "id", q);
      r.hw = f.string(front[i], "hw", q);
      const json& params = f.object(front[i], "params", q);
      if (s.param_keys.empty() && s.rows.empty()) {
        for (const auto& [k, _] : params.items()) s.param_keys.push_back(k);
      }
      for (const std::string& k : s.param_keys) {
        const auto it = params.find(k);
        r.params.push_back(it != params.end() && it->is_string() ? it->get<std::string>() : (it != params.end() ? it->dump() : ""));
      }
      r.latency_ms = f.number(front[i], "latency_ms", q);
      r.energy_mj = f.number(front[i], "energy_mj", q);
      r.tokens_per_s = f.number(front[i], "tokens_per_s", q);
      r.mj_per_token = f.number(front[i], "mj_per_token", q);
      r.utilization = f.number(front[i], "utilization", q);
      if (const auto a = front[i].find("area_mm2"); a != front[i].end() && a->is_number()) r.area_mm2 = a->get<double>();
      s.rows.push_back(std::move(r));
    }
  }
  s.has_area = !s.rows.empty() && std::all_of(s.rows.begin(), s.rows.end(), [](const SweepRow& r) { return r.area_mm2.has_value(); });
  return s;
}

const std::vector<std::string> kSweepColumns = {"id", "model", "phase", "batch", "seq", "hw", "status", "latency_ms",
                                                "tokens_per_s", "energy_mj", "mj_per_token", "utilization"};

SweepInput parse_sweep_csv(const std::string& text, const std::string& source) {
  std::vector<std::string> lines;
  {
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(std::move(line));
      start = end + 1;
    }
  }
  const std::vector<std::string> header = split_csv_line(lines[0]);
  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < header.size(); ++i) col.emplace(header[i], i);
  std::vector<std::string> missing;
  for (const std::string& c : kSweepColumns)
    if (col.count(c) == 0) missing.push_back(c);
  if (!missing.empty() || header.empty() || header[0] != "id") {
    fail(source, "header",
         fmt::format("not a mixpe report input: neither JSON with a `schema` key nor a sweep results CSV (header '{}'{})",
                     models::printable(lines[0], 80), missing.empty() ? "" : fmt::format(", missing column '{}'", missing[0])));
  }
  SweepInput s;
  s.source = source;
  const std::size_t c_hw = col["hw"], c_status = col["status"];
  const auto area = col.find("area_mm2");
  s.has_area = area != col.end();
  std::vector<std::size_t> param_cols;
  for (std::size_t c = c_hw + 1; c < c_status; ++c) {
    if (header[c] == "area_mm2") continue;
    param_cols.push_back(c);
    s.param_keys.push_back(header[c]);
  }
  std::set<std::string> seen;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const std::string where = fmt::format("line {}", i + 1);
    const std::vector<std::string> fields = split_csv_line(lines[i]);
    if (fields.size() != header.size()) fail(source, where, fmt::format("{} fields, the header has {}", fields.size(), header.size()));
    const std::string& status = fields[c_status];
    if (status == "error") {
      ++s.error_rows;
      continue;
    }
    if (status == "over_area") {
      ++s.over_area_rows;
      continue;
    }
    if (status != "ok")
      fail(source, where + ": column 'status'", fmt::format("'{}' is not ok, error or over_area", models::printable(status)));
    if (!seen.insert(fields[col["id"]]).second) continue;  // results merged by hand: a point counts once
    auto number = [&](const std::string& name) {
      const std::string& v = fields[col.at(name)];
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(d))
        fail(source, fmt::format("{}: column '{}'", where, name), fmt::format("'{}' is not a number", models::printable(v)));
      return d;
    };
    SweepRow r;
    r.id = fields[col["id"]];
    r.model = fields[col["model"]];
    r.phase = fields[col["phase"]];
    r.hw = fields[c_hw];
    r.batch = static_cast<std::int64_t>(number("batch"));
    r.seq = static_cast<std::int64_t>(number("seq"));
    for (const std::size_t c : param_cols) r.params.push_back(fields[c]);
    r.latency_ms = number("latency_ms");
    r.energy_mj = number("energy_mj");
    r.tokens_per_s = number("tokens_per_s");
    r.mj_per_token = number("mj_per_token");
    r.utilization = number("utilization");
    if (s.has_area && !fields[area->second].empty()) r.area_mm2 = number("area_mm2");
    s.rows.push_back(std::move(r));
  }
  return s;
}

std::string read_input_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) fail(path, "open", "is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "open", std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Unit {
  double scale;  // value in this unit = base value x scale
  std::string name;
};

// The largest unit in which `max_base` is at least 1 (the first when it is 0).
Unit pick_unit(double max_base, const std::vector<Unit>& units_large_to_small) {
  for (const Unit& u : units_large_to_small)
    if (max_base * u.scale >= 1) return u;
  return units_large_to_small.back();
}
Unit energy_unit(double max_pj) {
  return pick_unit(max_pj, {{1e-12, "J"}, {1e-9, "mJ"}, {1e-6, "\xC2\xB5J"}, {1e-3, "nJ"}, {1, "pJ"}});
}
Unit time_unit(double max_seconds) {
  return pick_unit(max_seconds, {{1, "s"}, {1e3, "ms"}, {1e6, "\xC2\xB5s"}, {1e9, "ns"}});
}

std::string html(std::string_view s) { return svg::escape(s); }

std::string fmt_num(double v, int significant = 4) {
  if (!std::isfinite(v)) return "n/a";
  return svg::format_number(v, significant);
}

std::string percent(double part, double whole) {
  if (!(whole > 0)) return "n/a";
  return fmt::format("{:.1f}%", 100.0 * part / whole);
}

const std::string& kind_color(const std::string& kind) {
  static const std::vector<std::string> kKinds = {"linear", "attn_score", "attn_value", "norm", "softmax", "activation", "rotary", "elementwise"};
  const auto it = std::find(kKinds.begin(), kKinds.end(), kind);
  return svg::palette(it == kKinds.end() ? 9 : static_cast<std::size_t>(it - kKinds.begin()));
}

std::vector<std::string> component_colors() {
  // pe, edge, dequant, vector, sram, dram, static
  return {svg::palette(0), svg::palette(4), svg::palette(6), svg::palette(5), svg::palette(2), svg::palette(3), svg::palette(9)};
}

std::string workload_key(const std::string& model, const std::string& phase, std::int64_t batch, std::int64_t seq) {
  return fmt::format("{}|{}|{}|{}", model, phase, batch, seq);
}

std::string workload_text(const std::string& model, const std::string& phase, std::int64_t batch, std::int64_t seq) {
  if (phase == "decode") return fmt::format("{} decode, batch {}, context {}", model, batch, seq);
  if (phase == "forward") return fmt::format("{} forward, batch {}", model, batch);
  return fmt::format("{} {}, batch {}, seq {}", model, phase, batch, seq);
}

std::string basename(const std::string& path) { return fs::path(path).filename().string(); }

class PageBuilder {
 public:
  void begin_section(const std::string& anchor, const std::string& heading, const std::string& intro_html) {
    ++section_;
    toc_ += fmt::format("<li><a href=\"#{}\">{}</a></li>\n", anchor, html(heading));
    body_ += fmt::format("<section id=\"{}\">\n<h2>{}. {}</h2>\n{}\n", anchor, section_, html(heading), intro_html);
  }
  void end_section() { body_ += "</section>\n"; }
  void raw(const std::string& s) { body_ += s; }
  void chart(const svg::Canvas& c, const std::string& title, const std::string& caption) {
    ++figure_;
    ReportChart ch{c.id(), title, caption, c.str(), section_};
    body_ += fmt::format("<figure id=\"fig-{}\">\n{}<figcaption><b>Figure {}.</b> {}</figcaption>\n</figure>\n", c.id(), ch.svg, figure_,
                         html(caption));
    charts_.push_back(std::move(ch));
  }
  std::size_t section() const { return section_; }
  const std::string& toc() const { return toc_; }
  const std::string& body() const { return body_; }
  std::vector<ReportChart>& charts() { return charts_; }

 private:
  std::size_t section_ = 0, figure_ = 0;
  std::string toc_, body_;
  std::vector<ReportChart> charts_;
};

void add_chart(PageBuilder& page, const svg::Canvas& c, const std::string& title, const std::string& caption) {
  page.chart(c, title, caption);
}

std::string table_html(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
                       const std::vector<bool>& numeric, const std::string& cls = "") {
  std::string t = cls.empty() ? "<table>\n<thead><tr>" : fmt::format("<table class=\"{}\">\n<thead><tr>", cls);
  for (std::size_t i = 0; i < head.size(); ++i)
    t += fmt::format("<th{}>{}</th>", i < numeric.size() && numeric[i] ? " class=\"num\"" : "", html(head[i]));
  t += "</tr></thead>\n<tbody>\n";
  for (const std::vector<std::string>& r : rows) {
    t += "<tr>";
    for (std::size_t i = 0; i < r.size(); ++i)
      t += fmt::format("<td{}>{}</td>", i < numeric.size() && numeric[i] ? " class=\"num\"" : "", html(r[i]));
    t += "</tr>\n";
  }
  return t + "</tbody>\n</table>\n";
}

std::string source_line(const std::string& source, const std::string& kind) {
  return fmt::format("<p class=\"source\">Input <code>{}</code> ({})</p>", html(source), html(kind));
}

// "layers.12.q_proj" -> "layers.*.q_proj": the name an op has in every block.
std::string layer_pattern(const std::string& name) {
  std::string out, part;
  auto flush = [&] {
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    out += digits ? "*" : part;
    part.clear();
  };
  for (const char c : name) {
    if (c == '.') {
      flush();
      out += '.';
    } else {
      part += c;
    }
  }
  flush();
  return out;
}

struct OpGroup {
  std::string label, kind, bound;  // label: the op's name, or its layer pattern when it repeats
  std::size_t count = 0;
  double cycles = 0, energy_pj = 0;
  std::vector<double> parts_pj;
};

// Ops with the same layer pattern and kind, summed, in order of first appearance.
std::vector<OpGroup> group_ops(const std::vector<ReportOp>& ops) {
  std::vector<OpGroup> groups;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (const ReportOp& o : ops) {
    const std::string pattern = layer_pattern(o.name);
    const auto [it, fresh] = index.emplace(std::make_pair(pattern, o.kind), groups.size());
    if (fresh) {
      groups.push_back({o.name, o.kind, o.bound, 0, 0, 0, std::vector<double>(kEnergyComponents.size(), 0.0)});
    }
    OpGroup& g = groups[it->second];
    ++g.count;
    g.cycles += o.cycles;
    g.energy_pj += o.energy_pj;
    for (std::size_t c = 0; c < g.parts_pj.size() && c < o.energy_parts_pj.size(); ++c) g.parts_pj[c] += o.energy_parts_pj[c];
    if (g.bound != o.bound) g.bound = "mixed";
    if (g.count == 2) g.label = pattern;
  }
  for (OpGroup& g : groups) {
    if (g.count > 1) g.label += fmt::format(" \xC3\x97{}", g.count);
  }
  return groups;
}

void simulate_charts(PageBuilder& page, const SimulateInput& s, const std::string& prefix) {
  const double cyc_total = s.total_cycles > 0 ? s.total_cycles : 1.0;
  const double clock_hz = s.clock_mhz * 1e6;
  const std::string step = fmt::format("{} on {} ({} executor)", workload_text(s.model, s.phase, s.batch, s.seq), s.hw, s.executor);

  // The same op in every block is one bar (summed): 32 equal down_proj bars would hide the rest.
  const std::vector<OpGroup> groups = group_ops(s.ops);
  std::size_t layers = 1;
  for (const OpGroup& g : groups) layers = std::max(layers, g.count);
  const std::string per_layer_note =
      layers > 1 ? fmt::format(" An op that repeats in every block is one bar, summed over its {} instances (layers.*.name \xC3\x97{}).", layers, layers)
                 : "";

  // Slowest ops.
  std::vector<const OpGroup*> by_cycles;
  for (const OpGroup& g : groups) by_cycles.push_back(&g);
  std::stable_sort(by_cycles.begin(), by_cycles.end(), [](const OpGroup* a, const OpGroup* b) { return a->cycles > b->cycles; });
  by_cycles.resize(std::min(kTopOps, by_cycles.size()));
  std::set<std::string> kinds_shown;
  {
    svg::HBarChart ch;
    ch.id = prefix + "op-latency";
    const Unit u = time_unit(by_cycles.empty() ? 0 : by_cycles[0]->cycles / clock_hz);
    ch.title = fmt::format("Slowest ops: latency (top {} of {}{})", by_cycles.size(), groups.size(), layers > 1 ? ", summed over the layers" : "");
    ch.x_label = fmt::format("latency ({})", u.name);
    for (const OpGroup* g : by_cycles) {
      ch.categories.push_back(g->label);
      ch.values.push_back({g->cycles / clock_hz * u.scale});
      ch.bar_colors.push_back(kind_color(g->kind));
      ch.end_labels.push_back(percent(g->cycles, cyc_total));
      ch.tooltips.push_back(fmt::format("{} ({}, {} op{}): {} cycles, {} {}, {}-bound", g->label, g->kind, g->count, g->count == 1 ? "" : "s",
                                        fmt_num(g->cycles, 6), fmt_num(g->cycles / clock_hz * u.scale), u.name, g->bound));
      kinds_shown.insert(g->kind);
    }
    for (const std::string& k : kinds_shown) ch.legend.push_back({k, kind_color(k)});
    ch.description = step;
    add_chart(page, svg::render(ch), ch.title,
              fmt::format("The {} ops with the most cycles in {}, coloured by op kind; the label right of each bar is its share of the "
                          "step's {} cycles.{} Hover a bar for its cycles and roofline bound.",
                          by_cycles.size(), step, fmt_num(s.total_cycles, 6), per_layer_note));
  }

  // Most energy-hungry ops, split by component.
  {
    std::vector<const OpGroup*> by_energy;
    for (const OpGroup& g : groups) by_energy.push_back(&g);
    std::stable_sort(by_energy.begin(), by_energy.end(), [](const OpGroup* a, const OpGroup* b) { return a->energy_pj > b->energy_pj; });
    by_energy.resize(std::min(kTopOps, by_energy.size()));
    svg::HBarChart ch;
    ch.id = prefix + "op-energy";
    const Unit u = energy_unit(by_energy.empty() ? 0 : by_energy[0]->energy_pj);
    ch.title = fmt::format("Most energy-hungry ops (top {} of {}{})", by_energy.size(), groups.size(), layers > 1 ? ", summed over the layers" : "");
    ch.x_label = fmt::format("energy ({})", u.name);
    ch.series = kEnergyComponents;
    ch.series_colors = component_colors();
    for (const OpGroup* g : by_energy) {
      ch.categories.push_back(g->label);
      std::vector<double> parts;
      for (const double p : g->parts_pj) parts.push_back(p * u.scale);
      ch.values.push_back(std::move(parts));
      ch.end_labels.push_back(percent(g->energy_pj, s.energy_total_pj));
    }
    ch.description = step;
    add_chart(page, svg::render(ch), ch.title,
              fmt::format("The {} ops with the most energy, stacked by component (pe: PE array MACs; edge: edge units; dequant: "
                          "dequantization; vector: vector unit; sram: weight, input and output buffers; dram: off-chip traffic; "
                          "static: leakage over the op's cycles). The label is the op's share of the step's {} {}.{}",
                          by_energy.size(), fmt_num(s.energy_total_pj * energy_unit(s.energy_total_pj).scale),
                          energy_unit(s.energy_total_pj).name, per_layer_note));
  }

  // Energy by component, for the step and per op kind.
  std::map<std::string, std::vector<double>> kind_energy;
  std::map<std::string, double> kind_cycles;
  for (const ReportOp& o : s.ops) {
    std::vector<double>& e = kind_energy[o.kind];
    e.resize(kEnergyComponents.size(), 0.0);
    for (std::size_t c = 0; c < kEnergyComponents.size() && c < o.energy_parts_pj.size(); ++c) e[c] += o.energy_parts_pj[c];
    kind_cycles[o.kind] += o.cycles;
  }
  std::vector<std::string> kinds;
  for (const auto& [k, _] : kind_cycles) kinds.push_back(k);
  std::stable_sort(kinds.begin(), kinds.end(), [&](const std::string& a, const std::string& b) { return kind_cycles[a] > kind_cycles[b]; });
  {
    svg::HBarChart ch;
    ch.id = prefix + "energy-breakdown";
    const Unit u = energy_unit(s.energy_total_pj);
    ch.title = "Energy breakdown by component";
    ch.x_label = fmt::format("energy ({})", u.name);
    ch.series = kEnergyComponents;
    ch.series_colors = component_colors();
    const std::vector<std::string> colors = component_colors();
    for (std::size_t c = 0; c < kEnergyComponents.size(); ++c)
      ch.legend.push_back({fmt::format("{} {}", kEnergyComponents[c], percent(s.energy_pj[c], s.energy_total_pj)), colors[c]});
    ch.categories.push_back("whole step");
    std::vector<double> total;
    for (const double p : s.energy_pj) total.push_back(p * u.scale);
    ch.values.push_back(total);
    ch.end_labels.push_back(fmt::format("{} {}", fmt_num(s.energy_total_pj * u.scale, 3), u.name));
    std::vector<std::pair<double, std::string>> order;
    for (const std::string& k : kinds) {
      double sum = 0;
      for (const double p : kind_energy[k]) sum += p;
      order.emplace_back(sum, k);
    }
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& [sum, k] : order) {
      ch.categories.push_back(k + " ops");
      std::vector<double> parts;
      for (const double p : kind_energy[k]) parts.push_back(p * u.scale);
      ch.values.push_back(std::move(parts));
      ch.end_labels.push_back(percent(sum, s.energy_total_pj));
    }
    ch.row_height = 24;
    ch.description = step;
    add_chart(page, svg::render(ch), ch.title,
              fmt::format("The step's energy ({} {}, {} {} per {}) by component, then the same split for each op kind; legend "
                          "percentages are shares of the whole step. Static energy is leakage over the cycles.",
                          fmt_num(s.energy_total_pj * u.scale), u.name, fmt_num(s.joules_per_token * 1e3), "mJ", s.unit));
  }

  // Time by op kind.
  {
    svg::HBarChart ch;
    ch.id = prefix + "time-by-kind";
    const Unit u = time_unit(kinds.empty() ? 0 : kind_cycles[kinds[0]] / clock_hz);
    ch.title = "Time by op kind";
    ch.x_label = fmt::format("latency ({})", u.name);
    for (const std::string& k : kinds) {
      ch.categories.push_back(k);
      ch.values.push_back({kind_cycles[k] / clock_hz * u.scale});
      ch.bar_colors.push_back(kind_color(k));
      ch.end_labels.push_back(percent(kind_cycles[k], cyc_total));
    }
    ch.description = step;
    add_chart(page, svg::render(ch), ch.title,
              fmt::format("Cycles attributed to each op kind at {} MHz, with its share of the step's latency ({} ms).", fmt_num(s.clock_mhz),
                          fmt_num(s.latency_ms)));
  }

  // Roofline.
  {
    svg::ScatterChart ch;
    ch.id = prefix + "roofline";
    ch.title = "Roofline: attained performance per op";
    ch.x_label = "arithmetic intensity (ops per compulsory DRAM byte)";
    ch.y_label = "attained performance (ops/s)";
    ch.x_log = ch.y_log = true;
    double xlo = 1e300, xhi = 0, ylo = 1e300, yhi = 0;
    std::map<std::string, svg::ScatterSeries> series;
    std::size_t points = 0;
    for (const ReportOp& o : s.ops) {
      if (!(o.intensity > 0) || !(o.attained_ops_per_s > 0) || !std::isfinite(o.intensity) || !std::isfinite(o.attained_ops_per_s)) continue;
      svg::ScatterSeries& ser = series[o.kind];
      ser.name = o.kind;
      ser.color = kind_color(o.kind);
      ser.points.push_back({o.intensity, o.attained_ops_per_s,
                            fmt::format("{} ({}): {} ops/byte, {} ops/s, {}-bound", o.name, o.kind, fmt_num(o.intensity),
                                        fmt_num(o.attained_ops_per_s), o.bound)});
      xlo = std::min(xlo, o.intensity);
      xhi = std::max(xhi, o.intensity);
      ylo = std::min(ylo, o.attained_ops_per_s);
      yhi = std::max(yhi, o.attained_ops_per_s);
      ++points;
    }
    const double peak = s.peak_ops_per_s, bw = s.peak_dram_bytes_per_s;
    const bool roof = peak > 0 && bw > 0;
    const double ridge = roof ? peak / bw : 0;
    if (points == 0) {
      xlo = 0.1;
      xhi = 100;
      ylo = roof ? peak / 1000 : 1;
      yhi = roof ? peak : 10;
    }
    if (roof) {
      xlo = std::min(xlo, ridge);
      xhi = std::max(xhi, ridge);
      yhi = std::max(yhi, peak);
    }
    const auto [x0, x1] = svg::log_domain(xlo / 2, xhi * 2);
    const auto [y0, y1] = svg::log_domain(ylo / 2, yhi * 2);
    ch.x_min = x0;
    ch.x_max = x1;
    ch.y_min = y0;
    ch.y_max = y1;
    if (roof) {
      svg::ScatterSeries r;
      r.name = "roofline (min of peak compute, intensity x DRAM bandwidth)";
      r.color = "#222222";
      r.markers = false;
      r.connect = true;
      r.line_width = 2;
      const double start = std::max(x0, y0 / bw);
      r.points = {{start, std::min(peak, start * bw), ""}};
      if (ridge > start && ridge < x1) r.points.push_back({ridge, peak, ""});
      r.points.push_back({x1, std::min(peak, x1 * bw), ""});
      ch.series.push_back(r);
      // Above the sloped roof nothing can be: the labels go there, left of the ridge, when there is room
      // (about 140 px of a 660 px wide log axis); otherwise above the flat roof at the right end.
      const std::string peak_text = fmt::format("peak {} Tops/s", fmt_num(peak * 1e-12, 3));
      const double px_per_decade = 660 / std::log10(x1 / x0);
      if (std::log10(ridge / x0) * px_per_decade > 150) {
        ch.annotations.push_back({ridge / std::pow(10.0, 10 / px_per_decade), peak, peak_text, svg::Anchor::kEnd, -6});
      } else {
        ch.annotations.push_back({x1 / std::pow(10.0, 6 / px_per_decade), peak, peak_text, svg::Anchor::kEnd, -8});
      }
      const double xm = std::sqrt(start * std::min(ridge, x1));
      ch.annotations.push_back({xm, xm * bw, fmt::format("DRAM {} GB/s", fmt_num(bw * 1e-9, 3)), svg::Anchor::kEnd, -10});
    }
    for (const std::string& k : kinds)
      if (series.count(k)) ch.series.push_back(series[k]);
    ch.description = step;
    add_chart(page, svg::render(ch), ch.title,
              fmt::format("One dot per op ({} of {} ops have both a positive intensity and attained rate), log-log. The roof is the "
                          "array's peak ({} Tops/s = 2 x rows x cols x clock) and the DRAM interface's peak bandwidth ({} GB/s); the "
                          "step attains {} of its roofline time. Vector-unit ops sit lower because their peak is the vector lanes, "
                          "not the array.",
                          points, s.ops.size(), fmt_num(peak * 1e-12, 3), fmt_num(bw * 1e-9, 3), percent(s.roofline_fraction, 1)));
  }
}

std::string simulate_summary(const SimulateInput& s) {
  std::vector<std::vector<std::string>> rows = {
      {"design", s.hw},
      {"model and step", s.description.empty() ? workload_text(s.model, s.phase, s.batch, s.seq) : s.model + ", " + s.description},
      {"executor", s.executor},
      {"latency", fmt::format("{} ms ({} cycles at {} MHz)", fmt_num(s.latency_ms), fmt_num(s.total_cycles, 6), fmt_num(s.clock_mhz))},
      {"throughput", fmt::format("{} {}s/s ({} {}s)", fmt_num(s.tokens_per_second), s.unit, s.tokens, s.unit)},
      {"energy", fmt::format("{} mJ total, {} mJ/{}", fmt_num(s.joules * 1e3), fmt_num(s.joules_per_token * 1e3), s.unit)},
      {"utilization", fmt::format("{:.2f}% of the PE array (useful MACs / PE-cycles)", 100 * s.utilization)},
      {"roofline", fmt::format("{} of the roofline attained (peak {} Tops/s, {} GB/s DRAM)", percent(s.roofline_fraction, 1),
                               fmt_num(s.peak_ops_per_s * 1e-12, 3), fmt_num(s.peak_dram_bytes_per_s * 1e-9, 3))},
      {"ops", fmt::format("{}", s.ops.size())},
  };
  if (s.area_mm2) rows.push_back({"area", fmt::format("{:.4g} mm\xC2\xB2", *s.area_mm2)});
  std::string t = "<table class=\"summary\">\n<tbody>\n";
  for (const auto& r : rows) t += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", html(r[0]), html(r[1]));
  t += "</tbody>\n</table>\n";
  if (!s.notes.empty()) {
    t += "<details class=\"notes\"><summary>Modelling notes</summary><ul>\n";
    for (const std::string& n : s.notes) t += "<li>" + html(n) + "</li>\n";
    t += "</ul></details>\n";
  }
  return t;
}

void add_simulate(PageBuilder& page, const SimulateInput& s) {
  const std::size_t n = page.section() + 1;
  page.begin_section(fmt::format("sim{}", n), fmt::format("Simulate: {} on {}", workload_text(s.model, s.phase, s.batch, s.seq), s.hw),
                     source_line(s.source, "mixpe.simulate/1"));
  page.raw(simulate_summary(s));
  simulate_charts(page, s, fmt::format("sim{}-", n));
  page.end_section();
}

// Labels that tell reports apart: the design, then the executor, then the file when still equal.
std::vector<std::string> distinct_labels(const std::vector<const SimulateInput*>& reports) {
  std::vector<std::string> labels;
  std::map<std::string, int> count;
  for (const SimulateInput* r : reports) ++count[r->hw];
  std::map<std::string, int> count2;
  for (const SimulateInput* r : reports) {
    labels.push_back(count[r->hw] > 1 ? r->hw + " (" + r->executor + ")" : r->hw);
    ++count2[labels.back()];
  }
  for (std::size_t i = 0; i < reports.size(); ++i)
    if (count2[labels[i]] > 1) labels[i] += " " + basename(reports[i]->source);
  return labels;
}

// Latency and energy of several reports of one workload, side by side.
void side_by_side_charts(PageBuilder& page, const std::vector<const SimulateInput*>& reports, const std::string& prefix,
                         const std::string& what) {
  const std::vector<std::string> labels = distinct_labels(reports);
  double max_ms = 0, max_pj = 0;
  for (const SimulateInput* r : reports) {
    max_ms = std::max(max_ms, r->latency_ms);
    max_pj = std::max(max_pj, r->energy_total_pj);
  }
  {
    svg::HBarChart ch;
    ch.id = prefix + "latency";
    const Unit u = time_unit(max_ms * 1e-3);
    ch.title = "Latency per design";
    ch.x_label = fmt::format("step latency ({})", u.name);
    for (std::size_t i = 0; i < reports.size(); ++i) {
      ch.categories.push_back(labels[i]);
      ch.values.push_back({reports[i]->latency_ms * 1e-3 * u.scale});
      ch.bar_colors.push_back(svg::palette(i));
      ch.end_labels.push_back(fmt::format("{} {}, {} {}s/s", fmt_num(reports[i]->latency_ms * 1e-3 * u.scale, 3), u.name,
                                          fmt_num(reports[i]->tokens_per_second, 3), reports[i]->unit));
    }
    ch.row_height = 24;
    ch.description = what;
    add_chart(page, svg::render(ch), ch.title,
              fmt::format("Latency of {} on each design; the label adds the throughput.", what));
  }
  {
    svg::HBarChart ch;
    ch.id = prefix + "energy";
    const Unit u = energy_unit(max_pj);
    ch.title = "Energy per design, by component";
    ch.x_label = fmt::format("step energy ({})", u.name);
    ch.series = kEnergyComponents;
    ch.series_colors = component_colors();
    for (std::size_t i = 0; i < reports.size(); ++i) {
      ch.categories.push_back(labels[i]);
      std::vector<double> parts;
      for (const double p : reports[i]->energy_pj) parts.push_back(p * u.scale);
      ch.values.push_back(std::move(parts));
      ch.end_labels.push_back(fmt::format("{} {}", fmt_num(reports[i]->energy_total_pj * u.scale, 3), u.name));
    }
    ch.row_height = 24;
    ch.description = what;
    add_chart(page, svg::render(ch), ch.title, fmt::format("Energy of {} on each design, stacked by component.", what));
  }
}

void add_compare(PageBuilder& page, const CompareInput& c) {
  const std::size_t n = page.section() + 1;
  const SimulateInput& first = c.reports.front();
  const std::string what = workload_text(first.model, first.phase, first.batch, first.seq);
  std::string intro = source_line(c.source, "mixpe.compare/1") +
                      fmt::format("<p>{} designs on {} ({} executor), normalized to <b>{}</b>{}.</p>", c.rows.size(), html(what),
                                  html(first.executor), html(c.baseline),
                                  c.overrides.empty() ? "" : fmt::format("; every design with <code>{}</code>", html(fmt::format("{}", fmt::join(c.overrides, " ")))));
  page.begin_section(fmt::format("compare{}", n), fmt::format("Compare: {}", what), intro);
  std::vector<std::vector<std::string>> rows;
  for (const CompareRow& r : c.rows) {
    rows.push_back({r.hw, fmt_num(r.seconds * 1e3), fmt_num(r.joules * 1e3), fmt::format("{:.2f}%", 100 * r.utilization),
                    fmt_num(r.norm_time[0], 3), fmt_num(r.norm_energy[0], 3), fmt_num(r.norm_time[1], 3), fmt_num(r.norm_energy[1], 3)});
  }
  page.raw(table_html({"design", "latency ms", "energy mJ", "utilization", "time (all)", "energy (all)", "time (GEMM)", "energy (GEMM)"},
                      rows, {false, true, true, true, true, true, true, true}));
  const std::string prefix = fmt::format("compare{}-", n);
  for (const bool energy : {false, true}) {
    svg::GroupedBarChart ch;
    ch.id = prefix + (energy ? "norm-energy" : "norm-time");
    ch.title = energy ? "Normalized energy per design" : "Normalized time per design";
    ch.y_label = energy ? "normalized energy (baseline = 1)" : "normalized time (baseline = 1)";
    ch.series = {"all ops", "GEMMs (linear + attention)", "linear layers"};
    for (const CompareRow& r : c.rows) {
      ch.categories.push_back(r.hw);
      const double* v = energy ? r.norm_energy : r.norm_time;
      ch.values.push_back({std::isfinite(v[0]) ? v[0] : 0, std::isfinite(v[1]) ? v[1] : 0, std::isfinite(v[2]) ? v[2] : 0});
    }
    ch.reference = 1;
    ch.reference_label = "baseline " + c.baseline + " = 1";
    ch.description = what;
    add_chart(page, svg::render(ch), ch.title,
              fmt::format("{} of all ops, of the GEMMs and of the linear layers on each design, divided by the same quantity on {} "
                          "(dashed line); lower is better.",
                          energy ? "Energy" : "Time", c.baseline));
  }
  std::vector<const SimulateInput*> reports;
  for (const SimulateInput& r : c.reports) reports.push_back(&r);
  side_by_side_charts(page, reports, prefix, what);
  page.end_section();
}

struct SweepGroup {
  std::string model, phase;
  std::int64_t batch = 0, seq = 0;
  std::vector<const SweepRow*> rows;
};

std::string params_text(const SweepInput& s, const SweepRow& r) {
  std::string t;
  for (std::size_t i = 0; i < s.param_keys.size() && i < r.params.size(); ++i) t += (t.empty() ? "" : " ") + s.param_keys[i] + "=" + r.params[i];
  return t;
}

void sweep_scatter(PageBuilder& page, const SweepInput& s, const SweepGroup& g, const std::string& id, bool area, std::size_t points_ok) {
  std::vector<const SweepRow*> rows;
  for (const SweepRow* r : g.rows)
    if (!area || r->area_mm2) rows.push_back(r);
  auto second = [&](const SweepRow* r) { return area ? *r->area_mm2 : r->energy_mj; };
  std::vector<std::vector<double>> obj;
  for (const SweepRow* r : rows) obj.push_back({r->latency_ms, second(r)});
  std::vector<std::size_t> front = s.front_only && !area ? std::vector<std::size_t>() : pareto_front(obj);
  if (s.front_only && !area)
    for (std::size_t i = 0; i < rows.size(); ++i) front.push_back(i);
  std::stable_sort(front.begin(), front.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(rows[a]->latency_ms, obj[a][1]) < std::tie(rows[b]->latency_ms, obj[b][1]);
  });
  const std::set<std::size_t> on_front(front.begin(), front.end());
  const std::string yname = area ? "area" : "energy";
  auto tip = [&](const SweepRow* r) {
    return fmt::format("{} {}: {} ms, {} {}{}", r->hw, params_text(s, *r), fmt_num(r->latency_ms), fmt_num(second(r)), area ? "mm2" : "mJ",
                       area ? "" : fmt::format(", {} tokens/s", fmt_num(r->tokens_per_s)));
  };
  svg::ScatterSeries others{"other ok points", "#7f9cbf", {}};
  others.radius = 3;
  others.mark_class = "point";
  // A .pareto.json front of three objectives is not a curve in any two of them: points, no line.
  const bool front3 = s.front_only && s.front_with_area;
  svg::ScatterSeries fr{front3 ? std::string("Pareto front (latency, energy, area)") : fmt::format("Pareto front (latency, {})", yname),
                        "#e8590c", {}};
  fr.connect = !front3;
  fr.radius = 4.5;
  fr.line_width = 2;
  fr.mark_class = "front";
  double xmin = 1e300, xmax = 0, ymin = 1e300, ymax = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!on_front.count(i)) others.points.push_back({rows[i]->latency_ms, second(rows[i]), tip(rows[i])});
    xmin = std::min(xmin, rows[i]->latency_ms);
    xmax = std::max(xmax, rows[i]->latency_ms);
    ymin = std::min(ymin, second(rows[i]));
    ymax = std::max(ymax, second(rows[i]));
  }
  for (const std::size_t i : front) fr.points.push_back({rows[i]->latency_ms, second(rows[i]), tip(rows[i])});
  svg::ScatterChart ch;
  ch.id = id;
  const std::string what = workload_text(g.model, g.phase, g.batch, g.seq);
  ch.title = fmt::format("{}: latency vs {}", what, yname);
  ch.x_label = "latency (ms)";
  ch.y_label = area ? "area (mm\xC2\xB2)" : "energy (mJ)";
  // Spread over more than 20x: log axes keep the cluster near the origin readable.
  ch.x_log = xmin > 0 && xmax / xmin > 20;
  ch.y_log = ymin > 0 && ymax / ymin > 20;
  if (!others.points.empty()) ch.series.push_back(others);
  ch.series.push_back(fr);
  ch.description = what;
  std::string caption;
  if (s.front_only && !area) {
    caption = fmt::format("The Pareto front of latency, energy{} for {} from {}: {} of the sweep's {} ok points (the others are in the "
                          "results CSV, which was not given){}.",
                          front3 ? " and area" : "", what, basename(s.source), front.size(), points_ok,
                          front3 ? "" : ", connected in latency order");
  } else {
    const std::string axes = ch.x_log && ch.y_log ? "Log axes."
                             : ch.x_log           ? "Log latency axis."
                             : ch.y_log           ? fmt::format("Log {} axis.", yname)
                                                  : "";
    caption = fmt::format("All {} ok points of {}; the Pareto front of latency and {} ({} point{}: no other point is at least as "
                          "good in both and better in one) is highlighted and connected in latency order. {}{}{}Hover a point for "
                          "its design and parameters.",
                          rows.size(), what, yname, front.size(), front.size() == 1 ? "" : "s", axes, axes.empty() ? "" : " ",
                          s.error_rows > 0 && !area ? fmt::format("The sweep file also has {} error rows (not shown). ", s.error_rows) : "");
  }
  add_chart(page, svg::render(ch), ch.title, caption);
  if (!area) {
    std::vector<std::vector<std::string>> table;
    for (std::size_t k = 0; k < front.size() && k < 12; ++k) {
      const SweepRow& r = *rows[front[k]];
      table.push_back({r.hw, params_text(s, r), fmt_num(r.latency_ms), fmt_num(r.energy_mj), fmt_num(r.tokens_per_s),
                       fmt::format("{:.2f}%", 100 * r.utilization)});
    }
    page.raw(fmt::format("<p class=\"table-title\">Pareto front of {}{}</p>\n", html(what),
                         front.size() > 12 ? fmt::format(" (first 12 of {} by latency)", front.size()) : ""));
    page.raw(table_html({"design", "parameters", "latency ms", "energy mJ", "tokens/s", "utilization"}, table,
                        {false, false, true, true, true, true}));
  }
}

void add_sweep(PageBuilder& page, const SweepInput& s) {
  const std::size_t n = page.section() + 1;
  std::map<std::tuple<std::string, std::string, std::int64_t, std::int64_t>, SweepGroup> groups;
  for (const SweepRow& r : s.rows) {
    SweepGroup& g = groups[{r.model, r.phase, r.batch, r.seq}];
    g.model = r.model;
    g.phase = r.phase;
    g.batch = r.batch;
    g.seq = r.seq;
    g.rows.push_back(&r);
  }
  const std::string kind = s.front_only ? "mixpe.sweep_pareto/2" : "sweep results CSV";
  std::string intro = source_line(s.source, kind);
  intro += fmt::format("<p>{} {} in {} workload{}; varied: {}.{}{}</p>", s.rows.size(), s.front_only ? "Pareto-front points" : "ok points",
                       groups.size(), groups.size() == 1 ? "" : "s",
                       s.param_keys.empty() ? std::string("nothing") : html(fmt::format("{}", fmt::join(s.param_keys, ", "))),
                       s.error_rows > 0 ? fmt::format(" Error rows (status error, not shown): {}.", s.error_rows) : "",
                       s.over_area_rows > 0 ? fmt::format(" Over the area constraint (status over_area, not shown): {}.", s.over_area_rows) : "");
  page.begin_section(fmt::format("sweep{}", n), fmt::format("Sweep: {}", basename(s.source)), intro);
  std::size_t w = 0;
  for (const auto& [key, g] : groups) {
    ++w;
    std::size_t points_ok = g.rows.size();
    for (const auto& [k, count] : s.points_ok)
      if (k == workload_key(g.model, g.phase, g.batch, g.seq)) points_ok = count;
    sweep_scatter(page, s, g, fmt::format("sweep{}-w{}-latency-energy", n, w), false, points_ok);
    if (s.has_area) sweep_scatter(page, s, g, fmt::format("sweep{}-w{}-latency-area", n, w), true, points_ok);
  }
  if (groups.empty()) page.raw("<p>No ok points to plot.</p>\n");
  page.end_section();
}

const char* kCss = R"(:root{color-scheme:light}
body{margin:0;background:#f5f6f8;color:#1d1f23;font:15px/1.5 "DejaVu Sans",Helvetica,Arial,sans-serif}
main{max-width:1000px;margin:0 auto;padding:16px 28px 48px}
h1{font-size:26px;margin:12px 0 4px}
h2{font-size:20px;margin:0 0 6px}
.meta{color:#555;font-size:13px;margin:0 0 8px}
nav{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:8px 18px;margin:14px 0}
nav ol{margin:4px 0;padding-left:22px}
nav a{color:#1f5fa8;text-decoration:none}
section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:18px 22px;margin:20px 0}
.source{color:#555;font-size:13px;margin:2px 0 10px}
code{font-size:12.5px;background:#f1f3f5;padding:1px 4px;border-radius:3px}
figure{margin:20px 0 26px}
figure svg{display:block;max-width:100%;height:auto;border:1px solid #eceef1;border-radius:4px}
figcaption{font-size:13px;color:#3c4046;margin-top:6px;max-width:760px}
table{border-collapse:collapse;font-size:13.5px;margin:8px 0 14px}
th,td{padding:4px 10px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
thead th{background:#f1f3f5;font-weight:600;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums}
table.summary th{color:#444;font-weight:600;white-space:nowrap}
.table-title{font-weight:600;font-size:14px;margin:4px 0 0}
details.notes{font-size:13px;color:#3c4046;margin:6px 0 10px}
details.notes ul{margin:4px 0;padding-left:20px}
)";

}  // namespace

ReportInput parse_report_input(const std::string& text, const std::string& source) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) fail(source, "content", "empty file");
  if (text[first] == '{' || text[first] == '[') {
    json j;
    try {
      j = json::parse(text);
    } catch (const json::parse_error& e) {
      fail(source, "JSON", fmt::format("malformed at byte {}: {}", e.byte, e.what()));
    }
    if (!j.is_object()) fail(source, "(top level)", fmt::format("expected a JSON object, got {}", j.type_name()));
    const auto it = j.find("schema");
    if (it == j.end())
      fail(source, "schema", fmt::format("missing: not a mixpe report (expected {}, {} or {})", kSimulateSchema, kCompareSchema, kParetoSchema));
    if (!it->is_string()) fail(source, "schema", fmt::format("expected a string, got {}", it->type_name()));
    const std::string schema = it->get<std::string>();
    if (schema == kSimulateSchema) return parse_simulate(j, source, "");
    if (schema == kCompareSchema) return parse_compare(j, source);
    if (schema == kParetoSchema || schema == "mixpe.sweep_pareto/1") return parse_pareto(j, source);  // /1: no areas
    fail(source, "schema", fmt::format("unknown '{}' (expected {}, {} or {})", models::printable(schema), kSimulateSchema, kCompareSchema, kParetoSchema));
  }
  return parse_sweep_csv(text, source);
}

ReportInput load_report_input(const std::string& path) { return parse_report_input(read_input_file(path), path); }

ReportPage build_report(const std::vector<ReportInput>& inputs, const std::string& title) {
  // A .pareto.json next to a results CSV that is also an input adds nothing the CSV's section lacks.
  std::set<std::string> csvs;
  for (const ReportInput& in : inputs) {
    if (const auto* s = std::get_if<SweepInput>(&in); s != nullptr && !s->front_only) csvs.insert(fs::weakly_canonical(s->source).string());
  }
  PageBuilder page;
  std::vector<std::string> skipped;
  std::vector<const SimulateInput*> sims;
  std::string inputs_list;
  for (const ReportInput& in : inputs) {
    if (const auto* s = std::get_if<SimulateInput>(&in)) {
      add_simulate(page, *s);
      sims.push_back(s);
    } else if (const auto* c = std::get_if<CompareInput>(&in)) {
      add_compare(page, *c);
    } else if (const auto* w = std::get_if<SweepInput>(&in)) {
      if (w->front_only) {
        std::string stem = w->source;
        const std::string suffix = ".pareto.json";
        if (stem.size() > suffix.size() && stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0) {
          stem.resize(stem.size() - suffix.size());
          if (csvs.count(fs::weakly_canonical(stem + ".csv").string())) {
            skipped.push_back(w->source);
            continue;
          }
        }
      }
      add_sweep(page, *w);
    }
  }
  // Side by side: simulate inputs that share a workload.
  std::map<std::string, std::vector<const SimulateInput*>> by_workload;
  std::vector<std::string> order;
  for (const SimulateInput* s : sims) {
    const std::string key = workload_key(s->model, s->phase, s->batch, s->seq);
    if (by_workload[key].empty()) order.push_back(key);
    by_workload[key].push_back(s);
  }
  for (const std::string& key : order) {
    const std::vector<const SimulateInput*>& group = by_workload[key];
    if (group.size() < 2) continue;
    const std::size_t n = page.section() + 1;
    const std::string what = workload_text(group[0]->model, group[0]->phase, group[0]->batch, group[0]->seq);
    std::string files;
    for (const SimulateInput* s : group) files += (files.empty() ? "" : ", ") + fmt::format("<code>{}</code>", html(s->source));
    page.begin_section(fmt::format("shared{}", n), fmt::format("Side by side: {}", what),
                       fmt::format("<p class=\"source\">{} simulate inputs of this workload: {}</p>", group.size(), files));
    std::vector<std::vector<std::string>> rows;
    const std::vector<std::string> labels = distinct_labels(group);
    for (std::size_t i = 0; i < group.size(); ++i) {
      const SimulateInput& s = *group[i];
      rows.push_back({labels[i], fmt_num(s.latency_ms), fmt_num(s.tokens_per_second), fmt_num(s.joules_per_token * 1e3),
                      fmt::format("{:.2f}%", 100 * s.utilization)});
    }
    page.raw(table_html({"design", "latency ms", group[0]->unit + "s/s", "mJ/" + group[0]->unit, "utilization"}, rows,
                        {false, true, true, true, true}));
    side_by_side_charts(page, group, fmt::format("shared{}-", n), what);
    page.end_section();
  }

  std::string list;
  for (const ReportInput& in : inputs) {
    std::visit([&](const auto& v) { list += (list.empty() ? "" : ", ") + fmt::format("<code>{}</code>", html(v.source)); }, in);
  }
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"color-scheme\" content=\"light\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>{}</title>\n<style>\n{}</style>\n</head>\n<body>\n<main>\n", html(title), kCss);
  out += fmt::format("<header>\n<h1>{}</h1>\n<p class=\"meta\">mixpe report of {} input{}: {}.{}</p>\n</header>\n", html(title),
                     inputs.size(), inputs.size() == 1 ? "" : "s", list,
                     skipped.empty() ? "" : fmt::format(" {} shown through {} results CSV{}.", skipped.size() == 1 ? "The Pareto file is" : "The Pareto files are",
                                                        skipped.size() == 1 ? "its" : "their", skipped.size() == 1 ? "" : "s"));
  out += "<nav>\n<ol>\n" + page.toc() + "</ol>\n</nav>\n";
  out += page.body();
  out += "</main>\n</body>\n</html>\n";
  return {std::move(out), std::move(page.charts())};
}

std::string standalone_svg(const ReportChart& chart) { return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + chart.svg; }

std::vector<std::string> write_report(const ReportPage& page, const std::string& html_path, const std::string& svg_dir) {
  std::vector<std::string> written;
  if (!svg_dir.empty()) {
    std::error_code ec;
    fs::create_directories(svg_dir, ec);
    if (ec) throw std::runtime_error(fmt::format("{}: cannot create the SVG directory: {}", svg_dir, ec.message()));
    for (const ReportChart& c : page.charts) {
      const std::string p = (fs::path(svg_dir) / (c.id + ".svg")).string();
      write_file_atomic(p, standalone_svg(c));
      written.push_back(p);
    }
  }
  write_file_atomic(html_path, page.html);
  written.push_back(html_path);
  return written;
}

}  // namespace mixpe::runtime
