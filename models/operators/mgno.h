// MgNO (He, Liu, Xu et al., ICLR 2024): a neural operator whose linear part is one multigrid
// V-cycle of 3x3 convolutions, lowered to im2col GEMMs; plus the 3x3 convolution kernels it uses.
//
// Exact structure (channels last, all 3x3 convolutions zero-padded by 1, MG convolutions bias-free):
//   lift:   v = lift(a)                                  1x1 conv in_channels -> width (+ bias)
//   layer:  v = act(MG(v) + W v + b)                     for each of `layers` layers (act on all)
//   MG(f) = V(0, f), levels 0 (finest, H x W) .. levels-1, level j+1 of size ceil(h_j/2):
//     V(j, f): u = S_j f                                 pre-smoothing from u = 0
//              repeat smoothing_steps-1 times: u = u + S_j (f - A_j u)
//              if j is not the coarsest level:
//                u_c = V(j+1, R_j (f - A_j u))           R_j: 3x3 conv, stride 2
//                u = u + P_j u_c                         P_j: 3x3 transposed conv, stride 2
//                if post_smoothing: repeat smoothing_steps times: u = u + S_j (f - A_j u)
//   projection: y = proj2(act(proj1(v)))                 1x1 convs width -> projection_hidden -> out
// A_j exists only where it is used (not on the coarsest level when smoothing_steps == 1 and there
// is no post-smoothing). Each layer has its own A, S, R, P. Any grid size works as long as the
// coarsest level is at least 2 x 2; P_j's output size is the finer level's (PyTorch
// ConvTranspose2d with output_padding = 1 for even, 0 for odd fine sizes).
//
// Lowering: a 3x3 convolution is one GEMM, M = batch * output pixels (a row = one output pixel's
// patch), K = 9 * C_in ordered (ky, kx, c_in), N = C_out. The stride-2 transposed convolution uses
// the sub-pixel decomposition: output pixels of each (row parity, column parity) class see a
// fixed subset of the 9 taps (1, 2, 2 and 4 taps for ee, eo, oe, oo), so it becomes four GEMMs
// with K = 1, 2, 2, 4 x C_in on the coarse input: 2.25 C_in MACs per output pixel and channel
// instead of 9 C_in for the direct form on the zero-upsampled input, 3/4 of whose patch entries
// are structural zeros that a weight-stationary array would multiply anyway.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "models/operators/operator.h"

namespace mixpe::models {

// Tensor names and shapes (PyTorch layouts: Conv2d [out][in][3][3], ConvTranspose2d
// [in][out][3][3], 1x1 convs and W as [out][in]) that an MgNO config needs, in file order.
// Throws FormatError naming `source` and the key for a bad config.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> mgno_weight_shapes(const nlohmann::json& config,
                                                                                  const std::string& source);

namespace conv {

// Tensors are channels last: x[b][y][x][c].
inline int strided_size(int n, int stride) { return (n - 1) / stride + 1; }  // 3x3, padding 1

// The 3x3 convolution (padding 1) as one GEMM: im2col rows of K = 9 * c_in. `layer` is
// [c_out][9 * c_in] with K ordered (ky, kx, c_in).
std::vector<float> im2col3x3(const std::vector<float>& x, int batch, int h, int w, int c_in, int stride);
std::vector<float> conv3x3_gemm(const std::vector<float>& x, int batch, int h, int w, int c_in, int stride,
                                const Linear& layer, const LinearBackend& backend);
// PyTorch Conv2d weight [c_out][c_in][3][3] -> GEMM weight [c_out][9 * c_in].
Linear conv3x3_matrix(const std::string& name, const std::vector<float>& torch_weight, int c_out, int c_in);
// Direct loops (double accumulation) on the PyTorch weight.
std::vector<float> conv3x3_direct(const std::vector<float>& x, int batch, int h, int w, int c_in, int stride,
                                  const std::vector<float>& torch_weight, int c_out);

// Stride-2 3x3 transposed convolution (padding 1) from hc x wc to h_out x w_out, h_out in
// {2 hc - 1, 2 hc}. Sub-pixel GEMM weights, in call order ee, eo, oe, oo (row parity first):
// names `name`.ee etc., K = taps_y * taps_x * c_in ordered (tap_y, tap_x, c_in).
std::array<Linear, 4> conv_transpose3x3_matrices(const std::string& name, const std::vector<float>& torch_weight,
                                                 int c_in, int c_out);
std::vector<float> conv_transpose3x3_gemm(const std::vector<float>& x, int batch, int hc, int wc, int c_in,
                                          const std::array<const Linear*, 4>& layers, int h_out, int w_out,
                                          const LinearBackend& backend);
// The definition: every input pixel scatters weight[c_in][c_out][ky][kx] * x to output
// (2 y - 1 + ky, 2 x - 1 + kx) when that lies inside h_out x w_out.
std::vector<float> conv_transpose3x3_scatter(const std::vector<float>& x, int batch, int hc, int wc, int c_in,
                                             const std::vector<float>& torch_weight, int c_out, int h_out, int w_out);

}  // namespace conv
}  // namespace mixpe::models
