"""lm.load_layers_model: exact round trips (weights, predictions, optimizer state), every
variant TF.js's loader accepts (tfjs_observed.md "What the TF.js loader accepts", LOADED OK)
and every failure it reports (the FAILS table), with lamina's errors naming file and weight.

The variants are made by mutating a saved 4 -> 3 relu -> 2 softmax model as the reference
did; the oracle is the original model's predictions, which every variant must reproduce
exactly.
"""

import json
import os

import numpy as np
import pytest

import lamina as lm
from lamina.io import model_json

X = np.random.default_rng(7).normal(size=(5, 4)).astype(np.float32)


def make_model(name_a="dense_Dense1", name_b="dense_Dense2", activation="relu"):
    return lm.sequential(layers=[
        lm.layers.dense(units=3, input_shape=[4], activation=activation, name=name_a,
                        bias_initializer="randomNormal"),
        lm.layers.dense(units=2, activation="softmax", name=name_b, bias_initializer="randomNormal"),
    ])


@pytest.fixture
def saved(tmp_path):
    """(the model, its folder, its model.json as a dict)."""
    model = make_model()
    folder = tmp_path / "m"
    model.save(folder)
    return model, folder, json.loads((folder / "model.json").read_text())


def write_json(folder, document, name="model.json"):
    (folder / name).write_text(json.dumps(document))
    return folder / name


def assert_same_predictions(loaded, original):
    np.testing.assert_array_equal(loaded.predict(X).numpy(), original.predict(X).numpy())


def layer_configs(document):
    return document["modelTopology"]["config"]["layers"]


# ---------------------------------------------------------------- round trips

def test_round_trip_weights_bit_identical_and_names(saved, tmp_path):
    model, folder, _ = saved
    loaded = lm.load_layers_model(folder)
    assert loaded.name == model.name and [layer.name for layer in loaded.layers] == [l.name for l in model.layers]
    assert [w.original_name for w in loaded.weights] == [w.original_name for w in model.weights]
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert_same_predictions(loaded, model)
    assert loaded.optimizer is None and not loaded._compiled
    # Saving the loaded model writes the same files.
    loaded.save(tmp_path / "again")
    assert (tmp_path / "again" / "weights.bin").read_bytes() == (folder / "weights.bin").read_bytes()
    assert (tmp_path / "again" / "model.json").read_text() == (folder / "model.json").read_text()


def test_round_trip_of_every_core_layer(tmp_path):
    model = lm.sequential(name="all_layers", layers=[
        lm.layers.input_layer(input_shape=[2, 6], name="all_in"),
        lm.layers.reshape(target_shape=[3, -1], name="all_reshape"),
        lm.layers.flatten(name="all_flatten"),
        lm.layers.dense(units=5, activation="tanh", kernel_initializer="heUniform", kernel_regularizer="l2",
                        bias_constraint=lm.constraints.max_norm(3, 0), name="all_dense"),
        lm.layers.activation("hardSigmoid", name="all_activation"),
        lm.layers.dropout(rate=0.25, seed=3, name="all_dropout"),
        lm.layers.dense(units=2, use_bias=False, kernel_constraint="nonNeg", name="all_out"),
    ])
    model.save(tmp_path / "m")
    loaded = lm.load_layers_model(tmp_path / "m")
    assert loaded.to_json() == model.to_json()
    x = np.random.default_rng(1).normal(size=(4, 2, 6)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x).numpy(), model.predict(x).numpy())
    assert loaded.layers[2].kernel_regularizer == lm.regularizers.l2()


@pytest.mark.parametrize("optimizer", [
    lambda: lm.train.adam(0.01), lambda: lm.train.sgd(0.1), lambda: lm.train.momentum(0.05, 0.9, True),
    # Centered RMSProp takes sqrt(ms - (mg² + ε)) as TF.js does, NaN for tiny gradients: a
    # small ε and tanh (no dead units) keep this run finite.
    lambda: lm.train.rmsprop(0.01, 0.8, 0.5, 1e-12, centered=True), lambda: lm.train.adagrad(0.1),
    lambda: lm.train.adadelta(1.0), lambda: "rmsprop",
])
def test_optimizer_state_continues_identically(tmp_path, optimizer):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 4)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 16)]
    model = make_model(activation="tanh")
    model.compile(optimizer=optimizer(), loss="categoricalCrossentropy", metrics=["accuracy", "mse"])
    model.fit(x, y, epochs=3, batch_size=5, verbose=0, shuffle=False)
    model.save(tmp_path / "m", include_optimizer=True)
    loaded = lm.load_layers_model(tmp_path / "m")
    assert loaded.metrics_names == model.metrics_names
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 12
    for a, b in zip(loaded.optimizer.get_weights()[1:], model.optimizer.get_weights()[1:]):
        assert a["tensor"].numpy().tobytes() == b["tensor"].numpy().tobytes()
    history_a = model.fit(x, y, epochs=2, batch_size=5, verbose=0, shuffle=False).history
    history_b = loaded.fit(x, y, epochs=2, batch_size=5, verbose=0, shuffle=False).history
    assert history_a == history_b and np.isfinite(history_a["loss"]).all()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        assert a.tobytes() == b.tobytes()


