"""Matrix products, computed by lamina's C++ GEMM."""

import numpy as np

from lamina import _core
from lamina.ops._operands import binary
from lamina.ops.tape import input_needed, result

__all__ = ["matmul", "mat_mul"]


def _mm(x, y, trans_x=False, trans_y=False):
    return _core.matmul(np.ascontiguousarray(x, np.float32), np.ascontiguousarray(y, np.float32),
                        trans_a=trans_x, trans_b=trans_y)


def matmul(a, b, transpose_a=False, transpose_b=False):
    """The matrix product op(a)·op(b) of two rank-2 tensors (TF.js tf.matMul; lm.mat_mul is the
    same op); op transposes when transpose_a / transpose_b is set. Rank > 2 multiplies batches
    of matrices.

    >>> import lamina as lm
    >>> lm.matmul(lm.tensor([[1, 2]]), lm.tensor([[3], [4]])).array()
    [[11.0]]
    """
    a, b = binary(a, b, "matMul")
    if a.rank < 2 or b.rank < 2:
        raise ValueError(f"matMul: both inputs must have rank >= 2, got shapes {a.shape} and {b.shape}")
    inner_a = a.shape[-2] if transpose_a else a.shape[-1]
    inner_b = b.shape[-1] if transpose_b else b.shape[-2]
    if inner_a != inner_b:
        raise ValueError(
            f"Error in matMul: inner shapes ({inner_a}) and ({inner_b}) of Tensors with shapes "
            f"{a.shape} and {b.shape} and transposeA={str(transpose_a).lower()} and "
            f"transposeB={str(transpose_b).lower()} must match.")
    x, y = a._data, b._data
    if a.rank == 2 and b.rank == 2 and a.dtype == "float32":
        value = _mm(x, y, transpose_a, transpose_b)

        def backward(dy):
            # (operands, transposes) of the product giving each input's gradient
            if not transpose_a and not transpose_b:
                ga, gb = ((dy, y), (False, True)), ((x, dy), (True, False))
            elif transpose_a and not transpose_b:
                ga, gb = ((y, dy), (False, True)), ((x, dy), (False, False))
            elif not transpose_a and transpose_b:
                ga, gb = ((dy, y), (False, False)), ((dy, x), (True, False))
            else:
                ga, gb = ((y, dy), (True, True)), ((dy, x), (True, True))
            return (_mm(*ga[0], *ga[1]) if input_needed(0) else None,
                    _mm(*gb[0], *gb[1]) if input_needed(1) else None)

        def backward_ops(dy, out):
            # The same products as backward, as lamina ops (for higher-order gradients).
            if not transpose_a and not transpose_b:
                return matmul(dy, b, False, True), matmul(a, dy, True, False)
            if transpose_a and not transpose_b:
                return matmul(b, dy, False, True), matmul(a, dy, False, False)
            if not transpose_a and transpose_b:
                return matmul(dy, b, False, False), matmul(dy, a, True, False)
            return matmul(b, dy, True, True), matmul(dy, a, True, True)

        return result(value, (a, b), backward, backward_ops)

    xt = np.swapaxes(x, -1, -2) if transpose_a else x
    yt = np.swapaxes(y, -1, -2) if transpose_b else y

    def batched_backward(dy):
        da = dy @ np.swapaxes(yt, -1, -2)
        db = np.swapaxes(xt, -1, -2) @ dy
        return (np.swapaxes(da, -1, -2) if transpose_a else da,
                np.swapaxes(db, -1, -2) if transpose_b else db)

    return result(np.matmul(xt, yt), (a, b), batched_backward)


mat_mul = matmul  # TF.js's tf.matMul, snake_cased; matmul is the same op
