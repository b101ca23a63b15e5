"""/concepts ("Foundations"): the ideas the models rest on, each a small interactive figure on the
study notes' own examples with its equation beside it: information and KL, Markov chains and
their stationary distribution, random walk -> Brownian motion -> the diffusion SDE, why
Wasserstein, and the change of variables. The maths is genlab/concepts.py; each section is a
fragment, so a control reruns its own section only."""

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import streamlit as st

from genlab import concepts
from genlab_ui import components, inputs, state

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]
MARKER = "#d62728"  # the current slider value in every chart
CHART_HEIGHT = 250

MC_SIZES = [10, 30, 100, 300, 1000, 3000, 10000]  # the Monte-Carlo estimates of the Gaussian KL
CHAINS = {  # example -> (matrix text, day-0 state)
    "the notes' restaurant": ("0.2 0.6 0.2\n0.3 0 0.7\n0.5 0 0.5", concepts.RESTAURANT_START),
    "two closed classes": ("1 0 0\n0 0.4 0.6\n0 0.7 0.3", 1),
    "periodic: burger → pizza → hot dog": ("0 1 0\n0 0 1\n1 0 0", 1),
}
CHAIN_STEPS = 30  # days of π_n shown
SIMULATED_DAYS = 5000
WALKERS = 4000
PATHS_SHOWN = 10  # paths drawn, at most 129 points each: they travel with every rerun
TIME_STEPS = [1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 1024]
SDE_PARTICLES = 2000
SDE_STEPS = 1000  # Euler–Maruyama steps over t ∈ [0, 1]
SDE_KEEP = 50  # snapshots every 0.02
SDE_RANGE = 5.0  # x ∈ [−5, 5] in the SDE plots
W_DX = 0.001  # the grid of the JS / W₁ computations
W_EDGES = np.arange(-0.5, 4.5 + W_DX / 2, W_DX)
W_PLOT_STEP = 25  # plotted on cells of 0.025 (θ moves by 0.05: edges stay on the grid)
THETAS = np.round(np.arange(0, 3.0 + 1e-9, 0.05), 2)
PUSHED = 20_000  # samples pushed through f
PUSH_BINS = 60


def init_state() -> None:
    defaults = {"concepts.seed": 0, "concepts.p": 0.5, "concepts.q": 0.2, "concepts.mu": 1.0,
                "concepts.sigma": 0.5, "concepts.n": 1000, "concepts.chain": "the notes' restaurant",
                "concepts.matrix": CHAINS["the notes' restaurant"][0],
                "concepts.start": concepts.RESTAURANT_START, "concepts.step": 0,
                "concepts.dt": 1 / 64, "concepts.t": 0.5, "concepts.data": "two bumps",
                "concepts.sde_t": 0.0, "concepts.shape": "uniform on [0, 1]", "concepts.theta": 0.5,
                "concepts.map": "sigmoid"}
    defaults.update({f"concepts.a.{name}": fmap.default for name, fmap in concepts.MAPS.items()})
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)


def rng(seed: int, *stream: int) -> np.random.Generator:
    """A random generator for one use: the page's seed (the sidebar widget) and a fixed stream
    number per simulation, so that each section's draws do not depend on the others'."""
    return np.random.default_rng([seed, *stream])


# --- small Vega-Lite builders (the spec stays fixed while a slider moves; only the named datasets
# change, so the browser updates a chart in place instead of drawing it anew) -------------------

def axis(field: str, title: str | None, **scale) -> dict:
    enc = {"field": field, "type": "quantitative", "title": title}
    if scale:
        enc["scale"] = scale
    return enc


def colour(names: list[str], colors: list[str] | None = None) -> dict:
    return {"field": "series", "type": "nominal", "title": None,
            "scale": {"domain": names, "range": colors or COLORS[:len(names)]},
            "legend": {"orient": "bottom", "columns": 4}}


def line(data: str, x: dict, y: dict, *, color: dict | None = None, dash: list | None = None,
         width: float = 2, interpolate: str | None = None, fixed: str | None = None) -> dict:
    mark = {"type": "line", "strokeWidth": width, "clip": True}
    if dash:
        mark["strokeDash"] = dash
    if interpolate:
        mark["interpolate"] = interpolate
    if fixed:
        mark["color"] = fixed
    enc = {"x": x, "y": y}
    if color:
        enc["color"] = color
    return {"data": {"name": data}, "mark": mark, "encoding": enc}


def marker(data: str = "marker") -> dict:
    """A red vertical rule at the dataset's single x."""
    return {"data": {"name": data}, "mark": {"type": "rule", "color": MARKER, "strokeWidth": 2},
            "encoding": {"x": {"field": "x", "type": "quantitative"}}}


def chart(layers: list[dict], datasets: dict[str, pd.DataFrame], key: str, *, title: str,
          height: int = CHART_HEIGHT) -> None:
    st.vega_lite_chart({"title": {"text": title, "fontSize": 13}, "layer": layers, "datasets": datasets},
                       width="stretch", height=height, key=key)


def long(x: np.ndarray, series: dict[str, np.ndarray]) -> pd.DataFrame:
    """Columns x, y, series: one row per point of each named curve."""
    return pd.DataFrame({"x": np.tile(x, len(series)), "y": np.concatenate(list(series.values())),
                         "series": np.repeat(list(series), len(x))})


def at(x: float) -> pd.DataFrame:
    return pd.DataFrame({"x": [x]})


SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def pi_(n: int) -> str:
    """π with the day as a subscript: π₁₂."""
    return "π" + str(n).translate(SUBSCRIPT)


def fraction(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def section(number: int, title: str, anchor: str) -> None:
    st.header(f"{number}. {title}", anchor=anchor, divider="gray")


# --- 1. information, entropy, cross-entropy, KL --------------------------------------------------

@state.fragment
def coins() -> None:
    init_state()
    controls, middle, right = st.columns([1, 1.45, 1.05])
    p = controls.slider("Truth: P(heads) = p", 0.01, 0.99, step=0.01, key="concepts.p", bind="query-params")
    q = controls.slider("Model: P(heads) = q", 0.01, 0.99, step=0.01, key="concepts.q", bind="query-params")
    P, Q = concepts.coin(p), concepts.coin(q)
    info_p, info_q = concepts.information_bits(P), concepts.information_bits(Q)
    controls.markdown(md_table(["", "heads", "tails"], [
        ["p", f"{P[0]:.2f}", f"{P[1]:.2f}"],
        ["−log₂ p", f"{info_p[0]:.3f}", f"{info_p[1]:.3f}"],
        ["q", f"{Q[0]:.2f}", f"{Q[1]:.2f}"],
        ["−log₂ q", f"{info_q[0]:.3f}", f"{info_q[1]:.3f}"]]))
    h, ce = concepts.entropy_bits(P), concepts.cross_entropy_bits(P, Q)
    kl_pq, kl_qp = concepts.kl_bits(P, Q), concepts.kl_bits(Q, P)
    right.markdown(f"H(p) = **{h:.3f}** bits  \nH(p, q) = **{ce:.3f}** bits  \n"
                   f"KL(p ‖ q) = H(p, q) − H(p) = **{kl_pq:.3f}** bits  \n"
                   f"KL(q ‖ p) = **{kl_qp:.3f}** bits"
                   + (" (equal: p = q)" if p == q else ": not the same, KL is not symmetric"))
    rows = [[e.label, f"{e.value():.4f}", e.notes] for e in concepts.NOTES_COINS]
    right.markdown("The notes' examples, computed:\n\n" + md_table(["", "bits", "notes"], rows))
    grid = np.round(np.arange(0.01, 0.995, 0.01), 2)
    curves = {"H(p, q)": np.array([concepts.cross_entropy_bits(P, concepts.coin(g)) for g in grid]),
              "KL(p ‖ q)": np.array([concepts.kl_bits(P, concepts.coin(g)) for g in grid]),
              "KL(q ‖ p)": np.array([concepts.kl_bits(concepts.coin(g), P) for g in grid]),
              "H(p)": np.full(len(grid), h)}
    # the page's first chart: a picture, so that a new visitor sees it before Vega-Lite's code
    # (the charts below the fold) has loaded
    middle.image(components.svg_line_chart(
        grid, curves, [COLORS[0], COLORS[1], COLORS[2], "#7f7f7f"], title="Bits as the model's q varies, p fixed",
        x_title="the model's q = P(heads)", y_title="bits", y_domain=(0, 3.5), x_domain=(0, 1), marker=q,
        marker_color=MARKER, width=400, height=290), width="stretch")


def coins_maths() -> None:
    eq, prose = st.columns([1.2, 1])
    eq.latex(r"I(x) = -\log_2 p(x),\qquad H(p) = -\sum_i p_i\log_2 p_i")
    eq.latex(r"H(p, q) = -\sum_i p_i\log_2 q_i")
    eq.latex(r"\mathrm{KL}(p\,\|\,q) = H(p, q) - H(p) = \sum_i p_i \log_2\frac{p_i}{q_i} \ \ge 0")
    prose.markdown("A rare outcome carries much information, a sure one none. H(p) is the mean "
                   "information of the truth; H(p, q) the mean when outcomes of p are scored by "
                   "the model q. Their gap KL(p ‖ q) is zero only at q = p, and H(p) does not "
                   "depend on q: **minimizing a cross-entropy loss minimizes the KL to the data.**")
    state.page_link("pages/autoregressive.py", label="PixelCNN: NLL as a sum of cross-entropies",
                    icon=":material/grid_on:", where=prose)


@state.fragment
def gaussians() -> None:
    init_state()
    controls, left, right = st.columns([1, 1.2, 1.2])
    mu = controls.slider("μ", -3.0, 3.0, step=0.1, key="concepts.mu", bind="query-params")
    sigma = controls.slider("σ", 0.1, 3.0, step=0.05, key="concepts.sigma", bind="query-params")
    n = controls.select_slider("Monte-Carlo samples n", MC_SIZES, key="concepts.n", bind="query-params")
    kl = concepts.gaussian_kl(mu, sigma)
    seed = st.session_state["concepts.seed"]
    estimates = np.array([concepts.gaussian_kl_monte_carlo(mu, sigma, m, rng(seed, 1, m)) for m in MC_SIZES])
    estimate, se = estimates[MC_SIZES.index(n)]
    controls.markdown(f"Closed form: **{kl:.4f}** nats  \nMonte Carlo, n = {n:,}:  \n"
                      f"**{estimate:.4f} ± {2 * se:.4f}** (± 2 SE)")
    x = np.linspace(-6, 6, 241)
    densities = {"q = N(μ, σ²)": np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi)),
                 "p = N(0, 1)": concepts.standard_normal_pdf(x)}
    with left:
        chart([line("densities", axis("x", "z"), axis("y", None),
                    color=colour(list(densities)))],
              {"densities": long(x, densities)}, "concepts.gauss_chart", title="The two densities")
    means, errors = estimates[:, 0], estimates[:, 1]
    mc = pd.DataFrame({"n": MC_SIZES, "estimate": means, "lo": means - 2 * errors, "hi": means + 2 * errors,
                       "chosen": [m == n for m in MC_SIZES]})
    nx = {"field": "n", "type": "quantitative", "title": "samples n", "scale": {"type": "log"},
          "axis": {"values": MC_SIZES, "grid": False, "format": "~s"}}
    with right:
        chart([{"data": {"name": "mc"}, "mark": {"type": "rule", "strokeWidth": 2},
                "encoding": {"x": nx, "y": axis("lo", "nats"), "y2": {"field": "hi"}}},
               {"data": {"name": "mc"}, "mark": {"type": "point", "filled": True, "size": 60},
                "encoding": {"x": nx, "y": axis("estimate", None),
                             "color": {"field": "chosen", "type": "nominal", "legend": None,
                                       "scale": {"domain": [False, True], "range": ["#1f77b4", MARKER]}}}},
               {"data": {"name": "exact"}, "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#333"},
                "encoding": {"y": axis("y", None)}}],
              {"mc": mc, "exact": pd.DataFrame({"y": [kl]})}, "concepts.mc_chart",
              title="Estimates ± 2 SE; dashed: exact")


