import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence as torch_kl

from genlab import registry, sample
from genlab.families.vae import (gaussian_grid, importance_weighted_bound, kl_divergence, negative_elbo,
                                 reconstruction_nll, vae_step)
from genlab.models.vae import VAE, VAEConfig
from genlab.train import TrainConfig, adam_optimizers


def test_kl_matches_torch_distributions():
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3)
    expected = torch_kl(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0))
    torch.testing.assert_close(kl_divergence(mu, logvar), expected)
    assert kl_divergence(torch.zeros(1, 2), torch.zeros(1, 2)).abs().max() == 0


def test_bernoulli_nll_by_hand():
    logits = torch.tensor([0.0, 2.0]).repeat(392).view(1, 1, 28, 28)
    x = torch.tensor([0.25, 1.0]).repeat(392).view(1, 1, 28, 28)
    p = torch.sigmoid(torch.tensor(2.0)).item()
    by_hand = 392 * (math.log(2) - math.log(p))  # -[x log p + (1-x) log(1-p)]
    assert reconstruction_nll(logits, x).item() == pytest.approx(by_hand, rel=1e-5)


def test_elbo_is_reconstruction_plus_kl(tiny_vae):
    x = torch.rand(5, 1, 28, 28)
    loss, rec, kl = negative_elbo(tiny_vae, x, sample.generator(0))
    torch.testing.assert_close(loss, rec + kl)
    out = tiny_vae(x, sample.generator(0))  # same noise -> same z
    torch.testing.assert_close(reconstruction_nll(out.logits, x), rec)


def test_reparameterization_uses_the_generator(tiny_vae):
    x = torch.rand(3, 1, 28, 28)
    a = tiny_vae(x, sample.generator(1)).z
    b = tiny_vae(x, sample.generator(1)).z
    mu, logvar = tiny_vae.encode(x)
    eps = torch.randn(mu.shape, generator=sample.generator(1))
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, mu + (0.5 * logvar).exp() * eps)


def test_iw_bound_k1_equals_elbo_in_expectation_and_tightens(tiny_vae):
    x = torch.rand(8, 1, 28, 28)
    elbo = torch.stack([negative_elbo(tiny_vae, x, sample.generator(s))[0] for s in range(200)]).mean(0)
    iw1 = torch.stack([importance_weighted_bound(tiny_vae, x, 1, sample.generator(s))
                       for s in range(200)]).mean(0)
    torch.testing.assert_close(iw1, elbo, rtol=0.02, atol=0.5)
    iw50 = importance_weighted_bound(tiny_vae, x, 50, sample.generator(0))
    assert (iw50 <= elbo + 0.5).all()


def test_train_step_changes_weights_and_lowers_loss():
    torch.manual_seed(0)
    model = VAE(VAEConfig(latent_dim=2, hidden=(32,)))
    x = (torch.rand(64, 1, 28, 28) > 0.7).float()
    opts = adam_optimizers(model, TrainConfig(steps=1, lr=3e-3))
    before = [p.detach().clone() for p in model.parameters()]
    losses = [vae_step(model, opts, x, None, sample.generator(s))["loss"] for s in range(30)]
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert losses[-1] < losses[0] - 50


def test_interpolation():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    lin = sample.interpolate(a, b, 5, "linear")
    torch.testing.assert_close(lin[0], a)
    torch.testing.assert_close(lin[-1], b)
    torch.testing.assert_close(lin[2], (a + b) / 2)
    slerp = sample.interpolate(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), 5, "spherical")
    torch.testing.assert_close(slerp.norm(dim=1), torch.ones(5))
    torch.testing.assert_close(slerp[2], torch.tensor([1.0, 1.0]) / math.sqrt(2))
    with pytest.raises(ValueError, match="valid: linear, spherical"):
        sample.interpolate(a, b, 3, "cubic")


def test_gaussian_grid_reads_like_the_map():
    z = gaussian_grid(3)
    assert z.shape == (9, 2)
    q = Normal(0.0, 1.0).icdf(torch.tensor(0.95)).item()
    assert z[0].tolist() == pytest.approx([-q, q], rel=1e-5)  # top-left: low z1, high z2
    assert z[8].tolist() == pytest.approx([q, -q], rel=1e-5)


def test_sampling_is_reproducible(tiny_vae):
    fam = registry.get("vae")
    a = sample.sample_images(fam, tiny_vae, 4, seed=3)
    b = sample.sample_images(fam, tiny_vae, 4, seed=3)
    c = sample.sample_images(fam, tiny_vae, 4, seed=4)
    assert a.shape == (4, 28, 28) and a.dtype.name == "uint8"
    assert (a == b).all() and not (a == c).all()


def test_config_overrides():
    _, family, config = registry.resolve_model("vae-16d")
    assert config.latent_dim == 16
    config = registry.parse_override(config, "hidden=32,8")
    assert config.hidden == (32, 8)
    with pytest.raises(ValueError, match="key=value"):
        registry.parse_override(config, "bogus=1")
    with pytest.raises(ValueError, match="unknown config fields"):
        family.config_from_dict({"latent_dim": 2, "depth": 3})
