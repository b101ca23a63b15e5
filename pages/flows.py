"""/flows: normalizing flows and their exact likelihood: samples at a temperature, the round
trip image → z → image, bits/dim of held-out, other-dataset and noise images (the
out-of-distribution surprise), and a 2-D toy flow trained on the page, warped layer by layer."""

import math
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from genlab import data, metrics, registry, sample
from genlab.images import file_name, grid, upscale
from genlab.families import flow
from genlab.models.flow import ToyFlow, ToyFlowConfig
from genlab.toy import toy_data
from genlab_ui import components, inputs, jobs, loaders, state
from genlab_ui.components import figure

SCORED = 500  # images per likelihood histogram
GRID_COLUMNS = {16: 8, 36: 12, 64: 16}  # sample grids of 2, 3 and 4 rows
FAST_SAMPLES_S = 0.08  # a grid drawn this fast has its neighbouring temperatures drawn ahead too
Z_TILE = 84  # px: every z tile is drawn this size, whatever its scale
TOY_LIM = 3.5  # the toy plots span [-3.5, 3.5]²
TOY_POINTS = 2000  # training points of the toy flow (seed 0)
TOY_SHOWN = 600  # of which the plots overlay the first ones
TOY_LAYERS = ToyFlowConfig().layers
TOY_LABELS = {"moons": "two moons", "rings": "two rings", "gaussians": "8 Gaussians"}
TOY_STEPS = [250, 500, 1000]
ANCHORS = "RealNVP 1.06 bits/dim on MNIST, Glow 2.9 on Fashion-MNIST"


DEFAULT_T = 0.7  # the temperature slider's start


def init_state() -> None:
    for key, value in {"flows.temperature": DEFAULT_T, "flows.seed": 0, "flows.n": 16,
                       "flows.toy": "moons", "flows.toy_steps": 500, "flows.layer": TOY_LAYERS,
                       "flows.toy_trained": []}.items():
        st.session_state.setdefault(key, value)


def show_maths() -> None:
    box, draw = components.lazy_expander("The maths this page implements", "flows.maths")
    if draw:
        with box:
            st.markdown("**Change of variables.** An invertible network f maps an image x to a z of "
                        "the same size with z ~ N(0, I); the density of x follows exactly:")
            st.latex(r"\log p_X(x) = \log p_Z\big(f(x)\big) + \log\Big|\det\frac{\partial f(x)}{\partial x}\Big|,"
                     r"\qquad x = f^{-1}(z)")
            st.markdown("f is a stack of layers, so the log-determinants of the layers add up.")
            st.markdown("**Coupling layers** (NICE, RealNVP) keep the dimensions of a binary mask b "
                        "and move the others as a function of the kept ones only:")
            st.latex(r"y_b = x_b,\quad y_{\bar b} = x_{\bar b}\odot e^{s(x_b)} + t(x_b)"
                     r"\qquad\Longleftrightarrow\qquad x_{\bar b} = \big(y_{\bar b} - t(y_b)\big)\odot e^{-s(y_b)}")
            st.latex(r"\frac{\partial y}{\partial x} = \begin{pmatrix} I & 0 \\ "
                     r"\partial y_{\bar b}/\partial x_b & \operatorname{diag}\big(e^{s(x_b)}\big)\end{pmatrix}"
                     r"\quad\Rightarrow\quad \log\Big|\det\frac{\partial y}{\partial x}\Big| = \sum_j s_j(x_b)")
            st.markdown("y_b does not depend on x_b̄, so the Jacobian is triangular and its "
                        "determinant is the product of its diagonal: no D×D determinant is ever "
                        "computed, and s and t can be any network, since they are never inverted. NICE "
                        "is additive (s = 0, volume-preserving) and ends with a learned diagonal "
                        "scaling; RealNVP alternates checkerboard and channel masks, squeezes 2×2 "
                        "blocks into channels and factors half of the dimensions out at each scale.")
            st.markdown("**Dequantization and bits/dim.** Pixels are integers k ∈ {0, …, 255}: a "
                        "density could pile up on them without bound. So each gets uniform noise, "
                        "v = k + u with u ~ U[0, 1), and the flow sees y = v / 256 through a logit "
                        "(α = 10⁻⁶ keeps it finite at 0 and 1):")
            st.latex(r"h = \operatorname{logit}\big(\alpha + (1-2\alpha)\,y\big),\qquad "
                     r"\log p_v(v) = \log\mathcal{N}\big(f(h); 0, I\big) + \log\Big|\det\frac{\partial f}{\partial h}\Big|"
                     r" + \log\Big|\det\frac{\partial h}{\partial y}\Big| - D\log 256")
            st.latex(r"\text{bits/dim} = \frac{-\log p_v(v)}{D\ln 2},\qquad D = 784")
            st.markdown("A uniform density on [0, 256)ᴰ gives exactly 8 bits/dim, and "
                        "E_u[−log p_v(k + u)] bounds the discrete −log P(k) from above (Theis et al. "
                        "2016). **Variational dequantization** (Flow++, Ho et al. 2019) learns where in "
                        "its bin each pixel's noise goes: u ~ q(u | k), and the bound "
                        "E_q[−log p_v(k + u) + log q(u | k)] is tighter the closer q comes to p_v "
                        "inside the bins (uniform noise is q = 1, log q = 0). **Temperature:** sampling z ~ N(0, T²I) with T < 1 stays in the "
                        "high-density core: cleaner, less varied images (Glow, sec. 5).")
            st.caption("Code: genlab/models/flow.py (logit_transform, Coupling, Flow, the toy "
                       "flow, Dequantizer), genlab/families/flow.py (dequantize, dequantized, log_prob, flow_step, "
                       "flow_sample, flow_bits_per_dim, the toy flow's training).")


