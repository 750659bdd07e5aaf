"""Initialisers: TF.js's fan computation and variance-scaling maths, the statistics of each
random initialiser against the distribution it must draw from, reproducibility under
lm.set_seed, name resolution, the TF.js config and saved forms, and errors."""

import json
import math

import numpy as np
import pytest

import lamina as lm
from lamina import initializers
from lamina.initializers import compute_fans

# A normal truncated at ±2σ has variance σ²·(1 - 4φ(2)/(2Φ(2) - 1)); TF.js's 784×32
# glorotNormal kernel showed var 0.00190 = σ²·0.774 (tfjs_observed.md, Dense defaults).
PHI_2 = math.exp(-2) / math.sqrt(2 * math.pi)
MASS_2 = math.erf(2 / math.sqrt(2))
TRUNCATED_VARIANCE_FACTOR = 1 - 4 * PHI_2 / MASS_2
# P(|z| > 1) for the truncated normal: (mass within 2σ - mass within 1σ) / mass within 2σ.
TRUNCATED_BEYOND_1SIGMA = (MASS_2 - math.erf(1 / math.sqrt(2))) / MASS_2


def test_truncated_variance_factor_is_the_one_tfjs_showed():
    assert TRUNCATED_VARIANCE_FACTOR == pytest.approx(0.774, abs=5e-4)


@pytest.mark.parametrize("shape, fans", [
    ([784, 32], (784, 32)),
    ([5, 7, 3], (35, 15)),                 # conv1d kernel: receptive field 5
    ([3, 3, 16, 8], (144, 72)),            # conv2d kernel: receptive field 9
    ([2, 2, 2, 4, 6], (32, 48)),           # conv3d kernel: receptive field 8
    ([16], (4.0, 4.0)),                    # other ranks: sqrt(prod(shape)) both
    ([], (1.0, 1.0)),
    ([2, 3, 4, 5, 6, 7], (math.sqrt(5040),) * 2),
])
def test_compute_fans(shape, fans):
    assert compute_fans(shape) == pytest.approx(fans)


def test_glorot_normal_784x32_matches_tfjs_observed_statistics():
    lm.set_seed(0)
    x = initializers.glorot_normal()([784, 32]).numpy()
    sigma = math.sqrt(2 / (784 + 32))  # 0.0495
    assert x.shape == (784, 32) and x.dtype == np.float32
    # TF.js: min -0.0990, max 0.0990 (= 2σ), var 0.00190.
    assert abs(x).max() <= 2 * sigma * (1 + 1e-6)
    assert x.max() > 0.0985 and x.min() < -0.0985
    assert x.var() == pytest.approx(0.00190, rel=0.03)
    assert x.var() == pytest.approx(sigma ** 2 * TRUNCATED_VARIANCE_FACTOR, rel=0.03)
    assert abs(x.mean()) < 3 * x.std() / math.sqrt(x.size)


@pytest.mark.parametrize("factory, shape, sigma", [
    (initializers.glorot_normal, [300, 100], math.sqrt(2 / 400)),
    (initializers.he_normal, [300, 100], math.sqrt(2 / 300)),
    (initializers.le_cun_normal, [300, 100], math.sqrt(1 / 300)),
    (lambda seed: initializers.variance_scaling(3, "fan_out", "normal", seed), [300, 100],
     math.sqrt(3 / 100)),
    (lambda seed: initializers.truncated_normal(0, 0.2, seed), [300, 100], 0.2),
])
def test_normal_family_is_a_normal_truncated_at_two_sigma_without_correction(factory, shape, sigma):
    x = factory(seed=1)(shape).numpy().astype(np.float64)
    assert abs(x).max() <= 2 * sigma * (1 + 1e-6)
    # Keras would divide σ by 0.8796 (variance factor 1.0); TF.js does not (factor 0.774).
    assert x.var() == pytest.approx(sigma ** 2 * TRUNCATED_VARIANCE_FACTOR, rel=0.04)
    assert np.mean(abs(x) > sigma) == pytest.approx(TRUNCATED_BEYOND_1SIGMA, abs=0.015)


