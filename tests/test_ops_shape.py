import functools

import numpy as np
import pytest

import lamina as lm
from gradcheck import check_gradients


@pytest.fixture
def x3():
    return np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)


def weighted_sum(pieces):
    """sum_i (i + 1) * sum(piece_i): a scalar that tells each piece's gradient apart."""
    return functools.reduce(lm.add, [lm.mul(lm.sum(p), float(i + 1)) for i, p in enumerate(pieces)])


# transpose

@pytest.mark.parametrize("perm", [None, [0, 1, 2], [2, 0, 1], [1, 2, 0], [0, 2, 1]])
def test_transpose_values_and_gradient(perm, x3):
    np.testing.assert_array_equal(lm.transpose(lm.tensor(x3), perm).numpy(), np.transpose(x3, perm))
    check_gradients(lambda t: lm.transpose(t, perm), x3)


def test_transpose_of_vector_and_method():
    assert lm.tensor([1.0, 2.0]).transpose().array() == [1.0, 2.0]
    assert lm.tensor([[1.0, 2.0]]).transpose().shape == [2, 1]


def test_transpose_errors():
    x = lm.zeros([2, 3])
    with pytest.raises(ValueError, match=r"Error in transpose: rank of input 2 must match length of perm \[0\]"):
        lm.transpose(x, [0])
    with pytest.raises(ValueError, match=r"All entries in 'perm' must be between 0 and 1 but got \[0, 2\]"):
        lm.transpose(x, [0, 2])
    with pytest.raises(ValueError, match=r"perm must name each of the 2 axes once, got \[1, 1\]"):
        lm.transpose(x, [1, 1])
    with pytest.raises(TypeError, match="perm must be a list of ints"):
        lm.transpose(x, [0.0, 1.0])


# expand_dims and squeeze

@pytest.mark.parametrize("axis,shape", [(0, [1, 2, 3]), (1, [2, 1, 3]), (2, [2, 3, 1]),
                                        (-1, [2, 3, 1]), (-3, [1, 2, 3])])
def test_expand_dims(axis, shape):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = lm.expand_dims(lm.tensor(x), axis)
    assert got.shape == shape
    np.testing.assert_array_equal(got.numpy(), np.expand_dims(x, axis))
    check_gradients(lambda t: lm.expand_dims(t, axis), x)


def test_expand_dims_errors():
    with pytest.raises(ValueError, match=r"Axis must be in the interval \[-3, 2\], got 3"):
        lm.expand_dims(lm.zeros([2, 3]), 3)
    with pytest.raises(ValueError, match=r"Axis must be in the interval \[-3, 2\], got -4"):
        lm.expand_dims(lm.zeros([2, 3]), -4)


@pytest.mark.parametrize("axis,shape", [(None, [3]), (0, [3, 1]), ([0, 2], [3]), (-1, [1, 3])])
def test_squeeze(axis, shape):
    x = np.arange(3, dtype=np.float32).reshape(1, 3, 1)
    got = lm.squeeze(lm.tensor(x), axis)
    assert got.shape == shape
    np.testing.assert_array_equal(got.numpy().reshape(-1), x.reshape(-1))
    check_gradients(lambda t: lm.squeeze(t, axis), x)


def test_squeeze_errors():
    with pytest.raises(ValueError, match="Can't squeeze axis 1 since its dim '3' is not 1"):
        lm.squeeze(lm.zeros([1, 3, 1]), 1)
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        lm.squeeze(lm.zeros([1, 3, 1]), 3)


# concat and stack

@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_concat_values_and_gradient(axis):
    rng = np.random.default_rng(1)
    a_shape, b_shape = [2, 3, 2], [2, 3, 2]
    b_shape[axis] = 1
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    got = lm.concat([lm.tensor(a), lm.tensor(b)], axis)
    np.testing.assert_allclose(got.numpy(), np.concatenate([a, b], axis), rtol=1e-6)
    check_gradients(lambda p, q: lm.concat([p, q, p], axis), a, b)


def test_concat_upcasts_and_takes_one_tensor():
    got = lm.concat([lm.tensor([1, 2], dtype="int32"), lm.tensor([0.5])])
    assert got.dtype == "float32" and got.array() == [1.0, 2.0, 0.5]
    assert lm.concat([lm.tensor([True])]).dtype == "bool"


