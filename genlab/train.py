"""One fit loop for every family, with an ``on_step`` callback, resumable, DDP-aware.

Under ``torchrun --nproc_per_node=N`` each process trains on its shard of every batch
(gloo on CPU), gradients are averaged by DistributedDataParallel, and rank 0 alone
reports progress and writes files.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from genlab.checkpoints import atomic_write
from genlab.models.gan import (critic_loss, d_bce_loss, g_nonsaturating_loss, gradient_penalty,
                               wasserstein_estimate)
from genlab.models import flow, pixelcnn
from genlab.models.vae import negative_elbo
from genlab.sample import sample_images

RESUME_FILE = "resume.safetensors"


@dataclass(frozen=True)
class TrainConfig:
    steps: int  # optimizer steps in total (the CLI converts --epochs to steps)
    batch_size: int = 128  # global batch; split across DDP processes
    lr: float = 1e-3  # Adam learning rate
    seed: int = 0  # data order and noise; model init is seeded by the caller
    resume_every: int = 500  # steps between resume-state saves (0: never)
    lr_min_ratio: float = 0.1  # cosine decay from lr to lr * ratio over the run (1: constant)
    ema_decay: float = 0.0  # exponential moving average of the weights (0: off), e.g. 0.999
    stop_at: int = 0  # pause after this many steps (0: run to ``steps``); the schedule still
    # spans ``steps``, so a later ``--resume`` continues the same run (long CPU trainings)


@torch.no_grad()
def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """θ_ema ← decay · θ_ema + (1 − decay) · θ (buffers copied)."""
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p, 1.0 - decay)
    for e, b in zip(ema.buffers(), model.buffers()):
        e.copy_(b)


def lr_factor(step: int, tcfg: TrainConfig) -> float:
    """Cosine decay (Loshchilov & Hutter 2017) from 1 to ``lr_min_ratio`` over ``tcfg.steps``."""
    progress = min(step / max(tcfg.steps, 1), 1.0)
    return tcfg.lr_min_ratio + (1 - tcfg.lr_min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


# --- distributed helpers ---------------------------------------------------------------

def dist_info() -> tuple[int, int]:
    """(rank, world_size); initialises gloo once when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    return dist_info()[0] == 0


# --- per-family steps (models do not train themselves) ---------------------------------

def adam_optimizers(model: torch.nn.Module, tcfg: TrainConfig) -> list[torch.optim.Optimizer]:
    return [torch.optim.Adam(model.parameters(), lr=tcfg.lr)]


def vae_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
             ) -> dict[str, float]:
    """One ELBO step: minimise -ELBO = reconstruction NLL + KL, averaged over the batch."""
    (opt,) = optimizers
    loss, rec, kl = negative_elbo(model, x, gen)
    opt.zero_grad(set_to_none=True)
    loss.mean().backward()
    opt.step()
    return {"loss": loss.mean().item(), "rec": rec.mean().item(), "kl": kl.mean().item()}


