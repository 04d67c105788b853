"""The dataset layer is the one place that knows the dataset's file names, and its pieces keep their promises:
the atomic writer leaves nothing behind on failure, the manifest never holds an id twice (even from two writers),
a sample record round-trips unknown fields, and a sample is complete only when every file it lists exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from blurd.dataset import layout
from blurd.dataset.errors import DatasetError
from blurd.dataset.files import atomic_path, write_text
from blurd.dataset.locks import Busy, FileLock
from blurd.dataset.manifest import Manifest
from blurd.dataset.record import SampleRecord, complete_record, write_record

ROOT = Path(__file__).resolve().parents[1]
# File names of a dataset folder: only blurd/dataset/ may spell them out.
FILE_NAME = re.compile(r"\b(rgb|depth|normal|label|palette)\.(png|exr)\b|\bsample\.json\b|\bmanifest\.jsonl\b|"
                       r"\bcontact_sheet\.png\b|\bsd_[A-Za-z0-9_{}]*\.(png|json)\b")


def code_strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module's code that could name a file: no docstrings or prose (text with spaces
    describes the layout, it does not use it); an f-string counts as a whole, each value as ``{}``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip.update(id(part) for part in node.values)
            text = "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
            found.append((node.lineno, text))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            found.append((node.lineno, node.value))
    return [(line, text) for line, text in found if not any(c.isspace() for c in text)]


def test_no_module_outside_the_dataset_layer_hard_codes_a_dataset_file_name():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in (".venv", "tests", "dataset", "build") or "egg-info" in relative.parts[0]:
            continue
        offenders += [f"{relative}:{line}: {text!r}" for line, text in code_strings(path) if FILE_NAME.search(text)]
    assert offenders == [], "use blurd.dataset.layout instead:\n" + "\n".join(offenders)


def test_the_atomic_writer_leaves_nothing_behind_when_the_write_fails(tmp_path):
    target = tmp_path / "deep" / "file.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert list((tmp_path / "deep").iterdir()) == []
    write_text(target, "whole")
    assert target.read_text() == "whole" and [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_a_sample_is_complete_only_when_every_file_it_lists_exists(tmp_path):
    folder = layout.sample_dir(tmp_path, "00ff00ff00ff00ff")
    folder.mkdir(parents=True)
    record = SampleRecord(id="00ff00ff00ff00ff", seed=3, factors={"hair_color": "red"},
                          passes={"rgb": layout.RGB, "mask_skin": layout.mask_filename("skin")},
                          extra={"written_by": "a newer BLURD"})
    write_record(folder, record)
    assert complete_record(folder) is None  # sample.json alone: the issue's corrupt state
    (folder / layout.RGB).write_bytes(b"png")
    (folder / layout.MASKS_DIR).mkdir()
    (folder / layout.mask_filename("skin")).write_bytes(b"png")
    assert complete_record(folder) == record  # unknown fields round-trip
    with pytest.raises(DatasetError, match="not a safe file name"):
        layout.sample_dir(tmp_path, "../../escaped")


def test_the_manifest_holds_each_id_once_across_writers(tmp_path):
    for sid in ("a1", "b2"):
        folder = layout.sample_dir(tmp_path, sid)
        folder.mkdir(parents=True)
        write_record(folder, SampleRecord(id=sid, seed=1, factors={}))
    one, two = Manifest(tmp_path), Manifest(tmp_path)  # two processes' views of one folder
    assert one.append({"id": "a1"}) and not two.append({"id": "a1"}) and two.append({"id": "b2"})
    assert not one.append({"id": "b2"})  # it reads what the other appended before writing
    (tmp_path / layout.MANIFEST).write_text((tmp_path / layout.MANIFEST).read_text() * 2 + '{"id": "torn')
    assert Manifest(tmp_path).repair() == {"a1", "b2"}
    assert [line for line in (tmp_path / layout.MANIFEST).read_text().splitlines()] == ['{"id":"a1"}', '{"id":"b2"}']


def test_a_sample_lock_is_exclusive_and_released_by_a_dead_holder(tmp_path):
    first = FileLock(tmp_path / "x.lock", remove=True).acquire()
    with pytest.raises(Busy):
        FileLock(tmp_path / "x.lock", remove=True).acquire(blocking=False)
    first.release()
    assert not (tmp_path / "x.lock").exists()
    FileLock(tmp_path / "x.lock", remove=True).acquire(blocking=False).release()
