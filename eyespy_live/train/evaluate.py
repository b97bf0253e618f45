"""Evaluate a .tflite eye-state model: held-out CEW, cross-dataset sets, photos, baseline.

    python -m eyespy_live.train.evaluate [--model models/eye_state_int8.tflite]
        [--data ../shared/data] [--folder DIR] [--html misclassified.html]

Without `--folder` it evaluates the standard sets (the person-disjoint CEW test split, the
web close-up test split, the labelled webcam video and the EyeBlink8 clips — never trained
on — and photo-level verdicts on face photos), with the Haar-eye baseline in the same run.
`--folder DIR` evaluates any folder holding `open/` and `closed/` image subfolders (or any
folders whose names say open / closed, like CEW's `closedLeftEyes`, `OpenFace`): eye crops
resized to 24×24, or face photos whose eyes our detector cuts (`--kind`). Needs no
TensorFlow.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import logging
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.train import data as datamod
from eyespy_live.train.infer import HaarEyeBaseline, TFLiteScorer
from eyespy_live.train.metrics import bootstrap_metrics, format_metrics, point_metrics
from eyespy_live.train.photo_verdicts import (
    cew_test_face_photos,
    face_photos,
    product_photo_verdicts,
    summarise_verdicts,
)
from eyespy_live.train.robustness import robustness
from eyespy_live.train.splits import assign_splits
from eyespy_live.vision.eyecrop import eye_patches, to_gray
from eyespy_live.vision.faces import Face

log = logging.getLogger(__name__)

TRAIN_SOURCES = ("cew_patches", "cew_faces", "web_closeups")
HELD_OUT_SOURCES = ("focus_webcam", "eyeblink8")


def default_cache() -> Path:
    return Path.home() / ".cache" / "eyespy_train"


# ---------------------------------------------------------------- per-eye sets

def standard_sets(data: Path, cache_dir: Path | None) -> dict[str, datamod.PatchSet]:
    """Named evaluation sets of eye patches."""
    everything = datamod.load_all(data, TRAIN_SOURCES + HELD_OUT_SOURCES, cache_dir=cache_dir)
    split = assign_splits(everything.groups)
    cew = np.isin(everything.sources, ["cew_patches", "cew_faces", "cew_faces_annot"])
    sets = {
        "cew_test_patches": everything.subset((split == "test")
                                              & (everything.sources == "cew_patches")),
        "cew_test_our_crops": everything.subset((split == "test") & cew
                                                & (everything.sources != "cew_patches")),
        "web_closeups_test": everything.subset((split == "test")
                                               & (everything.sources == "web_closeups")),
        "cross_focus_webcam": everything.subset(everything.sources == "focus_webcam"),
        "cross_eyeblink8_frames": everything.subset(everything.sources == "eyeblink8"),
        "val_all": everything.subset((split == "val") & np.isin(everything.sources,
                                                               list(TRAIN_SOURCES)
                                                               + ["cew_faces_annot"])),
    }
    return sets


def folder_label(name: str) -> int | None:
    """1 / 0 from a folder's name: `closed`, `ClosedFace`, `closedLeftEyes`, `open`, …"""
    lowered = name.lower()
    return 1 if "closed" in lowered else 0 if "open" in lowered else None


def labelled_folders(root: Path) -> list[tuple[Path, int]]:
    """Every folder under `root` (itself included) whose name says open or closed."""
    found = []
    for folder in [Path(root), *sorted(p for p in Path(root).rglob("*") if p.is_dir())]:
        label = folder_label(folder.name)
        if label is not None:
            found.append((folder, label))
    return found


