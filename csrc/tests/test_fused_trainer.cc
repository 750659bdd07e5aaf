// FusedTrainer against a naive double-precision reference written from the formulas in
// fused_trainer.h, activations.h, softmax.h and optimizers.h: a two-layer MLP, a few steps,
// every ISA variant at 1 and 2 threads, each loss, each optimizer, with and without bias and
// row weights. Also: train_epoch equals train_batch on the gathered rows bit for bit, and
// results are identical run to run.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "check.h"
#include "activation_reference.h"
#include "kernels/fused_trainer.h"

using namespace lamina;
using lamina_test::ref_derivative;
using lamina_test::ref_forward;

namespace {

struct Case {
  int64_t in = 5, hidden = 7, out = 3, rows = 9;
  Activation hidden_act = Activation::tanh;
  LossKind loss = LossKind::categorical_crossentropy;
  bool softmax = true;   // softmax stage after the output dense (else output_act)
  Activation output_act = Activation::linear;
  OptimizerKind optimizer = OptimizerKind::sgd;
  bool bias = true, weighted = false;
  int steps = 3;
};

// The model's parameters and optimizer slots as float buffers (what the trainer updates).
struct Model {
  std::vector<float> w1, b1, w2, b2;
  std::vector<std::vector<float>> slots;  // [variable * 3 + k]
};

std::vector<float> random_vector(std::mt19937& gen, size_t n, float scale) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(gen);
  return v;
}

OptimizerConfig config_for(OptimizerKind kind) {
  OptimizerConfig c;
  c.kind = kind;
  c.momentum = 0.5;
  c.decay = kind == OptimizerKind::rmsprop ? 0.9 : 0.01;
  c.rho = 0.9;
  c.epsilon = 1e-7;
  c.centered = kind == OptimizerKind::rmsprop;
  c.nesterov = kind == OptimizerKind::momentum;
  return c;
}

double learning_rate(OptimizerKind kind) { return kind == OptimizerKind::adadelta ? 1.0 : 0.05; }

float initial_slot(OptimizerKind kind) { return kind == OptimizerKind::adagrad ? 0.1f : 0.0f; }

// ---- the double reference ------------------------------------------------------------

