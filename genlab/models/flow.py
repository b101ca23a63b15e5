"""Normalizing flows with exact likelihoods: NICE (Dinh et al. 2015, additive coupling) and
RealNVP (Dinh et al. 2017, affine coupling, checkerboard and channel masks, multi-scale
squeeze), with Glow's actnorm and invertible 1×1 convolutions (Kingma & Dhariwal 2018) as
options; plus a 2-D toy flow.

From an 8-bit image to bits per dimension (each step's log-Jacobian enters log p):

    x ∈ {0, …, 255}^D                       the data (D = 784)
    v = x + u,  u ~ U[0, 1)^D               uniform dequantization: v ∈ [0, 256)^D (or u ~ q(u | x),
                                            ``Dequantizer``: − log q(u | x) enters too)
    y = v / 256 ∈ [0, 1)^D                  log|det ∂y/∂v| = −D log 256
    s = α + (1 − 2α) y,  h = logit(s)       log|det ∂h/∂y| = Σ_d log(1 − 2α) − log s_d − log(1 − s_d)
    z = f(h)                                the flow, log|det ∂z/∂h| summed over its layers
    log p_v(v) = log N(z; 0, I) + log|det ∂z/∂h| + log|det ∂h/∂y| − D log 256
    bits/dim = −log p_v(v) / (D ln 2)

``Flow.forward`` takes y and returns z with the log-determinant of y -> z (logit included);
``genlab.metrics.bits_per_dim`` adds the D log 256 of the 8-bit scaling; dequantization,
log p and training are in ``genlab.families.flow``. E_u[−log p_v(x + u)] is an upper
bound on the discrete −log P(x) (Theis et al. 2016), which is what papers report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn



# --- the logit preprocessing of RealNVP: part of the flow's map y -> z ------------------------



def logit_transform(y: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """h = logit(α + (1 − 2α) y) (RealNVP sec. 4.1) and its log|det ∂h/∂y| per image, (B,)."""
    s = alpha + (1 - 2 * alpha) * y
    h = torch.log(s) - torch.log1p(-s)
    logdet = (math.log(1 - 2 * alpha) - torch.log(s) - torch.log1p(-s)).flatten(1).sum(1)
    return h, logdet


def logit_inverse(h: torch.Tensor, alpha: float) -> torch.Tensor:
    """y = (sigmoid(h) − α) / (1 − 2α), the inverse of ``logit_transform``."""
    return (torch.sigmoid(h) - alpha) / (1 - 2 * alpha)






# --- invertible layers: forward(x) -> (y, log|det ∂y/∂x| per image), inverse(y) -> x -------

def _per_channel(p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A (C,) parameter shaped to broadcast over x (B, C) or (B, C, H, W)."""
    return p.view(1, -1, *([1] * (x.dim() - 2)))


class ActNorm(nn.Module):
    """y = (x + b) · exp(log s) per channel (Glow sec. 3.1); b and s set from the first
    training batch so each channel starts with zero mean and unit variance."""

    def __init__(self, channels: int, data_init: bool = True):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))
        self.log_scale = nn.Parameter(torch.zeros(channels))
        self.register_buffer("initialized", torch.tensor(not data_init))

    @torch.no_grad()
    def _init_from(self, x: torch.Tensor) -> None:
        dims = [d for d in range(x.dim()) if d != 1]
        mean, sq = x.mean(dims), x.pow(2).mean(dims)
        if dist.is_initialized():  # every DDP process starts from the same statistics
            stats = torch.stack([mean, sq]) / dist.get_world_size()
            dist.all_reduce(stats)
            mean, sq = stats
        std = (sq - mean.pow(2)).clamp_min(0).sqrt()
        self.bias.copy_(-mean)
        self.log_scale.copy_(-torch.log(std + 1e-6))
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and not self.initialized:
            self._init_from(x)
        y = (x + _per_channel(self.bias, x)) * _per_channel(self.log_scale.exp(), x)
        pixels = x[0, 0].numel()
        return y, self.log_scale.sum().expand(x.shape[0]) * pixels

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * _per_channel((-self.log_scale).exp(), y) - _per_channel(self.bias, y)


