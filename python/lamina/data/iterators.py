"""The streams behind the Dataset transforms (TF.js's lazy_iterator.ts), as Python generators.

Each function takes fresh upstream iterators and yields elements one at a time, holding no
more than its own buffer. Every one closes its upstream when it ends or is closed itself, so
abandoning a pass part-way (`close()`, `break`, or dropping the iterator) stops everything
beneath it at once, prefetch threads included.
"""

import contextlib
import queue
import threading

from lamina.data.collate import collate

__all__ = ["opened", "close", "mapped", "filtered", "taken", "skipped", "batched", "gathered", "sliced", "blocks",
           "rows_of", "shuffled", "prefetched", "repeated", "concatenated"]


@contextlib.contextmanager
def opened(dataset):
    """A fresh iterator over `dataset` (or any iterable), closed on leaving the block.

    >>> import lamina as lm
    >>> with opened(lm.data.array([1, 2])) as stream:
    ...     next(stream)
    1
    """
    iterator = iter(dataset)
    try:
        yield iterator
    finally:
        close(iterator)


def close(iterator):
    """Closes a generator-like iterator (plain iterators have nothing to close)."""
    closer = getattr(iterator, "close", None)
    if closer is not None:
        closer()


def mapped(dataset, transform):
    """`transform(element)` for each element of a dataset (or any iterable).

    >>> import lamina as lm
    >>> list(mapped(lm.data.array([1, 2]), str))
    ['1', '2']
    """
    with opened(dataset) as upstream:
        for element in upstream:
            yield transform(element)


def filtered(dataset, predicate):
    """The elements for which `predicate(element)` is true.

    >>> import lamina as lm
    >>> list(filtered(lm.data.array([1, 2, 3]), lambda x: x != 2))
    [1, 3]
    """
    with opened(dataset) as upstream:
        for element in upstream:
            if predicate(element):
                yield element


def taken(dataset, count):
    """The first `count` elements; reads no element past them.

    >>> import lamina as lm
    >>> list(taken(lm.data.array([1, 2, 3]), 2))
    [1, 2]
    """
    if count == 0:
        return
    with opened(dataset) as upstream:
        for index, element in enumerate(upstream, start=1):
            yield element
            if index == count:
                return


def skipped(dataset, count):
    """The elements after the first `count`.

    >>> import lamina as lm
    >>> list(skipped(lm.data.array([1, 2, 3]), 2))
    [3]
    """
    with opened(dataset) as upstream:
        for index, element in enumerate(upstream):
            if index >= count:
                yield element


def batched(dataset, batch_size, small_last_batch):
    """Consecutive elements `batch_size` at a time, each group collated into one batch.

    >>> import lamina as lm
    >>> [b.array() for b in batched(lm.data.array([1, 2, 3]), 2, True)]
    [[1.0, 2.0], [3.0]]
    """
    with opened(dataset) as upstream:
        rows = []
        for element in upstream:
            rows.append(element)
            if len(rows) == batch_size:
                yield collate(rows)
                rows = []  # a new list: the batch made from the old one may still be in use
        if rows and small_last_batch:
            yield collate(rows)


def gathered(row_numbers, gather, batch_size, small_last_batch):
    """`gather(numbers)` for consecutive groups of `batch_size` row numbers.

    >>> [list(b) for b in gathered(iter(range(5)), lambda numbers: numbers, 2, False)]
    [[0, 1], [2, 3]]
    """
    with opened(row_numbers) as upstream:
        numbers = []
        for number in upstream:
            numbers.append(number)
            if len(numbers) == batch_size:
                yield gather(numbers)
                numbers = []
        if numbers and small_last_batch:
            yield gather(numbers)


# sliced() gathers about this many bytes of rows at a time (at least one batch)
CHUNK_BYTES = 1 << 20


def sliced(length, gather, batch_size, small_last_batch):
    """The batches of rows 0 .. length-1 in order, from `gather(slice)` (a Tensor, or a dict
    or tuple of them, whose axis 0 is the rows).

    A few batches (about CHUNK_BYTES) are gathered in one call and handed out as row views of
    that fresh block: the same batches as `gathered` gives, with one numpy call per block
    rather than a Python step per row.

    >>> import numpy as np
    >>> from lamina.tensor import Tensor
    >>> data = np.arange(5)
    >>> [b.array() for b in sliced(5, lambda rows: Tensor._wrap(data[rows]), 2, True)]
    [[0, 1], [2, 3], [4]]
    """
    for block, rows in blocks(length, gather, batch_size, small_last_batch, CHUNK_BYTES):
        for first in range(0, rows, batch_size):
            yield rows_of(block, first, first + batch_size)


