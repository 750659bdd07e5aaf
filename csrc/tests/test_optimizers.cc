// Optimizer updates: every ISA variant at 1 and 2 threads, several steps, over edge sizes,
// against two references written here, element by element:
//   - the TF.js formula in float32, one rounding per operation: must match bit for bit;
//   - the same formula in double: must agree within a float tolerance (checks the formula,
//     not just the agreement of two float transcriptions).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "kernels/optimizers.h"

namespace {

constexpr int kSteps = 4;
constexpr int kGuard = 5;  // elements either side of each buffer that must stay untouched
constexpr float kGuardValue = -12345.0f;

const std::vector<int64_t> kSizes = {1,  7,  8,  9,  13, 15, 16,   17,    31,    32,
                                     33, 63, 64, 65, 1000, 16383, 16385, 33000, 300001};

// Hyperparameters used by every case (not TF.js defaults everywhere, so each term matters).
constexpr double kLr = 0.01, kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-7;
constexpr double kMomentum = 0.8, kDecay = 0.9, kRho = 0.95, kAdamaxDecay = 0.25;

// One element's state: the weight and up to three slots.
template <class T>
struct State {
  T w;
  T s[3];
};

// A JS number as the reference type (a float32 scalar tensor when T = float).
template <class T>
T c(double x) {
  return static_cast<T>(x);
}

// The accumulated power β^t: a float32 variable multiplied by β each step in TF.js.
template <class T>
T power(double beta, int t) {
  T p = c<T>(beta);
  for (int i = 1; i < t; ++i) p = p * c<T>(beta);
  return p;
}

// ---- References: TF.js's formulas, one operation per step, in TF.js's order -----------

template <class T>
void ref_sgd(State<T>& e, T g, int) {
  e.w = c<T>(-kLr) * g + e.w;
}

template <class T>
void ref_momentum(State<T>& e, T g, int, bool nesterov) {
  T a = c<T>(kMomentum) * e.s[0] + g;
  e.s[0] = a;
  e.w = nesterov ? c<T>(-kLr) * (g + a * c<T>(kMomentum)) + e.w : c<T>(-kLr) * a + e.w;
}

template <class T>
void ref_adam(State<T>& e, T g, int t) {
  T m = e.s[0] * c<T>(kBeta1) + g * c<T>(1 - kBeta1);
  T v = e.s[1] * c<T>(kBeta2) + (g * g) * c<T>(1 - kBeta2);
  e.s[0] = m;
  e.s[1] = v;
  T m_hat = m / (T(1) - power<T>(kBeta1, t));
  T v_hat = v / (T(1) - power<T>(kBeta2, t));
  e.w = (m_hat / (std::sqrt(v_hat) + c<T>(kEps))) * c<T>(-kLr) + e.w;
}

template <class T>
void ref_adamax(State<T>& e, T g, int t) {
  T lr_t = c<T>(-kLr) / (static_cast<T>(t - 1) * c<T>(kAdamaxDecay) + T(1));
  T m = e.s[0] * c<T>(kBeta1) + g * c<T>(1 - kBeta1);
  T scaled = e.s[1] * c<T>(kBeta2), magnitude = std::fabs(g);
  T u = std::isnan(scaled) || std::isnan(magnitude) ? scaled + magnitude
                                                    : (scaled > magnitude ? scaled : magnitude);
  e.s[0] = m;
  e.s[1] = u;
  e.w = (lr_t / (T(1) - power<T>(kBeta1, t))) * (m / (u + c<T>(kEps))) + e.w;
}

template <class T>
void ref_rmsprop(State<T>& e, T g, int, bool centered) {
  T ms = e.s[0] * c<T>(kDecay) + (g * g) * c<T>(1 - kDecay);
  T denominator;
  if (centered) {
    T mg = e.s[2] * c<T>(kDecay) + g * c<T>(1 - kDecay);
    e.s[2] = mg;
    denominator = std::sqrt(ms - (mg * mg + c<T>(kEps)));
  } else {
    denominator = std::sqrt(ms + c<T>(kEps));
  }
  T mom = e.s[1] * c<T>(kMomentum) + (g * c<T>(kLr)) / denominator;
  e.s[0] = ms;
  e.s[1] = mom;
  e.w = e.w - mom;
}

template <class T>
void ref_adagrad(State<T>& e, T g, int) {
  T a = e.s[0] + g * g;
  e.s[0] = a;
  e.w = (g / std::sqrt(a + c<T>(kEps))) * c<T>(-kLr) + e.w;
}

template <class T>
void ref_adadelta(State<T>& e, T g, int) {
  T d = (std::sqrt(e.s[1] + c<T>(kEps)) / std::sqrt(e.s[0] + c<T>(kEps))) * g;
  e.s[0] = e.s[0] * c<T>(kRho) + (g * g) * c<T>(1 - kRho);
  e.s[1] = e.s[1] * c<T>(kRho) + (d * d) * c<T>(1 - kRho);
  e.w = d * c<T>(-kLr) + e.w;
}

// ---- Cases --------------------------------------------------------------------------

struct Buffers {
  float* w;
  const float* g;
  float* s[3];
};

struct OptimizerCase {
  std::string name;
  int slots;
  float slot_init;  // initial value of every slot (Adagrad's accumulator starts at 0.1)
  std::function<void(const Buffers&, int64_t n, int t)> run;  // the kernel under test
  std::function<void(State<float>&, float, int)> ref_float;
  std::function<void(State<double>&, double, int)> ref_double;
};

std::vector<OptimizerCase> all_cases() {
  std::vector<OptimizerCase> cases;
  cases.push_back({"sgd", 0, 0.0f,
                   [](const Buffers& b, int64_t n, int) { lamina::sgd_update(b.w, b.g, n, kLr); },
                   ref_sgd<float>, ref_sgd<double>});
  for (bool nesterov : {false, true}) {
    cases.push_back({nesterov ? "momentum_nesterov" : "momentum", 1, 0.0f,
                     [nesterov](const Buffers& b, int64_t n, int) {
                       lamina::momentum_update(b.w, b.g, b.s[0], n, kLr, kMomentum, nesterov);
                     },
                     [nesterov](State<float>& e, float g, int t) { ref_momentum(e, g, t, nesterov); },
                     [nesterov](State<double>& e, double g, int t) { ref_momentum(e, g, t, nesterov); }});
  }
  cases.push_back({"adam", 2, 0.0f,
                   [](const Buffers& b, int64_t n, int t) {
                     lamina::adam_update(b.w, b.g, b.s[0], b.s[1], n, kLr, kBeta1, kBeta2, kEps,
                                         power<float>(kBeta1, t), power<float>(kBeta2, t));
                   },
                   ref_adam<float>, ref_adam<double>});
  cases.push_back({"adamax", 2, 0.0f,
                   [](const Buffers& b, int64_t n, int t) {
                     lamina::adamax_update(b.w, b.g, b.s[0], b.s[1], n, kLr, kBeta1, kBeta2, kEps, t,
                                           power<float>(kBeta1, t), kAdamaxDecay);
                   },
                   ref_adamax<float>, ref_adamax<double>});
  for (bool centered : {false, true}) {
    cases.push_back({centered ? "rmsprop_centered" : "rmsprop", centered ? 3 : 2, 0.0f,
                     [centered](const Buffers& b, int64_t n, int) {
                       lamina::rmsprop_update(b.w, b.g, b.s[0], b.s[1], centered ? b.s[2] : nullptr,
                                              n, kLr, kDecay, kMomentum, kEps, centered);
                     },
                     [centered](State<float>& e, float g, int t) { ref_rmsprop(e, g, t, centered); },
                     [centered](State<double>& e, double g, int t) { ref_rmsprop(e, g, t, centered); }});
  }
  cases.push_back({"adagrad", 1, 0.1f,
                   [](const Buffers& b, int64_t n, int) {
                     lamina::adagrad_update(b.w, b.g, b.s[0], n, kLr, kEps);
                   },
                   ref_adagrad<float>, ref_adagrad<double>});
  cases.push_back({"adadelta", 2, 0.0f,
                   [](const Buffers& b, int64_t n, int) {
                     lamina::adadelta_update(b.w, b.g, b.s[0], b.s[1], n, kLr, kRho, kEps);
                   },
                   ref_adadelta<float>, ref_adadelta<double>});
  return cases;
}

// Gradients for each step: magnitudes in [0.05, 1] with random signs, so that no
// denominator is near zero and the double reference is a fair judge.
std::vector<std::vector<float>> random_gradients(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> magnitude(0.05f, 1.0f);
  std::vector<std::vector<float>> steps(kSteps, std::vector<float>(n));
  for (auto& g : steps)
    for (float& x : g) x = (rng() & 1) ? magnitude(rng) : -magnitude(rng);
  return steps;
}

std::vector<float> random_weights(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> w(n);
  for (float& x : w) x = dist(rng);
  return w;
}

// Nine significant digits tell any two floats apart.
std::string text(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", x);
  return buffer;
}

bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof(float)) == 0;
}

