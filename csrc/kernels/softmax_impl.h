// The row loops of the softmax family, written once and compiled once per ISA variant.
// Included by softmax_scalar.cc, softmax_avx2.cc and softmax_avx512.cc after they define:
//   LAMINA_SOFTMAX_TABLE   the table function to define (softmax_kernels_<isa>)
//   LAMINA_SOFTMAX_LANES   partial sums kept per reduction: 1 in the scalar reference (a
//                          row then sums left to right, as TF.js's CPU backend does), the
//                          vector width in the SIMD variants, where every reduction and
//                          every exp/log loop below becomes one vector lane per partial sum
//                          (rows narrower than that use 1 lane there too)
//   LAMINA_SOFTMAX_EXP, LAMINA_SOFTMAX_LOG   float -> float
// Each variant's -O3 auto-vectorizes the fixed-width inner loops (`for l < kLanes`); the
// last partial block of a row goes through a padded copy so that its exp/log stay vectorized
// (rows of 10 classes are common).
//
// Everything is in an anonymous namespace (see the rule in kernels/variant.h).
#include <cstdint>

#include "kernels/softmax.h"
#include "kernels/vector_math.h"

namespace lamina {
namespace {

// Partial sums per reduction in rows at least this wide; narrower rows (10 classes is common)
// use one lane, where the vector path would spend most of its time on padding and folding.
constexpr int kVectorLanes = LAMINA_SOFTMAX_LANES;

// Precedes each loop over the lanes of a block. Without it GCC fully unrolls these short
// fixed-count loops into kLanes scalar operations before its loop vectorizer runs; kept as a
// loop, each becomes one vector operation (checked with -fopt-info-vec and the timings).
#define LAMINA_EACH_LANE _Pragma("GCC unroll 1")

inline float exp_f(float x) { return LAMINA_SOFTMAX_EXP(x); }
inline float log_f(float x) { return LAMINA_SOFTMAX_LOG(x); }

// b if b > a, else a: a NaN in b is skipped (a NaN row still ends NaN through its sum).
inline float max_of(float a, float b) { return b > a ? b : a; }

// TF.js's clipByValue: a NaN passes through.
inline float clip(float q, float lo, float hi) { return q > hi ? hi : (q < lo ? lo : q); }

// Where clipByValue passes its gradient (inclusive bounds; false for NaN).
inline bool inside(float q, float lo, float hi) { return q >= lo && q <= hi; }

// Folds the lane partial sums pairwise (half onto half), log2(kLanes) dependent steps
// instead of kLanes: in short rows the final reductions are most of the work.
template <int kLanes>
inline float add_lanes(float* acc) {
  for (int half = kLanes / 2; half >= 1; half /= 2) {
    for (int l = 0; l < half; ++l) acc[l] += acc[l + half];
  }
  return acc[0];
}

template <int kLanes>
float row_max(const float* x, int64_t n) {
  float acc[kLanes];
  LAMINA_EACH_LANE
  for (int l = 0; l < kLanes; ++l) acc[l] = -__builtin_inff();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) acc[l] = max_of(acc[l], x[i + l]);
  }
  for (int l = 0; i + l < n; ++l) acc[l] = max_of(acc[l], x[i + l]);
  for (int half = kLanes / 2; half >= 1; half /= 2) {
    for (int l = 0; l < half; ++l) acc[l] = max_of(acc[l], acc[l + half]);
  }
  return acc[0];
}

template <int kLanes>
float row_sum(const float* x, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) acc[l] += x[i + l];
  }
  for (int l = 0; i + l < n; ++l) acc[l] += x[i + l];
  return add_lanes<kLanes>(acc);
}

// Σ_j clip(x[j], lo, hi)
template <int kLanes>
float row_clipped_sum(const float* x, int64_t n, float lo, float hi) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) acc[l] += clip(x[i + l], lo, hi);
  }
  for (int l = 0; i + l < n; ++l) acc[l] += clip(x[i + l], lo, hi);
  return add_lanes<kLanes>(acc);
}

template <int kLanes>
float row_dot(const float* a, const float* b, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) acc[l] += a[i + l] * b[i + l];
  }
  for (int l = 0; i + l < n; ++l) acc[l] += a[i + l] * b[i + l];
  return add_lanes<kLanes>(acc);
}

