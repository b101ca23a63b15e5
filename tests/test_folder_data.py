"""#22, bring your own data: ``genlab train … --dataset images --data-dir DIR`` on a folder of
PNG/JPG images (flat, or one subfolder per class), converted as an upload is, split with a
recorded seed; the checkpoint is in the zoo under the folder's name, with samples; pages say when
there are no class labels; bad folders get a message listing what was skipped."""

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from genlab import checkpoints, data
from genlab.__main__ import main
from tests.test_app import ROOT, TIMEOUT


def image_folder(root, *, classes=("tops", "shoes"), per_class=15, flat=0):
    """A folder of white-background PNG/JPG drawings of held-out MNIST digits (as a phone photo
    of a drawing would be), one subfolder per class, plus files that must be skipped."""
    held = data.load_bundled("mnist")
    k = 0
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            suffix = ".png" if i % 2 else ".jpg"
            Image.fromarray(255 - held.images[k]).resize((56, 56)).save(root / c / f"{i}{suffix}")
            k += 1
    root.mkdir(parents=True, exist_ok=True)
    for i in range(flat):
        Image.fromarray(held.images[k + i]).save(root / f"flat{i}.png")
    (root / "notes.txt").write_text("not an image")
    if classes:
        (root / classes[0] / "broken.png").write_bytes(b"\x89PNG truncated")
        (root / classes[0] / "empty.jpg").write_bytes(b"")
    return root


def test_a_class_folder_becomes_a_dataset_with_a_seeded_split(tmp_path):
    folder = image_folder(tmp_path / "My Clothes")
    splits, skipped = data.read_image_folder(folder, seed=3)
    assert splits.name == "my-clothes"
    assert splits.split["classes"] == ["shoes", "tops"]  # sorted subfolder names
    assert splits.split["seed"] == 3 and splits.split["holdout_size"] == 3  # 10% of 30
    assert len(splits.train.labels) + len(splits.holdout.labels) == 30
    assert splits.train.images.shape[1:] == (28, 28) and splits.train.images.dtype == np.uint8
    assert splits.train.images[:, 0, :].max() < 40  # ink light on black, centred: the border is dark
    assert len(skipped) == 3 and skipped[0] == "notes.txt: not in a class folder"
    assert any(s.startswith("tops/broken.png: ") for s in skipped) and "tops/empty.jpg: The file is empty." in skipped
    again, _ = data.read_image_folder(folder, seed=3)
    assert np.array_equal(again.holdout.images, splits.holdout.images)  # the seed fixes the split
    other, _ = data.read_image_folder(folder, seed=4)
    assert not np.array_equal(other.holdout.images, splits.holdout.images)


