"""#23 cold first visit: ``python -m genlab_ui`` loads what the pages' first runs need before the
server listens (its server is started by the benchmark's smoke run in test_benchmarks)."""

from genlab import checkpoints
from genlab_ui import __main__ as launcher
from genlab_ui import loaders


def test_the_launcher_knows_what_every_page_imports():
    names = launcher.page_modules()
    assert {"torch", "plotly.graph_objects", "genlab_ui.loaders", "genlab.families.ddpm"} <= set(names)


def test_preload_leaves_every_checkpoint_in_the_model_cache(monkeypatch):
    imported, loaded = launcher.preload()
    folders = checkpoints.find_all()
    assert imported > 20 and loaded == len(folders) > 0

    def no_disk(folder):
        raise AssertionError(f"{folder} read again: the preload did not fill the cache the pages use")

    monkeypatch.setattr(loaders.registry, "load", no_disk)
    for folder in folders:  # what a page's first run calls: a cache hit, no disk
        assert loaders.load_checkpoint(str(folder)) is not None


def test_the_launcher_samples_the_default_views_ahead(monkeypatch):
    """The launcher samples /transport's default steps grid (24 cells, ~4.5 s) and
    /autoregressive's default completions for the first dataset, so those pages' first visits
    only paint them."""
    from genlab.data import DATASETS
    from genlab.families import pixelcnn
    from genlab_ui import completions, transport_grid

    launcher.preload()

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled again: the launcher did not sample the default view ahead")

    monkeypatch.setattr(transport_grid, "sample_cell", no_sampling)
    monkeypatch.setattr(pixelcnn, "pixelcnn_complete", no_sampling)
    cells, guided = transport_grid.default_jobs(DATASETS[0])
    assert len(cells) == 4 * len(transport_grid.STEPS) and len(guided) == 1  # 2 flows and 2 DDPM solvers
    for key, _ in cells:
        images, _ = transport_grid.cell(*key)
        assert images.shape == (transport_grid.CELL, 28, 28)
    assert guided[0][0] in loaders.shared_store(transport_grid.GUIDED_STORE)[0]
    mnist = loaders.models_for("mnist", "pixelcnn", uploads=False)[0]["folder"]
    d = completions.DEFAULTS
    out = completions.completions(mnist, loaders.bundled("mnist")[0][completions.DEFAULT_IMAGE], d["ar.rows"],
                                  d["ar.k"], d["ar.cseed"], progress=no_sampling)
    assert out.shape == (d["ar.k"], 28, 28)
