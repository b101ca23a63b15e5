"""The ideas the models rest on, as closed forms and small simulations (pure numpy).

Five topics, in the order of the study notes and of the /concepts page:

1. information, entropy, cross-entropy and KL (a coin; two Gaussians, the VAE's KL term);
2. Markov chains and their stationary distribution (the notes' restaurant);
3. random walk -> Brownian motion -> the diffusion SDE and its reverse (1-D mixtures);
4. why Wasserstein: JS saturates once supports separate, W1 keeps growing;
5. the change of variables x = f(z), the root of normalizing flows.

Every number the page shows comes from a function here, and tests/test_concepts.py pins it
to its closed form.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

LOG2 = math.log(2.0)


# --- 1. information, entropy, cross-entropy, KL ------------------------------------------------

def coin(heads: float) -> np.ndarray:
    """A coin as a distribution over (heads, tails).

    Args:
        heads: P(heads), in [0, 1].

    Returns:
        The array [heads, 1 − heads].
    """
    if not 0.0 <= heads <= 1.0:
        raise ValueError(f"P(heads) must lie in [0, 1], got {heads}")
    return np.array([heads, 1.0 - heads])


def information_bits(p: float | np.ndarray) -> float | np.ndarray:
    """The information of an outcome of probability p: I = −log₂ p (bits; inf at p = 0).

    Args:
        p: probability (or array of them).

    Returns:
        −log₂ p, elementwise.
    """
    with np.errstate(divide="ignore"):
        return -np.log2(p)


def entropy_bits(p: Sequence[float] | np.ndarray) -> float:
    """Shannon entropy H(p) = −Σ pᵢ log₂ pᵢ, with 0 log 0 = 0.

    Args:
        p: a discrete distribution.

    Returns:
        H(p) in bits.
    """
    p = np.asarray(p, dtype=np.float64)
    nz = p > 0
    return float(-(p[nz] * np.log2(p[nz])).sum())


def cross_entropy_bits(p: Sequence[float] | np.ndarray, q: Sequence[float] | np.ndarray) -> float:
    """Cross-entropy H(p, q) = −Σ pᵢ log₂ qᵢ: the mean information of outcomes drawn from p, as
    measured by the model q (inf where q gives 0 to an outcome p can produce).

    Args:
        p: the true distribution.
        q: the model's distribution, same length.

    Returns:
        H(p, q) in bits.
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    nz = p > 0
    with np.errstate(divide="ignore"):
        return float(-(p[nz] * np.log2(q[nz])).sum())


def kl_bits(p: Sequence[float] | np.ndarray, q: Sequence[float] | np.ndarray) -> float:
    """KL(p ‖ q) = H(p, q) − H(p) = Σ pᵢ log₂(pᵢ / qᵢ) ≥ 0, zero only for p = q; not symmetric.

    Args:
        p: the true distribution.
        q: the model's distribution.

    Returns:
        KL(p ‖ q) in bits.
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    nz = p > 0
    with np.errstate(divide="ignore"):
        return float((p[nz] * (np.log2(p[nz]) - np.log2(q[nz]))).sum())


@dataclass(frozen=True)
class CoinExample:
    """One of the notes' worked coin examples: H(p) when q is None, else H(p, q)."""

    label: str
    p: float  # P(heads) of the true coin
    q: float | None  # P(heads) of the estimate, or None for the entropy of p
    notes: str  # the value as the notes print it (rounded to two decimals)

    def value(self) -> float:
        """The example's value in bits, computed."""
        if self.q is None:
            return entropy_bits(coin(self.p))
        return cross_entropy_bits(coin(self.p), coin(self.q))


NOTES_COINS = (
    CoinExample("fair coin: H(0.5, 0.5)", 0.5, None, "1"),
    CoinExample("2:8 coin: H(0.2, 0.8)", 0.2, None, "0.72"),
    CoinExample("fair p, q = (0.2, 0.8): H(p, q)", 0.5, 0.2, "1.32"),
    CoinExample("fair p, q = (0.4, 0.6): H(p, q)", 0.5, 0.4, "1.03"),
)