struct RefOptimizer {
  OptimizerConfig c;
  double lr;
  int64_t t = 0;  // steps done
  // slot state per variable, per element: up to 3 values
  void step(std::vector<double>& w, const std::vector<double>& g, std::vector<double>* s) {
    const double e = c.epsilon;
    for (size_t i = 0; i < w.size(); ++i) {
      double& a = s[0][i];
      double& b = s[1][i];
      double& m3 = s[2][i];
      const double gi = g[i];
      switch (c.kind) {
        case OptimizerKind::sgd: w[i] -= lr * gi; break;
        case OptimizerKind::momentum:
          a = c.momentum * a + gi;
          w[i] -= lr * (c.nesterov ? gi + a * c.momentum : a);
          break;
        case OptimizerKind::adam: {
          a = a * c.beta1 + gi * (1 - c.beta1);
          b = b * c.beta2 + gi * gi * (1 - c.beta2);
          const double mh = a / (1 - std::pow(c.beta1, t + 1));
          const double vh = b / (1 - std::pow(c.beta2, t + 1));
          w[i] -= lr * mh / (std::sqrt(vh) + e);
          break;
        }
        case OptimizerKind::adamax: {
          const double lr_t = lr / (t * c.decay + 1);
          a = a * c.beta1 + gi * (1 - c.beta1);
          b = std::fmax(b * c.beta2, std::fabs(gi));
          w[i] -= lr_t / (1 - std::pow(c.beta1, t + 1)) * (a / (b + e));
          break;
        }
        case OptimizerKind::rmsprop:
          a = a * c.decay + gi * gi * (1 - c.decay);
          m3 = m3 * c.decay + gi * (1 - c.decay);
          b = b * c.momentum + gi * lr / std::sqrt(a - (m3 * m3 + e));
          w[i] -= b;
          break;
        case OptimizerKind::adagrad:
          a += gi * gi;
          w[i] -= lr * gi / std::sqrt(a + e);
          break;
        case OptimizerKind::adadelta: {
          const double d = std::sqrt(b + e) / std::sqrt(a + e) * gi;
          a = a * c.rho + gi * gi * (1 - c.rho);
          b = b * c.rho + d * d * (1 - c.rho);
          w[i] -= lr * d;
          break;
        }
      }
    }
  }
};

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// One reference step on rows x [rows, in], labels y; returns the weighted mean loss.
double reference_step(const Case& k, std::vector<std::vector<double>>& params,
                      std::vector<std::vector<double>>& slots, RefOptimizer& opt,
                      const std::vector<float>& x, const std::vector<float>& y,
                      const std::vector<float>& wts) {
  const int64_t n = k.rows, I = k.in, H = k.hidden, O = k.out;
  std::vector<double>&w1 = params[0], &b1 = params[1], &w2 = params[2], &b2 = params[3];
  std::vector<double> z1(n * H), h(n * H), z2(n * O), p(n * O), dp(n * O);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t j = 0; j < H; ++j) {
      double s = k.bias ? b1[j] : 0.0;
      for (int64_t i = 0; i < I; ++i) s += x[r * I + i] * w1[i * H + j];
      z1[r * H + j] = s;
      h[r * H + j] = ref_forward(k.hidden_act, s);
    }
    for (int64_t j = 0; j < O; ++j) {
      double s = k.bias ? b2[j] : 0.0;
      for (int64_t i = 0; i < H; ++i) s += h[r * H + i] * w2[i * O + j];
      z2[r * O + j] = s;
    }
    double mx = -INFINITY, sum = 0.0;
    for (int64_t j = 0; j < O; ++j) mx = std::fmax(mx, z2[r * O + j]);
    for (int64_t j = 0; j < O; ++j) sum += std::exp(z2[r * O + j] - mx);
    for (int64_t j = 0; j < O; ++j) {
      p[r * O + j] = k.softmax ? std::exp(z2[r * O + j] - mx) / sum : ref_forward(k.output_act, z2[r * O + j]);
    }
  }
  // Loss and dL/dp (no clipping is active at these sizes: probabilities stay well inside).
  double total = 0.0;
  for (int64_t r = 0; r < n; ++r) {
    const double wr = k.weighted ? wts[r] : 1.0;
    double loss = 0.0;
    for (int64_t j = 0; j < O; ++j) {
      const double q = p[r * O + j];
      double& d = dp[r * O + j];
      switch (k.loss) {
        case LossKind::categorical_crossentropy: {
          const double t = y[r * O + j];
          loss -= t * std::log(q);
          // through the normalisation q / Σq (Σq = 1): g_j - Σ_k g_k q_k with g = -t/q
          double sum_gq = 0.0;
          for (int64_t m = 0; m < O; ++m) sum_gq += -y[r * O + m];
          d = (-t / q - sum_gq) * wr / n;
          break;
        }
        case LossKind::sparse_categorical_crossentropy: {
          const double t = j == static_cast<int64_t>(y[r]) ? 1.0 : 0.0;
          loss -= t * std::log(q);
          d = (-t / q + 1.0) * wr / n;
          break;
        }
        case LossKind::binary_crossentropy: {
          const double t = y[r * O + j];
          loss += (-t * std::log(q) - (1 - t) * std::log(1 - q)) / O;
          d = (q - t) / (q * (1 - q)) / O * wr / n;
          break;
        }
        case LossKind::mean_squared_error: {
          const double diff = q - y[r * O + j];
          loss += diff * diff / O;
          d = 2 * diff / O * wr / n;
          break;
        }
        case LossKind::mean_absolute_error: {
          const double diff = q - y[r * O + j];
          loss += std::fabs(diff) / O;
          d = (diff > 0 ? 1.0 : -1.0) / O * wr / n;
          break;
        }
      }
    }
    total += wr * loss;
  }
  // Backward.
  std::vector<double> dz2(n * O), dh(n * H, 0.0), g_w1(I * H, 0.0), g_b1(H, 0.0), g_w2(H * O, 0.0),
      g_b2(O, 0.0);
  for (int64_t r = 0; r < n; ++r) {
    double dot = 0.0;
    for (int64_t j = 0; j < O; ++j) dot += dp[r * O + j] * p[r * O + j];
    for (int64_t j = 0; j < O; ++j) {
      const int64_t at = r * O + j;
      dz2[at] = k.softmax ? p[at] * (dp[at] - dot) : dp[at] * ref_derivative(k.output_act, z2[at]);
      g_b2[j] += dz2[at];
      for (int64_t i = 0; i < H; ++i) {
        g_w2[i * O + j] += h[r * H + i] * dz2[at];
        dh[r * H + i] += dz2[at] * w2[i * O + j];
      }
    }
    for (int64_t j = 0; j < H; ++j) {
      const double dz1 = dh[r * H + j] * ref_derivative(k.hidden_act, z1[r * H + j]);
      g_b1[j] += dz1;
      for (int64_t i = 0; i < I; ++i) g_w1[i * H + j] += x[r * I + i] * dz1;
    }
  }
  const std::vector<double>* grads[4] = {&g_w1, &g_b1, &g_w2, &g_b2};
  for (int v = 0; v < 4; ++v) {
    if (!k.bias && (v == 1 || v == 3)) continue;
    opt.step(params[v], *grads[v], &slots[v * 3]);
  }
  opt.t += 1;
  return total / n;
}

