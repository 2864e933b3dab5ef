// Operator-learning datasets (input/output function pairs) from the PDE solvers, and their
// safetensors file: train.x, train.y, test.x, test.y as float32, channels last.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/pde/burgers.h"
#include "models/pde/darcy.h"

namespace mixpe::models {

struct OperatorDataset {
  std::string problem;  // "darcy" or "burgers"
  std::vector<std::int64_t> sample_shape_x, sample_shape_y;  // e.g. {64, 64, 1}
  int n_train = 0, n_test = 0;
  std::vector<float> train_x, train_y, test_x, test_y;
  std::map<std::string, std::string> metadata;
};

struct DatasetSpec {
  std::string problem;  // "darcy" or "burgers"
  int n_train = 1000;
  int n_test = 200;
  std::uint64_t seed = 0;
  int threads = 2;
  DarcyParams darcy;
  BurgersParams burgers;
};

// Generates every sample from (seed, split, index) alone, so the test set does not depend on
// n_train and the bytes do not depend on the thread count. `progress(done, total)` is called from
// the calling thread while workers run, and once at the end. Throws std::invalid_argument for bad
// specs (naming the field and value).
OperatorDataset generate_dataset(const DatasetSpec& spec, const std::function<void(int, int)>& progress = {});

// One sample of each problem: x and y as floats in the dataset's layout.
void darcy_sample(const DarcyParams& p, FieldRng& rng, DarcySolver& solver, float* x, float* y);
void burgers_sample(const BurgersParams& p, FieldRng& rng, BurgersSolver& solver, float* x, float* y);

// Atomic write; metadata gets problem, n_train, n_test and the sample shapes added.
void write_dataset(const std::string& path, const OperatorDataset& ds);
// Throws FormatError naming the file and tensor for a missing tensor, a dtype other than F32 or
// shapes that disagree between the tensors or with the metadata.
OperatorDataset read_dataset(const std::string& path);

}  // namespace mixpe::models
