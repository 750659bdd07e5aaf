"""Activations and softmax: values against numpy, gradients against finite differences and
against TF.js's rules at the kinks."""

import numpy as np
import pytest

import lamina as lm
from gradcheck import check_gradients

# TF.js's selu constants (tfjs-core/src/ops/selu_util.ts).
SELU_SCALE = 1.0507009873554804934193349852946
SELU_SCALEALPHA = 1.7580993408473768599402175208123

# Away from every kink (0 for all, 6 for relu6) by more than a finite-difference step.
X = np.array([[-3.1, -1.2, -0.35, 0.4], [1.7, 4.9, 6.8, -7.5]], np.float32)


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


REFERENCES = {
    "relu": (lm.relu, lambda v: np.maximum(v, 0)),
    "relu6": (lm.relu6, lambda v: np.clip(v, 0, 6)),
    "elu": (lm.elu, lambda v: np.where(v >= 0, v, np.expm1(v))),
    "selu": (lm.selu, lambda v: np.where(v > 0, SELU_SCALE * v, SELU_SCALEALPHA * np.expm1(v))),
    "leaky_relu": (lm.leaky_relu, lambda v: np.where(v > 0, v, 0.2 * v)),
    "sigmoid": (lm.sigmoid, sigmoid),
    "log_sigmoid": (lm.log_sigmoid, lambda v: -np.logaddexp(0, -v)),
    "tanh": (lm.tanh, np.tanh),
    "softplus": (lm.softplus, lambda v: np.logaddexp(0, v)),
}


