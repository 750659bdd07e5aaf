// Bindings for the dropout noise (kernels/dropout.h): numpy-identical PCG64 float32 draws and
// dropout keep masks, from a seed read off a numpy Generator. lamina's fused trainer draws its
// masks with these kernels; the functions here let tests hold them against numpy directly.
#include <string>

#include "bindings/checks.h"
#include "kernels/dropout.h"

namespace lamina::bind {

namespace {

// A [4] uint64 array (state high, state low, inc high, inc low).
Pcg64Seed seed_arg(const py::handle& obj) {
  View<uint64_t> v = u64(obj, "seed");
  expect_shape(v.shape, {4}, "seed", "(state high, state low, inc high, inc low)");
  return {v.data[0], v.data[1], v.data[2], v.data[3]};
}

int64_t count_arg(int64_t n) {
  if (n < 0) throw py::value_error("n must be >= 0, got " + std::to_string(n));
  // Far beyond any mask a model needs, and it keeps a fuzzed n from asking for terabytes.
  if (n > (int64_t{1} << 32)) throw py::value_error("n must be <= 2**32, got " + std::to_string(n));
  return n;
}

}  // namespace

void register_dropout(py::module_& m) {
  m.def(
      "uniform_floats",
      [](py::object seed_obj, int64_t n) {
        const Pcg64Seed seed = seed_arg(seed_obj);
        py::array_t<float> out = new_f32({count_arg(n)});
        float* o = out.mutable_data();
        py::gil_scoped_release release;
        uniform_floats(seed, o, n);
        return out;
      },
      py::arg("seed"), py::arg("n"),
      "n float32 draws in [0, 1), as numpy.random.Generator(PCG64).random(n, dtype=float32) makes "
      "them from the state seed = [state >> 64, state & mask, inc >> 64, inc & mask].");
  m.def(
      "dropout_mask",
      [](py::object seed_obj, double keep_prob, int64_t n) {
        const Pcg64Seed seed = seed_arg(seed_obj);
        expect_finite(keep_prob, "keep_prob");
        const float keep = static_cast<float>(keep_prob);
        if (!(keep > 0.0f && keep <= 1.0f)) {
          throw py::value_error("keep_prob must be in (0, 1], got " + std::to_string(keep_prob));
        }
        py::array_t<float> out = new_f32({count_arg(n)});
        float* o = out.mutable_data();
        py::gil_scoped_release release;
        dropout_mask(seed, keep, o, n);
        return out;
      },
      py::arg("seed"), py::arg("keep_prob"), py::arg("n"),
      "The inverted-dropout keep mask floor(u + keep_prob) / keep_prob (float32) of n draws u.");
}

}  // namespace lamina::bind
