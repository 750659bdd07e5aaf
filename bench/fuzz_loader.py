"""Fuzzes `lm.load_layers_model`: corrupted model folders must give ValueError or TypeError.

Each case is a model folder (model.json plus weight files) made from a valid one by
mutations that know the format: bytes flipped, cut or added in any file; a JSON node deleted,
duplicated or replaced by a value of another type (huge, negative, NaN, empty, a path); in
the weights manifest, a spec's name, shape, dtype or group changed, specs dropped, duplicated
or reordered, paths pointing nowhere or outside the folder, the weights split into shards.
The valid folders are the TF.js-written fixtures (tests/fixtures/tfjs), their variants in
the forms TF.js accepts (sharded, `./` paths, camelCase, `model_config`, an explicit
InputLayer, `input_shape`), and models saved by lamina.

Loading a case may succeed or raise ValueError/TypeError (or, when the case has no
model.json at all, FileNotFoundError, the loader's documented error for a path that does
not exist); any other exception is a finding (printed with its traceback and saved under
--crash-dir). Warnings are ignored.

    python bench/fuzz_loader.py --seconds 60                    # atheris (libFuzzer) if installed
    python bench/fuzz_loader.py --seconds 60 --engine random    # the pure-Python mutator
    python bench/fuzz_loader.py --replay crashes/finding-1.case # one saved case

With atheris, libFuzzer drives the search (coverage of lamina's code) and calls the
structure-aware mutator below as its custom mutator; `--engine random` runs the same
mutator from a seeded random.Random, so a run is reproducible from --seed alone.
"""

import argparse
import copy
import json
import math
import os
import random
import shutil
import struct
import sys
import tempfile
import time
import traceback
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tfjs")
# The guide fixture (100 KB of weights) is left out: big inputs make slow mutations.
SEED_FIXTURES = ("dropout", "activations", "reshape", "adam_trained", "rmsprop_trained")
EXPECTED = (ValueError, TypeError)
MAX_CASE_BYTES = 1 << 20

lm = None  # imported by main() (inside atheris's instrumentation when it is used)


def _import_lamina():
    global lm
    if lm is None:
        import lamina
        lm = lamina
    return lm


# --- a case: a folder's files as {name: bytes}, packed into one byte string for libFuzzer ---

def encode(files):
    """Packs {name: bytes} as repeated (u16 name length, name, u32 data length, data)."""
    out = bytearray()
    for name, data in files.items():
        raw = name.encode("utf-8", "surrogatepass")[:0xFFFF]
        out += struct.pack("<H", len(raw)) + raw + struct.pack("<I", len(data)) + data
    return bytes(out)


def decode(blob):
    """The inverse of encode; any byte string decodes (a cut-off record is shortened)."""
    files, at = {}, 0
    while at + 2 <= len(blob):
        (name_length,) = struct.unpack_from("<H", blob, at)
        at += 2
        name = blob[at:at + name_length].decode("utf-8", "replace")
        at += name_length
        if at + 4 > len(blob):
            size = 0
        else:
            (size,) = struct.unpack_from("<I", blob, at)
            at += 4
        files[name] = blob[at:at + size]
        at += size
    return files


# --- the valid starting points --------------------------------------------------------------

def _read_file(path):
    with open(path, "rb") as f:
        return f.read()


def _read_folder(folder):
    return {name: _read_file(os.path.join(folder, name)) for name in sorted(os.listdir(folder)) if name != "io.json"}


def _json_bytes(obj):
    return json.dumps(obj).encode()


