"""get_config / from_config round trips for every layer, initializer, regularizer, constraint,
optimizer and activation; model.to_json / lm.models.model_from_json; custom layers;
user-defined metadata.

A round trip must give back an object with the same config; the saved forms (class names,
snake_case keys and values) are checked against TF.js's (tfjs_semantics.md §3.1, §6.3, §7).
"""

import json
import warnings

import numpy as np
import pytest

import lamina as lm
from lamina.io import model_json

# ---------------------------------------------------------------- layers

LAYERS = [
    lambda: lm.layers.dense(units=3, activation="relu6", use_bias=False, kernel_initializer="heNormal",
                            kernel_regularizer=lm.regularizers.l1l2(0.1, 0.2), activity_regularizer="l1",
                            kernel_constraint=lm.constraints.min_max_norm(0.5, 2.0, axis=1, rate=0.5), input_shape=[4],
                            name="cfg_dense"),
    lambda: lm.layers.dense(units=2, bias_initializer=lm.initializers.constant(0.5), bias_regularizer="l2",
                            bias_constraint="unitNorm", trainable=False, name="cfg_dense_frozen"),
    lambda: lm.layers.activation("logSoftmax", name="cfg_activation"),
    lambda: lm.layers.dropout(rate=0.3, noise_shape=[None, 1], seed=5, name="cfg_dropout"),
    lambda: lm.layers.flatten(data_format="channels_first", batch_input_shape=[8, 2, 3], name="cfg_flatten"),
    lambda: lm.layers.reshape(target_shape=[2, -1], name="cfg_reshape"),
    lambda: lm.layers.input_layer(batch_input_shape=[None, 5], name="cfg_input"),
]


@pytest.mark.parametrize("make", LAYERS)
def test_layer_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    copy = type(layer).from_config(dict(config, name=config["name"] + "_copy"))
    assert type(copy) is type(layer)
    assert copy.get_config() == dict(config, name=config["name"] + "_copy")
    # Through JSON text, as a saved file holds it.
    text = model_json.dumps(config)
    again = type(layer).from_config(dict(json.loads(text), name=config["name"] + "_json"))
    assert model_json.dumps(dict(again.get_config(), name=config["name"])) == text


def test_dense_saved_config_is_tfjs():
    config = lm.layers.dense(units=32, input_shape=[784], name="cfg_tfjs_dense").get_config()
    # tfjs_observed.md "Dense defaults", in the saved (snake_case) form.
    assert model_json.dumps(config) == (
        '{"units":32,"activation":"linear","use_bias":true,"kernel_initializer":{"class_name":"VarianceScaling",'
        '"config":{"scale":1,"mode":"fan_avg","distribution":"normal","seed":null}},"bias_initializer":'
        '{"class_name":"Zeros","config":{}},"kernel_regularizer":null,"bias_regularizer":null,'
        '"activity_regularizer":null,"kernel_constraint":null,"bias_constraint":null,"name":"cfg_tfjs_dense",'
        '"trainable":true,"batch_input_shape":[null,784],"dtype":"float32"}')


def test_layer_from_camel_case_config_in_a_model():
    text = json.dumps({"className": "Sequential", "config": {"name": "camel", "layers": [
        {"className": "Dense", "config": {"units": 2, "useBias": False, "batchInputShape": [None, 3],
                                          "kernelInitializer": {"className": "RandomUniform",
                                                                "config": {"minval": -1, "maxval": 1, "seed": 3}},
                                          "kernelRegularizer": {"className": "L1L2", "config": {"l1": 0.1, "l2": 0}},
                                          "kernelConstraint": {"className": "MaxNorm",
                                                               "config": {"maxValue": 2, "axis": 0}},
                                          "activation": "hardSigmoid", "name": "camel_dense"}},
        {"className": "Reshape", "config": {"targetShape": [1, 2], "name": "camel_reshape"}},
        {"className": "Flatten", "config": {"dataFormat": "channelsLast", "name": "camel_flat"}}]}})
    model = lm.models.model_from_json(text)
    dense = model.layers[0]
    assert (dense.units, dense.use_bias, dense.activation.name) == (2, False, "hard_sigmoid")
    assert dense.kernel_initializer.get_config() == {"minval": -1, "maxval": 1, "seed": 3}
    assert dense.kernel_regularizer.get_config() == {"l1": 0.1, "l2": 0}
    assert dense.kernel_constraint.get_config() == {"maxValue": 2, "axis": 0}
    assert model.layers[2].data_format == "channels_last" and model.output_shape == [None, 2]


# ---------------------------------------------------------------- initializers, regularizers, constraints

