// `mixpe sweep`: spec errors, ranges, rows equal to single `mixpe simulate` runs, resume, job-count
// independence, per-point error rows and the Pareto front.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/sweep.h"
#include "sim/area.h"
#include "sim/config.h"
#include "tests/runtime/cli_runner.h"
#include "tests/runtime/temp_dir_test.h"

namespace mixpe::runtime {
namespace {

using testing_util::CommandResult;
using testing_util::run_cli;

namespace fs = std::filesystem;

// 2 workloads x 2 rows x 2 group sizes x 2 DRAM presets = 16 points.
constexpr const char* kSpec = R"(# test sweep
workloads:
  - {model: tiny, phase: [prefill, decode], batch: 2, seq: 32}
hw: mixpe_w4a8_32x32
vary:
  array.rows: [16, 32]
  array.group_size: {from: 32, to: 64, factor: 2}
  dram.preset: [ideal_1024b, ddr4_3200]
)";

class SweepTest : public testing_util::TempDirTest {};

std::string read(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Rows of a sweep CSV as column -> value maps, keyed by id.
std::map<std::string, std::map<std::string, std::string>> rows_by_id(const std::string& csv_path) {
  const std::vector<std::string> lines = lines_of(read(csv_path));
  std::map<std::string, std::map<std::string, std::string>> out;
  if (lines.empty()) return out;
  const std::vector<std::string> header = split_csv_line(lines[0]);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = split_csv_line(lines[i]);
    EXPECT_EQ(f.size(), header.size()) << lines[i];
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < std::min(f.size(), header.size()); ++c) row[header[c]] = f[c];
    out[f[0]] = row;
  }
  return out;
}

