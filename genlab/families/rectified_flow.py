"""Rectified flow (Liu et al. 2022, "Flow straight and fast"; flow matching, Lipman et al.
2022): learn the velocity of the straight path from noise to data, then generate by
solving an ODE. Reflow retrains on the model's own (noise, sample) pairs so its paths get
straighter and one or two steps suffice. Class-conditional with classifier-free guidance
(Ho & Salimans 2022).

Convention, used everywhere in genlab: t runs from 0 (noise) to 1 (data),

    x_t = t·x₁ + (1 − t)·x₀,   x₀ ~ N(0, I),  x₁ = an image scaled to [−1, 1]
    loss  = E_{t, x₀, x₁} ‖(x₁ − x₀) − v_θ(x_t, t)‖²,   t ~ U[0, 1]
    generate: dx/dt = v_θ(x, t) from x(0) = x₀ ~ N(0, I) to x(1)

(The DDPM counts its steps the other way, t = T … 0 from noise to data.) The velocity
network is the diffusion UNet (``genlab.models.unet``), fed 1000·t so its time embedding
sees the same range as a DDPM's integer steps.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from genlab.families import Family, Preset
from genlab.families.ddpm import FastDenoiser
from genlab.models.unet import UNet, UNetConfig
from genlab.train import adam_optimizers, descend, fit_points

log = logging.getLogger(__name__)

TIME_SCALE = 1000.0  # the UNet sees 1000·t, the range of a DDPM's steps
SOLVERS = ("euler", "heun")
MAX_STEPS = 1000


@dataclass(frozen=True)
class RectifiedFlowConfig(UNetConfig):
    """The velocity UNet's config plus how the flow was trained (the network ignores these)."""

    label_dropout: float = 0.1  # P(label -> null) per training image: one model, conditional and not
    reflow: int = 0  # 0: a 1-rectified flow (noise, data) pairs; k: trained on the k-1-flow's ODE pairs


# --- the interpolation and the loss ---------------------------------------------------------------

def interpolate(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = t·x₁ + (1 − t)·x₀ with one t per image (B,)."""
    t = t.view(-1, *[1] * (x0.ndim - 1))
    return t * x1 + (1 - t) * x0


def endpoints(x: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(x₀, x₁) of a training batch: images (B, 1, H, W) in [0, 1] get fresh noise x₀; reflow
    pairs (B, 2, H, W) hold (x₀, x₁) already (channel 0 the noise, channel 1 its ODE sample)."""
    if x.shape[1] == 2:
        return x[:, :1], x[:, 1:]
    x1 = x * 2 - 1
    return torch.randn(x1.shape, generator=gen), x1


def drop_labels(y: torch.Tensor, num_classes: int, p: float, gen: torch.Generator) -> torch.Tensor:
    """Labels with each replaced by the null label ``num_classes`` with probability p (CFG training)."""
    drop = torch.rand(y.shape, generator=gen) < p
    return torch.where(drop, torch.full_like(y, num_classes), y)


def rf_loss(model, x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor,
            y: torch.Tensor | None = None) -> torch.Tensor:
    """‖(x₁ − x₀) − v_θ(x_t, t)‖² averaged over pixels and images (Liu et al. 2022, eq. 1)."""
    v = model(interpolate(x0, x1, t), t * TIME_SCALE, y)
    return F.mse_loss(v, x1 - x0)


def rf_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
            ) -> dict[str, float]:
    """One velocity-matching step, t ~ U[0, 1], labels dropped to null with ``label_dropout``."""
    (opt,) = optimizers
    cfg = getattr(model, "module", model).config
    x0, x1 = endpoints(x, gen)
    t = torch.rand((x.shape[0],), generator=gen)
    labels = drop_labels(y.long(), cfg.num_classes, cfg.label_dropout, gen) if cfg.num_classes else None
    loss = rf_loss(model, x0, x1, t, labels)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"loss": loss.item()}


# --- the velocity field, with classifier-free guidance ----------------------------------------

Label = int | torch.Tensor | None  # one class for all images, a class per image (B,), or none


