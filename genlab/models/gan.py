"""Generative adversarial networks (Goodfellow et al. 2014) for 28×28 images: a generator
G(z) and a discriminator D(x) in one module, so one checkpoint holds both (the app shows
D's score of the samples).

Two architectures: ``mlp`` (fully connected; G of Linear + BatchNorm1d + GELU layers) and
``dcgan`` (Radford et al. 2016: transposed convolutions, BatchNorm, LeakyReLU in D). Two
losses: ``bce`` (D is a classifier, G minimises the non-saturating −log D(G(z))) and
``wgan-gp`` (Gulrajani et al. 2017: D is a critic with no sigmoid, trained on the
Kantorovich–Rubinstein dual with a gradient penalty).

Pixel range: inside the networks images live in [−1, 1] (G ends in tanh, D reads [−1, 1]).
Outside, as everywhere in genlab, images are in [0, 1]: ``GAN.generate`` and ``GAN.score``
convert. The losses below work on D's raw outputs (logits for ``bce``, critic values for
``wgan-gp``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

ARCHS = ("mlp", "dcgan")
G_HEADS = ("convt", "conv")
LOSSES = ("bce", "wgan-gp", "hinge", "gan-qp")
D_NORMS = ("none", "batch", "layer", "spectral")
D_AUGMENTS = ("none", "translation", "translation,cutout")


@dataclass(frozen=True)
class GANConfig:
    arch: str = "mlp"  # "mlp" or "dcgan" (convolutional G and D)
    loss: str = "bce"  # "bce": non-saturating GAN; "wgan-gp": Wasserstein critic + gradient
    # penalty; "hinge": the hinge loss of SNGAN (Miyato et al. 2018) and BigGAN; "gan-qp": the
    # quadratic-potential critic of Su 2018 (no Lipschitz constraint needed)
    noise_dim: int = 96  # z ~ N(0, I); the same for every variant, so one z feeds them all
    g_hidden: tuple[int, ...] = (256, 512, 1024)  # mlp: generator widths
    d_hidden: tuple[int, ...] = (512, 256)  # mlp: discriminator widths
    channels: int = 32  # dcgan: width at 14×14 (doubled at 7×7) in G and D
    g_head: str = "convt"  # dcgan: how G reaches 28×28. "convt": one transposed convolution
    # straight to the pixel (Radford et al.'s layout); "conv": a transposed convolution to
    # channels/2 feature maps at 28×28 (BatchNorm, ReLU), then a 3×3 convolution to the pixel,
    # so neighbouring pixels are drawn from shared features (fewer checkerboard speckles)
    d_norm: str = "none"  # "batch" (DCGAN), "layer", "spectral" (every D layer's weight divided by
    # its largest singular value: D is 1-Lipschitz per layer, Miyato et al. 2018) or "none"; a WGAN-GP critic cannot use
    # batch norm: the penalty is on each sample's gradient, batch norm couples the samples
    leak: float = 0.2  # slope of D's LeakyReLU for x < 0 (DCGAN's value)
    n_critic: int = 1  # D updates per G update (5 in WGAN-GP, algorithm 1)
    gp_lambda: float = 10.0  # weight λ of the gradient penalty (WGAN-GP's value)
    qp_lambda: float = 10.0  # GAN-QP's λ: |D(x) − D(x̃)| may grow up to about λ·mean|x − x̃|
    adam_betas: tuple[float, ...] = (0.5, 0.999)  # (0.5, 0.999) for DCGAN; (0.0, 0.9) for WGAN-GP
    d_lr_ratio: float = 1.0  # D's learning rate over G's (two time-scale updates, Heusel et al. 2017)
    d_augment: str = "none"  # what D sees of every image, real and generated alike, in both
    # updates (differentiable augmentation, Zhao et al. 2020): "translation" shifts each image
    # by up to 3 pixels, "translation,cutout" also blanks a random 14×14 square. D then cannot
    # memorise a small training set, and G is not pushed to draw the augmented images
    d_minibatch_std: bool = False  # D's last layer also sees how much its features vary across
    # the batch (their standard deviation, averaged: one more feature, or one more 7×7 map;
    # Karras et al. 2018): a batch of near-copies is told apart, so G is pushed to vary
    r1_gamma: float = 0.0  # weight γ of the R1 penalty γ/2 · E‖∇ₓ D(x)‖² on real images
    # (Mescheder et al. 2018): D's logit stays flat around the data, so G's gradient does not
    # oscillate there; 0 turns it off
    image_size: int = 28  # MNIST and Fashion-MNIST are 28×28 grey

    @property
    def critic(self) -> bool:
        """D is a critic (raw scores, only their differences mean anything), not a classifier."""
        return self.loss in ("wgan-gp", "gan-qp")

    def __post_init__(self) -> None:
        for name, value, valid in (("arch", self.arch, ARCHS), ("loss", self.loss, LOSSES),
                                   ("d_norm", self.d_norm, D_NORMS), ("g_head", self.g_head, G_HEADS),
                                   ("d_augment", self.d_augment, D_AUGMENTS)):
            if value not in valid:
                raise ValueError(f"unknown {name} {value!r}; valid: {', '.join(valid)}")
        if self.loss == "wgan-gp" and self.d_norm == "batch":
            raise ValueError("a WGAN-GP critic cannot use batch norm (the gradient penalty is "
                             "per sample); use d_norm='layer' or 'none'")
        for name, value in (("d_augment", self.d_augment != "none"), ("r1_gamma", self.r1_gamma != 0)):
            if value and self.loss not in ("bce", "hinge"):
                raise ValueError(f"{name} is for the bce and hinge losses; got loss={self.loss!r}")
        if self.r1_gamma < 0:
            raise ValueError(f"r1_gamma must be at least 0; got {self.r1_gamma}")
        if self.n_critic < 1:
            raise ValueError(f"n_critic must be at least 1; got {self.n_critic}")


def _norm1d(kind: str, width: int) -> nn.Module:
    return {"batch": lambda: nn.BatchNorm1d(width), "layer": lambda: nn.LayerNorm(width),
            "none": nn.Identity, "spectral": nn.Identity}[kind]()


def _norm2d(kind: str, channels: int) -> nn.Module:
    # GroupNorm with one group is layer norm over (C, H, W) with a per-channel affine
    return {"batch": lambda: nn.BatchNorm2d(channels), "layer": lambda: nn.GroupNorm(1, channels),
            "none": nn.Identity, "spectral": nn.Identity}[kind]()


class Generator(nn.Module):
    """z (B, noise_dim) -> images (B, 1, 28, 28) in [−1, 1]."""

    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        s = config.image_size
        if config.arch == "mlp":
            layers: list[nn.Module] = []
            widths = [config.noise_dim, *config.g_hidden]
            for a, b in zip(widths[:-1], widths[1:]):
                layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.GELU()]
            self.net = nn.Sequential(*layers, nn.Linear(widths[-1], s * s), nn.Tanh(),
                                     nn.Unflatten(1, (1, s, s)))
        else:
            c, q = config.channels, s // 4
            self.net = nn.Sequential(
                nn.Linear(config.noise_dim, 2 * c * q * q, bias=False), nn.BatchNorm1d(2 * c * q * q),
                nn.ReLU(), nn.Unflatten(1, (2 * c, q, q)),  # (B, 2c, 7, 7)
                nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False), nn.BatchNorm2d(c),
                nn.ReLU(),  # (B, c, 14, 14)
                *self._head(c), nn.Tanh())  # (B, 1, 28, 28)

    def _head(self, c: int) -> list[nn.Module]:
        """(B, c, 14, 14) -> (B, 1, 28, 28), before the tanh."""
        if self.config.g_head == "convt":
            return [nn.ConvTranspose2d(c, 1, 4, 2, 1)]
        h = max(c // 2, 1)
        return [nn.ConvTranspose2d(c, h, 4, 2, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU(),
                nn.Conv2d(h, 1, 3, 1, 1)]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class MinibatchStd(nn.Module):
    """(B, F) or (B, C, H, W) -> the same with one more feature (channel): the standard
    deviation of every feature over the batch, averaged, the same for every image (Karras et al.
    2018, sec. 3). A batch of one gets 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spread = (x.var(dim=0, unbiased=False) + 1e-8).sqrt().mean() if len(x) > 1 else x.new_zeros(())
        return torch.cat([x, spread.expand(len(x), 1, *x.shape[2:])], dim=1)