def test_compile_false_and_no_training_config(tmp_path):
    model = make_model()
    model.compile(optimizer="adam", loss="meanSquaredError")
    model.save(tmp_path / "with", include_optimizer=True)
    model.save(tmp_path / "without")
    assert not lm.load_layers_model(tmp_path / "with", compile=False)._compiled
    assert lm.load_layers_model(tmp_path / "without").optimizer is None
    loaded = lm.load_layers_model(tmp_path / "with")
    assert loaded.loss == "meanSquaredError" and loaded.optimizer.iterations == 0


def test_user_defined_metadata_round_trip(tmp_path):
    model = make_model()
    model.set_user_defined_metadata({"labels": ["cat", "dog"], "threshold": 0.25})
    model.save(tmp_path / "m")
    assert lm.load_layers_model(tmp_path / "m").get_user_defined_metadata() == {"labels": ["cat", "dog"],
                                                                                "threshold": 0.25}


def test_custom_layer_registered_round_trip(tmp_path):
    @lm.layers.register_class
    class ScaleByIo(lm.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.offset = self.add_weight("offset", [input_shape[-1]], initializer="randomNormal")

        def call(self, inputs, training=False):
            return inputs * self.factor + self.offset.read()

        def get_config(self):
            return {"factor": self.factor, **super().get_config()}

    model = lm.sequential(layers=[lm.layers.dense(units=3, input_shape=[4], name="before_custom"),
                                  ScaleByIo(factor=3.0, name="custom_io")])
    model.save(tmp_path / "m")
    document = json.loads((tmp_path / "m" / "model.json").read_text())
    assert layer_configs(document)[1] == {"class_name": "ScaleByIo",
                                          "config": {"factor": 3.0, "name": "custom_io", "trainable": True}}
    loaded = lm.load_layers_model(tmp_path / "m")
    assert isinstance(loaded.layers[1], ScaleByIo) and loaded.layers[1].factor == 3.0
    assert_same_predictions(loaded, model)


# ---------------------------------------------------------------- what TF.js's loader accepts

def test_dot_slash_paths(saved):
    model, folder, document = saved
    document["weightsManifest"][0]["paths"] = ["./weights.bin"]
    assert_same_predictions(lm.load_layers_model(write_json(folder, document)), model)


@pytest.mark.parametrize("cut", [1, 37, 50])
def test_weights_split_over_shards_at_any_byte(saved, cut):
    model, folder, document = saved
    data = (folder / "weights.bin").read_bytes()
    os.remove(folder / "weights.bin")
    (folder / "group1-shard1of2.bin").write_bytes(data[:cut])
    (folder / "group1-shard2of2.bin").write_bytes(data[cut:])
    document["weightsManifest"][0]["paths"] = ["group1-shard1of2.bin", "group1-shard2of2.bin"]
    assert_same_predictions(lm.load_layers_model(write_json(folder, document)), model)


def test_two_manifest_groups(saved):
    model, folder, document = saved
    data = (folder / "weights.bin").read_bytes()
    specs = document["weightsManifest"][0]["weights"]
    split = (12 + 3) * 4  # the first layer's kernel and bias
    (folder / "group1-shard1of1.bin").write_bytes(data[:split])
    (folder / "group2-shard1of1.bin").write_bytes(data[split:])
    document["weightsManifest"] = [{"paths": ["group1-shard1of1.bin"], "weights": specs[:2]},
                                   {"paths": ["group2-shard1of1.bin"], "weights": specs[2:]}]
    assert_same_predictions(lm.load_layers_model(write_json(folder, document)), model)


def test_manifest_order_reversed_weights_matched_by_name(saved):
    model, folder, document = saved
    specs = document["weightsManifest"][0]["weights"]
    arrays = model.get_weights()
    document["weightsManifest"][0]["weights"] = specs[::-1]
    (folder / "weights.bin").write_bytes(b"".join(a.astype("<f4").tobytes() for a in arrays[::-1]))
    assert_same_predictions(lm.load_layers_model(write_json(folder, document)), model)


def test_keras_style_names(tmp_path):
    model = make_model("dense", "dense_1")
    model.save(tmp_path / "m")
    specs = json.loads((tmp_path / "m" / "model.json").read_text())["weightsManifest"][0]["weights"]
    assert [s["name"] for s in specs] == ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"]
    assert_same_predictions(lm.load_layers_model(tmp_path / "m"), model)


def test_tf22_cell_names_drop_second_to_last_part(saved):
    model, folder, document = saved
    document["weightsManifest"][0]["weights"][0]["name"] = "dense_Dense1/cell/kernel"
    assert_same_predictions(lm.load_layers_model(write_json(folder, document)), model)


@pytest.mark.parametrize("keys", [("format", "generatedBy", "convertedBy"), ("keras_version", "backend")])
def test_missing_informational_keys(saved, keys):
    model, folder, document = saved
    for key in keys:
        document.pop(key, None)
        document["modelTopology"].pop(key, None)
    assert_same_predictions(lm.load_layers_model(write_json(folder, document)), model)


def test_legacy_config_as_plain_list(saved):
    model, folder, document = saved
    document["modelTopology"]["config"] = layer_configs(document)
    assert_same_predictions(lm.load_layers_model(write_json(folder, document)), model)


def test_topology_wrapped_in_model_config(saved):
    model, folder, document = saved
    document["modelTopology"] = {"model_config": document["modelTopology"],
                                 "training_config": {"loss": "categorical_crossentropy"}}
    loaded = lm.load_layers_model(write_json(folder, document))
    assert_same_predictions(loaded, model)
    assert loaded.optimizer is None  # as TF.js: only the top-level trainingConfig compiles


def test_explicit_input_layer_with_batch_input_shape(saved):
    model, folder, document = saved
    layers = layer_configs(document)
    del layers[0]["config"]["batch_input_shape"]
    layers.insert(0, {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                                                             "sparse": False, "ragged": False, "name": "x_in"}})
    loaded = lm.load_layers_model(write_json(folder, document))
    assert_same_predictions(loaded, model)
    assert loaded.input_names == ["x_in"] and loaded.get_config()["layers"][0]["class_name"] == "InputLayer"


