#include <string>

#include "bindings/checks.h"
#include "kernels/gemm.h"

namespace lamina::bind {

namespace {

struct Product {
  View<float> a, b;
  int64_t m, n, k;
};

// Checks a and b as the two factors of op(a)·op(b) and returns the product's size.
Product check_factors(const py::object& a_obj, const py::object& b_obj, bool trans_a, bool trans_b) {
  Product p{f32(a_obj, "a"), f32(b_obj, "b"), 0, 0, 0};
  expect_rank(p.a.shape, 2, "a");
  expect_rank(p.b.shape, 2, "b");
  p.m = trans_a ? p.a.dim(1) : p.a.dim(0);
  p.k = trans_a ? p.a.dim(0) : p.a.dim(1);
  std::string because = "to match a of shape " + shape_text(p.a.shape) +
                        (trans_a ? " with trans_a=True" : "") +
                        (trans_b ? " and trans_b=True" : "");
  expect_shape(p.b.shape, trans_b ? std::vector<int64_t>{-1, p.k} : std::vector<int64_t>{p.k, -1},
               "b", because);
  p.n = trans_b ? p.b.dim(0) : p.b.dim(1);
  return p;
}

}  // namespace

void register_gemm(py::module_& m) {
  m.def(
      "gemm",
      [](py::object a, py::object b, py::object c, double alpha, double beta, bool trans_a,
         bool trans_b) {
        Product p = check_factors(a, b, trans_a, trans_b);
        View<float> out = f32(c, "c", /*writeable=*/true);
        expect_shape(out.shape, {p.m, p.n}, "c", "(the shape of op(a)·op(b))");
        expect_disjoint(out.array, "c", p.a.array, "a");
        expect_disjoint(out.array, "c", p.b.array, "b");
        expect_finite(alpha, "alpha");
        expect_finite(beta, "beta");
        py::gil_scoped_release release;
        gemm(trans_a, trans_b, p.m, p.n, p.k, static_cast<float>(alpha), p.a.data, p.a.dim(1),
             p.b.data, p.b.dim(1), static_cast<float>(beta), out.data, p.n);
      },
      py::arg("a"), py::arg("b"), py::arg("c"), py::kw_only(), py::arg("alpha") = 1.0,
      py::arg("beta") = 0.0, py::arg("trans_a") = false, py::arg("trans_b") = false,
      "c = alpha·op(a)·op(b) + beta·c, in place; float32, C-contiguous, 2-D.");
  m.def(
      "matmul",
      [](py::object a, py::object b, bool trans_a, bool trans_b) {
        Product p = check_factors(a, b, trans_a, trans_b);
        py::array_t<float> out = new_f32({p.m, p.n});
        float* c = out.mutable_data();
        {
          py::gil_scoped_release release;
          gemm(trans_a, trans_b, p.m, p.n, p.k, 1.0f, p.a.data, p.a.dim(1), p.b.data, p.b.dim(1),
               0.0f, c, p.n);
        }
        return out;
      },
      py::arg("a"), py::arg("b"), py::kw_only(), py::arg("trans_a") = false,
      py::arg("trans_b") = false, "Returns op(a)·op(b) as a new float32 array.");
}

}  // namespace lamina::bind
