"""Custom components (Streamlit components v2; JavaScript shipped in genlab_ui/static)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from genlab.images import file_name, grid, to_gif, to_png, upscale
from genlab_ui import state

_STATIC = Path(__file__).parent / "static"
_PAGE_CSS = (_STATIC / "page.css").read_text()
_SERVED = Path(__file__).resolve().parent.parent / "static"  # served at app/static/ by Streamlit
# tab10, so class colours match Plotly/matplotlib defaults elsewhere in the app
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

_DECODER_JS = (_STATIC / "mlp_decoder.js").read_text()  # shared by both components

_latent_map = st.components.v2.component(
    "genlab.latent_map",
    js=_DECODER_JS + (_STATIC / "latent_map.js").read_text(),
    css=(_STATIC / "latent_map.css").read_text(),
)
_latent_sliders = st.components.v2.component(
    "genlab.latent_sliders",
    js=_DECODER_JS + (_STATIC / "latent_sliders.js").read_text(),
    css=(_STATIC / "latent_sliders.css").read_text(),
)


_copy_link = st.components.v2.component(
    "genlab.copy_link",
    js=(_STATIC / "copy_link.js").read_text(),
    css=(_STATIC / "copy_link.css").read_text(),
)


_first_screen = st.components.v2.component(
    "genlab.first_screen",
    js=(_STATIC / "first_screen.js").read_text(),
)
# GENLAB_DEFER_BELOW_FOLD=0 draws whole pages in one run (AppTest runs no JavaScript)
DEFER_BELOW_FOLD = os.environ.get("GENLAB_DEFER_BELOW_FOLD", "1") != "0"
FOLD_CAPTION = "The rest of the page follows in a moment…"


def below_the_fold(page: str) -> bool:
    """Mount where ``page``'s first screen ends; draw the rest only when this returns True.

    On the page's first run in a session it returns False: the first screen goes out alone,
    and once the browser has painted it (its images loaded), the component asks for the
    next run, which draws the rest. Every later run of the page draws the whole page. What
    every first visit pays for below the fold (plotly's 4.7 MB of JavaScript, vega, KaTeX,
    dozens of elements) then comes after the first paint instead of before it."""
    if not DEFER_BELOW_FOLD:
        return True
    key = f"fold.{page}"
    painted = state.painted(st.session_state.get(key))
    _first_screen(key=key, data={"page": page, "painted": painted}, default={"painted": False},
                  on_painted_change=lambda: None)
    state.fold_pending(None if painted else key)
    if not painted:
        st.caption(FOLD_CAPTION)
        state.report_later()
    return painted


def first_screen_painted(page: str) -> bool:
    """Whether ``page``'s first screen is painted in this session (its runs since draw the rest):
    work the first screen does not show (e.g. pictures sent ahead) waits until then."""
    return not DEFER_BELOW_FOLD or state.painted(st.session_state.get(f"fold.{page}"))


def lazy_expander(label: str, key: str, where=st):
    """An expander that reruns the page when opened or closed: (its container, whether to
    draw its content now). Closed, its content costs the first paint nothing (KaTeX, plotly);
    with GENLAB_DEFER_BELOW_FOLD=0 it is drawn always, closed or not."""
    box = where.expander(label, key=key, on_change="rerun" if DEFER_BELOW_FOLD else "ignore")
    return box, box.open is not False


_draw_pad = st.components.v2.component(
    "genlab.draw_pad",
    js=(_STATIC / "draw_pad.js").read_text(),
    css=(_STATIC / "draw_pad.css").read_text(),
)


def draw_pad(key: str, where=st) -> list[int] | None:
    """A 28×28 drawing pad (mouse, touch, pen; brush size, Undo, Clear): its 784 grey levels
    (row by row) after the last stroke, or None when nothing is drawn."""
    state = st.session_state.get(key)
    kept = state.get("pixels") if isinstance(state, dict) else getattr(state, "pixels", None)
    with where.container():
        result = _draw_pad(key=key, data={"pixels": kept}, default={"pixels": None},
                           on_pixels_change=lambda: None)
    return result.pixels


def sidebar_menu(pages: list) -> None:
    """app.py's sidebar: a link per page, the dataset picker and the download size (also drawn
    around the benchmarks' trivial page, to time what this shell costs by itself)."""
    with st.sidebar:
        state.page_links(pages)  # Streamlit's own menu drops ?dataset= (Back would then need two presses)
        st.divider()
        st.markdown("### genlab")
        state.dataset_picker()
        st.select_slider("Download size (×)", DOWNLOAD_SCALES, value=4, key="dl.scale", bind="query-params",
                         help="Pixels per image pixel in the PNG and GIF downloads under each figure "
                              "(nearest neighbour, so pixels stay crisp)")


