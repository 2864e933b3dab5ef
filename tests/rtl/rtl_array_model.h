// The Verilated RTL array as a sim::ArrayModel, so the SystemC accelerator can run programs on the
// RTL itself (co-simulation). Supports the MixPE INT8-activation arrays this test build verilates.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "harness.h"
#include "sim/array.h"

namespace mixpe::rtl_test {

template <typename Model>
class RtlArrayModel : public sim::ArrayModel {
 public:
  // The Verilated model's compile-time shape and weight width (its -G parameters).
  RtlArrayModel(int rows, int cols, int weight_bits) : rows_(rows), cols_(cols), wbits_(weight_bits) {}

  std::string_view name() const override { return "rtl"; }

  sim::StreamResult run_stream(std::span<const sim::ArrayTile> tiles) override {
    sim::StreamResult res;
    if (tiles.empty()) return res;
    const sim::ArrayTile& t0 = tiles.front();
    if (t0.mode != sim::ArrayMode::kMixpeInt8 || t0.rows != rows_ || t0.cols != cols_ || t0.weight_bits != wbits_) {
      throw std::invalid_argument(fmt::format("rtl array model: verilated as {}x{} MixPE INT8 W{}; got a {}x{} {} W{} tile", rows_,
                                              cols_, wbits_, t0.rows, t0.cols, sim::to_string(t0.mode), t0.weight_bits));
    }
    Harness<Model, true> h;
    Model& m = h.top();
    const int k = t0.k, g = t0.group_size, groups = t0.groups();
    const int row_bits = rows_ > 1 ? std::bit_width(static_cast<unsigned>(rows_ - 1)) : 1;
    m.cfg_group_size_i = static_cast<std::remove_reference_t<decltype(m.cfg_group_size_i)>>(g);
    m.cfg_num_groups_i = static_cast<std::uint16_t>(groups);
    m.cfg_bf16_i = 0;
    const std::size_t total = tiles.size() * static_cast<std::size_t>(k);
    res.y.assign(tiles.size(), std::vector<float>(static_cast<std::size_t>(rows_) * cols_, 0.0f));
    res.valid_cycle.assign(tiles.size(), std::vector<std::int64_t>(static_cast<std::size_t>(rows_) * cols_, -1));
    res.last_valid_cycle.assign(tiles.size(), -1);
    std::vector<int> seen(static_cast<std::size_t>(rows_) * cols_, 0);
    std::size_t fed = 0, outputs = 0;
    std::int64_t first = -1;
    const std::int64_t limit = static_cast<std::int64_t>(total) * (rows_ + 2) + 1000;
    for (std::int64_t cyc = 0; outputs < tiles.size() * rows_ * cols_; ++cyc) {
      if (cyc >= limit) throw std::runtime_error("rtl array model: the array stopped producing outputs");
      m.in_valid_i = fed < total;
      if (fed < total) {
        const sim::ArrayTile& t = tiles[fed / k];
        const int j = static_cast<int>(fed % k);
        for (int r = 0; r < rows_; ++r) {
          put_bits(m.x_i, r * 8, 8, static_cast<std::uint8_t>(t.x[t.xi(r, j)]));
          put_bits(m.e_i, r * 9, 9, 0);
          put_bits(m.sx_i, r * 32, 32, std::bit_cast<std::uint32_t>(t.x_scale[r]));
        }
        for (int c = 0; c < cols_; ++c) {
          const std::size_t wg = t.cg(c, j / t.weight_group);
          put_bits(m.q_i, c * wbits_, wbits_, static_cast<std::uint64_t>(t.q[t.qi(c, j)]) & ((1u << wbits_) - 1));
          put_bits(m.z_i, c * wbits_, wbits_, t.w_zero[wg]);
          put_bits(m.s_i, c * 16, 16, t.w_scale[wg].bits());
        }
      }
      h.eval();
      const bool fire = m.in_valid_i && m.in_ready_o;
      if (fire && first < 0) first = static_cast<std::int64_t>(h.cycle());
      if (m.in_valid_i && !m.in_ready_o) ++res.drain_stall_cycles;
      for (int c = 0; c < cols_; ++c) {
        if (!((m.y_valid_o >> c) & 1u)) continue;
        const int r = static_cast<int>(get_bits(m.y_row_o, c * row_bits, row_bits));
        const std::size_t tile = static_cast<std::size_t>(seen[static_cast<std::size_t>(r) * cols_ + c]++);
        const std::size_t rc = static_cast<std::size_t>(r) * cols_ + c;
        res.y[tile][rc] = std::bit_cast<float>(static_cast<std::uint32_t>(get_bits(m.y_o, c * 32, 32)));
        res.valid_cycle[tile][rc] = static_cast<std::int64_t>(h.cycle()) - first;
        res.last_valid_cycle[tile] = std::max(res.last_valid_cycle[tile], res.valid_cycle[tile][rc]);
        ++outputs;
      }
      if (fire) ++fed;
      h.step();
    }
    if (h.rtl_error()) throw std::runtime_error("rtl array model: an RTL assertion fired");
    res.cycles = *std::max_element(res.last_valid_cycle.begin(), res.last_valid_cycle.end()) + 1;
    // Event counts as the other array models define them (sim/array.h).
    const std::int64_t n = static_cast<std::int64_t>(tiles.size());
    res.pe_macs = n * rows_ * cols_ * static_cast<std::int64_t>(k);
    res.dequant_ops = n * rows_ * cols_ * static_cast<std::int64_t>(groups);
    res.edge_ops = n * rows_ * static_cast<std::int64_t>(k);
    return res;
  }

 private:
  int rows_, cols_, wbits_;
};

}  // namespace mixpe::rtl_test
