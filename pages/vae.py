"""/vae: explore a VAE's latent space: decode z live, the latent map, the manifold,
interpolation, your own image, and (for vae-16d) the most-used latent dimensions."""

import numpy as np
import streamlit as st
import torch

from genlab import data, sample
from genlab.images import file_name, grid, upscale
from genlab.families import vae
from genlab_ui import components, inputs, loaders, state
from genlab_ui.components import inline_image

Z_RANGE = 3.0  # slider range for each latent coordinate
Z_STEP = 0.05  # slider step; clicks on the map snap to it


def init_state() -> None:
    for key, value in {"vae.grid_n": 15, "vae.k": 10, "vae.method": "spherical",
                       "vae.seed": 0}.items():
        st.session_state.setdefault(key, value)


@st.cache_data(max_entries=8, show_spinner="Encoding the held-out images…")
def encode_bundled(folder: str, dataset: str) -> np.ndarray:
    """Latent means μ of the bundled held-out images: (N, D)."""
    model = loaders.load_checkpoint(folder).model
    images, _ = loaders.bundled(dataset)
    with torch.inference_mode():
        mu, _ = model.encode(data.to_float(images))
    return mu.numpy()


@st.cache_data(max_entries=8, show_spinner=False)
def kl_order(folder: str, dataset: str) -> tuple[list[int], list[float]]:
    """Latent dimensions sorted by mean KL on the held-out sample (most used first)."""
    model = loaders.load_checkpoint(folder).model
    images, _ = loaders.bundled(dataset)
    with torch.inference_mode():
        kl = vae.kl_per_dimension(model, data.to_float(images)).tolist()
    order = sorted(range(len(kl)), key=lambda d: -kl[d])
    return order, [kl[d] for d in order]


@st.cache_data(max_entries=16, show_spinner=False)
def manifold(folder: str, n: int) -> np.ndarray:
    model = loaders.load_checkpoint(folder).model
    return decode(model, vae.gaussian_grid(n))


def decode(model, z: torch.Tensor) -> np.ndarray:
    """z (B, D) -> uint8 images (B, 28, 28)."""
    return loaders.torch_call(_decode, model, z)


