"""The GAN family (Goodfellow et al. 2014): the losses, the alternating D / G training steps
(non-saturating BCE and WGAN-GP), sampling G(z), the discriminator's held-out view, and
the presets ``gan-mlp``, ``dcgan``, ``wgan-gp`` and ``gan-qp``.

The networks are ``genlab.models.gan.GAN`` (G and D in one module). The losses work on
D's raw outputs: logits for ``bce``, critic values for ``wgan-gp``. Inside the networks
images live in [−1, 1]; outside, as everywhere in genlab, in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genlab.families import Family, Preset
from genlab.models.gan import GAN, GANConfig
from genlab.train import TrainConfig, descend, dist_info


# --- losses: pure functions of D's raw outputs --------------------------------------------

def d_bce_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """−V(D, G) = −E log D(x) − E log(1 − D(G(z))), D = σ(logit) (Goodfellow et al. 2014, eq. 1).

    At D's optimum for G's distribution equal to the data's, D = ½ and the loss is log 4.
    """
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def g_nonsaturating_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """−E log D(G(z)): the generator loss used in practice (Goodfellow et al. 2014, sec. 3),
    steep where D confidently rejects the samples."""
    return F.softplus(-fake_logits).mean()  # −log σ(l) = softplus(−l)


def g_minimax_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """E log(1 − D(G(z))): the generator's side of the minimax game; flat (saturates) where
    D confidently rejects the samples, so G learns little early on."""
    return -F.softplus(fake_logits).mean()  # log(1 − σ(l)) = −softplus(l)


def d_hinge_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E max(0, 1 − D(x)) + E max(0, 1 + D(G(z))) (Lim & Ye 2017; SNGAN, Miyato et al. 2018):
    D stops pushing a sample once it is beyond the margin; G minimises −E D(G(z))."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E D(G(z)) − E D(x): the critic minimises the negative of the Wasserstein estimate."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_estimate(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E D(x) − E D(G(z)): the Kantorovich–Rubinstein dual at the current critic, an estimate
    of W1(P_data, P_G) when D is (close to) 1-Lipschitz (Arjovsky et al. 2017, eq. 3)."""
    return real_scores.mean() - fake_scores.mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     gen: torch.Generator) -> torch.Tensor:
    """E (‖∇D(x̂)‖₂ − 1)², x̂ = ε x + (1 − ε) x̃, ε ~ U[0, 1] per sample (Gulrajani et al.
    2017, algorithm 1). Differentiable in the critic's weights (create_graph).

    Args:
        critic: maps (B, …) to (B,) scores.
        real: real images (B, 1, H, W) (or points (B, 2)) in the critic's input range.
        fake: generated images, same shape (detached from G).
        gen: draws ε.

    Returns:
        The penalty, a scalar (not yet multiplied by λ).
    """
    eps = torch.rand((real.shape[0],) + (1,) * (real.ndim - 1), generator=gen, dtype=real.dtype)  # (B, 1, …)
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def pair_distance(real: torch.Tensor, fake: torch.Tensor, norm: str = "l1") -> torch.Tensor:
    """d(x, x̃) per pair (B,): ``l1`` the mean absolute difference per element (what GAN-QP
    uses on images: it does not grow with the image size), ``l2`` the Euclidean norm."""
    diff = (real - fake).flatten(1)
    return diff.abs().mean(1) if norm == "l1" else diff.norm(dim=1)


def gan_qp_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor, dist: torch.Tensor,
                  lam: float) -> torch.Tensor:
    """GAN-QP's critic loss (Su 2018, "GAN-QP: a novel GAN framework without gradient vanishing
    and Lipschitz constraint", arXiv:1811.07296, eq. 13): the critic maximises
    E[D(x) − D(x̃)] − E[(D(x) − D(x̃))² / (2λ·d(x, x̃))] over pairs (x, x̃), so this returns
    the negative. The quadratic term replaces the Lipschitz constraint: it bounds each pair's
    difference by its distance, so D needs no clipping, penalty or normalisation, and G's
    gradient does not vanish.

    Args:
        real_scores, fake_scores: D on the paired real and generated samples, (B,).
        dist: d(x, x̃) of each pair (B,), see ``pair_distance``.
        lam: λ, the scale of the allowed difference per unit of distance.
    """
    diff = real_scores - fake_scores
    return (-diff + diff.pow(2) / (2 * lam * dist.clamp(min=1e-8))).mean()


