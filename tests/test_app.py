"""AppTest of every page: no exception, and the main controls change the output."""

import shutil
import time
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
    """The image payloads on the page, one per picture (an image list, e.g. /gans' row, has
    several; their media URLs hash the content)."""
    return [str(img) for el in at.get("image") for img in el.proto.imgs]


def test_app_entry_point_runs():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.sidebar.radio[0].label == "Dataset"


def test_the_dataset_is_kept_in_the_url_for_a_reload():
    """#25 item 6: a reload started again on MNIST."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["dataset"] = "fashion-mnist"  # what a reload of a Fashion-MNIST page sends
    at.run()
    assert not at.exception and at.session_state["dataset"] == "fashion-mnist"
    at.sidebar.radio[0].set_value("mnist").run()
    assert at.query_params["dataset"] in ("mnist", ["mnist"])


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
    captions = " ".join(c.value for c in at.caption)
    assert f"started from {dataset}/rectified-flow" in captions  # the reflow's card: trained_from


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
    at.slider(key="diff.noise_seed").set_value(5).run()
    assert not at.exception
    assert "t = 700" in str(at.get("image")[0].proto)


def finished(at: AppTest) -> AppTest:
    """Rerun once the page's background jobs (genlab_ui.jobs) have ended."""
    from genlab_ui import jobs

    jobs.wait_all()
    return at.run()


def test_diffusion_reverse_process_ui(tiny_ddpm_root, monkeypatch):
    monkeypatch.setattr(checkpoints, "ROOT", tiny_ddpm_root)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = page("diffusion", dataset="mnist", **{"diff.k": 10, "diff.n": 4})
    assert not at.exception
    at.button(key="diff.go").click().run()
    finished(at)
    assert not at.exception
    step = at.slider(key="diff.step")
    assert step.max == 10 and step.value == 10  # 10 DDIM steps, then the final sample: shown first (#25 item 4)
    assert captions(at)[2] == "x_0 (final sample)"
    before = image_bytes(at)
    step.set_value(5).run()
    after = image_bytes(at)
    # the code's timestep 400 takes x_401 to x_400: one convention for t (#25 item 9)
    assert after != before and "x_t, t = 401" in captions(at)
    assert any("DDIM-10" in c.value for c in at.caption)
    at.button(key="diff.play").click().run()  # Play moves the slider (#25 item 4)
    assert at.slider(key="diff.step").value == 10 and captions(at)[2] == "x_0 (final sample)"
    st.cache_resource.clear()  # the finished run survives a rerun without its job (#25 item 6)
    at.slider(key="diff.t").set_value(30).run()
    assert at.slider(key="diff.step").max == 10 and "x_0 (final sample)" in captions(at)
    at.slider(key="diff.n").set_value(1).run()
    at.button(key="diff.go").click().run()
    finished(at)
    assert any("for 1 image on" in c.value for c in at.caption)  # #25 item 14, not "1 images"
    st.cache_data.clear()


def test_diffusion_comparison_stays_until_its_inputs_change(tiny_ddpm_root, monkeypatch):
    """#25 item 5: the five grids vanished when any other control changed."""
    monkeypatch.setattr(checkpoints, "ROOT", tiny_ddpm_root)
    st.cache_data.clear()
    at = page("diffusion", dataset="mnist")
    at.button(key="diff.compare").click().run()
    if any(b.key == "diff.compare_confirm" for b in at.button):  # a busy machine: the page asks first
        at.button(key="diff.compare_confirm").click().run()
    finished(at)
    assert not at.exception
    compared = lambda: [c for c in captions(at) if c.startswith(("DDPM-1000:", "DDIM-"))]
    assert len(compared()) == 5, captions(at)
    at.slider(key="diff.t").set_value(600).run()
    at.slider(key="diff.n").set_value(3).run()
    assert len(compared()) == 5  # other controls keep them
    at.slider(key="diff.seed").set_value(4).run()
    assert compared() == []  # their own input changed
    st.cache_data.clear()


def test_diffusion_asks_before_a_long_run_and_offers_ddim(tiny_ddpm_root, monkeypatch):
    """#25, the long waits: over 20 s the page asks first; DDIM-50 is the cheaper choice."""
    from genlab_ui import jobs, loaders

    monkeypatch.setattr(checkpoints, "ROOT", tiny_ddpm_root)
    monkeypatch.setattr(loaders, "denoiser_speed", lambda folder, n: (1, 0.05))  # 50 s for DDPM-1000
    st.cache_data.clear()
    at = page("diffusion", dataset="mnist", **{"diff.sampler": "DDPM", "diff.n": 2})
    at.button(key="diff.go").click().run()
    assert not at.exception and not jobs.wait_all(0)  # nothing runs yet
    assert any("about 52 s" in w.value and "DDIM-50" in w.value for w in at.warning)
    at.button(key="diff.instead").click().run()
    assert at.radio(key="diff.sampler").value == "DDIM" and at.select_slider(key="diff.k").value == 50
    finished(at)
    assert at.slider(key="diff.step").max == 50 and not at.warning
    st.cache_data.clear()


