"""lamina: train neural networks with the shape of the TensorFlow.js training API.

>>> import lamina as lm
>>> w = lm.variable(lm.tensor([[1.0], [2.0]]))
>>> loss = lambda: lm.matmul(lm.tensor([[1.0, 1.0]]), w).square().sum()
>>> lm.variable_grads(loss)["value"].item()
9.0
"""

from lamina import (activations, callbacks, constraints, data, initializers, layers, losses, metrics,  # noqa: F401
                    models, regularizers, train)
from lamina.models import Sequential, sequential
from lamina.ops import fused
from lamina._version import __version__
from lamina.creation import *  # noqa: F401,F403
from lamina.ops import *  # noqa: F401,F403
from lamina.random import *  # noqa: F401,F403
from lamina import io  # noqa: E402 - after models, which it serializes
from lamina.io import load_layers_model, save
from lamina.runtime import get_num_threads, set_num_threads
from lamina.tensor import Tensor, Variable, as_tensor, dispose, memory, scalar, tensor, tidy, variable

from lamina import creation as _creation, ops as _ops, random as _random
from lamina._public import public_dir

__all__ = (["__version__", "get_num_threads", "set_num_threads", "Tensor", "Variable", "as_tensor",
            "scalar", "tensor", "variable", "tidy", "dispose", "memory", "losses", "train", "fused", "layers", "callbacks",
            "metrics", "initializers", "regularizers", "constraints", "activations", "models", "data",
            "io", "save", "load_layers_model"]
           + ["Sequential", "sequential"]  # lm.models.model_from_json stays in lm.models, as in TF.js
           + list(_ops.__all__) + list(_creation.__all__) + list(_random.__all__))
__dir__ = public_dir(__all__)  # dir() lists the public names only
