// The fused trainer: the dense, softmax, cross-entropy and optimizer kernels composed into
// whole steps. Only the small per-row loss loops for binary cross-entropy and the mean
// errors live here (they are a few operations per output column, next to the GEMMs).
#include "kernels/fused_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "kernels/dense.h"
#include "kernels/gemm.h"
#include "kernels/optimizers.h"
#include "kernels/softmax.h"
#include "runtime/float_mode.h"
#include "runtime/thread_pool.h"

namespace lamina {

namespace {

constexpr double kEpsilon = 1e-7;  // TF.js's epsilon() in its Layers losses

// The clip bounds TF.js's losses use, as float32.
const float kLow = static_cast<float>(kEpsilon);
const float kHigh = static_cast<float>(1.0 - kEpsilon);

LossKind loss_of_metric(MetricKind kind) {
  switch (kind) {
    case MetricKind::categorical_crossentropy: return LossKind::categorical_crossentropy;
    case MetricKind::sparse_categorical_crossentropy: return LossKind::sparse_categorical_crossentropy;
    case MetricKind::binary_crossentropy: return LossKind::binary_crossentropy;
    case MetricKind::mean_squared_error: return LossKind::mean_squared_error;
    default: return LossKind::mean_absolute_error;
  }
}

bool is_accuracy(MetricKind kind) {
  return kind == MetricKind::binary_accuracy || kind == MetricKind::categorical_accuracy ||
         kind == MetricKind::sparse_categorical_accuracy;
}

// TF.js binaryCrossentropy of one element: p = clip(q, ε, 1-ε), x = log(p / (1 - p)),
// loss = max(x, 0) - x·t + log1p(e^-|x|) (its stable sigmoid cross-entropy on logits).
float binary_crossentropy_element(float q, float t) {
  const float p = std::min(std::max(q, kLow), kHigh);
  const float x = std::log(p / (1.0f - p));
  return std::max(x, 0.0f) - x * t + std::log1p(std::exp(-std::fabs(x)));
}

// Its derivative with respect to q times d, following the same graph back (clip passes the
// gradient where ε <= q <= 1-ε, inclusive; relu'(0) = 0 and |x|'(0) = 0 as in TF.js).
float binary_crossentropy_element_grad(float q, float t, float d) {
  if (!(q >= kLow && q <= kHigh)) return 0.0f;
  const float p = q;
  const float one_minus = 1.0f - p;
  const float u = p / one_minus;
  const float x = std::log(u);
  const float e = std::exp(-std::fabs(x));
  const float sign = x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
  const float dx = d * ((x > 0.0f ? 1.0f : 0.0f) - t) - d / (1.0f + e) * e * sign;
  const float du = dx / u;
  return du / one_minus + du * p / (one_minus * one_minus);
}

// Per-row loss values [rows] of predictions [rows, cols] against y.
void row_losses(LossKind kind, const float* pred, const float* y, const int32_t* labels,
                float* out, int64_t rows, int64_t cols) {
  switch (kind) {
    case LossKind::categorical_crossentropy:
      categorical_crossentropy(pred, y, out, rows, cols, kEpsilon);
      return;
    case LossKind::sparse_categorical_crossentropy:
      sparse_categorical_crossentropy(pred, labels, out, rows, cols, kEpsilon);
      return;
    default: break;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = pred + r * cols;
    const float* t = y + r * cols;
    float sum = 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
      if (kind == LossKind::binary_crossentropy) {
        sum += binary_crossentropy_element(p[j], t[j]);
      } else if (kind == LossKind::mean_squared_error) {
        const float diff = p[j] - t[j];
        sum += diff * diff;
      } else {
        sum += std::fabs(p[j] - t[j]);
      }
    }
    out[r] = sum / static_cast<float>(cols);
  }
}

// The gradient of scale·Σ_r w_r·loss_r with respect to the predictions of `rows` rows, into
// dpred (scale is 1/n for rows that are part of a batch of n).
void loss_gradient(LossKind kind, const float* pred, const float* y, const int32_t* labels,
                   const float* weights, float scale, float* dpred, int64_t rows, int64_t cols) {
  switch (kind) {
    case LossKind::categorical_crossentropy:
      categorical_crossentropy_backward(pred, y, weights, scale, dpred, rows, cols, kEpsilon);
      return;
    case LossKind::sparse_categorical_crossentropy:
      sparse_categorical_crossentropy_backward(pred, labels, weights, scale, dpred, rows, cols,
                                               kEpsilon);
      return;
    default: break;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = pred + r * cols;
    const float* t = y + r * cols;
    float* d = dpred + r * cols;
    // d/d(row mean) = w_r/rows; the mean over the columns divides by cols.
    const float per_element = (weights ? weights[r] * scale : scale) / static_cast<float>(cols);
    for (int64_t j = 0; j < cols; ++j) {
      const float diff = p[j] - t[j];
      if (kind == LossKind::binary_crossentropy) {
        d[j] = binary_crossentropy_element_grad(p[j], t[j], per_element);
      } else if (kind == LossKind::mean_squared_error) {
        d[j] = 2.0f * diff * per_element;
      } else {
        d[j] = diff > 0.0f ? per_element : (diff < 0.0f ? -per_element : 0.0f);
      }
    }
  }
}

// Index of the first largest value of row[0..cols) (TF.js argMax; NaN never wins).
int64_t first_argmax(const float* row, int64_t cols) {
  int64_t best = 0;
  for (int64_t j = 1; j < cols; ++j) {
    if (row[j] > row[best]) best = j;
  }
  return best;
}

// Per-row accuracy values [rows].
void row_accuracies(MetricKind kind, const float* pred, const float* y, float* out,
                    int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = pred + r * cols;
    if (kind == MetricKind::binary_accuracy) {
      const float* t = y + r * cols;
      int64_t hits = 0;
      for (int64_t j = 0; j < cols; ++j) hits += t[j] == (p[j] > 0.5f ? 1.0f : 0.0f);
      out[r] = static_cast<float>(static_cast<double>(hits) / static_cast<double>(cols));
    } else if (kind == MetricKind::categorical_accuracy) {
      out[r] = first_argmax(y + r * cols, cols) == first_argmax(p, cols) ? 1.0f : 0.0f;
    } else {
      out[r] = y[r] == static_cast<float>(first_argmax(p, cols)) ? 1.0f : 0.0f;
    }
  }
}

