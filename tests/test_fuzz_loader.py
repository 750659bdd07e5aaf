"""The loader's fuzz target (bench/fuzz_loader.py): a bounded run with a fixed seed, and a
regression test for every crash the fuzzer found.

Contract: loading a corrupted model folder succeeds or raises ValueError/TypeError (or
FileNotFoundError when there is no model.json at all); never another exception.
The longer run: `python bench/fuzz_loader.py --seconds 600`.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import lamina as lm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "bench", "fuzz_loader.py")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tfjs")


def load_harness():
    spec = importlib.util.spec_from_file_location("fuzz_loader_harness", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


harness = load_harness()


def test_every_seed_case_loads(tmp_path):
    # The mutations start from valid folders: TF.js's, their accepted variants, lamina's.
    cases = harness.seed_cases()
    assert len(cases) >= 30
    assert [harness.load_case(files, str(tmp_path)) for files in cases] == ["loaded"] * len(cases)


def test_case_encoding_round_trips_and_any_bytes_decode():
    files = {"model.json": b"{}", "group1-shard1of2.bin": bytes(range(256))}
    assert harness.decode(harness.encode(files)) == files
    for blob in (b"", b"\x05", b"\x01\x00a\xff\xff\xff\xff", bytes(range(256))):
        assert isinstance(harness.decode(blob), dict)


def test_bounded_random_run_finds_nothing():
    # A fixed seed and a bounded number of cases (about 3 s): the same cases on every run.
    stats = harness.fuzz_random(seconds=3, seed=0, max_executions=4000)
    details = "\n".join(f"{signature}\n{text}" for signature, (_, text) in stats.findings.items())
    assert not stats.findings, details
    assert stats.executions > 300
    # The run reaches both ends: mutants that still load, and mutants refused with a ValueError.
    assert stats.outcomes.get("loaded", 0) > 0 and stats.outcomes.get("ValueError", 0) > 0


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")
def test_bounded_atheris_run_finds_nothing():
    run = subprocess.run([sys.executable, SCRIPT, "--engine", "atheris", "--seconds", "3", "--seed", "1"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "findings: 0" in run.stdout
    assert int(re.search(r"executions: (\d+)", run.stdout).group(1)) > 100


# --- regressions: each crash the fuzzer found ---------------------------------------------

def write_variant(tmp_path, fixture, change):
    """A copy of a TF.js fixture folder with its model.json changed by change(dict)."""
    folder = tmp_path / "model"
    shutil.copytree(os.path.join(FIXTURES, fixture), folder)
    with open(folder / "model.json") as f:
        model = json.load(f)
    change(model)
    (folder / "model.json").write_text(json.dumps(model))
    return str(folder)


def first_layer(model):
    return model["modelTopology"]["config"]["layers"][0]["config"]


@pytest.mark.parametrize("shape, ndim", [([None], 1), ([None, 6], 2)])
def test_flatten_on_too_low_rank_input_is_a_value_error(tmp_path, shape, ndim):
    # Was IndexError (rank 0/1) or a model that failed only when called: Flatten's min_ndim=3
    # is now checked when the model builds it, as TF.js does on add (same message).
    folder = write_variant(tmp_path, "reshape", lambda m: first_layer(m).__setitem__("batch_input_shape", shape))
    with pytest.raises(ValueError, match=rf"Input 0 is incompatible with layer flatten_Flatten\d+: "
                                         rf"expected min_ndim=3, found ndim={ndim}\."):
        lm.load_layers_model(folder)


@pytest.mark.parametrize("fixture", ["reshape", "dropout"])
def test_empty_batch_input_shape_is_a_value_error(tmp_path, fixture):
    # Was IndexError in Flatten/Reshape.compute_output_shape: a batch shape needs the batch axis.
    folder = write_variant(tmp_path, fixture, lambda m: first_layer(m).__setitem__("batch_input_shape", []))
    with pytest.raises(ValueError, match=r"batch_input_shape must start with the batch size .*got \[\]"):
        lm.load_layers_model(folder)


@pytest.mark.parametrize("path, reason", [("x" * 300, "File name too long"), ("a\x00b", "embedded null byte"),
                                          ("\ud800.bin", "surrogates not allowed")])
def test_weight_path_the_os_refuses_is_a_value_error(tmp_path, path, reason):
    # Was OSError (ENAMETOOLONG) or a bare ValueError/UnicodeEncodeError from os.stat.
    def change(model):
        model["weightsManifest"][0]["paths"] = [path]

    folder = write_variant(tmp_path, "dropout", change)
    with pytest.raises(ValueError, match=rf"model\.json: weight file path .* cannot be opened: .*{reason}"):
        lm.load_layers_model(folder)


def test_layers_refuse_the_same_shapes_directly():
    with pytest.raises(ValueError, match="expected min_ndim=3, found ndim=2"):
        lm.sequential([lm.layers.flatten(input_shape=[3])])
    with pytest.raises(ValueError, match=r"batch_input_shape must start with the batch size"):
        lm.layers.reshape(target_shape=[1], batch_input_shape=[])