def copy_link(where) -> None:
    """A "Copy link to this view" button: the page's address with the settings its widgets
    keep in the URL (genlab_ui.state), copied to the clipboard."""
    with where:
        _copy_link(key="genlab.copy_link")


ATLAS_COLS = 50  # images per row of the hover atlas


class _Memo:
    """A thread-safe least-recently-used map whose values' total ``size`` stays within ``budget``."""

    def __init__(self, budget: int, size: Callable[[Any], int] = lambda value: 1):
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.budget, self.size, self.used, self.added = budget, size, 0, 0

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value) -> int:
        """Keep ``value``; how many values were added so far."""
        with self.lock:
            if key not in self.items:
                self.items[key] = value
                self.used += self.size(value)
                self.added += 1
                while self.used > self.budget and len(self.items) > 1:
                    self.used -= self.size(self.items.popitem(last=False)[1])
            return self.added


def _pixels_key(image: np.ndarray) -> tuple[np.ndarray, bytes]:
    """The picture as contiguous uint8, and a key for its pixels: their BLAKE2 digest and shape."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    return image, hashlib.blake2b(image.data, digest_size=20).digest() + repr(image.shape).encode()


PNG_MEMO_BYTES = 24 << 20  # encoded pictures kept for the process (a grid is 5–40 kB)
_png_memo = _Memo(PNG_MEMO_BYTES, len)


def png_data_url(image: np.ndarray) -> str:
    """A uint8 array (H, W) or (H, W, 3) as a PNG data URL, encoded once per process: the same
    picture (a rerun that redraws it, a seed or snapshot seen before, another session) costs a
    hash of its pixels (0.1 ms) instead of an encoding (3–13 ms on a busy core). Keyed by the
    pixels' BLAKE2 digest and shape; the least recently used go first beyond PNG_MEMO_BYTES."""
    image, key = _pixels_key(image)
    url = _png_memo.get(key)
    if url is None:
        url = "data:image/png;base64," + base64.b64encode(to_png(image)).decode()
        _png_memo.put(key, url)
    return url


def inline_image(image: np.ndarray, caption: str | None = None, where=st, width: int | str = "content") -> None:
    """st.image of a uint8 array (H, W) or (H, W, 3) as an inline PNG data URL. Streamlit's own
    path stores the PNG in its media manager and the browser fetches it in a second request;
    inline, the picture comes with the update (about 40 ms sooner on a 2-core machine), which
    matters wherever a control repaints it."""
    where.image(png_data_url(image), caption=caption, width=width)


