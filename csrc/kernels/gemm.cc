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

constexpr int64_t kMaxKc = 1024;                  // k steps per block at most
constexpr int64_t kKcSplit = 512;                 // block size once k is larger than that
constexpr int64_t kBBlockBytes = 1 << 20;         // a packed block of B should sit in L2
constexpr double kMinFlopsPerThread = 256 * 1024;  // below this, one thread is faster

float* grow(std::vector<float>& buffer, size_t n) {
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

// Scratch space, kept between calls so the hot path does not allocate.
thread_local std::vector<float> tls_a_panel;
thread_local std::vector<float> tls_b_block;

inline float element(const float* x, int64_t ld, bool trans, int64_t row, int64_t col) {
  return trans ? x[col * ld + row] : x[row * ld + col];
}

// dst[p*mr + i] = op(A)(row0 + i, p0 + p), zero-padded to mr rows.
void pack_a(const GemmKernels& kern, bool trans_a, const float* a, int64_t lda, int64_t row0,
            int rows, int64_t p0, int64_t kc, float* dst) {
  const int mr = kern.mr;
  if (!trans_a && kern.pack_a_rows) {
    kern.pack_a_rows(kc, a + row0 * lda + p0, lda, rows, dst);
    return;
  }
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < mr; ++i) {
      dst[p * mr + i] = i < rows ? element(a, lda, trans_a, row0 + i, p0 + p) : 0.0f;
    }
  }
}

// dst[p*nr + j] = op(B)(p0 + p, col0 + j), zero-padded to nr columns.
void pack_b(const GemmKernels& kern, bool trans_b, const float* b, int64_t ldb, int64_t p0,
            int64_t kc, int64_t col0, int cols, float* dst) {
  const int nr = kern.nr;
  if (trans_b && kern.pack_b_cols) {
    kern.pack_b_cols(kc, b + col0 * ldb + p0, ldb, cols, dst);
    return;
  }
  for (int64_t p = 0; p < kc; ++p) {
    for (int j = 0; j < nr; ++j) {
      dst[p * nr + j] = j < cols ? element(b, ldb, trans_b, p0 + p, col0 + j) : 0.0f;
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

  const int64_t kc_max = P.k <= kMaxKc ? P.k : kKcSplit;
  const int64_t nc_tiles =
      std::max<int64_t>(1, kBBlockBytes / (kc_max * nr * static_cast<int64_t>(sizeof(float))));

  // In place when a tile's operand is already laid out as the tile reads it and packing
  // would not pay for itself (the operand is reused by few tiles).
  const bool b_in_place = !P.trans_b && mt <= 8;
  const bool a_in_place = P.trans_a && nt_total <= 4;

  const double flops = 2.0 * P.m * P.n * P.k;
  const int threads = static_cast<int>(std::max<double>(
      1.0, std::min<double>(get_num_threads(), flops / kMinFlopsPerThread)));
  // Row tiles per task: enough tasks to feed every thread, each short enough to balance.
  const int64_t row_tasks_wanted = std::max<int64_t>(threads, (mt + 23) / 24);
  const int64_t rounded = (row_tasks_wanted + threads - 1) / threads * threads;
  const int64_t tiles_per_task = std::max<int64_t>(1, (mt + rounded - 1) / rounded);
  const int64_t n_tasks = (mt + tiles_per_task - 1) / tiles_per_task;

  for (int64_t jt0 = 0; jt0 < nt_total; jt0 += nc_tiles) {
    const int64_t nt = std::min(nc_tiles, nt_total - jt0);
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
        const int64_t it_begin = task * tiles_per_task;
        const int64_t it_end = std::min(mt, it_begin + tiles_per_task);
        for (int64_t it = it_begin; it < it_end; ++it) {
          const int64_t row0 = it * mr;
          const int rows = static_cast<int>(std::min<int64_t>(mr, P.m - row0));
          const float* a_panel;
          int64_t a_step;
          if (a_in_place && rows == mr) {
            a_panel = P.a + p0 * P.lda + row0;
            a_step = P.lda;
          } else {
            float* buf = grow(tls_a_panel, static_cast<size_t>(kc * mr));
            pack_a(kern, P.trans_a, P.a, P.lda, row0, rows, p0, kc, buf);
            a_panel = buf;
            a_step = mr;
          }
          for (int64_t t = 0; t < nt; ++t) {
            const int64_t col0 = (jt0 + t) * nr;
            const int cols = static_cast<int>(std::min<int64_t>(nr, P.n - col0));
            const float* b_panel = b_in_place ? P.b + p0 * P.ldb + col0 : b_block + t * kc * nr;
            const int64_t b_step = b_in_place ? P.ldb : nr;
            float* c_tile = P.c + row0 * P.ldc + col0;
            kern.tile(kc, a_panel, a_step, b_panel, b_step, c_tile, P.ldc, rows, cols, P.alpha,
                      beta);
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
