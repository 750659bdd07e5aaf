"""lm.data datasets and transforms: TF.js's observed results (tfjs_semantics.md §9,
tfjs_observed.md), size rules checked against counting the elements, shuffle properties,
prefetch threads, memory bounds and bad input."""

import asyncio
import gc
import math
import threading
import time
import tracemalloc

import numpy as np
import pytest

import lamina as lm


def values(dataset):
    """The elements of one pass, with Tensors turned into nested lists."""
    return [_plain(element) for element in dataset]


def _plain(value):
    if isinstance(value, lm.Tensor):
        return value.array()
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "lamina-data-prefetch"]


# --- TF.js's observed results ------------------------------------------------------------


def test_repeat_skip_take_as_tfjs():
    assert lm.data.array([1, 2, 3]).repeat(2).skip(1).take(4).to_array() == [2, 3, 1, 2]


def test_batch_small_last_batch_as_tfjs():
    five = lm.data.array([1, 2, 3, 4, 5])
    assert values(five.batch(2)) == [[1, 2], [3, 4], [5]]
    assert five.batch(2).size == 3
    assert values(five.batch(2, small_last_batch=False)) == [[1, 2], [3, 4]]
    assert five.batch(2, small_last_batch=False).size == 2


def test_batch_numbers_become_float32_vectors():
    batch = next(iter(lm.data.array([1, 2, 3]).batch(3)))
    assert batch.dtype == "float32" and batch.shape == [3]


def test_batch_dict_elements_key_by_key_as_tfjs():
    ds = lm.data.array([{"a": 1, "b": [1, 2]}, {"a": 2, "b": [3, 4]}, {"a": 3, "b": [5, 6]}]).batch(2)
    first, last = list(ds)
    assert first["a"].shape == [2] and first["b"].shape == [2, 2]
    assert _plain(first) == {"a": [1, 2], "b": [[1, 2], [3, 4]]}
    assert _plain(last) == {"a": [3], "b": [[5, 6]]}


def test_batch_tensor_elements_stack_on_a_new_axis():
    ds = lm.data.array([{"xs": lm.tensor([i, i, i]), "ys": lm.tensor([i])} for i in range(5)]).batch(4)
    first = next(iter(ds))
    assert first["xs"].shape == [4, 3] and first["ys"].shape == [4, 1]
    assert first["xs"].array()[3] == [3, 3, 3]


def test_batch_tuples_position_by_position_and_nested_dicts():
    rows = [({"a": np.float32(i)}, [i, i + 1], "s%d" % i, True) for i in range(3)]
    xs, pairs, names, flags = next(iter(lm.data.array(rows).batch(3)))
    assert xs["a"].array() == [0, 1, 2]
    assert pairs.array() == [[0, 1], [1, 2], [2, 3]]
    assert names == ["s0", "s1", "s2"]  # lamina has no string tensors: text stays a list
    assert flags.dtype == "bool"


def test_batch_keeps_integer_arrays_int32():
    batch = next(iter(lm.data.generator(lambda: (np.array([i, i], np.int64) for i in range(3))).batch(3)))
    assert batch.dtype == "int32" and batch.array() == [[0, 0], [1, 1], [2, 2]]


def test_func_shares_one_stream_between_passes_as_tfjs():
    counter = iter([1, 2, 3])

    def next_item():
        item = next(counter, None)
        return {"value": item, "done": item is None}

    ds = lm.data.func(next_item)
    assert ds.size is None
    assert ds.to_array() == [1, 2, 3]
    assert ds.to_array() == []


def test_zip_stops_at_the_shortest():
    ds = lm.data.zip({"xs": lm.data.array([1, 2, 3]), "ys": lm.data.array([4, 5])})
    assert ds.size == 2
    assert ds.to_array() == [{"xs": 1, "ys": 4}, {"xs": 2, "ys": 5}]


def test_zip_structures():
    a, b = lm.data.array([1, 2]), lm.data.array(["x", "y"])
    assert lm.data.zip((a, b)).to_array() == [(1, "x"), (2, "y")]
    assert lm.data.zip([a, b]).to_array() == [(1, "x"), (2, "y")]  # lists give tuples, batchable by position
    assert lm.data.zip({"p": [a, b], "q": {"r": a}}).to_array() == [{"p": (1, "x"), "q": {"r": 1}},
                                                                    {"p": (2, "y"), "q": {"r": 2}}]


def test_generator_size_is_unknown_and_array_size_known():
    assert lm.data.generator(lambda: iter([1])).size is None
    assert lm.data.array([1, 2, 3, 4, 5]).size == 5


