"""Sequential models: structure, names, weights, compile, predict, evaluate, and the guide example."""

import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import lamina as lm
from lamina.engine.data_checks import NotCompiledError

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def two_layer(inputs=3, hidden=4, outputs=2, **dense_kwargs):
    return lm.sequential(layers=[
        lm.layers.dense(units=hidden, input_shape=[inputs], activation="relu", **dense_kwargs),
        lm.layers.dense(units=outputs, activation="softmax"),
    ])


# ---------------------------------------------------------------- the guide, in a fresh process

def test_guide_example_prints_what_tfjs_prints():
    done = subprocess.run([sys.executable, str(EXAMPLES / "guide.py")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # (an editable install may first log its rebuild of the C++ module on stdout)
    lines = lines[next(i for i, line in enumerate(lines) if line.startswith("dense_Dense1/")):]
    # tfjs_observed.md §1 (Node prints shapes as [ 784, 32 ]; Python lists print as [784, 32]).
    assert lines[:4] == ["dense_Dense1/kernel [784, 32]", "dense_Dense1/bias [32]",
                         "dense_Dense2/kernel [32, 10]", "dense_Dense2/bias [10]"]
    assert lines[4:15] == [
        "_" * 90,
        "Layer (type)                Input Shape               Output shape              Param #   ",
        "=" * 90,
        "dense_Dense1 (Dense)        [[null,784]]              [null,32]                 25120     ",
        "_" * 90,
        "dense_Dense2 (Dense)        [[null,32]]               [null,10]                 330       ",
        "=" * 90,
        "Total params: 25450", "Trainable params: 25450", "Non-trainable params: 0", "_" * 90,
    ]
    # 100 samples in batches of 32 -> 4 batches a epoch, 5 epochs -> 20 batch callbacks.
    accuracies = [float(v) for v in re.findall(r"^Accuracy ([0-9.e-]+)$", done.stdout, re.M)]
    assert len(accuracies) == 20 and all(0 <= a <= 1 for a in accuracies)
    per_epoch = re.search(r"^\[([0-9., e-]+)\]$", done.stdout, re.M)
    assert per_epoch and len(per_epoch.group(1).split(",")) == 5
    tensor = done.stdout[done.stdout.index("Tensor"):].splitlines()
    assert len(tensor) == 4 and tensor[1].lstrip().startswith("[[") and tensor[3].rstrip().endswith("]]")


def test_second_process_model_continues_the_counters():
    code = ("import lamina as lm\n"
            "a = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1])])\n"
            "b = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1])])\n"
            "print(a.name, b.name, b.layers[0].name, b.input_names, b.output_names)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "sequential_1 sequential_2 dense_Dense2 ['dense_Dense2_input'] ['dense_Dense2']"


# ---------------------------------------------------------------- structure

def test_model_names_count_up():
    first, second = lm.sequential(), lm.sequential()
    assert re.fullmatch(r"sequential_\d+", first.name)
    assert int(second.name.split("_")[1]) == int(first.name.split("_")[1]) + 1
    assert lm.sequential(name="mine").name == "mine"


def test_input_and_output_names_and_shapes():
    model = lm.sequential(layers=[lm.layers.dense(units=4, input_shape=[3], name="in_layer"),
                                  lm.layers.dense(units=2, name="out_layer")])
    assert model.input_names == ["in_layer_input"]
    assert model.output_names == ["out_layer"]
    assert model.input_shape == [None, 3] and model.output_shape == [None, 2]


def test_add_builds_each_layer_for_the_previous_output():
    model = lm.sequential()
    model.add(lm.layers.dense(units=5, batch_input_shape=[None, 3]))
    model.add(lm.layers.dense(units=7))
    assert [w.shape for w in model.weights] == [[3, 5], [5], [5, 7], [7]]
    assert model.count_params() == 3 * 5 + 5 + 5 * 7 + 7


def test_input_layer_first_names_the_input_and_is_not_listed():
    model = lm.sequential(layers=[lm.layers.input_layer(input_shape=[6], name="pixels"),
                                  lm.layers.dense(units=2)])
    assert model.input_names == ["pixels"]
    assert len(model.layers) == 1 and model.weights[0].shape == [6, 2]


def test_flatten_and_reshape_shapes_flow_through():
    model = lm.sequential(layers=[lm.layers.reshape(target_shape=[2, 3], input_shape=[6]),
                                  lm.layers.flatten(), lm.layers.dense(units=1)])
    assert model._layer_shapes() == [([None, 6], [None, 2, 3]), ([None, 2, 3], [None, 6]), ([None, 6], [None, 1])]
    assert model.predict(np.ones([4, 6])).shape == [4, 1]


def test_first_layer_without_input_shape_is_refused():
    with pytest.raises(ValueError, match=re.escape(
            "The first layer in a Sequential model must get an `input_shape` or `batch_input_shape` argument:")):
        lm.sequential(layers=[lm.layers.dense(units=2)])


def test_add_refuses_non_layers_and_duplicate_names():
    model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="same")])
    with pytest.raises(TypeError, match="must be an instance of class Layer"):
        model.add("dense")
    with pytest.raises(ValueError, match='The layer name "same" is used 2 times'):
        model.add(lm.layers.dense(units=2, name="same"))
    with pytest.raises(TypeError, match="layers must be a list"):
        lm.sequential(layers=lm.layers.dense(units=2, input_shape=[3]))


