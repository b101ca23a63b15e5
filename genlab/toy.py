"""2-D toy data sets for the toy flow and the playground: n points (n, 2) drawn with an
explicit generator, roughly within [−3, 3]²."""

from __future__ import annotations

import math

import torch

TOY_DATASETS = ("moons", "rings", "gaussians")


def toy_data(name: str, n: int, gen: torch.Generator) -> torch.Tensor:
    """n points (n, 2) of a toy density, roughly within [-3, 3]².

    ``moons``: two interleaved half circles; ``rings``: two concentric circles;
    ``gaussians``: a mixture of 8 Gaussians on a circle of radius 2.
    """
    if name == "moons":
        upper = torch.rand(n, generator=gen) < 0.5
        angle = torch.rand(n, generator=gen) * math.pi
        x = torch.where(upper, torch.cos(angle), 1 - torch.cos(angle))
        y = torch.where(upper, torch.sin(angle), 0.5 - torch.sin(angle))
        pts = torch.stack([x - 0.5, y - 0.25], 1) * 1.5
        return pts + 0.08 * torch.randn(n, 2, generator=gen)
    if name == "rings":
        radius = torch.where(torch.rand(n, generator=gen) < 0.5, 1.0, 2.5)
        angle = torch.rand(n, generator=gen) * 2 * math.pi
        pts = radius[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
        return pts + 0.1 * torch.randn(n, 2, generator=gen)
    if name == "gaussians":
        angle = torch.randint(0, 8, (n,), generator=gen) * (2 * math.pi / 8)
        centres = 2.0 * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
        return centres + 0.2 * torch.randn(n, 2, generator=gen)
    raise ValueError(f"unknown toy dataset {name!r}; valid: {', '.join(TOY_DATASETS)}")
