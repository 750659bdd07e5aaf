import numpy as np
import pytest

from lamina import _core

EPS = 1e-7
LO, HI = float(np.float32(EPS)), float(np.float32(1 - EPS))  # TF.js's float32 clip bounds

SHAPES = [(1, 1), (7, 13), (33, 65), (256, 10), (256, 1000)]


# ---- float64 numpy references: the formulas, written independently of the kernels ----

def softmax_ref(x):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def xent_ref(z, t):
    z = z.astype(np.float64)
    m = z.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return -(t * (z - lse)).sum(axis=1)


def cce_ref(y, t):
    y = y.astype(np.float64)
    p = np.clip(y / y.sum(axis=1, keepdims=True), LO, HI)
    return -(t * np.log(p)).sum(axis=1)


def sparse_cce_ref(y, k):
    c = np.clip(y.astype(np.float64), LO, HI)
    q = c[np.arange(len(k)), k] / c.sum(axis=1)
    return -np.log(np.clip(q, LO, HI))


def numeric_grad(f, x, h=1e-6):
    """Central differences of the scalar f at x, in float64."""
    x = x.astype(np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        g[i] = (up - down) / (2 * h)
    return g


def probs_away_from_clip(rng, rows, cols):
    return rng.uniform(0.05, 1.0, (rows, cols)).astype(np.float32)


# ---- softmax ----

@pytest.mark.parametrize("rows,cols", SHAPES)
def test_softmax_matches_numpy(each_isa, each_thread_count, rng, rows, cols):
    x = (rng.standard_normal((rows, cols)) * 10).astype(np.float32)
    y = _core.softmax(x)
    assert y.dtype == np.float32 and y.shape == (rows, cols)
    np.testing.assert_allclose(y, softmax_ref(x), rtol=1e-5, atol=1e-7)
    dy = rng.standard_normal((rows, cols)).astype(np.float32)
    dx = _core.softmax_backward(y, dy)
    y64 = y.astype(np.float64)
    want = y64 * (dy - (dy * y64).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(dx, want, rtol=1e-5, atol=1e-6)


def test_softmax_backward_is_the_gradient(each_isa, rng):
    x = rng.standard_normal((3, 7)).astype(np.float32)
    dy = rng.standard_normal((3, 7)).astype(np.float32)
    dx = _core.softmax_backward(_core.softmax(x), dy)
    want = numeric_grad(lambda v: (dy * softmax_ref(v)).sum(), x)
    np.testing.assert_allclose(dx, want, rtol=1e-4, atol=1e-6)


def test_softmax_extreme_logits(each_isa):
    x = np.array([[-np.inf, 0, 1000, 999], [5, 5, 5, 5], [1, np.nan, 2, 3]], np.float32)
    y = _core.softmax(x)
    e = np.exp(-1.0)
    np.testing.assert_allclose(y[0], [0, 0, 1 / (1 + e), e / (1 + e)], rtol=1e-6)
    assert np.all(y[1] == 0.25) and np.all(np.isnan(y[2]))


# ---- softmax cross-entropy from logits ----

def test_softmax_cross_entropy_tfjs_value(each_isa):
    loss, dlogits = _core.softmax_cross_entropy(
        np.array([[0, 1]], np.float32), np.array([[1, 0]], np.float32))
    assert loss[0] == np.float32(1.3132616)
    np.testing.assert_allclose(dlogits, [[-0.7310586, 0.7310586]], rtol=1e-6)


@pytest.mark.parametrize("rows,cols", SHAPES)
def test_softmax_cross_entropy_matches_numpy(each_isa, each_thread_count, rng, rows, cols):
    z = (rng.standard_normal((rows, cols)) * 5).astype(np.float32)
    t = rng.uniform(0, 1, (rows, cols)).astype(np.float32)  # soft labels, rows not summing to 1
    loss, dlogits = _core.softmax_cross_entropy(z, t, grad_scale=1 / rows)
    np.testing.assert_allclose(loss, xent_ref(z, t), rtol=1e-5, atol=1e-6)
    want = (softmax_ref(z) * t.sum(axis=1, keepdims=True) - t) / rows
    np.testing.assert_allclose(dlogits, want, rtol=1e-5, atol=1e-7)
    loss_only, none = _core.softmax_cross_entropy(z, t, with_grad=False)
    assert none is None and np.array_equal(loss_only, loss)


def test_softmax_cross_entropy_gradient_by_finite_differences(each_isa, rng):
    z = rng.standard_normal((4, 6)).astype(np.float32)
    t = rng.uniform(0, 1, (4, 6)).astype(np.float32)
    _, dlogits = _core.softmax_cross_entropy(z, t, grad_scale=0.25)
    want = numeric_grad(lambda v: 0.25 * xent_ref(v, t).sum(), z)
    np.testing.assert_allclose(dlogits, want, rtol=1e-4, atol=1e-6)


def test_class_index_labels_equal_one_hot(each_isa, each_thread_count, rng):
    z = rng.standard_normal((50, 17)).astype(np.float32)
    k = rng.integers(0, 17, 50).astype(np.int32)
    one_hot = np.eye(17, dtype=np.float32)[k]
    want_loss, want_d = _core.softmax_cross_entropy(z, one_hot, grad_scale=0.5)
    for labels in (k, k.reshape(50, 1)):
        loss, d = _core.softmax_cross_entropy(z, labels, grad_scale=0.5)
        assert np.array_equal(loss, want_loss) and np.array_equal(d, want_d)
    np.testing.assert_allclose(want_loss, xent_ref(z, one_hot), rtol=1e-5)


def test_bad_class_index_names_row_and_value():
    z = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match=r"labels\[2\] is 3, not a class index in \[0, 3\)"):
        _core.softmax_cross_entropy(z, np.array([0, 1, 3, -1], np.int32))
    with pytest.raises(ValueError, match=r"labels\[1\] is -2147483648, not a class index"):
        _core.softmax_cross_entropy(z, np.array([0, -2**31, 1, 1], np.int32))


# ---- categorical cross-entropy on probabilities (TF.js semantics) ----

@pytest.mark.parametrize("y_pred,y_true,want", [
    ([0, 1], [1, 0], 16.11809539794922),
    ([0.2, 0.2], [1, 0], 0.6931472),
    ([1, 0], [1, 0], 1.1920930e-7),
    ([2, 2], [1, 0], np.log(2)),
    ([-1, 2], [1, 0], 16.118095),
    ([0.2, 0.2], [2, 0], 1.3862944),
])
def test_categorical_crossentropy_tfjs_values(each_isa, y_pred, y_true, want):
    loss = _core.categorical_crossentropy(np.array([y_pred], np.float32), np.array([y_true], np.float32))
    assert loss.shape == (1,) and loss.dtype == np.float32
    assert loss[0] == np.float32(want)


@pytest.mark.parametrize("rows,cols", SHAPES)
def test_categorical_crossentropy_matches_numpy(each_isa, each_thread_count, rng, rows, cols):
    y = rng.uniform(0, 1, (rows, cols)).astype(np.float32)
    if cols > 1:
        y[0, 0] = 0  # clipped to epsilon
    t = rng.uniform(0, 1, (rows, cols)).astype(np.float32)
    np.testing.assert_allclose(_core.categorical_crossentropy(y, t), cce_ref(y, t), rtol=1e-5, atol=1e-6)


def test_categorical_crossentropy_backward_by_finite_differences(each_isa, rng):
    y = probs_away_from_clip(rng, 4, 5)
    t = rng.uniform(0, 1, (4, 5)).astype(np.float32)
    w = rng.uniform(0.5, 2, 4).astype(np.float32)
    want = numeric_grad(lambda v: (w * cce_ref(v, t)).sum(), y)
    np.testing.assert_allclose(_core.categorical_crossentropy_backward(y, t, w), want, rtol=1e-4, atol=1e-6)
    # A number is the same weight for every row.
    want = numeric_grad(lambda v: 0.25 * cce_ref(v, t).sum(), y)
    np.testing.assert_allclose(_core.categorical_crossentropy_backward(y, t, 0.25), want, rtol=1e-4, atol=1e-6)


def test_categorical_crossentropy_backward_through_the_clip(each_isa, each_thread_count, rng):
    # Clipped entries (0, negative, a whole row in one class) pass no gradient through the
    # clip, but still get the normalisation's share: dprobs = g/s - sum(g*y)/s^2.
    y = rng.uniform(0.05, 1, (40, 33)).astype(np.float32)
    y[0, :3] = [0, -0.5, 0]
    y[1] = 0
    y[1, 4] = 2
    t = rng.uniform(0, 1, (40, 33)).astype(np.float32)
    w = rng.uniform(0.5, 2, 40).astype(np.float32)
    y64 = y.astype(np.float64)
    s = y64.sum(axis=1, keepdims=True)
    q = y64 / s
    g = np.where((q >= LO) & (q <= HI), -w[:, None] * t / np.clip(q, LO, HI), 0)
    want = g / s - (g * y64).sum(axis=1, keepdims=True) / s**2
    got = _core.categorical_crossentropy_backward(y, t, w)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.all(got[1][np.arange(33) != 4] == got[1, 0])  # only the normalisation term


def test_sparse_categorical_crossentropy(each_isa, each_thread_count, rng):
    loss = _core.sparse_categorical_crossentropy(np.array([[0, 1]], np.float32), np.array([[0]], np.int32))
    assert loss[0] == np.float32(16.118095)
    y = rng.uniform(0, 1, (60, 13)).astype(np.float32)
    y[0, 0] = 0
    k = rng.integers(0, 13, 60).astype(np.int32)
    np.testing.assert_allclose(_core.sparse_categorical_crossentropy(y, k), sparse_cce_ref(y, k), rtol=1e-5)


def test_sparse_categorical_crossentropy_backward_by_finite_differences(each_isa, rng):
    y = probs_away_from_clip(rng, 4, 5)
    k = np.array([0, 4, 2, 2], np.int32)
    w = rng.uniform(0.5, 2, 4).astype(np.float32)
    want = numeric_grad(lambda v: (w * sparse_cce_ref(v, k)).sum(), y)
    got = _core.sparse_categorical_crossentropy_backward(y, k, w)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match=r"labels\[3\] is 5, not a class index in \[0, 5\)"):
        _core.sparse_categorical_crossentropy_backward(y, np.array([0, 1, 2, 5], np.int32), 1.0)


