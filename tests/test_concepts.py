"""genlab.concepts against closed forms (every number the /concepts page shows), and an AppTest
of the page."""

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from genlab import concepts as c

ROOT = Path(__file__).resolve().parent.parent


# --- 1. information ------------------------------------------------------------------------------

def test_the_notes_coin_examples():
    values = [example.value() for example in c.NOTES_COINS]
    exact = [1.0,  # fair coin: ½·1 + ½·1
             0.2 * math.log2(5) + 0.8 * math.log2(1.25),  # 2:8 coin, 0.7219…
             0.5 * math.log2(5) + 0.5 * math.log2(1.25),  # truth ½, estimate 0.2: 1.3219…
             0.5 * math.log2(2.5) + 0.5 * math.log2(1 / 0.6)]  # truth ½, estimate 0.4: 1.0294…
    assert values == pytest.approx(exact, abs=1e-12)
    assert values == pytest.approx([1.0, 0.7219280948873623, 1.3219280948873623, 1.0294468445267841],
                                   abs=1e-12)
    # the notes print them rounded to two decimals
    assert [f"{v:.2f}".rstrip("0").rstrip(".") for v in values] == [e.notes for e in c.NOTES_COINS]


def test_information_entropy_cross_entropy_kl():
    assert c.information_bits(0.5) == 1.0
    assert c.information_bits(0.2) == pytest.approx(math.log2(5))  # the notes' 2.32
    assert c.information_bits(0.8) == pytest.approx(math.log2(1.25))  # the notes' 0.32
    assert c.information_bits(0.0) == math.inf
    p, q = c.coin(0.5), c.coin(0.2)
    assert c.entropy_bits(c.coin(1.0)) == 0.0  # 0 log 0 = 0: a sure coin carries no information
    assert c.kl_bits(p, q) == pytest.approx(c.cross_entropy_bits(p, q) - c.entropy_bits(p), abs=1e-15)
    assert c.kl_bits(p, q) == pytest.approx(0.5 * math.log2(0.5 / 0.2) + 0.5 * math.log2(0.5 / 0.8))
    assert c.kl_bits(q, p) == pytest.approx(0.2 * math.log2(0.2 / 0.5) + 0.8 * math.log2(0.8 / 0.5))
    assert c.kl_bits(p, q) != pytest.approx(c.kl_bits(q, p), abs=1e-3)  # not symmetric
    assert c.kl_bits(p, p) == 0.0
    assert c.cross_entropy_bits(c.coin(0.5), c.coin(1.0)) == math.inf  # q rules out tails
    rng = np.random.default_rng(0)
    for _ in range(50):  # Gibbs' inequality: KL ≥ 0, so H(p, q) ≥ H(p)
        a, b = rng.uniform(0.01, 0.99, 2)
        assert c.kl_bits(c.coin(a), c.coin(b)) >= 0
    with pytest.raises(ValueError):
        c.coin(1.2)


def test_gaussian_kl_closed_form_and_monte_carlo():
    assert c.gaussian_kl(0.0, 1.0) == 0.0
    assert c.gaussian_kl(1.0, 1.0) == 0.5  # ½μ²
    assert c.gaussian_kl(0.0, 2.0) == pytest.approx(0.5 * (4 - math.log(4) - 1))
    assert c.gaussian_kl(1.0, 0.5) == pytest.approx(0.5 * (1 + 0.25 - math.log(0.25) - 1))
    # the same as the VAE's loss term, −½ Σ (1 + log σ² − μ² − σ²)
    mu, logvar = 0.7, math.log(0.3 ** 2)
    assert c.gaussian_kl(mu, 0.3) == pytest.approx(-0.5 * (1 + logvar - mu ** 2 - math.exp(logvar)))
    misses = 0
    for seed, (mu, sigma, n) in enumerate([(1.0, 0.5, 1000), (0.0, 2.0, 10000), (-2.0, 0.3, 300),
                                           (0.5, 1.5, 100), (1.0, 1.0, 30)]):
        estimate, se = c.gaussian_kl_monte_carlo(mu, sigma, n, np.random.default_rng(seed))
        assert se > 0
        misses += abs(estimate - c.gaussian_kl(mu, sigma)) > 2 * se
        assert abs(estimate - c.gaussian_kl(mu, sigma)) < 4 * se
    assert misses <= 1  # ±2 SE holds ~95% of the time
    # the error bar shrinks like 1/√n
    _, se_small = c.gaussian_kl_monte_carlo(1.0, 0.5, 100, np.random.default_rng(1))
    _, se_big = c.gaussian_kl_monte_carlo(1.0, 0.5, 10000, np.random.default_rng(1))
    assert se_big == pytest.approx(se_small / 10, rel=0.3)


