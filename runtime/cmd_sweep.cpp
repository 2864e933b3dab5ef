// `mixpe sweep`: a design-space sweep on the analytic executor into a resumable CSV, with Pareto fronts.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "runtime/commands.h"
#include "runtime/sweep.h"

namespace mixpe::runtime {

CommandAction add_sweep_command(CLI::App& app) {
  struct State {
    std::string spec, output;
    int jobs = 0;
    bool quiet = false;
  };
  auto st = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand("sweep", "Sweep workloads x hardware variations (YAML spec, docs/sweep.md) on the analytic "
                                              "executor into a resumable CSV, with the Pareto front of latency and energy");
  cmd->add_option("spec", st->spec, "Sweep spec (.yaml): workloads, hw, set, vary")->required();
  cmd->add_option("-o,--output", st->output, "Results CSV; points whose id is already in it are skipped (resume)")->required();
  cmd->add_option("-j,--jobs", st->jobs, "Worker threads (0: the machine's hardware threads)")->capture_default_str();
  cmd->add_flag("-q,--quiet", st->quiet, "No progress or summary on stderr");
  return [st]() {
    const SweepSpec spec = load_sweep_spec(st->spec);
    const int jobs = st->jobs > 0 ? st->jobs : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    SweepOptions options;
    options.jobs = jobs;
    if (!st->quiet) {
      std::size_t variations = 1;
      for (const std::vector<std::string>& v : spec.vary_values) variations *= v.size();
      fmt::print(stderr, "mixpe sweep: {} points ({} workloads x {} designs x {} variations, duplicates once), analytic executor, {} jobs\n",
                 expand_points(spec).size(), spec.workloads.size(), spec.hw.size(), variations, jobs);
      // Redrawn in place on a terminal (at most 10 times a second); a line every 5 s otherwise.
      const bool tty = ::isatty(STDERR_FILENO) != 0;
      auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
      options.progress = [tty, last](std::size_t done, std::size_t total, double rate) {
        const auto now = std::chrono::steady_clock::now();
        const bool end = done == total;
        if (!end && now - *last < (tty ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000))) return;
        *last = now;
        fmt::print(stderr, "{}  {}/{} points ({:.0f}%), {:.1f} points/s{}", tty ? "\r" : "", done, total,
                   total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0, rate, tty && !end ? "" : "\n");
      };
    }
    const SweepSummary s = run_sweep(spec, st->output, options);
    const std::vector<std::string> pareto = write_pareto_files(st->output);
    if (!st->quiet) {
      if (s.torn_bytes > 0) fmt::print(stderr, "  cut an incomplete last line ({} bytes) off {} before resuming\n", s.torn_bytes, st->output);
      fmt::print(stderr, "  {} points: {} already in {}, {} run ({} with status error) in {:.2f} s ({:.1f} points/s)\n", s.points,
                 s.skipped, st->output, s.ran, s.errors, s.seconds, s.seconds > 0 ? static_cast<double>(s.ran) / s.seconds : 0.0);
      fmt::print(stderr, "  Pareto fronts (latency, energy per workload): {}, {}\n", pareto[0], pareto[1]);
    }
    return 0;
  };
}

}  // namespace mixpe::runtime
