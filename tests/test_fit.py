"""model.fit and train_on_batch: TF.js's loop semantics (tfjs_semantics.md §1, tfjs_observed.md §2-3)."""

import re

import numpy as np
import pytest

import lamina as lm
from recording import Events


class Recorder(lm.layers.Layer):
    """Passes its input through and records the first column of every training batch."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.training_batches, self.inference_batches = [], []

    def call(self, inputs, training=False):
        (self.training_batches if training else self.inference_batches).append(inputs.numpy()[:, 0].tolist())
        return inputs


def recording_model(features=2):
    recorder = Recorder(input_shape=[features])
    model = lm.sequential(layers=[recorder, lm.layers.dense(units=1)])
    model.compile(optimizer=lm.train.sgd(0.0), loss="meanSquaredError")  # lr 0: weights never move
    return model, recorder


def rows(n, features=2):
    """Sample i has value i in every column, so a batch's first column names its rows."""
    return np.repeat(np.arange(n, dtype=np.float32)[:, None], features, 1), np.zeros([n, 1], np.float32)


# ---------------------------------------------------------------- learning

def test_fit_learns_a_separable_problem():
    lm.set_seed(3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=[256, 4]).astype(np.float32)
    classes = (x @ np.array([1.0, -2.0, 0.5, 1.5]) > 0).astype(int) + 2 * (x[:, 0] > 1)
    y = np.eye(4, dtype=np.float32)[classes]
    model = lm.sequential(layers=[lm.layers.dense(units=16, input_shape=[4], activation="relu"),
                                  lm.layers.dense(units=4, activation="softmax")])
    model.compile(optimizer=lm.train.adam(0.02), loss="categoricalCrossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    loss, acc = history.history["loss"], history.history["acc"]
    assert loss[-1] < 0.5 * loss[0]
    assert acc[-1] > 0.85 and acc[-1] > acc[0]
    assert model.history is history


def test_train_on_batch_is_one_sgd_step_by_hand():
    model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2])])
    model.compile(optimizer=lm.train.sgd(0.1), loss="meanSquaredError", metrics=["mae"])
    model.set_weights([np.array([[1.0], [-1.0]], np.float32), np.array([0.5], np.float32)])
    x = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 1.0]], np.float32)
    y = np.array([[0.0], [1.0], [2.0]], np.float32)
    err = x @ np.array([[1.0], [-1.0]]) + 0.5 - y  # -0.5, 2.5, -2.5
    loss, mae = model.train_on_batch(x, y)
    assert loss == pytest.approx(np.mean(err ** 2)) and mae == pytest.approx(np.mean(np.abs(err)))
    grad_kernel = 2 * x.T @ err / 3
    grad_bias = 2 * err.sum(0) / 3
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, np.array([[1.0], [-1.0]]) - 0.1 * grad_kernel, rtol=1e-6)
    np.testing.assert_allclose(bias, 0.5 - 0.1 * grad_bias, rtol=1e-6)


def test_regularization_penalty_is_added_to_the_training_loss_only():
    model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1], kernel_initializer="ones",
                                                  kernel_regularizer=lm.regularizers.l2(l2=0.5))])
    model.compile(optimizer=lm.train.sgd(0.0), loss="meanSquaredError")
    x, y = [[1.0], [2.0]], [[1.0], [1.0]]  # errors 0 and 1: mse 0.5; penalty 0.5 * 1² = 0.5
    assert model.train_on_batch(x, y) == pytest.approx(1.0)
    assert model.evaluate(x, y) == pytest.approx(0.5)


def test_constraints_are_applied_after_each_update():
    model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1], kernel_initializer="zeros",
                                                  kernel_constraint=lm.constraints.non_neg())])
    model.compile(optimizer=lm.train.sgd(1.0), loss="meanSquaredError")
    model.train_on_batch([[1.0]], [[-5.0]])  # the step alone would make the kernel -10
    assert model.get_weights()[0].item() == 0.0


# ---------------------------------------------------------------- logs, history, params

