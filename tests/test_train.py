"""lm.train optimizers against numpy transcriptions of TF.js's update rules (float64, written
here from tfjs-core/src/optimizers/*.ts), TF.js's observed values, and their state/config API."""

import itertools

import numpy as np
import pytest

import lamina as lm

STEPS = 20
_names = itertools.count()


def fresh_name(prefix):
    """A Variable name no other test uses (apply_gradients finds variables by name)."""
    return f"{prefix}_{next(_names)}"


# --- numpy references: one step of each TF.js rule on a float64 parameter -------------
# `state` holds the slots under TF.js's slot names; t is the step number, from 1.

def ref_sgd(p, g, state, t, learning_rate):
    return p - learning_rate * g


def ref_momentum(p, g, state, t, learning_rate, momentum, use_nesterov):
    a = state["momentum"] = momentum * state.get("momentum", 0.0) + g
    return p - learning_rate * (g + momentum * a if use_nesterov else a)


def tfjs_power(beta, t):
    """beta^t as TF.js's accBeta variables hold it: float32, multiplied by beta each step.
    (Rounding beta to float32 alone moves 1 − 0.999^t by 1e-5, more than the test's rtol.)"""
    power = np.float32(beta)
    for _ in range(t - 1):
        power = np.float32(power * np.float32(beta))
    return float(power)


def ref_adam(p, g, state, t, learning_rate, beta1, beta2, epsilon):
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    m_hat, v_hat = m / (1 - tfjs_power(beta1, t)), v / (1 - tfjs_power(beta2, t))
    return p - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)


def ref_adamax(p, g, state, t, learning_rate, beta1, beta2, epsilon, decay):
    lr_t = learning_rate / (1 + decay * (t - 1))
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    u = state["v"] = np.maximum(beta2 * state.get("v", 0.0), np.abs(g))
    return p - lr_t / (1 - tfjs_power(beta1, t)) * m / (u + epsilon)


def ref_rmsprop(p, g, state, t, learning_rate, decay, momentum, epsilon, centered):
    ms = state["rms"] = decay * state.get("rms", 0.0) + (1 - decay) * g ** 2
    if centered:
        mg = state["mg"] = decay * state.get("mg", 0.0) + (1 - decay) * g
        denominator = np.sqrt(ms - (mg ** 2 + epsilon))  # TF.js subtracts epsilon here
    else:
        denominator = np.sqrt(ms + epsilon)
    mom = state["momentum"] = momentum * state.get("momentum", 0.0) + learning_rate * g / denominator
    return p - mom


def ref_adagrad(p, g, state, t, learning_rate, initial_accumulator_value):
    acc = state["accumulator"] = state.get("accumulator", initial_accumulator_value) + g ** 2
    return p - learning_rate * g / np.sqrt(acc + 1e-7)


def ref_adadelta(p, g, state, t, learning_rate, rho, epsilon):
    accum_grad, accum_var = state.get("accum_grad", 0.0), state.get("accum_var", 0.0)
    update = np.sqrt(accum_var + epsilon) / np.sqrt(accum_grad + epsilon) * g  # old accum_grad
    state["accum_grad"] = rho * accum_grad + (1 - rho) * g ** 2
    state["accum_var"] = rho * accum_var + (1 - rho) * update ** 2
    return p - learning_rate * update


# TF.js's tf.train.* defaults (tfjs_semantics.md §3.1), written out independently of lamina.
REFERENCES = {
    "sgd": (ref_sgd, {}),
    "momentum": (ref_momentum, {"use_nesterov": False}),
    "adam": (ref_adam, {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}),
    "adamax": (ref_adamax, {"learning_rate": 0.002, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7, "decay": 0.0}),
    "rmsprop": (ref_rmsprop, {"decay": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}),
    "adagrad": (ref_adagrad, {"initial_accumulator_value": 0.1}),
    "adadelta": (ref_adadelta, {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7}),
}

