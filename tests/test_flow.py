import math

import numpy as np
import pytest
import torch

from genlab import checkpoints, registry, sample
from genlab.__main__ import main
from genlab.families.flow import (dequantize, dequantized, flow_bits_per_dim, flow_metrics, flow_sample,
                                  flow_step, log_prob, toy_density, toy_trace, train_toy_flow)
from genlab.metrics import bits_per_dim
from genlab.models.flow import (Dequantizer, Flow, FlowConfig, Squeeze, ToyFlow, ToyFlowConfig, log_sigmoid_slope,
                                logit_inverse, logit_transform, widen_state)
from genlab.toy import toy_data
from genlab.train import TrainConfig, adam_optimizers

TINY = {"nice": FlowConfig(architecture="nice", couplings=4, mlp_width=16, mlp_layers=2,
                           actnorm=False, invconv=False),
        "realnvp": FlowConfig(channels=(8, 8, 8), couplings=2)}


def perturbed(config: FlowConfig, seed: int = 0, dtype=torch.float32) -> Flow:
    """A flow whose couplings are not the identity: actnorm initialised on random data, then
    every parameter nudged (the zero-initialised last layers included)."""
    torch.manual_seed(seed)
    model = Flow(config).to(dtype)
    model.train()
    model(torch.rand(16, 1, config.image_size, config.image_size, dtype=dtype))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


@pytest.mark.parametrize("name", ["nice", "realnvp"])
def test_inverse_of_forward_is_the_identity(name):
    model = perturbed(TINY[name])
    y = dequantize(torch.rand(4, 1, 28, 28), sample.generator(0))
    with torch.no_grad():
        z, logdet = model(y)
        assert z.shape == (4, 784) and logdet.shape == (4,)
        assert (model.inverse(z) - y).abs().max() < 1e-4


@pytest.mark.parametrize("name, shapes", [
    ("realnvp", [(2, 14, 14), (4, 7, 7), (4, 7, 7)]),  # factored out at 14 px, at 7 px, the rest
    ("nice", [(1, 28, 28)]),
])
def test_z_scales_cut_z_into_its_scales(name, shapes):
    model = perturbed(TINY[name])
    with torch.no_grad():
        z, _ = model(dequantize(torch.rand(3, 1, 28, 28), sample.generator(0)))
    parts = model.z_scales(z)
    assert [tuple(p.shape[1:]) for p in parts] == shapes and all(len(p) == 3 for p in parts)
    assert torch.equal(torch.cat([p.flatten(1) for p in parts], 1), z)


@pytest.mark.parametrize("config", [
    FlowConfig(channels=(4, 4), couplings=1, image_size=4),  # checkerboard, squeeze, 1×1 conv, split
    FlowConfig(channels=(4, 4), couplings=2, image_size=4, actnorm=False, invconv=False),
    FlowConfig(architecture="nice", couplings=3, mlp_width=8, mlp_layers=1, image_size=4,
               actnorm=False, invconv=False),
], ids=["realnvp-glow", "realnvp-plain", "nice"])
def test_log_det_equals_brute_force_jacobian(config):
    """log|det ∂z/∂y| of the whole map y -> logit -> flow -> z (squeeze and factor-out
    included) against the 16×16 Jacobian from autograd, in float64."""
    model = perturbed(config, dtype=torch.float64)
    y = torch.rand(1, 1, 4, 4, dtype=torch.float64, generator=sample.generator(1)) * 0.9 + 0.05
    jac = torch.autograd.functional.jacobian(lambda v: model(v.view(1, 1, 4, 4))[0][0], y.flatten())
    _, logdet = model(y)
    assert jac.shape == (16, 16)
    torch.testing.assert_close(logdet[0], torch.linalg.slogdet(jac).logabsdet, rtol=1e-9, atol=1e-9)
    assert abs(logdet.item()) > 1.0  # a non-trivial map, not the identity


