"""AppTest of every page: no exception, and the main controls change the output."""

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from genlab import checkpoints

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


def page(name: str, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def image_bytes(at: AppTest) -> list:
    """The image payloads on the page (their media URLs hash the content)."""
    return [str(el.proto) for el in at.get("image")]


def test_app_entry_point_runs():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.sidebar.selectbox[0].label == "Dataset"


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_home_lists_every_checkpoint(dataset):
    at = page("home", dataset=dataset)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    shipped = [p.name for p in checkpoints.find_all() if p.parent.name == dataset]
    assert shipped, "no shipped checkpoints"
    for name in shipped:
        assert f"**{name}**" in text
    generative = [p for p in checkpoints.find_all() if p.parent.name == dataset
                  and checkpoints.read_card(p)["family"] != "classifier"]
    assert len(at.get("image")) == len(generative)  # one sample grid per generative model


def test_vae_2d_sliders_change_the_image():
    at = page("vae", dataset="mnist")
    assert not at.exception
    assert at.slider(key="vae.z1").label == "z1"
    before = image_bytes(at)
    at.slider(key="vae.z1").set_value(2.0).run()
    at.slider(key="vae.z2").set_value(-1.5).run()
    assert not at.exception
    after = image_bytes(at)
    assert after[0] != before[0]  # the decoded image changed
    assert after[1:] == before[1:]  # nothing else did
    assert "z = (2.00, -1.50)" in str(at.get("image")[0].proto)


def test_vae_2d_manifold_and_interpolation_controls():
    at = page("vae", dataset="mnist")
    before = image_bytes(at)
    at.select_slider(key="vae.grid_n").set_value(7).run()
    at.radio(key="vae.method").set_value("linear").run()
    assert not at.exception
    after = image_bytes(at)
    assert after[1] != before[1] and after[2] != before[2]


def test_vae_16d_dimension_controls():
    at = page("vae", dataset="mnist", **{"model.vae.mnist": str(ROOT / "checkpoints/mnist/vae-16d")})
    assert not at.exception
    assert at.session_state["vae.z16"] == [0.0] * 16
    before = image_bytes(at)[0]
    at.button(key="vae.random").click().run()
    assert not at.exception
    z = at.session_state["vae.z16"]
    assert len(z) == 16 and any(v != 0 for v in z) and max(abs(v) for v in z) <= 3.0
    assert image_bytes(at)[0] != before  # the server decode follows z
    at.button(key="vae.reset").click().run()
    assert at.session_state["vae.z16"] == [0.0] * 16


def test_broken_checkpoint_shows_error_and_app_keeps_running(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    shutil.copytree(ROOT / "checkpoints" / "mnist" / "vae-2d", root / "mnist" / "vae-2d")
    weights = root / "mnist" / "vae-2d" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10] + b"tampered!!")
    monkeypatch.setattr(checkpoints, "ROOT", root)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "vae.py"), default_timeout=TIMEOUT)
    at.session_state["dataset"] = "mnist"
    at.run()
    assert not at.exception
    assert any("does not match" in e.value for e in at.error)
    home = AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=TIMEOUT).run()
    assert not home.exception and any("does not match" in e.value for e in home.error)
    st.cache_data.clear()


def test_diffusion_forward_process_controls():
    at = page("diffusion", dataset="mnist")
    assert not at.exception
    first = image_bytes(at)
    at.slider(key="diff.t").set_value(700).run()
    after_t = image_bytes(at)
    assert after_t[0] != first[0] and after_t[1] == first[1]  # x_t changed, the strip did not
    at.radio(key="diff.schedule").set_value("cosine").run()
    assert image_bytes(at)[1] != after_t[1]  # the strip follows the schedule
    at.number_input(key="diff.noise_seed").set_value(5).run()
    assert not at.exception
    assert "t = 700" in str(at.get("image")[0].proto)


def test_diffusion_reverse_process_ui(tiny_ddpm_root, monkeypatch):
    monkeypatch.setattr(checkpoints, "ROOT", tiny_ddpm_root)
    st.cache_data.clear()
    at = page("diffusion", dataset="mnist", **{"diff.k": 10, "diff.n": 4})
    assert not at.exception
    at.button(key="diff.go").click().run()
    assert not at.exception
    step = at.slider(key="diff.step")
    assert step.max == 10  # 10 DDIM steps, then the final sample
    before = image_bytes(at)
    step.set_value(5).run()
    after = image_bytes(at)
    assert after != before and "t = 400" in " ".join(str(e.proto) for e in at.get("image"))
    assert any("DDIM-10" in c.value for c in at.caption)
    at.button(key="diff.compare").click().run()
    assert not at.exception
    assert sum("DDPM-1000" in str(e.proto) for e in at.get("image")) == 1
    st.cache_data.clear()