// ---- the trainer under test --------------------------------------------------------------

struct Setup {
  Model model;
  std::vector<float> x, y, weights;
  FusedPlan plan;
};

Setup make_setup(const Case& k, unsigned seed) {
  std::mt19937 gen(seed);
  Setup s;
  Model& m = s.model;
  // Wide inputs get smaller weights, so the activations stay where float32 and the double
  // reference agree (saturated softmax rows would hit the clip at ε on one side only).
  m.w1 = random_vector(gen, k.in * k.hidden, k.in > 64 ? 0.6f * std::sqrt(5.0f / k.in) : 0.6f);
  m.b1 = random_vector(gen, k.hidden, 0.2f);
  m.w2 = random_vector(gen, k.hidden * k.out, 0.6f);
  m.b2 = random_vector(gen, k.out, 0.2f);
  const std::vector<float>* vars[4] = {&m.w1, &m.b1, &m.w2, &m.b2};
  for (int v = 0; v < 4; ++v) {
    for (int j = 0; j < 3; ++j) m.slots.emplace_back(vars[v]->size(), initial_slot(k.optimizer));
  }
  s.x = random_vector(gen, k.rows * k.in, 1.0f);
  std::uniform_int_distribution<int> cls(0, static_cast<int>(k.out) - 1);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  if (k.loss == LossKind::sparse_categorical_crossentropy) {
    for (int64_t r = 0; r < k.rows; ++r) s.y.push_back(static_cast<float>(cls(gen)));
  } else if (k.loss == LossKind::categorical_crossentropy) {
    s.y.assign(k.rows * k.out, 0.0f);
    for (int64_t r = 0; r < k.rows; ++r) s.y[r * k.out + cls(gen)] = 1.0f;
  } else if (k.loss == LossKind::binary_crossentropy) {
    for (int64_t i = 0; i < k.rows * k.out; ++i) s.y.push_back(u(gen) > 0.5f ? 1.0f : 0.0f);
  } else {
    s.y = random_vector(gen, k.rows * k.out, 1.0f);
  }
  for (int64_t r = 0; r < k.rows; ++r) s.weights.push_back(0.5f + u(gen));

  Stage hidden, output, soft;
  hidden.kind = StageKind::dense;
  hidden.act = k.hidden_act;
  hidden.in = k.in;
  hidden.out = k.hidden;
  hidden.kernel = m.w1.data();
  hidden.bias = k.bias ? m.b1.data() : nullptr;
  output.kind = StageKind::dense;
  output.act = k.softmax ? Activation::linear : k.output_act;
  output.in = k.hidden;
  output.out = k.out;
  output.kernel = m.w2.data();
  output.bias = k.bias ? m.b2.data() : nullptr;
  for (int j = 0; j < 3; ++j) {
    hidden.kernel_slots[j] = m.slots[0 * 3 + j].data();
    hidden.bias_slots[j] = m.slots[1 * 3 + j].data();
    output.kernel_slots[j] = m.slots[2 * 3 + j].data();
    output.bias_slots[j] = m.slots[3 * 3 + j].data();
  }
  s.plan.stages = {hidden, output};
  if (k.softmax) {
    soft.kind = StageKind::softmax;
    soft.in = soft.out = k.out;
    s.plan.stages.push_back(soft);
  }
  s.plan.loss = k.loss;
  s.plan.optimizer = config_for(k.optimizer);
  s.plan.max_batch = k.rows;
  s.plan.metrics = {k.loss == LossKind::sparse_categorical_crossentropy
                        ? MetricKind::sparse_categorical_accuracy
                        : MetricKind::mean_squared_error};
  return s;
}

