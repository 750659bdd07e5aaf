"""Expected strings are TF.js's own: the tensor.toString cases of tfjs-core's tensor_test.ts,
and JavaScript's Number.prototype.toString / toFixed results."""

import numpy as np
import pytest

import lamina as lm
from lamina.tensor_format import js_number_to_string, tensor_to_string

VERBOSE_HEADER = "Tensor\n  dtype: {}\n  rank: {}\n  shape: [{}]\n  values:\n"


@pytest.mark.parametrize("value, text", [
    (1.0, "1"), (0.5, "0.5"), (-2.25, "-2.25"), (0.0, "0"), (-0.0, "0"),
    (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (0.000001, "0.000001"), (1.23e-18, "1.23e-18"),
    (1e21, "1e+21"), (1.5e21, "1.5e+21"), (123456789012345680000.0, "123456789012345680000"),
    (2.0 ** 53, "9007199254740992"), (0.1 + 0.2, "0.30000000000000004"), (-1.5e-9, "-1.5e-9"),
    (1.7976931348623157e308, "1.7976931348623157e+308"), (5e-324, "5e-324"),
    (float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity"),
])
def test_js_number_to_string(value, text):
    assert js_number_to_string(value) == text


def test_scalars():
    assert lm.scalar(5).to_string(verbose=True) == VERBOSE_HEADER.format("float32", 0, "") + "    5"
    assert lm.scalar(5).to_string() == "Tensor\n    5"
    assert lm.scalar(True, dtype="bool").to_string(verbose=True) == \
        VERBOSE_HEADER.format("bool", 0, "") + "    true"
    # A scalar is printed without toFixed: the float32 value in full, as TF.js does.
    assert lm.scalar(0.1).to_string() == "Tensor\n    0.10000000149011612"


def test_1d_and_bool():
    assert lm.zeros([4]).to_string(verbose=True) == VERBOSE_HEADER.format("float32", 1, "4") + "    [0, 0, 0, 0]"
    assert lm.tensor([True, False, True]).to_string(verbose=True) == \
        VERBOSE_HEADER.format("bool", 1, "3") + "    [true, false, true]"


def test_2d_and_3d():
    assert lm.zeros([3, 3]).to_string(verbose=True) == VERBOSE_HEADER.format("float32", 2, "3,3") + (
        "    [[0, 0, 0],\n"
        "     [0, 0, 0],\n"
        "     [0, 0, 0]]")
    assert lm.zeros([3, 3], dtype="bool").to_string() == (
        "Tensor\n"
        "    [[false, false, false],\n"
        "     [false, false, false],\n"
        "     [false, false, false]]")
    assert lm.ones([3, 3, 2], dtype="bool").to_string(verbose=True) == \
        VERBOSE_HEADER.format("bool", 3, "3,3,2") + (
            "    [[[true, true],\n"
            "      [true, true],\n"
            "      [true, true]],\n\n"
            "     [[true, true],\n"
            "      [true, true],\n"
            "      [true, true]],\n\n"
            "     [[true, true],\n"
            "      [true, true],\n"
            "      [true, true]]]")


def test_long_tensors_are_elided():
    assert lm.zeros([100]).to_string() == "Tensor\n    [0, 0, 0, ..., 0, 0, 0]"
    row = "[0, 0, 0, ..., 0, 0, 0]"
    assert lm.zeros([100, 100]).to_string(verbose=True) == VERBOSE_HEADER.format("float32", 2, "100,100") + (
        f"    [{row},\n     {row},\n     {row},\n     ...,\n     {row},\n     {row},\n     {row}]")
    assert lm.zeros([20]).to_string() == "Tensor\n    [" + ", ".join(["0"] * 20) + "]"  # 20 is not elided


def test_columns_are_padded_and_values_rounded_to_7_decimals():
    t = lm.tensor([[0.8597712, 3, 0.2740789], [0.6696132, 0.4825962, 2.75], [1.991, 0.0640865, 0.2983858]])
    assert t.to_string() == (
        "Tensor\n"
        "    [[0.8597712, 3        , 0.2740789],\n"
        "     [0.6696132, 0.4825962, 2.75     ],\n"
        "     [1.9910001, 0.0640865, 0.2983858]]")


def test_padding_counts_hidden_rows_and_follows_the_column():
    values = np.zeros((25, 30), np.float32)
    values[10, 1] = 12345  # a hidden row still widens column 1
    values[0, 28] = 1.5
    lines = lm.tensor(values).to_string().split("\n")
    assert lines[1] == "    [[0, 0    , 0, ..., 0, 1.5, 0],"
    assert lines[4] == "     ...,"


def test_4d_blocks_are_separated_by_two_blank_lines():
    text = lm.tensor(np.arange(16).reshape(2, 2, 2, 2)).to_string()
    assert text == (
        "Tensor\n"
        "    [[[[0 , 1 ],\n"
        "       [2 , 3 ]],\n\n"
        "      [[4 , 5 ],\n"
        "       [6 , 7 ]]],\n\n\n"
        "     [[[8 , 9 ],\n"
        "       [10, 11]],\n\n"
        "      [[12, 13],\n"
        "       [14, 15]]]]")


def test_single_row_matrix_keeps_the_tfjs_layout():
    # tensor_format.ts gives a one-row block its separator and closing bracket on one line.
    assert lm.tensor([[1, 2]]).to_string() == "Tensor\n     [[1, 2],]"


@pytest.mark.parametrize("value, text", [
    (305.17578125, "305.1757813"),    # an exact tie at the 8th decimal rounds away from zero
    (-305.17578125, "-305.1757813"),  # (Python's '%.7f' would give ...812)
    (-4e-8, "0"),                     # toFixed -> '-0.0000000' -> -0 -> '0'
    (123456789.123, "123456792"),     # the float32 value
    (3e38, "3.0000000054977558e+38"),  # >= 1e21: toFixed gives the exponent form
    (2.5e-7, "2e-7"),  # float32(2.5e-7) = 2.4999999937e-7, below the tie
])
def test_values_inside_tensors(value, text):
    assert lm.tensor([value]).to_string() == f"Tensor\n    [{text}]"


def test_int32_and_print(capsys):
    lm.tensor([[1, 22], [333, 4]], dtype="int32").print()
    assert capsys.readouterr().out == "Tensor\n    [[1  , 22],\n     [333, 4 ]]\n"
    assert repr(lm.tensor([1, 2])) == "Tensor\n    [1, 2]"


def test_empty_tensors():
    assert tensor_to_string(np.zeros(0, np.float32), "float32") == "Tensor\n    []"
    assert tensor_to_string(np.zeros((2, 0), np.float32), "float32") == "Tensor\n    [[],\n     []]"
