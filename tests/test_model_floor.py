"""The shipped eye-state model meets a floor on a fixed labelled sample (runtime only)."""

from __future__ import annotations

import json

import numpy as np

from eyespy_live.resources import default_eye_model, models_dir
from eyespy_live.train.data import load_cew_patches
from eyespy_live.train.infer import TFLiteScorer
from eyespy_live.train.splits import assign_splits
from eyespy_live.vision.eyecrop import eye_patches, to_gray
from eyespy_live.vision.eyestate import EyeStateModel


def test_shipped_model_contract():
    path = default_eye_model()
    assert path.stat().st_size <= 100_000
    scorer = TFLiteScorer(path)
    assert scorer.in_dtype == np.int8 and scorer.size == 24
    assert abs(scorer.in_scale - 1 / 255) < 1e-4 and scorer.in_zero == -128
    meta = models_dir() / "eye_state_int8.json"
    if meta.is_file():
        info = json.loads(meta.read_text())
        assert info["input_size"] == 24
        assert 0.0 < info["t_open"] <= info["t_closed"] < 1.0


def test_floor_on_held_out_cew_people(shared_data):
    # A fixed sample: the first 150 open and 150 closed eyes of the person-disjoint test
    # split (never trained on), in file-name order.
    patches = load_cew_patches(shared_data)
    test = patches.subset(assign_splits(patches.groups) == "test")
    order = np.argsort(test.names.astype(str))
    pick = np.concatenate([order[test.labels[order] == lab][:150] for lab in (0, 1)])
    scores = TFLiteScorer(default_eye_model()).score(test.patches[pick])
    accuracy = float(((scores >= 0.5) == test.labels[pick].astype(bool)).mean())
    assert accuracy >= 0.95, accuracy


def test_floor_on_a_real_photo_pair(shared_data):
    from eyespy_live.vision.faces import create_detector

    detector = create_detector("blazeface")
    model = EyeStateModel()
    mean = {}
    for name in ("eyes_open", "eyes_closed"):
        import cv2

        image = cv2.imread(str(shared_data / "photos" / "dryeye_pair" / f"{name}.jpg"))
        faces = detector.detect(image)
        assert faces
        cut = eye_patches(to_gray(image), faces[0])
        mean[name] = np.mean([model.p_closed(p) for p in cut.patches])
    assert mean["eyes_open"] < 0.5 < mean["eyes_closed"]