def gaussian_kl(mu: float, sigma: float) -> float:
    """KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − log σ² − 1), in nats: the VAE's KL term per latent
    dimension (Kingma & Welling 2014, appendix B).

    Args:
        mu: mean μ.
        sigma: standard deviation σ > 0.

    Returns:
        The KL divergence in nats.
    """
    return 0.5 * (mu * mu + sigma * sigma - math.log(sigma * sigma) - 1.0)


def gaussian_kl_monte_carlo(mu: float, sigma: float, n: int,
                            rng: np.random.Generator) -> tuple[float, float]:
    """Monte-Carlo estimate of KL(N(μ, σ²) ‖ N(0, 1)) = E_{x~q}[log q(x) − log p(x)] from n
    samples x ~ N(μ, σ²).

    Args:
        mu: mean μ.
        sigma: standard deviation σ > 0.
        n: number of samples (≥ 2).
        rng: the random generator.

    Returns:
        (estimate, standard error) in nats; the standard error is std / √n.
    """
    x = mu + sigma * rng.standard_normal(n)
    # log N(x; μ, σ²) − log N(x; 0, 1): the 2π terms cancel
    log_ratio = -math.log(sigma) - 0.5 * ((x - mu) / sigma) ** 2 + 0.5 * x ** 2
    return float(log_ratio.mean()), float(log_ratio.std(ddof=1) / math.sqrt(n))


# --- 2. Markov chains ---------------------------------------------------------------------------

RESTAURANT_STATES = ("burger", "pizza", "hot dog")
# the notes' restaurant: A[i][j] = P(tomorrow serves j | today serves i)
RESTAURANT_A = ((Fraction("0.2"), Fraction("0.6"), Fraction("0.2")),
                (Fraction("0.3"), Fraction(0), Fraction("0.7")),
                (Fraction("0.5"), Fraction(0), Fraction("0.5")))
RESTAURANT_START = 1  # π₀ = [0, 1, 0]: the first day serves pizza
MAX_STATES = 8


def parse_matrix(text: str) -> list[list[Fraction]]:
    """Read a square matrix typed as one row per line, entries separated by spaces or commas;
    entries may be decimals or fractions ("0.2", "1/3"), kept exact.

    Args:
        text: the typed matrix.

    Returns:
        The rows as lists of Fractions.

    Raises:
        ValueError: with a message for the reader when the text is not a square matrix of
            numbers of size 2 to MAX_STATES.
    """
    rows = []
    for number, line in enumerate((ln for ln in text.replace(";", "\n").splitlines() if ln.strip()), 1):
        row = []
        for token in line.replace(",", " ").split():
            try:
                row.append(Fraction(token))
            except (ValueError, ZeroDivisionError):
                raise ValueError(f"row {number}: “{token}” is not a number (write 0.2 or 1/5)") from None
        rows.append(row)
    if not rows:
        raise ValueError("the matrix is empty: write one row per line")
    k = len(rows)
    for number, row in enumerate(rows, 1):
        if len(row) != k:
            raise ValueError(f"row {number} has {len(row)} entries, but there are {k} rows: "
                             f"a transition matrix is square")
    if not 2 <= k <= MAX_STATES:
        raise ValueError(f"{k} states: use 2 to {MAX_STATES}")
    return rows


def check_transition_matrix(A: Sequence[Sequence[float | Fraction]],
                            names: Sequence[str] | None = None) -> np.ndarray:
    """Check that A is a (row-)stochastic matrix: square, entries ≥ 0, each row summing to 1
    (exactly for Fractions, within 1e-9 for floats).

    Args:
        A: the matrix, A[i][j] = P(X_{n+1} = j | X_n = i).
        names: state names for the messages (default "state 1", ...).

    Returns:
        A as a float64 array (k, k).

    Raises:
        ValueError: naming the first negative entry or the first row that does not sum to 1.
    """
    k = len(A)
    if k == 0 or any(len(row) != k for row in A):
        raise ValueError("a transition matrix must be square")
    names = list(names) if names is not None and len(names) == k else [f"state {i + 1}" for i in range(k)]
    for i, row in enumerate(A):
        for j, a in enumerate(row):
            if not math.isfinite(float(a)):
                raise ValueError(f"entry ({names[i]} → {names[j]}) is {float(a)}: not a probability")
            if a < 0:
                raise ValueError(f"entry ({names[i]} → {names[j]}) is {_short(a)}: a probability "
                                 "cannot be negative")
        total = sum(row)
        exact = all(isinstance(a, (Fraction, int)) for a in row)
        if (total != 1) if exact else abs(float(total) - 1.0) > 1e-9:
            raise ValueError(f"row {i + 1} ({names[i]}) sums to {_short(total)}, not 1: tomorrow "
                             "must serve something, so each row's probabilities add up to 1")
    return np.array([[float(a) for a in row] for row in A], dtype=np.float64)


