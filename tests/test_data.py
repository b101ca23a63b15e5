import numpy as np
import pytest

from genlab import data
from tests.conftest import make_idx_set


@pytest.fixture(autouse=True)
def no_env(monkeypatch, tmp_path):
    monkeypatch.delenv("GENLAB_DATA", raising=False)
    monkeypatch.setattr(data, "_DEBIAN_ROOT", tmp_path / "no-debian")


def test_idx_round_trip(tmp_path):
    a = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    for name in ("x.idx", "x.idx.gz"):
        data.write_idx(tmp_path / name, a)
        np.testing.assert_array_equal(data.read_idx(tmp_path / name), a)


def test_not_idx_is_rejected(tmp_path):
    (tmp_path / "bad").write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        data.read_idx(tmp_path / "bad")


@pytest.mark.parametrize("layout", ["", "raw", "fashion-mnist", "FashionMNIST/raw"])
@pytest.mark.parametrize("gz", [True, False])
def test_locate_layouts(tmp_path, layout, gz):
    make_idx_set(tmp_path / layout, gz=gz)
    kind, files = data.locate("fashion-mnist", tmp_path, download=False)
    assert kind == "official"
    assert files["train_images"].name.endswith(".gz") == gz


def test_env_variable_is_used(tmp_path, monkeypatch):
    make_idx_set(tmp_path / "env")
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "env"))
    assert data.locate("mnist", None, download=False)[0] == "official"


def test_debian_path_is_used(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_DEBIAN_ROOT", tmp_path / "debian")
    make_idx_set(tmp_path / "debian" / "fashion-mnist")
    assert data.locate("fashion-mnist", None, download=False)[0] == "official"


def test_missing_data_names_every_place(tmp_path):
    with pytest.raises(data.DataNotFoundError) as err:
        data.locate("mnist", tmp_path / "nowhere", download=False)
    message = str(err.value)
    assert str(tmp_path / "nowhere") in message
    assert str(tmp_path / "nowhere" / "MNIST" / "raw") in message
    assert "no-debian" in message


def test_failed_download_is_reported(tmp_path, monkeypatch):
    def offline(dataset, root):
        raise OSError("network unreachable")

    monkeypatch.setattr(data, "_torchvision_download", offline)
    monkeypatch.setenv("GENLAB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(data.DataNotFoundError, match="network unreachable"):
        data.locate("mnist", tmp_path / "nowhere", download=True)


def test_mnist_subset_split(tmp_path):
    make_idx_set(tmp_path, n_train=50, n_test=10000, names=("train-5k", "t10k"))
    splits = data.load("mnist", tmp_path, download=False)
    assert splits.split["name"] == "mnist-subset"
    assert len(splits.train.labels) == 50 + 8000 and len(splits.holdout.labels) == 2000
    t10k = data.read_idx(tmp_path / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(splits.holdout.images, t10k[8000:])
    assert splits.split["train_size"] == 8050 and splits.split["holdout_size"] == 2000


@pytest.mark.parametrize("dataset", data.DATASETS)
def test_bundled_sample(dataset):
    split = data.load_bundled(dataset)
    assert split.images.shape == (2000, 28, 28) and split.images.dtype == np.uint8
    assert set(np.unique(split.labels)) == set(range(10))


@pytest.mark.parametrize("dataset", data.DATASETS)
def test_bundled_train_sample(dataset):
    """5,000 seeded random train images for nearest-neighbour checks, small enough to ship."""
    split = data.load_bundled(dataset, "train")
    assert split.images.shape == (5000, 28, 28) and split.images.dtype == np.uint8
    assert set(np.unique(split.labels)) == set(range(10))
    with np.load(data.bundled_path(dataset, "train")) as npz:
        idx = npz["indices"]
    assert (np.diff(idx) > 0).all()  # distinct, in split order
    assert data.bundled_path(dataset, "train").stat().st_size < 2.5e6
    with pytest.raises(ValueError, match="valid: holdout, train"):
        data.bundled_path(dataset, "test")


def test_unknown_dataset():
    with pytest.raises(ValueError, match="valid: mnist, fashion-mnist"):
        data.locate("cifar", None, download=False)
