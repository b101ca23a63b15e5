"""Sampling loops. Randomness only through an explicit ``torch.Generator``."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from genlab.diffusion.schedulers import DDPMScheduler, make_scheduler
from genlab.models.pixelcnn import RasterCache, quantize


def generator(seed: int) -> torch.Generator:
    """The one way genlab turns a seed into randomness (CPU generator)."""
    return torch.Generator().manual_seed(int(seed))


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, 1, H, W) in [0, 1] -> uint8 (N, H, W)."""
    return (images.clamp(0, 1) * 255).round().to(torch.uint8).squeeze(1).cpu().numpy()


@torch.inference_mode()
def vae_sample(model, n: int, gen: torch.Generator) -> torch.Tensor:
    """Decode z ~ N(0, I): (n, 1, 28, 28) mean images in [0, 1]."""
    z = torch.randn((n, model.config.latent_dim), generator=gen)
    return model.decode(z)


def gan_noise(noise_dim: int, n: int, gen: torch.Generator) -> torch.Tensor:
    """z ~ N(0, I), (n, noise_dim): with one seed, every GAN variant gets the same z."""
    return torch.randn((n, noise_dim), generator=gen)


@torch.inference_mode()
def gan_sample(model, n: int, gen: torch.Generator) -> torch.Tensor:
    """G(z) for z ~ N(0, I): (n, 1, 28, 28) in [0, 1]."""
    return model.generate(gan_noise(model.config.noise_dim, n, gen))


def sample_images(family, model, n: int, seed: int, **options) -> np.ndarray:
    """Sample ``n`` images with ``seed``; the same seed gives the same images. uint8 (n, 28, 28)."""
    return to_uint8(family.sample(model, n, generator(seed), **options))


PREVIEW_FILE = "preview.npz"  # a checkpoint's precomputed samples, for models slow to sample


def save_samples(path: Path, images: np.ndarray, seed: int, ckpt_id: str, sha256: str) -> None:
    """Samples as written by ``python -m genlab sample``: uint8 images, the seed, and the
    checkpoint and weights (sha256) they came from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, images=images, seed=np.int64(seed), id=np.array(ckpt_id),
                        sha256=np.array(sha256))


def shipped_preview(folder: Path, sha256: str, n: int, seed: int) -> np.ndarray | None:
    """The ``n`` samples for ``seed`` shipped beside a checkpoint's weights (``preview.npz``,
    written by ``python -m genlab sample ID --n N --seed S --out <folder>/preview.npz``), or
    None when there are none or they came from other weights."""
    path = Path(folder) / PREVIEW_FILE
    if not path.is_file():
        return None
    with np.load(path) as npz:
        same = str(npz.get("sha256", "")) == sha256 and int(npz["seed"]) == seed
        return npz["images"] if same and len(npz["images"]) == n else None


def interpolate(z_a: torch.Tensor, z_b: torch.Tensor, k: int, method: str = "linear") -> torch.Tensor:
    """k points from z_a to z_b (both (D,)), ends included: (k, D).

    ``linear``: (1 - t) z_a + t z_b. ``spherical``: slerp (Shoemake 1985), which keeps the
    norm typical of a Gaussian sample instead of cutting through the low-norm middle.
    """
    if method not in ("linear", "spherical"):
        raise ValueError(f"unknown interpolation {method!r}; valid: linear, spherical")
    t = torch.linspace(0, 1, k, dtype=z_a.dtype)[:, None]  # (k, 1)
    if method == "linear":
        return (1 - t) * z_a + t * z_b
    cos = torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    if omega.abs() < 1e-4:  # nearly parallel: slerp tends to lerp
        return (1 - t) * z_a + t * z_b
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def gaussian_grid(n: int, lo: float = 0.05, hi: float = 0.95) -> torch.Tensor:
    """An n×n grid of 2-D latents at Gaussian quantiles (Kingma & Welling 2014, fig. 4): (n*n, 2).

    Rows run from high z2 (top) to low z2, columns from low z1 to high z1, so the grid
    reads like the latent map.
    """
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(lo, hi, n))
    z2, z1 = torch.meshgrid(q.flip(0), q, indexing="ij")
    return torch.stack([z1.flatten(), z2.flatten()], dim=1)


# --- diffusion: the loop (the scheduler holds no weights, the denoiser knows no betas) ------

@lru_cache(maxsize=8)
def training_scheduler(timesteps: int, beta_schedule: str) -> DDPMScheduler:
    """A scheduler for add_noise during training (shared, never stepped)."""
    return make_scheduler("ddpm", num_train_timesteps=timesteps, beta_schedule=beta_schedule)


def scheduler_for(model, sampler: str = "ddim", steps: int | None = None, eta: float = 0.0):
    """The sampler of a trained denoiser, on the schedule it was trained with."""
    cfg = model.config
    options = {"num_train_timesteps": cfg.timesteps, "beta_schedule": cfg.beta_schedule}
    if sampler == "ddim":
        options["eta"] = eta
    sched = make_scheduler(sampler, **options)
    sched.set_timesteps(steps or (cfg.timesteps if sampler == "ddpm" else 50))
    return sched


def bf16_supported() -> bool:
    """Whether this CPU runs bfloat16 convolutions natively (oneDNN: AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Two single-threaded torch workers shared by every sampler in the process."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(2, thread_name_prefix="genlab-denoise",
                                       initializer=torch.set_num_threads, initargs=(1,))
        return _POOL


