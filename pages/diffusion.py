"""/diffusion: the forward process q(x_t | x_0) step by step, the noise schedules, and
(once a trained DDPM checkpoint is installed) the reverse process."""

import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from genlab import data, sample
from genlab.families import ddpm
from genlab.diffusion import schedules
from genlab.diffusion.schedulers import DDPMScheduler
from genlab.images import file_name, grid, upscale
from genlab_ui import components, inputs, jobs, loaders, state
from genlab_ui.components import figure, gif_download, inline_image, png_download

T = 1000  # steps of the forward process, as in Ho et al. (2020)
KEEP_FRAMES = 100  # steps of a reverse run kept for scrubbing, playing and the GIF
COMPARED = [("ddpm", T), ("ddim", 10), ("ddim", 20), ("ddim", 50), ("ddim", 100)]
COMPARE_N = 4  # images per sampler in the comparison
CONVENTION = (
    "**One convention for t on every view of this page** (Ho et al. 2020): t counts noising "
    "steps. x₀ is the image, x_t has had t steps of noise, ᾱ_t = Π_{s=1..t}(1 − β_s) with "
    "ᾱ₀ = 1, and x_T at T = 1,000 is (almost) pure noise. The code indexes its arrays from 0, "
    "as diffusers does: ᾱ_t is `alphas_cumprod[t − 1]`, and the sampler's timestep k takes "
    "x_{k+1} to x_k, so DDIM-50, whose timesteps are 980, 960, …, 0, visits t = 981, 961, …, 1.")


def init_state() -> None:
    for key, value in {"diff.t": 250, "diff.schedule": "linear", "diff.t_check": 1000,
                       "diff.noise_seed": 0, "diff.sampler": "DDIM", "diff.k": 50, "diff.eta": 0.0,
                       "diff.n": 8, "diff.seed": 0, "diff.step": 0}.items():
        st.session_state.setdefault(key, value)


@st.cache_resource(show_spinner=False)
def scheduler(schedule: str) -> DDPMScheduler:
    return DDPMScheduler(num_train_timesteps=T, beta_schedule=schedule)


def alpha_bar(schedule: str, t: int) -> float:
    """ᾱ_t after t noising steps (ᾱ_0 = 1: the image itself)."""
    return 1.0 if t == 0 else scheduler(schedule).alphas_cumprod[t - 1].item()


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
    if t == 0:
        return x0
    eps = torch.randn(x0.shape, generator=sample.generator(seed))
    return scheduler(schedule).add_noise(x0, eps, torch.tensor([t - 1]))  # the code's index of ᾱ_t


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
    for s in range(t):  # β_1 … β_t, at the code's indices 0 … t − 1
        beta = sched.betas[s].double()
        x = (1 - beta).sqrt() * x + beta.sqrt() * torch.randn(n, generator=gen, dtype=torch.float64)
    ab = schedules.alphas_cumprod(schedules.make_betas(schedule, T))[t - 1]
    return {"chain mean": x.mean().item(), "closed-form mean": (ab.sqrt() * value).item(),
            "chain variance": x.var().item(), "closed-form variance": (1 - ab).item()}


def trajectory_frames(frames: np.ndarray, ncol: int) -> list[np.ndarray]:
    """Grids of a run's kept steps (steps, n, 28, 28) for an animation: at most 100 frames."""
    keep = np.unique(np.linspace(0, len(frames) - 1, min(100, len(frames))).round().astype(int))
    return [grid(frames[i], ncol=ncol) for i in keep]


state.page_setup()
init_state()
st.title("Diffusion: noise in, noise out")
dataset = st.session_state["dataset"]
classes = loaders.class_names(dataset)
images, labels = loaders.bundled(dataset)
st.caption(CONVENTION)

box, draw = components.lazy_expander("The maths this page implements", "diff.maths")
if draw:
    with box:
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


