"""The fusion stage: fitting the per-eye fusion model on evidence tables, and its JSON.

    python -m eyespy_live.train fusion --data ../shared/data --out models/

The tables come from `train.evidence` (every labelled face through the runtime's own
measurements). Rows are grouped like the CNN's data (one person / source photo / video per
group) and split with the same hash (`splits.assign_splits`): the CNN's CEW test people stay
test people here. The CNN has seen the CEW *training* faces, where its P(closed) is
over-confident, so the fusion is fitted on faces the CNN never trained on (CEW validation
people and video of other people) and the CEW test split is kept for evaluation only.
scikit-learn is needed here (the [train] extra); the result is a few numbers of JSON.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from eyespy_live.train.evidence import SOURCES, EvidenceTable, build_table, load_tables
from eyespy_live.train.splits import assign_splits
from eyespy_live.vision.fusion import EXTRA_FIELDS

log = logging.getLogger(__name__)

# The inputs the shipped fusion uses (see `vision.fusion._transform`).
# (The iris-model EAR "aspect" duplicates "openness"; with both, one weight turns the wrong
# way, so only openness is used.)
DEFAULT_FEATURES = ("cnn_logit", "cnn_mesh_logit", "openness", "gaze_down", "abs_yaw")


def fusion_splits(table: EvidenceTable) -> np.ndarray:
    """'fit' / 'val' / 'test' / 'cnn_train' per row. CEW by the CNN's own hash split (its
    training people marked: the CNN knows them); ZJU by its fixed person split (held-out
    people are test); other sources by the same group hash."""
    side = assign_splits(table.groups.astype(object))
    out = np.where(side == "test", "test", np.where(side == "val", "val", "fit")).astype(object)
    cnn_trained = np.isin(table.sources, ["cew_faces", "cew_studio"]) & (side == "train")
    out[cnn_trained] = "cnn_train"
    zju_rows = table.sources == "zju"
    if zju_rows.any():
        from eyespy_live.train.zju import zju_side

        people = [str(g).split(":", 1)[1] for g in table.groups[zju_rows]]
        out[zju_rows] = ["test" if zju_side(p) == "heldout" else "fit" for p in people]
    return out


# Per-source sample weights in the fit: the webcam video is one person and thousands of
# near-identical frames, and its per-frame "closed" labels include blink onsets where the
# eye still shows (see the model card), so it counts less than the CEW faces.
SOURCE_WEIGHTS = {"focus_webcam": 0.3}
FIT_SPLITS = ("fit", "val", "cnn_train")


def fit_projection(table: EvidenceTable, fields: tuple[str, ...], k: int) -> dict:
    """Principal axes of `fields` (EXTRA_FIELDS columns, standardised) on these rows only:
    the JSON "projection" that turns an eye's iris-model features / lid shape into
    "pc0" … "pc{k-1}" fusion inputs."""
    if table.extra is None:
        raise ValueError("fusion: this table has no extra evidence (rebuild it)")
    x = table.extra[:, [EXTRA_FIELDS.index(f) for f in fields]]
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    _, _, vt = np.linalg.svd((x - mean) / scale, full_matrices=False)
    axes = vt[:k]
    # A fixed sign per axis (largest loading positive), so refits read alike.
    axes = axes * np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])[:, None]
    return {"fields": list(fields), "mean": [round(float(v), 6) for v in mean],
            "scale": [round(float(v), 6) for v in scale],
            "axes": [[round(float(v), 6) for v in row] for row in axes]}


def fit(table: EvidenceTable, features: tuple[str, ...] = DEFAULT_FEATURES, c: float = 1.0,
        seed: int = 0, weights: dict[str, float] | None = None,
        projection: dict | None = None, balance: bool = False) -> dict:
    """A standardised logistic regression over `features`, as the JSON `FusionModel` reads
    (with `projection`, "pcK" features are that projection's components). `balance`: the
    closed rows' weights scaled to total the open rows' (the fitting rows are ~1/3 closed,
    mostly from the open-heavy webcam and ZJU, while CEW's test split is half closed)."""
    from sklearn.linear_model import LogisticRegression

    weights = SOURCE_WEIGHTS if weights is None else weights
    x, w = _design(table, features, weights, projection)
    if balance:
        w = balanced(w, table.labels)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    lr = LogisticRegression(C=c, max_iter=5000, random_state=seed)
    lr.fit((x - mean) / scale, table.labels, sample_weight=w)
    return {
        "kind": "logistic_regression",
        "features": list(features),
        **({"projection": projection} if projection else {}),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]), 6),
        "fitted_on": {"eyes": len(table), "closed": int(table.labels.sum()),
                      "groups": len(set(table.groups.tolist())),
                      "sources": sorted(set(table.sources.tolist())),
                      "source_weights": dict(weights),
                      **({"class_balanced": True} if balance else {})},
    }


