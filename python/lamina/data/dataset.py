"""lm.data.Dataset: a lazily computed, re-iterable stream of elements (TF.js's tfjs-data Dataset).

Every transform is a thin wrapper: it returns a new Dataset whose iterator function opens a
fresh pass over the dataset below and transforms it element by element (the streams live in
lamina.data.iterators), and it carries `size` along by TF.js's rules.
"""

import inspect
import math
import numbers
import random as _py_random
import threading

from lamina.data import iterators
from lamina.data.awaitables import must_await
from lamina.data.lazy_iterator import LazyIterator
from lamina.random import generator as _random_generator

__all__ = ["Dataset"]

# TF.js's message for a shuffle or prefetch without a usable buffer size.
_SHUFFLE_NEEDS_BUFFER = "`Dataset.shuffle()` requires buffer_size to be specified."


class Dataset:
    """An ordered collection of elements, computed lazily and re-iterable.

    Make one with `lm.data.array`, `generator`, `func`, `zip` or `csv`, then chain transforms:
    each returns a new Dataset and leaves this one unchanged.

    The protocol everything builds on (and all a consumer such as `model.fit_dataset` needs):

    * `iter(dataset)` starts a fresh pass and returns a Python iterator of its elements, so
      `for element in dataset:` reads the data once more each time it runs. Each pass
      restarts the passes of the datasets below (TF.js's `iterator()`); only `lm.data.func`
      shares one stream between passes, as in TF.js. The iterator may be left unfinished:
      `close()` it, break out of the loop, or drop it, and its pass stops, with any prefetch
      thread beneath it.
    * `dataset.size` is the number of elements: an int, `math.inf` for an endless dataset,
      or None when it cannot be known without reading (generators, csv files, filter).

    An element is a value, a tuple, or a dict (possibly nested). The datasets hold at most
    their buffers (shuffle, batch and prefetch), never the whole stream, and never modify
    the elements they are given.

    Reading a dataset: `for element in ds:`, `ds.for_each(f)`, `ds.to_array()`, or
    `ds.iterator()` (TF.js's `{"value", "done"}` results); these run at once. TF.js's
    async forms, `for_each_async` and `to_array_async`, are for async code only: they do
    nothing until awaited (`await ds.for_each_async(f)`), and warn if they never are.

    Subclass by passing an iterator function, or by overriding `__iter__`.

    >>> import lamina as lm
    >>> ds = lm.data.array([1, 2, 3, 4, 5]).map(lambda x: x * 10).batch(2)
    >>> ds.size
    3
    >>> [batch.array() for batch in ds]
    [[10.0, 20.0], [30.0, 40.0], [50.0]]
    """

    # Datasets whose elements are rows of arrays (lm.data.array, zips of them, shuffles of
    # those) also carry `_rows = (row_numbers, row, gather)`: a function starting a stream of
    # row numbers, the element at a row number, and the batch of a list of row numbers.
    # batch() then gathers each batch with one numpy call per array, and shuffle() shuffles
    # row numbers (the same algorithm and draws, so the same order), rather than handling
    # every row in Python. The elements and batches are the same either way.
    _rows = None
    # True when row_numbers() is 0, 1, ..., size - 1 (arrays and zips of them, unshuffled):
    # batch() then slices consecutive rows without a Python step per row.
    _in_order = False
    _blocks = None  # set by batch() on such datasets (see batch())

    def __init__(self, iterator_fn, size=None):
        if not callable(iterator_fn):
            raise TypeError(f"iterator_fn must be a callable returning an iterator, got "
                            f"{type(iterator_fn).__name__}")
        self._iterator_fn = iterator_fn
        self._size = _check_size(size)

    @classmethod
    def _from_rows(cls, row_numbers, row, gather, size):
        """A dataset of rows read by number (see `_rows`): `row(i)` for each i of `row_numbers()`.

        >>> import numpy as np
        >>> data = np.array([10, 20, 30])
        >>> ds = Dataset._from_rows(lambda: iter([2, 0]), lambda i: int(data[i]), lambda rows: data[rows], 2)
        >>> ds.to_array(), [b.tolist() for b in ds.batch(2)]
        ([30, 10], [[30, 10]])
        """
        dataset = cls(lambda: iterators.mapped(row_numbers(), row), size)
        dataset._rows = (row_numbers, row, gather)
        return dataset

    @property
    def size(self):
        """The number of elements: an int, `math.inf`, or None when unknown."""
        return self._size

    def __iter__(self):
        return iter(self._iterator_fn())

    def __repr__(self):
        return f"<{type(self).__name__} size={self._size}>"

    # --- transforms -------------------------------------------------------------------

    def batch(self, batch_size, small_last_batch=True):
        """Groups consecutive elements into batches, stacked key by key into Tensors.

        Numbers become a float32 1-D tensor, Tensors, arrays and nested lists are stacked
        along a new axis 0, dicts and tuples are batched key by key (position by position).
        The last, smaller batch is kept unless `small_last_batch` is False.

        >>> import lamina as lm
        >>> [b.array() for b in lm.data.array([1, 2, 3, 4, 5]).batch(2, small_last_batch=False)]
        [[1.0, 2.0], [3.0, 4.0]]
        >>> batch = next(iter(lm.data.array([{"a": 1, "b": [1, 2]}, {"a": 2, "b": [3, 4]}]).batch(2)))
        >>> batch["a"].shape, batch["b"].shape
        ([2], [2, 2])
        """
        batch_size = _check_int(batch_size, "batch_size")
        if batch_size <= 0:
            raise ValueError(f"batch_size needs to be positive, but it is {batch_size}")
        _check_bool(small_last_batch, "small_last_batch")
        if self._size is None or self._size == math.inf:
            size = self._size
        elif small_last_batch:
            size = math.ceil(self._size / batch_size)
        else:
            size = self._size // batch_size
        # Datasets that can slice whole batches straight from their arrays (lm.data.array
        # and zips of them) do so; it gives the same batches without a Python step per row.
        if self._rows is not None and self._in_order:
            gather, length = self._rows[2], self._size
            batched = Dataset(lambda: iterators.sliced(length, gather, batch_size, small_last_batch), size)
            # (batch size, function of block_bytes starting a pass of iterators.blocks): the
            # same batches in blocks, for fit_dataset to train a block in one call
            batched._blocks = (batch_size, lambda block_bytes: iterators.blocks(
                length, lambda rows: gather(rows, view=True), batch_size, small_last_batch, block_bytes))
            return batched
        if self._rows is not None:
            row_numbers, _, gather = self._rows
            return Dataset(lambda: iterators.gathered(row_numbers(), gather, batch_size, small_last_batch), size)
        return Dataset(lambda: iterators.batched(self, batch_size, small_last_batch), size)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True):
        """Shuffles through a buffer of `buffer_size` elements (TF.js's streaming shuffle).

        A buffer of the size of the dataset gives a uniform shuffle; a smaller one only
        moves elements a limited distance, holding no more than `buffer_size` in memory.
        `seed` (an int) makes the orders reproducible, as does `lm.set_seed` before the
        shuffle is made. Each pass is shuffled anew unless `reshuffle_each_iteration` is
        False, in which case every pass repeats the first pass's order (in TF.js it does not).

        >>> import lamina as lm
        >>> ds = lm.data.array([1, 2, 3, 4, 5]).shuffle(5, seed=1, reshuffle_each_iteration=False)
        >>> sorted(ds.to_array()), ds.to_array() == ds.to_array()
        ([1, 2, 3, 4, 5], True)
        """
        if buffer_size is None or (isinstance(buffer_size, numbers.Real) and buffer_size < 0):
            raise ValueError(_shuffle_buffer_message(self._size))
        buffer_size = _check_int(buffer_size, "buffer_size")
        if buffer_size == 0:
            raise ValueError("shuffle: buffer_size must be at least 1 (1 keeps the order), got 0")
        _check_bool(reshuffle_each_iteration, "reshuffle_each_iteration")
        seeds = _PassSeeds(_random_generator(seed), reshuffle_each_iteration)
        if self._rows is not None:
            row_numbers, row, gather = self._rows
            return Dataset._from_rows(
                lambda: iterators.shuffled(row_numbers(), buffer_size, _py_random.Random(seeds.next())),
                row, gather, self._size)
        return Dataset(lambda: iterators.shuffled(self, buffer_size, _py_random.Random(seeds.next())),
                       self._size)

    def map(self, transform):
        """Applies `transform` to every element.

        >>> import lamina as lm
        >>> lm.data.array([1, 2, 3]).map(lambda x: x * x).to_array()
        [1, 4, 9]
        """
        _check_callable(transform, "transform")
        return Dataset(lambda: iterators.mapped(self, transform), self._size)

    def filter(self, predicate):
        """Keeps the elements for which `predicate(element)` is true.

        >>> import lamina as lm
        >>> lm.data.array([1, 2, 3, 4]).filter(lambda x: x % 2 == 0).to_array()
        [2, 4]
        """
        _check_callable(predicate, "predicate")
        size = math.inf if self._size == math.inf else None
        return Dataset(lambda: iterators.filtered(self, predicate), size)

    def repeat(self, count=None):
        """Repeats the dataset `count` times, each time a fresh pass; None or negative: forever.

        >>> import lamina as lm
        >>> lm.data.array([1, 2]).repeat(3).to_array()
        [1, 2, 1, 2, 1, 2]
        >>> lm.data.array([1, 2]).repeat().size
        inf
        """
        if count is not None:
            count = _check_int(count, "count")
            if count < 0:
                count = None
        if count == 0:
            size = 0
        elif self._size is None:
            size = None
        elif count is None:
            size = math.inf if self._size > 0 else 0
        else:
            size = self._size * count
        return Dataset(lambda: iterators.repeated(self, count), size)

    def take(self, count):
        """The first `count` elements (all of them if `count` is None or negative).

        >>> import lamina as lm
        >>> lm.data.array([1, 2, 3]).repeat(2).skip(1).take(4).to_array()
        [2, 3, 1, 2]
        """
        count = _optional_count(count)
        if count is None:
            return Dataset(lambda: iter(self), self._size)
        size = None if self._size is None else min(self._size, count)
        return Dataset(lambda: iterators.taken(self, count), size)

    def skip(self, count):
        """Drops the first `count` elements (all of them if `count` is None or negative).

        >>> import lamina as lm
        >>> lm.data.array([1, 2, 3, 4]).skip(3).to_array()
        [4]
        """
        count = _optional_count(count)
        if count is None:
            return Dataset(lambda: iter(()), 0)
        size = None if self._size is None else max(self._size - count, 0)
        return Dataset(lambda: iterators.skipped(self, count), size)

    def concatenate(self, dataset):
        """This dataset's elements, then `dataset`'s.

        >>> import lamina as lm
        >>> lm.data.array([1, 2]).concatenate(lm.data.array([3])).to_array()
        [1, 2, 3]
        """
        if not isinstance(dataset, Dataset):
            raise TypeError(f"concatenate: dataset must be an lm.data.Dataset, got {type(dataset).__name__}")
        if self._size == math.inf or dataset.size == math.inf:
            size = math.inf
        elif self._size is None or dataset.size is None:
            size = None
        else:
            size = self._size + dataset.size
        return Dataset(lambda: iterators.concatenated([self, dataset]), size)

    def prefetch(self, buffer_size):
        """Prepares up to `buffer_size` elements ahead on a background thread.

        The data pipeline below then runs while the consumer (a training step, say) works.
        Order is kept; an exception raised while preparing an element is raised to the
        consumer in its place; the thread ends when the pass ends or is abandoned.

        >>> import lamina as lm
        >>> lm.data.array([1, 2, 3]).map(lambda x: x + 1).prefetch(2).to_array()
        [2, 3, 4]
        """
        if buffer_size is None:
            raise ValueError("`Dataset.prefetch()` requires buffer_size to be specified.")
        buffer_size = _check_int(buffer_size, "buffer_size")
        if buffer_size <= 0:
            raise ValueError(f"prefetch: buffer_size must be at least 1, got {buffer_size}")
        return Dataset(lambda: iterators.prefetched(self, buffer_size), self._size)

    # --- consuming --------------------------------------------------------------------

    def to_array(self):
        """Every element of one pass, in a list (only for datasets that fit in memory).

        >>> import lamina as lm
        >>> lm.data.array([1, 2, 3]).to_array()
        [1, 2, 3]
        """
        self._check_finite()
        with iterators.opened(self) as stream:
            return list(stream)

    def to_array_async(self):
        """Awaitable `to_array` (TF.js's `await ds.toArray()`), for async code; elsewhere use `to_array()`.

        Elements are read on a worker thread, so a slow source does not block the event loop.
        It must be awaited: dropped unawaited, it reads nothing and warns with the fix.

        >>> import asyncio
        >>> import lamina as lm
        >>> async def main():
        ...     return await lm.data.array([1, 2, 3]).to_array_async()
        >>> asyncio.run(main())
        [1, 2, 3]
        """
        self._check_finite()
        return must_await(self._to_array_async(), "ds.to_array_async()", "ds.to_array()")

    async def _to_array_async(self):
        elements = []
        await self._for_each_async(elements.append)
        return elements

    def _check_finite(self):
        if self._size == math.inf:
            raise ValueError("Can not convert infinite data stream to array.")

    def for_each(self, f):
        """Calls `f(element)` for every element of one pass (TF.js's forEachAsync, run at once).

        This is the one to use outside async code; `for element in ds:` does the same.

        >>> import lamina as lm
        >>> lm.data.array([1, 2]).for_each(print)
        1
        2
        """
        _check_callable(f, "f")
        with iterators.opened(self) as stream:
            for element in stream:
                f(element)

    def for_each_async(self, f):
        """Awaitable `for_each` (TF.js's forEachAsync), for async code: `await ds.for_each_async(f)`.

        Outside async code use `ds.for_each(f)`, which runs at once. This one does nothing
        until awaited, and if it is dropped unawaited it warns (RuntimeWarning) at the calling
        line with that fix. `f` may be a plain or an async function; elements are read on a
        worker thread, so a slow source does not block the event loop.

        >>> import asyncio
        >>> import lamina as lm
        >>> async def show(x):
        ...     print(x)
        >>> asyncio.run(lm.data.array([1, 2]).for_each_async(show))
        1
        2
        """
        _check_callable(f, "f")
        return must_await(self._for_each_async(f), "ds.for_each_async(f)", "ds.for_each(f)")

    async def _for_each_async(self, f):
        with self.iterator() as stream:
            while True:
                result = await stream._next_async()
                if result["done"]:
                    return
                outcome = f(result["value"])
                if inspect.isawaitable(outcome):
                    await outcome

    def iterator(self):
        """A fresh pass over the dataset as a `LazyIterator` (TF.js's `await ds.iterator()`).

        It is a Python iterator (`next(it)`, `for x in it`) whose `next()` also gives TF.js's
        `{"value": ..., "done": ...}` results; `close()` it to stop early.

        >>> import lamina as lm
        >>> it = lm.data.array([1, 2]).iterator()
        >>> next(it), it.next(), it.next()
        (1, {'value': 2, 'done': False}, {'value': None, 'done': True})
        """
        return LazyIterator(self)


