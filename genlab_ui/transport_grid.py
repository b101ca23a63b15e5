"""/transport's samples, computed once per server process and, for the page's default view,
before anyone asks.

The steps grid carries one noise seed through every rectified flow and DDPM solver at
K = 1 … 50 steps: 24 cells, about 4.5 s of sampling on this 2-core machine. That work is the
same for every session, so the cells live in a store shared by the process
(``loaders.shared_result`` through ``ahead.result``), and the launcher (``python -m
genlab_ui``) computes the default view's (``default_work``: the cells and the guidance row
under them) before the server listens: a teacher's first visit of /transport then paints the
grid instead of sampling it.
"""

from __future__ import annotations

import time

import numpy as np

from genlab import registry, sample
from genlab.families import ddpm, rectified_flow as rf
from genlab_ui import ahead, loaders

STEPS = [1, 2, 4, 8, 16, 50]  # the grid's columns
GUIDED_STEPS = STEPS[:-1]  # guidance doubles the evaluations: K = 50 would take seconds per move
GUIDED_N = 8  # images in the guidance row: a move of w or K repaints in a few hundred ms
CELL = 4  # images per cell (2×2)
CELLS_STORE, CELLS_KEEP = "transport_cells", 24 * 16  # 3 KB a cell: the last 16 grids of 24 cells
GUIDED_STORE, GUIDED_KEEP = "transport_guided", 256  # every session's guidance rows, 6 KB each
# the page's first view (its session-state defaults): what the launcher computes ahead
DEFAULTS = {"transport.seed": 0, "transport.label": 0, "transport.guidance": 1.0,
            "transport.k": 8, "transport.solver": "heun", "transport.classes": "drawn"}


def transports(dataset: str, uploads: bool = True) -> list[dict]:
    """The rows of the grid: label, checkpoint folder, sampler options (see loaders.models_for)."""
    models = lambda family: loaders.models_for(dataset, family, uploads=uploads)
    rows = []
    for row in models("rectified-flow"):
        if row["card"]:
            rows.append({"label": f"{row['card']['name']} · Euler", "folder": row["folder"], "sampler": "euler",
                         "family": "rectified-flow"})
    for row in models("ddpm")[:1]:
        if row["card"]:
            for label, sampler in (("DDPM · DDIM (its ODE)", "ddim"), ("DDPM · DPM-Solver++(2M)", "dpm++")):
                rows.append({"label": label, "folder": row["folder"], "sampler": sampler, "family": "ddpm"})
    return rows


def labels_for(ckpt, label: int | str | None, seed: int, n: int) -> rf.Label:
    """A flow's label argument: a class, none, or ``"drawn"``: a class per image drawn from its
    own generator (so x₀ stays that of the seed), sampling p(x) = Σ_y p(y)·p(x | y)."""
    if label != "drawn":
        return label
    return sample.drawn_labels(sample.conditional_classes(registry.get(ckpt.card["family"]), ckpt.card), n, seed)


def sample_cell(folder: str, sampler: str, steps: int, seed: int, label: int | str | None = None,
                guidance: float = 1.0, n: int = CELL, on_step=None, ckpt=None,
                background: bool = False) -> tuple[np.ndarray, float]:
    """n images from the same x₀ (seed): uint8 (n, 28, 28), and the seconds they took;
    ``label``: see labels_for; ``on_step(i, K)`` after each solver step; ``ckpt``: the folder's
    checkpoint, loaded beforehand (a thread without a script run cannot); ``background``: the
    network's workers at a job's low priority."""
    ckpt = loaders.load_checkpoint(folder) if ckpt is None else ckpt
    network = ddpm.FastDenoiser(ckpt.model, background=background, workers=1 if background else 2)
    t0 = time.perf_counter()
    if ckpt.card["family"] == "ddpm":
        images = ddpm.diffusion_sample(network, n, sample.generator(seed), sampler=sampler, steps=steps,
                                       on_step=on_step)
    else:
        images = rf.rf_sample(network, n, sample.generator(seed), sampler=sampler, steps=steps,
                              label=labels_for(ckpt, label, seed, n), guidance=guidance, on_step=on_step)
    return sample.to_uint8(images), time.perf_counter() - t0


