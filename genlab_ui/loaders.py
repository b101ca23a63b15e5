"""Cached loaders: models once per process (st.cache_resource, eval mode, never mutated),
arrays and samples per small hashable key (st.cache_data, bounded)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np
import streamlit as st
import torch

from genlab import checkpoints, data, registry
from genlab.families.ddpm import FastDenoiser, fastest_workers
from genlab.sample import as_shown, sample_images, shipped_preview
from genlab.train import load_snapshots

torch.set_num_threads(1)  # one thread per request: sessions run concurrently on 2 cores

# Streamlit runs every script run (a fragment's rerun too) in a thread of its own, and the
# thread count set above is per thread: a new thread multiplies matrices with MKL's default
# team, which it first has to create, and sets up oneDNN for its first convolution, about 4 ms
# each here (a 128×128 product: 4.0 ms in a new thread, 0.004 ms in a used one). The short
# computations behind the pages' controls run instead on two long-lived threads, one torch
# thread each.
_on_torch_thread = threading.local()


def _torch_worker() -> None:
    torch.set_num_threads(1)
    _on_torch_thread.yes = True


# the executor starts its threads on the first calls, not here
_torch_pool = ThreadPoolExecutor(2, thread_name_prefix="genlab-torch", initializer=_torch_worker)


def torch_call(fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)`` on one of the long-lived torch threads; its result or exception.
    For short computations that draw nothing (no st.* inside): a call from such a thread runs
    in place."""
    if getattr(_on_torch_thread, "yes", False):
        return fn(*args, **kwargs)
    return _torch_pool.submit(fn, *args, **kwargs).result()


@st.cache_resource(show_spinner="Loading model…", max_entries=32)
def load_checkpoint(folder: str) -> checkpoints.Checkpoint:
    """Load a checkpoint once per server process; raises CheckpointError (not cached)."""
    return registry.load(Path(folder))


def model_id(folder: str) -> str:
    """``<dataset>/<name>`` of a checkpoint folder (its last two parts), e.g. mnist/vae-2d."""
    return "/".join(folder.replace("\\", "/").rstrip("/").rsplit("/", 2)[-2:])


def try_load(folder: str) -> checkpoints.Checkpoint | None:
    """Load a checkpoint or show its error on the page (the app keeps running)."""
    try:
        return load_checkpoint(folder)
    except checkpoints.CheckpointError as exc:
        st.error(f"This checkpoint cannot be loaded: {exc}", icon="⚠️")
        return None


def catalogue() -> list[dict]:
    """Every checkpoint folder with its card, or the error reading the card: the same objects
    for every caller (read-only), read again a minute later or when the checkpoints folders
    change (checkpoints.roots()). As ``st.cache_data`` every call unpickled all the cards
    anew, a few ms each time, and a page asks several times a run."""
    return _catalogue(tuple(str(r) for r in checkpoints.roots()))


@st.cache_resource(ttl=60, show_spinner=False)
def _catalogue(roots: tuple[str, ...]) -> list[dict]:
    rows = []
    for root in roots:
        for folder in checkpoints.find_all(root):
            try:
                rows.append({"folder": str(folder), "card": checkpoints.read_card(folder), "error": None})
            except checkpoints.CheckpointError as exc:
                rows.append({"folder": str(folder), "card": None, "error": str(exc)})
    return rows


def uploaded() -> list[dict]:
    """This session's uploaded checkpoints as catalogue rows (``"uploaded": True``)."""
    return st.session_state.get("uploaded_models", [])


def add_upload(card_bytes: bytes, weights_bytes: bytes) -> dict:
    """Check and keep an uploaded checkpoint for this session (registry.install_upload); its row.

    Raises:
        CheckpointError: what is wrong with it.
    """
    import tempfile

    root = st.session_state.setdefault("_upload_root", tempfile.mkdtemp(prefix="genlab-uploads-"))
    folder = str(registry.install_upload(card_bytes, weights_bytes, root))
    row = {"folder": folder, "card": checkpoints.read_card(folder), "error": None, "uploaded": True}
    st.session_state["uploaded_models"] = [r for r in uploaded() if r["folder"] != folder] + [row]
    return row


def models_for(dataset: str, family: str | None = None, *, uploads: bool = True) -> list[dict]:
    """Catalogue rows of one dataset (and family), cards readable or not, then this session's
    uploads (``uploads=False``: the installed ones alone, e.g. outside a script run)."""
    out = []
    for row in catalogue() + (uploaded() if uploads else []):
        folder = Path(row["folder"])
        ds = row["card"]["dataset"] if row["card"] else folder.parent.name
        fam = row["card"]["family"] if row["card"] else None
        if ds == dataset and (family is None or fam in (family, None)):
            out.append(row)
    order = list(registry.MODELS)  # the registry's order: vae-2d before vae-16d
    return sorted(out, key=lambda r: (order.index(Path(r["folder"]).name)
                                      if Path(r["folder"]).name in order else len(order),
                                      r["folder"]))


def training_note(card: dict) -> str | None:
    """A warning for a checkpoint whose training was paused part-way (long CPU runs go on
    over several sessions), else None."""
    t = card.get("training", {})
    if t.get("finished", True):
        return None
    return (f"Still training: {t['steps']:,} of {t['planned_steps']:,} steps so far "
            f"({t['wall_time_s'] / 3600:.1f} h of CPU). Its samples are not final yet.")