CASES = [
    ("sgd", {"learning_rate": 0.1}),
    ("momentum", {"learning_rate": 0.05, "momentum": 0.9}),
    ("momentum", {"learning_rate": 0.05, "momentum": 0.9, "use_nesterov": True}),
    ("adam", {"learning_rate": 0.05}),
    ("adam", {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-4}),
    ("adamax", {"learning_rate": 0.05}),
    ("adamax", {"learning_rate": 0.05, "decay": 0.1, "beta1": 0.8}),
    ("rmsprop", {"learning_rate": 0.01}),
    ("rmsprop", {"learning_rate": 0.01, "momentum": 0.9}),
    ("rmsprop", {"learning_rate": 0.01, "decay": 0.8, "momentum": 0.5, "centered": True}),
    ("adagrad", {"learning_rate": 0.1}),
    ("adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5}),
    ("adadelta", {"learning_rate": 0.1}),
    ("adadelta", {"learning_rate": 0.5, "rho": 0.9, "epsilon": 1e-6}),
]
CASE_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kwargs.items())}" for name, kwargs in CASES]

# A tiny linear regression: loss = mean((X·w + b − y)²), two variables.
RNG = np.random.default_rng(7)
X = RNG.standard_normal((8, 3)).astype(np.float32)
Y = (X @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * RNG.standard_normal((8, 1))).astype(np.float32)
W0 = np.array([[0.1], [0.2], [-0.1]], np.float32)
B0 = np.array([0.05], np.float32)


def regression_variables(prefix="reg"):
    return lm.variable(W0, name=fresh_name(prefix + "_w")), lm.variable(B0, name=fresh_name(prefix + "_b"))


def regression_loss(w, b):
    x, y = lm.tensor(X), lm.tensor(Y)
    return lambda: (x @ w + b - y).square().mean()


def regression_grads(w, b):
    """d loss / d w and d b in float64, by hand."""
    r = X.astype(np.float64) @ w + b - Y
    dr = 2 * r / len(X)
    return X.T.astype(np.float64) @ dr, dr.sum(axis=0)


def run_reference(name, kwargs, steps):
    rule, defaults = REFERENCES[name]
    hyper = {**defaults, **kwargs}
    w, b = W0.astype(np.float64), B0.astype(np.float64)
    w_state, b_state = {}, {}
    for t in range(1, steps + 1):
        dw, db = regression_grads(w, b)
        w, b = rule(w, dw, w_state, t, **hyper), rule(b, db, b_state, t, **hyper)
    return w, b, w_state, b_state


def make(name, kwargs):
    return getattr(lm.train, name)(**kwargs)


# --- the update rules ---------------------------------------------------------------

@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_twenty_steps_of_minimize_match_the_tfjs_formula(name, kwargs):
    w, b = regression_variables()
    opt = make(name, kwargs)
    loss = regression_loss(w, b)
    first = opt.minimize(loss, return_cost=True).item()
    for _ in range(STEPS - 1):
        opt.minimize(loss)
    ref_w, ref_b, ref_w_state, ref_b_state = run_reference(name, kwargs, STEPS)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b.numpy(), ref_b, rtol=1e-5, atol=1e-7)
    assert opt.iterations == STEPS
    assert loss().item() < first  # it did minimise
    if name == "adamax":
        return  # no get_weights, as in TF.js
    slots = {x["name"]: x["tensor"].numpy() for x in opt.get_weights()[1:]}
    expected = {f"{w.name}/{kind}": value for kind, value in ref_w_state.items()}
    expected.update({f"{b.name}/{kind}": value for kind, value in ref_b_state.items()})
    assert sorted(slots) == sorted(expected)
    for slot_name, value in expected.items():
        np.testing.assert_allclose(slots[slot_name], value, rtol=1e-5, atol=1e-7, err_msg=slot_name)


def test_adam_first_step_matches_tfjs():
    # TF.js: w = 1, f = w², adam(0.1) → 0.9000007 after one step (tfjs_semantics.md §8)
    w = lm.variable(lm.tensor([1.0]), name=fresh_name("adam_check"))
    lm.train.adam(0.1).minimize(lambda: w.square().sum())
    assert w.item() == pytest.approx(0.9000007, abs=1e-7)


def test_updates_write_into_the_variable_buffer_in_place():
    w = lm.variable(lm.tensor([1.0, 2.0]), name=fresh_name("in_place"))
    buffer = w._data
    lm.train.adam(0.1).minimize(lambda: w.square().sum())
    assert w._data is buffer
    assert not np.array_equal(buffer, [1.0, 2.0])


