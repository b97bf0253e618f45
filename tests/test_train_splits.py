"""Split logic: a person / source photo / video is never on two sides."""

from __future__ import annotations

import numpy as np
import pytest

from eyespy_live.train.data import cew_group, load_cew_patches
from eyespy_live.train.splits import assign_splits, check_disjoint, group_fraction


def test_cew_grouping_rules():
    assert cew_group("Aaron_Guiel_0001.jpg") == "cew:Aaron_Guiel"
    assert cew_group("Aaron_Guiel_0001_L.jpg") == "cew:Aaron_Guiel"
    name = "Abid_Hamid_Mahmud_Al-Tikriti"
    assert cew_group(f"{name}_0002_R.jpg") == f"cew:{name}"
    assert cew_group("closed_eye_0002.jpg_face_2.jpg") == "cew:closed_eye_0002"
    assert cew_group("closed_eye_0002.jpg_face_1_L.jpg") == "cew:closed_eye_0002"
    assert cew_group("closed_eye_0002.png_face_3_R.jpg") == "cew:closed_eye_0002"


def test_split_is_per_group_and_stable():
    groups = np.array([f"g{i % 50}" for i in range(1000)], dtype=object)
    split = assign_splits(groups)
    check_disjoint(groups, split)
    assert set(split) == {"train", "val", "test"}
    # adding other groups never moves an existing one
    more = np.concatenate([groups, np.array([f"new{i}" for i in range(200)], dtype=object)])
    assert (assign_splits(more)[:1000] == split).all()
    assert 0.0 <= group_fraction("x") < 1.0


def test_check_disjoint_catches_a_leak():
    groups = np.array(["a", "a", "b"], dtype=object)
    with pytest.raises(AssertionError, match="'a'"):
        check_disjoint(groups, np.array(["train", "test", "train"], dtype=object))


def test_cew_split_keeps_people_and_both_eyes_together(shared_data):
    patches = load_cew_patches(shared_data)
    split = assign_splits(patches.groups)
    check_disjoint(patches.groups, split)
    # both eyes of a face: same stem apart from _L/_R → same side
    side = {}
    for name, s in zip(patches.names.tolist(), split.tolist(), strict=True):
        face = name.rsplit("_", 1)[0]
        assert side.setdefault(face, s) == s
    test_people = set(patches.groups[split == "test"])
    train_people = set(patches.groups[split == "train"])
    assert test_people and train_people and not test_people & train_people
    # roughly the intended proportions
    share = (split == "test").mean()
    assert 0.12 < share < 0.28