def test_diffusion_cancel_stops_a_run_within_a_second(tiny_ddpm_root, monkeypatch):
    from genlab_ui import jobs, loaders

    monkeypatch.setattr(checkpoints, "ROOT", tiny_ddpm_root)
    monkeypatch.setattr(loaders, "denoiser_speed", lambda folder, n: (1, 0.001))  # no question asked
    st.cache_data.clear()
    at = page("diffusion", dataset="mnist", **{"diff.sampler": "DDPM", "diff.n": 16, "diff.seed": 9})
    at.button(key="diff.go").click().run()
    bar = [str(e.proto) for e in at.get("progress")]
    assert bar and "DDPM-1000, 16 images" in bar[0], bar
    job = jobs.get(at.session_state["diff.run"])
    pressed = []  # when the page's Cancel handler ran (the page's rerun before it is page latency)
    monkeypatch.setattr(job, "cancel", lambda cancel=job.cancel: (pressed.append(time.perf_counter()), cancel()))
    at.button(key="diff.job.cancel").click()
    at.run()
    jobs.wait_all()
    assert job.state == "cancelled" and len(pressed) == 1 and job.ended - pressed[0] < 1.0
    finished(at)
    assert any("cancelled after" in i.value for i in at.info) and not at.get("progress")
    st.cache_data.clear()


def test_diffusion_one_convention_for_t_and_the_check_names_its_schedule():
    """#25 items 1 and 9: t = 0 is the image itself; t = T the last step on every view."""
    at = page("diffusion", dataset="mnist", **{"diff.t": 0})
    assert "x_t at t = 0: √ᾱ_t = 1.000, √(1−ᾱ_t) = 0.000" in captions(at)[0]
    assert at.slider(key="diff.t").max == 1000 and at.select_slider(key="diff.t_check").value == 1000
    table = at.table[0].value
    assert table["schedule"][0] == "linear" and int(table["t"][0]) == 1000
    at.radio(key="diff.schedule").set_value("cosine").run()
    table = at.table[0].value
    assert table["schedule"][0] == "cosine" and float(table["closed-form mean"][0]) < 1e-3


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
    at.slider(key="gans.seed").set_value(3).run()
    after = image_bytes(at)
    assert after[:4] != before[:4] and after[4:] == before[4:]  # only the seed grids changed
    assert any(c.startswith("dcgan · seed 3") for c in captions(at))

    snapshot = at.select_slider(key="gans.snapshot")
    assert snapshot.value == 8  # the last of the steps 0, 1, 2, 4, 8
    snapshot.set_value(2).run()
    assert not at.exception and any("at step 2:" in c for c in captions(at))

    at.radio(key="gans.walk_method").set_value("linear").run()
    assert sum("along the linear path" in c for c in captions(at)) == 3
    quality = at.table[0].value  # FD, class entropy, precision, recall per variant
    assert list(quality["model"]) == ["gan-mlp", "dcgan", "wgan-gp"]
    columns = list(quality.columns)  # #25 item 7: the sample count beside every FD
    assert columns[1:3] == ["samples", "FD ↓"] and set(quality["samples"]) == {"1,000"}  # tiny: no card
    assert (quality["class entropy (bits)"].astype(float) >= 0).all()
    assert at.table[1].value.shape == (4, 4)  # D's score of each of the 16 samples, as the grid

    at.multiselect(key="gans.picks").set_value([5]).run()
    assert not at.exception
    assert any(m.value.startswith("**#5** · nearest training image") for m in at.markdown)
    strip = [c for c in captions(at) if c.startswith("#5 (D ")]  # sample #5 and its 5 nearest
    assert len(strip) == 1 and strip[0].split(" at ")[1].count(",") == 4, strip
    st.cache_data.clear()


def plotly_spec(at: AppTest, index: int = 0) -> dict:
    import json

    return json.loads(at.get("plotly_chart")[index].proto.spec)


def component_payload(at: AppTest, name: str) -> dict:
    """The data a custom component (``genlab.<name>``) was sent."""
    import json

    found = [e.proto for e in at.get("bidi_component") if e.proto.component_name == f"genlab.{name}"]
    assert found, f"no {name} component on the page"
    data = json.loads(found[0].json)
    return json.loads(data) if isinstance(data, str) else data  # some are sent as JSON text


def component_data(at: AppTest, name: str) -> dict:
    """As ``component_payload``; for a scatter map sent with its switch, the map shown."""
    data = component_payload(at, name)
    return data.get("main", data)


