// Activations: every activation forward/backward, every ISA variant at 1 and 2 threads,
// against the double reference of activation_reference.h, plus TF.js's kink values,
// NaN/inf handling, edge sizes and bit-identical reruns. (vector_math.h's approximations
// themselves are tested in test_vector_math.cc.)
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "activation_reference.h"
#include "check.h"
#include "kernels/activations.h"

namespace {

using lamina::Activation;
using lamina_test::ref_derivative;
using lamina_test::ref_forward;

std::vector<Activation> all_activations() {
  std::vector<Activation> acts;
  for (int i = 0; i < lamina::kNumActivations; ++i) acts.push_back(static_cast<Activation>(i));
  return acts;
}

// Inputs: a fine grid over [-20, 20], the kinks, and random values.
std::vector<float> sweep_inputs(size_t random_count, unsigned seed) {
  std::vector<float> z;
  for (int i = -20000; i <= 20000; ++i) z.push_back(static_cast<float>(i) * 1e-3f);
  for (float k : {-2.5f, 2.5f, 6.0f, 0.0f, -0.0f, 1e-30f, -1e-30f, 30.0f, -30.0f, 88.0f, -88.0f}) {
    z.push_back(k);
  }
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 4.0f);
  for (size_t i = 0; i < random_count; ++i) z.push_back(dist(rng));
  return z;
}

// The error one may expect from float arithmetic: relative, widened for gelu by the
// conditioning of erfc(z/√2) (an input rounding of z costs ~z² in relative terms), plus an
// absolute floor: f' is a sum of O(1) terms that cancel near its zeros (swish, gelu, mish)
// or is computed from y as 1 - y², y + 1 (a few ulp of 1).
bool within(Activation act, float z, float dy, double got, double want, bool backward) {
  if (std::isnan(want)) return std::isnan(got);
  double rel = 2e-6;
  if (act == Activation::gelu) rel *= 1.0 + static_cast<double>(z) * z;
  double abs_floor = 1e-37;
  if (act == Activation::hard_sigmoid) abs_floor = 1e-7;
  if (backward) abs_floor = 6e-7 * std::fabs(dy);
  return std::fabs(got - want) <= rel * std::fabs(want) + abs_floor;
}

TEST(activations_match_double_reference) {
  const std::vector<float> z = sweep_inputs(20000, 7);
  const size_t n = z.size();
  std::vector<float> dy(n);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (float& v : dy) v = unit(rng);
  lamina_test::for_each_isa_and_threads([&](lamina::Isa, int) {
    for (Activation act : all_activations()) {
      lamina_test::context() += std::string(" act=") + lamina::activation_name(act);
      std::vector<float> y(n), dz(n);
      lamina::activation_forward(act, z.data(), y.data(), static_cast<int64_t>(n));
      lamina::activation_backward(act, z.data(), y.data(), dy.data(), dz.data(),
                                  static_cast<int64_t>(n));
      int bad = 0;
      for (size_t i = 0; i < n && bad < 5; ++i) {
        double want_y = ref_forward(act, z[i]);
        double want_dz = dy[i] * ref_derivative(act, z[i]);
        if (!within(act, z[i], dy[i], y[i], want_y, false)) {
          ++bad;
          CHECK_CLOSE(y[i], want_y, 0);  // reports the values
          std::fprintf(stderr, "    forward at z=%.9g\n", z[i]);
        }
        if (!within(act, z[i], dy[i], dz[i], want_dz, true)) {
          ++bad;
          CHECK_CLOSE(dz[i], want_dz, 0);
          std::fprintf(stderr, "    backward at z=%.9g\n", z[i]);
        }
      }
      lamina_test::context().resize(lamina_test::context().find(" act="));
    }
  });
}

float forward_one(Activation act, float z) {
  float y;
  lamina::activation_forward(act, &z, &y, 1);
  return y;
}

float derivative_one(Activation act, float z) {
  float y = forward_one(act, z), dy = 1.0f, dz;
  lamina::activation_backward(act, &z, &y, &dy, &dz, 1);
  return dz;
}

TEST(kink_gradients_follow_tfjs) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    CHECK(derivative_one(Activation::relu, 0.0f) == 0.0f);
    CHECK(derivative_one(Activation::relu, 1e-30f) == 1.0f);
    CHECK(derivative_one(Activation::relu6, 0.0f) == 0.0f);
    CHECK(derivative_one(Activation::relu6, 6.0f) == 0.0f);
    CHECK(derivative_one(Activation::relu6, 5.999f) == 1.0f);
    CHECK(forward_one(Activation::relu6, 7.0f) == 6.0f);
    CHECK(derivative_one(Activation::hard_sigmoid, 2.5f) == 0.2f);
    CHECK(derivative_one(Activation::hard_sigmoid, -2.5f) == 0.2f);
    CHECK(derivative_one(Activation::hard_sigmoid, 2.5001f) == 0.0f);
    CHECK(forward_one(Activation::hard_sigmoid, 3.0f) == 1.0f);
    CHECK(forward_one(Activation::hard_sigmoid, -3.0f) == 0.0f);
    CHECK(derivative_one(Activation::elu, 0.0f) == 1.0f);
    CHECK_CLOSE(derivative_one(Activation::selu, 0.0f), 1.7580993408473768599402175208123, 1e-7);
    CHECK(derivative_one(Activation::softsign, 0.0f) == 1.0f);
    CHECK(derivative_one(Activation::linear, 123.0f) == 1.0f);
  });
}

