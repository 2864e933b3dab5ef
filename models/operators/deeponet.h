// DeepONet (Lu et al., Nature Machine Intelligence 2021) for 1-D fields sampled at R points: a
// branch MLP on the input samples and a trunk MLP on the query coordinates, combined by an inner
// product, every layer (and the inner product) lowered to a backend GEMM.
//
// Exact structure (input u0 [R, 1], output u [R, 1]):
//   sensors:  all R input values, normalized (u0 - in_mean) / in_std  (tensor input_norm = [mean, std])
//   branch:   branch_layers Linear layers R -> branch_width -> ... -> latent, act after all but the last
//   trunk:    x_i = i / R (query_grid "periodic") or i / (R - 1) ("closed"); features [sin 2 pi x,
//             cos 2 pi x] (trunk_features "periodic") or [x] ("x"); trunk_layers Linear layers
//             features -> trunk_width -> ... -> latent, act after every layer (DeepXDE convention)
//   output:   u(x_i) = (sum_k b_k t_k(x_i) + b0) * out_std + out_mean  (output_norm = [mean, std])
//   multionet (flag): branch and trunk of equal depth and width == latent; the inner product is taken
//             after every layer
//             (branch: after its activation, the last layer has none) and the products are averaged
//             before adding b0.
//
// Lowering: branch GEMMs have M = batch; trunk GEMMs have M = R. The trunk does not depend on the
// sample, so forward() computes it once per call (not once per sample). The inner product
// multiplies two activations; it goes through the backend as a weight GEMM, X = branch output
// [batch][latent], "weight" = trunk output [R][latent] (N = R, K = latent), wrapped per forward
// call in an OperatorLinear named "inner" (MultiONet: "inner.<depth>") with GemmRole::kTrunk.
// linears() lists that operand too, holding the float trunk output, so a policy sees its name and
// shape; forward() rebuilds it from the trunk as computed through the backend.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "models/operators/operator.h"

namespace mixpe::models {

// Tensor names and shapes (Linear weights [out][in]) a DeepONet config needs, in file order.
// Throws FormatError naming `source` and the key for a bad config.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> deeponet_weight_shapes(const nlohmann::json& config,
                                                                                      const std::string& source);

}  // namespace mixpe::models
