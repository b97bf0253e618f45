"""Per-eye evidence tables: every labelled face through the runtime's own measurements.

Each labelled face goes through the runtime code (`vision.fusion.measure_eyes`: detector,
CNN, mesh, iris, CNN on the mesh-placed crop), so the fusion (`train.fusion`) learns from
exactly what it will be given. One row per eye: the raw evidence, its label, the group it is
split by (one person / source photo / video) and where it came from. Tables are cached as
`.npz`, because a detector and three networks per face make them slow to build.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.train.data import _images, cew_group
from eyespy_live.train.splits import assign_splits
from eyespy_live.vision.eyecrop import REASON_TOO_SMALL, eye_patches, to_gray
from eyespy_live.vision.faces import Face
from eyespy_live.vision.fusion import EXTRA_FIELDS, RAW_FIELDS, measure_eyes

log = logging.getLogger(__name__)


@dataclass
class EvidenceTable:
    """One row per eye: raw evidence fields, label, split group, source, name."""

    raw: np.ndarray  # float [N, len(RAW_FIELDS)]
    labels: np.ndarray  # int [N]
    groups: np.ndarray  # str [N]
    sources: np.ndarray  # str [N]
    names: np.ndarray  # str [N]
    extra: np.ndarray | None = None  # float [N, len(EXTRA_FIELDS)], NaN where not measured

    def __len__(self) -> int:
        return int(len(self.labels))

    def subset(self, m: np.ndarray) -> EvidenceTable:
        return EvidenceTable(self.raw[m], self.labels[m], self.groups[m], self.sources[m],
                             self.names[m], None if self.extra is None else self.extra[m])

    def rows(self, extra: tuple[str, ...] | None = None) -> list[dict[str, float]]:
        """Raw fields per row, and the EXTRA_FIELDS named in `extra` (None: all of them;
        naming few keeps this fast on 800 extra columns)."""
        rows = [dict(zip(RAW_FIELDS, r, strict=True)) for r in self.raw.tolist()]
        if self.extra is not None and extra != ():
            names = EXTRA_FIELDS if extra is None else extra
            cols = self.extra[:, [EXTRA_FIELDS.index(f) for f in names]]
            for row, e in zip(rows, cols.tolist(), strict=True):
                row.update(zip(names, e, strict=True))
        return rows

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, raw=self.raw, labels=self.labels, groups=self.groups.astype(str),
                            sources=self.sources.astype(str), names=self.names.astype(str),
                            fields=np.array(RAW_FIELDS),
                            **({} if self.extra is None else {
                                "extra": self.extra.astype(np.float32),
                                "extra_fields": np.array(EXTRA_FIELDS)}))

    @staticmethod
    def load(path: Path) -> EvidenceTable | None:
        """The cached table, or None when it was made with other fields (rebuild it); a
        table without EXTRA_FIELDS loads with `extra` None."""
        with np.load(path, allow_pickle=False) as z:
            if tuple(z["fields"].tolist()) != RAW_FIELDS:
                return None
            # A table made before the richer evidence still serves fusions without it
            # (`fit_projection` asks for a rebuild); one with other extra fields does not.
            extra = None
            if "extra" in z:
                if tuple(z["extra_fields"].tolist()) != EXTRA_FIELDS:
                    return None
                extra = z["extra"].astype(np.float64)
            return EvidenceTable(z["raw"], z["labels"], z["groups"], z["sources"], z["names"],
                                 extra)

    @staticmethod
    def concat(tables: list[EvidenceTable]) -> EvidenceTable:
        tables = [t for t in tables if len(t)]
        if not tables:
            return EvidenceTable(np.zeros((0, len(RAW_FIELDS))), np.zeros(0, int),
                                 np.zeros(0, str), np.zeros(0, str), np.zeros(0, str),
                                 np.zeros((0, len(EXTRA_FIELDS))))
        extra = None if any(t.extra is None for t in tables) else np.concatenate(
            [t.extra for t in tables])
        return EvidenceTable(*(np.concatenate([getattr(t, k) for t in tables])
                               for k in ("raw", "labels", "groups", "sources", "names")), extra)


# A labelled face: the image, which face, per-eye labels (image-left, image-right).
LabelledFace = tuple[np.ndarray, Face | None, tuple[int | None, int | None], str, str]


def _largest(faces: list[Face]) -> Face | None:
    return max(faces, key=lambda f: f.box[2] * f.box[3]) if faces else None


def cew_faces(data: Path, detector, upscale: int = 4) -> Iterator[LabelledFace]:
    """CEW face crops, enlarged as `train.data.load_cew_faces` does (both eyes one label)."""
    root = Path(data) / "cew" / "faces"
    for folder, label in (("ClosedFace", 1), ("OpenFace", 0)):
        for path in _images(root / folder):
            image = cv2.imread(str(path))
            if image is None:
                continue
            big = cv2.resize(image, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
            yield big, _largest(detector.detect(big)), (label, label), cew_group(path.name), \
                f"cew/faces/{folder}/{path.name}"


def cew_studio(data: Path, detector) -> Iterator[LabelledFace]:
    """The CEW faces outside the test split re-made as small grayscale studio portraits,
    two lightings each (even, from the left or right, dim, or a small face), so the fusion
    also learns from pictures where the CNN is less sure than on the faces it trained on.
    The CEW test people are left out: `conditions` evaluates them in the same styles."""
    from eyespy_live.train.conditions import studio

    styles = (
        lambda i: studio(i), lambda i: studio(i, light="left"),
        lambda i: studio(i, light="right"), lambda i: studio(i, gain=0.3),
        lambda i: studio(i, face_px=60),
    )  # fmt: skip
    root = Path(data) / "cew" / "faces"
    items = [(p, label) for folder, label in (("ClosedFace", 1), ("OpenFace", 0))
             for p in _images(root / folder)]
    side = assign_splits(np.array([cew_group(p.name) for p, _ in items], dtype=object))
    for number, ((path, label), s) in enumerate(zip(items, side, strict=True)):
        image = cv2.imread(str(path)) if s != "test" else None
        if image is None:
            continue
        for k in (number % 5, (number + 2) % 5):
            picture = styles[k](image)
            yield picture, _largest(detector.detect_photo(picture)), (label, label), \
                cew_group(path.name), f"cew/faces/{path.parent.name}/{path.name}#style{k}"


def focus_webcam(data: Path, detector, every: int = 2) -> Iterator[LabelledFace]:
    """Every `every`-th labelled frame of the focus_webcam videos (one person, glasses)."""
    root = Path(data) / "video" / "focus_webcam"
    for video in sorted(root.glob("*.avi")):
        labels_path = video.with_name(video.stem + "_ideal.csv")
        if not labels_path.is_file():
            continue
        labels = [int(float(v)) for v in re.split(r"[,\s]+", labels_path.read_text()) if v.strip()]
        capture = cv2.VideoCapture(str(video))
        index = 0
        while index < len(labels):
            ok, frame = capture.read()
            if not ok:
                break
            # Closed frames are rare (3 %): keep every one of them, thin out the open ones.
            if labels[index] or index % every == 0:
                yield frame, _largest(detector.detect(frame)), (labels[index],) * 2, \
                    f"video:{video.stem}", f"{video.name}#{index}"  # fmt: skip
            index += 1
        capture.release()


def dryeye_pair(data: Path, detector) -> Iterator[LabelledFace]:
    root = Path(data) / "photos" / "dryeye_pair"
    for name, label in (("eyes_open.jpg", 0), ("eyes_closed.jpg", 1)):
        image = cv2.imread(str(root / name))
        if image is not None:
            yield image, _largest(detector.detect_photo(image)), (label, label), \
                "photo:dryeye", f"photos/dryeye_pair/{name}"


def zju_faces(data: Path, detector, every: int = 2) -> Iterator[LabelledFace]:
    """ZJU clips (12 people, glasses, an upward view), every `every`-th decoded frame with
    per-eye labels aligned by `train.zju` (closed = marked fully closed; open = no blink
    near; unsure frames left out). Group `zju:<person>`; `fusion_splits` keeps the fixed
    ZJU split (its held-out people are test)."""
    from eyespy_live.train import zju

    for clip in zju.zju_clips(data):
        decoded = zju.decode_clip(clip.video)
        labels = zju.aligned_labels(clip, decoded)
        for index, image in enumerate(decoded.frames):
            wanted = tuple(zju.eye_label(labels, index, eye, 1) for eye in (0, 1))
            closed = any(w == 1 for w in wanted)
            if all(w is None for w in wanted) or (not closed and index % every):
                continue
            yield image, _largest(detector.detect(image)), wanted, f"zju:{clip.person}", \
                f"zju/{clip.name}#{index}"  # type: ignore[misc]


SOURCES = {"cew_faces": cew_faces, "cew_studio": cew_studio, "focus_webcam": focus_webcam,
           "dryeye": dryeye_pair, "zju": zju_faces}


def build_table(faces: Iterator[LabelledFace], source: str, model, landmarker) -> EvidenceTable:
    raw, extra, labels, groups, sources, names = [], [], [], [], [], []
    for image, face, eye_labels, group, name in faces:
        if face is None:
            continue
        gray = to_gray(image)
        cut = eye_patches(gray, face)
        if cut.unreadable in (REASON_TOO_SMALL, "eye outside the frame"):
            continue
        evidence = measure_eyes(gray, face, model, landmarker, views=True)
        for side, ev in enumerate(evidence):
            if eye_labels[side] is None:
                continue
            r = ev.raw()
            raw.append([r[k] for k in RAW_FIELDS])
            e = ev.extra()
            extra.append([e.get(k, np.nan) for k in EXTRA_FIELDS])
            labels.append(eye_labels[side])
            groups.append(group)
            sources.append(source)
            names.append(f"{name}:{'LR'[side]}")
    return EvidenceTable(np.asarray(raw, np.float64).reshape(-1, len(RAW_FIELDS)),
                         np.asarray(labels, int), np.asarray(groups, str),
                         np.asarray(sources, str), np.asarray(names, str),
                         np.asarray(extra, np.float64).reshape(-1, len(EXTRA_FIELDS)))


def load_tables(data: Path, cache: Path, sources: list[str], detector=None, model=None,
                landmarker=None) -> EvidenceTable:
    """Every requested source's evidence table, cached as `fusion_<source>.npz`."""
    from eyespy_live.vision.eyestate import EyeStateModel
    from eyespy_live.vision.faces import create_detector
    from eyespy_live.vision.landmarks import FaceLandmarker

    tables = []
    for source in sources:
        path = Path(cache) / f"fusion_{source}.npz"
        cached = EvidenceTable.load(path) if path.is_file() else None
        if cached is not None:
            tables.append(cached)
            continue
        detector = detector or create_detector("blazeface")
        model = model or EyeStateModel()
        landmarker = landmarker or FaceLandmarker(embed=True)
        table = build_table(SOURCES[source](data, detector), source, model, landmarker)
        log.info("fusion evidence %s: %d eyes (%d closed)", source, len(table),
                 int(table.labels.sum()))
        table.save(path)
        tables.append(table)
    return EvidenceTable.concat(tables)
