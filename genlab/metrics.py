"""Metrics: likelihood bounds per family, and sample quality (Frechet distance,
precision/recall, class entropy) in the evaluation classifier's feature space."""

from __future__ import annotations

import math

import numpy as np
import torch

from genlab.models import flow, pixelcnn
from genlab.models.vae import importance_weighted_bound, kl_divergence, negative_elbo


@torch.inference_mode()
def vae_metrics(model, x: torch.Tensor, gen: torch.Generator, *, labels=None, iw_k: int = 100,
                batch: int = 500) -> dict[str, float]:
    """Held-out bounds of a VAE in nats per image (Bernoulli likelihood on grey levels).

    Args:
        model: a VAE in eval mode.
        x: held-out images (N, 1, 28, 28) in [0, 1].
        gen: the noise for the Monte-Carlo estimates.
        iw_k: samples of the importance-weighted bound (0 to skip it).

    Returns:
        neg_elbo, recon_nll, kl (1-sample estimates averaged over x), iw_nll (k = iw_k),
        active_dims (latent dims whose mean KL exceeds 0.01 nats) and n.
    """
    sums = {"neg_elbo": 0.0, "recon_nll": 0.0, "kl": 0.0, "iw_nll": 0.0}
    kl_dims = torch.zeros(model.config.latent_dim, dtype=torch.float64)
    for i in range(0, len(x), batch):
        xb = x[i:i + batch]
        loss, rec, kl = negative_elbo(model, xb, gen)
        sums["neg_elbo"] += loss.sum().item()
        sums["recon_nll"] += rec.sum().item()
        sums["kl"] += kl.sum().item()
        mu, logvar = model.encode(xb)
        kl_dims += kl_divergence(mu, logvar).sum(0).double()
        if iw_k:
            sums["iw_nll"] += importance_weighted_bound(model, xb, iw_k, gen).sum().item()
    n = len(x)
    out = {k: round(v / n, 3) for k, v in sums.items()}
    if not iw_k:
        out.pop("iw_nll")
    else:
        out["iw_k"] = iw_k
    out["active_dims"] = int((kl_dims / n > 0.01).sum())
    out["n"] = n
    return out


@torch.inference_mode()
def kl_per_dimension(model, x: torch.Tensor) -> torch.Tensor:
    """Mean KL(q(z_d|x) || N(0,1)) per latent dimension over x, (D,): how much each is used."""
    mu, logvar = model.encode(x)
    return kl_divergence(mu, logvar).mean(0)


@torch.inference_mode()
def classifier_metrics(model, x: torch.Tensor, gen: torch.Generator, *, labels: torch.Tensor,
                       batch: int = 1000) -> dict[str, float]:
    """Held-out accuracy and cross-entropy (nats) of the evaluation classifier."""
    import torch.nn.functional as F

    logits = torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])
    return {"accuracy": round((logits.argmax(1) == labels).float().mean().item(), 5),
            "nll": round(F.cross_entropy(logits, labels).item(), 4), "n": len(x)}


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


