"""Inputs shared by pages: a seed; an image, held-out (picked by index), uploaded or drawn."""

from __future__ import annotations

import numpy as np
import streamlit as st

from genlab.images import ImageError, from_drawing, prepare_upload
from genlab_ui import components, loaders

UPLOAD_TYPES = ["png", "jpg", "jpeg"]
SEED_MAX = 999


def seed(label: str, key: str, where=st, **kwargs) -> int:
    """A seed, 0 to SEED_MAX, on a slider (kept in the link): the arrow keys give the next and
    the previous seed. A slider rather than a number field: a slider's code is loaded for every
    page anyway, where a number field's first use cost a new tab about 0.09 s before its first
    paint (the trivial page in genlab's shell with and without one, medians of 12 tabs,
    2026-12-06). ``kwargs``: help, disabled."""
    return int(where.slider(label, 0, SEED_MAX, key=key, bind="query-params", **kwargs))


def read_upload(upload) -> np.ndarray | None:
    """An uploaded file as an MNIST-style uint8 (28, 28) image (genlab.images.prepare_upload),
    or None after showing on the page why it cannot be used."""
    try:
        return prepare_upload(upload.getvalue())
    except ImageError as exc:
        st.error(str(exc), icon="⚠️")
        return None


#: Where an image comes from, as the source picker names it.
SOURCES = {"held-out": "a held-out image", "upload": "your PNG/JPG", "draw": "a drawing"}
UNTIL = "Until then the page uses the held-out image."


def held_out_index(dataset: str, key: str, where=st, *, label: str = "Held-out image",
                   default: int = 0) -> int:
    """A slider over the bundled held-out images of ``dataset`` (``#i · class``): the index.

    A select_slider, not a selectbox: its code is the slider's, which every page loads anyway,
    while a selectbox of 2,000 options added about 0.2 s to a new tab's first paint (a trivial
    page with and without one, medians of 12 tabs, 2026-12-06); the arrow keys step through the
    images one by one.

    Its widget key is ``key.dataset``: a keyed widget keeps its identity when only its labels
    change, and the browser would go on showing the other dataset's class name (and the next
    full rerun, not finding that name among the new labels, would reset it to #0).
    """
    _, labels = loaders.bundled(dataset)
    classes = loaders.class_names(dataset)
    st.session_state.setdefault(f"{key}.{dataset}", default)
    return where.select_slider(label, range(len(labels)), key=f"{key}.{dataset}", bind="query-params",
                               format_func=lambda i: f"#{i} · {classes[labels[i]]}")


def image_source(key: str, where=st, sources: tuple[str, ...] = tuple(SOURCES)) -> str:
    """Radio buttons: where the page's image comes from (keys of SOURCES). Radio buttons rather
    than an uploader and a toggle side by side: those two element kinds cost a new tab about
    0.14 s before its first paint, and the uploader or the pad now shows only once chosen."""
    return where.radio("Image", sources, format_func=SOURCES.get, key=f"{key}.source", bind="query-params")


def drawing(key: str, where=st, *, until: str = "") -> np.ndarray | None:
    """A drawing pad: the drawing as an MNIST-style uint8 (28, 28) (centred like an upload: its
    ink box scaled to 20 px, its centre of mass in the middle), or None (nothing drawn, or a bad
    drawing, which is explained on the page). ``until``: what the page shows until something is
    drawn, said under the pad."""
    pixels = components.draw_pad(f"{key}.pad", where)
    if pixels is None:
        where.caption(f"Draw on the pad (white ink on black, mouse, finger or pen). {until}".strip())
        return None
    try:
        return from_drawing(pixels)
    except ImageError as exc:
        where.error(str(exc), icon="⚠️")
        return None


def held_out_or_upload(dataset: str, *, idx_key: str, upload_key: str) -> tuple[np.ndarray, str]:
    """A held-out image of ``dataset`` chosen on a slider, or, when chosen in the source radio,
    the user's PNG/JPG once uploaded and readable or the user's drawing once something is drawn
    (until then, the held-out image).

    Returns:
        (uint8 (28, 28), a name for captions: ``held-out #i``, ``your image`` or ``your drawing``).
    """
    c1, c2, c3 = st.columns([1.3, 2.4, 2.3])
    source = image_source(upload_key, c1)
    idx = held_out_index(dataset, idx_key, where=c2)
    if source == "draw":
        if (drawn := drawing(upload_key, c3, until=UNTIL)) is not None:
            return drawn, "your drawing"
    elif source == "upload":
        upload = c3.file_uploader("Your image (PNG/JPG)", type=UPLOAD_TYPES, key=upload_key)
        if upload is None:
            c3.caption(UNTIL)
        elif (image := read_upload(upload)) is not None:
            return image, "your image"
    return loaders.bundled(dataset)[0][idx], f"held-out #{idx}"