def test_first_layer_with_input_shape(saved):
    model, folder, document = saved
    config = layer_configs(document)[0]["config"]
    del config["batch_input_shape"]
    config["input_shape"] = [4]
    assert_same_predictions(lm.load_layers_model(write_json(folder, document)), model)


def test_camel_case_keys(saved):
    model, folder, document = saved
    for entry in layer_configs(document):
        entry["className"] = entry.pop("class_name")
        config = entry["config"]
        entry["config"] = {lm._serialization.to_camel_case(k): v for k, v in config.items()}
        entry["config"]["kernelInitializer"] = {"className": "VarianceScaling",
                                                "config": {"scale": 1, "mode": "fanAvg", "distribution": "normal"}}
    document["modelTopology"]["className"] = document["modelTopology"].pop("class_name")
    assert "batchInputShape" in layer_configs(document)[0]["config"]
    assert_same_predictions(lm.load_layers_model(write_json(folder, document)), model)


def test_minimal_dense_config_and_glorot_uniform(saved):
    model, folder, document = saved
    layers = layer_configs(document)
    for index, entry in enumerate(layers):
        config = entry["config"]
        entry["config"] = {"units": config["units"], "activation": config["activation"], "use_bias": True,
                           "name": config["name"], "kernel_initializer": {"class_name": "GlorotUniform",
                                                                          "config": {"seed": None}}}
        if index == 0:
            entry["config"]["batch_input_shape"] = [None, 4]
    loaded = lm.load_layers_model(write_json(folder, document))
    assert_same_predictions(loaded, model)
    assert loaded.layers[0].kernel_initializer.get_config()["distribution"] == "uniform"


