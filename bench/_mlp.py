"""Shared pieces of bench/train.py and bench/scaling.py: data, initial weights, a lamina model
and a hand-written numpy training loop for a stack of dense layers (relu hidden layers, softmax
output, categorical cross-entropy), and the child-process plumbing.

Every framework starts from the same weights (Glorot-uniform kernels, zero biases, drawn with
numpy) and trains on the same random data, so the final losses are comparable.
"""

import json
import math
import os
import subprocess
import sys
import time

import numpy as np

ADAM_BETA1, ADAM_BETA2, EPSILON = 0.9, 0.999, 1e-7  # TF.js's defaults (epsilon = backend epsilon)


def random_data(samples, inputs, classes, seed=0):
    """x: standard-normal float32 rows; y: one-hot float32 rows of uniformly drawn classes."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, inputs), dtype=np.float32)
    y = np.zeros((samples, classes), np.float32)
    y[np.arange(samples), rng.integers(0, classes, samples)] = 1.0
    return x, y


def initial_weights(sizes, seed=1):
    """[kernel0, bias0, kernel1, bias1, ...] for dense layers sizes[0]->sizes[1]->...; kernels are
    (fan_in, fan_out) Glorot-uniform, biases zero, all float32 (the Keras / TF.js layout)."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
        weights.append(np.zeros(fan_out, np.float32))
    return weights


def warmup_rows(samples, batch):
    """How many rows to warm up on: a few full batches plus the epoch's last partial batch, so
    every batch shape the timed epoch will see (jit traces, plans, caches) has been seen."""
    return min(samples, 4 * batch + samples % batch)


# ---------------------------------------------------------------- lamina

def lamina_model(sizes, optimizer, learning_rate, weights):
    """A compiled lm.sequential of dense layers (relu hidden, softmax out) holding `weights`."""
    import lamina as lm

    layers = [lm.layers.dense(input_shape=[sizes[0]], units=sizes[1],
                              activation="relu" if len(sizes) > 2 else "softmax")]
    for index, units in enumerate(sizes[2:], start=2):
        layers.append(lm.layers.dense(units=units, activation="softmax" if index == len(sizes) - 1 else "relu"))
    model = lm.sequential(layers=layers)
    make = {"sgd": lm.train.sgd, "adam": lm.train.adam}[optimizer]
    model.compile(optimizer=make(learning_rate), loss="categoricalCrossentropy")
    model.set_weights(weights)
    return model


def lamina_path(model):
    """'fused' when model.fit will run the fused C++ path for `model`, else 'tape'."""
    try:
        from lamina.engine import fused
    except ImportError:  # a lamina from before the fused path
        return "tape"
    return "fused" if fused.enabled() and fused.is_eligible(model) else "tape"


def lamina_epochs(model, x, y, batch, epochs=1):
    """Seconds for model.fit over x, y, and the last epoch's mean loss (from the History)."""
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, shuffle=True)
    seconds = time.perf_counter() - start
    return seconds, float(history.history["loss"][-1])


# ---------------------------------------------------------------- numpy by hand

class NumpyMLP:
    """The same maths as the lamina model, written out with numpy in float32: relu hidden
    layers, softmax + categorical cross-entropy (dL/dlogits = (p - y) / batch), and SGD or Adam
    with TF.js's formulas (Adam: w -= lr * m̂ / (sqrt(v̂) + epsilon))."""

    def __init__(self, weights, optimizer, learning_rate, seed=2):
        self.weights = [w.copy() for w in weights]
        self.optimizer = optimizer
        self.learning_rate = np.float32(learning_rate)
        self.rng = np.random.default_rng(seed)
        self.step_count = 0
        if optimizer == "adam":
            self.first_moments = [np.zeros_like(w) for w in self.weights]
            self.second_moments = [np.zeros_like(w) for w in self.weights]

    def train_step(self, xb, yb):
        """One forward/backward/update on a batch; returns the batch's mean loss (a float32)."""
        kernels, biases = self.weights[0::2], self.weights[1::2]
        activations = [xb]
        for kernel, bias in zip(kernels[:-1], biases[:-1]):
            hidden = activations[-1] @ kernel
            hidden += bias
            np.maximum(hidden, 0, out=hidden)
            activations.append(hidden)
        logits = activations[-1] @ kernels[-1]
        logits += biases[-1]
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        sums = probabilities.sum(axis=1, keepdims=True)
        probabilities /= sums
        batch = np.float32(xb.shape[0])
        loss = -(yb * (logits - np.log(sums))).sum() / batch

        grads = [None] * len(self.weights)
        delta = (probabilities - yb) / batch
        for layer in range(len(kernels) - 1, -1, -1):
            grads[2 * layer] = activations[layer].T @ delta
            grads[2 * layer + 1] = delta.sum(axis=0)
            if layer > 0:
                delta = delta @ kernels[layer].T
                delta *= activations[layer] > 0
        self.update(grads)
        return loss

    def update(self, grads):
        self.step_count += 1
        if self.optimizer == "sgd":
            for weight, grad in zip(self.weights, grads):
                grad *= self.learning_rate
                weight -= grad
            return
        b1, b2 = np.float32(ADAM_BETA1), np.float32(ADAM_BETA2)
        correction1 = np.float32(1 - ADAM_BETA1 ** self.step_count)
        correction2 = np.float32(1 - ADAM_BETA2 ** self.step_count)
        for weight, grad, m, v in zip(self.weights, grads, self.first_moments, self.second_moments):
            m *= b1
            m += (1 - b1) * grad
            v *= b2
            grad *= grad
            grad *= 1 - b2
            v += grad
            denominator = np.sqrt(v / correction2)
            denominator += np.float32(EPSILON)
            step = m / correction1
            step /= denominator
            step *= self.learning_rate
            weight -= step

    def epochs(self, x, y, batch, epochs=1):
        """Seconds for `epochs` shuffled epochs over x, y, and the last epoch's mean loss."""
        start = time.perf_counter()
        for _ in range(epochs):
            order = self.rng.permutation(x.shape[0])
            total = 0.0
            for begin in range(0, x.shape[0], batch):
                rows = order[begin:begin + batch]
                total += float(self.train_step(x[rows], y[rows])) * len(rows)
        return time.perf_counter() - start, total / x.shape[0]


# ---------------------------------------------------------------- child processes

def thread_env(framework, threads, extra=None):
    """The environment for a child that runs `framework` on `threads` threads. OpenBLAS reads
    its thread count once at start-up, so thread counts need their own processes. lamina's
    dense layers do not use OpenBLAS: its children get one OpenBLAS thread, so that no idle
    spinning OpenBLAS thread competes with lamina's own pool for the second core."""
    env = dict(os.environ)
    env.pop("LAMINA_FUSED", None)
    blas = "1" if framework == "lamina" else str(threads)
    env.update(OPENBLAS_NUM_THREADS=blas, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env.update(extra or {})
    return env


def run_child(script, arguments, env, timeout=1800):
    """Runs `python script arguments...` and returns the JSON object on its last '{' line of
    stdout (lamina's editable install may print build lines before it). A child that fails
    returns {"error": <its last stderr line>} instead of stopping the benchmark."""
    proc = subprocess.run([sys.executable, script, *arguments], env=env, capture_output=True,
                          text=True, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["exit code %d" % proc.returncode])[-1]
        return {"error": tail}
    return json.loads(lines[-1])
