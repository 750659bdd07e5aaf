// GEMM: every ISA variant at 1 and 2 threads against a double-precision reference, over
// edge shapes around each variant's tile, primes, and sizes that cross the block limits.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "kernels/gemm.h"

namespace {

struct Case {
  bool ta, tb;
  int64_t m, n, k;
  float alpha, beta;
  int64_t pad;  // extra elements per row beyond the minimum leading dimension
};

std::vector<float> random_vector(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

struct Operands {
  int64_t lda, ldb, ldc;
  std::vector<float> a, b, c0;
};

Operands make_operands(const Case& t, unsigned seed) {
  Operands o;
  int64_t a_rows = t.ta ? t.k : t.m, a_cols = t.ta ? t.m : t.k;
  int64_t b_rows = t.tb ? t.n : t.k, b_cols = t.tb ? t.k : t.n;
  o.lda = a_cols + t.pad;
  o.ldb = b_cols + t.pad;
  o.ldc = t.n + t.pad;
  o.a = random_vector(static_cast<size_t>(a_rows * o.lda), seed);
  o.b = random_vector(static_cast<size_t>(b_rows * o.ldb), seed + 1);
  o.c0 = random_vector(static_cast<size_t>(t.m * o.ldc), seed + 2);
  return o;
}

// Checks C against a double reference with the usual bound for a float dot product:
// |error| <= k·eps·Σ|a·b| (times a small safety factor).
void check_against_reference(const Case& t, const Operands& o, const std::vector<float>& c) {
  const double eps = std::numeric_limits<float>::epsilon();
  int bad = 0;
  for (int64_t i = 0; i < t.m; ++i) {
    for (int64_t j = 0; j < t.n; ++j) {
      double sum = 0, mag = 0;
      for (int64_t p = 0; p < t.k; ++p) {
        double av = t.ta ? o.a[p * o.lda + i] : o.a[i * o.lda + p];
        double bv = t.tb ? o.b[j * o.ldb + p] : o.b[p * o.ldb + j];
        sum += av * bv;
        mag += std::fabs(av * bv);
      }
      double c_old = o.c0[i * o.ldc + j];
      double want = t.alpha * sum + (t.beta == 0.0f ? 0.0 : t.beta * c_old);
      double bound = 4 * (t.k + 2) * eps * (std::fabs(t.alpha) * mag + std::fabs(t.beta * c_old)) + 1e-30;
      double got = c[i * o.ldc + j];
      if (!(std::fabs(got - want) <= bound) && ++bad <= 3) {
        CHECK_CLOSE(got, want, 0.0);
      }
    }
    // The padding beyond n columns must be untouched.
    for (int64_t j = t.n; j < o.ldc; ++j) CHECK(c[i * o.ldc + j] == o.c0[i * o.ldc + j]);
  }
  CHECK(bad == 0);
}

std::vector<float> run_gemm(const Case& t, const Operands& o, bool nan_c) {
  std::vector<float> c = o.c0;
  if (nan_c && t.beta == 0.0f) {
    for (int64_t i = 0; i < t.m; ++i)
      for (int64_t j = 0; j < t.n; ++j) c[i * o.ldc + j] = std::numeric_limits<float>::quiet_NaN();
  }
  lamina::gemm(t.ta, t.tb, t.m, t.n, t.k, t.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, t.beta,
               c.data(), o.ldc);
  return c;
}

std::vector<Case> edge_cases() {
  std::vector<Case> cases;
  const int64_t dims[] = {1, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33};
  unsigned pick = 0;
  for (int64_t m : dims) {
    for (int64_t n : dims) {
      int64_t k = dims[(pick++) % 12];
      bool ta = pick % 2, tb = (pick / 2) % 2;
      cases.push_back({ta, tb, m, n, k, 1.0f, 0.0f, static_cast<int64_t>(pick % 3)});
    }
  }
  return cases;
}

}  // namespace

TEST(gemm_edge_shapes_all_transposes) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    unsigned seed = 1;
    for (const Case& t : edge_cases()) {
      Operands o = make_operands(t, seed++);
      check_against_reference(t, o, run_gemm(t, o, true));
    }
  });
}

