"""Choosing the fusion without the test split: cross-validation grouped by person.

    python -m eyespy_live.train.fusion_cv --cache DIR [--test NAME ...]

Every candidate is fitted on four fifths of the fusion's fitting rows (`fusion.FIT_SPLITS`)
and scored on the fifth it did not see, folds drawn by a hash of the group (person / source
photo / video), so no person is on both sides. Scores are reported on all held-out rows and
on the rows most like the test split: CEW validation people (faces the CNN never trained
on), their studio copies, and ZJU's training people. `--test` prints the CEW test split
(and ZJU held-out people) for the named finalists only, after choosing.
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

import numpy as np

from eyespy_live.train.evidence import EvidenceTable, load_tables
from eyespy_live.train.fusion import (
    DEFAULT_FEATURES,
    FIT_SPLITS,
    fit_model,
    fusion_splits,
)
from eyespy_live.vision.fusion import EMBED_FIELDS, EMBED_GROUPS, LID_FIELDS, SHAPE_FIELDS

VIEWS = ("cnn_logit", "cnn_mesh_logit", "cnn_flip_logit", "cnn_mesh_flip_logit",
         "cnn_mesh_s55_logit", "cnn_mesh_s80_logit")
GEOMETRY = ("openness", "gaze_down", "abs_yaw", "abs_gaze_side", "mesh_ear", "pitch",
            "presence", "log_iris_px", "texture", "luma")
LR, GB = "logistic_regression", "boosted_trees"

# CNN-trained CEW faces ×0.3 (the CNN is over-confident there), webcam ×0.3 as shipped.
W3 = {"focus_webcam": 0.3, "cnn_train": 0.3}
SHIPPED_GEOMETRY = DEFAULT_FEATURES[2:]  # openness, gaze_down, abs_yaw
MEAN_SPREAD = ("views_mean_logit", "views_spread")

CANDIDATES: dict[str, dict] = {
    "shipped features (LR)": {"kind": LR, "features": DEFAULT_FEATURES},
    "shipped features, C 0.1": {"kind": LR, "features": DEFAULT_FEATURES, "c": 0.1},
    "shipped features, webcam ×0.1": {"kind": LR, "features": DEFAULT_FEATURES,
                                      "weights": {"focus_webcam": 0.1}},
    "shipped features, webcam ×1": {"kind": LR, "features": DEFAULT_FEATURES, "weights": {}},
    "shipped features, CNN-trained ×0.3": {"kind": LR, "features": DEFAULT_FEATURES,
                                           "weights": W3},
    "all views + shipped geometry (LR)": {"kind": LR, "features": (*VIEWS, *SHIPPED_GEOMETRY)},
    "all views + geometry (LR)": {"kind": LR, "features": (*VIEWS, *GEOMETRY)},
    "all views + geometry + interactions (LR)": {
        "kind": LR, "features": (*VIEWS, *GEOMETRY, "openness_x_cnn", "openness_x_gaze")},
    "views mean + spread + shipped geometry (LR)": {
        "kind": LR, "features": (*MEAN_SPREAD, *SHIPPED_GEOMETRY)},
    "views mean + spread + shipped geometry, CNN-trained ×0.3 (LR)": {
        "kind": LR, "features": (*MEAN_SPREAD, *SHIPPED_GEOMETRY), "weights": W3},
    "the same, CNN-trained ×0.1": {
        "kind": LR, "features": (*MEAN_SPREAD, *SHIPPED_GEOMETRY),
        "weights": {"focus_webcam": 0.3, "cnn_train": 0.1}},
    "the same, CNN-trained ×0": {
        "kind": LR, "features": (*MEAN_SPREAD, *SHIPPED_GEOMETRY),
        "weights": {"focus_webcam": 0.3, "cnn_train": 0.0}},
    "the same, C 0.1": {"kind": LR, "features": (*MEAN_SPREAD, *SHIPPED_GEOMETRY),
                        "weights": W3, "c": 0.1},
    "views mean only + shipped geometry, CNN-trained ×0.3 (LR)": {
        "kind": LR, "features": ("views_mean_logit", *SHIPPED_GEOMETRY), "weights": W3},
    "views mean + spread + geometry, CNN-trained ×0.3 (LR)": {
        "kind": LR, "features": (*MEAN_SPREAD, *GEOMETRY), "weights": W3},
    "trees d2, shipped features": {"kind": GB, "features": DEFAULT_FEATURES, "depth": 2},
    "trees d2, all views + geometry": {"kind": GB, "features": (*VIEWS, *GEOMETRY), "depth": 2},
    "trees d3, all views + geometry": {"kind": GB, "features": (*VIEWS, *GEOMETRY), "depth": 3},
    "trees d3, all views + geometry, 50 trees": {
        "kind": GB, "features": (*VIEWS, *GEOMETRY), "depth": 3, "trees": 50},
    "trees d2, views mean + spread + shipped geometry, CNN-trained ×0.3": {
        "kind": GB, "features": (*MEAN_SPREAD, *SHIPPED_GEOMETRY), "depth": 2, "weights": W3},
    "trees d3, views mean + spread + shipped geometry, CNN-trained ×0.3": {
        "kind": GB, "features": (*MEAN_SPREAD, *SHIPPED_GEOMETRY), "depth": 3, "weights": W3},
    "trees d2, views mean + spread + geometry, CNN-trained ×0.3": {
        "kind": GB, "features": (*MEAN_SPREAD, *GEOMETRY), "depth": 2, "weights": W3},
}


def _pcs(k: int) -> tuple[str, ...]:
    return tuple(f"pc{i}" for i in range(k))


# Issue 14, transfer features: MediaPipe's own networks' features per eye (EMBED_FIELDS:
# the iris model's contour branch 2 × 2, its iris branch pooled, the face mesh's map at the
# eye), reduced by PCA fitted on the training folds only; the lid shape; both lid heights.
IRIS_NET = (*EMBED_GROUPS["iris_contour"], *EMBED_GROUPS["iris_iris"])
for _k in (4, 8, 16, 32):
    CANDIDATES[f"shipped + nets PCA {_k} (LR)"] = {
        "kind": LR, "features": (*DEFAULT_FEATURES, *_pcs(_k)), "pca": (EMBED_FIELDS, _k)}
CANDIDATES.update({
    "shipped + nets PCA 16, C 0.1": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *_pcs(16)), "pca": (EMBED_FIELDS, 16),
        "c": 0.1},
    "shipped + nets PCA 32, C 0.05": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *_pcs(32)), "pca": (EMBED_FIELDS, 32),
        "c": 0.05},
    "shipped + iris-net PCA 16 (LR)": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *_pcs(16)), "pca": (IRIS_NET, 16)},
    "shipped + iris contour branch PCA 16 (LR)": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *_pcs(16)),
        "pca": (EMBED_GROUPS["iris_contour"], 16)},
    "shipped + mesh cell PCA 8 (LR)": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *_pcs(8)),
        "pca": (EMBED_GROUPS["mesh_cell"], 8)},
    "shipped + lid heights (LR)": {"kind": LR, "features": (*DEFAULT_FEATURES, *LID_FIELDS)},
    "shipped + lid shape PCA 8 (LR)": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *_pcs(8)), "pca": (SHAPE_FIELDS, 8)},
    "shipped + lid heights + lid shape 32 (LR)": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *LID_FIELDS, *SHAPE_FIELDS)},
    "shipped + lids + nets+shape PCA 16 (LR)": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *LID_FIELDS, *_pcs(16)),
        "pca": ((*SHAPE_FIELDS, *EMBED_FIELDS), 16)},
    "views mean+spread + geometry + nets PCA 16, CNN-trained ×0.3 (LR)": {
        "kind": LR, "features": (*MEAN_SPREAD, *SHIPPED_GEOMETRY, *_pcs(16)),
        "pca": (EMBED_FIELDS, 16), "weights": W3},
    "shipped + nets PCA 16, CNN-trained ×0.3 (LR)": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *_pcs(16)), "pca": (EMBED_FIELDS, 16),
        "weights": W3},
    "shipped + nets PCA 16, CNN-trained ×0 (LR)": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *_pcs(16)), "pca": (EMBED_FIELDS, 16),
        "weights": {"focus_webcam": 0.3, "cnn_train": 0.0}},
    "shipped features, CNN-trained ×0 (LR)": {
        "kind": LR, "features": DEFAULT_FEATURES,
        "weights": {"focus_webcam": 0.3, "cnn_train": 0.0}},
    "nets PCA 32 alone (LR)": {"kind": LR, "features": _pcs(32), "pca": (EMBED_FIELDS, 32)},
    "lid heights + shape alone (LR)": {"kind": LR, "features": (*LID_FIELDS, *SHAPE_FIELDS)},
    "trees d2, shipped + lids + nets PCA 8": {
        "kind": GB, "features": (*DEFAULT_FEATURES, *LID_FIELDS, *_pcs(8)),
        "pca": (EMBED_FIELDS, 8), "depth": 2},
})
# Class balance: closed rows weighted up to the open rows' total (fit(balance=True)).
CANDIDATES.update({
    "shipped features, balanced": {"kind": LR, "features": DEFAULT_FEATURES, "balance": True},
    "shipped features, balanced, CNN-trained ×0.3": {
        "kind": LR, "features": DEFAULT_FEATURES, "balance": True, "weights": W3},
    "shipped + nets PCA 8, balanced": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *_pcs(8)), "pca": (EMBED_FIELDS, 8),
        "balance": True},
    "shipped + mesh cell PCA 8, balanced": {
        "kind": LR, "features": (*DEFAULT_FEATURES, *_pcs(8)),
        "pca": (EMBED_GROUPS["mesh_cell"], 8), "balance": True},
})


def folds(groups: np.ndarray, k: int = 5) -> np.ndarray:
    """Fold number per row from a stable hash of its group (all a person's rows together)."""
    return np.array([zlib.crc32(str(g).encode()) % k for g in groups], int)


def _scores(model_spec: dict, table: EvidenceTable) -> np.ndarray:
    """P(closed) per row through the run-time `FusionModel` (its inputs built in bulk)."""
    from eyespy_live.train.fusion import _design
    from eyespy_live.vision.fusion import FusionModel, _sigmoid

    model = FusionModel(model_spec)
    x, _ = _design(table, model.features, {}, model_spec.get("projection"))
    return np.array([_sigmoid(model.decision(row)) for row in x])


def out_of_fold(table: EvidenceTable, candidate: dict, k: int = 5) -> np.ndarray:
    """Each row's P(closed) from the candidate fitted on the other folds."""
    fold = folds(table.groups, k)
    p = np.zeros(len(table))
    for f in range(k):
        held = fold == f
        spec = fit_model(table.subset(~held), candidate)
        p[held] = _scores(spec, table.subset(held))
    return p


def summary(labels: np.ndarray, p: np.ndarray) -> dict[str, float]:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return {"n": int(len(labels)), "errors": int(((p >= 0.5) != labels.astype(bool)).sum()),
            "accuracy": float(((p >= 0.5) == labels.astype(bool)).mean()),
            "log_loss": float(-np.mean(labels * np.log(q) + (1 - labels) * np.log(1 - q)))}


def subsets(table: EvidenceTable, side: np.ndarray) -> dict[str, np.ndarray]:
    """The held-out rows worth reading separately (masks over `table`)."""
    return {
        "all fit rows": np.ones(len(table), bool),
        "CEW val people": (table.sources == "cew_faces") & (side == "val"),
        "CEW val studio": (table.sources == "cew_studio") & (side == "val"),
        "ZJU training people": table.sources == "zju",
        "CNN-unseen (the three above)": (np.isin(table.sources, ["cew_faces", "cew_studio"])
                                         & (side == "val")) | (table.sources == "zju"),
    }


def main(argv: list[str] | None = None) -> int:
    from eyespy_live.train.evaluate import default_cache
    from eyespy_live.train.evidence import SOURCES

    parser = argparse.ArgumentParser(prog="python -m eyespy_live.train.fusion_cv",
                                     description="Grouped cross-validation of fusion candidates.")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--sources", nargs="+", choices=sorted(SOURCES),
                        default=["cew_faces", "cew_studio", "focus_webcam", "dryeye", "zju"])
    parser.add_argument("--only", nargs="*", default=None, help="candidate names to run")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--test", nargs="*", default=None,
                        help="finalists to score on the test split (after choosing)")
    args = parser.parse_args(argv)
    table = load_tables(args.data, args.cache, args.sources)
    side = fusion_splits(table)
    fitting = np.isin(side, FIT_SPLITS)
    rows, rows_side = table.subset(fitting), side[fitting]
    names = list(CANDIDATES) if args.only is None else args.only  # `--only` alone: none
    masks = subsets(rows, rows_side)
    for name in names:
        p = out_of_fold(rows, CANDIDATES[name], args.folds)
        parts = []
        for title, m in masks.items():
            s = summary(rows.labels[m], p[m])
            parts.append(f"{title} {100 * s['accuracy']:.2f} % ({s['errors']}/{s['n']}) "
                         f"ll {s['log_loss']:.4f}")
        print(f"CV {name}: " + "; ".join(parts), flush=True)
    test = table.subset(side == "test")
    for name in args.test or []:
        spec = fit_model(rows, CANDIDATES[name])
        for title, source in (("CEW test", "cew_faces"), ("ZJU held-out", "zju")):
            part = test.subset(test.sources == source)
            s = summary(part.labels, _scores(spec, part))
            print(f"TEST {name}: {title} {100 * s['accuracy']:.2f} % ({s['errors']}/{s['n']}) "
                  f"ll {s['log_loss']:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