def test_gans_page_without_gan_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "ROOT", tmp_path)
    st.cache_data.clear()
    at = page("gans", dataset="mnist")
    assert not at.exception
    assert any("No GAN checkpoint for mnist" in i.value for i in at.info)
    assert at.expander  # the maths is there without models
    st.cache_data.clear()


def captions(at: AppTest) -> list[str]:
    return [img.caption for el in at.get("image") for img in el.proto.imgs]


def test_gans_page_controls(tiny_gan_root, monkeypatch):
    monkeypatch.setattr(checkpoints, "ROOT", tiny_gan_root)
    st.cache_data.clear()
    at = page("gans", dataset="mnist")
    assert not at.exception
    first = captions(at)
    for name in ("gan-mlp", "dcgan", "wgan-gp", "vae-16d (reference)"):
        assert any(c.startswith(f"{name} · seed 0") for c in first), name
    assert any("mean critic value" in c for c in first) and any("P(real)" in c for c in first)
    before = image_bytes(at)
    at.number_input(key="gans.seed").set_value(3).run()
    after = image_bytes(at)
    assert after[:4] != before[:4] and after[4:] == before[4:]  # only the seed grids changed
    assert any(c.startswith("dcgan · seed 3") for c in captions(at))

    snapshot = at.select_slider(key="gans.snapshot")
    assert snapshot.value == 8  # the last of the steps 0, 1, 2, 4, 8
    snapshot.set_value(2).run()
    assert not at.exception and any("at step 2:" in c for c in captions(at))

    at.radio(key="gans.walk_method").set_value("linear").run()
    assert sum("along the linear path" in c for c in captions(at)) == 3
    quality = at.dataframe[0].value  # FD, class entropy, precision, recall per variant
    assert list(quality["model"]) == ["gan-mlp", "dcgan", "wgan-gp"]
    assert (quality["class entropy (bits)"] >= 0).all()

    at.multiselect(key="gans.picks").set_value([5]).run()
    assert not at.exception
    assert any(m.value.startswith("nearest training image") for m in at.markdown)
    assert sum(c.startswith("train · ") for c in captions(at)) == 5  # the 5 nearest of sample #5
    st.cache_data.clear()


def plotly_spec(at: AppTest, index: int = 0) -> dict:
    import json

    return json.loads(at.get("plotly_chart")[index].proto.spec)


def test_projections_pca_then_tsne_and_overlay():
    at = page("projections", dataset="mnist")
    assert not at.exception
    pca = plotly_spec(at)
    assert pca["layout"]["xaxis"]["title"]["text"] == "PC 1"
    assert [t["name"] for t in pca["data"]] == [str(d) for d in range(10)]  # one trace per class
    assert sum(len(t["customdata"]) for t in pca["data"]) == 2000  # (x, y are binary-packed)
    assert any("components keep" in c.value for c in at.caption)  # the explained variance
    at.radio(key="proj.method").set_value("t-SNE").run()  # the shipped default map
    assert not at.exception
    tsne = plotly_spec(at)
    assert tsne["layout"]["xaxis"]["title"]["text"] == "t-SNE 1"
    assert tsne["data"][0]["x"] != pca["data"][0]["x"]
    vae = str(ROOT / "checkpoints/mnist/vae-2d")
    at.multiselect(key="proj.overlay").set_value([vae]).run()
    at.select_slider(key="proj.n_samples").set_value(100).run()
    assert not at.exception
    names = [t["name"] for t in plotly_spec(at)["data"]]
    assert names[-1] == "samples: vae-2d" and len(plotly_spec(at)["data"][-1]["customdata"]) == 100


def test_projections_pinned_point_decodes_for_a_vae():
    key = "proj.source.mnist"
    at = page("projections", dataset="mnist", **{key: str(ROOT / "checkpoints/mnist/vae-2d"),
                                                 "proj.pin": (0, 7)})
    assert not at.exception
    captions = " ".join(str(e.proto) for e in at.get("image"))
    assert "held-out #7" in captions and "decoded μ" in captions
    at.button(key="proj.unpin").click().run()
    assert not at.exception and not at.get("image")
