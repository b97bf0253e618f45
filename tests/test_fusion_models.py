"""The fusion's two JSON kinds (logistic regression, boosted trees), its extra CNN views and
the grouped cross-validation that chooses between candidates.

The tree ensemble is evaluated with numpy at run time; scikit-learn fits it (the [train]
extra), so the equality test against scikit-learn's own predict_proba needs that extra.
"""

from __future__ import annotations

import json

import cv2
import needs
import numpy as np
import pytest

from eyespy_live.decision.judge import EyeJudge, default_fusion_path
from eyespy_live.train.evidence import EvidenceTable
from eyespy_live.train.fusion import fusion_splits
from eyespy_live.vision.eyecrop import to_gray
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import create_detector
from eyespy_live.vision.fusion import RAW_FIELDS, VIEW_FIELDS, FusionModel, measure_eyes

# A hand-written two-tree ensemble: closed when the CNN's logit is high, less so when the
# lids are open.
TREES = {
    "kind": "boosted_trees",
    "features": ["cnn_logit", "openness"],
    "base": -0.2,
    "trees": [
        {"feature": [0, 0, 0], "threshold": [0.0, 0.0, 0.0], "left": [1, -1, -1],
         "right": [2, -1, -1], "value": [0.0, -1.5, 1.5]},
        {"feature": [1, 0, 0], "threshold": [0.4, 0.0, 0.0], "left": [1, -1, -1],
         "right": [2, -1, -1], "value": [0.0, 0.8, -0.8]},
    ],
}


def _raw(**kw: float) -> dict[str, float]:
    raw = {"cnn": 0.5, "cnn_mesh": 0.5, "openness": 0.5, "aspect": 0.2, "mesh_ear": 0.25,
           "gaze_down": 0.0, "gaze_side": 0.0, "yaw": 0.0, "pitch": 0.0, "presence": 1.0,
           "iris_px": 20.0, "luma": 0.5, "texture": 0.2}
    raw.update(kw)
    return raw


def test_the_tree_kind_loads_and_is_deterministic(tmp_path):
    path = tmp_path / "trees.json"
    path.write_text(json.dumps(TREES))
    model = FusionModel.load(path)
    assert model.kind == "boosted_trees" and not model.uses_views
    shut = model.p_closed_raw(_raw(cnn=0.9, openness=0.1))
    assert shut == pytest.approx(1 / (1 + np.exp(-(-0.2 + 1.5 + 0.8))))
    assert shut == FusionModel.load(path).p_closed_raw(_raw(cnn=0.9, openness=0.1))
    assert model.p_closed_raw(_raw(cnn=0.9, openness=0.8)) < shut
    assert model.p_closed_raw(_raw(cnn=0.1, openness=0.8)) < 0.1


def test_the_shipped_logistic_json_still_loads():
    spec = json.loads(default_fusion_path().read_text())
    model = FusionModel(spec)
    assert model.kind == spec.get("kind", "logistic_regression") == "logistic_regression"
    # A spec without "kind" (older files) is a logistic regression.
    old = FusionModel({k: v for k, v in spec.items() if k != "kind"})
    assert old.p_closed_raw(_raw(cnn=0.7)) == model.p_closed_raw(_raw(cnn=0.7))


def test_broken_specs_are_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        FusionModel({**TREES, "kind": "forest"})
    bad = json.loads(json.dumps(TREES))
    bad["trees"][0]["left"] = [5, -1, -1]
    with pytest.raises(ValueError, match="missing feature or node"):
        FusionModel(bad)


def test_view_features_fall_back_when_views_were_not_read():
    spec = {"kind": "logistic_regression", "features": ["views_mean_logit", "views_spread"],
            "mean": [0.0, 0.0], "scale": [1.0, 1.0], "coef": [1.0, 1.0], "intercept": 0.0}
    model = FusionModel(spec)
    assert model.uses_views
    # Without the extra views every reading is the detector's or the mesh's crop.
    assert model.p_closed_raw(_raw(cnn=0.8, cnn_mesh=0.8)) == pytest.approx(0.8, abs=1e-9)
    views = {k: 0.8 for k in VIEW_FIELDS}
    assert model.p_closed_raw(_raw(cnn=0.8, cnn_mesh=0.8, **views)) == pytest.approx(0.8)


