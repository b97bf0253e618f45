"""Labelled eye patches from the shared data folder, each tagged with a split group.

Every loader returns a `PatchSet`: uint8 24×24 patches, labels (1 = closed), a group per
patch (the unit that must never be split: one person, one source photo, one video) and a
source name. Where the source is a face photo or a video frame, the patch is cut by the
project's own detector and `eyecrop.eye_patches`, so training sees what inference sees.

No TensorFlow here: this module runs in the runtime environment too (tests, evaluation).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.vision.eyecrop import PATCH_SIZE, eye_patches, to_gray
from eyespy_live.vision.faces import Face

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


@dataclass
class PatchSet:
    patches: np.ndarray  # uint8 [N, 24, 24]
    labels: np.ndarray  # int64 [N], 1 = closed
    groups: np.ndarray  # object [N], split unit ("cew:Aaron_Guiel", "video:mahie_test_1")
    sources: np.ndarray  # object [N], dataset name
    names: np.ndarray = field(default=None)  # object [N], human-readable origin of each patch

    def __post_init__(self) -> None:
        if self.names is None:
            self.names = np.array([""] * len(self.labels), dtype=object)

    def __len__(self) -> int:
        return int(len(self.labels))

    def subset(self, mask_or_index: np.ndarray) -> PatchSet:
        m = mask_or_index
        return PatchSet(self.patches[m], self.labels[m], self.groups[m], self.sources[m],
                        self.names[m])

    @staticmethod
    def build(items: Iterable[tuple[np.ndarray, int, str, str, str]]) -> PatchSet:
        rows = list(items)
        if not rows:
            return PatchSet.empty()
        patches, labels, groups, sources, names = zip(*rows, strict=True)
        return PatchSet(
            np.stack(patches).astype(np.uint8),
            np.asarray(labels, np.int64),
            np.asarray(groups, dtype=object),
            np.asarray(sources, dtype=object),
            np.asarray(names, dtype=object),
        )

    @staticmethod
    def empty() -> PatchSet:
        return PatchSet(np.zeros((0, PATCH_SIZE, PATCH_SIZE), np.uint8), np.zeros(0, np.int64),
                        np.zeros(0, object), np.zeros(0, object), np.zeros(0, object))

    @staticmethod
    def concat(sets: Iterable[PatchSet]) -> PatchSet:
        sets = [s for s in sets if len(s)]
        if not sets:
            return PatchSet.empty()
        return PatchSet(
            np.concatenate([s.patches for s in sets]),
            np.concatenate([s.labels for s in sets]),
            np.concatenate([s.groups for s in sets]),
            np.concatenate([s.sources for s in sets]),
            np.concatenate([s.names for s in sets]),
        )


# ---------------------------------------------------------------- grouping rules (CEW)

_LFW_NAME = re.compile(r"^(?P<person>.+?)_\d{4}")
_CEW_CLOSED = re.compile(r"^(?P<photo>closed_eye_\d+)")


def cew_group(filename: str) -> str:
    """The split unit of a CEW face or eye patch file name.

    Open faces are LFW people (`Aaron_Guiel_0001...` → `Aaron_Guiel`); closed faces are
    `closed_eye_NNNN.<ext>_face_K...` → `closed_eye_NNNN` (one source photo, maybe several
    faces). Both eyes of a face share the face's group.
    """
    stem = Path(filename).name
    closed = _CEW_CLOSED.match(stem)
    if closed:
        return "cew:" + closed.group("photo")
    person = _LFW_NAME.match(stem)
    if person:
        return "cew:" + person.group("person")
    return "cew:" + Path(stem).stem


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _gray_patch(path: Path) -> np.ndarray | None:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        log.warning("unreadable image %s", path)
        return None
    if image.shape != (PATCH_SIZE, PATCH_SIZE):
        image = cv2.resize(image, (PATCH_SIZE, PATCH_SIZE), interpolation=cv2.INTER_AREA)
    return image


# ---------------------------------------------------------------- loaders

def load_cew_patches(data: Path) -> PatchSet:
    """CEW's own pre-cut 24×24 eye patches (`cew/eyes/{closed,open}{Left,Right}Eyes`)."""
    root = Path(data) / "cew" / "eyes"

    def rows() -> Iterator[tuple]:
        for state, label in (("closed", 1), ("open", 0)):
            for side in ("Left", "Right"):
                for path in _images(root / f"{state}{side}Eyes"):
                    patch = _gray_patch(path)
                    if patch is not None:
                        yield patch, label, cew_group(path.name), "cew_patches", path.name

    return PatchSet.build(rows())


def read_cew_eye_coordinates(path: Path) -> dict[str, tuple[tuple[float, float], ...]]:
    coords = {}
    if not path.is_file():
        return coords
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 5:
            lx, ly, rx, ry = (float(v) for v in parts[1:])
            coords[parts[0]] = ((lx, ly), (rx, ry))
    return coords