def _variants(files):
    """The forms of one saved model that TF.js's loader also accepts."""
    model = json.loads(files["model.json"])
    weights = files["weights.bin"]
    out = []

    sharded = copy.deepcopy(model)
    cut = len(weights) // 2
    sharded["weightsManifest"][0]["paths"] = ["group1-shard1of2.bin", "group1-shard2of2.bin"]
    out.append({"model.json": _json_bytes(sharded), "group1-shard1of2.bin": weights[:cut],
                "group1-shard2of2.bin": weights[cut:]})

    dotted = copy.deepcopy(model)
    dotted["weightsManifest"][0]["paths"] = ["./weights.bin"]
    out.append({"model.json": _json_bytes(dotted), "weights.bin": weights})

    wrapped = copy.deepcopy(model)
    wrapped["modelTopology"] = {"model_config": wrapped["modelTopology"]}
    out.append({"model.json": _json_bytes(wrapped), "weights.bin": weights})

    camel = copy.deepcopy(model)
    camel["modelTopology"] = _camel_keys(camel["modelTopology"])
    out.append({"model.json": _json_bytes(camel), "weights.bin": weights})

    layers = model["modelTopology"]["config"]["layers"]
    first = layers[0]["config"]
    if "batch_input_shape" in first:
        explicit = copy.deepcopy(model)
        new_layers = explicit["modelTopology"]["config"]["layers"]
        shape = new_layers[0]["config"].pop("batch_input_shape")
        new_layers[0]["config"].pop("dtype", None)
        new_layers.insert(0, {"class_name": "InputLayer", "config": {
            "batch_input_shape": shape, "dtype": "float32", "sparse": False, "name": "input_1"}})
        out.append({"model.json": _json_bytes(explicit), "weights.bin": weights})

        input_shape = copy.deepcopy(model)
        config = input_shape["modelTopology"]["config"]["layers"][0]["config"]
        config["input_shape"] = config.pop("batch_input_shape")[1:]
        out.append({"model.json": _json_bytes(input_shape), "weights.bin": weights})
    return out


def _camel_keys(node):
    if isinstance(node, dict):
        return {_camel(key): _camel_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_camel_keys(item) for item in node]
    return node


def _camel(key):
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _lamina_saved():
    """Models saved by lamina itself, with and without the optimizer."""
    _import_lamina()
    out = []
    lm.set_seed(5)
    model = lm.sequential([lm.layers.dense(units=5, input_shape=[3], activation="relu"),
                           lm.layers.dropout(rate=0.25),
                           lm.layers.dense(units=2, activation="softmax")])
    model.compile(optimizer=lm.train.adam(0.01), loss="categoricalCrossentropy", metrics=["accuracy"])
    model.train_on_batch([[0.1, 0.2, 0.3], [0.3, -0.2, 0.1]], [[1.0, 0.0], [0.0, 1.0]])
    with tempfile.TemporaryDirectory() as folder:
        for include_optimizer in (False, True):
            target = os.path.join(folder, f"saved_{include_optimizer}")
            model.save(target, include_optimizer=include_optimizer)
            out.append(_read_folder(target))
    return out


def seed_cases():
    """The valid folders the mutations start from (each loads without error)."""
    cases = []
    for name in SEED_FIXTURES:
        files = _read_folder(os.path.join(FIXTURES, name))
        cases.append(files)
        cases.extend(_variants(files))
    cases.extend(_lamina_saved())
    return cases


# --- mutations ------------------------------------------------------------------------------

INTERESTING_NUMBERS = [0, -1, 1, 2, 3, 7, 2 ** 31 - 1, 2 ** 31, -2 ** 31, 2 ** 53, 10 ** 6, 10 ** 12,
                       1e308, -1e308, 0.5, -0.0, 1e-45]
INTERESTING_STRINGS = ["", "float32", "int32", "bool", "string", "complex64", "float16", "uint8",
                       "optimizer", "Dense", "Dropout", "InputLayer", "Sequential", "Model",
                       "Functional", "relu", "softmax", "VarianceScaling", "weights.bin",
                       "../weights.bin", "/dev/zero", "/etc/passwd", ".", "..", "./", "\x00",
                       "dense_Dense1/kernel", "iter", "kernel", "x" * 300, "__class__",
                       "{epoch}", "é", "\ud800"]
SPECIAL_FLOATS = [math.nan, math.inf, -math.inf]


