"""/gans: MLP GAN, DCGAN, WGAN-GP and GAN-QP side by side: one z through every generator (with VAE
and diffusion samples for reference), training replay, latent walks, and diagnostics (class
histograms against mode collapse, nearest training images, the discriminator's scores)."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from plotly.subplots import make_subplots

from genlab import data, metrics, sample
from genlab.families import gan
from genlab.images import file_name, grid, upscale
from genlab_ui import ahead, components, inputs, loaders, state
from genlab_ui.components import CLASS_COLORS, csv_download, figure, gif_download, walk_figure, warm_figure

QUALITY_N = 1000  # samples per variant where its card has no evaluation (computed here)
CARD_QUALITY = ("fd", "precision", "recall", "class_entropy_bits", "class_histogram", "quality_n")
NEIGHBOURS = 5  # nearest training images shown per picked sample


def init_state() -> None:
    for key, value in {"gans.seed": 0, "gans.n": 16, "gans.diffusion": False,
                       "gans.walk_a": 0, "gans.walk_b": 1, "gans.walk_k": 10,
                       "gans.walk_method": "spherical", "gans.diag_seed": 0,
                       "gans.picks": [0, 1, 2, 3]}.items():
        st.session_state.setdefault(key, value)


def name_of(folder: str) -> str:
    return folder.rsplit("/", 1)[-1]


def ncol(n: int) -> int:
    return int(np.ceil(np.sqrt(n)))


@st.cache_data(max_entries=64, show_spinner=False)
def scored_samples(folder: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n samples of a GAN for a seed, uint8 (n, 28, 28), and D's score of each (n,)."""
    images = loaders.samples(folder, n, seed)
    model = loaders.load_checkpoint(folder).model
    return images, loaders.torch_call(gan.discriminator_scores, model, data.to_float(images)).numpy()


@st.cache_data(max_entries=32, show_spinner=False)
def walk(folder: str, seed_a: int, seed_b: int, k: int, method: str) -> np.ndarray:
    """G along the path from z_a (seed_a) to z_b (seed_b): uint8 (k, 28, 28)."""
    model = loaders.load_checkpoint(folder).model
    dim = model.config.noise_dim
    z_a, z_b = (gan.gan_noise(dim, 1, sample.generator(s))[0] for s in (seed_a, seed_b))
    return loaders.torch_call(_generate, model, sample.interpolate(z_a, z_b, k, method))


@torch.inference_mode()
def _generate(model, z: torch.Tensor) -> np.ndarray:
    return sample.to_uint8(model.generate(z))


@st.cache_data(max_entries=4, show_spinner=False)
def real_features(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The evaluation classifier's features and predicted classes of the first 1,000 held-out
    images (computed once, not once per model: 1.5 s each on a busy core)."""
    real, _ = loaders.bundled(dataset)
    return metrics.classify(loaders.classifier(dataset), real[:QUALITY_N])


@st.cache_data(max_entries=8, show_spinner="Classifying 1,000 samples…")
def quality(folder: str, dataset: str) -> dict:
    """FD, precision/recall, class entropy and histogram of 1,000 samples (seed 0) against
    the first 1,000 bundled held-out images, in the evaluation classifier's features (for a
    checkpoint whose card has no evaluation)."""
    f_real, _ = real_features(dataset)
    f_fake, predicted = metrics.classify(loaders.classifier(dataset), loaders.samples(folder, QUALITY_N, 0))
    precision, recall = metrics.precision_recall(f_real, f_fake)
    return {"fd": metrics.frechet_distance(f_real, f_fake), "precision": precision, "recall": recall,
            "class_entropy_bits": metrics.class_entropy_bits(predicted),
            "class_histogram": np.bincount(predicted, minlength=10).tolist(), "quality_n": QUALITY_N,
            "reference": {"class_histogram": np.bincount(real_features(dataset)[1], minlength=10).tolist(),
                          "sets": f"holdout[:{QUALITY_N}]"}}


def evaluation(folder: str) -> dict:
    """A GAN's FD, precision/recall and class histogram: its card's (``genlab eval``: 2,000
    samples, no wait on the page) or, where the card has none, computed here on 1,000."""
    card = gans[folder]["metrics"]
    if all(k in card for k in CARD_QUALITY):
        return card
    return quality(folder, dataset)


@st.cache_data(max_entries=32, show_spinner=False)
def nearest(dataset: str, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per image: the nearest bundled training images (indices (Q, k), distances (Q, k)) and
    the distance to the nearest held-out image (Q,)."""
    train, _ = loaders.bundled(dataset, "train")
    held, _ = loaders.bundled(dataset)
    idx, dist = metrics.nearest_images(images, train, NEIGHBOURS)
    return idx, dist, metrics.nearest_images(images, held, 1)[1][:, 0]


