"""lamina.activations (the Layers activation objects): values against numpy formulas,
gradients against finite differences and TF.js's Layers rules at the kinks, names in both
spellings, saved names, fused-kernel names, resolution of every identifier form, errors."""

import math

import numpy as np
import pytest

import lamina as lm
from lamina import activations
from gradcheck import check_gradients

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717

# Away from every kink (0; 6 for relu6; ±2.5 for hard_sigmoid) by more than a difference step.
X = np.array([[-3.1, -1.2, -0.35, 0.4], [1.7, 2.2, 6.8, -7.5]], np.float32)

erf = np.vectorize(math.erf)


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def softplus(v):
    return np.logaddexp(0, v)


def softmax(v, axis=-1):
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


REFERENCES = {
    "elu": lambda v: np.where(v >= 0, v, np.expm1(v)),
    "selu": lambda v: SELU_SCALE * np.where(v > 0, v, SELU_ALPHA * np.expm1(v)),
    "relu": lambda v: np.maximum(v, 0),
    "relu6": lambda v: np.clip(v, 0, 6),
    "linear": lambda v: v,
    "sigmoid": sigmoid,
    "hardSigmoid": lambda v: np.clip(0.2 * v + 0.5, 0, 1),
    "softplus": softplus,
    "softsign": lambda v: v / (1 + np.abs(v)),
    "tanh": np.tanh,
    "softmax": softmax,
    "logSoftmax": lambda v: np.log(softmax(v)),
    "swish": lambda v: v * sigmoid(v),
    "gelu": lambda v: v * 0.5 * (1 + erf(v / math.sqrt(2))),
    "gelu_new": lambda v: 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3))),
    "mish": lambda v: v * np.tanh(softplus(v)),
}

SAVED_NAMES = {"hardSigmoid": "hard_sigmoid", "logSoftmax": "log_softmax"}
FUSED = {"linear": "linear", "relu": "relu", "relu6": "relu6", "elu": "elu", "sigmoid": "sigmoid"}


def test_every_tfjs_activation_is_covered():
    assert sorted(activations.ACTIVATIONS) == sorted(REFERENCES)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_values_match_numpy(name):
    out = activations.get(name)(lm.tensor(X))
    assert out.shape == [2, 4] and out.dtype == "float32"
    np.testing.assert_allclose(out.numpy(), REFERENCES[name](X.astype(np.float64)), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(set(REFERENCES) - {"linear"}))
def test_gradients_match_finite_differences(name):
    act = activations.get(name)
    check_gradients(lambda x: act(x), X)


def test_linear_passes_the_tensor_through():
    x = lm.tensor(X)
    assert activations.get("linear")(x) is x
    assert activations.get(None)([1.0, 2.0]).array() == [1.0, 2.0]


def grad_at(name, points):
    x = lm.tensor(np.asarray(points, np.float32))
    return lm.grad(lambda t: activations.get(name)(t))(x).numpy()


def test_kink_gradients_are_tfjs_layers():
    # relu: step(x) is 0 at 0.
    np.testing.assert_array_equal(grad_at("relu", [0.0, 1.0]), [0, 1])
    # relu6 = minimum(6, relu(x)): minimum sends the gradient to 6 when they are equal, so 0
    # at x = 6 (the Core op lm.relu6 uses 1 there); 0 at x = 0.
    np.testing.assert_array_equal(grad_at("relu6", [0.0, 3.0, 6.0, 7.0]), [0, 1, 0, 0])
    # hard_sigmoid = clipByValue(0.2x + 0.5, 0, 1): bounds included.
    np.testing.assert_allclose(grad_at("hardSigmoid", [-2.6, -2.5, 0.0, 2.5, 2.6]), [0, 0.2, 0.2, 0.2, 0])
    # elu'(0) = 1: TF.js's EluGrad is dy·(y + 1) where y <= 0.
    np.testing.assert_array_equal(grad_at("elu", [0.0]), [1])
    # softsign: 1 / (1 + |x|)² is 1 at 0.
    np.testing.assert_array_equal(grad_at("softsign", [0.0]), [1])


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_names_resolve_in_both_spellings_and_save_snake_case(name):
    act = activations.get(name)
    saved = SAVED_NAMES.get(name, name)
    assert act.name == saved
    assert act.serialize() == saved and activations.serialize(name) == saved
    assert act.get_class_name() == name  # TF.js's className
    again = activations.get(saved)
    assert type(again) is type(act)
    camel = "".join(p.capitalize() if i else p for i, p in enumerate(saved.split("_")))
    assert type(activations.get(camel)) is type(act)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_kernel_names_are_the_fusable_ones(name):
    assert activations.get(name).kernel == FUSED.get(name)


