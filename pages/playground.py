"""/playground: every family learns the same 2-D data, side by side, live. Pick the data
(built-in, drawn, or a CSV), pick families, Train: samples over the data every few hundred
steps, loss curves, one score for all; then what each model's map looks like (warped grids,
a GAN's discriminator, a flow's density, a diffusion's field and particle paths)."""

from __future__ import annotations

import copy
import hashlib
import threading
import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from genlab import playground as pg
from genlab.families import gan
from genlab.sample import generator
from genlab.toy import MIN_POINTS, TOY_DATASETS, TOY_LABELS, points_from_csv, standardize, toy_data
from genlab_ui import components, inputs, jobs, state

TRAIN_POINTS = 20_000  # drawn from a built-in set (the user's points are used as they are)
FRAME_POINTS = 400  # samples per animation frame, from the same noise every frame (SVG: fewer points draw faster)
FRAMES = 20  # animation frames per family over its run
LIM = 3.6  # the plots' half-width
LENGTHS = {"quick (½×)": 0.5, "default (fits in ~15 s)": 1.0, "long (2×)": 2.0, "longer (3×)": 3.0}
MAX_TRAININGS = 2  # trainings running at once on this server (one per core); others wait
MAX_FAMILIES = 4  # a session's families per run: with 3× steps, at most ~3 min of one core
REFLOW = "+ one reflow"  # the one chip of its pills: picked or not
COLORS = {"vae": "#1f77b4", "gan": "#d62728", "wgan-gp": "#ff7f0e", "gan-qp": "#8c564b",
          "flow": "#2ca02c", "diffusion": "#9467bd", "rectified-flow": "#e377c2"}
DRAW_GRID = 31  # the drawing plane's clickable grid: DRAW_GRID × DRAW_GRID points, 0.2 apart
PLOT = components.chart_config("genlab_playground")
BACKDROP = 600  # data points behind a map (each is an SVG node: fewer keep the page light)


def init_state() -> None:
    for key, value in {"pg.data": "moons", "pg.families": ["gan", "flow", "rectified-flow"],
                       "pg.length": "default (fits in ~15 s)", "pg.seed": 0, "pg.reflow": REFLOW,
                       "pg.drawn": [], "pg.t": 0.5, "pg.noise": 0.0}.items():
        st.session_state.setdefault(key, value)


# --- data: built-in, drawn or uploaded ------------------------------------------------------------

def axis_style(**extra) -> dict:
    return {"range": [-LIM, LIM], "zeroline": False, "showgrid": False, "showticklabels": False,
            "constrain": "domain", **extra}


def plane(title: str, height: int = 320) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(height=height, margin={"l": 5, "r": 5, "t": 34, "b": 5}, showlegend=False,
                      title={"text": title, "font": {"size": 13}}, plot_bgcolor="white",
                      xaxis=axis_style(), yaxis=axis_style(scaleanchor="x", scaleratio=1))
    return fig


def add_points(fig: go.Figure, pts: np.ndarray, color: str, size: int = 3, name: str = "") -> None:
    fig.add_scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=name, hoverinfo="skip",
                    marker={"size": size, "color": color})


