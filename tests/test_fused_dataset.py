"""model.fit_dataset / evaluate_dataset on the fused trainer (engine/fused.py) against the tape.

The oracle is the tape: the same model, initial weights and batches trained with
LAMINA_FUSED=0 must end with the same weights (within 1e-5 relative after several epochs),
the same optimizer step count, and logs with the same keys, in the same order, and close
values -- per batch, per epoch and in the History, validation included. Each fused run
replaces the tape's step with one that fails, so a silent fallback cannot pass for a match.
"""

import numpy as np
import pytest

import lamina as lm
from lamina.engine import dataset_training, fused, training


class Batches:
    """A stand-in Dataset over a list of ready batches (a fresh pass per iter())."""

    def __init__(self, batches):
        self.batches = list(batches)
        self.size = len(self.batches)

    def __iter__(self):
        return iter(self.batches)


class BatchLogs(lm.callbacks.Callback):
    """Records every batch's logs and every epoch's logs, as dicts in their key order."""

    def __init__(self):
        super().__init__()
        self.batches, self.epochs = [], []

    def on_batch_end(self, batch, logs=None):
        self.batches.append(dict(logs))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(dict(logs))


def _no_tape(*args):
    raise AssertionError("the tape path ran where the fused path should have")


def classification(rows=90, inputs=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, inputs)).astype(np.float32)
    labels = rng.integers(0, classes, rows)
    return x, labels


def split(rows, sizes):
    """Row slices of the given sizes, cycling, until `rows` rows are used (the last one shorter)."""
    slices, start, index = [], 0, 0
    while start < rows:
        end = min(rows, start + sizes[index % len(sizes)])
        slices.append(slice(start, end))
        start, index = end, index + 1
    return slices


def dense_model(optimizer, loss, metrics=None, inputs=5, classes=3, hidden="tanh", output="softmax",
                extra=(), **first):
    lm.random.set_seed(3)  # the same initial weights, and dropout masks, on every call
    model = lm.sequential(layers=[lm.layers.dense(units=7, input_shape=[inputs], activation=hidden, **first),
                                  *extra, lm.layers.dense(units=classes, activation=output)])
    model.compile(optimizer=optimizer(), loss=loss, metrics=metrics)
    return model


def fit_both(monkeypatch, make_model, dataset, expect_fused=True, **fit_args):
    """[(model, history, BatchLogs)] for the fused run, then the tape run, from the same start."""
    fit_args = {"epochs": 4, "verbose": 0, **fit_args}
    runs, start = [], None
    for flag in ("1", "0"):
        model = make_model()
        if start is None:
            start = model.get_weights()
            assert fused.is_eligible(model) == expect_fused
        else:
            model.set_weights(start)
        monkeypatch.setenv("LAMINA_FUSED", flag)
        logs = BatchLogs()
        with monkeypatch.context() as patch:
            if flag == "1" and expect_fused:
                patch.setattr(training, "_train_step", _no_tape)
                patch.setattr(model, "_forward", _no_tape)  # no validation batch on the tape either
            history = model.fit_dataset(dataset, callbacks=[logs], **fit_args)
        runs.append((model, history, logs))
    return runs


def assert_same_weights(a, b, rel=1e-5):
    for got, want in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(got, want, rtol=rel, atol=rel * max(1.0, float(np.abs(want).max())))


def assert_same_logs(a, b, rel=1e-5):
    """Lists of log dicts: the same keys in the same order, values within rel."""
    assert len(a) == len(b)
    for got, want in zip(a, b):
        assert list(got) == list(want)
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=rel, atol=rel)


def assert_same_runs(runs, steps):
    (a, history_a, logs_a), (b, history_b, logs_b) = runs
    assert a.optimizer.iterations == b.optimizer.iterations == steps
    assert_same_weights(a, b)
    assert_same_logs(logs_a.batches, logs_b.batches)
    assert_same_logs(logs_a.epochs, logs_b.epochs)
    assert list(history_a.history) == list(history_b.history)
    assert history_a.epoch == history_b.epoch
    assert history_a.params == history_b.params
    for key in history_b.history:
        np.testing.assert_allclose(history_a.history[key], history_b.history[key], rtol=1e-5, atol=1e-5)


def test_adam_categorical_with_class_weight_and_dataset_validation(monkeypatch):
    x, labels = classification()
    y = np.eye(3, dtype=np.float32)[labels]
    sizes = split(len(x), [16, 16, 9])  # uneven batches, the last one shorter still
    dataset = Batches({"xs": x[s], "ys": y[s]} for s in sizes)
    validation = Batches({"xs": x[s], "ys": y[s]} for s in split(30, [8]))
    runs = fit_both(monkeypatch, lambda: dense_model(lambda: lm.train.adam(0.02), "categoricalCrossentropy",
                                                     metrics=["accuracy"]),
                    dataset, epochs=5, class_weight={0: 1.0, 1: 2.5, 2: 0.5}, validation_data=validation)
    assert_same_runs(runs, 5 * len(sizes))
    history = runs[0][1].history
    assert list(history) == ["val_loss", "val_acc", "loss", "acc"]  # TF.js's order on both paths
    assert history["loss"][-1] < history["loss"][0]  # it trained