def test_batch_and_epoch_logs_follow_tfjs():
    model, _ = recording_model()
    model.compile(optimizer=lm.train.sgd(0.0), loss="meanSquaredError", metrics=["mae"])
    x, _ = rows(70)
    y = np.linspace(-1, 1, 70, dtype=np.float32)[:, None]
    events = Events()
    history = model.fit(x, y, epochs=2, verbose=0, shuffle=False, callbacks=events.callbacks)
    assert [e[0] for e in events.seen[:3]] == ["on_train_begin", "on_epoch_begin", "on_batch_begin"]
    assert events.seen[-1] == ("on_train_end", {})
    assert events.of("on_batch_begin")[:3] == [(0, {}), (1, {}), (2, {})]  # empty logs at batch begin
    batch_logs = [logs for _, logs in events.of("on_batch_end")]
    assert [list(logs) for logs in batch_logs[:1]] == [["batch", "size", "loss", "mae"]]
    assert [logs["size"] for logs in batch_logs] == [32, 32, 6] * 2
    assert [logs["batch"] for logs in batch_logs] == [0, 1, 2] * 2
    # Epoch values are the size-weighted means of the batch values (BaseLogger).
    first_epoch = batch_logs[:3]
    want = sum(logs["loss"] * logs["size"] for logs in first_epoch) / 70
    epoch, logs = events.of("on_epoch_end")[0]
    assert epoch == 0 and list(logs) == ["loss", "mae"] and logs["loss"] == pytest.approx(want)
    assert history.history["loss"][0] == pytest.approx(want)
    assert history.epoch == [0, 1]
    assert history.params == {"epochs": 2, "initial_epoch": 0, "samples": 70, "steps": None, "batch_size": 32,
                              "verbose": 0, "do_validation": False, "metrics": ["loss", "mae"]}


def test_validation_keys_come_first_and_match_evaluate():
    model, _ = recording_model()
    model.compile(optimizer=lm.train.sgd(0.0), loss="meanSquaredError", metrics=["mae"])
    x, _ = rows(10)
    y = np.arange(10, dtype=np.float32)[:, None] / 10
    history = model.fit(x, y, epochs=2, batch_size=4, validation_split=0.2, verbose=0)
    assert list(history.history) == ["val_loss", "val_mae", "loss", "mae"]
    assert history.params["samples"] == 8 and history.params["do_validation"] is True
    assert history.params["metrics"] == ["loss", "mae", "val_loss", "val_mae"]
    val_loss, val_mae = model.evaluate(x[8:], y[8:])  # lr 0: the weights are the final ones
    assert history.history["val_loss"] == pytest.approx([val_loss] * 2)
    assert history.history["val_mae"] == pytest.approx([val_mae] * 2)


def test_validation_split_takes_the_last_rows_before_shuffling():
    model, recorder = recording_model()
    x, y = rows(10)
    model.fit(x, y, epochs=3, batch_size=4, validation_split=0.3, verbose=0)
    # N=10, split 0.3 -> rows 7, 8, 9 validate (tfjs_observed.md §3); 0..6 train, reshuffled each epoch.
    assert recorder.inference_batches == [[7.0, 8.0, 9.0]] * 3
    epochs = [recorder.training_batches[i:i + 2] for i in range(0, 6, 2)]
    for batches in epochs:
        assert [len(b) for b in batches] == [4, 3]
        assert sorted(batches[0] + batches[1]) == list(range(7))


def test_shuffle_false_keeps_the_order_and_seed_makes_shuffles_reproducible():
    model, recorder = recording_model()
    x, y = rows(7)
    model.fit(x, y, epochs=2, batch_size=3, shuffle=False, verbose=0)
    assert recorder.training_batches == [[0, 1, 2], [3, 4, 5], [6]] * 2
    orders = []
    for _ in range(2):
        model, recorder = recording_model()
        lm.set_seed(11)
        model.fit(x, y, epochs=2, batch_size=7, verbose=0)
        orders.append(recorder.training_batches)
    assert orders[0] == orders[1] and orders[0][0] != orders[0][1]


def test_validation_data_pair_and_initial_epoch():
    model, recorder = recording_model()
    x, y = rows(6)
    history = model.fit(x, y, epochs=3, initial_epoch=1, batch_size=6, verbose=0,
                        validation_data=(x[:2] + 100, y[:2]))
    assert history.epoch == [1, 2] and len(history.history["val_loss"]) == 2
    assert recorder.inference_batches == [[100.0, 101.0]] * 2


def test_a_split_that_leaves_no_training_row_is_refused():
    # TF.js returns an empty history here (floor(10 * 0.01) = 0 training rows); lamina says why.
    model, recorder = recording_model()
    x, y = rows(10)
    with pytest.raises(ValueError, match=r"^validation_split=0.99 of 10 rows leaves no row to train on"):
        model.fit(x, y, epochs=2, validation_split=0.99, verbose=0)
    assert recorder.training_batches == []


