"""Projections of images or features to 2-D: PCA (global variance) and t-SNE (local
neighbourhoods). Pure functions returning numpy arrays; deterministic for a seed.

t-SNE runs on openTSNE (Poličar et al. 2024) rather than scikit-learn: on this 2-core CPU it
fits 5,000 points faster with both cores, reports progress while it runs (callbacks), and
places new points on a finished map (``transform``), which the sample overlay needs.
scikit-learn's TSNE stays available as ``backend="sklearn"`` for comparison.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch


@dataclass(frozen=True)
class PCAResult:
    coords: np.ndarray  # (N, k) projected points
    explained_variance_ratio: np.ndarray  # (n_components_kept,) share of variance per component
    mean: np.ndarray  # (F,) centre of the fitted data
    components: np.ndarray  # (k, F) principal axes, unit length

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Place new points (e.g. generated samples) on the same map: (M, F) -> (M, k)."""
        return (np.asarray(x, np.float64) - self.mean) @ self.components.T


def pca(x: np.ndarray, k: int = 2, curve: int = 50) -> PCAResult:
    """PCA by eigendecomposition of the scatter matrix (deterministic signs: largest loading
    positive).

    The F×F scatter matrix XᵀX of the centred data has the right singular vectors of X as
    eigenvectors and the squared singular values as eigenvalues; for N ≫ F (5,000 images of
    784 pixels) forming it and calling ``eigh`` takes a third of the time of an SVD of X.
    Wider data (2,000 images of a GAN's 6,272 features) use the N×N Gram matrix XXᵀ instead,
    with the same eigenvalues: its eigenvectors u give the axes Xᵀu/σ (78 s → 2 s there), and
    only its ``curve`` largest are computed (Lanczos), the ratios taken over its trace (→ 1 s).

    Args:
        x: (N, F) data, e.g. flattened pixels in [0, 1] or features.
        k: dimensions of the returned coordinates.
        curve: how many explained-variance ratios to return (for the scree curve).
    """
    x = np.asarray(x, np.float64)
    mean = x.mean(0)
    xc = x - mean
    if xc.shape[1] <= xc.shape[0]:
        eigenvalues, vectors = np.linalg.eigh(xc.T @ xc)  # ascending
        order = np.argsort(eigenvalues)[::-1][:min(len(x), x.shape[1])]
        s2 = eigenvalues[order].clip(min=0.0)  # squared singular values of xc
        vt = vectors[:, order].T
        total = s2.sum()
    else:
        from scipy.sparse.linalg import eigsh

        gram = xc @ xc.T  # (N, N), the same non-zero eigenvalues
        top = max(k, curve)
        if len(x) <= 4 * top:
            eigenvalues, u = np.linalg.eigh(gram)
        else:  # only the largest (Lanczos): 0.3 s instead of 4 s for N = 2,000
            eigenvalues, u = eigsh(gram, k=top, which="LA", v0=np.ones(len(x)))
        order = np.argsort(eigenvalues)[::-1]
        s2 = eigenvalues[order].clip(min=0.0)
        total = np.trace(gram)  # the sum of all eigenvalues: the total variance × N
        first = order[:min(k, int((s2 > s2[0] * 1e-12).sum()))]  # axes of non-zero variance
        vt = (xc.T @ u[:, first] / np.sqrt(eigenvalues[first])).T  # (k, F): v = Xᵀu / σ
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(1)])  # fix the sign ambiguity
    vt = vt * signs[:, None]
    ratio = s2 / total
    components = vt[:k]
    return PCAResult(xc @ components.T, ratio[:curve], mean, components)


@dataclass(frozen=True)
class TSNEResult:
    coords: np.ndarray  # (N, 2) the map
    reduce: PCAResult | None  # the PCA applied first (None when the data were small already)
    embedding: Any = None  # openTSNE's TSNEEmbedding (None with scikit-learn): places new points

    def transform(self, x: np.ndarray, *, seed: int = 0) -> np.ndarray:
        """Place new points on the finished map without moving the old ones (openTSNE's
        ``transform``: each new point starts at the median of its neighbours' positions and
        is optimised against the fixed map): (M, F) -> (M, 2)."""
        if self.embedding is None:
            raise ValueError("only an openTSNE map can place new points; fit jointly instead")
        x = np.asarray(x, np.float64)
        if self.reduce is not None:
            x = self.reduce.transform(x)
        np.random.seed(seed)  # openTSNE's transform draws from numpy's global generator
        return np.asarray(self.embedding.transform(x))


