// The MPI sweep: a dynamic work queue on rank 0, which also computes points and appends every row.
//
// Messages (all on MPI_COMM_WORLD):
//   worker -> 0  kTagRequest  chars: empty, or the CSV line of the point it just finished; either way
//                             a request for one more point
//   0 -> worker  kTagWork     one int64: an index into expand_points(spec), or -1 (no more points)
//   worker -> 0  kTagDone     empty: every request answered, every row sent
// Each rank runs `jobs` compute threads; only the main thread calls MPI (MPI_THREAD_FUNNELED).
//
// Rank 0 serves from its main thread while its compute threads take points from the same queue,
// rather than serving between its own points with MPI_Iprobe: points differ in cost by orders of
// magnitude, and a worker asking while rank 0 is in a long point would idle for all of it. The
// serving thread polls (MPI_Iprobe, then a 100 us sleep) instead of blocking in MPI_Recv, because
// Open MPI's blocking calls spin on a core, which the compute threads of a rank per core need.
#include "runtime/sweep_mpi.h"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace mixpe::runtime {
namespace {

constexpr int kTagRequest = 1;
constexpr int kTagWork = 2;
constexpr int kTagDone = 3;
// How long a serving loop sleeps when no message is waiting: short against a point (a llama-2-7b
// decode step is about 4 ms), long enough that polling costs about 1% of a core.
constexpr auto kPollInterval = std::chrono::microseconds(100);

[[noreturn]] void abort_all(int rank, const std::string& message) {
  std::string where;
  if (rank != 0) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    where = fmt::format(" (rank {} on {})", rank, host);
  }
  fmt::print(stderr, "mixpe sweep: error{}: {}\n", where, message);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 2);
  std::abort();  // MPI_Abort does not return
}

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(fmt::format("{} failed: {}", what, std::string(text, static_cast<std::size_t>(len))));
}

