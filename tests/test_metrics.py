"""lamina.metrics: values against numpy and TF.js's checks, name resolution, errors."""

import numpy as np
import pytest

import lamina as lm
from lamina import metrics


def values(t):
    return np.asarray(t.numpy(), dtype=np.float64)


# --- accuracies ------------------------------------------------------------------------

def test_binary_accuracy_tfjs_cases():
    # tfjs-layers metrics_test.ts: 1-D exact, 1-D thresholded, 2-D exact, 2-D thresholded.
    assert metrics.binary_accuracy([1, 1, 1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 0, 1, 0, 1]).item() == 0.5
    assert metrics.binary_accuracy([1, 1, 1, 1, 0, 0, 0, 0],
                                   [0.2, 0.4, 0.6, 0.8, 0.2, 0.3, 0.4, 0.7]).item() == 5 / 8
    np.testing.assert_array_equal(values(metrics.binary_accuracy([[1, 1, 1, 1], [0, 0, 0, 0]],
                                                                 [[1, 0, 1, 0], [0, 0, 0, 1]])), [0.5, 0.75])
    np.testing.assert_array_equal(
        values(metrics.binary_accuracy([[1, 1], [1, 1], [0, 0], [0, 0]],
                                       [[0.2, 0.4], [0.6, 0.8], [0.2, 0.3], [0.4, 0.7]])), [0, 1, 1, 0.5])


def test_binary_accuracy_threshold_is_strictly_greater():
    # tfjs_observed.md: yPred > 0.5, so 0.5 is class 0.
    np.testing.assert_array_equal(values(metrics.binary_accuracy([[0], [1], [1]], [[0.5], [0.5], [0.5000001]])),
                                  [1, 0, 1])


def test_binary_accuracy_matches_numpy(rng):
    y_true = (rng.random((20, 3)) > 0.5).astype(np.float32)
    y_pred = rng.random((20, 3)).astype(np.float32)
    expected = ((y_pred > 0.5) == (y_true == 1)).mean(axis=-1)
    np.testing.assert_allclose(values(metrics.binary_accuracy(y_true, y_pred)), expected, rtol=1e-6)


def test_categorical_accuracy_ties_first_max_wins():
    # tfjs_observed.md: yTrue [1,0], yPred [0.5,0.5] -> 1; yTrue [0,1] -> 0.
    np.testing.assert_array_equal(values(metrics.categorical_accuracy([[1, 0], [0, 1]], [[0.5, 0.5], [0.5, 0.5]])),
                                  [1, 0])


def test_categorical_accuracy_tfjs_cases():
    x = [[0, 0, 0, 1], [0, 0, 0, 1]]
    y = [[0.1, 0.8, 0.05, 0.05], [0.1, 0.05, 0.05, 0.8]]
    result = metrics.categorical_accuracy(x, y)
    assert result.dtype == "float32" and result.shape == [2]
    np.testing.assert_array_equal(values(result), [0, 1])
    one_d = metrics.categorical_accuracy([0, 0, 0, 1], [0.1, 0.8, 0.05, 0.05])
    assert one_d.shape == [] and one_d.item() == 0


def test_sparse_categorical_accuracy_label_shapes_and_dtypes():
    y_pred = [[0, 1, 0], [1, 0, 0], [0, 0.4, 0.6], [0, 0.6, 0.4], [0.7, 0.3, 0]]
    expected = [1, 0, 1, 0, 1]  # tfjs metrics_test.ts
    for y_true in ([1, 1, 2, 2, 0], lm.tensor([1, 1, 2, 2, 0], dtype="int32"), [[1], [1], [2], [2], [0]]):
        np.testing.assert_array_equal(values(metrics.sparse_categorical_accuracy(y_true, y_pred)), expected)


def test_sparse_categorical_accuracy_rejects_wrong_label_shape():
    with pytest.raises(ValueError, match=r"one class index per sample, shape \[2\] or \[2, 1\], got \[2, 3\]"):
        metrics.sparse_categorical_accuracy([[1, 0, 0], [0, 1, 0]], [[0.2, 0.8, 0], [0.5, 0.5, 0]])
    with pytest.raises(ValueError, match=r"got \[3\]"):
        metrics.sparse_categorical_accuracy([0, 1, 1], [[0.2, 0.8], [0.5, 0.5]])


