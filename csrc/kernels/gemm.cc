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
constexpr int64_t kKcInPlace = 2048;  // B read in place has no L1 panel to protect
constexpr int64_t kMc = 384;
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

// How one call is cut into blocks and tasks.
struct Plan {
  int mr, nr;
  int64_t mt, nt;         // row and column tiles of C
  int64_t kc;             // k steps per block
  int64_t nc_tiles;       // column tiles per block of B
  int64_t mc_tiles;       // row tiles per block of A
  bool a_in_place, b_in_place;
  int64_t a_row, a_step;  // A(i, p) = a[i*a_row + p*a_step] when read in place
};

// C tiles [it_begin, it_end) × [t_begin, t_end) for k steps [p0, p0 + kc). Column tile t
// reads its B panel from b_panel(t) with row step b_step; A panels come from a_block
// (packed, kc × mr each, starting at row tile it_begin) or from A itself.
template <class BPanel>
void compute_tiles(const Problem& P, const Plan& L, int64_t it_begin, int64_t it_end,
                   int64_t t_begin, int64_t t_end, int64_t p0, int64_t kc, const float* a_block,
                   BPanel b_panel, int64_t b_step) {
  const GemmKernels& kern = *P.kern;
  const float beta = p0 == 0 ? P.beta : 1.0f;
  const bool last_block = p0 + kc == P.k;
  for (int64_t t = t_begin; t < t_end; ++t) {
    const int64_t col0 = t * L.nr;
    const int cols = static_cast<int>(std::min<int64_t>(L.nr, P.n - col0));
    const float* b = b_panel(t);
    for (int64_t it = it_begin; it < it_end; ++it) {
      const int64_t row0 = it * L.mr;
      const int rows = static_cast<int>(std::min<int64_t>(L.mr, P.m - row0));
      const bool direct = L.a_in_place && rows == L.mr;
      const float* a = direct ? P.a + p0 * L.a_step + row0 * L.a_row
                              : a_block + (it - it_begin) * kc * L.mr;
      float* c = P.c + row0 * P.ldc + col0;
      kern.tile(kc, a, direct ? L.a_row : 1, direct ? L.a_step : L.mr, b, b_step, c, P.ldc, rows,
                cols, P.alpha, beta);
      if (last_block && P.epilogue.fn) {
        P.epilogue.fn(P.epilogue.context, c, P.ldc, row0, col0, rows, cols);
      }
    }
  }
}

// Packs the A panels of row tiles [it_begin, it_end) that are not read in place.
float* pack_a_block(const Problem& P, const Plan& L, int64_t it_begin, int64_t it_end, int64_t p0,
                    int64_t kc) {
  float* block = grow(tls_a_panel, static_cast<size_t>((it_end - it_begin) * kc * L.mr));
  for (int64_t it = it_begin; it < it_end; ++it) {
    const int rows = static_cast<int>(std::min<int64_t>(L.mr, P.m - it * L.mr));
    if (L.a_in_place && rows == L.mr) continue;
    pack_a(*P.kern, P.trans_a, P.a, P.lda, it * L.mr, rows, p0, kc,
           block + (it - it_begin) * kc * L.mr);
  }
  return block;
}

void pack_b_panels(const Problem& P, const Plan& L, int64_t t_begin, int64_t t_end, int64_t p0,
                   int64_t kc, float* dst) {
  for (int64_t t = t_begin; t < t_end; ++t) {
    const int64_t col0 = t * L.nr;
    const int cols = static_cast<int>(std::min<int64_t>(L.nr, P.n - col0));
    pack_b(*P.kern, P.trans_b, P.b, P.ldb, p0, kc, col0, cols, dst + (t - t_begin) * kc * L.nr);
  }
}

// Everything for column tiles [t_begin, t_end) and all rows, on one thread: it packs its own
// B panels, so nothing is shared with other tasks and k blocks need no barrier.
void run_columns(const Problem& P, const Plan& L, int64_t t_begin, int64_t t_end) {
  for (int64_t jt0 = t_begin; jt0 < t_end; jt0 += L.nc_tiles) {
    const int64_t jt1 = std::min(t_end, jt0 + L.nc_tiles);
    for (int64_t p0 = 0; p0 < P.k; p0 += L.kc) {
      const int64_t kc = std::min(L.kc, P.k - p0);
      const float* b_block = nullptr;
      if (!L.b_in_place) {
        float* dst = grow(tls_b_block, static_cast<size_t>((jt1 - jt0) * kc * L.nr));
        pack_b_panels(P, L, jt0, jt1, p0, kc, dst);
        b_block = dst;
      }
      for (int64_t it0 = 0; it0 < L.mt; it0 += L.mc_tiles) {
        const int64_t it1 = std::min(L.mt, it0 + L.mc_tiles);
        const float* a_block = pack_a_block(P, L, it0, it1, p0, kc);
        if (L.b_in_place) {
          compute_tiles(P, L, it0, it1, jt0, jt1, p0, kc, a_block,
                        [&](int64_t t) { return P.b + p0 * P.ldb + t * L.nr; }, P.ldb);
        } else {
          compute_tiles(P, L, it0, it1, jt0, jt1, p0, kc, a_block,
                        [&](int64_t t) { return b_block + (t - jt0) * kc * L.nr; }, L.nr);
        }
      }
    }
  }
}

