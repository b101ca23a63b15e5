"""Image helpers: grids, upscaling, and turning an uploaded picture into an MNIST-style
28×28 digit (grey, light ink on black, ink box 20×20 centred by its centre of mass, as
LeCun et al. made MNIST)."""

from __future__ import annotations

import io

import numpy as np

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # 10 MB: larger files are refused with a message
MAX_UPLOAD_PIXELS = 40_000_000  # guards against decompression bombs


class ImageError(ValueError):
    """An uploaded file cannot be turned into a 28×28 image; the message says why."""


def grid(images: np.ndarray, ncol: int | None = None, pad: int = 2, value: int = 40) -> np.ndarray:
    """Tile uint8 images (N, H, W) into one (rows*(H+pad)-pad, cols*(W+pad)-pad) array;
    colour images (N, H, W, 3) give (…, …, 3)."""
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    ncol = ncol or int(np.ceil(np.sqrt(n)))
    nrow = int(np.ceil(n / ncol))
    out = np.full((nrow * (h + pad) - pad, ncol * (w + pad) - pad, *images.shape[3:]), value,
                  dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, ncol)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = img
    return out


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling, so pixels stay crisp in the browser."""
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def to_png(image: np.ndarray) -> bytes:
    """uint8 (H, W) or (H, W, 3) -> PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def to_gif(frames: list[np.ndarray], *, ms: int = 60, hold: int = 10) -> bytes:
    """uint8 frames (each (H, W) or (H, W, 3), all one size) -> a looping animated GIF, the
    last frame held ``hold`` frames longer so the end can be seen."""
    from PIL import Image

    if not len(frames):
        raise ValueError("an animation needs at least one frame")
    pics = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
    pics += [pics[-1]] * hold
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=ms, loop=0)
    return buf.getvalue()


def file_name(*parts, ext: str) -> str:
    """A download's file name from what made it, e.g. ("fashion-mnist/reflow", "heun", "K=8",
    "seed 3") -> ``genlab_fashion-mnist-reflow_heun_K8_seed3.png``; safe on every OS."""
    words = ["genlab", *(str(p) for p in parts if p is not None and str(p) != "")]
    clean = ["".join(ch if ch.isalnum() or ch in "-+." else "-" for ch in w.replace("=", "").replace(" ", ""))
             .strip("-.") for w in words]
    return "_".join(c for c in clean if c) + "." + ext


def prepare_upload(raw: bytes) -> np.ndarray:
    """Turn an uploaded PNG/JPG of any size and colours into a 28×28 uint8 digit.

    Steps: (1) decode and convert to grey; (2) make the ink light on black (invert when
    the border is light); (3) crop to the ink's bounding box; (4) resize so its longer
    side is 20 px; (5) paste into 28×28 so the centre of mass sits at the centre.

    Raises:
        ImageError: empty, too large, not an image, or no ink found.
    """
    from PIL import Image, UnidentifiedImageError

    if not raw:
        raise ImageError("The file is empty.")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ImageError(f"The file is {len(raw) / 1e6:.1f} MB; the limit is "
                         f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    try:
        with Image.open(io.BytesIO(raw)) as im:
            if im.width * im.height > MAX_UPLOAD_PIXELS:
                raise ImageError(f"The image is {im.width}×{im.height} pixels; the limit is "
                                 f"{MAX_UPLOAD_PIXELS // 1_000_000} megapixels.")
            im.load()
            if im.mode in ("RGBA", "LA") or "transparency" in im.info:
                rgba = im.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                im = Image.alpha_composite(background, rgba)
            grey = np.asarray(im.convert("L"), dtype=np.float32)
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError, SyntaxError):
        raise ImageError("This file is not an image genlab can read (use PNG or JPG).") from None
    return center_digit(grey)


def from_drawing(pixels) -> np.ndarray:
    """The drawing pad's 784 grey levels (row by row, 0…255) -> an MNIST-style uint8 (28, 28),
    centred as an upload is (center_digit).

    Raises:
        ImageError: not 784 numbers in 0…255, or nothing drawn.
    """
    grey = np.asarray(pixels if pixels is not None else [], dtype=np.float32)
    if grey.shape != (784,) or not np.isfinite(grey).all() or grey.min() < 0 or grey.max() > 255:
        raise ImageError("The drawing pad sent something other than 28×28 grey levels; clear it and draw again.")
    return center_digit(grey.reshape(28, 28))


def center_digit(grey: np.ndarray) -> np.ndarray:
    """Grey image (H, W) float in [0, 255], any polarity -> MNIST-style uint8 (28, 28)."""
    from PIL import Image

    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 127:  # dark ink on a light background: invert
        grey = 255.0 - grey
    grey = grey - np.median(border if np.median(border) <= 127 else 255.0 - border)
    grey = np.clip(grey, 0, None)
    if grey.max() < 30:
        raise ImageError("No drawing found: the image is almost uniform.")
    grey = grey * (255.0 / grey.max())
    grey[grey < 0.15 * 255] = 0  # drop faint background noise
    rows, cols = np.nonzero(grey)
    crop = grey[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray(crop.astype(np.uint8)).resize(size, Image.LANCZOS),
                       dtype=np.float32)
    out = np.zeros((28, 28), dtype=np.float32)
    total = small.sum()
    cy, cx = ((np.indices(small.shape) * small).reshape(2, -1).sum(1) / total
              if total > 0 else (small.shape[0] / 2, small.shape[1] / 2))
    top = int(round(14 - cy))
    left = int(round(14 - cx))
    top = min(max(top, 0), 28 - small.shape[0])
    left = min(max(left, 0), 28 - small.shape[1])
    out[top: top + small.shape[0], left: left + small.shape[1]] = small
    return np.clip(out, 0, 255).round().astype(np.uint8)