@pytest.mark.parametrize("name", sorted(FUSED))
def test_kernel_name_gives_the_same_values_through_fused_mat_mul(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    act = activations.get(name)
    fused = lm.fused.mat_mul(lm.tensor(x), lm.tensor(w), bias=lm.tensor(b), activation=act.kernel)
    composed = act(lm.add(lm.matmul(lm.tensor(x), lm.tensor(w)), lm.tensor(b)))
    np.testing.assert_allclose(fused.numpy(), composed.numpy(), rtol=1e-5, atol=1e-6)


def test_softmax_and_log_softmax_take_an_axis():
    out = activations.get("softmax")(lm.tensor(X), axis=0).numpy()
    np.testing.assert_allclose(out, softmax(X.astype(np.float64), axis=0), rtol=1e-6)
    out = activations.get("log_softmax")(lm.tensor(X), axis=0).numpy()
    np.testing.assert_allclose(out, np.log(softmax(X.astype(np.float64), axis=0)), rtol=1e-5, atol=1e-7)


def test_other_identifier_forms():
    relu = activations.get("relu")
    assert activations.get(relu) is relu
    assert activations.get(None).name == "linear" and activations.get(None).kernel == "linear"
    assert type(activations.get({"class_name": "hard_sigmoid", "config": {}})) is type(activations.get("hardSigmoid"))
    assert activations.get({"className": "relu", "config": {}}).name == "relu"
    assert activations.get("tanh") == activations.get("tanh")


def test_a_function_is_wrapped_as_an_activation():
    def cube(x):
        return lm.mul(x, lm.mul(x, x))

    act = activations.get(cube)
    assert act.name == "cube" and act.kernel is None and act.serialize() == "cube"
    assert act(lm.tensor([2.0])).array() == [8.0]
    np.testing.assert_allclose(lm.grad(act)(lm.tensor([2.0])).numpy(), [12.0])


def test_unknown_name_gives_tfjs_message():
    with pytest.raises(ValueError) as info:
        activations.get("foo")
    message = str(info.value)
    assert message.startswith(
        "Unknown activation: foo. This may be due to one of the following reasons:\n"
        "1. The activation is defined in Python, in which case it needs to be ported to "
        "TensorFlow.js or your JavaScript code.\n"
        "2. The custom activation is defined in JavaScript, but is not registered properly with "
        "tf.serialization.registerClass().")
    assert "Valid activations: elu, selu, relu, relu6, linear, sigmoid, hardSigmoid" in message


@pytest.mark.parametrize("typed, meant", [("sofmax", "softmax"), ("RELU", "relu"), ("hard_sigmod", "hard_sigmoid"),
                                          ("tan", "tanh")])
def test_unknown_names_suggest_the_closest_activation(typed, meant):
    with pytest.raises(ValueError, match=f"^Unknown activation: {typed}\\. Did you mean '{meant}'\\? This may be due"):
        activations.get(typed)


def test_errors():
    with pytest.raises(ValueError, match="Unknown activation: Relu. Did you mean 'relu'?"):
        activations.get({"class_name": "Relu", "config": {}})
    with pytest.raises(TypeError, match="activation must be a name, a saved config dict or an? Activation, got int 3"):
        activations.get(3)
    with pytest.raises(ValueError, match="rank >= 1"):
        activations.get("softmax")(lm.scalar(1.0))
