"""/transport: "From noise to data: flows, ODEs, SDEs". One noise seed carried to images by a
rectified flow, its reflow and the DDPM's ODE solvers at K = 1 … 50 steps; classifier-free
guidance; a trajectory scrub; FD against network evaluations from the cards; and in 2-D,
why straight paths need fewer steps (trained on the page in seconds)."""

import contextlib
import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from genlab import sample
from genlab.families import ddpm, rectified_flow as rf
from genlab.images import file_name, grid, upscale
from genlab.models.toy import TimeMLP, TimeMLPConfig
from genlab.toy import toy_data
from genlab_ui import ahead, components, inputs, loaders, state
from genlab_ui.transport_grid import (CELLS_STORE, DEFAULTS, GUIDED_KEEP, GUIDED_N, GUIDED_STEPS, GUIDED_STORE, STEPS,
                                      cell, cell_ready, guided_job, labels_for, transports)
from genlab_ui.components import chart_config, csv_download, gif_download, inline_image, png_download

GUIDANCE_W = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0]
TOY_DATA = {"gaussians": "8 Gaussians", "moons": "two moons", "rings": "two rings"}
TOY_POINTS, TOY_PATHS, TOY_LIM = 3000, 150, 4.0
TOY_STEPS = {"rf": 1000, "reflow": 600, "diffusion": 1200}  # about 20 s on one idle core
TOY_FIT = {"lr": 1e-2, "batch_size": 512}  # large steps: 8 Gaussians are hit by ~90% of samples
TOY_NET = TimeMLPConfig(hidden=64)


def init_state() -> None:
    for key, value in {**DEFAULTS, "transport.t": 0.5, "transport.toy": "gaussians"}.items():
        st.session_state.setdefault(key, value)


def show_maths() -> None:
    box, draw = components.lazy_expander("The maths this page implements", "tr.maths")
    if draw:
        with box:
            st.markdown("**Rectified flow** (Liu et al. 2022; flow matching, Lipman et al. 2022). Time runs "
                        "from t = 0 (noise x₀ ~ N(0, I)) to t = 1 (an image x₁). The straight line "
                        "between them and the velocity network's loss:")
            st.latex(r"x_t = t\,x_1 + (1-t)\,x_0,\qquad \mathcal{L}(\theta) = \mathbb{E}_{t\sim U[0,1],\,x_0,\,x_1}"
                     r"\big\|(x_1 - x_0) - v_\theta(x_t, t)\big\|^2")
            st.markdown("Generating solves the ODE from noise, with Euler (x ← x + Δt·v) or Heun steps "
                        "(Euler's guess corrected by the mean of the velocities at both ends of the step; "
                        "the last step stays Euler, since v at t = 1 is the least well learned):")
            st.latex(r"\frac{dx}{dt} = v_\theta(x, t),\qquad x(0) = x_0 \sim \mathcal{N}(0, I)")
            st.markdown("**Reflow** trains a new velocity on the pairs (x₀, ODE(x₀)) of the first: "
                        "paths that no longer cross, nearly straight, so one or two Euler steps land "
                        "close to where fifty would. Straightness S = ∫ E‖(x₁ − x₀) − v(x_t, t)‖² dt "
                        "is 0 for straight paths. The shipped flows are class-conditional and their "
                        "pairs were drawn with a class each: for one x₀ the target x₁ depends on the "
                        "class, so the reflow's v_∅ (no class) learns straight paths towards the "
                        "*average* of the classes' images, and blurs at small K; with the class, one or "
                        "two steps give clear images.")
            st.markdown("**Diffusion as an SDE** (Song et al. 2021). The DDPM's forward process is the "
                        "variance-preserving SDE (f = −½β(τ)x, g = √β(τ), τ = t/T); its time reversal "
                        "needs the score, which the noise prediction gives:")
            st.latex(r"dx = [f - g^2\nabla_x\log p_t(x)]\,d\tau + g\,d\bar w,\qquad "
                     r"\nabla_x \log p_t(x) = -\frac{\hat\varepsilon_\theta(x, t)}{\sqrt{1-\bar\alpha_t}}")
            st.markdown("The probability-flow ODE has the same marginals p_t without the noise: DDIM "
                        "and DPM-Solver++ are solvers of it.")
            st.latex(r"dx = \big[f - \tfrac12 g^2\nabla_x\log p_t(x)\big]\,d\tau")
            st.markdown("**Classifier-free guidance** (Ho & Salimans 2022): the network is trained with "
                        "the label dropped to a null label on 10% of the steps, so it knows v_∅ and v_c; "
                        "sampling uses v = v_∅ + w·(v_c − v_∅) (w = 0 unconditional, 1 conditional, "
                        "> 1 guided).")
            st.caption("Code: genlab/families/rectified_flow.py (interpolate, rf_loss, ode_solve, "
                       "make_pairs, straightness), genlab/diffusion/schedulers.py (SDEScheduler, "
                       "ODEScheduler, DPMSolverScheduler), genlab/families/ddpm.py (the loop).")


