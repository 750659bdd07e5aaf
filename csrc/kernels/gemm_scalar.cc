// The scalar GEMM tile: the reference every SIMD variant is tested against, and the path
// on CPUs without AVX2 (and on ARM).
#include "kernels/gemm.h"

namespace lamina {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 8;

void tile_scalar(int64_t k, const float* a, int64_t a_row, int64_t a_step, const float* b, int64_t b_step,
                 float* c, int64_t ldc, int rows, int cols, float alpha, float beta) {
  float acc[kMr][kNr] = {};
  for (int64_t p = 0; p < k; ++p) {
    const float* ap = a + p * a_step;
    const float* bp = b + p * b_step;
    for (int i = 0; i < kMr; ++i) {
      for (int j = 0; j < cols; ++j) acc[i][j] += ap[i * a_row] * bp[j];
    }
  }
  for (int i = 0; i < rows; ++i) {
    float* ci = c + i * ldc;
    for (int j = 0; j < cols; ++j) {
      ci[j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * ci[j];
    }
  }
}

}  // namespace

const GemmKernels& gemm_kernels_scalar() {
  static const GemmKernels kernels{kMr, kNr, tile_scalar, nullptr, nullptr};
  return kernels;
}

}  // namespace lamina
