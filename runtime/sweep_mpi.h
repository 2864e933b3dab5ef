// `mixpe sweep` over MPI ranks: rank 0 owns the results CSV and hands out points one at a time to
// every rank, itself included (docs/sweep.md "MPI"). Built only with MIXPE_BUILD_MPI, into the CLI.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "runtime/sweep.h"

namespace mixpe::runtime {

struct MpiSweepOptions {
  std::string spec_path;
  std::string csv_path;
  int jobs = 1;  // threads computing points in each rank
  // Rank 0 only: after the spec is loaded and checked, before any point runs.
  std::function<void(const SweepSpec& spec, int ranks)> on_start;
  // Rank 0 only, as SweepOptions::progress (points finished on any rank).
  std::function<void(std::size_t done, std::size_t total, double rate)> progress;
};

struct MpiSweepResult {
  bool root = false;  // rank 0; the other fields are filled on rank 0 only
  SweepSummary summary;
  std::vector<std::size_t> points_per_rank;  // points each rank computed in this run
  std::vector<std::string> pareto_files;     // write_pareto_files' paths
};

// Initializes MPI, runs the sweep in MPI_COMM_WORLD (rank 0 also writes the Pareto files) and
// finalizes MPI. An error on any rank (spec, results file, a lost message) prints
// "mixpe sweep: error ..." on that rank and calls MPI_Abort, which ends every rank with status 2:
// an aborted sweep is resumable like an interrupted one.
MpiSweepResult run_sweep_mpi(const MpiSweepOptions& options);

}  // namespace mixpe::runtime
