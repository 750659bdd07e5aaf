// The activation loops, written once and compiled per ISA: activations_scalar.cc,
// activations_avx2.cc and activations_avx512.cc each define LAMINA_ACTIVATION_TABLE (the
// name of their table function) and, for the SIMD files, LAMINA_ACTIVATION_USE_VMATH, then
// include this file. With LAMINA_ACTIVATION_USE_VMATH the transcendental functions come from
// vector_math.h (branch-free, so -O3 vectorizes every loop); without it from <cmath>, the
// plain reference. The formulas are listed in activations.h.
#ifndef LAMINA_ACTIVATION_TABLE
#error "define LAMINA_ACTIVATION_TABLE before including activations_impl.h"
#endif

#include "kernels/activations.h"

#ifdef LAMINA_ACTIVATION_USE_VMATH
#include "kernels/vector_math.h"
#else
#include <cmath>
#endif

namespace lamina {
namespace {

constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSeluScaleAlpha = 1.7580993408473768599402175208123f;
constexpr float kSqrtHalf = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

#ifdef LAMINA_ACTIVATION_USE_VMATH
inline float exp_(float x) { return vmath::exp(x); }
inline float expm1_(float x) { return vmath::expm1(x); }
inline float tanh_(float x) { return vmath::tanh(x); }
inline float sigmoid_(float x) { return vmath::sigmoid(x); }
inline float abs_(float x) { return vmath::abs(x); }
inline float softplus_(float x) { return (x > 0.0f ? x : 0.0f) + vmath::log1p(vmath::exp(-vmath::abs(x))); }
// Φ(x) = ½·erfc(-x/√2)
inline float normal_cdf_(float x) { return 0.5f * vmath::erfc(-x * kSqrtHalf); }
// φ(x) = e^(-x²/2) / √(2π)
inline float normal_pdf_(float x) { return kInvSqrt2Pi * vmath::exp_neg_half_square(x); }
// tanh(softplus x) = w(w+2) / (w(w+2) + 2), w = e^x: one exp, no log. For x > 20 it is 1 in
// float, so x is capped there to keep w² finite. Also returns 1 - t² = 4(w(w+2)+1)/(w(w+2)+2)²
// (no cancellation; exactly 0 beyond the cap, as in float) and sigmoid(x) = w/(1+w).
struct MishParts {
  float t, one_minus_t2, sig;
};
inline MishParts mish_parts_(float x) {
  float w = vmath::exp(x > 20.0f ? 20.0f : x);
  float n = w * (w + 2.0f);
  float d = n + 2.0f;
  float one_minus_t2 = x > 20.0f ? 0.0f : 4.0f * (n + 1.0f) / (d * d);
  return {n / d, one_minus_t2, w / (1.0f + w)};
}
#else
inline float exp_(float x) { return std::exp(x); }
inline float expm1_(float x) { return std::expm1(x); }
inline float tanh_(float x) { return std::tanh(x); }
// e^-|x| form, as vmath::sigmoid: 1/(1 + e^-x) would underflow to 0 early for x < -88.
inline float sigmoid_(float x) {
  float e = std::exp(-std::fabs(x));
  return x < 0.0f ? e / (1.0f + e) : 1.0f / (1.0f + e);
}
inline float abs_(float x) { return std::fabs(x); }
inline float softplus_(float x) { return (x > 0.0f ? x : 0.0f) + std::log1p(std::exp(-std::fabs(x))); }
inline float normal_cdf_(float x) { return 0.5f * std::erfc(-x * kSqrtHalf); }
// In double: x² in float would lose accuracy for large |x| (the reference should not).
inline float normal_pdf_(float x) {
  double xd = x;
  return static_cast<float>(0.398942280401432677939946 * std::exp(-0.5 * xd * xd));
}
struct MishParts {
  float t, one_minus_t2, sig;
};
inline MishParts mish_parts_(float x) {
  float t = std::tanh(softplus_(x));
  return {t, 1.0f - t * t, sigmoid_(x)};
}
#endif

inline float relu_(float z) { return z < 0.0f ? 0.0f : z; }  // NaN stays NaN, as Math.max
inline float relu6_(float z) { return z < 0.0f ? 0.0f : (z > 6.0f ? 6.0f : z); }
inline float hard_sigmoid_(float z) {
  float t = 0.2f * z + 0.5f;
  return t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
}

// One loop per activation, so each body is branch-free and vectorizes on its own.
template <class F>
inline void map(const float* z, float* y, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(z[i]);
}

template <class F>
inline void map2(const float* a, const float* dy, float* dz, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) dz[i] = dy[i] * f(a[i]);
}

void forward(Activation act, const float* z, float* y, int64_t n) {
  switch (act) {
    case Activation::linear:
      if (y != z) map(z, y, n, [](float v) { return v; });
      return;
    case Activation::relu: return map(z, y, n, [](float v) { return relu_(v); });
    case Activation::relu6: return map(z, y, n, [](float v) { return relu6_(v); });
    case Activation::elu:
      return map(z, y, n, [](float v) { return v > 0.0f ? v : expm1_(v); });
    case Activation::selu:
      return map(z, y, n, [](float v) {
        return v > 0.0f ? kSeluScale * v : kSeluScaleAlpha * expm1_(v);
      });
    case Activation::sigmoid: return map(z, y, n, [](float v) { return sigmoid_(v); });
    case Activation::hard_sigmoid: return map(z, y, n, [](float v) { return hard_sigmoid_(v); });
    case Activation::tanh: return map(z, y, n, [](float v) { return tanh_(v); });
    case Activation::softplus: return map(z, y, n, [](float v) { return softplus_(v); });
    case Activation::softsign:
      return map(z, y, n, [](float v) { return v / (1.0f + abs_(v)); });
    case Activation::swish:
      return map(z, y, n, [](float v) { return v * sigmoid_(v); });
    case Activation::gelu:
      return map(z, y, n, [](float v) { return v * normal_cdf_(v); });
    case Activation::mish:
      return map(z, y, n, [](float v) { return v * mish_parts_(v).t; });
  }
}

void backward(Activation act, const float* z, const float* y, const float* dy, float* dz,
              int64_t n) {
  switch (act) {
    case Activation::linear:
      if (dz != dy) map(dy, dz, n, [](float v) { return v; });
      return;
    // From the output y.
    case Activation::relu:
      return map2(y, dy, dz, n, [](float v) { return v > 0.0f ? 1.0f : 0.0f; });
    case Activation::relu6:
      return map2(y, dy, dz, n, [](float v) { return v > 0.0f && v < 6.0f ? 1.0f : 0.0f; });
    case Activation::elu:
      return map2(y, dy, dz, n, [](float v) { return v > 0.0f ? 1.0f : v + 1.0f; });
    case Activation::sigmoid:
      return map2(y, dy, dz, n, [](float v) { return v * (1.0f - v); });
    case Activation::tanh:
      return map2(y, dy, dz, n, [](float v) { return 1.0f - v * v; });
    // From the pre-activation z.
    case Activation::selu:
      return map2(z, dy, dz, n, [](float v) {
        return v > 0.0f ? kSeluScale : kSeluScaleAlpha * exp_(v);
      });
    case Activation::hard_sigmoid:
      return map2(z, dy, dz, n, [](float v) { return v >= -2.5f && v <= 2.5f ? 0.2f : 0.0f; });
    case Activation::softplus: return map2(z, dy, dz, n, [](float v) { return sigmoid_(v); });
    case Activation::softsign:
      return map2(z, dy, dz, n, [](float v) {
        float d = 1.0f + abs_(v);
        return 1.0f / (d * d);
      });
    case Activation::swish:
      return map2(z, dy, dz, n, [](float v) {
        float s = sigmoid_(v);
        return s + v * (s * (1.0f - s));
      });
    case Activation::gelu:
      return map2(z, dy, dz, n, [](float v) { return normal_cdf_(v) + v * normal_pdf_(v); });
    case Activation::mish:
      return map2(z, dy, dz, n, [](float v) {
        MishParts p = mish_parts_(v);
        return p.t + v * (p.sig * p.one_minus_t2);
      });
  }
}

void bias_forward(Activation act, const float* bias, float* c, float* z_copy, int64_t n) {
  if (bias) {
    for (int64_t i = 0; i < n; ++i) c[i] += bias[i];
  }
  if (z_copy) {
    for (int64_t i = 0; i < n; ++i) z_copy[i] = c[i];
  }
  forward(act, c, c, n);
}

}  // namespace

const ActivationKernels& LAMINA_ACTIVATION_TABLE() {
  static const ActivationKernels table{forward, backward, bias_forward};
  return table;
}

}  // namespace lamina