def gaussians_maths() -> None:
    eq, prose = st.columns([1.2, 1])
    eq.latex(r"\mathrm{KL}\big(\mathcal N(\mu,\sigma^2)\,\|\,\mathcal N(0,1)\big) = "
             r"\tfrac12\big(\mu^2 + \sigma^2 - \log\sigma^2 - 1\big)")
    eq.latex(r"\approx \frac1n\sum_{k=1}^{n}\log\frac{q(z_k)}{p(z_k)},\quad z_k\sim q,"
             r"\qquad \mathrm{SE} = \frac{\mathrm{std}}{\sqrt n}")
    prose.markdown("This is the VAE's KL term, once per latent dimension, in nats (natural log): it "
                   "pulls each encoding q(z|x) = N(μ, σ²) towards the prior N(0, 1). The closed "
                   "form is exact; a Monte-Carlo estimate is what remains without one, and its "
                   "error bar shrinks like 1/√n.")
    state.page_link("pages/vae.py", label="The VAE: its KL term per dimension", icon=":material/explore:",
                    where=prose)


# --- 2. Markov chains ------------------------------------------------------------------------------

def load_chain() -> None:
    text, start = CHAINS[st.session_state["concepts.chain"]]
    state.set_widgets({"concepts.matrix": text, "concepts.start": start})


def state_names(k: int) -> list[str]:
    return list(concepts.RESTAURANT_STATES) if k == 3 else [f"state {i + 1}" for i in range(k)]


@st.cache_data(max_entries=16, show_spinner=False)
def simulated_visits(matrix: tuple, start: int, seed: int) -> np.ndarray:
    """Running visit frequencies of one simulated run, at ~120 log-spaced days: (days, 1 + k)."""
    A = np.array(matrix)
    states = concepts.simulate_chain(A, start, SIMULATED_DAYS, rng(seed, 2))
    freq = concepts.visit_frequencies(states, len(A))
    days = np.unique(np.geomspace(1, SIMULATED_DAYS, 120).round().astype(int))
    return np.column_stack([days, freq[days]])