def test_top_k_categorical_accuracy_vs_numpy(rng):
    y_pred = rng.random((50, 6)).astype(np.float32)
    labels = rng.integers(0, 6, size=50)
    y_true = np.eye(6, dtype=np.float32)[labels]
    for k in (1, 2, 5, 6):
        top = np.argsort(-y_pred, axis=-1)[:, :k]  # no ties in random floats
        expected = np.array([labels[i] in top[i] for i in range(50)], dtype=np.float64)
        np.testing.assert_array_equal(values(metrics.top_k_categorical_accuracy(y_true, y_pred, k=k)), expected)
        np.testing.assert_array_equal(values(metrics.sparse_top_k_categorical_accuracy(labels, y_pred, k=k)),
                                      expected)
    # k=1 is categorical accuracy when there are no ties.
    np.testing.assert_array_equal(values(metrics.top_k_categorical_accuracy(y_true, y_pred, k=1)),
                                  values(metrics.categorical_accuracy(y_true, y_pred)))


def test_top_k_ties_count_for_the_true_class():
    # Three classes tie at 0.3 behind 0.4: with k=2 the true class 2 is still "in the top 2".
    assert metrics.top_k_categorical_accuracy([[0, 0, 1, 0]], [[0.4, 0.3, 0.3, 0.0]], k=2).item() == 1
    assert metrics.top_k_categorical_accuracy([[0, 0, 0, 1]], [[0.4, 0.3, 0.3, 0.0]], k=3).item() == 0


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "2"])
def test_top_k_rejects_bad_k(k):
    with pytest.raises(ValueError, match="k must be a positive integer"):
        metrics.top_k_categorical_accuracy([[0, 1]], [[0.2, 0.8]], k=k)


def test_sparse_top_k_rejects_out_of_range_labels():
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\)"):
        metrics.sparse_top_k_categorical_accuracy([2], [[0.2, 0.8]], k=1)


# --- precision and recall --------------------------------------------------------------

def test_precision_and_recall_tfjs_cases():
    labels = [[0, 0, 1], [0, 0, 1], [1, 0, 0], [0, 1, 0]]
    predictions = [[0, 0, 1], [1, 0, 0], [1, 0, 0], [0, 1, 0]]
    assert metrics.precision(labels, predictions).item() == 0.75
    assert metrics.recall(labels, predictions).item() == 0.75
    assert metrics.precision([0, 0, 0, 1], [0, 0, 0, 1]).item() == 1
    assert metrics.recall([1, 0, 1, 0, 0, 0, 1], [0, 0, 1, 1, 1, 1, 0]).item() == pytest.approx(1 / 3)
    # Nothing predicted positive / no positives at all: 0, not NaN.
    assert metrics.precision(labels, np.zeros((4, 3))).item() == 0
    assert metrics.recall(np.zeros((4, 3)), predictions).item() == 0


def test_precision_recall_are_batch_scalars_vs_counts(rng):
    y_true = (rng.random((30, 4)) > 0.6).astype(np.float32)
    y_pred = (rng.random((30, 4)) > 0.5).astype(np.float32)
    tp = np.sum((y_true == 1) & (y_pred == 1))
    fp = np.sum((y_true == 0) & (y_pred == 1))
    fn = np.sum((y_true == 1) & (y_pred == 0))
    p, r = metrics.precision(y_true, y_pred), metrics.recall(y_true, y_pred)
    assert p.shape == [] and r.shape == [] and p.dtype == "float32"
    assert p.item() == pytest.approx(tp / (tp + fp), rel=1e-6)
    assert r.item() == pytest.approx(tp / (tp + fn), rel=1e-6)


def test_precision_counts_only_exact_ones():
    # TF.js counts predictions equal to 1: a probability of 0.9 is not a positive prediction.
    assert metrics.precision([[1, 0]], [[0.9, 0.0]]).item() == 0


# --- the losses as metrics --------------------------------------------------------------