def test_momentum_mse_with_a_sample_weight_element_and_array_validation(monkeypatch):
    x, labels = classification(seed=1)
    y = np.stack([np.sin(x[:, 0]), np.cos(x[:, 1])], axis=1).astype(np.float32)
    sample_weight = np.random.default_rng(2).uniform(0.1, 3.0, len(x)).astype(np.float32)
    dataset = Batches((x[s], y[s], sample_weight[s]) for s in split(len(x), [20]))
    make = lambda: dense_model(lambda: lm.train.momentum(0.05, 0.9, use_nesterov=True), "meanSquaredError",
                               metrics=["mae"], classes=2, hidden="relu", output="linear")
    runs = fit_both(monkeypatch, make, dataset, epochs=6, validation_data=(x[:25], y[:25]),
                    validation_batch_size=10)
    assert_same_runs(runs, 6 * 5)


def test_rmsprop_sparse_labels_with_class_weight_times_sample_weight(monkeypatch):
    x, labels = classification(seed=4)
    y = labels.astype(np.float32)[:, None]
    sample_weight = np.random.default_rng(5).uniform(0.5, 2.0, len(x)).astype(np.float32)
    dataset = Batches((x[s], y[s], sample_weight[s]) for s in split(len(x), [32]))
    make = lambda: dense_model(lambda: lm.train.rmsprop(0.01, momentum=0.3), "sparseCategoricalCrossentropy",
                               metrics=["sparseCategoricalAccuracy"])
    runs = fit_both(monkeypatch, make, dataset, epochs=4, class_weight=[2.0, 1.0, 0.5])
    assert_same_runs(runs, 4 * 3)


def test_lm_data_pipeline_with_batches_per_epoch_and_running_dry(monkeypatch):
    x, labels = classification(rows=100, seed=6)
    y = np.eye(3, dtype=np.float32)[labels]
    # 100 rows in batches of 16 make 7 batches: 3 epochs of 3, the third epoch runs dry after 1.
    dataset = lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(16)
    make = lambda: dense_model(lambda: lm.train.adagrad(0.1), "categoricalCrossentropy")
    with pytest.warns(UserWarning, match="ran out of data after 1 batches"):
        runs = fit_both(monkeypatch, make, dataset, epochs=3, batches_per_epoch=3)
    assert_same_runs(runs, 7)
    assert runs[0][1].epoch == [0, 1, 2]


def test_float64_and_non_contiguous_batches_are_converted_and_fused(monkeypatch):
    x, labels = classification(seed=7)
    y = np.eye(3, dtype=np.float32)[labels]
    wide = np.repeat(x, 2, axis=1)  # every other column of this is x, not C-contiguous
    batches = [{"xs": wide[s, ::2], "ys": y[s].astype(np.float64)} for s in split(len(x), [30])]
    assert not batches[0]["xs"].flags.c_contiguous
    make = lambda: dense_model(lambda: lm.train.sgd(0.2), "categoricalCrossentropy", metrics=["accuracy"])
    runs = fit_both(monkeypatch, make, Batches(batches), epochs=3)
    assert_same_runs(runs, 9)


def test_a_larger_batch_later_rebuilds_the_plan(monkeypatch):
    x, labels = classification(rows=120, seed=8)
    y = np.eye(3, dtype=np.float32)[labels]
    dataset = Batches({"xs": x[s], "ys": y[s]} for s in split(len(x), [4, 60, 8]))
    make = lambda: dense_model(lambda: lm.train.adadelta(1.0), "categoricalCrossentropy")
    runs = fit_both(monkeypatch, make, dataset, epochs=2)
    assert_same_runs(runs, 2 * len(split(len(x), [4, 60, 8])))
    assert runs[0][0]._fused_runners[True].max_batch == 60


class Recompile(lm.callbacks.Callback):
    """At batch 2 of epoch 0, recompiles the model with a new optimizer (new slots)."""

    def on_batch_end(self, batch, logs=None):
        if batch == 2 and not getattr(self, "done", False):
            self.done = True
            self.model.compile(optimizer=lm.train.adamax(0.02), loss="categoricalCrossentropy")


def test_a_callback_recompiling_mid_epoch_is_seen(monkeypatch):
    x, labels = classification(seed=9)
    y = np.eye(3, dtype=np.float32)[labels]
    dataset = Batches({"xs": x[s], "ys": y[s]} for s in split(len(x), [15]))
    runs = []
    for flag in ("1", "0"):
        model = dense_model(lambda: lm.train.adam(0.01), "categoricalCrossentropy")
        monkeypatch.setenv("LAMINA_FUSED", flag)
        model.fit_dataset(dataset, epochs=2, verbose=0, callbacks=[Recompile()])
        runs.append(model)
    assert runs[0].optimizer.iterations == runs[1].optimizer.iterations == 2 * 6 - 3
    assert_same_weights(*runs)


class Scale(lm.layers.Layer):
    def call(self, inputs, training=False):
        return inputs * 2.0


