import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from genlab.images import ImageError, grid, prepare_upload, upscale


def png(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def drawn_digit(size=(300, 200), ink=(20, 20, 160), paper=(250, 245, 235)) -> Image.Image:
    """A thick '1'-like stroke, dark ink on light paper, off centre, in colour."""
    img = Image.new("RGB", size, paper)
    ImageDraw.Draw(img).line([(60, 30), (90, 170)], fill=ink, width=18)
    return img


def centre_of_mass(a: np.ndarray) -> np.ndarray:
    return (np.indices(a.shape) * a).reshape(2, -1).sum(1) / a.sum()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_dark_on_light_colour_image_becomes_mnist_style(fmt):
    x = prepare_upload(png(drawn_digit(), fmt))
    assert x.shape == (28, 28) and x.dtype == np.uint8
    assert x[0].max() == 0 and x[:, 0].max() == 0  # background is black (inverted)
    assert x.max() >= 200
    rows, cols = np.nonzero(x > 30)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) <= 21  # ink box ~20 px
    np.testing.assert_allclose(centre_of_mass(x.astype(float)), [14, 14], atol=1.0)


def test_light_on_dark_and_transparent_images():
    light = Image.new("L", (50, 80), 0)
    ImageDraw.Draw(light).ellipse([10, 10, 40, 70], outline=255, width=5)
    a = prepare_upload(png(light))
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).rectangle([20, 10, 30, 50], fill=(0, 0, 0, 255))
    b = prepare_upload(png(rgba))
    for x in (a, b):
        assert x[0].max() == 0 and x.max() >= 200


@pytest.mark.parametrize("raw, message", [
    (b"", "empty"),
    (b"this is not an image", "not an image"),
    (png(Image.new("L", (40, 40), 128)), "No drawing found"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not an image"),
])
def test_bad_uploads_get_clear_messages(raw, message):
    with pytest.raises(ImageError, match=message):
        prepare_upload(raw)


def test_huge_uploads_are_refused():
    with pytest.raises(ImageError, match="limit is 10 MB"):
        prepare_upload(b"\0" * (11 * 1024 * 1024))
    with pytest.raises(ImageError, match="megapixels"):
        prepare_upload(png(Image.new("1", (9000, 9000), 0)))


def test_grid_and_upscale():
    imgs = np.stack([np.full((2, 2), i, np.uint8) for i in range(5)])
    g = grid(imgs, ncol=3, pad=1, value=9)
    assert g.shape == (5, 8)
    assert g[0, 0] == 0 and g[0, 3] == 1 and g[3, 3] == 4 and g[0, 2] == 9
    assert upscale(np.eye(2, dtype=np.uint8), 3).shape == (6, 6)
    rgb = grid(np.stack([imgs] * 3, axis=-1), ncol=3, pad=1, value=9)  # colour tiles
    assert rgb.shape == (5, 8, 3) and (rgb[..., 1] == g).all()
    assert upscale(rgb, 2).shape == (10, 16, 3)


def test_gif_round_trip_keeps_frames_and_holds_the_last():
    import io

    from PIL import Image

    from genlab.images import to_gif

    frames = [np.full((6, 8), v, np.uint8) for v in (0, 120, 255)]
    gif = Image.open(io.BytesIO(to_gif(frames, ms=50, hold=2)))
    assert gif.size == (8, 6) and gif.n_frames == 3 and gif.info["loop"] == 0
    seen = []
    for i in range(gif.n_frames):
        gif.seek(i)
        seen.append((int(np.asarray(gif.convert("L"))[0, 0]), gif.info["duration"]))
    assert seen == [(0, 50), (120, 50), (255, 150)]  # the held copies merge into one longer frame
    with pytest.raises(ValueError, match="at least one frame"):
        to_gif([])


def test_download_names_say_what_made_the_file_and_are_safe():
    from genlab.images import file_name

    assert file_name("fashion-mnist/reflow", "heun", "K=8", "seed 3", ext="png") == \
        "genlab_fashion-mnist-reflow_heun_K8_seed3.png"
    assert file_name("mnist/ddpm", "dpm++20", "", None, ext="gif") == "genlab_mnist-ddpm_dpm++20.gif"
    name = file_name("../../etc/passwd", "a:b*c?", ext="csv")
    assert "/" not in name and ":" not in name and "*" not in name and name.endswith(".csv")


def test_a_drawing_becomes_a_centred_digit_and_bad_drawings_say_why():
    from genlab.images import from_drawing

    pad = np.zeros((28, 28))
    pad[2:8, 20:23] = 255  # a short bar drawn in a corner
    image = from_drawing(pad.ravel().tolist())
    assert image.shape == (28, 28) and image.dtype == np.uint8
    rows, cols = np.nonzero(image)
    assert rows.max() - rows.min() + 1 == 20  # its ink box scaled to 20 px, as uploads are
    assert abs(np.average(np.indices(image.shape)[0], weights=image) - 14) < 1  # centre of mass
    for bad, why in (([0] * 784, "No drawing found"), ([0] * 100, "other than 28×28"),
                     ([300] * 784, "other than 28×28"), (None, "other than 28×28")):
        with pytest.raises(ImageError, match=why):
            from_drawing(bad)


def test_a_picture_is_encoded_once_per_process_and_the_memo_stays_within_its_budget(monkeypatch):
    import base64

    from genlab_ui import components

    calls = []
    real = components.to_png
    monkeypatch.setattr(components, "to_png", lambda image: calls.append(1) or real(image))
    monkeypatch.setattr(components, "_png_memo", components._Memo(components.PNG_MEMO_BYTES, len))
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (56, 84), dtype=np.uint8) for _ in range(2))
    url = components.png_data_url(a)
    assert url.startswith("data:image/png;base64,")
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert (decoded == a).all()
    assert components.png_data_url(a.copy()) == url and len(calls) == 1  # same pixels: no encoding
    assert components.png_data_url(b) != url and len(calls) == 2
    assert components.png_data_url(a.reshape(84, 56)) != url  # same bytes, another shape
    # beyond the budget the least recently used picture goes: a is used last, so b goes
    components.png_data_url(a)
    components._png_memo.budget = len(url) + len(components.png_data_url(a.reshape(84, 56)))
    components.png_data_url(rng.integers(0, 256, (8, 8), dtype=np.uint8))
    assert components._png_memo.used <= components._png_memo.budget
    n = len(calls)
    components.png_data_url(b)
    assert len(calls) == n + 1  # b was dropped, so it is encoded again


