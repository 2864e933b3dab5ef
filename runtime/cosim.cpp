// Payload programs from recorded functional GEMMs, and outputs reassembled from array tiles.
#include "runtime/cosim.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "runtime/mapper.h"
#include "sim/array.h"

namespace mixpe::runtime {
namespace {

sim::AcceleratorConfig config_for(const GemmCall& c, const sim::AcceleratorConfig& hw) {
  sim::AcceleratorConfig cfg = hw;
  cfg.group_size = c.group;
  return cfg;
}

// The array tiles of one GEMM instruction (row tiles outer, column tiles inner).
// `ik` is the instruction's K: the chunk, which a weight-stationary per-channel GEMM's last chunk
// extends past the weights with zeros.
std::vector<sim::ArrayTile> tiles_for(const GemmCall& c, const CosimProgram::Piece& p, int tk, int ik, const sim::AcceleratorConfig& hw) {
  tk = std::min(tk, c.w.k - p.k0);
  const quant::QuantizedWeights w = slice_weights(c.w, p.k0, tk);
  const int kp = c.w.k, R = p.tile_rows, C = hw.cols;
  std::vector<sim::ArrayTile> tiles;
  for (int r0 = p.m0; r0 < p.m0 + p.m; r0 += R) {
    for (int c0 = p.n0; c0 < p.n0 + p.n; c0 += C) {
      switch (pe_path_of(hw)) {
        case PePath::kMixpeInt8: tiles.push_back(sim::make_tile_mixpe_int8(slice_activations(*c.x8, p.k0, tk), w, r0, c0, R, C)); break;
        case PePath::kInt8:
        case PePath::kBitFusion:
        case PePath::kAnt:
          tiles.push_back(sim::make_tile_int8(slice_activations(*c.x8, p.k0, tk), w, r0, c0, R, C, sim::array_mode_of(hw), c.stored_bits));
          break;
        case PePath::kMixpeFp16:
          tiles.push_back(sim::make_tile_mixpe_aligned(
              quant::align_activations_fp16(slice_columns<quant::Half>(c.x16, c.m, kp, p.k0, tk), c.m, tk, w.group_size), w, r0, c0, R, C));
          break;
        case PePath::kMixpeBf16:
          tiles.push_back(sim::make_tile_mixpe_aligned(
              quant::align_activations_bf16(slice_columns<quant::BFloat16>(c.xbf, c.m, kp, p.k0, tk), c.m, tk, w.group_size), w, r0, c0, R, C));
          break;
        case PePath::kFp16:
          tiles.push_back(sim::make_tile_fp16(slice_columns<quant::Half>(c.x16, c.m, kp, p.k0, tk), c.m, w, r0, c0, R, C));
          break;
        case PePath::kFloat: throw std::invalid_argument("the float path has no array");
      }
      if (tk < ik) tiles.back() = sim::zero_pad_k(tiles.back(), ik);
      if (p.ws) tiles.back() = sim::to_weight_stationary(std::move(tiles.back()), hw.rows, hw.ws_load_bits);
    }
  }
  return tiles;
}

}  // namespace

CosimProgram build_cosim_program(const std::vector<GemmCall>& calls, const sim::AcceleratorConfig& hw) {
  CosimProgram cp;
  std::uint64_t cursor = 0;
  for (const GemmCall& c : calls) {
    const sim::AcceleratorConfig cfg = config_for(c, hw);
    const GemmMapping mp = map_gemm({c.m, c.w.n, c.w.k, 1, c.bits() != hw.weight_bits ? c.bits() : 0}, cfg, c.name);
    if (mp.tk != c.tk) throw std::logic_error(fmt::format("{}: mapper chose K chunk {}, the engine ran {}", c.name, mp.tk, c.tk));
    if (!cp.program.code.empty()) cp.program.code.push_back(sim::barrier());
    std::vector<GemmPlacement> placements;
    emit_gemm(mp, 1, cfg, cp.program, &cursor, &placements);
    std::vector<CosimProgram::Piece> pieces;
    for (const GemmPlacement& pl : placements) {
      CosimProgram::Piece p{pl.instr, static_cast<int>(pl.m0), static_cast<int>(pl.n0), static_cast<int>(pl.k0), static_cast<int>(pl.m),
                            static_cast<int>(pl.n)};
      const sim::ArrayShape shape = sim::gemm_tile_shape(cp.program.code[p.instr], cfg);
      p.ws = shape.dataflow == sim::Dataflow::kWs;
      p.tile_rows = p.ws ? shape.tokens : hw.rows;
      cp.program.code[p.instr].payload = static_cast<int>(cp.program.payloads.size());
      cp.program.payloads.push_back(tiles_for(c, p, c.tk, cp.program.code[p.instr].k, hw));
      pieces.push_back(p);
    }
    cp.pieces.push_back(std::move(pieces));
  }
  return cp;
}

std::vector<std::vector<float>> assemble_outputs(const CosimProgram& cp, const std::vector<GemmCall>& calls,
                                                 const std::map<std::size_t, std::vector<std::vector<float>>>& outputs,
                                                 const sim::AcceleratorConfig& hw) {
  std::vector<std::vector<float>> ys;
  const int C = hw.cols;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const int n = calls[i].w.n;
    std::vector<float> y(static_cast<std::size_t>(calls[i].m) * n, 0.0f);
    for (const CosimProgram::Piece& p : cp.pieces[i]) {
      const auto it = outputs.find(p.instr);
      if (it == outputs.end()) throw std::logic_error(fmt::format("{}: no output for instruction {}", calls[i].name, p.instr));
      std::size_t t = 0;
      const int R = p.tile_rows;
      for (int r0 = p.m0; r0 < p.m0 + p.m; r0 += R) {
        for (int c0 = p.n0; c0 < p.n0 + p.n; c0 += C, ++t) {
          const std::vector<float>& tile = it->second.at(t);
          for (int r = 0; r < R && r0 + r < p.m0 + p.m; ++r) {
            for (int c = 0; c < C && c0 + c < p.n0 + p.n; ++c) {
              float& dst = y[static_cast<std::size_t>(r0 + r) * n + c0 + c];
              const float v = tile[static_cast<std::size_t>(r) * C + c];
              dst = p.k0 == 0 ? v : dst + v;
            }
          }
        }
      }
    }
    ys.push_back(std::move(y));
  }
  return ys;
}

}  // namespace mixpe::runtime