def _random_value(rng, depth=0):
    kind = rng.randrange(9 if depth < 2 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice(INTERESTING_NUMBERS)
    if kind == 3:
        return rng.choice(SPECIAL_FLOATS)
    if kind == 4:
        return rng.choice(INTERESTING_STRINGS)
    if kind == 5:
        return rng.randint(-5, 40)
    if kind == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 7:
        return [rng.choice([None, -1, 0, 1, 3, 10 ** 9]) for _ in range(rng.randrange(4))]
    return {rng.choice(INTERESTING_STRINGS + ["class_name", "config", "name", "shape", "dtype"]):
            _random_value(rng, depth + 1) for _ in range(rng.randrange(3))}


def _nodes(node, path=()):
    """Every (path, value) in a JSON tree, the root included."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _nodes(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, path + (index,))


def _get(root, path):
    for key in path:
        root = root[key]
    return root


def _mutate_tree(model, rng):
    """One change somewhere in the JSON tree (node chosen uniformly)."""
    nodes = list(_nodes(model))
    path, value = rng.choice(nodes)
    if not path:
        return _random_value(rng)
    parent, key = _get(model, path[:-1]), path[-1]
    action = rng.randrange(6)
    if action == 0:  # delete
        del parent[key]
    elif action == 1:  # replace by a value of any type
        parent[key] = _random_value(rng)
    elif action == 2 and isinstance(parent, list):  # duplicate
        parent.insert(key, copy.deepcopy(value))
    elif action == 3:  # replace by another node of the tree
        parent[key] = copy.deepcopy(rng.choice(nodes)[1]) if len(nodes) < 2000 else None
    elif action == 4 and isinstance(value, (int, float)) and not isinstance(value, bool):
        parent[key] = rng.choice([value + 1, value - 1, -value, value * 1000, value / 2, 0])
    elif action == 5 and isinstance(value, str):
        parent[key] = rng.choice([value.upper(), value[:-1], value + "_1", value * 2, "", _camel(value)])
    else:
        parent[key] = _random_value(rng)
    return model


def _specs(model):
    try:
        return model["weightsManifest"][0]["weights"]
    except (KeyError, IndexError, TypeError):
        return None


def _mutate_manifest(model, files, rng):
    """Changes aimed at the weights manifest: specs and paths."""
    specs = _specs(model)
    if not isinstance(specs, list) or not specs:
        return _mutate_tree(model, rng)
    spec = rng.choice(specs)
    action = rng.randrange(10)
    if not isinstance(spec, dict):
        action = 9
    if action == 0:
        shape = spec.get("shape") if isinstance(spec.get("shape"), list) else []
        spec["shape"] = rng.choice([[], [0], [-1], [1, 1], [10 ** 9, 10 ** 9], [2 ** 31], [3, 0],
                                    shape + [1], shape[::-1], [1.5], ["2"], None, 4])
    elif action == 1:
        spec["dtype"] = rng.choice(["float32", "int32", "bool", "string", "complex64", "float16",
                                    "uint8", "uint16", "float64", "foo", None, 4])
    elif action == 2:
        spec["name"] = rng.choice([s.get("name") if isinstance(s, dict) else None for s in specs]
                                  + ["foo/kernel", "", None, 7, "iter"])
    elif action == 3:
        if rng.random() < 0.5:
            spec["group"] = "optimizer"
        else:
            spec.pop("group", None)
    elif action == 4:
        specs.remove(spec)
    elif action == 5:
        specs.insert(rng.randrange(len(specs) + 1), copy.deepcopy(spec))
    elif action == 6:
        rng.shuffle(specs)
    elif action == 7:
        spec["quantization"] = rng.choice([{"dtype": "uint8", "scale": 0.1, "min": -1},
                                           {"dtype": "float16"}, {"dtype": "foo"}, {}, None, 3])
    elif action == 8:
        model["weightsManifest"][0]["paths"] = rng.choice([
            [], ["missing.bin"], ["../weights.bin"], ["/dev/zero"], [".", "weights.bin"],
            ["weights.bin", "weights.bin"], [None], "weights.bin", [""], ["/"]])
    else:
        _split_shards(model, files, rng)
    return model


def _split_shards(model, files, rng):
    """Splits the first group's weights file into 2-4 shard files at random byte offsets."""
    try:
        paths = model["weightsManifest"][0]["paths"]
        data = b"".join(files.get(name, b"") for name in paths)
    except (KeyError, IndexError, TypeError):
        return
    count = rng.randint(2, 4)
    cuts = sorted(rng.randint(0, len(data)) for _ in range(count - 1))
    bounds = [0] + cuts + [len(data)]
    names = [f"group1-shard{i + 1}of{count}.bin" for i in range(count)]
    for name, start, end in zip(names, bounds, bounds[1:]):
        files[name] = data[start:end]
    model["weightsManifest"][0]["paths"] = names


def _mutate_bytes(data, rng):
    data = bytearray(data)
    action = rng.randrange(6)
    if action == 0 and data:  # flip a bit
        at = rng.randrange(len(data))
        data[at] ^= 1 << rng.randrange(8)
    elif action == 1:  # cut the end
        del data[rng.randint(0, len(data)):]
    elif action == 2:  # add bytes
        at = rng.randint(0, len(data))
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif action == 3 and data:  # delete a range
        at = rng.randrange(len(data))
        del data[at:at + rng.randint(1, 16)]
    elif action == 4 and len(data) >= 4:  # an interesting float32 somewhere
        at = rng.randrange(len(data) - 3)
        data[at:at + 4] = struct.pack("<f", rng.choice([math.nan, math.inf, -math.inf, 3.4e38, 0.0]))
    else:  # set a byte
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def mutate(files, rng):
    """A mutated copy of a case ({name: bytes}); 1-3 changes, structure-aware when model.json parses."""
    files = dict(files)
    for _ in range(rng.randint(1, 3)):
        text = files.get("model.json")
        model = None
        if text is not None:
            try:
                model = json.loads(text)
            except (ValueError, UnicodeDecodeError, RecursionError):
                model = None
        roll = rng.random()
        if model is not None and roll < 0.4:
            model = _mutate_tree(model, rng)
            files["model.json"] = json.dumps(model).encode("utf-8", "surrogatepass")
        elif model is not None and roll < 0.7:
            model = _mutate_manifest(model, files, rng)
            files["model.json"] = json.dumps(model).encode("utf-8", "surrogatepass")
        elif roll < 0.75 and files:
            del files[rng.choice(sorted(files))]
        else:
            name = rng.choice(sorted(files)) if files else "model.json"
            files[name] = _mutate_bytes(files.get(name, b""), rng)
    return files


# --- running one case -----------------------------------------------------------------------

def _safe_name(name):
    """Where a case's file goes inside its folder: only plain names, so the case files never
    land outside the scratch folder (the manifest itself may still point anywhere)."""
    name = name.replace("/", "_").replace("\\", "_").replace("\x00", "_")
    return name if name not in ("", ".", "..") else "_"


def load_case(files, scratch):
    """Writes the case into a fresh folder under `scratch` and loads it: "loaded", or the
    name of the expected exception raised. Any other exception propagates."""
    _import_lamina()
    folder = tempfile.mkdtemp(dir=scratch)
    try:
        for name, data in files.items():
            with open(os.path.join(folder, _safe_name(name)), "wb") as f:
                f.write(data)
        has_model_json = os.path.isfile(os.path.join(folder, "model.json"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are not failures here (pytest makes them errors)
            try:
                lm.load_layers_model(folder)
            except EXPECTED as error:
                return type(error).__name__
            except FileNotFoundError:
                if has_model_json:
                    raise
                return "no model.json"  # the documented error for a path that is not there
        return "loaded"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _signature(error):
    """Where an unexpected exception came from: its type and the innermost lamina frame."""
    frames = traceback.extract_tb(error.__traceback__)
    inner = [f for f in frames if os.sep + "lamina" + os.sep in f.filename] or frames
    where = f"{os.path.basename(inner[-1].filename)}:{inner[-1].lineno}" if inner else "?"
    return f"{type(error).__name__} at {where}"


class Stats:
    def __init__(self):
        self.executions = 0
        self.outcomes = {}
        self.findings = {}  # signature -> (case files, formatted traceback)

    def record(self, files, scratch):
        self.executions += 1
        try:
            outcome = load_case(files, scratch)
        except RecursionError as error:  # JSON nested too deeply for the loader: a finding too
            outcome = self._finding(files, error)
        except Exception as error:  # noqa: BLE001 -- anything unexpected is what we look for
            outcome = self._finding(files, error)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def _finding(self, files, error):
        signature = _signature(error)
        if signature not in self.findings:
            self.findings[signature] = (files, "".join(traceback.format_exception(type(error), error,
                                                                                  error.__traceback__)))
        return "finding"

    def report(self, engine, seconds, seed, crash_dir=None, out=sys.stdout):
        print(f"engine: {engine}, seed {seed}, {seconds:.1f} s", file=out)
        print(f"executions: {self.executions}", file=out)
        print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())), file=out)
        print(f"findings: {len(self.findings)}", file=out)
        for index, (signature, (files, text)) in enumerate(sorted(self.findings.items()), 1):
            print(f"--- finding {index}: {signature}", file=out)
            print(text.rstrip(), file=out)
            if crash_dir:
                os.makedirs(crash_dir, exist_ok=True)
                path = os.path.join(crash_dir, f"finding-{index}.case")
                with open(path, "wb") as f:
                    f.write(encode(files))
                print(f"saved as {path} (replay: python bench/fuzz_loader.py --replay {path})", file=out)


