"""model.summary(): TF.js's table, character for character (tfjs_observed.md §1, tfjs_semantics.md §5)."""

import pytest

import lamina as lm
from lamina.engine.summary import format_row

# tfjs_observed.md §1: the guide's model in @tensorflow/tfjs 4.22 (each row padded to 90 columns).
GUIDE_SUMMARY = [
    "_" * 90,
    "Layer (type)                Input Shape               Output shape              Param #   ",
    "=" * 90,
    "dense_Dense1 (Dense)        [[null,784]]              [null,32]                 25120     ",
    "_" * 90,
    "dense_Dense2 (Dense)        [[null,32]]               [null,10]                 330       ",
    "=" * 90,
    "Total params: 25450",
    "Trainable params: 25450",
    "Non-trainable params: 0",
    "_" * 90,
]

# tfjs_semantics.md §5: tfjs-layers' model_summary_test.ts, verified on 4.22.
DROPOUT_SUMMARY = [
    "_" * 90,
    "Layer (type)                Input Shape               Output shape              Param #   ",
    "=" * 90,
    "dense_Dense1 (Dense)        [[null,3]]                [null,4]                  16        ",
    "_" * 90,
    "dropout_Dropout1 (Dropout)  [[null,4]]                [null,4]                  0         ",
    "_" * 90,
    "dense_Dense2 (Dense)        [[null,4]]                [null,2]                  10        ",
    "=" * 90,
    "Total params: 26",
    "Trainable params: 26",
    "Non-trainable params: 0",
    "_" * 90,
]


def summary_lines(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def test_guide_model_summary_matches_tfjs():
    # Named as TF.js names the first two Dense layers of a process (the counter is global).
    model = lm.sequential(layers=[
        lm.layers.dense(input_shape=[784], units=32, activation="relu", name="dense_Dense1"),
        lm.layers.dense(units=10, activation="softmax", name="dense_Dense2"),
    ])
    assert summary_lines(model) == GUIDE_SUMMARY


def test_dropout_model_summary_matches_tfjs():
    model = lm.sequential(layers=[
        lm.layers.dense(units=4, input_shape=[3], activation="relu", name="dense_Dense1"),
        lm.layers.dropout(rate=0.5, name="dropout_Dropout1"),
        lm.layers.dense(units=2, activation="softmax", name="dense_Dense2"),
    ])
    assert summary_lines(model) == DROPOUT_SUMMARY


def test_summary_prints_through_print_by_default(capsys):
    model = lm.sequential(layers=[lm.layers.dense(units=10, input_shape=[32], name="dense_Dense2")])
    model.summary()
    out = capsys.readouterr().out.splitlines()
    assert out[3] == "dense_Dense2 (Dense)        [[null,32]]               [null,10]                 330       "
    assert out[-4:-1] == ["Total params: 330", "Trainable params: 330", "Non-trainable params: 0"]


def test_long_names_are_cut_one_space_before_the_next_column():
    # TF.js printRow: 'batch_normalization_BatchNormalization2 (BatchNormalization)' shows as
    # 'batch_normalization_BatchNo ' in a 28-wide column (tfjs_semantics.md §5, verified).
    row = format_row(["batch_normalization_BatchNormalization2 (BatchNormalization)", "[[null,3]]",
                      "[null,3]", 12], [28, 54, 80, 90])
    assert row[:28] == "batch_normalization_BatchNo "
    assert row[28:54] == "[[null,3]]".ljust(26)
    assert len(row) == 90


def test_custom_line_length_and_absolute_positions():
    model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="tiny")])
    lines = summary_lines(model, line_length=40, positions=[12, 24, 34, 40])
    assert lines[0] == "_" * 40
    # Each field is cut one character before the next column, which starts with a space.
    assert lines[1] == "Layer (type Input Shape Output sh Param "
    assert lines[3] == "tiny (Dense [[null,3]]  [null,2]  8     "
    assert lines[-4:-1] == ["Total params: 8", "Trainable params: 8", "Non-trainable params: 0"]


def test_frozen_layer_counts_as_non_trainable():
    model = lm.sequential(layers=[
        lm.layers.dense(units=4, input_shape=[3], name="frozen", trainable=False),
        lm.layers.dense(units=2, name="free"),
    ])
    assert summary_lines(model)[-4:-1] == ["Total params: 26", "Trainable params: 10", "Non-trainable params: 16"]


def test_empty_model_has_no_summary():
    with pytest.raises(ValueError, match="model is empty. Add some layers first"):
        lm.sequential().summary()


@pytest.mark.parametrize("kwargs, message", [
    ({"line_length": 0}, "line_length must be a positive int, got 0"),
    ({"positions": [0.5, 1]}, "positions must be 4 increasing positive numbers"),
    ({"positions": [0.9, 0.5, 0.6, 1]}, "positions must be 4 increasing positive numbers"),
    ({"print_fn": "stdout"}, "print_fn must be callable"),
])
def test_bad_layout_arguments(kwargs, message):
    model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3])])
    with pytest.raises((ValueError, TypeError), match=message):
        model.summary(**kwargs)
