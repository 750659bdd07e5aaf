"""Optimizer update kernels against a numpy float32 transcription of TF.js's formulas.

Each reference below follows tfjs-core/src/optimizers/<name>_optimizer.ts operation by
operation: every op is a float32 op, and every JS number becomes a float32 scalar where TF.js
turns it into a tensor (so 1 - beta1 is computed in double first). Run from the same start
for several steps, lamina must agree closely, and in fact bit for bit.
"""

import numpy as np
import pytest

from lamina import _core

F = np.float32
STEPS = 5
SHAPES = [(1,), (37, 29), (3, 5, 7), (40_000,)]  # 40 000 > one task's chunk: threads split it


def tfjs_sgd(w, g, t, lr):
    return {"w": F(-lr) * g + w}


def tfjs_momentum(w, g, t, accum, lr, momentum, use_nesterov):
    a = F(momentum) * accum + g
    if use_nesterov:
        w = F(-lr) * (g + a * F(momentum)) + w
    else:
        w = F(-lr) * a + w
    return {"w": w, "accum": a}


def float32_power(beta, t):
    """beta^t as TF.js's accBeta variable holds it: a float32 multiplied by beta each step."""
    p = F(beta)
    for _ in range(t - 1):
        p = F(p * F(beta))
    return p


def tfjs_adam(w, g, t, m, v, lr, beta1, beta2, epsilon):
    m = m * F(beta1) + g * F(1 - beta1)
    v = v * F(beta2) + np.square(g) * F(1 - beta2)
    m_hat = m / (F(1) - float32_power(beta1, t))
    v_hat = v / (F(1) - float32_power(beta2, t))
    w = (m_hat / (np.sqrt(v_hat) + F(epsilon))) * F(-lr) + w
    return {"w": w, "m": m, "v": v}


def tfjs_adamax(w, g, t, m, u, lr, beta1, beta2, epsilon, decay):
    iteration = F(t - 1)  # TF.js's float32 `iteration` variable before this step
    lr_t = F(-lr) / (iteration * F(decay) + F(1))
    m = m * F(beta1) + g * F(1 - beta1)
    u = np.maximum(u * F(beta2), np.abs(g))
    w = (lr_t / (F(1) - float32_power(beta1, t))) * (m / (u + F(epsilon))) + w
    return {"w": w, "m": m, "u": u}


def tfjs_rmsprop(w, g, t, ms, mom, lr, decay, momentum, epsilon, centered, mg=None):
    ms = ms * F(decay) + np.square(g) * F(1 - decay)
    out = {}
    if centered:
        mg = mg * F(decay) + g * F(1 - decay)
        mom = mom * F(momentum) + (g * F(lr)) / np.sqrt(ms - (np.square(mg) + F(epsilon)))
        out["mg"] = mg
    else:
        mom = mom * F(momentum) + (g * F(lr)) / np.sqrt(ms + F(epsilon))
    out.update(w=w - mom, ms=ms, mom=mom)
    return out


def tfjs_adagrad(w, g, t, accum, lr, epsilon):
    accum = accum + np.square(g)
    return {"w": (g / np.sqrt(accum + F(epsilon))) * F(-lr) + w, "accum": accum}


def tfjs_adadelta(w, g, t, accum_grad, accum_update, lr, rho, epsilon):
    d = (np.sqrt(accum_update + F(epsilon)) / np.sqrt(accum_grad + F(epsilon))) * g
    return {
        "w": d * F(-lr) + w,
        "accum_grad": accum_grad * F(rho) + np.square(g) * F(1 - rho),
        "accum_update": accum_update * F(rho) + np.square(d) * F(1 - rho),
    }


