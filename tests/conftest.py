import numpy as np
import pytest
import torch

from genlab.data import write_idx


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
