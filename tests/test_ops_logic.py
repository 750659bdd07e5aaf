"""cast, where, comparisons and logical ops: values against numpy, dtypes, gradients, errors."""

import numpy as np
import pytest

import lamina as lm
from gradcheck import check_gradients

A = np.array([[1.0, -2.0, 3.0], [0.5, 2.0, -1.0]], np.float32)
B = np.array([2.0, -2.0, 0.0], np.float32)


# --- comparisons ------------------------------------------------------------------------------

@pytest.mark.parametrize("op, reference", [
    (lm.equal, np.equal), (lm.not_equal, np.not_equal), (lm.greater, np.greater),
    (lm.greater_equal, np.greater_equal), (lm.less, np.less), (lm.less_equal, np.less_equal),
])
def test_comparisons_broadcast_and_return_bool(op, reference):
    out = op(lm.tensor(A), lm.tensor(B))
    assert out.dtype == "bool" and out.shape == [2, 3]
    np.testing.assert_array_equal(out.numpy(), reference(A, B))


def test_comparisons_mix_dtypes_and_numbers():
    i = lm.tensor([1, 2, 3], dtype="int32")
    assert lm.greater(i, 1.5).array() == [False, True, True]
    assert lm.equal(i, lm.tensor([1.0, 0.0, 3.0])).array() == [True, False, True]
    assert lm.equal(lm.tensor([True, False]), lm.tensor([True, True])).array() == [True, False]
    assert lm.not_equal(lm.tensor([np.nan]), lm.tensor([np.nan])).array() == [True]


def test_comparison_operators():
    x = lm.tensor([-1.0, 0.0, 2.0])
    assert (x > 0).array() == [False, False, True]
    assert (x >= 0).array() == [False, True, True]
    assert (x < 0).array() == [True, False, False]
    assert (x <= 0).array() == [True, True, False]
    assert (x == 0).array() == [False, True, False]
    assert (x != 0).array() == [True, False, True]
    assert (0 < x).array() == [False, False, True]  # reflected by Python to x > 0


def test_comparisons_have_no_gradient():
    # Only the multiplication by x carries a gradient; the mask is a constant.
    g = lm.grad(lambda x: lm.cast(x > 0, "float32") * x)(lm.tensor([-1.0, 2.0]))
    assert g.array() == [0.0, 1.0]


# --- logical ops ------------------------------------------------------------------------------

P = np.array([[True], [False]])
Q = np.array([True, False, True])


@pytest.mark.parametrize("op, reference", [
    (lm.logical_and, np.logical_and), (lm.logical_or, np.logical_or), (lm.logical_xor, np.logical_xor),
])
def test_logical_ops_broadcast(op, reference):
    out = op(lm.tensor(P), lm.tensor(Q))
    assert out.dtype == "bool" and out.shape == [2, 3]
    np.testing.assert_array_equal(out.numpy(), reference(P, Q))


def test_logical_operators():
    x = lm.tensor([-1.0, 0.5, 3.0])
    assert ((x > 0) & (x < 2)).array() == [False, True, False]
    assert ((x < 0) | (x > 2)).array() == [True, False, True]
    assert ((x > 0) ^ (x > 1)).array() == [False, True, False]
    assert (~(x > 0)).array() == [True, False, False]
    assert lm.logical_not(lm.tensor([True, False])).dtype == "bool"


def test_plain_data_is_read_as_bool():
    # TF.js parses non-tensor arguments of logical ops as bool.
    assert lm.logical_and([1, 0, 2], [True, True, False]).array() == [True, False, False]
    assert lm.logical_not([0.0, 0.5]).array() == [True, False]


@pytest.mark.parametrize("call, argument, op, dtype", [
    (lambda: lm.logical_and(lm.tensor([1.0]), lm.tensor([True])), "a", "logicalAnd", "float32"),
    (lambda: lm.logical_or(lm.tensor([True]), lm.tensor([1], dtype="int32")), "b", "logicalOr", "int32"),
    (lambda: lm.logical_xor(lm.tensor([1.0]), lm.tensor([True])), "a", "logicalXor", "float32"),
    (lambda: lm.logical_not(lm.tensor([1.0])), "x", "logicalNot", "float32"),
    (lambda: ~lm.tensor([1.0]), "x", "logicalNot", "float32"),
    (lambda: lm.where(lm.tensor([1.0]), 1.0, 2.0), "condition", "where", "float32"),
])
def test_logical_ops_need_bool_tensors(call, argument, op, dtype):
    message = f"Argument '{argument}' passed to '{op}' must be bool tensor, but got {dtype} tensor"
    with pytest.raises(TypeError, match=f"^{message}$"):
        call()


def test_logical_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"logicalAnd: operands could not be broadcast together with shapes \[2\] and \[3\]"):
        lm.logical_and(lm.tensor([True, False]), lm.tensor([True, False, True]))


