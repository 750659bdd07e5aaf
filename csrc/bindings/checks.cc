#include "bindings/checks.h"

#include <cmath>
#include <sstream>

namespace lamina::bind {

namespace {

std::string type_name(const py::handle& obj) {
  return py::str(py::type::of(obj).attr("__name__")).cast<std::string>();
}

template <class T>
View<T> view_of(const py::handle& obj, const char* name, bool writeable, const char* dtype_name) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + " must be a numpy.ndarray of " + dtype_name +
                         ", got " + type_name(obj));
  }
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>())) {
    throw py::type_error(std::string(name) + " must have dtype " + dtype_name + ", got " +
                         py::str(arr.dtype()).cast<std::string>());
  }
  View<T> v;
  v.shape.assign(arr.shape(), arr.shape() + arr.ndim());
  if (!(arr.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) + " must be C-contiguous, got a strided array of shape " +
                          shape_text(v.shape) + " (use numpy.ascontiguousarray)");
  }
  if (!(arr.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_)) {
    throw py::value_error(std::string(name) + " must be aligned to its element size, got a misaligned view"
                          " (use numpy.ascontiguousarray or copy it)");
  }
  if (writeable && !arr.writeable()) {
    throw py::value_error(std::string(name) + " must be a writeable array, got a read-only one");
  }
  v.size = static_cast<int64_t>(arr.size());
  v.data = static_cast<T*>(const_cast<void*>(arr.data()));
  v.array = std::move(arr);
  return v;
}

}  // namespace

std::string shape_text(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << "(";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << (shape.size() == 1 ? ",)" : ")");
  return out.str();
}

View<float> f32(const py::handle& obj, const char* name, bool writeable) {
  return view_of<float>(obj, name, writeable, "float32");
}

View<int32_t> i32(const py::handle& obj, const char* name, bool writeable) {
  return view_of<int32_t>(obj, name, writeable, "int32");
}

View<uint64_t> u64(const py::handle& obj, const char* name, bool writeable) {
  return view_of<uint64_t>(obj, name, writeable, "uint64");
}

View<uint32_t> u32(const py::handle& obj, const char* name, bool writeable) {
  return view_of<uint32_t>(obj, name, writeable, "uint32");
}

View<double> f64(const py::handle& obj, const char* name, bool writeable) {
  return view_of<double>(obj, name, writeable, "float64");
}

void expect_rank(const std::vector<int64_t>& shape, size_t rank, const char* name) {
  if (shape.size() != rank) {
    throw py::value_error(std::string(name) + " must be " + std::to_string(rank) +
                          "-D, got shape " + shape_text(shape));
  }
}

void expect_shape(const std::vector<int64_t>& shape, const std::vector<int64_t>& expected,
                  const char* name, const std::string& because) {
  bool ok = shape.size() == expected.size();
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = expected[i] < 0 || expected[i] == shape[i];
  if (ok) return;
  std::ostringstream want;
  want << "(";
  for (size_t i = 0; i < expected.size(); ++i) {
    want << (i ? ", " : "");
    if (expected[i] < 0) want << "*"; else want << expected[i];
  }
  want << (expected.size() == 1 ? ",)" : ")");
  throw py::value_error(std::string(name) + " must have shape " + want.str() +
                        (because.empty() ? "" : " " + because) + ", got " + shape_text(shape));
}

void expect_disjoint(const py::array& out, const char* out_name, const py::array& in,
                     const char* in_name) {
  auto begin_out = static_cast<const char*>(out.data());
  auto end_out = begin_out + out.nbytes();
  auto begin_in = static_cast<const char*>(in.data());
  auto end_in = begin_in + in.nbytes();
  if (out.nbytes() > 0 && in.nbytes() > 0 && begin_out < end_in && begin_in < end_out) {
    throw py::value_error(std::string(out_name) + " must not share memory with " + in_name +
                          " (pass a separate output array)");
  }
}

std::string number_text(double value) {
  std::ostringstream out;
  out << value;  // 0.5, 1e+300, nan, inf: short, unlike std::to_string
  return out.str();
}

// Kernels take float32 scalars: a double beyond float's range would arrive as inf.
bool finite_as_float(double value) { return std::isfinite(static_cast<float>(value)); }

void expect_finite(double value, const char* name) {
  if (!finite_as_float(value)) {
    throw py::value_error(std::string(name) + " must be a finite number, got " + number_text(value));
  }
}

void expect_positive(double value, const char* name) {
  if (!(finite_as_float(value) && value > 0)) {
    throw py::value_error(std::string(name) + " must be a finite number > 0, got " + number_text(value));
  }
}

void expect_non_negative(double value, const char* name) {
  if (!(finite_as_float(value) && value >= 0)) {
    throw py::value_error(std::string(name) + " must be a finite number >= 0, got " + number_text(value));
  }
}

py::array_t<float> new_f32(const std::vector<int64_t>& shape) {
  std::vector<py::ssize_t> dims(shape.begin(), shape.end());
  return py::array_t<float>(dims);
}

}  // namespace lamina::bind
