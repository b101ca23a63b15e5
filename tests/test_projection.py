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
    a = projection.tsne(x, perplexity=15, iterations=300, seed=3)
    b = projection.tsne(x, perplexity=15, iterations=300, seed=3)
    assert a.shape == (120, 2)
    np.testing.assert_array_equal(a, b)
    gap = np.linalg.norm(a[:60].mean(0) - a[60:].mean(0))
    assert gap > 3 * max(a[:60].std(0).max(), a[60:].std(0).max())
    with pytest.raises(ValueError, match="perplexity"):
        projection.tsne(x, perplexity=500)