class FastDenoiser:
    """ε̂_θ(x_t, t) for sampling on a CPU: the batch split over two single-threaded workers,
    the network under bfloat16 autocast where the CPU runs it natively.

    Why not torch's own threads: OpenMP's barriers busy-wait, so two-thread ops stall badly
    when other processes hold the cores (measured: a forward took 2 s instead of 30 ms);
    two one-thread workers just share the cores. All samplers share the two workers, so
    concurrent sessions queue instead of oversubscribing.

    bfloat16: about 2× faster; ε̂ differs from float32 by ~0.4% RMS (MNIST DDPM). Only the
    network runs in bfloat16: the scheduler's arithmetic (ᾱ_t, the posterior mean and
    variance, the DDIM update) stays float32. Each image's ε̂ depends only on that image,
    so splitting the batch changes nothing else.
    """

    def __init__(self, model: torch.nn.Module, *, bf16: bool | None = None):
        self.model, self.config = model, model.config
        self.bf16 = bf16_supported() if bf16 is None else bf16

    def _eps(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            return self.model(x, t).float()

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if x.shape[0] < 2:
            return self._eps(x, t)
        parts = zip(x.chunk(2), t.chunk(2))
        return torch.cat(list(_pool().map(lambda p: self._eps(*p), parts)))


@dataclass
class Trajectory:
    """Every step of one reverse run: x_t, ε̂ and x̂0 per step, in [-1, 1] (float16 to save memory)."""

    timesteps: list[int]
    x: list[torch.Tensor]  # x_t before each step, then the final sample: len = steps + 1
    eps: list[torch.Tensor]  # ε̂ at each step
    x0: list[torch.Tensor]  # x̂0 at each step


@torch.inference_mode()
def diffusion_loop(model, sched, x: torch.Tensor, gen: torch.Generator, *,
                   on_step: Callable[[int, int], None] | None = None,
                   trajectory: Trajectory | None = None) -> torch.Tensor:
    """Run the reverse process from x = x_T over ``sched.timesteps``; returns x_0 in [-1, 1]."""
    total = len(sched.timesteps)
    for i, t in enumerate(sched.timesteps.tolist()):
        eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        out = sched.step(eps, t, x, generator=gen)
        if trajectory is not None:
            trajectory.timesteps.append(t)
            trajectory.x.append(x.half())
            trajectory.eps.append(eps.half())
            trajectory.x0.append(out.pred_original_sample.half())
        x = out.prev_sample
        if on_step:
            on_step(i + 1, total)
    if trajectory is not None:
        trajectory.x.append(x.half())
    return x


@torch.inference_mode()
def diffusion_sample(model, n: int, gen: torch.Generator, *, sampler: str | None = "ddim",
                     steps: int | None = None, eta: float | None = 0.0,
                     on_step: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """Sample n images with DDPM (all T steps by default) or DDIM (K steps, η): (n, 1, 28, 28) in [0, 1]."""
    sched = scheduler_for(model, sampler or "ddim", steps, eta or 0.0)
    x = torch.randn((n, 1, 28, 28), generator=gen)  # x_T ~ N(0, I)
    return (diffusion_loop(model, sched, x, gen, on_step=on_step) + 1) / 2


@torch.inference_mode()
def ddim_invert(model, x0: torch.Tensor, steps: int = 50) -> torch.Tensor:
    """Deterministic DDIM inversion x0 ∈ [-1, 1] → x_T on a K-step grid (Song et al. 2021, sec. 4.3)."""
    sched = scheduler_for(model, "ddim", steps)
    x = x0
    for t in sched.timesteps.flip(0).tolist():  # 0, T/K, ..., (K−1)T/K
        eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        x = sched.invert_step(eps, t - sched.num_train_timesteps // steps, x).prev_sample
    return x


def record_trajectory(model, sampler: str, steps: int, eta: float, n: int, seed: int, *,
                      on_step: Callable[[int, int], None] | None = None) -> dict:
    """Sample n images and keep every step as uint8 frames for display.

    Returns:
        t: the timesteps; x: (steps + 1, n, 28, 28) x_t before each step then x_0;
        eps: (steps, n, 28, 28) ε̂ mapped from [-3, 3] to grey; x0: (steps, n, 28, 28) x̂0;
        wall_s: the sampling time.
    """
    import time

    sched = scheduler_for(model, sampler, steps, eta)
    gen = generator(seed)
    x = torch.randn((n, 1, 28, 28), generator=gen)  # x_T ~ N(0, I)
    traj = Trajectory([], [], [], [])
    t0 = time.perf_counter()
    diffusion_loop(model, sched, x, gen, trajectory=traj, on_step=on_step)
    wall = time.perf_counter() - t0
    frames = lambda xs, lo, hi: np.stack([to_uint8((v.float().clamp(lo, hi) - lo) / (hi - lo)) for v in xs])
    return {"t": traj.timesteps, "x": frames(traj.x, -1, 1), "eps": frames(traj.eps, -3, 3),
            "x0": frames(traj.x0, -1, 1), "wall_s": wall}


# --- exact-likelihood models: flows invert, PixelCNN fills pixels one at a time -------------

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
    cache = RasterCache(model, x)
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