# --- the image flow ----------------------------------------------------------------------------

@st.cache_data(max_entries=64, show_spinner=False)
def tempered_samples(folder: str, n: int, seed: int, temperature: float) -> tuple[np.ndarray, float]:
    """n samples f⁻¹(z), z ~ N(0, T²I): uint8 (n, 28, 28), and the seconds they took."""
    model = loaders.load_checkpoint(folder).model
    t0 = time.perf_counter()
    images = loaders.torch_call(sample.sample_images, registry.get("flow"), model, n, seed, temperature=temperature)
    return images, time.perf_counter() - t0


def sample_grid(folder: str, n: int, seed: int, temperature: float) -> tuple[np.ndarray, str, float]:
    """The samples as one grid at its own size, its caption, and the seconds they took."""
    images, wall = tempered_samples(folder, n, seed, temperature)
    caption = (f"{n} samples x = f⁻¹(z), z ~ N(0, {temperature:.2f}²·I), seed {seed} · "
               f"sampled in {wall * 1000:.0f} ms")
    return grid(images, ncol=GRID_COLUMNS[n]), caption, wall


def temperature_caption(m: dict) -> str:
    """The card's sample quality per temperature (``genlab eval --temperatures``), as a
    caption sentence, or nothing where it was not measured."""
    measured = m.get("temperatures", {}).get("T")
    if not measured:
        return ""
    ts = sorted(measured, key=float)
    ref = m.get("reference", {}).get("fd")
    return (f" · FD of {m['temperatures']['n']:,} samples against held-out images (lower is "
            f"better{f', real vs real {ref:.1f}' if ref else ''}) at T = {' / '.join(ts)}: "
            + " / ".join(f"{measured[t]['fd']:.0f}" for t in ts))


def clearest_flow(dataset: str) -> str:
    """The page's default flow: the installed one whose samples at the slider's starting
    temperature have the lowest FD in its card (``genlab eval --temperatures``); NICE where
    none was measured."""
    def fd(row: dict) -> float:
        at = ((row["card"] or {}).get("metrics", {}).get("temperatures", {}).get("T", {})).get(f"{DEFAULT_T:g}")
        return at["fd"] if at else math.inf
    rows = loaders.models_for(dataset, "flow")
    best = min(rows, key=fd, default=None)
    return Path(best["folder"]).name if best is not None and fd(best) < math.inf else "nice"