@state.fragment
def markov() -> None:
    init_state()
    controls, numbers = st.columns([1, 2.2])
    controls.selectbox("Example", list(CHAINS), key="concepts.chain", bind="query-params", on_change=load_chain)
    text = controls.text_area("Transition matrix A: row i holds tomorrow's probabilities after i "
                              "(decimals or fractions like 1/3)", key="concepts.matrix", height=110)
    try:
        rows = concepts.parse_matrix(text)
        names = state_names(len(rows))
        A = concepts.check_transition_matrix(rows, names)
    except ValueError as exc:
        numbers.error(f"This is not a transition matrix: {exc}.", icon=":material/error:")
        return
    k = len(A)
    if st.session_state["concepts.start"] not in range(k):
        st.session_state["concepts.start"] = 0
    start = controls.selectbox("Day 0 serves (π₀)", list(range(k)), format_func=names.__getitem__,
                               key="concepts.start", bind="query-params")
    n = controls.slider("Day n", 0, CHAIN_STEPS, key="concepts.step", bind="query-params")
    facts = concepts.analyse_chain(rows)
    path = concepts.distribution_path(A, np.eye(k)[start], CHAIN_STEPS)
    visits = simulated_visits(tuple(map(tuple, A)), start, st.session_state["concepts.seed"])
    table = [[f"{pi_(n)} = {pi_(n - 1)}A" if n else "π₀", *(f"{v:.4f}" for v in path[n])]]
    if facts.unique:
        if facts.exact is not None:
            table.append(["π = πA (exact)", *(f"**{fraction(v)}**" for v in facts.exact)])
        table.append(["π ≈", *(f"**{v:.3f}**" for v in facts.pi)])
    else:
        for i, extreme in enumerate(facts.extremes):
            exact = facts.extremes_exact[i] if facts.extremes_exact else None
            table.append([f"π⁽{str(i + 1).translate(SUPERSCRIPT)}⁾ (closed class {i + 1})",
                          *((fraction(v) for v in exact) if exact else (f"{v:.3f}" for v in extreme))])
    table.append([f"one run: share of {SIMULATED_DAYS:,} days", *(f"{v:.3f}" for v in visits[-1, 1:])])
    numbers.markdown(md_table(["", *names], table))
    numbers.markdown(eigen_text(facts, path, n))
    if not facts.unique:
        classes = "; ".join("{" + ", ".join(names[i] for i in cls) + "}" for cls in facts.classes)
        numbers.warning(f"**More than one stationary distribution.** This chain has "
                        f"{len(facts.classes)} closed classes ({classes}): once in one, it never "
                        "leaves, so each has its own stationary π⁽ⁱ⁾, and every mixture of them is "
                        "stationary too. The eigenvalue 1 appears "
                        f"{len(facts.classes)} times, and where π_n ends depends on π₀.",
                        icon=":material/call_split:")
    elif facts.periodic:
        numbers.info("**Periodic.** Another eigenvalue of A has modulus 1: π_n cycles and never "
                     "settles, although π is stationary (πA = π) and one run's visit shares "
                     "still converge to it.", icon=":material/loop:")
    days = np.arange(CHAIN_STEPS + 1)
    series = {name: path[:, i] for i, name in enumerate(names)}
    limit = facts.pi if facts.unique else np.full(k, np.nan)
    stationary = long(np.array([0, CHAIN_STEPS]),
                      {name: np.full(2, limit[i]) for i, name in enumerate(names)})
    left, right = st.columns(2)
    col = colour(names)
    with left:
        chart([line("path", axis("x", "day n"), axis("y", "probability", domain=[0, 1]), color=col),
               line("stationary", axis("x", None), axis("y", None), color=col, dash=[4, 3], width=1.5),
               {"data": {"name": "path"}, "mark": {"type": "point", "filled": True, "size": 18},
                "encoding": {"x": axis("x", None), "y": axis("y", None), "color": col}},
               marker()],
              {"path": long(days, series), "stationary": stationary.dropna(), "marker": at(n)},
              "concepts.chain_path", title="π_n day by day; dashed: stationary π")
    run = long(visits[:, 0], {name: visits[:, 1 + i] for i, name in enumerate(names)})
    run_stationary = long(np.array([1, SIMULATED_DAYS]), {name: np.full(2, limit[i])
                                                           for i, name in enumerate(names)})
    with right:
        chart([line("run", axis("x", "days simulated", type="log"), axis("y", "share of days", domain=[0, 1]),
                    color=col),
               line("stationary", axis("x", None, type="log"), axis("y", None), color=col, dash=[4, 3],
                    width=1.5)],
              {"run": run, "stationary": run_stationary.dropna()}, "concepts.chain_run",
              title=f"One simulated run from {names[start]}: share of days")


def eigen_text(facts: concepts.ChainFacts, path: np.ndarray, n: int) -> str:
    def fmt(v: complex) -> str:
        real = f"{v.real:.3f}".replace("-", "−")
        if abs(v.imag) < 1e-9:
            return real
        return f"{real} {'+' if v.imag > 0 else '−'} {abs(v.imag):.3f}i"

    text = "Eigenvalues of A: " + ", ".join(fmt(v) for v in facts.eigenvalues) + "."
    if facts.unique and not facts.periodic and len(facts.eigenvalues) > 1:
        gap = np.abs(path[n] - facts.pi).sum()
        text += (f" ‖{pi_(n)} − π‖₁ = {gap:.2g}: the distance to π shrinks by about "
                 f"|λ₂| = {abs(facts.eigenvalues[1]):.3f} per day.")
    return text


def markov_maths() -> None:
    eq, prose = st.columns([1.2, 1])
    eq.latex(r"A_{ij} = P(X_{n+1} = j \mid X_n = i),\qquad \pi_n = \pi_{n-1}A = \pi_0 A^n")
    eq.latex(r"\pi A = \pi,\quad \textstyle\sum_i \pi_i = 1")
    eq.latex(r"q(x_t\mid x_{t-1}) = \mathcal N\big(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\big)")
    eq.latex(r"x_{t-1}\sim\mathcal N(0, I)\ \Rightarrow\ x_t\sim\mathcal N\big(0, (1-\beta_t) + \beta_t\big) "
             r"= \mathcal N(0, I)")
    prose.markdown("**Markov property**: tomorrow depends on today only (after pizza, a hot dog "
                   "follows with probability 0.7 whatever came before). A stationary π is a **left "
                   "eigenvector of A with eigenvalue 1**; solving πA = π, Σπ = 1 exactly gives the "
                   "notes' fractions. If the eigenvalue 1 appears more than once (more than one "
                   "closed class), there is more than one stationary distribution.")
    prose.markdown("**The link to diffusion.** DDPM's forward process is a Markov chain on images "
                   "whose stationary distribution is N(0, I) (left): run long enough, it forgets "
                   "the image it started from, as π_n forgets π₀.")
    state.page_link("pages/diffusion.py", label="Diffusion: the forward chain step by step",
                    icon=":material/blur_on:", where=prose)


# --- 3. random walk, Brownian motion, the SDE -------------------------------------------------------

@st.cache_resource(max_entries=10, show_spinner=False)
def walks(dt: float, seed: int) -> np.ndarray:
    """The walkers' step counts, shared read-only by every session: cache_data would hand each
    rerun an 8 MB copy."""
    counts = concepts.random_walk(WALKERS, dt, rng(seed, 3))
    counts.flags.writeable = False
    return counts


