"""lm.save / model.save: the files tfjs-node's file:// handler writes, byte for byte, and an
atomic replace of the model folder.

Oracles: the modelTopology TF.js 4.22 wrote for the same model (tfjs_semantics.md §6.6), the
trainingConfig texts observed there (§3.4, tfjs_observed.md "includeOptimizer"), JavaScript's
number printing (ECMAScript Number::toString), and the weights packed by hand with struct.
"""

import json
import os
import struct

import numpy as np
import pytest

import lamina as lm
from lamina.io import model_json
from lamina.io import saving as save_module

INIT = ('"kernel_initializer":{"class_name":"VarianceScaling","config":{"scale":1,"mode":"fan_avg",'
        '"distribution":"normal","seed":null}},"bias_initializer":{"class_name":"Zeros","config":{}},'
        '"kernel_regularizer":null,"bias_regularizer":null,"activity_regularizer":null,'
        '"kernel_constraint":null,"bias_constraint":null')

# tfjs_semantics.md §6.6, verified against tfjs 4.22.0 (the "..." there is the same INIT keys).
TFJS_TOPOLOGY = (
    '{"class_name":"Sequential","config":{"name":"sequential_1","layers":['
    '{"class_name":"Dense","config":{"units":4,"activation":"relu","use_bias":true,' + INIT +
    ',"name":"dense_Dense1","trainable":true,"batch_input_shape":[null,3],"dtype":"float32"}},'
    '{"class_name":"Dropout","config":{"rate":0.5,"noise_shape":null,"seed":null,"name":"dropout_Dropout1",'
    '"trainable":true}},'
    '{"class_name":"Dense","config":{"units":2,"activation":"softmax","use_bias":true,' + INIT +
    ',"name":"dense_Dense2","trainable":true}}]},'
    '"keras_version":"tfjs-layers 4.22.0","backend":"tensor_flow.js"}')

MANIFEST = ('[{"paths":["weights.bin"],"weights":['
            '{"name":"dense_Dense1/kernel","shape":[3,4],"dtype":"float32"},'
            '{"name":"dense_Dense1/bias","shape":[4],"dtype":"float32"},'
            '{"name":"dense_Dense2/kernel","shape":[4,2],"dtype":"float32"},'
            '{"name":"dense_Dense2/bias","shape":[2],"dtype":"float32"}]}]')


def dropout_model():
    """TF.js's sequential([dense(4, inputShape [3], relu), dropout(0.5), dense(2, softmax)])
    with the names TF.js gives it in a fresh process."""
    return lm.sequential(name="sequential_1", layers=[
        lm.layers.dense(units=4, input_shape=[3], activation="relu", name="dense_Dense1"),
        lm.layers.dropout(rate=0.5, name="dropout_Dropout1"),
        lm.layers.dense(units=2, activation="softmax", name="dense_Dense2"),
    ])


def read_text(folder, name="model.json"):
    with open(os.path.join(folder, name), encoding="utf-8") as handle:
        return handle.read()


def test_model_json_is_tfjs_node_byte_for_byte(tmp_path):
    model = dropout_model()
    model.save(tmp_path / "m")
    text = read_text(tmp_path / "m")
    expected = ('{"modelTopology":' + TFJS_TOPOLOGY + ',"weightsManifest":' + MANIFEST +
                ',"format":"layers-model","generatedBy":"lamina v' + lm.__version__ + '","convertedBy":null}')
    assert text == expected
    assert model.to_json() == TFJS_TOPOLOGY


def test_weights_bin_is_model_weights_little_endian_in_order(tmp_path):
    model = dropout_model()
    model.save(tmp_path / "m")
    data = (tmp_path / "m" / "weights.bin").read_bytes()
    values = [float(v) for w in model.get_weights() for v in w.reshape(-1)]
    assert data == struct.pack(f"<{len(values)}f", *values)
    assert len(data) == (12 + 4 + 8 + 2) * 4


