import json
import os
import pickle
from pathlib import Path

import pytest
import torch

from genlab import checkpoints, registry
from genlab.models.vae import VAE


def card_for(model):
    return {"family": "vae", "name": "tiny", "dataset": "mnist",
            "config": {"latent_dim": 2, "hidden": [16], "image_size": 28},
            "split": {"name": "test"}, "training": {"steps": 0}, "metrics": {"neg_elbo": 1.0}}


def test_round_trip(tmp_path, tiny_vae):
    folder = checkpoints.save(tmp_path / "mnist" / "tiny", tiny_vae.state_dict(), card_for(tiny_vae))
    ckpt = registry.load(folder)
    assert isinstance(ckpt.model, VAE) and not ckpt.model.training
    for name, tensor in tiny_vae.state_dict().items():
        torch.testing.assert_close(ckpt.model.state_dict()[name], tensor, rtol=0, atol=0)
    card = json.loads((folder / "card.json").read_text())
    assert card["sha256"] == checkpoints.sha256_file(folder / "model.safetensors")
    assert card["id"] == "mnist/tiny" and card["schema"] == 1 and card["date"]
    assert checkpoints.resolve("mnist/tiny", tmp_path) == folder
    assert checkpoints.find_all(tmp_path) == [folder]


def test_tampered_weights_rejected(tmp_path, tiny_vae):
    folder = checkpoints.save(tmp_path / "ck", tiny_vae.state_dict(), card_for(tiny_vae))
    raw = bytearray((folder / "model.safetensors").read_bytes())
    raw[-1] ^= 0xFF
    (folder / "model.safetensors").write_bytes(bytes(raw))
    with pytest.raises(checkpoints.CheckpointError, match="sha256 .* does not match"):
        registry.load(folder)


def test_pickle_rejected_even_with_matching_hash(tmp_path, tiny_vae):
    folder = checkpoints.save(tmp_path / "ck", tiny_vae.state_dict(), card_for(tiny_vae))

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle executed')",))

    (folder / "model.safetensors").write_bytes(pickle.dumps(Boom()))
    checkpoints.update_card(folder, sha256=checkpoints.sha256_file(folder / "model.safetensors"))
    with pytest.raises(checkpoints.CheckpointError, match="not a readable safetensors"):
        registry.load(folder)


def test_missing_files_are_named(tmp_path, tiny_vae):
    folder = checkpoints.save(tmp_path / "ck", tiny_vae.state_dict(), card_for(tiny_vae))
    (folder / "model.safetensors").unlink()
    with pytest.raises(checkpoints.CheckpointError, match="model.safetensors: weights file is missing"):
        registry.load(folder)
    (folder / "card.json").unlink()
    with pytest.raises(checkpoints.CheckpointError, match="card.json is missing"):
        registry.load(folder)


def test_bad_cards_rejected(tmp_path, tiny_vae):
    folder = checkpoints.save(tmp_path / "ck", tiny_vae.state_dict(), card_for(tiny_vae))
    card = json.loads((folder / "card.json").read_text())
    (folder / "card.json").write_text("{not json")
    with pytest.raises(checkpoints.CheckpointError, match="not valid JSON"):
        registry.load(folder)
    del card["sha256"]
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(checkpoints.CheckpointError, match="missing the field 'sha256'"):
        registry.load(folder)
    (folder / "card.json").write_text(json.dumps({**card, "sha256": "0", "family": "bogus"}))
    with pytest.raises(checkpoints.CheckpointError, match="unknown model family 'bogus'"):
        registry.load(folder)
    (folder / "card.json").write_text(json.dumps({**card, "sha256": "0", "schema": 99}))
    with pytest.raises(checkpoints.CheckpointError, match="schema 99 is not supported"):
        registry.load(folder)


def test_config_mismatch_is_clear(tmp_path, tiny_vae):
    folder = checkpoints.save(tmp_path / "ck", tiny_vae.state_dict(), card_for(tiny_vae))
    checkpoints.update_card(folder, config={"latent_dim": 3, "hidden": [16], "image_size": 28})
    with pytest.raises(checkpoints.CheckpointError, match="weights do not fit"):
        registry.load(folder)


