"""The ZJU Eyeblink clips: labels aligned to the frames OpenCV decodes, and a fixed split.

The 48 clips (`../shared/data/video/zju/`, 12 people × frontal / thin glasses / black-frame
glasses / camera looking up) come with Eyeblink8-format `.tag` labels, but the AVIs hold
"null" frames (dropped by the capture: ~148 frame slots per clip, of which only ~80–130 carry
a picture), and the annotator's tool counted yet another number of frames (the `.txt` lists
~137). OpenCV skips the null frames, so decoded frame k is *not* tag frame k.

Alignment (measured on all 48 clips with the shipped CNN, see `python -m
eyespy_live.train.zju`): the annotator's frames are spread evenly over the clip's frame
slots, so decoded frame k at slot s (from its timestamp) is annotator frame
round(s · n_annotated / n_slots) + offset, offset mostly 0. The AUC of the CNN's closed
probability against "inside a blink", mean over the 48 clips: decoded index as tag index
0.54 (0.74 with the best offset per clip), a constant slot offset (best per clip, as
ALIGNMENT_CHECK.csv does) 0.85, the even spread with offset 0 0.925, with the per-clip
offset in `ZJU_OFFSETS` (±3, chosen by that AUC, 12 clips move) 0.935. The offsets are
frozen in this file so the labels never move when the CNN is retrained.

Split: the 12 people are fixed into 8 training and 4 held-out people (`ZJU_HELDOUT`: every
third person in id order, 3 men and 1 woman, 56 of the 159 blinks), so blink figures on the
held-out people are on faces no model was trained on.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.evaluation import TagFile, TagFrame, read_tag
from eyespy_live.train.data import PatchSet, frame_eye_patches, largest_face
from eyespy_live.vision.eyecrop import eye_patches, to_gray

log = logging.getLogger(__name__)

__all__ = [
    "TagFile",
    "TagFrame",
    "read_tag",
    "ZjuClip",
    "ZJU_PEOPLE",
    "ZJU_TRAIN",
    "ZJU_HELDOUT",
    "zju_side",
    "zju_clips",
    "decode_clip",
    "align_clip",
    "aligned_labels",
    "load_zju_patches",
]

ZJU_PEOPLE = (
    "000002M", "000004M", "000005M", "000006M", "000007M", "000008M",
    "000009M", "000011M", "000012M", "000013F", "000016F", "000020F",
)
# Every third person in id order (indices 2, 5, 8, 11): fixed, never recomputed.
ZJU_HELDOUT = ("000005M", "000008M", "000012M", "000020F")
ZJU_TRAIN = tuple(p for p in ZJU_PEOPLE if p not in ZJU_HELDOUT)

CONDITIONS = {
    "FNN": "frontal",
    "FTN": "thin glasses",
    "FBN": "black-frame glasses",
    "UNN": "camera looking up",
}

# Per-clip offset (annotator frames) on top of the even spread, chosen by the CNN's closed
# probability AUC (search ±3, ties and gains below 0.01 stay at 0). Clips not listed: 0.
ZJU_OFFSETS: dict[str, int] = {
    "000004M_FBN": -3, "000004M_FNN": 2, "000005M_FBN": 1, "000005M_FNN": 1,
    "000006M_FTN": -2, "000006M_UNN": 2, "000007M_UNN": 1, "000008M_FNN": 1,
    "000011M_FTN": 1, "000012M_FNN": -1, "000016F_FBN": -1, "000020F_FBN": -1,
}

_NAME = re.compile(r"^(?P<person>\d{6}[MF])_(?P<condition>[A-Z]{3})$")


@dataclass(frozen=True)
class ZjuClip:
    video: Path

    @property
    def name(self) -> str:
        return self.video.stem

    @property
    def person(self) -> str:
        match = _NAME.match(self.name)
        return match.group("person") if match else self.name

    @property
    def condition(self) -> str:
        match = _NAME.match(self.name)
        return CONDITIONS.get(match.group("condition"), "?") if match else "?"

    @property
    def tag_path(self) -> Path:
        return self.video.with_suffix(".tag")

    @property
    def times_path(self) -> Path:
        return self.video.with_suffix(".txt")

    @property
    def side(self) -> str:
        return zju_side(self.person)

    def tag(self) -> TagFile:
        return read_tag(self.tag_path)

    def annotated_frames(self) -> int:
        """How many frames the annotator's tool saw (lines of the `.txt` time list)."""
        if self.times_path.is_file():
            lines = [ln for ln in self.times_path.read_text().splitlines() if ln.strip()]
            if lines:
                return len(lines)
        return self.tag().last_frame + 1