def _reduce(x: np.ndarray, dims: int) -> tuple[PCAResult | None, np.ndarray]:
    """PCA to ``dims`` before t-SNE (the usual speed-up) where the data are wider."""
    if x.shape[1] <= dims:
        return None, x
    reduce = pca(x, k=dims)
    return reduce, reduce.coords


TSNE_JOBS = 2  # threads for openTSNE; its result depends on this, so it is fixed


def tsne(x: np.ndarray, *, perplexity: float = 30.0, iterations: int = 1000, seed: int = 0,
         pca_dims: int = 50, backend: str = "opentsne",
         on_progress: Callable[[float], None] | None = None, progress_every: int = 25) -> TSNEResult:
    """t-SNE (van der Maaten & Hinton 2008): (N, F) -> a 2-D map, the same for the same seed.

    The data are first reduced to ``pca_dims`` by PCA (the usual speed-up) and the map is
    initialised from PCA. The first quarter of the iterations (at most 250) exaggerate the
    attractions (early exaggeration), the rest refine the map.

    Args:
        x: (N, F) points, e.g. flattened pixels or features.
        perplexity: the effective number of neighbours each point keeps close.
        iterations: optimisation steps in total.
        seed: fixes the map.
        backend: "opentsne" (progress, transform) or "sklearn".
        on_progress: called with the fraction done (0..1) during the fit (openTSNE only); an
            exception it raises stops the fit (how a job is cancelled).
        progress_every: iterations between two calls of ``on_progress`` (the map is the same).

    Returns:
        The map and what is needed to place new points on it.
    """
    if backend not in ("opentsne", "sklearn"):
        raise ValueError(f"unknown t-SNE backend {backend!r}; valid: opentsne, sklearn")
    x = np.asarray(x, np.float64)
    if not 1 <= perplexity < len(x) / 3:
        raise ValueError(f"perplexity must be in [1, {len(x) / 3:.0f}) for {len(x)} points")
    if iterations < 50:
        raise ValueError("t-SNE needs at least 50 iterations")
    reduce, x = _reduce(x, pca_dims)
    if backend == "sklearn":
        from sklearn.manifold import TSNE

        model = TSNE(n_components=2, perplexity=perplexity, max_iter=iterations, init="pca",
                     random_state=seed, learning_rate="auto")
        return TSNEResult(model.fit_transform(x), reduce)
    from openTSNE import TSNE

    early = min(250, iterations // 4)
    every = progress_every
    calls = [0]

    def callback(iteration, error, embedding) -> bool:
        calls[0] += 1
        if on_progress:
            on_progress(min(1.0, calls[0] * every / iterations))
        return False  # never stop early

    model = TSNE(n_components=2, perplexity=perplexity, early_exaggeration_iter=early,
                 n_iter=iterations - early, initialization="pca", random_state=seed,
                 n_jobs=TSNE_JOBS, callbacks=callback, callbacks_every_iters=every)
    embedding = model.fit(x)
    # the embedding keeps its optimiser's options, callbacks included, and ``transform``
    # passes them on: without this, placing samples later would report this fit's progress
    embedding.gradient_descent_params.pop("callbacks", None)
    if on_progress:
        on_progress(1.0)
    return TSNEResult(np.asarray(embedding), reduce, embedding)


@torch.inference_mode()
def embed(features: Callable[[Any, torch.Tensor], torch.Tensor], model, images: np.ndarray,
          batch: int = 100, on_progress: Callable[[float], None] | None = None) -> np.ndarray:
    """uint8 images (N, 28, 28) -> a model's features (N, F) as float64, in batches (of 100:
    twice as fast as 500 on a 2-core CPU, whose caches hold the activations).

    ``features(model, x)`` takes x (B, 1, 28, 28) in [0, 1]: a registry family's ``features``.
    ``on_progress(fraction)`` is called after each batch.
    """
    from genlab.data import to_float

    out = []
    for i in range(0, len(images), batch):
        out.append(features(model, to_float(images[i:i + batch])))
        if on_progress is not None:
            on_progress(min(1.0, (i + batch) / len(images)))
    return torch.cat(out).double().numpy()


def pixels(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) -> flattened grey levels in [0, 1], (N, 784)."""
    return images.reshape(len(images), -1).astype(np.float64) / 255.0


def tsne_from_coords(x: np.ndarray, coords: np.ndarray, *, perplexity: float = 30.0,
                     seed: int = 0, pca_dims: int = 50) -> TSNEResult:
    """A finished map (e.g. a shipped one) made ready to place new points: the affinities of
    ``x`` are recomputed as ``tsne`` computes them, the coordinates are taken as they are."""
    from openTSNE import TSNEEmbedding, affinity

    reduce, xr = _reduce(np.asarray(x, np.float64), pca_dims)
    aff = affinity.PerplexityBasedNN(xr, perplexity=perplexity, n_jobs=TSNE_JOBS, random_state=seed)
    embedding = TSNEEmbedding(np.ascontiguousarray(coords, np.float64), aff, n_jobs=TSNE_JOBS,
                              random_state=seed)
    return TSNEResult(np.asarray(coords), reduce, embedding)


# --- what the projections page maps: pixels or a checkpoint's features ---------------------

PIXELS = "pixels"
DEFAULT_POINTS = 2000  # the bundled held-out images of each dataset
DEFAULT_TSNE = {"perplexity": 30.0, "iterations": 1000, "seed": 0}
MAPS = Path(__file__).resolve().parent / "assets" / "projections"  # shipped default t-SNE maps


def held_out(dataset: str, n: int, data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The first n held-out images and labels: the bundled ones (2,000) or, for more, the
    dataset's files where they are found (``data_dir``, ``GENLAB_DATA``, Debian's path)."""
    from genlab import data

    split = data.load_bundled(dataset)
    if n > len(split.labels):
        split = data.load(dataset, data_dir, download=False).holdout
    if n > len(split.labels):
        raise ValueError(f"{dataset} has {len(split.labels)} held-out images, not {n}")
    return split.images[:n], split.labels[:n]


def source_features(source: str, images: np.ndarray, checkpoint=None,
                    on_progress: Callable[[float], None] | None = None) -> np.ndarray:
    """Points to project: flattened pixels (``source == "pixels"``), else the loaded
    ``checkpoint``'s features (its family's ``features``): (N, F) float64."""
    if source == PIXELS:
        return pixels(images)
    from genlab import registry

    family = registry.get(checkpoint.card["family"])
    if family.features is None:
        raise ValueError(f"{checkpoint.id} ({family.name}) has no features to project")
    return embed(family.features, checkpoint.model, images, on_progress=on_progress)


def source_key(source: str, checkpoint=None) -> str:
    """What a map was computed from: "pixels", or the checkpoint id with its weights' hash."""
    return PIXELS if source == PIXELS else f"{checkpoint.id}@{checkpoint.card['sha256'][:16]}"


def map_path(dataset: str, source: str) -> Path:
    return MAPS / f"{dataset}--{source.replace('/', '--')}.npz"


def save_default_map(dataset: str, source: str, key: str, result: TSNEResult) -> Path:
    """Ship a default-settings t-SNE map (float32 coordinates, ~16 KB)."""
    path = map_path(dataset, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, coords=result.coords.astype(np.float32), key=np.array(key),
                        settings=np.array(json.dumps({**DEFAULT_TSNE, "points": len(result.coords)})))
    return path


def load_default_map(dataset: str, source: str, key: str, n: int, perplexity: float,
                     iterations: int, seed: int) -> np.ndarray | None:
    """The shipped map for these exact settings and source weights, else None."""
    path = map_path(dataset, source)
    wanted = {"perplexity": float(perplexity), "iterations": int(iterations), "seed": int(seed),
              "points": int(n)}
    if not path.is_file():
        return None
    with np.load(path) as npz:
        if str(npz["key"]) != key or json.loads(str(npz["settings"])) != wanted:
            return None
        return npz["coords"].astype(np.float64)
