import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab import checkpoints, registry
from genlab.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--set", "hidden=16", "--batch-size", "16", "--no-download"]


def test_train_sample_eval_list(idx_dir, tmp_path, capsys):
    out = tmp_path / "ck" / "mnist" / "vae-2d"
    assert main(["train", "vae-2d", "--dataset", "mnist", "--data-dir", str(idx_dir),
                 "--steps", "6", "--out", str(out), *TINY]) == 0
    card = checkpoints.read_card(out)
    assert card["training"]["steps"] == 6 and card["split"]["name"] == "official"
    assert card["config"]["hidden"] == [16] and "neg_elbo" in card["metrics"]
    assert not (out / "resume.safetensors").exists()

    for seed, name in ((1, "a"), (1, "b"), (2, "c")):
        assert main(["sample", str(out), "--n", "5", "--seed", str(seed),
                     "--out", str(tmp_path / f"{name}.npz")]) == 0
    a, b, c = (np.load(tmp_path / f"{n}.npz")["images"] for n in "abc")
    assert a.shape == (5, 28, 28) and a.dtype == np.uint8
    assert (a == b).all() and not (a == c).all()

    # a .png name gets one picture of the samples; a name without a suffix, the .npz it says
    assert main(["sample", str(out), "--n", "5", "--out", str(tmp_path / "grid.png")]) == 0
    from PIL import Image
    with Image.open(tmp_path / "grid.png") as pic:
        assert pic.format == "PNG" and pic.size == (3 * 28 + 2 * 2, 2 * 28 + 2)
    capsys.readouterr()
    assert main(["sample", str(out), "--n", "5", "--out", str(tmp_path / "plain")]) == 0
    assert capsys.readouterr().out.rstrip().endswith(str(tmp_path / "plain.npz"))
    assert np.load(tmp_path / "plain.npz")["images"].shape == (5, 28, 28)

    capsys.readouterr()
    assert main(["eval", str(out)]) == 0
    assert json.loads(capsys.readouterr().out) == card["metrics"]
    assert main(["list", "--root", str(tmp_path / "ck")]) == 0
    assert "mnist/vae-2d" in capsys.readouterr().out


def test_resume_continues_where_it_stopped(idx_dir, tmp_path):
    from genlab import data
    from genlab.train import TrainConfig, fit

    _, family, config = registry.resolve_model("vae-2d")
    config = registry.parse_override(config, "hidden=16")
    train = data.load("mnist", idx_dir, download=False).train
    x, y = data.to_float(train.images), torch.from_numpy(train.labels.astype("int64"))
    out = tmp_path / "run"
    torch.manual_seed(0)
    straight = family.model(config)
    full = fit(family, straight, x, y, TrainConfig(steps=8, batch_size=16, resume_every=4),
               resume_dir=out)
    assert (out / "resume.safetensors").exists()  # written at step 4
    model = family.model(config)  # other init: the resume state must replace it
    resumed = fit(family, model, x, y,
                  TrainConfig(steps=8, batch_size=16, resume_every=4), resume_dir=out, resume=True)
    assert resumed["steps"] == 8
    for name, tensor in straight.state_dict().items():  # steps 5..8 repeated exactly
        torch.testing.assert_close(model.state_dict()[name], tensor)
    assert resumed["wall_time_s"] >= 0 and resumed["final"].keys() == full["final"].keys()


def test_paused_run_continues_from_its_checkpoint_on_a_new_machine(idx_dir, tmp_path):
    """--stop-at saves a checkpoint mid-run; with the resume state gone (a new machine),
    --resume starts from the checkpoint's weights and carries steps and time on."""
    out = tmp_path / "mnist" / "vae-2d"
    args = ["train", "vae-2d", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "8",
            "--out", str(out), *TINY]
    assert main([*args, "--stop-at", "4"]) == 0
    card = checkpoints.read_card(out)["training"]
    assert (card["steps"], card["planned_steps"], card["finished"]) == (4, 8, False)
    (out / "resume.safetensors").unlink()  # what a fresh clone has: the checkpoint alone
    paused = registry.load(out).model.state_dict()
    assert main([*args, "--resume", "--stop-at", "4"]) == 0  # nothing to run: same weights
    for name, tensor in registry.load(out).model.state_dict().items():
        torch.testing.assert_close(tensor, paused[name])
    assert main([*args, "--resume"]) == 0
    card = checkpoints.read_card(out)["training"]
    assert (card["steps"], card["finished"], card["warm_starts"]) == (8, True, [4, 4])
    assert card["wall_time_s"] >= 0 and not (out / "resume.safetensors").exists()
    log = json.loads((out / "train_log.json").read_text())
    assert [row["step"] for row in log] == [8]  # 100-step logging: the final row only


