// Double-precision activations and derivatives, written from the formulas in activations.h
// independently of the kernels: the oracle for test_activations.cc and test_dense.cc.
#pragma once

#include <cmath>

#include "kernels/activations.h"

namespace lamina_test {

inline double ref_sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }
inline double ref_softplus(double z) { return std::fmax(z, 0.0) + std::log1p(std::exp(-std::fabs(z))); }

inline double ref_forward(lamina::Activation act, double z) {
  using A = lamina::Activation;
  const double scale = 1.0507009873554804934193349852946;
  const double scale_alpha = 1.7580993408473768599402175208123;
  switch (act) {
    case A::linear: return z;
    case A::relu: return z > 0 ? z : 0.0;
    case A::relu6: return std::fmin(6.0, z > 0 ? z : 0.0);
    case A::elu: return z > 0 ? z : std::expm1(z);
    case A::selu: return z > 0 ? scale * z : scale_alpha * std::expm1(z);
    case A::sigmoid: return ref_sigmoid(z);
    case A::hard_sigmoid: return std::fmin(1.0, std::fmax(0.0, 0.2 * z + 0.5));
    case A::tanh: return std::tanh(z);
    case A::softplus: return ref_softplus(z);
    case A::softsign: return z / (1.0 + std::fabs(z));
    case A::swish: return z * ref_sigmoid(z);
    case A::gelu: return 0.5 * z * std::erfc(-z / std::sqrt(2.0));
    case A::mish: return z * std::tanh(ref_softplus(z));
  }
  return NAN;
}

// f'(z), with TF.js's values at the kinks.
inline double ref_derivative(lamina::Activation act, double z) {
  using A = lamina::Activation;
  const double scale = 1.0507009873554804934193349852946;
  const double scale_alpha = 1.7580993408473768599402175208123;
  const double pi = 3.14159265358979323846;
  switch (act) {
    case A::linear: return 1.0;
    case A::relu: return z > 0 ? 1.0 : 0.0;
    case A::relu6: return z > 0 && z < 6 ? 1.0 : 0.0;
    case A::elu: return z > 0 ? 1.0 : std::exp(z);
    case A::selu: return z > 0 ? scale : scale_alpha * std::exp(z);
    case A::sigmoid: { double s = ref_sigmoid(z); return s * (1 - s); }
    case A::hard_sigmoid: return z >= -2.5 && z <= 2.5 ? 0.2 : 0.0;
    case A::tanh: { double t = std::tanh(z); return 1 - t * t; }
    case A::softplus: return ref_sigmoid(z);
    case A::softsign: { double d = 1 + std::fabs(z); return 1 / (d * d); }
    case A::swish: { double s = ref_sigmoid(z); return s + z * s * (1 - s); }
    case A::gelu:
      return 0.5 * std::erfc(-z / std::sqrt(2.0)) + z * std::exp(-0.5 * z * z) / std::sqrt(2 * pi);
    case A::mish: {
      double t = std::tanh(ref_softplus(z));
      return t + z * ref_sigmoid(z) * (1 - t * t);
    }
  }
  return NAN;
}

}  // namespace lamina_test
