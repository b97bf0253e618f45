"""Richer fusion evidence (issue 14): the iris model's pooled features, the lid shape and
both lid heights, and the PCA projection a fusion JSON may carry.

The projection is fitted on training rows (scikit-learn and numpy) and applied at run time
with numpy; the embedding is read from the shipped iris model on real faces.
"""

from __future__ import annotations

import json

import cv2
import needs
import numpy as np
import pytest

from eyespy_live.train.evidence import EvidenceTable
from eyespy_live.train.fusion import fit_model, fit_projection
from eyespy_live.vision.eyecrop import to_gray
from eyespy_live.vision.faces import create_detector
from eyespy_live.vision.fusion import (
    EMBED_FIELDS,
    EXTRA_FIELDS,
    RAW_FIELDS,
    SHAPE_FIELDS,
    FusionModel,
    Projection,
    measure_eyes,
)
from eyespy_live.vision.landmarks import EMBED_PARTS, IRIS_EMBED_DIM, FaceLandmarker


def _table(n: int = 400, seed: int = 1) -> EvidenceTable:
    """Rows whose label shows in the CNN and, more weakly, along one embedding direction."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    raw = np.zeros((n, len(RAW_FIELDS)))
    col = {k: i for i, k in enumerate(RAW_FIELDS)}
    raw[:, col["cnn"]] = np.clip(np.where(labels, 0.7, 0.3) + rng.normal(0, 0.2, n), 0.01, 0.99)
    raw[:, col["cnn_mesh"]] = raw[:, col["cnn"]]
    raw[:, col["openness"]] = rng.uniform(0.2, 1.0, n)
    extra = rng.normal(0, 1, (n, len(EXTRA_FIELDS)))
    direction = rng.normal(0, 1, IRIS_EMBED_DIM)
    first = EXTRA_FIELDS.index(EMBED_FIELDS[0])
    extra[:, first:first + IRIS_EMBED_DIM] += 3.0 * np.outer(labels - 0.5, direction)
    groups = np.array([f"p{i // 2}" for i in range(n)])
    return EvidenceTable(raw, labels, groups, np.array(["cew_faces"] * n), groups, extra)


def test_projection_axes_are_orthonormal_and_applied_alike_at_run_time():
    table = _table()
    spec = fit_projection(table, EMBED_FIELDS, 4)
    proj = Projection.from_spec(json.loads(json.dumps(spec)))
    np.testing.assert_allclose(proj.axes @ proj.axes.T, np.eye(4), atol=1e-4)
    row = table.rows()[7]
    x = table.extra[7, [EXTRA_FIELDS.index(f) for f in EMBED_FIELDS]]
    assert proj.components(row)["pc0"] == pytest.approx(float(proj.project(x[None])[0, 0]))
    with pytest.raises(ValueError, match="differ in length"):
        Projection.from_spec({**spec, "mean": spec["mean"][:-1]})


def test_a_pca_candidate_learns_from_the_embedding_and_round_trips_through_json():
    needs.module("sklearn", "pip install -e '.[train]'")
    table = _table()
    cnn_only = FusionModel(fit_model(table, {"kind": "logistic_regression",
                                             "features": ["cnn_logit"]}))
    spec = fit_model(table, {"kind": "logistic_regression",
                             "features": ["cnn_logit", "pc0", "pc1"],
                             "pca": (EMBED_FIELDS, 2)})
    model = FusionModel(json.loads(json.dumps(spec)))
    assert model.uses_embedding and not cnn_only.uses_embedding

    def accuracy(m: FusionModel) -> float:
        p = np.array([m.p_closed_raw(r) for r in table.rows()])
        return float(((p >= 0.5) == table.labels.astype(bool)).mean())

    # The label direction is the data's largest: its component must add to the CNN.
    assert accuracy(model) > accuracy(cnn_only) + 0.05


def test_an_old_table_still_loads_but_cannot_fit_a_projection(tmp_path):
    table = _table(20)
    path = tmp_path / "t.npz"
    table.save(path)
    loaded = EvidenceTable.load(path)
    # Stored as float32 (the tables are large): equal to that precision.
    assert loaded is not None and np.allclose(loaded.extra, table.extra, rtol=1e-6, atol=1e-6)
    EvidenceTable(table.raw, table.labels, table.groups, table.sources, table.names).save(path)
    old = EvidenceTable.load(path)
    assert old is not None and old.extra is None and len(old.rows()[0]) == len(RAW_FIELDS)
    with pytest.raises(ValueError, match="rebuild"):
        fit_projection(old, EMBED_FIELDS, 2)


def test_the_embedding_landmarker_reads_real_eyes_without_moving_the_landmarks(shared_data):
    """dryeye pair (one man, eyes open / shut): the embedding is finite, the geometry is the
    plain landmarker's, the lid shape starts and ends at the corners, and the open and the
    shut eye differ more in the iris model's features than the two eyes of one photo (the
    iris model sees both as one side: the second eye is mirrored in)."""
    detector = create_detector("blazeface")
    plain, embedding = FaceLandmarker(), FaceLandmarker(embed=True)
    readings = {}
    for name in ("eyes_open", "eyes_closed"):
        image = cv2.imread(str(shared_data / "photos" / "dryeye_pair" / f"{name}.jpg"))
        assert image is not None
        gray = to_gray(image)
        face = max(detector.detect_photo(image), key=lambda f: f.box[2] * f.box[3])
        a, b = plain.measure(gray, face), embedding.measure(gray, face)
        for ea, eb in zip(a.eyes, b.eyes, strict=True):
            assert ea.embedding is None and eb.embedding is not None
            assert eb.embedding.shape == (IRIS_EMBED_DIM,) and np.isfinite(eb.embedding).all()
            np.testing.assert_allclose(ea.upper, eb.upper, atol=1e-3)
            shape = eb.lid_shape().reshape(-1, 2)
            assert shape[0, 0] == pytest.approx(-0.5, abs=1e-6)
            assert shape[8, 0] == pytest.approx(0.5, abs=1e-6)
        iris_part = EMBED_PARTS["iris_contour"] + EMBED_PARTS["iris_iris"]
        readings[name] = [e.embedding[:iris_part] for e in b.eyes]
        evidence = measure_eyes(gray, face, _cnn(), embedding)
        extra = evidence[0].extra()
        assert set(extra) == set(EXTRA_FIELDS) and len(SHAPE_FIELDS) == 32
    within = np.linalg.norm(readings["eyes_open"][0] - readings["eyes_open"][1])
    across = np.linalg.norm(readings["eyes_open"][0] - readings["eyes_closed"][0])
    assert across > within


def _cnn():
    from eyespy_live.vision.eyestate import EyeStateModel

    return EyeStateModel()


def test_the_cv_scores_in_bulk_equal_the_run_time_model():
    needs.module("sklearn", "pip install -e '.[train]'")
    from eyespy_live.train.fusion_cv import _scores

    table = _table(120)
    spec = fit_model(table, {"kind": "logistic_regression",
                             "features": ["cnn_logit", "openness", "pc0", "upper_lid"],
                             "pca": (EMBED_FIELDS, 3)})
    model = FusionModel(spec)
    np.testing.assert_allclose(_scores(spec, table),
                               [model.p_closed_raw(r) for r in table.rows()], atol=1e-12)


def test_class_balance_equalises_the_weights_and_raises_p_closed_on_an_open_heavy_table():
    needs.module("sklearn", "pip install -e '.[train]'")
    from eyespy_live.train.fusion import balanced, fit

    table = _table(600, seed=3)
    keep = (table.labels == 0) | (np.arange(len(table)) % 5 == 0)  # ~1 closed in 6
    table = table.subset(keep)
    w = balanced(np.ones(len(table)), table.labels)
    closed = table.labels.astype(bool)
    assert w[closed].sum() == pytest.approx(w[~closed].sum())
    assert balanced(np.ones(3), np.zeros(3)).tolist() == [1.0, 1.0, 1.0]  # one class: as given
    plain, even = (FusionModel(fit(table, balance=b)) for b in (False, True))
    rows = [{**r} for r in table.rows(())]
    mean_p = [float(np.mean([m.p_closed_raw(r) for r in rows])) for m in (plain, even)]
    assert mean_p[1] > mean_p[0] + 0.02
    assert fit(table, balance=True)["fitted_on"]["class_balanced"] is True


def test_the_judge_reads_the_networks_features_when_its_fusion_uses_them(tmp_path, monkeypatch):
    import json

    from eyespy_live.decision import judge as judge_module
    from eyespy_live.resources import default_eye_model
    from eyespy_live.vision.eyestate import EyeStateModel
    from eyespy_live.vision.fusion import EMBED_FIELDS

    spec = {"kind": "logistic_regression", "features": ["cnn_logit", EMBED_FIELDS[0]],
            "mean": [0.0, 0.0], "scale": [1.0, 1.0], "coef": [1.0, 0.1], "intercept": 0.0}
    (tmp_path / "eye_fusion.json").write_text(json.dumps(spec))
    model = EyeStateModel(default_eye_model())
    shipped = judge_module.EyeJudge.default(model)
    monkeypatch.setattr(judge_module, "default_fusion_path", lambda: tmp_path / "eye_fusion.json")
    embedding = judge_module.EyeJudge.default(model)
    assert shipped.landmarker._embed == ()  # the shipped fusion needs no features: no cost
    assert embedding.landmarker._embed != ()
