"""The examples run end to end and learn."""

import pathlib
import re
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args):
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_core_api_loss_falls_and_test_accuracy_rises():
    out = run_example("core_api.py", "--epochs", "3", "--samples", "512")
    losses = [float(v) for v in re.findall(r"^Epoch \d+ loss ([0-9.]+)$", out, re.M)]
    assert len(losses) == 3, out
    assert losses[-1] < 0.8 * losses[0], out
    before, after = (float(v) for v in re.findall(r"test accuracy ([0-9.]+)", out))
    assert after > before + 0.2, out


def test_train_digits_reaches_95_percent_on_held_out_digits(tmp_path):
    out = run_example("train_digits.py", "--epochs", "30", "--verbose", "2", "--save", str(tmp_path / "digits"))
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+) on 360 held-out digits", out).group(1))
    assert accuracy >= 0.95, out
    rows = re.findall(r"^\s+\d( +\d+){10}$", out, re.M)
    assert len(rows) == 10, out
    assert out.count("Epoch ") == 30, out
    # The saved model loads and gives the accuracy printed (the same held-out digits).
    import numpy as np
    from sklearn.datasets import load_digits

    import lamina as lm
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    test = np.random.default_rng(0).permutation(len(x))[int(0.8 * len(x)):]
    model = lm.load_layers_model(tmp_path / "digits")
    predicted = model.predict(x[test]).numpy().argmax(axis=1)
    assert round(float(np.mean(predicted == digits.target[test])), 4) == accuracy