def augment_shift(x: torch.Tensor, gen: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Random translation by up to ``max_shift`` pixels (zero padding), per image."""
    b = x.shape[0]
    padded = F.pad(x, (max_shift,) * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (b,), generator=gen)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), generator=gen)
    rows = (dy[:, None] + torch.arange(x.shape[2])[None]).view(b, -1, 1)  # (B, H, 1)
    cols = (dx[:, None] + torch.arange(x.shape[3])[None]).view(b, 1, -1)  # (B, 1, W)
    return padded[:, 0][torch.arange(b)[:, None, None], rows, cols].unsqueeze(1)  # (B, 1, H, W)


def classifier_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                    ) -> dict[str, float]:
    """One cross-entropy step on shifted images (a little augmentation against overfitting)."""
    (opt,) = optimizers
    logits = model(augment_shift(x, gen))
    loss = F.cross_entropy(logits, y.long())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"loss": loss.item(), "acc": (logits.argmax(1) == y).float().mean().item()}


# --- resume state: weights + optimizer state in safetensors, no pickles -----------------

def _flatten_optimizer(opt: torch.optim.Optimizer, prefix: str) -> tuple[dict, list]:
    state = opt.state_dict()
    tensors = {}
    for idx, entry in state["state"].items():
        for key, value in entry.items():
            tensors[f"{prefix}.{idx}.{key}"] = torch.as_tensor(value).clone()
    return tensors, state["param_groups"]


def _unflatten_optimizer(opt: torch.optim.Optimizer, tensors: dict, prefix: str, groups: list) -> None:
    state: dict = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "."):
            _, idx, key = name.split(".", 2)
            state.setdefault(int(idx), {})[key] = value
    opt.load_state_dict({"state": state, "param_groups": groups})


def save_resume(folder: Path, model, optimizers, meta: dict, ema=None) -> None:
    tensors = {f"model.{k}": v.detach().clone() for k, v in model.state_dict().items()}
    if ema is not None:
        tensors.update({f"ema.{k}": v.detach().clone() for k, v in ema.state_dict().items()})
    groups = []
    for j, opt in enumerate(optimizers):
        flat, param_groups = _flatten_optimizer(opt, f"opt{j}")
        tensors.update(flat)
        groups.append(param_groups)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{RESUME_FILE}.tmp"
    # safetensors stores only contiguous tensors; a clone keeps its source's strides (a QR-
    # initialised 1×1 convolution is column-major)
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, str(tmp), metadata={"meta": json.dumps({**meta, "param_groups": groups})})
    os.replace(tmp, folder / RESUME_FILE)


def load_resume(folder: Path, model, optimizers, ema=None) -> dict:
    from safetensors import safe_open

    path = folder / RESUME_FILE
    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()["meta"])
    tensors = load_file(str(path))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    if ema is not None:
        ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    for j, opt in enumerate(optimizers):
        _unflatten_optimizer(opt, tensors, f"opt{j}", meta["param_groups"][j])
    return meta


def warm_start(folder: Path, model, ema=None) -> dict:
    """Continue from a saved checkpoint when its resume state is gone (a new machine).

    The checkpoint's weights (the EMA weights where EMA is on) start both the model and its
    average; the optimizer starts afresh. Step count, wall time and the loss history carry on.
    """
    from genlab import checkpoints

    ckpt = checkpoints.load(folder)
    state = ckpt.model.state_dict()
    model.load_state_dict(state)
    if ema is not None:
        ema.load_state_dict(state)
    log = folder / "train_log.json"
    training = ckpt.card["training"]
    return {"step": training["steps"], "wall_time_s": training["wall_time_s"],
            "history": json.loads(log.read_text()) if log.is_file() else [],
            "warm_starts": [*training.get("warm_starts", []), training["steps"]]}


# --- training snapshots: fixed-z samples at doubling steps, to replay a run -----------------

SNAPSHOTS_FILE = "snapshots.npz"


def snapshot_steps(total: int, count: int = 8) -> list[int]:
    """Step 0, then up to ``count`` doubling steps ending at ``total``:
    ⌊total/2^(count−1)⌋, …, ⌊total/2⌋, total."""
    return sorted({0, *(total >> k for k in range(count) if total >> k > 0)})


def load_snapshots(folder: Path) -> dict | None:
    """``<folder>/snapshots.npz`` as {steps (S,), images uint8 (S, N, 28, 28), seed}, or None."""
    path = Path(folder) / SNAPSHOTS_FILE
    if not path.is_file():
        return None
    with np.load(path) as npz:
        return {"steps": npz["steps"], "images": npz["images"], "seed": int(npz["seed"])}


class SnapshotRecorder:
    """An ``on_step`` callback keeping samples of a fixed batch of z (``seed``) at
    ``snapshot_steps(total)`` in ``<folder>/snapshots.npz``, rewritten atomically each time.

    With ``keep`` (a resumed run) the snapshots already in the folder are kept; a step
    recorded again (a run repeating steps after an interruption) replaces its images.
    """

    def __init__(self, folder: Path, family, model: torch.nn.Module, total: int, *,
                 n: int = 64, seed: int = 0, count: int = 8, keep: bool = False):
        self.folder, self.family, self.model = Path(folder), family, model
        self.n, self.seed = n, seed
        self.steps = set(snapshot_steps(total, count))
        old = load_snapshots(self.folder) if keep else None
        same = old is not None and old["seed"] == seed and old["images"].shape[1] == n
        self.kept = dict(zip(old["steps"].tolist(), old["images"])) if same else {}

    def __call__(self, step: int, metrics: dict | None = None) -> None:
        if step not in self.steps:
            return
        was_training = self.model.training
        self.model.eval()  # sample as the shipped model will (batch-norm running statistics)
        self.kept[step] = sample_images(self.family, self.model, self.n, self.seed)
        self.model.train(was_training)
        steps = sorted(self.kept)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, steps=np.array(steps, dtype=np.int64), seed=np.int64(self.seed),
                                    images=np.stack([self.kept[s] for s in steps]))

        atomic_write(self.folder / SNAPSHOTS_FILE, write)


# --- the loop ---------------------------------------------------------------------------

def fit(family, model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor,
        tcfg: TrainConfig, *,
        on_step: Callable[[int, dict], None] | None = None,
        resume_dir: Path | None = None, resume: bool = False,
        ema: torch.nn.Module | None = None) -> dict:
    """Train ``model`` on ``images`` (N, 1, 28, 28) in [0, 1] for ``tcfg.steps`` steps.

    Args:
        family: the registry entry (its make_optimizers and train_step are used).
        model: the model to train, modified in place.
        images: the training images.
        labels: their class labels (N,), used by conditional and classifier steps.
        tcfg: steps, batch size, learning rate, seed.
        on_step: called as ``on_step(step, metrics)`` after every step, and once before the
            first with the starting step and ``{}`` (0, or where a resumed run starts); rank 0 only.
        resume_dir: where resume state is written every ``tcfg.resume_every`` steps.
        resume: continue from the state in ``resume_dir`` if there is one.
        ema: a copy of ``model`` kept as the moving average (``tcfg.ema_decay``), or None.

    Returns:
        Training facts for the card: steps, epochs, wall time, world size, final metrics.
    """
    rank, world = dist_info()
    if tcfg.batch_size % world:
        raise ValueError(f"batch size {tcfg.batch_size} does not split over {world} processes")
    optimizers = family.make_optimizers(model, tcfg)
    meta: dict = {"step": 0, "wall_time_s": 0.0, "history": []}
    if resume and resume_dir and (resume_dir / RESUME_FILE).is_file():
        meta = load_resume(resume_dir, model, optimizers, ema)
    elif resume and resume_dir and (resume_dir / "card.json").is_file():
        meta = warm_start(resume_dir, model, ema)
    start, elapsed, history = meta["step"], meta["wall_time_s"], meta["history"]
    warm_starts = meta.get("warm_starts", [])
    end = min(tcfg.stop_at or tcfg.steps, tcfg.steps)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    model.train()
    n = images.shape[0]
    local = tcfg.batch_size // world
    per_epoch = max(1, n // tcfg.batch_size)
    t0 = time.perf_counter()
    running: dict[str, float] = {}
    metrics: dict[str, float] = {}
    done = start
    if rank == 0 and on_step:
        on_step(start, {})
    for step in range(start, end):
        epoch, pos = divmod(step, per_epoch)
        # every rank draws the same permutation for the epoch, then takes its own slice
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(tcfg.seed * 100003 + epoch))
        idx = perm[pos * tcfg.batch_size + rank * local: pos * tcfg.batch_size + (rank + 1) * local]
        for opt in optimizers:
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * lr_factor(step, tcfg)
        # the noise of a step depends only on (seed, rank, step): a resumed run repeats it
        gen = torch.Generator().manual_seed((tcfg.seed * 1_000_003 + step) * 64 + rank)
        metrics = family.train_step(net, optimizers, images[idx], labels[idx], gen)
        if ema is not None:
            ema_update(ema, model, tcfg.ema_decay)
        running = {k: 0.98 * running.get(k, v) + 0.02 * v for k, v in metrics.items()}
        done = step + 1
        if done % 100 == 0 or done == tcfg.steps:
            history.append({"step": done, **{k: round(v, 5) for k, v in running.items()}})
        if rank == 0 and on_step:
            on_step(done, running)
        if (rank == 0 and resume_dir and done < tcfg.steps
                and ((tcfg.resume_every and done % tcfg.resume_every == 0) or done == end)):
            save_resume(resume_dir, model, optimizers,
                        {"step": done, "wall_time_s": elapsed + time.perf_counter() - t0,
                         "history": history, "train": asdict(tcfg), "warm_starts": warm_starts}, ema)
    model.eval()
    wall = elapsed + time.perf_counter() - t0
    if not running and history:  # nothing run now: report the last logged values
        running = {k: v for k, v in history[-1].items() if k != "step"}
    return {"steps": done, "planned_steps": tcfg.steps, "finished": done >= tcfg.steps,
            "warm_starts": warm_starts, "epochs": round(done / per_epoch, 2),
            "wall_time_s": round(wall, 1), "world_size": world, "batch_size": tcfg.batch_size,
            "lr": tcfg.lr, "lr_schedule": f"cosine to {tcfg.lr_min_ratio}x",
            "ema_decay": tcfg.ema_decay, "seed": tcfg.seed,
            "final": {k: round(v, 4) for k, v in running.items()}, "history": history}


# --- diffusion: ε-prediction (Ho et al. 2020, algorithm 1) ---------------------------------

def diffusion_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                   ) -> dict[str, float]:
    """L_simple = ‖ε − ε_θ(√ᾱ_t x0 + √(1−ᾱ_t) ε, t)‖², t ~ U{0..T−1}, x0 scaled to [−1, 1]."""
    from genlab.sample import training_scheduler

    (opt,) = optimizers
    config = getattr(model, "module", model).config
    sched = training_scheduler(config.timesteps, config.beta_schedule)
    x0 = x * 2 - 1
    t = torch.randint(0, config.timesteps, (x0.shape[0],), generator=gen)
    noise = torch.randn(x0.shape, generator=gen)
    loss = F.mse_loss(model(sched.add_noise(x0, noise, t), t), noise)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"loss": loss.item()}


# --- GANs: alternate D and G updates (Goodfellow et al. 2014, algorithm 1) -----------------

def gan_optimizers(model, tcfg: TrainConfig) -> list[torch.optim.Optimizer]:
    """[Adam for D, Adam for G] with the config's betas (DCGAN 0.5; WGAN-GP 0.0, 0.9)."""
    if dist_info()[1] > 1:
        raise ValueError("GAN training runs in one process (its two updates would bypass DDP)")
    betas = tuple(model.config.adam_betas)
    return [torch.optim.Adam(model.discriminator.parameters(), lr=tcfg.lr, betas=betas),
            torch.optim.Adam(model.generator.parameters(), lr=tcfg.lr, betas=betas)]


def gan_family_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                    ) -> dict[str, float]:
    """The GAN family's train step: ``wgan_gp_step`` or ``gan_step`` by the config's loss."""
    step = wgan_gp_step if model.config.loss == "wgan-gp" else gan_step
    return step(model, optimizers, x, y, gen)


