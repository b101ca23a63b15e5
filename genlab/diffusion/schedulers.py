"""DDPM and DDIM schedulers: no weights, only the schedule and the update rules.

Same conventions as Hugging Face diffusers (``leading`` timestep spacing, x̂0 clipped to
[-1, 1], ε-prediction), so their ``DDPMScheduler``/``DDIMScheduler`` serve as the peer
implementation in the tests. Images live in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from genlab.diffusion.schedules import make_betas


@dataclass(frozen=True)
class SchedulerOutput:
    prev_sample: torch.Tensor  # x_{t-1} (DDPM) or x_{t_prev} (DDIM), (B, C, H, W)
    pred_original_sample: torch.Tensor  # x̂0 predicted from x_t and ε̂, (B, C, H, W)


class _Scheduler:
    def __init__(self, *, num_train_timesteps: int = 1000, beta_schedule: str = "linear",
                 clip_sample: bool = True):
        if num_train_timesteps < 2:
            raise ValueError("num_train_timesteps must be at least 2")
        self.num_train_timesteps = num_train_timesteps
        self.beta_schedule = beta_schedule
        self.clip_sample = clip_sample
        betas64 = make_betas(beta_schedule, num_train_timesteps)
        self.betas = betas64.float()  # (T,) cast once
        self.alphas = (1.0 - betas64).float()
        # ᾱ_t as a float32 cumulative product, as diffusers computes it: the per-step ratio
        # ᾱ_t/ᾱ_{t-1} in step() then rounds the same way, so the two agree to 1e-5
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.timesteps = torch.arange(num_train_timesteps - 1, -1, -1)
        self.num_inference_steps = num_train_timesteps

    def set_timesteps(self, num_inference_steps: int) -> None:
        """Use K = num_inference_steps evenly spaced steps, t = (K−1)·T/K, …, T/K, 0 ("leading")."""
        if not 1 <= num_inference_steps <= self.num_train_timesteps:
            raise ValueError(f"num_inference_steps must be in 1..{self.num_train_timesteps}")
        ratio = self.num_train_timesteps // num_inference_steps
        self.num_inference_steps = num_inference_steps
        self.timesteps = torch.arange(num_inference_steps - 1, -1, -1) * ratio

    def previous_timestep(self, t: int) -> int:
        return t - self.num_train_timesteps // self.num_inference_steps

    def _alpha_bar(self, t: int) -> torch.Tensor:
        return self.alphas_cumprod[t] if t >= 0 else torch.tensor(1.0)

    def add_noise(self, original: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (Ho et al. 2020, eq. 4), one t per image."""
        ab = self.alphas_cumprod[timesteps].to(original.dtype).view(-1, *[1] * (original.ndim - 1))
        return ab.sqrt() * original + (1 - ab).sqrt() * noise

    def predict_original(self, eps: torch.Tensor, t: int, sample: torch.Tensor) -> torch.Tensor:
        """x̂0 = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t, clipped to [−1, 1] when clip_sample."""
        ab = self._alpha_bar(t)
        x0 = (sample - (1 - ab).sqrt() * eps) / ab.sqrt()
        return x0.clamp(-1, 1) if self.clip_sample else x0