def test_the_guides_data_pipeline_shapes():
    def data():
        for _ in range(100):
            yield lm.random_normal([784])

    def labels():
        for _ in range(100):
            yield lm.random_uniform([10])

    ds = lm.data.zip({"xs": lm.data.generator(data), "ys": lm.data.generator(labels)}).shuffle(100).batch(32)
    shapes = [(batch["xs"].shape, batch["ys"].shape) for batch in ds]
    assert shapes == [([32, 784], [32, 10])] * 3 + [([4, 784], [4, 10])]


def test_the_guides_core_api_loop_trains_with_for_each():
    # ds.for_each(lambda batch: optimizer.minimize(...)): fit y = 2x + 1 with plain variables.
    x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(-1, 1)
    ds = lm.data.array({"xs": x, "ys": 2 * x + 1}).shuffle(64, seed=3).batch(16)
    w, b = lm.variable(lm.zeros([1, 1])), lm.variable(lm.zeros([1]))
    optimizer = lm.train.sgd(0.5)

    def loss_of(batch):
        return (lm.matmul(batch["xs"], w) + b - batch["ys"]).square().mean()

    for _ in range(40):
        ds.for_each(lambda batch: optimizer.minimize(lambda: loss_of(batch)))
    assert w.item() == pytest.approx(2, abs=1e-3) and b.item() == pytest.approx(1, abs=1e-3)


# --- iteration protocol -------------------------------------------------------------------


def test_each_iteration_is_a_fresh_pass():
    calls = []

    def numbers():
        calls.append(1)
        yield from range(3)

    ds = lm.data.generator(numbers).map(lambda x: x + 1)
    assert list(ds) == [1, 2, 3] and list(ds) == [1, 2, 3]
    assert len(calls) == 2
    first, second = iter(ds), iter(ds)
    assert next(first) == 1 and next(first) == 2 and next(second) == 1  # independent passes


def test_transforms_leave_the_original_dataset_unchanged():
    base = lm.data.array([1, 2, 3])
    base.map(lambda x: -x).take(1).repeat(2)
    assert base.to_array() == [1, 2, 3] and base.size == 3


def test_map_filter_concatenate():
    ds = lm.data.array([1, 2, 3, 4, 5, 6])
    assert ds.map(lambda x: x * x).to_array() == [1, 4, 9, 16, 25, 36]
    assert ds.filter(lambda x: x % 2 == 0).to_array() == [2, 4, 6]
    assert ds.take(2).concatenate(ds.skip(4)).to_array() == [1, 2, 5, 6]


def test_filter_with_a_tensor_predicate():
    ds = lm.data.array(np.arange(6)).filter(lambda t: t > 3)
    assert values(ds) == [4, 5]


def test_take_and_skip_edge_counts():
    ds = lm.data.array([1, 2, 3])
    assert ds.take(0).to_array() == [] and ds.take(10).to_array() == [1, 2, 3]
    assert ds.take(-1).to_array() == [1, 2, 3] and ds.take(None).to_array() == [1, 2, 3]
    assert ds.skip(0).to_array() == [1, 2, 3] and ds.skip(10).to_array() == []
    assert ds.skip(-1).to_array() == [] and ds.skip(-1).size == 0  # TF.js's documented "skips all"


def test_take_reads_no_element_past_the_count():
    read = []

    def numbers():
        for i in range(100):
            read.append(i)
            yield i

    assert lm.data.generator(numbers).take(3).to_array() == [0, 1, 2]
    assert read == [0, 1, 2]


def test_repeat_of_an_infinite_dataset_can_be_taken_from():
    assert lm.data.array([1, 2]).repeat().take(5).to_array() == [1, 2, 1, 2, 1]


def test_endless_repeat_of_an_empty_dataset_ends():
    assert lm.data.array([]).repeat().to_array() == []
    assert lm.data.generator(lambda: iter(())).repeat().take(3).to_array() == []


def test_for_each_visits_every_element_once_in_order():
    seen = []
    assert lm.data.array([3, 1, 2]).for_each(seen.append) is None
    assert seen == [3, 1, 2]


def test_for_each_async_with_plain_and_async_functions():
    seen = []

    async def record(x):
        await asyncio.sleep(0)
        seen.append(x)

    assert asyncio.run(lm.data.array([1, 2, 3]).for_each_async(record)) is None
    asyncio.run(lm.data.array([4]).for_each_async(seen.append))
    assert seen == [1, 2, 3, 4]


def test_for_each_async_does_not_block_the_event_loop_on_a_slow_source():
    ticks = []

    def slow():
        for i in range(3):
            time.sleep(0.05)
            yield i

    async def ticker():
        for _ in range(5):
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.02)

    async def main():
        await asyncio.gather(lm.data.generator(slow).for_each_async(lambda x: None), ticker())

    asyncio.run(main())
    assert len(ticks) == 5 and ticks[-1] - ticks[0] < 0.14  # the ticker ran while elements were read


