"""GANs: the textbook losses against hand-computed values, the gradient penalty against a
critic whose gradient is known, train steps on tiny configs, snapshots and their resume."""

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from genlab import metrics, registry, sample
from genlab.__main__ import main
from genlab.families.gan import (critic_loss, d_bce_loss, d_hinge_loss, discriminator_scores, g_minimax_loss,
                                 g_nonsaturating_loss, gan_family_step, gan_metrics, gan_noise,
                                 gan_optimizers, gan_qp_d_loss, gan_qp_g_loss, gan_sample,
                                 gradient_penalty, pair_distance, wasserstein_estimate)
from genlab.models.gan import GAN, GANConfig
from genlab.train import TrainConfig, load_snapshots, snapshot_steps

# tiny versions of the three presets (same arch / loss / norm, a few units wide)
TINY = {"gan-mlp": ["g_hidden=16,16", "d_hidden=16"], "dcgan": ["channels=4"],
        "wgan-gp": ["channels=4", "n_critic=2"], "gan-qp": ["channels=4"]}


def tiny(name: str) -> GANConfig:
    _, _, config = registry.resolve_model(name)
    for override in TINY[name]:
        config = registry.parse_override(config, override)
    return config


# logits with σ = 1/2 and 3/4 (real), 1/4 and 1/2 (fake)
REAL = torch.tensor([0.0, math.log(3)])
FAKE = torch.tensor([-math.log(3), 0.0])


def test_discriminator_bce_loss_by_hand():
    # −½(log ½ + log ¾) − ½(log(1 − ¼) + log(1 − ½)) = log 2 + log 4/3 = log 8/3
    assert d_bce_loss(REAL, FAKE).item() == pytest.approx(math.log(8 / 3), rel=1e-6)
    # D = ½ everywhere (the optimum once p_G = p_data): −V = log 4
    assert d_bce_loss(torch.zeros(5), torch.zeros(5)).item() == pytest.approx(math.log(4), rel=1e-6)


def test_generator_losses_by_hand():
    # non-saturating: −½(log ¼ + log ½) = 1.5 log 2; minimax: ½(log ¾ + log ½) = ½ log 3/8
    assert g_nonsaturating_loss(FAKE).item() == pytest.approx(1.5 * math.log(2), rel=1e-6)
    assert g_minimax_loss(FAKE).item() == pytest.approx(0.5 * math.log(3 / 8), rel=1e-6)
    # where D rejects the samples (σ ≈ 0.0001) the minimax loss is flat, the other is steep
    logit = torch.tensor([-9.0], requires_grad=True)
    (minimax,) = torch.autograd.grad(g_minimax_loss(logit), logit)
    (nonsat,) = torch.autograd.grad(g_nonsaturating_loss(logit), logit)
    assert abs(minimax.item()) < 2e-4 and nonsat.item() == pytest.approx(-1.0, abs=2e-4)


def test_wasserstein_losses_by_hand():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.5, -1.5])
    assert wasserstein_estimate(real, fake).item() == pytest.approx(2.5)  # 2 − (−0.5)
    assert critic_loss(real, fake).item() == pytest.approx(-2.5)


def test_gan_qp_losses_by_hand():
    """Su 2018, eq. 13: D maximises E[Δ − Δ²/(2λd)], Δ = D(x) − D(x̃); G minimises E Δ."""
    real = torch.zeros(2, 1, 2, 2)
    fake = torch.tensor([[[[1.0, 1.0], [1.0, 1.0]]], [[[0.5, -0.5], [0.5, -0.5]]]])
    dist = pair_distance(real, fake)
    torch.testing.assert_close(dist, torch.tensor([1.0, 0.5]))  # mean |x − x̃| per pair
    torch.testing.assert_close(pair_distance(real, fake, "l2"), torch.tensor([2.0, 1.0]))
    real_scores, fake_scores = torch.tensor([3.0, 1.0]), torch.tensor([1.0, 2.0])  # Δ = 2, −1
    lam = 2.0
    # pair 1: −2 + 4/(2·2·1) = −1; pair 2: 1 + 1/(2·2·0.5) = 1.5; mean 0.25
    assert gan_qp_d_loss(real_scores, fake_scores, dist, lam).item() == pytest.approx(0.25)
    assert gan_qp_g_loss(real_scores, fake_scores).item() == pytest.approx(0.5)
    # for one pair the critic's best gap is Δ* = λ·d (the quadratic's vertex): loss −λd/2
    best = gan_qp_d_loss(torch.tensor([lam * 0.5]), torch.tensor([0.0]), torch.tensor([0.5]), lam)
    assert best.item() == pytest.approx(-lam * 0.5 / 2)


