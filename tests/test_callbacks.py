"""lamina.callbacks: order, logs, History, the dict form and the built-ins, driven by a
small fake model and a stand-in of TF.js's fitLoop (so these tests do not need models.py)."""

import math
import os
import sys

import numpy as np
import pytest

import lamina as lm
from lamina import callbacks as cb


class FakeModel:
    """What callbacks may use: stop_training, optimizer.learning_rate, get/set_weights.
    get_weights returns the live buffers, as a model whose optimizer updates in place may."""

    def __init__(self, weights=(), learning_rate=0.1):
        self.stop_training = False
        self.optimizer = lm.train.sgd(learning_rate)
        self.weights = [np.array(w, dtype=np.float32) for w in weights]

    def get_weights(self):
        return self.weights

    def set_weights(self, arrays):
        for weight, value in zip(self.weights, arrays):
            weight[...] = value


def make_params(epochs=1, initial_epoch=0, samples=None, batch_size=None, metrics=("loss",), verbose=0,
                do_validation=False):
    return {"epochs": epochs, "initial_epoch": initial_epoch, "samples": samples, "steps": None,
            "batch_size": batch_size, "verbose": verbose, "do_validation": do_validation,
            "metrics": list(metrics)}


def run_fit(callbacks, model, batches, epochs=1, initial_epoch=0, val_logs=None, metrics=("loss",),
            on_epoch=None):
    """TF.js's fitLoop (tfjs_semantics.md §1.5) over canned batch values.

    batches(epoch) -> list of dicts {size, loss, ...} (one per batch); val_logs(epoch) -> the
    val_ dict written during the last batch; on_epoch(epoch, model) runs after each epoch's
    batches, standing in for the weight updates."""
    labels = list(metrics)
    all_metrics = labels + (["val_" + label for label in labels] if val_logs else [])
    samples = sum(b["size"] for b in batches(initial_epoch))
    params = make_params(epochs, initial_epoch, samples, batches(initial_epoch)[0]["size"], all_metrics,
                         do_validation=val_logs is not None)
    callback_list, history = cb.configure_callbacks(callbacks, model, 0, params)
    callback_list.on_train_begin({})
    model.stop_training = False
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch, {})
        epoch_logs = {}
        epoch_batches = batches(epoch)
        for index, values in enumerate(epoch_batches):
            batch_logs = {}
            callback_list.on_batch_begin(index, batch_logs)
            batch_logs["batch"] = index
            batch_logs.update(values)
            if on_epoch is not None and index == len(epoch_batches) - 1:
                on_epoch(epoch, model)
            if val_logs is not None and index == len(epoch_batches) - 1:
                epoch_logs.update(val_logs(epoch))
            callback_list.on_batch_end(index, batch_logs)
            if model.stop_training:
                break
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    callback_list.on_train_end({})
    return history


def constant_batches(*sizes, loss=1.0):
    return lambda epoch: [{"size": size, "loss": loss} for size in sizes]


# --- order, logs, History -----------------------------------------------------------------

def test_firing_order_and_logs_match_tfjs():
    events = []

    class Recorder(cb.Callback):
        def on_train_begin(self, logs=None):
            events.append(("train_begin", dict(logs)))

        def on_epoch_begin(self, epoch, logs=None):
            events.append(("epoch_begin", epoch, dict(logs)))

        def on_batch_begin(self, batch, logs=None):
            events.append(("batch_begin", batch, dict(logs)))

        def on_batch_end(self, batch, logs=None):
            events.append(("batch_end", batch, dict(logs)))

        def on_epoch_end(self, epoch, logs=None):
            events.append(("epoch_end", epoch, dict(logs)))

        def on_train_end(self, logs=None):
            events.append(("train_end", dict(logs)))

    batches = lambda epoch: [{"size": 4, "loss": 0.8628807067871094, "acc": 0.0},  # noqa: E731
                             {"size": 4, "loss": 0.6882984042167664, "acc": 0.5}]
    val = lambda epoch: {"val_loss": 0.6609157919883728, "val_acc": 1.0}  # noqa: E731
    run_fit([Recorder()], FakeModel(), batches, epochs=1, val_logs=val, metrics=("loss", "acc"))
    # tfjs_semantics.md §1.6, the observed event stream.
    assert events == [
        ("train_begin", {}),
        ("epoch_begin", 0, {}),
        ("batch_begin", 0, {}),
        ("batch_end", 0, {"batch": 0, "size": 4, "loss": 0.8628807067871094, "acc": 0.0}),
        ("batch_begin", 1, {}),
        ("batch_end", 1, {"batch": 1, "size": 4, "loss": 0.6882984042167664, "acc": 0.5}),
        ("epoch_end", 0, {"val_loss": 0.6609157919883728, "val_acc": 1.0,
                          "loss": pytest.approx(0.7755895853042603), "acc": 0.25}),
        ("train_end", {}),
    ]
    assert list(events[6][2]) == ["val_loss", "val_acc", "loss", "acc"]  # TF.js's key order


