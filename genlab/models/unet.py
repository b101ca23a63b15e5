"""A small UNet denoiser ε_θ(x_t, t) for 28×28 images (Ho et al. 2020, appendix B, scaled
down for CPUs): sinusoidal time embedding, residual blocks with GroupNorm and SiLU, self-
attention at the lowest resolution. It knows nothing of noise schedules."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class UNetConfig:
    channels: tuple[int, ...] = (32, 64, 64)  # widths at 28, 14 and 7 pixels
    blocks: int = 1  # residual blocks per resolution on the way down (one more going up)
    attention: bool = True  # self-attention at the lowest resolution (7×7)
    time_dim: int = 128  # width of the time embedding
    dropout: float = 0.0  # in residual blocks
    groups: int = 8  # GroupNorm groups
    num_classes: int = 0  # > 0: class-conditional; label num_classes is the "no label" (null) class
    # the sampler settings the model was trained with (the denoiser itself ignores them)
    timesteps: int = 1000  # T of the forward process
    beta_schedule: str = "linear"  # "linear" (DDPM) or "cosine" (improved DDPM)
    min_snr_gamma: float = 0.0  # DDPM training: > 0 weighs each ε loss by min(SNR_t, γ) / SNR_t
    # (Min-SNR-γ, Hang et al. 2023; 5 in the paper): less weight on the nearly clean steps


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer steps (Vaswani et al. 2017): (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, time_dim: int, groups: int, dropout: float):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time = nn.Linear(time_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(temb)[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return h + self.skip(x)


class Attention(nn.Module):
    """Single-head self-attention over the pixels of a feature map."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).flatten(2).transpose(1, 2).chunk(3, dim=2)  # (B, HW, C)
        y = F.scaled_dot_product_attention(q, k, v)
        return x + self.out(y.transpose(1, 2).reshape(b, c, h, w))


class UNet(nn.Module):
    def __init__(self, config: UNetConfig):
        super().__init__()
        self.config = config
        ch, td, g, p = config.channels, config.time_dim, config.groups, config.dropout
        self.time_mlp = nn.Sequential(nn.Linear(td, td), nn.SiLU(), nn.Linear(td, td))
        # a learned vector per class (plus the null class), added to the time embedding
        self.label_emb = nn.Embedding(config.num_classes + 1, td) if config.num_classes else None
        self.stem = nn.Conv2d(1, ch[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skips, c = [ch[0]], ch[0]
        for level, width in enumerate(ch):
            for _ in range(config.blocks):
                self.down.append(ResBlock(c, width, td, g, p))
                c = width
                skips.append(c)
            if level < len(ch) - 1:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                skips.append(c)
        self.mid1 = ResBlock(c, c, td, g, p)
        self.mid_attn = Attention(c, g) if config.attention else nn.Identity()
        self.mid2 = ResBlock(c, c, td, g, p)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for level, width in reversed(list(enumerate(ch))):
            for _ in range(config.blocks + 1):
                self.up.append(ResBlock(c + skips.pop(), width, td, g, p))
                c = width
            if level > 0:
                self.upsample.append(nn.Conv2d(c, c, 3, padding=1))
        self.head = nn.Sequential(nn.GroupNorm(g, c), nn.SiLU(), nn.Conv2d(c, 1, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """x_t (B, 1, 28, 28) in [-1, 1] scale, t (B,) steps (integers for DDPM, 1000·t for a
        rectified flow), y (B,) class labels or None (the null label) -> (B, 1, 28, 28): ε̂ or v̂."""
        temb = self.time_mlp(timestep_embedding(t, self.config.time_dim))
        if self.label_emb is not None:
            if y is None:
                y = torch.full((x.shape[0],), self.config.num_classes, dtype=torch.long)
            temb = temb + self.label_emb(y)
        h = self.stem(x)
        hs = [h]
        blocks, n = iter(self.down), self.config.blocks
        for level in range(len(self.config.channels)):
            for _ in range(n):
                h = next(blocks)(h, temb)
                hs.append(h)
            if level < len(self.config.channels) - 1:
                h = self.downsample[level](h)  # 28 -> 14 -> 7
                hs.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, temb)), temb)
        blocks = iter(self.up)
        for i, level in enumerate(reversed(range(len(self.config.channels)))):
            for _ in range(n + 1):
                h = next(blocks)(torch.cat([h, hs.pop()], dim=1), temb)
            if level > 0:
                size = hs[-1].shape[-1]
                h = self.upsample[i](F.interpolate(h, size=size, mode="nearest"))
        return self.head(h)
