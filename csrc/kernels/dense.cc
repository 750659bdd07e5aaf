// Dense layer: GEMMs with trans flags (no explicit transposes) and the activation kernels.
#include "kernels/dense.h"

#include <algorithm>

#include "kernels/gemm.h"
#include "runtime/thread_pool.h"

namespace lamina {

namespace {

struct ForwardEpilogue {
  const ActivationKernels* kern;
  Activation act;
  const float* bias;  // [out] or null
  float* z;           // [batch, out] or null
  int64_t out;
};

// Called by gemm for every finished block of Y: rows × cols at (row, col).
void apply_bias_and_activation(void* context, float* c, int64_t ldc, int64_t row, int64_t col,
                               int64_t rows, int64_t cols) {
  const ForwardEpilogue& e = *static_cast<const ForwardEpilogue*>(context);
  for (int64_t i = 0; i < rows; ++i) {
    float* z_row = e.z ? e.z + (row + i) * e.out + col : nullptr;
    e.kern->bias_forward(e.act, e.bias ? e.bias + col : nullptr, c + i * ldc, z_row, cols);
  }
}

// Columns per task of the bias-gradient sum: a multiple of every vector width.
constexpr int64_t kBiasColumnsPerTask = 64;


}  // namespace

void column_sums(const float* dz, float* db, int64_t batch, int64_t out, bool accumulate) {
  auto sum_columns = [&](int64_t task) {
    const int64_t begin = task * kBiasColumnsPerTask;
    const int64_t end = std::min(out, begin + kBiasColumnsPerTask);
    float sums[kBiasColumnsPerTask];
    for (int64_t j = begin; j < end; ++j) sums[j - begin] = accumulate ? db[j] : 0.0f;
    for (int64_t i = 0; i < batch; ++i) {
      const float* row = dz + i * out;
      for (int64_t j = begin; j < end; ++j) sums[j - begin] += row[j];
    }
    for (int64_t j = begin; j < end; ++j) db[j] = sums[j - begin];
  };
  const int64_t tasks = (out + kBiasColumnsPerTask - 1) / kBiasColumnsPerTask;
  if (tasks > 1 && batch * out >= 65536 && get_num_threads() > 1) {
    parallel_for(tasks, sum_columns);
  } else {
    for (int64_t t = 0; t < tasks; ++t) sum_columns(t);
  }
}

void dense_forward(const float* x, const float* w, const float* b, float* y, float* z,
                   int64_t batch, int64_t in, int64_t out, Activation act) {
  if (batch <= 0 || out <= 0) return;
  ForwardEpilogue context{&activation_kernels(), act, b, z, out};
  GemmEpilogue epilogue;
  if (b || z || act != Activation::linear) {
    epilogue.fn = apply_bias_and_activation;
    epilogue.context = &context;
  }
  gemm(false, false, batch, out, in, 1.0f, x, in, w, out, 0.0f, y, out, epilogue);
}

void dense_backward(const float* x, const float* w, const float* y, const float* z,
                    const float* dy, float* dz_scratch, float* dw, float* db, float* dx,
                    int64_t batch, int64_t in, int64_t out, Activation act, bool accumulate) {
  const float* dz = dy;
  if (act != Activation::linear && batch > 0) {
    activation_backward(act, z, y, dy, dz_scratch, batch * out);
    dz = dz_scratch;
  }
  const float beta = accumulate ? 1.0f : 0.0f;
  // dW [in, out] = Xᵀ [in, batch] · dZ [batch, out]
  gemm(true, false, in, out, batch, 1.0f, x, in, dz, out, beta, dw, out);
  if (db) column_sums(dz, db, batch, out, accumulate);
  // dX [batch, in] = dZ [batch, out] · Wᵀ [out, in]
  if (dx) gemm(false, true, batch, in, out, 1.0f, dz, out, w, out, 0.0f, dx, in);
}

}  // namespace lamina
