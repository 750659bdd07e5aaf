// Optimizer updates, in place: _core.adam_update(w, g, m, v, *, lr=..., ...). Every buffer is
// a float32 C-contiguous array of w's shape (any rank); w and the slots are written; no two
// buffers may share memory. Hyperparameters are keyword-only and range-checked. Like the fused
// trainer, they run with denormal floats flushed to zero (see fused_trainer.h: a slot that
// decays into them makes every later update of it ~100 times slower).
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "bindings/checks.h"
#include "kernels/optimizers.h"
#include "runtime/float_mode.h"

namespace lamina::bind {

namespace {

struct Buffers {
  View<float> w, g;
  std::vector<View<float>> slots;
  int64_t n() const { return w.size; }
  float* slot(size_t k) const { return slots[k].data; }
};

// Checks w, g and the named slots: same shape as w, w and slots writeable, all disjoint
// (the kernel reads g and each slot while it writes the others).
Buffers check_buffers(const py::object& w, const py::object& g,
                      const std::vector<std::pair<py::object, const char*>>& slots) {
  Buffers b{f32(w, "w", /*writeable=*/true), f32(g, "g"), {}};
  const std::string because = "to match w of shape " + shape_text(b.w.shape);
  expect_shape(b.g.shape, b.w.shape, "g", because);
  expect_disjoint(b.w.array, "w", b.g.array, "g");
  for (size_t k = 0; k < slots.size(); ++k) {
    const char* name = slots[k].second;
    View<float> slot = f32(slots[k].first, name, /*writeable=*/true);
    expect_shape(slot.shape, b.w.shape, name, because);
    expect_disjoint(slot.array, name, b.w.array, "w");
    expect_disjoint(slot.array, name, b.g.array, "g");
    for (size_t j = 0; j < k; ++j) {
      expect_disjoint(slot.array, name, b.slots[j].array, slots[j].second);
    }
    b.slots.push_back(std::move(slot));
  }
  return b;
}

std::string number_text(double x) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.9g", x);
  return buffer;
}

// value in [0, 1), or [0, 1] when one_allowed.
void expect_fraction(double value, const char* name, bool one_allowed) {
  const bool ok = value >= 0 && (one_allowed ? value <= 1 : value < 1);
  if (!ok) {
    throw py::value_error(std::string(name) + " must be in [0, 1" + (one_allowed ? "]" : ")") +
                          ", got " + number_text(value));
  }
}

void check_learning_rate(double lr) { expect_finite(lr, "lr"); }

}  // namespace

