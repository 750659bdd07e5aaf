"""lamina: train neural networks with the shape of the TensorFlow.js training API.

>>> import lamina as lm
>>> lm.get_num_threads() >= 1
True
"""

from lamina._version import __version__
from lamina.runtime import get_num_threads, set_num_threads

__all__ = ["__version__", "get_num_threads", "set_num_threads"]
