"""lm.callbacks.model_checkpoint and resuming training from a checkpoint.

The resume oracle is the same training run without interruption: 2 epochs, save (with the
optimizer), reload, fit(initial_epoch=2, epochs=4) must equal 4 epochs straight, weights and
optimizer state. shuffle=False and no dropout, so the batches are the same in both runs
(fit's shuffle order and dropout masks come from the random stream, which a checkpoint
does not hold — Keras and TF.js do not save it either).
"""

import os

import numpy as np
import pytest

import lamina as lm

X = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
Y = np.eye(3, dtype="float32")[np.random.default_rng(1).integers(0, 3, size=40)]


def make_model(optimizer):
    lm.set_seed(11)
    model = lm.sequential([lm.layers.dense(units=8, input_shape=[4], activation="tanh"),
                           lm.layers.dense(units=3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categoricalCrossentropy", metrics=["accuracy"])
    return model


def fit(model, epochs, initial_epoch=0, callbacks=None, batch_size=16, **kwargs):
    return model.fit(X, Y, batch_size=batch_size, epochs=epochs, initial_epoch=initial_epoch, shuffle=False,
                     verbose=0, callbacks=callbacks, **kwargs)


def optimizer_state(model):
    """[iterations, slot arrays...] in TF.js order (names differ after a reload: `_1` suffixes)."""
    weights = model.optimizer.get_weights()
    assert weights[0]["name"] == "iter"
    return [int(weights[0]["tensor"].item())] + [w["tensor"].numpy() for w in weights[1:]]


def resume(tmp_path, optimizer, batch_size=16):
    """The model after 4 epochs straight and after 2 + save + load + 2."""
    straight = make_model(optimizer())
    fit(straight, 4, batch_size=batch_size)

    first = make_model(optimizer())
    checkpoint = lm.callbacks.model_checkpoint(str(tmp_path / "ckpt-{epoch}"), monitor="loss")
    fit(first, 2, callbacks=[checkpoint], batch_size=batch_size)
    assert checkpoint.last_path == str(tmp_path / "ckpt-2")
    resumed = lm.load_layers_model(checkpoint.last_path)
    history = fit(resumed, 4, initial_epoch=2, batch_size=batch_size)
    assert history.epoch == [2, 3]
    return straight, resumed


def test_resume_with_momentum_is_bit_identical(tmp_path):
    # The state is iterations and the momentum buffers, saved as float32 bytes and read back
    # unchanged; the next steps run the same kernels on the same bits, so every bit agrees.
    straight, resumed = resume(tmp_path, lambda: lm.train.momentum(0.1, 0.9))
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    state_a, state_b = optimizer_state(straight), optimizer_state(resumed)
    assert state_a[0] == state_b[0] == 12  # 3 batches (16, 16, 8) x 4 epochs
    for a, b in zip(state_a[1:], state_b[1:]):
        np.testing.assert_array_equal(a, b)


def beta_powers_differ(beta, step):
    """Whether beta^step as a chain of float32 products differs from one float32 pow."""
    product = np.float32(beta)
    for _ in range(step - 1):
        product = np.float32(product * np.float32(beta))
    return product != np.float32(float(np.float32(beta)) ** step)


@pytest.mark.parametrize("batch_size", [16, 10])
def test_resume_with_adam_matches_within_1e_6(tmp_path, batch_size):
    # Adam's bias corrections beta^t are not part of the saved state: an uninterrupted run
    # multiplies them by beta after every step (float32), a reloaded optimizer recomputes
    # them as one float32 pow, beta^(iterations+1) — TF.js's setWeights does the same. The
    # two can differ in the last bit, so a resumed run is asserted to 1e-6, not bit for bit.
    # Batches of 16 resume at step 7, where they agree (the run is then bit-identical);
    # batches of 10 resume at step 9, where beta1^9 differs by an ulp.
    steps_per_epoch = -(-len(X) // batch_size)
    assert beta_powers_differ(0.9, 2 * steps_per_epoch + 1) == (batch_size == 10)
    straight, resumed = resume(tmp_path, lambda: lm.train.adam(0.01), batch_size)
    assert len(straight.get_weights()) == len(resumed.get_weights()) == 4
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-6)
    state_a, state_b = optimizer_state(straight), optimizer_state(resumed)
    assert state_a[0] == state_b[0] == 4 * steps_per_epoch
    assert len(state_a) == len(state_b) == 1 + 2 * 4  # iter, 4 x m, 4 x v
    for a, b in zip(state_a[1:], state_b[1:]):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-6)


def test_resumed_optimizer_is_the_saved_one(tmp_path):
    model = make_model(lm.train.rmsprop(0.02, decay=0.8, momentum=0.3))
    path = tmp_path / "ckpt"
    fit(model, 1, callbacks=[lm.callbacks.model_checkpoint(str(path))])
    loaded = lm.load_layers_model(str(path))
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 3


def test_checkpoint_per_epoch_holds_that_epochs_weights(tmp_path):
    model = make_model(lm.train.sgd(0.5))
    seen = {}
    record = lm.callbacks.lambda_callback(
        on_epoch_end=lambda epoch, logs: seen.__setitem__(epoch, [w.copy() for w in model.get_weights()]))
    # Recorded before the checkpoint saves, in callback order; formatted with Keras's 1-based epoch.
    checkpoint = lm.callbacks.model_checkpoint(str(tmp_path / "e{epoch:02d}-{loss:.4f}"), monitor="loss")
    history = fit(model, 3, callbacks=[record, checkpoint])
    names = sorted(os.listdir(tmp_path))
    expected = [f"e{epoch + 1:02d}-{loss:.4f}" for epoch, loss in enumerate(history.history["loss"])]
    assert names == expected
    for epoch, name in enumerate(names):
        loaded = lm.load_layers_model(str(tmp_path / name))
        for a, b in zip(loaded.get_weights(), seen[epoch]):
            np.testing.assert_array_equal(a, b)


def test_save_best_only_saves_on_improvement(tmp_path):
    model = make_model(lm.train.sgd(0.5))
    checkpoint = lm.callbacks.model_checkpoint(str(tmp_path / "best"), monitor="val_loss", save_best_only=True)
    saves = []
    checkpoint.set_model(model)
    real_save = model.save
    model.save = lambda path, include_optimizer=False: (saves.append(path), real_save(path, include_optimizer))
    for epoch, value in enumerate([0.9, 0.7, 0.8, 0.6, 0.6]):
        checkpoint.on_epoch_end(epoch, {"val_loss": value, "loss": 0.1})
    assert len(saves) == 3  # epochs 0, 1 and 3; ties do not count
    assert checkpoint.best == 0.6
    assert os.path.exists(tmp_path / "best" / "model.json")


def test_save_best_only_auto_mode_maximises_accuracy(tmp_path):
    checkpoint = lm.callbacks.model_checkpoint(str(tmp_path / "best"), monitor="val_acc", save_best_only=True)
    saved = []

    class Model:
        def save(self, path, include_optimizer=False):
            saved.append(path)

    checkpoint.set_model(Model())
    for epoch, value in enumerate([0.5, 0.4, 0.75]):
        checkpoint.on_epoch_end(epoch, {"val_acc": value})
    assert len(saved) == 2 and checkpoint.best == 0.75


def test_missing_monitor_warns_and_skips(tmp_path):
    checkpoint = lm.callbacks.model_checkpoint(str(tmp_path / "best"), save_best_only=True)
    checkpoint.set_model(make_model("sgd"))
    with pytest.warns(UserWarning, match="'val_loss'.*available keys: loss"):
        checkpoint.on_epoch_end(0, {"loss": 1.0})
    assert not os.path.exists(tmp_path / "best")


def test_save_freq_in_batches(tmp_path):
    model = make_model(lm.train.sgd(0.1))
    checkpoint = lm.callbacks.model_checkpoint(str(tmp_path / "e{epoch}-b{batch}"), save_freq=2)
    fit(model, 2, callbacks=[checkpoint])
    # 3 batches an epoch, 6 in all: saved after batches 2, 4, 6 counted across epochs.
    assert sorted(os.listdir(tmp_path)) == ["e1-b2", "e2-b1", "e2-b3"]


def test_include_optimizer_false_gives_an_uncompiled_model(tmp_path):
    model = make_model(lm.train.adam(0.01))
    fit(model, 1, callbacks=[lm.callbacks.model_checkpoint(str(tmp_path / "m"), include_optimizer=False)])
    loaded = lm.load_layers_model(str(tmp_path / "m"))
    assert loaded.optimizer is None
    with open(tmp_path / "m" / "model.json") as f:
        assert "trainingConfig" not in f.read()


def test_errors_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive integer.*got 0"):
        lm.callbacks.model_checkpoint("p", save_freq=0)
    with pytest.raises(ValueError, match="save_freq.*got 'batch'"):
        lm.callbacks.model_checkpoint("p", save_freq="batch")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        lm.callbacks.model_checkpoint(3)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max', got 'up'"):
        lm.callbacks.model_checkpoint("p", mode="up")
    checkpoint = lm.callbacks.model_checkpoint(str(tmp_path / "{val_loss}"))
    checkpoint.set_model(make_model("sgd"))
    with pytest.raises(ValueError, match=r"cannot fill in path .*\{val_loss\}.*fields may name: loss, epoch"):
        checkpoint.on_epoch_end(0, {"loss": 1.0})


def test_path_like_is_accepted(tmp_path):
    model = make_model(lm.train.sgd(0.1))
    checkpoint = lm.callbacks.model_checkpoint(tmp_path / "pathlike")
    fit(model, 1, callbacks=[checkpoint])
    assert os.path.exists(tmp_path / "pathlike" / "weights.bin")


def test_save_weights_only_checkpoints_load_into_a_fresh_model(tmp_path):
    model = make_model(lm.train.sgd(0.5))
    seen = {}
    record = lm.callbacks.lambda_callback(
        on_epoch_end=lambda epoch, logs: seen.__setitem__(epoch, [w.copy() for w in model.get_weights()]))
    checkpoint = lm.callbacks.model_checkpoint(str(tmp_path / "w{epoch}"), monitor="loss", save_weights_only=True)
    fit(model, 2, callbacks=[record, checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["w1", "w2"]
    assert sorted(os.listdir(tmp_path / "w1")) == ["weights.bin", "weights_manifest.json"]  # no model.json
    fresh = make_model(lm.train.sgd(0.5))
    for epoch in (0, 1):
        fresh.load_weights(str(tmp_path / f"w{epoch + 1}"))
        for a, b in zip(fresh.get_weights(), seen[epoch]):
            np.testing.assert_array_equal(a, b)


def test_save_weights_only_must_be_a_bool():
    with pytest.raises(TypeError, match=r"^ModelCheckpoint: save_weights_only must be True or False, got 'yes'"):
        lm.callbacks.model_checkpoint("ckpt", save_weights_only="yes")