@st.cache_data(max_entries=8, show_spinner=False)
def held_out_scores(folder: str, dataset: str, n: int = 500) -> float:
    """D's mean score on the first n bundled held-out images."""
    real, _ = loaders.bundled(dataset)
    model = loaders.load_checkpoint(folder).model
    return float(gan.discriminator_scores(model, data.to_float(real[:n])).mean())


CRITICS = ("wgan-gp", "gan-qp")  # losses whose D is a critic: raw scores, only differences matter
GAP_KEY = {"wgan-gp": "w_estimate", "gan-qp": "d_gap"}  # the logged and carded E D(x) − E D(G(z))
GAP_MEANING = {"wgan-gp": "estimates the Wasserstein-1 distance",
               "gan-qp": "is GAN-QP's divergence estimate (bounded by λ times the pairs' distance)"}


def score_note(folder: str, scores: np.ndarray) -> str:
    """How to read D's scores of these samples: for a critic, against held-out images."""
    loss = gans[folder]["config"]["loss"]
    if loss not in CRITICS:
        return "Near ½: D cannot tell; near 0: D is sure it is fake."
    real = held_out_scores(folder, dataset)
    card, key = gans[folder]["metrics"], GAP_KEY[loss]
    from_card = (f" Its card's estimate, on {card.get('n', 2000):,} held-out images and as many "
                 f"samples: {card['d_holdout']:.2f} − {card['d_samples']:.2f} = "
                 f"{card[key]:.2f}." if key in card else "")
    return ("Only differences of critic values mean something: 500 held-out images average "
            f"{real:.2f}, these 16 samples {scores.mean():.2f}; the gap, {real - scores.mean():.2f}, "
            f"{GAP_MEANING[loss]}.{from_card}")


def score_label(loss: str) -> str:
    return "critic value D(x)" if loss in CRITICS else "D(x) = P(real)"


