// `mixpe sweep`: a design-space sweep on the analytic executor into a resumable CSV, with Pareto fronts.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "runtime/commands.h"
#include "runtime/sweep.h"
#if MIXPE_WITH_MPI
#include "runtime/sweep_mpi.h"
#endif

namespace mixpe::runtime {
namespace {

// The ranks a launcher put in the environment: Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE, MPICH's
// Hydra and Slurm's PMI set PMI_SIZE. 1 when there is none.
int launcher_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) return std::max(1, std::atoi(v));
  return 1;
}

// Redrawn in place on a terminal (at most 10 times a second); a line every 5 s otherwise.
std::function<void(std::size_t, std::size_t, double)> progress_printer() {
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  return [tty, last](std::size_t done, std::size_t total, double rate) {
    const auto now = std::chrono::steady_clock::now();
    const bool end = done == total;
    if (!end && now - *last < (tty ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000))) return;
    *last = now;
    fmt::print(stderr, "{}  {}/{} points ({:.0f}%), {:.1f} points/s{}", tty ? "\r" : "", done, total,
               total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0, rate, tty && !end ? "" : "\n");
  };
}

void print_start(const SweepSpec& spec, const std::string& how) {
  std::size_t variations = 1;
  for (const std::vector<std::string>& v : spec.vary_values) variations *= v.size();
  fmt::print(stderr, "mixpe sweep: {} points ({} workloads x {} designs x {} variations, duplicates once), analytic executor, {}\n",
             expand_points(spec).size(), spec.workloads.size(), spec.hw.size(), variations, how);
}

void print_summary(const SweepSummary& s, const std::string& output, const std::vector<std::string>& pareto) {
  if (s.torn_bytes > 0) fmt::print(stderr, "  cut an incomplete last line ({} bytes) off {} before resuming\n", s.torn_bytes, output);
  fmt::print(stderr, "  {} points: {} already in {}, {} run ({} with status error) in {:.2f} s ({:.1f} points/s)\n", s.points,
             s.skipped, output, s.ran, s.errors, s.seconds, s.seconds > 0 ? static_cast<double>(s.ran) / s.seconds : 0.0);
  fmt::print(stderr, "  Pareto fronts (latency, energy and area per workload): {}, {}\n", pareto[0], pareto[1]);
}

}  // namespace

CommandAction add_sweep_command(CLI::App& app) {
  struct State {
    std::string spec, output;
    int jobs = 0;
    bool quiet = false;
    bool mpi = false;
  };
  auto st = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand("sweep", "Sweep workloads x hardware variations (YAML spec, docs/sweep.md) on the analytic "
                                              "executor into a resumable CSV, with the Pareto front of latency and energy");
  cmd->add_option("spec", st->spec, "Sweep spec (.yaml): workloads, hw, set, vary")->required();
  cmd->add_option("-o,--output", st->output, "Results CSV; points whose id is already in it are skipped (resume)")->required();
  cmd->add_option("-j,--jobs", st->jobs, "Worker threads (0: the machine's hardware threads); under MPI, threads per rank (default 1)")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", st->quiet, "No progress or summary on stderr");
  cmd->add_flag("--mpi", st->mpi,
                "Run distributed over the MPI ranks (automatic when mpirun starts more than one; docs/sweep.md \"MPI\")");
  return [st, cmd]() {
    const int ranks = launcher_ranks();
    if (st->mpi || ranks > 1) {
#if MIXPE_WITH_MPI
      // One point at a time per rank unless --jobs says otherwise: mpirun starts a rank per core.
      MpiSweepOptions options;
      options.spec_path = st->spec;
      options.csv_path = st->output;
      if (cmd->count("--jobs") > 0)
        options.jobs = st->jobs > 0 ? st->jobs : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
      if (!st->quiet) {
        options.on_start = [jobs = options.jobs](const SweepSpec& spec, int n) {
          print_start(spec, fmt::format("{} MPI ranks x {} jobs", n, jobs));
        };
        options.progress = progress_printer();
      }
      const MpiSweepResult r = run_sweep_mpi(options);
      if (r.root && !st->quiet) {
        print_summary(r.summary, st->output, r.pareto_files);
        std::string counts;
        for (std::size_t i = 0; i < r.points_per_rank.size(); ++i) counts += fmt::format(" {}:{}", i, r.points_per_rank[i]);
        fmt::print(stderr, "  points per rank:{}\n", counts);
      }
      return 0;
#else
      throw std::runtime_error(fmt::format(
          "{}this mixpe was built without MPI: install libopenmpi-dev and openmpi-bin and configure with -DMIXPE_BUILD_MPI=ON "
          "(scripts/test.sh does)",
          st->mpi ? "--mpi: " : fmt::format("started by mpirun with {} ranks, but ", ranks)));
#endif
    }
    const SweepSpec spec = load_sweep_spec(st->spec);
    const int jobs = st->jobs > 0 ? st->jobs : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    SweepOptions options;
    options.jobs = jobs;
    if (!st->quiet) {
      print_start(spec, fmt::format("{} jobs", jobs));
      options.progress = progress_printer();
    }
    const SweepSummary s = run_sweep(spec, st->output, options);
    const std::vector<std::string> pareto = write_pareto_files(st->output);
    if (!st->quiet) print_summary(s, st->output, pareto);
    return 0;
  };
}

}  // namespace mixpe::runtime