// Asks the CPU to start loading columns [begin, begin + cols) of rows order[0..rows) of x
// (row stride ld) into its caches, so that gathering them later does not wait for memory:
// the rows of a shuffled epoch are scattered over an array far larger than the caches.
void prefetch_columns(const float* x, int64_t ld, const int64_t* order, int64_t rows,
                      int64_t begin, int64_t cols) {
  constexpr int64_t kLineFloats = 16;  // 64-byte cache lines
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + order[r] * ld + begin;
    for (int64_t j = 0; j < cols; j += kLineFloats) __builtin_prefetch(row + j, 0, 2);
    __builtin_prefetch(row + cols - 1, 0, 2);
  }
}

// dst[r, :] = x[order[r], begin:begin + cols] for r < rows (dst's row stride is cols). Row by
// row: copying cache line by cache line across 2 to 32 rows at once (more misses in flight)
// measured no faster on the guide model; one core's outstanding misses bound it either way
// (≈ 6 us for 32 rows of 392 floats from memory, ≈ 2 us once prefetched).
void gather_columns(const float* x, int64_t ld, const int64_t* order, int64_t rows,
                    int64_t begin, int64_t cols, float* dst) {
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(dst + r * cols, x + order[r] * ld + begin, sizeof(float) * cols);
  }
}

bool uses_labels(LossKind kind) { return kind == LossKind::sparse_categorical_crossentropy; }

}  // namespace

int optimizer_slot_count(OptimizerKind kind, bool centered) {
  switch (kind) {
    case OptimizerKind::sgd: return 0;
    case OptimizerKind::momentum: return 1;
    case OptimizerKind::adagrad: return 1;
    case OptimizerKind::rmsprop: return centered ? 3 : 2;
    default: return 2;  // adam, adamax, adadelta
  }
}

