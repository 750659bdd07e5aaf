"""The cost of the Data API: model.fit_dataset over lm.data.array(...).batch(32) vs model.fit on the same arrays.

The TF.js guide's model (784 -> 32 relu -> 10 softmax, categorical cross-entropy, SGD 0.1)
trains one epoch of N random samples in batches of 32, once through `fit(x, y,
batch_size=32, shuffle=False)` and once through `fit_dataset` over
`lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(32)` (the same
batches, in the same order). The two alternate in the same process, so machine load
affects both alike; the best epoch of each is compared. Target: fit_dataset ≤ 1.3× fit.

    python bench/data_speed.py                  # 20,000 samples, 5 rounds
    python bench/data_speed.py --samples 60000 --rounds 3
"""

import argparse
import time


import lamina as lm
from _mlp import random_data  # bench/_mlp.py: shared with the other training benches

INPUTS, HIDDEN, CLASSES, BATCH, LEARNING_RATE = 784, 32, 10, 32, 0.1


def guide_model():
    lm.set_seed(0)
    model = lm.sequential(layers=[lm.layers.dense(input_shape=[INPUTS], units=HIDDEN, activation="relu"),
                                  lm.layers.dense(units=CLASSES, activation="softmax")])
    model.compile(optimizer=lm.train.sgd(LEARNING_RATE), loss="categoricalCrossentropy")
    return model


def timed(train):
    start = time.perf_counter()
    train()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        lm.set_num_threads(args.threads)

    x, y = random_data(args.samples, INPUTS, CLASSES)
    dataset = lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(BATCH)

    by_fit, by_dataset = guide_model(), guide_model()
    fit_epoch = lambda: by_fit.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)  # noqa: E731
    dataset_epoch = lambda: by_dataset.fit_dataset(dataset, epochs=1, verbose=0)  # noqa: E731
    by_fit.fit(x[:BATCH * 8], y[:BATCH * 8], batch_size=BATCH, verbose=0)  # warm up both paths
    by_dataset.fit_dataset(lm.data.zip({"xs": lm.data.array(x[:BATCH * 8]),
                                        "ys": lm.data.array(y[:BATCH * 8])}).batch(BATCH), epochs=1, verbose=0)
    fit_times, dataset_times = [], []
    for _ in range(args.rounds):
        fit_times.append(timed(fit_epoch))
        dataset_times.append(timed(dataset_epoch))

    steps = -(-args.samples // BATCH)
    best_fit, best_dataset = min(fit_times), min(dataset_times)
    print(f"guide model 784-32-10, batch {BATCH}, SGD {LEARNING_RATE}, {args.samples:,} samples "
          f"({steps:,} steps) per epoch, {lm.get_num_threads()} lamina thread(s); best of {args.rounds} epochs")
    print(f"model.fit(x, y)                          {best_fit:7.3f} s   {1e6 * best_fit / steps:8.1f} us/step")
    print(f"model.fit_dataset(array.batch(32))       {best_dataset:7.3f} s   "
          f"{1e6 * best_dataset / steps:8.1f} us/step")
    print(f"fit_dataset / fit                        {best_dataset / best_fit:7.2f}x   (target <= 1.30x)")


if __name__ == "__main__":
    main()
