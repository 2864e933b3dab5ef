// PEs, FP units, block-floating-point edge units and the dequantization unit against the quant/ oracles.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "Vunits.h"
#include "harness.h"
#include "quant/activations.h"
#include "quant/ant.h"
#include "quant/bitfusion.h"
#include "quant/float16.h"
#include "quant/pe_arith.h"

namespace mixpe::rtl_test {
namespace {

using quant::Half;
using quant::BFloat16;
using Units = Harness<Vunits, false>;

std::uint32_t fbits(float f) { return std::bit_cast<std::uint32_t>(f); }
float bfloat(std::uint32_t b) { return std::bit_cast<float>(b); }

// Bit-exact, except that any NaN matches any NaN (payloads are not part of the contract).
::testing::AssertionResult same_float(std::uint32_t got, float want) {
  if (std::isnan(want) && std::isnan(bfloat(got))) return ::testing::AssertionSuccess();
  if (got == fbits(want)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got 0x" << std::hex << got << " (" << bfloat(got) << "), want 0x"
                                       << fbits(want) << " (" << want << ")";
}

// Edge cases for binary32: zeros, subnormal limits, normal limits, infinities, NaN, values next
// to 1 and values whose sums or products are exact rounding ties.
std::vector<std::uint32_t> f32_edges() {
  std::vector<std::uint32_t> base = {0x00000000, 0x00000001, 0x007FFFFF, 0x00800000, 0x00800001, 0x7F7FFFFF,
                                     0x7F800000, 0x7FC00000, 0x3F800000, 0x3F800001, 0x3FFFFFFF, 0x33800000,
                                     0x34000000, 0x3F801000, 0x3F800800, 0x4B800001, 0x0C000000, 0x1F800000,
                                     0x5F800000, 0x00400000, 0x3EAAAAAB, 0x40490FDB};
  std::vector<std::uint32_t> out;
  for (std::uint32_t b : base) {
    out.push_back(b);
    out.push_back(b | 0x80000000u);
  }
  return out;
}

// Random binary32 patterns in three flavours: any bits, moderate exponents, and short
// significands (13 bits) whose products and sums often land exactly on rounding ties.
std::uint32_t random_f32(std::mt19937_64& rng) {
  const std::uint32_t r = static_cast<std::uint32_t>(rng());
  switch (rng() % 3) {
    case 0: return r;
    case 1: return (r & 0x807FFFFFu) | ((100u + (r >> 23) % 56u) << 23);
    default: return (r & 0x807FF800u) | ((110u + (r >> 23) % 36u) << 23);
  }
}

struct PeOut {
  std::int64_t u4, s4, u2, s2, s3, u8, a16, mac4, int8;
  std::uint32_t fp16;
};

PeOut read_pe(Units& u) {
  auto& t = u.top();
  return {sign_extend(t.p_u4_o, 19), sign_extend(t.p_s4_o, 19),  sign_extend(t.p_u2_o, 18),
          sign_extend(t.p_s2_o, 18), sign_extend(t.p_s3_o, 19),  sign_extend(t.p_u8_o, 23),
          sign_extend(t.p_a16_o, 27), sign_extend(t.p_mac4_o, 19), sign_extend(t.p_int8_o, 32),
          t.p_fp16_o};
}

void set_pe(Units& u, bool valid, bool last, int x8, int x16, int q8, std::uint16_t qh) {
  auto& t = u.top();
  t.pe_valid_i = valid;
  t.pe_last_i = last;
  t.x8_i = static_cast<std::uint8_t>(x8);
  t.x16_i = static_cast<std::uint16_t>(x16);
  t.q2_i = static_cast<std::uint8_t>(q8 & 0x3);
  t.q3_i = static_cast<std::uint8_t>(q8 & 0x7);
  t.q4_i = static_cast<std::uint8_t>(q8 & 0xF);
  t.q8_i = static_cast<std::uint8_t>(q8);
  t.qh_i = qh;
}

// Signed code value of the low `bits` bits.
int scode(int q, int bits) { return static_cast<int>(sign_extend(static_cast<std::uint64_t>(q), bits)); }

// Every (code, activation) pair of the 2/3/4-bit x INT8 PEs, one single-element group per cycle:
// the drained P is the product, checked against shift_add_product and plain multiplication.
TEST(RtlPe, ExhaustiveLowBitTimesInt8) {
  Units u;
  std::vector<std::pair<int, int>> pairs;
  for (int q = 0; q < 16; ++q)
    for (int x = -128; x < 128; ++x) pairs.emplace_back(q, x);
  for (std::size_t i = 0; i <= pairs.size(); ++i) {
    if (i < pairs.size()) set_pe(u, true, true, pairs[i].second, 0, pairs[i].first, 0);
    else set_pe(u, false, false, 0, 0, 0, 0);
    u.eval();
    if (i > 0) {
      const auto [q, x] = pairs[i - 1];
      ASSERT_TRUE(u->pe_valid_o);
      const PeOut p = read_pe(u);
      ASSERT_EQ(p.u4, quant::shift_add_product(q, 4, false, x)) << q << " * " << x;
      ASSERT_EQ(p.u4, q * x);
      ASSERT_EQ(p.s4, quant::shift_add_product(q, 4, true, x));
      ASSERT_EQ(p.s4, scode(q, 4) * x);
      ASSERT_EQ(p.mac4, q * x);
      ASSERT_EQ(p.u2, (q & 3) * x);
      ASSERT_EQ(p.s2, scode(q & 3, 2) * x);
      ASSERT_EQ(p.s3, scode(q & 7, 3) * x);
    }
    u.step();
  }
  EXPECT_FALSE(u.rtl_error());
}

TEST(RtlPe, ExhaustiveInt8TimesInt8) {
  Units u;
  for (int i = 0; i <= 65536; ++i) {
    if (i < 65536) set_pe(u, true, true, (i & 0xFF) - 128, 0, i >> 8, 0);
    else set_pe(u, false, false, 0, 0, 0, 0);
    u.eval();
    if (i > 0) {
      const int x = ((i - 1) & 0xFF) - 128, q = (i - 1) >> 8;
      const PeOut p = read_pe(u);
      ASSERT_EQ(p.u8, quant::shift_add_product(q, 8, false, x));
      ASSERT_EQ(p.u8, q * x);
      ASSERT_EQ(p.int8, scode(q, 8) * x);
    }
    u.step();
  }
  EXPECT_FALSE(u.rtl_error());
}

TEST(RtlPe, RandomAlignedMantissaTimesInt4) {
  Units u;
  std::mt19937_64 rng(7);
  const int n = 200000;
  std::vector<std::pair<int, int>> pairs;
  for (int x : {-32768, -16384, -1, 0, 1, 16384, 32767})
    for (int q = 0; q < 16; ++q) pairs.emplace_back(q, x);
  while (pairs.size() < static_cast<std::size_t>(n))
    pairs.emplace_back(static_cast<int>(rng() % 16), static_cast<int>(rng() % 65536) - 32768);
  for (std::size_t i = 0; i <= pairs.size(); ++i) {
    if (i < pairs.size()) set_pe(u, true, true, 0, pairs[i].second, pairs[i].first, 0);
    else set_pe(u, false, false, 0, 0, 0, 0);
    u.eval();
    if (i > 0) {
      const auto [q, x] = pairs[i - 1];
      ASSERT_EQ(read_pe(u).a16, quant::shift_add_product(q, 4, false, x)) << q << " * " << x;
    }
    u.step();
  }
}

// Random group lengths streamed back to back (and with idle cycles): each drained P equals the
// group's sum of shift_add_products, including worst-case groups at the accumulator width limit.
TEST(RtlPe, GroupSumsBackToBack) {
  Units u;
  std::mt19937_64 rng(11);
  struct Elem { int x8, x16, q; bool last; };
  std::vector<Elem> stream;
  std::vector<std::vector<Elem>> groups;
  auto add_group = [&](int len, auto gen) {
    std::vector<Elem> g;
    for (int j = 0; j < len; ++j) g.push_back(gen(j));
    g.back().last = true;
    groups.push_back(g);
  };
  add_group(128, [](int) { return Elem{-128, -32768, 15, false}; });
  add_group(128, [](int) { return Elem{-128, -32768, 8, false}; });
  add_group(128, [](int) { return Elem{127, 32767, 255, false}; });
  for (int i = 0; i < 300; ++i) {
    const int len = 1 + static_cast<int>(rng() % 128);
    add_group(len, [&](int) {
      return Elem{static_cast<int>(rng() % 256) - 128, static_cast<int>(rng() % 65536) - 32768,
                  static_cast<int>(rng() % 256), false};
    });
  }
  std::size_t next_check = 0;
  std::vector<PeOut> want;
  for (const auto& g : groups) {
    PeOut w{};
    for (const Elem& e : g) {
      w.u4 += quant::shift_add_product(e.q & 15, 4, false, e.x8);
      w.s4 += quant::shift_add_product(e.q & 15, 4, true, e.x8);
      w.u2 += quant::shift_add_product(e.q & 3, 2, false, e.x8);
      w.s2 += quant::shift_add_product(e.q & 3, 2, true, e.x8);
      w.s3 += quant::shift_add_product(e.q & 7, 3, true, e.x8);
      w.u8 += quant::shift_add_product(e.q, 8, false, e.x8);
      w.a16 += quant::shift_add_product(e.q & 15, 4, false, e.x16);
      w.mac4 += (e.q & 15) * e.x8;
      w.int8 += scode(e.q, 8) * e.x8;
    }
    want.push_back(w);
  }
  std::size_t gi = 0, ei = 0;
  bool pending = false;
  while (gi < groups.size() || pending) {
    bool fed_last = false;
    if (gi < groups.size() && rng() % 8 != 0) {
      const Elem& e = groups[gi][ei];
      set_pe(u, true, e.last, e.x8, e.x16, e.q, 0);
      fed_last = e.last;
    } else {
      set_pe(u, false, false, 0, 0, 0, 0);
    }
    u.eval();
    if (pending) {
      ASSERT_TRUE(u->pe_valid_o);
      const PeOut p = read_pe(u);
      const PeOut& w = want[next_check];
      ASSERT_EQ(p.u4, w.u4) << "group " << next_check;
      ASSERT_EQ(p.s4, w.s4);
      ASSERT_EQ(p.u2, w.u2);
      ASSERT_EQ(p.s2, w.s2);
      ASSERT_EQ(p.s3, w.s3);
      ASSERT_EQ(p.u8, w.u8);
      ASSERT_EQ(p.a16, w.a16);
      ASSERT_EQ(p.mac4, w.mac4);
      ASSERT_EQ(p.int8, w.int8);
      ++next_check;
      pending = false;
    }
    if (u->pe_valid_i) {
      if (fed_last) {
        pending = true;
        ++gi;
        ei = 0;
      } else {
        ++ei;
      }
    }
    u.step();
  }
  EXPECT_EQ(next_check, groups.size());
  EXPECT_FALSE(u.rtl_error());
}

// FP16 baseline PE: acc = +0 + x*w + ... in k order, exact products, FP32 additions.
TEST(RtlPe, Fp16MacMatchesHostFloat) {
  Units u;
  std::mt19937_64 rng(5);
  std::vector<std::uint16_t> specials = {0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x3C00, 0xBC00, 0x3555};
  std::vector<std::vector<std::pair<std::uint16_t, std::uint16_t>>> groups;
  for (std::uint16_t a : specials)
    for (std::uint16_t b : specials) groups.push_back({{a, b}});
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::pair<std::uint16_t, std::uint16_t>> g;
    const int len = 1 + static_cast<int>(rng() % 40);
    for (int j = 0; j < len; ++j) {
      auto rnd = [&]() -> std::uint16_t {
        const std::uint16_t r = static_cast<std::uint16_t>(rng());
        return (r & 0x7C00) == 0x7C00 ? static_cast<std::uint16_t>(r & 0xBFFF) : r;  // finite
      };
      g.emplace_back(rnd(), rnd());
    }
    groups.push_back(g);
  }
  for (std::size_t gi = 0; gi <= groups.size(); ++gi) {
    if (gi > 0) {
      float acc = 0.0f;
      for (auto [a, b] : groups[gi - 1]) acc += Half::from_bits(a).to_float() * Half::from_bits(b).to_float();
      set_pe(u, false, false, 0, 0, 0, 0);
      u.eval();
      ASSERT_TRUE(same_float(read_pe(u).fp16, acc)) << "group " << gi - 1;
    }
    if (gi == groups.size()) break;
    const auto& g = groups[gi];
    for (std::size_t j = 0; j < g.size(); ++j) {
      set_pe(u, true, j + 1 == g.size(), 0, g[j].first, 0, g[j].second);
      u.eval();
      u.step();
    }
  }
}

TEST(RtlFp, AddMatchesHostFloat) {
  Units u;
  std::mt19937_64 rng(1);
  auto check = [&](std::uint32_t a, std::uint32_t b) {
    u->add_a_i = a;
    u->add_b_i = b;
    u.eval();
    return same_float(u->add_y_o, bfloat(a) + bfloat(b)) << " for 0x" << std::hex << a << " + 0x" << b;
  };
  const auto edges = f32_edges();
  for (std::uint32_t a : edges)
    for (std::uint32_t b : edges) ASSERT_TRUE(check(a, b));
  for (int i = 0; i < 300000; ++i) {
    const std::uint32_t a = random_f32(rng);
    std::uint32_t b = random_f32(rng);
    // Nearby exponents and opposite signs exercise cancellation and renormalization.
    if (i % 4 == 0) b = (a ^ 0x80000000u) + static_cast<std::uint32_t>(rng() % 64) - 32u;
    ASSERT_TRUE(check(a, b));
  }
}

TEST(RtlFp, MulWithPowerOfTwoScaleMatchesHost) {
  Units u;
  std::mt19937_64 rng(2);
  auto check = [&](std::uint32_t a, std::uint32_t b, int adj) {
    u->mul_a_i = a;
    u->mul_b_i = b;
    u->mul_adj_i = static_cast<std::uint16_t>(adj & 0x1FF);
    u.eval();
    // The double product of two binary32 values is exact, and so is the power-of-two scale.
    const float want = adj == 0 ? bfloat(a) * bfloat(b)
                                : static_cast<float>(static_cast<double>(bfloat(a)) * bfloat(b) * std::ldexp(1.0, adj));
    return same_float(u->mul_y_o, want) << " for 0x" << std::hex << a << " * 0x" << b << " * 2^" << std::dec << adj;
  };
  const auto edges = f32_edges();
  for (std::uint32_t a : edges)
    for (std::uint32_t b : edges)
      for (int adj : {0, 1, -1, 100, -100, 255, -256}) ASSERT_TRUE(check(a, b, adj));
  for (int i = 0; i < 300000; ++i) {
    const int adj = (i % 2 == 0) ? 0 : static_cast<int>(rng() % 512) - 256;
    ASSERT_TRUE(check(random_f32(rng), random_f32(rng), adj));
  }
}

TEST(RtlFp, IntToFloat) {
  Units u;
  for (int v = -2048; v < 2048; ++v) {
    u->i2f12_i = static_cast<std::uint16_t>(v & 0xFFF);
    u.eval();
    ASSERT_TRUE(same_float(u->i2f12_y_o, static_cast<float>(v))) << v;
  }
  std::mt19937_64 rng(3);
  std::vector<std::int64_t> vals = {0, 1, -1, (1LL << 39) - 1, -(1LL << 39), (1LL << 24) + 1, (1LL << 24) + 3,
                                    -((1LL << 25) + 2), (1LL << 25) + 6, 0x7FFFFFLL, 0xFFFFFFLL};
  for (int i = 0; i < 200000; ++i) {
    const int width = 1 + static_cast<int>(rng() % 40);
    vals.push_back(sign_extend(rng(), width));
  }
  for (std::int64_t v : vals) {
    u->i2f40_i = static_cast<std::uint64_t>(v) & ((1ULL << 40) - 1);
    u.eval();
    ASSERT_TRUE(same_float(u->i2f40_y_o, static_cast<float>(v))) << v;
  }
}

TEST(RtlFp, HalfToFloatExhaustive) {
  Units u;
  for (std::uint32_t h = 0; h < 65536; ++h) {
    u->h2f_i = static_cast<std::uint16_t>(h);
    u.eval();
    ASSERT_TRUE(same_float(u->h2f_y_o, Half::from_bits(static_cast<std::uint16_t>(h)).to_float())) << h;
  }
}

TEST(RtlFp, FloatToHalfMatchesSoftFloat) {
  Units u;
  std::mt19937_64 rng(4);
  std::vector<std::uint32_t> vals = f32_edges();
  // Values on and next to binary16 rounding ties, subnormal ties and the overflow threshold.
  for (std::uint32_t h = 0; h < 0x7C00; h += 37) {
    const std::uint32_t f = fbits(Half::from_bits(static_cast<std::uint16_t>(h)).to_float());
    for (std::uint32_t d : {0u, 1u, 0xFFFu, 0x1000u, 0x1001u, 0x2000u}) vals.push_back(f + d);
  }
  vals.push_back(0x477FF000);
  vals.push_back(0x477FEFFF);
  for (int i = 0; i < 200000; ++i) vals.push_back(random_f32(rng));
  for (std::uint32_t f : vals) {
    for (std::uint32_t s : {0u, 0x80000000u}) {
      u->f2h_i = f ^ s;
      u.eval();
      const Half want = Half::from_float(bfloat(f ^ s));
      if (want.is_nan()) ASSERT_TRUE(Half::from_bits(u->f2h_y_o).is_nan());
      else ASSERT_EQ(u->f2h_y_o, want.bits()) << std::hex << (f ^ s);
    }
  }
}

TEST(RtlFp, HalfProductExactInFloat) {
  Units u;
  std::mt19937_64 rng(6);
  auto check = [&](std::uint16_t a, std::uint16_t b) {
    u->mul16_a_i = a;
    u->mul16_b_i = b;
    u.eval();
    return same_float(u->mul16_y_o, Half::from_bits(a).to_float() * Half::from_bits(b).to_float())
           << " for 0x" << std::hex << a << " * 0x" << b;
  };
  for (std::uint32_t a = 0; a < 65536; a += 61)
    for (std::uint16_t b : {0x0000, 0x8001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0x7C00, 0x7E01, 0xFBFF})
      ASSERT_TRUE(check(static_cast<std::uint16_t>(a), b));
  for (int i = 0; i < 300000; ++i)
    ASSERT_TRUE(check(static_cast<std::uint16_t>(rng()), static_cast<std::uint16_t>(rng())));
}

// Random finite FP16/BF16 values, biased towards small exponents so that groups mix binades.
template <typename T>
T random_small_float(std::mt19937_64& rng, bool bf16) {
  while (true) {
    std::uint16_t bits = static_cast<std::uint16_t>(rng());
    if (rng() % 4 == 0) bits = static_cast<std::uint16_t>(bits & (bf16 ? 0x807F : 0x83FF));  // zero or subnormal
    if (rng() % 6 == 0) bits = static_cast<std::uint16_t>(bits & 0x8000);
    const T v = T::from_bits(bits);
    if (v.is_finite()) return v;
  }
}

template <typename T>
void check_alignment(bool bf16) {
  Units u;
  std::mt19937_64 rng(bf16 ? 9 : 8);
  u->bf16_i = bf16;
  for (int group = 0; group < 4000; ++group) {
    const int len = 1 + static_cast<int>(rng() % 16);
    std::vector<T> xs;
    for (int j = 0; j < len; ++j) xs.push_back(random_small_float<T>(rng, bf16));
    quant::AlignedActivations want;
    if constexpr (std::is_same_v<T, BFloat16>) want = quant::align_activations_bf16(xs, 1, len, len);
    else want = quant::align_activations_fp16(xs, 1, len, len);
    const int e_shared = want.shift(0, 0) + quant::kAlignFracBits;
    for (int j = 0; j < len; ++j) {
      u->me_valid_i = 1;
      u->me_first_i = j == 0;
      u->me_x_i = xs[j].bits();
      u->al_x_i = xs[j].bits();
      u->al_e_i = static_cast<std::uint16_t>(e_shared & 0x1FF);
      u.eval();
      ASSERT_EQ(sign_extend(u->al_mant_o, 16), want.mant(0, j)) << "group " << group << " element " << j;
      u.step();
    }
    u->me_valid_i = 0;
    u.eval();
    ASSERT_EQ(sign_extend(u->me_e_o, 9), e_shared) << "group " << group;
  }
}

TEST(RtlBfp, Fp16AlignmentAndSharedExponent) { check_alignment<Half>(false); }
TEST(RtlBfp, Bf16AlignmentAndSharedExponent) { check_alignment<BFloat16>(true); }

// The dequantization unit alone, over the full shift range of BF16 activations (subnormal and
// overflowing products included), against dequantize_group and FP32 accumulation in group order.
TEST(RtlDequant, MatchesDequantizeGroup) {
  Units u;
  std::mt19937_64 rng(10);
  constexpr int kRows = 4;
  auto& t = u.top();
  for (int tile = 0; tile < 400; ++tile) {
    const int groups = 1 + static_cast<int>(rng() % 6);
    const float sx = tile % 3 == 0 ? 1.0f : std::ldexp(static_cast<float>(rng() % 1000 + 1), -12);
    float acc[kRows] = {0, 0, 0, 0};
    std::vector<std::pair<int, float>> want;
    std::vector<std::pair<int, std::uint32_t>> got;
    auto collect = [&]() {
      if (t.dq_valid_o) got.emplace_back(t.dq_row_o, t.dq_y_o);
    };
    for (int g = 0; g < groups; ++g) {
      const int z = static_cast<int>(rng() % 16);
      std::uint16_t s = static_cast<std::uint16_t>(rng() & 0x7FFF);
      if ((s & 0x7C00) == 0x7C00) s &= 0x03FF;
      t.dq_zs_load_i = 1;
      t.dq_z_i = static_cast<std::uint8_t>(z);
      t.dq_s_i = s;
      t.dq_valid_i = 0;
      u.eval();
      collect();
      u.step();
      t.dq_zs_load_i = 0;
      for (int r = kRows - 1; r >= 0; --r) {
        const std::int64_t p = sign_extend(rng(), 1 + static_cast<int>(rng() % 27));
        const std::int64_t a = sign_extend(rng(), 1 + static_cast<int>(rng() % 25));
        const int sh = static_cast<int>(rng() % 254) - 139;
        t.dq_valid_i = 1;
        t.dq_p_i = static_cast<std::uint32_t>(p) & ((1u << 27) - 1);
        t.dq_a_i = static_cast<std::uint32_t>(a) & ((1u << 25) - 1);
        t.dq_sh_i = static_cast<std::uint16_t>(sh & 0x1FF);
        t.dq_sx_i = fbits(sx);
        t.dq_first_i = g == 0;
        t.dq_last_i = g == groups - 1;
        t.dq_row_i = static_cast<std::uint8_t>(r);
        acc[r] += quant::dequantize_group(p - z * a, Half::from_bits(s), sh);
        if (g == groups - 1) want.emplace_back(r, acc[r] * sx);
        u.eval();
        collect();
        u.step();
      }
      t.dq_valid_i = 0;
    }
    for (int i = 0; i < 6; ++i) {
      u.eval();
      collect();
      u.step();
    }
    ASSERT_EQ(got.size(), want.size()) << "tile " << tile;
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(static_cast<int>(got[i].first), want[i].first);
      ASSERT_TRUE(same_float(got[i].second, want[i].second)) << "tile " << tile << " row " << want[i].first;
    }
  }
}

// BitFusion: widths 2/4/8 as mode 0/1/2. A cycle's operands: (8/w)(8/a) products, product p
// taking q[p*w +: w] and x[p*a +: a] as two's complement numbers.
struct BfCycle {
  int wbits, abits;
  std::uint32_t q, x;
};

int bf_mode(int bits) { return bits == 2 ? 0 : bits == 4 ? 1 : 2; }

// The oracle: every product through quant::bitfusion_product, also checked against plain multiplication.
std::int64_t bf_cycle_sum(const BfCycle& c) {
  std::int64_t sum = 0, plain = 0;
  for (int p = 0; p < quant::bitfusion_products_per_cycle(c.wbits, c.abits); ++p) {
    const int w = static_cast<int>(c.q >> (p * c.wbits)), x = static_cast<int>(c.x >> (p * c.abits));
    sum += quant::bitfusion_product(w, c.wbits, x, c.abits);
    plain += sign_extend(static_cast<std::uint64_t>(w), c.wbits) * sign_extend(static_cast<std::uint64_t>(x), c.abits);
  }
  EXPECT_EQ(sum, plain);
  return sum;
}

void set_bf(Units& u, bool valid, bool last, const BfCycle& c) {
  set_pe(u, valid, last, 0, 0, 0, 0);
  u->bf_wmode_i = static_cast<std::uint8_t>(bf_mode(c.wbits));
  u->bf_amode_i = static_cast<std::uint8_t>(bf_mode(c.abits));
  u->bf_q_i = c.q;
  u->bf_x_i = c.x;
}

TEST(RtlBitFusion, BitBrickExhaustive) {
  Units u;
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b)
      for (int as = 0; as < 2; ++as)
        for (int bs = 0; bs < 2; ++bs) {
          u->bb_a_i = static_cast<std::uint8_t>(a);
          u->bb_as_i = static_cast<std::uint8_t>(as);
          u->bb_b_i = static_cast<std::uint8_t>(b);
          u->bb_bs_i = static_cast<std::uint8_t>(bs);
          u.eval();
          ASSERT_EQ(sign_extend(u->bb_p_o, 5), quant::bitbrick_product(a, as != 0, b, bs != 0))
              << a << (as ? "s" : "u") << " * " << b << (bs ? "s" : "u");
        }
}

