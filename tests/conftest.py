import os

import numpy as np
import pytest
import torch

from genlab.data import write_idx

# AppTest runs no JavaScript: pages draw whole in one run (below the fold and closed expanders
# too). Browser tests serve the app as people get it (benchmarks.browser.streamlit_server).
os.environ.setdefault("GENLAB_DEFER_BELOW_FOLD", "0")


@pytest.fixture(autouse=True)
def _fresh_caches_after_a_checkpoints_swap(monkeypatch):
    """A test that points checkpoints.ROOT elsewhere leaves Streamlit's cached catalogue of that
    folder behind; clear it, so the tests after it see the shipped checkpoints whatever their
    order. (Requesting monkeypatch here tears this fixture down before the patch is undone.)"""
    from genlab import checkpoints

    before = (checkpoints.ROOT, list(checkpoints.EXTRA_ROOTS))
    yield
    if (checkpoints.ROOT, list(checkpoints.EXTRA_ROOTS)) != before:
        import streamlit as st

        st.cache_data.clear()


def make_idx_set(folder, n_train=64, n_test=32, names=("train", "t10k"), gz=True, seed=0):
    """Random IDX files in the official layout (small), for data and CLI tests."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    for prefix, n in zip(names, (n_train, n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", rng.integers(0, 10, n))
    return folder


@pytest.fixture
def idx_dir(tmp_path):
    return make_idx_set(tmp_path / "data")


@pytest.fixture
def tiny_vae():
    from genlab.models.vae import VAE, VAEConfig

    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=2, hidden=(16,))).eval()


def save_untrained(root, name: str, family: str, config: dict, dataset: str = "mnist"):
    """Save an untrained model of ``family`` with ``config`` as ``root/dataset/name`` (seed 0)."""
    from genlab import checkpoints, registry

    spec = registry.get(family)
    cfg = spec.config_from_dict(config)
    torch.manual_seed(0)
    model = spec.model(cfg)
    card = {"family": family, "name": name, "dataset": dataset, "config": cfg.__dict__,
            "split": {"name": "test"}, "training": {"steps": 0, "epochs": 0, "wall_time_s": 0},
            "metrics": {}}
    checkpoints.save(root / dataset / name, model.state_dict(), card)


@pytest.fixture(scope="session")
def tiny_ddpm_root(tmp_path_factory):
    """A checkpoints folder with a tiny (untrained) DDPM for MNIST: exercises the diffusion
    page's reverse-process UI without the shipped model."""
    root = tmp_path_factory.mktemp("checkpoints")
    save_untrained(root, "ddpm", "ddpm", {"channels": [8, 8, 16], "groups": 4, "time_dim": 16})
    return root


@pytest.fixture(scope="session")
def tiny_flow_root(tmp_path_factory):
    """A checkpoints folder with tiny untrained RealNVP and NICE flows for MNIST: exercises the
    /flows page without trained flows."""
    root = tmp_path_factory.mktemp("flow-checkpoints")
    save_untrained(root, "realnvp", "flow", {"architecture": "realnvp", "channels": [8, 8, 8],
                                             "couplings": 2})
    save_untrained(root, "nice", "flow", {"architecture": "nice", "couplings": 4, "mlp_width": 16,
                                          "mlp_layers": 2, "actnorm": False, "invconv": False})
    return root


@pytest.fixture(scope="session")
def tiny_pixelcnn_root(tmp_path_factory):
    """A checkpoints folder with a tiny untrained binarized PixelCNN for MNIST (held-out NLL
    in its card): exercises the /autoregressive page without a trained model."""
    from genlab import checkpoints

    root = tmp_path_factory.mktemp("pixelcnn-checkpoints")
    save_untrained(root, "pixelcnn", "pixelcnn", {"channels": 8, "blocks": 2, "first_kernel": 5,
                                                  "head": 8})
    checkpoints.update_card(root / "mnist" / "pixelcnn",
                            metrics={"nll_nats": 543.2, "bits_per_dim": 0.9996, "levels": 2, "n": 2000})
    return root


@pytest.fixture(scope="session")
def tiny_gan_root(tmp_path_factory):
    """A checkpoints folder with the three GAN variants for MNIST, tiny and trained for 8 steps
    on random images by the CLI (so each has its snapshots.npz and train_log.json), plus the
    shipped MNIST classifier and vae-16d: exercises the /gans page without trained GANs."""
    import shutil
    from pathlib import Path

    from genlab import checkpoints
    from genlab.__main__ import main

    root = tmp_path_factory.mktemp("gan-checkpoints")
    data = make_idx_set(tmp_path_factory.mktemp("gan-data"))
    tiny = {"gan-mlp": ["g_hidden=16,16", "d_hidden=16"], "dcgan": ["channels=4"],
            "wgan-gp": ["channels=4", "n_critic=2"]}
    for name, overrides in tiny.items():
        sets = [a for o in overrides for a in ("--set", o)]
        assert main(["train", name, "--dataset", "mnist", "--data-dir", str(data), "--steps", "8",
                     "--batch-size", "8", "--out", str(root / "mnist" / name), "--no-download",
                     *sets]) == 0
    shipped = Path(checkpoints.__file__).resolve().parent.parent / "checkpoints" / "mnist"
    for name in ("classifier", "vae-16d"):
        shutil.copytree(shipped / name, root / "mnist" / name)
    return root


@pytest.fixture(scope="session")
def tiny_transport_root(tmp_path_factory):
    """A checkpoints folder with a tiny untrained DDPM and a tiny class-conditional rectified
    flow for MNIST: exercises the /transport page without the trained models."""
    root = tmp_path_factory.mktemp("transport-checkpoints")
    save_untrained(root, "ddpm", "ddpm", {"channels": [8, 8, 16], "groups": 4, "time_dim": 16})
    save_untrained(root, "rectified-flow", "rectified-flow",
                   {"channels": [8, 8, 16], "groups": 4, "time_dim": 16, "num_classes": 10})
    images = np.random.default_rng(0).integers(0, 256, (2, 64, 28, 28), dtype=np.uint8)
    np.savez_compressed(root / "mnist" / "rectified-flow" / "snapshots.npz", steps=np.array([0, 8]),
                        seed=np.int64(0), images=images)
    return root


@pytest.fixture(scope="session")
def tiny_bigan_root(tmp_path_factory):
    """A checkpoints folder with a tiny untrained BiGAN and VAE-16d for MNIST: exercises the
    /bigan page without the trained models."""
    root = tmp_path_factory.mktemp("bigan-checkpoints")
    save_untrained(root, "bigan", "bigan", {"channels": 4, "d_hidden": 16})
    save_untrained(root, "vae-16d", "vae", {"latent_dim": 16, "hidden": [32]})
    return root