def zju_side(person: str) -> str:
    """'train' or 'heldout' for a ZJU person id (e.g. '000005M')."""
    if person in ZJU_HELDOUT:
        return "heldout"
    if person in ZJU_TRAIN:
        return "train"
    raise KeyError(f"not a ZJU person of the shared set: {person!r}")


def zju_clips(data: Path, side: str | None = None) -> list[ZjuClip]:
    """The labelled clips under `data/video/zju`, optionally only one side of the split."""
    root = Path(data) / "video" / "zju"
    clips = [ZjuClip(p) for p in sorted(root.glob("*.avi")) if p.with_suffix(".tag").is_file()]
    if side is not None:
        clips = [c for c in clips if c.side == side]
    return clips


@dataclass
class DecodedClip:
    frames: list[np.ndarray]  # the pictures OpenCV returns, in order
    slots: np.ndarray  # int [N]: the container frame slot of each (null frames skipped)
    n_slots: int  # frame slots in the container, null frames included


def decode_clip(video: Path) -> DecodedClip:
    """Every decoded frame of `video` with its frame slot (from its timestamp)."""
    capture = cv2.VideoCapture(str(video))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
        n_slots = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        frames, slots = [], []
        while True:
            ok, image = capture.read()
            if not ok:
                break
            frames.append(image)
            slots.append(int(round(capture.get(cv2.CAP_PROP_POS_MSEC) * fps / 1000.0)))
    finally:
        capture.release()
    n_slots = max(n_slots, (slots[-1] + 1) if slots else 0)
    return DecodedClip(frames, np.asarray(slots, dtype=int), n_slots)


def tag_indices(slots: np.ndarray, n_slots: int, n_annotated: int, offset: int = 0) -> np.ndarray:
    """Annotator frame index of each decoded frame: the even spread plus a clip offset."""
    return np.round(np.asarray(slots) * (n_annotated / max(1, n_slots))).astype(int) + offset


def _auc(scores: np.ndarray, positive: np.ndarray) -> float:
    pos, neg = scores[positive], scores[~positive]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def alignment_auc(tag: TagFile, indices: np.ndarray, p_closed: np.ndarray) -> float:
    """AUC of per-frame closed probabilities against "inside a blink" at the mapped frames."""
    keep = [i for i, t in enumerate(indices) if t in tag.frames and np.isfinite(p_closed[i])]
    if len(keep) < 10:
        return float("nan")
    positive = np.array([tag.frames[int(indices[i])].in_blink for i in keep])
    return _auc(np.asarray(p_closed)[keep], positive)


def align_clip(
    tag: TagFile,
    slots: np.ndarray,
    n_slots: int,
    n_annotated: int,
    p_closed: np.ndarray | None = None,
    search: int = 3,
    min_gain: float = 0.01,
) -> tuple[int, float]:
    """(offset, AUC): the per-clip offset on top of the even spread.

    Without `p_closed` the offset is 0. With it (one closed probability per decoded frame,
    NaN where no face), the offset in ±`search` with the best AUC, kept at 0 unless it gains
    at least `min_gain` (the spread alone is right on most clips; a noisy AUC must not move it).
    """
    if p_closed is None:
        return 0, float("nan")
    p_closed = np.asarray(p_closed, dtype=float)
    base = alignment_auc(tag, tag_indices(slots, n_slots, n_annotated), p_closed)
    best_offset, best = 0, base
    for offset in sorted(range(-search, search + 1), key=abs):
        score = alignment_auc(tag, tag_indices(slots, n_slots, n_annotated, offset), p_closed)
        if np.isfinite(score) and (not np.isfinite(best) or score > best):
            best_offset, best = offset, score
    if np.isfinite(base) and best - base < min_gain:
        return 0, base
    return best_offset, best


def aligned_labels(clip: ZjuClip, decoded: DecodedClip, offset: int | None = None) -> list[
    TagFrame | None
]:
    """The tag frame for each decoded frame (None where the annotator gave no label)."""
    tag = clip.tag()
    if offset is None:
        offset = ZJU_OFFSETS.get(clip.name, 0)
    indices = tag_indices(decoded.slots, decoded.n_slots, clip.annotated_frames(), offset)
    return [tag.frames.get(int(t)) for t in indices]