// One-cycle groups, so each drained value is one cycle's fused sum, in all nine width modes: every
// product slot through every (weight, activation) pair (W8A8: all 65536), extreme patterns and
// random cycles.
TEST(RtlBitFusion, FusedSumEveryMode) {
  Units u;
  std::mt19937_64 rng(21);
  std::vector<BfCycle> cycles;
  for (int wb : {2, 4, 8})
    for (int ab : {2, 4, 8}) {
      // All operands at the most negative value, all at the most positive, alternating.
      for (std::uint32_t pattern : {0x80808080u, 0x88888888u, 0xAAAAAAAAu, 0x7F7F7F7Fu, 0x77777777u, 0x55555555u, 0u, 0xFFFFFFFFu})
        for (std::uint32_t xpattern : {0x80808080u, 0x88888888u, 0xAAAAAAAAu, 0x7F7F7F7Fu, 0x55555555u, 0xFFFFFFFFu})
          cycles.push_back({wb, ab, pattern, xpattern});
      // Each product slot through every (weight, activation) pair while the other slots hold random
      // operands, then random cycles.
      const int products = quant::bitfusion_products_per_cycle(wb, ab);
      for (int p = 0; p < products; ++p)
        for (std::uint32_t w = 0; w < (1u << wb); ++w)
          for (std::uint32_t x = 0; x < (1u << ab); ++x) {
            std::uint32_t q = static_cast<std::uint32_t>(rng()), xs = static_cast<std::uint32_t>(rng());
            q = (q & ~(((1u << wb) - 1) << (p * wb))) | (w << (p * wb));
            xs = (xs & ~(((1u << ab) - 1) << (p * ab))) | (x << (p * ab));
            cycles.push_back({wb, ab, q, xs});
          }
      for (int i = 0; i < 5000; ++i)
        cycles.push_back({wb, ab, static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng())});
    }
  for (std::size_t i = 0; i <= cycles.size(); ++i) {
    if (i < cycles.size()) set_bf(u, true, true, cycles[i]);
    else set_bf(u, false, false, cycles[i - 1]);
    u.eval();
    if (i > 0) {
      const BfCycle& c = cycles[i - 1];
      ASSERT_TRUE(u->pe_valid_o);
      ASSERT_EQ(sign_extend(u->p_bf_o, 32), bf_cycle_sum(c))
          << "W" << c.wbits << "A" << c.abits << " q 0x" << std::hex << c.q << " x 0x" << c.x;
    }
    u.step();
  }
  EXPECT_FALSE(u.rtl_error());
}

