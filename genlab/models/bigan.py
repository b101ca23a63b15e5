"""BiGAN / ALI (Donahue et al. 2017, "Adversarial feature learning"; Dumoulin et al. 2017,
"Adversarially learned inference") for 28×28 images: a generator G: z → x, an encoder
E: x → z and a discriminator D(x, z) on joint pairs, in one module.

D tells the pairs (x, E(x)) of real images from the pairs (G(z), z) of noise; G and E learn
together to make the two joint distributions equal, which at the optimum makes E the
inverse of G (Donahue et al. 2017, theorem 2). The encoder is deterministic, as in BiGAN.

G is the DCGAN generator of ``genlab.models.gan``; E mirrors D's image path. Pixel range:
inside the networks images live in [−1, 1]; ``generate``, ``encode`` and ``reconstruct``
take and give [0, 1], as everywhere in genlab.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genlab.models.gan import GANConfig, Generator

BIGAN_LOSSES = ("bce", "gan-qp")


@dataclass(frozen=True)
class BiGANConfig:
    loss: str = "gan-qp"  # "bce": the BiGAN/ALI game; "gan-qp": its quadratic-potential version
    noise_dim: int = 96  # z ~ N(0, I): the same z as the other GANs, so one seed feeds them all
    channels: int = 32  # width at 14×14 (doubled at 7×7) in G, E and D's image path
    g_head: str = "convt"  # G's last layer, as GANConfig.g_head ("conv": 3×3 over shared maps at 28×28)
    d_hidden: int = 512  # D's joint layer on [features(x), features(z)]
    leak: float = 0.2  # LeakyReLU slope in E and D
    dropout: float = 0.2  # in D's joint layers (BiGAN's discriminator uses dropout)
    qp_lambda: float = 10.0  # GAN-QP's λ (distance: mean |x − x̃| + mean |z − z̃|)
    rec_x: float = 0.0  # weight of ‖x − G(E(x))‖² in G and E's loss (BiGAN-QP's optional terms)
    rec_z: float = 0.0  # weight of ‖z − E(G(z))‖²
    adam_betas: tuple[float, ...] = (0.5, 0.999)
    d_lr_ratio: float = 1.0  # D's learning rate over G and E's
    g_lr_ratio: float = 1.0  # G's learning rate over E's (below 1: a G started from a trained GAN kept close)
    image_size: int = 28

    def __post_init__(self) -> None:
        if self.loss not in BIGAN_LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; valid: {', '.join(BIGAN_LOSSES)}")
        if min(self.rec_x, self.rec_z) < 0:
            raise ValueError("reconstruction weights must be ≥ 0")
        if not 0 <= self.g_lr_ratio <= 10:
            raise ValueError(f"g_lr_ratio must be in [0, 10], not {self.g_lr_ratio}")
        self.generator_config()  # checks g_head (and the rest G takes) here, where a card is read

    @property
    def critic(self) -> bool:
        return self.loss == "gan-qp"

    def generator_config(self) -> GANConfig:
        return GANConfig(arch="dcgan", noise_dim=self.noise_dim, channels=self.channels, g_head=self.g_head)


def _image_path(c: int, leak: float) -> nn.Sequential:
    """(B, 1, 28, 28) in [−1, 1] -> (B, 2c·7·7): two stride-2 convolutions."""
    return nn.Sequential(
        nn.Conv2d(1, c, 4, 2, 1), nn.LeakyReLU(leak),  # (B, c, 14, 14)
        nn.Conv2d(c, 2 * c, 4, 2, 1), nn.GroupNorm(1, 2 * c), nn.LeakyReLU(leak),  # (B, 2c, 7, 7)
        nn.Flatten())


class Encoder(nn.Module):
    """Images (B, 1, 28, 28) in [−1, 1] -> z (B, noise_dim)."""

    def __init__(self, config: BiGANConfig):
        super().__init__()
        c, q = config.channels, config.image_size // 4
        self.net = nn.Sequential(_image_path(c, config.leak), nn.Linear(2 * c * q * q, 512),
                                 nn.LeakyReLU(config.leak), nn.Linear(512, config.noise_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class JointDiscriminator(nn.Module):
    """(x (B, 1, 28, 28) in [−1, 1], z (B, noise_dim)) -> one raw score per pair (B,)."""

    def __init__(self, config: BiGANConfig):
        super().__init__()
        c, q, h = config.channels, config.image_size // 4, config.d_hidden
        act = lambda: nn.LeakyReLU(config.leak)
        self.x_path = _image_path(c, config.leak)
        self.z_path = nn.Sequential(nn.Linear(config.noise_dim, h), act())
        self.joint = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(2 * c * q * q + h, h), act(),
                                   nn.Dropout(config.dropout))
        # a critic's loss sees only differences of scores: an output bias would get no gradient
        self.out = nn.Linear(h, 1, bias=not config.critic)

    def features(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.joint(torch.cat([self.x_path(x), self.z_path(z)], dim=1))

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x, z)).squeeze(1)


class BiGAN(nn.Module):
    """G, E and D; training alternates D's update and G and E's (genlab.families.bigan)."""

    def __init__(self, config: BiGANConfig):
        super().__init__()
        self.config = config
        self.generator = Generator(config.generator_config())
        self.encoder = Encoder(config)
        self.discriminator = JointDiscriminator(config)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, noise_dim) -> images (B, 1, 28, 28) in [0, 1]."""
        return (self.generator(z) + 1) / 2

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, 1, 28, 28) in [0, 1] -> E(x) (B, noise_dim)."""
        return self.encoder(x * 2 - 1)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """G(E(x)) for images in [0, 1], in [0, 1]."""
        return self.generate(self.encode(x))

    def score(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """D's raw score of pairs (x in [0, 1], z)."""
        return self.discriminator(x * 2 - 1, z)
