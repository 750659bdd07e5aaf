// Activation names and the threaded entry points; the loops are in activations_impl.h.
#include "kernels/activations.h"

#include <algorithm>

#include "kernels/variant.h"
#include "runtime/thread_pool.h"

namespace lamina {

namespace {

const char* const kNames[kNumActivations] = {
    "linear", "relu",  "relu6",    "elu",      "selu",  "sigmoid", "hard_sigmoid",
    "tanh",   "softplus", "softsign", "swish", "gelu",  "mish"};

// Elements per task: large enough that a task outweighs the pool's hand-off.
constexpr int64_t kChunk = 16384;

// Runs body(begin, end) over [0, n) in chunks spread over the pool. Each element's result
// does not depend on the chunking, so the output is the same for any thread count.
template <class Body>
void for_chunks(int64_t n, Body body) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  if (chunks <= 1 || get_num_threads() == 1) {
    body(int64_t{0}, n);
    return;
  }
  parallel_for(chunks, [&](int64_t c) { body(c * kChunk, std::min(n, (c + 1) * kChunk)); });
}

// p + offset, keeping a null pointer null (arithmetic on null is undefined).
inline const float* at(const float* p, int64_t offset) { return p ? p + offset : nullptr; }

}  // namespace

bool parse_activation(const std::string& name, Activation* out) {
  for (int i = 0; i < kNumActivations; ++i) {
    if (name == kNames[i]) {
      *out = static_cast<Activation>(i);
      return true;
    }
  }
  return false;
}

const char* activation_name(Activation act) {
  int i = static_cast<int>(act);
  return i >= 0 && i < kNumActivations ? kNames[i] : "unknown";
}

std::string activation_names() {
  std::string text;
  for (int i = 0; i < kNumActivations; ++i) text += (i ? ", " : "") + std::string(kNames[i]);
  return text;
}

bool activation_backward_needs_input(Activation act) {
  switch (act) {
    case Activation::linear:
    case Activation::relu:
    case Activation::relu6:
    case Activation::elu:
    case Activation::sigmoid:
    case Activation::tanh:
      return false;
    default:
      return true;
  }
}

const ActivationKernels& activation_kernels() {
  return LAMINA_PICK_VARIANT(active_isa(), activation_kernels);
}

void activation_forward(Activation act, const float* z, float* y, int64_t n) {
  const ActivationKernels& kern = activation_kernels();
  for_chunks(n, [&](int64_t begin, int64_t end) {
    kern.forward(act, z + begin, y + begin, end - begin);
  });
}

void activation_backward(Activation act, const float* z, const float* y, const float* dy,
                         float* dz, int64_t n) {
  const ActivationKernels& kern = activation_kernels();
  const bool from_z = activation_backward_needs_input(act);
  for_chunks(n, [&](int64_t begin, int64_t end) {
    kern.backward(act, from_z ? at(z, begin) : nullptr, from_z ? nullptr : at(y, begin),
                  dy + begin, dz + begin, end - begin);
  });
}

}  // namespace lamina
