"""The PixelCNN family (van den Oord et al. 2016): p(x) = Π_i p(x_i | x_<i) in raster order.
Quantization of the input, the exact NLL as a sum of per-pixel cross-entropies, the
training step, the cached raster-order sampler (``RasterCache``: one new activation per
layer per pixel), completions, the masked receptive field, held-out evaluation and the
``pixelcnn`` preset.

The network (masked convolutions, gated blocks) is ``genlab.models.pixelcnn.PixelCNN``.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from genlab.families import Family, Preset
from genlab.metrics import bits_per_dim
from genlab.models.pixelcnn import PixelCNN, PixelCNNConfig, gate
from genlab.train import adam_optimizers, descend


# --- the likelihood -----------------------------------------------------------------------------

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
    if model.config.stacks == 2:
        return _two_stack_field(model, row, col, size)
    field = torch.zeros(1, 1, size, size)
    field[0, 0, row, col] = 1
    layers = [model.first, *(block.conv for block in model.blocks)]
    for layer in reversed(layers):
        field = (F.conv_transpose2d(field, layer.mask, padding=layer.padding) > 0).float()
    return field[0, 0].bool()


def _reach(field: torch.Tensor, rows, cols) -> torch.Tensor:
    """The positions (r + dr, c + dc), dr in ``rows``, dc in ``cols``, of every (r, c) in the
    bool map ``field``: what a layer reads to compute ``field``."""
    out = torch.zeros_like(field)
    size_r, size_c = field.shape
    for dr in rows:
        for dc in cols:
            src = field[max(0, -dr):size_r - max(0, dr), max(0, -dc):size_c - max(0, dc)]
            out[max(0, dr):size_r - max(0, -dr), max(0, dc):size_c - max(0, -dc)] |= src
    return out


def _two_stack_field(model: PixelCNN, row: int, col: int, size: int) -> torch.Tensor:
    """``receptive_field`` of the two-stack net, layer by layer from the output down: a block's
    h reads h at columns c − 1, c and (through the link) the vertical pre-activation at (r, c);
    that and v read v at rows r − 1, r and columns c − 1 … c + 1."""
    h = torch.zeros(size, size, dtype=torch.bool)
    h[row, col] = True
    v = torch.zeros_like(h)
    for _ in model.blocks:
        h, v = _reach(h, (0,), (-1, 0)), _reach(h | v, (-1, 0), (-1, 0, 1))
    p = model.first.p
    return _reach(h, (0,), range(-p, 0)) | _reach(h | v, range(-p, 0), range(-p, p + 1))


# --- training -------------------------------------------------------------------------------------

def pixelcnn_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                  ) -> dict[str, float]:
    """Minimise −log p(x) = Σ_i CE(logits_i, x_i) on freshly quantized (binarized) images."""
    (opt,) = optimizers
    levels = getattr(model, "module", model).config.levels
    xq = quantize(x, levels, gen)  # a new binarization of every image at every step
    loss = nll(model(xq), xq).mean()
    descend(opt, loss)
    return {"nats": loss.item(), "bpd": bits_per_dim(-loss, x[0].numel(), levels=1).item()}


# --- sampling: pixel by pixel, every layer's activations cached -----------------------------------

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


class TwoStackRasterCache:
    """``RasterCache`` for the two-stack net. The vertical stack at row r depends on rows above
    only, so at the first pixel of a row every layer's v for the whole row is computed from
    the finished rows (one row-high convolution per layer); then each pixel computes one new
    horizontal activation per layer (its 1×2 window, the link from the row's vertical
    pre-activation, the gate, the 1×1 out) and the head. Same contract as ``RasterCache``."""

    def __init__(self, model: PixelCNN, x: torch.Tensor):
        self.model, first, self.p = model, model.first, model.first.p
        p = self.p
        self.x = F.pad(x * 2 - 1, (p, p, p, 0))  # p zero rows on top, p zero columns each side
        h = x * 2 - 1
        v, hh = first(h)
        self.v, self.v_pre, self.h = [v], [None], [F.pad(hh, (1, 0))]  # h: one zero column left
        for block in model.blocks:
            self.v_pre.append(block.v_conv(F.pad(v, (1, 1, 1, 0))))
            v, hh = block(v, hh)
            self.v.append(v)
            self.h.append(F.pad(hh, (1, 0)))
        self.h_first = first.h_conv.weight.flatten(1).T.contiguous(), first.h_conv.bias  # (p, c)
        self.h_convs = [(b.h_conv.weight.flatten(2), b.h_conv.bias) for b in model.blocks]  # (2c, c, 2)

    def _row(self, row: int) -> None:
        """Every layer's vertical activations (and pre-activations) of row ``row``."""
        first, p = self.model.first, self.p
        self.v[0][:, :, row] = first.v_conv(self.x[:, :, row:row + p])[:, :, 0]
        for j, block in enumerate(self.model.blocks, start=1):
            below = F.pad(self.v[j - 1][:, :, max(row - 1, 0):row + 1], (1, 1, 1 if row == 0 else 0, 0))
            pre = block.v_conv(below)[:, :, 0]
            self.v_pre[j][:, :, row] = pre
            self.v[j][:, :, row] = gate(pre)

    def logits(self, row: int, col: int) -> torch.Tensor:
        """(B, levels) logits of pixel (row, col); updates every layer's activation there."""
        if col == 0:
            self._row(row)
        first, p = self.model.first, self.p
        weight, bias = self.h_first
        window = self.x[:, 0, row + p, col:col + p]  # the p pixels left of (row, col)
        h = torch.addmm(bias, window, weight) + F.linear(self.v[0][:, :, row, col],
                                                        first.link.weight[:, :, 0, 0], first.link.bias)
        self.h[0][:, :, row, col + 1] = h
        for j, (block, (hw, hb)) in enumerate(zip(self.model.blocks, self.h_convs), start=1):
            pair = self.h[j - 1][:, :, row, col:col + 2]  # (B, c, 2): columns c − 1, c
            pre = torch.einsum("bik,oik->bo", pair, hw) + hb
            pre = pre + F.linear(self.v_pre[j][:, :, row, col], block.link.weight[:, :, 0, 0], block.link.bias)
            h = h + F.linear(gate(pre), block.out.weight[:, :, 0, 0], block.out.bias)
            self.h[j][:, :, row, col + 1] = h
        return self.model.head(h[:, :, None, None])[:, :, 0, 0]

    def set(self, row: int, col: int, value: torch.Tensor) -> None:
        """Write pixel (row, col) of every image, value (B,) in [0, 1]."""
        self.x[:, 0, row + self.p, col + self.p] = value * 2 - 1