@pytest.mark.parametrize("class_name", ["Model", "Functional"])
def test_functional_chain(saved, class_name):
    model, folder, document = saved
    layers = layer_configs(document)
    del layers[0]["config"]["batch_input_shape"]
    functional = [{"name": "x_in", "class_name": "InputLayer", "config": {"batch_input_shape": [None, 4],
                                                                         "dtype": "float32", "sparse": False,
                                                                         "name": "x_in"}, "inbound_nodes": []}]
    previous = "x_in"
    for entry in layers:
        name = entry["config"]["name"]
        functional.append({"name": name, "class_name": entry["class_name"], "config": entry["config"],
                           "inbound_nodes": [[[previous, 0, 0, {}]]]})
        previous = name
    document["modelTopology"]["class_name"] = class_name
    document["modelTopology"]["config"] = {"name": "model1", "layers": functional,
                                           "input_layers": [["x_in", 0, 0]], "output_layers": [[previous, 0, 0]]}
    loaded = lm.load_layers_model(write_json(folder, document))
    assert_same_predictions(loaded, model)
    assert loaded.name == "model1"


def test_longer_weights_file_strict_false_ignores_extra_bytes(saved):
    model, folder, _ = saved
    with open(folder / "weights.bin", "ab") as handle:
        handle.write(b"\0" * 8)
    assert_same_predictions(lm.load_layers_model(folder, strict=False), model)
    # lamina's decision: strict loading takes extra bytes as a manifest that does not fit.
    with pytest.raises(ValueError, match=r"weights\.bin: weights file too long: .*8 extra bytes after the last "
                                         r"weight 'dense_Dense2/bias'.*strict=False"):
        lm.load_layers_model(folder)


def test_url_and_model_json_path(saved):
    model, folder, _ = saved
    assert_same_predictions(lm.load_layers_model("file://" + str(folder / "model.json")), model)
    assert_same_predictions(lm.load_layers_model(str(folder / "model.json")), model)


def test_quantized_weights_are_dequantized_as_tfjs(saved):
    model, folder, document = saved
    specs = document["weightsManifest"][0]["weights"]
    arrays = model.get_weights()
    chunks = []
    expected = []
    for spec, array in zip(specs, arrays):
        low, high = float(array.min()), float(array.max())
        scale = (high - low) / 255 or 1.0
        q = np.round((array - low) / scale).astype(np.uint8)
        spec["quantization"] = {"dtype": "uint8", "scale": scale, "min": low}
        chunks.append(q.tobytes())
        expected.append((q.astype(np.float64) * scale + low).astype(np.float32))  # TF.js: v * scale + min
    specs[3]["quantization"] = {"dtype": "float16"}
    chunks[3] = arrays[3].astype("<f2").tobytes()
    expected[3] = arrays[3].astype(np.float16).astype(np.float32)
    (folder / "weights.bin").write_bytes(b"".join(chunks))
    loaded = lm.load_layers_model(write_json(folder, document))
    for got, want in zip(loaded.get_weights(), expected):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- what fails (with file and weight named)

def load_error(path, strict=True):
    with pytest.raises(ValueError) as info:
        lm.load_layers_model(path, strict=strict)
    return str(info.value)


def test_weight_names_not_matching_layers(saved):
    model, folder, document = saved
    for spec in document["weightsManifest"][0]["weights"]:
        spec["name"] = spec["name"].replace("dense_Dense1", "foo")
    path = write_json(folder, document)
    message = load_error(path)
    assert message.startswith(str(path)) and "Provided weight data has no target variable: foo/kernel" in message
    loaded = lm.load_layers_model(path, strict=False)  # as TF.js: those weights keep their initial values
    np.testing.assert_array_equal(loaded.get_weights()[2], model.get_weights()[2])
    assert not np.array_equal(loaded.get_weights()[0], model.get_weights()[0])


def test_missing_weight(saved):
    _, folder, document = saved
    document["weightsManifest"][0]["weights"].pop()
    (folder / "weights.bin").write_bytes((folder / "weights.bin").read_bytes()[:-8])
    path = write_json(folder, document)
    assert load_error(path) == f"{path}: 1 of 4 weights are not set: dense_Dense2/bias"


def test_no_weights_manifest(saved):
    _, folder, document = saved
    del document["weightsManifest"]
    message = load_error(write_json(folder, document))
    assert message.endswith("4 of 4 weights are not set: dense_Dense1/kernel,dense_Dense1/bias,dense_Dense2/kernel,"
                            "dense_Dense2/bias")


