"""/projections: PCA and t-SNE maps of held-out images, of a model's latent space or
features, with generated samples placed among the real ones."""

from dataclasses import replace

import numpy as np
import streamlit as st
import torch

from genlab import data, projection, registry, sample
from genlab.images import upscale
from genlab_ui import components, inputs, jobs, loaders, maps, state

MIN_POINTS = 20  # below this PCA may find fewer than two axes
SAMPLE_COUNTS = [100, 200, 300, 500, 1000]


def init_state() -> None:
    for key, value in {"proj.points": projection.DEFAULT_POINTS, "proj.method": "PCA",
                       "proj.perplexity": 30, "proj.iterations": 1000, "proj.seed": 0,
                       "proj.overlay": [], "proj.n_samples": 300, "proj.sample_seed": 0}.items():
        st.session_state.setdefault(key, value)


def _pin_from_map() -> None:
    picked = st.session_state["proj.map"].pick
    if isinstance(picked, (list, tuple)) and len(picked) == 2:
        st.session_state["proj.pin"] = (int(picked[0]), int(picked[1]))


def drop_overlay(folder: str) -> None:
    state.set_widgets({"proj.overlay": [f for f in st.session_state["proj.overlay"] if f != folder]})


def pending_overlay(s: maps.Settings, folder: str, name: str, n: int, seed: int) -> None:
    """An overlay not computed yet that takes over 2 s: its job's progress, or the question
    first (over 20 s) with a cheaper choice, or what stopped it."""
    key = maps.overlay_key(s, folder, n, seed)
    job = jobs.get(key)
    if job is not None and job.state == "running":
        jobs.watch(key, f"proj.job.{name}")
        return
    estimate = maps.overlay_estimate(s, folder, n)
    if job is None and estimate <= jobs.ASK_ABOVE_S:
        maps.start_overlay(s, folder, n, seed)
        jobs.watch(key, f"proj.job.{name}")
        return
    fewer = [m for m in SAMPLE_COUNTS if m < n and maps.overlay_estimate(s, folder, m) <= jobs.ASK_ABOVE_S]
    note = jobs.ended_note(job) if job is not None else None
    st.warning((note + " " if note else "") +
               f"{n:,} samples of {name} take about {jobs.duration(estimate)} on this machine now"
               + (" (DDIM-50 for each of them)." if "ddpm" in name else ".")
               + (f" {fewer[-1]:,} samples take about "
                  f"{jobs.duration(maps.overlay_estimate(s, folder, fewer[-1]))}." if fewer else ""),
               icon="⏱️")
    c = st.columns([1.4, 1.4, 1, 2])
    c[0].button(f"Run it (about {jobs.duration(estimate)})", key=f"proj.run.{name}",
                on_click=maps.start_overlay, args=(s, folder, n, seed))
    if fewer:
        c[1].button(f"Use {fewer[-1]:,} samples", key=f"proj.fewer.{name}",
                    on_click=lambda m=fewer[-1]: state.set_widgets({"proj.n_samples": m}))
    c[2].button("Not now", key=f"proj.drop.{name}", on_click=drop_overlay, args=(folder,))


def tsne_coords(s: maps.Settings) -> np.ndarray | None:
    """A t-SNE map's coordinates: kept in this session (they survive any rerun), shipped or
    fitted before, or from its finished job, then kept (2,000 points: 32 kB); None while it
    is being fitted or asked for."""
    kept = st.session_state.get("proj.tsne")
    if kept is not None and kept[0] == s:
        if loaders.shared_peek("tsne", (s,)) is None:  # dropped from the shared store: overlays
            maps.tsne_map(s, fitted=projection.TSNEResult(kept[1], None))  # rebuild from the coords
        return kept[1]
    xy = maps.ready_coords(s)
    if xy is None:
        job = jobs.get(maps.tsne_key(s))
        if job is None or job.state != "done":
            return None
        xy = job.result.coords
    st.session_state["proj.tsne"] = (s, xy)
    return xy


def default_tsne() -> None:
    state.set_widgets({"proj.perplexity": 30, "proj.iterations": 1000, "proj.seed": 0})