@st.cache_data(show_spinner=False)
def maths_figure() -> go.Figure:
    """Left: the two generator losses against D(G(z)). Right: JS and W1 between two point
    masses δ_0 and δ_θ (Arjovsky et al. 2017, example 1)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "generator losses vs D(G(z))", "δ₀ against δ_θ: JS saturates, W₁ does not"))
    d = np.linspace(0.001, 0.999, 300)
    fig.add_trace(go.Scatter(x=d, y=np.log(1 - d), name="minimax  log(1 − D)"), row=1, col=1)
    fig.add_trace(go.Scatter(x=d, y=-np.log(d), name="non-saturating  −log D"), row=1, col=1)
    theta = np.linspace(-1, 1, 201)
    fig.add_trace(go.Scatter(x=theta, y=np.where(np.isclose(theta, 0), 0.0, np.log(2)), name="JS(δ₀, δ_θ)",
                             mode="markers", marker={"size": 3}), row=1, col=2)
    fig.add_trace(go.Scatter(x=theta, y=np.abs(theta), name="W₁(δ₀, δ_θ) = |θ|"), row=1, col=2)
    fig.update_xaxes(title_text="D(G(z))", row=1, col=1)
    fig.update_xaxes(title_text="θ", row=1, col=2)
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


CURVE_POINTS = 150  # per series on the replay's loss charts: their SVG travels with every step


@st.cache_data(max_entries=16, show_spinner=False)
def loss_rows(folder: str, loss: str) -> dict[str, list[dict]]:
    """The training log in long form per panel: losses, and D's view (P(real) on real /
    generated images, or the Wasserstein estimate)."""
    log = loaders.train_log(folder)
    stride = max(1, -(-len(log) // CURVE_POINTS))  # every stride-th logged row, and the last
    log = [row for i, row in enumerate(log) if i % stride == 0 or i == len(log) - 1]
    panels = {"losses": ["d_loss", "g_loss"],
              "view": [GAP_KEY[loss]] if loss in CRITICS else ["d_real", "d_fake"]}
    return {panel: [{"step": row["step"], "series": key, "value": row[key]}
                    for key in keys for row in log if row.get(key) is not None]
            for panel, keys in panels.items()}


def loss_charts(folder: str, loss: str, step: int) -> None:
    """The two panels as pictures (SVG drawn here): a snapshot step then swaps two images instead
    of redrawing two Vega-Lite charts, and the page needs no chart library for them."""
    for svg in loss_svgs(folder, loss, step):
        st.image(svg, width="stretch")


def loss_svgs(folder: str, loss: str, step: int) -> list[str]:
    """The two panels' SVG documents, with the red rule at ``step``."""
    rows = loss_rows(folder, loss)
    xmax = max(r["step"] for r in rows["losses"])
    right = {"wgan-gp": "Wasserstein estimate", "gan-qp": "critic gap E D(x) − E D(G(z))"}.get(
        loss, "D's mean P(real): real, generated")
    return [curve_svg(title, rows[panel], step, xmax, rule_y)
            for panel, title, rule_y in [("losses", "losses", None), ("view", right, None if loss in CRITICS else 0.5)]]


def curve_svg(title: str, rows: list[dict], step: int, xmax: int, rule_y: float | None) -> str:
    """``rows`` (long form: step, series, value) as a line chart with a red rule at ``step``."""
    names = list(dict.fromkeys(r["series"] for r in rows))
    series = {name: np.array([r["value"] for r in rows if r["series"] == name]) for name in names}
    x = np.array([r["step"] for r in rows if r["series"] == names[0]])
    values = np.concatenate(list(series.values()) + ([np.array([rule_y])] if rule_y is not None else []))
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo) or 0.5
    return components.svg_line_chart(x, series, ["#1f77b4", "#ff7f0e"], title=title, x_title="training step",
                                     y_title="", y_domain=(lo - pad, hi + pad), x_domain=(0, xmax),
                                     marker=step, hline=rule_y, width=560, height=230)


