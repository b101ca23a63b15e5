"""Family name -> its config dataclass, model class, optimizers, train step, sampler and
evaluation; model name (e.g. ``vae-2d``) -> family plus the config it is trained with."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from genlab import metrics, sample, train
from genlab.models.classifier import Classifier, ClassifierConfig
from genlab.models.gan import GAN, GANConfig
from genlab.models.flow import Flow, FlowConfig
from genlab.models.pixelcnn import PixelCNN, PixelCNNConfig
from genlab.models.unet import UNet, UNetConfig
from genlab.models.vae import VAE, VAEConfig


@dataclass(frozen=True)
class Family:
    name: str
    config: type  # the config dataclass
    model: Callable[[Any], torch.nn.Module]
    make_optimizers: Callable[..., list[torch.optim.Optimizer]]
    train_step: Callable[..., dict[str, float]]  # (model, optimizers, x, y, generator) -> metrics
    sample: Callable[..., torch.Tensor] | None  # (model, n, generator) -> (n, 1, 28, 28) in [0, 1]
    evaluate: Callable[..., dict[str, float]]  # (model, holdout x, generator, labels=) -> metrics
    equation: str = ""  # the key equation, shown on the home page
    about: str = ""  # two or three sentences for the home page
    snapshots: bool = False  # keep fixed-z samples at doubling steps while training (replay)
    # what the projections page maps: (model, x (B, 1, 28, 28) in [0, 1]) -> (B, F), or None
    features: Callable[..., torch.Tensor] | None = None
    features_label: str = ""  # what those features are, e.g. "latent means μ(x)"

    def config_from_dict(self, values: dict) -> Any:
        """Rebuild the config dataclass from JSON (lists back to tuples); unknown keys fail."""
        fields = {f.name: f for f in dataclasses.fields(self.config)}
        unknown = set(values) - set(fields)
        if unknown:
            raise ValueError(f"unknown config fields {sorted(unknown)}; valid: {sorted(fields)}")
        hints = typing.get_type_hints(self.config)
        return self.config(**{k: _coerce(v, hints[k]) for k, v in values.items()})


def _coerce(value: Any, hint: Any) -> Any:
    if typing.get_origin(hint) is tuple and isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def parse_override(config: Any, text: str) -> Any:
    """Apply one ``key=value`` override (the CLI's ``--set``) to a config dataclass."""
    key, sep, raw = text.partition("=")
    fields = {f.name for f in dataclasses.fields(config)}
    if not sep or key not in fields:
        raise ValueError(f"--set expects key=value with key in {sorted(fields)}; got {text!r}")
    current = getattr(config, key)
    if isinstance(current, tuple):
        value: Any = tuple(type(current[0] if current else 0)(v) for v in raw.split(",") if v)
    elif isinstance(current, bool):
        value = raw.lower() in ("1", "true", "yes")
    else:
        value = type(current)(raw)
    return dataclasses.replace(config, **{key: value})


def _latent_means(model, x: torch.Tensor) -> torch.Tensor:
    return model.encode(x)[0]  # μ(x) of q(z|x)


def _penultimate(model, x: torch.Tensor) -> torch.Tensor:
    return model.features(x)


FAMILIES: dict[str, Family] = {
    "vae": Family(
        name="vae", config=VAEConfig, model=VAE,
        make_optimizers=train.adam_optimizers, train_step=train.vae_step,
        sample=sample.vae_sample, evaluate=metrics.vae_metrics,
        equation=r"\log p(x) \ge \mathbb{E}_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x)\,\|\,\mathcal{N}(0, I))",
        about=("An encoder maps an image to a Gaussian q(z|x); a decoder maps a latent z back "
               "to pixels. Training maximises the ELBO, sampling z = μ + σ·ε so gradients flow "
               "through the noise. Decoding any z from N(0, I) gives a new image."),
        features=_latent_means, features_label="latent means μ(x)",
    ),
    "ddpm": Family(
        name="ddpm", config=UNetConfig, model=UNet,
        make_optimizers=train.adam_optimizers, train_step=train.diffusion_step,
        sample=sample.diffusion_sample, evaluate=metrics.diffusion_metrics,
        equation=r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon,\qquad "
                 r"\mathcal{L} = \mathbb{E}_{t,x_0,\varepsilon}\,\|\varepsilon - \varepsilon_\theta(x_t, t)\|^2",
        about=("The forward process adds Gaussian noise over T steps until the image is pure "
               "noise; a UNet learns to predict the noise ε in x_t. Sampling runs the process "
               "backwards: DDPM step by step with the posterior, DDIM in far fewer steps."),
    ),
    "gan": Family(
        name="gan", config=GANConfig, model=GAN,
        make_optimizers=train.gan_optimizers, train_step=train.gan_family_step,
        sample=sample.gan_sample, evaluate=metrics.gan_metrics, snapshots=True,
        equation=r"\min_G \max_D\; \mathbb{E}_{x\sim p_{\text{data}}}[\log D(x)] + "
                 r"\mathbb{E}_{z\sim\mathcal{N}(0, I)}[\log(1 - D(G(z)))]",
        about=("A generator G maps noise z to an image; a discriminator D learns to tell real "
               "images from G's, and G learns to fool it. With the Wasserstein loss D becomes a "
               "1-Lipschitz critic whose score gap estimates the distance between the two "
               "distributions. There is no encoder and no likelihood: sampling is one pass of G."),
        features=_penultimate, features_label="discriminator's penultimate features",
    ),
    "flow": Family(
        name="flow", config=FlowConfig, model=Flow,
        make_optimizers=train.adam_optimizers, train_step=train.flow_step,
        sample=sample.flow_sample, evaluate=metrics.flow_metrics,
        equation=r"\log p(x) = \log \mathcal{N}\big(f(x); 0, I\big)"
                 r" + \log\Big|\det \frac{\partial f}{\partial x}\Big|,\qquad y_{b} = x_{b},\;\; y_{\bar b} = x_{\bar b} \odot e^{s(x_b)} + t(x_b)",
        about=("An invertible network f maps an image to a Gaussian z of the same size; the "
               "change of variables gives the exact likelihood. Coupling layers keep half of "
               "the pixels and shift (NICE) or scale and shift (RealNVP) the other half, so f⁻¹ "
               "and the log-determinant are cheap. Sampling inverts f on z ~ N(0, T²I)."),
    ),
    "pixelcnn": Family(
        name="pixelcnn", config=PixelCNNConfig, model=PixelCNN,
        make_optimizers=train.adam_optimizers, train_step=train.pixelcnn_step,
        sample=sample.pixelcnn_sample, evaluate=metrics.pixelcnn_metrics,
        equation=r"p(x) = \prod_{i=1}^{D} p\big(x_i \mid x_1, \dots, x_{i-1}\big)",
        about=("An autoregressive model: masked convolutions let each pixel's prediction see "
               "only the pixels above and to its left, so one pass gives every conditional and "
               "the exact likelihood. Sampling is sequential: 784 passes, one pixel each, in "
               "raster order."),
    ),
    "classifier": Family(
        name="classifier", config=ClassifierConfig, model=Classifier,
        make_optimizers=train.adam_optimizers, train_step=train.classifier_step,
        sample=None, evaluate=metrics.classifier_metrics,
        equation=r"\mathrm{FD} = \|\mu_r - \mu_g\|^2 + \mathrm{tr}\big(\Sigma_r + \Sigma_g - 2(\Sigma_r\Sigma_g)^{1/2}\big)",
        about=("Not a generative model: a small CNN trained on the train split that scores the "
               "others. Its penultimate features give the Fréchet distance and precision/recall "
               "between generated and held-out images; its predictions give class histograms."),
        features=_penultimate, features_label="penultimate features",
    ),
}


@dataclass(frozen=True)
class Preset:
    family: str
    config: dict = field(default_factory=dict)  # overrides of the family's config defaults
    train: dict = field(default_factory=dict)  # default TrainConfig values per dataset size


MODELS: dict[str, Preset] = {
    "vae-2d": Preset("vae", {"latent_dim": 2, "hidden": (512, 256)}),
    "vae-16d": Preset("vae", {"latent_dim": 16, "hidden": (512, 256)}),
    "classifier": Preset("classifier", {}),
    "gan-mlp": Preset("gan", {"arch": "mlp", "loss": "bce", "d_norm": "none"},
                      train={"lr": 2e-4, "batch_size": 64}),
    "dcgan": Preset("gan", {"arch": "dcgan", "loss": "bce", "d_norm": "batch", "channels": 32},
                    train={"lr": 2e-4, "batch_size": 64}),
    # 5 critic updates of 64 images per generator update (Gulrajani et al. 2017, algorithm 1)
    "wgan-gp": Preset("gan", {"arch": "dcgan", "loss": "wgan-gp", "d_norm": "layer", "channels": 32,
                              "n_critic": 5, "gp_lambda": 10.0, "adam_betas": (0.0, 0.9)},
                      train={"lr": 1e-4, "batch_size": 320}),
    "ddpm": Preset("ddpm", {"channels": (16, 32, 64), "attention": True},
                   train={"lr": 5e-4, "batch_size": 64, "ema_decay": 0.999}),
    "realnvp": Preset("flow", {"architecture": "realnvp"}, train={"lr": 1e-3, "batch_size": 64}),
    "nice": Preset("flow", {"architecture": "nice", "couplings": 4, "actnorm": False,
                            "invconv": False}, train={"lr": 1e-3, "batch_size": 128}),
    "pixelcnn": Preset("pixelcnn", {}, train={"lr": 1e-3, "batch_size": 64}),
}


def get(family: str, where: str | Path = "") -> Family:
    """The family spec; a clear error naming the valid families otherwise."""
    from genlab.checkpoints import CheckpointError

    if family not in FAMILIES:
        message = f"unknown model family {family!r}; valid: {', '.join(FAMILIES)}"
        raise CheckpointError(f"{where}: {message}") if where else ValueError(message)
    return FAMILIES[family]


def resolve_model(name: str) -> tuple[str, Family, Any]:
    """``vae-2d`` or ``vae`` -> (model name, family, config)."""
    if name in MODELS:
        preset = MODELS[name]
        family = get(preset.family)
        return name, family, family.config_from_dict(preset.config)
    if name in FAMILIES:
        default = next(m for m, p in MODELS.items() if p.family == name)
        return resolve_model(default)
    raise ValueError(f"unknown model {name!r}; valid: {', '.join([*MODELS, *FAMILIES])}")