def test_minimize_updates_only_the_variables_f_touches():
    a = lm.variable(lm.tensor([1.0, 2.0]), name=fresh_name("touched"))
    b = lm.variable(lm.tensor([3.0]), name=fresh_name("untouched"))
    opt = lm.train.adam(0.1)
    opt.minimize(lambda: a.square().sum())
    assert b.array() == [3.0]
    assert a.array() != [1.0, 2.0]
    assert [x["name"] for x in opt.get_weights()] == ["iter", f"{a.name}/m", f"{a.name}/v"]


def test_minimize_with_var_list_updates_only_those_variables():
    a = lm.variable(lm.tensor([1.0]), name=fresh_name("listed"))
    b = lm.variable(lm.tensor([2.0]), name=fresh_name("not_listed"))
    opt = lm.train.sgd(0.1)
    opt.minimize(lambda: (a * b).sum(), var_list=[a])
    assert a.item() == pytest.approx(1.0 - 0.1 * 2.0)
    assert b.item() == 2.0


def test_var_list_entries_f_does_not_touch_get_slots_but_no_update():
    # TF.js creates the slots of every listed variable, then skips the null gradients.
    a = lm.variable(lm.tensor([1.0]), name=fresh_name("used"))
    b = lm.variable(lm.tensor([2.0, 3.0]), name=fresh_name("unused"))
    opt = lm.train.momentum(0.1, 0.9)
    opt.minimize(lambda: a.square().sum(), var_list=[a, b])
    assert b.array() == [2.0, 3.0]
    weights = opt.get_weights()
    assert [x["name"] for x in weights] == ["iter", f"{a.name}/momentum", f"{b.name}/momentum"]
    assert weights[2]["tensor"].array() == [0.0, 0.0]


def test_minimize_returns_the_cost_only_when_asked():
    w = lm.variable(lm.tensor([3.0]), name=fresh_name("cost"))
    opt = lm.train.sgd(0.1)
    assert opt.minimize(lambda: w.square().sum()) is None
    cost = opt.minimize(lambda: w.square().sum(), return_cost=True)
    assert isinstance(cost, lm.Tensor)
    assert cost.item() == pytest.approx(2.4 ** 2)  # the value before this step's update
    assert w.item() == pytest.approx(1.92)


def test_compute_gradients_does_not_update():
    w = lm.variable(lm.tensor([3.0]), name=fresh_name("compute"))
    opt = lm.train.sgd(0.1)
    out = opt.compute_gradients(lambda: w.square().sum())
    assert out["value"].item() == 9.0 and out["grads"][w.name].array() == [6.0]
    assert w.item() == 3.0 and opt.iterations == 0


# --- apply_gradients ----------------------------------------------------------------

def test_apply_gradients_takes_a_dict_and_a_list_of_named_tensors():
    w = lm.variable(lm.tensor([1.0, 2.0]), name=fresh_name("apply_w"))
    b = lm.variable(lm.tensor([0.5]), name=fresh_name("apply_b"))
    opt = lm.train.sgd(0.5)
    opt.apply_gradients({w.name: lm.tensor([1.0, -1.0]), b.name: np.array([2.0])})
    np.testing.assert_array_equal(w.numpy(), [0.5, 2.5])
    np.testing.assert_array_equal(b.numpy(), [-0.5])
    opt.apply_gradients([{"name": w.name, "tensor": [2.0, 2.0]}, {"name": b.name, "tensor": None}])
    np.testing.assert_array_equal(w.numpy(), [-0.5, 1.5])
    np.testing.assert_array_equal(b.numpy(), [-0.5])  # a None gradient is skipped
    assert opt.iterations == 2


def test_apply_gradients_with_adam_matches_the_reference():
    w = lm.variable(lm.tensor([1.0, -1.0]), name=fresh_name("adam_apply"))
    opt = lm.train.adam(0.1)
    p, state = np.array([1.0, -1.0]), {}
    for t, g in enumerate([[0.5, 1.0], [-0.2, 3.0], [1.0, 1.0]], start=1):
        opt.apply_gradients([{"name": w.name, "tensor": lm.tensor(g)}])
        p = ref_adam(p, np.array(g), state, t, 0.1, 0.9, 0.999, 1e-7)
    np.testing.assert_allclose(w.numpy(), p, rtol=1e-6)


