// Argument checks shared by every binding. A kernel only ever sees arrays that passed them:
// numpy float32 (or int32, uint32, uint64, float64), C-contiguous, of the expected rank and shape, writeable when the
// kernel writes them. Every failure raises TypeError (wrong kind or dtype) or ValueError
// (wrong shape, layout, value) whose message names the argument, what was expected and
// what was given.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lamina::bind {

namespace py = pybind11;

// A checked view of a numpy array. Holds a reference, so the data stays alive.
template <class T>
struct View {
  py::array array;
  T* data = nullptr;
  std::vector<int64_t> shape;
  int64_t size = 0;
  int64_t dim(size_t i) const { return shape[i]; }
  int64_t rows() const { return shape.empty() ? 1 : shape[0]; }
};

std::string shape_text(const std::vector<int64_t>& shape);

// `name` must be a C-contiguous float32 ndarray. writeable: the kernel writes into it.
View<float> f32(const py::handle& obj, const char* name, bool writeable = false);
View<int32_t> i32(const py::handle& obj, const char* name, bool writeable = false);
View<uint64_t> u64(const py::handle& obj, const char* name, bool writeable = false);
View<uint32_t> u32(const py::handle& obj, const char* name, bool writeable = false);
View<double> f64(const py::handle& obj, const char* name, bool writeable = false);

// Rank and shape checks; -1 in `expected` accepts any extent.
void expect_rank(const std::vector<int64_t>& shape, size_t rank, const char* name);
void expect_shape(const std::vector<int64_t>& shape, const std::vector<int64_t>& expected,
                  const char* name, const std::string& because = "");

// Raises ValueError when an output array shares memory with an input: kernels read inputs
// while writing outputs, so aliasing would silently give wrong results.
void expect_disjoint(const py::array& out, const char* out_name, const py::array& in,
                     const char* in_name);

// A float argument that must be finite (and optionally > 0 or >= 0).
void expect_finite(double value, const char* name);
void expect_positive(double value, const char* name);
void expect_non_negative(double value, const char* name);

// A new C-contiguous float32 array of the given shape (uninitialised).
py::array_t<float> new_f32(const std::vector<int64_t>& shape);

}  // namespace lamina::bind
