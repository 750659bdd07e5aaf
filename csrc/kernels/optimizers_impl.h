// The optimizer update rules, written once over a lane type `Vec` that the including file
// defines (optimizers_scalar.cc, optimizers_avx2.cc, optimizers_avx512.cc). Before including
// this header, the includer defines, in an anonymous namespace inside namespace lamina:
//
//   struct Vec;                          a pack of kWidth float lanes
//   constexpr int64_t kWidth;
//   struct FullLanes {};                 all kWidth lanes
//   SomeLanes first_lanes(int64_t k);    only the first k < kWidth lanes (the tail)
//   Vec load(const float*, Lanes);  void store(float*, Vec, Lanes);   for both lane kinds
//   Vec splat(float);  + - * /  sqrt(Vec)  abs(Vec)  max_propagating_nan(Vec, Vec)
//   Vec signed_rate(Vec w, Vec rate)   rate where w > 0, −rate elsewhere (NaN w: −rate)
//   float lane_sum(Vec)                the lanes added in lane order
//
// and #defines LAMINA_OPTIMIZER_TABLE as the name of its table function. Every operation
// must round like the float32 operation it stands for: in particular `*` must not fuse with
// a following `+` into an FMA (CMakeLists.txt compiles everything with -ffp-contract=off),
// because TF.js rounds after the multiply and we want its bits.
//
// Each function updates elements [begin, end) of one step (see optimizers.h for formulas).
// Include it once per variant file, after the lane type (so no include guard).