@pytest.mark.parametrize("factory, shape, limit", [
    (initializers.glorot_uniform, [300, 100], math.sqrt(6 / 400)),
    (initializers.he_uniform, [300, 100], math.sqrt(6 / 300)),
    (initializers.le_cun_uniform, [300, 100], math.sqrt(3 / 300)),
    (lambda seed: initializers.variance_scaling(2, "fan_avg", "uniform", seed), [3, 3, 16, 8],
     math.sqrt(3 * 2 / ((144 + 72) / 2))),
    (lambda seed: initializers.variance_scaling(1, "fanIn", "uniform", seed), [16], math.sqrt(3 / 4)),
    (lambda seed: initializers.random_uniform(-0.3, 0.3, seed), [300, 100], 0.3),
])
def test_uniform_family_is_uniform_on_plus_minus_limit(factory, shape, limit):
    x = factory(seed=2)(shape).numpy().astype(np.float64)
    assert abs(x).max() < limit
    if x.size > 1000:
        assert abs(x).max() > 0.99 * limit
        assert x.var() == pytest.approx(limit ** 2 / 3, rel=0.04)
        assert abs(x.mean()) < 4 * limit / math.sqrt(3 * x.size)


def test_fan_below_one_counts_as_one():
    # scale / max(1, fan): a [1, 0] kernel has fan_avg 0.5, so limit = sqrt(3 · 1 / 1).
    init = initializers.variance_scaling(1, "fan_avg", "uniform", seed=0)
    assert init._variance([1, 0]) == 1.0
    assert init._variance([4, 6]) == pytest.approx(1 / 5)


def test_random_normal_moments_and_int32():
    x = initializers.random_normal(mean=2, stddev=0.5, seed=3)([20000]).numpy().astype(np.float64)
    assert x.mean() == pytest.approx(2, abs=0.02)
    assert x.std() == pytest.approx(0.5, rel=0.03)
    assert abs(x - 2).max() > 1.5  # not truncated
    ints = initializers.random_normal(stddev=10, seed=3)([100], "int32")
    assert ints.dtype == "int32"


def test_random_defaults_are_tfjs():
    assert initializers.random_uniform().get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    assert initializers.random_normal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert initializers.truncated_normal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    x = initializers.get("randomUniform")([1000]).numpy()
    assert x.min() >= -0.05 and x.max() < 0.05


def test_zero_bounds_are_kept_not_replaced_by_defaults():
    # TF.js's `args.minval || -0.05` turns an explicit 0 into the default; lamina keeps 0.
    x = initializers.random_uniform(minval=0, maxval=1, seed=0)([1000]).numpy()
    assert x.min() >= 0


def test_set_seed_makes_every_random_initializer_reproducible():
    names = ["glorotNormal", "glorotUniform", "heNormal", "heUniform", "leCunNormal",
             "leCunUniform", "randomNormal", "randomUniform", "truncatedNormal",
             "varianceScaling", "orthogonal"]

    def draw():
        lm.set_seed(42)
        return [initializers.get(name)([5, 4]).numpy() for name in names]

    first, second = draw(), draw()
    for name, a, b in zip(names, first, second):
        np.testing.assert_array_equal(a, b, err_msg=name)
    # ...and successive calls differ (each call draws a new generator from the stream).
    assert not np.array_equal(first[0], first[1])
    lm.set_seed(42)
    init = initializers.glorot_normal()
    assert not np.array_equal(init([5, 4]).numpy(), init([5, 4]).numpy())


def test_explicit_seed_gives_the_same_values_every_call():
    init = initializers.he_uniform(seed=7)
    np.testing.assert_array_equal(init([3, 3]).numpy(), init([3, 3]).numpy())
    assert not np.array_equal(init([3, 3]).numpy(), initializers.he_uniform(seed=8)([3, 3]).numpy())


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_zeros_and_ones(dtype):
    z = initializers.zeros()([2, 3], dtype)
    o = initializers.ones()([2, 3], dtype)
    assert z.dtype == o.dtype == dtype
    np.testing.assert_array_equal(z.numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(o.numpy(), np.ones((2, 3)))


def test_constant():
    assert initializers.constant(-1.5)([2, 2]).array() == [[-1.5, -1.5], [-1.5, -1.5]]
    assert initializers.constant(3)([2], "int32").array() == [3, 3]
    assert initializers.constant(2).get_config() == {"value": 2}


def test_identity():
    np.testing.assert_array_equal(initializers.identity(gain=0.5)([3, 3]).numpy(), 0.5 * np.eye(3))
    with pytest.raises(ValueError, match="2D square matrices, got shape \\[2, 3\\]"):
        initializers.identity()([2, 3])
    with pytest.raises(ValueError, match="2D square"):
        initializers.identity()([2, 2, 2])


@pytest.mark.parametrize("shape", [[4, 4], [6, 3], [3, 6], [2, 3, 5]])
def test_orthogonal(shape):
    q = initializers.orthogonal(gain=2, seed=0)(shape).numpy().astype(np.float64)
    assert list(q.shape) == shape
    m = q.reshape(-1, shape[-1])
    small = min(m.shape)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 4 * np.eye(small), atol=1e-5)