def _synthetic_table(n: int = 600, seed: int = 0) -> EvidenceTable:
    """Rows whose label follows the CNN except where the lids say otherwise (plus noise)."""
    rng = np.random.default_rng(seed)
    raw = np.zeros((n, len(RAW_FIELDS)))
    col = {k: i for i, k in enumerate(RAW_FIELDS)}
    labels = rng.integers(0, 2, n)
    p = np.clip(np.where(labels == 1, rng.beta(5, 2, n), rng.beta(2, 5, n)), 0.01, 0.99)
    for k in ("cnn", "cnn_mesh", *VIEW_FIELDS):
        raw[:, col[k]] = np.clip(p + rng.normal(0, 0.05, n), 0.001, 0.999)
    raw[:, col["openness"]] = np.where(labels == 1, rng.uniform(0, 0.6, n),
                                       rng.uniform(0.3, 1.0, n))
    raw[:, col["gaze_down"]] = rng.normal(0, 0.1, n)
    raw[:, col["yaw"]] = rng.normal(0, 10, n)
    groups = np.array([f"p{i // 3}" for i in range(n)])
    return EvidenceTable(raw, labels, groups, np.array(["cew_faces"] * n), groups)


def test_numpy_trees_equal_scikit_learn():
    needs.module("sklearn", "pip install -e '.[train]'")
    from eyespy_live.train.fusion import _design, boosted_estimator, fit_boosted

    table = _synthetic_table()
    features = ("cnn_logit", "views_mean_logit", "views_spread", "openness", "gaze_down",
                "abs_yaw")
    spec = fit_boosted(table, features, trees=30, depth=3, min_leaf=10)
    assert spec == fit_boosted(table, features, trees=30, depth=3, min_leaf=10)
    model = FusionModel(json.loads(json.dumps(spec)))
    ours = np.array([model.p_closed_raw(r) for r in table.rows()])
    gb = boosted_estimator(table, features, trees=30, depth=3, min_leaf=10)
    theirs = gb.predict_proba(_design(table, features, {})[0])[:, 1]
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_grouped_folds_keep_a_person_together():
    from eyespy_live.train.fusion_cv import folds

    table = _synthetic_table(90)
    fold = folds(table.groups)
    for g in set(table.groups.tolist()):
        assert len(set(fold[table.groups == g].tolist())) == 1
    assert set(fold.tolist()) == set(range(5))
    # The CV's splits are the fusion's own: nothing here is a CEW test person by accident.
    assert len(fusion_splits(table)) == len(table)


def test_cross_validation_scores_every_row_out_of_fold():
    needs.module("sklearn", "pip install -e '.[train]'")
    from eyespy_live.train.fusion_cv import CANDIDATES, out_of_fold, summary

    table = _synthetic_table(300)
    p = out_of_fold(table, CANDIDATES["shipped features (LR)"])
    assert p.shape == (300,) and ((p > 0) & (p < 1)).all()
    assert summary(table.labels, p)["accuracy"] > 0.8


def test_a_smiling_open_eyed_cew_face_stays_open_with_every_view_read(shared_data):
    """Paul_Reiser (CEW test split, tagged smiling): the CNN alone reads one narrowed eye
    towards closed (~0.6); with the geometry the fused P(closed) of both eyes is open, the
    extra CNN views are read when asked for, and the photo is kept."""
    from eyespy_live.decision.blink import BlinkSettings
    from eyespy_live.decision.shot import analyze_photo

    image = cv2.imread(str(shared_data / "cew/faces/OpenFace/Paul_Reiser_0001.jpg"))
    assert image is not None
    big = cv2.resize(image, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    detector = create_detector("blazeface")
    face = max(detector.detect_photo(big), key=lambda f: f.box[2])
    judge = EyeJudge.default(EyeStateModel())
    assert judge.fusion is not None and judge.landmarker is not None
    gray = to_gray(big)
    evidence = measure_eyes(gray, face, judge.model, judge.landmarker, views=True)
    for eye in evidence:
        assert set(eye.views) == set(VIEW_FIELDS)
        assert judge.fusion.p_closed(eye) < 0.5, eye.raw()
    reading = judge.read(gray, face, thorough=True)
    assert reading.p_closed is not None and max(reading.p_closed) < 0.5
    assert reading.cnn is not None and max(reading.cnn) > 0.5  # the CNN alone would not
    assert analyze_photo(big, detector, judge, BlinkSettings()).verdict == "keep"
