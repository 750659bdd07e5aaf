// AVX2+FMA GEMM tile: 6 rows × 16 columns held in 12 ymm accumulators.
#include <immintrin.h>

#include "kernels/gemm.h"

namespace lamina {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

inline __m256i lane_mask(int count) {
  // Lanes [0, count) all ones; count is clamped to [0, 8].
  count = count < 0 ? 0 : (count > 8 ? 8 : count);
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), idx);
}

void tile_avx2(int64_t k, const float* a, int64_t a_row, int64_t a_step, const float* b, int64_t b_step,
               float* c, int64_t ldc, int rows, int cols, float alpha, float beta) {
  __m256 acc[kMr][2];
  for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  const __m256i lo = lane_mask(cols);
  const __m256i hi = lane_mask(cols - 8);
  if (cols == kNr) {
    for (int64_t p = 0; p < k; ++p) {
      __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
      for (int i = 0; i < kMr; ++i) {
        __m256 ai = _mm256_broadcast_ss(a + i * a_row);
        acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
      }
      a += a_step;
      b += b_step;
    }
  } else {
    for (int64_t p = 0; p < k; ++p) {
      __m256 b0 = _mm256_maskload_ps(b, lo), b1 = _mm256_maskload_ps(b + 8, hi);
#pragma GCC unroll 6
      for (int i = 0; i < kMr; ++i) {
        __m256 ai = _mm256_broadcast_ss(a + i * a_row);
        acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
      }
      a += a_step;
      b += b_step;
    }
  }
  const __m256 va = _mm256_set1_ps(alpha);
  const __m256 vb = _mm256_set1_ps(beta);
  for (int i = 0; i < rows; ++i) {
    float* ci = c + i * ldc;
    __m256 r0 = _mm256_mul_ps(va, acc[i][0]);
    __m256 r1 = _mm256_mul_ps(va, acc[i][1]);
    if (beta != 0.0f) {
      r0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(ci, lo), r0);
      r1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(ci + 8, hi), r1);
    }
    _mm256_maskstore_ps(ci, lo, r0);
    _mm256_maskstore_ps(ci + 8, hi, r1);
  }
}

}  // namespace

const GemmKernels& gemm_kernels_avx2() {
  static const GemmKernels kernels{kMr, kNr, tile_avx2, nullptr, nullptr};
  return kernels;
}

}  // namespace lamina
