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