def test_extra_weight(saved):
    _, folder, document = saved
    document["weightsManifest"][0]["weights"].append({"name": "extra/w", "shape": [2], "dtype": "float32"})
    with open(folder / "weights.bin", "ab") as handle:
        handle.write(b"\0" * 8)
    assert "Provided weight data has no target variable: extra/w" in load_error(write_json(folder, document))


def test_misshaped_weight(saved):
    _, folder, document = saved
    document["weightsManifest"][0]["weights"][1]["shape"] = [1, 3]
    path = write_json(folder, document)
    assert load_error(path) == (f"{path}: weight 'dense_Dense1/bias': Shape mismatch: the model's weight has shape [3], "
                                "the file gives [1, 3]")


def test_truncated_weights_file(saved):
    _, folder, _ = saved
    (folder / "weights.bin").write_bytes((folder / "weights.bin").read_bytes()[:-4])
    message = load_error(folder)
    assert message.startswith(str(folder / "weights.bin")) and "weight 'dense_Dense2/bias'" in message
    assert "Based on the provided shape, [2], the tensor should have 2 values but has 1" in message


def test_weight_spec_without_dtype(saved):
    _, folder, document = saved
    del document["weightsManifest"][0]["weights"][0]["dtype"]
    path = write_json(folder, document)
    assert load_error(path).startswith(f"{path}: Unsupported dtype in weight 'dense_Dense1/kernel': undefined")


@pytest.mark.parametrize("dtype, message", [
    ("int32", "weight 'dense_Dense1/kernel' has dtype int32 in the file, but the model's weight "
              "dense_Dense1/kernel is float32"),
    ("string", "Unsupported dtype in weight 'dense_Dense1/kernel': string (TF.js knows it"),
    ("float64", "Unsupported dtype in weight 'dense_Dense1/kernel': float64"),
])
def test_wrong_dtype(saved, dtype, message):
    _, folder, document = saved
    document["weightsManifest"][0]["weights"][0]["dtype"] = dtype
    assert message in load_error(write_json(folder, document))


def test_input_layer_with_keras3_batch_shape(saved):
    _, folder, document = saved
    layers = layer_configs(document)
    del layers[0]["config"]["batch_input_shape"]
    layers.insert(0, {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "x_in"}})
    message = load_error(write_json(folder, document))
    assert "layer 0 (InputLayer 'x_in')" in message and "batch_shape" in message and "batch_input_shape" in message


def test_first_dense_with_batch_shape(saved):
    _, folder, document = saved
    config = layer_configs(document)[0]["config"]
    config["batch_shape"] = config.pop("batch_input_shape")
    assert "layer 0 (Dense 'dense_Dense1'): 'batch_shape' is Keras 3's spelling" in load_error(
        write_json(folder, document))


def test_keras3_dtype_policy(saved):
    _, folder, document = saved
    layer_configs(document)[0]["config"]["dtype"] = {"module": "keras", "class_name": "DTypePolicy",
                                                     "config": {"name": "float32"}}
    # TF.js loads this and fails at predict; lamina refuses it at load.
    assert "layer 0 (Dense 'dense_Dense1') cannot be rebuilt from its config: dtype must be" in load_error(
        write_json(folder, document))


def test_model_class_with_sequential_config(saved):
    _, folder, document = saved
    document["modelTopology"]["class_name"] = "Model"
    assert ("lamina loads functional models only when they are a single chain of layers (each layer fed by the "
            "one before); layer 'dense_Dense2' is fed by nothing") in load_error(write_json(folder, document))


def test_functional_model_that_is_not_a_chain(saved):
    _, folder, document = saved
    layers = layer_configs(document)
    document["modelTopology"]["class_name"] = "Functional"
    document["modelTopology"]["config"] = {
        "name": "branches", "input_layers": [["dense_Dense1", 0, 0]], "output_layers": [["dense_Dense2", 0, 0]],
        "layers": [dict(layers[0], name="dense_Dense1", inbound_nodes=[]),
                   dict(layers[1], name="dense_Dense2", inbound_nodes=[[["elsewhere", 0, 0, {}]]])]}
    assert "layer 'dense_Dense2' is fed by ['elsewhere'], expected ['dense_Dense1']" in load_error(
        write_json(folder, document))


def test_unknown_layer_class_hints_registration(saved):
    _, folder, document = saved
    layer_configs(document)[1]["class_name"] = "MyAttention"
    path = write_json(folder, document)
    message = load_error(path)
    assert message.startswith(f"{path}: layer 1 (MyAttention 'dense_Dense2'): Unknown layer: MyAttention")
    assert "lm.layers.register_class" in message


