"""#23's robustness campaign: the bad inputs of docs/robustness.md that no other module tries,
and a check that every row of that table names a test that exists (a test per row)."""

import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image, ImageDraw
from safetensors import safe_open
from streamlit.testing.v1 import AppTest

from genlab import checkpoints, registry
from genlab.__main__ import main
from genlab.images import ImageError, prepare_upload
from tests.conftest import save_untrained
from tests.test_images import png

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "robustness.md"


# --- uploads ---------------------------------------------------------------------------------

def stroke(mode: str, size=(80, 80), ink=0, paper=255) -> Image.Image:
    img = Image.new(mode, size, paper)
    ImageDraw.Draw(img).line([(20, 10), (50, 70)], fill=ink, width=8)
    return img


def accepted(raw: bytes) -> np.ndarray:
    x = prepare_upload(raw)
    assert x.shape == (28, 28) and x.dtype == np.uint8 and x.max() >= 200 and x[0].max() == 0
    return x


def test_a_16_bit_png_is_read():
    accepted(png(stroke("I;16", ink=0, paper=65535)))


def test_a_cmyk_jpeg_is_read():
    accepted(png(stroke("CMYK", ink=(0, 0, 0, 255), paper=(0, 0, 0, 0)), "JPEG"))


def test_an_animated_image_is_read_from_its_first_frame():
    frames = [stroke("L"), Image.new("L", (80, 80), 255)]
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:])  # an APNG
    accepted(buf.getvalue())
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    accepted(buf.getvalue())


def test_a_one_pixel_image_says_no_drawing():
    with pytest.raises(ImageError, match="No drawing found"):
        prepare_upload(png(Image.new("L", (1, 1), 0)))


def test_a_palette_png_with_transparency_is_read():
    img = stroke("L").convert("P")
    img.info["transparency"] = 255  # white is transparent: ink on nothing
    accepted(png(img))


# --- checkpoints -----------------------------------------------------------------------------

