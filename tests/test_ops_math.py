"""pow, rsqrt, log1p, abs, sign, maximum, minimum, clip_by_value, floor_div, mod: values
against numpy, gradients against finite differences and TF.js's rules at the kinks."""

import numpy as np
import pytest

import lamina as lm
from gradcheck import check_gradients

RNG = np.random.default_rng(7)
X = RNG.uniform(0.5, 3.0, size=(2, 3)).astype(np.float32)  # positive, away from kinks
SIGNED = np.array([[-2.5, -0.7, 0.4], [1.3, -1.9, 2.2]], np.float32)


def values(t):
    return np.asarray(t.numpy(), np.float64)


# --- values against numpy -------------------------------------------------------------------

@pytest.mark.parametrize("op, reference, x", [
    (lm.rsqrt, lambda v: 1 / np.sqrt(v), X),
    (lm.log1p, np.log1p, X - 0.4),
    (lm.abs, np.abs, SIGNED),
    (lm.sign, np.sign, np.array([-3.0, 0.0, 2.0, -0.0], np.float32)),
])
def test_unary_values(op, reference, x):
    out = op(lm.tensor(x))
    assert out.dtype == "float32" and out.shape == list(x.shape)
    np.testing.assert_allclose(values(out), reference(x.astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("op, reference", [
    (lm.pow, np.power), (lm.maximum, np.maximum), (lm.minimum, np.minimum),
    (lm.floor_div, np.floor_divide), (lm.mod, np.mod),
])
def test_binary_values_broadcast(op, reference):
    a = SIGNED * 3
    b = np.array([1.5, -2.0, 2.5], np.float32)
    if op is lm.pow:
        a, b = X, np.array([2.0, -0.5, 1.5], np.float32)
    out = op(lm.tensor(a), lm.tensor(b))
    assert out.shape == [2, 3]
    np.testing.assert_allclose(values(out), reference(a.astype(np.float64), b.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)


def test_mod_takes_the_sign_of_the_divisor_and_floor_div_floors():
    a, b = lm.tensor([7, -7, 7, -7]), lm.tensor([3, 3, -3, -3])
    assert lm.mod(a, b).array() == [1.0, 2.0, -2.0, -1.0]
    assert lm.floor_div(a, b).array() == [2.0, -3.0, -3.0, 2.0]


def test_clip_by_value_values():
    x = lm.tensor([-1, 2, -3, 4])  # TF.js's doc example: x.clipByValue(-2, 3)
    assert lm.clip_by_value(x, -2, 3).array() == [-1.0, 2.0, -2.0, 3.0]
    assert x.clip_by_value(0, 0).array() == [0.0, 0.0, 0.0, 0.0]
    nan = lm.clip_by_value(lm.tensor([np.nan]), 0, 1).item()
    assert np.isnan(nan)


def test_pow_special_values():
    out = lm.pow(lm.tensor([0.0, -8.0, 4.0]), lm.tensor([-1.0, 1 / 3, 0.5])).numpy()
    assert out[0] == np.inf and np.isnan(out[1]) and out[2] == 2.0


# --- dtypes ---------------------------------------------------------------------------------

def test_int32_stays_int32_where_the_result_is_an_integer():
    i = lm.tensor([-3, 0, 5], dtype="int32")
    assert lm.abs(i).dtype == "int32" and lm.abs(i).array() == [3, 0, 5]
    assert lm.sign(i).dtype == "int32" and lm.sign(i).array() == [-1, 0, 1]
    assert lm.maximum(i, lm.tensor(1, dtype="int32")).array() == [1, 1, 5]
    assert lm.minimum(i, lm.tensor(1, dtype="int32")).dtype == "int32"
    assert lm.clip_by_value(i, -1, 2).array() == [-1, 0, 2]
    assert lm.floor_div(i, lm.tensor(2, dtype="int32")).array() == [-2, 0, 2]
    assert lm.mod(i, lm.tensor(2, dtype="int32")).array() == [1, 0, 1]


I32 = np.array([[7, -7, 0], [4, -9, 5]], np.int32)
J32 = np.array([[2, 2, 3], [-3, 4, 2]], np.int32)
BOOL = np.array([[True, False, True], [False, False, True]])


def floor_division(a, b):
    """Integer floor division written out by hand: Math.floor(a / b), as TF.js's FloorDiv."""
    return [[int(np.floor(x / y)) for x, y in zip(ra, rb)] for ra, rb in zip(a.tolist(), b.tolist())]


# op -> (inputs, TF.js's output dtype, expected values). Each rule read from TF.js 4.22's
# tfjs-core/src/ops/<op>.ts and tfjs-backend-cpu/src/kernels/<Kernel>.ts: binaryKernelFunc
# computes in upcastType(a, b); div calls floorDiv for two int32 tensors; FloorDiv is int32;
# Square/Abs/Neg/Sign/Relu/Relu6/ClipByValue write x's dtype; Sum and Prod upcastType(x, 'int32');
# Max/Min x's dtype; Mean casts to float32; ArgMax/ArgMin int32; maximum/minimum cast bool to int32.
DTYPE_RULES = [
    ("add", lambda: lm.add(I32, J32), "int32", (I32 + J32).tolist()),
    ("sub", lambda: lm.sub(I32, J32), "int32", (I32 - J32).tolist()),
    ("mul", lambda: lm.mul(I32, J32), "int32", (I32 * J32).tolist()),
    ("div int32/int32", lambda: lm.div(I32, J32), "int32", floor_division(I32, J32)),
    ("operator /", lambda: lm.tensor(I32) / lm.tensor(J32), "int32", floor_division(I32, J32)),
    ("div int32/float32", lambda: lm.div(I32, J32.astype(np.float32)), "float32",
     (I32 / J32).astype(np.float32).tolist()),
    ("div int32/number", lambda: lm.div(lm.tensor(I32), 2), "float32", (I32 / 2).tolist()),
    ("floor_div", lambda: lm.floor_div(I32, J32), "int32", floor_division(I32, J32)),
    ("mod", lambda: lm.mod(I32, J32), "int32", (I32 - J32 * np.array(floor_division(I32, J32))).tolist()),
    ("maximum", lambda: lm.maximum(I32, J32), "int32", np.where(I32 > J32, I32, J32).tolist()),
    ("minimum", lambda: lm.minimum(I32, J32), "int32", np.where(I32 < J32, I32, J32).tolist()),
    ("maximum bool", lambda: lm.maximum(BOOL, ~BOOL), "int32", [[1, 1, 1], [1, 1, 1]]),
    ("pow", lambda: lm.pow(I32, lm.tensor(2, dtype="int32")), "int32", (I32 * I32).tolist()),
    ("neg", lambda: lm.neg(I32), "int32", (-I32).tolist()),
    ("square", lambda: lm.square(I32), "int32", (I32 * I32).tolist()),
    ("square bool", lambda: lm.square(BOOL), "bool", BOOL.tolist()),
    ("abs", lambda: lm.abs(I32), "int32", [[7, 7, 0], [4, 9, 5]]),
    ("sign", lambda: lm.sign(I32), "int32", [[1, -1, 0], [1, -1, 1]]),
    ("relu", lambda: lm.relu(I32), "int32", [[7, 0, 0], [4, 0, 5]]),
    ("relu6", lambda: lm.relu6(I32), "int32", [[6, 0, 0], [4, 0, 5]]),
    ("clip_by_value", lambda: lm.clip_by_value(I32, -1, 4), "int32", [[4, -1, 0], [4, -1, 4]]),
    ("sum", lambda: lm.sum(I32, axis=1), "int32", [0, 0]),
    ("sum bool", lambda: lm.sum(BOOL), "int32", 3),
    ("prod", lambda: lm.prod(J32, axis=1), "int32", [12, -24]),
    ("max", lambda: lm.max(I32, axis=0), "int32", [7, -7, 5]),
    ("min", lambda: lm.min(I32), "int32", -9),
    ("max bool", lambda: lm.max(BOOL, axis=1), "bool", [True, True]),
    ("mean", lambda: lm.mean(I32, axis=0), "float32", [5.5, -8.0, 2.5]),
    ("argmax", lambda: lm.argmax(I32, axis=1), "int32", [0, 2]),
    ("argmin", lambda: lm.argmin(I32, axis=1), "int32", [1, 1]),
    ("equal", lambda: lm.equal(I32, J32), "bool", (I32 == J32).tolist()),
    # TF.js's cpu kernels keep x's dtype for these too, truncating the result (sqrt of an
    # int32 5 gives int32 2); only exp is float32 there. lamina computes them in float32.
    ("sqrt (lamina: float32)", lambda: lm.sqrt(lm.tensor([4, 5], dtype="int32")), "float32",
     np.sqrt(np.float32([4, 5])).tolist()),
    ("exp", lambda: lm.exp(lm.tensor([0], dtype="int32")), "float32", [1.0]),
]


@pytest.mark.parametrize("name, build, dtype, expected", DTYPE_RULES, ids=[r[0] for r in DTYPE_RULES])
def test_output_dtypes_follow_tfjs(name, build, dtype, expected):
    out = build()
    assert out.dtype == dtype
    assert out.array() == expected


def test_int32_pow_is_stored_truncated_as_in_a_js_int32_array():
    base = lm.tensor([2, 3, -2, 1, 2], dtype="int32")
    exponent = lm.tensor([3, 2, 3, -1, -1], dtype="int32")
    out = lm.pow(base, exponent)
    assert out.dtype == "int32"
    assert out.array() == [8, 9, -8, 1, 0]  # 2 ** -1 = 0.5 is stored as 0


def test_int32_division_by_zero_gives_zero_without_warnings():
    zero = lm.tensor([0, 0], dtype="int32")
    assert lm.floor_div(lm.tensor([5, -5], dtype="int32"), zero).array() == [0, 0]
    assert lm.mod(lm.tensor([5, -5], dtype="int32"), zero).array() == [0, 0]


def test_mixed_dtypes_upcast_and_bool_computes_as_int32():
    assert lm.maximum(lm.tensor([1, 2], dtype="int32"), 1.5).dtype == "float32"
    both = lm.maximum(lm.tensor([True, False]), lm.tensor([False, False]))
    assert both.dtype == "int32" and both.array() == [1, 0]
    assert lm.rsqrt(lm.tensor([4], dtype="int32")).dtype == "float32"
    assert lm.log1p(lm.tensor([0], dtype="int32")).dtype == "float32"


# --- gradients ------------------------------------------------------------------------------

@pytest.mark.parametrize("op, x", [
    (lm.rsqrt, X), (lm.log1p, X - 0.4), (lm.abs, SIGNED),
    (lambda t: lm.clip_by_value(t, -1.5, 1.8), SIGNED),  # no element within h of a bound
    (lambda t: lm.pow(t, 3.0), SIGNED),  # negative bases with an integer exponent
    (lambda t: lm.pow(t, -1.5), X),
])
def test_unary_gradients(op, x):
    check_gradients(op, x)


@pytest.mark.parametrize("op", [lm.pow, lm.maximum, lm.minimum, lm.mod])
@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))])
def test_binary_gradients_with_broadcasting(op, shape_a, shape_b):
    rng = np.random.default_rng(3)
    a = rng.uniform(0.6, 2.5, size=shape_a)
    b = rng.uniform(0.6, 2.5, size=shape_b)
    if op in (lm.maximum, lm.minimum):
        # a near 0.7, 1.7 or 2.7 and b near 1.2 or 2.2: never within a finite-difference step.
        a = rng.choice([0.7, 1.7, 2.7], size=shape_a) + rng.uniform(-0.1, 0.1, size=shape_a)
        b = rng.choice([1.2, 2.2], size=shape_b) + rng.uniform(-0.1, 0.1, size=shape_b)
    if op is lm.mod:
        # a / b between 3.1 and 3.9: away from the jumps of mod at whole multiples.
        a = rng.uniform(3.3, 3.7, size=shape_a)
        b = rng.uniform(0.95, 1.05, size=shape_b)
    check_gradients(op, a, b)


