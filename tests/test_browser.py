"""Real-browser tests (headless Debian Chromium through Playwright): what AppTest cannot see."""

import os
import re
from pathlib import Path

import pytest

from benchmarks.browser import chromium_available, launch, page_errors, streamlit_server, wait_drawn, wait_idle
from genlab_ui.components import FOLD_CAPTION

if not chromium_available():
    if os.environ.get("GENLAB_REQUIRE_BROWSER"):
        raise RuntimeError("Chromium is required (GENLAB_REQUIRE_BROWSER is set) but not installed")
    pytest.skip("Chromium not installed (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as (url, _, _):
        yield url


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def open_map(server, chromium):
    """/vae opened in a new tab: (page, the latent map canvas, its bounding box)."""
    page = chromium.new_page()
    page.goto(f"{server}/vae")
    wait_idle(page)
    canvas = page.locator("canvas.lm-canvas")
    canvas.wait_for()
    return page, canvas, canvas.bounding_box()


def decoded_src(page) -> str:
    return page.get_attribute('[data-testid="stImage"]:has-text("decoder mean") img', "src")


def test_home_shows_model_cards(server, chromium):
    page = chromium.new_page()
    page.goto(server)
    wait_idle(page)
    # the cards' grids arrive one by one (each model samples in turn): wait for two of them
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 2",
                           timeout=30_000)
    assert page.locator('[data-testid="stImage"] img').count() >= 2
    assert not page_errors(page)
    first = page.locator('[data-testid="stImage"] img').first.get_attribute("src")
    pick_in_sidebar(page, "Dataset", "Fashion-MNIST (clothes)")  # the main interaction: another dataset's models
    page.wait_for_function(
        "(src) => { const img = document.querySelector('[data-testid=\"stImage\"] img');"
        " return img && img.src !== src; }", arg=first, timeout=30_000)
    wait_idle(page)
    assert not page_errors(page)
    page.close()


def test_home_metrics_table_fits_its_expander(server, chromium):
    """#25 item 13: at 1,400 px the zoo's metrics table overflowed its expander ("CPU time" cut)."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    wait_drawn(page, "home")  # the expander sits below the fold: click it once the page is whole
    wait_idle(page)
    page.get_by_text("All held-out metrics").click()
    expander = page.locator('[data-testid="stExpander"]', has_text="All held-out metrics")
    expander.locator('table, [data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
    overflow = expander.evaluate(
        "e => { const right = e.getBoundingClientRect().right; return [...e.querySelectorAll("
        "'table, [data-testid=\"stDataFrame\"]')].map(t => t.getBoundingClientRect().right - right); }")
    assert overflow and max(overflow) <= 0, overflow
    assert not page_errors(page)
    page.close()


def pick_in_sidebar(page, label: str, option: str) -> None:
    """Click ``option`` of the sidebar's radio buttons ``label`` (the dataset, a model)."""
    group = page.get_by_test_id("stSidebar").locator('[data-testid="stRadio"]', has_text=label).first
    group.locator("label", has_text=option).first.click()


def radio_text(page, label: str) -> str:
    """The chosen option of the radio buttons ``label``."""
    return page.locator('[data-testid="stRadio"]', has_text=label).first.evaluate(
        "e => e.querySelector('input:checked').closest('label').innerText.trim()")


def slider_text(page, label: str) -> str:
    """What a slider labelled ``label`` shows over its thumb (its value's label)."""
    labelled = page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stSlider").filter(has=labelled).first.get_by_test_id(
        "stSliderThumbValue").inner_text().strip()


NO_DIGIT_LABELS = ("() => { const v = [...document.querySelectorAll('[data-testid=\"stSliderThumbValue\"]')]"
                   ".map(e => e.innerText.trim()).filter(v => v.startsWith('#'));"
                   " return v.length && !v.some(v => / · [0-9]$/.test(v)); }")


def switch_dataset(page, name: str, shown: str) -> None:
    """Pick dataset ``name`` in the sidebar, wait until the page shows the text ``shown``,
    then (up to 30 s) until no held-out picker shows an MNIST label."""
    pick_in_sidebar(page, "Dataset", name)
    page.wait_for_selector(f"text={shown}", timeout=60_000)
    wait_idle(page)
    try:
        page.wait_for_function(NO_DIGIT_LABELS, timeout=30_000)
    except sync_api.TimeoutError:
        pass  # the assertions below say what is shown