// Buffers with guard elements either side; the kernel sees an odd offset (unaligned).
struct Arena {
  std::vector<float> storage[4];  // w, then slots
  explicit Arena(const std::vector<float>& w, int slots, float slot_init) {
    const int64_t n = static_cast<int64_t>(w.size());
    for (int k = 0; k <= slots; ++k) {
      storage[k].assign(n + 2 * kGuard, kGuardValue);
      for (int64_t i = 0; i < n; ++i) storage[k][kGuard + i] = k == 0 ? w[i] : slot_init;
    }
  }
  float* at(int k) { return storage[k].empty() ? nullptr : storage[k].data() + kGuard; }
  bool guards_intact(int slots) const {
    for (int k = 0; k <= slots; ++k) {
      const std::vector<float>& s = storage[k];
      for (int i = 0; i < kGuard; ++i)
        if (s[i] != kGuardValue || s[s.size() - 1 - i] != kGuardValue) return false;
    }
    return true;
  }
};

// Runs kSteps steps of the kernel; returns the arena.
Arena run_kernel(const OptimizerCase& oc, const std::vector<float>& w0,
                 const std::vector<std::vector<float>>& grads) {
  Arena arena(w0, oc.slots, oc.slot_init);
  const int64_t n = static_cast<int64_t>(w0.size());
  for (int t = 1; t <= kSteps; ++t) {
    Buffers b{arena.at(0), grads[t - 1].data(), {arena.at(1), arena.at(2), arena.at(3)}};
    oc.run(b, n, t);
  }
  return arena;
}

