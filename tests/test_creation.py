import math

import numpy as np
import pytest

import lamina as lm
from lamina import random as lm_random


def float32_running_sum(first, step, count):
    """TF.js's range/linspace kernel written out: each value is the previous float32 plus step."""
    values, value = [], float(np.float32(first))
    for _ in range(count):
        values.append(value)
        value = float(np.float32(value + step))
    return np.array(values, np.float32)


# ---------------------------------------------------------------- constants

def test_zeros_ones_fill():
    assert lm.zeros([2, 3]).array() == [[0.0] * 3] * 2
    assert lm.zeros([2, 3]).dtype == "float32"
    assert lm.ones([2], dtype="int32").array() == [1, 1]
    assert lm.ones([], dtype="bool").array() is True
    assert lm.zeros([0, 4]).shape == [0, 4]
    assert lm.fill([2, 2], 4).array() == [[4.0, 4.0], [4.0, 4.0]]
    assert lm.fill([2], 4).dtype == "float32"  # JS numbers are float32 in TF.js
    assert lm.fill([2], True).dtype == "bool"
    assert lm.fill([3], 2.7, dtype="int32").array() == [2, 2, 2]


def test_like_ops_keep_shape_and_dtype():
    x = lm.tensor(np.arange(6).reshape(2, 3))
    for fn, value in ((lm.zeros_like, 0), (lm.ones_like, 1)):
        y = fn(x)
        assert (y.shape, y.dtype) == ([2, 3], "int32")
        np.testing.assert_array_equal(y.numpy(), np.full((2, 3), value))
    assert lm.ones_like([[1.5, 2.0]]).array() == [[1.0, 1.0]]


def test_created_tensors_are_read_only():
    for t in (lm.zeros([2]), lm.eye(2, batch_shape=[2]), lm.one_hot([0], 2), lm.random_normal([2])):
        assert not t._data.flags.writeable


@pytest.mark.parametrize("bad", [[2, -1], [2.0, 3], "23", 3, [True, 2], None])
def test_bad_shapes_name_the_argument(bad):
    with pytest.raises((TypeError, ValueError), match="shape must be a list of non-negative ints"):
        lm.zeros(bad)


def test_bad_dtype_and_value():
    with pytest.raises(ValueError, match="dtype must be one of float32, int32, bool, got 'float64'"):
        lm.ones([2], dtype="float64")
    with pytest.raises(TypeError, match="value must be a number or a bool"):
        lm.fill([2], "x")


# ---------------------------------------------------------------- one_hot

def test_one_hot_matches_tfjs_example():
    # tf.oneHot(tf.tensor1d([0, 1], 'int32'), 3) -> [[1, 0, 0], [0, 1, 0]], int32
    out = lm.one_hot(lm.tensor([0, 1], dtype="int32"), 3)
    assert out.dtype == "int32"
    assert out.array() == [[1, 0, 0], [0, 1, 0]]


def test_one_hot_values_shape_and_out_of_range_rows():
    indices = np.array([[0, 3], [-1, 2]], np.int32)
    out = lm.one_hot(indices, 3, on_value=5, off_value=-1, dtype="float32")
    expected = np.full((2, 2, 3), -1.0, np.float32)
    expected[0, 0, 0] = 5
    expected[1, 1, 2] = 5  # index 3 and -1 are outside [0, 3): their rows stay off
    assert out.dtype == "float32"
    np.testing.assert_array_equal(out.numpy(), expected)


def test_one_hot_accepts_lists_of_whole_numbers():
    assert lm.one_hot([2, 0], 3).array() == [[0, 0, 1], [1, 0, 0]]


def test_one_hot_errors():
    with pytest.raises(ValueError, match="Error in oneHot: depth must be >=2, but it is 1"):
        lm.one_hot([0], 1)
    with pytest.raises(ValueError, match="Argument 'indices' passed to 'oneHot' must be int32 tensor, "
                                         "but got float32 tensor"):
        lm.one_hot(lm.tensor([0.0, 1.0]), 2)
    with pytest.raises(ValueError, match="must be int32"):
        lm.one_hot([0.5], 2)
    with pytest.raises(TypeError, match="depth must be an int"):
        lm.one_hot([0], 2.0)


