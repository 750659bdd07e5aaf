// vector_math.h's branch-free approximations (used by the activations and the softmax family)
// against <cmath> in double over a dense sweep of all floats, and their special values.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "check.h"
#include "kernels/vector_math.h"

namespace {

float float_from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// |got - want| in units of the float spacing at want (subnormal spacing near 0).
double ulp_error(float got, double want) {
  if (std::isnan(want)) return std::isnan(got) ? 0.0 : INFINITY;
  if (std::isnan(got)) return INFINITY;
  float rounded = static_cast<float>(want);
  if (std::isinf(rounded)) return std::isinf(got) || std::fabs(got) == FLT_MAX ? 0.0 : INFINITY;
  if (std::isinf(got)) return INFINITY;
  float mag = std::fabs(rounded);
  double spacing = std::nextafter(mag, INFINITY) - mag;
  return std::fabs(static_cast<double>(got) - want) / spacing;
}

// Largest ulp error of f against ref over every 613th float bit pattern (7 million inputs,
// every binade, both signs, inf and NaN) for which in_domain(x).
float g_worst_x = 0;  // where the last sweep found its largest error (for the message)

template <class F, class R, class D>
double sweep_max_ulp(F f, R ref, D in_domain) {
  double worst = 0;
  g_worst_x = 0;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 613) {
    float x = float_from_bits(static_cast<uint32_t>(bits));
    if (!std::isnan(x) && !in_domain(x)) continue;
    double err = ulp_error(f(x), ref(static_cast<double>(x)));
    if (err > worst) worst = err, g_worst_x = x;
  }
  // A few values every function must get right whatever the stride hits.
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 0.5f, -0.5f, 88.7f, -88.7f, 100.0f, -100.0f,
                  -103.9f, 1.0f - 1e-7f, 1.0f + 1e-7f, 1e-40f, FLT_MAX, INFINITY, -INFINITY,
                  NAN}) {
    if (!std::isnan(x) && !in_domain(x)) continue;
    double err = ulp_error(f(x), ref(static_cast<double>(x)));
    if (err > worst) worst = err, g_worst_x = x;
  }
  return worst;
}

bool anywhere(float) { return true; }

void expect_ulp(const char* name, double worst, double limit) {
  std::printf("  %-22s max error %.2f ulp at x = %.9g (limit %.0f)\n", name, worst,
              g_worst_x, limit);
  CHECK(worst <= limit);
}

// The softmax family relies on these two staying within 2 ulp, subnormal results and inputs
// included (negative inputs of log give NaN, as std::log does).
TEST(exp_and_log_within_2_ulp) {
  expect_ulp("exp", sweep_max_ulp([](float x) { return vmath::exp(x); },
                                   [](double x) { return std::exp(x); }, anywhere), 2);
  expect_ulp("log", sweep_max_ulp([](float x) { return vmath::log(x); },
                                   [](double x) { return std::log(x); }, anywhere), 2);
}

TEST(exp_family_within_3_ulp) {
  expect_ulp("expm1", sweep_max_ulp([](float x) { return vmath::expm1(x); },
                                     [](double x) { return std::expm1(x); }, anywhere), 3);
  expect_ulp("log1p", sweep_max_ulp([](float x) { return vmath::log1p(x); },
                                     [](double x) { return std::log1p(x); },
                                     [](float x) { return x > -0.29f; }), 3);
  expect_ulp("tanh", sweep_max_ulp([](float x) { return vmath::tanh(x); },
                                    [](double x) { return std::tanh(x); }, anywhere), 3);
  expect_ulp("sigmoid", sweep_max_ulp([](float x) { return vmath::sigmoid(x); },
                                       [](double x) { return 1 / (1 + std::exp(-x)); }, anywhere), 3);
}

TEST(erfc_within_5_ulp) {
  expect_ulp("erfc", sweep_max_ulp([](float x) { return vmath::erfc(x); },
                                    [](double x) { return std::erfc(x); }, anywhere), 5);
  expect_ulp("exp_neg_half_square",
             sweep_max_ulp([](float x) { return vmath::exp_neg_half_square(x); },
                           [](double x) { return std::exp(-0.5 * x * x); }, anywhere), 3);
}

TEST(special_values) {
  CHECK(vmath::exp(0.0f) == 1.0f);
  CHECK(vmath::exp(INFINITY) == INFINITY);
  CHECK(vmath::exp(-INFINITY) == 0.0f);
  CHECK(vmath::exp(88.8f) == INFINITY);
  CHECK(vmath::exp(89.0f) == INFINITY);
  CHECK(vmath::exp(-104.0f) == 0.0f);
  CHECK(vmath::log(1.0f) == 0.0f);
  CHECK(vmath::log(0.0f) == -INFINITY);
  CHECK(vmath::log(-0.0f) == -INFINITY);
  CHECK(vmath::log(INFINITY) == INFINITY);
  CHECK(std::isnan(vmath::log(-1.0f)) && std::isnan(vmath::log(-INFINITY)));
  CHECK(std::isnan(vmath::log(-FLT_MIN / 4)));  // a negative subnormal
  CHECK(vmath::expm1(-INFINITY) == -1.0f);
  CHECK(vmath::expm1(INFINITY) == INFINITY);
  CHECK(vmath::tanh(INFINITY) == 1.0f && vmath::tanh(-INFINITY) == -1.0f);
  CHECK(vmath::sigmoid(-INFINITY) == 0.0f && vmath::sigmoid(INFINITY) == 1.0f);
  CHECK(vmath::erfc(INFINITY) == 0.0f && vmath::erfc(-INFINITY) == 2.0f);
  CHECK(vmath::log1p(INFINITY) == INFINITY);
  for (float v : {vmath::exp(NAN), vmath::expm1(NAN), vmath::log(NAN), vmath::log1p(NAN),
                  vmath::tanh(NAN), vmath::sigmoid(NAN), vmath::erfc(NAN),
                  vmath::exp_neg_half_square(NAN)}) {
    CHECK(std::isnan(v));
  }
}

}  // namespace

int main() { return lamina_test::run_all(); }
