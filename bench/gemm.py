"""GEMM speed: lamina's kernel beside numpy.matmul (OpenBLAS) in the same run.

Prints GFLOP/s for square sizes and for the products of the two reference models, at 1 and
2 threads, and the ratio lamina / numpy. Each library and thread count runs in its own
process (twice, alternating, best kept): OpenBLAS reads its thread count once at start-up,
and its idle threads spin for a while after each call, which would steal the core that
lamina's second thread needs if both ran in one process.

    python bench/gemm.py            # the table
    python bench/gemm.py --json     # one JSON object per line
    python bench/gemm.py --quick    # fewer repeats
"""

import argparse
import json
import os
import subprocess
import sys
import time

# (label, m, n, k, trans_a, trans_b)
SHAPES = [
    ("square 256", 256, 256, 256, False, False),
    ("square 512", 512, 512, 512, False, False),
    ("square 1024", 1024, 1024, 1024, False, False),
    ("square 2048", 2048, 2048, 2048, False, False),
    # guide model, first dense layer (784->32) at batch 32
    ("guide X·W", 32, 32, 784, False, False),
    ("guide dY·Wᵀ", 32, 784, 32, False, True),
    ("guide Xᵀ·dY", 784, 32, 32, True, False),
    # wide model (784->1024->1024->10) at batch 256
    ("wide X·W1", 256, 1024, 784, False, False),
    ("wide H·W2", 256, 1024, 1024, False, False),
    ("wide dY·W1ᵀ", 256, 784, 1024, False, True),
    ("wide dY·W2ᵀ", 256, 1024, 1024, False, True),
    ("wide Xᵀ·dY1", 784, 1024, 256, True, False),
    ("wide Hᵀ·dY2", 1024, 1024, 256, True, False),
]


def time_call(fn, min_time):
    """Best of several rounds of the mean time per call, each round about min_time/5 long."""
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    reps = max(1, int(min_time / 5 / once))
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def measure(library, threads, min_time):
    """Seconds per call for every shape; runs in a child process with OPENBLAS_NUM_THREADS set."""
    import numpy as np

    rng = np.random.default_rng(0)
    if library == "lamina":
        import lamina as lm
        from lamina import _core

        lm.set_num_threads(threads)
    seconds = []
    for _label, m, n, k, ta, tb in SHAPES:
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        if library == "lamina":
            call = lambda: _core.gemm(a, b, c, trans_a=ta, trans_b=tb)  # noqa: E731
        else:
            a_op, b_op = (a.T if ta else a), (b.T if tb else b)
            call = lambda: np.matmul(a_op, b_op, out=c)  # noqa: E731
        seconds.append(time_call(call, min_time))
    return seconds


def run_child(library, threads, min_time):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    out = subprocess.run(
        [sys.executable, __file__, "--child", library, str(threads), "--min-time", str(min_time)],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--quick", action="store_true", help="shorter timing rounds")
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--min-time", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    min_time = args.min_time or (0.1 if args.quick else 0.4)

    if args.child is not None:
        library, threads = args.child
        print(json.dumps(measure(library, int(threads), min_time)))
        return

    results = []
    for threads in args.threads:
        best = {"lamina": [float("inf")] * len(SHAPES), "numpy": [float("inf")] * len(SHAPES)}
        for library in ("lamina", "numpy", "lamina", "numpy"):
            times = run_child(library, threads, min_time)
            best[library] = [min(old, new) for old, new in zip(best[library], times)]
        for (label, m, n, k, ta, tb), lam, num in zip(SHAPES, best["lamina"], best["numpy"]):
            flops = 2.0 * m * n * k
            results.append({
                "label": label, "m": m, "n": n, "k": k, "trans_a": ta, "trans_b": tb,
                "threads": threads,
                "lamina_gflops": round(flops / lam / 1e9, 2),
                "numpy_gflops": round(flops / num / 1e9, 2),
                "ratio": round(num / lam, 3),
                "lamina_us": round(lam * 1e6, 2),
                "numpy_us": round(num * 1e6, 2),
            })

    if args.json:
        keys = ("m", "n", "k", "trans_a", "trans_b", "threads", "lamina_gflops", "numpy_gflops", "ratio")
        for row in results:
            print(json.dumps({key: row[key] for key in keys}))
        return

    import numpy as np

    from lamina import runtime

    print(f"lamina GEMM ({runtime.isa()}) vs numpy {np.__version__} matmul; GFLOP/s, best of 2 processes × 5 rounds")
    print(f"{'product':<14}{'m×n×k':>16}{'op':>5}{'thr':>5}{'lamina':>10}{'numpy':>10}{'ratio':>8}{'lamina µs':>12}")
    for row in results:
        op = ("T" if row["trans_a"] else "N") + ("T" if row["trans_b"] else "N")
        shape = f"{row['m']}×{row['n']}×{row['k']}"
        print(f"{row['label']:<14}{shape:>16}{op:>5}{row['threads']:>5}{row['lamina_gflops']:>10.1f}"
              f"{row['numpy_gflops']:>10.1f}{row['ratio']:>7.2f}x{row['lamina_us']:>12.1f}")


if __name__ == "__main__":
    main()