# ---------------------------------------------------------------- range, linspace, eye

@pytest.mark.parametrize("args, expected", [
    ((0, 9, 2), [0, 2, 4, 6, 8]),       # the TF.js doc example
    ((5,), [0, 1, 2, 3, 4]),            # lm.range(n) = range(0, n)
    ((5, 0), [5, 4, 3, 2, 1]),          # decreasing with the default step counts down
    ((5, 0, -2), [5, 3, 1]),
    ((0.5, 3), [0.5, 1.5, 2.5]),
    ((3, 3), []),                       # start == stop
    ((0, 5, -1), []),                   # step away from stop
    ((5, 0, 2), []),
    ((5, 0, 0.5), []),
])
def test_range(args, expected):
    out = lm.range(*args)
    assert (out.dtype, out.shape) == ("float32", [len(expected)])
    np.testing.assert_array_equal(out.numpy(), np.array(expected, np.float32))


def test_range_fractional_step_accumulates_in_float32_like_tfjs():
    out = lm.range(0, 1, 0.1).numpy()
    np.testing.assert_array_equal(out, float32_running_sum(0, 0.1, 10))
    np.testing.assert_allclose(out, np.arange(10) * 0.1, atol=1e-6)


def test_range_int32_truncates_like_an_int32_array():
    assert lm.range(0.5, 3, dtype="int32").array() == [0, 1, 2]
    assert lm.range(3, -1, -1, dtype="int32").array() == [3, 2, 1, 0]


def test_range_errors():
    with pytest.raises(ValueError, match="Cannot have a step of zero"):
        lm.range(0, 3, 0)
    with pytest.raises(ValueError, match="range: dtype must be 'float32' or 'int32'"):
        lm.range(0, 3, dtype="bool")
    with pytest.raises(TypeError, match="stop must be a number"):
        lm.range(0, "3")


def test_linspace():
    np.testing.assert_array_equal(lm.linspace(0, 9, 10).numpy(), np.arange(10, dtype=np.float32))
    assert lm.linspace(2, 5, 1).array() == [2.0]
    out = lm.linspace(0, 1, 11).numpy()
    np.testing.assert_array_equal(out, float32_running_sum(0, 0.1, 11))
    np.testing.assert_allclose(out, np.linspace(0, 1, 11), atol=1e-6)
    with pytest.raises(ValueError, match="The number of values should be positive."):
        lm.linspace(0, 1, 0)


