"""Exports of a dataset folder for other tools: a Parquet table, Hugging Face imagefolder metadata, and
CLIP_benchmark WebDataset shards. None of them needs torch."""

from .imagefolder import export_imagefolder
from .parquet import export_parquet, sample_table
from .wds import export_webdataset

__all__ = ["export_imagefolder", "export_parquet", "export_webdataset", "sample_table"]
