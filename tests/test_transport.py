"""The /transport page: AppTests with and without a rectified flow (the K and class controls,
the 2-D section behind its button); the browser test is in test_browser.py."""

import numpy as np

from tests.test_app import image_bytes, page_on


def test_transport_page_with_a_rectified_flow(tiny_transport_root, monkeypatch):
    at = page_on(tiny_transport_root, "transport", monkeypatch)
    assert not at.exception
    captions = [str(el.proto) for el in at.get("image")]
    assert any("rectified-flow · Euler" in c for c in captions)
    assert any("DPM-Solver++" in c for c in captions)
    before = image_bytes(at)
    at.select_slider(key="transport.k").set_value(2).run()
    assert not at.exception and image_bytes(at) != before  # the class grid follows K
    at.selectbox(key="transport.label").set_value(3).run()
    at.select_slider(key="transport.guidance").set_value(3.0).run()
    assert not at.exception
    assert any("class 3 (3), w = 3.0" in str(el.proto) for el in at.get("image"))
    assert any("Training replay" in h.value for h in at.subheader)
    replay = at.select_slider(key=next(k for k in at.session_state if str(k).startswith("transport.replay")))
    replay.set_value(0).run()
    assert not at.exception and any("at step 0 (Heun" in str(el.proto) for el in at.get("image"))
    at.slider(key="transport.t").set_value(0.9).run()
    assert not at.exception
    assert any(b.label.startswith("Train the 2-D models") for b in at.button)  # not trained unasked


def test_transport_page_without_a_rectified_flow(tiny_ddpm_root, monkeypatch):
    at = page_on(tiny_ddpm_root, "transport", monkeypatch)
    assert not at.exception
    assert any("rectified-flow" in i.value and "trained" in i.value for i in at.info)
    assert not any("Classifier-free guidance" in h.value for h in at.subheader)


def test_transport_page_with_no_models_still_shows_the_2d_section(tmp_path, monkeypatch):
    at = page_on(tmp_path, "transport", monkeypatch)
    assert not at.exception
    assert any("Why straight paths matter" in h.value for h in at.subheader)


def test_a_cell_is_ready_once_sampled(tiny_transport_root):
    """The grid shows a spinner only for cells not sampled yet (each spinner starts a thread,
    and 24 of them cost every visit's first screen about 0.1 s)."""
    from genlab_ui import transport_grid

    cell = (str(tiny_transport_root / "mnist" / "rectified-flow"), "euler", 2, 4242, "drawn")
    assert not transport_grid.cell_ready(*cell)
    images, _ = transport_grid.cell(*cell)
    assert transport_grid.cell_ready(*cell)
    assert transport_grid.cell(*cell)[0] is images  # from the store, not sampled again


def test_a_class_conditional_flow_is_sampled_for_a_class_per_image(tiny_transport_root):
    """The zoo's thumbnails and /projections' overlays sample a class-conditional flow as its FD
    is measured (a class per image, drawn from the seed), not from v_∅ alone; a model without
    classes is sampled as before."""
    from genlab import registry, sample
    from genlab_ui import loaders

    folder = tiny_transport_root / "mnist" / "rectified-flow"
    ckpt = registry.load(folder)
    family = registry.get("rectified-flow")
    labels = sample.as_shown(family, ckpt.card, 6, 3)["label"]
    assert labels.shape == (6,) and 0 <= int(labels.min()) and int(labels.max()) < 10
    assert len(set(labels.tolist())) > 1  # a class each, not one for all
    shown = loaders.samples(str(folder), 6, 3)
    network = family.sampling_network(ckpt.model) if family.sampling_network else ckpt.model
    per_class = sample.sample_images(family, network, 6, 3, label=labels)
    unconditional = sample.sample_images(family, network, 6, 3)
    assert np.array_equal(shown, per_class) and not np.array_equal(shown, unconditional)
    ddpm = registry.load(tiny_transport_root / "mnist" / "ddpm")
    assert sample.as_shown(registry.get("ddpm"), ddpm.card, 6, 3) == {}