def test_loss_metrics_are_the_layers_losses():
    layers = lm.losses.layers
    assert metrics.mse is metrics.MSE is metrics.mean_squared_error is layers.mean_squared_error
    assert metrics.mae is metrics.MAE is layers.mean_absolute_error
    assert metrics.mape is metrics.MAPE is layers.mean_absolute_percentage_error
    assert metrics.cosine is layers.cosine_proximity
    assert metrics.binary_crossentropy is layers.binary_crossentropy
    assert metrics.categorical_crossentropy is layers.categorical_crossentropy
    assert metrics.sparse_categorical_crossentropy is layers.sparse_categorical_crossentropy


def test_crossentropy_metric_tfjs_values():
    # tfjs metrics_test.ts categoricalCrossentropy metric, 2-D; binaryCrossentropy one-hot.
    np.testing.assert_allclose(values(metrics.categorical_crossentropy(
        [[0, 0, 0, 1], [0, 0, 0, 1]], [[0.1, 0.8, 0.05, 0.05], [0.1, 0.05, 0.05, 0.8]])),
        [2.995732, 0.22314353], rtol=1e-5)
    np.testing.assert_allclose(values(metrics.binary_crossentropy(
        [[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]],
        [[1, 0], [0.5, 0.5], [0, 1], [1, 0], [0.5, 0.5], [0, 1]])),
        [1.0960467e-07, 6.9314718e-01, 1.6030239e+01, 1.6030239e+01, 6.9314718e-01, 1.0960467e-07], rtol=1e-4)


@pytest.mark.parametrize("fn", [metrics.binary_accuracy, metrics.categorical_accuracy, metrics.precision,
                                metrics.recall, metrics.top_k_categorical_accuracy])
def test_shape_mismatch_is_an_error(fn):
    with pytest.raises(ValueError, match=r"same shape, got y_true \[2, 2\] and y_pred \[2, 3\]"):
        fn([[0, 1], [1, 0]], [[0, 1, 0], [1, 0, 0]])


def test_scalars_are_refused():
    with pytest.raises(ValueError, match="at least one axis"):
        metrics.binary_accuracy(1, 1)


# --- get, names, resolve ----------------------------------------------------------------

@pytest.mark.parametrize("name, fn", [
    ("binaryAccuracy", metrics.binary_accuracy), ("binary_accuracy", metrics.binary_accuracy),
    ("categoricalAccuracy", metrics.categorical_accuracy), ("categorical_accuracy", metrics.categorical_accuracy),
    ("sparseCategoricalAccuracy", metrics.sparse_categorical_accuracy),
    ("sparse_categorical_accuracy", metrics.sparse_categorical_accuracy),
    ("topKCategoricalAccuracy", metrics.top_k_categorical_accuracy),
    ("top_k_categorical_accuracy", metrics.top_k_categorical_accuracy),
    ("precision", metrics.precision), ("recall", metrics.recall),
    ("mse", metrics.mse), ("MSE", metrics.mse), ("meanSquaredError", metrics.mse), ("mean_squared_error", metrics.mse),
    ("MAE", metrics.mae), ("mape", metrics.mape), ("cosine", metrics.cosine),
    ("categoricalCrossentropy", metrics.categorical_crossentropy),
    ("binary_crossentropy", metrics.binary_crossentropy),
    ("hinge", lm.losses.layers.hinge),
])
def test_get_resolves_names(name, fn):
    assert metrics.get(name) is fn


def test_get_passes_functions_through_and_rejects_the_rest():
    def custom(y_true, y_pred):
        return y_pred
    assert metrics.get(custom) is custom
    with pytest.raises(ValueError, match=r"^Unknown metric foo\. Valid metrics: accuracy, acc, crossentropy"):
        metrics.get("foo")
    with pytest.raises(TypeError, match="metric must be a metric name or a function.*got int"):
        metrics.get(3)


@pytest.mark.parametrize("typed, meant", [("accuracyy", "accuracy"), ("Accuracy", "accuracy"),
                                          ("binary_acuracy", "binary_accuracy"), ("recal", "recall")])
def test_unknown_names_suggest_the_closest_metric(typed, meant):
    with pytest.raises(ValueError, match=f"^Unknown metric {typed}\\. Did you mean '{meant}'\\? Valid metrics: "):
        metrics.get(typed)


