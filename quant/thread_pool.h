// A persistent worker pool for the fast kernels: workers live across calls and claim tasks in order.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mixpe::quant {

// `requested` threads, or every hardware thread when 0.
unsigned resolve_threads(unsigned requested);

class ThreadPool {
 public:
  // The process-wide pool every fast kernel shares (workers are created on first need).
  static ThreadPool& instance();

  ThreadPool() = default;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool();

  // Runs task(t) exactly once for every t in [0, tasks), on the calling thread and at most
  // threads - 1 workers; returns when all have finished. Participants claim tasks in ascending
  // order, so on a shared machine a worker the OS delays simply takes fewer, and the call never
  // waits for a worker that has not joined. Calls from several threads run one after another.
  // Tasks must not throw and must not call run() themselves.
  void run(unsigned tasks, unsigned threads, const std::function<void(unsigned)>& task);

 private:
  void worker_loop(unsigned generation);

  std::mutex run_mu_;  // one job at a time
  std::vector<std::thread> workers_;
  // The open job; written by run() before open_ is set, read by workers after they see it set.
  const std::function<void(unsigned)>* task_ = nullptr;
  unsigned tasks_ = 0;
  unsigned helpers_ = 0;               // workers admitted (threads - 1)
  std::atomic<unsigned> next_{0};      // next task to claim
  std::atomic<unsigned> tickets_{0};   // workers that asked to join
  std::atomic<bool> open_{false};
  // Workers between joining and leaving: run() returns only once this is zero with the job closed
  // (seq_cst on both sides: a worker either is counted or sees the job closed).
  std::atomic<unsigned> active_{0};
  // Bumped once per job; workers wait on it (a futex), after a short spin for back-to-back calls.
  std::atomic<unsigned> generation_{0};
  std::atomic<unsigned> sleepers_{0};  // threads inside a futex wait on generation_ or active_
  std::atomic<bool> stop_{false};
};

}  // namespace mixpe::quant
