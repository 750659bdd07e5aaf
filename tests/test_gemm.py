import numpy as np
import pytest

from lamina import _core


def reference(a, b, trans_a, trans_b):
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    return (a64.T if trans_a else a64) @ (b64.T if trans_b else b64)


SHAPES = [(1, 1, 1), (7, 13, 17), (32, 32, 784), (32, 784, 32), (784, 32, 32), (33, 65, 1100)]


@pytest.mark.parametrize("m,n,k", SHAPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_matmul_matches_numpy(each_isa, each_thread_count, rng, m, n, k, trans_a, trans_b):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    got = _core.matmul(a, b, trans_a=trans_a, trans_b=trans_b)
    assert got.dtype == np.float32 and got.shape == (m, n)
    np.testing.assert_allclose(got, reference(a, b, trans_a, trans_b), rtol=1e-4, atol=1e-4 * np.sqrt(k))


def test_gemm_alpha_beta_in_place(each_isa, rng):
    a = rng.standard_normal((5, 9)).astype(np.float32)
    b = rng.standard_normal((9, 4)).astype(np.float32)
    c = rng.standard_normal((5, 4)).astype(np.float32)
    want = 0.5 * reference(a, b, False, False) - 2.0 * c
    _core.gemm(a, b, c, alpha=0.5, beta=-2.0)
    np.testing.assert_allclose(c, want, rtol=1e-5, atol=1e-5)


def test_gemm_beta_zero_ignores_nan_in_c(rng):
    a = rng.standard_normal((3, 3)).astype(np.float32)
    c = np.full((3, 3), np.nan, dtype=np.float32)
    _core.gemm(a, a, c)
    np.testing.assert_allclose(c, reference(a, a, False, False), rtol=1e-5, atol=1e-6)


def test_same_bits_across_runs_and_thread_counts(rng):
    a = rng.standard_normal((300, 1200)).astype(np.float32)
    b = rng.standard_normal((1200, 70)).astype(np.float32)
    old = _core.get_num_threads()
    try:
        _core.set_num_threads(1)
        one = _core.matmul(a, b)
        _core.set_num_threads(2)
        two = _core.matmul(a, b)
        again = _core.matmul(a, b)
    finally:
        _core.set_num_threads(old)
    assert np.array_equal(one, two) and np.array_equal(two, again)


def test_wrong_dtype_is_a_type_error():
    a = np.ones((2, 3))
    with pytest.raises(TypeError, match="a must have dtype float32, got float64"):
        _core.matmul(a, np.ones((3, 2), np.float32))


def test_not_an_array_is_a_type_error():
    with pytest.raises(TypeError, match="b must be a numpy.ndarray of float32, got list"):
        _core.matmul(np.ones((2, 3), np.float32), [[1.0], [2.0], [3.0]])


def test_non_contiguous_is_a_value_error():
    a = np.ones((4, 6), np.float32)[:, ::2]
    with pytest.raises(ValueError, match=r"a must be C-contiguous, got a strided array of shape \(4, 3\)"):
        _core.matmul(a, np.ones((3, 2), np.float32))


def test_mismatched_inner_dimension():
    with pytest.raises(ValueError, match=r"b must have shape \(3, \*\) to match a of shape \(2, 3\), got \(4, 2\)"):
        _core.matmul(np.ones((2, 3), np.float32), np.ones((4, 2), np.float32))


def test_wrong_rank():
    with pytest.raises(ValueError, match=r"a must be 2-D, got shape \(6,\)"):
        _core.matmul(np.ones(6, np.float32), np.ones((6, 1), np.float32))


def test_wrong_output_shape_and_read_only_output():
    a = np.ones((2, 3), np.float32)
    b = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"c must have shape \(2, 4\) \(the shape of op\(a\)·op\(b\)\), got \(4, 2\)"):
        _core.gemm(a, b, np.zeros((4, 2), np.float32))
    c = np.zeros((2, 4), np.float32)
    c.setflags(write=False)
    with pytest.raises(ValueError, match="c must be a writeable array, got a read-only one"):
        _core.gemm(a, b, c)


def test_output_aliasing_an_input_is_refused():
    a = np.ones((3, 3), np.float32)
    with pytest.raises(ValueError, match="c must not share memory with a"):
        _core.gemm(a, np.ones((3, 3), np.float32), a)


def test_non_finite_alpha_is_refused():
    a = np.ones((2, 2), np.float32)
    with pytest.raises(ValueError, match="alpha must be a finite number, got nan"):
        _core.gemm(a, a.copy(), np.zeros((2, 2), np.float32), alpha=float("nan"))


def test_empty_dimensions():
    got = _core.matmul(np.ones((0, 3), np.float32), np.ones((3, 5), np.float32))
    assert got.shape == (0, 5)
    got = _core.matmul(np.ones((2, 0), np.float32), np.ones((0, 5), np.float32))
    np.testing.assert_array_equal(got, np.zeros((2, 5), np.float32))


def test_misaligned_array_is_refused():
    raw = np.zeros(4 * 6 + 1, np.uint8)
    a = np.frombuffer(raw.data, dtype=np.float32, count=6, offset=1).reshape(2, 3)
    assert a.flags.c_contiguous and not a.flags.aligned
    with pytest.raises(ValueError, match="a must be aligned to its element size"):
        _core.matmul(a, np.ones((3, 2), np.float32))


def test_alpha_beyond_float32_range_is_refused():
    a = np.ones((2, 2), np.float32)
    with pytest.raises(ValueError, match="alpha must be a finite number, got 1e"):
        _core.gemm(a, a.copy(), np.zeros((2, 2), np.float32), alpha=1e300)