@state.fragment
def forward(x0: torch.Tensor, name: str) -> None:
    """The forward process and, in the same fragment, the check of its closed form: both
    follow the schedule chosen here."""
    st.subheader("Forward process: watch an image dissolve")
    c1, c2, c3 = st.columns([4, 2, 2])
    t = c1.slider("t", 0, T, key="diff.t", bind="query-params", help="noising steps: t = 0 is the image x₀, "
                  f"t = {T} is almost pure noise")
    schedule = c2.radio("Schedule", ["linear", "cosine"], key="diff.schedule", bind="query-params", horizontal=True)
    seed = inputs.seed("Noise seed", "diff.noise_seed", c3)
    ab = alpha_bar(schedule, t)
    left, right = st.columns([1, 3])
    left.image(upscale(to_image(noisy(x0, t, schedule, seed))[0], 8), width=224,
               caption=f"x_t at t = {t}: √ᾱ_t = {ab ** 0.5:.3f}, √(1−ᾱ_t) = {(1 - ab) ** 0.5:.3f}",
               output_format="PNG")
    ts = np.linspace(0, T, 10).round().astype(int)
    strip = torch.cat([noisy(x0, int(s), schedule, seed) for s in ts])
    figure(grid(to_image(strip), ncol=10), f"{name}: x_t at t = {', '.join(map(str, ts))} (same ε)",
           file_name(dataset, "forward", schedule, f"noise-seed{seed}", ext="png"), scale=3, where=right)
    box, draw = components.lazy_expander("Check: the closed form equals running the one-step chain", "diff.check")
    if draw:
        with box:
            t_check = st.select_slider("Noising steps t", [1, 10, 100, 300, 600, T], key="diff.t_check",
                                       bind="query-params")
            check = chain_check(schedule, t_check)
            st.table({"schedule": [schedule], "t": [t_check], **{k: [f"{v:.4f}"] for k, v in check.items()}})
            st.caption(f"The {schedule} schedule (the one chosen above): 20,000 copies of one pixel "
                       f"with x₀ = 0.4 pushed through t = {t_check} single steps with fresh noise; their "
                       "mean and variance match √ᾱ_t·x₀ and 1 − ᾱ_t.")


boxes = [st.container() for _ in range(3)]
with boxes[0]:
    x0, name = source_image()
    forward(x0, name)
    rest = components.below_the_fold("diffusion")
if rest:
    boxes[1].subheader("Noise schedules")
    boxes[1].plotly_chart(schedule_figure(), width="stretch", key="diff.schedules")
    boxes[1].caption("The cosine schedule (Nichol & Dhariwal 2021) destroys information more slowly "
               "at the start and avoids the near-zero ᾱ_t the linear schedule reaches long "
               "before t = T; log-SNR falls almost linearly in t.")


# --- the reverse process: long runs are jobs (genlab_ui.jobs), results kept per inputs ------

def images_label(n: int) -> str:
    return f"{n} image{'s' * (n > 1)}"


def sampling_estimate(folder: str, n: int, steps: int) -> float:
    """Seconds for ``steps`` steps on n images, as the network runs on this machine now."""
    return steps * loaders.denoiser_speed(folder, n)[1] * 1.05  # + the scheduler's arithmetic


def start_sampling(key: tuple) -> None:
    """Start (or join) the reverse run ``key`` and make it the one this page shows."""
    folder, sampler, steps, eta, n, seed = key
    fast = loaders.denoiser(folder, n)

    def compute(job: jobs.Job) -> dict:
        def on_step(i: int, total: int) -> None:
            job.report(i / total, f"step {i:,} of {total:,}")

        traj = ddpm.record_trajectory(fast, sampler, steps, eta, n, seed, on_step=on_step,
                                      keep=KEEP_FRAMES)
        return {**traj, "workers": fast.workers}

    jobs.start(key, f"{sampler.upper()}-{steps}, {images_label(n)}", compute,
               estimate_s=sampling_estimate(folder, n, steps))
    st.session_state["diff.run"] = key
    st.session_state.pop("diff.ask", None)


def ask_or_sample(key: tuple) -> None:
    """The Sample button: run at once, or first ask when it would take over 20 s."""
    folder, _, steps, _, n, _ = key
    if sampling_estimate(folder, n, steps) > jobs.ASK_ABOVE_S:
        st.session_state["diff.ask"] = key
    else:
        start_sampling(key)