# --- the grid: one noise, every model and solver, K steps ---------------------------------------

CLASSES = {"drawn": "a class per image, drawn from the seed (w = 1)", "none": "none: v_∅ alone"}


def row_strip(folder: str, sampler: str, seed: int, label: str | None) -> tuple[np.ndarray, float]:
    """One model's cells for every K side by side (2×2 images each), and the total seconds.
    A spinner only while something is sampled: each one starts a thread, and 24 of them cost
    the page's first screen about 0.1 s when every cell is computed already."""
    cells, total, store = [], 0.0, loaders.shared_store(CELLS_STORE)
    missing = not all(cell_ready(folder, sampler, k, seed, label, store=store) for k in STEPS)
    with st.spinner("Sampling…") if missing else contextlib.nullcontext():
        for k in STEPS:
            images, wall = cell(folder, sampler, k, seed, label, store=store)
            cells.append(grid(images, ncol=2, pad=1, value=255))
            total += wall
    return grid(np.stack(cells), ncol=len(STEPS), pad=6, value=255), total


@state.fragment
def steps_grid(rows: list[dict]) -> None:
    st.subheader("The same noise, carried to images in K steps")
    c = st.columns([1, 1.6, 3])
    seed = inputs.seed("Noise seed", "transport.seed", c[0],
                       help="x₀ ~ N(0, I) from this seed: the same four noise images start every row")
    label = c[1].radio("Flows' classes", list(CLASSES), key="transport.classes", bind="query-params",
                       format_func=CLASSES.get,
                       help="The flows here are class-conditional. A class per image samples the data "
                            "as a whole, p(x) = Σ_y p(y)·p(x | y); v_∅ alone is the velocity learned on "
                            "the 10% of training steps without a label: weaker, and for the reflow it "
                            "averages the classes' paths into blurred images at small K. The DDPM rows "
                            "have no classes.")
    label = None if label == "none" else label
    c[2].markdown(f"Columns: **K = {', '.join(map(str, STEPS))}** steps, left to right. Each cell "
                  "shows the same four x₀ after K steps of that model's solver. Straight paths "
                  "need few steps; curved ones blur or go astray at small K.")
    for row in rows:
        if loaders.try_load(row["folder"]) is None:
            continue
        classes = label if row["family"] != "ddpm" else None
        strip, wall = row_strip(row["folder"], row["sampler"], seed, classes)
        inline_image(upscale(strip, 2), f"{row['label']}{' · a class per image' if classes else ''} · "
                                        f"K = {', '.join(map(str, STEPS))} · {wall:.1f} s for all {len(STEPS)} cells")
        png_download(strip, file_name(loaders.model_id(row["folder"]), row["sampler"],
                                      "K" + "-".join(map(str, STEPS)), f"seed{seed}",
                                      "classes-drawn" if classes else "", ext="png"))
    nfe = ", ".join(f"{k}→{rf.evaluations('heun', k)}" for k in STEPS)
    st.caption("Network evaluations: K for Euler, DDIM and DPM-Solver++ (one per step); Heun "
               f"takes two per step but one on the last, which is a plain Euler step ({nfe}). DDIM's steps are spaced as in Ho et al. and diffusers "
               "(\"leading\": t = (K−1)·T/K, …, 0), so at K = 1 its only step is at t = 0 and "
               "the noise passes almost unchanged; DPM-Solver++ starts at t = T − 1.")