FusedTrainer::FusedTrainer(FusedPlan plan) : plan_(std::move(plan)) {
  if (plan_.stages.empty()) throw std::invalid_argument("a fused plan needs at least one stage");
  if (plan_.max_batch < 1) throw std::invalid_argument("max_batch must be >= 1");
  // Sparse losses and metrics read one class index per row; the others a full label row.
  // Mixing them would read y with the wrong row length, so such a plan is refused.
  const bool sparse = uses_labels(plan_.loss);
  for (MetricKind m : plan_.metrics) {
    const bool sparse_metric = m == MetricKind::sparse_categorical_accuracy ||
                               m == MetricKind::sparse_categorical_crossentropy;
    if (sparse_metric != sparse) {
      throw std::invalid_argument(
          "sparse metrics need the sparse categorical loss, and it needs sparse metrics");
    }
  }
  const int64_t n = plan_.max_batch;
  for (const Stage& s : plan_.stages) {
    widest_ = std::max({widest_, s.in, s.out});
    if (s.kind == StageKind::dense) parameter_count_ += s.in * s.out + (s.bias ? s.out : 0);
    const bool drops = s.kind == StageKind::dropout && plan_.train;
    if (s.kind == StageKind::dropout && !(s.keep > 0.0f && s.keep < 1.0f)) {
      throw std::invalid_argument("a dropout stage needs 0 < keep < 1");
    }
    mask_of_stage_.push_back(drops ? static_cast<int>(masks_.size()) : -1);
    if (drops) masks_.emplace_back(static_cast<size_t>(n * s.out));
  }
  lanes_.resize(1);
  allocate_lane(lanes_[0], n);
  row_loss_.resize(static_cast<size_t>(n));
  row_weight_.resize(static_cast<size_t>(n));
  row_metrics_.resize(static_cast<size_t>(n * metric_count()));
  labels_.resize(static_cast<size_t>(n));
}

int64_t FusedTrainer::label_width() const {
  return uses_labels(plan_.loss) ? 1 : output_width();
}

void FusedTrainer::allocate_lane(Lane& lane, int64_t capacity) const {
  const int64_t n = capacity;
  lane = Lane();
  lane.capacity = n;
  for (const Stage& s : plan_.stages) {
    lane.outputs.emplace_back(static_cast<size_t>(n * s.out));
    const bool keep_z = plan_.train && s.kind == StageKind::dense &&
                        activation_backward_needs_input(s.act);
    lane.pre.emplace_back(keep_z ? static_cast<size_t>(n * s.out) : 0);
    const bool has_params = plan_.train && s.kind == StageKind::dense;
    lane.grad_kernel.emplace_back(has_params ? static_cast<size_t>(s.in * s.out) : 0);
    lane.grad_bias.emplace_back(has_params && s.bias ? static_cast<size_t>(s.out) : 0);
  }
  if (plan_.train) {
    lane.grad_a.resize(static_cast<size_t>(n * widest_));
    lane.grad_b.resize(static_cast<size_t>(n * widest_));
    lane.dz_scratch.resize(static_cast<size_t>(n * widest_));
  }
  lane.gather_x.resize(static_cast<size_t>(n * input_width()));
  lane.gather_y.resize(static_cast<size_t>(n * label_width()));
  lane.gather_w.resize(static_cast<size_t>(n));
}

int FusedTrainer::lanes_for(int64_t rows) {
  const int threads = get_num_threads();
  if (!plan_.train || threads < 2 || rows < 2) return 1;
  if (plan_.parallelism != Parallelism::rows) return 1;  // automatic: see Parallelism
  const int lanes = static_cast<int>(std::min<int64_t>(threads, rows));
  // Lanes 1.. hold ceil(max_batch / lanes) rows, enough for any batch split this many ways.
  // They are allocated the first time a step runs with this many threads, never per step.
  const int64_t capacity = (plan_.max_batch + lanes - 1) / lanes;
  if (static_cast<int>(lanes_.size()) < lanes) lanes_.resize(static_cast<size_t>(lanes));
  for (int l = 1; l < lanes; ++l) {
    if (lanes_[l].capacity < capacity) allocate_lane(lanes_[l], capacity);
  }
  return lanes;
}

void FusedTrainer::forward(Lane& lane, const float* x, int64_t rows, int64_t offset,
                           bool training, size_t first) {
  const float* in = first == 0 ? x : lane.outputs[first - 1].data();
  for (size_t i = first; i < plan_.stages.size(); ++i) {
    const Stage& s = plan_.stages[i];
    float* out = lane.outputs[i].data();
    switch (s.kind) {
      case StageKind::dropout:
        if (training) {
          const float* mask = masks_[mask_of_stage_[i]].data() + offset * s.out;
          for (int64_t j = 0; j < rows * s.out; ++j) out[j] = in[j] * mask[j];
        } else {
          std::memcpy(out, in, sizeof(float) * rows * s.out);
        }
        break;
      case StageKind::dense:
        dense_forward(in, s.kernel, s.bias, out,
                      lane.pre[i].empty() ? nullptr : lane.pre[i].data(), rows, s.in, s.out,
                      s.act);
        break;
      case StageKind::activation:
        activation_forward(s.act, in, out, rows * s.out);
        break;
      case StageKind::softmax:
        softmax_forward(in, out, rows, s.out);
        break;
    }
    in = out;
  }
}

