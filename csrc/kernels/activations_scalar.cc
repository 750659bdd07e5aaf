// Activations, the plain reference: <cmath> functions, one element at a time
// (this file is compiled with -fno-tree-vectorize).
#define LAMINA_ACTIVATION_TABLE activation_kernels_scalar
#include "kernels/activations_impl.h"