def gan_qp_g_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """GAN-QP's generator loss E[D(x) − D(G(z))]: G raises the critic's value of its samples."""
    return (real_scores - fake_scores).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """E‖∇ₓ D(x)‖² over the real images D just scored (``real`` must require grad); the graph
    is kept, so the penalty trains D (Mescheder et al. 2018, eq. 9, without the γ/2)."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


# --- differentiable augmentation: D sees shifted (and cut) images, real and fake alike ------

def translate(x: torch.Tensor, shift: int, gen: torch.Generator, fill: float = -1.0) -> torch.Tensor:
    """Each image of (B, C, H, W) moved by its own (dy, dx), uniform in [−shift, shift]; what
    moves in is ``fill`` (the background, −1 in G's range). Indexing, so gradients reach x."""
    b, _, h, w = x.shape
    dy, dx = (torch.randint(-shift, shift + 1, (b,), generator=gen) for _ in range(2))
    padded = F.pad(x, (shift, shift, shift, shift), value=fill)
    rows = torch.arange(h)[None, :] + (shift - dy)[:, None]  # (B, H): source row of each output row
    cols = torch.arange(w)[None, :] + (shift - dx)[:, None]
    return padded[torch.arange(b)[:, None, None], :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, size: int, gen: torch.Generator, fill: float = -1.0) -> torch.Tensor:
    """Each image with a ``size``×``size`` square (its centre uniform over the image, clipped at
    the border) set to ``fill``."""
    b, _, h, w = x.shape
    cy, cx = torch.randint(0, h, (b,), generator=gen), torch.randint(0, w, (b,), generator=gen)
    off_y = torch.arange(h)[None, :] - cy[:, None] + size // 2  # (B, H): 0 … size−1 inside
    off_x = torch.arange(w)[None, :] - cx[:, None] + size // 2
    inside_y, inside_x = (off_y >= 0) & (off_y < size), (off_x >= 0) & (off_x < size)
    cut = (inside_y[:, :, None] & inside_x[:, None, :])[:, None]  # (B, 1, H, W)
    return x.masked_fill(cut, fill)


def augment(x: torch.Tensor, policy: str, gen: torch.Generator) -> torch.Tensor:
    """``policy`` (GANConfig.d_augment) applied to images in [−1, 1]: 28×28 images shift by up
    to 3 pixels (an eighth, Zhao et al.'s ratio) and lose a 14×14 square (half); "none" returns
    x itself and draws nothing from ``gen``."""
    if "translation" in policy:
        x = translate(x, max(1, x.shape[-1] // 8), gen)
    if "cutout" in policy:
        x = cutout(x, x.shape[-1] // 2, gen)
    return x


# --- training: alternate D and G updates (Goodfellow et al. 2014, algorithm 1) -------------

def gan_optimizers(model, tcfg: TrainConfig) -> list[torch.optim.Optimizer]:
    """[Adam for D, Adam for G] with the config's betas (DCGAN 0.5; WGAN-GP 0.0, 0.9)."""
    if dist_info()[1] > 1:
        raise ValueError("GAN training runs in one process (its two updates would bypass DDP)")
    betas = tuple(model.config.adam_betas)
    d_lr = tcfg.lr * model.config.d_lr_ratio
    return [torch.optim.Adam(model.discriminator.parameters(), lr=d_lr, betas=betas),
            torch.optim.Adam(model.generator.parameters(), lr=tcfg.lr, betas=betas)]


def gan_family_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                    ) -> dict[str, float]:
    """The GAN family's train step: ``wgan_gp_step``, ``gan_qp_step`` or ``gan_step`` by the
    config's loss."""
    step = {"wgan-gp": wgan_gp_step, "gan-qp": gan_qp_step}.get(model.config.loss, gan_step)
    return step(model, optimizers, x, y, gen)


def gan_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
             ) -> dict[str, float]:
    """One D update on −V(D, G), then one G update on the non-saturating −log D(G(z)).

    Returns:
        d_loss, g_loss, and d_real / d_fake: D's mean probability on real and generated
        images (before the updates).
    """
    opt_d, opt_g = optimizers
    real = x * 2 - 1  # (B, 1, 28, 28) in [-1, 1], G's range
    z = torch.randn((real.shape[0], model.config.noise_dim), generator=gen)
    fake = model.generator(z)
    hinge = model.config.loss == "hinge"
    policy = model.config.d_augment  # what D sees of an image ("none": the image itself)
    # (1) update D: maximise log D(x) + log(1 - D(G(z))) (or the hinge); G's graph is cut by detach
    seen_real = augment(real, policy, gen).requires_grad_(model.config.r1_gamma > 0)
    real_logits = model.discriminator(seen_real)
    fake_logits = model.discriminator(augment(fake.detach(), policy, gen))
    d_loss = (d_hinge_loss if hinge else d_bce_loss)(real_logits, fake_logits)
    out = {}
    if model.config.r1_gamma > 0:
        out["r1"] = r1_penalty(real_logits, seen_real)
        d_loss = d_loss + model.config.r1_gamma / 2 * out["r1"]
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    # (2) update G: maximise log D(G(z)) (hinge: E D(G(z))) through the just-updated D
    fake_scores = model.discriminator(augment(fake, policy, gen))
    g_loss = -fake_scores.mean() if hinge else g_nonsaturating_loss(fake_scores)
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
            "d_real": torch.sigmoid(real_logits).mean().item(),
            "d_fake": torch.sigmoid(fake_logits).mean().item()} | {k: v.item() for k, v in out.items()}


def gan_qp_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                ) -> dict[str, float]:
    """One critic update on the GAN-QP loss, then one G update on E[D(x) − D(G(z))], each real
    image paired with one sample (Su 2018, algorithm of sec. 4; d = mean |x − x̃|, λ = qp_lambda).

    Returns:
        d_loss, g_loss, d_gap = E D(x) − E D(G(z)) before the updates, and d_real / d_fake.
    """
    cfg = model.config
    opt_d, opt_g = optimizers
    real = x * 2 - 1  # (B, 1, 28, 28) in [-1, 1], G's range
    fake = model.generator(torch.randn((real.shape[0], cfg.noise_dim), generator=gen))
    # (1) update D on the pairs (x, G(z)); G's graph is cut by detach
    real_scores, fake_scores = model.discriminator(torch.cat([real, fake.detach()])).chunk(2)
    d_loss = gan_qp_d_loss(real_scores, fake_scores, pair_distance(real, fake.detach()), cfg.qp_lambda)
    descend(opt_d, d_loss)
    # (2) update G through the just-updated D: the real scores are constants for G
    with torch.no_grad():
        real_now = model.discriminator(real)
    g_loss = gan_qp_g_loss(real_now, model.discriminator(fake))
    descend(opt_g, g_loss)
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
            "d_gap": (real_scores - fake_scores).mean().item(),
            "d_real": real_scores.mean().item(), "d_fake": fake_scores.mean().item()}