def test_to_array_of_an_infinite_dataset_is_refused():
    with pytest.raises(ValueError, match="Can not convert infinite data stream to array."):
        lm.data.array([1]).repeat().to_array()
    with pytest.raises(ValueError, match="Can not convert infinite data stream to array."):
        lm.data.array([1]).repeat().to_array_async()  # at the call, before any await


def _line_of(marker):
    """The line number in this file of the line ending with the comment `# <marker>`."""
    with open(__file__, encoding="utf-8") as f:
        return next(number for number, line in enumerate(f, 1) if line.rstrip().endswith(f"# {marker}"))


def test_for_each_async_never_awaited_warns_at_the_call_with_the_fix():
    # Python's own warning ("coroutine ... was never awaited", pointing into lamina) is what
    # users miss; lamina's names their line and the synchronous method, and only it is given.
    seen = []
    with pytest.warns(RuntimeWarning) as caught:
        lm.data.array([1, 2]).for_each_async(seen.append)  # unawaited for_each_async
        gc.collect()
    assert seen == []
    assert len(caught) == 1
    warning = caught[0]
    assert str(warning.message) == (
        "ds.for_each_async(f) was never awaited, so it did nothing. Use ds.for_each(f), which runs at once, "
        "or `await ds.for_each_async(f)` inside an async function (from plain code: "
        "asyncio.run(ds.for_each_async(f))).")
    assert (warning.filename, warning.lineno) == (__file__, _line_of("unawaited for_each_async"))


def test_every_async_method_never_awaited_warns_with_its_sync_form():
    it = lm.data.array([1, 2]).iterator()
    for make, sync_call in ((lambda: lm.data.array([1]).to_array_async(), "ds.to_array()"),
                            (lambda: it.next_async(), "it.next()")):
        with pytest.warns(RuntimeWarning, match=rf"was never awaited, so it did nothing. Use {sync_call}") as caught:
            make()
            gc.collect()
        assert len(caught) == 1
    assert it.next() == {"value": 1, "done": False}  # the unawaited next_async read nothing


def test_awaited_or_closed_async_calls_do_not_warn():
    # pytest turns any warning into an error here: none may come from these
    async def main():
        seen = []
        await lm.data.array([1, 2]).for_each_async(seen.append)
        task = asyncio.create_task(lm.data.array([3]).for_each_async(seen.append))
        gathered = await asyncio.gather(lm.data.array([4, 5]).to_array_async(), task)
        return seen, gathered

    assert asyncio.run(main()) == ([1, 2, 3], [[4, 5], None])
    lm.data.array([1]).for_each_async(print).close()  # closed on purpose: not forgotten
    gc.collect()


def test_async_methods_check_their_arguments_at_the_call():
    with pytest.raises(TypeError, match="f must be a function, got int"):
        lm.data.array([1]).for_each_async(3)


def test_an_unawaited_call_shows_what_it_is():
    pending = lm.data.array([1]).for_each_async(print)
    assert repr(pending) == ("<ds.for_each_async(f): an awaitable that has not run; `await` it, or call "
                             "ds.for_each(f) to run at once>")
    pending.close()


def test_to_array_async_equals_to_array():
    ds = lm.data.array([1, 2, 3, 4, 5]).shuffle(5, seed=3, reshuffle_each_iteration=False).batch(2)

    async def main():
        return await ds.to_array_async()

    assert values(asyncio.run(main())) == values(ds.to_array())


# --- iterator() ---------------------------------------------------------------------------


def test_iterator_gives_tfjs_iterator_results():
    # TF.js's LazyIterator.next(): {value, done: false} per element, then {value: null, done: true}
    it = lm.data.array([1, 2]).iterator()
    assert [it.next(), it.next(), it.next(), it.next()] == [
        {"value": 1, "done": False}, {"value": 2, "done": False},
        {"value": None, "done": True}, {"value": None, "done": True}]


def test_iterator_is_a_python_iterator_over_one_fresh_pass():
    ds = lm.data.generator(lambda: iter(range(4)))
    it = ds.iterator()
    assert iter(it) is it and next(it) == 0 and it.next() == {"value": 1, "done": False}
    assert list(it) == [2, 3] and list(ds.iterator()) == [0, 1, 2, 3]
    with pytest.raises(StopIteration):
        next(it)


def test_iterator_close_stops_the_pass_and_its_prefetch_thread():
    ds = lm.data.generator(lambda: iter(range(100))).prefetch(2)
    with ds.iterator() as it:
        assert it.next() == {"value": 0, "done": False}
        assert prefetch_threads()
    assert not prefetch_threads()
    assert it.next() == {"value": None, "done": True}
    plain = lm.data.Dataset(lambda: iter([1, 2, 3])).iterator()  # a stream without close() of its own
    plain.close()
    assert list(plain) == []


