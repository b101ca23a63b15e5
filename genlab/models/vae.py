"""Variational autoencoder (Kingma & Welling 2014) with an MLP encoder and decoder.

The decoder models each grey level as the mean of a Bernoulli (the usual "Bernoulli on
grey levels" likelihood), so log p(x|z) = -BCE(logits, x) summed over the 784 pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class VAEConfig:
    latent_dim: int = 2  # 2: a map you can see and drag through; 16: sharper samples
    hidden: tuple[int, ...] = (512, 256)  # encoder widths; the decoder mirrors them
    image_size: int = 28  # MNIST and Fashion-MNIST are 28x28 grey


@dataclass(frozen=True)
class VAEOutput:
    logits: torch.Tensor  # (B, 1, H, W) Bernoulli logits of p(x|z)
    mu: torch.Tensor  # (B, D) mean of q(z|x)
    logvar: torch.Tensor  # (B, D) log variance of q(z|x)
    z: torch.Tensor  # (B, D) one reparameterized sample


def _mlp(widths: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class VAE(nn.Module):
    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        pixels = config.image_size ** 2
        self.encoder = _mlp([pixels, *config.hidden, 2 * config.latent_dim])
        self.decoder = _mlp([config.latent_dim, *reversed(config.hidden), pixels])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 1, H, W) in [0, 1] -> mu, logvar, each (B, D)."""
        h = self.encoder(x.flatten(1))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-20.0, 10.0)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, D) -> Bernoulli logits (B, 1, H, W)."""
        s = self.config.image_size
        return self.decoder(z).view(-1, 1, s, s)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, D) -> mean image (B, 1, H, W) in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> VAEOutput:
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps  # reparameterization: z = mu + sigma * eps
        return VAEOutput(self.decode_logits(z), mu, logvar, z)