def test_projections_pca_then_tsne_and_overlay():
    at = page("projections", dataset="mnist")
    assert not at.exception
    pca = component_data(at, "scatter_map")
    assert pca["axis"] == ["PC 1", "PC 2"]
    assert [g["name"] for g in pca["groups"]] == [str(d) for d in range(10)]  # one group per class
    assert sorted(i for g in pca["groups"] for i in g["index"]) == list(range(2000))
    assert len(pca["bars"]["values"]) == 50 and 0 < sum(pca["bars"]["values"]) <= 1
    assert any("components keep" in c.value for c in at.caption)  # the explained variance
    ahead_tsne = component_payload(at, "scatter_map")["switch"]  # sent ahead: the browser draws it on the click
    assert ahead_tsne["control"] == "st-key-proj-method" and ahead_tsne["value"] == "1"
    at.radio(key="proj.method").set_value("t-SNE").run()  # the shipped default map
    assert not at.exception
    tsne = component_data(at, "scatter_map")
    assert tsne["axis"][0] == "t-SNE 1" and tsne["bars"] is None
    assert ahead_tsne["data"] == tsne  # what the click drew is what the rerun draws
    assert component_payload(at, "scatter_map")["switch"]["data"] == pca  # and back
    assert tsne["groups"][0]["x"] != pca["groups"][0]["x"] and tsne["key"] != pca["key"]
    vae = str(ROOT / "checkpoints/mnist/vae-2d")
    at.button_group(key="proj.overlay").set_value([vae]).run()
    at.select_slider(key="proj.n_samples").set_value(100).run()
    assert not at.exception
    last = component_data(at, "scatter_map")["groups"][-1]
    assert last["name"] == "samples: vae-2d" and len(last["x"]) == 100 and last["atlas"] == 1
    assert component_data(at, "scatter_map")["key"] == tsne["key"]  # overlays keep the view


def test_projections_pinned_point_decodes_for_a_vae():
    key = "proj.source.mnist"
    at = page("projections", dataset="mnist", **{key: str(ROOT / "checkpoints/mnist/vae-2d"),
                                                 "proj.pin": (0, 7)})
    assert not at.exception
    captions = " ".join(str(e.proto) for e in at.get("image"))
    assert "held-out #7" in captions and "decoded μ" in captions
    ring = component_data(at, "scatter_map")["pinned"]  # [group, position] of held-out #7
    assert component_data(at, "scatter_map")["groups"][ring[0]]["index"][ring[1]] == 7
    at.button(key="proj.unpin").click().run()
    assert not at.exception and not at.get("image")


def page_on(root, name: str, monkeypatch, **state) -> AppTest:
    """A page run with the checkpoints folder ``root`` (caches cleared), dataset MNIST."""
    monkeypatch.setattr(checkpoints, "ROOT", root)
    st.cache_data.clear()
    return page(name, dataset="mnist", **state)


def test_flows_page_without_flow_checkpoints(tmp_path, monkeypatch):
    at = page_on(tmp_path, "flows", monkeypatch, **{"flows.toy_steps": 250})
    assert not at.exception
    assert any("No normalizing-flow checkpoint for mnist" in i.value for i in at.info)
    assert at.expander and not at.get("image")  # the maths, and no sample grid
    assert "2,000 points" in plotly_spec(at)["layout"]["title"]["text"]  # the toy data, untrained
    at.button(key="flows.train").click().run()  # the toy flow needs no checkpoint
    finished(at)  # it trains as a job (genlab_ui.jobs)
    assert not at.exception
    titles = [plotly_spec(at, i)["layout"]["title"]["text"] for i in range(2)]
    assert titles[0].startswith("p(x) =") and "through 8 of 8 inverse layers" in titles[1]
    st.cache_data.clear()


def test_flows_page_controls(tiny_flow_root, monkeypatch):
    realnvp = str(tiny_flow_root / "mnist" / "realnvp")  # the page defaults to NICE
    at = page_on(tiny_flow_root, "flows", monkeypatch,
                 **{"flows.toy_steps": 250, "flows.toy": "gaussians", "model.flow.mnist": realnvp})
    assert not at.exception and not at.info[:-1]  # only the toy flow's "press Train"
    first = captions(at)
    assert first[0].startswith("16 samples") and "N(0, 0.70²·I)" in first[0]
    assert [c for c in first if c.startswith("z, scale")] == [
        "z, scale 1: 2 × 14 × 14", "z, scale 2: 4 × 7 × 7", "z, scale 3: 4 × 7 × 7"]
    text = " ".join(m.value for m in at.markdown)
    assert "x̂ is the same 8-bit image" in text  # the round trip is exact up to round-off
    before = image_bytes(at)
    at.slider(key="flows.temperature").set_value(1.0).run()
    after = image_bytes(at)
    assert after[0] != before[0] and after[1:] == before[1:]  # only the sample grid changed
    assert "N(0, 1.00²·I)" in captions(at)[0]
    at.select_slider(key="flows.idx.mnist").set_value(3).run()
    assert image_bytes(at)[1] != after[1] and not at.exception  # another image, another z
    hist = plotly_spec(at)
    assert [t["name"] for t in hist["data"]] == ["mnist held-out", "fashion-mnist held-out", "uniform noise"]
    assert any("Median bits/dim for realnvp" in c.value for c in at.caption)

    at.button(key="flows.train").click().run()
    finished(at)
    assert not at.exception
    density, warp = plotly_spec(at, 1), plotly_spec(at, 2)
    assert density["data"][0]["type"] == "heatmap" and "x-space" in warp["layout"]["title"]["text"]
    at.slider(key="flows.layer").set_value(0).run()
    assert not at.exception
    assert plotly_spec(at, 1) == density  # the density stays, the grid moves
    moved = plotly_spec(at, 2)
    assert "z-space" in moved["layout"]["title"]["text"] and moved["data"][0] != warp["data"][0]
    axes = lambda spec: (spec["layout"]["xaxis"]["title"]["text"], spec["layout"]["yaxis"]["title"]["text"])
    assert axes(warp) == ("x₁", "x₂") and axes(moved) == ("z₁", "z₂")  # #25 item 14: z-space axes
    st.cache_data.clear()