def svg_line_chart(x: np.ndarray, series: dict[str, np.ndarray], colors: list[str], *, title: str,
                   x_title: str, y_title: str, y_domain: tuple[float, float],
                   x_domain: tuple[float, float] | None = None, marker: float | None = None,
                   marker_color: str = "#d62728", hline: float | None = None, width: int = 520,
                   height: int = 300) -> str:
    """A line chart as an SVG document: curves clipped to ``y_domain``, axes with ticks, a legend
    below, an optional vertical rule at x = ``marker`` and a dashed grey one at y = ``hline``. For
    a page's first screen, or a chart a control redraws: shown with
    st.image, it needs no chart library in the browser (Vega-Lite's code costs a new visitor
    seconds before the first chart appears)."""
    left, right, top, bottom = 46, 22, 28, 62
    pw, ph = width - left - right, height - top - bottom
    x0, x1 = x_domain or (float(np.min(x)), float(np.max(x)))
    y0, y1 = y_domain

    def px(v):
        return left + (np.asarray(v, float) - x0) / (x1 - x0) * pw

    def py(v):
        return top + (1 - (np.asarray(v, float) - y0) / (y1 - y0)) * ph

    def ticks(lo: float, hi: float, n: int = 6) -> np.ndarray:
        step = float(np.ptp([lo, hi])) / n
        nice = min((m * 10 ** np.floor(np.log10(step)) for m in (1, 2, 2.5, 5, 10)), key=lambda t: abs(t - step))
        return np.arange(np.ceil(lo / nice) * nice, hi + nice / 2, nice)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" fill="#31333f">',
           f'<rect width="{width}" height="{height}" fill="#fff"/>',
           f'<text x="{left}" y="16" font-size="13" font-weight="bold">{_xml(title)}</text>',
           f'<clipPath id="plot"><rect x="{left}" y="{top}" width="{pw}" height="{ph}"/></clipPath>']
    for t in ticks(y0, y1):
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#e6e6e6"/>'
                   f'<text x="{left - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    for t in ticks(x0, x1):
        out.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top + ph}" y2="{top + ph + 4}" stroke="#888"/>'
                   f'<text x="{px(t):.1f}" y="{top + ph + 16}" text-anchor="middle">{t:g}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 32}" text-anchor="middle">{_xml(x_title)}</text>'
               f'<text transform="translate(12 {top + ph / 2}) rotate(-90)" text-anchor="middle">{_xml(y_title)}</text>')
    for (name, y), color in zip(series.items(), colors):
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px(x), py(np.clip(y, y0 - (y1 - y0), y1 + (y1 - y0)))))
        out.append(f'<polyline clip-path="url(#plot)" points="{points}" fill="none" stroke="{color}" '
                   f'stroke-width="2"><title>{_xml(name)}</title></polyline>')
    if hline is not None and y0 <= hline <= y1:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(hline):.1f}" y2="{py(hline):.1f}" '
                   'stroke="grey" stroke-dasharray="3 3"/>')
    if marker is not None:
        out.append(f'<line x1="{px(marker):.1f}" x2="{px(marker):.1f}" y1="{top}" y2="{top + ph}" '
                   f'stroke="{marker_color}" stroke-width="2"/>')
    step = pw / max(1, len(series))
    for i, (name, color) in enumerate(zip(series, colors)):
        lx = left + i * step
        out.append(f'<line x1="{lx:.1f}" x2="{lx + 18:.1f}" y1="{height - 12}" y2="{height - 12}" stroke="{color}" '
                   f'stroke-width="3"/><text x="{lx + 23:.1f}" y="{height - 8}">{_xml(name)}</text>')
    return "".join(out) + "</svg>"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- downloads: made only when clicked (a callable), named after what made them -------------------

DOWNLOAD_SCALES = (1, 2, 4, 8, 16)


def download_scale() -> int:
    """The sidebar's "Download size": pixels per image pixel of PNG and GIF downloads."""
    value = st.session_state.get("dl.scale", 4)
    return int(value) if value in DOWNLOAD_SCALES else 4


def _button(label: str, make, name: str, mime: str, where, key: str | None) -> None:
    where.download_button(label, make, file_name=name, mime=mime, on_click="ignore", type="tertiary",
                          icon=":material/download:", key=key or f"dl.{name}",
                          help=f"Download {name}")


