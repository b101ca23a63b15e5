"""Real-browser tests of /concepts (headless Debian Chromium through Playwright): the Markov step
slider, moved with the keyboard, changes the displayed π_n; a bad matrix gets a message."""

import os

import numpy as np
import pytest

from benchmarks.browser import chromium_available, page_errors, wait_idle
from genlab import concepts

if not chromium_available():
    if os.environ.get("GENLAB_REQUIRE_BROWSER"):
        raise RuntimeError("Chromium is required (GENLAB_REQUIRE_BROWSER is set) but not installed")
    pytest.skip("Chromium not installed (apt-get install chromium)", allow_module_level=True)


# the table row that shows π_n: "| π₃ = π₂A | 0.3340 | … |" renders as a row starting with π₃
PI_ROW = ("() => { const row = [...document.querySelectorAll('[data-testid=\"stMarkdownContainer\"] tr')]"
          ".find(r => /^π[₀-₉]+/.test(r.innerText.trim())); return row ? row.innerText : null; }")


from tests.test_browser import chromium, server  # noqa: E402,F401 (the shared browser fixtures)

PlaywrightTimeout = pytest.importorskip("playwright.sync_api").TimeoutError


def cells(row: str) -> list[float]:
    return [float(v) for v in row.split()[1:] if v.replace(".", "").isdigit()]


def test_markov_step_slider_changes_pi(server, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/concepts")
    wait_idle(page)
    page.wait_for_function(f"() => ({PI_ROW})() !== null", timeout=30_000)  # the Markov section is in
    assert not page_errors(page)
    before = page.evaluate(PI_ROW)
    assert before.startswith("π₀") and cells(before) == [0.0, 1.0, 0.0]  # day 0 serves pizza
    assert page.get_by_text("25/71").is_visible() and page.get_by_text("31/71").is_visible()
    coin_numbers = page.locator('[data-testid="stMarkdownContainer"]', has_text="KL(q ‖ p) =")
    coin_text = coin_numbers.inner_text()
    page.wait_for_url("**dataset=mnist*")  # the app has written its URL state (one more run)
    wait_idle(page)
    slider = page.locator('[data-testid="stSlider"]', has_text="Day n").get_by_role("slider")
    slider.scroll_into_view_if_needed()
    for day in (1, 2, 3):  # one key press per repaint, as a person steps through the days
        sub, previous = "₁₂₃"[day - 1], "₀₁₂"[day - 1]
        wanted = f"() => {{ const r = ({PI_ROW})(); return r && r.startsWith('π{sub}'); }}"
        for attempt in range(3):
            slider.focus()
            slider.press("ArrowRight")
            try:
                page.wait_for_function(wanted, timeout=5_000)
                break
            except PlaywrightTimeout:  # a press landing during a rerun can be dropped: press again
                if attempt == 2 or not page.evaluate(PI_ROW).startswith(f"π{previous}"):
                    raise
    after = page.evaluate(PI_ROW)
    path = concepts.distribution_path(np.array(concepts.RESTAURANT_A, dtype=float), np.eye(3)[1], 3)
    assert cells(after) == pytest.approx(np.round(path[3], 4).tolist())
    assert cells(after) != cells(before)
    slider.focus()
    slider.press("ArrowLeft")
    page.wait_for_function(f"() => {{ const r = ({PI_ROW})(); return r && r.startsWith('π₂'); }}",
                           timeout=15_000)
    assert cells(page.evaluate(PI_ROW)) == pytest.approx(np.round(path[2], 4).tolist())
    # every chart is on the page (the first one, the coin's, a picture), and the coin section
    # above is as it was
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 12
    assert page.locator('[data-testid="stImage"] img[src^="data:image/svg+xml"]').count() == 1
    assert coin_numbers.inner_text() == coin_text
    assert not page_errors(page)
    page.close()


def test_bad_matrix_shows_a_message(server, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/concepts")
    wait_idle(page)
    area = page.locator('[data-testid="stTextArea"] textarea')
    area.wait_for(timeout=30_000)
    area.scroll_into_view_if_needed()
    area.fill("0.2 0.6 0.3\n0.3 0 0.7\n0.5 0 0.5")
    area.press("Control+Enter")
    page.wait_for_selector('[data-testid="stAlert"]:has-text("row 1 (burger) sums to 1.1, not 1")',
                           timeout=15_000)
    assert not page_errors(page)
    page.close()