def sample_with_ddim(key: tuple) -> None:
    """The cheaper choice offered before a long DDPM run: DDIM-50 on the same settings."""
    folder, _, _, _, n, seed = key
    state.set_widgets({"diff.sampler": "DDIM", "diff.k": 50, "diff.eta": 0.0})
    start_sampling((folder, "ddim", 50, 0.0, n, seed))


def confirm(key: tuple, label: str) -> None:
    """Before a run over 20 s: how long it would take, and the choices."""
    folder, sampler, steps, _, n, _ = key
    estimate = sampling_estimate(folder, n, steps)
    ddim = sampling_estimate(folder, n, 50)
    st.warning(f"{label} takes about {jobs.duration(estimate)} on this machine now: the network "
               f"runs at each of the {steps:,} steps. DDIM-50 samples the same model in about "
               f"{jobs.duration(ddim)}, with similar images.", icon="⏱️")
    c = st.columns([1.3, 1.3, 1, 2])
    c[0].button(f"Run it (about {jobs.duration(estimate)})", key="diff.confirm", on_click=start_sampling,
                args=(key,))
    if sampler == "ddpm" or steps > 50:
        c[1].button("DDIM-50 instead", key="diff.instead", on_click=sample_with_ddim, args=(key,))
    c[2].button("Not now", key="diff.not_now", on_click=lambda: st.session_state.pop("diff.ask", None))


def shown_run(key: tuple) -> dict | None:
    """The finished run for ``key`` (the kept frames: at most ~4 MB for 16 images); a fresh run
    opens on its samples."""
    return jobs.kept_result(key, "diff.result",
                            on_first=lambda r: st.session_state.update({"diff.step": len(r["x"]) - 1}))

def reverse(folder: str) -> None:
    st.subheader("Reverse process: a sample condenses out of noise")
    c = st.columns([1.3, 1, 1, 1, 1])
    sampler = c[0].radio("Sampler", ["DDIM", "DDPM"], key="diff.sampler", bind="query-params", horizontal=True,
                         help="DDPM: ancestral sampling over all T steps; DDIM: K steps, η = 0 deterministic")
    k = c[1].select_slider("Steps K", [10, 20, 50, 100, 200], key="diff.k", bind="query-params",
                           disabled=sampler == "DDPM")
    eta = c[2].slider("η", 0.0, 1.0, step=0.1, key="diff.eta", bind="query-params", disabled=sampler == "DDPM")
    n = c[3].slider("Images", 1, 16, key="diff.n", bind="query-params")
    seed = inputs.seed("Seed", "diff.seed", c[4])
    steps = T if sampler == "DDPM" else k
    key = (folder, sampler.lower(), steps, float(eta) if sampler == "DDIM" else 0.0, n, int(seed))
    label = f"{sampler}-{steps}, {images_label(n)}"
    st.button(f"Sample {n} with {sampler}-{steps}", key="diff.go", type="primary",
              on_click=ask_or_sample, args=(key,))
    if st.session_state.get("diff.ask") == key:
        confirm(key, label)
    job = jobs.get(key) if st.session_state.get("diff.run") == key else None
    if job is not None and job.state == "running":
        jobs.watch(key, "diff.job")
        return
    if job is not None and (note := jobs.ended_note(job)):
        st.info(note)
    traj = shown_run(key)
    if traj is None:
        st.caption("Press the button to run the sampler; its steps are kept so you can scrub "
                   "them (every step, or 100 evenly spaced ones for longer runs).")
        return
    how = "ε̂_θ in bfloat16" if ddpm.bf16_supported() else "ε̂_θ in float32"
    split = "the batch split over two worker threads" if traj["workers"] == 2 else "one thread"
    st.caption(f"{sampler}-{steps}: {traj['wall_s']:.1f} s for {images_label(n)} on this CPU ({how}, "
               f"{split}; the scheduler's arithmetic is float32).")
    stem = (loaders.model_id(folder), f"{sampler.lower()}{steps}", f"eta{eta:g}" if sampler == "DDIM" else "",
            f"seed{seed}", f"{n}-images")
    scrub(traj, n, steps, stem)


