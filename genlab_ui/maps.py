"""The projections page's computations, shared by every session: held-out points, their
features, PCA and t-SNE maps (the shipped default maps where the settings match), and
generated samples placed on a map; plus what the map component draws."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import streamlit as st

from genlab import data, projection, registry, sample
from genlab.families import ddpm, pixelcnn
from genlab_ui import components, jobs, loaders

SAMPLE_SYMBOLS = ["x", "diamond", "triangle", "square"]
SAMPLE_COLORS = ["#111111", "#8b0000", "#00308f", "#5a3d00", "#4b0082", "#005f3f"]  # dark: real points are light


@dataclass(frozen=True)
class Settings:
    """Everything a map depends on (hashable: the cache key)."""

    dataset: str
    source: str  # "pixels" or a checkpoint folder
    points: int
    method: str  # "PCA" or "t-SNE"
    perplexity: float = 30.0
    iterations: int = 1000
    seed: int = 0


def sources(dataset: str) -> dict[str, str]:
    """What can be projected on this dataset: source -> label (pixels, then checkpoints whose
    family defines features)."""
    out = {projection.PIXELS: "Raw pixels (784-D)"}
    for row in loaders.models_for(dataset):
        card = row["card"]
        if card is None:
            continue
        family = registry.get(card["family"])
        if family.features is not None:
            out[row["folder"]] = f"{card['name']}: {family.features_label}"
    return out


@st.cache_data(ttl=300, show_spinner=False)
def point_counts(dataset: str) -> list[int]:
    """500 … 2,000 bundled held-out points, up to 5,000 where the dataset's files are found."""
    available = len(loaders.bundled(dataset)[1])  # a folder of your images may have fewer
    counts = [c for c in (500, 1000, 2000) if c <= available] or [available]
    try:
        if data.load(dataset, download=False).holdout.labels.size >= 5000:
            counts.append(5000)
    except (data.DataNotFoundError, ValueError):
        pass
    return counts


