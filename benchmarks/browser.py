"""Start genlab's Streamlit server and a headless Chromium (Debian's) for tests and benchmarks."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("GENLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(port: int | None = None, timeout: float = 60.0, env: dict | None = None,
                     app: Path = ROOT / "app.py", launcher: bool = False):
    """Run genlab on localhost as the README's ``python -m genlab_ui`` does, which loads the
    libraries and models before it listens, or without ``launcher`` with ``--no-preload`` (what
    a first visit of ``streamlit run app.py`` pays); another ``app`` with ``streamlit run``.
    Yields (base URL, process, seconds to healthy)."""
    port = port or free_port()
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    if app != ROOT / "app.py":
        start = ["-m", "streamlit", "run", str(app)]
    else:
        start = ["-m", "genlab_ui"] if launcher else ["-m", "genlab_ui", "--no-preload"]
    cmd = [sys.executable, *start, "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    t0 = time.perf_counter()
    # the app as people get it (a test process may have turned the deferred fold off for AppTest)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "GENLAB_DEFER_BELOW_FOLD": "1", **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.perf_counter() - t0 > timeout:
                log.seek(0)
                raise RuntimeError(f"streamlit did not start:\n{log.read()[-3000:]}")
            time.sleep(0.1)
        yield url, proc, time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        os.unlink(log.name)


def launch(playwright):
    """Headless Debian Chromium (Playwright cannot download browsers here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until the app has rendered and no script run is in progress: no status widget, and
    the app's script state (which Streamlit sets the moment a run is asked for; the widget shows
    only once a run has lasted a moment) neither running nor asked to run or stop."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') "
        "&& document.querySelector('[data-testid=\"stMainBlockContainer\"] h1') "
        "&& !['running', 'rerunRequested', 'stopRequested'].includes("
        "document.querySelector('[data-testid=\"stApp\"]').dataset.testScriptState)",
        timeout=timeout_ms)


def cpu_seconds(pid: int) -> float:
    """The CPU time process ``pid`` has used, every thread (Linux' /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_server_quiet(pid: int, quiet_s: float = 1.0, busy: float = 0.05, timeout_s: float = 120) -> float:
    """Wait until process ``pid`` has used under ``busy`` of a core for ``quiet_s`` on end (its
    script runs and background work done, not only what the browser shows); the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        before = cpu_seconds(pid)
        time.sleep(quiet_s)
        if cpu_seconds(pid) - before < busy * quiet_s:
            break
    return time.monotonic() - start


def wait_drawn(page, name: str, timeout_ms: int = 60_000) -> None:
    """Wait until page ``name`` (one that defers its part below the fold) has drawn that part
    and nothing runs."""
    page.wait_for_function(f"(document.body.dataset.genlabFold || '') === '{name}:done'", timeout=timeout_ms)
    wait_idle(page, timeout_ms)


def settled_search(page, quiet_s: float = 1.5, timeout_s: float = 30) -> str:
    """The URL's query string once no run shows as in progress and it has not changed for
    ``quiet_s``: what a person copies once the page has caught up. (Streamlit shows its
    status widget only after a run has lasted a moment, so ``wait_idle`` alone can return
    between two runs; a run still in flight may write the URL once more before the newer
    run puts it right.)"""
    last, since, start = None, time.monotonic(), time.monotonic()
    while time.monotonic() - start < timeout_s:
        wait_idle(page)
        now = page.evaluate("() => window.location.search")
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return now
        page.wait_for_timeout(250)
    raise AssertionError(f"the URL kept changing for {timeout_s} s: {last}")


def page_errors(page) -> list[str]:
    """Exception boxes shown by Streamlit on the page."""
    return [e.inner_text() for e in page.query_selector_all('[data-testid="stException"]')]


TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing", "loading",
                    "v8.execute"]


def main_thread_work(trace: bytes, until_ms: float) -> dict:
    """What a tab's renderer main thread did from navigation start to ``until_ms`` (ms), from
    a Chrome trace taken with TRACE_CATEGORIES: busy ms (its tasks), of which script (JS
    calls and evaluation), style and layout, paint (paint, pre-paint, commit) and garbage
    collection; where the rest of the time went is waiting (network, the server, idle)."""
    events = json.loads(trace)["traceEvents"]
    nav = [e for e in events if e.get("name") == "navigationStart"
           and str(e.get("args", {}).get("data", {}).get("documentLoaderURL", "")).startswith("http")]
    if not nav:
        raise ValueError("no navigation in the trace")
    t0, pid = nav[-1]["ts"], nav[-1]["pid"]
    tid = next(e["tid"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"
               and e["pid"] == pid and e["args"].get("name") == "CrRendererMain")
    kinds = {"FunctionCall": "script", "EvaluateScript": "script", "v8.evaluateModule": "script",
             "UpdateLayoutTree": "style_layout", "Layout": "style_layout", "Paint": "paint",
             "PrePaint": "paint", "Commit": "paint", "Layerize": "paint", "MinorGC": "gc", "MajorGC": "gc"}
    out = dict.fromkeys(["busy", "script", "style_layout", "paint", "gc"], 0.0)
    for e in events:
        if e.get("pid") != pid or e.get("tid") != tid or e.get("ph") != "X":
            continue
        start, dur = (e["ts"] - t0) / 1000, e.get("dur", 0) / 1000
        if start < 0 or start >= until_ms:
            continue
        kind = "busy" if e["name"] == "RunTask" else kinds.get(e["name"])
        if kind:
            out[kind] += min(dur, until_ms - start)
    return {k: round(v, 1) for k, v in out.items()}
