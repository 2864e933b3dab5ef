// Sweep specs, point expansion, the resumable results CSV, the thread pool and the Pareto front.
#include "runtime/sweep.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "runtime/executor.h"
#include "runtime/model_source.h"
#include "runtime/report.h"
#include "runtime/study.h"
#include "sim/area.h"
#include "sim/config.h"

namespace mixpe::runtime {
namespace {

namespace fs = std::filesystem;

// A range may not expand to more values than this (a typo in `step` should not hang the sweep).
constexpr std::size_t kMaxRangeValues = 100000;
// Columns before the varied keys and after them.
const std::vector<std::string> kLeadColumns = {"id", "model", "phase", "batch", "seq", "hw"};
const std::vector<std::string> kTailColumns = {"status",       "latency_ms",  "tokens_per_s", "energy_mj",
                                               "mj_per_token", "utilization", "area_mm2",     "error"};
// Where area_mm2 stands among kTailColumns.
const std::size_t kAreaTail =
    static_cast<std::size_t>(std::find(kTailColumns.begin(), kTailColumns.end(), "area_mm2") - kTailColumns.begin());

[[noreturn]] void spec_error(const std::string& source, const std::string& key, const std::string& value, const std::string& why) {
  throw std::invalid_argument(fmt::format("{}: key '{}' = '{}': {}", source, key, value, why));
}

// A node as it would appear in the spec, on one line (for messages).
std::string node_text(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "";
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

// A scalar or a non-empty sequence of scalars.
std::vector<std::string> scalar_list(const YAML::Node& n, const std::string& source, const std::string& key) {
  if (n.IsScalar()) return {n.Scalar()};
  if (!n.IsSequence()) spec_error(source, key, node_text(n), "expected a value or a list of values");
  if (n.size() == 0) spec_error(source, key, "[]", "empty list (give at least one value)");
  std::vector<std::string> out;
  for (const auto& v : n) {
    if (!v.IsScalar()) spec_error(source, key, node_text(v), "list entries must be single values");
    out.push_back(v.Scalar());
  }
  return out;
}

int parse_count(const std::string& source, const std::string& key, const std::string& v) {
  int out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) spec_error(source, key, v, "not an integer");
  if (out < 1 || out > (1 << 24)) spec_error(source, key, v, "out of range [1, 16777216]");
  return out;
}

bool parse_int64(const std::string& s, std::int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

double parse_number(const std::string& where, const std::string& key, const std::string& field, const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
    spec_error(where, key + "." + field, s, "not a finite number");
  return v;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// The id hashes what determines the result (workload, base design, every override) with keys
// sorted, so reordering the spec's keys keeps the ids.
std::string point_id(const SweepSpec& spec, std::size_t workload, std::size_t hw, const std::vector<std::string>& values) {
  const SweepWorkload& w = spec.workloads[workload];
  std::string canon = fmt::format("model={}\nphase={}\nbatch={}\nseq={}\nhw={}\n", w.model, w.phase, w.batch, w.seq, spec.hw[hw]);
  std::vector<std::string> fixed = spec.fixed;
  std::sort(fixed.begin(), fixed.end());
  for (const std::string& f : fixed) canon += "set " + f + "\n";
  std::vector<std::string> varied;
  for (std::size_t k = 0; k < spec.vary_keys.size(); ++k) varied.push_back(spec.vary_keys[k] + "=" + values[k]);
  std::sort(varied.begin(), varied.end());
  for (const std::string& v : varied) canon += "vary " + v + "\n";
  return fmt::format("{:016x}", fnv1a(canon));
}

bool known_hw_key(const std::string& key) {
  static const std::vector<sim::ParamInfo> params = sim::describe_parameters();
  return std::any_of(params.begin(), params.end(), [&](const sim::ParamInfo& p) { return p.key == key; });
}

Workload build_workload(const SweepWorkload& w, const std::string& source) {
  const std::string what = fmt::format("{}: workload model '{}' phase '{}' batch {} seq {}", source, w.model, w.phase, w.batch, w.seq);
  try {
    WorkloadOptions o;
    o.model = w.model;
    o.phase = w.phase;
    o.batch = w.batch;
    o.seq = w.seq;
    return make_workload(o);
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("{}: {}", what, e.what()));
  }
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string format_number(double v) { return fmt::format("{:.10g}", v); }

}  // namespace

std::vector<std::string> expand_range(const std::string& from, const std::string& to, const std::string& step,
                                      const std::string& factor, const std::string& where, const std::string& key) {
  if (from.empty() || to.empty()) spec_error(where, key, fmt::format("{{from: {}, to: {}}}", from, to), "a range needs both from and to");
  if (step.empty() == factor.empty())
    spec_error(where, key, fmt::format("{{from: {}, to: {}, step: {}, factor: {}}}", from, to, step, factor),
               "a range needs exactly one of step (arithmetic) or factor (geometric)");
  const std::string& by = step.empty() ? factor : step;
  const std::string by_name = step.empty() ? "factor" : "step";
  const double f = parse_number(where, key, "from", from), t = parse_number(where, key, "to", to);
  const double b = parse_number(where, key, by_name, by);
  if (f > t) spec_error(where, key + ".from", from, fmt::format("is above to ({})", to));
  if (!step.empty() && b <= 0) spec_error(where, key + ".step", step, "must be positive");
  if (!factor.empty() && b <= 1) spec_error(where, key + ".factor", factor, "must be above 1");
  if (!factor.empty() && f <= 0) spec_error(where, key + ".from", from, "a geometric range must start above 0");
  std::vector<std::string> out;
  auto push = [&](std::string v) {
    if (out.size() >= kMaxRangeValues)
      spec_error(where, key, fmt::format("{{from: {}, to: {}, {}: {}}}", from, to, by_name, by),
                 fmt::format("expands to more than {} values", kMaxRangeValues));
    out.push_back(std::move(v));
  };
  std::int64_t fi = 0, ti = 0, bi = 0;
  if (parse_int64(from, fi) && parse_int64(to, ti) && parse_int64(by, bi)) {
    // Integer bounds give integer values (what int keys such as array.rows accept).
    for (std::int64_t v = fi; v <= ti;) {
      push(std::to_string(v));
      if (step.empty() ? v > ti / bi : v > ti - bi) break;  // next value would pass `to` (or overflow)
      v = step.empty() ? v * bi : v + bi;
    }
    return out;
  }
  // Values from the bounds, not by accumulation, so 0.1 steps do not drift past `to`.
  const double slack = 1e-9 * std::max({std::fabs(f), std::fabs(t), std::fabs(b)});
  for (std::size_t i = 0;; ++i) {
    const double v = step.empty() ? f * std::pow(b, static_cast<double>(i)) : f + static_cast<double>(i) * b;
    if (v > t + slack) break;
    push(fmt::format("{:.12g}", v));  // 12 digits: 0.1 + 2 * 0.1 prints as 0.3
  }
  return out;
}

SweepSpec parse_sweep_spec(const std::string& yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(fmt::format("{}: YAML syntax error: {}", source, e.what()));
  }
  if (!root.IsMap()) throw std::invalid_argument(fmt::format("{}: top level must be a mapping with workloads, hw and vary", source));
  SweepSpec spec;
  spec.source = source;
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (key != "workloads" && key != "hw" && key != "vary" && key != "set" && key != "constraints")
      spec_error(source, key, node_text(kv.second), "unknown top-level key (expected workloads, hw, set, vary, constraints)");
  }
  if (!root["workloads"]) spec_error(source, "workloads", "", "missing (a list of {model, phase, batch, seq})");
  if (!root["hw"]) spec_error(source, "hw", "", "missing (a hardware preset or .yaml file, or a list of them)");

