"""BiGAN / BiGAN-QP (#21): the joint game's losses, a step that trains G, E and D, sampling on
the other GANs' z, reconstructions, and the CLI."""

import math

import pytest
import torch

from genlab import checkpoints, registry, sample
from genlab.__main__ import main
from genlab.families.bigan import bigan_metrics, bigan_optimizers, bigan_sample, bigan_step, joint_distance
from genlab.families.gan import gan_noise
from genlab.models.bigan import BiGAN, BiGANConfig
from genlab.train import TrainConfig

TINY = {"channels": 4, "d_hidden": 16}


def tiny(loss: str, **extra) -> BiGAN:
    torch.manual_seed(0)
    return BiGAN(BiGANConfig(loss=loss, **TINY, **extra))


def test_joint_distance_by_hand():
    x, x2 = torch.zeros(2, 1, 2, 2), torch.ones(2, 1, 2, 2)
    z, z2 = torch.tensor([[0.0, 0.0], [1.0, -3.0]]), torch.zeros(2, 2)
    torch.testing.assert_close(joint_distance(x, x2, z, z2), torch.tensor([1.0, 3.0]))  # 1 + (0, 2)


def test_g_head_conv_draws_the_pixel_from_shared_maps_and_a_bad_head_is_refused():
    """``--set g_head=conv`` gives BiGAN's G the DCGAN's convolutional last layer (a 3×3 over
    feature maps at 28×28); a card that names an unknown head is refused when it is read."""
    plain, conv = tiny("gan-qp"), tiny("gan-qp", g_head="conv")
    last = lambda m: [x for x in m.generator.modules() if isinstance(x, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))][-1]
    assert type(last(plain)) is torch.nn.ConvTranspose2d
    assert type(last(conv)) is torch.nn.Conv2d and last(conv).kernel_size == (3, 3)
    assert conv.generate(gan_noise(96, 3, sample.generator(0))).shape == (3, 1, 28, 28)
    with pytest.raises(ValueError, match="g_head"):
        BiGANConfig(g_head="pixelshuffle")