def show_maths() -> None:
    box, draw = components.lazy_expander("The maths this page implements", "gans.maths")
    if draw:
        with box:
            st.markdown("**The minimax game** (Goodfellow et al. 2014): D is a classifier, G a sampler.")
            st.latex(r"\min_G\max_D\ V(D,G) = \mathbb{E}_{x\sim p_{\text{data}}}[\log D(x)] + "
                     r"\mathbb{E}_{z\sim\mathcal{N}(0,I)}[\log(1 - D(G(z)))]")
            st.markdown("For a fixed G the best discriminator and the value of the game are")
            st.latex(r"D^*(x) = \frac{p_{\text{data}}(x)}{p_{\text{data}}(x) + p_G(x)},\qquad "
                     r"V(D^*, G) = -\log 4 + 2\,\mathrm{JS}(p_{\text{data}}\,\|\,p_G)")
            st.markdown(
                "so training G against an optimal D minimises the Jensen–Shannon divergence, and at "
                "the end D = ½ everywhere (D's loss −V = log 4 ≈ 1.386). **Why it saturates:** "
                "images lie near low-dimensional manifolds, and the supports of p_data and p_G are "
                "almost surely disjoint early on. Then a perfect D exists, JS = log 2 whatever the "
                "distance between the two (right plot), and log(1 − D(G(z))) is flat where D rejects "
                "the samples (left plot): G's gradient vanishes. In practice G minimises the "
                "non-saturating −log D(G(z)) instead, steep exactly there (genlab.models.gan."
                "g_nonsaturating_loss), which trains but can oscillate and drop modes.")
            st.plotly_chart(maths_figure(), width="stretch", key="gans.maths_fig")
            st.markdown("**Wasserstein-1** (Arjovsky et al. 2017) measures how far mass must move, "
                        "and by the Kantorovich–Rubinstein duality it is a sup over 1-Lipschitz critics:")
            st.latex(r"W_1(p_{\text{data}}, p_G) = \inf_{\gamma\in\Pi(p_{\text{data}}, p_G)}"
                     r"\mathbb{E}_{(x,y)\sim\gamma}\|x-y\| = \sup_{\|f\|_L\le 1}\ "
                     r"\mathbb{E}_{x\sim p_{\text{data}}}[f(x)] - \mathbb{E}_{z}[f(G(z))]")
            st.markdown("The critic D (no sigmoid) plays f; its score gap is the **Wasserstein estimate** "
                        "logged during training. WGAN-GP (Gulrajani et al. 2017) keeps D near "
                        "1-Lipschitz with a **gradient penalty** on points between real and generated "
                        "images, and takes n_critic = 5 critic steps per G step:")
            st.latex(r"L_D = \mathbb{E}_{z}[D(G(z))] - \mathbb{E}_{x}[D(x)] + "
                     r"\lambda\,\mathbb{E}_{\hat x}\big[(\|\nabla_{\hat x} D(\hat x)\|_2 - 1)^2\big],"
                     r"\quad \hat x = \varepsilon x + (1-\varepsilon)G(z),\ "
                     r"\varepsilon\sim U[0,1],\ \lambda = 10")
            st.latex(r"L_G = -\mathbb{E}_{z}[D(G(z))]")
            st.markdown("**GAN-QP** (Su 2018, the notes' GAN without a Lipschitz constraint) pairs each "
                        "real image x with a generated x̃ = G(z) and lets the critic's gap grow only in "
                        "proportion to their distance d(x, x̃) = mean |x − x̃|, through a quadratic "
                        "potential instead of a constraint on D:")
            st.latex(r"\max_D\ \mathbb{E}_{x,z}\Big[D(x) - D(	ilde x) - "
                     r"rac{(D(x) - D(	ilde x))^2}{2\lambda\, d(x, 	ilde x)}\Big],\qquad "
                     r"\min_G\ \mathbb{E}_{x,z}[D(x) - D(	ilde x)],\quad 	ilde x = G(z),\ \lambda = 10")
            st.markdown("For one pair the best gap is λ·d(x, x̃) (the vertex of the quadratic), so D "
                        "stays finite without clipping, penalty or normalisation, and G's gradient "
                        "does not vanish where the two distributions do not overlap.")
            st.caption("Code: genlab/models/gan.py (G, D); genlab/families/gan.py (the losses, the "
                       "gradient penalty, gan_step, wgan_gp_step, gan_qp_step: (1) update D, (2) update G). "
                       "Batch norm would make a sample's critic value depend on its batch, so the "
                       "WGAN-GP critic uses layer norm.")


state.page_setup()
init_state()
st.title("GANs side by side")
dataset = st.session_state["dataset"]
classes = loaders.class_names(dataset)
st.caption("A generator G turns noise z ∈ ℝ⁹⁶ into an image; a discriminator D learns to tell "
           "real from generated. The variants on the same z: a fully connected GAN, DCGAN "
           "(convolutional), WGAN-GP (a Wasserstein critic with a gradient penalty) and GAN-QP "
           "(a critic held in check by a quadratic potential instead of a Lipschitz constraint).")
show_maths()