def velocity(model, x: torch.Tensor, t: float, label: Label = None,
             guidance: float = 1.0) -> torch.Tensor:
    """v(x, t) for all images at one time t ∈ [0, 1].

    Unconditional (``label`` None): v_∅. For a class c: v = v_∅ + w·(v_c − v_∅), so w = 0 is
    unconditional, w = 1 plain conditional, w > 1 guided (sharper, less varied).
    """
    b = x.shape[0]
    steps = torch.full((b,), t * TIME_SCALE)
    num_classes = model.config.num_classes
    if label is None or not num_classes:
        return model(x, steps)
    y = torch.full((b,), label, dtype=torch.long) if isinstance(label, int) else label.long()
    if guidance == 1.0:
        return model(x, steps, y)
    null = torch.full((b,), num_classes, dtype=torch.long)
    v_null, v_cond = model(torch.cat([x, x]), torch.cat([steps, steps]), torch.cat([null, y])).chunk(2)
    return v_null + guidance * (v_cond - v_null)


def check_solver(sampler: str, steps: int) -> None:
    """A clear ValueError for an unknown solver or a step count outside 1..1000."""
    if sampler not in SOLVERS:
        raise ValueError(f"unknown ODE solver {sampler!r}; valid: {', '.join(SOLVERS)}")
    if not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an integer in 1..{MAX_STEPS}; got {steps!r}")


def evaluations(sampler: str, steps: int) -> int:
    """Network evaluations (NFE) of a K-step solve without guidance: K for Euler, 2K − 1 for
    Heun (its last step has no correction, see ``ode_solve``)."""
    return steps if sampler == "euler" else 2 * steps - 1


@torch.inference_mode()
def ode_solve(model, x0: torch.Tensor, *, sampler: str = "heun", steps: int = 8,
              label: Label = None, guidance: float = 1.0,
              on_step: Callable[[int, int], None] | None = None,
              keep: list | None = None) -> torch.Tensor:
    """Integrate dx/dt = v(x, t) from t = 0 (x₀) to t = 1 in K equal steps.

    Euler: x ← x + Δt·v(x, t). Heun (the trapezoid rule, second order): x̃ = x + Δt·v(x, t),
    then x ← x + Δt/2·(v(x, t) + v(x̃, t + Δt)): two evaluations per step, except the last,
    which is an Euler step (as in Karras et al. 2022, Algorithm 1): the velocity at t = 1 is
    the least well learned (its target x₁ − x₀ needs E[x₀ | x₁], which t ~ U[0, 1] almost never
    trains), and correcting with it put speckles on the trained Fashion-MNIST flow's
    backgrounds (FD 273 → 101 at K = 8, 500 samples). The global error stays O(Δt²).

    Args:
        model: the velocity network (a UNet, or a FastDenoiser wrapping one).
        x0: (B, 1, H, W) noise.
        keep: if a list, gets (t, x_t, v(x_t, t)) at each step, then (1, x₁, None); the
            straight-line guess of x₁ from step t is x_t + (1 − t)·v.

    Returns:
        x₁ (B, 1, H, W) in the [−1, 1] scale (not clamped).
    """
    check_solver(sampler, steps)
    x, dt = x0, 1.0 / steps
    for i in range(steps):
        t = i * dt
        v = velocity(model, x, t, label, guidance)
        if keep is not None:
            keep.append((t, x, v))
        if sampler == "euler" or i == steps - 1:
            x = x + dt * v
        else:
            x_pred = x + dt * v
            x = x + 0.5 * dt * (v + velocity(model, x_pred, t + dt, label, guidance))
        if on_step:
            on_step(i + 1, steps)
    if keep is not None:
        keep.append((1.0, x, None))
    return x


