"""Measures shared by the families: sample quality in the evaluation classifier's feature
space (Fréchet distance, precision/recall, class entropy), nearest training images, and
the bits/dim conversion of a likelihood. Each family's own held-out evaluation (ELBO,
bits/dim, NLL…) is in ``genlab.families``."""

from __future__ import annotations

import math

import numpy as np
import torch



# --- sample quality in the evaluation classifier's feature space --------------------------

def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets a (N, F) and b (M, F).

    FD = |μa − μb|² + tr(Σa + Σb − 2 (Σa^½ Σb Σa^½)^½)  (Heusel et al. 2017, eq. 6; the
    symmetric form has the same trace as (Σa Σb)^½). Computed in float64 with eigh.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    vals, vecs = np.linalg.eigh(cov_a)
    sqrt_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    middle = sqrt_a @ cov_b @ sqrt_a
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * tr_sqrt)


def _knn_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    d = torch.cdist(x, x)  # (N, N); the k-th neighbour skips the point itself at index 0
    return d.kthvalue(k + 1, dim=1).values


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN hyperspheres.

    precision: share of fake samples inside some real sample's k-NN ball (fidelity);
    recall: share of real samples inside some fake sample's k-NN ball (coverage).
    """
    real_t = torch.as_tensor(np.asarray(real), dtype=torch.float64)
    fake_t = torch.as_tensor(np.asarray(fake), dtype=torch.float64)
    r_real, r_fake = _knn_radii(real_t, k), _knn_radii(fake_t, k)
    d = torch.cdist(fake_t, real_t)  # (M, N)
    precision = (d <= r_real[None, :]).any(1).double().mean().item()
    recall = (d.T <= r_fake[None, :]).any(1).double().mean().item()
    return precision, recall


def class_entropy_bits(predicted: np.ndarray, num_classes: int = 10) -> float:
    """Entropy (bits) of the histogram of predicted classes: log2(10) = 3.32 when uniform."""
    p = np.bincount(np.asarray(predicted), minlength=num_classes) / len(predicted)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


@torch.inference_mode()
def classify(classifier, images: np.ndarray, batch: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 28, 28) -> (penultimate features (N, F), predicted classes (N,))."""
    from genlab.data import to_float

    feats, preds = [], []
    for i in range(0, len(images), batch):
        f = classifier.features(to_float(images[i:i + batch]))
        feats.append(f)
        preds.append(classifier.head(f).argmax(1))
    return torch.cat(feats).numpy(), torch.cat(preds).numpy()


def compare_sets(classifier, real: np.ndarray, other: np.ndarray, k: int = 3) -> dict[str, float]:
    """FD, precision, recall and class entropy of ``other`` against ``real`` (uint8 images)."""
    f_real, _ = classify(classifier, real)
    f_other, pred = classify(classifier, other)
    precision, recall = precision_recall(f_real, f_other, k)
    hist = np.bincount(pred, minlength=10)
    return {"fd": round(frechet_distance(f_real, f_other), 3), "precision": round(precision, 4),
            "recall": round(recall, 4), "class_entropy_bits": round(class_entropy_bits(pred), 4),
            "class_histogram": hist.tolist()}


def nearest_images(queries: np.ndarray, pool: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The k images of ``pool`` nearest to each query in pixel space (a memorization check).

    Args:
        queries: uint8 images (Q, 28, 28), e.g. samples.
        pool: uint8 images (P, 28, 28), e.g. training images.
        k: neighbours per query.

    Returns:
        (indices into pool (Q, k), Euclidean distances (Q, k) with grey levels in [0, 1]),
        nearest first.
    """
    flat = lambda a: torch.from_numpy(np.asarray(a, np.float32).reshape(len(a), -1) / 255.0)
    dist, idx = torch.cdist(flat(queries), flat(pool)).topk(k, dim=1, largest=False)  # (Q, k)
    return idx.numpy(), dist.numpy()


# --- likelihoods in bits per dimension ------------------------------------------------------

def bits_per_dim(log_py: torch.Tensor, num_dims: int, levels: int = 256) -> torch.Tensor:
    """Negative log-likelihood in bits per dimension of data with ``levels`` levels.

    bits/dim = (−log p_y(y) + D log levels) / (D ln 2), where p_y is a density on
    y = v / levels ∈ [0, 1)^D and the D log levels is the Jacobian of v -> y. A uniform
    density on [0, 1)^D gives exactly log2(256) = 8 bits/dim. With ``levels=1`` the
    input is already the log-probability of discrete data (PixelCNN): nats / (D ln 2).

    Args:
        log_py: log density (nats) per image, (B,).
        num_dims: D, the dimensions per image (784 for 28×28 grey).
        levels: the quantization levels of each dimension.

    Returns:
        Bits per dimension per image, (B,).
    """
    return (-log_py + num_dims * math.log(levels)) / (num_dims * math.log(2))


def energy_distance(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> float:
    """D = 2E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖ between two point sets (n, d) and (m, d)
    (Székely & Rizzo 2013), the V-statistic (the zero self-distances included): 0 for two
    identical sets, growing as one moves away from the other; the playground's one score
    for every family."""
    x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    y = torch.as_tensor(np.asarray(y), dtype=torch.float64)
    xy = torch.cdist(x, y).mean()
    return float(2 * xy - torch.cdist(x, x).mean() - torch.cdist(y, y).mean())
