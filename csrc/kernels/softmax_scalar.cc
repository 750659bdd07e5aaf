// The scalar softmax family: the reference the SIMD variants are tested against, and the
// path on CPUs without AVX2 (and on ARM). One partial sum per row, left to right, as TF.js's
// CPU backend sums; exp and log are taken in double and rounded to float, as TF.js does
// (Math.exp/Math.log stored to a Float32Array). glibc's logf is not always correctly rounded:
// here logf(float(1 - 1e-7)) gave -2^-23, TF.js (and the exact value) -(2^-23 + 2^-46).
#include <cmath>

namespace lamina {
namespace {
inline float exp_via_double(float x) { return static_cast<float>(std::exp(static_cast<double>(x))); }
inline float log_via_double(float x) { return static_cast<float>(std::log(static_cast<double>(x))); }
}  // namespace
}  // namespace lamina

#define LAMINA_SOFTMAX_TABLE softmax_kernels_scalar
#define LAMINA_SOFTMAX_LANES 1
#define LAMINA_SOFTMAX_EXP exp_via_double
#define LAMINA_SOFTMAX_LOG log_via_double
#include "kernels/softmax_impl.h"