def test_same_bits_across_runs_and_thread_counts(rng):
    z = rng.standard_normal((256, 1000)).astype(np.float32)
    t = rng.uniform(0, 1, (256, 1000)).astype(np.float32)
    old = _core.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 2):
            _core.set_num_threads(threads)
            results.append(np.concatenate([
                _core.softmax(z).ravel(), *(a.ravel() for a in _core.softmax_cross_entropy(z, t)),
                _core.categorical_crossentropy_backward(np.abs(z), t, 0.5).ravel()]))
    finally:
        _core.set_num_threads(old)
    assert all(np.array_equal(results[0], r) for r in results[1:])


# ---- bad input ----

def test_wrong_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="x must have dtype float32, got float64"):
        _core.softmax(np.ones((2, 3)))
    with pytest.raises(TypeError, match="labels must have dtype float32 .* or int32 .*, got int64"):
        _core.softmax_cross_entropy(np.ones((2, 3), np.float32), np.zeros(2, np.int64))
    with pytest.raises(TypeError, match="labels must have dtype int32, got float32"):
        _core.sparse_categorical_crossentropy(np.ones((2, 3), np.float32), np.zeros(2, np.float32))
    with pytest.raises(TypeError, match="probs must be a numpy.ndarray of float32, got list"):
        _core.categorical_crossentropy([[1.0, 0.0]], np.ones((1, 2), np.float32))
    with pytest.raises(TypeError, match=r"dloss must be a number or a float32 array of shape \(2,\), got str"):
        _core.categorical_crossentropy_backward(np.ones((2, 3), np.float32), np.ones((2, 3), np.float32), "1")


