"""Loading labelled eye patches and scoring them (no TensorFlow needed)."""

from __future__ import annotations

import numpy as np
import pytest

from eyespy_live.train import data
from eyespy_live.train.augment import augment_batch, augment_patch
from eyespy_live.train.metrics import bootstrap_metrics, point_metrics, roc_auc
from eyespy_live.vision.eyecrop import PATCH_SIZE


def test_cew_patches_load_with_labels_and_groups(shared_data):
    s = data.load_cew_patches(shared_data)
    assert s.patches.shape[1:] == (PATCH_SIZE, PATCH_SIZE) and s.patches.dtype == np.uint8
    assert len(s) > 3000
    closed = s.labels == 1
    assert all("closed_eye" in g for g in s.groups[closed])
    assert not any("closed_eye" in g for g in s.groups[~closed])
    assert set(s.sources) == {"cew_patches"}


def test_cew_faces_cut_by_annotation_match_the_dataset_patches(shared_data, tmp_path):
    # Without a detector every face is placed by the dataset's eye coordinates, through
    # our own eyecrop: the result must resemble CEW's own patch of the same eye.
    root = tmp_path / "cew" / "faces"
    (root / "OpenFace").mkdir(parents=True)
    (root / "ClosedFace").mkdir(parents=True)
    src = shared_data / "cew" / "faces"
    for folder in ("OpenFace", "ClosedFace"):
        lines = (src / f"EyeCoordinatesInfo_{folder}.txt").read_text().splitlines()[:5]
        (root / f"EyeCoordinatesInfo_{folder}.txt").write_text("\n".join(lines))
        for line in lines:
            name = line.split()[0]
            (root / folder / name).write_bytes((src / folder / name).read_bytes())
    s = data.load_cew_faces(tmp_path, detector=None)
    assert len(s) == 20 and int(s.labels.sum()) == 10
    assert set(s.sources) == {"cew_faces_annot"}
    assert s.names[0].endswith(":L")

    # The wandering-eye-point copies (training only): the face's group, other pixels than
    # the plain crop, and the same copies on every run.
    j = data.load_cew_faces_jitter(tmp_path, detector=None, copies=2)
    assert len(j) == 40 and set(j.sources) == {"cew_faces_jitter"}
    assert set(j.groups) == set(s.groups)
    plain = s.patches[0].astype(int)
    assert all(np.abs(j.patches[i].astype(int) - plain).mean() > 1 for i in (0, 2))
    again = data.load_cew_faces_jitter(tmp_path, detector=None, copies=2)
    assert np.array_equal(j.patches, again.patches)


def test_closeup_patch_and_cache_roundtrip(shared_data, tmp_path):
    image = np.zeros((300, 400, 3), np.uint8)
    assert data.closeup_patch(image).shape == (PATCH_SIZE, PATCH_SIZE)
    s = data.load_cew_patches(shared_data).subset(np.arange(10))
    data.save_cache(tmp_path / "x.npz", s)
    back = data.load_cache(tmp_path / "x.npz")
    assert (back.patches == s.patches).all() and list(back.groups) == list(s.groups)
    both = data.PatchSet.concat([s, back])
    assert len(both) == 20


def test_augmentation_keeps_shape_and_is_seeded():
    patch = (np.arange(PATCH_SIZE * PATCH_SIZE) % 256).astype(np.uint8).reshape(24, 24)
    a = augment_batch(np.stack([patch] * 8), np.random.default_rng(3))
    b = augment_batch(np.stack([patch] * 8), np.random.default_rng(3))
    assert a.shape == (8, 24, 24) and a.dtype == np.uint8 and (a == b).all()
    assert (augment_patch(patch, np.random.default_rng(0), strength=0) == patch).all()


def test_metrics():
    labels = np.array([0, 0, 1, 1])
    assert roc_auc(labels, np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert roc_auc(labels, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    m = point_metrics(labels, np.array([0.1, 0.6, 0.7, 0.8]))
    assert m["accuracy"] == 0.75 and m["precision"] == 2 / 3 and m["recall"] == 1.0
    assert m["confusion"] == {"tn": 1, "fp": 1, "fn": 0, "tp": 2}
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    scores = np.clip(labels * 0.6 + rng.normal(0.2, 0.2, 400), 0, 1)
    b = bootstrap_metrics(labels, scores, rounds=200)
    lo, hi = b["ci"]["accuracy"]
    assert lo <= b["accuracy"] <= hi


def test_a_layout_string_names_each_stage_and_rejects_typos():
    from eyespy_live.train.model_layout import DEFAULT_LAYOUT, parse_layout

    assert parse_layout("8,p,16,p,32,p,64") == (8, "p", 16, "p", 32, "p", 64) == DEFAULT_LAYOUT
    assert parse_layout("s,24, p, d32") == ("s", 24, "p", "d32")
    with pytest.raises(ValueError, match="'q'"):
        parse_layout("16,q,32")


def test_compare_figures_count_errors_and_penalise_confident_mistakes():
    from eyespy_live.train.compare import figures

    labels = np.array([0, 0, 1, 1])
    sure = figures(labels, np.array([0.1, 0.2, 0.9, 0.4]))
    assert sure["errors"] == 1 and sure["accuracy"] == 0.75 and sure["n"] == 4
    # the same one mistake made confidently costs more log-loss, not more accuracy
    bold = figures(labels, np.array([0.1, 0.2, 0.9, 0.01]))
    assert bold["accuracy"] == 0.75 and bold["log_loss"] > sure["log_loss"]
    assert abs(sure["log_loss"] - float(-np.mean(np.log([0.9, 0.8, 0.9, 0.4])))) < 1e-9
