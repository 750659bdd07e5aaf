// AVX-512 optimizer updates: 16 lanes per pack, the tail through masked loads and stores.
// See variant.h for why everything here is in an anonymous namespace.
#include <immintrin.h>

#include "kernels/optimizers.h"

namespace lamina {
namespace {

struct Vec {
  __m512 x;
};
constexpr int64_t kWidth = 16;
struct FullLanes {};
struct SomeLanes {
  __mmask16 mask;  // bit k set: lane k is touched
};
inline SomeLanes first_lanes(int64_t count) {
  return {static_cast<__mmask16>((1u << count) - 1u)};
}

inline Vec load(const float* p, FullLanes) { return {_mm512_loadu_ps(p)}; }
inline Vec load(const float* p, SomeLanes l) { return {_mm512_maskz_loadu_ps(l.mask, p)}; }
inline void store(float* p, Vec v, FullLanes) { _mm512_storeu_ps(p, v.x); }
inline void store(float* p, Vec v, SomeLanes l) { _mm512_mask_storeu_ps(p, l.mask, v.x); }
inline Vec splat(float x) { return {_mm512_set1_ps(x)}; }

inline Vec operator+(Vec a, Vec b) { return {_mm512_add_ps(a.x, b.x)}; }
inline Vec operator-(Vec a, Vec b) { return {_mm512_sub_ps(a.x, b.x)}; }
inline Vec operator/(Vec a, Vec b) { return {_mm512_div_ps(a.x, b.x)}; }
inline Vec operator*(Vec a, Vec b) { return {_mm512_mul_ps(a.x, b.x)}; }
// Not _mm512_sqrt_ps: with GCC 12 it trips a false -Wmaybe-uninitialized in the header
// (GCC bug 105593). The all-lanes mask makes this the same vsqrtps.
inline Vec sqrt(Vec a) { return {_mm512_maskz_sqrt_ps(static_cast<__mmask16>(0xFFFF), a.x)}; }
inline Vec abs(Vec a) { return {_mm512_abs_ps(a.x)}; }
inline Vec signed_rate(Vec w, Vec rate) {
  const __mmask16 positive = _mm512_cmp_ps_mask(w.x, _mm512_setzero_ps(), _CMP_GT_OQ);
  return {_mm512_mask_blend_ps(positive, _mm512_sub_ps(_mm512_setzero_ps(), rate.x), rate.x)};
}
inline float lane_sum(Vec a) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, a.x);
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  return sum;
}
inline Vec max_propagating_nan(Vec a, Vec b) {
  // maxps returns b when either is NaN, which covers a NaN b; lanes where a is NaN keep a.
  const __mmask16 a_is_number = _mm512_cmp_ps_mask(a.x, a.x, _CMP_ORD_Q);
  return {_mm512_mask_max_ps(a.x, a_is_number, a.x, b.x)};
}

}  // namespace
}  // namespace lamina

#define LAMINA_OPTIMIZER_TABLE optimizer_kernels_avx512
#include "kernels/optimizers_impl.h"
