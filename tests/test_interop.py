"""Interop with the real TensorFlow.js (@tensorflow/tfjs 4.22.0, pure-JS cpu backend).

1. Fixtures written by TF.js (tests/fixtures/tfjs, made by tests/interop/make_fixtures.js,
   committed; these tests need no Node): lamina loads each one and predicts what TF.js
   predicted, its weights are the file's bytes, and a model saved with its Adam/RMSProp
   state takes the same next training step TF.js took.
2. The other way (needs Node.js and `npm ci` in tests/interop, which .ci/run does): lamina
   saves models, tests/interop/check_lamina.js loads them with tf.loadLayersModel and
   predicts (and trains one step); the results must equal lamina's.

Tolerance 1e-6 (absolute, on values of order 1): TF.js and lamina compute in float32 with
different summation orders, so the last bits may differ.
"""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest

import lamina as lm

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "tfjs")
INTEROP = os.path.join(HERE, "interop")
FIXTURE_NAMES = ["guide", "dropout", "activations", "reshape", "adam_trained", "rmsprop_trained"]
TRAINED = ["adam_trained", "rmsprop_trained"]
ATOL = 1e-6


def read_io(name):
    with open(os.path.join(FIXTURES, name, "io.json")) as f:
        return json.load(f)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def manifest_arrays(folder):
    """The weights in a model folder read with numpy alone: {name: array}, in file order."""
    with open(os.path.join(folder, "model.json")) as f:
        model_json = json.load(f)
    out = {}
    for group in model_json["weightsManifest"]:
        data = b"".join(read_bytes(os.path.join(folder, path)) for path in group["paths"])
        offset = 0
        for spec in group["weights"]:
            dtype = {"float32": "<f4", "int32": "<i4"}[spec["dtype"]]
            count = int(np.prod(spec["shape"], dtype=np.int64))
            out[spec["name"]] = np.frombuffer(data, dtype, count, offset).reshape(spec["shape"])
            offset += 4 * count
    return out, model_json


# --- TF.js -> lamina (fixtures) --------------------------------------------------------------

