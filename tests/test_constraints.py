"""Constraints: TF.js's formulas (norms along an axis, epsilon 1e-7) against numpy, defaults,
name resolution, saved forms and errors."""

import json

import numpy as np
import pytest

import lamina as lm
from lamina import constraints

EPS = 1e-7
RNG = np.random.default_rng(11)
W = (RNG.standard_normal((4, 3)) * 2).astype(np.float32)
KERNEL = (RNG.standard_normal((2, 2, 3, 5))).astype(np.float32)


def norms(w, axis):
    return np.sqrt(np.sum(w.astype(np.float64) ** 2, axis=axis, keepdims=True))


@pytest.mark.parametrize("axis", [0, 1, [0, 1]])
def test_max_norm(axis):
    n = norms(W, tuple(axis) if isinstance(axis, list) else axis)
    out = constraints.max_norm(max_value=1.5, axis=axis)(lm.tensor(W)).numpy()
    np.testing.assert_allclose(out, W * np.clip(n, 0, 1.5) / (EPS + n), rtol=1e-5)
    # The norms that were above the cap are now at it, the others unchanged.
    new = norms(out, tuple(axis) if isinstance(axis, list) else axis)
    np.testing.assert_allclose(new, np.minimum(n, 1.5), rtol=1e-5)


def test_max_norm_on_a_conv_kernel_over_three_axes():
    out = constraints.max_norm(max_value=1, axis=[0, 1, 2])(lm.tensor(KERNEL)).numpy()
    n = norms(KERNEL, (0, 1, 2))
    np.testing.assert_allclose(out, KERNEL * np.clip(n, 0, 1) / (EPS + n), rtol=1e-5)
    assert norms(out, (0, 1, 2)).max() <= 1 + 1e-5


def test_unit_norm():
    out = constraints.unit_norm(axis=1)(lm.tensor(W)).numpy()
    np.testing.assert_allclose(out, W / (EPS + norms(W, 1)), rtol=1e-5)
    np.testing.assert_allclose(norms(out, 1), 1, rtol=1e-5)


def test_unit_norm_of_zeros_stays_zero_thanks_to_epsilon():
    out = constraints.unit_norm()(lm.zeros([3, 2])).numpy()
    np.testing.assert_array_equal(out, np.zeros((3, 2)))


def test_non_neg():
    np.testing.assert_array_equal(constraints.non_neg()(lm.tensor(W)).numpy(), np.maximum(W, 0))


@pytest.mark.parametrize("rate", [1.0, 0.5, 0.0])
def test_min_max_norm(rate):
    w = np.array([[0.1, 3.0, 0.6], [0.2, 4.0, 0.8]], np.float32)  # column norms 0.22, 5, 1
    n = norms(w, 0)
    out = constraints.min_max_norm(min_value=0.5, max_value=2, rate=rate)(lm.tensor(w)).numpy()
    desired = rate * np.clip(n, 0.5, 2) + (1 - rate) * n
    np.testing.assert_allclose(out, w * desired / (EPS + n), rtol=1e-5)
    if rate == 1.0:
        np.testing.assert_allclose(norms(out, 0).ravel(), [0.5, 2, 1], rtol=1e-5)


def test_defaults_and_configs_are_tfjs():
    assert constraints.max_norm().get_config() == {"maxValue": 2, "axis": 0}
    assert constraints.unit_norm().get_config() == {"axis": 0}
    assert constraints.non_neg().get_config() == {}
    assert constraints.min_max_norm().get_config() == {"minValue": 0.0, "maxValue": 1.0, "rate": 1.0, "axis": 0}
    assert [c.get_class_name() for c in (constraints.max_norm(), constraints.unit_norm(),
                                         constraints.non_neg(), constraints.min_max_norm())] == \
        ["MaxNorm", "UnitNorm", "NonNeg", "MinMaxNorm"]


@pytest.mark.parametrize("names, cls", [
    (("maxNorm", "max_norm", "MaxNorm"), constraints.MaxNorm),
    (("unitNorm", "unit_norm", "UnitNorm"), constraints.UnitNorm),
    (("nonNeg", "non_neg", "NonNeg"), constraints.NonNeg),
    (("minMaxNorm", "min_max_norm", "MinMaxNorm"), constraints.MinMaxNorm),
])
def test_get_names(names, cls):
    for name in names:
        c = constraints.get(name)
        assert type(c) is cls and c.get_config() == cls().get_config()


@pytest.mark.parametrize("constraint", [
    constraints.max_norm(3, axis=1), constraints.unit_norm(axis=[0, 1]), constraints.non_neg(),
    constraints.min_max_norm(0.5, 4, axis=1, rate=0.25),
], ids=lambda c: type(c).__name__)
def test_saved_form_round_trips(constraint):
    saved = json.loads(json.dumps(constraint.serialize()))
    restored = constraints.get(saved)
    assert type(restored) is type(constraint) and restored.get_config() == constraint.get_config()
    np.testing.assert_array_equal(restored(lm.tensor(W)).numpy(), constraint(lm.tensor(W)).numpy())


def test_saved_form_is_snake_case():
    assert constraints.min_max_norm(0.5, 4, axis=1, rate=0.25).serialize() == {
        "class_name": "MinMaxNorm",
        "config": {"min_value": 0.5, "max_value": 4, "rate": 0.25, "axis": 1}}
    assert constraints.serialize(None) is None


def test_get_instances_and_none():
    c = constraints.non_neg()
    assert constraints.get(c) is c
    assert constraints.get(None) is None


def test_errors():
    with pytest.raises(ValueError) as info:
        constraints.get("positive")
    assert str(info.value).startswith("Unknown constraint: positive. This may be due to")
    assert "maxNorm, minMaxNorm, nonNeg, unitNorm" in str(info.value)
    with pytest.raises(ValueError, match="^Unknown constraint: maxnorm. Did you mean 'maxNorm'\\? This may be due"):
        constraints.get("maxnorm")
    with pytest.raises(ValueError, match="max_value must be a finite number >= 0, got -1"):
        constraints.max_norm(-1)
    with pytest.raises(ValueError, match="min_value must be <= max_value, got min_value=3 and max_value=1"):
        constraints.min_max_norm(3, 1)
    with pytest.raises(ValueError, match="axis must be an int or a non-empty list of ints, got 0.5"):
        constraints.unit_norm(axis=0.5)
    with pytest.raises(ValueError, match="axis"):
        constraints.unit_norm(axis=2)(lm.tensor(W))  # W has rank 2
    with pytest.raises(TypeError, match="constraint must be a name"):
        constraints.get(5)