std::string error_of(const std::string& yaml, const std::string& source = "spec.yaml") {
  try {
    parse_sweep_spec(yaml, source);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SweepSpec, ExpandsWorkloadsHardwareAndRanges) {
  const SweepSpec spec = parse_sweep_spec(kSpec, "spec.yaml");
  ASSERT_EQ(spec.workloads.size(), 2u);
  EXPECT_EQ(spec.workloads[0].phase, "prefill");
  EXPECT_EQ(spec.workloads[1].phase, "decode");
  EXPECT_EQ(spec.workloads[1].batch, 2);
  EXPECT_EQ(spec.vary_keys, (std::vector<std::string>{"array.rows", "array.group_size", "dram.preset"}));
  EXPECT_EQ(spec.vary_values[1], (std::vector<std::string>{"32", "64"}));
  const std::vector<SweepPoint> points = expand_points(spec);
  ASSERT_EQ(points.size(), 16u);
  std::set<std::string> ids;
  for (const SweepPoint& p : points) ids.insert(p.id);
  EXPECT_EQ(ids.size(), 16u) << "every point has its own id";
  EXPECT_EQ(sweep_header(spec).front(), "id");
  EXPECT_EQ(sweep_header(spec)[6], "array.rows");
  EXPECT_EQ(sweep_header(spec).back(), "error");
}

TEST(SweepSpec, IdsIgnoreKeyOrderAndDuplicatesRunOnce) {
  const SweepSpec a = parse_sweep_spec("workloads: [{model: tiny}]\nhw: default\nvary: {array.rows: [16, 32], dram.preset: [hbm2]}\n", "a");
  const SweepSpec b = parse_sweep_spec("workloads: [{model: tiny}]\nhw: default\nvary: {dram.preset: [hbm2], array.rows: [32, 16, 32]}\n", "b");
  std::set<std::string> ia, ib;
  for (const SweepPoint& p : expand_points(a)) ia.insert(p.id);
  for (const SweepPoint& p : expand_points(b)) ib.insert(p.id);
  EXPECT_EQ(ia.size(), 2u);
  EXPECT_EQ(ia, ib);
  const SweepSpec c = parse_sweep_spec("workloads: [{model: tiny}]\nhw: default\nset: {clock_mhz: 400}\nvary: {array.rows: [16, 32], dram.preset: [hbm2]}\n", "c");
  for (const SweepPoint& p : expand_points(c)) EXPECT_EQ(ia.count(p.id), 0u) << "set: values are part of the id";
}

TEST(SweepSpec, Ranges) {
  EXPECT_EQ(expand_range("32", "256", "", "2", "s", "k"), (std::vector<std::string>{"32", "64", "128", "256"}));
  EXPECT_EQ(expand_range("32", "200", "", "2", "s", "k"), (std::vector<std::string>{"32", "64", "128"}));
  EXPECT_EQ(expand_range("1", "10", "4", "", "s", "k"), (std::vector<std::string>{"1", "5", "9"}));
  EXPECT_EQ(expand_range("1", "2", "0.5", "", "s", "k"), (std::vector<std::string>{"1", "1.5", "2"}));
  EXPECT_EQ(expand_range("0.1", "0.3", "0.1", "", "s", "k"), (std::vector<std::string>{"0.1", "0.2", "0.3"}));
  EXPECT_EQ(expand_range("7", "7", "1", "", "s", "k"), (std::vector<std::string>{"7"}));
}

TEST(SweepSpec, ErrorsNameFileKeyAndValue) {
  const std::string base = "workloads: [{model: tiny}]\nhw: default\n";
  auto expect_mentions = [](const std::string& msg, std::vector<std::string> parts) {
    for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' missing from: " << msg;
  };
  expect_mentions(error_of(base + "varry: {array.rows: [8]}\n"), {"spec.yaml", "varry", "unknown top-level key"});
  expect_mentions(error_of(base + "vary: {array.rowz: [8, 16]}\n"), {"spec.yaml", "array.rowz", "unknown hardware key"});
  expect_mentions(error_of(base + "set: {array.colz: 8}\n"), {"spec.yaml", "array.colz"});
  expect_mentions(error_of(base + "vary: {array.rows: []}\n"), {"spec.yaml", "vary.array.rows", "empty list"});
  expect_mentions(error_of(base + "vary: {array.rows: {from: 8, to: 64, step: 0}}\n"), {"spec.yaml", "vary.array.rows.step", "'0'", "positive"});
  expect_mentions(error_of(base + "vary: {array.rows: {from: 64, to: 8, step: 8}}\n"), {"spec.yaml", "vary.array.rows.from", "'64'"});
  expect_mentions(error_of(base + "vary: {array.rows: {from: 8, to: 64, factor: 1}}\n"), {"vary.array.rows.factor", "above 1"});
  expect_mentions(error_of(base + "vary: {array.rows: {from: 8, to: 64}}\n"), {"vary.array.rows", "exactly one of step"});
  expect_mentions(error_of(base + "vary: {array.rows: {from: 8, to: x, step: 8}}\n"), {"vary.array.rows.to", "'x'"});
  expect_mentions(error_of(base + "vary: {array.rows: {from: 1, to: 1000000000, step: 1}}\n"), {"vary.array.rows", "more than"});
  expect_mentions(error_of(base + "vary: {array.rows: {from: 8, to: 64, by: 8}}\n"), {"vary.array.rows.by", "unknown range key"});
  expect_mentions(error_of("workloads: [{model: tiny, phase: train}]\nhw: default\n"), {"workloads[0].phase", "'train'"});
  expect_mentions(error_of("workloads: [{model: tiny, seqq: 8}]\nhw: default\n"), {"workloads[0].seqq", "unknown workload key"});
  expect_mentions(error_of("workloads: [{model: tiny, batch: 0}]\nhw: default\n"), {"workloads[0].batch", "'0'"});
  expect_mentions(error_of("workloads: [{model: tiny}]\n"), {"spec.yaml", "'hw'", "missing"});
  expect_mentions(error_of(base + "set: {array.rows: 8}\nvary: {array.rows: [16]}\n"), {"vary.array.rows", "also under set"});
}

TEST(SweepPareto, HandMadeFront) {
  // (latency, energy): (2,6) is beaten by (1,5), (4,4) by (3,3), (6,1) by (5,1); equal points stay.
  const std::vector<std::vector<double>> pts = {{1, 5}, {2, 4}, {2, 6}, {3, 3}, {3, 3}, {4, 4}, {5, 1}, {6, 1}};
  EXPECT_EQ(pareto_front(pts), (std::vector<std::size_t>{0, 1, 3, 4, 6}));
  // Equal in one objective, better in the other dominates.
  EXPECT_EQ(pareto_front({{2, 2}, {2, 3}, {1, 3}}), (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(pareto_front({}), std::vector<std::size_t>{});
  // Three objectives: none of these dominates another except the last (worse than the first everywhere).
  EXPECT_EQ(pareto_front({{1, 3, 2}, {3, 1, 2}, {2, 2, 1}, {2, 4, 3}}), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(SweepPareto, MatchesBruteForceOnPseudoRandomPoints) {
  std::uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>((state >> 33) % 20);  // small range: many ties
  };
  for (std::size_t dims : {2u, 3u}) {
    // Latency and energy trade off (anti-correlated, with noise and ties), as in a real sweep.
    std::vector<std::vector<double>> pts(300, std::vector<double>(dims));
    for (auto& p : pts) {
      p[0] = next();
      p[1] = 19 - p[0] + std::fmod(next(), 5.0);
      if (dims == 3) p[2] = next();
    }
    std::vector<std::size_t> expected;
    for (std::size_t i = 0; i < pts.size(); ++i) {
      bool dominated = false;
      for (std::size_t j = 0; j < pts.size() && !dominated; ++j) {
        bool le = true, lt = false;
        for (std::size_t k = 0; k < dims; ++k) {
          le = le && pts[j][k] <= pts[i][k];
          lt = lt || pts[j][k] < pts[i][k];
        }
        dominated = le && lt;
      }
      if (!dominated) expected.push_back(i);
    }
    EXPECT_EQ(pareto_front(pts), expected) << dims << " objectives";
    EXPECT_GT(expected.size(), 1u);
  }
}

TEST(SweepCsv, QuotedFieldsRoundTrip) {
  const std::vector<std::string> f = {"a", "b,c", "say \"hi\"", "", "x"};
  EXPECT_EQ(csv_line(f), "a,\"b,c\",\"say \"\"hi\"\"\",,x");
  EXPECT_EQ(split_csv_line(csv_line(f)), f);
}

TEST_F(SweepTest, RowsEqualSingleSimulateRuns) {
  const std::string spec = write("spec.yaml", kSpec), csv = path("out.csv");
  const CommandResult r = run_cli("sweep -q -j 2 " + spec + " -o " + csv);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto rows = rows_by_id(csv);
  ASSERT_EQ(rows.size(), 16u);
  for (const auto& [id, row] : rows) EXPECT_EQ(row.at("status"), "ok") << id << ": " << row.at("error");

  int checked = 0;
  for (const auto& [id, row] : rows) {
    const bool a = row.at("phase") == "prefill" && row.at("array.rows") == "16" && row.at("array.group_size") == "64" &&
                   row.at("dram.preset") == "ddr4_3200";
    const bool b = row.at("phase") == "decode" && row.at("array.rows") == "32" && row.at("array.group_size") == "32" &&
                   row.at("dram.preset") == "ideal_1024b";
    if (!a && !b) continue;
    const std::string json = path(id + ".json");
    const CommandResult s = run_cli("simulate -q --executor analytic --hw mixpe_w4a8_32x32 --model tiny --phase " + row.at("phase") +
                                    " --batch 2 --seq 32 -p array.rows=" + row.at("array.rows") + " -p array.group_size=" +
                                    row.at("array.group_size") + " -p dram.preset=" + row.at("dram.preset") + " --json " + json);
    ASSERT_EQ(s.exit_code, 0) << s.out;
    const nlohmann::json j = nlohmann::json::parse(read(json));
    const double latency_ms = j["seconds"].get<double>() * 1e3, energy_mj = j["joules"].get<double>() * 1e3;
    EXPECT_NEAR(std::stod(row.at("latency_ms")), latency_ms, 1e-9 * latency_ms) << id;
    EXPECT_NEAR(std::stod(row.at("energy_mj")), energy_mj, 1e-9 * energy_mj) << id;
    EXPECT_NEAR(std::stod(row.at("tokens_per_s")), j["tokens_per_second"].get<double>(), 1e-9 * j["tokens_per_second"].get<double>());
    EXPECT_NEAR(std::stod(row.at("mj_per_token")), j["joules_per_token"].get<double>() * 1e3, 1e-9 * j["joules_per_token"].get<double>() * 1e3);
    EXPECT_NEAR(std::stod(row.at("utilization")), j["utilization"].get<double>(), 1e-9);
    EXPECT_NEAR(std::stod(row.at("area_mm2")), j["area_mm2"].get<double>(), 1e-9 * j["area_mm2"].get<double>());
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST_F(SweepTest, ParetoFilesHoldTheNonDominatedRowsPerWorkload) {
  const std::string spec = write("spec.yaml", kSpec), csv = path("out.csv");
  const CommandResult r = run_cli("sweep -q " + spec + " -o " + csv);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto rows = rows_by_id(csv);
  const auto front = rows_by_id(path("out.pareto.csv"));
  ASSERT_FALSE(front.empty());
  // Recompute per phase (the one workload parameter that differs) by brute force, in latency,
  // energy and area.
  std::set<std::string> expected;
  for (const auto& [id, row] : rows) {
    bool dominated = false;
    const double l = std::stod(row.at("latency_ms")), e = std::stod(row.at("energy_mj")), a = std::stod(row.at("area_mm2"));
    for (const auto& [id2, other] : rows) {
      if (other.at("phase") != row.at("phase")) continue;
      const double l2 = std::stod(other.at("latency_ms")), e2 = std::stod(other.at("energy_mj")), a2 = std::stod(other.at("area_mm2"));
      dominated = dominated || (l2 <= l && e2 <= e && a2 <= a && (l2 < l || e2 < e || a2 < a));
    }
    if (!dominated) expected.insert(id);
  }
  std::set<std::string> got;
  for (const auto& [id, row] : front) {
    got.insert(id);
    EXPECT_EQ(row, rows.at(id)) << "Pareto rows are copies of the results' rows";
  }
  EXPECT_EQ(got, expected);
  const nlohmann::json j = nlohmann::json::parse(read(path("out.pareto.json")));
  EXPECT_EQ(j["schema"], "mixpe.sweep_pareto/2");
  ASSERT_EQ(j["workloads"].size(), 2u);
  std::size_t n = 0;
  for (const auto& w : j["workloads"]) {
    EXPECT_EQ(w["points_ok"], 8);
    EXPECT_EQ(w["objectives"].size(), 3u);
    n += w["front"].size();
    for (const auto& p : w["front"]) EXPECT_EQ(p["params"].size(), 3u);
  }
  EXPECT_EQ(n, expected.size());
}

TEST_F(SweepTest, AreaConstraintSkipsLargerDesignsWithoutSimulating) {
  const double a16 = sim::estimate_area(sim::load_config("mixpe_w4a8_32x32", {"array.rows=16"})).total_mm2();
  const double a32 = sim::estimate_area(sim::load_config("mixpe_w4a8_32x32", {"array.rows=32"})).total_mm2();
  ASSERT_LT(a16, a32);
  const std::string spec = write("spec.yaml", std::string(kSpec) + fmt::format("constraints: {{max_area_mm2: {}}}\n", (a16 + a32) / 2));
  const std::string csv = path("out.csv");
  ASSERT_EQ(run_cli("sweep -q " + spec + " -o " + csv).exit_code, 0);
  const auto rows = rows_by_id(csv);
  ASSERT_EQ(rows.size(), 16u);
  for (const auto& [id, row] : rows) {
    const bool big = row.at("array.rows") == "32";
    EXPECT_EQ(row.at("status"), big ? "over_area" : "ok") << id;
    const double area = sim::estimate_area(sim::load_config("mixpe_w4a8_32x32", {"array.rows=" + row.at("array.rows"),
                                                                              "array.group_size=" + row.at("array.group_size")}))
                            .total_mm2();
    EXPECT_NEAR(std::stod(row.at("area_mm2")), area, 1e-9 * area) << id;
    EXPECT_EQ(row.at("latency_ms").empty(), big) << id;
  }
  // Resuming with the bound lifted runs the skipped points (their new lines supersede the old);
  // resuming with it kept skips everything.
  ASSERT_EQ(run_cli("sweep -q " + spec + " -o " + csv).exit_code, 0);
  EXPECT_EQ(lines_of(read(csv)).size(), 17u);
  const std::string loose = write("loose.yaml", kSpec);
  ASSERT_EQ(run_cli("sweep -q " + loose + " -o " + csv).exit_code, 0);
  EXPECT_EQ(lines_of(read(csv)).size(), 25u);
  for (const auto& [id, row] : rows_by_id(csv)) EXPECT_EQ(row.at("status"), "ok") << id;  // the last line of each id
  // A design as the bound takes its area; a bad bound is a spec error naming the key.
  EXPECT_DOUBLE_EQ(parse_sweep_spec(std::string(kSpec) + "constraints: {max_area_mm2: mixpe_w4a8_32x32}\n", "s.yaml").max_area_mm2,
                   sim::estimate_area(sim::load_config("mixpe_w4a8_32x32")).total_mm2());
  for (const char* bad : {"constraints: {max_area_mm2: -1}\n", "constraints: {max_power_w: 2}\n", "constraints: [1]\n"}) {
    try {
      parse_sweep_spec(std::string(kSpec) + bad, "s.yaml");
      ADD_FAILURE() << "expected an error for " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("constraints"), std::string::npos) << e.what();
    }
  }
}

TEST_F(SweepTest, ResumeSkipsDonePointsAndKeepsTheirLines) {
  const std::string spec = write("spec.yaml", kSpec), full = path("full.csv"), part = path("part.csv");
  ASSERT_EQ(run_cli("sweep -q -j 2 " + spec + " -o " + full).exit_code, 0);
  const std::vector<std::string> lines = lines_of(read(full));
  ASSERT_EQ(lines.size(), 17u);
  const std::string kept = lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n";
  // A torn last line (an interrupted write) is cut off, not taken as a point.
  write("part.csv", kept + lines[3].substr(0, 20));
  const CommandResult r = run_cli("sweep -j 2 " + spec + " -o " + part);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("16 points: 2 already in"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("14 run"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("incomplete last line"), std::string::npos) << r.out;
  const std::string resumed = read(part);
  EXPECT_EQ(resumed.substr(0, kept.size()), kept) << "existing lines are untouched";
  EXPECT_EQ(rows_by_id(part), rows_by_id(full));
  // Nothing left to do: the file does not change.
  ASSERT_EQ(run_cli("sweep -q " + spec + " -o " + part).exit_code, 0);
  EXPECT_EQ(read(part), resumed);
}

TEST_F(SweepTest, OneAndTwoJobsGiveTheSameRows) {
  const std::string spec = write("spec.yaml", kSpec), one = path("one.csv"), two = path("two.csv");
  ASSERT_EQ(run_cli("sweep -q -j 1 " + spec + " -o " + one).exit_code, 0);
  ASSERT_EQ(run_cli("sweep -q -j 2 " + spec + " -o " + two).exit_code, 0);
  std::vector<std::string> a = lines_of(read(one)), b = lines_of(read(two));
  ASSERT_EQ(a.size(), 17u);
  std::sort(a.begin() + 1, a.end());
  std::sort(b.begin() + 1, b.end());
  EXPECT_EQ(a, b);
  EXPECT_EQ(read(path("one.pareto.csv")), read(path("two.pareto.csv")));
}

TEST_F(SweepTest, InvalidCombinationBecomesAnErrorRow) {
  // Weight-stationary needs array.rows to divide the group (32): rows 12 does not.
  const std::string spec = write("spec.yaml",
                                 "workloads: [{model: tiny, phase: decode, seq: 16}]\nhw: mixpe_w4a8_32x32\n"
                                 "set: {array.group_size: 32}\nvary: {array.dataflow: [ws], array.rows: [8, 12]}\n");
  const std::string csv = path("out.csv");
  const CommandResult r = run_cli("sweep " + spec + " -o " + csv);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("(1 with status error)"), std::string::npos) << r.out;
  const auto rows = rows_by_id(csv);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& [id, row] : rows) {
    if (row.at("array.rows") == "8") {
      EXPECT_EQ(row.at("status"), "ok");
      EXPECT_GT(std::stod(row.at("latency_ms")), 0.0);
    } else {
      EXPECT_EQ(row.at("status"), "error");
      EXPECT_EQ(row.at("latency_ms"), "");
      EXPECT_NE(row.at("error").find("array.dataflow"), std::string::npos) << row.at("error");
    }
  }
  EXPECT_EQ(rows_by_id(path("out.pareto.csv")).size(), 1u) << "error rows are not on the front";
}

TEST_F(SweepTest, SecondSweepOnTheSameFileIsRefused) {
  const std::string spec = write("spec.yaml", kSpec), csv = write("out.csv", "");
  const int fd = ::open(csv.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // as a running sweep holds it
  const CommandResult r = run_cli("sweep -q " + spec + " -o " + csv);
  ::close(fd);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("another mixpe sweep is writing this file"), std::string::npos) << r.out;
  EXPECT_EQ(read(csv), "");
}

TEST_F(SweepTest, CliErrorsNameTheFile) {
  const std::string bad = write("bad.yaml", "workloads: [{model: tiny}]\nhw: default\nvary: {array.rowz: [8]}\n");
  CommandResult r = run_cli("sweep -q " + bad + " -o " + path("out.csv"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(bad), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("array.rowz"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(path("out.csv"))) << "a bad spec writes nothing";

  const std::string no_model = write("nomodel.yaml", "workloads: [{model: no-such-model}]\nhw: default\n");
  r = run_cli("sweep -q " + no_model + " -o " + path("out.csv"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("no-such-model"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(no_model), std::string::npos) << r.out;

  const std::string no_hw = write("nohw.yaml", "workloads: [{model: tiny}]\nhw: [default, no_such_design]\n");
  r = run_cli("sweep -q " + no_hw + " -o " + path("out.csv"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("no_such_design"), std::string::npos) << r.out;

  // A results file from another sweep (different columns) is not appended to.
  const std::string spec = write("spec.yaml", kSpec);
  const std::string other = write("other.csv", "id,model,phase,batch,seq,hw,array.cols,status\n");
  r = run_cli("sweep -q " + spec + " -o " + other);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(other), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("header"), std::string::npos) << r.out;
  EXPECT_EQ(read(other), "id,model,phase,batch,seq,hw,array.cols,status\n");
}

}  // namespace
}  // namespace mixpe::runtime