// Returns Σ_j exp(x[j] - shift); with kStore also writes each term to y[j].
template <int kLanes, bool kStore>
float exp_shifted_sum(const float* x, float shift, float* y, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) {
      const float e = exp_f(x[i + l] - shift);
      if (kStore) y[i + l] = e;
      acc[l] += e;
    }
  }
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    float in[kLanes], out[kLanes];
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) in[l] = l < rest ? x[i + l] : shift;
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) out[l] = exp_f(in[l] - shift);
    for (int l = 0; l < rest; ++l) {
      if (kStore) y[i + l] = out[l];
      acc[l] += out[l];
    }
  }
  return add_lanes<kLanes>(acc);
}

template <int kLanes>
void forward_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float m = row_max<kLanes>(xr, cols);
    const float s = exp_shifted_sum<kLanes, true>(xr, m, yr, cols);
    for (int64_t j = 0; j < cols; ++j) yr[j] = yr[j] / s;
  }
}

template <int kLanes>
void backward_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    const float* dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    const float dot = row_dot<kLanes>(dyr, yr, cols);
    for (int64_t j = 0; j < cols; ++j) dxr[j] = yr[j] * (dyr[j] - dot);
  }
}

// log Σ_j exp(z[j]); with dlogits also leaves exp(z[j] - max) there, and *sum_exp = that sum.
template <int kLanes>
float log_sum_exp(const float* z, int64_t cols, float* exp_out, float* sum_exp) {
  const float m = row_max<kLanes>(z, cols);
  const float s = exp_out ? exp_shifted_sum<kLanes, true>(z, m, exp_out, cols)
                          : exp_shifted_sum<kLanes, false>(z, m, nullptr, cols);
  *sum_exp = s;
  return m + log_f(s);
}

template <int kLanes>
void cross_entropy_rows(const float* logits, const float* labels, float* loss, float* dlogits,
                        int64_t rows, int64_t cols, float grad_scale) {
  for (int64_t r = 0; r < rows; ++r) {
    if (cols == 0) {
      loss[r] = 0.0f;
      continue;
    }
    const float* z = logits + r * cols;
    const float* t = labels + r * cols;
    float* d = dlogits ? dlogits + r * cols : nullptr;
    float s;
    const float lse = log_sum_exp<kLanes>(z, cols, d, &s);
    // loss = Σ t·(lse - z), the same bits as TF.js's -Σ (z - lse)·t; and Σ t for the gradient.
    float acc_loss[kLanes] = {}, acc_t[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= cols; i += kLanes) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) {
        acc_loss[l] += t[i + l] * (lse - z[i + l]);
        acc_t[l] += t[i + l];
      }
    }
    for (int l = 0; i + l < cols; ++l) {
      acc_loss[l] += t[i + l] * (lse - z[i + l]);
      acc_t[l] += t[i + l];
    }
    loss[r] = add_lanes<kLanes>(acc_loss);
    if (d) {
      const float label_sum = add_lanes<kLanes>(acc_t);
      for (int64_t j = 0; j < cols; ++j) d[j] = grad_scale * ((d[j] / s) * label_sum - t[j]);
    }
  }
}

template <int kLanes>
int64_t cross_entropy_sparse_rows(const float* logits, const int32_t* labels, float* loss,
                                  float* dlogits, int64_t rows, int64_t cols, float grad_scale) {
  int64_t first_bad = -1;
  for (int64_t r = 0; r < rows; ++r) {
    const float* z = logits + r * cols;
    float* d = dlogits ? dlogits + r * cols : nullptr;
    const int64_t k = labels[r];
    if (k < 0 || k >= cols) {
      loss[r] = __builtin_nanf("");
      for (int64_t j = 0; d && j < cols; ++j) d[j] = __builtin_nanf("");
      if (first_bad < 0) first_bad = r;
      continue;
    }
    float s;
    const float lse = log_sum_exp<kLanes>(z, cols, d, &s);
    loss[r] = lse - z[k];
    if (d) {
      const float exp_k = d[k];
      for (int64_t j = 0; j < cols; ++j) d[j] = grad_scale * (d[j] / s);
      d[k] = grad_scale * (exp_k / s - 1.0f);
    }
  }
  return first_bad;
}

