"""Schedules and schedulers, cross-checked against Hugging Face diffusers (the peer)."""

import math

import numpy as np

import pytest
import torch

from genlab.diffusion import schedules
from genlab.diffusion.schedulers import DDIMScheduler, DDPMScheduler, make_scheduler
from genlab.models.unet import UNet, UNetConfig
from genlab.families.ddpm import ddim_invert, diffusion_loop, diffusion_sample, diffusion_step, scheduler_for
from genlab.sample import generator
from genlab.train import TrainConfig, adam_optimizers

diffusers = pytest.importorskip("diffusers")
PEER_SCHEDULE = {"linear": "linear", "cosine": "squaredcos_cap_v2"}


def peer(cls, schedule, **kw):
    return cls(num_train_timesteps=1000, beta_schedule=PEER_SCHEDULE[schedule], **kw)


def test_schedules_by_hand():
    b = schedules.linear_beta_schedule(1000)
    assert b.dtype == torch.float64 and b[0] == 1e-4 and b[-1] == pytest.approx(0.02)
    c = schedules.cosine_beta_schedule(1000)
    ab = schedules.alphas_cumprod(c)
    f = lambda t: math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2
    assert ab[499].item() == pytest.approx(f(500) / f(0), rel=1e-9)
    assert c.max() <= 0.999
    snr = schedules.log_snr(b)
    assert (snr[1:] < snr[:-1]).all()  # noise only grows
    with pytest.raises(ValueError, match="valid: linear, cosine"):
        schedules.make_betas("quadratic", 10)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_add_noise_and_timesteps_match_diffusers(schedule):
    ours = DDPMScheduler(beta_schedule=schedule)
    theirs = peer(diffusers.DDPMScheduler, schedule)
    torch.testing.assert_close(ours.alphas_cumprod, theirs.alphas_cumprod, rtol=1e-5, atol=1e-6)
    x0, noise = torch.randn(6, 1, 28, 28), torch.randn(6, 1, 28, 28)
    t = torch.tensor([0, 1, 10, 500, 998, 999])
    torch.testing.assert_close(ours.add_noise(x0, noise, t), theirs.add_noise(x0, noise, t),
                               rtol=1e-5, atol=1e-5)
    for k in (10, 50, 1000):
        for cls, peer_cls in ((DDPMScheduler, diffusers.DDPMScheduler),
                              (DDIMScheduler, diffusers.DDIMScheduler)):
            a, b = cls(beta_schedule=schedule), peer(peer_cls, schedule)
            a.set_timesteps(k)
            b.set_timesteps(k)
            assert a.timesteps.tolist() == b.timesteps.tolist()


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("k", [1000, 20])
def test_ddpm_step_matches_diffusers(schedule, k):
    ours, theirs = DDPMScheduler(beta_schedule=schedule), peer(diffusers.DDPMScheduler, schedule)
    ours.set_timesteps(k)
    theirs.set_timesteps(k)
    x = torch.randn(4, 1, 28, 28)
    for t in ours.timesteps.tolist()[:: max(1, k // 7)] + [0]:
        eps = torch.randn(4, 1, 28, 28)
        a = ours.step(eps, t, x, generator=generator(t))
        b = theirs.step(eps, t, x, generator=generator(t))
        torch.testing.assert_close(a.prev_sample, b.prev_sample, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(a.pred_original_sample, b.pred_original_sample, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
def test_ddim_step_matches_diffusers(schedule, eta):
    ours = DDIMScheduler(beta_schedule=schedule, eta=eta)
    theirs = peer(diffusers.DDIMScheduler, schedule)
    ours.set_timesteps(50)
    theirs.set_timesteps(50)
    x = torch.randn(4, 1, 28, 28)
    for t in ours.timesteps.tolist():
        eps = torch.randn(4, 1, 28, 28) * 0.5
        a = ours.step(eps, t, x, generator=generator(t))
        b = theirs.step(eps, t, x, eta=eta, generator=generator(t))
        torch.testing.assert_close(a.prev_sample, b.prev_sample, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(a.pred_original_sample, b.pred_original_sample, rtol=1e-5, atol=1e-5)
        x = a.prev_sample


def test_closed_form_matches_the_one_step_chain():
    """q(x_t|x0) in closed form has the mean and variance of t single noising steps."""
    sched = DDPMScheduler()
    x0 = torch.full((20000, 1), 0.7)
    gen = generator(0)
    x = x0.clone()
    for t in range(300):
        beta = sched.betas[t]
        x = (1 - beta).sqrt() * x + beta.sqrt() * torch.randn(x.shape, generator=gen)
    ab = sched.alphas_cumprod[299]
    assert x.mean().item() == pytest.approx((ab.sqrt() * 0.7).item(), abs=0.02)
    assert x.var().item() == pytest.approx((1 - ab).item(), rel=0.05)


def test_options_are_checked():
    with pytest.raises(ValueError, match="valid: ddpm, ddim"):
        make_scheduler("euler")
    with pytest.raises(ValueError, match="unknown options"):
        make_scheduler("ddpm", eta=0.5)
    with pytest.raises(ValueError, match="num_inference_steps"):
        DDIMScheduler().set_timesteps(0)


def tiny_unet():
    torch.manual_seed(0)
    return UNet(UNetConfig(channels=(8, 8, 16), groups=4, time_dim=16, timesteps=100)).eval()


def test_unet_shapes_and_train_step():
    model = tiny_unet().train()
    x = torch.rand(4, 1, 28, 28)
    assert model(x, torch.tensor([0, 5, 50, 99])).shape == (4, 1, 28, 28)
    opts = adam_optimizers(model, TrainConfig(steps=1, lr=1e-3))
    before = [p.detach().clone() for p in model.parameters()]
    diffusion_step(model, opts, x, None, generator(0))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_min_snr_weighting_matches_the_formula():
    """min_snr_gamma = γ: each image's ε loss times min(SNR_t, γ) / SNR_t; γ = 0 is L_simple,
    and a γ above every SNR of the schedule changes nothing."""
    x = torch.rand(6, 1, 28, 28)

    def first_loss(gamma: float) -> float:
        torch.manual_seed(0)
        model = UNet(UNetConfig(channels=(8, 8, 16), groups=4, time_dim=16, timesteps=100, min_snr_gamma=gamma))
        return diffusion_step(model, adam_optimizers(model, TrainConfig(steps=1, lr=1e-3)), x, None, generator(1))["loss"]

    torch.manual_seed(0)
    model = UNet(UNetConfig(channels=(8, 8, 16), groups=4, time_dim=16, timesteps=100))
    gen = generator(1)
    t = torch.randint(0, 100, (6,), generator=gen)
    noise = torch.randn(x.shape, generator=gen)
    ab = DDPMScheduler(num_train_timesteps=100).alphas_cumprod[t]
    x_t = ab.sqrt().view(-1, 1, 1, 1).float() * (2 * x - 1) + (1 - ab).sqrt().view(-1, 1, 1, 1).float() * noise
    with torch.no_grad():
        err = (model(x_t, t) - noise).pow(2).flatten(1).mean(1)
    snr = ab / (1 - ab)
    assert first_loss(0.0) == pytest.approx(err.mean().item(), rel=1e-5)
    assert first_loss(5.0) == pytest.approx((err * snr.clamp(max=5.0) / snr).mean().item(), rel=1e-5)
    assert first_loss(1e9) == pytest.approx(first_loss(0.0), rel=1e-6)
    assert first_loss(5.0) < first_loss(0.0)


def test_sampling_is_seeded_and_trajectory_complete():
    model = tiny_unet()
    a = diffusion_sample(model, 2, generator(3), sampler="ddim", steps=5)
    b = diffusion_sample(model, 2, generator(3), sampler="ddim", steps=5)
    c = diffusion_sample(model, 2, generator(3), sampler="ddpm", steps=10)
    assert a.shape == (2, 1, 28, 28) and torch.equal(a, b) and not torch.equal(a, c)
    assert c.min() >= 0 and c.max() <= 1  # DDPM clips x̂0; DDIM does not (to_uint8 clamps)
    from genlab.families.ddpm import Trajectory

    traj = Trajectory([], [], [], [])
    sched = scheduler_for(model, "ddim", 5)
    diffusion_loop(model, sched, torch.randn(2, 1, 28, 28, generator=generator(0)), generator(0),
                   trajectory=traj)
    assert traj.timesteps == [80, 60, 40, 20, 0] and len(traj.x) == 6 and len(traj.x0) == 5



def test_trajectory_keeps_some_steps_and_the_same_samples():
    """The page keeps at most ~100 of DDPM's 1,000 steps (#25): same samples, fewer frames."""
    from genlab.families.ddpm import record_trajectory

    model = tiny_unet()
    full = record_trajectory(model, "ddpm", 10, 0.0, 2, 5)
    some = record_trajectory(model, "ddpm", 10, 0.0, 2, 5, keep=4)
    assert some["t"] == [90, 60, 30, 0] and some["x"].shape == (5, 2, 28, 28)
    assert some["eps"].shape == some["x0"].shape == (4, 2, 28, 28)
    np.testing.assert_array_equal(some["x"][-1], full["x"][-1])  # the samples themselves
    np.testing.assert_array_equal(some["x"][:-1], full["x"][[0, 3, 6, 9]])
    assert record_trajectory(model, "ddim", 5, 0.0, 1, 0, keep=100)["t"] == [80, 60, 40, 20, 0]


def test_ddim_inversion_round_trip():
    model = tiny_unet()
    x0 = torch.rand(2, 1, 28, 28) * 2 - 1
    xt = ddim_invert(model, x0, steps=20)
    sched = scheduler_for(model, "ddim", 20)
    assert not sched.clip_sample  # DDIM's x̂0 is not clipped: the exact reverse of the inversion
    back = diffusion_loop(model, sched, xt, generator(0))
    assert (back - x0).abs().mean() < 0.05


def test_fast_denoiser_splits_the_batch_and_keeps_float32_exact():
    from genlab.families.ddpm import FastDenoiser

    model = tiny_unet()
    x, t = torch.randn(5, 1, 28, 28, generator=generator(1)), torch.tensor([1, 20, 40, 60, 99])
    with torch.inference_mode():
        ref = model(x, t)
        exact = FastDenoiser(model, bf16=False)(x, t)  # two workers, float32
        fast = FastDenoiser(model, bf16=True)(x, t)
        single = FastDenoiser(model, bf16=False)(x[:1], t[:1])
    assert exact.dtype == fast.dtype == torch.float32 and exact.shape == ref.shape
    assert torch.allclose(exact, ref, atol=1e-5) and torch.allclose(single, ref[:1], atol=1e-5)
    rel = ((fast - ref).pow(2).mean() / ref.pow(2).mean()).sqrt()
    assert 0 < rel < 0.02  # bfloat16 rounding, not a different function
    with torch.inference_mode():
        one = FastDenoiser(model, bf16=False, workers=1)(x, t)  # the calling thread only
    assert torch.allclose(one, ref, atol=1e-5)
    with pytest.raises(ValueError, match="workers"):
        FastDenoiser(model, workers=3)
    samples = diffusion_sample(FastDenoiser(model, bf16=False), 3, generator(3), sampler="ddim", steps=5)
    assert torch.allclose(samples, diffusion_sample(model, 3, generator(3), sampler="ddim", steps=5), atol=1e-5)


def test_fastest_workers_times_both_and_scales_to_large_batches():
    from genlab.families.ddpm import fastest_workers

    model = tiny_unet()
    workers, seconds = fastest_workers(model, 8)
    assert workers in (1, 2) and seconds > 0
    assert fastest_workers(model, 1)[0] == 1  # one image cannot be split
    assert fastest_workers(model, 64, batch=4)[1] > 0


# --- the SDE view: reverse SDE, probability-flow ODE, DPM-Solver++ ---------------------------

class GaussianEps(torch.nn.Module):
    """The exact ε̂ for data x0 ~ N(μ, s²) per pixel: x_t ~ N(√ᾱ μ, ᾱ s² + 1 − ᾱ), so
    ε̂ = −√(1 − ᾱ) ∇log p_t = √(1 − ᾱ) (x − √ᾱ μ) / (ᾱ s² + 1 − ᾱ)."""

    def __init__(self, mu: float, s: float, schedule: str = "linear"):
        super().__init__()
        self.mu, self.s = mu, s
        self.config = UNetConfig(beta_schedule=schedule)
        self.alphas_cumprod = DDPMScheduler(beta_schedule=schedule).alphas_cumprod

    def forward(self, x, t):
        ab = self.alphas_cumprod[t].view(-1, *[1] * (x.ndim - 1))
        return (1 - ab).sqrt() * (x - ab.sqrt() * self.mu) / (ab * self.s ** 2 + 1 - ab)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("sampler, steps", [("sde", 1000), ("ode", 1000), ("ode", 100), ("dpm++", 100)])
def test_sde_view_samplers_reproduce_gaussian_data(schedule, sampler, steps):
    """With the exact score, every sampler lands on N(μ, s²), within Monte-Carlo error."""
    mu, s = 0.5, 0.4
    model = GaussianEps(mu, s, schedule)
    # 32 images × 784 pixels: every pixel is an independent draw for this denoiser
    x = (diffusion_sample(model, 32, generator(0), sampler=sampler, steps=steps) * 2 - 1).flatten()
    n = x.numel()
    se_mean, se_std = s / math.sqrt(n), s / math.sqrt(2 * n)
    assert abs(x.mean().item() - mu) < 4 * se_mean + 0.003
    assert abs(x.std().item() - s) < 4 * se_std + 0.006


def test_probability_flow_ode_is_deterministic_and_invertible():
    model = GaussianEps(0.5, 0.4)
    sched = scheduler_for(model, "ode", 1000)
    x0 = torch.randn(50, 1, 4, 4, generator=generator(1)) * 0.4 + 0.5
    x = x0
    for t in sched.timesteps.flip(0).tolist()[:-1]:  # data (t = 0) -> noise (t = T − 1)
        x = sched.invert_step(model(x, torch.full((50,), t)), t, x).prev_sample
    assert abs(x.std().item() - 1) < 0.15  # noise
    sched.set_timesteps(1000)
    back = x
    for t in sched.timesteps.tolist()[:-1]:  # and back to t = 0
        back = sched.step(model(back, torch.full((50,), t)), t, back).prev_sample
    assert (back - x0).abs().max().item() < 1e-3
    again = diffusion_sample(model, 4, generator(5), sampler="ode", steps=50)
    torch.testing.assert_close(again, diffusion_sample(model, 4, generator(5), sampler="ode", steps=50))


def test_reverse_sde_step_by_hand():
    """x_prev = x + B(½x + ∇log p) + √B z with B = log(ᾱ_prev/ᾱ_t) and ∇log p = −ε̂/√(1 − ᾱ_t)."""
    sched = make_scheduler("sde")
    sched.set_timesteps(10)
    x, eps, t = torch.full((1, 1, 1, 1), 0.3), torch.full((1, 1, 1, 1), -0.2), 500
    ab, ab_prev = sched.alphas_cumprod[t].item(), sched.alphas_cumprod[400].item()
    b = math.log(ab_prev / ab)
    z = torch.randn((1, 1, 1, 1), generator=generator(9)).item()
    expected = 0.3 + b * (0.15 + 0.2 / math.sqrt(1 - ab)) + math.sqrt(b) * z
    assert sched.step(eps, t, x, generator=generator(9)).prev_sample.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("k", [10, 20, 25])
def test_dpm_solver_matches_diffusers(schedule, k):
    ours = make_scheduler("dpm++", beta_schedule=schedule)
    theirs = peer(diffusers.DPMSolverMultistepScheduler, schedule, solver_order=2,
                  algorithm_type="dpmsolver++")
    ours.set_timesteps(k)
    theirs.set_timesteps(k)
    assert ours.timesteps.tolist() == theirs.timesteps.tolist()
    x_a = x_b = torch.randn(4, 1, 28, 28, generator=generator(0))
    for t in ours.timesteps.tolist():
        eps = torch.randn(4, 1, 28, 28, generator=generator(t)) * 0.5 + 0.1 * x_a
        a = ours.step(eps, t, x_a)
        b = theirs.step(eps, t, x_b)
        torch.testing.assert_close(a.prev_sample, b.prev_sample, rtol=1e-4, atol=1e-4)
        x_a, x_b = a.prev_sample, b.prev_sample


def test_unknown_sampler_and_bad_steps_are_clear():
    model = GaussianEps(0.5, 0.4)
    with pytest.raises(ValueError, match="valid: ddpm, ddim, sde, ode, dpm"):
        scheduler_for(model, "euler")
    for steps in (0, 1001):
        with pytest.raises(ValueError, match="must be in 1..1000"):
            scheduler_for(model, "dpm++", steps)