# --- 2. Markov chains ----------------------------------------------------------------------------

RESTAURANT_TEXT = "0.2 0.6 0.2\n0.3 0 0.7\n0.5 0 0.5"


def test_restaurant_stationary_distribution_is_exactly_the_notes():
    facts = c.analyse_chain(c.RESTAURANT_A)
    assert facts.unique and not facts.periodic
    assert facts.exact == (Fraction(25, 71), Fraction(15, 71), Fraction(31, 71))
    assert facts.pi == pytest.approx([25 / 71, 15 / 71, 31 / 71], abs=1e-12)  # left eigenvector
    assert np.round(facts.pi, 3).tolist() == [0.352, 0.211, 0.437]
    A = np.array(c.RESTAURANT_A, dtype=float)
    assert facts.pi @ A == pytest.approx(facts.pi, abs=1e-12)
    # from float entries, limit_denominator recovers the same fractions
    assert c.analyse_chain(A.tolist()).exact == facts.exact
    assert c.analyse_chain(c.parse_matrix(RESTAURANT_TEXT)).exact == facts.exact
    # eigenvalues: 1 and the roots of λ² + 0.3λ + 0.12 (trace 0.7, det 0.12): |λ₂| = √0.12
    assert facts.eigenvalues[0] == pytest.approx(1.0)
    assert abs(facts.eigenvalues[1]) == pytest.approx(math.sqrt(0.12))
    assert sorted(facts.eigenvalues[1:].real) == pytest.approx([-0.15, -0.15])


def test_restaurant_distribution_path_converges():
    A = np.array(c.RESTAURANT_A, dtype=float)
    path = c.distribution_path(A, np.eye(3)[c.RESTAURANT_START], 30)
    assert path[0].tolist() == [0, 1, 0]
    assert path[1] == pytest.approx([0.3, 0.0, 0.7])  # the notes' π₁ = π₀A
    assert path[2] == pytest.approx([0.3 * 0.2 + 0.7 * 0.5, 0.3 * 0.6, 0.3 * 0.2 + 0.7 * 0.5])
    assert path.sum(1) == pytest.approx(np.ones(31))
    pi = np.array([25, 15, 31]) / 71
    errors = np.abs(path - pi).sum(1)
    assert errors[30] < 1e-12
    # geometric convergence at rate |λ₂| = √0.12 per step (up to a constant)
    assert errors[20] / errors[10] < 5 * math.sqrt(0.12) ** 10


def test_simulated_visit_frequencies_converge_to_pi():
    A = np.array(c.RESTAURANT_A, dtype=float)
    states = c.simulate_chain(A, 1, 20000, np.random.default_rng(0))
    assert states[0] == 1 and set(np.unique(states)) == {0, 1, 2}
    # pizza is always followed by burger or hot dog (A[1][1] = 0), so is burger→pizza only
    assert not np.any((states[:-1] == 1) & (states[1:] == 1))
    freq = c.visit_frequencies(states, 3)
    assert freq.shape == (20001, 3) and freq.sum(1) == pytest.approx(np.ones(20001))
    assert freq[-1] == pytest.approx([25 / 71, 15 / 71, 31 / 71], abs=0.015)
    # empirical transition frequencies match A
    for i in range(3):
        nxt = states[1:][states[:-1] == i]
        assert np.bincount(nxt, minlength=3) / len(nxt) == pytest.approx(A[i], abs=0.03)


