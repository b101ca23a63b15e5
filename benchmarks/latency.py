"""Browser latency of genlab's pages in headless Chromium, against a real `streamlit run`.

    python -m benchmarks.latency [--reps 40] [--out docs/benchmarks.json]

Measures (i) cold start: server process start -> home page rendered with its sample
images, and (ii) VAE slider: a keyboard step on the z1 slider -> the decoded image's
<img> replaced in the DOM and painted (timed inside the page with performance.now and
requestAnimationFrame). Prints and writes p50/p95.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from benchmarks.browser import launch, streamlit_server, wait_idle

# in-page probe: time from the key press to the first frame painted after the image changed
_ARM = """
([caption]) => {
  const find = () => [...document.querySelectorAll('[data-testid="stImage"]')]
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
    xs = sorted(xs)
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


def vae_slider(playwright, url: str, reps: int) -> dict:
    browser = launch(playwright)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/vae")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stImage"]:has-text("decoder mean") img')
    slider = page.locator('[data-testid="stSlider"]', has_text="z1").get_by_role("slider")
    times = []
    for i in range(reps + 3):
        key = "ArrowRight" if (i // 10) % 2 == 0 else "ArrowLeft"
        ms = timed_key(page, slider, key, "decoder mean")
        if i >= 3:  # warm-up
            times.append(ms)
        time.sleep(0.15)
    browser.close()
    return percentiles(times)


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=40)
    p.add_argument("--cold", type=int, default=3, help="cold starts to time")
    p.add_argument("--out")
    args = p.parse_args()
    result = {"machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, "
                         f"{platform.python_version()}"}
    with sync_playwright() as pw:
        colds = [cold_start(pw) for _ in range(args.cold)]
        result["cold_start"] = {"runs": colds, "median_home_rendered_s": statistics.median(
            c["home_rendered_s"] for c in colds)}
        with streamlit_server() as (url, _, _):
            result["vae_slider"] = vae_slider(pw, url, args.reps)
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