def test_gradient_penalty_of_a_linear_critic():
    """D(x) = w·x + b has ∇D = w everywhere: the penalty is (‖w‖ − 1)² for any x̂."""
    critic = nn.Sequential(nn.Flatten(), nn.Linear(4, 1), nn.Flatten(0))
    with torch.no_grad():
        critic[1].weight.copy_(torch.tensor([[2.0, 0.0, 2.0, 1.0]]))  # ‖w‖ = 3
    real, fake = torch.rand(6, 1, 2, 2), torch.rand(6, 1, 2, 2)
    gp = gradient_penalty(critic, real, fake, sample.generator(0))
    assert gp.item() == pytest.approx((3 - 1) ** 2)
    gp.backward()  # differentiable in the critic's weights: d/dw (‖w‖ − 1)² = 2(‖w‖ − 1) w/‖w‖
    expected = 2 * (3 - 1) * torch.tensor([[2.0, 0.0, 2.0, 1.0]]) / 3
    torch.testing.assert_close(critic[1].weight.grad, expected)


def test_gradient_penalty_interpolates_with_the_generator():
    """D(x) = ½‖x‖² has ∇D(x̂) = x̂; with real = 2·e1, fake = 0: ‖x̂‖ = 2ε, penalty E(2ε − 1)²."""
    critic = lambda x: 0.5 * x.flatten(1).pow(2).sum(1)
    real = torch.zeros(5, 1, 2, 2)
    real[:, 0, 0, 0] = 2.0
    eps = torch.rand((5, 1, 1, 1), generator=sample.generator(3)).flatten()
    gp = gradient_penalty(critic, real, torch.zeros_like(real), sample.generator(3))
    assert gp.item() == pytest.approx(((2 * eps - 1) ** 2).mean().item(), rel=1e-6)


@pytest.mark.parametrize("name", list(TINY))
def test_train_step_changes_generator_and_discriminator(name):
    torch.manual_seed(0)
    model = GAN(tiny(name)).train()
    opts = gan_optimizers(model, TrainConfig(steps=1, lr=1e-3))
    assert [g["betas"] for g in (o.param_groups[0] for o in opts)] == [model.config.adam_betas] * 2
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = gan_family_step(model, opts, torch.rand(8, 1, 28, 28), None, sample.generator(0))
    for part in ("generator", "discriminator"):
        params = [k for k, _ in getattr(model, part).named_parameters()]
        after = model.state_dict()
        changed = [k for k in params if not torch.equal(before[f"{part}.{k}"], after[f"{part}.{k}"])]
        assert changed == params, f"{part}: unchanged {set(params) - set(changed)}"
    keys = {"d_loss", "g_loss", "d_real", "d_fake"}
    if name == "wgan-gp":
        keys |= {"w_estimate", "gp"}
    if name == "gan-qp":
        keys |= {"d_gap"}
    assert set(out) == keys and all(math.isfinite(v) for v in out.values())


def test_train_step_is_reproducible_from_the_generator():
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = GAN(tiny("wgan-gp")).train()
        opts = gan_optimizers(model, TrainConfig(steps=1))
        runs.append(gan_family_step(model, opts, torch.rand(8, 1, 28, 28, generator=sample.generator(1)),
                                    None, sample.generator(7)))
    assert runs[0] == runs[1]


def test_configs_are_checked():
    assert GANConfig().noise_dim == 96
    for name in TINY:  # one z feeds every variant
        assert registry.resolve_model(name)[2].noise_dim == 96
    with pytest.raises(ValueError, match="cannot use batch norm"):
        GANConfig(loss="wgan-gp", d_norm="batch")
    with pytest.raises(ValueError, match="valid: mlp, dcgan"):
        GANConfig(arch="resnet")
    assert registry.resolve_model("gan")[0] == "gan-mlp"