# --- guidance: one model, one class, w ------------------------------------------------------------

def neighbours(values: list, value, before) -> list:
    """The values either side of ``value`` in ``values``, the way it last moved (from ``before``) first."""
    i = values.index(value)
    side = [values[j] for j in (i + 1, i - 1) if 0 <= j < len(values)]
    return side[::-1] if before is not None and before > value else side


@state.fragment
def guidance(folder: str, dataset: str, classes: int) -> None:
    st.subheader("Classifier-free guidance: the same noise becomes the class you ask for")
    c = st.columns([2, 3, 2, 1])
    label = c[0].selectbox("Class", [None, *range(classes)], key="transport.label", bind="query-params",
                           format_func=lambda i: "none (unconditional)" if i is None
                           else f"{i} · {loaders.class_names(dataset)[i]}")
    w = c[1].select_slider("Guidance scale w", GUIDANCE_W, key="transport.guidance",
                           bind="query-params",
                           help="v = v_∅ + w·(v_c − v_∅): 0 ignores the class, 1 is plain "
                                "conditional, larger w sharper and less varied", disabled=label is None)
    k = c[2].select_slider("Steps K", GUIDED_STEPS, key="transport.k", bind="query-params")
    solver = c[3].radio("Solver", ["heun", "euler"], key="transport.solver", bind="query-params", format_func=str.title)
    seed = int(st.session_state["transport.seed"])
    store, ckpt = loaders.shared_store(GUIDED_STORE), loaders.load_checkpoint(folder)

    def job(k: int, w: float) -> tuple[tuple, ahead.Compute]:
        return guided_job(folder, solver, k, seed, label, w, ckpt)

    images, wall = ahead.result(GUIDED_STORE, *job(k, w), store=store, keep=GUIDED_KEEP)
    what = "unconditional" if label is None else f"class {label} ({loaders.class_names(dataset)[label]}), w = {w}"
    inline_image(upscale(grid(images, ncol=GUIDED_N), 3),
                 f"{GUIDED_N} samples, {what}, {solver.title()} K = {k} "
                 f"({rf.evaluations(solver, k) * (1 if label is None or w == 1 else 2)} network evaluations), "
                 f"seed {seed} · {wall:.2f} s")
    png_download(grid(images, ncol=GUIDED_N), file_name(loaders.model_id(folder), "any-class" if label is None
                                                 else f"class{label}-w{w:g}", solver, f"K{k}", f"seed{seed}", ext="png"))
    measured = loaders.load_checkpoint(folder).card["metrics"].get("guidance")
    if measured:
        st.caption(f"Measured by `genlab eval --guidance-scales` ({measured['n']:,} samples, "
                   f"{measured['n'] // 10} asked per class, {measured['sampler'].replace('-', ' K = ')}): "
                   + "; ".join(f"w = {w}: {m['accuracy']:.0%} land in the class asked for, FD {m['fd']:.0f}"
                               for w, m in measured["w"].items())
                   + ". The classifier agrees more as w grows; FD (quality and variety together) "
                     "shows what the sharper, less varied images cost.")
    # the next key step of either slider only paints: its neighbours are sampled now, the
    # slider moved last first, in the direction it moved
    w0, k0 = st.session_state.get("transport._guided_last", (None, None))
    by_w = [(k, v) for v in neighbours(GUIDANCE_W, w, w0)] if label is not None else []
    by_k = [(v, w) for v in neighbours(GUIDED_STEPS, k, k0)]
    ahead.ahead(GUIDED_STORE, [job(*n) for n in (by_k + by_w if k0 is not None and k0 != k else by_w + by_k)],
                store=store, keep=GUIDED_KEEP)
    st.session_state["transport._guided_last"] = (w, k)


