"""2-D toy data for the toy flow, /transport and the playground: n points (n, 2) drawn with
an explicit generator, roughly within [−3, 3]²; and the user's own points (drawn or from a
CSV), checked and brought to the same scale."""

from __future__ import annotations

import io
import math

import numpy as np
import torch

TOY_DATASETS = ("moons", "rings", "8gaussians", "checkerboard", "spiral")
TOY_LABELS = {"moons": "two moons", "rings": "two rings", "8gaussians": "8 Gaussians",
              "checkerboard": "checkerboard", "spiral": "spiral"}
MIN_POINTS = 100  # fewer user points than this teach a model nothing but the points
MAX_POINTS = 100_000  # rows of a CSV
TOY_SCALE = 1.5  # the user's points are rescaled to this standard deviation, as the toy sets


def toy_data(name: str, n: int, gen: torch.Generator) -> torch.Tensor:
    """n points (n, 2) of a toy density, roughly within [-3, 3]².

    ``moons``: two interleaved half circles; ``rings``: two concentric circles;
    ``8gaussians``: a mixture of 8 Gaussians on a circle of radius 2; ``checkerboard``:
    uniform on the black squares of a 4×4 board; ``spiral``: a two-turn spiral arm.
    """
    if name == "moons":
        upper = torch.rand(n, generator=gen) < 0.5
        angle = torch.rand(n, generator=gen) * math.pi
        x = torch.where(upper, torch.cos(angle), 1 - torch.cos(angle))
        y = torch.where(upper, torch.sin(angle), 0.5 - torch.sin(angle))
        pts = torch.stack([x - 0.5, y - 0.25], 1) * 1.5
        return pts + 0.08 * torch.randn(n, 2, generator=gen)
    if name == "rings":
        radius = torch.where(torch.rand(n, generator=gen) < 0.5, 1.0, 2.5)
        angle = torch.rand(n, generator=gen) * 2 * math.pi
        pts = radius[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
        return pts + 0.1 * torch.randn(n, 2, generator=gen)
    if name in ("8gaussians", "gaussians"):
        angle = torch.randint(0, 8, (n,), generator=gen) * (2 * math.pi / 8)
        centres = 2.0 * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
        return centres + 0.2 * torch.randn(n, 2, generator=gen)
    if name == "checkerboard":
        # a square (i, j) of the 4×4 board over [-2, 2]² is black when i + j is even
        i = torch.randint(0, 4, (n,), generator=gen)
        j = 2 * torch.randint(0, 2, (n,), generator=gen) + i % 2
        cell = torch.stack([i, j], 1).float() + torch.rand(n, 2, generator=gen)
        return cell - 2.0
    if name == "spiral":
        s = torch.rand(n, generator=gen).sqrt()  # uniform along the arm's length, roughly
        angle = s * 4 * math.pi
        pts = 2.6 * s[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
        return pts + 0.08 * torch.randn(n, 2, generator=gen)
    raise ValueError(f"unknown toy dataset {name!r}; valid: {', '.join(TOY_DATASETS)}")


def standardize(points: np.ndarray) -> np.ndarray:
    """The user's points, centred and scaled as a whole (the shape kept) to a standard
    deviation of ``TOY_SCALE``, the toy sets' scale, which the toy networks expect."""
    pts = np.asarray(points, dtype=np.float64)
    centred = pts - pts.mean(0)
    spread = centred.std()
    return (centred * (TOY_SCALE / spread if spread > 0 else 1.0)).astype(np.float32)


def check_points(points: np.ndarray) -> np.ndarray:
    """The user's points (n, 2), float32, or ValueError saying what is wrong."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"expected x, y pairs (n × 2), got an array of shape {pts.shape}")
    if len(pts) < MIN_POINTS:
        raise ValueError(f"{len(pts)} points: at least {MIN_POINTS} are needed to learn a density "
                         f"(add {MIN_POINTS - len(pts)} more)")
    if len(pts) > MAX_POINTS:
        raise ValueError(f"{len(pts):,} points: at most {MAX_POINTS:,} rows are accepted")
    bad = ~np.isfinite(pts).all(1)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} rows are not finite numbers (first: row {int(bad.argmax()) + 1})")
    if np.ptp(pts, axis=0).min() == 0:
        raise ValueError("the points lie on a line (one coordinate never changes): a 2-D density needs both")
    return pts.astype(np.float32)


def points_from_csv(data: bytes | str) -> np.ndarray:
    """x, y pairs from CSV text (a header row is allowed), checked by ``check_points``.

    Raises:
        ValueError: not two numeric columns, too few or too many rows, non-finite values.
    """
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    rows = [r for r in text.splitlines() if r.strip()]
    if not rows:
        raise ValueError("the file is empty")
    if len(rows) > MAX_POINTS + 1:
        raise ValueError(f"{len(rows):,} rows: at most {MAX_POINTS:,} are accepted")
    delimiter = ";" if rows[0].count(";") > rows[0].count(",") else ("," if "," in rows[0] else None)
    width = len(rows[0].split(delimiter))
    if width != 2:
        raise ValueError(f"expected two columns (x, y), found {width} in the first row: {rows[0][:60]!r}")
    try:
        float(rows[0].split(delimiter)[0])
    except ValueError:
        rows = rows[1:]  # a header
    try:
        pts = np.loadtxt(io.StringIO("\n".join(rows)), delimiter=delimiter, ndmin=2)
    except ValueError as e:
        raise ValueError(f"not two numeric columns: {str(e)[:120]}") from None
    return check_points(pts)
