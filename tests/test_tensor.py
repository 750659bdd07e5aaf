import numpy as np
import pytest

import lamina as lm


def test_shape_dtype_rank_size():
    t = lm.tensor([[1, 2, 3], [4, 5, 6]])
    assert (t.shape, t.dtype, t.rank, t.size) == ([2, 3], "float32", 2, 6)
    s = lm.scalar(2.5)
    assert (s.shape, s.rank, s.size) == ([], 0, 1)
    assert lm.tensor(np.zeros((0, 3))).size == 0


@pytest.mark.parametrize("values, dtype", [
    ([1, 2], "float32"),                            # Python numbers are JS numbers: float32
    (np.array([1.5], np.float64), "float32"),
    (np.array([1], np.float16), "float32"),
    (np.arange(3, dtype=np.int64), "int32"),
    (np.array([1], np.uint8), "int32"),
    ([True, False], "bool"),
    (np.array([True]), "bool"),
])
def test_dtype_inference(values, dtype):
    assert lm.tensor(values).dtype == dtype


def test_float64_values_are_rounded_to_float32():
    t = lm.tensor(np.array([0.1], np.float64))
    assert t.numpy().dtype == np.float32
    assert t.numpy()[0] == np.float32(0.1)


def test_explicit_dtype_and_shape():
    t = lm.tensor([1.7, -2.7], dtype="int32")
    assert t.array() == [1, -2]  # truncated toward zero, as an Int32Array stores them
    assert lm.tensor([1, 2, 3, 4, 5, 6], shape=[3, 2]).array() == [[1, 2], [3, 4], [5, 6]]
    with pytest.raises(ValueError, match=r"shape \[4\] has 4 elements but values has 3"):
        lm.tensor([1, 2, 3], shape=[4])
    with pytest.raises(ValueError, match="dtype must be one of float32, int32, bool"):
        lm.tensor([1], dtype="float64")


def test_bad_values():
    with pytest.raises(ValueError, match="values must be a number, a nested list of numbers or an array"):
        lm.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="must hold numbers or booleans"):
        lm.tensor(["a"])
    with pytest.raises(ValueError, match="single number"):
        lm.scalar([1, 2])