# --- training replay: the same 64 noise images at doubling steps ----------------------------------

@state.fragment
def replay(folder: str, name: str) -> None:
    snaps = loaders.snapshots(folder)
    if snaps is None:
        return
    st.subheader(f"Training replay: {name}")
    steps = snaps["steps"].tolist()
    key = "transport.replay." + ".".join(folder.rsplit("/", 2)[-2:])  # e.g. …replay.mnist.rectified-flow
    step = st.select_slider("Training step", steps, value=steps[-1], key=key, bind="query-params")
    i = steps.index(step)
    inline_image(upscale(grid(snaps["images"][i][:32], ncol=16), 2),
                 f"32 of the 64 fixed noise images (seed {snaps['seed']}) through the weights at step "
                 f"{step:,} (Heun, K = 8)")
    c = st.columns(2)
    png_download(grid(snaps["images"][i][:32], ncol=16),
                 file_name(loaders.model_id(folder), "training", f"step{step}", ext="png"), c[0])
    gif_download([grid(frame[:32], ncol=16) for frame in snaps["images"]],
                 file_name(loaders.model_id(folder), "training-replay", ext="gif"), c[1], ms=400)


# --- the trajectory scrub --------------------------------------------------------------------------

@st.cache_data(max_entries=16, show_spinner="Running 50 steps…")
def trajectory(folder: str, seed: int, label: str | None, n: int = 8) -> dict:
    """A 50-step run kept whole: t (S,), x_t and the prediction of the image at each t, uint8
    (S, n, 28, 28); t on the rectified flow's axis (0 noise, 1 data)."""
    ckpt = loaders.load_checkpoint(folder)
    network = ddpm.FastDenoiser(ckpt.model)
    if ckpt.card["family"] == "ddpm":
        run = ddpm.record_trajectory(network, "ddim", 50, 0.0, n, seed)
        t = [1 - s / ckpt.model.config.timesteps for s in run["t"]] + [1.0]
        return {"t": np.array(t), "x": run["x"], "pred": np.concatenate([run["x0"], run["x"][-1:]])}
    keep: list = []
    x0 = torch.randn((n, 1, 28, 28), generator=sample.generator(seed))
    rf.ode_solve(network, x0, sampler="euler", steps=50, keep=keep, label=labels_for(ckpt, label, seed, n))
    frames = lambda xs: np.stack([sample.to_uint8((x.float() + 1) / 2) for x in xs])
    pred = [x + (1 - t) * v for t, x, v in keep[:-1]] + [keep[-1][1]]
    return {"t": np.array([t for t, _, _ in keep]), "x": frames([x for _, x, _ in keep]),
            "pred": frames(pred)}


@state.fragment
def scrub(rows: list[dict]) -> None:
    st.subheader("Along the path: x_t and where it is heading")
    models = {r["label"].split(" · ")[0]: r["folder"] for r in rows}
    c = st.columns([2, 3])
    name = c[0].selectbox("Model", list(models), key="transport.scrub_model", bind="query-params")
    t = c[1].slider("t (0 = noise, 1 = data)", 0.0, 1.0, step=0.02, key="transport.t", bind="query-params")
    classes = st.session_state["transport.classes"]
    run = trajectory(models[name], int(st.session_state["transport.seed"]), None if classes == "none" else classes)
    i = int(np.abs(run["t"] - t).argmin())
    both = lambda j: grid(np.concatenate([run["x"][j], run["pred"][j]]), ncol=len(run["x"][j]))
    inline_image(upscale(both(i), 2),
                 f"top: x_t at t = {run['t'][i]:.2f}; bottom: the model's guess of the final image "
                 "from there (rectified flow: x_t + (1 − t)·v; DDPM: x̂₀ from ε̂), 50 steps")
    c = st.columns(2)
    stem = (loaders.model_id(models[name]), f"seed{st.session_state['transport.seed']}")
    png_download(both(i), file_name(*stem, f"t{run['t'][i]:.2f}", ext="png"), c[0])
    gif_download([both(j) for j in range(len(run["t"]))], file_name(*stem, "path", ext="gif"), c[1])


