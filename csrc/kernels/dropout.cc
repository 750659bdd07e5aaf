#include "kernels/dropout.h"

#include <cmath>

namespace lamina {

namespace {

using u128 = unsigned __int128;

// PCG's default 128-bit multiplier (numpy's PCG_DEFAULT_MULTIPLIER_128).
constexpr u128 kMultiplier = (static_cast<u128>(2549297995355413924ULL) << 64) | 4865540595714422341ULL;

class Pcg64 {
 public:
  explicit Pcg64(const Pcg64Seed& s)
      : state_((static_cast<u128>(s.state_high) << 64) | s.state_low),
        inc_((static_cast<u128>(s.inc_high) << 64) | s.inc_low) {}

  uint64_t next64() {
    state_ = state_ * kMultiplier + inc_;
    const uint64_t folded = static_cast<uint64_t>(state_ >> 64) ^ static_cast<uint64_t>(state_);
    const unsigned rotation = static_cast<unsigned>(state_ >> 122);
    return (folded >> rotation) | (folded << ((64u - rotation) & 63u));
  }

  // numpy's next_uint32: the low half of a fresh 64-bit output, then its high half.
  uint32_t next32() {
    if (has_half_) {
      has_half_ = false;
      return half_;
    }
    const uint64_t v = next64();
    half_ = static_cast<uint32_t>(v >> 32);
    has_half_ = true;
    return static_cast<uint32_t>(v);
  }

  float next_float() { return static_cast<float>(next32() >> 8) * (1.0f / 16777216.0f); }

 private:
  u128 state_, inc_;
  uint32_t half_ = 0;
  bool has_half_ = false;
};

}  // namespace

void uniform_floats(const Pcg64Seed& seed, float* out, int64_t n) {
  Pcg64 rng(seed);
  for (int64_t i = 0; i < n; ++i) out[i] = rng.next_float();
}

void dropout_mask(const Pcg64Seed& seed, float keep, float* mask, int64_t n) {
  Pcg64 rng(seed);
  for (int64_t i = 0; i < n; ++i) mask[i] = std::floor(rng.next_float() + keep) / keep;
}

}  // namespace lamina
