"""Every function in lamina._core, called with random wrong arguments, raises TypeError or
ValueError: never another exception, never a crash. Runs in a child process so that a crash
is reported as a failure with the call that caused it instead of killing pytest."""

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    r"""
    import itertools, random, sys
    import numpy as np
    from lamina import _core

    SKIP = {"set_num_threads", "set_isa"}  # change global state; tested on their own
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


def test_random_bad_arguments_never_crash():
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=600)
    last_call = proc.stderr.strip().splitlines()[-1:] if proc.stderr else []
    assert proc.returncode == 0, f"exit {proc.returncode}; stdout: {proc.stdout!r}; last call: {last_call}"
    assert proc.stdout.strip().splitlines()[-1].startswith("checked")
