import numpy as np
import pytest

import lamina as lm
from gradcheck import check_gradients
from lamina.ops import tape


def test_guide_shaped_variable_grads():
    w = lm.variable(lm.tensor([[0.5, -1.0], [2.0, 0.1]]))
    x = lm.tensor([[1.0, 2.0]])
    out = lm.variable_grads(lambda: (x @ w).square().mean())
    xw = np.array([[1.0, 2.0]]) @ np.array([[0.5, -1.0], [2.0, 0.1]])
    assert out["value"].item() == pytest.approx(np.mean(xw ** 2), rel=1e-6)
    np.testing.assert_allclose(out["grads"][w.name].numpy(), np.array([[1.0], [2.0]]) @ xw, rtol=1e-6)


def test_broadcast_gradients_are_summed_back():
    check_gradients(lambda a, b: a + b, np.ones((3, 4)), np.arange(4.0))
    check_gradients(lambda a, b: a * b, np.arange(6.0).reshape(2, 3), [[2.0], [3.0]])
    check_gradients(lambda a, b: a / b, [[1.0, 2.0]], [[3.0], [4.0]])
    check_gradients(lambda a, b: a - b, 1.5, [1.0, 2.0])


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_matmul_gradients(ta, tb):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 2) if ta else (2, 3))
    b = rng.standard_normal((4, 3) if tb else (3, 4))
    check_gradients(lambda x, y: lm.matmul(x, y, transpose_a=ta, transpose_b=tb), a, b)


def test_variables_not_touched_get_no_gradient():
    a = lm.variable(lm.tensor([1.0]), name="touched_a")
    b = lm.variable(lm.tensor([1.0]), name="untouched_b")
    grads = lm.variable_grads(lambda: a.square().sum())["grads"]
    assert "touched_a" in grads and "untouched_b" not in grads


def test_non_trainable_variables_are_skipped():
    a = lm.variable(lm.tensor([1.0]), name="frozen_a", trainable=False)
    with pytest.raises(ValueError, match="Cannot find a connection between any variable"):
        lm.variable_grads(lambda: a.square().sum())
    with pytest.raises(ValueError, match="none of the 1 variables is trainable"):
        lm.variable_grads(lambda: a.square().sum(), var_list=[a])


def test_var_list_limits_the_gradients():
    a = lm.variable(lm.tensor([1.0]), name="listed_a")
    b = lm.variable(lm.tensor([2.0]), name="unlisted_b")
    grads = lm.variable_grads(lambda: (a * b).sum(), var_list=[a])["grads"]
    assert list(grads) == ["listed_a"] and grads["listed_a"].array() == [2.0]


def test_variable_grads_needs_a_scalar():
    a = lm.variable(lm.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="must return a scalar, but it returned a rank-1 tensor"):
        lm.variable_grads(lambda: a.square())


def test_grad_of_unconnected_input():
    with pytest.raises(ValueError, match="Cannot compute gradient of y=f\\(x\\) with respect to x"):
        lm.grad(lambda x: lm.tensor([1.0]).square())(lm.tensor([2.0]))


def test_dy_weights_the_gradient_and_its_shape_is_checked():
    g = lm.grad(lambda x: x.square())(lm.tensor([1.0, 2.0]), dy=lm.tensor([10.0, 1.0]))
    assert g.array() == [20.0, 4.0]
    with pytest.raises(ValueError, match="dy has shape \\[3\\], f\\(\\) returned shape \\[2\\]"):
        lm.grad(lambda x: x.square())(lm.tensor([1.0, 2.0]), dy=lm.tensor([1.0, 1.0, 1.0]))


def test_value_and_grads():
    out = lm.value_and_grads(lambda a, b: (a * b).sum())([lm.tensor([2.0]), lm.tensor([5.0])])
    assert out["value"].item() == 10.0
    assert [g.array() for g in out["grads"]] == [[5.0], [2.0]]


def test_custom_grad_replaces_the_gradient():
    def f(x, save):
        save([x])
        return {"value": x.square(), "grad_func": lambda dy, saved: [dy * 100]}

    op = lm.custom_grad(f)
    assert lm.grad(lambda x: op(x))(lm.tensor([3.0])).array() == [100.0]


def test_nothing_is_recorded_outside_a_gradient():
    x = lm.variable(lm.tensor([1.0]))
    y = x.square()
    assert not tape._tapes and isinstance(y, lm.Tensor)


def test_tensor_used_twice_accumulates():
    check_gradients(lambda x: x * x + x, [1.0, -2.0, 3.0])


def test_reductions_and_reshape():
    check_gradients(lambda x: lm.sum(x, axis=1), np.arange(6.0).reshape(2, 3))
    check_gradients(lambda x: lm.mean(x, axis=0, keep_dims=True), np.arange(6.0).reshape(2, 3))
    check_gradients(lambda x: lm.reshape(x, [3, 2]).square(), np.arange(6.0).reshape(2, 3))


def test_errors_name_the_argument():
    with pytest.raises(TypeError, match="The f passed in variable_grads\\(f\\) must be a function"):
        lm.variable_grads(3)
    with pytest.raises(TypeError, match="must be a list of tensors"):
        lm.grads(lambda a: a)(lm.tensor([1.0]))


def test_mat_mul_is_matmul():
    a, b = np.float32([[1, 2], [3, 4]]), np.float32([[5], [6]])
    assert lm.mat_mul is lm.matmul
    np.testing.assert_array_equal(lm.mat_mul(a, b).numpy(), a @ b)
    np.testing.assert_array_equal(lm.tensor(a).mat_mul(b).numpy(), a @ b)


