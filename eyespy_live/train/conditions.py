"""Accuracy per condition a photographer meets, four ways side by side in one run.

Conditions: the CEW test faces as they are; the open ones tagged by hand (smiling, glasses,
looking down: `labels/cew_conditions.tsv`); and the same test faces re-made as studio
portraits — grayscale, face ~150 px in a 320×243 frame — lit evenly, from one side, dim, or
with the face small (~45 px). Winks are real: the dryeye pair is one man, one scene, eyes
open and shut, so its halves make a wink each way (the open half's eye is really open).

Methods, all on the same eyes: the CNN alone (P ≥ 0.5), the eyelid geometry alone (a
logistic regression on geometry only, fitted like the fusion), the shipped fusion, and the
classic baseline — the six-point eye aspect ratio on the face mesh, threshold fitted on the
fusion's fitting eyes. Intervals: 95 % bootstrap over people (a face's two eyes together).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.train.data import _images, cew_group
from eyespy_live.train.evidence import EvidenceTable, LabelledFace, build_table
from eyespy_live.train.metrics import bootstrap_metrics
from eyespy_live.train.splits import assign_splits

LABELS_FILE = Path(__file__).with_name("labels") / "cew_conditions.tsv"
GEOMETRY_FEATURES = ("openness", "gaze_down", "abs_yaw")
STUDIO_SIZE = (320, 243)  # a small studio portrait


def condition_tags(path: Path = LABELS_FILE) -> dict[str, list[str]]:
    """`OpenFace/<file>` → its hand-given tags."""
    tags = {}
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, tagged = line.partition("\t")
        tags[name.strip()] = [t for t in tagged.strip().split(",") if t]
    return tags


def studio(image: np.ndarray, face_px: int = 150, light: str = "even", gain: float = 1.0,
           seed: int = 0) -> np.ndarray:
    """A tight face crop made into a small grayscale studio portrait (BGR, 3 equal channels)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    face = cv2.resize(gray, (face_px, face_px),
                      interpolation=cv2.INTER_AREA if face_px < gray.shape[0] else cv2.INTER_CUBIC)
    width, height = STUDIO_SIZE
    top, left = (height - face_px) // 2, (width - face_px) // 2
    canvas = cv2.copyMakeBorder(face, max(0, top), max(0, height - face_px - top), max(0, left),
                                max(0, width - face_px - left), cv2.BORDER_REPLICATE)
    canvas = canvas.astype(np.float32)
    if light in ("left", "right"):
        # Light from one side: the far half of the face falls to ~12 % (Yale-style key light).
        ramp = np.linspace(1.25, 0.12, width, dtype=np.float32)
        canvas *= (ramp if light == "left" else ramp[::-1])[None, :]
    canvas *= gain
    if gain < 1.0:
        canvas += np.random.default_rng(seed).normal(0, 4.0, canvas.shape).astype(np.float32)
    out = np.clip(canvas, 0, 255).astype(np.uint8)
    return cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)


def cew_test_faces(data: Path) -> list[tuple[Path, int]]:
    root = Path(data) / "cew" / "faces"
    items = [(p, label) for folder, label in (("ClosedFace", 1), ("OpenFace", 0))
             for p in _images(root / folder)]
    side = assign_splits(np.array([cew_group(p.name) for p, _ in items], dtype=object))
    return [item for item, s in zip(items, side, strict=True) if s == "test"]


def _faces(data: Path, detector, make: Callable[[np.ndarray], np.ndarray],
           keep: Callable[[Path, int], bool] = lambda p, label: True) -> Iterator[LabelledFace]:
    for path, label in cew_test_faces(data):
        if not keep(path, label):
            continue
        image = cv2.imread(str(path))
        if image is None:
            continue
        picture = make(image)
        faces = detector.detect_photo(picture)
        face = max(faces, key=lambda f: f.box[2]) if faces else None
        yield picture, face, (label, label), cew_group(path.name), \
            f"cew/faces/{path.parent.name}/{path.name}"


def _enlarged(image: np.ndarray) -> np.ndarray:
    return cv2.resize(image, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)


def wink_pictures(data: Path) -> list[tuple[str, np.ndarray, tuple[int, int]]]:
    """Real winks from the dryeye pair: each half of the face from one of the two photos,
    the closed photo registered onto the open one by its eye positions (same man, scene)."""
    root = Path(data) / "photos" / "dryeye_pair"
    opened = cv2.imread(str(root / "eyes_open.jpg"))
    shut = cv2.imread(str(root / "eyes_closed.jpg"))
    if opened is None or shut is None:
        return []
    from eyespy_live.vision.faces import create_detector

    detector = create_detector("blazeface")
    fo, fs = detector.detect_photo(opened), detector.detect_photo(shut)
    if not fo or not fs:
        return []
    src = np.float32(max(fs, key=lambda f: f.box[2]).eyes)
    dst = np.float32(max(fo, key=lambda f: f.box[2]).eyes)
    matrix, _ = cv2.estimateAffinePartial2D(src, dst)
    if matrix is None:
        return []
    aligned = cv2.warpAffine(shut, matrix, (opened.shape[1], opened.shape[0]),
                             borderMode=cv2.BORDER_REPLICATE)
    middle = int(round((dst[0, 0] + dst[1, 0]) / 2))
    blend = np.clip((np.arange(opened.shape[1]) - middle + 8) / 16.0, 0, 1)[None, :, None]
    left_shut = (aligned * (1 - blend) + opened * blend).astype(np.uint8)
    right_shut = (opened * (1 - blend) + aligned * blend).astype(np.uint8)
    return [("dryeye wink, image-left eye shut", left_shut, (1, 0)),
            ("dryeye wink, image-right eye shut", right_shut, (0, 1))]


