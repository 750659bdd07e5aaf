"""model.fit_dataset and evaluate_dataset: TF.js's fitDataset semantics (tfjs_semantics.md §2,
tfjs_observed.md fitDataset), lamina's clean stop when the data runs out, and bounded memory.

Most tests use `Batches`, a tiny stand-in dataset over a list of ready batches, so what
fit_dataset does is tested apart from lm.data; the lm.data tests at the end run the real
pipeline.
"""

import math
import re
import tracemalloc

import numpy as np
import pytest

import lamina as lm
from recording import Events


class Batches:
    """A stand-in Dataset: each iter() is a fresh pass over `batches` (counted in `passes`),
    made by a generator whose `finally` records that the pass was closed or finished."""

    def __init__(self, batches, size="len", passes_allowed=None):
        self.batches = list(batches)
        self.size = len(self.batches) if size == "len" else size
        self.passes = 0
        self.closed = 0
        self.passes_allowed = passes_allowed  # a one-pass source yields nothing after this

    def __iter__(self):
        self.passes += 1
        return self._pass(self.passes)

    def _pass(self, number):
        try:
            if self.passes_allowed is None or number <= self.passes_allowed:
                yield from self.batches
        finally:
            self.closed += 1


class Recorder(lm.layers.Layer):
    """Passes its input through and records the first column of every training batch."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.training_batches = []

    def call(self, inputs, training=False):
        if training:
            self.training_batches.append(inputs.numpy()[:, 0].tolist())
        return inputs


W, B = np.array([[1.0], [-1.0]], np.float32), np.array([0.5], np.float32)


def frozen_model(metrics=None, recorder=False):
    """y = x @ W + B with learning rate 0, so every loss can be computed by hand from W, B."""
    layers = [Recorder(input_shape=[2])] if recorder else []
    layers.append(lm.layers.dense(units=1, **({} if recorder else {"input_shape": [2]})))
    model = lm.sequential(layers=layers)
    model.compile(optimizer=lm.train.sgd(0.0), loss="meanSquaredError", metrics=metrics)
    model.set_weights([W, B])
    return model


def squared_errors(x, y):
    return ((np.asarray(x) @ W + B - np.asarray(y)) ** 2)[:, 0]


def numbered(n, start=0):
    """A batch of n rows, row i = [start+i, start+i], targets 0: its first column names it."""
    values = np.arange(start, start + n, dtype=np.float32)
    return {"xs": np.stack([values, values], 1), "ys": np.zeros([n, 1], np.float32)}


def three_batches():
    """Batches of 2, 2 and 1 rows (5 samples), numbered 0..4."""
    return [numbered(2, 0), numbered(2, 2), numbered(1, 4)]


# ---------------------------------------------------------------- callbacks, logs, params

def test_callback_order_and_logs_follow_tfjs_fit_dataset():
    model, events = frozen_model(), Events()
    data = three_batches()
    model.fit_dataset(Batches(data), epochs=2, verbose=0, callbacks=events.callbacks)
    names = [event[0] for event in events.seen]
    epoch = ["on_epoch_begin"] + ["on_batch_begin", "on_batch_end"] * 3 + ["on_epoch_end"]
    assert names == ["on_train_begin"] + epoch * 2 + ["on_train_end"]
    # batch and size are in the logs already at batch begin (TF.js fitDataset, unlike fit)
    assert events.of("on_batch_begin")[:3] == [(0, {"batch": 0, "size": 2}), (1, {"batch": 1, "size": 2}),
                                               (2, {"batch": 2, "size": 1})]
    losses = [squared_errors(b["xs"], b["ys"]).mean() for b in data]
    for (index, logs), loss in zip(events.of("on_batch_end")[3:], losses):  # counter restarts each epoch
        assert set(logs) == {"batch", "size", "loss"} and logs["loss"] == pytest.approx(loss, rel=1e-6)
    all_errors = np.concatenate([squared_errors(b["xs"], b["ys"]) for b in data])
    assert events.of("on_epoch_end") == [(0, {"loss": pytest.approx(all_errors.mean(), rel=1e-6)}),
                                         (1, {"loss": pytest.approx(all_errors.mean(), rel=1e-6)})]
    assert events.of("on_train_begin") == [({},)] and events.of("on_epoch_begin")[0] == (0, {})


def test_params_are_tfjs_fit_dataset_params():
    model = frozen_model(metrics=["mae"])
    validation = Batches([numbered(2)])
    history = model.fit_dataset(Batches(three_batches()), epochs=2, verbose=0, validation_data=validation)
    assert history.params == {"epochs": 2, "initial_epoch": 0, "samples": None, "steps": 3, "batch_size": None,
                              "verbose": 0, "do_validation": True,
                              "metrics": ["loss", "mae", "val_loss", "val_mae"]}
    assert list(history.history) == ["val_loss", "val_mae", "loss", "mae"]  # val_ first, as TF.js


@pytest.mark.parametrize("size, batches_per_epoch, steps", [
    (None, None, None), (3, None, 3), (3, 2, 2), (None, 1, 1), (math.inf, 2, 2)])
def test_steps_is_batches_per_epoch_else_a_finite_size(size, batches_per_epoch, steps):
    model = frozen_model()
    history = model.fit_dataset(Batches(three_batches() * 2, size=size), epochs=1, verbose=0,
                                batches_per_epoch=batches_per_epoch)
    assert history.params["steps"] == steps


def test_initial_epoch_numbers_the_epochs():
    history = frozen_model().fit_dataset(Batches(three_batches()), epochs=4, initial_epoch=2, verbose=0)
    assert history.epoch == [2, 3]
    assert history.params["initial_epoch"] == 2


def test_progress_is_shown_by_default(capsys):
    frozen_model().fit_dataset(Batches(three_batches()), epochs=2)
    lines = capsys.readouterr().out.splitlines()  # not a terminal: one line per epoch
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1 / 2", "Epoch 2 / 2"]
    assert all(re.search(r"\d[\d.]*(?:s|ms|us) \d[\d.]*(?:s|ms|us)/step - loss=", line) for line in lines)


def test_stop_training_ends_after_the_batch_and_skips_validation():
    model = frozen_model()
    stop = {"on_batch_end": lambda batch, logs: setattr(model, "stop_training", batch == 1)}
    events = Events()
    history = model.fit_dataset(Batches(three_batches()), epochs=3, verbose=0,
                                validation_data=Batches([numbered(1)]), callbacks=[stop, events.callbacks])
    assert [index for index, _ in events.of("on_batch_end")] == [0, 1]
    assert history.epoch == [0] and list(history.history) == ["loss"]
    assert not model.stop_training  # cleared for the next fit


# ---------------------------------------------------------------- iterators

def test_a_fresh_iterator_each_epoch_without_batches_per_epoch():
    model = frozen_model(recorder=True)
    dataset = Batches(three_batches())
    model.fit_dataset(dataset, epochs=3, verbose=0)
    assert dataset.passes == 3 and dataset.closed == 3
    assert model.layers[0].training_batches == [[0, 1], [2, 3], [4]] * 3


def test_one_iterator_across_epochs_with_batches_per_epoch():
    model, events = frozen_model(recorder=True), Events()
    dataset = Batches([numbered(1, i) for i in range(6)])
    history = model.fit_dataset(dataset, epochs=3, batches_per_epoch=2, verbose=0, callbacks=events.callbacks)
    assert dataset.passes == 1
    assert model.layers[0].training_batches == [[0], [1], [2], [3], [4], [5]]
    assert [index for index, _ in events.of("on_batch_begin")] == [0, 1] * 3
    assert history.epoch == [0, 1, 2]


def test_the_shared_iterator_is_closed_when_training_ends_early():
    dataset = Batches([numbered(1, i) for i in range(10)])
    frozen_model().fit_dataset(dataset, epochs=2, batches_per_epoch=2, verbose=0)
    assert dataset.passes == 1 and dataset.closed == 1  # 6 batches left unread, the pass closed


def test_running_dry_with_batches_per_epoch_warns_and_stops_cleanly():
    model, events = frozen_model(metrics=["mae"]), Events()
    validation = Batches([numbered(2)])
    with pytest.warns(UserWarning, match=re.escape(
            "You provided `batches_per_epoch` as 2, but your dataset iterator ran out of data after 1 batches "
            "of this epoch (3 in all); training stops here. Make sure that your dataset can generate at least "
            "`batches_per_epoch * epochs` batches (in this case, 6 batches).")):
        history = model.fit_dataset(Batches(three_batches()), epochs=3, batches_per_epoch=2, verbose=0,
                                    validation_data=validation, callbacks=events.callbacks)
    # TF.js: epoch 0 complete with validation, epoch 1 partial without, then (unlike TF.js) no epoch 2.
    assert history.epoch == [0, 1]
    assert len(history.history["loss"]) == 2 and len(history.history["val_loss"]) == 1
    assert history.history["loss"][1] == pytest.approx(squared_errors(*numbered(1, 4).values()).mean())
    assert [e[0] for e in events.seen][-2:] == ["on_epoch_end", "on_train_end"]
    assert validation.passes == 1


def test_running_dry_at_an_epoch_boundary_begins_no_empty_epoch():
    events = Events()
    with pytest.warns(UserWarning, match="ran out of data after 0 batches of this epoch \\(4 in all\\)"):
        history = frozen_model().fit_dataset(Batches([numbered(1)] * 4), epochs=3, batches_per_epoch=2,
                                             verbose=0, callbacks=events.callbacks)
    assert history.epoch == [0, 1] and len(events.of("on_epoch_begin")) == 2


def test_a_dataset_that_reads_only_once_warns_at_its_second_epoch():
    with pytest.warns(UserWarning, match="no batches for epoch 2 .*can be read only once"):
        history = frozen_model().fit_dataset(Batches(three_batches(), passes_allowed=1), epochs=3, verbose=0)
    assert history.epoch == [0]


def test_an_empty_dataset_warns_and_trains_nothing():
    with pytest.warns(UserWarning, match="generated no batches; nothing was trained"):
        history = frozen_model().fit_dataset(Batches([]), epochs=2, verbose=0)
    assert history.epoch == [] and history.history == {}


# ---------------------------------------------------------------- learning, element forms

def regression_data(n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=[n, 2]).astype(np.float32)
    return x, (x @ np.array([[2.0], [-3.0]]) + 1.0).astype(np.float32)


def trainable_model():
    model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2])])
    model.compile(optimizer=lm.train.sgd(0.05), loss="meanSquaredError")
    model.set_weights([np.zeros([2, 1], np.float32), np.zeros([1], np.float32)])
    return model


def test_fit_dataset_takes_the_same_steps_as_fit_without_shuffling():
    x, y = regression_data()
    by_fit, by_dataset = trainable_model(), trainable_model()
    fit_history = by_fit.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0)
    batches = [{"xs": x[i:i + 16], "ys": y[i:i + 16]} for i in range(0, 40, 16)]
    history = by_dataset.fit_dataset(Batches(batches), epochs=5, verbose=0)
    for mine, theirs in zip(by_dataset.get_weights(), by_fit.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)
    np.testing.assert_allclose(history.history["loss"], fit_history.history["loss"], rtol=1e-6)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


@pytest.mark.parametrize("form", ["dict", "tuple", "list", "named dicts", "lists of one", "nested lists",
                                  "tensors"])
def test_every_element_form_gives_the_same_training(form):
    x, y = regression_data(8)
    model = trainable_model()
    names = (model.input_names[0], model.output_names[0])
    element = {"dict": {"xs": x, "ys": y}, "tuple": (x, y), "list": [x, y],
               "named dicts": {"xs": {names[0]: x}, "ys": {names[1]: y}},
               "lists of one": {"xs": [x], "ys": [y]},
               "nested lists": {"xs": x.tolist(), "ys": y.tolist()},
               "tensors": (lm.tensor(x), lm.tensor(y))}[form]
    history = model.fit_dataset(Batches([element]), epochs=2, verbose=0)
    reference = trainable_model()
    reference.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], reference.get_weights()[0], rtol=1e-6)
    assert len(history.history["loss"]) == 2


def test_rank_1_targets_become_columns_as_in_fit():
    x, y = regression_data(4)
    loss = frozen_model().evaluate_dataset(Batches([(x, y[:, 0])]))
    assert loss == pytest.approx(squared_errors(x, y).mean(), rel=1e-6)


def test_yielded_arrays_are_never_modified():
    x, y = regression_data(8)
    batches = [(x.copy(), y.copy()), {"xs": x[:4].copy(), "ys": y[:4].copy()}]
    trainable_model().fit_dataset(Batches(batches), epochs=3, verbose=0)
    np.testing.assert_array_equal(batches[0][0], x)
    np.testing.assert_array_equal(batches[1]["ys"], y[:4])


# ---------------------------------------------------------------- weights

def test_class_weight_weights_each_sample_loss():
    model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[2], activation="softmax",
                                                  kernel_initializer="ones")])
    model.compile(optimizer=lm.train.sgd(0.0), loss="categoricalCrossentropy")
    x = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]], np.float32)
    y = np.array([[1, 0], [0, 1], [0, 1]], np.float32)
    events = Events()
    model.fit_dataset(Batches([(x, y)]), epochs=1, verbose=0, class_weight={0: 1.0, 1: 3.0},
                      callbacks=events.callbacks)
    p = np.exp(x @ np.ones([2, 2])) / np.exp(x @ np.ones([2, 2])).sum(1, keepdims=True)  # both 0.5
    per_sample = -np.log((p * y).sum(1))
    expected = np.mean(per_sample * np.array([1.0, 3.0, 3.0]))
    assert events.of("on_batch_end")[0][1]["loss"] == pytest.approx(expected, rel=1e-6)


def test_class_weight_trains_as_fit_does():
    x, y = regression_data(12)
    y_class = (y > 0).astype(np.float32)
    by_fit, by_dataset = trainable_model(), trainable_model()
    by_fit.compile(optimizer=lm.train.sgd(0.1), loss="binaryCrossentropy")
    by_dataset.compile(optimizer=lm.train.sgd(0.1), loss="binaryCrossentropy")
    by_fit.fit(x, y_class, batch_size=12, epochs=3, shuffle=False, verbose=0, class_weight={0: 0.5, 1: 2.0})
    by_dataset.fit_dataset(Batches([(x, y_class)]), epochs=3, verbose=0, class_weight={0: 0.5, 1: 2.0})
    np.testing.assert_allclose(by_dataset.get_weights()[0], by_fit.get_weights()[0], rtol=1e-5)


def test_a_third_tuple_item_is_the_sample_weight():
    x, y = regression_data(4)
    weights = np.array([0.0, 1.0, 2.0, 3.0], np.float32)
    events = Events()
    frozen_model().fit_dataset(Batches([(x, y, weights)]), epochs=1, verbose=0, callbacks=events.callbacks)
    expected = np.mean(squared_errors(x, y) * weights)
    assert events.of("on_batch_end")[0][1]["loss"] == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------- validation

def test_validation_from_a_dataset_is_the_example_mean():
    model = frozen_model(metrics=["mae"])
    validation = three_batches()
    history = model.fit_dataset(Batches([numbered(2)]), epochs=2, verbose=0, validation_data=Batches(validation))
    errors = np.concatenate([squared_errors(b["xs"], b["ys"]) for b in validation])
    assert history.history["val_loss"] == pytest.approx([errors.mean()] * 2, rel=1e-6)
    assert history.history["val_mae"] == pytest.approx([np.sqrt(errors).mean()] * 2, rel=1e-6)


def test_validation_batches_limits_the_validation_pass():
    model = frozen_model()
    validation = Batches(three_batches())
    history = model.fit_dataset(Batches([numbered(2)]), epochs=2, verbose=0, validation_data=validation,
                                validation_batches=1)
    first = three_batches()[0]
    assert history.history["val_loss"][0] == pytest.approx(squared_errors(first["xs"], first["ys"]).mean())
    assert validation.passes == 2 and validation.closed == 2  # a fresh pass each epoch, left closed


def test_validation_batches_beyond_the_data_warns():
    with pytest.warns(UserWarning, match="ran out of data during fit_dataset\\(\\) validation after 3 batches"):
        frozen_model().fit_dataset(Batches([numbered(2)]), epochs=1, verbose=0,
                                   validation_data=Batches(three_batches()), validation_batches=5)


def test_validation_from_arrays_uses_validation_batch_size():
    model = frozen_model(recorder=True)
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    y = np.ones([5, 1], np.float32)
    history = model.fit_dataset(Batches([numbered(2)]), epochs=1, verbose=0, validation_data=(x, y),
                                validation_batch_size=2)
    assert history.history["val_loss"] == [pytest.approx(squared_errors(x, y).mean(), rel=1e-6)]
    assert model.evaluate(x, y) == pytest.approx(history.history["val_loss"][0], rel=1e-6)


@pytest.mark.parametrize("fused_path", ["1", "0"])
def test_validation_batch_size_slices_array_validation(monkeypatch, fused_path):
    from lamina.engine import fused, training
    monkeypatch.setenv("LAMINA_FUSED", fused_path)
    sizes = []
    original = training._test_batch
    monkeypatch.setattr(training, "_test_batch", lambda m, x, y, w=None: sizes.append(len(x)) or original(m, x, y, w))
    batches = fused._Runner.evaluate_batches  # the fused path takes all batches in one call
    monkeypatch.setattr(fused._Runner, "evaluate_batches",
                        lambda self, x, y, w, size: sizes.append((len(x), size)) or batches(self, x, y, w, size))
    x = np.zeros([5, 2], np.float32)
    frozen_model().fit_dataset(Batches([numbered(2)]), epochs=1, verbose=0, validation_data=(x, x[:, :1]),
                               validation_batch_size=2)
    assert sizes == ([(5, 2)] if fused_path == "1" else [2, 2, 1])


# ---------------------------------------------------------------- evaluate_dataset

def test_evaluate_dataset_weights_batch_means_by_size():
    model = frozen_model(metrics=["mae"])
    data = three_batches()
    loss, mae = model.evaluate_dataset(Batches(data))
    errors = np.concatenate([squared_errors(b["xs"], b["ys"]) for b in data])
    assert loss == pytest.approx(errors.mean(), rel=1e-6)
    assert mae == pytest.approx(np.sqrt(errors).mean(), rel=1e-6)
    assert type(loss) is float and type(mae) is float  # as evaluate


def test_evaluate_dataset_batches_takes_the_first_batches():
    data = three_batches()
    loss = frozen_model().evaluate_dataset(Batches(data), batches=2)
    errors = np.concatenate([squared_errors(b["xs"], b["ys"]) for b in data[:2]])
    assert loss == pytest.approx(errors.mean(), rel=1e-6)


def test_evaluate_dataset_of_no_data_warns_and_gives_nan():
    with pytest.warns(UserWarning, match="no examples; the results are NaN"):
        assert math.isnan(frozen_model().evaluate_dataset(Batches([])))


# ---------------------------------------------------------------- errors

def test_errors_name_what_is_wrong():
    model = frozen_model()
    data = Batches(three_batches())
    with pytest.raises(ValueError, match="^For fit_dataset\\(\\), epochs is expected to be a positive integer, "
                                         "but got None$"):
        model.fit_dataset(data)
    for epochs in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="epochs is expected to be a positive integer"):
            model.fit_dataset(data, epochs=epochs)
    with pytest.raises(ValueError, match="^For fit_dataset\\(\\), batches_per_epoch is expected to be a positive "
                                         "integer if specified, but got 0$"):
        model.fit_dataset(data, epochs=1, batches_per_epoch=0)
    with pytest.raises(ValueError, match="^`validation_split` is not supported by `fit_dataset\\(\\)`. "
                                         "Use validation_data instead.$"):
        model.fit_dataset(data, epochs=1, validation_split=0.2)
    with pytest.raises(ValueError, match="validation_batches is expected not to be provided, or to be a "
                                         "positive integer, but got 0"):
        model.fit_dataset(data, epochs=1, validation_data=data, validation_batches=0)
    with pytest.raises(ValueError, match="validation_batches applies only when validation_data is a Dataset"):
        model.fit_dataset(data, epochs=1, validation_data=(np.zeros([1, 2]), np.zeros([1, 1])),
                          validation_batches=2)
    with pytest.raises(ValueError, match="^batch_size is required to be a positive integer, but got 0$"):
        model.fit_dataset(data, epochs=1, validation_data=(np.zeros([1, 2]), np.zeros([1, 1])),
                          validation_batch_size=0)
    with pytest.raises(ValueError, match="^Test loop expects `batches` to be a positive integer, but received 0$"):
        model.evaluate_dataset(data, batches=0)
    with pytest.raises(TypeError, match="class_weight must be a dict"):
        model.fit_dataset(data, epochs=1, class_weight="balanced")
    endless = Batches(three_batches(), size=math.inf)
    with pytest.raises(ValueError, match="^fit_dataset\\(\\): dataset is endless \\(size inf, e.g. made by "
                                         "repeat\\(\\)\\), so a pass over it would never end; give batches_per_epoch$"):
        model.fit_dataset(endless, epochs=1)
    with pytest.raises(ValueError, match="validation_data is endless .* give validation_batches$"):
        model.fit_dataset(data, epochs=1, validation_data=endless)
    with pytest.raises(ValueError, match="^evaluate_dataset\\(\\): dataset is endless .* give batches$"):
        model.evaluate_dataset(endless)
    assert data.passes == 0 and endless.passes == 0  # every check ran before any data was read


@pytest.mark.parametrize("not_a_dataset, hint", [
    (np.zeros([4, 2]), "got ndarray; to train on arrays held in memory use model.fit"),
    ([{"xs": np.zeros([1, 2]), "ys": np.zeros([1, 1])}], "got list"),
    ((b for b in three_batches()), "got an iterator \\(generator\\), which can be read only once; wrap"),
    (None, "got NoneType")])
def test_a_non_dataset_is_refused_with_what_to_use(not_a_dataset, hint):
    with pytest.raises(TypeError, match="^fit_dataset\\(\\): dataset must be a Dataset \\(lm.data\\).*" + hint):
        frozen_model().fit_dataset(not_a_dataset, epochs=1)
    with pytest.raises(TypeError, match="evaluate_dataset\\(\\): dataset must be a Dataset"):
        frozen_model().evaluate_dataset(not_a_dataset)


def test_an_uncompiled_model_is_refused():
    model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2])])
    for call in (lambda: model.fit_dataset(Batches(three_batches()), epochs=1),
                 lambda: model.evaluate_dataset(Batches(three_batches()))):
        with pytest.raises(RuntimeError, match="^The model needs to be compiled before being used.$"):
            call()


@pytest.mark.parametrize("element, shown", [
    ({"x": np.zeros([1, 2]), "y": np.zeros([1, 1])}, "a dict with keys \\['x', 'y'\\]"),
    ((np.zeros([1, 2]),), "a tuple of 1 item\\(s\\)"),
    ([np.zeros([1, 2])] * 4, "a list of 4 item\\(s\\)"),
    (np.zeros([1, 2]), "a ndarray of shape \\[1, 2\\]"),
    ({"xs": np.zeros([1, 2]), "ys": None}, "a dict with keys \\['xs', 'ys'\\]"),
    (7, "7")])
def test_elements_of_another_form_get_tfjs_message(element, shown):
    message = ("^A Dataset iterator for fit_dataset\\(\\) is expected to generate objects of the form "
               "\\{'xs': x_val, 'ys': y_val\\} or tuples .* The provided Dataset instead generates " + shown + "$")
    with pytest.raises(ValueError, match=message):
        frozen_model().fit_dataset(Batches([element]), epochs=1, verbose=0)


def test_element_contents_are_checked_with_tfjs_messages():
    model = frozen_model()
    name_in, name_out = model.input_names[0], model.output_names[0]

    def fails(element, message):
        with pytest.raises(ValueError, match=message):
            model.fit_dataset(Batches([element]), epochs=1, verbose=0)

    fails({"xs": np.zeros([3, 2]), "ys": np.zeros([2, 1])},
          f"^Batch size mismatch: output {name_out} has 2; expected  3 based on input {name_in}.$")
    fails({"xs": {"features": np.zeros([3, 2])}, "ys": np.zeros([3, 1])},
          f"^The feature data generated by the dataset lacks the required input key '{name_in}'. "
          "\\(The dict has keys \\['features'\\].\\)$")
    fails({"xs": np.zeros([3, 2]), "ys": {"label": np.zeros([3, 1])}},
          f"lacks the required output key '{name_out}'")
    fails({"xs": [np.zeros([3, 2]), np.zeros([3, 2])], "ys": np.zeros([3, 1])},
          f"^Received an array of 2 Tensors, but expected 1 to match the input keys {name_in}.$")
    fails({"xs": np.zeros([3, 5]), "ys": np.zeros([3, 1])},
          "^input expected a batch of elements where each example has shape \\[2\\]")


def test_unbatched_elements_are_named_as_such():
    model = frozen_model()
    with pytest.raises(ValueError, match="^fit_dataset\\(\\) expects batches, but the dataset generates single "
                                         "examples: xs has shape \\[2\\], one example of the model's input "
                                         "\\[null,2\\]. Batch the dataset, e.g. dataset.batch\\(32\\).$"):
        model.fit_dataset(Batches([{"xs": np.zeros([2]), "ys": np.zeros([1])}]), epochs=1, verbose=0)


def test_one_training_at_a_time():
    model = frozen_model()
    errors = []

    def nested(epoch, logs):
        try:
            model.fit_dataset(Batches(three_batches()), epochs=1, verbose=0)
        except RuntimeError as error:
            errors.append(str(error))

    model.fit_dataset(Batches(three_batches()), epochs=1, verbose=0, callbacks={"on_epoch_begin": nested})
    assert errors == ["Cannot start training because another fit() call is ongoing."]
    model.fit_dataset(Batches(three_batches()), epochs=1, verbose=0)  # free again afterwards


# ---------------------------------------------------------------- with lm.data

def test_an_lm_data_pipeline_trains_as_fit_does():
    x, y = regression_data(40)
    by_fit, by_dataset = trainable_model(), trainable_model()
    by_fit.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
    dataset = lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(16).prefetch(2)
    history = by_dataset.fit_dataset(dataset, epochs=4, verbose=0, validation_data=dataset)
    np.testing.assert_allclose(by_dataset.get_weights()[0], by_fit.get_weights()[0], rtol=1e-6)
    assert history.params["steps"] == 3
    assert history.history["val_loss"][-1] == pytest.approx(by_dataset.evaluate(x, y), rel=1e-6)
    assert by_dataset.evaluate_dataset(dataset) == pytest.approx(by_dataset.evaluate(x, y), rel=1e-6)


def test_batches_per_epoch_over_a_repeated_dataset_continues_the_stream():
    model = frozen_model(recorder=True)
    x = np.repeat(np.arange(5, dtype=np.float32)[:, None], 2, 1)
    dataset = lm.data.zip((lm.data.array(x), lm.data.array(np.zeros([5, 1], np.float32)))).batch(2).repeat()
    history = model.fit_dataset(dataset, epochs=3, batches_per_epoch=2, verbose=0)
    assert history.params["steps"] == 2
    assert model.layers[0].training_batches == [[0, 1], [2, 3], [4], [0, 1], [2, 3], [4]]


def test_the_guide_data_api_example_runs():
    from test_examples import run_example

    out = run_example("data_api.py")
    accuracy = re.search(r"^Accuracy \[(.*)\]$", out, re.M)
    assert accuracy and len(accuracy.group(1).split(",")) == 5, out
    assert len(re.findall(r"^Epoch \d / 5 - \d[\d.]*(?:s|ms|us) \d[\d.]*(?:s|ms|us)/step - acc=\S+ loss=\S+$", out, re.M)) == 5, out
    core = re.findall(r"^Epoch (\d) loss ([0-9.]+) over (\d+) batches$", out, re.M)
    assert [(epoch, batches) for epoch, _, batches in core] == [(str(i), "4") for i in range(5)], out
    assert all(math.isfinite(float(loss)) for _, loss, _ in core), out


def test_training_from_a_generator_streams_within_its_buffers():
    """40,000 samples of 784 floats (125 MB if held) through shuffle(1000).batch(64).prefetch(2):
    the peak of Python's allocations (numpy's buffers included) stays near the shuffle buffer's
    3 MB -- about 9.5 MB with the generator's block, the batches in flight and the elements'
    own overhead -- whatever the length of the stream."""
    samples, features, buffer, batch = 40000, 784, 1000, 64

    def generate():
        rng = np.random.default_rng(0)
        for start in range(0, samples, 500):
            block = rng.standard_normal((500, features), dtype=np.float32)
            for row in block:
                yield {"xs": row.copy(), "ys": row[:1].copy()}

    model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[features])])
    model.compile(optimizer=lm.train.sgd(0.001), loss="meanSquaredError")
    dataset = lm.data.generator(generate).shuffle(buffer, seed=0).batch(batch).prefetch(2)
    trained = []
    tracemalloc.start()
    try:
        model.fit_dataset(dataset, epochs=1, verbose=0,
                          callbacks={"on_batch_end": lambda index, logs: trained.append(logs["size"])})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(trained) == samples
    data_bytes = samples * features * 4
    buffer_bytes = buffer * features * 4
    assert buffer_bytes < peak < buffer_bytes + 10 * 2**20, (peak, buffer_bytes)
    assert peak < data_bytes / 10