@state.fragment
def samples(folder: str) -> None:
    st.subheader("Samples at a temperature")
    c = st.columns([3, 1, 2])
    temperature = round(c[0].slider("Temperature T", 0.0, 1.2, step=0.05, key="flows.temperature", bind="query-params",
                                    help="z ~ N(0, T²I): T = 1 samples the model as trained, "
                                         "T = 0 gives f⁻¹(0) every time"), 2)
    seed = inputs.seed("Seed", "flows.seed", c[1])
    n = c[2].select_slider("Images", list(GRID_COLUMNS), key="flows.n", bind="query-params")
    scale = 3 if n == 16 else 2
    image, caption, wall = sample_grid(folder, n, seed, temperature)
    with st.container(key="flows-frames", gap=None):
        figure(image, caption, file_name(loaders.model_id(folder), f"{n}-samples", f"T{temperature:.2f}",
                                         f"seed{seed}", ext="png"), scale=scale, key="dl.flows.samples")
    st.caption("One pass through the inverse network per batch: a flow samples as fast as a "
               "GAN. Lower T trades variety for cleaner strokes; at T = 0 every cell is the "
               "same image, the one whose z is the mode of N(0, I).")
    # the neighbouring temperatures, for the browser to show the moment the slider moves
    # (a fast flow only: NICE draws 64 images in a few ms, RealNVP in about 0.2 s)
    if wall < FAST_SAMPLES_S and components.first_screen_painted("flows"):
        near = [t for t in (round(temperature + d, 2) for d in (-0.1, -0.05, 0.05, 0.1)) if 0.0 <= t <= 1.2]
        frames = {}
        for t in [temperature, *near]:
            image, caption, _ = sample_grid(folder, n, seed, t)
            frames[t] = [(upscale(image, scale), caption)]
        components.instant_frames("flows.temperature", "flows-frames", temperature, frames,
                                  key="instant.flows.temperature")


@torch.inference_mode()
def round_trip(model, image: np.ndarray) -> dict:
    """x → z = f(x) → x̂ = f⁻¹(z) for one uint8 image (28, 28), taken at the centre of its
    8-bit bins (v = k + ½, no random dequantization)."""
    y = (torch.from_numpy(image.astype(np.float32)) + 0.5)[None, None] / flow.LEVELS  # (1, 1, 28, 28)
    z, logdet = model(y)
    y_hat = model.inverse(z)
    log_pv = flow.standard_normal_log_prob(z) + logdet  # bits_per_dim adds the D log 256
    return {"scales": [s[0].numpy() for s in model.z_scales(z)],
            "x_hat": np.clip(np.floor(y_hat[0, 0].numpy() * flow.LEVELS), 0, 255).astype(np.uint8),
            "max_err": (y_hat - y).abs().max().item() * flow.LEVELS,
            "bpd": metrics.bits_per_dim(log_pv, model.num_dims).item()}


