"""Regularisers: the L1L2 penalty against numpy, its gradient against finite differences and
TF.js's rule at 0, TF.js's defaults and class name, name resolution, saved forms, errors."""

import json

import numpy as np
import pytest

import lamina as lm
from lamina import regularizers
from gradcheck import check_gradients

W = np.array([[0.5, -1.25, 2.0], [-0.3, 0.8, -3.1]], np.float32)


@pytest.mark.parametrize("regularizer, l1, l2", [
    (regularizers.l1(), 0.01, 0.0),
    (regularizers.l2(), 0.0, 0.01),
    (regularizers.l1l2(), 0.01, 0.01),
    (regularizers.l1(l1=0.3), 0.3, 0.0),
    (regularizers.l2(l2=0.7), 0.0, 0.7),
    (regularizers.l1l2(l1=0.2, l2=0.05), 0.2, 0.05),
])
def test_penalty_matches_numpy(regularizer, l1, l2):
    penalty = regularizer(lm.tensor(W))
    assert penalty.shape == [] and penalty.dtype == "float32"
    expected = l1 * np.abs(W.astype(np.float64)).sum() + l2 * np.square(W.astype(np.float64)).sum()
    assert penalty.item() == pytest.approx(expected, rel=1e-6)


def test_zero_rates_give_a_zero_scalar():
    penalty = regularizers.l1l2(l1=0, l2=0)(lm.tensor(W))
    assert penalty.shape == [] and penalty.item() == 0.0


def test_gradient_matches_finite_differences():
    reg = regularizers.l1l2(l1=0.2, l2=0.05)
    check_gradients(lambda w: reg(w), W)


def test_gradient_of_l1_at_zero_is_tfjs_abs_gradient():
    # TF.js's abs gradient is dy·step(x, -1): 1 for x > 0, -1 elsewhere, so -l1 at 0.
    w = lm.variable(lm.tensor([0.0, 2.0, -1.0]))
    grads = lm.variable_grads(lambda: regularizers.l1l2(l1=0.5, l2=0.25)(w), [w])["grads"]
    np.testing.assert_allclose(grads[w.name].numpy(), [-0.5, 0.5 + 0.25 * 4, -0.5 - 0.25 * 2])


def test_a_penalty_trains_weights_toward_zero_through_an_optimizer():
    w = lm.variable(lm.tensor([3.0, -2.0]))
    sgd = lm.train.sgd(0.1)
    for _ in range(3):
        sgd.minimize(lambda: regularizers.l2(l2=0.5)(w), var_list=[w])
    # each step: w ← w - 0.1 · (2 · 0.5 · w) = 0.9 w
    np.testing.assert_allclose(w.numpy(), np.array([3.0, -2.0]) * 0.9 ** 3, rtol=1e-6)


def test_all_three_are_tfjs_l1l2():
    for reg in (regularizers.l1(), regularizers.l2(), regularizers.l1l2()):
        assert reg.get_class_name() == "L1L2" and isinstance(reg, regularizers.L1L2)
    assert regularizers.l1().get_config() == {"l1": 0.01, "l2": 0}
    assert regularizers.l2().get_config() == {"l1": 0, "l2": 0.01}
    assert regularizers.l1l2().get_config() == {"l1": 0.01, "l2": 0.01}


@pytest.mark.parametrize("name, config", [
    ("l1", {"l1": 0.01, "l2": 0}), ("l2", {"l1": 0, "l2": 0.01}), ("l1l2", {"l1": 0.01, "l2": 0.01}),
    ("l1_l2", {"l1": 0.01, "l2": 0.01}), ("L1L2", {"l1": 0.01, "l2": 0.01}),
])
def test_get_names(name, config):
    assert regularizers.get(name).get_config() == config


def test_get_instances_none_and_saved_dicts():
    reg = regularizers.l2(0.3)
    assert regularizers.get(reg) is reg
    assert regularizers.get(None) is None
    saved = regularizers.l1l2(l1=0.1, l2=0.2).serialize()
    assert json.dumps(saved, separators=(",", ":")) == '{"class_name":"L1L2","config":{"l1":0.1,"l2":0.2}}'
    restored = regularizers.get(json.loads(json.dumps(saved)))
    assert restored.get_config() == {"l1": 0.1, "l2": 0.2}
    assert restored(lm.tensor(W)).item() == pytest.approx(reg_value(0.1, 0.2), rel=1e-6)
    # A saved config with null rates gets TF.js's 0.01.
    assert regularizers.get({"class_name": "L1L2", "config": {"l1": None, "l2": 0}}).get_config() == \
        {"l1": 0.01, "l2": 0}
    assert regularizers.serialize(None) is None


def reg_value(l1, l2):
    w = W.astype(np.float64)
    return l1 * np.abs(w).sum() + l2 * np.square(w).sum()


def test_errors():
    with pytest.raises(ValueError) as info:
        regularizers.get("l3")
    assert str(info.value).startswith("Unknown regularizer: l3. This may be due to")
    assert "Valid regularizers: l1, l2, l1l2" in str(info.value)
    with pytest.raises(ValueError, match="^Unknown regularizer: L2. Did you mean 'l2'\\? This may be due"):
        regularizers.get("L2")
    with pytest.raises(ValueError, match="l1 must be a finite number >= 0, got -0.1"):
        regularizers.l1(-0.1)
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0, got 'big'"):
        regularizers.l2("big")
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0, got inf"):
        regularizers.l1l2(l2=float("inf"))
    with pytest.raises(TypeError, match="regularizer must be a name, a saved config dict or a Regularizer"):
        regularizers.get(0.01)
