"""Peak memory of training from a stream: model.fit_dataset over a generator much larger than RAM.

A generator makes N samples of 784 float32 values with a one-hot label of 10 (2,000,000
samples are 6.3 GB if held at once); the guide's model (784 -> 32 relu -> 10 softmax, SGD)
trains one epoch on them through lm.data.generator(...).shuffle(10000).batch(256).prefetch(2).
Only the shuffle buffer (10,000 samples, 31 MB), the batches in flight and the model should
be held. Prints the resident set size after start-up, the process's peak RSS
(getrusage ru_maxrss), the size the data would have in memory, and the time taken.

    python bench/data_memory.py                     # 2,000,000 samples (the issue's target: peak < 600 MB)
    python bench/data_memory.py --samples 200000    # a tenth: quicker

Measured on the 2-core development machine: the full run takes about 40 s (53,000
samples/s) with a peak RSS of 94 MB (41 MB before training) against 6,058 MB of data;
--samples 200000 takes 4 s, peak 93 MB.
"""

import argparse
import resource
import sys
import time

import numpy as np

import lamina as lm

INPUTS, HIDDEN, CLASSES = 784, 32, 10
CHUNK = 1024  # samples drawn from the random generator at once; each is yielded as its own copy


def samples(count, seed=0):
    """A function making a fresh generator of `count` {"xs": [784], "ys": [10]} samples."""
    eye = np.eye(CLASSES, dtype=np.float32)

    def generate():
        rng = np.random.default_rng(seed)
        for start in range(0, count, CHUNK):
            block = rng.standard_normal((min(CHUNK, count - start), INPUTS), dtype=np.float32)
            classes = rng.integers(0, CLASSES, len(block))
            for row, label in zip(block, classes):
                # A copy, so the shuffle buffer holds 3 KB per sample, not a view pinning its block.
                yield {"xs": row.copy(), "ys": eye[label].copy()}

    return generate


def rss_mb():
    """The current resident set size, from /proc (Linux), in MB; None elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return None


def peak_rss_mb():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KB on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2_000_000)
    parser.add_argument("--shuffle-buffer", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--prefetch", type=int, default=2)
    args = parser.parse_args()

    lm.set_seed(0)
    model = lm.sequential(layers=[lm.layers.dense(input_shape=[INPUTS], units=HIDDEN, activation="relu"),
                                  lm.layers.dense(units=CLASSES, activation="softmax")])
    model.compile(optimizer=lm.train.sgd(0.1), loss="categoricalCrossentropy", metrics=["accuracy"])
    dataset = (lm.data.generator(samples(args.samples))
               .shuffle(args.shuffle_buffer, seed=0)
               .batch(args.batch_size)
               .prefetch(args.prefetch))
    seen = []
    count = {"on_batch_end": lambda batch, logs: seen.append(logs["size"])}
    start_rss = rss_mb()

    start = time.perf_counter()
    history = model.fit_dataset(dataset, epochs=1, verbose=0, callbacks=count)
    seconds = time.perf_counter() - start

    held_mb = args.samples * (INPUTS + CLASSES) * 4 / 2**20
    print(f"generator of {args.samples:,} samples x {INPUTS} float32 (+ {CLASSES} one-hot), "
          f".shuffle({args.shuffle_buffer}).batch({args.batch_size}).prefetch({args.prefetch}), "
          f"guide model 784-32-10, one epoch")
    print(f"trained on {sum(seen):,} samples in {len(seen):,} batches, {seconds:.1f} s "
          f"({sum(seen) / seconds:,.0f} samples/s); loss {history.history['loss'][0]:.4f}")
    print(f"the data held at once would be   {held_mb:10,.0f} MB")
    if start_rss is not None:
        print(f"RSS before training              {start_rss:10,.0f} MB")
    print(f"peak RSS of the process          {peak_rss_mb():10,.0f} MB")


if __name__ == "__main__":
    main()