def _short(x: float | Fraction) -> str:
    return f"{float(x):.6g}"


def as_fractions(A: Sequence[Sequence[float | Fraction]],
                 max_denominator: int = 10**6) -> list[list[Fraction]] | None:
    """Exact rationals for a matrix of short decimals (0.2 -> 1/5), or None when an entry is not
    within 1e-12 of a fraction with a denominator up to ``max_denominator``.

    Args:
        A: the matrix (floats or Fractions).
        max_denominator: the largest denominator tried.

    Returns:
        The matrix of Fractions, or None.
    """
    out = []
    for row in A:
        exact_row = []
        for a in row:
            fa = a if isinstance(a, Fraction) else Fraction(a).limit_denominator(max_denominator)
            if abs(float(fa) - float(a)) > 1e-12:
                return None
            exact_row.append(fa)
        out.append(exact_row)
    return out


def exact_stationary(A: Sequence[Sequence[Fraction]]) -> tuple[Fraction, ...] | None:
    """The stationary distribution in exact rationals: the solution of πA = π, Σπ = 1 by
    Gauss–Jordan elimination over Fractions (the notes' step ③).

    Args:
        A: a stochastic matrix of Fractions.

    Returns:
        π as a tuple of Fractions, or None when the solution is not unique (more than one
        closed class: then every mixture of their stationary distributions is stationary).
    """
    k = len(A)
    # unknowns π_0..π_{k-1}; equations Σ_i π_i (A_ij − δ_ij) = 0 for each j, then Σ_i π_i = 1
    rows = [[Fraction(A[i][j]) - (i == j) for i in range(k)] + [Fraction(0)] for j in range(k)]
    rows.append([Fraction(1)] * k + [Fraction(1)])
    rank = 0
    for col in range(k):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            return None  # a free unknown: a whole family of solutions
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        lead = rows[rank][col]
        rows[rank] = [v / lead for v in rows[rank]]
        for r in range(len(rows)):
            if r != rank and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank])]
        rank += 1
    return tuple(rows[i][k] for i in range(k))


def left_eigenvector(A: np.ndarray) -> np.ndarray:
    """The left eigenvector of A for eigenvalue 1, scaled to sum to 1: πA = π ⇔ Aᵀπᵀ = πᵀ.

    Args:
        A: a stochastic matrix (k, k).

    Returns:
        π (k,) (one of them if the chain has several).
    """
    values, vectors = np.linalg.eig(A.T)
    v = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
    return v / v.sum()


def eigenvalues(A: np.ndarray) -> np.ndarray:
    """The eigenvalues of A, largest modulus first (the first is 1 for a stochastic matrix).

    Args:
        A: a square matrix.

    Returns:
        Complex eigenvalues (k,), sorted by decreasing |λ|.
    """
    values = np.linalg.eigvals(A)
    return values[np.argsort(-np.abs(values), kind="stable")]


def closed_classes(A: np.ndarray) -> list[list[int]]:
    """The closed communicating classes: sets of states that reach one another and that the
    chain never leaves. Each carries one stationary distribution; their number is the
    multiplicity of the eigenvalue 1.

    Args:
        A: a stochastic matrix (k, k).

    Returns:
        The classes as sorted lists of state indices, in order of their smallest state.
    """
    k = len(A)
    reach = (A > 0) | np.eye(k, dtype=bool)
    for _ in range(k):  # transitive closure by repeated squaring of the step relation
        reach = reach | ((reach.astype(np.int64) @ reach.astype(np.int64)) > 0)
    classes, seen = [], set()
    for i in range(k):
        if i in seen:
            continue
        cls = [j for j in range(k) if reach[i, j] and reach[j, i]]
        seen.update(cls)
        leaves = any(A[s, j] > 0 and j not in cls for s in cls for j in range(k))
        if not leaves:
            classes.append(cls)
    return classes


