"""lm.train: the optimizers (TF.js tf.train), defined in lamina.optimizers."""

from lamina.optimizers import *  # noqa: F401,F403
from lamina.optimizers import __all__  # noqa: F401
from lamina._public import public_dir

__dir__ = public_dir(__all__)  # dir() lists the public names only
