"""How long Ctrl-C takes to land while fit, evaluate or predict runs on the fused path.

A SIGINT is sent to the main thread at a random moment in the middle of the call; the figure is
the time from the signal to the KeyboardInterrupt reaching the caller (median and worst of N
tries), beside the optimizer's step count and whether it matches the steps the weights took
(fit only: the count is read back and compared with the number of rows seen).

    python bench/interrupt.py              # the guide model (784-32-10, batch 32), 60,000 rows
    python bench/interrupt.py --wide       # 784-1024-1024-10, batch 256, Adam
"""

import argparse
import random
import signal
import statistics
import threading
import time

import numpy as np

import lamina as lm


def model_and_data(wide, rows):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, rows)]
    hidden = [1024, 1024] if wide else [32]
    layers = [lm.layers.dense(units=hidden[0], input_shape=[784], activation="relu")]
    layers += [lm.layers.dense(units=units, activation="relu") for units in hidden[1:]]
    layers.append(lm.layers.dense(units=10, activation="softmax"))
    model = lm.sequential(layers=layers)
    model.compile(optimizer="adam" if wide else lm.train.sgd(0.1), loss="categoricalCrossentropy")
    return model, x, y


def latency(call):
    """Seconds from a SIGINT sent at a random point in the middle half of `call` (run once
    before, to time it) to the KeyboardInterrupt reaching this frame."""
    began = time.perf_counter()
    call()
    duration = time.perf_counter() - began
    sent = []
    main = threading.main_thread().ident

    def send():
        sent.append(time.perf_counter())
        signal.pthread_kill(main, signal.SIGINT)

    timer = threading.Timer(random.uniform(0.25, 0.75) * duration, send)
    try:
        timer.start()
        call()
        timer.join()
        time.sleep(0.01)  # the interrupt came after the call: it lands here
    except KeyboardInterrupt:
        return duration, time.perf_counter() - sent[0]
    return duration, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wide", action="store_true")
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--epochs", type=int, default=None, help="epochs per fit call (default: 1 wide, 10 guide)")
    parser.add_argument("--tries", type=int, default=5)
    args = parser.parse_args()
    batch = 256 if args.wide else 32
    epochs = args.epochs or (1 if args.wide else 10)
    model, x, y = model_and_data(args.wide, args.rows)
    calls = {f"fit ({epochs} ep)": lambda: model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0),
             "evaluate": lambda: model.evaluate(x, y, batch_size=batch),
             "predict": lambda: model.predict(x, batch_size=batch)}
    print(f"lamina {lm.__version__} from {lm.__file__}")
    for name, call in calls.items():
        times, durations, consistent = [], [], []
        for _ in range(args.tries):
            before = model.optimizer.iterations
            weights = [w.copy() for w in model.get_weights()[:1]]
            duration, took = latency(call)
            durations.append(duration)
            if took is None:
                continue
            times.append(took)
            if name.startswith("fit"):  # did the weights move while the count stood still?
                moved = any(not np.array_equal(a, b) for a, b in zip(weights, model.get_weights()[:1]))
                consistent.append(moved == (model.optimizer.iterations > before + epochs * 0))
        line = f"{name:12s} call {statistics.median(durations) * 1e3:8.1f} ms: "
        if not times:
            print(line + "every call ended before its interrupt")
            continue
        line += (f"Ctrl-C lands after median {statistics.median(times) * 1e3:7.1f} ms, worst "
                 f"{max(times) * 1e3:7.1f} ms ({len(times)} of {args.tries} tries)")
        if consistent:
            line += f"; step count moved with the weights in {sum(consistent)}/{len(consistent)}"
        print(line)


if __name__ == "__main__":
    main()
