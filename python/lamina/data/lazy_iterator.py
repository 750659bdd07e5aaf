"""What `Dataset.iterator()` returns: one pass over a dataset, Python- and TF.js-shaped."""

import asyncio
import threading

from lamina.data import iterators
from lamina.data.awaitables import must_await

__all__ = ["LazyIterator"]


class LazyIterator:
    """One pass over a dataset, read an element at a time (TF.js's LazyIterator).

    * Python: `for element in it`, `next(it)`; `close()` it (or use `with`) to stop early.
    * TF.js: `it.next()` returns `{"value": element, "done": False}`, and at the end
      `{"value": None, "done": True}` (every time after that too).
    * async code: `await it.next_async()` is `it.next()` with the element read on a worker
      thread, so a slow source does not block the event loop.

    TF.js's `await ds.iterator()` also works: awaiting the iterator gives itself.

    >>> import lamina as lm
    >>> it = lm.data.array([1, 2]).iterator()
    >>> it.next(), it.next(), it.next()
    ({'value': 1, 'done': False}, {'value': 2, 'done': False}, {'value': None, 'done': True})
    >>> [x * 10 for x in lm.data.array([1, 2, 3]).iterator()]
    [10, 20, 30]
    """

    def __init__(self, dataset):
        self._stream = iter(dataset)
        # one read at a time: next_async reads run on worker threads, and a generator
        # refuses to be resumed while another thread is inside it
        self._lock = threading.Lock()
        self._closed = False  # a plain (non-generator) stream has no close() of its own

    def __iter__(self):
        return self

    def __next__(self):
        with self._lock:
            if self._closed:
                raise StopIteration
            try:
                return next(self._stream)
            finally:
                if self._closed:  # close() was called meanwhile, and left the stream to this read
                    iterators.close(self._stream)

    def next(self):
        """The next element as TF.js's iterator result: `{"value": element, "done": False}`,
        or `{"value": None, "done": True}` after the last one.

        >>> import lamina as lm
        >>> lm.data.array(["a"]).iterator().next()
        {'value': 'a', 'done': False}
        """
        try:
            return {"value": next(self), "done": False}
        except StopIteration:
            return {"value": None, "done": True}

    def next_async(self):
        """Awaitable `next()` (TF.js's `await it.next()`): the element is read on a worker thread.

        It must be awaited (a warning with the fix says so if it is not); outside async code
        use `next()`.

        >>> import asyncio
        >>> import lamina as lm
        >>> async def first_two(ds):
        ...     it = ds.iterator()
        ...     return [(await it.next_async())["value"] for _ in range(2)]
        >>> asyncio.run(first_two(lm.data.array([5, 6, 7])))
        [5, 6]
        """
        return must_await(self._next_async(), "it.next_async()", "it.next()")

    async def _next_async(self):
        return await asyncio.get_running_loop().run_in_executor(None, self.next)

    def close(self):
        """Stops the pass (and any prefetch thread beneath it); later reads find it done.

        >>> import lamina as lm
        >>> it = lm.data.array([1, 2]).iterator()
        >>> it.close()
        >>> it.next()
        {'value': None, 'done': True}
        """
        self._closed = True
        # A read whose awaiting task was cancelled may still be running on a worker thread,
        # and a generator cannot be closed while it runs: that read closes the stream when
        # it returns (failing that, the garbage collector does). Never wait for it here,
        # on what may be the event loop's thread.
        if self._lock.acquire(blocking=False):
            try:
                iterators.close(self._stream)
            finally:
                self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __await__(self):
        # `it = await ds.iterator()` as translated from TF.js: nothing to wait for
        yield from ()
        return self
