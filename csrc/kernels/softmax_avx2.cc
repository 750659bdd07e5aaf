// The AVX2+FMA softmax family: the row loops of softmax_impl.h with 8 lanes (one ymm
// register per reduction) and the branch-free exp/log of vector_math.h.
// CMakeLists.txt compiles this file with -fno-trapping-math, without which GCC would not
// if-convert the selects in vmath::exp/vmath::log and would leave those loops scalar.

#define LAMINA_SOFTMAX_TABLE softmax_kernels_avx2
#define LAMINA_SOFTMAX_LANES 8
#define LAMINA_SOFTMAX_EXP vmath::exp
#define LAMINA_SOFTMAX_LOG vmath::log
#include "kernels/softmax_impl.h"
