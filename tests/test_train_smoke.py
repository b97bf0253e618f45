"""A few training steps on a tiny subset give a loadable full-integer int8 model."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")


def test_smoke_training_exports_a_loadable_int8_model(shared_data, tmp_path):
    from eyespy_live.train.__main__ import main
    from eyespy_live.train.infer import TFLiteScorer
    from eyespy_live.vision.eyestate import EyeStateModel

    out = tmp_path / "models"
    code = main(["--data", str(shared_data), "--out", str(out), "--cache", str(tmp_path / "c"),
                 "--sources", "cew_patches", "--limit", "32", "--epochs", "1", "--steps", "3",
                 "--no-eval", "--quiet"])
    assert code == 0
    model_path = out / "eye_state_int8.tflite"
    assert 0 < model_path.stat().st_size <= 100_000
    scorer = TFLiteScorer(model_path)
    assert scorer.in_dtype == np.int8 and scorer.size == 24
    detail = scorer.interpreter.get_output_details()[0]
    assert detail["dtype"] == np.int8 and list(detail["shape"]) == [1, 1]
    p = EyeStateModel(model_path).p_closed(np.full((24, 24), 90, np.uint8))
    assert 0.0 <= p <= 1.0
    # the float twin is written to the work folder for side-by-side reporting
    assert (tmp_path / "c" / "eye_state_float32.tflite").is_file()


def test_the_same_seed_and_data_give_the_same_model(shared_data, tmp_path):
    """Same answers to the last bit. (Run as two commands the files are byte-identical; in
    one process Keras numbers its layer names on, which only changes the names.)"""
    from eyespy_live.train.__main__ import main
    from eyespy_live.train.data import load_cew_patches
    from eyespy_live.train.infer import TFLiteScorer

    sample = load_cew_patches(shared_data).patches[::40]
    answers = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert main(["--data", str(shared_data), "--out", str(out), "--cache",
                     str(tmp_path / "cache"), "--work", str(out), "--sources", "cew_patches",
                     "--limit", "32", "--epochs", "1", "--steps", "3", "--no-eval",
                     "--quiet"]) == 0
        answers.append(TFLiteScorer(out / "eye_state_int8.tflite").score(sample))
    assert len(sample) > 50 and np.array_equal(answers[0], answers[1])
