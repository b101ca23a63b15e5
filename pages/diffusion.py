"""/diffusion: the forward process q(x_t | x_0) step by step, the noise schedules, and
(once a trained DDPM checkpoint is installed) the reverse process."""

import io
import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from genlab import data, sample
from genlab.families import ddpm
from genlab.diffusion import schedules
from genlab.diffusion.schedulers import DDPMScheduler
from genlab.images import grid, upscale
from genlab_ui import inputs, loaders, state

T = 1000  # steps of the forward process, as in Ho et al. (2020)


def init_state() -> None:
    for key, value in {"diff.t": 250, "diff.schedule": "linear",
                       "diff.noise_seed": 0, "diff.sampler": "DDIM", "diff.k": 50, "diff.eta": 0.0,
                       "diff.n": 8, "diff.seed": 0, "diff.step": 0}.items():
        st.session_state.setdefault(key, value)


@st.cache_resource(show_spinner=False)
def scheduler(schedule: str) -> DDPMScheduler:
    return DDPMScheduler(num_train_timesteps=T, beta_schedule=schedule)


@st.cache_data(show_spinner=False)
def schedule_figure() -> go.Figure:
    """β_t, ᾱ_t and log-SNR(t) of both schedules, one figure each row."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=3, subplot_titles=("β_t", "ᾱ_t = Π(1 − β_s)", "log SNR(t) = log ᾱ_t/(1 − ᾱ_t)"))
    t = np.arange(1, T + 1)
    for name, color in (("linear", "#1f77b4"), ("cosine", "#ff7f0e")):
        betas = schedules.make_betas(name, T)
        curves = (betas, schedules.alphas_cumprod(betas), schedules.log_snr(betas))
        for col, y in enumerate(curves, start=1):
            fig.add_trace(go.Scatter(x=t, y=y.numpy(), name=name, line={"color": color},
                                     legendgroup=name, showlegend=col == 1), row=1, col=col)
    fig.update_xaxes(title_text="t")
    fig.update_yaxes(type="log", row=1, col=1)  # the cosine β_t ends at the 0.999 cap
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def noisy(x0: torch.Tensor, t: int, schedule: str, seed: int) -> torch.Tensor:
    """x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε with ε from ``seed``: (1, 1, 28, 28) in [-1, 1] scale."""
    eps = torch.randn(x0.shape, generator=sample.generator(seed))
    return scheduler(schedule).add_noise(x0, eps, torch.tensor([t]))


def to_image(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] tensor (B, 1, 28, 28) -> uint8 (B, 28, 28), values outside clipped for display."""
    return sample.to_uint8((x + 1) / 2)


@st.cache_data(max_entries=16, show_spinner=False)
def chain_check(schedule: str, t: int, value: float = 0.4, n: int = 20000) -> dict:
    """Run t single steps q(x_s | x_{s−1}) = N(√(1−β_s) x_{s−1}, β_s) on n copies of one pixel
    and compare the mean and variance with the closed form N(√ᾱ_t x0, 1 − ᾱ_t)."""
    sched = scheduler(schedule)
    gen = sample.generator(0)
    x = torch.full((n,), value, dtype=torch.float64)
    for s in range(t):
        beta = sched.betas[s].double()
        x = (1 - beta).sqrt() * x + beta.sqrt() * torch.randn(n, generator=gen, dtype=torch.float64)
    ab = schedules.alphas_cumprod(schedules.make_betas(schedule, T))[t - 1]
    return {"chain mean": x.mean().item(), "closed-form mean": (ab.sqrt() * value).item(),
            "chain variance": x.var().item(), "closed-form variance": (1 - ab).item()}


def trajectory(folder: str, sampler: str, steps: int, eta: float, n: int, seed: int,
               progress=None) -> dict:
    """One reverse run kept whole (see genlab.families.ddpm.record_trajectory), computed once per
    settings for every session: scrubbing, playing and the GIF never recompute.
    ``progress(i, total)`` reports the steps while it runs."""
    def compute() -> dict:
        model = loaders.load_checkpoint(folder).model
        return ddpm.record_trajectory(ddpm.FastDenoiser(model), sampler, steps, eta, n, seed,
                                 on_step=progress)

    return loaders.shared_result("trajectories", (folder, sampler, steps, eta, n, seed), compute)