def test_flows_toy_training_is_a_job_that_cancel_stops_within_a_second(tmp_path, monkeypatch):
    """#25, the long waits: 1,000 toy steps blocked the page for 9 s with a bare progress bar."""
    from genlab_ui import jobs

    at = page_on(tmp_path, "flows", monkeypatch, **{"flows.toy_steps": 1000, "flows.toy": "rings"})
    at.button(key="flows.train").click().run()
    bar = [str(e.proto) for e in at.get("progress")]
    assert bar and "Training the toy flow on two rings, 1,000 steps" in bar[0] and " left" in bar[0], bar
    job = jobs.get(("toy flow", "rings", 1000))
    time.sleep(0.3)
    at.button(key="flows.toy_job.cancel").click()
    t0 = time.perf_counter()
    at.run()
    jobs.wait_all()
    assert job.state == "cancelled" and job.ended - t0 < 1.0
    finished(at)
    assert any("cancelled after" in i.value for i in at.info) and not at.get("progress")
    assert "2,000 points" in plotly_spec(at)["layout"]["title"]["text"]  # the data, untrained
    at.select_slider(key="flows.toy_steps").set_value(250).run()
    at.button(key="flows.train").click().run()  # the result appears once its job ends
    finished(at)
    assert plotly_spec(at, 0)["layout"]["title"]["text"].startswith("p(x) =")
    assert any(c.value.startswith("250 steps in") for c in at.caption)
    at.select_slider(key="flows.toy_steps").set_value(1000).run()  # the cancelled one again:
    assert any("cancelled after" in i.value for i in at.info)  # its note, until Train
    at.select_slider(key="flows.toy_steps").set_value(250).run()
    assert plotly_spec(at, 0)["layout"]["title"]["text"].startswith("p(x) =")  # kept by its inputs
    st.cache_data.clear()


def test_flows_page_with_nice_shows_one_z(tiny_flow_root, tmp_path, monkeypatch):
    root = tmp_path / "root"
    shutil.copytree(tiny_flow_root, root)
    checkpoints.update_card(root / "mnist" / "nice", metrics={  # as `genlab eval --temperatures` writes it
        "reference": {"fd": 13.639}, "temperatures": {"n": 2000, "seed": 0, "T": {"1": {"fd": 493.67},
                                                                                  "0.7": {"fd": 431.069}}}})
    nice = str(root / "mnist" / "nice")
    at = page_on(root, "flows", monkeypatch, **{"model.flow.mnist": nice})
    assert not at.exception
    assert "z (784 values, z_d at pixel d)" in captions(at)
    assert any("FD of 2,000 samples against held-out images (lower is better, real vs real 13.6) "
               "at T = 0.7 / 1: 431 / 494" in c.value for c in at.caption)
    st.cache_data.clear()


def test_flows_page_opens_on_the_flow_with_the_clearest_samples(tiny_flow_root, tmp_path, monkeypatch):
    """The default flow is the one whose card scores the lowest FD at T = 0.7 (eval
    --temperatures); NICE where none was measured."""
    at = page_on(tiny_flow_root, "flows", monkeypatch)
    assert any(c.value.startswith("**nice** on mnist") for c in at.caption)
    st.cache_data.clear()
    root = tmp_path / "root"
    shutil.copytree(tiny_flow_root, root)
    for name, fd in (("nice", 431.1), ("realnvp", 402.5)):
        checkpoints.update_card(root / "mnist" / name, metrics={"temperatures": {"n": 2000, "seed": 0, "T": {
            "0.7": {"fd": fd}, "1": {"fd": 300.0 if name == "nice" else 500.0}}}})
    at = page_on(root, "flows", monkeypatch)
    assert not at.exception and any(c.value.startswith("**realnvp** on mnist") for c in at.caption)
    st.cache_data.clear()


