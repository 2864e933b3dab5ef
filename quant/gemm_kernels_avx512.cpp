// AVX-512 (F/BW/VL/DQ/VNNI) traits for the kernel templates: one zmm per 16-column block.
#include <immintrin.h>

#include <cstring>

#include "quant/gemm_kernels_simd.h"

namespace mixpe::quant::kernels {
namespace {

struct Avx512 {
  static constexpr int kMaxRows = 8;
  static constexpr int kFp16Rows = 4;
  static constexpr int kFp16Blocks = 4;
  using I = __m512i;
  using F = __m512;

  static std::int32_t load32(const void* p) {
    std::int32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }

  static I zero() { return _mm512_setzero_si512(); }
  static I load(const std::uint8_t* p) { return _mm512_loadu_si512(p); }
  // Code slot `slot` of every byte: bits [slot * kBits, (slot + 1) * kBits).
  template <int kBits>
  static I unpack(I v, int slot) {
    if constexpr (kBits == 8) {
      return v;
    } else {
      const I shifted = slot == 0 ? v : _mm512_srli_epi16(v, static_cast<unsigned>(slot * kBits));
      return _mm512_and_si512(shifted, _mm512_set1_epi8(static_cast<char>((1 << kBits) - 1)));
    }
  }
  static I add(I a, I b) { return _mm512_add_epi32(a, b); }
  // acc += sum over t < 4 of code byte t (unsigned) * x[t] (signed), per column lane.
  static I dot8(I acc, I codes, const std::int8_t* x) { return _mm512_dpbusd_epi32(acc, codes, _mm512_set1_epi32(load32(x))); }
  // The same for 16-bit activations stored x0 x2 x1 x3: code bytes split into (c0, c2) and (c1, c3) words.
  static I dot16(I acc, I codes, const std::int16_t* x) {
    const I even = _mm512_and_si512(codes, _mm512_set1_epi16(0x00FF));
    const I odd = _mm512_srli_epi16(codes, 8);
    acc = _mm512_dpwssd_epi32(acc, even, _mm512_set1_epi32(load32(x)));
    return _mm512_dpwssd_epi32(acc, odd, _mm512_set1_epi32(load32(x + 2)));
  }
  static I group_sum(I p, const std::uint8_t* zeros, std::int32_t a) {
    const I z = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(zeros)));
    return _mm512_sub_epi32(p, _mm512_mullo_epi32(z, _mm512_set1_epi32(a)));
  }
  static F to_f(I v) { return _mm512_cvtepi32_ps(v); }  // round to nearest even (MXCSR default)
  static F fset(float v) { return _mm512_set1_ps(v); }
  static F bcast(float v) { return _mm512_set1_ps(v); }
  static F half(const std::uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  // fp32(g * s): the exact product of a 24-bit and an 11-bit significand, rounded once.
  static F mul_scale(F g, const std::uint16_t* s) { return _mm512_mul_ps(g, half(s)); }
  // fp32(double(g) * (double(s) * 2^shift)): exact in double, rounded once (pe_arith.h).
  static F mul_scale_pow2(F g, const std::uint16_t* s16, double pow2) {
    const F s = half(s16);
    const __m512d p = _mm512_set1_pd(pow2);
    const __m512d lo = _mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(g)), _mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(s)), p));
    const __m512d hi =
        _mm512_mul_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(g, 1)), _mm512_mul_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(s, 1)), p));
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
  }
  static F fadd(F a, F b) { return _mm512_add_ps(a, b); }
  static F fmul(F a, F b) { return _mm512_mul_ps(a, b); }
  static void store_i(std::int32_t* out, I v) { _mm512_storeu_si512(out, v); }
  static F load_f(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* y, F v, int cols) {
    if (cols == kBlockCols) {
      _mm512_storeu_ps(y, v);
    } else {
      _mm512_mask_storeu_ps(y, static_cast<__mmask16>((1u << cols) - 1u), v);
    }
  }
};

}  // namespace

const KernelSet kAvx512Kernels{"avx512", &mixpe_kernel<Avx512>, &fp16_kernel<Avx512>, &half_to_float<Avx512>};

}  // namespace mixpe::quant::kernels
