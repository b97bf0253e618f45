"""Blink-level scoring: a detection counts when it overlaps an unclaimed labelled run."""

from eyespy_live.evaluation import read_labels, runs_of_ones, score_blinks


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