void FusedTrainer::row_values(const Lane& lane, const float* y, int64_t rows, int64_t offset) {
  const float* pred = lane.outputs.back().data();
  const int64_t cols = output_width();
  int32_t* labels = labels_.data() + offset;
  bool need_labels = uses_labels(plan_.loss);
  for (MetricKind m : plan_.metrics) {
    need_labels = need_labels || m == MetricKind::sparse_categorical_crossentropy;
  }
  if (need_labels) {
    // TF.js floors the labels; an index outside [0, cols) gives NaN in the kernels.
    for (int64_t r = 0; r < rows; ++r) {
      const float v = std::floor(y[r]);
      labels[r] = (v >= 0.0f && v < static_cast<float>(cols)) ? static_cast<int32_t>(v) : -1;
    }
  }
  row_losses(plan_.loss, pred, y, labels, row_loss_.data() + offset, rows, cols);
  for (size_t k = 0; k < plan_.metrics.size(); ++k) {
    const MetricKind m = plan_.metrics[k];
    float* values = row_metrics_.data() + static_cast<int64_t>(k) * plan_.max_batch + offset;
    if (is_accuracy(m)) {
      row_accuracies(m, pred, y, values, rows, cols);
    } else {
      row_losses(loss_of_metric(m), pred, y, labels, values, rows, cols);
    }
  }
}

void FusedTrainer::sum_values(bool weighted, int64_t rows, double* out) const {
  // Sums over the rows in row order, so the split of rows over lanes does not matter.
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    total += weighted ? static_cast<double>(row_weight_[r]) * row_loss_[r] : row_loss_[r];
  }
  out[0] = total / static_cast<double>(rows);
  for (int64_t k = 0; k < metric_count(); ++k) {
    const float* values = row_metrics_.data() + k * plan_.max_batch;
    double sum = 0.0;
    for (int64_t r = 0; r < rows; ++r) sum += values[r];
    out[1 + k] = sum / static_cast<double>(rows);
  }
}

float* FusedTrainer::backward(Lane& lane, const float* x, const float* y, const float* weights,
                              int64_t rows, int64_t offset, int64_t batch_rows, int lowest) {
  // The first stage with parameters: nothing below it needs a gradient.
  size_t first = plan_.stages.size();
  for (size_t i = 0; i < plan_.stages.size(); ++i) {
    if (plan_.stages[i].kind == StageKind::dense) { first = i; break; }
  }
  const size_t stop = lowest < 0 ? first : static_cast<size_t>(lowest);
  float* dy = lane.grad_a.data();
  float* dx = lane.grad_b.data();
  loss_gradient(plan_.loss, lane.outputs.back().data(), y, labels_.data() + offset, weights,
                1.0f / static_cast<float>(batch_rows), dy, rows, output_width());
  for (size_t i = plan_.stages.size(); i-- > stop;) {
    const Stage& s = plan_.stages[i];
    const float* in = i == 0 ? x : lane.outputs[i - 1].data();
    const float* out = lane.outputs[i].data();
    const bool need_dx = i > first;
    switch (s.kind) {
      case StageKind::dense:
        dense_backward(in, s.kernel, out, lane.pre[i].empty() ? nullptr : lane.pre[i].data(), dy,
                       lane.dz_scratch.data(), lane.grad_kernel[i].data(),
                       s.bias ? lane.grad_bias[i].data() : nullptr, need_dx ? dx : nullptr, rows,
                       s.in, s.out, s.act);
        break;
      case StageKind::activation:
        activation_backward(s.act, in, out, dy, dx, rows * s.out);
        break;
      case StageKind::dropout: {
        const float* mask = masks_[mask_of_stage_[i]].data() + offset * s.out;
        for (int64_t j = 0; j < rows * s.out; ++j) dx[j] = dy[j] * mask[j];
        break;
      }
      case StageKind::softmax:
        softmax_backward(out, dy, dx, rows, s.out);
        break;
    }
    if (need_dx) std::swap(dy, dx);
  }
  return stop > first ? dy : nullptr;
}

void FusedTrainer::gather_labels(Lane& lane, const Batch& batch, int64_t begin, int64_t end,
                                 const float** y, const float** weights) {
  // Labels and row weights of rows [begin, end): read in place, or gathered from order.
  const int64_t rows = end - begin;
  const int64_t label_cols = label_width();
  *y = batch.y + begin * label_cols;
  *weights = batch.weights ? batch.weights + begin : nullptr;
  if (batch.order) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t src = batch.order[begin + r];
      std::memcpy(lane.gather_y.data() + r * label_cols, batch.y + src * label_cols,
                  sizeof(float) * label_cols);
      if (batch.weights) lane.gather_w[r] = batch.weights[src];
    }
    *y = lane.gather_y.data();
    *weights = batch.weights ? lane.gather_w.data() : nullptr;
  }
  if (*weights) std::memcpy(row_weight_.data() + begin, *weights, sizeof(float) * rows);
}