@dataclass(frozen=True)
class ChainFacts:
    """What the page says about a chain's long run."""

    pi: np.ndarray | None  # the stationary distribution (left eigenvector), None if not unique
    exact: tuple[Fraction, ...] | None  # π in exact rationals, when A's entries are rationals
    classes: list[list[int]]  # closed communicating classes
    extremes: list[np.ndarray]  # one stationary distribution per closed class
    extremes_exact: list[tuple[Fraction, ...]] | None  # the same in exact rationals
    eigenvalues: np.ndarray  # of A, largest |λ| first
    periodic: bool  # another eigenvalue on the unit circle: π_n need not converge

    @property
    def unique(self) -> bool:
        return len(self.classes) == 1


def analyse_chain(A: Sequence[Sequence[float | Fraction]]) -> ChainFacts:
    """Stationary distribution(s) of a checked stochastic matrix: the left eigenvector of
    eigenvalue 1, its exact rational form, the closed classes and periodicity.

    Args:
        A: a stochastic matrix (Fractions, floats or an array).

    Returns:
        ChainFacts.
    """
    A_float = np.array([[float(a) for a in row] for row in A], dtype=np.float64)
    classes = closed_classes(A_float)
    extremes = []
    for cls in classes:
        pi = np.zeros(len(A_float))
        pi[cls] = left_eigenvector(A_float[np.ix_(cls, cls)])
        extremes.append(pi)
    values = eigenvalues(A_float)
    on_circle = np.abs(np.abs(values) - 1.0) < 1e-9
    periodic = bool((on_circle & (np.abs(values - 1.0) > 1e-9)).any())
    unique = len(classes) == 1
    exact_matrix = as_fractions(A)
    exact = exact_stationary(exact_matrix) if unique and exact_matrix is not None else None
    extremes_exact = None
    if exact_matrix is not None:
        extremes_exact = []
        for cls in classes:  # each closed class is a chain of its own with a unique π
            inside = exact_stationary([[exact_matrix[i][j] for j in cls] for i in cls])
            extremes_exact.append(tuple(inside[cls.index(i)] if i in cls else Fraction(0)
                                        for i in range(len(A_float))))
    return ChainFacts(pi=left_eigenvector(A_float) if unique else None, exact=exact,
                      classes=classes, extremes=extremes, extremes_exact=extremes_exact,
                      eigenvalues=values, periodic=periodic)


def distribution_path(A: np.ndarray, pi0: np.ndarray, steps: int) -> np.ndarray:
    """π_n = π_{n−1} A for n = 0..steps (the notes' step ②, repeated).

    Args:
        A: a stochastic matrix (k, k).
        pi0: the starting distribution (k,).
        steps: the number of steps.

    Returns:
        (steps + 1, k): row n is π_n.
    """
    path = np.empty((steps + 1, len(pi0)))
    path[0] = pi0
    for n in range(1, steps + 1):
        path[n] = path[n - 1] @ A
    return path


def simulate_chain(A: np.ndarray, start: int, steps: int, rng: np.random.Generator) -> np.ndarray:
    """One run of the chain: X_0 = start, X_{n+1} drawn from row X_n of A.

    Args:
        A: a stochastic matrix (k, k).
        start: the state of day 0.
        steps: the number of transitions.
        rng: the random generator.

    Returns:
        The visited states (steps + 1,), int.
    """
    cumulative = np.cumsum(A, axis=1)
    u = rng.random(steps)
    states = np.empty(steps + 1, dtype=np.int64)
    states[0] = s = start
    last = len(A) - 1
    for n in range(steps):
        s = min(int(np.searchsorted(cumulative[s], u[n], side="right")), last)
        states[n + 1] = s
    return states


def visit_frequencies(states: np.ndarray, k: int) -> np.ndarray:
    """Running visit frequencies: row n is the fraction of days 0..n spent in each state.

    Args:
        states: a run of the chain (N,).
        k: the number of states.

    Returns:
        (N, k) frequencies, each row summing to 1.
    """
    counts = np.cumsum(np.eye(k)[states], axis=0)
    return counts / np.arange(1, len(states) + 1)[:, None]