def rf_sample(model, n: int, gen: torch.Generator, *, sampler: str | None = "heun",
              steps: int | None = 8, label: int | None = None, guidance: float | None = 1.0,
              on_step: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """n images: x₀ ~ N(0, I) solved to t = 1, (n, 1, 28, 28) in [0, 1]."""
    size = 28
    x0 = torch.randn((n, 1, size, size), generator=gen)
    x1 = ode_solve(model, x0, sampler=sampler or "heun", steps=8 if steps is None else steps, label=label,
                   guidance=1.0 if guidance is None else guidance, on_step=on_step)
    return ((x1 + 1) / 2).clamp(0, 1)


# --- reflow: pairs (x₀, ODE(x₀)) and straightness -------------------------------------------------

@torch.inference_mode()
def make_pairs(model, n: int, gen: torch.Generator, *, sampler: str = "heun", steps: int = 25,
               batch: int = 250, done: tuple[torch.Tensor, torch.Tensor] | None = None,
               on_batch: Callable[[torch.Tensor, torch.Tensor], None] | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """The coupling a reflow trains on: n noise images x₀ and the flow's x₁ = ODE(x₀).

    For a class-conditional flow each pair gets a label drawn uniformly and x₁ is solved
    with that label (w = 1); a reflow trained with label dropout then learns v_∅ from the
    same pairs.

    Args:
        done: pairs and labels an interrupted call with the same arguments had drawn (whole
            batches): their noise is drawn again to move ``gen`` on, their ODE is not solved.
        on_batch: called with all pairs and labels so far after each batch (to keep them).

    Returns:
        pairs (n, 2, 28, 28) float32: channel 0 x₀, channel 1 x₁ (scale [−1, 1]); labels (n,).
    """
    pairs, labels = ([done[0]], [done[1]]) if done is not None else ([], [])
    have = 0 if done is None else len(done[0])
    classes = model.config.num_classes
    for i in range(0, n, batch):
        b = min(batch, n - i)
        x0 = torch.randn((b, 1, 28, 28), generator=gen)
        y = torch.randint(0, max(classes, 1), (b,), generator=gen)
        if i + b <= have:
            continue
        x1 = ode_solve(model, x0, sampler=sampler, steps=steps, label=y if classes else None)
        pairs.append(torch.cat([x0, x1], dim=1))
        labels.append(y)
        if on_batch:
            on_batch(torch.cat(pairs), torch.cat(labels))
    return torch.cat(pairs), torch.cat(labels)


@torch.inference_mode()
def straightness(model, x0: torch.Tensor, *, steps: int = 50, label: Label = None) -> float:
    """S = ∫₀¹ E‖(x₁ − x₀) − v(x_t, t)‖² dt along the flow's own paths (Liu et al. 2022,
    def. 3.2), per pixel: 0 for perfectly straight paths. Euler with K steps from x₀.

    Args:
        model: the velocity network.
        x0: (B, 1, H, W) noise: the paths' starting points.
    """
    keep: list = []
    x1 = ode_solve(model, x0, sampler="euler", steps=steps, label=label, keep=keep)
    chord = x1 - x0  # (B, 1, H, W)
    gaps = []
    for _, _, v in keep[:-1]:
        gaps.append((chord - v).pow(2).mean().item())
    return float(np.mean(gaps))


PAIRS_FILE = "reflow_pairs.safetensors"  # beside a reflow run's weights; large, not shipped
PAIR_SOLVER = {"sampler": "heun", "steps": 25}  # x₁ = ODE(x₀) of the pairs: 50 evaluations each


def prepare_reflow(teacher, out: Path, *, seed: int, n: int, **_) -> tuple:
    """What ``genlab train reflow --from ID`` trains on: the teacher's (x₀, x₁) pairs, drawn
    once and kept in ``<out>/reflow_pairs.safetensors`` (a resumed run reuses them).

    Returns:
        (config: the teacher's with reflow + 1, pairs (n, 2, 28, 28), labels (n,), the
        teacher's weights to start from).
    """
    model = teacher.model
    config = dataclasses.replace(model.config, reflow=model.config.reflow + 1)
    path = Path(out) / PAIRS_FILE
    meta = {"teacher": teacher.card["sha256"], "seed": str(seed), "n": str(n),
            **{k: str(v) for k, v in PAIR_SOLVER.items()}}
    if path.is_file():
        from safetensors import safe_open

        with safe_open(str(path), "pt") as f:
            same = f.metadata() == meta
        if same:
            kept = load_file(str(path))
            return config, kept["pairs"], kept["labels"], model.state_dict()
    partial = path.with_suffix(".partial.safetensors")  # whole batches so far: a killed run goes on
    done = None
    if partial.is_file():
        from safetensors import safe_open

        with safe_open(str(partial), "pt") as f:
            if f.metadata() == meta:
                done = (f.get_tensor("pairs"), f.get_tensor("labels"))
    log.info("drawing %d reflow pairs from %s (%d kept from an interrupted run)",
             n, teacher.id, 0 if done is None else len(done[0]))
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def keep(pairs: torch.Tensor, labels: torch.Tensor) -> None:
        save_file({"pairs": pairs.contiguous(), "labels": labels}, str(partial), metadata=meta)
        log.info("pairs %d / %d (%.0f s)", len(pairs), n, time.perf_counter() - t0)

    pairs, labels = make_pairs(FastDenoiser(model, bf16=False), n, torch.Generator().manual_seed(seed),
                               **PAIR_SOLVER, done=done, on_batch=keep)
    save_file({"pairs": pairs.contiguous(), "labels": labels}, str(path), metadata=meta)
    partial.unlink(missing_ok=True)
    return config, pairs, labels, model.state_dict()


# --- the 2-D toy: paths you can see, trained on the page in seconds -------------------------------

def toy_rf_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                ) -> dict[str, float]:
    """Velocity matching on points x (B, 2) with fresh noise x₀, or on pairs (B, 2, 2) = (x₀, x₁)."""
    (opt,) = optimizers
    x0, x1 = (x[:, 0], x[:, 1]) if x.ndim == 3 else (torch.randn(x.shape, generator=gen), x)
    loss = rf_loss(model, x0, x1, torch.rand((x.shape[0],), generator=gen))
    descend(opt, loss)
    return {"loss": loss.item()}


def train_toy_rf(model: torch.nn.Module, points: torch.Tensor, *, steps: int = 1500,
                 batch_size: int = 256, lr: float = 3e-3, seed: int = 0,
                 on_step: Callable[[int, dict], None] | None = None) -> dict:
    """Fit a 2-D rectified flow (a ``TimeMLP``) with the one fit loop.

    Args:
        points: data (N, 2) for a 1-rectified flow, or reflow pairs (N, 2, 2) = (x₀, x₁).

    Returns:
        The training facts of ``fit``.
    """
    return fit_points(toy_rf_step, model, points, steps=steps, batch_size=batch_size, lr=lr,
                      seed=seed, on_step=on_step)


def toy_paths(model, x0: torch.Tensor, *, steps: int = 50) -> np.ndarray:
    """The flow's paths from x₀ (B, 2): (steps + 1, B, 2), Euler."""
    keep: list = []
    ode_solve(model, x0, sampler="euler", steps=steps, keep=keep)
    return torch.stack([x for _, x, _ in keep]).numpy()


# --- evaluation -----------------------------------------------------------------------------------

@torch.inference_mode()
def rf_metrics(model, x: torch.Tensor, gen: torch.Generator, *, labels=None,
               batch: int = 500, paths: int = 200) -> dict[str, float]:
    """Held-out velocity loss (t ~ U[0, 1], unconditional) and the straightness of ``paths``
    ODE paths (Euler, 50 steps).

    Returns:
        velocity_mse (per pixel), straightness (per pixel), n.
    """
    total = 0.0
    for i in range(0, len(x), batch):
        x0, x1 = endpoints(x[i:i + batch], gen)
        t = torch.rand((x1.shape[0],), generator=gen)
        v = model(interpolate(x0, x1, t), t * TIME_SCALE)
        total += (v - (x1 - x0)).pow(2).flatten(1).mean(1).sum().item()
    s = straightness(model, torch.randn((paths, 1, 28, 28), generator=gen))
    return {"velocity_mse": round(total / len(x), 5), "straightness": round(s, 5), "n": len(x)}


PRESETS = {
    # the DDPM preset's UNet, so the two objectives compare on the same network
    "rectified-flow": Preset("rectified-flow", {"channels": (16, 32, 64), "attention": True,
                                                "num_classes": 10, "label_dropout": 0.1},
                             train={"lr": 5e-4, "batch_size": 64, "ema_decay": 0.999}),
    "reflow": Preset("rectified-flow", {"channels": (16, 32, 64), "attention": True,
                                        "num_classes": 10, "label_dropout": 0.1, "reflow": 1},
                     train={"lr": 2e-4, "batch_size": 64, "ema_decay": 0.999}),
}

FAMILY = Family(
    name="rectified-flow", config=RectifiedFlowConfig, model=UNet,
    make_optimizers=adam_optimizers, train_step=rf_step,
    sample=rf_sample, evaluate=rf_metrics, snapshots=True,
    sample_options=("sampler", "steps", "label", "guidance"), prepare=prepare_reflow, nfe=evaluations,
    sampling_network=FastDenoiser,
    equation=r"x_t = t\,x_1 + (1-t)\,x_0,\qquad \mathcal{L} = \mathbb{E}\,\|(x_1 - x_0) - "
             r"v_\theta(x_t, t)\|^2,\qquad \frac{dx}{dt} = v_\theta(x, t)",
    about=("A velocity network learns to move noise x₀ towards data x₁ along the straight line "
           "between them; generating solves the ODE dx/dt = v(x, t) from noise in K steps. "
           "Reflow retrains on the model's own (noise, image) pairs: the paths straighten and "
           "one or two steps give an image."),
)
