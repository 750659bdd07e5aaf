"""A finite-difference oracle for op gradients, shared by the op test modules.

lamina's ops compute in float32, so the check scalarises the op's output with fixed random
weights, perturbs each input element by ±h and forms the central difference in float64 from
the float32 results. With h around 1e-2·max(1, |x|) the truncation and rounding errors stay
near 1e-3 relative, far below what a wrong gradient gives.
"""

import numpy as np

import lamina as lm


def numeric_gradients(fn, inputs, weights, h=1e-2):
    """d(sum(weights · fn(*inputs)))/d(input) for each float input, by central differences."""
    arrays = [np.array(x, dtype=np.float32) for x in inputs]
    grads = []
    for k, base in enumerate(arrays):
        g = np.zeros(base.shape, np.float64)
        for idx in np.ndindex(base.shape):
            step = h * max(1.0, abs(float(base[idx])))
            values = []
            for sign in (1, -1):
                trial = [a.copy() for a in arrays]
                trial[k][idx] = base[idx] + sign * step
                out = fn(*[lm.tensor(t) for t in trial])
                values.append(float(np.sum(np.asarray(out, np.float64) * weights)))
            g[idx] = (values[0] - values[1]) / (2 * step)
        grads.append(g)
    return grads


def check_gradients(fn, *inputs, rtol=2e-2, atol=2e-3, seed=0):
    """Asserts that lamina's tape gives fn's gradient for every input (numbers or arrays).

    >>> check_gradients(lambda a, b: lm.mul(a, b), [[1.0, 2.0]], [[3.0], [4.0]])
    """
    tensors = [lm.tensor(np.asarray(x, np.float32)) for x in inputs]
    out = fn(*tensors)
    weights = np.random.default_rng(seed).uniform(0.5, 1.5, size=np.shape(np.asarray(out)))
    analytic = lm.grads(lambda *xs: fn(*xs))(tensors, dy=lm.tensor(weights.astype(np.float32)))
    numeric = numeric_gradients(fn, tensors, weights)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        np.testing.assert_allclose(np.asarray(a, np.float64), n, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")
