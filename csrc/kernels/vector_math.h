// Branch-free float32 exp, expm1, log, log1p, tanh, sigmoid and erfc that the compiler can
// vectorize (glibc's expf/logf/tanhf/erfcf are calls, so loops over them stay scalar). Every
// function is straight-line arithmetic, bit casts and selects (?: on values computed either
// way), so a plain loop over it becomes SIMD code under the file's -mavx2/-mavx512f flags.
// The activations and the softmax family use it.
//
// Accuracy, measured in csrc/tests/test_vector_math.cc against <cmath> in double over a
// dense sweep of float inputs: exp 1.0, expm1 1.6, log 0.8, log1p 2.4, tanh 2.5, sigmoid 2.5 ulp
// at most; erfc 4.6 ulp of the value at the same float argument (its tail also gets z² exactly,
// see exp_of_sum). Overflow gives inf, underflow gives 0 (or a subnormal), NaN gives NaN.
//
// Everything sits in an anonymous namespace (see variant.h): each ISA's file gets its own copy.
#pragma once

#include <cstdint>

namespace {
namespace vmath {

inline uint32_t bits_of(float x) {
  uint32_t u;
  __builtin_memcpy(&u, &x, sizeof u);
  return u;
}

inline float float_of(uint32_t u) {
  float x;
  __builtin_memcpy(&x, &u, sizeof x);
  return x;
}

inline float abs(float x) { return float_of(bits_of(x) & 0x7FFFFFFFu); }

// x with the sign bit of s.
inline float copy_sign(float x, float s) {
  return float_of((bits_of(x) & 0x7FFFFFFFu) | (bits_of(s) & 0x80000000u));
}

constexpr float kLog2e = 1.44269504088896341f;
// ln 2 split so that n·kLn2Hi is exact for |n| < 2^15 (kLn2Hi has 9 significant bits).
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kLn2 = 0.693147180559945309f;
// Adding 1.5·2^23 rounds a float of magnitude < 2^22 to an integer held in the low
// mantissa bits; subtracting it again gives that integer as a float.
constexpr float kRoundMagic = 12582912.0f;

// x = n·ln2 + r with |r| <= ln2/2 (plus rounding); `lo` is a small correction to x that is
// added only after the exact Cody–Waite step, so x + lo is reduced without rounding x + lo.
struct Reduced {
  float r;
  int32_t n;
};

inline Reduced reduce(float x, float lo) {
  float shifted = (x + lo) * kLog2e + kRoundMagic;
  float n_float = shifted - kRoundMagic;
  // The integer is in the low bits of `shifted`; unsigned arithmetic so that even a NaN's
  // bits give a defined (if meaningless) n, and the NaN still reaches the result through r.
  int32_t n = static_cast<int32_t>(bits_of(shifted) - bits_of(kRoundMagic));
  float r = ((x - n_float * kLn2Hi) + lo) - n_float * kLn2Lo;
  return {r, n};
}

// expm1(r) for |r| <= 0.35: Taylor to degree 7 (truncation < 2e-8 relative, below half an ulp).
inline float expm1_reduced(float r) {
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  return r + (r * r) * p;
}

// 2^n as two factors, each a normal float for n in [-252, 254]: subnormal results are then
// rounded once, by the last multiplication.
struct Pow2 {
  float first, second;
};

inline Pow2 pow2(int32_t n) {
  int32_t half = n >> 1;
  int32_t rest = n - half;
  return {float_of(static_cast<uint32_t>(half + 127) << 23),
          float_of(static_cast<uint32_t>(rest + 127) << 23)};
}

// e^(x + lo) where lo is a small correction (|lo| << 1) that x + lo cannot hold exactly.
// x must lie in [-110, 88.7] or be NaN (the callers clamp).
inline float exp_of_sum(float x, float lo) {
  Reduced red = reduce(x, lo);
  Pow2 s = pow2(red.n);
  return ((1.0f + expm1_reduced(red.r)) * s.first) * s.second;
}

// Clamps to [-104, 89] (e^-104 rounds to 0, e^89 to inf); NaN passes through (compares false).
inline float clamp_exp_argument(float x) {
  x = x < -104.0f ? -104.0f : x;
  return x > 89.0f ? 89.0f : x;
}

inline float exp(float x) { return exp_of_sum(clamp_exp_argument(x), 0.0f); }

// e^x - 1, accurate near 0: 2^n·expm1(r) + (2^n - 1), which is expm1(r) itself for n = 0.
inline float expm1(float x) {
  x = clamp_exp_argument(x);
  Reduced red = reduce(x, 0.0f);
  float q = expm1_reduced(red.r);
  Pow2 s = pow2(red.n);
  float two_n = s.first * s.second;  // inf only for n = 128, where the other form is used
  float moderate = two_n * q + (two_n - 1.0f);
  float large = ((1.0f + q) * s.first) * s.second - 1.0f;
  return x > 88.0f ? large : moderate;
}

// log(1 + u) for u > -0.29 (inf gives inf, NaN gives NaN). 1 + u is rounded to v and the
// rounding error is added back as (u - (v - 1)) / v. log v = e·ln2 + log m with
// m in [√½, √2], log m = 2·atanh(s), s = (m - 1)/(m + 1), |s| <= 0.172: series to s^11.
inline float log1p(float u) {
  float v = 1.0f + u;
  float correction = (u - (v - 1.0f)) / v;
  uint32_t vb = bits_of(v);
  int32_t e = static_cast<int32_t>((vb >> 23) & 0xFFu) - 127;
  float m = float_of((vb & 0x7FFFFFu) | 0x3F800000u);
  bool above = m > 1.41421356f;
  m = above ? m * 0.5f : m;
  float e_float = static_cast<float>(e + (above ? 1 : 0));
  float s = (m - 1.0f) / (m + 1.0f);
  float s2 = s * s;
  float p = 1.0f / 11;
  p = p * s2 + 1.0f / 9;
  p = p * s2 + 1.0f / 7;
  p = p * s2 + 1.0f / 5;
  p = p * s2 + 1.0f / 3;
  float log_m = 2.0f * s + (2.0f * s) * (s2 * p);
  float result = e_float * kLn2Hi + ((e_float * kLn2Lo + correction) + log_m);
  result = u > 3.40282347e38f ? u : result;  // inf (its bits would read as 2^128)
  return u != u ? u : result;
}

// ln x over the whole float range, subnormal inputs included. x = m·2^e with m in
// [√½, √2), ln x = e·ln2 + ln(1 + f), f = m - 1, with Cephes' logf polynomial for ln(1 + f).
// Subnormal inputs are first scaled by 2^23. Special values follow IEEE: log(±0) = -inf,
// log(x < 0) = NaN, log(+inf) = +inf, NaN in gives NaN out.
inline float log(float x) {
  const float kMinNormal = 1.17549435e-38f;
  const bool subnormal = x < kMinNormal;  // also true for 0 and negatives, fixed up below
  const float scaled = subnormal ? x * 8388608.0f : x;
  const uint32_t bits = bits_of(scaled);
  int32_t e = static_cast<int32_t>((bits >> 23) & 0xFFu) - 126;  // m in [0.5, 1)
  const float m = float_of((bits & 0x007FFFFFu) | 0x3F000000u);
  e = subnormal ? e - 23 : e;
  const bool below_sqrt_half = m < 0.707106781186547524f;
  e = below_sqrt_half ? e - 1 : e;
  const float f = below_sqrt_half ? (m + m) - 1.0f : m - 1.0f;  // exact either way
  const float e_float = static_cast<float>(e);
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  float y = p * f * z;
  y += kLn2Lo * e_float;  // e·ln2 in two parts, the small one first
  y += -0.5f * z;
  float result = f + y;
  result += kLn2Hi * e_float;
  const float inf = __builtin_inff();
  result = x == inf ? inf : result;
  result = x == 0.0f ? -inf : result;
  result = x < 0.0f ? __builtin_nanf("") : result;
  return x != x ? x : result;
}

// tanh x = -expm1(-2|x|) / (expm1(-2|x|) + 2), with the sign of x: no overflow, and no
// cancellation near 0 because expm1 is accurate there.
inline float tanh(float x) {
  float e = expm1(-2.0f * abs(x));
  return copy_sign(-e / (e + 2.0f), x);
}

// With e = e^-|x| <= 1: 1/(1 + e) for x >= 0, e/(1 + e) for x < 0. Nothing overflows, and
// the far negative tail keeps its relative accuracy (1/(1 + e^-x) would give 0 there).
inline float sigmoid(float x) {
  float e = exp(-abs(x));
  float r = 1.0f / (1.0f + e);
  return x < 0.0f ? e * r : r;
}

// erfc(a) for a >= 0 as t·exp(-a² + P(t)), t = 1/(1 + a/2), P a degree-10 polynomial in
// t - 0.58 fitted (weighted least squares on Chebyshev nodes, then rounded to float) to
// log(erfc(a)/t) + a² over a in [0, 10.5]; its error there is below 3e-7 absolute, i.e. a
// relative error of about 2 ulp in the result. a² is carried exactly as ah² + (2·ah·al + al²)
// with ah = a's upper 12 significand bits, so large a does not magnify rounding of a².
// Above 10.5 erfc underflows anyway.
inline float erfc_non_negative(float a) {
  a = a > 10.5f ? 10.5f : a;
  float t = 1.0f / (1.0f + 0.5f * a);
  float s = t - 0.579999983f;
  float p = -0.133704379f;
  p = p * s + 0.149408221f;
  p = p * s + 0.133844063f;
  p = p * s - 0.248723924f;
  p = p * s - 0.0462909453f;
  p = p * s + 0.296203017f;
  p = p * s - 0.0396580994f;
  p = p * s - 0.406902522f;
  p = p * s + 0.0947640389f;
  p = p * s + 1.36811888f;
  p = p * s - 0.563156784f;
  float a_hi = float_of(bits_of(a) & 0xFFFFF000u);
  float a_lo = a - a_hi;
  float exact_tail = (2.0f * a_hi) * a_lo + a_lo * a_lo;  // both products exact
  return t * exp_of_sum(-(a_hi * a_hi), p - exact_tail);
}

// erf(z) for |z| <= 0.5: (2/√π)·Σ (-1)^k z^(2k+1) / (k!·(2k+1)), k <= 6 (truncation < 4e-9).
inline float erf_small(float z) {
  float z2 = z * z;
  float p = 1.0f / 9360;
  p = p * -z2 + 1.0f / 1320;
  p = p * -z2 + 1.0f / 216;
  p = p * -z2 + 1.0f / 42;
  p = p * -z2 + 1.0f / 10;
  p = p * -z2 + 1.0f / 3;
  p = p * -z2 + 1.0f;
  return 1.12837917f * (z * p);
}

// erfc z: 1 - erf z near 0 (the tail fit loses a few ulp there), else the tail form.
inline float erfc(float z) {
  float tail = erfc_non_negative(abs(z));
  float from_tail = z < 0.0f ? 2.0f - tail : tail;
  return abs(z) < 0.5f ? 1.0f - erf_small(z) : from_tail;
}

// e^(-x²/2) with x² carried exactly as above (x clamped to 15: the result is 0 beyond).
inline float exp_neg_half_square(float x) {
  float a = abs(x);
  a = a > 15.0f ? 15.0f : a;
  float a_hi = float_of(bits_of(a) & 0xFFFFF000u);
  float a_lo = a - a_hi;
  float half_tail = a_hi * a_lo + 0.5f * (a_lo * a_lo);
  return exp_of_sum(-0.5f * (a_hi * a_hi), -half_tail);
}

}  // namespace vmath
}  // namespace
