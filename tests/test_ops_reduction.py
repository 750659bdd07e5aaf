import math

import numpy as np
import pytest

import lamina as lm
from gradcheck import check_gradients

AXES = [None, 0, 1, -1, [0, 2], (-1, 0), []]


@pytest.fixture
def x3():
    # Distinct values, so max/min have one winner and finite differences are valid.
    return np.random.default_rng(0).permutation(24).reshape(2, 3, 4).astype(np.float32) / 4 - 3


def np_axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


@pytest.mark.parametrize("name", ["max", "min", "prod", "sum", "mean"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keep_dims", [False, True])
def test_values_match_numpy(name, axis, keep_dims, x3):
    got = getattr(lm, name)(lm.tensor(x3), axis=axis, keep_dims=keep_dims)
    want = getattr(np, name)(x3.astype(np.float64), axis=np_axis(axis), keepdims=keep_dims)
    assert got.shape == list(np.shape(want))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


@pytest.mark.parametrize("name", ["max", "min", "prod"])
@pytest.mark.parametrize("axis,keep_dims", [(None, False), (1, False), (-1, True), ([0, 2], False),
                                            ([0, 2], True), ((2, 1), False)])
def test_gradients(name, axis, keep_dims, x3):
    x = x3 / 3 + 0.1 if name == "prod" else x3  # keep the products near 1
    check_gradients(lambda t: getattr(lm, name)(t, axis=axis, keep_dims=keep_dims), x)


@pytest.mark.parametrize("name", ["max", "min", "prod"])
def test_gradients_with_size_one_dims_and_scalars(name):
    x = np.array([[[0.5], [-1.5], [2.0]]])  # shape [1, 3, 1]
    check_gradients(lambda t: getattr(lm, name)(t, axis=[0, 2]), x)
    check_gradients(lambda t: getattr(lm, name)(t, axis=1, keep_dims=True), x)
    check_gradients(lambda t: getattr(lm, name)(t), 1.5)
    assert getattr(lm, name)(lm.scalar(1.5)).shape == []


def test_max_and_min_give_every_tied_position_the_gradient():
    # TF.js's gradForMinAndMax multiplies dy by (x == max): each tie gets all of dy.
    x = lm.tensor([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]])
    assert lm.grad(lambda t: lm.max(t, axis=1).sum())(x).array() == [[1, 0, 1], [1, 1, 0]]
    assert lm.grad(lambda t: lm.min(t, axis=0).sum())(x).array() == [[0, 1, 0], [1, 0, 1]]


def test_prod_gradient_with_zeros():
    # d(prod)/dx_i is the product of the others, also where x_i or another value is zero.
    x = lm.tensor([[2.0, 0.0, 3.0], [0.0, 5.0, 0.0], [1.0, 2.0, 4.0]])
    g = lm.grad(lambda t: lm.prod(t, axis=1).sum())(x)
    assert g.array() == [[0, 6, 0], [0, 0, 0], [8, 4, 2]]
    check_gradients(lambda t: lm.prod(t, axis=[0, 1]), [[2.0, 0.0], [3.0, -1.0]])


def test_prod_over_an_empty_axis_is_one():
    x = lm.zeros([2, 0])
    assert lm.prod(x, axis=1).array() == [1.0, 1.0]
    assert lm.grad(lambda t: lm.prod(t, axis=1).sum())(x).shape == [2, 0]


def test_integer_and_bool_reductions_keep_tf_dtypes():
    i = lm.tensor([[1, 7], [4, 2]], dtype="int32")
    assert lm.max(i).dtype == "int32" and lm.max(i).item() == 7
    assert lm.prod(i, axis=0).dtype == "int32" and lm.prod(i, axis=0).array() == [4, 14]
    b = lm.tensor([True, False])
    # TF.js 4.22's cpu Max/Min kernels write the result in x's dtype: bool stays bool
    assert lm.max(b).dtype == "bool" and lm.max(b).item() is True
    assert lm.min(b).dtype == "bool" and lm.min(b).item() is False
    assert lm.prod(b).dtype == "int32" and lm.prod(b).item() == 0  # Prod: upcastType(x, 'int32')


def test_reductions_are_tensor_methods():
    x = lm.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert x.max(axis=0).array() == [3.0, 0.5]
    assert x.min().item() == -2.0
    assert x.argmax(axis=1).array() == [0, 0]


def test_max_of_an_empty_axis_is_an_error():
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty axis \(x has shape \[2, 0\]"):
        lm.max(lm.zeros([2, 0]), axis=1)


def test_axis_out_of_range():
    with pytest.raises(ValueError, match="axis 3 is out of range for a rank-3 tensor"):
        lm.max(lm.zeros([1, 2, 3]), axis=3)
    with pytest.raises(ValueError, match="axis -4 is out of range"):
        lm.prod(lm.zeros([1, 2, 3]), axis=[0, -4])


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_arg_reductions_match_numpy(name, axis, x3):
    got = getattr(lm, name)(lm.tensor(x3), axis=axis)
    assert got.dtype == "int32"
    np.testing.assert_array_equal(got.numpy(), getattr(np, name)(x3, axis=axis))


def test_argmax_defaults_to_axis_0_and_takes_the_first_tie():
    x = lm.tensor([[1.0, 9.0], [5.0, 9.0], [5.0, 0.0]])
    assert lm.argmax(x).array() == [1, 0]
    assert lm.argmin(x, axis=1).array() == [0, 0, 1]


def tfjs_arg_kernel(row, better):
    """TF.js's cpu ArgMax/ArgMin loop: start at the first value, move on a strictly better one."""
    best, index = row[0], 0
    for j, value in enumerate(row):
        if better(value, best):
            best, index = value, j
    return index


def test_argmax_and_argmin_skip_nan_as_the_tfjs_kernel_does():
    nan, inf = float("nan"), float("inf")
    assert lm.argmax(lm.tensor([1.0, nan, 3.0])).item() == 2  # numpy's argmax says 1
    assert lm.argmin(lm.tensor([1.0, nan, -3.0])).item() == 2
    assert lm.argmax(lm.tensor([nan, 1.0, 3.0])).item() == 0  # a NaN first is never beaten
    rng = np.random.default_rng(11)
    for _ in range(200):
        x = rng.choice([nan, -inf, inf, -1.0, 0.0, 2.0], size=(3, int(rng.integers(1, 6)))).astype(np.float32)
        for axis in (0, 1):
            rows = np.moveaxis(x, axis, -1)
            assert lm.argmax(lm.tensor(x), axis=axis).array() == \
                [tfjs_arg_kernel(list(r), lambda a, b: a > b) for r in rows]
            assert lm.argmin(lm.tensor(x), axis=axis).array() == \
                [tfjs_arg_kernel(list(r), lambda a, b: a < b) for r in rows]


def test_argmax_errors():
    with pytest.raises(ValueError, match="argmax: x must have rank 1 or more"):
        lm.argmax(lm.scalar(1.0))
    with pytest.raises(TypeError, match="argmax: axis must be an int, got \\[0, 1\\]"):
        lm.argmax(lm.zeros([2, 2]), axis=[0, 1])
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        lm.argmin(lm.zeros([2, 2]), axis=2)


def test_any_and_all():
    b = np.array([[True, False, False], [True, True, True]])
    for axis in [None, 0, 1, -1]:
        for keep_dims in [False, True]:
            got_any = lm.any(lm.tensor(b), axis=axis, keep_dims=keep_dims)
            got_all = lm.all(lm.tensor(b), axis=axis, keep_dims=keep_dims)
            assert got_any.dtype == "bool"
            np.testing.assert_array_equal(got_any.numpy(), np.any(b, axis=axis, keepdims=keep_dims))
            np.testing.assert_array_equal(got_all.numpy(), np.all(b, axis=axis, keepdims=keep_dims))
    assert lm.all([True, True]).item() is True


def test_any_needs_a_bool_tensor():
    with pytest.raises(TypeError, match="Argument 'x' passed to 'any' must be bool tensor, but got float32 tensor"):
        lm.any(lm.tensor([1.0, 0.0]))


@pytest.mark.parametrize("axis", [None, 0, [1, 2], -1])
@pytest.mark.parametrize("keep_dims", [False, True])
def test_moments_values(axis, keep_dims, x3):
    out = lm.moments(lm.tensor(x3), axis, keep_dims)
    want_mean = np.mean(x3.astype(np.float64), axis=np_axis(axis), keepdims=keep_dims)
    want_var = np.var(x3.astype(np.float64), axis=np_axis(axis), keepdims=keep_dims)
    assert sorted(out) == ["mean", "variance"]
    assert out["mean"].shape == list(np.shape(want_mean)) == out["variance"].shape
    np.testing.assert_allclose(out["mean"].numpy(), want_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["variance"].numpy(), want_var, rtol=1e-5)


def test_moments_of_int32_are_float32():
    out = lm.moments(lm.tensor([1, 2, 3, 6], dtype="int32"))
    assert out["mean"].dtype == "float32" and out["mean"].item() == 3.0
    assert out["variance"].item() == pytest.approx(3.5)


@pytest.mark.parametrize("axis,keep_dims", [(None, False), (0, True), ([1, 2], False), (-1, False)])
def test_moments_gradients(axis, keep_dims):
    x = np.random.default_rng(1).standard_normal((2, 3, 2))
    check_gradients(lambda t: lm.moments(t, axis, keep_dims)["variance"], x)
    check_gradients(lambda t: lm.moments(t, axis, keep_dims)["mean"], x)


VECTOR_ORDS = [("euclidean", 2), (2, 2), (1, 1), (math.inf, np.inf), (-math.inf, -np.inf)]
MATRIX_ORDS = [("euclidean", "fro"), ("fro", "fro"), (1, 1), (math.inf, np.inf), (-math.inf, -np.inf)]


@pytest.mark.parametrize("ord,np_ord", VECTOR_ORDS)
@pytest.mark.parametrize("axis", [0, -1, [1]])
def test_vector_norms_match_numpy(ord, np_ord, axis, x3):
    got = lm.norm(lm.tensor(x3), ord, axis)
    want = np.linalg.norm(x3.astype(np.float64), np_ord, axis=np_axis(axis) if axis != [1] else 1)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


@pytest.mark.parametrize("ord,np_ord", MATRIX_ORDS)
@pytest.mark.parametrize("axis", [[0, 1], [1, 2], [2, 1], [-1, 0]])
def test_matrix_norms_match_numpy(ord, np_ord, axis, x3):
    got = lm.norm(lm.tensor(x3), ord, axis)
    want = np.linalg.norm(x3.astype(np.float64), np_ord, axis=tuple(axis))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


def test_norm_without_axis_is_the_norm_of_all_values(x3):
    flat = x3.reshape(-1).astype(np.float64)
    assert lm.norm(lm.tensor(x3)).item() == pytest.approx(np.linalg.norm(flat), rel=1e-6)
    assert lm.norm(lm.tensor(x3), 1).item() == pytest.approx(np.abs(flat).sum(), rel=1e-6)
    assert lm.norm(lm.tensor(x3), math.inf, keep_dims=True).shape == [1, 1, 1]
    assert lm.norm(lm.scalar(-3.0)).item() == 3.0


@pytest.mark.parametrize("axis,keep_dims,shape", [(None, True, [1, 1, 1]), (1, True, [2, 1, 4]),
                                                  ([0, 2], True, [1, 3, 1]), ([0, 2], False, [3])])
def test_norm_keep_dims_shapes(axis, keep_dims, shape, x3):
    assert lm.norm(lm.tensor(x3), "euclidean", axis, keep_dims).shape == shape


@pytest.mark.parametrize("ord", ["euclidean", 1, math.inf, -math.inf])
def test_vector_norm_gradients(ord, x3):
    check_gradients(lambda t: lm.norm(t, ord, axis=1), x3[:, :, :2])
    check_gradients(lambda t: lm.norm(t, ord), x3[0])


@pytest.mark.parametrize("ord", ["fro", 1, math.inf, -math.inf])
def test_matrix_norm_gradients(ord):
    # Random values: no two row or column sums tie (a tie would share the max's gradient).
    x = np.random.default_rng(2).standard_normal((2, 3, 3))
    check_gradients(lambda t: lm.norm(t, ord, axis=[1, 2], keep_dims=True), x)
    check_gradients(lambda t: lm.norm(t, ord, axis=[2, 0]), x)


def test_norm_gradient_at_zero_is_zero_not_nan():
    g = lm.grad(lambda t: lm.norm(t))(lm.zeros([3]))
    assert g.array() == [0.0, 0.0, 0.0]


def test_norm_errors():
    with pytest.raises(ValueError, match="Error in norm: invalid ord value: 2 \\(a matrix norm takes"):
        lm.norm(lm.zeros([2, 2]), 2, axis=[0, 1])
    with pytest.raises(ValueError, match="Error in norm: invalid ord value: fro \\(a vector norm takes"):
        lm.norm(lm.zeros([3]), "fro")
    with pytest.raises(ValueError, match="Error in norm: invalid ord value: 3"):
        lm.norm(lm.zeros([3]), 3)
    with pytest.raises(ValueError, match="Error in norm: invalid axis: \\[0, 1, 2\\]"):
        lm.norm(lm.zeros([2, 2, 2]), axis=[0, 1, 2])
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        lm.norm(lm.zeros([2, 2]), axis=2)
