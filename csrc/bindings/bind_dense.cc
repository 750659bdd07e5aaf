// Activations and the dense layer: argument checks, then the kernels with the GIL released.
#include <string>
#include <tuple>

#include "bindings/checks.h"
#include "kernels/activations.h"
#include "kernels/dense.h"

namespace lamina::bind {

namespace {

Activation activation_arg(const std::string& name) {
  Activation act;
  if (!parse_activation(name, &act)) {
    throw py::value_error("activation must be one of " + activation_names() + ", got '" + name +
                          "'");
  }
  return act;
}

py::object array_or_none(const py::array_t<float>& a, bool present) {
  return present ? py::object(a) : py::object(py::none());
}

}  // namespace

void register_dense(py::module_& m) {
  m.def(
      "activation",
      [](const std::string& name, py::object x_obj) {
        Activation act = activation_arg(name);
        View<float> x = f32(x_obj, "x");
        py::array_t<float> y = new_f32(x.shape);
        float* out = y.mutable_data();
        {
          py::gil_scoped_release release;
          activation_forward(act, x.data, out, x.size);
        }
        return y;
      },
      py::arg("name"), py::arg("x"),
      "Returns f(x) elementwise as a new float32 array; f named as in TF.js, snake_case.");

  m.def(
      "activation_backward",
      [](const std::string& name, py::object x_obj, py::object y_obj, py::object dy_obj) {
        Activation act = activation_arg(name);
        View<float> dy = f32(dy_obj, "dy");
        const bool needs_x = activation_backward_needs_input(act);
        const float* x = nullptr;
        const float* y = nullptr;
        if (needs_x || !x_obj.is_none()) {
          if (x_obj.is_none()) {
            throw py::value_error(std::string("x must be given for activation '") + name +
                                  "' (its gradient is computed from the input), got None");
          }
          View<float> xv = f32(x_obj, "x");
          expect_shape(xv.shape, dy.shape, "x", "to match dy");
          x = xv.data;
        }
        if (!needs_x || !y_obj.is_none()) {
          if (y_obj.is_none()) {
            throw py::value_error(std::string("y must be given for activation '") + name +
                                  "' (its gradient is computed from the output), got None");
          }
          View<float> yv = f32(y_obj, "y");
          expect_shape(yv.shape, dy.shape, "y", "to match dy");
          y = yv.data;
        }
        py::array_t<float> dx = new_f32(dy.shape);
        float* out = dx.mutable_data();
        {
          py::gil_scoped_release release;
          activation_backward(act, x, y, dy.data, out, dy.size);
        }
        return dx;
      },
      py::arg("name"), py::arg("x"), py::arg("y"), py::arg("dy"),
      "Returns dy·f'(x). x (the input) or y (the output f(x)) may be None when the gradient "
      "does not need it; activation_backward_needs_input(name) says which.");

  m.def(
      "activation_backward_needs_input",
      [](const std::string& name) { return activation_backward_needs_input(activation_arg(name)); },
      py::arg("name"), "True when the gradient is computed from the input x, False when from y.");

  m.def(
      "dense_forward",
      [](py::object x_obj, py::object w_obj, py::object b_obj, const std::string& activation,
         bool keep_preactivation) -> py::object {
        Activation act = activation_arg(activation);
        View<float> x = f32(x_obj, "x");
        View<float> w = f32(w_obj, "w");
        expect_rank(x.shape, 2, "x");
        expect_rank(w.shape, 2, "w");
        const int64_t batch = x.dim(0), in = x.dim(1);
        expect_shape(w.shape, {in, -1}, "w", "to match x of shape " + shape_text(x.shape));
        const int64_t out = w.dim(1);
        const float* b = nullptr;
        View<float> bv;
        if (!b_obj.is_none()) {
          bv = f32(b_obj, "b");
          expect_shape(bv.shape, {out}, "b", "to match w of shape " + shape_text(w.shape));
          b = bv.data;
        }
        py::array_t<float> y = new_f32({batch, out});
        py::array_t<float> z = new_f32({keep_preactivation ? batch : 0, out});
        float* y_data = y.mutable_data();
        float* z_data = keep_preactivation ? z.mutable_data() : nullptr;
        {
          py::gil_scoped_release release;
          dense_forward(x.data, w.data, b, y_data, z_data, batch, in, out, act);
        }
        if (keep_preactivation) return py::make_tuple(y, z);
        return y;
      },
      py::arg("x"), py::arg("w"), py::arg("b"), py::arg("activation") = "linear", py::kw_only(),
      py::arg("keep_preactivation") = false,
      "y = activation(x @ w + b) for x (batch, in), w (in, out), b (out,) or None. With "
      "keep_preactivation=True returns (y, z), z = x @ w + b.");

  m.def(
      "dense_backward",
      [](py::object x_obj, py::object w_obj, py::object y_obj, py::object z_obj,
         py::object dy_obj, const std::string& activation, bool has_bias, bool need_dx) {
        Activation act = activation_arg(activation);
        View<float> x = f32(x_obj, "x");
        View<float> w = f32(w_obj, "w");
        View<float> dy = f32(dy_obj, "dy");
        expect_rank(x.shape, 2, "x");
        expect_rank(w.shape, 2, "w");
        const int64_t batch = x.dim(0), in = x.dim(1);
        expect_shape(w.shape, {in, -1}, "w", "to match x of shape " + shape_text(x.shape));
        const int64_t out = w.dim(1);
        const std::string result_shape = "(the shape of x @ w)";
        expect_shape(dy.shape, {batch, out}, "dy", result_shape);
        const bool needs_z = activation_backward_needs_input(act);
        const float* y = nullptr;
        const float* z = nullptr;
        View<float> yv, zv;
        if (needs_z) {
          if (z_obj.is_none()) {
            throw py::value_error("z must be given for activation '" + activation +
                                  "' (its gradient is computed from the pre-activation), got None");
          }
          zv = f32(z_obj, "z");
          expect_shape(zv.shape, {batch, out}, "z", result_shape);
          z = zv.data;
        } else if (act != Activation::linear) {
          yv = f32(y_obj, "y");
          expect_shape(yv.shape, {batch, out}, "y", result_shape);
          y = yv.data;
        }
        py::array_t<float> dw = new_f32({in, out});
        py::array_t<float> db = new_f32({has_bias ? out : 0});
        py::array_t<float> dx = new_f32({need_dx ? batch : 0, in});
        py::array_t<float> dz_scratch = new_f32({act == Activation::linear ? 0 : batch, out});
        float* dw_data = dw.mutable_data();
        float* db_data = has_bias ? db.mutable_data() : nullptr;
        float* dx_data = need_dx ? dx.mutable_data() : nullptr;
        float* dz_data = act == Activation::linear ? nullptr : dz_scratch.mutable_data();
        {
          py::gil_scoped_release release;
          dense_backward(x.data, w.data, y, z, dy.data, dz_data, dw_data, db_data, dx_data, batch,
                         in, out, act);
        }
        return py::make_tuple(dw, array_or_none(db, has_bias), array_or_none(dx, need_dx));
      },
      py::arg("x"), py::arg("w"), py::arg("y"), py::arg("z"), py::arg("dy"), py::kw_only(),
      py::arg("activation"), py::arg("has_bias") = true, py::arg("need_dx") = true,
      "Gradients of y = activation(x @ w + b) from dy: returns (dw, db or None, dx or None). "
      "Needs z (from dense_forward(..., keep_preactivation=True)) or y, as "
      "activation_backward_needs_input(activation) says; the other may be None.");
}

}  // namespace lamina::bind
