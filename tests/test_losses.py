"""lm.losses (Core API losses with reductions) and lm.losses.layers (per-sample Layers losses).

Oracles: TF.js's observed values (reference/tfjs_observed.md "Loss / metric numerics"),
float64 numpy transcriptions of TF.js's formulas (reference/tfjs_semantics.md §3.2 and
tfjs-core/src/ops/losses), and finite differences (tests/gradcheck.py).
"""

import math

import numpy as np
import pytest

import lamina as lm
from gradcheck import check_gradients
from lamina.losses import Reduction, layers

EPS = 1e-7


# --- TF.js check values ------------------------------------------------------------------

@pytest.mark.parametrize("y_true, y_pred, expected", [
    ([[1, 0]], [[0, 1]], 16.11809539794922),       # -ln 1e-7
    ([[1, 0]], [[0.2, 0.2]], 0.6931472),           # normalised before the clip
    ([[1, 0]], [[1, 0]], 1.1920930e-7),            # -ln f32(1 - 1e-7)
    ([[1, 0]], [[2, 2]], math.log(2)),
    ([[1, 0]], [[-1, 2]], 16.118095),              # negative row: clipped to 1e-7
    ([[2, 0]], [[0.5, 0.5]], 2 * math.log(2)),     # labels used as given (1.386)
])
def test_categorical_crossentropy_matches_tfjs(y_true, y_pred, expected):
    assert layers.categorical_crossentropy(y_true, y_pred).item() == pytest.approx(expected, rel=1e-6)


def test_binary_crossentropy_matches_tfjs_rounding():
    # Not -ln 1e-7: f32(1 - 1e-7) rounds asymmetrically, exactly as in TF.js.
    assert layers.binary_crossentropy([[1, 0]], [[0, 1]]).item() == pytest.approx(16.03023910522461, rel=1e-7)


def test_sparse_categorical_crossentropy_matches_tfjs():
    assert layers.sparse_categorical_crossentropy([[0]], [[0, 1]]).item() == pytest.approx(16.118095, rel=1e-6)


def test_softmax_cross_entropy_matches_tfjs():
    assert lm.losses.softmax_cross_entropy([[1, 0]], [[0, 1]]).item() == pytest.approx(1.3132616, rel=1e-7)


# --- Layers losses against numpy transcriptions of TF.js's formulas ----------------------

def _np_l2n(x):
    return x / np.sqrt(np.maximum(np.sum(x * x, -1, keepdims=True), EPS))


def _np_softplus(x):
    return np.log1p(np.exp(x))


def _np_binary_crossentropy(t, p):
    y = np.clip(p, EPS, 1 - EPS)
    z = np.log(y / (1 - y))
    return np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))), -1)


def _np_categorical_crossentropy(t, p):
    q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(t * np.log(q), -1)


NUMPY_FORMULAS = {
    "mean_squared_error": lambda t, p: np.mean((p - t) ** 2, -1),
    "mean_absolute_error": lambda t, p: np.mean(np.abs(p - t), -1),
    "mean_absolute_percentage_error":
        lambda t, p: 100 * np.mean(np.abs((t - p) / np.clip(np.abs(t), EPS, None)), -1),
    "mean_squared_logarithmic_error":
        lambda t, p: np.mean((np.log1p(np.clip(p, EPS, None)) - np.log1p(np.clip(t, EPS, None))) ** 2, -1),
    "squared_hinge": lambda t, p: np.mean(np.maximum(0, 1 - t * p) ** 2, -1),
    "hinge": lambda t, p: np.mean(np.maximum(0, 1 - t * p), -1),
    "categorical_hinge":
        lambda t, p: np.maximum(0, 1 + np.max((1 - t) * p, -1) - np.sum(t * p, -1)),
    "logcosh": lambda t, p: np.mean(np.log(np.cosh(p - t)), -1),
    "categorical_crossentropy": _np_categorical_crossentropy,
    "binary_crossentropy": _np_binary_crossentropy,
    "kullback_leibler_divergence":
        lambda t, p: np.sum(t * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1)), -1),
    "poisson": lambda t, p: np.mean(p - t * np.log(p + EPS), -1),
    "cosine_proximity": lambda t, p: -np.sum(_np_l2n(t) * _np_l2n(p), -1),
}

