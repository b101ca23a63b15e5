"""PixelCNN (van den Oord et al. 2016, "Pixel Recurrent Neural Networks", sec. 3.4) with
gated residual blocks (tanh ⊙ sigmoid, as in the gated PixelCNN of the same year).

p(x) = Π_i p(x_i | x_<i) in raster order. A type-A masked convolution (the centre pixel
hidden) starts the net, type-B masked convolutions (centre visible) follow, so output i
sees only inputs before i. Like the original single-stack PixelCNN it has a blind spot
(pixels up-right of i outside the growing cone), which the receptive-field picture shows.

The likelihood is a ``levels``-way softmax per pixel. The preset uses ``levels = 2``:
stochastically binarized images (each grey level g becomes 1 with probability g), i.e. a
Bernoulli per pixel, so the held-out NLL in nats per image compares with the 81.3 nats of
PixelCNN on binarized MNIST. ``levels = 256`` models the 8-bit grey levels instead
(slower head, bits/dim comparable with the flows).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class PixelCNNConfig:
    levels: int = 2  # 2: binarized pixels, a Bernoulli each (81.3-nat anchor); 256: 8-bit softmax
    channels: int = 40  # width of every masked layer (a training step of 64 images ≈ 2 s on 2 CPU cores)
    blocks: int = 12  # gated residual blocks, each a 3×3 type-B conv: receptive field grows 1 px each
    first_kernel: int = 7  # the type-A conv (7×7 as in the paper) sees 3 rows up at once
    head: int = 96  # width of the 1×1 conv before the logits
    image_size: int = 28  # MNIST and Fashion-MNIST are 28×28 grey


def causal_mask(kernel: int, mask_type: str) -> torch.Tensor:
    """(k, k) mask: rows above the centre, and the centre row left of the centre; type B
    also keeps the centre itself (PixelRNN fig. 2, single input channel)."""
    if mask_type not in ("A", "B"):
        raise ValueError(f"unknown mask type {mask_type!r}; valid: A, B")
    mask = torch.zeros(kernel, kernel)
    c = kernel // 2
    mask[:c] = 1
    mask[c, :c + (mask_type == "B")] = 1
    return mask


class MaskedConv2d(nn.Conv2d):
    """A k×k convolution whose weights are multiplied by a causal mask of type A or B."""

    def __init__(self, c_in: int, c_out: int, kernel: int, mask_type: str):
        super().__init__(c_in, c_out, kernel, padding=kernel // 2)
        self.register_buffer("mask", causal_mask(kernel, mask_type)[None, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class GatedBlock(nn.Module):
    """h + W·(tanh(a) ⊙ σ(b)), (a, b) = masked 3×3 conv of h (type B)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = MaskedConv2d(channels, 2 * channels, 3, "B")
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        a, b = self.conv(h).chunk(2, dim=1)
        return h + self.out(torch.tanh(a) * torch.sigmoid(b))


class PixelCNN(nn.Module):
    def __init__(self, config: PixelCNNConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.first = MaskedConv2d(1, c, config.first_kernel, "A")
        self.blocks = nn.Sequential(*[GatedBlock(c) for _ in range(config.blocks)])
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(c, config.head, 1), nn.ReLU(),
                                  nn.Conv2d(config.head, config.levels, 1))

    @property
    def receptive_rows(self) -> int:
        """How many rows above a pixel can reach its output (and columns either side)."""
        return self.config.first_kernel // 2 + self.config.blocks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 1, H, W) grey levels in [0, 1] (level / (levels − 1)) -> logits (B, levels, H, W)."""
        return self.head(self.blocks(self.first(x * 2 - 1)))