  const YAML::Node workloads = root["workloads"];
  if (!workloads.IsSequence() || workloads.size() == 0)
    spec_error(source, "workloads", node_text(workloads), "expected a non-empty list of {model, phase, batch, seq}");
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    const YAML::Node w = workloads[i];
    const std::string where = fmt::format("workloads[{}]", i);
    if (!w.IsMap()) spec_error(source, where, node_text(w), "expected a mapping {model, phase, batch, seq}");
    for (const auto& kv : w) {
      const std::string k = kv.first.Scalar();
      if (k != "model" && k != "phase" && k != "batch" && k != "seq")
        spec_error(source, where + "." + k, node_text(kv.second), "unknown workload key (expected model, phase, batch, seq)");
    }
    if (!w["model"]) spec_error(source, where + ".model", "", "missing");
    const std::vector<std::string> models = scalar_list(w["model"], source, where + ".model");
    const std::vector<std::string> phases = w["phase"] ? scalar_list(w["phase"], source, where + ".phase") : std::vector<std::string>{"prefill"};
    std::vector<int> batches = {1}, seqs = {64};
    if (w["batch"]) {
      batches.clear();
      for (const std::string& b : scalar_list(w["batch"], source, where + ".batch")) batches.push_back(parse_count(source, where + ".batch", b));
    }
    if (w["seq"]) {
      seqs.clear();
      for (const std::string& s : scalar_list(w["seq"], source, where + ".seq")) seqs.push_back(parse_count(source, where + ".seq", s));
    }
    for (const std::string& p : phases)
      if (p != "prefill" && p != "decode") spec_error(source, where + ".phase", p, "expected prefill or decode");
    for (const std::string& m : models) {
      if (m.empty()) spec_error(source, where + ".model", m, "must not be empty");
      for (const std::string& p : phases)
        for (int b : batches)
          for (int s : seqs) spec.workloads.push_back({m, p, b, s});
    }
  }

