"""/autoregressive: PixelCNN, one pixel at a time: sampling shown as it happens, completions
of the lower half of a held-out image, the masked receptive field with its blind spot, and
the exact likelihood."""

import time

import numpy as np
import streamlit as st
import torch

from genlab import data, registry, sample
from genlab.images import file_name, grid, upscale
from genlab.families import pixelcnn
from genlab.models.pixelcnn import PixelCNN, causal_mask
from genlab_ui import completions, components, inputs, jobs, loaders, state
from genlab_ui.components import figure, gif_download, inline_image

ANCHOR_NATS = 81.3  # PixelCNN on binarized MNIST (van den Oord et al. 2016, "Pixel RNN", table 4)
UNSAMPLED = (28, 38, 78)  # canvas pixels not drawn yet: dark blue
NEXT = (235, 60, 50)  # the pixel drawn next: red
SEEN = (80, 150, 235)  # receptive field: pixels that reach the output
BLIND = (255, 160, 40)  # pixels before i within the net's reach that do not: the blind spot
ROW = (90, 185, 120)  # the two-stack net's horizontal stack: the pixels left on the row
FAR = (105, 105, 105)  # pixels before i beyond the reach of the net's depth
LATER = (22, 22, 22)  # pixels after i in raster order


def init_state() -> None:
    for key, value in {"ar.n": 4, "ar.seed": 0, **completions.DEFAULTS, "ar.rf_row": 14, "ar.rf_col": 14}.items():
        st.session_state.setdefault(key, value)


def show_maths() -> None:
    box, draw = components.lazy_expander("The maths this page implements", "ar.maths")
    if draw:
        with box:
            st.markdown("**The chain rule.** Any distribution over the D = 784 pixels, read in "
                        "raster order (row by row, left to right), factors exactly:")
            st.latex(r"p(x) = \prod_{i=1}^{D} p\big(x_i \mid x_1, \dots, x_{i-1}\big) = \prod_i p(x_i \mid x_{<i})")
            st.markdown("A PixelCNN predicts every conditional with one convolutional network. "
                        "**Masks** keep it causal: each k×k kernel is multiplied by a mask that "
                        "zeroes the rows below the centre and the centre row right of the centre. The "
                        "first layer uses **mask A**, which also hides the centre, so output i never "
                        "sees x_i itself; the later layers use **mask B**, which shows the centre: "
                        "their position i only carries what came from pixels before i anyway.")
            st.latex(r"\text{mask A}_{3\times3} = \begin{pmatrix}1&1&1\\1&0&0\\0&0&0\end{pmatrix},\qquad "
                     r"\text{mask B}_{3\times3} = \begin{pmatrix}1&1&1\\1&1&0\\0&0&0\end{pmatrix}")
            st.markdown("**Training** needs one pass: all the conditionals come out at once, and "
                        "the negative log-likelihood is the sum of per-pixel cross-entropies. For "
                        "stochastically binarized images (pixel i is 1 with probability equal to its "
                        "grey level) each conditional is a Bernoulli with p_i = σ(logit_i):")
            st.latex(r"-\log p(x) = \sum_{i=1}^{D} \mathrm{CE}\big(\text{logits}_i, x_i\big) = "
                     r"-\sum_i \Big[x_i\log p_i + (1-x_i)\log(1-p_i)\Big]\ \text{nats},\qquad "
                     r"\text{bits/dim} = \frac{-\log p(x)}{D\ln 2}")
            st.markdown("**Sampling** cannot be parallel: pixel i needs x_<i, so 784 steps draw "
                        "one pixel each. A step need not rerun the whole net: each layer's "
                        "activations before pixel i are already final (they only see earlier "
                        "pixels), so the sampler keeps them and computes one new position per "
                        "layer, the same logits as a full pass at about 1/100 of the work. The "
                        "stack of masked 3×3 convolutions grows the receptive field by one pixel "
                        "per layer, up and to the left, but never reaches the pixels up and to the "
                        "*right* beyond the cone: the **blind spot** of a "
                        "single-stack PixelCNN (fixed by the gated PixelCNN's two stacks).")
            st.caption("Code: genlab/models/pixelcnn.py (causal_mask, MaskedConv2d, the network), "
                       "genlab/families/pixelcnn.py (nll, quantize, receptive_field, RasterCache and "
                       "TwoStackRasterCache, "
                       "pixelcnn_sample, pixelcnn_complete, pixelcnn_metrics).")