def test_reading_values():
    t = lm.tensor([[1, 2], [3, 4]], dtype="int32")
    np.testing.assert_array_equal(t.numpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(t.data_sync(), [1, 2, 3, 4])
    np.testing.assert_array_equal(t.data(), [1, 2, 3, 4])
    assert t.array() == [[1, 2], [3, 4]] and isinstance(t.array()[0][0], int)
    assert lm.scalar(3).item() == 3.0 and isinstance(lm.scalar(3).item(), float)
    assert lm.tensor([[7]], dtype="int32").item() == 7
    assert lm.scalar(2.5).array() == 2.5
    with pytest.raises(ValueError, match=r"item\(\) needs a tensor with one element, got shape \[2\]"):
        lm.tensor([1, 2]).item()
    assert float(lm.scalar(1.5)) == 1.5 and int(lm.scalar(3)) == 3
    assert len(t) == 2
    with pytest.raises(TypeError, match="len"):
        len(lm.scalar(1))


def test_truth_value():
    assert bool(lm.scalar(1)) and not bool(lm.tensor([0]))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(lm.tensor([1, 1]))


def test_numpy_interop():
    t = lm.tensor([1, 2])
    a = np.asarray(t)
    np.testing.assert_array_equal(a, [1, 2])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.add(t, 1).tolist() == [2.0, 3.0]


def test_values_handed_out_are_copies():
    t = lm.tensor([1, 2])
    for array in (t.numpy(), t.data_sync(), np.asarray(t)):
        array[0] = 99
    assert t.array() == [1.0, 2.0]


def test_the_array_behind_a_tensor_is_read_only():
    source = np.array([1.0, 2.0, 3.0, 4.0])
    for t in (lm.tensor(source), lm.tensor(source, shape=[2, 2]), lm.scalar(1),
              lm.reshape(lm.variable([1.0, 2.0]), [2, 1]), lm.tensor([1.0]) + 1):
        assert not t._data.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            np.array(t, copy=False)[...] = 0
    source[0] = 10  # the tensor owns a copy of user data
    assert lm.tensor(source).array()[0] == 10 and lm.tensor([1.0]).array() == [1.0]


def test_tensor_from_tensor_copies_and_converts():
    t = lm.tensor([1.5, 2.5])
    u = lm.tensor(t, dtype="int32")
    assert (u.dtype, u.array()) == ("int32", [1, 2])
    assert lm.tensor(t) is not t and lm.tensor(t).array() == t.array()


def test_tensors_hash_by_identity():
    a, b = lm.tensor([1]), lm.tensor([1])
    assert len({a, b}) == 2


# ---------------------------------------------------------------- Variable

def test_unnamed_variables_count_up():
    a, b = lm.variable(lm.zeros([1])), lm.variable(lm.zeros([1]))
    assert a.name.isdigit() and int(b.name) == int(a.name) + 1
    named = lm.variable(lm.zeros([1]), name="w")
    c = lm.variable(lm.zeros([1]))
    assert named.name == "w" and int(c.name) == int(b.name) + 1  # a given name takes no number


def test_variable_owns_a_copy_and_assign_keeps_its_buffer():
    init = lm.tensor([1.0, 2.0])
    v = lm.variable(init)
    buffer = v._data
    assert v._data.flags.writeable and v._data is not init._data
    v.assign(lm.tensor([3.0, 4.0]))
    v.assign([5, 6])
    v.assign(np.array([7.0, 8.0]))
    assert v._data is buffer and v.array() == [7.0, 8.0]
    assert init.array() == [1.0, 2.0]
    assert isinstance(v, lm.Tensor) and v.dtype == "float32"


def test_variable_from_lists_and_dtype():
    v = lm.variable([[1, 2]], dtype="int32")
    assert (v.dtype, v.shape) == ("int32", [1, 2])
    assert lm.variable(lm.tensor([1.5]), dtype="int32").array() == [1]
    assert lm.variable(np.zeros(3)).dtype == "float32"


def test_assign_errors():
    v = lm.variable(lm.zeros([2, 2]))
    with pytest.raises(ValueError, match=r"assign: value must have shape \[2, 2\] \(the variable's\), "
                                         r"got shape \[3\]"):
        v.assign(lm.zeros([3]))
    with pytest.raises(ValueError, match="assign: value must have dtype float32 \\(the variable's\\), got int32"):
        v.assign(lm.zeros([2, 2], dtype="int32"))
    assert v.array() == [[0.0, 0.0], [0.0, 0.0]]


def test_trainable_and_name_checks():
    assert lm.variable(lm.zeros([1])).trainable is True
    assert lm.variable(lm.zeros([1]), trainable=False).trainable is False
    with pytest.raises(TypeError, match="trainable must be a bool, got int"):
        lm.variable(lm.zeros([1]), trainable=1)
    with pytest.raises(TypeError, match="name must be a str, got int"):
        lm.variable(lm.zeros([1]), name=3)


def test_variable_repr_names_it():
    assert repr(lm.variable(lm.tensor([1, 2]), name="b")) == "Variable 'b'\nTensor\n    [1, 2]"


# ---------------------------------------------------------------- as_tensor

def test_as_tensor():
    t = lm.tensor([1])
    assert lm.as_tensor(t) is t
    assert lm.as_tensor([1, 2]).dtype == "float32"
    assert lm.as_tensor(3, dtype="int32").dtype == "int32"
    for bad, kind in ((None, "NoneType"), ("ab", "str"), ({"a": 1}, "dict")):
        with pytest.raises(TypeError, match=f"x must be a Tensor, a number, a list or a numpy array, got {kind}"):
            lm.as_tensor(bad)
    with pytest.raises(TypeError, match="weights must be a Tensor"):
        lm.as_tensor(None, argument="weights")


# --- TF.js names a translator types ---------------------------------------------------

def test_array_sync_and_data_sync_are_tfjs_array_and_data():
    t = lm.tensor([[1, 2], [3, 4]], dtype="int32")
    assert t.array_sync() == [[1, 2], [3, 4]] == t.array()
    flat = t.data_sync()  # TF.js's dataSync(): a flat typed array
    assert isinstance(flat, np.ndarray) and flat.dtype == np.int32 and flat.tolist() == [1, 2, 3, 4]
    assert lm.scalar(2.5).array_sync() == 2.5 and lm.scalar(2.5).data_sync().tolist() == [2.5]


def test_tidy_runs_fn_and_dispose_and_memory_are_harmless():
    assert lm.tidy(lambda: lm.tensor([2.0]).square()).array() == [4.0]
    assert lm.tidy("named", lambda: 7) == 7
    with pytest.raises(TypeError, match="tidy\\(\\) needs a function to run, got int"):
        lm.tidy(3)
    with pytest.raises(TypeError, match="name_or_fn passed to tidy\\(name, fn\\) must be a str, got int"):
        lm.tidy(1, lambda: 0)
    t = lm.tensor([1.0, 2.0])
    v = lm.variable(lm.tensor([3.0]))
    assert t.dispose() is None and lm.dispose([t, {"v": v}]) is None
    assert t.array() == [1.0, 2.0] and v.array() == [3.0]  # still usable: numpy owns the memory


def test_memory_counts_live_tensors_and_their_bytes():
    import gc
    gc.collect()
    before = lm.memory()
    big = lm.zeros([1000])  # 4000 bytes, one buffer
    view = big.reshape([10, 100])  # a second tensor over the same buffer
    after = lm.memory()
    assert set(after) == {"num_tensors", "num_data_buffers", "num_bytes", "unreliable", "reasons"}
    assert after["num_tensors"] - before["num_tensors"] == 2
    assert after["num_data_buffers"] - before["num_data_buffers"] == 1
    assert after["num_bytes"] - before["num_bytes"] == 4000
    del big, view
    gc.collect()
    assert lm.memory()["num_tensors"] == before["num_tensors"]
