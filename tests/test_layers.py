"""lm.layers: names, weights, configs, the built-in layers' maths and a user-defined layer.

Oracles: numpy computed by hand, TF.js's documented names/configs (tfjs_semantics.md §4,
§6.3, §7; tfjs_observed.md), and the glorotNormal statistics TF.js reports.
"""

import re

import numpy as np
import pytest

import lamina as lm
from lamina.layers import Dense, Dropout, Layer, LayerWeight, get_class, register_class


def _counter(name, prefix):
    match = re.fullmatch(re.escape(prefix) + r"(\d+)", name)
    assert match, f"{name!r} does not look like {prefix}<n>"
    return int(match.group(1))


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("factory, args, prefix", [
    (lm.layers.dense, {"units": 1}, "dense_Dense"),
    (lm.layers.dropout, {"rate": 0.5}, "dropout_Dropout"),
    (lm.layers.flatten, {}, "flatten_Flatten"),
    (lm.layers.activation, {"activation": "relu"}, "activation_Activation"),
    (lm.layers.reshape, {"target_shape": [2]}, "reshape_Reshape"),
])
def test_unnamed_layers_take_the_next_number_of_their_class(factory, args, prefix):
    first = _counter(factory(**args).name, prefix)
    factory(name="explicit_names_do_not_count", **args)
    assert _counter(factory(**args).name, prefix) == first + 1


def test_input_layer_names_are_input_n():
    first = _counter(lm.layers.input_layer(input_shape=[2]).name, "input")
    assert _counter(lm.layers.input_layer(input_shape=[2]).name, "input") == first + 1


def test_user_layer_is_named_after_its_class():
    class MyFancyLayer(Layer):
        pass

    layer = MyFancyLayer()
    assert layer.class_name == "MyFancyLayer"
    _counter(layer.name, "my_fancy_layer_MyFancyLayer")


def test_dense_weights_are_kernel_then_bias_under_the_layer_name():
    layer = lm.layers.dense(units=32, input_shape=[784])
    layer.build([None, 784])
    assert [(w.name, w.shape, w.dtype, w.trainable) for w in layer.weights] == [
        (f"{layer.name}/kernel", [784, 32], "float32", True),
        (f"{layer.name}/bias", [32], "float32", True)]
    assert all(w.val.name == w.name and w.read() is w.val for w in layer.weights)
    assert layer.count_params() == 25120


def test_a_second_layer_with_the_same_name_gets_suffixed_weight_names():
    first = lm.layers.dense(units=2, name="twin")
    second = lm.layers.dense(units=2, name="twin")
    third = lm.layers.dense(units=2, name="twin")
    for layer in (first, second, third):
        layer.build([None, 3])
    assert [w.name for w in first.weights] == ["twin/kernel", "twin/bias"]
    assert [w.name for w in second.weights] == ["twin/kernel_1", "twin/bias_1"]
    assert [w.name for w in third.weights] == ["twin/kernel_2", "twin/bias_2"]
    assert {w.original_name for w in third.weights} == {"twin/kernel", "twin/bias"}


def test_a_weight_name_taken_by_a_hand_made_variable_is_skipped():
    taken = lm.variable(lm.zeros([1]), name="handmade/kernel")  # noqa: F841 - must stay alive
    layer = lm.layers.dense(units=1, name="handmade")
    layer.build([None, 1])
    assert layer.weights[0].name == "handmade/kernel_1"
    assert layer.weights[0].original_name == "handmade/kernel"


def test_invalid_weight_names_are_refused():
    with pytest.raises(ValueError, match="Not a valid tensor name: 'my layer/kernel'"):
        lm.layers.dense(units=1, name="my layer").build([None, 2])


def test_duplicate_weight_name_in_one_layer():
    layer = Layer(name="dup_owner")
    layer.add_weight("w", [1])
    with pytest.raises(ValueError, match="Duplicate weight name w for layer dup_owner"):
        layer.add_weight("w", [1])


# ---------------------------------------------------------------- Dense