def z_picture(part: np.ndarray) -> np.ndarray:
    """One scale of z (C, H, W): its channels tiled two per row, z ∈ [−3, 3] mapped to grey."""
    grey = (np.clip(part, -3, 3) + 3) / 6 * 255
    tiles = grid(grey.round().astype(np.uint8), ncol=min(2, len(part)), pad=1)
    return upscale(tiles, max(1, Z_TILE // part.shape[-1]))


@state.fragment
def round_trip_view(model, dataset: str) -> None:
    st.subheader("Round trip: x → z → x̂")
    image, name = inputs.held_out_or_upload(dataset, idx_key="flows.idx", upload_key="flows.upload")
    out = round_trip(model, image)
    scales = out["scales"]
    cols = st.columns([1, 1.2 * len(scales) + 1, 1])
    cols[0].image(upscale(image, 4), caption=f"x: {name}", output_format="PNG")
    for col, part, i in zip(cols[1].columns(len(scales)), scales, range(1, len(scales) + 1)):
        col.image(z_picture(part), output_format="PNG",
                  caption=f"z, scale {i}: {' × '.join(map(str, part.shape))}" if len(scales) > 1
                  else "z (784 values, z_d at pixel d)")
    cols[2].image(upscale(out["x_hat"], 4), caption="x̂ = f⁻¹(f(x))", output_format="PNG")
    same = "the same 8-bit image" if (out["x_hat"] == image).all() else "not the same 8-bit image"
    st.markdown(f"max |x − x̂| = **{out['max_err']:.2g}** grey levels (float32 round-off): "
                f"x̂ is {same}. This image: **{out['bpd']:.3f} bits/dim** at the centre of its "
                "8-bit bins.")
    layout = ("RealNVP factors half of its dimensions out at each scale: the first part of z "
              "(14 × 14 after one squeeze) holds fine detail, the last parts (7 × 7) the coarse "
              "layout." if len(scales) > 1 else
              "NICE keeps the flat vector: its couplings mix the even and the odd pixels, and its "
              "final scaling gives each z_d its own scale.")
    st.caption(f"z is drawn with grey = 0, white = +3, black = −3. {layout} No information is "
               "lost on the way: f is invertible, so x̂ equals x up to round-off.")


SCORE_BATCH = 100  # images per progress report while scoring


def score_sets(model, sets: dict[str, np.ndarray], gen: torch.Generator,
               report=lambda fraction, note: None) -> dict[str, np.ndarray]:
    """Bits/dim of each image of each set (uint8 images), one dequantization each from
    ``gen``; ``report(fraction, note)`` after each batch."""
    total, done, out = sum(len(v) for v in sets.values()), 0, {}
    for name, images in sets.items():
        parts = []
        for i in range(0, len(images), SCORE_BATCH):
            parts.append(flow.flow_bits_per_dim(model, data.to_float(images[i:i + SCORE_BATCH]), gen))
            done += len(parts[-1])
            report(done / total, f"{done:,} of {total:,} images scored")
        out[name] = torch.cat(parts).numpy()
    return out


def scored_sets(dataset: str) -> tuple[dict[str, np.ndarray], torch.Generator]:
    """SCORED held-out images of ``dataset``, of the other dataset and uniform noise images,
    and the generator that then draws their dequantization (seed 0)."""
    gen = sample.generator(0)
    other = next(d for d in data.DATASETS if d != dataset)
    noise = torch.randint(0, 256, (SCORED, 28, 28), generator=gen, dtype=torch.uint8).numpy()
    return {f"{dataset} held-out": loaders.bundled(dataset)[0][:SCORED],
            f"{other} held-out": loaders.bundled(other)[0][:SCORED], "uniform noise": noise}, gen


@st.cache_data(max_entries=8, show_spinner="Scoring 1,500 images (500 per histogram)…")
def likelihoods(folder: str, dataset: str) -> dict[str, np.ndarray]:
    """Bits/dim of the three sets of ``scored_sets``, for a flow quick to score."""
    return score_sets(loaders.load_checkpoint(folder).model, *scored_sets(dataset))


def likelihoods_or_job(folder: str, dataset: str) -> dict[str, np.ndarray] | None:
    """The three sets' bits/dim; for a flow slower to score than 2 s (RealNVP: about 6 ms an
    image, so 9 s), a job with its progress bar instead, and None until it is done."""
    card = loaders.load_checkpoint(folder).card
    estimate = 3 * SCORED * card["metrics"].get("sample_ms_per_image", 0.0) / 1000  # ≈ one pass each
    if estimate <= 2.0:
        return likelihoods(folder, dataset)
    key = ("flow likelihoods", folder, dataset)
    job = jobs.get(key)
    if job is None or job.state in ("cancelled", "failed"):
        if job is not None and not st.button("Score them again", key="flows.rescore"):
            st.info(jobs.ended_note(job))
            return None
        model, (sets, gen) = loaders.load_checkpoint(folder).model, scored_sets(dataset)
        job = jobs.start(key, f"Scoring {3 * SCORED:,} images with {card['name']}",
                         lambda job: score_sets(model, sets, gen, job.report), estimate_s=estimate)
    if job.state == "running":
        jobs.watch(key, "flows.job")
        return None
    return job.result


def likelihood_view(folder: str, name: str, dataset: str) -> None:
    st.subheader("Likelihood: what does the model find probable?")
    scores = likelihoods_or_job(folder, dataset)
    if scores is None:
        return
    fig = go.Figure()
    for (label, bpd), color in zip(scores.items(), ("#1f77b4", "#ff7f0e", "#7f7f7f")):
        fig.add_trace(go.Histogram(x=bpd, name=label, marker_color=color, opacity=0.65, nbinsx=60))
    fig.update_layout(barmode="overlay", height=320, xaxis_title="bits/dim (lower = more likely)",
                      yaxis_title="images", margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "y": 1.12})
    st.plotly_chart(fig, width="stretch", key="flows.likelihoods")
    own, other, noise = (float(np.median(v)) for v in scores.values())
    other_name = next(d for d in data.DATASETS if d != dataset)
    verdict = (f"**{other_name} images get higher likelihood than {dataset}'s own held-out "
               f"images**: the surprise" if other < own else
               f"{other_name} images get lower likelihood than {dataset}'s own, as one would hope")
    st.caption(f"{SCORED} images per histogram, each scored once with uniform dequantization. "
               f"Median bits/dim for {name}: {own:.2f} ({dataset} held-out), {other:.2f} "
               f"({other_name}), {noise:.2f} (uniform noise). Here {verdict}. Nalisnick et al. "
               "(2019, *Do deep generative models know what they don't know?*) found that flows "
               "trained on Fashion-MNIST give MNIST digits a *higher* likelihood than their own "
               "test clothes, though they never saw a digit. Likelihood is dominated by "
               "low-level statistics, not by what an image shows: a digit is mostly flat black "
               "background, which any model of local pixel correlations predicts cheaply, and "
               "its few strokes cost little. Uniform noise has no structure to exploit: a trained "
               "model should give it more than the 8 bits/dim of a uniform density. "
               "So a high likelihood does not mean “looks like the training data”.")


# --- the 2-D toy flow ----------------------------------------------------------------------------

@st.cache_data(max_entries=4, show_spinner=False)
def toy_points(name: str) -> np.ndarray:
    """The toy flow's training points (TOY_POINTS, 2), seed 0."""
    return toy_data(name, TOY_POINTS, sample.generator(0)).numpy()


TOY_S_PER_STEP = 0.0095  # seconds per training step here (1,000 steps: 8.6–9.4 s measured)


def toy_key(name: str, steps: int) -> tuple:
    return ("toy flow", name, steps)


def start_toy(name: str, steps: int) -> None:
    """Start (or join) the job that trains the toy flow on ``name`` for ``steps`` (seed 0),
    shared by every session; its result: (the model, read-only; its training facts). Every
    step reports, so Cancel stops it within a few tens of ms."""
    points = torch.from_numpy(toy_points(name))  # fetched here: the job has no script run

    def compute(job: jobs.Job) -> tuple[ToyFlow, dict]:
        with torch.random.fork_rng():
            torch.manual_seed(0)  # the couplings' initial weights
            model = ToyFlow()

        def on_step(step: int, running: dict) -> None:
            nll = running.get("nll", float("nan"))
            job.report(step / steps, f"step {step:,} of {steps:,} · NLL {nll:.2f} nats per point")

        facts = flow.train_toy_flow(model, points, steps=steps, on_step=on_step)
        return model.requires_grad_(False), facts

    jobs.start(toy_key(name, steps), f"Training the toy flow on {TOY_LABELS[name]}, {steps:,} steps",
               compute, estimate_s=steps * TOY_S_PER_STEP)
    trained = st.session_state["flows.toy_trained"]
    if [name, steps] not in trained:
        st.session_state["flows.toy_trained"] = trained + [[name, steps]]


def shown_toy(key: tuple) -> tuple[ToyFlow, dict] | None:
    """The trained toy flow for ``key`` (a few thousand weights kept)."""
    return jobs.kept_result(key, "flows.toy_result")

def z_grid_lines(count: int = 13, points: int = 60) -> torch.Tensor:
    """A square grid over [−3, 3]² in z-space as polylines: (2·count, points, 2), the
    horizontal lines first."""
    t = torch.linspace(-3, 3, points)
    rows = [torch.stack([t, torch.full_like(t, v)], 1) for v in torch.linspace(-3, 3, count)]
    return torch.stack(rows + [r.flip(1) for r in rows])


def polyline(lines: np.ndarray) -> tuple[list, list]:
    """Lines (L, P, 2) as one Plotly trace's x and y, None between the lines."""
    xs, ys = [], []
    for line in lines:
        xs += line[:, 0].tolist() + [None]
        ys += line[:, 1].tolist() + [None]
    return xs, ys


def toy_layout(fig: go.Figure, title: str, space: str = "x") -> go.Figure:
    """Square axes over [−TOY_LIM, TOY_LIM]², titled ``space``₁ and ``space``₂ (x, z or h)."""
    axis = {"range": [-TOY_LIM, TOY_LIM], "zeroline": False, "showgrid": False, "constrain": "domain"}
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 40, "b": 10}, showlegend=False,
                      title={"text": title, "font": {"size": 14}}, plot_bgcolor="white",
                      xaxis={**axis, "title": f"{space}₁"}, yaxis={**axis, "title": f"{space}₂",
                                                                    "scaleanchor": "x", "scaleratio": 1})
    return fig