def colour(grey: np.ndarray) -> np.ndarray:
    """(…, H, W) in [0, 1] -> uint8 RGB (…, H, W, 3)."""
    return np.repeat((np.clip(grey, 0, 1) * 255).round().astype(np.uint8)[..., None], 3, axis=-1)


def canvas(x: np.ndarray, filled: int) -> np.ndarray:
    """Canvases (n, H, W) in [0, 1] with pixels < ``filled`` (raster order) drawn: RGB, the
    rest dark blue and the next pixel red."""
    rgb = colour(x)
    flat = rgb.reshape(len(x), -1, 3)
    flat[:, filled:] = UNSAMPLED
    if filled < flat.shape[1]:
        flat[:, filled] = NEXT
    return rgb


def heat(p: np.ndarray, filled: int) -> np.ndarray:
    """Predicted means (n, H, W) in [0, 1] as RGB from navy (0) to amber (1), unfilled grey."""
    low, high = np.array([20, 24, 60]), np.array([255, 196, 64])
    rgb = (low + np.clip(p, 0, 1)[..., None] * (high - low)).round().astype(np.uint8)
    rgb.reshape(len(p), -1, 3)[:, filled:] = 45
    return rgb


def pixel_note(i: int, probs: torch.Tensor, width: int) -> str:
    """The predicted distribution of pixel i in image 1, as markdown."""
    row, col = divmod(i, width)
    where = f"pixel {i} (row {row}, col {col}) of image 1"
    if len(probs) == 2:
        p = probs[1].item()
        bar = "█" * round(20 * p) + "░" * (20 - round(20 * p))
        return f"{where}: p(x_i = 1 | x_<i) = **{p:.2f}** `{bar}`"
    mean = (probs * torch.linspace(0, 1, len(probs))).sum().item()
    return f"{where}: E[x_i | x_<i] = **{mean:.2f}**, most likely level {probs.argmax().item()} " \
           f"(p = {probs.max().item():.2f})"


SAMPLE_S = (0.7, 0.08)  # seconds: fixed + per image, 784 pixels (the two-stack model: 1 image 0.79 s,
# 4 images 1.0 s, 16 images 1.9–2.0 s, measured here beside two trainings)


def sample_key(folder: str, n: int, seed: int) -> tuple:
    return ("pixelcnn samples", folder, n, seed)


def sampling_estimate(n: int) -> float:
    """Seconds to sample n images on this machine (a 2-core CPU, one thread per session)."""
    return SAMPLE_S[0] + SAMPLE_S[1] * n