def test_logit_transform_by_hand():
    alpha = 0.05
    h, logdet = logit_transform(torch.full((1, 1, 2, 2), 0.5), alpha)
    assert h.abs().max() == 0  # logit(α + 0.9 · 0.5) = logit(0.5)
    # dh/dy = (1 − 2α) / (s (1 − s)) = 0.9 / 0.25 = 3.6 for each of the 4 pixels
    assert logdet.item() == pytest.approx(4 * math.log(3.6), rel=1e-6)
    y = torch.rand(3, 1, 5, 5)
    torch.testing.assert_close(logit_inverse(logit_transform(y, alpha)[0], alpha), y)


def test_bits_per_dim_by_hand():
    d = 784
    # the uniform density on [0, 1)^D: log p_y = 0, i.e. every 8-bit value has probability 1/256
    assert bits_per_dim(torch.tensor([0.0]), d).item() == pytest.approx(8.0)
    # a density of 2^D on [0, 1)^D is worth one bit per dimension: 8 − 1 = 7
    assert bits_per_dim(torch.tensor([d * math.log(2)]), d).item() == pytest.approx(7.0)
    # discrete data (levels = 1): 543.4 nats over 784 binary pixels = log 2 each = 1 bit/dim
    assert bits_per_dim(torch.tensor([-d * math.log(2)]), d, levels=1).item() == pytest.approx(1.0)


def test_dequantization_stays_in_its_bin():
    k = torch.arange(256, dtype=torch.float32).view(1, 1, 16, 16)
    y = dequantize(k / 255, sample.generator(0))
    assert ((y * 256).floor() == k).all()
    assert not torch.equal(y, dequantize(k / 255, sample.generator(1)))


def test_squeeze_moves_each_2x2_block_into_channels():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    y, logdet = Squeeze()(x)
    assert y.shape == (1, 4, 2, 2) and logdet.item() == 0
    assert y[0, :, 0, 0].tolist() == [0.0, 1.0, 4.0, 5.0]  # the top-left block
    assert y[0, 0].tolist() == [[0.0, 2.0], [8.0, 10.0]]
    assert torch.equal(Squeeze().inverse(y), x)


def test_sampling_is_reproducible_and_temperature_scales_z():
    model = perturbed(TINY["realnvp"])
    family = registry.get("flow")
    a = sample.sample_images(family, model, 3, seed=5)
    b = sample.sample_images(family, model, 3, seed=5)
    c = sample.sample_images(family, model, 3, seed=6)
    assert a.shape == (3, 28, 28) and a.dtype == np.uint8
    assert (a == b).all() and not (a == c).all()
    cold = flow_sample(model, 2, sample.generator(0), temperature=0.0)
    torch.testing.assert_close(cold[0], cold[1])  # T = 0: every sample is f⁻¹(0)
    torch.testing.assert_close(cold[:1], model.inverse(torch.zeros(1, 784)).clamp(0, 1))


def test_flow_step_lowers_bits_per_dim_and_metrics_match():
    torch.manual_seed(0)
    model = Flow(TINY["realnvp"])
    x = (torch.rand(32, 1, 28, 28) > 0.7).float()
    opts = adam_optimizers(model, TrainConfig(steps=1, lr=3e-3))
    losses = [flow_step(model, opts, x, None, sample.generator(s))["bpd"] for s in range(15)]
    assert losses[-1] < losses[0] - 0.05
    model.eval()
    out = flow_metrics(model, x, sample.generator(9), batch=10)
    by_hand = bits_per_dim(log_prob(model, dequantize(x, sample.generator(9))), 784).mean().item()
    assert out["bits_per_dim"] == pytest.approx(by_hand, abs=1e-4)
    assert out["nll_nats"] == pytest.approx(by_hand * 784 * math.log(2), abs=0.01)
    per_image = flow_bits_per_dim(model, x, sample.generator(9), batch=10)
    assert per_image.shape == (32,) and per_image.mean().item() == pytest.approx(by_hand, abs=1e-4)


