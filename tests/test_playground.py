"""The 2-D playground's core (#19): every family learns, one score for all, the user's points
checked, runs reproducible, and the CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from genlab import playground as pg
from genlab.metrics import energy_distance
from genlab.sample import generator
from genlab.toy import TOY_DATASETS, points_from_csv, standardize, toy_data


@pytest.fixture(scope="module")
def moons():
    return toy_data("moons", 4000, generator(0))


@pytest.mark.parametrize("family", list(pg.TOY_FAMILIES))
def test_each_family_lowers_its_loss(family, moons):
    """A tiny run lowers the loss; for the GANs, whose losses are a game's, their samples'
    energy distance to the data falls instead."""
    run = pg.ToyRun(family, moons, seed=0)
    start = pg.score(run, "moons", 500)
    run.train(300 if run.family.gan_loss else 150)
    if run.family.gan_loss:
        assert pg.score(run, "moons", 500) < 0.5 * start, family
    else:
        values = np.array([h[run.loss_name()] for h in run.history])
        assert values[-30:].mean() < values[:10].mean(), (family, values[:10].mean(), values[-30:].mean())
    samples = run.sample(500)
    assert samples.shape == (500, 2) and np.isfinite(samples).all()


def test_energy_distance_is_zero_for_identical_sets_and_grows_with_a_shift():
    x = toy_data("8gaussians", 1000, generator(1)).numpy()
    assert energy_distance(x, x) == pytest.approx(0.0, abs=1e-12)
    shifts = [energy_distance(x, x + np.array([d, 0.0])) for d in (0.1, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in zip(shifts, shifts[1:])) and shifts[0] > 0
    # the references: real vs real is far below a Gaussian fitted to the data's moments
    refs = pg.references("8gaussians")
    assert refs["real_vs_real"] < 0.1 * refs["gaussian_baseline"]


def test_runs_are_reproducible_from_data_family_steps_and_seed(moons):
    a, b, c = pg.ToyRun("gan-qp", moons, 3), pg.ToyRun("gan-qp", moons, 3), pg.ToyRun("gan-qp", moons, 4)
    for run in (a, b, c):
        run.train(40)
    assert np.array_equal(a.sample(200), b.sample(200))
    assert not np.array_equal(a.sample(200), c.sample(200))


def test_gan_steps_move_only_the_player_that_steps(moons):
    run = pg.ToyRun("gan", moons, 0)
    g0 = [p.clone() for p in run.model.generator.parameters()]
    d0 = [p.clone() for p in run.model.critic.parameters()]
    run.d_step()
    assert all(torch.equal(a, b) for a, b in zip(g0, run.model.generator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d0, run.model.critic.parameters()))
    d1 = [p.clone() for p in run.model.critic.parameters()]
    before = run.sample(100, raw=True)
    run.g_step()
    assert all(torch.equal(a, b) for a, b in zip(d1, run.model.critic.parameters()))
    assert not np.array_equal(before, run.sample(100, raw=True))
    assert [h["step"] for h in run.history] == [1, 2]
    with pytest.raises(ValueError, match="no discriminator"):
        pg.ToyRun("flow", moons, 0).d_step()


def test_fake_gradients_point_where_the_generator_loss_falls(moons):
    from genlab.families import gan

    run = pg.ToyRun("wgan-gp", moons, 0)
    run.train(30)
    z = run.noise(64, 0)
    fake, push = gan.toy_fake_gradients(run.model, z, moons[:64], "wgan-gp")
    before = gan.toy_g_loss(run.model, moons[:64], fake, "wgan-gp")
    after = gan.toy_g_loss(run.model, moons[:64], fake + 1e-3 * push, "wgan-gp")
    assert after < before


def test_maps_have_their_shapes(moons):
    lines = pg.grid_lines(lines=5, points=20)
    assert lines.shape == (10, 20, 2)
    for family in ("vae", "gan", "flow", "diffusion", "rectified-flow"):
        run = pg.ToyRun(family, moons, 0)
        run.train(5)
        assert pg.push_forward(run, lines).shape == (10, 20, 2)
    gan_run = pg.ToyRun("gan", moons, 0)
    axis, values = pg.critic_values(gan_run, n=30)
    assert values.shape == (30, 30) and ((values >= 0) & (values <= 1)).all()
    for family in ("diffusion", "rectified-flow"):
        run = pg.ToyRun(family, moons, 0)
        pts, vec = pg.velocity_field(run, 0.5, n=9)
        assert pts.shape == vec.shape == (81, 2)
        assert pg.particle_paths(run, 50, steps=20).shape == (21, 50, 2)


def test_the_noise_level_moves_the_diffusion_sampler_from_the_ode_to_the_sde(moons):
    run = pg.ToyRun("diffusion", moons, 0)
    run.train(20)
    ode_a = pg.particle_paths(run, 50, seed=1, noise=0.0, steps=20)
    ode_b = pg.particle_paths(run, 50, seed=1, noise=0.0, steps=20)
    sde = pg.particle_paths(run, 50, seed=1, noise=1.0, steps=20)
    assert np.array_equal(ode_a, ode_b)  # deterministic
    assert np.array_equal(ode_a[0], sde[0]) and not np.allclose(ode_a[-1], sde[-1])
    jitter = lambda p: np.abs(np.diff(p, 2, axis=0)).mean()  # noqa: E731
    assert jitter(sde) > 3 * jitter(ode_a)


def test_reflow_starts_from_the_flow_and_learns_its_pairs(moons):
    first = pg.ToyRun("rectified-flow", moons, 0)
    first.train(300)
    second = pg.reflow_run(first, pairs=2000)
    assert second.points.shape == (2000, 2, 2)
    assert all(torch.equal(a, b) for a, b in zip(first.net.state_dict().values(), second.net.state_dict().values()))
    second.train(300)
    assert pg.path_straightness(second) < pg.path_straightness(first)


def test_toy_data_sets_are_seeded_and_in_range():
    for name in TOY_DATASETS:
        a, b = toy_data(name, 500, generator(0)), toy_data(name, 500, generator(0))
        assert a.shape == (500, 2) and torch.equal(a, b) and a.abs().max() < 4.5
    with pytest.raises(ValueError, match="unknown toy dataset"):
        toy_data("swissroll", 10, generator(0))


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("x,y,z\n" + "1,2,3\n" * 200, "two columns"),
    ("x,y\n" + "1,a\n" * 200, "not two numeric columns"),
    ("x,y\n" + "1,2\n" * 50, "at least 100"),
    ("x,y\n" + "".join(f"{i},{i % 7}\n" for i in range(150)) + "nan,1\n", "not finite"),
    ("x,y\n" + "".join(f"{i},3\n" for i in range(150)), "on a line"),
])
def test_bad_csvs_get_clear_messages(text, message):
    with pytest.raises(ValueError, match=message):
        points_from_csv(text)


def test_good_csvs_with_or_without_header_and_semicolons():
    rows = [(np.cos(i), np.sin(i) * 2) for i in range(300)]
    plain = "\n".join(f"{x},{y}" for x, y in rows)
    assert points_from_csv(plain).shape == (300, 2)
    assert points_from_csv("x,y\n" + plain).shape == (300, 2)
    assert points_from_csv(("a;b\n" + plain.replace(",", ";")).encode()).shape == (300, 2)
    pts = standardize(points_from_csv(plain) * 100 + 50)
    assert np.allclose(pts.mean(0), 0, atol=1e-5) and pts.std() == pytest.approx(1.5, rel=1e-4)


def test_cli_toy_writes_samples_and_fresh_data_and_prints_json(tmp_path):
    out = tmp_path / "moons.npz"
    proc = subprocess.run([sys.executable, "-m", "genlab", "toy", "rectified-flow", "--data", "moons",
                           "--steps", "200", "--seed", "1", "--out", str(out), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result) == {"energy_distance", "gaussian_baseline", "real_vs_real", "seconds"}
    assert result["real_vs_real"] < result["gaussian_baseline"]
    with np.load(out) as f:
        assert f["samples"].shape == f["data"].shape == (2000, 2)
        train = toy_data("moons", 20_000, generator(1)).numpy()
        seen = {tuple(p) for p in train.tolist()}
        assert not any(tuple(p) in seen for p in f["data"].tolist())  # fresh points, not the training set
    bad = subprocess.run([sys.executable, "-m", "genlab", "toy", "gan", "--data", "moons", "--steps", "0"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "argument --steps: must be" in bad.stderr and "Traceback" not in bad.stderr