def test_base_logger_weights_batches_by_size():
    # tfjs_observed.md §3: batches 32, 32, 6 with losses 325.5, 2341.5, 4425.17 -> epoch loss 1598.5
    # (the plain mean would be 2364.06).
    losses = [325.5, 2341.5, 4425.17]
    batches = lambda epoch: [{"size": s, "loss": v} for s, v in zip((32, 32, 6), losses)]  # noqa: E731
    history = run_fit(None, FakeModel(), batches)
    expected = (32 * 325.5 + 32 * 2341.5 + 6 * 4425.17) / 70
    assert history.history["loss"] == [pytest.approx(expected, rel=1e-12)]
    assert round(history.history["loss"][0], 1) == 1598.5
    assert "batch" not in history.history and "size" not in history.history


def test_base_logger_only_averages_params_metrics():
    logger = cb.BaseLogger()
    logger.set_params(make_params(metrics=["loss"]))
    logger.on_epoch_begin(0)
    logger.on_batch_end(0, {"batch": 0, "size": 2, "loss": 1.0, "extra": 5.0})
    logs = {}
    logger.on_epoch_end(0, logs)
    assert logs == {"loss": 1.0}


def test_history_epochs_params_and_plain_floats():
    batches = lambda epoch: [{"size": 2, "loss": np.float32(epoch + 0.5)}]  # noqa: E731
    val = lambda epoch: {"val_loss": np.float64(epoch)}  # noqa: E731
    history = run_fit({}, FakeModel(), batches, epochs=3, initial_epoch=1, val_logs=val)
    assert history.epoch == [1, 2]  # absolute epoch indices (TF.js)
    assert history.history == {"val_loss": [1.0, 2.0], "loss": [1.5, 2.5]}
    assert all(type(v) is float for values in history.history.values() for v in values)
    assert history.params["initial_epoch"] == 1 and history.params["metrics"] == ["loss", "val_loss"]


def test_history_resets_on_train_begin():
    history = cb.History()
    history.on_train_begin({})
    history.on_epoch_end(0, {"loss": 1.0})
    history.on_train_begin({})
    assert history.epoch == [] and history.history == {}


def test_history_converts_tensors():
    history = cb.History()
    history.on_epoch_end(0, {"loss": lm.scalar(0.25)})
    assert history.history == {"loss": [0.25]}


def test_stop_training_in_epoch_end_keeps_the_stopped_epoch():
    # tfjs_semantics.md §1.10: stop in epoch 1 of 3 -> two history entries, epoch == [0, 1].
    def stop_at_one(epoch, logs):
        if epoch == 1:
            model.stop_training = True
    model = FakeModel()
    history = run_fit({"on_epoch_end": stop_at_one}, model, constant_batches(2), epochs=3)
    assert history.epoch == [0, 1] and len(history.history["loss"]) == 2


def test_stop_training_in_train_begin_is_ignored():
    model = FakeModel()
    history = run_fit({"on_train_begin": lambda logs: setattr(model, "stop_training", True)}, model,
                      constant_batches(2), epochs=2)
    assert history.epoch == [0, 1]


# --- configure_callbacks and the accepted forms --------------------------------------------

