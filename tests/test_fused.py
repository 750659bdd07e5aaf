"""The fused training path (lamina.engine.fused + _core.fused.FusedTrainer) against the tape path.

The oracle is the tape: the same model, initial weights, data and shuffling trained with
LAMINA_FUSED=0 must end with the same weights (within 1e-5 relative after 200 steps), the
same optimizer state, and the same history/log keys with close values.
"""

import asyncio
import io
import re
import sys
import threading
import time

import numpy as np
import pytest

import lamina as lm
from lamina import _core
from lamina.engine import fused, training

ACTIVATIONS = ["linear", "relu", "relu6", "elu", "selu", "sigmoid", "hard_sigmoid", "tanh", "softplus",
               "softsign", "swish", "gelu", "mish"]

OPTIMIZERS = {
    "sgd": lambda: lm.train.sgd(0.1),
    "momentum": lambda: lm.train.momentum(0.05, 0.9),
    "nesterov": lambda: lm.train.momentum(0.05, 0.9, use_nesterov=True),
    "adam": lambda: lm.train.adam(0.01),
    "adamax": lambda: lm.train.adamax(0.01, decay=0.01),
    "rmsprop": lambda: lm.train.rmsprop(0.005),
    "rmsprop_centered": lambda: lm.train.rmsprop(0.002, momentum=0.5, centered=True),
    "adagrad": lambda: lm.train.adagrad(0.1),
    "adadelta": lambda: lm.train.adadelta(1.0),
}


def data(rows=64, inputs=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, inputs)).astype(np.float32)
    labels = rng.integers(0, classes, rows)
    return x, labels


def build(layers, optimizer, loss, metrics=None):
    model = lm.sequential(layers=layers())
    model.compile(optimizer=optimizer(), loss=loss, metrics=metrics)
    return model


def dense_stack(hidden="relu", output="softmax", inputs=6, classes=3, use_bias=True):
    return lambda: [lm.layers.dense(units=8, input_shape=[inputs], activation=hidden, use_bias=use_bias),
                    lm.layers.dense(units=classes, activation=output, use_bias=use_bias)]


def _no_tape(*args):
    raise AssertionError("the tape path ran where the fused path should have")


def fresh_state():
    """A FusedTrainer's step state before the first step: [iterations, beta1_power, beta2_power]."""
    return np.array([0.0, 1.0, 1.0])


def train_both(monkeypatch, layers, optimizer, loss, x, y, metrics=None, **fit_args):
    """(fused model, tape model, fused history, tape history) after fitting the same start."""
    fit_args = {"batch_size": 16, "epochs": 50, "verbose": 0, **fit_args}
    models, histories = [], []
    start = None
    for flag in ("1", "0"):
        model = build(layers, optimizer, loss, metrics)
        if start is None:
            start = model.get_weights()
            assert fused.is_eligible(model)
        else:
            model.set_weights(start)
        monkeypatch.setenv("LAMINA_FUSED", flag)
        lm.random.set_seed(7)  # the same shuffles on both paths
        with monkeypatch.context() as patch:
            if flag == "1":  # the fused run must never fall back to the tape
                patch.setattr(training, "_train_step", _no_tape)
            histories.append(model.fit(x, y, **fit_args))
        model.start_weights = start
        models.append(model)
    return models[0], models[1], histories[0], histories[1]


def assert_same_weights(a, b, rel=1e-5):
    for got, want in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(got, want, rtol=rel, atol=rel * max(1.0, float(np.abs(want).max())))


def assert_same_history(a, b, rel=1e-5):
    assert list(a.history) == list(b.history)
    assert a.epoch == b.epoch
    for key in b.history:
        np.testing.assert_allclose(a.history[key], b.history[key], rtol=rel, atol=rel)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_matches_the_tape(monkeypatch, name):
    x, labels = data()
    y = np.eye(3, dtype=np.float32)[labels]
    a, b, ha, hb = train_both(monkeypatch, dense_stack(), OPTIMIZERS[name], "categoricalCrossentropy", x, y,
                              metrics=["accuracy"])
    assert a.optimizer.iterations == b.optimizer.iterations == 200
    assert_same_weights(a, b)
    assert_same_history(ha, hb)
    if name != "adamax":  # Adamax state is not readable, as in TF.js
        for got, want in zip(a.optimizer.get_weights(), b.optimizer.get_weights()):
            assert got["name"].split("/", 1)[1:] == want["name"].split("/", 1)[1:]
            np.testing.assert_allclose(got["tensor"]._data, want["tensor"]._data, rtol=1e-5, atol=1e-6)
    for attribute in ("_acc_beta1", "_acc_beta2"):
        assert getattr(a.optimizer, attribute, None) == getattr(b.optimizer, attribute, None)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_matches_the_tape(monkeypatch, activation):
    x, labels = data(seed=1)
    y = np.stack([np.sin(x[:, 0]), np.cos(x[:, 1])], axis=1).astype(np.float32)
    layers = dense_stack(hidden=activation, output=activation, classes=2)
    a, b, ha, hb = train_both(monkeypatch, layers, lambda: lm.train.adam(0.01), "meanSquaredError", x, y,
                              metrics=["mse", "mae"])
    assert_same_weights(a, b)
    assert_same_history(ha, hb)


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", "softmax"])
def test_activation_layers_match_the_tape(monkeypatch, activation):
    x, labels = data(seed=2)
    y = np.eye(3, dtype=np.float32)[labels]
    layers = lambda: [lm.layers.dense(units=8, input_shape=[6]), lm.layers.activation("elu"),
                      lm.layers.dense(units=3), lm.layers.activation(activation)]
    loss = "categoricalCrossentropy" if activation == "softmax" else "meanSquaredError"
    a, b, ha, hb = train_both(monkeypatch, layers, lambda: lm.train.sgd(0.05), loss, x, y)
    assert_same_weights(a, b)
    assert_same_history(ha, hb)