def _set_dense(layer, kernel, bias=None):
    layer.build([None, np.shape(kernel)[0]])
    layer.set_weights([kernel] if bias is None else [kernel, bias])


@pytest.mark.parametrize("activation, oracle", [
    (None, lambda z: z),
    ("relu", lambda z: np.maximum(z, 0)),                                   # fused kernel
    ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),                            # fused kernel
    ("tanh", np.tanh),                                                      # matmul + add + tanh
    ("softmax", lambda z: np.exp(z) / np.exp(z).sum(-1, keepdims=True)),
])
def test_dense_computes_activation_of_x_kernel_plus_bias(activation, oracle, rng):
    x = rng.standard_normal((5, 3)).astype(np.float32)
    kernel = rng.standard_normal((3, 4)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    layer = lm.layers.dense(units=4, activation=activation)
    _set_dense(layer, kernel, bias)
    expected = oracle(x.astype(np.float64) @ kernel + bias)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_dense_multiplies_higher_rank_inputs_on_the_last_axis(rng):
    x = rng.standard_normal((2, 3, 5)).astype(np.float32)
    kernel = rng.standard_normal((5, 4)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    for activation, oracle in [("relu", lambda z: np.maximum(z, 0)), ("tanh", np.tanh)]:
        layer = lm.layers.dense(units=4, activation=activation)
        _set_dense(layer, kernel, bias)
        y = layer(x)
        assert y.shape == [2, 3, 4]
        np.testing.assert_allclose(y.numpy(), oracle(np.einsum("abk,kn->abn", x, kernel) + bias), rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape([None, 3, 5]) == [None, 3, 4]


def test_dense_without_bias_has_only_a_kernel(rng):
    layer = lm.layers.dense(units=2, use_bias=False)
    kernel = rng.standard_normal((3, 2)).astype(np.float32)
    _set_dense(layer, kernel)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    assert [w.name.rsplit("/", 1)[1] for w in layer.weights] == ["kernel"]
    np.testing.assert_allclose(layer(x).numpy(), x @ kernel, rtol=1e-5, atol=1e-6)


def test_dense_gradients_match_the_hand_derivation(rng):
    # loss = sum(relu(xW + b)^2): dW = x^T (2y * [z > 0]), db = sum over rows of the same.
    x = rng.standard_normal((6, 3)).astype(np.float32)
    kernel = rng.standard_normal((3, 4)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    layer = lm.layers.dense(units=4, activation="relu")
    _set_dense(layer, kernel, bias)
    grads = lm.variable_grads(lambda: lm.sum(lm.square(layer(x))))["grads"]
    z = x.astype(np.float64) @ kernel + bias
    dz = 2 * np.maximum(z, 0) * (z > 0)
    np.testing.assert_allclose(grads[layer.kernel.name].numpy(), x.T @ dz, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grads[layer.bias.name].numpy(), dz.sum(0), rtol=1e-4, atol=1e-5)


def test_dense_default_kernel_is_tfjs_glorot_normal_and_bias_zeros():
    # tfjs_observed.md: a 784x32 kernel lies within ±2σ, σ = sqrt(2/(784+32)) = 0.0495, and
    # its variance is σ²·0.774 (a normal truncated at 2σ, no variance correction).
    lm.set_seed(3)
    layer = lm.layers.dense(units=32, input_shape=[784])
    layer.build([None, 784])
    kernel, bias = layer.get_weights()
    sigma = np.sqrt(2 / (784 + 32))
    assert np.abs(kernel).max() <= 2 * sigma * (1 + 1e-6)
    assert np.abs(kernel).max() > 1.95 * sigma
    assert kernel.var() == pytest.approx(sigma ** 2 * 0.774, rel=0.03)
    assert abs(kernel.mean()) < 0.003
    assert not bias.any()


def test_set_seed_makes_initialisation_reproducible():
    def kernel():
        layer = lm.layers.dense(units=3)
        layer.build([None, 4])
        return layer.get_weights()[0]

    lm.set_seed(11)
    first = kernel()
    lm.set_seed(11)
    np.testing.assert_array_equal(kernel(), first)


def test_dense_input_dim_declares_the_input():
    assert lm.layers.dense(units=2, input_dim=5).batch_input_shape == [None, 5]


def test_dense_checks_its_input():
    layer = lm.layers.dense(units=2, name="checked")
    with pytest.raises(ValueError, match="Input 0 is incompatible with layer checked: expected min_ndim=2, found ndim=1"):
        layer(lm.ones([3]))
    layer(lm.ones([1, 3]))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 3 but got shape \[1, 4\]"):
        layer(lm.ones([1, 4]))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"units": -3}, ValueError, "Expected units to be a positive integer, but got -3."),
    ({"units": 0}, ValueError, "but got 0"),
    ({"units": 2.5}, ValueError, "but got 2.5"),
    ({"units": "3"}, ValueError, "but got '3'"),
    ({"units": 2, "use_bias": "yes"}, TypeError, "use_bias must be True or False, got 'yes'"),
    ({"units": 2, "activation": "foo"}, ValueError, "Unknown activation: foo"),
    ({"units": 2, "input_shape": [-1]}, ValueError, r"input_shape must be a list of ints >= 0 .*got \[-1\]"),
    ({"units": 2, "input_shape": "784"}, TypeError, "input_shape must be a list of ints"),
    ({"units": 2, "trainable": "no"}, TypeError, "trainable must be a bool, got 'no'"),
])
def test_dense_argument_errors_quote_what_was_given(kwargs, error, message):
    with pytest.raises(error, match=message):
        lm.layers.dense(**kwargs)


