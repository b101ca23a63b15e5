"""The normalizing-flow family (NICE, Dinh et al. 2015; RealNVP, Dinh et al. 2017): uniform
dequantization, the exact log-likelihood by the change of variables, the bits/dim training
step, sampling at a temperature, held-out bits/dim, the presets ``realnvp`` and ``nice``,
and the 2-D toy flow's training, density and layer-by-layer trace.

The networks (couplings, squeeze, actnorm, 1×1 convolutions, ``Flow``, ``ToyFlow``) are in
``genlab.models.flow``; its docstring walks from an 8-bit image to bits per dimension.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from genlab.families import Family, Preset
from genlab.metrics import bits_per_dim
from genlab.models.flow import Flow, FlowConfig, ToyFlow, widen_state
from genlab.train import adam_optimizers, descend, fit_points

LEVELS = 256  # 8-bit grey levels


# --- the likelihood: dequantize, then change variables ----------------------------------------

def _levels_and_noise(x: torch.Tensor, gen: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images k/255 in [0, 1] -> the levels k and one uniform draw u ~ U[0, 1) per pixel."""
    return (x * (LEVELS - 1)).round(), torch.rand(x.shape, generator=gen, dtype=x.dtype)


def dequantize(x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """Uniform dequantization: images k/255 in [0, 1] -> y = (k + u) / 256, u ~ U[0, 1)."""
    k, u = _levels_and_noise(x, gen)
    return (k + u) / LEVELS


def dequantized(model: nn.Module, x: torch.Tensor, gen: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """y = (k + u) / 256 and log q(u | x) per image (B,): u ~ U[0, 1) (log q = 0), or from the
    flow's learned ``dequantizer`` (the same uniform draws, turned into its logistic noise)."""
    k, u = _levels_and_noise(x, gen)
    deq = getattr(model, "dequantizer", None)
    if deq is None:
        return (k + u) / LEVELS, torch.zeros(len(x), dtype=x.dtype)
    u, log_q = deq(x, torch.logit(u.clamp(1e-6, 1 - 1e-6)))
    return (k + u) / LEVELS, log_q


def dequantized_log_prob(model: nn.Module, x: torch.Tensor, gen: torch.Generator | None = None
                         ) -> torch.Tensor:
    """log p(y) − log q(u | x) per image (B,) in nats, y = (k + u) / 256: the single-sample
    bound on log P(k) (in y's units) that training maximises and bits/dim reports."""
    y, log_q = dequantized(model, x, gen)
    return log_prob(model, y) - log_q


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over all but the batch dimension, (B,)."""
    return -0.5 * (z.pow(2) + math.log(2 * math.pi)).flatten(1).sum(1)


def log_prob(model: nn.Module, y: torch.Tensor) -> torch.Tensor:
    """log p(y) per example (B,) in nats: log N(z; 0, I) + log|det ∂z/∂y| (any flow here)."""
    z, logdet = model(y)
    return standard_normal_log_prob(z) + logdet


# --- training ---------------------------------------------------------------------------------

def flow_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
              ) -> dict[str, float]:
    """Minimise bits/dim of dequantized images: (−log p((k + u) / 256) + log q(u | x)) / (D ln 2) + 8,
    u ~ U[0, 1) (log q = 0) or from the flow's learned dequantizer."""
    (opt,) = optimizers
    bpd = bits_per_dim(dequantized_log_prob(model, x, gen), x[0].numel()).mean()
    descend(opt, bpd, max_norm=100.0)  # rare huge gradients from the logit tails
    return {"bpd": bpd.item()}


# --- sampling and evaluation -------------------------------------------------------------------

@torch.inference_mode()
def flow_sample(model, n: int, gen: torch.Generator, *,
                temperature: float | None = 1.0) -> torch.Tensor:
    """y = f⁻¹(z), z ~ N(0, T² I) (Glow sec. 5: T < 1 trades diversity for cleaner images).

    Returns:
        (n, 1, 28, 28) images in [0, 1] (dequantized scale: level ≈ 256 y).
    """
    t = 1.0 if temperature is None else temperature
    z = t * torch.randn((n, model.num_dims), generator=gen)
    return model.inverse(z).clamp(0, 1)


@torch.inference_mode()
def flow_bits_per_dim(model, x: torch.Tensor, gen: torch.Generator, *, batch: int = 500) -> torch.Tensor:
    """Bits/dim of each image under a flow, one dequantization per image (uniform, or from the
    flow's learned q(u | x)).

    Args:
        model: a Flow in eval mode.
        x: images (N, 1, 28, 28), k / 255 in [0, 1].
        gen: the dequantization noise.

    Returns:
        (N,) bits per dimension: (−log p_v(k + u) + log q(u | x)) / (D ln 2), the logit
        Jacobian counted (log q = 0 for uniform noise).
    """
    dims = x[0].numel()
    return torch.cat([bits_per_dim(dequantized_log_prob(model, xb, gen), dims)
                      for xb in x.split(batch)])


@torch.inference_mode()
def flow_metrics(model, x: torch.Tensor, gen: torch.Generator, *, labels=None,
                 batch: int = 500) -> dict[str, float]:
    """Held-out NLL of a flow in bits/dim, the standard way (RealNVP, Glow): one uniform
    dequantization per image, −log p_v(k + u) / (D ln 2) with the logit Jacobian counted.

    Args:
        model: a Flow in eval mode.
        x: held-out images (N, 1, 28, 28), k / 255 in [0, 1].
        gen: the dequantization noise.

    Returns:
        bits_per_dim, nll_nats (the same per image, for 8-bit data on [0, 256)^D) and n.
    """
    dims = x[0].numel()
    bpd = flow_bits_per_dim(model, x, gen, batch=batch).double().mean().item()
    return {"bits_per_dim": round(bpd, 4), "nll_nats": round(bpd * dims * math.log(2), 2),
            "n": len(x)}


# --- the 2-D toy flow: trained on the page in seconds ------------------------------------------

def toy_flow_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                  ) -> dict[str, float]:
    """Minimise −log p(x) (nats per point) of 2-D points: the plane needs no dequantization."""
    (opt,) = optimizers
    loss = -log_prob(model, x).mean()
    descend(opt, loss)
    return {"nll": loss.item()}




def train_toy_flow(model: torch.nn.Module, points: torch.Tensor, *, steps: int = 500,
                   batch_size: int = 256, lr: float = 3e-3, seed: int = 0,
                   on_step: Callable[[int, dict], None] | None = None) -> dict:
    """Fit a 2-D toy flow to ``points`` with the one fit loop (a few seconds on a CPU).

    Args:
        model: a ``ToyFlow``, trained in place.
        points: (N, 2) data, e.g. ``genlab.toy.toy_data("moons", 2000, gen)``.
        steps, batch_size, lr, seed: as in ``TrainConfig``.
        on_step: ``on_step(step, {"nll": running mean})`` for a progress bar.

    Returns:
        The training facts of ``fit`` (final running NLL under ``final``).
    """
    return fit_points(toy_flow_step, model, points, steps=steps, batch_size=batch_size, lr=lr,
                      seed=seed, on_step=on_step)


@torch.inference_mode()
def toy_trace(model: ToyFlow, points: torch.Tensor, direction: str = "generate") -> list[torch.Tensor]:
    """The points after each layer, for the warped-grid picture.

    Args:
        model: a ToyFlow.
        points: (N, 2); z-space points for ``generate``, data points for ``normalize``.
        direction: ``generate`` runs z -> x (inverse layers, last first); ``normalize``
            runs x -> z (forward layers).

    Returns:
        layers + 1 tensors (N, 2): the input, then the points after each layer.
    """
    if direction not in ("generate", "normalize"):
        raise ValueError(f"unknown direction {direction!r}; valid: generate, normalize")
    out = [points]
    layers = list(model.layers) if direction == "normalize" else list(reversed(model.layers))
    for layer in layers:
        points = layer(points)[0] if direction == "normalize" else layer.inverse(points)
        out.append(points)
    return out


@torch.inference_mode()
def toy_density(model: ToyFlow, lim: float = 3.5, n: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """log p(x) on an n×n grid over [-lim, lim]², for the heatmap.

    Returns:
        (axis (n,), log density (n, n)) with rows along x2 (low to high), columns along x1.
    """
    axis = torch.linspace(-lim, lim, n)
    x2, x1 = torch.meshgrid(axis, axis, indexing="ij")
    pts = torch.stack([x1.flatten(), x2.flatten()], 1)
    z, logdet = model(pts)
    return axis, (standard_normal_log_prob(z) + logdet).view(n, n)


def prepare_wider(teacher, out: Path, *, seed: int, config: FlowConfig, images: torch.Tensor,
                  labels: torch.Tensor, **_) -> tuple:
    """``genlab train realnvp --from DATASET/REALNVP --set channels=…``: a RealNVP with wider
    coupling networks starts as the trained one, the same function (``widen_state``), and
    goes on learning with the extra channels; ``--set dequantizer=variational`` adds a learned
    q(u | x) that starts as uniform noise (``Dequantizer``); everything else is the teacher's.

    Returns (config, images, labels, initial weights), the training data unchanged."""
    source = teacher.model.config
    if teacher.card["family"] != "flow" or source.architecture != "realnvp":
        raise ValueError(f"--from {teacher.id}: a RealNVP can start from a trained RealNVP, "
                         f"not a {teacher.card['family']} {getattr(source, 'architecture', '')}".rstrip())
    if config.architecture != "realnvp" or len(config.channels) != len(source.channels) or any(
            b < a for a, b in zip(source.channels, config.channels)):
        raise ValueError(f"--from {teacher.id}: --set channels= needs {len(source.channels)} widths, "
                         f"each at least the teacher's {','.join(map(str, source.channels))}")
    q = source if source.dequantizer == "variational" else config  # a learned q is kept as it is
    config = dataclasses.replace(source, channels=tuple(config.channels), dequantizer=q.dequantizer,
                                 dequantizer_channels=q.dequantizer_channels)
    torch.manual_seed(seed)  # the new channels' initialisation, as a run from scratch
    fresh = Flow(config).state_dict()
    return config, images, labels, widen_state(teacher.model.state_dict(), fresh)


PRESETS = {
    "realnvp": Preset("flow", {"architecture": "realnvp"}, train={"lr": 1e-3, "batch_size": 64}),
    "nice": Preset("flow", {"architecture": "nice", "couplings": 4, "actnorm": False,
                            "invconv": False}, train={"lr": 1e-3, "batch_size": 128}),
}

FAMILY = Family(
    name="flow", config=FlowConfig, model=Flow,
    make_optimizers=adam_optimizers, train_step=flow_step,
    sample=flow_sample, evaluate=flow_metrics, sample_options=("temperature",), prepare=prepare_wider,
    equation=r"\log p(x) = \log \mathcal{N}\big(f(x); 0, I\big)"
             r" + \log\Big|\det \frac{\partial f}{\partial x}\Big|,\qquad y_{b} = x_{b},\;\; y_{\bar b} = x_{\bar b} \odot e^{s(x_b)} + t(x_b)",
    about=("An invertible network f maps an image to a Gaussian z of the same size; the "
           "change of variables gives the exact likelihood. Coupling layers keep half of "
           "the pixels and shift (NICE) or scale and shift (RealNVP) the other half, so f⁻¹ "
           "and the log-determinant are cheap. Sampling inverts f on z ~ N(0, T²I)."),
)
