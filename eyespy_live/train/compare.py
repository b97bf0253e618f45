"""Rank candidate eye-state models on the validation split, never on the test split.

    python -m eyespy_live.train.compare A.tflite B.tflite … [--data ../shared/data]
        [--cache DIR] [--zju]

For each int8 (or float) .tflite: accuracy at 0.5, log-loss and ROC-AUC on the
`assign_splits` validation patches of the training sources (the split that chooses
models and thresholds). With `--zju`, the same on ZJU's training-side people, cut by our
detector: the CNN never trains on them by default, so they are a cross-dataset check (its
held-out people are not loaded). Validation has ~1,000 patches: one patch is 0.1 point,
and seeds alone move accuracy by about a point, so read log-loss and AUC beside accuracy.
No TensorFlow needed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from eyespy_live.train import data as datamod
from eyespy_live.train.evaluate import TRAIN_SOURCES, default_cache
from eyespy_live.train.infer import TFLiteScorer
from eyespy_live.train.metrics import point_metrics
from eyespy_live.train.splits import assign_splits


def figures(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Accuracy at 0.5, log-loss (probabilities clipped to [1e-4, 1 − 1e-4]) and ROC-AUC."""
    y = labels.astype(np.float64)
    p = np.clip(scores.astype(np.float64), 1e-4, 1 - 1e-4)
    log_loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    m = point_metrics(labels, scores, 0.5)
    return {"accuracy": m["accuracy"], "log_loss": log_loss, "roc_auc": m["roc_auc"],
            "errors": int(((scores >= 0.5) != labels.astype(bool)).sum()), "n": len(labels)}


def validation_set(data: Path, cache: Path | None) -> datamod.PatchSet:
    patches = datamod.load_all(data, TRAIN_SOURCES, cache_dir=cache)
    return patches.subset(assign_splits(patches.groups) == "val")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eyespy_live.train.compare",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--zju", action="store_true",
                        help="also ZJU's training-side people (cross-dataset check)")
    args = parser.parse_args(argv)
    sets = {"validation": validation_set(args.data, args.cache)}
    if args.zju:
        sets["ZJU training people"] = datamod.load_all(args.data, ["zju"], cache_dir=args.cache)
    for path in args.models:
        scorer = TFLiteScorer(path)
        parts = []
        for name, patches in sets.items():
            f = figures(patches.labels, scorer.score(patches.patches))
            parts.append(f"{name} {100 * f['accuracy']:.2f} % ({f['errors']} of {f['n']} wrong)"
                         f" log-loss {f['log_loss']:.4f} AUC {f['roc_auc']:.4f}")
        print(f"{path} ({path.stat().st_size} bytes): " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
