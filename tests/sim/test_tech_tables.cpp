// Shipped technology tables: 28nm_rtl's energies are the RTL activity ratios (rtl_activity.yaml) x the paper's anchor; paper28 aliases 28nm_500mhz.
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "sim/config.h"
#include "sim/energy.h"

namespace mixpe::sim {
namespace {

// The MixPE 8/4-bit PE of arXiv 2411.16158: 344.3 uW at 500 MHz.
constexpr double kAnchorPj = 0.6886;

double activity_ratio(const YAML::Node& units, const std::string& key) {
  const YAML::Node u = units[key];
  if (!u || !u["ratio"]) throw std::out_of_range("rtl_activity.yaml: no units." + key + ".ratio");
  return u["ratio"].as<double>();
}

TEST(TechTables, EveryShippedTableHasEveryKeyWithASource) {
  for (const char* name : {"28nm_rtl", "paper28", "28nm_500mhz"}) {
    const TechTable t = load_tech_table(name);
    EXPECT_EQ(t.name, name);
    for (const auto& k : required_tech_keys()) {
      ASSERT_TRUE(t.entries.count(k)) << name << ": " << k;
      EXPECT_FALSE(t.entries.at(k).source.empty()) << name << ": " << k;
    }
  }
}

TEST(TechTables, Paper28IsExactlyThe28nm500MHzTable) {
  const TechTable paper = load_tech_table("paper28");
  const TechTable base = load_tech_table("28nm_500mhz");
  ASSERT_EQ(paper.entries.size(), base.entries.size());
  for (const auto& [key, e] : base.entries) {
    ASSERT_TRUE(paper.entries.count(key)) << key;
    EXPECT_EQ(paper.entries.at(key).value, e.value) << key;
    EXPECT_EQ(paper.entries.at(key).source, e.source) << key;
  }
}

TEST(TechTables, RtlTableIsActivityRatiosTimesTheAnchor) {
  const TechTable t = load_tech_table("28nm_rtl");
  const YAML::Node act = YAML::LoadFile((std::filesystem::path(config_dir()) / "tech" / "rtl_activity.yaml").string());
  const YAML::Node units = act["units"];
  ASSERT_TRUE(units && units.IsMap());
  ASSERT_EQ(act["anchor_key"].as<std::string>(), "pe.mixpe.a8.w4");
  // The anchor is the MixPE INT4xINT8 PE itself: ratio 1 and the paper's energy exactly.
  EXPECT_EQ(activity_ratio(units, "pe.mixpe.a8.w4"), 1.0);
  EXPECT_EQ(t.at("pe_mixpe_a8_pj"), kAnchorPj);
  const std::vector<std::pair<std::string, std::string>> derived = {
      {"pe_mixpe_a16_pj", "pe.mixpe.a16.w4"}, {"pe_fp16_pj", "pe.fp16"}, {"pe_int8_pj", "pe.int8.w8"},
      {"pe_bitfusion_pj", "pe.bitfusion.w4a8"}, {"pe_ant_pj", "pe.ant.flint"}, {"edge_add_pj", "edge.mixpe.a8"}, {"dequant_op_pj", "dequant.mixpe.a8.r4"}};
  for (const auto& [key, unit] : derived) {
    EXPECT_NEAR(t.at(key), kAnchorPj * activity_ratio(units, unit), 1e-9) << key << " from " << unit;
    EXPECT_NE(t.entries.at(key).source.find(unit), std::string::npos) << key << ": source should name " << unit;
  }
  const double vector_ratio = 0.5 * (activity_ratio(units, "fp.add32") + activity_ratio(units, "fp.mul32"));
  EXPECT_NEAR(t.at("vector_op_pj"), kAnchorPj * vector_ratio, 1e-9);
  // The derived INT8 PE replaces the old assumption; it must cost more than the MixPE INT4xINT8 PE.
  EXPECT_GT(t.at("pe_int8_pj"), t.at("pe_mixpe_a8_pj"));
  EXPECT_EQ(t.entries.at("pe_int8_pj").source.find("ASSUMPTION"), std::string::npos);
}

TEST(TechTables, RtlTableScalesHorowitzSramByFeatureSize) {
  const TechTable rtl = load_tech_table("28nm_rtl");
  const TechTable paper = load_tech_table("paper28");
  // C ~ feature size at the same 0.9 V: x 28/45.
  for (const char* key : {"wbuf_read_pj_per_bit", "wbuf_write_pj_per_bit", "ibuf_read_pj_per_bit",
                          "ibuf_write_pj_per_bit", "obuf_read_pj_per_bit", "obuf_write_pj_per_bit"})
    EXPECT_NEAR(rtl.at(key), paper.at(key) * 28.0 / 45.0, 5e-4) << key;
}

}  // namespace
}  // namespace mixpe::sim
