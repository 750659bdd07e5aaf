"""fit_dataset's block path: a batched in-order array dataset trained a block of batches per
fused call (engine/dataset_training.py _train_blocks, data/iterators.py blocks).

Oracles: the same model, initial weights and batches trained step by step on the fused
trainer (a user callback on batch events turns the block path off) must end with the same weights
within 1e-6 and the same History; the tape (LAMINA_FUSED=0) within 1e-5. A counter on the
fused trainer's train_epoch proves the block path really ran (so a silent fallback cannot pass).
"""

import numpy as np
import pytest

import lamina as lm
from lamina.data import iterators
from lamina.engine import dataset_training, fused


def guide_like(seed=0, inputs=6, classes=3, optimizer=None, loss="categoricalCrossentropy"):
    lm.set_seed(seed)
    model = lm.sequential(layers=[lm.layers.dense(input_shape=[inputs], units=5, activation="relu"),
                                  lm.layers.dense(units=classes, activation="softmax")])
    model.compile(optimizer=optimizer or lm.train.adam(0.01), loss=loss, metrics=["accuracy"])
    return model


def data(rows, inputs=6, classes=3, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, inputs)).astype(np.float32)
    labels = rng.integers(0, classes, rows)
    return x, np.eye(classes, dtype=np.float32)[labels], labels


@pytest.fixture
def blocks_counted(monkeypatch):
    """Small blocks (about 3 batches of 8 rows of 6+3 floats), and a count of the block calls."""
    monkeypatch.setattr(dataset_training, "BLOCK_BYTES", 3 * 8 * 9 * 4)
    calls = []
    original = fused._Runner.train_epoch

    def counted(self, x, y, weights, order, batch_size):
        calls.append((x.shape[0], batch_size))
        return original(self, x, y, weights, order, batch_size)

    monkeypatch.setattr(fused._Runner, "train_epoch", counted)
    return calls


def following_batches():
    """A user callback that follows batch events: fit_dataset then goes batch by batch."""
    return lm.callbacks.lambda_callback(on_batch_end=lambda batch, logs: None)


def train(dataset_fn, epochs=3, step_by_step=False, tape=False, monkeypatch=None, **kwargs):
    model = kwargs.pop("model", None) or guide_like()
    callbacks = list(kwargs.pop("callbacks", [])) + ([following_batches()] if step_by_step else [])
    if tape:
        monkeypatch.setenv("LAMINA_FUSED", "0")
    try:
        history = model.fit_dataset(dataset_fn(), epochs=epochs, verbose=0, callbacks=callbacks, **kwargs)
    finally:
        if tape:
            monkeypatch.delenv("LAMINA_FUSED")
    return model, history


