"""Adam update speed: lamina's kernel beside a numpy float32 implementation, same process.

Prints, for n = 1,000,000 elements, ns per element and effective GB/s at 1 and 2 threads and
for each ISA variant. Traffic per element: w, m, v read and written, g read = 28 bytes.

    python bench/optimizers.py            # the table
    python bench/optimizers.py --quick    # fewer repeats
"""

import argparse
import time

import numpy as np

from lamina import _core

BYTES_PER_ELEMENT = 7 * 4
HYPER = dict(lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7, beta1_power=0.9, beta2_power=0.999)


def best_time(fn, reps, rounds=5):
    fn()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def numpy_adam(w, g, m, v, scratch, lr, beta1, beta2, epsilon, beta1_power, beta2_power):
    """In place, with preallocated scratch: as fast as plain numpy gets for this formula."""
    a, b = scratch
    np.multiply(m, np.float32(beta1), out=m)
    np.multiply(g, np.float32(1 - beta1), out=a)
    np.add(m, a, out=m)
    np.multiply(v, np.float32(beta2), out=v)
    np.square(g, out=a)
    np.multiply(a, np.float32(1 - beta2), out=a)
    np.add(v, a, out=v)
    np.divide(v, np.float32(1) - np.float32(beta2_power), out=a)
    np.sqrt(a, out=a)
    np.add(a, np.float32(epsilon), out=a)
    np.divide(m, np.float32(1) - np.float32(beta1_power), out=b)
    np.divide(b, a, out=b)
    np.multiply(b, np.float32(-lr), out=b)
    np.add(w, b, out=w)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    reps = 5 if args.quick else 20
    n = args.n
    rng = np.random.default_rng(0)
    w, g = (rng.standard_normal(n, dtype=np.float32) for _ in range(2))
    m, v = np.zeros(n, np.float32), np.zeros(n, np.float32)
    scratch = (np.empty(n, np.float32), np.empty(n, np.float32))

    def report(label, seconds):
        gb_per_s = BYTES_PER_ELEMENT * n / seconds / 1e9
        print(f"{label:<28} {seconds * 1e9 / n:6.2f} ns/element  {gb_per_s:6.1f} GB/s")

    print(f"Adam update, n = {n:,}")
    seconds = best_time(lambda: numpy_adam(w, g, m, v, scratch, **HYPER), reps)
    report("numpy (14 in-place ops)", seconds)
    old_isa, old_threads = _core.isa(), _core.get_num_threads()
    try:
        for isa in _core.supported_isas():
            _core.set_isa(isa)
            for threads in (1, 2):
                _core.set_num_threads(threads)
                seconds = best_time(lambda: _core.adam_update(w, g, m, v, **HYPER), reps)
                report(f"lamina {isa}, {threads} thread{'s' if threads > 1 else ''}", seconds)
    finally:
        _core.set_isa(old_isa)
        _core.set_num_threads(old_threads)


if __name__ == "__main__":
    main()