@st.cache_resource(max_entries=6, show_spinner=False)
def held_out(dataset: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` held-out images and labels, read-only, the same objects on every call: as
    ``st.cache_data`` each rerun unpickled a new copy, and the hover atlas (``atlas_url``, found
    by identity for a read-only array) hashed its 1.5 MB again, 5 ms of a PCA ⇄ t-SNE switch."""
    images, labels = (np.array(a) for a in projection.held_out(dataset, n))
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _checkpoint(source: str):
    return None if source == projection.PIXELS else loaders.load_checkpoint(source)


def features(dataset: str, source: str, n: int, progress: Callable[[float], None] | None = None) -> np.ndarray:
    """The points of a map, computed once for every session (read-only): pixels or a model's
    features (1–2 s for a CNN's: ``progress(fraction)`` after each batch; pages call
    ``features_shown`` to draw it)."""
    def compute() -> np.ndarray:
        images, _ = held_out(dataset, n)
        out = projection.source_features(source, images, _checkpoint(source), on_progress=progress)
        out.setflags(write=False)
        return out

    return loaders.shared_result("features", (dataset, source, n), compute, keep=16)


def features_shown(dataset: str, source: str, n: int, label: str) -> np.ndarray:
    """``features``, with a progress bar and the time left while they are computed (nothing
    drawn when they are cached)."""
    slot, t0 = st.empty(), time.perf_counter()

    def progress(fraction: float) -> None:
        left = (time.perf_counter() - t0) * (1 - fraction) / max(fraction, 1e-6)
        slot.progress(fraction, text=f"Computing the features of {n:,} images with {label}: "
                                     f"{fraction:.0%}, about {left:.0f} s left")

    try:
        return features(dataset, source, n, progress=progress)
    finally:
        slot.empty()


@st.cache_data(max_entries=16, show_spinner=False)
def pca_map(dataset: str, source: str, n: int) -> projection.PCAResult:
    return projection.pca(features(dataset, source, n), k=2, curve=50)


def tsne_map(s: Settings, progress: Callable[[float], None] | None = None, *,
             fitted: projection.TSNEResult | None = None) -> projection.TSNEResult:
    """The t-SNE map for these settings: the shipped one where it matches (same settings,
    same weights), else fitted once for every session (``progress`` reports while it runs;
    pages fit it with ``start_tsne``). ``fitted``: a map to keep unless one is kept already."""
    def compute() -> projection.TSNEResult:
        if fitted is not None:
            return fitted
        x = features(s.dataset, s.source, s.points)
        key = projection.source_key(s.source, _checkpoint(s.source))
        shipped = projection.load_default_map(s.dataset, _source_id(s.source), key, s.points,
                                              s.perplexity, s.iterations, s.seed)
        if shipped is not None:
            return projection.TSNEResult(shipped, None)  # made ready for overlays on demand
        return projection.tsne(x, perplexity=s.perplexity, iterations=s.iterations, seed=s.seed,
                               on_progress=progress)

    return loaders.shared_result("tsne", (s,), compute, keep=12)


TSNE_S = (1.0, 0.025, 1.1e-5)  # seconds: fixed + per iteration + per iteration and point, fitted
# to openTSNE here (2 threads, one core busy): 2,000 points × 1,000 iterations 40–48 s, 500 × 250 7–9 s


def tsne_estimate(s: Settings) -> float:
    """Seconds to fit the t-SNE map ``s`` on this machine."""
    return TSNE_S[0] + s.iterations * (TSNE_S[1] + TSNE_S[2] * s.points)


def tsne_key(s: Settings) -> tuple:
    return ("tsne", s)


def ready_coords(s: Settings) -> np.ndarray | None:
    """The map's coordinates if they take no long computation: PCA, the shipped t-SNE map for
    these settings, or a t-SNE fitted before (by ``start_tsne``); else None."""
    if s.method == "PCA":
        return pca_map(s.dataset, s.source, s.points).coords
    fitted = loaders.shared_peek("tsne", (s,))
    if fitted is None:
        key = projection.source_key(s.source, _checkpoint(s.source))
        shipped = projection.load_default_map(s.dataset, _source_id(s.source), key, s.points,
                                              s.perplexity, s.iterations, s.seed)
        if shipped is None:
            return None
        fitted = tsne_map(s)  # the shipped map, kept for the overlays
    return fitted.coords


def start_tsne(s: Settings) -> jobs.Job:
    """Fit the t-SNE map ``s`` as a job (genlab_ui.jobs), kept where ``tsne_map`` finds it.

    The fit runs in a thread of its own, which the job watches every 0.1 s: Cancel ends the job
    at once, while openTSNE stops at its next progress call (every 4 iterations, ≲ 0.3 s) or,
    while it computes the affinities (up to ~3 s for perplexity 100), right after them."""
    x = features(s.dataset, s.source, s.points)  # fetched here: the job has no script run
    store = loaders.shared_store("tsne")

    def compute(job: jobs.Job) -> projection.TSNEResult:
        done, out = [0.0], {}

        def progress(fraction: float) -> None:
            if job.cancelling:
                raise jobs.Cancelled
            done[0] = fraction

        def fit() -> None:
            try:
                out["map"] = projection.tsne(x, perplexity=s.perplexity, iterations=s.iterations,
                                             seed=s.seed, on_progress=progress, progress_every=4)
            except BaseException as exc:  # noqa: BLE001 (handed to the job's thread)
                out["error"] = exc

        worker = threading.Thread(target=fit, name="genlab-tsne", daemon=True)
        worker.start()
        while worker.is_alive():
            job.report(done[0], f"iteration {round(done[0] * s.iterations):,} of {s.iterations:,}"
                       if done[0] else "affinities between the points")
            worker.join(0.1)
        if "error" in out:
            raise out["error"]
        return loaders.shared_result("tsne", (s,), lambda: out["map"], keep=12, store=store)

    label = (f"t-SNE of {s.points:,} points (perplexity {s.perplexity:g}, {s.iterations:,} "
             f"iterations, seed {s.seed})")
    return jobs.start(tsne_key(s), label, compute, estimate_s=tsne_estimate(s))


def _source_id(source: str) -> str:
    """"pixels" or the checkpoint id (mnist/vae-2d) for a checkpoint folder."""
    return source if source == projection.PIXELS else loaders.load_checkpoint(source).id


def overlay(s: Settings, model_folder: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n samples of a generative checkpoint and their place on the map: (images, (n, 2)).

    PCA: the map's own projection. t-SNE: openTSNE's ``transform`` (new points are placed
    against the fixed map; the held-out points do not move)."""
    def compute():
        images = loaders.samples(model_folder, n, seed)
        x = projection.source_features(s.source, images, _checkpoint(s.source))
        if s.method == "PCA":
            return images, pca_map(s.dataset, s.source, s.points).transform(x)
        fitted = tsne_map(s)
        if fitted.embedding is None:  # a shipped map: rebuild its affinities once
            fitted = loaders.shared_result(
                "tsne-ready", (s,), lambda: projection.tsne_from_coords(
                    features(s.dataset, s.source, s.points), fitted.coords,
                    perplexity=s.perplexity, seed=s.seed), keep=6)
        return images, fitted.transform(x, seed=seed)

    return loaders.shared_result("overlay", (s, model_folder, n, seed), compute, keep=16)


def overlay_key(s: Settings, model_folder: str, n: int, seed: int) -> tuple:
    return ("overlay", s, model_folder, n, seed)


def overlay_estimate(s: Settings, model_folder: str, n: int) -> float:
    """Seconds to sample n images of a checkpoint and place them: a DDPM's network timed on
    this machine now (DDIM-50), other families from their card's sampling time."""
    card = loaders.load_checkpoint(model_folder).card
    if card["family"] == "ddpm":
        seconds = ddpm.DEFAULT_STEPS["ddim"] * loaders.denoiser_speed(model_folder, n)[1]
    else:
        seconds = n * card["metrics"].get("sample_ms_per_image", 1.0) / 1000
    return seconds + (0.5 + n * 0.003 if s.method == "t-SNE" else 0.1)  # features and placement


def cached_overlay(s: Settings, model_folder: str, n: int, seed: int):
    """(images, (n, 2)) of an overlay computed before (inline or by a job), else None."""
    job = jobs.get(overlay_key(s, model_folder, n, seed))
    if job is not None and job.state == "done":
        return job.result
    store, lock = loaders.shared_store("overlay")
    with lock:
        return store.get((s, model_folder, n, seed))


def _sampler(model_folder: str, n: int, seed: int) -> Callable:
    """A function of ``report(fraction, note)`` that draws n uint8 samples of a checkpoint
    (the same as loaders.samples for this seed), reporting as it goes where it can."""
    ckpt = loaders.load_checkpoint(model_folder)
    family = ckpt.card["family"]
    if family == "ddpm":
        fast = loaders.denoiser(model_folder, n)
        return lambda report: sample.to_uint8(ddpm.diffusion_sample(
            fast, n, sample.generator(seed), sampler="ddim", steps=None,
            on_step=lambda i, total: report(i / total, f"DDIM step {i} of {total}")))
    if family == "pixelcnn":
        size = ckpt.model.config.image_size ** 2
        return lambda report: sample.to_uint8(pixelcnn.pixelcnn_sample(
            ckpt.model, n, sample.generator(seed),
            on_pixel=lambda i, probs, x: report((i + 1) / size, f"pixel {i + 1} of {size}")))
    options = sample.as_shown(registry.get(family), ckpt.card, n, seed)
    return lambda report: sample.sample_images(registry.get(family), ckpt.model, n, seed, **options)


def start_overlay(s: Settings, model_folder: str, n: int, seed: int) -> jobs.Job:
    """Sample, embed and place an overlay as a job (genlab_ui.jobs): sampling is 90% of the
    bar, the features and the place on the map the rest."""
    draw = _sampler(model_folder, n, seed)
    source = _checkpoint(s.source)
    if s.method == "PCA":
        place = lambda x: pca_map(s.dataset, s.source, s.points).transform(x)
    else:
        fitted = tsne_map(s)
        held = features(s.dataset, s.source, s.points) if fitted.embedding is None else None
        ready_store = loaders.shared_store("tsne-ready")

        def place(x):
            ready = fitted if held is None else loaders.shared_result(
                "tsne-ready", (s,), lambda: projection.tsne_from_coords(
                    held, fitted.coords, perplexity=s.perplexity, seed=s.seed), keep=6, store=ready_store)
            return ready.transform(x, seed=seed)

    def compute(job: jobs.Job):
        images = draw(lambda fraction, note: job.report(0.9 * fraction, note))
        job.report(0.9, "features of the samples")
        x = projection.source_features(s.source, images, source)
        job.report(0.95, "their place on the map")
        return images, place(x)

    name = loaders.load_checkpoint(model_folder).card["name"]
    return jobs.start(overlay_key(s, model_folder, n, seed), f"{n:,} samples of {name}", compute,
                      estimate_s=overlay_estimate(s, model_folder, n))


def groups(xy: np.ndarray, labels: np.ndarray, classes: list[str], overlays: list[dict]) -> list[dict]:
    """The map's legend entries: one per class, then one per overlaid model.

    Point i of a group shows tile ``index[i]`` of atlas ``atlas``: atlas 0 holds the
    held-out images, atlas k the k-th overlay's samples."""
    out = []
    index = np.arange(len(labels))
    for c, name in enumerate(classes):
        keep = labels == c
        out.append({"name": name, "color": components.CLASS_COLORS[c], "x": xy[keep, 0],
                    "y": xy[keep, 1], "index": index[keep], "atlas": 0,
                    "caption": f"{name} · held-out", "size": 5, "opacity": 0.7})
    for k, o in enumerate(overlays, start=1):
        out.append({"name": f"samples: {o['name']}", "x": o["xy"][:, 0], "y": o["xy"][:, 1],
                    "index": np.arange(len(o["xy"])), "atlas": k, "caption": f"{o['name']} sample",
                    "symbol": SAMPLE_SYMBOLS[(k - 1) % len(SAMPLE_SYMBOLS)],
                    "color": SAMPLE_COLORS[(k - 1) % len(SAMPLE_COLORS)], "size": 8,
                    "opacity": 0.85, "outline": "#ffffff"})
    return out


def variance_bars(ratio: np.ndarray) -> dict:
    """The share of variance per principal component (bars) and its running total."""
    return {"title": "Explained variance", "values": np.round(ratio, 5).tolist(),
            "xlabel": "principal component"}


def csv_bytes(xy: np.ndarray, labels: np.ndarray, classes: list[str], overlays: list[dict],
              axis: tuple[str, str]) -> bytes:
    """Every point of the map: kind, index, label, class name, coordinates."""
    lines = [f"kind,index,label,class,{axis[0]},{axis[1]}"]
    lines += [f"held-out,{i},{int(c)},{classes[int(c)]},{x:.6g},{y:.6g}"
              for i, (c, (x, y)) in enumerate(zip(labels, xy))]
    for o in overlays:
        lines += [f"{o['name']},{i},,,{x:.6g},{y:.6g}" for i, (x, y) in enumerate(o["xy"])]
    return ("\n".join(lines) + "\n").encode()


def folder_name(folder: str) -> str:
    return Path(folder).name
