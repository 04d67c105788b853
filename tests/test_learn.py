"""BLURD Mask end to end on tiny data made here: a 4-sample rendered dataset with photo-real versions from
random-weight diffusion models, a synthetic folder in the exact CelebAMask-HQ layout, a tiny U-Net (timm resnet10t,
three stages, 32 px). Scores are re-derived independently with numpy; resume is checked against an uninterrupted
run, weight for weight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("torchvision")
pytest.importorskip("segmentation_models_pytorch")

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from tiny_presets import render_table

from blurd.learn import celeba, cli  # noqa: E402
from blurd.learn.augment import Regime, apply_joint, build_transform  # noqa: E402
from blurd.learn.errors import LearnError  # noqa: E402
from blurd.learn.metrics import confusion_matrix, scores  # noqa: E402
from blurd.learn.model import ModelSpec, build_unet  # noqa: E402
from blurd.learn.pairs import EvalLayout, open_test_set, open_training_set  # noqa: E402
from blurd.learn.train import CHECKPOINT_FILE, MODEL_FILE, RunOptions, TrainConfig, train  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OFFLINE = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
SPEC = ModelSpec(encoder="tu-resnet10t", encoder_depth=3, decoder_channels=(16, 8, 8))
TINY = ["--encoder", "tu-resnet10t", "--encoder-depth", "3", "--decoder-channels", "16,8,8", "--size", "32",
        "--workers", "0", "--device", "cpu", "--quiet"]
PRESET = """\
format = 1
name = "learn-tiny"
[factors]
camera_angle = 0
world_background = "studio"
[grid]
seed = 0
[grid.sweep]
hair_color = ["red", "blue"]
shirt_color = ["white", "black"]
""" + render_table()
# The published CelebAMask-HQ class list (g_mask.py order, background = 0) and the remap written out here by hand,
# independently of blurd.learn.celeba: BLURD ids bg 0, skin 1, eyes 2, eyebrows 3, lips 4, hair 5, cloth 6, 255 ignore.
PUBLISHED = ["skin", "nose", "eye_g", "l_eye", "r_eye", "l_brow", "r_brow", "l_ear", "r_ear", "mouth", "u_lip",
             "l_lip", "hair", "hat", "ear_r", "neck_l", "neck", "cloth"]
EXPECTED = {"background": 0, "skin": 1, "nose": 1, "eye_g": 255, "l_eye": 2, "r_eye": 2, "l_brow": 3, "r_brow": 3,
            "l_ear": 1, "r_ear": 1, "mouth": 4, "u_lip": 4, "l_lip": 4, "hair": 5, "hat": 255, "ear_r": 255,
            "neck_l": 255, "neck": 1, "cloth": 6}


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "blurd.learn", *args], capture_output=True, text=True, env=OFFLINE,
                          timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Four 32 px renders by batch.py, each also turned photo-real (sd_harbinger) by random-weight models."""
    pytest.importorskip("bpy")
    from blurd.diffusion.random_models import build_random_models

    folder = tmp_path_factory.mktemp("learn_rendered")
    models = build_random_models(folder / "models").settings_mapping("t2i_adapter")
    table = "".join(f"{k} = {json.dumps(v)}\n" for k, v in models.items())
    (folder / "tiny.toml").write_text(PRESET + "[diffusion]\n" + table + "steps = 2\nstrength = 0.5\n"
                                      "resolution = [32, 32]\n")
    run = subprocess.run([sys.executable, str(ROOT / "batch.py"), "--preset", str(folder / "tiny.toml"), "--out",
                          str(folder / "out"), "--diffuse", "harbinger", "--no-progress"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT, env=OFFLINE)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return folder / "out"


def write_celeba(root: Path, ids=(0, 1, 2001), mask_size: int = 32) -> dict[int, np.ndarray]:
    """A CelebAMask-HQ folder in the published layout (photos twice the mask size, as 1024 vs 512); returns the
    expected BLURD label of each photo, painted here in the published order with the hand-written remap."""
    rng = np.random.default_rng(3)
    (root / "CelebA-HQ-img").mkdir(parents=True)
    expected = {}
    for image_id in ids:
        photo = rng.integers(0, 255, (2 * mask_size, 2 * mask_size, 3), dtype=np.uint8)
        Image.fromarray(photo).save(root / "CelebA-HQ-img" / f"{image_id}.jpg")
        folder = root / "CelebAMask-HQ-mask-anno" / str(image_id // 2000)
        folder.mkdir(parents=True, exist_ok=True)
        label = np.zeros((mask_size, mask_size), dtype=np.uint8)
        parts = [p for p in PUBLISHED if p == "skin" or rng.random() < 0.7]
        for k, part in enumerate(parts):
            mask = np.zeros((mask_size, mask_size), dtype=bool)
            y, x = rng.integers(0, mask_size - 8, 2)
            mask[y:y + int(rng.integers(6, 20)), x:x + int(rng.integers(6, 20))] = True
            if part == "skin":
                mask[4:-4, 4:-4] = True
            pixels = (mask * 255).astype(np.uint8)
            as_rgb = k % 3 == 1  # some mask files are 3-channel, as in the archive
            picture = Image.fromarray(np.stack([pixels] * 3, -1) if as_rgb else pixels)
            picture.save(folder / f"{image_id:05d}_{part}.png")
            label[mask] = EXPECTED[part]
        expected[image_id] = label
    return expected


def test_celeba_classes_are_the_published_list():
    assert list(celeba.PARTS) == PUBLISHED
    assert sorted(celeba.CELEBA_CLASSES) == sorted([*PUBLISHED, "background"]) and len(celeba.CELEBA_CLASSES) == 19
    assert {k: (255 if v is None else int(v)) for k, v in celeba.REMAP.items()} == EXPECTED


def test_docs_remap_table_matches_the_code():
    text = (ROOT / "docs" / "learn.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[1] in EXPECTED and cells[0].isdigit():
            rows[cells[1]] = cells[2]
    names = {0: "background", 1: "skin", 2: "eyes", 3: "eyebrows", 4: "lips", 5: "hair", 6: "cloth", 255: "ignored"}
    assert rows == {k: names[v] for k, v in EXPECTED.items()}


def test_celeba_layout_is_remapped_file_by_file(tmp_path):
    expected = write_celeba(tmp_path / "CelebAMask-HQ")
    evalset = open_test_set(tmp_path)  # the parent folder works too: CelebAMask-HQ/ is found inside
    assert evalset.format is EvalLayout.CELEBAMASK_HQ and evalset.name == "CelebAMask-HQ"
    assert [item.id for item in evalset.items] == [0, 1, 2001]
    for item in evalset.items:
        written = sorted((tmp_path / "CelebAMask-HQ" / "CelebAMask-HQ-mask-anno" / str(item.id // 2000))
                         .glob(f"{item.id:05d}_*.png"))
        assert sorted(path for _, path in item.masks) == written
        label = item.label()
        np.testing.assert_array_equal(label, expected[item.id])
        # file by file: where a part is the last one painted, the label is that part's BLURD class
        later = np.zeros(label.shape, dtype=bool)
        for part, path in reversed(item.masks):
            arr = np.asarray(Image.open(path))
            on = (arr[..., 0] if arr.ndim == 3 else arr) != 0
            assert (label[on & ~later] == EXPECTED[part]).all(), (path.name, part)
            later |= on
        assert (label[~later] == 0).all()


def test_celeba_split_needs_its_files_and_selects_the_partition(tmp_path):
    write_celeba(tmp_path)
    with pytest.raises(LearnError, match="list_eval_partition.txt"):
        open_test_set(tmp_path, split="test")
    (tmp_path / "CelebA-HQ-to-CelebA-mapping.txt").write_text(
        "idx         orig_idx    orig_file\n0 10 000011.jpg\n1 20 000021.jpg\n2001 30 000031.jpg\n")
    (tmp_path / "list_eval_partition.txt").write_text("000011.jpg 0\n000021.jpg 2\n000031.jpg 2\n")
    assert [i.id for i in open_test_set(tmp_path, split="test").items] == [1, 2001]
    assert [i.id for i in open_test_set(tmp_path, split="train").items] == [0]


def test_missing_folders_are_named(tmp_path):
    with pytest.raises(LearnError, match="no known layout.*does not exist"):
        open_test_set(tmp_path / "nowhere")
    (tmp_path / "c" / "CelebA-HQ-img").mkdir(parents=True)
    with pytest.raises(LearnError, match="CelebAMask-HQ-mask-anno/ missing"):
        open_test_set(tmp_path / "c")
    with pytest.raises(LearnError, match="CelebA-HQ-img/ and CelebAMask-HQ-mask-anno/ missing"):
        open_test_set(tmp_path, "celebamask-hq")
    write_celeba(tmp_path / "d")
    for path in (tmp_path / "d" / "CelebAMask-HQ-mask-anno" / "1").glob("*"):
        path.unlink()
    with pytest.raises(LearnError, match=r"1 of 3 photographs .*/2001.jpg -> CelebAMask-HQ-mask-anno/1/02001_\*"):
        open_test_set(tmp_path / "d")
    (tmp_path / "f" / "images").mkdir(parents=True)
    with pytest.raises(LearnError, match="labels/ missing"):
        open_test_set(tmp_path / "f")
    with pytest.raises(LearnError, match="no 'samples/' folder"):
        open_training_set(tmp_path / "f", "rgb")


def test_iou_equals_numpy():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 7, (5, 40, 30)).astype(np.uint8)
    target[rng.random(target.shape) < 0.1] = 255
    pred = np.where(rng.random(target.shape) < 0.6, target, rng.integers(0, 7, target.shape))
    pred[target == 255] = 0
    pred[pred == 3] = 2  # class 3 is never predicted: IoU 0
    target[target == 5] = 6
    pred[pred == 5] = 6  # class 5 is absent from both: no IoU, left out of the mean
    got = scores(confusion_matrix(pred, target))
    keep = target != 255
    ious = {}
    for c, name in enumerate(("background", "skin", "eyes", "eyebrows", "lips", "hair", "cloth")):
        inter = np.logical_and(pred == c, target == c)[keep].sum()
        union = np.logical_or(pred == c, target == c)[keep].sum()
        ious[name] = inter / union if union else None
    assert ious["hair"] is None and ious["eyebrows"] == 0
    assert got.iou == pytest.approx(ious)
    assert got.miou == pytest.approx(np.mean([v for v in ious.values() if v is not None]))
    assert got.pixel_accuracy == pytest.approx((pred == target)[keep].mean())
    assert got.pixels == keep.sum()


PALETTE = np.array([[40, 40, 160], [200, 60, 60], [60, 180, 60], [180, 180, 40], [150, 60, 170], [60, 160, 170],
                    [120, 120, 120]], dtype=np.uint8)


def _pattern() -> tuple[Image.Image, np.ndarray]:
    """Blocks of classes laid out with no symmetry (a flip or a shift shows), each class its own colour."""
    y, x = np.mgrid[0:64, 0:64]
    label = ((x // 16) + 3 * (y // 16) + (x // 16) * (y // 16)) % 7
    return Image.fromarray(PALETTE[label]), label.astype(np.uint8)


def _interior(mask: np.ndarray, r: int = 2) -> np.ndarray:
    """Pixels whose (2r+1)^2 neighbourhood has one class (resampling may blend colours at borders)."""
    pad = np.pad(mask, r, mode="edge")
    same = np.ones(mask.shape, dtype=bool)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            same &= pad[r + dy:r + dy + mask.shape[0], r + dx:r + dx + mask.shape[1]] == mask
    return same


@pytest.mark.parametrize("regime", list(Regime))
def test_each_augmentation_keeps_image_and_mask_aligned(regime):
    image, label = _pattern()
    transform = build_transform(regime, 32)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    plain = apply_joint(build_transform(Regime.NONE, 32), image, label, 0)[1].numpy()
    changed = 0
    for seed in range(6):
        img, mask = apply_joint(transform, image, label, seed)
        assert img.shape == (3, 32, 32) and mask.shape == (32, 32) and mask.dtype == torch.int64
        mask = mask.numpy()
        rgb = img.numpy().transpose(1, 2, 0) * std + mean
        inside = _interior(mask)
        assert inside.sum() > 100
        changed += not np.array_equal(mask, plain)
        if regime is Regime.ALL:  # brightness and hue act on the whole image: one colour per class, all distinct
            means = {}
            for c in np.unique(mask[inside]):
                colours = rgb[inside & (mask == c)]
                assert colours.std(axis=0).max() < 0.03, (seed, c)
                means[c] = colours.mean(axis=0)
            keys = list(means)
            assert all(np.abs(means[a] - means[b]).max() > 0.05 for a in keys for b in keys if a < b)
        else:  # every interior pixel has its class's colour (resampling blurs a little: nearest palette colour)
            distance = np.abs(rgb[inside][:, None, :] - PALETTE[None] / 255.0).sum(-1)
            np.testing.assert_array_equal(distance.argmin(1), mask[inside])
            assert np.abs(rgb[inside] - PALETTE[mask[inside]] / 255.0).mean() < 0.01
        apply_again = apply_joint(transform, image, label, seed)  # the seed fixes every draw
        assert torch.equal(apply_again[0], img) and np.array_equal(apply_again[1].numpy(), mask)
    assert (changed > 0) == (regime is not Regime.NONE)


def _config(source="rgb", regime=Regime.NONE, **changes) -> TrainConfig:
    values = {"source": source, "regime": regime, "model": SPEC, "size": 32, "epochs": 3, "batch_size": 2,
              "lr": 5e-3, "seed": 1}
    values.update(changes)
    return TrainConfig(**values)


def _weights(path: Path) -> dict:
    return load_file(str(path))


def test_training_lowers_the_loss(dataset, tmp_path):
    pairs = open_training_set(dataset, "rgb")
    result = train(_config(epochs=5, batch_size=4, lr=1e-2), pairs, tmp_path / "run")
    assert result.complete and len(result.losses) == 5
    assert result.losses[-1] < 0.8 * result.losses[0]
    assert (tmp_path / "run" / MODEL_FILE).is_file() and not (tmp_path / "run" / CHECKPOINT_FILE).exists()


def test_stopped_run_resumes_to_the_same_weights(dataset, tmp_path):
    pairs = open_training_set(dataset, "sd_harbinger")
    config = _config("sd_harbinger", Regime.ALL, epochs=2)
    whole = train(config, pairs, tmp_path / "whole")
    first = train(config, pairs, tmp_path / "parts", RunOptions(stop_after=2))
    assert not first.complete and first.steps_done == 2
    assert (tmp_path / "parts" / CHECKPOINT_FILE).is_file() and not (tmp_path / "parts" / MODEL_FILE).exists()
    with pytest.raises(LearnError, match=r"other settings \(lr differ\)"):
        train(_config("sd_harbinger", Regime.ALL, epochs=2, lr=1e-4), pairs, tmp_path / "parts")
    rest = train(config, pairs, tmp_path / "parts")
    assert rest.resumed_from == 2 and rest.complete and rest.losses == whole.losses
    a, b = _weights(tmp_path / "whole" / MODEL_FILE), _weights(tmp_path / "parts" / MODEL_FILE)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(LearnError, match=r"other settings \(epochs differ\)"):
        train(_config("sd_harbinger", Regime.ALL, epochs=3), pairs, tmp_path / "parts")


def test_killed_training_resumes_from_its_checkpoint(dataset, tmp_path):
    """A real SIGKILL once the first checkpoint is on disk; the same command finishes the run, and its weights are
    those of a run that was never interrupted."""
    args = ["segmentation", str(dataset), "--source", "rgb", "--augment", "geometric", "--epochs", "3",
            "--batch-size", "2", "--lr", "5e-3", "--seed", "1", "--checkpoint-every", "1", *TINY]
    run = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "blurd.learn", *args, "--out", str(run)], cwd=ROOT, env=OFFLINE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (run / CHECKPOINT_FILE).exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (run / CHECKPOINT_FILE).is_file() and not (run / MODEL_FILE).exists(), "killed too late: no checkpoint"
    finished = run_cli(*args, "--out", str(run))
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert not [p for p in run.iterdir() if p.name.startswith(".tmp-")]
    pairs = open_training_set(dataset, "rgb")
    train(_config(regime=Regime.GEOMETRIC, epochs=3), pairs, tmp_path / "whole")
    a, b = _weights(tmp_path / "whole" / MODEL_FILE), _weights(run / MODEL_FILE)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_segmentation_scores_equal_an_independent_computation(dataset, tmp_path):
    """eval.json's IoU against predictions made here with smp and numpy from the saved weights."""
    folder = tmp_path / "pairs"
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir()
    for k, pair in enumerate(open_training_set(dataset, "sd_harbinger")):
        Image.open(pair.image).save(folder / "images" / f"{k}.png")
        label = pair.label()
        label[:3, :] = 255  # an ignored band
        Image.fromarray(label).save(folder / "labels" / f"{k}.png")
    run = tmp_path / "run"
    assert cli.main(["segmentation", str(dataset), "--out", str(run), "--test", str(folder), "--epochs", "2",
                     "--batch-size", "4", *TINY]) == 0
    doc = json.loads((run / "eval.json").read_text())
    assert doc["test_set"]["format"] == "folder" and doc["test_set"]["images"] == 4

    import segmentation_models_pytorch as smp

    model = smp.Unet(encoder_name="tu-resnet10t", encoder_depth=3, encoder_weights=None, decoder_channels=(16, 8, 8),
                     classes=7)
    model.load_state_dict({k.removeprefix("model."): v for k, v in load_file(str(run / MODEL_FILE)).items()})
    model.eval()
    mean, std = torch.tensor([0.485, 0.456, 0.406])[:, None, None], torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    preds, targets = [], []
    for k in range(4):
        pixels = torch.from_numpy(np.asarray(Image.open(folder / "images" / f"{k}.png").convert("RGB")).copy())
        x = (pixels.permute(2, 0, 1).float() / 255 - mean) / std
        with torch.no_grad():
            preds.append(model(x[None])[0].argmax(0).numpy())
        targets.append(np.asarray(Image.open(folder / "labels" / f"{k}.png")))
    pred, target = np.stack(preds), np.stack(targets)
    keep = target != 255
    for c, name in enumerate(("background", "skin", "eyes", "eyebrows", "lips", "hair", "cloth")):
        union = np.logical_or(pred == c, target == c)[keep].sum()
        want = np.logical_and(pred == c, target == c)[keep].sum() / union if union else None
        assert doc["scores"]["iou"][name] == pytest.approx(want, abs=1e-12), name
    assert doc["scores"]["pixels"] == keep.sum()


def test_experiment_runs_the_grid_offline(dataset, tmp_path):
    """`python -m blurd.learn experiment` as a new user runs it, with sockets disabled (and neither bpy imported nor
    torch before it is needed): 2 sources x 3 regimes on a CelebAMask-HQ-layout folder, table, CSV, JSON and
    figure; a second call finds everything done."""
    write_celeba(tmp_path / "CelebAMask-HQ")
    out = tmp_path / "exp"
    args = ["experiment", str(dataset), "--test", str(tmp_path / "CelebAMask-HQ"), "--out", str(out), "--epochs", "1",
            "--batch-size", "4", *TINY]
    no_network = ("import runpy, socket, sys\n"
                  "def refuse(*a, **k): raise OSError('network use in blurd.learn')\n"
                  "socket.socket.connect = refuse\nsocket.create_connection = refuse\n"
                  "import blurd.learn.cli\n"
                  "assert 'torch' not in sys.modules, 'the CLI imports torch before it is needed'\n"
                  "sys.argv = ['blurd.learn', *sys.argv[1:]]\n"
                  "try:\n    runpy.run_module('blurd.learn', run_name='__main__')\n"
                  "finally:\n    assert 'bpy' not in sys.modules, 'blurd.learn imported bpy'\n")
    first = subprocess.run([sys.executable, "-c", no_network, *args], capture_output=True, text=True, env=OFFLINE,
                           timeout=600, cwd=ROOT)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "| BLURD 3D (`rgb`) |" in first.stdout and "| BLURD SD (`sd_harbinger`) |" in first.stdout
    results = json.loads((out / "results.json").read_text())
    assert {(r["source"], r["regime"]) for r in results["runs"]} == {
        (s, r) for s in ("rgb", "sd_harbinger") for r in ("none", "geometric", "all")}
    assert results["test_set"]["images"] == 3 and results["test_set"]["format"] == "celebamask-hq"
    for r in results["runs"]:
        confusion = np.array(r["confusion"])
        again = scores(confusion)
        assert r["scores"]["miou"] == pytest.approx(again.miou) and r["scores"]["pixels"] == again.pixels
        assert {k: v for k, v in r["scores"]["iou"].items() if v is not None} == pytest.approx(
            {k: v for k, v in again.iou.items() if v is not None})
        assert confusion.sum() == r["scores"]["pixels"]
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 7 and rows[0].startswith("source,source_name,regime,regime_name,miou")
    with Image.open(out / "figure7.png") as fig:
        assert fig.size[0] > 600
    stamp = (out / "runs" / "rgb-all" / MODEL_FILE).stat().st_mtime_ns
    assert cli.main(args) == 0
    assert (out / "runs" / "rgb-all" / MODEL_FILE).stat().st_mtime_ns == stamp
    assert json.loads((out / "results.json").read_text())["runs"] == results["runs"]


def test_bad_input_fails_before_any_work(dataset, tmp_path, capsys):
    write_celeba(tmp_path / "celeba")
    out = tmp_path / "out"
    cases = [
        (["segmentation", str(dataset), "--source", "sd_tempered"], "'sd_tempered' is not in .*it has: rgb, "
                                                                    "sd_harbinger.*--diffuse tempered"),
        (["segmentation", str(dataset), "--source", "depth"], "unknown source 'depth'"),
        (["segmentation", str(dataset), "--test", str(tmp_path / "none")], "no known layout"),
        (["segmentation", str(dataset), "--encoder-weights", "imagenet"], "--allow-download"),
        (["segmentation", str(dataset), "--encoder", "resnet34", "--encoder-weights", "instagram"],
         "no pretrained weights named 'instagram'; it has: imagenet"),
        (["segmentation", str(dataset), "--encoder-weights", str(tmp_path / "enc.safetensors")], "does not exist"),
        (["segmentation", str(dataset), "--encoder", "resnet_unknown"], "unknown encoder 'resnet_unknown'"),
        (["segmentation", str(dataset), "--size", "36"], "multiple of 8"),
        (["segmentation", str(tmp_path), "--test", str(tmp_path / "celeba")], "not a BLURD dataset folder"),
        (["experiment", str(dataset), "--sources", "rgb,sd_harbinger"], "needs --test"),
        (["experiment", str(dataset), "--test", str(tmp_path / "celeba"), "--regimes", "none,jitter"], "--regimes"),
    ]
    for argv, message in cases:
        assert cli.main([*argv[:2], *TINY, "--out", str(out), *argv[2:]]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
        assert __import__("re").search(message, err), (message, err)
        assert not out.exists(), argv


def test_encoder_weights_load_from_a_local_file(tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(5)
    source = build_unet(SPEC)
    whole = {k: v.contiguous() for k, v in source.state_dict().items()}
    save_file(whole, str(tmp_path / "unet.safetensors"))  # a whole smp model: its encoder.* part is used
    torch.save({"state_dict": source.encoder.state_dict()}, tmp_path / "encoder.pth")
    for name in ("unet.safetensors", "encoder.pth"):
        model = build_unet(ModelSpec(**{**SPEC.to_dict(), "decoder_channels": (16, 8, 8),
                                        "encoder_weights": str(tmp_path / name)}))
        for k, v in source.encoder.state_dict().items():
            assert torch.equal(model.encoder.state_dict()[k], v), (name, k)
    other = ModelSpec(encoder="tu-resnet10t", encoder_depth=4, decoder_channels=(16, 8, 8, 8))
    save_file({k: v.contiguous() for k, v in build_unet(other).encoder.state_dict().items()},
              str(tmp_path / "deeper.safetensors"))
    with pytest.raises(LearnError, match="unknown tensor"):
        build_unet(ModelSpec(**{**SPEC.to_dict(), "decoder_channels": (16, 8, 8),
                                "encoder_weights": str(tmp_path / "deeper.safetensors")}))