@pytest.mark.parametrize("identifier, loss, shape, expected", [
    # TF.js compile: last dim 1 or binaryCrossentropy -> binary; sparse CE -> sparse; else categorical.
    ("accuracy", "categoricalCrossentropy", [None, 10], ("acc", metrics.categorical_accuracy)),
    ("acc", "categoricalCrossentropy", [None, 10], ("acc", metrics.categorical_accuracy)),
    ("accuracy", "binaryCrossentropy", [None, 10], ("acc", metrics.binary_accuracy)),
    ("accuracy", "meanSquaredError", [None, 1], ("acc", metrics.binary_accuracy)),
    ("accuracy", "sparseCategoricalCrossentropy", [None, 10], ("acc", metrics.sparse_categorical_accuracy)),
    ("accuracy", "sparseCategoricalCrossentropy", [None, 1], ("acc", metrics.binary_accuracy)),
    ("accuracy", "meanSquaredError", [None, 3], ("acc", metrics.categorical_accuracy)),
    ("crossentropy", "categoricalCrossentropy", [None, 4], ("ce", metrics.categorical_crossentropy)),
    ("ce", "binaryCrossentropy", [None, 4], ("ce", metrics.binary_crossentropy)),
    ("ce", "sparseCategoricalCrossentropy", [None, 4], ("ce", metrics.sparse_categorical_crossentropy)),
    ("ce", "mse", [None, 1], ("ce", metrics.binary_crossentropy)),
    # Other strings keep their spelling as the label.
    ("mse", "mse", [None, 2], ("mse", metrics.mse)),
    ("MAE", "mse", [None, 2], ("MAE", metrics.mae)),
    ("categoricalAccuracy", "mse", [None, 2], ("categoricalAccuracy", metrics.categorical_accuracy)),
    ("binary_accuracy", "mse", [None, 2], ("binary_accuracy", metrics.binary_accuracy)),
])
def test_resolve_rules(identifier, loss, shape, expected):
    assert metrics.resolve(identifier, lm.losses.get(loss), shape) == expected


def test_resolve_accepts_a_loss_name_and_unknown_shape():
    assert metrics.resolve("acc", "binary_crossentropy", None) == ("acc", metrics.binary_accuracy)
    assert metrics.resolve("acc", lm.losses.get("mse"), None) == ("acc", metrics.categorical_accuracy)


def test_resolve_function_labels_follow_get_loss_or_metric_name():
    mse = lm.losses.get("mse")
    # TF.js: lossesMap first, then metricsMap, then the function's name [verified for meanAbsoluteError].
    assert metrics.resolve(metrics.mae, mse, [None, 1]) == ("meanAbsoluteError", metrics.mae)
    assert metrics.resolve(metrics.binary_accuracy, mse, [None, 1])[0] == "binaryAccuracy"
    assert metrics.resolve(metrics.categorical_crossentropy, mse, [None, 1])[0] == "categoricalCrossentropy"
    assert metrics.resolve(metrics.recall, mse, [None, 1])[0] == "recall"

    def fake_metric(y_true, y_pred):
        return y_pred
    assert metrics.resolve(fake_metric, mse, [None, 1]) == ("fake_metric", fake_metric)
    assert metrics.resolve(lambda t, p: p, mse, [None, 1])[0] == "<lambda>"


def test_resolve_unknown_metric_message():
    with pytest.raises(ValueError, match="^Unknown metric foo"):
        metrics.resolve("foo", lm.losses.get("mse"), [None, 1])


def test_dedupe_names_tfjs_rule():
    assert metrics.dedupe_names(["loss", "acc", "mse"]) == ["loss", "acc", "mse"]
    assert metrics.dedupe_names(["loss", "acc", "acc", "mse", "acc"]) == ["loss", "acc_0", "acc_1", "mse", "acc_2"]
    assert metrics.dedupe_names([]) == []


