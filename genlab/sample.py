"""What every family's sampling shares: the seed -> generator rule, the uint8 conversion,
``sample_images``, the samples shipped beside slow checkpoints, and latent interpolation.
The samplers themselves are in ``genlab.families``. Randomness only through an explicit
``torch.Generator``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch


def generator(seed: int) -> torch.Generator:
    """The one way genlab turns a seed into randomness (CPU generator)."""
    return torch.Generator().manual_seed(int(seed))


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, 1, H, W) in [0, 1] -> uint8 (N, H, W)."""
    return (images.clamp(0, 1) * 255).round().to(torch.uint8).squeeze(1).cpu().numpy()


def sample_images(family, model, n: int, seed: int, **options) -> np.ndarray:
    """Sample ``n`` images with ``seed``; the same seed gives the same images. uint8 (n, 28, 28)."""
    return to_uint8(family.sample(model, n, generator(seed), **options))


def drawn_labels(classes: int, n: int, seed: int) -> torch.Tensor | None:
    """A class per image for a class-conditional model, drawn from the seed with a generator of
    their own (so the noise stays that of the seed): sampling p(x) = Σ_y p(y)·p(x | y). None
    for a model without classes."""
    return torch.randint(0, classes, (n,), generator=generator(seed + 7919)) if classes else None


def conditional_classes(family, card: dict) -> int:
    """How many classes a checkpoint can be asked for (0: not class-conditional)."""
    return card["config"].get("num_classes", 0) if "label" in family.sample_options else 0


def as_shown(family, card: dict, n: int, seed: int) -> dict:
    """The sampler options the pages use when nothing is asked for: a class-conditional model
    (a rectified flow) for a class per image, as its FD is measured, not from v_∅ alone."""
    classes = conditional_classes(family, card)
    return {"label": drawn_labels(classes, n, seed)} if classes else {}


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