def test_configure_callbacks_order_model_and_params():
    user = cb.terminate_on_nan()
    model = FakeModel()
    params = make_params(samples=10, batch_size=5)
    callback_list, history = cb.configure_callbacks([user, {"on_epoch_end": print}], model, 1, params)
    names = [type(c).__name__ for c in callback_list.callbacks]
    assert names == ["BaseLogger", "ProgressLogger", "TerminateOnNaN", "LambdaCallback", "History"]
    assert callback_list.callbacks[-1] is history
    assert all(c.model is model and c.params is params for c in callback_list.callbacks)
    assert callback_list.callbacks[1].verbose == 1
    names = [type(c).__name__ for c in cb.configure_callbacks(user, model, 0, params)[0].callbacks]
    assert names == ["BaseLogger", "TerminateOnNaN", "History"]
    assert cb.configure_callbacks(None, model, 2, params)[0].callbacks[1].verbose == 2


def test_callbacks_in_a_list_fire_in_list_order():
    calls = []
    run_fit([{"on_batch_end": lambda b, logs: calls.append(("a", b))},
             cb.lambda_callback(on_batch_end=lambda b, logs: calls.append(("b", b))),
             {"on_batch_end": lambda b, logs: calls.append(("c", b))}],
            FakeModel(), constant_batches(1, 1))
    assert calls == [("a", 0), ("b", 0), ("c", 0), ("a", 1), ("b", 1), ("c", 1)]


def test_dict_form_unknown_key_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown callback key 'on_step_end'; valid keys are on_train_begin, "
                                         "on_train_end, on_epoch_begin, on_epoch_end, on_batch_begin, on_batch_end"):
        cb.standardize_callbacks({"on_step_end": print})
    with pytest.raises(ValueError, match="did you mean 'on_batch_end'\\? lamina's keys are snake_case"):
        cb.standardize_callbacks([{"onBatchEnd": print}])


def test_bad_callback_values_are_type_errors():
    with pytest.raises(TypeError, match="callback on_epoch_end must be a function, got int"):
        cb.standardize_callbacks({"on_epoch_end": 3})
    with pytest.raises(TypeError, match="callbacks must be a Callback, a dict of functions.*got str"):
        cb.standardize_callbacks("early_stopping")
    with pytest.raises(TypeError, match=r"callbacks\[1\] must be a Callback or a dict of functions, got function"):
        cb.standardize_callbacks([{}, lambda batch, logs: None])


def test_configure_callbacks_checks_verbose_and_params():
    with pytest.raises(ValueError, match="verbose must be 0 .* got 3"):
        cb.configure_callbacks(None, FakeModel(), 3, make_params())
    with pytest.raises(ValueError, match="verbose must be .* got True"):
        cb.configure_callbacks(None, FakeModel(), True, make_params())
    params = make_params()
    del params["metrics"], params["steps"]
    with pytest.raises(ValueError, match="params is missing steps, metrics"):
        cb.configure_callbacks(None, FakeModel(), 0, params)


# --- early stopping ------------------------------------------------------------------------

def losses_per_epoch(values, key="val_loss"):
    """val_logs for run_fit giving values[epoch] for `key`."""
    return lambda epoch: {key: values[epoch]}


def test_early_stopping_patience_counts_epochs_without_improvement():
    model = FakeModel()
    stopper = cb.early_stopping(patience=2)
    history = run_fit([stopper], model, constant_batches(2), epochs=10,
                      val_logs=losses_per_epoch([1.0, 0.9, 0.95, 0.91, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]))
    # Best at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3.
    assert history.epoch == [0, 1, 2, 3] and stopper.stopped_epoch == 3 and model.stop_training


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    stopper = cb.early_stopping(patience=0)
    history = run_fit([stopper], FakeModel(), constant_batches(2), epochs=5,
                      val_logs=losses_per_epoch([1.0, 0.5, 0.5, 0.1, 0.0]))
    assert history.epoch == [0, 1, 2]  # an equal value is no improvement


def test_early_stopping_min_delta():
    stopper = cb.early_stopping(monitor="loss", min_delta=0.1, patience=0)
    batches = lambda epoch: [{"size": 1, "loss": [1.0, 0.85, 0.8][epoch]}]  # noqa: E731
    history = run_fit([stopper], FakeModel(), batches, epochs=3)
    assert history.epoch == [0, 1, 2] and stopper.stopped_epoch == 2  # 0.85 -> 0.8 is < min_delta


