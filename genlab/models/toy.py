"""Small networks for 2-D toy data: a time-conditioned MLP that predicts a vector per point
(a rectified flow's velocity v(x, t) or a diffusion's noise ε̂(x, t))."""

from __future__ import annotations

import math
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


def point_mlp(widths: list[int]) -> nn.Sequential:
    """Linear layers with SiLU between, for 2-D points."""
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.SiLU()]
    return nn.Sequential(*layers[:-1])


@dataclass(frozen=True)
class ToyVAEConfig:
    hidden: int = 128
    latent_dim: int = 2
    decoder_std: float = 0.1  # > 0: p(x|z)'s fixed σ (a learned one lets 8 Gaussians collapse to one blob); 0: learned


class ToyVAE(nn.Module):
    """A VAE on the plane: q(z|x) = N(μ(x), σ²(x)) and a Gaussian decoder p(x|z) =
    N(m(z), s²(z)) with its own per-point variance (a fixed one would blur the data)."""

    def __init__(self, config: ToyVAEConfig = ToyVAEConfig()):
        super().__init__()
        self.config = config
        h = config.hidden
        self.encoder = point_mlp([2, h, h, 2 * config.latent_dim])
        self.decoder = point_mlp([config.latent_dim, h, h, h, 4])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 2) -> (μ, log σ²), each (B, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 6)

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z (B, latent_dim) -> the decoder's mean m(z) and log s²(z), each (B, 2)."""
        mean, logvar = self.decoder(z).chunk(2, dim=1)
        if self.config.decoder_std > 0:
            return mean, torch.full_like(logvar, 2 * math.log(self.config.decoder_std))
        return mean, logvar.clamp(-9, 4)


@dataclass(frozen=True)
class ToyGANConfig:
    hidden: int = 64  # as wide as fits the playground's 15 s (a GAN step is two updates)
    noise_dim: int = 2  # a 2-D z, so the generator's map of the plane can be drawn


class ToyGAN(nn.Module):
    """G: z (B, 2) -> x (B, 2) and D: x (B, 2) -> a score (B,) (a logit or a critic value)."""

    def __init__(self, config: ToyGANConfig = ToyGANConfig()):
        super().__init__()
        self.config = config
        h = config.hidden
        self.generator = point_mlp([config.noise_dim, h, h, h, 2])
        self.critic = point_mlp([2, h, h, h, 1])

    def discriminator(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)