// Streams groups of `sizes[g]` elements into the units top, skipping one cycle in eight at random
// (`feed(g, e, valid, last)` sets the inputs; an idle cycle repeats group g's element 0 with
// valid low), and checks the sum `drained()` reads the cycle after each group's last element
// against want[g].
template <typename Feed, typename Drained>
void stream_groups(Units& u, std::mt19937_64& rng, const std::vector<std::size_t>& sizes, const std::vector<std::int64_t>& want,
                   Feed feed, Drained drained) {
  std::size_t gi = 0, ei = 0, checked = 0;
  bool pending = false;
  while (gi < sizes.size() || pending) {
    bool fed_last = false, fed = false;
    if (gi < sizes.size() && rng() % 8 != 0) {
      const bool last = ei + 1 == sizes[gi];
      feed(gi, ei, true, last);
      fed = true;
      fed_last = last;
    } else {
      feed(std::min(gi, sizes.size() - 1), std::size_t{0}, false, false);
    }
    u.eval();
    if (pending) {
      ASSERT_TRUE(u->pe_valid_o);
      ASSERT_EQ(drained(), want[checked]) << "group " << checked;
      ++checked;
      pending = false;
    }
    if (fed) {
      if (fed_last) {
        pending = true;
        ++gi;
        ei = 0;
      } else {
        ++ei;
      }
    }
    u.step();
  }
  EXPECT_EQ(checked, sizes.size());
  EXPECT_FALSE(u.rtl_error());
}