def draw_section() -> np.ndarray | None:
    """The drawing plane: click a grid point or drag a box or lasso to add points around it."""
    drawn = st.session_state["pg.drawn"]  # strokes: each an (n, 2) list of points
    pts = np.array([p for stroke in drawn for p in stroke], dtype=np.float32).reshape(-1, 2)
    axis = np.linspace(-3, 3, DRAW_GRID)
    gx, gy = np.meshgrid(axis, axis)
    fig = plane("Click a grid point: 10 points around it · or the lasso (toolbar) to fill an area", height=420)
    fig.add_scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", hoverinfo="none",
                    marker={"size": 7, "color": "rgba(120,120,120,0.15)"})
    if len(pts):
        add_points(fig, pts, "#1f77b4", 4)
    # clicks select a point only without a drag tool; the toolbar's lasso or box fills an area
    fig.update_layout(dragmode=False, clickmode="event+select", hovermode="closest")
    c = st.columns([3, 1])
    event = c[0].plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"),
                              key=f"pg.draw.{len(drawn)}", config={"displayModeBar": True})
    chosen = [p for p in (event.selection.points if event and event.selection else []) if p.get("curve_number") == 0]
    if chosen:
        centres = np.array([[p["x"], p["y"]] for p in chosen], dtype=np.float32)
        rng = np.random.default_rng(len(drawn))
        per = 10 if len(centres) < 5 else 3  # a click adds a small cloud, a lasso fills its area
        stroke = (np.repeat(centres, per, 0) + rng.normal(0, 0.06, (len(centres) * per, 2))).round(4)
        st.session_state["pg.drawn"] = drawn + [stroke.tolist()]
        st.rerun()
    c[1].metric("Points drawn", f"{len(pts):,}")
    if c[1].button("Undo last", disabled=not drawn, key="pg.undo"):
        st.session_state["pg.drawn"] = drawn[:-1]
        st.rerun()
    if c[1].button("Clear", disabled=not drawn, key="pg.clear"):
        st.session_state["pg.drawn"] = []
        st.rerun()
    if len(pts) < MIN_POINTS:
        c[1].info(f"At least {MIN_POINTS} points are needed to learn a density: "
                  f"{MIN_POINTS - len(pts)} more (a click adds 10).")
        return None
    return standardize(pts)


def csv_section() -> np.ndarray | None:
    up = st.file_uploader("A CSV of x, y pairs (two numeric columns, a header row allowed, ≤ 100,000 rows)",
                          type=["csv", "txt"], key="pg.csv")
    if up is None:
        return None
    try:
        pts = points_from_csv(up.getvalue())
    except ValueError as exc:
        st.error(f"{up.name}: {exc}")
        return None
    st.caption(f"{len(pts):,} points from {up.name}, centred and scaled to the built-in sets' size "
               "(the shape kept).")
    return standardize(pts)


def choose_data() -> tuple[str, np.ndarray | None, str]:
    """(key for the results, training points or None when not ready, the score's reference)."""
    options = list(TOY_DATASETS) + ["draw", "csv"]
    labels = {**TOY_LABELS, "draw": "draw your own", "csv": "upload a CSV"}
    name = st.radio("Data", options, format_func=labels.get, horizontal=True, key="pg.data", bind="query-params")
    if name in TOY_DATASETS:
        return name, toy_data(name, TRAIN_POINTS, generator(0)).numpy(), name
    pts = draw_section() if name == "draw" else csv_section()
    if pts is None:
        return name, None, name
    digest = hashlib.sha1(pts.tobytes()).hexdigest()[:12]
    return f"{name}:{digest}", pts, "yours"


# --- training as a job: all chosen families in turn, a chunk each, frames as they go ----------------

@st.cache_resource(show_spinner=False)
def training_slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(MAX_TRAININGS)


def reference_points(data_key: str, points: np.ndarray) -> np.ndarray | str:
    return data_key if data_key in TOY_DATASETS else points


def make_compute(families: list[str], points: np.ndarray, data_key: str, scale: float, seed: int,
                 reflow: bool):
    slots = training_slots()

    def compute(job: jobs.Job) -> dict:
        while not slots.acquire(timeout=0.5):
            job.report(0.0, f"waiting for a free core ({MAX_TRAININGS} trainings are running on this server)")
        try:
            return train_all(job, families, points, data_key, scale, seed, reflow)
        finally:
            slots.release()

    return compute


