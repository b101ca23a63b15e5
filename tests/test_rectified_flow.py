"""Rectified flow: the loss by hand, the ODE solvers against a velocity field whose flow is
known in closed form (Gaussian data), guidance, reflow pairs, straightness, and the CLI."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from genlab import checkpoints, registry
from genlab.__main__ import main
from genlab.families.rectified_flow import (RectifiedFlowConfig, TIME_SCALE, endpoints, interpolate,
                                            make_pairs, ode_solve, rf_loss, rf_step, straightness,
                                            velocity)
from genlab.models.unet import UNet
from genlab.sample import generator
from genlab.train import TrainConfig, adam_optimizers

TINY = RectifiedFlowConfig(channels=(8, 8, 8), time_dim=16, num_classes=10)


class GaussianFlow(nn.Module):
    """The exact rectified-flow velocity for data x₁ ~ N(μ, s²) per pixel and noise x₀ ~ N(0, 1):
    v*(x, t) = E[x₁ − x₀ | x_t = x] = μ + (t s² − (1 − t)) / (t² s² + (1 − t)²) · (x − t μ).
    Its ODE carries N(0, 1) exactly onto N(μ, s²)."""

    def __init__(self, mu: float, s: float):
        super().__init__()
        self.mu, self.s = mu, s
        self.config = SimpleNamespace(num_classes=0)

    def forward(self, x, steps, y=None):
        t = (steps / TIME_SCALE).view(-1, *[1] * (x.ndim - 1))
        var = t ** 2 * self.s ** 2 + (1 - t) ** 2
        return self.mu + (t * self.s ** 2 - (1 - t)) / var * (x - t * self.mu)


def test_interpolation_ends_at_noise_and_data():
    x0, x1 = torch.zeros(2, 1, 2, 2), torch.ones(2, 1, 2, 2)
    torch.testing.assert_close(interpolate(x0, x1, torch.tensor([0.0, 1.0])),
                               torch.stack([x0[0], x1[1]]))
    assert interpolate(x0, x1, torch.tensor([0.25, 0.25])).unique().item() == 0.25


def test_loss_matches_a_hand_computation():
    """A network v = a·x_t: the loss is mean(((x₁ − x₀) − a·(t x₁ + (1 − t) x₀))²)."""
    class Scale(nn.Module):
        def forward(self, x, steps, y=None):
            return 0.5 * x

    x0 = torch.tensor([[[[1.0, -1.0]]]])  # (1, 1, 1, 2)
    x1 = torch.tensor([[[[0.0, 2.0]]]])
    t = torch.tensor([0.25])
    # x_t = (0.75, -0.25), target (-1, 3), v = (0.375, -0.125): errors (-1.375, 3.125)
    expected = (1.375 ** 2 + 3.125 ** 2) / 2
    assert rf_loss(Scale(), x0, x1, t).item() == pytest.approx(expected)


def test_training_pairs_keep_their_noise():
    gen = generator(0)
    images = torch.rand(3, 1, 4, 4)
    x0, x1 = endpoints(images, gen)
    torch.testing.assert_close(x1, images * 2 - 1)
    pairs = torch.randn(3, 2, 4, 4)
    x0, x1 = endpoints(pairs, gen)
    assert (x0 == pairs[:, :1]).all() and (x1 == pairs[:, 1:]).all()


@pytest.mark.parametrize("sampler, steps", [("euler", 200), ("heun", 50)])
def test_ode_carries_noise_to_the_gaussian_data(sampler, steps):
    mu, s, n = 0.7, 1.8, 20000
    x0 = torch.randn((n, 1, 1, 1), generator=generator(1))
    x1 = ode_solve(GaussianFlow(mu, s), x0, sampler=sampler, steps=steps)
    se_mean, se_var = s / math.sqrt(n), s ** 2 * math.sqrt(2 / n)  # Monte-Carlo standard errors
    assert abs(x1.mean().item() - mu) < 4 * se_mean
    assert abs(x1.var().item() - s ** 2) < 4 * se_var + 0.01


def test_heun_is_second_order():
    """Error of x₁ against a fine solve: halving the steps multiplies it by ~4 for Heun, ~2 for Euler."""
    field, x0 = GaussianFlow(0.7, 1.8), torch.linspace(-2, 2, 9).view(-1, 1, 1, 1)
    exact = ode_solve(field, x0, sampler="heun", steps=1000)
    err = {(m, k): (ode_solve(field, x0, sampler=m, steps=k) - exact).abs().max().item()
           for m in ("euler", "heun") for k in (10, 20)}
    assert 1.6 < err["euler", 10] / err["euler", 20] < 2.5
    assert 3.0 < err["heun", 10] / err["heun", 20] < 5.0


def test_straightness_is_zero_for_straight_paths():
    """Data at one point μ (s = 0): every path is the segment x_t = (1 − t) x₀ + t μ, S = 0.
    Spread data (s = 2): the paths bend (the flow first contracts, then spreads)."""
    x0 = torch.randn((500, 1, 1, 1), generator=generator(2))
    assert straightness(GaussianFlow(0.7, 0.0), x0) < 1e-10
    assert straightness(GaussianFlow(0.7, 2.0), x0) > 0.01


def test_guidance_mixes_conditional_and_null_velocities():
    class ByLabel(nn.Module):
        config = SimpleNamespace(num_classes=10)

        def forward(self, x, steps, y=None):  # v = the label's value (null = 10)
            labels = torch.full((x.shape[0],), 10) if y is None else y
            return torch.ones_like(x) * labels.view(-1, 1, 1, 1).float()

    x = torch.zeros(2, 1, 2, 2)
    assert velocity(ByLabel(), x, 0.5).unique().item() == 10  # unconditional: v_∅
    assert velocity(ByLabel(), x, 0.5, label=3).unique().item() == 3  # w = 1
    assert velocity(ByLabel(), x, 0.5, label=3, guidance=0.0).unique().item() == 10
    assert velocity(ByLabel(), x, 0.5, label=3, guidance=2.5).unique().item() == 10 + 2.5 * (3 - 10)


def test_tiny_step_changes_the_weights_and_the_loss_falls():
    torch.manual_seed(0)
    model = UNet(TINY)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opts = adam_optimizers(model, TrainConfig(steps=1, lr=3e-3))
    x, y = torch.rand(8, 1, 28, 28) * 0.2, torch.arange(8) % 10
    losses = [rf_step(model, opts, x, y, generator(0))["loss"] for _ in range(30)]
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert np.mean(losses[-5:]) < np.mean(losses[:5])


def test_pairs_are_the_flow_of_their_noise():
    torch.manual_seed(0)
    model = UNet(TINY).eval()
    pairs, labels = make_pairs(model, 6, generator(3), steps=2, batch=4)
    assert pairs.shape == (6, 2, 28, 28) and labels.shape == (6,)
    again = ode_solve(model, pairs[:4, :1], sampler="heun", steps=2, label=labels[:4])
    torch.testing.assert_close(again, pairs[:4, 1:], atol=1e-5, rtol=1e-5)


def test_interrupted_pairs_go_on_where_they_stopped():
    """A killed pair run keeps whole batches; resumed, it solves only the rest, same pairs."""
    torch.manual_seed(0)
    model = UNet(TINY).eval()
    whole, whole_labels = make_pairs(model, 10, generator(3), steps=2, batch=4)
    kept = []
    make_pairs(model, 10, generator(3), steps=2, batch=4, on_batch=lambda p, y: kept.append((p, y)))
    assert [len(p) for p, _ in kept] == [4, 8, 10]
    solved = []
    rest, rest_labels = make_pairs(model, 10, generator(3), steps=2, batch=4, done=kept[0],
                                   on_batch=lambda p, y: solved.append(len(p)))
    assert solved == [8, 10]
    torch.testing.assert_close(rest, whole)
    assert torch.equal(rest_labels, whole_labels)


def test_cli_trains_samples_and_reflows(idx_dir, tmp_path, capsys):
    out = tmp_path / "mnist" / "rectified-flow"
    small = ["--set", "channels=8,8,8", "--set", "time_dim=16"]
    assert main(["train", "rectified-flow", "--dataset", "mnist", "--data-dir", str(idx_dir),
                 "--steps", "4", "--batch-size", "8", "--out", str(out), *small]) == 0
    card = checkpoints.read_card(out)
    assert card["family"] == "rectified-flow" and "straightness" in card["metrics"]
    assert main(["sample", str(out), "--n", "3", "--sampler", "euler", "--steps", "2", "--label", "4",
                 "--guidance", "3", "--out", str(tmp_path / "a.npz")]) == 0
    assert np.load(tmp_path / "a.npz")["images"].shape == (3, 28, 28)
    capsys.readouterr()
    for bad, message in ((["--steps", "0"], "argument --steps: must be an integer ≥ 1 and ≤ 1,000"),
                         (["--steps", "1001"], "argument --steps: must be an integer ≥ 1 and ≤ 1,000"),
                         (["--sampler", "rk4"], "unknown ODE solver 'rk4'"),
                         (["--temperature", "0.5"], "--temperature not used by")):
        assert main(["sample", str(out), "--n", "2", "--out", str(tmp_path / "b.npz"), *bad]) == 2
        assert message in capsys.readouterr().err
    reflow = tmp_path / "mnist" / "reflow"
    assert main(["train", "reflow", "--from", str(out), "--pairs", "6", "--dataset", "mnist",
                 "--data-dir", str(idx_dir), "--steps", "2", "--batch-size", "4",
                 "--out", str(reflow)]) == 0
    card = checkpoints.read_card(reflow)
    assert card["config"]["reflow"] == 1 and card["trained_from"] == str(out)
    assert (reflow / "reflow_pairs.safetensors").is_file()
    assert registry.load(reflow).model.config.channels == (8, 8, 8)

    before = checkpoints.read_card(out)["metrics"]
    assert main(["eval", str(out), "--samplers", "euler-1,heun-2", "--guidance-scales", "0,3",
                 "--sampler-n", "20", "--data-dir", str(idx_dir), "--write"]) == 0
    after = checkpoints.read_card(out)["metrics"]
    assert after["straightness"] == before["straightness"]  # not recomputed: only what was asked
    assert after["samplers"]["heun-2"]["nfe"] == 3 and after["samplers"]["n"] == 20
    assert set(after["guidance"]["w"]) == {"0", "3"} and after["guidance"]["sampler"] == "heun-8"
    for w in after["guidance"]["w"].values():
        assert 0 <= w["accuracy"] <= 1 and w["fd"] > 0
    assert main(["eval", str(out), "--recompute", "--n", "20", "--data-dir", str(idx_dir), "--write"]) == 0
    again = checkpoints.read_card(out)["metrics"]
    assert again["samplers"] == after["samplers"] and again["guidance"] == after["guidance"]  # kept
    # the headline quality of a class-conditional model: sampled per class, as the pages do
    assert again["quality_per_class"] == 2 and "(2 per class, w = 1, seed 0)" in again["quality_note"]
    assert main(["eval", str(out), "--samplers", "heun-8,euler-1,heun-8-fp32", "--conditional",
                 "--guidance-scales", "1", "--sampler-n", "20", "--data-dir", str(idx_dir), "--write"]) == 0
    cond = checkpoints.read_card(out)["metrics"]
    assert cond["samplers"] == after["samplers"]  # stored apart from the unconditional ones
    assert set(cond["samplers_conditional"]) >= {"heun-8", "euler-1", "n", "real_vs_real"}
    # the same protocol as guidance at w = 1: n/10 per class, the same seeds
    assert cond["samplers_conditional"]["heun-8"]["fd"] == cond["guidance"]["w"]["1"]["fd"]
    # and as the headline: the default sampler (Heun, K = 8) on the float32 network
    assert cond["samplers_conditional"]["heun-8-fp32"]["fd"] == pytest.approx(again["fd"], rel=1e-6)
    assert main(["eval", str(out), "--recompute", "--n", "15", "--data-dir", str(idx_dir)]) == 2
    assert "multiple of the 10 classes" in capsys.readouterr().err
    assert main(["eval", str(out), "--guidance-scales", "1", "--sampler-n", "15",
                 "--data-dir", str(idx_dir)]) == 2  # 15 images can't ask each of 10 classes equally
    assert "multiple of the 10 classes" in capsys.readouterr().err


def test_sampler_specs_parse():
    from genlab.evaluate import parse_sampler_spec

    assert parse_sampler_spec("ddim-50") == ("ddim", 50, False)
    assert parse_sampler_spec("dpm++-20") == ("dpm++", 20, False)
    assert parse_sampler_spec("ddim-50-fp32") == ("ddim", 50, True)
    assert parse_sampler_spec("heun-8") == ("heun", 8, False)
    for bad in ("ddim", "ddim-x", "-5"):
        with pytest.raises(ValueError, match="expected NAME-K"):
            parse_sampler_spec(bad)