def test_apply_gradients_errors_name_the_problem_and_change_nothing():
    w = lm.variable(lm.tensor([1.0, 2.0]), name=fresh_name("err_w"))
    opt = lm.train.sgd(0.1)
    with pytest.raises(ValueError, match="no live Variable is named 'no_such_variable'"):
        opt.apply_gradients({"no_such_variable": [1.0]})
    other = lm.variable(lm.zeros([2]), name=fresh_name("err_other"))
    with pytest.raises(ValueError, match=r"gradient for 'err_other_\d+' has shape \[3\], the variable has shape \[2\]"):
        opt.apply_gradients([{"name": w.name, "tensor": [1.0, 1.0]}, {"name": other.name, "tensor": [1.0, 1.0, 1.0]}])
    assert w.array() == [1.0, 2.0]  # the good gradient before the bad one was not applied
    assert opt.iterations == 0
    with pytest.raises(TypeError, match="grads must be a dict"):
        opt.apply_gradients(lm.tensor([1.0]))
    with pytest.raises(TypeError, match="'name' and 'tensor'"):
        opt.apply_gradients([(w.name, [1.0, 1.0])])
    n = lm.variable(lm.tensor([1, 2], dtype="int32"), name=fresh_name("int_var"))
    with pytest.raises(TypeError, match="optimizers update float32 variables"):
        opt.apply_gradients({n.name: [1.0, 1.0]})


def test_a_gradient_that_is_the_variable_itself_is_safe():
    w = lm.variable(lm.tensor([1.0, 2.0]), name=fresh_name("alias"))
    lm.train.adam(0.1).apply_gradients({w.name: w})
    np.testing.assert_allclose(w.numpy(), ref_adam(np.array([1.0, 2.0]), np.array([1.0, 2.0]), {}, 1,
                                                   0.1, 0.9, 0.999, 1e-7), rtol=1e-6)


# --- iterations and learning rate ---------------------------------------------------

def test_iterations_count_every_apply_gradients():
    w = lm.variable(lm.tensor([1.0]), name=fresh_name("iters"))
    opt = lm.train.rmsprop(0.01)
    assert opt.iterations == 0
    opt.minimize(lambda: w.square().sum())
    opt.apply_gradients({w.name: [1.0]})
    opt.apply_gradients({w.name: None})
    assert opt.iterations == 3
    assert opt.get_weights()[0]["tensor"].item() == 3


def test_learning_rate_change_between_steps_takes_effect():
    w = lm.variable(lm.tensor([1.0]), name=fresh_name("lr_sgd"))
    opt = lm.train.sgd(0.1)
    opt.minimize(lambda: w.square().sum())
    opt.learning_rate = 0.25
    opt.minimize(lambda: w.square().sum())
    assert w.item() == pytest.approx(0.8 * 0.5)
    assert opt.get_config() == {"learningRate": 0.25}

    v = lm.variable(lm.tensor([1.0, -2.0]), name=fresh_name("lr_adam"))
    adam = lm.train.adam(0.1)
    p, state = np.array([1.0, -2.0]), {}
    for t, lr in enumerate([0.1, 0.1, 0.01, 0.3], start=1):
        adam.learning_rate = lr
        adam.minimize(lambda: v.square().sum())
        p = ref_adam(p, 2 * p, state, t, lr, 0.9, 0.999, 1e-7)
    np.testing.assert_allclose(v.numpy(), p, rtol=1e-6)


# --- state as weights ---------------------------------------------------------------

SLOT_KINDS = {
    "sgd": [], "momentum": ["momentum"], "adam": ["m", "v"], "rmsprop": ["rms", "momentum"],
    "adagrad": ["accumulator"], "adadelta": ["accum_grad", "accum_var"],
}