def _winks(data: Path, detector) -> Iterator[LabelledFace]:
    for name, picture, labels in wink_pictures(data):
        for variant, image in (("colour", picture), ("studio", _as_studio_photo(picture))):
            faces = detector.detect_photo(image)
            face = max(faces, key=lambda f: f.box[2]) if faces else None
            yield image, face, labels, "photo:dryeye", f"{name} ({variant})"


def _as_studio_photo(picture: np.ndarray) -> np.ndarray:
    """A whole photo as a small grayscale portrait (320 px wide)."""
    scale = STUDIO_SIZE[0] / picture.shape[1]
    small = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def condition_sets(data: Path, tags: dict[str, list[str]] | None = None) -> dict[str, Callable]:
    """Condition name → function(detector) yielding its labelled faces."""
    tags = condition_tags() if tags is None else tags

    def tagged(tag: str) -> Callable[[Path, int], bool]:
        return lambda p, label: label == 0 and tag in tags.get(f"OpenFace/{p.name}", [])

    return {
        "CEW test (enlarged 4×)": lambda d: _faces(data, d, _enlarged),
        "smiling (open, by hand)": lambda d: _faces(data, d, _enlarged, tagged("smiling")),
        "glasses (open, by hand)": lambda d: _faces(data, d, _enlarged, tagged("glasses")),
        "looking down (open, by hand)": lambda d: _faces(data, d, _enlarged,
                                                         tagged("looking_down")),
        "studio: grayscale 320×243": lambda d: _faces(data, d, studio),
        "studio: light from the left": lambda d: _faces(data, d, lambda i: studio(i, light="left")),
        "studio: light from the right": lambda d: _faces(data, d,
                                                         lambda i: studio(i, light="right")),
        "studio: dim (×0.3, noise)": lambda d: _faces(data, d, lambda i: studio(i, gain=0.3)),
        "studio: small face (45 px)": lambda d: _faces(data, d, lambda i: studio(i, face_px=45)),
        "wink (real, dryeye pair)": lambda d: _winks(data, d),
    }


def ear_threshold(table: EvidenceTable, field: str = "mesh_ear") -> float:
    """The threshold on `field` with the best accuracy on `table` (closed: below it)."""
    ear = table.raw[:, list(_fields()).index(field)]
    best, best_acc = 0.2, -1.0
    for t in np.unique(np.round(ear, 3)):
        acc = float(((ear < t) == table.labels.astype(bool)).mean())
        if acc > best_acc:
            best, best_acc = float(t), acc
    return best


def _fields() -> tuple[str, ...]:
    from eyespy_live.vision.fusion import RAW_FIELDS

    return RAW_FIELDS


def method_scores(table: EvidenceTable, fusion, geometry,
                  ear_t: dict[str, float]) -> dict[str, np.ndarray]:
    """P(closed)-like scores of each method for every eye of `table`.

    Two EAR baselines: the six-point EAR on the face mesh alone (what "FaceMesh + EAR"
    tools compute; this mesh barely moves its lid points, so it is near chance), and the
    EAR of the iris model's lid contour (the refined landmarks).
    """
    rows = table.rows()
    mesh = np.array([r["mesh_ear"] for r in rows])
    contour = np.array([r["aspect"] for r in rows])
    return {
        "CNN alone": np.array([r["cnn"] for r in rows]),
        "geometry alone": np.array([geometry.p_closed_raw(r) for r in rows]),
        "fusion (shipped)": np.array([fusion.p_closed_raw(r) for r in rows]),
        "EAR, mesh": np.where(mesh < ear_t["mesh_ear"], 1.0, 0.0),
        "EAR, iris-model lids": np.where(contour < ear_t["aspect"], 1.0, 0.0),
    }


def evaluate_conditions(data: Path, fusion, geometry, ear_t: dict[str, float], model, landmarker,
                        detector, rounds: int = 300) -> list[dict]:
    """Per condition and method: per-eye accuracy with its interval."""
    out = []
    for name, make in condition_sets(data).items():
        table = build_table(make(detector), name, model, landmarker)
        if not len(table):
            continue
        row = {"condition": name, "eyes": len(table), "closed": int(table.labels.sum()),
               "methods": {}}
        for method, scores in method_scores(table, fusion, geometry, ear_t).items():
            m = bootstrap_metrics(table.labels, scores, table.groups.astype(object),
                                  rounds=rounds)
            row["methods"][method] = {"accuracy": m["accuracy"], "ci": m["ci"]["accuracy"]}
        out.append(row)
    return out