def test_more_than_one_stationary_distribution_is_detected():
    reducible = [[1, 0, 0], [0, 0.5, 0.5], [0, 0.5, 0.5]]
    facts = c.analyse_chain(reducible)
    assert not facts.unique and facts.pi is None and facts.exact is None
    assert facts.classes == [[0], [1, 2]]
    assert [e.tolist() for e in facts.extremes] == [pytest.approx([1, 0, 0]), pytest.approx([0, 0.5, 0.5])]
    assert facts.extremes_exact == [(1, 0, 0), (0, Fraction(1, 2), Fraction(1, 2))]
    assert np.sum(np.abs(facts.eigenvalues - 1) < 1e-9) == 2  # eigenvalue 1 twice
    assert c.exact_stationary(c.as_fractions(reducible)) is None
    # a transient state leading into two absorbing ones
    facts = c.analyse_chain([[0.5, 0.25, 0.25], [0, 1, 0], [0, 0, 1]])
    assert facts.classes == [[1], [2]] and not facts.unique
    # a transient state does not make a chain reducible in this sense: one closed class
    facts = c.analyse_chain([[0.5, 0.5, 0], [0, 0.5, 0.5], [0, 0.5, 0.5]])
    assert facts.unique and facts.exact == (0, Fraction(1, 2), Fraction(1, 2))


def test_periodic_chain_is_flagged():
    facts = c.analyse_chain([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert facts.unique and facts.periodic
    assert facts.exact == (Fraction(1, 3),) * 3
    path = c.distribution_path(np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], float), np.eye(3)[0], 6)
    assert path[3].tolist() == [1, 0, 0]  # π_n cycles with period 3


