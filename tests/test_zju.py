"""ZJU labels: the .tag reader, the fixed person split, and the alignment on a real clip."""

from __future__ import annotations

import csv

import needs
import numpy as np
import pytest

from eyespy_live.evaluation import TagError, read_tag
from eyespy_live.train import zju

TAG = """#eye-blink annotation file version 1.1
#author:  Someone
#glasses: YES
#message start
free text 12 here
#message end
#start
1:-1:X:X:X:X:X:10:20:30:40:1:2:3:4:5:6:7:8
2:0:X:X:X:X:X:10:20:30:40:1:2:3:4:5:6:7:8
3:0:X:C:X:C:X:10:20:30:40:1:2:3:4:5:6:7:8
4:0:N:X:N:C:X:10:20:30:40:1:2:3:4:5:6:7:8
5:-1:X:X:X:X:X
6:1:X:C:X:C:X
#end
"""


def test_tag_reader_fields_header_and_blinks(tmp_path):
    path = tmp_path / "a.tag"
    path.write_text(TAG)
    tag = read_tag(path)
    assert sorted(tag.frames) == [1, 2, 3, 4, 5, 6]
    assert tag.header["glasses"] == "YES"
    assert tag.blinks() == [(2, 4), (6, 6)]
    f3, f4 = tag.frames[3], tag.frames[4]
    assert f3.closed == (True, True) and f3.in_blink
    assert f4.non_frontal and f4.not_visible == (True, False) and f4.closed == (False, True)
    assert tag.frames[1].face == (10, 20, 30, 40)
    assert tag.frames[1].corners == (((1, 2), (3, 4)), ((5, 6), (7, 8)))
    assert tag.frames[5].face is None and not tag.frames[5].in_blink


def test_tag_reader_names_the_bad_line(tmp_path):
    path = tmp_path / "b.tag"
    path.write_text("#start\n1:-1:X:X:X:X:X\n2:x:X:X:X:X:X\n")
    with pytest.raises(TagError, match=r"b\.tag:3"):
        read_tag(path)
    empty = tmp_path / "c.tag"
    empty.write_text("#start\n#end\n")
    with pytest.raises(TagError, match="no annotated frames"):
        read_tag(empty)


def test_split_is_fixed_person_disjoint_8_4():
    assert len(zju.ZJU_PEOPLE) == 12 and len(set(zju.ZJU_PEOPLE)) == 12
    assert len(zju.ZJU_TRAIN) == 8 and len(zju.ZJU_HELDOUT) == 4
    assert not set(zju.ZJU_TRAIN) & set(zju.ZJU_HELDOUT)
    assert tuple(sorted(zju.ZJU_PEOPLE)[2::3]) == zju.ZJU_HELDOUT
    assert zju.zju_side("000005M") == "heldout" and zju.zju_side("000002M") == "train"
    with pytest.raises(KeyError):
        zju.zju_side("999999M")


def test_every_shared_clip_is_on_one_side_and_counts_match_the_readme():
    root = needs.shared_data("video", "zju")
    clips = zju.zju_clips(root.parent.parent)
    assert len(clips) == 48
    assert {c.person for c in clips} == set(zju.ZJU_PEOPLE)
    with open(root / "ALIGNMENT_CHECK.csv") as handle:
        check = {r["video"][:-4]: int(r["blinks"]) for r in csv.DictReader(handle)}
    assert {c.name: zju.clip_blink_count(c) for c in clips} == check
    assert sum(check.values()) == 159
    held = zju.zju_clips(root.parent.parent, side="heldout")
    assert len(held) == 16 and sum(zju.clip_blink_count(c) for c in held) == 56


def test_eye_label_leaves_transitions_out():
    def frame(blink, closed):
        return zju.TagFrame(0, blink, False, (closed, closed), (False, False), None, None)

    labels = [frame(-1, False), frame(-1, False), frame(0, False), frame(0, True),
              frame(0, True), frame(0, True), frame(-1, False), None]
    got = [zju.eye_label(labels, i, 0, margin=1) for i in range(len(labels))]
    assert got == [0, None, None, None, 1, None, None, None]


def test_alignment_on_a_real_clip():
    """On a real clip, the even spread puts the labelled blink where the CNN sees closed eyes."""
    from eyespy_live.vision.eyestate import EyeStateModel
    from eyespy_live.vision.faces import create_detector

    root = needs.shared_data("video", "zju")
    clip = zju.ZjuClip(root / "000004M_FTN.avi")
    decoded = zju.decode_clip(clip.video)
    # The AVI drops frames: OpenCV returns far fewer pictures than the container has slots.
    assert len(decoded.frames) < 0.7 * decoded.n_slots
    assert (np.diff(decoded.slots) >= 1).all()
    tag, n_annotated = clip.tag(), clip.annotated_frames()
    p = zju.closed_probabilities(decoded, create_detector("blazeface"), EyeStateModel())
    passthrough = zju.alignment_auc(tag, np.arange(len(p)), p)
    offset, aligned = zju.align_clip(tag, decoded.slots, decoded.n_slots, n_annotated, p)
    assert offset == zju.ZJU_OFFSETS.get(clip.name, 0)
    assert aligned >= 0.95 > passthrough + 0.2
    labels = zju.aligned_labels(clip, decoded)
    closed = [i for i, t in enumerate(labels) if t is not None and all(t.closed)]
    assert closed and min(p[closed]) > np.nanmedian(p) * 3


def test_one_eye_rising_behind_glasses_is_no_blink_on_a_real_clip():
    """000020F_FTN (thin glasses): for two frames before her second blink one eye reads
    0.45-0.66 while the other stays at 0.02-0.06, which the live thresholds alone took for a
    blink. Her three labelled blinks are found and nothing else."""
    from eyespy_live.commands.evaluate import detect_blinks, load_labels
    from eyespy_live.config import Config
    from eyespy_live.evaluation import runs_of_ones, score_blinks

    video = needs.shared_data("video", "zju") / "000020F_FTN.avi"
    found, frames = detect_blinks(Config(), video)
    runs = runs_of_ones(load_labels(video, video.with_suffix(".tag"))[:frames])
    score = score_blinks(found, runs)
    assert (len(runs), score.true_positives, score.false_positives) == (3, 3, 0), found