INITIALIZERS = [
    (lm.initializers.zeros(), "Zeros", {}),
    (lm.initializers.ones(), "Ones", {}),
    (lm.initializers.constant(0.25), "Constant", {"value": 0.25}),
    (lm.initializers.random_uniform(-0.5, 0.5, 3), "RandomUniform", {"minval": -0.5, "maxval": 0.5, "seed": 3}),
    (lm.initializers.random_normal(1.0, 2.0, 4), "RandomNormal", {"mean": 1.0, "stddev": 2.0, "seed": 4}),
    (lm.initializers.truncated_normal(0.0, 0.1, 5), "TruncatedNormal", {"mean": 0.0, "stddev": 0.1, "seed": 5}),
    (lm.initializers.identity(2.0), "Identity", {"gain": 2.0}),
    (lm.initializers.variance_scaling(2.0, "fan_out", "uniform", 6), "VarianceScaling",
     {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 6}),
    (lm.initializers.glorot_uniform(7), "VarianceScaling",
     {"scale": 1, "mode": "fan_avg", "distribution": "uniform", "seed": 7}),
    (lm.initializers.glorot_normal(), "VarianceScaling",
     {"scale": 1, "mode": "fan_avg", "distribution": "normal", "seed": None}),
    (lm.initializers.he_normal(), "VarianceScaling", {"scale": 2, "mode": "fan_in", "distribution": "normal",
                                                      "seed": None}),
    (lm.initializers.he_uniform(), "VarianceScaling", {"scale": 2, "mode": "fan_in", "distribution": "uniform",
                                                       "seed": None}),
    (lm.initializers.le_cun_normal(), "VarianceScaling", {"scale": 1, "mode": "fan_in", "distribution": "normal",
                                                          "seed": None}),
    (lm.initializers.le_cun_uniform(), "VarianceScaling", {"scale": 1, "mode": "fan_in",
                                                           "distribution": "uniform", "seed": None}),
    (lm.initializers.orthogonal(1.5, 8), "Orthogonal", {"gain": 1.5, "seed": 8}),
]


@pytest.mark.parametrize("initializer, class_name, saved_config", INITIALIZERS)
def test_initializer_round_trip(initializer, class_name, saved_config):
    saved = lm.initializers.serialize(initializer)
    assert saved == {"class_name": class_name, "config": saved_config}  # TF.js's saved form (§7)
    restored = lm.initializers.get(json.loads(model_json.dumps(saved)))
    assert restored.serialize() == saved
    assert type(initializer).from_config(initializer.get_config()).get_config() == initializer.get_config()
    if saved_config.get("seed") is not None:  # seeded: the restored one draws the same values
        np.testing.assert_array_equal(restored([3, 4]).numpy(), initializer([3, 4]).numpy())


@pytest.mark.parametrize("regularizer, saved_config", [
    (lm.regularizers.l1(0.3), {"l1": 0.3, "l2": 0}),
    (lm.regularizers.l2(), {"l1": 0, "l2": 0.01}),
    (lm.regularizers.l1l2(0.1, 0.2), {"l1": 0.1, "l2": 0.2}),
])
def test_regularizer_round_trip(regularizer, saved_config):
    saved = lm.regularizers.serialize(regularizer)
    assert saved == {"class_name": "L1L2", "config": saved_config}
    restored = lm.regularizers.get(json.loads(model_json.dumps(saved)))
    assert restored == regularizer
    x = lm.tensor([[1.0, -2.0]])
    assert restored(x).item() == regularizer(x).item()


@pytest.mark.parametrize("constraint, class_name, saved_config", [
    (lm.constraints.max_norm(3, 1), "MaxNorm", {"max_value": 3, "axis": 1}),
    (lm.constraints.unit_norm(0), "UnitNorm", {"axis": 0}),
    (lm.constraints.non_neg(), "NonNeg", {}),
    (lm.constraints.min_max_norm(0.5, 2.0, axis=1, rate=0.5), "MinMaxNorm",
     {"min_value": 0.5, "max_value": 2.0, "rate": 0.5, "axis": 1}),
])
def test_constraint_round_trip(constraint, class_name, saved_config):
    saved = lm.constraints.serialize(constraint)
    assert saved == {"class_name": class_name, "config": saved_config}
    restored = lm.constraints.get(json.loads(model_json.dumps(saved)))
    assert restored == constraint
    w = lm.tensor([[3.0, -4.0], [0.5, 0.25]])
    np.testing.assert_array_equal(restored(w).numpy(), constraint(w).numpy())


