"""/bigan: a GAN that can invert. A held-out (or uploaded) image through the encoder and the
generator, G(E(x)), beside the VAE-16d's reconstruction; the encoder's map of the held-out
set beside the VAE's; walks between two real images through E; the maths of the joint game."""

import numpy as np
import streamlit as st
import torch

from genlab import data, metrics, registry, sample
from genlab.images import file_name, grid, upscale
from genlab_ui import components, inputs, loaders, maps, state
from genlab_ui.components import figure, inline_image, walk_figure

MAP_POINTS = 2000  # bundled held-out images on the maps
GRID = 16  # held-out images in the reconstruction grid


def init_state() -> None:
    for key, value in {"bigan.grid_seed": 0, "bigan.walk_k": 10, "bigan.walk_method": "linear"}.items():
        st.session_state.setdefault(key, value)


def name_of(folder: str) -> str:
    return folder.rsplit("/", 1)[-1]


@st.cache_data(max_entries=32, show_spinner=False)
def reconstructions(folder: str, images: np.ndarray) -> np.ndarray:
    """G(E(x)) for a BiGAN, the decoder mean at μ(x) for a VAE: uint8 like ``images``."""
    ckpt = loaders.load_checkpoint(folder)
    return sample.to_uint8(registry.get(ckpt.card["family"]).reconstruct(ckpt.model, data.to_float(images)))


@st.cache_data(max_entries=32, show_spinner=False)
def opinions(dataset: str, images: np.ndarray) -> np.ndarray | None:
    """The evaluation classifier's class of each image (N,), or None when it is not installed."""
    clf = loaders.classifier(dataset)
    return None if clf is None else metrics.classify(clf, images)[1]


def codes(folder: str, images: np.ndarray) -> torch.Tensor:
    """E(x) for a BiGAN, μ(x) for a VAE (the family's features): (N, D)."""
    ckpt = loaders.load_checkpoint(folder)
    with torch.inference_mode():
        return registry.get(ckpt.card["family"]).features(ckpt.model, data.to_float(images))


@st.cache_data(max_entries=32, show_spinner=False)
def walk(folder: str, a: np.ndarray, b: np.ndarray, k: int, method: str) -> np.ndarray:
    """Decoded images along the path from the code of image a to that of image b: uint8 (k, 28, 28)."""
    ckpt = loaders.load_checkpoint(folder)
    z = codes(folder, np.stack([a, b]))
    path = sample.interpolate(z[0], z[1], k, method)
    with torch.inference_mode():
        out = ckpt.model.generate(path) if ckpt.card["family"] == "bigan" else ckpt.model.decode(path)
    return sample.to_uint8(out)


def show_maths() -> None:
    box, draw = components.lazy_expander("The maths this page implements", "bigan.maths")
    if draw:
        with box:
            st.markdown("**The joint game** (BiGAN, Donahue et al. 2017; ALI, Dumoulin et al. 2017). A "
                        "generator G: z → x, an encoder E: x → z, and a discriminator on *pairs*:")
            st.latex(r"\min_{G,E}\max_D\ \mathbb{E}_{x\sim p_{\text{data}}}\big[\log D(x, E(x))\big] + "
                     r"\mathbb{E}_{z\sim\mathcal{N}(0,I)}\big[\log\big(1 - D(G(z), z)\big)\big]")
            st.markdown("D sees two joint distributions, p_E(x, z) = p_data(x)·δ(z − E(x)) and "
                        "p_G(x, z) = p(z)·δ(x − G(z)). As in the plain GAN, the optimal D turns the game "
                        "into the Jensen–Shannon divergence between them, here between *joint* "
                        "distributions; it is zero only when p_E = p_G. Both are concentrated on graphs "
                        "of functions, {(x, E(x))} and {(G(z), z)}, so they can only agree where the "
                        "graphs coincide: **E = G⁻¹** on the data, G(E(x)) = x and E(G(z)) = z "
                        "(Donahue et al. 2017, theorem 2). In practice the game stops short of that "
                        "optimum, and G(E(x)) keeps what the critic checks, the class and the pose, "
                        "rather than every pixel: a *semantic* reconstruction.")
            st.markdown("**BiGAN-QP** (Su 2018, the notes' chapter) scores the same pairs with GAN-QP's "
                        "quadratic potential instead of the log-loss, so no Lipschitz constraint is "
                        "needed and the gradient does not vanish. With u = (x, E(x)), v = (G(z), z) and "
                        "d(u, v) = mean |x − G(z)| + mean |E(x) − z|:")
            st.latex(r"\max_D\ \mathbb{E}\Big[D(u) - D(v) - \frac{(D(u) - D(v))^2}{2\lambda\,d(u, v)}\Big],"
                     r"\qquad \min_{G,E}\ \mathbb{E}\big[D(u) - D(v)\big],\quad \lambda = 10")
            st.markdown("The notes' version adds optional reconstruction terms, "
                        "rec_x·‖x − G(E(x))‖² + rec_z·‖z − E(G(z))‖², to G and E's loss; the card of "
                        "each checkpoint says which weights it was trained with.")
            st.caption("Code: genlab/models/bigan.py (G, E, the joint D); genlab/families/bigan.py "
                       "(bigan_step: (1) update D on the pairs, (2) update G and E together); "
                       "genlab/families/gan.py (gan_qp_d_loss, pair_distance).")