def test_get_layer_by_name_and_index():
    model = two_layer()
    assert model.get_layer(index=-1) is model.layers[1]
    assert model.get_layer(model.layers[0].name) is model.layers[0]
    with pytest.raises(ValueError, match="Was asked to retrieve layer at index 5, but model only has 2 layer"):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="Provide either a layer name or layer index"):
        model.get_layer()


def test_weights_trainable_first_then_frozen():
    model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="frozen_a", trainable=False),
                                  lm.layers.dense(units=1, name="free_b")])
    assert [w.name for w in model.trainable_weights] == ["free_b/kernel", "free_b/bias"]
    assert [w.name for w in model.non_trainable_weights] == ["frozen_a/kernel", "frozen_a/bias"]
    assert [w.name for w in model.weights] == ["free_b/kernel", "free_b/bias", "frozen_a/kernel", "frozen_a/bias"]
    assert all(w.val is w.read() and isinstance(w.val, lm.Variable) for w in model.weights)


def test_get_and_set_weights_round_trip_and_checks():
    model = two_layer()
    arrays = [np.full(w.shape, i + 1, np.float32) for i, w in enumerate(model.weights)]
    model.set_weights(arrays)
    for got, want in zip(model.get_weights(), arrays):
        np.testing.assert_array_equal(got, want)
    got = model.get_weights()
    got[0][...] = 99  # copies: the model does not change
    assert model.get_weights()[0][0, 0] == 1
    with pytest.raises(ValueError, match="the model has 4 weights, got a list of 1"):
        model.set_weights(arrays[:1])
    bad = arrays[:3] + [np.zeros([5], np.float32)]
    with pytest.raises(ValueError, match=r"has shape \[2\], got an array of shape \[5\]"):
        model.set_weights(bad)
    np.testing.assert_array_equal(model.get_weights()[0], arrays[0])  # nothing written


# ---------------------------------------------------------------- compile

