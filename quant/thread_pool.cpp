// Persistent worker pool: a generation counter wakes the workers, tasks are claimed from a counter.
#include "quant/thread_pool.h"

#include <algorithm>

namespace mixpe::quant {
namespace {

// Back-to-back GEMVs take ~0.1-1 ms; spinning this long (tens of microseconds) before sleeping on
// the futex avoids most wake-up latency without burning a shared core when idle.
constexpr int kSpin = 2000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Waits until `value` differs from `old` and returns it: spins first, then sleeps, counted in
// `sleepers` so that wake() can skip the futex system call when nobody sleeps.
unsigned wait_change(const std::atomic<unsigned>& value, unsigned old, std::atomic<unsigned>& sleepers) {
  for (int i = 0; i < kSpin; ++i) {
    const unsigned v = value.load();
    if (v != old) return v;
    cpu_relax();
  }
  for (;;) {
    sleepers.fetch_add(1);
    value.wait(old);  // returns at once if value no longer equals old
    sleepers.fetch_sub(1);
    const unsigned v = value.load();
    if (v != old) return v;
  }
}

// Called after changing a value others wait on (seq_cst on both sides: either the sleeper is
// counted here or it sees the new value before sleeping).
void wake(std::atomic<unsigned>& value, const std::atomic<unsigned>& sleepers) {
  if (sleepers.load() != 0) value.notify_all();
}

}  // namespace

unsigned resolve_threads(unsigned requested) {
  return requested != 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool;
  return pool;
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    stop_.store(true);
    generation_.fetch_add(1);
    generation_.notify_all();  // unconditionally: every worker must leave
  }
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run(unsigned tasks, unsigned threads, const std::function<void(unsigned)>& task) {
  threads = std::min(resolve_threads(threads), tasks);
  if (threads <= 1) {
    for (unsigned t = 0; t < tasks; ++t) task(t);
    return;
  }
  std::lock_guard<std::mutex> lock(run_mu_);
  while (workers_.size() < threads - 1) workers_.emplace_back(&ThreadPool::worker_loop, this, generation_.load());
  task_ = &task;
  tasks_ = tasks;
  helpers_ = threads - 1;
  next_.store(0);
  tickets_.store(0);
  open_.store(true);
  generation_.fetch_add(1);
  wake(generation_, sleepers_);
  for (unsigned t; (t = next_.fetch_add(1)) < tasks;) task(t);
  open_.store(false);
  for (unsigned busy = active_.load(); busy != 0;) busy = wait_change(active_, busy, sleepers_);
  task_ = nullptr;
}

void ThreadPool::worker_loop(unsigned generation) {
  for (;;) {
    generation = wait_change(generation_, generation, sleepers_);
    if (stop_.load()) return;
    active_.fetch_add(1);
    if (open_.load() && tickets_.fetch_add(1) < helpers_) {
      for (unsigned t; (t = next_.fetch_add(1)) < tasks_;) (*task_)(t);
    }
    if (active_.fetch_sub(1) == 1) wake(active_, sleepers_);
  }
}

}  // namespace mixpe::quant
