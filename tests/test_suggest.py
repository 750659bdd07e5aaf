"""The shared "did you mean" hint: the intended name is known by construction (a typo of it)."""

import pytest

from lamina._suggest import closest_name, did_you_mean

NAMES = ["meanSquaredError", "mean_squared_error", "mse", "categoricalCrossentropy",
         "categorical_crossentropy", "hinge"]


@pytest.mark.parametrize("typed, meant", [
    ("categoricalCrossentropi", "categoricalCrossentropy"),   # one letter wrong
    ("categorical_crossentropi", "categorical_crossentropy"),  # the same, snake_case: the spelling typed
    ("MEANSQUAREDERROR", "meanSquaredError"),                  # case ignored
    ("Mean_Squared_Error", "mean_squared_error"),
    ("hnige", "hinge"),                                        # letters swapped
])
def test_the_closest_name_in_the_spelling_typed(typed, meant):
    assert closest_name(typed, NAMES) == meant


@pytest.mark.parametrize("typed", ["foo", "precision", "", "x"])
def test_no_suggestion_when_nothing_is_near(typed):
    assert closest_name(typed, NAMES) is None
    assert did_you_mean(typed, NAMES) == ""


def test_the_sentence_quotes_the_name():
    assert did_you_mean("hingee", NAMES) == " Did you mean 'hinge'?"


def test_non_strings_get_no_suggestion():
    assert closest_name(3, NAMES) is None