# name -> (lamina function, reference, slots with their initial values, hyperparameters,
#          per-step hyperparameters computed from t)
CASES = {
    "sgd": (_core.sgd_update, tfjs_sgd, {}, {"lr": 0.05}, None),
    "momentum": (_core.momentum_update, tfjs_momentum, {"accum": 0.0},
                 {"lr": 0.05, "momentum": 0.9, "use_nesterov": False}, None),
    "nesterov": (_core.momentum_update, tfjs_momentum, {"accum": 0.0},
                 {"lr": 0.05, "momentum": 0.9, "use_nesterov": True}, None),
    "adam": (_core.adam_update, tfjs_adam, {"m": 0.0, "v": 0.0},
             {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7},
             lambda t: {"beta1_power": float(float32_power(0.9, t)),
                        "beta2_power": float(float32_power(0.999, t))}),
    "adamax": (_core.adamax_update, tfjs_adamax, {"m": 0.0, "u": 0.0},
               {"lr": 0.02, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7, "decay": 0.3},
               lambda t: {"step": t, "beta1_power": float(float32_power(0.9, t))}),
    "rmsprop": (_core.rmsprop_update, tfjs_rmsprop, {"ms": 0.0, "mom": 0.0},
                {"lr": 0.01, "decay": 0.9, "momentum": 0.5, "epsilon": 1e-7, "centered": False}, None),
    "rmsprop_centered": (_core.rmsprop_update, tfjs_rmsprop, {"ms": 0.0, "mom": 0.0, "mg": 0.0},
                         {"lr": 0.01, "decay": 0.9, "momentum": 0.5, "epsilon": 1e-7,
                          "centered": True}, None),
    "adagrad": (_core.adagrad_update, tfjs_adagrad, {"accum": 0.1}, {"lr": 0.1, "epsilon": 1e-7}, None),
    "adadelta": (_core.adadelta_update, tfjs_adadelta, {"accum_grad": 0.0, "accum_update": 0.0},
                 {"lr": 1.0, "rho": 0.95, "epsilon": 1e-6}, None),
}

POSITIONAL_SLOTS = {"mg"}  # passed by keyword to rmsprop_update


def run_lamina(name, w, grads):
    fn, _, slot_init, hyper, per_step = CASES[name]
    w = w.copy()
    slots = {k: np.full(w.shape, v, np.float32) for k, v in slot_init.items()}
    for t, g in enumerate(grads, start=1):
        positional = [slots[k] for k in slots if k not in POSITIONAL_SLOTS]
        keywords = {k: slots[k] for k in slots if k in POSITIONAL_SLOTS}
        fn(w, g, *positional, **keywords, **hyper, **(per_step(t) if per_step else {}))
    return {"w": w, **slots}


def run_reference(name, w, grads):
    _, ref, slot_init, hyper, _ = CASES[name]
    state = {"w": w.copy(), **{k: np.full(w.shape, v, np.float32) for k, v in slot_init.items()}}
    for t, g in enumerate(grads, start=1):
        state.update(ref(g=g, t=t, **state, **hyper))
    return state


def random_problem(rng, shape):
    w = rng.uniform(-1, 1, shape).astype(np.float32)
    # Magnitudes away from 0 keep centered RMSProp's ms − (mg² + ε) positive.
    grads = [(rng.choice([-1, 1], shape) * rng.uniform(0.05, 1, shape)).astype(np.float32)
             for _ in range(STEPS)]
    return w, grads


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_tfjs_float32_formula(each_isa, each_thread_count, rng, name, shape):
    w, grads = random_problem(rng, shape)
    got = run_lamina(name, w, grads)
    want = run_reference(name, w, grads)
    assert set(got) == set(want)
    for key in want:
        assert want[key].dtype == np.float32
        np.testing.assert_allclose(got[key], want[key], rtol=1e-6, atol=1e-7, err_msg=f"{name}: {key}")
        # Same float32 operations in the same order: the bits agree too.
        np.testing.assert_array_equal(got[key], want[key], err_msg=f"{name}: {key}")


def test_adam_tfjs_check_value():
    # TF.js: w = 1, f = w², lr 0.1, one Adam step → 0.9000007 (g = 2w = 2).
    w = np.ones(1, np.float32)
    m, v = np.zeros(1, np.float32), np.zeros(1, np.float32)
    _core.adam_update(w, 2 * w, m, v, lr=0.1, beta1=0.9, beta2=0.999, epsilon=1e-7,
                      beta1_power=0.9, beta2_power=0.999)
    assert w[0] == np.float32(0.9000007)