gan_rows = loaders.models_for(dataset, "gan")
for row in gan_rows:
    if row["error"]:
        st.error(f"{name_of(row['folder'])}: {row['error']}", icon="⚠️")
gans = {row["folder"]: row["card"] for row in gan_rows
        if row["card"] and loaders.try_load(row["folder"]) is not None}
if not gans:
    st.info(f"No GAN checkpoint for {dataset} is installed yet. Train them with, e.g., "
            f"{loaders.train_command(dataset, 'dcgan')} (also `gan-mlp`, "
            "`wgan-gp` and `gan-qp`); the comparison, training replay, latent walks and diagnostics "
            "appear here once `checkpoints/<dataset>/<name>/` holds them.")
    state.stop()


def reference_folder(family: str, prefer: str) -> str | None:
    rows = [r for r in loaders.models_for(dataset, family) if r["card"]]
    if not rows:
        return None
    return next((r["folder"] for r in rows if name_of(r["folder"]) == prefer), rows[0]["folder"])


# the replay and the diagnostics open on the variant with the lowest FD on its card (the
# clearest samples; the side-by-side row keeps the registry's order, simplest first)
best_first = sorted(gans, key=lambda f: gans[f]["metrics"].get("fd", float("inf")))

# the reference rows beside the GANs, found once per page run (the seed's fragment reruns
# alone at every click and reads them from here)
ddpm_reference, vae_reference = reference_folder("ddpm", "ddpm"), reference_folder("vae", "vae-16d")


@state.fragment
def side_by_side() -> None:
    """The row's controls and pictures (its title and caption, which never change, are outside:
    a seed step sends only what it changes)."""
    c = st.columns([1, 2, 3])
    seed = inputs.seed("Seed", "gans.seed", c[0])
    n = c[1].select_slider("Images", [16, 36, 64], key="gans.n", bind="query-params")
    ddpm, vae = ddpm_reference, vae_reference
    with_diffusion = c[2].checkbox("Add DDPM samples (DDIM-50, seconds per seed)", key="gans.diffusion",
                                   bind="query-params",
                                   disabled=ddpm is None,
                                   help=None if ddpm else f"no DDPM checkpoint for {dataset} is installed")
    panels = [(folder, card["name"]) for folder, card in gans.items()]
    panels += [(vae, f"{name_of(vae)} (reference)")] if vae else []
    panels += [(ddpm, "DDPM (reference)")] if ddpm and with_diffusion else []
    scale = 2 if n <= 36 else 1
    shown, captions = row_pictures(panels, n, seed)
    # one element for the row: a seed step then sends three messages, not three per grid
    components.figure_row(shown, captions, file_name(dataset, "gans-row", f"{n}-samples", f"seed{seed}", ext="png"),
                          scale=scale, key="dl.gans.row")
    if not with_diffusion and components.first_screen_painted("gans"):  # the neighbouring seeds' rows
        # (milliseconds; DDPM's take seconds), for the browser to show the moment the slider moves
        near = [s for s in (seed - 1, seed + 1) if 0 <= s <= inputs.SEED_MAX]
        frames = {seed: list(zip((upscale(g, scale) for g in shown), captions))}
        for s in near:
            grids, texts = row_pictures(panels, n, s)
            frames[s] = list(zip((upscale(g, scale) for g in grids), texts))
        components.instant_frames("gans.seed", "dl.gans.row-figure-row", seed, frames, key="instant.gans.seed")
        # and the seeds two steps away, after this run, on the background thread (the browser
        # paints this row with the cores free), so that the next step's run finds them ready
        ahead.later(ahead.session_name("gans.row"), lambda: warm_rows(panels, n, seed, scale))


def warm_rows(panels: list[tuple[str, str]], n: int, seed: int, scale: int) -> None:
    """The rows of seeds seed ± 1 and ± 2, drawn and encoded into the caches a step reads (the
    row's data URLs and the instant frames' files)."""
    for s in (seed + 1, seed - 1, seed + 2, seed - 2):
        if 0 <= s <= inputs.SEED_MAX:
            for image in row_pictures(panels, n, s)[0]:
                warm_figure(image, scale)
                components.frame_url(upscale(image, scale))