# --- higher-order gradients: grad(grad(f)), as TF.js --------------------------------------

X2 = np.array([0.5, -1.2, 2.0, 0.05], np.float32)


def second_difference(f, x, h=1e-3):
    """f''(x) by central second differences in float64 (an oracle independent of the tape)."""
    x = x.astype(np.float64)
    return (f(x + h) - 2 * f(x) + f(x - h)) / h ** 2


@pytest.mark.parametrize("name, op, numpy_f, closed_form", [
    ("x^3 by mul", lambda t: t.mul(t).mul(t), lambda v: v ** 3, lambda v: 6 * v),
    ("x^3 by pow", lambda t: lm.pow(t, 3.0), lambda v: v ** 3, lambda v: 6 * v),
    ("tanh", lm.tanh, np.tanh, lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)),
    ("sigmoid", lm.sigmoid, lambda v: 1 / (1 + np.exp(-v)),
     lambda v: (s := 1 / (1 + np.exp(-v))) * (1 - s) * (1 - 2 * s)),
    ("exp(x)/x", lambda t: lm.exp(t).div(t), lambda v: np.exp(v) / v,
     lambda v: np.exp(v) * (v ** 2 - 2 * v + 2) / v ** 3),
    ("log(x^2 + 1) by sqrt", lambda t: lm.log(lm.sqrt(t.square().add(1.0))), lambda v: 0.5 * np.log(v ** 2 + 1),
     lambda v: (1 - v ** 2) / (v ** 2 + 1) ** 2),
])
def test_second_derivatives_match_closed_forms_and_finite_differences(name, op, numpy_f, closed_form):
    x = X2 if name != "exp(x)/x" else np.abs(X2) + 0.5  # exp(x)/x: away from its pole
    got = lm.grad(lm.grad(op))(lm.tensor(x)).numpy()
    np.testing.assert_allclose(got, closed_form(x.astype(np.float64)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got, second_difference(numpy_f, x), rtol=2e-3, atol=2e-3)


def test_third_derivative_and_relu_second_derivative():
    x = lm.tensor(X2)
    d3 = lm.grad(lm.grad(lm.grad(lambda t: t.mul(t).mul(t).mul(t))))(x)  # (x^4)''' = 24x
    np.testing.assert_allclose(d3.numpy(), 24 * X2, rtol=1e-5)
    assert lm.grad(lm.grad(lm.relu))(lm.tensor([1.0, -1.0])).array() == [0.0, 0.0]  # TF.js: step's gradient is 0


def test_mixed_partial_of_a_two_variable_function():
    # f(a, b) = sum(a²·b + exp(a·b)): d²f/da db = 2a + exp(ab)(1 + ab), d²f/da² = 2b + b² exp(ab)
    def f(p, q):
        return p.square().mul(q).add(lm.exp(p.mul(q))).sum()

    a, b = np.float32([0.3, -0.8]), np.float32([-0.7, 0.4])
    df_da = lambda p, q: lm.grads(f)([p, q])[0]  # noqa: E731
    d2 = lm.grads(lambda p, q: df_da(p, q).sum())([lm.tensor(a), lm.tensor(b)])
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    np.testing.assert_allclose(d2[1].numpy(), 2 * a64 + np.exp(a64 * b64) * (1 + a64 * b64), rtol=1e-5)
    np.testing.assert_allclose(d2[0].numpy(), 2 * b64 + b64 ** 2 * np.exp(a64 * b64), rtol=1e-5)  # d²f/da²
    h = 1e-3
    numeric = [(np.sum(2 * a64 * (b64 + h * e) + (b64 + h * e) * np.exp(a64 * (b64 + h * e)))
                - np.sum(2 * a64 * (b64 - h * e) + (b64 - h * e) * np.exp(a64 * (b64 - h * e)))) / (2 * h)
               for e in np.eye(2)]
    np.testing.assert_allclose(d2[1].numpy(), numeric, rtol=1e-4)


def test_second_order_through_matmul_and_mean():
    # f(W) = mean((x W)^2): d/dW of the gradient's sum, by hand
    x = np.float32([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.3]])
    w = np.float32([[0.2], [-0.4]])
    f = lambda t: lm.matmul(lm.tensor(x), t).square().mean()  # noqa: E731
    got = lm.grad(lambda t: lm.grad(f)(t).sum())(lm.tensor(w)).numpy()
    # grad = 2/n xᵀx W; the gradient of its sum is 2/n (xᵀx)ᵀ 1 = 2/n xᵀx 1
    expected = 2 / len(x) * x.T.astype(np.float64) @ x @ np.ones((2, 1))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_variable_grads_inside_grad_and_an_unsupported_op():
    v = lm.variable(lm.tensor([1.5]))

    def outer(t):
        return lm.variable_grads(lambda: v.mul(t).square().sum())["grads"][v.name].sum()

    # d/dt of d/dv (v t)^2 = d/dt 2 v t^2 = 4 v t
    assert lm.grad(outer)(lm.tensor([2.0])).numpy() == pytest.approx([4 * 1.5 * 2.0])
    with pytest.raises(NotImplementedError, match="Higher-order gradients .* not supported yet .* they are through add"):
        lm.grad(lm.grad(lm.elu))(lm.tensor([1.0]))
