"""Projections of images or features to 2-D: PCA (global variance) and t-SNE (local
neighbourhoods). Pure functions returning numpy arrays; deterministic for a seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    """PCA by SVD of the centred data (deterministic signs: largest loading positive).

    Args:
        x: (N, F) data, e.g. flattened pixels in [0, 1] or features.
        k: dimensions of the returned coordinates.
        curve: how many explained-variance ratios to return (for the scree curve).
    """
    x = np.asarray(x, np.float64)
    mean = x.mean(0)
    u, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(1)])  # fix the sign ambiguity
    vt = vt * signs[:, None]
    var = s ** 2 / max(len(x) - 1, 1)
    ratio = var / var.sum()
    components = vt[:k]
    return PCAResult((x - mean) @ components.T, ratio[:curve], mean, components)


def tsne(x: np.ndarray, *, perplexity: float = 30.0, iterations: int = 1000, seed: int = 0,
         pca_dims: int = 50) -> np.ndarray:
    """t-SNE (van der Maaten & Hinton 2008) with scikit-learn: (N, F) -> (N, 2).

    The data are first reduced to ``pca_dims`` by PCA (the usual speed-up) and the
    embedding is initialised from PCA, so a seed gives the same map every time.
    """
    from sklearn.manifold import TSNE

    x = np.asarray(x, np.float64)
    if x.shape[1] > pca_dims:
        x = pca(x, k=pca_dims).coords
    if not 1 <= perplexity < len(x):
        raise ValueError(f"perplexity must be in [1, {len(x)}) for {len(x)} points")
    model = TSNE(n_components=2, perplexity=perplexity, max_iter=iterations, init="pca",
                 random_state=seed, learning_rate="auto")
    return model.fit_transform(x)
