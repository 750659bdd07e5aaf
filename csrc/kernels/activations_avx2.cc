// Activations, avx2 variant: the loops of activations_impl.h with vector_math.h's
// branch-free functions, which -O3 vectorizes under this file's flags.
#define LAMINA_ACTIVATION_USE_VMATH
#define LAMINA_ACTIVATION_TABLE activation_kernels_avx2
#include "kernels/activations_impl.h"