@pytest.mark.parametrize("split", [1, 1.0, 1.5, -0.1, float("nan"), float("inf")])
def test_validation_split_outside_zero_one_is_refused(split):
    # TF.js ignores these silently (no validation); a user never means them.
    model, _ = recording_model()
    x, y = rows(10)
    with pytest.raises(ValueError, match=r"^validation_split must be in \[0, 1\) .*got " + re.escape(repr(split))):
        model.fit(x, y, validation_split=split, verbose=0)


@pytest.mark.parametrize("split", ["0.2", None, True, [0.2]])
def test_validation_split_must_be_a_number(split):
    model, _ = recording_model()
    x, y = rows(10)
    with pytest.raises(TypeError, match=r"^validation_split must be a number in \[0, 1\)"):
        model.fit(x, y, validation_split=split, verbose=0)


def test_zero_split_and_a_split_below_one_row_still_validate_as_tfjs():
    model, _ = recording_model()
    x, y = rows(10)
    assert "val_loss" not in model.fit(x, y, validation_split=0, verbose=0).history
    # floor(10 * (1 - 0.01)) = 9: one validation row, as TF.js
    assert model.fit(x, y, validation_split=0.01, verbose=0).params["samples"] == 9


def test_fit_with_no_rows_is_refused():
    # TF.js trains nothing and returns an empty history.
    model, recorder = recording_model()
    with pytest.raises(ValueError, match=r"^x and y have 0 rows \(x has shape \[0, 2\]\): fit needs at least one"):
        model.fit(np.zeros([0, 2], np.float32), np.zeros([0, 1], np.float32), verbose=0)
    assert recorder.training_batches == []


def test_rank_one_data_becomes_columns():
    model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1])])
    model.compile(optimizer="sgd", loss="meanSquaredError")
    history = model.fit(np.arange(5.0), np.arange(5.0), epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1


# ---------------------------------------------------------------- weights

def weighted_model():
    model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[1], kernel_initializer="zeros",
                                                  activation="softmax")])
    model.compile(optimizer=lm.train.sgd(0.0), loss="categoricalCrossentropy")
    return model


def test_class_weight_multiplies_each_sample_loss_before_the_batch_mean():
    model = weighted_model()  # zero weights: p = [0.5, 0.5] for every sample, loss ln 2 each
    x = np.ones([4, 1], np.float32)
    y = np.eye(2, dtype=np.float32)[[0, 1, 1, 1]]
    history = model.fit(x, y, batch_size=4, verbose=0, class_weight={0: 1.0, 1: 3.0})
    # TF.js: mean(loss * w), not normalised by the sum of the weights
    assert history.history["loss"][0] == pytest.approx(np.log(2) * (1 + 3 + 3 + 3) / 4, rel=1e-6)


def test_sample_weight_and_class_weight_multiply():
    model = weighted_model()
    x = np.ones([4, 1], np.float32)
    y = np.eye(2, dtype=np.float32)[[0, 1, 1, 1]]
    history = model.fit(x, y, batch_size=4, verbose=0, sample_weight=[0.0, 1.0, 2.0, 1.0])
    assert history.history["loss"][0] == pytest.approx(np.log(2) * 4 / 4, rel=1e-6)
    history = model.fit(x, y, batch_size=4, verbose=0, sample_weight=[1.0, 1.0, 2.0, 0.0],
                        class_weight={0: 2.0, 1: 1.0})
    assert history.history["loss"][0] == pytest.approx(np.log(2) * (2 + 1 + 2 + 0) / 4, rel=1e-6)


def test_class_weight_must_cover_every_class():
    model = weighted_model()
    y = np.eye(2, dtype=np.float32)[[0, 1]]
    with pytest.raises(ValueError, match="^class_weight must contain all classes in the training data. "
                                         "The class 1 exists in the data but not in class_weight$"):
        model.fit(np.ones([2, 1]), y, verbose=0, class_weight={0: 1.0})


# ---------------------------------------------------------------- stopping and re-entry