OptimizerState initial_state(const Case& k) {
  OptimizerState st;
  const OptimizerConfig c = config_for(k.optimizer);
  if (k.optimizer == OptimizerKind::adam || k.optimizer == OptimizerKind::adamax) {
    st.beta1_power = static_cast<float>(c.beta1);
    st.beta2_power = static_cast<float>(c.beta2);
  }
  return st;
}

void check_against_reference(const Case& k) {
  lamina_test::for_each_isa_and_threads([&](Isa, int) {
    Setup s = make_setup(k, 42);
    std::vector<std::vector<double>> params = {to_double(s.model.w1), to_double(s.model.b1),
                                               to_double(s.model.w2), to_double(s.model.b2)};
    std::vector<std::vector<double>> slots;
    for (const auto& sl : s.model.slots) slots.push_back(to_double(sl));
    RefOptimizer ref{config_for(k.optimizer), learning_rate(k.optimizer)};
    FusedTrainer trainer(s.plan);
    OptimizerState st = initial_state(k);
    for (int step = 0; step < k.steps; ++step) {
      double out[2];
      trainer.train_batch(s.x.data(), s.y.data(), k.weighted ? s.weights.data() : nullptr, k.rows,
                          nullptr, learning_rate(k.optimizer), &st, out);
      const double want_loss = reference_step(k, params, slots, ref, s.x, s.y, s.weights);
      CHECK_CLOSE(out[0], want_loss, 1e-4);
    }
    CHECK(st.iterations == k.steps);
    const std::vector<float>* got[4] = {&s.model.w1, &s.model.b1, &s.model.w2, &s.model.b2};
    for (int v = 0; v < 4; ++v) {
      for (size_t i = 0; i < got[v]->size(); ++i) CHECK_CLOSE((*got[v])[i], params[v][i], 2e-4);
    }
  });
}

}  // namespace

TEST(each_loss_matches_the_reference) {
  Case k;
  for (LossKind loss : {LossKind::categorical_crossentropy, LossKind::sparse_categorical_crossentropy,
                        LossKind::binary_crossentropy, LossKind::mean_squared_error,
                        LossKind::mean_absolute_error}) {
    k.loss = loss;
    k.softmax = loss == LossKind::categorical_crossentropy ||
                loss == LossKind::sparse_categorical_crossentropy;
    k.output_act = loss == LossKind::binary_crossentropy ? Activation::sigmoid : Activation::linear;
    for (bool weighted : {false, true}) {
      k.weighted = weighted;
      check_against_reference(k);
    }
  }
}

TEST(each_optimizer_matches_the_reference) {
  Case k;
  for (OptimizerKind opt : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::adam,
                            OptimizerKind::adamax, OptimizerKind::rmsprop, OptimizerKind::adagrad,
                            OptimizerKind::adadelta}) {
    k.optimizer = opt;
    check_against_reference(k);
  }
}