def test_pow_exponent_gradient_is_zero_for_non_positive_bases():
    # TF.js: d(a ** b)/db = y · log(a) where a > 0, else 0 (not NaN).
    g = lm.grads(lambda a, b: lm.pow(a, b))([lm.tensor([-2.0, 0.0, 3.0]), lm.tensor([2.0, 2.0, 2.0])])
    np.testing.assert_allclose(g[1].numpy(), [0.0, 0.0, 9 * np.log(3.0)], rtol=1e-6)
    np.testing.assert_allclose(g[0].numpy(), [-4.0, 0.0, 6.0])


def test_abs_gradient_at_zero_is_tfjs_step_minus_one():
    # TF.js: dy · step(x, -1), and step gives alpha (-1) for x <= 0.
    assert lm.grad(lm.abs)(lm.tensor([-2.0, 0.0, 3.0])).array() == [-1.0, -1.0, 1.0]


def test_sign_gradient_is_zero():
    assert lm.grad(lambda x: lm.sign(x) * x)(lm.tensor([-2.0, 3.0])).array() == [-1.0, 1.0]
    assert lm.grad(lm.sign)(lm.tensor([-2.0, 3.0])).array() == [0.0, 0.0]


def test_maximum_and_minimum_send_a_tie_to_a():
    a, b = lm.tensor([1.0, 2.0, 3.0]), lm.tensor([2.0, 2.0, 2.0])
    ga, gb = lm.grads(lambda x, y: lm.maximum(x, y))([a, b])
    assert ga.array() == [0.0, 1.0, 1.0] and gb.array() == [1.0, 0.0, 0.0]
    ga, gb = lm.grads(lambda x, y: lm.minimum(x, y))([a, b])
    assert ga.array() == [1.0, 1.0, 0.0] and gb.array() == [0.0, 0.0, 1.0]