template <int kLanes>
void categorical_rows(const float* probs, const float* labels, float* loss, int64_t rows,
                      int64_t cols, float lo, float hi) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* y = probs + r * cols;
    const float* t = labels + r * cols;
    const float s = row_sum<kLanes>(y, cols);
    float acc[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= cols; i += kLanes) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) acc[l] += t[i + l] * log_f(clip(y[i + l] / s, lo, hi));
    }
    if (i < cols) {
      const int rest = static_cast<int>(cols - i);
      float p[kLanes], log_p[kLanes];
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) p[l] = l < rest ? clip(y[i + l] / s, lo, hi) : 1.0f;
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) log_p[l] = log_f(p[l]);
      for (int l = 0; l < rest; ++l) acc[l] += t[i + l] * log_p[l];
    }
    loss[r] = -add_lanes<kLanes>(acc);
  }
}

template <int kLanes>
void categorical_backward_rows(const float* probs, const float* labels, const float* dloss,
                               float scale, float* dprobs, int64_t rows, int64_t cols, float lo,
                               float hi) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* y = probs + r * cols;
    const float* t = labels + r * cols;
    float* dy = dprobs + r * cols;
    const float minus_w = -(dloss ? dloss[r] * scale : scale);
    const float s = row_sum<kLanes>(y, cols);
    // g = gradient reaching q = y/s (through -Σ t·log p and the clip), kept in dy for now;
    // the normalisation then gives g/s from the numerator and -Σ g·y / s² from the sum.
    float acc[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= cols; i += kLanes) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) {
        const float q = y[i + l] / s;
        const float g = inside(q, lo, hi) ? (minus_w * t[i + l]) / clip(q, lo, hi) : 0.0f;
        dy[i + l] = g;
        acc[l] += g * y[i + l];
      }
    }
    for (int l = 0; i + l < cols; ++l) {
      const float q = y[i + l] / s;
      const float g = inside(q, lo, hi) ? (minus_w * t[i + l]) / clip(q, lo, hi) : 0.0f;
      dy[i + l] = g;
      acc[l] += g * y[i + l];
    }
    const float d_sum = -(add_lanes<kLanes>(acc) / (s * s));
    for (int64_t j = 0; j < cols; ++j) dy[j] = dy[j] / s + d_sum;
  }
}

template <int kLanes>
int64_t sparse_categorical_rows(const float* probs, const int32_t* labels, float* loss,
                                int64_t rows, int64_t cols, float lo, float hi) {
  int64_t first_bad = -1;
  for (int64_t r = 0; r < rows; ++r) {
    const float* y = probs + r * cols;
    const int64_t k = labels[r];
    if (k < 0 || k >= cols) {
      loss[r] = __builtin_nanf("");
      if (first_bad < 0) first_bad = r;
      continue;
    }
    const float s = row_clipped_sum<kLanes>(y, cols, lo, hi);
    loss[r] = -log_f(clip(clip(y[k], lo, hi) / s, lo, hi));
  }
  return first_bad;
}

template <int kLanes>
int64_t sparse_categorical_backward_rows(const float* probs, const int32_t* labels,
                                         const float* dloss, float scale, float* dprobs,
                                         int64_t rows, int64_t cols, float lo, float hi) {
  int64_t first_bad = -1;
  for (int64_t r = 0; r < rows; ++r) {
    const float* y = probs + r * cols;
    float* dy = dprobs + r * cols;
    const int64_t k = labels[r];
    if (k < 0 || k >= cols) {
      for (int64_t j = 0; j < cols; ++j) dy[j] = __builtin_nanf("");
      if (first_bad < 0) first_bad = r;
      continue;
    }
    const float minus_w = -(dloss ? dloss[r] * scale : scale);
    const float s = row_clipped_sum<kLanes>(y, cols, lo, hi);
    const float c_k = clip(y[k], lo, hi);
    const float q = c_k / s;
    const float g = inside(q, lo, hi) ? minus_w / clip(q, lo, hi) : 0.0f;
    const float d_sum = -((g * c_k) / (s * s));
    for (int64_t j = 0; j < cols; ++j) dy[j] = inside(y[j], lo, hi) ? d_sum : 0.0f;
    if (inside(y[k], lo, hi)) dy[k] = g / s + d_sum;
  }
  return first_bad;
}

// ---- Narrow rows (under kNarrowMax columns: 10 classes is the common case), kLanes rows at
// a time with one row per lane. Each row is still worked left to right with the one-lane code's
// operations in its order, so the results are those of the <1> functions bit for bit; the
// exp, log and divisions just run across kLanes rows at once. Rows left over after the last
// full block go through the <1> function.