void FusedTrainer::run_lane(Lane& lane, const Batch& batch, int64_t begin, int64_t end) {
  const int64_t rows = end - begin;
  const int64_t in = input_width();
  const float* x = batch.x + begin * in;
  const float* y = nullptr;
  const float* weights = nullptr;
  if (batch.order) {
    gather_columns(batch.x, in, batch.order + begin, rows, 0, in, lane.gather_x.data());
    x = lane.gather_x.data();
  }
  gather_labels(lane, batch, begin, end, &y, &weights);
  if (batch.next_order) {
    const int64_t next_begin = begin * batch.next_rows / batch.rows;
    const int64_t next_end = end * batch.next_rows / batch.rows;
    prefetch_columns(batch.x, in, batch.next_order + next_begin, next_end - next_begin, 0, in);
  }
  forward(lane, x, rows, begin, true);
  row_values(lane, y, rows, begin);
  backward(lane, x, y, weights, rows, begin, batch.rows);
}

void FusedTrainer::sum_gradients(int lanes, int part, int parts) {
  // g_0 ← (…(g_0 + g_1) + g_2 …) + g_{lanes-1}, element by element, over this part's slice of
  // every gradient buffer: the order is fixed, so the sum does not depend on which thread
  // runs which part.
  for (size_t i = 0; i < plan_.stages.size(); ++i) {
    if (plan_.stages[i].kind != StageKind::dense) continue;
    for (int which = 0; which < 2; ++which) {
      std::vector<float>& total =
          which == 0 ? lanes_[0].grad_kernel[i] : lanes_[0].grad_bias[i];
      const int64_t n = static_cast<int64_t>(total.size());
      const int64_t begin = part * n / parts, end = (part + 1) * n / parts;
      for (int l = 1; l < lanes; ++l) {
        const float* g = which == 0 ? lanes_[l].grad_kernel[i].data() : lanes_[l].grad_bias[i].data();
        float* t = total.data();
        for (int64_t j = begin; j < end; ++j) t[j] += g[j];
      }
    }
  }
}

template <class Fn>
void FusedTrainer::for_each_parameter(Fn&& fn) {
  Lane& lane = lanes_[0];
  for (size_t i = 0; i < plan_.stages.size(); ++i) {
    Stage& s = plan_.stages[i];
    if (s.kind != StageKind::dense) continue;
    fn(i, false, s.kernel, lane.grad_kernel[i].data(), s.kernel_slots, s.in * s.out, s.kernel_l1,
       s.kernel_l2);
    if (s.bias) {
      fn(i, true, s.bias, lane.grad_bias[i].data(), s.bias_slots, s.out, s.bias_l1, s.bias_l2);
    }
  }
}

double FusedTrainer::add_penalty_gradient(const float* w, float* g, int64_t begin, int64_t end,
                                          float l1, float l2) {
  if (l1 == 0.0f && l2 == 0.0f) return 0.0;
  return l1l2_gradient(w + begin, g + begin, end - begin, l1, l2);
}

void FusedTrainer::apply_update(float* w, const float* g, float* const* slots_whole,
                                int64_t begin, int64_t end, double lr,
                                const OptimizerState& state) const {
  // Every optimizer is elementwise, so updating slices of a buffer gives the same bits as
  // updating it whole.
  const OptimizerConfig& c = plan_.optimizer;
  const int64_t n = end - begin;
  if (n <= 0) return;
  w += begin;
  g += begin;
  float* slots[3];
  for (int k = 0; k < 3; ++k) slots[k] = slots_whole[k] ? slots_whole[k] + begin : nullptr;
  switch (c.kind) {
    case OptimizerKind::sgd: sgd_update(w, g, n, lr); break;
    case OptimizerKind::momentum:
      momentum_update(w, g, slots[0], n, lr, c.momentum, c.nesterov);
      break;
    case OptimizerKind::adam:
      adam_update(w, g, slots[0], slots[1], n, lr, c.beta1, c.beta2, c.epsilon,
                  state.beta1_power, state.beta2_power);
      break;
    case OptimizerKind::adamax:
      adamax_update(w, g, slots[0], slots[1], n, lr, c.beta1, c.beta2, c.epsilon,
                    state.iterations + 1, state.beta1_power, c.decay);
      break;
    case OptimizerKind::rmsprop:
      rmsprop_update(w, g, slots[0], slots[1], c.centered ? slots[2] : nullptr, n, lr, c.decay,
                     c.momentum, c.epsilon, c.centered);
      break;
    case OptimizerKind::adagrad: adagrad_update(w, g, slots[0], n, lr, c.epsilon); break;
    case OptimizerKind::adadelta:
      adadelta_update(w, g, slots[0], slots[1], n, lr, c.rho, c.epsilon);
      break;
  }
}

