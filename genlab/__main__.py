"""The genlab command line: ``python -m genlab {list,train,sample,eval,bundle}``."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import logging
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch


def bounded(kind, lo: float | None = None, hi: float | None = None, *, above: bool = False):
    """An argparse type: ``kind`` (int or float) within [lo, hi] ((lo, hi] when ``above``); a bad
    value ends in argparse's one-line message and exit code 2, before any work starts."""
    noun = "an integer" if kind is int else "a number"
    low = "" if lo is None else (f"> {lo:g}" if above else f"≥ {lo:,}" if kind is int else f"≥ {lo:g}")
    high = "" if hi is None else (f"≤ {hi:,}" if kind is int else f"≤ {hi:g}")
    wanted = f"{noun} {' and '.join(x for x in (low, high) if x)}".strip()

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}; got {text!r}") from None
        if (not math.isfinite(value) or (lo is not None and (value <= lo if above else value < lo))
                or (hi is not None and value > hi)):
            raise argparse.ArgumentTypeError(f"must be {wanted}; got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def writable(path: Path) -> Path:
    """``path`` after checking, before any long work, that a file can be written there (a probe
    file of this process's own in its folder: several processes, e.g. torchrun's, may check at once)."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".genlab-write-test-"):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write {path}: {exc.strerror or exc}") from None
    if path.is_dir() or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"cannot write {path}: {'a folder is in the way' if path.is_dir() else 'read-only'}")
    return path


def _cmd_list(args) -> int:
    from genlab import checkpoints

    rows = []
    for folder in checkpoints.find_all(args.root):
        try:
            card = checkpoints.read_card(folder)
        except checkpoints.CheckpointError as exc:
            rows.append((f"{folder.parent.name}/{folder.name}", "?", "?", f"ERROR: {exc}"))
            continue
        head = ", ".join(f"{k}={v}" for k, v in card["metrics"].items()
                         if isinstance(v, (int, float)) and k not in ("n", "iw_k"))
        rows.append((card["id"], card["family"], card["dataset"], head))
    if not rows:
        print(f"no checkpoints under {args.root or checkpoints.ROOT}")
        return 0
    width = max(len(r[0]) for r in rows)
    for r in rows:
        print(f"{r[0]:<{width}}  {r[1]:<10} {r[2]:<14} {r[3]}")
    return 0


def _cmd_train(args) -> int:
    from tqdm import tqdm

    from genlab import checkpoints, data, registry
    from genlab.sample import generator
    from genlab.train import SnapshotRecorder, TrainConfig, dist_info, fit

    rank, world = dist_info()
    name, family, config = registry.resolve_model(args.model)
    folder = args.dataset == data.FOLDER_DATASET  # your own images
    if folder and not args.data_dir:
        raise ValueError("--dataset images needs --data-dir: a folder of PNG/JPG images, or one "
                         "subfolder of them per class")
    if args.name and not folder:
        raise ValueError("--name names a folder dataset (--dataset images)")
    dataset = (data.dataset_slug(args.name or Path(args.data_dir).resolve().name) if folder
               else args.dataset)
    out = Path(args.out) if args.out else checkpoints.ROOT / dataset / name
    writable(out / "card.json")
    if args.resume and (out / checkpoints.CARD).is_file():  # continue that model, not the preset
        card = checkpoints.read_card(out)
        if card["family"] != family.name or card["dataset"] != dataset:
            raise ValueError(f"--resume: {out} holds a {card['family']} on {card['dataset']}, "
                             f"not a {family.name} on {dataset}")
        config = family.config_from_dict(card["config"])
    for override in args.set or []:
        config = registry.parse_override(config, override)
    if folder:
        splits, skipped = data.read_image_folder(args.data_dir, dataset, seed=args.seed)
        for line in skipped[:10]:
            print(f"skipped {line}", file=sys.stderr)
        print(f"{dataset}: {splits.split['description']}" + (f" ({len(skipped) - 10} more skipped)"
              if len(skipped) > 10 else ""), file=sys.stderr)
        if getattr(config, "num_classes", 0):  # a class-conditional model: the folder's classes
            classes = splits.split["classes"]
            if not classes and family.name == "classifier":
                raise ValueError(f"{args.data_dir}: a classifier needs classes, one subfolder of images each")
            config = dataclasses.replace(config, num_classes=len(classes) if classes else 0)
    else:
        splits = data.load(args.dataset, args.data_dir, download=not args.no_download)
    images = data.to_float(splits.train.images)
    labels = torch.from_numpy(splits.train.labels.astype(np.int64))
    init = None
    if args.from_id:
        if family.prepare is None:
            raise ValueError(f"--from applies to models trained from another checkpoint (reflow, bigan, realnvp), not {name}")
        teacher = registry.load(checkpoints.resolve(args.from_id, args.root))
        if teacher.card["dataset"] != dataset:
            raise ValueError(f"--from {args.from_id}: trained on {teacher.card['dataset']}, not {dataset}")
        config, images, labels, init = family.prepare(teacher, out, seed=args.seed, n=args.pairs, config=config,
                                                      images=images, labels=labels)
    defaults = registry.MODELS[name].train
    pick = lambda value, key, fallback: value if value is not None else defaults.get(key, fallback)
    batch_size = pick(args.batch_size, "batch_size", 128)
    steps = args.steps if args.steps else args.epochs * max(1, len(images) // batch_size)
    tcfg = TrainConfig(steps=steps, batch_size=batch_size,
                       lr=pick(args.lr, "lr", 1e-3), seed=args.seed,
                       ema_decay=pick(args.ema, "ema_decay", 0.0), stop_at=args.stop_at)
    torch.manual_seed(args.seed)  # model initialisation; data order and noise use generators
    model = family.model(config)
    if init is not None:  # the starting weights (a reflow starts from its teacher)
        model.load_state_dict(init)
    ema = copy.deepcopy(model).requires_grad_(False) if tcfg.ema_decay > 0 else None
    bar = tqdm(total=steps, desc=f"{name} on {dataset}", unit="step", disable=rank != 0,
               dynamic_ncols=True, mininterval=1.0)
    final = ema if ema is not None else model  # the EMA weights are the ones shipped
    snapshots = (SnapshotRecorder(out, family, final, steps, keep=args.resume)
                 if family.snapshots and rank == 0 else None)

    def on_step(step: int, metrics: dict) -> None:
        bar.n = step
        bar.set_postfix({k: f"{v:.3g}" for k, v in metrics.items()}, refresh=False)
        bar.update(0)
        if snapshots:
            snapshots(step)

    facts = fit(family, model, images, labels, tcfg, on_step=on_step, resume_dir=out,
                resume=args.resume, ema=ema)
    final.eval()
    bar.close()
    if rank == 0:
        holdout = data.to_float(splits.holdout.images)
        metrics = family.evaluate(final, holdout, generator(args.seed + 1),
                                  labels=torch.from_numpy(splits.holdout.labels.astype(np.int64)))
        metrics["evaluated_on"] = f"holdout ({len(holdout)} images)"
        history = facts.pop("history")
        card = {"family": family.name, "name": name, "dataset": dataset,
                "config": config.__dict__, "split": splits.split, "training": facts,
                "metrics": metrics, "notes": args.notes or "",
                **({"trained_from": args.from_id} if args.from_id else {})}
        checkpoints.save(out, final.state_dict(), card)
        if folder:  # the app shows (and scores on) the held-out part; it has no data folder
            data.write_custom_holdout(out, splits)
        (out / "train_log.json").write_text(json.dumps(history) + "\n")
        if facts["finished"]:
            (out / "resume.safetensors").unlink(missing_ok=True)
        print(json.dumps({"saved": str(out), "metrics": metrics}, indent=2))
    if world > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return 0


SAMPLE_OPTIONS = ("sampler", "steps", "eta", "temperature", "label", "guidance")
SAMPLE_BATCH = 250  # images per batch (and per seed), as genlab eval samples
MAX_SAMPLES = 100_000


def sample_path(path: Path) -> Path:
    """Where ``sample --out`` writes: a ``.png`` name gets one picture (a grid of the samples),
    any other an ``.npz`` of the images (numpy adds the suffix; said here, so the message
    names the real file)."""
    return path if path.suffix.lower() in (".png", ".npz") else path.with_name(path.name + ".npz")


def _cmd_compact(args) -> int:
    from genlab import checkpoints

    for ckpt_id in args.ids:
        folder = checkpoints.resolve(ckpt_id, args.root)
        before, after = checkpoints.store_half(folder)
        print(f"{ckpt_id}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB (float16); now recompute its "
              f"metrics: python -m genlab eval {ckpt_id} --recompute --write --data-dir DIR")
    return 0


def _cmd_sample(args) -> int:
    from tqdm import tqdm

    from genlab import checkpoints, evaluate, registry
    from genlab.sample import save_samples

    ckpt = registry.load(checkpoints.resolve(args.id, args.root))
    family = registry.get(ckpt.card["family"])
    if family.sample is None:
        raise ValueError(f"{ckpt.id} is a {ckpt.card['family']}, not a generative model")
    given = {k: getattr(args, k) for k in SAMPLE_OPTIONS if getattr(args, k) is not None}
    if unknown := sorted(set(given) - set(family.sample_options)):
        valid = ", ".join(f"--{k}" for k in family.sample_options) or "none"
        raise ValueError(f"{', '.join(f'--{k}' for k in unknown)} not used by {ckpt.id} "
                         f"({family.name}); its options: {valid}")
    out = writable(sample_path(Path(args.out)))
    options = {k: getattr(args, k) for k in family.sample_options}
    # the pages' fast path, in float32 (bfloat16 only where a page asks for it)
    network = family.sampling_network(ckpt.model, bf16=False) if family.sampling_network else ckpt.model
    bar = tqdm(total=args.n, desc=f"sampling {ckpt.id}", unit="image", disable=args.n <= SAMPLE_BATCH)
    images, ms = evaluate.sample_timed(family, network, args.n, args.seed, SAMPLE_BATCH,
                                       on_batch=lambda done: bar.update(done - bar.n), **options)
    bar.close()
    if out.suffix.lower() == ".png":
        from genlab.images import grid, to_png

        out.write_bytes(to_png(grid(images)))  # a square-ish grid
    else:
        save_samples(out, images, args.seed, ckpt.id, ckpt.card["sha256"])
    print(f"wrote {len(images)} images of {ckpt.id} (seed {args.seed}, {ms:.1f} ms per image) to {out}")
    return 0


def _cmd_reconstruct(args) -> int:
    from genlab import checkpoints, data, registry
    from genlab.sample import generator, to_uint8

    ckpt = registry.load(checkpoints.resolve(args.id, args.root))
    family = registry.get(ckpt.card["family"])
    if family.reconstruct is None:
        with_encoder = ", ".join(name for name, f in registry.FAMILIES.items() if f.reconstruct)
        raise ValueError(f"{ckpt.id} is a {family.name}: it has no encoder to reconstruct with "
                         f"(families with one: {with_encoder})")
    held_out = data.load_bundled(ckpt.card["dataset"], "holdout")
    if not 1 <= args.n <= len(held_out.labels):
        raise ValueError(f"--n must be between 1 and {len(held_out.labels):,} (the bundled held-out "
                         f"images); got {args.n:,}")
    pick = torch.randperm(len(held_out.labels), generator=generator(args.seed))[:args.n].sort().values.numpy()
    images = held_out.images[pick]
    path = writable(sample_path(Path(args.out)))
    out = family.reconstruct(ckpt.model, data.to_float(images))
    if path.suffix.lower() == ".png":  # a picture: rows of up to 8 images, each above its reconstruction
        from genlab.images import grid, to_png

        rec, cols = to_uint8(out), min(8, args.n)

        def row(part: np.ndarray) -> np.ndarray:  # a short last row filled with blank cells
            return np.concatenate([part, np.zeros((cols - len(part), *part.shape[1:]), part.dtype)])

        rows = [row(part) for i in range(0, args.n, cols) for part in (images[i:i + cols], rec[i:i + cols])]
        path.write_bytes(to_png(grid(np.concatenate(rows), ncol=cols)))
    else:
        np.savez_compressed(path, images=images, reconstructions=to_uint8(out), labels=held_out.labels[pick],
                            indices=pick, seed=np.int64(args.seed), id=np.array(ckpt.id),
                            sha256=np.array(ckpt.card["sha256"]))
    error = np.abs(to_uint8(out).astype(np.float32) - images.astype(np.float32)).mean() / 255
    print(f"wrote {args.n} held-out images of {ckpt.card['dataset']} and their reconstructions by "
          f"{ckpt.id} (mean |x − x̂| {error:.3f}) to {path}")
    return 0


def _cmd_toy(args) -> int:
    from genlab import playground

    if args.out:
        writable(Path(args.out))
    run, result = playground.fit(args.family, args.data, steps=args.steps, seed=args.seed)
    if args.out:
        np.savez_compressed(writable(Path(args.out)), samples=run.sample(playground.EVAL_POINTS),
                            data=playground.fresh_data(args.data))
    if args.json:
        print(json.dumps({k: result[k] for k in ("energy_distance", "gaussian_baseline",
                                                  "real_vs_real", "seconds")}))
    else:
        print(f"{run.family.label} on {args.data}: {result['steps']:,} steps in {result['seconds']:.1f} s; "
              f"energy distance {result['energy_distance']:.4f} (a Gaussian with the data's moments: "
              f"{result['gaussian_baseline']:.4f}, real vs real: {result['real_vs_real']:.4f})"
              + (f"; wrote {args.out}" if args.out else ""))
    return 0


def _cmd_eval(args) -> int:
    from genlab import checkpoints, evaluate, registry

    if args.all == bool(args.id):
        raise ValueError("eval takes a checkpoint id or --all")
    folders = checkpoints.find_all(args.root) if args.all else [checkpoints.resolve(args.id, args.root)]
    results, references = {}, {}
    for folder in folders:
        card = checkpoints.read_card(folder)
        family = registry.get(card["family"])
        samplers = args.samplers and family.nfe is not None
        guidance = args.guidance_scales and card["config"].get("num_classes") and "guidance" in family.sample_options
        temperatures = args.temperatures and "temperature" in family.sample_options
        if not args.recompute and not samplers and not guidance and not temperatures:
            results[card["id"]] = card["metrics"]
            continue
        print(f"evaluating {card['id']}…", file=sys.stderr)
        if args.recompute:
            metrics = evaluate.evaluate(folder, n=args.n, seed=args.seed, data_dir=args.data_dir)
            for kept in ("samplers", "samplers_conditional", "guidance", "temperatures"):  # measured on their own
                if kept in card["metrics"]:
                    metrics[kept] = card["metrics"][kept]
        else:  # only the sampler / guidance / temperature measurements: the card's other metrics stay
            metrics = {k: v for k, v in card["metrics"].items() if k != "reference"}
        if samplers:
            key = "samplers_conditional" if args.conditional else "samplers"
            new = evaluate.sampler_quality(folder, args.samplers.split(","), n=args.sampler_n,
                                           seed=args.seed, data_dir=args.data_dir,
                                           conditional=args.conditional)
            old = card["metrics"].get(key, {})
            same = old.get("n") == new["n"] and old.get("seed") == new["seed"]
            metrics[key] = {**old, **new} if same else new  # specs not rerun are kept
        if guidance:
            metrics["guidance"] = evaluate.guidance_quality(
                folder, [float(w) for w in args.guidance_scales.split(",")], n=args.sampler_n,
                seed=args.seed, data_dir=args.data_dir)
        if temperatures:
            metrics["temperatures"] = evaluate.temperature_quality(
                folder, [float(t) for t in args.temperatures.split(",")], n=args.sampler_n,
                seed=args.seed, data_dir=args.data_dir)
        if card["family"] != "classifier":
            dataset = card["dataset"]
            if dataset not in references:
                references[dataset] = evaluate.reference(dataset, n=args.n, data_dir=args.data_dir)
            metrics["reference"] = references[dataset]
        if args.write:
            checkpoints.update_card(folder, metrics=metrics)
        results[card["id"]] = metrics
    if args.write and args.all:  # the project's table for the shipped tree; another tree's beside it
        shipped = args.root is None or Path(args.root).resolve() == checkpoints.ROOT.resolve()
        docs = evaluate.DOCS if shipped else Path(args.root)
        docs.mkdir(parents=True, exist_ok=True)
        (docs / "model-zoo.md").write_text(evaluate.zoo_markdown(args.root))
    print(json.dumps(results if args.all else next(iter(results.values())), indent=2))
    return 0


def _cmd_bundle(args) -> int:
    from genlab import data

    splits = data.load(args.dataset, args.data_dir, download=False)
    n = args.n or {"holdout": 2000, "train": 5000}[args.part]
    path = data.write_bundled(splits, n, args.part)
    print(f"wrote {len(data.load_bundled(args.dataset, args.part).labels)} {args.part} images to {path}")
    return 0


def _cmd_maps(args) -> int:
    import time

    from genlab import checkpoints, projection, registry
    from genlab.data import DATASETS

    for dataset in args.dataset or DATASETS:
        images, _ = projection.held_out(dataset, projection.DEFAULT_POINTS)
        sources: list = [(projection.PIXELS, None)]
        for folder in checkpoints.find_all(args.root):
            card = checkpoints.read_card(folder)
            if card["dataset"] == dataset and registry.get(card["family"]).features is not None:
                sources.append((card["id"], registry.load(folder)))
        for source, ckpt in sources:
            key = projection.source_key(source, ckpt)
            if not args.force and projection.load_default_map(
                    dataset, source, key, len(images), **projection.DEFAULT_TSNE) is not None:
                print(f"{dataset} {source}: up to date")
                continue
            t0 = time.perf_counter()
            result = projection.tsne(projection.source_features(source, images, ckpt),
                                     **projection.DEFAULT_TSNE)
            path = projection.save_default_map(dataset, source, key, result)
            print(f"{dataset} {source}: t-SNE of {len(images)} points in "
                  f"{time.perf_counter() - t0:.1f} s -> {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from genlab.data import DATASETS, FOLDER_DATASET

    p = argparse.ArgumentParser(prog="python -m genlab", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=None,
                        help="checkpoints folder (default: the shipped checkpoints/)")
    sub = p.add_subparsers(dest="command", required=True)
    _add = sub.add_parser
    sub.add_parser = lambda *a, **k: _add(*a, parents=[common], **k)

    sub.add_parser("list", help="every checkpoint with its headline metrics").set_defaults(fn=_cmd_list)

    t = sub.add_parser("train", help="train a model and save a checkpoint with its card")
    t.add_argument("model", help="model name (vae-2d, vae-16d) or family (vae)")
    t.add_argument("--dataset", required=True, choices=[*DATASETS, FOLDER_DATASET],
                   help="images: your own, a folder of PNG/JPG (or one subfolder per class) in --data-dir")
    t.add_argument("--data-dir", help="folder with the IDX files (else GENLAB_DATA, Debian, download); "
                                      "with --dataset images, the folder of images")
    t.add_argument("--name", help="--dataset images: the dataset's name (default: the folder's)")
    g = t.add_mutually_exclusive_group()
    g.add_argument("--epochs", type=bounded(int, 1, 10_000), default=30)
    g.add_argument("--steps", type=bounded(int, 1, 10_000_000))
    t.add_argument("--batch-size", type=bounded(int, 1, 8192), help="default: the model's preset, else 128")
    t.add_argument("--lr", type=bounded(float, 0, 1, above=True), help="default: the model's preset, else 1e-3")
    t.add_argument("--ema", type=bounded(float, 0, 0.99999), help="EMA decay of the shipped weights (0: off); default: preset")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", help="checkpoint folder (default checkpoints/<dataset>/<model>)")
    t.add_argument("--resume", action="store_true",
                   help="continue from <out>/resume.safetensors, else from the checkpoint in <out> "
                        "(its weights, a fresh optimizer)")
    t.add_argument("--stop-at", type=bounded(int, 0), default=0, metavar="STEP",
                   help="save a checkpoint after STEP steps and stop; the run's schedule still "
                        "spans --steps, so --resume continues it")
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config field")
    t.add_argument("--no-download", action="store_true", help="never try torchvision's download")
    t.add_argument("--notes", help="free text stored in the card")
    t.add_argument("--from", dest="from_id", metavar="ID",
                   help="train from another checkpoint (reflow: the rectified flow whose pairs it learns; "
                        "bigan: a DCGAN-style GAN whose generator G starts from; realnvp: a trained "
                        "RealNVP it starts as, widened to --set channels=…)")
    t.add_argument("--pairs", type=bounded(int, 1, 1_000_000), default=20000, help="reflow: (noise, sample) pairs to draw")
    t.set_defaults(fn=_cmd_train)

    from genlab import playground
    from genlab.playground import TOY_FAMILIES
    from genlab.toy import TOY_DATASETS

    y = sub.add_parser("toy", help="train one family on 2-D toy data and score it (energy distance)")
    y.add_argument("family", choices=list(TOY_FAMILIES))
    y.add_argument("--data", required=True, choices=TOY_DATASETS)
    y.add_argument("--steps", type=bounded(int, 1, playground.MAX_STEPS), help="default: the family's (fits in ~15 s on one core)")
    y.add_argument("--seed", type=int, default=0)
    y.add_argument("--out", help=".npz with 'samples' (2,000 × 2) and 'data' (2,000 fresh points)")
    y.add_argument("--json", action="store_true", help="print the scores as JSON")
    y.set_defaults(fn=_cmd_toy)

    s = sub.add_parser("sample", help="sample images to an .npz (key 'images', uint8 N×28×28), or to "
                                      "one picture of them (a grid) when --out ends in .png")
    s.add_argument("id", help="checkpoint id, e.g. mnist/vae-2d")
    s.add_argument("--n", type=bounded(int, 1, MAX_SAMPLES), default=16)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="an .npz of the images (the suffix is added if "
                                                "missing), or a .png grid of them")
    s.add_argument("--sampler", help="diffusion: ddpm, ddim (default), dpm++, sde or ode; "
                                     "rectified flow: euler or heun (default heun)")
    s.add_argument("--steps", type=bounded(int, 1, 1000), help="diffusion: sampling steps (DDPM: T; DDIM: 50); "
                                             "rectified flow: ODE steps K (default 8)")
    s.add_argument("--eta", type=bounded(float, 0, 1), help="DDIM: η (0 = deterministic)")
    s.add_argument("--temperature", type=bounded(float, 0, 5, above=True), help="flows: z ~ N(0, T²I) (default 1)")
    s.add_argument("--label", type=bounded(int, 0, 9), help="rectified flow: the class to sample (default: none)")
    s.add_argument("--guidance", type=bounded(float, 0, 20),
                   help="rectified flow with --label: w in v = v_∅ + w·(v_c − v_∅) (default 1)")
    s.set_defaults(fn=_cmd_sample)

    r = sub.add_parser("reconstruct", help="held-out images and their reconstructions (a model with an "
                                           "encoder: VAE, BiGAN) to an .npz ('images', 'reconstructions') or a .png")
    r.add_argument("id", help="checkpoint id, e.g. mnist/bigan or mnist/vae-16d")
    r.add_argument("--n", type=bounded(int, 1), default=16, help="images, drawn from the bundled held-out set")
    r.add_argument("--seed", type=int, default=0, help="which images are drawn")
    r.add_argument("--out", required=True, help="an .npz of the images and their reconstructions (the suffix "
                   "is added if missing), or a .png: each row of up to 8 images above their reconstructions")
    r.set_defaults(fn=_cmd_reconstruct)

    e = sub.add_parser("eval", help="print a checkpoint's metrics as JSON (or recompute them)")
    e.add_argument("id", nargs="?", help="checkpoint id, e.g. mnist/vae-2d")
    e.add_argument("--all", action="store_true", help="every checkpoint")
    e.add_argument("--recompute", action="store_true",
                   help="recompute on the holdout split (needs the data: --data-dir)")
    e.add_argument("--data-dir")
    e.add_argument("--n", type=bounded(int, 2, 60_000), default=2000, help="samples and real images for FD etc.")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--samplers", help="diffusion / rectified flow: FD per sampler and step "
                                      "count as the pages sample, e.g. ddim-50,dpm++-20,ddpm-1000,"
                                      "ddim-50-fp32 or euler-1,heun-8")
    e.add_argument("--conditional", action="store_true",
                   help="with --samplers, for a class-conditional model: n/10 samples asked for "
                        "each class (w = 1) instead of unconditional ones; stored apart")
    e.add_argument("--guidance-scales",
                   help="class-conditional rectified flow: class accuracy and FD of Heun-8 samples "
                        "(n/10 per class) at each guidance scale w, e.g. 0,1,3")
    e.add_argument("--temperatures",
                   help="flows: FD, precision and recall of samples at each temperature T "
                        "(z ~ N(0, T²I)), e.g. 0.7,1")
    e.add_argument("--sampler-n", type=bounded(int, 10, MAX_SAMPLES), default=500,
                   help="samples per sampler / guidance scale / temperature (and real images) for "
                        "--samplers, --guidance-scales and --temperatures")
    e.add_argument("--write", action="store_true",
                   help="with --recompute, --samplers, --guidance-scales or --temperatures: store in card.json "
                        "(and docs/model-zoo.md with --all)")
    e.set_defaults(fn=_cmd_eval)

    c = sub.add_parser("compact", help="store a checkpoint's weights in float16 (half the bytes; "
                                       "the model still computes in float32), then recompute "
                                       "its metrics with eval --recompute --write")
    c.add_argument("ids", nargs="+", help="checkpoint ids, e.g. mnist/nice")
    c.set_defaults(fn=_cmd_compact)

    m = sub.add_parser("maps", help="compute the default t-SNE maps the projections page ships")
    m.add_argument("--dataset", action="append", choices=DATASETS,
                   help="one dataset (repeatable; default: all)")
    m.add_argument("--force", action="store_true",
                   help="recompute every map, also those that match their source's weights")
    m.set_defaults(fn=_cmd_maps)

    b = sub.add_parser("bundle", help="write a bundled sample (held-out, or train for "
                                      "nearest-neighbour checks) from a data folder")
    b.add_argument("--dataset", required=True, choices=DATASETS)
    b.add_argument("--data-dir")
    b.add_argument("--part", choices=["holdout", "train"], default="holdout",
                   help="holdout: the first N held-out images; train: N random train images (seed 0)")
    b.add_argument("--n", type=bounded(int, 1, 60_000), help="default: 2000 held-out, 5000 train")
    b.set_defaults(fn=_cmd_bundle)
    return p


def main(argv: list[str] | None = None) -> int:
    from genlab.checkpoints import CheckpointError
    from genlab.data import DataNotFoundError

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # a bad argument (argparse printed why: exit code 2), or --help
        return exc.code
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    try:
        return args.fn(args)
    except (CheckpointError, DataNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written, a full disk
        print(f"error: {exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
