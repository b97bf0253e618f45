"""Blink-level scoring: a detection counts when it overlaps an unclaimed labelled run."""

from eyespy_live.evaluation import read_labels, read_tag, runs_of_ones, score_blinks, tag_labels


def test_runs_of_ones_include_runs_at_both_ends():
    assert runs_of_ones([1, 1, 0, 0, 1, 0, 1]) == [(0, 1), (4, 4), (6, 6)]
    assert runs_of_ones([0, 0]) == []


def test_overlap_matches_and_each_labelled_blink_counts_once():
    labelled = [(10, 14), (40, 45)]
    score = score_blinks([(12, 13), (14, 16), (70, 72)], labelled)
    assert (score.true_positives, score.false_positives, score.false_negatives) == (1, 2, 1)
    assert score.precision == 1 / 3 and score.recall == 0.5


def test_perfect_detection_scores_one():
    score = score_blinks([(1, 2), (8, 9)], [(0, 2), (8, 10)])
    assert score.f1 == 1.0


def test_label_files_one_per_line_or_comma_separated(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("label\n0\n1\n1\n0\n")
    b = tmp_path / "b.csv"
    b.write_text("0,1,1,0\n")
    assert read_labels(a) == read_labels(b) == [0, 1, 1, 0]


def test_a_tolerance_lets_a_detection_a_few_frames_off_count():
    labelled = [(10, 12)]
    assert score_blinks([(14, 15)], labelled).true_positives == 0
    tolerant = score_blinks([(14, 15)], labelled, tolerance=2)
    assert (tolerant.true_positives, tolerant.false_positives) == (1, 0)
    assert score_blinks([(16, 17)], labelled, tolerance=2).false_positives == 1


def test_tag_labels_map_frame_slots_onto_the_annotators_frames(tmp_path):
    lines = ["#start"] + [f"{i}:{0 if 4 <= i <= 5 else -1}:X:X:X:X:X" for i in range(10)]
    path = tmp_path / "c.tag"
    path.write_text("\n".join(lines) + "\n#end\n")
    tag = read_tag(path)
    # No dropped frames: the identity.
    assert tag_labels(tag, list(range(10)), 10) == [0, 0, 0, 0, 1, 1, 0, 0, 0, 0]
    # Decoded frames at slots 0, 2, 4 ... of 20 slots, 10 annotated frames spread over them.
    assert tag_labels(tag, list(range(0, 20, 2)), 20, 10) == [0, 0, 0, 0, 1, 1, 0, 0, 0, 0]


def test_evaluate_reads_a_zju_tag_and_reports_strict_and_tolerant(tmp_path):
    import json
    import subprocess
    import sys

    import needs

    from eyespy_live.sources.video import frame_slots

    clip = needs.shared_data("video", "zju", "000011M_UNN.avi")
    slots, n_slots = frame_slots(clip)
    assert len(slots) < n_slots and slots == sorted(set(slots))
    out = subprocess.run(
        [sys.executable, "-m", "eyespy_live", "evaluate", str(clip), "--json", "--tolerance", "2"],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout.strip().splitlines()[-1]
    result = json.loads(out)
    assert result["labelled"] == 1 and result["frames"] == len(slots)
    assert {"f1", "f1_tolerant", "tolerance"} <= set(result)
    assert result["true_positives_tolerant"] >= result["true_positives"]


def test_labels_beside_a_video_are_found_tag_first(tmp_path):
    from eyespy_live.commands.evaluate import labels_beside

    video = tmp_path / "clip.avi"
    video.write_bytes(b"")
    assert labels_beside(video) is None
    (tmp_path / "clip_ideal.csv").write_text("0\n1\n0\n")
    assert labels_beside(video) == tmp_path / "clip_ideal.csv"
    (tmp_path / "clip.tag").write_text("#start\n#end\n")
    assert labels_beside(video) == tmp_path / "clip.tag"
    # Another video's labels are not this one's.
    assert labels_beside(tmp_path / "other.avi") is None


def test_evaluate_scores_a_folder_of_webcam_videos_with_csv_labels_beside_them():
    import json
    import subprocess
    import sys

    import needs

    folder = needs.shared_data("video", "focus_webcam")
    out = subprocess.run(
        [sys.executable, "-m", "eyespy_live", "evaluate", str(folder), "--only", "mahie_test_4",
         "--json"],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout.strip().splitlines()[-1]
    summary = json.loads(out)
    # mahie_test_4_low_fps_ideal.csv: 12 hand-labelled closed runs.
    assert summary["videos"] == 1 and summary["labelled"] == 12
    assert summary["true_positives_tolerant"] >= 10


def test_the_robustness_sweep_alters_every_frame_and_scores_as_evaluate_does():
    """`train.live_robustness`: "as filmed" is `eyespy evaluate`'s own score; an alteration
    reaches the pipeline (a clip darkened to near black loses its blinks)."""
    import needs
    import numpy as np

    from eyespy_live.commands.evaluate import evaluate_one
    from eyespy_live.config import Config
    from eyespy_live.train.live_robustness import dimmed, sweep

    folder = needs.shared_data("video", "zju")
    conditions = {"as filmed": None, "near black": dimmed(0.04, 0.0)}
    filmed, black = sweep(folder, conditions, only="000012M_FTN")
    direct = evaluate_one(Config(), folder / "000012M_FTN.avi", folder / "000012M_FTN.tag", 2)
    assert filmed["videos"] == 1 and filmed["labelled"] == direct["labelled"] == 3
    assert filmed["true_positives"] == direct["true_positives"]
    assert filmed["false_positives"] == direct["false_positives"]
    assert black["true_positives"] < filmed["true_positives"]
    frame = np.full((4, 4, 3), 200, np.uint8)
    assert (dimmed(0.35, 4.0)(frame, 7) == dimmed(0.35, 4.0)(frame, 7)).all()