def test_clip_gradient_passes_at_the_bounds():
    g = lm.grad(lambda x: lm.clip_by_value(x, -1, 1))(lm.tensor([-2.0, -1.0, 0.0, 1.0, 2.0]))
    assert g.array() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_floor_div_gradient_is_tfjs_div_gradient():
    # TF.js's FloorDiv gradient is that of a / b, not the zero derivative of the floor.
    a, b = np.array([[7.0, -3.0]]), np.array([[2.0], [4.0]])
    ga, gb = lm.grads(lambda x, y: lm.floor_div(x, y))([lm.tensor(a), lm.tensor(b)])
    np.testing.assert_allclose(ga.numpy(), (1 / b + 0 * a).sum(axis=0, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(gb.numpy(), (-a / b ** 2).sum(axis=1, keepdims=True), rtol=1e-6)


def test_gradients_through_a_variable():
    w = lm.variable(lm.tensor([0.5, -2.0]), name="math_w")
    grads = lm.variable_grads(lambda: lm.abs(w).mul(lm.pow(w, 2.0)).sum())["grads"]
    np.testing.assert_allclose(grads["math_w"].numpy(), 3 * np.array([0.5, -2.0]) * np.abs([0.5, -2.0]))


# --- operators ------------------------------------------------------------------------------

def test_python_operators_map_to_the_ops():
    x = lm.tensor([-2.0, 3.0])
    assert (x ** 2).array() == [4.0, 9.0]
    assert (2 ** x).array() == [0.25, 8.0]
    assert abs(x).array() == [2.0, 3.0]
    assert lm.grad(lambda t: (t ** 3).sum())(x).array() == [12.0, 27.0]


def test_results_do_not_follow_a_variable_assign():
    v = lm.variable(lm.tensor([-1.0, 2.0]))
    outs = [lm.abs(v), lm.clip_by_value(v, -5, 5), lm.maximum(v, -5), v ** 1]
    v.assign(lm.tensor([7.0, 7.0]))
    assert [o.array() for o in outs] == [[1.0, 2.0], [-1.0, 2.0], [-1.0, 2.0], [-1.0, 2.0]]


# --- errors ---------------------------------------------------------------------------------

def test_clip_min_above_max_gives_the_tfjs_error():
    with pytest.raises(ValueError, match=r"^Error in clip: min \(3\) must be less than or equal to max \(2\)\.$"):
        lm.clip_by_value(lm.tensor([1.0]), 3, 2)
    with pytest.raises(ValueError, match=r"min \(0\.5\) must be less than or equal to max \(0\.25\)"):
        lm.clip_by_value(lm.tensor([1.0]), 0.5, 0.25)


def test_clip_bounds_must_be_numbers():
    with pytest.raises(TypeError, match="clip_value_max must be a number, got str"):
        lm.clip_by_value(lm.tensor([1.0]), 0, "1")


def test_shapes_that_do_not_broadcast_are_an_error():
    with pytest.raises(ValueError, match="broadcast"):
        lm.maximum(lm.tensor([1.0, 2.0]), lm.tensor([1.0, 2.0, 3.0]))
