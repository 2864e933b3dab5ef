// `mixpe report`: the SVG writer's ticks and escaping, the charts built from hand-made and real
// simulate/compare/sweep inputs (bar and point counts), and errors naming the bad file and field.
#include <gtest/gtest.h>


#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/io/file_io.h"
#include "runtime/report.h"
#include "runtime/report_html.h"
#include "runtime/study.h"
#include "runtime/svg.h"
#include "sim/config.h"
#include "tests/runtime/cli_runner.h"
#include "tests/runtime/temp_dir_test.h"

namespace mixpe::runtime {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) ++n;
  return n;
}

const ReportChart& chart(const ReportPage& page, const std::string& id) {
  for (const ReportChart& c : page.charts)
    if (c.id == id) return c;
  static const ReportChart kNone{};
  ADD_FAILURE() << "no chart '" << id << "'";
  return kNone;
}

bool has_chart(const ReportPage& page, const std::string& id) {
  for (const ReportChart& c : page.charts)
    if (c.id == id) return true;
  return false;
}

std::size_t bars(const ReportPage& page, const std::string& id) { return count(chart(page, id).svg, "class=\"bar\""); }
std::size_t segments(const ReportPage& page, const std::string& id) { return count(chart(page, id).svg, "class=\"segment\""); }
std::size_t points(const ReportPage& page, const std::string& id) { return count(chart(page, id).svg, "class=\"point\""); }
std::size_t front(const ReportPage& page, const std::string& id) { return count(chart(page, id).svg, "class=\"front\""); }

json energy(double pe, double dram) {
  return {{"pe", pe}, {"edge", 1.0}, {"dequant", 2.0}, {"vector", 3.0}, {"sram", 4.0}, {"dram", dram}, {"static", 5.0},
          {"total", pe + dram + 15.0}};
}

json op(const std::string& name, const std::string& kind, double cycles, double intensity, double attained) {
  return {{"name", name}, {"kind", kind}, {"layer", 0}, {"cycles", cycles}, {"energy_pj", energy(cycles, 10)},
          {"roofline", {{"intensity_ops_per_byte", intensity}, {"attained_ops_per_s", attained}, {"bound", "memory"}}}};
}

// A minimal mixpe.simulate/1 report: 4 ops of 3 kinds; the norm op has no DRAM traffic (intensity 0).
json small_simulate(const std::string& hw, double latency_ms) {
  json j = {{"schema", "mixpe.simulate/1"}, {"hw", hw}, {"model", "tiny"}, {"executor", "analytic"}, {"phase", "prefill"},
            {"description", "prefill, batch 1, 8 tokens per sequence"}, {"unit", "token"}, {"batch", 1}, {"seq", 8}, {"tokens", 8},
            {"clock_mhz", 500.0}, {"total_cycles", 1000}, {"seconds", latency_ms * 1e-3}, {"latency_ms", latency_ms},
            {"joules", 1e-9}, {"joules_per_token", 1.25e-10}, {"tokens_per_second", 8 / (latency_ms * 1e-3)}, {"utilization", 0.5},
            {"energy_pj", energy(600, 100)},
            {"roofline", {{"peak_ops_per_s", 1e12}, {"peak_dram_bytes_per_s", 1e10}, {"fraction_attained", 0.8}}},
            {"notes", {"a <note> & more"}}};
  j["ops"] = {op("q_proj", "linear", 400, 50, 5e11), op("attn<score>", "attn_score", 300, 2, 2e10), op("norm", "norm", 100, 0, 0),
              op("k_proj", "linear", 200, 40, 4e11)};
  return j;
}

class ReportHtmlTest : public testing_util::TempDirTest {
 protected:
  // The message of the FormatError that loading `text` as file `name` throws ("" if none).
  std::string load_error(const std::string& name, const std::string& text) const {
    const std::string p = write(name, text);
    try {
      load_report_input(p);
    } catch (const models::FormatError& e) {
      return e.what();
    }
    return "";
  }
};

