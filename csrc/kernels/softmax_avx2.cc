// The AVX2+FMA softmax family: the row loops of softmax_impl.h with 8 lanes (one ymm
// register per reduction) and the branch-free exp/log of vector_math.h.
// Without -ftrapping-math GCC may if-convert the selects in vmath::exp/vmath::log (it otherwise
// threads a clamp into a branch whose arithmetic "might trap", and gives up vectorizing).
// Only floating-point exception flags are affected, never a value.
#pragma GCC optimize("no-trapping-math")

#define LAMINA_SOFTMAX_TABLE softmax_kernels_avx2
#define LAMINA_SOFTMAX_LANES 8
#define LAMINA_SOFTMAX_EXP vmath::exp
#define LAMINA_SOFTMAX_LOG vmath::log
#include "kernels/softmax_impl.h"
