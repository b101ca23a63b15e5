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


SCHEDULERS = {"ddpm": DDPMScheduler, "ddim": DDIMScheduler}


def make_scheduler(name: str, **options) -> _Scheduler:
    """``ddpm`` or ``ddim`` with keyword options; unknown names or options raise ValueError."""
    if name not in SCHEDULERS:
        raise ValueError(f"unknown sampler {name!r}; valid: {', '.join(SCHEDULERS)}")
    valid = {"num_train_timesteps", "beta_schedule", "clip_sample"} | ({"eta"} if name == "ddim" else set())
    unknown = set(options) - valid
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)} for {name}; valid: {sorted(valid)}")
    return SCHEDULERS[name](**options)