@pytest.mark.parametrize("name", list(TINY))
def test_sampling_shapes_ranges_and_the_same_z(name):
    torch.manual_seed(0)
    model = GAN(tiny(name)).eval()
    x = gan_sample(model, 5, sample.generator(2))
    assert x.shape == (5, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    z = gan_noise(96, 5, sample.generator(2))  # the z gan_sample drew
    torch.testing.assert_close(x, model.generate(z))
    scores = discriminator_scores(model, x)
    assert scores.shape == (5,)
    out = gan_metrics(model, torch.rand(6, 1, 28, 28), sample.generator(0), batch=4)
    assert out["n"] == 6 and ("w_estimate" in out) == (name == "wgan-gp")
    assert ("d_gap" in out) == (name == "gan-qp") and ("d_accuracy" in out) == (name in ("gan-mlp", "dcgan"))


def test_nearest_images():
    pool = np.zeros((4, 28, 28), np.uint8)
    pool[1, 0, :4] = 255  # 4 pixels at 1: distance 2 from the blank image
    pool[2, 0, :1] = 255  # 1 pixel: distance 1
    pool[3] = 255
    idx, dist = metrics.nearest_images(pool[:1], pool, k=3)
    assert idx.tolist() == [[0, 2, 1]]
    np.testing.assert_allclose(dist, [[0.0, 1.0, 2.0]], atol=1e-3)  # cdist's matmul path


def test_snapshot_steps_double_up_to_the_end():
    assert snapshot_steps(1000) == [0, 7, 15, 31, 62, 125, 250, 500, 1000]
    assert snapshot_steps(8) == [0, 1, 2, 4, 8]
    assert snapshot_steps(1) == [0, 1]


def test_cli_train_records_snapshots_that_survive_resume(idx_dir, tmp_path, capsys):
    out = tmp_path / "mnist" / "dcgan"
    args = ["train", "dcgan", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "8",
            "--batch-size", "8", "--out", str(out), "--no-download",
            *[a for o in TINY["dcgan"] for a in ("--set", o)]]
    assert main([*args, "--stop-at", "4"]) == 0
    first = load_snapshots(out)
    assert first["steps"].tolist() == [0, 1, 2, 4] and first["images"].shape == (4, 64, 28, 28)
    assert (out / "resume.safetensors").exists()
    assert main([*args, "--resume"]) == 0
    snaps = load_snapshots(out)
    assert snaps["steps"].tolist() == [0, 1, 2, 4, 8]
    np.testing.assert_array_equal(snaps["images"][:4], first["images"])  # kept, not redrawn
    # the last snapshot is the shipped model's samples of the fixed z (seed 0)
    ckpt = registry.load(out)
    family = registry.get("gan")
    np.testing.assert_array_equal(snaps["images"][-1], sample.sample_images(family, ckpt.model, 64, 0))
    log = json.loads((out / "train_log.json").read_text())
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(log[-1])
    assert set(ckpt.card["metrics"]) >= {"d_holdout", "d_samples", "d_accuracy"}
    # a fresh (not resumed) run into the folder starts its snapshots afresh
    assert main([*args, "--steps", "2"]) == 0
    assert load_snapshots(out)["steps"].tolist() == [0, 1, 2]

    capsys.readouterr()
    assert main(["sample", str(out), "--n", "4", "--seed", "1", "--out", str(tmp_path / "s.npz")]) == 0
    assert np.load(tmp_path / "s.npz")["images"].shape == (4, 28, 28)


def test_hinge_loss_by_hand():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-3.0, 0.0, 0.5])
    # real: max(0, 1 − D) = 0, 0.5, 2 -> mean 5/6; fake: max(0, 1 + D) = 0, 1, 1.5 -> mean 5/6
    assert d_hinge_loss(real, fake).item() == pytest.approx(5 / 3)


def test_spectral_norm_hinge_ttur_step_trains_both_networks():
    torch.manual_seed(0)
    cfg = GANConfig(arch="dcgan", loss="hinge", d_norm="spectral", channels=8, adam_betas=(0.0, 0.9),
                    d_lr_ratio=4.0)
    model = GAN(cfg)
    opts = gan_optimizers(model, TrainConfig(steps=1, lr=1e-4))
    assert opts[0].param_groups[0]["lr"] == pytest.approx(4e-4)  # D four times faster than G
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for s in range(3):
        out = gan_family_step(model, opts, torch.rand(8, 1, 28, 28), torch.zeros(8), sample.generator(s))
    assert {"d_loss", "g_loss"} <= out.keys()
    changed = {k.split(".")[0] for k, v in model.state_dict().items() if not torch.equal(before[k], v)}
    assert changed == {"generator", "discriminator"}
    conv = model.discriminator.net[2]
    with torch.no_grad():  # the parametrized weight has spectral norm ~1 (power iteration)
        sigma = torch.linalg.matrix_norm(conv.weight.flatten(1), ord=2).item()
    assert sigma == pytest.approx(1.0, abs=0.15)