def test_a_truncated_safetensors_file_is_named(tmp_path):
    save_untrained(tmp_path, "vae-2d", "vae", {"latent_dim": 2, "hidden": [16]})
    folder = tmp_path / "mnist" / "vae-2d"
    weights = folder / checkpoints.WEIGHTS
    cut = weights.read_bytes()[: weights.stat().st_size // 2]
    weights.write_bytes(cut)
    checkpoints.update_card(folder, sha256=hashlib.sha256(cut).hexdigest())  # the hash matches the cut file
    with pytest.raises(checkpoints.CheckpointError, match="not a readable safetensors"):
        registry.load(folder)


# --- links -----------------------------------------------------------------------------------

def test_a_link_with_an_unknown_dataset_and_parameter_opens_the_defaults_with_one_notice():
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["dataset"] = "cifar10"
    at.query_params["bogus"] = "1"
    at.run()
    assert not at.exception and at.session_state["dataset"] == "mnist"
    notices = [t.value for t in at.toast]
    assert len(notices) == 1 and "dataset=cifar10" in notices[0] and "bogus=1" in notices[0]


def test_a_page_that_ends_early_still_reports_what_the_link_asked_and_could_not_use():
    """st.stop() (here: the playground with no family picked) ends the run before its last
    line; the notice comes all the same."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/playground.py")
    at.session_state["pg.families"] = []
    at.query_params["bogus"] = "1"
    at.run()
    assert not at.exception and any("Pick at least one family" in i.value for i in at.info)
    notices = [t.value for t in at.toast]
    assert len(notices) == 1 and "bogus=1" in notices[0]
    assert "_url_asked" not in at.session_state  # reported: a later run does not repeat it


def test_the_notice_comes_with_the_run_that_draws_below_the_fold(monkeypatch):
    """A page's first run draws its first screen alone and the browser asks for the rest at
    once: a toast sent by the first run would be cleared by the second (a CI run under load
    saw no notice), so the second run sends it."""
    from genlab_ui import components
    monkeypatch.setattr(components, "DEFER_BELOW_FOLD", True)  # as in the browser
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/gans.py")
    at.query_params["bogus"] = "1"
    at.run()
    assert not at.exception and not at.toast and "_url_asked" in at.session_state
    at.session_state["fold.gans"] = {"painted": True}  # what the first-screen component sends
    at.run()
    notices = [t.value for t in at.toast]
    assert len(notices) == 1 and "bogus=1" in notices[0] and "_url_asked" not in at.session_state


def _run_stopped_before_its_report():
    import streamlit as st

    from genlab_ui import state

    state.note_url_params("gans")
    if not st.session_state.get("second"):  # the first run is stopped for a newer one (the
        st.session_state["second"] = True  # first-screen component's) before its last line,
        st.query_params.clear()  # after Streamlit removed the refused values from the URL
        st.stop()
    state.report_dropped_params()


def test_the_notice_survives_a_first_run_stopped_before_its_end():
    """What the link asked is kept for the next run of the same page when the first run is
    stopped before it reports (a fresh-clone CI run once saw no notice at all)."""
    at = AppTest.from_function(_run_stopped_before_its_report, default_timeout=30)
    at.query_params["bogus"] = "1"
    at.run()
    assert not at.toast
    at.run()
    notices = [t.value for t in at.toast]
    assert len(notices) == 1 and "bogus=1" in notices[0]


def _link_asking_defaults():
    import streamlit as st

    from genlab_ui import state

    state.note_url_params("page")
    st.number_input("Seed", 0, 10, value=0, key="seed", bind="query-params")
    state.persistent_choice("Model", ["a/nice", "a/realnvp"], "model.flow", where=st,
                            format_func=lambda f: f.rsplit("/", 1)[-1], url="model")
    state.report_dropped_params()


def test_a_link_asking_for_the_default_values_gets_no_notice_for_them():
    """A teacher's link names the values a page opens on anyway (?model=nice&seed=0): both
    are taken, though they leave the URL (defaults are not kept there), so the notice names
    only what was refused (a shared link used to report model=nice and gans.seed=0)."""
    at = AppTest.from_function(_link_asking_defaults, default_timeout=30)
    at.query_params.update({"model": "nice", "seed": "0", "bogus": "1"})
    at.run()
    notices = [t.value for t in at.toast]
    assert not at.exception and at.session_state["model.flow"] == "a/nice"
    assert len(notices) == 1 and "bogus=1" in notices[0]
    assert "model=" not in notices[0] and "seed=" not in notices[0]
    at = AppTest.from_function(_link_asking_defaults, default_timeout=30)
    at.query_params.update({"model": "glow", "seed": "0"})
    at.run()
    notices = [t.value for t in at.toast]
    assert len(notices) == 1 and "model=glow" in notices[0] and "seed=" not in notices[0]


# --- command line ----------------------------------------------------------------------------

def test_eval_without_an_id_says_what_it_takes(capsys):
    assert main(["eval"]) == 2
    assert "eval takes a checkpoint id or --all" in capsys.readouterr().err


def test_an_unknown_override_is_named(capsys, tmp_path):
    assert main(["train", "vae-2d", "--dataset", "mnist", "--set", "depth=3", "--steps", "1",
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "--set expects key=value with key in" in err and "depth" in err and "Traceback" not in err


# --- killed processes ------------------------------------------------------------------------

def cli(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "genlab", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


def resume_step(folder: Path) -> int | None:
    path = folder / "resume.safetensors"
    try:
        with safe_open(path, "pt") as f:
            return json.loads(f.metadata()["meta"])["step"]
    except Exception:  # not written yet, or being replaced
        return None


def test_sigkill_during_train_loses_only_the_steps_since_the_last_save(idx_dir, tmp_path):
    out = tmp_path / "mnist" / "vae-2d"
    args = ["train", "vae-2d", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "1500",
            "--batch-size", "8", "--set", "hidden=16", "--out", str(out), "--no-download"]
    proc = cli(*args)
    deadline = time.time() + 300
    while resume_step(out) is None and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    saved = resume_step(out)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert saved is not None and saved >= 500, "the run ended before its first resume save"
    assert not (out / checkpoints.CARD).exists()  # killed before the end: no half-written checkpoint
    resumed = cli(*args, "--resume")
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read().decode()[-2000:]
    card = checkpoints.read_card(out)
    assert card["training"]["steps"] == 1500 and card["training"]["finished"]
    assert card["training"]["warm_starts"] == []  # continued from the saved state, not restarted
    log = json.loads((out / "train_log.json").read_text())
    assert log[0]["step"] <= saved + 100 and log[-1]["step"] == 1500
    registry.load(out)


def test_sigkill_during_eval_write_leaves_every_card_valid(idx_dir, tmp_path):
    root = tmp_path / "checkpoints"
    for name in ("vae-2d", "vae-16d"):
        save_untrained(root, name, "vae", {"latent_dim": 2 if name == "vae-2d" else 16, "hidden": [16]})
    cards = sorted(root.rglob(checkpoints.CARD))
    for delay in (0.5, 1.0, 1.5, 2.0, 3.0, 4.0):
        proc = cli("eval", "--all", "--recompute", "--write", "--n", "16", "--root", str(root),
                   "--data-dir", str(idx_dir))
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for card in cards:
            checkpoints.read_card(card.parent)  # parses and has every field
            registry.load(card.parent)


# --- the table -------------------------------------------------------------------------------

def table_rows() -> list[tuple[str, ...]]:
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| ") and not line.startswith("| #")]
    return [tuple(c.strip() for c in line.strip("|").split("|")) for line in rows if not set(line) <= set("|- ")]


def test_every_row_of_the_robustness_table_names_a_test_that_exists():
    rows = table_rows()
    assert len(rows) >= 40
    for row in rows:
        match = re.search(r"`(tests/test_\w+\.py)::(test_\w+)", row[-1])
        assert match, f"no test named in {row}"
        path, name = match.groups()
        assert re.search(rf"^(async )?def {name}\(", (ROOT / path).read_text(), re.M), f"{path}::{name} is missing"