state.page_setup()
init_state()
st.title("BiGAN: a GAN that can invert")
dataset = st.session_state["dataset"]
classes = loaders.class_names(dataset)
st.caption("A plain GAN only maps noise to images. BiGAN adds an encoder E trained in the same "
           "game, so a real image can go into the latent space and back, G(E(x)), and E(x) "
           "becomes a learned feature of the image.")
show_maths()

rows = [r for r in loaders.models_for(dataset, "bigan") if r["card"] and r["card"]["family"] == "bigan"]
for row in loaders.models_for(dataset, "bigan"):
    if row["error"]:
        st.error(f"{name_of(row['folder'])}: {row['error']}", icon="⚠️")
if not rows:
    st.info(f"No BiGAN checkpoint for {dataset} is installed yet. Train one with "
            f"{loaders.train_command(dataset, 'bigan')} (BiGAN-QP; `bigan-bce` for the "
            "log-loss game); the reconstructions, maps and walks appear here once "
            "`checkpoints/<dataset>/bigan/` holds it.")
    state.stop()
folders = [r["folder"] for r in rows]
folder = state.persistent_choice("Model", folders, f"model.bigan.{dataset}", format_func=name_of, url="model")
ckpt = loaders.try_load(folder)
if ckpt is None:
    state.stop()
if note := loaders.training_note(ckpt.card):
    st.warning(note, icon="⏳")
if source := ckpt.card.get("trained_from"):
    st.caption(f"This BiGAN's G started as the generator of **{source}** (trained on its own as a GAN) and "
               f"went on learning with E and D at {ckpt.model.config.g_lr_ratio:g}× E's learning rate; E and D "
               "started from scratch (`genlab train bigan --from`).")
vae_rows = [r for r in loaders.models_for(dataset, "vae") if r["card"] and r["card"]["family"] == "vae"]
vae = next((r["folder"] for r in vae_rows if name_of(r["folder"]) == "vae-16d"),
           vae_rows[-1]["folder"] if vae_rows else None)
if vae is not None and loaders.try_load(vae) is None:
    vae = None
held, labels = loaders.bundled(dataset)


def verdict(predicted: np.ndarray | None, i: int, truth: int | None) -> str:
    if predicted is None:
        return ""
    name = classes[predicted[i]]
    return f" · classifier: {name}" + ("" if truth is None else " ✓" if predicted[i] == truth else " ✗")


@state.fragment
def one_image() -> None:
    st.subheader("An image into the latent space and back")
    image, what = inputs.held_out_or_upload(dataset, idx_key="bigan.idx", upload_key="bigan.upload")
    truth = int(labels[int(what.split("#")[1])]) if what.startswith("held-out #") else None
    panels = [(image, what)]
    panels.append((reconstructions(folder, image[None])[0], "BiGAN: G(E(x))"))
    if vae:
        panels.append((reconstructions(vae, image[None])[0], f"{name_of(vae)}: decoder mean at μ(x)"))
    predicted = opinions(dataset, np.stack([p[0] for p in panels]))
    for i, (col, (img, title)) in enumerate(zip(st.columns(len(panels) + 1), panels)):
        error = "" if i == 0 else f" · mean |x − x̂| = {np.abs(img / 255 - image / 255).mean():.3f}"
        # ×8 (224 px) fills the column at 1,400 px: at ×6 a caption wider than the picture
        # widened the element and the browser stretched the picture, smoothing its pixels
        inline_image(upscale(img, 8), f"{title}{error}{verdict(predicted, i, truth)}", where=col)
    z = codes(folder, image[None])[0]
    rec_x = ckpt.model.config.rec_x
    st.caption(f"E(x) has {len(z)} numbers (‖E(x)‖ = {z.norm():.1f}; a sample of the prior N(0, I) "
               f"has ‖z‖ ≈ {np.sqrt(len(z)):.1f}). "
               + (f"This BiGAN was also trained with the notes' reconstruction terms ({rec_x:g}·‖x − G(E(x))‖² "
                  f"and {ckpt.model.config.rec_z:g}·‖z − E(G(z))‖² beside the adversarial loss), so G(E(x)) "
                  "stays close in pixels too; without them, what survives the round trip is only what the "
                  "discriminator checks on the pairs." if rec_x else
                  "This BiGAN never compares pixels: what survives the round trip is what the discriminator "
                  "checks on the pairs.")
               + " The VAE is trained to reproduce pixels and blurs instead.")


