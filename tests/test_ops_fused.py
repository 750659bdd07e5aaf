import numpy as np
import pytest

import lamina as lm
from gradcheck import check_gradients

ACTIVATIONS = ["linear", "relu", "relu6", "elu", "sigmoid"]


def reference(x, w, b, activation):
    z = x.astype(np.float64) @ w.astype(np.float64) + (0 if b is None else b)
    return {"linear": z, "relu": np.maximum(z, 0), "relu6": np.clip(z, 0, 6),
            "elu": np.where(z > 0, z, np.expm1(np.minimum(z, 0))), "sigmoid": 1 / (1 + np.exp(-z))}[activation]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("with_bias", [True, False])
def test_values_match_numpy(activation, with_bias):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 7)).astype(np.float32)
    w = rng.standard_normal((7, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32) if with_bias else None
    got = lm.fused.mat_mul(x, w, bias=b, activation=activation)
    np.testing.assert_allclose(got.numpy(), reference(x, w, b, activation), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradients_for_every_input(activation):
    rng = np.random.default_rng(2)
    # Keep pre-activations away from the kinks at 0 and 6.
    x = rng.uniform(0.2, 1.0, (3, 4))
    w = rng.uniform(0.2, 1.0, (4, 2)) * np.array([1.0, -1.0])
    b = np.array([0.3, -0.3])
    check_gradients(lambda a, c, d: lm.fused.mat_mul(a, c, bias=d, activation=activation), x, w, b)


def test_transposed_and_batched_inputs_take_the_composed_path():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    got = lm.fused.mat_mul(x, w, transpose_a=True, transpose_b=True, activation="relu")
    np.testing.assert_allclose(got.numpy(), np.maximum(x.T @ w.T, 0), rtol=1e-5, atol=1e-6)
    check_gradients(lambda a, c: lm.fused.mat_mul(a, c, transpose_a=True, transpose_b=True), x, w)


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation must be one of linear, relu, relu6, elu, sigmoid, got 'tanh'"):
        lm.fused.mat_mul(lm.ones([1, 1]), lm.ones([1, 1]), activation="tanh")


def test_inner_dimension_mismatch_is_matmul_error():
    with pytest.raises(ValueError, match="inner shapes"):
        lm.fused.mat_mul(lm.ones([2, 3]), lm.ones([4, 2]))