@pytest.mark.parametrize("loss, output, metrics", [
    ("categoricalCrossentropy", "softmax", ["accuracy", "ce"]),
    ("sparseCategoricalCrossentropy", "softmax", ["accuracy", "ce"]),
    ("binaryCrossentropy", "sigmoid", ["accuracy", "ce", "mse"]),
    ("meanSquaredError", "linear", ["mae"]),
    ("meanAbsoluteError", "tanh", ["mse"]),
])
@pytest.mark.parametrize("use_bias", [True, False])
def test_every_loss_matches_the_tape(monkeypatch, loss, output, metrics, use_bias):
    x, labels = data(seed=3)
    if loss == "sparseCategoricalCrossentropy":
        y = labels.astype(np.float32)[:, None]
    elif loss == "binaryCrossentropy":
        y = (x[:, :3] > 0).astype(np.float32)
    else:
        y = np.eye(3, dtype=np.float32)[labels]
    a, b, ha, hb = train_both(monkeypatch, dense_stack(output=output, use_bias=use_bias),
                              lambda: lm.train.adam(0.02), loss, x, y, metrics=metrics)
    assert_same_weights(a, b)
    assert_same_history(ha, hb)
    assert len(a.weights) == (4 if use_bias else 2)


@pytest.mark.parametrize("seed", [None, 11])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_dropout_draws_the_tapes_masks(monkeypatch, seed, optimizer):
    """Same set_seed, same masks: input dropout, hidden dropout, layer seed or the global stream."""
    x, labels = data(seed=12)
    y = np.eye(3, dtype=np.float32)[labels]
    layers = lambda: [lm.layers.dropout(rate=0.2, input_shape=[6], seed=seed),
                      lm.layers.dense(units=8, activation="relu"),
                      lm.layers.dropout(rate=0.5),
                      lm.layers.dense(units=3, activation="softmax")]
    a, b, ha, hb = train_both(monkeypatch, layers, OPTIMIZERS[optimizer], "categoricalCrossentropy", x, y,
                              metrics=["accuracy"])
    assert_same_weights(a, b)
    assert_same_history(ha, hb)
    # The masks matter: from the same start and shuffles, the model without dropout ends
    # elsewhere (so equal weights above mean equal masks, not masks that did nothing).
    plain = build(lambda: [lm.layers.dense(units=8, input_shape=[6], activation="relu"),
                           lm.layers.dense(units=3, activation="softmax")],
                  OPTIMIZERS[optimizer], "categoricalCrossentropy")
    plain.set_weights(b.start_weights)
    lm.random.set_seed(7)
    plain.fit(x, y, batch_size=16, epochs=50, verbose=0)
    assert max(float(np.abs(p - w).max()) for p, w in zip(plain.get_weights(), b.get_weights())) > 1e-2