def _job(key: tuple, ckpt, **kwargs) -> tuple[tuple, ahead.Compute]:
    """(key, compute) for ``ahead``: on the background thread (``on_step`` given) the network
    runs at a low priority and gives way between steps."""
    return key, lambda on_step: sample_cell(*key[:4], ckpt=ckpt, on_step=on_step,
                                            background=on_step is not None, **kwargs)


def cell_key(folder: str, sampler: str, steps: int, seed: int, label: int | str | None) -> tuple:
    """A cell's key in the shared store (the first four items are sample_cell's arguments)."""
    return folder, sampler, steps, seed, label


def cell_job(folder: str, sampler: str, steps: int, seed: int, label: int | str | None,
             ckpt=None) -> tuple[tuple, ahead.Compute]:
    """One cell of the grid: ``CELL`` images after ``steps`` steps of ``sampler``."""
    ckpt = loaders.load_checkpoint(folder) if ckpt is None else ckpt
    return _job(cell_key(folder, sampler, steps, seed, label), ckpt, label=label)


def guided_job(folder: str, solver: str, steps: int, seed: int, label: int | None, w: float,
               ckpt=None) -> tuple[tuple, ahead.Compute]:
    """The guidance row: ``GUIDED_N`` images of class ``label`` at scale ``w`` (unused without a class)."""
    ckpt = loaders.load_checkpoint(folder) if ckpt is None else ckpt
    w = float(w) if label is not None else 1.0
    return _job((folder, solver, steps, seed, label, w), ckpt, label=label, guidance=w, n=GUIDED_N)


def cell(folder: str, sampler: str, steps: int, seed: int, label: int | str | None, *,
         store: ahead.Store | None = None) -> tuple[np.ndarray, float]:
    """A cell of the grid, computed once per process (or taken from the background thread);
    ``store``: ``loaders.shared_store(CELLS_STORE)``, fetched once by a caller drawing many
    cells. A computed cell is returned before its job (which loads the checkpoint) is made."""
    store = store or loaders.shared_store(CELLS_STORE)
    hit, value = ahead.cached(store, cell_key(folder, sampler, steps, seed, label))
    if hit:
        return value
    return ahead.result(CELLS_STORE, *cell_job(folder, sampler, steps, seed, label), store=store,
                        keep=CELLS_KEEP)


def cell_ready(folder: str, sampler: str, steps: int, seed: int, label: int | str | None, *,
               store: ahead.Store | None = None) -> bool:
    """Whether ``cell(...)`` with these arguments is computed already (it then returns at once)."""
    return ahead.cached(store or loaders.shared_store(CELLS_STORE), cell_key(folder, sampler, steps, seed, label))[0]


def default_jobs(dataset: str) -> tuple[list, list]:
    """The page's first view on ``dataset``: (the grid's cells, the guidance row), as ``ahead`` jobs."""
    seed, classes = DEFAULTS["transport.seed"], DEFAULTS["transport.classes"]
    rows = transports(dataset, uploads=False)
    cells = [cell_job(r["folder"], r["sampler"], k, seed, classes if r["family"] != "ddpm" else None)
             for r in rows for k in STEPS]
    flows = [r for r in rows if r["family"] == "rectified-flow"]
    guided = []
    if flows and loaders.load_checkpoint(flows[0]["folder"]).model.config.num_classes:
        guided = [guided_job(flows[0]["folder"], DEFAULTS["transport.solver"], DEFAULTS["transport.k"], seed,
                             DEFAULTS["transport.label"], DEFAULTS["transport.guidance"])]
    return cells, guided


def default_work(dataset: str) -> list[tuple[str, int, tuple, ahead.Compute]]:
    """The default view of ``dataset`` as ``(store, keep, key, compute)``: the grid's cells
    (the longest first), then the guidance row; none when a checkpoint cannot be loaded (the
    page reports it)."""
    from genlab import checkpoints

    try:
        cells, guided = default_jobs(dataset)
    except checkpoints.CheckpointError:
        return []
    cells = sorted(cells, key=lambda job: -job[0][2])  # key: (folder, sampler, steps, …)
    return [(CELLS_STORE, CELLS_KEEP, *job) for job in cells] + [(GUIDED_STORE, GUIDED_KEEP, *job) for job in guided]
