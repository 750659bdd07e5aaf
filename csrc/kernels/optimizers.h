// Optimizer update rules over flat float32 buffers, in place, with TensorFlow.js's formulas
// and operation order (tfjs-core/src/optimizers/*_optimizer.ts).
//
// Every element is computed with the same float32 operations in the same order as TF.js's
// CPU backend (one rounding per op, no fused multiply-add), so each ISA variant gives the
// same bits as the scalar reference, at any thread count.
//
// Hyperparameters are double, as they are JS numbers in TF.js: a derived constant such as
// 1 − β1 is computed in double and rounded to float32 once, as TF.js does when it turns the
// number into a scalar tensor. The accumulated powers β^t are float32, because TF.js keeps
// them in float32 variables (accBeta1 ← accBeta1·β1 after each step).
//
// Notation: g = gradient, t = step number starting at 1. Buffers hold n elements each and
// must not overlap (g is only read). n may be 0.
#pragma once

#include <cstdint>

namespace lamina {

// SGD:  w ← (−lr)·g + w
void sgd_update(float* w, const float* g, int64_t n, double lr);

// Momentum (slot `accum`, starts at 0):
//   a ← m·a + g
//   w ← (−lr)·a + w                 (nesterov = false)
//   w ← (−lr)·(g + a·m) + w         (nesterov = true, a is the new accumulation)
void momentum_update(float* w, const float* g, float* accum, int64_t n, double lr,
                     double momentum, bool nesterov);

// Adam (slots m, v start at 0; beta1_power = β1^t, beta2_power = β2^t as float32):
//   m ← m·β1 + g·(1−β1)
//   v ← v·β2 + g²·(1−β2)
//   w ← (m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + ε) · (−lr) + w
// ε is added outside the sqrt, to the bias-corrected second moment. 1 − β^t is a float32
// subtraction, as in TF.js.
void adam_update(float* w, const float* g, float* m, float* v, int64_t n, double lr,
                 double beta1, double beta2, double epsilon, float beta1_power,
                 float beta2_power);

// Adamax (slots m, u start at 0; step = t >= 1; beta1_power = β1^t as float32):
//   lr_t = (−lr) / (float(t−1)·decay + 1)          (float32 ops, as TF.js's `iteration`)
//   m ← m·β1 + g·(1−β1)
//   u ← max(u·β2, |g|)                             (NaN if either is NaN, as Math.max)
//   w ← (lr_t/(1−β1^t)) · (m/(u + ε)) + w
void adamax_update(float* w, const float* g, float* m, float* u, int64_t n, double lr,
                   double beta1, double beta2, double epsilon, int64_t step, float beta1_power,
                   double decay);

// RMSProp (slots ms, mom and, when centered, mg; all start at 0; ρ = decay, μ = momentum):
//   ms ← ms·ρ + g²·(1−ρ)
//   plain:    mom ← mom·μ + (g·lr)/sqrt(ms + ε)
//   centered: mg ← mg·ρ + g·(1−ρ);  mom ← mom·μ + (g·lr)/sqrt(ms − (mg² + ε))
//   w ← w − mom
// The centered form subtracts ε inside the sqrt: that is TF.js's formula, kept on purpose.
// mg is read only when centered (it may be null otherwise).
void rmsprop_update(float* w, const float* g, float* ms, float* mom, float* mg, int64_t n,
                    double lr, double decay, double momentum, double epsilon, bool centered);

// Adagrad (slot accum; its initial value, 0.1 in TF.js, is the caller's business):
//   a ← a + g²
//   w ← (g / sqrt(a + ε)) · (−lr) + w
void adagrad_update(float* w, const float* g, float* accum, int64_t n, double lr,
                    double epsilon);

// Adadelta (slots accum_grad, accum_update start at 0):
//   d  = sqrt(accum_update + ε) / sqrt(accum_grad_old + ε) · g
//   accum_grad   ← accum_grad·ρ + g²·(1−ρ)
//   accum_update ← accum_update·ρ + d²·(1−ρ)
//   w ← d·(−lr) + w
// d uses accum_grad from before this step's update: TF.js's formula, kept on purpose.
void adadelta_update(float* w, const float* g, float* accum_grad, float* accum_update,
                     int64_t n, double lr, double rho, double epsilon);

// The L1L2 regularizer's share of a training step (TF.js's l1l2: penalty l1·Σ|w| + l2·Σw²):
//   g ← g + (l1·(w > 0 ? 1 : −1) + 2·l2·w)      (TF.js's abs has gradient −1 at 0)
// and returns the penalty of w as it is (before any update). The sums are kept in float per
// lane over runs of kPenaltyRun elements and added in double across runs, in a fixed order.
double l1l2_gradient(const float* w, float* g, int64_t n, double l1, double l2);
constexpr int64_t kPenaltyRun = 1024;

// ---- What each ISA variant provides ----------------------------------------------------
// One step description per rule: the buffers and the float32 constants, already derived.
// A variant's function updates elements [begin, end).

struct SgdStep {
  float* w;
  const float* g;
  float neg_lr;
};

struct MomentumStep {
  float* w;
  const float* g;
  float* accum;
  float neg_lr, momentum;
};

struct AdamStep {
  float* w;
  const float* g;
  float *m, *v;
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float one_minus_beta1_power, one_minus_beta2_power;  // 1 − β^t, in float32
  float epsilon, neg_lr;
};

struct AdamaxStep {
  float* w;
  const float* g;
  float *m, *u;
  float beta1, one_minus_beta1, beta2, epsilon;
  float step_size;  // lr_t / (1 − β1^t), negative: the factor applied to m/(u + ε)
};

struct RmspropStep {
  float* w;
  const float* g;
  float *ms, *mom, *mg;
  float decay, one_minus_decay, momentum, epsilon, lr;
};

struct AdagradStep {
  float* w;
  const float* g;
  float* accum;
  float epsilon, neg_lr;
};

struct AdadeltaStep {
  float* w;
  const float* g;
  float *accum_grad, *accum_update;
  float rho, one_minus_rho, epsilon, neg_lr;
};

struct L1L2Step {
  const float* w;
  float* g;
  float l1, twice_l2;
};

struct PenaltySums {
  double absolute = 0.0, squares = 0.0;  // Σ|w| and Σw²
};

struct OptimizerKernels {
  void (*sgd)(const SgdStep&, int64_t begin, int64_t end);
  void (*momentum)(const MomentumStep&, int64_t begin, int64_t end);
  void (*momentum_nesterov)(const MomentumStep&, int64_t begin, int64_t end);
  void (*adam)(const AdamStep&, int64_t begin, int64_t end);
  void (*adamax)(const AdamaxStep&, int64_t begin, int64_t end);
  void (*rmsprop)(const RmspropStep&, int64_t begin, int64_t end);
  void (*rmsprop_centered)(const RmspropStep&, int64_t begin, int64_t end);
  void (*adagrad)(const AdagradStep&, int64_t begin, int64_t end);
  void (*adadelta)(const AdadeltaStep&, int64_t begin, int64_t end);
  PenaltySums (*l1l2)(const L1L2Step&, int64_t begin, int64_t end);
};

const OptimizerKernels& optimizer_kernels_scalar();
const OptimizerKernels& optimizer_kernels_avx2();
const OptimizerKernels& optimizer_kernels_avx512();

}  // namespace lamina