@pytest.mark.parametrize("name", lm.activations.ACTIVATIONS)
def test_activation_round_trip(name):
    activation = lm.activations.get(name)
    saved = lm.activations.serialize(activation)
    assert saved == lm._serialization.to_snake_case(name) or name == "gelu_new"
    restored = lm.activations.get(saved)
    x = lm.tensor([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    np.testing.assert_array_equal(restored(x).numpy(), activation(x).numpy())
    layer = lm.layers.activation(name, name=f"cfg_act_{saved}")
    assert lm.layers.Activation.from_config(dict(layer.get_config(), name=f"cfg_act2_{saved}")).activation.name == \
        activation.name


# ---------------------------------------------------------------- optimizers

@pytest.mark.parametrize("optimizer, config", [
    (lm.train.sgd(0.1), {"learningRate": 0.1}),
    (lm.train.momentum(0.1, 0.8, True), {"learningRate": 0.1, "momentum": 0.8, "useNesterov": True}),
    (lm.train.adam(0.01, 0.8, 0.99, 1e-6), {"learningRate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6}),
    (lm.train.adamax(0.01, 0.8, 0.99, 1e-6, 0.1),
     {"learningRate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6, "decay": 0.1}),
    (lm.train.rmsprop(0.01, 0.8, 0.5, 1e-6, True),
     {"learningRate": 0.01, "decay": 0.8, "momentum": 0.5, "epsilon": 1e-6, "centered": True}),
    (lm.train.adagrad(0.1, 0.2), {"learningRate": 0.1, "initialAccumulatorValue": 0.2}),
    (lm.train.adadelta(1.0, 0.9, 1e-6), {"learningRate": 1.0, "rho": 0.9, "epsilon": 1e-6}),
])
def test_optimizer_round_trip(optimizer, config):
    assert optimizer.get_config() == config  # TF.js getConfig keys (§3.1)
    saved = json.loads(model_json.dumps({"class_name": optimizer.get_class_name(), "config": config}))
    restored = lm.train.optimizer_from_config(saved["class_name"], saved["config"])
    assert type(restored) is type(optimizer) and restored.get_config() == config
    assert type(optimizer).from_config(config).get_config() == config


# ---------------------------------------------------------------- models

def guide_model():
    return lm.sequential(name="cfg_guide", layers=[
        lm.layers.dense(units=8, input_shape=[6], activation="relu", name="cfg_g1"),
        lm.layers.dropout(rate=0.2, name="cfg_g2"),
        lm.layers.dense(units=3, activation="softmax", kernel_initializer="glorotUniform", name="cfg_g3"),
    ])


def test_to_json_and_model_from_json_round_trip():
    model = guide_model()
    text = model.to_json()
    copy = lm.models.model_from_json(text)
    assert copy.to_json() == text
    assert [layer.name for layer in copy.layers] == ["cfg_g1", "cfg_g2", "cfg_g3"]
    assert [w.shape for w in copy.weights] == [w.shape for w in model.weights]
    assert not np.array_equal(copy.get_weights()[0], model.get_weights()[0])  # new weights, as TF.js
    # A whole model.json document works too, and so does a parsed dict.
    document = {"modelTopology": json.loads(text), "weightsManifest": []}
    assert lm.models.model_from_json(json.dumps(document)).to_json() == text
    assert lm.models.model_from_json(json.loads(text)).to_json() == text


def test_sequential_get_config_from_config():
    model = guide_model()
    config = model.get_config()
    assert list(config) == ["name", "layers"]
    assert [entry["class_name"] for entry in config["layers"]] == ["Dense", "Dropout", "Dense"]
    copy = lm.Sequential.from_config(config)
    assert copy.get_config() == config
    assert lm.Sequential.from_config(config["layers"]).get_config()["layers"] == config["layers"]  # legacy list


def test_model_from_json_errors():
    with pytest.raises(ValueError, match="model_from_json: malformed JSON"):
        lm.models.model_from_json("{")
    with pytest.raises(TypeError, match="json_text must be a JSON string or a dict"):
        lm.models.model_from_json(3)
    with pytest.raises(ValueError, match="(?s)Unknown layer: NotRegisteredHere.*lm.layers.register_class"):
        lm.models.model_from_json({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "NotRegisteredHere", "config": {"name": "x"}}]}})


def test_custom_layer_registration_and_json():
    class Shift(lm.layers.Layer):
        def __init__(self, amount=1.0, **kwargs):
            super().__init__(**kwargs)
            self.amount = amount

        def call(self, inputs, training=False):
            return inputs + self.amount

        def get_config(self):
            return {"amount": self.amount, **super().get_config()}

    model = lm.sequential(layers=[Shift(amount=2.5, input_shape=[2], name="cfg_shift")])
    text = model.to_json()
    assert '{"class_name":"Shift","config":{"amount":2.5,"name":"cfg_shift","trainable":true,' \
           '"batch_input_shape":[null,2],"dtype":"float32"}}' in text
    with pytest.raises(ValueError, match="Unknown layer: Shift"):
        lm.models.model_from_json(text)
    lm.layers.register_class(Shift)
    copy = lm.models.model_from_json(text)
    assert copy.predict([[1.0, 2.0]]).array() == [[3.5, 4.5]]


# ---------------------------------------------------------------- user-defined metadata

def test_user_defined_metadata_checks():
    model = guide_model()
    assert model.get_user_defined_metadata() is None
    with pytest.raises(ValueError, match="User-defined metadata is expected to be a JSON object, but is not."):
        model.set_user_defined_metadata(["a"])
    with pytest.raises(ValueError, match="expected to be a JSON object"):
        model.set_user_defined_metadata({"f": object()})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.set_user_defined_metadata({"big": "x" * (1024 * 1024)})
    assert any('User-defined metadata of model "cfg_guide" is too large' in str(w.message) for w in caught)
    model.set_user_defined_metadata({"ok": [1, 2.5, None, True]})
    assert model.get_user_defined_metadata() == {"ok": [1, 2.5, None, True]}
