// Dropout masks drawn exactly as lamina's tape path draws them (numpy), so that a fused step
// and a tape step with the same seed zero the same values.
//
// The tape path draws U[0, 1) float32 noise with numpy's Generator(PCG64).random(dtype=float32)
// and keeps floor(u + keep) / keep. Here the same PCG64 (128-bit LCG, XSL-RR output) is
// restarted from a state the caller reads off that very numpy generator, and each float is
// made as numpy makes it: the low then the high 32 bits of each 64-bit output, shifted right
// by 8 and scaled by 2^-24.
#pragma once

#include <cstdint>

namespace lamina {

// A PCG64 state as numpy's bit_generator.state holds it: {state, inc} as 128-bit integers,
// each given as its high and low 64-bit halves. The state is taken fresh (no buffered
// 32-bit half), as numpy has it right after the generator is made.
struct Pcg64Seed {
  uint64_t state_high = 0, state_low = 0, inc_high = 0, inc_low = 0;
};

// The PCG64 states of numpy.random.default_rng(SeedSequence(entropy, spawn_key=(key,))):
// numpy's SeedSequence (NEP 19: its output is fixed across numpy versions) hashes the entropy
// words (the entropy int as little-endian uint32 words, at least one) and the spawn key into a
// pool of 4 words, draws 4 uint64 from it, and PCG64 seeds its state and increment from them.
// lamina.random hands out such generators in order (spawn keys 0, 1, 2, ... after set_seed);
// this makes their states in C++ for a whole epoch of dropout masks at once.
class NumpySeedSequence {
 public:
  NumpySeedSequence(const uint32_t* entropy, int64_t entropy_words);
  // The state of the child with spawn_key=(key,): the entropy's share of the hashing is done
  // once, in the constructor, so each child costs the same whatever the entropy's length.
  Pcg64Seed child(uint32_t key) const;

 private:
  uint32_t pool_[4];   // the pool after mixing in the run entropy
  uint32_t hash_a_;    // hashmix's running constant at that point
};

// n float32 draws in [0, 1), equal to numpy.random.Generator(PCG64 at `seed`).random(n, float32).
void uniform_floats(const Pcg64Seed& seed, float* out, int64_t n);

// The inverted-dropout keep mask of n values: floor(u + keep) / keep for each draw u, in float32
// (so each value is 0 or 1/keep). keep = 1 - rate, with 0 < keep <= 1.
void dropout_mask(const Pcg64Seed& seed, float keep, float* mask, int64_t n);

}  // namespace lamina