def train_all(job: jobs.Job, families: list[str], points: np.ndarray, data_key: str, scale: float,
              seed: int, reflow: bool) -> dict:
    runs = {f: pg.ToyRun(f, points, seed) for f in families}
    total = {f: max(1, int(round(r.family.steps * scale))) for f, r in runs.items()}
    if reflow and "rectified-flow" in runs:
        total["reflow"] = max(1, total["rectified-flow"] // 2)
    chunk = {f: max(1, n // FRAMES) for f, n in total.items()}
    frames: dict[str, list] = {f: [] for f in total}
    state_ = {"runs": runs, "frames": frames, "total": total, "stopped": False, "data": points}

    def snapshot(name: str, run: pg.ToyRun) -> None:
        frames[name].append((run.step, run.sample(FRAME_POINTS, seed=seed + 1)))

    def report() -> None:
        done = sum(min(r.step, total[f]) for f, r in runs.items())
        all_steps = sum(total.values())
        note = " · ".join(f"{runs[f].family.label if f in runs else 'reflow'} {runs[f].step:,}/{total[f]:,}"
                          for f in runs if f in total)
        job.report(done / all_steps, note,
                   partial={**state_, "frames": {f: list(v) for f, v in frames.items()}})

    try:
        for name, run in runs.items():
            snapshot(name, run)
        report()
        while any(run.step < total[f] for f, run in runs.items()):
            for name, run in runs.items():
                if run.step < total[name]:
                    run.train(min(chunk[name], total[name] - run.step))
                    snapshot(name, run)
                    report()  # after each family's chunk: Stop waits for one chunk, not a round
        if "reflow" in total:
            second = runs["reflow"] = pg.reflow_run(runs["rectified-flow"])
            snapshot("reflow", second)
            while second.step < total["reflow"]:
                second.train(min(chunk["reflow"], total["reflow"] - second.step))
                snapshot("reflow", second)
                report()
    except jobs.Cancelled:
        state_["stopped"] = True  # Stop keeps what was learned
    target = reference_points(data_key, points)
    state_["scores"] = {f: pg.score(run, target) for f, run in runs.items()}
    state_["refs"] = pg.references(target)
    return state_


def run_key(data_key: str, families: list[str], scale: float, seed: int, reflow: bool) -> tuple:
    return ("playground", data_key, tuple(families), scale, seed, reflow and "rectified-flow" in families)


def family_label(name: str) -> str:
    return "Rectified flow after one reflow" if name == "reflow" else pg.TOY_FAMILIES[name].label


def family_panel(name: str, result: dict, data: np.ndarray, replay: bool = False) -> dict:
    """A family's canvas panel: its latest frame over the data (or, to replay, all its frames)
    and its loss curve under it."""
    frames = result["frames"][name]
    color = COLORS.get(name, "#e377c2")
    run = result["runs"].get(name)
    loss = None
    if run is not None and run.history:
        steps, values = pg.loss_curve(run.history, run.loss_name(), bins=100)
        loss = (steps, values, color, run.loss_name())
    step, samples = frames[-1]
    panel = {"title": f"{family_label(name)} · step {step:,} of {result['total'][name]:,}", "loss": loss,
             "layers": [{"points": data, "color": "#d0d7e1"}]}
    if replay:
        panel["frames"] = {"label": family_label(name), "total": result["total"][name], "color": color,
                           "steps": [s for s, _ in frames], "points": [p for _, p in frames]}
    else:
        panel["layers"].append({"points": samples, "color": color})
    return panel


LOSS_NOTE = ("Under each: its loss (running mean over steps; for the GANs D's loss, which settles rather "
             "than falls): each family's own objective, so compare shapes, not heights.")


def show_live(result: dict, data: np.ndarray) -> None:
    """The latest frame of each family side by side, its loss curve under it (canvas panels:
    they repaint every second while the training shares the CPU)."""
    panels = [family_panel(name, result, data) for name, frames in result["frames"].items() if frames]
    components.toy_panels(panels, key="pg.live.panels", lim=LIM, height=340)
    st.caption("Grey: the data; colour: samples from the same noise every frame. " + LOSS_NOTE)


@state.fragment(run_every=1.0)
def live(key: tuple, data: np.ndarray) -> None:
    job = jobs.get(key)
    if job is None or job.state != "running":
        st.rerun()
    left = job.remaining_s()
    bar, stop = st.columns([8, 1], vertical_alignment="bottom")
    bar.progress(job.fraction, text=f"Training: {job.note or 'starting'}"
                 + (f" · about {jobs.duration(left)} left" if left is not None else ""))
    if stop.button("Stop", key="pg.stop", help="Stops within a second and keeps what was learned"):
        job.cancel()
    deadline = time.perf_counter() + 0.5  # the first frame comes within a few tens of ms
    while job.partial is None and job.state == "running" and time.perf_counter() < deadline:
        time.sleep(0.02)
    if job.partial is not None:
        show_live(job.partial, data)


def results_table(result: dict) -> None:
    refs = result["refs"]
    base = refs["gaussian_baseline"]
    rows = [{"model": family_label(f), "steps": run.step, "training s": round(run.seconds, 1),
             "energy distance": result["scores"][f], "× Gaussian reference": round(result["scores"][f] / base, 3)}
            for f, run in result["runs"].items()]
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption(f"Energy distance D = 2E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖ between 2,000 samples and 2,000 "
               f"fresh data points (for your own points: a resample of them); 0 means the same "
               f"distribution. References computed the same way: a Gaussian with the data's mean and "
               f"covariance (a model that learned only the first two moments) scores {base:.4f} (1×); "
               f"a second fresh set of data scores {refs['real_vs_real']:.4f} "
               f"({refs['real_vs_real'] / base:.3f}×), the floor that finite samples set.")


# --- the maps -----------------------------------------------------------------------------------------

def grid_figure(run: pg.ToyRun, data: np.ndarray, title: str) -> go.Figure:
    lines = pg.grid_lines(lim=2.5, lines=11, points=60)
    warped = pg.push_forward(run, lines)
    fig = plane(title)
    add_points(fig, data[:BACKDROP], "#e4e9f0", 3)
    xs, ys = [], []
    for line in warped:
        xs += line[:, 0].tolist() + [None]
        ys += line[:, 1].tolist() + [None]
    fig.add_scatter(x=xs, y=ys, mode="lines", hoverinfo="skip",
                    line={"width": 1, "color": COLORS.get(run.family.name, "#444")})
    return fig


def heatmap_figure(axis: np.ndarray, values: np.ndarray, title: str, data: np.ndarray,
                   colorscale: str = "RdBu_r") -> go.Figure:
    fig = plane(title)
    fig.add_heatmap(x=axis, y=axis, z=values, colorscale=colorscale, showscale=True,
                    colorbar={"thickness": 10, "len": 0.8})
    add_points(fig, data[:400], "rgba(0,0,0,0.35)", 2)
    return fig


def arrows(points: np.ndarray, vectors: np.ndarray, scale: float) -> tuple[list, list]:
    xs, ys = [], []
    for (x, y), (u, v) in zip(points, vectors * scale):
        xs += [x, x + u, None]
        ys += [y, y + v, None]
    return xs, ys


def own_run(name: str, result: dict, key: tuple) -> pg.ToyRun:
    """This session's copy of a trained run (the job's result is shared by every session)."""
    kept = st.session_state.setdefault("pg.own", {})
    if kept.get("key") != key:
        kept.clear()
        kept["key"] = key
    if name not in kept:
        kept[name] = copy.deepcopy(result["runs"][name])
    return kept[name]


MEMO_ENTRIES = 64  # figures kept per session for the run shown (every t, λ and hand-stepped state)


def memo(key: tuple, what: tuple, make):
    """``make()``, kept in this session for the run shown under ``what``: a rerun for another
    control (the data radio, a tab) redraws the same figures without recomputing them."""
    kept = st.session_state.setdefault("pg.memo", {"key": None, "items": {}})
    if kept["key"] != key:
        kept.update(key=key, items={})
    items = kept["items"]
    if what not in items:
        if len(items) >= MEMO_ENTRIES:
            items.pop(next(iter(items)))
        items[what] = make()
    return items[what]


def critic_figure(name: str, run: pg.ToyRun, data: np.ndarray) -> go.Figure:
    """D over the plane, with 60 samples G(z) and the arrows where G's loss pushes each."""
    axis, values = pg.critic_values(run)
    kind = "D(x) = P(real)" if run.family.gan_loss == "bce" else "the critic's value D(x)"
    fig = heatmap_figure(axis, values, f"{family_label(name)}: {kind} · step {run.step:,}", data)
    z = run.noise(60, 5)
    real = torch.as_tensor(data[:60], dtype=torch.float32)
    fake, push = gan.toy_fake_gradients(run.model, z, real, run.family.gan_loss)
    fake, push = fake.numpy(), push.numpy()
    # arrows scaled so the typical one is visible: the 90th percentile length is drawn as 0.4
    scale = 0.4 / max(np.quantile(np.linalg.norm(push, axis=1), 0.9), 1e-8)
    xs, ys = arrows(fake, push, scale)
    add_points(fig, fake, COLORS[name], 5)
    fig.add_scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", line={"width": 1.5, "color": "#111"})
    return fig


def gan_maps(name: str, result: dict, key: tuple, data: np.ndarray) -> None:
    run = own_run(name, result, key)
    st.markdown("**Step the game by hand** (as in GAN Lab): update only the discriminator, or only "
                "the generator, and watch each sample's arrow: where G's loss pushes it.")
    buttons = (("D step", run.d_step, 1), ("G step", run.g_step, 1), ("10 D steps", run.d_step, 10),
               ("10 G steps", run.g_step, 10))
    for col, (label, fn, n) in zip(st.columns(len(buttons)), buttons):
        if col.button(label, key=f"pg.{name}.{label}"):
            for _ in range(n):
                fn()
    fig = memo(key, ("d", name, run.step), lambda: critic_figure(name, run, data))
    c = st.columns(2)
    c[0].plotly_chart(fig, config=PLOT, key=f"pg.map.d.{name}")
    c[0].caption("Colour: D over the plane (the generator's weights as they are now, not their moving "
                 "average). Dots: 60 samples G(z); arrows: −∂L_G/∂x̃, where the next G step moves each "
                 "(lengths scaled together).")
    c[1].plotly_chart(memo(key, ("grid", name, run.step),
                           lambda: grid_figure(run, data, f"{family_label(name)}: where G sends the grid of z")),
                      config=PLOT, key=f"pg.map.grid.{name}")


def flow_figures(run: pg.ToyRun, data: np.ndarray) -> tuple[go.Figure, go.Figure]:
    from genlab.families.flow import toy_density

    axis, logp = toy_density(run.net, lim=LIM, n=90)
    return (heatmap_figure(axis.numpy(), logp.clamp(min=-8).numpy(),
                           "Exact log-density log p(x) (change of variables)", data, "Viridis"),
            grid_figure(run, data, "Where f⁻¹ sends the grid of z"))


def flow_maps(run: pg.ToyRun, data: np.ndarray, key: tuple) -> None:
    density, grid = memo(key, ("flow",), lambda: flow_figures(run, data))
    c = st.columns(2)
    c[0].plotly_chart(density, config=PLOT, key="pg.map.flow.density")
    c[1].plotly_chart(grid, config=PLOT, key="pg.map.flow.grid")


def vae_figures(run: pg.ToyRun, data: np.ndarray) -> tuple[go.Figure, go.Figure]:
    means = pg.posterior_means(run, data[:1000])
    fig = plane("The encoder's posterior means μ(x) of the data, in z")
    add_points(fig, np.random.default_rng(0).normal(size=(1000, 2)).astype(np.float32), "#e4e9f0", 3)
    add_points(fig, means, COLORS["vae"], 3)
    return grid_figure(run, data, "The decoder's image of the latent grid, m(z)"), fig


def vae_maps(run: pg.ToyRun, data: np.ndarray, key: tuple) -> None:
    grid, means = memo(key, ("vae",), lambda: vae_figures(run, data))
    c = st.columns(2)
    c[0].plotly_chart(grid, config=PLOT, key="pg.map.vae.grid")
    c[1].plotly_chart(means, config=PLOT, key="pg.map.vae.means")
    c[1].caption("Grey: the prior N(0, I). The KL term pulls the means towards it; holes between them "
                 "are where prior samples decode to points off the data.")


def field_figure(name: str, run: pg.ToyRun, data: np.ndarray, t: float) -> go.Figure:
    pts, vec = pg.velocity_field(run, t)
    norm = np.linalg.norm(vec, axis=1).max()
    fig = plane(f"The velocity field at t = {t:.2f}")
    add_points(fig, data[:BACKDROP], "#e4e9f0", 3)
    xs, ys = arrows(pts, vec, 0.3 / max(norm / 1.0, 1e-8))
    fig.add_scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", line={"width": 1.2, "color": COLORS[name]})
    return fig


def field_maps(name: str, run: pg.ToyRun, data: np.ndarray, result: dict, key: tuple) -> None:
    c = st.columns(2)
    t = c[0].slider("t (0: noise, 1: data)", 0.0, 1.0, step=0.05, key="pg.t", bind="query-params")
    c[0].plotly_chart(memo(key, ("field", name, t), lambda: field_figure(name, run, data, t)), config=PLOT,
                      key=f"pg.map.field.{name}")
    c[0].caption(("v(x, t)" if name == "rectified-flow" else
                  "The probability-flow ODE's velocity ½β(x + ∇log p_t) towards the data")
                 + "; arrows scaled to the longest at this t.")
    if name == "diffusion":
        lam = c[1].slider("Noise level λ (0: probability-flow ODE, 1: reverse SDE)", 0.0, 1.0, step=0.25,
                          key="pg.noise", bind="query-params")
        title = f"300 particles, λ = {lam:.2f}: " + ("smooth" if lam == 0 else "jittery" if lam == 1 else "in between")
        paths = memo(key, ("paths", name, lam), lambda: paths_figure(
            pg.particle_paths(run, 300, noise=lam, steps=100), data, title, COLORS[name]))
    else:
        paths = memo(key, ("paths", name), lambda: paths_figure(
            pg.particle_paths(run, 300, steps=50), data,
            f"300 particles along the ODE · straightness S = {pg.path_straightness(run):.4f}", COLORS[name]))
    c[1].plotly_chart(paths, config=PLOT, key=f"pg.map.paths.{name}")
    if name == "diffusion":
        c[1].caption("One family of samplers dx = [f − ½(1 + λ²)g²∇log p_t]dτ + λg dw̄: every λ has the "
                     "same marginals, so the same starting particles land on the same distribution, along "
                     "smooth (λ = 0) or noisy (λ = 1) paths.")
    if name == "rectified-flow" and "reflow" in result["runs"]:
        second = result["runs"]["reflow"]
        c = st.columns(2)
        c[0].plotly_chart(memo(key, ("paths", "reflow"), lambda: paths_figure(
            pg.particle_paths(second, 300, steps=50), data,
            f"After one reflow · S = {pg.path_straightness(second):.4f}", "#2ca02c")),
                          config=PLOT, key="pg.map.paths.reflow")
        c[0].caption("Reflow trains on the flow's own (x₀, ODE(x₀)) pairs, which never cross: the "
                     "paths straighten, so few Euler steps suffice.")
        c[1].plotly_chart(memo(key, ("grid", name), lambda: grid_figure(run, data, "Where the ODE sends the grid of x₀")),
                          config=PLOT, key="pg.map.grid.rf")
    else:
        st.plotly_chart(memo(key, ("grid", name), lambda: grid_figure(run, data, "Where the ODE sends the grid of x₀ (noise)")),
                        config=PLOT, key=f"pg.map.grid.{name}")


def paths_figure(paths: np.ndarray, data: np.ndarray, title: str, color: str, lines: int = 120) -> go.Figure:
    fig = plane(title)
    add_points(fig, data[:BACKDROP], "#e4e9f0", 3)
    xs, ys = [], []
    for b in range(min(lines, paths.shape[1])):
        xs += paths[:, b, 0].tolist() + [None]
        ys += paths[:, b, 1].tolist() + [None]
    fig.add_scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", line={"width": 0.7, "color": "rgba(60,60,60,0.35)"})
    add_points(fig, paths[-1], color, 3)
    return fig


def maps(result: dict, key: tuple, data: np.ndarray) -> None:
    st.subheader("What each model's map looks like")
    st.markdown("Every family carries a simple distribution, N(0, I) on the plane, onto the data. "
                "Each draws below where its map sends a square grid of that plane (lines every 0.5 "
                "over [−2.5, 2.5]²): how it bends and folds space to put mass on the data.")
    names = [n for n in result["runs"] if n != "reflow"]
    tabs = st.tabs([family_label(n) for n in names])
    for tab, name in zip(tabs, names):
        with tab:
            run = result["runs"][name]
            if run.family.gan_loss:
                gan_maps(name, result, key, data)
            elif name == "flow":
                flow_maps(run, data, key)
            elif name == "vae":
                vae_maps(run, data, key)
            else:
                field_maps(name, run, data, result, key)


# --- the page -------------------------------------------------------------------------------------------

state.page_setup()
init_state()
st.title("2-D playground: every family on the same data")
st.markdown("Each family below is a small network that learns a 2-D data set in seconds, here, on "
            "this machine. Train several at once on the same data and seed, watch their samples "
            "settle onto the data, and compare them with one score. Then look at the map each one "
            "learned: how it carries N(0, I) onto the data.")
data_key, points, reference = choose_data()
# chips and radio buttons: a multiselect, a selectbox and a checkbox would each bring their
# code to the first screen (docs/benchmarks.md: about 0.1 s of first paint)
families = st.pills("Families", list(pg.TOY_FAMILIES), selection_mode="multi", wrap=True,
                    format_func=lambda f: pg.TOY_FAMILIES[f].label, key="pg.families", bind="query-params",
                    help=f"Up to {MAX_FAMILIES} at once; they train in turn, a few hundred steps each, in one thread")
c = st.columns([3, 1, 1.4])
length = c[0].radio("Training length", list(LENGTHS), horizontal=True, key="pg.length", bind="query-params")
seed = inputs.seed("Seed", "pg.seed", c[1])
reflow = c[2].pills("After the rectified flow", [REFLOW], key="pg.reflow", bind="query-params",
                    disabled="rectified-flow" not in families,
                    help="Train once more on the rectified flow's own (noise, sample) pairs") == REFLOW
box, draw = components.lazy_expander("About the families and the limits of this page", "pg.about")
if draw:
    with box:
        for f in pg.TOY_FAMILIES.values():
            st.markdown(f"**{f.label}** ({f.steps:,} steps by default): {f.about}")
        st.caption(f"Limits, so that several people can train at once: at most {MAX_FAMILIES} families and "
                   f"3× their default steps per run, one run per session; each run is one training thread, and this server runs at "
                   f"most {MAX_TRAININGS} at a time (a third waits its turn, with a message). Code: "
                   "genlab/playground.py, the families' toy_* functions in genlab/families/.")

scale = LENGTHS[length]
if points is None:
    state.stop()
if not families:
    st.info("Pick at least one family to train.")
    state.stop()
if len(families) > MAX_FAMILIES:
    st.info(f"At most {MAX_FAMILIES} families train at once (one thread for the run): "
            f"{len(families)} are picked, so unpick {len(families) - MAX_FAMILIES}.")
    state.stop()
key = run_key(data_key, families, scale, int(seed), reflow)
shown = st.session_state.get("pg.run")  # this session's latest run (kept while controls change)
job = jobs.get(shown["key"]) if shown else None
running = job is not None and job.state == "running"
label = f"Train {len(families)} on {TOY_LABELS.get(data_key, 'your points')}"
if st.button(label, type="primary", key="pg.train", disabled=running,
             help="One training per session at a time: Stop the running one first" if running else None):
    job = jobs.start(key, "training", make_compute(families, points, data_key, scale, int(seed), reflow),
                     estimate_s=sum(pg.TOY_FAMILIES[f].steps for f in families) * scale * 0.006)
    shown = st.session_state["pg.run"] = {"key": key, "data": points[:2000]}
    running = True
if job is None:
    components.toy_panels([{"title": f"The data: {len(points):,} points",
                            "layers": [{"points": points[:1500], "color": "#1f77b4"}]}],
                          key="pg.data.preview", lim=LIM, height=360)
    state.stop()
# always one element here, so that what follows keeps its place (and its charts are not drawn anew)
st.caption("Below: your last run, on the settings it was started with; Train runs the current ones."
           if shown["key"] != key else "")
shown_points = shown["data"]
if running:
    live(shown["key"], shown_points[:400])
    state.stop()
if job.state != "done":
    st.warning(jobs.ended_note(job) or "The training did not finish.")
    state.stop()
result = job.result
if result["stopped"]:
    st.info("Stopped: the models keep what they learned so far; the scores below are theirs.")
st.subheader("Training, replayed")
names = [n for n in result["frames"] if n in result["runs"]]  # a stopped run may lack its reflow
components.toy_panels([family_panel(name, result, shown_points[:1000], replay=True) for name in names],
                      key="pg.replay", lim=LIM, height=300, run=repr(shown["key"]))
st.caption("▶ replay, or drag the slider: every family's samples (from the same noise) as training went, "
           "step by step; the dashed line marks the step on its loss curve. " + LOSS_NOTE)
results_table(result)
maps(result, shown["key"], shown_points)