def test_toy_flow_trains_in_seconds_and_traces_layers():
    torch.manual_seed(0)
    model = ToyFlow(ToyFlowConfig(layers=6, hidden=32))
    points = toy_data("moons", 1000, sample.generator(0))
    before = -log_prob(model, points).mean().item()  # identity at start: the N(0, I) NLL
    facts = train_toy_flow(model, points, steps=200, batch_size=256, lr=5e-3)
    after = -log_prob(model, points).mean().item()
    assert facts["steps"] == 200 and after < before - 0.5
    z, _ = model(points)
    forward = toy_trace(model, points, "normalize")
    assert len(forward) == 7 and torch.equal(forward[0], points)
    torch.testing.assert_close(forward[-1], z)
    backward = toy_trace(model, z, "generate")
    torch.testing.assert_close(backward[-1], points, atol=1e-4, rtol=1e-4)
    axis, logp = toy_density(model, lim=4.0, n=161)
    mass = logp.exp().sum().item() * (axis[1] - axis[0]).item() ** 2
    assert logp.shape == (161, 161) and mass == pytest.approx(1.0, abs=0.05)  # a density


def test_cli_train_sample_eval(idx_dir, tmp_path, capsys):
    out = tmp_path / "mnist" / "realnvp"
    train = ["train", "realnvp", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "2",
             "--out", str(out), "--set", "channels=8,8,8", "--set", "couplings=1",
             "--batch-size", "16", "--no-download"]
    # a pause after step 1 saves the resume state (the QR-initialised 1×1 convolutions are
    # not contiguous tensors), and --resume finishes the run
    assert main([*train, "--stop-at", "1"]) == 0 and (out / "resume.safetensors").is_file()
    assert main([*train, "--resume"]) == 0
    card = checkpoints.read_card(out)
    assert card["training"]["steps"] == 2, card["training"]
    assert card["family"] == "flow" and card["config"]["channels"] == [8, 8, 8]
    assert card["metrics"]["bits_per_dim"] > 0
    for seed, name in ((1, "a"), (1, "b")):
        assert main(["sample", str(out), "--n", "3", "--seed", str(seed), "--temperature", "0.7",
                     "--out", str(tmp_path / f"{name}.npz")]) == 0
    a, b = (np.load(tmp_path / f"{n}.npz")["images"] for n in "ab")
    assert a.shape == (3, 28, 28) and (a == b).all()
    capsys.readouterr()
    assert main(["eval", str(out)]) == 0
    assert '"bits_per_dim"' in capsys.readouterr().out
    assert main(["sample", str(out), "--eta", "0.5", "--out", str(tmp_path / "x.npz")]) == 2


def test_a_widened_realnvp_computes_the_same_flow_and_its_new_units_learn():
    """widen_state: more hidden channels in every coupling network, the same z and log|det|
    (so the same bits/dim); the zeroed links from the new channels get gradients at once."""
    small = perturbed(FlowConfig(channels=(4, 6, 6), couplings=2), seed=3)
    torch.manual_seed(4)
    wide = Flow(FlowConfig(channels=(8, 12, 10), couplings=2))
    wide.load_state_dict(widen_state(small.state_dict(), wide.state_dict()))
    wide.eval()
    y = dequantize(torch.rand(5, 1, 28, 28), torch.Generator().manual_seed(0))
    (z0, ld0), (z1, ld1) = small(y), wide(y)
    assert torch.allclose(z0, z1, atol=1e-5) and torch.allclose(ld0, ld1, rtol=1e-6, atol=1e-3)
    assert torch.allclose(wide.inverse(z1), y, atol=1e-4)
    log_prob(wide, y).mean().backward()
    last = wide.scales[0][1].net[-1]  # actnorm, then the first checkerboard coupling's net
    assert last.weight.grad[:, 4:].abs().amax(dim=(0, 2, 3)).min() > 0  # each new channel's links to (s, t)
    with pytest.raises(ValueError, match="cannot widen"):
        widen_state(wide.state_dict(), small.state_dict())