def test_a_flat_folder_has_no_labels(tmp_path):
    folder = image_folder(tmp_path / "scribbles", classes=(), flat=25)
    splits, skipped = data.read_image_folder(folder)
    assert splits.split["classes"] is None and set(splits.train.labels) == {data.NO_LABEL}
    assert skipped == ["notes.txt: not a PNG or JPG"]


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "is not a folder"),
    (lambda p: (p.mkdir(), p)[1], "0 readable images, at least 20 needed"),
    (lambda p: image_folder(p, classes=(), flat=5), "5 readable images, at least 20 needed"), (lambda p: image_folder(p, classes=(), flat=5), "skipped:\n  - notes.txt: not a PNG or JPG"),
])
def test_a_bad_folder_says_what_is_wrong(tmp_path, capsys, make, message):
    folder = make(tmp_path / "bad")
    with pytest.raises(data.DataNotFoundError) as err:
        data.read_image_folder(folder)
    assert message in str(err.value)
    assert main(["train", "vae-2d", "--dataset", "images", "--data-dir", str(folder), "--steps", "1",
                 "--root", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err


def test_cli_arguments_for_a_folder(tmp_path, capsys):
    assert main(["train", "vae-2d", "--dataset", "images", "--steps", "1"]) == 2
    assert "--dataset images needs --data-dir" in capsys.readouterr().err
    assert main(["train", "vae-2d", "--dataset", "mnist", "--name", "x", "--steps", "1"]) == 2
    assert "--name names a folder dataset" in capsys.readouterr().err
    folder = image_folder(tmp_path / "mnist")
    assert main(["train", "vae-2d", "--dataset", "images", "--data-dir", str(folder), "--steps", "1"]) == 2
    assert "'mnist' is a built-in dataset's name; pass another with --name" in capsys.readouterr().err


@pytest.fixture(scope="module")
def folder_root(tmp_path_factory):
    """Checkpoints trained by the CLI on two folders: 'letters' (2 classes: a VAE and a GAN) and
    'scribbles' (no classes: a VAE)."""
    tmp = tmp_path_factory.mktemp("byo")
    root = tmp / "checkpoints"
    labelled = image_folder(tmp / "letters")
    flat = image_folder(tmp / "scribbles", classes=(), flat=220)
    for folder, model, extra in ((labelled, "vae-2d", ["--set", "hidden=16"]), (labelled, "gan-mlp", []),
                                 (flat, "vae-2d", ["--set", "hidden=16"])):
        assert main(["train", model, "--dataset", "images", "--data-dir", str(folder), "--steps", "3",
                     "--batch-size", "8", "--out", str(root / folder.name / model), *extra]) == 0
    return root


def test_the_cli_trains_samples_and_lists_a_folder_checkpoint(folder_root, tmp_path, monkeypatch, capsys):
    folder = folder_root / "letters" / "vae-2d"
    card = checkpoints.read_card(folder)
    assert card["dataset"] == "letters" and card["split"]["classes"] == ["shoes", "tops"]
    assert card["split"]["seed"] == 0 and "2 classes" in card["split"]["description"]
    with np.load(folder / data.HOLDOUT_FILE) as npz:
        assert npz["images"].shape == (3, 28, 28) and list(npz["classes"]) == ["shoes", "tops"]
    monkeypatch.setattr(checkpoints, "EXTRA_ROOTS", [folder_root])
    assert data.custom_datasets() == ["letters", "scribbles"]
    assert data.class_names("scribbles") == (data.NO_LABEL_NAME,)
    assert len(data.load_bundled("letters").labels) == 3
    assert main(["sample", "letters/vae-2d", "--n", "4", "--out", str(tmp_path / "s.npz")]) == 0
    assert np.load(tmp_path / "s.npz")["images"].shape == (4, 28, 28)
    assert main(["list"]) == 0
    assert "letters/gan-mlp" in capsys.readouterr().out


def app_on(folder_root, monkeypatch, path: str, dataset: str) -> AppTest:
    monkeypatch.setattr(checkpoints, "EXTRA_ROOTS", [folder_root])
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)
    at.session_state["dataset"] = dataset
    return at.run()


def test_the_zoo_shows_a_folder_dataset_with_samples(folder_root, monkeypatch):
    at = app_on(folder_root, monkeypatch, "pages/home.py", "letters")
    assert not at.exception
    assert any("Model zoo · letters (your images)" in h.value for h in at.subheader)
    text = " ".join(m.value for m in at.markdown)
    assert "**vae-2d**" in text and "**gan-mlp**" in text
    assert len(at.get("image")) == 2  # a sample grid per model


def test_the_sidebar_offers_folder_datasets_and_says_when_there_are_no_labels(folder_root, monkeypatch):
    at = app_on(folder_root, monkeypatch, "app.py", "scribbles")
    assert not at.exception
    picker = at.sidebar.radio[0]
    assert picker.label == "Dataset" and list(picker.options)[2:] == ["letters (your images)",
                                                                       "scribbles (your images)"]
    notes = " ".join(c.value for c in at.sidebar.caption)
    assert "No class labels" in notes


@pytest.mark.parametrize("name", ["vae", "gans", "projections", "diffusion", "transport", "bigan"])
def test_every_page_runs_on_a_folder_dataset(folder_root, monkeypatch, name):
    for dataset in ("letters", "scribbles"):
        at = app_on(folder_root, monkeypatch, f"pages/{name}.py", dataset)
        assert not at.exception, (dataset, [e.message for e in at.exception])
        shown = " ".join(m.value for m in [*at.info, *at.warning])
        assert "python -m genlab train" not in shown or "--dataset images" in shown  # the right command