def _decode(model, z: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
        return sample.to_uint8(model.decode(z.float()))


def big(image: np.ndarray, factor: int = 8) -> np.ndarray:
    return upscale(image, factor)


def _z_from_click() -> None:
    z = st.session_state["vae.map"]["click"]
    if z:
        z = np.clip(np.round(np.asarray(z) / Z_STEP) * Z_STEP, -Z_RANGE, Z_RANGE)
        state.set_widgets({"vae.z1": round(float(z[0]), 2), "vae.z2": round(float(z[1]), 2)})


state.page_setup()
init_state()
st.title("Variational autoencoder: the latent space")
row = state.model_picker("vae")
if row is None:
    state.stop()
ckpt = loaders.try_load(row["folder"])
if ckpt is None:
    state.stop()
folder, card, model = row["folder"], ckpt.card, ckpt.model
dataset = card["dataset"]
classes = loaders.class_names(dataset)
images, labels = loaders.bundled(dataset)
latent_dim = model.config.latent_dim
st.caption(f"**{card['name']}** on {dataset}: {latent_dim}-D latent · held-out −ELBO "
           f"{card['metrics'].get('neg_elbo', float('nan')):.1f} nats · "
           f"{card['training']['steps']:,} training steps")

maths, = st.columns(1)
box, draw = components.lazy_expander("The maths this page implements", "vae.maths", where=maths)
if draw:
    with box:
        st.latex(r"\text{ELBO}(x) = \mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)] - "
                 r"\mathrm{KL}(q_\phi(z|x)\,\|\,\mathcal{N}(0, I)) \;\le\; \log p_\theta(x)")
        st.latex(r"z = \mu_\phi(x) + \sigma_\phi(x)\odot\varepsilon,\qquad \varepsilon\sim\mathcal{N}(0, I)"
                 r"\quad\text{(reparameterization)}")
        st.latex(r"\mathrm{KL}(\mathcal{N}(\mu,\sigma^2)\,\|\,\mathcal{N}(0,1)) = "
                 r"\tfrac12\left(\mu^2 + \sigma^2 - \log\sigma^2 - 1\right)")
        st.markdown("The decoder outputs the mean of a Bernoulli per pixel, so "
                    r"$\log p_\theta(x|z) = \sum_i x_i\log \hat x_i + (1-x_i)\log(1-\hat x_i)$ "
                    "on grey levels in [0, 1]; the images shown are those means x̂.")


def z_caption(z1: float, z2: float) -> str:
    return f"decoder mean x̂ at z = ({z1:.2f}, {z2:.2f})"


@state.fragment
def latent_plane() -> None:
    st.subheader("Drag through the latent plane")
    mu = encode_bundled(folder, dataset)
    if "vae.z1" not in st.session_state:  # start on a real image's code, not the empty origin
        start = np.clip(np.round(mu[0] / Z_STEP) * Z_STEP, -Z_RANGE, Z_RANGE)
        st.session_state["vae.z1"], st.session_state["vae.z2"] = (round(float(v), 2) for v in start)
    left, right = st.columns([1, 2.4])
    with left:
        z1 = st.slider("z1", -Z_RANGE, Z_RANGE, step=Z_STEP, key="vae.z1", bind="query-params")
        z2 = st.slider("z2", -Z_RANGE, Z_RANGE, step=Z_STEP, key="vae.z2", bind="query-params")
        image = decode(model, torch.tensor([[z1, z2]]))[0]
        with st.container(key="vae-z-frames"):
            inline_image(big(image), z_caption(z1, z2), width=224)
        st.caption("Move the sliders (or use the arrow keys on a focused slider), or click "
                   "anywhere on the map to decode that point. This image is decoded on the "
                   "server by PyTorch, once you let go (the images two steps either way come "
                   "ahead, so the arrow keys show them at once).")
        # z two slider steps either way on each axis, decoded as the slider's step will decode
        # them (a fraction of a millisecond each), for the browser to show the moment a slider
        # moves; from the run after the first screen
        for key, axis in (("vae.z1", 0), ("vae.z2", 1)) if components.first_screen_painted("vae") else ():
            frames = {}
            for k in range(-2, 3):
                z = [z1, z2]
                z[axis] = round(z[axis] + k * Z_STEP, 2)
                if -Z_RANGE <= z[axis] <= Z_RANGE:
                    frames[z[axis]] = [(big(decode(model, torch.tensor([z]))[0]), z_caption(*z))]
            components.instant_frames(key, "vae-z-frames", (z1, z2)[axis], frames, key=f"instant.{key}")
    with right:
        extra = st.session_state.get("vae.upload_points", [])
        components.latent_map(mu, labels, images, classes, marker=(z1, z2), key="vae.map",
                              on_click=_z_from_click, extra=extra, zmax=Z_RANGE,
                              decoder=components.decoder_asset(folder))
        st.caption(f"Each dot is the latent mean μ(x) of one of {len(mu):,} held-out images, "
                   "coloured by class; hover a dot to see its image. **Drag on the map** (or "
                   "focus it and use the arrow keys, Shift for bigger steps): the image to the "
                   "right of the map is decoded in your browser by the same decoder weights at "
                   "every frame of the drag, where the server's image on the left waits for the "
                   "release; then the sliders and the server's image catch up, at the same z.")


@state.fragment
def manifold_grid() -> None:
    st.subheader("The learned manifold")
    n = st.select_slider("Grid size n", options=list(range(5, 31)), key="vae.grid_n", bind="query-params")
    components.figure(grid(manifold(folder, n), ncol=n, pad=0),
                      f"Decoded z over a grid of {n}×{n} Gaussian quantiles (5%…95%) "
                      "— z1 left to right, z2 bottom to top, as on the map.",
                      file_name(loaders.model_id(folder), f"manifold-{n}x{n}", ext="png"), scale=2 if n > 15 else 3)


def _z_from_sliders() -> None:
    z = st.session_state["vae.sliders"]["change"]
    if z:
        st.session_state["vae.z16"] = [float(np.clip(v, -Z_RANGE, Z_RANGE)) for v in z]


@state.fragment
def dimension_sliders() -> None:
    st.subheader("Steer the latent dimensions")
    order, kls = kl_order(folder, dataset)
    st.caption("One slider per latent dimension, sorted by its mean KL on held-out images "
               "(nats, most used first): a dimension with KL ≈ 0 is ignored by the decoder "
               "(posterior collapse). The image follows the thumb as you drag: it is decoded "
               "in your browser by the shipped decoder weights.")
    st.session_state.setdefault("vae.z16", [0.0] * latent_dim)
    c1, c2, _ = st.columns([1, 1.3, 3])
    if c1.button("Reset all to 0", key="vae.reset"):
        st.session_state["vae.z16"] = [0.0] * latent_dim
    if c2.button("Random z from the prior", key="vae.random"):
        st.session_state["vae.draws"] = st.session_state.get("vae.draws", 0) + 1
        z = torch.randn(latent_dim, generator=sample.generator(st.session_state["vae.draws"]))
        st.session_state["vae.z16"] = [float(np.clip(round(v, 2), -Z_RANGE, Z_RANGE)) for v in z.tolist()]
    z = st.session_state["vae.z16"]
    components.latent_sliders(z, order, [f"z[{d}] · KL {kl:.2f}" for d, kl in zip(order, kls)],
                              decoder=components.decoder_asset(folder), key="vae.sliders",
                              on_change=_z_from_sliders, zmax=Z_RANGE, step=Z_STEP)
    st.image(big(decode(model, torch.tensor([z]))[0], 4), width=112,
             caption=f"server decode (PyTorch) of z = [{', '.join(f'{v:.2f}' for v in z[:4])}, …]",
                 output_format="PNG")


@state.fragment
def prior_samples() -> None:
    st.subheader("Samples from the prior")
    seed = inputs.seed("Seed", "vae.seed", st.columns(4)[0])
    components.figure(grid(loaders.samples(folder, 32, int(seed)), ncol=8), f"32 decoded z ~ N(0, I), seed {seed}",
                      file_name(loaders.model_id(folder), "32-samples", f"seed{seed}", ext="png"),
                      key="dl.vae.samples")


@state.fragment
def reconstruction() -> None:
    st.subheader("Reconstruction")
    idx = inputs.held_out_index(dataset, "vae.recon_idx")
    mu = encode_bundled(folder, dataset)
    recon = decode(model, torch.from_numpy(mu[idx:idx + 1]))[0]
    a, b = st.columns(2)
    a.image(big(images[idx]), caption="original", width=168, output_format="PNG")
    b.image(big(recon), caption="decode(μ(x))", width=168, output_format="PNG")


@state.fragment
def interpolation() -> None:
    st.subheader("Interpolate between two held-out images")
    c1, c2, c3, c4 = st.columns([2, 2, 1.2, 1.4])
    a = inputs.held_out_index(dataset, "vae.a", c1, label="From")
    b = inputs.held_out_index(dataset, "vae.b", c2, label="To", default=1)
    k = c3.slider("Steps k", 3, 16, key="vae.k", bind="query-params")
    method = c4.radio("Path", ["linear", "spherical"], key="vae.method", bind="query-params", horizontal=True,
                      help="linear: (1−t)·z_a + t·z_b;  spherical: slerp, keeps the norm of z")
    mu = torch.from_numpy(encode_bundled(folder, dataset))
    strip = decode(model, sample.interpolate(mu[a], mu[b], k, method))
    components.walk_figure(np.concatenate([images[a:a + 1], strip, images[b:b + 1]]),
                           "original A · decoded path from μ(A) to μ(B) · original B",
                           (loaders.model_id(folder), f"{method}-path", f"held-out{a}-to-{b}", f"k{k}"), scale=3)


def encode_upload() -> None:
    st.subheader("Encode your own image")
    st.caption("PNG or JPG of any size, colour or grey, dark-on-light or light-on-dark, or a "
               "drawing. It is centred and resized to 28×28 the way MNIST was made.")
    c = st.columns([1.3, 4.7])
    upload, x = None, None
    if inputs.image_source("vae.upload", c[0], ("upload", "draw")) == "draw":
        x = inputs.drawing("vae.upload", c[1])
    else:
        upload = c[1].file_uploader("Image", type=inputs.UPLOAD_TYPES, key="vae.upload")
        x = None if upload is None else inputs.read_upload(upload)
    yours = "your file" if upload is not None else "your drawing"
    if x is None:
        st.session_state["vae.upload_points"] = []
        return
    with torch.inference_mode():
        mu, _ = model.encode(data.to_float(x[None]))
    recon = decode(model, mu)[0]
    cols = st.columns(3)
    if yours == "your file":
        cols[0].image(upload.getvalue(), caption="your file", width=168)
    cols[1].image(big(x, 6), caption=f"28×28 input ({yours})", width=168, output_format="PNG")
    cols[2].image(big(recon, 6), caption="reconstruction", width=168, output_format="PNG")
    if latent_dim == 2:
        z = mu[0].tolist()
        st.session_state["vae.upload_points"] = [{"x": z[0], "y": z[1], "label": "yours"}]
        st.caption(f"Its latent mean is z = ({z[0]:.2f}, {z[1]:.2f}), marked ▢ on the map.")


# containers fix the visual order; the upload is handled first so that its point is on
# the map in the same run
boxes = [st.container() for _ in range(5)]  # the main view, where the first screen ends, then the rest
with boxes[1]:
    rest = components.below_the_fold("vae")
with boxes[4]:
    if rest:
        encode_upload()
with boxes[0]:
    if latent_dim == 2:
        latent_plane()
    else:
        dimension_sliders()
if rest:
    with boxes[2]:
        if latent_dim == 2:
            manifold_grid()
        else:
            prior_samples()
    with boxes[3]:
        if latent_dim != 2:
            reconstruction()
        interpolation()