def test_include_optimizer_adam_matches_tfjs(tmp_path):
    model = dropout_model()
    model.compile(optimizer=lm.train.adam(0.01), loss="categoricalCrossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(12, 3)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[np.arange(12) % 2]
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)  # 6 steps
    model.save(tmp_path / "m", include_optimizer=True)
    document = json.loads(read_text(tmp_path / "m"))
    assert list(document) == ["modelTopology", "weightsManifest", "format", "generatedBy", "convertedBy",
                              "trainingConfig"]
    # The observed text (tfjs_observed.md), epsilon as JavaScript prints it.
    assert model_json.dumps(document["trainingConfig"]) == (
        '{"loss":"categorical_crossentropy","metrics":["accuracy"],"optimizer_config":{"class_name":"Adam",'
        '"config":{"learningRate":0.01,"beta1":0.9,"beta2":0.999,"epsilon":1e-7}}}')
    specs = document["weightsManifest"][0]["weights"]
    kernels = ["dense_Dense1/kernel", "dense_Dense1/bias", "dense_Dense2/kernel", "dense_Dense2/bias"]
    # Slots are named after the variables' unique names, as in TF.js ('dense_Dense1/kernel_1/m'
    # when another model of this process already has a 'dense_Dense1/kernel').
    unique = [w.name for w in model.weights]
    assert [w.original_name for w in model.weights] == kernels
    assert [s["name"] for s in specs] == kernels + ["iter"] + [k + "/m" for k in unique] + [k + "/v" for k in unique]
    assert specs[4] == {"name": "iter", "shape": [], "dtype": "int32", "group": "optimizer"}
    assert all(s.get("group") == "optimizer" for s in specs[4:]) and all("group" not in s for s in specs[:4])
    data = (tmp_path / "m" / "weights.bin").read_bytes()
    assert len(data) == 316  # tfjs_semantics.md §6.4: 26 weights + iter + 52 moments, 4 bytes each
    assert struct.unpack_from("<i", data, 26 * 4)[0] == 6
    slots = model.optimizer.get_weights()[1:]
    packed = [float(v) for item in slots for v in item["tensor"].numpy().reshape(-1)]
    assert data[27 * 4:] == struct.pack(f"<{len(packed)}f", *packed)


def test_training_config_sgd_without_metrics_is_tfjs_quirk(tmp_path):
    model = dropout_model()
    model.compile(optimizer="sgd", loss="meanSquaredError")
    model.save(tmp_path / "m", include_optimizer=True)
    assert model_json.dumps(json.loads(read_text(tmp_path / "m"))["trainingConfig"]) == (
        '{"loss":"mean_squared_error","metrics":{},"optimizer_config":{"class_name":"SGD",'
        '"config":{"learningRate":0.01}}}')
    specs = json.loads(read_text(tmp_path / "m"))["weightsManifest"][0]["weights"]
    assert [s["name"] for s in specs if s.get("group")] == ["iter"]


def test_training_config_names(tmp_path):
    model = dropout_model()
    # An alias lamina accepts is written under its TF.js name (TF.js cannot load 'mse');
    # metric functions get TF.js's getLossOrMetricName, snake-cased.
    model.compile(optimizer=lm.train.rmsprop(0.01, centered=True), loss="mse",
                  metrics=[lm.metrics.mae, "acc", "MAE"])
    config = save_module.training_config(model)
    assert config["loss"] == "mean_squared_error"
    assert config["metrics"] == ["mean_absolute_error", "acc", "mae"]
    assert config["optimizer_config"] == {"class_name": "RMSProp", "config": {
        "learningRate": 0.01, "decay": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": True}}
    model.compile(optimizer="sgd", loss=["categorical_crossentropy"], metrics="accuracy")
    assert save_module.training_config(model)["loss"] == ["categorical_crossentropy"]
    assert save_module.training_config(model)["metrics"] == ["accuracy"]


def test_rmsprop_centered_slot_order(tmp_path):
    model = dropout_model()
    model.compile(optimizer=lm.train.rmsprop(0.01, momentum=0.5, centered=True), loss="meanSquaredError")
    model.fit(np.ones((2, 3), np.float32), np.ones((2, 2), np.float32), verbose=0)
    model.save(tmp_path / "m", include_optimizer=True)
    names = [s["name"] for s in json.loads(read_text(tmp_path / "m"))["weightsManifest"][0]["weights"]
             if s.get("group")]
    kernels = [w.name for w in model.weights]
    # tfjs_semantics.md §6.4: iter, all /rms, all /momentum, then /mg when centered.
    assert names == ["iter"] + [k + "/rms" for k in kernels] + [k + "/momentum" for k in kernels] + \
        [k + "/mg" for k in kernels]


def test_uses_original_names_when_variables_were_renamed(tmp_path):
    first = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="twice_named")])
    second = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="twice_named")])
    assert second.weights[0].name == "twice_named/kernel_1"
    second.save(tmp_path / "m")
    specs = json.loads(read_text(tmp_path / "m"))["weightsManifest"][0]["weights"]
    assert [s["name"] for s in specs] == ["twice_named/kernel", "twice_named/bias"]
    assert first.weights[0].name == "twice_named/kernel"