def test_early_stopping_auto_mode_maximises_accuracy():
    stopper = cb.early_stopping(monitor="val_acc", patience=0)
    assert stopper.mode == "max"
    history = run_fit([stopper], FakeModel(), constant_batches(2), epochs=4,
                      val_logs=losses_per_epoch([0.5, 0.75, 0.6, 0.9], "val_acc"))
    assert history.epoch == [0, 1, 2]
    assert cb.early_stopping(monitor="val_acc", mode="min").mode == "min"


def test_early_stopping_baseline_must_be_beaten():
    batches = lambda epoch: [{"size": 1, "loss": [0.8, 0.7, 0.1][epoch]}]  # noqa: E731
    with_baseline = run_fit([cb.early_stopping(monitor="loss", baseline=0.5, patience=2)], FakeModel(),
                            batches, epochs=3)
    assert with_baseline.epoch == [0, 1]  # 0.8 and 0.7 do not beat 0.5
    without = run_fit([cb.early_stopping(monitor="loss", patience=2)], FakeModel(), batches, epochs=3)
    assert without.epoch == [0, 1, 2]


def weight_drift(epoch, model):
    """Stands in for training: each epoch's update moves the weights (in place)."""
    for w in model.weights:
        w += 1.0


def test_restore_best_weights_when_early_stopping_stops():
    model = FakeModel(weights=[np.zeros((2, 2)), np.zeros(3)])
    stopper = cb.early_stopping(patience=1, restore_best_weights=True)
    run_fit([stopper], model, constant_batches(2), epochs=10, on_epoch=weight_drift,
            val_logs=losses_per_epoch([0.9, 0.3, 0.4, 0.5, 0.2, 0.1, 0, 0, 0, 0]))
    # Stopped after epoch 2; the best epoch was 1, when the weights were 2.0 (not 3.0).
    assert stopper.stopped_epoch == 2 and stopper.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], np.full((2, 2), 2.0))
    np.testing.assert_array_equal(model.weights[1], np.full(3, 2.0))


def test_restore_best_weights_when_training_ends_otherwise():
    # The epochs run out: weights still come back to the best epoch (TF.js throws instead).
    model = FakeModel(weights=[np.zeros(2)])
    stopper = cb.early_stopping(patience=5, restore_best_weights=True)
    run_fit([stopper], model, constant_batches(2), epochs=3, on_epoch=weight_drift,
            val_logs=losses_per_epoch([0.5, 0.1, 0.3]))
    assert not model.stop_training
    np.testing.assert_array_equal(model.weights[0], [2.0, 2.0])

    # Another callback stops training: restored all the same.
    model = FakeModel(weights=[np.zeros(2)])
    stopper = cb.early_stopping(patience=5, restore_best_weights=True)
    stop_at_two = {"on_epoch_end": lambda epoch, logs: setattr(model, "stop_training", epoch == 2)}
    run_fit([stopper, stop_at_two], model, constant_batches(2), epochs=6, on_epoch=weight_drift,
            val_logs=losses_per_epoch([0.5, 0.1, 0.3, 0.2, 0.1, 0.0]))
    np.testing.assert_array_equal(model.weights[0], [2.0, 2.0])


def test_no_restore_without_the_flag():
    model = FakeModel(weights=[np.zeros(2)])
    run_fit([cb.early_stopping(patience=0)], model, constant_batches(2), epochs=3, on_epoch=weight_drift,
            val_logs=losses_per_epoch([0.5, 0.6, 0.7]))
    np.testing.assert_array_equal(model.weights[0], [2.0, 2.0])


def test_early_stopping_missing_monitor_warns_with_available_keys():
    stopper = cb.early_stopping()  # val_loss, but there is no validation
    with pytest.warns(UserWarning, match="monitors 'val_loss', which is not in the epoch logs; available keys: "
                                         "loss, acc"):
        history = run_fit([stopper], FakeModel(), lambda e: [{"size": 1, "loss": 1.0, "acc": 0.5}], epochs=2,
                          metrics=("loss", "acc"))
    assert history.epoch == [0, 1]  # it does not stop training


