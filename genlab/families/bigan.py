"""The BiGAN family (Donahue et al. 2017; ALI, Dumoulin et al. 2017): a GAN with an encoder.
The discriminator judges joint pairs, (x, E(x)) for real images against (G(z), z) for noise,
and G and E are trained together to fool it. Two objectives:

- ``bce``: BiGAN's game, min_{G,E} max_D E_x log D(x, E(x)) + E_z log(1 − D(G(z), z)), with
  the non-saturating loss for G and E (the labels swapped).
- ``gan-qp``: BiGAN-QP (Su 2018, "BiGAN-QP: a simple and clear encoding & generative model",
  the notes' chapter): the same pairs scored by a critic with GAN-QP's quadratic potential
  (``genlab.families.gan.gan_qp_d_loss``), the pair distance d = mean |x − x̃| + mean |z − z̃|;
  no Lipschitz constraint.

Optional reconstruction terms (the notes' BiGAN-QP adds them): rec_x·E‖x − G(E(x))‖² and
rec_z·E‖z − E(G(z))‖² in G and E's loss, mean over elements.

Reconstructions G(E(x)) are semantic rather than pixel-exact: E is only asked to make the
joint distributions match, so G(E(x)) keeps what the pair statistics care about (the class,
the pose) and may change details a VAE's decoder would keep.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
import torch.nn.functional as F

from genlab.families import Family, Preset
from genlab.families.gan import (d_bce_loss, g_nonsaturating_loss, gan_noise, gan_qp_d_loss, gan_qp_g_loss,
                                 pair_distance)
from genlab.models.bigan import BiGAN, BiGANConfig
from genlab.train import TrainConfig, descend, dist_info


def bigan_optimizers(model, tcfg: TrainConfig) -> list[torch.optim.Optimizer]:
    """[Adam for D, Adam for G and E together]."""
    if dist_info()[1] > 1:
        raise ValueError("BiGAN training runs in one process (its two updates would bypass DDP)")
    betas = tuple(model.config.adam_betas)
    g, e = list(model.generator.parameters()), list(model.encoder.parameters())
    # G at its own rate when g_lr_ratio is set (a G started from a trained GAN, fine-tuned gently
    # while E and D learn); one group otherwise, as the runs before it (their resume states)
    groups = ([{"params": g, "lr": tcfg.lr * model.config.g_lr_ratio}, {"params": e}]
              if model.config.g_lr_ratio != 1.0 else [*g, *e])
    return [torch.optim.Adam(model.discriminator.parameters(), lr=tcfg.lr * model.config.d_lr_ratio, betas=betas),
            torch.optim.Adam(groups, lr=tcfg.lr, betas=betas)]


def joint_distance(x: torch.Tensor, x2: torch.Tensor, z: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """BiGAN-QP's pair distance (B,): mean |x − x̃| + mean |z − z̃|."""
    return pair_distance(x, x2) + pair_distance(z, z2)


