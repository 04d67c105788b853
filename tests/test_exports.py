"""Each export of a dataset folder, loaded back with its own library: pyarrow/pandas, Hugging Face datasets'
imagefolder, and webdataset the way CLIP_benchmark's ``build_wds_dataset`` reads shards."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from blurd.benchmark import cli
from blurd.benchmark.dataset import load_dataset
from blurd.benchmark.errors import BenchmarkError
from blurd.benchmark.exports import export_imagefolder, export_parquet, export_webdataset
from blurd.benchmark.tiny import write_synthetic_dataset
from blurd.dataset import layout
from blurd.factors import FACTORS, captions

SWEEP = {"hair_color": ["red", "green", "blue"], "age": [30, 70]}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = write_synthetic_dataset(tmp_path_factory.mktemp("exports") / "ds", SWEEP, modes=("harbinger",))
    # a real pass beside the render, so path columns are checked on present and absent files alike
    first = sorted((folder / "samples").iterdir())[0]
    (first / "masks").mkdir()
    (first / "masks" / "hair.png").write_bytes((first / "rgb.png").read_bytes())
    return folder


def factors_of(folder: Path) -> dict[str, dict]:
    return {p.name: json.loads((p / layout.SAMPLE_JSON).read_text())["factors"]
            for p in (folder / "samples").iterdir()}


def test_parquet_has_a_column_per_factor_and_the_path_of_every_file(dataset, tmp_path):
    import pandas as pd
    import pyarrow.parquet as pq

    path = export_parquet(load_dataset(dataset), tmp_path / "t.parquet")
    table = pq.read_table(path)
    assert table.schema.metadata[b"blurd.dataset_root"].decode() == str(dataset.resolve())
    df = pd.read_parquet(path)
    truth = factors_of(dataset)
    assert sorted(df["sample_id"]) == sorted(truth)
    for f in FACTORS:
        assert f.name in df.columns
        assert dict(zip(df["sample_id"], df[f.name].tolist())) == {k: v[f.name] for k, v in truth.items()}
    assert df["age"].dtype == np.int64 and df["hair_color"].dtype != np.int64
    for column in ("rgb_path", "sd_harbinger_path", "sample_json_path"):
        assert all((dataset / p).is_file() for p in df[column])
    assert df["depth_path"].isna().all() and df["sd_harbinger_json_path"].isna().all()  # absent files are null
    assert df["mask_hair_path"].notna().sum() == 1
    assert {p.name for p in layout.PASSES} <= {c[:-5] for c in df.columns if c.endswith("_path")}


def test_imagefolder_loads_with_datasets_and_yields_factor_columns(dataset, tmp_path):
    datasets = pytest.importorskip("datasets")
    out = export_imagefolder(load_dataset(dataset), tmp_path / "hf", sources=["render", "harbinger"])
    loaded = datasets.load_dataset("imagefolder", data_dir=str(out), split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded.num_rows == 2 * 6
    assert {"image", "sample_id", "source"} | {f.name for f in FACTORS} <= set(loaded.column_names)
    truth = factors_of(dataset)
    for row in loaded:
        assert row["image"].size == (32, 32)
        assert {f.name: row[f.name] for f in FACTORS} == truth[row["sample_id"]]
    assert sorted(set(loaded["source"])) == ["harbinger", "render"]
    with pytest.raises(BenchmarkError, match="not in"):
        export_imagefolder(load_dataset(dataset), tmp_path / "x", sources=["unleashed"])


def clip_benchmark_style_load(root: Path, split: str = "test"):
    """What CLIP_benchmark's build_wds_dataset does for a local classification dataset."""
    import webdataset as wds

    nshards = int((root / split / "nshards.txt").read_text())
    pattern = str(root / split / f"{{0..{nshards - 1}}}.tar")
    data = (wds.WebDataset(pattern, shardshuffle=False, nodesplitter=lambda src: src)
            .decode(wds.autodecode.ImageHandler("pil", extensions=["webp", "png", "jpg", "jpeg"]))
            .to_tuple("webp;png;jpg;jpeg", "cls", "__key__"))
    classes = [line.strip() for line in (root / "classnames.txt").read_text().splitlines()]
    templates = [line.strip() for line in (root / "zeroshot_classification_templates.txt").read_text().splitlines()]
    return list(data), classes, templates


def test_webdataset_shards_load_as_clip_benchmark_reads_them(dataset, tmp_path):
    out = export_webdataset(load_dataset(dataset), "hair_color", tmp_path / "wds", source="harbinger",
                            templates=["A picture of {}.", "A photo of {}."], shard_size=4)
    assert sorted(p.name for p in (out / "test").glob("*.tar")) == ["0.tar", "1.tar"]
    items, classes, templates = clip_benchmark_style_load(out)
    assert classes == [captions.class_phrase("hair_color", v) for v in SWEEP["hair_color"]]
    assert templates == ["A picture of {c}.", "A photo of {c}."]
    assert templates[0].format(c=classes[0]) == "A picture of a person with red hair."
    truth = factors_of(dataset)
    assert sorted(key for _, _, key in items) == sorted(truth)
    for image, label, key in items:
        assert image.size == (32, 32)
        assert SWEEP["hair_color"][label] == truth[key]["hair_color"]

    # a smaller re-export leaves no stale shard behind
    export_webdataset(load_dataset(dataset), "hair_color", out, source="harbinger", shard_size=100)
    assert sorted(p.name for p in (out / "test").glob("*.tar")) == ["0.tar"]
    assert len(clip_benchmark_style_load(out)[0]) == 6


def test_export_commands(dataset, tmp_path):
    assert cli.main(["export", "parquet", str(dataset), "--out", str(tmp_path / "a.parquet")]) == 0
    assert cli.main(["export", "imagefolder", str(dataset), "--out", str(tmp_path / "hf")]) == 0
    assert (tmp_path / "hf" / "metadata.jsonl").read_text().count("\n") == 6
    assert cli.main(["export", "wds", str(dataset), "--factor", "age", "--out", str(tmp_path / "w"),
                     "--template", "A photo of {}."]) == 0
    assert (tmp_path / "w" / "classnames.txt").read_text() == "a 30 year old person\na 70 year old person\n"
    assert cli.main(["export", "wds", str(dataset), "--factor", "nonsense", "--out", str(tmp_path / "w2")]) == 2


def test_exports_need_neither_torch_nor_transformers(dataset, tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    code = ("import sys\n"
            "for name in ('torch', 'transformers', 'bpy'): sys.modules[name] = None\n"
            "from blurd.benchmark import cli\n"
            f"sys.exit(cli.main(['export', 'wds', {str(dataset)!r}, '--factor', 'hair_color', '--out', "
            f"{str(tmp_path / 'w')!r}]) or cli.main(['export', 'parquet', {str(dataset)!r}, '--out', "
            f"{str(tmp_path / 'p.parquet')!r}]))\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "w" / "test" / "0.tar").is_file() and (tmp_path / "p.parquet").is_file()