def test_metrics_computed_inside_a_gradient_leave_it_unchanged():
    # fit computes metrics in the loss's forward pass: they must not alter the gradient.
    w = lm.variable(lm.tensor([[0.5, -0.5, 0.25]]), name="metric_w")
    y_true = [[1, 0, 0]]

    def loss(with_metrics):
        pred = lm.softmax(w)
        if with_metrics:
            for fn in (metrics.categorical_accuracy, metrics.top_k_categorical_accuracy, metrics.precision):
                fn(y_true, pred)
        return lm.losses.layers.categorical_crossentropy(y_true, pred).sum()

    plain = lm.variable_grads(lambda: loss(False))["grads"]["metric_w"].numpy()
    with_metrics = lm.variable_grads(lambda: loss(True))["grads"]["metric_w"].numpy()
    np.testing.assert_array_equal(plain, with_metrics)
    # d CE / d logits = softmax - onehot
    p = np.exp([0.5, -0.5, 0.25]) / np.exp([0.5, -0.5, 0.25]).sum()
    np.testing.assert_allclose(plain[0], p - [1, 0, 0], rtol=1e-5, atol=1e-6)


# --- r2_score ----------------------------------------------------------------------------

def r2_numpy(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    return 1 - np.sum((y_true - y_pred) ** 2) / np.sum((y_true - y_true.mean()) ** 2)


def test_r2_score_tfjs_cases_and_numpy():
    # tfjs-layers metrics_test.ts 'r2Score': 1-D -> 0.985, 2-D -> 0.995 (to its test tolerance).
    y_true = [3, -0.5, 2, 7, 4.2, 8.5, 1.3, 2.8, 6.7, 9.0]
    y_pred = [2.5, 0.0, 2.1, 7.8, 4.0, 8.2, 1.4, 2.9, 6.5, 9.1]
    score = metrics.r2_score(y_true, y_pred)
    assert score.shape == [] and score.dtype == "float32"
    assert score.item() == pytest.approx(0.985, abs=1e-3)
    assert score.item() == pytest.approx(r2_numpy(y_true, y_pred), rel=1e-6)
    y_true = [[3, 2.5], [-0.5, 3.2], [2, 1.9], [7, 5.1], [4.2, 3.8], [8.5, 7.4], [1.3, 0.6], [2.8, 2.1],
              [6.7, 5.3], [9.0, 8.7]]
    y_pred = [[2.7, 2.3], [0.0, 3.1], [2.1, 1.8], [6.8, 5.0], [4.1, 3.7], [8.4, 7.2], [1.4, 0.7], [2.9, 2.2],
              [6.6, 5.2], [9.2, 8.9]]
    assert metrics.r2_score(y_true, y_pred).item() == pytest.approx(0.995, abs=1e-3)
    # one score over every entry (TF.js), not the mean of the columns' scores
    overall = r2_numpy(y_true, y_pred)
    per_column = np.mean([r2_numpy(np.array(y_true)[:, j], np.array(y_pred)[:, j]) for j in range(2)])
    assert metrics.r2_score(y_true, y_pred).item() == pytest.approx(overall, rel=1e-6)
    assert abs(overall - per_column) > 1e-4


def test_r2_score_constant_target_divides_by_zero_as_tfjs():
    assert metrics.r2_score([2.0, 2.0], [1.0, 3.0]).item() == -np.inf
    assert np.isnan(metrics.r2_score([2.0, 2.0], [2.0, 2.0]).item())


def test_r2_score_shapes_must_match():
    with pytest.raises(ValueError, match=r"r2Score: y_true and y_pred must have the same shape"):
        metrics.r2_score([[1.0, 2.0]], [1.0, 2.0])


@pytest.mark.parametrize("name", ["r2Score", "r2_score"])
def test_r2_score_as_a_compile_metric(name, rng):
    x = rng.normal(size=(12, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3 * rng.normal(size=(12, 1))).astype(np.float32)
    model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[3])])
    model.compile(optimizer=lm.train.sgd(0.0), loss="meanSquaredError", metrics=[name])
    assert model.metrics_names == ["loss", name]
    prediction = model.predict(x).numpy()
    loss, r2 = model.evaluate(x, y, batch_size=12)
    assert r2 == pytest.approx(r2_numpy(y, prediction), rel=1e-5)
    # batches 8 and 4: the epoch value is the size-weighted mean of the batch scores
    history = model.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    expected = (8 * r2_numpy(y[:8], prediction[:8]) + 4 * r2_numpy(y[8:], prediction[8:])) / 12
    assert history.history[name][0] == pytest.approx(expected, rel=1e-5)
