// One persistent pool of worker threads shared by every kernel.
#pragma once

#include <cstdint>
#include <type_traits>

namespace lamina {

// The CPUs this process may run on (its affinity mask), at least 1.
int default_num_threads();

int get_num_threads();

// Sets how many threads kernels use, the caller included. Returns false for n < 1 or
// n > max_num_threads() and changes nothing.
bool set_num_threads(int n);

constexpr int max_num_threads() { return 256; }

namespace detail {
using TaskFn = void (*)(void* context, int64_t task);
void run_parallel(int64_t n_tasks, TaskFn fn, void* context);
}  // namespace detail

// Calls body(task) once for every task in [0, n_tasks), spread over the pool; the caller
// works too and returns when all tasks are done. Which thread runs a task varies, so a task
// must depend only on its index (that keeps results identical run to run). A call made from
// inside a task, or while another thread holds the pool, runs its tasks on the caller alone.
template <class Body>
void parallel_for(int64_t n_tasks, Body&& body) {
  using B = typename std::remove_reference<Body>::type;
  detail::run_parallel(
      n_tasks, [](void* ctx, int64_t task) { (*static_cast<B*>(ctx))(task); },
      const_cast<void*>(static_cast<const void*>(&body)));
}

// Runs body() with every parallel_for inside it on the calling thread alone: for work too
// small to be worth handing to another core (a task's nested calls already run inline).
template <class Body>
void run_on_this_thread(Body&& body) {
  parallel_for(1, [&](int64_t) { body(); });
}

}  // namespace lamina