TEST(gemm_primes_alpha_beta) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    for (int tr = 0; tr < 4; ++tr) {
      for (float beta : {0.0f, 1.0f, -0.5f}) {
        Case t{tr % 2 == 1, tr / 2 == 1, 7, 13, 17, 0.75f, beta, 3};
        Operands o = make_operands(t, 10 + tr);
        check_against_reference(t, o, run_gemm(t, o, true));
        Case u{tr % 2 == 1, tr / 2 == 1, 1, 1, 1, -2.0f, beta, 0};
        Operands p = make_operands(u, 20 + tr);
        check_against_reference(u, p, run_gemm(u, p, true));
      }
    }
  });
}

TEST(gemm_large_and_blocked) {
  // k > 1024 splits k into blocks (beta applies once); n = 600 with k = 1500 crosses the
  // column-block limit; 1000+ rows give many tasks per thread.
  const Case cases[] = {
      {false, false, 1003, 67, 1029, 1.0f, 0.5f, 1},
      {true, false, 20, 600, 1500, 1.0f, 0.0f, 0},
      {false, true, 130, 1001, 40, -1.0f, 1.0f, 2},
      {true, true, 257, 129, 1100, 0.5f, 0.0f, 0},
  };
  lamina_test::for_each_isa_and_threads([&](lamina::Isa, int) {
    unsigned seed = 100;
    for (const Case& t : cases) {
      Operands o = make_operands(t, seed++);
      check_against_reference(t, o, run_gemm(t, o, true));
    }
  });
}

TEST(gemm_dense_layer_products) {
  // The three products of a 784→32 dense layer at batch 32: X·W, dY·Wᵀ, Xᵀ·dY.
  const Case cases[] = {
      {false, false, 32, 32, 784, 1.0f, 0.0f, 0},
      {false, true, 32, 784, 32, 1.0f, 0.0f, 0},
      {true, false, 784, 32, 32, 1.0f, 0.0f, 0},
  };
  lamina_test::for_each_isa_and_threads([&](lamina::Isa, int) {
    unsigned seed = 200;
    for (const Case& t : cases) {
      Operands o = make_operands(t, seed++);
      check_against_reference(t, o, run_gemm(t, o, false));
    }
  });
}

TEST(gemm_same_bits_run_to_run_and_across_threads) {
  const Case t{false, true, 301, 77, 1300, 1.0f, 0.0f, 0};
  Operands o = make_operands(t, 7);
  for (lamina::Isa isa : lamina::supported_isas()) {
    lamina::set_active_isa(isa);
    lamina::set_num_threads(1);
    std::vector<float> one = run_gemm(t, o, false);
    lamina::set_num_threads(2);
    std::vector<float> two = run_gemm(t, o, false);
    std::vector<float> again = run_gemm(t, o, false);
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(two.data(), again.data(), two.size() * sizeof(float)) == 0);
  }
  lamina::set_active_isa(lamina::supported_isas().back());
}

TEST(gemm_zero_sizes) {
  std::vector<float> a(4, 1.0f), b(4, 1.0f), c(4, 3.0f);
  lamina::gemm(false, false, 2, 2, 0, 1.0f, a.data(), 1, b.data(), 2, 0.5f, c.data(), 2);
  for (float x : c) CHECK(x == 1.5f);
  lamina::gemm(false, false, 0, 2, 2, 1.0f, a.data(), 2, b.data(), 2, 0.0f, c.data(), 2);
  for (float x : c) CHECK(x == 1.5f);
}

TEST(gemm_epilogue_sees_every_element_once_after_the_last_block) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    const Case t{false, false, 45, 70, 1100, 1.0f, 0.0f, 0};
    Operands o = make_operands(t, 3);
    std::vector<float> plain = run_gemm(t, o, false);
    std::vector<float> c = o.c0;
    std::vector<int> seen(static_cast<size_t>(t.m * t.n), 0);
    struct Ctx {
      std::vector<int>* seen;
      int64_t n;
    } ctx{&seen, t.n};
    lamina::GemmEpilogue epi;
    epi.context = &ctx;
    epi.fn = [](void* p, float* block, int64_t ldc, int64_t row, int64_t col, int64_t rows,
                int64_t cols) {
      Ctx* x = static_cast<Ctx*>(p);
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          (*x->seen)[(row + i) * x->n + col + j] += 1;
          block[i * ldc + j] = 2.0f * block[i * ldc + j] + 1.0f;
        }
    };
    lamina::gemm(false, false, t.m, t.n, t.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.0f,
                 c.data(), o.ldc, epi);
    for (int x : seen) CHECK(x == 1);
    for (size_t i = 0; i < c.size(); ++i) CHECK(c[i] == 2.0f * plain[i] + 1.0f);
  });
}

int main() { return lamina_test::run_all(); }