# --- quality against steps, from the cards ---------------------------------------------------------

def quality_rows(rows: list[dict]) -> list[dict]:
    out = []
    for folder in dict.fromkeys(r["folder"] for r in rows):
        card = loaders.load_checkpoint(folder).card
        conditional = bool(card["config"].get("num_classes"))
        for key, how in (("samplers", "v_∅" if conditional else "no classes"),
                         ("samplers_conditional", "a class per image (w = 1)")):
            specs = card["metrics"].get(key, {})
            for spec, m in specs.items():
                if isinstance(m, dict) and "nfe" in m and not spec.endswith("fp32"):
                    out.append({"model": f"{card['name']} · {spec.rsplit('-', 1)[0]}", "classes": how,
                                "NFE": m["nfe"], "FD": m["fd"], "n": specs.get("n")})
    return out


def quality_chart(rows: list[dict]) -> None:
    st.subheader("Quality against network evaluations")
    points = quality_rows(rows)
    if not points:
        st.info("No per-sampler measurements in the cards yet: `GENLAB_DATA=… python -m genlab eval "
                "<dataset>/ddpm --recompute --samplers ddim-1,ddim-2,…,dpm++-20 --write` adds them.")
        return
    sizes = sorted({p["n"] for p in points})
    n = f"{sizes[0]}" if len(sizes) == 1 else "mixed: " + " and ".join(map(str, sizes))
    st.vega_lite_chart({
        "data": {"values": points}, "height": 380,
        "mark": {"type": "line", "point": True},
        "encoding": {"x": {"field": "NFE", "type": "quantitative", "scale": {"type": "log"},
                           "title": "network evaluations (log scale)"},
                     "y": {"field": "FD", "type": "quantitative", "scale": {"type": "log"},
                           "title": f"FD to held-out images (n = {n}; lower is better)"},
                     "color": {"field": "model", "type": "nominal", "title": "model · solver",
                               "legend": {"labelLimit": 260}},
                     "strokeDash": {"field": "classes", "type": "nominal", "title": "classes",
                                    "scale": {"domain": ["a class per image (w = 1)", "no classes", "v_∅"],
                                              "range": [[1, 0], [1, 0], [6, 4]]},
                                    "legend": {"labelLimit": 260}},
                     "detail": {"field": "classes"},
                     "tooltip": [{"field": "model"}, {"field": "classes"}, {"field": "NFE"}, {"field": "FD"},
                                 {"field": "n", "title": "samples"}]}},
        width="stretch")
    csv_download(points, file_name(loaders.model_id(rows[0]["folder"]).split("/")[0], "fd-against-nfe", ext="csv"))
    st.caption(f"Measured by `genlab eval --samplers` on {n} samples per point (Fréchet distance in "
               "the evaluation classifier's features) and stored in each card; not computed on the page. "
               "Solid lines, *a class per image*: the class-conditional flows asked for each class in "
               "turn (n/10 each, w = 1, `--conditional`), the usual way to measure such a model and "
               "what the grid above shows by default; dashed, *v_∅*: the velocity they learned on the "
               "10% of training steps without a label. The DDPM has no classes."
               + (" FD grows as n shrinks, so only points with the same n compare (hover for n)."
                  if len(sizes) > 1 else ""))


# --- the 2-D picture ---------------------------------------------------------------------------------