@torch.inference_mode()
def diffusion_metrics(model, x: torch.Tensor, gen: torch.Generator, *, labels=None,
                      batch: int = 500) -> dict[str, float]:
    """Held-out ε-prediction loss E_t,ε ‖ε − ε_θ(x_t, t)‖² (per pixel), t ~ U{0..T−1}."""
    from genlab.sample import training_scheduler

    cfg = model.config
    sched = training_scheduler(cfg.timesteps, cfg.beta_schedule)
    total = 0.0
    for i in range(0, len(x), batch):
        x0 = x[i:i + batch] * 2 - 1
        t = torch.randint(0, cfg.timesteps, (x0.shape[0],), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        err = (model(sched.add_noise(x0, noise, t), t) - noise).pow(2).flatten(1).mean(1)
        total += err.sum().item()
    return {"eps_mse": round(total / len(x), 5), "n": len(x)}


@torch.inference_mode()
@torch.inference_mode()
def discriminator_scores(model, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """A GAN's D on images (N, 1, 28, 28) in [0, 1], (N,): the probability of "real" for the
    ``bce`` loss, the critic value for ``wgan-gp`` (only differences of those mean anything)."""
    raw = torch.cat([model.score(x[i:i + batch]) for i in range(0, len(x), batch)])
    return raw if model.config.loss == "wgan-gp" else torch.sigmoid(raw)


@torch.inference_mode()
def gan_metrics(model, x: torch.Tensor, gen: torch.Generator, *, labels=None,
                batch: int = 500) -> dict[str, float]:
    """The discriminator's view of held-out images against as many samples.

    Args:
        model: a GAN in eval mode.
        x: held-out images (N, 1, 28, 28) in [0, 1] (never seen by D in training).
        gen: the noise of the N samples.

    Returns:
        d_holdout, d_samples: D's mean output on each set (see ``discriminator_scores``);
        for ``bce`` d_accuracy, the share of both sets D classifies right (½ when it cannot
        tell them apart); for ``wgan-gp`` w_estimate = E D(x) − E D(G(z)), the critic's
        estimate of W1; n.
    """
    from genlab.models.gan import wasserstein_estimate
    from genlab.sample import gan_noise

    fake = torch.cat([model.generate(gan_noise(model.config.noise_dim, len(xb), gen))
                      for xb in x.split(batch)])
    real, fake = discriminator_scores(model, x, batch), discriminator_scores(model, fake, batch)
    out = {"d_holdout": round(real.mean().item(), 4), "d_samples": round(fake.mean().item(), 4)}
    if model.config.loss == "wgan-gp":
        out["w_estimate"] = round(wasserstein_estimate(real, fake).item(), 4)
    else:
        out["d_accuracy"] = round(((real > 0.5).sum() + (fake <= 0.5).sum()).item() / (2 * len(x)), 4)
    return {**out, "n": len(x)}


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
# --- exact likelihoods ---------------------------------------------------------------------

def _mean_per_image(score, x: torch.Tensor, batch: int) -> float:
    """The mean over x of ``score(x batch) -> (B,)``, computed ``batch`` images at a time."""
    return sum(score(x[i:i + batch]).sum().item() for i in range(0, len(x), batch)) / len(x)


@torch.inference_mode()
def flow_bits_per_dim(model, x: torch.Tensor, gen: torch.Generator, *, batch: int = 500) -> torch.Tensor:
    """Bits/dim of each image under a flow, one uniform dequantization per image.

    Args:
        model: a Flow in eval mode.
        x: images (N, 1, 28, 28), k / 255 in [0, 1].
        gen: the dequantization noise.

    Returns:
        (N,) bits per dimension: −log p_v(k + u) / (D ln 2), the logit Jacobian counted.
    """
    dims = x[0].numel()
    return torch.cat([flow.bits_per_dim(flow.log_prob(model, flow.dequantize(xb, gen)), dims)
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


@torch.inference_mode()
def pixelcnn_metrics(model, x: torch.Tensor, gen: torch.Generator, *, labels=None,
                     batch: int = 500) -> dict[str, float]:
    """Held-out NLL of a PixelCNN: Σ_i −log p(x_i | x_<i), exact.

    Args:
        model: a PixelCNN in eval mode.
        x: held-out images (N, 1, 28, 28) in [0, 1].
        gen: the stochastic binarization of x (one draw per image) for a 2-level model.

    Returns:
        nll_nats per image (binarized: compare with PixelCNN's 81.3 on binarized MNIST),
        bits_per_dim, levels and n.
    """
    def score(xb: torch.Tensor) -> torch.Tensor:
        xq = pixelcnn.quantize(xb, model.config.levels, gen)
        return pixelcnn.nll(model(xq), xq)

    nats = _mean_per_image(score, x, batch)
    bpd = flow.bits_per_dim(torch.tensor(-nats), x[0].numel(), levels=1).item()
    return {"nll_nats": round(nats, 3), "bits_per_dim": round(bpd, 4), "levels": model.config.levels,
            "n": len(x)}
