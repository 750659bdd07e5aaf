// The fully connected layer, forward and backward, on row-major float32 matrices:
//   X [batch, in], W [in, out], b [out], Z = X·W + b, Y = act(Z)   (all [batch, out]).
#pragma once

#include <cstdint>

#include "kernels/activations.h"

namespace lamina {

// Y = act(X·W + b). b may be null (no bias). If z is not null it receives the
// pre-activation Z (the backward needs it when activation_backward_needs_input(act)).
// Bias, the copy to z and the activation are applied by the GEMM epilogue to each block of Y
// while it is still in cache. y must not overlap x, w, b or z.
void dense_forward(const float* x, const float* w, const float* b, float* y, float* z,
                   int64_t batch, int64_t in, int64_t out, Activation act);

// Gradients of the layer from dY:
//   dZ = dY ⊙ act'(·)   into dz_scratch [batch, out], computed from z or from y as
//                       activation_backward_needs_input(act) says (the other may be null);
//                       for linear dZ is dY itself and dz_scratch may be null
//   dW = Xᵀ·dZ          [in, out]   (dW += Xᵀ·dZ when accumulate)
//   db = Σ_rows dZ      [out]       if db is not null (db += ... when accumulate); each column is
//                                   summed top to bottom, so it does not depend on threads
//   dX = dZ·Wᵀ          [batch, in] if dx is not null (never accumulated)
// Nothing is allocated; outputs must not overlap the inputs or each other.
// db[j] = Σ_i dz[i, j] (db[j] += ... when accumulate), dz [batch, out]; rows are added in
// order for each column, so the sums do not depend on the thread count.
void column_sums(const float* dz, float* db, int64_t batch, int64_t out, bool accumulate = false);

void dense_backward(const float* x, const float* w, const float* y, const float* z,
                    const float* dy, float* dz_scratch, float* dw, float* db, float* dx,
                    int64_t batch, int64_t in, int64_t out, Activation act,
                    bool accumulate = false);

}  // namespace lamina