def test_autoregressive_page_without_checkpoint(tmp_path, monkeypatch):
    at = page_on(tmp_path, "autoregressive", monkeypatch)
    assert not at.exception
    assert any("No PixelCNN checkpoint for mnist" in i.value for i in at.info)
    assert at.expander and not at.button  # the maths; no sampling without a model
    field = image_bytes(at)[0]
    assert "the preset pixelcnn config" in " ".join(c.value for c in at.caption)
    counts = "after **406** pixels in raster order: **351** of them reach its prediction, **55** are in"
    assert any(counts in m.value for m in at.markdown)  # pixel (14, 14) = 14·28 + 14; 55 blind (the gradients agree)
    at.slider(key="ar.rf_col").set_value(27).run()
    assert not at.exception and image_bytes(at)[0] != field
    assert any("81.3 nats" in m.proto.body for m in at.metric)
    st.cache_data.clear()


def test_autoregressive_page_controls(tiny_pixelcnn_root, monkeypatch):
    at = page_on(tiny_pixelcnn_root, "autoregressive", monkeypatch, **{"ar.n": 1, "ar.k": 3})
    assert not at.exception and not at.info
    completed = [c for c in captions(at) if c.startswith("completion")]
    assert completed == ["completion 1", "completion 2", "completion 3"]
    assert any("Rows 0–13 of every completion equal the model's input" in c.value for c in at.caption)
    assert any("543.2 nats" in m.proto.body for m in at.metric)
    at.button(key="ar.go").click().run()
    finished(at)  # sampling runs as a job (genlab_ui.jobs)
    assert not at.exception
    assert any(c.startswith("1 sample, seed 0:") for c in captions(at))
    at.slider(key="ar.rows").set_value(20).run()
    assert any("Rows 0–19 of every completion equal" in c.value for c in at.caption)
    assert any(c.startswith("1 sample, seed 0:") for c in captions(at))  # the samples stay
    st.cache_data.clear()


def test_autoregressive_two_stack_model_shows_no_blind_spot(tmp_path, monkeypatch):
    """A gated two-stack PixelCNN on the page: its receptive field has no blind spot, and the
    kernels drawn are the two stacks', not masks A and B."""
    from tests.conftest import save_untrained

    save_untrained(tmp_path, "pixelcnn", "pixelcnn", {"channels": 8, "blocks": 2, "first_kernel": 5, "head": 8,
                                                      "stacks": 2})
    checkpoints.update_card(tmp_path / "mnist" / "pixelcnn",
                            metrics={"nll_nats": 500.0, "bits_per_dim": 0.92, "levels": 2, "n": 100})
    at = page_on(tmp_path, "autoregressive", monkeypatch, **{"ar.k": 1, "ar.rf_row": 14, "ar.rf_col": 14})
    assert not at.exception
    counts = next(m.value for m in at.markdown if m.value.startswith("Pixel 406 comes after"))
    assert "**0** are in its blind spot" in counts, counts
    text = " ".join(captions(at) + [c.value for c in at.caption])
    assert "vertical stack" in text and "no blind spot" in text and "mask A" not in text, text
    at.slider(key="ar.rf_col").set_value(3).run()
    assert not at.exception
    st.cache_data.clear()


def test_autoregressive_grey_levels_compare_in_bits_per_dim_with_the_flows(tmp_path, monkeypatch):
    """A 256-level PixelCNN's likelihood is shown in bits/dim beside the best flow's on the
    same dataset (both exact; the flow's dequantized bits/dim bound the same NLL)."""
    from tests.conftest import save_untrained

    save_untrained(tmp_path, "pixelcnn", "pixelcnn", {"channels": 8, "blocks": 2, "first_kernel": 5, "head": 8,
                                                      "levels": 256})
    checkpoints.update_card(tmp_path / "mnist" / "pixelcnn",
                            metrics={"nll_nats": 1000.0, "bits_per_dim": 1.8402, "levels": 256, "n": 100})
    save_untrained(tmp_path, "realnvp", "flow", {"architecture": "realnvp", "channels": [8, 8, 8], "couplings": 2})
    save_untrained(tmp_path, "nice", "flow", {"architecture": "nice", "couplings": 4, "mlp_width": 16,
                                              "mlp_layers": 2, "actnorm": False, "invconv": False})
    for name, bpd in (("nice", 2.1), ("realnvp", 1.9)):
        checkpoints.update_card(tmp_path / "mnist" / name, metrics={"bits_per_dim": bpd})
    at = page_on(tmp_path, "autoregressive", monkeypatch, **{"ar.k": 1})
    assert not at.exception
    bodies = [m.proto.body for m in at.metric]
    assert "1.840 bits/dim" in bodies and "1.900 bits/dim" in bodies  # realnvp: the better flow
    assert any(m.proto.delta == "-0.060 vs realnvp" for m in at.metric)
    st.cache_data.clear()


