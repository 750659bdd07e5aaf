"""TF.js's text form of a tensor (to be completed)."""

__all__ = ["tensor_to_string"]


def tensor_to_string(array, dtype, verbose=False):
    return "Tensor\n    " + repr(array.tolist())
