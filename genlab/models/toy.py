"""Small networks for 2-D toy data: a time-conditioned MLP that predicts a vector per point
(a rectified flow's velocity v(x, t) or a diffusion's noise ε̂(x, t))."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genlab.models.unet import timestep_embedding


@dataclass(frozen=True)
class TimeMLPConfig:
    hidden: int = 128  # units of each hidden layer: enough for moons or 8 Gaussians in seconds
    layers: int = 3  # hidden layers
    time_dim: int = 32  # width of the sinusoidal time embedding
    num_classes: int = 0  # unconditional (the samplers ask)
    # for a diffusion toy: the schedule it is trained with (the network ignores them)
    timesteps: int = 1000
    beta_schedule: str = "linear"


class TimeMLP(nn.Module):
    """(x (B, 2), t (B,)) -> (B, 2); t is a step (diffusion) or 1000·t (rectified flow)."""

    def __init__(self, config: TimeMLPConfig = TimeMLPConfig()):
        super().__init__()
        self.config = config
        widths = [2 + config.time_dim, *[config.hidden] * config.layers]
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.SiLU()]
        self.net = nn.Sequential(*layers, nn.Linear(widths[-1], 2))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(torch.cat([x, timestep_embedding(t, self.config.time_dim)], dim=1))
