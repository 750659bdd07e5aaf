"""The one source of randomness behind every random op, initialiser, shuffle and dropout.

`lm.set_seed(n)` makes everything reproducible: each random call draws its own generator
from one seeded stream, so the same program after the same `set_seed` makes the same
numbers in the same order. An explicit `seed=` argument to an op gives that op a
generator of its own, independent of the global stream (TF.js's per-op `seed`).
"""

import threading

import numpy as np

__all__ = ["set_seed"]

_WORD = (1 << 64) - 1

_lock = threading.Lock()  # data pipelines may draw generators from several threads
_stream = None  # np.random.SeedSequence set by set_seed; None means fresh entropy each time


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    return int(seed)


def set_seed(seed):
    """Seeds every later random op, initialiser, shuffle and dropout.

    >>> import lamina as lm
    >>> lm.set_seed(7); a = lm.random_uniform([3]).array()
    >>> lm.set_seed(7); b = lm.random_uniform([3]).array()
    >>> a == b
    True
    """
    seed = _check_seed(seed)
    global _stream
    with _lock:
        _stream = np.random.SeedSequence(seed)


def generator(seed=None):
    """A numpy Generator for one random call.

    With `seed`, a generator seeded from it alone. Otherwise, after `set_seed`, the next
    generator of the global seeded stream; before any `set_seed`, fresh OS entropy.

    >>> import lamina as lm
    >>> from lamina.random import generator
    >>> generator(3).random() == generator(3).random()
    True
    """
    if seed is not None:
        return np.random.default_rng(_check_seed(seed))
    with _lock:
        if _stream is None:
            return np.random.default_rng()
        # spawn() hands out child sequences in a fixed order: the k-th random call after
        # set_seed(n) always gets the same generator, whatever the calls before it drew.
        return np.random.default_rng(_stream.spawn(1)[0])


def noise_seed(seed=None):
    """The state of the next `generator(seed)` as four uint64 words (state high, state low,
    inc high, inc low): what the C++ dropout kernel restarts numpy's PCG64 from, so that it
    draws the very numbers that generator would.

    >>> import numpy as np
    >>> from lamina import _core
    >>> np.array_equal(_core.uniform_floats(noise_seed(5), 3), generator(5).random(3, dtype=np.float32))
    True
    """
    state = generator(seed).bit_generator.state["state"]
    return np.array([state["state"] >> 64, state["state"] & _WORD, state["inc"] >> 64, state["inc"] & _WORD],
                    dtype=np.uint64)
