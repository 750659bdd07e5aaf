"""Training throughput of the two reference models in lamina and its peers, on random data.

- guide: 784 -> 32 relu -> 10 softmax, categorical cross-entropy, SGD lr 0.1, batch 32
- wide:  784 -> 1024 relu -> 1024 relu -> 10 softmax, categorical cross-entropy, Adam lr 1e-3, batch 256

Ways of training, each measurement in its own process:
- lamina `model.fit` (its default path) and `model.fit` with LAMINA_FUSED=0 (the tape path);
- a hand-written numpy loop (the same maths in float32, rows gathered with fancy indexing);
- PyTorch eager: nn.Sequential, nn.CrossEntropyLoss on the logits, torch.optim, rows gathered
  from a randperm (no DataLoader: its per-sample collation would dominate the small model);
- Keras `model.fit` (Keras 3 on whatever backend KERAS_BACKEND names; jax when unset);
- JAX: one jax.jit step (value_and_grad, the update by hand, buffers donated), fed batches
  gathered with numpy as a typical JAX input loop does.
A framework whose import fails is skipped ("not installed"). All start from the same initial
weights and data. Each child warms up (a few batches and the last partial batch, so jit traces
and plans exist), then times one call that trains --epochs epochs (default 1: one `fit` call
per epoch, so fit's per-call costs such as converting x count once per epoch). Rounds alternate
the frameworks (the order reversed every other round) and the best of each is kept. Threads: 2
by default (lamina's pool, OPENBLAS_NUM_THREADS for numpy, torch.set_num_threads; XLA uses the
machine's cores).

Prints samples/s, µs per step (the call's time / its steps), how many times faster lamina's
default fit is (lamina ÷ this), and the last epoch's mean loss.

    python bench/train.py                         # 60,000 samples per epoch, 3 rounds
    python bench/train.py --samples 10000 --rounds 1
    python bench/train.py --epochs 5              # steady state: 5 epochs per timed call
    python bench/train.py --configs guide --frameworks lamina numpy
    python bench/train.py --json                  # one JSON object per measurement
"""

import argparse
import json
import math
import os
import sys
import time

import _mlp

CONFIGS = {
    "guide": {"sizes": [784, 32, 10], "optimizer": "sgd", "learning_rate": 0.1, "batch": 32,
              "title": "784→32 relu→10 softmax, categorical cross-entropy, SGD lr 0.1, batch 32"},
    "wide": {"sizes": [784, 1024, 1024, 10], "optimizer": "adam", "learning_rate": 1e-3, "batch": 256,
             "title": "784→1024 relu→1024 relu→10 softmax, categorical cross-entropy, Adam lr 1e-3, batch 256"},
}

# (framework, way) in table order; the first is the reference the ratios are taken to.
WAYS = [("lamina", "fit"), ("lamina", "fit LAMINA_FUSED=0"), ("numpy", "by hand"),
        ("pytorch", "eager"), ("keras", "fit"), ("jax", "jit")]
IMPORTS = {"lamina": "lamina", "numpy": "numpy", "pytorch": "torch", "keras": "keras", "jax": "jax"}


# ---------------------------------------------------------------- one measurement (child side)

def measure(config_name, framework, way, samples, threads, epochs):
    """Warm up, then time one call training `epochs` epochs; returns {seconds, steps,
    final_loss (the last epoch's mean), way}."""
    config = CONFIGS[config_name]
    sizes, batch = config["sizes"], config["batch"]
    x, y = _mlp.random_data(samples, sizes[0], sizes[-1])
    weights = _mlp.initial_weights(sizes)
    warm = _mlp.warmup_rows(samples, batch)
    train = {"lamina": lamina_trainer, "numpy": numpy_trainer, "pytorch": torch_trainer,
             "keras": keras_trainer, "jax": jax_trainer}[framework]
    run, way = train(config, weights, threads, way)
    run(x[:warm], y[:warm], 1)
    seconds, loss = run(x, y, epochs)
    return {"seconds": seconds, "steps": epochs * math.ceil(samples / batch), "final_loss": loss, "way": way}


def lamina_trainer(config, weights, threads, way):
    import lamina as lm

    lm.set_num_threads(threads)
    model = _mlp.lamina_model(config["sizes"], config["optimizer"], config["learning_rate"], weights)
    run = lambda x, y, epochs: _mlp.lamina_epochs(model, x, y, config["batch"], epochs)  # noqa: E731
    return run, f"{way} ({_mlp.lamina_path(model)})"


def numpy_trainer(config, weights, threads, way):
    mlp = _mlp.NumpyMLP(weights, config["optimizer"], config["learning_rate"])
    return (lambda x, y, epochs: mlp.epochs(x, y, config["batch"], epochs)), way


