// AVX2 + F16C + AVX-VNNI traits for the kernel templates: a 16-column block is two ymm halves.
#include <immintrin.h>

#include <cstring>

#include "quant/gemm_kernels_simd.h"

namespace mixpe::quant::kernels {
namespace {

struct Avx2 {
  static constexpr int kMaxRows = 4;
  static constexpr int kFp16Rows = 2;
  static constexpr int kFp16Blocks = 2;
  struct I {
    __m256i lo, hi;  // columns 0-7 and 8-15 (bytes 0-31 and 32-63 of a code unit)
  };
  struct F {
    __m256 lo, hi;
  };

  static std::int32_t load32(const void* p) {
    std::int32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }

  static I zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256()}; }
  static I load(const std::uint8_t* p) {
    return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32))};
  }
  template <int kBits>
  static I unpack(I v, int slot) {
    if constexpr (kBits == 8) {
      return v;
    } else {
      const __m256i mask = _mm256_set1_epi8(static_cast<char>((1 << kBits) - 1));
      if (slot == 0) return {_mm256_and_si256(v.lo, mask), _mm256_and_si256(v.hi, mask)};
      return {_mm256_and_si256(_mm256_srli_epi16(v.lo, slot * kBits), mask), _mm256_and_si256(_mm256_srli_epi16(v.hi, slot * kBits), mask)};
    }
  }
  static I add(I a, I b) { return {_mm256_add_epi32(a.lo, b.lo), _mm256_add_epi32(a.hi, b.hi)}; }
  static I dot8(I acc, I codes, const std::int8_t* x) {
    const __m256i xv = _mm256_set1_epi32(load32(x));
    return {_mm256_dpbusd_avx_epi32(acc.lo, codes.lo, xv), _mm256_dpbusd_avx_epi32(acc.hi, codes.hi, xv)};
  }
  static I dot16(I acc, I codes, const std::int16_t* x) {
    const __m256i mask = _mm256_set1_epi16(0x00FF);
    const __m256i x02 = _mm256_set1_epi32(load32(x)), x13 = _mm256_set1_epi32(load32(x + 2));
    acc.lo = _mm256_dpwssd_avx_epi32(acc.lo, _mm256_and_si256(codes.lo, mask), x02);
    acc.hi = _mm256_dpwssd_avx_epi32(acc.hi, _mm256_and_si256(codes.hi, mask), x02);
    acc.lo = _mm256_dpwssd_avx_epi32(acc.lo, _mm256_srli_epi16(codes.lo, 8), x13);
    acc.hi = _mm256_dpwssd_avx_epi32(acc.hi, _mm256_srli_epi16(codes.hi, 8), x13);
    return acc;
  }
  static I group_sum(I p, const std::uint8_t* zeros, std::int32_t a) {
    const __m256i av = _mm256_set1_epi32(a);
    const __m256i zlo = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(zeros)));
    const __m256i zhi = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(zeros + 8)));
    return {_mm256_sub_epi32(p.lo, _mm256_mullo_epi32(zlo, av)), _mm256_sub_epi32(p.hi, _mm256_mullo_epi32(zhi, av))};
  }
  static F to_f(I v) { return {_mm256_cvtepi32_ps(v.lo), _mm256_cvtepi32_ps(v.hi)}; }
  static F fset(float v) { return {_mm256_set1_ps(v), _mm256_set1_ps(v)}; }
  static F bcast(float v) { return fset(v); }
  static F half(const std::uint16_t* p) {
    return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)))};
  }
  static F mul_scale(F g, const std::uint16_t* s) {
    const F sv = half(s);
    return {_mm256_mul_ps(g.lo, sv.lo), _mm256_mul_ps(g.hi, sv.hi)};
  }
  // Eight lanes through double: fp32(double(g) * (double(s) * 2^shift)), rounded once.
  static __m256 scale_pow2_8(__m256 g, __m256 s, __m256d p) {
    const __m256d lo = _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(g)), _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(s)), p));
    const __m256d hi =
        _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(g, 1)), _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(s, 1)), p));
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
  }
  static F mul_scale_pow2(F g, const std::uint16_t* s16, double pow2) {
    const F s = half(s16);
    const __m256d p = _mm256_set1_pd(pow2);
    return {scale_pow2_8(g.lo, s.lo, p), scale_pow2_8(g.hi, s.hi, p)};
  }
  static F fadd(F a, F b) { return {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)}; }
  static F fmul(F a, F b) { return {_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; }
  static void store_i(std::int32_t* out, I v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v.lo);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), v.hi);
  }
  static F load_f(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
  static void store(float* y, F v, int cols) {
    if (cols == kBlockCols) {
      _mm256_storeu_ps(y, v.lo);
      _mm256_storeu_ps(y + 8, v.hi);
      return;
    }
    alignas(32) float tmp[kBlockCols];
    _mm256_store_ps(tmp, v.lo);
    _mm256_store_ps(tmp + 8, v.hi);
    std::memcpy(y, tmp, sizeof(float) * static_cast<std::size_t>(cols));
  }
};

}  // namespace

const KernelSet kAvx2Kernels{"avx2", &mixpe_kernel<Avx2>, &fp16_kernel<Avx2>, &half_to_float<Avx2>};

}  // namespace mixpe::quant::kernels