double FusedTrainer::update(double lr, const OptimizerState& state, int part, int parts) {
  // This part's slice of every buffer: the penalty gradients, then the optimizer step.
  double penalty = 0.0;
  for_each_parameter([&](size_t, bool, float* w, float* g, float* const* slots, int64_t n,
                         float l1, float l2) {
    const int64_t begin = part * n / parts, end = (part + 1) * n / parts;
    penalty += add_penalty_gradient(w, g, begin, end, l1, l2);
    apply_update(w, g, slots, begin, end, lr, state);
  });
  return penalty;
}

void FusedTrainer::advance(const OptimizerConfig& c, OptimizerState* state) {
  // As the Python optimizers' _finish_step: float32 products, one per step.
  if (c.kind == OptimizerKind::adam || c.kind == OptimizerKind::adamax) {
    state->beta1_power = state->beta1_power * static_cast<float>(c.beta1);
  }
  if (c.kind == OptimizerKind::adam) {
    state->beta2_power = state->beta2_power * static_cast<float>(c.beta2);
  }
  state->iterations += 1;
}

void FusedTrainer::step(const Batch& batch, double learning_rate, OptimizerState* state,
                        double* out) {
  const int64_t rows = batch.rows;
  const int lanes = lanes_for(rows);
  for (size_t i = 0; i < plan_.stages.size(); ++i) {
    // Drawn whole, before the rows are split: the noise runs over the batch in row order.
    const int m = mask_of_stage_[i];
    if (m >= 0) dropout_mask(batch.seeds[m], plan_.stages[i].keep, masks_[m].data(), rows * plan_.stages[i].out);
  }
  // A small step (forward and backward ≈ 6·rows·parameters flops) runs all its kernels on
  // this thread: handing its tiny GEMMs to the pool costs more than it saves.
  const double flops = 6.0 * static_cast<double>(rows) * static_cast<double>(parameter_count_);
  if (lanes == 1) {
    const int parts = input_parts_for(rows);
    if (parts > 1) {
      input_split_step(batch, parts, learning_rate, state, out);
      advance(plan_.optimizer, state);
      return;
    }
  }
  const bool serial_step = lanes == 1 && flops < kSerialStepFlops;
  if (serial_step) {
    run_on_this_thread([&] {
      run_lane(lanes_[0], batch, 0, rows);
      sum_values(batch.weights != nullptr, rows, out);
      out[0] += update(learning_rate, *state, 0, 1);
    });
    advance(plan_.optimizer, state);
    return;
  }
  if (lanes == 1) {
    run_lane(lanes_[0], batch, 0, rows);
  } else {
    // One handoff for forward, loss and backward of every lane; kernels called inside a
    // task run on that task's thread.
    parallel_for(lanes, [&](int64_t l) {
      run_lane(lanes_[l], batch, l * rows / lanes, (l + 1) * rows / lanes);
    });
  }
  sum_values(batch.weights != nullptr, rows, out);
  // The penalty is summed as the update goes (from the weights before it), part by part.
  if (lanes > 1 && parameter_count_ >= kParallelUpdateMin) {
    double penalties[max_num_threads()] = {};
    parallel_for(lanes, [&](int64_t part) {
      sum_gradients(lanes, static_cast<int>(part), lanes);
      penalties[part] = update(learning_rate, *state, static_cast<int>(part), lanes);
    });
    for (int part = 0; part < lanes; ++part) out[0] += penalties[part];
  } else {
    if (lanes > 1) sum_gradients(lanes, 0, 1);
    out[0] += update(learning_rate, *state, 0, 1);
  }
  advance(plan_.optimizer, state);
}

