"""python -m eyespy_live.train --data ../shared/data --out models/
python -m eyespy_live.train fusion --data ../shared/data --out models/ [--conditions]

Builds the training set, trains the CNN with fixed seeds, exports the full-integer int8
model, evaluates it (held-out people, cross-dataset sets, photos, baseline) and writes
`eye_state_int8.tflite`, `eye_state_int8.json` (input size, thresholds, crop scale),
`eye_state_int8_metrics.json` and `MODEL_CARD.md` into `--out`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from eyespy_live.train import data as datamod
from eyespy_live.train.evaluate import (
    TRAIN_SOURCES,
    default_cache,
    evaluate_all,
    print_report,
)
from eyespy_live.train.model_layout import (
    DEFAULT_ENSEMBLE,
    DEFAULT_EPOCHS,
    DEFAULT_LAYOUT,
    parse_layout,
)
from eyespy_live.train.splits import assign_splits, check_disjoint
from eyespy_live.vision.eyecrop import EYE_CROP_SCALE, PATCH_SIZE

log = logging.getLogger("eyespy_live.train")


def small_subset(patches: datamod.PatchSet, per_class: int, seed: int) -> datamod.PatchSet:
    rng = np.random.default_rng(seed)
    keep = []
    for label in (0, 1):
        idx = np.flatnonzero(patches.labels == label)
        keep.extend(rng.permutation(idx)[:per_class].tolist())
    return patches.subset(np.sort(np.array(keep, dtype=int)))


def train(args: argparse.Namespace) -> dict:
    from eyespy_live.train.model import (
        TrainConfig,
        ensemble_model,
        export_float,
        export_int8,
        load_model,
        predict_float,
        save_model,
        train_model,
    )

    started = time.time()
    patches = datamod.load_all(args.data, args.sources, cache_dir=args.cache)
    split = assign_splits(patches.groups)
    check_disjoint(patches.groups, split)
    extra = np.isin(patches.sources, datamod.TRAIN_ONLY_SOURCES)
    tr, va = patches.subset(split == "train"), patches.subset((split == "val") & ~extra)
    if args.limit:
        tr, va = small_subset(tr, args.limit, args.seed), small_subset(va, args.limit, args.seed)
    log.info("train %d (closed %d), val %d; groups train %d / val %d / test %d",
             len(tr), int(tr.labels.sum()), len(va), len(set(tr.groups)), len(set(va.groups)),
             len(set(patches.groups[split == "test"])))
    layout = parse_layout(args.layout)
    config = TrainConfig(epochs=args.epochs, seed=args.seed, steps_per_epoch=args.steps,
                         augment_strength=args.augment, layout=layout, ema=args.ema,
                         verbose=2 if not args.quiet else 0)

    def val_accuracy(model) -> float | None:
        if not len(va):
            return None
        return float(((predict_float(model, va.patches) >= 0.5) == va.labels).mean())

    teacher, teacher_info = None, {}
    if args.teacher:
        teacher = load_model(args.teacher)
        teacher_info = {"teacher": str(args.teacher)}
    elif args.teacher_layout:
        teacher_config = replace(config, layout=parse_layout(args.teacher_layout),
                                 epochs=args.teacher_epochs, dropout=0.3)
        teacher = train_model(tr.patches, tr.labels, teacher_config, va.patches, va.labels)
        save_model(teacher, Path(args.work) / "teacher.keras")
        teacher_info = {"teacher_layout": args.teacher_layout,
                        "teacher_epochs": args.teacher_epochs}
    if teacher is not None:
        teacher_info["teacher_val_accuracy"] = val_accuracy(teacher)
        log.info("teacher: validation accuracy %s", teacher_info["teacher_val_accuracy"])
    weights = None
    if args.source_weight:  # "cew_patches=2": drawn twice as often as a weight-1 patch
        table = {k: float(v) for k, v in (item.split("=", 1) for item in args.source_weight)}
        weights = np.array([table.get(str(src), 1.0) for src in tr.sources], np.float64)
    members, member_accuracy = [], []
    for k in range(args.ensemble):  # member k: seed + k (member 0 is the single model)
        member = train_model(tr.patches, tr.labels, replace(config, seed=args.seed + k),
                             va.patches, va.labels, sample_weight=weights, teacher=teacher)
        if args.ensemble > 1:
            save_model(member, Path(args.work) / f"member_{k}.keras")
        members.append(member)
        member_accuracy.append(val_accuracy(member))
        log.info("member %d (seed %d): validation accuracy %s", k, args.seed + k,
                 member_accuracy[-1])
    model = ensemble_model(members, layout)
    out = Path(args.out)
    model_path = out / "eye_state_int8.tflite"
    export_int8(model, tr.patches, model_path, seed=args.seed)
    float_path = Path(args.work) / "eye_state_float32.tflite"
    export_float(model, float_path)
    info = {
        "input_size": PATCH_SIZE, "crop_scale": EYE_CROP_SCALE, "seed": args.seed,
        "epochs": args.epochs, "augment": args.augment, "layout": args.layout,
        "train_sources": list(args.sources),
        "train_patches": len(tr), "val_patches": len(va),
        "cew_faces_total": int(np.isin(tr.sources, ["cew_faces", "cew_faces_annot"]).sum()),
        "cew_faces_from_annotation": int((tr.sources == "cew_faces_annot").sum()),
        "val_accuracy": val_accuracy(model), **teacher_info,
        "train_seconds": round(time.time() - started, 1),
    }
    if args.ensemble > 1:
        info.update(ensemble=args.ensemble, member_val_accuracy=member_accuracy)
    if args.ema:
        info["ema"] = args.ema
    if args.source_weight:
        info["source_weight"] = list(args.source_weight)
    Path(args.work).mkdir(parents=True, exist_ok=True)
    (Path(args.work) / "training_info.json").write_text(json.dumps(info, indent=1) + "\n")
    log.info("exported %s (%d bytes)", model_path, model_path.stat().st_size)
    return {"model": model_path, "float": float_path, "info": info}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["fusion"]:  # second stage: CNN + eyelid geometry (train/evidence, train/fusion)
        from eyespy_live.train.fusion import main as fusion_main

        return fusion_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m eyespy_live.train",
                                     description="Train and export the eye-state model.")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("models"))
    parser.add_argument("--cache", type=Path, default=default_cache(),
                        help="cache of detector-cut patches (.npz per source)")
    parser.add_argument("--work", type=Path, default=None,
                        help="scratch folder: float model, misclassified.html (default: cache)")
    parser.add_argument("--sources", nargs="+", default=list(TRAIN_SOURCES),
                        choices=list(datamod.ALL_SOURCES))
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--steps", type=int, default=None, help="steps per epoch")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--augment", type=float, default=0.6, help="augmentation strength")
    parser.add_argument("--layout", default=",".join(str(v) for v in DEFAULT_LAYOUT),
                        help="stages: conv widths, p = 2×2 max-pool, s = space-to-depth, dN = "
                             "depthwise-separable, e.g. s,24,p,48,p,96")
    parser.add_argument("--teacher-layout", default="",
                        help="distil from a larger float model of this layout, trained first "
                             "(saved as teacher.keras in --work); empty: no teacher")
    parser.add_argument("--teacher-epochs", type=int, default=60)
    parser.add_argument("--teacher", type=Path, default=None,
                        help="a saved teacher.keras to distil from instead of training one")
    parser.add_argument("--ensemble", type=int, default=DEFAULT_ENSEMBLE,
                        help="train this many copies (seeds seed, seed+1, …) and export one "
                             "int8 graph giving the mean of their P(closed)")
    parser.add_argument("--ema", type=float, default=0.0,
                        help="keep an exponential moving average of the weights with this "
                             "momentum (e.g. 0.999) and export it; 0: off")
    parser.add_argument("--source-weight", nargs="*", default=[], metavar="SOURCE=W",
                        help="draw a source's training patches W times as often, e.g. "
                             "cew_patches=2 (default: every patch alike)")
    parser.add_argument("--limit", type=int, default=0,
                        help="smoke run: at most this many patches per class")
    parser.add_argument("--no-eval", action="store_true", help="skip evaluation and card")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="no training: re-evaluate the model in --out, rewrite card/JSON")
    parser.add_argument("--rounds", type=int, default=1000, help="bootstrap rounds")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.work = args.work or args.cache
    if args.evaluate_only:
        out = Path(args.out)
        previous = out / "eye_state_int8_metrics.json"
        info = json.loads(previous.read_text()).get("training", {}) if previous.is_file() else {}
        trained = Path(args.work) / "training_info.json"  # written by the run that trained it
        if trained.is_file():
            info = json.loads(trained.read_text())
        result = {"model": out / "eye_state_int8.tflite",
                  "float": Path(args.work) / "eye_state_float32.tflite", "info": info}
    else:
        result = train(args)
    if args.no_eval:
        return 0
    from eyespy_live.train.card import write_card

    report = evaluate_all(result["model"], args.data, args.cache,
                          Path(args.work) / "misclassified.html", result["float"],
                          rounds=args.rounds)
    report["training"] = result["info"]
    print_report(report)
    out = Path(args.out)
    thresholds = report["thresholds"]
    (out / "eye_state_int8.json").write_text(json.dumps({
        "input_size": PATCH_SIZE, "t_open": thresholds["t_open"],
        "t_closed": thresholds["t_closed"], "crop_scale": EYE_CROP_SCALE}, indent=1) + "\n")
    slim = {k: v for k, v in report.items() if k != "photos"}
    slim["photos"] = {k: v for k, v in report.get("photos", {}).items() if k != "verdicts"}
    (out / "eye_state_int8_metrics.json").write_text(
        json.dumps(slim, indent=1, default=float) + "\n")
    write_card(out / "MODEL_CARD.md", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
