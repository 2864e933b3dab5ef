// GPTQ: column-by-column quantization with inverse-Hessian error compensation, lazy batch updates.
#include "quant/gptq.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace mixpe::quant {

Eigen::MatrixXd gptq_hessian(std::span<const float> x, int rows, int k) {
  if (rows <= 0 || k <= 0 || x.size() != static_cast<std::size_t>(rows) * k) {
    throw std::invalid_argument(fmt::format("gptq_hessian: {} values for [{}, {}]", x.size(), rows, k));
  }
  using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd xd = Eigen::Map<const RowMatrixF>(x.data(), rows, k).cast<double>();
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(k, k);
  h.selfadjointView<Eigen::Lower>().rankUpdate(xd.transpose(), 2.0 / rows);
  return h.selfadjointView<Eigen::Lower>();
}

namespace {

// Upper Cholesky factor U of (H + damp I)^-1 (so that (H + damp I)^-1 = U^T U), or nullopt.
std::optional<Eigen::MatrixXd> inverse_cholesky_upper(const Eigen::MatrixXd& h, double damp) {
  Eigen::MatrixXd hd = h;
  hd.diagonal().array() += damp;
  const Eigen::LLT<Eigen::MatrixXd> llt(hd);
  if (llt.info() != Eigen::Success) return std::nullopt;
  const Eigen::MatrixXd hinv = llt.solve(Eigen::MatrixXd::Identity(h.rows(), h.cols()));
  const Eigen::LLT<Eigen::MatrixXd> llt2(hinv);
  if (llt2.info() != Eigen::Success || !hinv.allFinite()) return std::nullopt;
  Eigen::MatrixXd u = llt2.matrixU();
  if (!u.allFinite() || (u.diagonal().array() <= 0.0).any()) return std::nullopt;
  return u;
}

}  // namespace