def torch_trainer(config, weights, threads, way):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    sizes, batch = config["sizes"], config["batch"]
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = torch.nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weights[2 * index].T.copy()))
            linear.bias.copy_(torch.from_numpy(weights[2 * index + 1]))
        layers.append(linear)
        if index < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    if config["optimizer"] == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=config["learning_rate"])
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"],
                                     betas=(_mlp.ADAM_BETA1, _mlp.ADAM_BETA2), eps=_mlp.EPSILON)
    loss_fn = torch.nn.CrossEntropyLoss()  # log-softmax + NLL on the logits: softmax + CCE

    def run(x, y, epochs):
        features = torch.from_numpy(x)
        labels = torch.from_numpy(y.argmax(axis=1))
        start = time.perf_counter()
        for _ in range(epochs):
            order = torch.randperm(features.shape[0])
            total = 0.0
            for begin in range(0, features.shape[0], batch):
                rows = order[begin:begin + batch]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(features[rows]), labels[rows])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(rows)
        return time.perf_counter() - start, total / features.shape[0]

    return run, f"{way} (torch {torch.__version__})"


def keras_trainer(config, weights, threads, way):
    import keras

    sizes = config["sizes"]
    layers = [keras.Input((sizes[0],))]
    layers += [keras.layers.Dense(units, activation="relu") for units in sizes[1:-1]]
    layers.append(keras.layers.Dense(sizes[-1], activation="softmax"))
    model = keras.Sequential(layers)
    if config["optimizer"] == "sgd":
        optimizer = keras.optimizers.SGD(config["learning_rate"])
    else:
        optimizer = keras.optimizers.Adam(config["learning_rate"], beta_1=_mlp.ADAM_BETA1,
                                          beta_2=_mlp.ADAM_BETA2, epsilon=_mlp.EPSILON)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    model.set_weights(weights)

    def run(x, y, epochs):
        start = time.perf_counter()
        history = model.fit(x, y, batch_size=config["batch"], epochs=epochs, verbose=0, shuffle=True)
        return time.perf_counter() - start, float(history.history["loss"][-1])

    return run, f"{way} (keras {keras.__version__}, {keras.backend.backend()} backend)"