def test_iterator_as_translated_from_tfjs_async_code():
    # const it = await ds.iterator(); let r = await it.next(); while (!r.done) { ...; r = await it.next(); }
    async def main():
        it = await lm.data.array([1, 2, 3]).iterator()
        seen = []
        result = await it.next_async()
        while not result["done"]:
            seen.append(result["value"])
            result = await it.next_async()
        return seen

    assert asyncio.run(main()) == [1, 2, 3]


def test_concurrent_next_async_calls_read_one_element_each():
    def slowly():
        for i in range(6):
            time.sleep(0.01)
            yield i

    async def main():
        it = lm.data.generator(slowly).iterator()
        return await asyncio.gather(*(it.next_async() for _ in range(7)))

    results = asyncio.run(main())
    assert sorted(r["value"] for r in results if not r["done"]) == [0, 1, 2, 3, 4, 5]
    assert sum(r["done"] for r in results) == 1


def test_cancelling_for_each_async_mid_read_stops_the_pass():
    closed = threading.Event()

    def slow():
        try:
            for i in range(1000):
                time.sleep(0.02)
                yield i
        finally:
            closed.set()

    async def main():
        task = asyncio.create_task(lm.data.generator(slow).for_each_async(lambda x: None))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert closed.wait(2.0)


# --- sizes --------------------------------------------------------------------------------

FINITE_PIPELINES = {
    "array": lambda d: d,
    "batch3": lambda d: d.batch(3),
    "batch3_drop": lambda d: d.batch(3, small_last_batch=False),
    "batch20": lambda d: d.batch(20),
    "repeat0": lambda d: d.repeat(0),
    "repeat3": lambda d: d.repeat(3),
    "take4": lambda d: d.take(4),
    "take40": lambda d: d.take(40),
    "skip4": lambda d: d.skip(4),
    "skip40": lambda d: d.skip(40),
    "concat": lambda d: d.concatenate(d.take(2)),
    "zip": lambda d: lm.data.zip([d, d.skip(3)]),
    "shuffle_map_prefetch": lambda d: d.shuffle(4, seed=0).map(lambda x: x).prefetch(2),
    "chain": lambda d: d.repeat(2).skip(3).take(12).batch(5),
}


@pytest.mark.parametrize("name", sorted(FINITE_PIPELINES))
def test_known_size_equals_the_number_of_elements(name):
    ds = FINITE_PIPELINES[name](lm.data.array(list(range(10))))
    assert ds.size == len(list(ds))


@pytest.mark.parametrize("make, size", [
    (lambda d: d.repeat(), math.inf),
    (lambda d: d.repeat(-1), math.inf),
    (lambda d: d.repeat().batch(4), math.inf),
    (lambda d: d.repeat().skip(3), math.inf),
    (lambda d: d.repeat().take(7), 7),
    (lambda d: d.repeat().filter(bool), math.inf),
    (lambda d: d.repeat().concatenate(d), math.inf),
    (lambda d: d.filter(bool), None),
    (lambda d: d.filter(bool).batch(2), None),
    (lambda d: d.filter(bool).repeat(), None),
    (lambda d: d.filter(bool).repeat(0), 0),
    (lambda d: d.filter(bool).take(3), None),
    (lambda d: d.concatenate(d.filter(bool)), None),
    (lambda d: lm.data.zip([d, d.filter(bool)]), None),
    (lambda d: lm.data.zip([d, d.repeat()]), 10),
])
def test_size_rules_for_unknown_and_infinite(make, size):
    assert make(lm.data.array(list(range(10)))).size == size


def test_dataset_rejects_a_bad_size():
    with pytest.raises(ValueError, match="size must be an int >= 0, math.inf or None, got -1"):
        lm.data.Dataset(lambda: iter(()), -1)


# --- shuffle ------------------------------------------------------------------------------


def test_shuffle_keeps_every_element_exactly_once():
    out = lm.data.array(list(range(1000))).shuffle(50).to_array()
    assert sorted(out) == list(range(1000)) and out != list(range(1000))


def test_shuffle_is_reproducible_with_a_seed():
    make = lambda seed: lm.data.array(list(range(100))).shuffle(30, seed=seed)  # noqa: E731
    a, b = make(5), make(5)
    assert a.to_array() == b.to_array() and a.to_array() == b.to_array()  # the same sequence of orders
    assert make(5).to_array() != make(6).to_array()


def test_shuffle_reshuffles_each_pass_unless_told_not_to():
    ds = lm.data.array(list(range(50))).shuffle(50, seed=1)
    assert ds.to_array() != ds.to_array()
    fixed = lm.data.array(list(range(50))).shuffle(50, seed=1, reshuffle_each_iteration=False)
    first = fixed.to_array()
    assert fixed.to_array() == first and first != list(range(50))


def test_shuffle_is_reproducible_after_set_seed():
    lm.set_seed(11)
    a = lm.data.array(list(range(40))).shuffle(40)
    lm.set_seed(11)
    b = lm.data.array(list(range(40))).shuffle(40)
    assert a.to_array() == b.to_array()