def test_resume_continues_the_model_in_the_folder_not_the_preset(idx_dir, tmp_path, capsys):
    """A warm start reads the config from the folder's card (a model trained with --set
    needs no --set again); a folder holding another family says so, exit code 2."""
    out = tmp_path / "mnist" / "vae-2d"
    base = ["--dataset", "mnist", "--data-dir", str(idx_dir), "--out", str(out),
            "--batch-size", "16", "--no-download"]
    assert main(["train", "vae-2d", "--steps", "4", *base, "--set", "hidden=16"]) == 0
    assert main(["train", "vae-2d", "--steps", "6", *base, "--resume"]) == 0
    card = checkpoints.read_card(out)
    assert card["config"]["hidden"] == [16] and card["training"]["warm_starts"] == [4]
    capsys.readouterr()
    assert main(["train", "dcgan", "--steps", "6", *base, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "holds a vae on mnist, not a gan on mnist" in err and "Traceback" not in err


def test_sample_counts_out_of_range_are_clear(tmp_path, capsys):
    for n in ("0", "-5", "100000000"):
        assert main(["sample", "mnist/vae-2d", "--n", n, "--out", str(tmp_path / "x.npz")]) == 2
        assert "argument --n: must be an integer ≥ 1 and ≤ 100,000" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize("argv, message", [
    (["sample", "mnist/vae-2d", "--n", "abc"], "argument --n: must be an integer"),
    (["sample", "mnist/ddpm", "--steps", "0"], "argument --steps: must be an integer ≥ 1 and ≤ 1,000; got 0"),
    (["sample", "mnist/ddpm", "--eta", "5"], "argument --eta: must be a number ≥ 0 and ≤ 1; got 5"),
    (["sample", "mnist/realnvp", "--temperature", "-1"], "argument --temperature: must be a number > 0"),
    (["sample", "mnist/realnvp", "--temperature", "nan"], "argument --temperature: must be a number > 0"),
    (["sample", "mnist/rectified-flow", "--label", "12"], "argument --label: must be an integer ≥ 0 and ≤ 9"),
    (["sample", "mnist/rectified-flow", "--guidance", "inf"], "argument --guidance: must be a number"),
    (["train", "vae-2d", "--dataset", "mnist", "--steps", "0"], "argument --steps: must be an integer ≥ 1"),
    (["train", "vae-2d", "--dataset", "mnist", "--lr", "0"], "argument --lr: must be a number > 0"),
    (["train", "vae-2d", "--dataset", "mnist", "--batch-size", "-1"], "argument --batch-size: must be"),
    (["eval", "mnist/vae-2d", "--n", "0"], "argument --n: must be an integer ≥ 2"),
    (["toy", "gan", "--data", "moons", "--steps", "-3"], "argument --steps: must be an integer ≥ 1"),
])
def test_arguments_out_of_range_stop_before_any_work(argv, message, tmp_path, capsys):
    """#23: every number a command takes is checked by the parser: one line, exit code 2."""
    out = ["--out", str(tmp_path / "x.npz")] if argv[0] in ("sample",) else []
    assert main([*argv, *out]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.npz").exists()


def test_an_unwritable_output_is_found_before_sampling(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    for out in (blocker / "x.npz", Path("/proc/genlab-x.npz")):
        assert main(["sample", "mnist/vae-2d", "--n", "2", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: cannot write {out}") and "Traceback" not in err
    assert main(["train", "vae-2d", "--dataset", "mnist", "--steps", "1", "--out", str(blocker / "ck")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_errors_are_clear(tmp_path, capsys):
    assert main(["eval", "mnist/nope", "--root", str(tmp_path)]) == 2
    assert "no checkpoint 'mnist/nope'" in capsys.readouterr().err
    assert main(["train", "vae-2d", "--dataset", "mnist", "--data-dir", str(tmp_path / "x"),
                 "--steps", "1", "--no-download"]) == 2
    err = capsys.readouterr().err
    assert "no mnist IDX files found" in err and str(tmp_path / "x") in err


def test_torchrun_two_processes(idx_dir, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "genlab", "train", "vae-2d", "--dataset", "mnist", "--data-dir", str(idx_dir),
           "--steps", "5", "--out", str(out), *TINY]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    card = checkpoints.read_card(out)
    assert card["training"]["world_size"] == 2 and card["training"]["steps"] == 5
    registry.load(out)
    assert sorted(p.name for p in out.iterdir()) == ["card.json", "model.safetensors", "train_log.json"]


def test_maps_skips_maps_that_match_their_source(tmp_path, monkeypatch, capsys):
    """`genlab maps` recomputes only maps whose weights or settings changed (a new checkpoint),
    so shipping one model does not rewrite every other map."""
    import shutil

    from genlab import projection

    maps = tmp_path / "maps"
    maps.mkdir()
    shutil.copy(projection.map_path("mnist", projection.PIXELS), maps)
    monkeypatch.setattr(projection, "MAPS", maps)
    monkeypatch.setattr(projection, "tsne", lambda *a, **k: pytest.fail("recomputed a current map"))
    assert main(["maps", "--dataset", "mnist", "--root", str(tmp_path / "none")]) == 0
    assert "mnist pixels: up to date" in capsys.readouterr().out