def test_unknown_config_key(saved):
    _, folder, document = saved
    layer_configs(document)[0]["config"]["kernel_size"] = 3
    assert "layer 0 (Dense 'dense_Dense1') cannot be rebuilt from its config" in load_error(
        write_json(folder, document))


@pytest.mark.parametrize("text, expected", [
    ('{"modelTopology": ', "malformed JSON"),
    ('{"modelTopology": NaN}', "malformed JSON: NaN is not valid JSON"),
    ("[1, 2]", "a model.json must hold a JSON object, got list"),
    ('{"weightsManifest": []}', "no modelTopology"),
    ('{"modelTopology": {"class_name": "Sequential"}, "format": "graph-model"}', "format is 'graph-model'"),
    ('{"modelTopology": {"class_name": "Sequential", "config": {"layers": "x"}}}', "needs a 'layers' list"),
    ('{"modelTopology": {"class_name": "Sequential", "config": {"layers": [3]}}}', "layer 0 must be a JSON object"),
    ('{"modelTopology": {"config": {}}}', "modelTopology has no class_name"),
    ('{"modelTopology": {"class_name": "Sequential", "config": {"layers": []}}}', "the model has no layers"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
])
def test_malformed_json(tmp_path, text, expected):
    (tmp_path / "model.json").write_text(text)
    message = load_error(tmp_path)
    assert message.startswith(str(tmp_path / "model.json")) and expected in message


def test_not_utf8(tmp_path):
    (tmp_path / "model.json").write_bytes(b'{"a": "\xff"}')
    assert "not UTF-8" in load_error(tmp_path)


@pytest.mark.parametrize("paths, expected", [
    (["../outside.bin"], "must be relative to the model.json folder and stay inside it"),
    (["/etc/passwd"], "must be relative to the model.json folder"),
    (["missing.bin"], "Weight file "),
    ([3], "a weightsManifest path must be a non-empty string"),
])
def test_weight_file_paths_are_checked(saved, paths, expected):
    _, folder, document = saved
    document["weightsManifest"][0]["paths"] = paths
    assert expected in load_error(write_json(folder, document))


@pytest.mark.parametrize("mutate, expected", [
    (lambda specs: specs[0].update(shape=[3, -4]), "weight 'dense_Dense1/kernel': shape must be a list of integers"),
    (lambda specs: specs[0].update(shape=[10 ** 12, 10 ** 12]), "weights file too short: weight 'dense_Dense1/kernel'"),
    (lambda specs: specs[0].update(name=None), "weightsManifest entry 0 has no name"),
    (lambda specs: specs.append(dict(specs[0])), "weight 'dense_Dense1/kernel' is listed twice"),
    (lambda specs: specs[0].update(quantization={"dtype": "uint8"}), "uint8 quantization needs a finite number 'scale'"),
])
def test_bad_weight_specs(saved, mutate, expected):
    _, folder, document = saved
    mutate(document["weightsManifest"][0]["weights"])
    assert expected in load_error(write_json(folder, document))


def test_missing_path_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist: loading failed"):
        lm.load_layers_model(tmp_path / "nothing")
    with pytest.raises(TypeError, match="strict must be True or False"):
        lm.load_layers_model(tmp_path, strict=1)
    with pytest.raises(ValueError, match="loads from the file system"):
        lm.load_layers_model("https://example.com/model.json")


# ---------------------------------------------------------------- training config on load

def compiled_save(tmp_path, optimizer="adam"):
    model = make_model()
    model.compile(optimizer=optimizer, loss="categoricalCrossentropy", metrics=["accuracy"])
    model.fit(X, np.eye(2, dtype=np.float32)[[0, 1, 0, 1, 1]], verbose=0)
    model.save(tmp_path / "m", include_optimizer=True)
    return model, tmp_path / "m", json.loads((tmp_path / "m" / "model.json").read_text())


def test_keras_style_training_config(tmp_path):
    model, folder, document = compiled_save(tmp_path)
    document["trainingConfig"]["optimizer_config"] = {"class_name": "Adam", "config": {
        "name": "Adam", "learning_rate": 0.005, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-7, "amsgrad": False}}
    loaded = lm.load_layers_model(write_json(folder, document))
    assert loaded.optimizer.get_config() == {"learningRate": 0.005, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-7}


@pytest.mark.parametrize("mutate, expected", [
    (lambda tc: tc.update(weighted_metrics=["acc"]), "Loading weighted_metrics is not supported yet."),
    (lambda tc: tc.update(loss_weights=[1.0]), "Loading loss_weights is not supported yet."),
    (lambda tc: tc.update(loss="no_such_loss"), "trainingConfig cannot compile the model: Unknown loss noSuchLoss"),
    (lambda tc: tc["optimizer_config"].update(class_name="Nadam"), "Unknown optimizer class 'Nadam'"),
    (lambda tc: tc["optimizer_config"]["config"].update(beta1=2), "optimizer Adam cannot be rebuilt"),
])
def test_bad_training_config(tmp_path, mutate, expected):
    _, folder, document = compiled_save(tmp_path)
    mutate(document["trainingConfig"])
    assert expected in load_error(write_json(folder, document))


def test_bad_optimizer_state(tmp_path):
    _, folder, document = compiled_save(tmp_path, lm.train.adam(0.01))
    specs = document["weightsManifest"][0]["weights"]
    specs[4]["shape"] = [1]  # iter
    assert "optimizer weight 'iter' must be the iteration count" in load_error(write_json(folder, document))
    specs[4]["shape"] = []
    specs[5]["name"] = "dense_Dense1/kernel/v"  # an m slot named as a v slot
    assert "the optimizer state cannot be restored" in load_error(write_json(folder, document))


def test_optimizer_slot_shape_must_fit_its_weight(tmp_path):
    _, folder, document = compiled_save(tmp_path, lm.train.adam(0.01))
    specs = document["weightsManifest"][0]["weights"]
    assert specs[5]["shape"] == [4, 3]
    specs[5]["shape"] = [3, 4]  # same bytes, wrong shape
    message = load_error(write_json(folder, document))
    assert f"optimizer weight '{specs[5]['name']}' has shape [3, 4], but the model weight it belongs to " \
           "(dense_Dense1/kernel) has shape [4, 3]" in message


def test_layer_larger_than_the_weight_files_is_refused_before_allocation(saved):
    _, folder, document = saved
    layer_configs(document)[1]["config"]["units"] = 10 ** 12  # would be terabytes
    path = write_json(folder, document)
    assert load_error(path) == (f"{path}: layer 1 (Dense 'dense_Dense2'): units=1000000000000, but the weight files "
                                "hold only 23 values for the model's weights")
    layer_configs(document)[1]["config"]["units"] = 2
    layer_configs(document)[0]["config"]["batch_input_shape"] = [None, 10 ** 13]
    # Not bounded by the files before building: numpy refuses the allocation, reported as ValueError.
    assert "layer 0 (Dense 'dense_Dense1'): Unable to allocate" in load_error(write_json(folder, document))


def test_scalar_weight_and_its_optimizer_state_round_trip(tmp_path):
    # A 0-d weight (shape []) and its 0-d Adam slots load back as 0-d, not as shape [1].
    @lm.layers.register_class
    class ScaleByScalarIo(lm.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight("scale", [], initializer="ones")

        def call(self, inputs, training=False):
            return inputs * self.scale.read()

    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 4)).astype(np.float32)
    y = (3.0 * x[:, :2]).astype(np.float32)
    model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[4], name="before_scalar_io"),
                                  ScaleByScalarIo(name="scalar_io")])
    model.compile(optimizer="adam", loss="meanSquaredError")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    model.save(tmp_path / "m", include_optimizer=True)
    loaded = lm.load_layers_model(tmp_path / "m")
    assert [w.shape for w in loaded.get_weights()] == [(4, 2), (2,), ()]
    saved_state, loaded_state = model.optimizer.get_weights(), loaded.optimizer.get_weights()
    assert [s["tensor"].shape for s in loaded_state] == [s["tensor"].shape for s in saved_state]
    assert [s["tensor"].shape for s in loaded_state if s["name"].startswith("scalar_io/")] == [[], []]
    for a, b in zip(loaded_state, saved_state):
        assert a["tensor"].numpy().tobytes() == b["tensor"].numpy().tobytes()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, batch_size=4, verbose=0, shuffle=False)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        assert a.tobytes() == b.tobytes()