@pytest.mark.parametrize("kwargs, error, message", [
    ({"mode": "maximum"}, ValueError, "mode must be 'auto', 'min' or 'max', got 'maximum'"),
    ({"patience": -1}, ValueError, "patience must be a non-negative integer, got -1"),
    ({"patience": 1.5}, ValueError, "patience must be a non-negative integer, got 1.5"),
    ({"min_delta": "0.1"}, TypeError, "min_delta must be a number, got '0.1'"),
    ({"monitor": None}, TypeError, "monitor must be a log key"),
])
def test_early_stopping_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        cb.early_stopping(**kwargs)


# --- terminate on NaN ------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_terminate_on_nan_stops_after_the_bad_batch(bad, capsys):
    model = FakeModel()
    batches = lambda epoch: [{"size": 1, "loss": 1.0}, {"size": 1, "loss": bad}, {"size": 1, "loss": 1.0}]  # noqa
    seen = []
    history = run_fit([cb.terminate_on_nan(), {"on_batch_end": lambda b, logs: seen.append(b)}], model,
                      batches, epochs=3)
    assert seen == [0, 1] and history.epoch == [0]
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_leaves_finite_losses_alone():
    model = FakeModel()
    history = run_fit([cb.terminate_on_nan()], model, constant_batches(1, 1, loss=1e30), epochs=2)
    assert history.epoch == [0, 1] and not model.stop_training


# --- learning rate callbacks -----------------------------------------------------------------

def test_reduce_lr_on_plateau_patience_factor_and_min_lr():
    model = FakeModel(learning_rate=0.1)
    callback = cb.reduce_lr_on_plateau(monitor="loss", factor=0.5, patience=2, min_lr=0.02)
    rates = []
    losses = [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5]
    run_fit([callback, {"on_epoch_end": lambda e, logs: rates.append(model.optimizer.learning_rate)}], model,
            lambda epoch: [{"size": 1, "loss": losses[epoch]}], epochs=len(losses))
    # Plateau from epoch 0: reduced after epochs 2 and 4; 0.5 improves at 5; reduced after 7, 9 (floor 0.02).
    assert rates == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02])


def test_reduce_lr_on_plateau_cooldown_and_min_delta():
    model = FakeModel(learning_rate=1.0)
    callback = cb.reduce_lr_on_plateau(monitor="loss", factor=0.1, patience=1, cooldown=2, min_delta=0.01)
    rates = []
    losses = [1.0, 0.995, 0.99, 0.985, 0.98, 0.975]  # improvements smaller than min_delta: a plateau
    run_fit([callback, {"on_epoch_end": lambda e, logs: rates.append(model.optimizer.learning_rate)}], model,
            lambda epoch: [{"size": 1, "loss": losses[epoch]}], epochs=len(losses))
    # Reduced after epoch 1; epochs 2 and 3 are the cooldown; reduced again after epoch 4.
    assert rates == pytest.approx([1.0, 0.1, 0.1, 0.1, 0.01, 0.01])


def test_reduce_lr_on_plateau_needs_an_optimizer_and_a_factor_below_one():
    model = FakeModel()
    model.optimizer = None
    with pytest.raises(ValueError, match="needs a compiled model whose optimizer has a learning_rate"):
        run_fit([cb.reduce_lr_on_plateau()], model, constant_batches(1))
    with pytest.raises(ValueError, match=r"factor must be in \(0, 1\).*got 1.0"):
        cb.reduce_lr_on_plateau(factor=1.0)


def test_learning_rate_scheduler_uses_absolute_epochs_and_the_current_rate():
    model = FakeModel(learning_rate=0.1)
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5 if epoch >= 2 else lr

    rates = []
    run_fit([cb.learning_rate_scheduler(schedule),
             {"on_epoch_begin": lambda e, logs: rates.append(model.optimizer.learning_rate)}],
            model, constant_batches(1), epochs=4, initial_epoch=1)
    assert seen == [(1, 0.1), (2, 0.1), (3, 0.05)]
    assert rates == [0.1, 0.05, 0.025]


def test_learning_rate_scheduler_rejects_bad_schedules():
    with pytest.raises(TypeError, match="schedule must be a function"):
        cb.learning_rate_scheduler(0.1)
    with pytest.raises(TypeError, match="the schedule must return a number, got str for epoch 0"):
        run_fit([cb.learning_rate_scheduler(lambda epoch, lr: "fast")], FakeModel(), constant_batches(1))
    with pytest.raises(ValueError, match="must return a finite number, got nan for epoch 0"):
        run_fit([cb.learning_rate_scheduler(lambda epoch, lr: math.nan)], FakeModel(), constant_batches(1))