int FusedTrainer::input_parts_for(int64_t rows) {
  const Stage& first = plan_.stages.front();
  const int threads = get_num_threads();
  if (!plan_.train || threads < 2 || plan_.parallelism != Parallelism::automatic ||
      first.kind != StageKind::dense || first.in < kInputSplitMinWidth) {
    return 1;
  }
  const bool narrow = first.out <= kInputSplitNarrowOutputs;
  const bool small_batch =
      first.out <= kInputSplitMaxOutputs && rows * first.out <= kInputSplitMaxCells;
  if (!narrow && !small_batch) return 1;
  const int parts = static_cast<int>(std::min<int64_t>(threads, first.in / 64));
  if (static_cast<int>(input_parts_.size()) != parts) {
    // Made once per thread count. Boundaries on 16-float (cache line) multiples, so no two
    // threads write the same line of the kernel, its slots or its gradient.
    input_parts_.assign(static_cast<size_t>(parts), InputPart());
    for (int p = 0; p < parts; ++p) {
      InputPart& part = input_parts_[p];
      part.begin = p == 0 ? 0 : (p * first.in / parts) / 16 * 16;
      part.end = p + 1 == parts ? first.in : ((p + 1) * first.in / parts) / 16 * 16;
      part.x.resize(static_cast<size_t>(plan_.max_batch * (part.end - part.begin)));
      part.partial.resize(static_cast<size_t>(plan_.max_batch * first.out));
    }
  }
  return parts;
}

void FusedTrainer::input_split_step(const Batch& batch, int parts, double learning_rate,
                                    OptimizerState* state, double* out) {
  Lane& lane = lanes_[0];
  const Stage& first = plan_.stages.front();
  const int64_t rows = batch.rows, in = first.in, width = first.out;
  float* z = lane.pre[0].empty() ? lane.outputs[0].data() : lane.pre[0].data();
  // 1. Each thread: its columns of the batch (gathered, or read in place) times its rows of
  //    the kernel.
  parallel_for(parts, [&](int64_t p) {
    InputPart& part = input_parts_[p];
    const int64_t cols = part.end - part.begin;
    if (batch.order) {
      gather_columns(batch.x, in, batch.order, rows, part.begin, cols, part.x.data());
      part.x_used = part.x.data();
      part.ld = cols;
    } else {
      part.x_used = batch.x + part.begin;
      part.ld = in;
    }
    gemm(false, false, rows, width, cols, 1.0f, part.x_used, part.ld,
         first.kernel + part.begin * width, width, 0.0f, part.partial.data(), width);
  });
  // 2. This thread: Z = Σ partials (in thread order) + b, the rest of the forward, the loss
  //    and the backward down to dZ of the first layer.
  const float* dz_first = nullptr;
  parallel_for(parts, [&](int64_t p) {
    if (p != 0) {
      // The other threads would only wait: they fetch their columns of the next batch into
      // their caches meanwhile (≈ 4 us less gathering for them in the next step's phase 1).
      if (batch.next_order) {
        const InputPart& part = input_parts_[p];
        prefetch_columns(batch.x, in, batch.next_order, batch.next_rows, part.begin,
                         part.end - part.begin);
      }
      return;
    }
    // Task 0 runs on this thread (each thread first takes its own task); its kernels run
    // inline, as in any task.
    for (int64_t r = 0; r < rows; ++r) {
      float* zr = z + r * width;
      std::memcpy(zr, input_parts_[0].partial.data() + r * width, sizeof(float) * width);
      for (int p = 1; p < parts; ++p) {
        const float* pr = input_parts_[p].partial.data() + r * width;
        for (int64_t j = 0; j < width; ++j) zr[j] += pr[j];
      }
      if (first.bias) {
        for (int64_t j = 0; j < width; ++j) zr[j] += first.bias[j];
      }
    }
    activation_forward(first.act, z, lane.outputs[0].data(), rows * width);
    const float* y = nullptr;
    const float* weights = nullptr;
    gather_labels(lane, batch, 0, rows, &y, &weights);
    forward(lane, nullptr, rows, 0, true, 1);
    row_values(lane, y, rows, 0);
    sum_values(weights != nullptr, rows, out);
    float* dy = backward(lane, nullptr, y, weights, rows, 0, rows, 1);
    float* dz = dy;
    if (first.act != Activation::linear) {
      activation_backward(first.act, z, lane.outputs[0].data(), dy, lane.dz_scratch.data(),
                          rows * width);
      dz = lane.dz_scratch.data();
    }
    if (first.bias) column_sums(dz, lane.grad_bias[0].data(), rows, width);
    dz_first = dz;
  });
  // 3. Each thread: the gradient of its kernel rows, Xᵀ[begin:end, :]·dZ, and their update.
  float* grad = lane.grad_kernel[0].data();
  double penalties[max_num_threads()] = {};
  parallel_for(parts, [&](int64_t p) {
    const InputPart& part = input_parts_[p];
    const int64_t cols = part.end - part.begin;
    gemm(true, false, cols, width, rows, 1.0f, part.x_used, part.ld, dz_first, width, 0.0f,
         grad + part.begin * width, width);
    penalties[p] = add_penalty_gradient(first.kernel, grad, part.begin * width, part.end * width,
                                        first.kernel_l1, first.kernel_l2);
    apply_update(first.kernel, grad, first.kernel_slots, part.begin * width, part.end * width,
                 learning_rate, *state);
  });
  // 4. This thread: every other parameter.
  run_on_this_thread([&] {
    for_each_parameter([&](size_t stage, bool is_bias, float* w, float* g, float* const* slots,
                           int64_t n, float l1, float l2) {
      if (stage == 0 && !is_bias) return;  // done above, by rows
      out[0] += add_penalty_gradient(w, g, 0, n, l1, l2);
      apply_update(w, g, slots, 0, n, learning_rate, *state);
    });
  });
  for (int p = 0; p < parts; ++p) out[0] += penalties[p];
}

