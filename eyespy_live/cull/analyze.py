"""One photo file in, one JSON-ready result record out (run inside a worker process).

Opening, checking and decoding the file is `eyespy_live.photos` (one decode, shared with the
tether and hot folder); the face and eye analysis is `decision.shot`. This module adds
what culling needs on top: the cull verdict, a sharpness score per face, and a small
thumbnail plus enlarged crops of the faces to look at, written into the output folder for
the contact sheet. Any failure on one file becomes an `unreadable` record;
it never stops the run.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from eyespy_live.cull.verdict import UNREADABLE, VERDICT_NAMES
from eyespy_live.decision.blink import BlinkSettings
from eyespy_live.decision.shot import (  # noqa: F401 - judgeable: re-exported
    MIN_FACE_PX,
    analyze_loaded_photo,
    eye_factor,
    judgeable,
)
from eyespy_live.files import write_atomic
from eyespy_live.photos.load import LoadedPhoto, PhotoError, load, open_photo
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import Face, FaceDetector

log = logging.getLogger(__name__)

THUMB_SIDE = 360
CROP_SIDE = 240
SHARP_BAND_PX = 96  # the eye band is resized to this width before measuring sharpness


@dataclass
class Engine:
    """What each worker builds once: the detector, the eye model and the settings."""

    detector: FaceDetector
    model: EyeStateModel
    settings: BlinkSettings
    min_face_score: float
    root: Path  # the session folder; records name photos relative to it
    media_dir: Path | None  # where thumbnails and crops go (None: don't make them)


def media_key(relpath: str) -> str:
    stem = Path(relpath).stem[:40]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)
    return f"{safe}-{hashlib.sha1(relpath.encode()).hexdigest()[:10]}"


def analyze_file(engine: Engine, relpath: str, size: int, mtime_ns: int) -> dict[str, Any]:
    """The result record for one photo; never raises for a bad file."""
    started = time.perf_counter()
    record: dict[str, Any] = {"path": relpath, "size": size, "mtime_ns": mtime_ns}
    try:
        record.update(_analyze(engine, engine.root / relpath, relpath))
    except PhotoError as exc:
        record.update(verdict=UNREADABLE, reason=str(exc), faces=[], attention=[])
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop a 600-photo run
        log.debug("analysis of %s failed", relpath, exc_info=True)
        record.update(
            verdict=UNREADABLE, reason=f"could not be analysed: {exc}", faces=[], attention=[]
        )
    record["seconds"] = round(time.perf_counter() - started, 4)
    return record


def _analyze(engine: Engine, path: Path, relpath: str) -> dict[str, Any]:
    photo = open_photo(path)
    loaded = load(photo)
    verdict = analyze_loaded_photo(
        loaded, engine.detector, engine.model, engine.settings, engine.min_face_score
    )
    # The verdict the tether and the hot folder publish for this file (decision.shot), under
    # cull's folder name: never decided again here.
    faces = verdict.faces
    name, reason, attention = VERDICT_NAMES[verdict.verdict], verdict.reason, verdict.attention
    face_records = []
    for face in faces:
        entry = face.to_json()
        entry["sharpness"] = _sharpness(loaded, face.box)
        face_records.append(entry)
    result: dict[str, Any] = {
        "verdict": name,
        "reason": reason,
        "attention": attention,
        "faces": face_records,
        "width": loaded.scale.full_size[0],
        "height": loaded.scale.full_size[1],
        "origin": photo.origin,
        "orientation": photo.orientation,
    }
    if engine.media_dir is not None:
        try:
            result.update(_media(engine.media_dir, relpath, loaded, faces, attention))
        except OSError as exc:
            # An output problem (a full disk), not a verdict on the photo: the parent decides.
            result["media_error"] = [exc.errno or 0, exc.strerror or str(exc)]
    return result


def _sharpness(loaded: LoadedPhoto, box: tuple[int, int, int, int]) -> float | None:
    """Variance of the Laplacian over the upper-middle face band (eyes, brows), scale-free.

    Focus and motion blur both flatten it; a sharp eye band scores in the hundreds.
    """
    x, y, w, h = box
    if w < 8 or h < 8:
        return None
    full_w = loaded.scale.full_size[0]
    factor = eye_factor(_box_face(box), loaded.scale.factor) if loaded.data is not None else 1
    gray = loaded.gray(factor if loaded.data is not None else loaded.scale.factor)
    k = gray.shape[1] / full_w
    x0, x1 = int(max(0, x * k)), int(min(gray.shape[1], (x + w) * k))
    y0, y1 = int(max(0, (y + 0.15 * h) * k)), int(min(gray.shape[0], (y + 0.55 * h) * k))
    if x1 - x0 < 8 or y1 - y0 < 4:
        return None
    band = gray[y0:y1, x0:x1]
    scale = SHARP_BAND_PX / band.shape[1]
    band = cv2.resize(
        band, (SHARP_BAND_PX, max(4, round(band.shape[0] * scale))), interpolation=cv2.INTER_AREA
    )
    return round(float(cv2.Laplacian(band, cv2.CV_64F).var()), 1)


def _box_face(box: tuple[int, int, int, int]) -> Face:
    """A stand-in face for choosing a decode scale: eyes ~40 % of the box apart."""
    x, y, w, h = box
    return Face(box, 1.0, ((x + 0.3 * w, y + 0.4 * h), (x + 0.7 * w, y + 0.4 * h)))


def _media(
    media_dir: Path, relpath: str, loaded: LoadedPhoto, faces: list, attention: list[int]
) -> dict[str, Any]:
    key = media_key(relpath)
    image = loaded.image
    h, w = image.shape[:2]
    scale = min(1.0, THUMB_SIDE / max(h, w))
    thumb = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), cv2.INTER_AREA)
    thumb_name = f"{key}.jpg"
    _write_jpeg(media_dir / thumb_name, thumb)
    crops = {}
    k = w / loaded.scale.full_size[0]
    for face in faces:
        if face.id not in attention:
            continue
        crop = _face_crop(image, face.box, k)
        if crop is None:
            continue
        crop_name = f"{key}-face{face.id}.jpg"
        _write_jpeg(media_dir / crop_name, crop)
        crops[str(face.id)] = crop_name
    return {"thumb": thumb_name, "crops": crops}


def _face_crop(image: np.ndarray, box: tuple[int, int, int, int], k: float) -> np.ndarray | None:
    """The face with a margin, enlarged to CROP_SIDE wide (so closed eyes are easy to see)."""
    x, y, w, h = (v * k for v in box)
    mx, my = 0.25 * w, 0.25 * h
    x0, y0 = int(max(0, x - mx)), int(max(0, y - my))
    x1, y1 = int(min(image.shape[1], x + w + mx)), int(min(image.shape[0], y + h + my))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    region = image[y0:y1, x0:x1]
    scale = CROP_SIDE / region.shape[1]
    size = (CROP_SIDE, max(1, round(region.shape[0] * scale)))
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(region, size, interpolation=interpolation)


def _write_jpeg(path: Path, image: np.ndarray) -> None:
    """Through a fresh temporary file renamed into place: the names are predictable, and
    anyone who can write the output folder could plant a link there."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 82])
    if ok:
        write_atomic(path, data.tobytes())