@pytest.mark.parametrize("name, kwargs", [c for c in CASES if c[0] != "adamax"],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if c[0] != "adamax"])
def test_get_weights_names_order_and_shapes(name, kwargs):
    w, b = regression_variables("gw")
    opt = make(name, kwargs)
    opt.minimize(regression_loss(w, b))
    opt.minimize(regression_loss(w, b))
    kinds = SLOT_KINDS[name] + (["mg"] if kwargs.get("centered") else [])
    weights = opt.get_weights()
    # TF.js: iter first, then slots grouped by kind, variables in order within each kind
    assert [x["name"] for x in weights] == ["iter"] + [f"{v.name}/{k}" for k in kinds for v in (w, b)]
    assert [x["tensor"].shape for x in weights] == [[]] + [[3, 1], [1]] * len(kinds)
    assert [x["tensor"].dtype for x in weights] == ["int32"] + ["float32"] * 2 * len(kinds)
    assert weights[0]["tensor"].item() == 2


def test_get_weights_returns_copies():
    w = lm.variable(lm.tensor([1.0]), name=fresh_name("copies"))
    opt = lm.train.momentum(0.1, 0.9)
    opt.minimize(lambda: w.square().sum())
    before = opt.get_weights()[1]["tensor"].numpy()
    opt.minimize(lambda: w.square().sum())
    np.testing.assert_array_equal(before, [2.0])


def test_adagrad_accumulator_starts_at_the_initial_value():
    w = lm.variable(lm.tensor([1.0, 2.0]), name=fresh_name("adagrad_init"))
    opt = lm.train.adagrad(0.1, initial_accumulator_value=0.3)
    opt.apply_gradients({w.name: None})
    np.testing.assert_allclose(opt.get_weights()[1]["tensor"].numpy(), [0.3, 0.3], rtol=1e-7)


def test_adamax_state_is_not_available_as_in_tfjs():
    opt = lm.train.adamax()
    with pytest.raises(NotImplementedError, match=r"^get_weights\(\) is not implemented for Adamax yet\.$"):
        opt.get_weights()
    with pytest.raises(NotImplementedError, match=r"^set_weights\(\) is not implemented for Adamax yet\.$"):
        opt.set_weights([])


@pytest.mark.parametrize("name, kwargs", [c for c in CASES if c[0] != "adamax"],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if c[0] != "adamax"])
def test_set_weights_restores_the_state_and_training_continues_identically(name, kwargs):
    w, b = regression_variables("sw")
    original = make(name, kwargs)
    loss = regression_loss(w, b)
    for _ in range(3):
        original.minimize(loss)
    saved_state = original.get_weights()
    saved_w, saved_b = w.numpy(), b.numpy()
    original.minimize(loss)
    after_original = w.numpy(), b.numpy()

    w.assign(saved_w)
    b.assign(saved_b)
    restored = type(original).from_config(original.get_config())
    restored.set_weights(saved_state)
    assert restored.iterations == 3
    restored.minimize(loss)
    # Adam recomputes beta^t as one pow (as TF.js does) where training multiplied step by
    # step, so it may differ in the last bit; everything else is restored exactly.
    check = (lambda a, e: np.testing.assert_allclose(a, e, rtol=1e-6)) if name == "adam" \
        else np.testing.assert_array_equal
    check(w.numpy(), after_original[0])
    check(b.numpy(), after_original[1])
    for x, y in zip(restored.get_weights(), original.get_weights()):
        assert x["name"] == y["name"]
        check(x["tensor"].numpy(), y["tensor"].numpy())


def test_set_weights_reaches_a_renamed_variable_by_position():
    # A model reloaded in the same process gets kernel_1 for kernel; TF.js matches saved
    # slots to variables by position, so the saved state still applies.
    old = lm.variable(lm.tensor([1.0, -1.0]), name=fresh_name("kernel"))
    original = lm.train.adam(0.1)
    original.minimize(lambda: old.square().sum())
    state = original.get_weights()
    renamed = lm.variable(old, name=old.name + "_1")
    original.minimize(lambda: old.square().sum())

    restored = lm.train.adam(0.1)
    restored.set_weights(state)
    restored.minimize(lambda: renamed.square().sum())
    np.testing.assert_allclose(renamed.numpy(), old.numpy(), rtol=1e-6)
    assert [x["name"] for x in restored.get_weights()] == [x["name"] for x in state]  # TF.js keeps the saved names