// NaN and ±inf: every SIMD variant gives what the scalar reference gives.
TEST(special_values_match_scalar) {
  const std::vector<float> z = {NAN, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 1e-45f, -1e-45f};
  const std::vector<float> dy(z.size(), 1.0f);
  const size_t n = z.size();
  for (Activation act : all_activations()) {
    std::vector<float> want_y(n), want_dz(n);
    lamina::activation_kernels_scalar().forward(act, z.data(), want_y.data(), n);
    lamina::activation_kernels_scalar().backward(act, z.data(), want_y.data(), dy.data(),
                                                 want_dz.data(), n);
    lamina_test::for_each_isa_and_threads([&](lamina::Isa, int) {
      std::vector<float> y(n), dz(n);
      lamina::activation_forward(act, z.data(), y.data(), n);
      lamina::activation_backward(act, z.data(), y.data(), dy.data(), dz.data(), n);
      for (size_t i = 0; i < n; ++i) {
        bool same_y = std::isnan(want_y[i]) ? std::isnan(y[i]) : lamina_test::close(y[i], want_y[i], 1e-6);
        bool same_dz = std::isnan(want_dz[i]) ? std::isnan(dz[i]) : lamina_test::close(dz[i], want_dz[i], 1e-6);
        if (!same_y || !same_dz) {
          std::fprintf(stderr, "  %s at z=%g: y %g (scalar %g), dz %g (scalar %g)\n",
                       lamina::activation_name(act), z[i], y[i], want_y[i], dz[i], want_dz[i]);
        }
        CHECK(same_y && same_dz);
      }
    });
  }
}

// Edge sizes around every vector width, and large ones split over threads: each element
// equals the scalar variant's (within float error) and reruns give the same bits; in place works.
TEST(edge_sizes_in_place_and_reruns) {
  const int64_t sizes[] = {1, 7, 8, 9, 13, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 300001};
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  for (int64_t n : sizes) {
    std::vector<float> z(n), dy(n);
    for (int64_t i = 0; i < n; ++i) z[i] = dist(rng), dy[i] = dist(rng);
    for (Activation act : all_activations()) {
      std::vector<float> ref_y(n), ref_dz(n);
      lamina::activation_kernels_scalar().forward(act, z.data(), ref_y.data(), n);
      lamina::activation_kernels_scalar().backward(act, z.data(), ref_y.data(), dy.data(),
                                                   ref_dz.data(), n);
      lamina_test::for_each_isa_and_threads([&](lamina::Isa, int) {
        std::vector<float> y(n), dz(n), y2(n), dz2(n);
        lamina::activation_forward(act, z.data(), y.data(), n);
        lamina::activation_backward(act, z.data(), y.data(), dy.data(), dz.data(), n);
        lamina::activation_forward(act, z.data(), y2.data(), n);
        lamina::activation_backward(act, z.data(), y.data(), dy.data(), dz2.data(), n);
        CHECK(std::memcmp(y.data(), y2.data(), n * sizeof(float)) == 0);
        CHECK(std::memcmp(dz.data(), dz2.data(), n * sizeof(float)) == 0);
        int bad = 0;
        for (int64_t i = 0; i < n; ++i) {
          bad += !lamina_test::close(y[i], ref_y[i], 1e-5);
          bad += !lamina_test::close(dz[i], ref_dz[i], 1e-5);
        }
        CHECK(bad == 0);
        std::vector<float> in_place = z;
        lamina::activation_forward(act, in_place.data(), in_place.data(), n);
        CHECK(std::memcmp(in_place.data(), y.data(), n * sizeof(float)) == 0);
        std::vector<float> grad_in_place = dy;
        lamina::activation_backward(act, z.data(), y.data(), grad_in_place.data(),
                                    grad_in_place.data(), n);
        CHECK(std::memcmp(grad_in_place.data(), dz.data(), n * sizeof(float)) == 0);
      });
    }
  }
}

TEST(names_round_trip) {
  for (Activation act : all_activations()) {
    Activation parsed;
    CHECK(lamina::parse_activation(lamina::activation_name(act), &parsed) && parsed == act);
  }
  Activation parsed;
  CHECK(!lamina::parse_activation("hardSigmoid", &parsed));
  CHECK(!lamina::parse_activation("softmax", &parsed));
  CHECK(!lamina::parse_activation("", &parsed));
  CHECK(lamina::activation_names().find("hard_sigmoid") != std::string::npos);
}

// Results from y must not need z: backward with z = null for those, y = null for the others.
TEST(backward_reads_only_what_it_declares) {
  std::vector<float> z = {-3.0f, -0.5f, 0.0f, 0.7f, 4.0f}, y(5), dy(5, 1.0f), a(5), b(5);
  for (Activation act : all_activations()) {
    lamina::activation_forward(act, z.data(), y.data(), 5);
    lamina::activation_backward(act, z.data(), y.data(), dy.data(), a.data(), 5);
    bool needs_z = lamina::activation_backward_needs_input(act);
    lamina::activation_backward(act, needs_z ? z.data() : nullptr, needs_z ? nullptr : y.data(),
                                dy.data(), b.data(), 5);
    CHECK(a == b);
  }
}

}  // namespace

int main() { return lamina_test::run_all(); }