def gan_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
             ) -> dict[str, float]:
    """One D update on −V(D, G), then one G update on the non-saturating −log D(G(z)).

    Returns:
        d_loss, g_loss, and d_real / d_fake: D's mean probability on real and generated
        images (before the updates).
    """
    opt_d, opt_g = optimizers
    real = x * 2 - 1  # (B, 1, 28, 28) in [-1, 1], G's range
    z = torch.randn((real.shape[0], model.config.noise_dim), generator=gen)
    fake = model.generator(z)
    # (1) update D: maximise log D(x) + log(1 - D(G(z))); G's graph is cut by detach
    real_logits = model.discriminator(real)
    fake_logits = model.discriminator(fake.detach())
    d_loss = d_bce_loss(real_logits, fake_logits)
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    # (2) update G: maximise log D(G(z)) through the just-updated D
    g_loss = g_nonsaturating_loss(model.discriminator(fake))
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
            "d_real": torch.sigmoid(real_logits).mean().item(),
            "d_fake": torch.sigmoid(fake_logits).mean().item()}


def wgan_gp_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                 ) -> dict[str, float]:
    """``n_critic`` critic updates, then one G update (Gulrajani et al. 2017, algorithm 1).

    The batch is split into ``n_critic`` chunks, so each critic update sees fresh real
    images (a batch of 320 with n_critic = 5 is 64 per update); G's update uses as many z.

    Returns:
        d_loss (critic loss with penalty), g_loss = −E D(G(z)), w_estimate = E D(x) −
        E D(G(z)) of the last critic update (before its step), gp (the penalty), and
        d_real / d_fake: the critic's mean values.
    """
    cfg = model.config
    opt_d, opt_g = optimizers
    real_all = x * 2 - 1  # (B, 1, 28, 28) in [-1, 1], G's range
    for real in real_all.chunk(cfg.n_critic):
        # (1) update D: minimise E D(G(z)) - E D(x) + λ E(‖∇D(x̂)‖ - 1)²
        with torch.no_grad():
            fake = model.generator(torch.randn((real.shape[0], cfg.noise_dim), generator=gen))
        real_scores, fake_scores = model.discriminator(real), model.discriminator(fake)
        gp = gradient_penalty(model.discriminator, real, fake, gen)
        d_loss = critic_loss(real_scores, fake_scores) + cfg.gp_lambda * gp
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
    # (2) update G: minimise -E D(G(z))
    z = torch.randn((real.shape[0], cfg.noise_dim), generator=gen)
    g_loss = -model.discriminator(model.generator(z)).mean()
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
            "w_estimate": wasserstein_estimate(real_scores, fake_scores).item(), "gp": gp.item(),
            "d_real": real_scores.mean().item(), "d_fake": fake_scores.mean().item()}
