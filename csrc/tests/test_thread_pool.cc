#include <atomic>
#include <thread>
#include <vector>

#include "check.h"
#include "runtime/float_mode.h"

TEST(parallel_for_runs_every_task_once) {
  for (int threads : {1, 2, 3}) {
    lamina::set_num_threads(threads);
    for (int64_t n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      for (auto& h : hits) h = 0;
      lamina::parallel_for(n, [&](int64_t t) { hits[static_cast<size_t>(t)]++; });
      for (auto& h : hits) CHECK(h.load() == 1);
    }
  }
}

TEST(nested_parallel_for_runs_inline) {
  lamina::set_num_threads(2);
  std::atomic<int> total{0};
  lamina::parallel_for(4, [&](int64_t) {
    lamina::parallel_for(5, [&](int64_t) { total++; });
  });
  CHECK(total.load() == 20);
}

TEST(concurrent_callers_all_finish) {
  lamina::set_num_threads(2);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int r = 0; r < 200; ++r) lamina::parallel_for(8, [&](int64_t t) { total += t; });
    });
  }
  for (auto& t : callers) t.join();
  CHECK(total.load() == 4 * 200 * 28);
}

TEST(tasks_run_in_the_callers_float_mode) {
  // A caller that flushes denormals gets its tasks flushed on every thread, and one that does
  // not gets them computed exactly, whichever thread ran the previous job.
  lamina::set_num_threads(2);
  for (bool flush : {true, false, true}) {
    std::vector<float> out(64);
    volatile float tiny = 1e-39f;  // a denormal
    auto body = [&](int64_t t) {
      volatile float x = tiny;
      out[t] = x * 0.5f;  // denormal in, denormal out: 0 under FTZ/DAZ
    };
    if (flush) {
      const lamina::ScopedFlushDenormals scope;
      lamina::parallel_for(64, body);
    } else {
      lamina::parallel_for(64, body);
    }
#if defined(LAMINA_HAS_MXCSR)
    const bool flushed = flush;
#else
    const bool flushed = false;  // the mode is x86's; elsewhere the scope changes nothing
#endif
    for (float v : out) CHECK((v == 0.0f) == flushed);
  }
  const uint32_t before = lamina::float_mode();
  { const lamina::ScopedFlushDenormals scope; }
  CHECK(lamina::float_mode() == before);
}

TEST(set_num_threads_validates) {
  CHECK(!lamina::set_num_threads(0));
  CHECK(!lamina::set_num_threads(lamina::max_num_threads() + 1));
  CHECK(lamina::set_num_threads(3));
  CHECK(lamina::get_num_threads() == 3);
  CHECK(lamina::default_num_threads() >= 1);
}

TEST(isa_selection) {
  auto isas = lamina::supported_isas();
  CHECK(!isas.empty() && isas.front() == lamina::Isa::scalar);
  CHECK(lamina::set_active_isa(lamina::Isa::scalar));
  CHECK(lamina::active_isa() == lamina::Isa::scalar);
  lamina::Isa parsed;
  CHECK(lamina::parse_isa("avx512", &parsed) && parsed == lamina::Isa::avx512);
  CHECK(!lamina::parse_isa("sse9", &parsed));
}

int main() { return lamina_test::run_all(); }
