"""Checkpoints: ``<root>/<dataset>/<name>/model.safetensors`` + ``card.json``.

The card holds everything needed to rebuild the model alone (family + config) and the
facts of its training (dataset, split, steps, wall time, held-out metrics), plus the
sha256 of the weights. Reading checks the schema and the hash and never unpickles;
saving writes temp files and ``os.replace``s them, so an interrupted save leaves the old
checkpoint intact. This module knows files, not families: ``genlab.registry.load`` turns
a folder into a model.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from genlab import __version__

SHIPPED = Path(__file__).resolve().parent.parent / "checkpoints"
# GENLAB_CHECKPOINTS: other folders instead of the shipped one, separated by os.pathsep (":"
# here), e.g. "checkpoints:~/my-models" for the shipped ones and the user's. ROOT is the first
# (where `genlab train` writes by default), EXTRA_ROOTS the rest (read by the app and the CLI).
_ROOTS = [Path(p).expanduser() for p in os.environ.get("GENLAB_CHECKPOINTS", "").split(os.pathsep) if p]
ROOT = _ROOTS[0] if _ROOTS else SHIPPED
EXTRA_ROOTS = _ROOTS[1:]
WEIGHTS = "model.safetensors"
CARD = "card.json"
SCHEMA_VERSION = 1
_REQUIRED = {"schema": int, "id": str, "family": str, "name": str, "dataset": str,
             "config": dict, "split": dict, "training": dict, "metrics": dict,
             "sha256": str, "genlab_version": str, "date": str}


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt, tampered with, or of an unknown schema."""


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: its card and its model (in eval mode)."""

    card: dict
    model: torch.nn.Module
    path: Path

    @property
    def id(self) -> str:
        return self.card["id"]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)``, then move the temp file over ``path`` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(folder: str | os.PathLike, tensors: dict[str, torch.Tensor], card: dict) -> Path:
    """Save weights and card atomically; fills in sha256, schema, version and date.

    Args:
        folder: the checkpoint folder, e.g. ``checkpoints/mnist/vae-2d``.
        tensors: name -> tensor (a state_dict).
        card: family, name, dataset, config, split, training, metrics.

    Returns:
        The folder.
    """
    folder = Path(folder)
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".{WEIGHTS}.staged"
    save_file(tensors, str(staged))  # written fully before anything is replaced
    try:
        card = dict(card, schema=SCHEMA_VERSION, sha256=sha256_file(staged),
                    genlab_version=__version__,
                    date=card.get("date") or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        card.setdefault("id", f"{card['dataset']}/{card['name']}")
        _check_card(card, folder / CARD)
        atomic_write(folder / WEIGHTS, lambda tmp: os.replace(staged, tmp))
    finally:
        staged.unlink(missing_ok=True)
    atomic_write(folder / CARD, lambda tmp: tmp.write_text(json.dumps(card, indent=2) + "\n"))
    return folder


def store_half(folder: str | os.PathLike) -> tuple[int, int]:
    """Rewrite a checkpoint's floating-point weights in float16: half the bytes on disk, while
    the model still computes in float32 (``load_state_dict`` copies into float32 parameters).
    The card records ``weights_dtype``; its metrics are then recomputed (``genlab eval
    --recompute --write``), as rounding moves them a little. Returns the bytes before and after.

    Raises:
        CheckpointError: a weight too large for float16 (the file is left as it was).
    """
    folder = Path(folder)
    card = read_card(folder)
    tensors = load_tensors(folder, card)
    half = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    for k, v in half.items():
        if v.is_floating_point() and not torch.isfinite(v).all() and torch.isfinite(tensors[k]).all():
            raise CheckpointError(f"{folder / WEIGHTS}: {k} has values beyond float16's range")
    before = (folder / WEIGHTS).stat().st_size
    save(folder, half, dict(card, weights_dtype="float16"))
    return before, (folder / WEIGHTS).stat().st_size


def update_card(folder: str | os.PathLike, **fields) -> dict:
    """Merge ``fields`` into a checkpoint's card (e.g. new metrics) atomically."""
    folder = Path(folder)
    card = read_card(folder)
    for key, value in fields.items():
        card[key] = {**card[key], **value} if isinstance(card.get(key), dict) and isinstance(value, dict) else value
    _check_card(card, folder / CARD)
    atomic_write(folder / CARD, lambda tmp: tmp.write_text(json.dumps(card, indent=2) + "\n"))
    return card


def _check_card(card: dict, where: Path) -> None:
    for key, typ in _REQUIRED.items():
        if key not in card:
            raise CheckpointError(f"{where}: card is missing the field {key!r}")
        if not isinstance(card[key], typ):
            raise CheckpointError(f"{where}: card field {key!r} should be {typ.__name__}")
    if card["schema"] != SCHEMA_VERSION:
        raise CheckpointError(f"{where}: card schema {card['schema']} is not supported "
                              f"(this genlab reads schema {SCHEMA_VERSION})")


def read_card(folder: str | os.PathLike) -> dict:
    """Read and validate a card.json (no weights are read)."""
    path = Path(folder) / CARD
    if not path.is_file():
        raise CheckpointError(f"{path}: card.json is missing")
    try:
        card = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: card.json is not valid JSON ({exc})") from None
    if not isinstance(card, dict):
        raise CheckpointError(f"{path}: card.json should hold an object")
    _check_card(card, path)
    return card


def load_tensors(folder: str | os.PathLike, card: dict | None = None) -> dict[str, torch.Tensor]:
    """Read the weights after checking their sha256 against the card; never unpickles."""
    folder = Path(folder)
    card = card or read_card(folder)
    path = folder / WEIGHTS
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file is missing")
    digest = sha256_file(path)
    if digest != card["sha256"]:
        raise CheckpointError(f"{path}: sha256 {digest[:12]}… does not match the card's "
                              f"{card['sha256'][:12]}… (corrupt or tampered file)")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None




def roots(root: str | os.PathLike | None = None) -> list[Path]:
    """The folders to read: ``root`` alone when given, else ROOT and EXTRA_ROOTS."""
    return [Path(root)] if root is not None else [ROOT, *EXTRA_ROOTS]


def find_all(root: str | os.PathLike | None = None) -> list[Path]:
    """Every checkpoint folder (one holding a card.json) under ``root`` (default: every
    checkpoints folder), sorted within each folder."""
    return [f for r in roots(root) for f in sorted(p.parent for p in r.glob("*/*/" + CARD))]


def resolve(ckpt_id: str, root: str | os.PathLike | None = None) -> Path:
    """``"mnist/vae-2d"`` (or a folder path) -> the checkpoint folder (the first folder that
    has it)."""
    direct = Path(ckpt_id)
    if (direct / CARD).is_file():
        return direct
    for r in roots(root):
        if (r / ckpt_id / CARD).is_file():
            return r / ckpt_id
    known = ", ".join(f"{p.parent.name}/{p.name}" for p in find_all(root)) or "none"
    where = " or ".join(str(r) for r in roots(root))
    raise CheckpointError(f"no checkpoint {ckpt_id!r} under {where} (known: {known})")