def test_dropout_masks_match_per_batch_and_in_train_on_batch(monkeypatch):
    """With a callback (one C++ call per batch) and through train_on_batch."""
    x, labels = data(rows=40, seed=13)
    y = np.eye(3, dtype=np.float32)[labels]
    results = {}
    for flag in ("1", "0"):
        lm.random.set_seed(5)
        model = build(lambda: [lm.layers.dense(units=8, input_shape=[6], activation="tanh"),
                               lm.layers.dropout(rate=0.4), lm.layers.dense(units=3, activation="softmax")],
                      lambda: lm.train.adam(0.01), "categoricalCrossentropy")
        monkeypatch.setenv("LAMINA_FUSED", flag)
        lm.random.set_seed(6)
        history = model.fit(x, y, batch_size=8, epochs=3, verbose=0,
                            callbacks=[lm.callbacks.lambda_callback(on_batch_end=lambda batch, logs: None)])
        steps = [model.train_on_batch(x[:10], y[:10]) for _ in range(3)]
        results[flag] = (history.history["loss"], steps, model.get_weights())
    np.testing.assert_allclose(results["1"][0], results["0"][0], rtol=1e-5)
    np.testing.assert_allclose(results["1"][1], results["0"][1], rtol=1e-5)
    for got, want in zip(results["1"][2], results["0"][2]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_changing_a_dropout_rate_or_regularizer_after_fit_makes_a_new_plan(monkeypatch):
    """A callback or the user may change them between fits: the fused path follows, as the tape."""
    x, labels = data(seed=18)
    y = np.eye(3, dtype=np.float32)[labels]
    layers = lambda: [lm.layers.dense(units=8, input_shape=[6], activation="relu",
                                      kernel_regularizer=lm.regularizers.l2(0.01)),
                      lm.layers.dropout(rate=0.1), lm.layers.dense(units=3, activation="softmax")]
    models = []
    for flag in ("1", "0"):
        lm.random.set_seed(4)
        model = build(layers, lambda: lm.train.sgd(0.1), "categoricalCrossentropy")
        monkeypatch.setenv("LAMINA_FUSED", flag)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        model.layers[1].rate = 0.6
        model.layers[0].kernel.regularizer = lm.regularizers.l1l2(l1=0.02, l2=0.5)
        model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        models.append(model)
    assert_same_weights(models[0], models[1])


DROPOUT_STACK = lambda: [lm.layers.dense(units=8, input_shape=[6], activation="relu"),  # noqa: E731
                         lm.layers.dropout(rate=0.1), lm.layers.dense(units=3, activation="softmax")]


class Anneal(lm.callbacks.Callback):
    """Follows batches: changes the dropout rate after each one."""

    def on_batch_end(self, batch, logs=None):
        self.model.layers[1].rate = 0.1 + 0.1 * (batch % 4)


class EpochOnly(lm.callbacks.Callback):
    """Follows epochs only: stops on request at epoch begin, and changes the dropout rate."""

    def __init__(self, stop_at=None):
        super().__init__()
        self.stop_at = stop_at

    def on_epoch_begin(self, epoch, logs=None):
        self.model.layers[1].rate = 0.1 * (1 + epoch % 3)
        if epoch == self.stop_at:
            self.model.stop_training = True


def test_a_callback_changing_the_model_mid_epoch_is_followed(monkeypatch):
    """Batches go one by one under a user callback; each checks the plan still fits the model."""
    x, labels = data(seed=19)
    y = np.eye(3, dtype=np.float32)[labels]
    a, b, _, _ = train_both(monkeypatch, DROPOUT_STACK, lambda: lm.train.adam(0.01), "categoricalCrossentropy",
                            x, y, epochs=3, callbacks=[Anneal()])
    assert_same_weights(a, b)


@pytest.mark.parametrize("stop_at", [None, 2])
def test_epoch_only_callbacks_keep_whole_fused_epochs_with_the_tapes_results(monkeypatch, stop_at):
    """EarlyStopping and other epoch-only callbacks do not make the batches go one by one."""
    x, labels = data(seed=20)
    y = np.eye(3, dtype=np.float32)[labels]
    calls = []
    original = fused._Runner.train_batch
    monkeypatch.setattr(fused._Runner, "train_batch", lambda self, *a: calls.append(1) or original(self, *a))
    a, b, ha, hb = train_both(monkeypatch, DROPOUT_STACK, lambda: lm.train.adam(0.01), "categoricalCrossentropy",
                              x, y, epochs=5, validation_split=0.25,
                              callbacks=[EpochOnly(stop_at), lm.callbacks.early_stopping(monitor="loss", patience=100)])
    # No batch went alone, except the one batch trained after a stop asked for at epoch begin.
    assert len(calls) == (0 if stop_at is None else 1)
    assert a.optimizer.iterations == b.optimizer.iterations == (15 if stop_at is None else 2 * 3 + 1)
    assert_same_weights(a, b)
    assert_same_history(ha, hb)


def stop_callback(event, epoch=1, batch=1):
    """A callback that sets model.stop_training from `event` (in epoch `epoch`, at batch
    `batch`), overriding no event it does not need: with epoch events alone, fit keeps
    training whole fused epochs."""
    def at_train_begin(self, logs=None):
        self.model.stop_training = True

    def at_epoch(self, index, logs=None):
        if index == epoch:
            self.model.stop_training = True

    def track(self, index, logs=None):
        self.epoch = index

    def at_batch(self, index, logs=None):
        if self.epoch == epoch and index == batch:
            self.model.stop_training = True

    methods = {"on_train_begin": {"on_train_begin": at_train_begin},
               "on_epoch_begin": {"on_epoch_begin": at_epoch},
               "on_epoch_end": {"on_epoch_end": at_epoch},
               "on_batch_begin": {"on_epoch_begin": track, "on_batch_begin": at_batch},
               "on_batch_end": {"on_epoch_begin": track, "on_batch_end": at_batch}}[event]
    return type(f"StopAt_{event}", (lm.callbacks.Callback,), methods)()


# 64 rows less a validation split of 0.25: 48 rows, 3 batches of 16 per epoch, 4 epochs asked.
@pytest.mark.parametrize("event, batch, steps, epochs", [
    ("on_train_begin", 1, 12, 4),  # ignored, as TF.js
    ("on_epoch_begin", 1, 3 + 1, 2),  # epoch 1 still trains one batch, as TF.js
    ("on_batch_begin", 1, 3 + 2, 2),
    ("on_batch_begin", 2, 3 + 3, 2),  # the last batch: its epoch is validated
    ("on_batch_end", 0, 3 + 1, 2),
    ("on_epoch_end", 1, 6, 2),
])
def test_a_stop_from_any_event_ends_fit_as_on_the_tape(monkeypatch, event, batch, steps, epochs):
    x, labels = data(seed=23)
    y = np.eye(3, dtype=np.float32)[labels]
    a, b, ha, hb = train_both(monkeypatch, dense_stack(), lambda: lm.train.adam(0.01), "categoricalCrossentropy",
                              x, y, metrics=["accuracy"], epochs=4, validation_split=0.25,
                              callbacks=[stop_callback(event, batch=batch)])
    assert a.optimizer.iterations == b.optimizer.iterations == steps
    assert ha.epoch == list(range(epochs))
    assert_same_history(ha, hb)
    assert_same_weights(a, b)
    if event == "on_epoch_end":  # EarlyStopping's case: every history list has one value per epoch
        assert {len(values) for values in ha.history.values()} == {epochs}


def test_ctrl_c_lands_within_a_fused_epoch_and_the_step_count_keeps_up_with_the_weights(monkeypatch):
    """An interrupt lands between runs of batches (each about _RUN_SECONDS), not at the end of
    the epoch; the optimizer's step count and Adam's beta powers then describe exactly the
    steps the weights took, and the model trains again afterwards."""
    import signal

    monkeypatch.setenv("LAMINA_FUSED", "1")
    rng = np.random.default_rng(24)
    batch, batches = 256, 800  # an epoch of about 2 s on this machine: 800 steps of ~2.5 ms
    x = rng.normal(size=(batch * batches, 64)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch * batches)]

    def model():
        lm.random.set_seed(5)
        m = lm.sequential(layers=[lm.layers.dense(units=4096, input_shape=[64], activation="relu"),
                                  lm.layers.dense(units=10, activation="softmax")])
        m.compile(optimizer=lm.train.adam(0.001), loss="categoricalCrossentropy")
        return m

    interrupted = model()
    main = threading.main_thread().ident
    timer = threading.Timer(0.3, lambda: signal.pthread_kill(main, signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    timer.join()
    steps = interrupted.optimizer.iterations
    assert 0 < steps < batches  # it landed inside the epoch
    replayed = model()  # the same start, the same batches one by one
    for start in range(0, steps * batch, batch):
        replayed.train_on_batch(x[start:start + batch], y[start:start + batch])
    assert replayed.optimizer.iterations == steps
    assert_same_weights(interrupted, replayed, rel=1e-6)
    slots = lambda m: [w["tensor"]._data for w in m.optimizer.get_weights()]  # noqa: E731
    for got, want in zip(slots(interrupted), slots(replayed)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    assert interrupted.optimizer._acc_beta1 == replayed.optimizer._acc_beta1
    assert interrupted.optimizer._acc_beta2 == replayed.optimizer._acc_beta2
    interrupted.fit(x[:batch * 2], y[:batch * 2], batch_size=batch, epochs=1, verbose=0)  # usable again
    assert interrupted.optimizer.iterations == steps + 2


def test_adam_moments_never_go_denormal_on_the_fused_path(monkeypatch):
    """Inputs that stop varying (MNIST's blank border pixels, dead units) give their weights a
    zero gradient: Adam's first moment then decays by 0.9 per step, through the denormal
    floats (below 1.2e-38, ~100 cycles per operation) between steps ~810 and ~960 here. The
    fused trainer flushes them to 0, as TensorFlow does."""
    monkeypatch.setenv("LAMINA_FUSED", "1")
    rng = np.random.default_rng(21)
    steps, batch = 900, 8
    x = rng.normal(size=(steps * batch, 6)).astype(np.float32)
    x[4 * batch:, :2] = 0.0  # inputs 0 and 1 vary in the first 4 batches only
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, steps * batch)]
    model = build(dense_stack(), lambda: lm.train.adam(0.01), "categoricalCrossentropy")
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    slots = {s["name"]: s["tensor"]._data for s in model.optimizer.get_weights() if s["name"] != "iter"}
    assert sum(int(np.sum((m != 0) & (np.abs(m) < np.finfo(np.float32).tiny))) for m in slots.values()) == 0
    first_kernel_m = next(m for name, m in slots.items() if name.endswith("kernel/m"))
    assert np.all(first_kernel_m[:2] == 0) and np.all(first_kernel_m[2:] != 0)


def test_dropout_noise_is_numpys():
    """The C++ noise is numpy's PCG64 float32 stream, from the state of the same generator."""
    from lamina.random import generator, noise_seed
    for seed in (0, 1, 2**40 + 3):
        for n in (0, 1, 2, 7, 1000, 100_001):  # the last one drawn in chunks by two threads
            want = generator(seed).random(n, dtype=np.float32)
            np.testing.assert_array_equal(_core.uniform_floats(noise_seed(seed), n), want)
            keep = np.float32(1 - 0.3)
            mask = np.floor(generator(seed).random(n, dtype=np.float32) + keep) / keep
            np.testing.assert_array_equal(_core.dropout_mask(noise_seed(seed), 1 - 0.3, n), mask)
    with pytest.raises(ValueError, match=r"seed must have shape \(4,\)"):
        _core.uniform_floats(np.zeros(3, np.uint64), 2)
    with pytest.raises(TypeError, match="seed must have dtype uint64"):
        _core.uniform_floats(np.zeros(4, np.int64), 2)
    with pytest.raises(ValueError, match=r"keep_prob must be in \(0, 1\]"):
        _core.dropout_mask(noise_seed(1), 0.0, 2)


@pytest.mark.parametrize("kernel, bias", [
    (lambda: lm.regularizers.l1(0.01), None),
    (lambda: lm.regularizers.l2(0.02), lambda: lm.regularizers.l2(0.05)),
    (lambda: lm.regularizers.l1l2(l1=0.01, l2=0.01), lambda: lm.regularizers.l1(0.03)),
])
def test_regularizers_match_the_tape(monkeypatch, kernel, bias):
    x, labels = data(seed=14)
    y = np.eye(3, dtype=np.float32)[labels]
    layers = lambda: [lm.layers.dense(units=8, input_shape=[6], activation="relu",
                                      kernel_regularizer=kernel(), bias_regularizer=bias and bias()),
                      lm.layers.dense(units=3, activation="softmax", kernel_regularizer=kernel())]
    a, b, ha, hb = train_both(monkeypatch, layers, lambda: lm.train.adam(0.02), "categoricalCrossentropy", x, y,
                              metrics=["ce"])
    assert_same_weights(a, b)
    assert_same_history(ha, hb)
    # The reported loss includes the penalty, the metric (and evaluation) do not.
    assert ha.history["loss"][-1] > ha.history["ce"][-1]


def test_flatten_first_matches_the_tape(monkeypatch):
    x, labels = data(seed=15)
    x = x.reshape(-1, 2, 3)
    y = np.eye(3, dtype=np.float32)[labels]
    layers = lambda: [lm.layers.flatten(input_shape=[2, 3]), lm.layers.dense(units=8, activation="elu"),
                      lm.layers.dense(units=3, activation="softmax")]
    a, b, ha, hb = train_both(monkeypatch, layers, lambda: lm.train.sgd(0.1), "categoricalCrossentropy", x, y,
                              metrics=["accuracy"])
    assert_same_weights(a, b)
    assert_same_history(ha, hb)
    monkeypatch.setattr(training, "_train_step", _no_tape)
    np.testing.assert_allclose(a.predict(x).array(), b.predict(x).array(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("threads", [1, 2])
def test_wide_inputs_split_over_threads_match_the_tape(monkeypatch, threads):
    """From 256 inputs on, small steps split the first layer's inputs over the threads."""
    x, labels = data(inputs=300, seed=16)
    y = np.eye(3, dtype=np.float32)[labels]
    layers = lambda: [lm.layers.dense(units=8, input_shape=[300], activation="relu",
                                      kernel_regularizer=lm.regularizers.l2(0.01)),
                      lm.layers.dropout(rate=0.25),
                      lm.layers.dense(units=3, activation="softmax")]
    before = lm.get_num_threads()
    lm.set_num_threads(threads)
    try:
        a, b, ha, hb = train_both(monkeypatch, layers, lambda: lm.train.adam(0.005), "categoricalCrossentropy",
                                  x / 4, y, metrics=["accuracy"])
    finally:
        lm.set_num_threads(before)
    assert_same_weights(a, b)
    assert_same_history(ha, hb)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_fit_trains_fused_in_runs_of_batches_with_the_tapes_results(monkeypatch):
    """fit's default verbose=1: the progress bar follows runs of batches, one C++ call each."""
    x, labels = data(rows=200, seed=17)
    y = np.eye(3, dtype=np.float32)[labels]
    calls = []
    original = fused._Runner.train_epoch
    monkeypatch.setattr(fused._Runner, "train_epoch", lambda self, *args: calls.append(1) or original(self, *args))
    monkeypatch.setattr(training, "_RUN_SECONDS", 1e-9)  # runs of one batch: many calls per epoch
    outputs, histories = {}, {}
    for flag in ("1", "0"):
        lm.random.set_seed(2)
        model = build(dense_stack(), lambda: lm.train.sgd(0.1), "categoricalCrossentropy", ["accuracy"])
        monkeypatch.setenv("LAMINA_FUSED", flag)
        monkeypatch.setattr("sys.stdout", FakeTerminal())
        lm.random.set_seed(3)
        with monkeypatch.context() as patch:
            if flag == "1":
                patch.setattr(training, "_train_step", _no_tape)
            histories[flag] = model.fit(x, y, batch_size=16, epochs=2, validation_split=0.1)
        outputs[flag] = sys.stdout.getvalue()
    # ceil(180 / 16) = 12 batches per epoch, trained in several calls per epoch (a first run
    # of a few batches, then runs sized to _RUN_SECONDS: one batch each here).
    assert histories["1"].model.optimizer.iterations == 24 and 2 * 2 < len(calls) <= 24
    assert_same_history(histories["1"], histories["0"])
    for text in outputs.values():
        for epoch in (1, 2):
            assert re.search(rf"Epoch {epoch} / 2: 100%.*12/12 .*acc=.* loss=", text)
        assert len(re.findall(r"\d[\d.]*(?:s|ms|us) \d[\d.]*(?:s|ms|us)/step - acc=\S+ loss=\S+ val_acc=\S+ val_loss=\S+", text)) == 2


def test_class_and_sample_weights_match_the_tape(monkeypatch):
    x, labels = data(seed=4)
    y = np.eye(3, dtype=np.float32)[labels]
    sample_weight = np.random.default_rng(5).uniform(0.1, 2.0, len(x)).astype(np.float32)
    a, b, ha, hb = train_both(monkeypatch, dense_stack(), lambda: lm.train.momentum(0.05, 0.9),
                              "categoricalCrossentropy", x, y, metrics=["acc"],
                              class_weight={0: 1.0, 1: 3.0, 2: 0.5}, sample_weight=sample_weight)
    assert_same_weights(a, b)
    assert_same_history(ha, hb)


def test_per_batch_logs_match_the_tape_with_a_callback_and_validation(monkeypatch):
    """A user callback makes fit call C++ once per batch; its logs equal the tape's."""
    x, labels = data(rows=70, seed=6)
    y = np.eye(3, dtype=np.float32)[labels]
    logs = {}
    for flag in ("1", "0"):
        seen = logs.setdefault(flag, [])
        callback = lm.callbacks.lambda_callback(on_batch_end=lambda batch, log, seen=seen: seen.append(dict(log)))
        lm.random.set_seed(3)
        model = build(dense_stack(), lambda: lm.train.adam(0.01), "categoricalCrossentropy", ["accuracy"])
        if flag == "1":
            start = model.get_weights()
        else:
            model.set_weights(start)
        monkeypatch.setenv("LAMINA_FUSED", flag)
        lm.random.set_seed(9)
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[callback],
                            validation_split=0.2)
        logs[flag + "history"] = history
    assert [list(log) for log in logs["1"]] == [list(log) for log in logs["0"]]
    for got, want in zip(logs["1"], logs["0"]):
        assert got["batch"] == want["batch"] and got["size"] == want["size"]
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
        assert got["acc"] == pytest.approx(want["acc"], rel=1e-6)
    assert list(logs["1history"].history) == ["val_loss", "val_acc", "loss", "acc"]
    assert_same_history(logs["1history"], logs["0history"])


def test_whole_epochs_run_without_the_tape_and_lamina_fused_0_forces_it(monkeypatch):
    x, labels = data()
    y = np.eye(3, dtype=np.float32)[labels]
    calls = []
    original = training._train_step
    monkeypatch.setattr(training, "_train_step", lambda *args: calls.append(1) or original(*args))
    model = build(dense_stack(), lambda: lm.train.sgd(0.1), "categoricalCrossentropy")
    monkeypatch.setenv("LAMINA_FUSED", "1")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert calls == [] and model.optimizer.iterations == 8
    monkeypatch.setenv("LAMINA_FUSED", "0")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert len(calls) == 8 and model.optimizer.iterations == 16


def test_weights_are_the_variables_own_buffers(monkeypatch):
    monkeypatch.setenv("LAMINA_FUSED", "1")
    x, labels = data()
    y = np.eye(3, dtype=np.float32)[labels]
    model = build(dense_stack(), lambda: lm.train.adam(0.01), "categoricalCrossentropy")
    buffers = [w.val._data for w in model.weights]
    before = [b.copy() for b in buffers]
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert all(w.val._data is b for w, b in zip(model.weights, buffers))
    assert all(not np.array_equal(b, old) for b, old in zip(buffers, before))
    # Optimizer state replaced by set_weights is picked up: the plan is rebuilt.
    state = model.optimizer.get_weights()
    model.optimizer.set_weights([{"name": s["name"], "tensor": s["tensor"]} for s in state])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert model.optimizer.iterations == 8


def test_train_on_batch_evaluate_predict_match_the_tape(monkeypatch):
    x, labels = data(rows=50, seed=8)
    y = np.eye(3, dtype=np.float32)[labels]
    results = {}
    for flag in ("1", "0"):
        model = build(dense_stack(), lambda: lm.train.rmsprop(0.01), "categoricalCrossentropy", ["accuracy"])
        if flag == "1":
            start = model.get_weights()
        else:
            model.set_weights(start)
        monkeypatch.setenv("LAMINA_FUSED", flag)
        steps = [model.train_on_batch(x[i:i + 20], y[i:i + 20], class_weight={0: 2.0, 1: 1.0, 2: 1.0})
                 for i in (0, 20, 30)]
        evaluated = model.evaluate(x, y, batch_size=16)
        predicted = model.predict(x, batch_size=7).array()
        results[flag] = (steps, evaluated, predicted, model.get_weights())
    for got, want in zip(results["1"][:2], results["0"][:2]):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(results["1"][2], results["0"][2], rtol=1e-5, atol=1e-7)
    for got, want in zip(results["1"][3], results["0"][3]):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("variant", ["dropout_noise_shape", "custom_regularizer", "activity_regularizer",
                                     "constraint", "custom_layer", "custom_loss", "frozen", "gelu_new",
                                     "flatten_channels_first"])
def test_ineligible_models_fall_back_and_still_train(monkeypatch, variant):
    monkeypatch.setenv("LAMINA_FUSED", "1")

    class Scale(lm.layers.Layer):
        def call(self, inputs, training=False):
            return inputs * 2.0

    class Squares(lm.regularizers.L1L2):  # a subclass may compute anything: the tape runs it
        pass

    first = {"units": 8, "input_shape": [6], "activation": "relu"}
    if variant == "custom_regularizer":
        first["kernel_regularizer"] = Squares(l1=0, l2=0.01)
    if variant == "activity_regularizer":
        first["activity_regularizer"] = lm.regularizers.l2()
    if variant == "constraint":
        first["kernel_constraint"] = lm.constraints.max_norm()
    if variant == "gelu_new":
        first["activation"] = "gelu_new"
    layers = [lm.layers.dense(**first)]
    if variant == "flatten_channels_first":
        del first["input_shape"]
        layers = [lm.layers.flatten(data_format="channels_first", input_shape=[2, 3]), lm.layers.dense(**first)]
    if variant == "dropout_noise_shape":
        layers.append(lm.layers.dropout(rate=0.3, noise_shape=[1, 8]))
    if variant == "custom_layer":
        layers.append(Scale())
    layers.append(lm.layers.dense(units=3, activation="softmax"))
    model = lm.sequential(layers=layers)
    if variant == "frozen":
        model.layers[0].trainable = False
    loss = (lambda t, p: lm.losses.layers.mean_squared_error(t, p)) if variant == "custom_loss" \
        else "categoricalCrossentropy"
    model.compile(optimizer=lm.train.sgd(0.5), loss=loss)
    assert not fused.is_eligible(model)
    reasons = {"dropout_noise_shape": "has a noise_shape", "custom_regularizer": "a regularizer other than",
               "activity_regularizer": "has an activity regularizer", "constraint": "has a constraint",
               "custom_layer": "is a Scale", "custom_loss": "its loss is not one of", "frozen": "is not trainable",
               "gelu_new": "activation 'gelu_new' has no fused kernel", "flatten_channels_first": "channels_first"}
    assert reasons[variant] in fused.why_not_fused(model)
    x, labels = data()
    if variant == "flatten_channels_first":
        x = x.reshape(-1, 2, 3)
    y = np.eye(3, dtype=np.float32)[labels]
    history = model.fit(x, y, batch_size=16, epochs=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_sparse_labels_out_of_range_give_the_tapes_error(monkeypatch):
    monkeypatch.setenv("LAMINA_FUSED", "1")
    x, labels = data()
    model = build(dense_stack(), lambda: lm.train.sgd(0.1), "sparseCategoricalCrossentropy")
    y = labels.astype(np.float32)[:, None]
    y[5] = 3
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        model.fit(x, y, verbose=0)


def test_other_python_threads_run_during_fit(monkeypatch):
    """The GIL is released for the whole epoch: a counter thread advances meanwhile."""
    monkeypatch.setenv("LAMINA_FUSED", "1")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4096, 256)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 4096)]
    model = lm.sequential(layers=[lm.layers.dense(units=256, input_shape=[256], activation="relu"),
                                  lm.layers.dense(units=10, activation="softmax")])
    model.compile(optimizer="adam", loss="categoricalCrossentropy")
    model.fit(x[:64], y[:64], epochs=1, verbose=0)  # the plan is built here, outside the timing
    counter, stop = [0], threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1

    thread = threading.Thread(target=count)
    thread.start()
    time.sleep(0.01)
    try:
        began = time.perf_counter()
        before = counter[0]
        model.fit(x, y, batch_size=32, epochs=2, verbose=0)
        during = counter[0] - before
        elapsed = time.perf_counter() - began
    finally:
        stop.set()
        thread.join()
    # Epoch mode makes 2 Python-level calls; holding the GIL would allow ~2 switch intervals.
    assert elapsed > 0.02
    assert during > 1000


