"""How a found face is matched to a labelled one: intersection over union of the boxes."""

import pytest

from eyespy_live.vision.faces import box_iou


def test_the_same_box_overlaps_fully_and_disjoint_boxes_not_at_all():
    assert box_iou((10, 10, 40, 40), (10, 10, 40, 40)) == 1.0
    assert box_iou((0, 0, 10, 10), (20, 20, 10, 10)) == 0.0


def test_a_box_half_covering_another_scores_a_third():
    # 10×10 boxes shifted by half a width share 50 px of 150 px covered in all
    assert box_iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(1 / 3)


def test_empty_boxes_overlap_nothing_instead_of_dividing_by_zero():
    assert box_iou((5, 5, 0, 0), (5, 5, 0, 0)) == 0.0