QuantizedWeights quantize_weights_gptq(std::span<const float> w, int n, int k, const Eigen::MatrixXd& hessian,
                                       const WeightQuantConfig& cfg, const GptqOptions& opts,
                                       const std::string& name) {
  cfg.validate(k, name);
  if (n <= 0) throw std::invalid_argument(fmt::format("{}: N = {} must be positive", name, n));
  if (w.size() != static_cast<std::size_t>(n) * k) {
    throw std::invalid_argument(
        fmt::format("{}: has {} values but shape [{}, {}] needs {}", name, w.size(), n, k, static_cast<std::size_t>(n) * k));
  }
  if (hessian.rows() != k || hessian.cols() != k) {
    throw std::invalid_argument(
        fmt::format("{}: Hessian is {} x {} but the weight has K = {} inputs", name, hessian.rows(), hessian.cols(), k));
  }
  if (!hessian.allFinite()) throw std::invalid_argument(fmt::format("{}: Hessian has NaN or Inf entries", name));
  if (!(opts.damp_percent >= 0.0) || opts.block_size <= 0) {
    throw std::invalid_argument(fmt::format("{}: GPTQ damp_percent = {} must be >= 0 and block_size = {} > 0", name,
                                            opts.damp_percent, opts.block_size));
  }
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i])) {
      throw std::invalid_argument(fmt::format("{}: shape [{}, {}] element [{}, {}] is {} (weights must be finite)", name,
                                              n, k, i / k, i % k, w[i]));
    }
  }

  using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::MatrixXd wm = Eigen::Map<const RowMatrixF>(w.data(), n, k).cast<double>();  // column-major: columns are contiguous
  Eigen::MatrixXd h = hessian;
  for (int i = 0; i < k; ++i) {
    if (h(i, i) == 0.0) {  // an input that is always zero: its weights do not matter
      h(i, i) = 1.0;
      wm.col(i).setZero();
    }
  }

  const int g = cfg.effective_group(k);
  const int groups = k / g;
  std::vector<GroupQuantParams> params(static_cast<std::size_t>(n) * groups);
  std::vector<double> buf(g);
  auto set_group_params = [&](int grp, const Eigen::MatrixXd& values) {  // values: n x g
    for (int row = 0; row < n; ++row) {
      for (int j = 0; j < g; ++j) buf[j] = values(row, j);
      params[static_cast<std::size_t>(row) * groups + grp] =
          choose_group_params(buf, cfg, fmt::format("{}: shape [{}, {}] row {} group {}", name, n, k, row, grp));
    }
  };

  std::vector<int> perm(k);
  std::iota(perm.begin(), perm.end(), 0);
  if (opts.act_order) {
    std::stable_sort(perm.begin(), perm.end(), [&](int a, int b) { return h(a, a) > h(b, b); });
    for (int grp = 0; grp < groups; ++grp) set_group_params(grp, wm.middleCols(static_cast<Eigen::Index>(grp) * g, g));
    Eigen::MatrixXd wp(n, k), hp(k, k);
    for (int i = 0; i < k; ++i) wp.col(i) = wm.col(perm[i]);
    for (int i = 0; i < k; ++i)
      for (int j = 0; j < k; ++j) hp(i, j) = h(perm[i], perm[j]);
    wm = std::move(wp);
    h = std::move(hp);
  }

  const double mean_diag = h.diagonal().mean();
  std::optional<Eigen::MatrixXd> u;
  double damp = opts.damp_percent * mean_diag;
  for (int attempt = 0; attempt < 4 && !u; ++attempt, damp *= 10.0) {
    // A zero damping that fails still needs a positive value to grow from.
    if (damp == 0.0 && attempt > 0) damp = 1e-6 * mean_diag;
    u = inverse_cholesky_upper(h, damp);
  }
  if (!u) {
    throw std::runtime_error(fmt::format(
        "{}: GPTQ Cholesky factorization of the [{}, {}] Hessian failed even with damping {:g} (mean diagonal {:g})",
        name, k, k, damp / 10.0, mean_diag));
  }
  const Eigen::MatrixXd& hinv = *u;

  std::vector<std::int16_t> codes(static_cast<std::size_t>(n) * k);  // original column order
  for (int i1 = 0; i1 < k; i1 += opts.block_size) {
    const int i2 = std::min(i1 + opts.block_size, k);
    const int count = i2 - i1;
    Eigen::MatrixXd err(n, count);
    for (int i = i1; i < i2; ++i) {
      const int col = perm[i];
      const int grp = col / g;
      if (!opts.act_order && col % g == 0) {
        // The group's current weights: columns in this block are up to date; later columns still
        // miss this block's pending updates, applied here to a copy.
        Eigen::MatrixXd cur = wm.middleCols(i, g);
        if (i + g > i2 && i > i1) {
          cur.rightCols(i + g - i2).noalias() -= err.leftCols(i - i1) * hinv.block(i1, i2, i - i1, i + g - i2);
        }
        set_group_params(grp, cur);
      }
      const double d = hinv(i, i);
      for (int row = 0; row < n; ++row) {
        const GroupQuantParams& p = params[static_cast<std::size_t>(row) * groups + grp];
        const int code = quantize_value(wm(row, i), p, cfg);
        codes[static_cast<std::size_t>(row) * k + col] = static_cast<std::int16_t>(code);
        const double deq = p.scale.to_double() * (code - p.zero);
        err(row, i - i1) = (wm(row, i) - deq) / d;
      }
      if (i + 1 < i2) {
        wm.middleCols(i + 1, i2 - i - 1).noalias() -= err.col(i - i1) * hinv.block(i, i + 1, 1, i2 - i - 1);
      }
    }
    if (i2 < k) wm.rightCols(k - i2).noalias() -= err * hinv.block(i1, i2, count, k - i2);
  }

  QuantizedWeights q;
  q.n = n;
  q.k = k;
  q.bits = cfg.bits;
  q.group_size = g;
  q.symmetric = cfg.symmetric;
  q.codes = std::move(codes);
  q.scales.resize(params.size());
  q.zeros.resize(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    q.scales[i] = params[i].scale;
    q.zeros[i] = static_cast<std::uint8_t>(params[i].zero);
  }
  return q;
}

}  // namespace mixpe::quant
