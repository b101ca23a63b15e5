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

``stacks = 2`` is the gated PixelCNN's fix of the blind spot (van den Oord et al. 2016,
"Conditional Image Generation with PixelCNN Decoders", sec. 2.2): a vertical stack whose
activation at (r, c) sees only the rows above r (a 2×3 convolution of the rows r − 1 and r of
the layer below, which itself sees only rows above its own), and a horizontal stack that sees
row r left of c (a 1×2 convolution: c − 1 and c) and takes the vertical stack's
pre-activations through a 1×1 link. Together they cover every earlier pixel within reach.
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
    stacks: int = 1  # 1: one masked stack (a blind spot up-right); 2: vertical + horizontal (none)
    dropout: float = 0.0  # on each block's gated activations while training (stacks = 2)

    def __post_init__(self):
        if self.stacks not in (1, 2):
            raise ValueError(f"stacks must be 1 (masked) or 2 (vertical and horizontal), not {self.stacks}")


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


def gate(pre: torch.Tensor) -> torch.Tensor:
    """tanh(a) ⊙ σ(b) of the two channel halves (a, b) of ``pre``."""
    a, b = pre.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedBlock(nn.Module):
    """h + W·(tanh(a) ⊙ σ(b)), (a, b) = masked 3×3 conv of h (type B)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = MaskedConv2d(channels, 2 * channels, 3, "B")
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.out(gate(self.conv(h)))


class TwoStackBlock(nn.Module):
    """One layer of the gated PixelCNN: v' = gate(V ∗ v) with V a 2×3 kernel on rows r − 1, r;
    h' = h + W·gate(H ∗ h + L·(V ∗ v)) with H a 1×2 kernel on columns c − 1, c and L a 1×1 link."""

    def __init__(self, channels: int, dropout: float = 0.0):
        super().__init__()
        self.v_conv = nn.Conv2d(channels, 2 * channels, (2, 3))
        self.h_conv = nn.Conv2d(channels, 2 * channels, (1, 2))
        self.link = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, v: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v_pre = self.v_conv(F.pad(v, (1, 1, 1, 0)))  # rows r − 1, r; columns c − 1 … c + 1
        h_pre = self.h_conv(F.pad(h, (1, 0, 0, 0))) + self.link(v_pre)  # columns c − 1, c
        return gate(v_pre), h + self.out(self.drop(gate(h_pre)))


class TwoStackFirst(nn.Module):
    """The first layer without a mask: v = the p rows above (p×k kernel, p = k // 2), h = the p
    pixels left on the row (1×p) plus a 1×1 link from v: together the type-A k×k mask's pixels."""

    def __init__(self, channels: int, kernel: int):
        super().__init__()
        self.p = kernel // 2
        self.v_conv = nn.Conv2d(1, channels, (self.p, kernel))
        self.h_conv = nn.Conv2d(1, channels, (1, self.p))
        self.link = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p, (height, width) = self.p, x.shape[-2:]
        v = self.v_conv(F.pad(x, (p, p, p, 0)))[:, :, :height]  # rows r − p … r − 1
        h = self.h_conv(F.pad(x, (p, 0, 0, 0)))[:, :, :, :width] + self.link(v)  # columns c − p … c − 1
        return v, h


class PixelCNN(nn.Module):
    def __init__(self, config: PixelCNNConfig):
        super().__init__()
        self.config = config
        c = config.channels
        if config.stacks == 1:
            self.first = MaskedConv2d(1, c, config.first_kernel, "A")
            self.blocks = nn.Sequential(*[GatedBlock(c) for _ in range(config.blocks)])
        else:
            self.first = TwoStackFirst(c, config.first_kernel)
            self.blocks = nn.ModuleList(TwoStackBlock(c, config.dropout) for _ in range(config.blocks))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(c, config.head, 1), nn.ReLU(),
                                  nn.Conv2d(config.head, config.levels, 1))

    @property
    def receptive_rows(self) -> int:
        """How many rows above a pixel can reach its output (and columns either side)."""
        return self.config.first_kernel // 2 + self.config.blocks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 1, H, W) grey levels in [0, 1] (level / (levels − 1)) -> logits (B, levels, H, W)."""
        if self.config.stacks == 1:
            return self.head(self.blocks(self.first(x * 2 - 1)))
        v, h = self.first(x * 2 - 1)
        for block in self.blocks:
            v, h = block(v, h)
        return self.head(h)
