"""Eyelid geometry from MediaPipe's face mesh and iris models, run through our TFLite loader.

The eye-state CNN sees a 24² patch and judges its texture; a smile that narrows the lids, a
glance down or a side-lit face can look "closed" there. Geometry measures what a person
checks: how far apart the lids are compared with the iris (a smile narrows the lids but
leaves the iris showing; a blink covers it), where the iris sits (a downward glance keeps the
iris, under a low upper lid), and where the head points (a turned head can't be judged).

Two models, both Apache-2.0, shipped by MediaPipe (see `resources.py` for the paths):
- `face_landmark.tflite`: 468 points (x, y, z) on a 192² RGB crop of the face, rotated so the
  eyes are level and 1.5 × the detector's box wide; a second output scores face presence;
- `iris_landmark.tflite`: 71 eye-contour points (0–8 lower lid corner to corner, 9–15 upper
  lid) and 5 iris points (centre, then the rim) on a 64² crop 2.3 × the eye's corner
  distance wide; trained on one eye side, so the other eye is mirrored in and out.

Cost, measured on this machine (one thread): mesh ~0.8 ms, iris ~0.65 ms per eye, i.e. one
face ≈ 2 ms, about BlazeFace full-range's 2.2 ms and ~30 × the CNN on both eyes. So the
analyzer runs it only on faces the CNN does not call clearly open (a cascade).

Images are fed as grayscale copied into three channels everywhere (live, photo, training),
so a colour frame and its grayscale photo decode give the same geometry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.vision.faces import Face, Point
from eyespy_live.vision.tflite import interpreter_class, load_interpreter

MESH_SIZE = 192
IRIS_SIZE = 64
MESH_ROI_SCALE = 1.5
IRIS_ROI_SCALE = 2.3
# Transfer features (issue 14): what MediaPipe's own networks compute about an eye, read
# from their last feature maps before the landmark heads, per eye:
# - the iris model's contour branch ("p_re_lu_36", [1, 2, 2, 128]) kept 2 × 2 (upper and
#   lower half of the eye crop stay apart: 512 numbers),
# - its iris branch ("p_re_lu_52", same shape) average-pooled (128),
# - the face mesh's 6 × 6 map ("p_re_lu_14", [1, 6, 6, 128]) sampled at the eye's centre
#   (128): the mesh sees the whole face, cheeks and brows included.
IRIS_EMBED_TENSORS = ("p_re_lu_36", "p_re_lu_52")
MESH_EMBED_TENSOR = "p_re_lu_14"
EMBED_PARTS = {"iris_contour": 512, "iris_iris": 128, "mesh_cell": 128}
IRIS_EMBED_DIM = sum(EMBED_PARTS.values())

# Mesh indices (MediaPipe's canonical face mesh). "A" is the eye on the image's left (the
# subject's right eye), "B" the eye on the image's right.
_CORNERS = ((33, 133), (263, 362))  # (outer, inner) corner of eye A, of eye B
# The classic six-point eye aspect ratio on the mesh: corner, two upper, corner, two lower.
_EAR6 = ((33, 160, 158, 133, 153, 144), (263, 387, 385, 362, 380, 373))
_CHEEKS = (234, 454)  # face contour at the ears' height, image left / right
_NOSE_TIP, _FOREHEAD, _CHIN = 1, 10, 152
_CHEEK_UNDER = (205, 425)  # cheek below each eye (outside any lens)
_MOUTH_CORNERS = (61, 291)  # image left / right
_LIPS_INNER = (13, 14)  # upper / lower lip, inner edge at the middle


def _default_paths() -> tuple[Path, Path]:
    """The mesh and iris model files shipped in models/mediapipe/ (a missing one raises
    FileNotFoundError saying to reinstall: nothing else ever provides them)."""
    from eyespy_live.resources import mediapipe_model

    return mediapipe_model("face_landmark.tflite"), mediapipe_model("iris_landmark.tflite")


@dataclass(frozen=True)
class EyeGeometry:
    """One eye, in frame pixels (contours as float arrays)."""

    outer: Point  # outer corner (mesh)
    inner: Point  # inner corner (mesh)
    lower: np.ndarray  # [9, 2] lower lid, corner to corner (iris model)
    upper: np.ndarray  # [7, 2] upper lid without the corners (iris model)
    iris_centre: Point
    iris_diameter: float  # frame pixels, from the iris rim points
    aperture: float  # lid gap at the eye's middle, frame pixels
    width: float  # corner to corner (iris model contour), frame pixels
    mesh_ear: float  # six-point eye aspect ratio on the mesh alone (the classic EAR baseline)
    gaze_down: float  # iris centre below the corner line, in eye widths (+ = looking down)
    gaze_side: float  # iris centre from the eye's middle along the corner line, eye widths
    luma: float  # mean gray of the eye opening over that of the cheek below it
    texture: float  # gray standard deviation in the eye opening over the cheek's mean
    # Median gray around the eye and in a band under it, over the cheek's median, and how far
    # the darkest twentieth around the eye sits below that median (NaN: not measured): a lens
    # darkens and flattens all of it, highlights or not; an eye in shadow keeps its lashes.
    surround_luma: float = float("nan")
    under_luma: float = float("nan")
    surround_low_spread: float = float("nan")
    below_luma: float = float("nan")  # median of a band further down (0.55–0.7 eye widths)
    # Share of the eye's box (one eye width by half of one) at near-white (≥ 240) while the
    # skin further down is well below that (< 200): a reflection on glasses over the eye (0
    # when the skin is that bright too — a high-key or overexposed face is not glare).
    glare: float = 0.0
    embedding: np.ndarray | None = None  # [IRIS_EMBED_DIM] iris-model features (embed=True)

    @property
    def centre(self) -> Point:
        return ((self.outer[0] + self.inner[0]) / 2.0, (self.outer[1] + self.inner[1]) / 2.0)

    @property
    def openness(self) -> float:
        """Lid gap over iris diameter: ~0.8–1 wide open, ~0.4–0.6 a smile, ≲0.2 closed."""
        return self.aperture / max(self.iris_diameter, 1e-6)

    @property
    def contour_fit(self) -> float:
        """The iris model's eye width over the mesh's corner-to-corner distance: ≈ 0.7–1 when
        both models found the same eye; far below when the iris model lost it (the far eye
        of a profile, an eye glancing hard sideways) and its lids and iris are guesses."""
        corners = float(np.hypot(self.outer[0] - self.inner[0], self.outer[1] - self.inner[1]))
        return self.width / max(corners, 1e-6)

    @property
    def aspect(self) -> float:
        """Lid gap over eye width (the classic eye aspect ratio, from the iris model)."""
        return self.aperture / max(self.width, 1e-6)

    def _frame(self) -> tuple[np.ndarray, np.ndarray]:
        """The middle of the corner line and its downward normal."""
        c0, c1 = self.lower[0], self.lower[8]
        axis = (c1 - c0) / max(float(np.hypot(*(c1 - c0))), 1e-6)
        normal = np.array([-axis[1], axis[0]])
        return (c0 + c1) / 2.0, (normal if normal[1] >= 0 else -normal)

    @property
    def upper_lid(self) -> float:
        """The upper lid's middle below the corner line, in eye widths (− = above it).

        Which lid moved tells a squint from a blink: in a blink the upper lid comes down
        to the corner line (≈ 0 on closed eyes), in a laugh the cheek pushes the lower lid
        up while the upper lid stays raised (≈ −0.07 … −0.2, like an open eye's −0.2)."""
        middle, normal = self._frame()
        return float((self.upper[3] - middle) @ normal) / max(self.width, 1e-6)

    @property
    def iris_below_lid(self) -> float:
        """How far the iris centre sits below the upper lid, in iris diameters: ≳ 0.1 when
        the pupil still shows under the lid (a squint, a glance down), ≈ 0 or less when
        the lid covers it (a closed eye)."""
        _, normal = self._frame()
        offset = np.asarray(self.iris_centre) - self.upper[3]
        return float(offset @ normal) / max(self.iris_diameter, 1e-6)

    @property
    def lower_lid(self) -> float:
        """The lower lid's middle below the corner line, in eye widths (+ = below it)."""
        middle, normal = self._frame()
        return float((self.lower[4] - middle) @ normal) / max(self.width, 1e-6)

    def lid_shape(self) -> np.ndarray:
        """The 16 lid points (9 lower, 7 upper) in the eye's own frame, corner line along x,
        origin at its middle, in eye widths: [32] = x0, y0, x1, y1 … (y + = down). Lid
        curvature, not only the gap: a squint flattens the lower lid, a shut lid bows."""
        middle, normal = self._frame()
        axis = np.array([normal[1], -normal[0]])
        c0, c1 = self.lower[0], self.lower[8]
        if (c1 - c0) @ axis < 0:
            axis = -axis
        pts = np.concatenate([self.lower, self.upper]) - middle
        local = np.stack([pts @ axis, pts @ normal], axis=1) / max(self.width, 1e-6)
        return local.reshape(-1)


@dataclass(frozen=True)
class FaceGeometry:
    eyes: tuple[EyeGeometry, EyeGeometry]  # image-left eye, image-right eye
    presence: float  # the mesh model's face-presence probability
    yaw: float  # degrees, + = face turned towards the image's right
    pitch: float  # degrees, − = face tilted down (chin back), + = tilted up
    mesh: np.ndarray  # [468, 3] frame pixels (z: relative depth, same scale as x)

    @property
    def eye_points(self) -> tuple[Point, Point]:
        """Eye centres from the mesh corners (steadier than the detector's keypoints)."""
        return (self.eyes[0].centre, self.eyes[1].centre)

    def _eye_line(self) -> tuple[float, np.ndarray]:
        a, b = self.mesh[_CORNERS[0][0], :2], self.mesh[_CORNERS[1][0], :2]
        span = max(float(np.hypot(*(b - a))), 1e-6)
        normal = np.array([-(b - a)[1], (b - a)[0]]) / span
        return span, (normal if normal[1] >= 0 else -normal)

    @property
    def mouth_width(self) -> float:
        """Mouth corner to corner over the outer eye corners' distance: ≈ 0.55–0.64 for a
        closed, relaxed mouth, ≳ 0.67 in a broad smile or a laugh."""
        span, _ = self._eye_line()
        left, right = self.mesh[_MOUTH_CORNERS[0], :2], self.mesh[_MOUTH_CORNERS[1], :2]
        return float(np.hypot(*(right - left))) / span

    @property
    def mouth_lift(self) -> float:
        """How far the mouth corners sit above the lips' middle, over the eye corners'
        distance: ≈ 0 for a neutral mouth, ≳ 0.04 when a smile raises the corners."""
        span, normal = self._eye_line()
        middle = (self.mesh[_LIPS_INNER[0], :2] + self.mesh[_LIPS_INNER[1], :2]) / 2.0
        corners = (self.mesh[_MOUTH_CORNERS[0], :2] + self.mesh[_MOUTH_CORNERS[1], :2]) / 2.0
        return float((middle - corners) @ normal) / span

    @property
    def sideways_glance(self) -> float:
        """How far both irises sit towards the same side of the image, in eye widths (the
        smaller of the two; 0 when they point different ways). Eyes move together, so a
        glance shifts both irises alike; a shut eye's iris is a guess that does not follow
        its partner's. (`gaze_side` + points to the nose, so the image-right eye's flips.)"""
        left, right = self.eyes[0].gaze_side, -self.eyes[1].gaze_side
        return min(abs(left), abs(right)) if left * right > 0 else 0.0

    def face(self, box: tuple[int, int, int, int], score: float) -> Face:
        """A `Face` whose eye points come from the mesh, for placing the CNN's eye crop."""
        return Face(box, score, self.eye_points)

    def judged_by(self, side: int) -> FaceGeometry:
        """The same face with eye `side` standing for both: the other eye cannot be read."""
        return replace(self, eyes=(self.eyes[side], self.eyes[side]))


def _roi_matrix(centre: Point, side: float, angle: float, size: int) -> np.ndarray:
    """Affine map from model-input pixels to frame pixels for a rotated square ROI."""
    s = side / size
    c, n = math.cos(angle) * s, math.sin(angle) * s
    half = size / 2.0
    return np.array(
        [[c, -n, centre[0] - half * c + half * n], [n, c, centre[1] - half * n - half * c]],
        np.float64,
    )


def _warp(gray: np.ndarray, to_frame: np.ndarray, size: int) -> np.ndarray:
    """The model input: the ROI of `gray` that `to_frame` maps to, `size`² pixels."""
    scale = math.hypot(to_frame[0, 0], to_frame[1, 0])  # frame pixels per model pixel
    matrix = to_frame
    if scale > 2.0:
        # A large face (a photo): cut the ROI's bounding box out first and shrink only that
        # by area averaging, so nothing aliases and the rest of the image is never touched.
        corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], float)
        frame_corners = corners @ to_frame.T
        x0, y0 = np.floor(frame_corners.min(axis=0)).astype(int) - 1
        x1, y1 = np.ceil(frame_corners.max(axis=0)).astype(int) + 1
        height, width = gray.shape[:2]
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
        if cx1 - cx0 < 2 or cy1 - cy0 < 2:
            return np.zeros((size, size), np.uint8)
        factor = scale / 1.5
        region = gray[cy0:cy1, cx0:cx1]
        small = cv2.resize(region, (max(1, int((cx1 - cx0) / factor)),
                                    max(1, int((cy1 - cy0) / factor))),
                           interpolation=cv2.INTER_AREA)
        fx, fy = small.shape[1] / (cx1 - cx0), small.shape[0] / (cy1 - cy0)
        matrix = to_frame.copy()
        matrix[0] = (to_frame[0] - [0, 0, cx0]) * fx
        matrix[1] = (to_frame[1] - [0, 0, cy0]) * fy
        gray = small
    return cv2.warpAffine(
        gray, matrix, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _apply(to_frame: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points[:, :2] @ to_frame[:, :2].T + to_frame[:, 2]


class FaceLandmarker:
    """Runs the mesh and iris models on one face at a time and measures its eyes."""

    def __init__(
        self, mesh_path: Path | str | None = None, iris_path: Path | str | None = None,
        num_threads: int = 1, embed: bool = False,
    ):  # fmt: skip
        """`embed`: also read the networks' features (`EyeGeometry.embedding`, EMBED_PARTS);
        both interpreters then keep every intermediate tensor (a little slower)."""
        default_mesh, default_iris = _default_paths()
        self._mesh = load_interpreter(mesh_path or default_mesh, num_threads)
        self._iris = load_interpreter(iris_path or default_iris, num_threads)
        self._embed: tuple[int, ...] = ()
        self._mesh_embed = -1
        if embed:
            self._iris = _preserving(Path(iris_path or default_iris), num_threads)
            self._mesh = _preserving(Path(mesh_path or default_mesh), num_threads)
            names = {d["name"]: d["index"] for d in self._iris.get_tensor_details()}
            self._embed = tuple(names[n] for n in IRIS_EMBED_TENSORS)
            self._mesh_embed = {d["name"]: d["index"] for d in
                                self._mesh.get_tensor_details()}[MESH_EMBED_TENSOR]
        self._mesh_in = self._mesh.get_input_details()[0]["index"]
        outs = sorted(self._mesh.get_output_details(), key=lambda d: -int(np.prod(d["shape"])))
        self._mesh_points, self._mesh_score = outs[0]["index"], outs[1]["index"]
        self._iris_in = self._iris.get_input_details()[0]["index"]
        outs = sorted(self._iris.get_output_details(), key=lambda d: -int(np.prod(d["shape"])))
        self._iris_contour, self._iris_points = outs[0]["index"], outs[1]["index"]

    def _run_mesh(self, gray: np.ndarray, face: Face) -> tuple[np.ndarray, float, np.ndarray]:
        (lx, ly), (rx, ry) = face.eyes
        angle = math.atan2(ry - ly, rx - lx)
        x, y, w, h = face.box
        to_frame = _roi_matrix((x + w / 2.0, y + h / 2.0), MESH_ROI_SCALE * max(w, h), angle,
                               MESH_SIZE)
        patch = _warp(gray, to_frame, MESH_SIZE)
        tensor = np.repeat((patch.astype(np.float32) / 255.0)[None, :, :, None], 3, axis=3)
        self._mesh.set_tensor(self._mesh_in, tensor)
        self._mesh.invoke()
        points = self._mesh.get_tensor(self._mesh_points).reshape(-1, 3).astype(np.float64)
        score = float(self._mesh.get_tensor(self._mesh_score).reshape(-1)[0])
        presence = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))
        frame = np.empty_like(points)
        frame[:, :2] = _apply(to_frame, points)
        frame[:, 2] = points[:, 2] * math.hypot(to_frame[0, 0], to_frame[1, 0])
        return frame, presence, points

    def _run_iris(self, gray: np.ndarray, outer: Point, inner: Point, mirror: bool):
        cx, cy = (outer[0] + inner[0]) / 2.0, (outer[1] + inner[1]) / 2.0
        # Level the eye line from the inner corner side to the outer for eye B, the other way
        # for eye A, so both run left→right in image terms before the optional mirror.
        left, right = (outer, inner) if not mirror else (inner, outer)
        angle = math.atan2(right[1] - left[1], right[0] - left[0])
        width = math.hypot(right[0] - left[0], right[1] - left[1])
        to_frame = _roi_matrix((cx, cy), IRIS_ROI_SCALE * max(width, 1.0), angle, IRIS_SIZE)
        if mirror:  # the model knows one eye side: flip the other in, and its points back out
            flip = np.array([[-1.0, 0.0, IRIS_SIZE], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            to_frame = to_frame @ flip
        patch = _warp(gray, to_frame, IRIS_SIZE)
        tensor = np.repeat((patch.astype(np.float32) / 255.0)[None, :, :, None], 3, axis=3)
        self._iris.set_tensor(self._iris_in, tensor)
        self._iris.invoke()
        contour = self._iris.get_tensor(self._iris_contour).reshape(-1, 3)[:16]
        iris = self._iris.get_tensor(self._iris_points).reshape(-1, 3)
        embedding = None
        if self._embed:
            contour_map, iris_map = (self._iris.get_tensor(i) for i in self._embed)
            embedding = np.concatenate([contour_map.reshape(-1),
                                        iris_map.reshape(-1, 128).mean(axis=0)]).astype(
                                            np.float64)
        return _apply(to_frame, contour.astype(np.float64)), _apply(
            to_frame, iris.astype(np.float64)
        ), embedding

    def presence(self, gray: np.ndarray, face: Face) -> float:
        """The mesh model's face-presence probability alone (the mesh, not the iris: ~0.8 ms),
        for a detector that wants a second opinion on a face it is unsure of."""
        if gray.ndim == 3:
            gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
        return self._run_mesh(gray, face)[1]

    def head_pose(self, gray: np.ndarray, face: Face) -> tuple[float, float]:
        """(yaw, pitch) in degrees from the face mesh alone (no iris models): what a live
        face's open frames are measured with now and then, so a closure has a pose before it
        to be compared with."""
        if gray.ndim == 3:
            gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
        _, _, local = self._run_mesh(gray, face)
        return _head_pose(local)

    def measure(self, gray: np.ndarray, face: Face) -> FaceGeometry:
        """Landmarks and eye measurements of one face in a grayscale frame."""
        if gray.ndim == 3:
            gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
        mesh, presence, local = self._run_mesh(gray, face)
        cells = self._mesh.get_tensor(self._mesh_embed)[0] if self._mesh_embed >= 0 else None
        eyes = []
        for side, (outer_i, inner_i) in enumerate(_CORNERS):
            outer, inner = tuple(mesh[outer_i, :2]), tuple(mesh[inner_i, :2])
            contour, iris, embedding = self._run_iris(gray, outer, inner, mirror=side == 1)
            eye = _eye(contour, iris, outer, inner, _ear6(mesh[list(_EAR6[side]), :2]))
            luma, texture = _brightness(gray, eye, mesh[_CHEEK_UNDER[side], :2])
            surround, under, spread, below = _lens_cues(gray, outer, inner,
                                                        mesh[_CHEEK_UNDER[side], :2])
            if embedding is not None and cells is not None:
                centre = (local[outer_i, :2] + local[inner_i, :2]) / 2.0
                embedding = np.concatenate([embedding, _sample(cells, centre / MESH_SIZE)])
            eyes.append(replace(eye, luma=luma, texture=texture, surround_luma=surround,
                                under_luma=under, surround_low_spread=spread, below_luma=below,
                                glare=_glare(gray, outer, inner), embedding=embedding))
        yaw, pitch = _head_pose(local)
        return FaceGeometry((eyes[0], eyes[1]), presence, yaw, pitch, mesh)


def _sample(cells: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Bilinear sample of an [H, W, C] feature map at (x, y) in 0–1 of the model's input."""
    h, w = cells.shape[:2]
    x = float(np.clip(at[0] * w - 0.5, 0, w - 1))
    y = float(np.clip(at[1] * h - 0.5, 0, h - 1))
    x0, y0 = min(int(x), w - 2), min(int(y), h - 2)
    fx, fy = x - x0, y - y0
    top = (1 - fx) * cells[y0, x0] + fx * cells[y0, x0 + 1]
    bottom = (1 - fx) * cells[y0 + 1, x0] + fx * cells[y0 + 1, x0 + 1]
    return ((1 - fy) * top + fy * bottom).astype(np.float64)


def _preserving(path: Path, num_threads: int):
    """An iris interpreter that keeps its intermediate tensors readable after invoke."""
    interpreter = interpreter_class()(model_path=str(path), num_threads=num_threads,
                                      experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    return interpreter


def _ear6(p: np.ndarray) -> float:
    """(|p1-p5| + |p2-p4|) / (2 |p0-p3|) for points corner, upper, upper, corner, lower, lower."""
    def d(a: int, b: int) -> float:
        return float(np.hypot(*(p[a] - p[b])))

    return (d(1, 5) + d(2, 4)) / max(2.0 * d(0, 3), 1e-6)


def _eye(
    contour: np.ndarray, iris: np.ndarray, outer: Point, inner: Point, mesh_ear: float
) -> EyeGeometry:
    lower, upper = contour[:9], contour[9:16]
    c0, c1 = lower[0], lower[8]
    width = float(np.hypot(*(c1 - c0)))
    axis = (c1 - c0) / max(width, 1e-6)
    normal = np.array([-axis[1], axis[0]])
    if normal[1] < 0:  # point "down" in the image
        normal = -normal
    # Gap at the middle: the three central upper points against the matching lower ones.
    gaps = [(lower[k + 1] - upper[k]) @ normal for k in (2, 3, 4)]
    aperture = max(0.0, float(np.mean(gaps)))
    rim = iris[1:5]
    diameter = float(
        (np.hypot(*(rim[0] - rim[2])) + np.hypot(*(rim[1] - rim[3]))) / 2.0
    )
    middle = (c0 + c1) / 2.0
    offset = iris[0] - middle
    return EyeGeometry(
        outer=(float(outer[0]), float(outer[1])),
        inner=(float(inner[0]), float(inner[1])),
        lower=lower, upper=upper,
        iris_centre=(float(iris[0, 0]), float(iris[0, 1])),
        iris_diameter=diameter, aperture=aperture, width=width, mesh_ear=mesh_ear,
        gaze_down=float(offset @ normal) / max(width, 1e-6),
        gaze_side=float(offset @ axis) / max(width, 1e-6),
        luma=1.0, texture=0.0,
    )  # fmt: skip


def _region(gray: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    height, width = gray.shape[:2]
    return gray[max(0, int(y0)):min(height, int(y1) + 1), max(0, int(x0)):min(width, int(x1) + 1)]


def _box_stats(gray: np.ndarray, centre: Point, half_w: float, half_h: float):
    region = _region(gray, centre[0] - half_w, centre[1] - half_h, centre[0] + half_w,
                     centre[1] + half_h)
    if region.size == 0:
        return 0.0, 0.0
    return float(region.mean()), float(region.std())


def _brightness(gray: np.ndarray, eye: EyeGeometry, cheek: np.ndarray) -> tuple[float, float]:
    """How dark and how flat the eye opening is next to the cheek: a dark lens (sunglasses)
    is both much darker than the skin and nearly featureless; an open eye has the bright
    sclera against the iris; a closed lid is skin."""
    half = max(1.0, eye.width * 0.35)
    mean, std = _box_stats(gray, eye.centre, half, max(1.0, half * 0.5))
    skin, _ = _box_stats(gray, (float(cheek[0]), float(cheek[1])), half * 0.6, half * 0.4)
    skin = max(skin, 1.0)
    return mean / skin, std / skin


def _corner_frame(outer: Point, inner: Point) -> tuple[float, float, float]:
    """The eye's width and middle from the mesh's two corners (boxes for the lens and glare
    cues are placed by these, not by the iris model's contour)."""
    width = max(2.0, math.hypot(inner[0] - outer[0], inner[1] - outer[1]))
    return width, (outer[0] + inner[0]) / 2.0, (outer[1] + inner[1]) / 2.0


def _lens_cues(gray: np.ndarray, outer: Point, inner: Point, cheek: np.ndarray
               ) -> tuple[float, float, float, float]:
    """(around the eye, under it, the low spread around it, further below it), over the
    cheek's median gray;
    boxes placed by the mesh's eye corners (the iris model's contour is meaningless on a
    lens). Medians and the lower percentiles, because a lens reflects: a highlight across it
    lifts the mean and the spread of the eye opening (the `luma` / `texture` test misses
    most lenses with one) but not these."""
    width, cx, cy = _corner_frame(outer, inner)
    half = 0.2 * width
    skin = _region(gray, cheek[0] - half, cheek[1] - 0.7 * half, cheek[0] + half,
                   cheek[1] + 0.7 * half)
    around = _region(gray, cx - 0.4 * width, cy - 0.22 * width, cx + 0.4 * width,
                     cy + 0.22 * width)
    under = _region(gray, cx - 0.3 * width, cy + 0.28 * width, cx + 0.3 * width,
                    cy + 0.45 * width)
    below = _region(gray, cx - 0.3 * width, cy + 0.55 * width, cx + 0.3 * width,
                    cy + 0.7 * width)
    if not (skin.size and around.size and under.size):
        return float("nan"), float("nan"), float("nan"), float("nan")
    scale = max(float(np.median(skin)), 1.0)
    low, middle = np.percentile(around, [5, 50])
    # The band further down can leave the frame where the others do not: only it is unmeasured.
    further = float(np.median(below)) / scale if below.size else float("nan")
    return (float(middle) / scale, float(np.median(under)) / scale, float(middle - low) / scale,
            further)


GLARE_GRAY = 240  # near-white: a reflection clips, an eye's own catchlight is a dot
# Skin below the eye this bright is lit nearly as brightly as a reflection would be: a
# high-key or overexposed face (a closed lid there is near-white too), not glare.
BRIGHT_SKIN_GRAY = 200


def _glare(gray: np.ndarray, outer: Point, inner: Point) -> float:
    """Share of near-white pixels over the eye (box placed by the mesh's corners), or 0 where
    the skin below the eye is bright as well. A studio light reflected on glasses covers
    the iris and lids with white, which the CNN reads as a closed lid."""
    width, cx, cy = _corner_frame(outer, inner)
    box = _region(gray, cx - 0.5 * width, cy - 0.25 * width, cx + 0.5 * width, cy + 0.25 * width)
    skin = _region(gray, cx - 0.5 * width, cy + 0.55 * width, cx + 0.5 * width, cy + 0.7 * width)
    if not (box.size and skin.size) or float(np.median(skin)) >= BRIGHT_SKIN_GRAY:
        return 0.0
    return float((box >= GLARE_GRAY).mean())


def _head_pose(local: np.ndarray) -> tuple[float, float]:
    """Yaw and pitch in degrees from the mesh's own 3-D points (eye line already level)."""
    left, right = local[_CHEEKS[0]], local[_CHEEKS[1]]
    across = right - left
    yaw = math.degrees(math.atan2(across[2], across[0]))
    down = local[_CHIN] - local[_FOREHEAD]
    pitch = math.degrees(math.atan2(-down[2], down[1]))
    return yaw, pitch
