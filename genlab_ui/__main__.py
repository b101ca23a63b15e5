"""``python -m genlab_ui [--no-preload] [streamlit options]``: the app, warmed before it takes its first visitor.

``streamlit run app.py`` listens at once, and the first visit of each page then pays for what
every later visit finds ready: importing torch, plotly and the pages' libraries, reading the
checkpoints. Both are per process (``sys.modules``, ``st.cache_resource``), and Streamlit runs
the pages in its own process, so this launcher does them first, says how long that took, then
starts the same server. Samples that every session's first view shows the same
(/autoregressive's completions, /transport's steps grid) are computed then too, for the
dataset a visitor starts on. The server takes ``streamlit run``'s options (``--server.port
8502``, ...). ``--no-preload`` skips the warming (the tests' servers: what a first visit of
``streamlit run`` pays). Either way the server's index.html tells the browser where the server
is (``genlab_ui.index_html``): a page opened at its own URL connects 50–100 ms sooner.
``streamlit run app.py`` still works; its first visits are the slower ones.
"""

from __future__ import annotations

import ast
import importlib
import logging
import sys
from concurrent import futures
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"


def page_modules(root: Path = ROOT) -> list[str]:
    """The modules app.py and the pages import at their top level (what a page's first run
    would otherwise import inside a visitor's request)."""
    names: set[str] = set()
    for script in [root / "app.py", *sorted((root / "pages").glob("*.py"))]:
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
                names.add(node.module)
    return sorted(names)


def page_paths(app: Path = APP) -> list[str]:
    """The pages' URL paths (the ``url_path=`` of app.py's ``st.Page`` calls)."""
    return sorted(node.value.value for node in ast.walk(ast.parse(app.read_text(encoding="utf-8")))
                  if isinstance(node, ast.keyword) and node.arg == "url_path"
                  and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str))


def preload() -> tuple[int, int]:
    """Import every page's modules and load every installed checkpoint into the process's
    model cache, then compute the first dataset's default views (``first_views``): (modules
    imported, checkpoints loaded). A checkpoint that cannot be loaded is left for its page to
    report."""
    # outside a script run Streamlit warns about every cached call; quiet while loading (its
    # loggers exist once it is imported, and it would reset a level set before)
    import streamlit.runtime.caching.cache_data_api  # noqa: F401

    quiet = [logging.getLogger(f"streamlit.runtime.{name}") for name in
             ("scriptrunner_utils.script_run_context", "caching.cache_data_api")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.ERROR)
    try:
        counts = _load()
        first_views()
        return counts
    finally:
        for log, level in zip(quiet, levels):
            log.setLevel(level)


def _load() -> tuple[int, int]:
    from genlab import checkpoints
    from genlab_ui import loaders

    imported = 0
    for name in page_modules():
        try:
            importlib.import_module(name)
            imported += 1
        except ImportError:  # ``from package import function``: the package is imported already
            pass
    loaded = 0
    for folder in checkpoints.find_all():
        try:
            loaders.load_checkpoint(str(folder))
            loaded += 1
        except checkpoints.CheckpointError:
            pass
    return imported, loaded


def first_views(dataset: str | None = None) -> int:
    """Compute the samples that every session's first view of ``dataset`` (default: the one a
    visitor starts on) shows the same, into the stores the pages read: /autoregressive's
    completions, /transport's steps grid and guidance row. Two threads, one torch thread each
    (the cores are free before the server listens); the number of samples computed. The other
    datasets' are computed by their first visitor."""
    import torch

    from genlab_ui import completions, loaders, state, transport_grid

    dataset = dataset or state.DATASETS[0]
    work = completions.default_work(dataset) + transport_grid.default_work(dataset)

    def compute(item) -> None:
        name, keep, key, run = item
        # with an on_step the samplers run in this thread (see ahead.Compute)
        loaders.shared_result(name, key, lambda: run(lambda *_: None), keep=keep, store=loaders.shared_store(name))

    with futures.ThreadPoolExecutor(2, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        list(pool.map(compute, work))
    return len(work)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--no-preload" in argv:
        argv = [a for a in argv if a != "--no-preload"]
    else:
        t0 = time.perf_counter()
        print("genlab: loading the libraries and models and sampling the first views before the server "
              "starts…", flush=True)
        imported, loaded = preload()
        print(f"genlab: {imported} modules, {loaded} checkpoints and the first views ready in "
              f"{time.perf_counter() - t0:.1f} s",
              flush=True)
    from streamlit.web import cli

    from genlab_ui import index_html

    index_html.serve_with_base(page_paths())

    sys.argv = ["streamlit", "run", str(APP), *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