def _cew_detected_faces(data: Path, detector, upscale: int = 4) -> Iterator[tuple]:
    """(enlarged gray face, Face, label, path, source) for every CEW face crop.

    The 100×100 faces are upscaled (`upscale`×) before detection, as a camera frame would
    show them larger; where the detector finds no face, the dataset's eye coordinates place
    the crop instead (source `cew_faces_annot`), so no person is lost from the split.
    """
    root = Path(data) / "cew" / "faces"
    for folder, label in (("ClosedFace", 1), ("OpenFace", 0)):
        annotated = read_cew_eye_coordinates(root / f"EyeCoordinatesInfo_{folder}.txt")
        for path in _images(root / folder):
            image = cv2.imread(str(path))
            if image is None:
                continue
            big = cv2.resize(image, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
            face, source = None, "cew_faces"
            if detector is not None:
                faces = detector.detect(big)
                if faces:
                    face = max(faces, key=lambda f: f.score * f.box[2] * f.box[3])
            if face is None and path.name in annotated:
                (lx, ly), (rx, ry) = annotated[path.name]
                eyes = ((lx * upscale, ly * upscale), (rx * upscale, ry * upscale))
                face = Face(box=(0, 0, big.shape[1], big.shape[0]), score=0.0, eyes=eyes)
                source = "cew_faces_annot"
            if face is not None:
                yield to_gray(big), face, label, path, source


def load_cew_faces(data: Path, detector=None, upscale: int = 4) -> PatchSet:
    """Eye patches cut from the CEW face crops by our detector and `eye_patches`."""

    def rows() -> Iterator[tuple]:
        for gray, face, label, path, source in _cew_detected_faces(data, detector, upscale):
            cut = eye_patches(gray, face)
            for side, patch in zip("LR", cut.patches, strict=True):
                yield patch, label, cew_group(path.name), source, f"{path.name}:{side}"

    return PatchSet.build(rows())


def load_cew_faces_jitter(data: Path, detector=None, copies: int = 3,
                          wander: float = 0.1) -> PatchSet:
    """Extra training crops of the CEW faces with the detector's eye points moved.

    BlazeFace's eye centres wander by ~0.1 inter-eye distance, so at run time the eye sits
    off-centre, a little bigger or smaller and tilted in its patch. Shifting the 24×24
    patch afterwards (the augmentation) fills the edge with replicated pixels; re-cutting
    from the face shows the real brow, nose and cheek instead. Each eye point moves by up
    to `wander` × inter-eye distance in x and y (a fixed random stream per file); the
    group is the face's, so copies never cross a split. Training only (`train_only`).
    """

    def rows() -> Iterator[tuple]:
        for gray, face, label, path, _ in _cew_detected_faces(data, detector):
            rng = np.random.default_rng(list(hashlib.sha256(path.name.encode()).digest()))
            spread = wander * face.inter_eye_distance
            for copy in range(copies):
                moved = rng.uniform(-spread, spread, (2, 2))
                eyes = tuple((float(x + dx), float(y + dy))
                             for (x, y), (dx, dy) in zip(face.eyes, moved, strict=True))
                cut = eye_patches(gray, Face(face.box, face.score, eyes))
                for side, patch in zip("LR", cut.patches, strict=True):
                    yield (patch, label, cew_group(path.name), "cew_faces_jitter",
                           f"{path.name}#{copy}:{side}")

    return PatchSet.build(rows())


def closeup_patch(image: np.ndarray, pad: float = 0.12) -> np.ndarray:
    """A web eye close-up (eye fills the picture) framed like our eye crop, 24×24 gray.

    Centre square crop, then a replicated border of `pad` × side each way, since our crop
    shows a little more skin around the eye than these close-ups do.
    """
    gray = to_gray(image)
    h, w = gray.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    square = gray[y0 : y0 + side, x0 : x0 + side]
    border = int(round(pad * side))
    if border:
        square = cv2.copyMakeBorder(square, border, border, border, border,
                                    cv2.BORDER_REPLICATE)
    return cv2.resize(square, (PATCH_SIZE, PATCH_SIZE), interpolation=cv2.INTER_AREA)


def load_web_closeups(data: Path) -> PatchSet:
    """`eyes/web_eye_closeups/{Open,Closed}`: many people, no person ids (one group each)."""
    root = Path(data) / "eyes" / "web_eye_closeups"

    def rows() -> Iterator[tuple]:
        for folder, label in (("Closed", 1), ("Open", 0)):
            for path in _images(root / folder):
                image = cv2.imread(str(path))
                if image is None:
                    continue
                yield (closeup_patch(image), label, f"web:{folder}/{path.stem}", "web_closeups",
                       f"{folder}/{path.name}")

    return PatchSet.build(rows())


def _video_frames(path: Path, every: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    capture = cv2.VideoCapture(str(path))
    index = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % every == 0:
                yield index, frame
            index += 1
    finally:
        capture.release()


def largest_face(detector, frame: np.ndarray) -> Face | None:
    """The frame's biggest face: the labelled person in a clip filmed for one."""
    faces = detector.detect(frame)
    if not faces:
        return None
    return max(faces, key=lambda f: f.box[2] * f.box[3])


def frame_eye_patches(detector, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Left and right eye patch of a labelled frame's person, cut as the product cuts them;
    None when no face is found or its eyes cannot be read (the frame then teaches nothing)."""
    face = largest_face(detector, frame)
    if face is None:
        return None
    cut = eye_patches(to_gray(frame), face)
    return None if cut.unreadable else cut.patches


def load_focus_webcam(data: Path, detector, every: int = 1) -> PatchSet:
    """Both eye patches of every (`every`-th) labelled frame of the focus_webcam videos."""
    root = Path(data) / "video" / "focus_webcam"

    def rows() -> Iterator[tuple]:
        for video in sorted(root.glob("*.avi")):
            labels_path = video.with_name(video.stem + "_ideal.csv")
            if not labels_path.is_file():
                continue
            labels = [int(float(v)) for v in re.split(r"[,\s]+", labels_path.read_text())
                      if v.strip()]
            for index, frame in _video_frames(video, every):
                if index >= len(labels):
                    break
                patches = frame_eye_patches(detector, frame)
                if patches is None:
                    continue
                for side, patch in zip("LR", patches, strict=True):
                    yield (patch, labels[index], f"video:{video.stem}", "focus_webcam",
                           f"{video.name}#{index}:{side}")

    return PatchSet.build(rows())


def load_eyeblink8(data: Path, detector, middle_only: bool = False) -> PatchSet:
    """Eye patches of the EyeBlink8 blink clips (label 1: each clip holds one blink).

    A clip runs closing → closed → opening, so not every frame shows a closed eye (many
    middle frames still look open): use these per clip — "was the blink seen in any frame" —
    not as per-frame truth. Names are `EyeBlink8_k/clip.mp4#frame:side`; group: the source
    video. `middle_only` keeps just the middle frame of each clip.
    """
    root = Path(data) / "video" / "eyeblink8_clips"

    def rows() -> Iterator[tuple]:
        for folder in sorted(p for p in root.glob("EyeBlink8_*") if p.is_dir()):
            for clip in sorted(folder.glob("*.mp4")):
                frames = [f for _, f in _video_frames(clip)]
                indices = [len(frames) // 2] if middle_only and frames else range(len(frames))
                for index in indices:
                    patches = frame_eye_patches(detector, frames[index])
                    if patches is None:
                        continue
                    for side, patch in zip("LR", patches, strict=True):
                        yield (patch, 1, f"video:{folder.name}", "eyeblink8",
                               f"{folder.name}/{clip.name}#{index}:{side}")

    return PatchSet.build(rows())


def save_cache(path: Path, patches: PatchSet, meta: dict | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, patches=patches.patches, labels=patches.labels,
                        groups=patches.groups.astype(str), sources=patches.sources.astype(str),
                        names=patches.names.astype(str), meta=json.dumps(meta or {}))


def load_cache(path: Path) -> PatchSet:
    with np.load(path, allow_pickle=False) as z:
        return PatchSet(z["patches"], z["labels"], z["groups"].astype(object),
                        z["sources"].astype(object), z["names"].astype(object))


# ---------------------------------------------------------------- everything at once

ALL_SOURCES = ("cew_patches", "cew_faces", "web_closeups", "focus_webcam", "eyeblink8", "zju",
               "cew_faces_jitter")
# Extra copies of items that are already in the data in their plain form: trained on, never
# validated or tested on (their val / test groups are dropped by the trainer).
TRAIN_ONLY_SOURCES = ("cew_faces_jitter",)


def load_all(data: Path, sources: Iterable[str] = ALL_SOURCES, detector=None,
             cache_dir: Path | None = None) -> PatchSet:
    """Every requested source, each cached as .npz in `cache_dir` (detector runs are slow)."""
    parts = []
    for name in sources:
        cached = Path(cache_dir) / f"{name}.npz" if cache_dir else None
        if cached is not None and cached.is_file():
            parts.append(load_cache(cached))
            continue
        if name in ("cew_faces", "cew_faces_jitter", "focus_webcam", "eyeblink8", "zju") \
                and detector is None:
            from eyespy_live.vision.faces import create_detector

            detector = create_detector("blazeface")
        if name == "cew_patches":
            part = load_cew_patches(data)
        elif name == "cew_faces":
            part = load_cew_faces(data, detector)
        elif name == "cew_faces_jitter":
            part = load_cew_faces_jitter(data, detector)
        elif name == "web_closeups":
            part = load_web_closeups(data)
        elif name == "focus_webcam":
            part = load_focus_webcam(data, detector)
        elif name == "eyeblink8":
            part = load_eyeblink8(data, detector)
        elif name == "zju":  # only the people of ZJU's fixed training side (train.zju)
            from eyespy_live.train.zju import load_zju_patches

            part = load_zju_patches(data, detector, side="train")
        else:
            raise ValueError(f"unknown data source {name!r}; known: {', '.join(ALL_SOURCES)}")
        log.info("loaded %s: %d patches (%d closed)", name, len(part), int(part.labels.sum()))
        if cached is not None:
            save_cache(cached, part)
        parts.append(part)
    return PatchSet.concat(parts)
