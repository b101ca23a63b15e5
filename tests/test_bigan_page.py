"""The /bigan page (#21): AppTests with a tiny untrained BiGAN and VAE, and without a BiGAN."""

from tests.test_app import image_bytes, page_on


def test_bigan_page_reconstructs_maps_and_walks(tiny_bigan_root, monkeypatch):
    at = page_on(tiny_bigan_root, "bigan", monkeypatch)
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert at.expander  # the maths
    before = image_bytes(at)
    # the single image: original, BiGAN and VAE reconstructions; the grid; two walks
    assert len(before) >= 6
    assert any("G(E(x))" in str(i.proto) for i in at.get("image")) or any("E(x)" in c for c in captions)
    at.slider(key="bigan.grid_seed").set_value(3).run()
    assert not at.exception and image_bytes(at) != before
    before = image_bytes(at)
    at.slider(key="bigan.walk_k").set_value(5).run()
    assert not at.exception and image_bytes(at) != before
    at.select_slider(key="bigan.idx.mnist").set_value(7).run()
    assert not at.exception
    assert not any("started as the generator" in c for c in captions)  # trained from scratch


def test_bigan_page_says_where_its_g_started(tiny_bigan_root, tmp_path, monkeypatch):
    import json
    import shutil

    root = tmp_path / "root"
    shutil.copytree(tiny_bigan_root, root)
    card = root / "mnist" / "bigan" / "card.json"
    data = json.loads(card.read_text())
    data["trained_from"], data["config"]["g_lr_ratio"] = "mnist/gan-qp", 0.1
    card.write_text(json.dumps(data))
    at = page_on(root, "bigan", monkeypatch)
    assert not at.exception
    assert any("G started as the generator of **mnist/gan-qp**" in c.value and "0.1× E's learning rate" in c.value
               for c in at.caption)


def test_bigan_page_without_a_bigan_says_how_to_train_one(tmp_path, monkeypatch):
    at = page_on(tmp_path, "bigan", monkeypatch)
    assert not at.exception
    assert any("No BiGAN checkpoint for mnist" in i.value for i in at.info)