def test_held_out_pickers_follow_a_dataset_switch(server, chromium):
    """#25 item 2: after a switch to Fashion-MNIST, /vae's interpolation boxes kept "#0 · 4" and
    "#1 · 9", /diffusion's inversion "#7 · 0"; choosing vae-16d then reset From and To to #0."""
    from genlab.data import CLASS_NAMES

    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/vae")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stImage"]:has-text("original A") img', timeout=60_000)
    assert slider_text(page, "From") == "#0 · 4" and slider_text(page, "To") == "#1 · 9"
    switch_dataset(page, "Fashion-MNIST (clothes)", "on fashion-mnist")
    fashion = CLASS_NAMES["fashion-mnist"]
    a, b = slider_text(page, "From"), slider_text(page, "To")
    assert a.startswith("#0 · ") and a.split(" · ")[1] in fashion, a
    assert b.startswith("#1 · ") and b.split(" · ")[1] in fashion, b
    pick_in_sidebar(page, "Model", "vae-16d")
    page.wait_for_selector("text=16-D latent", timeout=60_000)
    wait_idle(page)
    page.wait_for_selector('[data-testid="stImage"]:has-text("original A") img', timeout=60_000)
    assert (slider_text(page, "From"), slider_text(page, "To")) == (a, b)
    page.goto(f"{server}/diffusion")  # a new session: MNIST, then the switch on this page
    wait_idle(page)
    inversion = "Held-out image"
    page.locator('[data-testid="stSlider"]', has_text=inversion).last.wait_for(timeout=120_000)
    switch_dataset(page, "Fashion-MNIST (clothes)", "x_t at t")
    shown = page.locator('[data-testid="stSlider"]', has_text=inversion).evaluate_all(
        "es => es.map(e => e.querySelector('[data-testid=\"stSliderThumbValue\"]').innerText.trim())")
    assert shown and all(s.split(" · ")[1] in fashion for s in shown), shown
    page.reload()  # #25 item 6: a reload keeps the dataset (it is in the URL)
    wait_idle(page)
    assert radio_text(page, "Dataset") == "Fashion-MNIST (clothes)"
    assert not page_errors(page)
    page.close()


def test_vae_slider_changes_the_image(server, chromium):
    page = chromium.new_page()
    page.goto(f"{server}/vae")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stImage"]:has-text("decoder mean") img')
    assert not page_errors(page)
    before = decoded_src(page)
    caption = page.locator('[data-testid="stImage"]:has-text("decoder mean")').inner_text()
    slider = page.locator('[data-testid="stSlider"]', has_text="z1").get_by_role("slider")
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")
    page.wait_for_function(
        "([src, caption]) => { const img = [...document.querySelectorAll('[data-testid=\"stImage\"]')]"
        ".find(e => e.innerText.includes('decoder mean')); "
        "return img && img.querySelector('img').src !== src && img.innerText !== caption; }",
        arg=[before, caption], timeout=15_000)
    assert decoded_src(page) != before
    wait_drawn(page, "vae")  # pictures come ahead from the run after the first screen
    # the images two steps either way come ahead: painted at once, as the server decodes them
    assert_instant_frames_agree(page, slider, "st-key-vae-z-frames", ["ArrowLeft"] * 3 + ["ArrowRight"])
    z2 = page.locator('[data-testid="stSlider"]', has_text="z2").get_by_role("slider")
    z2.focus()
    assert_instant_frames_agree(page, z2, "st-key-vae-z-frames", ["ArrowRight", "ArrowLeft"])
    assert not page_errors(page)
    page.close()


def test_vae_map_click_decodes_that_point(server, chromium):
    page, _, box = open_map(server, chromium)
    # the map spans z in [-4, 4]: a click at 3/4 width, 1/4 height is z = (2, 2)
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    page.screenshot(path=str(Path(__file__).parent.parent / "test-results" / "vae-click.png"))
    page.wait_for_selector('[data-testid="stImage"]:has-text("z = (2.00, 2.00)")', timeout=15_000)
    assert not page_errors(page)
    page.close()


def test_vae_live_decode_sits_beside_the_map_and_agrees_with_the_sliders(server, chromium):
    """#25 item 11: the browser-decoded image was below the map though the caption said
    "beside", and after a click it read z = (−2.01, 2.01) where the sliders read (−2.00, 2.00)."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/vae")
    wait_idle(page)
    canvas, live = page.locator("canvas.lm-canvas"), page.locator("canvas.lm-live-canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    server_image = '[data-testid="stImage"]:has-text("decoder mean") '
    page.wait_for_selector(server_image + ':text("z = (-2.00, 2.00)")', timeout=15_000)
    wait_idle(page)
    try:  # the decoder's weights may still be on their way
        page.locator(".lm-live-text", has_text="z = (-2.00, 2.00)").wait_for(timeout=15_000)
    except sync_api.TimeoutError:
        server_now = page.locator(server_image).first.inner_text()
        raise AssertionError(f"the live decode reads {page.locator('.lm-live-text').inner_text()!r}, "
                             f"the server's image {server_now!r}")
    shown = live.bounding_box()
    assert shown["x"] >= box["x"] + box["width"] and shown["y"] < box["y"] + box["height"], (box, shown)
    assert not page_errors(page)
    page.close()


def test_vae_click_holds_when_another_run_follows_at_once(server, chromium):
    """A click on the map sets the sliders on the server; a request the browser sent before
    that run reached it (the page asking for its part below the fold, an expander opened)
    carried the sliders' old values and put them back: the decoded image went back to the old
    z while the pad kept the clicked one (seen in CI; state.set_widgets)."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/vae")
    wait_idle(page)
    page.wait_for_selector(f"text={FOLD_CAPTION}", state="detached", timeout=30_000)
    wait_idle(page)
    canvas = page.locator("canvas.lm-canvas")
    canvas.evaluate("""(c) => {  // a click, then 10 ms later an expander opened (a run of the whole page)
        const r = c.getBoundingClientRect();
        const at = {clientX: r.left + r.width * 0.25, clientY: r.top + r.height * 0.25, pointerId: 1,
                    bubbles: true, isPrimary: true};
        c.dispatchEvent(new PointerEvent("pointerdown", at));
        c.dispatchEvent(new PointerEvent("pointerup", at));
        const maths = [...document.querySelectorAll('[data-testid="stExpander"] summary')]
            .find((e) => e.innerText.includes("The maths"));
        setTimeout(() => maths.click(), 10);
    }""")
    page.locator('[data-testid="stExpander"] .katex').first.wait_for(timeout=15_000)
    wait_idle(page)
    server_image = page.locator('[data-testid="stImage"]:has-text("decoder mean")').first
    try:
        server_image.locator(':text("z = (-2.00, 2.00)")').wait_for(timeout=15_000)
    except sync_api.TimeoutError:
        raise AssertionError(f"the server's image reads {server_image.inner_text()!r}")
    assert "z = (-2.00, 2.00)" in page.locator(".lm-live-text").inner_text()
    assert (slider_text(page, "z1"), slider_text(page, "z2")) == ("-2.00", "2.00")
    assert not page_errors(page)
    page.close()


