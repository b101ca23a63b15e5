"""Metrics: likelihood bounds now; sample-quality metrics (Frechet distance, coverage)
come with the evaluation classifier."""

from __future__ import annotations

import torch

from genlab.models.vae import importance_weighted_bound, negative_elbo


@torch.inference_mode()
def vae_metrics(model, x: torch.Tensor, gen: torch.Generator, *, iw_k: int = 100,
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
    from genlab.models.vae import kl_divergence

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
    from genlab.models.vae import kl_divergence

    mu, logvar = model.encode(x)
    return kl_divergence(mu, logvar).mean(0)