# ---------------------------------------------------------------- load_weights

def model_weights_equal(a, b):
    return all((x == y).all() for x, y in zip(a.get_weights(), b.get_weights()))


@pytest.mark.parametrize("how", ["save_weights", "save_weights manifest", "save", "save model.json"])
def test_load_weights_from_save_weights_or_a_saved_model(tmp_path, how):
    source, target = make_model(), make_model()
    source.compile(optimizer="adam", loss="meanSquaredError")
    source.fit(np.ones([4, 4]), np.ones([4, 2]), verbose=0)  # the optimizer has state to leave aside
    folder = tmp_path / "w"
    if how.startswith("save_weights"):
        source.save_weights(folder)
        path = folder / "weights_manifest.json" if how.endswith("manifest") else folder
    else:
        source.save(folder, include_optimizer=True)
        path = folder / "model.json" if how.endswith("json") else folder
    assert not model_weights_equal(source, target)
    target.load_weights(str(path))
    assert model_weights_equal(source, target)
    assert_same_predictions(target, source)


def test_load_weights_by_position_when_the_same_layers_got_new_names(tmp_path):
    source = make_model()
    source.save_weights(tmp_path / "w")
    renamed = make_model(name_a="again_a", name_b="again_b")  # as a rebuilt model's automatic names
    renamed.load_weights(tmp_path / "w")
    assert model_weights_equal(source, renamed)