void check_case(const OptimizerCase& oc, int64_t n) {
  const unsigned seed = static_cast<unsigned>(n * 31 + oc.slots);
  const std::vector<float> w0 = random_weights(n, seed);
  const auto grads = random_gradients(n, seed + 1);

  // References, element by element.
  std::vector<State<float>> want_f(n);
  std::vector<State<double>> want_d(n);
  for (int64_t i = 0; i < n; ++i) {
    want_f[i] = {w0[i], {oc.slot_init, oc.slot_init, oc.slot_init}};
    want_d[i] = {w0[i], {oc.slot_init, oc.slot_init, oc.slot_init}};
    for (int t = 1; t <= kSteps; ++t) {
      oc.ref_float(want_f[i], grads[t - 1][i], t);
      oc.ref_double(want_d[i], grads[t - 1][i], t);
    }
  }

  lamina_test::for_each_isa_and_threads([&](lamina::Isa, int) {
    Arena got = run_kernel(oc, w0, grads);
    CHECK(got.guards_intact(oc.slots));
    // Buffer k: 0 is w, then the slots in argument order.
    int bad_bits = 0, bad_values = 0;
    for (int64_t i = 0; i < n; ++i) {
      for (int k = 0; k <= oc.slots; ++k) {
        float value = got.at(k)[i];
        float bits_want = k == 0 ? want_f[i].w : want_f[i].s[k - 1];
        double value_want = k == 0 ? want_d[i].w : want_d[i].s[k - 1];
        if (!same_float(value, bits_want) && ++bad_bits <= 3) {
          lamina_test::fail(__FILE__, __LINE__,
                            oc.name + " n=" + std::to_string(n) + " i=" + std::to_string(i) +
                                " buffer " + std::to_string(k) + ": got " + text(value) +
                                " want (float ref) " + text(bits_want));
        }
        if (!lamina_test::close(value, value_want, 2e-5) && ++bad_values <= 3) {
          lamina_test::fail(__FILE__, __LINE__,
                            oc.name + " n=" + std::to_string(n) + " i=" + std::to_string(i) +
                                " buffer " + std::to_string(k) + ": got " + text(value) +
                                " want (double ref) " + text(value_want));
        }
      }
    }
    // Same bits when run again with the same thread count.
    Arena again = run_kernel(oc, w0, grads);
    for (int k = 0; k <= oc.slots; ++k) {
      CHECK(std::memcmp(got.at(k), again.at(k), n * sizeof(float)) == 0);
    }
  });
}

}  // namespace

TEST(every_rule_matches_tfjs_float32_and_double_references) {
  for (const OptimizerCase& oc : all_cases())
    for (int64_t n : kSizes) check_case(oc, n);
}

// The value TF.js's own test expects: w = 1, f = w², g = 2w = 2, lr 0.1, one Adam step.
TEST(adam_matches_tfjs_check_value) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    float w = 1.0f, g = 2.0f, m = 0.0f, v = 0.0f;
    lamina::adam_update(&w, &g, &m, &v, 1, 0.1, 0.9, 0.999, 1e-7, 0.9f, 0.999f);
    CHECK(std::fabs(w - 0.9000007f) <= 1e-7f);
    float w2 = 1.0f, m2 = 0.0f, v2 = 0.0f;
    lamina::adam_update(&w2, &g, &m2, &v2, 1, 0.1, 0.9, 0.999, 1e-7, 0.9f, 0.999f);
    CHECK(w2 == w);
  });
}

