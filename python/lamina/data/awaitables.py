"""The awaitables lm.data's `*_async` methods return: they say so, loudly and with the fix,
when they are dropped without being awaited.

A coroutine that is never awaited never runs. Python then warns only "coroutine ... was
never awaited", pointing into lamina, which users read past: their loop body simply never
ran. A `MustAwait` instead warns at the line that made it, naming the synchronous method
to use instead, the moment it is dropped (at once in CPython). A never-awaited call cannot
simply run instead: by the time it is dropped, the caller has moved on.
"""

import collections.abc
import sys
import warnings

__all__ = ["MustAwait", "must_await"]


def must_await(coroutine, call, sync_call):
    """`coroutine` wrapped in a `MustAwait` that remembers its caller's caller (the user's line).

    `call` is how the user wrote the call (e.g. "ds.to_array_async()") and `sync_call` the
    synchronous method that does the same (e.g. "ds.to_array()").

    >>> import asyncio
    >>> async def answer():
    ...     return 42
    >>> asyncio.run(must_await(answer(), "answer()", "answer_sync()"))
    42
    """
    caller = sys._getframe(2)  # 0: here, 1: the lamina method, 2: the user's code
    return MustAwait(coroutine, call, sync_call,
                     (caller.f_code.co_filename, caller.f_lineno, caller.f_globals.get("__name__")))


class MustAwait(collections.abc.Coroutine):
    """A coroutine that warns (RuntimeWarning) with the fix if it is dropped without being awaited.

    It can be awaited, or given to `asyncio.run`, `asyncio.gather`, `create_task`, ...
    like any coroutine.

    >>> import asyncio
    >>> async def answer():
    ...     return 42
    >>> pending = MustAwait(answer(), "answer()", "answer_sync()", ("<example>", 1, None))
    >>> pending
    <answer(): an awaitable that has not run; `await` it, or call answer_sync() to run at once>
    >>> asyncio.run(pending)
    42
    """

    def __init__(self, coroutine, call, sync_call, where):
        self._coroutine = coroutine
        self._call = call
        self._sync_call = sync_call
        self._where = where  # (file, line, module) of the call
        self._started = False

    def __await__(self):
        self._started = True
        return self._coroutine.__await__()

    def send(self, value):
        self._started = True
        return self._coroutine.send(value)

    def throw(self, *args):
        self._started = True
        return self._coroutine.throw(*args)

    def close(self):
        self._started = True  # closing on purpose is not forgetting to await
        self._coroutine.close()

    def __repr__(self):
        return (f"<{self._call}: an awaitable that has not run; `await` it, or call {self._sync_call} "
                "to run at once>")

    def __del__(self):
        if self._started:
            return
        self._coroutine.close()  # silences Python's own, vaguer "was never awaited" warning
        filename, lineno, module = self._where
        warnings.warn_explicit(
            f"{self._call} was never awaited, so it did nothing. Use {self._sync_call}, which runs at once, "
            f"or `await {self._call}` inside an async function (from plain code: asyncio.run({self._call})).",
            RuntimeWarning, filename, lineno, module=module)
