"""Bad input is one clear line, never a traceback, and never a file outside the folder asked for: presets (NUL
bytes, deep nesting, duplicate JSON keys), command lines (--out '', --diffuse '', an output folder reached through
a link), dataset folders (a manifest that is a folder, ids and names read from a dataset, garbage images, a corrupt
embedding cache) and model folders torch refuses to unpickle. A legal preset with a huge grid starts at once."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from blurd import batch
from blurd.benchmark import cli
from blurd.benchmark.cache import _load_npz
from blurd.benchmark.dataset import load_dataset
from blurd.benchmark.exports import export_imagefolder, export_webdataset
from blurd.benchmark.tiny import save_tiny_clip, write_synthetic_dataset
from blurd.dataset import layout

PRESET = 'format = 1\nname = "bad"\n[grid.sweep]\nhair_color = ["red", "blue"]\n[render]\nresolution = [32, 32]\n'


def batch_error(capsys, *argv: str) -> str:
    """batch.py's argument check on ``argv``: the one error line it prints (it must exit 2 before any work)."""
    with pytest.raises(SystemExit) as exc:
        batch.parse_arguments(["batch.py", *argv])
    assert exc.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("batch.py: error")]
    assert len(lines) == 1
    return lines[0]


@pytest.mark.parametrize(("text", "suffix", "words"), [
    ('format = 1\n[output]\nfolder = "a\\u0000b"\n', "toml", "control character"),
    ("format = 1\nx = " + "[" * 50_000 + "]" * 50_000 + "\n", "toml", "nested too deeply"),
    ('{"format": 1, ' + '"a": ' * 1 + "[" * 50_000 + "]" * 50_000 + "}", "json", "nested too deeply"),
    ('{"format": 1, "name": "a", "name": "b"}', "json", "appears twice"),
])
def test_malformed_presets_are_one_line(tmp_path, capsys, text, suffix, words):
    preset = tmp_path / f"p.{suffix}"
    preset.write_text(text)
    assert words in batch_error(capsys, "--preset", str(preset), "--out", str(tmp_path / "out"))


def test_command_line_holes_are_closed(tmp_path, capsys):
    preset = tmp_path / "p.toml"
    preset.write_text(PRESET)
    assert "--out: is empty" in batch_error(capsys, "--preset", str(preset), "--out", "")
    assert "no diffusion mode given" in batch_error(capsys, "--preset", str(preset), "--out", str(tmp_path / "o"),
                                                    "--diffuse", "")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "data").symlink_to(outside)
    linked = tmp_path / "linked.toml"
    linked.write_text(PRESET + '[output]\nfolder = "data"\n')
    assert "leads outside --out" in batch_error(capsys, "--preset", str(linked), "--out", str(tmp_path / "out"))
    assert list(outside.iterdir()) == []