def test_concat_errors():
    with pytest.raises(ValueError, match=r"Error in concat2D: Shape of tensors\[1\] \(\[2, 3\]\) does not match "
                                         r"the shape of the rest \(\[2, 2\]\) along the non-concatenated axis 1"):
        lm.concat([lm.zeros([2, 2]), lm.zeros([2, 3])], 0)
    with pytest.raises(ValueError, match=r"Error in concat2D: rank of tensors\[1\] must be the same as the rank "
                                         r"of the rest \(2\)"):
        lm.concat([lm.zeros([2, 2]), lm.zeros([2])])
    with pytest.raises(ValueError, match="Pass at least one tensor to concat"):
        lm.concat([])
    with pytest.raises(TypeError, match="Argument tensors passed to concat must be a list of tensors"):
        lm.concat(lm.zeros([2]))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        lm.concat([lm.zeros([2, 2])], 2)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack_values_and_gradient(axis):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    got = lm.stack([lm.tensor(a), lm.tensor(b)], axis)
    np.testing.assert_allclose(got.numpy(), np.stack([a, b], axis), rtol=1e-6)
    check_gradients(lambda p, q: lm.stack([p, q], axis), a, b)


def test_stack_of_one_tensor_and_of_scalars():
    assert lm.stack([lm.tensor([1.0, 2.0])]).shape == [1, 2]
    assert lm.stack([lm.scalar(1.0), lm.scalar(2.0)]).array() == [1.0, 2.0]


def test_concat_and_stack_method_forms_put_the_tensor_first():
    # TF.js: t.concat(x) is tf.concat([t, ...x]) (x a tensor or a list); t.stack(x) likewise
    a, b, c = np.float32([[1, 2]]), np.float32([[3, 4]]), np.float32([[5, 6]])
    ta, tb, tc = lm.tensor(a), lm.tensor(b), lm.tensor(c)
    np.testing.assert_array_equal(ta.concat(tb).numpy(), np.concatenate([a, b]))
    np.testing.assert_array_equal(ta.concat([tb, tc]).numpy(), np.concatenate([a, b, c]))
    np.testing.assert_array_equal(ta.concat((tb,), axis=1).numpy(), np.concatenate([a, b], axis=1))
    np.testing.assert_array_equal(ta.concat(b, 1).numpy(), np.concatenate([a, b], axis=1))
    np.testing.assert_array_equal(ta.stack(tb).numpy(), np.stack([a, b]))
    np.testing.assert_array_equal(ta.stack([tb, tc], axis=-1).numpy(), np.stack([a, b, c], axis=-1))
    check_gradients(lambda p, q: p.concat(q, axis=1), a, b)
    check_gradients(lambda p, q: p.stack([q, p], axis=1), a, b)
    with pytest.raises(TypeError, match="x passed to Tensor.concat must be a Tensor or a list of tensors, got int"):
        ta.concat(3)
    with pytest.raises(ValueError, match="All tensors passed to stack must have matching shapes"):
        ta.stack(lm.zeros([3]))


def test_stack_errors():
    with pytest.raises(ValueError, match=r"All tensors passed to stack must have matching shapes: tensors\[1\] "
                                         r"has shape \[3\], tensors\[0\] has shape \[2\]"):
        lm.stack([lm.zeros([2]), lm.zeros([3])])
    with pytest.raises(ValueError, match="All tensors passed to stack must have matching dtypes"):
        lm.stack([lm.zeros([2]), lm.tensor([1, 2], dtype="int32")])
    with pytest.raises(ValueError, match="Pass at least one tensor to tf.stack"):
        lm.stack([])
    with pytest.raises(ValueError, match=r"Axis must be in the interval \[-2, 1\], got 2"):
        lm.stack([lm.zeros([2])], 2)


# unstack and split

@pytest.mark.parametrize("axis", [0, 1, -1])
def test_unstack_values_and_gradient(axis, x3):
    pieces = lm.unstack(lm.tensor(x3), axis)
    assert isinstance(pieces, list) and len(pieces) == x3.shape[axis]
    for i, p in enumerate(pieces):
        np.testing.assert_array_equal(p.numpy(), np.take(x3, i, axis=axis))
    check_gradients(lambda t: weighted_sum(lm.unstack(t, axis)), x3)