class Discriminator(nn.Module):
    """Images (B, 1, 28, 28) in [−1, 1] -> one raw score per image (B,): a logit for
    ``bce``, a critic value for ``wgan-gp`` (no sigmoid in either)."""

    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        s = config.image_size
        act = lambda: nn.LeakyReLU(config.leak)
        # a critic's loss sees only differences of scores: an output bias would get no gradient
        bias = not config.critic
        if config.arch == "mlp":
            layers: list[nn.Module] = [nn.Flatten()]
            widths = [s * s, *config.d_hidden]
            for a, b in zip(widths[:-1], widths[1:]):
                layers += [nn.Linear(a, b), _norm1d(config.d_norm, b), act()]
            std = [MinibatchStd()] if config.d_minibatch_std else []
            self.net = nn.Sequential(*layers, *std, nn.Linear(widths[-1] + len(std), 1, bias=bias))
        else:
            c, q = config.channels, s // 4
            std = [MinibatchStd()] if config.d_minibatch_std else []
            self.net = nn.Sequential(
                nn.Conv2d(1, c, 4, 2, 1), act(),  # (B, c, 14, 14); no norm on the input layer
                nn.Conv2d(c, 2 * c, 4, 2, 1), _norm2d(config.d_norm, 2 * c), act(),  # (B, 2c, 7, 7)
                *std, nn.Flatten(), nn.Linear((2 * c + len(std)) * q * q, 1, bias=bias))
        if config.d_norm == "spectral":
            for layer in self.net:
                if isinstance(layer, (nn.Conv2d, nn.Linear)):
                    nn.utils.parametrizations.spectral_norm(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


class GAN(nn.Module):
    """The pair (G, D); training alternates their updates (genlab.families.gan.gan_step)."""

    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        self.generator = Generator(config)
        self.discriminator = Discriminator(config)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, noise_dim) -> images (B, 1, 28, 28) in [0, 1]."""
        return (self.generator(z) + 1) / 2

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, 1, 28, 28) in [0, 1] -> D's raw score (B,): logit or critic value."""
        return self.discriminator(x * 2 - 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, 1, 28, 28) in [0, 1] -> D's penultimate features (B, F), what its last
        linear layer scores (the projections page maps them)."""
        return self.discriminator.net[:-1](x * 2 - 1).flatten(1)
