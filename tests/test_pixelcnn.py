import math

import numpy as np
import pytest
import torch

from genlab import checkpoints, registry, sample
from genlab.__main__ import main
from genlab.families.pixelcnn import (RasterCache, TwoStackRasterCache, nll, pixelcnn_complete, pixelcnn_metrics,
                                     pixelcnn_sample, pixelcnn_step, quantize, raster_cache, receptive_field)
from genlab.models.pixelcnn import MaskedConv2d, PixelCNN, PixelCNNConfig, causal_mask
from genlab.train import TrainConfig, adam_optimizers

SIZE = 8  # tiny images keep the per-pixel gradient checks fast


def tiny(levels: int = 2, seed: int = 0, size: int = SIZE, stacks: int = 1) -> PixelCNN:
    torch.manual_seed(seed)
    return PixelCNN(PixelCNNConfig(levels=levels, channels=8, blocks=2, first_kernel=5, head=8,
                                   image_size=size, stacks=stacks)).eval()


def test_masks_by_hand():
    assert causal_mask(3, "A").tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert causal_mask(3, "B").tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match="valid: A, B"):
        causal_mask(3, "C")


def dependence(net, size: int) -> torch.Tensor:
    """(P, P) with [i, j] = |∂ out_i / ∂ in_j| summed over channels, raster order, P = size²."""
    x = torch.rand(1, 1, size, size, requires_grad=True)
    out = net(x)
    rows = []
    for i in range(size * size):
        r, c = divmod(i, size)
        (grad,) = torch.autograd.grad(out[0, :, r, c].sum(), x, retain_graph=True)
        rows.append(grad.abs().flatten())
    return torch.stack(rows)


@pytest.mark.parametrize("which", ["type A layer", "whole net", "two-stack net"])
def test_output_i_depends_only_on_inputs_before_i(which):
    torch.manual_seed(0)
    net = (MaskedConv2d(1, 4, 5, "A") if which == "type A layer"
           else tiny(stacks=2 if which == "two-stack net" else 1))
    dep = dependence(net, SIZE)
    assert dep.triu().abs().max() == 0  # j ≥ i (the diagonal included): no gradient at all
    strictly_before = dep.tril(-1) > 0
    assert strictly_before[1:].any(1).all()  # every pixel but the first sees some earlier pixel
    assert strictly_before[SIZE + 3, SIZE + 2] and strictly_before[SIZE + 3, 3]  # left, above


def test_receptive_field_matches_the_gradients_and_shows_the_blind_spot():
    model = tiny()
    dep = dependence(model, SIZE) > 0
    fields = torch.stack([receptive_field(model, *divmod(i, SIZE)).flatten() for i in range(SIZE ** 2)])
    assert torch.equal(fields, dep)
    field = receptive_field(model, 5, 2)
    assert field[5, :2].all() and not field[5, 2:].any() and not field[6:].any()
    assert field[4, 2] and not field[4, 7]  # the blind spot: up-right, out of reach


def test_two_stacks_have_no_blind_spot():
    """The gated PixelCNN's vertical and horizontal stacks: the receptive field (worked out
    from the layers' shapes) equals the gradients', and covers every earlier pixel within
    the net's reach R (R rows up, R columns either side, R to the left on the row)."""
    model = tiny(stacks=2)
    dep = dependence(model, SIZE) > 0
    fields = torch.stack([receptive_field(model, *divmod(i, SIZE)).flatten() for i in range(SIZE ** 2)])
    assert torch.equal(fields, dep)
    reach = model.receptive_rows
    rows, cols = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    for i in range(SIZE ** 2):
        row, col = divmod(i, SIZE)
        above = (rows < row) & (rows >= row - reach) & ((cols - col).abs() <= reach)
        left = (rows == row) & (cols < col) & (cols >= col - reach)
        assert torch.equal(fields[i].view(SIZE, SIZE), above | left), (row, col)
    with pytest.raises(ValueError, match="stacks must be 1"):
        PixelCNNConfig(stacks=3)


def test_type_b_sees_the_centre():
    torch.manual_seed(0)
    dep = dependence(MaskedConv2d(1, 4, 3, "B"), 4)
    assert (dep.diagonal() > 0).all() and dep.triu(1).max() == 0


