"""CLIP evaluation of a BLURD dataset folder (the paper's Section 4), plus dataset exports.

torch + transformers only, never bpy. Importing this package loads neither torch nor transformers; the model
code is imported when a model is used. Layers, each in its own module:

- ``dataset``: the complete samples of a dataset folder and its image sources (render, sd_<mode>)
- ``metrics``: pure numpy metric math on embeddings and factor tables
- ``encoders``, ``device``, ``cache``: CLIP models, device choice, the embedding cache beside the dataset
- ``evaluate``: embeddings in, metrics out, per (model, source)
- ``report``, ``figures``: result JSON / CSV and matplotlib figures
- ``exports``: Parquet table, Hugging Face imagefolder, CLIP_benchmark WebDataset
- ``cli``: ``python -m blurd.benchmark --help``
"""

from .dataset import DatasetFolder, SampleRecord, load_dataset
from .errors import BenchmarkError

__all__ = ["BenchmarkError", "DatasetFolder", "SampleRecord", "load_dataset"]