def test_eye():
    np.testing.assert_array_equal(lm.eye(3).numpy(), np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(lm.eye(2, 4, dtype="int32").numpy(), np.eye(2, 4, dtype=np.int32))
    batched = lm.eye(2, 3, batch_shape=[4, 2])
    assert batched.shape == [4, 2, 2, 3]
    np.testing.assert_array_equal(batched.numpy()[3, 1], np.eye(2, 3))
    with pytest.raises(ValueError, match="batch_shape must be a list of non-negative ints"):
        lm.eye(2, batch_shape=[-1])
    with pytest.raises(TypeError, match="num_rows must be an int"):
        lm.eye(2.5)


# ---------------------------------------------------------------- random values

def test_random_normal_statistics():
    x = lm.random_normal([200, 100], mean=3, stddev=2, seed=0).numpy()
    assert x.dtype == np.float32
    assert abs(x.mean() - 3) < 0.05 and abs(x.std() - 2) < 0.05


def test_random_normal_int32_rounds_half_up_like_math_round():
    assert lm.random_normal([3], mean=2.5, stddev=0, dtype="int32").array() == [3, 3, 3]
    assert lm.random_normal([3], mean=-2.5, stddev=0, dtype="int32").array() == [-2, -2, -2]


def test_random_uniform_range_and_statistics():
    x = lm.random_uniform([20000], -2, 4, seed=1).numpy()
    assert x.min() >= -2 and x.max() < 4
    assert abs(x.mean() - 1) < 0.05 and abs(x.var() - 36 / 12) < 0.1
    ints = lm.random_uniform([5000], -3, 3, dtype="int32", seed=2).numpy()
    assert ints.dtype == np.int32 and set(np.unique(ints)) == set(range(-3, 3))


def test_random_uniform_float32_rounding_never_reaches_maxval(monkeypatch):
    class AlmostOne:
        def random(self, shape):
            return np.full(shape, 1 - 2.0 ** -53)

    monkeypatch.setattr(lm_random, "generator", lambda seed=None: AlmostOne())
    x = lm.random_uniform([3], 0, 1).numpy()
    assert (x < 1).all()


def test_truncated_normal_redraws_beyond_two_stddev():
    x = lm.truncated_normal([100000], mean=1, stddev=0.5, seed=3).numpy().astype(np.float64)
    assert x.min() >= 0 - 1e-6 and x.max() <= 2 + 1e-6
    assert abs(x.mean() - 1) < 0.01
    # variance of a standard normal truncated at +-2: 1 - 4 phi(2) / (Phi(2) - Phi(-2))
    phi2 = math.exp(-2) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    assert abs(x.var() - 0.25 * (1 - 4 * phi2 / mass)) < 0.005
    assert x.max() > 1.99  # the tails up to the cut are kept, not clipped


def test_random_ops_reject_bool_and_bad_arguments():
    for op in (lm.random_normal, lm.random_uniform, lm.truncated_normal):
        with pytest.raises(ValueError, match="dtype must be 'float32' or 'int32', got 'bool'"):
            op([2], dtype="bool")
        with pytest.raises(ValueError, match="shape must be a list of non-negative ints"):
            op([-2])
    with pytest.raises(TypeError, match="mean must be a number"):
        lm.random_normal([2], mean="0")
    with pytest.raises(ValueError, match="stddev must be >= 0"):
        lm.truncated_normal([2], stddev=-1)
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        lm.random_uniform([2], seed=-1)


# --- tensor1d ... tensor4d (TF.js tfjs-core/src/ops/tensor{1,2,3,4}d.ts) ----------------

def test_tensor1d_to_4d_shapes_and_values():
    assert lm.tensor1d([1, 2, 3]).array() == [1.0, 2.0, 3.0]
    assert lm.tensor1d([1, 2], dtype="int32").dtype == "int32"
    assert lm.tensor2d([[1, 2], [3, 4]]).array() == [[1.0, 2.0], [3.0, 4.0]]
    assert lm.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]).array() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert lm.tensor3d([[[1], [2]], [[3], [4]]]).shape == [2, 2, 1]
    assert lm.tensor3d(np.arange(6), [1, 2, 3], "int32").array() == [[[0, 1, 2], [3, 4, 5]]]
    assert lm.tensor4d([[[[1, 2]]]]).shape == [1, 1, 1, 2]
    assert lm.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]).numpy().reshape(-1).tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize("make, message", [
    (lambda: lm.tensor1d([[1, 2]]), r"^tensor1d\(\) requires values to be a flat/TypedArray, got values of shape \[1, 2\]$"),
    (lambda: lm.tensor1d(3.0), r"^tensor1d\(\) requires values to be a flat/TypedArray"),
    (lambda: lm.tensor2d([1, 2, 3, 4], [4]), r"^tensor2d\(\) requires shape to have two numbers, got shape \[4\]$"),
    (lambda: lm.tensor2d([1, 2, 3, 4]), r"^tensor2d\(\) requires shape to be provided when `values` are a flat"),
    (lambda: lm.tensor2d([[[1]]]), r"^tensor2d\(\) requires values to be number\[\]\[\] or flat/TypedArray"),
    (lambda: lm.tensor3d([1, 2], [1, 2]), r"^tensor3d\(\) requires shape to have three numbers"),
    (lambda: lm.tensor3d([[1, 2]]), r"^tensor3d\(\) requires values to be number\[\]\[\]\[\] or flat/TypedArray"),
    (lambda: lm.tensor4d([1, 2]), r"^tensor4d\(\) requires shape to be provided when `values` are a flat array"),
    (lambda: lm.tensor4d([1, 2, 3], [1, 1, 1, 2]), r"shape \[1, 1, 1, 2\] has 2 elements but values has 3"),
])
def test_tensor_nd_errors_are_tfjs(make, message):
    with pytest.raises(ValueError, match=message):
        make()

