"""lm.layers: the Layer base class and TF.js's built-in layers, as snake_case factories.

>>> import lamina as lm
>>> layer = lm.layers.dense(units=32, input_shape=[784], activation="relu")
>>> layer.class_name, layer.units, layer.batch_input_shape
('Dense', 32, [None, 784])
"""

from lamina._public import public_dir
from lamina.layers.base import Layer, LayerWeight, get_class, register_class
from lamina.layers.core import (Activation, Dense, Dropout, Flatten, InputLayer, Reshape, activation, dense,
                                dropout, flatten, input_layer, reshape)

__all__ = ["Layer", "LayerWeight", "register_class", "get_class",
           "Dense", "Activation", "Dropout", "Flatten", "Reshape", "InputLayer",
           "dense", "activation", "dropout", "flatten", "reshape", "input_layer"]
__dir__ = public_dir(__all__)  # dir() lists the public names only
