"""Image inputs shared by pages: a held-out image picked by index, or the user's upload."""

from __future__ import annotations

import numpy as np
import streamlit as st

from genlab.images import ImageError, from_drawing, prepare_upload
from genlab_ui import components, loaders

UPLOAD_TYPES = ["png", "jpg", "jpeg"]


def read_upload(upload) -> np.ndarray | None:
    """An uploaded file as an MNIST-style uint8 (28, 28) image (genlab.images.prepare_upload),
    or None after showing on the page why it cannot be used."""
    try:
        return prepare_upload(upload.getvalue())
    except ImageError as exc:
        st.error(str(exc), icon="⚠️")
        return None


def held_out_index(dataset: str, key: str, where=st, *, label: str = "Held-out image",
                   default: int = 0) -> int:
    """A selectbox over the bundled held-out images of ``dataset`` (``#i · class``): the index.

    Its widget key is ``key.dataset``: a keyed selectbox keeps its identity when only its
    labels change, and the browser would go on showing the other dataset's class name (and
    the next full rerun, not finding that name among the new labels, would reset it to #0).
    """
    _, labels = loaders.bundled(dataset)
    classes = loaders.class_names(dataset)
    st.session_state.setdefault(f"{key}.{dataset}", default)
    return where.selectbox(label, range(len(labels)), key=f"{key}.{dataset}", bind="query-params",
                           format_func=lambda i: f"#{i} · {classes[labels[i]]}")


def drawing(key: str, where=st) -> np.ndarray | None:
    """A "…or draw one" toggle and, when on, a drawing pad: the drawing as an MNIST-style uint8
    (28, 28) (centred like an upload), or None (toggle off, nothing drawn, or a bad drawing,
    which is explained on the page)."""
    if not where.toggle("…or draw one", key=f"{key}.draw", bind="query-params",
                        help="A 28×28 pad: draw with the mouse, a finger or a pen. The drawing is "
                             "centred like an upload: its ink box scaled to 20 px, its centre of "
                             "mass in the middle."):
        return None
    pixels = components.draw_pad(f"{key}.pad")
    if pixels is None:
        st.caption("Draw on the pad (white ink on black); until then the page uses the held-out image.")
        return None
    try:
        return from_drawing(pixels)
    except ImageError as exc:
        st.error(str(exc), icon="⚠️")
        return None


def held_out_or_upload(dataset: str, *, idx_key: str, upload_key: str) -> tuple[np.ndarray, str]:
    """A held-out image of ``dataset`` chosen in a selectbox, the user's PNG/JPG when one is
    uploaded and readable, or a drawing when "…or draw one" is on and something is drawn
    (drawing before upload before held-out).

    Returns:
        (uint8 (28, 28), a name for captions: ``held-out #i``, ``your image`` or ``your drawing``).
    """
    c1, c2, c3 = st.columns([2, 3, 1.3])
    idx = held_out_index(dataset, idx_key, where=c1)
    upload = c2.file_uploader("…or your own (PNG/JPG)", type=UPLOAD_TYPES, key=upload_key)
    drawn = drawing(upload_key, c3)
    if drawn is not None:
        return drawn, "your drawing"
    if upload is not None:
        image = read_upload(upload)
        if image is not None:
            return image, "your image"
    return loaders.bundled(dataset)[0][idx], f"held-out #{idx}"