TEST(each_hidden_activation_and_shape_matches_the_reference) {
  for (int a = 0; a < kNumActivations; ++a) {
    Case k;
    k.hidden_act = static_cast<Activation>(a);
    k.loss = LossKind::mean_squared_error;
    k.softmax = false;
    k.bias = a % 2 == 0;
    check_against_reference(k);
  }
  // Edge sizes: one row, one unit, widths around the vector lengths.
  for (int64_t width : {1, 7, 8, 9, 15, 16, 17, 33}) {
    Case k;
    k.hidden = width;
    k.in = width == 1 ? 1 : 17;
    k.rows = width == 1 ? 1 : 13;
    k.out = width == 1 ? 2 : 5;
    check_against_reference(k);
  }
}

// Trains a with one train_epoch over kOrder in batches of 4 (seeds: one per batch, or null)
// and b with one train_batch per batch on the rows gathered here, from the same start. Every
// batch's [loss, metric] must be the same bits on both, and so must the weights and slots at
// the end. Returns the epoch's per-batch results.
const std::vector<int64_t> kOrder = {3, 1, 4, 0, 9, 2, 6, 5, 8, 7};

std::vector<double> epoch_equals_batches(const Case& k, Setup& a, Setup& b, const Pcg64Seed* seeds) {
  a.plan.max_batch = b.plan.max_batch = 4;
  FusedTrainer ta(a.plan), tb(b.plan);
  OptimizerState sa = initial_state(k), sb = initial_state(k);
  std::vector<double> per_batch(3 * 2);
  ta.train_epoch(a.x.data(), a.y.data(), k.weighted ? a.weights.data() : nullptr, kOrder.data(), 10,
                 4, seeds, 0.05, &sa, per_batch.data());
  for (int64_t start = 0, bi = 0; start < 10; start += 4, ++bi) {
    const int64_t rows = std::min<int64_t>(4, 10 - start);
    std::vector<float> x, y, w;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t src = kOrder[start + r];
      x.insert(x.end(), b.x.begin() + src * k.in, b.x.begin() + (src + 1) * k.in);
      y.insert(y.end(), b.y.begin() + src * k.out, b.y.begin() + (src + 1) * k.out);
      w.push_back(b.weights[src]);
    }
    double out[2];
    tb.train_batch(x.data(), y.data(), k.weighted ? w.data() : nullptr, rows,
                   seeds ? seeds + bi : nullptr, 0.05, &sb, out);
    CHECK(out[0] == per_batch[bi * 2] && out[1] == per_batch[bi * 2 + 1]);
  }
  CHECK(sa.iterations == 3 && sb.iterations == 3 && sa.beta1_power == sb.beta1_power &&
        sa.beta2_power == sb.beta2_power);
  CHECK(a.model.w1 == b.model.w1 && a.model.w2 == b.model.w2 && a.model.b1 == b.model.b1 &&
        a.model.b2 == b.model.b2);
  CHECK(a.model.slots == b.model.slots);
  return per_batch;
}

// A dropout stage after the hidden layer and L1L2 penalties on the first layer.
void add_dropout_and_penalties(Setup& s) {
  Stage drop;
  drop.kind = StageKind::dropout;
  drop.in = drop.out = s.plan.stages[0].out;
  drop.keep = 0.5f;
  s.plan.stages.insert(s.plan.stages.begin() + 1, drop);
  s.plan.stages[0].kernel_l1 = 0.01f;
  s.plan.stages[0].kernel_l2 = 0.02f;
  s.plan.stages[0].bias_l2 = 0.05f;
}

std::vector<Pcg64Seed> seeds_for(int steps) {
  std::vector<Pcg64Seed> seeds;
  for (int i = 0; i < steps; ++i) seeds.push_back({uint64_t(i), 0x9e3779b97f4a7c15ULL * (i + 1), 1, 2u * i + 1});
  return seeds;
}