def test_shuffle_with_a_buffer_of_one_keeps_the_order():
    assert lm.data.array(list(range(20))).shuffle(1).to_array() == list(range(20))


def test_shuffle_moves_elements_only_within_the_buffer():
    # With a buffer of b, the k-th output is one of the first k + b inputs, and it
    # holds at most b elements: the source is never more than b ahead of the output.
    buffer_size, produced, lead = 7, [0], []

    def source():
        for i in range(500):
            produced[0] += 1
            yield i

    for k, element in enumerate(lm.data.generator(source).shuffle(buffer_size, seed=2)):
        assert element < k + buffer_size
        lead.append(produced[0] - k)
    assert max(lead) == buffer_size


def test_shuffle_picks_uniformly_from_the_buffer():
    # The first output is uniform over the first buffer_size elements (TF.js's algorithm).
    counts = np.zeros(4)
    lm.set_seed(0)
    ds = lm.data.array(list(range(10))).shuffle(4)
    for _ in range(4000):
        counts[next(iter(ds))] += 1
    assert counts[4:].sum() == 0
    chi_square = ((counts[:4] - 1000) ** 2 / 1000).sum()
    assert chi_square < 16.3  # the 0.999 quantile of chi-square with 3 degrees of freedom


def test_a_full_buffer_shuffle_makes_every_position_equally_likely():
    lm.set_seed(4)
    ds = lm.data.array([0, 1, 2]).shuffle(3)
    orders = {}
    for _ in range(3000):
        order = tuple(ds.to_array())
        orders[order] = orders.get(order, 0) + 1
    assert len(orders) == 6 and all(400 < n < 600 for n in orders.values())


# --- prefetch -----------------------------------------------------------------------------


def test_prefetch_keeps_the_order():
    ds = lm.data.array(list(range(200))).map(lambda x: x * 2).prefetch(3)
    assert ds.to_array() == [2 * i for i in range(200)] and ds.size == 200


def test_prefetch_raises_the_producers_exception_after_the_elements_before_it():
    def source():
        yield 1
        yield 2
        raise KeyError("bad record 3")

    got = []
    with pytest.raises(KeyError, match="bad record 3"):
        for element in lm.data.generator(source).prefetch(4):
            got.append(element)
    assert got == [1, 2]
    assert _no_prefetch_threads_soon()


def _no_prefetch_threads_soon():
    deadline = time.monotonic() + 2
    while prefetch_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    return not prefetch_threads()


@pytest.mark.parametrize("how", ["close", "drop"])
def test_abandoning_a_prefetched_pass_stops_its_thread(how):
    before = threading.active_count()
    stream = iter(lm.data.generator(lambda: iter(range(10 ** 9))).prefetch(2))
    assert next(stream) == 0
    assert len(prefetch_threads()) == 1
    if how == "close":
        stream.close()
    else:
        del stream  # the last reference: CPython closes the generator at once
    assert not prefetch_threads()  # closing waits for the thread to end: none is left at all
    assert threading.active_count() == before


def test_a_consumer_exception_stops_the_prefetch_thread():
    def train():
        for element in lm.data.generator(lambda: iter(range(10 ** 9))).prefetch(2):
            if element == 3:
                raise RuntimeError("the training step failed")

    with pytest.raises(RuntimeError, match="the training step failed"):
        train()
    assert _no_prefetch_threads_soon()


def test_leaving_a_for_loop_over_a_prefetched_dataset_stops_the_thread():
    for element in lm.data.generator(lambda: iter(range(10 ** 9))).prefetch(2):
        if element == 3:
            break
    gc.collect()
    assert _no_prefetch_threads_soon()


def test_prefetch_runs_ahead_by_its_buffer_only():
    produced = [0]

    def source():
        for i in range(100):
            produced[0] += 1
            yield i

    stream = iter(lm.data.generator(source).prefetch(3))
    next(stream)
    time.sleep(0.2)  # let the producer fill its queue
    # one consumed + 3 queued + 1 made and waiting for a place in the queue
    assert produced[0] <= 5
    stream.close()


def test_prefetch_overlaps_preparation_with_consumption():
    delay, n = 0.03, 10

    def slow_source():
        for i in range(n):
            time.sleep(delay)
            yield i

    def consume(ds):
        start = time.perf_counter()
        for _ in ds:
            time.sleep(delay)
        return time.perf_counter() - start

    serial = consume(lm.data.generator(slow_source))
    overlapped = consume(lm.data.generator(slow_source).prefetch(2))
    assert serial >= 2 * n * delay
    assert overlapped < 0.75 * serial  # ideally (n + 1) * delay, about half


