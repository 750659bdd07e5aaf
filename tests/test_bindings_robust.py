"""Every function in lamina._core, called with wrong arguments, raises TypeError or ValueError:
never another exception, never a crash. Two fuzzers, each in a child process so that a crash
is reported as a failure with the call that caused it instead of killing pytest:

- random positional arguments from a palette of mostly wrong values;
- calls built from each function's pybind11 signature: the right number of positional
  arguments, mostly valid arrays of agreeing shapes (so the call gets past the array checks),
  and random keyword values (nan, inf, -1, 0, huge, wrong types, None, missing, unknown).
"""

import os
import random
import re
import subprocess
import sys
import textwrap

import numpy as np

from lamina import _core

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = {"set_num_threads", "set_isa"}  # change global state; tested on their own

CHILD = textwrap.dedent(
    r"""
    import itertools, random, sys
    import numpy as np
    from lamina import _core

    SKIP = {"set_num_threads", "set_isa"}
    f32 = np.float32
    palette = [
        None, "relu", 0, 1, -1, 2.5, float("nan"), True, [], [1.0, 2.0], (3, 4),
        np.zeros((3, 4), f32), np.ones((4, 3), f32), np.ones((3, 3), f32), np.ones((1,), f32),
        np.ones((4,), f32), np.ones((0, 3), f32), np.ones((3, 0), f32), np.ones((2, 3, 4), f32),
        np.array(1.0, f32), np.ones((3, 4)), np.ones((3, 4), np.float16),
        np.ones((3, 4), np.int32), np.ones((3,), np.int32), np.array([-1, 7, 2], np.int32),
        np.ones((4, 8), f32)[:, ::2], np.asfortranarray(np.ones((3, 4), f32)),
        np.full((3, 4), np.nan, f32), np.full((3, 4), np.inf, f32),
    ]
    read_only = np.ones((3, 4), f32); read_only.setflags(write=False)
    palette.append(read_only)

    rng = random.Random(0)
    names = sorted(n for n in dir(_core) if not n.startswith("_") and callable(getattr(_core, n)))
    for name in names:
        if name in SKIP:
            continue
        fn = getattr(_core, name)
        for trial in range(600):
            nargs = rng.randint(0, 7)
            args = [rng.choice(palette) for _ in range(nargs)]
            sys.stderr.write(f"{name}{tuple(type(a).__name__ + str(getattr(a, 'shape', '')) for a in args)}\n")
            sys.stderr.flush()
            try:
                fn(*args)
            except (TypeError, ValueError):
                pass
            except Exception as e:
                print(f"{name} raised {type(e).__name__}: {e}")
                sys.exit(3)
    print("checked", len(names), "functions")
    """
)


def run_child(code):
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    last_call = proc.stderr.strip().splitlines()[-1:] if proc.stderr else []
    assert proc.returncode == 0, f"exit {proc.returncode}; stdout: {proc.stdout!r}; last call: {last_call}"
    return proc.stdout.strip().splitlines()


def test_random_bad_arguments_never_crash():
    assert run_child(CHILD)[-1].startswith("checked")


# ---- signature-driven fuzzing ----------------------------------------------------------------