def test_vae_upload_encodes_an_image_and_rejects_a_non_image(server, chromium, tmp_path):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (240, 160), (245, 245, 240))
    ImageDraw.Draw(img).ellipse([90, 20, 150, 140], outline=(10, 10, 10), width=14)
    img.save(tmp_path / "zero.png")
    (tmp_path / "notes.png").write_text("not really a picture")
    page = chromium.new_page()
    page.goto(f"{server}/vae")
    wait_idle(page)
    upload = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    upload.set_input_files(str(tmp_path / "zero.png"))
    page.wait_for_selector('[data-testid="stImage"]:has-text("reconstruction") img', timeout=20_000)
    page.wait_for_selector('text=marked ▢ on the map')
    upload.set_input_files(str(tmp_path / "notes.png"))
    page.wait_for_selector('[data-testid="stAlert"]:has-text("not an image genlab can read")',
                           timeout=20_000)
    assert not page_errors(page)
    page.close()


def test_vae_map_hover_shows_the_image(server, chromium):
    page, _, box = open_map(server, chromium)
    tip = page.locator(".lm-tip")
    for dx in range(0, 60, 4):  # points are dense near the origin: sweep until one is hit
        page.mouse.move(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dx / 2)
        if tip.is_visible():
            break
    assert tip.is_visible()
    assert "z=(" in tip.inner_text() and "#" in tip.inner_text()
    # the tooltip image is drawn from the atlas: not blank
    lit = page.locator(".lm-tip canvas").evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, 84, 84).data;"
        " let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] > 128; return n; }")
    assert lit > 20
    page.screenshot(path=str(Path(__file__).parent.parent / "test-results" / "vae-hover.png"))
    page.close()


def test_diffusion_forward_slider_changes_x_t(server, chromium):
    page = chromium.new_page()
    page.goto(f"{server}/diffusion")
    wait_idle(page)
    image = page.locator('[data-testid="stImage"]:has-text("x_t at t =")').first
    image.locator("img").wait_for()
    before = image.locator("img").get_attribute("src")
    slider = page.locator('[data-testid="stSlider"]', has_text="t").first.get_by_role("slider")
    slider.focus()
    slider.press("PageUp")
    page.wait_for_function(
        "(src) => { const e = [...document.querySelectorAll('[data-testid=\"stImage\"]')]"
        ".find(e => e.innerText.includes('x_t at t =')); return e && e.querySelector('img').src !== src; }",
        arg=before, timeout=15_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=15_000)  # the schedule plots render
    assert not page_errors(page)
    page.close()


def test_diffusion_check_table_follows_the_schedule(server):
    """#25 item 1: the schedule radio reruns its fragment only; the closed-form check outside it
    kept the linear schedule's figures. The check must come back with the new schedule."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from benchmarks.protocol import Session

    async def switch() -> list[str]:
        async with Session(server, fetch_media=False) as s:
            run = await s.open("diffusion")
            run = await s.set_widget(run.widget("diff.check"), "bool_value", True)  # open the check
            run = await s.set_widget(run.widget("diff.schedule"), "string_value", "cosine")
            return [e.kind for e in run.elements], [str(e.proto) for e in run.elements]

    with ThreadPoolExecutor(1) as pool:
        kinds, protos = pool.submit(asyncio.run, switch()).result()
    tables = [p for k, p in zip(kinds, protos) if "table" in k or "arrow" in k]
    assert any("cosine" in p for p in tables), kinds


def test_diffusion_long_run_shows_progress_keeps_the_page_alive_and_cancels(server, chromium):
    """#25, the long waits: DDPM-1000 asks first (if over 20 s here), then shows its progress with the time left and
    a Cancel button; the page's other controls answer meanwhile; Cancel stops it."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(f"{server}/diffusion")
    wait_idle(page)
    page.get_by_test_id("stRadioGroup").get_by_text("DDPM", exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name="Sample 8 with DDPM-1000").click()
    progress = page.locator('[data-testid="stProgress"]', has_text="DDPM-1000, 8 images")
    run_it = page.get_by_role("button", name=re.compile(r"^Run it"))
    # it asks first only where its estimate (measured on this machine) is over 20 s
    run_it.or_(progress).first.wait_for(timeout=60_000)
    if run_it.count():
        run_it.click()
    progress.wait_for(timeout=30_000)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stProgress\"]')]"
                           ".some(e => / left/.test(e.innerText))", timeout=30_000)
    before = image_src(page, "x_t at t = ")
    slider = page.locator('[data-testid="stSlider"]', has_text="t").first.get_by_role("slider")
    slider.focus()
    slider.press("PageUp")  # the forward process answers while the run goes on
    page.wait_for_function("(src) => { const e = [...document.querySelectorAll('[data-testid=\"stImage\"]')]"
                           ".find(e => e.innerText.includes('x_t at t = ')); return e && e.querySelector('img').src !== src; }",
                           arg=before, timeout=15_000)
    assert progress.count() == 1
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_selector("text=cancelled after", timeout=5_000)
    assert not page_errors(page)
    page.close()