# Data each loss is meant for, chosen away from clips and kinks so the gradient check is
# meaningful: probabilities in (0.05, 0.95), hinge labels in {-1, 1} with margins not near 1.
rng = np.random.default_rng(7)
_PROBS = rng.uniform(0.05, 0.95, (4, 3))
_ONEHOT = np.eye(3)[[0, 2, 1, 0]]
_SIGNS = np.array([[1, -1, 1], [-1, -1, 1], [1, 1, -1], [-1, 1, 1]], float)
_HINGE_PRED = np.array([[0.5, 0.3, 2.0], [-0.4, 0.7, 0.2], [1.6, -0.2, 0.6], [0.1, -1.5, 0.45]])
_REAL_TRUE = rng.uniform(0.5, 3.0, (4, 3))
_REAL_PRED = rng.uniform(0.5, 3.0, (4, 3))
DATA = {
    "mean_squared_error": (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))),
    "mean_absolute_error": (_REAL_TRUE, _REAL_PRED),
    "mean_absolute_percentage_error": (_REAL_TRUE, _REAL_PRED),
    "mean_squared_logarithmic_error": (_REAL_TRUE, _REAL_PRED),
    "squared_hinge": (_SIGNS, _HINGE_PRED),
    "hinge": (_SIGNS, _HINGE_PRED),
    "categorical_hinge": (_ONEHOT, np.array([[0.9, 0.3, 0.1], [0.5, 0.1, 0.4], [0.2, 0.35, 0.7], [0.1, 0.8, 0.3]])),
    "logcosh": (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))),
    "categorical_crossentropy": (_ONEHOT, _PROBS),
    "binary_crossentropy": (rng.integers(0, 2, (4, 3)).astype(float), _PROBS),
    "kullback_leibler_divergence": (rng.uniform(0.05, 0.95, (4, 3)), _PROBS),
    "poisson": (_REAL_TRUE, _REAL_PRED),
    "cosine_proximity": (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))),
}


@pytest.mark.parametrize("name", sorted(NUMPY_FORMULAS))
def test_layers_loss_matches_numpy_formula(name):
    y_true, y_pred = DATA[name]
    loss = getattr(layers, name)(y_true, y_pred)
    assert loss.shape == [4] and loss.dtype == "float32"
    np.testing.assert_allclose(loss.numpy(), NUMPY_FORMULAS[name](y_true, y_pred), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(NUMPY_FORMULAS))
def test_layers_loss_reduces_only_the_last_axis(name):
    y_true, y_pred = DATA[name]
    loss = getattr(layers, name)(y_true.reshape(2, 2, 3), y_pred.reshape(2, 2, 3))
    assert loss.shape == [2, 2]
    np.testing.assert_allclose(loss.numpy().reshape(-1), NUMPY_FORMULAS[name](y_true, y_pred), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(NUMPY_FORMULAS))
def test_layers_loss_gradient_wrt_predictions(name):
    y_true, y_pred = DATA[name]
    fn = getattr(layers, name)
    check_gradients(lambda p: fn(lm.tensor(y_true), p), y_pred)


def test_clipped_predictions_get_no_gradient():
    # Outside [ε, 1-ε] the clip stops the gradient (TF.js's clipByValue gradient).
    g = lm.grad(lambda p: layers.binary_crossentropy(lm.tensor([[1.0, 0.0]]), p).sum())(lm.tensor([[1.5, -0.5]]))
    assert g.array() == [[0.0, 0.0]]


