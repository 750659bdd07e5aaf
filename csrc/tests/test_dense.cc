// Dense forward/backward: every ISA variant at 1 and 2 threads, every activation, against a
// naive double-precision loop, over edge shapes (the guide's 32×784→32, a batch of 1, tile
// edges, k beyond GEMM's block, a batch > 1000), with and without bias, z, dx, accumulate.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "activation_reference.h"
#include "check.h"
#include "kernels/dense.h"

namespace {

using lamina::Activation;

struct Shape {
  int64_t batch, in, out;
};

const Shape kShapes[] = {{32, 784, 32}, {1, 784, 32}, {1, 1, 1},   {7, 13, 17},
                         {9, 33, 65},   {17, 1030, 5}, {1100, 17, 31}, {3, 0, 4}};

std::vector<float> random_vector(size_t n, unsigned seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

struct Layer {
  Shape s;
  std::vector<float> x, w, b, dy;
};

Layer make_layer(Shape s, unsigned seed) {
  // Weights scaled so that pre-activations are O(1) and every activation is exercised.
  float w_scale = 1.5f / std::sqrt(static_cast<float>(s.in > 0 ? s.in : 1));
  return {s, random_vector(s.batch * s.in, seed, 1.0f), random_vector(s.in * s.out, seed + 1, w_scale),
          random_vector(s.out, seed + 2, 0.5f), random_vector(s.batch * s.out, seed + 3, 1.0f)};
}

// |got - want| <= tol·(Σ|terms| + |want|) + tiny: the usual float dot-product bound.
bool close_sum(double got, double want, double magnitude, double tol) {
  return std::fabs(got - want) <= tol * (magnitude + std::fabs(want)) + 1e-30;
}

void check_forward(const Layer& L, Activation act, bool use_bias) {
  const Shape s = L.s;
  std::vector<float> y(s.batch * s.out, NAN), z(s.batch * s.out, NAN);
  lamina::dense_forward(L.x.data(), L.w.data(), use_bias ? L.b.data() : nullptr, y.data(),
                        z.data(), s.batch, s.in, s.out, act);
  std::vector<float> y_only(s.batch * s.out, NAN);
  lamina::dense_forward(L.x.data(), L.w.data(), use_bias ? L.b.data() : nullptr, y_only.data(),
                        nullptr, s.batch, s.in, s.out, act);
  CHECK(std::memcmp(y.data(), y_only.data(), y.size() * sizeof(float)) == 0);
  const double tol = 4 * std::numeric_limits<float>::epsilon() * (1 + std::sqrt(double(s.in)));
  int bad = 0;
  for (int64_t i = 0; i < s.batch; ++i) {
    for (int64_t j = 0; j < s.out; ++j) {
      double sum = use_bias ? L.b[j] : 0.0, mag = std::fabs(sum);
      for (int64_t p = 0; p < s.in; ++p) {
        sum += double(L.x[i * s.in + p]) * L.w[p * s.out + j];
        mag += std::fabs(double(L.x[i * s.in + p]) * L.w[p * s.out + j]);
      }
      const float zf = z[i * s.out + j];
      bad += !close_sum(zf, sum, mag, tol);
      // y against f at the kernel's own z: the activation's accuracy is test_activations' job.
      bad += !close_sum(y[i * s.out + j], lamina_test::ref_forward(act, zf), 0, 2e-6 * (1 + zf * zf)) &&
             !(act == Activation::hard_sigmoid && std::fabs(y[i * s.out + j] - lamina_test::ref_forward(act, zf)) < 1e-7);
    }
  }
  CHECK(bad == 0);
}

void check_backward(const Layer& L, Activation act, bool use_bias, bool want_dx, bool accumulate) {
  const Shape s = L.s;
  const int64_t ny = s.batch * s.out;
  std::vector<float> y(ny), z(ny);
  lamina::dense_forward(L.x.data(), L.w.data(), use_bias ? L.b.data() : nullptr, y.data(),
                        z.data(), s.batch, s.in, s.out, act);
  std::vector<float> dz(ny, NAN), dw = random_vector(s.in * s.out, 99, 1.0f),
                     db = random_vector(s.out, 98, 1.0f), dx(s.batch * s.in, NAN);
  const std::vector<float> dw0 = dw, db0 = db;
  const bool needs_z = lamina::activation_backward_needs_input(act);
  lamina::dense_backward(L.x.data(), L.w.data(), needs_z ? nullptr : y.data(),
                         needs_z ? z.data() : nullptr, L.dy.data(), dz.data(), dw.data(),
                         use_bias ? db.data() : nullptr, want_dx ? dx.data() : nullptr, s.batch,
                         s.in, s.out, act, accumulate);
  // dZ against dY·f'(z) in double at the kernel's own z, with test_activations' tolerance
  // (f' from y, as 1 - y², carries a few ulp of 1 in absolute terms). For linear the
  // scratch is not used.
  const double eps = std::numeric_limits<float>::epsilon();
  int bad = 0;
  std::vector<double> dz_ref(ny);
  for (int64_t i = 0; i < ny; ++i) {
    double want = L.dy[i] * lamina_test::ref_derivative(act, z[i]);
    if (act == Activation::linear) {
      dz_ref[i] = L.dy[i];
      continue;
    }
    bad += !(std::fabs(dz[i] - want) <= 2e-6 * (1 + double(z[i]) * z[i]) * std::fabs(want) +
                                            6e-7 * std::fabs(L.dy[i]));
    // The products are then checked from the kernel's dZ, in double.
    dz_ref[i] = dz[i];
  }
  for (int64_t p = 0; p < s.in; ++p) {
    for (int64_t j = 0; j < s.out; ++j) {
      double sum = accumulate ? dw0[p * s.out + j] : 0.0, mag = std::fabs(sum);
      for (int64_t i = 0; i < s.batch; ++i) {
        sum += double(L.x[i * s.in + p]) * dz_ref[i * s.out + j];
        mag += std::fabs(double(L.x[i * s.in + p]) * dz_ref[i * s.out + j]);
      }
      bad += !close_sum(dw[p * s.out + j], sum, mag, 8 * eps * (1 + std::sqrt(double(s.batch))));
    }
  }
  if (use_bias) {
    for (int64_t j = 0; j < s.out; ++j) {
      double sum = accumulate ? db0[j] : 0.0, mag = std::fabs(sum);
      for (int64_t i = 0; i < s.batch; ++i) sum += dz_ref[i * s.out + j], mag += std::fabs(dz_ref[i * s.out + j]);
      bad += !close_sum(db[j], sum, mag, 8 * eps * (1 + std::sqrt(double(s.batch))));
    }
  } else {
    CHECK(db == db0);  // untouched
  }
  if (want_dx) {
    for (int64_t i = 0; i < s.batch; ++i) {
      for (int64_t p = 0; p < s.in; ++p) {
        double sum = 0, mag = 0;
        for (int64_t j = 0; j < s.out; ++j) {
          sum += dz_ref[i * s.out + j] * L.w[p * s.out + j];
          mag += std::fabs(dz_ref[i * s.out + j] * L.w[p * s.out + j]);
        }
        bad += !close_sum(dx[i * s.in + p], sum, mag, 8 * eps * (1 + std::sqrt(double(s.out))));
      }
    }
  } else {
    for (float v : dx) bad += !std::isnan(v);  // not written
  }
  if (bad) {
    std::fprintf(stderr, "  backward %s bias=%d dx=%d accumulate=%d shape %ldx%ld->%ld: %d bad\n",
                 lamina::activation_name(act), use_bias, want_dx, accumulate, (long)s.batch,
                 (long)s.in, (long)s.out, bad);
  }
  CHECK(bad == 0);
}

std::vector<Activation> all_activations() {
  std::vector<Activation> acts;
  for (int i = 0; i < lamina::kNumActivations; ++i) acts.push_back(static_cast<Activation>(i));
  return acts;
}

TEST(forward_matches_double_reference) {
  unsigned seed = 1;
  for (const Shape& s : kShapes) {
    Layer L = make_layer(s, seed += 10);
    lamina_test::for_each_isa_and_threads([&](lamina::Isa, int) {
      for (Activation act : all_activations()) {
        check_forward(L, act, true);
      }
      check_forward(L, Activation::relu, false);
      check_forward(L, Activation::linear, false);
    });
  }
}

TEST(backward_matches_double_reference) {
  unsigned seed = 500;
  for (const Shape& s : kShapes) {
    Layer L = make_layer(s, seed += 10);
    lamina_test::for_each_isa_and_threads([&](lamina::Isa, int) {
      for (Activation act : all_activations()) {
        check_backward(L, act, true, true, false);
      }
      check_backward(L, Activation::relu, false, false, false);
      check_backward(L, Activation::tanh, true, false, true);
      check_backward(L, Activation::gelu, true, true, true);
    });
  }
}

// Linear needs no scratch: dZ is dY itself.
TEST(linear_backward_without_scratch) {
  Layer L = make_layer({5, 6, 7}, 77);
  std::vector<float> dw(42), db(7), dx(30), dw2(42), db2(7), dx2(30), scratch(35);
  lamina::dense_backward(L.x.data(), L.w.data(), nullptr, nullptr, L.dy.data(), nullptr, dw.data(),
                         db.data(), dx.data(), 5, 6, 7, Activation::linear);
  lamina::dense_backward(L.x.data(), L.w.data(), nullptr, nullptr, L.dy.data(), scratch.data(),
                         dw2.data(), db2.data(), dx2.data(), 5, 6, 7, Activation::linear);
  CHECK(dw == dw2 && db == db2 && dx == dx2);
}

// Same inputs, same thread count → same bits, for a size where the GEMMs and the bias sum
// are split over threads.
TEST(reruns_are_bit_identical) {
  Layer L = make_layer({1100, 300, 70}, 5);
  lamina_test::for_each_isa_and_threads([&](lamina::Isa, int) {
    std::vector<float> results[2];
    for (auto& r : results) {
      std::vector<float> y(1100 * 70), z(1100 * 70), dz(1100 * 70), dw(300 * 70), db(70), dx(1100 * 300);
      lamina::dense_forward(L.x.data(), L.w.data(), L.b.data(), y.data(), z.data(), 1100, 300, 70,
                            Activation::gelu);
      lamina::dense_backward(L.x.data(), L.w.data(), y.data(), z.data(), L.dy.data(), dz.data(),
                             dw.data(), db.data(), dx.data(), 1100, 300, 70, Activation::gelu);
      r = y;
      r.insert(r.end(), dw.begin(), dw.end());
      r.insert(r.end(), db.begin(), db.end());
      r.insert(r.end(), dx.begin(), dx.end());
    }
    CHECK(results[0] == results[1]);
  });
}

}  // namespace

int main() { return lamina_test::run_all(); }