def folder_set(folder: Path, kind: str = "auto", detector=None) -> tuple[datamod.PatchSet, dict]:
    """Eye patches from a labelled folder, and counts of what could not be used.

    `kind` "eyes": each image is one eye (a dataset patch or close-up), framed like our crop.
    "faces": each image is a face photo; our detector and eye crop cut both eyes, as the live
    pipeline would (faces under ~400 px are enlarged first); where no face is found, CEW's
    `EyeCoordinatesInfo_<folder>.txt` beside the folder places the crops if present, else the
    photo is counted, not guessed. "auto": folders whose name mentions "face" hold faces.
    """
    rows: list[tuple] = []
    skipped = {"unreadable": 0, "no_face": 0, "eyes_unreadable": 0, "eyes_from_annotation": 0}
    for sub, label in labelled_folders(folder):
        as_faces = kind == "faces" or (kind == "auto" and "face" in sub.name.lower())
        coordinates = sub.parent / f"EyeCoordinatesInfo_{sub.name}.txt"  # CEW's layout
        annotated = datamod.read_cew_eye_coordinates(coordinates) if coordinates.is_file() else {}
        for path in sorted(sub.iterdir()):
            if path.suffix.lower() not in datamod.IMAGE_SUFFIXES:
                continue
            image = cv2.imread(str(path))
            if image is None:
                skipped["unreadable"] += 1
                continue
            name = f"{sub.relative_to(folder)}/{path.name}"
            if not as_faces:
                rows.append((datamod.closeup_patch(image, pad=0.0), label, name, "folder", name))
                continue
            if detector is None:
                from eyespy_live.vision.faces import create_detector

                detector = create_detector("blazeface")
            scale = max(1.0, 400.0 / min(image.shape[:2]))
            big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
            face = datamod.largest_face(detector, big)
            if face is None and path.name in annotated:  # the dataset's own eye centres
                (lx, ly), (rx, ry) = annotated[path.name]
                eyes = ((lx * scale, ly * scale), (rx * scale, ry * scale))
                face = Face((0, 0, big.shape[1], big.shape[0]), 0.0, eyes)
                skipped["eyes_from_annotation"] += 1
            if face is None:
                skipped["no_face"] += 1
                continue
            cut = eye_patches(to_gray(big), face)
            if cut.unreadable:
                skipped["eyes_unreadable"] += 1
                continue
            for side, patch in zip("LR", cut.patches, strict=True):
                rows.append((patch, label, name, "folder_faces", f"{name}:{side}"))
    return datamod.PatchSet.build(rows), skipped


# ---------------------------------------------------------------- frame / clip / photo

def bootstrap_groups(patches: datamod.PatchSet) -> np.ndarray:
    """Resampling unit: the split group, except for video, where it is the frame.

    Two videos are too few units for a bootstrap; a frame keeps its two eyes together.
    """
    video = np.array([str(g).startswith("video:") for g in patches.groups])
    frames = np.array([str(n).rsplit(":", 1)[0] for n in patches.names], dtype=object)
    return np.where(video, frames, patches.groups)


def frame_level(patches: datamod.PatchSet, scores: np.ndarray) -> tuple[np.ndarray, ...]:
    """Join the two eyes of a frame (name `...#index:L/R`): mean P(closed), frame label."""
    frames: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(patches.names.tolist()):
        frames[name.rsplit(":", 1)[0]].append(i)
    keys = sorted(frames)
    mean = np.array([scores[frames[k]].mean() for k in keys])
    labels = np.array([patches.labels[frames[k]].max() for k in keys])
    groups = np.array([patches.groups[frames[k][0]] for k in keys], dtype=object)
    return mean, labels, groups, np.array(keys, dtype=object)


def clip_recall(patches: datamod.PatchSet, scores: np.ndarray, threshold: float) -> dict:
    """EyeBlink8: a clip's blink is seen when any frame's two-eye mean reaches threshold."""
    mean, _, _, keys = frame_level(patches, scores)
    clips: dict[str, float] = defaultdict(float)
    for key, value in zip(keys.tolist(), mean.tolist(), strict=True):
        clip = key.rsplit("#", 1)[0]
        clips[clip] = max(clips[clip], value)
    seen = sum(v >= threshold for v in clips.values())
    return {"clips": len(clips), "blinks_seen": int(seen),
            "recall": seen / len(clips) if clips else float("nan")}


def cew_face_photo_verdicts(sets: dict, scores: dict, threshold: float) -> tuple:
    """Face-level verdicts on the CEW test faces (each face photo: mean of its two eyes)."""
    crops = sets["cew_test_our_crops"]
    mean, labels, groups, _ = frame_level(crops, scores["cew_test_our_crops"])
    return mean, labels, groups


# ---------------------------------------------------------------- html

