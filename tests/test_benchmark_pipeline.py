"""The benchmark end to end: a tiny random CLIP saved to a folder and loaded with from_pretrained, a synthetic
dataset folder and a small real rendered one; every reported metric re-derived independently with numpy."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_presets import render_table

from blurd.benchmark import cli
from blurd.benchmark.cache import cache_folder
from blurd.benchmark.dataset import load_dataset
from blurd.benchmark.encoders import make_encoder, parse_model_spec
from blurd.benchmark.errors import BenchmarkError
from blurd.benchmark.evaluate import EvalOptions, evaluate_model
from blurd.benchmark.report import CSV_COLUMNS, evaluation_to_dict, load_results
from blurd.benchmark.tiny import save_tiny_clip, write_synthetic_dataset
from blurd.factors import FACTOR_BY_NAME, FACTORS, captions

ROOT = Path(__file__).resolve().parent.parent
SWEEP = {"hair_color": ["red", "green", "blue"], "shirt_color": ["white", "black"], "race": ["asian", "african"]}
TEMPLATES = ("A picture of {}.", "A photo of {}.")
REAL_PRESET = """\
format = 1
name = "benchmark-tiny"
[factors]
camera_angle = 0
world_background = "studio"
[grid]
seed = 0
[grid.sweep]
hair_color = ["red", "blue"]
shirt_color = ["white", "black"]
""" + render_table()


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> Path:
    return save_tiny_clip(tmp_path_factory.mktemp("tiny_clip") / "clip")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    return write_synthetic_dataset(tmp_path_factory.mktemp("synthetic") / "synth", SWEEP,
                                   modes=("tempered", "harbinger"))


@pytest.fixture(scope="module")
def real_dataset(request, tmp_path_factory) -> Path:
    """The lead's rendered_dataset fixture when conftest provides one, else four tiny renders via batch.py."""
    try:
        return Path(request.getfixturevalue("rendered_dataset"))
    except pytest.FixtureLookupError:
        pass
    pytest.importorskip("bpy")
    folder = tmp_path_factory.mktemp("rendered")
    (folder / "tiny.toml").write_text(REAL_PRESET)
    run = subprocess.run([sys.executable, str(ROOT / "batch.py"), "--preset", str(folder / "tiny.toml"), "--out",
                          str(folder / "out"), "--no-progress"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return folder / "out"


@pytest.fixture(scope="module")
def diffused_dataset(tmp_path_factory) -> Path:
    """Four tiny renders turned photo-real by batch.py --diffuse with random-weight diffusion models."""
    pytest.importorskip("bpy")
    random_models = pytest.importorskip("blurd.diffusion.random_models")
    folder = tmp_path_factory.mktemp("diffused")
    models = random_models.build_random_models(folder / "models").settings_mapping("t2i_adapter")
    table = "".join(f"{k} = {json.dumps(v)}\n" for k, v in models.items())
    preset = REAL_PRESET + "[diffusion]\n" + table + "steps = 4\nstrength = 0.5\nresolution = [32, 32]\n"
    (folder / "tiny.toml").write_text(preset)
    run = subprocess.run([sys.executable, str(ROOT / "batch.py"), "--preset", str(folder / "tiny.toml"), "--out",
                          str(folder / "out"), "--diffuse", "tempered,harbinger", "--no-progress"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return folder / "out"


class Reference:
    """The tiny model driven directly through transformers, independent of benchmark.encoders."""

    def __init__(self, folder: Path):
        import torch
        from transformers import AutoImageProcessor, CLIPModel, CLIPTokenizer

        self.torch = torch
        self.model = CLIPModel.from_pretrained(folder, local_files_only=True).eval()
        self.processor = AutoImageProcessor.from_pretrained(folder, local_files_only=True, backend="pil")
        self.tokenizer = CLIPTokenizer.from_pretrained(folder, local_files_only=True)

    def images(self, paths) -> np.ndarray:
        from PIL import Image

        pixels = self.processor(images=[Image.open(p).convert("RGB") for p in paths], return_tensors="pt")
        with self.torch.no_grad():
            out = self.model.get_image_features(pixel_values=pixels["pixel_values"])
        return getattr(out, "pooler_output", out).numpy()

    def texts(self, texts) -> np.ndarray:
        tokens = self.tokenizer(list(texts), padding=True, truncation=True, max_length=77, return_tensors="pt")
        with self.torch.no_grad():
            out = self.model.get_text_features(**tokens)
        return getattr(out, "pooler_output", out).numpy()


def unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def check_against_reference(doc: dict, dataset: Path, ref: Reference, templates=TEMPLATES) -> None:
    """Recompute the document's metrics from scratch and compare."""
    ds = load_dataset(dataset)
    source = doc["source"]
    samples = ds.with_source(source)
    assert doc["n_samples"] == len(samples)
    rows = [s.factors for s in samples]
    img = unit(ref.images([s.image_path(source) for s in samples]))
    varying = [f.name for f in FACTORS if len({r[f.name] for r in rows}) > 1]
    assert doc["metrics"]["varying_factors"] == varying
    for f in FACTORS:
        entry = doc["metrics"]["single_factor"][f.name]
        if f.name not in varying:
            assert entry["status"] == "single_value" and entry["acc1"] is None and entry["reason"]
            continue
        values = [v for v in f.values if v in {r[f.name] for r in rows}]
        assert entry["classes"] == values
        per_class = []
        for v in values:
            t = unit(ref.texts([tpl.format(captions.class_phrase(f.name, v)) for tpl in templates]))
            per_class.append(t.mean(axis=0) / np.linalg.norm(t.mean(axis=0)))
        pred = np.argmax(img @ np.array(per_class).T, axis=1)
        truth = np.array([values.index(r[f.name]) for r in rows])
        assert entry["acc1"] == pytest.approx(np.mean(pred == truth), abs=1e-9)
        recalls = [np.mean(pred[truth == k] == k) for k in range(len(values)) if np.any(truth == k)]
        assert entry["balanced_accuracy"] == pytest.approx(np.mean(recalls), abs=1e-9)
        confusion = [[int(np.sum((truth == a) & (pred == b))) for b in range(len(values))] for a in range(len(values))]
        assert entry["confusion_matrix"] == confusion

    # multi-factor: retrieval among the distinct captions of the samples (describing the varying factors)
    caps = [captions.multi_caption(r, varying) for r in rows]
    distinct = sorted(set(caps))
    cap_emb = unit(ref.texts(distinct))
    pred = np.argmax(img @ cap_emb.T, axis=1)
    truth = np.array([distinct.index(c) for c in caps])
    assert doc["metrics"]["multi_factor"]["n_classes"] == len(distinct)
    if len(distinct) < 2:
        assert doc["metrics"]["multi_factor"]["status"] == "single_value"
        assert doc["metrics"]["multi_factor"]["acc1"] is None
    else:
        assert doc["metrics"]["multi_factor"]["acc1"] == pytest.approx(np.mean(pred == truth), abs=1e-9)

    text_of = dict(zip(distinct, cap_emb))
    for name in varying:
        pairs = []
        order = list(FACTOR_BY_NAME[name].values)
        for i, j in itertools.permutations(range(len(rows)), 2):
            diff = [k for k in rows[i] if rows[i][k] != rows[j][k]]
            if diff == [name] and order.index(rows[i][name]) < order.index(rows[j][name]):
                pairs.append((i, j, (rows[i][name], rows[j][name])))
        image_entry, text_entry = doc["metrics"]["image_equivariance"][name], doc["metrics"]["text_equivariance"][name]
        if not pairs:
            assert image_entry["status"] == text_entry["status"] == "no_pairs"
            continue
        cos = lambda a, b: a @ b / (np.linalg.norm(a) * np.linalg.norm(b))  # noqa: E731
        image_terms = [cos(img[j] - img[i], img[q] - img[k]) for (i, j, c1), (k, q, c2)
                       in itertools.combinations(pairs, 2) if c1 == c2]
        if image_terms:
            assert image_entry["mean_cosine"] == pytest.approx(np.mean(image_terms), abs=1e-6)
        else:
            assert image_entry["status"] == "too_few_pairs" and image_entry["mean_cosine"] is None
        text_terms = [cos(img[j] - img[i], text_of[caps[j]] - text_of[caps[i]]) for i, j, _ in pairs]
        assert text_entry["mean_cosine"] == pytest.approx(np.mean(text_terms), abs=1e-6)
        assert text_entry["n_pairs"] == len(pairs)


# ------------------------------------------------------------------------------------------------- the model


def test_tiny_clip_loads_through_the_real_loader_and_tokenizes_real_bpe(tiny_clip):
    enc = make_encoder(parse_model_spec(str(tiny_clip)))
    enc.preflight()
    assert not enc.loaded  # nothing loads before the first embedding
    emb = enc.encode_texts(["A picture of a person with red hair.", "zzz unknown words still tokenize"])
    assert enc.loaded and emb.shape == (2, 16) and np.all(np.isfinite(emb))
    tokens = enc.tokenizer.convert_ids_to_tokens(enc.tokenizer("A picture of red hair.")["input_ids"])
    assert tokens == ["<|startoftext|>", "a</w>", "picture</w>", "of</w>", "red</w>", "hair</w>", ".</w>",
                      "<|endoftext|>"]
    np.testing.assert_allclose(emb[:1], Reference(tiny_clip).texts(["A picture of a person with red hair."]),
                               rtol=1e-5, atol=1e-6)


def test_device_choice():
    import torch

    from blurd.factors.devices import DeviceError, resolve_device

    assert resolve_device("cpu", torch) == "cpu"
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert resolve_device("auto", torch) == expected
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no CUDA GPU"):
            resolve_device("cuda", torch)
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("tpu", torch)


def test_models_that_cannot_load_fail_before_any_work(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchmarkError, match="no config.json"):
        make_encoder(parse_model_spec(str(tmp_path / "empty"))).preflight()
    with pytest.raises(BenchmarkError, match="no such folder"):
        make_encoder(parse_model_spec(str(tmp_path / "missing"))).preflight()
    with pytest.raises(BenchmarkError, match="--allow-download"):
        make_encoder(parse_model_spec("nobody/not-a-cached-clip")).preflight()
    with pytest.raises(BenchmarkError, match="open_clip:ARCH:PRETRAINED"):
        parse_model_spec("open_clip:")


# ----------------------------------------------------------------------------------------------- evaluation


def test_every_metric_matches_an_independent_computation(synthetic, tiny_clip):
    enc = make_encoder(parse_model_spec(str(tiny_clip)), batch_size=5)
    results = evaluate_model(load_dataset(synthetic), enc, EvalOptions(templates=TEMPLATES))
    assert [r.source for r in results] == ["render", "tempered", "harbinger"]
    ref = Reference(tiny_clip)
    for r in results:
        doc = json.loads(json.dumps(evaluation_to_dict(r), allow_nan=False))  # JSON-safe, no NaN anywhere
        check_against_reference(doc, synthetic, ref)

    # 3D-to-photo-real: render -> harbinger of the same sample, over every two samples
    ds = load_dataset(synthetic)
    render = unit(ref.images([s.image_path("render") for s in ds.samples]))
    photo = unit(ref.images([s.image_path("harbinger") for s in ds.samples]))
    d = photo - render
    expected = np.mean([d[a] @ d[b] / (np.linalg.norm(d[a]) * np.linalg.norm(d[b]))
                        for a, b in itertools.combinations(range(len(d)), 2)])
    domain = evaluation_to_dict(results[2])["metrics"]["domain_equivariance"]["render->harbinger"]
    assert domain["mean_cosine"] == pytest.approx(expected, abs=1e-6)
    assert domain["shuffled"]["status"] == "ok" and domain["shuffled"]["mean_cosine"] != domain["mean_cosine"]


def test_embeddings_are_cached_and_recomputed_only_for_changed_images(tmp_path, tiny_clip):
    data = write_synthetic_dataset(tmp_path / "d", {"hair_color": ["red", "blue"], "shirt_color": ["white", "black"]},
                                   modes=())
    ds = load_dataset(data)
    first = evaluate_model(ds, make_encoder(parse_model_spec(str(tiny_clip))))
    assert (first[0].cache.computed, first[0].cache.reused) == (4, 0)
    cached = cache_folder(data, first[0].model_key) / "render.npz"
    assert cached.is_file()

    again_enc = make_encoder(parse_model_spec(str(tiny_clip)))
    again = evaluate_model(ds, again_enc)
    assert (again[0].cache.computed, again[0].cache.reused) == (0, 4)
    assert not again_enc.loaded  # everything came from the cache: the model was never loaded
    assert evaluation_to_dict(again[0])["metrics"] == evaluation_to_dict(first[0])["metrics"]

    changed = ds.samples[0].image_path("render")
    shutil.copyfile(ds.samples[1].image_path("render"), changed)  # new content, new size/mtime
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    third = evaluate_model(load_dataset(data), make_encoder(parse_model_spec(str(tiny_clip))))
    assert (third[0].cache.computed, third[0].cache.reused) == (1, 3)
    with np.load(cached) as npz:
        row = list(npz["ids"]).index(ds.samples[0].id)
        np.testing.assert_allclose(npz["embeddings"][row], Reference(tiny_clip).images([changed])[0], rtol=1e-4,
                                   atol=1e-5)


def test_incomplete_samples_are_skipped_and_single_values_reported(tmp_path, tiny_clip):
    data = write_synthetic_dataset(tmp_path / "d", {"hair_color": ["red", "blue"]}, modes=("harbinger",))
    (data / "samples" / "half_written").mkdir()
    (data / "samples" / "half_written" / "rgb.png").write_bytes(b"")
    broken = data / "samples" / "broken"
    broken.mkdir()
    (broken / "sample.json").write_text('{"factors": {"hair_color": "plaid"}}')
    (data / "samples" / ds_first(data) / "sd_harbinger.png").unlink()  # one sample lacks its diffusion output
    ds = load_dataset(data)
    assert len(ds.samples) == 2 and {s.dir.name for s in ds.skipped} == {"half_written", "broken"}
    assert "plaid" in next(s.reason for s in ds.skipped if s.dir.name == "broken")
    results = evaluate_model(ds, make_encoder(parse_model_spec(str(tiny_clip))))
    by_source = {r.source: evaluation_to_dict(r) for r in results}
    assert by_source["render"]["n_samples"] == 2 and by_source["harbinger"]["n_samples"] == 1
    harb = by_source["harbinger"]["metrics"]
    assert harb["single_factor"]["hair_color"]["status"] == "single_value"  # one image left: one value
    assert harb["domain_equivariance"]["render->harbinger"]["status"] == "too_few_pairs"
    render = by_source["render"]["metrics"]
    # one pair per change: text equivariance has a value, image equivariance needs two pairs of one change
    assert render["image_equivariance"]["hair_color"]["status"] == "too_few_pairs"
    assert render["text_equivariance"]["hair_color"]["status"] == "ok"
    assert render["image_equivariance"]["age"] == {**render["image_equivariance"]["age"], "status": "single_value",
                                                   "mean_cosine": None}


def ds_first(folder: Path) -> str:
    return sorted(p.name for p in (folder / "samples").iterdir())[0]


# ------------------------------------------------------------------------------------------------------ CLI


def test_the_console_command_writes_json_csv_and_figures(synthetic, tiny_clip, tmp_path, capsys):
    out = tmp_path / "results"
    code = cli.main(["evaluate", str(synthetic), "--model", str(tiny_clip), "--out", str(out), "--device", "cpu",
                     "--quiet", "--source", "render", "--source", "harbinger"])
    assert code == 0, capsys.readouterr().err
    docs = load_results(out)
    assert [d["source"] for d in docs] == ["render", "harbinger"]
    assert all(d["task"] == "blurd_factors" and d["model"] == str(tiny_clip) for d in docs)
    lines = (out / "summary.csv").read_text().splitlines()
    assert lines[0].split(",") == list(CSV_COLUMNS)
    assert any(",render,zero_shot_acc1,hair_color," in line for line in lines)
    assert any(",harbinger,domain_equivariance,render->harbinger," in line for line in lines)
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    stem = f"{docs[0]['dataset']}__{docs[0]['model_key']}"
    assert {f"{stem}__accuracy.png", f"{stem}__equivariance.png", f"{stem}__confusion_hair_color.png",
            f"{docs[0]['dataset']}__overview.png"} <= set(figures)
    mean_row = next(line.split(",") for line in lines if ",render,zero_shot_acc1,mean," in line)
    assert float(mean_row[6]) == pytest.approx(docs[0]["metrics"]["mean_single_factor_acc1"])
    singles = [z["acc1"] for z in docs[0]["metrics"]["single_factor"].values() if z["status"] == "ok"]
    assert docs[0]["metrics"]["mean_single_factor_acc1"] == pytest.approx(np.mean(singles))
    from PIL import Image

    with Image.open(out / "figures" / f"{stem}__accuracy.png") as im:
        assert im.width > 400 and im.height > 300

    assert cli.main(["figures", str(out), "--out", str(tmp_path / "figs")]) == 0
    assert len(list((tmp_path / "figs").glob("*.png"))) == len(figures)
    assert cli.main(["summary", str(out), "--csv", str(tmp_path / "s.csv")]) == 0
    assert (tmp_path / "s.csv").read_text() == (out / "summary.csv").read_text()


def test_the_console_command_reports_bad_input_before_work(synthetic, tiny_clip, tmp_path, capsys):
    cases = [
        (["evaluate", str(tmp_path), "--model", str(tiny_clip)], "not a BLURD dataset folder"),
        (["evaluate", str(synthetic), "--model", str(tiny_clip), "--device", "tpu"], "unknown device"),
        (["evaluate", str(synthetic), "--model", str(tiny_clip), "--source", "wild"], "not in"),
        (["evaluate", str(synthetic), "--model", str(tiny_clip), "--template", "no placeholder"], "placeholder"),
        (["evaluate", str(synthetic), "--model", str(tmp_path / "nope")], "no such folder"),
        (["export", "wds", str(synthetic), "--factor", "age", "--out", str(tmp_path / "w")], "takes one value"),
    ]
    for argv, message in cases:
        assert cli.main(argv) == 2
        assert message in capsys.readouterr().err
    assert not (synthetic / "benchmark").exists()
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0 and "evaluate" in capsys.readouterr().out


def test_python_dash_m_benchmark_runs(synthetic):
    run = subprocess.run([sys.executable, "-m", "blurd.benchmark", "info", str(synthetic)], capture_output=True,
                         text=True, cwd=synthetic, timeout=120)  # any folder: the package is installed
    assert run.returncode == 0, run.stderr
    assert "12 complete samples" in run.stdout and "varies hair_color: red, green, blue" in run.stdout


# -------------------------------------------------------------------------------------------- real renders


def test_the_benchmark_runs_on_a_real_rendered_dataset(real_dataset, tiny_clip, tmp_path):
    out = tmp_path / "results"
    assert cli.main(["evaluate", str(real_dataset), "--model", str(tiny_clip), "--out", str(out), "--quiet",
                     "--device", "cpu"]) == 0
    docs = load_results(out)
    assert "render" in [d["source"] for d in docs]
    ref = Reference(tiny_clip)
    for doc in docs:
        check_against_reference(doc, real_dataset, ref, templates=("A picture of {}.",))
    render = next(d for d in docs if d["source"] == "render")
    if not any((p / "sd_harbinger.png").exists() for p in (Path(real_dataset) / "samples").iterdir()):
        assert render["metrics"]["domain_equivariance"]["render->harbinger"]["status"] == "missing_source"


def test_captions_too_long_for_the_text_model_are_counted_also_from_the_cache(tmp_path, tiny_clip):
    from blurd.benchmark.evaluate import CaptionFactors

    data = write_synthetic_dataset(tmp_path / "d", {"hair_color": ["red", "blue"]}, modes=())
    options = EvalOptions(caption_factors=CaptionFactors.ALL)  # all twenty factors: over 77 tokens
    first = evaluate_model(load_dataset(data), make_encoder(parse_model_spec(str(tiny_clip))), options)
    assert first[0].n_truncated_captions == 2
    again = evaluate_model(load_dataset(data), make_encoder(parse_model_spec(str(tiny_clip))), options)
    assert again[0].cache.texts_computed == 0 and again[0].n_truncated_captions == 2
    short = evaluate_model(load_dataset(data), make_encoder(parse_model_spec(str(tiny_clip))))
    assert short[0].n_truncated_captions == 0
    assert evaluation_to_dict(short[0])["options"]["caption_factors"] == "varying"


def test_render_to_harbinger_equivariance_on_a_real_rendered_and_diffused_dataset(diffused_dataset, tiny_clip,
                                                                                   tmp_path):
    out = tmp_path / "results"
    assert cli.main(["evaluate", str(diffused_dataset), "--model", str(tiny_clip), "--out", str(out), "--quiet"]) == 0
    docs = {d["source"]: d for d in load_results(out)}
    assert list(docs) == ["render", "tempered", "harbinger"]
    ref = Reference(tiny_clip)
    for doc in docs.values():
        check_against_reference(doc, diffused_dataset, ref, templates=("A picture of {}.",))
    ds = load_dataset(diffused_dataset)
    render = unit(ref.images([s.image_path("render") for s in ds.samples]))
    photo = unit(ref.images([s.image_path("harbinger") for s in ds.samples]))
    d = photo - render
    expected = np.mean([d[a] @ d[b] / (np.linalg.norm(d[a]) * np.linalg.norm(d[b]))
                        for a, b in itertools.combinations(range(len(d)), 2)])
    entry = docs["harbinger"]["metrics"]["domain_equivariance"]["render->harbinger"]
    assert entry["status"] == "ok" and entry["n_cosines"] == 6
    assert entry["mean_cosine"] == pytest.approx(expected, abs=1e-6)
    assert docs["tempered"]["metrics"]["domain_equivariance"]["render->tempered"]["status"] == "ok"
    figures = {p.name.split("__")[-1] for p in (out / "figures").glob("*.png")}
    assert {"accuracy.png", "equivariance.png", "confusion_hair_color.png", "confusion_shirt_color.png"} <= figures


def test_exports_of_a_real_rendered_dataset(real_dataset, tmp_path):
    import pandas as pd

    from blurd.benchmark.exports import export_parquet
    from blurd.dataset import layout
    from blurd.factors import parts

    df = pd.read_parquet(export_parquet(load_dataset(real_dataset), tmp_path / "t.parquet"))
    assert len(df) == len(load_dataset(real_dataset).samples)
    for p in layout.PASSES:  # one render call writes every pass; each path points at a file
        assert df[f"{p.name}_path"].notna().all(), p.name
        assert all((Path(real_dataset) / v).is_file() for v in df[f"{p.name}_path"])
    assert df["mask_skin_path"].notna().all()
    for part in parts.PARTS:  # whatever mask a path names exists
        assert all((Path(real_dataset) / v).is_file() for v in df[f"mask_{part.name}_path"].dropna())


def test_a_hub_id_loads_offline_from_the_hugging_face_cache(synthetic, tiny_clip, tmp_path):
    """The hub-id path: the tiny model laid out as a cached hub snapshot, loaded with local_files_only."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--test-org--tiny-clip"
    shutil.copytree(tiny_clip, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}
    out = tmp_path / "results"
    run = subprocess.run([sys.executable, "-m", "blurd.benchmark", "evaluate", str(synthetic), "--model",
                          "test-org/tiny-clip", "--source", "render", "--out", str(out), "--quiet", "--no-figures"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    (doc,) = load_results(out)
    assert doc["model"] == "test-org/tiny-clip" and doc["model_key"].startswith("test-org-tiny-clip-")
    folder_run = evaluate_model(load_dataset(synthetic), make_encoder(parse_model_spec(str(tiny_clip))),
                                EvalOptions(sources=("render",)))
    expected = evaluation_to_dict(folder_run[0])["metrics"]
    for key in ("mean_single_factor_acc1", "multi_factor_acc1", "mean_image_equivariance", "mean_text_equivariance"):
        assert doc["metrics"][key] == pytest.approx(expected[key], abs=1e-5)