namespace lamina {
namespace {

// Calls block(i, lanes) over [begin, end): full packs, then one partial pack for the tail.
template <class Block>
inline void for_each_pack(int64_t begin, int64_t end, Block&& block) {
  int64_t i = begin;
  for (; i + kWidth <= end; i += kWidth) block(i, FullLanes{});
  if (i < end) block(i, first_lanes(end - i));
}

void sgd(const SgdStep& s, int64_t begin, int64_t end) {
  const Vec neg_lr = splat(s.neg_lr);
  for_each_pack(begin, end, [&](int64_t i, auto lanes) {
    store(s.w + i, neg_lr * load(s.g + i, lanes) + load(s.w + i, lanes), lanes);
  });
}

void momentum(const MomentumStep& s, int64_t begin, int64_t end) {
  const Vec neg_lr = splat(s.neg_lr), mu = splat(s.momentum);
  for_each_pack(begin, end, [&](int64_t i, auto lanes) {
    const Vec a = mu * load(s.accum + i, lanes) + load(s.g + i, lanes);
    store(s.accum + i, a, lanes);
    store(s.w + i, neg_lr * a + load(s.w + i, lanes), lanes);
  });
}

void momentum_nesterov(const MomentumStep& s, int64_t begin, int64_t end) {
  const Vec neg_lr = splat(s.neg_lr), mu = splat(s.momentum);
  for_each_pack(begin, end, [&](int64_t i, auto lanes) {
    const Vec g = load(s.g + i, lanes);
    const Vec a = mu * load(s.accum + i, lanes) + g;
    store(s.accum + i, a, lanes);
    store(s.w + i, neg_lr * (g + a * mu) + load(s.w + i, lanes), lanes);
  });
}

void adam(const AdamStep& s, int64_t begin, int64_t end) {
  const Vec beta1 = splat(s.beta1), one_minus_beta1 = splat(s.one_minus_beta1);
  const Vec beta2 = splat(s.beta2), one_minus_beta2 = splat(s.one_minus_beta2);
  const Vec correction1 = splat(s.one_minus_beta1_power);
  const Vec correction2 = splat(s.one_minus_beta2_power);
  const Vec eps = splat(s.epsilon), neg_lr = splat(s.neg_lr);
  for_each_pack(begin, end, [&](int64_t i, auto lanes) {
    const Vec g = load(s.g + i, lanes);
    const Vec m = load(s.m + i, lanes) * beta1 + g * one_minus_beta1;
    const Vec v = load(s.v + i, lanes) * beta2 + (g * g) * one_minus_beta2;
    store(s.m + i, m, lanes);
    store(s.v + i, v, lanes);
    const Vec m_hat = m / correction1;
    const Vec v_hat = v / correction2;
    store(s.w + i, (m_hat / (sqrt(v_hat) + eps)) * neg_lr + load(s.w + i, lanes), lanes);
  });
}

void adamax(const AdamaxStep& s, int64_t begin, int64_t end) {
  const Vec beta1 = splat(s.beta1), one_minus_beta1 = splat(s.one_minus_beta1);
  const Vec beta2 = splat(s.beta2), eps = splat(s.epsilon), step_size = splat(s.step_size);
  for_each_pack(begin, end, [&](int64_t i, auto lanes) {
    const Vec g = load(s.g + i, lanes);
    const Vec m = load(s.m + i, lanes) * beta1 + g * one_minus_beta1;
    const Vec u = max_propagating_nan(load(s.u + i, lanes) * beta2, abs(g));
    store(s.m + i, m, lanes);
    store(s.u + i, u, lanes);
    store(s.w + i, step_size * (m / (u + eps)) + load(s.w + i, lanes), lanes);
  });
}

void rmsprop(const RmspropStep& s, int64_t begin, int64_t end) {
  const Vec rho = splat(s.decay), one_minus_rho = splat(s.one_minus_decay);
  const Vec mu = splat(s.momentum), eps = splat(s.epsilon), lr = splat(s.lr);
  for_each_pack(begin, end, [&](int64_t i, auto lanes) {
    const Vec g = load(s.g + i, lanes);
    const Vec ms = load(s.ms + i, lanes) * rho + (g * g) * one_minus_rho;
    const Vec mom = load(s.mom + i, lanes) * mu + (g * lr) / sqrt(ms + eps);
    store(s.ms + i, ms, lanes);
    store(s.mom + i, mom, lanes);
    store(s.w + i, load(s.w + i, lanes) - mom, lanes);
  });
}

void rmsprop_centered(const RmspropStep& s, int64_t begin, int64_t end) {
  const Vec rho = splat(s.decay), one_minus_rho = splat(s.one_minus_decay);
  const Vec mu = splat(s.momentum), eps = splat(s.epsilon), lr = splat(s.lr);
  for_each_pack(begin, end, [&](int64_t i, auto lanes) {
    const Vec g = load(s.g + i, lanes);
    const Vec ms = load(s.ms + i, lanes) * rho + (g * g) * one_minus_rho;
    const Vec mg = load(s.mg + i, lanes) * rho + g * one_minus_rho;
    // TF.js subtracts ε here (ms − (mg² + ε)); kept so the bits match.
    const Vec mom = load(s.mom + i, lanes) * mu + (g * lr) / sqrt(ms - (mg * mg + eps));
    store(s.ms + i, ms, lanes);
    store(s.mg + i, mg, lanes);
    store(s.mom + i, mom, lanes);
    store(s.w + i, load(s.w + i, lanes) - mom, lanes);
  });
}

void adagrad(const AdagradStep& s, int64_t begin, int64_t end) {
  const Vec eps = splat(s.epsilon), neg_lr = splat(s.neg_lr);
  for_each_pack(begin, end, [&](int64_t i, auto lanes) {
    const Vec g = load(s.g + i, lanes);
    const Vec a = load(s.accum + i, lanes) + g * g;
    store(s.accum + i, a, lanes);
    store(s.w + i, (g / sqrt(a + eps)) * neg_lr + load(s.w + i, lanes), lanes);
  });
}

void adadelta(const AdadeltaStep& s, int64_t begin, int64_t end) {
  const Vec rho = splat(s.rho), one_minus_rho = splat(s.one_minus_rho);
  const Vec eps = splat(s.epsilon), neg_lr = splat(s.neg_lr);
  for_each_pack(begin, end, [&](int64_t i, auto lanes) {
    const Vec g = load(s.g + i, lanes);
    const Vec old_accum_grad = load(s.accum_grad + i, lanes);
    const Vec old_accum_update = load(s.accum_update + i, lanes);
    // TF.js scales by the accumulated gradient from before this step; kept so the bits match.
    const Vec d = (sqrt(old_accum_update + eps) / sqrt(old_accum_grad + eps)) * g;
    store(s.accum_grad + i, old_accum_grad * rho + (g * g) * one_minus_rho, lanes);
    store(s.accum_update + i, old_accum_update * rho + (d * d) * one_minus_rho, lanes);
    store(s.w + i, d * neg_lr + load(s.w + i, lanes), lanes);
  });
}

PenaltySums l1l2(const L1L2Step& s, int64_t begin, int64_t end) {
  const Vec l1 = splat(s.l1), twice_l2 = splat(s.twice_l2);
  PenaltySums sums;
  for (int64_t run = begin; run < end; run += kPenaltyRun) {
    const int64_t run_end = run + kPenaltyRun < end ? run + kPenaltyRun : end;
    Vec absolute = splat(0.0f), squares = splat(0.0f);
    for_each_pack(run, run_end, [&](int64_t i, auto lanes) {
      const Vec w = load(s.w + i, lanes);  // a tail's unused lanes load 0: they add 0
      store(s.g + i, load(s.g + i, lanes) + (signed_rate(w, l1) + twice_l2 * w), lanes);
      absolute = absolute + abs(w);
      squares = squares + w * w;
    });
    sums.absolute += lane_sum(absolute);
    sums.squares += lane_sum(squares);
  }
  return sums;
}

}  // namespace

const OptimizerKernels& LAMINA_OPTIMIZER_TABLE() {
  static const OptimizerKernels kernels{sgd,     momentum, momentum_nesterov, adam,    adamax,
                                        rmsprop, rmsprop_centered, adagrad,  adadelta, l1l2};
  return kernels;
}

}  // namespace lamina