def test_nll_is_the_sum_of_per_pixel_cross_entropies():
    model = tiny(levels=2)
    x = quantize(torch.rand(2, 1, SIZE, SIZE), 2, sample.generator(0))
    logits = model(x)
    by_hand = []
    for b in range(2):
        total = 0.0
        for r in range(SIZE):
            for c in range(SIZE):
                l0, l1 = logits[b, 0, r, c].item(), logits[b, 1, r, c].item()
                p1 = math.exp(l1) / (math.exp(l0) + math.exp(l1))  # a Bernoulli with logit l1 − l0
                total -= math.log(p1) if x[b, 0, r, c] == 1 else math.log(1 - p1)
        by_hand.append(total)
    torch.testing.assert_close(nll(logits, x), torch.tensor(by_hand), rtol=1e-5, atol=1e-4)
    # uniform predictions: log 2 nats per binary pixel, log 256 per 8-bit pixel
    assert nll(torch.zeros(1, 2, 28, 28), x[:1, :, :1, :1].expand(1, 1, 28, 28)).item() == \
        pytest.approx(784 * math.log(2))
    assert nll(torch.zeros(1, 256, 2, 2), torch.full((1, 1, 2, 2), 17 / 255)).item() == \
        pytest.approx(4 * math.log(256))


def test_nll_256_levels_picks_the_right_class():
    logits = torch.zeros(1, 256, 1, 1)
    logits[0, 200, 0, 0] = 5.0
    x = quantize(torch.full((1, 1, 1, 1), 200 / 255), 256)
    expected = -(5.0 - math.log(255 + math.exp(5.0)))
    assert nll(logits, x).item() == pytest.approx(expected, rel=1e-6)


def test_quantize():
    x = torch.tensor([0.0, 0.3, 0.5, 1.0])
    assert quantize(x, 2).tolist() == [0.0, 0.0, 1.0, 1.0]  # no generator: threshold at 0.5
    draws = quantize(torch.full((10000,), 0.3), 2, sample.generator(0))
    assert set(draws.unique().tolist()) == {0.0, 1.0}
    assert draws.mean().item() == pytest.approx(0.3, abs=0.02)
    assert torch.equal(quantize(torch.full((5,), 0.3), 2, sample.generator(1)),
                       quantize(torch.full((5,), 0.3), 2, sample.generator(1)))
    assert quantize(torch.tensor([77 / 255]), 256).item() == pytest.approx(77 / 255)


@pytest.mark.parametrize("levels", [2, 256])
@pytest.mark.parametrize("start", [0, 5 * 12 + 7, 3 * 12])
@pytest.mark.parametrize("stacks", [1, 2])
def test_raster_cache_gives_the_full_image_logits(levels, start, stacks):
    """Filling the canvas pixel by pixel, the cache's logits at each pixel equal the full net's
    on the finished image (each depends only on the pixels before it)."""
    model = tiny(levels, size=12, stacks=stacks)
    assert model.receptive_rows == 2 + 2
    x = quantize(torch.rand(2, 1, 12, 12), levels, sample.generator(0))
    with torch.inference_mode():
        full = model(x)
        canvas = x.clone().flatten(2)
        canvas[:, :, start:] = 0  # unknown pixels: whatever value, they must not leak
        cache = raster_cache(model, canvas.view_as(x))
        assert isinstance(cache, TwoStackRasterCache if stacks == 2 else RasterCache)
        for i in range(start, 12 * 12):
            row, col = divmod(i, 12)
            torch.testing.assert_close(cache.logits(row, col), full[:, :, row, col])
            cache.set(row, col, x[:, 0, row, col])


