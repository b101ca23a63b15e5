"""One fit loop for every family, with an ``on_step`` callback, resumable, DDP-aware. It
knows no family by name: each family (``genlab.families``) brings its optimizers and its
train step, ``(model, optimizers, x, y, generator) -> metrics``.

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
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file

from genlab import checkpoints
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


# --- the optimizers and the update most families use ---------------------------------------

def adam_optimizers(model: torch.nn.Module, tcfg: TrainConfig) -> list[torch.optim.Optimizer]:
    return [torch.optim.Adam(model.parameters(), lr=tcfg.lr)]


def descend(opt: torch.optim.Optimizer, loss: torch.Tensor, max_norm: float | None = None) -> None:
    """One optimizer step on ``loss``, the gradient norm clipped to ``max_norm`` if given."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if max_norm is not None:
        torch.nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g["params"]], max_norm)
    opt.step()


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
    card = checkpoints.read_card(folder)
    state = checkpoints.load_tensors(folder, card)
    model.load_state_dict(state)
    if ema is not None:
        ema.load_state_dict(state)
    log = folder / "train_log.json"
    training = card["training"]
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

        checkpoints.atomic_write(self.folder / SNAPSHOTS_FILE, write)


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


def fit_points(train_step: Callable, model: torch.nn.Module, points: torch.Tensor, *, steps: int,
               batch_size: int = 256, lr: float = 3e-3, seed: int = 0,
               on_step: Callable[[int, dict], None] | None = None) -> dict:
    """``fit`` for a small model on unlabelled 2-D data (the toy models trained on a page in
    seconds): Adam, no resume state, ``train_step(model, optimizers, x, y, generator)``.

    Returns:
        The training facts of ``fit``.
    """
    from types import SimpleNamespace

    family = SimpleNamespace(make_optimizers=adam_optimizers, train_step=train_step)
    tcfg = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, seed=seed, resume_every=0)
    return fit(family, model, points, torch.zeros(len(points)), tcfg, on_step=on_step)