@st.cache_data(max_entries=10, show_spinner=False)
def shown_paths(dt: float, seed: int) -> pd.DataFrame:
    """The first PATHS_SHOWN walkers, at most 129 points each (float32)."""
    counts = walks(dt, seed)[:PATHS_SHOWN]
    stride = max(1, (counts.shape[1] - 1) // 128)
    idx = np.arange(0, counts.shape[1], stride)
    return pd.DataFrame({"x": np.tile(idx * dt, PATHS_SHOWN).astype(np.float32),
                         "y": (counts[:, idx] * math.sqrt(dt)).ravel().astype(np.float32),
                         "walker": np.repeat(np.arange(PATHS_SHOWN), len(idx))})


def dt_label(dt: float) -> str:
    return f"1/{round(1 / dt)}"


@state.fragment
def random_walk() -> None:
    init_state()
    controls, left, right = st.columns([1, 1.3, 1.3])
    dt = controls.select_slider("Time step Δt", TIME_STEPS, format_func=dt_label, key="concepts.dt",
                                bind="query-params")
    t = controls.slider("Time t", 0.1, 1.0, step=0.05, key="concepts.t", bind="query-params")
    seed = st.session_state["concepts.seed"]
    counts = walks(dt, seed)
    k = max(1, round(t / dt))
    tk = k * dt
    x = counts[:, k] * math.sqrt(dt)
    controls.markdown(md_table([f"t = {tk:g}", "mean", "variance"], [
        [f"{WALKERS:,} walkers", f"**{x.mean():+.3f}**", f"**{x.var():.3f}**"],
        ["Brownian motion", "0", f"{tk:g}"]]))
    controls.caption(f"{k} step{'s' if k > 1 else ''} of ±√Δt = ±{math.sqrt(dt):g}")
    with left:
        steps = "step-after" if dt >= 1 / 16 else "linear"  # coarse walks drawn as the jumps they are
        chart([{"data": {"name": "paths"}, "mark": {"type": "line", "strokeWidth": 1, "clip": True,
                                                     "interpolate": steps},
                "encoding": {"x": axis("x", "time"), "y": axis("y", "position", domain=[-3, 3]),
                             "detail": {"field": "walker", "type": "nominal"},
                             "color": {"field": "walker", "type": "nominal", "legend": None}}},
               marker()],
              {"paths": shown_paths(dt, seed), "marker": at(tk)}, "concepts.walk_paths",
              title=f"{PATHS_SHOWN} of the walkers")
    centres, widths, density = concepts.lattice_histogram(counts[:, k], k, dt)
    keep = np.abs(centres) < 3.5
    bars = pd.DataFrame({"x0": centres[keep] - widths[keep] / 2, "x1": centres[keep] + widths[keep] / 2,
                         "y": density[keep]})
    grid = np.linspace(-3.5, 3.5, 281)
    xs = axis("x", "position", domain=[-3.5, 3.5])
    with right:
        chart([{"data": {"name": "bars"}, "mark": {"type": "rect", "opacity": 0.5, "color": COLORS[0]},
                "encoding": {"x": {**axis("x0", "position", domain=[-3.5, 3.5])}, "x2": {"field": "x1"},
                             "y": axis("y", "density", domain=[0, 1.3]), "y2": {"datum": 0}}},
               line("heat", xs, axis("y", None), fixed=MARKER)],
              {"bars": bars, "heat": pd.DataFrame({"x": grid, "y": concepts.heat_kernel(grid, tk)})},
              "concepts.walk_hist", title="All walkers at t; red: N(0, t)")


def random_walk_maths() -> None:
    eq, prose = st.columns([1.2, 1])
    eq.latex(r"x_{k+1} = x_k \pm \sqrt{\Delta t},\qquad \operatorname{Var}x(t) = "
             r"\tfrac{t}{\Delta t}\cdot\Delta t = t")
    eq.latex(r"\frac{\partial p}{\partial t} = \frac12\frac{\partial^2 p}{\partial x^2},\qquad "
             r"p(x, t) = \frac{e^{-x^2/2t}}{\sqrt{2\pi t}}")
    eq.latex(r"dx = f\,dt + g\,dw\ \Rightarrow\ \frac{\partial p}{\partial t} = "
             r"-\frac{\partial (f p)}{\partial x} + \frac{g^2}{2}\frac{\partial^2 p}{\partial x^2}")
    prose.markdown("A walker adds t/Δt independent steps of variance Δt, so its position at t has "
                   "variance t whatever Δt is. As Δt → 0 it becomes N(0, t) (central limit "
                   "theorem) and the paths become **Brownian motion** w(t); the walkers' density "
                   "solves the **heat equation**. Add a drift f and a noise scale g and the walk "
                   "is an SDE whose density follows the **Fokker–Planck equation** (the notes' "
                   "path-integral chapter turns one into the other).")


@st.cache_resource(max_entries=8, show_spinner="Simulating the forward and reverse SDE…")
def sde_runs(name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(forward, reverse) particles at t = 0, 0.02, …, 1: each (SDE_KEEP + 1, SDE_PARTICLES),
    shared read-only (no copy per rerun)."""
    data = concepts.MIXTURES[name]
    gen = rng(seed, 4)
    forward = concepts.forward_sde(data.sample(SDE_PARTICLES, gen), SDE_STEPS, SDE_KEEP, gen)
    reverse = concepts.reverse_sde(data, SDE_PARTICLES, SDE_STEPS, SDE_KEEP, gen)
    forward.flags.writeable = reverse.flags.writeable = False
    return forward, reverse


@st.cache_data(max_entries=8, show_spinner=False)
def density_map(name: str) -> pd.DataFrame:
    """p_t(x) on a 26 × 61 (t, x) grid as rectangles, for the heat map (float32, few cells: it
    travels with every rerun of the section)."""
    data = concepts.MIXTURES[name]
    ts = np.linspace(0, 1, 26)
    xs = np.linspace(-SDE_RANGE, SDE_RANGE, 61)
    dx, dt = xs[1] - xs[0], ts[1] - ts[0]
    p = np.stack([data.diffused(t).pdf(xs) for t in ts])  # (t, x)
    pad_t, pad_x = 0.55 * dt, 0.55 * dx  # cells overlap a little: no seams between them
    return pd.DataFrame({"t0": np.repeat(ts - pad_t, len(xs)), "t1": np.repeat(ts + pad_t, len(xs)),
                         "x0": np.tile(xs - pad_x, len(ts)), "x1": np.tile(xs + pad_x, len(ts)),
                         "p": p.ravel()}).astype(np.float32)


@state.fragment
def sde() -> None:
    init_state()
    controls, left, right = st.columns([1, 1.3, 1.3])
    name = controls.radio("Data distribution p₀", list(concepts.MIXTURES), key="concepts.data", bind="query-params")
    t = controls.slider("Time t", 0.0, 1.0, step=1 / SDE_KEEP, key="concepts.sde_t", bind="query-params")
    i = round(t * SDE_KEEP)
    data = concepts.MIXTURES[name]
    pt = data.diffused(i / SDE_KEEP)
    forward, reverse = sde_runs(name, st.session_state["concepts.seed"])
    controls.markdown(md_table([f"t = {i / SDE_KEEP:.2f}", "mean", "var"], [
        ["exact p_t", f"{pt.mean():+.3f}", f"{pt.var():.3f}"],
        ["forward", f"{forward[i].mean():+.3f}", f"{forward[i].var():.3f}"],
        ["reverse", f"{reverse[i].mean():+.3f}", f"{reverse[i].var():.3f}"]]))
    with left:
        chart([{"data": {"name": "map"}, "mark": {"type": "rect"},
                "encoding": {"x": axis("t0", "time t", domain=[0, 1]), "x2": {"field": "t1"},
                             "y": axis("x0", "x", domain=[-SDE_RANGE, SDE_RANGE]), "y2": {"field": "x1"},
                             "color": {"field": "p", "type": "quantitative", "title": "p_t(x)",
                                       "scale": {"scheme": "viridis"}, "legend": None}}},
               {**marker(), "mark": {"type": "rule", "color": "white", "strokeWidth": 2}}],
              {"map": density_map(name), "marker": at(i / SDE_KEEP)}, "concepts.sde_map",
              title="p_t(x): the data diffuses to N(0, 1)")
    edges = (-SDE_RANGE, SDE_RANGE, 50)
    fc, fd = concepts.density_histogram(forward[i], *edges)
    _, rd = concepts.density_histogram(reverse[i], *edges)
    xs = np.linspace(-SDE_RANGE, SDE_RANGE, 201)
    names = ["exact p_t", "forward", "reverse"]
    col = colour(names, ["#333333", COLORS[0], COLORS[1]])
    x = axis("x", "x", domain=[-SDE_RANGE, SDE_RANGE])
    with right:
        chart([line("exact", x, axis("y", "density"), color=col),
               line("hist", x, axis("y", None), color=col, interpolate="step", width=1.5)],
              {"exact": long(xs, {"exact p_t": pt.pdf(xs)}),
               "hist": long(fc, {"forward": fd, "reverse": rd})},
              "concepts.sde_hist", title=f"Histograms of {SDE_PARTICLES:,} particles at t")


def sde_maths() -> None:
    eq, prose = st.columns([1.2, 1])
    eq.latex(r"\text{forward: } dx = -\tfrac12\beta(t)\,x\,dt + \sqrt{\beta(t)}\,dw")
    eq.latex(r"\text{reverse: } dx = \big[-\tfrac12\beta x - \beta\,\nabla_x\log p_t(x)\big]dt"
             r" + \sqrt{\beta}\,d\bar w")
    eq.latex(r"\mathcal N(m, s^2)\ \mapsto\ \mathcal N\big(m\,e^{-B/2},\ s^2e^{-B} + 1 - e^{-B}\big),"
             r"\quad B = \int_0^t\beta")
    eq.latex(r"\frac{\partial p_t}{\partial t} = \frac{\beta(t)}{2}\Big[\frac{\partial (x\,p_t)}{\partial x}"
             r" + \frac{\partial^2 p_t}{\partial x^2}\Big]")
    prose.markdown("The forward SDE, with β(t) = 0.1 + 19.9 t, is the continuous limit of DDPM's "
                   "chain (Song et al. 2021): it shrinks x and adds noise until any data "
                   "distribution is N(0, 1). Run backwards in time with the **score** ∇ log p_t, "
                   "it turns N(0, 1) back into the data (Anderson 1982). A Gaussian mixture stays "
                   "a mixture under the forward SDE, so here the score is exact; a diffusion "
                   "model learns it instead (ε̂ = −√(1 − ᾱ_t) · score). The density obeys the "
                   "Fokker–Planck equation (last line).")
    state.page_link("pages/diffusion.py", label="Diffusion: a learned ε̂ for the score",
                    icon=":material/blur_on:", where=prose)


# --- 4. why Wasserstein ------------------------------------------------------------------------------

@st.cache_data(max_entries=4, show_spinner=False)
def distance_curves(shape: str) -> pd.DataFrame:
    """JS(θ) and W₁(θ) over the shift grid THETAS."""
    cdf = concepts.SHAPES[shape]
    p = concepts.cell_masses(cdf, W_EDGES)
    js = [concepts.js_divergence(p, concepts.cell_masses(cdf, W_EDGES, th)) for th in THETAS]
    w1 = [concepts.wasserstein1(cdf(W_EDGES), cdf(W_EDGES - th), W_DX) for th in THETAS]
    return long(THETAS, {"JS (nats)": np.array(js), "W₁": np.array(w1)})


@state.fragment
def wasserstein() -> None:
    init_state()
    controls, left, right = st.columns([1, 1.3, 1.3])
    shape = controls.radio("P and Q: one shape", list(concepts.SHAPES), key="concepts.shape", bind="query-params")
    theta = controls.slider("Shift θ of Q", 0.0, 3.0, step=0.05, key="concepts.theta", bind="query-params")
    cdf = concepts.SHAPES[shape]
    p, q = concepts.cell_masses(cdf, W_EDGES), concepts.cell_masses(cdf, W_EDGES, theta)
    cdf_p, cdf_q = cdf(W_EDGES), cdf(W_EDGES - theta)
    js, w1 = concepts.js_divergence(p, q), concepts.wasserstein1(cdf_p, cdf_q, W_DX)
    f = concepts.optimal_critic(cdf_p, cdf_q, W_DX)
    dual = concepts.dual_value(p, q, f)
    closed = (f" (closed form (θ/1)·log 2 = {concepts.js_uniform_shift(theta):.4f})"
              if shape.startswith("uniform") else "")
    controls.markdown(f"JS = **{js:.4f}** nats = {js / concepts.LOG2:.3f} × log 2{closed}  \n"
                      f"W₁ = **{w1:.4f}** = θ  \n"
                      f"E_P[f] − E_Q[f] = **{dual:.4f}** with the critic f drawn")
    if theta >= 1:
        controls.caption("The supports no longer overlap: JS is stuck at log 2 and its gradient in θ "
                         "is 0, so a GAN's generator moving Q learns nothing; W₁ still says how far.")
    # plotted on coarser cells (W_PLOT_STEP grid cells each): densities as mass / width, f at their centres
    xs = W_EDGES[:-1:W_PLOT_STEP] + W_DX * W_PLOT_STEP / 2
    dens = {"P": p.reshape(-1, W_PLOT_STEP).sum(1) / (W_DX * W_PLOT_STEP),
            "Q": q.reshape(-1, W_PLOT_STEP).sum(1) / (W_DX * W_PLOT_STEP),
            "critic f": f[W_PLOT_STEP // 2::W_PLOT_STEP][:len(xs)]}
    names = list(dens)
    x = axis("x", "x", domain=[-0.5, 4.5])
    with left:
        chart([line("dens", x, axis("y", None, domain=[-0.2, 4.2]),
                    color=colour(names, [COLORS[0], COLORS[1], "#333333"]),
                    interpolate="step")],
              {"dens": long(xs, dens)}, "concepts.w_dens",
              title="P, Q and the best 1-Lipschitz critic f")
    col = colour(["JS (nats)", "W₁"], [COLORS[2], COLORS[3]])
    with right:
        chart([line("curves", axis("x", "shift θ"), axis("y", None), color=col),
               {"data": {"values": [{"y": concepts.LOG2}]},
                "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#777"},
                "encoding": {"y": {"field": "y", "type": "quantitative"}}},
               marker()],
              {"curves": distance_curves(shape), "marker": at(theta)}, "concepts.w_curves",
              title="JS stops at log 2 (dashed); W₁ grows")


def wasserstein_maths() -> None:
    eq, prose = st.columns([1.2, 1])
    eq.latex(r"\mathrm{JS}(P,Q) = \tfrac12\mathrm{KL}(P\,\|\,M) + \tfrac12\mathrm{KL}(Q\,\|\,M)")
    eq.latex(r"W_1(P,Q) = \inf_{\gamma\in\Pi(P,Q)}\mathbb E_{(x,y)\sim\gamma}|x-y| = "
             r"\int|F_P - F_Q|\,dx")
    eq.latex(r"W_1(P,Q) = \sup_{\|f\|_L\le1}\ \mathbb E_P[f] - \mathbb E_Q[f]")
    prose.markdown("With M = ½(P + Q), the mixture. A GAN's discriminator at its best makes G "
                   "minimize JS. But once P and Q do not "
                   "overlap, JS = log 2 however far apart they are: no gradient tells G which way "
                   "to move. W₁, the cost of carrying P's mass onto Q's, grows with θ. By the "
                   "Kantorovich–Rubinstein duality it is a sup over 1-Lipschitz critics; in 1-D "
                   "the best has slope ±1 where the CDFs differ, f′ = sign(F_Q − F_P). WGAN trains "
                   "a network to play f (the notes' WGAN chapter).")
    state.page_link("pages/gans.py", label="GANs: WGAN-GP's critic", icon=":material/compare:",
                    where=prose)


# --- 5. change of variables ---------------------------------------------------------------------------

@st.cache_data(max_entries=4, show_spinner=False)
def normal_samples(seed: int) -> np.ndarray:
    return rng(seed, 5).standard_normal(PUSHED)


@state.fragment
def change_of_variables() -> None:
    init_state()
    controls, left, right = st.columns([1, 1.1, 1.5])
    name = controls.radio("Monotone map f", list(concepts.MAPS), key="concepts.map", bind="query-params",
                          format_func=lambda m: concepts.MAPS[m].label)
    fmap = concepts.MAPS[name]
    a = controls.slider("Shape a", fmap.lo, fmap.hi, step=0.05, key=f"concepts.a.{name}", bind="query-params")
    total, without = concepts.x_integrals(fmap, a)
    controls.markdown(f"∫ p_x dx = **{total:.4f}**  \n"
                      f"without the factor |df⁻¹/dx|: ∫ p_z(f⁻¹(x)) dx = **{without:.4f}**: "
                      "not a density")
    z = np.linspace(-3, 3, 121)
    with left:
        chart([line("map", axis("x", "z ~ N(0, 1)"), axis("y", "x = f(z)"), fixed=COLORS[0])],
              {"map": pd.DataFrame({"x": z, "y": fmap.forward(z, a)})}, "concepts.cov_map",
              title="The map x = f(z)")
    lo, hi = (float(v) for v in fmap.forward(np.array([-3.0, 3.0]), a))
    pushed = fmap.forward(normal_samples(st.session_state["concepts.seed"]), a)
    centres, density = concepts.density_histogram(pushed, lo, hi, PUSH_BINS)
    width = (hi - lo) / PUSH_BINS
    xs = np.linspace(lo, hi, 302)[1:-1]
    with right:
        chart([{"data": {"name": "bars"}, "mark": {"type": "rect", "opacity": 0.5, "color": COLORS[0]},
                "encoding": {"x": axis("x0", "x"), "x2": {"field": "x1"}, "y": axis("y", "density"),
                             "y2": {"datum": 0}}},
               line("px", axis("x", None), axis("y", None), fixed=MARKER)],
              {"bars": pd.DataFrame({"x0": centres - width / 2, "x1": centres + width / 2, "y": density}),
               "px": pd.DataFrame({"x": xs, "y": concepts.pushforward_density(fmap, xs, a)})},
              "concepts.cov_hist",
              title=f"{PUSHED:,} samples x = f(z); red: p_x")


def change_of_variables_maths() -> None:
    eq, prose = st.columns([1.2, 1])
    eq.latex(r"p_x(x) = p_z\big(f^{-1}(x)\big)\,\Big|\frac{d f^{-1}}{dx}\Big| = "
             r"\frac{p_z(z)}{|f'(z)|},\quad z = f^{-1}(x)")
    eq.latex(r"\log p_x(x) = \log p_z\big(f^{-1}(x)\big)"
             r" + \log\Big|\det\frac{\partial f^{-1}}{\partial x}\Big|")
    prose.markdown("f is a **diffeomorphism** of the line (smooth, invertible, with a smooth "
                   "inverse; the notes' chapter on latent spaces). The probability in [z, z + dz] "
                   "lands in [x, x + dx], so the density scales by dz/dx: where f stretches it "
                   "thins, where f squeezes it piles up (σ(az) piles mass at 0 and 1 once "
                   "a > √2). A normalizing flow is such an f in many dimensions, built so the "
                   "Jacobian determinant is cheap; its log-likelihood is the second line.")
    state.page_link("pages/flows.py", label="Normalizing flows: the same formula for images",
                    icon=":material/swap_horiz:", where=prose)


# --- the page ---------------------------------------------------------------------------------------

SECTIONS = [
    ("information", "Information, entropy, cross-entropy, KL"),
    ("markov", "Markov chains and the stationary distribution"),
    ("sde", "Random walk → Brownian motion → SDE"),
    ("wasserstein", "Why Wasserstein"),
    ("change-of-variables", "Change of variables"),
]

state.page_setup()
init_state()
st.title("Foundations: the ideas under the models")
st.caption("Five ideas the study notes build the models on, each on the notes' own examples, with "
           "its equation beside it. Every number is computed here (genlab/concepts.py) and pinned "
           "to its closed form by a test. "
           + " · ".join(f"[{i}. {title}](#{anchor})" for i, (anchor, title) in enumerate(SECTIONS, 1)))
inputs.seed("Seed (this page's simulations)", "concepts.seed", st.sidebar)

section(1, SECTIONS[0][1], SECTIONS[0][0])
st.markdown("A coin with P(heads) = p, and a model of it with P(heads) = q. The page opens on the "
            "notes' example: a fair coin modelled as a 2:8 coin.")
coins()
if not components.below_the_fold("concepts"):
    state.stop()
coins_maths()
st.subheader("Two Gaussians: the VAE's KL term")
gaussians()
gaussians_maths()

section(2, SECTIONS[1][1], SECTIONS[1][0])
st.markdown("The notes' restaurant serves a burger, a pizza or a hot dog each day; tomorrow's dish "
            "depends only on today's. Day 0 serves pizza. Edit the matrix to try another chain.")
markov()
markov_maths()

section(3, SECTIONS[2][1], SECTIONS[2][0])
st.markdown("Many walkers each step up or down by √Δt at every tick Δt.")
random_walk()
random_walk_maths()
st.subheader("The diffusion SDE, forward and reverse")
sde()
sde_maths()

section(4, SECTIONS[3][1], SECTIONS[3][0])
st.markdown("Two copies of one distribution; drag Q away from P.")
wasserstein()
wasserstein_maths()

section(5, SECTIONS[4][1], SECTIONS[4][0])
st.markdown("Push z ~ N(0, 1) through an increasing map x = f(z): what is the density of x?")
change_of_variables()
change_of_variables_maths()