std::string read_spec(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(fmt::format("{}: cannot open sweep spec", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Rank 0 reads the spec and sends its text, so the other ranks expand the same points even where
// the file is missing or different; models and .yaml designs it names must exist on every machine.
std::string broadcast_text(std::string text) {
  std::uint64_t size = text.size();
  check(MPI_Bcast(&size, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  text.resize(size);
  check(MPI_Bcast(text.data(), static_cast<int>(size), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
  return text;
}

std::string receive_chars(const MPI_Status& probed) {
  int count = 0;
  check(MPI_Get_count(&probed, MPI_CHAR, &count), "MPI_Get_count");
  std::string text(static_cast<std::size_t>(count), '\0');
  check(MPI_Recv(text.data(), count, MPI_CHAR, probed.MPI_SOURCE, probed.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
  return text;
}

void send_chars(const std::string& text, int dest, int tag) {
  check(MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD), "MPI_Send");
}

MpiSweepResult run_root(const MpiSweepOptions& options, int ranks) {
  const std::string spec_text = read_spec(options.spec_path);
  const SweepSpec spec = parse_sweep_spec(spec_text, options.spec_path);
  if (options.on_start) options.on_start(spec, ranks);
  const std::vector<SweepPoint> points = expand_points(spec);
  broadcast_text(spec_text);
  // Every rank builds the workloads at once (tens of ms, which a rank building them after rank 0
  // would lose to it), then waits for rank 0's verdict: an error every rank finds (an unknown
  // model) is printed once, by rank 0, whose MPI_Abort ends the others before they print it.
  std::optional<SweepPointRunner> runner;
  std::optional<SweepResultsFile> results;
  try {
    runner.emplace(spec);
    results.emplace(spec, options.csv_path);
  } catch (const std::exception& e) {
    abort_all(0, e.what());
  }
  int ok = 1;
  check(MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast");
  SweepResultsFile& out = *results;

  MpiSweepResult result;
  result.root = true;
  result.points_per_rank.assign(static_cast<std::size_t>(ranks), 0);
  SweepSummary& summary = result.summary;
  summary.points = points.size();
  summary.torn_bytes = out.torn_bytes();
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (out.done(points[i].id)) {
      ++summary.skipped;
    } else {
      todo.push_back(i);
    }
  }

  const std::size_t status_column = sweep_status_column(spec);
  const auto t0 = std::chrono::steady_clock::now();
  std::mutex mu;  // guards next, out, summary, points_per_rank and failure
  std::size_t next = 0;
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  auto take = [&]() -> std::optional<std::size_t> {
    const std::lock_guard<std::mutex> lock(mu);
    if (failure || next >= todo.size()) return std::nullopt;
    return todo[next++];
  };
  auto record = [&](const std::vector<std::string>& row, int rank) {
    const std::lock_guard<std::mutex> lock(mu);
    out.append(row);
    ++summary.ran;
    if (row[status_column] == "error") ++summary.errors;
    ++result.points_per_rank[static_cast<std::size_t>(rank)];
    if (options.progress) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      options.progress(summary.ran, todo.size(), secs > 0 ? static_cast<double>(summary.ran) / secs : 0.0);
    }
  };

  {
    // jthreads: when the serving loop throws, unwinding stops them after their current point.
    std::vector<std::jthread> threads;
    for (int t = 0; t < std::max(options.jobs, 1); ++t) {
      threads.emplace_back([&](std::stop_token stop) {
        try {
          while (!stop.stop_requested()) {
            const std::optional<std::size_t> i = take();
            if (!i) return;
            record(runner->row(points[*i]), 0);
          }
        } catch (...) {
          const std::lock_guard<std::mutex> lock(mu);
          if (!failure) failure = std::current_exception();
          failed.store(true);
        }
      });
    }

    // Points handed to each worker and not yet returned: a row must be for one of them.
    std::vector<std::deque<std::size_t>> given(static_cast<std::size_t>(ranks));
    int workers_done = 0;
    while (workers_done < ranks - 1) {
      if (failed.load()) break;
      int flag = 0;
      MPI_Status st;
      check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
      if (flag == 0) {
        std::this_thread::sleep_for(kPollInterval);
        continue;
      }
      const int src = st.MPI_SOURCE;
      std::deque<std::size_t>& mine = given[static_cast<std::size_t>(src)];
      const std::string text = receive_chars(st);
      if (st.MPI_TAG == kTagDone) {
        if (!mine.empty()) throw std::runtime_error(fmt::format("rank {} finished with {} points unreturned", src, mine.size()));
        ++workers_done;
        continue;
      }
      if (st.MPI_TAG != kTagRequest) throw std::runtime_error(fmt::format("unexpected message tag {} from rank {}", st.MPI_TAG, src));
      if (!text.empty()) {
        const std::vector<std::string> row = split_csv_line(text);
        const auto it = std::find_if(mine.begin(), mine.end(), [&](std::size_t i) { return points[i].id == row[0]; });
        if (row.size() != sweep_header(spec).size() || it == mine.end())
          throw std::runtime_error(fmt::format("rank {} sent a row for a point it was not given ('{}'); do all machines run the same "
                                               "mixpe build?",
                                               src, text.substr(0, 80)));
        mine.erase(it);
        record(row, src);
      }
      const std::optional<std::size_t> i = take();
      const std::int64_t reply = i ? static_cast<std::int64_t>(*i) : -1;
      if (i) mine.push_back(*i);
      check(MPI_Send(&reply, 1, MPI_INT64_T, src, kTagWork, MPI_COMM_WORLD), "MPI_Send");
    }
    // Not the jthreads' destructors, which would stop them before the queue is empty.
    for (std::jthread& t : threads) t.join();
  }
  if (failure) std::rethrow_exception(failure);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.pareto_files = write_pareto_files(options.csv_path);
  return result;
}

void run_worker(const MpiSweepOptions& options) {
  const SweepSpec spec = parse_sweep_spec(broadcast_text({}), options.spec_path);
  const std::vector<SweepPoint> points = expand_points(spec);
  std::optional<SweepPointRunner> runner;
  std::string error;
  try {
    runner.emplace(spec);
  } catch (const std::exception& e) {
    error = e.what();
  }
  int ok = 0;
  check(MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast");  // returns only when rank 0 is ok
  // Rank 0 found no error, so this one is this machine's (a model or design file missing here).
  if (!error.empty()) throw std::runtime_error(error);

  std::mutex mu;
  std::condition_variable inbox_cv, outbox_cv;
  std::deque<std::int64_t> inbox;     // point indices from rank 0; -1 ends one compute thread
  std::deque<std::string> outbox;     // finished rows, as CSV lines
  const int jobs = std::max(options.jobs, 1);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < jobs; ++t) {
      threads.emplace_back([&] {
        for (;;) {
          std::int64_t i = -1;
          {
            std::unique_lock<std::mutex> lock(mu);
            inbox_cv.wait(lock, [&] { return !inbox.empty(); });
            i = inbox.front();
            inbox.pop_front();
          }
          if (i < 0) return;
          // row() turns a point's own errors into an error row; anything else is a bug worth a crash.
          std::string line = csv_line(runner->row(points.at(static_cast<std::size_t>(i))));
          const std::lock_guard<std::mutex> lock(mu);
          outbox.push_back(std::move(line));
          outbox_cv.notify_one();
        }
      });
    }
    auto stop_threads = [&] {
      const std::lock_guard<std::mutex> lock(mu);
      for (int t = 0; t < jobs; ++t) inbox.push_back(-1);
      inbox_cv.notify_all();
    };

    // Every request gets one reply; a point given is owed back as a row, which is the next request.
    std::size_t unanswered = 0, computing = 0;
    try {
      for (int t = 0; t < jobs; ++t, ++unanswered) send_chars({}, 0, kTagRequest);
      while (unanswered > 0 || computing > 0) {
        std::deque<std::string> finished;
        {
          std::unique_lock<std::mutex> lock(mu);
          outbox_cv.wait_for(lock, kPollInterval, [&] { return !outbox.empty(); });
          finished.swap(outbox);
        }
        for (const std::string& line : finished) {
          send_chars(line, 0, kTagRequest);
          --computing;
          ++unanswered;
        }
        for (;;) {
          int flag = 0;
          MPI_Status st;
          check(MPI_Iprobe(0, kTagWork, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
          if (flag == 0) break;
          std::int64_t i = -1;
          check(MPI_Recv(&i, 1, MPI_INT64_T, 0, kTagWork, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
          --unanswered;
          if (i < 0) continue;  // the threads stop once everything owed is sent
          if (static_cast<std::size_t>(i) >= points.size())
            throw std::runtime_error(fmt::format("rank 0 sent point {} of {}; do all machines run the same mixpe build?", i, points.size()));
          ++computing;
          const std::lock_guard<std::mutex> lock(mu);
          inbox.push_back(i);
          inbox_cv.notify_one();
        }
      }
    } catch (...) {
      stop_threads();
      throw;
    }
    stop_threads();
  }  // joins the compute threads
  send_chars({}, 0, kTagDone);
}

}  // namespace

MpiSweepResult run_sweep_mpi(const MpiSweepOptions& options) {
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw std::runtime_error("MPI_Init_thread failed (is this mixpe started by mpirun of the MPI it was built with?)");
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  MpiSweepResult result;
  try {
    if (provided < MPI_THREAD_FUNNELED) throw std::runtime_error("the MPI library does not support threads (MPI_THREAD_FUNNELED)");
    if (rank == 0) {
      result = run_root(options, ranks);
    } else {
      run_worker(options);
    }
  } catch (const std::exception& e) {
    abort_all(rank, e.what());
  }
  MPI_Finalize();
  return result;
}

}  // namespace mixpe::runtime