@pytest.mark.parametrize("make", [lambda: lm.layers.dense(units=2, input_shape=[None, 4]),
                                  lambda: lm.layers.flatten(input_shape=(None, 4)),
                                  lambda: lm.layers.input_layer(input_shape=[None, 4])])
def test_input_shape_with_a_batch_axis_says_it_excludes_it(make):
    with pytest.raises(ValueError, match=re.escape(
            "input_shape excludes the batch axis, got input_shape=[None, 4]: use batch_input_shape=[None, 4] "
            "or input_shape=[4]")):
        make()
    # Both fixes the message gives work and mean the same.
    assert lm.layers.dense(units=2, batch_input_shape=[None, 4]).batch_input_shape == [None, 4]
    assert lm.layers.dense(units=2, input_shape=[4]).batch_input_shape == [None, 4]


# ---------------------------------------------------------------- configs

def test_dense_config_has_tfjs_keys_in_tfjs_order():
    config = lm.layers.dense(units=4, input_shape=[3], activation="relu", name="cfg_dense").get_config()
    assert list(config) == ["units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
                            "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                            "bias_constraint", "name", "trainable", "batch_input_shape", "dtype"]
    # tfjs_semantics.md §6.6, the saved form of this very layer
    assert config == {
        "units": 4, "activation": "relu", "use_bias": True,
        "kernel_initializer": {"class_name": "VarianceScaling",
                               "config": {"scale": 1, "mode": "fan_avg", "distribution": "normal", "seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None,
        "name": "cfg_dense", "trainable": True, "batch_input_shape": [None, 3], "dtype": "float32"}


def test_layers_without_declared_input_omit_batch_input_shape_and_dtype():
    assert lm.layers.dense(units=2, name="cfg_plain").get_config()["activation"] == "linear"
    assert list(lm.layers.dense(units=2, name="cfg_plain2").get_config())[-2:] == ["name", "trainable"]
    assert lm.layers.dropout(rate=0.5, name="cfg_drop").get_config() == {
        "rate": 0.5, "noise_shape": None, "seed": None, "name": "cfg_drop", "trainable": True}


def test_other_layer_configs():
    assert lm.layers.activation("sigmoid", name="cfg_act").get_config() == {
        "activation": "sigmoid", "name": "cfg_act", "trainable": True}
    assert lm.layers.flatten(name="cfg_flat").get_config() == {"data_format": None, "name": "cfg_flat",
                                                               "trainable": True}
    assert lm.layers.reshape([2, -1], name="cfg_reshape").get_config() == {
        "target_shape": [2, None], "name": "cfg_reshape", "trainable": True}
    assert lm.layers.input_layer(batch_input_shape=[8, 3], name="cfg_in").get_config() == {
        "batch_input_shape": [8, 3], "dtype": "float32", "sparse": False, "name": "cfg_in"}


@pytest.mark.parametrize("make", [
    lambda: lm.layers.dense(units=3, activation="tanh", use_bias=False, input_shape=[5], name="rt_dense"),
    lambda: lm.layers.dropout(rate=0.25, noise_shape=[None, 1], seed=4, name="rt_dropout"),
    lambda: lm.layers.activation("softmax", name="rt_act"),
    lambda: lm.layers.flatten(data_format="channelsFirst", name="rt_flatten"),
    lambda: lm.layers.reshape(target_shape=[3, -1], name="rt_reshape"),
    lambda: lm.layers.input_layer(input_shape=[7], name="rt_input"),
])
def test_from_config_rebuilds_an_equal_layer(make):
    layer = make()
    config = layer.get_config()
    copy = get_class(layer.class_name).from_config(config)
    assert type(copy) is type(layer)
    assert copy.get_config() == config


def test_registry():
    @register_class
    class Doubler(Layer):
        def call(self, inputs, training=False):
            return inputs * 2

    assert get_class("Doubler") is Doubler
    assert get_class("Dense") is Dense
    with pytest.raises(ValueError, match="Unknown layer: NoSuchLayer"):
        get_class("NoSuchLayer")
    with pytest.raises(TypeError, match="expects a Layer subclass"):
        register_class(int)


# ---------------------------------------------------------------- weights API

def test_get_and_set_weights_round_trip_and_check_shapes():
    layer = lm.layers.dense(units=2, name="weights_api")
    layer.build([None, 3])
    kernel = np.arange(6, dtype=np.float32).reshape(3, 2)
    layer.set_weights([kernel, np.array([1, 2], np.float32)])
    got = layer.get_weights()
    np.testing.assert_array_equal(got[0], kernel)
    got[0][0, 0] = 100  # a copy: the weight is unchanged
    assert layer.get_weights()[0][0, 0] == 0
    with pytest.raises(ValueError, match='on layer "weights_api" with a weight list of length 1, but the layer '
                                         "was expecting 2 weights"):
        layer.set_weights([kernel])
    with pytest.raises(ValueError, match=r"Layer weight shape \[2\] not compatible with provided weight shape \[3\]"):
        layer.set_weights([kernel, np.zeros(3, np.float32)])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)  # nothing written by a failed call


def test_count_params_before_build_is_an_error():
    with pytest.raises(RuntimeError, match="You tried to call count_params\\(\\) on unbuilt, but the layer is not built"):
        lm.layers.dense(units=2, name="unbuilt").count_params()


def test_input_and_output_shapes_after_build():
    layer = lm.layers.dense(units=32, input_shape=[784])
    with pytest.raises(AttributeError, match="has never been called"):
        layer.output_shape  # noqa: B018
    layer.build(layer.batch_input_shape)
    assert layer.built and layer.input_shape == [None, 784] and layer.output_shape == [None, 32]
    flatten = lm.layers.flatten()
    flatten(lm.zeros([2, 3, 4]))
    assert flatten.input_shape == [None, 3, 4] and flatten.output_shape == [None, 12]


def test_a_frozen_layer_has_no_trainable_weights_and_gets_no_gradient():
    layer = lm.layers.dense(units=2, trainable=False)
    layer.build([None, 3])
    assert layer.trainable_weights == []
    assert [w.name for w in layer.non_trainable_weights] == [w.name for w in layer.weights]
    assert not any(w.val.trainable for w in layer.weights)
    with pytest.raises(ValueError, match="Cannot find a connection"):
        lm.variable_grads(lambda: lm.sum(layer(lm.ones([1, 3]))))
    layer.trainable = True
    assert len(layer.trainable_weights) == 2
    with pytest.raises(TypeError, match="trainable must be a bool, got 'no'"):
        layer.trainable = "no"
    assert set(lm.variable_grads(lambda: lm.sum(layer(lm.ones([1, 3]))))["grads"]) == {w.name for w in layer.weights}


def test_non_trainable_weights_come_after_trainable_ones():
    class Counter(Layer):
        def build(self, input_shape):
            self.seen = self.add_weight("seen", [], initializer="zeros", trainable=False)
            self.w = self.add_weight("w", [input_shape[-1]], initializer="ones")

    layer = Counter(name="order_check")
    layer(lm.ones([1, 2]))
    assert [w.name for w in layer.weights] == ["order_check/w", "order_check/seen"]


# ---------------------------------------------------------------- regularizers and constraints

def test_weight_regularizers_give_losses_from_current_values():
    layer = lm.layers.dense(units=2, kernel_regularizer="l2", bias_regularizer="l1")
    layer.build([None, 3])
    kernel = np.arange(-3, 3, dtype=np.float32).reshape(3, 2)
    bias = np.array([-1.5, 2.0], np.float32)
    layer.set_weights([kernel, bias])
    losses = layer.regularization_losses()
    assert [t.rank for t in losses] == [0, 0]
    assert losses[0].item() == pytest.approx(0.01 * np.sum(kernel ** 2))
    assert losses[1].item() == pytest.approx(0.01 * np.sum(np.abs(bias)))
    # on the tape: d(0.01 Σ W²)/dW = 0.02 W
    grads = lm.variable_grads(lambda: layer.regularization_losses()[0])["grads"]
    np.testing.assert_allclose(grads[layer.kernel.name].numpy(), 0.02 * kernel, rtol=1e-6)


def test_activity_regularizer_penalises_the_last_output():
    layer = lm.layers.dense(units=2, activity_regularizer="l1", kernel_initializer="ones")
    assert layer.regularization_losses() == []
    y = layer(lm.tensor([[1.0, -3.0], [0.5, 0.5]]))
    assert layer.regularization_losses()[0].item() == pytest.approx(0.01 * np.abs(y.numpy()).sum())


def test_constraints_are_applied_by_apply_constraint_write_and_set_weights():
    layer = lm.layers.dense(units=2, kernel_constraint="nonNeg")
    layer.build([None, 2])
    kernel = layer.kernel
    kernel.val.assign(lm.tensor([[-1.0, 2.0], [3.0, -4.0]]))  # what an optimizer update does
    kernel.apply_constraint()
    np.testing.assert_array_equal(kernel.val.numpy(), [[0, 2], [3, 0]])
    kernel.write(lm.tensor([[-5.0, 1.0], [1.0, 1.0]]))
    np.testing.assert_array_equal(kernel.val.numpy(), [[0, 1], [1, 1]])
    layer.set_weights([np.full((2, 2), -1, np.float32), np.array([-1, -1], np.float32)])
    np.testing.assert_array_equal(layer.get_weights()[0], np.zeros((2, 2)))
    np.testing.assert_array_equal(layer.get_weights()[1], [-1, -1])  # the bias has no constraint


def test_layer_weight_write_checks_the_shape():
    weight = LayerWeight(lm.zeros([2, 2]), name="write_check/w")
    with pytest.raises(ValueError, match=r"Shape mismatch: \[2, 2\] vs. \[4\]"):
        weight.write(lm.zeros([4]))


# ---------------------------------------------------------------- Dropout

def test_dropout_is_identity_unless_training():
    layer = lm.layers.dropout(rate=0.5)
    x = lm.ones([4, 5])
    assert layer(x).array() == x.array()
    assert layer(x, training=False).array() == x.array()


def test_dropout_in_training_zeroes_about_rate_and_scales_the_rest():
    layer = lm.layers.dropout(rate=0.25)
    y = layer(lm.ones([200, 50]), training=True).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert (y == 0).mean() == pytest.approx(0.25, abs=0.02)


@pytest.mark.parametrize("rate", [0, 1])
def test_dropout_rates_zero_and_one_are_identity_even_in_training(rate):
    # TF.js applies dropout only when 0 < rate < 1.
    assert lm.layers.dropout(rate=rate)(lm.ones([2, 3]), training=True).array() == [[1.0] * 3] * 2


def test_dropout_seed_and_noise_shape():
    layer = lm.layers.dropout(rate=0.5, seed=7, noise_shape=[None, 1])
    a = layer(lm.ones([30, 4]), training=True).numpy()
    b = layer(lm.ones([30, 4]), training=True).numpy()
    np.testing.assert_array_equal(a, b)  # a seeded layer draws the same mask each call
    assert all(len(set(row)) == 1 for row in a)  # one draw per row, shared along axis 1
    assert {0.0, 2.0} == set(np.unique(a))


def test_dropout_gradient_is_the_mask_over_keep_prob():
    layer = lm.layers.dropout(rate=0.5, seed=3)
    x = lm.variable(lm.ones([4, 6]), name="dropout_grad_x")
    grads = lm.variable_grads(lambda: lm.sum(layer(x, training=True)), var_list=[x])["grads"]
    mask = layer(lm.ones([4, 6]), training=True).numpy()
    np.testing.assert_array_equal(grads["dropout_grad_x"].numpy(), mask)


@pytest.mark.parametrize("rate", [-0.1, 1.5, "0.5", True])
def test_dropout_rate_errors(rate):
    with pytest.raises(ValueError, match=re.escape(f"rate must be a number in [0, 1], got {rate!r}")):
        Dropout(rate)


# ---------------------------------------------------------------- Flatten, Reshape, Activation, InputLayer

def test_flatten(rng):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(lm.layers.flatten()(x).numpy(), x.reshape(2, 60))
    channels_first = lm.layers.flatten(data_format="channels_first")(x).numpy()
    np.testing.assert_array_equal(channels_first, x.transpose(0, 2, 3, 1).reshape(2, 60))


def test_flatten_needs_rank_3_and_a_known_shape():
    with pytest.raises(ValueError, match="expected min_ndim=3, found ndim=2"):
        lm.layers.flatten()(lm.ones([2, 3]))
    with pytest.raises(ValueError, match=r'The shape of the input to "Flatten" is not fully defined \(got \[None, 3\]\)'):
        lm.layers.flatten().compute_output_shape([None, None, 3])
    with pytest.raises(ValueError, match="data_format must be"):
        lm.layers.flatten(data_format="nchw")


def test_reshape(rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_array_equal(lm.layers.reshape([3, 2])(x).numpy(), x.reshape(4, 3, 2))
    np.testing.assert_array_equal(lm.layers.reshape([-1, 3])(x).numpy(), x.reshape(4, 2, 3))
    assert lm.layers.reshape([-1, 3]).compute_output_shape([None, 6]) == [None, 2, 3]
    assert lm.layers.reshape([-1, 3]).compute_output_shape([None, None]) == [None, None, 3]


def test_reshape_errors():
    with pytest.raises(ValueError, match="Total size of new array must be unchanged"):
        lm.layers.reshape([4])(lm.ones([2, 6]))
    with pytest.raises(ValueError, match="Total size of new array must be unchanged"):
        lm.layers.reshape([-1, 4])(lm.ones([2, 6]))
    with pytest.raises(ValueError, match=r"only one unknown dimension \(-1\), got \[-1, -1\]"):
        lm.layers.reshape([-1, -1])
    with pytest.raises(TypeError, match="target_shape must be a list"):
        lm.layers.reshape(6)


def test_activation_layer_matches_numpy(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(lm.layers.activation("tanh")(x).numpy(), np.tanh(x), rtol=1e-6)
    z = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(lm.layers.activation("softmax")(x).numpy(), z / z.sum(1, keepdims=True), rtol=1e-5)


def test_input_layer():
    layer = lm.layers.input_layer(input_shape=[784], name="in_check")
    assert layer.batch_input_shape == [None, 784] and layer.output_shape == [None, 784]
    assert layer.built and not layer.trainable and layer.weights == [] and layer.count_params() == 0
    with pytest.raises(ValueError, match="Cannot pass any input to an InputLayer's apply\\(\\) method. InputLayer name: in_check"):
        layer(lm.ones([1, 784]))
    with pytest.raises(ValueError, match="Only provide the input_shape OR batch_input_shape"):
        lm.layers.input_layer(input_shape=[3], batch_input_shape=[None, 3])


# ---------------------------------------------------------------- user-defined layers

class Linear(Layer):
    """y = x·w + b, written the way a user would."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight("w", [input_shape[-1], self.units], initializer="zeros")
        self.b = self.add_weight("b", [self.units], initializer="zeros")

    def call(self, inputs, training=False):
        return lm.matmul(inputs, self.w.read()) + self.b.read()

    def compute_output_shape(self, input_shape):
        return input_shape[:-1] + [self.units]

    def get_config(self):
        return {"units": self.units, **super().get_config()}


def test_a_user_layer_trains_through_an_optimizer(rng):
    x = rng.standard_normal((64, 3)).astype(np.float32)
    true_w = np.array([[1.0], [-2.0], [0.5]], np.float32)
    y = x @ true_w + 0.3
    layer = Linear(1, name="user_linear")
    layer(x)  # builds
    optimizer = lm.train.sgd(0.1)
    var_list = [w.val for w in layer.trainable_weights]
    for _ in range(200):
        optimizer.minimize(lambda: lm.mean(lm.square(layer(x) - y)), var_list=var_list)
    np.testing.assert_allclose(layer.w.val.numpy(), true_w, atol=1e-3)
    np.testing.assert_allclose(layer.b.val.numpy(), [0.3], atol=1e-3)
    assert layer.output_shape == [None, 1]
    assert Linear.from_config(layer.get_config() | {"name": "user_linear_copy"}).units == 1


def test_a_user_layer_gets_variable_grads_for_its_weights(rng):
    x = rng.standard_normal((5, 2)).astype(np.float32)
    layer = Linear(3)
    layer(x)
    layer.set_weights([rng.standard_normal((2, 3)).astype(np.float32), np.zeros(3, np.float32)])
    grads = lm.variable_grads(lambda: lm.sum(layer(x)))["grads"]
    np.testing.assert_allclose(grads[layer.w.name].numpy(), np.repeat(x.sum(0)[:, None], 3, 1), rtol=1e-5)
    np.testing.assert_allclose(grads[layer.b.name].numpy(), [5, 5, 5])


def test_call_without_a_training_parameter_is_accepted():
    class PlusOne(Layer):
        def call(self, inputs):
            return inputs + 1

    assert PlusOne()(lm.zeros([1, 2]), training=True).array() == [[1.0, 1.0]]


def test_build_runs_once_and_records_shapes_when_called_directly():
    calls = []

    class Recorder(Layer):
        def build(self, input_shape):
            calls.append(input_shape)

    layer = Recorder(input_shape=[4])
    layer.build(layer.batch_input_shape)
    assert layer.built and layer.input_shape == [None, 4] and layer.output_shape == [None, 4]
    layer(lm.zeros([2, 4]))
    layer(lm.zeros([3, 4]))
    assert calls == [[None, 4]]


def test_layer_accepts_numpy_and_lists():
    layer = lm.layers.dense(units=1, kernel_initializer="ones")
    assert layer([[1.0, 2.0]]).array() == [[3.0]]
    assert layer(np.array([[1.0, 1.0]])).array() == [[2.0]]
    with pytest.raises(TypeError, match="inputs must be a Tensor"):
        layer("x")