void FusedTrainer::train_batch(const float* x, const float* y, const float* weights,
                               int64_t rows, const Pcg64Seed* seeds, double learning_rate,
                               OptimizerState* state, double* out) {
  const ScopedFlushDenormals flush;  // see fused_trainer.h
  if (!plan_.train) throw std::logic_error("this fused plan was built for inference only");
  if (rows < 1 || rows > plan_.max_batch) throw std::invalid_argument("rows out of range");
  if (dropout_count() > 0 && !seeds) throw std::invalid_argument("dropout stages need seeds");
  step(Batch{x, y, weights, nullptr, rows, nullptr, 0, seeds}, learning_rate, state, out);
}

void FusedTrainer::train_epoch(const float* x, const float* y, const float* weights,
                               const int64_t* order, int64_t n, int64_t batch_size,
                               const Pcg64Seed* seeds, double learning_rate,
                               OptimizerState* state, double* out) {
  const ScopedFlushDenormals flush;  // see fused_trainer.h
  if (!plan_.train) throw std::logic_error("this fused plan was built for inference only");
  if (dropout_count() > 0 && !seeds) throw std::invalid_argument("dropout stages need seeds");
  if (batch_size < 1 || batch_size > plan_.max_batch) {
    throw std::invalid_argument("batch_size out of range");
  }
  const int64_t stride = 1 + metric_count();
  for (int64_t start = 0, b = 0; start < n; start += batch_size, ++b) {
    const int64_t rows = std::min(batch_size, n - start);
    const int64_t next_rows = std::min(batch_size, std::max<int64_t>(0, n - start - batch_size));
    step(Batch{x, y, weights, order + start, rows, next_rows ? order + start + rows : nullptr,
               next_rows, seeds ? seeds + b * dropout_count() : nullptr},
         learning_rate, state, out + b * stride);
  }
}

void FusedTrainer::evaluate_batch(const float* x, const float* y, const float* weights,
                                  int64_t rows, double* out) {
  const ScopedFlushDenormals flush;  // see fused_trainer.h
  if (rows < 1 || rows > plan_.max_batch) throw std::invalid_argument("rows out of range");
  Lane& lane = lanes_[0];
  if (weights) std::memcpy(row_weight_.data(), weights, sizeof(float) * rows);
  forward(lane, x, rows, 0, false);
  row_values(lane, y, rows, 0);
  sum_values(weights != nullptr, rows, out);
}

void FusedTrainer::evaluate_batches(const float* x, const float* y, const float* weights,
                                    int64_t rows, int64_t batch_size, double* out) {
  const ScopedFlushDenormals flush;  // see fused_trainer.h
  if (batch_size < 1 || batch_size > plan_.max_batch) {
    throw std::invalid_argument("batch_size out of range");
  }
  const int64_t in = input_width(), label_cols = label_width(), stride = 1 + metric_count();
  for (int64_t start = 0, b = 0; start < rows; start += batch_size, ++b) {
    evaluate_batch(x + start * in, y + start * label_cols, weights ? weights + start : nullptr,
                   std::min(batch_size, rows - start), out + b * stride);
  }
}

void FusedTrainer::predict(const float* x, int64_t rows, float* out) {
  const ScopedFlushDenormals flush;  // see fused_trainer.h
  const int64_t in = input_width();
  const int64_t cols = output_width();
  for (int64_t start = 0; start < rows; start += plan_.max_batch) {
    const int64_t chunk = std::min(plan_.max_batch, rows - start);
    forward(lanes_[0], x + start * in, chunk, 0, false);
    std::memcpy(out + start * cols, lanes_[0].outputs.back().data(),
                sizeof(float) * chunk * cols);
  }
}

}  // namespace lamina
