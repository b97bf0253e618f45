"""Faces found in still photos (`FaceDetector.detect_photo`): found, missed and false faces.

Face finding alone, before any eye is judged, on:
- the studio-portrait proxy (`train.portraits`: ZJU held-out people and CEW test people as
  320×243 grayscale portraits, evenly lit and with one half in deep shadow): photos with a
  face found, per set and light;
- the 43 landmarked faces of the dlib group photos: found (a detected face with both eye
  points within half the eye distance of the landmarks' eye centres) and detections that
  overlap no labelled face (IoU < 0.1);
- images with no face: cat.jpg, potato.jpg, dogs.jpg and, with `--hard`, 1681 hard ones
  (single-eye close-ups — web_eye_closeups, CEW eye patches at 240 px, eyeloop frames —
  and crops of the three): faces reported at all;
- ms per photo for detect_photo on the proxy's photos with and without a face found;
- with `--deep-shadow`: the 382 CEW proxy portraits (even light) with the image's left half
  in near-black shadow (×0.05, then gamma 1.5; the proxy's own side light is ×0.15–0.3),
  faces found and the product's verdicts on them.

    python benchmarks/photo_faces.py [--data ../shared/data] [--hard] [--missed] [--deep-shadow]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.train import portraits
from eyespy_live.train.portraits import portrait_sets
from eyespy_live.vision.faces import box_iou, create_detector

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from dlib_landmarks import labelled_faces  # noqa: E402 - shared with the test suite

MIN_FACE_SCORE = 0.6  # config.vision.min_face_score's default: what the photo path keeps



def no_face_images(data: Path, hard: bool) -> list[tuple[str, np.ndarray]]:
    images = []
    for rel in ("photos/dlib_groups/dogs.jpg", "photos/web_misc/cat.jpg",
                "photos/web_misc/potato.jpg"):
        image = cv2.imread(str(data / rel))
        images.append((rel, image))
        if hard:
            h, w = image.shape[:2]
            images += [(f"{rel}@{x},{y}", image[y : y + 2 * h // 3, x : x + 2 * w // 3])
                       for y in (0, h // 3) for x in (0, w // 3)]
    if not hard:
        return images
    video = cv2.VideoCapture(str(data / "video/eyeloop/short_human_3blink.mp4"))
    for k in range(0, 280, 20):
        video.set(cv2.CAP_PROP_POS_FRAMES, k)
        ok, frame = video.read()
        if ok:
            images.append((f"eyeloop#{k}", frame))
    for folder in ("openLeftEyes", "closedRightEyes", "openRightEyes", "closedLeftEyes"):
        for path in sorted((data / "cew/eyes" / folder).glob("*"))[:50]:
            images.append((str(path), cv2.resize(cv2.imread(str(path)), (240, 240))))
    for folder in ("Open", "Closed"):
        for path in sorted((data / "eyes/web_eye_closeups" / folder).glob("*")):
            image = cv2.imread(str(path))
            if image is not None:
                images.append((str(path), image))
    return images


def deep_shadow(data: Path, cew: list) -> None:
    """Faces found and verdicts on the evenly lit CEW portraits with one half near black."""
    from eyespy_live.resources import default_eye_model
    from eyespy_live.train.conditions import summarise_photo_verdicts
    from eyespy_live.train.photo_verdicts import product_photo_verdicts

    photos = [(name + " deep shadow", portraits.side_light(
        image, image.shape[1] / 2.0, portraits.CEW_FACE_PX, dark_left=True, gain=0.05,
        gamma=1.5), label) for name, image, label in cew if "side light" not in name]
    m = summarise_photo_verdicts(product_photo_verdicts(photos, default_eye_model()))
    print(f"CEW portraits, left half ×0.05 (deep shadow): faces found in {m['with_face']} of "
          f"{m['photos']}; right {m['right']}; false closed {m['false_closed']} of "
          f"{m['open_photos']}; check {m['check']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared" / "data")
    parser.add_argument("--hard", action="store_true", help="1681 hard no-face images too")
    parser.add_argument("--missed", action="store_true", help="list the proxy photos missed")
    parser.add_argument("--deep-shadow", action="store_true",
                        help="CEW portraits half in near-black shadow: faces and verdicts")
    args = parser.parse_args()
    detector = create_detector("blazeface")

    def faces(image):
        return [f for f in detector.detect_photo(image) if f.score >= MIN_FACE_SCORE]

    sets = portrait_sets(args.data)
    if args.deep_shadow:
        deep_shadow(args.data, sets["CEW test people as studio portraits (even and side light)"])
    times: dict[bool, list[float]] = {True: [], False: []}
    for title, photos in sets.items():
        counts: dict[str, list[int]] = {}
        for name, image, _ in photos:
            start = time.perf_counter()
            found = bool(faces(image))
            times[found].append(time.perf_counter() - start)
            light = "side light" if "side light" in name else "even light"
            count = counts.setdefault(light, [0, 0])
            count[0] += 1
            count[1] += found
            if args.missed and not found:
                print(f"   missed: {name}")
        print(f"{title.split(' (')[0]}: " + "; ".join(
            f"{light} {n_found}/{n}" for light, (n, n_found) in sorted(counts.items())))
    for found, spent in times.items():
        if spent:
            print(f"detect_photo, proxy photos with{'' if found else 'out'} a face found: "
                  f"{1000 * np.mean(spent):.1f} ms mean ({len(spent)})")

    total = hits = unmatched = 0
    for path, truth in labelled_faces(args.data / "photos/dlib_groups"):
        found = faces(cv2.imread(str(path)))
        for _, (left, right) in truth:
            reach = 0.5 * float(np.linalg.norm(right - left))
            total += 1
            hits += any(np.abs(np.subtract(f.eyes[0], left)).max() < reach
                        and np.abs(np.subtract(f.eyes[1], right)).max() < reach for f in found)
        unmatched += sum(max(box_iou(f.box, box) for box, _ in truth) < 0.1 for f in found)
    print(f"dlib landmarked faces found: {hits}/{total}; detections on no labelled face: "
          f"{unmatched}")

    negatives = no_face_images(args.data, args.hard)
    false = [(name, len(found)) for name, image in negatives if (found := faces(image))]
    print(f"images without a face: {len(false)} of {len(negatives)} with a face reported"
          + "".join(f"\n   {name}: {n}" for name, n in false))


if __name__ == "__main__":
    main()