@pytest.mark.parametrize("name, class_name, config", [
    # tfjs_observed.md §3, model.optimizer.getConfig() after compile with a string
    ("sgd", "SGD", {"learningRate": 0.01}),
    ("SGD", "SGD", {"learningRate": 0.01}),
    ("adam", "Adam", {"learningRate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}),
    ("rmsprop", "RMSProp", {"learningRate": 0.001, "decay": 0.9, "momentum": 0, "epsilon": 1e-7, "centered": False}),
    ("Adagrad", "Adagrad", {"learningRate": 0.01, "initialAccumulatorValue": 0.1}),
    ("adadelta", "Adadelta", {"learningRate": 1.0, "rho": 0.95, "epsilon": 1e-7}),
    ("Adamax", "Adamax", {"learningRate": 0.002, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7, "decay": 0}),
])
def test_optimizer_strings_get_tfjs_defaults(name, class_name, config):
    model = two_layer()
    model.compile(optimizer=name, loss="meanSquaredError")
    assert model.optimizer.get_class_name() == class_name
    assert model.optimizer.get_config() == pytest.approx(config)


@pytest.mark.parametrize("name, hint", [("foo", ""), ("momentum", ""), ("RMSprop", " Did you mean 'RMSProp'?"),
                                        ("AdaGrad", " Did you mean 'Adagrad'?"), ("adamm", " Did you mean 'adam'?"),
                                        ("sdg", " Did you mean 'sgd'?")])
def test_unknown_optimizer_strings(name, hint):
    # TF.js's text first, then the nearest accepted name (spelled as typed: 'Adagrad' for 'AdaGrad').
    message = f"Unknown Optimizer {name}.{hint} Valid optimizers: sgd, SGD, adam"
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        two_layer().compile(optimizer=name, loss="meanSquaredError")


def test_optimizer_instance_is_used_as_given_and_other_types_refused():
    opt = lm.train.momentum(0.05, 0.9)
    model = two_layer()
    model.compile(optimizer=opt, loss="categoricalCrossentropy")
    assert model.optimizer is opt
    with pytest.raises(TypeError, match="optimizer must be an instance of tf.Optimizer"):
        model.compile(optimizer=3, loss="categoricalCrossentropy")


def test_loss_forms_and_errors():
    model = two_layer()
    model.compile(optimizer="sgd", loss=["categorical_crossentropy"])
    assert model._loss_fn is lm.losses.get("categoricalCrossentropy")
    with pytest.raises(ValueError, match=re.escape(
            "When passing an Array as loss, it should have one entry per model output. "
            "The model has 1 output(s), but you passed loss=None.")):
        model.compile(optimizer="sgd", loss=None)
    with pytest.raises(ValueError, match="^Unknown loss foo"):
        model.compile(optimizer="sgd", loss="foo")


@pytest.mark.parametrize("metrics, names", [
    (None, ["loss"]),
    ([], ["loss"]),
    (["accuracy"], ["loss", "acc"]),
    ("acc", ["loss", "acc"]),
    (["accuracy", "accuracy"], ["loss", "acc_0", "acc_1"]),  # TF.js getDedupedMetricsNames
])
def test_metric_names(metrics, names):
    model = two_layer()
    model.compile(optimizer="sgd", loss="categoricalCrossentropy", metrics=metrics)
    assert model.metrics_names == names


def test_uncompiled_model_predicts_but_does_not_fit_or_evaluate():
    model = two_layer()
    assert model.predict(np.ones([2, 3])).shape == [2, 2]
    for run in (lambda: model.fit(np.ones([2, 3]), np.ones([2, 2])),
                lambda: model.evaluate(np.ones([2, 3]), np.ones([2, 2])),
                lambda: model.train_on_batch(np.ones([2, 3]), np.ones([2, 2]))):
        with pytest.raises(RuntimeError, match="^The model needs to be compiled before being used.$") as info:
            run()
        assert isinstance(info.value, NotCompiledError)


# ---------------------------------------------------------------- predict, evaluate, __call__

def dense_numpy(model, x):
    """The model's output computed by hand from its weights (relu hidden, softmax out)."""
    k1, b1, k2, b2 = model.get_weights()
    h = np.maximum(x @ k1 + b1, 0)
    z = h @ k2 + b2
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_predict_matches_numpy_in_any_batch_size(rng):
    model = two_layer(inputs=5, hidden=7, outputs=3)
    x = rng.normal(size=[11, 5]).astype(np.float32)
    want = dense_numpy(model, x)
    for batch_size in (1, 4, 32):
        got = model.predict(x, batch_size=batch_size)
        assert got.shape == [11, 3] and got.dtype == "float32"
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x).numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model(lm.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-6)
    assert model.predict(np.zeros([0, 5])).shape == [0, 3]


def test_predict_accepts_lists_float64_and_one_sample():
    model = two_layer()
    x = [[0.5, -1.0, 2.0]]
    np.testing.assert_allclose(model.predict(x).numpy(), dense_numpy(model, np.array(x, np.float32)), rtol=1e-5)
    assert model.predict(np.array(x, np.float64)).dtype == "float32"


def test_predict_records_nothing_on_the_tape():
    model = two_layer()
    x = lm.ones([2, 3])
    # Inside a gradient, predict's ops are not recorded: no variable connects to its result.
    with pytest.raises(ValueError, match="Cannot find a connection between any variable"):
        lm.variable_grads(lambda: model.predict(x).sum())
    # whereas calling the model is recorded.
    grads = lm.variable_grads(lambda: model(x).square().sum())["grads"]
    assert set(grads) == {w.name for w in model.weights}


def test_predict_has_no_dropout_but_a_training_call_does():
    model = lm.sequential(layers=[lm.layers.dropout(rate=0.5, input_shape=[1000])])
    x = np.ones([2, 1000], np.float32)
    np.testing.assert_array_equal(model.predict(x).numpy(), x)
    dropped = model(x, training=True).numpy()
    assert set(np.unique(dropped)) == {0.0, 2.0}


@pytest.mark.parametrize("x, message", [
    # tfjs_observed.md §3 error table (predict's checker; 1-D input is expanded to [n, 1])
    (np.zeros([3, 100]), "Error when checking : expected {name} to have shape [null,3] but got array with shape [3,100]."),
    (np.zeros([3]), "Error when checking : expected {name} to have shape [null,3] but got array with shape [3,1]. "
                    "The input (shape [3]) has no batch axis: predict takes a batch of rows, e.g. x[None] or "
                    "x.reshape(1, -1)"),
    (np.zeros([2, 3, 1]), "Error when checking : expected {name} to have 2 dimension(s), but got array with shape [2,3,1]"),
])
def test_predict_errors_are_tfjs_texts(x, message):
    model = two_layer()
    with pytest.raises(ValueError, match="^" + re.escape(message.format(name=model.input_names[0])) + "$"):
        model.predict(x)


def test_predict_on_one_example_says_the_batch_axis_is_missing():
    model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[64])])
    x = np.zeros([5, 64])
    name = model.input_names[0]
    with pytest.raises(ValueError, match="^" + re.escape(
            f"Error when checking : expected {name} to have shape [null,64] but got array with shape [64,1]. "
            "The input (shape [64]) has no batch axis: predict takes a batch of rows, e.g. x[None] or "
            "x.reshape(1, -1)") + "$"):
        model.predict(x[0])
    assert model.predict(x[0][None]).shape == [1, 2]  # the fix the message gives works
    images = lm.sequential(layers=[lm.layers.flatten(input_shape=[4, 4])])
    with pytest.raises(ValueError, match=re.escape(
            "to have 3 dimension(s), but got array with shape [4,4]. The input (shape [4,4]) has no batch axis: "
            "predict takes a batch of rows, e.g. x[None]") + "$"):
        images.predict(np.zeros([4, 4]))