def split_top_level(text):
    """Splits at the commas outside brackets and quotes."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    return parts + [tail] if tail else parts


def parse_parameters(signature):
    """[(name, kind, keyword_only, has_default)] of one line `f(a: object, *, lr: float = 1) -> T`.
    kind: "array" (object), "str", "bool", "int" or "float"."""
    open_paren = signature.index("(")
    depth = 0
    for close_paren in range(open_paren, len(signature)):
        depth += {"(": 1, ")": -1}.get(signature[close_paren], 0)
        if depth == 0:
            break
    params, keyword_only = [], False
    for part in split_top_level(signature[open_paren + 1 : close_paren]):
        if part == "*":
            keyword_only = True
            continue
        declaration, has_default = part.split(" = ")[0], " = " in part
        name, _, annotation = declaration.partition(": ")
        if "SupportsFloat" in annotation:
            kind = "float"
        elif "SupportsInt" in annotation:
            kind = "int"
        elif annotation in ("str", "bool"):
            kind = annotation
        else:
            kind = "array"
        params.append((name, kind, keyword_only, has_default))
    return params


def signatures(fn):
    """Parameter lists of fn's signatures: the first docstring line, or for an overloaded
    function (`f(*args, **kwargs)` then `Overloaded function.`) each numbered `k. f(...)` line."""
    lines = (fn.__doc__ or "").splitlines()
    if not lines:
        return []
    if lines[0].startswith(f"{fn.__name__}(*args, **kwargs)"):
        overloads = [l.split(". ", 1)[1] for l in lines if re.match(rf"\d+\. {fn.__name__}\(", l)]
        return [parse_parameters(s) for s in overloads]
    return [parse_parameters(lines[0])]


def test_signature_parser_sees_keyword_only_parameters():
    (adam,) = signatures(_core.adam_update)
    assert [p[0] for p in adam if not p[2]] == ["w", "g", "m", "v"]
    assert ("lr", "float", True, False) in adam and ("epsilon", "float", True, False) in adam
    (dense,) = signatures(_core.dense_forward)
    assert ("activation", "str", False, True) in dense
    assert ("keep_preactivation", "bool", True, True) in dense
    (adamax,) = signatures(_core.adamax_update)
    assert ("step", "int", True, False) in adamax

    def overloaded():
        pass

    overloaded.__doc__ = (
        "overloaded(*args, **kwargs)\nOverloaded function.\n\n"
        "1. overloaded(x: object, *, k: typing.SupportsInt = 1) -> None\n\n"
        "2. overloaded(name: str, y: object) -> None\n\noverloaded(x) does things\n"
    )
    assert signatures(overloaded) == [
        [("x", "array", False, False), ("k", "int", True, True)],
        [("name", "str", False, False), ("y", "array", False, False)],
    ]


# Valid arrays, all of agreeing 3-row shapes: (3, 3) float32 fits every matrix argument
# (logits, probs, x, w, gemm operands, optimizer buffers), (3,) float32 every bias or per-row
# argument, (3,) int32 in [0, 3) every class-label argument.
def matrix(rng):
    return np.asarray(rng.uniform(0.05, 1.0, (3, 3)), np.float32)


def row_vector(rng):
    return np.asarray(rng.uniform(0.05, 1.0, 3), np.float32)


def class_labels(rng):
    return np.asarray(rng.integers(0, 3, 3), np.int32)


def pcg_seed(rng):
    return rng.integers(0, 2 ** 64, size=4, dtype=np.uint64, endpoint=False)


def entropy_words(rng):
    return rng.integers(0, 2 ** 32, size=int(rng.integers(1, 6)), dtype=np.uint32)


VALID_FOR_NAME = {"b": [row_vector], "dloss": [row_vector], "labels": [matrix, class_labels], "seed": [pcg_seed],
                  "entropy": [entropy_words]}
BAD_ARRAYS = [
    lambda rng: None, lambda rng: 1.5, lambda rng: "relu", lambda rng: [[1.0, 2.0]],
    lambda rng: np.ones((3, 4), np.float32), lambda rng: np.ones((3, 3)),
    lambda rng: np.ones((3, 3), np.int32), lambda rng: np.ones((0, 3), np.float32),
    lambda rng: np.ones((3, 3, 1), np.float32), lambda rng: np.array(1.0, np.float32),
    lambda rng: np.array([-1, 3, 2 ** 31 - 1], np.int32),
    lambda rng: np.ones((3, 6), np.float32)[:, ::2],
    lambda rng: np.full((3, 3), np.nan, np.float32), lambda rng: np.full((3,), -np.inf, np.float32),
    lambda rng: np.ones((2, 4), np.uint64), lambda rng: np.ones(8, np.uint64)[::2],
]
ACTIVATIONS = ["linear", "relu", "relu6", "elu", "selu", "sigmoid", "tanh", "swish", "gelu"]
GOOD_SCALAR = {"float": [0.1, 0.5, 0.9, 1e-7, 1], "int": [1, 2, 10], "bool": [True, False],
               "str": ACTIVATIONS, "array": [matrix]}
WEIRD_SCALARS = [
    float("nan"), float("inf"), float("-inf"), -1, 0, -0.0, 1, 2, 1e30, -1e30, 1e300, 5e-324,
    10 ** 30, -(10 ** 30), 2 ** 63, -(2 ** 63) - 1, 2 ** 31, True, None, "0.1", "", [], (1,),
    np.float32("nan"), np.float64(1e39), np.int64(-1), np.uint64(2 ** 64 - 1), np.bool_(True),
    np.array([0.5, 0.5]), np.array(0.5), object(), "linear", "softmax", "no_such_activation",
]


def core_functions():
    return sorted(n for n in dir(_core) if not n.startswith("_") and callable(getattr(_core, n)))


def draw_array(name, rng, pyrng):
    """Mostly the valid array for a parameter of this name, else another valid or a bad one."""
    r = pyrng.random()
    if r < 0.8:
        return pyrng.choice(VALID_FOR_NAME.get(name, [matrix]))(rng)
    if r < 0.9:
        return pyrng.choice([matrix, row_vector, class_labels])(rng)
    return pyrng.choice(BAD_ARRAYS)(rng)


def draw_value(kind, name, rng, pyrng, weird):
    if kind == "array":
        return pyrng.choice(BAD_ARRAYS)(rng) if weird else draw_array(name, rng, pyrng)
    if weird:
        return pyrng.choice(WEIRD_SCALARS)
    return pyrng.choice(GOOD_SCALAR[kind])


def fuzz_call(params, rng, pyrng):
    """(args, kwargs) for one call: the right number of positional arguments (mostly valid
    arrays, now and then one passed twice), then keywords, of which none, one or all are
    drawn from the weird values (the rest good)."""
    positional = [p for p in params if not p[2]]
    required = sum(1 for p in positional if not p[3])
    count = pyrng.randint(required, len(positional))
    args = []
    for name, kind, _, _ in positional[:count]:
        if kind == "array":
            alias = args and pyrng.random() < 0.05 and isinstance(args[-1], np.ndarray)
            args.append(args[-1] if alias else draw_array(name, rng, pyrng))
        else:
            args.append(draw_value(kind, name, rng, pyrng, weird=pyrng.random() < 0.3))
    keywords = [p for p in params if p[2]] + positional[count:]
    mode = pyrng.choice(["none weird", "one weird", "one weird", "all weird", "all weird"])
    weird_one = pyrng.randrange(len(keywords)) if keywords else -1
    kwargs = {}
    for k, (name, kind, _, has_default) in enumerate(keywords):
        if pyrng.random() < (0.4 if has_default else 0.05):
            continue  # left out: a default, or a missing required argument
        weird = mode == "all weird" or (mode == "one weird" and k == weird_one)
        kwargs[name] = draw_value(kind, name, rng, pyrng, weird)
    if pyrng.random() < 0.03:
        kwargs["no_such_keyword"] = 1.0
    return args, kwargs


def describe(value):
    if isinstance(value, np.ndarray):
        return f"ndarray{value.shape}{value.dtype}"
    if isinstance(value, (int, float, str, type(None))):
        return repr(value)
    return type(value).__name__


def fuzz_with_signatures(trials_per_function=700, seed=0):
    """Child-process entry: prints `passed <function> <count>`, the calls that returned normally."""
    rng = np.random.default_rng(seed)
    pyrng = random.Random(seed)
    for name in core_functions():
        if name in SKIP:
            continue
        fn, passed = getattr(_core, name), 0
        overloads = signatures(fn)
        assert overloads, f"{name}: no signature in its docstring"
        for _ in range(trials_per_function):
            args, kwargs = fuzz_call(pyrng.choice(overloads), rng, pyrng)
            shown = [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
            sys.stderr.write(f"{name}({', '.join(shown)})\n")
            sys.stderr.flush()
            try:
                fn(*args, **kwargs)
                passed += 1
            except (TypeError, ValueError):
                pass
            except Exception as e:
                print(f"{name}({', '.join(shown)}) raised {type(e).__name__}: {e}")
                sys.exit(3)
        print("passed", name, passed)


def test_signature_driven_keyword_fuzzing_never_crashes():
    code = f"import sys; sys.path.insert(0, {HERE!r}); import test_bindings_robust as t; " \
           "t.fuzz_with_signatures()"
    passed = dict(line.split()[1:] for line in run_child(code) if line.startswith("passed "))
    assert set(passed) == set(core_functions()) - SKIP
    # The valid arrays must get calls past the array checks, or the keywords were never reached.
    for name, count in passed.items():
        assert int(count) > 0, f"{name}: no fuzzed call got past the argument checks"
