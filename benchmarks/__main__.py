"""genlab's benchmarks, against a real genlab server (``python -m genlab_ui --no-preload``: the
README's command without its warm-up, which the first-visit part times too) in headless Chromium.

    python -m benchmarks [--reps 20] [--only PART ...]   # writes docs/benchmarks.json and .md

- cold start: server process start -> home page rendered with its sample images;
- per page: cold load (new tab) -> main content rendered, p50/p95 over --reps;
- VAE slider: a keyboard step on z1 -> the new decoded <img> painted (timed in the page);
- GAN seed: a keyboard step on the seed -> the row of grids painted (the VAE reference, last);
  the replay's snapshot slider (a key step) -> the replayed grid painted;
- diffusion: after one DDIM-50 run, a keyboard step on the step slider -> the next x_t painted;
- flows: a keyboard step on the temperature slider -> the new samples painted;
- PixelCNN: a keyboard step on the receptive field's pixel row -> the new field painted;
- projections: a click on PCA / t-SNE -> the map redrawn; fresh t-SNE and PCA of 5,000
  points (no browser), and in the browser a fresh 5,000-point t-SNE then the same settings
  again (needs the dataset's files, e.g. GENLAB_DATA);
- latent pad: pointer move -> decoded frame painted, and the JS decode time; page weight;
- server memory (RSS) after start, after every page, after 1,000 interactions;
- concurrency: 10, 25 and 50 sessions at once: 2 Chromium tabs stepping the VAE slider
  (latency to the painted image), 2 sessions starting the long samplers (DDPM-1000 on
  /diffusion, PixelCNN on /autoregressive) and the rest protocol sessions
  (benchmarks/protocol.py: the same websocket messages without a renderer each on the same
  two cores) at the VAE slider, the GAN seed and the projections method;
- model sampling speed per checkpoint (no browser; diffusion runs as its page's job does), and
  /diffusion's DDPM-1000 of 8 images in the browser: the click that starts it -> the final
  grid painted, beside the same run as a function.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import statistics
import time
from pathlib import Path

from benchmarks.browser import (CHROMIUM, CHROMIUM_ARGS, ROOT, TRACE_CATEGORIES, launch, main_thread_work,
                                streamlit_server, wait_idle, wait_server_quiet)

# in-page probe: time from the key press to the first frame painted after the image changed
_ARM = """
([caption]) => {
  // the picture captioned so (a picture of an image list, e.g. /gans' row, has its own container)
  const find = () => [...document.querySelectorAll('[data-testid="stImageContainer"]')]
      .find(e => e.innerText.includes(caption));
  const before = find().querySelector('img').src;
  window.__genlabProbe = new Promise((resolve, reject) => {
    let t0 = null;
    document.addEventListener('keydown', () => { t0 = performance.now(); }, {capture: true, once: true});
    const limit = setTimeout(() => reject(new Error('no update in 10 s')), 10000);
    const check = () => {
      const img = find() && find().querySelector('img');
      if (t0 !== null && img && img.src !== before && img.complete) {
        requestAnimationFrame(() => { clearTimeout(limit); resolve(performance.now() - t0); });
      } else requestAnimationFrame(check);
    };
    check();
  });
}
"""


def timed_key(page, slider, key: str, caption: str) -> float:
    """ms from a trusted key press on ``slider`` to the next frame painted after the image
    captioned ``caption`` changed."""
    page.evaluate(_ARM, [caption])
    slider.press(key)
    return page.evaluate("() => window.__genlabProbe")


def percentiles(xs: list[float]) -> dict:
    """n, p50, p95 and max of some ms; fewer than two (a smoke run) give what there is."""
    xs = sorted(xs)
    if len(xs) < 2:
        return {"n": len(xs), **{k: round(xs[0], 1) if xs else None for k in ("p50_ms", "p95_ms", "max_ms")}}
    q = statistics.quantiles(xs, n=20, method="inclusive")
    return {"n": len(xs), "p50_ms": round(statistics.median(xs), 1), "p95_ms": round(q[18], 1),
            "max_ms": round(xs[-1], 1)}


def cold_start(playwright) -> dict:
    t0 = time.perf_counter()
    with streamlit_server() as (url, _, healthy_s):
        browser = launch(playwright)
        page = browser.new_page()
        page.goto(url)
        wait_idle(page)
        page.wait_for_selector('[data-testid="stImage"] img')
        total = time.perf_counter() - t0
        browser.close()
    return {"server_healthy_s": round(healthy_s, 2), "home_rendered_s": round(total, 2)}


# in the page from its first script on: when the title and /vae's latent pad (its decoder
# loaded: the pad answers the pointer) first appear, in ms since navigation
_COLD_MARKS = """
(() => {
  const marks = window.__genlabMarks = {};
  const look = () => {
    if (!marks.title && document.querySelector('[data-testid="stMainBlockContainer"] h1')) marks.title = performance.now();
    // components draw in shadow roots, every 10 ms
    const pad = !marks.pad && [...document.querySelectorAll('*')]
      .map(e => e.shadowRoot && e.shadowRoot.querySelector('canvas.lm-canvas')).find(Boolean);
    if (pad && pad.genlabDecode) marks.pad = performance.now();
    if (!(marks.title && marks.pad)) setTimeout(look, 10);
  };
  look();
})();
"""


def cold_pages(playwright, pages: dict | None = None, launcher: bool = True) -> dict:
    """Each page's first visit after the server is started (a new server per page, cold
    caches), by the README's command (``python -m genlab_ui``, which loads libraries and models
    before it listens) or, without ``launcher``, with ``--no-preload`` (what ``streamlit run
    app.py`` pays): the command ->
    the server ready, then a new tab -> title, -> main figure, -> first screen painted
    (``_FIRST_SCREEN``), seconds; on /vae also the title -> the latent pad live
    (``pad_after_title_s``: the issue asks ≤ 1 s)."""
    out = {}
    for name, (path, selector) in (pages or {**PAGES, **LATER_PAGES}).items():
        with streamlit_server(launcher=launcher) as (url, _, ready_s):
            browser = launch(playwright)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.add_init_script(_COLD_MARKS)
                t0 = time.perf_counter()
                page.goto(f"{url}/{path}")
                page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=120_000)
                title = time.perf_counter() - t0
                page.wait_for_selector(selector, timeout=120_000)
                figure = time.perf_counter() - t0
                page.wait_for_function(_FIRST_SCREEN, timeout=120_000, polling="raf")
                out[name] = {"ready_s": round(ready_s, 2), "title_s": round(title, 2), "main_figure_s": round(figure, 2),
                             "first_screen_s": round(time.perf_counter() - t0, 2)}
                if path == "vae":
                    page.wait_for_function("() => window.__genlabMarks.pad", timeout=120_000)
                    marks = page.evaluate("window.__genlabMarks")
                    out[name]["pad_after_title_s"] = round((marks["pad"] - marks["title"]) / 1000, 2)
            finally:
                browser.close()
    return out


def timed_keys(browser, page, slider, caption: str, reps: int, *, run: int = 10,
               first: str = "ArrowRight") -> dict:
    """``reps`` keyboard steps on ``slider`` (``run`` one way, then back, after 3 warm-up
    steps): p50/p95 of key -> the image captioned ``caption`` painted anew. Closes the browser."""
    other = {"ArrowRight": "ArrowLeft", "ArrowLeft": "ArrowRight"}[first]
    times, ahead = [], 0
    for i in range(reps + 3):
        before = instant_swaps(page)
        ms = timed_key(page, slider, first if (i // run) % 2 == 0 else other, caption)
        if i >= 3:  # warm-up
            times.append(ms)
            ahead += instant_swaps(page) > before
        time.sleep(0.15)
    browser.close()
    return {**percentiles(times), "instant": ahead}


def instant_swaps(page) -> int:
    """How many steps the page has painted from pictures sent ahead (components.instant_frames,
    scatter_map's switch), before their rerun's answer."""
    return int(page.evaluate("Number(document.body.dataset.genlabInstant) || 0"))


def vae_slider(playwright, url: str, reps: int) -> dict:
    browser, page = opened(playwright, url, "vae", PAGES["vae"][1])
    slider = page.locator('[data-testid="stSlider"]', has_text="z1").get_by_role("slider")
    return timed_keys(browser, page, slider, "decoder mean", reps)


def trivial_slider(playwright, url: str, reps: int) -> dict:
    """The yardstick of the controls' latency: the trivial app's slider, keyboard steps -> its
    image painted anew, measured as every page's control is."""
    browser, page = opened(playwright, url, "", '[data-testid="stImage"]:has-text("brightness") img')
    return timed_keys(browser, page, page.get_by_role("slider"), "brightness", reps)


def diffusion_step(playwright, url: str, reps: int) -> dict:
    """After one DDIM-50 run of 8 images: a keyboard step on the step slider -> the x_t grid
    of the next step painted (the trajectory is cached: no sampling)."""
    browser, page = opened(playwright, url, "diffusion", PAGES["diffusion"][1])
    button = page.get_by_role("button", name="Sample 8 with DDIM-50")
    try:
        button.wait_for(timeout=30_000)
    except Exception:  # playwright's TimeoutError
        browser.close()
        return {"skipped": "no diffusion checkpoint for the default dataset"}
    button.click()
    page.wait_for_selector('[data-testid="stImage"]:has-text("x_0 (final sample)") img', timeout=120_000)
    wait_idle(page)
    step = page.locator('input[aria-label="Step"]')
    step.focus()
    step.press("Home")  # a run opens on its final sample: scrub from the noise
    page.wait_for_selector('[data-testid="stImage"]:has-text("x_t, t = ") img', timeout=30_000)
    wait_idle(page)
    return timed_keys(browser, page, step, "x_t, t = ", reps)


PAGES = {"home": ("", '[data-testid="stImage"] img'),
         "vae": ("vae", '[data-testid="stImage"]:has-text("decoder mean") img'),
         "diffusion": ("diffusion", '[data-testid="stImage"]:has-text("t = ") img'),
         "gans": ("gans", '[data-testid="stImage"]:has-text("seed") img'),
         "projections": ("projections", "canvas.sm-canvas[data-x-title]"),
         "flows": ("flows", '[data-testid="stImage"]:has-text("samples x = f") img'),
         "autoregressive": ("autoregressive", '[data-testid="stImage"]:has-text("completion 1") img')}
# the pages added since (the memory part visits them too): path, what shows once the page is there
LATER_PAGES = {"concepts": ("concepts", '[data-testid="stImage"] img[src^="data:image/svg+xml"]'),  # the coin chart
               "playground": ("playground", ".tp-title"),
               "transport": ("transport", '[data-testid="stImage"]:has-text("cells") img'),
               "bigan": ("bigan", '[data-testid="stImage"]:has-text("BiGAN: G(E(x))") img')}

# in-page probe: time from a click to the first frame painted after ``changed()`` holds
_ARM_CLICK = """
([changed, arg, limitMs]) => {
  const test = new Function('arg', changed);
  window.__genlabProbe = new Promise((resolve, reject) => {
    let t0 = null;
    document.addEventListener('pointerdown', () => { t0 = performance.now(); }, {capture: true, once: true});
    const limit = setTimeout(() => reject(new Error(`no update in ${limitMs} ms`)), limitMs);
    const check = () => {
      if (t0 !== null && test(arg)) {
        requestAnimationFrame(() => { clearTimeout(limit); resolve(performance.now() - t0); });
      } else requestAnimationFrame(check);
    };
    check();
  });
}
"""


def timed_click(page, locator, changed: str, arg=None, limit_s: float = 20) -> float:
    """ms from a trusted click on ``locator`` to the frame after the JS body ``changed``
    (a function of ``arg``) returns true (an error after ``limit_s``)."""
    page.evaluate(_ARM_CLICK, [changed, arg, int(limit_s * 1000)])
    locator.click()
    return page.evaluate("() => window.__genlabProbe")


_IMG_CHANGED = ("const el = [...document.querySelectorAll('[data-testid=\"stImage\"]')]"
                ".find(e => e.innerText.includes(arg[0])); const img = el && el.querySelector('img');"
                "return !!img && img.src !== arg[1] && img.complete;")
_BUTTON_SAYS = "return [...document.querySelectorAll('button')].some(b => b.textContent.includes(arg));"
_MAP_TITLE = ("const c = [...document.querySelectorAll('*')].map(e => e.shadowRoot &&"
              " e.shadowRoot.querySelector('canvas.sm-canvas')).find(Boolean);"
              "return !!(c && c.dataset.xTitle === arg);")


def opened(playwright, url: str, path: str, selector: str):
    """A fresh browser with ``path`` open and ``selector`` visible: (browser, page)."""
    browser = launch(playwright)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/{path}")
    wait_idle(page)
    page.wait_for_selector(selector, timeout=60_000)
    return browser, page


def timed_clicks(page, reps: int, warmup: int, click) -> dict:
    """``click(i) -> ms`` repeated, the first ``warmup`` dropped; p50/p95 of the rest."""
    times = []
    for i in range(reps + warmup):
        ms = click(i)
        if i >= warmup:
            times.append(ms)
        wait_idle(page)
        time.sleep(0.15)
    return percentiles(times)


def flows_temperature(playwright, url: str, reps: int) -> dict:
    """A keyboard step on the flow's temperature slider -> the new sample grid painted
    (one inverse pass of the default dataset's flow per step)."""
    browser, page = opened(playwright, url, "flows", PAGES["flows"][1])
    slider = page.locator('[data-testid="stSlider"]', has_text="Temperature").get_by_role("slider")
    # T starts at 0.7 of [0, 1.2] in steps of 0.05: 10 steps right reach 1.2, then back
    return timed_keys(browser, page, slider, "samples x = f", reps)


def pixelcnn_field(playwright, url: str, reps: int) -> dict:
    """A keyboard step on the receptive field's pixel row -> the new field painted (the field is
    below the page's fold: it arrives after the first screen)."""
    browser, page = opened(playwright, url, "autoregressive", '[data-testid="stImage"]:has-text("blind spot") img')
    slider = page.locator('[data-testid="stSlider"]', has_text="Pixel row").get_by_role("slider")
    return timed_keys(browser, page, slider, "blind spot", reps)


def gan_seed(playwright, url: str, reps: int) -> dict:
    """A keyboard step on the seed's slider -> the whole row painted anew: every GAN's grid,
    then the VAE reference grid, the row's last image."""
    selector = '[data-testid="stImage"]:has-text("(reference)") img'
    browser, page = opened(playwright, url, "gans", selector)
    slider = page.locator('[data-testid="stSlider"]', has_text="Seed").first.get_by_role("slider")
    return timed_keys(browser, page, slider, "(reference)", reps)


def gan_snapshot(playwright, url: str, reps: int) -> dict:
    """A keyboard step on the training-replay snapshot slider -> the replayed grid painted."""
    browser, page = opened(playwright, url, "gans", '[data-testid="stImage"]:has-text("at step") img')
    slider = page.locator('[data-testid="stSlider"]', has_text="Snapshot").get_by_role("slider")
    # 8 snapshots, starting at the last: 5 steps left, 5 back
    return timed_keys(browser, page, slider, "at step", reps, run=5, first="ArrowLeft")


def bigan_controls(playwright, url: str, reps: int) -> dict:
    """/bigan's controls, key steps (five right, five back): the held-out image's slider (its
    reconstruction G(E(x)) painted), the grid's seed (16 images reconstructed by the BiGAN and
    the VAE, painted), and every slider (key -> last change)."""
    recon = '[data-testid="stImage"]:has-text("BiGAN: G(E(x))") img'
    browser, page = opened(playwright, url, "bigan", recon)
    wait_idle(page)
    picker = page.locator('[data-testid="stSlider"]', has_text="Held-out image").first.get_by_role("slider")
    step = lambda i: "ArrowRight" if (i // 5) % 2 == 0 else "ArrowLeft"  # noqa: E731
    grid_caption = "rows: held-out images"
    seed = page.locator('[data-testid="stSlider"]', has_text="Which images").first.get_by_role("slider")
    try:
        out = {"image": timed_clicks(page, reps, 2, lambda i: timed_key(page, picker, step(i), "BiGAN: G(E(x))")),
               "grid seed": timed_clicks(page, reps, 2, lambda i: timed_key(page, seed, step(i), grid_caption))}
    finally:
        browser.close()
    out["sliders"] = slider_controls(playwright, url, "bigan", reps)
    return out


def projections_switch(playwright, url: str, reps: int) -> dict:
    """A click on PCA or t-SNE -> the map drawn with the other method (both cached after the
    first switch; the default t-SNE map ships precomputed)."""
    browser, page = opened(playwright, url, "projections", PAGES["projections"][1])
    radios = page.get_by_test_id("stRadioGroup")

    ahead = []

    def click(i: int) -> float:
        method, title = ("t-SNE", "t-SNE 1") if i % 2 == 0 else ("PCA", "PC 1")
        before = instant_swaps(page)
        ms = timed_click(page, radios.get_by_text(method, exact=True), _MAP_TITLE, title)
        ahead.append(instant_swaps(page) > before)
        return ms

    out = timed_clicks(page, reps, 2, click)
    browser.close()
    return {**out, "instant": sum(ahead[2:])}


def projections_fresh_tsne(playwright, url: str, reps: int = 5) -> dict:
    """In the browser, on Fashion-MNIST with 5,000 held-out points (needs the dataset's files,
    e.g. GENLAB_DATA): the click on t-SNE -> the freshly fitted map drawn (a progress bar
    runs meanwhile), then PCA -> t-SNE again with the same settings (cached) -> map drawn."""
    browser, page = opened(playwright, url, "projections", PAGES["projections"][1])
    page.get_by_test_id("stSidebar").locator('[data-testid="stRadio"]', has_text="Dataset").locator(
        "label", has_text="Fashion-MNIST (clothes)").click()
    page.locator(".sm-legend", has_text="Ankle boot").wait_for(timeout=30_000)
    time.sleep(1)
    wait_idle(page)
    points = page.locator('[data-testid="stSlider"]', has_text="Held-out points").get_by_role("slider")
    for _ in range(3):  # 2,000 -> 5,000 (a first key press right after the sidebar can be lost)
        points.press("ArrowRight")
        try:
            page.locator("canvas.sm-canvas[data-points='5000']").wait_for(timeout=10_000)
            break
        except Exception:  # playwright's TimeoutError
            continue
    else:
        browser.close()
        return {"skipped": "5,000 points need Fashion-MNIST's files (GENLAB_DATA)"}
    radios = page.get_by_test_id("stRadioGroup")
    fresh = timed_click(page, radios.get_by_text("t-SNE", exact=True), _MAP_TITLE, "t-SNE 1", 120)
    wait_idle(page)

    def click(i: int) -> float:
        method, title = ("PCA", "PC 1") if i % 2 == 0 else ("t-SNE", "t-SNE 1")
        return timed_click(page, radios.get_by_text(method, exact=True), _MAP_TITLE, title)

    times = []
    for i in range(2 * reps):
        ms = click(i)
        if i % 2 == 1:
            times.append(ms)
        wait_idle(page)
    browser.close()
    return {"points": 5000, "fresh_fit_ms": round(fresh), "again": percentiles(times)}


def projection_speed(reps: int = 3) -> dict:
    """PCA and t-SNE of 5,000 Fashion-MNIST test images (784 pixels), median seconds, and the
    same t-SNE settings again from the page's shared store (the second call)."""
    from genlab import data, projection

    try:
        images = data.load("fashion-mnist", download=False).holdout.images[:5000]
    except data.DataNotFoundError as exc:
        return {"skipped": str(exc).splitlines()[0]}
    x = projection.pixels(images)
    timed = lambda f: statistics.median([_seconds(f) for _ in range(reps)])
    out = {"points": len(x), "pca_s": round(timed(lambda: projection.pca(x)), 3)}
    out["tsne_opentsne_s"] = round(_seconds(lambda: projection.tsne(x)), 1)
    out["tsne_sklearn_s"] = round(_seconds(lambda: projection.tsne(x, backend="sklearn")), 1)
    return out


def _seconds(f) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def page_loads(playwright, url: str, reps: int) -> dict:
    """Cold load of each page in a fresh tab: navigation -> main content visible."""
    browser = launch(playwright)
    out = {}
    for name, (path, selector) in PAGES.items():
        times = []
        for _ in range(reps):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.perf_counter()
            page.goto(f"{url}/{path}")
            page.wait_for_selector(selector, timeout=60_000)
            times.append((time.perf_counter() - t0) * 1000)
            page.close()
        out[name] = percentiles(times)
    browser.close()
    return out


# a page is complete: its title and main figure are there, every image in the main area has
# loaded, and nothing runs or waits (no status widget, spinner or stale element)
_COMPLETE = """
() => {
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (!main || !main.querySelector('h1')) return false;
  if (document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSpinner"], [data-stale="true"]'))
    return false;
  return [...main.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0);
}
"""
# a page's first screen is painted: the title there, and in the first screen (the viewport) every
# image loaded and no spinner, stale element or placeholder (stSkeleton: an element whose code is
# still loading); no status widget unless the page is already
# drawing what is below its fold (genlab_ui.components.below_the_fold): its first-screen
# component has then marked the body "<page>:painted" (after the first screen's images loaded)
# or "<page>:done"
_FOLD = "(document.body.dataset.genlabFold || '')"
_FIRST_SCREEN = """
() => {
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (!main || !main.querySelector('h1')) return false;
  if (!/:(painted|done)$/.test(%s) && document.querySelector('[data-testid="stStatusWidget"]')) return false;
  const seen = (e) => e.getBoundingClientRect().top < window.innerHeight;
  if ([...document.querySelectorAll('[data-testid="stSpinner"], [data-testid="stSkeleton"], [data-stale="true"]')].some(seen))
    return false;
  return [...main.querySelectorAll('img')].filter(seen).every(i => i.complete && i.naturalWidth > 0);
}
""" % _FOLD
# the first frame in which _FIRST_SCREEN holds and the page's main figure is there, timed in the
# page (ms after navigation start): the page may be busy right after it, drawing the rest, which
# would delay a check from outside. The figure's selector is CSS with at most one Playwright
# :has-text("...") (an element of the part before it whose text holds the string).
_FIRST_SCREEN_PROBE = """(() => {
window.__firstScreenMs = null;
const firstScreen = %s;
const [figureBefore, figureText, figureAfter] = %s;
// components draw in shadow roots, which Playwright's selectors pierce: so does this
const roots = () => [document, ...[...document.querySelectorAll("*")].filter(e => e.shadowRoot).map(e => e.shadowRoot)];
const figure = () => roots().some(r => [...r.querySelectorAll(figureBefore)].some(e =>
  (figureText === null || e.innerText.includes(figureText)) && (!figureAfter || e.querySelector(figureAfter))));
const probe = () => {
  try { if (figure() && firstScreen()) { window.__firstScreenMs = performance.now(); return; } } catch (e) {}
  requestAnimationFrame(probe);
};
requestAnimationFrame(probe);
})();
"""


def first_screen_probe(selector: str) -> str:
    """_FIRST_SCREEN_PROBE for a page whose main figure is ``selector``."""
    import re

    m = re.fullmatch(r'(.*?):has-text\("([^"]*)"\)\s*(.*)', selector)
    parts = [m.group(1), m.group(2), m.group(3)] if m else [selector, None, ""]
    return _FIRST_SCREEN_PROBE % (_FIRST_SCREEN.strip(), json.dumps(parts))


# the whole page: complete, and the part below the fold (if any) drawn
FOLD_CAPTION = "The rest of the page follows in a moment"
_WHOLE = _COMPLETE.replace(
    "if (!main || ",
    f"if (/:painted$/.test({_FOLD}) || document.body.innerText.includes('{FOLD_CAPTION}')) return false;\n  "
    "if (!main || ")
TRIVIAL = ("", '[data-testid="stImage"] img')
CHART_YARDSTICKS = {"trivial + one plotly chart": ("?with=plotly", ".js-plotly-plot .main-svg"),
                    "trivial + one vega-lite chart": ("?with=vega", '[data-testid="stVegaLiteChart"]'),
                    "trivial inside genlab's menu and pickers": ("?with=shell", '[data-testid="stImage"] img')}


# what session 38 tried for first paint and did not keep, and where the time goes after the connection
SESSION_38_FIRST_PAINT = (
                      "Tried on 2026-12-07 (session 38), not kept: Streamlit fetches each element's code (a chunk per "
                      'element type: sliders, radios, images, download buttons, the custom components…) only when React'
                      ' first draws such an element, in two waves after the first messages, 100–400 ms from request to '
                      "arrival each. Asking for those 35 chunks (412 KB: the 12 element types genlab's first screens "
                      "use, found from Chromium's resource timing of a new tab of every page, and what they import) "
                      'ahead with `<link rel="modulepreload">` in the launcher\'s index.html did not help: /gans 1,311 '
                      'vs 1,252 ms without, /flows 1,254 vs 1,198 ms (medians of 6 interleaved new tabs, the trivial '
                      "app 1,090 and 1,009 ms in the same rounds); added after the page's load event instead, 1,351 vs "
                      '1,349 and 1,208 vs 1,194 ms. The waves are not on the critical path: the main thread is busy '
                      "drawing meanwhile. Where the time goes after the connection (new tabs, the page's WebSocket "
                      'messages timed in the page, medians of 5, two trainings running): the first message arrives at '
                      "1.0–1.1 s after navigation on every page and on the trivial app alike (Streamlit's own start); "
                      "the trivial app's first screen follows 310 ms later (7 messages, its last 80 ms after the "
                      "first), genlab's pages 560–670 ms later (/flows: 49 messages, the last 87 ms after the first; "
                      "/gans, /vae, home: 44–60 messages over 290–310 ms; session 39 found this spread is not the "
                      "server's: see below), and the browser's drawing of 45–60 elements (React, "
                      "emotion's styles, markdown) is the rest: a CPU profile of /flows from its first message to its "
                      "first screen has react-dom 505 samples of 200 µs, markdown 149, emotion 142. The menu's 11 page "
                      "links are not where the shell's cost is: the trivial page in genlab's shell with its 11 links, 1"
                      " link, no link: 1,110, 1,109, 1,090 ms against the trivial app's 1,002 ms (medians of 8 "
                      'interleaved new tabs, trainings paused). The benchmark opens every tab in a fresh browser '
                      "profile (the HTTP cache empty, Streamlit's JavaScript fetched again each time); new tabs of one "
                      "profile, which reuse the cached JavaScript as a person's browser does, are faster for every page"
                      ' and read further from the yardstick, since what is left is the part genlab adds: the trivial '
                      'app 791 ms, /flows 998 ms (1.26×), /diffusion 1,043 (1.32×), /transport 1,048 (1.32×), '
                      '/projections 1,126 (1.42×), /gans 1,219 (1.54×) (medians of 6 interleaved tabs, trainings '
                      "paused). A server-side timing of /gans' first-screen run (timestamps written by the page, 4 "
                      'runs): 10–15 ms of script, with an occasional stall of 40–120 ms at an arbitrary line, while the'
                      " same process serves the browser's requests for the JavaScript chunks (one Python process, one "
                      'GIL).')


# what session 39 measured for first paint (nothing kept: no lever found)
SESSION_39_FIRST_PAINT = (
    "Measured on 2026-12-07 (session 39), trainings paused. The server is not where the pages' first "
    "screens lose time: timed on the server (each message's enqueue, from the browser's request for a "
    "run to the run's end, 6 new tabs each) a first-screen run takes home 25 ms, /vae 30, /gans 31, "
    "/flows 24, /diffusion 36 (medians). The browser, though, receives those 40–60 messages spread over "
    "70–290 ms: a WebSocket message is handed to the page only when its main thread is free, and it is "
    "busy drawing the first messages' elements; the session-38 reading of that spread as the server's "
    "run was wrong. Three more suspects, each measured and each ruled out: (1) work a page starts in "
    "the background after its whole page (the neighbouring seeds and frames sent ahead) running into "
    "the next page's timed visit: the same interleaved visits as this benchmark, each preceded by a wait "
    "until both servers were quiet or not, 4 rounds each: trivial 1,035 vs 1,012 ms, the pages' ratios "
    "quiet/not home 1.20/1.20, /vae 1.17/1.17, /diffusion 1.20/1.26, /gans 1.20/1.21, /projections "
    "1.32/1.26, /flows 1.18/1.13, /autoregressive 1.25/1.21, /concepts 1.19/1.16, /playground "
    "1.27/1.22, /transport 1.24/1.19, /bigan 1.20/1.20: no systematic difference; (2) the PNG/GIF "
    "download buttons (the only element kind on several first screens that could wait for the rest's "
    "run): without them /gans +10 ms, /flows +3, /diffusion −29, home −28, /transport −1 (medians of 6 "
    "interleaved new tabs, one training running): noise, so they stay; (3) the icon font (Material "
    "Symbols, 375 KB) every genlab page loads and the trivial app does not: it is still loaded with "
    "every icon taken out of the menu's links and the download buttons, because Streamlit's own "
    "sidebar controls use it, so it belongs to any app with a sidebar.")


def first_paint(playwright, url: str, trivial_url: str, reps: int, server_pid: int | None = None) -> dict:
    """New tab -> first screen painted (``_FIRST_SCREEN``, timed in the page from navigation
    start) and -> whole page complete (``_WHOLE``, timed from the request), warm server (every
    page visited once first): every page, and the trivial app (benchmarks/trivial_app.py)
    measured the same way at the start and the end of every round of visits; ms, and each
    page's medians as multiples of the trivial app's."""
    browser = launch(playwright)

    def timed_visit(base: str, path: str, selector: str) -> tuple[float, float]:
        """One new tab: (first screen, whole page) in ms."""
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(first_screen_probe(selector))
        t0 = time.perf_counter()
        page.goto(f"{base}/{path}")
        page.wait_for_selector(selector, timeout=120_000)  # the main figure (Playwright's selectors)
        page.wait_for_function("window.__firstScreenMs !== null", timeout=120_000)
        page.wait_for_function(_WHOLE, timeout=120_000, polling="raf")
        first, whole = page.evaluate("window.__firstScreenMs"), (time.perf_counter() - t0) * 1000
        page.close()
        return first, whole

    def traced(base: str, path: str, selector: str) -> dict:
        """One more new tab, traced: what the renderer's main thread did until the first screen."""
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(first_screen_probe(selector))
        browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
        try:
            page.goto(f"{base}/{path}")
            page.wait_for_function("window.__firstScreenMs !== null", timeout=120_000)
            first = page.evaluate("window.__firstScreenMs")
        finally:
            trace = browser.stop_tracing()
        page.wait_for_function(_WHOLE, timeout=120_000, polling="raf")
        page.close()
        return {"first_screen_ms": round(first, 1), **main_thread_work(trace, first)}

    def visit(path: str, selector: str) -> None:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/{path}")
        page.wait_for_selector(selector, timeout=120_000)
        page.wait_for_function(_WHOLE, timeout=120_000, polling="raf")
        if server_pid:  # the tab stays open until the runs are over: closing it stops them
            wait_server_quiet(server_pid)
        page.close()

    try:
        # a warm server: every page visited once, and the server's own warm-up after its first
        # page (state.warm_up, a few seconds of CPU) over, before anything is timed; without
        # this pass that warm-up ran during the first page's (home's) timed visits. Each visit
        # waits for the server to go quiet too (``visit``): a page that samples on its first
        # visit (/transport's grid, 4-5 s) was otherwise closed mid-run, and its next visits,
        # timed, sampled what was left
        for path, selector in {**PAGES, **LATER_PAGES}.values():
            visit(path, selector)
        time.sleep(2)
        # interleaved rounds: each round opens the trivial app, every page and chart yardstick
        # once (in a rotated order), and the trivial app again, so a drift of the machine's speed
        # over the run (other processes, thermal) weighs on the yardstick as on the pages; the
        # first round warms the caches and is not counted
        targets = {**{name: (url, path, selector) for name, (path, selector) in {**PAGES, **LATER_PAGES}.items()},
                   **{f"chart:{name}": (trivial_url, *where) for name, where in CHART_YARDSTICKS.items()}}
        seen = {name: ([], []) for name in [*targets, "trivial:before", "trivial:after"]}
        for r in range(reps + 1):
            names = list(targets)
            names = names[r % len(names):] + names[:r % len(names)]
            for name in ["trivial:before", *names, "trivial:after"]:
                first, whole = timed_visit(*(targets[name] if name in targets else (trivial_url, *TRIVIAL)))
                if r:
                    seen[name][0].append(first)
                    seen[name][1].append(whole)
        summary = lambda name, where: {**percentiles(seen[name][0]), "whole": percentiles(seen[name][1]),
                                       "main_thread": traced(*where)}
        before = summary("trivial:before", (trivial_url, *TRIVIAL))
        after = summary("trivial:after", (trivial_url, *TRIVIAL))
        pages = {name: summary(name, targets[name]) for name in {**PAGES, **LATER_PAGES}}
        charts = {name: summary(f"chart:{name}", targets[f"chart:{name}"]) for name in CHART_YARDSTICKS}
    finally:
        browser.close()
    trivial = round(statistics.median(seen["trivial:before"][0] + seen["trivial:after"][0]), 1)
    trivial_whole = round(statistics.median(seen["trivial:before"][1] + seen["trivial:after"][1]), 1)
    ratio = lambda d: {**d, "ratio": round(d["p50_ms"] / trivial, 2),
                       "whole_ratio": round(d["whole"]["p50_ms"] / trivial_whole, 2)}
    return {"trivial": {"before": before, "after": after, "p50_ms": trivial, "whole_p50_ms": trivial_whole},
            "pages": {name: ratio(d) for name, d in pages.items()},
            "charts": {name: ratio(d) for name, d in charts.items()}}


def latent_pad(playwright, url: str, moves: int = 200) -> dict:
    """Pointer move -> decoded frame painted, measured in the page (event timestamp to the
    next animation frame), and the JS decode time per frame."""
    browser = launch(playwright)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/vae")
    wait_idle(page)
    canvas = page.locator("canvas.lm-canvas")
    canvas.evaluate("c => new Promise(r => { const w = () => c.genlabDecode ? r() : setTimeout(w, 50); w(); })")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    for i in range(moves):
        k = i % 100
        page.mouse.move(box["x"] + 40 + 3.4 * k, box["y"] + 40 + 3.4 * (k if (i // 100) % 2 == 0 else 99 - k))
    stats = canvas.evaluate("c => c.genlabStats")
    page.mouse.up()
    browser.close()
    return {"pointer_to_frame": percentiles(stats["frame"][-moves:]),
            "decode": percentiles(stats["decode"][-moves:])}


def page_weight() -> dict:
    """Bytes the latent pad adds to /vae: its script and the decoder weights."""
    static = ROOT / "genlab_ui" / "static"
    js = sum((static / f).stat().st_size for f in ("mlp_decoder.js", "latent_map.js", "latent_sliders.js"))
    decoders = sorted((ROOT / "static" / "decoders").glob("*.bin"))
    return {"script_kb": round(js / 1024, 1),
            "decoder_kb_each": sorted({round(p.stat().st_size / 1024) for p in decoders})}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def memory(playwright, url: str, pid: int, interactions: int = 1000) -> dict:
    """Server RSS after start, after visiting every page, every quarter of ``interactions``
    VAE slider steps, and after visiting every page once more (growth: that against the first
    visit)."""
    out = {"after_start_mb": rss_mb(pid)}
    browser = launch(playwright)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})

    def every_page() -> float:
        for path, selector in {**PAGES, **LATER_PAGES}.values():
            page.goto(f"{url}/{path}")
            page.wait_for_selector(selector, timeout=120_000)
            wait_idle(page)
        return rss_mb(pid)

    out["after_pages_mb"] = every_page()
    page.goto(f"{url}/vae")  # the interactions: VAE slider steps
    page.wait_for_selector(PAGES["vae"][1], timeout=60_000)
    wait_idle(page)
    slider = page.locator('[data-testid="stSlider"]', has_text="z1").get_by_role("slider")
    out["during_interactions_mb"] = []
    for i in range(interactions):
        timed_key(page, slider, "ArrowRight" if (i // 20) % 2 == 0 else "ArrowLeft", "decoder mean")
        if (i + 1) % max(1, interactions // 4) == 0:
            out["during_interactions_mb"].append(rss_mb(pid))
    out[f"after_{interactions}_interactions_mb"] = rss_mb(pid)
    out["after_pages_again_mb"] = every_page()
    out["growth_pct"] = round(100 * (max(out[f"after_{interactions}_interactions_mb"], out["after_pages_again_mb"])
                                     / out["after_pages_mb"] - 1), 1)
    browser.close()
    return out


PACE = (1.0, 3.0)  # seconds a person looks at a result before the next step: uniform in this range


def _think(pace: tuple[float, float], rng: random.Random) -> float:
    return rng.uniform(*pace)


async def _session(browser, url: str, steps: int, results: list, errors: list, loads: list,
                   ready: asyncio.Barrier, pace: tuple[float, float] = PACE, seed: int = 0) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page, rng = await context.new_page(), random.Random(seed)
    try:
        t0 = time.perf_counter()
        await page.goto(f"{url}/vae")
        await page.wait_for_selector(PAGES["vae"][1], timeout=120_000)
        loads.append((time.perf_counter() - t0) * 1000)
        await ready.wait()  # everyone has the page open: now they interact at once
        slider = page.locator('[data-testid="stSlider"]', has_text="z1").get_by_role("slider")
        for i in range(steps):
            await asyncio.sleep(_think(pace, rng))  # a person's pace: each looks, then steps
            await page.evaluate(_ARM, ["decoder mean"])
            await slider.press("ArrowRight" if i % 10 < 5 else "ArrowLeft")
            results.append(await page.evaluate("() => window.__genlabProbe"))
        if await page.locator('[data-testid="stException"]').count():
            errors.append("exception on page")
    except Exception as exc:  # counted, not fatal: the figure is the error count
        errors.append(f"{type(exc).__name__}: {str(exc)[:100]}")
        if ready.n_waiting < ready.parties and not ready.broken:
            await ready.abort()
    finally:
        await context.close()


def _vae_check(run, z1: float) -> bool:
    return any(f"z = ({z1:.2f}," in c for c in run.image_captions())


# protocol sessions' interactions: page, widget key, value field, first value, next value,
# and what the rerun must send back
SCENARIOS = {
    "vae slider": ("vae", "vae.z1", "double_array_value", None,
                   lambda i, v: round(v + (0.05 if i % 10 < 5 else -0.05), 2), _vae_check),
    "gan seed": ("gans", "gans.seed", "double_array_value", 0, lambda i, v: v + 1,
                 lambda run, v: any("gan-mlp" in c for c in run.image_captions())),
    "projections switch": ("projections", "proj.method", "string_value", "PCA",
                           lambda i, v: "t-SNE" if v == "PCA" else "PCA",
                           lambda run, v: _map_axis(run) == ("t-SNE 1" if v == "t-SNE" else "PC 1")),
}


def _map_axis(run) -> str | None:
    """The x-axis title of the map a run sent (scatter_map's data: JSON text, the map itself or
    {main: the map, switch: the other one})."""
    for e in run.elements:
        if e.kind == "bidi_component" and e.proto.component_name == "genlab.scatter_map":
            data = json.loads(e.proto.json)
            data = json.loads(data) if isinstance(data, str) else data
            return data.get("main", data)["axis"][0]
    return None


async def _protocol_session(url: str, scenario: str, steps: int, results: dict, errors: list,
                            loads: list, ready: asyncio.Barrier, pace: tuple[float, float] = PACE,
                            seed: int = 0) -> None:
    """A person's session without a browser (benchmarks.protocol): open the page, then change
    its main widget ``steps`` times, ``pace`` seconds apart; the rerun must send the new content."""
    from benchmarks.protocol import Session

    page, key, field, value, step, check = SCENARIOS[scenario]
    rng = random.Random(seed)
    try:
        async with Session(url) as s:
            run = await s.open(page)
            loads.append(run.seconds * 1000)
            widget = run.widget(key)
            if value is None:
                value = widget.proto.value[0]
            await ready.wait()
            for i in range(steps):
                await asyncio.sleep(_think(pace, rng))  # a person's pace: each looks, then steps
                value = step(i, value)
                run = await s.set_widget(widget, field, [value] if field.endswith("array_value") else value)
                if not check(run, value):
                    errors.append(f"{scenario}: no new content for {value}")
                results.setdefault(scenario, []).append(run.seconds * 1000)
    except Exception as exc:
        errors.append(f"{scenario}: {type(exc).__name__}: {str(exc)[:600]}")
        if ready.n_waiting < ready.parties and not ready.broken:
            await ready.abort()


# the long samplers a concurrency run starts at once: page, widgets set first (key, value field,
# value), the button, the button of the page's question if it asks first, and a caption the
# finished result shows
LONG_SAMPLERS = {
    "DDPM-1000": ("diffusion", [("diff.sampler", "string_value", "DDPM")], "diff.go", "diff.confirm",
                  "x_0 (final sample)"),
    "PixelCNN": ("autoregressive", [], "ar.go", None, "784 steps of one new position per layer"),
}


async def _long_session(url: str, which: str, seconds: dict, errors: list, ready: asyncio.Barrier,
                        limit_s: float = 900) -> None:
    """A person who starts a long sampler when everyone else starts: the button (and the
    page's question) pressed, then the live view's timed reruns, as the browser sends them,
    until the result shows; ``seconds[which]`` = click → result."""
    from benchmarks.protocol import Session

    page, settings, button, confirm, done = LONG_SAMPLERS[which]
    try:
        async with Session(url) as s:
            run = await s.open(page)
            for key, field, value in settings:
                run = await s.set_widget(run.widget(key), field, value)
            await ready.wait()
            t0 = time.perf_counter()
            run = await s.click(run.widget(button))
            if confirm and any(e.id.endswith(f"-{confirm}") for e in run.elements):
                run = await s.click(run.widget(confirm))
            while not any(done in c for c in run.image_captions()):
                if time.perf_counter() - t0 > limit_s:
                    raise TimeoutError(f"no result after {limit_s:.0f} s")
                if any(e.kind == "exception" for e in run.elements):
                    raise RuntimeError("exception on page")
                live = [e.fragment for e in run.elements if e.kind == "progress" and e.fragment]
                if not live:
                    raise RuntimeError("neither a progress bar nor the result")
                await asyncio.sleep(1.0)  # the live view's run_every
                run = await s.rerun_fragment(live[0], timeout=120)
            seconds[which] = round(time.perf_counter() - t0, 1)
    except Exception as exc:
        errors.append(f"{which}: {type(exc).__name__}: {str(exc)[:100]}")
        if ready.n_waiting < ready.parties and not ready.broken:
            await ready.abort()


async def _concurrent(url: str, sessions: int, steps: int, browsers: int = 2,
                      pace: tuple[float, float] = PACE) -> dict:
    """``sessions`` people at once: ``browsers`` of them step the VAE slider in real Chromium
    tabs (key -> new image painted); two start the long samplers (DDPM-1000, PixelCNN) when the
    others start; the rest are protocol sessions (the server does the same work for them)
    taking turns at the VAE slider, the GAN seed and the projections method (change -> rerun
    done, images fetched)."""
    from playwright.async_api import async_playwright

    browsers = min(browsers, sessions)
    longs = list(LONG_SAMPLERS)[:max(0, sessions - browsers - 1)]
    async with async_playwright() as p:
        # every session stands for a person with the page in the foreground of their own
        # browser: no background-tab throttling of timers and animation frames
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
            "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows"])
        painted, served, errors, loads, long_s = [], {}, [], [], {}
        kinds = list(SCENARIOS)
        ready = asyncio.Barrier(sessions)
        await asyncio.gather(
            *[_session(browser, url, steps, painted, errors, loads, ready, pace, i) for i in range(browsers)],
            *[_long_session(url, which, long_s, errors, ready) for which in longs],
            *[_protocol_session(url, kinds[i % len(kinds)], steps, served, errors, loads, ready, pace, 100 + i)
              for i in range(sessions - browsers - len(longs))])
        await browser.close()
    return {"sessions": sessions, "browser_tabs": browsers,
            **(percentiles(painted) if painted else {"n": 0}),
            "protocol_sessions": percentiles(sum(served.values(), [])) if served else {"n": 0},
            "protocol_by_interaction": {k: percentiles(v) for k, v in served.items()},
            "long_samplers_s": long_s,
            "errors": len(errors), "error_samples": errors[:3],
            "simultaneous_page_load": percentiles(loads) if len(loads) > 1 else {}}


def page_sampling(model, sampler: str, steps: int, n: int, seed: int) -> tuple[float, int]:
    """One reverse run exactly as /diffusion's job makes it (genlab_ui: loaders.denoiser and
    pages/diffusion.py's start_sampling): the worker count found faster now, the trajectory
    with at most 100 kept steps, a progress report per step. (seconds, workers)."""
    from genlab.families.ddpm import FastDenoiser, fastest_workers, record_trajectory

    fast = FastDenoiser(model, workers=fastest_workers(model, n)[0])
    seconds = _seconds(lambda: record_trajectory(fast, sampler, steps, 0.0, n, seed, keep=100,
                                                 on_step=lambda i, total: None))
    return seconds, fast.workers


def sampling_speed(smoke: bool = False) -> dict:
    """Images per second per checkpoint (batch of 256, 2 threads, median of 3). Diffusion,
    as its page samples (``page_sampling``): seconds for DDIM-50 of 16 images (median of 3)
    and DDPM-1000 of 16 and of 8 images (once each) after a warm-up run."""
    import torch

    from genlab import checkpoints, registry
    from genlab.families.ddpm import bf16_supported
    from genlab.sample import sample_images

    torch.set_num_threads(2)
    out = {}
    reps, batch = (1, 16) if smoke else (3, 256)
    for folder in checkpoints.find_all():
        ckpt = registry.load(folder)
        family = registry.get(ckpt.card["family"])
        if family.sample is None:
            continue
        if ckpt.card["family"] == "ddpm":
            torch.set_num_threads(1)  # as in the app (genlab_ui.loaders)
            page_sampling(ckpt.model, "ddim", 50, 16, 99)  # warm-up: bfloat16 kernels are built
            ddim = statistics.median(page_sampling(ckpt.model, "ddim", 50, 16, seed)[0] for seed in range(reps))
            long_steps = 20 if smoke else 1000  # the smoke run checks the path, not the figure
            ddpm16, workers16 = page_sampling(ckpt.model, "ddpm", long_steps, 16, 0)
            ddpm8, workers8 = page_sampling(ckpt.model, "ddpm", long_steps, 8, 0)
            out[ckpt.id] = {"ddim50_16_images_s": round(ddim, 2), "ddpm1000_16_images_s": round(ddpm16, 1),
                            "ddpm1000_8_images_s": round(ddpm8, 1), "workers_16_8": [workers16, workers8],
                            "bfloat16": bf16_supported(),
                            "load_average": round(os.getloadavg()[0], 1)}
            torch.set_num_threads(2)
            continue
        times = []
        for seed in range(reps):
            t0 = time.perf_counter()
            sample_images(family, ckpt.model, batch, seed)
            times.append(time.perf_counter() - t0)
        out[ckpt.id] = round(batch / statistics.median(times), 1)
    return out


def diffusion_sample_click(playwright, url: str) -> dict:
    """/diffusion in the browser, DDPM-1000 of 8 images on the default dataset: the click that
    starts the run ("Run it", after the page's question) -> the final grid painted; then the
    same run as a function (``page_sampling``) in this process, for the ratio."""
    import torch

    from genlab import checkpoints, registry

    browser, page = opened(playwright, url, "diffusion", PAGES["diffusion"][1])
    page.get_by_test_id("stRadioGroup").get_by_text("DDPM", exact=True).click()
    wait_idle(page)
    t0 = time.perf_counter()
    page.get_by_role("button", name="Sample 8 with DDPM-1000").click()
    # estimated over 20 s the page asks first (the run starts at "Run it"), else it runs at once
    page.wait_for_selector('button:has-text("Run it"), [data-testid="stProgress"], '
                           '[data-testid="stImage"]:has-text("x_0 (final sample)")', timeout=60_000)
    run_it = page.get_by_role("button", name=re.compile(r"^Run it"))
    asked = run_it.count() > 0
    if asked:
        t0 = time.perf_counter()
        run_it.click()
    page.wait_for_selector('[data-testid="stImage"]:has-text("x_0 (final sample)") img', timeout=600_000)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stImage\"] img')]"
                           ".every(i => i.complete)")
    clicked = time.perf_counter() - t0
    browser.close()
    torch.set_num_threads(1)
    model = registry.load(checkpoints.resolve(f"{DEFAULT_DATASET}/ddpm")).model
    function_s, workers = page_sampling(model, "ddpm", 1000, 8, 0)
    return {"images": 8, "asked_first": asked, "click_to_final_grid_s": round(clicked, 1),
            "same_run_as_a_function_s": round(function_s, 1), "workers": workers,
            "load_average": round(os.getloadavg()[0], 1)}


DEFAULT_DATASET = "mnist"


def _cpu_model() -> str:
    """The CPU's model name (the figures depend on it: AVX-512 machines run torch ~2× faster)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    return next((line.split(":", 1)[1].strip() for line in text.splitlines()
                 if line.startswith("model name")), "unknown CPU")


def playground_table(smoke: bool = False) -> list[dict]:
    """Every 2-D family on every toy data set at its default steps, as ``genlab toy`` runs it:
    training seconds (one thread) and the energy distance against the Gaussian reference."""
    import torch

    from genlab import playground
    from genlab.toy import TOY_DATASETS

    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one core per training, as on the page
    rows = []
    try:
        for data in TOY_DATASETS[:1] if smoke else TOY_DATASETS:
            for family in list(playground.TOY_FAMILIES)[:1] if smoke else playground.TOY_FAMILIES:
                _, r = playground.fit(family, data, steps=50 if smoke else None)
                rows.append({"family": family, "data": data, "steps": r["steps"], "seconds": r["seconds"],
                             "energy_distance": r["energy_distance"], "gaussian_baseline": r["gaussian_baseline"],
                             "real_vs_real": r["real_vs_real"],
                             "ratio": round(r["energy_distance"] / r["gaussian_baseline"], 3)})
                print(rows[-1], flush=True)
    finally:
        torch.set_num_threads(torch_threads)
    return rows


async def _playground_answers(url: str, reps: int) -> dict:
    """Another control of /playground (the data radio) → its rerun done, over protocol
    sessions: with no training, then while one trains three families."""
    from benchmarks.protocol import Session

    async def toggles(s, run, n):
        times = []
        for i in range(n):
            run = await s.set_widget(run.widget("pg.data"), "int_value", (i + 1) % 2 * 2)
            times.append(run.seconds * 1000)
            await asyncio.sleep(0.2)
        return run, times

    async with Session(url, fetch_media=False) as s:
        run = await s.open("playground")
        await asyncio.sleep(4)  # the page's warm-up thread
        run, idle = await toggles(s, run, reps)
        run = await s.set_widget(run.widget("pg.train"), "trigger_value", True)
        await asyncio.sleep(1)
        run, busy = await toggles(s, run, reps)
    return {"idle": percentiles(idle), "training": percentiles(busy)}


def playground_browser(playwright, url: str, reps: int = 10) -> dict:
    """/playground in Chromium: Train (three families) → the first frame of every family
    painted; and another control (the data radio) → its answer on the page (the Train button
    relabelled), with no training and while three families train."""
    def answers(page, n: int) -> dict:
        times = []
        for i in range(n):
            name = ("8 Gaussians", "two moons")[i % 2]
            times.append(timed_click(page, page.get_by_test_id("stRadio").get_by_text(name, exact=True),
                                     _BUTTON_SAYS, f"on {name}"))
            time.sleep(0.3)
        return percentiles(times)

    times = []
    browser, page = opened(playwright, url, "playground", "text=Train 3 on")
    time.sleep(5)  # the server's warm-up thread (torch's first optimizer imports torch._dynamo)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    replayed = page.get_by_role("heading", name="Training, replayed")
    stop = page.get_by_role("button", name="Stop")
    clicks = {"stop": 0, "stop_again": 0}

    def train() -> float:  # the next seed: a new run (the same settings show the run kept)
        page.locator('[data-testid="stSlider"]', has_text="Seed").get_by_role("slider").press("ArrowRight")
        wait_idle(page)
        t0 = time.perf_counter()
        page.get_by_role("button", name=re.compile("^Train 3 on")).click()
        # the last run's replay (whose panels have titles too) gone, the live panels drawn
        replayed.wait_for(state="detached", timeout=30_000)
        page.locator(".tp-title", has_text=" · step ").nth(2).wait_for(timeout=30_000)
        return (time.perf_counter() - t0) * 1000

    def stopped() -> None:
        """Stop, and wait for the replay; a click that fell between two renders of the live
        part is lost as a person's would be, and repeated as a person would (counted)."""
        for attempt in range(3):
            clicks["stop" if attempt == 0 else "stop_again"] += 1
            stop.click()
            try:
                replayed.wait_for(timeout=20_000)
                break
            except PlaywrightTimeout:
                if not stop.is_visible():
                    raise
        else:
            raise AssertionError("three clicks on Stop and the training still runs")
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)

    try:
        for i in range(reps):
            times.append(train())
            stopped()
            time.sleep(1)  # the results drawn, as a user sees them before training again
        idle = answers(page, reps)
        train()
        busy = answers(page, reps)
        assert stop.is_visible(), "the training ended during the measure"
    finally:
        browser.close()
    return {"first_frame": percentiles(times), "answers_idle": idle, "answers_training": busy, "clicks": clicks}


# in-page probe: ms from the next key press to the last change of the page within limitMs
# (a control's rerun is over when nothing changes any more; its figures are redrawn by then)
_ARM_SETTLED = """
([limitMs]) => {
  window.__genlabSettled = new Promise((resolve) => {
    let t0 = null, last = null;
    document.addEventListener('keydown', () => { t0 = performance.now(); }, {capture: true, once: true});
    const obs = new MutationObserver(() => { if (t0 !== null) last = performance.now(); });
    obs.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
    setTimeout(() => { obs.disconnect(); resolve(last === null ? null : last - t0); }, limitMs);
  });
}
"""


def slider_controls(playwright, url: str, path: str, reps: int) -> dict:
    """Every slider of a page, keyboard steps (right, then back): ms from the key to the last
    change of the page that it caused, p50/p95 over all and per slider."""
    browser, page = opened(playwright, url, path, '[data-testid="stMainBlockContainer"] [data-testid="stSlider"]')
    wait_idle(page)  # the page's later sections
    time.sleep(3)  # the URL state's rerun after load
    main = page.get_by_test_id("stMainBlockContainer")
    sliders = main.get_by_role("slider")
    every, per = [], {}
    try:
        for i in range(sliders.count()):
            slider = sliders.nth(i)
            if not slider.is_visible() or slider.is_disabled():
                continue
            label = slider.get_attribute("aria-label") or f"slider {i}"
            times = []
            for k in range(reps + 2):
                page.evaluate(_ARM_SETTLED, [1500])
                slider.focus()
                slider.press("ArrowRight" if (k // 4) % 2 == 0 else "ArrowLeft")
                ms = page.evaluate("() => window.__genlabSettled")
                if k >= 2 and ms is not None:  # two warm-up steps
                    times.append(ms)
            per[label] = percentiles(times)
            every += times
    finally:
        browser.close()
    return {"all": percentiles(every), "sliders": per}


def guided_row_compute(reps: int = 5) -> dict:
    """What a setting of /transport's guidance row costs when it was not sampled ahead (a jump,
    not a key step): 8 images of the Fashion-MNIST rectified flow, Heun K = 8, w = 3 (cond and
    uncond batched), as the page samples them, fresh noise each time: ms."""
    from genlab import registry, sample
    from genlab.families import ddpm, rectified_flow as rf

    net = ddpm.FastDenoiser(registry.load(ROOT / "checkpoints" / "fashion-mnist" / "rectified-flow").model)
    times = [1000 * _seconds(lambda: rf.rf_sample(net, 8, sample.generator(seed), sampler="heun", steps=8,
                                                   label=3, guidance=3.0)) for seed in range(reps + 1)]
    return percentiles(times[1:])


def markdown(r: dict) -> str:
    lines = ["# Benchmarks", "", f"Machine: {r['machine']}. Generated by `python -m benchmarks` "
             f"on {r['date']}; headless Debian Chromium against `python -m genlab_ui --no-preload` "
             "(the README's command without its warm-up).", ""]
    older = {part: m for part, m in r.get("measured", {}).items()
             if (m["machine"], m["date"]) != (r["machine"], r["date"])}
    if older:
        lines += ["Kept from an earlier run (`--only` reran the others): " + "; ".join(
            f"`{part}` on {m['date']} ({m['machine']})" for part, m in older.items()) + ".", ""]
    lines += ["| what | n | p50 | p95 | p95 × trivial slider |", "|---|---|---|---|---|"]
    yard = r.get("trivial_slider", {}).get("p95_ms")

    def row(name: str, d: dict, unit: str = "ms", control: bool = False) -> None:
        ratio = f"{d['p95_ms'] / yard:.2f}×" if control and yard and d.get("p95_ms") else ""
        if d.get("instant"):  # steps painted from pictures sent ahead, before the rerun answered
            name += f" ({d['instant']} of {d['n']} painted ahead of the rerun)"
        lines.append(f"| {name} | {d.get('n', '')} | {d.get('p50_ms', '')} {unit} | {d.get('p95_ms', '')} {unit} "
                     f"| {ratio} |")
    for name, d in r.get("page_load", {}).items():
        row(f"cold load of /{PAGES[name][0]} (new tab → content)", d)
    if "page_load_without_live_decode" in r:
        row("/vae without live decode (GENLAB_NO_LIVE_DECODE=1)", r["page_load_without_live_decode"]["vae"])
    if "trivial_slider" in r:
        row("*the yardstick: the trivial app's slider key → its image painted (benchmarks/trivial_app.py, "
            "same run; the issue's aim: every control's p95 within 1.5×)*", r["trivial_slider"], control=True)
    if "vae_slider" in r:
        row("VAE z1 slider key → new image painted", r["vae_slider"], control=True)
        row("GAN seed key step → the row of grids painted (every GAN, then the VAE reference)", r["gan_seed"], control=True)
    if "gan_snapshot" in r:
        row("GAN replay snapshot slider key → replayed grid painted", r["gan_snapshot"], control=True)
    if "diffusion_step" in r:
        row("diffusion step slider key → next x_t painted (DDIM-50, 8 images)", r["diffusion_step"], control=True)
    if "projections_switch" in r:
        row("projections PCA ⇄ t-SNE click → map redrawn", r["projections_switch"], control=True)
    if "flows_temperature" in r:
        row("flows temperature slider key → new samples painted", r["flows_temperature"], control=True)
    if "pixelcnn_field" in r:
        row("PixelCNN receptive field pixel-row key → new field painted", r["pixelcnn_field"], control=True)
    if "latent_pad" in r:
        row("latent pad pointer move → frame painted", r["latent_pad"]["pointer_to_frame"])
        row("latent pad JS decode per frame", r["latent_pad"]["decode"])
    for c in r.get("concurrency", []):
        row(f"{c['sessions']} sessions at once: the {c['browser_tabs']} Chromium tabs, VAE "
            f"slider key → image painted ({c['errors']} errors in all)", c)
        longs = c.get("long_samplers_s", {})
        row(f"… {c['sessions'] - c['browser_tabs'] - len(longs)} protocol sessions (VAE slider, GAN "
            "seed, projections method), change → rerun done + images fetched"
            + (f"; meanwhile {len(longs)} more started long samplers, click → result: "
               + ", ".join(f"{k} {v} s" for k, v in longs.items()) if longs else ""), c["protocol_sessions"])
    facts = [
        ("cold_start", lambda c: f"App cold start (`python -m genlab_ui --no-preload` → home rendered): median "
                                 f"{c['median_home_rendered_s']} s over {len(c['runs'])} runs."),
        ("page_weight", lambda w: f"Page weight of the latent pad: script {w['script_kb']} KB, decoder "
                                  f"weights {w['decoder_kb_each']} KB per VAE (float32, fetched once)."),
        ("memory", lambda m: f"Server memory (RSS): {json.dumps(m)}."),
        ("sampling_images_per_s", lambda x: f"Sampling speed (images/s, batch 256, 2 threads; diffusion: "
                                            f"seconds for 16 images as the page samples): {json.dumps(x)}."),
        ("diffusion_sample_click", lambda x: f"/diffusion in the browser, DDPM-1000 of 8 images, the click "
                                             f"that starts it → the final grid painted, and the same run as a "
                                             f"function: {json.dumps(x)}."),
        ("projection_speed", lambda x: f"Projections of 5,000 points (seconds): {json.dumps(x)}."),
        ("projections_fresh_tsne", lambda x: f"In the browser, 5,000 Fashion-MNIST points: the click on t-SNE "
                                             f"→ a fresh map drawn, then the same settings again (cached): "
                                             f"{json.dumps(x)}."),
    ]
    lines += [""] + [f"- {say(r[key])}" for key, say in facts if key in r] + [""]
    if "gan_seed" in r:
        lines += ["Where a GAN seed step goes (traced 2026-12-06, trainings paused, medians of 16 steps; "
                  "the browser's socket messages timed in the page, the server's with timestamps on "
                  "its enqueue and send): the key → the first message 28–34 ms (the trivial app: 18–20), "
                  "the last message before the paint 60–67 ms (24), the paint 86–97 ms (46–61). The "
                  "server takes 18–22 ms from the rerun request to its last message sent (5 ms to the "
                  "run's first message, the fragment's body 10 ms, 31 messages); Python's thread switch "
                  "interval at 1 ms instead of 5 changed nothing, nor did spacing the steps 1 s apart "
                  "(the neighbouring seeds are drawn in the background). The rest is the browser "
                  "handling 31 messages on a page of a few hundred elements: a bare page with the same "
                  "row (five 224-px grids, download buttons) and a slider paints in 60 ms, 76 ms with 60 "
                  "more elements on the page. The snapshot step is the same story (24 messages, its two "
                  "loss charts redrawn with the step marked). Traced again on 2026-12-06 with the "
                  "socket's send hooked too: the browser sends the rerun request 13.7 ms after the key "
                  "on /gans and 15.3 ms on the trivial app, so nothing before the request is slower; the "
                  "server answers within 1.4-8.7 ms and has queued its 30 messages 10.5-16.7 ms after "
                  "the request, yet the browser handles the first at 31 ms and the last at 60-70 ms. "
                  "Tried on the snapshot step, A/B in the same run: without its two loss charts the "
                  "paint came 0-15 ms sooner; the grids sent at their own size and scaled 2x by the "
                  "browser (a quarter of the pixels, 63 instead of 71 KB a step) gained nothing (98 vs "
                  "101 ms, 105 vs 103), so neither was kept. Kept since: the row is one image list "
                  "(components.figure_row: one picture element, one download of the whole row, the "
                  "section's title and caption outside the fragment), 16 messages a step instead of 31; "
                  "A/B against the commit before, 40 steps twice each, trainings paused: p50 92 → 82 ms, "
                  "p95 109 → 97 (trivial p95 69.5). Hiding everything below the row changed nothing "
                  "(p95 120 and 104 ms with it, 112 and 120 without), so the page's size is not what is left. "
                  "The replay's two loss panels are SVG pictures drawn on the server instead of Vega-Lite "
                  "charts redrawn at every step: snapshot step p50 91 and 85 → 83 and 82 ms, p95 114 and "
                  "105 → 101 and 104 (same A/B).", "",
                  "Where a PCA ⇄ t-SNE switch goes (2026-12-06, py-spy on the server, 18 switches): the "
                  "server's part was 21 ms, 5 of them hashing the 2,000 held-out images for the hover "
                  "atlas's cache (a new copy each run) and 4–5 building and encoding the map's JSON; with "
                  "one read-only copy per process and each map's JSON text kept, 13 ms (median of 32). "
                  "The click → map redrawn stayed 105–107 ms: the browser's React work and layout after the "
                  "last message (about 60 ms) is most of it. Then (2026-12-06, second pass) the overlay row "
                  "left the map's fragment (the page draws it above): a switch sends 23 messages instead of "
                  "30; A/B, 20 switches twice per server, trainings paused: p95 93–108 ms against 95–113.", "",
                  "The yardstick moved on 2026-12-06 (session 34, on an AMD EPYC machine with Chromium 156, where the run before was on an Intel Xeon): "
                  "the trivial slider's p50 41 ms and p95 57 ms, where the runs before measured 53 and 69 ms; "
                  "genlab's controls kept their times (VAE z1 p50 68 ms, GAN seed 74), so every ratio rose "
                  "by about a fifth. Where the difference to the trivial app goes, on that machine (the "
                  "trivial page with genlab's pieces added one at a time, 30 key steps twice each, trainings "
                  "paused; p50): the trivial app 41 ms; in genlab's shell (sidebar menu, dataset picker, "
                  "copy-link button) 57, but 41 again when the slider and image are in a fragment, as "
                  "genlab's controls are; a fragment whose slider is kept in the URL (bind=\"query-params\", "
                  "as every genlab control is, for links to a view) 57.5: on each change Streamlit's browser "
                  "code writes the URL and re-renders the whole app before it sends the rerun request (the "
                  "request left 22 ms after the key instead of 8). history.replaceState itself takes about "
                  "1 ms. Unbinding the VAE's z1 and z2 and every seed, as an experiment: the VAE step's p50 "
                  "67 and 63 → 60 and 56 ms, the GAN seed's unchanged (73 and 71 → 71 and 74), so it was "
                  "not kept: keeping links to a view without binding needs the URL written from the server.", "",
                  "Since session 36 (2026-12-06) every control above paints without waiting for the server: "
                  "each run (from the one after the page's first screen) sends, with what it draws, the pictures "
                  "of the control's neighbouring values (components.instant_frames: the diffusion step ±3, the "
                  "flow's temperature ±0.1 when NICE-fast, the GAN seed ±1 with ±2 drawn after the run on the "
                  "background thread, the replay's snapshot ±2 with its two loss charts, the VAE's z1 and z2 "
                  "two steps either way, the receptive field's pixel row and column ±2), as content-named PNG files the browser "
                  "loads in the background; when the thumb moves (a key, a drag), genlab_ui/static/instant_frames.js "
                  "swaps them into the pictures and captions at once, and the rerun that follows draws the same "
                  "(the browser tests compare them pixel for pixel). /projections' map component gets the other "
                  "method's map with this one (PCA, or a t-SNE that is shipped or fitted before, with every "
                  "overlay already placed on it) and draws it on the click. The rows above say how many of the "
                  "timed steps were painted so; a step to a value not sent ahead (Home or End, a seed two "
                  "steps on while the server is still drawing) waits for its rerun as before.", ""]
    if "playground" in r:
        pg = r["playground"]
        lines += ["## 2-D playground", "",
                  f"- Train → the first frame of three families painted, the last run's replay gone "
                  f"(Chromium): {json.dumps(pg['first_frame'])}; Stop clicked {pg.get('clicks', {}).get('stop', '?')} "
                  f"times, again after a lost click {pg.get('clicks', {}).get('stop_again', '?')} times.",
                  f"- Another control (the data radio) → its answer painted (the Train button "
                  f"relabelled; Chromium): no training {json.dumps(pg.get('answers_idle'))}; while three "
                  f"families train {json.dumps(pg.get('answers_training'))}.",
                  f"- The same, server side only (rerun done, protocol session): no training "
                  f"{json.dumps(pg['answers']['idle'])}; while three families train "
                  f"{json.dumps(pg['answers']['training'])}.", "",
                  "Every family at its default steps (`python -m genlab toy FAMILY --data NAME`, one "
                  "thread): training seconds and energy distance ÷ the Gaussian reference (lower is "
                  "better; 1 = a Gaussian with the data's mean and covariance)."
                  + (f" The table: {pg['table_note']}." if pg.get("table_note") else ""), "",
                  "| family | " + " | ".join(dict.fromkeys(row["data"] for row in pg["table"])) + " |",
                  "|---|" + "---|" * len(dict.fromkeys(row["data"] for row in pg["table"]))]
        for family in dict.fromkeys(row["family"] for row in pg["table"]):
            cells = [f"{row['ratio']:.2f} · {row['seconds']:.1f} s" for row in pg["table"] if row["family"] == family]
            lines.append(f"| {family} | " + " | ".join(cells) + " |")
        lines.append("")
    if "cold_pages" in r:
        plain = r.get("cold_pages_streamlit_run", {})
        lines += ["## First visit after a fresh start", "",
                  "Each page opened in a new tab as soon as a new server answers (its own server, "
                  "cold caches), started by the README's `python -m genlab_ui`, which imports the "
                  "pages' libraries, loads every checkpoint and samples the first dataset's default "
                  "views (/transport's grid, /autoregressive's completions) before it listens "
                  "(\"ready\": the command → the server answering), and, in brackets, with "
                  "`--no-preload` (what a first visit of plain `streamlit run app.py` pays): "
                  "seconds to the title, to the main figure, and to the first screen painted. The "
                  "issue's aim: ≤ 3 s to the title and main figure." + (
                      f" On /vae the latent pad answered the pointer (its decoder loaded) "
                      f"{r['cold_pages']['vae']['pad_after_title_s']} s after the title "
                      f"({plain.get('vae', {}).get('pad_after_title_s')} s); the aim: ≤ 1 s."
                      if "pad_after_title_s" in r["cold_pages"].get("vae", {}) else ""), "",
                  "| page | ready | title | main figure | first screen |", "|---|---|---|---|---|"]

        def both(name: str, key: str) -> str:
            other = plain.get(name, {}).get(key)
            return f"{r['cold_pages'][name][key]} s" + (f" ({other} s)" if other is not None else "")
        lines += [f"| {name} | {both(name, 'ready_s')} | {both(name, 'title_s')} | "
                  f"{both(name, 'main_figure_s')} | {both(name, 'first_screen_s')} |" for name in r["cold_pages"]]
        lines.append("")
    if "first_paint" in r:
        fp = r["first_paint"]
        lines += ["## First paint", "",
                  "New tab → first screen painted (title and main figure there; in the viewport every "
                  "image loaded and no spinner, stale element or placeholder of an element whose code "
                  "is still loading; no status widget unless the page is "
                  "already drawing what is below its fold), timed in the page from navigation start at "
                  "the first frame where this holds, and → whole page complete (the part below the fold "
                  "drawn too, nothing running), timed from the request; warm server: every page visited "
                  "once, and the server's warm-up after its first page over, before anything is timed "
                  "(until 2026-12-06 that warm-up, a few seconds of CPU, ran during the first page's "
                  "timed visits: home's figures were 1.5–1.8× where interleaved runs gave 1.2–1.3×), "
                  "then each page once more untimed. The yardstick is benchmarks/trivial_app.py (one slider, one "
                  "image) measured the same way, in interleaved rounds since 2026-12-07 (each round opens "
                  "the trivial app, every page and yardstick once in a rotated order, and the trivial app "
                  "again; a first round not counted), so a drift of the machine's speed during the run "
                  "weighs on the yardstick as on the pages (before that: the trivial app before and after "
                  "all pages, whose two medians differed by up to 10 % in a run): first screen p50 "
                  f"{fp['trivial']['before']['p50_ms']} ms at the rounds' start, {fp['trivial']['after']['p50_ms']} ms "
                  f"at their end, {fp['trivial']['p50_ms']} ms over both"
                  + (f", whole {fp['trivial']['whole_p50_ms']} ms" if "whole_p50_ms" in fp["trivial"] else "")
                  + ". The issue's aim: every page's first screen within 1.2×.", "",
                  "| page | n | first screen p50 | p95 | × trivial | whole page p50 | × trivial |",
                  "|---|---|---|---|---|---|---|"]
        row = lambda name, d: (f"| {name} | {d['n']} | {d['p50_ms']} ms | {d['p95_ms']} ms | {d['ratio']}× | "
                               f"{d['whole']['p50_ms']} ms | {d['whole_ratio']}× |") if "whole" in d else \
            f"| {name} | {d['n']} | {d['p50_ms']} ms | {d['p95_ms']} ms | {d['ratio']}× | | |"
        lines += [row(name, d) for name, d in fp["pages"].items()]
        if "charts" in fp:
            lines += [row(f"*{name}*", d) for name, d in fp["charts"].items()]
            lines += ["", "The chart rows are the trivial app with one small chart added: Streamlit loads and "
                          "starts a chart library for a page's first chart of that kind, so a page that draws "
                          "a plotly or vega-lite chart in its first paint is already past 1.2× before anything "
                          "else. The server is not where the time goes: a warm script run of any page takes "
                          "0.07–0.14 s (protocol sessions, 2026-12-03).",
                      "",
                      "The row \"inside genlab's menu and pickers\" is the trivial page drawn inside "
                      "app.py's shell (the menu's eleven links, the dataset picker, the download size, "
                      "the copy-link button): what every genlab page pays before its own content.",
                      "",
                      "Where the rest goes (traced 2026-12-05, trainings paused, medians of 3–6 fresh "
                      "tabs): the page's HTML and Streamlit's main bundle take the same time for every "
                      "app (DOMContentLoaded 0.66–0.73 s after navigation for the trivial app and genlab "
                      "alike), and genlab's server sends a first screen's messages within 0.1–0.2 s of "
                      "the socket opening (/gans: 55 messages, 54 KB; the trivial app: 7, 1 KB). The "
                      "difference is in the browser: each kind of element first met loads its code (an "
                      "element shows a placeholder, stSkeleton, until then). The trivial app loads 15 "
                      "such chunks; /gans's first screen 44 (the selectbox alone 17; the page links, "
                      "number inputs, checkboxes, download buttons, and the custom-component runtime "
                      "with its Arrow decoder, 200 KB, for the copy-link button), and on two cores the "
                      "last of them arrives 0.3–0.45 s after the first request, though the server "
                      "answers each in 1.4 ms (curl): the browser's own work (250–390 ms of long tasks "
                      "before the first paint, against 130–160 ms for the trivial app) is the critical "
                      "path. Drawing the sidebar after the page instead of before it changed the pages "
                      "by −7 % to +13 % (noise), so it was not kept. Two fixes came from the trace: "
                      "/autoregressive's and /transport's figures in this table were below the viewport "
                      "(the receptive field; the guidance grid), so their \"first screen\" waited for the "
                      "whole page: the figures are now the completions (drawn in the first screen, which "
                      "the viewport shows anyway) and the K-steps grid; and the fold component asked for "
                      "the rest of the page while the first screen's elements were still placeholders, "
                      "so the rest's run greyed out (stale) a first screen not yet drawn: it now waits "
                      "for the placeholders to go. Taking elements out of the shell one at a time "
                      "(2026-12-06, the trivial page in genlab's shell, medians of 16 new tabs, "
                      "trainings paused): the copy-link button cost nothing measurable, the dataset "
                      "selectbox about 90 ms (1234 ms with it, 1108 ms without a picker, 1142 ms with "
                      "radio buttons instead), so the sidebar's pickers of up to five options (the "
                      "dataset, a page's model) are radio buttons. Adding one element kind at a time to "
                      "that shell page (2026-12-06, medians of 12 new tabs, trainings paused; the shell "
                      "alone 1262 ms): a selectbox of 2,000 options +204 ms, a number field +88, a "
                      "file uploader +72, a checkbox +68, a download button +37, a select_slider +26, a "
                      "button +13. So the held-out pickers are select_sliders, the image's source "
                      "(held-out, upload, drawing) radio buttons that show the uploader or the pad only "
                      "once chosen, and every seed a slider from 0 to 999. Opened at its own address "
                      "(`/vae`), Streamlit's browser code first asked `/vae/_stcore/health` (a 404: it "
                      "cannot tell a page from an app served under a prefix) and retried at `/` after "
                      "its 100 ms minimum retry period, so its socket opened 0.1 s later than the "
                      "trivial app's at `/`; the launcher's index.html now says where the server is "
                      "(`genlab_ui/index_html.py`; A/B against plain `streamlit run`, medians of 8 new "
                      "tabs, trainings paused: vae 1197 vs 1270 ms, flows 1232 vs 1287, bigan 1208 vs "
                      "1274, gans 1305 vs 1323, the trivial app 1046). Preloading the shell's element "
                      "chunks (`modulepreload` links in that index.html) delayed DOMContentLoaded by 80 "
                      "ms and the first screens came no sooner, so it was not kept. /transport read "
                      "1.46-1.62x in every run until 2026-12-06 while it measured 1.22x alone: a "
                      "timeline of the server's script runs showed its timed visits sampling. The "
                      "page's status widget never showed (the toolbar's \"minimal\" mode hides it), so "
                      "the warm-up pass took the page for complete between two rows of its grid and "
                      "closed it, which stopped the run; the timed visits then sampled the rest "
                      "(runs of 1.7-4.8 s). The pass now keeps each tab open until the server's CPU "
                      "is quiet, the toolbar is in \"viewer\" mode (a run over half a second shows "
                      "Running and Stop), and a profile of the warm page (py-spy) removed three costs "
                      "of every visit: a spinner per grid cell (24 thread starts, about 0.1 s; now one "
                      "spinner, only while something is sampled), the catalogue of cards unpickled "
                      "anew on every call (st.cache_data; now one read-only copy), and Streamlit's "
                      "\"magic\" rewrite of the page's syntax tree, which it does again whenever the "
                      "last session closes (17 ms for /transport, 26 ms for /concepts; turned off). "
                      "/transport then read 1.10x."]
        lines.append("")
        if "main_thread" in fp["trivial"]["before"]:
            lines += ["Where the time goes: one more new tab of each, traced (Chrome's trace of the tab's renderer "
                          "main thread, from navigation start to that tab's first screen): ms the thread was busy, "
                          "and of that JS (Streamlit's React rendering, the components' scripts), style and layout, "
                          "paint, garbage collection; the rest of the first screen's time is waiting (the page's "
                          "code and data over the network, the server's script run). /projections, the one page "
                          "above 1.2× in every run since 2026-12-03, traced on 2026-12-07 (trainings paused, "
                          "5-12 new tabs each): its server sends the whole first screen (54 messages, the map "
                          "65 KB) 0.87-0.97 s after navigation, as fast as other pages; from then the renderer's "
                          "main thread is busy without a break until the first screen, mostly React drawing "
                          "the elements (react-dom 460-500 ms against 160-180 for the trivial app). Taking "
                          "groups of elements off the first screen (a test build): the overlay row (13 chips, "
                          "two sliders) saved about 140 ms of main-thread work, the t-SNE settings and the CSV "
                          "button about 120 ms, t-SNE's settings in a popover (its content is not drawn until "
                          "opened) 30-70 ms; with every control off, the map alone in genlab's shell still "
                          "read 1.24× of the trivial app in the same run (1,449 against 1,172 ms, medians of 10 "
                          "interleaved tabs), so no reshuffle of the controls reaches 1.2× while the map is a "
                          "canvas component, and the page kept them. An A/B of session 36's instant-frames code "
                          "against the code before it (the suspected slowdown of untouched pages, traced tabs, "
                          "6 each): home 1,571 vs 1,533 ms, /playground 1,723 vs 1,735: no difference beyond "
                          "noise.", "",
                      "| page | first screen (traced) | main thread busy | JS | style + layout | paint | GC |",
                      "|---|---|---|---|---|---|---|"]
            work = {"trivial": fp["trivial"]["before"], **fp["pages"], **fp.get("charts", {})}
            lines += [f"| {name} | {w['first_screen_ms']} ms | {w['busy']} ms | {w['script']} ms | "
                      f"{w['style_layout']} ms | {w['paint']} ms | {w['gc']} ms |"
                      for name, w in ((n, d["main_thread"]) for n, d in work.items() if "main_thread" in d)]
            lines.append("")
            lines += [SESSION_38_FIRST_PAINT, "", SESSION_39_FIRST_PAINT, ""]
    for part, title in (("concepts", "Foundations (/concepts)"),
                        ("transport", "Noise to data (/transport)")):
        if part not in r:
            continue
        c = r[part]
        lines += [f"## {title}", "",
                  f"Every slider, keyboard steps right and back (Chromium): the key → the last change "
                  f"of the page it caused. All sliders: {json.dumps(c['all'])}.", "",
                  "| slider | n | p50 | p95 |", "|---|---|---|---|"]
        for label, d in c["sliders"].items():
            lines.append(f"| {label} | {d['n']} | {d['p50_ms']} ms | {d['p95_ms']} ms |")
        if "guided_row_fresh" in c:
            lines += ["", "The guidance row samples the settings next to the one shown in the background "
                          "(genlab_ui/ahead.py), so a key step only paints. A jump to a setting not sampled "
                          "yet costs its sampling first: 8 images, Heun K = 8, w = 3, computed as the page does "
                          f"(ms): {json.dumps(c['guided_row_fresh'])}."]
        lines.append("")
    if "bigan" in r:
        b = r["bigan"]
        lines += ["## BiGAN (/bigan)", "",
                  f"- A held-out image picked (a key step on its slider) → its reconstruction G(E(x)) painted (Chromium): {json.dumps(b['image'])}.",
                  f"- A key step on the grid's seed → 16 images reconstructed by the BiGAN and the VAE-16d, painted: "
                  f"{json.dumps(b['grid seed'])}.",
                  f"- Every slider of the page (the held-out image, the seed, the walk's), keyboard steps (key → last change): {json.dumps(b['sliders']['all'])}.", ""]
    return "\n".join(lines)


PARTS = ["firstpaint", "coldpages", "cold", "pages", "nolive", "concurrency", "sampling", "projection", "playground", "concepts",
         "transport", "bigan"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=20, help="repetitions per latency figure (≥ 20)")
    p.add_argument("--cold", type=int, default=3, help="cold starts to time")
    p.add_argument("--sessions", type=int, nargs="*", default=[10, 25, 50])
    p.add_argument("--pace", type=float, nargs=2, default=list(PACE), metavar=("LO", "HI"),
                   help="concurrency: seconds each person waits between steps, uniform in [LO, HI] "
                        f"(default {PACE[0]:g} {PACE[1]:g}; 0.3 0.3 is everyone stepping as fast as a key repeats)")
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks"))
    p.add_argument("--only", nargs="+", choices=PARTS,
                   help="run these parts and keep the others' results from --out's JSON")
    p.add_argument("--smoke", action="store_true",
                   help="every part at the smallest scale (2 reps, 1 cold start, 3 sessions, short runs): "
                        "checks that the harness still follows the pages (the test suite runs it); "
                        "its figures are not measurements")
    args = p.parse_args()
    if args.smoke:
        args.reps, args.cold, args.sessions = 2, 1, [5]  # 2 tabs, 2 long samplers, 1 protocol session
    small = lambda full, tiny: tiny if args.smoke else full
    out = Path(args.out)
    parts = set(args.only or PARTS)
    earlier = out.with_suffix(".json")
    result = json.loads(earlier.read_text()) if args.only and earlier.is_file() else {}
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, "
               f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
               f"{_cpu_model()}, Python {platform.python_version()}")
    # where each part was measured: with --only, the parts kept may come from another machine
    earlier_parts = {part: {"machine": result.get("machine"), "date": result.get("date")}
                     for part in PARTS} if result else {}  # a file from before parts were dated
    result["measured"] = {**result.get("measured", earlier_parts),
                          **{part: {"machine": machine, "date": time.strftime("%Y-%m-%d")}
                             for part in parts}}
    result.update({"machine": machine, "date": time.strftime("%Y-%m-%d")})
    with sync_playwright() as pw:
        if "firstpaint" in parts:
            with streamlit_server() as (url, proc, _), \
                    streamlit_server(app=ROOT / "benchmarks" / "trivial_app.py") as (trivial_url, _, _):
                result["first_paint"] = first_paint(pw, url, trivial_url, small(6, 1), proc.pid)
        if "coldpages" in parts:
            pages = dict(list(PAGES.items())[:2]) if args.smoke else None
            result["cold_pages"] = cold_pages(pw, pages)
            result["cold_pages_streamlit_run"] = cold_pages(pw, pages, launcher=False)
        if "cold" in parts:
            colds = [cold_start(pw) for _ in range(args.cold)]
            result["cold_start"] = {"runs": colds, "median_home_rendered_s": statistics.median(
                c["home_rendered_s"] for c in colds)}
        if "nolive" in parts:  # the latent pad's cost: the same page loads without it
            with streamlit_server(env={"GENLAB_NO_LIVE_DECODE": "1"}) as (url, _, _):
                result["page_load_without_live_decode"] = page_loads(pw, url, args.reps)
        if "pages" in parts:
            with streamlit_server(app=ROOT / "benchmarks" / "trivial_app.py") as (trivial_url, _, _):
                result["trivial_slider"] = trivial_slider(pw, trivial_url, small(max(args.reps, 40), args.reps))
            with streamlit_server() as (url, proc, _):
                result["memory"] = memory(pw, url, proc.pid, small(1000, 10))
                result["page_load"] = page_loads(pw, url, args.reps)
                # every control as many steps as the trivial slider it is compared with (a p95
                # of 20 steps is their second slowest)
                steps = small(max(args.reps, 40), args.reps)
                result["vae_slider"] = vae_slider(pw, url, steps)
                result["gan_seed"] = gan_seed(pw, url, steps)
                result["gan_snapshot"] = gan_snapshot(pw, url, steps)
                result["diffusion_step"] = diffusion_step(pw, url, steps)
                result["projections_switch"] = projections_switch(pw, url, steps)
                result["flows_temperature"] = flows_temperature(pw, url, steps)
                result["pixelcnn_field"] = pixelcnn_field(pw, url, steps)
                result["latent_pad"] = latent_pad(pw, url, small(200, 10))
                result["page_weight"] = page_weight()
    if "concurrency" in parts:
        result["concurrency"] = []
        for n in args.sessions:
            with streamlit_server() as (url, _, _):
                result["concurrency"].append(asyncio.run(_concurrent(url, n, small(10, 2), pace=tuple(args.pace))))
    if "sampling" in parts:
        result["sampling_images_per_s"] = sampling_speed(args.smoke)
        with sync_playwright() as pw, streamlit_server() as (url, _, _):
            result["diffusion_sample_click"] = diffusion_sample_click(pw, url)
    if "projection" in parts:
        result["projection_speed"] = projection_speed(small(3, 1))
        with sync_playwright() as pw, streamlit_server() as (url, _, _):
            result["projections_fresh_tsne"] = projections_fresh_tsne(pw, url, small(5, 1))
    if "playground" in parts:
        with sync_playwright() as pw, streamlit_server() as (url, _, _):
            browser_figures = playground_browser(pw, url, small(max(10, args.reps // 2), 2))
        with streamlit_server() as (url, _, _):
            answers = asyncio.run(_playground_answers(url, args.reps))
        result["playground"] = {**browser_figures, "answers": answers, "table": playground_table(args.smoke)}
    if "concepts" in parts:
        with sync_playwright() as pw, streamlit_server() as (url, _, _):
            result["concepts"] = slider_controls(pw, url, "concepts", small(max(10, args.reps // 2), 2))
    if "transport" in parts:
        with sync_playwright() as pw, streamlit_server() as (url, _, _):
            result["transport"] = slider_controls(pw, url, "transport", small(max(10, args.reps // 2), 2))
        result["transport"]["guided_row_fresh"] = guided_row_compute(small(5, 1))
    if "bigan" in parts:
        with sync_playwright() as pw, streamlit_server() as (url, _, _):
            result["bigan"] = bigan_controls(pw, url, small(max(10, args.reps // 2), 2))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