def test_fused_trainer_rejects_bad_arguments():
    kernel = np.zeros((4, 3), np.float32)
    bias = np.zeros(3, np.float32)
    stage = {"kind": "dense", "activation": "relu", "kernel": kernel, "bias": bias,
             "kernel_slots": [], "bias_slots": []}

    def make(**changes):
        args = {"stages": [stage], "input_width": 4, "loss": "mean_squared_error", "metrics": [],
                "optimizer": "sgd", "hyperparameters": {}, "max_batch": 8}
        args.update(changes)
        return _core.fused.FusedTrainer(**args)

    trainer = make()
    x, y = np.zeros((2, 4), np.float32), np.zeros((2, 3), np.float32)
    state = fresh_state()
    out = trainer.train_batch(x, y, None, 0.1, state)
    assert out.shape == (1,) and state.tolist() == [1.0, 1.0, 1.0]  # advanced in place
    with pytest.raises(TypeError, match="state must have dtype float64, got float32"):
        trainer.train_batch(x, y, None, 0.1, state.astype(np.float32))
    with pytest.raises(ValueError, match=r"state must have shape \(3,\) \(\[iterations, beta1_power, beta2_power\]\), got \(2,\)"):
        trainer.train_batch(x, y, None, 0.1, state[:2].copy())
    with pytest.raises(ValueError, match=r"state\[0\] \(iterations\) must be an integer >= 0, got -1"):
        trainer.train_batch(x, y, None, 0.1, np.array([-1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"state\[0\] \(iterations\) must be an integer >= 0, got 0.5"):
        trainer.train_batch(x, y, None, 0.1, np.array([0.5, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"state\[1\] \(beta1_power\) must be a finite number"):
        trainer.train_batch(x, y, None, 0.1, np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="state must be a writeable array"):
        read_only = fresh_state()
        read_only.flags.writeable = False
        trainer.train_batch(x, y, None, 0.1, read_only)
    with pytest.raises(TypeError, match="x must have dtype float32, got float64"):
        trainer.train_batch(x.astype(np.float64), y, None, 0.1, fresh_state())
    with pytest.raises(ValueError, match=r"y must have shape \(\*, 3\), got \(2, 2\)"):
        trainer.train_batch(x, np.zeros((2, 2), np.float32), None, 0.1, fresh_state())
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        trainer.train_batch(np.zeros((4, 2), np.float32).T, y, None, 0.1, fresh_state())
    with pytest.raises(ValueError, match=r"between 1 and 8 rows"):
        trainer.train_batch(np.zeros((9, 4), np.float32), np.zeros((9, 3), np.float32), None, 0.1, fresh_state())
    with pytest.raises(ValueError, match=r"weights must have shape \(2,\)"):
        trainer.train_batch(x, y, np.ones(3, np.float32), 0.1, fresh_state())
    with pytest.raises(ValueError, match="must not share memory with x"):
        trainer.train_batch(kernel.reshape(-1)[:8].reshape(2, 4), y, None, 0.1, fresh_state())
    with pytest.raises(ValueError, match="learning_rate must be a finite number"):
        trainer.train_batch(x, y, None, float("nan"), 0)
    with pytest.raises(ValueError, match=r"order\[1\] must be a row of x in \[0, 2\), got 5"):
        trainer.train_epoch(x, y, None, np.array([0, 5]), 2, 0.1, fresh_state())
    with pytest.raises(TypeError, match="order must be a numpy.ndarray of int64"):
        trainer.train_epoch(x, y, None, np.array([0, 1], np.int32), 2, 0.1, fresh_state())
    with pytest.raises(ValueError, match=r"batch_size must be in \[1, 8\]"):
        trainer.train_epoch(x, y, None, np.array([0, 1]), 9, 0.1, fresh_state())
    with pytest.raises(ValueError, match="loss must be one of"):
        make(loss="hinge")
    with pytest.raises(ValueError, match="optimizer must be one of"):
        make(optimizer="lbfgs")
    with pytest.raises(ValueError, match=r"activation'\] must be one of"):
        make(stages=[dict(stage, activation="gelu_new")])
    with pytest.raises(ValueError, match=r"kernel'\] must have shape \(5, \*\)"):
        make(input_width=5)
    with pytest.raises(ValueError, match="must be a writeable array"):
        read_only = kernel.copy()
        read_only.flags.writeable = False
        make(stages=[dict(stage, kernel=read_only)])
    with pytest.raises(ValueError, match=r"kernel_slots'\] must hold 2 array"):
        make(optimizer="adam")
    with pytest.raises(ValueError, match="must not share memory"):
        make(stages=[dict(stage, bias=kernel.reshape(-1)[:3])])
    with pytest.raises(ValueError, match="softmax is supported only as the last stage"):
        make(stages=[{"kind": "softmax"}, stage])
    with pytest.raises(ValueError, match="max_batch must be >= 1"):
        make(max_batch=0)
    with pytest.raises(ValueError, match="inference only"):
        make(train=False).train_batch(x, y, None, 0.1, fresh_state())


def test_fit_async_is_awaitable_and_the_event_loop_runs_meanwhile(monkeypatch):
    monkeypatch.setenv("LAMINA_FUSED", "1")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4096, 128)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 4096)]
    model = lm.sequential(layers=[lm.layers.dense(units=128, input_shape=[128], activation="relu"),
                                  lm.layers.dense(units=10, activation="softmax")])
    model.compile(optimizer="sgd", loss="categoricalCrossentropy")

    async def main():
        ticks = 0
        task = asyncio.ensure_future(model.fit_async(x, y, batch_size=32, epochs=3, verbose=0))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.001)
        return await task, ticks

    history, ticks = asyncio.run(main())
    assert history.epoch == [0, 1, 2] and model.optimizer.iterations == 3 * 128
    assert ticks >= 5