def start_sampling(folder: str, n: int, seed: int) -> None:
    """Start (or join) the job that draws n images pixel by pixel, and make it the one this
    page shows. Every pixel reports (so Cancel stops it within a few ms); every row (every
    quarter row for n ≤ 4) also leaves the canvas so far for the live view.

    The job's result: images uint8 (n, H, W); means: E[x_i | x_<i] at each pixel (p(x_i = 1)
    for a binarized model), float (n, H, W); wall_s.
    """
    model = loaders.load_checkpoint(folder).model  # fetched here: the job has no script run

    def compute(job: jobs.Job) -> dict:
        size = model.config.image_size
        every = size if n > 4 else max(1, size // 4)
        means = torch.zeros(n, size * size)
        values = torch.linspace(0, 1, model.config.levels)  # level / (levels − 1)

        def on_pixel(i: int, probs: torch.Tensor, x: torch.Tensor) -> None:
            means[:, i] = probs @ values
            live = None
            if (i + 1) % every == 0:
                live = {"filled": i + 1, "x": x[:, 0].numpy().copy(), "note": pixel_note(i, probs[0], size),
                        "means": means.view(n, size, size).numpy().copy()}
            job.report((i + 1) / (size * size), f"pixel {i + 1} of {size * size}", partial=live)

        t0 = time.perf_counter()
        out = pixelcnn.pixelcnn_sample(model, n, sample.generator(seed), on_pixel=on_pixel)
        return {"images": sample.to_uint8(out), "means": means.view(n, size, size).numpy(),
                "wall_s": time.perf_counter() - t0}

    jobs.start(sample_key(folder, n, seed), f"Sampling {n} image{'s' * (n > 1)}", compute,
               estimate_s=sampling_estimate(n))
    st.session_state["ar.run"] = (folder, n, seed)


def layout(n: int) -> tuple[int, int]:
    """Columns of the grid and the upscaling factor for n images."""
    return int(np.ceil(np.sqrt(n))), 8 if n == 1 else 6 if n <= 4 else 4


@state.fragment(run_every=0.5)
def live(key: tuple, n: int) -> None:
    """The running job: its progress bar with the time left, Cancel, and the canvas so far."""
    job = jobs.get(key)
    left = None if job is None else job.remaining_s()
    if left is not None and left < 1.0 and job.state == "running":  # ends before the next redraw:
        deadline = time.perf_counter() + 1.5  # wait for it rather than draw a frame
        while job.state == "running" and time.perf_counter() < deadline:
            time.sleep(0.02)
    if job is None or job.state != "running":
        st.rerun()  # the page shows the result (or what stopped it)
    bar, stop = st.columns([8, 1], vertical_alignment="bottom")
    bar.progress(job.fraction, text=f"{job.label}: {job.note or 'starting'}"
                 + (f" · about {jobs.duration(left)} left" if left is not None else ""))
    if stop.button("Cancel", key="ar.job.cancel", help="Stops it within a second"):
        job.cancel()
        st.rerun()
    frame = job.partial
    deadline = time.perf_counter() + 0.5  # the first row takes ~0.1 s: show it in this run, so the
    while frame is None and job.state == "running" and time.perf_counter() < deadline:  # canvas
        time.sleep(0.02)  # appears with the progress bar even if timed redraws are held up
        frame = job.partial
    if frame is None:
        return
    ncol, factor = layout(n)
    filled = frame["filled"]
    left_col, right_col = st.columns(2)
    left_col.image(upscale(grid(canvas(frame["x"], filled), ncol=ncol), factor), output_format="PNG",
                   caption=f"the canvas: {filled} of 784 pixels drawn, the next in red")
    right_col.image(upscale(grid(heat(frame["means"], filled), ncol=ncol), factor), output_format="PNG",
                    caption="the model's prediction at each pixel when it was drawn")
    st.markdown(frame["note"])


def shown_sample(key: tuple) -> dict | None:
    """The finished sampling for ``key`` (16 images and their means: about 60 kB kept)."""
    return jobs.kept_result(key, "ar.result")

@state.fragment
def sampling(folder: str, levels: int) -> None:
    st.subheader("Sampling, one pixel at a time")
    c = st.columns([2, 1, 2])
    n = c[0].slider("Images n", 1, 16, key="ar.n", bind="query-params")
    seed = inputs.seed("Seed", "ar.seed", c[1])
    c[2].write("")  # align the button with the inputs
    if c[2].button(f"Sample {n} image{'s' * (n > 1)}, 784 pixels each", key="ar.go", type="primary"):
        start_sampling(folder, n, seed)
    key = sample_key(folder, n, seed)
    job = jobs.get(key) if st.session_state.get("ar.run") == (folder, n, seed) else None
    if job is not None and job.state == "running":
        live(key, n)
        return
    if job is not None and (note := jobs.ended_note(job)):
        st.info(note)
    result = shown_sample(key) if st.session_state.get("ar.run") == (folder, n, seed) else None
    if result is None:
        st.caption("Press the button: the canvas fills in raster order while the model draws "
                   f"each pixel from p(x_i | x_<i) (about {jobs.duration(sampling_estimate(n))} on "
                   "this machine).")
        return
    ncol, factor = layout(n)
    left, right = st.columns(2)
    stem = (loaders.model_id(folder), f"{n}-samples", f"seed{seed}")
    figure(grid(result["images"], ncol=ncol), f"{n} sample{'s' * (n > 1)}, seed {seed}: {result['wall_s']:.1f} s, "
           "784 steps of one new position per layer", file_name(*stem, ext="png"), scale=factor, where=left)
    x, size = result["images"] / 255, result["images"].shape[-1]
    gif_download([grid(canvas(x, filled), ncol=ncol) for filled in range(size, size * size + 1, size)],
                 file_name(*stem, "filling", ext="gif"), left, ms=80)  # row by row, as it was drawn
    belief = "p(x_i = 1 | x_<i)" if levels == 2 else "E[x_i | x_<i]"
    right.image(upscale(grid(heat(result["means"], 784), ncol=ncol), factor), output_format="PNG",
                caption=f"{belief} at each pixel when it was drawn (navy 0, amber 1)")
    st.caption("The right picture is what the model believed before each draw: confident "
               "(navy or amber) on the background and inside strokes, unsure (in between) at "
               "their edges, where the draw decides the shape. Every pixel is drawn at random, so "
               "one unlikely draw early on can send the rest of the image elsewhere.")


def rows_kept(rows: int) -> str:
    """"Row 0" or "Rows 0–k": the kept rows in words."""
    return "Row 0" if rows == 1 else f"Rows 0–{rows - 1}"


def with_boundary(image: np.ndarray, rows: int, factor: int) -> np.ndarray:
    """A grey image upscaled, with a red line where the kept rows end."""
    rgb = upscale(colour(image / 255.0), factor)
    rgb[rows * factor] = NEXT
    return rgb


#: An example of an ambiguous upper part, in the dataset's own terms.
AMBIGUOUS = {"mnist": "e.g. the top of a 7 that may become a 9",
             "fashion-mnist": "e.g. shoulders that may end in a shirt, a dress or a coat",
             None: "where the kept rows fit more than one image"}


@state.fragment
def completion(folder: str, levels: int) -> None:
    st.subheader("Complete the lower part of a held-out image, or of your drawing")
    dataset = st.session_state["dataset"]
    images, _ = loaders.bundled(dataset)
    c = st.columns([1.3, 2, 1.8, 1.4, 1.1])
    source = inputs.image_source("ar.complete", c[0], ("held-out", "draw"))
    idx = inputs.held_out_index(dataset, "ar.idx", where=c[1], default=completions.DEFAULT_IMAGE)
    rows = c[2].slider("Rows kept", 1, 27, key="ar.rows", bind="query-params")
    k = c[3].slider("Completions", 1, 8, key="ar.k", bind="query-params")
    seed = inputs.seed("Seed", "ar.cseed", c[4])
    drawn = None
    if source == "draw":
        with st.columns([2, 3])[0]:
            drawn = inputs.drawing("ar.complete", until="Until then the completions are of the held-out image.")
    image, name = (drawn, "your drawing") if drawn is not None else (images[idx], "original")
    bar = st.progress(0.0, text="Completing…")
    out = completions.completions(folder, image, rows, k, seed,
                      lambda f: bar.progress(f, text=f"Completing: {f:.0%} of the pixels below row {rows}"))
    bar.empty()
    kept = sample.to_uint8(pixelcnn.quantize(data.to_float(image[None]), levels))[0]
    model_input = kept.copy()
    model_input[rows:] = 0
    cols = st.columns(k + 2)
    # inline (the first screen's main figure: no second request per picture)
    components.inline_image(upscale(image, 3), name, cols[0], width=84)
    components.inline_image(with_boundary(model_input, rows, 3),
                            f"kept: {rows_kept(rows).lower()}" + (", binarized" if levels == 2 else ""), cols[1], width=84)
    for j, col in enumerate(cols[2:]):
        components.inline_image(with_boundary(out[j], rows, 3), f"completion {j + 1}", col, width=84)
    same = bool((out[:, :rows] == kept[:rows]).all())
    st.caption(f"{rows_kept(rows)} of every completion {'equal' if same else 'DIFFER FROM'} the "
               "model's input; below the red line each pixel is drawn from p(x_i | x_<i) given "
               "the kept rows and the pixels drawn so far. The completions differ where the "
               f"image is ambiguous, {AMBIGUOUS.get(dataset, AMBIGUOUS[None])}.")


def cells(rgb: np.ndarray, factor: int) -> np.ndarray:
    """An RGB picture (H, W, 3) upscaled ``factor`` times with darker borders between pixels."""
    big = upscale(rgb, factor)
    big[::factor] //= 2
    big[:, ::factor] //= 2
    return big


@st.cache_resource(show_spinner=False)
def preset_geometry() -> PixelCNN:
    """An untrained PixelCNN of the preset config: its masks give the receptive field."""
    _, family, config = registry.resolve_model("pixelcnn")
    return family.model(config).eval()


def field_picture(model: PixelCNN, row: int, col: int, factor: int = 15) -> tuple[np.ndarray, dict]:
    """RGB picture of the receptive field of pixel (row, col), with pixel borders, and how many
    earlier pixels reach it (``seen``), are in its blind spot (``blind``: within the reach R of
    the net's depth, R rows up and R columns either side, yet unseen) or beyond that reach."""
    size = model.config.image_size
    reach = model.receptive_rows
    field = loaders.torch_call(pixelcnn.receptive_field, model, row, col).numpy()
    rows, cols = np.indices((size, size))
    before = rows * size + cols < row * size + col
    near = (rows >= row - reach) & (np.abs(cols - col) <= reach)
    blind, far = before & near & ~field, before & ~near
    rgb = np.empty((size, size, 3), np.uint8)
    rgb[:] = LATER
    rgb[far] = FAR
    rgb[blind] = BLIND
    rgb[field] = SEEN
    rgb[row, col] = NEXT
    return cells(rgb, factor), {"seen": int(field.sum()), "blind": int(blind.sum()), "far": int(far.sum()),
                 "reach": reach}


def mask_picture(kernel: int, mask_type: str, factor: int) -> np.ndarray:
    """A k×k causal mask: visible weights blue, hidden ones black, the centre red or dark red."""
    mask = causal_mask(kernel, mask_type).numpy().astype(bool)
    rgb = np.empty((kernel, kernel, 3), np.uint8)
    rgb[:] = LATER
    rgb[mask] = SEEN
    c = kernel // 2
    rgb[c, c] = NEXT if mask[c, c] else (110, 30, 25)
    return cells(rgb, factor)


def stack_picture(rows_above: int, width: int, left: int, factor: int) -> np.ndarray:
    """The two-stack net's kernels around the pixel (red): the vertical stack's rows above,
    ``width`` wide (blue), and the horizontal stack's pixels left on the row (green)."""
    rgb = np.empty((rows_above + 1, width, 3), np.uint8)
    rgb[:] = LATER
    rgb[:rows_above] = SEEN
    c = width // 2
    rgb[rows_above, c - left:c] = ROW
    rgb[rows_above, c] = NEXT
    return cells(rgb, factor)


def kernel_pictures(cfg, where) -> None:
    """The first layer's and the blocks' kernels: masks A and B of one stack, or the vertical
    and horizontal kernels of two."""
    k = cfg.first_kernel
    if cfg.stacks == 1:
        where.image(mask_picture(k, "A", 126 // k), output_format="PNG", width=126,
                    caption=f"mask A, {k}×{k}, first layer: the centre (dark red) hidden")
        where.image(mask_picture(3, "B", 42), output_format="PNG", width=126,
                    caption=f"mask B, 3×3, in each of the {cfg.blocks} blocks: the centre (red) shown")
        return
    where.image(stack_picture(k // 2, k, k // 2, 126 // k), output_format="PNG", width=126,
                caption=f"first layer: the {k // 2} rows above, {k} wide (vertical stack, blue), "
                        f"and {k // 2} pixels to the left (horizontal, green)")
    where.image(stack_picture(1, 3, 1, 42), output_format="PNG", width=126,
                caption=f"each of the {cfg.blocks} blocks: the vertical stack one row further up "
                        "and out; the horizontal one pixel further left, plus the vertical's view")


@state.fragment
def receptive_field(model: PixelCNN, source: str) -> None:
    st.subheader("What one pixel's prediction can see")
    size = model.config.image_size
    c = st.columns([1, 1, 2])
    row = c[0].slider("Pixel row", 0, size - 1, key="ar.rf_row", bind="query-params")
    col = c[1].slider("Pixel column", 0, size - 1, key="ar.rf_col", bind="query-params")
    picture, counts = field_picture(model, row, col)
    cfg = model.config
    i = row * size + col
    left, mid, right = st.columns([2.2, 1, 1.6])
    with left.container(key="ar-field-frames"):
        inline_image(picture, field_caption(row, col), width=picture.shape[1])
    k = cfg.first_kernel
    kernel_pictures(cfg, mid)
    right.markdown(f"Pixel {i} comes after **{i}** pixels in raster order: **{counts['seen']}** of "
                   f"them reach its prediction, **{counts['blind']}** are in its blind spot and "
                   f"**{counts['far']}** lie beyond the {counts['reach']} rows and columns the "
                   f"{cfg.blocks + 1} layers can reach.")
    if cfg.stacks == 1:
        right.caption(f"Geometry of {source}. The first layer's mask A sees {k // 2} rows "
                      "up (as far left and right) and the pixels to the left; each masked 3×3 layer "
                      "after it reaches one pixel further up-left, up, up-right and left. Reaching "
                      "right costs a row up every time, so the field's right edge slants: the orange "
                      "wedge above and to the right of the pixel is never seen, however deep the net. "
                      "The gated PixelCNN's separate vertical stack removes it.")
    else:
        right.caption(f"Geometry of {source}: two stacks (the gated PixelCNN). The vertical stack "
                      "sees only rows above the pixel and grows one row up and one column either "
                      "side per layer; the horizontal stack sees the pixels to the left on the "
                      "pixel's row and takes in the vertical stack's view through a 1×1 link. "
                      "Together they see every earlier pixel within reach: no blind spot (one "
                      "masked stack never sees the wedge above and to the right).")
    # the neighbouring pixels' fields, for the browser to show the moment a slider moves (a field
    # takes about a millisecond; this part of the page comes after the first screen)
    for key, near in (("ar.rf_row", {r: (r, col) for r in range(row - 2, row + 3)}),
                      ("ar.rf_col", {c: (row, c) for c in range(col - 2, col + 3)})):
        components.instant_frames(key, "ar-field-frames", row if key == "ar.rf_row" else col,
                                  {v: [(field_picture(model, *rc)[0], field_caption(*rc))]
                                   for v, rc in near.items() if 0 <= v < size},
                                  key=f"instant.{key}")


def field_caption(row: int, col: int) -> str:
    return (f"pixel ({row}, {col}), red: blue pixels reach its logits; orange ones are within reach but "
            "unseen (the blind spot), grey ones beyond the net's reach, black ones come later")


def flow_bits(dataset: str) -> tuple[str, float] | None:
    """The best bits/dim of this dataset's installed flows (name, value): a flow's dequantized
    bits/dim bounds the NLL of the same 256 grey levels from above, so it compares."""
    rows = [(r["card"]["name"], r["card"]["metrics"].get("bits_per_dim")) for r in loaders.models_for(dataset, "flow")
            if r["card"]]
    rows = [(name, bpd) for name, bpd in rows if bpd is not None]
    return min(rows, key=lambda r: r[1]) if rows else None


def likelihood(card: dict | None, dataset: str) -> None:
    st.subheader("Exact likelihood")
    c = st.columns([1, 1, 2])
    metrics = card["metrics"] if card else {}
    nats, bpd = metrics.get("nll_nats"), metrics.get("bits_per_dim")
    levels = card["config"].get("levels", 2) if card else 2
    comparable = dataset == "mnist" and levels == 2
    flow = flow_bits(dataset) if levels == 256 else None
    if nats is None:
        c[0].metric("This page's model", "not installed" if card is None else "not measured")
    elif levels == 2:
        c[0].metric(f"{card['name']}: held-out NLL", f"{nats:.1f} nats",
                    delta=f"{nats - ANCHOR_NATS:+.1f} vs the paper" if comparable else None,
                    delta_color="inverse",
                    help=f"{bpd:.4f} bits/dim; {metrics.get('n', '?')} held-out images, one binarization each")
    else:
        c[0].metric(f"{card['name']}: held-out NLL", f"{bpd:.3f} bits/dim",
                    delta=f"{bpd - flow[1]:+.3f} vs {flow[0]}" if flow else None, delta_color="inverse",
                    help=f"{nats:.1f} nats per image ({levels} grey levels, 784 pixels: bits/dim = "
                         f"nats / (784 ln 2)); {metrics.get('n', '?')} held-out images")
    if flow:
        c[1].metric(f"{flow[0]} (a flow, same data)", f"{flow[1]:.3f} bits/dim",
                    help="The same held-out images and 256 grey levels, through a normalizing flow: "
                         "its bits/dim of the dequantized images (k + u)/256 bound the discrete NLL "
                         "from above")
    else:
        c[1].metric("PixelCNN, binarized MNIST", f"{ANCHOR_NATS} nats",
                    help="van den Oord et al. 2016, Pixel Recurrent Neural Networks")
    if card is None:
        verdict = ("The paper's 81.3 is for binarized MNIST; a binarized MNIST checkpoint installed "
                   "here compares with it directly.")
    elif comparable:
        verdict = "The paper's 81.3 is for binarized MNIST; this model's number compares with it directly."
    elif flow:
        verdict = (f"Over {levels} grey levels the number is in bits per pixel. Both models give an exact "
                   "likelihood, so they compare on the same images: the PixelCNN's conditionals "
                   "p(x_i | x_<i) against the flow's change of variables. Glow, a larger flow, is "
                   "reported at about 2.9 bits/dim on Fashion-MNIST.") if dataset == "fashion-mnist" else (
                   f"Over {levels} grey levels the number is in bits per pixel; both models give an "
                   "exact likelihood, so they compare on the same images.")
    else:
        verdict = "There is no equivalent published figure for this dataset or quantization."
    c[2].caption("Negative log-likelihood per image: the sum of the 784 per-pixel cross-entropies, "
                 f"computed exactly in one pass (no bound, unlike a VAE's ELBO). {verdict}")


# --- the page ------------------------------------------------------------------------------------

state.page_setup()
init_state()
st.title("PixelCNN, pixel by pixel")
dataset = st.session_state["dataset"]
st.caption("An autoregressive model: p(x) = Π p(x_i | x_<i) in raster order. Masked "
           "convolutions compute every conditional in one pass for training and scoring; "
           "sampling is one step per pixel.")
show_maths()
row = state.model_picker("pixelcnn")
ckpt = loaders.try_load(row["folder"]) if row else None
if row is None:
    st.info(f"No PixelCNN checkpoint for {dataset} is installed yet (`checkpoints/{dataset}/"
            "pixelcnn`). Sampling pixel by pixel, the completions of held-out images and the "
            "held-out NLL appear here once it is; train it with "
            f"{loaders.train_command(dataset, 'pixelcnn', '--steps 4000')}. "
            "The receptive field below needs no weights: it uses the preset's geometry.")
elif ckpt is not None:
    sampling(row["folder"], ckpt.model.config.levels)
    completion(row["folder"], ckpt.model.config.levels)  # in the first screen (the launcher computes its default)
if components.below_the_fold("autoregressive"):
    if ckpt is not None:
        receptive_field(ckpt.model, f"{ckpt.card['name']} ({ckpt.card['dataset']})")
    else:
        receptive_field(preset_geometry(), "the preset pixelcnn config (no weights needed)")
    likelihood(ckpt.card if ckpt else None, dataset)
