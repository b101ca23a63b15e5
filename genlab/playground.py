"""The 2-D playground's core: every family learns the same 2-D data, one small network each,
trained in seconds, step by step, and scored the same way.

A ``ToyRun`` holds one family's model, optimizers and random state, so a page can train it in
chunks (for a live animation), stop it and keep what it learned, or step a GAN's
discriminator and generator one at a time. Each family's loss and sampler live in its own
module (``genlab.families``); this module only lists them (``TOY_FAMILIES``) and adds what
all share: the energy distance score and the pictures of each map (a warped grid, a
critic's field, a velocity field, particle paths).

With the default steps, every family fits moons and 8 Gaussians in seconds on one CPU core
(figures in the README); ``python -m genlab toy`` runs the same from the shell.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from genlab.families import ddpm, flow, gan, rectified_flow, vae
from genlab.metrics import energy_distance
from genlab.models.flow import ToyFlow, ToyFlowConfig
from genlab.models.toy import TimeMLP, TimeMLPConfig, ToyGAN, ToyVAE
from genlab.sample import generator
from genlab.toy import toy_data
from genlab.train import ema_update

EVAL_POINTS = 2000  # samples and fresh data points of the energy distance
DIFFUSION_SAMPLE_STEPS = 100  # the reverse SDE's steps when a diffusion toy samples
RF_SAMPLE_STEPS = 50  # Euler steps of a rectified flow's ODE
MAX_STEPS = 20_000  # a run's steps at most (the page caps a session's lower)


@dataclass(frozen=True)
class ToyFamily:
    """One family on the plane: how to build, train and sample it."""

    name: str
    label: str
    make_model: Callable[[], torch.nn.Module]
    step: Callable  # train_step(model, optimizers, x, y, gen) -> {loss name: value}
    sample: Callable[[torch.nn.Module, torch.Tensor, torch.Generator], torch.Tensor]  # (model, noise, gen)
    steps: int  # default training steps: fits moons and 8 Gaussians within ~15 s here
    lr: float = 3e-3
    batch_size: int = 256
    betas: tuple[float, float] = (0.9, 0.999)
    ema: float = 0.0  # decay of the weights' moving average that samples (0: the weights as they are)
    gan_loss: str = ""  # a GAN's loss (genlab.families.gan.TOY_GAN_LOSSES); "" for the others
    about: str = ""

    def optimizers(self, model: torch.nn.Module) -> list[torch.optim.Optimizer]:
        """Adam (fused: a quarter faster on these small networks); D's first for a GAN."""
        groups = [model.critic, model.generator] if self.gan_loss else [model]
        return [torch.optim.Adam(m.parameters(), lr=self.lr, betas=self.betas, fused=True) for m in groups]