class InvConv1x1(nn.Module):
    """y = W x at every pixel, W a learned C×C matrix: log|det| = H·W·log|det W| (Glow 3.2)."""

    def __init__(self, channels: int):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(channels, channels))  # a random rotation
        self.weight = nn.Parameter(q)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.einsum("ij,bjhw->bihw", self.weight, x)
        logdet = torch.linalg.slogdet(self.weight).logabsdet * x[0, 0].numel()
        return y, logdet.expand(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(self.weight), y)


class Squeeze(nn.Module):
    """(B, C, H, W) -> (B, 4C, H/2, W/2): each 2×2 block becomes four channels (RealNVP fig. 3)."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, c, h, w = x.shape
        y = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
        return y.reshape(b, 4 * c, h // 2, w // 2), x.new_zeros(b)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        b, c, h, w = y.shape
        x = y.view(b, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
        return x.reshape(b, c // 4, 2 * h, 2 * w)


class Coupling(nn.Module):
    """y = b⊙x + (1 − b)⊙(x⊙exp(s(b⊙x)) + t(b⊙x)) with a binary mask b (RealNVP eq. 9);
    additive (NICE eq. 7): s = 0, so log|det| = 0. log|det| = Σ (1 − b)⊙s otherwise."""

    def __init__(self, mask: torch.Tensor, net: nn.Module, channels: int, affine: bool):
        super().__init__()
        self.register_buffer("mask", mask)  # (1, D), (1, 1, H, W) or (1, C, 1, 1)
        self.net = net  # b⊙x -> t, or (raw s, t) stacked on dim 1 when affine
        self.affine = affine
        if affine:  # s = scale · tanh(raw s) keeps early updates small (RealNVP sec. 4.1)
            self.scale = nn.Parameter(torch.ones(channels))

    def _shift_log_scale(self, masked: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(masked)
        free = 1 - self.mask
        if not self.affine:
            return out * free, torch.zeros_like(masked)
        raw_s, t = out.chunk(2, dim=1)
        return t * free, _per_channel(self.scale, masked) * torch.tanh(raw_s) * free

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t, s = self._shift_log_scale(x * self.mask)
        return x * s.exp() + t, s.flatten(1).sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        t, s = self._shift_log_scale(y * self.mask)  # b⊙y = b⊙x: the same s and t
        return (y - t) * (-s).exp()


def checkerboard_mask(size: int, parity: int) -> torch.Tensor:
    """(1, 1, size, size) with ones where (row + col) % 2 == parity."""
    idx = torch.arange(size)
    return ((idx[:, None] + idx[None, :]) % 2 == parity).float()[None, None]


def channel_mask(channels: int, parity: int) -> torch.Tensor:
    """(1, C, 1, 1) with ones on the first half of the channels (parity 0) or the second."""
    first = (torch.arange(channels) < channels // 2).float()
    return (first if parity == 0 else 1 - first).view(1, -1, 1, 1)


def alternate_mask(dims: int, parity: int) -> torch.Tensor:
    """(1, D) with ones on even indices (parity 0) or odd ones: NICE's partition."""
    return (torch.arange(dims) % 2 == parity).float()[None]


