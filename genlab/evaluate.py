"""Evaluation of checkpoints: likelihoods where the family defines them, and sample quality
against held-out images in the evaluation classifier's features, with the real-vs-real
reference; results go into the cards and docs/model-zoo.md."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from genlab import checkpoints, data, metrics, registry
from genlab.sample import conditional_classes, generator, sample_images, to_uint8

DOCS = checkpoints.ROOT.parent / "docs"


def classifier_for(dataset: str) -> torch.nn.Module:
    """The shipped evaluation classifier of a dataset (``checkpoints/<dataset>/classifier``)."""
    return registry.load(checkpoints.resolve(f"{dataset}/classifier")).model


def real_sets(splits: data.DatasetSplits, n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Two disjoint real sets of n images: (held-out A, reference B, how they were chosen).

    A = the first n holdout images. B = the next n holdout images where the holdout is
    large enough (Fashion-MNIST), else the last n training images (the MNIST subset's
    holdout has only 2,000).
    """
    hold = splits.holdout
    if len(hold.images) >= 2 * n:
        ref, how = hold.images[n:2 * n], f"holdout[{n}:{2 * n}]"
    else:
        ref, how = splits.train.images[-n:], f"train[-{n}:]"
    return hold.images[:n], ref, f"holdout[:{n}] vs {how}"