def test_predict_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="^batch_size is required to be a positive integer, but got 0$"):
        two_layer().predict(np.ones([2, 3]), batch_size=0)


def test_evaluate_is_the_dataset_mean_over_uneven_batches(rng):
    model = two_layer(inputs=3, hidden=5, outputs=4)
    model.compile(optimizer="sgd", loss="categoricalCrossentropy", metrics=["accuracy"])
    x = rng.normal(size=[10, 3]).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 10)]
    p = np.clip(dense_numpy(model, x), 1e-7, 1 - 1e-7)
    want_loss = np.mean(-np.sum(y * np.log(p), 1))
    want_acc = np.mean(p.argmax(1) == y.argmax(1))
    loss, acc = model.evaluate(x, y, batch_size=3)  # batches 3, 3, 3, 1
    assert type(loss) is float and type(acc) is float  # plain floats, as Keras
    assert loss == pytest.approx(want_loss, rel=1e-5)
    assert acc == pytest.approx(want_acc)


def test_evaluate_without_metrics_is_one_scalar_and_weights_samples():
    model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1], kernel_initializer="ones")])
    model.compile(optimizer="sgd", loss="meanSquaredError")
    x, y = [[1.0], [2.0], [3.0]], [[1.0], [4.0], [0.0]]  # squared errors 0, 4, 9
    assert model.evaluate(x, y) == pytest.approx(13 / 3)
    # sample weights multiply each sample's loss; the mean is still over samples
    assert model.evaluate(x, y, sample_weight=[1.0, 0.5, 2.0]) == pytest.approx((0 + 2 + 18) / 3)


# ---------------------------------------------------------------- model.trainable (TF.js Container)

