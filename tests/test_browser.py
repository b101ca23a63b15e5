"""Real-browser tests (headless Debian Chromium through Playwright): what AppTest cannot see."""

import os

import pytest

from benchmarks.browser import chromium_available, launch, page_errors, streamlit_server, wait_idle

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


def decoded_src(page) -> str:
    return page.get_attribute('[data-testid="stImage"]:has-text("decoder mean") img', "src")


def test_home_shows_model_cards(server, chromium):
    page = chromium.new_page()
    page.goto(server)
    wait_idle(page)
    page.wait_for_selector('[data-testid="stImage"] img')
    assert page.locator('[data-testid="stImage"] img').count() >= 2
    assert not page_errors(page)
    page.close()


def test_vae_slider_changes_the_image(server, chromium):
    page = chromium.new_page()
    page.goto(f"{server}/vae")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stImage"]:has-text("decoder mean") img')
    assert not page_errors(page)
    before = decoded_src(page)
    slider = page.locator('[data-testid="stSlider"]', has_text="z1").get_by_role("slider")
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")
    page.wait_for_function(
        "(before) => { const img = [...document.querySelectorAll('[data-testid=\"stImage\"]')]"
        ".find(e => e.innerText.includes('decoder mean')); "
        "return img && img.querySelector('img').src !== before && img.innerText.includes('0.25'); }",
        arg=before, timeout=15_000)
    assert decoded_src(page) != before
    page.close()


def test_vae_map_click_decodes_that_point(server, chromium):
    page = chromium.new_page()
    page.goto(f"{server}/vae")
    wait_idle(page)
    canvas = page.locator("canvas.lm-canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    # the map spans z in [-4, 4]: a click at 3/4 width, 1/4 height is z = (2, 2)
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    page.wait_for_selector('[data-testid="stImage"]:has-text("z = (2.00, 2.00)")', timeout=15_000)
    assert not page_errors(page)
    page.close()