def sample_timed(family, model, n: int, seed: int, batch: int = 250, *,
                 on_batch: Callable[[int], None] | None = None, **options) -> tuple[np.ndarray, float]:
    """n samples in batches (seeds seed, seed+1, ...: one batch of n ≤ ``batch`` is exactly
    ``sample_images(…, n, seed)``) and the wall time per image in ms; ``options`` go to the
    family's sampler (e.g. a diffusion sampler and its steps); ``on_batch(images done)``."""
    t0 = time.perf_counter()
    out = []
    for i in range(0, n, batch):
        out.append(sample_images(family, model, min(batch, n - i), seed + i // batch, **options))
        if on_batch:
            on_batch(i + len(out[-1]))
    return np.concatenate(out), (time.perf_counter() - t0) * 1000 / n


def evaluate(folder: Path, *, n: int = 2000, seed: int = 0, data_dir: str | None = None) -> dict:
    """Recompute a checkpoint's held-out metrics (likelihood + sample quality).

    Returns:
        The metrics dict to store in the card.
    """
    ckpt = registry.load(folder)
    family = registry.get(ckpt.card["family"])
    dataset = ckpt.card["dataset"]
    splits = data.load(dataset, data_dir, download=False)
    x = data.to_float(splits.holdout.images)
    y = torch.from_numpy(splits.holdout.labels.astype(np.int64))
    out = family.evaluate(ckpt.model, x, generator(seed + 1), labels=y)
    out["evaluated_on"] = f"holdout ({len(x)} images)"
    if family.reconstruct is not None:
        out.update(encoder_quality(ckpt, splits))
    if family.sample is not None:
        real, _, _ = real_sets(splits, n)
        classes = conditional_classes(family, ckpt.card)
        if classes:  # sampled as the pages sample it: for each class (w = 1), not from v_∅
            _classes(ckpt, family, n)  # n a multiple of the classes
            fake, ms = sample_per_class(family, ckpt.model, n, classes, seed, guidance=1.0)
        else:
            fake, ms = sample_timed(family, ckpt.model, n, seed)
        quality = metrics.compare_sets(classifier_for(dataset), real, fake)
        how = f"{n // classes} per class, w = 1, seed {seed}" if classes else f"seed {seed}"
        out.update(quality, sample_ms_per_image=round(ms, 3), quality_n=n,
                   quality_note=f"{n} samples ({how}) vs holdout[:{n}], classifier features")
        if classes:
            out["quality_per_class"] = n // classes
    return out


PROBE_TRAIN = 10_000  # training images the linear probe is fitted on


@torch.inference_mode()
def encoder_quality(ckpt, splits: data.DatasetSplits, batch: int = 500) -> dict:
    """What a model with an encoder keeps of an image (VAE: μ(x) and the decoder mean there;
    BiGAN: E(x) and G(E(x))), on the whole holdout split.

    Returns:
        rec_class_agreement: the share of held-out images whose reconstruction the evaluation
        classifier puts in the image's class; rec_pixel_mae: mean |x − x̂| per pixel in [0, 1];
        linear_probe_accuracy: held-out accuracy of a logistic regression fitted on the codes
        of the first ``PROBE_TRAIN`` training images (the BiGAN paper's feature test);
        linear_probe_train.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    family = registry.get(ckpt.card["family"])
    model = ckpt.model
    x = data.to_float(splits.holdout.images)
    rec = torch.cat([family.reconstruct(model, xb) for xb in x.split(batch)])
    _, predicted = metrics.classify(classifier_for(ckpt.card["dataset"]), to_uint8(rec))
    codes = lambda images: torch.cat([family.features(model, xb) for xb in data.to_float(images).split(batch)]).numpy()
    train = splits.train
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    probe.fit(codes(train.images[:PROBE_TRAIN]), train.labels[:PROBE_TRAIN])
    accuracy = probe.score(codes(splits.holdout.images), splits.holdout.labels)
    return {"rec_class_agreement": round(float((predicted == splits.holdout.labels).mean()), 4),
            "rec_pixel_mae": round((rec - x).abs().mean().item(), 4),
            "linear_probe_accuracy": round(float(accuracy), 4),
            "linear_probe_train": min(PROBE_TRAIN, len(train.labels))}


def _classes(ckpt, family, n: int | None = None) -> int:
    """The number of classes of a class-conditional checkpoint (an error for any other)."""
    classes = conditional_classes(family, ckpt.card)
    if not classes:
        raise ValueError(f"{ckpt.id} is not class-conditional: no class to ask for")
    if n is not None and n % classes:
        raise ValueError(f"n = {n} must be a multiple of the {classes} classes")
    return classes


def sample_per_class(family, model, n: int, classes: int, seed: int, batch: int = 250, *,
                     guidance: float, **options) -> tuple[np.ndarray, float]:
    """n/classes samples of each class in turn (class c: seeds seed + 1000·c, …, so every
    guidance scale gets the same noise) and the wall time per image in ms."""
    t0 = time.perf_counter()
    images = np.concatenate([sample_timed(family, model, n // classes, seed + 1000 * c, batch,
                                          label=c, guidance=guidance, **options)[0]
                             for c in range(classes)])
    return images, (time.perf_counter() - t0) * 1000 / n


def parse_sampler_spec(spec: str) -> tuple[str, int, bool]:
    """``NAME-K`` or ``NAME-K-fp32`` (e.g. ``ddim-50``, ``dpm++-20``, ``heun-8``) ->
    (sampler, steps, plain float32)."""
    head, _, tail = spec.rpartition("-")
    fp32 = tail == "fp32"
    name, _, steps = (head if fp32 else spec).rpartition("-")
    if not name or not steps.isdigit():
        raise ValueError(f"sampler {spec!r}: expected NAME-K, optionally -fp32 (e.g. ddim-50, heun-8)")
    return name, int(steps), fp32


def sampler_quality(folder: Path, specs: list[str], *, n: int = 500, seed: int = 0,
                    data_dir: str | None = None, batch: int = 250, conditional: bool = False) -> dict:
    """A checkpoint's sample quality per sampler and step count, as the pages sample
    (diffusion: ddpm, ddim, dpm++, sde, ode; rectified flow: euler, heun).

    Args:
        specs: "NAME-K", optionally with "-fp32": the pages' network wrapper
            (``FastDenoiser``: bfloat16 where native, two workers) or plain float32.
        n: samples per sampler, compared with holdout[:n]; ``real_vs_real`` is two disjoint
            real sets of the same n (FD depends on n, so only same-n numbers compare).
        conditional: a class-conditional model sampled for its classes (n/10 each, w = 1:
            p(x) = Σ_y p(y)·p(x | y), the usual protocol for such models) instead of from v_∅.

    Returns:
        {spec: {fd, precision, recall, class_entropy_bits, ms_per_image, nfe},
        "real_vs_real": …, "n"}.
    """
    from genlab.families.ddpm import FastDenoiser

    ckpt = registry.load(folder)
    family = registry.get(ckpt.card["family"])
    if family.nfe is None:
        raise ValueError(f"{ckpt.id} ({family.name}) has no samplers to compare")
    parsed = {spec: parse_sampler_spec(spec) for spec in specs}  # fail before any sampling
    classes = _classes(ckpt, family, n) if conditional else 0
    splits = data.load(ckpt.card["dataset"], data_dir, download=False)
    real, other, how = real_sets(splits, n)
    classifier = classifier_for(ckpt.card["dataset"])
    out: dict = {"n": n, "seed": seed, "real_vs_real": {**metrics.compare_sets(classifier, real, other), "sets": how}}
    for spec, (name, steps, fp32) in parsed.items():
        network = ckpt.model if fp32 else FastDenoiser(ckpt.model)
        if conditional:
            images, ms = sample_per_class(family, network, n, classes, seed, batch, guidance=1.0,
                                          sampler=name, steps=steps)
        else:
            images, ms = sample_timed(family, network, n, seed, batch, sampler=name, steps=steps)
        out[spec] = {**metrics.compare_sets(classifier, real, images), "ms_per_image": round(ms, 2),
                     "nfe": family.nfe(name, steps)}  # w = 1 needs v_c only
        print(f"{ckpt.id} {spec}: FD {out[spec]['fd']} ({ms:.0f} ms/image)", file=sys.stderr)
    return out


def guidance_quality(folder: Path, scales: list[float], *, spec: str = "heun-8", n: int = 2000,
                     seed: int = 0, data_dir: str | None = None, batch: int = 250) -> dict:
    """Classifier-free guidance of a class-conditional model, per guidance scale w: n images,
    n/10 asked for each class, through the pages' network wrapper.

    Returns:
        {"n", "seed", "sampler", "w": {str(w): {accuracy: the fraction the evaluation
        classifier puts in the class asked for, fd / precision / recall against holdout[:n],
        ms_per_image}}}.
    """
    from genlab.families.ddpm import FastDenoiser

    ckpt = registry.load(folder)
    family = registry.get(ckpt.card["family"])
    classes = _classes(ckpt, family, n)
    name, steps, fp32 = parse_sampler_spec(spec)
    network = ckpt.model if fp32 else FastDenoiser(ckpt.model)
    real, _, _ = real_sets(data.load(ckpt.card["dataset"], data_dir, download=False), n)
    classifier = classifier_for(ckpt.card["dataset"])
    asked = np.repeat(np.arange(classes), n // classes)
    out: dict = {"n": n, "seed": seed, "sampler": spec, "w": {}}
    for w in scales:
        images, ms = sample_per_class(family, network, n, classes, seed, batch, guidance=w,
                                      sampler=name, steps=steps)
        _, predicted = metrics.classify(classifier, images)
        out["w"][f"{w:g}"] = {"accuracy": round(float((predicted == asked).mean()), 4),
                              **metrics.compare_sets(classifier, real, images), "ms_per_image": round(ms, 2)}
        print(f"{ckpt.id} {spec} w = {w:g}: class accuracy {out['w'][f'{w:g}']['accuracy']:.3f}, "
              f"FD {out['w'][f'{w:g}']['fd']} ({ms:.0f} ms/image)", file=sys.stderr)
    return out


def temperature_quality(folder: Path, temperatures: list[float], *, n: int = 2000, seed: int = 0,
                        data_dir: str | None = None, batch: int = 250) -> dict:
    """A flow's sample quality per sampling temperature T (z ~ N(0, T²I)): n samples, seed
    ``seed``, against holdout[:n] in the evaluation classifier's features.

    Returns:
        {"n", "seed", "T": {str(T): {fd, precision, recall, class_entropy_bits, ms_per_image}}}.
    """
    ckpt = registry.load(folder)
    family = registry.get(ckpt.card["family"])
    if "temperature" not in family.sample_options:
        raise ValueError(f"{ckpt.id} ({family.name}) has no sampling temperature")
    real, _, _ = real_sets(data.load(ckpt.card["dataset"], data_dir, download=False), n)
    classifier = classifier_for(ckpt.card["dataset"])
    out: dict = {"n": n, "seed": seed, "T": {}}
    for t in temperatures:
        images, ms = sample_timed(family, ckpt.model, n, seed, batch, temperature=t)
        out["T"][f"{t:g}"] = {**metrics.compare_sets(classifier, real, images), "ms_per_image": round(ms, 3)}
        print(f"{ckpt.id} T = {t:g}: FD {out['T'][f'{t:g}']['fd']} ({ms:.1f} ms/image)", file=sys.stderr)
    return out


def reference(dataset: str, *, n: int = 2000, data_dir: str | None = None) -> dict:
    """The real-vs-real values of the sample metrics (two disjoint real sets of size n)."""
    real, other, how = real_sets(data.load(dataset, data_dir, download=False), n)
    return {**metrics.compare_sets(classifier_for(dataset), real, other), "sets": how}


_COLUMNS = [("neg_elbo", "−ELBO (nats)"), ("iw_nll", "IW-100 (nats)"),
            ("bits_per_dim", "exact NLL (bits/dim)"), ("accuracy", "accuracy"),
            ("fd", "FD ↓"), ("precision", "precision"), ("recall", "recall"),
            ("class_entropy_bits", "class entropy (bits)"), ("sample_ms_per_image", "ms / sample")]


def zoo_markdown(root: Path | None = None) -> str:
    """A markdown table of every checkpoint's card metrics, with the real-vs-real rows."""
    lines = ["# Model zoo", "",
             "Generated by `python -m genlab eval --all --recompute --write` from the cards in "
             "`checkpoints/`. Likelihoods are on the holdout split: the VAEs' bounds per image "
             "(Bernoulli on grey levels); the exact NLL of flows on uniformly dequantized 8-bit "
             "images (logit Jacobian counted) and of PixelCNN on the grey levels its card names "
             "(binarized for MNIST, 8-bit for Fashion-MNIST). FD, "
             "precision/recall (k = 3) and class entropy compare 2,000 samples with "
             "2,000 held-out images in the evaluation classifier's penultimate features "
             "(class-conditional models, the rectified flows, sampled as their page samples "
             "them: 200 per class, w = 1, Heun K = 8); the "
             "*real vs real* row compares two disjoint real sets of the same size.", ""]
    header = "| model | " + " | ".join(label for _, label in _COLUMNS) + " | steps | CPU time |"
    for dataset in data.DATASETS:
        folders = [f for f in checkpoints.find_all(root) if f.parent.name == dataset]
        if not folders:
            continue
        lines += [f"## {dataset}", "", header, "|" + "---|" * (len(_COLUMNS) + 3)]
        ref = None
        for folder in folders:
            card = checkpoints.read_card(folder)
            m = card["metrics"]
            ref = ref or m.get("reference")
            cells = [str(m.get(key, "")) for key, _ in _COLUMNS]
            t = card["training"]
            lines.append(f"| {card['name']} | " + " | ".join(cells)
                         + f" | {t['steps']:,} | {t['wall_time_s'] / 60:.1f} min |")
        if ref:
            cells = [str(ref.get(key, "")) for key, _ in _COLUMNS]
            lines.append("| *real vs real* | " + " | ".join(cells) + " | | |")
        lines.append("")
    return "\n".join(lines)