def test_a_manifest_that_is_a_folder_is_one_line_before_any_render(tmp_path, capsys):
    preset = tmp_path / "p.toml"
    preset.write_text(PRESET)
    (tmp_path / "out" / layout.MANIFEST).mkdir(parents=True)
    assert batch.main(["batch.py", "--preset", str(preset), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "manifest.jsonl is not a regular file" in err[0]
    assert list(layout.samples_root(tmp_path / "out").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders: nothing to refuse")
def test_a_read_only_samples_folder_is_named(tmp_path, capsys):
    preset = tmp_path / "p.toml"
    preset.write_text(PRESET)
    layout.samples_root(tmp_path / "out").mkdir(parents=True)
    layout.samples_root(tmp_path / "out").chmod(0o555)
    assert batch.main(["batch.py", "--preset", str(preset), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert "samples is not writable" in capsys.readouterr().err


def test_a_huge_legal_grid_starts_at_once_in_bounded_memory(tmp_path):
    """samples = 100,000,000 over every factor, and a 1.2-million-combination grid with --limit 1: loading and
    planning draw lazily (the check runs under a 1 GB address-space limit; eager drawing used to pass 1.7 GB)."""
    every = "\n".join(f'{f.name} = {json.dumps(list(f.values))}' for f in __import__("blurd.factors").factors.FACTORS)
    huge = tmp_path / "huge.toml"
    huge.write_text(f"format = 1\n[grid]\nsamples = 100000000\n[grid.sweep]\n{every}\n")
    wide = tmp_path / "wide.toml"  # 10 x 10 x 10 x 10 x 12 x 10 = 1.2 million combinations
    wide.write_text('format = 1\n[grid.sweep]\nhair_color = ' + json.dumps(
        ["white", "black", "red", "orange", "yellow", "green", "cyan", "blue", "violet", "magenta"]) +
        '\nshirt_color = ["white", "black", "red", "orange", "yellow", "green", "cyan", "blue", "violet", "magenta"]'
        '\ntie_color = ["white", "black", "red", "orange", "yellow", "green", "cyan", "blue", "violet", "magenta"]'
        '\nbeard_color = ["white", "black", "red", "orange", "yellow", "green", "cyan", "blue", "violet", "magenta"]'
        '\nworld_rotation = [0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330]'
        '\nlipstick_color = ["white", "black", "red", "orange", "yellow", "green", "cyan", "blue", "violet", "magenta"]'
        '\n')
    code = (
        "import resource, sys, itertools\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from blurd import presets\n"
        "for path, limit in ((sys.argv[1], 3), (sys.argv[2], 1)):\n"
        "    grid = presets.load_preset(path).grid\n"
        "    first = list(itertools.islice(iter(grid), limit))\n"
        "    print(grid.product_size, len(first), grid.size_hint())\n"
    )
    run = subprocess.run([sys.executable, "-c", code, str(huge), str(wide)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    sizes = [line.split() for line in run.stdout.splitlines()]
    assert int(sizes[0][0]) > 10**9 and sizes[0][1:] == ["3", "100000000"]
    assert int(sizes[1][0]) == 1_200_000 and sizes[1][1] == "1"


# --------------------------------------------------------------------------------------------- datasets


@pytest.fixture
def synthetic(tmp_path) -> Path:
    return write_synthetic_dataset(tmp_path / "synth", {"hair_color": ["red", "green"], "race": ["asian", "african"]})


def test_exports_never_write_outside_their_folder(synthetic, tmp_path):
    victims = sorted(layout.samples_root(synthetic).iterdir())
    record = json.loads((victims[0] / layout.SAMPLE_JSON).read_text())
    (victims[0] / layout.SAMPLE_JSON).write_text(json.dumps(record | {"id": "../../../escaped"}))
    record = json.loads((victims[1] / layout.SAMPLE_JSON).read_text())
    (victims[1] / layout.SAMPLE_JSON).write_text(json.dumps(record | {"id": "../.."}))
    dataset = load_dataset(synthetic)
    assert len(dataset.samples) == 2 and all("not a safe file name" in s.reason or "usable 'id'" in s.reason
                                              for s in dataset.skipped)
    out = tmp_path / "exports" / "deep" / "er"
    before = set(tmp_path.rglob("*"))
    export_imagefolder(dataset, out / "if")
    export_webdataset(dataset, "hair_color", out / "wds", shard_size=10)
    new = set(tmp_path.rglob("*")) - before
    assert new and all(p.is_relative_to(out) for p in new if p.is_file()), sorted(new)
    assert not [p for p in tmp_path.parent.rglob("escaped*")]
    with tarfile.open(out / "wds" / "test" / "0.tar") as tar:
        assert all(layout.is_safe_name(Path(name).stem) for name in tar.getnames())
    with pytest.raises(Exception, match="not a safe file name"):
        export_webdataset(dataset, "hair_color", out / "wds2", split="../../up")


def test_garbage_images_and_a_corrupt_cache_are_one_line(synthetic, tmp_path, capsys):
    clip = save_tiny_clip(tmp_path / "clip")
    capsys.readouterr()
    first = sorted(layout.samples_root(synthetic).iterdir())[0]
    (first / layout.RGB).write_bytes((first / layout.RGB).read_bytes()[:60])  # truncated by a kill or a full disk
    assert cli.main(["evaluate", str(synthetic), "--model", str(clip), "--out", str(tmp_path / "r"), "--quiet",
                     "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(first / layout.RGB) in err[0] and "cannot read the image" in err[0]

    garbage = tmp_path / "cache.npz"
    garbage.write_bytes(b"PK\x03\x04 not a zip at all")
    assert _load_npz(garbage) is None  # recomputed, as the cache's docstring promises


def test_a_clip_folder_whose_weights_torch_refuses_is_one_line(synthetic, tmp_path, capsys):
    clip = save_tiny_clip(tmp_path / "clip")
    for weights in clip.glob("*.safetensors"):
        weights.unlink()

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    (clip / "pytorch_model.bin").write_bytes(pickle.dumps({"w": Evil()}))
    capsys.readouterr()
    assert cli.main(["evaluate", str(synthetic), "--model", str(clip), "--out", str(tmp_path / "r"), "--quiet",
                     "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot load a CLIP model" in err[0], err
    shutil.rmtree(clip)
