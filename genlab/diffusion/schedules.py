"""Noise schedules: pure functions of the number of steps, computed in float64."""

from __future__ import annotations

import math

import torch


def linear_beta_schedule(timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """β_t rising linearly from 1e-4 to 0.02 (Ho et al. 2020, sec. 4), float64 (T,)."""
    return torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)


def cosine_beta_schedule(timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """β_t from ᾱ(t) = cos²((t/T + s)/(1 + s) · π/2) (Nichol & Dhariwal 2021, eq. 17), float64 (T,)."""
    def alpha_bar(t: float) -> float:
        return math.cos((t + s) / (1 + s) * math.pi / 2) ** 2

    return torch.tensor([min(1 - alpha_bar((i + 1) / timesteps) / alpha_bar(i / timesteps), max_beta)
                         for i in range(timesteps)], dtype=torch.float64)


SCHEDULES = {"linear": linear_beta_schedule, "cosine": cosine_beta_schedule}


def make_betas(name: str, timesteps: int) -> torch.Tensor:
    """The named schedule's β_1..β_T in float64; unknown names raise ValueError."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown beta schedule {name!r}; valid: {', '.join(SCHEDULES)}")
    return SCHEDULES[name](timesteps)


def alphas_cumprod(betas: torch.Tensor) -> torch.Tensor:
    """ᾱ_t = Π_{s≤t} (1 − β_s) (Ho et al. 2020, eq. 4), float64."""
    return torch.cumprod(1.0 - betas.double(), dim=0)


def log_snr(betas: torch.Tensor) -> torch.Tensor:
    """log SNR(t) = log(ᾱ_t / (1 − ᾱ_t)) (Kingma et al. 2021), float64."""
    ab = alphas_cumprod(betas)
    return torch.log(ab) - torch.log1p(-ab)