# --- 3. random walk, Brownian motion, the diffusion SDE ------------------------------------------

def random_walk(walkers: int, dt: float, rng: np.random.Generator, horizon: float = 1.0) -> np.ndarray:
    """Symmetric random walks with steps ±√Δt: as Δt → 0 they become Brownian motion, whose
    position at time t is N(0, t) (Donsker's theorem).

    Args:
        walkers: the number of walkers.
        dt: the time step Δt (horizon / dt should be an integer).
        rng: the random generator.
        horizon: the final time.

    Returns:
        Up-minus-down step counts (walkers, steps + 1), int16, starting at 0: the positions
        are these times √Δt.
    """
    steps = round(horizon / dt)
    moves = 2 * rng.integers(0, 2, size=(walkers, steps), dtype=np.int8) - 1
    counts = np.zeros((walkers, steps + 1), dtype=np.int16)
    np.cumsum(moves, axis=1, dtype=np.int16, out=counts[:, 1:])
    return counts


def heat_kernel(x: np.ndarray, t: float) -> np.ndarray:
    """N(0, t) density, the solution of the heat equation ∂p/∂t = ½ ∂²p/∂x² from p_0 = δ_0.

    Args:
        x: points.
        t: time > 0.

    Returns:
        p(x, t).
    """
    return np.exp(-x * x / (2 * t)) / math.sqrt(2 * math.pi * t)


