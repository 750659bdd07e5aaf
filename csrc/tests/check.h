// A minimal test harness for the kernel tests: no dependencies, one executable per file.
//
//   TEST(gemm_small) { CHECK(x == 1); CHECK_CLOSE(a, b, 1e-6); }
//   int main() { return lamina_test::run_all(); }
#pragma once

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "runtime/isa.h"
#include "runtime/thread_pool.h"

namespace lamina_test {

struct Case {
  const char* name;
  std::function<void()> body;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& failures() {
  static int count = 0;
  return count;
}

inline std::string& context() {
  static std::string text;
  return text;
}

struct Register {
  Register(const char* name, std::function<void()> body) { registry().push_back({name, body}); }
};

inline void fail(const char* file, int line, const std::string& what) {
  if (++failures() <= 50) {
    std::fprintf(stderr, "%s:%d: FAILED %s%s%s\n", file, line, what.c_str(),
                 context().empty() ? "" : "  [", context().empty() ? "" : (context() + "]").c_str());
  }
}

// |got - want| <= tol * max(1, |want|): a relative tolerance that turns absolute near zero.
inline bool close(double got, double want, double tol) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= tol * std::fmax(1.0, std::fabs(want));
}

// Runs body once for every supported ISA variant and thread count in {1, 2}.
inline void for_each_isa_and_threads(const std::function<void(lamina::Isa, int)>& body) {
  lamina::Isa saved_isa = lamina::active_isa();
  int saved_threads = lamina::get_num_threads();
  for (lamina::Isa isa : lamina::supported_isas()) {
    for (int threads : {1, 2}) {
      lamina::set_active_isa(isa);
      lamina::set_num_threads(threads);
      context() = std::string("isa=") + lamina::isa_name(isa) + " threads=" + std::to_string(threads);
      body(isa, threads);
    }
  }
  context().clear();
  lamina::set_active_isa(saved_isa);
  lamina::set_num_threads(saved_threads);
}

inline int run_all() {
  std::printf("ISA variants on this CPU:");
  for (lamina::Isa isa : lamina::supported_isas()) std::printf(" %s", lamina::isa_name(isa));
  std::printf("\n");
  int failed_cases = 0;
  for (const Case& c : registry()) {
    int before = failures();
    c.body();
    bool ok = failures() == before;
    failed_cases += ok ? 0 : 1;
    std::printf("[%s] %s\n", ok ? "  ok  " : "FAILED", c.name);
  }
  std::printf("%d passed, %d failed\n", static_cast<int>(registry().size()) - failed_cases,
              failed_cases);
  return failed_cases == 0 ? 0 : 1;
}

}  // namespace lamina_test

#define LAMINA_CAT2(a, b) a##b
#define LAMINA_CAT(a, b) LAMINA_CAT2(a, b)
#define TEST(name)                                                           \
  static void LAMINA_CAT(test_, name)();                                     \
  static lamina_test::Register LAMINA_CAT(register_, name)(#name, LAMINA_CAT(test_, name)); \
  static void LAMINA_CAT(test_, name)()

#define CHECK(cond)                                                 \
  do {                                                              \
    if (!(cond)) lamina_test::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define CHECK_CLOSE(got, want, tol)                                                          \
  do {                                                                                       \
    double g_ = (got), w_ = (want);                                                          \
    if (!lamina_test::close(g_, w_, (tol)))                                                  \
      lamina_test::fail(__FILE__, __LINE__,                                                  \
                        std::string("CHECK_CLOSE(" #got ", " #want "): got ") + std::to_string(g_) + \
                            " want " + std::to_string(w_));                                  \
  } while (0)
