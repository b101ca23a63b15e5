"""#23 first paint: the launcher's index.html tells the browser where the server is, so a page
opened at its own URL (``/vae``) connects without first asking ``/vae/_stcore/health`` (a 404,
then Streamlit's 100 ms retry)."""

from pathlib import Path

import pytest
from playwright import sync_api

from benchmarks.browser import chromium_available, launch, streamlit_server, wait_drawn
from genlab_ui import __main__ as launcher
from genlab_ui import index_html

PAGES = launcher.page_paths()


def test_the_launcher_reads_every_page_path_from_app_py():
    assert {"home", "vae", "gans", "diffusion", "flows", "bigan"} <= set(PAGES) and len(PAGES) == 11


def test_the_script_goes_first_in_the_head_and_names_the_pages():
    html = with_head = index_html.with_script("<html><head><title>x</title></head><body></body></html>", PAGES)
    assert with_head.index("window.__streamlit") < with_head.index("<title>") and '"vae"' in html
    assert index_html.with_script("<html><body></body></html>", PAGES) is None  # nothing to put it in


def test_the_copy_serves_streamlits_files_and_the_changed_index(tmp_path):
    source = tmp_path / "static"
    (source / "static" / "js").mkdir(parents=True)
    (source / "static" / "js" / "index.abc.js").write_text("console.log(1)")
    (source / "favicon.png").write_bytes(b"\x89PNG")
    (source / "index.html").write_text("<!DOCTYPE html><html><head><title>Streamlit</title></head></html>")
    copy = index_html.static_copy(source, PAGES)
    assert copy is not None and copy != source
    assert (copy / "static" / "js" / "index.abc.js").read_text() == "console.log(1)"
    assert (copy / "favicon.png").read_bytes() == b"\x89PNG"
    assert "BACKEND_BASE_URL" in (copy / "index.html").read_text()
    assert "BACKEND_BASE_URL" not in (source / "index.html").read_text()  # Streamlit's own file untouched


def test_an_app_under_a_base_path_keeps_streamlits_own_folder(monkeypatch):
    from streamlit import config, file_util

    original = file_util.get_static_dir
    monkeypatch.setattr(file_util, "get_static_dir", original)  # restored after the test
    index_html.serve_with_base(PAGES)
    monkeypatch.setattr(config, "get_option", lambda name: "genlab" if name == "server.baseUrlPath" else None)
    assert file_util.get_static_dir() == original()
    monkeypatch.setattr(config, "get_option", lambda name: "" if name == "server.baseUrlPath" else None)
    served = Path(file_util.get_static_dir())
    assert served != Path(original()) and "BACKEND_BASE_URL" in (served / "index.html").read_text()


@pytest.mark.skipif(not chromium_available(), reason="needs Chromium (apt-get install chromium)")
def test_a_page_opened_at_its_url_connects_at_the_first_try():
    with streamlit_server() as (url, _, _), sync_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        asked = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto(f"{url}/vae")
        page.wait_for_selector('[data-testid="stImage"]:has-text("decoder mean") img', timeout=60_000)
        health = [u for u in asked if "_stcore/health" in u]
        # and the menu still leads to the other pages, their pictures served
        page.locator('[data-testid="stSidebar"] a', has_text="GANs side by side").click()
        page.wait_for_selector('[data-testid="stImage"]:has-text("seed") img', timeout=60_000)
        wait_drawn(page, "gans")
        browser.close()
    assert health == [f"{url}/_stcore/health"], health