# --- exact likelihoods: flows (Dinh et al. 2015, 2017) and PixelCNN (van den Oord et al. 2016) --

def descend(opt: torch.optim.Optimizer, loss: torch.Tensor, max_norm: float | None = None) -> None:
    """One optimizer step on ``loss``, the gradient norm clipped to ``max_norm`` if given."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if max_norm is not None:
        torch.nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g["params"]], max_norm)
    opt.step()


def flow_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
              ) -> dict[str, float]:
    """Minimise bits/dim of dequantized images: −log p((k + u) / 256) / (D ln 2) + 8, u ~ U[0, 1)."""
    (opt,) = optimizers
    log_py = flow.log_prob(model, flow.dequantize(x, gen))
    bpd = flow.bits_per_dim(log_py, x[0].numel()).mean()
    descend(opt, bpd, max_norm=100.0)  # rare huge gradients from the logit tails
    return {"bpd": bpd.item()}


def pixelcnn_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                  ) -> dict[str, float]:
    """Minimise −log p(x) = Σ_i CE(logits_i, x_i) on freshly quantized (binarized) images."""
    (opt,) = optimizers
    levels = getattr(model, "module", model).config.levels
    xq = pixelcnn.quantize(x, levels, gen)  # a new binarization of every image at every step
    loss = pixelcnn.nll(model(xq), xq).mean()
    descend(opt, loss)
    return {"nats": loss.item(), "bpd": flow.bits_per_dim(-loss, x[0].numel(), levels=1).item()}


def toy_flow_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                  ) -> dict[str, float]:
    """Minimise −log p(x) (nats per point) of 2-D points: the plane needs no dequantization."""
    (opt,) = optimizers
    loss = -flow.log_prob(model, x).mean()
    descend(opt, loss)
    return {"nll": loss.item()}


_TOY = SimpleNamespace(make_optimizers=adam_optimizers, train_step=toy_flow_step)


def train_toy_flow(model: torch.nn.Module, points: torch.Tensor, *, steps: int = 500,
                   batch_size: int = 256, lr: float = 3e-3, seed: int = 0,
                   on_step: Callable[[int, dict], None] | None = None) -> dict:
    """Fit a 2-D toy flow to ``points`` with the one fit loop (a few seconds on a CPU).

    Args:
        model: a ``flow.ToyFlow``, trained in place.
        points: (N, 2) data, e.g. ``flow.toy_data("moons", 2000, gen)``.
        steps, batch_size, lr, seed: as in ``TrainConfig``.
        on_step: ``on_step(step, {"nll": running mean})`` for a progress bar.

    Returns:
        The training facts of ``fit`` (final running NLL under ``final``).
    """
    tcfg = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, seed=seed, resume_every=0)
    return fit(_TOY, model, points, torch.zeros(len(points)), tcfg, on_step=on_step)