def mlp(widths: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between; the last starts at zero (the coupling starts as identity)."""
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.pop()
    nn.init.zeros_(layers[-1].weight)
    nn.init.zeros_(layers[-1].bias)
    return nn.Sequential(*layers)


class HalfMLP(nn.Module):
    """NICE's coupling MLP on a flat vector: reads the kept half, writes the shift of the other."""

    def __init__(self, mask: torch.Tensor, width: int, layers: int):
        super().__init__()
        self.register_buffer("kept", mask[0].nonzero()[:, 0])
        self.register_buffer("free", (1 - mask[0]).nonzero()[:, 0])
        self.net = mlp([len(self.kept)] + [width] * layers + [len(self.free)])

    def forward(self, masked: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(masked)
        out[:, self.free] = self.net(masked[:, self.kept])
        return out


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + F.relu(self.conv(h))


def conv_net(c_in: int, hidden: int, c_out: int, blocks: int) -> nn.Sequential:
    """3×3 conv, ``blocks`` residual 3×3 convs, a zero-initialised 3×3 conv to (s, t)."""
    last = nn.Conv2d(hidden, c_out, 3, padding=1)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(nn.Conv2d(c_in, hidden, 3, padding=1), nn.ReLU(),
                         *[_Residual(hidden) for _ in range(blocks)], last)


def log_sigmoid_slope(a: torch.Tensor) -> torch.Tensor:
    """log σ'(a) = log σ(a) + log(1 − σ(a)), computed stably; also the log-density of the
    standard logistic distribution at a."""
    return -F.softplus(a) - F.softplus(-a)


class Dequantizer(nn.Module):
    """Variational dequantization (Flow++, Ho et al. 2019): the noise u ∈ (0, 1)^D added to
    each 8-bit level is drawn from a density q(u | x) learned with the flow instead of U[0, 1).

    u = σ(μ(x) + e^{ℓ(x)} ε), ε ~ Logistic(0, 1), with μ, ℓ per pixel from a small conv net of
    the image. σ(ε) is exactly U[0, 1), so at μ = ℓ = 0 (the net's zero-initialised last layer)
    this is uniform dequantization, log q = 0: a trained flow keeps its likelihood at the start.
    log P(x) ≥ E_q[log p_v(x + u) − log q(u | x)], the bound the flow and q maximise together.
    """

    def __init__(self, hidden: int, blocks: int):
        super().__init__()
        self.net = conv_net(1, hidden, 2, blocks)

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 1, S, S) = k / 255, eps (B, 1, S, S) logistic noise -> u in (0, 1) and
        log q(u | x) (B,) in nats."""
        mu, log_s = self.net(x - 0.5).chunk(2, dim=1)
        h = mu + log_s.exp() * eps
        # q(u) = Logistic(ε) · |∂ε/∂h| · |∂h/∂u| = Logistic(ε) · e^{−ℓ} / σ'(h)
        log_q = (log_sigmoid_slope(eps) - log_s - log_sigmoid_slope(h)).flatten(1).sum(1)
        return torch.sigmoid(h), log_q


# --- the image flows ---------------------------------------------------------------------

@dataclass(frozen=True)
class FlowConfig:
    architecture: str = "realnvp"  # "nice": additive MLP couplings on the flat image;
    # "realnvp": affine conv couplings, checkerboard then channel masks, multi-scale
    couplings: int = 3  # NICE: coupling layers in all (4 in the paper); RealNVP: per mask
    # group (checkerboard, then channel after each squeeze); the last scale gets one more
    mlp_width: int = 400  # NICE: units per hidden layer of each coupling MLP (1000 in the
    # paper; 400 keeps the checkpoint near 13 MB)
    mlp_layers: int = 4  # NICE: hidden layers per coupling MLP (5 in the paper)
    channels: tuple[int, ...] = (32, 64, 64)  # RealNVP: coupling-net widths at 28, 14, 7 px;
    # its length is the number of scales (each but the last: squeeze, then factor out half)
    blocks: int = 1  # RealNVP: residual 3×3 convs per coupling net
    actnorm: bool = True  # RealNVP: Glow's actnorm before every coupling (data-initialised)
    invconv: bool = True  # RealNVP: Glow's 1×1 conv before channel couplings (else fixed halves)
    logit_alpha: float = 1e-6  # y -> logit(α + (1 − 2α) y) stays finite at 0 and 1; 1e-6 as
    # in MAF for MNIST: in 30-s trials it reached 1.9 bits/dim where α = 0.05 (RealNVP CIFAR) gave 3.0
    image_size: int = 28  # MNIST and Fashion-MNIST are 28×28 grey
    dequantizer: str = "uniform"  # "uniform": u ~ U[0, 1); "variational": u ~ q(u | x) learned
    # with the flow (Flow++), a tighter bound on the 8-bit likelihood
    dequantizer_channels: int = 32  # "variational": width of q's conv net (3×3 convs, ``blocks`` residual)

    def __post_init__(self) -> None:
        if self.architecture not in ("nice", "realnvp"):
            raise ValueError(f"unknown flow architecture {self.architecture!r}; valid: nice, realnvp")
        if self.dequantizer not in ("uniform", "variational"):
            raise ValueError(f"unknown dequantizer {self.dequantizer!r}; valid: uniform, variational")


class Flow(nn.Module):
    """y ∈ (0, 1)^(1×S×S) -> z ∈ R^D (flat, D = S²) and back; see the module docstring."""

    def __init__(self, config: FlowConfig):
        super().__init__()
        self.config = config
        self.scales = nn.ModuleList(self._nice() if config.architecture == "nice" else self._realnvp())
        self.dequantizer = (Dequantizer(config.dequantizer_channels, config.blocks)
                            if config.dequantizer == "variational" else None)

    def _nice(self) -> list[nn.ModuleList]:
        c = self.config
        d = c.image_size ** 2
        masks = [alternate_mask(d, i % 2) for i in range(c.couplings)]
        layers: list[nn.Module] = [Coupling(m, HalfMLP(m, c.mlp_width, c.mlp_layers), d, False)
                                   for m in masks]
        # NICE's diagonal scaling layer (sec. 3.3), initialised from the first batch as actnorm
        # is: in 25-s trials 2.3 bits/dim instead of 3.1 from the identity
        layers.append(ActNorm(d))
        return [nn.ModuleList(layers)]

    def _realnvp(self) -> list[nn.ModuleList]:
        c = self.config
        ch, size, scales = 1, c.image_size, []
        for level, hidden in enumerate(c.channels):
            last = level == len(c.channels) - 1
            layers: list[nn.Module] = []
            for i in range(c.couplings + last):  # checkerboard couplings, parities alternating
                layers += [ActNorm(ch)] if c.actnorm else []
                layers.append(Coupling(checkerboard_mask(size, i % 2),
                                       conv_net(ch, hidden, 2 * ch, c.blocks), ch, True))
            if not last:
                if size % 2:
                    raise ValueError(f"cannot squeeze {size}×{size}: use fewer scales")
                layers.append(Squeeze())
                ch, size = 4 * ch, size // 2
                for i in range(c.couplings):  # channel couplings on the squeezed tensor
                    layers += [ActNorm(ch)] if c.actnorm else []
                    layers += [InvConv1x1(ch)] if c.invconv else []
                    layers.append(Coupling(channel_mask(ch, i % 2),
                                           conv_net(ch, hidden, 2 * ch, c.blocks), ch, True))
                ch //= 2  # the other half is factored out as part of z
            scales.append(nn.ModuleList(layers))
        return scales

    @property
    def num_dims(self) -> int:
        return self.config.image_size ** 2

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """y (B, 1, S, S) in (0, 1) -> z (B, D) and log|det ∂z/∂y| (B,), the logit's included."""
        h, logdet = logit_transform(y, self.config.logit_alpha)
        if self.config.architecture == "nice":
            h = h.flatten(1)  # (B, D)
        zs = []
        for level, layers in enumerate(self.scales):
            for layer in layers:
                h, ld = layer(h)
                logdet = logdet + ld
            if level < len(self.scales) - 1:
                z, h = h.chunk(2, dim=1)  # factor out half the channels (RealNVP sec. 3.6)
                zs.append(z.flatten(1))
        return torch.cat([*zs, h.flatten(1)], dim=1), logdet

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, D) -> y (B, 1, S, S) in (0, 1)."""
        c = self.config
        if c.architecture == "nice":
            h = z
        else:
            parts = self.z_scales(z)
            h = parts.pop()
        for level in reversed(range(len(self.scales))):
            if level < len(self.scales) - 1:
                h = torch.cat([parts[level], h], dim=1)
            for layer in reversed(self.scales[level]):
                h = layer.inverse(h)
        return logit_inverse(h.view(-1, 1, c.image_size, c.image_size), c.logit_alpha)

    def z_scales(self, z: torch.Tensor) -> list[torch.Tensor]:
        """z (B, D) cut into its scales, each (B, C, H, W): for RealNVP the half factored out
        after each squeeze, then the last scale's output (coarser and coarser); for NICE the
        one flat vector as (B, 1, S, S), z_d at pixel d."""
        c = self.config
        if c.architecture == "nice":
            return [z.view(-1, 1, c.image_size, c.image_size)]
        shapes = self._factor_shapes()
        parts = z.split([math.prod(s) for s in shapes], dim=1)
        return [part.reshape(-1, *shape) for part, shape in zip(parts, shapes)]

    def _factor_shapes(self) -> list[tuple[int, int, int]]:
        """(C, H, W) of each factored-out part of z, then of the last scale's output."""
        ch, size, shapes = 1, self.config.image_size, []
        for _ in self.config.channels[:-1]:
            ch, size = 2 * ch, size // 2  # squeeze to 4C, keep half
            shapes.append((ch, size, size))
        return [*shapes, (ch, size, size)]