  spec.hw = scalar_list(root["hw"], source, "hw");
  for (const std::string& h : spec.hw)
    if (h.empty()) spec_error(source, "hw", h, "must not be empty");

  std::set<std::string> fixed_keys;
  if (const YAML::Node set = root["set"]) {
    if (!set.IsMap()) spec_error(source, "set", node_text(set), "expected a mapping from hardware key to one value");
    for (const auto& kv : set) {
      const std::string k = kv.first.Scalar();
      if (!known_hw_key(k)) spec_error(source, "set." + k, node_text(kv.second), "unknown hardware key (see `mixpe hw keys`)");
      if (!kv.second.IsScalar()) spec_error(source, "set." + k, node_text(kv.second), "expected one value (use vary: for several)");
      spec.fixed.push_back(k + "=" + kv.second.Scalar());
      fixed_keys.insert(k);
    }
  }

  if (const YAML::Node c = root["constraints"]) {
    if (!c.IsMap()) spec_error(source, "constraints", node_text(c), "expected a mapping {max_area_mm2}");
    for (const auto& kv : c) {
      const std::string k = kv.first.Scalar();
      if (k != "max_area_mm2") spec_error(source, "constraints." + k, node_text(kv.second), "unknown constraint (expected max_area_mm2)");
      if (!kv.second.IsScalar()) spec_error(source, "constraints." + k, node_text(kv.second), "expected mm2 or a design whose area to take");
      try {
        spec.max_area_mm2 = parse_iso_area(kv.second.Scalar(), {});
      } catch (const std::exception& e) {
        spec_error(source, "constraints." + k, kv.second.Scalar(), e.what());
      }
    }
  }

