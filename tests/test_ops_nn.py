import numpy as np
import pytest

import lamina as lm
from lamina.random import generator


def test_dropout_is_tfjs_inverted_dropout_formula():
    # TF.js: x * floor(U[0, 1) + keep_prob) / keep_prob, all in float32.
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    keep = np.float32(1 - 0.3)
    u = generator(11).random((4, 5), dtype=np.float32)
    want = x * (np.floor(u + keep) / keep)
    np.testing.assert_array_equal(lm.dropout(lm.tensor(x), 0.3, seed=11).numpy(), want)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_statistics(rate):
    y = lm.dropout(lm.ones([200, 500]), rate, seed=3).numpy()
    keep = np.float32(1 - rate)
    assert set(np.unique(y).tolist()) == {0.0, float(np.float32(1) / keep)}
    # 100 000 draws: the dropped fraction and the mean are within ~5 standard errors.
    assert np.mean(y == 0) == pytest.approx(rate, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=5 * np.sqrt(rate / (1 - rate) / y.size))


def test_dropout_rate_zero_returns_x():
    x = lm.tensor([[1.0, -2.0]])
    assert lm.dropout(x, 0).array() == [[1.0, -2.0]]
    assert lm.grad(lambda t: lm.dropout(t, 0).sum())(x).array() == [[1.0, 1.0]]


def test_dropout_noise_shape_shares_the_mask():
    y = lm.dropout(lm.ones([50, 8]), 0.5, noise_shape=[50, 1], seed=4).numpy()
    assert (y == y[:, :1]).all()  # each row is all kept or all dropped
    assert 0 < (y[:, 0] == 0).sum() < 50
    z = lm.dropout(lm.ones([6, 40]), 0.5, noise_shape=[1, None], seed=4).numpy()
    assert (z == z[:1]).all()  # None takes x's dimension: columns differ, rows repeat
    assert 0 < (z[0] == 0).sum() < 40


def test_dropout_is_reproducible_with_a_seed():
    a = lm.dropout(lm.ones([10, 10]), 0.5, seed=7).numpy()
    b = lm.dropout(lm.ones([10, 10]), 0.5, seed=7).numpy()
    c = lm.dropout(lm.ones([10, 10]), 0.5, seed=8).numpy()
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_dropout_follows_set_seed():
    lm.set_seed(21)
    a = [lm.dropout(lm.ones([8, 8]), 0.5).numpy() for _ in range(2)]
    lm.set_seed(21)
    b = [lm.dropout(lm.ones([8, 8]), 0.5).numpy() for _ in range(2)]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert (a[0] != a[1]).any()


def test_dropout_gradient_is_the_mask():
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    g = lm.grad(lambda t: lm.dropout(t, 0.4, seed=5).sum())(lm.tensor(x))
    mask = lm.dropout(lm.ones([3, 4]), 0.4, seed=5)
    np.testing.assert_array_equal(g.numpy(), mask.numpy())
    g2 = lm.grad(lambda t: lm.dropout(t, 0.4, noise_shape=[3, 1], seed=5).sum())(lm.tensor(x))
    np.testing.assert_array_equal(g2.numpy(), lm.dropout(lm.ones([3, 4]), 0.4, noise_shape=[3, 1], seed=5).numpy())


def test_dropout_is_a_tensor_method():
    assert lm.ones([3]).dropout(0.5, seed=1).shape == [3]


@pytest.mark.parametrize("rate", [1, 1.0, -0.1, 2])
def test_dropout_rate_must_be_in_0_1(rate):
    with pytest.raises(ValueError, match=f"rate must be a float in the range \\[0, 1\\), but got {rate}."):
        lm.dropout(lm.ones([2]), rate)


def test_dropout_errors():
    with pytest.raises(TypeError, match="x has to be a floating point tensor since it's going to be scaled, "
                                        "but got a int32 tensor instead."):
        lm.dropout(lm.tensor([1, 2], dtype="int32"), 0.5)
    with pytest.raises(ValueError, match=r"noise_shape \[3\] must broadcast to the shape of x \[2, 2\]"):
        lm.dropout(lm.ones([2, 2]), 0.5, noise_shape=[3])
    with pytest.raises(ValueError, match=r"noise_shape \[2, 2\] must broadcast to the shape of x \[2\]"):
        lm.dropout(lm.ones([2]), 0.5, noise_shape=[2, 2])
    with pytest.raises(TypeError, match="noise_shape must be a list of non-negative ints"):
        lm.dropout(lm.ones([2]), 0.5, noise_shape=[1.5])
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        lm.dropout(lm.ones([2]), 0.5, seed=-1)