def summary_counts(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines[-4:-1]


def test_model_trainable_false_freezes_every_layer_weight():
    model = two_layer(inputs=3, hidden=4, outputs=2)  # 16 + 10 parameters
    assert model.trainable is True
    model.trainable = False
    assert model.trainable is False
    assert model.trainable_weights == []
    # TF.js: the layers' trainable weights first, then the non-trainable ones
    assert [w.name for w in model.non_trainable_weights] == [w.name for w in model.weights]
    assert [w.trainable for w in model.weights] == [False] * 4
    assert all(layer.trainable for layer in model.layers)  # TF.js leaves the layers' own flags
    assert summary_counts(model) == ["Total params: 26", "Trainable params: 0", "Non-trainable params: 26"]
    model.trainable = True
    assert [w.trainable for w in model.trainable_weights] == [True] * 4
    assert summary_counts(model) == ["Total params: 26", "Trainable params: 26", "Non-trainable params: 0"]


def test_frozen_model_refuses_to_fit_as_tfjs_and_trains_again_when_unfrozen(rng):
    x = rng.normal(size=[6, 3]).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 6)]
    model = two_layer()
    model.trainable = False
    model.compile(optimizer="sgd", loss="categoricalCrossentropy")
    before = model.get_weights()
    message = r"^variableGrads\(\) expects at least one of the input variables to be trainable, but none of the 0"
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=message):
        model.train_on_batch(x, y)
    assert all((a == b).all() for a, b in zip(before, model.get_weights()))
    model.evaluate(x, y)  # inference is unaffected
    model.trainable = True
    model.compile(optimizer="sgd", loss="categoricalCrossentropy")
    model.fit(x, y, verbose=0)
    assert all((a != b).any() for a, b in zip(before, model.get_weights()))


def test_model_frozen_after_compile_refuses_to_fit_too():
    model = two_layer()
    model.compile(optimizer="sgd", loss="categoricalCrossentropy")
    model.trainable = False
    assert summary_counts(model)[1:] == ["Trainable params: 0", "Non-trainable params: 26"]
    with pytest.raises(ValueError, match=r"none of the 4 variables is trainable"):
        model.fit(np.ones([2, 3]), np.eye(2), verbose=0)


def test_model_trainable_must_be_a_bool():
    with pytest.raises(TypeError, match=r"^trainable must be True or False, got 0"):
        two_layer().trainable = 0


# ---------------------------------------------------------------- a later layer's input_shape

def test_later_layer_input_shape_of_another_size_warns_tfjs_text():
    model = lm.sequential(layers=[lm.layers.dense(units=4, input_shape=[3])])
    with pytest.warns(UserWarning) as caught:
        model.add(lm.layers.dense(units=2, input_shape=[5], name="later_size"))
    assert [str(w.message) for w in caught] == [
        "The shape of the input tensor ([null,4]) does not match the expectation of layer later_size: [null,5]"]
    assert model.layers[1].kernel.shape == [4, 2]  # built for what it receives, as TF.js


def test_later_layer_input_shape_of_another_rank_warns_tfjs_text():
    model = lm.sequential(layers=[lm.layers.dense(units=4, input_shape=[3])])
    with pytest.warns(UserWarning) as caught:
        model.add(lm.layers.dense(units=2, batch_input_shape=[None, 2, 4], name="later_rank"))
    assert [str(w.message) for w in caught] == [
        "The rank of the input tensor provided (shape: [null,4]) does not match that of the batchInputShape "
        "([null,2,4]) of the layer later_rank"]


def test_matching_or_absent_later_input_shape_does_not_warn():
    # filterwarnings=error: any warning here fails the test
    lm.sequential(layers=[lm.layers.dense(units=4, input_shape=[3]), lm.layers.dense(units=2, input_shape=[4]),
                          lm.layers.dense(units=1, batch_input_shape=[7, 2]), lm.layers.dense(units=1)])
    lm.sequential(layers=[lm.layers.input_layer(input_shape=[3]), lm.layers.dense(units=2, input_shape=[3])])


def test_input_layer_then_a_layer_declaring_another_shape_warns():
    with pytest.warns(UserWarning, match=r"^The shape of the input tensor \(\[null,3\]\) does not match"):
        lm.sequential(layers=[lm.layers.input_layer(input_shape=[3]), lm.layers.dense(units=2, input_shape=[6])])


# ---------------------------------------------------------------- Keras habits

def compiled(metrics=("accuracy",)):
    model = lm.sequential(layers=[lm.layers.dense(units=3, input_shape=[2], activation="softmax")])
    model.compile(optimizer=lm.train.sgd(0.0), loss="categoricalCrossentropy", metrics=list(metrics))
    return model


def xy(rng, n=8):
    return rng.normal(size=[n, 2]).astype(np.float32), np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


def test_predict_accepts_keras_verbose(rng):
    model = compiled()
    x, _ = xy(rng)
    np.testing.assert_array_equal(model.predict(x, verbose=0).numpy(), model.predict(x).numpy())
    np.testing.assert_array_equal(model.predict(x, batch_size=3, verbose=1).numpy(), model.predict(x).numpy())
    with pytest.raises(ValueError, match=r"^verbose must be 0, 1 or 2, got 'loud'"):
        model.predict(x, verbose="loud")