def jax_trainer(config, weights, threads, way):
    import jax
    import jax.numpy as jnp
    import numpy as np

    batch, learning_rate = config["batch"], config["learning_rate"]
    b1, b2, eps = _mlp.ADAM_BETA1, _mlp.ADAM_BETA2, _mlp.EPSILON

    def loss_fn(params, xb, yb):
        hidden = xb
        for kernel, bias in params[:-1]:
            hidden = jax.nn.relu(hidden @ kernel + bias)
        kernel, bias = params[-1]
        logits = hidden @ kernel + bias
        return -jnp.mean(jnp.sum(yb * jax.nn.log_softmax(logits), axis=1))

    def sgd_step(params, state, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        params = jax.tree_util.tree_map(lambda p, g: p - learning_rate * g, params, grads)
        return params, state, loss

    def adam_step(params, state, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        t, m, v = state
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        params = jax.tree_util.tree_map(
            lambda p, m, v: p - learning_rate * (m / c1) / (jnp.sqrt(v / c2) + eps), params, m, v)
        return params, (t, m, v), loss

    step = jax.jit(sgd_step if config["optimizer"] == "sgd" else adam_step, donate_argnums=(0, 1))
    params = [(jnp.asarray(weights[i]), jnp.asarray(weights[i + 1])) for i in range(0, len(weights), 2)]
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    state = (jnp.float32(0), zeros, jax.tree_util.tree_map(jnp.zeros_like, params))
    rng = np.random.default_rng(2)
    holder = {"params": params, "state": state}

    def run(x, y, epochs):
        start = time.perf_counter()
        params, state = holder["params"], holder["state"]
        for _ in range(epochs):
            order = rng.permutation(x.shape[0])
            losses = []
            for begin in range(0, x.shape[0], batch):
                rows = order[begin:begin + batch]
                params, state, loss = step(params, state, x[rows], y[rows])
                losses.append(loss)
        sizes = np.diff(np.append(np.arange(0, x.shape[0], batch), x.shape[0]))
        total = float(np.dot(np.asarray(jax.device_get(losses), np.float64), sizes))  # waits for the last step
        seconds = time.perf_counter() - start
        holder["params"], holder["state"] = params, state
        return seconds, total / x.shape[0]

    return run, f"{way} (jax {jax.__version__})"


def child_main(args):
    config, framework, way = args.child
    if framework == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras 3's default, tensorflow, is often absent
    try:
        __import__(IMPORTS[framework])
    except ImportError:
        print(json.dumps({"skipped": "not installed"}))
        return
    print(json.dumps(measure(config, framework, way, args.samples, args.threads, args.epochs)))


# ---------------------------------------------------------------- the run (parent side)

def run_one(config, framework, way, samples, threads, epochs):
    extra = {"LAMINA_FUSED": "0"} if "LAMINA_FUSED=0" in way else {}
    env = _mlp.thread_env(framework, threads, extra)
    arguments = ["--child", config, framework, way, "--samples", str(samples), "--threads", str(threads),
                 "--epochs", str(epochs)]
    return _mlp.run_child(os.path.abspath(__file__), arguments, env)


def benchmark(configs, ways, samples, threads, rounds, epochs, say):
    """{(config, framework, way): best result or a skip/error note}, measured in rounds."""
    best = {}
    for round_index in range(rounds):
        order = [(c, f, w) for c in configs for f, w in ways]
        for config, framework, way in (order if round_index % 2 == 0 else order[::-1]):
            key = (config, framework, way)
            if key in best and "seconds" not in best[key]:
                continue  # skipped or failed once: do not retry
            result = run_one(config, framework, way, samples, threads, epochs)
            say(f"round {round_index + 1}/{rounds} {config} {framework} {way}: "
                + (f"{result['seconds']:.3f} s" if "seconds" in result else str(result)))
            if key not in best or ("seconds" in result and result["seconds"] < best[key]["seconds"]):
                best[key] = result
    return best


def rows_for(config, ways, best, samples, epochs):
    """The measured rows of one config, with samples/s, µs/step and the ratio lamina ÷ this."""
    rows = []
    for framework, way in ways:
        result = best[(config, framework, way)]
        if "seconds" not in result:
            rows.append({"framework": framework, "way": way, "note": result.get("skipped") or result["error"]})
            continue
        rows.append({"config": config, "framework": framework, "way": result["way"],
                     "samples_per_s": epochs * samples / result["seconds"],
                     "us_per_step": 1e6 * result["seconds"] / result["steps"],
                     "final_loss": result["final_loss"]})
    reference = next((r for r in rows if r["framework"] == "lamina" and "samples_per_s" in r), None)
    for row in rows:
        if reference and "samples_per_s" in row:
            row["lamina_ratio"] = reference["samples_per_s"] / row["samples_per_s"]
    return rows


def print_table(config, rows, samples, threads, rounds, epochs):
    print(f"{config}: {CONFIGS[config]['title']}")
    per_call = "one epoch per timed call" if epochs == 1 else f"{epochs} epochs per timed call"
    print(f"  {samples:,} random samples per epoch, {per_call}, {threads} threads, best of {rounds} round(s), "
          "each in its own process")
    print(f"  {'framework':<10}{'way':<48}{'samples/s':>12}{'µs/step':>11}{'lamina ÷':>10}{'final loss':>12}")
    for row in rows:
        if "note" in row:
            print(f"  {row['framework']:<10}{row['way']:<48}{row['note']}")
            continue
        ratio = f"{row['lamina_ratio']:.2f}x" if "lamina_ratio" in row else "-"
        print(f"  {row['framework']:<10}{row['way']:<48}{row['samples_per_s']:>12,.0f}"
              f"{row['us_per_step']:>11.1f}{ratio:>10}{row['final_loss']:>12.4f}")
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60000, help="samples per epoch (default 60000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best of each is kept (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads for every framework (default 2)")
    parser.add_argument("--epochs", type=int, default=1,
                        help="epochs in the timed fit call (default 1; more spreads fit's per-call cost)")
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--frameworks", nargs="+", choices=sorted(IMPORTS), default=sorted(IMPORTS))
    parser.add_argument("--json", action="store_true", help="one JSON object per measurement")
    parser.add_argument("--verbose", action="store_true", help="print each round's time to stderr")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if min(args.samples, args.rounds, args.threads, args.epochs) < 1:
        parser.error("--samples, --rounds, --threads and --epochs must be positive")
    if args.child:
        child_main(args)
        return

    ways = [(f, w) for f, w in WAYS if f in args.frameworks]
    say = (lambda text: print(text, file=sys.stderr, flush=True)) if args.verbose else (lambda text: None)
    best = benchmark(args.configs, ways, args.samples, args.threads, args.rounds, args.epochs, say)
    for config in args.configs:
        rows = rows_for(config, ways, best, args.samples, args.epochs)
        if not args.json:
            print_table(config, rows, args.samples, args.threads, args.rounds, args.epochs)
            continue
        for row in rows:
            if "note" in row:
                print(f"{config} {row['framework']} {row['way']}: {row['note']}", file=sys.stderr)
                continue
            keys = ("config", "framework", "way", "samples_per_s", "us_per_step", "final_loss")
            print(json.dumps({key: (round(row[key], 6) if isinstance(row[key], float) else row[key])
                              for key in keys}))


if __name__ == "__main__":
    main()
