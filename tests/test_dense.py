import math

import numpy as np
import pytest

from lamina import _core

ACTIVATIONS = ["linear", "relu", "relu6", "elu", "selu", "sigmoid", "hard_sigmoid", "tanh",
               "softplus", "softsign", "swish", "gelu", "mish"]

SELU_SCALE = 1.0507009873554804934193349852946
SELU_SCALE_ALPHA = 1.7580993408473768599402175208123
_erf = np.vectorize(math.erf)


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def softplus(z):
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def reference(name, z):
    """f(z) in float64, from the TF.js definitions."""
    z = z.astype(np.float64)
    return {
        "linear": lambda: z,
        "relu": lambda: np.maximum(z, 0),
        "relu6": lambda: np.minimum(np.maximum(z, 0), 6),
        "elu": lambda: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        "selu": lambda: np.where(z > 0, SELU_SCALE * z, SELU_SCALE_ALPHA * np.expm1(np.minimum(z, 0))),
        "sigmoid": lambda: sigmoid(z),
        "hard_sigmoid": lambda: np.clip(0.2 * z + 0.5, 0, 1),
        "tanh": lambda: np.tanh(z),
        "softplus": lambda: softplus(z),
        "softsign": lambda: z / (1 + np.abs(z)),
        "swish": lambda: z * sigmoid(z),
        "gelu": lambda: 0.5 * z * (1 + _erf(z / np.sqrt(2))),
        "mish": lambda: z * np.tanh(softplus(z)),
    }[name]()


def away_from_kinks(z):
    """Moves values off relu's 0, relu6's 6 and hard_sigmoid's ±2.5 (finite differences
    there measure neither side)."""
    for kink in (0.0, 6.0, 2.5, -2.5):
        near = np.abs(z - kink) < 0.05
        z = np.where(near, z + 0.1, z)
    return z


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_numpy(each_isa, rng, name):
    x = (rng.standard_normal(1001) * 4).astype(np.float32)
    y = _core.activation(name, x)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, reference(name, x), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_matches_finite_differences(each_isa, rng, name):
    x = away_from_kinks(rng.standard_normal((13, 17)) * 3).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    y = _core.activation(name, x)
    dx = _core.activation_backward(name, x, y, dy)
    x64 = x.astype(np.float64)
    h = 1e-6
    slope = (reference(name, x64 + h) - reference(name, x64 - h)) / (2 * h)
    np.testing.assert_allclose(dx, dy * slope, rtol=1e-4, atol=1e-5)


def test_activation_kinks_follow_tfjs():
    x = np.array([0.0, 6.0, -2.5, 2.5], np.float32)
    ones = np.ones_like(x)
    relu = _core.activation_backward("relu", x, _core.activation("relu", x), ones)
    relu6 = _core.activation_backward("relu6", x, _core.activation("relu6", x), ones)
    hard = _core.activation_backward("hard_sigmoid", x, None, ones)
    assert relu.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert relu6.tolist() == [0.0, 0.0, 0.0, 1.0]
    np.testing.assert_array_equal(hard, np.float32([0.2, 0.0, 0.2, 0.2]))


def test_activation_backward_needs_input():
    from_output = {"linear", "relu", "relu6", "elu", "sigmoid", "tanh"}
    for name in ACTIVATIONS:
        assert _core.activation_backward_needs_input(name) == (name not in from_output)


SHAPES = [(32, 784, 32), (1, 784, 32), (1, 1, 1), (7, 13, 17), (33, 65, 9), (1100, 20, 3)]