def points_trace(points: np.ndarray, color: str) -> go.Scatter:
    return go.Scatter(x=points[:, 0], y=points[:, 1], mode="markers", hoverinfo="skip",
                      marker={"size": 3, "color": color, "opacity": 0.6})


def density_figure(model: ToyFlow, points: np.ndarray) -> go.Figure:
    axis, logp = flow.toy_density(model, lim=TOY_LIM, n=120)
    fig = go.Figure(go.Heatmap(x=axis.numpy(), y=axis.numpy(), z=logp.exp().numpy(),
                               colorscale="Viridis", showscale=False,
                               hovertemplate="x = (%{x:.2f}, %{y:.2f})<br>p(x) = %{z:.3f}<extra></extra>"))
    fig.add_trace(points_trace(points, "white"))
    return toy_layout(fig, "p(x) = N(f(x); 0, I)·|det ∂f/∂x|, data in white")


def warp_figure(model: ToyFlow, points: np.ndarray, layer: int) -> go.Figure:
    lines = z_grid_lines()
    warped = flow.toy_trace(model, lines.reshape(-1, 2), "generate")[layer].view(lines.shape).numpy()
    # the data, mapped back by the last TOY_LAYERS − layer layers of f, lands in the same space
    data_there = flow.toy_trace(model, torch.from_numpy(points), "normalize")[TOY_LAYERS - layer]
    half = len(lines) // 2
    fig = go.Figure()
    for part, color in ((warped[:half], "#1f77b4"), (warped[half:], "#ff7f0e")):
        xs, ys = polyline(part)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"width": 1, "color": color},
                                 hoverinfo="skip"))
    fig.add_trace(points_trace(data_there.numpy(), "#222222"))
    space = {0: " (z-space)", TOY_LAYERS: " (x-space)"}.get(layer, "")
    axes = {0: "z", TOY_LAYERS: "x"}.get(layer, "h")  # h: between the two spaces
    return toy_layout(fig, f"a z-grid through {layer} of {TOY_LAYERS} inverse layers{space}", axes)