def fuzz_random(seconds, seed=0, max_executions=None, cases=None):
    """The pure-Python engine: mutates seed cases with random.Random(seed) for `seconds`
    (or `max_executions`); returns the Stats. Each case starts from a seed case, or from an
    earlier mutant, so changes stack up."""
    rng = random.Random(seed)
    cases = list(cases or seed_cases())
    pool = list(cases)
    stats = Stats()
    deadline = time.monotonic() + seconds
    with tempfile.TemporaryDirectory(prefix="lamina-fuzz-") as scratch:
        for files in cases:  # the seeds themselves must load
            stats.record(files, scratch)
        while time.monotonic() < deadline and (max_executions is None or stats.executions < max_executions):
            files = mutate(rng.choice(pool), rng)
            stats.record(files, scratch)
            if (rng.random() < 0.1 and "model.json" in files
                    and sum(len(v) for v in files.values()) < MAX_CASE_BYTES):
                pool.append(files)
                if len(pool) > 200:
                    pool.pop(len(cases) + rng.randrange(len(pool) - len(cases)))
    return stats


def fuzz_atheris(seconds, seed, crash_dir):
    """libFuzzer through atheris, with the structure-aware mutator; never returns."""
    import atheris

    cases = seed_cases()
    stats = Stats()
    scratch = tempfile.mkdtemp(prefix="lamina-fuzz-")
    corpus = tempfile.mkdtemp(prefix="lamina-fuzz-corpus-")
    for index, files in enumerate(cases):
        with open(os.path.join(corpus, f"seed-{index}"), "wb") as f:
            f.write(encode(files))
    started = time.monotonic()

    def finish():
        stats.report("atheris", time.monotonic() - started, seed, crash_dir)
        sys.stdout.flush()
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(corpus, ignore_errors=True)
        os._exit(1 if stats.findings else 0)  # libFuzzer's own exit would skip the report

    def test_one_input(data):
        if time.monotonic() - started >= seconds:
            finish()
        stats.record(decode(data), scratch)

    def custom_mutator(data, max_size, mutator_seed):
        rng = random.Random(mutator_seed)
        files = decode(data) or rng.choice(cases)
        if rng.random() < 0.2:  # libFuzzer's own byte-level mutations of one file
            name = rng.choice(sorted(files))
            files[name] = atheris.Mutate(files[name], max(len(files[name]) * 2, 64))
        else:
            files = mutate(files, rng)
        blob = encode(files)
        return blob if len(blob) <= max_size else data

    max_len = max(len(encode(files)) for files in cases) * 2
    argv = [sys.argv[0], corpus, f"-seed={seed}", f"-max_len={max_len}", "-rss_limit_mb=4096",
            f"-max_total_time={int(seconds) + 60}", "-print_final_stats=0", "-close_fd_mask=0"]
    atheris.Setup(argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()
    finish()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to fuzz (default 30)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--engine", choices=("auto", "atheris", "random"), default="auto",
                        help="atheris when installed (auto), or the pure-Python mutator")
    parser.add_argument("--crash-dir", default=None, help="save each finding's case here")
    parser.add_argument("--replay", default=None, help="load one saved case and show what happens")
    args = parser.parse_args(argv)

    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401
            engine = "atheris"
        except ImportError:
            engine = "random"
    if engine == "atheris":
        import atheris
        with atheris.instrument_imports(include=["lamina"]):
            _import_lamina()
    else:
        _import_lamina()

    if args.replay:
        files = decode(_read_file(args.replay))
        with tempfile.TemporaryDirectory() as scratch:
            print(load_case(files, scratch))
        return 0
    if engine == "atheris":
        fuzz_atheris(args.seconds, args.seed, args.crash_dir)
    started = time.monotonic()
    stats = fuzz_random(args.seconds, args.seed)
    stats.report("random", time.monotonic() - started, args.seed, args.crash_dir)
    return 1 if stats.findings else 0


if __name__ == "__main__":
    sys.exit(main())