void register_optimizers(py::module_& m) {
  m.def(
      "sgd_update",
      [](py::object w, py::object g, double lr) {
        Buffers b = check_buffers(w, g, {});
        check_learning_rate(lr);
        py::gil_scoped_release release;
        const ScopedFlushDenormals flush;
        sgd_update(b.w.data, b.g.data, b.n(), lr);
      },
      py::arg("w"), py::arg("g"), py::kw_only(), py::arg("lr"),
      "SGD step in place (TF.js): w ← (−lr)·g + w.");

  m.def(
      "momentum_update",
      [](py::object w, py::object g, py::object accum, double lr, double momentum,
         bool use_nesterov) {
        Buffers b = check_buffers(w, g, {{accum, "accum"}});
        check_learning_rate(lr);
        expect_non_negative(momentum, "momentum");
        py::gil_scoped_release release;
        const ScopedFlushDenormals flush;
        momentum_update(b.w.data, b.g.data, b.slot(0), b.n(), lr, momentum, use_nesterov);
      },
      py::arg("w"), py::arg("g"), py::arg("accum"), py::kw_only(), py::arg("lr"),
      py::arg("momentum"), py::arg("use_nesterov") = false,
      "Momentum step in place (TF.js): accum ← momentum·accum + g; w ← (−lr)·accum + w, or\n"
      "with use_nesterov w ← (−lr)·(g + accum·momentum) + w.");

  m.def(
      "adam_update",
      [](py::object w, py::object g, py::object m_slot, py::object v_slot, double lr,
         double beta1, double beta2, double epsilon, double beta1_power, double beta2_power) {
        Buffers b = check_buffers(w, g, {{m_slot, "m"}, {v_slot, "v"}});
        check_learning_rate(lr);
        expect_fraction(beta1, "beta1", false);
        expect_fraction(beta2, "beta2", false);
        expect_non_negative(epsilon, "epsilon");
        // β^t lies in [0, 1): 0 once a float32 power underflows (or when β = 0), never 1,
        // which would divide by 1 − β^t = 0.
        expect_fraction(beta1_power, "beta1_power", false);
        expect_fraction(beta2_power, "beta2_power", false);
        py::gil_scoped_release release;
        const ScopedFlushDenormals flush;
        adam_update(b.w.data, b.g.data, b.slot(0), b.slot(1), b.n(), lr, beta1, beta2, epsilon,
                    static_cast<float>(beta1_power), static_cast<float>(beta2_power));
      },
      py::arg("w"), py::arg("g"), py::arg("m"), py::arg("v"), py::kw_only(), py::arg("lr"),
      py::arg("beta1"), py::arg("beta2"), py::arg("epsilon"), py::arg("beta1_power"),
      py::arg("beta2_power"),
      "Adam step t in place (TF.js): m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;\n"
      "w ← (m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + ε)·(−lr) + w.\n"
      "beta1_power, beta2_power: β^t as TF.js keeps them, a float32 product multiplied by β\n"
      "after each step (they are rounded to float32 here).");

  m.def(
      "adamax_update",
      [](py::object w, py::object g, py::object m_slot, py::object u_slot, double lr,
         double beta1, double beta2, double epsilon, int64_t step, double beta1_power,
         double decay) {
        Buffers b = check_buffers(w, g, {{m_slot, "m"}, {u_slot, "u"}});
        check_learning_rate(lr);
        expect_fraction(beta1, "beta1", false);
        expect_fraction(beta2, "beta2", false);
        expect_non_negative(epsilon, "epsilon");
        if (step < 1) {
          throw py::value_error(
              "step must be >= 1 (the number of this update, counting from 1), got " +
              std::to_string(step));
        }
        expect_fraction(beta1_power, "beta1_power", false);
        expect_non_negative(decay, "decay");
        py::gil_scoped_release release;
        const ScopedFlushDenormals flush;
        adamax_update(b.w.data, b.g.data, b.slot(0), b.slot(1), b.n(), lr, beta1, beta2, epsilon,
                      step, static_cast<float>(beta1_power), decay);
      },
      py::arg("w"), py::arg("g"), py::arg("m"), py::arg("u"), py::kw_only(), py::arg("lr"),
      py::arg("beta1"), py::arg("beta2"), py::arg("epsilon"), py::arg("step"),
      py::arg("beta1_power"), py::arg("decay"),
      "Adamax step in place (TF.js): lr_t = −lr/((step−1)·decay + 1); m ← β1·m + (1−β1)·g;\n"
      "u ← max(β2·u, |g|); w ← (lr_t/(1−β1^t))·(m/(u + ε)) + w. beta1_power = β1^t.");

  m.def(
      "rmsprop_update",
      [](py::object w, py::object g, py::object ms, py::object mom, double lr, double decay,
         double momentum, double epsilon, bool centered, py::object mg) {
        if (centered && mg.is_none()) {
          throw py::value_error("mg must be a float32 array when centered=True, got None");
        }
        if (!centered && !mg.is_none()) {
          throw py::value_error(
              "mg is used only when centered=True; pass mg=None or centered=True");
        }
        std::vector<std::pair<py::object, const char*>> slots = {{ms, "ms"}, {mom, "mom"}};
        if (centered) slots.push_back({mg, "mg"});
        Buffers b = check_buffers(w, g, slots);
        check_learning_rate(lr);
        expect_fraction(decay, "decay", true);
        expect_non_negative(momentum, "momentum");
        expect_non_negative(epsilon, "epsilon");
        py::gil_scoped_release release;
        const ScopedFlushDenormals flush;
        rmsprop_update(b.w.data, b.g.data, b.slot(0), b.slot(1), centered ? b.slot(2) : nullptr,
                       b.n(), lr, decay, momentum, epsilon, centered);
      },
      py::arg("w"), py::arg("g"), py::arg("ms"), py::arg("mom"), py::kw_only(), py::arg("lr"),
      py::arg("decay"), py::arg("momentum"), py::arg("epsilon"), py::arg("centered") = false,
      py::arg("mg") = py::none(),
      "RMSProp step in place (TF.js): ms ← ρ·ms + (1−ρ)·g²; mom ← μ·mom + g·lr/sqrt(ms + ε),\n"
      "or when centered mg ← ρ·mg + (1−ρ)·g and mom ← μ·mom + g·lr/sqrt(ms − (mg² + ε))\n"
      "(TF.js subtracts ε there); w ← w − mom. ρ = decay, μ = momentum.");

  m.def(
      "adagrad_update",
      [](py::object w, py::object g, py::object accum, double lr, double epsilon) {
        Buffers b = check_buffers(w, g, {{accum, "accum"}});
        check_learning_rate(lr);
        expect_non_negative(epsilon, "epsilon");
        py::gil_scoped_release release;
        const ScopedFlushDenormals flush;
        adagrad_update(b.w.data, b.g.data, b.slot(0), b.n(), lr, epsilon);
      },
      py::arg("w"), py::arg("g"), py::arg("accum"), py::kw_only(), py::arg("lr"),
      py::arg("epsilon"),
      "Adagrad step in place (TF.js): accum ← accum + g²; w ← (g/sqrt(accum + ε))·(−lr) + w.\n"
      "accum starts at initialAccumulatorValue (0.1 in TF.js): the caller fills it.");

  m.def(
      "adadelta_update",
      [](py::object w, py::object g, py::object accum_grad, py::object accum_update, double lr,
         double rho, double epsilon) {
        Buffers b =
            check_buffers(w, g, {{accum_grad, "accum_grad"}, {accum_update, "accum_update"}});
        check_learning_rate(lr);
        expect_fraction(rho, "rho", true);
        expect_non_negative(epsilon, "epsilon");
        py::gil_scoped_release release;
        const ScopedFlushDenormals flush;
        adadelta_update(b.w.data, b.g.data, b.slot(0), b.slot(1), b.n(), lr, rho, epsilon);
      },
      py::arg("w"), py::arg("g"), py::arg("accum_grad"), py::arg("accum_update"), py::kw_only(),
      py::arg("lr"), py::arg("rho"), py::arg("epsilon"),
      "Adadelta step in place (TF.js): d = sqrt(accum_update + ε)/sqrt(accum_grad + ε)·g with\n"
      "accum_grad from before this step; accum_grad ← ρ·accum_grad + (1−ρ)·g²;\n"
      "accum_update ← ρ·accum_update + (1−ρ)·d²; w ← d·(−lr) + w.");
}

}  // namespace lamina::bind