def test_diffusion_step_slider_scrubs_the_trajectory(chromium, tiny_ddpm_root):
    with streamlit_server(env={"GENLAB_CHECKPOINTS": str(tiny_ddpm_root)}) as (url, _, _):
        page = chromium.new_page()
        page.goto(f"{url}/diffusion")
        wait_idle(page)
        page.get_by_role("button", name="Sample 8 with DDIM-50").click()
        page.wait_for_selector('[data-testid="stImage"]:has-text("x_0 (final sample)")', timeout=60_000)
        wait_idle(page)
        step = page.locator('input[aria-label="Step"]')
        step.focus()
        step.press("Home")  # a fresh run opens on its samples; the start is the noise
        caption = '[data-testid="stImage"]:has-text("x_t, t = 981")'  # the code's 980 → x_981
        page.wait_for_selector(caption, timeout=15_000)
        before = page.locator(caption).locator("img").get_attribute("src")
        for _ in range(10):
            step.press("ArrowRight")
        page.wait_for_selector('[data-testid="stImage"]:has-text("x_t, t = 781")', timeout=15_000)
        now = page.locator('[data-testid="stImage"]:has-text("x_t, t = 781")').locator("img")
        assert now.get_attribute("src") != before
        wait_idle(page)
        # the neighbouring steps' pictures are in the browser ahead: painted at once, as the server draws them
        assert_instant_frames_agree(page, step, "st-key-diff-frames", ["ArrowLeft"] * 3 + ["End", "ArrowLeft"])
        assert not page_errors(page)
        page.close()



_PICTURES = """(target) => [...document.querySelectorAll(`.${target} [data-testid="stImageContainer"]`)].map(b => ({
  src: b.querySelector("img").getAttribute("src"),
  caption: (b.querySelector('[data-testid="stImageCaption"]') || {}).innerText || ""}))"""
_SAME_PIXELS = """async ([a, b]) => {
  const pixels = async (src) => { const img = new Image(); img.src = src; await img.decode();
    const c = document.createElement("canvas"); c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext("2d"); g.drawImage(img, 0, 0); return [c.width, c.height, g.getImageData(0, 0, c.width, c.height).data]; };
  const [p, q] = [await pixels(a), await pixels(b)];
  return p[0] === q[0] && p[1] === q[1] && p[2].every((v, i) => v === q[2][i]); }"""


def assert_instant_frames_agree(page, slider, target: str, keys: list[str]) -> None:
    """components.instant_frames: after each key, the pictures the browser swapped in at once
    are, pixel for pixel and caption for caption, what the server then draws for that value;
    and at least one step was painted by the swap (before the rerun)."""
    swaps = lambda: int(page.evaluate("Number(document.body.dataset.genlabInstant) || 0"))  # noqa: E731
    start = swaps()
    control = slider.evaluate("e => [...e.closest('[class*=st-key-]').classList].find(c => c.startsWith('st-key-'))")
    for key in keys:
        shown = page.evaluate(_PICTURES, target)
        before = swaps()
        slider.press(key)
        # the pictures and the swap count read in the same frame as the check (a rerun may redraw
        # them just after, one picture at a time)
        swapped = page.wait_for_function(
            f"(old) => {{ const p = ({_PICTURES})({target!r}); return p.length === {len(shown)}"
            " && p[0].src !== old ? {p, swaps: Number(document.body.dataset.genlabInstant) || 0} : null; }",
            arg=shown[0]["src"], timeout=15_000).json_value()
        # the run of this value has drawn its instant-frames component (after the pictures) and
        # ended: else the next key may come before that run has sent the other slider of the same
        # pictures its new frames (the CI run of f473c70)
        page.wait_for_function(
            "(control) => Math.abs(Number((window.__genlabInstantDrawn || {})[control])"
            " - Number(document.querySelector(`.${control} input[type=range]`).value)) < 1e-6",
            arg=control, timeout=30_000)
        wait_idle(page)
        page.wait_for_function(f"() => ({_PICTURES})({target!r}).length === {len(shown)}", timeout=15_000)
        drawn = page.evaluate(_PICTURES, target)
        if swapped["swaps"] == before:
            continue  # no frames for this value (a far jump, stale ones): the rerun drew it alone
        assert [p["caption"] for p in swapped["p"]] == [p["caption"] for p in drawn]
        for a, b in zip(swapped["p"], drawn):
            assert page.evaluate(_SAME_PIXELS, [a["src"], b["src"]]), (key, a["caption"])
    assert swaps() > start


