"""What each built-in feature costs on the fused path: the guide model (784 -> 32 -> 10, batch 32)
trained with model.fit once per variant (a metric, sparse labels, an optimizer, an activation,
a loss, class weights, a regularizer, dropout), printing microseconds per step and the ratio to
the plain model. A variant far above the others is a cliff worth a look (this is how Adam's
denormal slowdown and the serial L2 penalty were found).

    python bench/features.py                 # 30,000 rows per epoch, best of 3 epochs each
    python bench/features.py --samples 10000
"""

import argparse
import time

import numpy as np

import lamina as lm

VARIANTS = {
    "plain (sgd, relu, cce)": {},
    "+ accuracy metric": {"metrics": ["accuracy"]},
    "sparse labels": {"loss": "sparseCategoricalCrossentropy", "sparse": True},
    "adam": {"optimizer": "adam"},
    "rmsprop": {"optimizer": "rmsprop"},
    "gelu hidden": {"activation": "gelu"},
    "tanh hidden": {"activation": "tanh"},
    "bce, 10 sigmoid outputs": {"output": "sigmoid", "loss": "binaryCrossentropy"},
    "mse, linear outputs": {"output": "linear", "loss": "meanSquaredError"},
    "class weights": {"class_weight": {c: 1.0 + c for c in range(10)}},
    "l2 kernel regularizer": {"regularizer": "l2"},
    "dropout 0.2": {"dropout": 0.2},
}


def step_time(x, labels, samples, variant):
    sparse = variant.get("sparse", False)
    y = labels.astype(np.float32)[:, None] if sparse else np.eye(10, dtype=np.float32)[labels]
    layers = [lm.layers.dense(units=32, input_shape=[784], activation=variant.get("activation", "relu"),
                              kernel_regularizer=variant.get("regularizer"))]
    if variant.get("dropout"):
        layers.append(lm.layers.dropout(rate=variant["dropout"]))
    layers.append(lm.layers.dense(units=10, activation=variant.get("output", "softmax")))
    model = lm.sequential(layers=layers)
    model.compile(optimizer=variant.get("optimizer", "sgd"), loss=variant.get("loss", "categoricalCrossentropy"),
                  metrics=variant.get("metrics"))
    fit_args = {"batch_size": 32, "epochs": 1, "verbose": 0, "class_weight": variant.get("class_weight")}
    model.fit(x[:640], y[:640], **fit_args)  # builds the plan
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        model.fit(x, y, **fit_args)
        best = min(best, time.perf_counter() - start)
    return best / (samples / 32) * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 784), dtype=np.float32)
    labels = rng.integers(0, 10, args.samples)
    print(f"guide model, batch 32, {args.samples} rows per epoch, {lm.get_num_threads()} thread(s), best of 3")
    plain = None
    for name, variant in VARIANTS.items():
        us = step_time(x, labels, args.samples, variant)
        plain = plain or us
        print(f"{name:28s} {us:7.1f} us/step   {us / plain:5.2f}x")


if __name__ == "__main__":
    main()
