// Single-precision matrix product, row-major:
//   C[m×n] = alpha · op(A) · op(B) + beta · C
// op(A) is m×k: A is stored m×k (lda >= k) or, with trans_a, k×m (lda >= m).
// op(B) is k×n: B is stored k×n (ldb >= n) or, with trans_b, n×k (ldb >= k).
// When beta == 0, C is only written (NaN or garbage in C does not leak into the result),
// as in BLAS. m, n or k may be 0. Each element of C is summed in one fixed order that does
// not depend on the thread count, so results are identical run to run and across thread
// counts for the same ISA variant.
#pragma once

#include <cstdint>

namespace lamina {

// Called once for every finished block of C (after the last k step), while the block is
// still in cache: `c` points at element (row, col) and the block is rows×cols with row
// stride ldc. The dense forward uses it to add the bias and apply the activation in place.
struct GemmEpilogue {
  void (*fn)(void* context, float* c, int64_t ldc, int64_t row, int64_t col, int64_t rows,
             int64_t cols) = nullptr;
  void* context = nullptr;
};

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc, const GemmEpilogue& epilogue = GemmEpilogue());

// One ISA variant's register tile and packing routines.
struct GemmKernels {
  int mr;  // rows of the register tile
  int nr;  // columns of the register tile

  // For p < k, i < mr, j < nr, with A(i, p) = a[i*a_row + p*a_step], B(p, j) = b[p*b_step + j]:
  //   c[i*ldc + j] = alpha * sum_p A(i, p) * B(p, j) + beta * c[i*ldc + j]
  // for i < rows and j < cols only (rows <= mr, cols <= nr). B is read only in columns
  // j < cols, A in all mr rows. c is not read when beta == 0.
  // A packed panel has a_row = 1, a_step = mr; op(A) read in place has a_row = 1,
  // a_step = lda (transposed) or a_row = lda, a_step = 1 (not transposed).
  void (*tile)(int64_t k, const float* a, int64_t a_row, int64_t a_step, const float* b,
               int64_t b_step, float* c, int64_t ldc, int rows, int cols, float alpha, float beta);

  // dst[p*mr + i] = a[i*lda + p] for i < rows, 0 for rows <= i < mr; p < k.
  // (A row-major, not transposed: the one layout that needs a transpose to pack.)
  // May be null: the driver then uses its portable packer.
  void (*pack_a_rows)(int64_t k, const float* a, int64_t lda, int rows, float* dst);

  // dst[p*nr + j] = b[j*ldb + p] for j < cols, 0 for cols <= j < nr; p < k.
  // (B transposed.) May be null, as above.
  void (*pack_b_cols)(int64_t k, const float* b, int64_t ldb, int cols, float* dst);
};

const GemmKernels& gemm_kernels_scalar();
const GemmKernels& gemm_kernels_avx2();
const GemmKernels& gemm_kernels_avx512();

}  // namespace lamina