  if (const YAML::Node vary = root["vary"]) {
    if (!vary.IsMap()) spec_error(source, "vary", node_text(vary), "expected a mapping from hardware key to values or a range");
    for (const auto& kv : vary) {
      const std::string k = kv.first.Scalar();
      const YAML::Node v = kv.second;
      if (!known_hw_key(k)) spec_error(source, "vary." + k, node_text(v), "unknown hardware key (see `mixpe hw keys`)");
      if (fixed_keys.count(k) != 0) spec_error(source, "vary." + k, node_text(v), "also under set: (give it in one place)");
      if (std::find(spec.vary_keys.begin(), spec.vary_keys.end(), k) != spec.vary_keys.end())
        spec_error(source, "vary." + k, node_text(v), "given twice");
      std::vector<std::string> values;
      if (v.IsMap()) {
        std::map<std::string, std::string> r;
        for (const auto& rk : v) {
          const std::string f = rk.first.Scalar();
          if (f != "from" && f != "to" && f != "step" && f != "factor")
            spec_error(source, "vary." + k + "." + f, node_text(rk.second), "unknown range key (expected from, to, step or factor)");
          if (!rk.second.IsScalar()) spec_error(source, "vary." + k + "." + f, node_text(rk.second), "expected a number");
          r[f] = rk.second.Scalar();
        }
        values = expand_range(r["from"], r["to"], r["step"], r["factor"], source, "vary." + k);
      } else {
        values = scalar_list(v, source, "vary." + k);
      }
      spec.vary_keys.push_back(k);
      spec.vary_values.push_back(std::move(values));
    }
  }
  return spec;
}

SweepSpec load_sweep_spec(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(fmt::format("{}: cannot open sweep spec", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_sweep_spec(ss.str(), path);
}

std::vector<SweepPoint> expand_points(const SweepSpec& spec) {
  std::vector<SweepPoint> out;
  std::unordered_set<std::string> seen;
  const std::size_t nk = spec.vary_keys.size();
  for (std::size_t w = 0; w < spec.workloads.size(); ++w) {
    for (std::size_t h = 0; h < spec.hw.size(); ++h) {
      // An odometer over the varied keys, the last key turning fastest.
      std::vector<std::size_t> digit(nk, 0);
      for (;;) {
        SweepPoint p;
        p.workload = w;
        p.hw = h;
        for (std::size_t k = 0; k < nk; ++k) p.values.push_back(spec.vary_values[k][digit[k]]);
        p.id = point_id(spec, w, h, p.values);
        if (seen.insert(p.id).second) out.push_back(std::move(p));
        std::size_t k = nk;
        while (k > 0 && ++digit[k - 1] == spec.vary_values[k - 1].size()) digit[--k] = 0;
        if (k == 0) break;
      }
    }
  }
  return out;
}

std::vector<std::string> sweep_header(const SweepSpec& spec) {
  std::vector<std::string> h = kLeadColumns;
  h.insert(h.end(), spec.vary_keys.begin(), spec.vary_keys.end());
  h.insert(h.end(), kTailColumns.begin(), kTailColumns.end());
  return h;
}

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\n\r") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (const char c : f) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    out += '"';
  }
  return out;
}

std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::vector<std::size_t> pareto_front(const std::vector<std::vector<double>>& objectives) {
  auto dominates = [](const std::vector<double>& a, const std::vector<double>& b) {
    assert(a.size() == b.size());
    bool strict = false;
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (a[k] > b[k]) return false;
      strict = strict || a[k] < b[k];
    }
    return strict;
  };
  // A dominating point sorts lexicographically before the point it dominates, and domination is
  // transitive: in that order, comparing each point with the front found so far is enough.
  std::vector<std::size_t> order(objectives.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return objectives[a] < objectives[b]; });
  std::vector<std::size_t> front;
  for (const std::size_t i : order) {
    const bool dominated = std::any_of(front.begin(), front.end(), [&](std::size_t f) { return dominates(objectives[f], objectives[i]); });
    if (!dominated) front.push_back(i);
  }
  std::sort(front.begin(), front.end());
  return front;
}

SweepPointRunner::SweepPointRunner(const SweepSpec& spec) : spec_(spec) {
  for (const SweepWorkload& w : spec.workloads) workloads_.push_back(build_workload(w, spec.source));
  for (const std::string& h : spec.hw) {
    try {
      sim::load_config(h);
    } catch (const std::exception& e) {
      spec_error(spec.source, "hw", h, e.what());
    }
  }
}