def test_include_optimizer_without_compile_writes_no_training_config(tmp_path):
    dropout_model().save(tmp_path / "m", include_optimizer=True)  # TF.js: no optimizer, nothing added
    assert "trainingConfig" not in json.loads(read_text(tmp_path / "m"))


def test_explicit_input_layer_is_saved_first(tmp_path):
    model = lm.sequential(name="with_input", layers=[
        lm.layers.input_layer(input_shape=[3], name="x_in"),
        lm.layers.dense(units=2, name="after_input")])
    layers = json.loads(model.to_json())["config"]["layers"]
    assert layers[0] == {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3], "dtype": "float32",
                                                                 "sparse": False, "name": "x_in"}}
    assert [layer["config"]["name"] for layer in layers] == ["x_in", "after_input"]


def test_user_defined_metadata_is_saved_last(tmp_path):
    model = dropout_model()
    model.compile(optimizer="sgd", loss="meanSquaredError")
    model.set_user_defined_metadata({"labels": ["a", "b"], "version": 2})
    model.save(tmp_path / "m", include_optimizer=True)
    text = read_text(tmp_path / "m")
    assert text.endswith(',"userDefinedMetadata":{"labels":["a","b"],"version":2}}')
    assert list(json.loads(text))[-2:] == ["trainingConfig", "userDefinedMetadata"]