// Groups of random length in random modes (W8A8, W4A8, W2A8 most often), back to back and with
// idle cycles: each drained value is the group's sum of all its products.
TEST(RtlBitFusion, GroupAccumulation) {
  Units u;
  std::mt19937_64 rng(22);
  std::vector<std::vector<BfCycle>> groups;
  // Worst cases for the accumulator: 1024 cycles of -128 * -128 and of 127 * -128.
  groups.push_back(std::vector<BfCycle>(1024, BfCycle{8, 8, 0x80, 0x80}));
  groups.push_back(std::vector<BfCycle>(1024, BfCycle{8, 8, 0x80, 0x7F}));
  const int modes[][2] = {{8, 8}, {4, 8}, {2, 8}, {8, 8}, {4, 8}, {2, 8}, {4, 4}, {2, 2}, {8, 4}, {8, 2}, {2, 4}, {4, 2}};
  for (int g = 0; g < 400; ++g) {
    const auto& m = modes[rng() % std::size(modes)];
    std::vector<BfCycle> cyc;
    const int len = 1 + static_cast<int>(rng() % 300);
    for (int j = 0; j < len; ++j) cyc.push_back({m[0], m[1], static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng())});
    groups.push_back(cyc);
  }
  std::vector<std::int64_t> want;
  for (const auto& g : groups) {
    std::int64_t s = 0;
    for (const BfCycle& c : g) s += bf_cycle_sum(c);
    want.push_back(s);
  }
  std::vector<std::size_t> sizes;
  for (const auto& g : groups) sizes.push_back(g.size());
  stream_groups(
      u, rng, sizes, want, [&](std::size_t g, std::size_t e, bool valid, bool last) { set_bf(u, valid, last, groups[g][e]); },
      [&] { return sign_extend(u->p_bf_o, 32); });
}