def pending_tsne(s: maps.Settings) -> None:
    """A t-SNE map not fitted yet (each takes over 2 s): its job's progress, or the question
    first (over 20 s) with the quicker choices, or what stopped it."""
    key = maps.tsne_key(s)
    job = jobs.get(key)
    if job is not None and job.state == "running":
        jobs.watch(key, "proj.tsne_job")
        return
    estimate = maps.tsne_estimate(s)
    if job is None and estimate <= jobs.ASK_ABOVE_S:
        maps.start_tsne(s)
        jobs.watch(key, "proj.tsne_job")
        return
    note = jobs.ended_note(job) if job is not None else None
    default = replace(s, perplexity=30.0, iterations=1000, seed=0)
    shipped = default != s and maps.ready_coords(default) is not None
    st.warning((note + " " if note else "") +
               f"A t-SNE of {s.points:,} points with perplexity {s.perplexity:g} and {s.iterations:,} "
               f"iterations takes about {jobs.duration(estimate)} on this machine now."
               + (" The map for the default settings (perplexity 30, 1,000 iterations, seed 0) "
                  "ships with the app and appears at once." if shipped else "")
               + " PCA is immediate.", icon="⏱️")
    c = st.columns([1.4, 1.4, 1, 2])
    c[0].button(f"Run it (about {jobs.duration(estimate)})", key="proj.tsne_run",
                on_click=maps.start_tsne, args=(s,))
    if shipped:
        c[1].button("Default settings", key="proj.tsne_default", on_click=default_tsne)
    c[2].button("PCA instead", key="proj.tsne_pca",
                on_click=lambda: state.set_widgets({"proj.method": "PCA"}))


def explain() -> None:
    st.markdown(
        "**PCA** rotates the data onto the directions of largest variance and keeps the first "
        "two: a linear map that preserves the *global* shape (large distances, spreads), so far "
        "apart on the map means far apart in the data, and new points land with the same "
        "projection. The curve shows how much variance two components keep.\n\n"
        "**t-SNE** places points so that each one keeps its nearest neighbours close (a "
        "Student-t kernel on the map, Gaussian affinities of effective size *perplexity* in "
        "the data). It preserves *local* neighbourhoods: clusters are real, but the distances "
        "*between* clusters, their sizes and densities mean little, and another seed or "
        "perplexity can move clusters around. New points are placed by openTSNE's transform "
        "against the fixed map.")


def other_map(s: maps.Settings, labels: np.ndarray, classes: list[str], overlays: list[dict], atlases: list,
              n_samples: int, sample_seed: int) -> dict | None:
    """The map the Method radio's other option shows, when it is ready (PCA; a t-SNE shipped or
    fitted before, with every overlay placed on it before): sent with this one, the browser draws
    it the moment the option is picked. None when it would take a computation."""
    xy = maps.ready_coords(s) if s.method == "PCA" else tsne_coords(s)
    if xy is None:
        return None
    placed = []
    for shown in overlays:  # the same samples, placed on the other map before
        found = maps.cached_overlay(s, shown["folder"], n_samples, sample_seed)
        if found is None:
            return None
        placed.append({**shown, "xy": found[1]})
    ratio = maps.pca_map(s.dataset, s.source, s.points).explained_variance_ratio if s.method == "PCA" else None
    return {"control": "proj.method", "value": 0 if s.method == "PCA" else 1,
            "groups": maps.groups(xy, labels, classes, placed), "atlases": atlases,
            "axis": ("PC 1", "PC 2") if s.method == "PCA" else ("t-SNE 1", "t-SNE 2"),
            "bars": None if ratio is None else maps.variance_bars(ratio)}