# --- where ------------------------------------------------------------------------------------

def test_where_values_broadcast_all_three():
    cond = np.array([True, False, True])
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = lm.where(lm.tensor(cond), lm.tensor(a), -1.0)
    np.testing.assert_array_equal(out.numpy(), np.where(cond, a, -1.0))
    assert lm.where(lm.tensor([[True], [False]]), lm.tensor([1.0, 2.0]), lm.tensor([5.0, 6.0])).array() == \
        [[1.0, 2.0], [5.0, 6.0]]


def test_where_dtypes():
    cond = lm.tensor([True, False])
    i = lm.tensor([1, 2], dtype="int32")
    assert lm.where(cond, i, i).dtype == "int32"
    assert lm.where(cond, i, lm.tensor([0.5, 0.5])).dtype == "float32"
    assert lm.where(cond, cond, lm.tensor([True, True])).dtype == "bool"


def test_where_gradients_go_to_the_picked_branch():
    cond = lm.tensor([[True, False, True], [False, False, True]])
    check_gradients(lambda a, b: lm.where(cond, a, b), A, A * 2 + 1)
    check_gradients(lambda a, b: lm.where(cond, a, b), A, B)  # b broadcast
    check_gradients(lambda a, b: lm.where(cond, a, b), [[1.5], [2.5]], 0.5)
    ga, gb = lm.grads(lambda a, b: lm.where(cond, a, b))([lm.tensor(A), lm.tensor(B)])
    np.testing.assert_array_equal(ga.numpy(), cond.numpy().astype(np.float32))
    np.testing.assert_array_equal(gb.numpy(), (~cond.numpy()).sum(axis=0).astype(np.float32))


def test_where_method_form_is_tfjs_t_where_condition_x():
    # TF.js's chained op: t.where(condition, x) is tf.where(condition, t, x)
    t, other = lm.tensor([1.0, 2.0, 3.0]), lm.tensor([-1.0, -2.0, -3.0])
    assert t.where(lm.tensor([True, False, True]), other).array() == [1.0, -2.0, 3.0]


def test_where_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"where: operands could not be broadcast together with shapes \[3\] and \[2\] and \[2\]"):
        lm.where(lm.tensor([True, False, True]), lm.tensor([1.0, 2.0]), lm.tensor([1.0, 2.0]))


# --- cast -------------------------------------------------------------------------------------

def test_cast_to_int32_truncates_like_a_js_int32_array():
    x = lm.tensor([1.7, -1.7, 0.5, np.nan, np.inf, -np.inf, 2.0 ** 31, -(2.0 ** 31) - 256])
    out = lm.cast(x, "int32")
    assert out.dtype == "int32"
    # NaN and ±Infinity become 0; 2**31 wraps to -2**31 (ECMAScript ToInt32).
    assert out.array() == [1, -1, 0, 0, 0, 0, -(2 ** 31), 2 ** 31 - 256]


def test_cast_between_all_dtypes():
    f = lm.tensor([0.0, 2.5, -1.0])
    assert lm.cast(f, "bool").array() == [False, True, True]
    assert lm.cast(lm.tensor([np.nan]), "bool").array() == [True]  # NaN !== 0 in TF.js
    b = lm.tensor([True, False])
    assert lm.cast(b, "float32").array() == [1.0, 0.0]
    assert lm.cast(b, "int32").array() == [1, 0]
    i = lm.tensor([3, 0], dtype="int32")
    assert lm.cast(i, "float32").dtype == "float32" and lm.cast(i, "bool").array() == [True, False]
    assert f.cast("float32").array() == f.array()  # as a method too


def test_cast_float32_to_float32_passes_the_gradient():
    check_gradients(lambda x: lm.cast(x, "float32") * x, A)


def test_cast_result_does_not_follow_a_variable_assign():
    v = lm.variable(lm.tensor([1.0, 2.0]))
    same, ints = lm.cast(v, "float32"), lm.cast(v, "int32")
    v.assign(lm.tensor([9.0, 9.0]))
    assert same.array() == [1.0, 2.0] and ints.array() == [1, 2]


@pytest.mark.parametrize("dtype", ["string", "float64", "complex64", None])
def test_cast_to_an_unknown_dtype(dtype):
    with pytest.raises(ValueError, match=f"^Failed to cast to unknown dtype {dtype} "):
        lm.cast(lm.tensor([1.0]), dtype)


def test_comparing_with_none_or_a_string_is_false_not_an_error():
    x = lm.tensor([1.0, 2.0])
    assert (x == None) is False  # noqa: E711
    assert (x != "relu") is True
    assert x not in [None, "relu"]


def test_reflected_logical_operators():
    x = lm.tensor([1.0, -1.0])
    assert (True & (x > 0)).array() == [True, False]
    assert (False | (x > 0)).array() == [True, False]
    assert (True ^ (x > 0)).array() == [False, True]