def test_autoregressive_sampling_shows_its_canvas_live_and_cancel_stops_it_within_a_second(
        tiny_pixelcnn_root, monkeypatch):
    """#25, the long waits: 16 images took 3–4 s with a bare progress bar and no Cancel."""
    from genlab.families import pixelcnn
    from genlab_ui import jobs

    real = pixelcnn.pixelcnn_sample

    def slow(model, n, gen, *, on_pixel=None):  # 784 pixels of 10 ms: about 8 s
        def on_slow_pixel(i, probs, x):
            time.sleep(0.01)
            on_pixel(i, probs, x)
        return real(model, n, gen, on_pixel=on_slow_pixel)

    monkeypatch.setattr(pixelcnn, "pixelcnn_sample", slow)
    at = page_on(tiny_pixelcnn_root, "autoregressive", monkeypatch, **{"ar.n": 16, "ar.seed": 3})
    at.button(key="ar.go").click().run()
    bar = [str(e.proto) for e in at.get("progress")]
    assert bar and "Sampling 16 images" in bar[0] and " left" in bar[0], bar
    job = jobs.get(("pixelcnn samples", *at.session_state["ar.run"]))
    time.sleep(0.8)
    at.run()  # the live view: the canvas so far
    assert any("of 784 pixels drawn" in c for c in captions(at)), captions(at)
    at.button(key="ar.job.cancel").click()
    t0 = time.perf_counter()
    at.run()
    jobs.wait_all()
    assert job.state == "cancelled" and job.ended - t0 < 1.0
    finished(at)
    assert any("cancelled after" in i.value for i in at.info) and not at.get("progress")
    monkeypatch.setattr(pixelcnn, "pixelcnn_sample", real)
    at.button(key="ar.go").click().run()  # again: the result appears once its job ends
    finished(at)
    assert any(c.startswith("16 samples, seed 3:") for c in captions(at)) and not at.info
    st.cache_data.clear()


def test_projections_tsne_progress_does_not_come_back_with_an_overlay():
    """#25 item 3: after a fresh t-SNE, adding an overlay must not redraw the fit's progress."""
    at = page("projections", dataset="mnist", **{"proj.method": "t-SNE", "proj.points": 500,
                                                 "proj.seed": 7, "proj.iterations": 250})
    finished(at)  # the fit runs as a job (genlab_ui.jobs)
    assert not at.exception and component_data(at, "scatter_map")["axis"][0] == "t-SNE 1"
    at.button_group(key="proj.overlay").set_value([str(ROOT / "checkpoints/mnist/vae-2d")]).run()
    at.select_slider(key="proj.n_samples").set_value(100).run()
    assert not at.exception
    texts = [str(e.proto) for e in at.get("progress")]
    assert not any("t-SNE of" in t for t in texts), texts


def test_projections_tsne_fit_is_a_job_that_asks_over_20_s_and_cancel_stops_it():
    """#25, the long waits: a t-SNE off the shipped settings blocked the page for 8–50 s with
    a bare progress bar; now a job with the time left and Cancel, and a question over 20 s."""
    from genlab_ui import jobs

    at = page("projections", dataset="mnist", **{"proj.method": "t-SNE", "proj.points": 500,
                                                 "proj.seed": 5, "proj.iterations": 250})
    bar = [str(e.proto) for e in at.get("progress")]
    assert bar and "t-SNE of 500 points (perplexity 30, 250 iterations, seed 5)" in bar[0], bar
    assert " left" in bar[0] and not at.get("bidi_component")  # no map until it is fitted
    [job] = [j for j in jobs.wait_all(0) if j.key[0] == "tsne"]
    assert job.state == "running"  # cancelled at once: a fast machine finishes this fit in ~2 s
    at.button(key="proj.tsne_job.cancel").click()
    t0 = time.perf_counter()
    at.run()
    jobs.wait_all()
    assert job.state == "cancelled" and job.ended - t0 < 1.0
    finished(at)
    assert any("cancelled after" in w.value for w in at.warning) and not at.get("progress")
    at.select_slider(key="proj.iterations").set_value(2000).run()  # about 1 min: asks first
    assert not [j for j in jobs.wait_all(0) if j.key[0] == "tsne"]
    asked = [w.value for w in at.warning]
    assert any("2,000 iterations takes about 1 min" in w for w in asked), asked
    at.button(key="proj.tsne_pca").click().run()
    assert at.radio(key="proj.method").value == "PCA"
    assert component_data(at, "scatter_map")["axis"][0] == "PC 1"
    at.radio(key="proj.method").set_value("t-SNE").run()
    at.select_slider(key="proj.iterations").set_value(250).run()
    at.slider(key="proj.seed").set_value(5).run()
    at.button(key="proj.tsne_run").click().run()  # the cancelled one again: its result once it ends
    finished(at)
    tsne = component_data(at, "scatter_map")
    assert tsne["axis"][0] == "t-SNE 1" and sum(len(g["x"]) for g in tsne["groups"]) == 500
    at.slider(key="proj.perplexity").set_value(31).run()  # another map: another job
    [other] = jobs.wait_all(0)
    other.cancel()
    jobs.wait_all()
    at.slider(key="proj.perplexity").set_value(30).run()  # back: kept by its inputs, no new job
    assert not jobs.wait_all(0) and component_data(at, "scatter_map")["groups"] == tsne["groups"]