std::vector<std::string> SweepPointRunner::row(const SweepPoint& p) const {
  const SweepWorkload& w = spec_.workloads[p.workload];
  std::vector<std::string> row = {p.id, w.model, w.phase, std::to_string(w.batch), std::to_string(w.seq), spec_.hw[p.hw]};
  row.insert(row.end(), p.values.begin(), p.values.end());
  try {
    std::vector<std::string> overrides = spec_.fixed;
    for (std::size_t k = 0; k < spec_.vary_keys.size(); ++k) overrides.push_back(spec_.vary_keys[k] + "=" + p.values[k]);
    const sim::AcceleratorConfig cfg = sim::load_config(spec_.hw[p.hw], overrides);
    if (spec_.max_area_mm2 > 0) {
      // Checked before simulating: the point of the constraint is not to spend time on such designs.
      const double area = sim::estimate_area(cfg).total_mm2();
      if (area > spec_.max_area_mm2) {
        for (const std::string& v : {std::string("over_area"), std::string(), std::string(), std::string(), std::string(),
                                     std::string(), format_number(area),
                                     fmt::format("area {:.4f} mm2 > constraints.max_area_mm2 = {:.4f}", area, spec_.max_area_mm2)})
          row.push_back(v);
        return row;
      }
    }
    const SimulationReport rep = simulate(workloads_[p.workload], cfg, ExecutorKind::kAnalytic);
    const double s = rep.seconds(), j = rep.joules(), units = static_cast<double>(rep.tokens);
    for (const std::string& v : {std::string("ok"), format_number(s * 1e3), format_number(units / s), format_number(j * 1e3),
                                 format_number(j * 1e3 / units), format_number(rep.utilization),
                                 rep.area_mm2 > 0 ? format_number(rep.area_mm2) : std::string(), std::string()})
      row.push_back(v);
  } catch (const std::exception& e) {
    for (const std::string& v : {std::string("error"), std::string(), std::string(), std::string(), std::string(), std::string(),
                                 std::string(), one_line(e.what())})
      row.push_back(v);
  }
  return row;
}

std::size_t sweep_status_column(const SweepSpec& spec) { return kLeadColumns.size() + spec.vary_keys.size(); }

SweepResultsFile::SweepResultsFile(const SweepSpec& spec, const std::string& csv_path) : path_(csv_path) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error(fmt::format("{}: cannot open for appending: {}", path_, std::strerror(errno)));
  // The lock is taken before the ids are read: a second sweep on the same file would run the
  // same points again.
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    throw std::runtime_error(err == EWOULDBLOCK ? fmt::format("{}: another mixpe sweep is writing this file", path_)
                                                : fmt::format("{}: cannot lock: {}", path_, std::strerror(err)));
  }
  try {
    // Resume: ids already in the file are done; its header must be this spec's.
    const std::vector<std::string> header = sweep_header(spec);
    const std::string header_line = csv_line(header);
    std::string text = read_text_file(csv_path);
    if (!text.empty() && text.back() != '\n') {
      const std::size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
      torn_bytes_ = text.size() - keep;
      if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0)
        throw std::runtime_error(fmt::format("{}: cannot cut the incomplete last line: {}", path_, std::strerror(errno)));
      text.resize(keep);
    }
    const std::vector<std::string> lines = split_lines(text);
    if (lines.empty()) {
      write_line(header_line + "\n");
    } else {
      if (lines[0] != header_line)
        throw std::runtime_error(fmt::format("{}: its header is not this sweep's (found '{}', the spec {} gives '{}'); "
                                             "write to another file or remove it",
                                             csv_path, lines[0], spec.source, header_line));
      for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::vector<std::string> fields = split_csv_line(lines[i]);
        if (fields.size() != header.size())
          throw std::runtime_error(fmt::format("{}: line {} has {} fields, the header {}", csv_path, i + 1, fields.size(), header.size()));
        // A point skipped for its area stays skipped only while the spec's bound still excludes it.
        const std::size_t status = sweep_status_column(spec);
        if (fields[status] == "over_area") {
          const std::string& area = fields[status + kAreaTail];
          char* end = nullptr;
          const double a = std::strtod(area.c_str(), &end);
          if (!(spec.max_area_mm2 > 0 && !area.empty() && end == area.c_str() + area.size() && a > spec.max_area_mm2)) continue;
        }
        done_.insert(fields[0]);
      }
    }
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