@pytest.mark.parametrize("loss", ["bce", "gan-qp"])
def test_step_changes_generator_encoder_and_discriminator(loss):
    model = tiny(loss, rec_x=1.0, rec_z=1.0).train()
    opts = bigan_optimizers(model, TrainConfig(steps=1, lr=1e-3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = bigan_step(model, opts, torch.rand(6, 1, 28, 28), None, sample.generator(0))
    after = model.state_dict()
    for part in ("generator", "encoder", "discriminator"):
        params = [k for k, _ in getattr(model, part).named_parameters()]
        unchanged = [k for k in params if torch.equal(before[f"{part}.{k}"], after[f"{part}.{k}"])]
        assert not unchanged, f"{part}: unchanged {unchanged}"
    assert set(out) == {"d_loss", "g_loss", "rec_x", "rec_z", "d_real", "d_fake"}
    assert all(math.isfinite(v) for v in out.values())
    if loss == "bce":
        assert 0 < out["d_real"] < 1 and 0 < out["d_fake"] < 1


def test_g_lr_ratio_sets_gs_own_rate():
    """g_lr_ratio = 0 holds G still while E and D learn; 1 keeps G and E in one group (as the
    runs before it, whose resume states hold one)."""
    assert len(bigan_optimizers(tiny("gan-qp"), TrainConfig(steps=1, lr=1e-3))[1].param_groups) == 1
    model = tiny("gan-qp", g_lr_ratio=0.0).train()
    opts = bigan_optimizers(model, TrainConfig(steps=1, lr=1e-3))
    assert [g["lr"] for g in opts[1].param_groups] == [0.0, 1e-3]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    bigan_step(model, opts, torch.rand(6, 1, 28, 28), None, sample.generator(0))
    after = model.state_dict()
    for part, moved in (("generator", False), ("encoder", True), ("discriminator", True)):
        names = [f"{part}.{k}" for k, _ in getattr(model, part).named_parameters()]
        assert any(not torch.equal(before[k], after[k]) for k in names) == moved, part
    with pytest.raises(ValueError, match="g_lr_ratio"):
        BiGANConfig(g_lr_ratio=-1)


def test_bce_loss_at_an_undecided_discriminator_is_log_4():
    """D's output bias set so D = ½ everywhere (weights zero): D's loss is log 4, G's 2·log 2."""
    model = tiny("bce", dropout=0.0)
    with torch.no_grad():
        model.discriminator.out.weight.zero_()
        model.discriminator.out.bias.zero_()
    opts = bigan_optimizers(model, TrainConfig(steps=1, lr=0.0))
    out = bigan_step(model, opts, torch.rand(4, 1, 28, 28), None, sample.generator(0))
    assert out["d_loss"] == pytest.approx(math.log(4), rel=1e-5)
    assert out["g_loss"] == pytest.approx(2 * math.log(2), rel=1e-5)


def test_sampling_uses_the_gans_z_and_reconstructions_have_image_shape():
    model = tiny("gan-qp").eval()
    x = bigan_sample(model, 5, sample.generator(2))
    torch.testing.assert_close(x, model.generate(gan_noise(96, 5, sample.generator(2))))
    assert x.shape == (5, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    rec = model.reconstruct(torch.rand(3, 1, 28, 28))
    assert rec.shape == (3, 1, 28, 28) and model.encode(rec).shape == (3, 96)
    out = bigan_metrics(model, torch.rand(7, 1, 28, 28), sample.generator(0), batch=4)
    assert out["n"] == 7 and 0 <= out["rec_mae"] <= 1 and out["z_rec_mse"] >= 0


def test_config_is_checked():
    with pytest.raises(ValueError, match="valid: bce, gan-qp"):
        BiGANConfig(loss="wgan-gp")
    assert registry.resolve_model("bigan")[2].loss == "gan-qp"
    assert registry.resolve_model("bigan-bce")[2].loss == "bce"


def test_cli_trains_a_tiny_bigan(idx_dir, tmp_path):
    out = tmp_path / "mnist" / "bigan"
    assert main(["train", "bigan", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "3",
                 "--batch-size", "8", "--out", str(out), "--set", "channels=4", "--set", "d_hidden=16"]) == 0
    card = checkpoints.read_card(out)
    assert card["family"] == "bigan" and {"rec_mae", "z_rec_mse"} <= set(card["metrics"])
    assert main(["eval", str(out), "--recompute", "--n", "20", "--data-dir", str(idx_dir), "--write"]) == 0
    m = checkpoints.read_card(out)["metrics"]
    assert 0 <= m["rec_class_agreement"] <= 1 and 0 <= m["linear_probe_accuracy"] <= 1
    assert 0 < m["rec_pixel_mae"] < 1 and m["fd"] > 0


def test_a_bigan_can_start_from_a_dcgan_generator(idx_dir, tmp_path, capsys):
    """--from DATASET/GAN: G starts as that GAN's generator (its shape too), E and D afresh; a GAN
    that is not DCGAN-shaped, or of another dataset, is refused with one line."""
    gan = tmp_path / "mnist" / "dcgan"
    assert main(["train", "dcgan", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "2",
                 "--batch-size", "8", "--out", str(gan), "--set", "channels=6", "--set", "g_head=conv"]) == 0
    out = tmp_path / "mnist" / "bigan"
    common = ["--dataset", "mnist", "--data-dir", str(idx_dir), "--batch-size", "8", "--set", "d_hidden=16"]
    assert main(["train", "bigan", "--from", str(gan), "--steps", "1", "--lr", "1e-9", "--ema", "0",
                 "--out", str(out), *common]) == 0
    card = checkpoints.read_card(out)
    assert card["trained_from"] == str(gan) and card["config"]["channels"] == 6 and card["config"]["g_head"] == "conv"
    teacher, student = registry.load(gan).model.generator, registry.load(out).model.generator
    for (name, a), b in zip(teacher.state_dict().items(), student.state_dict().values()):
        if a.is_floating_point() and "running" not in name:  # one step at lr 1e-9: still the GAN's
            assert torch.allclose(a, b, atol=1e-6), name
    mlp = tmp_path / "mnist" / "gan-mlp"
    assert main(["train", "gan-mlp", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "1",
                 "--batch-size", "8", "--out", str(mlp), "--set", "g_hidden=8,8", "--set", "d_hidden=8"]) == 0
    capsys.readouterr()
    assert main(["train", "bigan", "--from", str(mlp), "--steps", "1", "--out", str(tmp_path / "x"), *common]) == 2
    assert "a BiGAN's G can start from a DCGAN-style GAN" in capsys.readouterr().err
    fashion = ["--dataset", "fashion-mnist", *common[2:]]
    assert main(["train", "bigan", "--from", str(gan), "--steps", "1", "--out", str(tmp_path / "y"), *fashion]) == 2
    assert "trained on mnist, not fashion-mnist" in capsys.readouterr().err


def test_cli_reconstructs_with_any_encoder(tmp_path, capsys):
    """`genlab reconstruct` on the shipped VAE-16d: held-out images and decoder means, uint8."""
    out = tmp_path / "rec.npz"
    assert main(["reconstruct", "mnist/vae-16d", "--n", "5", "--seed", "3", "--out", str(out)]) == 0
    import numpy as np

    npz = np.load(out)
    assert npz["images"].shape == npz["reconstructions"].shape == (5, 28, 28)
    assert npz["images"].dtype == npz["reconstructions"].dtype == np.uint8
    # a VAE-16d reconstructs better than the mean image would
    err = np.abs(npz["images"] / 255 - npz["reconstructions"] / 255).mean()
    assert err < np.abs(npz["images"] / 255 - npz["images"].mean() / 255).mean()
    for bad, message in ((["mnist/dcgan"], "has no encoder"), (["mnist/vae-16d", "--n", "0"], "argument --n: must be")):
        assert main(["reconstruct", *bad, "--out", str(out)]) == 2
        assert message in capsys.readouterr().err
    # a .png: rows of up to 8 images above their reconstructions; another name gets .npz, as said
    assert main(["reconstruct", "mnist/vae-16d", "--n", "10", "--seed", "3", "--out", str(tmp_path / "r.png")]) == 0
    from PIL import Image

    picture = np.asarray(Image.open(tmp_path / "r.png"))
    assert picture.shape[0] > 4 * 28 and picture.shape[1] > 8 * 28  # 4 rows of 8 columns
    assert main(["reconstruct", "mnist/vae-16d", "--n", "2", "--out", str(tmp_path / "r2")]) == 0
    assert f"to {tmp_path / 'r2.npz'}" in capsys.readouterr().out and (tmp_path / "r2.npz").is_file()


def test_a_bigan_ships_without_its_discriminator(tmp_path):
    """G and E are all the app needs: the discriminator (half the file) can be left out of a
    shipped checkpoint; the card says so, and nothing tries to score with it."""
    from tests.conftest import save_untrained

    save_untrained(tmp_path, "bigan", "bigan", TINY)
    folder = tmp_path / "mnist" / "bigan"
    full = registry.load(folder).model
    size = (folder / checkpoints.WEIGHTS).stat().st_size
    registry.drop_parts(folder, ("discriminator",))
    assert (folder / checkpoints.WEIGHTS).stat().st_size < size
    ckpt = registry.load(folder)
    assert ckpt.card["dropped"] == ["discriminator"] and ckpt.model.dropped == ("discriminator",)
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(ckpt.model.reconstruct(x), full.reconstruct(x))
    metrics = bigan_metrics(ckpt.model, x, sample.generator(0))
    assert "rec_mae" in metrics and "d_holdout" not in metrics
    with pytest.raises(ValueError, match="needs \\['generator'\\]"):
        registry.drop_parts(folder, ("generator",))
    checkpoints.update_card(folder, dropped=["generator"])  # a card may not claim more
    with pytest.raises(checkpoints.CheckpointError, match="cannot leave out"):
        registry.load(folder)