def test_singular_and_article_wording(caplog, tiny_pixelcnn_root, monkeypatch):
    """#25 item 14: "Rows 0–0", "an 15×15 grid", and no use_container_width deprecation."""
    import logging

    vae = page("vae", dataset="mnist")
    vae.select_slider(key="vae.grid_n").set_value(15).run()
    text = " ".join(captions(vae))
    assert "an 15×15" not in text and "15×15" in text
    with caplog.at_level(logging.WARNING):
        diffusion = page("diffusion", dataset="mnist")
    assert not diffusion.exception
    assert not [r for r in caplog.records if "use_container_width" in r.getMessage()]
    ar = page_on(tiny_pixelcnn_root, "autoregressive", monkeypatch, **{"ar.k": 1, "ar.rows": 1})
    assert not ar.exception
    words = " ".join(c.value for c in ar.caption) + " ".join(captions(ar))
    assert "0–0" not in words and "Row 0 of every completion" in words
    st.cache_data.clear()


@pytest.mark.parametrize("name, dims", [("vae-2d", 2), ("vae-16d", 16)])
def test_projections_pca_caption_counts_the_components_a_source_has(name, dims):
    """#25 item 12: "50 keep 100.0%" was claimed for sources with 2 or 16 dimensions."""
    at = page("projections", dataset="mnist", **{"proj.source.mnist": str(ROOT / f"checkpoints/mnist/{name}")})
    assert not at.exception
    text = " ".join(c.value for c in at.caption if "keep" in c.value)
    assert "50 keep" not in text and f"{dims}" in text, text
    assert len(component_data(at, "scatter_map")["bars"]["values"]) == dims


def test_gans_wgan_caption_shows_the_critic_on_held_out_images(tiny_gan_root, monkeypatch):
    """#25 item 10: the caption pointed to "w_estimate in the card", shown nowhere."""
    wgan = str(tiny_gan_root / "mnist" / "wgan-gp")
    at = page_on(tiny_gan_root, "gans", monkeypatch, **{"gans.diag_variant": wgan})
    assert not at.exception
    text = " ".join(c.value for c in at.caption if "critic" in c.value)
    assert "in the card" not in text and "held-out images average" in text, text
    st.cache_data.clear()


def test_home_says_what_data_each_likelihood_and_fd_is_on():
    """#25 items 7 and 8: the zoo's FD is on 2,000 samples; PixelCNN's NLL is on binarized
    images, a flow's on dequantized 8-bit ones: not comparable, and the label says so."""
    at = page("home", dataset="mnist")
    cards = [m.value for m in at.markdown if m.value.count("**") >= 2 and " · " in m.value
             and ("nats" in m.value or "FD" in m.value)]  # the cards' headline metrics
    bpd = {name: f"{checkpoints.read_card(ROOT / 'checkpoints/mnist' / name)['metrics']['bits_per_dim']:.3f}"
           for name in ("pixelcnn", "nice")}  # each card's headline figure
    pixelcnn = next(c for c in cards if bpd["pixelcnn"] in c)
    nice = next(c for c in cards if bpd["nice"] in c)
    assert "binarized" in pixelcnn and "8-bit" not in pixelcnn, pixelcnn
    assert "8-bit" in nice and "binarized" not in nice, nice
    assert all("FD (2,000 samples" in c for c in cards if "FD" in c), cards
    # the class-conditional flows (rectified flow and its reflow) are measured as the pages
    # sample them, per class; the reflow's card had no headline FD at all before
    lone_fd = [m.value for m in at.markdown if m.value.startswith("FD (")]  # cards with FD alone
    assert sum("FD (2,000 samples, 200 per class)" in c for c in lone_fd) == 2, lone_fd


def test_projections_asks_before_a_long_overlay_and_offers_fewer_samples(tiny_ddpm_root, monkeypatch):
    """#25, the long waits: a 1,000-sample DDPM overlay (90 s and more) asks first and suggests
    fewer samples; a shorter one runs as a job with a progress bar, then joins the map."""
    from genlab_ui import loaders

    monkeypatch.setattr(loaders, "denoiser_speed", lambda folder, n: (1, 0.5 * n / 1000))
    ddpm_folder = str(tiny_ddpm_root / "mnist" / "ddpm")
    at = page_on(tiny_ddpm_root, "projections", monkeypatch,
                 **{"proj.overlay": [ddpm_folder], "proj.n_samples": 1000})
    assert not at.exception
    asked = [w.value for w in at.warning]
    assert any("1,000 samples of ddpm take about 25 s" in w and "500 samples" in w for w in asked), asked
    assert [g["name"] for g in component_data(at, "scatter_map")["groups"]][-1] == "9"  # not yet
    at.button(key="proj.fewer.ddpm").click().run()
    assert at.select_slider(key="proj.n_samples").value == 500 and not at.warning
    assert any("500 samples of ddpm" in str(e.proto) for e in at.get("progress"))
    finished(at)
    last = component_data(at, "scatter_map")["groups"][-1]
    assert last["name"] == "samples: ddpm" and len(last["x"]) == 500
    st.cache_data.clear()


