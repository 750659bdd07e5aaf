// The GEMM driver shared by every ISA variant: blocking, packing and threads. Only the
// register tile and the transposing packers differ between variants (gemm_<isa>.cc).
//
// Loop nest, per block of B (kc rows × nc columns):
//   pack B (in parallel, unless it can be read in place)
//   parallel over chunks of row tiles:
//     for each row tile: pack its A panel (kc × mr, stays in L1), unless it can be read in place
//       for each column tile of the block: tile(kc) into C
#include "kernels/gemm.h"

#include <algorithm>
#include <vector>

#include "kernels/variant.h"
#include "runtime/thread_pool.h"

namespace lamina {

namespace {

// Block sizes: a packed panel of B (kKc × nr) stays in L1 while the tile runs down a block
// of A (kMc × kKc, in L2); a packed block of B (kKc × kNc) is shared by all threads.
constexpr int64_t kKc = 256;
constexpr int64_t kMc = 192;
constexpr int64_t kNc = 4096;
constexpr double kMinFlopsPerThread = 256 * 1024;  // below this, one thread is faster

float* grow(std::vector<float>& buffer, size_t n) {
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

// Scratch space, kept between calls so the hot path does not allocate.
thread_local std::vector<float> tls_a_panel;
thread_local std::vector<float> tls_b_block;

// dst[p*mr + i] = op(A)(row0 + i, p0 + p), zero-padded to mr rows.
void pack_a(const GemmKernels& kern, bool trans_a, const float* a, int64_t lda, int64_t row0,
            int rows, int64_t p0, int64_t kc, float* dst) {
  const int mr = kern.mr;
  if (trans_a) {  // column p of op(A) is contiguous: a straight copy per step
    const float* src = a + p0 * lda + row0;
    for (int64_t p = 0; p < kc; ++p, src += lda, dst += mr) {
      for (int i = 0; i < rows; ++i) dst[i] = src[i];
      for (int i = rows; i < mr; ++i) dst[i] = 0.0f;
    }
  } else if (kern.pack_a_rows) {
    kern.pack_a_rows(kc, a + row0 * lda + p0, lda, rows, dst);
  } else {
    for (int i = 0; i < mr; ++i) {
      const float* src = a + (row0 + i) * lda + p0;
      for (int64_t p = 0; p < kc; ++p) dst[p * mr + i] = i < rows ? src[p] : 0.0f;
    }
  }
}

// dst[p*nr + j] = op(B)(p0 + p, col0 + j), zero-padded to nr columns.
void pack_b(const GemmKernels& kern, bool trans_b, const float* b, int64_t ldb, int64_t p0,
            int64_t kc, int64_t col0, int cols, float* dst) {
  const int nr = kern.nr;
  if (!trans_b) {  // row p of op(B) is contiguous: a straight copy per step
    const float* src = b + p0 * ldb + col0;
    for (int64_t p = 0; p < kc; ++p, src += ldb, dst += nr) {
      for (int j = 0; j < cols; ++j) dst[j] = src[j];
      for (int j = cols; j < nr; ++j) dst[j] = 0.0f;
    }
  } else if (kern.pack_b_cols) {
    kern.pack_b_cols(kc, b + col0 * ldb + p0, ldb, cols, dst);
  } else {
    for (int j = 0; j < nr; ++j) {
      const float* src = b + (col0 + j) * ldb + p0;
      for (int64_t p = 0; p < kc; ++p) dst[p * nr + j] = j < cols ? src[p] : 0.0f;
    }
  }
}

void scale_c(int64_t m, int64_t n, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) ci[j] = beta == 0.0f ? 0.0f : beta * ci[j];
  }
}

struct Problem {
  const GemmKernels* kern;
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha, beta;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  GemmEpilogue epilogue;
};

void run_blocks(const Problem& P) {
  const GemmKernels& kern = *P.kern;
  const int mr = kern.mr, nr = kern.nr;
  const int64_t mt = (P.m + mr - 1) / mr;
  const int64_t nt_total = (P.n + nr - 1) / nr;
  const int64_t kc_max = kKc;
  const int64_t nc_tiles = std::max<int64_t>(1, kNc / nr);

  // Read an operand in place when it is already laid out as the tile reads it and packing
  // would not pay for itself (few tiles reuse it).
  const bool b_in_place = !P.trans_b && mt <= 8;
  const bool a_in_place = nt_total <= 4;
  const int64_t a_row = P.trans_a ? 1 : P.lda;  // in place: A(i, p) = a[i*a_row + p*a_step]
  const int64_t a_step_in_place = P.trans_a ? P.lda : 1;

  const double flops = 2.0 * P.m * P.n * P.k;
  const int threads = static_cast<int>(std::max<double>(
      1.0, std::min<double>(get_num_threads(), flops / kMinFlopsPerThread)));
  // Tasks: chunks of row tiles (each packs its own block of A), a multiple of the thread
  // count so that threads finish together; columns are split too when rows are too few.
  const int64_t mc_tiles = std::max<int64_t>(1, kMc / mr);
  int64_t row_chunks = (mt + mc_tiles - 1) / mc_tiles;
  row_chunks = std::min(mt, (row_chunks + threads - 1) / threads * threads);
  const int64_t tiles_per_chunk = (mt + row_chunks - 1) / row_chunks;
  row_chunks = (mt + tiles_per_chunk - 1) / tiles_per_chunk;

  for (int64_t jt0 = 0; jt0 < nt_total; jt0 += nc_tiles) {
    const int64_t nt = std::min(nc_tiles, nt_total - jt0);
    const int64_t col_chunks = row_chunks >= threads ? 1 : std::min(nt, (threads + row_chunks - 1) / row_chunks);
    const int64_t tiles_per_col_chunk = (nt + col_chunks - 1) / col_chunks;
    const int64_t n_tasks = row_chunks * col_chunks;

    for (int64_t p0 = 0; p0 < P.k; p0 += kc_max) {
      const int64_t kc = std::min(kc_max, P.k - p0);
      const float beta = p0 == 0 ? P.beta : 1.0f;
      const bool last_block = p0 + kc == P.k;

      float* b_block = nullptr;
      if (!b_in_place) {
        b_block = grow(tls_b_block, static_cast<size_t>(nt * kc * nr));
        auto pack_panel = [&](int64_t t) {
          int64_t col0 = (jt0 + t) * nr;
          int cols = static_cast<int>(std::min<int64_t>(nr, P.n - col0));
          pack_b(kern, P.trans_b, P.b, P.ldb, p0, kc, col0, cols, b_block + t * kc * nr);
        };
        if (threads > 1 && nt > 1) {
          parallel_for(nt, pack_panel);
        } else {
          for (int64_t t = 0; t < nt; ++t) pack_panel(t);
        }
      }

      auto run_task = [&](int64_t task) {
        const int64_t it_begin = (task / col_chunks) * tiles_per_chunk;
        const int64_t it_end = std::min(mt, it_begin + tiles_per_chunk);
        const int64_t t_begin = (task % col_chunks) * tiles_per_col_chunk;
        const int64_t t_end = std::min(nt, t_begin + tiles_per_col_chunk);
        if (it_begin >= it_end || t_begin >= t_end) return;

        // The chunk's A panels: packed side by side (kc × mr each), or read in place.
        float* a_block = nullptr;
        if (!a_in_place || (it_end * mr > P.m)) {
          a_block = grow(tls_a_panel, static_cast<size_t>((it_end - it_begin) * kc * mr));
          for (int64_t it = it_begin; it < it_end; ++it) {
            const int rows = static_cast<int>(std::min<int64_t>(mr, P.m - it * mr));
            if (a_in_place && rows == mr) continue;
            pack_a(kern, P.trans_a, P.a, P.lda, it * mr, rows, p0, kc,
                   a_block + (it - it_begin) * kc * mr);
          }
        }
        for (int64_t t = t_begin; t < t_end; ++t) {
          const int64_t col0 = (jt0 + t) * nr;
          const int cols = static_cast<int>(std::min<int64_t>(nr, P.n - col0));
          const float* b_panel = b_in_place ? P.b + p0 * P.ldb + col0 : b_block + t * kc * nr;
          const int64_t b_step = b_in_place ? P.ldb : nr;
          for (int64_t it = it_begin; it < it_end; ++it) {
            const int64_t row0 = it * mr;
            const int rows = static_cast<int>(std::min<int64_t>(mr, P.m - row0));
            const bool direct = a_in_place && rows == mr;
            const float* a_panel = direct ? P.a + p0 * a_step_in_place + row0 * a_row
                                          : a_block + (it - it_begin) * kc * mr;
            float* c_tile = P.c + row0 * P.ldc + col0;
            kern.tile(kc, a_panel, direct ? a_row : 1, direct ? a_step_in_place : mr, b_panel,
                      b_step, c_tile, P.ldc, rows, cols, P.alpha, beta);
            if (last_block && P.epilogue.fn) {
              P.epilogue.fn(P.epilogue.context, c_tile, P.ldc, row0, col0, rows, cols);
            }
          }
        }
      };
      if (threads > 1 && n_tasks > 1) {
        parallel_for(n_tasks, run_task);
      } else {
        for (int64_t t = 0; t < n_tasks; ++t) run_task(t);
      }
    }
  }
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc, const GemmEpilogue& epilogue) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    scale_c(m, n, beta, c, ldc);
    if (epilogue.fn) epilogue.fn(epilogue.context, c, ldc, 0, 0, m, n);
    return;
  }
  Problem problem{&LAMINA_PICK_VARIANT(active_isa(), gemm_kernels),
                  trans_a, trans_b, m, n, k, alpha, beta, a, lda, b, ldb, c, ldc, epilogue};
  run_blocks(problem);
}

}  // namespace lamina