TEST(Svg, NiceTicksAndDomains) {
  EXPECT_EQ(svg::nice_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(svg::nice_ticks(0, 1, 4), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  const auto [lo, hi] = svg::nice_domain(0.3, 9.2, 5);
  EXPECT_DOUBLE_EQ(lo, 0);
  EXPECT_DOUBLE_EQ(hi, 10);
  EXPECT_EQ(svg::log_ticks(1, 1e4), (std::vector<double>{1, 10, 100, 1000, 10000}));
  EXPECT_EQ(svg::log_ticks(1, 10), (std::vector<double>{1, 2, 5, 10}));
  const auto [a, b] = svg::log_domain(0.3, 4e3);
  EXPECT_DOUBLE_EQ(a, 0.1);
  EXPECT_DOUBLE_EQ(b, 1e4);
}

TEST(Svg, ScalesMapEndpointsAndMidpoints) {
  const svg::Scale lin = svg::Scale::linear(0, 10, 100, 200);
  EXPECT_DOUBLE_EQ(lin(5), 150);
  const svg::Scale y = svg::Scale::linear(0, 10, 300, 100);  // y grows upward
  EXPECT_DOUBLE_EQ(y(10), 100);
  const svg::Scale log = svg::Scale::log(1, 1e4, 0, 400);
  EXPECT_NEAR(log(100), 200, 1e-9);
  EXPECT_NEAR(log(10), 100, 1e-9);
}

TEST(Svg, FormatsAndEscapes) {
  EXPECT_EQ(svg::format_tick(2e9, 1e9), "2G");
  EXPECT_EQ(svg::format_tick(0.4, 0.2), "0.4");
  EXPECT_EQ(svg::format_tick(1e-17, 0.2), "0");
  EXPECT_EQ(svg::format_tick(15000, 5000), "15k");
  EXPECT_EQ(svg::format_number(12345), "12.3k");
  EXPECT_EQ(svg::format_number(0.012345), "0.0123");
  EXPECT_EQ(svg::format_number(512), "512");
  EXPECT_EQ(svg::escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(svg::escape(std::string("x\x01y")), "x y");  // not allowed in XML 1.0
  EXPECT_EQ(svg::fit_text("short", 12, 500), "short");
  const std::string cut = svg::fit_text(std::string(80, 'a'), 12, 100);
  EXPECT_LE(svg::text_width(cut, 12), 100);
  EXPECT_EQ(cut.substr(cut.size() - 3), "\xE2\x80\xA6");
}

TEST(Svg, BarChartsHaveOneMarkPerValue) {
  svg::HBarChart h;
  h.id = "h";
  h.title = "T <1>";
  h.x_label = "x";
  h.categories = {"a", "b", "c"};
  h.values = {{1}, {2}, {3}};
  const std::string s = svg::render(h).str();
  EXPECT_EQ(count(s, "class=\"bar\""), 3u);
  EXPECT_NE(s.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(s.find("T &lt;1&gt;"), std::string::npos);
  EXPECT_EQ(s.find("T <1>"), std::string::npos);

  h.series = {"p", "q"};
  h.values = {{1, 2}, {0, 3}, {4, 0}};  // zero segments are still one mark each
  EXPECT_EQ(count(svg::render(h).str(), "class=\"segment\""), 6u);

  svg::GroupedBarChart g;
  g.id = "g";
  g.categories = {"d1", "d2"};
  g.series = {"x", "y", "z"};
  g.values = {{1, 0.5, 0.2}, {0.8, 0.4, 0.1}};
  g.reference = 1;
  EXPECT_EQ(count(svg::render(g).str(), "class=\"bar\""), 6u);
}

TEST(Svg, ScatterDropsPointsOutsideALogDomain) {
  svg::ScatterChart ch;
  ch.id = "s";
  ch.x_log = ch.y_log = true;
  ch.series.push_back({"s", "#000", {{1, 1, ""}, {10, 100, ""}, {0, 5, ""}, {5, -1, ""}}});
  EXPECT_EQ(count(svg::render(ch).str(), "class=\"point\""), 2u);
}

TEST_F(ReportHtmlTest, HandMadeSimulateReportGivesEveryChart) {
  const std::string p = write("r.json", small_simulate("hw_a", 0.002).dump());
  const ReportPage page = build_report({load_report_input(p)}, "T & T");
  EXPECT_EQ(bars(page, "sim1-op-latency"), 4u);
  EXPECT_EQ(segments(page, "sim1-op-energy"), 4u * kEnergyComponents.size());
  // The whole step plus one row per kind (linear, attn_score, norm), each split into 7 components.
  EXPECT_EQ(segments(page, "sim1-energy-breakdown"), 4u * kEnergyComponents.size());
  EXPECT_EQ(bars(page, "sim1-time-by-kind"), 3u);
  EXPECT_EQ(points(page, "sim1-roofline"), 3u);  // the norm op has intensity 0: not on a log axis
  EXPECT_EQ(page.charts.size(), 5u);
  // Cycles 400 + 200 of 1000 for linear ops: the time-by-kind label says 60.0%.
  EXPECT_NE(chart(page, "sim1-time-by-kind").svg.find(">60.0%<"), std::string::npos);
  EXPECT_EQ(page.html.find("<th>area</th>"), std::string::npos);  // the report has no area_mm2
  EXPECT_NE(page.html.find("<title>T &amp; T</title>"), std::string::npos);
  EXPECT_NE(page.html.find("a &lt;note&gt; &amp; more"), std::string::npos);
  EXPECT_NE(page.html.find("attn&lt;score&gt;"), std::string::npos);
  EXPECT_EQ(page.html.find("attn<score>"), std::string::npos);
  EXPECT_EQ(page.html.find("<script"), std::string::npos);
  EXPECT_EQ(page.html.find("http://"), page.html.find("http://www.w3.org/2000/svg"));
  EXPECT_EQ(page.html.find("https://"), std::string::npos);
}

TEST_F(ReportHtmlTest, OpChartsShowTheTwentyLargest) {
  json j = small_simulate("hw_a", 0.002);
  j["ops"] = json::array();
  for (int i = 0; i < 30; ++i) {  // cycles 10, 20, ..., 300; names without a layer index
    j["ops"].push_back(op(std::string("op_") + static_cast<char>('a' + i % 26) + static_cast<char>('a' + i / 26), "linear", 10.0 * (i + 1), 5, 1e9));
  }
  const ReportPage page = build_report({parse_report_input(j.dump(), "many.json")}, "t");
  EXPECT_EQ(bars(page, "sim1-op-latency"), 20u);
  EXPECT_EQ(segments(page, "sim1-op-energy"), 20u * kEnergyComponents.size());
  EXPECT_EQ(points(page, "sim1-roofline"), 30u);
  const std::string& svg = chart(page, "sim1-op-latency").svg;
  // op i = 29 ("op_db", 300 cycles) is first; op 10 ("op_ka", 110 cycles) is the 20th; op 9 (100 cycles) is cut.
  EXPECT_LT(svg.find(">op_db<"), svg.find(">op_ka<"));
  EXPECT_NE(svg.find(">op_ka<"), std::string::npos);
  EXPECT_EQ(svg.find(">op_ja<"), std::string::npos);
}

TEST_F(ReportHtmlTest, RealAnalyticReportTopOpsAndRoofline) {
  WorkloadOptions w;
  w.model = "tiny";
  w.phase = "prefill";
  w.seq = 32;
  w.executor = "analytic";
  const SimulationReport rep = simulate(make_workload(w), sim::load_config("mixpe_w4a8_32x32", {}), ExecutorKind::kAnalytic);
  ASSERT_GT(rep.ops.size(), 20u);
  const ReportInput in = parse_report_input(report_json(rep).dump(2), "real.json");
  const auto& s = std::get<SimulateInput>(in);
  EXPECT_EQ(s.ops.size(), rep.ops.size());
  EXPECT_NEAR(s.latency_ms, rep.seconds() * 1e3, 1e-12);
  const ReportPage page = build_report({in}, "real");
  // An op that repeats in every block ("layers.3.q_proj") is one bar: "layers.*.q_proj ×N", summed.
  std::map<std::pair<std::string, std::string>, std::pair<double, std::vector<std::string>>> groups;
  for (const OpResult& o : rep.ops) {
    auto& g = groups[{std::regex_replace(o.op.name, std::regex("(^|\\.)[0-9]+(?=\\.|$)"), "$1*"), models::to_string(o.op.kind)}];
    g.first += static_cast<double>(o.cycles);
    g.second.push_back(o.op.name);
  }
  ASSERT_LT(groups.size(), rep.ops.size());  // the tiny model has several blocks
  const std::size_t shown = std::min<std::size_t>(20, groups.size());
  EXPECT_EQ(bars(page, "sim1-op-latency"), shown);
  EXPECT_EQ(segments(page, "sim1-op-energy"), shown * kEnergyComponents.size());
  std::size_t on_log_axes = 0;
  for (const OpResult& o : rep.ops) {
    const double secs = static_cast<double>(o.cycles) / (rep.clock_mhz * 1e6);
    if (o.roofline.intensity > 0 && o.roofline.ops > 0 && secs > 0) ++on_log_axes;
  }
  EXPECT_GT(on_log_axes, 0u);
  EXPECT_EQ(points(page, "sim1-roofline"), on_log_axes);
  // The slowest group is the first bar's label.
  auto slowest = groups.begin();
  for (auto it = groups.begin(); it != groups.end(); ++it)
    if (it->second.first > slowest->second.first) slowest = it;
  const std::string label = slowest->second.second.size() > 1
                                ? slowest->first.first + " \xC3\x97" + std::to_string(slowest->second.second.size())
                                : slowest->second.second[0];
  const std::string& svg = chart(page, "sim1-op-latency").svg;
  const std::size_t first_bar = svg.find("class=\"bar\"");
  ASSERT_NE(first_bar, std::string::npos);
  EXPECT_NE(svg.rfind(">" + label + "<", first_bar), std::string::npos) << label;
}

TEST_F(ReportHtmlTest, CompareReportGroupsDesigns) {
  WorkloadOptions w;
  w.model = "tiny";
  w.phase = "decode";
  w.seq = 16;
  w.executor = "analytic";
  const std::vector<std::string> designs = {"fp16_32x28", "int8_32x32", "mixpe_w4a8_64x64"};
  const json result = compare_designs(make_workload(w), w, designs, {}, "unused");
  const ReportPage page = build_report({parse_report_input(result.dump(), "c.json")}, "c");
  EXPECT_EQ(bars(page, "compare1-norm-time"), 3u * designs.size());
  EXPECT_EQ(bars(page, "compare1-norm-energy"), 3u * designs.size());
  EXPECT_EQ(bars(page, "compare1-latency"), designs.size());
  EXPECT_EQ(segments(page, "compare1-energy"), designs.size() * kEnergyComponents.size());
  // The baseline's normalized time is 1: its tooltip says so.
  EXPECT_NE(chart(page, "compare1-norm-time").svg.find("fp16_32x28 all ops: 1.00<"), std::string::npos);
}

constexpr const char* kSweepHeader = "id,model,phase,batch,seq,hw,array.rows,status,latency_ms,tokens_per_s,energy_mj,mj_per_token,utilization,error\n";

TEST_F(ReportHtmlTest, SweepCsvScatterHighlightsTheFront) {
  // Workload A: (1,5) (2,3) (3,4) (4,1) -> front (1,5) (2,3) (4,1); (3,4) is dominated by (2,3).
  // Workload B: (1,1) (2,2) -> front (1,1). One error row, one repeated id (counted once).
  const std::string csv = std::string(kSweepHeader) +
                          "a1,tiny,prefill,1,32,hw,16,ok,1,100,5,0.1,0.5,\n"
                          "a2,tiny,prefill,1,32,hw,32,ok,2,100,3,0.1,0.5,\n"
                          "a3,tiny,prefill,1,32,hw,48,ok,3,100,4,0.1,0.5,\n"
                          "a4,tiny,prefill,1,32,hw,64,ok,4,100,1,0.1,0.5,\n"
                          "a4,tiny,prefill,1,32,hw,64,ok,4,100,1,0.1,0.5,\n"
                          "b1,tiny,decode,2,16,hw,16,ok,1,100,1,0.1,0.5,\n"
                          "b2,tiny,decode,2,16,hw,32,ok,2,100,2,0.1,0.5,\n"
                          "e1,tiny,decode,2,16,hw,7,error,,,,,,\"array.rows: 7, not a divisor\"\n";
  const ReportPage page = build_report({load_report_input(write("s.csv", csv))}, "s");
  // Groups in (model, phase, batch, seq) order: decode first.
  EXPECT_EQ(front(page, "sweep1-w1-latency-energy"), 1u);
  EXPECT_EQ(points(page, "sweep1-w1-latency-energy"), 1u);
  EXPECT_EQ(front(page, "sweep1-w2-latency-energy"), 3u);
  EXPECT_EQ(points(page, "sweep1-w2-latency-energy"), 1u);
  EXPECT_EQ(count(chart(page, "sweep1-w2-latency-energy").svg, "<polyline"), 1u);
  EXPECT_FALSE(has_chart(page, "sweep1-w1-latency-area"));
  EXPECT_NE(page.html.find("Error rows (status error, not shown): 1."), std::string::npos);
}

TEST_F(ReportHtmlTest, SweepAreaColumnAddsLatencyVsArea) {
  const std::string csv =
      "id,model,phase,batch,seq,hw,array.rows,status,latency_ms,tokens_per_s,energy_mj,mj_per_token,utilization,area_mm2,error\n"
      "a1,tiny,prefill,1,32,hw,16,ok,1,100,5,0.1,0.5,4,\n"
      "a2,tiny,prefill,1,32,hw,32,ok,2,100,3,0.1,0.5,2,\n"
      "a3,tiny,prefill,1,32,hw,48,ok,3,100,4,0.1,0.5,3,\n"
      "a4,tiny,prefill,1,32,hw,64,over_area,,,,,,9,\"area 9 mm2 > constraints.max_area_mm2 = 5\"\n";
  const ReportInput in = load_report_input(write("s.csv", csv));
  EXPECT_EQ(std::get<SweepInput>(in).param_keys, std::vector<std::string>{"array.rows"});
  EXPECT_EQ(std::get<SweepInput>(in).over_area_rows, 1u);
  EXPECT_EQ(std::get<SweepInput>(in).rows.size(), 3u);
  const ReportPage page = build_report({in}, "s");
  // Latency vs area: (1,4) (2,2) (3,3) -> front (1,4) (2,2).
  EXPECT_EQ(front(page, "sweep1-w1-latency-area"), 2u);
  EXPECT_EQ(points(page, "sweep1-w1-latency-area"), 1u);
  EXPECT_EQ(front(page, "sweep1-w1-latency-energy"), 2u);  // (1,5) (2,3); (3,4) dominated
}

TEST_F(ReportHtmlTest, ParetoJsonAloneAndFoldedIntoItsCsv) {
  const std::string csv = std::string(kSweepHeader) + "a1,tiny,prefill,1,32,hw,16,ok,1,100,5,0.1,0.5,\n"
                                                      "a2,tiny,prefill,1,32,hw,32,ok,2,100,3,0.1,0.5,\n"
                                                      "a3,tiny,prefill,1,32,hw,48,ok,3,100,6,0.1,0.5,\n";
  const json pareto = {{"schema", "mixpe.sweep_pareto/2"}, {"results", "s.csv"}, {"objectives", {"latency_ms", "energy_mj"}},
                       {"workloads", {{{"model", "tiny"}, {"phase", "prefill"}, {"batch", 1}, {"seq", 32}, {"points_ok", 3},
                                       {"front", {{{"id", "a1"}, {"hw", "hw"}, {"params", {{"array.rows", "16"}}}, {"latency_ms", 1},
                                                   {"energy_mj", 5}, {"tokens_per_s", 100}, {"mj_per_token", 0.1}, {"utilization", 0.5}},
                                                  {{"id", "a2"}, {"hw", "hw"}, {"params", {{"array.rows", "32"}}}, {"latency_ms", 2},
                                                   {"energy_mj", 3}, {"tokens_per_s", 100}, {"mj_per_token", 0.1}, {"utilization", 0.5}}}}}}}};
  const std::string pj = write("s.pareto.json", pareto.dump());
  const ReportPage alone = build_report({load_report_input(pj)}, "p");
  EXPECT_EQ(front(alone, "sweep1-w1-latency-energy"), 2u);
  EXPECT_EQ(points(alone, "sweep1-w1-latency-energy"), 0u);
  EXPECT_NE(chart(alone, "sweep1-w1-latency-energy").caption.find("2 of the sweep's 3 ok points"), std::string::npos);

  const ReportPage both = build_report({load_report_input(write("s.csv", csv)), load_report_input(pj)}, "p");
  EXPECT_EQ(both.charts.size(), 1u);  // the Pareto file's section is folded into the CSV's
  EXPECT_EQ(front(both, "sweep1-w1-latency-energy"), 2u);
  EXPECT_EQ(points(both, "sweep1-w1-latency-energy"), 1u);
}

TEST_F(ReportHtmlTest, SimulateReportsOfOneWorkloadSideBySide) {
  json other = small_simulate("hw_c", 0.003);
  other["seq"] = 16;  // another workload: not in the side-by-side section
  json with_area = small_simulate("hw_b", 0.004);
  with_area["area_mm2"] = 2.5;
  const ReportPage page = build_report({parse_report_input(small_simulate("hw_a", 0.002).dump(), "a.json"),
                                        parse_report_input(with_area.dump(), "b.json"),
                                        parse_report_input(other.dump(), "c.json")},
                                       "t");
  EXPECT_EQ(bars(page, "shared4-latency"), 2u);
  EXPECT_EQ(count(page.html, "<tr><th>area</th><td>2.5 mm\xC2\xB2</td></tr>"), 1u);  // only hw_b's report has one
  EXPECT_EQ(segments(page, "shared4-energy"), 2u * kEnergyComponents.size());
  EXPECT_FALSE(has_chart(page, "shared5-latency"));
  EXPECT_NE(chart(page, "shared4-latency").svg.find(">hw_b<"), std::string::npos);
}

TEST_F(ReportHtmlTest, BadInputsNameTheFileAndTheField) {
  struct Case {
    std::string name, text, expect;
  };
  json missing = small_simulate("hw", 1);
  missing["ops"][1].erase("cycles");
  json mistyped = small_simulate("hw", 1);
  mistyped["latency_ms"] = "fast";
  json cmp = {{"schema", "mixpe.compare/1"}, {"baseline", "x"}, {"overrides", json::array()}, {"table", json::array()},
              {"reports", json::array()}};
  const std::vector<Case> cases = {
      {"unknown.json", R"({"schema": "mixpe.other/9"})", "schema: unknown 'mixpe.other/9'"},
      {"noschema.json", R"({"hw": "x"})", "schema: missing"},
      {"broken.json", R"({"schema": "mixpe.simulate/1", )", "JSON: malformed"},
      {"array.json", "[1, 2]", "expected a JSON object"},
      {"missing.json", missing.dump(), "ops[1].cycles: missing"},
      {"mistyped.json", mistyped.dump(), "latency_ms: expected a number, got string"},
      {"empty_compare.json", cmp.dump(), "table: empty"},
      {"empty.csv", "  \n", "empty file"},
      {"other.csv", "a,b,c\n1,2,3\n", "header: not a mixpe report input"},
      {"badnum.csv", std::string(kSweepHeader) + "a1,tiny,prefill,1,32,hw,16,ok,fast,100,5,0.1,0.5,\n", "line 2: column 'latency_ms'"},
      {"short.csv", std::string(kSweepHeader) + "a1,tiny,prefill\n", "line 2: 3 fields, the header has 14"},
      {"status.csv", std::string(kSweepHeader) + "a1,tiny,prefill,1,32,hw,16,maybe,1,100,5,0.1,0.5,\n", "'maybe' is not ok, error or over_area"},
  };
  for (const Case& c : cases) {
    const std::string msg = load_error(c.name, c.text);
    EXPECT_NE(msg.find(path(c.name)), std::string::npos) << c.name << ": " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
  }
  try {
    load_report_input(path("does_not_exist.json"));
    ADD_FAILURE() << "no error for a missing file";
  } catch (const models::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("does_not_exist.json: open"), std::string::npos) << e.what();
  }
}

TEST_F(ReportHtmlTest, WritesThePageAndStandaloneSvgs) {
  const ReportPage page = build_report({parse_report_input(small_simulate("hw_a", 0.002).dump(), "a.json")}, "t");
  const std::vector<std::string> written = write_report(page, path("r.html"), path("svgs"));
  ASSERT_EQ(written.size(), page.charts.size() + 1);
  for (const ReportChart& c : page.charts) {
    std::ifstream in(path("svgs/" + c.id + ".svg"));
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str().rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << c.id;
    EXPECT_EQ(ss.str().substr(ss.str().size() - 7), "</svg>\n");
  }
  EXPECT_EQ(written.back(), path("r.html"));
  EXPECT_TRUE(fs::exists(path("r.html")));
}

TEST_F(ReportHtmlTest, CliWritesNothingWhenAnInputIsBad) {
  const std::string good = write("good.json", small_simulate("hw_a", 0.002).dump());
  const std::string bad = write("bad.json", R"({"schema": "mixpe.simulate/1"})");
  const testing_util::CommandResult r =
      testing_util::run_cli(fmt::format("report {} {} -o {} --svg-dir {}", good, bad, path("r.html"), path("svgs")));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(bad + ": hw: missing"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(path("r.html")));
  EXPECT_FALSE(fs::exists(path("svgs")));

  const testing_util::CommandResult ok = testing_util::run_cli(fmt::format("report {} -o {} -q", good, path("r.html")));
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_TRUE(fs::exists(path("r.html")));
}

}  // namespace
}  // namespace mixpe::runtime