def test_non_contiguous_is_a_value_error():
    x = np.ones((4, 6), np.float32)[:, ::2]
    with pytest.raises(ValueError, match=r"logits must be C-contiguous, got a strided array of shape \(4, 3\)"):
        _core.softmax_cross_entropy(x, np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"dy must be C-contiguous"):
        _core.softmax_backward(np.ones((4, 3), np.float32), x)


def test_wrong_shapes_are_value_errors():
    a = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"x must be 2-D, got shape \(6,\)"):
        _core.softmax(np.ones(6, np.float32))
    with pytest.raises(ValueError, match=r"dy must have shape \(2, 3\) to match y of shape \(2, 3\), got \(3, 2\)"):
        _core.softmax_backward(a, np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"labels must have shape \(2, 3\) to match probs of shape \(2, 3\), got \(2, 4\)"):
        _core.categorical_crossentropy(a, np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"labels of dtype int32 must have shape \(2,\) or \(2, 1\) to match logits"):
        _core.softmax_cross_entropy(a, np.zeros(3, np.int32))
    with pytest.raises(ValueError, match=r"dloss must have shape \(2,\) \(one upstream gradient per row\), got \(3,\)"):
        _core.categorical_crossentropy_backward(a, a, np.ones(3, np.float32))


@pytest.mark.parametrize("epsilon", [-1e-7, 0.6, float("nan"), float("inf")])
def test_bad_epsilon(epsilon):
    a = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"epsilon must be a finite number in \[0, 0.5\]"):
        _core.categorical_crossentropy(a, a, epsilon=epsilon)


def test_bad_scales():
    a = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="grad_scale must be a finite number, got nan"):
        _core.softmax_cross_entropy(a, a, grad_scale=float("nan"))
    with pytest.raises(ValueError, match="dloss must be a finite number, got inf"):
        _core.categorical_crossentropy_backward(a, a, float("inf"))


def test_empty_batch():
    loss, d = _core.softmax_cross_entropy(np.ones((0, 3), np.float32), np.ones((0, 3), np.float32))
    assert loss.shape == (0,) and d.shape == (0, 3)
    assert _core.categorical_crossentropy(np.ones((0, 3), np.float32), np.ones((0, 3), np.float32)).shape == (0,)
