import numpy as np
import pytest

from genlab import projection


def data(n=300, f=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, f)) @ rng.normal(size=(f, f))


def test_pca_agrees_with_svd_by_hand():
    x = data()
    res = projection.pca(x, k=3)
    xc = x - x.mean(0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    # same subspace and variances; signs fixed so the largest loading is positive
    np.testing.assert_allclose(np.abs(res.components), np.abs(vt[:3]), atol=1e-10)
    np.testing.assert_allclose(res.explained_variance_ratio, (s ** 2 / (s ** 2).sum())[:50], rtol=1e-10)
    np.testing.assert_allclose(res.coords.var(0, ddof=1), s[:3] ** 2 / (len(x) - 1), rtol=1e-10)
    np.testing.assert_allclose(res.transform(x), res.coords, atol=1e-10)
    assert (res.components[np.arange(3), np.abs(res.components).argmax(1)] > 0).all()


def test_pca_of_wide_data_uses_the_gram_matrix_and_agrees_with_svd():
    """More features than points (a GAN's 6,272 features of 2,000 images took 78 s as F×F)."""
    x = np.random.default_rng(5).normal(size=(40, 300)) * np.linspace(3, 0.1, 300)
    res = projection.pca(x, k=3, curve=50)
    xc = x - x.mean(0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    np.testing.assert_allclose(np.abs(res.components), np.abs(vt[:3]), atol=1e-8)
    np.testing.assert_allclose(res.explained_variance_ratio, (s ** 2 / (s ** 2).sum())[:50], atol=1e-12)
    np.testing.assert_allclose(res.transform(x), res.coords, atol=1e-8)
    assert res.coords.shape == (40, 3) and len(res.explained_variance_ratio) == 40
    import time

    wide = np.random.default_rng(6).normal(size=(200, 3000))
    t0 = time.perf_counter()
    projection.pca(wide)
    assert time.perf_counter() - t0 < 2.0  # the 3,000 × 3,000 scatter matrix took ~8 s


def test_pca_matches_scikit_learn():
    from sklearn.decomposition import PCA

    x = data(seed=1)
    ours = projection.pca(x, k=2)
    theirs = PCA(n_components=2, svd_solver="full").fit(x)
    np.testing.assert_allclose(ours.explained_variance_ratio[:2], theirs.explained_variance_ratio_, rtol=1e-8)
    np.testing.assert_allclose(np.abs(ours.coords), np.abs(theirs.transform(x)), atol=1e-8)


def test_tsne_is_deterministic_for_a_seed_and_separates_clusters():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (60, 10)), rng.normal(8, 1, (60, 10))])
    fractions = []
    a = projection.tsne(x, perplexity=15, iterations=300, seed=3, on_progress=fractions.append).coords
    b = projection.tsne(x, perplexity=15, iterations=300, seed=3).coords
    assert a.shape == (120, 2)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 5
    np.testing.assert_array_equal(a, b)
    gap = np.linalg.norm(a[:60].mean(0) - a[60:].mean(0))
    assert gap > 3 * max(a[:60].std(0).max(), a[60:].std(0).max())
    with pytest.raises(ValueError, match="perplexity"):
        projection.tsne(x, perplexity=500)


def test_tsne_reports_as_often_as_asked_the_same_map_and_an_exception_stops_it():
    """A page's job asks for a report every 4 iterations (so Cancel stops the fit soon) and
    cancels by raising from ``on_progress``."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(90, 8))
    calls = []
    often = projection.tsne(x, perplexity=10, iterations=100, seed=0, on_progress=calls.append,
                            progress_every=4).coords
    assert len(calls) > 20 and calls[-1] == 1.0  # every 4 in each phase (25 + 75), then 1.0
    np.testing.assert_array_equal(often, projection.tsne(x, perplexity=10, iterations=100, seed=0).coords)

    class Stop(Exception):
        pass

    def stop(fraction):
        if fraction > 0.3:
            raise Stop

    with pytest.raises(Stop):
        projection.tsne(x, perplexity=10, iterations=100, seed=0, on_progress=stop, progress_every=4)


def test_tsne_progress_is_not_reported_again_when_placing_new_points():
    """The fit's progress callback (a page's progress bar) must not fire again from a later
    ``transform``: on /projections it redrew "t-SNE …: 100%" above the map (#25, item 3)."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(90, 8))
    calls = []
    fitted = projection.tsne(x, perplexity=10, iterations=100, seed=0, on_progress=calls.append)
    fitted_calls = len(calls)
    fitted.transform(rng.normal(size=(4, 8)))
    assert len(calls) == fitted_calls


def test_tsne_places_new_points_near_their_cluster():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 1, (80, 10)), rng.normal(8, 1, (80, 10))])
    fitted = projection.tsne(x, perplexity=15, iterations=300, seed=0)
    new = np.concatenate([rng.normal(0, 1, (5, 10)), rng.normal(8, 1, (5, 10))])
    placed = fitted.transform(new)
    assert placed.shape == (10, 2)
    np.testing.assert_array_equal(placed, fitted.transform(new))  # deterministic
    centres = fitted.coords[:80].mean(0), fitted.coords[80:].mean(0)
    for point, own in zip(placed, [0] * 5 + [1] * 5):
        dist = [np.linalg.norm(point - c) for c in centres]
        assert dist[own] < dist[1 - own]
    # a map given by its coordinates (as shipped) places points as well
    rebuilt = projection.tsne_from_coords(x, fitted.coords, perplexity=15, seed=0)
    assert rebuilt.transform(new).shape == (10, 2)
    with pytest.raises(ValueError, match="openTSNE"):
        projection.tsne(x, perplexity=15, iterations=250, backend="sklearn").transform(new)