def toy_models(name: str, progress=None) -> dict:
    """The 2-D models of one data set (seed 0), trained once per server for every session:
    a rectified flow, its reflow, and a diffusion model; with their training seconds."""
    def compute() -> dict:
        points = toy_data(name, TOY_POINTS, sample.generator(0))
        with torch.random.fork_rng():
            torch.manual_seed(0)
            first, second, diffusion = TimeMLP(TOY_NET), TimeMLP(TOY_NET), TimeMLP(TOY_NET)
        t0 = time.perf_counter()
        total = sum(TOY_STEPS.values())
        report = lambda offset: (lambda step, m: progress and progress((offset + step) / total))
        rf.train_toy_rf(first, points, steps=TOY_STEPS["rf"], on_step=report(0), **TOY_FIT)
        first.eval()
        x0 = torch.randn((TOY_POINTS, 2), generator=sample.generator(1))
        pairs = torch.stack([x0, rf.ode_solve(first, x0, sampler="heun", steps=25)], dim=1)
        second.load_state_dict(first.state_dict())
        rf.train_toy_rf(second, pairs, steps=TOY_STEPS["reflow"], on_step=report(TOY_STEPS["rf"]), **TOY_FIT)
        ddpm.train_toy_diffusion(diffusion, points, steps=TOY_STEPS["diffusion"],
                                 on_step=report(TOY_STEPS["rf"] + TOY_STEPS["reflow"]), **TOY_FIT)
        seconds = time.perf_counter() - t0
        # the pictures' paths, drawn once with the models (the same for every rerun and session)
        x0 = torch.randn((TOY_PATHS, 2), generator=sample.generator(7))
        gen = sample.generator(8)
        return {"points": points.numpy(), "seconds": seconds,
                "pairs": np.stack([x0.numpy(), points[:TOY_PATHS].numpy()]),  # independent pairs
                "rf": rf.toy_paths(first, x0), "reflow": rf.toy_paths(second, x0),
                "s_rf": rf.straightness(first, x0, steps=50), "s_reflow": rf.straightness(second, x0, steps=50),
                "sde": ddpm.toy_diffusion_paths(diffusion, x0, "sde", 200, gen),
                "ode": ddpm.toy_diffusion_paths(diffusion, x0, "ode", 200, gen)}

    return loaders.shared_result("transport_toys", (name,), compute, keep=3)


def paths_figure(paths: np.ndarray, data_points: np.ndarray, title: str, color: str,
                 lines: int = TOY_PATHS) -> go.Figure:
    """Paths (S, B, 2): the first ``lines`` as grey lines, every end as a coloured dot, over the data."""
    fig = go.Figure()
    xs, ys = [], []
    for b in range(min(lines, paths.shape[1])):
        xs += paths[:, b, 0].tolist() + [None]
        ys += paths[:, b, 1].tolist() + [None]
    fig.add_scatter(x=data_points[:, 0], y=data_points[:, 1], mode="markers", hoverinfo="skip",
                    marker={"size": 3, "color": "#cfd8e3"})
    fig.add_scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", line={"width": 0.8, "color": "rgba(60,60,60,0.35)"})
    fig.add_scatter(x=paths[-1, :, 0], y=paths[-1, :, 1], mode="markers", hoverinfo="skip",
                    marker={"size": 4, "color": color})
    axis = {"range": [-TOY_LIM, TOY_LIM], "zeroline": False, "showgrid": False, "constrain": "domain",
            "showticklabels": False}
    fig.update_layout(height=330, margin={"l": 5, "r": 5, "t": 36, "b": 5}, showlegend=False,
                      title={"text": title, "font": {"size": 13}}, plot_bgcolor="white",
                      xaxis=axis, yaxis={**axis, "scaleanchor": "x", "scaleratio": 1})
    return fig