@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_tfjs_fixture_predicts_as_tfjs(name):
    model = lm.load_layers_model(os.path.join(FIXTURES, name))
    io = read_io(name)
    predictions = model.predict(np.array(io["inputs"], np.float32)).numpy()
    expected = np.array(io["predictions"], np.float32)
    assert predictions.shape == expected.shape
    np.testing.assert_allclose(predictions, expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_tfjs_fixture_weights_are_the_files_bytes(name):
    folder = os.path.join(FIXTURES, name)
    arrays, model_json = manifest_arrays(folder)
    model = lm.load_layers_model(folder)
    names = [w.original_name for w in model.weights]
    model_specs = [s for s in model_json["weightsManifest"][0]["weights"] if s.get("group") != "optimizer"]
    assert names == [s["name"] for s in model_specs]
    for spec, value in zip(model_specs, model.get_weights()):
        np.testing.assert_array_equal(value, arrays[spec["name"]])


def test_tfjs_fixture_names_and_config_survive():
    model = lm.load_layers_model(os.path.join(FIXTURES, "activations"))
    with open(os.path.join(FIXTURES, "activations", "model.json")) as f:
        layers = json.load(f)["modelTopology"]["config"]["layers"]
    assert [layer.name for layer in model.layers] == [entry["config"]["name"] for entry in layers]
    assert model.get_layer("logits").units == 4


def test_tfjs_uncompiled_fixture_loads_uncompiled():
    model = lm.load_layers_model(os.path.join(FIXTURES, "guide"))
    assert model.optimizer is None


@pytest.mark.parametrize("name", TRAINED)
def test_tfjs_trained_fixture_restores_optimizer_and_takes_tfjs_next_step(name):
    folder = os.path.join(FIXTURES, name)
    arrays, model_json = manifest_arrays(folder)
    model = lm.load_layers_model(folder)
    config = model_json["trainingConfig"]["optimizer_config"]
    assert model.optimizer.class_name == config["class_name"]
    assert model.optimizer.get_config() == config["config"]
    state = model.optimizer.get_weights()
    assert state[0]["name"] == "iter" and state[0]["tensor"].item() == arrays["iter"] == 9  # 3 epochs x 3 batches
    optimizer_specs = [s for s in model_json["weightsManifest"][0]["weights"] if s.get("group") == "optimizer"]
    for spec, weight in zip(optimizer_specs[1:], state[1:]):
        np.testing.assert_array_equal(weight["tensor"].numpy(), arrays[spec["name"]])

    io = read_io(name)
    step = io["next_step"]
    outs = model.train_on_batch(np.array(step["x"], np.float32), np.array(step["y"], np.float32))
    np.testing.assert_allclose(outs, step["loss"], rtol=0, atol=ATOL)
    assert model.optimizer.iterations == step["iterations"] == 10
    after = model.predict(np.array(io["inputs"], np.float32)).numpy()
    np.testing.assert_allclose(after, np.array(step["predictions"], np.float32), rtol=0, atol=ATOL)


# --- lamina -> TF.js (Node) ----------------------------------------------------------------------

def _node_ready():
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not os.path.isdir(os.path.join(INTEROP, "node_modules", "@tensorflow", "tfjs")):
        return "@tensorflow/tfjs is not installed: run `npm ci` in tests/interop (.ci/run does)"
    return None


needs_node = pytest.mark.skipif(_node_ready() is not None, reason=_node_ready() or "")


def tfjs_check(folder, request, tmp_path):
    """What TF.js (check_lamina.js) makes of a model folder: its JSON answer."""
    request_path, out_path = tmp_path / "request.json", tmp_path / "answer.json"
    request_path.write_text(json.dumps(request))
    run = subprocess.run(["node", os.path.join(INTEROP, "check_lamina.js"), str(folder), str(request_path),
                          str(out_path)], capture_output=True, text=True, timeout=120, cwd=INTEROP)
    assert run.returncode == 0, f"TF.js could not load {folder}:\n{run.stderr}"
    return json.loads(out_path.read_text())


def lamina_models():
    """Models covering what lamina writes: every activation, no-bias, initialisers,
    regularisers, constraints, dropout, flatten/reshape and an explicit rank-3 input."""
    lm.set_seed(3)
    guide = lm.sequential([lm.layers.dense(units=32, input_shape=[784], activation="relu"),
                           lm.layers.dense(units=10, activation="softmax")])
    # Not gelu_new: TF.js 4.22 cannot load it, even from its own files (see the test below).
    activations = ["tanh", "sigmoid", "elu", "selu", "softplus", "softsign", "hardSigmoid", "relu6",
                   "swish", "mish", "gelu", "linear", "relu"]
    layers = [lm.layers.dense(units=7, input_shape=[5], activation="tanh", kernel_initializer="heNormal")]
    for index, activation in enumerate(activations[1:]):
        layers.append(lm.layers.dense(units=6 + index % 3, activation=activation, use_bias=index % 4 != 1,
                                      kernel_regularizer="l2" if index == 2 else None,
                                      kernel_constraint="maxNorm" if index == 3 else None))
    layers += [lm.layers.dropout(rate=0.5), lm.layers.dense(units=3), lm.layers.activation(activation="softmax")]
    deep = lm.sequential(layers)
    reshape = lm.sequential([lm.layers.flatten(input_shape=[2, 3]), lm.layers.dense(units=4, activation="relu"),
                             lm.layers.reshape(target_shape=[2, 2]), lm.layers.flatten(),
                             lm.layers.dense(units=2)])
    return {"guide": (guide, [784]), "deep": (deep, [5]), "reshape": (reshape, [2, 3])}


@needs_node
@pytest.mark.parametrize("name", ["guide", "deep", "reshape"])
def test_lamina_saved_model_predicts_the_same_in_tfjs(name, tmp_path):
    model, input_shape = lamina_models()[name]
    inputs = np.random.default_rng(7).uniform(-1, 1, size=[4] + input_shape).astype(np.float32)
    model.save(str(tmp_path / "model"))
    answer = tfjs_check(tmp_path / "model", {"inputs": inputs.tolist()}, tmp_path)
    assert answer["weight_names"] == [w.original_name for w in model.weights]
    assert answer["compiled"] is False
    np.testing.assert_allclose(np.array(answer["predictions"], np.float32), model.predict(inputs).numpy(),
                               rtol=0, atol=ATOL)


@needs_node
@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd"])
def test_lamina_saved_optimizer_state_gives_tfjs_the_same_next_step(optimizer, tmp_path):
    lm.set_seed(4)
    model = lm.sequential([lm.layers.dense(units=6, input_shape=[4], activation="relu"),
                           lm.layers.dense(units=3, activation="softmax")])
    make = {"adam": lambda: lm.train.adam(0.01), "rmsprop": lambda: lm.train.rmsprop(0.01, momentum=0.5),
            "sgd": lambda: lm.train.sgd(0.1)}[optimizer]
    model.compile(optimizer=make(), loss="categoricalCrossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(8)
    x = rng.uniform(-1, 1, size=(24, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=24)]
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model.save(str(tmp_path / "model"), include_optimizer=True)

    inputs, x_next, y_next = x[:5], x[8:16], y[8:16]
    answer = tfjs_check(tmp_path / "model", {"inputs": inputs.tolist(),
                                             "train": {"x": x_next.tolist(), "y": y_next.tolist()}}, tmp_path)
    assert answer["compiled"] is True
    assert answer["optimizer"] == model.optimizer.class_name
    assert answer["optimizer_config"] == model.optimizer.get_config()
    assert answer["iterations"] == model.optimizer.iterations == 6
    np.testing.assert_allclose(np.array(answer["predictions"], np.float32), model.predict(inputs).numpy(),
                               rtol=0, atol=ATOL)
    outs = model.train_on_batch(x_next, y_next)
    np.testing.assert_allclose(answer["train_loss"], outs, rtol=0, atol=ATOL)
    np.testing.assert_allclose(np.array(answer["predictions_after_train"], np.float32),
                               model.predict(inputs).numpy(), rtol=0, atol=ATOL)


@needs_node
def test_tfjs_cannot_reload_its_own_gelu_new_model(tmp_path):
    # A TF.js 4.22 quirk, not lamina's: it saves the activation as "gelu_new" (its class
    # name), camel-cases it to "geluNew" on load and finds no such activation. lamina loads
    # that file (test_tfjs_fixture_predicts_as_tfjs[activations]) and writes the same name.
    request_path = tmp_path / "request.json"
    request_path.write_text(json.dumps({"inputs": read_io("activations")["inputs"]}))
    run = subprocess.run(["node", os.path.join(INTEROP, "check_lamina.js"), os.path.join(FIXTURES, "activations"),
                          str(request_path), str(tmp_path / "answer.json")],
                         capture_output=True, text=True, timeout=120, cwd=INTEROP)
    assert run.returncode == 1
    assert "Unknown activation: geluNew" in run.stderr


@needs_node
def test_tfjs_fixture_resaved_by_lamina_loads_in_tfjs(tmp_path):
    # TF.js -> lamina -> TF.js: the round trip ends where it started.
    model = lm.load_layers_model(os.path.join(FIXTURES, "adam_trained"))
    model.save(str(tmp_path / "model"), include_optimizer=True)
    io = read_io("adam_trained")
    step = io["next_step"]
    answer = tfjs_check(tmp_path / "model", {"inputs": io["inputs"], "train": {"x": step["x"], "y": step["y"]}},
                        tmp_path)
    np.testing.assert_array_equal(np.array(answer["predictions"], np.float32),
                                  np.array(io["predictions"], np.float32))
    assert answer["train_loss"] == step["loss"]
    np.testing.assert_array_equal(np.array(answer["predictions_after_train"], np.float32),
                                  np.array(step["predictions"], np.float32))