class _PassSeeds:
    """The seed of each pass of one shuffle: drawn anew per pass, or one for every pass."""

    def __init__(self, rng, reshuffle_each_iteration):
        self._rng = rng
        self._lock = threading.Lock()  # passes may start on several (prefetch) threads
        self._fixed = None if reshuffle_each_iteration else self._draw()

    def _draw(self):
        with self._lock:
            return int(self._rng.integers(2 ** 63))

    def next(self):
        return self._fixed if self._fixed is not None else self._draw()


def _shuffle_buffer_message(size):
    if size is None:
        return _SHUFFLE_NEEDS_BUFFER
    return (f"{_SHUFFLE_NEEDS_BUFFER}  If your data fits in main memory (for regular JS objects), and/or GPU "
            f"memory (for `tf.Tensor`s), consider setting buffer_size to the dataset size ({size} elements)")


def _check_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    return int(value)


def _optional_count(count):
    if count is None:
        return None
    count = _check_int(count, "count")
    return None if count < 0 else count


def _check_bool(value, name):
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def _check_callable(value, name):
    if not callable(value):
        raise TypeError(f"{name} must be a function, got {type(value).__name__}")


def _check_size(size):
    if size is None or size == math.inf:
        return size
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 0:
        raise ValueError(f"size must be an int >= 0, math.inf or None, got {size!r}")
    return int(size)