@state.fragment
def map_view(dataset: str, source: str, points: int, options: dict, classes: list[str],
             generators: dict, chosen: list, n_samples: int, sample_seed: int) -> None:
    """Method, the map and the pinned point: a click here reruns this part alone (the rows
    above and the text around stay as they are). The overlay row (``chosen``, ``n_samples``,
    ``sample_seed``) is drawn above it by the page: a PCA ⇄ t-SNE switch then sends 23 messages
    instead of 30 (click → map redrawn, trainings paused: p95 95-108 ms instead of 96-113)."""
    ss = st.session_state
    if ((list(ss["proj.overlay"] or []), ss["proj.n_samples"], ss["proj.sample_seed"])
            != (list(chosen), n_samples, sample_seed)):  # changed by a button here ("Use fewer", "Not now")
        st.rerun(scope="app")
    top = st.columns([1.2, 1.2, 1.2, 1.2])
    method = top[0].radio("Method", ["PCA", "t-SNE"], key="proj.method", bind="query-params", horizontal=True)
    # t-SNE's settings stay on the page under PCA, greyed out: the switch then only redraws the
    # map (no controls appear or go, nothing below moves)
    c, pca = top[1:], method == "PCA"
    perplexity = c[0].slider("Perplexity", 5, 100, key="proj.perplexity", bind="query-params", disabled=pca,
                             help="t-SNE: roughly how many neighbours each point keeps close.")
    iterations = c[1].select_slider("Iterations", [250, 500, 750, 1000, 1500, 2000], disabled=pca,
                                    key="proj.iterations", bind="query-params",
                                    help="t-SNE's optimisation steps; the first quarter (at most 250) is "
                                         "early exaggeration.")
    seed = inputs.seed("Seed", "proj.seed", c[2], disabled=pca, help="t-SNE's random start.")
    tsne = maps.Settings(dataset, source, int(points), "t-SNE", float(perplexity), int(iterations), int(seed))
    pca_settings = maps.Settings(dataset, source, int(points), "PCA", 30.0, 1000, 0)
    settings = pca_settings if pca else tsne

    try:
        images, labels = maps.held_out(dataset, settings.points)
        maps.features_shown(dataset, source, settings.points, options[source])  # a bar the first time
        xy = maps.ready_coords(settings) if method == "PCA" else tsne_coords(settings)
        if xy is None:  # a t-SNE fitted here: a job with its progress bar, or a question first
            pending_tsne(settings)
            state.stop()
        overlays, pending = [], []
        for folder in chosen:
            if folder not in generators:
                continue
            found = maps.cached_overlay(settings, folder, int(n_samples), int(sample_seed))
            if found is None and maps.overlay_estimate(settings, folder, int(n_samples)) <= 2.0:
                with st.spinner(f"Sampling {generators[folder]} and placing its samples…"):
                    found = maps.overlay(settings, folder, int(n_samples), int(sample_seed))
            if found is None:  # longer: a job with its progress bar, or a question first
                pending.append(folder)
                continue
            overlays.append({"name": generators[folder], "xy": found[1], "images": found[0], "folder": folder})
        for folder in pending:
            pending_overlay(settings, folder, generators[folder], int(n_samples), int(sample_seed))
    except (ValueError, data.DataNotFoundError) as exc:
        st.error(f"This map cannot be drawn: {exc}", icon="⚠️")
        state.stop()

    axis = ("PC 1", "PC 2") if method == "PCA" else ("t-SNE 1", "t-SNE 2")
    pin = st.session_state.get("proj.pin")
    left, right = st.columns([3, 1])
    with left:
        if pin is not None:  # a pin from another map (fewer points, an overlay removed) is dropped
            a, i = pin
            sizes = [len(labels)] + [len(o["xy"]) for o in overlays]
            if a >= len(sizes) or i >= sizes[a]:
                st.session_state.pop("proj.pin", None)
                pin = None
        atlases = [components.atlas_url(images)] + [components.atlas_url(o["images"]) for o in overlays]
        ratio = maps.pca_map(dataset, source, settings.points).explained_variance_ratio if method == "PCA" else None
        components.scatter_map(maps.groups(xy, labels, classes, overlays), atlases, axis,
                               key="proj.map", on_pick=_pin_from_map, pinned=pin,
                               bars=None if ratio is None else maps.variance_bars(ratio),
                               switch=other_map(tsne if pca else pca_settings, labels, classes, overlays,
                                                atlases, int(n_samples), int(sample_seed))
                               if components.first_screen_painted("projections") else None)
        if ratio is not None:
            what, dims = options[source].split(":")[0], len(ratio)  # ratio: up to 50 components
            rest = (f"50 keep {ratio.sum():.1%}" if dims == 50 else
                    f"it has only {dims} dimensions" if dims <= 2 else f"all {dims} of its dimensions keep 100%")
            st.caption(f"Two components keep {ratio[:2].sum():.1%} of the variance of {what}; {rest}.")
    with right:
        st.markdown("**Pinned point**")
        if pin is None:
            st.caption("Click a point on the map to pin it here.")
        else:
            a, i = pin
            image = images[i] if a == 0 else overlays[a - 1]["images"][i]
            what = f"held-out #{i} · {classes[labels[i]]}" if a == 0 else f"{overlays[a - 1]['name']} sample #{i}"
            st.image(upscale(image, 5), caption=what, output_format="PNG")
            ckpt = None if source == projection.PIXELS else loaders.load_checkpoint(source)
            if ckpt is not None and ckpt.card["family"] == "vae":
                mu = projection.source_features(source, image[None], ckpt)
                with torch.inference_mode():
                    decoded = sample.to_uint8(ckpt.model.decode(torch.from_numpy(mu).float()))[0]
                st.image(upscale(decoded, 5), output_format="PNG",
                         caption=f"decoded μ = ({', '.join(f'{v:.2f}' for v in mu[0][:4])}"
                                 f"{', …' if mu.shape[1] > 4 else ''})")
            if st.button("Unpin", key="proj.unpin"):
                st.session_state.pop("proj.pin", None)
                st.rerun()
        st.download_button("Download coordinates (CSV)",  # made when clicked: 10 ms a run otherwise
                           lambda: maps.csv_bytes(xy, labels, classes, overlays, axis), on_click="ignore",
                           file_name=f"{dataset}-{maps.folder_name(source)}-{method.lower()}.csv",
                           mime="text/csv", key="proj.csv")