def test_pca_transform_and_shapes_on_pixels():
    images = (np.random.default_rng(0).random((50, 28, 28)) * 255).astype(np.uint8)
    x = projection.pixels(images)
    assert x.shape == (50, 784) and 0 <= x.min() and x.max() <= 1
    res = projection.pca(x, k=2, curve=10)
    assert res.coords.shape == (50, 2) and res.explained_variance_ratio.shape == (10,)
    np.testing.assert_allclose(res.transform(x[:5]), res.coords[:5], atol=1e-10)


def neighbour_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean share of each point's k nearest neighbours in map ``a`` that are also among its k
    nearest in map ``b`` (1: the same neighbourhoods)."""
    def knn(c: np.ndarray) -> np.ndarray:
        d = ((c[:, None] - c[None]) ** 2).sum(-1)
        np.fill_diagonal(d, np.inf)
        return np.argsort(d, 1)[:, :k]
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(knn(a), knn(b))]))


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_shipped_default_pixel_maps_match_a_fresh_computation(dataset):
    """The shipped default t-SNE map of raw pixels is the map the same settings compute now.

    Compared by neighbourhoods, not coordinates: t-SNE is chaotic, so another build of numpy
    or openTSNE (last bits of the PCA, the neighbour search) moves the clusters around while
    keeping who sits next to whom. Measured: 0.85-0.89 of the 10 nearest neighbours shared
    with a fresh map; another seed 0.79-0.89; the same map with its points shuffled 0.005,
    the PCA map 0.08-0.16."""
    images, _ = projection.held_out(dataset, projection.DEFAULT_POINTS)
    shipped = projection.load_default_map(dataset, projection.PIXELS, projection.PIXELS,
                                          projection.DEFAULT_POINTS, **projection.DEFAULT_TSNE)
    assert shipped is not None, "no shipped default map: python -m genlab maps"
    fresh = projection.tsne(projection.pixels(images), **projection.DEFAULT_TSNE).coords
    assert shipped.shape == fresh.shape
    assert neighbour_overlap(shipped, fresh) > 0.7


def test_every_shipped_map_fits_its_checkpoint():
    """Each shipped model map names weights that are shipped (else the page recomputes)."""
    from genlab import checkpoints, registry

    for path in sorted(projection.MAPS.glob("*.npz")):
        dataset, _, source = path.stem.partition("--")
        source = source.replace("--", "/")
        key = projection.PIXELS
        if source != projection.PIXELS:
            ckpt = registry.load(checkpoints.resolve(source))
            key = projection.source_key(source, ckpt)
        with np.load(path) as npz:
            assert str(npz["key"]) == key, f"{path.name} is stale: python -m genlab maps"
            assert npz["coords"].shape == (projection.DEFAULT_POINTS, 2)


def test_embed_reports_its_progress_after_each_batch():
    import torch

    images = np.random.default_rng(0).integers(0, 256, (250, 28, 28), dtype=np.uint8)
    seen = []
    out = projection.embed(lambda model, x: x.flatten(1)[:, :3] * model, torch.tensor(2.0), images,
                           batch=100, on_progress=seen.append)
    assert seen == [0.4, 0.8, 1.0] and out.shape == (250, 3)
    np.testing.assert_allclose(out, images.reshape(250, -1)[:, :3] / 255 * 2, rtol=1e-6)
