// exp and log for float, written as straight-line code (selects, no branches, no library
// calls) so that a plain loop over them auto-vectorizes under each variant's target flags.
// glibc's expf/logf are calls the vectorizer cannot see through.
//
// Accuracy (checked by csrc/tests/test_softmax.cc against double precision): within 2 ulp
// over the whole float range, including subnormal results and inputs. Special values follow
// IEEE: exp(-inf) = 0, exp(+inf) = +inf, log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf,
// NaN in gives NaN out.
//
// Everything is in an anonymous namespace: each including file gets its own copy, compiled
// with its own flags (see the rule in kernels/variant.h).
#pragma once

#include <cstdint>

namespace lamina {
namespace {

inline float float_from_bits(uint32_t bits) {
  float f;
  __builtin_memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint32_t bits_of_float(float f) {
  uint32_t bits;
  __builtin_memcpy(&bits, &f, sizeof bits);
  return bits;
}

// e^x. Range reduction x = n·ln2 + r with |r| <= ln2/2, a degree-7 polynomial for e^r
// (Cephes' expf coefficients), then a scale by 2^n applied as two factors 2^n1·2^n2 so that
// neither leaves the normal exponent range: results down to the subnormals round once, at
// the last multiply, and n = 128 overflows to +inf as it should.
inline float fast_exp(float x) {
  const float kLog2e = 1.44269504088896341f;
  const float kLn2Hi = 0.693359375f;  // few significant bits, so n·kLn2Hi is exact
  const float kLn2Lo = -2.12194440e-4f;
  // 1.5·2^23: adding it leaves round(v) in the low mantissa bits, for |v| < 2^22. This
  // avoids a float->int conversion, which would be undefined for NaN.
  const float kRoundMagic = 12582912.0f;
  // Below -110 the result is 0 and above 88.8 it is +inf anyway; clamping keeps n small.
  // A NaN fails both comparisons and passes through.
  x = x > 88.8f ? 88.8f : x;
  x = x < -110.0f ? -110.0f : x;
  const float shifted = x * kLog2e + kRoundMagic;
  const float n = shifted - kRoundMagic;
  const int32_t n_int = static_cast<int32_t>(bits_of_float(shifted) - bits_of_float(kRoundMagic));
  float r = x - n * kLn2Hi;
  r = r - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e_r = p * (r * r) + r + 1.0f;
  const int32_t n1 = n_int >> 1;  // floor(n/2): n1, n - n1 in [-80, 64]
  const int32_t n2 = n_int - n1;
  const float scale1 = float_from_bits((static_cast<uint32_t>(n1) + 127u) << 23);
  const float scale2 = float_from_bits((static_cast<uint32_t>(n2) + 127u) << 23);
  return e_r * scale1 * scale2;
}

// ln x. x = m·2^e with m in [sqrt(1/2), sqrt(2)), ln x = e·ln2 + ln(1 + f), f = m - 1, with
// Cephes' logf polynomial for ln(1 + f). Subnormal inputs are first scaled by 2^23.
inline float fast_log(float x) {
  const float kMinNormal = 1.17549435e-38f;
  const bool subnormal = x < kMinNormal;  // also true for 0 and negatives, fixed up below
  const float scaled = subnormal ? x * 8388608.0f : x;
  const uint32_t bits = bits_of_float(scaled);
  int32_t e = static_cast<int32_t>((bits >> 23) & 0xffu) - 126;  // m in [0.5, 1)
  const float m = float_from_bits((bits & 0x007fffffu) | 0x3f000000u);
  e = subnormal ? e - 23 : e;
  const bool below_sqrt_half = m < 0.707106781186547524f;
  e = below_sqrt_half ? e - 1 : e;
  const float f = below_sqrt_half ? (m + m) - 1.0f : m - 1.0f;  // exact either way
  const float fe = static_cast<float>(e);
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
  y += -2.12194440e-4f * fe;  // ln2 = 0.693359375 - 2.12194440e-4, in two parts
  y += -0.5f * z;
  float result = f + y;
  result += 0.693359375f * fe;
  const float inf = __builtin_inff();
  result = x == inf ? inf : result;
  result = x == 0.0f ? -inf : result;
  result = x < 0.0f ? __builtin_nanf("") : result;
  result = x != x ? x : result;
  return result;
}

}  // namespace
}  // namespace lamina