def play() -> None:
    """Play: the animation runs from the slider's step (from the start once at the end), and
    the slider moves to the end, where the animation stops."""
    last = st.session_state["diff.frames"] - 1
    step = st.session_state.get("diff.step", 0)
    st.session_state["diff.play_from"] = step if step < last else 0
    state.set_widgets({"diff.step": last})


SCRUB_AHEAD = 3  # steps on either side whose pictures the browser gets ahead (instant_frames)


def step_pictures(traj: dict, n: int, i: int) -> list[tuple[np.ndarray, str]]:
    """What the scrubber shows at position ``i``: x_t, the predicted noise and the predicted x̂₀
    (each 3×, with its caption)."""
    last, ncol = len(traj["t"]), min(n, 4)
    j = min(i, last - 1)
    t_shown = traj["t"][j] + 1  # the code's timestep k takes x_{k+1} to x_k
    title = f"x_t, t = {t_shown}" if i < last else "x_0 (final sample)"
    return [(upscale(grid(traj["x"][i], ncol=ncol), 3), title),
            (upscale(grid(traj["eps"][j], ncol=ncol), 3), f"predicted noise ε̂(x_t, {t_shown}) (grey = 0)"),
            (upscale(grid(traj["x0"][j], ncol=ncol), 3), f"predicted x̂₀ from x_t at t = {t_shown}")]


@state.fragment
def scrub(traj: dict, n: int, steps: int, stem: tuple) -> None:
    last = len(traj["t"])  # kept steps; position ``last`` is the final sample
    st.session_state["diff.frames"] = last + 1
    if st.session_state.get("diff.step", 0) > last:
        st.session_state["diff.step"] = last
    c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
    every = "" if last == steps else f" (every {steps // last}th of the {steps:,} steps is kept)"
    i = c1.slider("Step", 0, last, key="diff.step", bind="query-params",
                  help=f"0 = the starting noise; {last} = the final sample x₀{every}")
    c2.button("▶ Play", key="diff.play", on_click=play)
    with st.container(key="diff-frames"):
        holders = [v.empty() for v in st.columns(3)]

    def show(i: int) -> None:
        for (image, caption), holder in zip(step_pictures(traj, n, i), holders):
            inline_image(image, caption, holder)

    start = st.session_state.pop("diff.play_from", None)
    if start is not None:
        for frame in np.unique(np.linspace(start, last, min(60, last - start + 1)).round().astype(int)):
            show(int(frame))
            time.sleep(0.05)
    show(i)
    c = st.columns(2)
    png_download(grid(traj["x"][i], ncol=min(n, 4)), file_name(*stem, f"step{i}", ext="png"), c[0], key="diff.png")
    gif_download(trajectory_frames(traj["x"], min(n, 8)), file_name(*stem, ext="gif"), c[1], key="diff.gif")
    # the neighbouring steps' pictures, for the browser to show the moment the slider moves
    near = range(max(0, i - SCRUB_AHEAD), min(last, i + SCRUB_AHEAD) + 1)
    components.instant_frames("diff.step", "diff-frames", i, {j: step_pictures(traj, n, j) for j in near},
                              key="instant.diff.step")


def start_comparison(key: tuple) -> None:
    folder, seed = key[1], key[2]
    fast = loaders.denoiser(folder, COMPARE_N)

    def compute(job: jobs.Job) -> dict:
        total, done, out = sum(s for _, s in COMPARED), 0, {}
        for name, steps in COMPARED:
            def on_step(i: int, _: int) -> None:
                job.report((done + i) / total, f"{name.upper()}-{steps}, step {i:,} of {steps:,}")

            t0 = time.perf_counter()
            x = ddpm.diffusion_sample(fast, COMPARE_N, sample.generator(seed), sampler=name,
                                      steps=steps, on_step=on_step)
            out[f"{name.upper()}-{steps}"] = (sample.to_uint8(x), time.perf_counter() - t0)
            done += steps
        return out

    jobs.start(key, f"DDPM-1000 and DDIM-10/20/50/100, {COMPARE_N} images each", compute,
               estimate_s=comparison_estimate(folder))
    st.session_state["diff.compare_run"] = key
    st.session_state.pop("diff.compare_ask", None)