def test_fused_trainer_fuzzed_arguments_only_raise_type_or_value_errors():
    """Random arguments (wrong types, shapes, dtypes, NaN, aliasing views) never crash."""
    import random

    kernel = np.zeros((4, 3), np.float32)
    slots = [np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32)]
    bias_slots = [np.zeros(3, np.float32), np.zeros(3, np.float32)]
    stage = {"kind": "dense", "activation": "tanh", "kernel": kernel, "bias": np.zeros(3, np.float32),
             "kernel_slots": slots, "bias_slots": bias_slots}
    trainer = _core.fused.FusedTrainer([stage, {"kind": "softmax"}], 4, "categorical_crossentropy",
                                       ["categorical_accuracy"], "adam", {"beta1": 0.9}, 8)
    palette = [None, 0, 1, -1, 2.5, float("nan"), float("inf"), True, "x", [], [1.0], {},
               np.zeros((2, 4), np.float32), np.ones((2, 3), np.float32), np.ones((9, 4), np.float32),
               np.ones((0, 4), np.float32), np.ones(2, np.float32), np.ones((2, 4)), np.array([0, 1]),
               np.array([0, 7]), np.array([-1]), np.ones((4, 2), np.float32).T, kernel, slots[0],
               kernel.reshape(-1)[:8].reshape(2, 4), np.array(1.0, np.float32), 10**20, fresh_state(),
               np.array([-1.0, 1.0, 1.0]), np.array([2.0**60, 1.0, 1.0]), np.array([0.0, np.inf, 1.0]),
               fresh_state().astype(np.float32), np.zeros(6)[::2]]
    dropping = _core.fused.FusedTrainer([stage, {"kind": "dropout", "rate": 0.5}, {"kind": "softmax"}], 4,
                                        "categorical_crossentropy", [], "adam", {}, 8)
    seeds = [np.zeros((1, 4), np.uint64), np.zeros(4, np.uint64), np.ones((2, 1, 4), np.uint64),
             np.zeros((1, 4), np.int64), np.zeros((3, 1, 4), np.uint64)[:, :, ::2], np.zeros((1, 5), np.uint64)]
    palette += seeds
    stages = [{"kind": "dropout", "rate": r} for r in (0.5, 0.0, 1.0, 1.5, -1, float("nan"), "x", None)]
    stages += [dict(stage, kernel_l1=v) for v in (0.01, -1.0, float("inf"), 1e39, "x")]
    pyrng = random.Random(0)
    methods = [trainer.train_batch, trainer.train_epoch, trainer.evaluate_batch, trainer.evaluate_batches,
               trainer.predict, dropping.train_batch, dropping.train_epoch, lambda *a: _core.fused.FusedTrainer(*a),
               lambda *a: _core.fused.FusedTrainer([stage, pyrng.choice(stages)], *a)]
    for _ in range(4000):
        method = pyrng.choice(methods)
        args = [pyrng.choice(palette) for _ in range(pyrng.randint(0, 9))]
        kwargs = {"noise_seeds": pyrng.choice(seeds + [None])} if pyrng.random() < 0.3 else {}
        try:
            method(*args, **kwargs)
        except (TypeError, ValueError, OverflowError):
            pass
    # Reaching this line means no call crashed the process. And the dropout plan's seeds are
    # checked with messages that say what was expected:
    x, y = np.ones((2, 4), np.float32), np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"noise_seeds must be a uint64 array of shape \(1, 4\).*got None"):
        dropping.train_batch(x, y, None, 0.1, fresh_state())
    with pytest.raises(ValueError, match=r"noise_seeds must have shape \(1, 1, 4\)"):
        dropping.train_epoch(x, y, None, np.arange(2), 2, 0.1, fresh_state(), noise_seeds=np.zeros((1, 4), np.uint64))
    with pytest.raises(ValueError, match="noise_seeds must be None: the plan has no dropout stage"):
        trainer.train_batch(x, y, None, 0.1, fresh_state(), noise_seeds=np.zeros((1, 4), np.uint64))
    with pytest.raises(ValueError, match=r"stages\[1\]\['rate'\] must be in \(0, 1\)"):
        _core.fused.FusedTrainer([stage, {"kind": "dropout", "rate": 1.0}], 4, "mean_squared_error", [], "adam", {}, 2)