@pytest.mark.parametrize("batch,n_in,n_out", SHAPES)
@pytest.mark.parametrize("name", ["linear", "relu", "sigmoid", "gelu"])
def test_dense_forward_matches_numpy(each_isa, each_thread_count, rng, batch, n_in, n_out, name):
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    w = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32)
    y, z = _core.dense_forward(x, w, b, name, keep_preactivation=True)
    z_want = x.astype(np.float64) @ w + b
    np.testing.assert_allclose(z, z_want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y, reference(name, z_want), rtol=1e-4, atol=1e-5)
    assert np.array_equal(_core.dense_forward(x, w, b, name), y)
    no_bias = _core.dense_forward(x, w, None, name)
    np.testing.assert_allclose(no_bias, reference(name, x.astype(np.float64) @ w), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch,n_in,n_out", SHAPES)
def test_dense_backward_matches_numpy(each_isa, each_thread_count, rng, batch, n_in, n_out):
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    w = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32)
    dy = rng.standard_normal((batch, n_out)).astype(np.float32)
    y, z = _core.dense_forward(x, w, b, "relu", keep_preactivation=True)
    dw, db, dx = _core.dense_backward(x, w, y, None, dy, activation="relu")
    dz = dy.astype(np.float64) * (z > 0)
    np.testing.assert_allclose(dw, x.T.astype(np.float64) @ dz, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, dz.sum(axis=0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, dz @ w.T.astype(np.float64), rtol=1e-4, atol=1e-4)
    dw2, db2, dx2 = _core.dense_backward(x, w, y, None, dy, activation="relu", has_bias=False, need_dx=False)
    assert db2 is None and dx2 is None and np.array_equal(dw2, dw)


def _loss(x, w, b, name, g):
    """Σ g ⊙ act(x·w + b) in float64: its gradient is what dense_backward computes for dy = g."""
    return float(np.sum(g * reference(name, x @ w + b)))


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_dense_backward_finite_differences(rng, name):
    batch, n_in, n_out = 4, 5, 3
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    w = rng.standard_normal((n_in, n_out)).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32)
    z = x.astype(np.float64) @ w + b
    kink_distance = min(np.abs(z - k).min() for k in (0.0, 6.0, 2.5, -2.5))
    assert kink_distance > 1e-3, "central differences would straddle a kink"
    g = rng.standard_normal((batch, n_out)).astype(np.float32)
    y, zk = _core.dense_forward(x, w, b, name, keep_preactivation=True)
    dw, db, dx = _core.dense_backward(x, w, y, zk, g, activation=name)

    x64, w64, b64, g64 = (a.astype(np.float64) for a in (x, w, b, g))
    h = 1e-6

    def numeric(param, f):
        grad = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + h
            up = f()
            param[index] = saved - h
            down = f()
            param[index] = saved
            grad[index] = (up - down) / (2 * h)
        return grad

    f = lambda: _loss(x64, w64, b64, name, g64)  # noqa: E731
    np.testing.assert_allclose(dw, numeric(w64, f), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(db, numeric(b64, f), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(dx, numeric(x64, f), rtol=1e-3, atol=1e-4)


def test_same_bits_across_runs(rng):
    x = rng.standard_normal((1100, 300)).astype(np.float32)
    w = rng.standard_normal((300, 70)).astype(np.float32)
    b = rng.standard_normal(70).astype(np.float32)
    dy = rng.standard_normal((1100, 70)).astype(np.float32)
    runs = []
    for _ in range(2):
        y, z = _core.dense_forward(x, w, b, "mish", keep_preactivation=True)
        runs.append((y,) + _core.dense_backward(x, w, y, z, dy, activation="mish"))
    for a, b2 in zip(*runs):
        assert np.array_equal(a, b2)


# ---- bad inputs ----

def f32(*shape):
    return np.ones(shape, np.float32)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match=r"activation must be one of linear, relu, .*mish, got 'hardSigmoid'"):
        _core.activation("hardSigmoid", f32(3))
    with pytest.raises(ValueError, match="activation must be one of"):
        _core.dense_forward(f32(2, 3), f32(3, 4), None, "softmax")


def test_dense_forward_shape_errors():
    with pytest.raises(ValueError, match=r"w must have shape \(784, \*\) to match x of shape \(32, 784\), got \(100, 32\)"):
        _core.dense_forward(f32(32, 784), f32(100, 32), None)
    with pytest.raises(ValueError, match=r"b must have shape \(32,\) to match w of shape \(784, 32\), got \(31,\)"):
        _core.dense_forward(f32(32, 784), f32(784, 32), f32(31))
    with pytest.raises(ValueError, match=r"x must be 2-D, got shape \(784,\)"):
        _core.dense_forward(f32(784), f32(784, 32), None)


def test_dense_forward_type_and_layout_errors():
    with pytest.raises(TypeError, match="x must have dtype float32, got float64"):
        _core.dense_forward(np.ones((2, 3)), f32(3, 4), None)
    with pytest.raises(TypeError, match="b must be a numpy.ndarray of float32, got list"):
        _core.dense_forward(f32(2, 3), f32(3, 4), [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="w must be C-contiguous"):
        _core.dense_forward(f32(2, 3), f32(4, 3).T, None)


def test_dense_backward_errors():
    x, w, dy = f32(4, 3), f32(3, 2), f32(4, 2)
    with pytest.raises(ValueError, match=r"dy must have shape \(4, 2\) \(the shape of x @ w\), got \(4, 3\)"):
        _core.dense_backward(x, w, f32(4, 2), None, f32(4, 3), activation="relu")
    with pytest.raises(ValueError, match="z must be given for activation 'gelu'"):
        _core.dense_backward(x, w, f32(4, 2), None, dy, activation="gelu")
    with pytest.raises(TypeError, match="y must be a numpy.ndarray of float32, got NoneType"):
        _core.dense_backward(x, w, None, None, dy, activation="tanh")
    with pytest.raises(ValueError, match=r"z must have shape \(4, 2\) \(the shape of x @ w\), got \(2, 4\)"):
        _core.dense_backward(x, w, None, f32(2, 4), dy, activation="mish")
    # linear needs neither
    dw, db, dx = _core.dense_backward(x, w, None, None, dy, activation="linear")
    np.testing.assert_allclose(dw, x.T @ dy)


def test_activation_backward_errors():
    with pytest.raises(ValueError, match="x must be given for activation 'gelu'"):
        _core.activation_backward("gelu", None, f32(3), f32(3))
    with pytest.raises(ValueError, match="y must be given for activation 'tanh'"):
        _core.activation_backward("tanh", None, None, f32(3))
    with pytest.raises(ValueError, match=r"y must have shape \(3,\) to match dy, got \(4,\)"):
        _core.activation_backward("tanh", None, f32(4), f32(3))
    with pytest.raises(TypeError, match="dy must have dtype float32, got int64"):
        _core.activation_backward("relu", None, f32(3), np.ones(3, np.int64))
