"""Training throughput of the guide model through model.fit, beside a hand-written numpy loop.

The TF.js guide's model: 784 -> 32 relu -> 10 softmax, categorical cross-entropy, SGD 0.1,
batch 32, on random data (N samples per epoch). lamina trains it with `model.fit`, once on its
default path (the fused C++ trainer for a model like this one) and once with LAMINA_FUSED=0
(the tape: every op recorded, then the backward walk and the C++ update kernels); numpy runs the
same maths written out by hand, forward, backward and update in float32. The two alternate in
the same process, so machine load affects both alike. Prints samples/s and the ratio.

    python bench/fit.py                  # 60,000 samples per epoch, 3 rounds each
    python bench/fit.py --samples 10000  # quicker
    python bench/fit.py --verbose 1      # fit with its progress logger (the default in fit)
    python bench/fit.py --dropout 0.2    # a Dropout layer after the hidden one (numpy: none)
"""

import argparse
import contextlib
import io
import os
import time

import lamina as lm
from _mlp import NumpyMLP, random_data  # bench/_mlp.py: shared with train.py and scaling.py

INPUTS, HIDDEN, CLASSES, BATCH, LEARNING_RATE = 784, 32, 10, 32, 0.1


def lamina_epoch(model, x, y, fused=True, verbose=0):
    os.environ["LAMINA_FUSED"] = "1" if fused else "0"
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # verbose=1's line per epoch
            start = time.perf_counter()
            model.fit(x, y, batch_size=BATCH, epochs=1, verbose=verbose, shuffle=True)
            return time.perf_counter() - start
    finally:
        os.environ.pop("LAMINA_FUSED", None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--verbose", type=int, choices=[0, 1, 2], default=0, help="fit's verbose")
    parser.add_argument("--dropout", type=float, default=0.0, help="rate of a Dropout layer after the hidden one")
    args = parser.parse_args()
    if args.threads:
        lm.set_num_threads(args.threads)

    x, y = random_data(args.samples, INPUTS, CLASSES)

    lm.set_seed(0)
    dropout = [lm.layers.dropout(rate=args.dropout)] if args.dropout else []
    model = lm.sequential(layers=[lm.layers.dense(input_shape=[INPUTS], units=HIDDEN, activation="relu"),
                                  *dropout, lm.layers.dense(units=CLASSES, activation="softmax")])
    model.compile(optimizer=lm.train.sgd(LEARNING_RATE), loss="categoricalCrossentropy")
    by_hand = NumpyMLP(model.get_weights(), "sgd", LEARNING_RATE)

    lamina_times, tape_times, numpy_times = [], [], []
    lamina_epoch(model, x[:BATCH * 8], y[:BATCH * 8])  # warm up
    lamina_epoch(model, x[:BATCH * 8], y[:BATCH * 8], fused=False)
    for _ in range(args.rounds):
        lamina_times.append(lamina_epoch(model, x, y, verbose=args.verbose))
        tape_times.append(lamina_epoch(model, x, y, fused=False, verbose=args.verbose))
        numpy_times.append(by_hand.epochs(x, y, BATCH)[0])

    lam = args.samples / min(lamina_times)
    tape = args.samples / min(tape_times)
    num = args.samples / min(numpy_times)
    print(f"guide model 784-32-10, batch {BATCH}, SGD {LEARNING_RATE}, {args.samples} samples/epoch, "
          f"{lm.get_num_threads()} lamina thread(s); best of {args.rounds} epochs; fit verbose={args.verbose}"
          + (f"; lamina with Dropout({args.dropout}), numpy without" if args.dropout else ""))
    print(f"lamina model.fit             {lam:12,.0f} samples/s   {1e6 * BATCH / lam:8.1f} us/step")
    print(f"lamina, LAMINA_FUSED=0 (tape) {tape:11,.0f} samples/s   {1e6 * BATCH / tape:8.1f} us/step")
    print(f"numpy by hand                {num:12,.0f} samples/s   {1e6 * BATCH / num:8.1f} us/step")
    print(f"lamina / numpy: {lam / num:.2f}x")


if __name__ == "__main__":
    main()