@state.fragment
def toy_section() -> None:
    st.subheader("Why straight paths matter, in 2-D")
    st.markdown("Noise N(0, I) to a 2-D data set, by small networks trained here (about twenty seconds, "
                "once per data set for everyone). Lines are the paths of 150 points from t = 0 to 1.")
    c = st.columns([2, 1])
    name = c[0].selectbox("Data", list(TOY_DATA), format_func=TOY_DATA.get, key="transport.toy", bind="query-params")
    models = loaders.shared_peek("transport_toys", (name,))
    if models is None:
        if not c[1].button("Train the 2-D models (about 20 s)", key="transport.train_toy", type="primary"):
            st.caption("Trains a rectified flow, its reflow and a diffusion model on this data, once "
                       "for everyone using this server.")
            return
        bar = st.progress(0.0, text="Training a rectified flow, its reflow and a diffusion model…")
        models = toy_models(name, progress=lambda f: bar.progress(min(f, 1.0), text=f"Training… {f:.0%}"))
        bar.empty()
    points, s1, s2 = models["points"], models["s_rf"], models["s_reflow"]
    top = st.columns(3)
    top[0].plotly_chart(paths_figure(models["pairs"], points, "Training pairs (x₀, x₁): lines cross", "#1f77b4"),
                        config=chart_config(file_name(name, "paths", ext="png")[:-4]))
    top[1].plotly_chart(paths_figure(models["rf"], points,
                                     f"Rectified flow: curved, never crossing · S = {s1:.3f}", "#d62728"),
                        config=chart_config(file_name(name, "paths", ext="png")[:-4]))
    top[2].plotly_chart(paths_figure(models["reflow"], points,
                                     f"After reflow: nearly straight · S = {s2:.4f}", "#2ca02c"),
                        config=chart_config(file_name(name, "paths", ext="png")[:-4]))
    low = st.columns(3)
    low[0].plotly_chart(paths_figure(models["sde"],
                                     points, "Diffusion, reverse SDE: jittery paths (30 drawn)", "#9467bd",
                                     lines=30),
                        config=chart_config(file_name(name, "paths", ext="png")[:-4]))
    low[1].plotly_chart(paths_figure(models["ode"],
                                     points, "Same model, probability-flow ODE: smooth", "#8c564b"),
                        config=chart_config(file_name(name, "paths", ext="png")[:-4]))
    low[2].markdown(
        "**Reading the pictures.** The training lines cross: many x₀ are paired with many x₁, so "
        "the best velocity at a crossing is an average and the learned paths bend around each "
        "other. Reflow's pairs come from the flow itself and never cross, so its paths straighten "
        "(S → 0) and one Euler step lands near the end. The reverse SDE and the probability-flow "
        "ODE reach the same distribution; only the ODE's paths are deterministic, which is what "
        "DDIM and DPM-Solver++ integrate.")
    st.caption(f"Trained in {models['seconds']:.1f} s ({TOY_STEPS['rf']} + {TOY_STEPS['reflow']} + "
               f"{TOY_STEPS['diffusion']} steps, one MLP each); S = straightness along 50 Euler steps.")


# --- the page -----------------------------------------------------------------------------------------

state.page_setup()
init_state()
st.title("From noise to data: flows, ODEs, SDEs")
st.markdown("Every generative model here carries a simple distribution onto the data. Diffusion "
            "and rectified flow do it along paths in time: the straighter the paths, the fewer "
            "steps a solver needs.")
show_maths()
dataset = st.session_state["dataset"]
rows = transports(dataset)
rf_rows = [r for r in rows if r["family"] == "rectified-flow"]
if not rf_rows:
    st.info(loaders.not_trained(dataset, "rectified-flow", "its straight paths and few-step samples")
            + " Meanwhile the grid shows the DDPM's solvers, and the 2-D section below trains its own flows.")
rest = True
if rows:
    steps_grid(rows)
    rest = components.below_the_fold("transport")
if rows and rest:
    if rf_rows:
        classes = loaders.load_checkpoint(rf_rows[0]["folder"]).model.config.num_classes
        if classes:
            guidance(rf_rows[0]["folder"], dataset, classes)
        else:
            st.info("Classifier-free guidance needs class labels: this rectified flow was trained without "
                    "them (a folder of images with no class subfolders).")
        replay(rf_rows[0]["folder"], rf_rows[0]["label"].split(" · ")[0])
    scrub(rows)
    quality_chart(rows)
if not rows:
    st.warning(f"No DDPM or rectified-flow checkpoint is installed for {dataset}.")
if rest:
    toy_section()