def misclassified_html(path: Path, entries: list[tuple[str, datamod.PatchSet, np.ndarray]],
                       threshold: float, limit: int = 300) -> int:
    parts = ["<!doctype html><meta charset=utf-8><title>eyespy: misclassified eye crops</title>",
             "<style>body{font-family:sans-serif} figure{display:inline-block;margin:4px;"
             "width:120px;font-size:11px;vertical-align:top} img{width:96px;"
             "image-rendering:pixelated}</style>",
             f"<h1>Misclassified eye crops (threshold {threshold:.2f})</h1>"]
    total = 0
    for title, patches, scores in entries:
        wrong = np.flatnonzero((scores >= threshold) != patches.labels.astype(bool))
        wrong = wrong[np.argsort(-np.abs(scores[wrong] - patches.labels[wrong]))][:limit]
        total += len(wrong)
        parts.append(f"<h2>{html.escape(title)}: {len(wrong)} shown</h2>")
        for i in wrong:
            ok, png = cv2.imencode(".png", patches.patches[i])
            b64 = base64.b64encode(png.tobytes()).decode()
            truth = "closed" if patches.labels[i] else "open"
            parts.append(f"<figure><img src='data:image/png;base64,{b64}'><figcaption>"
                         f"truth {truth}, P(closed)={scores[i]:.2f}<br>"
                         f"{html.escape(str(patches.names[i]))}</figcaption></figure>")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(parts))
    return total


# ---------------------------------------------------------------- thresholds

def choose_thresholds(labels: np.ndarray, scores: np.ndarray, miss: float = 0.01) -> dict:
    """Two thresholds from validation scores (never the test split).

    t_open: at most `miss` of closed eyes score below it (called open);
    t_closed: at most `miss` of open eyes score above it (called closed).
    Between them is the half-closed / can't-tell band.
    """
    labels = labels.astype(bool)
    t_open = float(np.quantile(scores[labels], miss)) if labels.any() else 0.3
    t_closed = float(np.quantile(scores[~labels], 1 - miss)) if (~labels).any() else 0.7
    t_open = float(np.clip(t_open, 0.05, 0.5))
    t_closed = float(np.clip(t_closed, 0.5, 0.95))
    return {"t_open": round(t_open, 3), "t_closed": round(t_closed, 3)}


def band_summary(labels: np.ndarray, scores: np.ndarray, t_open: float, t_closed: float) -> dict:
    labels = labels.astype(bool)
    middle = (scores >= t_open) & (scores < t_closed)
    sure = ~middle
    wrong = sure & ((scores >= t_closed) != labels)
    return {"n": int(len(labels)), "in_band": int(middle.sum()),
            "band_fraction": float(middle.mean()) if len(labels) else float("nan"),
            "accuracy_outside_band": float(1 - wrong.sum() / max(1, sure.sum()))}


# ---------------------------------------------------------------- the full run