def test_conv_head_draws_28x28_from_shared_feature_maps():
    cfg = GANConfig(arch="dcgan", channels=8, g_head="conv")
    model = GAN(cfg)
    head = model.generator.net[-3:]  # ReLU of the 28×28 features, 3×3 conv, tanh
    assert isinstance(head[1], torch.nn.Conv2d) and head[1].in_channels == 4  # channels / 2
    x = model.generate(torch.randn(5, cfg.noise_dim))
    assert x.shape == (5, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    with pytest.raises(ValueError, match="g_head"):
        GANConfig(arch="dcgan", g_head="pixelshuffle")


def test_translation_moves_each_image_by_at_most_the_shift_and_keeps_gradients():
    from genlab.families.gan import translate

    x = -torch.ones(32, 1, 28, 28)
    x[:, 0, 10, 12] = 1  # one lit pixel on the background
    x.requires_grad_(True)
    moved = translate(x, 3, torch.Generator().manual_seed(0))
    where = [(img[0] == 1).nonzero()[0].tolist() for img in moved.detach()]
    assert all(abs(r - 10) <= 3 and abs(c - 12) <= 3 for r, c in where)
    assert len({tuple(w) for w in where}) > 5  # each image its own shift
    assert (moved.detach() == -1).sum() == 32 * (28 * 28 - 1)  # what moved in is background
    moved.sum().backward()
    assert x.grad[:, 0, 10, 12].eq(1).all()  # the lit pixel's gradient comes back


def test_cutout_blanks_one_square_and_none_draws_nothing():
    from genlab.families.gan import augment, cutout

    cut = cutout(torch.ones(64, 1, 28, 28), 14, torch.Generator().manual_seed(0))
    blank = (cut == -1).sum(dim=(1, 2, 3))
    assert blank.max() == 14 * 14 and blank.min() >= 7 * 7  # a square, clipped at the border
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(4, 1, 28, 28)
    assert augment(x, "none", gen) is x
    assert torch.equal(gen.get_state(), torch.Generator().manual_seed(0).get_state())
    with pytest.raises(ValueError, match="d_augment"):
        GANConfig(arch="dcgan", d_augment="flip")
    with pytest.raises(ValueError, match="d_augment"):
        GANConfig(arch="dcgan", loss="wgan-gp", d_norm="none", d_augment="translation")


def test_gan_step_shows_d_augmented_images_only_when_asked():
    from genlab.families.gan import gan_optimizers, gan_step

    x = torch.rand(16, 1, 28, 28)
    for policy in ("none", "translation,cutout"):
        torch.manual_seed(0)
        model = GAN(GANConfig(arch="dcgan", channels=8, d_norm="batch", d_augment=policy))
        seen = []
        model.discriminator.register_forward_pre_hook(lambda mod, args: seen.append(args[0].detach()))
        out = gan_step(model, gan_optimizers(model, TrainConfig(steps=1, lr=2e-4)), x, torch.zeros(16),
                       torch.Generator().manual_seed(0))
        assert all(math.isfinite(v) for v in out.values()) and len(seen) == 3  # real, fake (D), fake (G)
        assert torch.equal(seen[0], x * 2 - 1) == (policy == "none")
        assert torch.equal(seen[1], seen[2]) == (policy == "none")  # each pass its own draw


def test_r1_penalty_is_the_squared_input_gradient_and_trains_d():
    from genlab.families.gan import gan_optimizers, gan_step, r1_penalty

    w = torch.randn(1, 1, 28, 28, requires_grad=True)
    x = torch.rand(8, 1, 28, 28, requires_grad=True)
    logits = (x * w).sum(dim=(1, 2, 3)) + (x ** 2).sum(dim=(1, 2, 3))  # ∇ₓ = w + 2x
    penalty = r1_penalty(logits, x)
    assert penalty.item() == pytest.approx((w + 2 * x).pow(2).sum(dim=(1, 2, 3)).mean().item(), rel=1e-5)
    penalty.backward()
    assert w.grad is not None and w.grad.abs().sum() > 0  # the graph was kept: it trains D
    torch.manual_seed(0)
    model = GAN(GANConfig(arch="dcgan", channels=8, d_norm="batch", r1_gamma=10.0))
    out = gan_step(model, gan_optimizers(model, TrainConfig(steps=1, lr=2e-4)), torch.rand(16, 1, 28, 28),
                   torch.zeros(16), torch.Generator().manual_seed(0))
    assert out["r1"] > 0 and math.isfinite(out["d_loss"])
    with pytest.raises(ValueError, match="r1_gamma"):
        GANConfig(arch="dcgan", loss="gan-qp", r1_gamma=1.0)


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_minibatch_std_lets_d_tell_a_batch_of_copies_from_a_varied_one(arch):
    from genlab.models.gan import MinibatchStd

    torch.manual_seed(0)
    model = GAN(GANConfig(arch=arch, channels=8, d_minibatch_std=True)).eval()
    varied = torch.rand(8, 1, 28, 28)
    copies = varied[:1].expand(8, -1, -1, -1)
    # the copies' extra feature is 0, the varied batch's is not: D's score of the same image differs
    assert not torch.allclose(model.score(varied)[0], model.score(copies)[0])
    assert model.score(varied[:1]).shape == (1,)  # a batch of one works (its spread is 0)
    out = MinibatchStd()(torch.randn(4, 3, 7, 7))
    assert out.shape == (4, 4, 7, 7) and torch.equal(out[0, 3], out[3, 3])