def test_cli_widens_a_trained_realnvp(idx_dir, tmp_path, capsys):
    """train realnvp --from ID --set channels=…: the teacher's flow, wider; a narrower width,
    another architecture or another dataset is refused with one line."""
    common = ["--dataset", "mnist", "--data-dir", str(idx_dir), "--batch-size", "8", "--no-download"]
    teacher = tmp_path / "mnist" / "realnvp"
    assert main(["train", "realnvp", "--steps", "2", "--out", str(teacher), "--set", "channels=4,4,4",
                 "--set", "couplings=1", *common]) == 0
    out = tmp_path / "mnist" / "realnvp-wide"
    assert main(["train", "realnvp", "--from", str(teacher), "--set", "channels=8,6,4", "--steps", "1",
                 "--lr", "1e-9", "--out", str(out), *common]) == 0
    card, before = checkpoints.read_card(out), checkpoints.read_card(teacher)
    assert card["trained_from"] == str(teacher)
    assert card["config"] == {**before["config"], "channels": [8, 6, 4]}
    # one step at lr 1e-9: still the teacher's likelihood (the same dequantization noise)
    assert card["metrics"]["bits_per_dim"] == pytest.approx(before["metrics"]["bits_per_dim"], abs=1e-3)
    capsys.readouterr()
    assert main(["train", "realnvp", "--from", str(teacher), "--set", "channels=2,4,4", "--steps", "1",
                 "--out", str(tmp_path / "x"), *common]) == 2
    assert "each at least the teacher's 4,4,4" in capsys.readouterr().err
    nice = tmp_path / "mnist" / "nice"
    assert main(["train", "nice", "--steps", "1", "--out", str(nice), "--set", "mlp_width=8",
                 "--set", "mlp_layers=1", *common]) == 0
    capsys.readouterr()
    assert main(["train", "realnvp", "--from", str(nice), "--steps", "1", "--out", str(tmp_path / "y"),
                 *common]) == 2
    assert "a RealNVP can start from a trained RealNVP" in capsys.readouterr().err


def test_cli_measures_a_flow_at_temperatures(idx_dir, tmp_path, capsys):
    """eval --temperatures: FD etc. per sampling temperature, stored apart and kept when the
    headline metrics are recomputed; T = 1 is the headline's own sampling."""
    out = tmp_path / "mnist" / "realnvp"
    assert main(["train", "realnvp", "--steps", "2", "--out", str(out), "--set", "channels=4,4,4",
                 "--set", "couplings=1", "--dataset", "mnist", "--data-dir", str(idx_dir),
                 "--batch-size", "8", "--no-download"]) == 0
    assert main(["eval", str(out), "--temperatures", "0.5,1", "--sampler-n", "20",
                 "--data-dir", str(idx_dir), "--write"]) == 0
    measured = checkpoints.read_card(out)["metrics"]["temperatures"]
    assert measured["n"] == 20 and set(measured["T"]) == {"0.5", "1"}
    assert measured["T"]["0.5"]["fd"] != measured["T"]["1"]["fd"]
    assert main(["eval", str(out), "--recompute", "--n", "20", "--data-dir", str(idx_dir), "--write"]) == 0
    again = checkpoints.read_card(out)["metrics"]
    assert again["temperatures"] == measured
    assert again["fd"] == pytest.approx(measured["T"]["1"]["fd"], rel=1e-6)


def test_a_fresh_variational_dequantizer_is_uniform_noise():
    """At its zero-initialised last layer q(u | x) is U[0, 1): the same y as uniform
    dequantization from the same draws, log q = 0, so a flow keeps its bits/dim."""
    teacher = perturbed(TINY["realnvp"], seed=1)
    model = Flow(FlowConfig(channels=(8, 8, 8), couplings=2, dequantizer="variational", dequantizer_channels=4))
    model.load_state_dict(widen_state(teacher.state_dict(), model.state_dict()))
    model.eval()
    x = torch.randint(0, 256, (6, 1, 28, 28)) / 255
    y, log_q = dequantized(model, x, sample.generator(3))
    assert torch.allclose(y, dequantize(x, sample.generator(3)), atol=1e-6) and torch.equal(log_q, torch.zeros(6))
    before = flow_bits_per_dim(teacher, x, sample.generator(5))
    assert torch.allclose(flow_bits_per_dim(model, x, sample.generator(5)), before, atol=1e-4)
    with pytest.raises(ValueError, match="unknown dequantizer 'gauss'"):
        FlowConfig(dequantizer="gauss")