def test_set_weights_errors():
    adam = lm.train.adam()
    iter_ = {"name": "iter", "tensor": lm.scalar(1, "int32")}
    m = {"name": "x/m", "tensor": lm.zeros([2])}
    v = {"name": "x/v", "tensor": lm.zeros([2])}
    with pytest.raises(ValueError, match="at least the 'iter' weight"):
        adam.set_weights([])
    with pytest.raises(ValueError, match="a multiple of 2 weights; got 3"):
        adam.set_weights([iter_, m, v, m])
    with pytest.raises(ValueError, match="expected a 'm' slot named '<variable name>/m' here, got 'x/v'"):
        adam.set_weights([iter_, v, m])
    with pytest.raises(ValueError, match="must have one shape"):
        adam.set_weights([iter_, m, {"name": "x/v", "tensor": lm.zeros([3])}])
    with pytest.raises(ValueError, match="'iter', one integer >= 0"):
        adam.set_weights([{"name": "iter", "tensor": lm.scalar(-1, "int32")}, m, v])
    with pytest.raises(ValueError, match="^SGD optimizer does not have settable weights.$"):
        lm.train.sgd(0.1).set_weights([iter_, m])
    with pytest.raises(TypeError, match="'name' and 'tensor'"):
        adam.set_weights([lm.scalar(1, "int32")])
    assert adam.iterations == 0  # nothing was half-set

    x = lm.variable(lm.zeros([3]), name="x")
    adam.set_weights([iter_, m, v])
    with pytest.raises(ValueError, match=r"optimizer state x/m, x/v has shape \[2\] but variable 'x' has shape \[3\]"):
        adam.apply_gradients({x.name: [1.0, 1.0, 1.0]})


# --- config -------------------------------------------------------------------------