def gif_bytes(frames: np.ndarray, ncol: int) -> bytes:
    """An animated GIF of grids of frames (steps, n, 28, 28), at most 100 frames + a pause."""
    from PIL import Image

    keep = np.unique(np.linspace(0, len(frames) - 1, min(100, len(frames))).round().astype(int))
    pics = [Image.fromarray(upscale(grid(frames[i], ncol=ncol), 2)) for i in keep]
    pics += [pics[-1]] * 10
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=60, loop=0)
    return buf.getvalue()


state.page_setup()
init_state()
st.title("Diffusion: noise in, noise out")
dataset = st.session_state["dataset"]
classes = data.CLASS_NAMES[dataset]
images, labels = loaders.bundled(dataset)

with st.expander("The maths this page implements", expanded=False):
    st.latex(r"q(x_t \mid x_{t-1}) = \mathcal{N}\big(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\big)"
             r"\quad\Rightarrow\quad x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon,"
             r"\ \ \bar\alpha_t = \textstyle\prod_{s\le t}(1-\beta_s)")
    st.latex(r"q(x_{t-1}\mid x_t, x_0) = \mathcal{N}\big(\tilde\mu_t, \tilde\beta_t I\big),\ "
             r"\tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\beta_t}{1-\bar\alpha_t}x_0 + "
             r"\frac{\sqrt{1-\beta_t}(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}x_t,\ "
             r"\tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\beta_t")
    st.latex(r"\mathcal{L}_{\text{simple}} = \mathbb{E}_{t, x_0, \varepsilon}"
             r"\big\|\varepsilon - \varepsilon_\theta(\sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon, t)\big\|^2")
    st.latex(r"x_{t'} = \sqrt{\bar\alpha_{t'}}\,\hat x_0 + \sqrt{1-\bar\alpha_{t'}-\sigma_t^2}\,"
             r"\varepsilon_\theta(x_t, t) + \sigma_t z,\quad \hat x_0 = "
             r"\frac{x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon_\theta}{\sqrt{\bar\alpha_t}}\quad\text{(DDIM, }\eta=0\Rightarrow\sigma_t=0)")
    st.caption("Code: genlab/diffusion/schedules.py (β, ᾱ, log-SNR), schedulers.py "
               "(add_noise, DDPM posterior step, DDIM step and inversion); "
               "genlab/families/ddpm.py (the loss, the sampling loop, DDIM inversion).")


def source_image() -> tuple[torch.Tensor, str]:
    image, name = inputs.held_out_or_upload(dataset, idx_key="diff.idx", upload_key="diff.upload")
    return data.to_float(image[None]) * 2 - 1, name


@st.fragment
def forward(x0: torch.Tensor, name: str) -> None:
    st.subheader("Forward process: watch an image dissolve")
    c1, c2, c3 = st.columns([4, 2, 2])
    t = c1.slider("t", 0, T - 1, key="diff.t", help="x_t from the closed form, t = 0 is x_1 "
                  "(one step of noise), t = 999 is almost pure noise")
    schedule = c2.radio("Schedule", ["linear", "cosine"], key="diff.schedule", horizontal=True)
    seed = c3.number_input("Noise seed", 0, 2**31 - 1, key="diff.noise_seed")
    ab = scheduler(schedule).alphas_cumprod[t].item()
    left, right = st.columns([1, 3])
    left.image(upscale(to_image(noisy(x0, t, schedule, seed))[0], 8), width=224,
               caption=f"x_t at t = {t}: √ᾱ = {ab ** 0.5:.3f}, √(1−ᾱ) = {(1 - ab) ** 0.5:.3f}",
                   output_format="PNG")
    ts = np.linspace(0, T - 1, 10).round().astype(int)
    strip = torch.cat([noisy(x0, int(s), schedule, seed) for s in ts])
    right.image(upscale(grid(to_image(strip), ncol=10), 3),
                caption=f"{name}: x_t at t = {', '.join(map(str, ts))} (same ε)", output_format="PNG")