def test_a_scatter_map_is_encoded_once_and_any_change_makes_a_new_one(monkeypatch):
    """components.scatter_map keeps each map's JSON text: the same groups again (a switch back
    to PCA) reuse it; other points, another pinned point or another title encode anew."""
    import json

    from genlab_ui import components

    sent, calls = [], []
    real = components._scatter_data
    monkeypatch.setattr(components, "_scatter_map", lambda data, **_: sent.append(data))
    monkeypatch.setattr(components, "_scatter_data", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(components, "_scatter_memo", type(components._scatter_memo)())
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(50, 2))

    def group(xy):
        return [{"name": "held-out", "color": "#1f77b4", "x": xy[:, 0], "y": xy[:, 1],
                 "index": np.arange(len(xy)), "atlas": 0, "caption": "held-out"}]

    def show(xy, **kw):
        components.scatter_map(group(xy), [None], ("PC 1", "PC 2"), key="m", on_pick=None, **kw)
        return json.loads(sent[-1])

    first = show(xy)
    assert first["groups"][0]["x"] == np.round(xy[:, 0], 4).tolist() and first["axis"] == ["PC 1", "PC 2"]
    assert show(xy.copy()) == first and len(calls) == 1 and sent[-1] is sent[0]  # the same text again
    moved = xy.copy()
    moved[3, 1] += 1
    assert show(moved)["groups"][0]["y"][3] != first["groups"][0]["y"][3] and len(calls) == 2
    assert show(xy, pinned=(0, 7))["pinned"] == [0, 7] and len(calls) == 3
    components.scatter_map(group(xy), [None], ("t-SNE 1", "t-SNE 2"), key="m", on_pick=None)
    assert json.loads(sent[-1])["axis"][0] == "t-SNE 1" and len(calls) == 4


def test_instant_frames_pictures_are_content_named_files_written_once_and_pruned(monkeypatch, tmp_path):
    """components.frame_url: the pictures a slider's neighbours show, as static files named by
    their pixels (so never stale), encoded once per process; static/frames/ stays bounded; a
    folder that cannot be written gives data URLs; an SVG gives st.image's own data URL."""
    import base64

    from genlab_ui import components

    calls = []
    real = components.to_png
    monkeypatch.setattr(components, "to_png", lambda image: calls.append(1) or real(image))
    monkeypatch.setattr(components, "_SERVED", tmp_path)
    monkeypatch.setattr(components, "_frame_memo", components._Memo(10))
    monkeypatch.setattr(components, "FRAME_FILES_KEEP", 20)
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (28, 56), dtype=np.uint8)
    url = components.frame_url(a)
    assert url.startswith("app/static/frames/") and url.endswith(".png")
    written = tmp_path / "frames" / url.rsplit("/", 1)[1]
    assert (np.asarray(Image.open(written)) == a).all()
    assert components.frame_url(a.copy()) == url and len(calls) == 1
    for _ in range(30):
        components.frame_url(rng.integers(0, 256, (8, 8), dtype=np.uint8))
    components._prune_frames(tmp_path / "frames")
    assert len(list((tmp_path / "frames").glob("*.png"))) <= components.FRAME_FILES_KEEP
    shown = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    components.png_data_url(shown)  # a picture a page showed already: its PNG is reused, not encoded again
    n = len(calls)
    served = tmp_path / "frames" / components.frame_url(shown).rsplit("/", 1)[1]
    assert len(calls) == n and (np.asarray(Image.open(served)) == shown).all()
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>'
    assert components.frame_url(svg) == "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    monkeypatch.setattr(components, "serve_file", lambda *args: None)  # e.g. a read-only install
    monkeypatch.setattr(components, "_SERVED", tmp_path / "nowhere")
    b = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    assert components.frame_url(b) == components.png_data_url(b)