def test_gans_seed_and_snapshot_pictures_swap_in_at_once_and_agree_with_the_server(chromium, tiny_gan_root):
    with streamlit_server(env={"GENLAB_CHECKPOINTS": str(tiny_gan_root)}) as (url, _, _):
        page = open_page(chromium, f"{url}/gans", viewport={"width": 1400, "height": 2400})
        page.wait_for_selector('[data-testid="stImageContainer"]:has-text("(reference)") img', timeout=60_000)
        wait_drawn(page, "gans")
        wait_idle(page)
        seed = page.locator('[data-testid="stSlider"]', has_text="Seed").first.get_by_role("slider")
        # the row: every GAN's grid and the VAE's, captions with their mean scores
        assert_instant_frames_agree(page, seed, "st-key-dl-gans-row-figure-row", ["ArrowRight"] * 3 + ["ArrowLeft"])
        snapshot = page.locator('[data-testid="stSlider"]', has_text="Snapshot").get_by_role("slider")
        # the replayed grid and the two loss charts (SVG) with the snapshot's rule
        assert_instant_frames_agree(page, snapshot, "st-key-gans-replay-frames", ["ArrowLeft"] * 3 + ["ArrowRight"])
        assert not page_errors(page)
        page.close()

def test_gans_seed_changes_every_grid(chromium, tiny_gan_root):
    with streamlit_server(env={"GENLAB_CHECKPOINTS": str(tiny_gan_root)}) as (url, _, _):
        page = chromium.new_page()
        page.goto(f"{url}/gans")
        wait_idle(page)
        grids = {name: page.locator(f'[data-testid="stImageContainer"]:has-text("{name} · seed 0") img')
                 for name in ("gan-mlp", "dcgan", "wgan-gp")}
        for grid in grids.values():
            grid.wait_for(timeout=60_000)
        before = {name: grid.get_attribute("src") for name, grid in grids.items()}
        # one row (components.figure_row, page.css): same top, same width, side by side
        boxes = [grid.bounding_box() for grid in grids.values()]
        assert len({round(b["y"]) for b in boxes}) == 1 and len({round(b["width"]) for b in boxes}) == 1, boxes
        assert all(a["x"] + a["width"] <= b["x"] for a, b in zip(boxes, boxes[1:])), boxes
        page.locator('[data-testid="stSlider"]', has_text="Seed").first.get_by_role("slider").press("ArrowRight")
        for name in grids:
            moved = page.locator(f'[data-testid="stImageContainer"]:has-text("{name} · seed 1") img')
            moved.wait_for(timeout=30_000)
            assert moved.get_attribute("src") != before[name]
        curves = page.locator('[data-testid="stImage"] img[src^="data:image/svg+xml"]').first  # the replay's
        curves.scroll_into_view_if_needed(timeout=30_000)  # loss curves, drawn as SVG on the server
        curves.wait_for(timeout=30_000)
        assert curves.evaluate("i => i.complete && i.naturalWidth > 0")
        assert not page_errors(page)
        page.close()


MAP = "canvas.sm-canvas"  # the projections page's scatter map (in its component's shadow root)


def map_state(page) -> dict:
    """The projection map's x-axis title and first coordinates."""
    canvas = page.locator(MAP)
    return {"title": canvas.get_attribute("data-x-title"), "x": canvas.get_attribute("data-first-x")}



def test_projections_switch_draws_the_other_map_at_once_and_the_rerun_draws_the_same(server, chromium):
    """scatter_map's switch: the click on t-SNE (its shipped map) draws it before the rerun, and
    the map the rerun then draws is the same, pixel for pixel; back to PCA likewise."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/projections")
    wait_idle(page)
    page.locator(f"{MAP}[data-x-title='PC 1']").wait_for(timeout=60_000)
    wait_drawn(page, "projections")  # the other map comes with the run after the first screen
    wait_idle(page)
    canvas = page.locator(MAP)
    radios = page.locator('[data-testid="stRadio"]', has_text="Method")
    swaps = int(page.evaluate("Number(document.body.dataset.genlabInstant) || 0"))
    for method, title in (("t-SNE", "t-SNE 1"), ("PCA", "PC 1"), ("t-SNE", "t-SNE 1")):
        radios.get_by_text(method, exact=True).click()
        page.locator(f"{MAP}[data-x-title='{title}']").wait_for(timeout=30_000)
        instant = canvas.evaluate("c => [c.toDataURL(), c.dataset.firstX, c.dataset.points]")
        wait_idle(page)
        page.wait_for_timeout(300)
        assert canvas.evaluate("c => [c.toDataURL(), c.dataset.firstX, c.dataset.points]") == instant, method
    assert int(page.evaluate("Number(document.body.dataset.genlabInstant) || 0")) >= swaps + 2
    assert not page_errors(page)
    page.close()

def test_projections_switch_to_tsne_changes_the_map_and_hover_shows_images(server, chromium):
    page = chromium.new_page()
    page.goto(f"{server}/projections")
    wait_idle(page)
    page.locator(f"{MAP}[data-x-title]").wait_for(timeout=60_000)
    first = map_state(page)
    assert first["title"] == "PC 1" and not page_errors(page)
    canvas = page.locator(MAP)
    canvas.scroll_into_view_if_needed()  # the mouse only reaches what the viewport shows
    box = canvas.bounding_box()
    shown = False
    for fx in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6):  # sweep until a point is hit
        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * 0.45)
        page.wait_for_timeout(100)
        shown = canvas.get_attribute("data-hover-shown") is not None
        if shown:
            break
    assert shown, "hovering the map shows no image"
    assert page.locator(".sm-tip").is_visible()
    page.mouse.down()  # a click on the point pins it beside the map
    page.mouse.up()
    page.wait_for_selector('[data-testid="stImage"]:has-text("held-out #") img', timeout=30_000)
    page.get_by_test_id("stRadioGroup").get_by_text("t-SNE").click()
    page.locator(f"{MAP}[data-x-title='t-SNE 1']").wait_for(timeout=60_000)
    wait_idle(page)
    after = map_state(page)
    assert after["x"] != first["x"] and not page_errors(page)
    page.close()


def test_projections_legend_draws_each_group_with_its_symbol(server, chromium):
    """#25 item 12: the legend drew overlays as squares while the map draws them as ×/◆/▲."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/projections")
    wait_idle(page)
    page.locator(f"{MAP}[data-x-title]").wait_for(timeout=60_000)
    page.get_by_test_id("stButtonGroup").filter(has_text="rectified-flow").get_by_role(
        "button", name="vae-2d", exact=True).click()  # the overlay's chips
    item = page.locator(".sm-item", has_text="samples: vae-2d")
    item.wait_for(timeout=60_000)
    assert item.locator("canvas.sm-mark").get_attribute("data-symbol") == "x"
    assert page.locator(".sm-item", has_text="0").first.locator("canvas.sm-mark").get_attribute(
        "data-symbol") == "circle"
    assert not page_errors(page)
    page.close()


