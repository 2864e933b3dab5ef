// Design-space sweeps: a YAML spec of workloads x hardware variations, run on the analytic executor
// into a resumable CSV, and the Pareto front of latency and energy per workload (docs/sweep.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "runtime/executor.h"

namespace mixpe::runtime {

struct SweepWorkload {
  std::string model;
  std::string phase = "prefill";
  int batch = 1;
  int seq = 64;
};

struct SweepSpec {
  std::string source;                      // spec file, for messages
  std::vector<SweepWorkload> workloads;    // already crossed
  std::vector<std::string> hw;             // base presets or .yaml files
  std::vector<std::string> fixed;          // "key=value" applied to every point (`set:`)
  std::vector<std::string> vary_keys;      // in spec order: the CSV's parameter columns
  std::vector<std::vector<std::string>> vary_values;  // one non-empty list per key
  double max_area_mm2 = 0;  // constraints.max_area_mm2: larger designs are not run (status over_area); 0: none
};

struct SweepPoint {
  std::string id;        // 16 hex digits: FNV-1a of the point's canonical parameters
  std::size_t workload = 0;  // index into SweepSpec::workloads
  std::size_t hw = 0;        // index into SweepSpec::hw
  std::vector<std::string> values;  // one per SweepSpec::vary_keys
};

// Throws std::invalid_argument naming the spec file, the key and the bad value.
SweepSpec parse_sweep_spec(const std::string& yaml_text, const std::string& source);
SweepSpec load_sweep_spec(const std::string& path);

// The cartesian product workloads x hw x vary values, in spec order; points with equal parameters
// (e.g. overlapping ranges) appear once.
std::vector<SweepPoint> expand_points(const SweepSpec& spec);

// The values a range {from, to, step} or {from, to, factor} expands to (integers when every bound
// is an integer); throws std::invalid_argument naming `where` and `key` on a bad range.
std::vector<std::string> expand_range(const std::string& from, const std::string& to, const std::string& step,
                                      const std::string& factor, const std::string& where, const std::string& key);

std::vector<std::string> sweep_header(const SweepSpec& spec);

// One CSV line without the newline (fields quoted when they hold a comma or a quote) and back.
std::string csv_line(const std::vector<std::string>& fields);
std::vector<std::string> split_csv_line(std::string_view line);

// Indices of the points no other point dominates (every objective <=, one <): minimized
// objectives, one vector per point, all of equal length. Equal points are all kept. Ascending order.
std::vector<std::size_t> pareto_front(const std::vector<std::vector<double>>& objectives);

struct SweepOptions {
  int jobs = 1;
  // (done, total, points per second); called under the writer's lock after every point.
  std::function<void(std::size_t done, std::size_t total, double rate)> progress;
};

struct SweepSummary {
  std::size_t points = 0;   // in the spec
  std::size_t skipped = 0;  // already in the CSV
  std::size_t ran = 0;
  std::size_t errors = 0;   // of those run
  std::size_t torn_bytes = 0;  // of an incomplete last line cut off the CSV before resuming
  double seconds = 0;       // wall time of the run
};

// The row computation and the results file, shared by run_sweep and the MPI sweep (runtime/sweep_mpi.h).

// Computes points' CSV rows. The constructor builds every workload and loads every base design, so
// that unknown models or designs are spec errors (std::invalid_argument) before anything runs.
class SweepPointRunner {
 public:
  explicit SweepPointRunner(const SweepSpec& spec);
  // sweep_header's fields for `p`; a point whose values are invalid gets status error and the message.
  std::vector<std::string> row(const SweepPoint& p) const;

 private:
  const SweepSpec& spec_;
  std::vector<Workload> workloads_;
};

// Where `status` is in a row of `spec`'s CSV.
std::size_t sweep_status_column(const SweepSpec& spec);

// A sweep's results CSV while the sweep runs: holds an exclusive flock on it, cuts a torn last line,
// checks the header against the spec (std::runtime_error naming the file) or writes it to a new
// file, and knows the ids already there.
class SweepResultsFile {
 public:
  SweepResultsFile(const SweepSpec& spec, const std::string& csv_path);
  ~SweepResultsFile();  // releases the lock
  SweepResultsFile(const SweepResultsFile&) = delete;
  SweepResultsFile& operator=(const SweepResultsFile&) = delete;

  bool done(const std::string& id) const { return done_.count(id) != 0; }
  std::size_t torn_bytes() const { return torn_bytes_; }
  // One line: one write() on the O_APPEND descriptor, then fdatasync.
  void append(const std::vector<std::string>& row);

 private:
  void write_line(const std::string& line);

  std::string path_;
  int fd_ = -1;
  std::unordered_set<std::string> done_;
  std::size_t torn_bytes_ = 0;
};

// Runs every point of `spec` whose id is not yet in `csv_path` and appends one line per point as it
// finishes (one write() + fdatasync on an O_APPEND descriptor), holding an exclusive flock on it.
// Throws std::runtime_error naming the file if its header is not this spec's or another sweep holds
// the lock; a torn last line (no newline) is cut off first.
SweepSummary run_sweep(const SweepSpec& spec, const std::string& csv_path, const SweepOptions& options);

// Reads a sweep CSV and writes <stem>.pareto.csv and <stem>.pareto.json: per workload (model,
// phase, batch, seq), the rows with status ok that no other such row dominates in (latency_ms,
// energy_mj, area_mm2); area drops out of a workload's objectives when one of its rows has none.
// Returns the two paths.
std::vector<std::string> write_pareto_files(const std::string& csv_path);

}  // namespace mixpe::runtime