TEST(input_split_of_a_wide_first_layer_matches_the_reference) {
  // From kInputSplitMinWidth inputs on, a small step splits the first layer's inputs over the
  // threads (the 2-thread runs here); each optimizer, activations with and without z, bias
  // or none, weighted rows, widths that do not divide evenly.
  int variant = 0;
  for (OptimizerKind opt : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::adam,
                            OptimizerKind::rmsprop, OptimizerKind::adadelta}) {
    for (int64_t in : {kInputSplitMinWidth, int64_t{300}, int64_t{784}}) {
      Case k;
      k.in = in;
      k.optimizer = opt;
      k.hidden_act = variant % 3 == 0 ? Activation::relu
                                      : (variant % 3 == 1 ? Activation::linear : Activation::elu);
      k.bias = variant % 2 == 0;
      k.weighted = variant % 4 == 1;
      ++variant;
      check_against_reference(k);
    }
  }
}

TEST(input_split_train_epoch_equals_train_batch_and_is_identical_run_to_run) {
  Case k;
  k.rows = 10;
  k.in = 333;
  k.hidden = 20;
  k.optimizer = OptimizerKind::adam;
  k.weighted = true;
  lamina_test::for_each_isa_and_threads([&](Isa, int) {
    std::vector<float> first_w1;
    for (int run = 0; run < 2; ++run) {
      Setup a = make_setup(k, 3), b = make_setup(k, 3);
      add_dropout_and_penalties(a);
      add_dropout_and_penalties(b);
      const std::vector<Pcg64Seed> seeds = seeds_for(3);
      epoch_equals_batches(k, a, b, seeds.data());
      if (run == 0) first_w1 = a.model.w1;
      else CHECK(a.model.w1 == first_w1);
    }
  });
}

TEST(train_epoch_equals_train_batch_on_the_gathered_rows) {
  Case k;
  k.rows = 10;
  k.optimizer = OptimizerKind::adam;
  k.weighted = true;
  lamina_test::for_each_isa_and_threads([&](Isa, int) {
    Setup a = make_setup(k, 7), b = make_setup(k, 7);
    epoch_equals_batches(k, a, b, nullptr);
  });
}

TEST(dropout_and_penalties_train_epoch_equals_train_batch) {
  Case k;
  k.rows = 10;
  k.hidden = 16;
  k.optimizer = OptimizerKind::adam;
  lamina_test::for_each_isa_and_threads([&](Isa, int) {
    Setup a = make_setup(k, 9), b = make_setup(k, 9), c = make_setup(k, 9);
    add_dropout_and_penalties(a);
    add_dropout_and_penalties(b);
    const std::vector<Pcg64Seed> seeds = seeds_for(3);
    const std::vector<double> dropped = epoch_equals_batches(k, a, b, seeds.data());
    c.plan.max_batch = 4;
    FusedTrainer tc(c.plan);
    CHECK(FusedTrainer(a.plan).dropout_count() == 1 && tc.dropout_count() == 0);
    OptimizerState sc = initial_state(k);
    std::vector<double> plain(3 * 2);
    tc.train_epoch(c.x.data(), c.y.data(), nullptr, kOrder.data(), 10, 4, nullptr, 0.05, &sc,
                   plain.data());
    for (int bi = 0; bi < 3; ++bi) {
      CHECK(std::isfinite(dropped[bi * 2]) && dropped[bi * 2] != plain[bi * 2]);  // they act
    }
    CHECK(a.model.w1 != c.model.w1);
  });
}

TEST(dropout_with_rows_split_runs_every_lane_on_its_rows) {
  Case k;
  k.rows = 11;
  k.hidden = 9;
  lamina_test::for_each_isa_and_threads([&](Isa, int threads) {
    Setup s = make_setup(k, 4);
    add_dropout_and_penalties(s);
    s.plan.parallelism = Parallelism::rows;
    FusedTrainer t(s.plan);
    const std::vector<Pcg64Seed> seeds = seeds_for(2);
    OptimizerState st = initial_state(k);
    double out[2];
    for (const Pcg64Seed& seed : seeds) {
      t.train_batch(s.x.data(), s.y.data(), nullptr, k.rows, &seed, 0.05, &st, out);
      CHECK(std::isfinite(out[0]));
    }
    (void)threads;
  });
}

