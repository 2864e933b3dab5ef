// AcceleratorConfig: presets, overrides, the key table, and a clear error for every bad key/value class.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/config.h"

namespace mixpe::sim {
namespace {

// Expects parse to throw std::invalid_argument whose message contains every fragment.
void expect_error(const std::string& yaml, const std::vector<std::string>& overrides, const std::vector<std::string>& fragments) {
  try {
    parse_config_text(yaml, "test.yaml", overrides);
    FAIL() << "expected an error for:\n" << yaml;
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "message lacks '" << f << "': " << msg;
  }
}

TEST(Config, PaperPresetsLoadWithTheirArrays) {
  struct Want { const char* name; int rows, cols; PeType pe; ActType act; int bits; };
  const Want wants[] = {{"mixpe_w4a8_64x64", 64, 64, PeType::kMixpe, ActType::kInt8, 4},
                        {"mixpe_w4a16_32x32", 32, 32, PeType::kMixpe, ActType::kFp16, 4},
                        {"fp16_32x28", 32, 28, PeType::kFp16, ActType::kFp16, 4},
                        {"int8_32x32", 32, 32, PeType::kInt8, ActType::kInt8, 8}};
  for (const auto& w : wants) {
    const AcceleratorConfig c = load_config(w.name);
    EXPECT_EQ(c.name, w.name);
    EXPECT_EQ(c.rows, w.rows) << w.name;
    EXPECT_EQ(c.cols, w.cols) << w.name;
    EXPECT_EQ(c.pe_type, w.pe) << w.name;
    EXPECT_EQ(c.act_type, w.act) << w.name;
    EXPECT_EQ(c.weight_bits, w.bits) << w.name;
    // Reference setup: 500 MHz, WBUF 128 KiB, IBUF 256 KiB, OBUF 128 KiB, 1024 bit/cycle DRAM.
    EXPECT_EQ(c.clock_mhz, 500.0);
    EXPECT_EQ(c.wbuf.size_kib, 128);
    EXPECT_EQ(c.ibuf.size_kib, 256);
    EXPECT_EQ(c.obuf.size_kib, 128);
    EXPECT_EQ(c.dram.preset, "ideal_1024b");
    EXPECT_EQ(c.dram.bus_bits, 1024);
    EXPECT_EQ(c.dram.clock_mhz, 500.0);
  }
}

TEST(Config, EveryPresetFileValidates) {
  const auto names = list_presets();
  ASSERT_GE(names.size(), 9u);
  for (const auto& n : names) EXPECT_NO_THROW(load_config(n)) << n;
}

TEST(Config, OverridesApplyAfterTheFile) {
  const AcceleratorConfig c = load_config("mixpe_w4a8_64x64", {"array.rows=8", "array.cols = 4", "dram.preset=ddr4_3200", "dram.tcl_ns=15"});
  EXPECT_EQ(c.rows, 8);
  EXPECT_EQ(c.cols, 4);
  EXPECT_EQ(c.dram.preset, "ddr4_3200");
  EXPECT_EQ(c.dram.bus_bits, 64);     // from the preset
  EXPECT_EQ(c.dram.tcl_ns, 15.0);     // explicit key refines the preset
  EXPECT_EQ(c.dram.trcd_ns, 13.75);
}

// Each DRAM preset carries its own energy, and every value has a non-empty source.
TEST(Config, DramPresetsCarryTheirOwnEnergy) {
  const DramConfig ddr4 = dram_preset("ddr4_3200"), lp5 = dram_preset("lpddr5_6400"), hbm = dram_preset("hbm2"),
                   ideal = dram_preset("ideal_1024b");
  // TN-40-07 from the MTA4ATF51264AZ IDD set: 852 mA x 1.2 V / 170.7 Gb/s; 9236 pJ per activate; 270 mW.
  EXPECT_DOUBLE_EQ(ddr4.read_pj_per_bit, 5.99);
  EXPECT_DOUBLE_EQ(ddr4.write_pj_per_bit, 5.46);
  EXPECT_DOUBLE_EQ(ddr4.activate_pj, 9236.0);
  EXPECT_DOUBLE_EQ(ddr4.background_mw, 270.0);
  EXPECT_DOUBLE_EQ(hbm.read_pj_per_bit, 3.9);
  EXPECT_DOUBLE_EQ(lp5.read_pj_per_bit, 4.5);
  // The paper's interface keeps the paper's per-bit energies and nothing else.
  EXPECT_DOUBLE_EQ(ideal.read_pj_per_bit, 0.629);
  EXPECT_DOUBLE_EQ(ideal.write_pj_per_bit, 0.766);
  EXPECT_EQ(ideal.activate_pj, 0.0);
  EXPECT_EQ(ideal.background_mw, 0.0);
  EXPECT_NE(ddr4.read_pj_per_bit, lp5.read_pj_per_bit);
  EXPECT_NE(lp5.read_pj_per_bit, hbm.read_pj_per_bit);
  EXPECT_NE(hbm.read_pj_per_bit, ideal.read_pj_per_bit);
  for (const std::string& n : dram_preset_names()) {
    const DramEnergySources s = dram_energy_sources(n);
    EXPECT_FALSE(s.read.empty() || s.write.empty() || s.activate.empty() || s.background.empty()) << n;
  }
  EXPECT_NE(dram_energy_sources("ddr4_3200").activate.find("9236"), std::string::npos);
  EXPECT_THROW(dram_energy_sources("ddr9"), std::invalid_argument);
  // A config file's preset brings its energies along; the default config is the paper's interface.
  EXPECT_DOUBLE_EQ(parse_config_text("dram: {preset: hbm2}\n", "t.yaml").dram.read_pj_per_bit, 3.9);
  EXPECT_DOUBLE_EQ(AcceleratorConfig{}.dram.read_pj_per_bit, 0.629);
}

TEST(Config, DramEnergyKeysOverrideThePreset) {
  const AcceleratorConfig c = load_config("mixpe_w4a8_64x64", {"dram.preset=ddr4_3200", "dram.activate_pj=1000", "dram.background_mw=0",
                                                               "dram.read_pj_per_bit=2.5", "dram.write_pj_per_bit=3"});
  EXPECT_EQ(c.dram.activate_pj, 1000.0);
  EXPECT_EQ(c.dram.background_mw, 0.0);
  EXPECT_EQ(c.dram.read_pj_per_bit, 2.5);
  EXPECT_EQ(c.dram.write_pj_per_bit, 3.0);
  EXPECT_EQ(c.dram.bus_bits, 64);  // the rest still from the preset
  // The key order in the file does not matter: the preset applies first.
  const AcceleratorConfig f = parse_config_text("dram: {activate_pj: 5, preset: hbm2}\n", "t.yaml");
  EXPECT_EQ(f.dram.activate_pj, 5.0);
  EXPECT_EQ(f.dram.read_pj_per_bit, 3.9);
}

TEST(Config, IdealDramFollowsTheAcceleratorClock) {
  const AcceleratorConfig c = parse_config_text("clock_mhz: 800\n", "t.yaml");
  EXPECT_EQ(c.dram.clock_mhz, 800.0);
}

TEST(Config, KeyTableDescribesEveryKey) {
  const auto params = describe_parameters();
  EXPECT_GE(params.size(), 30u);
  for (const auto& p : params) {
    EXPECT_FALSE(p.description.empty()) << p.key;
    EXPECT_FALSE(p.default_value.empty()) << p.key;
  }
}

TEST(Config, VerilatorParametersComeFromTheSameConfig) {
  const auto flags = verilator_parameters(load_config("mixpe_w4a8_64x64", {"array.rows=16"}));
  const std::vector<std::string> want = {"-GRows=16", "-GCols=64", "-GPeKind=0", "-GActFp=0", "-GWBits=4", "-GWSigned=0", "-GGroupMax=128"};
  EXPECT_EQ(flags, want);
  const std::vector<std::string> w16 = {"-GRows=32", "-GCols=32", "-GPeKind=0", "-GActFp=1", "-GWBits=4", "-GWSigned=0", "-GGroupMax=128"};
  EXPECT_EQ(verilator_parameters(load_config("mixpe_w4a16_32x32")), w16);
  const std::vector<std::string> i8 = {"-GRows=32", "-GCols=32", "-GPeKind=1", "-GActFp=0", "-GWBits=8", "-GWSigned=1", "-GGroupMax=4096"};
  EXPECT_EQ(verilator_parameters(load_config("int8_32x32")), i8);
}

TEST(ConfigErrors, UnknownKeyInFileAndOverride) {
  expect_error("array:\n  rowz: 8\n", {}, {"test.yaml", "array.rowz", "unknown key"});
  expect_error("", {"array.colz=3"}, {"override", "array.colz", "unknown key"});
}

TEST(ConfigErrors, WrongTypes) {
  expect_error("array: {rows: eight}\n", {}, {"test.yaml", "array.rows", "eight", "not an integer"});
  expect_error("array: {rows: 8.5}\n", {}, {"array.rows", "8.5", "not an integer"});
  expect_error("clock_mhz: fast\n", {}, {"clock_mhz", "fast", "not a finite number"});
  expect_error("array: {rows: [1, 2]}\n", {}, {"array.rows", "expected a scalar"});
  expect_error("array:\n  rows:\n", {}, {"array.rows", "missing value"});
}

TEST(ConfigErrors, OutOfRange) {
  expect_error("array: {rows: 0}\n", {}, {"array.rows", "'0'", "out of range"});
  expect_error("clock_mhz: -5\n", {}, {"clock_mhz", "-5", "out of range"});
  expect_error("buffers: {wbuf: {size_kib: 0}}\n", {}, {"buffers.wbuf.size_kib", "out of range"});
  expect_error("dram: {read_pj_per_bit: -0.5}\n", {}, {"test.yaml", "dram.read_pj_per_bit", "'-0.5'", "out of range [0,"});
  expect_error("", {"dram.write_pj_per_bit=-1"}, {"override", "dram.write_pj_per_bit", "'-1'", "out of range"});
  expect_error("", {"dram.activate_pj=lots"}, {"override", "dram.activate_pj", "lots", "not a finite number"});
  expect_error("dram: {background_mw: -3}\n", {}, {"test.yaml", "dram.background_mw", "'-3'", "out of range"});
}

TEST(ConfigErrors, BadEnumsAndNames) {
  expect_error("array: {pe_type: tpu}\n", {}, {"array.pe_type", "tpu", "mixpe, fp16, int8"});
  expect_error("array: {act_type: fp8}\n", {}, {"array.act_type", "fp8"});
  expect_error("dram: {preset: ddr9}\n", {}, {"dram.preset", "ddr9", "ddr4_3200"});
  expect_error("array: {model: rtl}\n", {}, {"array.model", "rtl", "pe, tile"});
}

TEST(ConfigErrors, CrossFieldRules) {
  expect_error("array: {weight_bits: 5}\n", {}, {"array.weight_bits", "'5'", "2, 3, 4 or 8"});
  expect_error("array: {pe_type: fp16, act_type: int8}\n", {}, {"array.act_type", "int8", "fp16 PE"});
  expect_error("array: {pe_type: int8, act_type: int8, weight_bits: 8, weight_signed: true, group_size: 128}\n", {}, {"array.group_size", "128", "per-channel"});
  expect_error("array: {pe_type: int8, act_type: int8, weight_bits: 8, group_size: -1}\n", {}, {"array.weight_signed", "false", "symmetric"});
  expect_error("array: {group_size: 256, group_max: 128}\n", {}, {"array.group_max", "128", "array.group_size (256)"});
  expect_error("array: {weight_signed: yes}\n", {}, {"array.weight_signed", "yes", "false, true"});
  expect_error("array: {group_size: 0}\n", {}, {"array.group_size", "'0'"});
  expect_error("buffers: {ibuf: {bank_width_bits: 12}}\n", {}, {"buffers.ibuf.bank_width_bits", "12", "multiple of 8"});
  expect_error("buffers: {obuf: {banks: 3}}\n", {}, {"buffers.obuf.banks", "'3'", "power of two"});
  expect_error("dram: {preset: ddr4_3200, trfc_ns: 9000}\n", {}, {"dram.trfc_ns", "9000", "dram.trefi_ns"});
  expect_error("dram: {preset: ddr4_3200, row_bytes: 100}\n", {}, {"dram.row_bytes", "100", "burst size (64 bytes)"});
  expect_error("array: {pe_type: fp16, act_type: fp16, dataflow: both}\n", {}, {"array.dataflow", "both", "fp16 PE"});
  expect_error("array: {rows: 64, group_size: 32, dataflow: ws}\n", {}, {"array.dataflow", "ws", "array.rows (64)", "(32)"});
  expect_error("array: {weight_bits: 8, dataflow: ws, ws_load_bits: 4}\n", {}, {"array.ws_load_bits", "'4'", "8-bit"});
  expect_error("array: {dataflow: sideways}\n", {}, {"array.dataflow", "sideways", "os, ws, both"});
  // `both` runs the GEMMs whose group R does not divide output-stationary instead of failing.
  EXPECT_NO_THROW(parse_config_text("array: {rows: 64, group_size: 32, dataflow: both}\n", "both.yaml"));
}

TEST(ConfigErrors, SyntaxFilesAndOverrideForm) {
  expect_error("array: {rows: 8\n", {}, {"test.yaml", "YAML syntax error"});
  expect_error("- 1\n- 2\n", {}, {"test.yaml", "top level must be a mapping"});
  expect_error("", {"array.rows"}, {"array.rows", "key=value"});
  try {
    load_config("no_such_preset");
    FAIL();
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("no_such_preset"), std::string::npos);
    EXPECT_NE(m.find("mixpe_w4a8_64x64"), std::string::npos) << "should list the available presets: " << m;
  }
  EXPECT_THROW(load_config("/nonexistent/dir/x.yaml"), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::sim
