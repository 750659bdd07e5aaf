// Scalar reference optimizer updates: one lane at a time, plain float32 arithmetic.
#include <cmath>

#include "kernels/optimizers.h"

namespace lamina {
namespace {

struct Vec {
  float x;
};
constexpr int64_t kWidth = 1;
struct FullLanes {};
struct SomeLanes {};  // never used: a one-lane pack has no tail
inline SomeLanes first_lanes(int64_t) { return {}; }

inline Vec load(const float* p, FullLanes) { return {*p}; }
inline Vec load(const float* p, SomeLanes) { return {*p}; }
inline void store(float* p, Vec v, FullLanes) { *p = v.x; }
inline void store(float* p, Vec v, SomeLanes) { *p = v.x; }
inline Vec splat(float x) { return {x}; }

inline Vec operator+(Vec a, Vec b) { return {a.x + b.x}; }
inline Vec operator-(Vec a, Vec b) { return {a.x - b.x}; }
inline Vec operator/(Vec a, Vec b) { return {a.x / b.x}; }
inline Vec operator*(Vec a, Vec b) { return {a.x * b.x}; }
inline Vec sqrt(Vec a) { return {std::sqrt(a.x)}; }
inline Vec abs(Vec a) { return {std::fabs(a.x)}; }
inline Vec signed_rate(Vec w, Vec rate) { return {w.x > 0.0f ? rate.x : -rate.x}; }
inline float lane_sum(Vec a) { return a.x; }
// Math.max semantics: NaN if either operand is NaN (the first NaN wins, as in the SIMD code).
inline Vec max_propagating_nan(Vec a, Vec b) {
  if (std::isnan(a.x)) return a;
  if (std::isnan(b.x)) return b;
  return {a.x > b.x ? a.x : b.x};
}

}  // namespace
}  // namespace lamina

#define LAMINA_OPTIMIZER_TABLE optimizer_kernels_scalar
#include "kernels/optimizers_impl.h"
