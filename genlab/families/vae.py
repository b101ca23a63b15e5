"""The VAE family (Kingma & Welling 2014): the ELBO and its importance-weighted bound, the
training step, prior sampling, the latent grid, held-out evaluation and the presets.

The network (an MLP encoder and decoder) is ``genlab.models.vae.VAE``. Its decoder gives
each grey level the mean of a Bernoulli, so log p(x|z) = −BCE(logits, x) over the pixels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from genlab.families import Family, Preset
from genlab.models.vae import VAE, VAEConfig
from genlab.train import adam_optimizers, descend


# --- the objective: −ELBO = reconstruction NLL + KL(q(z|x) ‖ N(0, I)) ----------------------

def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) per latent dimension, (B, D).

    Appendix B of Kingma & Welling (2014): 1/2 (mu^2 + sigma^2 - log sigma^2 - 1).
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0)


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) in nats per image, (B,): Bernoulli likelihood on grey levels."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def negative_elbo(model: VAE, x: torch.Tensor, generator: torch.Generator | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-ELBO = -E_q[log p(x|z)] + KL(q(z|x) || p(z)), one sample of z; each (B,) in nats.

    Returns:
        (negative ELBO, reconstruction NLL, KL), each per image.
    """
    out = model(x, generator)
    rec = reconstruction_nll(out.logits, x)
    kl = kl_divergence(out.mu, out.logvar).sum(1)
    return rec + kl, rec, kl


@torch.no_grad()
def importance_weighted_bound(model: VAE, x: torch.Tensor, k: int = 100,
                              generator: torch.Generator | None = None) -> torch.Tensor:
    """IWAE bound (Burda et al. 2016): -log (1/k) sum_i p(x, z_i) / q(z_i|x), nats, (B,)."""
    mu, logvar = model.encode(x)  # (B, D)
    std = torch.exp(0.5 * logvar)
    eps = torch.randn((k, *mu.shape), generator=generator, dtype=mu.dtype)  # (k, B, D)
    z = mu + std * eps
    log_q = (-0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi))).sum(-1)  # (k, B)
    log_prior = (-0.5 * (z.pow(2) + math.log(2 * math.pi))).sum(-1)
    logits = model.decode_logits(z.flatten(0, 1))  # (k*B, 1, H, W)
    log_lik = -reconstruction_nll(logits, x.repeat(k, 1, 1, 1)).view(k, -1)
    log_w = log_lik + log_prior - log_q
    return -(torch.logsumexp(log_w, 0) - math.log(k))


# --- training ---------------------------------------------------------------------------------

def vae_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
             ) -> dict[str, float]:
    """One ELBO step: minimise -ELBO = reconstruction NLL + KL, averaged over the batch."""
    (opt,) = optimizers
    loss, rec, kl = negative_elbo(model, x, gen)
    opt.zero_grad(set_to_none=True)
    loss.mean().backward()
    opt.step()
    return {"loss": loss.mean().item(), "rec": rec.mean().item(), "kl": kl.mean().item()}


# --- sampling and the latent grid ---------------------------------------------------------------

@torch.inference_mode()
def vae_sample(model, n: int, gen: torch.Generator) -> torch.Tensor:
    """Decode z ~ N(0, I): (n, 1, 28, 28) mean images in [0, 1]."""
    z = torch.randn((n, model.config.latent_dim), generator=gen)
    return model.decode(z)


def gaussian_grid(n: int, lo: float = 0.05, hi: float = 0.95) -> torch.Tensor:
    """An n×n grid of 2-D latents at Gaussian quantiles (Kingma & Welling 2014, fig. 4): (n*n, 2).

    Rows run from high z2 (top) to low z2, columns from low z1 to high z1, so the grid
    reads like the latent map.
    """
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(lo, hi, n))
    z2, z1 = torch.meshgrid(q.flip(0), q, indexing="ij")
    return torch.stack([z1.flatten(), z2.flatten()], dim=1)


# --- evaluation -----------------------------------------------------------------------------------

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


def _latent_means(model, x: torch.Tensor) -> torch.Tensor:
    return model.encode(x)[0]  # μ(x) of q(z|x)


@torch.inference_mode()
def vae_reconstruct(model, x: torch.Tensor) -> torch.Tensor:
    """The decoder's mean at the encoder's mean, E[x | z = μ(x)]: (B, 1, 28, 28) in [0, 1]."""
    return model.decode(model.encode(x)[0])


PRESETS = {
    "vae-2d": Preset("vae", {"latent_dim": 2, "hidden": (512, 256)}),
    "vae-16d": Preset("vae", {"latent_dim": 16, "hidden": (512, 256)}),
}

FAMILY = Family(
    name="vae", config=VAEConfig, model=VAE,
    make_optimizers=adam_optimizers, train_step=vae_step,
    sample=vae_sample, evaluate=vae_metrics,
    equation=r"\log p(x) \ge \mathbb{E}_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x)\,\|\,\mathcal{N}(0, I))",
    about=("An encoder maps an image to a Gaussian q(z|x); a decoder maps a latent z back "
           "to pixels. Training maximises the ELBO, sampling z = μ + σ·ε so gradients flow "
           "through the noise. Decoding any z from N(0, I) gives a new image."),
    features=_latent_means, features_label="latent means μ(x)", reconstruct=vae_reconstruct,
)


# --- the 2-D toy: a VAE on the plane with a Gaussian decoder ------------------------------------

def toy_negative_elbo(model, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """−ELBO per point (B,) of a ``ToyVAE``: −log N(x; m(z), s²(z)) + KL(q(z|x) ‖ N(0, I)),
    one reparameterized z = μ + σ·ε."""
    mu, logvar = model.encode(x)
    z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=gen)
    mean, dec_logvar = model.decode(z)
    nll = 0.5 * ((x - mean).pow(2) / dec_logvar.exp() + dec_logvar + math.log(2 * math.pi)).sum(1)
    return nll + kl_divergence(mu, logvar).sum(1)


def toy_vae_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                 ) -> dict[str, float]:
    """One ELBO step on points x (B, 2)."""
    (opt,) = optimizers
    loss = toy_negative_elbo(model, x, gen).mean()
    descend(opt, loss)
    return {"loss": loss.item()}


@torch.inference_mode()
def toy_vae_sample(model, z: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """x ~ p(x|z) for each z (B, 2): the decoder's mean plus its own Gaussian noise."""
    mean, logvar = model.decode(z)
    return mean + (0.5 * logvar).exp() * torch.randn(mean.shape, generator=gen)