def test_the_learned_dequantization_density_is_normalised_and_its_log_q_exact():
    """q(u | x) from u = σ(μ + e^ℓ ε), ε ~ Logistic(0, 1): log q matches the change of variables
    by autograd, integrates to 1 over (0, 1) per pixel, and u stays inside its bin."""
    torch.manual_seed(0)
    deq = Dequantizer(hidden=4, blocks=1)
    with torch.no_grad():
        for p in deq.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randint(0, 256, (2, 1, 28, 28)) / 255
    eps = torch.logit(torch.rand(2, 1, 28, 28).clamp(1e-6, 1 - 1e-6)).requires_grad_()
    u, log_q = deq(x, eps)
    assert 0 < u.min() and u.max() < 1
    du = torch.autograd.grad(u.sum(), eps)[0]  # u_d depends on ε_d alone
    by_hand = (log_sigmoid_slope(eps) - du.log()).flatten(1).sum(1)
    assert torch.allclose(log_q, by_hand.detach(), rtol=1e-4, atol=1e-3)
    # the density of one pixel on a fine grid of u: ∫ q = 1
    mu, log_s = (t[0, 0, 10, 12].detach() for t in deq.net(x - 0.5).chunk(2, dim=1))
    grid = torch.linspace(1e-5, 1 - 1e-5, 200_001, dtype=torch.float64)
    h = torch.logit(grid)
    e = (h - mu.double()) / log_s.double().exp()
    q = (log_sigmoid_slope(e) - log_s.double() - log_sigmoid_slope(h)).exp()
    assert torch.trapezoid(q, grid).item() == pytest.approx(1.0, abs=2e-3)


def test_cli_adds_a_learned_dequantizer_to_a_trained_realnvp(idx_dir, tmp_path):
    """train realnvp --from ID --set dequantizer=variational: the teacher's bits/dim at the start
    (one step at lr 1e-9), a flow that loads, samples and trains on, and keeps its q when widened."""
    common = ["--dataset", "mnist", "--data-dir", str(idx_dir), "--batch-size", "8", "--no-download"]
    teacher = tmp_path / "mnist" / "realnvp"
    assert main(["train", "realnvp", "--steps", "2", "--out", str(teacher), "--set", "channels=4,4,4",
                 "--set", "couplings=1", *common]) == 0
    out = tmp_path / "mnist" / "realnvp-vd"
    assert main(["train", "realnvp", "--from", str(teacher), "--set", "dequantizer=variational",
                 "--set", "dequantizer_channels=4", "--set", "channels=4,4,4", "--steps", "1", "--lr", "1e-9",
                 "--out", str(out), *common]) == 0
    card, before = checkpoints.read_card(out), checkpoints.read_card(teacher)
    assert card["config"]["dequantizer"] == "variational" and card["config"]["dequantizer_channels"] == 4
    assert card["metrics"]["bits_per_dim"] == pytest.approx(before["metrics"]["bits_per_dim"], abs=1e-3)
    model = registry.load(out).model
    assert model.dequantizer is not None
    assert main(["sample", str(out), "--n", "3", "--out", str(tmp_path / "s.npz")]) == 0
    wider = tmp_path / "mnist" / "realnvp-vd-wide"  # its q is kept without being asked again
    assert main(["train", "realnvp", "--from", str(out), "--set", "channels=6,6,6", "--steps", "1",
                 "--out", str(wider), *common]) == 0
    assert checkpoints.read_card(wider)["config"]["dequantizer"] == "variational"