def open_page(chromium, url: str, **options):
    """A new tab on ``url`` once the app is idle."""
    page = chromium.new_page(**options)
    page.goto(url)
    wait_idle(page)
    return page


def image_src(page, caption: str) -> str | None:
    """The src of the st.image whose caption contains ``caption`` (None if there is none)."""
    return page.evaluate(
        "(text) => { const e = [...document.querySelectorAll('[data-testid=\"stImage\"]')]"
        ".find(e => e.innerText.includes(text)); return e ? e.querySelector('img').src : null; }", caption)


def test_flows_temperature_and_toy_layer_slider(chromium, tiny_flow_root):
    with streamlit_server(env={"GENLAB_CHECKPOINTS": str(tiny_flow_root)}) as (url, _, _):
        page = open_page(chromium, f"{url}/flows", viewport={"width": 1400, "height": 2400})
        page.wait_for_selector('[data-testid="stImage"]:has-text("0.70²") img', timeout=60_000)
        before = image_src(page, "16 samples")
        slider = page.locator('[data-testid="stSlider"]', has_text="Temperature").get_by_role("slider")
        slider.focus()
        slider.press("ArrowRight")
        slider.press("ArrowRight")
        page.wait_for_selector('[data-testid="stImage"]:has-text("0.80²") img', timeout=15_000)
        assert image_src(page, "16 samples") != before
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)  # the likelihood histograms
        page.get_by_role("button", name="Train").click()
        title = "() => [...document.querySelectorAll('.js-plotly-plot')].map(g => g.layout?.title?.text || '')"
        page.wait_for_function(f"() => ({title})().some(t => t.includes('(x-space)'))", timeout=60_000)
        layer = page.locator('[data-testid="stSlider"]', has_text="Layers of f⁻¹").get_by_role("slider")
        layer.focus()
        layer.press("Home")  # layer 0: the grid is back in z-space
        page.wait_for_function(f"() => ({title})().some(t => t.includes('(z-space)'))", timeout=15_000)
        page.screenshot(path=str(Path(__file__).parent.parent / "test-results" / "flows-toy.png"))
        assert not page_errors(page)
        page.close()



def test_flows_temperature_pictures_swap_in_at_once_and_agree_with_the_server(chromium, tiny_flow_root):
    with streamlit_server(env={"GENLAB_CHECKPOINTS": str(tiny_flow_root)}) as (url, _, _):
        page = open_page(chromium, f"{url}/flows")
        page.wait_for_selector('[data-testid="stImage"]:has-text("0.70²") img', timeout=60_000)
        wait_idle(page)
        slider = page.locator('[data-testid="stSlider"]', has_text="Temperature").get_by_role("slider")
        assert_instant_frames_agree(page, slider, "st-key-flows-frames", ["ArrowRight"] * 3 + ["ArrowLeft"] * 2)
        assert not page_errors(page)
        page.close()