def np_softmax(v, axis):
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_values_against_numpy(name):
    op, reference = REFERENCES[name]
    out = op(lm.tensor(X))
    assert out.dtype == "float32" and out.shape == [2, 4]
    np.testing.assert_allclose(out.numpy(), reference(X.astype(np.float64)), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_gradients(name):
    check_gradients(REFERENCES[name][0], X)


def test_kernel_activations_agree_on_every_isa(each_isa):
    for name in ("relu", "elu", "selu", "sigmoid", "tanh", "softplus"):
        op, reference = REFERENCES[name]
        np.testing.assert_allclose(op(lm.tensor(X)).numpy(), reference(X.astype(np.float64)),
                                   rtol=2e-6, atol=1e-7, err_msg=f"{name} on {each_isa}")
    np.testing.assert_allclose(lm.softmax(lm.tensor(X)).numpy(), np_softmax(X.astype(np.float64), -1), rtol=1e-6)


def test_selu_matches_tfjs_constants():
    out = lm.selu(lm.tensor([1.0, -1.0])).numpy()
    np.testing.assert_allclose(out, [SELU_SCALE, SELU_SCALEALPHA * (np.exp(-1) - 1)], rtol=1e-6)


def test_leaky_relu_alpha_and_its_gradient():
    x = lm.tensor([-2.0, 3.0])
    assert lm.leaky_relu(x, alpha=0.1).numpy().tolist() == pytest.approx([-0.2, 3.0])
    check_gradients(lambda t: lm.leaky_relu(t, 0.7), X)


# --- derivatives at the kinks, as TF.js defines them ----------------------------------------

def grad_at(op, points):
    return lm.grad(op)(lm.tensor(points)).numpy().tolist()


def test_relu_and_relu6_gradients_at_their_kinks():
    assert grad_at(lm.relu, [-1.0, 0.0, 1.0]) == [0.0, 0.0, 1.0]  # step(0) = 0
    # TF.js: (x <= 6)·step(x), so 1 at x = 6 and 0 at x = 0.
    assert grad_at(lm.relu6, [0.0, 3.0, 6.0, 6.5]) == [0.0, 1.0, 1.0, 0.0]


def test_elu_selu_leaky_gradients_at_zero():
    assert grad_at(lm.elu, [0.0]) == [1.0]  # TF.js EluGrad: y >= 0 gives dy
    assert grad_at(lm.selu, [0.0]) == pytest.approx([SELU_SCALEALPHA], rel=1e-6)  # x > 0 is false
    assert grad_at(lambda x: lm.leaky_relu(x, 0.3), [0.0]) == pytest.approx([0.3])


def test_saturated_gradients_are_zero_not_nan():
    for op in (lm.sigmoid, lm.tanh, lm.softplus, lm.log_sigmoid, lm.elu):
        g = lm.grad(op)(lm.tensor([-200.0, 200.0])).numpy()
        assert np.all(np.isfinite(g)), op.__name__


# --- prelu ------------------------------------------------------------------------------------

def test_prelu_values_and_broadcast_gradients():
    alpha = np.array([0.1, 0.4, 0.25, 0.6], np.float32)
    out = lm.prelu(lm.tensor(X), lm.tensor(alpha))
    np.testing.assert_allclose(out.numpy(), np.where(X > 0, X, alpha * X), rtol=1e-6)
    check_gradients(lm.prelu, X, alpha)
    check_gradients(lm.prelu, X, 0.3)


def test_prelu_gradient_at_zero_goes_to_alpha_branch():
    gx, galpha = lm.grads(lm.prelu)([lm.tensor([0.0, 2.0, -1.0]), lm.tensor([0.5])])
    assert gx.array() == [0.5, 1.0, 0.5] and galpha.array() == [-1.0]


# --- softmax and log_softmax ------------------------------------------------------------------

@pytest.mark.parametrize("axis", [-1, 0, 1, 2])
def test_softmax_and_log_softmax_on_any_axis(axis):
    v = np.random.default_rng(5).normal(size=(2, 3, 4)).astype(np.float32)
    expected = np_softmax(v.astype(np.float64), axis)
    np.testing.assert_allclose(lm.softmax(lm.tensor(v), axis).numpy(), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(lm.log_softmax(lm.tensor(v), axis=axis).numpy(), np.log(expected), rtol=1e-5, atol=1e-6)
    check_gradients(lambda t: lm.softmax(t, dim=axis), v)
    check_gradients(lambda t: lm.log_softmax(t, axis=axis), v)


def test_softmax_tfjs_doc_example():
    out = lm.tensor([[2, 4, 6], [1, 2, 3]]).softmax().numpy()
    np.testing.assert_allclose(out, np_softmax(np.array([[2.0, 4, 6], [1, 2, 3]]), -1), rtol=1e-6)
    np.testing.assert_allclose(out.sum(axis=-1), [1.0, 1.0], rtol=1e-6)


def test_softmax_rank_1_and_empty():
    np.testing.assert_allclose(lm.softmax([1.0, 1.0]).numpy(), [0.5, 0.5])
    assert lm.softmax(lm.zeros([0, 3])).shape == [0, 3]
    check_gradients(lm.softmax, [0.3, -1.2, 2.0])


def test_log_softmax_and_log_sigmoid_are_stable_for_large_inputs():
    out = lm.log_softmax(lm.tensor([1000.0, 0.0])).numpy()
    np.testing.assert_allclose(out, [0.0, -1000.0])
    np.testing.assert_allclose(lm.log_sigmoid(lm.tensor([-100.0, 100.0])).numpy(), [-100.0, 0.0], atol=1e-6)


# --- dtypes -----------------------------------------------------------------------------------

def test_int32_inputs():
    i = lm.tensor([-3, 2, 9], dtype="int32")
    assert lm.relu(i).dtype == "int32" and lm.relu(i).array() == [0, 2, 9]
    assert lm.relu6(i).dtype == "int32" and lm.relu6(i).array() == [0, 2, 6]
    for op in (lm.elu, lm.selu, lm.sigmoid, lm.tanh, lm.softplus, lm.log_sigmoid, lm.leaky_relu, lm.log_softmax):
        assert op(i).dtype == "float32", op.__name__
    np.testing.assert_allclose(lm.sigmoid(i).numpy(), sigmoid(np.array([-3.0, 2.0, 9.0])), rtol=1e-6)


def test_results_do_not_follow_a_variable_assign():
    v = lm.variable(lm.tensor([[-1.0, 2.0]]))
    outs = [lm.relu(v), lm.relu6(v), lm.sigmoid(v), lm.softmax(v), lm.leaky_relu(v)]
    before = [o.numpy() for o in outs]
    v.assign(lm.tensor([[5.0, 5.0]]))
    for o, b in zip(outs, before):
        np.testing.assert_array_equal(o.numpy(), b)


def test_variable_grads_through_kernel_activations():
    w = lm.variable(lm.tensor([0.5, -1.5]), name="act_w")
    grads = lm.variable_grads(lambda: lm.tanh(w).sum())["grads"]
    np.testing.assert_allclose(grads["act_w"].numpy(), 1 - np.tanh([0.5, -1.5]) ** 2, rtol=1e-6)


# --- errors -----------------------------------------------------------------------------------

def test_softmax_needs_float32_logits():
    with pytest.raises(TypeError, match="Argument 'logits' passed to 'softmax' must be float32 tensor, but got int32 tensor"):
        lm.softmax(lm.tensor([1, 2], dtype="int32"))
    assert lm.softmax([1, 2]).dtype == "float32"  # plain data is parsed as float32, as in TF.js


def test_softmax_axis_errors():
    with pytest.raises(ValueError, match="dim 2 is out of range for a rank-2 tensor"):
        lm.softmax(lm.zeros([2, 2]), 2)
    with pytest.raises(ValueError, match="softmax: logits must have rank >= 1"):
        lm.softmax(lm.scalar(1.0))
    with pytest.raises(ValueError, match="logSoftmax: logits must have rank >= 1"):
        lm.log_softmax(lm.scalar(1.0))


def test_leaky_relu_alpha_must_be_a_number():
    with pytest.raises(TypeError, match="alpha must be a number, got str"):
        lm.leaky_relu(lm.tensor([1.0]), alpha="0.2")