@pytest.mark.parametrize("text, message", [
    ("0.2 0.6 0.3\n0.3 0 0.7\n0.5 0 0.5", "row 1 (burger) sums to 1.1, not 1"),
    ("0.2 0.6 0.2\n0.3 -0.1 0.8\n0.5 0 0.5", "(pizza → pizza) is -0.1: a probability cannot be negative"),
    ("0.2 0.6\n0.3 0 0.7\n0.5 0 0.5", "row 1 has 2 entries, but there are 3 rows"),
    ("0.2 x 0.2\n0.3 0 0.7\n0.5 0 0.5", "“x” is not a number"),
    ("", "the matrix is empty"),
    ("1", "1 states: use 2 to 8"),
])
def test_bad_matrices_are_rejected_with_a_message(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        c.check_transition_matrix(c.parse_matrix(text), c.RESTAURANT_STATES)


def test_parse_matrix_is_exact():
    rows = c.parse_matrix("1/3, 2/3\n0.1 0.9")
    assert rows == [[Fraction(1, 3), Fraction(2, 3)], [Fraction(1, 10), Fraction(9, 10)]]
    assert c.check_transition_matrix(rows).tolist() == [[1 / 3, 2 / 3], [0.1, 0.9]]
    # 0.1 + 0.2 + 0.7 is exactly 1 as decimals; as floats it is within the tolerance
    assert c.check_transition_matrix(c.parse_matrix("0.1 0.2 0.7\n0 1 0\n0 0 1")).shape == (3, 3)
    assert c.check_transition_matrix([[0.1, 0.2, 0.7], [0, 1, 0], [0, 0, 1]]).shape == (3, 3)
    # two-state chain: π = (b, a) / (a + b) for A = [[1 − a, a], [b, 1 − b]]
    assert c.analyse_chain(c.parse_matrix("0.9 0.1\n0.3 0.7")).exact == (Fraction(3, 4), Fraction(1, 4))


# --- 3. random walk, Brownian motion, SDE --------------------------------------------------------

def test_random_walk_positions_have_variance_t():
    dt = 1 / 256
    counts = c.random_walk(4000, dt, np.random.default_rng(0))
    assert counts.shape == (4000, 257) and counts[:, 0].tolist() == [0] * 4000
    assert set(np.unique(np.diff(counts, axis=1))) == {-1, 1}  # steps of ±√Δt
    for k in (16, 64, 256):
        x = counts[:, k] * math.sqrt(dt)
        t = k * dt
        # Var of a sum of k independent ±√Δt steps is kΔt = t; the MC error of a variance is
        # about t·√(2/n), of a mean √(t/n)
        assert x.var() == pytest.approx(t, abs=4 * t * math.sqrt(2 / 4000))
        assert abs(x.mean()) < 4 * math.sqrt(t / 4000)


def test_lattice_histogram_matches_the_heat_kernel():
    dt = 1 / 1024
    counts = c.random_walk(20000, dt, np.random.default_rng(1))
    for k in (256, 1024):
        centres, widths, density = c.lattice_histogram(counts[:, k], k, dt)
        assert widths[:-1] == pytest.approx(np.full(len(widths) - 1, 0.1875))  # 3 points of 1/16
        assert np.diff(centres)[:-1] == pytest.approx(widths[:-2])  # bins tile the line
        assert (density * widths).sum() == pytest.approx(1.0)  # every walker in a bin
        assert np.abs(density - c.heat_kernel(centres, k * dt)).max() < 0.03
    # coarse steps: bins of one lattice point each hold the binomial probabilities
    centres, widths, density = c.lattice_histogram(np.array([-2, 0, 0, 2]), 2, 0.25, min_width=0.1)
    assert centres.tolist() == [-1.0, 0.0, 1.0] and widths.tolist() == [1.0] * 3
    assert density.tolist() == [0.25, 0.5, 0.25]


def test_heat_kernel_solves_the_heat_equation():
    x, t, h = np.linspace(-3, 3, 61), 0.7, 1e-4
    dp_dt = (c.heat_kernel(x, t + h) - c.heat_kernel(x, t - h)) / (2 * h)
    d2p_dx2 = (c.heat_kernel(x + h, t) - 2 * c.heat_kernel(x, t) + c.heat_kernel(x - h, t)) / h ** 2
    assert dp_dt == pytest.approx(0.5 * d2p_dx2, abs=1e-5)


def test_beta_schedule_and_diffused_moments():
    assert c.beta(0.0) == c.BETA_MIN and c.beta(1.0) == c.BETA_MAX
    assert c.beta_integral(1.0) == pytest.approx((c.BETA_MIN + c.BETA_MAX) / 2)
    t = np.linspace(0, 1, 1001)
    assert np.trapezoid(c.beta(t), t) == pytest.approx(c.beta_integral(1.0))
    for data in c.MIXTURES.values():
        assert sum(data.weights) == pytest.approx(1.0)
        for s in (0.0, 0.1, 0.3, 1.0):
            decay = math.exp(-c.beta_integral(s))
            pt = data.diffused(s)
            # the linear SDE moves the mean and variance in closed form
            assert pt.mean() == pytest.approx(data.mean() * math.sqrt(decay), abs=1e-12)
            assert pt.var() == pytest.approx(data.var() * decay + 1 - decay, abs=1e-12)
        p1 = data.diffused(1.0)
        x = np.linspace(-4, 4, 81)
        assert p1.pdf(x) == pytest.approx(c.standard_normal_pdf(x), abs=1e-3)  # ≈ N(0, 1)


def test_marginals_solve_the_fokker_planck_equation():
    """∂p/∂t = ½β(t) [∂(x p)/∂x + ∂²p/∂x²] for dx = −½βx dt + √β dw."""
    data, x, h = c.MIXTURES["three unequal bumps"], np.linspace(-4, 4, 81), 1e-4
    for t in (0.05, 0.2, 0.5):
        p = lambda s, y: data.diffused(s).pdf(y)
        dp_dt = (p(t + h, x) - p(t - h, x)) / (2 * h)
        dxp_dx = ((x + h) * p(t, x + h) - (x - h) * p(t, x - h)) / (2 * h)
        d2p_dx2 = (p(t, x + h) - 2 * p(t, x) + p(t, x - h)) / h ** 2
        assert dp_dt == pytest.approx(0.5 * c.beta(t) * (dxp_dx + d2p_dx2), abs=2e-3)


def test_mixture_score_is_the_gradient_of_log_p():
    data, x, h = c.MIXTURES["skewed"], np.linspace(-3, 4, 71), 1e-5
    for t in (0.0, 0.1, 0.4):
        pt = data.diffused(t)
        numeric = (np.log(pt.pdf(x + h)) - np.log(pt.pdf(x - h))) / (2 * h)
        assert pt.score(x) == pytest.approx(numeric, abs=1e-4)
    xs = np.linspace(-10, 10, 8001)
    assert np.trapezoid(data.pdf(xs), xs) == pytest.approx(1.0, abs=1e-6)


def test_forward_sde_reaches_n01_and_reverse_sde_recovers_the_data():
    n = 4000
    for seed, data in enumerate(c.MIXTURES.values()):
        rng = np.random.default_rng(seed)
        forward = c.forward_sde(data.sample(n, rng), 1000, 50, rng)
        assert forward.shape == (51, n)
        assert abs(forward[-1].mean()) < 4 / math.sqrt(n)
        assert forward[-1].var() == pytest.approx(1.0, abs=4 * math.sqrt(2 / n))
        mid = data.diffused(0.2)  # the particles follow p_t on the way
        assert forward[10].mean() == pytest.approx(mid.mean(), abs=4 * math.sqrt(mid.var() / n))
        back = c.reverse_sde(data, n, 1000, 50, rng)
        x0 = back[0]
        se_mean = math.sqrt(data.var() / n)
        se_var = np.sqrt(np.mean((x0 - x0.mean()) ** 4) - x0.var() ** 2) / math.sqrt(n)
        assert x0.mean() == pytest.approx(data.mean(), abs=4 * se_mean)
        assert x0.var() == pytest.approx(data.var(), abs=4 * se_var + 0.02)
        # the modes come back: the histogram matches the mixture's density
        centres, density = c.density_histogram(x0, -5, 5, 50)
        assert np.abs(density - data.pdf(centres)).max() < 0.08


# --- 4. why Wasserstein --------------------------------------------------------------------------

DX = 0.001
EDGES = np.arange(-0.5, 4.5 + DX / 2, DX)


@pytest.mark.parametrize("shape", list(c.SHAPES))
def test_js_saturates_and_w1_equals_the_shift(shape):
    cdf = c.SHAPES[shape]
    p = c.cell_masses(cdf, EDGES)
    assert p.sum() == pytest.approx(1.0)
    for theta in (0.0, 0.25, 0.5, 1.0, 1.5, 3.0):
        q = c.cell_masses(cdf, EDGES, theta)
        js = c.js_divergence(p, q)
        w1 = c.wasserstein1(cdf(EDGES), cdf(EDGES - theta), DX)
        assert w1 == pytest.approx(theta, abs=1e-9)  # equal shapes: W₁ = the shift
        if theta == 0:
            assert js == 0.0
        if theta >= 1:  # supports [0, 1] and [θ, θ + 1] no longer overlap
            assert js == pytest.approx(math.log(2), abs=1e-12)
        assert 0 <= js <= math.log(2) + 1e-12
        f = c.optimal_critic(cdf(EDGES), cdf(EDGES - theta), DX)
        assert np.abs(np.diff(f)).max() <= DX * (1 + 1e-9)  # 1-Lipschitz
        assert c.dual_value(p, q, f) == pytest.approx(w1, abs=2 * DX)  # Kantorovich–Rubinstein


def test_js_of_shifted_uniforms_has_a_closed_form():
    cdf = c.SHAPES["uniform on [0, 1]"]
    p = c.cell_masses(cdf, EDGES)
    for theta in (0.1, 0.3, 0.55, 0.9, 1.2):
        q = c.cell_masses(cdf, EDGES, theta)
        assert c.js_divergence(p, q) == pytest.approx(c.js_uniform_shift(theta), abs=1e-9)
    assert c.js_uniform_shift(0.5) == pytest.approx(0.5 * math.log(2))


def test_js_of_triangles_matches_quadrature_of_the_densities():
    # an independent computation from the triangle's density on a fine midpoint grid
    def pdf(x):
        return np.where((x >= 0) & (x <= 1), 2 - 4 * np.abs(x - 0.5), 0.0)

    x = np.arange(-0.5, 2.5, 1e-5) + 5e-6
    theta = 0.3
    p, q = pdf(x), pdf(x - theta)
    m = 0.5 * (p + q)

    def kl(a):
        nz = a > 0
        return (a[nz] * np.log(a[nz] / m[nz])).sum() * 1e-5

    expected = 0.5 * kl(p) + 0.5 * kl(q)
    cdf = c.SHAPES["triangle on [0, 1]"]
    got = c.js_divergence(c.cell_masses(cdf, EDGES), c.cell_masses(cdf, EDGES, theta))
    assert got == pytest.approx(expected, abs=1e-4)


# --- 5. change of variables ----------------------------------------------------------------------

@pytest.mark.parametrize("name", list(c.MAPS))
def test_maps_are_monotone_and_inverted(name):
    fmap = c.MAPS[name]
    z = np.linspace(-3, 3, 121)
    for a in (fmap.lo, fmap.default, fmap.hi):
        x = fmap.forward(z, a)
        assert np.all(np.diff(x) > 0)
        assert fmap.inverse(x, a) == pytest.approx(z, abs=1e-9)
        h = 1e-4 * np.gradient(x)  # the inverse's slope against a finite difference, local scale
        numeric = (fmap.inverse(x + h, a) - fmap.inverse(x - h, a)) / (2 * h)
        assert fmap.inverse_slope(x, a) == pytest.approx(numeric, rel=1e-5)


@pytest.mark.parametrize("name", list(c.MAPS))
def test_pushforward_density_integrates_to_one_and_matches_a_histogram(name):
    fmap = c.MAPS[name]
    for a in (fmap.lo, fmap.default, fmap.hi):
        if a == 0:
            continue
        # ∫ p_x dx = ∫ p_z dz = 1: integrate in x on a grid fine where the mass is
        x = fmap.forward(np.linspace(-9, 9, 200001), a)
        assert np.trapezoid(c.pushforward_density(fmap, x, a), x) == pytest.approx(1.0, abs=1e-6)
        rng = np.random.default_rng(0)
        n = 200_000
        samples = fmap.forward(rng.standard_normal(n), a)
        lo, hi = fmap.forward(np.array([-3.0, 3.0]), a)
        centres, density = c.density_histogram(samples, lo, hi, 40)
        width = (hi - lo) / 40
        # bin average of p_x (fine quadrature) against the histogram, within 5 binomial SEs
        fine = np.linspace(lo, hi, 40 * 200 + 1)
        mids = 0.5 * (fine[1:] + fine[:-1])
        expected = c.pushforward_density(fmap, mids, a).reshape(40, 200).mean(1)
        se = np.sqrt(expected * width * (1 - expected * width) / n) / width
        assert np.all(np.abs(density - expected) <= 5 * se + 1e-9)
    # log-normal: p_x(x) = N(log x / a) / (a x)
    x = np.array([0.5, 1.0, 2.0])
    assert c.pushforward_density(c.MAPS["exp"], x, 0.5) == pytest.approx(
        np.exp(-0.5 * (np.log(x) / 0.5) ** 2) / (math.sqrt(2 * math.pi) * 0.5 * x))


def test_x_integrals_with_and_without_the_jacobian():
    """The page's two numbers: ∫ p_x dx = 1, and ∫ p_z(f⁻¹(x)) dx = ∫ p_z(z) f′(z) dz, which is
    a·e^{a²/2} for e^{az}, 1 + 3a for z + az³, and for σ(az) a z-space quadrature."""
    z = np.linspace(-12, 12, 240001)
    for a in (0.1, 0.5, 1.0):
        total, without = c.x_integrals(c.MAPS["exp"], a)
        assert total == pytest.approx(1.0, abs=1e-5)
        assert without == pytest.approx(a * math.exp(a * a / 2), abs=1e-5)
    for a in (0.3, 1.0):
        assert c.x_integrals(c.MAPS["cubic"], a)[1] == pytest.approx(1 + 3 * a, abs=1e-5)
    for a in (0.25, 1.0, 3.0):
        s = 1 / (1 + np.exp(-a * z))
        expected = np.trapezoid(c.standard_normal_pdf(z) * a * s * (1 - s), z)
        total, without = c.x_integrals(c.MAPS["sigmoid"], a)
        assert total == pytest.approx(1.0, abs=1e-5) and without == pytest.approx(expected, abs=1e-5)


# --- the page (AppTest) ----------------------------------------------------------------------------

def concepts_page(**state):
    """/concepts run through app.py's navigation (its page links need the registered pages)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    return at.switch_page("pages/concepts.py").run()


def page_text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [m.value for m in at.caption])


def test_page_opens_on_the_notes_examples():
    at = concepts_page()
    assert not at.exception and not at.error
    text = page_text(at)
    for value in ("1.0000 | 1 |", "0.7219 | 0.72 |", "1.3219 | 1.32 |", "1.0294 | 1.03 |"):
        assert value in text  # the notes' four coin examples, computed
    assert "H(p, q) = **1.322** bits" in text  # p = 0.5, q = 0.2: the notes' third example
    assert "| π = πA (exact) | **25/71** | **15/71** | **31/71** |" in text
    assert "| π ≈ | **0.352** | **0.211** | **0.437** |" in text
    assert "| π₀ | 0.0000 | 1.0000 | 0.0000 |" in text  # day 0 serves pizza
    assert f"|λ₂| = {math.sqrt(0.12):.3f}" in text
    assert f"Closed form: **{c.gaussian_kl(1.0, 0.5):.4f}** nats" in text
    assert f"JS = **{c.js_uniform_shift(0.5):.4f}** nats" in text and "W₁ = **0.5000** = θ" in text
    assert "∫ p_x dx = **1.0000**" in text
    assert len(at.get("vega_lite_chart")) == 12  # and the coin's chart, a picture (an SVG)
    assert at.get("image")[0].proto.imgs[0].url.startswith("data:image/svg+xml")
    assert len(at.main.get("page_link")) == 6  # every section links to the model page that uses it
    assert len(at.get("latex")) >= 15


def test_markov_step_slider_and_matrix_edits():
    at = concepts_page()
    at.slider(key="concepts.step").set_value(5).run()
    path = c.distribution_path(np.array(c.RESTAURANT_A, dtype=float), np.eye(3)[1], 5)
    assert "| π₅ = π₄A | " + " | ".join(f"{v:.4f}" for v in path[5]) + " |" in page_text(at)
    gap = np.abs(path[5] - np.array([25, 15, 31]) / 71).sum()
    assert f"‖π₅ − π‖₁ = {gap:.2g}" in page_text(at)
    # a row that does not sum to 1: a clear message, no traceback, the rest of the page intact
    at.text_area(key="concepts.matrix").input("0.2 0.6 0.3\n0.3 0 0.7\n0.5 0 0.5").run()
    assert not at.exception
    assert "row 1 (burger) sums to 1.1, not 1" in at.error[0].value
    at.text_area(key="concepts.matrix").input("0.2 0.6 0.2\n0.3 -0.2 0.9\n0.5 0 0.5").run()
    assert "a probability cannot be negative" in at.error[0].value
    at.text_area(key="concepts.matrix").input("1/2 1/2\n1/3 2/3").run()
    assert not at.error and "| π = πA (exact) | **2/5** | **3/5** |" in page_text(at)
    at.selectbox(key="concepts.chain").set_value("two closed classes").run()
    assert not at.exception and not at.error
    assert "More than one stationary distribution" in at.warning[0].value
    assert "{burger}; {pizza, hot dog}" in at.warning[0].value
    assert "| π⁽²⁾ (closed class 2) | 0 | 7/13 | 6/13 |" in page_text(at)
    at.selectbox(key="concepts.chain").set_value("periodic: burger → pizza → hot dog").run()
    assert "Periodic" in at.info[0].value and "**1/3** | **1/3** | **1/3**" in page_text(at)


def test_other_sections_controls():
    at = concepts_page()
    at.slider(key="concepts.q").set_value(0.4).run()
    assert "H(p, q) = **1.029** bits" in page_text(at)  # the notes' fourth example
    at.slider(key="concepts.theta").set_value(1.5).run()
    text = page_text(at)
    assert f"JS = **{math.log(2):.4f}** nats = 1.000 × log 2" in text and "W₁ = **1.5000**" in text
    assert "no longer overlap" in text
    at.slider(key="concepts.sde_t").set_value(1.0).run()
    pt = c.MIXTURES["two bumps"].diffused(1.0)
    assert f"| exact p_t | {pt.mean():+.3f} | {pt.var():.3f} |" in page_text(at)
    at.radio(key="concepts.map").set_value("exp").run()
    assert f"**{0.5 * math.exp(0.5 ** 2 / 2):.4f}**: not a density" in page_text(at)  # a·e^{a²/2}
    at.slider(key="concepts.a.exp").set_value(1.0).run()
    assert f"**{math.exp(0.5):.4f}**: not a density" in page_text(at)
    at.radio(key="concepts.map").set_value("cubic").run()
    assert "**1.9000**: not a density" in page_text(at)  # ∫ p_z(z)(1 + 3az²) dz = 1 + 3a, a = 0.3
    before = page_text(at)
    at.select_slider(key="concepts.dt").set_value(1 / 1024).run()
    at.slider(key="concepts.t").set_value(1.0).run()
    assert "| Brownian motion | 0 | 1 |" in page_text(at)
    at.slider(key="concepts.seed").set_value(7).run()  # new simulations, same closed forms
    after = page_text(at)
    assert not at.exception and after != before
    assert "| π = πA (exact) | **25/71** | **15/71** | **31/71** |" in after


def test_svg_line_chart_is_valid_svg_with_a_curve_per_series_and_the_marker_where_asked():
    import xml.etree.ElementTree as ET

    from genlab_ui.components import svg_line_chart

    x = np.linspace(0.01, 0.99, 99)
    svg = svg_line_chart(x, {"a <b>": x * 10, "c": 1 - x}, ["#111111", "#222222"], title="T & U",
                         x_title="q", y_title="bits", y_domain=(0, 3.5), x_domain=(0, 1), marker=0.25,
                         width=400, height=290)
    root = ET.fromstring(svg)  # well-formed, names escaped
    ns = "{http://www.w3.org/2000/svg}"
    lines = root.findall(f"{ns}polyline")
    assert [p.find(f"{ns}title").text for p in lines] == ["a <b>", "c"]
    assert all(p.get("clip-path") == "url(#plot)" for p in lines)  # a curve beyond 3.5 is cut at the frame
    rule = [e for e in root.findall(f"{ns}line") if e.get("stroke") == "#d62728"]
    left, plot_width = 46, 400 - 46 - 22
    assert len(rule) == 1 and float(rule[0].get("x1")) == pytest.approx(left + 0.25 * plot_width, abs=0.1)
    assert not [e for e in root.findall(f"{ns}line") if e.get("stroke-dasharray")]  # no hline asked
    svg = svg_line_chart(x, {"c": 1 - x}, ["#111111"], title="T", x_title="q", y_title="", y_domain=(0, 2),
                         hline=0.5, width=400, height=290)
    dashed = [e for e in ET.fromstring(svg).findall(f"{ns}line") if e.get("stroke-dasharray")]
    top, plot_height = 28, 290 - 28 - 62
    assert len(dashed) == 1 and float(dashed[0].get("y1")) == pytest.approx(top + 0.75 * plot_height, abs=0.1)
