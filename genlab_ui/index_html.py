"""Streamlit's index.html with one script added: where the server is, for a page's own URL.

Opened at a page's URL (``/vae``), Streamlit's browser code does not know whether ``/vae`` is
the app's base path (an app served under a prefix) or a page of an app at ``/``. It asks
``/vae/_stcore/health`` first, gets a 404, waits its minimum retry period (100 ms) and only
then asks ``/_stcore/health``: the first screen of every page but home came 50–70 ms later
on a quiet machine, 110–220 ms with trainings running (new tabs, medians of 6–8, 2026-12-06). The script tells it the answer (``window.__streamlit``'s
``BACKEND_BASE_URL``, Streamlit's setting for hosts that embed it) when the path is one
segment naming one of the app's pages, so it connects at once.

``python -m genlab_ui`` serves this copy (``serve_with_base``): a temporary folder of links
to Streamlit's static files, with the changed index.html. With ``server.baseUrlPath`` set, or
where the copy cannot be made, Streamlit's own folder is served and it probes as usual.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

HEAD = "<head>"


def script(page_paths: list[str]) -> str:
    """The inline script: BACKEND_BASE_URL = the origin's root when the location is /<page>."""
    return ("<script>(function () { var s = location.pathname.split('/').filter(Boolean); "
            f"if (!window.__streamlit && s.length === 1 && {json.dumps(sorted(page_paths))}.indexOf(s[0]) >= 0) "
            "window.__streamlit = {BACKEND_BASE_URL: location.origin + '/'}; })();</script>")


def with_script(html: str, page_paths: list[str]) -> str | None:
    """index.html with the script first in its head; None if it has no ``<head>``."""
    at = html.find(HEAD)
    if at < 0:
        return None
    at += len(HEAD)
    return html[:at] + "\n    " + script(page_paths) + html[at:]


def static_copy(source: Path, page_paths: list[str]) -> Path | None:
    """A temporary folder serving as Streamlit's static one: a symbolic link to each of its
    entries but index.html, which gets the script; removed when the process exits. None where
    that cannot be done (no symbolic links, an index.html without a head)."""
    html = with_script((source / "index.html").read_text(encoding="utf-8"), page_paths)
    if html is None:
        return None
    folder = Path(tempfile.mkdtemp(prefix="genlab-static-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    try:
        for entry in source.iterdir():
            if entry.name != "index.html":
                os.symlink(entry, folder / entry.name, target_is_directory=entry.is_dir())
    except OSError:
        return None
    (folder / "index.html").write_text(html, encoding="utf-8")
    return folder


def serve_with_base(page_paths: list[str]) -> None:
    """Before Streamlit's server starts: have it serve ``static_copy`` of its static folder
    (made when the server asks for the folder, once its configuration is read)."""
    from streamlit import config, file_util

    original = file_util.get_static_dir

    def static_dir() -> str:
        source = original()
        if str(config.get_option("server.baseUrlPath") or "").strip("/"):
            return source
        copy = static_copy(Path(source), page_paths)
        return str(copy) if copy else source

    file_util.get_static_dir = static_dir
