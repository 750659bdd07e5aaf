// Bindings for the softmax family (kernels/softmax.h). Every function takes 2-D float32
// C-contiguous [rows, cols] arrays and returns new arrays; class-index labels are int32 of
// shape (rows,) or (rows, 1). The GIL is released while a kernel runs.
#include <cmath>
#include <string>

#include "bindings/checks.h"
#include "kernels/softmax.h"

namespace lamina::bind {

namespace {

View<float> matrix(const py::handle& obj, const char* name) {
  View<float> v = f32(obj, name);
  expect_rank(v.shape, 2, name);
  return v;
}

std::string matching(const char* name, const View<float>& v) {
  return std::string("to match ") + name + " of shape " + shape_text(v.shape);
}

bool is_int32_array(const py::handle& obj) {
  return py::isinstance<py::array>(obj) &&
         py::reinterpret_borrow<py::array>(obj).dtype().is(py::dtype::of<int32_t>());
}

// Class indices, one per row of `of` (named of_name): int32 of shape (rows,) or (rows, 1).
View<int32_t> class_indices(const py::handle& obj, const View<float>& of, const char* of_name) {
  View<int32_t> k = i32(obj, "labels");
  const int64_t rows = of.dim(0);
  const bool ok = (k.shape.size() == 1 && k.shape[0] == rows) ||
                  (k.shape.size() == 2 && k.shape[0] == rows && k.shape[1] == 1);
  if (!ok) {
    throw py::value_error("labels of dtype int32 must have shape (" + std::to_string(rows) +
                          ",) or (" + std::to_string(rows) + ", 1) " + matching(of_name, of) +
                          ", got " + shape_text(k.shape));
  }
  return k;
}

// Raises for the row a sparse kernel reported (bad_row >= 0).
void expect_valid_class(int64_t bad_row, const View<int32_t>& k, int64_t cols) {
  if (bad_row < 0) return;
  throw py::value_error("labels[" + std::to_string(bad_row) + "] is " +
                        std::to_string(k.data[bad_row]) + ", not a class index in [0, " +
                        std::to_string(cols) + ")");
}

void expect_epsilon(double epsilon) {
  if (!(std::isfinite(epsilon) && epsilon >= 0.0 && epsilon <= 0.5)) {
    throw py::value_error("epsilon must be a finite number in [0, 0.5], got " +
                          std::to_string(epsilon));
  }
}

// The upstream gradient of the per-row losses: a number (the same weight for every row, e.g.
// 1/rows for a mean) or a float32 array of shape (rows,).
struct RowWeights {
  View<float> per_row;  // data == nullptr when a number was given
  float scale = 1.0f;
};

RowWeights row_weights(const py::handle& obj, int64_t rows) {
  RowWeights w;
  if (py::isinstance<py::array>(obj)) {
    w.per_row = f32(obj, "dloss");
    expect_shape(w.per_row.shape, {rows}, "dloss", "(one upstream gradient per row)");
    return w;
  }
  double value;
  try {
    value = obj.cast<double>();
  } catch (const py::cast_error&) {
    throw py::type_error("dloss must be a number or a float32 array of shape (" +
                         std::to_string(rows) + ",), got " +
                         py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
  }
  expect_finite(value, "dloss");
  w.scale = static_cast<float>(value);
  return w;
}

}  // namespace

void register_softmax(py::module_& m) {
  m.def(
      "softmax",
      [](py::object x) {
        View<float> in = matrix(x, "x");
        const int64_t rows = in.dim(0), cols = in.dim(1);
        py::array_t<float> out = new_f32({rows, cols});
        float* y = out.mutable_data();
        {
          py::gil_scoped_release release;
          softmax_forward(in.data, y, rows, cols);
        }
        return out;
      },
      py::arg("x"),
      "softmax(x) -> y, row-wise over a 2-D float32 array: y = exp(x - max) / sum(exp(x - max)).");

  m.def(
      "softmax_backward",
      [](py::object y, py::object dy) {
        View<float> yv = matrix(y, "y");
        View<float> dyv = f32(dy, "dy");
        expect_shape(dyv.shape, yv.shape, "dy", matching("y", yv));
        const int64_t rows = yv.dim(0), cols = yv.dim(1);
        py::array_t<float> out = new_f32({rows, cols});
        float* dx = out.mutable_data();
        {
          py::gil_scoped_release release;
          softmax_backward(yv.data, dyv.data, dx, rows, cols);
        }
        return out;
      },
      py::arg("y"), py::arg("dy"),
      "softmax_backward(y, dy) -> dx, where y is softmax's output: "
      "dx = y * (dy - sum(dy * y, axis=1, keepdims=True)).");

  m.def(
      "softmax_cross_entropy",
      [](py::object logits, py::object labels, double grad_scale, bool with_grad) -> py::tuple {
        View<float> z = matrix(logits, "logits");
        const int64_t rows = z.dim(0), cols = z.dim(1);
        expect_finite(grad_scale, "grad_scale");
        const float scale = static_cast<float>(grad_scale);
        py::array_t<float> loss = new_f32({rows});
        py::object dlogits = py::none();
        float* dz = nullptr;
        if (with_grad) {
          py::array_t<float> d = new_f32({rows, cols});
          dz = d.mutable_data();
          dlogits = d;
        }
        float* l = loss.mutable_data();
        if (is_int32_array(labels)) {
          View<int32_t> k = class_indices(labels, z, "logits");
          int64_t bad_row;
          {
            py::gil_scoped_release release;
            bad_row = softmax_cross_entropy_sparse(z.data, k.data, l, dz, rows, cols, scale);
          }
          expect_valid_class(bad_row, k, cols);
        } else {
          if (py::isinstance<py::array>(labels) &&
              !py::reinterpret_borrow<py::array>(labels).dtype().is(py::dtype::of<float>())) {
            throw py::type_error(
                "labels must have dtype float32 (one-hot or soft labels) or int32 (class "
                "indices), got " +
                py::str(py::reinterpret_borrow<py::array>(labels).dtype()).cast<std::string>());
          }
          View<float> t = f32(labels, "labels");
          expect_shape(t.shape, z.shape, "labels", matching("logits", z));
          py::gil_scoped_release release;
          softmax_cross_entropy(z.data, t.data, l, dz, rows, cols, scale);
        }
        return py::make_tuple(loss, dlogits);
      },
      py::arg("logits"), py::arg("labels"), py::kw_only(), py::arg("grad_scale") = 1.0,
      py::arg("with_grad") = true,
      "softmax_cross_entropy(logits, labels, *, grad_scale=1.0, with_grad=True) -> (loss, dlogits)\n\n"
      "Per-row softmax cross-entropy from logits, as TF.js tf.losses.softmaxCrossEntropy before\n"
      "its batch reduction: loss[r] = -sum_j labels[r,j] * (logits[r,j] - logsumexp(logits[r])).\n"
      "labels: float32 of logits' shape (one-hot or soft), or int32 class indices of shape\n"
      "(rows,) or (rows, 1); an index outside [0, cols) raises ValueError.\n"
      "dlogits = grad_scale * (softmax(logits) * sum_j labels[r,j] - labels), the gradient of\n"
      "grad_scale * loss (pass 1/rows for a mean); None when with_grad is False.");

  m.def(
      "categorical_crossentropy",
      [](py::object probs, py::object labels, double epsilon) {
        View<float> y = matrix(probs, "probs");
        View<float> t = f32(labels, "labels");
        expect_shape(t.shape, y.shape, "labels", matching("probs", y));
        expect_epsilon(epsilon);
        const int64_t rows = y.dim(0), cols = y.dim(1);
        py::array_t<float> loss = new_f32({rows});
        float* l = loss.mutable_data();
        {
          py::gil_scoped_release release;
          categorical_crossentropy(y.data, t.data, l, rows, cols, epsilon);
        }
        return loss;
      },
      py::arg("probs"), py::arg("labels"), py::kw_only(), py::arg("epsilon") = 1e-7,
      "categorical_crossentropy(probs, labels, *, epsilon=1e-7) -> loss of shape (rows,)\n\n"
      "TF.js categoricalCrossentropy before its batch mean: p = probs / probs.sum(1),\n"
      "p = clip(p, epsilon, 1 - epsilon), loss = -sum(labels * log(p), 1). Labels are used\n"
      "as given (not normalised).");

  m.def(
      "categorical_crossentropy_backward",
      [](py::object probs, py::object labels, py::object dloss, double epsilon) {
        View<float> y = matrix(probs, "probs");
        View<float> t = f32(labels, "labels");
        expect_shape(t.shape, y.shape, "labels", matching("probs", y));
        const int64_t rows = y.dim(0), cols = y.dim(1);
        RowWeights w = row_weights(dloss, rows);
        expect_epsilon(epsilon);
        py::array_t<float> out = new_f32({rows, cols});
        float* d = out.mutable_data();
        {
          py::gil_scoped_release release;
          categorical_crossentropy_backward(y.data, t.data, w.per_row.data, w.scale, d, rows, cols,
                                            epsilon);
        }
        return out;
      },
      py::arg("probs"), py::arg("labels"), py::arg("dloss"), py::kw_only(),
      py::arg("epsilon") = 1e-7,
      "categorical_crossentropy_backward(probs, labels, dloss, *, epsilon=1e-7) -> dprobs\n\n"
      "The gradient of sum_r dloss[r] * loss[r] with respect to probs, through the clip (which\n"
      "passes the gradient where epsilon <= p <= 1 - epsilon, as TF.js) and the normalisation.\n"
      "dloss: a number (the same for every row, e.g. 1/rows) or float32 of shape (rows,).");

  m.def(
      "sparse_categorical_crossentropy",
      [](py::object probs, py::object labels, double epsilon) {
        View<float> y = matrix(probs, "probs");
        View<int32_t> k = class_indices(labels, y, "probs");
        expect_epsilon(epsilon);
        const int64_t rows = y.dim(0), cols = y.dim(1);
        py::array_t<float> loss = new_f32({rows});
        float* l = loss.mutable_data();
        int64_t bad_row;
        {
          py::gil_scoped_release release;
          bad_row = sparse_categorical_crossentropy(y.data, k.data, l, rows, cols, epsilon);
        }
        expect_valid_class(bad_row, k, cols);
        return loss;
      },
      py::arg("probs"), py::arg("labels"), py::kw_only(), py::arg("epsilon") = 1e-7,
      "sparse_categorical_crossentropy(probs, labels, *, epsilon=1e-7) -> loss of shape (rows,)\n\n"
      "TF.js sparseCategoricalCrossentropy before its batch mean: c = clip(probs, eps, 1 - eps),\n"
      "loss = -log(clip(c[r, labels[r]] / c[r].sum(), eps, 1 - eps)). labels: int32 class\n"
      "indices of shape (rows,) or (rows, 1); an index outside [0, cols) raises ValueError.");

  m.def(
      "sparse_categorical_crossentropy_backward",
      [](py::object probs, py::object labels, py::object dloss, double epsilon) {
        View<float> y = matrix(probs, "probs");
        View<int32_t> k = class_indices(labels, y, "probs");
        const int64_t rows = y.dim(0), cols = y.dim(1);
        RowWeights w = row_weights(dloss, rows);
        expect_epsilon(epsilon);
        py::array_t<float> out = new_f32({rows, cols});
        float* d = out.mutable_data();
        int64_t bad_row;
        {
          py::gil_scoped_release release;
          bad_row = sparse_categorical_crossentropy_backward(y.data, k.data, w.per_row.data,
                                                             w.scale, d, rows, cols, epsilon);
        }
        expect_valid_class(bad_row, k, cols);
        return out;
      },
      py::arg("probs"), py::arg("labels"), py::arg("dloss"), py::kw_only(),
      py::arg("epsilon") = 1e-7,
      "sparse_categorical_crossentropy_backward(probs, labels, dloss, *, epsilon=1e-7) -> dprobs\n\n"
      "The gradient of sum_r dloss[r] * loss[r] with respect to probs, through both clips and\n"
      "the normalisation. dloss: a number or float32 of shape (rows,).");
}

}  // namespace lamina::bind
