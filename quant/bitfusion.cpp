// BitFusion oracle: every product through the BitBrick decomposition, then the INT8 baseline's scaling.
#include "quant/bitfusion.h"

#include <cassert>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::quant {
namespace {

bool supported_width(int bits) { return bits == 2 || bits == 4 || bits == 8; }

void check_weights(const QuantizedWeights& w, int x_k, const char* what) {
  if (x_k != w.k) {
    throw std::invalid_argument(fmt::format("{}: activation K = {} does not match weight K = {}", what, x_k, w.k));
  }
  if (!supported_width(w.bits) || !w.symmetric || w.group_size != w.k || w.has_mins()) {
    throw std::invalid_argument(fmt::format(
        "{}: weights must be symmetric per-channel with 2, 4 or 8 bits (got {}-bit, {}, group {} of K = {}{})", what,
        w.bits, w.symmetric ? "symmetric" : "asymmetric", w.group_size, w.k, w.has_mins() ? ", with group minimums" : ""));
  }
}

}  // namespace

int bitfusion_products_per_cycle(int wbits, int abits) {
  if (!supported_width(wbits) || !supported_width(abits)) {
    throw std::invalid_argument(fmt::format(
        "BitFusion: unsupported operand widths W{}A{} (weights and activations must each be 2, 4 or 8 bits)", wbits, abits));
  }
  return (8 / wbits) * (8 / abits);
}

std::vector<float> gemm_bitfusion_ref(const Int8Activations& x, const QuantizedWeights& w) {
  check_weights(w, x.k, "BitFusion GEMM");
  std::vector<float> y(static_cast<std::size_t>(x.m) * w.n);
  for (int row = 0; row < x.m; ++row) {
    for (int col = 0; col < w.n; ++col) {
      std::int64_t acc = 0;
      for (int j = 0; j < w.k; ++j) acc += bitfusion_product(w.code(col, j), w.bits, x.code(row, j), 8);
      assert(acc >= std::numeric_limits<std::int32_t>::min() && acc <= std::numeric_limits<std::int32_t>::max() &&
             "int32 accumulator overflow: K exceeds the bound in docs/numerics.md");
      const float wide = static_cast<float>(static_cast<std::int32_t>(acc)) * w.scale(col, 0).to_float();
      y[static_cast<std::size_t>(row) * w.n + col] = wide * x.scales[row];
    }
  }
  return y;
}

std::vector<float> gemm_bitfusion(const Int8Activations& x, const PreparedWeights& w, unsigned threads) {
  if (w.source == nullptr) throw std::invalid_argument("BitFusion GEMM: weights were not prepared");
  check_weights(*w.source, x.k, "BitFusion GEMM");
  return gemm_int8(x, w, threads);
}

}  // namespace mixpe::quant
