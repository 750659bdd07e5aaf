"""lm.io: saving and loading models in TensorFlow.js's LayersModel format.

A model saved by lamina loads unchanged in TensorFlow.js (`tf.loadLayersModel`), and a model
saved by TensorFlow.js (or its Python converter) loads in lamina. The files are those of
tfjs-node's `file://` handler: a folder with `model.json` (the topology, the weights
manifest, and with the optimizer the training config) and `weights.bin`.

- `lm.save(model, path, include_optimizer=False)` / `model.save(path, ...)`: atomic save.
- `lm.load_layers_model(path, strict=True, compile=True)`: strict, safe load.
- `model.to_json()` / `lm.models.model_from_json(text)`: the topology alone.
- `lm.io.save_weights(model, path)` / `lm.io.load_weights(model, path)` (and the model
  methods): the weights alone, a folder with `weights_manifest.json` and `weights.bin`.

>>> import os, tempfile
>>> import lamina as lm
>>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="doc_io")])
>>> folder = os.path.join(tempfile.mkdtemp(), "model")
>>> _ = lm.save(model, folder)
>>> lm.load_layers_model(folder).get_weights()[0].tolist() == model.get_weights()[0].tolist()
True
"""

from lamina._public import public_dir
from lamina.io import model_json, weights  # noqa: F401
from lamina.io.loading import load_layers_model, load_weights, model_from_json
from lamina.io.saving import check_user_defined_metadata, save, save_weights

__all__ = ["save", "load_layers_model", "save_weights", "load_weights", "model_from_json",
           "check_user_defined_metadata", "model_json", "weights"]
__dir__ = public_dir(__all__)  # dir() lists the public names only
