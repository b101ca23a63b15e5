"""Variational autoencoder (Kingma & Welling 2014) with an MLP encoder and decoder.

The decoder models each grey level as the mean of a Bernoulli (the usual "Bernoulli on
grey levels" likelihood), so log p(x|z) = -BCE(logits, x) summed over the 784 pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
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


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) per latent dimension, (B, D).

    Appendix B of Kingma & Welling (2014): 1/2 (mu^2 + sigma^2 - log sigma^2 - 1).
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0)


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) in nats per image, (B,): Bernoulli likelihood on grey levels."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def negative_elbo(model: VAE, x: torch.Tensor, generator: torch.Generator | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-ELBO = -E_q[log p(x|z)] + KL(q(z|x) || p(z)), one sample of z; each (B,) in nats.

    Returns:
        (negative ELBO, reconstruction NLL, KL), each per image.
    """
    out = model(x, generator)
    rec = reconstruction_nll(out.logits, x)
    kl = kl_divergence(out.mu, out.logvar).sum(1)
    return rec + kl, rec, kl


@torch.no_grad()
def importance_weighted_bound(model: VAE, x: torch.Tensor, k: int = 100,
                              generator: torch.Generator | None = None) -> torch.Tensor:
    """IWAE bound (Burda et al. 2016): -log (1/k) sum_i p(x, z_i) / q(z_i|x), nats, (B,)."""
    mu, logvar = model.encode(x)  # (B, D)
    std = torch.exp(0.5 * logvar)
    eps = torch.randn((k, *mu.shape), generator=generator, dtype=mu.dtype)  # (k, B, D)
    z = mu + std * eps
    log_q = (-0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi))).sum(-1)  # (k, B)
    log_prior = (-0.5 * (z.pow(2) + math.log(2 * math.pi))).sum(-1)
    logits = model.decode_logits(z.flatten(0, 1))  # (k*B, 1, H, W)
    log_lik = -reconstruction_nll(logits, x.repeat(k, 1, 1, 1)).view(k, -1)
    log_w = log_lik + log_prior - log_q
    return -(torch.logsumexp(log_w, 0) - math.log(k))