def _diffusion_sample(model, noise: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return torch.from_numpy(ddpm.toy_diffusion_paths(model, noise, "sde", DIFFUSION_SAMPLE_STEPS, gen)[-1])


def _rf_sample(model, noise: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return torch.from_numpy(rectified_flow.toy_paths(model, noise, steps=RF_SAMPLE_STEPS)[-1])


@torch.inference_mode()
def _flow_sample(model, noise: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return model.inverse(noise)


@torch.inference_mode()
def _gan_sample(model, noise: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return model.generator(noise)


def _gan(name: str, label: str, loss: str, about: str, *, n_critic: int = 1, steps: int,
         batch_size: int = 256, betas=(0.5, 0.999), ema: float = 0.995) -> ToyFamily:
    # the moving average of G is what samples: a GAN's weights circle around the equilibrium
    return ToyFamily(name, label, ToyGAN, gan.toy_gan_step(loss, n_critic), _gan_sample, steps=steps,
                     lr=1e-3, batch_size=batch_size, betas=betas, ema=ema, gan_loss=loss, about=about)


TOY_FAMILIES: dict[str, ToyFamily] = {f.name: f for f in (
    ToyFamily("vae", "VAE", ToyVAE, vae.toy_vae_step, vae.toy_vae_sample, steps=2500,
              about="An encoder q(z|x) and a Gaussian decoder p(x|z) = N(m(z), 0.1²), trained on the ELBO; "
                    "samples decode z ~ N(0, I)."),
    _gan("gan", "GAN (BCE)", "bce",
         "D tells data from G(z) (binary cross-entropy); G learns to fool it (non-saturating loss).",
         steps=2000, batch_size=512),
    _gan("wgan-gp", "WGAN-GP", "wgan-gp",
         "A critic estimates the Wasserstein-1 distance (Kantorovich–Rubinstein dual, kept "
         "1-Lipschitz by a gradient penalty); G lowers it. 5 critic updates per G update.",
         n_critic=5, steps=800, betas=(0.5, 0.9), ema=0.99),
    _gan("gan-qp", "GAN-QP", "gan-qp",
         "The notes' quadratic-potential GAN: the critic's gain is bounded by a quadratic term "
         "in the pair's distance instead of a Lipschitz constraint.", steps=2500),
    ToyFamily("flow", "Normalizing flow", lambda: ToyFlow(ToyFlowConfig()), flow.toy_flow_step,
              _flow_sample, steps=1500,
              about="RealNVP couplings: an invertible map to N(0, I), trained on the exact "
                    "log-likelihood (change of variables)."),
    ToyFamily("diffusion", "Diffusion", lambda: TimeMLP(TimeMLPConfig()), ddpm.toy_diffusion_step,
              _diffusion_sample, steps=3000,
              about="DDPM: a network predicts the noise ε in x_t; samples run the reverse SDE "
                    f"({DIFFUSION_SAMPLE_STEPS} steps) from N(0, I)."),
    ToyFamily("rectified-flow", "Rectified flow", lambda: TimeMLP(TimeMLPConfig()), rectified_flow.toy_rf_step,
              _rf_sample, steps=2000,
              about="A velocity field v(x, t) learns the straight line from noise to data; samples "
                    f"solve dx/dt = v by Euler ({RF_SAMPLE_STEPS} steps)."),
)}


def toy_family(name: str) -> ToyFamily:
    if name not in TOY_FAMILIES:
        raise ValueError(f"unknown family {name!r}; valid: {', '.join(TOY_FAMILIES)}")
    return TOY_FAMILIES[name]


class ToyRun:
    """One family training on 2-D points: its model, optimizers, random state and loss history.

    Everything is drawn from ``seed`` (the initial weights, the batches, the noise), so the
    same data, family, steps and seed give the same model.
    """

    def __init__(self, family: str, points: torch.Tensor | np.ndarray, seed: int = 0):
        self.family = toy_family(family)
        self.points = torch.as_tensor(np.asarray(points), dtype=torch.float32)
        self.seed = seed
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.model = self.family.make_model()
        self.optimizers = self.family.optimizers(self.model)
        self.ema = copy.deepcopy(self.model) if self.family.ema else None
        self.gen = generator(seed)
        self.step = 0
        self.history: list[dict[str, float]] = []  # one dict per step: "step" and the losses
        self.seconds = 0.0  # training time so far

    @property
    def net(self) -> torch.nn.Module:
        """The weights that sample and draw the maps: the moving average where the family
        keeps one (a GAN's ends between oscillations), else the weights themselves."""
        return self.ema if self.ema is not None else self.model

    def batch(self) -> torch.Tensor:
        idx = torch.randint(0, len(self.points), (self.family.batch_size,), generator=self.gen)
        return self.points[idx]

    def train(self, steps: int, *, every: int = 0, on_progress: Callable[["ToyRun"], None] | None = None) -> None:
        """``steps`` more train steps; ``on_progress(self)`` after every ``every`` steps (and
        at the end), where a page draws a frame or stops (an exception from it ends the
        training with everything learned so far kept)."""
        self.model.train()
        for i in range(steps):
            start = time.perf_counter()
            out = self.family.step(self.model, self.optimizers, self.batch(), None, self.gen)
            if self.ema is not None:
                ema_update(self.ema, self.model, self.family.ema)
            self.seconds += time.perf_counter() - start
            self.step += 1
            self.history.append({"step": self.step, **out})
            if on_progress is not None and ((every and (i + 1) % every == 0) or i + 1 == steps):
                on_progress(self)

    def _gan_update(self, which: str) -> dict[str, float]:
        loss = self.family.gan_loss
        if not loss:
            raise ValueError(f"{self.family.label} has no discriminator and generator to step")
        real = self.batch()
        opt_d, opt_g = self.optimizers
        out = (gan.toy_d_update(self.model, opt_d, real, self.gen, loss) if which == "d"
               else gan.toy_g_update(self.model, opt_g, real, self.gen, loss))
        self.step += 1
        self.history.append({"step": self.step, **out})
        return out

    def d_step(self) -> dict[str, float]:
        """One discriminator (critic) update only; G stays as it is."""
        return self._gan_update("d")

    def g_step(self) -> dict[str, float]:
        """One generator update only, through the current D."""
        return self._gan_update("g")

    def loss_name(self) -> str:
        """The loss to chart: ``loss``/``nll`` or, for GANs, D's."""
        keys = [k for k in self.history[-1] if k != "step"] if self.history else []
        return "d_loss" if "d_loss" in keys else (keys[0] if keys else "loss")

    def noise(self, n: int, seed: int) -> torch.Tensor:
        """The sampler's starting points: z ~ N(0, I) (n, 2), the same for every family."""
        return torch.randn((n, 2), generator=generator(seed))

    def sample(self, n: int = EVAL_POINTS, seed: int = 1, *, raw: bool = False) -> np.ndarray:
        """n samples (n, 2) from the model as it is now (``raw``: from the weights as they are,
        not their moving average: what one D or G step moves)."""
        net = self.model if raw else self.net
        net.eval()
        with torch.no_grad():
            out = self.family.sample(net, self.noise(n, seed), generator(seed + 1))
        return out.float().numpy()


def loss_curve(history: list[dict[str, float]], key: str, bins: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """(steps, running mean of ``key``) at ≤ ``bins`` points, for a chart that stays light."""
    values = np.array([h.get(key, np.nan) for h in history], dtype=np.float64)
    steps = np.array([h["step"] for h in history])
    if len(values) == 0:
        return steps, values
    width = max(1, len(values) // bins)
    cut = len(values) // width * width
    if cut == 0:
        return steps, values
    return steps[width - 1:cut:width], np.nanmean(values[:cut].reshape(-1, width), axis=1)


# --- the one score: energy distance against fresh data, with two references ----------------------

def fresh_data(data: str | np.ndarray, n: int = EVAL_POINTS, seed: int = 12345) -> np.ndarray:
    """n points of the data's distribution not used in training: fresh draws of a named set;
    for the user's own points (which have no distribution to draw from), a resample of them."""
    if isinstance(data, str):
        return toy_data(data, n, generator(seed)).numpy()
    pts = np.asarray(data, dtype=np.float32)
    return pts[np.random.default_rng(seed).integers(0, len(pts), n)]


def references(data: str | np.ndarray, n: int = EVAL_POINTS) -> dict[str, float]:
    """The energy distance of a Gaussian with the data's mean and covariance (a model that
    learned only the first two moments) and of a second fresh set of data (real vs real),
    each against the same fresh data a model is scored on."""
    target, other = fresh_data(data, n), fresh_data(data, n, seed=54321)
    rng = np.random.default_rng(7)
    gaussian = rng.multivariate_normal(target.mean(0), np.cov(target.T), n)
    return {"gaussian_baseline": round(energy_distance(gaussian, target), 5),
            "real_vs_real": round(energy_distance(other, target), 5)}


def score(run: ToyRun, data: str | np.ndarray, n: int = EVAL_POINTS) -> float:
    """The energy distance between n samples and n fresh data points."""
    return round(energy_distance(run.sample(n), fresh_data(data, n)), 5)


def fit(family: str, data: str, *, steps: int | None = None, seed: int = 0,
        train_points: int = 20_000) -> tuple[ToyRun, dict]:
    """Train ``family`` on ``train_points`` points of ``data`` and score it: the CLI's
    ``genlab toy`` (and the playground's figures).

    Returns:
        (the run, {"energy_distance", "gaussian_baseline", "real_vs_real", "seconds", "steps"}).
    """
    run = ToyRun(family, toy_data(data, train_points, generator(seed)), seed)
    run.train(steps if steps is not None else run.family.steps)
    return run, {"energy_distance": score(run, data), **references(data),
                 "seconds": round(run.seconds, 2), "steps": run.step}


# --- what each map looks like ------------------------------------------------------------------

def grid_lines(lim: float = 2.5, lines: int = 11, points: int = 60) -> torch.Tensor:
    """The lines of a square grid over [−lim, lim]²: (2·lines, points, 2), horizontal first."""
    ticks, along = torch.linspace(-lim, lim, lines), torch.linspace(-lim, lim, points)
    horizontal = torch.stack([along.expand(lines, -1), ticks[:, None].expand(-1, points)], -1)
    return torch.cat([horizontal, horizontal.flip(-1)])


@torch.no_grad()
def push_forward(run: ToyRun, z: torch.Tensor) -> np.ndarray:
    """Where the model's generative map sends latent points z (..., 2): the VAE decoder's mean,
    G(z), the flow's inverse, and the deterministic ODEs of diffusion and rectified flow."""
    run.net.eval()
    flat = z.reshape(-1, 2)
    name = run.family.name
    if name == "vae":
        out = run.net.decode(flat)[0]
    elif name == "diffusion":
        out = torch.from_numpy(ddpm.toy_diffusion_paths(run.net, flat, "ode", 50, generator(0))[-1])
    elif name == "rectified-flow":
        out = torch.from_numpy(rectified_flow.toy_paths(run.net, flat, steps=RF_SAMPLE_STEPS)[-1])
    else:
        out = run.family.sample(run.net, flat, generator(0))
    return out.float().reshape(z.shape).numpy()


@torch.no_grad()
def field_grid(lim: float, n: int) -> tuple[np.ndarray, torch.Tensor]:
    """(axis (n,), the grid's points (n·n, 2)) with rows along x2 and columns along x1."""
    axis = torch.linspace(-lim, lim, n)
    x2, x1 = torch.meshgrid(axis, axis, indexing="ij")
    return axis.numpy(), torch.stack([x1.flatten(), x2.flatten()], 1)


@torch.no_grad()
def critic_values(run: ToyRun, lim: float = 3.5, n: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """D over the plane (n, n): the probability of "real" for the BCE GAN, the critic's value
    for WGAN-GP and GAN-QP."""
    axis, pts = field_grid(lim, n)
    raw = run.model.discriminator(pts)  # D as it is now, as G sees it
    values = torch.sigmoid(raw) if run.family.gan_loss == "bce" else raw
    return axis, values.view(n, n).numpy()


@torch.no_grad()
def posterior_means(run: ToyRun, points: np.ndarray) -> np.ndarray:
    """The VAE encoder's means μ(x) of data points (n, 2)."""
    return run.net.encode(torch.as_tensor(points, dtype=torch.float32))[0].numpy()


@torch.no_grad()
def velocity_field(run: ToyRun, t: float, lim: float = 3.0, n: int = 17) -> tuple[np.ndarray, np.ndarray]:
    """The field that moves samples at time t ∈ [0, 1] (0: noise, 1: data) over an n×n grid:
    (points (n·n, 2), vectors (n·n, 2)). Rectified flow: v(x, t). Diffusion: the
    probability-flow ODE's velocity towards the data, dx/dt = ½β(x + ∇log p)·T at the
    matching step (its magnitude varies by orders over t; the page scales the arrows)."""
    _, pts = field_grid(lim, n)
    if run.family.name == "rectified-flow":
        v = run.net(pts, torch.full((len(pts),), t * rectified_flow.TIME_SCALE))
        return pts.numpy(), v.numpy()
    if run.family.name != "diffusion":
        raise ValueError(f"{run.family.label} has no velocity field")
    cfg = run.net.config
    step = min(int(round((1 - t) * (cfg.timesteps - 1))), cfg.timesteps - 1)
    sched = ddpm.training_scheduler(cfg.timesteps, cfg.beta_schedule)
    eps = run.net(pts, torch.full((len(pts),), step, dtype=torch.long))
    alpha_bar = sched.alphas_cumprod[step]
    score_ = -eps / (1 - alpha_bar).sqrt()
    beta = sched.betas[step] * cfg.timesteps
    return pts.numpy(), (0.5 * beta * (pts + score_)).numpy()


@torch.no_grad()
def particle_paths(run: ToyRun, n: int = 300, seed: int = 3, *, noise: float = 0.0,
                   steps: int = 100) -> np.ndarray:
    """Paths of n particles from the same N(0, I) start to the data: (steps + 1, n, 2).

    Diffusion: the sampler family between the probability-flow ODE (``noise`` 0, smooth) and
    the reverse SDE (1, jittery), all with the same marginals. Rectified flow: its ODE (Euler).
    """
    x0 = run.noise(n, seed)
    if run.family.name == "rectified-flow":
        return rectified_flow.toy_paths(run.net, x0, steps=steps)
    if run.family.name != "diffusion":
        raise ValueError(f"{run.family.label} has no particle paths")
    return ddpm.toy_diffusion_paths(run.net, x0, "sde", steps, generator(seed + 1), noise=noise)


@torch.no_grad()
def reflow_run(run: ToyRun, *, pairs: int = 10_000) -> ToyRun:
    """The run of one reflow of a trained rectified flow (not trained yet): its data are
    (x₀, x₁ = ODE(x₀)) pairs drawn from ``run`` (Heun, 25 steps), and it starts from
    ``run``'s weights; trained, its paths are nearly straight."""
    if run.family.name != "rectified-flow":
        raise ValueError("reflow needs a trained rectified flow")
    run.net.eval()
    x0 = run.noise(pairs, run.seed + 100)
    x1 = rectified_flow.ode_solve(run.net, x0, sampler="heun", steps=25)
    second = ToyRun("rectified-flow", torch.stack([x0, x1], 1), run.seed + 1)
    for net in (second.model, second.ema):
        if net is not None:
            net.load_state_dict(run.net.state_dict())
    return second


def path_straightness(run: ToyRun, n: int = 300, seed: int = 3) -> float:
    """Liu et al.'s straightness S of a rectified flow's paths from n noise points (0: straight)."""
    run.net.eval()
    return rectified_flow.straightness(run.net, run.noise(n, seed), steps=50)
