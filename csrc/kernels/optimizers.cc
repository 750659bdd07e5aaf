// Optimizer update dispatch: derive the float32 constants the way TF.js does, pick the ISA
// variant, and split long buffers over the thread pool.
#include "kernels/optimizers.h"

#include <vector>

#include "kernels/variant.h"
#include "runtime/thread_pool.h"

namespace lamina {

namespace {

// Elements per task. Every element is independent, so any split gives the same bits; a
// fixed chunk keeps the work per task the same for every call. 16384 floats is 64 KiB per
// buffer: long enough to amortise a task, short enough to balance two to eight threads.
constexpr int64_t kChunk = 16384;

const OptimizerKernels& kernels() { return LAMINA_PICK_VARIANT(active_isa(), optimizer_kernels); }

template <class Step>
void run(void (*update)(const Step&, int64_t, int64_t), const Step& step, int64_t n) {
  if (n <= 0) return;
  if (n <= kChunk || get_num_threads() == 1) {
    update(step, 0, n);
    return;
  }
  const int64_t n_tasks = (n + kChunk - 1) / kChunk;
  parallel_for(n_tasks, [&](int64_t task) {
    const int64_t begin = task * kChunk;
    const int64_t end = begin + kChunk < n ? begin + kChunk : n;
    update(step, begin, end);
  });
}

// A JS number becoming a float32 scalar tensor.
inline float f32(double x) { return static_cast<float>(x); }

}  // namespace

void sgd_update(float* w, const float* g, int64_t n, double lr) {
  run(kernels().sgd, SgdStep{w, g, f32(-lr)}, n);
}

void momentum_update(float* w, const float* g, float* accum, int64_t n, double lr,
                     double momentum, bool nesterov) {
  const OptimizerKernels& k = kernels();
  const MomentumStep step{w, g, accum, f32(-lr), f32(momentum)};
  run(nesterov ? k.momentum_nesterov : k.momentum, step, n);
}

void adam_update(float* w, const float* g, float* m, float* v, int64_t n, double lr,
                 double beta1, double beta2, double epsilon, float beta1_power,
                 float beta2_power) {
  // TF.js: oneMinusAccBeta = sub(1, accBeta), a float32 op on the float32 power.
  const AdamStep step{w, g, m, v,
                      f32(beta1), f32(1 - beta1), f32(beta2), f32(1 - beta2),
                      1.0f - beta1_power, 1.0f - beta2_power,
                      f32(epsilon), f32(-lr)};
  run(kernels().adam, step, n);
}

void adamax_update(float* w, const float* g, float* m, float* u, int64_t n, double lr,
                   double beta1, double beta2, double epsilon, int64_t step, float beta1_power,
                   double decay) {
  // TF.js: lr_t = div(-lr, add(mul(iteration, decay), 1)) with iteration a float32 variable
  // holding t − 1, then div(lr_t, sub(1, accBeta1)): all float32 ops, in this order.
  const float iteration = static_cast<float>(step - 1);
  const float scaled = iteration * f32(decay);
  const float lr_t = f32(-lr) / (scaled + 1.0f);
  const float step_size = lr_t / (1.0f - beta1_power);
  run(kernels().adamax,
      AdamaxStep{w, g, m, u, f32(beta1), f32(1 - beta1), f32(beta2), f32(epsilon), step_size}, n);
}

void rmsprop_update(float* w, const float* g, float* ms, float* mom, float* mg, int64_t n,
                    double lr, double decay, double momentum, double epsilon, bool centered) {
  const OptimizerKernels& k = kernels();
  const RmspropStep step{w, g, ms, mom, mg,
                         f32(decay), f32(1 - decay), f32(momentum), f32(epsilon), f32(lr)};
  run(centered ? k.rmsprop_centered : k.rmsprop, step, n);
}

void adagrad_update(float* w, const float* g, float* accum, int64_t n, double lr,
                    double epsilon) {
  run(kernels().adagrad, AdagradStep{w, g, accum, f32(epsilon), f32(-lr)}, n);
}

void adadelta_update(float* w, const float* g, float* accum_grad, float* accum_update,
                     int64_t n, double lr, double rho, double epsilon) {
  run(kernels().adadelta,
      AdadeltaStep{w, g, accum_grad, accum_update, f32(rho), f32(1 - rho), f32(epsilon), f32(-lr)},
      n);
}

double l1l2_gradient(const float* w, float* g, int64_t n, double l1, double l2) {
  if (n <= 0) return 0.0;
  const L1L2Step step{w, g, f32(l1), 2.0f * f32(l2)};
  const auto l1l2 = kernels().l1l2;
  // Runs of kChunk (a multiple of kPenaltyRun) per task; the tasks' sums are added in task
  // order, so the result does not depend on the thread count.
  static_assert(kChunk % kPenaltyRun == 0, "task boundaries must fall on run boundaries");
  const int64_t n_tasks = (n + kChunk - 1) / kChunk;
  auto task = [&](int64_t t) {
    const int64_t begin = t * kChunk;
    return l1l2(step, begin, begin + kChunk < n ? begin + kChunk : n);
  };
  double absolute = 0.0, squares = 0.0;
  if (n_tasks == 1 || get_num_threads() == 1) {
    for (int64_t t = 0; t < n_tasks; ++t) {
      const PenaltySums part = task(t);
      absolute += part.absolute;
      squares += part.squares;
    }
  } else {
    std::vector<PenaltySums> parts(static_cast<size_t>(n_tasks));
    parallel_for(n_tasks, [&](int64_t t) { parts[t] = task(t); });
    for (const PenaltySums& part : parts) {
      absolute += part.absolute;
      squares += part.squares;
    }
  }
  return static_cast<double>(f32(l1)) * absolute + static_cast<double>(f32(l2)) * squares;
}

}  // namespace lamina
