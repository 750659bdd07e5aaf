// AVX-512F GEMM tile: 8 rows × 32 columns held in 16 zmm accumulators. Each k step loads two
// vectors of B and broadcasts eight values of A straight from memory into the FMAs.
#include <immintrin.h>

#include "kernels/gemm.h"

namespace lamina {
namespace {

constexpr int kMr = 8;
constexpr int kNr = 32;

// kFullWidth: all 32 columns valid, so B loads need no mask. One function holds the whole
// tile (accumulators, k loop, stores) so that the accumulators live in registers throughout.
template <bool kFullWidth>
inline void tile(int64_t k, const float* a, int64_t a_row, int64_t a_step, const float* b,
                 int64_t b_step, float* c, int64_t ldc, int rows, int cols, float alpha,
                 float beta) {
  // C is written once per k block, long after it was last touched: fetch its lines now so
  // the misses overlap the k loop instead of stalling the stores.
  // (A short k loop could not hide the misses anyway.)
  if (k >= 64) {
    for (int i = 0; i < rows; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
    }
  }
  const __mmask16 lo = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
  const __mmask16 hi = cols >= 32 ? __mmask16(0xFFFF)
                       : cols > 16 ? __mmask16((1u << (cols - 16)) - 1)
                                   : __mmask16(0);
  __m512 acc[kMr][2];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    const __m512 b0 = kFullWidth ? _mm512_loadu_ps(b) : _mm512_maskz_loadu_ps(lo, b);
    const __m512 b1 = kFullWidth ? _mm512_loadu_ps(b + 16) : _mm512_maskz_loadu_ps(hi, b + 16);
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i * a_row]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += a_step;
    b += b_step;
  }
  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i) {
    if (i < rows) {
      float* ci = c + i * ldc;
      __m512 r0 = alpha == 1.0f ? acc[i][0] : _mm512_mul_ps(va, acc[i][0]);
      __m512 r1 = alpha == 1.0f ? acc[i][1] : _mm512_mul_ps(va, acc[i][1]);
      if (beta != 0.0f) {
        r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(lo, ci), r0);
        r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(hi, ci + 16), r1);
      }
      _mm512_mask_storeu_ps(ci, lo, r0);
      _mm512_mask_storeu_ps(ci + 16, hi, r1);
    }
  }
}

void tile_avx512(int64_t k, const float* a, int64_t a_row, int64_t a_step, const float* b,
                 int64_t b_step, float* c, int64_t ldc, int rows, int cols, float alpha,
                 float beta) {
  if (cols == kNr) {
    tile<true>(k, a, a_row, a_step, b, b_step, c, ldc, rows, cols, alpha, beta);
  } else {
    tile<false>(k, a, a_row, a_step, b, b_step, c, ldc, rows, cols, alpha, beta);
  }
}

// 8×8 transpose of rows r[0..7] (8 floats each) in AVX registers.
inline void transpose8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// dst[p*dst_step + i] = src[i*ld + p] for i < 8 (rows >= count are zero), p < k.
inline void transpose_pack8(int64_t k, const float* src, int64_t ld, int count, float* dst,
                            int64_t dst_step) {
  const float* row[8];
  for (int i = 0; i < 8; ++i) row[i] = i < count ? src + i * ld : nullptr;
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i) r[i] = row[i] ? _mm256_loadu_ps(row[i] + p) : _mm256_setzero_ps();
    transpose8(r);
    for (int q = 0; q < 8; ++q) _mm256_storeu_ps(dst + (p + q) * dst_step, r[q]);
  }
  for (; p < k; ++p) {
    for (int i = 0; i < 8; ++i) dst[p * dst_step + i] = row[i] ? row[i][p] : 0.0f;
  }
}

void pack_a_rows_avx512(int64_t k, const float* a, int64_t lda, int rows, float* dst) {
  transpose_pack8(k, a, lda, rows, dst, kMr);
}

void pack_b_cols_avx512(int64_t k, const float* b, int64_t ldb, int cols, float* dst) {
  for (int j0 = 0; j0 < kNr; j0 += 8) {
    int count = cols - j0;
    count = count < 0 ? 0 : (count > 8 ? 8 : count);
    transpose_pack8(k, b + (count > 0 ? j0 * ldb : 0), ldb, count, dst + j0, kNr);
  }
}

}  // namespace

const GemmKernels& gemm_kernels_avx512() {
  static const GemmKernels kernels{kMr, kNr, tile_avx512, pack_a_rows_avx512, pack_b_cols_avx512};
  return kernels;
}

}  // namespace lamina