boxes = [st.container() for _ in range(3)]
with boxes[0]:
    x0, name = source_image()
    forward(x0, name)
with boxes[1]:
    st.subheader("Noise schedules")
    st.plotly_chart(schedule_figure(), width="stretch", key="diff.schedules")
    st.caption("The cosine schedule (Nichol & Dhariwal 2021) destroys information more slowly "
               "at the start and avoids the near-zero ᾱ_t the linear schedule reaches long "
               "before t = T; log-SNR falls almost linearly in t.")
    with st.expander("Check: the closed form equals running the one-step chain"):
        t_check = st.select_slider("t", [10, 100, 300, 600, 999], value=300, key="diff.t_check")
        check = chain_check(st.session_state["diff.schedule"], t_check)
        st.table({k: [f"{v:.4f}"] for k, v in check.items()})
        st.caption("20,000 copies of one pixel with x0 = 0.4 pushed through t single steps "
                   "with fresh noise: their mean and variance match √ᾱ_t·x0 and 1 − ᾱ_t.")


def run_with_progress(label: str, *args) -> dict:
    bar = st.progress(0.0, text=label)
    traj = trajectory(*args, progress=lambda i, total: bar.progress(i / total, text=f"{label}: step {i}/{total}"))
    bar.empty()
    return traj


def reverse(folder: str) -> None:
    st.subheader("Reverse process: a sample condenses out of noise")
    c = st.columns([1.3, 1, 1, 1, 1])
    sampler = c[0].radio("Sampler", ["DDIM", "DDPM"], key="diff.sampler", horizontal=True,
                         help="DDPM: ancestral sampling over all T steps; DDIM: K steps, η = 0 deterministic")
    k = c[1].select_slider("Steps K", [10, 20, 50, 100, 200], key="diff.k", disabled=sampler == "DDPM")
    eta = c[2].slider("η", 0.0, 1.0, step=0.1, key="diff.eta", disabled=sampler == "DDPM")
    n = c[3].slider("Images", 1, 16, key="diff.n")
    seed = c[4].number_input("Seed", 0, 2**31 - 1, key="diff.seed")
    steps = T if sampler == "DDPM" else k
    key = (folder, sampler.lower(), steps, float(eta) if sampler == "DDIM" else 0.0, n, int(seed))
    if st.button(f"Sample {n} with {sampler}-{steps}", key="diff.go", type="primary"):
        st.session_state["diff.run"] = key
        st.session_state["diff.step"] = 0
    if st.session_state.get("diff.run") != key:
        st.caption("Press the button to run the sampler; every step is kept so you can scrub it.")
        return
    traj = run_with_progress(f"{sampler}-{steps}", *key)
    how = "ε̂_θ in bfloat16" if ddpm.bf16_supported() else "ε̂_θ in float32"
    st.caption(f"{sampler}-{steps}: {traj['wall_s']:.2f} s for {n} image{'s' * (n > 1)} on this CPU ({how}, "
               "the batch split over two worker threads; the scheduler's arithmetic is float32).")
    scrub(traj, n)
    st.download_button("Download the trajectory as an animated GIF", gif_bytes(traj["x"], min(n, 8)),
                       file_name=f"genlab-{sampler.lower()}{steps}-seed{seed}.gif", mime="image/gif",
                       key="diff.gif")