@pytest.mark.parametrize("value, text", [
    (1, "1"), (1.0, "1"), (-2.0, "-2"), (0.5, "0.5"), (0.1, "0.1"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"),
    (0.000001, "0.000001"), (0.0000012, "0.0000012"), (123.456, "123.456"), (1e20, "100000000000000000000"),
    (1e21, "1e+21"), (1.25e22, "1.25e+22"), (0.1 + 0.2, "0.30000000000000004"), (-0.0, "0"),
    (float("nan"), "null"), (float("inf"), "null"), (np.float32(0.5), "0.5"), (np.int32(7), "7"),
    (float(np.float32(0.1)), "0.10000000149011612"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
    (True, "true"), (None, "null"),
])
def test_numbers_print_as_javascript(value, text):
    # Expected texts are what ECMAScript's Number::toString / JSON.stringify give.
    assert model_json.dumps(value) == text


def test_dumps_strings_and_nesting_as_json_stringify():
    assert model_json.dumps({"a": [1, {"b": "x\"y\n\u00e9"}], "c": []}) == '{"a":[1,{"b":"x\\"y\\n\u00e9"}],"c":[]}'
    with pytest.raises(TypeError, match="cannot write object"):
        model_json.dumps({"a": object()})


# ---------------------------------------------------------------- where it is written

def saved_kernel(folder, name="model.json"):
    model = lm.load_layers_model(os.path.join(folder, name))
    return model.get_weights()[0]


def test_accepts_folder_json_path_url_and_pathlike(tmp_path):
    model = dropout_model()
    kernel = model.get_weights()[0]
    model.save(str(tmp_path / "a"))
    model.save(tmp_path / "b" / "model.json")
    model.save("file://" + str(tmp_path / "c"))
    model.save("file://" + str(tmp_path / "d" / "model.json"))
    lm.save(model, tmp_path / "e" / "deeper")  # parents are created
    for folder in ("a", "b", "c", "d", "e/deeper"):
        assert sorted(os.listdir(tmp_path / folder)) == ["model.json", "weights.bin"]
        np.testing.assert_array_equal(saved_kernel(tmp_path / folder), kernel)
    info = model.save(tmp_path / "f" / "my_model.json")  # another JSON name is kept
    assert sorted(os.listdir(tmp_path / "f")) == ["my_model.json", "weights.bin"]
    assert info["model_json"] == str(tmp_path / "f" / "my_model.json")
    np.testing.assert_array_equal(saved_kernel(tmp_path / "f", "my_model.json"), kernel)


def test_save_result_sizes(tmp_path):
    info = dropout_model().save(tmp_path / "m")
    document = json.loads(read_text(tmp_path / "m"))
    assert info["weight_data_bytes"] == 104
    assert info["model_topology_bytes"] == len(TFJS_TOPOLOGY)
    assert info["weight_specs_bytes"] == len(model_json.dumps(document["weightsManifest"][0]["weights"]))


def test_bad_targets(tmp_path):
    model = dropout_model()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="exists as a file"):
        model.save(tmp_path / "file")
    with pytest.raises(ValueError, match="saves to the file system"):
        model.save("http://example.com/model")
    with pytest.raises(TypeError, match="path must be"):
        model.save(3)
    with pytest.raises(TypeError, match="include_optimizer must be True or False"):
        model.save(tmp_path / "m", include_optimizer="yes")


def test_folder_with_other_files_is_refused_and_untouched(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match=r"holds files that are not a saved model \(notes.txt\)"):
        dropout_model().save(folder)
    assert os.listdir(folder) == ["notes.txt"]
    assert sorted(os.listdir(tmp_path)) == ["shared"]


def test_resave_replaces_previous_model_including_its_shards(tmp_path):
    folder = tmp_path / "m"
    first, second = dropout_model(), dropout_model()
    first.save(folder)
    # Make the previous save a two-shard one, as the Python converter writes.
    data = (folder / "weights.bin").read_bytes()
    (folder / "group1-shard1of2.bin").write_bytes(data[:40])
    (folder / "group1-shard2of2.bin").write_bytes(data[40:])
    os.remove(folder / "weights.bin")
    document = json.loads(read_text(folder))
    document["weightsManifest"][0]["paths"] = ["group1-shard1of2.bin", "./group1-shard2of2.bin"]
    (folder / "model.json").write_text(json.dumps(document))
    second.save(folder)
    assert sorted(os.listdir(folder)) == ["model.json", "weights.bin"]
    np.testing.assert_array_equal(saved_kernel(folder), second.get_weights()[0])
    assert sorted(os.listdir(tmp_path)) == ["m"]


# ---------------------------------------------------------------- atomicity

def fail_on_call(monkeypatch, function_name, call_number):
    original = getattr(save_module, function_name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == call_number:
            if function_name == "_write_file":  # half the bytes reach the disk, then the failure
                with open(args[0], "wb") as handle:
                    handle.write(args[1][: len(args[1]) // 2])
            raise OSError("simulated failure (disk full)")
        return original(*args, **kwargs)

    monkeypatch.setattr(save_module, function_name, failing)


@pytest.mark.parametrize("call_number", [1, 2])
def test_interrupted_save_keeps_previous_model(tmp_path, monkeypatch, call_number):
    folder = tmp_path / "m"
    old, new = dropout_model(), dropout_model()
    old.save(folder)
    before = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    fail_on_call(monkeypatch, "_write_file", call_number)  # 1: weights.bin, 2: model.json
    with pytest.raises(OSError, match="simulated failure"):
        new.save(folder)
    assert {name: (folder / name).read_bytes() for name in os.listdir(folder)} == before
    np.testing.assert_array_equal(saved_kernel(folder), old.get_weights()[0])
    assert sorted(os.listdir(tmp_path)) == ["m"]  # no staging folder left behind


def test_interrupted_first_save_leaves_nothing(tmp_path, monkeypatch):
    fail_on_call(monkeypatch, "_write_file", 2)
    with pytest.raises(OSError, match="simulated failure"):
        dropout_model().save(tmp_path / "m")
    assert os.listdir(tmp_path) == []


def test_unsaveable_model_writes_nothing(tmp_path):
    folder = tmp_path / "m"
    old = dropout_model()
    old.save(folder)
    before = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    model = dropout_model()
    model.compile(optimizer="adamax", loss="meanSquaredError")
    with pytest.raises(NotImplementedError, match="get_weights\\(\\) is not implemented for Adamax yet."):
        model.save(folder, include_optimizer=True)
    model.compile(optimizer="sgd", loss=lambda y_true, y_pred: (y_true - y_pred).abs().mean(-1))
    with pytest.raises(ValueError, match="Serialization of non-string loss is not supported."):
        model.save(folder, include_optimizer=True)
    assert {name: (folder / name).read_bytes() for name in os.listdir(folder)} == before
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_replace_without_atomic_exchange(tmp_path, monkeypatch):
    # Where renameat2 is missing the old folder is moved aside, then removed.
    monkeypatch.setattr(save_module, "_exchange", lambda first, second: False)
    folder = tmp_path / "m"
    dropout_model().save(folder)
    new = dropout_model()
    new.save(folder)
    np.testing.assert_array_equal(saved_kernel(folder), new.get_weights()[0])
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_replace_keeps_folder_permissions(tmp_path):
    folder = tmp_path / "m"
    dropout_model().save(folder)
    os.chmod(folder, 0o750)
    dropout_model().save(folder)
    assert os.stat(folder).st_mode & 0o777 == 0o750


# ---------------------------------------------------------------- Keras file names

@pytest.mark.parametrize("name", ["model.keras", "model.h5", "MODEL.H5", "weights.hdf5"])
def test_keras_file_names_are_refused_with_the_format_lamina_writes(tmp_path, name):
    model = dropout_model()
    for save in (model.save, model.save_weights):
        with pytest.raises(ValueError, match=r"names a Keras file; lamina saves to TensorFlow.js's format, a folder "
                                             r"holding model.json .*tf.loadLayersModel"):
            save(str(tmp_path / name))
    with pytest.raises(ValueError, match=r"names a Keras file; lamina loads from TensorFlow.js's format.*"
                                         r"tensorflowjs_converter"):
        lm.load_layers_model(str(tmp_path / name))
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- save_weights

def test_save_weights_writes_the_tfjs_manifest_and_bin(tmp_path):
    model = dropout_model()
    info = model.save_weights(tmp_path / "w")
    assert sorted(os.listdir(tmp_path / "w")) == ["weights.bin", "weights_manifest.json"]
    assert read_text(tmp_path / "w", "weights_manifest.json") == MANIFEST  # model.json's weightsManifest
    data = (tmp_path / "w" / "weights.bin").read_bytes()
    expected = b"".join(np.ascontiguousarray(w, "<f4").tobytes() for w in model.get_weights())
    assert data == expected and info["weight_data_bytes"] == len(expected)
    assert info["weights_manifest"] == str(tmp_path / "w" / "weights_manifest.json")


def test_save_weights_is_atomic_and_replaces_a_previous_save(tmp_path, monkeypatch):
    folder = tmp_path / "w"
    old, new = dropout_model(), dropout_model()
    old.save_weights(folder)
    before = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    fail_on_call(monkeypatch, "_write_file", 2)
    with pytest.raises(OSError, match="simulated failure"):
        new.save_weights(folder)
    assert {name: (folder / name).read_bytes() for name in os.listdir(folder)} == before
    monkeypatch.undo()
    new.save_weights(folder)
    assert (folder / "weights.bin").read_bytes() == b"".join(w.astype("<f4").tobytes() for w in new.get_weights())
    assert sorted(os.listdir(tmp_path)) == ["w"]
