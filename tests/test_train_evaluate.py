"""The evaluation command on any labelled folder, and the photo-verdict summary."""

from __future__ import annotations

import shutil
from pathlib import Path

from eyespy_live.train.evaluate import folder_label, main
from eyespy_live.train.photo_verdicts import NO_FACE, summarise_verdicts


def _copy_some(source: Path, target: Path, count: int) -> None:
    target.mkdir(parents=True)
    for path in sorted(source.iterdir())[:count]:
        shutil.copy(path, target / path.name)


def test_folder_names_give_the_label():
    names = ("closed", "ClosedFace", "openRightEyes", "Open", "misc")
    assert [folder_label(n) for n in names] == [1, 1, 0, 0, None]


def test_a_cew_style_folder_of_eye_patches_and_faces_is_scored(shared_data, tmp_path, capsys):
    cew = shared_data / "cew"
    for name in ("closedLeftEyes", "openLeftEyes"):
        _copy_some(cew / "eyes" / name, tmp_path / "eyes" / name, 20)
    for name in ("ClosedFace", "OpenFace"):
        _copy_some(cew / "faces" / name, tmp_path / "faces" / name, 12)
    html = tmp_path / "wrong.html"
    assert main(["--folder", str(tmp_path / "eyes"), "--html", str(html), "--rounds", "50"]) == 0
    printed = capsys.readouterr().out
    assert "per eye [int8]  (n=40)" in printed and "Haar-eye baseline" in printed
    for figure in ("accuracy", "precision", "recall", "f1", "roc_auc", "confusion"):
        assert figure in printed
    assert html.is_file()
    assert main(["--folder", str(tmp_path / "faces"), "--html", str(html), "--rounds", "50"]) == 0
    printed = capsys.readouterr().out
    assert "per face, mean of both eyes [int8]" in printed  # faces were cut by our detector


def test_an_unlabelled_folder_is_an_error_not_a_zero(tmp_path, capsys):
    (tmp_path / "misc").mkdir()
    assert main(["--folder", str(tmp_path)]) == 2
    assert "no labelled images" in capsys.readouterr().err


def test_photo_verdict_summary_counts_check_apart():
    verdicts = [
        {"photo": "a", "label": 1, "verdict": "closed"},
        {"photo": "b", "label": 0, "verdict": "closed"},
        {"photo": "c", "label": 0, "verdict": "keep"},
        {"photo": "d", "label": 0, "verdict": "check"},
        {"photo": "e", "label": None, "verdict": "keep"},
        {"photo": "cat", "label": NO_FACE, "verdict": "check"},
        {"photo": "dog", "label": NO_FACE, "verdict": "keep"},
    ]
    summary = summarise_verdicts(verdicts)
    assert (summary["n"], summary["judged"], summary["right"], summary["check"]) == (4, 3, 2, 1)
    assert (summary["no_face"], summary["no_face_right"]) == (2, 1)
    assert summary["wrong"] == ["b"]
    assert abs(summary["accuracy_judged"] - 2 / 3) < 1e-9


def test_every_degradation_keeps_the_patch_shape_and_changes_it(shared_data):
    import numpy as np

    from eyespy_live.resources import default_eye_model
    from eyespy_live.train.data import load_cew_patches
    from eyespy_live.train.infer import TFLiteScorer
    from eyespy_live.train.robustness import CONDITIONS, robustness

    cew = load_cew_patches(shared_data)
    pick = np.r_[np.flatnonzero(cew.labels == 0)[:30], np.flatnonzero(cew.labels == 1)[:30]]
    patches, labels = cew.patches[pick], cew.labels[pick]
    for name, degrade in CONDITIONS.items():
        altered = degrade(patches[0])
        assert altered.shape == patches[0].shape and altered.dtype == np.uint8
        assert (name == "clean") == np.array_equal(altered, patches[0]), name
    results = robustness(patches, labels, TFLiteScorer(default_eye_model()).score)
    assert set(results) == set(CONDITIONS)
    assert results["clean"]["accuracy"] >= 0.9
    assert results["tiny eye (8 px, upscaled)"]["roc_auc"] < results["clean"]["roc_auc"]


def test_rewriting_the_card_top_keeps_the_fusion_and_later_sections(tmp_path):
    """The CNN's training run rewrites the card's top; the fusion section (written by the
    fusion command) and the notes after it must survive it unchanged."""
    import json

    from eyespy_live.resources import models_dir
    from eyespy_live.train.card import write_card

    shipped = (models_dir() / "MODEL_CARD.md").read_text()
    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# stale top\n\n<!-- fusion: begin -->\nfusion text\n<!-- fusion: end -->\n"
                    "\n### Later notes\nkept\n")
    report = json.loads((models_dir() / "eye_state_int8_metrics.json").read_text())
    write_card(card, report)
    text = card.read_text()
    assert text.startswith("# Eye-state model card") and "stale top" not in text
    assert text.endswith("<!-- fusion: begin -->\nfusion text\n<!-- fusion: end -->\n"
                         "\n### Later notes\nkept\n")
    assert text.split("<!-- fusion: begin -->")[0] == shipped.split("<!-- fusion: begin -->")[0]