def test_sparse_categorical_crossentropy_matches_the_one_hot_loss():
    probs = _PROBS
    indices = np.array([0, 2, 1, 0])
    sparse = layers.sparse_categorical_crossentropy(indices, probs)
    np.testing.assert_allclose(sparse.numpy(), _np_categorical_crossentropy(np.eye(3)[indices], probs), rtol=1e-5)
    # [batch, 1] and float indices (floored, as TF.js) give the same loss.
    np.testing.assert_allclose(layers.sparse_categorical_crossentropy([[0.0], [2.7], [1.2], [0.0]], probs).numpy(),
                               sparse.numpy(), rtol=1e-6)
    check_gradients(lambda p: layers.sparse_categorical_crossentropy(lm.tensor(indices, dtype="int32"), p), probs)


def test_categorical_crossentropy_gradient_wrt_labels():
    check_gradients(layers.categorical_crossentropy, DATA["kullback_leibler_divergence"][0], _PROBS)


def test_sparse_categorical_crossentropy_errors():
    with pytest.raises(ValueError, match=r"one class index per row of y_pred \(2 for y_pred of shape \[2, 3\]\)"):
        layers.sparse_categorical_crossentropy([0, 1, 2], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"y_true must hold class indices in \[0, 3\), got 3 at position 1"):
        layers.sparse_categorical_crossentropy([0, 3], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"got -1 at position 0"):
        layers.sparse_categorical_crossentropy([-0.5, 1], np.full((2, 3), 1 / 3))


def test_layers_losses_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match=r"meanSquaredError: y_true and y_pred must have the same shape, "
                                         r"got y_true \[2, 1\] and y_pred \[2\]"):
        layers.mean_squared_error([[1], [2]], [1, 2])
    with pytest.raises(ValueError, match=r"logits and labels must have the same shape, but got shapes \[2\] and \[1, 2\]"):
        layers.binary_crossentropy([1, 0], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="at least one axis"):
        layers.hinge(1.0, 0.5)


# --- lm.losses.get --------------------------------------------------------------------

TFJS_NAMES = {
    "meanSquaredError": "mean_squared_error", "meanAbsoluteError": "mean_absolute_error",
    "meanAbsolutePercentageError": "mean_absolute_percentage_error",
    "meanSquaredLogarithmicError": "mean_squared_logarithmic_error", "squaredHinge": "squared_hinge",
    "hinge": "hinge", "categoricalHinge": "categorical_hinge", "logcosh": "logcosh",
    "categoricalCrossentropy": "categorical_crossentropy",
    "sparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "binaryCrossentropy": "binary_crossentropy", "kullbackLeiblerDivergence": "kullback_leibler_divergence",
    "poisson": "poisson", "cosineProximity": "cosine_proximity",
}


@pytest.mark.parametrize("camel, snake", sorted(TFJS_NAMES.items()))
def test_get_resolves_camel_and_snake_case_to_the_same_function(camel, snake):
    fn = getattr(layers, snake)
    assert lm.losses.get(camel) is fn
    assert lm.losses.get(snake) is fn
    assert fn.__name__ == snake


@pytest.mark.parametrize("alias, snake", [
    ("mse", "mean_squared_error"), ("MSE", "mean_squared_error"), ("mae", "mean_absolute_error"),
    ("mape", "mean_absolute_percentage_error"), ("msle", "mean_squared_logarithmic_error"),
    ("kld", "kullback_leibler_divergence"), ("cosine", "cosine_proximity"), ("logcosh", "logcosh"),
])
def test_get_resolves_short_aliases(alias, snake):
    assert lm.losses.get(alias) is getattr(layers, snake)


def test_get_returns_callables_as_they_are():
    def my_loss(y_true, y_pred):
        return lm.sub(y_true, y_pred)
    assert lm.losses.get(my_loss) is my_loss


def test_get_unknown_names():
    with pytest.raises(ValueError, match=r"^Unknown loss foo\. Valid losses: meanSquaredError, .*cosineProximity"):
        lm.losses.get("foo")
    for name in ("softmaxCrossEntropy", "softmax_cross_entropy"):
        with pytest.raises(ValueError) as info:
            lm.losses.get(name)
        assert str(info.value).startswith(
            f'Unknown loss {name}. Use "categoricalCrossentropy" as the string name for tf.losses.softmaxCrossEntropy')
    with pytest.raises(TypeError, match="loss must be a loss name or a function, got int"):
        lm.losses.get(3)