def test_evaluate_returns_floats_and_a_dict_on_request(rng):
    model = compiled(metrics=["accuracy", "mse"])
    x, y = xy(rng)
    p = np.clip(model.predict(x).numpy().astype(np.float64), 1e-7, 1 - 1e-7)
    want = {"loss": np.mean(-np.sum(y * np.log(p), 1)), "acc": np.mean(p.argmax(1) == y.argmax(1)),
            "mse": np.mean((p - y) ** 2)}
    as_list = model.evaluate(x, y)
    as_dict = model.evaluate(x, y, return_dict=True)
    assert list(as_dict) == ["loss", "acc", "mse"] and list(as_dict.values()) == as_list
    assert all(type(v) is float for v in as_list)
    assert as_dict == pytest.approx(want, rel=1e-5)
    assert f"{as_dict['acc']:.3f}" == f"{want['acc']:.3f}"  # formats as a number


def test_test_on_batch_is_one_batch_without_update(rng):
    model = compiled(metrics=["accuracy"])
    x, y = xy(rng)
    before = model.get_weights()
    loss, acc = model.test_on_batch(x, y)
    assert (loss, acc) == tuple(model.evaluate(x, y, batch_size=len(x)))
    assert model.test_on_batch(x, y, return_dict=True) == {"loss": loss, "acc": acc}
    assert all((a == b).all() for a, b in zip(before, model.get_weights()))
    with pytest.raises(RuntimeError, match="^The model needs to be compiled"):
        two_layer().test_on_batch(np.ones([2, 3]), np.ones([2, 2]))


def test_history_answers_accuracy_when_asked_for_as_accuracy(rng):
    model = compiled(metrics=["accuracy"])
    x, y = xy(rng, 10)
    history = model.fit(x, y, epochs=2, validation_split=0.2, verbose=0)
    assert list(history.history) == ["val_loss", "val_acc", "loss", "acc"]  # TF.js's keys
    assert history.history["accuracy"] is history.history["acc"]
    assert history.history["val_accuracy"] is history.history["val_acc"]
    assert "accuracy" in history.history and history.history.get("val_accuracy") == history.history["val_acc"]
    acc_model = compiled(metrics=["acc"])
    history = acc_model.fit(x, y, epochs=1, verbose=0)
    assert "accuracy" not in history.history  # asked for as 'acc': TF.js's name only
    with pytest.raises(KeyError):
        history.history["accuracy"]


def test_fit_on_a_dataset_is_fit_dataset(rng):
    x, y = xy(rng, 12)
    dataset = lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(5)
    by_fit, by_fit_dataset = compiled(), compiled()
    by_fit_dataset.set_weights(by_fit.get_weights())
    for model in (by_fit, by_fit_dataset):
        model.compile(optimizer=lm.train.sgd(0.5), loss="categoricalCrossentropy", metrics=["accuracy"])
    h1 = by_fit.fit(dataset, epochs=3, verbose=0)
    h2 = by_fit_dataset.fit_dataset(dataset, epochs=3, verbose=0)
    assert h1.history == h2.history and h1.params["steps"] == 3
    assert all((a == b).all() for a, b in zip(by_fit.get_weights(), by_fit_dataset.get_weights()))


@pytest.mark.parametrize("kwargs, message", [
    ({"y": np.ones([2, 3])}, r"^y must not be given when x is a Dataset"),
    ({"batch_size": 8}, r"^batch_size does not apply when x is a Dataset \(the dataset's batches set it"),
    ({"validation_split": 0.2}, r"^validation_split does not apply when x is a Dataset \(use validation_data\)"),
    ({"shuffle": False}, r"^shuffle does not apply when x is a Dataset"),
    ({"sample_weight": np.ones(2)}, r"^sample_weight does not apply when x is a Dataset"),
])
def test_fit_on_a_dataset_refuses_array_arguments(kwargs, message):
    dataset = lm.data.zip({"xs": lm.data.array(np.ones([2, 2])), "ys": lm.data.array(np.eye(3)[:2])}).batch(2)
    with pytest.raises(ValueError, match=message):
        compiled().fit(dataset, verbose=0, **kwargs)


def test_fit_without_y_says_what_is_missing():
    with pytest.raises(TypeError, match=r"^fit\(\) needs y, the targets .* model.fit\(dataset, epochs=...\)"):
        compiled().fit(np.ones([2, 2]))