def test_interrupted_save_keeps_old_checkpoint(tmp_path, tiny_vae, monkeypatch):
    folder = checkpoints.save(tmp_path / "ck", tiny_vae.state_dict(), card_for(tiny_vae))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut while writing")

    other = {k: torch.randn_like(v) for k, v in tiny_vae.state_dict().items()}
    monkeypatch.setattr(checkpoints.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpoints.save(folder, other, card_for(tiny_vae))
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    registry.load(folder)  # still valid


@pytest.mark.parametrize("folder", checkpoints.find_all(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_checkpoints_load(folder):
    ckpt = registry.load(folder)
    card = ckpt.card
    assert card["training"]["steps"] > 1000 and card["training"]["wall_time_s"] > 0
    assert card["split"]["holdout_size"] > 0 and card["metrics"]


def test_several_checkpoint_folders_are_read_in_order(tmp_path, monkeypatch):
    import subprocess
    import sys

    from genlab import checkpoints as ck

    shipped, mine = tmp_path / "shipped", tmp_path / "mine"
    for root, name in ((shipped, "a"), (mine, "b"), (mine, "a")):
        ck.save(root / "mnist" / name, {"w": torch.zeros(2)},
                {"family": "vae", "name": name, "dataset": "mnist", "config": {}, "split": {},
                 "training": {}, "metrics": {"where": root.name}})
    monkeypatch.setattr(ck, "ROOT", shipped)
    monkeypatch.setattr(ck, "EXTRA_ROOTS", [mine])
    assert [f"{p.parent.parent.name}/{p.name}" for p in ck.find_all()] == ["shipped/a", "mine/a", "mine/b"]
    assert ck.resolve("mnist/b") == mine / "mnist" / "b"
    assert ck.read_card(ck.resolve("mnist/a"))["metrics"]["where"] == "shipped"  # the first folder wins
    with pytest.raises(ck.CheckpointError, match=f"under {shipped} or {mine}"):
        ck.resolve("mnist/c")
    env = {"GENLAB_CHECKPOINTS": f"{shipped}{os.pathsep}{mine}", "PATH": os.environ["PATH"]}
    out = subprocess.run([sys.executable, "-c", "from genlab import checkpoints as c; print(c.ROOT, c.EXTRA_ROOTS)"],
                         env=env, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent).stdout
    assert out.strip() == f"{shipped} [PosixPath('{mine}')]"


def test_float16_storage_halves_the_file_and_computes_in_float32(tmp_path, tiny_vae):
    folder = checkpoints.save(tmp_path / "mnist" / "tiny", tiny_vae.state_dict(), card_for(tiny_vae))
    before, after = checkpoints.store_half(folder)
    assert after < 0.6 * before and after == (folder / "model.safetensors").stat().st_size
    card = checkpoints.read_card(folder)
    assert card["weights_dtype"] == "float16" and card["sha256"] == checkpoints.sha256_file(folder / "model.safetensors")
    ckpt = registry.load(folder)  # the sha256 check passes on the rewritten file
    for name, tensor in tiny_vae.state_dict().items():
        loaded = ckpt.model.state_dict()[name]
        assert loaded.dtype == tensor.dtype == torch.float32
        torch.testing.assert_close(loaded, tensor, rtol=1e-3, atol=1e-4)  # rounded, not changed
        torch.testing.assert_close(loaded, tensor.half().float(), rtol=0, atol=0)  # exactly float16's rounding


def test_float16_storage_refuses_weights_out_of_range(tmp_path, tiny_vae):
    state = {k: v.clone() for k, v in tiny_vae.state_dict().items()}
    next(v for v in state.values() if v.is_floating_point()).view(-1)[0] = 1e6
    folder = checkpoints.save(tmp_path / "ck", state, card_for(tiny_vae))
    weights = (folder / "model.safetensors").read_bytes()
    with pytest.raises(checkpoints.CheckpointError, match="beyond float16's range"):
        checkpoints.store_half(folder)
    assert (folder / "model.safetensors").read_bytes() == weights