@pytest.mark.parametrize("typed, meant", [("categoricalCrossentropi", "categoricalCrossentropy"),
                                          ("categorical_crossentropi", "categorical_crossentropy"),
                                          ("MeanSquaredError", "meanSquaredError"), ("hinges", "hinge")])
def test_unknown_names_suggest_the_closest_loss(typed, meant):
    with pytest.raises(ValueError, match=f"^Unknown loss {typed}\\. Did you mean '{meant}'\\? Valid losses: "):
        lm.losses.get(typed)


# --- Core losses: values and reductions ---------------------------------------------------

LABELS = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
PREDS = np.array([[0.2, 0.7, 0.4], [0.9, 0.3, 0.55]])


def _reduce(losses, weights, reduction):
    """compute_weighted_loss in float64, as tfjs-core/src/ops/losses/compute_weighted_loss.ts."""
    w = np.ones_like(losses) if weights is None else np.broadcast_to(weights, losses.shape)
    weighted = losses * w
    if reduction == Reduction.NONE:
        return weighted
    if reduction == Reduction.SUM:
        return weighted.sum()
    if weights is None:
        return weighted.mean()
    if reduction == Reduction.MEAN:
        return weighted.sum() / np.sum(weights) / max(losses.size / np.size(weights), 1)
    return weighted.sum() / np.count_nonzero(w)


CORE = {
    "mean_squared_error": (lm.losses.mean_squared_error, lambda l, p: (l - p) ** 2),
    "absolute_difference": (lm.losses.absolute_difference, lambda l, p: np.abs(l - p)),
    "log_loss": (lm.losses.log_loss,
                 lambda l, p: -l * np.log(p + EPS) - (1 - l) * np.log(1 - p + EPS)),
    "hinge_loss": (lm.losses.hinge_loss, lambda l, p: np.maximum(0, 1 - (2 * l - 1) * p)),
    "huber_loss": (lm.losses.huber_loss,
                   lambda l, p: np.where(np.abs(p - l) <= 1, 0.5 * (p - l) ** 2, np.abs(p - l) - 0.5)),
    "sigmoid_cross_entropy": (lm.losses.sigmoid_cross_entropy,
                              lambda l, z: np.maximum(z, 0) - z * l + np.log1p(np.exp(-np.abs(z)))),
}
WEIGHTS = [None, 2.0, np.array([[1.0], [0.0]]), np.array([[0.5, 0.0, 2.0], [1.0, 1.0, 0.0]])]


@pytest.mark.parametrize("name", sorted(CORE))
@pytest.mark.parametrize("reduction", list(Reduction))
@pytest.mark.parametrize("weights", range(len(WEIGHTS)))
def test_core_loss_weights_and_reductions(name, reduction, weights):
    fn, formula = CORE[name]
    w = WEIGHTS[weights]
    got = fn(LABELS, PREDS * 3 if name == "huber_loss" else PREDS, weights=w, reduction=reduction)
    expected = _reduce(formula(LABELS, PREDS * 3 if name == "huber_loss" else PREDS), w, reduction)
    assert got.shape == list(np.shape(expected))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)


def test_default_reduction_is_sum_by_nonzero_weights():
    w = np.array([[1.0], [0.0]])
    assert lm.losses.absolute_difference(LABELS, PREDS, w).item() == pytest.approx(
        np.abs(LABELS - PREDS)[0].sum() / 3, rel=1e-6)
    assert Reduction.SUM_BY_NONZERO_WEIGHTS == 3 and [r.name for r in Reduction] == [
        "NONE", "MEAN", "SUM", "SUM_BY_NONZERO_WEIGHTS"]


def test_huber_loss_delta():
    errors = np.array([0.5, 1.5, 4.0])
    got = lm.losses.huber_loss(np.zeros(3), errors, delta=2.0, reduction=Reduction.NONE)
    np.testing.assert_allclose(got.numpy(), [0.125, 1.125, 2.0 * (4.0 - 1.0)], rtol=1e-6)