# --- CSV logger --------------------------------------------------------------------------------

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_csv_logger_writes_a_row_per_epoch_flushed(tmp_path):
    path = tmp_path / "log.csv"
    rows_seen_during_training = []
    logger = cb.csv_logger(path)
    batches = lambda epoch: [{"size": 2, "loss": 0.5 / (epoch + 1), "acc": 0.25 * epoch}]  # noqa: E731
    run_fit([logger, {"on_epoch_end": lambda e, logs: rows_seen_during_training.append(read(path))}],
            FakeModel(), batches, epochs=2, metrics=("loss", "acc"), val_logs=losses_per_epoch([0.75, 0.5]))
    # Header: epoch, then the first epoch's keys sorted.
    assert read(path) == "epoch,acc,loss,val_loss\n0,0.0,0.5,0.75\n1,0.25,0.25,0.5\n"
    # The row is on disk when the epoch ends, before training does.
    assert rows_seen_during_training[0] == "epoch,acc,loss,val_loss\n0,0.0,0.5,0.75\n"


def test_csv_logger_append_separator_and_missing_keys(tmp_path):
    path = tmp_path / "log.tsv"
    batches = lambda epoch: [{"size": 1, "loss": 1.0}]  # noqa: E731
    run_fit([cb.csv_logger(str(path), separator="\t")], FakeModel(), batches, epochs=1,
            val_logs=losses_per_epoch([2.0]))
    # Second run appends without a second header; its epoch has no val_loss -> NA.
    run_fit([cb.csv_logger(path, separator="\t", append=True)], FakeModel(), batches, epochs=1)
    assert read(path) == "epoch\tloss\tval_loss\n0\t1.0\t2.0\n0\t1.0\n"
    # A new run (not appending) starts the file again.
    logger = cb.csv_logger(path)
    logger.on_train_begin({})
    logger.on_epoch_end(0, {"loss": 1.0, "acc": 0.5})
    logger.on_epoch_end(1, {"loss": 0.5})
    logger.on_train_end({})
    assert read(path) == "epoch,acc,loss\n0,0.5,1.0\n1,NA,0.5\n"


def test_csv_logger_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="separator must be a single character, got ', '"):
        cb.csv_logger(tmp_path / "x.csv", separator=", ")
    with pytest.raises(TypeError, match="filename must be a path"):
        cb.csv_logger(3)
    assert not os.path.exists(tmp_path / "x.csv")


# --- History.plot -------------------------------------------------------------------------------

def filled_history():
    history = cb.History()
    history.on_train_begin({})
    for epoch, (val, loss, acc) in enumerate([(0.9, 1.0, 0.5), (0.7, 0.8, 0.6), (0.6, 0.5, 0.7)]):
        history.on_epoch_end(epoch, {"val_loss": val, "loss": loss, "acc": acc})
    return history


def test_history_plot_without_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib...` fail
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"needs matplotlib.*pip install 'lamina\[plot\]'"):
        filled_history().plot()


def test_history_plot_draws_each_metric_with_its_validation():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = filled_history().plot()
    try:
        loss_axes, acc_axes = figure.axes
        assert [line.get_label() for line in loss_axes.get_lines()] == ["loss", "val_loss"]
        np.testing.assert_array_equal(loss_axes.get_lines()[1].get_ydata(), [0.9, 0.7, 0.6])
        np.testing.assert_array_equal(loss_axes.get_lines()[0].get_xdata(), [0, 1, 2])
        assert [line.get_label() for line in acc_axes.get_lines()] == ["acc"]
        assert acc_axes.get_xlabel() == "epoch"
        only_loss = filled_history().plot(keys=["val_loss"])
        assert len(only_loss.axes) == 1
        plt.close(only_loss)
    finally:
        plt.close(figure)


def test_history_plot_errors():
    with pytest.raises(ValueError, match="the history is empty"):
        cb.History().plot()
    with pytest.raises(ValueError, match="no values for 'mse'; the history has val_loss, loss, acc"):
        filled_history().plot(keys=["mse"])
