"""The registry: every family's entry (``genlab.families.<x>.FAMILY``) by family name, every
preset (``vae-2d``, ``dcgan``…) by model name, and the one way to rebuild a model from a
checkpoint folder. It only collects what the family modules declare.

Adding a family: write ``genlab/families/<x>.py`` (with ``FAMILY`` and ``PRESETS``) and add
the module to ``_FAMILY_MODULES``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from genlab import checkpoints
from genlab.families import Family, Preset
from genlab.families import bigan, classifier, ddpm, flow, gan, pixelcnn, rectified_flow, vae

_FAMILY_MODULES = (vae, ddpm, rectified_flow, gan, bigan, flow, pixelcnn, classifier)  # the home page's order

FAMILIES: dict[str, Family] = {m.FAMILY.name: m.FAMILY for m in _FAMILY_MODULES}
MODELS: dict[str, Preset] = {name: preset for m in _FAMILY_MODULES for name, preset in m.PRESETS.items()}


def parse_override(config: Any, text: str) -> Any:
    """Apply one ``key=value`` override (the CLI's ``--set``) to a config dataclass."""
    key, sep, raw = text.partition("=")
    fields = {f.name for f in dataclasses.fields(config)}
    if not sep or key not in fields:
        raise ValueError(f"--set expects key=value with key in {sorted(fields)}; got {text!r}")
    current = getattr(config, key)
    if isinstance(current, tuple):
        value: Any = tuple(type(current[0] if current else 0)(v) for v in raw.split(",") if v)
    elif isinstance(current, bool):
        value = raw.lower() in ("1", "true", "yes")
    else:
        value = type(current)(raw)
    return dataclasses.replace(config, **{key: value})


def get(family: str, where: str | Path = "") -> Family:
    """The family spec; a clear error naming the valid families otherwise."""
    if family not in FAMILIES:
        message = f"unknown model family {family!r}; valid: {', '.join(FAMILIES)}"
        raise checkpoints.CheckpointError(f"{where}: {message}") if where else ValueError(message)
    return FAMILIES[family]


def resolve_model(name: str) -> tuple[str, Family, Any]:
    """``vae-2d`` or ``vae`` -> (model name, family, config)."""
    if name in MODELS:
        preset = MODELS[name]
        family = get(preset.family)
        return name, family, family.config_from_dict(preset.config)
    if name in FAMILIES:
        default = next(m for m, p in MODELS.items() if p.family == name)
        return resolve_model(default)
    raise ValueError(f"unknown model {name!r}; valid: {', '.join([*MODELS, *FAMILIES])}")


def load(folder: str | os.PathLike) -> checkpoints.Checkpoint:
    """Rebuild a model from its checkpoint folder, in eval mode.

    Raises:
        CheckpointError: naming the file that is missing, corrupt or tampered with.
    """
    folder = Path(folder)
    card = checkpoints.read_card(folder)
    family = get(card["family"], where=folder / checkpoints.CARD)
    try:
        config = family.config_from_dict(card["config"])
    except (TypeError, ValueError) as exc:
        raise checkpoints.CheckpointError(f"{folder / checkpoints.CARD}: config does not fit "
                                          f"family {card['family']!r} ({exc})") from None
    model = family.model(config)
    tensors = checkpoints.load_tensors(folder, card)
    dropped = tuple(card.get("dropped", ()))
    if not set(dropped) <= set(family.training_only):
        raise checkpoints.CheckpointError(f"{folder / checkpoints.CARD}: a {family.name} cannot leave out "
                                          f"{sorted(set(dropped) - set(family.training_only))}")
    try:
        missing, unexpected = model.load_state_dict(tensors, strict=not dropped)
        left_out = [k for k in missing if not k.startswith(tuple(f"{d}." for d in dropped))]
        if unexpected or left_out:
            raise RuntimeError(f"missing {left_out[:3]}, unexpected {unexpected[:3]}")
    except RuntimeError as exc:
        raise checkpoints.CheckpointError(f"{folder / checkpoints.WEIGHTS}: weights do not fit "
                                          f"the card's config ({str(exc).splitlines()[0]})") from None
    model.dropped = dropped  # e.g. ("discriminator",): not loaded, so not to be used
    model.eval().requires_grad_(False)
    return checkpoints.Checkpoint(card, model, folder)


def drop_parts(folder: str | os.PathLike, parts: tuple[str, ...]) -> Path:
    """Rewrite a checkpoint without submodules only training needs (``Family.training_only``,
    e.g. a BiGAN's discriminator), for a smaller shipped file; the card lists them in "dropped"."""
    ckpt = load(folder)
    family = get(ckpt.card["family"])
    if not set(parts) <= set(family.training_only):
        raise ValueError(f"a {family.name} needs {sorted(set(parts) - set(family.training_only))} after training")
    keep = {k: v for k, v in ckpt.model.state_dict().items() if not k.startswith(tuple(f"{p}." for p in parts))}
    dropped = sorted({*ckpt.card.get("dropped", ()), *parts})
    return checkpoints.save(folder, keep, {**ckpt.card, "dropped": dropped})


MAX_UPLOAD_BYTES = 150 * 1024 * 1024  # the largest shipped checkpoint is a few MB


def install_upload(card_bytes: bytes, weights_bytes: bytes, root: str | os.PathLike) -> Path:
    """Check an uploaded checkpoint (its ``card.json`` and ``model.safetensors``) exactly as a
    shipped one is loaded (card schema, known family and dataset, config, sha256, safetensors
    only, every shape against the config), then keep it as ``root/<dataset>/<name>-uploaded-<sha>``.

    Raises:
        CheckpointError: what is wrong, in one sentence (nothing is kept).
    """
    import json
    import shutil
    import tempfile

    from genlab import data

    for what, blob in (("card.json", card_bytes), ("model.safetensors", weights_bytes)):
        if not blob:
            raise checkpoints.CheckpointError(f"{what} is empty")
        if len(blob) > MAX_UPLOAD_BYTES:
            raise checkpoints.CheckpointError(f"{what} is {len(blob) / 2**20:.0f} MB; the limit is "
                                              f"{MAX_UPLOAD_BYTES // 2**20} MB")
    try:
        card = json.loads(card_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise checkpoints.CheckpointError(f"card.json is not valid JSON ({exc})") from None
    if not isinstance(card, dict):
        raise checkpoints.CheckpointError("card.json should hold an object")
    dataset = card.get("dataset")
    if dataset not in data.DATASETS:
        raise checkpoints.CheckpointError(f"card.json: dataset {dataset!r} is not one of {', '.join(data.DATASETS)}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        folder = Path(tmp)
        (folder / checkpoints.CARD).write_bytes(card_bytes)
        (folder / checkpoints.WEIGHTS).write_bytes(weights_bytes)
        try:
            load(folder)
        except checkpoints.CheckpointError as exc:  # name the uploaded file, not the temporary folder
            raise checkpoints.CheckpointError(str(exc).replace(str(folder) + os.sep, "")) from None
        name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in str(card["name"]))[:40] or "model"
        dest = root / dataset / f"{name}-uploaded-{card['sha256'][:6]}"
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder, dest)
    return dest