def comparison_estimate(folder: str) -> float:
    return sampling_estimate(folder, COMPARE_N, sum(s for _, s in COMPARED))


def ask_or_compare(key: tuple) -> None:
    if comparison_estimate(key[1]) > jobs.ASK_ABOVE_S:
        st.session_state["diff.compare_ask"] = key
    else:
        start_comparison(key)


def compare(folder: str) -> None:
    """Five samplers on the same noise. The grids stay until the folder or the seed changes."""
    st.subheader("Compare samplers on the same noise")
    seed = int(st.session_state["diff.seed"])
    key = ("compare", folder, seed)
    st.button(f"Run DDPM-1000 and DDIM-10/20/50/100 (seed {seed}, {COMPARE_N} images)",
              key="diff.compare", on_click=ask_or_compare, args=(key,))
    if st.session_state.get("diff.compare_ask") == key:
        estimate = comparison_estimate(folder)
        st.warning(f"The five samplers take about {jobs.duration(estimate)} on this machine now, "
                   "most of it DDPM's 1,000 steps.", icon="⏱️")
        c = st.columns([1.3, 1, 3])
        c[0].button(f"Run them (about {jobs.duration(estimate)})", key="diff.compare_confirm",
                    on_click=start_comparison, args=(key,))
        c[1].button("Not now", key="diff.compare_not_now",
                    on_click=lambda: st.session_state.pop("diff.compare_ask", None))
    if st.session_state.get("diff.compare_run") != key:
        return
    job = jobs.get(key)
    kept = st.session_state.get("diff.compare_result")
    if kept is None or kept[0] != key:
        if job is not None and job.state == "running":
            jobs.watch(key, "diff.compare_job")
            return
        if job is None or job.state != "done":
            if job is not None and (note := jobs.ended_note(job)):
                st.info(note)
            return
        kept = st.session_state["diff.compare_result"] = (key, job.result)
    for col, (name, (grid_images, wall)) in zip(st.columns(len(kept[1])), kept[1].items()):
        figure(grid(grid_images, ncol=2), f"{name}: {wall:.1f} s",
               file_name(loaders.model_id(folder), name, f"seed{seed}", ext="png"), scale=3, where=col,
               key=f"dl.diff.compare.{name}")
    st.caption("DDIM with η = 0 is deterministic given x_T, so its samples agree across K "
               "more and more as K grows; DDPM adds fresh noise at every step.")


@st.cache_data(max_entries=32, show_spinner="Inverting with DDIM-50…")
def inversion(folder: str, dataset: str, idx: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x0 of a held-out image, its DDIM-50 inversion x_T, and x_T sampled back (η = 0, no clipping)."""
    model = loaders.load_checkpoint(folder).model
    x0 = data.to_float(loaders.bundled(dataset)[0][idx:idx + 1]) * 2 - 1
    xt = ddpm.ddim_invert(model, x0, steps=50)
    sched = ddpm.scheduler_for(model, "ddim", 50)  # x̂0 not clipped: the inversion's exact reverse
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


def reverse_process() -> None:
    rows = loaders.models_for(dataset, "ddpm")
    ckpt = loaders.try_load(rows[0]["folder"]) if rows else None
    if not rows:
        st.subheader("Reverse process")
        st.info(loaders.not_trained(dataset, "DDPM", "the reverse process, sampler comparison and "
                                                     "DDIM inversion"))
    elif ckpt is not None:
        if note := loaders.training_note(ckpt.card):
            st.warning(note, icon="⏳")
        reverse(rows[0]["folder"])
        compare(rows[0]["folder"])
        invert(rows[0]["folder"])


if rest:
    with boxes[2]:
        reverse_process()
