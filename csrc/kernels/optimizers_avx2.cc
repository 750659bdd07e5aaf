// AVX2 optimizer updates: 8 lanes per pack, the tail through masked loads and stores.
// See variant.h for why everything here is in an anonymous namespace.
#include <immintrin.h>

#include "kernels/optimizers.h"

namespace lamina {
namespace {

struct Vec {
  __m256 x;
};
constexpr int64_t kWidth = 8;
struct FullLanes {};
struct SomeLanes {
  __m256i mask;  // all ones in the lanes to touch
};
inline SomeLanes first_lanes(int64_t count) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return {_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lane)};
}

inline Vec load(const float* p, FullLanes) { return {_mm256_loadu_ps(p)}; }
inline Vec load(const float* p, SomeLanes l) { return {_mm256_maskload_ps(p, l.mask)}; }
inline void store(float* p, Vec v, FullLanes) { _mm256_storeu_ps(p, v.x); }
inline void store(float* p, Vec v, SomeLanes l) { _mm256_maskstore_ps(p, l.mask, v.x); }
inline Vec splat(float x) { return {_mm256_set1_ps(x)}; }

inline Vec operator+(Vec a, Vec b) { return {_mm256_add_ps(a.x, b.x)}; }
inline Vec operator-(Vec a, Vec b) { return {_mm256_sub_ps(a.x, b.x)}; }
inline Vec operator/(Vec a, Vec b) { return {_mm256_div_ps(a.x, b.x)}; }
inline Vec operator*(Vec a, Vec b) { return {_mm256_mul_ps(a.x, b.x)}; }
inline Vec sqrt(Vec a) { return {_mm256_sqrt_ps(a.x)}; }
inline Vec abs(Vec a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.x)}; }
inline Vec signed_rate(Vec w, Vec rate) {
  const __m256 positive = _mm256_cmp_ps(w.x, _mm256_setzero_ps(), _CMP_GT_OQ);
  return {_mm256_blendv_ps(_mm256_sub_ps(_mm256_setzero_ps(), rate.x), rate.x, positive)};
}
inline float lane_sum(Vec a) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, a.x);
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  return sum;
}
inline Vec max_propagating_nan(Vec a, Vec b) {
  // maxps returns b when either is NaN, which covers a NaN b; put a back where a is NaN.
  const __m256 larger = _mm256_max_ps(a.x, b.x);
  return {_mm256_blendv_ps(larger, a.x, _mm256_cmp_ps(a.x, a.x, _CMP_UNORD_Q))};
}

}  // namespace
}  // namespace lamina

#define LAMINA_OPTIMIZER_TABLE optimizer_kernels_avx2
#include "kernels/optimizers_impl.h"