@state.fragment
def toy() -> None:
    st.subheader("A 2-D flow you can train here")
    c = st.columns([2.2, 1.6, 1])
    name = c[0].radio("Data", list(TOY_LABELS), key="flows.toy", bind="query-params", horizontal=True,
                      format_func=TOY_LABELS.get)
    steps = c[1].select_slider("Training steps", TOY_STEPS, key="flows.toy_steps", bind="query-params")
    c[2].write("")  # align the button with the controls' inputs
    if c[2].button("Train", key="flows.train", type="primary"):
        start_toy(name, steps)
    points = toy_points(name)[:TOY_SHOWN]
    key = toy_key(name, steps)
    asked = [name, steps] in st.session_state["flows.toy_trained"]
    shown = shown_toy(key) if asked else None
    if asked and shown is None:
        job = jobs.get(key)
        if job is None:  # asked for in this session, its job since dropped: train it again
            start_toy(name, steps)
            job = jobs.get(key)
        if job.state == "running":
            jobs.watch(key, "flows.toy_job")
            return
        if note := jobs.ended_note(job):
            st.info(note)
    if shown is None:
        left, right = st.columns([1, 1])
        fig = go.Figure(points_trace(points, "#222222"))
        title = f"{TOY_LABELS[name]}: {TOY_POINTS:,} points to fit"
        left.plotly_chart(toy_layout(fig, title), width="stretch", key="flows.toy_data")
        right.info(f"Press **Train** to fit a RealNVP with {TOY_LAYERS} affine couplings to these "
                   f"points ({steps} Adam steps of 256 points, about "
                   f"{jobs.duration(steps * TOY_S_PER_STEP)} here). Then its density "
                   "appears here, and a grid warped layer by layer from z-space to x-space.")
        return
    model, facts = shown
    layer = st.slider(f"Layers of f⁻¹ applied to the grid on the right (0 = z-space, {TOY_LAYERS} = "
                      "x-space)", 0, TOY_LAYERS, key="flows.layer", bind="query-params")
    left, right = st.columns([1, 1])
    left.plotly_chart(density_figure(model, points), width="stretch", key="flows.toy_density")
    left.caption(f"{facts['steps']} steps in {facts['wall_time_s']:.1f} s, final NLL "
                 f"{facts['final']['nll']:.2f} nats per point. The density is exact: "
                 f"log p(x) = log N(f(x); 0, I) + Σ_k s_k, summed over the {TOY_LAYERS} couplings.")
    right.plotly_chart(warp_figure(model, points, layer), width="stretch", key="flows.toy_warp")
    right.caption("A regular grid in z-space (layer 0, axes z₁, z₂) pushed through the inverse "
                  "couplings one at a time (axes h₁, h₂ in between, x₁, x₂ at the last layer): each "
                  "layer moves one coordinate only, by a shift and scale computed from the other. The data points are mapped back by the remaining layers of f, so at "
                  "layer 0 they sit in z-space (close to N(0, I) if the flow fits) and at the last "
                  "layer in x-space.")