def test_fused_softmax_cross_entropy_gradient_vs_tfjs_composition(monkeypatch):
    """Why the fused step composes softmax + TF.js's normalise-then-clip cross-entropy rather
    than using the one-pass softmax_cross_entropy gradient: they agree to 1e-5 relative while
    every probability is inside [1e-7, 1 - 1e-7], and differ once the clip cuts in (TF.js then
    passes no gradient for the clipped entries). The fused trainer keeps TF.js's semantics."""
    rng = np.random.default_rng(2)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]

    def both(logits):
        _, fused_grad = _core.softmax_cross_entropy(logits, labels, grad_scale=1 / 64)
        probs = _core.softmax(logits)
        dprobs = _core.categorical_crossentropy_backward(probs, labels, np.float32(1 / 64))
        return fused_grad, _core.softmax_backward(probs, dprobs)

    moderate = rng.normal(scale=3.0, size=(64, 10)).astype(np.float32)
    fused_grad, composed = both(moderate)
    np.testing.assert_allclose(fused_grad, composed, rtol=1e-5, atol=1e-5 * np.abs(composed).max())

    saturated = moderate.copy()
    saturated[np.arange(64), labels.argmax(1)] += 40.0  # correct class at probability ~1
    fused_grad, composed = both(saturated)
    assert np.abs(fused_grad).max() > 0 and np.abs(composed).max() < np.abs(fused_grad).max()

    # The fused trainer follows the composition: one step on the saturated case equals the tape.
    model_layers = lambda: [lm.layers.dense(units=10, input_shape=[10], activation="softmax",
                                            kernel_initializer="identity")]
    results = []
    for flag in ("1", "0"):
        monkeypatch.setenv("LAMINA_FUSED", flag)
        model = build(model_layers, lambda: lm.train.sgd(1.0), "categoricalCrossentropy")
        model.train_on_batch(saturated, labels)
        results.append(model.get_weights()[0])
    np.testing.assert_array_equal(results[0], results[1])
