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


class RasterCache:
    """Every layer's activations of an image being sampled in raster order, so that drawing
    pixel i computes one new position per layer instead of running the whole net.

    Activation (r, c) of a masked layer depends only on the layer below at positions up to
    (r, c) in raster order (the type-A first layer: on input pixels strictly before it). So
    when pixel i is next, every layer's activations before i are final, and those at i
    follow from them alone: ``logits(row, col)`` computes them, layer by layer, with each
    masked kernel's rows at or above the centre, then the 1×1 head. The cache starts from
    one full forward pass (right for the pixels before the first one sampled); after that,
    ``logits`` must be called for every pixel in raster order, with ``set`` after each draw.
    The logits equal ``model(x)[:, :, row, col]`` of the image as filled so far.
    """

    def __init__(self, model: PixelCNN, x: torch.Tensor):
        layers = [model.first, *(block.conv for block in model.blocks)]
        self.pads = [layer.kernel_size[0] // 2 for layer in layers]
        # each masked kernel's rows at or above the centre, flattened: one matmul per position
        self.kernels = [((layer.weight * layer.mask)[:, :, :k + 1].flatten(1).T.contiguous(), layer.bias)
                        for layer, k in zip(layers, self.pads)]
        self.outs = [(block.out.weight[:, :, 0, 0].T.contiguous(), block.out.bias) for block in model.blocks]
        self.head = model.head
        # inputs[j]: masked layer j's input, padded with k zero rows on top and k zero columns each side
        h = x * 2 - 1
        self.inputs = [F.pad(h, (self.pads[0],) * 3 + (0,))]
        h = model.first(h)
        for k, block in zip(self.pads[1:], model.blocks):
            self.inputs.append(F.pad(h, (k,) * 3 + (0,)))
            h = block(h)

    def logits(self, row: int, col: int) -> torch.Tensor:
        """(B, levels) logits of pixel (row, col); updates every layer's activation there."""
        for j, (k, (weight, bias)) in enumerate(zip(self.pads, self.kernels)):
            if j > 0:  # the layer below's new activation at (row, col) is this layer's input there
                self.inputs[j][:, :, row + k, col + k] = h
            window = self.inputs[j][:, :, row:row + k + 1, col:col + 2 * k + 1]
            h = torch.addmm(bias, window.flatten(1), weight)
            if j > 0:  # a gated block: h + W·(tanh(a) ⊙ σ(b))
                a, b = h.chunk(2, dim=1)
                out_weight, out_bias = self.outs[j - 1]
                h = torch.addmm(out_bias, torch.tanh(a) * torch.sigmoid(b), out_weight)
                h += self.inputs[j][:, :, row + k, col + k]
        return self.head(h[:, :, None, None])[:, :, 0, 0]

    def set(self, row: int, col: int, value: torch.Tensor) -> None:
        """Write pixel (row, col) of every image, value (B,) in [0, 1]."""
        k = self.pads[0]
        self.inputs[0][:, 0, row + k, col + k] = value * 2 - 1


def quantize(x: torch.Tensor, levels: int, gen: torch.Generator | None = None) -> torch.Tensor:
    """Images in [0, 1] -> the model's input values level / (levels − 1).

    levels = 2: stochastic binarization, 1 with probability x (drawn from ``gen``), or a
    threshold at 0.5 when ``gen`` is None (for showing one fixed held-out image).
    Otherwise: the nearest of ``levels`` evenly spaced values.
    """
    if levels == 2:
        if gen is None:
            return (x >= 0.5).to(x.dtype)
        return (torch.rand(x.shape, generator=gen, dtype=x.dtype) < x).to(x.dtype)
    return (x * (levels - 1)).round() / (levels - 1)


def nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """−log p(x) in nats per image, (B,): the per-pixel cross-entropies summed.

    Args:
        logits: (B, levels, H, W) from the model.
        x: (B, 1, H, W) quantized values level / (levels − 1).
    """
    target = (x[:, 0] * (logits.shape[1] - 1)).round().long()  # (B, H, W)
    return F.cross_entropy(logits, target, reduction="none").flatten(1).sum(1)


@torch.no_grad()
def receptive_field(model: PixelCNN, row: int, col: int, size: int | None = None) -> torch.Tensor:
    """The input pixels that reach the logits of pixel (row, col), for the picture.

    Each masked layer, from the last back to the first, spreads the set through its mask
    (a transposed convolution); the residual and 1×1 layers add nothing. The single-stack
    PixelCNN's blind spot shows as missing pixels up and to the right.

    Args:
        model: a PixelCNN (only its masks and kernel sizes are used).
        row, col: the output pixel.
        size: the image side (default: the model's ``image_size``).

    Returns:
        (size, size) bool.
    """
    size = size or model.config.image_size
    field = torch.zeros(1, 1, size, size)
    field[0, 0, row, col] = 1
    layers = [model.first, *(block.conv for block in model.blocks)]
    for layer in reversed(layers):
        field = (F.conv_transpose2d(field, layer.mask, padding=layer.padding) > 0).float()
    return field[0, 0].bool()