# --- the page ------------------------------------------------------------------------------------

state.page_setup()
init_state()
st.title("Normalizing flows: exact likelihoods")
dataset = st.session_state["dataset"]
st.caption("An invertible network maps each image to a Gaussian z of the same size and back, "
           "so sampling is one inverse pass and the likelihood of any image is exact. NICE uses "
           "additive couplings on the flat image, RealNVP affine couplings on a multi-scale "
           "architecture.")
show_maths()
row = state.model_picker("flow", prefer=clearest_flow(dataset))
ckpt = loaders.try_load(row["folder"]) if row else None

boxes = [st.container() for _ in range(4)]
with boxes[0]:
    if row is None:
        st.subheader("Samples, round trip and likelihoods")
        st.info(f"No normalizing-flow checkpoint for {dataset} is installed yet "
                f"(`checkpoints/{dataset}/realnvp` or `checkpoints/{dataset}/nice`). Sampling, the "
                "round trip x → z → x̂ and the likelihood histograms appear here once one is; train "
                f"one with {loaders.train_command(dataset, 'realnvp', '--steps 5000')}. The 2-D toy flow below needs "
                "no checkpoint: it trains on this page in seconds.")
    elif ckpt is not None:
        card = ckpt.card
        bpd = card["metrics"].get("bits_per_dim")
        learned = card["config"].get("dequantizer") == "variational"
        st.caption(f"**{card['name']}** on {dataset}: held-out "
                   f"{f'{bpd:.3f} bits/dim' if bpd is not None else 'bits/dim not measured'}"
                   f"{' with its learned dequantizer q(u | k)' if learned else ''} "
                   f"(anchors: {ANCHORS}) · {card['training']['steps']:,} training steps"
                   + temperature_caption(card["metrics"]))
        samples(row["folder"])
    rest = components.below_the_fold("flows")
if rest:
    with boxes[1]:
        if ckpt is not None:
            round_trip_view(ckpt.model, dataset)
    with boxes[3]:
        toy()
    with boxes[2]:  # scoring 1,500 images runs last, after everything above is on the page
        if ckpt is not None:
            likelihood_view(row["folder"], ckpt.card["name"], dataset)