def row_pictures(panels: list[tuple[str, str]], n: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    """The row's grids at their own size and their captions, for ``seed``."""
    shown, captions = [], []
    for folder, title in panels:
        if folder in gans:
            images, scores = scored_samples(folder, n, seed)
            note = f"mean {score_label(gans[folder]['config']['loss'])} = {scores.mean():.2f}"
        elif not loaders.try_load(folder):
            continue
        elif folder == ddpm_reference:  # seconds per seed; the VAE's decoder takes a millisecond,
            with st.spinner(f"Sampling {title}…"):  # and a spinner costs a thread start
                images = loaders.samples(folder, n, seed)
            note = "its own noise from the same seed"
        else:
            images = loaders.samples(folder, n, seed)
            note = "its own noise from the same seed"
        shown.append(grid(images, ncol=ncol(n)))
        captions.append(f"{title} · seed {seed} · {note}")
    return shown, captions


def snapshot_caption(folder: str, snaps: dict, step: int) -> str:
    return (f"{name_of(folder)} at step {step:,}: the same {snaps['images'].shape[1]} z "
            f"(seed {snaps['seed']}) at every snapshot")


def snapshot_grid(folder: str, snaps: dict, step: int) -> None:
    i = snaps["steps"].tolist().index(step)
    figure(grid(snaps["images"][i], ncol=8), snapshot_caption(folder, snaps, step),
           file_name(loaders.model_id(folder), "training", f"step{step}", ext="png"),
           key=f"dl.gans.replay.{loaders.model_id(folder)}")
    gif_download([grid(frame, ncol=8) for frame in snaps["images"]],
                 file_name(loaders.model_id(folder), "training-replay", ext="gif"), ms=400)


@state.fragment
def replay() -> None:
    c = st.columns([1, 3])
    folder = state.persistent_choice("Variant", best_first, "gans.replay", where=c[0], format_func=name_of,
                                     url="replay", help="Ordered by FD on the card, lowest first.", radio=False)
    snaps = loaders.snapshots(folder)
    if snaps is None:
        st.info(f"{name_of(folder)} has no training snapshots (snapshots.npz): it was trained "
                "before genlab recorded them.")
        return
    steps = snaps["steps"].tolist()
    if st.session_state.get("gans.snapshot") not in steps:
        st.session_state["gans.snapshot"] = steps[-1]
    step = c[1].select_slider("Snapshot (training step)", steps, key="gans.snapshot", bind="query-params",
                              format_func=lambda s: f"{s:,}")
    loss, log = gans[folder]["config"]["loss"], loaders.train_log(folder)
    with st.container(key="gans-replay-frames"):
        left, right = st.columns([1, 1.5])
        with left:
            snapshot_grid(folder, snaps, step)
        with right:
            if log:
                loss_charts(folder, loss, step)
                st.caption(f"Losses are running averages, logged every 100 steps (at most {CURVE_POINTS} "
                           "points drawn per curve). The red line marks "
                           "the snapshot. A BCE discriminator at equilibrium sits at P(real) = ½ on "
                           "both sets and loss log 4 ≈ 1.39; a WGAN critic's estimate (and GAN-QP's "
                           "gap) falls as G closes the distance.")
            else:
                st.info("No training log (train_log.json) beside this checkpoint.")
    if log:  # the neighbouring snapshots, for the browser to show the moment the slider moves
        i = steps.index(step)
        components.instant_frames(
            "gans.snapshot", "gans-replay-frames", i,
            {j: [(upscale(grid(snaps["images"][j], ncol=8), 2), snapshot_caption(folder, snaps, steps[j])),
                 *((svg, None) for svg in loss_svgs(folder, loss, steps[j]))]
             for j in range(max(0, i - 2), min(len(steps), i + 3))},
            key="instant.gans.snapshot")


@state.fragment
def latent_walk() -> None:
    c = st.columns([1, 1, 2, 2])
    a = inputs.seed("Seed A", "gans.walk_a", c[0])
    b = inputs.seed("Seed B", "gans.walk_b", c[1])
    k = c[2].slider("Steps k", 3, 16, key="gans.walk_k", bind="query-params")
    method = c[3].radio("Path", ["linear", "spherical"], key="gans.walk_method", bind="query-params", horizontal=True,
                        help="linear: (1−t)·z_a + t·z_b;  spherical: slerp, keeps the norm of z")
    for folder in gans:
        walk_figure(walk(folder, a, b, k, method), f"{name_of(folder)}: G(z) along the {method} path, "
                    f"seed {a} → seed {b}", (loaders.model_id(folder), f"{method}-walk", f"seed{a}-to-{b}"))
    dim = next(iter(gans.values()))["config"]["noise_dim"]
    z_a, z_b = (gan.gan_noise(dim, 1, sample.generator(s))[0] for s in (a, b))
    norms = sample.interpolate(z_a, z_b, k, method).norm(dim=1)
    st.caption(f"‖z‖ along the path: {norms[0]:.1f} → {norms[k // 2]:.1f} (middle) → "
               f"{norms[-1]:.1f}. A 96-D Gaussian sample has ‖z‖ ≈ √96 ≈ 9.8; the middle of a "
               "linear path is shorter, in a region G rarely saw; the spherical path keeps the norm.")


def class_histograms() -> None:
    st.subheader("Mode collapse: classes of the samples")
    if loaders.classifier(dataset) is None:
        st.info(f"The evaluation classifier (checkpoints/{dataset}/classifier) is not installed.")
        return
    stats = {folder: evaluation(folder) for folder in gans}
    reference = next(iter(stats.values()))["reference"]
    real = np.asarray(reference["class_histogram"])
    real_name = "real images" if "train" in reference.get("sets", "") else "held-out images"
    fig = go.Figure(go.Bar(x=classes, y=real / real.sum(), name=f"{real.sum():,} {real_name}",
                           marker_color="#444444"))
    for (folder, s), color in zip(stats.items(), CLASS_COLORS):
        hist = np.asarray(s["class_histogram"])
        fig.add_trace(go.Bar(x=classes, y=hist / hist.sum(), name=name_of(folder), marker_color=color))
    fig.update_xaxes(type="category")  # MNIST's class names "0"…"9" are not numbers
    fig.update_layout(barmode="group", height=340, yaxis_title="share", yaxis_tickformat=".0%",
                      margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "y": -0.15})  # clear of Plotly's toolbar
    st.plotly_chart(fig, width="stretch", key="gans.hist")
    # a static table, cheaper for the browser at every rerun than an interactive dataframe;
    # FD depends on the number of samples, so the sample count stands beside every FD
    table = {"model": [], "samples": [], "FD ↓": [], "class entropy (bits)": [], "precision": [],
             "recall": []}
    for folder, s in stats.items():
        for key, value in zip(table, (name_of(folder), f"{s['quality_n']:,}", f"{s['fd']:.1f}",
                                      f"{abs(s['class_entropy_bits']):.2f}",
                                      f"{s['precision']:.2f}", f"{s['recall']:.2f}")):
            table[key].append(value)
    st.table(table)
    csv_download([dict(zip(table, row)) for row in zip(*table.values())],
                 file_name(dataset, "gans-sample-quality", ext="csv"))
    real_bits = metrics.class_entropy_bits(np.repeat(np.arange(10), real))
    counts = sorted({s["quality_n"] for s in stats.values()})
    source = ("from each model's card (`python -m genlab eval`: seed 0, against 2,000 held-out "
              "images), as in the model zoo" if all(s is gans[f]["metrics"] for f, s in stats.items())
              else f"(seed 0) against the first {QUALITY_N:,} held-out images, computed on this page "
                   "where a card has no evaluation")
    st.caption(f"{' or '.join(f'{n:,}' for n in counts)} samples per model {source}, classified by "
               "the shipped evaluation classifier; FD and precision/recall in its penultimate "
               "features. FD falls as the sample grows (its estimate is biased upwards at small "
               "n): compare FDs only at the same n. A collapsed GAN piles its samples on a few "
               f"classes: its class entropy falls below the real images' {real_bits:.2f} bits "
               "(log₂ 10 = 3.32 is uniform).")