def test_prefetched_passes_are_independent():
    ds = lm.data.array([1, 2, 3]).prefetch(1)
    a, b = iter(ds), iter(ds)
    assert [next(a), next(b), next(a), next(b)] == [1, 1, 2, 2]
    a.close()
    b.close()


# --- sources: array, generator, func, zip -----------------------------------------------


def test_array_of_a_numpy_matrix_gives_row_tensors_converted_as_lm_tensor():
    x = np.arange(6, dtype=np.float64).reshape(3, 2)
    rows = list(lm.data.array(x))
    assert all(isinstance(r, lm.Tensor) and r.dtype == "float32" for r in rows)
    assert [r.array() for r in rows] == x.tolist()
    assert next(iter(lm.data.array(np.arange(3)))).dtype == "int32"


def test_array_of_a_tensor_and_of_a_dict_and_of_several_arrays():
    t = lm.tensor([[1, 2], [3, 4]])
    assert values(lm.data.array(t)) == [[1, 2], [3, 4]]
    ds = lm.data.array({"xs": np.zeros((3, 2)), "ys": [0, 1, 2]})
    assert values(ds) == [{"xs": [0, 0], "ys": 0}, {"xs": [0, 0], "ys": 1}, {"xs": [0, 0], "ys": 2}]
    assert values(lm.data.array(np.ones((2, 1)), np.zeros(2))) == [([1], 0), ([1], 0)]


def test_array_of_a_variable_is_not_changed_by_later_assigns():
    v = lm.variable(lm.tensor([[1.0], [2.0]]))
    ds = lm.data.array(v)
    v.assign(lm.tensor([[5.0], [6.0]]))
    assert values(ds) == [[1], [2]]


def test_sliced_batches_equal_the_row_by_row_batches():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(11, 3)), rng.integers(0, 5, size=11)
    for small_last in (True, False):
        fast = lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(4, small_last)
        both = lm.data.array(x, y).batch(4, small_last)
        rows = lm.data.generator(lambda: (({"xs": x[i], "ys": y[i]}) for i in range(11))).batch(4, small_last)
        fast_batches, tuple_batches, slow_batches = list(fast), list(both), list(rows)
        assert len(fast_batches) == len(slow_batches) == (3 if small_last else 2)
        for f, t, s in zip(fast_batches, tuple_batches, slow_batches):
            for key, position in (("xs", 0), ("ys", 1)):
                assert f[key].dtype == s[key].dtype == t[position].dtype
                np.testing.assert_array_equal(f[key].numpy(), s[key].numpy())
                np.testing.assert_array_equal(t[position].numpy(), s[key].numpy())


def test_shuffled_arrays_give_the_row_by_row_orders_and_batches():
    # Arrays shuffle row numbers and gather batches; a generator of the same rows takes the
    # element-by-element path. With one seed both make the same draws, so the same output.
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(23, 3)), rng.integers(0, 5, size=23)

    def rows():
        return ((x[i], y[i, ...]) for i in range(23))

    for make in (lambda: lm.data.array(x, y), lambda: lm.data.zip([lm.data.array(x), lm.data.array(y)])):
        fast, slow = make().shuffle(6, seed=9), lm.data.generator(rows).shuffle(6, seed=9)
        for a, b in zip(list(fast) + list(fast), list(slow) + list(slow)):  # two passes each
            np.testing.assert_array_equal(a[0].numpy(), b[0].astype(np.float32))
            assert a[1].dtype == "int32" and a[1].item() == b[1]
        fast, slow = make().shuffle(6, seed=3).batch(5), lm.data.generator(rows).shuffle(6, seed=3).batch(5)
        fast_batches, slow_batches = list(fast), list(slow)
        assert len(fast_batches) == len(slow_batches) == 5
        for a, b in zip(fast_batches, slow_batches):
            for part in (0, 1):
                assert a[part].dtype == b[part].dtype and a[part].shape == b[part].shape
                np.testing.assert_array_equal(a[part].numpy(), b[part].numpy())


def test_zip_of_arrays_of_different_lengths_batches_to_the_shortest():
    ds = lm.data.zip([lm.data.array(np.arange(5)), lm.data.array(np.arange(3))]).batch(2)
    assert values(ds) == [([0, 1], [0, 1]), ([2], [2])]


def test_array_items_are_fresh_each_pass():
    items = [{"a": [1, 2]}, {"a": [3, 4]}]

    def mutate(element):
        element["a"].append(99)  # a careless in-place transform
        return element

    ds = lm.data.array(items).map(mutate)
    ds.to_array()
    assert ds.to_array() == [{"a": [1, 2, 99]}, {"a": [3, 4, 99]}]
    assert items == [{"a": [1, 2]}, {"a": [3, 4]}]