DEFAULT_CONFIGS = [  # TF.js's class names and getConfig() of the factories' defaults (§3.1)
    (lambda: lm.train.sgd(0.01), "SGD", {"learningRate": 0.01}),
    (lambda: lm.train.momentum(0.1, 0.9), "Momentum", {"learningRate": 0.1, "momentum": 0.9, "useNesterov": False}),
    (lambda: lm.train.adam(), "Adam", {"learningRate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}),
    (lambda: lm.train.adamax(), "Adamax",
     {"learningRate": 0.002, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7, "decay": 0.0}),
    (lambda: lm.train.rmsprop(0.001), "RMSProp",
     {"learningRate": 0.001, "decay": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}),
    (lambda: lm.train.adagrad(0.01), "Adagrad", {"learningRate": 0.01, "initialAccumulatorValue": 0.1}),
    (lambda: lm.train.adadelta(), "Adadelta", {"learningRate": 0.001, "rho": 0.95, "epsilon": 1e-7}),
]


@pytest.mark.parametrize("factory, class_name, config", DEFAULT_CONFIGS, ids=[c[1] for c in DEFAULT_CONFIGS])
def test_defaults_class_names_and_config(factory, class_name, config):
    opt = factory()
    assert opt.get_class_name() == class_name
    assert opt.get_config() == config
    assert list(opt.get_config()) == list(config)  # TF.js's key order


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_config_round_trip(name, kwargs):
    opt = make(name, kwargs)
    copy = type(opt).from_config(opt.get_config())
    assert type(copy) is type(opt) and copy.get_config() == opt.get_config()
    by_name = lm.train.optimizer_from_config(opt.get_class_name(), opt.get_config())
    assert type(by_name) is type(opt) and by_name.get_config() == opt.get_config()
    expected = {**REFERENCES[name][1], **kwargs}
    for argument, value in expected.items():
        assert getattr(opt, argument) == value


def test_from_config_errors():
    with pytest.raises(ValueError, match="unknown config key\\(s\\) 'learning_rate'; expected some of 'learningRate'"):
        lm.train.SGD.from_config({"learning_rate": 0.1})
    with pytest.raises(TypeError, match="config must be a dict"):
        lm.train.Adam.from_config([0.1])
    with pytest.raises(ValueError, match="Unknown optimizer class 'Nadam'; expected one of SGD, Momentum"):
        lm.train.optimizer_from_config("Nadam", {})


# --- hyperparameter validation ------------------------------------------------------

BAD_HYPERPARAMETERS = [
    (lambda: lm.train.sgd(None), TypeError, "SGD: learning_rate must be a number, got None"),
    (lambda: lm.train.sgd("0.1"), TypeError, "SGD: learning_rate must be a number, got '0.1'"),
    (lambda: lm.train.sgd(True), TypeError, "SGD: learning_rate must be a number, got True"),
    (lambda: lm.train.sgd(float("nan")), ValueError, "SGD: learning_rate must be a finite number, got nan"),
    (lambda: lm.train.adam(float("inf")), ValueError, "Adam: learning_rate must be a finite number, got inf"),
    (lambda: lm.train.momentum(0.1, -0.5), ValueError, "Momentum: momentum must be a finite number >= 0, got -0.5"),
    (lambda: lm.train.momentum(0.1, 0.9, use_nesterov=1), TypeError,
     "Momentum: use_nesterov must be True or False, got 1"),
    (lambda: lm.train.adam(beta1=1.0), ValueError, r"Adam: beta1 must be a number in \[0, 1\), got 1.0"),
    (lambda: lm.train.adam(beta2=-0.1), ValueError, r"Adam: beta2 must be a number in \[0, 1\), got -0.1"),
    (lambda: lm.train.adam(epsilon=-1e-8), ValueError, "Adam: epsilon must be a finite number >= 0, got -1e-08"),
    (lambda: lm.train.adamax(beta1=1.5), ValueError, r"Adamax: beta1 must be a number in \[0, 1\)"),
    (lambda: lm.train.adamax(decay=-1), ValueError, "Adamax: decay must be a finite number >= 0, got -1.0"),
    (lambda: lm.train.rmsprop(None), ValueError, r"^learning_rate for RMSPropOptimizer must be defined\.$"),
    (lambda: lm.train.rmsprop(0.1, decay=1.5), ValueError, r"RMSProp: decay must be a number in \[0, 1\], got 1.5"),
    (lambda: lm.train.rmsprop(0.1, momentum=-1), ValueError, "RMSProp: momentum must be a finite number >= 0"),
    (lambda: lm.train.rmsprop(0.1, centered="yes"), TypeError, "RMSProp: centered must be True or False, got 'yes'"),
    (lambda: lm.train.adagrad(0.1, initial_accumulator_value=-1), ValueError,
     "Adagrad: initial_accumulator_value must be a finite number >= 0, got -1.0"),
    (lambda: lm.train.adadelta(rho=2), ValueError, r"Adadelta: rho must be a number in \[0, 1\], got 2.0"),
]


@pytest.mark.parametrize("build, error, message", BAD_HYPERPARAMETERS, ids=[m[:40] for _, _, m in BAD_HYPERPARAMETERS])
def test_bad_hyperparameters_raise(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_setting_a_bad_learning_rate_raises_and_keeps_the_old_one():
    opt = lm.train.adam(0.01)
    with pytest.raises(ValueError, match="Adam: learning_rate must be a finite number, got inf"):
        opt.learning_rate = float("inf")
    assert opt.learning_rate == 0.01


def test_hyperparameters_accept_numpy_and_int_numbers():
    opt = lm.train.momentum(np.float32(0.5), 1)
    assert opt.get_config() == {"learningRate": 0.5, "momentum": 1.0, "useNesterov": False}
    assert isinstance(opt.get_config()["learningRate"], float)


# --- scalar (0-d) variables, as TF.js's polynomial-regression example uses -----------

POLY_X = np.linspace(-1, 1, 16)
POLY_Y = 0.7 * POLY_X ** 2 - 0.4 * POLY_X + 0.2  # y = a·x² + b·x + c with a, b, c = 0.7, -0.4, 0.2
POLY_START = (0.1, 0.3, -0.2)


def polynomial_variables(prefix):
    return [lm.variable(lm.scalar(v), name=fresh_name(f"{prefix}_{k}")) for k, v in zip("abc", POLY_START)]


def polynomial_loss(a, b, c):
    x, y = lm.tensor(POLY_X), lm.tensor(POLY_Y)
    return lambda: (a * x.square() + b * x + c - y).square().mean()


def polynomial_grads(a, b, c):
    """d loss / d a, b, c in float64, by hand."""
    r = a * POLY_X ** 2 + b * POLY_X + c - POLY_Y
    dr = 2 * r / len(POLY_X)
    return (dr * POLY_X ** 2).sum(), (dr * POLY_X).sum(), dr.sum()


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_scalar_variables_train_with_every_optimizer(name, kwargs):
    # Each 0-d variable gets a 0-d gradient and 0-d slots (a 0-d gradient used to be made
    # 1-d: "the gradient for 'a' has shape [1], the variable has shape []").
    variables = polynomial_variables("poly")
    opt = make(name, kwargs)
    loss = polynomial_loss(*variables)
    for _ in range(STEPS):
        opt.minimize(loss)
    rule, defaults = REFERENCES[name]
    hyper = {**defaults, **kwargs}
    params, states = list(POLY_START), [{}, {}, {}]
    for t in range(1, STEPS + 1):
        grads = polynomial_grads(*params)
        params = [rule(p, g, s, t, **hyper) for p, g, s in zip(params, grads, states)]
    for v, expected in zip(variables, params):
        assert v.shape == [] and v.rank == 0
        np.testing.assert_allclose(v.numpy(), expected, rtol=1e-5, atol=1e-6)
    if name == "adamax":
        return  # no get_weights, as in TF.js
    weights = opt.get_weights()
    assert [x["tensor"].shape for x in weights] == [[]] * len(weights)
    for state, v in zip(states, variables):
        for kind, value in state.items():
            slot = next(x["tensor"] for x in weights if x["name"] == f"{v.name}/{kind}")
            np.testing.assert_allclose(slot.numpy(), value, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name, kwargs", [c for c in CASES if c[0] != "adamax"],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if c[0] != "adamax"])
def test_scalar_variable_state_round_trips_through_set_weights(name, kwargs):
    a, b, c = polynomial_variables("poly_sw")
    loss = polynomial_loss(a, b, c)
    original = make(name, kwargs)
    for _ in range(3):
        original.minimize(loss)
    state = original.get_weights()
    start = [v.numpy() for v in (a, b, c)]
    original.minimize(loss)
    after = [v.numpy() for v in (a, b, c)]
    for v, value in zip((a, b, c), start):
        v.assign(value)
    restored = type(original).from_config(original.get_config())
    restored.set_weights(state)
    restored.minimize(loss)
    for v, expected in zip((a, b, c), after):
        np.testing.assert_allclose(v.numpy(), expected, rtol=1e-6)


def test_polynomial_regression_with_scalar_variables_converges():
    # TF.js's polynomial-regression example: three scalar variables, sgd, mean squared error.
    a, b, c = polynomial_variables("poly_fit")
    opt = lm.train.sgd(0.5)
    loss = polynomial_loss(a, b, c)
    for _ in range(300):
        opt.minimize(loss)
    np.testing.assert_allclose([a.item(), b.item(), c.item()], [0.7, -0.4, 0.2], atol=1e-3)
    assert loss().item() < 1e-6


def test_variable_grads_and_apply_gradients_with_a_scalar_variable():
    x = lm.variable(lm.scalar(3.0), name=fresh_name("scalar_x"))
    out = lm.variable_grads(lambda: x.square())
    assert out["grads"][x.name].shape == [] and out["grads"][x.name].item() == 6.0
    opt = lm.train.sgd(0.1)
    opt.minimize(lambda: x.square())
    assert x.shape == [] and x.item() == pytest.approx(3.0 - 0.1 * 6.0)
    opt.apply_gradients({x.name: lm.scalar(1.0)})  # a Tensor
    opt.apply_gradients([{"name": x.name, "tensor": 1.0}])  # a plain number is 0-d too
    assert x.item() == pytest.approx(2.4 - 0.2)
    with pytest.raises(ValueError, match=r"has shape \[1\], the variable has shape \[\]"):
        opt.apply_gradients({x.name: [1.0]})