def raster_cache(model: PixelCNN, x: torch.Tensor) -> RasterCache | TwoStackRasterCache:
    """The raster-order cache for the model's architecture."""
    return TwoStackRasterCache(model, x) if model.config.stacks == 2 else RasterCache(model, x)


PixelCallback = Callable[[int, torch.Tensor, torch.Tensor], None]


@torch.inference_mode()
def pixelcnn_fill(model, x: torch.Tensor, gen: torch.Generator, *, start: int = 0,
                  on_pixel: PixelCallback | None = None) -> torch.Tensor:
    """Sample pixels ``start``, start + 1, … of x in raster order, each from p(x_i | x_<i).

    Each step computes only the one new activation per layer at pixel i (``RasterCache``):
    the same logits as running the net on the whole image, ~100× less work.

    Args:
        model: a PixelCNN in eval mode.
        x: (n, 1, H, W) values level / (levels − 1); pixels before ``start`` are kept.
        gen: the randomness of every draw.
        start: the raster index of the first pixel to sample.
        on_pixel: called as ``on_pixel(i, probs (n, levels), x)`` after pixel i is drawn
            (x is the canvas being filled: copy it to keep a frame).

    Returns:
        A filled copy of x.
    """
    x = x.clone()
    cache = raster_cache(model, x)
    levels, width = model.config.levels, x.shape[-1]
    for i in range(start, x.shape[-2] * width):
        row, col = divmod(i, width)
        probs = torch.softmax(cache.logits(row, col), dim=1)  # (n, levels)
        level = torch.multinomial(probs, 1, generator=gen)[:, 0]
        x[:, 0, row, col] = level.to(x.dtype) / (levels - 1)
        cache.set(row, col, x[:, 0, row, col])
        if on_pixel:
            on_pixel(i, probs, x)
    return x


