"""Blink-level scoring against per-frame labels (pure; used by `eyespy evaluate`).

A labelled blink is a run of 1s. A detected blink is correct when its closed frames overlap
a labelled run that no earlier detection has claimed (strict), or come within `tolerance`
frames of one (tolerant). Labels come as per-frame 0/1 files or Eyeblink8 / ZJU `.tag` files;
`tag_labels` maps a tag's frames onto the frames a decoder actually returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BlinkScore:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def runs_of_ones(labels: Sequence[int]) -> list[tuple[int, int]]:
    """(first, last) frame index of every run of 1s."""
    runs, start = [], None
    for i, value in enumerate(labels):
        if value and start is None:
            start = i
        elif not value and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(labels) - 1))
    return runs


def score_blinks(
    detected: Sequence[tuple[int, int]],
    labelled: Sequence[tuple[int, int]],
    tolerance: int = 0,
) -> BlinkScore:
    """Match detections to labelled runs; `tolerance` widens each run by that many frames
    each way (labels that drift by a few frames, e.g. re-aligned ZJU clips)."""
    labelled = [(a - tolerance, b + tolerance) for a, b in labelled]
    claimed: set[int] = set()
    tp = fp = 0
    for first, last in sorted(detected):
        match = next(
            (
                i
                for i, (a, b) in enumerate(labelled)
                if i not in claimed and first <= b and last >= a
            ),
            None,
        )
        if match is None:
            fp += 1
        else:
            claimed.add(match)
            tp += 1
    return BlinkScore(tp, fp, len(labelled) - len(claimed))


def read_labels(path: Path) -> list[int]:
    """One 0/1 per frame: one per line, or comma/space separated; a header line is skipped."""
    values: list[int] = []
    for line_number, line in enumerate(path.read_text().splitlines(), start=1):
        for token in line.replace(",", " ").split():
            if token in ("0", "1"):
                values.append(int(token))
            elif line_number == 1 and not values:
                break  # header
            else:
                raise ValueError(f"{path}:{line_number}: expected 0 or 1, got {token!r}")
    return values


# ---------------------------------------------------------------- Eyeblink8 / ZJU .tag files


class TagError(ValueError):
    """A .tag file that does not follow the Eyeblink8 annotation format (message names the line)."""


@dataclass(frozen=True)
class TagFrame:
    """One annotated frame of an Eyeblink8-format `.tag` file.

    Eyes are in image order like `Face.eyes`: the tag's "LE" is the eye on the image's left
    (its corner x values are the smaller ones).
    """

    frame: int  # the annotator's frame index
    blink: int  # blink id, -1 outside a blink (a blink spans closing, closed and opening frames)
    non_frontal: bool
    closed: tuple[bool, bool]  # each eye fully closed ("C")
    not_visible: tuple[bool, bool]
    face: tuple[int, int, int, int] | None  # x, y, w, h
    corners: tuple[tuple[tuple[float, float], tuple[float, float]], ...] | None  # per eye

    @property
    def in_blink(self) -> bool:
        return self.blink >= 0


@dataclass(frozen=True)
class TagFile:
    frames: dict[int, TagFrame]  # by annotator frame index (may start above 0)
    header: dict[str, str]  # "glasses", "author", ... from the `#key: value` lines

    @property
    def last_frame(self) -> int:
        return max(self.frames, default=-1)

    def blinks(self) -> list[tuple[int, int]]:
        """(first, last) annotator frame of every blink id, in order."""
        spans: dict[int, list[int]] = {}
        for index, frame in sorted(self.frames.items()):
            if frame.in_blink:
                spans.setdefault(frame.blink, []).append(index)
        return sorted((min(v), max(v)) for v in spans.values())


def _flag(value: str, letter: str) -> bool:
    return value.strip().upper() == letter


def read_tag(path: Path) -> TagFile:
    """Parse an Eyeblink8 / ZJU `.tag` file (annotation format version 1.1).

    Frame lines are `frameID:blinkID:NF:LE_FC:LE_NV:RE_FC:RE_NV[:faceX:faceY:faceW:faceH:
    LEx1:LEy1:LEx2:LEy2:REx1:REy1:REx2:REy2]`, between `#start` and `#end`; `X` means "not
    set". The face box and eye corners are optional (some files carry only the flags).
    """
    path = Path(path)
    frames: dict[int, TagFrame] = {}
    header: dict[str, str] = {}
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise TagError(f"{path}: cannot read ({exc.strerror})") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                header[key.strip().lower()] = value.strip()
            continue
        if not line[0].isdigit() and line[0] != "-":
            continue  # free text inside the #message block
        fields = line.split(":")
        if len(fields) < 7:
            raise TagError(f"{path}:{number}: expected at least 7 ':'-separated fields")
        try:
            index, blink = int(fields[0]), int(fields[1])
            geometry = [float(v) for v in fields[7:19]] if len(fields) >= 19 else None
        except ValueError:
            message = f"{path}:{number}: frame, blink id and geometry must be numbers"
            raise TagError(message) from None
        face = corners = None
        if geometry is not None:
            face = tuple(int(v) for v in geometry[:4])
            g = geometry[4:]
            corners = (((g[0], g[1]), (g[2], g[3])), ((g[4], g[5]), (g[6], g[7])))
        frames[index] = TagFrame(
            frame=index,
            blink=blink,
            non_frontal=_flag(fields[2], "N"),
            closed=(_flag(fields[3], "C"), _flag(fields[5], "C")),
            not_visible=(_flag(fields[4], "N"), _flag(fields[6], "N")),
            face=face,  # type: ignore[arg-type]
            corners=corners,
        )
    if not frames:
        raise TagError(f"{path}: no annotated frames (is this an Eyeblink8 .tag file?)")
    return TagFile(frames, header)


def tag_labels(
    tag: TagFile,
    slots: Sequence[int],
    n_slots: int,
    n_annotated: int | None = None,
    offset: int = 0,
) -> list[int]:
    """1 (inside a labelled blink) / 0 for each decoded frame.

    `slots[k]` is decoded frame k's position among the container's `n_slots` frame slots
    (null frames skipped by the decoder leave gaps). The annotator's `n_annotated` frames
    are taken as spread evenly over those slots — what the ZJU clips show (train/zju.py);
    for a file without dropped frames it is the identity.
    """
    n_annotated = n_annotated or tag.last_frame + 1
    ratio = n_annotated / max(1, n_slots)
    labels = []
    for slot in slots:
        frame = tag.frames.get(int(round(slot * ratio)) + offset)
        labels.append(int(frame is not None and frame.in_blink))
    return labels