def test_stop_training_from_on_batch_end_stops_after_that_batch():
    model, recorder = recording_model()
    x, y = rows(10)

    def stop(batch, logs):
        if batch == 1:
            model.stop_training = True

    history = model.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0,
                        validation_split=0.2, callbacks={"on_batch_end": stop})
    assert recorder.training_batches == [[0, 1], [2, 3]]
    assert history.epoch == [0] and "val_loss" not in history.history  # validation skipped
    assert model.stop_training is False  # reset when fit ends


def test_stop_training_in_epoch_end_keeps_that_epoch():
    model, _ = recording_model()
    x, y = rows(4)

    def stop(epoch, logs):
        if epoch == 1:
            model.stop_training = True

    history = model.fit(x, y, epochs=3, verbose=0, callbacks={"on_epoch_end": stop})
    assert history.epoch == [0, 1] and len(history.history["loss"]) == 2


def test_stop_training_set_in_train_begin_is_ignored():
    model, _ = recording_model()
    x, y = rows(4)
    history = model.fit(x, y, epochs=2, verbose=0,
                        callbacks={"on_train_begin": lambda logs: setattr(model, "stop_training", True)})
    assert history.epoch == [0, 1]


def test_second_fit_during_fit_is_refused_and_state_resets_after_errors():
    model, _ = recording_model()
    x, y = rows(4)
    errors = []

    def nested(batch, logs):
        try:
            model.fit(x, y, verbose=0)
        except RuntimeError as error:
            errors.append(str(error))

    model.fit(x, y, verbose=0, callbacks={"on_batch_end": nested})
    assert errors == ["Cannot start training because another fit() call is ongoing."]

    def fail(batch, logs):
        model.stop_training = True
        raise KeyError("boom")

    with pytest.raises(KeyError):
        model.fit(x, y, verbose=0, callbacks={"on_batch_end": fail})
    assert model.stop_training is False
    assert model.fit(x, y, epochs=2, verbose=0).epoch == [0, 1]  # not stuck "training"


# ---------------------------------------------------------------- errors (tfjs_observed.md §3)

def guide_model():
    model = lm.sequential(layers=[lm.layers.dense(input_shape=[784], units=32, activation="relu"),
                                  lm.layers.dense(units=10, activation="softmax")])
    model.compile(optimizer="sgd", loss="categoricalCrossentropy", metrics=["accuracy"])
    return model


def exactly(message):
    return "^" + re.escape(message) + "$"


def test_fit_error_texts():
    model = guide_model()
    name = model.input_names[0]
    y10 = np.zeros([10, 10], np.float32)
    cases = [
        (lambda: model.fit(np.zeros([10, 784]), np.zeros([7, 10])),
         "Input Tensors should have the same number of samples as target Tensors. "
         "Found 10 input sample(s) and 7 target sample(s)."),
        (lambda: model.fit(np.zeros([10, 100]), y10),
         "input expected a batch of elements where each example has shape [784] (i.e.,tensor shape [*,784]) "
         "but the input received an input with 10 examples, each with shape [100] (tensor shape [10,100])"),
        (lambda: model.fit(np.zeros([10, 28, 28]), y10),
         f"Error when checking input: expected {name} to have 2 dimension(s). but got array with shape 10,28,28"),
        (lambda: model.fit(np.zeros([10, 784]), np.zeros([10, 5])),
         "target expected a batch of elements where each example has shape [10] (i.e.,tensor shape [*,10]) "
         "but the target received an input with 10 examples, each with shape [5] (tensor shape [10,5])"),
        (lambda: model.fit(np.zeros([10, 784]), np.zeros([10])),
         "target expected a batch of elements where each example has shape [10] (i.e.,tensor shape [*,10]) "
         "but the target received an input with 10 examples, each with shape [1] (tensor shape [10,1]). "
         "For integer class labels use the loss 'sparseCategoricalCrossentropy', or one-hot encode them "
         "(lm.one_hot)"),
        (lambda: model.fit(np.zeros([10, 784]), y10, batch_size=0),
         "batch_size is required to be a positive integer, but got 0"),
        (lambda: model.fit(np.zeros([10, 784]), y10, batch_size="32"),
         "batch_size is required to be a positive integer, but got '32'"),
        (lambda: model.fit(np.zeros([10, 784]), y10, validation_data=[np.zeros([2, 784])]),
         "When passing validation data, it must contain 2 (x_val, y_val) or 3 (x_val, y_val, val_sample_weight) "
         "items; a list of 1 item(s) is invalid."),
        (lambda: model.fit(np.array(5.0), y10),
         "Expected tensor to be at least 1D, but received a 0D tensor (scalar)."),
        (lambda: model.fit(5.0, y10), "x must be a Tensor, a numpy array or a nested list of numbers, got float"),
    ]
    for run, message in cases:
        with pytest.raises((ValueError, TypeError), match=exactly(message)):
            run()