INELIGIBLE = {"dropout_noise_shape": {"extra": lambda: [lm.layers.dropout(rate=0.3, noise_shape=[1, 7])]},
              "custom_layer": {"extra": lambda: [Scale()]},
              "activity_regularizer": {"activity_regularizer": lambda: lm.regularizers.l2()}}


@pytest.mark.parametrize("source", ["batches", "array"])
def test_dropout_and_regularizers_match_the_tape(monkeypatch, source):
    """The same masks (drawn from the same generator states) and penalties on both paths."""
    x, labels = classification(seed=12)
    y = np.eye(3, dtype=np.float32)[labels]
    if source == "array":  # trained in blocks of batches, one fused call each
        dataset = lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(16)
    else:
        dataset = Batches({"xs": x[s], "ys": y[s]} for s in split(len(x), [16]))
    make = lambda: dense_model(lambda: lm.train.adam(0.02), "categoricalCrossentropy", metrics=["accuracy"],
                               extra=[lm.layers.dropout(rate=0.4)],
                               kernel_regularizer=lm.regularizers.l1l2(l1=0.01, l2=0.02))
    runs = fit_both(monkeypatch, make, dataset, epochs=4)
    assert_same_runs(runs, 4 * 6)


@pytest.mark.parametrize("variant", list(INELIGIBLE))
def test_ineligible_model_falls_back_to_the_tape_every_batch(monkeypatch, variant):
    x, labels = classification(seed=10)
    y = np.eye(3, dtype=np.float32)[labels]
    dataset = Batches({"xs": x[s], "ys": y[s]} for s in split(len(x), [32]))
    make = lambda: dense_model(lambda: lm.train.adam(0.01), "categoricalCrossentropy", metrics=["accuracy"],
                               **{key: value() for key, value in INELIGIBLE[variant].items()})
    calls = []
    original = training._train_step
    monkeypatch.setattr(training, "_train_step", lambda *args: calls.append(1) or original(*args))
    runs = fit_both(monkeypatch, make, dataset, expect_fused=False, epochs=3)
    assert len(calls) == 2 * 3 * 3  # both runs, every batch on the tape
    (a, history_a, logs_a), (b, history_b, logs_b) = runs
    for got, want in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(got, want)  # the same path, so the very same numbers
    assert history_a.history == history_b.history
    assert history_a.history["loss"][-1] < history_a.history["loss"][0]


def test_lamina_fused_0_runs_every_step_on_the_tape(monkeypatch):
    x, labels = classification(seed=11)
    y = np.eye(3, dtype=np.float32)[labels]
    model = dense_model(lambda: lm.train.sgd(0.1), "categoricalCrossentropy")
    assert fused.is_eligible(model)
    calls = []
    original = training._train_step
    monkeypatch.setattr(training, "_train_step", lambda *args: calls.append(1) or original(*args))
    monkeypatch.setenv("LAMINA_FUSED", "0")
    model.fit_dataset(Batches({"xs": x[s], "ys": y[s]} for s in split(len(x), [32])), epochs=2, verbose=0)
    assert len(calls) == 6
    assert "_fused_runners" not in model.__dict__


def test_evaluate_dataset_fused_matches_the_tape_and_numpy(monkeypatch):
    x, labels = classification(seed=12)
    y = np.eye(3, dtype=np.float32)[labels]
    model = dense_model(lambda: lm.train.sgd(0.1), "categoricalCrossentropy", metrics=["accuracy"])
    dataset = Batches({"xs": x[s], "ys": y[s]} for s in split(len(x), [25]))
    monkeypatch.setenv("LAMINA_FUSED", "1")
    with monkeypatch.context() as patch:
        patch.setattr(model, "_forward", _no_tape)
        loss_fused, acc_fused = model.evaluate_dataset(dataset)
    monkeypatch.setenv("LAMINA_FUSED", "0")
    loss_tape, acc_tape = model.evaluate_dataset(dataset)
    # numpy oracle: the forward pass by hand from the weights
    kernel1, bias1, kernel2, bias2 = model.get_weights()
    logits = np.tanh(x.astype(np.float64) @ kernel1 + bias1) @ kernel2 + bias2
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    expected_loss = -np.mean(np.log(probabilities[np.arange(len(x)), labels]))
    expected_acc = np.mean(probabilities.argmax(1) == labels)
    assert loss_fused == pytest.approx(loss_tape, rel=1e-5)
    assert loss_fused == pytest.approx(expected_loss, rel=1e-5)
    assert acc_fused == acc_tape == pytest.approx(expected_acc)


def test_sparse_labels_out_of_range_give_the_tapes_error(monkeypatch):
    x, labels = classification(seed=13)
    y = labels.astype(np.float32)[:, None]
    y[40] = 3  # in the second batch, after a fused step
    model = dense_model(lambda: lm.train.sgd(0.1), "sparseCategoricalCrossentropy")
    monkeypatch.setenv("LAMINA_FUSED", "1")
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        model.fit_dataset(Batches((x[s], y[s]) for s in split(len(x), [32])), epochs=1, verbose=0)
    assert model.optimizer.iterations == 1