state.page_setup()
init_state()
st.title("Projections: maps of data, latents and samples")
st.caption("Each dot is a held-out image; hover to see it, click to pin it. Click a class in "
           "the legend to hide it, double-click to show it alone.")
dataset = st.session_state["dataset"]
classes = loaders.class_names(dataset)
options = maps.sources(dataset)
generators = {row["folder"]: row["card"]["name"] for row in loaders.models_for(dataset)
              if row["card"] and registry.get(row["card"]["family"]).sample is not None}

top = st.columns([3.4, 1.2])
source = state.persistent_choice("What to project", list(options), f"proj.source.{dataset}",
                                 where=top[0], format_func=options.get, url="source", chips=True,
                                 help="Raw pixels, a VAE's latent means or a classifier's "
                                      "penultimate features of the same held-out images.")
counts = maps.point_counts(dataset)
if counts[-1] < MIN_POINTS:  # a small folder of your images
    st.info(f"A map needs at least {MIN_POINTS} held-out images; {dataset} has {counts[-1]}. A folder of "
            f"your images keeps {data.HOLDOUT_FRACTION:.0%} of them held out: give it more images.")
    state.stop()
if st.session_state["proj.points"] not in counts:
    st.session_state["proj.points"] = projection.DEFAULT_POINTS
points = top[1].select_slider("Held-out points", counts, key="proj.points", bind="query-params",
                              help="The 2,000 bundled held-out images; 5,000 where the "
                                   "dataset's files are installed.")
o = st.columns([2.2, 1.2, 1.2])  # overlays: a change reruns the page (it samples anyway)
# chips, not a multiselect (its code would come with the first screen, docs/benchmarks.md)
chosen = o[0].pills("Overlay generated samples from", list(generators), selection_mode="multi", wrap=True,
                    key="proj.overlay", bind="query-params", format_func=generators.get,
                    help="Samples pass through the same features and are placed on this "
                         "map: gaps show modes a model misses.") or []
n_samples = o[1].select_slider("Samples per model", SAMPLE_COUNTS, key="proj.n_samples", bind="query-params")
sample_seed = inputs.seed("Sample seed", "proj.sample_seed", o[2])
map_view(dataset, source, int(points), options, classes, generators, chosen, int(n_samples), int(sample_seed))
if components.below_the_fold("projections"):  # the text, and the other method's map sent ahead
    explain()
