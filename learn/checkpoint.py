"""Training state in one safetensors file, written atomically: weights, optimizer moments and a JSON header.

safetensors holds tensors only (no pickled code), so the optimizer's per-parameter tensors are stored as
``optim.<param>.<name>`` and everything else (step, run settings, loss history, param groups) as JSON in the
file's metadata under ``blurd_learn``. Written to a temporary name and renamed: a kill leaves the previous file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..dataset.files import write_bytes
from .errors import LearnError

META_KEY = "blurd_learn"
FORMAT = 1
MODEL_PREFIX = "model."
OPTIM_PREFIX = "optim."


@dataclass
class TrainingState:
    """What a checkpoint holds, as loaded."""

    step: int
    header: dict  # run settings, losses, ... (JSON)
    model: dict  # parameter name -> tensor
    optimizer: dict | None  # torch optimizer state_dict, or None for a weights-only file


def save(path: Path, model, step: int, header: dict, optimizer=None) -> Path:
    """Write model (and optimizer) state plus ``header`` to ``path`` atomically."""
    from safetensors.torch import save as to_bytes  # bytes, written like every other file (save_file makes 0600)

    tensors = {MODEL_PREFIX + k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "step": step, **header}
    if optimizer is not None:
        opt = optimizer.state_dict()
        scalars: dict[str, dict] = {}
        for idx, entry in opt["state"].items():
            for name, value in entry.items():
                if hasattr(value, "shape"):
                    tensors[f"{OPTIM_PREFIX}{idx}.{name}"] = value.detach().cpu().contiguous()
                else:
                    scalars.setdefault(str(idx), {})[name] = value
        meta["optimizer"] = {"param_groups": opt["param_groups"], "scalars": scalars}
    write_bytes(path, to_bytes(tensors, metadata={META_KEY: json.dumps(meta)}))
    return path


def load(path: Path) -> TrainingState:
    """Read a file written by ``save``; a file that is not one is an error naming it."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(META_KEY)
        tensors = load_file(str(path))
    except (OSError, ValueError, RuntimeError) as exc:  # safetensors raises SafetensorError (a RuntimeError/ValueError)
        raise LearnError(f"{path} is not a readable safetensors checkpoint ({exc}); delete it to start over") from exc
    if raw is None:
        raise LearnError(f"{path} was not written by blurd.learn (no '{META_KEY}' metadata); delete it or pass "
                         "another --out")
    meta = json.loads(raw)
    if meta.get("format") != FORMAT:
        raise LearnError(f"{path} has checkpoint format {meta.get('format')}, this BLURD reads {FORMAT}")
    model = {k[len(MODEL_PREFIX):]: v for k, v in tensors.items() if k.startswith(MODEL_PREFIX)}
    optimizer = None
    if "optimizer" in meta:
        state: dict[int, dict] = {}
        for key, value in tensors.items():
            if key.startswith(OPTIM_PREFIX):
                idx, name = key[len(OPTIM_PREFIX):].split(".", 1)
                state.setdefault(int(idx), {})[name] = value
        for idx, scalars in meta["optimizer"]["scalars"].items():
            state.setdefault(int(idx), {}).update(scalars)
        optimizer = {"state": state, "param_groups": meta["optimizer"]["param_groups"]}
        del meta["optimizer"]
    return TrainingState(int(meta.pop("step")), meta, model, optimizer)
