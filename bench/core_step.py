"""One Core API training step on the guide's model, lamina beside hand-written numpy.

The model is the TF.js guide's Core API one: 784 -> 32 relu -> 10 logits, softmax
cross-entropy (mean over the batch), SGD at 0.1, batch 32. lamina runs it the way the guide
does (`optimizer.minimize(lambda: softmax_cross_entropy(ys, model(xs)))`: tape, ops,
kernels, Python overhead and all); numpy runs the same maths written out by hand (forward,
backward, update, float32, in place where natural). The two are timed in alternating
rounds in the same process, so machine load affects both alike. Before timing, both train
from the same weights for a few steps and the largest weight difference is printed.

    python bench/core_step.py              # default rounds
    python bench/core_step.py --quick      # fewer rounds
    python bench/core_step.py --threads 1  # lamina on one thread (numpy's BLAS is left as is)
"""

import argparse
import statistics
import time

import numpy as np

import lamina as lm

BATCH, INPUTS, HIDDEN, CLASSES, LEARNING_RATE = 32, 784, 32, 10, 0.1


def make_batches(rng, count):
    """A few fixed batches (cycled through), with one-hot labels."""
    batches = []
    for _ in range(count):
        x = rng.standard_normal((BATCH, INPUTS), dtype=np.float32)
        y = np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, BATCH)]
        batches.append((x, y))
    return batches


def initial_weights(rng):
    return [rng.standard_normal((INPUTS, HIDDEN), dtype=np.float32) * np.float32(np.sqrt(2 / INPUTS)),
            np.zeros(HIDDEN, np.float32),
            rng.standard_normal((HIDDEN, CLASSES), dtype=np.float32) * np.float32(np.sqrt(2 / HIDDEN)),
            np.zeros(CLASSES, np.float32)]


class LaminaStep:
    """The guide's Core API loop body."""

    def __init__(self, weights, batches):
        self.w1, self.b1, self.w2, self.b2 = (lm.variable(w) for w in weights)
        self.batches = [(lm.tensor(x), lm.tensor(y)) for x, y in batches]
        self.optimizer = lm.train.sgd(LEARNING_RATE)
        self.i = 0

    def model(self, x):
        return x.matmul(self.w1).add(self.b1).relu().matmul(self.w2).add(self.b2)

    def __call__(self):
        xs, ys = self.batches[self.i % len(self.batches)]
        self.i += 1
        return self.optimizer.minimize(lambda: lm.losses.softmax_cross_entropy(ys, self.model(xs)),
                                       return_cost=True)

    def weights(self):
        return [v.numpy() for v in (self.w1, self.b1, self.w2, self.b2)]


class NumpyStep:
    """The same step by hand: forward, mean softmax cross-entropy, backward, SGD update."""

    def __init__(self, weights, batches):
        self.w1, self.b1, self.w2, self.b2 = (w.copy() for w in weights)
        self.batches = batches
        self.lr = np.float32(LEARNING_RATE)
        self.i = 0

    def __call__(self):
        x, y = self.batches[self.i % len(self.batches)]
        self.i += 1
        pre = x @ self.w1 + self.b1
        hidden = np.maximum(pre, 0)
        logits = hidden @ self.w2 + self.b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        loss = -(y * (shifted - np.log(total))).sum(axis=1).mean()
        dlogits = (exp / total - y) / np.float32(BATCH)
        dhidden = dlogits @ self.w2.T
        dhidden[pre <= 0] = 0
        self.w2 -= self.lr * (hidden.T @ dlogits)
        self.b2 -= self.lr * dlogits.sum(axis=0)
        self.w1 -= self.lr * (x.T @ dhidden)
        self.b1 -= self.lr * dhidden.sum(axis=0)
        return loss

    def weights(self):
        return [self.w1, self.b1, self.w2, self.b2]


def seconds_per_step(step, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="lamina threads (default: all cores)")
    args = parser.parse_args()
    if args.threads is not None:
        lm.set_num_threads(args.threads)
    rounds, steps = (5, 50) if args.quick else (15, 200)

    rng = np.random.default_rng(0)
    batches = make_batches(rng, 8)
    weights = initial_weights(rng)
    lamina_step, numpy_step = LaminaStep(weights, batches), NumpyStep(weights, batches)

    for _ in range(20):  # warm up, and check that both compute the same thing
        lamina_loss, numpy_loss = lamina_step().item(), numpy_step()
    difference = max(float(np.abs(a - b).max()) for a, b in zip(lamina_step.weights(), numpy_step.weights()))
    print(f"Core API step, {INPUTS} -> {HIDDEN} relu -> {CLASSES}, batch {BATCH}, SGD {LEARNING_RATE}, "
          f"{lm.get_num_threads()} lamina thread(s)")
    print(f"after 20 steps: loss lamina {lamina_loss:.6f}, numpy {numpy_loss:.6f}; "
          f"largest weight difference {difference:.2e}")

    timings = {"lamina": [], "numpy": []}
    for _ in range(rounds):  # alternate, so that load on the machine falls on both alike
        timings["lamina"].append(seconds_per_step(lamina_step, steps))
        timings["numpy"].append(seconds_per_step(numpy_step, steps))
    median = {name: statistics.median(values) * 1e6 for name, values in timings.items()}
    best = {name: min(values) * 1e6 for name, values in timings.items()}
    for name in ("lamina", "numpy"):
        print(f"{name:<8} {median[name]:8.1f} us/step (median of {rounds} rounds of {steps}), "
              f"best {best[name]:8.1f}")
    print(f"lamina / numpy: {median['lamina'] / median['numpy']:.2f}x (median), "
          f"{best['lamina'] / best['numpy']:.2f}x (best)")


if __name__ == "__main__":
    main()
