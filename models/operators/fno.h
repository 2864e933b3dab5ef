// Fourier neural operators (FNO, Li et al. 2021; implicit FNO, You et al. 2022) on 1-3D grids,
// with a float FFTW reference forward and a forward lowered to GEMMs (see fno.cpp).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/operators/operator.h"

namespace mixpe::models {

// config.json of an FNO / IFNO model. For "ifno", `layers` is the number of iterations of the
// one shared Fourier layer.
struct FnoConfig {
  bool implicit = false;  // model_type "ifno"
  int dims = 0;
  std::vector<int> grid;   // points per axis
  std::vector<int> modes;  // kept modes per axis: low and high along axes 0..dims-2, low along the last
  int in_channels = 0, out_channels = 0, width = 0, layers = 0, projection_width = 128;
  std::string name;

  std::int64_t points() const;
  // Retained frequencies per axis (retained_frequencies of dft.h).
  std::vector<std::vector<int>> frequencies() const;
  std::int64_t retained_modes() const;
};

// Validates every key; throws FormatError "<source>: <key>: <problem>" naming the value.
FnoConfig parse_fno_config(const nlohmann::json& config, const std::string& source);

}  // namespace mixpe::models