def blocks(length, gather, batch_size, small_last_batch, block_bytes):
    """(block, rows): `sliced`'s batches a block of consecutive whole batches at a time
    (about block_bytes each, at least one batch), each block gathered fresh.

    >>> import numpy as np
    >>> from lamina.tensor import Tensor
    >>> data = np.arange(5)
    >>> [(b.array(), rows) for b, rows in blocks(5, lambda rows: Tensor._wrap(data[rows]), 2, False, 16)]
    [([0, 1], 2), ([2, 3], 2)]
    """
    end = length if small_last_batch else length - length % batch_size
    start, batches_per_block = 0, 1  # the first block is one batch, to measure a batch's bytes
    while start < end:
        stop = min(start + batches_per_block * batch_size, end)
        block = gather(slice(start, stop))
        if start == 0:
            batches_per_block = max(1, block_bytes // max(1, _nbytes(block)))
        yield block, stop - start
        start = stop


def _nbytes(structure):
    if isinstance(structure, dict):
        return sum(_nbytes(value) for value in structure.values())
    if isinstance(structure, tuple):
        return sum(_nbytes(value) for value in structure)
    return structure._data.nbytes


def rows_of(structure, start, stop):
    """Rows start:stop of a Tensor, or of each Tensor in a dict or tuple of them (views).

    >>> from lamina.tensor import Tensor
    >>> import numpy as np
    >>> rows_of({"a": Tensor._wrap(np.arange(4))}, 1, 3)["a"].array()
    [1, 2]
    """
    if isinstance(structure, dict):
        return {key: rows_of(value, start, stop) for key, value in structure.items()}
    if isinstance(structure, tuple):
        return tuple(rows_of(value, start, stop) for value in structure)
    return type(structure)._wrap(structure._data[start:stop])


def shuffled(dataset, buffer_size, rng):
    """TF.js's ShuffleIterator over a dataset (or any iterable): a buffer of `buffer_size`
    elements, emitting a random one.

    The buffer is filled first; each output is a uniformly chosen buffered element, whose
    place the last buffered element takes; the next upstream element then refills it. When
    upstream ends, the buffer drains the same way. `rng` is a `random.Random`.

    >>> import random
    >>> import lamina as lm
    >>> sorted(shuffled(lm.data.array([1, 2, 3, 4]), 2, random.Random(0)))
    [1, 2, 3, 4]
    """
    buffer = []
    with opened(dataset) as upstream:
        for element in upstream:
            buffer.append(element)
            if len(buffer) == buffer_size:
                yield _excise_random(buffer, rng)
    while buffer:
        yield _excise_random(buffer, rng)


def _excise_random(buffer, rng):
    index = int(rng.random() * len(buffer))
    chosen = buffer[index]
    last = buffer.pop()
    if index < len(buffer):
        buffer[index] = last
    return chosen


def repeated(dataset, count):
    """`count` passes over `dataset` one after another (`count` None: forever).

    A pass that yields nothing ends an endless repeat rather than spinning forever.

    >>> import lamina as lm
    >>> list(repeated(lm.data.array([1, 2]), 2))
    [1, 2, 1, 2]
    """
    passes = 0
    while count is None or passes < count:
        passes += 1
        produced = False
        with opened(dataset) as upstream:
            for element in upstream:
                produced = True
                yield element
        if not produced:
            return


def concatenated(datasets):
    """Every element of each dataset in turn.

    >>> import lamina as lm
    >>> list(concatenated([lm.data.array([1]), lm.data.array([2, 3])]))
    [1, 2, 3]
    """
    for dataset in datasets:
        with opened(dataset) as upstream:
            yield from upstream


_ELEMENT, _END, _ERROR = "element", "end", "error"
_PUT_POLL_SECONDS = 0.05  # how soon a producer blocked on a full queue notices it should stop


def prefetched(dataset, buffer_size):
    """`dataset`'s elements, made ahead on a background thread, at most `buffer_size` waiting.

    The producer thread starts with the first `next()`. An exception it meets is raised here,
    in the consumer, after the elements before it. Closing this generator (or dropping it, or
    leaving a `for` loop early) stops the producer and waits for its thread to end.

    >>> import lamina as lm
    >>> list(prefetched(lm.data.array([1, 2, 3]), 2))
    [1, 2, 3]
    """
    items = queue.Queue(maxsize=buffer_size)
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(dataset, items, stop), name="lamina-data-prefetch",
                                daemon=True)
    producer.start()
    try:
        while True:
            kind, value = items.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        stop.set()
        _drain(items)  # frees a producer blocked on a full queue and drops unread elements
        producer.join()
        _drain(items)


def _produce(dataset, items, stop):
    try:
        # iter() runs here, on the producer thread, so opening files and starting upstream
        # generators overlaps with the consumer too.
        with opened(dataset) as upstream:
            for element in upstream:
                if not _put(items, (_ELEMENT, element), stop):
                    return
    except BaseException as error:  # noqa: BLE001 - handed to the consumer, which re-raises it
        _put(items, (_ERROR, error), stop)
        return
    _put(items, (_END, None), stop)


def _put(items, item, stop):
    while not stop.is_set():
        try:
            items.put(item, timeout=_PUT_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def _drain(items):
    while True:
        try:
            items.get_nowait()
        except queue.Empty:
            return