@st.fragment
def scrub(traj: dict, n: int) -> None:
    last = len(traj["t"])
    c1, c2 = st.columns([5, 1])
    i = c1.slider("Step", 0, last, key="diff.step",
                  help="0 = pure noise x_T; the last step is the final sample x_0")
    play = c2.button("▶ Play", key="diff.play")
    views = st.columns(3)
    holders = [v.empty() for v in views]

    def show(i: int) -> None:
        ncol = min(n, 4)
        t = traj["t"][i] if i < last else None
        title = f"x_t, t = {t}" if t is not None else "x_0 (final sample)"
        holders[0].image(upscale(grid(traj["x"][i], ncol=ncol), 3), caption=title, output_format="PNG")
        j = min(i, last - 1)
        holders[1].image(upscale(grid(traj["eps"][j], ncol=ncol), 3), output_format="PNG",
                         caption=f"predicted noise ε̂(x_t, {traj['t'][j]}) (grey = 0)")
        holders[2].image(upscale(grid(traj["x0"][j], ncol=ncol), 3), output_format="PNG",
                         caption=f"predicted x̂0 at t = {traj['t'][j]}")

    if play:
        for frame in np.unique(np.linspace(i, last, min(60, last - i + 1)).round().astype(int)):
            show(int(frame))
            time.sleep(0.05)
    else:
        show(i)


def compare(folder: str) -> None:
    st.subheader("Compare samplers on the same noise")
    seed = st.session_state["diff.seed"]
    if not st.button("Run DDPM-1000 and DDIM-10/20/50/100 (seed "
                     f"{seed}, 4 images)", key="diff.compare"):
        return
    cols = st.columns(5)
    for col, (name, steps) in zip(cols, [("ddpm", T), ("ddim", 10), ("ddim", 20), ("ddim", 50), ("ddim", 100)]):
        with col:
            traj = run_with_progress(f"{name.upper()}-{steps}", folder, name, steps, 0.0, 4, int(seed))
            st.image(upscale(grid(traj["x"][-1], ncol=2), 3), output_format="PNG",
                     caption=f"{name.upper()}-{steps}: {traj['wall_s']:.2f} s")
    st.caption("DDIM with η = 0 is deterministic given x_T, so its samples agree across K "
               "more and more as K grows; DDPM adds fresh noise at every step.")


@st.cache_data(max_entries=32, show_spinner="Inverting with DDIM-50…")
def inversion(folder: str, dataset: str, idx: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x0 of a held-out image, its DDIM-50 inversion x_T, and x_T sampled back (η = 0, no clipping)."""
    model = loaders.load_checkpoint(folder).model
    x0 = data.to_float(loaders.bundled(dataset)[0][idx:idx + 1]) * 2 - 1
    xt = ddpm.ddim_invert(model, x0, steps=50)
    sched = ddpm.scheduler_for(model, "ddim", 50)
    sched.clip_sample = False
    return x0, xt, ddpm.diffusion_loop(model, sched, xt, sample.generator(0))


def invert(folder: str) -> None:
    st.subheader("DDIM inversion: an image to its noise and back")
    idx = inputs.held_out_index(dataset, "diff.inv_idx", default=1)
    x0, xt, back = inversion(folder, dataset, idx)
    err = (back - x0).abs().mean().item() / 2 * 255
    c = st.columns(3)
    c[0].image(upscale(to_image(x0)[0], 6), caption="x_0", width=168, output_format="PNG")
    c[1].image(upscale(sample.to_uint8((xt.clamp(-3, 3) + 3) / 6)[0], 6), width=168, output_format="PNG",
               caption=f"x_T by DDIM inversion (std {xt.std().item():.2f})")
    c[2].image(upscale(to_image(back)[0], 6), width=168, output_format="PNG",
               caption=f"x_T → x_0 again: mean |error| {err:.2f} grey levels")


with boxes[2]:
    rows = loaders.models_for(dataset, "ddpm")
    ckpt = loaders.try_load(rows[0]["folder"]) if rows else None
    if not rows:
        st.subheader("Reverse process")
        st.info("The DDPM for this dataset is still being trained on CPU (ε-prediction UNet "
                "with EMA weights); the reverse process, sampler comparison and DDIM "
                "inversion appear here once its checkpoint is installed.")
    elif ckpt is not None:
        if note := loaders.training_note(ckpt.card):
            st.warning(note, icon="⏳")
        reverse(rows[0]["folder"])
        compare(rows[0]["folder"])
        invert(rows[0]["folder"])
