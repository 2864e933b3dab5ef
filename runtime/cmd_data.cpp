// `mixpe data`: generate a neural-operator dataset (Darcy flow or Burgers) from the PDE solvers.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "models/pde/dataset.h"
#include "runtime/commands.h"

namespace mixpe::runtime {
namespace {

std::string human_size(std::uintmax_t b) {
  if (b < 1024 * 1024) return fmt::format("{:.1f} KiB", b / 1024.0);
  return fmt::format("{:.1f} MiB", b / (1024.0 * 1024));
}

}  // namespace

CommandAction add_data_command(CLI::App& app) {
  struct State {
    std::string problem;
    int n_train = 1000;
    int n_test = 200;
    int resolution = 0;
    int solver_resolution = 1024;
    double nu = 0.1;
    std::uint64_t seed = 0;
    int threads = 2;
    std::string output;
    bool quiet = false;
  };
  auto st = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand("data", "Generate a neural-operator dataset (input/output function pairs) with the PDE solvers");
  cmd->add_option("problem", st->problem, "darcy (2D Darcy flow, a -> u) or burgers (1D viscous Burgers, u0 -> u(t=1))")->required();
  cmd->add_option("--n", st->n_train, "Training samples")->capture_default_str();
  cmd->add_option("--n-test", st->n_test, "Test samples (drawn independently of --n)")->capture_default_str();
  cmd->add_option("--res", st->resolution, "Grid resolution R (default: darcy 64, burgers 128)");
  cmd->add_option("--solver-res", st->solver_resolution, "Burgers solver resolution (R must divide it)")->capture_default_str();
  cmd->add_option("--nu", st->nu, "Burgers viscosity")->capture_default_str();
  cmd->add_option("--seed", st->seed, "Random seed")->capture_default_str();
  cmd->add_option("--threads", st->threads, "Worker threads (the output does not depend on it)")->capture_default_str();
  cmd->add_option("-o,--output", st->output, "Output .safetensors file (written atomically)")->required();
  cmd->add_flag("-q,--quiet", st->quiet, "No progress on stderr");
  return [st]() {
    const State& s = *st;
    auto bad = [](const std::string& option, const std::string& value, const std::string& why) {
      throw std::invalid_argument(fmt::format("{} {}: {}", option, value, why));
    };
    if (s.problem != "darcy" && s.problem != "burgers") bad("problem", s.problem, "must be darcy or burgers");
    if (s.n_train < 1) bad("--n", std::to_string(s.n_train), "must be >= 1");
    if (s.n_test < 0) bad("--n-test", std::to_string(s.n_test), "must be >= 0");
    if (s.threads < 1 || s.threads > 256) bad("--threads", std::to_string(s.threads), "must be in [1, 256]");
    models::DatasetSpec spec;
    spec.problem = s.problem;
    spec.n_train = s.n_train;
    spec.n_test = s.n_test;
    spec.seed = s.seed;
    spec.threads = s.threads;
    std::string res_text;
    if (s.problem == "darcy") {
      const int r = s.resolution == 0 ? 64 : s.resolution;
      if (r < 3 || r > 4096) bad("--res", std::to_string(r), "must be in [3, 4096] for darcy");
      spec.darcy.resolution = r;
      res_text = fmt::format("{}x{}", r, r);
    } else {
      const int r = s.resolution == 0 ? 128 : s.resolution;
      const int n = s.solver_resolution;
      if (n < 8 || n % 2 != 0 || n > (1 << 20)) bad("--solver-res", std::to_string(n), "must be even and in [8, 1048576]");
      if (r < 2 || n % r != 0) bad("--res", std::to_string(r), fmt::format("must be >= 2 and divide --solver-res {}", n));
      if (3 * spec.burgers.grf.modes >= n) {
        bad("--solver-res", std::to_string(n), fmt::format("must exceed 3 x {} initial-condition modes", spec.burgers.grf.modes));
      }
      if (!(s.nu > 0.0)) bad("--nu", fmt::format("{}", s.nu), "must be > 0");
      spec.burgers.resolution = r;
      spec.burgers.solver_resolution = n;
      spec.burgers.nu = s.nu;
      res_text = fmt::format("{} (solver {})", r, n);
    }
    const bool tty = ::isatty(::fileno(stderr)) != 0;
    const auto start = std::chrono::steady_clock::now();
    auto last_line = start;
    auto progress = [&](int done, int total) {
      if (s.quiet) return;
      const auto now = std::chrono::steady_clock::now();
      const double elapsed = std::chrono::duration<double>(now - start).count();
      if (tty) {
        fmt::print(stderr, "\r\033[K[{}/{} {:.0f}%] {:.1f} s", done, total, 100.0 * done / total, elapsed);
        if (done == total) fmt::print(stderr, "\r\033[K");
      } else if (done < total && now - last_line >= std::chrono::seconds(10)) {
        // Logs get a line every 10 s rather than a stream of carriage returns.
        last_line = now;
        fmt::print(stderr, "[{}/{} {:.0f}%] {:.1f} s\n", done, total, 100.0 * done / total, elapsed);
      }
    };
    const models::OperatorDataset ds = models::generate_dataset(spec, progress);
    models::write_dataset(s.output, ds);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("{}: {} train + {} test samples, resolution {}, seed {}, {:.1f} s, {} -> {}\n", s.problem, ds.n_train, ds.n_test,
               res_text, s.seed, seconds, human_size(std::filesystem::file_size(s.output)), s.output);
    return 0;
  };
}

}  // namespace mixpe::runtime