def wgan_gp_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                 ) -> dict[str, float]:
    """``n_critic`` critic updates, then one G update (Gulrajani et al. 2017, algorithm 1).

    The batch is split into ``n_critic`` chunks, so each critic update sees fresh real
    images (a batch of 320 with n_critic = 5 is 64 per update); G's update uses as many z.

    Returns:
        d_loss (critic loss with penalty), g_loss = −E D(G(z)), w_estimate = E D(x) −
        E D(G(z)) of the last critic update (before its step), gp (the penalty), and
        d_real / d_fake: the critic's mean values.
    """
    cfg = model.config
    opt_d, opt_g = optimizers
    real_all = x * 2 - 1  # (B, 1, 28, 28) in [-1, 1], G's range
    for real in real_all.chunk(cfg.n_critic):
        # (1) update D: minimise E D(G(z)) - E D(x) + λ E(‖∇D(x̂)‖ - 1)²
        with torch.no_grad():
            fake = model.generator(torch.randn((real.shape[0], cfg.noise_dim), generator=gen))
        real_scores, fake_scores = model.discriminator(real), model.discriminator(fake)
        gp = gradient_penalty(model.discriminator, real, fake, gen)
        d_loss = critic_loss(real_scores, fake_scores) + cfg.gp_lambda * gp
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
    # (2) update G: minimise -E D(G(z))
    z = torch.randn((real.shape[0], cfg.noise_dim), generator=gen)
    g_loss = -model.discriminator(model.generator(z)).mean()
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
            "w_estimate": wasserstein_estimate(real_scores, fake_scores).item(), "gp": gp.item(),
            "d_real": real_scores.mean().item(), "d_fake": fake_scores.mean().item()}