def test_log_loss_epsilon():
    got = lm.losses.log_loss([1.0], [0.0], epsilon=1e-3, reduction=Reduction.NONE)
    assert got.item() == pytest.approx(-math.log(1e-3) - 0.0, rel=1e-5)


def test_cosine_distance_keeps_the_axis():
    labels = _np_l2n(rng.standard_normal((3, 4)))
    preds = _np_l2n(rng.standard_normal((3, 4)))
    none = lm.losses.cosine_distance(labels, preds, axis=1, reduction=Reduction.NONE)
    assert none.shape == [3, 1]
    np.testing.assert_allclose(none.numpy(), 1 - np.sum(labels * preds, 1, keepdims=True), rtol=1e-5)
    along_0 = lm.losses.cosine_distance(labels, preds, 0)
    assert along_0.item() == pytest.approx(np.mean(1 - np.sum(labels * preds, 0)), rel=1e-5)


def test_compute_weighted_loss_mean_counts_broadcast_weights():
    losses = np.array([[1.0, 2.0], [3.0, 4.0]])
    # MEAN with a [2, 1] weight: sum(weighted) / sum(weights) / (4 losses / 2 weights).
    got = lm.losses.compute_weighted_loss(losses, [[1.0], [3.0]], reduction=Reduction.MEAN).item()
    assert got == pytest.approx((3 + 21) / 4 / 2)


# --- softmax_cross_entropy -------------------------------------------------------------

def _np_softmax_ce(labels, logits):
    shifted = logits - logits.max(-1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return -np.sum(labels * log_softmax, -1)


def test_softmax_cross_entropy_values_weights_and_reductions():
    logits = rng.standard_normal((5, 4)) * 3
    labels = np.eye(4)[[0, 3, 1, 1, 2]]
    per_row = _np_softmax_ce(labels, logits)
    w = np.array([1.0, 0.0, 2.0, 0.5, 0.0])
    for reduction in Reduction:
        for weights in (None, w, 3.0):
            got = lm.losses.softmax_cross_entropy(labels, logits, weights, reduction=reduction)
            np.testing.assert_allclose(got.numpy(), _reduce(per_row, weights, reduction), rtol=1e-5, atol=1e-6)


def test_softmax_cross_entropy_label_smoothing():
    logits = rng.standard_normal((3, 4))
    labels = np.eye(4)[[0, 3, 1]]
    smoothed = labels * (1 - 0.2) + 0.2 / 4
    got = lm.losses.softmax_cross_entropy(labels, logits, label_smoothing=0.2)
    assert got.item() == pytest.approx(_np_softmax_ce(smoothed, logits).mean(), rel=1e-5)


def test_sigmoid_cross_entropy_label_smoothing():
    logits = rng.standard_normal((3, 2))
    labels = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    smoothed = labels * (1 - 0.3) + 0.5 * 0.3
    got = lm.losses.sigmoid_cross_entropy(labels, logits, label_smoothing=0.3)
    _, formula = CORE["sigmoid_cross_entropy"]
    assert got.item() == pytest.approx(formula(smoothed, logits).mean(), rel=1e-5)


def test_softmax_cross_entropy_higher_rank_reduces_the_last_axis():
    logits = rng.standard_normal((2, 3, 4))
    labels = np.eye(4)[rng.integers(0, 4, (2, 3))]
    got = lm.losses.softmax_cross_entropy(labels, logits, reduction=Reduction.NONE)
    assert got.shape == [2, 3]
    np.testing.assert_allclose(got.numpy(), _np_softmax_ce(labels, logits), rtol=1e-5)


def test_softmax_cross_entropy_gradients_for_logits_labels_and_weights():
    logits = rng.standard_normal((3, 4))
    labels = rng.dirichlet(np.ones(4), 3)
    check_gradients(lambda l, z: lm.losses.softmax_cross_entropy(l, z), labels, logits)
    check_gradients(lambda z: lm.losses.softmax_cross_entropy(lm.tensor(labels), z, label_smoothing=0.1), logits)
    check_gradients(lambda z, w: lm.losses.softmax_cross_entropy(lm.tensor(labels), z, w, reduction=Reduction.MEAN),
                    logits, [1.0, 2.0, 0.5])


def test_softmax_cross_entropy_uses_the_kernel_once(monkeypatch):
    from lamina import losses as losses_module

    calls = []
    kernel = losses_module._core.softmax_cross_entropy

    def counting(*args, **kwargs):
        calls.append(args)
        return kernel(*args, **kwargs)

    monkeypatch.setattr(losses_module._core, "softmax_cross_entropy", counting)
    w = lm.variable(lm.tensor([[0.5, -0.3], [0.1, 0.2]]), name="sce_kernel_w")
    xs = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 1.0]])
    ys = np.eye(2)[[0, 1, 1]]
    out = lm.variable_grads(lambda: lm.losses.softmax_cross_entropy(ys, lm.matmul(xs, w)))
    assert len(calls) == 1  # the backward used the dlogits of the forward call
    logits = xs @ w.numpy().astype(np.float64)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert out["value"].item() == pytest.approx(_np_softmax_ce(ys, logits).mean(), rel=1e-6)
    np.testing.assert_allclose(out["grads"]["sce_kernel_w"].numpy(), xs.T @ (probs - ys) / 3, rtol=1e-5)