def test_same_bits_at_one_and_two_threads(rng):
    w, grads = random_problem(rng, (100_003,))
    old = _core.get_num_threads()
    try:
        _core.set_num_threads(1)
        one = run_lamina("adam", w, grads)
        _core.set_num_threads(2)
        two = run_lamina("adam", w, grads)
        again = run_lamina("adam", w, grads)
    finally:
        _core.set_num_threads(old)
    for key in one:
        assert np.array_equal(one[key], two[key]) and np.array_equal(two[key], again[key])


def test_zero_dimensional_and_empty_buffers():
    w = np.array(1.0, np.float32)
    _core.sgd_update(w, np.array(2.0, np.float32), lr=0.5)
    assert w == 0.0
    e = np.zeros((0, 3), np.float32)
    _core.adam_update(e, e.copy(), e.copy(), e.copy(), lr=0.1, beta1=0.9, beta2=0.999,
                      epsilon=1e-7, beta1_power=0.9, beta2_power=0.999)


def test_underflowed_beta_power_is_accepted():
    # A float32 β^t reaches 0 after enough steps (0.9^t underflows near t = 1000).
    w = np.ones(3, np.float32)
    m, v = np.zeros(3, np.float32), np.zeros(3, np.float32)
    _core.adam_update(w, w.copy(), m, v, lr=0.1, beta1=0.9, beta2=0.999, epsilon=1e-7,
                      beta1_power=0.0, beta2_power=0.0)
    assert np.all(np.isfinite(w))


# ---- Bad inputs ---------------------------------------------------------------------------

ADAM = dict(lr=0.1, beta1=0.9, beta2=0.999, epsilon=1e-7, beta1_power=0.9, beta2_power=0.999)


def adam_buffers(shape=(4, 3)):
    return [np.zeros(shape, np.float32) for _ in range(4)]


def test_wrong_dtype_is_a_type_error():
    w, g, m, v = adam_buffers()
    with pytest.raises(TypeError, match="g must have dtype float32, got float64"):
        _core.adam_update(w, g.astype(np.float64), m, v, **ADAM)
    with pytest.raises(TypeError, match="accum must be a numpy.ndarray of float32, got list"):
        _core.momentum_update(w, g, [0.0] * 12, lr=0.1, momentum=0.9)


def test_non_contiguous_is_a_value_error():
    w, g, m, v = adam_buffers()
    strided = np.zeros((4, 6), np.float32)[:, ::2]
    with pytest.raises(ValueError, match=r"m must be C-contiguous, got a strided array of shape \(4, 3\)"):
        _core.adam_update(w, g, strided, v, **ADAM)


def test_wrong_shape_is_a_value_error():
    w, g, m, v = adam_buffers()
    with pytest.raises(ValueError, match=r"v must have shape \(4, 3\) to match w of shape \(4, 3\), got \(3, 4\)"):
        _core.adam_update(w, g, m, v.reshape(3, 4), **ADAM)
    with pytest.raises(ValueError, match=r"g must have shape \(4, 3\) to match w of shape \(4, 3\), got \(12,\)"):
        _core.sgd_update(w, g.ravel(), lr=0.1)


def test_read_only_weights_or_slot_is_a_value_error():
    w, g, m, v = adam_buffers()
    v.setflags(write=False)
    with pytest.raises(ValueError, match="v must be a writeable array, got a read-only one"):
        _core.adam_update(w, g, m, v, **ADAM)
    w.setflags(write=False)
    with pytest.raises(ValueError, match="w must be a writeable array, got a read-only one"):
        _core.sgd_update(w, g, lr=0.1)


def test_aliasing_is_refused():
    w, g, m, v = adam_buffers()
    with pytest.raises(ValueError, match="w must not share memory with g"):
        _core.sgd_update(w, w, lr=0.1)
    with pytest.raises(ValueError, match="m must not share memory with g"):
        _core.adam_update(w, g, g, v, **ADAM)
    with pytest.raises(ValueError, match="v must not share memory with m"):
        _core.adam_update(w, g, m, m, **ADAM)
    with pytest.raises(ValueError, match="accum must not share memory with w"):
        _core.adagrad_update(w, g, w, lr=0.1, epsilon=1e-7)
    big = np.zeros(20, np.float32)  # overlapping views, not the same array
    with pytest.raises(ValueError, match="accum_update must not share memory with accum_grad"):
        _core.adadelta_update(np.zeros(10, np.float32), np.zeros(10, np.float32), big[:10], big[5:15],
                              lr=1.0, rho=0.95, epsilon=1e-6)


