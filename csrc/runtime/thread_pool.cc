#include "runtime/thread_pool.h"

#include "runtime/float_mode.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace lamina {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Workers spin this long after a job before they sleep: training calls kernels back to back,
// and waking a sleeping thread costs tens of microseconds.
constexpr auto kSpinTime = std::chrono::microseconds(300);

thread_local bool tls_inside_task = false;

// One job: the caller publishes it, then runs tasks itself; workers that are awake join in.
// Thread r (the caller is 0) first takes its own tasks r, r+T, r+2T, ..., so a call repeated
// with the same sizes (a training loop) finds each thread's data still in its own cache; then
// it helps with the others' tasks. The caller waits only for tasks that were claimed, never
// for a worker that is asleep or descheduled: the caller takes its tasks over instead.
struct Job {
  detail::TaskFn fn;
  void* ctx;
  int64_t n_tasks;
  int slots;
  std::atomic<int64_t> next[max_num_threads()];  // tasks claimed so far in each thread's sequence
  std::atomic<int64_t> done{0};
  uint32_t float_mode;  // the caller's: every task runs in it (denormals flushed or not)

  Job(detail::TaskFn f, void* c, int64_t n, int threads)
      : fn(f), ctx(c), n_tasks(n), slots(threads), float_mode(lamina::float_mode()) {
    for (int s = 0; s < slots; ++s) next[s].store(0, std::memory_order_relaxed);
  }

  void drain(int home) {
    int64_t finished = 0;
    for (int k = 0; k < slots; ++k) {
      const int s = (home + k) % slots;
      for (;;) {
        const int64_t task = s + next[s].fetch_add(1) * slots;
        if (task >= n_tasks) break;
        fn(ctx, task);
        ++finished;
      }
    }
    if (finished) done.fetch_add(finished);
  }
};

class Pool {
 public:
  Pool() : num_threads_(initial_threads()) {}
  ~Pool() { stop_workers(); }

  int num_threads() const { return num_threads_; }

  void resize(int n) {
    std::lock_guard<std::mutex> hold(busy_);
    stop_workers();
    num_threads_ = n;
  }

  void run(int64_t n_tasks, detail::TaskFn fn, void* ctx) {
    if (n_tasks <= 0) return;
    std::unique_lock<std::mutex> hold(busy_, std::try_to_lock);
    if (n_tasks == 1 || num_threads_ == 1 || tls_inside_task || !hold.owns_lock()) {
      run_serial(n_tasks, fn, ctx);
      return;
    }
    if (workers_.empty()) start_workers();

    Job job(fn, ctx, n_tasks, num_threads_);
    current_.store(&job);
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      generation_.fetch_add(1);
    }
    if (sleeping_.load() > 0) wake_.notify_all();

    tls_inside_task = true;
    job.drain(0);
    tls_inside_task = false;
    while (job.done.load() != n_tasks) cpu_relax();
    // No worker may still hold a pointer to `job` once it goes out of scope. A worker
    // announces itself (active_) before it reads current_, so after current_ is cleared,
    // active_ == 0 means nobody can reach the job any more.
    current_.store(nullptr);
    while (active_.load() != 0) cpu_relax();
  }

 private:
  static int initial_threads() {
    if (const char* env = std::getenv("LAMINA_NUM_THREADS")) {
      int n = std::atoi(env);
      if (n >= 1 && n <= max_num_threads()) return n;
    }
    return default_num_threads();
  }

  static void run_serial(int64_t n_tasks, detail::TaskFn fn, void* ctx) {
    bool outer = tls_inside_task;
    tls_inside_task = true;
    for (int64_t t = 0; t < n_tasks; ++t) fn(ctx, t);
    tls_inside_task = outer;
  }

  // `seen` is the generation when the worker was created: a job published before the thread
  // got going must still find it.
  void worker_loop(int slot, uint64_t seen) {
    tls_inside_task = true;
    for (;;) {
      seen = wait_for_generation(seen);
      if (stopping_.load()) return;
      active_.fetch_add(1);
      if (Job* job = current_.load()) {
        set_float_mode(job->float_mode);
        job->drain(slot);
      }
      active_.fetch_sub(1);
    }
  }

  uint64_t wait_for_generation(uint64_t seen) {
    auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
    for (int i = 0;; ++i) {
      uint64_t now = generation_.load(std::memory_order_acquire);
      if (now != seen) return now;
      if ((i & 255) == 255 && std::chrono::steady_clock::now() > spin_until) break;
      cpu_relax();
    }
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    sleeping_.fetch_add(1);
    wake_.wait(lock, [&] { return generation_.load() != seen; });
    sleeping_.fetch_sub(1);
    return generation_.load();
  }

  void start_workers() {
    stopping_.store(false);
    const uint64_t now = generation_.load();
    for (int i = 1; i < num_threads_; ++i) {
      workers_.emplace_back([this, i, now] { worker_loop(i, now); });
    }
  }

  void stop_workers() {
    if (workers_.empty()) return;
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stopping_.store(true);
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  int num_threads_;
  std::mutex busy_;  // held by the one caller that owns the workers for a job
  std::vector<std::thread> workers_;

  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleeping_{0};
  std::atomic<bool> stopping_{false};

  std::atomic<Job*> current_{nullptr};
  std::atomic<int> active_{0};
};

Pool& pool() {
  // Never destroyed: worker threads must not outlive a destroyed pool at process exit.
  static Pool* instance = new Pool();
  return *instance;
}

}  // namespace

int default_num_threads() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n >= 1) return n < max_num_threads() ? n : max_num_threads();
  }
#endif
  unsigned n = std::thread::hardware_concurrency();
  if (n == 0) return 1;
  return n < static_cast<unsigned>(max_num_threads()) ? static_cast<int>(n) : max_num_threads();
}

int get_num_threads() { return pool().num_threads(); }

bool set_num_threads(int n) {
  if (n < 1 || n > max_num_threads()) return false;
  if (n != pool().num_threads()) pool().resize(n);
  return true;
}

namespace detail {
void run_parallel(int64_t n_tasks, TaskFn fn, void* context) { pool().run(n_tasks, fn, context); }
}  // namespace detail

}  // namespace lamina