@state.fragment
def many_images() -> None:
    st.subheader(f"{GRID} held-out images, reconstructed two ways")
    seed = inputs.seed("Which images (seed)", "bigan.grid_seed", st.columns(3)[0])
    pick = np.sort(np.random.default_rng(seed).choice(len(labels), GRID, replace=False))
    images = held[pick]
    strips = [images, reconstructions(folder, images)] + ([reconstructions(vae, images)] if vae else [])
    figure(grid(np.concatenate(strips), ncol=GRID),
           "rows: held-out images · BiGAN G(E(x))" + (f" · {name_of(vae)}" if vae else ""),
           file_name(loaders.model_id(folder), "reconstructions", f"seed{seed}", ext="png"),
           key="dl.bigan.reconstructions")
    predicted = [opinions(dataset, s) for s in strips]
    if predicted[0] is not None:
        same = [float((p == labels[pick]).mean()) for p in predicted[1:]]
        st.caption("The classifier puts " + " and ".join(
            f"{s:.0%} of the {name}'s reconstructions" for s, name in
            zip(same, ["BiGAN", name_of(vae) if vae else ""])) + " in the original's class."
            + (f" The card's figures over the whole held-out set: {figures}." if (figures := card_figures()) else ""))


def card_figures() -> str:
    m = ckpt.card["metrics"]
    parts = [f"mean |x − G(E(x))| = {m['rec_pixel_mae']:.3f}" if "rec_pixel_mae" in m else ""]
    if "rec_class_agreement" in m:
        parts.append(f"class kept in {m['rec_class_agreement']:.1%}")
    if "linear_probe_accuracy" in m:
        parts.append(f"a linear classifier on E(x): {m['linear_probe_accuracy']:.1%} held-out accuracy")
    return "; ".join(p for p in parts if p)


def _ignore_pick() -> None:
    """The maps here are for looking (hover); a click picks nothing."""


def encoder_maps() -> None:
    st.subheader("What the encoder learned: the held-out set in its codes")
    sources = [(folder, "BiGAN E(x)")] + ([(vae, f"{name_of(vae)} μ(x)")] if vae else [])
    images, map_labels = maps.held_out(dataset, MAP_POINTS)
    atlas = components.atlas_url(images)
    for col, (source, title) in zip(st.columns(len(sources)), sources):
        with col:
            maps.features_shown(dataset, source, MAP_POINTS, title)
            result = maps.pca_map(dataset, source, MAP_POINTS)
            xy = result.coords[:, :2]
            st.markdown(f"**{title}**, PCA: two components keep "
                        f"{result.explained_variance_ratio[:2].sum():.0%} of the variance")
            components.scatter_map(maps.groups(xy, map_labels, classes, []), [atlas], ("PC 1", "PC 2"),
                                   key=f"bigan.map.{name_of(source)}", on_pick=_ignore_pick, height=420)
    st.caption(f"{MAP_POINTS:,} held-out images, coloured by class; hover a point to see its image. "
               "Classes that form their own clusters in the codes are what a linear classifier can "
               "separate: the BiGAN paper's claim that adversarial training learns features.")


@state.fragment
def walks() -> None:
    st.subheader("A walk between two real images")
    c = st.columns([2, 2, 2, 2])
    a = inputs.held_out_index(dataset, "bigan.walk_a", where=c[0], label="From", default=0)
    b = inputs.held_out_index(dataset, "bigan.walk_b", where=c[1], label="To", default=1)
    k = c[2].slider("Steps k", 3, 16, key="bigan.walk_k", bind="query-params")
    method = c[3].radio("Path", ["linear", "spherical"], key="bigan.walk_method", bind="query-params", horizontal=True)
    ends = held[[a, b]]
    walk_figure(walk(folder, ends[0], ends[1], k, method),
                f"BiGAN: G along the {method} path from E(#{a}) to E(#{b})",
                (loaders.model_id(folder), f"{method}-walk", f"held-out{a}-to-{b}"))
    if vae:
        walk_figure(walk(vae, ends[0], ends[1], k, method),
                    f"{name_of(vae)}: the decoder along the path from μ(#{a}) to μ(#{b})",
                    (loaders.model_id(vae), f"{method}-walk", f"held-out{a}-to-{b}"))
    st.caption("A plain GAN cannot do this: it has no way to find the z of a real image. "
               "The BiGAN's ends are its reconstructions of the two images, not the images.")


one_image()
if components.below_the_fold("bigan"):
    many_images()
    encoder_maps()
    walks()