def bigan_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
               ) -> dict[str, float]:
    """One D update on the joint pairs, then one update of G and E together.

    Returns:
        d_loss, g_loss (G and E's adversarial loss), rec_x / rec_z (the reconstruction errors,
        whether or not they are weighted in), d_real / d_fake (D's mean: P(real) for ``bce``,
        critic values for ``gan-qp``).
    """
    cfg = model.config
    opt_d, opt_ge = optimizers
    real = x * 2 - 1  # (B, 1, 28, 28) in [-1, 1]
    z = gan_noise(cfg.noise_dim, real.shape[0], gen)  # (B, noise_dim)
    e_real = model.encoder(real)  # E(x)
    fake = model.generator(z)  # G(z)
    # (1) D: (x, E(x)) is real, (G(z), z) is fake; G and E's graphs are cut by detach
    d_real = model.discriminator(real, e_real.detach())
    d_fake = model.discriminator(fake.detach(), z)
    if cfg.critic:
        dist = joint_distance(real, fake.detach(), e_real.detach(), z)
        d_loss = gan_qp_d_loss(d_real, d_fake, dist, cfg.qp_lambda)
    else:
        d_loss = d_bce_loss(d_real, d_fake)
    descend(opt_d, d_loss)
    # (2) G and E through the just-updated D
    s_real, s_fake = model.discriminator(real, e_real), model.discriminator(fake, z)
    if cfg.critic:
        g_loss = gan_qp_g_loss(s_real, s_fake)  # E[D(x, E(x)) − D(G(z), z)]
    else:  # non-saturating, labels swapped: E should look fake, G real
        g_loss = g_nonsaturating_loss(-s_real) + g_nonsaturating_loss(s_fake)
    rec_x = F.mse_loss(model.generator(e_real), real) if cfg.rec_x else None
    rec_z = F.mse_loss(model.encoder(fake), z) if cfg.rec_z else None
    total = g_loss + (cfg.rec_x * rec_x if rec_x is not None else 0) + (cfg.rec_z * rec_z if rec_z is not None else 0)
    descend(opt_ge, total)
    out = {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
    if rec_x is not None:
        out["rec_x"] = rec_x.item()
    if rec_z is not None:
        out["rec_z"] = rec_z.item()
    view = (lambda s: s.mean().item()) if cfg.critic else (lambda s: torch.sigmoid(s).mean().item())
    return {**out, "d_real": view(d_real), "d_fake": view(d_fake)}


@torch.inference_mode()
def bigan_sample(model, n: int, gen: torch.Generator) -> torch.Tensor:
    """G(z) for z ~ N(0, I), drawn as the other GANs draw it: (n, 1, 28, 28) in [0, 1]."""
    return model.generate(gan_noise(model.config.noise_dim, n, gen))


@torch.inference_mode()
def encode(model, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """E(x) for images (N, 1, 28, 28) in [0, 1]: (N, noise_dim)."""
    return torch.cat([model.encode(x[i:i + batch]) for i in range(0, len(x), batch)])


@torch.inference_mode()
def reconstruct(model, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """G(E(x)) for images (N, 1, 28, 28) in [0, 1], in [0, 1]."""
    return torch.cat([model.reconstruct(x[i:i + batch]) for i in range(0, len(x), batch)])


@torch.inference_mode()
def bigan_metrics(model, x: torch.Tensor, gen: torch.Generator, *, labels=None,
                  batch: int = 500) -> dict[str, float]:
    """Held-out reconstructions and the discriminator's view.

    Returns:
        rec_mae / rec_mse: mean |x − G(E(x))| and mean (x − G(E(x)))² per pixel in [0, 1];
        z_rec_mse: mean (z − E(G(z)))² per latent dimension (E inverting G on its own samples);
        d_holdout, d_samples: D's mean on (x, E(x)) and on (G(z), z) (raw critic values for
        ``gan-qp``, P(real) for ``bce``); n.
    """
    rec = reconstruct(model, x, batch)
    z = gan_noise(model.config.noise_dim, len(x), gen)
    fake = torch.cat([model.generate(zb) for zb in z.split(batch)])
    z_back = encode(model, fake, batch)
    out = {"rec_mae": round((rec - x).abs().mean().item(), 4), "rec_mse": round((rec - x).pow(2).mean().item(), 5),
           "z_rec_mse": round((z_back - z).pow(2).mean().item(), 4), "n": len(x)}
    if "discriminator" in getattr(model, "dropped", ()):  # shipped without D: nothing to score with
        return out
    e_real = encode(model, x, batch)
    raw = lambda xs, zs: torch.cat([model.score(a, b) for a, b in zip(xs.split(batch), zs.split(batch))])
    real_s, fake_s = raw(x, e_real), raw(fake, z)
    if not model.config.critic:
        real_s, fake_s = torch.sigmoid(real_s), torch.sigmoid(fake_s)
    return {**out, "d_holdout": round(real_s.mean().item(), 4), "d_samples": round(fake_s.mean().item(), 4)}


def _codes(model, x: torch.Tensor) -> torch.Tensor:
    return model.encode(x)


PRESETS = {
    "bigan": Preset("bigan", {"loss": "gan-qp"}, train={"lr": 2e-4, "batch_size": 64}),
    "bigan-bce": Preset("bigan", {"loss": "bce"}, train={"lr": 2e-4, "batch_size": 64}),
}

def prepare_from_gan(teacher, out: Path, *, seed: int, config: BiGANConfig, images: torch.Tensor,
                     labels: torch.Tensor, **_) -> tuple:
    """``genlab train bigan --from DATASET/GAN``: G starts as that GAN's generator (its shipped
    weights), E and D from scratch; G's shape (noise size, width, last layer) is the GAN's.

    Returns (config, images, labels, initial weights), the training data unchanged."""
    source = teacher.model
    if teacher.card["family"] != "gan" or source.config.arch != "dcgan":
        raise ValueError(f"--from {teacher.id}: a BiGAN's G can start from a DCGAN-style GAN "
                         f"(arch dcgan), not a {teacher.card['family']} "
                         f"{getattr(source.config, 'arch', '')}".rstrip())
    g = source.config
    config = dataclasses.replace(config, noise_dim=g.noise_dim, channels=g.channels, g_head=g.g_head)
    torch.manual_seed(seed)  # E and D's initialisation, as a run from scratch
    model = BiGAN(config)
    model.generator.load_state_dict(source.generator.state_dict())
    return config, images, labels, model.state_dict()


FAMILY = Family(
    name="bigan", config=BiGANConfig, model=BiGAN,
    make_optimizers=bigan_optimizers, train_step=bigan_step,
    sample=bigan_sample, evaluate=bigan_metrics, snapshots=True, training_only=("discriminator",),
    equation=r"\min_{G,E}\max_D\; \mathbb{E}_{x}[\log D(x, E(x))] + "
             r"\mathbb{E}_{z\sim\mathcal{N}(0, I)}[\log(1 - D(G(z), z))]",
    about=("A GAN with an encoder: D judges pairs, (x, E(x)) for real images against (G(z), z) "
           "for noise, and G and E learn together to fool it. At the optimum E inverts G, so a "
           "real image can be mapped into the latent space and back: G(E(x)) is a semantic "
           "reconstruction, E(x) a learned feature."),
    features=_codes, features_label="encoder codes E(x)", reconstruct=reconstruct, prepare=prepare_from_gan,
)
