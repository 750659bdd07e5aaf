// _core.fused.FusedTrainer: a plan of dense/activation/softmax stages over the caller's own weight
// and optimizer-slot arrays (kept alive here and updated in place), trained one batch or one
// epoch per call with the GIL released. lamina.engine.fused builds it; see fused_trainer.h.
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bindings/checks.h"
#include "kernels/fused_trainer.h"

namespace lamina::bind {

namespace {

template <class T>
T parse_name(const std::string& name, const char* argument,
             const std::vector<std::pair<const char*, T>>& table) {
  std::string valid;
  for (const auto& entry : table) {
    if (name == entry.first) return entry.second;
    valid += (valid.empty() ? "" : ", ") + std::string(entry.first);
  }
  throw py::value_error(std::string(argument) + " must be one of " + valid + ", got '" + name + "'");
}

LossKind loss_arg(const std::string& name) {
  return parse_name<LossKind>(name, "loss", {
      {"categorical_crossentropy", LossKind::categorical_crossentropy},
      {"sparse_categorical_crossentropy", LossKind::sparse_categorical_crossentropy},
      {"binary_crossentropy", LossKind::binary_crossentropy},
      {"mean_squared_error", LossKind::mean_squared_error},
      {"mean_absolute_error", LossKind::mean_absolute_error}});
}

MetricKind metric_arg(const std::string& name) {
  return parse_name<MetricKind>(name, "metrics", {
      {"binary_accuracy", MetricKind::binary_accuracy},
      {"categorical_accuracy", MetricKind::categorical_accuracy},
      {"sparse_categorical_accuracy", MetricKind::sparse_categorical_accuracy},
      {"categorical_crossentropy", MetricKind::categorical_crossentropy},
      {"sparse_categorical_crossentropy", MetricKind::sparse_categorical_crossentropy},
      {"binary_crossentropy", MetricKind::binary_crossentropy},
      {"mean_squared_error", MetricKind::mean_squared_error},
      {"mean_absolute_error", MetricKind::mean_absolute_error}});
}

OptimizerKind optimizer_arg(const std::string& name) {
  return parse_name<OptimizerKind>(name, "optimizer", {
      {"sgd", OptimizerKind::sgd}, {"momentum", OptimizerKind::momentum},
      {"adam", OptimizerKind::adam}, {"adamax", OptimizerKind::adamax},
      {"rmsprop", OptimizerKind::rmsprop}, {"adagrad", OptimizerKind::adagrad},
      {"adadelta", OptimizerKind::adadelta}});
}

// A dict entry, or a clear error naming where it is missing.
py::object entry(const py::dict& d, const char* key, const std::string& where) {
  if (!d.contains(key)) throw py::value_error(where + " needs the key '" + key + "'");
  return d[key];
}

// d[key] as a number, or `fallback` when absent; `where` names d in the error.
double number(const py::dict& d, const char* key, const std::string& where, double fallback) {
  if (!d.contains(key)) return fallback;
  py::object v = d[key];
  if (py::isinstance<py::bool_>(v) || !(py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v))) {
    throw py::type_error(where + "['" + key + "'] must be a number, got " +
                         py::str(py::type::of(v).attr("__name__")).cast<std::string>());
  }
  return v.cast<double>();
}

bool flag(const py::dict& d, const char* key) {
  if (!d.contains(key)) return false;
  py::object v = d[key];
  if (!py::isinstance<py::bool_>(v)) {
    throw py::type_error(std::string("hyperparameters['") + key + "'] must be True or False");
  }
  return v.cast<bool>();
}

int64_t positive_int(const py::handle& v, const char* name) {
  if (py::isinstance<py::bool_>(v) || !py::isinstance<py::int_>(v)) {
    throw py::type_error(std::string(name) + " must be an int, got " +
                         py::str(py::type::of(v).attr("__name__")).cast<std::string>());
  }
  const int64_t n = v.cast<int64_t>();
  if (n < 1) throw py::value_error(std::string(name) + " must be >= 1, got " + std::to_string(n));
  return n;
}

// An L1/L2 rate: finite, >= 0, as float32 (0 when absent).
float regularizer_rate(const py::dict& d, const char* key, const std::string& where) {
  const double rate = number(d, key, where, 0.0);
  const std::string name = where + "['" + key + "']";
  expect_finite(rate, name.c_str());
  expect_non_negative(rate, name.c_str());
  if (!std::isfinite(static_cast<float>(rate))) {
    throw py::value_error(name + " must be finite as float32, got " + std::to_string(rate));
  }
  return static_cast<float>(rate);
}

// The noise seeds of `steps` steps (None when the plan has no dropout): uint64 of shape
// [steps, dropout stages, 4] (train_epoch) or [dropout stages, 4] (train_batch, steps 0).
const Pcg64Seed* seeds_arg(const py::object& obj, int64_t steps, int64_t dropouts,
                           View<uint64_t>* keep) {
  if (dropouts == 0) {
    if (!obj.is_none()) throw py::value_error("noise_seeds must be None: the plan has no dropout stage");
    return nullptr;
  }
  std::vector<int64_t> expected = {dropouts, 4};
  if (steps > 0) expected.insert(expected.begin(), steps);
  if (obj.is_none()) {
    throw py::value_error("noise_seeds must be a uint64 array of shape " + shape_text(expected) +
                          " (the plan has dropout stages), got None");
  }
  *keep = u64(obj, "noise_seeds");
  expect_shape(keep->shape, expected, "noise_seeds",
               "(per step and dropout stage: state high, state low, inc high, inc low)");
  static_assert(sizeof(Pcg64Seed) == 4 * sizeof(uint64_t), "Pcg64Seed is four uint64 words");
  return reinterpret_cast<const Pcg64Seed*>(keep->data);
}

struct Bound {
  std::unique_ptr<FusedTrainer> trainer;
  std::vector<py::array> buffers;  // every weight and slot array: kept alive, updated in place
  std::vector<std::string> buffer_names;
  std::mutex busy;                 // one call at a time: the workspaces are shared
  bool train = true;
};

// Checks the stages and builds the plan's Stage list; records every buffer in `bound`.
std::vector<Stage> parse_stages(const py::list& stages, int64_t input_width, int slot_count,
                                bool train, Bound* bound) {
  if (stages.empty()) throw py::value_error("stages must hold at least one stage, got an empty list");
  std::vector<Stage> out;
  int64_t width = input_width;
  for (size_t i = 0; i < stages.size(); ++i) {
    const std::string where = "stages[" + std::to_string(i) + "]";
    if (!py::isinstance<py::dict>(stages[i])) throw py::type_error(where + " must be a dict");
    py::dict d = stages[i].cast<py::dict>();
    Stage s;
    const std::string kind = entry(d, "kind", where).cast<std::string>();
    s.kind = parse_name<StageKind>(kind, (where + "['kind']").c_str(),
                                   {{"dense", StageKind::dense}, {"activation", StageKind::activation},
                                    {"dropout", StageKind::dropout}, {"softmax", StageKind::softmax}});
    if (s.kind == StageKind::softmax && i + 1 != stages.size()) {
      throw py::value_error(where + ": softmax is supported only as the last stage");
    }
    if (s.kind == StageKind::dropout) {
      const double rate = number(d, "rate", where, -1.0);
      // As the tape: keep = float32(1 - rate); rate 0 (or 1, which Dropout treats as off)
      // draws nothing there, so such a layer is left out of the plan, not given a stage.
      s.keep = static_cast<float>(1.0 - rate);
      if (!(rate > 0.0 && rate < 1.0 && s.keep > 0.0f && s.keep < 1.0f)) {
        throw py::value_error(where + "['rate'] must be in (0, 1), got " + std::to_string(rate));
      }
    } else if (s.kind != StageKind::softmax) {
      const std::string act = entry(d, "activation", where).cast<std::string>();
      if (!parse_activation(act, &s.act)) {
        throw py::value_error(where + "['activation'] must be one of " + activation_names() +
                              ", got '" + act + "'");
      }
    }
    s.in = width;
    s.out = width;
    auto keep = [&](View<float>& v, const std::string& name) {
      for (size_t k = 0; k < bound->buffers.size(); ++k) {
        expect_disjoint(v.array, name.c_str(), bound->buffers[k], bound->buffer_names[k].c_str());
      }
      bound->buffers.push_back(v.array);
      bound->buffer_names.push_back(name);
    };
    if (s.kind == StageKind::dense) {
      const std::string kname = where + "['kernel']";
      View<float> kernel = f32(entry(d, "kernel", where), kname.c_str(), true);
      expect_rank(kernel.shape, 2, kname.c_str());
      expect_shape(kernel.shape, {width, -1}, kname.c_str(),
                   "(its rows must match the width coming in)");
      if (kernel.dim(1) < 1) throw py::value_error(kname + " must have at least one column");
      s.out = kernel.dim(1);
      s.kernel = kernel.data;
      keep(kernel, kname);
      s.kernel_l1 = regularizer_rate(d, "kernel_l1", where);
      s.kernel_l2 = regularizer_rate(d, "kernel_l2", where);
      s.bias_l1 = regularizer_rate(d, "bias_l1", where);
      s.bias_l2 = regularizer_rate(d, "bias_l2", where);
      py::object bias_obj = d.contains("bias") ? py::object(d["bias"]) : py::none();
      View<float> bias;
      if (!bias_obj.is_none()) {
        const std::string bname = where + "['bias']";
        bias = f32(bias_obj, bname.c_str(), true);
        expect_shape(bias.shape, {s.out}, bname.c_str(), "(one per kernel column)");
        s.bias = bias.data;
        keep(bias, bname);
      }
      if (train) {
        for (const char* key : {"kernel_slots", "bias_slots"}) {
          const bool for_bias = key[0] == 'b';
          if (for_bias && !s.bias) continue;
          py::list slots = entry(d, key, where).cast<py::list>();
          const std::string sname = where + "['" + key + "']";
          if (static_cast<int>(slots.size()) != slot_count) {
            throw py::value_error(sname + " must hold " + std::to_string(slot_count) +
                                  " array(s) for this optimizer, got " + std::to_string(slots.size()));
          }
          for (int k = 0; k < slot_count; ++k) {
            const std::string name = sname + "[" + std::to_string(k) + "]";
            View<float> slot = f32(slots[k], name.c_str(), true);
            expect_shape(slot.shape, for_bias ? bias.shape : kernel.shape, name.c_str(),
                         for_bias ? "(the bias's shape)" : "(the kernel's shape)");
            (for_bias ? s.bias_slots : s.kernel_slots)[k] = slot.data;
            keep(slot, name);
          }
        }
      }
    }
    width = s.out;
    out.push_back(s);
  }
  return out;
}

std::vector<int64_t> rows_and_width(const View<float>& v, int64_t width, const char* name) {
  // [rows, width]; a label width of 1 also accepts [rows].
  if (width == 1 && v.shape.size() == 1) return {v.shape[0], 1};
  expect_rank(v.shape, 2, name);
  expect_shape(v.shape, {-1, width}, name);
  return v.shape;
}

struct BatchArgs {
  View<float> x, y, w;
  int64_t rows = 0;
  bool weighted = false;
};

BatchArgs check_batch(Bound& b, const py::object& x_obj, const py::object& y_obj,
                      const py::object& w_obj, int64_t max_rows) {
  FusedTrainer& t = *b.trainer;
  BatchArgs a;
  a.x = f32(x_obj, "x");
  a.rows = rows_and_width(a.x, t.input_width(), "x")[0];
  a.y = f32(y_obj, "y");
  expect_shape(rows_and_width(a.y, t.label_width(), "y"), {a.rows, t.label_width()}, "y",
               "(one row per row of x)");
  if (!w_obj.is_none()) {
    a.w = f32(w_obj, "weights");
    expect_shape(a.w.shape, {a.rows}, "weights", "(one per row of x)");
    a.weighted = true;
  }
  if (max_rows > 0 && (a.rows < 1 || a.rows > max_rows)) {
    throw py::value_error("x must have between 1 and " + std::to_string(max_rows) +
                          " rows (the plan's max_batch), got " + std::to_string(a.rows));
  }
  for (size_t k = 0; k < b.buffers.size(); ++k) {
    const char* name = b.buffer_names[k].c_str();
    expect_disjoint(b.buffers[k], name, a.x.array, "x");
    expect_disjoint(b.buffers[k], name, a.y.array, "y");
    if (a.weighted) expect_disjoint(b.buffers[k], name, a.w.array, "weights");
  }
  return a;
}

void require_train(const Bound& b) {
  if (!b.train) throw py::value_error("this FusedTrainer was built with train=False (inference only)");
}

// The optimizer's step state, a float64 array [iterations, beta1_power, beta2_power] that the
// trainer advances in place before the call returns: no Python code runs between the weights'
// update and the count's, so an interrupt can never leave one behind the other.
class StepState {
 public:
  explicit StepState(const py::handle& obj) : view_(f64(obj, "state", /*writeable=*/true)) {
    expect_shape(view_.shape, {3}, "state", "([iterations, beta1_power, beta2_power])");
    const double* s = view_.data;
    if (!(s[0] >= 0 && s[0] <= 9007199254740992.0) || s[0] != std::floor(s[0])) {
      throw py::value_error("state[0] (iterations) must be an integer >= 0, got " + std::to_string(s[0]));
    }
    expect_finite(s[1], "state[1] (beta1_power)");
    expect_finite(s[2], "state[2] (beta2_power)");
    value_ = {static_cast<int64_t>(s[0]), static_cast<float>(s[1]), static_cast<float>(s[2])};
  }
  OptimizerState* get() { return &value_; }
  void store() {
    view_.data[0] = static_cast<double>(value_.iterations);
    view_.data[1] = value_.beta1_power;
    view_.data[2] = value_.beta2_power;
  }

