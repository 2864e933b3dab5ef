// Error metrics between a reference and a test vector.
#pragma once

#include <span>

namespace mixpe::quant {

struct ErrorMetrics {
  double sqnr_db = 0.0;       // 10 log10(sum ref^2 / sum (ref - test)^2); +inf when identical
  double rel_frobenius = 0.0; // ||ref - test||_F / ||ref||_F
  double max_abs = 0.0;       // max |ref - test|
};

ErrorMetrics compare(std::span<const double> ref, std::span<const double> test);
ErrorMetrics compare(std::span<const double> ref, std::span<const float> test);

}  // namespace mixpe::quant
