"""BlazeFace (Google MediaPipe's face detector) run through the TFLite interpreter.

The weights ship inside eyespy-live (`models/mediapipe/`, MediaPipe's own files, Apache-2.0,
licence beside them), so nothing else is installed and nothing is downloaded. The anchor
decoding below is ours.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.resources import mediapipe_model
from eyespy_live.vision.faces import DetectorUnavailable, Face, FaceDetector, box_iou
from eyespy_live.vision.landmarks import FaceLandmarker
from eyespy_live.vision.tflite import load_interpreter


@dataclass(frozen=True)
class _Variant:
    filename: str
    input_size: int
    # (grid cells per side, anchors per cell) for each output block, in output order
    grids: tuple[tuple[int, int], ...]


_VARIANTS = {
    "short": _Variant("face_detection_short_range.tflite", 128, ((16, 2), (8, 6))),
    "full": _Variant("face_detection_full_range.tflite", 192, ((48, 1),)),
}


def _weights_path(filename: str) -> Path:
    try:
        return mediapipe_model(filename)
    except FileNotFoundError as exc:
        raise DetectorUnavailable(str(exc)) from exc


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` resized to width×height: halved by area averaging while that stays above the
    target, then bilinear for the last step (below 2×, so no aliasing).

    Same result as one INTER_AREA resize within a grey level or so, but OpenCV's area resize
    at a fractional ratio (640 → 192 is 3.33×) is its slow generic path: ~4× the time.
    """
    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        h, w = image.shape[:2]
        image = cv2.resize(
            image[: h - h % 2, : w - w % 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA
        )
    enlarging = width > image.shape[1]  # a tiny frame: as before, area interpolation
    interpolation = cv2.INTER_AREA if enlarging else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def brightened(image: np.ndarray) -> np.ndarray:
    """The photo's luminance under a gamma of 0.5 (grey 13 → 58, 64 → 128, 255 stays), as
    grayscale: a face half in deep shadow gets its shape back, a lit one keeps its order.

    One fixed gamma, not tuned: the square root is the usual "lift the shadows" curve."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return _SQRT_LUT[gray]


_SQRT_LUT = np.round(255.0 * np.sqrt(np.arange(256) / 255.0)).astype(np.uint8)


def _anchor_centres(grids: tuple[tuple[int, int], ...]) -> np.ndarray:
    centres = []
    for cells, per_cell in grids:
        ys, xs = np.mgrid[0:cells, 0:cells]
        xy = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(xy, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


# Borders (shares of the photo's long side) around a photo the close-face retry looks at with
# the short-range model. Among the 47 of 764 CEW proxy portraits the full-range passes miss
# (bare crops 190 px tall in a 243 px frame), the short-range model alone at score ≥ 0.6
# finds 42 / 44 / 43 at borders 0 / 0.25 / 0.5; with the mesh check, the three together
# find 40 (`python benchmarks/photo_faces.py`: CEW 717 → 757 of 764 with a face found).
_RETRY_BORDERS = (0.0, 0.25, 0.5)
# A face found only by the retry is kept when the face mesh is at least this sure it is one.
# On 1681 images without a face (single-eye close-ups from web_eye_closeups and CEW's eye
# patches at 240 px, the eyeloop eye video, cat / potato / dogs and their crops) the
# short-range model alone fires on 38–56 at ≥ 0.6 per border (a big eye looks like a close
# face to it); the mesh gives their strongest at most 0.82 (web_eye_closeups/Open/_318.jpg),
# and with every candidate checked none passes (`benchmarks/photo_faces.py --hard`: the same
# 3 of 1681 report a face as before, all from the full-range passes). All 964
# faces ≥ 40 px the full-range passes find in the proxy and real photo sets score ≥ 0.9
# (1st percentile 0.997 on the CEW portraits, 0.946 on the real photos).
_RETRY_PRESENCE = 0.9
# A face narrower than this share of the searched area's side (the photo's long side, then
# a tile's) sends detect_photo to the next, finer grid of tiles.
_TILES_BELOW = 1 / 6
# The grids of tiles, coarse to fine, each tile's side a share of the photo's long side.
# The full-range model finds faces down to ~16 px of its 192 px input; a face of 1/36 of the
# long side (a team photo 14 across) is 5 px of a whole-photo pass, 9 px of a 0.6 tile, 18 px
# of a 0.3 tile and 36 px of a 0.15 tile. A finer grid runs only where the coarser search
# found faces under 1/6 of its side (a group: smaller faces are likely), and never with
# tiles smaller than the detector's input (it would only find faces too small to judge;
# the first, 2×2 grid runs as it always has, on any photo).
TILE_SHARES = (0.6, 0.3, 0.15)
# With no face found at all, this many grids are searched; from this grid on (the finest,
# ~70 passes on a 24 MP shot's reduced decode: ~0.3 s) it takes two small faces, a group,
# not one person in a full-length shot, to search finer.
_NO_FACE_GRIDS = 2
_GROUP_GRID_FROM = 2
# Neighbouring tiles of the finer grids overlap by this share of a tile: a face a grid is
# there for (under 1/6 of the coarser grid's tile) then lies whole in some tile.
_TILE_OVERLAP = 1 / 3
# A face narrower than this share of the photo's long side (under ~50 of the 192 input
# pixels) is found again in a region around it, for eye points that sit on the eyes.
_REFINE_BELOW = 1 / 4


class BlazeFaceDetector(FaceDetector):
    name = "blazeface"
    description = (
        "MediaPipe BlazeFace (full-range by default, or short-range) with eye keypoints; "
        "weights shipped in models/mediapipe (Apache-2.0)"
    )

    def __init__(
        self,
        variant: str = "full",
        min_score: float = 0.6,
        nms_iou: float = 0.3,
        pad_small_faces: bool = True,
        num_threads: int = 1,
        tile_shares: tuple[float, ...] = TILE_SHARES,
    ):
        if variant not in _VARIANTS:
            raise ValueError(f"blazeface variant must be one of {sorted(_VARIANTS)}")
        self.variant = _VARIANTS[variant]
        self.min_score = min_score
        self.nms_iou = nms_iou
        self.pad_small_faces = pad_small_faces
        self.tile_shares = tile_shares  # detect_photo's grids of tiles, coarse to fine
        self._interpreter = load_interpreter(_weights_path(self.variant.filename), num_threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = sorted(self._interpreter.get_output_details(), key=lambda d: int(d["shape"][-1]))
        self._scores_out, self._boxes_out = outputs[0]["index"], outputs[1]["index"]
        self._anchors = _anchor_centres(self.variant.grids)
        self._short: BlazeFaceDetector | None = None
        self._landmarker: FaceLandmarker | None = None

    def detect(self, image: np.ndarray) -> list[Face]:
        faces = self._detect_letterboxed(image, border=0.0)
        if not faces and self.pad_small_faces:
            # A face that fills the frame is larger than BlazeFace's anchors expect;
            # surrounding it with a border as wide as the image brings it back into range
            # (CEW's tight 100×100 face crops: found in 70 % with half that border, 96 %).
            faces = self._detect_letterboxed(image, border=1.0)
        return faces

    def detect_photo(self, image: np.ndarray, thorough: bool = False) -> list[Face]:
        """The whole photo, then finer and finer grids of tiles for faces too small for one pass.

        BlazeFace sees the photo at 192×192, so a face under ~1/15 of the photo's width (the
        back row of a group) is lost; in a tile it is larger. A grid of 2×2 tiles (0.6 of the
        long side) costs four more passes, so it is skipped when the whole-photo pass shows
        only large faces (a headshot or a portrait: anyone small behind the subject is not
        who the photo is of), unless `thorough` (every grid). No face at all, or any face
        under 1/6 of the long side, means tiles; no face there either, or a face under 1/6 of
        a tile's side, means the finer grid (tiles 0.3 of the long side, ~15 passes); two such
        faces there (a big group) mean the finest (0.15, `TILE_SHARES`). Each face under 1/4
        of the long side is then found once more in a region around it (`_refine`) for eye
        points a photo's eye crop can rely on. A photo with no face found at all gets one
        more look for a face filling the frame (`_close_face_retry`).
        """
        return self._photo_faces(image, thorough) or self._close_face_retry(image)

    def _photo_faces(self, image: np.ndarray, thorough: bool) -> list[Face]:
        """The full-range search of `detect_photo`: whole photo, tiles, refinement."""
        faces = self.detect(image)
        long_side = max(image.shape[:2])
        searched = long_side  # the side of the last area searched: the photo, then a tile
        for level, share in enumerate(self.tile_shares):
            if faces:
                small = sum(f.box[2] < searched * _TILES_BELOW for f in faces)
                finer = small >= (2 if level >= _GROUP_GRID_FROM else 1)
            else:
                finer = level < _NO_FACE_GRIDS
            side = int(long_side * share)
            if not (finer or thorough) or (level > 0 and side < self.variant.input_size):
                break
            found = self._tile_faces(image, share, level)
            if level > 0:
                # A finer grid adds the faces it was run for; a face already found keeps its
                # box (and so its eye crop and verdict).
                found = [f for f in found if not _overlaps_any(f, faces, self.nms_iou)]
            faces += found
            searched = side
        if not faces:
            return []
        return [self._refine(image, f) for f in _strongest_faces(faces, self.nms_iou)]

    def _tile_faces(self, image: np.ndarray, share: float, level: int) -> list[Face]:
        """Faces found in the tiles of one grid, in photo pixels.

        The first grid is 2×2 tiles of `share` of the photo's width and height, flush with
        its corners. The finer ones are square tiles of `share` of the long side overlapping
        by `_TILE_OVERLAP`, and there a face a tile's inner edge cuts is left to the
        neighbouring tile that holds it whole (a cut face's box is a part of it, which can
        overlap the whole box too little to be merged with it).
        """
        height, width = image.shape[:2]
        if level == 0:
            tile_w, tile_h = int(width * share), int(height * share)
            starts = [(x0, y0) for y0 in (0, height - tile_h) for x0 in (0, width - tile_w)]
        else:
            tile_w = tile_h = int(max(height, width) * share)
            starts = [(x0, y0) for y0 in _tile_starts(height, tile_h)
                      for x0 in _tile_starts(width, tile_w)]
        faces = []
        for x0, y0 in starts:
            tile = image[y0 : y0 + tile_h, x0 : x0 + tile_w]
            for face in self._detect_letterboxed(tile, border=0.0):
                x, y, w, h = face.box
                if level > 0 and _cut_by_inner_edge(
                    (x, y, w, h), (x0, y0, tile.shape[1], tile.shape[0]), (width, height)
                ):
                    continue
                eyes = tuple((ex + x0, ey + y0) for ex, ey in face.eyes)
                faces.append(Face((x + x0, y + y0, w, h), face.score, eyes))  # type: ignore[arg-type]
        return faces

    def _close_face_retry(self, image: np.ndarray) -> list[Face]:
        """Faces the full-range model missed in a photo where it found none, looked for with
        the short-range model (trained on faces near the camera) and kept only where the face
        mesh agrees; then the same on a brightened copy.

        A face that fills a portrait's frame — a tight crop, a close headshot — scores below
        0.6 in every full-range pass (most 0.4–0.6 with a border): too large for its anchors,
        with no head or shoulders around it. Of the 47 CEW proxy faces missed, the full-range
        model at border 0.5 finds 14 (9 on a CLAHE copy); the short-range model finds 40
        (mesh-confirmed). It takes a single large eye for a face too, so the mesh has the
        last word. Runs only on photos with no face found (both looks: ~6–9 ms more there,
        median of 15: cat.jpg 13.1 → 22.4 ms, a 24 MP no-face shot's reduced decode 13.2 →
        21.0 ms); the rest pay nothing.

        Half a face in near-black shadow hides it even from the short-range model: with the
        left half ×0.05 then gamma 1.5 (`benchmarks/photo_faces.py --deep-shadow`), 46 of the
        382 evenly lit CEW portraits stay unfound. On a copy with the luminance brightened
        (`brightened`) it finds 21 of those 46 (mesh-confirmed on that copy; still 0 new
        faces in the 1681 no-face images), and 3 of the 7 the proxy still missed, all three
        then judged right.

        Tried and left out: a CLAHE copy instead (clip 2, 4×4 tiles) found 4 more of the 47
        but also 4 faces in the 1681 images without one (eye close-ups the mesh scored
        0.92–0.99): `python benchmarks/photo_faces.py --hard`, 3 → 7 with a face reported.
        Nor as a third look after both (CLAHE clip 3, 4×4; 2026-12-04): it found 3 of the
        4 side-lit proxy portraits still missed (CEW side light 378 → 381 of 382), but the
        1681 images with a face went 3 → 10 (the new ones' scores 0.60–0.70, mesh 0.91–1.00,
        against 0.68–0.77 and 0.96–0.98 on the three portraits: nothing tells them apart).
        Nor a mirrored copy as a third look, as it is and brightened (2026-12-08): 1 of those
        4 found, and the 1681 images with a face 3 → 5 (two more web eye close-ups).
        """
        found = self._close_faces(image) or self._close_faces(brightened(image))
        return [replace(f, second_look=True) for f in found]

    def _close_faces(self, image: np.ndarray) -> list[Face]:
        """Short-range faces at the detector's score threshold that the mesh confirms."""
        found: list[Face] = []
        for border in _RETRY_BORDERS:
            candidates = [f for f in self._close_up()._detect_letterboxed(image, border=border)
                          if f.score >= self.min_score]
            # Each border's candidate checked, not only the best of the merged ones: the mesh
            # can accept one border's box of a face and turn down another's.
            found += [f for f in candidates if self._mesh().presence(image, f) >= _RETRY_PRESENCE]
        if not found:
            return []
        return _strongest_faces(found, self.nms_iou)

    def _mesh(self) -> FaceLandmarker:
        """MediaPipe's face mesh (shipped beside the detector), loaded on first use."""
        if self._landmarker is None:
            self._landmarker = FaceLandmarker()
        return self._landmarker

    def _refine(self, image: np.ndarray, face: Face) -> Face:
        """The face found again in a region twice its size, where it is ~half the detector's
        input instead of a few pixels of it.

        In a whole-photo pass a face is often 15–30 px of the 192 px input, and its eye points
        can sit on the brows (a smiling face in a group: its eyes then read "closed"). Faces
        already large in the photo are left as they are.
        """
        height, width = image.shape[:2]
        x, y, w, h = face.box
        if w >= max(height, width) * _REFINE_BELOW:
            return face
        side = 2 * max(w, h)
        x0 = max(0, int(x + w / 2 - side / 2))
        y0 = max(0, int(y + h / 2 - side / 2))
        region = image[y0 : y0 + side, x0 : x0 + side]
        own = np.array([x, y, x + w, y + h], np.float32)
        best, best_iou = face, 0.5  # the same face, not a neighbour in the region
        for found in self._close_up()._detect_letterboxed(region, border=0.0):
            fx, fy, fw, fh = found.box
            box = np.array([fx + x0, fy + y0, fx + x0 + fw, fy + y0 + fh], np.float32)
            overlap = _iou(own, box)
            if overlap > best_iou:
                eyes = tuple((ex + x0, ey + y0) for ex, ey in found.eyes)
                box_xywh = (fx + x0, fy + y0, fw, fh)
                best, best_iou = Face(box_xywh, max(face.score, found.score), eyes), overlap  # type: ignore[arg-type]
        return best

    def follow(self, image: np.ndarray, face: Face) -> Face | None:
        """The face found again by the short-range model in a region twice its size.

        ~1 ms a face (the short-range model at 128 px), against ~2.5 ms for a full-range pass
        over the frame. None when no face of about the same size is near the last position.
        """
        height, width = image.shape[:2]
        x, y, w, h = face.box
        side = int(2 * max(w, h))
        cx, cy = face.center
        x0 = int(min(max(0, cx - side / 2), max(0, width - side)))
        y0 = int(min(max(0, cy - side / 2), max(0, height - side)))
        region = image[y0 : y0 + side, x0 : x0 + side]
        if region.shape[0] < 16 or region.shape[1] < 16:
            return None
        best, best_distance = None, 0.5 * max(w, 1)  # within half a face width of the last centre
        for found in self._close_up()._detect_letterboxed(region, border=0.0):
            fx, fy, fw, fh = found.box
            if not 0.6 * w <= fw <= 1.6 * w:
                continue
            distance = float(np.hypot(fx + x0 + fw / 2 - cx, fy + y0 + fh / 2 - cy))
            if distance < best_distance:
                eyes = tuple((ex + x0, ey + y0) for ex, ey in found.eyes)
                best = Face((fx + x0, fy + y0, fw, fh), found.score, eyes)  # type: ignore[arg-type]
                best_distance = distance
        return best

    def _close_up(self) -> BlazeFaceDetector:
        """The short-range model (128 px input, ~1/3 of full-range's time), for regions a face
        fills: what it was trained for."""
        if self.variant is _VARIANTS["short"]:
            return self
        if self._short is None:
            self._short = BlazeFaceDetector("short", min_score=0.5, pad_small_faces=False)
        return self._short

    def _detect_letterboxed(self, image: np.ndarray, border: float) -> list[Face]:
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        height, width = image.shape[:2]
        side = int(round(max(height, width) * (1.0 + border)))
        left, top = (side - width) // 2, (side - height) // 2
        size = self.variant.input_size
        scale = size / side
        resized = shrink(image, max(1, round(width * scale)), max(1, round(height * scale)))
        canvas = np.zeros((size, size, 3), np.uint8)
        ox, oy = round(left * scale), round(top * scale)
        canvas[oy : oy + resized.shape[0], ox : ox + resized.shape[1]] = resized[:size, :size]
        tensor = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1.0
        self._interpreter.set_tensor(self._input, tensor[None])
        self._interpreter.invoke()
        logits = self._interpreter.get_tensor(self._scores_out)[0, :, 0]
        raw = self._interpreter.get_tensor(self._boxes_out)[0]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -80.0, 80.0)))
        keep = np.flatnonzero(scores >= self.min_score)
        if keep.size == 0:
            return []
        raw = raw[keep] / size
        anchors = self._anchors[keep]
        centres = raw[:, 0:2] + anchors
        half = raw[:, 2:4] / 2.0
        boxes = np.concatenate([centres - half, centres + half], axis=1)
        keypoints = raw[:, 4:8].reshape(-1, 2, 2) + anchors[:, None, :]
        to_pixels = np.array([side, side], np.float32)
        offset = np.array([left, top], np.float32)
        faces = []
        for box, eyes, score in _blend_overlapping(boxes, keypoints, scores[keep], self.nms_iou):
            x0, y0 = box[:2] * to_pixels - offset
            x1, y1 = box[2:] * to_pixels - offset
            eyes = eyes * to_pixels - offset
            faces.append(
                Face(
                    box=(int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))),
                    score=score,
                    eyes=(
                        (float(eyes[0, 0]), float(eyes[0, 1])),
                        (float(eyes[1, 0]), float(eyes[1, 1])),
                    ),
                )
            )
        return faces