// Rows narrower than this go by row blocks in the SIMD variants (softmax and categorical
// cross-entropy of 32 rows × 10 classes, AVX-512: 0.81 → 0.41 us, 1.09 → 0.43 us; AVX2,
// whose 8 lanes took such rows as one padded vector and a tail: 1.55 → 0.46, 1.93 → 0.62).
constexpr int kNarrowMax = 16;

// t[j][l] = m[l·cols + j]: kLanes rows of a [rows, cols] matrix, column by column.
template <int kLanes>
inline void load_block(const float* m, int64_t cols, float (*t)[kLanes]) {
  for (int64_t j = 0; j < cols; ++j) {
    for (int l = 0; l < kLanes; ++l) t[j][l] = m[l * cols + j];
  }
}

template <int kLanes>
inline void store_block(const float (*t)[kLanes], int64_t cols, float* m) {
  for (int64_t j = 0; j < cols; ++j) {
    for (int l = 0; l < kLanes; ++l) m[l * cols + j] = t[j][l];
  }
}

// Σ_j t[j][l] for each lane, left to right (row_sum<1>'s order).
template <int kLanes>
inline void block_sums(const float (*t)[kLanes], int64_t cols, float* sum) {
  LAMINA_EACH_LANE
  for (int l = 0; l < kLanes; ++l) sum[l] = 0.0f;
  for (int64_t j = 0; j < cols; ++j) {
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) sum[l] += t[j][l];
  }
}

template <int kLanes>
int64_t narrow_blocks(int64_t rows) { return rows / kLanes * kLanes; }

template <int kLanes>
void forward_narrow(const float* x, float* y, int64_t rows, int64_t cols) {
  const int64_t blocked = narrow_blocks<kLanes>(rows);
  for (int64_t r = 0; r < blocked; r += kLanes) {
    float t[kNarrowMax][kLanes], m[kLanes], s[kLanes];
    load_block<kLanes>(x + r * cols, cols, t);
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) m[l] = -__builtin_inff();
    for (int64_t j = 0; j < cols; ++j) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) m[l] = max_of(m[l], t[j][l]);
    }
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) s[l] = 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) {
        t[j][l] = exp_f(t[j][l] - m[l]);
        s[l] += t[j][l];
      }
    }
    for (int64_t j = 0; j < cols; ++j) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) t[j][l] = t[j][l] / s[l];
    }
    store_block<kLanes>(t, cols, y + r * cols);
  }
  forward_rows<1>(x + blocked * cols, y + blocked * cols, rows - blocked, cols);
}

template <int kLanes>
void categorical_narrow(const float* probs, const float* labels, float* loss, int64_t rows,
                        int64_t cols, float lo, float hi) {
  const int64_t blocked = narrow_blocks<kLanes>(rows);
  for (int64_t r = 0; r < blocked; r += kLanes) {
    float ty[kNarrowMax][kLanes], tt[kNarrowMax][kLanes], s[kLanes], acc[kLanes];
    load_block<kLanes>(probs + r * cols, cols, ty);
    load_block<kLanes>(labels + r * cols, cols, tt);
    block_sums<kLanes>(ty, cols, s);
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) acc[l] = 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) acc[l] += tt[j][l] * log_f(clip(ty[j][l] / s[l], lo, hi));
    }
    for (int l = 0; l < kLanes; ++l) loss[r + l] = -acc[l];
  }
  categorical_rows<1>(probs + blocked * cols, labels + blocked * cols, loss + blocked,
                      rows - blocked, cols, lo, hi);
}

template <int kLanes>
void categorical_backward_narrow(const float* probs, const float* labels, const float* dloss,
                                 float scale, float* dprobs, int64_t rows, int64_t cols, float lo,
                                 float hi) {
  const int64_t blocked = narrow_blocks<kLanes>(rows);
  for (int64_t r = 0; r < blocked; r += kLanes) {
    float ty[kNarrowMax][kLanes], tt[kNarrowMax][kLanes], s[kLanes], w[kLanes], acc[kLanes];
    load_block<kLanes>(probs + r * cols, cols, ty);
    load_block<kLanes>(labels + r * cols, cols, tt);
    block_sums<kLanes>(ty, cols, s);
    for (int l = 0; l < kLanes; ++l) w[l] = -(dloss ? dloss[r + l] * scale : scale);
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) acc[l] = 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) {
        const float q = ty[j][l] / s[l];
        const float g = inside(q, lo, hi) ? (w[l] * tt[j][l]) / clip(q, lo, hi) : 0.0f;
        acc[l] += g * ty[j][l];
        tt[j][l] = g;
      }
    }
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) acc[l] = -(acc[l] / (s[l] * s[l]));
    for (int64_t j = 0; j < cols; ++j) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) tt[j][l] = tt[j][l] / s[l] + acc[l];
    }
    store_block<kLanes>(tt, cols, dprobs + r * cols);
  }
  categorical_backward_rows<1>(probs + blocked * cols, labels + blocked * cols,
                               dloss ? dloss + blocked : nullptr, scale, dprobs + blocked * cols,
                               rows - blocked, cols, lo, hi);
}