def test_one_example_without_its_batch_axis_is_named_in_fit_and_evaluate():
    model = guide_model()
    one_example = np.zeros(784)  # x[0] of a [n, 784] x
    tfjs_text = ("input expected a batch of elements where each example has shape [784] (i.e.,tensor shape [*,784]) "
                 "but the input received an input with 784 examples, each with shape [1] (tensor shape [784,1])")
    hint = ". The input (shape [784]) has no batch axis: the model takes a batch of rows, e.g. x[None] or x.reshape(1, -1)"
    for run in (lambda: model.fit(one_example, np.zeros([1, 10]), verbose=0),
                lambda: model.evaluate(one_example, np.zeros([1, 10]))):
        with pytest.raises(ValueError, match=exactly(tfjs_text + hint)):
            run()
    # A 1-D x that is not one example: each value is read as an example of one feature.
    with pytest.raises(ValueError, match=re.escape(
            "(tensor shape [10,1]). A 1-D input (shape [10]) is read as one feature per example; the model takes "
            "examples of shape [784], so x must have shape [samples, 784]") + "$"):
        model.fit(np.zeros(10), np.zeros([10, 10]), verbose=0)


def test_categorical_crossentropy_with_one_column_targets():
    model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[3], activation="sigmoid")])
    model.compile(optimizer="sgd", loss="categoricalCrossentropy")
    with pytest.raises(ValueError, match=exactly(
            "You are passing a target array of shape 4,1 while using a loss 'categorical_crossentropy'. "
            "'categorical_crossentropy'expects targets to be binary matrices (1s and 0s) of shape [samples, classes].")):
        model.fit(np.zeros([4, 3]), np.zeros([4, 1]), verbose=0)


def test_not_implemented_fit_forms():
    model = guide_model()
    x, y = np.zeros([4, 784]), np.zeros([4, 10])
    with pytest.raises(NotImplementedError, match="validation_data including sample weights is not supported yet."):
        model.fit(x, y, validation_data=(x, y, np.ones(4)), verbose=0)
    with pytest.raises(NotImplementedError, match="batch shuffling is not implemented yet"):
        model.fit(x, y, shuffle="batch", verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": -1}, "epochs must be an int >= 0, got -1"),
    ({"initial_epoch": 1.5}, "initial_epoch must be an int >= 0, got 1.5"),
    ({"verbose": 3}, "verbose must be 0 (silent), 1 (progress bar) or 2"),
    ({"sample_weight": [1.0, 2.0]}, "sample_weight must have one weight per sample: shape [4], got shape [2]"),
])
def test_argument_errors(kwargs, message):
    model = guide_model()
    with pytest.raises(ValueError, match=re.escape(message)):
        model.fit(np.zeros([4, 784]), np.zeros([4, 10]), **{"verbose": 0, **kwargs})


def test_builtin_callbacks_drive_the_model():
    model, _ = recording_model()
    x, y = rows(10)
    seen = []

    class Params(lm.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append((self.model, self.params["samples"]))

    # lr 0: val_loss never improves, so patience 1 stops training after the second epoch.
    history = model.fit(x, y, epochs=10, validation_split=0.2, verbose=0,
                        callbacks=[Params(), lm.callbacks.early_stopping(patience=1)])
    assert history.epoch == [0, 1]
    assert seen == [(model, 8)]
    model.fit(x, y, epochs=3, verbose=0, callbacks=lm.callbacks.learning_rate_scheduler(lambda epoch, lr: 0.5 * epoch))
    assert model.optimizer.learning_rate == 1.0


def test_integer_labels_with_categorical_crossentropy_get_a_hint():
    import numpy as np
    import pytest

    import lamina as lm

    model = lm.sequential(layers=[lm.layers.dense(input_shape=[4], units=3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categoricalCrossentropy")
    with pytest.raises(ValueError, match=r"tensor shape \[10,1\]\)\. For integer class labels use the loss "
                                         r"'sparseCategoricalCrossentropy', or one-hot encode them"):
        model.fit(np.zeros((10, 4)), np.arange(10) % 3, verbose=0)
