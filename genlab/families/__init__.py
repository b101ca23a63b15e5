"""One module per model family: its loss / train step, sampler(s), evaluation, presets and
its ``FAMILY`` entry, all in one file (``vae.py``, ``gan.py``, ``ddpm.py``, ``flow.py``,
``pixelcnn.py``, ``classifier.py``). The networks they train live in ``genlab.models``;
the loop that trains any of them is ``genlab.train.fit``; ``genlab.registry`` collects the
entries.

This package's ``__init__`` defines only what every family fills in (``Family``,
``Preset``) and imports none of the family modules, so importing one family is cheap.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

import torch


@dataclass(frozen=True)
class Family:
    """What the generic code (training loop, CLI, evaluation, pages) needs of a family."""

    name: str
    config: type  # the config dataclass
    model: Callable[[Any], torch.nn.Module]
    make_optimizers: Callable[..., list[torch.optim.Optimizer]]
    train_step: Callable[..., dict[str, float]]  # (model, optimizers, x, y, generator) -> metrics
    sample: Callable[..., torch.Tensor] | None  # (model, n, generator) -> (n, 1, 28, 28) in [0, 1]
    evaluate: Callable[..., dict[str, float]]  # (model, holdout x, generator, labels=) -> metrics
    equation: str = ""  # the key equation, shown on the home page
    about: str = ""  # two or three sentences for the home page
    snapshots: bool = False  # keep fixed-z samples at doubling steps while training (replay)
    # what the projections page maps: (model, x (B, 1, 28, 28) in [0, 1]) -> (B, F), or None
    features: Callable[..., torch.Tensor] | None = None
    features_label: str = ""  # what those features are, e.g. "latent means μ(x)"
    # keyword options of ``sample`` that ``genlab sample`` passes on (e.g. sampler, steps)
    sample_options: tuple[str, ...] = ()
    # training from another checkpoint (``genlab train … --from ID``, e.g. reflow):
    # (teacher checkpoint, run folder, seed) -> (config, images, labels, initial weights)
    prepare: Callable[..., tuple] | None = None
    # network evaluations of (sampler, steps), for families whose samplers trade steps for quality
    nfe: Callable[[str, int], int] | None = None
    # what sampling runs the network through (the pages' fast path, e.g. a FastDenoiser), or None
    sampling_network: Callable[..., Any] | None = None
    # families with an encoder: (model, x (B, 1, 28, 28) in [0, 1]) -> the reconstruction, same range
    reconstruct: Callable[..., torch.Tensor] | None = None
    # submodules only training needs (e.g. a BiGAN's discriminator): a shipped checkpoint may leave
    # them out (card field "dropped", ``registry.drop_parts``); they are then not loaded or scored
    training_only: tuple[str, ...] = ()

    def config_from_dict(self, values: dict) -> Any:
        """Rebuild the config dataclass from JSON (lists back to tuples); unknown keys fail."""
        fields = {f.name: f for f in dataclasses.fields(self.config)}
        unknown = set(values) - set(fields)
        if unknown:
            raise ValueError(f"unknown config fields {sorted(unknown)}; valid: {sorted(fields)}")
        hints = typing.get_type_hints(self.config)
        return self.config(**{k: _coerce(v, hints[k]) for k, v in values.items()})


def _coerce(value: Any, hint: Any) -> Any:
    if typing.get_origin(hint) is tuple and isinstance(value, (list, tuple)):
        return tuple(value)
    return value


@dataclass(frozen=True)
class Preset:
    """A named model (``vae-2d``, ``dcgan``…): a family plus the config it is trained with."""

    family: str
    config: dict = field(default_factory=dict)  # overrides of the family's config defaults
    train: dict = field(default_factory=dict)  # default TrainConfig values per dataset size
