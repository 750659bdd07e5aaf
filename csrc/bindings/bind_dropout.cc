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
      "numpy_stream_seeds",
      [](py::object entropy_obj, int64_t first_key, int64_t count) {
        View<uint32_t> entropy = u32(entropy_obj, "entropy");
        expect_rank(entropy.shape, 1, "entropy");
        if (entropy.size < 1) throw py::value_error("entropy must hold at least one word, got none");
        // At most 2**24 states (512 MB) per call: callers ask per epoch, in pieces if need be.
        if (count < 0 || count > (int64_t{1} << 24)) {
          throw py::value_error("count must be in [0, 2**24], got " + std::to_string(count));
        }
        if (first_key < 0 || first_key + count > (int64_t{1} << 32)) {
          throw py::value_error("spawn keys first_key .. first_key + count - 1 must lie in [0, 2**32), got " +
                                std::to_string(first_key) + " and count " + std::to_string(count));
        }
        py::array_t<uint64_t> out({count, int64_t{4}});
        uint64_t* o = out.mutable_data();
        py::gil_scoped_release release;
        const NumpySeedSequence sequence(entropy.data, entropy.size);
        for (int64_t i = 0; i < count; ++i) {
          const Pcg64Seed s = sequence.child(static_cast<uint32_t>(first_key + i));
          o[4 * i] = s.state_high;
          o[4 * i + 1] = s.state_low;
          o[4 * i + 2] = s.inc_high;
          o[4 * i + 3] = s.inc_low;
        }
        return out;
      },
      py::arg("entropy"), py::arg("first_key"), py::arg("count"),
      "PCG64 states [count, 4] (as uniform_floats takes them) of numpy.random.default_rng("
      "SeedSequence(entropy, spawn_key=(k,))) for k = first_key ... first_key + count - 1; "
      "entropy is the SeedSequence entropy as little-endian uint32 words.");
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