// True when every label of rows [r, r + kLanes) is a class index; a block with a bad label
// goes through the <1> function, which makes those rows NaN and reports the first.
template <int kLanes>
bool block_labels_valid(const int32_t* labels, int64_t r, int64_t cols) {
  bool valid = true;
  for (int l = 0; l < kLanes; ++l) valid = valid && labels[r + l] >= 0 && labels[r + l] < cols;
  return valid;
}

template <int kLanes>
int64_t sparse_categorical_narrow(const float* probs, const int32_t* labels, float* loss,
                                  int64_t rows, int64_t cols, float lo, float hi) {
  int64_t first_bad = -1;
  const int64_t blocked = narrow_blocks<kLanes>(rows);
  for (int64_t r = 0; r < blocked; r += kLanes) {
    if (!block_labels_valid<kLanes>(labels, r, cols)) {
      const int64_t bad = sparse_categorical_rows<1>(probs + r * cols, labels + r, loss + r, kLanes,
                                                     cols, lo, hi);
      if (first_bad < 0 && bad >= 0) first_bad = r + bad;
      continue;
    }
    float ty[kNarrowMax][kLanes], s[kLanes], c_k[kLanes];
    load_block<kLanes>(probs + r * cols, cols, ty);
    for (int64_t j = 0; j < cols; ++j) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) ty[j][l] = clip(ty[j][l], lo, hi);
    }
    block_sums<kLanes>(ty, cols, s);
    for (int l = 0; l < kLanes; ++l) c_k[l] = ty[labels[r + l]][l];
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) s[l] = -log_f(clip(c_k[l] / s[l], lo, hi));
    for (int l = 0; l < kLanes; ++l) loss[r + l] = s[l];
  }
  const int64_t bad = sparse_categorical_rows<1>(probs + blocked * cols, labels + blocked,
                                                 loss + blocked, rows - blocked, cols, lo, hi);
  if (first_bad < 0 && bad >= 0) first_bad = blocked + bad;
  return first_bad;
}

template <int kLanes>
int64_t sparse_categorical_backward_narrow(const float* probs, const int32_t* labels,
                                           const float* dloss, float scale, float* dprobs,
                                           int64_t rows, int64_t cols, float lo, float hi) {
  int64_t first_bad = -1;
  const int64_t blocked = narrow_blocks<kLanes>(rows);
  for (int64_t r = 0; r < blocked; r += kLanes) {
    if (!block_labels_valid<kLanes>(labels, r, cols)) {
      const int64_t bad = sparse_categorical_backward_rows<1>(
          probs + r * cols, labels + r, dloss ? dloss + r : nullptr, scale, dprobs + r * cols,
          kLanes, cols, lo, hi);
      if (first_bad < 0 && bad >= 0) first_bad = r + bad;
      continue;
    }
    float ty[kNarrowMax][kLanes], tc[kNarrowMax][kLanes], s[kLanes], g[kLanes], d_sum[kLanes];
    float c_k[kLanes], minus_w[kLanes];
    load_block<kLanes>(probs + r * cols, cols, ty);
    for (int64_t j = 0; j < cols; ++j) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) tc[j][l] = clip(ty[j][l], lo, hi);
    }
    block_sums<kLanes>(tc, cols, s);
    for (int l = 0; l < kLanes; ++l) {
      c_k[l] = tc[labels[r + l]][l];
      minus_w[l] = -(dloss ? dloss[r + l] * scale : scale);
    }
    LAMINA_EACH_LANE
    for (int l = 0; l < kLanes; ++l) {
      const float q = c_k[l] / s[l];
      g[l] = inside(q, lo, hi) ? minus_w[l] / clip(q, lo, hi) : 0.0f;
      d_sum[l] = -((g[l] * c_k[l]) / (s[l] * s[l]));
    }
    for (int64_t j = 0; j < cols; ++j) {
      LAMINA_EACH_LANE
      for (int l = 0; l < kLanes; ++l) tc[j][l] = inside(ty[j][l], lo, hi) ? d_sum[l] : 0.0f;
    }
    for (int l = 0; l < kLanes; ++l) {
      const int64_t k = labels[r + l];
      if (inside(ty[k][l], lo, hi)) tc[k][l] = g[l] / s[l] + d_sum[l];
    }
    store_block<kLanes>(tc, cols, dprobs + r * cols);
  }
  const int64_t bad = sparse_categorical_backward_rows<1>(
      probs + blocked * cols, labels + blocked, dloss ? dloss + blocked : nullptr, scale,
      dprobs + blocked * cols, rows - blocked, cols, lo, hi);
  if (first_bad < 0 && bad >= 0) first_bad = blocked + bad;
  return first_bad;
}