def test_orthogonal_is_gram_schmidt_of_a_normal_matrix():
    # Gram–Schmidt on the rows of the normal [cols, rows] draw (TF.js's construction) gives
    # the same matrix as lamina's sign-corrected QR of the same draw.
    q = initializers.orthogonal(seed=5)([5, 3]).numpy().astype(np.float64)
    a = np.random.default_rng(5).standard_normal((5, 3)).T
    basis = []
    for row in a:
        v = row - sum((row @ b) * b for b in basis)
        basis.append(v / np.linalg.norm(v))
    np.testing.assert_allclose(q, np.array(basis).T, atol=1e-5)


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="rank >= 2, got \\[4\\]"):
        initializers.orthogonal()([4])
    with pytest.raises(ValueError, match="dtype 'int32'"):
        initializers.orthogonal()([2, 2], "int32")


# ---------------------------------------------------------------- names and serialization

TFJS_IDS = ["glorotNormal", "glorotUniform", "heNormal", "heUniform", "identity", "leCunNormal",
            "leCunUniform", "ones", "orthogonal", "randomNormal", "randomUniform",
            "truncatedNormal", "varianceScaling", "zeros"]


def snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


@pytest.mark.parametrize("name", TFJS_IDS)
def test_get_takes_tfjs_and_snake_case_names(name):
    a, b = initializers.get(name), initializers.get(snake(name))
    assert isinstance(a, initializers.Initializer)
    assert type(a) is type(b) and a.get_config() == b.get_config()


def test_get_takes_class_names_keras_names_instances_and_none():
    assert type(initializers.get("GlorotNormal")) is initializers.GlorotNormal
    assert type(initializers.get("lecun_normal")) is initializers.LeCunNormal
    assert type(initializers.get("lecun_uniform")) is initializers.LeCunUniform
    init = initializers.he_normal(seed=3)
    assert initializers.get(init) is init
    assert initializers.get(None) is None


@pytest.mark.parametrize("name, class_name", [
    ("glorotNormal", "VarianceScaling"), ("glorotUniform", "VarianceScaling"),
    ("heNormal", "VarianceScaling"), ("heUniform", "VarianceScaling"),
    ("leCunNormal", "VarianceScaling"), ("leCunUniform", "VarianceScaling"),
    ("varianceScaling", "VarianceScaling"), ("zeros", "Zeros"), ("ones", "Ones"),
    ("randomNormal", "RandomNormal"), ("randomUniform", "RandomUniform"),
    ("truncatedNormal", "TruncatedNormal"), ("identity", "Identity"), ("orthogonal", "Orthogonal"),
])
def test_class_names_are_tfjs(name, class_name):
    assert initializers.get(name).get_class_name() == class_name


def test_glorot_normal_config_and_saved_form_are_tfjs():
    init = initializers.get("glorotNormal")
    # tfjs_observed.md: Dense's kernelInitializer getConfig and tfjs_semantics.md §6.3's JSON.
    assert init.get_config() == {"scale": 1, "mode": "fanAvg", "distribution": "normal", "seed": None}
    saved = init.serialize()
    assert json.dumps(saved, separators=(",", ":")) == (
        '{"class_name":"VarianceScaling","config":{"scale":1,"mode":"fan_avg",'
        '"distribution":"normal","seed":null}}')
    assert json.dumps(initializers.get("zeros").serialize(), separators=(",", ":")) == \
        '{"class_name":"Zeros","config":{}}'
    assert initializers.serialize(None) is None


@pytest.mark.parametrize("init", [
    initializers.glorot_uniform(seed=4), initializers.he_normal(), initializers.le_cun_uniform(),
    initializers.variance_scaling(2.5, "fan_out", "uniform", seed=1), initializers.zeros(),
    initializers.ones(), initializers.constant(0.25), initializers.random_uniform(-1, 2, seed=9),
    initializers.random_normal(1, 3), initializers.truncated_normal(0.5, 0.1, seed=2),
    initializers.identity(3), initializers.orthogonal(1.5, seed=0),
], ids=lambda init: type(init).__name__)
def test_saved_form_round_trips(init):
    saved = init.serialize()
    json.dumps(saved)  # a plain JSON value
    restored = initializers.get(json.loads(json.dumps(saved)))
    assert restored.get_config() == init.get_config()
    assert restored.get_class_name() == init.get_class_name()
    np.testing.assert_array_equal(restored([3, 3]).numpy().shape, (3, 3))
    # The camelCase (TF.js in-memory) form is accepted too.
    camel = {"className": init.get_class_name(), "config": init.get_config()}
    assert initializers.get(camel).get_config() == init.get_config()