def test_flows_slow_scoring_runs_as_a_job_with_progress(tiny_flow_root, tmp_path, monkeypatch):
    """#25, the long waits: the first switch to RealNVP scored 1,500 images for 7–12 s with a
    spinner only; over 2 s it is a job with a progress bar, the time left and Cancel."""
    root = tmp_path / "checkpoints"
    shutil.copytree(tiny_flow_root, root)
    checkpoints.update_card(root / "mnist" / "realnvp", metrics={"sample_ms_per_image": 6.0})
    at = page_on(root, "flows", monkeypatch, **{"model.flow.mnist": str(root / "mnist" / "realnvp")})
    assert not at.exception
    bars = [str(e.proto) for e in at.get("progress")]
    assert any("Scoring 1,500 images with realnvp" in b for b in bars), bars
    finished(at)
    assert [t["name"] for t in plotly_spec(at)["data"]] == ["mnist held-out", "fashion-mnist held-out",
                                                           "uniform noise"]
    st.cache_data.clear()


def test_gans_first_visit_uses_the_cards_evaluation(monkeypatch):
    """#25: the first /gans visit took 13–14 s classifying 3 × 1,000 samples; the shipped
    GANs' cards hold the same measures on 2,000 (as the model zoo shows them)."""
    from genlab import metrics

    def refuse(*args, **kwargs):
        raise AssertionError("the page classified samples although the cards have the figures")

    monkeypatch.setattr(metrics, "classify", refuse)
    st.cache_data.clear()
    at = page("gans", dataset="mnist")
    assert not at.exception
    quality = at.table[0].value
    assert set(quality["samples"]) == {"2,000"}
    cards = [checkpoints.read_card(ROOT / "checkpoints" / "mnist" / name)["metrics"]["fd"]
             for name in ("gan-mlp", "dcgan", "wgan-gp", "gan-qp")]
    assert list(quality["FD ↓"]) == [f"{fd:.1f}" for fd in cards]  # the cards', as on the model zoo
    # the replay and the diagnostics open on the variant with the lowest FD (on Fashion-MNIST
    # the DCGAN; the MLP GAN's speckled grids are a poor first look), the row keeps its order
    at = page("gans", dataset="fashion-mnist")
    fds = dict(zip(at.table[0].value["model"], at.table[0].value["FD ↓"].astype(float)))
    best = min(fds, key=fds.get)
    assert best != "gan-mlp" and list(fds)[0] == "gan-mlp"
    assert at.selectbox(key="_w_gans.replay").value.endswith(best)
    assert at.selectbox(key="_w_gans.diag_variant").value.endswith(best)
    st.cache_data.clear()


def test_a_page_without_a_browser_paint_keeps_its_first_screen_only(monkeypatch):
    """What the first run of a page draws when the deferral is on (AppTest runs no JavaScript,
    so the rest never comes): the first screen and the fold's note, nothing below it."""
    from genlab_ui import components

    monkeypatch.setattr(components, "DEFER_BELOW_FOLD", True)
    at = page("diffusion")
    assert not at.exception
    assert any(components.FOLD_CAPTION in c.value for c in at.caption)
    headings = [h.value for h in at.subheader]
    assert any("Forward process" in h for h in headings)
    assert not any("Noise schedules" in h or "Reverse process" in h for h in headings), headings


def test_values_set_by_a_click_hold_against_the_browsers_older_ones(monkeypatch):
    """state.set_widgets / hold_widgets: a request the browser sent before it had the set values
    gets them back; a third value (the user moved the widget since) or time ends the hold."""
    from genlab_ui import state

    session, now = {"vae.z1": 0.35, "vae.z2": -0.95}, [100.0]
    monkeypatch.setattr(state.st, "session_state", session)
    monkeypatch.setattr(state.time, "monotonic", lambda: now[0])
    state.set_widgets({"vae.z1": -2.0, "vae.z2": 2.0})
    assert (session["vae.z1"], session["vae.z2"]) == (-2.0, 2.0)
    state.hold_widgets()  # the click's own run: nothing to undo
    assert (session["vae.z1"], session["vae.z2"]) == (-2.0, 2.0)
    session.update({"vae.z1": 0.35, "vae.z2": -0.95})  # a request sent before the browser saw it
    now[0] += 0.5
    state.hold_widgets()
    assert (session["vae.z1"], session["vae.z2"]) == (-2.0, 2.0)
    session["vae.z1"] = 1.5  # the user moved z1 since: that holds, z2 is still kept
    state.hold_widgets()
    session.update({"vae.z1": 0.35, "vae.z2": -0.95})
    state.hold_widgets()
    assert (session["vae.z1"], session["vae.z2"]) == (0.35, 2.0)
    now[0] += state.STALE_WINDOW_S  # later, the old value is the user's own choice
    session["vae.z2"] = -0.95
    state.hold_widgets()
    assert session["vae.z2"] == -0.95 and not session["_set_widgets"]