// The table's entries: pick the lane count from the row width.
#define LAMINA_BY_WIDTH(fn, ...) \
  (cols < kVectorLanes ? fn<1>(__VA_ARGS__) : fn<kVectorLanes>(__VA_ARGS__))
// The same, with rows narrower than the lanes taken kVectorLanes rows at a time (SIMD variants).
#define LAMINA_BY_SHAPE(fn, ...)                                                   \
  (kVectorLanes > 1 && cols < kNarrowMax ? fn##_narrow<kVectorLanes>(__VA_ARGS__)    \
   : LAMINA_BY_WIDTH(fn##_rows, __VA_ARGS__))

void forward(const float* x, float* y, int64_t rows, int64_t cols) {
  LAMINA_BY_SHAPE(forward, x, y, rows, cols);
}
void backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  // No exp or log to share out: one row at a time beats the row blocks' transposes here.
  if (cols < kNarrowMax) {
    backward_rows<1>(y, dy, dx, rows, cols);
  } else {
    LAMINA_BY_WIDTH(backward_rows, y, dy, dx, rows, cols);
  }
}
void cross_entropy(const float* logits, const float* labels, float* loss, float* dlogits,
                   int64_t rows, int64_t cols, float grad_scale) {
  LAMINA_BY_WIDTH(cross_entropy_rows, logits, labels, loss, dlogits, rows, cols, grad_scale);
}
int64_t cross_entropy_sparse(const float* logits, const int32_t* labels, float* loss,
                             float* dlogits, int64_t rows, int64_t cols, float grad_scale) {
  return LAMINA_BY_WIDTH(cross_entropy_sparse_rows, logits, labels, loss, dlogits, rows, cols,
                         grad_scale);
}
void categorical(const float* probs, const float* labels, float* loss, int64_t rows, int64_t cols,
                 float lo, float hi) {
  LAMINA_BY_SHAPE(categorical, probs, labels, loss, rows, cols, lo, hi);
}
void categorical_backward(const float* probs, const float* labels, const float* dloss,
                          float scale, float* dprobs, int64_t rows, int64_t cols, float lo,
                          float hi) {
  LAMINA_BY_SHAPE(categorical_backward, probs, labels, dloss, scale, dprobs, rows, cols, lo, hi);
}
int64_t sparse_categorical(const float* probs, const int32_t* labels, float* loss, int64_t rows,
                           int64_t cols, float lo, float hi) {
  return LAMINA_BY_SHAPE(sparse_categorical, probs, labels, loss, rows, cols, lo, hi);
}
int64_t sparse_categorical_backward(const float* probs, const int32_t* labels, const float* dloss,
                                    float scale, float* dprobs, int64_t rows, int64_t cols,
                                    float lo, float hi) {
  return LAMINA_BY_SHAPE(sparse_categorical_backward, probs, labels, dloss, scale, dprobs, rows, cols,
                         lo, hi);
}

#undef LAMINA_BY_WIDTH
#undef LAMINA_BY_SHAPE

}  // namespace

const SoftmaxKernels& LAMINA_SOFTMAX_TABLE() {
  static const SoftmaxKernels kernels{forward,       backward,           cross_entropy,
                                      cross_entropy_sparse, categorical, categorical_backward,
                                      sparse_categorical,   sparse_categorical_backward};
  return kernels;
}

}  // namespace lamina
