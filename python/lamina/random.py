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
# After set_seed(n): the seed, and how many generators the stream has handed out. The k-th is
# numpy's default_rng(SeedSequence(n, spawn_key=(k,))), the k-th child that
# SeedSequence(n).spawn() would make. None: fresh OS entropy for every generator.
_entropy = None
_children = 0


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
    global _entropy, _children
    with _lock:
        _entropy, _children = seed, 0


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
    global _children
    with _lock:
        if _entropy is None:
            return np.random.default_rng()
        # Children in a fixed order: the k-th random call after set_seed(n) always gets the
        # same generator, whatever the calls before it drew.
        child = np.random.SeedSequence(_entropy, spawn_key=(_children,))
        _children += 1
    return np.random.default_rng(child)


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


def _uint32_words(n):
    """A non-negative int as little-endian uint32 words (at least one), as SeedSequence reads it."""
    words = [n & 0xFFFFFFFF]
    n >>= 32
    while n:
        words.append(n & 0xFFFFFFFF)
        n >>= 32
    return np.array(words, dtype=np.uint32)


def stream_noise_seeds(count):
    """The states of the next `count` generators of the global stream (those `count` calls
    of `generator()` would return), as a [count, 4] uint64 array of noise_seed rows; made in
    C++, so a whole epoch's dropout masks cost no Python per batch. Before any set_seed,
    `count` generators from one fresh OS entropy.

    >>> import lamina as lm, numpy as np
    >>> lm.set_seed(4); seeds = stream_noise_seeds(2)
    >>> lm.set_seed(4); _ = generator()  # the first generator: seeds[0]
    >>> np.array_equal(seeds[1], noise_seed())
    True
    """
    from lamina import _core  # the compiled module imports nothing from here

    count = int(count)
    global _children
    with _lock:
        if _entropy is None:
            entropy, first = np.random.SeedSequence().entropy, 0
        else:
            entropy, first = _entropy, _children
            _children += count
    words, piece = _uint32_words(entropy), 1 << 24  # the most states one call makes
    return np.concatenate([_core.numpy_stream_seeds(words, first + start, min(piece, count - start))
                           for start in range(0, count, piece)] or [np.zeros((0, 4), np.uint64)])