def evaluate_all(model: Path, data: Path, cache_dir: Path | None, html_path: Path | None,
                 float_model: Path | None = None, threshold: float = 0.5,
                 rounds: int = 1000, photos: bool = True, baseline: bool = True) -> dict:
    sets = standard_sets(data, cache_dir)
    scorer = TFLiteScorer(model)
    report: dict = {"model": str(model), "threshold": threshold, "sets": {}}
    int8_scores = {name: scorer.score(s.patches) for name, s in sets.items()}
    float_scores = {}
    if float_model is not None and Path(float_model).is_file():
        fscorer = TFLiteScorer(float_model)
        float_scores = {name: fscorer.score(s.patches) for name, s in sets.items()}
    haar = HaarEyeBaseline() if baseline else None

    per_eye = ["cew_test_patches", "cew_test_our_crops", "web_closeups_test",
               "cross_focus_webcam"]
    for name in per_eye:
        s = sets[name]
        groups = bootstrap_groups(s)
        entry = {"int8": bootstrap_metrics(s.labels, int8_scores[name], groups, threshold,
                                           rounds)}
        if name in float_scores:
            entry["float"] = point_metrics(s.labels, float_scores[name], threshold)
        if haar is not None:
            entry["haar_baseline"] = bootstrap_metrics(s.labels, haar.score(s.patches), groups,
                                                       0.5, rounds)
        report["sets"][name] = entry

    # CEW test, both kinds of crop together: the headline figure
    both = datamod.PatchSet.concat([sets["cew_test_patches"], sets["cew_test_our_crops"]])
    both_scores = np.concatenate([int8_scores["cew_test_patches"],
                                  int8_scores["cew_test_our_crops"]])
    report["sets"]["cew_test_all"] = {"int8": bootstrap_metrics(both.labels, both_scores,
                                                                both.groups, threshold, rounds)}
    if float_scores:
        fb = np.concatenate([float_scores["cew_test_patches"],
                             float_scores["cew_test_our_crops"]])
        report["sets"]["cew_test_all"]["float"] = point_metrics(both.labels, fb, threshold)

    # webcam video per frame (both eyes averaged)
    fw = sets["cross_focus_webcam"]
    mean, labels, groups, _ = frame_level(fw, int8_scores["cross_focus_webcam"])
    report["sets"]["cross_focus_webcam_frames"] = {
        "int8": bootstrap_metrics(labels, mean, None, threshold, rounds)}

    # EyeBlink8 clip-level recall
    eb = sets["cross_eyeblink8_frames"]
    report["sets"]["cross_eyeblink8_clips"] = {
        "int8": clip_recall(eb, int8_scores["cross_eyeblink8_frames"], threshold)}
    if haar is not None:
        report["sets"]["cross_eyeblink8_clips"]["haar_baseline"] = clip_recall(
            eb, haar.score(eb.patches), 0.5)

    # thresholds from validation only
    val = sets["val_all"]
    thresholds = choose_thresholds(val.labels, int8_scores["val_all"])
    report["thresholds"] = thresholds
    report["band"] = {
        name: band_summary(sets[name].labels, int8_scores[name], **thresholds)
        for name in per_eye
    }

    # photo level: CEW test faces + real photos
    mean, labels, groups = cew_face_photo_verdicts(sets, int8_scores, threshold)
    report["sets"]["photo_cew_test_faces"] = {
        "int8": bootstrap_metrics(labels, mean, groups, threshold, rounds)}
    if photos:
        real = product_photo_verdicts(face_photos(data), model)
        cew_faces = product_photo_verdicts(cew_test_face_photos(data), model)
        report["photos"] = {"real": summarise_verdicts(real),
                            "cew_test_faces": summarise_verdicts(cew_faces),
                            "verdicts": real}

    if html_path is not None:
        entries = [(name, sets[name], int8_scores[name]) for name in per_eye]
        report["misclassified_html"] = str(html_path)
        report["misclassified_count"] = misclassified_html(html_path, entries, threshold)
    # the CEW test eyes again under fixed degradations: where the model is weak
    report["robustness"] = robustness(both.patches, both.labels, scorer.score, threshold)
    if haar is not None:
        report["robustness_haar_clean_accuracy"] = point_metrics(
            both.labels, haar.score(both.patches), 0.5)["accuracy"]
    report["speed"] = scorer.microseconds_per_eye()
    report["model_bytes"] = Path(model).stat().st_size
    return report