SweepResultsFile::~SweepResultsFile() { ::close(fd_); }

void SweepResultsFile::append(const std::vector<std::string>& row) { write_line(csv_line(row) + "\n"); }

// One write() per line on an O_APPEND descriptor, then fdatasync, so an interrupted sweep leaves
// only complete lines behind.
void SweepResultsFile::write_line(const std::string& line) {
  std::size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
    off += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) throw std::runtime_error(fmt::format("{}: fdatasync failed: {}", path_, std::strerror(errno)));
}

SweepSummary run_sweep(const SweepSpec& spec, const std::string& csv_path, const SweepOptions& options) {
  const std::vector<SweepPoint> points = expand_points(spec);
  SweepSummary summary;
  summary.points = points.size();

  // Workloads and base designs are checked before anything is written: they are spec errors.
  const SweepPointRunner runner(spec);
  SweepResultsFile out(spec, csv_path);
  summary.torn_bytes = out.torn_bytes();
  std::vector<const SweepPoint*> todo;
  for (const SweepPoint& p : points) {
    if (out.done(p.id)) {
      ++summary.skipped;
    } else {
      todo.push_back(&p);
    }
  }

  const std::size_t status_column = sweep_status_column(spec);
  const auto t0 = std::chrono::steady_clock::now();
  std::mutex mu;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr failure;
  auto worker = [&] {
    while (!stop.load()) {
      const std::size_t i = next.fetch_add(1);
      if (i >= todo.size()) return;
      const std::vector<std::string> row = runner.row(*todo[i]);
      const std::lock_guard<std::mutex> lock(mu);
      try {
        out.append(row);
      } catch (...) {
        if (!failure) failure = std::current_exception();
        stop.store(true);
        return;
      }
      ++summary.ran;
      if (row[status_column] == "error") ++summary.errors;
      if (options.progress) {
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        options.progress(summary.ran, todo.size(), secs > 0 ? static_cast<double>(summary.ran) / secs : 0.0);
      }
    }
  };
  const std::size_t jobs = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(options.jobs, 1)), 1, std::max<std::size_t>(todo.size(), 1));
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

