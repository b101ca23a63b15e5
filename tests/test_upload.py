"""#22, bring your own checkpoint: an upload is checked exactly as a shipped checkpoint is
loaded, kept for the session's pages, and every bad upload is refused with what is wrong."""

import io
import json

import pytest
import torch

from genlab import checkpoints, registry
from genlab.__main__ import main


@pytest.fixture
def trained(idx_dir, tmp_path_factory):
    """A tiny VAE trained for a few steps with `genlab train`: (card bytes, weights bytes)."""
    out = tmp_path_factory.mktemp("trained") / "mnist" / "vae-2d"
    assert main(["train", "vae-2d", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "3",
                 "--batch-size", "8", "--set", "hidden=16", "--out", str(out), "--no-download"]) == 0
    return (out / checkpoints.CARD).read_bytes(), (out / checkpoints.WEIGHTS).read_bytes()


def test_an_upload_round_trips_to_the_same_model(trained, tmp_path):
    card, weights = trained
    folder = registry.install_upload(card, weights, tmp_path)
    assert folder.parent == tmp_path / "mnist" and folder.name.startswith("vae-2d-uploaded-")
    model = registry.load(folder).model
    assert model.config.hidden == (16,)
    x = torch.rand(2, 1, 28, 28)
    assert torch.equal(model.encode(x)[0], model.encode(x)[0])
    assert (folder / checkpoints.CARD).read_bytes() == card
    assert list(tmp_path.glob("tmp*")) == []  # the temporary folder is gone


def bad_uploads(card: bytes, weights: bytes) -> dict:
    parsed = json.loads(card)
    tampered = bytearray(weights)
    tampered[-1] ^= 0xFF
    pickled = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, pickled)
    pickle_card = {**parsed, "sha256": __import__("hashlib").sha256(pickled.getvalue()).hexdigest()}
    return {
        "tampered weights": (card, bytes(tampered), "does not match the card"),
        "a pickle renamed": (json.dumps(pickle_card).encode(), pickled.getvalue(), "not a readable safetensors"),
        "unknown family": (json.dumps({**parsed, "family": "transformer"}).encode(), weights, "transformer"),
        "other shapes": (json.dumps({**parsed, "config": {**parsed["config"], "hidden": [32]}}).encode(),
                         weights, "weights do not fit"),
        "unknown dataset": (json.dumps({**parsed, "dataset": "cifar10"}).encode(), weights, "cifar10"),
        "not JSON": (b"\x89PNG...", weights, "not valid JSON"),
        "a card without sha256": (json.dumps({k: v for k, v in parsed.items() if k != "sha256"}).encode(),
                                  weights, "missing the field 'sha256'"),
        "empty weights": (card, b"", "model.safetensors is empty"),
    }


@pytest.mark.parametrize("case", ["tampered weights", "a pickle renamed", "unknown family", "other shapes",
                                  "unknown dataset", "not JSON", "a card without sha256", "empty weights"])
def test_bad_uploads_are_refused_with_what_is_wrong(trained, tmp_path, case):
    card, weights, why = bad_uploads(*trained)[case]
    with pytest.raises(checkpoints.CheckpointError, match=why) as caught:
        registry.install_upload(card, weights, tmp_path)
    assert str(tmp_path) not in str(caught.value)  # names the file, not a temporary folder
    assert not any(tmp_path.rglob("*.safetensors"))  # nothing kept


def test_an_oversized_upload_is_refused_before_it_is_read(trained, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(checkpoints.CheckpointError, match="the limit is"):
        registry.install_upload(*trained, tmp_path)