def test_autoregressive_sampling_and_receptive_field(chromium, tiny_pixelcnn_root):
    """Sampling fills the canvas live and a new seed gives new images; the receptive-field
    picture follows the pixel slider."""
    with streamlit_server(env={"GENLAB_CHECKPOINTS": str(tiny_pixelcnn_root)}) as (url, _, _):
        page = open_page(chromium, f"{url}/autoregressive")
        wait_drawn(page, "autoregressive")  # the sampler sits below the fold: click it once the page is whole
        sample_button = page.get_by_role("button", name="Sample 4 images")
        sample_button.click()
        page.wait_for_selector('[data-testid="stImage"]:has-text("4 samples, seed 0") img', timeout=60_000)
        first = image_src(page, "4 samples, seed 0")
        page.locator('[data-testid="stSlider"]', has_text="Seed").first.get_by_role("slider").press("ArrowRight")
        wait_idle(page)
        sample_button.click()
        page.wait_for_selector('[data-testid="stImage"]:has-text("4 samples, seed 1") img', timeout=60_000)
        assert image_src(page, "4 samples, seed 1") != first

        before = image_src(page, "pixel (14, 14)")
        column = page.locator('[data-testid="stSlider"]', has_text="Pixel column").get_by_role("slider")
        column.focus()
        column.press("End")
        page.wait_for_selector('[data-testid="stImage"]:has-text("pixel (14, 27)") img', timeout=15_000)
        assert image_src(page, "pixel (14, 27)") != before
        page.locator("text=Pixel 419 comes after").wait_for(timeout=15_000)  # 14·28 + 27, drawn with it
        wait_idle(page)
        assert_instant_frames_agree(page, column, "st-key-ar-field-frames", ["ArrowLeft"] * 3)
        row = page.locator('[data-testid="stSlider"]', has_text="Pixel row").get_by_role("slider")
        row.focus()
        assert_instant_frames_agree(page, row, "st-key-ar-field-frames", ["ArrowUp", "ArrowDown", "ArrowDown"])
        assert_second_slider_waits(page, column, row, "st-key-ar-field-frames")
        assert not page_errors(page)
        page.close()


def assert_second_slider_waits(page, first, second, target: str) -> None:
    """Two sliders change the same picture (/autoregressive's pixel row and column): a key on the
    second straight after one on the first must not paint the second's frames, which were drawn
    for the first's old value; the rerun draws the picture of both new values."""
    wait_idle(page)
    captions = lambda: [p["caption"] for p in page.evaluate(_PICTURES, target)]  # noqa: E731
    (before,) = captions()
    row, col = map(int, re.match(r"pixel \((\d+), (\d+)\)", before).groups())
    page.evaluate("""(target) => { window.__captions = [];
      new MutationObserver(() => window.__captions.push(...[...document.querySelectorAll(
        `.${target} [data-testid="stImageCaption"]`)].map(c => c.innerText)))
        .observe(document.querySelector(`.${target}`), {subtree: true, childList: true, characterData: true,
                                                         attributes: true}); }""", target)
    first.press("ArrowLeft")  # the column: col - 1, swapped in at once
    second.press("ArrowUp")  # the row, before the column's run is back
    page.wait_for_selector(f'.{target} [data-testid="stImageCaption"]:has-text("pixel ({row + 1}, {col - 1})")',
                           timeout=30_000)
    wait_idle(page)
    seen = set(page.evaluate("window.__captions"))
    assert not any(c.startswith(f"pixel ({row + 1}, {col})") for c in seen), seen


def test_autoregressive_sampling_job_fills_the_canvas_live_then_shows_the_samples(server, chromium):
    """#25, the long waits: 16 images (2–4 s here) run as a job; its fragment redraws the
    progress (time left, Cancel) and the canvas so far, then the page shows the samples.

    A seed of its own: the server keeps finished jobs for every session, so a seed another test
    sampled would show its samples at once; and the whole page drawn first, so that the click
    is not the one a still-arriving part below the fold replaces on screen."""
    page = open_page(chromium, f"{server}/autoregressive?ar.seed=479")
    wait_drawn(page, "autoregressive")
    images = page.locator('[data-testid="stSlider"]', has_text="Images n").get_by_role("slider")
    images.focus()
    images.press("End")  # 16 images
    button = page.get_by_role("button", name="Sample 16 images")
    button.wait_for(timeout=15_000)
    button.click()
    page.locator('[data-testid="stProgress"]', has_text="Sampling 16 images").wait_for(timeout=15_000)
    assert page.get_by_role("button", name="Cancel").count() == 1
    page.wait_for_selector('[data-testid="stImage"]:has-text("of 784 pixels drawn") img', timeout=15_000)
    page.wait_for_selector('[data-testid="stImage"]:has-text("16 samples, seed 479") img', timeout=60_000)
    # the run that draws the samples removes the progress bar as it ends, a moment after the image
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stProgress\"]')", timeout=5_000)
    assert not page_errors(page)
    page.close()


def test_protocol_session_steps_the_vae_slider(server):
    """The benchmark's browserless sessions (benchmarks/protocol.py) speak the protocol right."""
    import asyncio

    from benchmarks.protocol import Session

    async def steps() -> list[str]:
        async with Session(server) as s:
            run = await s.open("vae")
            z1 = run.widget("vae.z1")
            start = z1.proto.value[0]
            run = await s.set_widget(z1, "double_array_value", [round(start + 0.05, 2)])
            assert run.status is not None and not [e for e in run.elements if e.kind == "exception"]
            return [round(start + 0.05, 2), run.image_captions()]

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # its own event loop: Playwright's sync API holds this thread's
        value, captions = pool.submit(asyncio.run, steps()).result()
    assert any(f"z = ({value:.2f}," in c for c in captions)