def clip_blink_count(clip: ZjuClip) -> int:
    """Labelled blinks in a clip (counts hold whatever the alignment)."""
    return len(clip.tag().blinks())


def eye_label(labels: list[TagFrame | None], index: int, eye: int, margin: int) -> int | None:
    """1 closed / 0 open for one eye of one decoded frame; None when unsure.

    Closed: the eye is marked fully closed. Open: no frame within `margin` decoded frames is
    inside a blink. Closing and opening frames (in a blink, not fully closed) and frames next
    to a label change are left out: residual misalignment would make them noise.
    """
    label = labels[index]
    if label is None or label.not_visible[eye]:
        return None
    window = labels[max(0, index - margin) : index + margin + 1]
    if any(w is None for w in window):
        return None
    if label.closed[eye] and all(w.closed[eye] for w in window):
        return 1
    if not any(w.in_blink for w in window):
        return 0
    return None


def load_zju_patches(
    data: Path, detector=None, side: str | None = None, margin: int = 1
) -> PatchSet:
    """Both eye patches of every confidently labelled decoded frame, cut by our pipeline.

    Group: `zju:<person>` (use `zju_side` for the fixed split); name:
    `zju/<clip>#<decoded frame>:<L|R>`; source "zju".
    """
    if detector is None:
        from eyespy_live.vision.faces import create_detector

        detector = create_detector("blazeface")

    def rows() -> Iterator[tuple]:
        for clip in zju_clips(data, side):
            decoded = decode_clip(clip.video)
            labels = aligned_labels(clip, decoded)
            for index, image in enumerate(decoded.frames):
                wanted = [eye_label(labels, index, eye, margin) for eye in (0, 1)]
                if all(w is None for w in wanted):
                    continue
                patches = frame_eye_patches(detector, image)
                if patches is None:
                    continue
                for eye, (side_name, patch) in enumerate(zip("LR", patches, strict=True)):
                    if wanted[eye] is not None:
                        yield (patch, wanted[eye], f"zju:{clip.person}", "zju",
                               f"zju/{clip.name}#{index}:{side_name}")

    return PatchSet.build(rows())


def closed_probabilities(decoded: DecodedClip, detector, model) -> np.ndarray:
    """Combined (geometric-mean) closed probability per decoded frame; NaN without a face."""
    out = np.full(len(decoded.frames), np.nan)
    for index, image in enumerate(decoded.frames):
        face = largest_face(detector, image)
        if face is None:
            continue
        cut = eye_patches(to_gray(image), face)
        left, right = (model.p_closed(p) for p in cut.patches)
        out[index] = float(np.sqrt(max(left, 0.0) * max(right, 0.0)))
    return out


def measure_alignment(data: Path, out: Path | None = None) -> list[dict]:
    """Recompute every clip's offset and AUCs with the shipped CNN (what `ZJU_OFFSETS` froze)."""
    from eyespy_live.vision.eyestate import EyeStateModel
    from eyespy_live.vision.faces import create_detector

    detector, model = create_detector("blazeface"), EyeStateModel()
    rows = []
    for clip in zju_clips(data):
        decoded = decode_clip(clip.video)
        tag = clip.tag()
        n_annotated = clip.annotated_frames()
        p = closed_probabilities(decoded, detector, model)
        passthrough = alignment_auc(tag, np.arange(len(decoded.frames)), p)
        spread = alignment_auc(tag, tag_indices(decoded.slots, decoded.n_slots, n_annotated), p)
        offset, refined = align_clip(tag, decoded.slots, decoded.n_slots, n_annotated, p)
        rows.append({
            "clip": clip.name, "person": clip.person, "side": clip.side,
            "decoded": len(decoded.frames), "slots": decoded.n_slots, "annotated": n_annotated,
            "blinks": len(tag.blinks()), "auc_passthrough": round(passthrough, 3),
            "auc_spread": round(spread, 3), "offset": offset, "auc_aligned": round(refined, 3),
        })
        log.info("%s", rows[-1])
    if out is not None:
        with open(out, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return rows


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description="measure the ZJU label alignment")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--csv", type=Path, help="write the per-clip table here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = measure_alignment(args.data, args.csv)
    for key in ("auc_passthrough", "auc_spread", "auc_aligned"):
        values = [r[key] for r in rows if np.isfinite(r[key])]
        print(f"{key:16} mean {np.mean(values):.3f} over {len(values)} clips")
    offsets = {r["clip"]: r["offset"] for r in rows if r["offset"]}
    print("ZJU_OFFSETS =", offsets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