@pytest.mark.parametrize("stacks", [1, 2])
def test_sampling_is_deterministic_per_seed_and_reports_each_pixel(stacks):
    model = tiny(stacks=stacks)
    seen = []
    a = pixelcnn_sample(model, 3, sample.generator(0),
                               on_pixel=lambda i, probs, x: seen.append((i, probs.sum(1))))
    b = pixelcnn_sample(model, 3, sample.generator(0))
    c = pixelcnn_sample(model, 3, sample.generator(1))
    assert a.shape == (3, 1, SIZE, SIZE) and set(a.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert [i for i, _ in seen] == list(range(SIZE * SIZE))
    torch.testing.assert_close(torch.stack([s for _, s in seen]), torch.ones(SIZE * SIZE, 3))
    family = registry.get("pixelcnn")
    images = sample.sample_images(family, model, 2, seed=4)
    assert images.dtype == np.uint8 and set(np.unique(images)) <= {0, 255}


def test_completion_keeps_the_upper_half():
    model = tiny(levels=256)
    images = torch.rand(2, 1, SIZE, SIZE)
    out = pixelcnn_complete(model, images, SIZE // 2, sample.generator(0))
    kept = quantize(images, 256)[:, :, :SIZE // 2]
    assert torch.equal(out[:, :, :SIZE // 2], kept)
    assert not torch.equal(out[:, :, SIZE // 2:], quantize(images, 256)[:, :, SIZE // 2:])
    again = pixelcnn_complete(model, images, SIZE // 2, sample.generator(0))
    assert torch.equal(out, again)


@pytest.mark.parametrize("stacks", [1, 2])
def test_train_step_lowers_nll_and_metrics_match(stacks):
    model = tiny(stacks=stacks).train()
    x = (torch.arange(SIZE) % 2).float().expand(32, 1, SIZE, SIZE)  # stripes: learnable
    opts = adam_optimizers(model, TrainConfig(steps=1, lr=1e-2))
    losses = [pixelcnn_step(model, opts, x, None, sample.generator(s))["nats"] for s in range(20)]
    assert losses[-1] < losses[0] - 5
    model.eval()
    out = pixelcnn_metrics(model, x, sample.generator(3), batch=10)
    xq = quantize(x, 2, sample.generator(3))
    assert out["nll_nats"] == pytest.approx(nll(model(xq), xq).mean().item(), abs=1e-3)
    assert out["bits_per_dim"] == pytest.approx(out["nll_nats"] / (SIZE * SIZE * math.log(2)), abs=1e-4)


def test_cli_train_and_eval(idx_dir, tmp_path, capsys):
    out = tmp_path / "mnist" / "pixelcnn"
    assert main(["train", "pixelcnn", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "2",
                 "--out", str(out), "--set", "channels=8", "--set", "blocks=1", "--set", "head=8",
                 "--batch-size", "16", "--no-download"]) == 0
    card = checkpoints.read_card(out)
    assert card["family"] == "pixelcnn" and card["metrics"]["levels"] == 2
    assert 0 < card["metrics"]["nll_nats"] < 784 * math.log(2) + 50
    capsys.readouterr()
    assert main(["eval", str(out)]) == 0
    assert '"nll_nats"' in capsys.readouterr().out
    assert main(["sample", str(out), "--temperature", "0.5", "--out", str(tmp_path / "x.npz")]) == 2


def test_sample_cli_writes_a_preview_the_app_takes_for_those_weights_only(tiny_pixelcnn_root, tmp_path):
    folder = tiny_pixelcnn_root / "mnist" / "pixelcnn"
    out = tmp_path / "pixelcnn" / sample.PREVIEW_FILE
    assert main(["sample", "mnist/pixelcnn", "--root", str(tiny_pixelcnn_root), "--n", "3",
                 "--seed", "4", "--out", str(out)]) == 0
    sha = checkpoints.read_card(folder)["sha256"]
    ckpt = registry.load(folder)
    again = sample.sample_images(registry.get("pixelcnn"), ckpt.model, 3, 4)
    assert np.array_equal(sample.shipped_preview(out.parent, sha, 3, 4), again)
    # other weights, another seed or another count: sample anew
    for args in ((sha[::-1], 3, 4), (sha, 3, 5), (sha, 2, 4)):
        assert sample.shipped_preview(out.parent, *args) is None
    assert sample.shipped_preview(folder, sha, 3, 4) is None  # no preview there


def test_shipped_previews_are_the_samples_of_their_weights():
    """Every preview.npz shipped in checkpoints/ is what its checkpoint samples for that seed."""
    previews = [f / sample.PREVIEW_FILE for f in checkpoints.find_all() if (f / sample.PREVIEW_FILE).is_file()]
    for path in previews:
        ckpt = registry.load(path.parent)
        with np.load(path) as npz:
            images, seed, sha = npz["images"], int(npz["seed"]), str(npz["sha256"])
        assert sha == ckpt.card["sha256"], f"{path} is of other weights"
        family = registry.get(ckpt.card["family"])
        assert np.array_equal(sample.sample_images(family, ckpt.model, len(images), seed), images), path


def test_two_stack_dropout_acts_only_while_training():
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig(channels=8, blocks=2, first_kernel=5, head=8, image_size=SIZE,
                                    stacks=2, dropout=0.5))
    x = quantize(torch.rand(2, 1, SIZE, SIZE), 2, sample.generator(0))
    assert not torch.equal(model.train()(x), model(x))  # a new mask each pass
    assert torch.equal(model.eval()(x), model(x))