std::vector<std::string> write_pareto_files(const std::string& csv_path) {
  const std::vector<std::string> lines = split_lines(read_text_file(csv_path));
  if (lines.empty()) throw std::runtime_error(fmt::format("{}: empty (no header)", csv_path));
  const std::vector<std::string> header = split_csv_line(lines[0]);
  auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) throw std::runtime_error(fmt::format("{}: no column '{}' in the header", csv_path, name));
    return static_cast<std::size_t>(it - header.begin());
  };
  const std::size_t c_id = column("id"), c_model = column("model"), c_phase = column("phase"), c_batch = column("batch"),
                    c_seq = column("seq"), c_hw = column("hw"), c_status = column("status"), c_lat = column("latency_ms"),
                    c_energy = column("energy_mj"), c_tps = column("tokens_per_s"), c_mjt = column("mj_per_token"),
                    c_util = column("utilization"), c_area = column("area_mm2");
  auto number = [&](const std::string& s, std::size_t line, const std::string& col) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size())
      throw std::runtime_error(fmt::format("{}: line {}: column '{}' = '{}' is not a number", csv_path, line, col, s));
    return v;
  };

  struct Row {
    std::vector<std::string> fields;
    double latency, energy;
    std::optional<double> area;
    std::size_t line;
  };
  // Workloads in a fixed order (model, phase, batch, seq), whatever order the points finished in.
  std::map<std::tuple<std::string, std::string, double, double>, std::vector<Row>> groups;
  std::unordered_set<std::string> seen;  // a point twice (results merged by hand) counts once
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> f = split_csv_line(lines[i]);
    if (f.size() != header.size())
      throw std::runtime_error(fmt::format("{}: line {} has {} fields, the header {}", csv_path, i + 1, f.size(), header.size()));
    if (f[c_status] != "ok" || !seen.insert(f[c_id]).second) continue;
    const auto key = std::make_tuple(f[c_model], f[c_phase], number(f[c_batch], i + 1, "batch"), number(f[c_seq], i + 1, "seq"));
    const double lat = number(f[c_lat], i + 1, "latency_ms"), energy = number(f[c_energy], i + 1, "energy_mj");
    const std::optional<double> area = f[c_area].empty() ? std::nullopt : std::optional(number(f[c_area], i + 1, "area_mm2"));
    groups[key].push_back({std::move(f), lat, energy, area, i + 1});
  }

  std::string csv = lines[0] + "\n";
  nlohmann::json workloads = nlohmann::json::array();
  for (auto& [key, rows] : groups) {
    const bool with_area = std::all_of(rows.begin(), rows.end(), [](const Row& r) { return r.area.has_value(); });
    std::vector<std::vector<double>> obj;
    for (const Row& r : rows) {
      obj.push_back({r.latency, r.energy});
      if (with_area) obj.back().push_back(*r.area);
    }
    std::vector<const Row*> front;
    for (const std::size_t i : pareto_front(obj)) front.push_back(&rows[i]);
    std::sort(front.begin(), front.end(), [&](const Row* a, const Row* b) {
      return std::tie(a->latency, a->energy, a->fields[c_id]) < std::tie(b->latency, b->energy, b->fields[c_id]);
    });
    nlohmann::json pts = nlohmann::json::array();
    for (const Row* r : front) {
      csv += csv_line(r->fields) + "\n";
      nlohmann::json params = nlohmann::json::object();
      for (std::size_t c = c_hw + 1; c < c_status; ++c) params[header[c]] = r->fields[c];
      pts.push_back({{"id", r->fields[c_id]},
                     {"hw", r->fields[c_hw]},
                     {"params", params},
                     {"latency_ms", r->latency},
                     {"energy_mj", r->energy},
                     {"tokens_per_s", number(r->fields[c_tps], r->line, "tokens_per_s")},
                     {"mj_per_token", number(r->fields[c_mjt], r->line, "mj_per_token")},
                     {"utilization", number(r->fields[c_util], r->line, "utilization")},
                     {"area_mm2", r->area ? nlohmann::json(*r->area) : nlohmann::json(nullptr)}});
    }
    workloads.push_back({{"model", std::get<0>(key)},
                         {"phase", std::get<1>(key)},
                         {"batch", static_cast<std::int64_t>(std::get<2>(key))},
                         {"seq", static_cast<std::int64_t>(std::get<3>(key))},
                         {"points_ok", rows.size()},
                         {"objectives", with_area ? nlohmann::json{"latency_ms", "energy_mj", "area_mm2"}
                                                  : nlohmann::json{"latency_ms", "energy_mj"}},
                         {"front", std::move(pts)}});
  }
  fs::path stem(csv_path);
  stem.replace_extension();
  const std::string csv_out = stem.string() + ".pareto.csv", json_out = stem.string() + ".pareto.json";
  write_file_atomic(csv_out, csv);
  const nlohmann::json j = {{"schema", "mixpe.sweep_pareto/2"},
                            {"results", csv_path},
                            {"workloads", std::move(workloads)}};
  write_file_atomic(json_out, j.dump(2) + "\n");
  return {csv_out, json_out};
}

}  // namespace mixpe::runtime