@pytest.mark.parametrize("key,value,message", [
    ("lr", float("nan"), "lr must be a finite number, got nan"),
    ("lr", float("inf"), "lr must be a finite number, got inf"),
    ("beta1", 1.0, r"beta1 must be in \[0, 1\), got 1"),
    ("beta2", -0.1, r"beta2 must be in \[0, 1\), got -0.1"),
    ("epsilon", -1e-7, "epsilon must be a finite number >= 0"),
    ("beta1_power", 1.0, r"beta1_power must be in \[0, 1\), got 1"),
    ("beta2_power", float("nan"), r"beta2_power must be in \[0, 1\), got nan"),
])
def test_bad_adam_hyperparameter(key, value, message):
    with pytest.raises(ValueError, match=message):
        _core.adam_update(*adam_buffers(), **(ADAM | {key: value}))


def test_bad_hyperparameters_of_the_other_rules():
    w, g, a, b = adam_buffers()
    with pytest.raises(ValueError, match="momentum must be a finite number >= 0, got -0.5"):
        _core.momentum_update(w, g, a, lr=0.1, momentum=-0.5)
    adamax = dict(lr=0.1, beta1=0.9, beta2=0.999, epsilon=1e-7, step=1, beta1_power=0.9, decay=0.0)
    with pytest.raises(ValueError, match=r"step must be >= 1 .* got 0"):
        _core.adamax_update(w, g, a, b, **(adamax | {"step": 0}))
    with pytest.raises(ValueError, match="decay must be a finite number >= 0"):
        _core.adamax_update(w, g, a, b, **(adamax | {"decay": -1.0}))
    rms = dict(lr=0.1, decay=0.9, momentum=0.0, epsilon=1e-7)
    with pytest.raises(ValueError, match=r"decay must be in \[0, 1\], got 1.5"):
        _core.rmsprop_update(w, g, a, b, **(rms | {"decay": 1.5}))
    with pytest.raises(ValueError, match="mg must be a float32 array when centered=True, got None"):
        _core.rmsprop_update(w, g, a, b, **rms, centered=True)
    with pytest.raises(ValueError, match="mg is used only when centered=True"):
        _core.rmsprop_update(w, g, a, b, **rms, mg=np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="epsilon must be a finite number >= 0"):
        _core.adagrad_update(w, g, a, lr=0.1, epsilon=float("nan"))
    with pytest.raises(ValueError, match=r"rho must be in \[0, 1\], got 2"):
        _core.adadelta_update(w, g, a, b, lr=1.0, rho=2.0, epsilon=1e-6)


def test_failed_check_leaves_buffers_untouched():
    w, g, m, v = adam_buffers()
    g[:] = 1.0
    with pytest.raises(ValueError):
        _core.adam_update(w, g, m, v, **(ADAM | {"beta2_power": 1.0}))
    assert not w.any() and not m.any() and not v.any()


def test_random_buffer_mixes_raise_only_type_or_value_errors():
    """Valid hyperparameters, buffers drawn from a palette of good and bad arrays (shared ones
    included): each call either runs or raises TypeError/ValueError, and never crashes."""
    import random

    pick = random.Random(0)
    for name, (fn, _, slot_init, hyper, per_step) in CASES.items():
        keywords = hyper | (per_step(1) if per_step else {})
        for _ in range(300):
            shared = np.ones((3, 4), np.float32)
            palette = [shared, shared, np.ones((3, 4), np.float32), np.ones((4, 3), np.float32),
                       np.ones((3, 4)), np.ones((3, 4), np.float32)[:, ::2], np.array(1.0, np.float32),
                       np.ones((0, 4), np.float32), None, [1.0], shared[1:], shared.T]
            buffers = [pick.choice(palette) for _ in range(2 + len(slot_init))]
            extra = {}
            if "mg" in slot_init:
                extra["mg"] = buffers.pop()
            try:
                fn(*buffers, **extra, **keywords)
            except (TypeError, ValueError):
                pass