def lattice_histogram(counts: np.ndarray, k: int, dt: float,
                      min_width: float = 0.15) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Histogram of walkers after k steps, with bins aligned on the walk's lattice (positions
    √Δt·(2j − k), j up-steps, spacing 2√Δt) so that no bin holds more lattice points than another.

    Args:
        counts: up-minus-down counts after k steps (walkers,).
        k: the number of steps taken.
        dt: the time step.
        min_width: the narrowest bin allowed (bins are whole multiples of the spacing).

    Returns:
        (bin centres, bin widths, density): the fraction of walkers per bin divided by the
        bin's width (a bin spans centre ± width/2; the last may hold fewer lattice points).
    """
    spacing = 2 * math.sqrt(dt)
    m = max(1, math.ceil(min_width / spacing - 1e-9))  # lattice points per bin
    ups = (counts.astype(np.int64) + k) // 2  # j ∈ [0, k]
    per_bin = np.bincount(ups // m, minlength=k // m + 1)
    first = np.arange(len(per_bin)) * m  # first j of each bin
    last = np.minimum(first + m - 1, k)
    centres = math.sqrt(dt) * ((first + last) - k)  # mean of √Δt(2j − k) over the bin's j
    widths = (last - first + 1) * spacing
    return centres, widths, per_bin / (len(counts) * widths)


BETA_MIN, BETA_MAX = 0.1, 20.0  # the VP SDE's linear β(t) on t ∈ [0, 1] (Song et al. 2021)


def beta(t: float | np.ndarray) -> float | np.ndarray:
    """β(t) = β_min + t(β_max − β_min), the continuous DDPM schedule (Song et al. 2021, eq. 33)."""
    return BETA_MIN + t * (BETA_MAX - BETA_MIN)


def beta_integral(t: float | np.ndarray) -> float | np.ndarray:
    """B(t) = ∫₀ᵗ β(s) ds = β_min t + ½(β_max − β_min) t²."""
    return BETA_MIN * t + 0.5 * (BETA_MAX - BETA_MIN) * t * t


@dataclass(frozen=True)
class Mixture1D:
    """A 1-D Gaussian mixture Σ wᵢ N(mᵢ, sᵢ²): a data distribution whose diffused marginals and
    scores stay closed form."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.array(self.weights), np.array(self.means), np.array(self.stds)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """p(x) = Σ wᵢ N(x; mᵢ, sᵢ²)."""
        w, m, s = self._arrays()
        z = (np.asarray(x, dtype=np.float64)[..., None] - m) / s
        return (w * np.exp(-0.5 * z * z) / (s * math.sqrt(2 * math.pi))).sum(-1)

    def score(self, x: np.ndarray) -> np.ndarray:
        """∇ₓ log p(x) = Σ rᵢ(x) (mᵢ − x)/sᵢ², rᵢ(x) the responsibility of component i."""
        w, m, s = self._arrays()
        x = np.asarray(x, dtype=np.float64)[..., None]
        z = (x - m) / s
        log_terms = np.log(w) - np.log(s) - 0.5 * z * z  # (..., components)
        r = np.exp(log_terms - log_terms.max(-1, keepdims=True))
        r /= r.sum(-1, keepdims=True)
        return (r * (m - x) / (s * s)).sum(-1)

    def mean(self) -> float:
        w, m, _ = self._arrays()
        return float((w * m).sum())

    def var(self) -> float:
        """Σ wᵢ(sᵢ² + mᵢ²) − mean²."""
        w, m, s = self._arrays()
        return float((w * (s * s + m * m)).sum() - self.mean() ** 2)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        w, m, s = self._arrays()
        comp = rng.choice(len(w), size=n, p=w / w.sum())
        return m[comp] + s[comp] * rng.standard_normal(n)

    def diffused(self, t: float) -> Mixture1D:
        """The marginal p_t of the forward SDE dx = −½β(t)x dt + √β(t) dw started from this
        mixture: each N(m, s²) becomes N(m e^{−B/2}, s² e^{−B} + 1 − e^{−B}), B = B(t)."""
        decay = math.exp(-beta_integral(t))
        return Mixture1D(self.weights, tuple(m * math.sqrt(decay) for m in self.means),
                         tuple(math.sqrt(s * s * decay + 1.0 - decay) for s in self.stds))


MIXTURES = {
    "two bumps": Mixture1D((0.5, 0.5), (-2.0, 2.0), (0.5, 0.5)),
    "three unequal bumps": Mixture1D((0.2, 0.5, 0.3), (-3.0, 0.0, 2.5), (0.3, 0.6, 0.4)),
    "skewed": Mixture1D((0.6, 0.3, 0.1), (-1.0, 0.5, 2.5), (0.4, 0.6, 0.9)),
}


def forward_sde(x0: np.ndarray, steps: int, keep: int, rng: np.random.Generator) -> np.ndarray:
    """Euler–Maruyama for the forward SDE dx = −½β(t)x dt + √β(t) dw on t ∈ [0, 1].

    Args:
        x0: the particles at t = 0 (n,).
        steps: Euler–Maruyama steps (a multiple of ``keep``).
        keep: the number of intervals between stored snapshots.
        rng: the random generator.

    Returns:
        (keep + 1, n): the particles at t = 0, 1/keep, ..., 1.
    """
    h = 1.0 / steps
    out = np.empty((keep + 1, len(x0)))
    out[0] = x = np.array(x0, dtype=np.float64)
    for i in range(steps):
        b = beta(i * h)
        x = x - 0.5 * b * x * h + math.sqrt(b * h) * rng.standard_normal(len(x))
        if (i + 1) % (steps // keep) == 0:
            out[(i + 1) // (steps // keep)] = x
    return out


def reverse_sde(data: Mixture1D, n: int, steps: int, keep: int, rng: np.random.Generator) -> np.ndarray:
    """Euler–Maruyama for the reverse-time SDE (Anderson 1982; Song et al. 2021, eq. 6)
    dx = [−½β(t)x − β(t) ∇ₓ log p_t(x)] dt + √β(t) dw̄, from x_1 ~ N(0, 1) back to t = 0, with
    the exact score of the diffused mixture.

    Args:
        data: the data distribution p_0.
        n: the number of particles.
        steps: Euler–Maruyama steps (a multiple of ``keep``).
        keep: the number of intervals between stored snapshots.
        rng: the random generator.

    Returns:
        (keep + 1, n): the particles at t = 0, 1/keep, ..., 1 (row 0 is the end of the run).
    """
    h = 1.0 / steps
    out = np.empty((keep + 1, n))
    out[keep] = x = rng.standard_normal(n)
    for i in range(steps, 0, -1):  # from t = i h to t = (i − 1) h
        t = i * h
        b = beta(t)
        x = x + (0.5 * b * x + b * data.diffused(t).score(x)) * h + math.sqrt(b * h) * rng.standard_normal(n)
        if (i - 1) % (steps // keep) == 0:
            out[(i - 1) // (steps // keep)] = x
    return out


# --- 4. why Wasserstein -------------------------------------------------------------------------

def _uniform_cdf(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0)


def _triangle_cdf(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x < 0.5, 2 * x * x, 1 - 2 * (1 - x) ** 2)


SHAPES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "uniform on [0, 1]": _uniform_cdf,
    "triangle on [0, 1]": _triangle_cdf,
}


def cell_masses(cdf: Callable[[np.ndarray], np.ndarray], edges: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """The probability of each grid cell [e_i, e_{i+1}) under a distribution shifted by
    ``shift``: F(e_{i+1} − shift) − F(e_i − shift).

    Args:
        cdf: the distribution's CDF F.
        edges: the cell edges (m + 1,).
        shift: how far the distribution is moved right.

    Returns:
        The masses (m,).
    """
    return np.diff(cdf(edges - shift))


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence of two discrete distributions (e.g. grid-cell masses),
    JS = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = ½(p + q), in nats: 0 for p = q, log 2 for disjoint
    supports.

    Args:
        p: masses (m,), summing to 1.
        q: masses (m,), summing to 1.

    Returns:
        JS(p, q) in nats.
    """
    m = 0.5 * (p + q)

    def half_kl(a: np.ndarray) -> float:
        nz = a > 0
        return 0.5 * float((a[nz] * np.log(a[nz] / m[nz])).sum())

    return half_kl(p) + half_kl(q)