TEST(identical_run_to_run_and_predict_matches_forward) {
  Case k;
  k.rows = 65;
  k.in = 33;
  k.hidden = 64;
  k.optimizer = OptimizerKind::adam;  // (centered RMSProp turns tiny gradients into NaN, as TF.js)
  lamina_test::for_each_isa_and_threads([&](Isa, int) {
    Setup a = make_setup(k, 11), b = make_setup(k, 11);
    FusedTrainer ta(a.plan), tb(b.plan);
    OptimizerState sa = initial_state(k), sb = initial_state(k);
    double oa[2], ob[2];
    for (int step = 0; step < 3; ++step) {
      ta.train_batch(a.x.data(), a.y.data(), nullptr, k.rows, nullptr, 0.01, &sa, oa);
      tb.train_batch(b.x.data(), b.y.data(), nullptr, k.rows, nullptr, 0.01, &sb, ob);
      CHECK(oa[0] == ob[0] && oa[1] == ob[1]);
    }
    CHECK(a.model.w1 == b.model.w1 && a.model.w2 == b.model.w2);
    // predict in chunks of max_batch = 16 rows equals the forward pass row by row.
    FusedPlan inference = a.plan;
    inference.train = false;
    inference.max_batch = 16;
    FusedTrainer tp(inference);
    std::vector<float> chunked(k.rows * k.out), single(k.out);
    tp.predict(a.x.data(), k.rows, chunked.data());
    for (int64_t r = 0; r < k.rows; r += 7) {
      tp.predict(a.x.data() + r * k.in, 1, single.data());
      for (int64_t j = 0; j < k.out; ++j) CHECK_CLOSE(chunked[r * k.out + j], single[j], 1e-6);
    }
    double eval[2];
    tp.evaluate_batch(a.x.data(), a.y.data(), nullptr, 16, eval);
    CHECK(std::isfinite(eval[0]) && eval[0] > 0);
    // evaluate_batches: evaluate_batch on each run of 16 rows (65 rows: the last one of 1).
    std::vector<double> batches(5 * 2);
    tp.evaluate_batches(a.x.data(), a.y.data(), a.weights.data(), k.rows, 16, batches.data());
    for (int64_t start = 0, bi = 0; start < k.rows; start += 16, ++bi) {
      double one[2];
      tp.evaluate_batch(a.x.data() + start * k.in, a.y.data() + start * k.out, a.weights.data() + start,
                        std::min<int64_t>(16, k.rows - start), one);
      CHECK(one[0] == batches[bi * 2] && one[1] == batches[bi * 2 + 1]);
    }
  });
}

// Trains a copy of case k for `steps` epochs of `rows` rows in batches of `batch` (the last
// one smaller when batch does not divide rows) with the given parallelism at `threads`
// threads; returns the final weights (w1, b1, w2, b2 concatenated) and every batch's outputs.
namespace {

struct Trained {
  std::vector<float> weights;
  std::vector<double> outputs;
};

Trained train_with(const Case& k, int64_t batch, Parallelism parallelism, int threads,
                   int steps) {
  const int saved = get_num_threads();
  set_num_threads(threads);
  Setup s = make_setup(k, 5);
  s.plan.max_batch = batch;
  s.plan.parallelism = parallelism;
  FusedTrainer trainer(s.plan);
  OptimizerState st = initial_state(k);
  std::vector<int64_t> order(k.rows);
  for (int64_t i = 0; i < k.rows; ++i) order[i] = (i * 7 + 3) % k.rows;  // a fixed shuffle
  const int64_t batches = (k.rows + batch - 1) / batch;
  Trained t;
  for (int e = 0; e < steps; ++e) {
    std::vector<double> out(batches * 2);
    trainer.train_epoch(s.x.data(), s.y.data(), k.weighted ? s.weights.data() : nullptr,
                        order.data(), k.rows, batch, nullptr, learning_rate(k.optimizer), &st,
                        out.data());
    t.outputs.insert(t.outputs.end(), out.begin(), out.end());
    double one[2];  // and one train_batch on the first rows, as given
    trainer.train_batch(s.x.data(), s.y.data(), k.weighted ? s.weights.data() : nullptr,
                        std::min(batch, k.rows), nullptr, learning_rate(k.optimizer), &st, one);
    t.outputs.insert(t.outputs.end(), one, one + 2);
  }
  for (const std::vector<float>* v : {&s.model.w1, &s.model.b1, &s.model.w2, &s.model.b2}) {
    t.weights.insert(t.weights.end(), v->begin(), v->end());
  }
  set_num_threads(saved);
  return t;
}

}  // namespace

