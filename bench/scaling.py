"""Training throughput against batch size and hidden width, lamina fit beside numpy by hand, at
1 and 2 threads: which thread count wins where.

The model: 784 -> width relu -> 10 softmax, categorical cross-entropy, SGD lr 0.01 (smaller
than the guide's 0.1 so that the widest layers stay finite on random labels), random data.
Every (library, thread count) runs in its own process (OpenBLAS reads its thread count once
at start-up), which times every grid cell: a warm-up, a calibration, then the best of two runs
of about --budget seconds each. Rounds alternate the processes; the best of each cell is kept.
lamina runs `model.fit` on its default path (LAMINA_FUSED=0 in the environment selects the
tape path for the whole run).

    python bench/scaling.py                                  # full grid, about 4-5 minutes
    python bench/scaling.py --budget 0.1 --rounds 1          # quick look, about a minute
    python bench/scaling.py --batches 32 256 --widths 32 1024
    python bench/scaling.py --json                           # one JSON object per cell
"""

import argparse
import json
import math
import os
import sys
import time

import _mlp

INPUTS, CLASSES, LEARNING_RATE = 784, 10, 0.01
POOL_ROWS = 16384  # the rows an epoch runs over; runs longer than one epoch take several


def time_cell(library, width, batch, budget, x, y):
    """Best seconds per step for one grid cell: warm-up, calibration, then two timed runs."""
    sizes = [INPUTS, width, CLASSES]
    weights = _mlp.initial_weights(sizes)
    if library == "lamina":
        model = _mlp.lamina_model(sizes, "sgd", LEARNING_RATE, weights)
        train = lambda rows, epochs: _mlp.lamina_epochs(model, x[:rows], y[:rows], batch, epochs)[0]  # noqa: E731
    else:
        mlp = _mlp.NumpyMLP(weights, "sgd", LEARNING_RATE)
        train = lambda rows, epochs: mlp.epochs(x[:rows], y[:rows], batch, epochs)[0]  # noqa: E731

    def run(steps):
        """Seconds per step over about `steps` full batches (one epoch, or several of the pool)."""
        per_epoch = max(1, min(steps, POOL_ROWS // batch))
        epochs = math.ceil(steps / per_epoch)
        return train(per_epoch * batch, epochs) / (per_epoch * epochs)

    run(2)  # warm up: first calls, allocations, plans
    per_step = run(3)
    steps = max(3, int(budget / per_step))
    return min(run(steps), run(steps))


def child_main(library, threads, batches, widths, budget):
    if library == "lamina":
        import lamina as lm

        lm.set_num_threads(threads)
    x, y = _mlp.random_data(POOL_ROWS, INPUTS, CLASSES)
    cells = {}
    for width in widths:
        for batch in batches:
            cells[f"{width},{batch}"] = time_cell(library, width, batch, budget, x, y)
    print(json.dumps(cells))


def measure_all(batches, widths, budget, rounds, threads_list, say):
    """{(library, threads): {(width, batch): best seconds per step}}."""
    processes = [(library, threads) for threads in threads_list for library in ("lamina", "numpy")]
    best = {}
    for round_index in range(rounds):
        for library, threads in (processes if round_index % 2 == 0 else processes[::-1]):
            arguments = ["--child", library, str(threads), "--budget", str(budget),
                         "--batches", *map(str, batches), "--widths", *map(str, widths)]
            extra = {"LAMINA_FUSED": os.environ["LAMINA_FUSED"]} if "LAMINA_FUSED" in os.environ else {}
            start = time.perf_counter()
            result = _mlp.run_child(os.path.abspath(__file__), arguments,
                                    _mlp.thread_env(library, threads, extra))
            say(f"round {round_index + 1}/{rounds} {library} {threads} thread(s): "
                f"{time.perf_counter() - start:.0f} s" + (f" {result['error']}" if "error" in result else ""))
            if "error" in result:
                raise SystemExit(f"{library} at {threads} thread(s) failed: {result['error']}")
            cells = best.setdefault((library, threads), {})
            for key, seconds in result.items():
                width, batch = map(int, key.split(","))
                cells[(width, batch)] = min(cells.get((width, batch), math.inf), seconds)
    return best


def table_rows(best, batches, widths, threads_list):
    """One row per (width, batch): samples/s per library and thread count, and the winners."""
    rows = []
    for width in widths:
        for batch in batches:
            row = {"width": width, "batch": batch}
            for library in ("lamina", "numpy"):
                rates = {t: batch / best[(library, t)][(width, batch)] for t in threads_list}
                for t, rate in rates.items():
                    row[f"{library}_{t}t"] = rate
                row[f"{library}_best_threads"] = max(rates, key=rates.get)
                row[f"{library}_best"] = max(rates.values())
            row["lamina_over_numpy"] = row["lamina_best"] / row["numpy_best"]
            rows.append(row)
    return rows


def print_table(rows, threads_list, budget, rounds):
    tape = " (LAMINA_FUSED=0: tape path)" if os.environ.get("LAMINA_FUSED") == "0" else ""
    print(f"samples/s, 784→width relu→10 softmax, SGD, random data; lamina model.fit{tape} and numpy by "
          f"hand; best of {rounds} round(s) × 2 runs of ~{budget:g} s per cell")
    print("'wins' = the faster thread count and its gain over the other; last column = best lamina ÷ best numpy")
    block = 11 * len(threads_list) + 12
    threads_header = "".join(f"{f'{t} thr':>11}" for t in threads_list) + f"{'wins':>12}"
    print(f"{'':>12} │{'lamina fit':^{block}}│{'numpy by hand':^{block}}│")
    print(f"{'width':>6}{'batch':>6} │{threads_header} │{threads_header} │{'lamina÷numpy':>13}")
    previous_width = None
    for row in rows:
        if previous_width is not None and row["width"] != previous_width:
            print("─" * 12 + "─┼─" + "─" * (11 * len(threads_list) + 11) + "─┼─"
                  + "─" * (11 * len(threads_list) + 11) + "─┼─" + "─" * 12)
        previous_width = row["width"]
        cells = [f"{row['width']:>6}{row['batch']:>6} │"]
        for library in ("lamina", "numpy"):
            rates = "".join(f"{row[f'{library}_{t}t']:>11,.0f}" for t in threads_list)
            cells.append(f"{rates}{win_text(row, library, threads_list):>12} │")
        cells.append(f"{row['lamina_over_numpy']:>12.2f}x")
        print("".join(cells))


def win_text(row, library, threads_list):
    """'2t +38%': the winning thread count and how much faster it is than the next best."""
    if len(threads_list) < 2:
        return "-"
    rates = sorted((row[f"{library}_{t}t"] for t in threads_list), reverse=True)
    return f"{row[f'{library}_best_threads']}t +{100 * (rates[0] / rates[1] - 1):.0f}%"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[8, 32, 128, 512, 1024])
    parser.add_argument("--widths", type=int, nargs="+", default=[32, 256, 1024, 4096])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--budget", type=float, default=0.35, help="seconds per timed run (default 0.35)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds; the best of each cell is kept")
    parser.add_argument("--json", action="store_true", help="one JSON object per grid cell")
    parser.add_argument("--verbose", action="store_true", help="print each process's time to stderr")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if min(args.batches + args.widths + args.threads) < 1 or args.rounds < 1 or args.budget <= 0:
        parser.error("batches, widths, threads, rounds and budget must be positive")
    if any(batch > POOL_ROWS for batch in args.batches):
        parser.error(f"--batches: at most {POOL_ROWS}")
    if args.child:
        library, threads = args.child
        child_main(library, int(threads), args.batches, args.widths, args.budget)
        return

    say = (lambda text: print(text, file=sys.stderr, flush=True)) if args.verbose else (lambda text: None)
    best = measure_all(args.batches, args.widths, args.budget, args.rounds, args.threads, say)
    rows = table_rows(best, args.batches, args.widths, args.threads)
    if args.json:
        for row in rows:
            print(json.dumps({key: (round(value, 3) if isinstance(value, float) else value)
                              for key, value in row.items()}))
    else:
        print_table(rows, args.threads, args.budget, args.rounds)


if __name__ == "__main__":
    main()
