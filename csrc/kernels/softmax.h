// Softmax and the cross-entropy losses, row-wise over a row-major [rows, cols] float32
// matrix (one row = one sample, one column = one class).
//
// Each row is computed by one thread, in one fixed order, whatever the thread count: results
// are identical run to run and across thread counts for the same ISA variant. The scalar
// variant sums each row left to right, as TF.js's CPU backend does; the SIMD variants keep
// 8 or 16 partial sums per row, so their last bits may differ from the scalar ones.
//
// Non-finite inputs propagate as IEEE arithmetic makes them (a NaN in a row gives NaN for
// that row); nothing here reads or writes outside the arrays it is given.
#pragma once

#include <cstdint>

namespace lamina {

// y[r,j] = exp(x[r,j] - m_r) / Σ_k exp(x[r,k] - m_r),  m_r = max_k x[r,k].
// y may be x (in place).
void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols);

// The gradient of softmax: dx[r,j] = y[r,j] · (dy[r,j] - Σ_k dy[r,k]·y[r,k]),
// where y is softmax's output. dx may be dy (in place).
void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);

// Softmax cross-entropy from logits z with soft or one-hot labels t (TF.js
// tf.losses.softmaxCrossEntropy before its batch reduction):
//   lse_r        = m_r + log Σ_j exp(z[r,j] - m_r),  m_r = max_j z[r,j]
//   loss[r]      = -Σ_j t[r,j] · (z[r,j] - lse_r)          (log-sum-exp, no log of a softmax)
//   dlogits[r,j] = grad_scale · (softmax(z)[r,j] · Σ_k t[r,k] - t[r,j])
// dlogits is the exact gradient of grad_scale·loss[r]; it equals TF.js's softmax - t when
// each label row sums to 1. Pass grad_scale = 1/rows for the gradient of the batch mean.
// dlogits may be null (loss only). A row of cols == 0 has loss 0.
void softmax_cross_entropy(const float* logits, const float* labels, float* loss, float* dlogits,
                           int64_t rows, int64_t cols, float grad_scale);

// The same with labels[r] the index of row r's class (t[r,j] = 1 if j == labels[r] else 0):
//   loss[r] = lse_r - z[r, labels[r]],  dlogits[r,j] = grad_scale · (softmax(z)[r,j] - [j == labels[r]]).
// A label outside [0, cols) is never used as an index: that row's loss and dlogits are NaN.
// Returns the first such row, or -1 when every label is valid.
int64_t softmax_cross_entropy_sparse(const float* logits, const int32_t* labels, float* loss,
                                     float* dlogits, int64_t rows, int64_t cols, float grad_scale);

// Categorical cross-entropy on probabilities, as TF.js's categoricalCrossentropy loss before
// its batch mean (normalise, then clip), with lo = float(epsilon), hi = float(1 - epsilon):
//   s_r = Σ_j probs[r,j],  p[r,j] = clip(probs[r,j] / s_r, lo, hi)
//   loss[r] = -Σ_j labels[r,j] · log p[r,j]
// Labels are used as given (not normalised). Needs 0 <= epsilon <= 0.5.
void categorical_crossentropy(const float* probs, const float* labels, float* loss, int64_t rows,
                              int64_t cols, double epsilon);

// The gradient of Σ_r w_r·loss[r] with respect to probs, w_r = (dloss ? dloss[r] : 1)·scale,
// following TF.js's graph: clipByValue passes the gradient where lo <= q <= hi (inclusive)
// and 0 elsewhere. With q[r,j] = probs[r,j] / s_r:
//   g[r,j]      = lo <= q[r,j] <= hi ? -w_r · labels[r,j] / p[r,j] : 0
//   dprobs[r,j] = g[r,j] / s_r - (Σ_k g[r,k] · probs[r,k]) / s_r²
void categorical_crossentropy_backward(const float* probs, const float* labels,
                                       const float* dloss, float scale, float* dprobs,
                                       int64_t rows, int64_t cols, double epsilon);

// TF.js's sparseCategoricalCrossentropy: clip first, then categoricalCrossentropy with a
// one-hot label k = labels[r] (which normalises and clips again):
//   c[r,j] = clip(probs[r,j], lo, hi),  s_r = Σ_j c[r,j],  loss[r] = -log clip(c[r,k] / s_r, lo, hi)
// A label outside [0, cols) gives a NaN loss for its row; returns the first such row or -1.
int64_t sparse_categorical_crossentropy(const float* probs, const int32_t* labels, float* loss,
                                        int64_t rows, int64_t cols, double epsilon);

// Its gradient, through both clips and the normalisation, w_r as above:
//   g_r = lo <= c[r,k]/s_r <= hi ? -w_r / clip(c[r,k]/s_r) : 0,   d_r = -(g_r · c[r,k]) / s_r²
//   dprobs[r,j] = lo <= probs[r,j] <= hi ? [j == k] · g_r / s_r + d_r : 0
// Rows with an invalid label get NaN; returns the first such row or -1.
int64_t sparse_categorical_crossentropy_backward(const float* probs, const int32_t* labels,
                                                 const float* dloss, float scale, float* dprobs,
                                                 int64_t rows, int64_t cols, double epsilon);

// One ISA variant's row loops. Each handles `rows` consecutive rows on the calling thread;
// the functions above split the rows over the thread pool and call these. lo/hi are the
// float clip bounds. The sparse ones return the first bad row (relative) or -1.
struct SoftmaxKernels {
  void (*forward)(const float* x, float* y, int64_t rows, int64_t cols);
  void (*backward)(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
  void (*cross_entropy)(const float* logits, const float* labels, float* loss, float* dlogits,
                        int64_t rows, int64_t cols, float grad_scale);
  int64_t (*cross_entropy_sparse)(const float* logits, const int32_t* labels, float* loss,
                                  float* dlogits, int64_t rows, int64_t cols, float grad_scale);
  void (*categorical)(const float* probs, const float* labels, float* loss, int64_t rows,
                      int64_t cols, float lo, float hi);
  void (*categorical_backward)(const float* probs, const float* labels, const float* dloss,
                               float scale, float* dprobs, int64_t rows, int64_t cols, float lo,
                               float hi);
  int64_t (*sparse_categorical)(const float* probs, const int32_t* labels, float* loss,
                                int64_t rows, int64_t cols, float lo, float hi);
  int64_t (*sparse_categorical_backward)(const float* probs, const int32_t* labels,
                                         const float* dloss, float scale, float* dprobs,
                                         int64_t rows, int64_t cols, float lo, float hi);
};

const SoftmaxKernels& softmax_kernels_scalar();
const SoftmaxKernels& softmax_kernels_avx2();
const SoftmaxKernels& softmax_kernels_avx512();

}  // namespace lamina