def js_uniform_shift(theta: float, width: float = 1.0) -> float:
    """Closed form of JS between U[0, w] and U[θ, θ + w]: (min(|θ|, w)/w) log 2 nats (the
    overlap contributes nothing, each non-overlapping part ½·(|θ|/w)·log 2)."""
    return min(abs(theta), width) / width * LOG2


def wasserstein1(cdf_p: np.ndarray, cdf_q: np.ndarray, dx: float) -> float:
    """W₁ in one dimension: ∫ |F_P(x) − F_Q(x)| dx (Vallender 1974), on a grid.

    Args:
        cdf_p: F_P at the grid points.
        cdf_q: F_Q at the same points.
        dx: the grid spacing.

    Returns:
        W₁(P, Q); for two copies of one distribution shifted by θ, exactly |θ|.
    """
    return float(np.abs(cdf_p - cdf_q).sum() * dx)


def optimal_critic(cdf_p: np.ndarray, cdf_q: np.ndarray, dx: float) -> np.ndarray:
    """An optimal 1-Lipschitz f of the Kantorovich–Rubinstein dual
    W₁ = sup_{‖f‖_L ≤ 1} E_P[f] − E_Q[f]: in 1-D, f′ = sign(F_Q − F_P) (since
    E_P f − E_Q f = ∫ f′ (F_Q − F_P) dx), flat where the CDFs agree, 0 at the right end.

    Args:
        cdf_p: F_P at the grid points (cell edges).
        cdf_q: F_Q at the same points.
        dx: the grid spacing.

    Returns:
        f at the grid points.
    """
    gap = cdf_q - cdf_p
    slope = np.sign(np.round(0.5 * (gap[:-1] + gap[1:]), 12))  # per cell, from its midpoint
    f = np.concatenate([[0.0], np.cumsum(slope) * dx])
    return f - f[-1]


def dual_value(p: np.ndarray, q: np.ndarray, f_edges: np.ndarray) -> float:
    """E_P[f] − E_Q[f] for grid-cell masses p, q and f at the cells' edges (f at each cell
    taken as the mean of its two edges: exact for f linear within cells).

    Args:
        p: cell masses of P (m,).
        q: cell masses of Q (m,).
        f_edges: f at the m + 1 edges.

    Returns:
        The dual objective; for the optimal critic it equals W₁(P, Q).
    """
    f_cells = 0.5 * (f_edges[:-1] + f_edges[1:])
    return float(((p - q) * f_cells).sum())


# --- 5. change of variables -----------------------------------------------------------------------