def png_download(image: np.ndarray, name: str, where=st, key: str | None = None) -> None:
    """Download ``image`` (uint8 at its own size, e.g. a grid of 28×28 images) as a PNG at the
    download size, nearest neighbour so pixels stay crisp; ``name`` from images.file_name."""
    scale = download_scale()
    _button(f"PNG ×{scale}", lambda: to_png(upscale(image, scale)), name, "image/png", where, key)


def gif_download(frames: list[np.ndarray] | np.ndarray, name: str, where=st, *, ms: int = 60,
                 key: str | None = None) -> None:
    """Download frames (uint8, each at its own size) as a looping animated GIF."""
    scale = download_scale()
    _button(f"GIF ×{scale}", lambda: to_gif([upscale(f, scale) for f in frames], ms=ms), name,
            "image/gif", where, key)


def csv_text(rows: list[dict]) -> str:
    """Rows of one shape (dicts with the same keys) as CSV text with a header."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def csv_download(rows: list[dict], name: str, where=st, key: str | None = None) -> None:
    """Download a table (a list of dicts) as CSV."""
    _button("CSV", lambda: csv_text(rows), name, "text/csv", where, key)


def figure(image: np.ndarray, caption: str, name: str, *, scale: int = 2, where=st,
           key: str | None = None) -> None:
    """An image (a grid or strip at its own size) shown ``scale``× with a PNG download under it
    (its widget key ``dl.<name>`` unless ``key`` is given: one per file name on a page).

    Where a control changes the file name (a seed, a step), give a ``key`` that stays: the
    button is then updated in place instead of replaced by a new widget (on /gans' row of five
    figures, 15–20 ms less per seed step here)."""
    inline_image(upscale(image, scale), caption, where)
    png_download(image, name, where, key)


def figure_row(images: list[np.ndarray], captions: list[str], name: str, *, scale: int = 2,
               key: str) -> None:
    """Pictures side by side in one row, each ``scale``× with its caption, the row's width shared
    equally (page.css), and one PNG download of the whole row (``name``; widget key ``key``).

    One element for the row instead of a column, a picture and a download button per picture:
    the browser handles three messages per update instead of three per picture (on /gans' row of five
    grids, a seed step's median 92 -> 82 ms here, p95 109 -> 97)."""
    if not images:
        return
    with st.container(key=key + "-figure-row", gap=None):
        st.image([png_data_url(upscale(image, scale)) for image in images], caption=captions, width="stretch")
        gap = np.zeros((images[0].shape[0], 8) + images[0].shape[2:], dtype=np.uint8)
        png_download(np.concatenate([part for image in images for part in (gap, image)][1:], axis=1),
                     name, key=key)


def page_style() -> None:
    """genlab's few CSS rules (static/page.css), once per page run; a style alone takes no room."""
    st.html(f"<style>{_PAGE_CSS}</style>")


def warm_figure(image: np.ndarray, scale: int = 2) -> None:
    """Encode the picture ``figure(image, …, scale=scale)`` would show, ahead of the click that
    shows it (e.g. the neighbouring seeds'), so that the click costs no encoding."""
    png_data_url(upscale(image, scale))


def walk_figure(images: np.ndarray, caption: str, stem: tuple, *, scale: int = 2, where=st) -> None:
    """A walk's images (k, 28, 28) as a strip with a PNG download, and as a there-and-back
    animation (GIF); ``stem``: what made it, for the file names."""
    figure(grid(images, ncol=len(images)), caption, file_name(*stem, ext="png"), scale=scale, where=where)
    gif_download(list(images) + list(images[::-1]), file_name(*stem, ext="gif"), where, ms=120)


def chart_config(name: str) -> dict:
    """A Plotly chart's config: only the toolbar's camera (download as PNG at the download size),
    the file named ``name`` (no extension)."""
    return {"displaylogo": False, "modeBarButtons": [["toImage"]],
            "toImageButtonOptions": {"format": "png", "filename": name, "scale": download_scale()}}


def _atlas_png(images: np.ndarray) -> bytes:
    from genlab.images import grid, to_png

    return to_png(grid(images, ncol=ATLAS_COLS, pad=0))


@st.cache_data(max_entries=8, show_spinner=False)
def image_atlas(images: np.ndarray) -> tuple[str, str]:
    """uint8 images (N, 28, 28) -> (base64 PNG atlas, short content key) for hover tooltips."""
    png = _atlas_png(images)
    return base64.b64encode(png).decode(), hashlib.sha1(png).hexdigest()[:16]


def serve_file(folder: str, name: str, blob: bytes) -> str | None:
    """Write ``blob`` once to static/<folder>/<name> (named by content, so never stale) and
    return its URL for the browser, or None when the folder cannot be written."""
    path = _SERVED / folder / name
    try:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(blob)
            tmp.replace(path)
    except OSError:
        return None
    return f"app/static/{folder}/{name}"


@st.cache_resource(max_entries=8, show_spinner=False)
def decoder_asset(folder: str) -> dict | None:
    """Write a VAE's decoder weights to static/decoders/<content key>.bin once; the spec for
    the browser, or None when the folder cannot be written (the pad then decodes on release)."""
    from genlab.export import mlp_decoder_blob
    from genlab_ui.loaders import load_checkpoint

    if os.environ.get("GENLAB_NO_LIVE_DECODE"):  # for before/after page-weight benchmarks
        return None
    blob, shapes, key = mlp_decoder_blob(load_checkpoint(folder).model)
    url = serve_file("decoders", f"{key}.bin", blob)
    if url is None:
        return None
    return {"url": url, "layers": shapes, "key": key, "kb": round(len(blob) / 1024)}


ATLAS_MEMO = 32
_atlas_memo: OrderedDict[int, tuple[np.ndarray, dict | None]] = OrderedDict()
_atlas_memo_lock = threading.Lock()


def atlas_url(images: np.ndarray) -> dict | None:
    """uint8 images (N, 28, 28) as one PNG atlas served at app/static/atlases/: {url, cols}.
    A read-only array (``loaders.bundled``'s, the same object on every rerun) is looked up by
    identity: hashing its pixels for the cache key cost about 1.2 ms a call (2,000 images)."""
    if images.flags.writeable:
        return _atlas_url(images)
    with _atlas_memo_lock:
        hit = _atlas_memo.get(id(images))
        if hit is not None and hit[0] is images:  # the memo holds the array: its id is not reused
            _atlas_memo.move_to_end(id(images))
            return hit[1]
    url = _atlas_url(images)
    with _atlas_memo_lock:
        _atlas_memo[id(images)] = (images, url)
        while len(_atlas_memo) > ATLAS_MEMO:
            _atlas_memo.popitem(last=False)
    return url


@st.cache_resource(max_entries=32, show_spinner=False)
def _atlas_url(images: np.ndarray) -> dict | None:
    png = _atlas_png(images)
    url = serve_file("atlases", f"{hashlib.sha1(png).hexdigest()[:20]}.png", png)
    return {"url": url, "cols": ATLAS_COLS} if url else None



# --- instant frames: a slider's neighbouring pictures, swapped in by the browser -----------------

_instant_frames = st.components.v2.component(
    "genlab.instant_frames",
    js=(_STATIC / "instant_frames.js").read_text(),
)
FRAME_FILES_KEEP = 6000  # static/frames/ is pruned to half of this, oldest first, beyond it
_frame_memo = _Memo(FRAME_FILES_KEEP // 2)


def frame_url(image: np.ndarray | str) -> str:
    """A uint8 picture (H, W) or (H, W, 3) as a PNG served at app/static/frames/ (named by its
    content, encoded once per process), or its data URL when that folder cannot be written; an
    SVG document as the data URL st.image makes of it."""
    if isinstance(image, str):
        return "data:image/svg+xml;base64," + base64.b64encode(image.encode()).decode()
    image, key = _pixels_key(image)
    url = _frame_memo.get(key)
    if url is not None:
        return url
    folder = _SERVED / "frames"
    name = f"{hashlib.blake2b(key, digest_size=16).hexdigest()}.png"
    if not (folder / name).is_file():
        shown = _png_memo.get(key)  # its data URL, when a page showed it: the same PNG, not encoded again
        serve_file("frames", name, base64.b64decode(shown.split(",", 1)[1]) if shown else to_png(image))
    url = f"app/static/frames/{name}" if (folder / name).is_file() else png_data_url(image)
    if _frame_memo.put(key, url) % 500 == 0:
        _prune_frames(folder)
    return url


def _prune_frames(folder: Path) -> None:
    """Keep static/frames/ under FRAME_FILES_KEEP files: the oldest go (a page still showing one
    then waits for its rerun, as without this component)."""
    try:
        files = sorted(folder.glob("*.png"), key=lambda f: f.stat().st_mtime)
        for f in files[: max(0, len(files) - FRAME_FILES_KEEP // 2)] if len(files) > FRAME_FILES_KEEP else []:
            f.unlink(missing_ok=True)
    except OSError:
        pass


def _st_key_class(key: str) -> str:
    """The CSS class Streamlit gives the element or container with ``key``."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def instant_frames(control: str, target: str, value, frames: dict, *, key: str) -> None:
    """Send the pictures of a slider's neighbouring values ahead, so that a step to one of them
    is painted by the browser at once (genlab_ui/static/instant_frames.js) instead of after the
    rerun's round trip; the rerun then draws the same pictures and everything else.

    Args:
        control: the slider's widget key.
        target: the key of the container (st.container(key=…)) holding the pictures the slider
            changes, in page order.
        value: the slider's value in this run.
        frames: {value: [(picture as shown: uint8 at its displayed size, or an SVG document; its
            caption or None), …]}, one entry per picture of ``target``; for a select_slider, keys
            are option indices.
        key: this component's key (hidden by page.css: keys starting with "instant.").
    """
    data = {"control": _st_key_class(control), "target": _st_key_class(target), "value": value,
            "frames": {str(v): [{"src": frame_url(image), "caption": caption} for image, caption in parts]
                       for v, parts in frames.items()}}
    _instant_frames(data=data, key=key)


_scatter_map = st.components.v2.component(
    "genlab.scatter_map",
    js=(_STATIC / "scatter_map.js").read_text(),
    css=(_STATIC / "scatter_map.css").read_text(),
)


def scatter_map(groups: list[dict], atlases: list[dict | None], axis: tuple[str, str], *,
                key: str, on_pick, pinned: tuple[int, int] | None = None,
                bars: dict | None = None, height: int = 560, switch: dict | None = None):
    """A canvas scatter plot of thousands of points (drawn in the browser, no Plotly).

    Args:
        groups: legend entries, each {name, color, x, y, index, atlas, caption} and optionally
            symbol ("circle", "x", "diamond", "triangle", "square"), size, opacity, outline:
            point i shows tile ``index[i]`` of ``atlases[atlas]`` on hover.
        atlases: ``atlas_url`` results.
        axis: the axis titles.
        on_pick: run when a point is clicked; ``st.session_state[key].pick`` is then
            [atlas, index].
        pinned: (atlas, index) of the point to ring, or None.
        bars: an optional bar chart under the map: {title, values (shares), xlabel}.
        switch: another map the browser draws the moment a radio button is picked, before the
            rerun that draws it too (/projections' PCA ⇄ t-SNE): {control: the radio's widget
            key, value: the option's index, groups, atlases, axis, bars}.
    """
    text = _scatter_text(groups, atlases, axis, pinned, height, bars)
    if switch is not None:
        other = _scatter_text(switch["groups"], switch["atlases"], switch["axis"], pinned, height, switch.get("bars"))
        text = (f'{{"main": {text}, "switch": {{"control": {json.dumps(_st_key_class(switch["control"]))}, '
                f'"value": {json.dumps(str(switch["value"]))}, "data": {other}}}}}')
    return _scatter_map(data=text, key=key, on_pick_change=on_pick)


def _scatter_text(groups: list[dict], atlases: list[dict | None], axis: tuple[str, str],
                  pinned: tuple[int, int] | None, height: int, bars: dict | None) -> str:
    """scatter_map's JSON text for one map. The same map again (a switch back to PCA, an overlay
    toggled back) reuses its text: building and encoding 2,000 points' lists took 4-5 ms of each
    switch; a digest of the arrays' bytes takes a tenth of a millisecond."""
    h = hashlib.sha1(json.dumps([atlases, list(axis), pinned, int(height), bars], default=str).encode())
    for g in groups:
        for field in ("x", "y", "index"):
            a = np.ascontiguousarray(g[field])
            h.update(f"{field}{a.dtype}{a.shape}".encode())
            h.update(a.tobytes())
        h.update(json.dumps({k: v for k, v in g.items() if k not in ("x", "y", "index")}, default=str).encode())
    with _scatter_memo_lock:
        text = _scatter_memo.get(h.digest())
    if text is None:
        text = json.dumps(_scatter_data(groups, atlases, axis, pinned, height, bars))
        with _scatter_memo_lock:
            _scatter_memo[h.digest()] = text
            while len(_scatter_memo) > SCATTER_MEMO:
                _scatter_memo.popitem(last=False)
    return text


SCATTER_MEMO = 16
_scatter_memo: OrderedDict[bytes, str] = OrderedDict()
_scatter_memo_lock = threading.Lock()


def _scatter_data(groups: list[dict], atlases: list[dict | None], axis: tuple[str, str],
                  pinned: tuple[int, int] | None, height: int, bars: dict | None) -> dict:
    """scatter_map's data for the browser: coordinates rounded, the pinned point found."""
    def rounded(v: np.ndarray) -> list[float]:
        return np.round(np.asarray(v, dtype=np.float64), 4).tolist()

    sent, ring = [], None
    for k, g in enumerate(groups):
        index = np.asarray(g["index"], dtype=np.int64)
        if pinned is not None and g["atlas"] == pinned[0]:
            hit = np.flatnonzero(index == pinned[1])
            if hit.size:
                ring = [k, int(hit[0])]
        sent.append({**g, "x": rounded(g["x"]), "y": rounded(g["y"]), "index": index.tolist()})
    # the view is fitted again when the held-out points change, not when overlays come and go
    digest = hashlib.sha1(repr([(g["x"][:50], len(g["x"])) for g in sent if g["atlas"] == 0]).encode())
    return {"key": digest.hexdigest()[:16], "groups": sent, "atlases": atlases,
            "axis": list(axis), "pinned": ring, "height": int(height), "bars": bars}


def latent_map(points: np.ndarray, labels: np.ndarray, images: np.ndarray, classes: list[str], *,
               marker: tuple[float, float], key: str, on_click, extra: list[dict] | None = None,
               span: float = 4.0, size: int = 420, decoder: dict | None = None,
               zmax: float = 3.0):
    """A 2-D latent map: points coloured by class, hover shows the image, click picks z.

    Args:
        points: (N, 2) latent means; labels: (N,); images: uint8 (N, 28, 28) for hovering.
        marker: the current z, drawn as a cross.
        on_click: callback run when the map is clicked or a drag is released; the z is
            then in ``st.session_state[key].click`` as [z1, z2].
        decoder: ``decoder_asset(folder)``: decode in the browser while dragging.
        zmax: the pad keeps z within [-zmax, zmax] (the sliders' range).
        extra: more points to mark, e.g. an uploaded image: [{"x", "y", "label"}].
        span: the axes cover [-span, span].
    """
    # The points and hover atlas are sent once per browser element: later reruns (every
    # slider step) send only the marker, and the element asks again if it lost them.
    # the hover atlas is a served file the browser fetches by itself (inline it was 460 KB of the
    # page's first message); inline only where static/ cannot be written
    served = atlas_url(images)
    atlas, atlas_key = (served["url"], served["url"].rsplit("/", 1)[-1][:16]) if served else image_atlas(images)
    points_key = f"{atlas_key}-{hashlib.sha1(np.ascontiguousarray(points).tobytes()).hexdigest()[:12]}"
    sent_flag = f"_{key}.sent"
    data = {"points_key": points_key, "classes": list(classes), "colors": CLASS_COLORS,
            "marker": [float(marker[0]), float(marker[1])], "extra": extra or [],
            "range": float(span), "size": int(size), "decoder": decoder, "zmax": float(zmax)}
    if st.session_state.get(sent_flag) != points_key:
        data.update(x=np.round(points[:, 0], 3).tolist(), y=np.round(points[:, 1], 3).tolist(),
                    c=labels.astype(int).tolist(), atlas=atlas, atlas_cols=ATLAS_COLS)
        st.session_state[sent_flag] = points_key

    def resend() -> None:
        st.session_state.pop(sent_flag, None)

    return _latent_map(data=data, key=key, on_click_change=on_click, on_need_data_change=resend)


def latent_sliders(z: list[float], dims: list[int], labels: list[str], *, decoder: dict | None,
                   key: str, on_change, zmax: float = 3.0, step: float = 0.05):
    """A slider per latent dimension (in the order of ``dims``) decoding in the browser while
    a thumb moves; on release ``st.session_state[key].change`` holds the full z."""
    data = {"z": [float(v) for v in z], "dims": list(dims), "labels": list(labels),
            "decoder": decoder, "zmax": float(zmax), "step": float(step)}
    return _latent_sliders(data=data, key=key, on_change_change=on_change)


_toy_panels = st.components.v2.component(
    "genlab.toy_panels",
    js=(_STATIC / "toy_panels.js").read_text(),
    css=(_STATIC / "toy_panels.css").read_text(),
)


def toy_panels(panels: list[dict], *, key: str, lim: float, height: int = 340, run: str = ""):
    """Side-by-side square canvas panels of 2-D points (each over [-lim, lim]²), each with
    an optional loss curve under it; drawn in the browser in milliseconds, no Plotly.

    Args:
        panels: each {title, layers: [{points (n, 2), color, size}], loss: (steps, values,
            color, label) or None} and optionally frames: {label, total, color, steps,
            points: [(n, 2) per step]}, replayed by a play button and a slider over all panels.
            Layers are drawn in order, a frame's points last.
        height: a panel's side in CSS pixels (narrower when the row does not fit).
        run: names what is shown; when it changes, the replay goes back to its last frame.
    """
    def rounded(v) -> list[float]:
        return np.round(np.asarray(v, dtype=np.float64), 3).tolist()

    sent = []
    for p in panels:
        panel = {"title": p["title"], "loss": None,
                 "layers": [{"x": rounded(l["points"][:, 0]), "y": rounded(l["points"][:, 1]), "color": l["color"],
                             "size": l.get("size", 3)} for l in p["layers"]]}
        if p.get("loss") is not None:
            steps, values, color, label = p["loss"]
            panel["loss"] = {"x": rounded(steps), "y": [float(f"{v:.4g}") for v in values], "color": color,
                             "label": label}
        if p.get("frames") is not None:
            f = p["frames"]
            panel["frames"] = {"label": f["label"], "total": int(f["total"]), "color": f["color"],
                               "steps": [int(s) for s in f["steps"]],
                               "x": [rounded(q[:, 0]) for q in f["points"]], "y": [rounded(q[:, 1]) for q in f["points"]]}
        sent.append(panel)
    return _toy_panels(data={"lim": float(lim), "height": int(height), "panels": sent, "run": run}, key=key)