// NaN, infinities, zeros of both signs and subnormals: every variant gives the scalar's
// bits (NaN compared as NaN), including Adamax's NaN-propagating max.
TEST(special_values_give_the_same_bits_in_every_variant) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<float> specials = {0.0f, -0.0f, inf,    -inf, nan,
                                      tiny, -tiny, 1e-30f, 3.0f, -2.0f};
  const int64_t n = 37;  // crosses packs and leaves a tail in every variant
  std::vector<float> w0(n);
  std::vector<std::vector<float>> grads(kSteps, std::vector<float>(n));
  for (int64_t i = 0; i < n; ++i) {
    w0[i] = specials[(i * 3) % specials.size()];
    for (int t = 0; t < kSteps; ++t) grads[t][i] = specials[(i + 7 * t) % specials.size()];
  }
  for (const OptimizerCase& oc : all_cases()) {
    lamina::set_active_isa(lamina::Isa::scalar);
    Arena want = run_kernel(oc, w0, grads);
    lamina_test::for_each_isa_and_threads([&](lamina::Isa, int) {
      Arena got = run_kernel(oc, w0, grads);
      for (int k = 0; k <= oc.slots; ++k)
        for (int64_t i = 0; i < n; ++i) CHECK(same_float(got.at(k)[i], want.at(k)[i]));
    });
  }
}

// Adamax's u = max(β2·u, |g|) keeps a NaN as Math.max does.
TEST(adamax_max_propagates_nan) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> w(20, 1.0f), g(20, 1.0f), m(20, 0.0f), u(20, 0.0f);
    g[3] = nan;
    u[17] = nan;
    lamina::adamax_update(w.data(), g.data(), m.data(), u.data(), 20, 0.1, 0.9, 0.999, 1e-7, 1,
                          0.9f, 0.0);
    CHECK(std::isnan(u[3]) && std::isnan(u[17]) && !std::isnan(u[4]));
  });
}

TEST(l1l2_gradient_adds_tfjs_gradient_and_returns_the_penalty) {
  // Sizes around the lane counts, the run length and the task chunk (16384).
  for (int64_t n : {1, 7, 16, 17, 1023, 1025, 16384 + 33, 50000}) {
    std::mt19937 gen(static_cast<unsigned>(n));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> w(n), g0(n);
    for (int64_t i = 0; i < n; ++i) {
      w[i] = normal(gen);
      g0[i] = normal(gen);
    }
    w[0] = 0.0f;  // TF.js's abs gradient at 0 is -1
    const float l1 = 0.01f, l2 = 0.03f;
    double want = 0.0;
    for (int64_t i = 0; i < n; ++i) want += l1 * std::fabs(static_cast<double>(w[i])) + l2 * static_cast<double>(w[i]) * w[i];
    std::vector<std::vector<float>> grads;
    std::vector<double> values;
    lamina_test::for_each_isa_and_threads([&](lamina::Isa, int) {
      std::vector<float> g = g0;
      const double got = lamina::l1l2_gradient(w.data(), g.data(), n, l1, l2);
      CHECK_CLOSE(got, want, 1e-6 * want + 1e-12);
      for (int64_t i = 0; i < n; ++i) {
        const float expected = g0[i] + ((w[i] > 0.0f ? l1 : -l1) + (2.0f * l2) * w[i]);
        CHECK(g[i] == expected);
      }
      grads.push_back(g);
      values.push_back(got);
    });
    // The same value at 1 and 2 threads for one ISA (runs are fixed, tasks summed in order).
    for (size_t k = 0; k + 1 < values.size(); k += 2) CHECK(values[k] == values[k + 1]);
  }
  std::vector<float> w = {std::numeric_limits<float>::quiet_NaN(), 1.0f}, g = {0.0f, 0.0f};
  CHECK(std::isnan(lamina::l1l2_gradient(w.data(), g.data(), 2, 0.1, 0.1)) && std::isnan(g[0]) && g[1] != 0.0f);
  CHECK(lamina::l1l2_gradient(w.data(), g.data(), 0, 0.1, 0.1) == 0.0);
}

TEST(empty_buffers_are_a_no_op) {
  lamina::sgd_update(nullptr, nullptr, 0, 0.1);
  lamina::adam_update(nullptr, nullptr, nullptr, nullptr, 0, 0.1, 0.9, 0.999, 1e-7, 0.9f, 0.999f);
  CHECK(true);
}

int main() { return lamina_test::run_all(); }
