"""The benchmark harness follows the pages: every part of ``python -m benchmarks`` at its
smallest scale (``--smoke``: 2 reps, 1 cold start, 5 sessions, short runs) runs to the end
against the real app, so a page change that breaks a benchmark fails here instead of leaving
stale figures in docs/benchmarks.md. Its figures are not measurements; only that each part
produced them, with no session's error, is checked."""

import json
import os
import subprocess
import sys

import pytest

from benchmarks.browser import ROOT, chromium_available

if not chromium_available():
    if os.environ.get("GENLAB_REQUIRE_BROWSER"):
        raise RuntimeError("Chromium is required (GENLAB_REQUIRE_BROWSER is set) but not installed")
    pytest.skip("Chromium not installed (apt-get install chromium)", allow_module_level=True)


def test_every_benchmark_part_runs_at_the_smallest_scale(tmp_path):
    out = tmp_path / "benchmarks"
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=2400)
    assert run.returncode == 0, run.stderr[-4000:]
    r = json.loads(out.with_suffix(".json").read_text())
    # every part reported its figures
    for key in ("first_paint", "cold_pages", "cold_start", "page_load_without_live_decode", "memory", "page_load",
                "trivial_slider", "vae_slider", "gan_seed", "gan_snapshot", "diffusion_step", "projections_switch",
                "flows_temperature", "pixelcnn_field", "latent_pad", "concurrency", "sampling_images_per_s",
                "diffusion_sample_click", "projection_speed", "playground", "concepts", "transport", "bigan"):
        assert key in r, f"the benchmark part that reports {key!r} did not"
    assert set(r["first_paint"]["pages"]) >= {"home", "vae", "gans", "transport", "bigan"}
    assert all(d["p50_ms"] > 0 and d["whole"]["p50_ms"] >= d["p50_ms"] for d in r["first_paint"]["pages"].values())
    for d in r["first_paint"]["pages"].values():  # the traced tab: its main thread's work until the first screen
        w = d["main_thread"]
        assert 0 < w["script"] <= w["busy"] <= w["first_screen_ms"] and w["style_layout"] > 0, w
    for started in ("cold_pages", "cold_pages_streamlit_run"):  # python -m genlab_ui, streamlit run
        assert all(0 < d["ready_s"] and 0 < d["title_s"] <= d["first_screen_s"] for d in r[started].values())
        assert r[started]["vae"]["pad_after_title_s"] >= 0  # the latent pad went live
    load = r["concurrency"][0]
    assert load["errors"] == 0, load["error_samples"]
    assert set(load["long_samplers_s"]) == {"DDPM-1000", "PixelCNN"}
    assert r["memory"]["after_pages_again_mb"] > 0
    for part in ("concepts", "transport"):  # each page's sliders were found and stepped
        assert r[part]["sliders"], part
    assert "# Benchmarks" in out.with_suffix(".md").read_text()


def test_the_fold_caption_the_benchmark_waits_on_is_the_pages():
    from benchmarks.__main__ import FOLD_CAPTION
    from genlab_ui import components

    assert components.FOLD_CAPTION.startswith(FOLD_CAPTION)


def test_main_thread_work_counts_the_tabs_renderer_until_the_first_screen():
    from benchmarks.browser import main_thread_work

    def x(name, start_ms, dur_ms, pid=7, tid=1):
        return {"ph": "X", "name": name, "pid": pid, "tid": tid, "ts": 1_000_000 + start_ms * 1000, "dur": dur_ms * 1000}

    events = [
        {"ph": "R", "name": "navigationStart", "pid": 3, "tid": 1, "ts": 0, "args": {"data": {"documentLoaderURL": ""}}},
        {"ph": "R", "name": "navigationStart", "pid": 7, "tid": 1, "ts": 1_000_000,
         "args": {"data": {"documentLoaderURL": "http://127.0.0.1:8501/vae"}}},
        {"ph": "M", "name": "thread_name", "pid": 7, "tid": 1, "args": {"name": "CrRendererMain"}},
        {"ph": "M", "name": "thread_name", "pid": 7, "tid": 2, "args": {"name": "Compositor"}},
        x("RunTask", 100, 50), x("FunctionCall", 100, 40), x("Layout", 140, 5), x("MinorGC", 120, 2),
        x("RunTask", 300, 100), x("Paint", 310, 4), x("EvaluateScript", 320, 30),
        x("RunTask", 600, 80),  # after the first screen (350 ms): not counted; the one before it, cut there
        x("RunTask", 200, 400, tid=2),  # another thread
        x("RunTask", 200, 400, pid=3),  # another tab
    ]
    work = main_thread_work(json.dumps({"traceEvents": events}).encode(), until_ms=350)
    assert work == {"busy": 100.0, "script": 70.0, "style_layout": 5.0, "paint": 4.0, "gc": 2.0}