def widen_state(old: dict[str, torch.Tensor], new: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights for a wider network computing what ``old`` computes (Net2Net's idea, Chen et
    al. 2016, by zero blocks instead of copied units).

    ``new`` is a freshly initialised state of the same layers with more hidden channels. Each
    tensor that grew keeps ``old`` in its leading block; in a weight (out, in, …) the new
    inputs of the old outputs are zeroed, so the old units never see the new ones and the
    network's outputs (whose sizes did not grow) are unchanged. The new units keep their
    random initialisation, so the zeroed links from them to (s, t) get gradients at once (as
    a fresh coupling's zero last layer does), and through those links the rest. A learned
    dequantizer the old flow lacks keeps its fresh state (uniform noise, ``Dequantizer``).
    """
    grown = {}
    for key, fresh in new.items():
        if key not in old and key.startswith("dequantizer."):
            grown[key] = fresh.clone()
            continue
        kept = old[key]
        if kept.shape == fresh.shape:
            grown[key] = kept.clone()
            continue
        if kept.dim() != fresh.dim() or any(a > b for a, b in zip(kept.shape, fresh.shape)):
            raise ValueError(f"{key}: cannot widen {tuple(kept.shape)} to {tuple(fresh.shape)}")
        t = fresh.clone()
        t[tuple(slice(0, n) for n in kept.shape)] = kept
        if t.dim() > 1:
            t[:kept.shape[0], kept.shape[1]:] = 0
        grown[key] = t
    return grown


# --- a 2-D toy flow -----------------------------------------------------------------------------



@dataclass(frozen=True)
class ToyFlowConfig:
    layers: int = 8  # affine couplings; the masks alternate so each coordinate moves in turn
    hidden: int = 64  # units of the two hidden layers of each coupling MLP


class ToyFlow(nn.Module):
    """RealNVP on the plane: x (B, 2) -> z (B, 2), affine couplings with alternating masks."""

    def __init__(self, config: ToyFlowConfig = ToyFlowConfig()):
        super().__init__()
        self.config = config
        self.layers = nn.ModuleList(
            Coupling(alternate_mask(2, i % 2), mlp([2, config.hidden, config.hidden, 4]), 2, True)
            for i in range(config.layers))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 2) -> z (B, 2), log|det ∂z/∂x| (B,)."""
        logdet = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z