def test_transport_k_changes_the_class_grid(chromium, tiny_transport_root):
    with streamlit_server(env={"GENLAB_CHECKPOINTS": str(tiny_transport_root)}) as (url, _, _):
        page = open_page(chromium, f"{url}/transport")
        caption = '[data-testid="stImage"]:has-text("Heun K = 8")'
        page.wait_for_selector(caption, timeout=60_000)
        before = page.locator(caption).locator("img").get_attribute("src")
        k = page.get_by_role("slider", name="Steps K")
        k.focus()
        k.press("ArrowLeft")  # K = 4
        after = '[data-testid="stImage"]:has-text("Heun K = 4")'
        page.wait_for_selector(after, timeout=30_000)
        assert page.locator(after).locator("img").get_attribute("src") != before
        assert not page_errors(page)
        page.close()


def test_bigan_page_reconstructs_the_image_picked(chromium, tiny_bigan_root):
    """#21: pick a held-out image, see its BiGAN reconstruction G(E(x)) change with it."""
    with streamlit_server(env={"GENLAB_CHECKPOINTS": str(tiny_bigan_root)}) as (url, _, _):
        page = open_page(chromium, f"{url}/bigan", viewport={"width": 1400, "height": 1600})
        page.wait_for_selector('[data-testid="stImage"]:has-text("BiGAN: G(E(x))") img', timeout=60_000)
        before = image_src(page, "BiGAN: G(E(x))")
        held_out = page.locator('[data-testid="stSlider"]', has_text="Held-out image").first.get_by_role("slider")
        for _ in range(5):  # held-out #5, a key step at a time
            held_out.press("ArrowRight")
        page.wait_for_selector('[data-testid="stImage"]:has-text("held-out #5") img', timeout=30_000)
        page.wait_for_function("(before) => { const e = [...document.querySelectorAll('[data-testid=\"stImage\"]')]"
                               ".find(e => e.innerText.includes('BiGAN: G(E(x))'));"
                               "return e && e.querySelector('img').src !== before; }", arg=before, timeout=30_000)
        assert not page_errors(page)
        page.close()


def test_back_and_forward_move_between_pages_and_keep_the_dataset(server, chromium):
    """#25: a page switch used to drop ?dataset=, which the app then wrote back as a second
    history entry, so Back needed two presses. The menu's links carry the dataset, and the
    settings a page writes into the URL (some only once its part below the fold is drawn)
    replace its entry instead of adding one (genlab_ui/static/copy_link.js)."""
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server}/diffusion?dataset=fashion-mnist")
    wait_drawn(page, "diffusion")
    heading = page.locator('[data-testid="stMainBlockContainer"] h1').first
    heading.filter(has_text="Diffusion").wait_for()
    start = page.evaluate("history.length")
    page.get_by_test_id("stSidebar").get_by_role("link", name="GANs side by side").click()
    heading.filter(has_text="GAN").wait_for(timeout=30_000)
    wait_drawn(page, "gans")
    assert "/gans?dataset=fashion-mnist" in page.url
    assert page.evaluate("history.length") == start + 1  # one entry for the page, none for its settings
    page.go_back()
    heading.filter(has_text="Diffusion").wait_for(timeout=30_000)
    wait_drawn(page, "diffusion")
    assert "/diffusion?dataset=fashion-mnist" in page.url
    page.go_forward()
    heading.filter(has_text="GAN").wait_for(timeout=30_000)
    wait_drawn(page, "gans")
    assert "/gans?dataset=fashion-mnist" in page.url
    page.reload()
    wait_idle(page)
    heading.filter(has_text="GAN").wait_for(timeout=30_000)
    assert radio_text(page, "Dataset") == "Fashion-MNIST (clothes)"
    assert not page_errors(page)
    page.close()


def test_a_page_paints_its_first_screen_then_draws_the_rest_by_itself(server, chromium):
    """#23 first paint: /gans sends its first screen alone; once it is painted, the first-screen
    component asks for the rest, which arrives with no one touching the page. Closed maths
    expanders hold no content until opened; opened, the equations are there."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/gans")
    page.wait_for_function("(document.body.dataset.genlabFold || '') === 'gans:done'", timeout=60_000)
    page.get_by_role("heading", name="Diagnostics").wait_for(timeout=60_000)  # below the fold
    wait_idle(page)
    page.wait_for_function("!document.body.innerText.includes('The rest of the page follows')", timeout=30_000)
    maths = page.get_by_test_id("stExpander").filter(has_text="The maths this page implements")
    assert maths.locator(".katex").count() == 0  # closed: nothing drawn inside
    maths.locator("summary").click()
    maths.locator(".katex").first.wait_for(timeout=30_000)
    # the saturation figure: plotly draws after the equations (a busy machine showed 0 in between)
    maths.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    assert maths.locator(".js-plotly-plot").count() == 1
    assert not page_errors(page)
    page.close()



def test_a_long_run_shows_the_status_widget(server, chromium):
    """Streamlit shows its status widget (a running figure and Stop) once a run has lasted half
    a second. The toolbar's "minimal" mode hid it: nothing said a slow page was still working,
    and ``wait_idle``, which waits for the widget to go, never waited."""
    page = chromium.new_page()
    page.goto(f"{server}/transport?transport.seed=917")  # a seed no other test samples: seconds of work
    page.wait_for_selector('[data-testid="stStatusWidget"]', timeout=30_000)
    wait_idle(page)
    page.wait_for_selector('[data-testid="stImage"]:has-text("cells") img', timeout=60_000)
    assert not page_errors(page)
    page.close()
