"""Photo verdicts through the product's own path, and the photo sets they are scored on.

`product_photo_verdicts` sends each photo through exactly what `eyespy cull` and a tethered
shot run (the still-photo face search, the eye judgement, the one verdict per photo), so the
figures in the model card are what a photographer would be told: keep, closed or check.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from eyespy_live.train import data as datamod
from eyespy_live.train.splits import assign_splits

# Photos whose faces are all open (as far as can be seen); the two dlib photos with
# nearly-closed eyes (laughing, grimace) are left out of the labelled set.
OPEN_PHOTO_DIRS = ("photos/face_recognition_open", "photos/web_misc", "photos/dlib_groups")
AMBIGUOUS_PHOTOS = {"2008_007676.jpg", "2008_002506.jpg"}
# Images with no face at all: the right answer is "check: no face found", not an eye verdict.
NO_FACE_PHOTOS = {"cat.jpg", "potato.jpg", "dogs.jpg"}
NO_FACE = -1  # the label of such a photo


def face_photos(data: Path) -> list[tuple[str, np.ndarray, int | None]]:
    """(name, image, label-or-None) for the photo-level check. Label: any closed face; None
    for an ambiguous photo; NO_FACE for an image without a face."""
    photos = []
    for rel in OPEN_PHOTO_DIRS:
        folder = Path(data) / rel
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.suffix.lower() not in datamod.IMAGE_SUFFIXES:
                continue
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                label = (None if path.name in AMBIGUOUS_PHOTOS
                         else NO_FACE if path.name in NO_FACE_PHOTOS else 0)
                photos.append((f"{rel}/{path.name}", image, label))
    pair = Path(data) / "photos" / "dryeye_pair"
    for name, label in (("eyes_open.jpg", 0), ("eyes_closed.jpg", 1)):
        image = cv2.imread(str(pair / name))
        if image is not None:
            photos.append((f"photos/dryeye_pair/{name}", image, label))
    return photos


def product_photo_verdicts(photos, model: Path, geometry: bool = True) -> list[dict]:
    """Each photo through the product's own photo path, as `cull` and a tethered shot see it.

    The detector's still-photo search, each eye read at the scale it needs, the photo
    thresholds of the default config, faces under 40 px "can't tell": the verdict is keep,
    closed or check, exactly what a photographer would be shown. `geometry` False: the CNN
    alone (the judgement before eyelid geometry), for comparison in the same run.
    """
    from eyespy_live.config import load
    from eyespy_live.cull.analyze import judgeable
    from eyespy_live.cull.verdict import cull_verdict
    from eyespy_live.decision.configured import blink_settings, build_detector
    from eyespy_live.decision.judge import EyeJudge
    from eyespy_live.decision.shot import analyze_loaded_photo
    from eyespy_live.photos.load import LoadedPhoto, PhotoScale
    from eyespy_live.vision.eyestate import EyeStateModel

    config = load(None)
    detector, settings = build_detector(config), blink_settings(config)
    eyes = EyeJudge.default(EyeStateModel(model), geometry=geometry)
    out = []
    for name, image, label in photos:
        loaded = LoadedPhoto(image, PhotoScale(1, (image.shape[1], image.shape[0])), None)
        verdict = analyze_loaded_photo(loaded, detector, eyes, settings,
                                       config.vision.min_face_score)
        faces = [judgeable(f) for f in verdict.faces]
        said, reason, _ = cull_verdict(faces, eyes.wink)
        out.append({"photo": name, "label": label, "verdict": said, "reason": reason,
                    "faces": len(faces), "states": [f.state for f in faces]})
    return out


def summarise_verdicts(verdicts: list[dict]) -> dict:
    """Right / wrong among the photos given a keep-or-closed verdict; "check" counted apart,
    and images without a face counted on their own (right when nothing was judged)."""
    no_face = [v for v in verdicts if v["label"] == NO_FACE]
    labelled = [v for v in verdicts if v["label"] is not None and v["label"] != NO_FACE]
    judged = [v for v in labelled if v["verdict"] in ("keep", "closed")]
    right = sum((v["verdict"] == "closed") == bool(v["label"]) for v in judged)
    return {"n": len(labelled), "judged": len(judged), "right": int(right),
            "check": len(labelled) - len(judged),
            "no_face": len(no_face),
            "no_face_right": sum(v["verdict"] == "check" for v in no_face),
            "accuracy_judged": right / max(1, len(judged)),
            "accuracy_all": right / max(1, len(labelled)),
            "wrong": [v["photo"] for v in judged if (v["verdict"] == "closed") != bool(v["label"])]}


def cew_test_face_photos(data: Path, upscale: int = 4) -> list[tuple[str, np.ndarray, int]]:
    """The CEW test split's 100×100 faces, enlarged as a camera would show them."""
    root = Path(data) / "cew" / "faces"
    items = [(path, label) for folder, label in (("ClosedFace", 1), ("OpenFace", 0))
             for path in datamod._images(root / folder)]
    split = assign_splits(np.array([datamod.cew_group(p.name) for p, _ in items], dtype=object))
    photos = []
    for (path, label), side in zip(items, split, strict=True):
        image = cv2.imread(str(path)) if side == "test" else None
        if image is not None:
            big = cv2.resize(image, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
            photos.append((f"cew/faces/{path.parent.name}/{path.name}", big, label))
    return photos