void set_ant(Units& u, bool valid, bool last, quant::AntType type, int code, int x) {
  set_pe(u, valid, last, x, 0, code, 0);
  u->ant_type_i = static_cast<std::uint8_t>(type);
}

TEST(RtlAnt, DecoderMatchesTheOracle) {
  Units u;
  for (quant::AntType t : quant::kAntTypes)
    for (int c = 0; c < 16; ++c) {
      set_ant(u, false, false, t, c, 0);
      u.eval();
      const quant::AntDecoded d = quant::ant_decode(t, c);
      ASSERT_EQ(sign_extend(u->ant_mant_o, 5), d.mant) << quant::ant_type_name(t) << " code " << c;
      ASSERT_EQ(static_cast<int>(u->ant_shift_o), d.shift) << quant::ant_type_name(t) << " code " << c;
    }
}

// Every (type, code, activation): the drained one-element group is the decoded value times x.
TEST(RtlAnt, ExhaustiveCodeTimesInt8) {
  Units u;
  struct Item { quant::AntType t; int code, x; };
  std::vector<Item> items;
  for (quant::AntType t : quant::kAntTypes)
    for (int c = 0; c < 16; ++c)
      for (int x = -128; x < 128; ++x) items.push_back({t, c, x});
  for (std::size_t i = 0; i <= items.size(); ++i) {
    if (i < items.size()) set_ant(u, true, true, items[i].t, items[i].code, items[i].x);
    else set_ant(u, false, false, items[i - 1].t, 0, 0);
    u.eval();
    if (i > 0) {
      const Item& it = items[i - 1];
      ASSERT_TRUE(u->pe_valid_o);
      ASSERT_EQ(sign_extend(u->p_ant_o, 32), static_cast<std::int64_t>(quant::ant_value(it.t, it.code)) * it.x)
          << quant::ant_type_name(it.t) << " code " << it.code << " x " << it.x;
    }
    u.step();
  }
  EXPECT_FALSE(u.rtl_error());
}