def _cubic_inverse(x: np.ndarray, a: float) -> np.ndarray:
    # z + a z³ = x, a > 0: the one real root of z³ + p z + q = 0, p = 1/a > 0, q = −x/a,
    # in the hyperbolic form z = −2√(p/3) sinh(⅓ arsinh((3q / 2p)√(3/p))), stable for small a
    if a == 0:
        return np.asarray(x, dtype=np.float64)
    p, q = 1.0 / a, -np.asarray(x, dtype=np.float64) / a
    return -2 * math.sqrt(p / 3) * np.sinh(np.arcsinh(1.5 * q / p * math.sqrt(3 / p)) / 3)


@dataclass(frozen=True)
class MonotoneMap:
    """An increasing map x = f(z) with its inverse and the inverse's slope, shaped by a."""

    label: str  # for the picker
    latex: str  # f as LaTeX
    lo: float  # the shape slider's range and default
    hi: float
    default: float
    forward: Callable[[np.ndarray, float], np.ndarray]
    inverse: Callable[[np.ndarray, float], np.ndarray]
    inverse_slope: Callable[[np.ndarray, float], np.ndarray]  # d f⁻¹/dx > 0


MAPS = {
    "exp": MonotoneMap("x = exp(az) (log-normal)", r"x = e^{a z}", 0.1, 1.0, 0.5,
                       lambda z, a: np.exp(a * z), lambda x, a: np.log(x) / a,
                       lambda x, a: 1.0 / (a * x)),
    "sigmoid": MonotoneMap("x = σ(az) (logit-normal)", r"x = \frac{1}{1 + e^{-a z}}", 0.25, 3.0, 1.0,
                           lambda z, a: 1.0 / (1.0 + np.exp(-a * z)),
                           lambda x, a: np.log(x / (1.0 - x)) / a,
                           lambda x, a: 1.0 / (a * x * (1.0 - x))),
    "cubic": MonotoneMap("x = z + az³ (heavy tails)", r"x = z + a z^3", 0.0, 1.0, 0.3,
                         lambda z, a: z + a * z ** 3, _cubic_inverse,
                         lambda x, a: 1.0 / (1.0 + 3 * a * _cubic_inverse(x, a) ** 2)),
}


def standard_normal_pdf(z: np.ndarray) -> np.ndarray:
    """N(z; 0, 1)."""
    return np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def pushforward_density(fmap: MonotoneMap, x: np.ndarray, a: float) -> np.ndarray:
    """The density of x = f(z), z ~ N(0, 1): p_x(x) = p_z(f⁻¹(x)) · |d f⁻¹/dx| (the change of
    variables; a flow's log-likelihood is its logarithm).

    Args:
        fmap: the monotone map f.
        x: points inside f's range.
        a: the map's shape parameter.

    Returns:
        p_x at x.
    """
    return standard_normal_pdf(fmap.inverse(x, a)) * np.abs(fmap.inverse_slope(x, a))


def x_integrals(fmap: MonotoneMap, a: float, points: int = 20_001) -> tuple[float, float]:
    """∫ p_x(x) dx and the same without the Jacobian factor, ∫ p_z(f⁻¹(x)) dx, by the trapezoid
    rule in x on the image of a fine z-grid over [−9, 9] (where all but 10⁻¹⁸ of the mass lies).

    Args:
        fmap: the monotone map f.
        a: its shape parameter.
        points: grid points.

    Returns:
        (∫ p_x dx, which is 1, and ∫ p_z(f⁻¹(x)) dx, which is not).
    """
    x = fmap.forward(np.linspace(-9.0, 9.0, points), a)
    with_jacobian = np.trapezoid(pushforward_density(fmap, x, a), x)
    without = np.trapezoid(standard_normal_pdf(fmap.inverse(x, a)), x)
    return float(with_jacobian), float(without)


def density_histogram(samples: np.ndarray, lo: float, hi: float, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Histogram as a density over [lo, hi] (counts / (n · width), n counting every sample, so
    the bars estimate p_x even where some samples fall outside).

    Args:
        samples: the samples (n,).
        lo: left edge.
        hi: right edge.
        bins: the number of bins.

    Returns:
        (bin centres, densities).
    """
    counts, edges = np.histogram(samples, bins=bins, range=(lo, hi))
    width = (hi - lo) / bins
    return 0.5 * (edges[:-1] + edges[1:]), counts / (len(samples) * width)