def test_saved_glorot_loads_as_variance_scaling_with_same_maths():
    restored = initializers.get(initializers.glorot_uniform().serialize())
    assert type(restored) is initializers.VarianceScaling
    x = restored([200, 100]).numpy()
    assert abs(x).max() < math.sqrt(6 / 300) and abs(x).max() > 0.99 * math.sqrt(6 / 300)


def test_keras_class_names_in_saved_dicts():
    init = initializers.get({"class_name": "GlorotUniform", "config": {"seed": None}})
    assert type(init) is initializers.GlorotUniform


def test_unknown_name_gives_tfjs_message_and_valid_names():
    with pytest.raises(ValueError) as info:
        initializers.get("foo")
    message = str(info.value)
    assert message.startswith("Unknown initializer: foo. This may be due to one of the following reasons:\n"
                              "1. The initializer is defined in Python")
    assert "glorotNormal" in message and "varianceScaling" in message and "snake_case" in message


@pytest.mark.parametrize("typed, meant", [("glorot_uniformm", "glorot_uniform"), ("heNorml", "heNormal"),
                                          ("zero", "zeros")])
def test_unknown_names_suggest_the_closest_initializer(typed, meant):
    with pytest.raises(ValueError, match=f"^Unknown initializer: {typed}\\. Did you mean '{meant}'\\? This may be due"):
        initializers.get(typed)


def test_a_mistyped_mode_suggests_the_closest():
    with pytest.raises(ValueError, match="got 'fan_ins'. Did you mean 'fan_in'\\?$"):
        initializers.variance_scaling(mode="fan_ins")


def test_get_errors():
    with pytest.raises(ValueError, match="Unknown initializer: Foo"):
        initializers.get({"class_name": "Foo", "config": {}})
    with pytest.raises(ValueError, match="Improper config format"):
        initializers.get({"class_name": "Zeros"})
    with pytest.raises(ValueError, match="unknown key\\(s\\) bogus"):
        initializers.get({"class_name": "Zeros", "config": {"bogus": 1}})
    with pytest.raises(TypeError, match="initializer must be a name, a saved config dict or an? "
                                        "Initializer, got int 3"):
        initializers.get(3)
    with pytest.raises(ValueError, match="needs a value"):
        initializers.get("constant")


def test_argument_errors():
    with pytest.raises(ValueError, match="scale must be a positive float. Got: -1"):
        initializers.variance_scaling(scale=-1)
    with pytest.raises(ValueError, match="mode must be one of fanIn, fanOut, fanAvg .* got 'fan_mid'"):
        initializers.variance_scaling(mode="fan_mid")
    with pytest.raises(ValueError, match="distribution must be one of normal, uniform.* got 'cauchy'"):
        initializers.variance_scaling(distribution="cauchy")
    with pytest.raises(ValueError, match="seed must be None or an int >= 0, got -1"):
        initializers.glorot_normal(seed=-1)
    with pytest.raises(ValueError, match="stddev must be a finite number, got 'big'"):
        initializers.random_normal(stddev="big")
    with pytest.raises(ValueError, match="shape must be a list of non-negative ints, got \\[3, -1\\]"):
        initializers.glorot_normal()([3, -1])
    with pytest.raises(ValueError, match="does not support dtype 'bool'"):
        initializers.glorot_normal()([3, 3], "bool")
    with pytest.raises(ValueError, match="VarianceScaling does not support dtype"):
        initializers.he_normal()([3, 3], "bool")


def test_snake_case_mode_is_stored_in_tfjs_spelling():
    init = initializers.variance_scaling(mode="fan_out", distribution="truncated_normal")
    assert init.get_config()["mode"] == "fanOut"
    assert init.get_config()["distribution"] == "truncatedNormal"
    # 'truncatedNormal' draws the same truncated normal as 'normal' (TF.js draws uniform).
    x = initializers.variance_scaling(1, "fan_in", "truncated_normal", seed=0)([400, 50]).numpy()
    assert abs(x).max() <= 2 * math.sqrt(1 / 400) * (1 + 1e-6)
    assert x.var() == pytest.approx(TRUNCATED_VARIANCE_FACTOR / 400, rel=0.05)
