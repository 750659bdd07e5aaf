import numpy as np
import pytest

import lamina as lm
from lamina import random as lm_random


@pytest.fixture(autouse=True)
def restore_global_stream():
    saved = lm_random._entropy, lm_random._children
    yield
    lm_random._entropy, lm_random._children = saved


def draws():
    """One call of each random op, in a fixed order."""
    return [lm.random_normal([5]).numpy(), lm.random_uniform([2, 3]).numpy(),
            lm.truncated_normal([4]).numpy(), lm_random.generator().random(3)]


def test_set_seed_repeats_the_whole_sequence_of_calls():
    lm.set_seed(42)
    first = draws()
    lm.set_seed(42)
    second = draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    # successive calls within one run differ
    assert not np.array_equal(first[0][:3], first[2][:3])


def test_different_seeds_differ():
    lm.set_seed(1)
    a = lm.random_normal([8]).numpy()
    lm.set_seed(2)
    b = lm.random_normal([8]).numpy()
    assert not np.array_equal(a, b)


def test_explicit_seed_ignores_the_global_stream():
    lm.set_seed(5)
    a = lm.random_uniform([4], seed=9).numpy()
    lm.random_uniform([100])  # advances the global stream
    b = lm.random_uniform([4], seed=9).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.random.default_rng(9).random(4).astype(np.float32))


def test_explicit_seed_does_not_advance_the_global_stream():
    lm.set_seed(3)
    lm.random_normal([2], seed=11)
    a = lm.random_normal([2]).numpy()
    lm.set_seed(3)
    b = lm.random_normal([2]).numpy()
    np.testing.assert_array_equal(a, b)


def test_without_set_seed_generators_are_fresh():
    lm_random._entropy = None
    assert not np.array_equal(lm_random.generator().random(4), lm_random.generator().random(4))


@pytest.mark.parametrize("bad", [-1, 1.5, "7", None, True])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        lm.set_seed(bad)


def test_generator_rejects_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        lm_random.generator(-3)


def state_words(rng):
    state = rng.bit_generator.state["state"]
    mask = (1 << 64) - 1
    return [state["state"] >> 64, state["state"] & mask, state["inc"] >> 64, state["inc"] & mask]


def test_the_stream_is_the_children_seed_sequence_spawns():
    lm.set_seed(77)
    children = np.random.SeedSequence(77).spawn(5)
    for child in children:
        assert state_words(lm_random.generator()) == state_words(np.random.default_rng(child))


@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1, 2**32, 2**64 + 5, 2**200 + 12345])
def test_stream_noise_seeds_are_the_next_generators_states(seed):
    lm.set_seed(seed)
    lm_random.generator()  # one drawn before: the seeds start at the stream's position
    seeds = lm_random.stream_noise_seeds(40)
    after = lm_random.generator()
    lm.set_seed(seed)
    lm_random.generator()
    want = [state_words(lm_random.generator()) for _ in range(40)]
    assert [[int(v) for v in row] for row in seeds] == want
    assert state_words(after) == state_words(lm_random.generator())  # advanced by as many


def test_stream_noise_seeds_without_set_seed_are_fresh_and_distinct():
    lm_random._entropy = None
    a, b = lm_random.stream_noise_seeds(3), lm_random.stream_noise_seeds(3)
    assert len({tuple(int(v) for v in row) for row in np.concatenate([a, b])}) == 6


def test_numpy_stream_seeds_checks_its_arguments():
    from lamina import _core
    with pytest.raises(ValueError, match="entropy must hold at least one word"):
        _core.numpy_stream_seeds(np.zeros(0, np.uint32), 0, 1)
    with pytest.raises(TypeError, match="entropy must have dtype uint32"):
        _core.numpy_stream_seeds(np.zeros(1, np.int64), 0, 1)
    with pytest.raises(ValueError, match=r"spawn keys .* must lie in \[0, 2\*\*32\)"):
        _core.numpy_stream_seeds(np.zeros(1, np.uint32), 2**32 - 1, 2)
