#include "kernels/dropout.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/thread_pool.h"

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

  // Jumps over `steps` 64-bit outputs in O(log steps) (PCG's LCG advance, as numpy's
  // PCG64.advance), so a thread can start drawing in the middle of the stream.
  void skip(uint64_t steps) {
    u128 acc_mult = 1, acc_plus = 0, cur_mult = kMultiplier, cur_plus = inc_;
    while (steps > 0) {
      if (steps & 1u) {
        acc_mult *= cur_mult;
        acc_plus = acc_plus * cur_mult + cur_plus;
      }
      cur_plus = (cur_mult + 1) * cur_plus;
      cur_mult *= cur_mult;
      steps >>= 1;
    }
    state_ = acc_mult * state_ + acc_plus;
  }

 private:
  u128 state_, inc_;
  uint32_t half_ = 0;
  bool has_half_ = false;
};

// numpy's SeedSequence constants and hash (numpy/random/bit_generator.pyx).
constexpr uint32_t kInitA = 0x43b0d7e5u, kMultA = 0x931e8875u;
constexpr uint32_t kInitB = 0x8b51f9ddu, kMultB = 0x58f38dedu;
constexpr uint32_t kMixMultL = 0xca01f9ddu, kMixMultR = 0x4973f715u;
constexpr int kXShift = 16;
constexpr int kPoolSize = 4;

// Floats per task when a mask is drawn by several threads (even: whole 64-bit outputs).
// PCG64 makes ~1 float per ns, so smaller masks are drawn faster by one thread.
constexpr int64_t kMaskChunk = 32768;

uint32_t hashmix(uint32_t value, uint32_t* hash_const) {
  value ^= *hash_const;
  *hash_const *= kMultA;
  value *= *hash_const;
  value ^= value >> kXShift;
  return value;
}

uint32_t mix(uint32_t x, uint32_t y) {
  uint32_t result = kMixMultL * x - kMixMultR * y;
  result ^= result >> kXShift;
  return result;
}

// PCG64's seeding (pcg_setseq_128_srandom_r) from SeedSequence.generate_state(4, uint64).
Pcg64Seed seed_pcg64(const uint64_t words[4]) {
  const u128 initstate = (static_cast<u128>(words[0]) << 64) | words[1];
  const u128 initseq = (static_cast<u128>(words[2]) << 64) | words[3];
  const u128 inc = (initseq << 1) | 1u;
  u128 state = 0;
  state = state * kMultiplier + inc;
  state += initstate;
  state = state * kMultiplier + inc;
  return {static_cast<uint64_t>(state >> 64), static_cast<uint64_t>(state),
          static_cast<uint64_t>(inc >> 64), static_cast<uint64_t>(inc)};
}

}  // namespace

NumpySeedSequence::NumpySeedSequence(const uint32_t* entropy, int64_t entropy_words) {
  // SeedSequence's assembled entropy: the run entropy padded with zeros to the pool size
  // (there is a spawn key), then the key's word. The key comes last, so everything before it
  // is mixed here, once.
  std::vector<uint32_t> run(entropy, entropy + entropy_words);
  if (run.size() < kPoolSize) run.resize(kPoolSize, 0u);
  hash_a_ = kInitA;
  for (int i = 0; i < kPoolSize; ++i) pool_[i] = hashmix(run[i], &hash_a_);
  for (int src = 0; src < kPoolSize; ++src) {
    for (int dst = 0; dst < kPoolSize; ++dst) {
      if (src != dst) pool_[dst] = mix(pool_[dst], hashmix(pool_[src], &hash_a_));
    }
  }
  for (size_t src = kPoolSize; src < run.size(); ++src) {
    for (int dst = 0; dst < kPoolSize; ++dst) pool_[dst] = mix(pool_[dst], hashmix(run[src], &hash_a_));
  }
}

Pcg64Seed NumpySeedSequence::child(uint32_t key) const {
  uint32_t pool[kPoolSize];
  uint32_t hash_a = hash_a_;
  for (int dst = 0; dst < kPoolSize; ++dst) pool[dst] = mix(pool_[dst], hashmix(key, &hash_a));
  // generate_state(4, uint64): 8 uint32 words cycling over the pool, paired little-endian.
  uint32_t state32[8];
  uint32_t hash_b = kInitB;
  for (int i = 0; i < 8; ++i) {
    uint32_t value = pool[i % kPoolSize];
    value ^= hash_b;
    hash_b *= kMultB;
    value *= hash_b;
    value ^= value >> kXShift;
    state32[i] = value;
  }
  uint64_t words[4];
  for (int i = 0; i < 4; ++i) {
    words[i] = static_cast<uint64_t>(state32[2 * i]) | (static_cast<uint64_t>(state32[2 * i + 1]) << 32);
  }
  return seed_pcg64(words);
}

void uniform_floats(const Pcg64Seed& seed, float* out, int64_t n) {
  Pcg64 rng(seed);
  for (int64_t i = 0; i < n; ++i) out[i] = rng.next_float();
}

void dropout_mask(const Pcg64Seed& seed, float keep, float* mask, int64_t n) {
  // Draws of floats [begin, end) of the stream; begin even, so it starts on a fresh 64-bit
  // output (two floats each). Any split of the mask gives the same values.
  auto draw = [&](int64_t begin, int64_t end) {
    Pcg64 rng(seed);
    rng.skip(static_cast<uint64_t>(begin / 2));
    for (int64_t i = begin; i < end; ++i) mask[i] = std::floor(rng.next_float() + keep) / keep;
  };
  const int64_t tasks = (n + kMaskChunk - 1) / kMaskChunk;
  if (tasks < 2 || get_num_threads() == 1) {
    draw(0, n);
    return;
  }
  parallel_for(tasks, [&](int64_t t) { draw(t * kMaskChunk, std::min(n, (t + 1) * kMaskChunk)); });
}

}  // namespace lamina