def test_batching_does_not_modify_or_share_what_the_user_yields():
    arrays = [np.full(3, float(i)) for i in range(4)]
    snapshot = [a.copy() for a in arrays]
    batch = next(iter(lm.data.generator(lambda: iter(arrays)).batch(4)))
    for original, copy in zip(arrays, snapshot):
        np.testing.assert_array_equal(original, copy)
        assert original.flags.writeable and not np.shares_memory(original, batch._data)


def test_generator_is_called_afresh_and_errors_propagate_unchanged():
    def broken():
        yield 1
        raise ZeroDivisionError("inside the user's generator")

    with pytest.raises(ZeroDivisionError, match="inside the user's generator"):
        lm.data.generator(broken).to_array()


# --- datasets hold only their buffers ------------------------------------------------------


def test_a_pipeline_holds_only_its_buffers_not_the_stream():
    element_bytes, count = 80_000, 600  # 48 MB streamed in all

    def source():
        for i in range(count):
            yield {"xs": np.full(element_bytes // 8, float(i)), "ys": float(i % 2)}

    ds = lm.data.generator(source).shuffle(20, seed=0).batch(10).prefetch(2)
    tracemalloc.start()
    try:
        batches = 0
        for batch in ds:
            batches += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert batches == count // 10
    # shuffle buffer (20) + batch rows (10) + their float32 batch + 2 queued batches + slack
    assert peak < 60 * element_bytes, f"peak {peak / 1e6:.1f} MB"


# --- bad input ----------------------------------------------------------------------------


def test_bad_batch_sizes():
    ds = lm.data.array([1, 2])
    with pytest.raises(ValueError, match="batch_size needs to be positive, but it is 0"):
        ds.batch(0)
    with pytest.raises(ValueError, match="batch_size needs to be positive, but it is -2"):
        ds.batch(-2)
    with pytest.raises(TypeError, match="batch_size must be an int, got 1.5"):
        ds.batch(1.5)
    with pytest.raises(TypeError, match="small_last_batch must be True or False, got 'no'"):
        ds.batch(2, "no")


def test_bad_shuffle_buffers_use_tfjs_text():
    with pytest.raises(ValueError, match=r"^`Dataset.shuffle\(\)` requires buffer_size to be specified.$"):
        lm.data.generator(lambda: iter(())).shuffle(-1)
    with pytest.raises(ValueError, match=r"consider setting buffer_size to the dataset size \(3 elements\)"):
        lm.data.array([1, 2, 3]).shuffle(None)
    with pytest.raises(ValueError, match="buffer_size must be at least 1"):
        lm.data.array([1]).shuffle(0)
    with pytest.raises(TypeError, match="buffer_size must be an int"):
        lm.data.array([1]).shuffle("10")
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        lm.data.array([1]).shuffle(2, seed="seed1")


def test_bad_prefetch_and_counts():
    ds = lm.data.array([1])
    with pytest.raises(ValueError, match=r"`Dataset.prefetch\(\)` requires buffer_size to be specified."):
        ds.prefetch(None)
    with pytest.raises(ValueError, match="prefetch: buffer_size must be at least 1, got 0"):
        ds.prefetch(0)
    for method in (ds.take, ds.skip, ds.repeat):
        with pytest.raises(TypeError, match="count must be an int, got 2.0"):
            method(2.0)


def test_non_callables_are_refused_by_name():
    ds = lm.data.array([1])
    with pytest.raises(TypeError, match="transform must be a function, got int"):
        ds.map(3)
    with pytest.raises(TypeError, match="predicate must be a function, got NoneType"):
        ds.filter(None)
    with pytest.raises(TypeError, match="f must be a function, got str"):
        ds.for_each("print")
    with pytest.raises(TypeError, match="func: f must be a function"):
        lm.data.func(5)
    with pytest.raises(TypeError, match="iterator_fn must be a callable"):
        lm.data.Dataset([1, 2])


def test_generator_refuses_a_generator_object_and_non_iterators():
    def data():
        yield 1

    with pytest.raises(TypeError, match="pass the function itself, not its result"):
        lm.data.generator(data())
    with pytest.raises(TypeError, match="generator: fn must be a function that returns an iterator, got int"):
        lm.data.generator(7)
    with pytest.raises(TypeError, match=r"fn\(\) must return an iterator .* got int"):
        lm.data.generator(lambda: 7).to_array()


def test_func_refuses_results_that_are_not_iterator_results():
    with pytest.raises(TypeError, match=r"f\(\) must return \{'value': element, 'done': False\}"):
        lm.data.func(lambda: 3).to_array()


def test_bad_array_inputs():
    with pytest.raises(TypeError, match="array: items must be a list, a numpy array, a Tensor or a dict"):
        lm.data.array(5)
    with pytest.raises(ValueError, match=r"every array must have the same number of rows; 'xs' has 3, 'ys' has 2"):
        lm.data.array({"xs": np.zeros(3), "ys": np.zeros(2)})
    with pytest.raises(ValueError, match=r"array\(x, y, ...\): every array must have the same number of rows"):
        lm.data.array(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="items must have at least one dimension"):
        lm.data.array(np.ones(()))
    with pytest.raises(TypeError, match="must hold numbers or booleans"):
        lm.data.array(np.array(["a", "b"]))


def test_bad_zip_arguments_use_tfjs_text():
    with pytest.raises(TypeError, match=r"The argument to zip\(\) must be an object or array."):
        lm.data.zip(lm.data.array([1]))
    with pytest.raises(TypeError, match=r"Leaves of the structure passed to zip\(\) must be Datasets, not "
                                        r"primitives. \(got int at datasets\['ys'\]\)"):
        lm.data.zip({"xs": lm.data.array([1]), "ys": 3})
    with pytest.raises(TypeError, match="concatenate: dataset must be an lm.data.Dataset, got list"):
        lm.data.array([1]).concatenate([2])


def test_zip_of_a_structure_that_contains_itself_is_refused_as_tfjs():
    # TF.js's deepMap: "Circular references are not supported." (lamina: at once, naming where)
    ds = lm.data.array([1, 2])
    looped_dict = {"xs": ds}
    looped_dict["self"] = looped_dict
    with pytest.raises(ValueError, match=r"^Circular references are not supported\. \(datasets\['self'\] is "
                                         r"datasets, which contains it\)$"):
        lm.data.zip(looped_dict)
    looped_list = [ds]
    looped_list.append({"inner": looped_list})
    with pytest.raises(ValueError, match=r"Circular references are not supported\. \(datasets\[1\]\['inner'\] "
                                         r"is datasets, which contains it\)"):
        lm.data.zip(looped_list)


def test_zip_accepts_one_container_in_two_places():
    # a shared (acyclic) part is not a cycle: TF.js's deepMap memoizes it and zips it twice
    ds = lm.data.array([1, 2])
    shared = {"a": ds}
    assert lm.data.zip({"left": shared, "right": shared}).to_array() == [
        {"left": {"a": 1}, "right": {"a": 1}}, {"left": {"a": 2}, "right": {"a": 2}}]


def test_batching_an_element_that_contains_itself_is_refused_as_tfjs():
    element = {"x": 1.0, "more": {}}
    element["more"]["back"] = element
    with pytest.raises(ValueError, match=r"batch: Circular references are not supported\. \(in element 0 of "
                                         r"the batch, element\['more'\]\['back'\] is the dict at the top level"):
        lm.data.generator(lambda: iter([element, element])).batch(2).to_array()
    pair = ({"x": 1.0},)
    pair[0]["pair"] = pair
    with pytest.raises(ValueError, match=r"element\[0\]\['pair'\] is the tuple at the top level"):
        lm.data.generator(lambda: iter([pair])).batch(1).to_array()


def test_array_hands_out_items_that_contain_themselves_as_tfjs():
    # TF.js's array() gives such items unchanged; lamina's fresh copy keeps the cycle
    item = {"x": 1, "parts": [2]}
    item["self"] = item
    item["parts"].append(item["parts"])
    copy = lm.data.array([item]).to_array()[0]
    assert copy is not item and copy["self"] is copy and copy["x"] == 1
    assert copy["parts"] is not item["parts"] and copy["parts"][1] is copy["parts"] and copy["parts"][0] == 2
    assert lm.data.array([item]).map(lambda e: e["self"]["x"]).to_array() == [1]


def test_batching_elements_of_the_wrong_form():
    with pytest.raises(ValueError, match=r"element 0 of the batch has keys \['a'\] at the top level, "
                                         r"element 1 has \['b'\]"):
        lm.data.array([{"a": 1}, {"b": 2}]).batch(2).to_array()
    with pytest.raises(ValueError, match=r"values at element\['x'\] must have one shape to be stacked; "
                                         r"element 0 of the batch has shape \[2\], element 1 has shape \[3\]"):
        lm.data.array([{"x": lm.zeros([2])}, {"x": lm.zeros([3])}]).batch(2).to_array()
    with pytest.raises(ValueError, match=r"None at element\['b'\] \(a missing value\)"):
        lm.data.array([{"b": None}]).batch(1).to_array()
    with pytest.raises(TypeError, match="cannot batch object values at the top level"):
        lm.data.array([object()]).batch(1).to_array()
    with pytest.raises(ValueError, match=r"a tuple of 2 items at the top level, element 1 has 3 items"):
        lm.data.array([(1, 2), (1, 2, 3)]).batch(2).to_array()


def test_batches_given_to_user_code_are_copies_of_the_source_rows():
    # fit_dataset reads its internal blocks in place; what iteration hands out stays a copy.
    import numpy as np

    import lamina as lm

    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    first = next(iter(lm.data.array(x).batch(4)))
    x[0, 0] = 100.0
    assert first.array()[0][0] == 0.0
