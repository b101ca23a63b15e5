"""Sampling loops. Randomness only through an explicit ``torch.Generator``."""

from __future__ import annotations

import numpy as np
import torch


def generator(seed: int) -> torch.Generator:
    """The one way genlab turns a seed into randomness (CPU generator)."""
    return torch.Generator().manual_seed(int(seed))


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, 1, H, W) in [0, 1] -> uint8 (N, H, W)."""
    return (images.clamp(0, 1) * 255).round().to(torch.uint8).squeeze(1).cpu().numpy()


@torch.inference_mode()
def vae_sample(model, n: int, gen: torch.Generator) -> torch.Tensor:
    """Decode z ~ N(0, I): (n, 1, 28, 28) mean images in [0, 1]."""
    z = torch.randn((n, model.config.latent_dim), generator=gen)
    return model.decode(z)


def sample_images(family, model, n: int, seed: int, **options) -> np.ndarray:
    """Sample ``n`` images with ``seed``; the same seed gives the same images. uint8 (n, 28, 28)."""
    return to_uint8(family.sample(model, n, generator(seed), **options))


def interpolate(z_a: torch.Tensor, z_b: torch.Tensor, k: int, method: str = "linear") -> torch.Tensor:
    """k points from z_a to z_b (both (D,)), ends included: (k, D).

    ``linear``: (1 - t) z_a + t z_b. ``spherical``: slerp (Shoemake 1985), which keeps the
    norm typical of a Gaussian sample instead of cutting through the low-norm middle.
    """
    if method not in ("linear", "spherical"):
        raise ValueError(f"unknown interpolation {method!r}; valid: linear, spherical")
    t = torch.linspace(0, 1, k, dtype=z_a.dtype)[:, None]  # (k, 1)
    if method == "linear":
        return (1 - t) * z_a + t * z_b
    cos = torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    if omega.abs() < 1e-4:  # nearly parallel: slerp tends to lerp
        return (1 - t) * z_a + t * z_b
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def gaussian_grid(n: int, lo: float = 0.05, hi: float = 0.95) -> torch.Tensor:
    """An n×n grid of 2-D latents at Gaussian quantiles (Kingma & Welling 2014, fig. 4): (n*n, 2).

    Rows run from high z2 (top) to low z2, columns from low z1 to high z1, so the grid
    reads like the latent map.
    """
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(lo, hi, n))
    z2, z1 = torch.meshgrid(q.flip(0), q, indexing="ij")
    return torch.stack([z1.flatten(), z2.flatten()], dim=1)
