// AWQ scale search: per-input-channel scales from activation magnitudes, chosen by output error.
#include "quant/awq.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::quant {
namespace {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::vector<float> scales_for(const Eigen::VectorXd& mean_abs, double alpha) {
  const Eigen::Index k = mean_abs.size();
  const double floor = std::max(mean_abs.maxCoeff() * 1e-6, 1e-30);
  std::vector<double> s(k);
  double lo = INFINITY, hi = 0.0;
  for (Eigen::Index j = 0; j < k; ++j) {
    s[j] = std::pow(std::max(mean_abs[j], floor), alpha);
    lo = std::min(lo, s[j]);
    hi = std::max(hi, s[j]);
  }
  const double norm = std::sqrt(lo * hi);
  std::vector<float> out(k);
  for (Eigen::Index j = 0; j < k; ++j) out[j] = static_cast<float>(s[j] / norm);
  return out;
}

// ||X W^T - X W'^T||^2 = trace(D G D^T), D = W - W', G = X^T X.
double output_error(const Eigen::MatrixXd& d, const Eigen::MatrixXd& gram) {
  return (d * gram).cwiseProduct(d).sum();
}

}  // namespace

void AwqInputStats::add(std::span<const float> x, int rows_added) {
  const Eigen::Index k = gram.rows();
  if (rows_added < 0 || x.size() != static_cast<std::size_t>(rows_added) * k) {
    throw std::invalid_argument(fmt::format("AwqInputStats: {} values for [{}, {}]", x.size(), rows_added, k));
  }
  if (rows_added == 0) return;
  const Eigen::MatrixXd xd = Eigen::Map<const RowMatrixF>(x.data(), rows_added, k).cast<double>();
  gram.selfadjointView<Eigen::Lower>().rankUpdate(xd.transpose());
  gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();
  abs_sum += xd.cwiseAbs().colwise().sum().transpose();
  rows += rows_added;
}

std::vector<float> awq_scale_columns(std::span<const float> w, int n, int k, std::span<const float> scales) {
  assert(w.size() == static_cast<std::size_t>(n) * k && scales.size() == static_cast<std::size_t>(k));
  std::vector<float> out(w.size());
  for (int row = 0; row < n; ++row)
    for (int j = 0; j < k; ++j) out[static_cast<std::size_t>(row) * k + j] = w[static_cast<std::size_t>(row) * k + j] * scales[j];
  return out;
}

AwqSearchResult awq_search_scales(std::span<const AwqLayer> layers, int k, const AwqInputStats& stats,
                                  const WeightQuantConfig& cfg, const AwqOptions& opts) {
  if (layers.empty()) throw std::invalid_argument("awq_search_scales: no layers");
  const std::string& name = layers.front().name;
  if (stats.rows <= 0 || stats.gram.rows() != k) {
    throw std::invalid_argument(fmt::format("{}: AWQ needs calibration activations with K = {} (got {} rows of {})",
                                            name, k, stats.rows, stats.gram.rows()));
  }
  if (opts.grid <= 0) throw std::invalid_argument(fmt::format("{}: AWQ grid = {} must be positive", name, opts.grid));
  if (!stats.gram.allFinite()) throw std::invalid_argument(fmt::format("{}: calibration activations are not finite", name));
  for (const AwqLayer& l : layers) {
    if (l.n <= 0 || l.w.size() != static_cast<std::size_t>(l.n) * k) {
      throw std::invalid_argument(fmt::format("{}: {} weights for shape [{}, {}]", l.name, l.w.size(), l.n, k));
    }
  }
  const Eigen::VectorXd mean_abs = stats.abs_sum / static_cast<double>(stats.rows);

  AwqSearchResult best;
  best.error = INFINITY;
  for (int step = 0; step <= opts.grid; ++step) {
    const double alpha = static_cast<double>(step) / opts.grid;
    std::vector<float> s = scales_for(mean_abs, alpha);
    double err = 0.0;
    for (const AwqLayer& l : layers) {
      const std::vector<float> ws = awq_scale_columns(l.w, l.n, k, s);
      const QuantizedWeights q = quantize_weights_rtn(ws, l.n, k, cfg, l.name);
      Eigen::MatrixXd d(l.n, k);
      for (int row = 0; row < l.n; ++row)
        for (int j = 0; j < k; ++j)
          d(row, j) = static_cast<double>(l.w[static_cast<std::size_t>(row) * k + j]) - q.dequantized(row, j) / s[j];
      err += output_error(d, stats.gram);
    }
    if (step == 0) best.error_plain = err;
    if (err < best.error) {
      best.error = err;
      best.alpha = alpha;
      best.scales = std::move(s);
    }
  }
  return best;
}

AwqResult quantize_weights_awq(std::span<const float> w, int n, int k, std::span<const float> x, int rows,
                               const WeightQuantConfig& cfg, const AwqOptions& opts, const std::string& name) {
  cfg.validate(k, name);
  AwqInputStats stats(k);
  if (x.size() != static_cast<std::size_t>(rows) * k) {
    throw std::invalid_argument(fmt::format("{}: {} activation values for [{}, {}]", name, x.size(), rows, k));
  }
  stats.add(x, rows);
  const AwqLayer layer{w, n, name};
  AwqSearchResult s = awq_search_scales(std::span<const AwqLayer>(&layer, 1), k, stats, cfg, opts);
  AwqResult r;
  r.weights = quantize_weights_rtn(awq_scale_columns(w, n, k, s.scales), n, k, cfg, name);
  r.scales = std::move(s.scales);
  r.alpha = s.alpha;
  r.error = s.error;
  r.error_plain = s.error_plain;
  return r;
}

}  // namespace mixpe::quant
