import math

import numpy as np
import pytest
import scipy.linalg
import torch

from genlab import metrics
from genlab.models.classifier import Classifier, ClassifierConfig
from genlab.families.classifier import augment_shift, classifier_metrics, classifier_step
from genlab.train import TrainConfig, adam_optimizers


def frechet_scipy(a, b):
    """The usual FID formula with scipy's sqrtm: the peer implementation."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)


def test_frechet_matches_scipy_and_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 6))
    b = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6)) + 1.5
    assert metrics.frechet_distance(a, b) == pytest.approx(frechet_scipy(a, b), rel=1e-6)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    # same covariance, shifted mean: FD = |shift|^2
    assert metrics.frechet_distance(a, a + 2.0) == pytest.approx(6 * 4.0, rel=1e-9)


def test_precision_recall_cases():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(300, 2))
    assert metrics.precision_recall(real, real + 1e-9) == pytest.approx((1.0, 1.0))
    far = real + 100.0
    assert metrics.precision_recall(real, far) == (0.0, 0.0)
    # mode collapse: all fakes on a few real points -> precise but poor recall
    collapsed = np.repeat(real[:3], 100, axis=0) + rng.normal(scale=1e-3, size=(300, 2))
    p, r = metrics.precision_recall(real, collapsed)
    assert p == 1.0 and r < 0.1


def test_class_entropy_bits():
    assert metrics.class_entropy_bits(np.arange(1000) % 10) == pytest.approx(math.log2(10))
    assert metrics.class_entropy_bits(np.zeros(50, int)) == 0.0
    assert metrics.class_entropy_bits(np.array([0, 1] * 10)) == pytest.approx(1.0)


def test_augment_shift_moves_pixels_within_range():
    x = torch.zeros(64, 1, 28, 28)
    x[:, 0, 14, 14] = 1
    y = augment_shift(x, torch.Generator().manual_seed(0), max_shift=2)
    pos = y[:, 0].flatten(1).argmax(1)
    rows, cols = pos // 28, pos % 28
    assert y.sum() == 64  # nothing lost
    assert rows.min() >= 12 and rows.max() <= 16 and cols.min() >= 12 and cols.max() <= 16
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 5


def test_classifier_step_learns_and_features_shape():
    torch.manual_seed(0)
    model = Classifier(ClassifierConfig(channels=(4, 8), features=16))
    x = torch.zeros(40, 1, 28, 28)
    y = torch.arange(40) % 2
    x[y == 1, :, :, 14:] = 1.0  # class 1: right half lit
    opts = adam_optimizers(model, TrainConfig(steps=1, lr=3e-3))
    first = classifier_step(model, opts, x, y, torch.Generator().manual_seed(0))
    for s in range(40):
        last = classifier_step(model, opts, x, y, torch.Generator().manual_seed(s))
    assert last["loss"] < first["loss"] / 3
    model.eval()
    assert model.features(x).shape == (40, 16)
    out = classifier_metrics(model, x, None, labels=y)
    assert out["accuracy"] == 1.0


def test_compare_sets_of_identical_images():
    torch.manual_seed(0)
    clf = Classifier(ClassifierConfig(channels=(4,), features=8)).eval()
    imgs = np.random.default_rng(0).integers(0, 255, (60, 28, 28), dtype=np.uint8)
    out = metrics.compare_sets(clf, imgs, imgs)
    assert out["fd"] == pytest.approx(0, abs=1e-3) and out["precision"] == 1 and out["recall"] == 1
    assert sum(out["class_histogram"]) == 60