def assert_same(a, b, tolerance):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(np.asarray(wa), np.asarray(wb), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("rows, small_last_batch", [(100, True), (100, False), (96, True), (5, True)])
def test_blocks_match_step_by_step_and_the_tape(blocks_counted, monkeypatch, rows, small_last_batch):
    x, y, _ = data(rows)
    make = lambda: lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(8, small_last_batch)  # noqa: E731
    by_blocks, history = train(make)
    # 100 rows: blocks of 3 batches (24 rows), then 4 rows (one small batch); 5 rows: one small batch
    expected_block_rows = {100: [8, 24, 24, 24, 20] if small_last_batch else [8, 24, 24, 24, 16],
                           96: [8, 24, 24, 24, 16], 5: [5]}[rows]
    assert [rows for rows, _ in blocks_counted] == expected_block_rows * 3
    step_by_step, step_history = train(make, step_by_step=True)
    tape, tape_history = train(make, tape=True, monkeypatch=monkeypatch)
    assert_same(by_blocks, step_by_step, 1e-6)
    assert_same(by_blocks, tape, 1e-5)
    assert by_blocks.optimizer.iterations == step_by_step.optimizer.iterations == tape.optimizer.iterations
    assert history.params == step_history.params
    assert list(history.history) == list(step_history.history) == ["loss", "acc"]
    for key in history.history:
        np.testing.assert_allclose(history.history[key], step_history.history[key], rtol=1e-6)
        np.testing.assert_allclose(history.history[key], tape_history.history[key], rtol=1e-5)


def test_blocks_with_tuples_class_weight_and_validation(blocks_counted):
    x, y, _ = data(70)
    x_val, y_val, _ = data(20, seed=5)
    make = lambda: lm.data.array(x, y).batch(8)  # noqa: E731
    options = dict(class_weight={0: 1.0, 1: 2.0, 2: 0.5}, validation_data=(x_val, y_val))
    by_blocks, history = train(make, **options)
    assert blocks_counted
    step_by_step, step_history = train(make, step_by_step=True, **options)
    assert_same(by_blocks, step_by_step, 1e-6)
    assert list(history.history) == list(step_history.history) == ["val_loss", "val_acc", "loss", "acc"]
    for key in history.history:
        np.testing.assert_allclose(history.history[key], step_history.history[key], rtol=1e-6)


def test_a_failing_check_in_a_block_trains_the_batches_before_it_first(blocks_counted):
    # class 2 appears only in rows 40.., so class_weight without it fails at batch 5 (rows 40-47)
    x, y, labels = data(64)
    labels = np.where(np.arange(64) < 40, labels % 2, labels)
    labels[45] = 2
    y = np.eye(3, dtype=np.float32)[labels]
    make = lambda: lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(8)  # noqa: E731
    models = []
    for step_by_step in (False, True):
        model = guide_like()
        with pytest.raises(ValueError, match="class_weight must contain all classes"):
            train(make, epochs=1, step_by_step=step_by_step, model=model, class_weight={0: 1.0, 1: 2.0})
        models.append(model)
    assert models[0].optimizer.iterations == models[1].optimizer.iterations == 5
    assert_same(models[0], models[1], 1e-6)


def test_labels_the_fused_trainer_refuses_go_batch_by_batch_to_the_tape(blocks_counted):
    # sparse labels out of range: the tape's error, after the batches before the bad one
    x, _, labels = data(40)
    labels = labels.astype(np.float32)
    labels[20] = 7
    make = lambda: lm.data.array(x, labels).batch(8)  # noqa: E731
    models, errors = [], []
    for step_by_step in (False, True):
        model = guide_like(loss="sparseCategoricalCrossentropy")
        model.compile(optimizer=lm.train.sgd(0.1), loss="sparseCategoricalCrossentropy")
        with pytest.raises(Exception) as error:
            train(make, epochs=1, step_by_step=step_by_step, model=model)
        models.append(model)
        errors.append((type(error.value), str(error.value)))
    assert errors[0] == errors[1]
    assert models[0].optimizer.iterations == models[1].optimizer.iterations == 2
    assert_same(models[0], models[1], 1e-6)


def test_progress_bar_follows_the_blocks(blocks_counted, monkeypatch, capsys):
    """verbose=1 (the default) keeps the block path; the line per epoch shows the tape's logs."""
    x, y, _ = data(48)
    make = lambda: lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(8)  # noqa: E731
    model = guide_like()
    history = model.fit_dataset(make(), epochs=2, verbose=1)
    printed = capsys.readouterr().out.splitlines()
    assert blocks_counted and sum(rows for rows, _ in blocks_counted) == 2 * 48
    _, tape = train(make, epochs=2, tape=True, monkeypatch=monkeypatch)
    np.testing.assert_allclose(history.history["loss"], tape.history["loss"], rtol=1e-5)
    assert len(printed) == 2 and all(line.startswith(f"Epoch {e} / 2 - ") for e, line in zip((1, 2), printed))
    assert f"loss={lm.engine.progress.format_number(history.history['loss'][-1])}" in printed[-1]


def test_no_block_path_with_batches_per_epoch_or_a_user_callback(blocks_counted):
    x, y, _ = data(48)
    ds = lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(8)
    guide_like().fit_dataset(ds, epochs=2, batches_per_epoch=3, verbose=0)
    guide_like().fit_dataset(ds, epochs=1, verbose=0, callbacks=[following_batches()])
    assert blocks_counted == []
    # A callback that only follows epochs leaves the block path on.
    guide_like().fit_dataset(ds, epochs=1, verbose=0, callbacks=[lm.callbacks.early_stopping(monitor="loss")])
    assert blocks_counted


@pytest.mark.parametrize("rows, batch_size, small_last_batch", [(10, 3, True), (10, 3, False), (9, 3, True),
                                                                 (2, 5, True), (2, 5, False), (0, 4, True)])
def test_array_batches_in_order_are_those_of_the_row_by_row_path(rows, batch_size, small_last_batch, monkeypatch):
    monkeypatch.setattr(iterators, "CHUNK_BYTES", 2 * batch_size * 4)  # blocks of two batches
    x = np.arange(rows * 2, dtype=np.float32).reshape(rows, 2)
    labels = np.arange(rows)
    sliced = lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(labels)}).batch(batch_size, small_last_batch)
    by_rows = lm.data.zip({"xs": lm.data.array(list(x)), "ys": lm.data.array(list(labels))}).batch(
        batch_size, small_last_batch)
    got, expected = list(sliced), list(by_rows)
    assert len(got) == len(expected) == sliced.size
    for a, b in zip(got, expected):
        assert a["xs"].dtype == b["xs"].dtype and a["ys"].dtype == b["ys"].dtype == "int32"
        assert a["xs"].array() == b["xs"].array() and a["ys"].array() == b["ys"].array()


class StopAtEpoch(lm.callbacks.Callback):
    """Follows epoch events only (so the block path stays on) and asks for a stop from one."""

    def __init__(self, event, epoch=1):
        super().__init__()
        self.event, self.epoch = event, epoch

    def on_epoch_begin(self, epoch, logs=None):
        if self.event == "on_epoch_begin" and epoch == self.epoch:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.event == "on_epoch_end" and epoch == self.epoch:
            self.model.stop_training = True


@pytest.mark.parametrize("event, steps", [("on_epoch_begin", 13 + 1), ("on_epoch_end", 2 * 13)])
def test_a_stop_from_an_epoch_event_ends_the_block_path_as_the_tape(blocks_counted, monkeypatch, event, steps):
    """100 rows in batches of 8: 13 batches an epoch. A stop asked for at epoch begin trains one
    batch of that epoch (as the tape, and TF.js), not a block of them."""
    x, y, _ = data(100)
    make = lambda: lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(8)  # noqa: E731
    validation = (x[:16], y[:16])
    by_blocks, history = train(make, epochs=4, callbacks=[StopAtEpoch(event)], validation_data=validation)
    assert blocks_counted  # the block path ran
    tape, tape_history = train(make, epochs=4, tape=True, monkeypatch=monkeypatch,
                               callbacks=[StopAtEpoch(event)], validation_data=validation)
    assert by_blocks.optimizer.iterations == tape.optimizer.iterations == steps
    assert_same(by_blocks, tape, 1e-5)
    assert history.epoch == tape_history.epoch == [0, 1]
    assert list(history.history) == list(tape_history.history)
    for key, values in tape_history.history.items():
        np.testing.assert_allclose(history.history[key], values, rtol=1e-5, atol=1e-5)