def test_guide_core_training_step_lowers_the_loss():
    lm_rng = np.random.default_rng(3)
    xs = lm_rng.standard_normal((16, 5)).astype(np.float32)
    ys = np.eye(3)[lm_rng.integers(0, 3, 16)]
    w0 = (lm_rng.standard_normal((5, 3)) * 0.1).astype(np.float32)
    w = lm.variable(lm.tensor(w0), name="guide_core_w")
    optimizer = lm.train.sgd(0.5)
    costs = [optimizer.minimize(lambda: lm.losses.softmax_cross_entropy(ys, lm.matmul(xs, w)),
                                return_cost=True).item()
             for _ in range(20)]
    assert costs[0] == pytest.approx(_np_softmax_ce(ys, xs.astype(np.float64) @ w0).mean(), rel=1e-5)
    assert costs[-1] < 0.8 * costs[0]


@pytest.mark.parametrize("name", sorted(CORE))
def test_core_loss_gradients(name):
    fn, _ = CORE[name]
    preds = PREDS * 3 if name == "huber_loss" else PREDS
    check_gradients(lambda p: fn(lm.tensor(LABELS), p), preds)
    check_gradients(lambda p, w: fn(lm.tensor(LABELS), p, w, reduction=Reduction.MEAN), preds, [[1.0], [2.0]])


# --- Core loss errors -------------------------------------------------------------------

def test_core_losses_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match=r"Error in softmaxCrossEntropy: Shapes \[2, 3\] and \[2, 4\] must match "
                                         r"\(onehot_labels and logits\)"):
        lm.losses.softmax_cross_entropy(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"Error in meanSquaredError: Shapes \[2\] and \[2, 1\] must match"):
        lm.losses.mean_squared_error([1, 2], [[1], [2]])


def test_label_smoothing_must_be_a_number():
    with pytest.raises(TypeError, match="softmaxCrossEntropy: label_smoothing must be a number, got str"):
        lm.losses.softmax_cross_entropy([[1, 0]], [[0, 1]], label_smoothing="0.1")


def test_unknown_reduction_and_bad_weights():
    with pytest.raises(ValueError, match="Unknown reduction: 'mean'"):
        lm.losses.mean_squared_error([1.0], [2.0], reduction="mean")
    with pytest.raises(ValueError, match=r"weights of shape \[3\] must broadcast to the shape of the losses, \[2\]"):
        lm.losses.mean_squared_error([1.0, 2.0], [2.0, 3.0], weights=[1.0, 2.0, 3.0])