def format_conditions(rows: list[dict]) -> str:
    if not rows:
        return ""
    methods = list(rows[0]["methods"])
    lines = ["| condition | eyes (closed) | " + " | ".join(methods) + " |",
             "|---|---|" + "---|" * len(methods)]
    for row in rows:
        cells = []
        for method in methods:
            m = row["methods"][method]
            ci = m["ci"]
            cells.append(f"{100 * m['accuracy']:.1f} %" + (
                f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else ""))
        lines.append(f"| {row['condition']} | {row['eyes']} ({row['closed']}) | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- photo verdicts

def studio_photos(data: Path) -> dict[str, list[tuple[str, np.ndarray, int]]]:
    """Photo sets for the product's verdicts: the CEW test faces as small grayscale studio
    portraits in four lightings (label 1: eyes closed), and the real winks (label 2)."""
    faces = [(p, label, cv2.imread(str(p))) for p, label in cew_test_faces(data)]
    faces = [(p, label, image) for p, label, image in faces if image is not None]
    sets: dict[str, list[tuple[str, np.ndarray, int]]] = {}
    for title, make in (
        ("studio portraits, even light", lambda i, n: studio(i)),
        ("studio portraits, light from one side (alternating)",
         lambda i, n: studio(i, light="left" if n % 2 else "right")),
        ("studio portraits, dim", lambda i, n: studio(i, gain=0.3)),
    ):
        sets[title] = [(f"{p.parent.name}/{p.name}", make(image, n), label)
                       for n, (p, label, image) in enumerate(faces)]
    winks = []
    for name, picture, _ in wink_pictures(data):
        winks += [(name, picture, 2), (name + " (studio)", _as_studio_photo(picture), 2)]
    sets["winks (real, dryeye pair)"] = winks
    return sets


def summarise_photo_verdicts(verdicts: list[dict]) -> dict:
    """Right = keep for open photos, closed (retake) for shut ones and for winks — the
    default `blink.photo_wink`; "check" is counted as not right (a photographer has to
    look), and so is a wink sent to check, though only a kept wink is a lost retake."""
    def right(v: dict) -> bool:
        return v["verdict"] == ("closed" if v["label"] else "keep")

    opened = [v for v in verdicts if v["label"] == 0]
    found = [v for v in verdicts if v["faces"]]
    return {
        "photos": len(verdicts), "right": sum(right(v) for v in verdicts),
        "with_face": len(found), "right_with_face": sum(right(v) for v in found),
        "open_photos": len(opened),
        "false_closed": sum(v["verdict"] == "closed" for v in opened),
        "check": sum(v["verdict"] == "check" for v in verdicts),
        "winks_kept": sum(v["verdict"] == "keep" for v in verdicts if v["label"] == 2),
        "winks_check": sum(v["verdict"] == "check" for v in verdicts if v["label"] == 2),
        "wrong": [v["photo"] for v in verdicts if not right(v)][:40],
    }


def photo_verdict_report(data: Path, model_path: Path) -> list[dict]:
    """Each photo set through the product path twice: the CNN alone and with geometry."""
    from eyespy_live.train.photo_verdicts import face_photos, product_photo_verdicts
    from eyespy_live.train.portraits import portrait_sets

    real = [(n, i, label) for n, i, label in face_photos(data) if label in (0, 1)]
    sets = {"real photos (face_recognition_open, web_misc, dlib, dryeye)": real,
            **portrait_sets(data), **studio_photos(data)}
    rows = []
    for title, photos in sets.items():
        row = {"set": title}
        for method, geometry in (("CNN alone", False), ("with geometry + fusion", True)):
            row[method] = summarise_photo_verdicts(
                product_photo_verdicts(photos, model_path, geometry=geometry))
        rows.append(row)
    return rows


def format_photo_verdicts(rows: list[dict]) -> str:
    lines = ["| photos | CNN alone: right (of those with a face found) / false closed / check / "
             "winks kept (to check) | with geometry + fusion: the same |",
             "|---|---|---|"]
    for row in rows:
        cells = []
        for method in ("CNN alone", "with geometry + fusion"):
            m = row[method]
            share = 100 * m["right"] / max(1, m["photos"])
            found = 100 * m["right_with_face"] / max(1, m["with_face"])
            cells.append(f"{m['right']}/{m['photos']} = {share:.1f} % ({m['right_with_face']}/"
                         f"{m['with_face']} = {found:.1f} %) / {m['false_closed']} of "
                         f"{m['open_photos']} / {m['check']} / {m['winks_kept']}"
                         f" ({m.get('winks_check', 0)})")
        lines.append(f"| {row['set']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