@st.cache_resource(max_entries=8, show_spinner=False)
def bundled(dataset: str, part: str = "holdout") -> tuple[np.ndarray, np.ndarray]:
    """The bundled held-out images (N, 28, 28) uint8 and labels (N,), or (``part="train"``)
    the 5,000-image train sample: one read-only copy per process, the same objects every call
    (as ``st.cache_data`` they were unpickled anew on every call, 1.5 MB of held-out images,
    about 1 ms, and every cache keyed by them hashed them again)."""
    split = data.load_bundled(dataset, part)
    images, labels = np.array(split.images), np.array(split.labels)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


@st.cache_data(ttl=10, show_spinner=False)
def custom_datasets() -> list[str]:
    """Folder datasets with a checkpoint installed (genlab.data.custom_datasets), looked up
    again every 10 s so a model trained while the app runs appears."""
    return data.custom_datasets()


@st.cache_data(max_entries=8, show_spinner=False)
def class_names(dataset: str) -> list[str]:
    """The dataset's class names; a folder of images without class subfolders has one, "no label"."""
    return list(data.class_names(dataset))


def has_labels(dataset: str) -> bool:
    return class_names(dataset) != [data.NO_LABEL_NAME]


def train_command(dataset: str, model: str, extra: str = "") -> str:
    """The command that trains ``model`` on ``dataset`` (a folder of your images: ``--dataset
    images``), in backticks."""
    where = (f"--dataset {dataset} --data-dir DIR" if dataset in data.DATASETS
             else f"--dataset images --data-dir YOUR_FOLDER --name {dataset}")
    return f"`python -m genlab train {model} {where}{' ' + extra if extra else ''}`"


def not_trained(dataset: str, model: str, what: str) -> str:
    """What to say where a page has no checkpoint of ``model`` for ``dataset``: the shipped
    ones are still training; for a folder of your images, the command that trains one."""
    if dataset in data.DATASETS:
        return (f"The {model} for this dataset is still being trained on CPU; {what} appear here "
                "once its checkpoint is installed.")
    return f"No {model} is trained on {dataset}; {what} appear here after {train_command(dataset, model.lower())}."


def classifier(dataset: str) -> torch.nn.Module | None:
    """The shipped evaluation classifier of a dataset, or None when it is not installed."""
    try:
        return load_checkpoint(str(checkpoints.resolve(f"{dataset}/classifier"))).model
    except checkpoints.CheckpointError:
        return None


@st.cache_data(max_entries=16, show_spinner=False)
def snapshots(folder: str) -> dict | None:
    """A checkpoint's training snapshots (genlab.train.load_snapshots), or None."""
    return load_snapshots(Path(folder))


@st.cache_data(max_entries=16, show_spinner=False)
def train_log(folder: str) -> list[dict]:
    """The logged training metrics of a checkpoint (train_log.json), [] when there are none."""
    path = Path(folder) / "train_log.json"
    return json.loads(path.read_text()) if path.is_file() else []


@st.cache_data(max_entries=64, show_spinner=False)
def samples(folder: str, n: int, seed: int) -> np.ndarray:
    """n samples of a checkpoint for a seed: uint8 (n, 28, 28); the shipped preview of a model
    slow to sample (a PixelCNN's 16 take about 12 s) when it holds these n and seed."""
    ckpt = load_checkpoint(folder)
    if (shipped := shipped_preview(Path(folder), ckpt.card["sha256"], n, seed)) is not None:
        return shipped
    family = registry.get(ckpt.card["family"])
    network = family.sampling_network(ckpt.model) if family.sampling_network else ckpt.model  # as the pages sample
    return torch_call(sample_images, family, network, n, seed, **as_shown(family, ckpt.card, n, seed))


@st.cache_data(ttl=120, max_entries=32, show_spinner=False)
def denoiser_speed(folder: str, n: int) -> tuple[int, float]:
    """How to run a diffusion checkpoint's network on n images now, and how fast: (workers of
    its FastDenoiser, seconds per sampling step), by genlab.families.ddpm.fastest_workers;
    timed again after two minutes, because what is fastest depends on what else the machine
    runs (another process on one of two cores makes the two-worker split slower)."""
    return fastest_workers(load_checkpoint(folder).model, n)


def denoiser(folder: str, n: int) -> FastDenoiser:
    """The checkpoint's network for a job, run as ``denoiser_speed`` found fastest for n images,
    at a lower priority than the sessions' own computations."""
    return FastDenoiser(load_checkpoint(folder).model, workers=denoiser_speed(folder, n)[0], background=True)


@st.cache_resource(show_spinner=False)
def _store(name: str) -> tuple[OrderedDict, threading.Lock]:
    return OrderedDict(), threading.Lock()


def shared_peek(name: str, key: tuple) -> Any | None:
    """The result ``shared_result(name, key, …)`` keeps, or None when it has not been computed."""
    store, lock = _store(name)
    with lock:
        return store.get(key)


def shared_store(name: str) -> tuple[OrderedDict, threading.Lock]:
    """The store behind ``shared_result(name, …)``, fetched in a script run for a job's thread."""
    return _store(name)


def shared_result(name: str, key: tuple, compute: Callable[[], Any], *, keep: int = 8,
                  store: tuple[OrderedDict, threading.Lock] | None = None) -> Any:
    """``compute()`` once per ``key`` for every session (treat the result as read-only); the
    ``keep`` most recent results of store ``name`` are kept. A thread without a script run
    (a job) passes ``store=shared_store(name)``, fetched beforehand.

    Unlike st.cache_data/st.cache_resource, ``compute`` may draw on the page while it runs
    (a progress bar), because nothing has to be replayed on a cache hit.
    """
    store, lock = store or _store(name)
    with lock:
        if key in store:
            store.move_to_end(key)
            return store[key]
    result = compute()
    with lock:
        store[key] = result
        while len(store) > keep:
            store.popitem(last=False)
    return result