// Row chunks in parallel: every task needs all of B, so B is packed once per block, by all
// threads together, before the chunks run.
void run_rows(const Problem& P, const Plan& L, int threads) {
  int64_t row_chunks = (L.mt + L.mc_tiles - 1) / L.mc_tiles;
  row_chunks = std::min(L.mt, (row_chunks + threads - 1) / threads * threads);
  const int64_t tiles_per_chunk = (L.mt + row_chunks - 1) / row_chunks;
  row_chunks = (L.mt + tiles_per_chunk - 1) / tiles_per_chunk;

  for (int64_t jt0 = 0; jt0 < L.nt; jt0 += L.nc_tiles) {
    const int64_t jt1 = std::min(L.nt, jt0 + L.nc_tiles);
    for (int64_t p0 = 0; p0 < P.k; p0 += L.kc) {
      const int64_t kc = std::min(L.kc, P.k - p0);
      float* b_block = nullptr;
      if (!L.b_in_place) {
        b_block = grow(tls_b_block, static_cast<size_t>((jt1 - jt0) * kc * L.nr));
        // One contiguous run of panels per thread: a task per panel would cost more in
        // handing out tasks than packing a small panel does.
        const int64_t pack_tasks = std::min<int64_t>(threads, jt1 - jt0);
        auto pack = [&](int64_t task) {
          const int64_t n = jt1 - jt0;
          const int64_t t0 = jt0 + task * n / pack_tasks, t1 = jt0 + (task + 1) * n / pack_tasks;
          pack_b_panels(P, L, t0, t1, p0, kc, b_block + (t0 - jt0) * kc * L.nr);
        };
        parallel_for(pack_tasks, pack);
      }
      auto chunk = [&](int64_t task) {
        const int64_t it0 = task * tiles_per_chunk;
        const int64_t it1 = std::min(L.mt, it0 + tiles_per_chunk);
        const float* a_block = pack_a_block(P, L, it0, it1, p0, kc);
        if (L.b_in_place) {
          compute_tiles(P, L, it0, it1, jt0, jt1, p0, kc, a_block,
                        [&](int64_t t) { return P.b + p0 * P.ldb + t * L.nr; }, P.ldb);
        } else {
          compute_tiles(P, L, it0, it1, jt0, jt1, p0, kc, a_block,
                        [&](int64_t t) { return b_block + (t - jt0) * kc * L.nr; }, L.nr);
        }
      };
      parallel_for(row_chunks, chunk);
    }
  }
}

void run_blocks(const Problem& P) {
  Plan L;
  L.mr = P.kern->mr;
  L.nr = P.kern->nr;
  L.mt = (P.m + L.mr - 1) / L.mr;
  L.nt = (P.n + L.nr - 1) / L.nr;
  L.nc_tiles = std::max<int64_t>(1, kNc / L.nr);
  L.mc_tiles = std::max<int64_t>(1, kMc / L.mr);
  // Read an operand in place when it is already laid out as the tile reads it and packing
  // would not pay for itself (few tiles reuse it).
  L.b_in_place = !P.trans_b && L.mt <= 8;
  L.a_in_place = L.nt <= 4;
  L.a_row = P.trans_a ? 1 : P.lda;
  L.a_step = P.trans_a ? P.lda : 1;
  // A packed B panel stays in L1 across a block of A; without one there is nothing to protect.
  L.kc = L.b_in_place ? kKcInPlace : kKc;

  const double flops = 2.0 * P.m * P.n * P.k;
  const int threads = static_cast<int>(std::max<double>(
      1.0, std::min<double>(get_num_threads(), flops / kMinFlopsPerThread)));
  // Split where the operand every task must share is the smaller one: columns share A,
  // rows share B. Column tasks pack their own B, so they run without any barrier.
  if (threads == 1) {
    run_columns(P, L, 0, L.nt);
  } else if (P.m < P.n && L.nt >= threads) {
    parallel_for(threads, [&](int64_t task) {
      run_columns(P, L, task * L.nt / threads, (task + 1) * L.nt / threads);
    });
  } else {
    run_rows(P, L, threads);
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
