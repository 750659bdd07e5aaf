// The softmax family's driver: picks the ISA variant and splits the rows over the thread
// pool. Rows are independent and each is computed whole by one task, so how the rows are
// split never changes a result.
#include "kernels/softmax.h"

#include <algorithm>
#include <atomic>
#include <limits>

#include "kernels/variant.h"
#include "runtime/thread_pool.h"

namespace lamina {

namespace {

// Below this many elements per task, a thread costs more than it saves.
constexpr int64_t kMinElementsPerTask = 16 * 1024;

const SoftmaxKernels& kernels() { return LAMINA_PICK_VARIANT(active_isa(), softmax_kernels); }

// Calls body(first_row, row_count) for consecutive chunks covering [0, rows).
template <class Body>
void for_row_chunks(int64_t rows, int64_t cols, Body&& body) {
  if (rows <= 0) return;
  const int64_t work = rows * std::max<int64_t>(cols, 1);
  const int64_t tasks =
      std::min<int64_t>({rows, work / kMinElementsPerTask, static_cast<int64_t>(get_num_threads())});
  if (tasks <= 1) {
    body(0, rows);
    return;
  }
  const int64_t rows_per_task = (rows + tasks - 1) / tasks;
  const int64_t n_tasks = (rows + rows_per_task - 1) / rows_per_task;
  parallel_for(n_tasks, [&](int64_t task) {
    const int64_t first = task * rows_per_task;
    body(first, std::min(rows_per_task, rows - first));
  });
}

// Runs a row function that returns its first bad row (relative to its chunk) or -1, and
// returns the first bad row overall or -1: the minimum, whichever task finishes first.
template <class RowFn>
int64_t first_bad_row(int64_t rows, int64_t cols, RowFn&& row_fn) {
  constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
  std::atomic<int64_t> first{kNone};
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t n) {
    const int64_t bad = row_fn(r0, n);
    if (bad < 0) return;
    int64_t seen = first.load();
    while (r0 + bad < seen && !first.compare_exchange_weak(seen, r0 + bad)) {
    }
  });
  const int64_t result = first.load();
  return result == kNone ? -1 : result;
}

struct ClipBounds {
  float lo, hi;
};

// TF.js clips to [epsilon, 1 - epsilon] computed in double, applied to float32 values.
ClipBounds clip_bounds(double epsilon) {
  return {static_cast<float>(epsilon), static_cast<float>(1.0 - epsilon)};
}

}  // namespace

void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols) {
  const SoftmaxKernels& k = kernels();
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t n) {
    k.forward(x + r0 * cols, y + r0 * cols, n, cols);
  });
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  const SoftmaxKernels& k = kernels();
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t n) {
    k.backward(y + r0 * cols, dy + r0 * cols, dx + r0 * cols, n, cols);
  });
}

void softmax_cross_entropy(const float* logits, const float* labels, float* loss, float* dlogits,
                           int64_t rows, int64_t cols, float grad_scale) {
  const SoftmaxKernels& k = kernels();
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t n) {
    k.cross_entropy(logits + r0 * cols, labels + r0 * cols, loss + r0,
                    dlogits ? dlogits + r0 * cols : nullptr, n, cols, grad_scale);
  });
}

int64_t softmax_cross_entropy_sparse(const float* logits, const int32_t* labels, float* loss,
                                     float* dlogits, int64_t rows, int64_t cols,
                                     float grad_scale) {
  const SoftmaxKernels& k = kernels();
  return first_bad_row(rows, cols, [&](int64_t r0, int64_t n) {
    return k.cross_entropy_sparse(logits + r0 * cols, labels + r0, loss + r0,
                                  dlogits ? dlogits + r0 * cols : nullptr, n, cols, grad_scale);
  });
}

void categorical_crossentropy(const float* probs, const float* labels, float* loss, int64_t rows,
                              int64_t cols, double epsilon) {
  const SoftmaxKernels& k = kernels();
  const ClipBounds b = clip_bounds(epsilon);
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t n) {
    k.categorical(probs + r0 * cols, labels + r0 * cols, loss + r0, n, cols, b.lo, b.hi);
  });
}

void categorical_crossentropy_backward(const float* probs, const float* labels,
                                       const float* dloss, float scale, float* dprobs,
                                       int64_t rows, int64_t cols, double epsilon) {
  const SoftmaxKernels& k = kernels();
  const ClipBounds b = clip_bounds(epsilon);
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t n) {
    k.categorical_backward(probs + r0 * cols, labels + r0 * cols, dloss ? dloss + r0 : nullptr,
                           scale, dprobs + r0 * cols, n, cols, b.lo, b.hi);
  });
}

int64_t sparse_categorical_crossentropy(const float* probs, const int32_t* labels, float* loss,
                                        int64_t rows, int64_t cols, double epsilon) {
  const SoftmaxKernels& k = kernels();
  const ClipBounds b = clip_bounds(epsilon);
  return first_bad_row(rows, cols, [&](int64_t r0, int64_t n) {
    return k.sparse_categorical(probs + r0 * cols, labels + r0, loss + r0, n, cols, b.lo, b.hi);
  });
}

int64_t sparse_categorical_crossentropy_backward(const float* probs, const int32_t* labels,
                                                 const float* dloss, float scale, float* dprobs,
                                                 int64_t rows, int64_t cols, double epsilon) {
  const SoftmaxKernels& k = kernels();
  const ClipBounds b = clip_bounds(epsilon);
  return first_bad_row(rows, cols, [&](int64_t r0, int64_t n) {
    return k.sparse_categorical_backward(probs + r0 * cols, labels + r0,
                                         dloss ? dloss + r0 : nullptr, scale,
                                         dprobs + r0 * cols, n, cols, b.lo, b.hi);
  });
}

}  // namespace lamina