@state.fragment
def picked_samples() -> None:
    c = st.columns([1.3, 1, 3])
    folder = state.persistent_choice("Variant", best_first, "gans.diag_variant", where=c[0],
                                     format_func=name_of, url="variant", radio=False,
                                     help="Ordered by FD on the card, lowest first.")
    seed = inputs.seed("Seed", "gans.diag_seed", c[1])
    images, scores = scored_samples(folder, 16, seed)
    picks = c[2].multiselect("Samples (numbered row by row from 0)", list(range(16)), key="gans.picks",
                             bind="query-params")
    loss = gans[folder]["config"]["loss"]
    left, right = st.columns([1, 2])
    figure(grid(images, ncol=4), f"{name_of(folder)}, 16 samples, seed {seed}",
           file_name(loaders.model_id(folder), "16-samples", f"seed{seed}", ext="png"), scale=3, where=left,
           key="gans.diag.png")  # the side-by-side row can show the same grid
    right.table({f"column {j}": [f"{v:.3f}" for v in scores[j::4]] for j in range(4)})
    right.caption(f"{score_label(loss)} of each sample, laid out like the grid. "
                  + score_note(folder, scores))
    if not picks:
        return
    if dataset not in data.DATASETS:
        st.info("The nearest training images need the training set: for a folder of your images the app "
                "keeps only the held-out part, so this memorization check is off.")
        return
    train, _ = loaders.bundled(dataset, "train")
    idx, dist, held = nearest(dataset, images[picks])
    # one strip per pick (the sample, then its neighbours): a handful of elements instead of
    # dozens, because every element on the page costs the browser time at each rerun
    for p, row_idx, row_dist, d_held in zip(picks, idx, dist, held):
        left, right = st.columns([3, 2])
        figure(grid(np.concatenate([images[p:p + 1], train[row_idx]]), ncol=1 + NEIGHBOURS, pad=4, value=255),
               f"#{p} (D {scores[p]:.2f}), then its {NEIGHBOURS} nearest training images "
               f"at {', '.join(f'{d:.2f}' for d in row_dist)}",
               file_name(loaders.model_id(folder), f"seed{seed}", f"sample{p}-neighbours", ext="png"),
               scale=3, where=left)
        right.markdown(f"**#{p}** · nearest training image **{row_dist[0]:.2f}** · nearest "
                       f"held-out image **{d_held:.2f}**")
    st.caption("Euclidean distance in pixel space (grey levels in [0, 1]) to a bundled sample of "
               "5,000 training images (genlab/assets/<dataset>-train.npz; the full training set is "
               "not shipped) and to the 2,000 bundled held-out images. A sample far closer to a "
               "training image than to any held-out one, and a near copy of it, would be "
               "memorized; generalizing samples are about as far from both sets.")


with st.container():
    st.subheader("One seed, the same z through every generator")
    side_by_side()
    st.caption("Every GAN draws z ~ N(0, I) in ℝ⁹⁶ from the seed, so the GAN grids share "
               "their z cell by cell; the VAE (16-D latent) and DDPM (x_T of 784 values) draw "
               "their own noise from the same seed.")
if components.below_the_fold("gans"):
    st.subheader("Training replay")
    replay()
    st.subheader("Latent walk: from z_a to z_b")
    latent_walk()
    st.subheader("Diagnostics")
    class_histograms()
    st.subheader("Memorization and D's score, sample by sample")
    picked_samples()
