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
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise checkpoints.CheckpointError(f"{folder / checkpoints.WEIGHTS}: weights do not fit "
                                          f"the card's config ({str(exc).splitlines()[0]})") from None
    model.eval().requires_grad_(False)
    return checkpoints.Checkpoint(card, model, folder)