# --- sampling and evaluation -----------------------------------------------------------------

def gan_noise(noise_dim: int, n: int, gen: torch.Generator) -> torch.Tensor:
    """z ~ N(0, I), (n, noise_dim): with one seed, every GAN variant gets the same z."""
    return torch.randn((n, noise_dim), generator=gen)


@torch.inference_mode()
def gan_sample(model, n: int, gen: torch.Generator) -> torch.Tensor:
    """G(z) for z ~ N(0, I): (n, 1, 28, 28) in [0, 1]."""
    return model.generate(gan_noise(model.config.noise_dim, n, gen))


@torch.inference_mode()
def discriminator_scores(model, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """A GAN's D on images (N, 1, 28, 28) in [0, 1], (N,): the probability of "real" for the
    ``bce`` loss, the critic value for ``wgan-gp`` and ``gan-qp`` (only differences of those
    mean anything)."""
    raw = torch.cat([model.score(x[i:i + batch]) for i in range(0, len(x), batch)])
    return raw if model.config.critic else torch.sigmoid(raw)


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
        estimate of W1; for ``gan-qp`` the same gap as d_gap; n.
    """
    fake = torch.cat([model.generate(gan_noise(model.config.noise_dim, len(xb), gen))
                      for xb in x.split(batch)])
    real, fake = discriminator_scores(model, x, batch), discriminator_scores(model, fake, batch)
    out = {"d_holdout": round(real.mean().item(), 4), "d_samples": round(fake.mean().item(), 4)}
    if model.config.loss == "wgan-gp":
        out["w_estimate"] = round(wasserstein_estimate(real, fake).item(), 4)
    elif model.config.critic:  # GAN-QP: the gap is its divergence estimate, not W1
        out["d_gap"] = round((real.mean() - fake.mean()).item(), 4)
    else:
        out["d_accuracy"] = round(((real > 0.5).sum() + (fake <= 0.5).sum()).item() / (2 * len(x)), 4)
    return {**out, "n": len(x)}


def _penultimate(model, x: torch.Tensor) -> torch.Tensor:
    return model.features(x)


PRESETS = {
    "gan-mlp": Preset("gan", {"arch": "mlp", "loss": "bce", "d_norm": "none"},
                      train={"lr": 2e-4, "batch_size": 64}),
    "dcgan": Preset("gan", {"arch": "dcgan", "loss": "bce", "d_norm": "batch", "channels": 32},
                    train={"lr": 2e-4, "batch_size": 64}),
    # 5 critic updates of 64 images per generator update (Gulrajani et al. 2017, algorithm 1)
    "wgan-gp": Preset("gan", {"arch": "dcgan", "loss": "wgan-gp", "d_norm": "layer", "channels": 32,
                              "n_critic": 5, "gp_lambda": 10.0, "adam_betas": (0.0, 0.9)},
                      train={"lr": 1e-4, "batch_size": 320}),
    # GAN-QP (Su 2018): no Lipschitz constraint, so no penalty and no normalisation in D
    "gan-qp": Preset("gan", {"arch": "dcgan", "loss": "gan-qp", "d_norm": "none", "channels": 32,
                             "qp_lambda": 10.0}, train={"lr": 2e-4, "batch_size": 64}),
}

FAMILY = Family(
    name="gan", config=GANConfig, model=GAN,
    make_optimizers=gan_optimizers, train_step=gan_family_step,
    sample=gan_sample, evaluate=gan_metrics, snapshots=True,
    equation=r"\min_G \max_D\; \mathbb{E}_{x\sim p_{\text{data}}}[\log D(x)] + "
             r"\mathbb{E}_{z\sim\mathcal{N}(0, I)}[\log(1 - D(G(z)))]",
    about=("A generator G maps noise z to an image; a discriminator D learns to tell real "
           "images from G's, and G learns to fool it. With the Wasserstein loss D becomes a "
           "1-Lipschitz critic whose score gap estimates the distance between the two "
           "distributions. There is no encoder and no likelihood: sampling is one pass of G."),
    features=_penultimate, features_label="discriminator's penultimate features",
)


# --- the 2-D toy: G and D as small MLPs on the plane, stepped together or one at a time --------

TOY_GAN_LOSSES = ("bce", "wgan-gp", "gan-qp")
TOY_GP_LAMBDA = 0.1  # WGAN-GP's λ on the plane (10 on images, where distances are ~100× larger)
TOY_QP_LAMBDA = 1.0  # GAN-QP's λ on the plane


def toy_d_update(model, opt_d, real: torch.Tensor, gen: torch.Generator, loss: str) -> dict[str, float]:
    """One update of D (a ``ToyGAN``'s) on real points (B, 2) and as many of G's, by ``loss``
    (``bce``: −V(D, G); ``wgan-gp``: critic loss + λ·penalty; ``gan-qp``: the QP critic loss)."""
    with torch.no_grad():
        fake = model.generator(torch.randn((real.shape[0], model.config.noise_dim), generator=gen))
    real_scores, fake_scores = model.discriminator(torch.cat([real, fake])).split(len(real))  # one pass
    if loss == "bce":
        d_loss = d_bce_loss(real_scores, fake_scores)
    elif loss == "wgan-gp":
        d_loss = (critic_loss(real_scores, fake_scores)
                  + TOY_GP_LAMBDA * gradient_penalty(model.discriminator, real, fake, gen))
    else:
        d_loss = gan_qp_d_loss(real_scores, fake_scores, pair_distance(real, fake, "l2"), TOY_QP_LAMBDA)
    descend(opt_d, d_loss)
    return {"d_loss": d_loss.item()}


def toy_g_loss(model, real: torch.Tensor, fake: torch.Tensor, loss: str) -> torch.Tensor:
    """G's loss on its samples ``fake`` (B, 2) (``real``: the paired points GAN-QP needs)."""
    fake_scores = model.discriminator(fake)
    if loss == "bce":
        return g_nonsaturating_loss(fake_scores)
    if loss == "wgan-gp":
        return -fake_scores.mean()
    return gan_qp_g_loss(model.discriminator(real).detach(), fake_scores)


def toy_g_update(model, opt_g, real: torch.Tensor, gen: torch.Generator, loss: str) -> dict[str, float]:
    """One update of G through the current D (its D is left as it is)."""
    z = torch.randn((real.shape[0], model.config.noise_dim), generator=gen)
    g_loss = toy_g_loss(model, real, model.generator(z), loss)
    descend(opt_g, g_loss)
    return {"g_loss": g_loss.item()}


def toy_gan_step(loss: str, n_critic: int = 1):
    """The train step of a toy GAN with ``loss``: ``n_critic`` D updates (on chunks of the
    batch), then one G update."""
    if loss not in TOY_GAN_LOSSES:
        raise ValueError(f"unknown GAN loss {loss!r}; valid: {', '.join(TOY_GAN_LOSSES)}")

    def step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> dict[str, float]:
        opt_d, opt_g = optimizers
        for real in x.chunk(n_critic):
            out = toy_d_update(model, opt_d, real, gen, loss)
        return {**out, **toy_g_update(model, opt_g, real, gen, loss)}

    return step


def toy_fake_gradients(model, z: torch.Tensor, real: torch.Tensor, loss: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Where G's samples G(z) are and where its loss pushes each: (fake (B, 2), −∂L_G/∂x̃ (B, 2))
    (as many ``real`` points as z, for GAN-QP's pairs); the arrows of the playground's D/G
    stepping."""
    fake = model.generator(z).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(toy_g_loss(model, real, fake, loss) * len(z), fake)
    return fake.detach(), -grad