def print_report(report: dict, out=sys.stdout) -> None:
    print(f"model: {report['model']}  ({report.get('model_bytes', 0)} bytes)", file=out)
    for name, entry in report["sets"].items():
        m = entry["int8"]
        if "accuracy" not in m:
            print(f"{name}: int8 blink clips seen {m['blinks_seen']}/{m['clips']}"
                  f" = {100 * m['recall']:.2f}%", file=out)
            if "haar_baseline" in entry:
                b = entry["haar_baseline"]
                print(f"  Haar-eye baseline: {b['blinks_seen']}/{b['clips']}"
                      f" = {100 * b['recall']:.2f}%", file=out)
            continue
        print(format_metrics(f"{name} [int8]", m), file=out)
        if "float" in entry:
            f = entry["float"]
            print(f"  float model: accuracy {100 * f['accuracy']:.2f}%  AUC "
                  f"{100 * f['roc_auc']:.2f}%  F1 {100 * f['f1']:.2f}%", file=out)
        if "haar_baseline" in entry:
            b = entry["haar_baseline"]
            print(f"  Haar-eye baseline: accuracy {100 * b['accuracy']:.2f}%  F1 "
                  f"{100 * b['f1']:.2f}%  AUC {100 * b['roc_auc']:.2f}%", file=out)
    if "thresholds" in report:
        t = report["thresholds"]
        print(f"thresholds (from validation): t_open {t['t_open']}  t_closed {t['t_closed']}",
              file=out)
        for name, b in report["band"].items():
            print(f"  {name}: {100 * b['band_fraction']:.1f}% in the half-closed band; "
                  f"accuracy outside it {100 * b['accuracy_outside_band']:.2f}%", file=out)
    if "photos" in report:
        for key, title in (("real", "real photos"), ("cew_test_faces", "CEW test faces ×4")):
            p = report["photos"][key]
            print(f"photo verdicts through the product path, {title}: {p['right']}/"
                  f"{p['judged']} judged right = {100 * p['accuracy_judged']:.2f}%; "
                  f"{p['check']} of {p['n']} sent to check", file=out)
            if p.get("no_face"):
                print(f"  images without a face said \"check\": {p['no_face_right']}/"
                      f"{p['no_face']}", file=out)
            for wrong in p["wrong"][:12]:
                print(f"  wrong: {wrong}", file=out)
    if "robustness" in report:
        print("robustness, CEW test eyes under fixed degradations (int8, threshold 0.5):",
              file=out)
        for name, r in report["robustness"].items():
            print(f"  {name:32} accuracy {100 * r['accuracy']:6.2f}%  closed recall"
                  f" {100 * r['recall']:6.2f}%  open called closed"
                  f" {100 * r['false_closed']:5.2f}%  AUC {100 * r['roc_auc']:6.2f}%", file=out)
    if "speed" in report:
        s = report["speed"]
        print(f"speed (ai-edge-litert, 1 thread): invoke {s['invoke_us_median']:.1f} µs/eye "
              f"(best {s['invoke_us_best']:.1f}); with Python I/O {s['with_python_io_us']:.1f}",
              file=out)
    if "misclassified_html" in report:
        print(f"misclassified crops: {report['misclassified_html']}"
              f" ({report['misclassified_count']})", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eyespy_live.train.evaluate",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None,
                        help="int8 .tflite (default: the shipped model)")
    parser.add_argument("--float-model", type=Path, default=None,
                        help="float .tflite of the same network, reported beside int8")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--folder", type=Path, default=None,
                        help="evaluate a folder with open/ and closed/ image subfolders (any"
                             " folder whose name contains open or closed, e.g. CEW's)")
    parser.add_argument("--kind", choices=("auto", "eyes", "faces"), default="auto",
                        help="--folder holds eye crops or face photos (auto: folders named"
                             " *face* hold faces)")
    parser.add_argument("--cache", type=Path, default=default_cache(),
                        help="where detector-cut patches are cached")
    parser.add_argument("--html", type=Path, default=Path("eval_misclassified.html"))
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=1000, help="bootstrap rounds")
    parser.add_argument("--no-photos", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.model is None:
        from eyespy_live.resources import default_eye_model

        args.model = default_eye_model()
    if args.folder is not None:
        patches, skipped = folder_set(args.folder, args.kind)
        if not len(patches):
            print(f"{args.folder}: no labelled images (want folders named open/closed, e.g."
                  " open/, closed/, OpenFace/, closedLeftEyes/)", file=sys.stderr)
            return 2
        scores = TFLiteScorer(args.model).score(patches.patches)
        m = bootstrap_metrics(patches.labels, scores, patches.groups, args.threshold,
                              args.rounds)
        print(format_metrics(f"{args.folder} per eye [int8]", m))
        b = bootstrap_metrics(patches.labels, HaarEyeBaseline().score(patches.patches),
                              patches.groups, 0.5, args.rounds)
        print(format_metrics(f"{args.folder} per eye [Haar-eye baseline]", b))
        if "folder_faces" in set(patches.sources.tolist()):
            mean, labels, groups, _ = frame_level(patches, scores)
            f = bootstrap_metrics(labels, mean, groups, args.threshold, args.rounds)
            print(format_metrics(f"{args.folder} per face, mean of both eyes [int8]", f))
        if any(skipped.values()):
            print("notes: " + ", ".join(f"{v} {k.replace('_', ' ')}"
                                        for k, v in skipped.items() if v))
        n = misclassified_html(args.html, [(str(args.folder), patches, scores)], args.threshold)
        print(f"misclassified crops: {args.html} ({n})")
        return 0
    report = evaluate_all(args.model, args.data, args.cache, args.html, args.float_model,
                          args.threshold, args.rounds, photos=not args.no_photos)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
