"""The "did you mean" hint that every unknown-name error carries (losses, metrics, optimizers,
activations, initializers, regularizers, constraints).

Names are compared ignoring case and underscores first, so that 'Softmax', 'SOFTMAX' and
'soft_max' all find 'softmax', and a snake_case slip finds the snake_case spelling.
"""

import difflib

__all__ = ["closest_name", "did_you_mean"]


def _folded(name):
    return name.lower().replace("_", "")


def closest_name(identifier, names):
    """The valid name nearest to `identifier`, or None when none is near enough.

    >>> closest_name("categoricalCrossentropi", ["meanSquaredError", "categoricalCrossentropy"])
    'categoricalCrossentropy'
    >>> closest_name("Soft_Max", ["relu", "softmax"])
    'softmax'
    >>> closest_name("foo", ["relu", "softmax"]) is None
    True
    """
    if not isinstance(identifier, str):
        return None
    by_folded = {}
    for name in names:
        by_folded.setdefault(_folded(name), []).append(name)
    matches = difflib.get_close_matches(_folded(identifier), list(by_folded), n=1, cutoff=0.65)
    if not matches:
        return None
    # Several spellings fold alike ('meanSquaredError', 'mean_squared_error'): the one typed
    # alike, underscores first, then case.
    def likeness(name):
        return (_ratio(identifier.lower(), name.lower()), _ratio(identifier, name))
    return max(by_folded[matches[0]], key=likeness)


def _ratio(a, b):
    return difflib.SequenceMatcher(None, a, b).ratio()


def did_you_mean(identifier, names):
    """" Did you mean 'x'?" for the nearest valid name, or "" when none is near: a sentence
    to put after an error's first sentence, before the list of every valid name.

    >>> did_you_mean("sofmax", ["relu", "softmax"])
    " Did you mean 'softmax'?"
    >>> did_you_mean("foo", ["relu", "softmax"])
    ''
    """
    name = closest_name(identifier, names)
    return "" if name is None else f" Did you mean {name!r}?"
