"""Stable face ids across frames, so an event can say which face blinked.

Greedy nearest-centre matching: a detection takes the id of the closest live track whose
centre is within `max_jump` face widths; unmatched detections start new tracks; a track not
seen for `max_missed` detection rounds ends. Cheap and enough for people posing for a photo.

Between detection rounds `follow` moves each track with the detector's cheap local search
(`FaceDetector.follow`), so eye crops stay on the eyes of a moving head; a head that kept
still over the last frame is looked for every other frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from eyespy_live.vision.faces import Face

# A follow that moved the eyes by at most this share of their distance: the head is still.
STILL_SHIFT = 0.05


def _eye_midpoint(face: Face) -> tuple[float, float]:
    (x0, y0), (x1, y1) = face.eyes
    return ((x0 + x1) / 2.0, (y0 + y1) / 2.0)


@dataclass
class Track:
    id: int
    face: Face
    missed: int = 0
    still: bool = False  # the last follow found it where it was: the next frame may skip one


@dataclass
class FaceTracker:
    max_jump: float = 0.6
    max_missed: int = 3
    tracks: dict[int, Track] = field(default_factory=dict)
    _next_id: int = 1

    def update(self, faces: list[Face]) -> tuple[list[Track], list[int]]:
        """Match a detection round; returns (current tracks, ids of tracks that just ended)."""
        unmatched = dict(self.tracks)
        pairs = []
        for i, face in enumerate(faces):
            for track_id, track in unmatched.items():
                distance = float(np.hypot(*np.subtract(face.center, track.face.center)))
                scale = max(track.face.box[2], face.box[2], 1)
                if distance <= self.max_jump * scale:
                    pairs.append((distance / scale, i, track_id))
        pairs.sort()
        used_faces: set[int] = set()
        for _, i, track_id in pairs:
            if i in used_faces or track_id not in unmatched:
                continue
            used_faces.add(i)
            track = unmatched.pop(track_id)
            track.face, track.missed, track.still = faces[i], 0, False
        for i, face in enumerate(faces):
            if i not in used_faces:
                self.tracks[self._next_id] = Track(self._next_id, face)
                self._next_id += 1
        ended = []
        for track_id, track in unmatched.items():
            track.missed += 1
            if track.missed > self.max_missed:
                ended.append(track_id)
                del self.tracks[track_id]
        current = [t for t in self.tracks.values() if t.missed == 0]
        return sorted(current, key=lambda t: t.id), ended

    def follow(
        self,
        image: np.ndarray,
        tracks: list[Track],
        find: Callable[[np.ndarray, Face], Face | None],
    ) -> set[int]:
        """Move each track to where `find` sees its face now; ids of those it did not find.

        A lost track keeps its last face (the next detection round decides whether it ended).
        """
        lost = set()
        for track in tracks:
            if track.still:
                # A head that did not move over the last frame is looked for every other
                # frame only (half the cost for a person posing); a moving one every frame.
                track.still = False
                continue
            found = find(image, track.face)
            if found is None:
                lost.add(track.id)
                continue
            # Measured on the eyes (what the crops follow), not the box: full- and
            # short-range BlazeFace draw boxes differently but agree on eye points.
            shift = float(np.hypot(*np.subtract(_eye_midpoint(found), _eye_midpoint(track.face))))
            track.still = shift <= STILL_SHIFT * max(1.0, track.face.inter_eye_distance)
            track.face = found
        return lost
