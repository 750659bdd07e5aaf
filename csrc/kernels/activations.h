// Elementwise activations with TF.js's definitions (tfjs-layers/src/activations.ts and the
// tfjs-core ops and gradients it calls), forward y = f(z) and backward dz = dy ⊙ f'(z).
//
//   linear        z                                   f' = 1
//   relu          max(z, 0)                           f' = [z > 0]          (relu'(0) = 0, tfjs step)
//   relu6         min(6, max(z, 0))                   f' = [0 < z < 6]      (tfjs minimum/step grads)
//   elu           z > 0 ? z : e^z - 1                 f' = y > 0 ? 1 : y + 1 (tfjs EluGrad, from y)
//   selu          s·z if z > 0, else s·α·(e^z - 1)    f' = z > 0 ? s : s·α·e^z
//                 s = 1.0507009873554804934193349852946, s·α = 1.7580993408473768599402175208123
//   sigmoid       1 / (1 + e^-z)                      f' = y·(1 - y)
//   hard_sigmoid  clip(0.2·z + 0.5, 0, 1)             f' = 0.2 for -2.5 <= z <= 2.5 (clipByValue
//                                                     passes the gradient at the bounds), else 0
//   tanh          tanh z                              f' = 1 - y²
//   softplus      log(1 + e^z)                        f' = sigmoid(z)
//   softsign      z / (1 + |z|)                       f' = 1 / (1 + |z|)²
//   swish         z·sigmoid(z)                        f' = s + z·s·(1 - s), s = sigmoid(z)
//   gelu          z·Φ(z) = z·½·(1 + erf(z/√2))        f' = Φ(z) + z·φ(z)   (the erf form, as TF.js
//                                                     'gelu'; its tanh approximation is 'gelu_new')
//   mish          z·tanh(softplus(z))                 f' = t + z·sigmoid(z)·(1 - t²), t = tanh(softplus z)
//
// Numerics: the scalar variant uses <cmath> (softplus as max(z,0) + log1p(e^-|z|), gelu as
// ½·z·erfc(-z/√2), both without cancellation); the AVX2/AVX-512 variants use the
// branch-free approximations of vector_math.h, within a few ulp of it. (TF.js's CPU backend
// computes erf with a 1.5e-7-absolute approximation, so it agrees with both to that level.)
#pragma once

#include <cstdint>
#include <string>

namespace lamina {

enum class Activation {
  linear, relu, relu6, elu, selu, sigmoid, hard_sigmoid, tanh, softplus, softsign, swish, gelu,
  mish
};

constexpr int kNumActivations = 13;

// Parses a snake_case name ("relu", "hard_sigmoid", ...); false for anything else.
bool parse_activation(const std::string& name, Activation* out);

const char* activation_name(Activation act);

// Every valid name, comma-separated, for error messages.
std::string activation_names();

// Which forward quantity the backward reads: true → the pre-activation z, false → the
// output y (enough for linear, relu, relu6, elu, sigmoid and tanh; linear reads neither).
bool activation_backward_needs_input(Activation act);

// y[i] = f(z[i]) for i < n. y may equal z (in place).
void activation_forward(Activation act, const float* z, float* y, int64_t n);

// dz[i] = dy[i]·f'(z[i]) for i < n, computed from z when activation_backward_needs_input(act),
// else from y (the other pointer may then be null). dz may equal dy.
void activation_backward(Activation act, const float* z, const float* y, const float* dy,
                         float* dz, int64_t n);

// One ISA variant's loops (single-threaded; the functions above split work over the pool).
struct ActivationKernels {
  void (*forward)(Activation act, const float* z, float* y, int64_t n);
  void (*backward)(Activation act, const float* z, const float* y, const float* dy, float* dz,
                   int64_t n);
  // For i < n: c[i] += bias[i] (if bias); z_copy[i] = c[i] (if z_copy); c[i] = f(c[i]).
  // The dense forward runs it on each row of a finished GEMM block.
  void (*bias_forward)(Activation act, const float* bias, float* c, float* z_copy, int64_t n);
};

const ActivationKernels& activation_kernels_scalar();
const ActivationKernels& activation_kernels_avx2();
const ActivationKernels& activation_kernels_avx512();

// The variant for the active ISA.
const ActivationKernels& activation_kernels();

}  // namespace lamina
