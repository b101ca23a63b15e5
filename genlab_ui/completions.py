"""/autoregressive's completions of a held-out image, computed once per server process and,
for the page's default view, before anyone asks.

Completing the lower half of an image takes one PixelCNN pass per pixel below the kept rows
(392 passes at the default 14 rows): about a second, the same for every session. The
completions live in a store shared by the process (``ahead.result``), and the launcher
(``python -m genlab_ui``) computes the default view's (``default_work``) before the server
listens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import torch

from genlab import data, sample
from genlab.families import pixelcnn
from genlab_ui import ahead, loaders

STORE, KEEP = "pixelcnn_completions", 64  # 3 KB a completion of 4 images
# the page's first view (its session-state defaults): what the launcher computes ahead
DEFAULTS = {"ar.rows": 14, "ar.k": 4, "ar.cseed": 0}
DEFAULT_IMAGE = 0  # the held-out image selected first


def job(folder: str, image: np.ndarray, rows: int, k: int, seed: int,
        progress: Callable[[float], None] | None = None, model=None) -> tuple[tuple, ahead.Compute]:
    """(key, compute) for ``ahead``: k completions of ``image`` (uint8 (H, W)) below row ``rows``,
    uint8 (k, H, W); ``progress(fraction)`` after each sampled row when a session computes it;
    ``model``: the folder's PixelCNN, loaded beforehand (a thread without a script run cannot)."""
    model = loaders.load_checkpoint(folder).model if model is None else model

    def compute(give_way) -> np.ndarray:
        x = data.to_float(np.repeat(image[None], k, axis=0))
        size = model.config.image_size
        todo = (size - rows) * size

        def on_pixel(i: int, probs: torch.Tensor, canvas: torch.Tensor) -> None:
            if give_way is not None:  # on the background thread: let sessions go first
                give_way()
            elif progress is not None and (i + 1) % size == 0:
                progress((i + 1 - rows * size) / todo)

        out = pixelcnn.pixelcnn_complete(model, x, rows, sample.generator(seed), on_pixel=on_pixel)
        return sample.to_uint8(out)

    which = hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()
    return (folder, which, rows, k, seed), compute


def completions(folder: str, image: np.ndarray, rows: int, k: int, seed: int,
                progress: Callable[[float], None]) -> np.ndarray:
    """k completions of ``image`` below row ``rows``, once per settings for every session (see
    ``job``)."""
    return ahead.result(STORE, *job(folder, image, rows, k, seed, progress), store=loaders.shared_store(STORE),
                        keep=KEEP)


def default_work(dataset: str) -> list[tuple[str, int, tuple, ahead.Compute]]:
    """The default view of ``dataset`` as ``(store, keep, key, compute)``; none when it has no
    PixelCNN or its checkpoint cannot be loaded (the page reports it)."""
    from genlab import checkpoints

    rows = [r for r in loaders.models_for(dataset, "pixelcnn", uploads=False) if r["card"]]
    if not rows:  # the page's model picker starts on the first
        return []
    try:
        images, _ = loaders.bundled(dataset)
        return [(STORE, KEEP, *job(rows[0]["folder"], images[DEFAULT_IMAGE], DEFAULTS["ar.rows"], DEFAULTS["ar.k"],
                                   DEFAULTS["ar.cseed"]))]
    except (checkpoints.CheckpointError, OSError, ValueError):
        return []
