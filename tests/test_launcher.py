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
