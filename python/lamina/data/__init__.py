"""lm.data: streaming datasets for training on data that does not fit in memory (TF.js's tf.data).

Sources (`array`, `generator`, `func`, `zip`, `csv`) make a `Dataset`; its transforms
(`batch`, `shuffle`, `map`, `filter`, `repeat`, `take`, `skip`, `concatenate`, `prefetch`)
each return a new one, computed lazily, one element at a time. Read one with a `for` loop,
`for_each(f)`, `to_array()` or `iterator()`; the `*_async` forms are for async code and must
be awaited.

>>> import lamina as lm
>>> def samples():
...     for i in range(5):
...         yield {"xs": [float(i), 1.0], "ys": [float(i % 2)]}
>>> ds = lm.data.generator(samples).shuffle(5, seed=0).batch(2)
>>> [(batch["xs"].shape, batch["ys"].shape) for batch in ds]
[([2, 2], [2, 1]), ([2, 2], [2, 1]), ([1, 2], [1, 1])]
"""

from lamina._public import public_dir
from lamina.data.csv_dataset import CSVDataset, csv
from lamina.data.dataset import Dataset
from lamina.data.sources import array, func, generator, zip

__all__ = ["Dataset", "CSVDataset", "array", "generator", "func", "zip", "csv"]
__dir__ = public_dir(__all__)  # dir() lists the public names only
