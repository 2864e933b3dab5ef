// The whole-design area model: composition checked against synthesized 4x4 arrays, scaling, errors.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "sim/area.h"
#include "sim/config.h"
#include "sim/energy.h"

namespace mixpe::sim {
namespace {

// Whole arrays rtl/synth/run.sh synthesizes to check the model (GroupMax as there). The column
// units are calibrated on the 4x4 arrays, so these 2x8 arrays are independent of the model.
struct ArrayCase {
  const char* key;
  const char* overrides[5];
};
const ArrayCase kArrays[] = {
    {"array2x8.mixpe.a8.w4", {"array.pe_type=mixpe", "array.act_type=int8", "array.weight_bits=4", "array.group_size=128", "array.group_max=128"}},
    {"array2x8.int8.w8", {"array.pe_type=int8", "array.act_type=int8", "array.weight_bits=8", "array.group_size=-1", "array.group_max=256"}},
};

AcceleratorConfig config_of(const ArrayCase& c, int rows, int cols) {
  std::vector<std::string> ov(std::begin(c.overrides), std::end(c.overrides));
  ov.push_back("array.rows=" + std::to_string(rows));
  ov.push_back("array.cols=" + std::to_string(cols));
  if (std::string(c.key).find("int8") != std::string::npos) ov.push_back("array.weight_signed=true");
  return load_config("default", ov);
}

TEST(Area, ComposedArrayMatchesASynthesizedArrayOfAnotherShape) {
  const UnitAreas& units = load_unit_areas();
  for (const ArrayCase& c : kArrays) {
    const double composed = array_transistors(config_of(c, 2, 8), units);
    const double synthesized = units.at(c.key);
    EXPECT_NEAR(composed / synthesized, 1.0, 0.05) << c.key << ": composed " << composed << " vs synthesized " << synthesized;
  }
}

TEST(Area, GrowsWithTheArrayAndTheBuffers) {
  const AcceleratorConfig base = load_config("mixpe_w4a8_64x64");
  const AreaBreakdown a = estimate_area(base);
  EXPECT_GT(a.total_mm2(), 0.0);
  EXPECT_NEAR(a.total_um2, a.logic_um2 + a.sram_um2, 1e-6 * a.total_um2);
  AcceleratorConfig wider = base;
  wider.cols = 128;
  EXPECT_GT(estimate_area(wider).logic_um2, a.logic_um2 * 1.5);
  EXPECT_DOUBLE_EQ(estimate_area(wider).sram_um2, a.sram_um2);
  AcceleratorConfig bigger = base;
  bigger.wbuf.size_kib *= 2;
  const TechTable tech = load_tech_table(base.tech);
  // SRAM area is linear in bits: 128 KiB more of WBUF adds 128 Ki x 8 bits x cell / efficiency.
  const double added = 128.0 * 1024 * 8 * tech.at("sram_bitcell_um2") / tech.at("sram_array_efficiency");
  EXPECT_NEAR(estimate_area(bigger).sram_um2 - a.sram_um2, added, 1e-6 * added);
  EXPECT_DOUBLE_EQ(estimate_area(bigger).logic_um2, a.logic_um2);
}

TEST(Area, NarrowerPesMakeASmallerArray) {
  const UnitAreas& units = load_unit_areas();
  const AcceleratorConfig w4 = load_config("mixpe_w4a8_32x32");
  AcceleratorConfig w2 = w4, w8 = w4;
  w2.weight_bits = 2;
  w8.weight_bits = 8;
  EXPECT_LT(array_transistors(w2, units), array_transistors(w4, units));
  EXPECT_LT(array_transistors(w4, units), array_transistors(w8, units));
  // The FP16 baseline's PE is the largest (docs/rtl.md).
  EXPECT_GT(array_transistors(load_config("fp16_32x28", {"array.cols=32"}), units), array_transistors(w8, units));
}

TEST(Area, PartsAddUpAndNameTheirBasis) {
  const AreaBreakdown a = estimate_area(load_config("mixpe_w4a16_32x32"));
  double sum = 0;
  for (const AreaPart& p : a.parts) {
    EXPECT_GT(p.um2, 0.0) << p.name;
    EXPECT_FALSE(p.basis.empty()) << p.name;
    sum += p.um2;
  }
  EXPECT_NEAR(sum, a.total_um2, 1e-9 * a.total_um2);
  EXPECT_GT(a.part_um2("PE array"), 0.0);
  EXPECT_EQ(a.part_um2("no such part"), 0.0);
}

TEST(Area, UncoveredConfigurationNamesTheKey) {
  AcceleratorConfig c = load_config("mixpe_w4a8_32x32");
  c.weight_bits = 5;
  try {
    estimate_area(c);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("array.weight_bits"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("5"), std::string::npos) << e.what();
  }
}

TEST(Area, UnitTableErrorsNameTheFileAndKey) {
  EXPECT_THROW(parse_unit_areas("units: [1, 2]", "u.yaml"), std::invalid_argument);
  try {
    parse_unit_areas("units:\n  pe.x: {transistors: many}\n", "u.yaml");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("u.yaml"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("units.pe.x.transistors"), std::string::npos);
  }
  const UnitAreas u = parse_unit_areas("units:\n  pe.x: {transistors: 12}\n", "u.yaml");
  EXPECT_EQ(u.at("pe.x"), 12.0);
  EXPECT_THROW(u.at("pe.y"), std::out_of_range);
}

}  // namespace
}  // namespace mixpe::sim