class DDPMScheduler(_Scheduler):
    """Ancestral sampling with the posterior q(x_{t−1} | x_t, x̂0) (Ho et al. 2020)."""

    def posterior(self, t: int, prev_t: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Coefficients of the posterior mean on x̂0 and x_t, and its variance β̃_t (eqs. 6–7)."""
        ab_t, ab_prev = self._alpha_bar(t), self._alpha_bar(prev_t)
        alpha_t = ab_t / ab_prev  # = 1 − β_t when every step is taken
        beta_t = 1 - alpha_t
        coef_x0 = ab_prev.sqrt() * beta_t / (1 - ab_t)
        coef_xt = alpha_t.sqrt() * (1 - ab_prev) / (1 - ab_t)
        variance = ((1 - ab_prev) / (1 - ab_t) * beta_t).clamp(min=1e-20)
        return coef_x0, coef_xt, variance

    def step(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor, *,
             generator: torch.Generator | None = None) -> SchedulerOutput:
        """One reverse step x_t → x_{t−1} from the predicted noise ε̂ = model_output."""
        t = int(timestep)
        prev_t = self.previous_timestep(t)
        # (1) predict x̂0 from x_t and ε̂
        x0 = self.predict_original(model_output, t, sample)
        # (2) posterior mean μ̃_t(x_t, x̂0), eq. 7
        coef_x0, coef_xt, variance = self.posterior(t, prev_t)
        prev = coef_x0 * x0 + coef_xt * sample
        # (3) add σ_t z with σ_t² = β̃_t, except at the last step
        if t > 0:
            noise = torch.randn(model_output.shape, generator=generator, dtype=model_output.dtype)
            prev = prev + variance.sqrt() * noise
        return SchedulerOutput(prev, x0)


class DDIMScheduler(_Scheduler):
    """Denoising diffusion implicit models (Song et al. 2021): K ≪ T steps, η = 0 deterministic."""

    def __init__(self, *, eta: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if eta < 0:
            raise ValueError("eta must be ≥ 0")
        self.eta = eta

    def step(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor, *,
             generator: torch.Generator | None = None) -> SchedulerOutput:
        """x_t → x_{t_prev} by eq. 12 of Song et al. (2021)."""
        t = int(timestep)
        prev_t = self.previous_timestep(t)
        ab_t, ab_prev = self._alpha_bar(t), self._alpha_bar(prev_t)
        # (1) x̂0 from ε̂
        x0 = self.predict_original(model_output, t, sample)
        # (2) σ_t(η) = η √((1 − ᾱ_prev)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_prev), eq. 16
        std = self.eta * ((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev)).sqrt()
        # (3) x_prev = √ᾱ_prev x̂0 + √(1 − ᾱ_prev − σ²) ε̂ + σ z, eq. 12
        prev = ab_prev.sqrt() * x0 + (1 - ab_prev - std ** 2).sqrt() * model_output
        if self.eta > 0:
            noise = torch.randn(model_output.shape, generator=generator, dtype=model_output.dtype)
            prev = prev + std * noise
        return SchedulerOutput(prev, x0)

    def invert_step(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor) -> SchedulerOutput:
        """DDIM inversion x_{t_prev} → x_t: the η = 0 update run forwards in time.

        ``timestep`` is the (smaller) time of ``sample``; the result lives at the next
        time on the grid. x̂0 is not clipped, so that inversion stays invertible.
        """
        t_from = int(timestep)
        t_to = t_from + self.num_train_timesteps // self.num_inference_steps
        ab_from, ab_to = self._alpha_bar(t_from), self._alpha_bar(t_to)
        x0 = (sample - (1 - ab_from).sqrt() * model_output) / ab_from.sqrt()
        nxt = ab_to.sqrt() * x0 + (1 - ab_to).sqrt() * model_output
        return SchedulerOutput(nxt, x0)


class _SDEView(_Scheduler):
    """The DDPM as the variance-preserving SDE dx = −½β(τ) x dτ + √β(τ) dw (Song et al. 2021,
    "Score-based generative modeling through SDEs", eq. 11), τ = t/T, with the score from ε̂:
    ∇log p_t(x) = −ε̂ / √(1 − ᾱ_t). Between two grid times the integrated rate
    B = ∫β dτ = log(ᾱ_prev / ᾱ_t) (exact for the discrete ᾱ, also where β is large)."""

    def rate(self, t: int, prev_t: int) -> torch.Tensor:
        """B = log(ᾱ_{t_prev} / ᾱ_t) ≥ 0 over the step t → t_prev."""
        return (self._alpha_bar(prev_t) / self._alpha_bar(t)).log()

    def score(self, model_output: torch.Tensor, t: int) -> torch.Tensor:
        """∇_x log p_t(x) = −ε̂ / √(1 − ᾱ_t)."""
        return -model_output / (1 - self._alpha_bar(t)).sqrt()


class SDEScheduler(_SDEView):
    """The reverse-time SDE dx = [f − g²∇log p_t] dτ + g dw̄ (Anderson 1982; Song et al. 2021,
    eq. 6) with f = −½βx, g² = β, by Euler–Maruyama: noisy paths, the data's distribution.

    ``noise`` = λ ∈ [0, 1] picks one of the family dx = [f − ½(1 + λ²)g²∇log p_t] dτ + λg dw̄,
    which all have the same marginals p_t: λ = 1 is the reverse SDE, λ = 0 the
    probability-flow ODE (here by Euler), in between less jittery paths to the same data.
    """

    def __init__(self, *, noise: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= noise <= 1:
            raise ValueError("noise must be within [0, 1]")
        self.noise = noise

    def step(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor, *,
             generator: torch.Generator | None = None) -> SchedulerOutput:
        t = int(timestep)
        prev_t = self.previous_timestep(t)
        b = self.rate(t, prev_t)
        lam = self.noise
        # (1) drift, run backwards in τ: x + B (½x + ½(1 + λ²)∇log p_t)
        prev = sample + b * (0.5 * sample + 0.5 * (1 + lam**2) * self.score(model_output, t))
        # (2) diffusion λ√B z, except at the last step (which lands on the data)
        if prev_t >= 0 and lam > 0:
            noise = torch.randn(model_output.shape, generator=generator, dtype=model_output.dtype)
            prev = prev + lam * b.sqrt() * noise
        return SchedulerOutput(prev, self.predict_original(model_output, t, sample))


class ODEScheduler(_SDEView):
    """The probability-flow ODE dx = [f − ½g²∇log p_t] dτ (Song et al. 2021, eq. 13): the same
    marginals p_t as the SDE, without noise; deterministic and invertible.

    Written per unit of B = ∫β dτ, dx/dB = −½(x + ∇log p_t(x)), and solved with the
    two-step Adams–Bashforth rule (second order, one network call per step: each step
    reuses the previous step's slope; the first step is Euler). Run forwards in time
    (``invert_step``) it maps data to noise and back again within the solver's error.
    """

    def set_timesteps(self, num_inference_steps: int) -> None:
        super().set_timesteps(num_inference_steps)
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None  # (slope, its step size B)

    def _advance(self, slope: torch.Tensor, b: torch.Tensor, sample: torch.Tensor) -> torch.Tensor:
        """x + B·(slope, extrapolated from the previous slope when there is one)."""
        if self._last is None:
            out = sample + b * slope
        else:
            prev_slope, prev_b = self._last
            r = b / prev_b  # unequal steps: AB2 for variable step sizes
            out = sample + b * ((1 + 0.5 * r) * slope - 0.5 * r * prev_slope)
        self._last = (slope, b)
        return out

    def step(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor, *,
             generator: torch.Generator | None = None) -> SchedulerOutput:
        t = int(timestep)
        prev_t = self.previous_timestep(t)
        # backwards in τ: dx/d(−B) = ½(x + ∇log p_t)
        prev = self._advance(0.5 * (sample + self.score(model_output, t)), self.rate(t, prev_t), sample)
        return SchedulerOutput(prev, self.predict_original(model_output, t, sample))

    def invert_step(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor) -> SchedulerOutput:
        """x_{t_from} → x_{t_from + T/K}: the ODE forwards in time (towards noise). Call in
        order from the smallest time, after ``set_timesteps``."""
        t_from = int(timestep)
        t_to = t_from + self.num_train_timesteps // self.num_inference_steps
        nxt = self._advance(-0.5 * (sample + self.score(model_output, t_from)), self.rate(t_to, t_from), sample)
        return SchedulerOutput(nxt, self.predict_original(model_output, t_from, sample))


class DPMSolverScheduler(_Scheduler):
    """DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", algorithm 2): a second-order
    multistep solver of the probability-flow ODE in the log-SNR λ = log(α/σ), written on
    the data prediction x̂0. Timesteps and every coefficient as diffusers'
    ``DPMSolverMultistepScheduler`` (linspace spacing, first order at the first and the last
    step, the last step lands at σ = 0), which serves as the peer in the tests."""

    def set_timesteps(self, num_inference_steps: int) -> None:
        if not 1 <= num_inference_steps <= self.num_train_timesteps:
            raise ValueError(f"num_inference_steps must be in 1..{self.num_train_timesteps}")
        T = self.num_train_timesteps
        grid = torch.linspace(0, T - 1, num_inference_steps + 1, dtype=torch.float64).round()
        self.timesteps = grid.flip(0)[:-1].long()  # K times from T−1 down to > 0
        self.num_inference_steps = num_inference_steps
        ab = self.alphas_cumprod[self.timesteps].double()
        # σ of the variance-exploding view, σ_VE = √((1 − ᾱ)/ᾱ), then 0 at the end
        self.sigmas = torch.cat([((1 - ab) / ab).sqrt(), torch.zeros(1, dtype=torch.float64)]).float()
        self._index = 0
        self._last_x0: torch.Tensor | None = None

    @staticmethod
    def _alpha_sigma(sigma_ve: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        alpha = 1 / (sigma_ve ** 2 + 1).sqrt()
        return alpha, sigma_ve * alpha

    def step(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor, *,
             generator: torch.Generator | None = None) -> SchedulerOutput:
        i = self._index
        if int(timestep) != int(self.timesteps[i]):
            raise ValueError(f"DPM-Solver++ steps in order: expected t = {int(self.timesteps[i])}, got {timestep}")
        alpha_s, sigma_s = self._alpha_sigma(self.sigmas[i])
        alpha_t, sigma_t = self._alpha_sigma(self.sigmas[i + 1])
        # (1) data prediction x̂0 = (x − σ_s ε̂) / α_s (not clipped, as diffusers)
        x0 = (sample - sigma_s * model_output) / alpha_s
        if sigma_t == 0:  # (2a) the last step lands on x̂0
            prev = x0
        else:
            lam_s, lam_t = (alpha_s / sigma_s).log(), (alpha_t / sigma_t).log()
            h = lam_t - lam_s
            prev = (sigma_t / sigma_s) * sample - alpha_t * torch.expm1(-h) * x0  # (2b) first order
            if self._last_x0 is not None:  # (2c) second order: D1 from the previous x̂0
                alpha_p, sigma_p = self._alpha_sigma(self.sigmas[i - 1])
                r = (lam_s - (alpha_p / sigma_p).log()) / h
                d1 = (x0 - self._last_x0) / r
                prev = prev - 0.5 * alpha_t * torch.expm1(-h) * d1
        self._last_x0, self._index = x0, i + 1
        return SchedulerOutput(prev, x0)


SCHEDULERS = {"ddpm": DDPMScheduler, "ddim": DDIMScheduler, "sde": SDEScheduler, "ode": ODEScheduler,
              "dpm++": DPMSolverScheduler}


def make_scheduler(name: str, **options) -> _Scheduler:
    """``ddpm``, ``ddim``, ``sde``, ``ode`` or ``dpm++`` with keyword options; unknown names or
    options raise ValueError."""
    if name not in SCHEDULERS:
        raise ValueError(f"unknown sampler {name!r}; valid: {', '.join(SCHEDULERS)}")
    valid = {"num_train_timesteps", "beta_schedule", "clip_sample"} | ({"eta"} if name == "ddim" else {"noise"} if name == "sde" else set())
    unknown = set(options) - valid
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)} for {name}; valid: {sorted(valid)}")
    return SCHEDULERS[name](**options)