def _clusters(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[list[int]]:
    """Indices grouped by face: the strongest remaining box and every box overlapping it by at
    least `iou_threshold`, strongest cluster first, strongest box first within it."""
    order = [int(i) for i in np.argsort(-scores)]
    clusters = []
    while order:
        best = order[0]
        cluster = [i for i in order if i == best or _iou(boxes[best], boxes[i]) >= iou_threshold]
        order = [i for i in order if i not in cluster]
        clusters.append(cluster)
    return clusters


def _blend_overlapping(
    boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou_threshold: float
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """One (box, eye points, score) per face: the score-weighted mean of its cluster.

    Neighbouring anchors each predict the face a little differently; their average is
    steadier than any single one (MediaPipe's own post-processing blends them the same
    way). The eye points matter most: the eye crop follows them.
    """
    out = []
    for cluster in _clusters(boxes, scores, iou_threshold):
        w = scores[cluster][:, None]
        box = (boxes[cluster] * w).sum(axis=0) / w.sum()
        eyes = (keypoints[cluster] * w[:, :, None]).sum(axis=0) / w.sum()
        out.append((box, eyes, float(scores[cluster[0]])))
    return out


def _strongest_faces(faces: list[Face], iou_threshold: float) -> list[Face]:
    """One face per overlapping cluster (several passes see the same face), strongest first."""
    boxes = np.array([[f.box[0], f.box[1], f.box[0] + f.box[2], f.box[1] + f.box[3]]
                      for f in faces], np.float32)
    scores = np.array([f.score for f in faces], np.float32)
    return [faces[i] for i in _nms(boxes, scores, iou_threshold)]


def _nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Indices of the best box in each overlapping cluster, strongest first."""
    return [cluster[0] for cluster in _clusters(boxes, scores, iou_threshold)]


def _tile_starts(length: int, side: int) -> list[int]:
    """Where tiles of `side` px start along a side of `length` px: first and last flush with
    the photo's edges, neighbours overlapping by at least `_TILE_OVERLAP` of a tile."""
    if length <= side:
        return [0]
    step = side * (1.0 - _TILE_OVERLAP)
    count = int(np.ceil((length - side) / step)) + 1
    return [int(round(v)) for v in np.linspace(0, length - side, count)]


def _overlaps_any(face: Face, others: list[Face], iou_threshold: float) -> bool:
    return any(box_iou(face.box, other.box) >= iou_threshold for other in others)


def _cut_by_inner_edge(box: tuple[int, int, int, int], tile: tuple[int, int, int, int],
                       photo: tuple[int, int]) -> bool:
    """Whether a face box (tile pixels) reaches a tile edge that is not the photo's edge."""
    x, y, w, h = box
    x0, y0, tile_w, tile_h = tile
    width, height = photo
    margin = 0.02 * max(tile_w, tile_h)
    return ((x0 > 0 and x < margin) or (y0 > 0 and y < margin)
            or (x0 + tile_w < width and x + w > tile_w - margin)
            or (y0 + tile_h < height and y + h > tile_h - margin))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