 private:
  View<double> view_;
  OptimizerState value_;
};

}  // namespace

void register_fused(py::module_& m) {
  // A submodule: the class is built from lists of dicts by lamina.engine.fused, not a kernel
  // function like the others in _core (whose signature-driven fuzz test could not build one).
  py::module_ fused = m.def_submodule("fused", "The fused trainer (lamina.engine.fused builds it).");
  py::class_<Bound>(fused, "FusedTrainer",
                    "A fused training plan over the given weight and slot arrays (updated in place).")
      .def(py::init([](py::list stages, int64_t input_width, const std::string& loss,
                       std::vector<std::string> metrics, const std::string& optimizer,
                       py::dict hyperparameters, py::object max_batch, bool train) {
             auto b = std::make_unique<Bound>();
             FusedPlan plan;
             if (input_width < 1) {
               throw py::value_error("input_width must be >= 1, got " + std::to_string(input_width));
             }
             plan.loss = loss_arg(loss);
             for (const std::string& name : metrics) plan.metrics.push_back(metric_arg(name));
             OptimizerConfig& c = plan.optimizer;
             c.kind = optimizer_arg(optimizer);
             c.beta1 = number(hyperparameters, "beta1", "hyperparameters", 0.9);
             c.beta2 = number(hyperparameters, "beta2", "hyperparameters", 0.999);
             c.epsilon = number(hyperparameters, "epsilon", "hyperparameters", 1e-7);
             c.momentum = number(hyperparameters, "momentum", "hyperparameters", 0.0);
             c.decay = number(hyperparameters, "decay", "hyperparameters", 0.0);
             c.rho = number(hyperparameters, "rho", "hyperparameters", 0.95);
             c.nesterov = flag(hyperparameters, "nesterov");
             c.centered = flag(hyperparameters, "centered");
             for (auto [name, value] : {std::pair{"beta1", c.beta1}, {"beta2", c.beta2},
                                        {"epsilon", c.epsilon}, {"momentum", c.momentum},
                                        {"decay", c.decay}, {"rho", c.rho}}) {
               expect_non_negative(value, name);
             }
             plan.max_batch = positive_int(max_batch, "max_batch");
             plan.train = train;
             b->train = train;
             plan.stages = parse_stages(stages, input_width,
                                        optimizer_slot_count(c.kind, c.centered), train, b.get());
             if (plan.loss == LossKind::sparse_categorical_crossentropy &&
                 plan.stages.back().out < 1) {
               throw py::value_error("sparse_categorical_crossentropy needs at least one class");
             }
             b->trainer = std::make_unique<FusedTrainer>(std::move(plan));
             return b;
           }),
           py::arg("stages"), py::arg("input_width"), py::arg("loss"), py::arg("metrics"),
           py::arg("optimizer"), py::arg("hyperparameters"), py::arg("max_batch"),
           py::arg("train") = true)
      .def_property_readonly("max_batch", [](Bound& b) { return b.trainer->max_batch(); })
      .def_property_readonly("label_width", [](Bound& b) { return b.trainer->label_width(); })
      .def_property_readonly("dropout_count", [](Bound& b) { return b.trainer->dropout_count(); })
      .def(
          "train_batch",
          [](Bound& b, py::object x, py::object y, py::object weights, double learning_rate,
             py::object state_obj, py::object noise_seeds) {
            require_train(b);
            BatchArgs a = check_batch(b, x, y, weights, b.trainer->max_batch());
            View<uint64_t> seed_view;
            const Pcg64Seed* seeds = seeds_arg(noise_seeds, 0, b.trainer->dropout_count(), &seed_view);
            expect_finite(learning_rate, "learning_rate");
            StepState state(state_obj);
            py::array_t<double> out(1 + b.trainer->metric_count());
            double* o = out.mutable_data();
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(b.busy);
              b.trainer->train_batch(a.x.data, a.y.data, a.weighted ? a.w.data : nullptr, a.rows,
                                     seeds, learning_rate, state.get(), o);
            }
            state.store();
            return out;
          },
          py::arg("x"), py::arg("y"), py::arg("weights"), py::arg("learning_rate"),
          py::arg("state"), py::arg("noise_seeds") = py::none(),
          "One step (noise_seeds: uint64 [dropout stages, 4], see dropout_mask); advances state "
          "(float64 [iterations, beta1_power, beta2_power]) in place; returns [loss, metrics...] "
          "before the update.")
      .def(
          "train_epoch",
          [](Bound& b, py::object x, py::object y, py::object weights, py::object order_obj,
             int64_t batch_size, double learning_rate, py::object state_obj, py::object noise_seeds) {
            require_train(b);
            BatchArgs a = check_batch(b, x, y, weights, 0);
            if (!py::isinstance<py::array>(order_obj) ||
                !py::reinterpret_borrow<py::array>(order_obj).dtype().is(py::dtype::of<int64_t>())) {
              throw py::type_error("order must be a numpy.ndarray of int64");
            }
            py::array order = py::reinterpret_borrow<py::array>(order_obj);
            if (order.ndim() != 1 || !(order.flags() & py::array::c_style)) {
              throw py::value_error("order must be a 1-D C-contiguous int64 array");
            }
            const int64_t n = order.shape(0);
            const int64_t* idx = static_cast<const int64_t*>(order.data());
            for (int64_t i = 0; i < n; ++i) {
              if (idx[i] < 0 || idx[i] >= a.rows) {
                throw py::value_error("order[" + std::to_string(i) + "] must be a row of x in [0, " +
                                      std::to_string(a.rows) + "), got " + std::to_string(idx[i]));
              }
            }
            if (batch_size < 1 || batch_size > b.trainer->max_batch()) {
              throw py::value_error("batch_size must be in [1, " +
                                    std::to_string(b.trainer->max_batch()) + "] (the plan's max_batch), got " +
                                    std::to_string(batch_size));
            }
            expect_finite(learning_rate, "learning_rate");
            StepState state(state_obj);
            const int64_t batches = (n + batch_size - 1) / batch_size;
            View<uint64_t> seed_view;
            const Pcg64Seed* seeds =
                seeds_arg(noise_seeds, batches, b.trainer->dropout_count(), &seed_view);
            py::array_t<double> out({batches, 1 + b.trainer->metric_count()});
            double* o = out.mutable_data();
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(b.busy);
              b.trainer->train_epoch(a.x.data, a.y.data, a.weighted ? a.w.data : nullptr, idx, n,
                                     batch_size, seeds, learning_rate, state.get(), o);
            }
            state.store();
            return out;
          },
          py::arg("x"), py::arg("y"), py::arg("weights"), py::arg("order"), py::arg("batch_size"),
          py::arg("learning_rate"), py::arg("state"), py::arg("noise_seeds") = py::none(),
          "Batches of rows order[...] of x/y/weights; advances state (float64 [iterations, "
          "beta1_power, beta2_power]) in place; returns [batches, 1 + metrics] per-batch "
          "[loss, metrics...].")
      .def(
          "evaluate_batch",
          [](Bound& b, py::object x, py::object y, py::object weights) {
            BatchArgs a = check_batch(b, x, y, weights, b.trainer->max_batch());
            py::array_t<double> out(1 + b.trainer->metric_count());
            double* o = out.mutable_data();
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(b.busy);
              b.trainer->evaluate_batch(a.x.data, a.y.data, a.weighted ? a.w.data : nullptr,
                                        a.rows, o);
            }
            return out;
          },
          py::arg("x"), py::arg("y"), py::arg("weights") = py::none(),
          "[loss, metrics...] of one batch, forward only.")
      .def(
          "evaluate_batches",
          [](Bound& b, py::object x, py::object y, py::object weights, int64_t batch_size) {
            BatchArgs a = check_batch(b, x, y, weights, 0);
            if (batch_size < 1 || batch_size > b.trainer->max_batch()) {
              throw py::value_error("batch_size must be in [1, " +
                                    std::to_string(b.trainer->max_batch()) +
                                    "] (the plan's max_batch), got " + std::to_string(batch_size));
            }
            const int64_t batches = (a.rows + batch_size - 1) / batch_size;
            py::array_t<double> out({batches, 1 + b.trainer->metric_count()});
            double* o = out.mutable_data();
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(b.busy);
              b.trainer->evaluate_batches(a.x.data, a.y.data, a.weighted ? a.w.data : nullptr,
                                          a.rows, batch_size, o);
            }
            return out;
          },
          py::arg("x"), py::arg("y"), py::arg("weights"), py::arg("batch_size"),
          "[batches, 1 + metrics]: [loss, metrics...] of each batch of batch_size rows, forward only.")
      .def(
          "predict",
          [](Bound& b, py::object x_obj) {
            View<float> x = f32(x_obj, "x");
            const int64_t rows = rows_and_width(x, b.trainer->input_width(), "x")[0];
            py::array_t<float> out = new_f32({rows, b.trainer->output_width()});
            float* o = out.mutable_data();
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(b.busy);
              b.trainer->predict(x.data, rows, o);
            }
            return out;
          },
          py::arg("x"), "The model's output for x [rows, input width].");
}

}  // namespace lamina::bind