TEST(rows_split_over_threads_matches_one_thread_and_is_identical_run_to_run) {
  // Batches of 1 row (one lane), fewer rows than threads, odd splits, a smaller last batch.
  const int64_t batches[] = {1, 2, 3, 5, 16, 33};
  for (LossKind loss : {LossKind::categorical_crossentropy, LossKind::sparse_categorical_crossentropy,
                        LossKind::mean_squared_error}) {
    for (OptimizerKind opt : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::adam}) {
      Case k;
      k.rows = 37;
      k.in = 17;
      k.hidden = 33;
      k.loss = loss;
      k.softmax = loss != LossKind::mean_squared_error;
      k.optimizer = opt;
      k.weighted = opt != OptimizerKind::sgd;
      lamina_test::for_each_isa_and_threads([&](Isa, int) {
        for (int64_t batch : batches) {
          const Trained one = train_with(k, batch, Parallelism::kernels, 1, 2);
          for (int threads : {2, 3}) {
            const Trained split = train_with(k, batch, Parallelism::rows, threads, 2);
            const Trained again = train_with(k, batch, Parallelism::rows, threads, 2);
            CHECK(split.weights == again.weights && split.outputs == again.outputs);
            // Only the gradient sums over rows round differently (Adam divides by √v, so
            // its steps amplify that rounding a little).
            const double tol = opt == OptimizerKind::adam ? 1e-5 : 1e-6;
            for (size_t i = 0; i < one.weights.size(); ++i) {
              CHECK_CLOSE(split.weights[i], one.weights[i], tol);
            }
            for (size_t i = 0; i < one.outputs.size(); ++i) {
              CHECK_CLOSE(split.outputs[i], one.outputs[i], 1e-6);
            }
          }
          // Splitting the kernels' work instead leaves every bit as at one thread.
          const Trained kernels = train_with(k, batch, Parallelism::kernels, 2, 2);
          CHECK(kernels.weights == one.weights && kernels.outputs == one.outputs);
        }
      });
    }
  }
}

TEST(rows_split_survives_changes_of_the_thread_count) {
  // Lanes are allocated when a step first runs with more threads; fewer threads later, then
  // more again, reuse and grow them.
  Case k;
  k.rows = 24;
  Setup s = make_setup(k, 3);
  s.plan.parallelism = Parallelism::rows;
  FusedTrainer trainer(s.plan);
  OptimizerState st = initial_state(k);
  const int saved = get_num_threads();
  for (int threads : {4, 2, 1, 3, 8, 2}) {
    set_num_threads(threads);
    double out[2];
    trainer.train_batch(s.x.data(), s.y.data(), nullptr, k.rows, nullptr, 0.05, &st, out);
    CHECK(std::isfinite(out[0]));
    trainer.train_batch(s.x.data(), s.y.data(), nullptr, 5, nullptr, 0.05, &st, out);
    CHECK(std::isfinite(out[0]));
  }
  set_num_threads(saved);
  CHECK(st.iterations == 12);
}

int main() { return lamina_test::run_all(); }