def test_load_weights_checks_names_and_shapes_before_setting_any(tmp_path):
    make_model().save_weights(tmp_path / "w")
    deeper = lm.sequential(layers=[lm.layers.dense(units=3, input_shape=[4], name="other_a"),
                                   lm.layers.dense(units=2, name="other_b"), lm.layers.dense(units=2, name="other_c")])
    before = deeper.get_weights()
    with pytest.raises(ValueError, match=r"Provided weight data has no target variable: dense_Dense1/kernel"):
        deeper.load_weights(tmp_path / "w")
    assert all((a == b).all() for a, b in zip(before, deeper.get_weights()))
    wider = lm.sequential(layers=[lm.layers.dense(units=5, input_shape=[4], name="dense_Dense1"),
                                  lm.layers.dense(units=2, name="dense_Dense2")])
    before = wider.get_weights()
    with pytest.raises(ValueError, match=r"weight 'dense_Dense1/kernel': Shape mismatch"):
        wider.load_weights(tmp_path / "w")
    wider_renamed = lm.sequential(layers=[lm.layers.dense(units=5, input_shape=[4]), lm.layers.dense(units=2)])
    with pytest.raises(ValueError, match=r"Shape mismatch: the model's weight has shape \[4, 5\]"):
        wider_renamed.load_weights(tmp_path / "w")
    assert all((a == b).all() for a, b in zip(before, wider.get_weights()))


def test_load_weights_from_a_folder_without_weights(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"holds neither weights_manifest.json .* nor model.json"):
        make_model().load_weights(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        make_model().load_weights(tmp_path / "missing")


# ---------------------------------------------------------------- a loaded model that is not compiled

def test_fit_on_a_model_saved_without_optimizer_says_how_to_compile(tmp_path):
    model = make_model()
    model.compile(optimizer="sgd", loss="meanSquaredError")
    model.save(tmp_path / "m")  # include_optimizer=False, the default
    loaded = lm.load_layers_model(tmp_path / "m")
    for run in (lambda: loaded.fit(np.ones([2, 4]), np.ones([2, 2]), verbose=0),
                lambda: loaded.evaluate(np.ones([2, 4]), np.ones([2, 2]))):
        with pytest.raises(RuntimeError, match=r"^The model needs to be compiled before being used. It was loaded "
                                               r"from .*model.json, which has no training configuration .*"
                                               r"model.compile\(optimizer=..., loss=...\).*include_optimizer=True"):
            run()
    loaded.compile(optimizer="sgd", loss="meanSquaredError")
    loaded.fit(np.ones([2, 4]), np.ones([2, 2]), verbose=0)


def test_fit_on_a_model_loaded_with_compile_false_says_so(tmp_path):
    model = make_model()
    model.compile(optimizer="sgd", loss="meanSquaredError")
    model.save(tmp_path / "m", include_optimizer=True)
    loaded = lm.load_layers_model(tmp_path / "m", compile=False)
    with pytest.raises(RuntimeError, match=r"with compile=False: compile it with model.compile\(.*or load it with "
                                           r"compile=True"):
        loaded.fit(np.ones([2, 4]), np.ones([2, 2]), verbose=0)