def pixelcnn_sample(model, n: int, gen: torch.Generator, *,
                    on_pixel: PixelCallback | None = None) -> torch.Tensor:
    """n images drawn pixel by pixel from an empty canvas: (n, 1, H, W) in [0, 1]."""
    size = model.config.image_size
    return pixelcnn_fill(model, torch.zeros(n, 1, size, size), gen, on_pixel=on_pixel)


def pixelcnn_complete(model, images: torch.Tensor, from_row: int, gen: torch.Generator, *,
                      on_pixel: PixelCallback | None = None) -> torch.Tensor:
    """Keep rows < ``from_row`` of images (n, 1, H, W) in [0, 1] (binarized at 0.5 for a
    2-level model) and sample the rest: completions (n, 1, H, W)."""
    x = quantize(images, model.config.levels)
    x[:, :, from_row:] = 0
    return pixelcnn_fill(model, x, gen, start=from_row * x.shape[-1], on_pixel=on_pixel)


# --- evaluation -------------------------------------------------------------------------------------

def _mean_per_image(score, x: torch.Tensor, batch: int) -> float:
    """The mean over x of ``score(x batch) -> (B,)``, computed ``batch`` images at a time."""
    return sum(score(x[i:i + batch]).sum().item() for i in range(0, len(x), batch)) / len(x)


@torch.inference_mode()
def pixelcnn_metrics(model, x: torch.Tensor, gen: torch.Generator, *, labels=None,
                     batch: int = 500) -> dict[str, float]:
    """Held-out NLL of a PixelCNN: Σ_i −log p(x_i | x_<i), exact.

    Args:
        model: a PixelCNN in eval mode.
        x: held-out images (N, 1, 28, 28) in [0, 1].
        gen: the stochastic binarization of x (one draw per image) for a 2-level model.

    Returns:
        nll_nats per image (binarized: compare with PixelCNN's 81.3 on binarized MNIST),
        bits_per_dim, levels and n.
    """
    def score(xb: torch.Tensor) -> torch.Tensor:
        xq = quantize(xb, model.config.levels, gen)
        return nll(model(xq), xq)

    nats = _mean_per_image(score, x, batch)
    bpd = bits_per_dim(torch.tensor(-nats), x[0].numel(), levels=1).item()
    return {"nll_nats": round(nats, 3), "bits_per_dim": round(bpd, 4), "levels": model.config.levels,
            "n": len(x)}


PRESETS = {"pixelcnn": Preset("pixelcnn", {}, train={"lr": 1e-3, "batch_size": 64})}

FAMILY = Family(
    name="pixelcnn", config=PixelCNNConfig, model=PixelCNN,
    make_optimizers=adam_optimizers, train_step=pixelcnn_step,
    sample=pixelcnn_sample, evaluate=pixelcnn_metrics,
    equation=r"p(x) = \prod_{i=1}^{D} p\big(x_i \mid x_1, \dots, x_{i-1}\big)",
    about=("An autoregressive model: masked convolutions let each pixel's prediction see "
           "only the pixels above and to its left, so one pass gives every conditional and "
           "the exact likelihood. Sampling is sequential: 784 passes, one pixel each, in "
           "raster order."),
)