def balanced(w: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Sample weights with the closed rows rescaled so both classes weigh the same in total."""
    closed = labels.astype(bool)
    out = w.astype(np.float64).copy()
    if closed.any() and (~closed).any():
        out[closed] *= out[~closed].sum() / out[closed].sum()
    return out


def _design(table: EvidenceTable, features: tuple[str, ...], weights: dict[str, float],
            projection: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    from eyespy_live.vision.fusion import Projection, feature_vector

    rows = table.rows(tuple(f for f in features if f in EXTRA_FIELDS))
    if projection:
        assert table.extra is not None
        proj = Projection.from_spec(projection)
        z = proj.project(table.extra[:, [EXTRA_FIELDS.index(f) for f in proj.fields]])
        for row, comps in zip(rows, z.tolist(), strict=True):
            row.update((f"pc{k}", v) for k, v in enumerate(comps))
    x = np.stack([feature_vector(features, r) for r in rows])
    w = np.array([weights.get(str(s), 1.0) for s in table.sources], np.float64)
    if "cnn_train" in weights:
        # The CNN's own training faces, where its P(closed) is over-confident.
        w[fusion_splits(table) == "cnn_train"] *= weights["cnn_train"]
    return x, w


def boosted_estimator(table: EvidenceTable, features: tuple[str, ...], trees: int = 100,
                      depth: int = 2, learning_rate: float = 0.1, min_leaf: int = 40,
                      subsample: float = 1.0, seed: int = 0,
                      weights: dict[str, float] | None = None, projection: dict | None = None):
    """The fitted scikit-learn GradientBoostingClassifier (log-loss) behind `fit_boosted`."""
    from sklearn.ensemble import GradientBoostingClassifier

    weights = SOURCE_WEIGHTS if weights is None else weights
    x, w = _design(table, features, weights, projection)
    gb = GradientBoostingClassifier(n_estimators=trees, max_depth=depth,
                                    learning_rate=learning_rate, min_samples_leaf=min_leaf,
                                    subsample=subsample, random_state=seed)
    gb.fit(x, table.labels, sample_weight=w)
    return gb


def fit_boosted(table: EvidenceTable, features: tuple[str, ...], trees: int = 100,
                depth: int = 2, learning_rate: float = 0.1, min_leaf: int = 40,
                subsample: float = 1.0, seed: int = 0,
                weights: dict[str, float] | None = None, projection: dict | None = None) -> dict:
    """A small gradient-boosted tree ensemble exported as node arrays for
    `vision.fusion.FusionModel` (numpy at run time, no scikit-learn). Trees can weigh the
    lid gap differently when the iris is visible or the gaze is low, which a linear fusion
    over the same inputs cannot."""
    weights = SOURCE_WEIGHTS if weights is None else weights
    gb = boosted_estimator(table, features, trees, depth, learning_rate, min_leaf, subsample,
                           seed, weights, projection)
    exported = []
    for estimator in gb.estimators_[:, 0]:
        t = estimator.tree_
        exported.append({
            "feature": [int(v) if left >= 0 else 0
                        for v, left in zip(t.feature, t.children_left, strict=True)],
            "threshold": [float(v) for v in t.threshold],
            "left": [int(v) for v in t.children_left],
            "right": [int(v) for v in t.children_right],
            "value": [float(learning_rate * v) for v in t.value[:, 0, 0]],
        })
    # Every prediction starts from the prior's log-odds: recover it from one row.
    probe = _design(table.subset(np.arange(len(table)) < 1), features, weights, projection)[0]
    base = float(gb.decision_function(probe)[0]) - float(
        sum(learning_rate * e.predict(probe.astype(np.float32))[0] for e in gb.estimators_[:, 0]))
    return {
        "kind": "boosted_trees",
        "features": list(features),
        **({"projection": projection} if projection else {}),
        "base": base,
        "trees": exported,
        "params": {"trees": trees, "depth": depth, "learning_rate": learning_rate,
                   "min_leaf": min_leaf, "subsample": subsample, "seed": seed},
        "fitted_on": {"eyes": len(table), "closed": int(table.labels.sum()),
                      "groups": len(set(table.groups.tolist())),
                      "sources": sorted(set(table.sources.tolist())),
                      "source_weights": dict(weights)},
    }


def fit_model(table: EvidenceTable, model: dict) -> dict:
    """Fit a model description {"kind", "features", and the kind's parameters}; an optional
    "pca": (fields, k) fits that projection on these rows first (inputs "pc0" …)."""
    params = {k: v for k, v in model.items() if k not in ("kind", "features", "pca")}
    features = tuple(model["features"])
    if "pca" in model:
        fields, k = model["pca"]
        params["projection"] = fit_projection(table, tuple(fields), int(k))
    if model["kind"] == "boosted_trees":
        return fit_boosted(table, features, **params)
    return fit(table, features, **params)


def write_model(spec: dict, path: Path) -> None:
    path.write_text(json.dumps(spec, indent=1) + "\n")


def evaluate_methods(table: EvidenceTable, spec: dict, geometry_spec: dict,
                     ear_t: dict[str, float],
                     rounds: int = 1000) -> dict:
    """CNN, geometry, fusion and the EAR baseline on the held-out CEW test eyes."""
    from eyespy_live.train.conditions import method_scores
    from eyespy_live.train.metrics import bootstrap_metrics
    from eyespy_live.vision.fusion import FusionModel

    scores = method_scores(table, FusionModel(spec), FusionModel(geometry_spec), ear_t)
    return {name: bootstrap_metrics(table.labels, s, table.groups.astype(object), rounds=rounds)
            for name, s in scores.items()}


def main(argv: list[str] | None = None) -> int:
    """`python -m eyespy_live.train fusion`: evidence tables → fit → JSON → evaluation."""
    import argparse
    import time

    from eyespy_live.train.conditions import GEOMETRY_FEATURES, ear_threshold
    from eyespy_live.train.evaluate import default_cache

    parser = argparse.ArgumentParser(prog="python -m eyespy_live.train fusion",
                                     description="Fit the CNN + eyelid-geometry fusion.")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("models"))
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--sources", nargs="+", choices=sorted(SOURCES),
                        default=["cew_faces", "cew_studio", "focus_webcam", "dryeye", "zju"])
    parser.add_argument("--limit", type=int, default=0,
                        help="smoke run: at most this many faces per source (no cache)")
    parser.add_argument("--conditions", action="store_true",
                        help="also evaluate per condition (smiling, glasses, side light …)")
    parser.add_argument("--rounds", type=int, default=1000, help="bootstrap rounds")
    parser.add_argument("--candidate", default=None,
                        help="fit this `train.fusion_cv` candidate instead of the shipped recipe")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.time()
    if args.limit:
        from itertools import islice

        from eyespy_live.vision.eyestate import EyeStateModel
        from eyespy_live.vision.faces import create_detector
        from eyespy_live.vision.landmarks import FaceLandmarker

        detector, model, landmarker = create_detector("blazeface"), EyeStateModel(), \
            FaceLandmarker(embed=True)
        table = EvidenceTable.concat([
            build_table(islice(SOURCES[s](args.data, detector), args.limit), s, model,
                        landmarker) for s in args.sources])
    else:
        table = load_tables(args.data, args.cache, args.sources)
    side = fusion_splits(table)
    fit_rows = table.subset(np.isin(side, FIT_SPLITS))
    test_rows = table.subset(side == "test")
    if not len(set(fit_rows.labels.tolist())) == 2:
        raise SystemExit("fusion: the fitting eyes hold only one class; use more data")
    if args.candidate:
        from eyespy_live.train.fusion_cv import CANDIDATES

        spec = fit_model(fit_rows, CANDIDATES[args.candidate])
    else:
        spec = fit(fit_rows)
    geometry_spec = fit(fit_rows, GEOMETRY_FEATURES)
    ear_t = {f: ear_threshold(fit_rows, f) for f in ("mesh_ear", "aspect")}
    spec["ear_baseline_thresholds"] = ear_t
    args.out.mkdir(parents=True, exist_ok=True)
    write_model(spec, args.out / "eye_fusion.json")
    log.info("wrote %s (fitted on %d eyes)", args.out / "eye_fusion.json", len(fit_rows))
    report: dict = {"fit": spec["fitted_on"], "ear_thresholds": ear_t,
                    "seconds": round(time.time() - started, 1)}
    for title, key, source in (("CEW test per eye", "cew_test", "cew_faces"),
                               ("ZJU held-out people per eye", "zju_heldout", "zju")):
        rows = test_rows.subset(test_rows.sources == source)
        if not len(rows) or len(set(rows.labels.tolist())) != 2:
            continue
        methods = evaluate_methods(rows, spec, geometry_spec, ear_t, args.rounds)
        report[key] = {k: {"accuracy": v["accuracy"], "ci": v["ci"]["accuracy"],
                           "roc_auc": v["roc_auc"], "eyes": len(rows),
                           "closed": int(rows.labels.sum())} for k, v in methods.items()}
        for name, m in report[key].items():
            ci = m["ci"] or [float("nan")] * 2
            print(f"{title} ({m['eyes']}, {m['closed']} closed), {name:22s} "
                  f"{100 * m['accuracy']:.2f} % [{100 * ci[0]:.2f}, {100 * ci[1]:.2f}]  "
                  f"AUC {m['roc_auc']:.4f}")
    if args.conditions:
        from eyespy_live.train.conditions import evaluate_conditions, format_conditions
        from eyespy_live.vision.eyestate import EyeStateModel
        from eyespy_live.vision.faces import create_detector
        from eyespy_live.vision.fusion import FusionModel
        from eyespy_live.vision.landmarks import FaceLandmarker

        rows = evaluate_conditions(args.data, FusionModel(spec), FusionModel(geometry_spec),
                                   ear_t, EyeStateModel(), FaceLandmarker(),
                                   create_detector("blazeface"), rounds=min(args.rounds, 300))
        report["conditions"] = rows
        print(format_conditions(rows))
        from eyespy_live.resources import default_eye_model
        from eyespy_live.train.conditions import format_photo_verdicts, photo_verdict_report

        verdicts = photo_verdict_report(args.data, default_eye_model())
        report["photo_verdicts"] = verdicts
        print(format_photo_verdicts(verdicts))
    report["features"] = spec["features"]
    report["kind"] = spec["kind"]
    report["params"] = spec.get("params", {})
    (args.out / "eye_fusion_metrics.json").write_text(
        json.dumps(report, indent=1, default=float) + "\n")
    if not args.limit:
        update_card(args.out / "MODEL_CARD.md", card_section(report))
    return 0


CARD_BEGIN, CARD_END = "<!-- fusion: begin -->", "<!-- fusion: end -->"


def card_section(report: dict) -> str:
    """The model card's section on the geometry stage and the fusion (from a report)."""
    from eyespy_live.train.conditions import format_conditions, format_photo_verdicts

    fit_info = report.get("fit", {})
    lines = [
        CARD_BEGIN,
        "## Eye state v2: eyelid geometry and the learned fusion (`eye_fusion.json`)",
        "",
        "Generated by `python -m eyespy_live.train fusion --data ../shared/data --out models/ "
        "--conditions`.",
        "",
        "A second stage (`eyespy_live/decision/judge.py`) runs MediaPipe's face mesh and iris "
        "landmark models (Apache-2.0, `models/mediapipe/`) through the same TFLite loader on "
        "faces the CNN does not call clearly open (both eyes P < 0.1) and on every face of a "
        "still photo. It measures each eye's lid gap over its iris diameter (`openness`), the "
        "iris position (gaze), head yaw / pitch, and places a second CNN crop at the mesh's "
        "eye corners. " + _model_words(report) + " over `"
        + "`, `".join(report.get("features", [])) + "` (numpy at run time) gives "
        "each eye's P(closed). Can't-tell reasons (head turned > 40°, tilted > 35°, sunglasses, "
        "eye hidden) come from the geometry and are never turned into \"closed\".",
        "",
        f"Fitted on {fit_info.get('eyes', '?')} eyes ({fit_info.get('closed', '?')} closed) "
        f"of {fit_info.get('groups', '?')} people / photos / videos from "
        f"{', '.join(fit_info.get('sources', []))} (webcam rows weighted "
        f"{fit_info.get('source_weights', {}).get('focus_webcam', 1)}). The CEW test people "
        "and ZJU's held-out people (train.zju's fixed split) are never fitted on; the CNN's own "
        "CEW training faces are (as clean faces and as studio-style copies).",
        "",
    ]
    for key, title in (("cew_test", "CEW test split, per eye"),
                       ("zju_heldout", "ZJU held-out people (4), per eye, never trained on")):
        if key not in report:
            continue
        lines += [f"**{title}** (95 % bootstrap intervals over people):", "",
                  "| method | accuracy | ROC-AUC |", "|---|---|---|"]
        for name, m in report[key].items():
            ci = m["ci"] or [float("nan")] * 2
            lines.append(f"| {name} | {100 * m['accuracy']:.2f} % [{100 * ci[0]:.2f}, "
                         f"{100 * ci[1]:.2f}] | {m['roc_auc']:.4f} |")
        lines.append("")
    if report.get("conditions"):
        lines += ["**Per condition, per eye** (CEW test faces; studio = grayscale 320×243 "
                  "portraits made from them; winks: the dryeye pair's halves):", "",
                  format_conditions(report["conditions"]), ""]
    if report.get("photo_verdicts"):
        lines += ["**Photo verdicts through the product path** (keep / closed / check, as "
                  "`cull` says them; right = keep for open, closed (retake) for shut and for a "
                  "wink; check counts as not right; the studio-portrait proxy sets are "
                  "`train.portraits`):", "",
                  format_photo_verdicts(report["photo_verdicts"]), ""]
    cew = report.get("cew_test", {}).get("fusion (shipped)")
    if cew:
        met = "met" if cew["accuracy"] >= 0.98 else "**not met**"
        lines += [f"Target per-eye accuracy ≥ 98 % on the CEW test split: {met} "
                  f"({100 * cew['accuracy']:.2f} % with the fusion; the CNN alone "
                  f"{100 * report['cew_test']['CNN alone']['accuracy']:.2f} %). A CNN retrained "
                  "with ZJU's training people added (60 epochs, same layout) did not beat the "
                  "shipped one on validation, so it was not shipped.", ""]
    lines += ["Limits: the fusion is fitted where the CNN is mostly right, so it trusts the "
              "CNN; the geometry mainly helps through its vetoes (a shut reading with wide-open "
              "lids is can't tell) and under degraded light. Hard laughing squints (lids nearly "
              "shut, iris barely visible) still read closed; the detector misses about 1 % of "
              "the tight CEW face crops (the older studio sets: 2–3 of 382 each; on a flat "
              "background at 190 px, as `train.portraits` makes them, 4 of 764), counted as not "
              "right.", ""]
    lines.append(CARD_END)
    return "\n".join(lines)


def _model_words(report: dict) -> str:
    if report.get("kind") == "boosted_trees":
        params = report.get("params", {})
        return (f"A gradient-boosted tree ensemble ({params.get('trees', '?')} trees of depth "
                f"≤ {params.get('depth', '?')}, exported as node arrays)")
    return "A standardised logistic regression"


def update_card(path: Path, section: str) -> None:
    """Put `section` into the card between its markers (appended the first time)."""
    text = path.read_text() if path.is_file() else ""
    if CARD_BEGIN in text and CARD_END in text:
        before, rest = text.split(CARD_BEGIN, 1)
        after = rest.split(CARD_END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
