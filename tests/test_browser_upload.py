"""#22, bring your own checkpoint, in a real browser: a tiny trained VAE uploaded on the home
page is in the zoo, marked, and on /vae's model picker of the same session. (Its own module: after
the many browsers of test_browser_links.py, its expander stayed inert at times.)"""

import re

import pytest
from playwright import sync_api

from benchmarks.browser import chromium_available, page_errors, streamlit_server, wait_idle, wait_server_quiet
from test_browser_links import fresh_tab, src_of

pytestmark = pytest.mark.skipif(not chromium_available(), reason="needs Chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def playwright():
    with sync_api.sync_playwright() as p:
        yield p


def test_an_uploaded_checkpoint_is_on_the_pages_of_the_session(playwright, idx_dir, tmp_path):
    from genlab.__main__ import main

    out = tmp_path / "mnist" / "vae-2d"
    assert main(["train", "vae-2d", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "3",
                 "--batch-size", "8", "--set", "hidden=16", "--out", str(out), "--no-download"]) == 0
    with streamlit_server() as (server, proc, _):
        upload_round_trip(playwright, server, out, proc.pid)


def upload_round_trip(playwright, server: str, out, server_pid: int | None = None) -> None:
    browser, page = fresh_tab(playwright, f"{server}/")
    open_expander(page, "Bring your own checkpoint")
    for name in ("card.json", "model.safetensors"):
        box = page.locator('[data-testid="stFileUploader"]', has_text=name)
        box.locator("input[type=file]").set_input_files(str(out / name))
        # the uploader lists the file once the server has it; the next upload waits for the rerun
        # to be over (Streamlit shows a run only after half a second, so the page alone cannot
        # tell: a file given during the rerun was lost once in CI)
        box.get_by_text(name).nth(1).wait_for(timeout=30_000)
        wait_idle(page)
        if server_pid:
            wait_server_quiet(server_pid, quiet_s=0.5)
    page.get_by_text("Added").first.wait_for(timeout=60_000)
    page.get_by_text("· uploaded (vae-2d-uploaded-").wait_for(timeout=30_000)  # in the zoo, marked
    page.get_by_role("link", name="VAE latent explorer").click()  # the same session
    picker = page.locator('[data-testid="stSidebar"] [data-testid="stRadio"]', has_text="Model")
    picker.locator("label", has_text=re.compile("vae-2d-uploaded-")).click()
    src_of(page, "decoder mean")
    assert not page_errors(page)
    browser.close()


def open_expander(page, label: str) -> None:
    """Open an expander and wait until its content shows (a click before the page is interactive
    can be lost: it is tried again, never toggled shut)."""
    details = page.locator("details", has_text=label).first
    for _ in range(5):
        if details.get_attribute("open") is not None:
            return
        details.locator("summary").click()
        try:
            page.wait_for_function("(d) => d.open", arg=details.element_handle(), timeout=5_000)
            return
        except sync_api.TimeoutError:
            wait_idle(page)
    raise AssertionError(f"the expander {label!r} did not open")