def test_unstack_pieces_left_unused_get_zero_gradient():
    g = lm.grad(lambda t: lm.unstack(t)[1].sum())(lm.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    assert g.array() == [[0, 0], [1, 1], [0, 0]]


def test_unstack_errors():
    with pytest.raises(ValueError, match=r"Axis = 2 is not in \[-2, 2\)"):
        lm.unstack(lm.zeros([2, 2]), 2)
    with pytest.raises(ValueError, match=r"Axis = 0 is not in \[-0, 0\)"):
        lm.unstack(lm.scalar(1.0))


@pytest.mark.parametrize("splits,axis,sizes", [(2, 0, [1, 1]), (3, 1, [1, 1, 1]), (2, -1, [2, 2]),
                                               ([1, 3], 2, [1, 3]), ([-1, 1], 1, [2, 1]),
                                               ([2, 0, -1], -1, [2, 0, 2])])
def test_split_values_and_gradient(splits, axis, sizes, x3):
    pieces = lm.split(lm.tensor(x3), splits, axis)
    assert [p.shape[axis] for p in pieces] == sizes
    boundaries = np.cumsum(sizes)[:-1]
    for p, want in zip(pieces, np.split(x3, boundaries, axis=axis)):
        np.testing.assert_array_equal(p.numpy(), want)
    check_gradients(lambda t: weighted_sum(lm.split(t, splits, axis)), x3)


def test_split_errors():
    x = lm.zeros([2, 5])
    with pytest.raises(ValueError, match="Number of splits must evenly divide the axis"):
        lm.split(x, 2, axis=1)
    with pytest.raises(ValueError, match="The sum of sizes must match the size of the axis dimension"):
        lm.split(x, [2, 2], axis=1)
    with pytest.raises(ValueError, match="The sum of sizes must match the size of the axis dimension"):
        lm.split(x, [4, 3, -1], axis=1)
    with pytest.raises(ValueError, match="There should be only one negative value in split array"):
        lm.split(x, [-1, -1], axis=1)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        lm.split(x, 1, axis=2)


# slice

@pytest.mark.parametrize("begin,size,index", [
    ([0, 1, 1], [2, 2, 3], np.s_[0:2, 1:3, 1:4]),
    ([1, 0, 2], [-1, -1, -1], np.s_[1:, :, 2:]),
    (1, None, np.s_[1:]),
    (1, 1, np.s_[1:2]),
    ([0, 2], [1], np.s_[0:1, 2:]),
    ([0, 3, 0], [2, 0, 4], np.s_[:, 3:3, :]),
])
def test_slice_values_and_gradient(begin, size, index, x3):
    got = lm.slice(lm.tensor(x3), begin, size)
    np.testing.assert_array_equal(got.numpy(), x3[index])
    check_gradients(lambda t: lm.slice(t, begin, size), x3)


def test_slice_errors():
    x = lm.zeros([2, 3])
    with pytest.raises(ValueError, match=r"Error in slice2D: begin\[1\] \+ size\[1\] \(4\) would overflow "
                                         r"input.shape\[1\] \(3\)"):
        lm.slice(x, [0, 1], [1, 3])
    with pytest.raises(ValueError, match="slice\\(\\) does not support negative begin indexing"):
        lm.slice(x, [0, -1])
    with pytest.raises(ValueError, match="Negative size values should be exactly -1 but got -2 for the slice\\(\\) "
                                         "size at index 0"):
        lm.slice(x, 0, -2)
    with pytest.raises(ValueError, match=r"Error in slice2D: Length of begin \[0, 0, 0\] must match the rank"):
        lm.slice(x, [0, 0, 0])
    with pytest.raises(ValueError, match=r"begin\[0\] \(3\) would overflow input.shape\[0\] \(2\)"):
        lm.slice(x, 3)


# gather

@pytest.mark.parametrize("indices,axis", [([2, 0], 0), ([1, 1, 0], 0), ([[0, 2], [1, 1]], 1),
                                          ([3, 0, 3], -1), ([], 1)])
def test_gather_values_and_gradient(indices, axis):
    x = np.random.default_rng(3).standard_normal((3, 3, 4)).astype(np.float32)
    idx = lm.tensor(np.array(indices, dtype=np.int32))
    got = lm.gather(lm.tensor(x), idx, axis)
    want = np.take(x, np.array(indices, dtype=np.int64), axis=axis)
    assert got.shape == list(want.shape)
    np.testing.assert_array_equal(got.numpy(), want)
    check_gradients(lambda t: lm.gather(t, idx, axis), x)


def test_gather_gradient_adds_repeated_indices():
    g = lm.grad(lambda t: lm.gather(t, [1, 1, 0, 1]).sum())(lm.tensor([5.0, 6.0, 7.0]))
    assert g.array() == [1.0, 3.0, 0.0]


def test_gather_accepts_int_lists_and_numpy_ints():
    x = lm.tensor([10.0, 20.0, 30.0])
    assert lm.gather(x, [2, 0]).array() == [30.0, 10.0]
    assert lm.gather(x, np.array([1], dtype=np.int64)).array() == [20.0]
    assert x.gather([1]).array() == [20.0]


def test_gather_errors():
    x = lm.tensor([10.0, 20.0, 30.0])
    with pytest.raises(TypeError, match="Argument 'indices' passed to 'gather' must be int32 tensor, but got "
                                        "float32 tensor"):
        lm.gather(x, lm.tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match="must be int32 indices, got float64 values"):
        lm.gather(x, [0.5])
    with pytest.raises(ValueError, match=r"GatherV2: the index value 3 is not in \[0, 2\]"):
        lm.gather(x, [0, 3])
    with pytest.raises(ValueError, match=r"GatherV2: the index value -1 is not in \[0, 2\]"):
        lm.gather(x, [-1])
    with pytest.raises(ValueError, match="axis 1 is out of range"):
        lm.gather(x, [0], axis=1)


# tile, pad, reverse

@pytest.mark.parametrize("reps", [[1, 1], [2, 1], [1, 3], [2, 2], [0, 2]])
def test_tile_values_and_gradient(reps):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(lm.tile(lm.tensor(x), reps).numpy(), np.tile(x, reps))
    check_gradients(lambda t: lm.tile(t, reps), x)


def test_tile_errors():
    with pytest.raises(ValueError, match=r"Error in tile: rank of input 2 must match length of reps \[2\]"):
        lm.tile(lm.zeros([2, 3]), [2])
    with pytest.raises(ValueError, match=r"reps must be non-negative, got \[1, -1\]"):
        lm.tile(lm.zeros([2, 3]), [1, -1])


@pytest.mark.parametrize("paddings,value", [([[1, 0], [0, 2]], 0.0), ([[0, 0], [3, 1]], -1.5),
                                            ([[2, 2], [0, 0]], 7.0)])
def test_pad_values_and_gradient(paddings, value):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = lm.pad(lm.tensor(x), paddings, value)
    np.testing.assert_array_equal(got.numpy(), np.pad(x, paddings, constant_values=value))
    check_gradients(lambda t: lm.pad(t, paddings, value), x)


def test_pad_keeps_int_dtype():
    got = lm.pad(lm.tensor([1, 2], dtype="int32"), [[1, 1]], 9)
    assert got.dtype == "int32" and got.array() == [9, 1, 2, 9]


def test_pad_errors():
    with pytest.raises(ValueError, match="pad\\(scalar\\) is not defined. Pass non-scalar to pad"):
        lm.pad(lm.scalar(1.0), [])
    with pytest.raises(ValueError, match="paddings must hold one \\[before, after\\] pair"):
        lm.pad(lm.zeros([2, 2]), [[1, 1]])
    with pytest.raises(ValueError, match="paddings must hold one \\[before, after\\] pair"):
        lm.pad(lm.zeros([2]), [[1, -1]])


@pytest.mark.parametrize("axis", [None, 0, [1, 2], -1])
def test_reverse_values_and_gradient(axis, x3):
    want = np.flip(x3, axis=None if axis is None else tuple(np.atleast_1d(axis)))
    np.testing.assert_array_equal(lm.reverse(lm.tensor(x3), axis).numpy(), want)
    check_gradients(lambda t: lm.reverse(t, axis), x3)


# views of a Variable do not follow its later assign

@pytest.mark.parametrize("op", [
    lambda v: lm.reshape(v, [4, 1]),
    lambda v: lm.transpose(lm.reshape(v, [4])),
    lambda v: lm.expand_dims(v, 0),
    lambda v: lm.squeeze(lm.expand_dims(v, 0)),
    lambda v: lm.slice(v, [1, 0]),
    lambda v: lm.unstack(v)[0],
    lambda v: lm.split(v, 2)[1],
    lambda v: lm.reverse(v, 0),
    lambda v: lm.transpose(v, [0, 1]),
])
def test_ops_do_not_return_a_view_of_a_variable(op):
    v = lm.variable(lm.tensor([[1.0, 2.0], [3.0, 4.0]]))
    out = op(v)
    before = out.numpy()
    v.assign(lm.zeros([2, 2]))
    np.testing.assert_array_equal(out.numpy(), before)