// Groups of random length and type, with idle cycles, against the oracle's integer sum
// (the inner loop of gemm_ant_ref: (mant * x) << shift).
TEST(RtlAnt, GroupAccumulation) {
  Units u;
  std::mt19937_64 rng(23);
  struct Elem { int code, x; };
  std::vector<quant::AntType> types;
  std::vector<std::vector<Elem>> groups;
  // Worst case: 4096 elements of -64 * -128 (PoT).
  types.push_back(quant::AntType::kPot);
  groups.push_back(std::vector<Elem>(4096, Elem{15, -128}));
  for (int g = 0; g < 400; ++g) {
    types.push_back(quant::kAntTypes[rng() % quant::kAntTypeCount]);
    std::vector<Elem> e;
    const int len = 1 + static_cast<int>(rng() % 300);
    for (int j = 0; j < len; ++j) e.push_back({static_cast<int>(rng() % 16), static_cast<int>(rng() % 256) - 128});
    groups.push_back(e);
  }
  std::vector<std::int64_t> want;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::int64_t s = 0;
    for (const Elem& e : groups[g]) {
      const quant::AntDecoded d = quant::ant_decode(types[g], e.code);
      s += (static_cast<std::int64_t>(d.mant) * e.x) << d.shift;
    }
    want.push_back(s);
  }
  std::vector<std::size_t> sizes;
  for (const auto& g : groups) sizes.push_back(g.size());
  // An idle cycle feeds code 0 and activation 0, as before the stream helper.
  stream_groups(
      u, rng, sizes, want,
      [&](std::size_t g, std::size_t e, bool valid, bool last) {
        set_ant(u, valid, last, types[g], valid ? groups[g][e].code : 0, valid ? groups[g][e].x : 0);
      },
      [&] { return sign_extend(u->p_ant_o, 32); });
}

}  // namespace
}  // namespace mixpe::rtl_test
